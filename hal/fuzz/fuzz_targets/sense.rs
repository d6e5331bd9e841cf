//! Sense decoding: never panics, and whatever decodes survives a trip through the fixed
//! format unchanged (up to what the fixed format can hold).
#![no_main]

use burnstation_hal::scsi::{Sense, SenseFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sense) = Sense::parse(data) else {
        return;
    };
    // Display and classification are total.
    let _ = sense.to_string();
    let _ = sense.class();
    let _ = sense.meaning();
    if let Some(p) = sense.progress() {
        assert!((0.0..1.0).contains(&p), "progress {p} out of range");
    }

    let fixed = sense.to_fixed();
    let again = Sense::parse(&fixed).expect("our own fixed sense must decode");
    assert_eq!(again.key, sense.key);
    assert_eq!((again.asc, again.ascq), (sense.asc, sense.ascq));
    assert_eq!(again.deferred, sense.deferred);
    assert_eq!(again.ili, sense.ili);
    assert_eq!(again.fru, sense.fru);
    assert_eq!(again.key_specific.is_some(), sense.key_specific.is_some());
    assert_eq!(again.progress(), sense.progress());
    assert_eq!(
        again.information,
        sense.information.map(|i| i & 0xffff_ffff),
        "information field"
    );
    if sense.format == SenseFormat::Fixed {
        // A fixed-format input is reproduced exactly, field by field.
        assert_eq!(
            again,
            Sense {
                format: SenseFormat::Fixed,
                ..sense.clone()
            }
        );
        let fields = (data.len()).min(8 + data.get(7).copied().unwrap_or(0) as usize);
        if fields >= 14 {
            assert_eq!(fixed[12..14], data[12..14], "ASC/ASCQ bytes");
        }
    }
});

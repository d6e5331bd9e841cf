//! The ISO 9660 reader on hostile images: never panics, never loops, never lists an entry
//! with an unsafe path, and reading any listed file ends (with data or an error).
//! The input is the image from block 16 on (the system area is zeros anyway).
#![no_main]

use std::io::{Cursor, Read};

use burnstation_images::iso9660::IsoImage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut image = vec![0u8; 16 * 2048];
    image.extend_from_slice(data);
    let Ok(mut iso) = IsoImage::open(Cursor::new(image)) else {
        return;
    };
    let entries = iso.entries().to_vec();
    for entry in &entries {
        assert!(!entry.path.is_empty());
        for component in entry.path.split(|&b| b == b'/') {
            assert!(!component.is_empty() && component != b"." && component != b"..");
            assert!(!component.contains(&0));
        }
        let mut sink = Vec::new();
        // Bounded: a hostile size must not make the target allocate gigabytes.
        let _ = iso.open_file(entry).take(1 << 20).read_to_end(&mut sink);
    }
});

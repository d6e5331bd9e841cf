//! Every MMC response parser, chosen by the first input byte: never panics, never reports
//! more than the bytes hold, and round-trips where an encoder exists.
#![no_main]

use burnstation_hal::mmc::config::{Configuration, Feature};
use burnstation_hal::mmc::disc::{Capacity, DiscInformation, FormatCapacities};
use burnstation_hal::mmc::event::EventStatus;
use burnstation_hal::mmc::mode::{CapabilitiesPage, ModeParameters, WriteParametersPage};
use burnstation_hal::mmc::performance::{BufferCapacity, PerformanceData, StreamingDescriptor};
use burnstation_hal::mmc::track::{SessionInfo, Toc, TrackInformation};
use burnstation_hal::mmc::unit::InquiryData;
use burnstation_hal::mmc::write::FormatUnit;
use libfuzzer_sys::fuzz_target;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fuzz_target!(|input: &[u8]| {
    let Some((&which, b)) = input.split_first() else {
        return;
    };
    match which % 15 {
        0 => {
            if let Ok(c) = Configuration::parse(b) {
                assert_eq!(c.current_profile.number(), be16(b, 6));
                // Every feature needs its 4-byte header inside the data.
                assert!(8 + 4 * c.features.len() <= b.len());
                let body: usize = c
                    .features
                    .iter()
                    .map(|f| match &f.feature {
                        Feature::Other(raw) => 4 + raw.len(),
                        Feature::ProfileList(list) => 4 + 4 * list.len(),
                        _ => 4,
                    })
                    .sum();
                assert!(
                    8 + body <= b.len(),
                    "features claim more bytes than were sent"
                );
            }
        }
        1 => {
            if let Ok(d) = DiscInformation::parse(b) {
                assert_eq!(d.sessions, u16::from_be_bytes([b[9], b[4]]));
                assert_eq!(
                    d.last_track_in_last_session,
                    u16::from_be_bytes([b[11], b[6]])
                );
                if d.last_possible_lead_out.is_some() {
                    assert!(b.len() >= 24);
                }
            }
        }
        2 => {
            if let Ok(t) = TrackInformation::parse(b) {
                assert_eq!(t.next_writable.is_some(), b[7] & 1 != 0);
                assert_eq!(t.track_number & 0xff, b[2] as u16);
                if t.read_compatibility.is_some() {
                    assert!(b.len() >= 40);
                }
            }
        }
        3 => {
            if let Ok(c) = Capacity::parse(b) {
                assert_eq!(c.last_lba.to_be_bytes(), b[..4]);
                assert!(c.readable_blocks() == 0 || c.readable_blocks() == c.last_lba as u64 + 1);
            }
        }
        4 => {
            if let Ok(f) = FormatCapacities::parse(b) {
                assert!(12 + 8 * f.formattable.len() <= b.len());
                // A descriptor copied into FORMAT UNIT is the descriptor as sent (with the
                // reserved sub-type bits cleared), as libburn and growisofs reuse it.
                for (i, d) in f.formattable.iter().enumerate() {
                    let list = FormatUnit::from_offer(d, 0, false).parameter_list();
                    let sent = &b[12 + 8 * i..20 + 8 * i];
                    assert_eq!(list[4..8], sent[..4]);
                    assert_eq!(list[8], sent[4] & 0xfc);
                    assert_eq!(list[9..12], sent[5..8]);
                }
            }
        }
        5 => {
            if let Ok(t) = Toc::parse(b) {
                assert!(4 + 8 * t.entries.len() <= b.len());
            }
        }
        6 => {
            let _ = SessionInfo::parse(b);
        }
        7 => {
            if let Ok(m) = ModeParameters::parse(b) {
                assert!(m.page.len() + 8 <= b.len());
                let _ = CapabilitiesPage::parse(&m.page);
                let _ = WriteParametersPage::parse(&m.page);
            }
        }
        8 => {
            if let Ok(p) = WriteParametersPage::parse(b) {
                let bytes = p.to_bytes();
                assert_eq!(WriteParametersPage::parse(&bytes).unwrap(), p, "round trip");
                // The fields we model are the bytes we were given.
                assert_eq!(bytes[3], b[3]);
                assert_eq!(bytes[5], b[5]);
                assert_eq!(bytes[10..16], b[10..16]);
            }
        }
        9 => {
            if let Ok(c) = CapabilitiesPage::parse(b) {
                if !c.write_speeds.is_empty() {
                    assert!(32 + 4 * c.write_speeds.len() <= b.len());
                    assert!(c.write_speeds.len() <= be16(b, 30) as usize);
                }
            }
        }
        10 => {
            if let Ok(PerformanceData::WriteSpeeds(d)) = PerformanceData::parse_write_speeds(b) {
                assert!(8 + 16 * d.len() <= b.len());
            }
            if let Ok(PerformanceData::Performance { descriptors, .. }) =
                PerformanceData::parse_performance(b)
            {
                assert!(8 + 16 * descriptors.len() <= b.len());
            }
        }
        11 => {
            if let Ok(d) = StreamingDescriptor::parse(b) {
                let bytes = d.to_bytes();
                assert_eq!(StreamingDescriptor::parse(&bytes).unwrap(), d, "round trip");
                assert_eq!(bytes[0], b[0] & 0x1f);
                assert_eq!(bytes[4..28], b[4..28]);
            }
        }
        12 => {
            if let Ok(c) = BufferCapacity::parse(b) {
                assert_eq!(c.size.to_be_bytes(), b[4..8]);
            }
        }
        13 => {
            if let Ok(e) = EventStatus::parse(b) {
                if e.media.is_some() {
                    assert!(b.len() >= 8);
                }
            }
        }
        _ => {
            if let Ok(i) = InquiryData::parse(b) {
                assert!(i.vendor.len() <= 8 && i.product.len() <= 16 && i.revision.len() <= 4);
                assert_eq!(i.peripheral_type, b[0] & 0x1f);
            }
        }
    }
});

//! GET CONFIGURATION: the profiles and features of the software drive, and which of them are
//! current for the medium in the tray (`mmc.md` 1.1).
//!
//! The drive is a BD burner that writes every emulated profile. A feature's current bit
//! follows the medium: 0021h (incremental streaming) only while incremental writing is
//! possible, so a minimally blanked DVD-RW loses it; 0038h (BD-R POW) only on a BD-R
//! formatted with POW; and so on. This module builds bytes; it changes nothing.

use crate::mmc::{MediaFamily, Profile};

use super::medium::Medium;
use super::sense::{self, Sense};

/// The profiles the drive lists in feature 0000h, in the order a BD burner lists them.
const PROFILES: [Profile; 14] = [
    Profile::BdRe,
    Profile::BdRSequential,
    Profile::BdRom,
    Profile::DvdPlusRDualLayer,
    Profile::DvdPlusR,
    Profile::DvdPlusRw,
    Profile::DvdRDualLayerSequential,
    Profile::DvdRwSequential,
    Profile::DvdRwRestrictedOverwrite,
    Profile::DvdRSequential,
    Profile::DvdRom,
    Profile::CdRw,
    Profile::CdR,
    Profile::CdRom,
];

/// One feature descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Feature {
    code: u16,
    version: u8,
    persistent: bool,
    current: bool,
    /// Bytes after the 4-byte descriptor header (a multiple of 4).
    data: Vec<u8>,
}

impl Feature {
    fn new(code: u16, version: u8, current: bool, data: Vec<u8>) -> Feature {
        debug_assert_eq!(data.len() % 4, 0);
        Feature {
            code,
            version,
            persistent: false,
            current,
            data,
        }
    }

    fn persistent(mut self) -> Feature {
        self.persistent = true;
        self
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code.to_be_bytes());
        out.push((self.version << 2) | (u8::from(self.persistent) << 1) | u8::from(self.current));
        out.push(self.data.len() as u8);
        out.extend_from_slice(&self.data);
    }
}

/// Every feature the drive has, with current bits for `medium` (None: no medium).
fn features(medium: Option<&Medium>) -> Vec<Feature> {
    let profile = medium.map(Medium::profile);
    let family = medium.map(Medium::family);
    let is = |wanted: &[Profile]| profile.is_some_and(|p| wanted.contains(&p));
    let finalized = medium.is_some_and(|m| m.state.finalized);

    let mut profile_list = Vec::new();
    for p in PROFILES {
        profile_list.extend_from_slice(&p.number().to_be_bytes());
        profile_list.push(u8::from(Some(p) == profile));
        profile_list.push(0);
    }
    let link_size = if family == Some(MediaFamily::Cd) {
        7
    } else {
        16
    };
    let bd = family == Some(MediaFamily::Bd);
    // BD classes: versions 1-3 of class 0 for BD-RE, BD-R and BD-ROM.
    let mut bd_read = vec![0u8; 28];
    for offset in [4, 12, 20] {
        bd_read[offset + 1] = 0x0e;
    }
    let mut bd_write = vec![0u8; 20];
    for offset in [4, 12] {
        bd_write[offset + 1] = 0x0e;
    }
    vec![
        Feature::new(0x0000, 0, true, profile_list).persistent(),
        // Core: USB interface, DBE.
        Feature::new(0x0001, 2, true, vec![0, 0, 0, 8, 0x01, 0, 0, 0]).persistent(),
        // Removable medium: tray, load, eject, lock.
        Feature::new(0x0003, 0, true, vec![0x39, 0, 0, 0]).persistent(),
        Feature::new(
            0x001f,
            1,
            family == Some(MediaFamily::Dvd),
            vec![0x01, 0, 0x01, 0],
        ),
        Feature::new(
            0x0021,
            1,
            medium.is_some_and(Medium::incremental_possible),
            // Data block type 8 (bit 8), BUF and TRIO, one link size.
            vec![0x01, 0x00, 0x05, 1, link_size, 0, 0, 0],
        ),
        Feature::new(
            0x0023,
            1,
            is(&[
                Profile::DvdPlusRw,
                Profile::DvdRwSequential,
                Profile::DvdRwRestrictedOverwrite,
                Profile::BdRe,
            ]) || (is(&[Profile::BdRSequential])
                && medium.is_some_and(|m| {
                    !m.is_formatted() && m.disc_status().0 == super::medium::DiscStatus::Blank
                })),
            vec![if bd { 0x03 } else { 0 }, 0, 0, 0, 0, 0, 0, 0],
        ),
        Feature::new(
            0x0024,
            1,
            medium.is_some_and(Medium::has_spares),
            vec![0x80, 0, 0, 0],
        ),
        Feature::new(
            0x0026,
            0,
            is(&[Profile::DvdRwRestrictedOverwrite]),
            Vec::new(),
        ),
        Feature::new(0x002a, 1, is(&[Profile::DvdPlusRw]), vec![0x01, 0x02, 0, 0]),
        Feature::new(
            0x002b,
            0,
            is(&[Profile::DvdPlusR, Profile::DvdPlusRDualLayer]),
            vec![0x01, 0, 0, 0],
        ),
        // CD TAO: BUF, test write, CD-RW; data type mode 1.
        Feature::new(
            0x002d,
            2,
            is(&[Profile::CdR, Profile::CdRw]) && !finalized,
            vec![0x46, 0, 0x01, 0x00],
        ),
        // DVD-R/-RW write: BUF, DVD-R DL, test write, DVD-RW.
        Feature::new(
            0x002f,
            1,
            is(&[
                Profile::DvdRSequential,
                Profile::DvdRwSequential,
                Profile::DvdRDualLayerSequential,
            ]) && !finalized,
            vec![0x4e, 0, 0, 0],
        ),
        Feature::new(0x0038, 0, medium.is_some_and(Medium::bd_r_pow), vec![0; 4]),
        Feature::new(
            0x003b,
            0,
            is(&[Profile::DvdPlusRDualLayer]),
            vec![0x01, 0, 0, 0],
        ),
        Feature::new(0x0040, 1, bd, bd_read),
        Feature::new(
            0x0041,
            1,
            is(&[Profile::BdRe, Profile::BdRSequential]),
            bd_write,
        ),
        // Real-time streaming: SW, WSPD, MP2A, SCS, RBCB.
        Feature::new(0x0107, 3, true, vec![0x1f, 0, 0, 0]),
    ]
}

/// The GET CONFIGURATION reply for request type `rt` (00b all, 01b current, 10b one) from
/// feature `start`, whole (the caller applies the allocation length).
pub(crate) fn get_configuration(
    medium: Option<&Medium>,
    rt: u8,
    start: u16,
) -> Result<Vec<u8>, Sense> {
    if rt == 3 {
        return Err(sense::INVALID_FIELD_IN_CDB);
    }
    let current_profile = medium.map_or(0, |m| m.profile().number());
    let mut reply = vec![0u8; 8];
    reply[6..8].copy_from_slice(&current_profile.to_be_bytes());
    for feature in features(medium) {
        let wanted = match rt {
            0 => feature.code >= start,
            1 => feature.code >= start && feature.current,
            _ => feature.code == start,
        };
        if wanted {
            feature.encode(&mut reply);
        }
    }
    let length = (reply.len() - 4) as u32;
    reply[0..4].copy_from_slice(&length.to_be_bytes());
    Ok(reply)
}

//! The nominal capacity of every medium the station burns: one table, used by SimDrive for
//! its new blank media and by the planner when a disc set is planned for a named medium
//! without a drive (`burnstation plan --medium dvd+r`).
//!
//! The figures are what drives report for blank discs (`shared/notes/mmc.md` 2.1). A real
//! disc in a drive may hold a little more or less (CD-R lead-outs vary by brand), so a set
//! planned for a disc in a drive uses what that drive reports; this table is for planning
//! ahead and for the simulated drive.

use std::fmt;
use std::str::FromStr;

use super::{MediaFamily, Profile};

/// CD-R/RW of 80 minutes: ATIP lead-out 79:59:74.
pub const CD_80_MIN_BLOCKS: u32 = 359_849;
/// DVD+R and DVD+RW.
pub const DVD_PLUS_BLOCKS: u32 = 2_295_104;
/// DVD-R and DVD-RW.
pub const DVD_MINUS_BLOCKS: u32 = 2_298_496;
/// DVD-RW once formatted for restricted overwrite (a GSA-4083N loses 608 blocks).
pub const DVD_RW_FORMATTED_BLOCKS: u32 = 2_297_888;
/// DVD+R DL.
pub const DVD_PLUS_DL_BLOCKS: u32 = 4_173_824;
/// DVD-R DL.
pub const DVD_MINUS_DL_BLOCKS: u32 = 4_171_712;
/// BD-R / BD-RE single layer, unformatted.
pub const BD_SL_BLOCKS: u32 = 12_219_392;
/// BD-RE single layer after the default format (ISA0 4096 + OSA 8192 clusters of spares),
/// which is how the station prepares a blank BD-RE.
pub const BD_SL_DEFAULT_FORMAT_BLOCKS: u32 = 11_826_176;
/// BD-R dual layer, unformatted.
pub const BD_DL_BLOCKS: u32 = 24_438_784;

/// One kind of medium and its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NominalMedium {
    /// The name on command lines and in the settings file (`dvd+r`, `bd-r-dl`).
    pub token: &'static str,
    /// The profile a blank disc of this kind reports.
    pub profile: Profile,
    /// Blocks of 2048 bytes a blank disc holds, as the drive reports it.
    pub blocks: u32,
    /// The largest image, in blocks, the station writes onto a blank disc of this kind the
    /// way it burns it by default (after formatting where it formats, in whole write units).
    pub image_blocks: u32,
}

/// The largest image that fits `blocks` written in whole write units of `family`.
const fn whole_units(blocks: u32, family: MediaFamily) -> u32 {
    let unit = match family {
        MediaFamily::Cd | MediaFamily::Dvd => 16,
        MediaFamily::Bd => 32,
    };
    blocks / unit * unit
}

const fn medium(token: &'static str, profile: Profile, blocks: u32, usable: u32) -> NominalMedium {
    let family = match profile {
        Profile::CdR | Profile::CdRw => MediaFamily::Cd,
        Profile::BdRSequential | Profile::BdRe => MediaFamily::Bd,
        _ => MediaFamily::Dvd,
    };
    NominalMedium {
        token,
        profile,
        blocks,
        image_blocks: whole_units(usable, family),
    }
}

/// Every medium the station burns, single layer before dual layer.
pub const NOMINAL_MEDIA: [NominalMedium; 11] = [
    medium("cd-r", Profile::CdR, CD_80_MIN_BLOCKS, CD_80_MIN_BLOCKS),
    medium("cd-rw", Profile::CdRw, CD_80_MIN_BLOCKS, CD_80_MIN_BLOCKS),
    medium("dvd+r", Profile::DvdPlusR, DVD_PLUS_BLOCKS, DVD_PLUS_BLOCKS),
    medium(
        "dvd+rw",
        Profile::DvdPlusRw,
        DVD_PLUS_BLOCKS,
        DVD_PLUS_BLOCKS,
    ),
    medium(
        "dvd-r",
        Profile::DvdRSequential,
        DVD_MINUS_BLOCKS,
        DVD_MINUS_BLOCKS,
    ),
    // Either mode: a DVD-RW may already be formatted for restricted overwrite.
    medium(
        "dvd-rw",
        Profile::DvdRwSequential,
        DVD_MINUS_BLOCKS,
        DVD_RW_FORMATTED_BLOCKS,
    ),
    medium(
        "dvd+r-dl",
        Profile::DvdPlusRDualLayer,
        DVD_PLUS_DL_BLOCKS,
        DVD_PLUS_DL_BLOCKS,
    ),
    medium(
        "dvd-r-dl",
        Profile::DvdRDualLayerSequential,
        DVD_MINUS_DL_BLOCKS,
        DVD_MINUS_DL_BLOCKS,
    ),
    medium("bd-r", Profile::BdRSequential, BD_SL_BLOCKS, BD_SL_BLOCKS),
    medium(
        "bd-re",
        Profile::BdRe,
        BD_SL_BLOCKS,
        BD_SL_DEFAULT_FORMAT_BLOCKS,
    ),
    medium(
        "bd-r-dl",
        Profile::BdRSequential,
        BD_DL_BLOCKS,
        BD_DL_BLOCKS,
    ),
];

impl NominalMedium {
    /// The single-layer medium a blank disc of `profile` is (a DVD-RW in either mode).
    pub fn for_profile(profile: Profile) -> Option<&'static NominalMedium> {
        let profile = match profile {
            Profile::DvdRwRestrictedOverwrite => Profile::DvdRwSequential,
            other => other,
        };
        NOMINAL_MEDIA.iter().find(|m| m.profile == profile)
    }

    /// Its capacity in bytes.
    pub fn image_bytes(&self) -> u64 {
        u64::from(self.image_blocks) * 2048
    }
}

impl fmt::Display for NominalMedium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token)
    }
}

/// A medium name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown medium {given:?}; use one of: {}", known_media())]
pub struct UnknownMedium {
    given: String,
}

fn known_media() -> String {
    NOMINAL_MEDIA
        .iter()
        .map(|m| m.token)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for &'static NominalMedium {
    type Err = UnknownMedium;

    fn from_str(s: &str) -> Result<Self, UnknownMedium> {
        let wanted = s.trim().to_ascii_lowercase();
        NOMINAL_MEDIA
            .iter()
            .find(|m| m.token == wanted)
            .ok_or(UnknownMedium {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_medium_is_known_by_its_token_and_fits_its_blocks() {
        for m in &NOMINAL_MEDIA {
            let found: &NominalMedium = m.token.parse().unwrap();
            assert_eq!(found, m);
            assert!(m.image_blocks <= m.blocks, "{m}");
            assert!(m.profile.is_supported_for_writing(), "{m}");
            let unit = m.profile.family().unwrap().write_unit_blocks();
            assert_eq!(m.image_blocks % unit, 0, "{m}");
        }
        let err = "dvd+q".parse::<&NominalMedium>().unwrap_err().to_string();
        assert!(err.contains("dvd+q") && err.contains("bd-r-dl"), "{err}");
    }

    #[test]
    fn a_profile_finds_its_single_layer_medium() {
        assert_eq!(
            NominalMedium::for_profile(Profile::BdRSequential)
                .unwrap()
                .blocks,
            BD_SL_BLOCKS
        );
        assert_eq!(
            NominalMedium::for_profile(Profile::DvdRwRestrictedOverwrite)
                .unwrap()
                .token,
            "dvd-rw"
        );
        assert_eq!(
            NominalMedium::for_profile(Profile::BdRe)
                .unwrap()
                .image_blocks,
            BD_SL_DEFAULT_FORMAT_BLOCKS
        );
        assert!(NominalMedium::for_profile(Profile::DvdRom).is_none());
    }

    #[test]
    fn the_settings_file_names_only_known_media() {
        // The names docs and burnstation.toml list for `[burn] media`.
        for token in [
            "cd-r", "cd-rw", "dvd+r", "dvd+r-dl", "dvd-r", "dvd-r-dl", "dvd+rw", "dvd-rw", "bd-r",
            "bd-r-dl", "bd-re",
        ] {
            assert!(token.parse::<&NominalMedium>().is_ok(), "{token}");
        }
    }
}

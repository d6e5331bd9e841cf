//! MMC profiles: what kind of medium is in the drive (MMC-5 table "Profile List").
//!
//! The drive reports the current profile in the GET CONFIGURATION header (bytes 6-7) and the
//! profiles it supports in feature 0000h. The same medium can change profile: a DVD-RW is
//! 0014h (sequential) until it is formatted, then 0013h (restricted overwrite).

use std::fmt;
use std::str::FromStr;

/// Bytes in one logical block (a sector's user data) on every medium this station writes:
/// a fact of the media, stated once for the host side and SimDrive alike.
pub const BLOCK_SIZE: usize = 2048;

/// A medium profile, by its MMC profile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// 0000h: no medium, or the drive cannot tell.
    None,
    /// 0008h.
    CdRom,
    /// 0009h.
    CdR,
    /// 000Ah.
    CdRw,
    /// 0010h.
    DvdRom,
    /// 0011h: DVD-R, sequential recording.
    DvdRSequential,
    /// 0012h.
    DvdRam,
    /// 0013h: DVD-RW, restricted overwrite (formatted).
    DvdRwRestrictedOverwrite,
    /// 0014h: DVD-RW, sequential recording.
    DvdRwSequential,
    /// 0015h: DVD-R dual layer, sequential recording.
    DvdRDualLayerSequential,
    /// 0016h: DVD-R dual layer, layer jump recording.
    DvdRDualLayerJump,
    /// 001Ah.
    DvdPlusRw,
    /// 001Bh.
    DvdPlusR,
    /// 002Ah.
    DvdPlusRwDualLayer,
    /// 002Bh.
    DvdPlusRDualLayer,
    /// 0040h.
    BdRom,
    /// 0041h: BD-R, sequential recording mode.
    BdRSequential,
    /// 0042h: BD-R, random recording mode.
    BdRRandom,
    /// 0043h.
    BdRe,
    /// Any other profile number.
    Other(u16),
}

/// The family of media a profile belongs to: what decides write units and speeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFamily {
    /// CD: 1x = 176.4 kB/s (k = 1000).
    Cd,
    /// DVD: 1x = 1385 kB/s.
    Dvd,
    /// BD: 1x = 4495 kB/s.
    Bd,
}

impl MediaFamily {
    /// The speed of 1x in kB/s (k = 1000), as MMC counts it.
    pub fn one_x_kbytes_per_sec(self) -> f64 {
        match self {
            MediaFamily::Cd => 176.4,
            MediaFamily::Dvd => 1385.0,
            MediaFamily::Bd => 4495.0,
        }
    }

    /// The write unit in 2048-byte blocks: a whole ECC block on DVD (16 = 32 KiB) and a whole
    /// cluster on BD (32 = 64 KiB). CD has no such unit; 16 blocks keeps transfers efficient.
    pub fn write_unit_blocks(self) -> u32 {
        match self {
            MediaFamily::Cd | MediaFamily::Dvd => 16,
            MediaFamily::Bd => 32,
        }
    }
}

impl Profile {
    /// The profile with this number.
    pub fn from_number(number: u16) -> Profile {
        match number {
            0x0000 => Profile::None,
            0x0008 => Profile::CdRom,
            0x0009 => Profile::CdR,
            0x000A => Profile::CdRw,
            0x0010 => Profile::DvdRom,
            0x0011 => Profile::DvdRSequential,
            0x0012 => Profile::DvdRam,
            0x0013 => Profile::DvdRwRestrictedOverwrite,
            0x0014 => Profile::DvdRwSequential,
            0x0015 => Profile::DvdRDualLayerSequential,
            0x0016 => Profile::DvdRDualLayerJump,
            0x001A => Profile::DvdPlusRw,
            0x001B => Profile::DvdPlusR,
            0x002A => Profile::DvdPlusRwDualLayer,
            0x002B => Profile::DvdPlusRDualLayer,
            0x0040 => Profile::BdRom,
            0x0041 => Profile::BdRSequential,
            0x0042 => Profile::BdRRandom,
            0x0043 => Profile::BdRe,
            other => Profile::Other(other),
        }
    }

    /// The profile number.
    pub fn number(self) -> u16 {
        match self {
            Profile::None => 0x0000,
            Profile::CdRom => 0x0008,
            Profile::CdR => 0x0009,
            Profile::CdRw => 0x000A,
            Profile::DvdRom => 0x0010,
            Profile::DvdRSequential => 0x0011,
            Profile::DvdRam => 0x0012,
            Profile::DvdRwRestrictedOverwrite => 0x0013,
            Profile::DvdRwSequential => 0x0014,
            Profile::DvdRDualLayerSequential => 0x0015,
            Profile::DvdRDualLayerJump => 0x0016,
            Profile::DvdPlusRw => 0x001A,
            Profile::DvdPlusR => 0x001B,
            Profile::DvdPlusRwDualLayer => 0x002A,
            Profile::DvdPlusRDualLayer => 0x002B,
            Profile::BdRom => 0x0040,
            Profile::BdRSequential => 0x0041,
            Profile::BdRRandom => 0x0042,
            Profile::BdRe => 0x0043,
            Profile::Other(n) => n,
        }
    }

    /// The name people know the medium by ("DVD+R", "BD-RE").
    pub fn name(self) -> &'static str {
        match self {
            Profile::None => "no medium",
            Profile::CdRom => "CD-ROM",
            Profile::CdR => "CD-R",
            Profile::CdRw => "CD-RW",
            Profile::DvdRom => "DVD-ROM",
            Profile::DvdRSequential => "DVD-R",
            Profile::DvdRam => "DVD-RAM",
            Profile::DvdRwRestrictedOverwrite => "DVD-RW (restricted overwrite)",
            Profile::DvdRwSequential => "DVD-RW (sequential)",
            Profile::DvdRDualLayerSequential => "DVD-R DL",
            Profile::DvdRDualLayerJump => "DVD-R DL (layer jump)",
            Profile::DvdPlusRw => "DVD+RW",
            Profile::DvdPlusR => "DVD+R",
            Profile::DvdPlusRwDualLayer => "DVD+RW DL",
            Profile::DvdPlusRDualLayer => "DVD+R DL",
            Profile::BdRom => "BD-ROM",
            Profile::BdRSequential => "BD-R",
            Profile::BdRRandom => "BD-R (random recording)",
            Profile::BdRe => "BD-RE",
            Profile::Other(_) => "unknown medium",
        }
    }

    /// The medium family, or `None` for no medium and unknown profiles.
    pub fn family(self) -> Option<MediaFamily> {
        match self {
            Profile::CdRom | Profile::CdR | Profile::CdRw => Some(MediaFamily::Cd),
            Profile::DvdRom
            | Profile::DvdRSequential
            | Profile::DvdRam
            | Profile::DvdRwRestrictedOverwrite
            | Profile::DvdRwSequential
            | Profile::DvdRDualLayerSequential
            | Profile::DvdRDualLayerJump
            | Profile::DvdPlusRw
            | Profile::DvdPlusR
            | Profile::DvdPlusRwDualLayer
            | Profile::DvdPlusRDualLayer => Some(MediaFamily::Dvd),
            Profile::BdRom | Profile::BdRSequential | Profile::BdRRandom | Profile::BdRe => {
                Some(MediaFamily::Bd)
            }
            Profile::None | Profile::Other(_) => None,
        }
    }

    /// True for the profiles the station burns (every writable profile except DVD-RAM, the
    /// DVD-R DL layer-jump mode, DVD+RW DL and BD-R random recording, which it does not).
    pub fn is_supported_for_writing(self) -> bool {
        matches!(
            self,
            Profile::CdR
                | Profile::CdRw
                | Profile::DvdRSequential
                | Profile::DvdRwRestrictedOverwrite
                | Profile::DvdRwSequential
                | Profile::DvdRDualLayerSequential
                | Profile::DvdPlusRw
                | Profile::DvdPlusR
                | Profile::DvdPlusRDualLayer
                | Profile::BdRSequential
                | Profile::BdRe
        )
    }

    /// True for media that can be written only once (every block at most once).
    pub fn is_write_once(self) -> bool {
        matches!(
            self,
            Profile::CdR
                | Profile::DvdRSequential
                | Profile::DvdRDualLayerSequential
                | Profile::DvdRDualLayerJump
                | Profile::DvdPlusR
                | Profile::DvdPlusRDualLayer
                | Profile::BdRSequential
                | Profile::BdRRandom
        )
    }

    /// The short token used on command lines and in `sim:` device specs (`dvd+r`, `bd-re`).
    pub fn token(self) -> Option<&'static str> {
        Some(match self {
            Profile::CdR => "cd-r",
            Profile::CdRw => "cd-rw",
            Profile::DvdRSequential => "dvd-r",
            Profile::DvdRwSequential => "dvd-rw",
            Profile::DvdRwRestrictedOverwrite => "dvd-rw-ro",
            Profile::DvdRDualLayerSequential => "dvd-r-dl",
            Profile::DvdPlusRw => "dvd+rw",
            Profile::DvdPlusR => "dvd+r",
            Profile::DvdPlusRDualLayer => "dvd+r-dl",
            Profile::BdRSequential => "bd-r",
            Profile::BdRe => "bd-re",
            Profile::DvdRom => "dvd-rom",
            Profile::CdRom => "cd-rom",
            Profile::BdRom => "bd-rom",
            _ => return None,
        })
    }

    /// Every profile that has a [`token`](Profile::token).
    pub const WITH_TOKENS: [Profile; 14] = [
        Profile::CdR,
        Profile::CdRw,
        Profile::DvdRSequential,
        Profile::DvdRwSequential,
        Profile::DvdRwRestrictedOverwrite,
        Profile::DvdRDualLayerSequential,
        Profile::DvdPlusRw,
        Profile::DvdPlusR,
        Profile::DvdPlusRDualLayer,
        Profile::BdRSequential,
        Profile::BdRe,
        Profile::DvdRom,
        Profile::CdRom,
        Profile::BdRom,
    ];
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile token that names no profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown medium {given:?}; use one of: {}", known_tokens())]
pub struct UnknownProfile {
    given: String,
}

fn known_tokens() -> String {
    Profile::WITH_TOKENS
        .iter()
        .filter_map(|p| p.token())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Profile, UnknownProfile> {
        let wanted = s.trim().to_ascii_lowercase();
        Profile::WITH_TOKENS
            .iter()
            .copied()
            .find(|p| p.token() == Some(wanted.as_str()))
            .ok_or(UnknownProfile {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..=0x60u16 {
            assert_eq!(Profile::from_number(n).number(), n);
        }
    }

    #[test]
    fn tokens_round_trip() {
        for p in Profile::WITH_TOKENS {
            let token = p.token().unwrap();
            assert_eq!(token.parse::<Profile>().unwrap(), p);
        }
        let err = "dvd+q".parse::<Profile>().unwrap_err().to_string();
        assert!(err.contains("dvd+q") && err.contains("dvd+r"), "{err}");
    }

    #[test]
    fn families_match_mmc_numbering() {
        assert_eq!(Profile::CdRw.family(), Some(MediaFamily::Cd));
        assert_eq!(Profile::DvdPlusRDualLayer.family(), Some(MediaFamily::Dvd));
        assert_eq!(Profile::BdRe.family(), Some(MediaFamily::Bd));
        assert_eq!(Profile::None.family(), None);
        assert_eq!(MediaFamily::Bd.write_unit_blocks() * 2048, 64 * 1024);
    }
}

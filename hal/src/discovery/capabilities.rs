//! What udev knows about a drive and its disc: the `ID_CDROM*` properties, typed.
//!
//! udev's `cdrom_id` helper asks the drive (GET CONFIGURATION) once, when the drive appears
//! or its medium changes, and stores the answer in the udev database as `ID_CDROM_<FORMAT>=1`
//! (what the drive can handle) and `ID_CDROM_MEDIA_<FORMAT>=1`, `ID_CDROM_MEDIA_STATE`, ...
//! (the disc in it). This module turns those strings into types. It never asks the drive
//! itself: the MMC layer does that, and its answer is the one to burn by. Where no udev
//! daemon runs (a bare initramfs) the properties are simply absent, and everything here says
//! "unknown" instead of guessing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::mmc::Profile;

/// The udev properties of one device, by name (`ID_CDROM_DVD_PLUS_R` → `1`).
pub type UdevProperties = BTreeMap<String, String>;

/// One kind of optical disc, named as `cdrom_id` names it in `ID_CDROM_<NAME>`.
///
/// Most names are MMC profiles; a few are summaries `cdrom_id` adds on top (`DVD_RW` for
/// either DVD-RW profile, `BD_R` for either BD-R mode) or non-profile features (Mount
/// Rainier, magneto-optical). Older udev versions write only the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpticalFormat {
    /// `CD`: CD-ROM (reads CDs).
    Cd,
    /// `CD_R`.
    CdR,
    /// `CD_RW`.
    CdRw,
    /// `DVD`: DVD-ROM (reads DVDs).
    Dvd,
    /// `DVD_R`: DVD-R sequential (also DVD-R download recording).
    DvdR,
    /// `DVD_RAM`.
    DvdRam,
    /// `DVD_RW`: either DVD-RW profile (a summary).
    DvdRw,
    /// `DVD_RW_RO`: DVD-RW restricted overwrite.
    DvdRwRestrictedOverwrite,
    /// `DVD_RW_SEQ`: DVD-RW sequential.
    DvdRwSequential,
    /// `DVD_R_DL`: either DVD-R dual-layer profile (a summary).
    DvdRDualLayer,
    /// `DVD_R_DL_SEQ`.
    DvdRDualLayerSequential,
    /// `DVD_R_DL_JR`: DVD-R dual layer, layer jump.
    DvdRDualLayerJump,
    /// `DVD_RW_DL`.
    DvdRwDualLayer,
    /// `DVD_R_DDR`: DVD-R download disc recording.
    DvdRDownload,
    /// `DVD_PLUS_R`.
    DvdPlusR,
    /// `DVD_PLUS_RW`.
    DvdPlusRw,
    /// `DVD_PLUS_R_DL`.
    DvdPlusRDualLayer,
    /// `DVD_PLUS_RW_DL`.
    DvdPlusRwDualLayer,
    /// `DDCD`: double-density CD-ROM.
    Ddcd,
    /// `DDCD_R`.
    DdcdR,
    /// `DDCD_RW`.
    DdcdRw,
    /// `BD`: BD-ROM (reads Blu-ray).
    Bd,
    /// `BD_R`: either BD-R mode (a summary).
    BdR,
    /// `BD_R_SRM`: BD-R sequential recording.
    BdRSequential,
    /// `BD_R_RRM`: BD-R random recording.
    BdRRandom,
    /// `BD_RE`.
    BdRe,
    /// `HDDVD`.
    HdDvd,
    /// `HDDVD_R`.
    HdDvdR,
    /// `HDDVD_RAM`.
    HdDvdRam,
    /// `HDDVD_RW`.
    HdDvdRw,
    /// `HDDVD_R_DL`.
    HdDvdRDualLayer,
    /// `HDDVD_RW_DL`.
    HdDvdRwDualLayer,
    /// `MRW`: Mount Rainier (reads).
    Mrw,
    /// `MRW_W`: Mount Rainier (writes).
    MrwW,
    /// `MO`: magneto-optical, any kind (a summary).
    Mo,
    /// `MO_SE`: magneto-optical, sector erase.
    MoSectorErase,
    /// `MO_WO`: magneto-optical, write once.
    MoWriteOnce,
    /// `MO_AS`: magneto-optical, advanced storage.
    MoAdvancedStorage,
    /// `RW_NONREMOVABLE`: a non-removable rewritable disk.
    RwNonRemovable,
    /// `RW_REMOVABLE`: a removable rewritable disk.
    RwRemovable,
}

/// Every format with its `cdrom_id` name and, when it is exactly one, its MMC profile.
const FORMATS: &[(OpticalFormat, &str, Option<Profile>)] = &[
    (OpticalFormat::Cd, "CD", Some(Profile::CdRom)),
    (OpticalFormat::CdR, "CD_R", Some(Profile::CdR)),
    (OpticalFormat::CdRw, "CD_RW", Some(Profile::CdRw)),
    (OpticalFormat::Dvd, "DVD", Some(Profile::DvdRom)),
    (OpticalFormat::DvdR, "DVD_R", Some(Profile::DvdRSequential)),
    (OpticalFormat::DvdRam, "DVD_RAM", Some(Profile::DvdRam)),
    (OpticalFormat::DvdRw, "DVD_RW", None),
    (
        OpticalFormat::DvdRwRestrictedOverwrite,
        "DVD_RW_RO",
        Some(Profile::DvdRwRestrictedOverwrite),
    ),
    (
        OpticalFormat::DvdRwSequential,
        "DVD_RW_SEQ",
        Some(Profile::DvdRwSequential),
    ),
    (OpticalFormat::DvdRDualLayer, "DVD_R_DL", None),
    (
        OpticalFormat::DvdRDualLayerSequential,
        "DVD_R_DL_SEQ",
        Some(Profile::DvdRDualLayerSequential),
    ),
    (
        OpticalFormat::DvdRDualLayerJump,
        "DVD_R_DL_JR",
        Some(Profile::DvdRDualLayerJump),
    ),
    (
        OpticalFormat::DvdRwDualLayer,
        "DVD_RW_DL",
        Some(Profile::Other(0x0017)),
    ),
    (
        OpticalFormat::DvdRDownload,
        "DVD_R_DDR",
        Some(Profile::Other(0x0018)),
    ),
    (
        OpticalFormat::DvdPlusR,
        "DVD_PLUS_R",
        Some(Profile::DvdPlusR),
    ),
    (
        OpticalFormat::DvdPlusRw,
        "DVD_PLUS_RW",
        Some(Profile::DvdPlusRw),
    ),
    (
        OpticalFormat::DvdPlusRDualLayer,
        "DVD_PLUS_R_DL",
        Some(Profile::DvdPlusRDualLayer),
    ),
    (
        OpticalFormat::DvdPlusRwDualLayer,
        "DVD_PLUS_RW_DL",
        Some(Profile::DvdPlusRwDualLayer),
    ),
    (OpticalFormat::Ddcd, "DDCD", Some(Profile::Other(0x0020))),
    (OpticalFormat::DdcdR, "DDCD_R", Some(Profile::Other(0x0021))),
    (
        OpticalFormat::DdcdRw,
        "DDCD_RW",
        Some(Profile::Other(0x0022)),
    ),
    (OpticalFormat::Bd, "BD", Some(Profile::BdRom)),
    (OpticalFormat::BdR, "BD_R", None),
    (
        OpticalFormat::BdRSequential,
        "BD_R_SRM",
        Some(Profile::BdRSequential),
    ),
    (
        OpticalFormat::BdRRandom,
        "BD_R_RRM",
        Some(Profile::BdRRandom),
    ),
    (OpticalFormat::BdRe, "BD_RE", Some(Profile::BdRe)),
    (OpticalFormat::HdDvd, "HDDVD", Some(Profile::Other(0x0050))),
    (
        OpticalFormat::HdDvdR,
        "HDDVD_R",
        Some(Profile::Other(0x0051)),
    ),
    (
        OpticalFormat::HdDvdRam,
        "HDDVD_RAM",
        Some(Profile::Other(0x0052)),
    ),
    (
        OpticalFormat::HdDvdRw,
        "HDDVD_RW",
        Some(Profile::Other(0x0053)),
    ),
    (
        OpticalFormat::HdDvdRDualLayer,
        "HDDVD_R_DL",
        Some(Profile::Other(0x0058)),
    ),
    (
        OpticalFormat::HdDvdRwDualLayer,
        "HDDVD_RW_DL",
        Some(Profile::Other(0x005A)),
    ),
    (OpticalFormat::Mrw, "MRW", None),
    (OpticalFormat::MrwW, "MRW_W", None),
    (OpticalFormat::Mo, "MO", None),
    (
        OpticalFormat::MoSectorErase,
        "MO_SE",
        Some(Profile::Other(0x0003)),
    ),
    (
        OpticalFormat::MoWriteOnce,
        "MO_WO",
        Some(Profile::Other(0x0004)),
    ),
    (
        OpticalFormat::MoAdvancedStorage,
        "MO_AS",
        Some(Profile::Other(0x0005)),
    ),
    (
        OpticalFormat::RwNonRemovable,
        "RW_NONREMOVABLE",
        Some(Profile::Other(0x0001)),
    ),
    (
        OpticalFormat::RwRemovable,
        "RW_REMOVABLE",
        Some(Profile::Other(0x0002)),
    ),
];

/// A set of optical formats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatSet(BTreeSet<OpticalFormat>);

/// What udev says the drive can handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveCapabilities {
    /// No udev database entry for this drive (no udev daemon, or it has not probed the drive
    /// yet): ask the drive itself through the MMC layer.
    Unknown,
    /// `ID_CDROM=1` and these `ID_CDROM_<FORMAT>=1` properties.
    Known(FormatSet),
}

/// What udev says about the disc in the drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaView {
    /// udev has not probed this drive (see [`DriveCapabilities::Unknown`]).
    Unknown,
    /// udev probed the drive and found no disc.
    NoMedium,
    /// udev found a disc.
    Present(UdevMedium),
}

/// The disc in a drive, as `cdrom_id` last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdevMedium {
    /// `ID_CDROM_MEDIA_<FORMAT>=1`: usually one profile, plus its summary name.
    pub formats: FormatSet,
    /// `ID_CDROM_MEDIA_STATE`.
    pub state: Option<MediumState>,
    /// `ID_CDROM_MEDIA_SESSION_COUNT`.
    pub sessions: Option<u32>,
    /// `ID_CDROM_MEDIA_TRACK_COUNT`.
    pub tracks: Option<u32>,
}

/// `ID_CDROM_MEDIA_STATE`: the disc status from READ DISC INFORMATION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediumState {
    /// `blank`.
    Blank,
    /// `appendable`.
    Appendable,
    /// `complete`.
    Complete,
    /// `other`, or a value this code does not know.
    Other(String),
}

impl OpticalFormat {
    /// The format `cdrom_id` names `name` (the part after `ID_CDROM_` or `ID_CDROM_MEDIA_`).
    pub fn from_udev_name(name: &str) -> Option<OpticalFormat> {
        FORMATS
            .iter()
            .find(|(_, udev_name, _)| *udev_name == name)
            .map(|(format, _, _)| *format)
    }

    /// The name `cdrom_id` gives this format (`DVD_PLUS_R`).
    pub fn udev_name(self) -> &'static str {
        FORMATS
            .iter()
            .find(|(format, _, _)| *format == self)
            .map(|(_, name, _)| *name)
            .unwrap_or("?")
    }

    /// The MMC profile this format is, when it is exactly one (`DVD_RW` is two, `MRW` none).
    pub fn profile(self) -> Option<Profile> {
        FORMATS
            .iter()
            .find(|(format, _, _)| *format == self)
            .and_then(|(_, _, profile)| *profile)
    }
}

impl fmt::Display for OpticalFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.udev_name())
    }
}

impl FormatSet {
    /// An empty set.
    pub fn new() -> FormatSet {
        FormatSet::default()
    }

    /// True when `format` is in the set.
    pub fn contains(&self, format: OpticalFormat) -> bool {
        self.0.contains(&format)
    }

    /// Adds `format`.
    pub fn insert(&mut self, format: OpticalFormat) {
        self.0.insert(format);
    }

    /// The formats, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = OpticalFormat> + '_ {
        self.0.iter().copied()
    }

    /// Number of formats.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when some format in the set is exactly `profile`, or a summary that covers it
    /// (`DVD_RW` covers both DVD-RW profiles, `BD_R` both BD-R modes, `DVD_R_DL` both DVD-R
    /// DL profiles). For a writable profile, this is what "the drive can write it" means.
    pub fn covers_profile(&self, profile: Profile) -> bool {
        self.iter().any(|format| {
            format.profile() == Some(profile)
                || match format {
                    OpticalFormat::DvdRw => matches!(
                        profile,
                        Profile::DvdRwRestrictedOverwrite | Profile::DvdRwSequential
                    ),
                    OpticalFormat::BdR => {
                        matches!(profile, Profile::BdRSequential | Profile::BdRRandom)
                    }
                    OpticalFormat::DvdRDualLayer => matches!(
                        profile,
                        Profile::DvdRDualLayerSequential | Profile::DvdRDualLayerJump
                    ),
                    _ => false,
                }
        })
    }
}

impl FromIterator<OpticalFormat> for FormatSet {
    fn from_iter<I: IntoIterator<Item = OpticalFormat>>(iter: I) -> FormatSet {
        FormatSet(iter.into_iter().collect())
    }
}

impl fmt::Display for FormatSet {
    /// Space-separated udev names (`CD CD_R DVD DVD_PLUS_R`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, format) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{format}")?;
        }
        Ok(())
    }
}

impl DriveCapabilities {
    /// Reads `ID_CDROM` and `ID_CDROM_<FORMAT>` from a device's udev properties.
    pub fn from_properties(properties: &UdevProperties) -> DriveCapabilities {
        if !is_set(properties, "ID_CDROM") {
            return DriveCapabilities::Unknown;
        }
        let formats = formats_under(properties, "ID_CDROM_");
        DriveCapabilities::Known(formats)
    }

    /// The formats, when known.
    pub fn known(&self) -> Option<&FormatSet> {
        match self {
            DriveCapabilities::Unknown => None,
            DriveCapabilities::Known(formats) => Some(formats),
        }
    }
}

impl MediaView {
    /// Reads `ID_CDROM_MEDIA*` from a device's udev properties. Without `ID_CDROM=1` udev
    /// has not probed the drive, so the medium is unknown rather than absent.
    pub fn from_properties(properties: &UdevProperties) -> MediaView {
        if !is_set(properties, "ID_CDROM") {
            return MediaView::Unknown;
        }
        if !is_set(properties, "ID_CDROM_MEDIA") {
            return MediaView::NoMedium;
        }
        let count = |key: &str| properties.get(key).and_then(|v| v.trim().parse().ok());
        MediaView::Present(UdevMedium {
            formats: formats_under(properties, "ID_CDROM_MEDIA_"),
            state: properties
                .get("ID_CDROM_MEDIA_STATE")
                .map(|v| MediumState::from_udev(v)),
            sessions: count("ID_CDROM_MEDIA_SESSION_COUNT"),
            tracks: count("ID_CDROM_MEDIA_TRACK_COUNT"),
        })
    }
}

impl MediumState {
    /// Parses a value of `ID_CDROM_MEDIA_STATE`.
    pub fn from_udev(value: &str) -> MediumState {
        match value.trim() {
            "blank" => MediumState::Blank,
            "appendable" => MediumState::Appendable,
            "complete" => MediumState::Complete,
            other => MediumState::Other(other.to_string()),
        }
    }
}

/// True when `key` is present with the value `1`, as udev writes flags.
fn is_set(properties: &UdevProperties, key: &str) -> bool {
    properties.get(key).is_some_and(|v| v.trim() == "1")
}

/// The formats flagged `1` under `prefix` (`ID_CDROM_DVD_PLUS_R=1` under `ID_CDROM_`).
///
/// The medium's own properties (`ID_CDROM_MEDIA*`) never count as drive formats. Names not
/// in the table (a newer `cdrom_id`, or non-format keys such as `ID_CDROM_MEDIA_STATE`) are
/// skipped: a format we do not know is one we cannot burn anyway.
fn formats_under(properties: &UdevProperties, prefix: &str) -> FormatSet {
    properties
        .iter()
        .filter(|(_, value)| value.trim() == "1")
        .filter_map(|(key, _)| key.strip_prefix(prefix))
        .filter(|name| *name != "MEDIA" && !name.starts_with("MEDIA_"))
        .filter_map(OpticalFormat::from_udev_name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `udevadm info` of a TSSTcorp SE-506BB USB BD burner with a pressed BD in it (from a
    /// public xbmc pull request, #3370).
    fn se506bb_properties() -> UdevProperties {
        [
            "DEVNAME=/dev/sr1",
            "DEVTYPE=disk",
            "ID_BUS=usb",
            "ID_CDROM=1",
            "ID_CDROM_BD=1",
            "ID_CDROM_BD_R=1",
            "ID_CDROM_BD_RE=1",
            "ID_CDROM_CD=1",
            "ID_CDROM_CD_R=1",
            "ID_CDROM_CD_RW=1",
            "ID_CDROM_DVD=1",
            "ID_CDROM_DVD_PLUS_R=1",
            "ID_CDROM_DVD_PLUS_RW=1",
            "ID_CDROM_DVD_PLUS_R_DL=1",
            "ID_CDROM_DVD_R=1",
            "ID_CDROM_DVD_RAM=1",
            "ID_CDROM_DVD_RW=1",
            "ID_CDROM_MEDIA=1",
            "ID_CDROM_MEDIA_BD=1",
            "ID_CDROM_MEDIA_SESSION_COUNT=1",
            "ID_CDROM_MEDIA_STATE=complete",
            "ID_CDROM_MEDIA_TRACK_COUNT=1",
            "ID_CDROM_MEDIA_TRACK_COUNT_DATA=1",
            "ID_CDROM_MRW=1",
            "ID_CDROM_MRW_W=1",
        ]
        .iter()
        .map(|line| {
            let (k, v) = line.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
    }

    #[test]
    fn every_format_name_round_trips_and_is_unique() {
        for (format, name, _) in FORMATS {
            assert_eq!(OpticalFormat::from_udev_name(name), Some(*format), "{name}");
            assert_eq!(format.udev_name(), *name);
        }
        let names: BTreeSet<_> = FORMATS.iter().map(|(_, n, _)| *n).collect();
        assert_eq!(names.len(), FORMATS.len(), "duplicate udev names");
        let formats: BTreeSet<_> = FORMATS.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(formats.len(), FORMATS.len(), "duplicate formats");
    }

    #[test]
    fn format_profiles_agree_with_mmc_profile_numbers() {
        let number = |name: &str| {
            OpticalFormat::from_udev_name(name)
                .and_then(OpticalFormat::profile)
                .map(Profile::number)
        };
        assert_eq!(number("CD_R"), Some(0x0009));
        assert_eq!(number("DVD_PLUS_R"), Some(0x001B));
        assert_eq!(number("DVD_PLUS_R_DL"), Some(0x002B));
        assert_eq!(number("DVD_RW_SEQ"), Some(0x0014));
        assert_eq!(number("BD_R_SRM"), Some(0x0041));
        assert_eq!(number("BD_RE"), Some(0x0043));
        assert_eq!(number("HDDVD_RW_DL"), Some(0x005A));
        assert_eq!(number("DVD_RW"), None, "a summary of two profiles");
        assert_eq!(number("MRW"), None, "a feature, not a profile");
    }

    #[test]
    fn drive_capabilities_of_a_real_bd_burner() {
        let caps = DriveCapabilities::from_properties(&se506bb_properties());
        let formats = caps.known().expect("ID_CDROM=1 is set");
        assert_eq!(
            formats.to_string(),
            "CD CD_R CD_RW DVD DVD_R DVD_RAM DVD_RW DVD_PLUS_R DVD_PLUS_RW DVD_PLUS_R_DL BD BD_R \
             BD_RE MRW MRW_W"
        );
        // The medium's properties are not drive capabilities.
        assert!(!formats.iter().any(|f| f.udev_name().starts_with("MEDIA")));
        assert!(formats.covers_profile(Profile::DvdPlusR));
        assert!(formats.covers_profile(Profile::BdRSequential), "via BD_R");
        assert!(
            formats.covers_profile(Profile::DvdRwSequential),
            "via DVD_RW"
        );
        assert!(!formats.covers_profile(Profile::DvdPlusRwDualLayer));
    }

    #[test]
    fn medium_of_a_real_bd_burner() {
        let media = MediaView::from_properties(&se506bb_properties());
        let MediaView::Present(medium) = media else {
            panic!("expected a medium, got {media:?}");
        };
        assert_eq!(medium.formats.to_string(), "BD");
        assert_eq!(medium.state, Some(MediumState::Complete));
        assert_eq!(medium.sessions, Some(1));
        assert_eq!(medium.tracks, Some(1));
    }

    #[test]
    fn blank_dvd_plus_r_medium() {
        let mut props = se506bb_properties();
        props.retain(|k, _| !k.starts_with("ID_CDROM_MEDIA"));
        props.insert("ID_CDROM_MEDIA".into(), "1".into());
        props.insert("ID_CDROM_MEDIA_DVD_PLUS_R".into(), "1".into());
        props.insert("ID_CDROM_MEDIA_STATE".into(), "blank".into());
        let MediaView::Present(medium) = MediaView::from_properties(&props) else {
            panic!("expected a medium");
        };
        assert!(medium.formats.covers_profile(Profile::DvdPlusR));
        assert_eq!(medium.state, Some(MediumState::Blank));
        assert_eq!(medium.sessions, None);
    }

    #[test]
    fn probed_drive_without_disc_has_no_medium() {
        let mut props = se506bb_properties();
        props.retain(|k, _| !k.starts_with("ID_CDROM_MEDIA"));
        assert_eq!(MediaView::from_properties(&props), MediaView::NoMedium);
        assert!(DriveCapabilities::from_properties(&props).known().is_some());
    }

    #[test]
    fn without_udev_database_everything_is_unknown() {
        // What libudev reports for sr0 when no udev daemon ever ran: only the kernel's
        // uevent file.
        let props: UdevProperties = [
            ("MAJOR", "11"),
            ("MINOR", "0"),
            ("DEVNAME", "sr0"),
            ("DEVTYPE", "disk"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            DriveCapabilities::from_properties(&props),
            DriveCapabilities::Unknown
        );
        assert_eq!(MediaView::from_properties(&props), MediaView::Unknown);
    }

    #[test]
    fn unknown_names_and_zero_flags_are_ignored() {
        let props: UdevProperties = [
            ("ID_CDROM", "1"),
            ("ID_CDROM_CD_R", "1"),
            ("ID_CDROM_DVD_PLUS_R", "0"),
            ("ID_CDROM_QUANTUM_DISC", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let caps = DriveCapabilities::from_properties(&props);
        assert_eq!(caps.known().unwrap().to_string(), "CD_R");
    }

    #[test]
    fn medium_state_values() {
        assert_eq!(
            MediumState::from_udev("appendable\n"),
            MediumState::Appendable
        );
        assert_eq!(
            MediumState::from_udev("other"),
            MediumState::Other("other".into())
        );
    }
}

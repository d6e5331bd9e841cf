//! Values the image cannot hold as they were given: a volume label longer than its
//! descriptor field, a time outside the 1900-2155 that a directory record's date holds. The
//! image is still made (a cut label or a clamped date is no reason to refuse a backup), but
//! never silently: the layout lists each such value as an [`ImageWarning`] that names it,
//! and the caller shows it to a person (this library never prints).

use std::fmt;

use super::layout::{Layout, NodeKind};
use super::names;
use super::records::{EARLIEST_SHORT_DATE, LATEST_SHORT_DATE, UnixSeconds, utc_text};

/// Entries whose modification time is named one by one; past this many they are counted.
const NAMED_MTIMES: usize = 100;

/// A value the image holds differently from how it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageWarning {
    /// The volume label does not fit: the primary descriptor holds 32 d-characters (A-Z,
    /// 0-9, `_`), the Joliet descriptor 16 UCS-2 characters.
    VolumeIdCut {
        /// The label asked for.
        given: String,
        /// The label in the primary (ISO 9660) descriptor.
        iso: String,
        /// The label in the Joliet descriptor, which most systems show.
        joliet: String,
    },
    /// The volume time is outside the directory records' dates (the root's and the
    /// manifest's records carry it).
    VolumeTimeClamped {
        /// The time asked for.
        given: UnixSeconds,
        /// The time the records hold.
        written: UnixSeconds,
    },
    /// An entry's modification time is outside the dates ISO 9660 and Rock Ridge hold.
    MtimeClamped {
        /// The entry (empty: the root directory).
        path: Vec<u8>,
        /// Its modification time in the tree.
        given: UnixSeconds,
        /// The time the disc holds.
        written: UnixSeconds,
    },
    /// More entries with such times than are named one by one.
    MoreMtimesClamped {
        /// How many more.
        count: usize,
    },
}

impl fmt::Display for ImageWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageWarning::VolumeIdCut { given, iso, joliet } => write!(
                f,
                "the volume ID {given:?} does not fit on the disc: it is labelled {joliet:?} \
                 (Joliet holds 16 characters) and {iso:?} (ISO 9660 holds 32 of A-Z, 0-9 and _)"
            ),
            ImageWarning::VolumeTimeClamped { given, written } => write!(
                f,
                "the volume time {given} ({} UTC) is outside the years 1900-2155 that ISO 9660 \
                 directory dates hold: the disc records {} UTC",
                utc_text(*given),
                utc_text(*written)
            ),
            ImageWarning::MtimeClamped {
                path,
                given,
                written,
            } => {
                let shown = if path.is_empty() {
                    "the root directory".to_string()
                } else {
                    format!("{:?}", String::from_utf8_lossy(path))
                };
                write!(
                    f,
                    "the modification time of {shown}, {} UTC, is outside the years 1900-2155 \
                     that ISO 9660 and Rock Ridge dates hold: the disc records {} UTC",
                    utc_text(*given),
                    utc_text(*written)
                )
            }
            ImageWarning::MoreMtimesClamped { count } => write!(
                f,
                "{count} more entries have modification times outside the years 1900-2155; \
                 the disc records the nearest time it can hold"
            ),
        }
    }
}

/// The nearest time a 7-byte directory-record date holds.
fn clamped(time: UnixSeconds) -> UnixSeconds {
    time.clamp(EARLIEST_SHORT_DATE, LATEST_SHORT_DATE)
}

/// Every value of `layout` that the image holds differently from how it was given.
pub(crate) fn of_layout(layout: &Layout) -> Vec<ImageWarning> {
    let mut warnings = Vec::new();
    let given = &layout.volume_id;
    let iso = names::iso_volume_id(given);
    let joliet = names::joliet_volume_id(given);
    // Upper case and `_` for other characters is what the primary descriptor always does;
    // a label is cut when characters are lost or replaced where people read it.
    if joliet != *given || given.chars().count() > 32 {
        warnings.push(ImageWarning::VolumeIdCut {
            given: given.clone(),
            iso,
            joliet,
        });
    }
    let volume_time = layout.volume_time;
    if clamped(volume_time) != volume_time {
        warnings.push(ImageWarning::VolumeTimeClamped {
            given: volume_time,
            written: clamped(volume_time),
        });
    }
    let mut named = 0;
    let mut more = 0;
    for (index, node) in layout.nodes.iter().enumerate() {
        if clamped(node.mtime) == node.mtime {
            continue;
        }
        // The manifest (and a root the tree did not describe) carry the volume time, which
        // is reported above.
        let carries_volume_time = node.mtime == volume_time
            && (index == 0
                || matches!(node.kind, NodeKind::File { data } if Some(data) == layout.manifest));
        if carries_volume_time {
            continue;
        }
        if named == NAMED_MTIMES {
            more += 1;
            continue;
        }
        named += 1;
        warnings.push(ImageWarning::MtimeClamped {
            path: layout.node_path(index as u32),
            given: node.mtime,
            written: clamped(node.mtime),
        });
    }
    if more > 0 {
        warnings.push(ImageWarning::MoreMtimesClamped { count: more });
    }
    warnings
}

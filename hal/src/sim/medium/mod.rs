//! The disc in the software drive: its sectors in a file, and the state a real disc keeps in
//! its lead-in, PMA or RMA (profile, sessions, tracks, next writable address, format).
//!
//! The medium file holds the 2048-byte user sectors at their LBAs and nothing else, so
//! `isoinfo -i`, `xorriso -indev`, `7z` and `mount -o loop` read it like a disc image; it is
//! written with `pwrite` and stays sparse where nothing was written. The state lives next
//! to it in `<file>.state.json`, replaced atomically (write a temporary file, rename).
//!
//! The rules follow `mmc.md` 2.1-2.3: how a blank disc becomes incomplete, closed and
//! finalized, what each state reports, which writes each medium accepts. This module knows
//! nothing about CDBs or time: command handlers ask it questions and tell it what happened.
//!
//! Here are the medium's types and what it is (kind, capacity, format); each submodule adds
//! one job's methods to [`Medium`]: `file` (the sectors and the state sidecar), `report`
//! (what the disc says about itself and what reads return), `writing` (where a write goes,
//! reservations, closing), `formatting` (blanking and formatting). The submodules use the
//! types here; this module uses nothing of theirs.

mod file;
mod formatting;
mod report;
mod writing;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};

use crate::mmc::{MediaFamily, Profile};

const STATE_VERSION: u32 = 1;

/// Capacities in 2048-byte blocks: the public table the planner uses too.
use crate::mmc::capacity::{BD_SL_BLOCKS, DVD_MINUS_BLOCKS, NominalMedium};
/// DVD-RW formatted (00h/10h/15h) loses 608 blocks on a GSA-4083N (R3).
const DVD_RW_FORMAT_LOSS: u32 = 608;
/// BD spares: the default format (ISA0 4096 + OSA 8192 clusters), the largest spare offered
/// (R10: 11564032 blocks), the minimum (ISA0 only).
const BD_DEFAULT_SPARE: u32 = 393_216;
const BD_LARGE_SPARE: u32 = 655_360;
const BD_SMALL_SPARE: u32 = 131_072;

/// A CD TAO track ends with 2 run-out blocks that are counted in its size but cannot be
/// read (PI R11), and is at least 300 blocks long (LB).
const CD_RUN_OUT: u32 = 2;
const CD_MIN_TRACK: u32 = 300;
/// Where the next TAO track starts after a closed one: the rest of the 7 link blocks and a
/// 2-second pre-gap. No source gives the exact figure; clients read the NWA from 52h.
const CD_NEXT_TRACK_GAP: u32 = 5 + 150;

/// DVD+R holds at most 153 sessions (MMC-5 4.3.6.2), DVD+R DL finalizes at session 127 or
/// when fewer than 65 ECC blocks would remain (PI R11).
const DVD_PLUS_R_MAX_SESSIONS: u32 = 153;
const DVD_PLUS_R_DL_MAX_SESSIONS: u32 = 127;
const DVD_PLUS_R_DL_MIN_REMAINING: u32 = 65 * 16;

/// How a medium behaves, by physical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Cd { rewritable: bool },
    DvdMinus { rewritable: bool, dual_layer: bool },
    DvdPlusR { dual_layer: bool },
    DvdPlusRw,
    BdR,
    BdRe,
    Rom,
}

impl Kind {
    fn of(profile: Profile) -> Option<Kind> {
        Some(match profile {
            Profile::CdR => Kind::Cd { rewritable: false },
            Profile::CdRw => Kind::Cd { rewritable: true },
            Profile::DvdRSequential => Kind::DvdMinus {
                rewritable: false,
                dual_layer: false,
            },
            Profile::DvdRDualLayerSequential => Kind::DvdMinus {
                rewritable: false,
                dual_layer: true,
            },
            Profile::DvdRwSequential | Profile::DvdRwRestrictedOverwrite => Kind::DvdMinus {
                rewritable: true,
                dual_layer: false,
            },
            Profile::DvdPlusR => Kind::DvdPlusR { dual_layer: false },
            Profile::DvdPlusRDualLayer => Kind::DvdPlusR { dual_layer: true },
            Profile::DvdPlusRw => Kind::DvdPlusRw,
            Profile::BdRSequential => Kind::BdR,
            Profile::BdRe => Kind::BdRe,
            Profile::CdRom | Profile::DvdRom | Profile::BdRom => Kind::Rom,
            _ => return None,
        })
    }

    /// The write unit in blocks that lengths must be a multiple of (1 = any).
    fn write_unit(self) -> u32 {
        match self {
            Kind::DvdMinus { .. } | Kind::DvdPlusR { .. } => 16,
            Kind::BdR => 32,
            Kind::Cd { .. } | Kind::DvdPlusRw | Kind::BdRe | Kind::Rom => 1,
        }
    }

    /// Blocks between the end of a closed session and the start of the next one. CD: the
    /// lead-out, lead-in and pre-gap (LB cookbook). No source gives DVD±R or BD-R figures
    /// (`mmc.md` 2.2), so these are assumptions; every client reads the new start from 52h.
    fn session_gap(self, first: bool) -> u32 {
        match (self, first) {
            (Kind::Cd { .. }, true) => 11_400,
            (Kind::Cd { .. }, false) => 6_900,
            (Kind::DvdMinus { .. } | Kind::DvdPlusR { .. }, true) => 16_384,
            (Kind::DvdMinus { .. } | Kind::DvdPlusR { .. }, false) => 4_096,
            _ => 4_096,
        }
    }
}

/// How a track is being (or was) written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackMode {
    /// DVD-R/-RW incremental (fixed 16-block packets) or CD packet writing.
    Incremental,
    /// DVD-R/-RW disc-at-once into one reserved track.
    Dao,
    /// CD track-at-once.
    Tao,
    /// DVD+R fragment or BD-R SRM track (no write parameters).
    Fragment,
}

/// One track of a sequential medium, as the disc's PMA/RMA would record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Track {
    pub(crate) number: u32,
    pub(crate) session: u32,
    pub(crate) start: u32,
    /// Size fixed by RESERVE TRACK.
    #[serde(default)]
    pub(crate) reserved: Option<u32>,
    /// Blocks written from `start` (accepted by the drive; the state file keeps only what was
    /// burnt).
    pub(crate) recorded: u32,
    /// Size once closed (padding and CD run-out included).
    #[serde(default)]
    pub(crate) closed_size: Option<u32>,
    pub(crate) mode: TrackMode,
    /// A write failed inside this track: no NWA any more, and it cannot be closed.
    #[serde(default)]
    pub(crate) damaged: bool,
}

impl Track {
    fn new(number: u32, session: u32, start: u32, mode: TrackMode) -> Track {
        Track {
            number,
            session,
            start,
            reserved: None,
            recorded: 0,
            closed_size: None,
            mode,
            damaged: false,
        }
    }

    fn is_closed(&self) -> bool {
        self.closed_size.is_some()
    }

    /// The unreserved, open track that runs to the end of the disc.
    fn is_invisible(&self) -> bool {
        self.closed_size.is_none() && self.reserved.is_none()
    }
}

/// DVD+RW background format status (51h byte 7 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundFormat {
    /// 01b: stopped by CLOSE, resumable with FORMAT UNIT's Restart bit.
    Suspended,
    /// 10b: formatting in the background.
    Running,
    /// 11b: the whole disc is formatted.
    Complete,
}

/// How the medium is formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum FormatState {
    /// Never formatted, or not a formattable medium.
    Unformatted,
    /// DVD+RW basic format 26h: `done` blocks formatted so far.
    Background { done: u32, status: BackgroundFormat },
    /// DVD-RW restricted overwrite, BD-RE, or BD-R with spares.
    Formatted {
        capacity: u32,
        format_type: u8,
        sub_type: u8,
        /// DVD-RW after a quick format (15h/13h) until CLOSE SESSION.
        #[serde(default)]
        intermediate: bool,
    },
}

/// Everything the sidecar state file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MediumState {
    pub(crate) version: u32,
    /// The current profile's token (`dvd-rw` becomes `dvd-rw-ro` when formatted).
    pub(crate) profile: String,
    /// Unformatted capacity in blocks.
    pub(crate) raw_capacity: u32,
    pub(crate) tracks: Vec<Track>,
    pub(crate) closed_sessions: u32,
    pub(crate) finalized: bool,
    /// DVD-RW after a minimal BLANK: incremental writing (feature 0021h) is gone.
    #[serde(default)]
    pub(crate) minimally_blanked: bool,
    pub(crate) format: FormatState,
}

/// Disc status, 51h byte 2 bits 1-0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscStatus {
    /// 00b.
    Blank,
    /// 01b: incomplete or appendable.
    Incomplete,
    /// 10b: complete (finalized, or a formatted overwritable disc).
    Complete,
    /// 11b: other (random-access media).
    Other,
}

/// State of the last session, 51h byte 2 bits 3-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// 00b: empty.
    Empty,
    /// 01b: incomplete (data written, not closed).
    Incomplete,
    /// 10b: reserved or damaged.
    Damaged,
    /// 11b: complete.
    Complete,
}

/// What 52h reports about one track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackView {
    pub(crate) number: u32,
    pub(crate) session: u32,
    pub(crate) start: u32,
    pub(crate) size: u32,
    pub(crate) next_writable: Option<u32>,
    pub(crate) free: u32,
    pub(crate) last_recorded: Option<u32>,
    pub(crate) reserved: bool,
    pub(crate) blank: bool,
    pub(crate) packet: bool,
    pub(crate) fixed_packet: bool,
    pub(crate) packet_size: u32,
    pub(crate) damaged: bool,
    pub(crate) track_mode: u8,
}

/// A formattable descriptor of READ FORMAT CAPACITIES: blocks, format type, TDP.
pub(crate) type FormatOffer = (u32, u8, u32);

/// The current/maximum descriptor type of READ FORMAT CAPACITIES (byte 4 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapacityType {
    Unformatted = 1,
    Formatted = 2,
    Unknown = 3,
}

/// Where an accepted WRITE goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteTarget {
    /// Appended at the NWA of this track (index into the track list).
    Append(usize),
    /// Overwrites sectors in place (overwritable media, BD-R pseudo-overwrite).
    Overwrite,
}

/// A FORMAT UNIT the medium accepted, to be applied when the drive has done the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatJob {
    /// DVD+RW 26h: start, or resume a suspended background format.
    PlusRwBackground { restart: bool },
    /// Formatted to `capacity`; `erase` clears the recorded data.
    Formatted {
        capacity: u32,
        format_type: u8,
        sub_type: u8,
        intermediate: bool,
        erase: bool,
    },
}

/// How much work (in blocks written at the write speed) a job costs the drive.
pub(crate) type WorkBlocks = u64;

/// Opening a medium failed.
#[derive(Debug, thiserror::Error)]
pub enum MediumError {
    /// The medium or its state file could not be read or written.
    #[error("cannot use the software-drive medium {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The state file is not one this drive wrote.
    #[error(
        "the state file {path} is damaged ({detail}); delete it and its medium file to start with a blank disc"
    )]
    BadState {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The state file exists but the medium file does not.
    #[error(
        "the medium file {path} is missing but its state file exists; delete the state file to start with a blank disc"
    )]
    MissingMedium {
        /// The missing medium file.
        path: PathBuf,
    },
    /// The medium path names a directory (or another non-file).
    #[error(
        "the software-drive medium {path} is not a file: give the path of a disc file (a new one is created blank)"
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// Another software drive (another process, or another drive in this one) has the
    /// medium open: two burners cannot hold one disc.
    #[error(
        "the software-drive medium {path} is in use by another burnstation (or SimDrive): wait for it to finish, then try again"
    )]
    Busy {
        /// The medium file.
        path: PathBuf,
    },
    /// A new medium of a profile the drive cannot make.
    #[error(
        "a new software-drive medium cannot be {profile}; use a recordable medium such as dvd+r"
    )]
    NotRecordable {
        /// The profile asked for.
        profile: Profile,
    },
}

/// A medium: its file and its state.
#[derive(Debug)]
pub(crate) struct Medium {
    path: PathBuf,
    /// The medium file, locked (`flock`, exclusive) for as long as the drive holds it.
    file: Flock<File>,
    pub(crate) state: MediumState,
    profile: Profile,
    kind: Kind,
    /// A ROM image opened without a state file: never saved.
    read_only_image: bool,
}

/// The sidecar state path of a medium file.
pub(crate) fn state_path(medium: &Path) -> PathBuf {
    let mut name = medium.as_os_str().to_owned();
    name.push(".state.json");
    PathBuf::from(name)
}

/// The unformatted capacity of a new medium of `profile`.
fn real_capacity(profile: Profile) -> Option<u32> {
    NominalMedium::for_profile(profile).map(|medium| medium.blocks)
}

/// A spare of `real` blocks on a real single-layer BD, scaled to a test medium of `raw`
/// blocks (exactly `real` at the real size), in whole 32-block clusters.
fn scaled(raw: u32, real_raw: u32, real: u32, unit: u32) -> u32 {
    let scaled = raw as u64 * real as u64 / real_raw as u64;
    (scaled as u32) / unit * unit
}
impl Medium {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn profile(&self) -> Profile {
        self.profile
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn family(&self) -> MediaFamily {
        self.profile.family().unwrap_or(MediaFamily::Dvd)
    }

    pub(crate) fn is_erasable(&self) -> bool {
        matches!(
            self.kind,
            Kind::Cd { rewritable: true }
                | Kind::DvdMinus {
                    rewritable: true,
                    ..
                }
                | Kind::DvdPlusRw
                | Kind::BdRe
        )
    }

    /// Overwritable media: DVD+RW, DVD-RW restricted overwrite, BD-RE.
    pub(crate) fn is_overwritable(&self) -> bool {
        matches!(
            self.profile,
            Profile::DvdPlusRw | Profile::DvdRwRestrictedOverwrite | Profile::BdRe
        )
    }

    pub(crate) fn is_sequential(&self) -> bool {
        !self.is_overwritable() && self.kind != Kind::Rom
    }

    pub(crate) fn write_unit(&self) -> u32 {
        self.kind.write_unit()
    }

    pub(crate) fn bd_r_pow(&self) -> bool {
        self.kind == Kind::BdR
            && matches!(
                self.state.format,
                FormatState::Formatted { sub_type: 0, .. }
            )
    }

    /// Formatted with spare areas (defect management, feature 0024h current).
    pub(crate) fn has_spares(&self) -> bool {
        matches!(self.kind, Kind::BdR | Kind::BdRe)
            && matches!(
                self.state.format,
                FormatState::Formatted { format_type, .. } if format_type != 0x31
            )
    }

    pub(crate) fn is_formatted(&self) -> bool {
        !matches!(self.state.format, FormatState::Unformatted)
    }

    pub(crate) fn background_format(&self) -> Option<(u32, BackgroundFormat)> {
        match self.state.format {
            FormatState::Background { done, status } => Some((done, status)),
            _ => None,
        }
    }

    /// Blocks the host may address now.
    pub(crate) fn capacity(&self) -> u32 {
        match self.state.format {
            FormatState::Formatted { capacity, .. } => capacity,
            _ => self.state.raw_capacity,
        }
    }

    fn dvd_rw_formatted_capacity(&self) -> u32 {
        let raw = self.state.raw_capacity;
        raw - scaled(raw, DVD_MINUS_BLOCKS, DVD_RW_FORMAT_LOSS, 16).min(raw / 2)
    }

    /// BD sizes for this disc: default format, largest spare, smallest spare.
    fn bd_sizes(&self) -> (u32, u32, u32) {
        let raw = self.state.raw_capacity;
        let size = |spare| raw - scaled(raw, BD_SL_BLOCKS, spare, 32);
        (
            size(BD_DEFAULT_SPARE),
            size(BD_LARGE_SPARE),
            size(BD_SMALL_SPARE),
        )
    }

    /// Feature 0021h (incremental streaming writable) is current.
    pub(crate) fn incremental_possible(&self) -> bool {
        match self.profile {
            Profile::CdR | Profile::CdRw => !self.state.finalized,
            Profile::DvdRSequential
            | Profile::DvdRwSequential
            | Profile::DvdRDualLayerSequential => {
                !self.state.finalized && !self.state.minimally_blanked
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::pacing::Extent;
    use crate::sim::pages::{WRITE_TYPE_PACKET, WriteParameters};
    use crate::sim::sense;

    fn medium(profile: Profile) -> (tempfile::TempDir, Medium) {
        let dir = tempfile::tempdir().unwrap();
        let medium = Medium::open(&dir.path().join("disc.img"), profile, None).unwrap();
        (dir, medium)
    }

    fn dvd_incremental() -> WriteParameters {
        WriteParameters {
            write_type: WRITE_TYPE_PACKET,
            ls_v: true,
            link_size: 16,
            fixed_packet: true,
            packet_size: 16,
            multi_session: 3,
            ..WriteParameters::default()
        }
    }

    #[test]
    fn new_media_have_the_real_capacities() {
        for (profile, blocks) in [
            (Profile::CdR, 359_849),
            (Profile::DvdPlusR, 2_295_104),
            (Profile::DvdRSequential, 2_298_496),
            (Profile::DvdPlusRDualLayer, 4_173_824),
            (Profile::DvdRDualLayerSequential, 4_171_712),
            (Profile::BdRSequential, 12_219_392),
            (Profile::BdRe, 12_219_392),
        ] {
            let (_dir, m) = medium(profile);
            assert_eq!(m.capacity(), blocks, "{profile}");
            assert_eq!(m.disc_status(), (DiscStatus::Blank, SessionState::Empty));
        }
        let (_dir, ro) = medium(Profile::DvdRwRestrictedOverwrite);
        assert_eq!(ro.capacity(), 2_297_888);
    }

    #[test]
    fn bd_format_sizes_match_the_real_drive_lists() {
        let (_dir, m) = medium(Profile::BdRe);
        assert_eq!(m.bd_sizes(), (11_826_176, 11_564_032, 12_088_320));
    }

    #[test]
    fn lost_appends_move_the_end_back_but_overwrites_do_not() {
        let (_dir, mut m) = medium(Profile::DvdPlusR);
        let params = WriteParameters::default();
        let target = m.prepare_write(0, 64, false, &params).unwrap();
        m.record(target, 64, &params);
        m.lose(&[Extent {
            lba: 32,
            blocks: 32,
        }]);
        assert_eq!(m.state.tracks[0].recorded, 32);
        m.lose(&[Extent { lba: 0, blocks: 16 }]);
        assert_eq!(m.state.tracks[0].recorded, 32, "not at the end: kept");
    }

    #[test]
    fn dvd_minus_incremental_needs_the_right_page() {
        let (_dir, m) = medium(Profile::DvdRSequential);
        let wrong = WriteParameters::default();
        assert_eq!(
            m.prepare_write(0, 16, false, &wrong),
            Err(sense::ILLEGAL_MODE_FOR_TRACK)
        );
        assert_eq!(
            m.prepare_write(0, 16, false, &dvd_incremental()),
            Ok(WriteTarget::Append(0))
        );
    }
}

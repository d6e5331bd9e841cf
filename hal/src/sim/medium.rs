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

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mmc::{MediaFamily, Profile};

use super::pacing::Extent;
use super::pages::{
    WRITE_TYPE_DAO, WRITE_TYPE_PACKET, WRITE_TYPE_SAO, WRITE_TYPE_TAO, WriteParameters,
};
use super::sense::{self, Sense};

/// Bytes in one user sector (a 2048-byte block).
pub(crate) const SECTOR_BYTES: usize = 2048;

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
    file: File,
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
    /// Opens the medium at `path`: its state if it has one, a finalized read-only disc if
    /// only the file exists, or a new blank medium of `profile` if neither does.
    pub(crate) fn open(
        path: &Path,
        profile: Profile,
        capacity: Option<u32>,
    ) -> Result<Medium, MediumError> {
        let state_file = state_path(path);
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| MediumError::Io { path: p, source }
        };
        if state_file.exists() {
            let text = fs::read_to_string(&state_file).map_err(io_err(&state_file))?;
            let mut state: MediumState =
                serde_json::from_str(&text).map_err(|e| MediumError::BadState {
                    path: state_file.clone(),
                    detail: e.to_string(),
                })?;
            let profile: Profile = state.profile.parse().map_err(|_| MediumError::BadState {
                path: state_file.clone(),
                detail: format!("unknown profile {:?}", state.profile),
            })?;
            let kind = Kind::of(profile).ok_or_else(|| MediumError::BadState {
                path: state_file.clone(),
                detail: format!("profile {profile} is not emulated"),
            })?;
            if state.version != STATE_VERSION {
                return Err(MediumError::BadState {
                    path: state_file,
                    detail: format!("version {} (expected {STATE_VERSION})", state.version),
                });
            }
            if !path.exists() {
                return Err(MediumError::MissingMedium {
                    path: path.to_path_buf(),
                });
            }
            // A background format does not survive power-off: the drive finds it suspended.
            if let FormatState::Background { status, .. } = &mut state.format
                && *status == BackgroundFormat::Running
            {
                *status = BackgroundFormat::Suspended;
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(io_err(path))?;
            return Ok(Medium {
                path: path.to_path_buf(),
                file,
                state,
                profile,
                kind,
                read_only_image: false,
            });
        }
        if path.exists() {
            let file = File::open(path).map_err(io_err(path))?;
            let len = file.metadata().map_err(io_err(path))?.len();
            let blocks = len.div_ceil(SECTOR_BYTES as u64).min(u32::MAX as u64) as u32;
            let profile = match profile {
                Profile::CdRom | Profile::BdRom => profile,
                _ => Profile::DvdRom,
            };
            let mut track = Track::new(1, 1, 0, TrackMode::Dao);
            track.recorded = blocks;
            track.closed_size = Some(blocks);
            let state = MediumState {
                version: STATE_VERSION,
                profile: profile.token().unwrap_or("dvd-rom").to_string(),
                raw_capacity: blocks,
                tracks: vec![track],
                closed_sessions: 1,
                finalized: true,
                minimally_blanked: false,
                format: FormatState::Unformatted,
            };
            return Ok(Medium {
                path: path.to_path_buf(),
                file,
                state,
                profile,
                kind: Kind::Rom,
                read_only_image: true,
            });
        }
        let kind = Kind::of(profile)
            .filter(|k| *k != Kind::Rom)
            .ok_or(MediumError::NotRecordable { profile })?;
        let raw = capacity
            .or_else(|| real_capacity(profile))
            .ok_or(MediumError::NotRecordable { profile })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io_err(path))?;
        let mut medium = Medium {
            path: path.to_path_buf(),
            file,
            state: MediumState {
                version: STATE_VERSION,
                profile: String::new(),
                raw_capacity: raw,
                tracks: Vec::new(),
                closed_sessions: 0,
                finalized: false,
                minimally_blanked: false,
                format: FormatState::Unformatted,
            },
            profile,
            kind,
            read_only_image: false,
        };
        medium.reset_blank(profile);
        if profile == Profile::DvdRwRestrictedOverwrite {
            let capacity = medium.dvd_rw_formatted_capacity();
            medium.state.format = FormatState::Formatted {
                capacity,
                format_type: 0x00,
                sub_type: 0,
                intermediate: false,
            };
        }
        medium.save(&[]).map_err(io_err(&state_file))?;
        Ok(medium)
    }

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

    /// Number of the session that is open (or would be).
    fn open_session(&self) -> u32 {
        self.state.closed_sessions + 1
    }

    fn open_session_tracks(&self) -> impl Iterator<Item = &Track> {
        let open = self.open_session();
        self.state.tracks.iter().filter(move |t| t.session == open)
    }

    fn nothing_written(&self) -> bool {
        self.state
            .tracks
            .iter()
            .all(|t| t.recorded == 0 && t.reserved.is_none())
            && self.state.closed_sessions == 0
    }

    /// 51h byte 2: disc status and state of the last session.
    pub(crate) fn disc_status(&self) -> (DiscStatus, SessionState) {
        if self.kind == Kind::Rom || self.state.finalized {
            return (DiscStatus::Complete, SessionState::Complete);
        }
        if self.is_overwritable() {
            return if self.is_formatted() {
                (DiscStatus::Complete, SessionState::Complete)
            } else {
                (DiscStatus::Blank, SessionState::Empty)
            };
        }
        let open_has_data = self
            .open_session_tracks()
            .any(|t| t.recorded > 0 || t.reserved.is_some() || t.is_closed());
        if open_has_data {
            (DiscStatus::Incomplete, SessionState::Incomplete)
        } else if self.state.closed_sessions > 0 || self.is_formatted() {
            // A formatted, unwritten BD-R reports "appendable, empty session" (`mmc.md` 2.2).
            (DiscStatus::Incomplete, SessionState::Empty)
        } else {
            (DiscStatus::Blank, SessionState::Empty)
        }
    }

    /// Sessions on the disc, counting the open or empty one.
    pub(crate) fn session_count(&self) -> u32 {
        if !self.is_sequential() {
            return 1;
        }
        self.state.closed_sessions + u32::from(!self.state.finalized)
    }

    /// First and last track number of the last session.
    pub(crate) fn last_session_tracks(&self) -> (u32, u32) {
        if !self.is_sequential() {
            return (1, 1);
        }
        let last = self.session_count();
        let mut numbers = self
            .state
            .tracks
            .iter()
            .filter(|t| t.session == last)
            .map(|t| t.number);
        let first = numbers.next();
        let final_number = numbers.next_back().or(first);
        match (first, final_number) {
            (Some(f), Some(l)) => (f, l),
            _ => {
                let next = self.state.tracks.last().map_or(1, |t| t.number + 1);
                (next, next)
            }
        }
    }

    /// Start LBA of the last (open or empty) session.
    pub(crate) fn last_session_start(&self) -> u32 {
        let (first, _) = self.last_session_tracks();
        self.track_view(first).map_or(0, |t| t.start)
    }

    fn track_end(&self, track: &Track) -> u32 {
        if let Some(size) = track.closed_size {
            track.start + size
        } else if let Some(size) = track.reserved {
            track.start + size
        } else {
            self.capacity()
        }
    }

    fn track_nwa(&self, track: &Track) -> Option<u32> {
        if track.is_closed() || track.damaged || self.state.finalized {
            return None;
        }
        let nwa = track.start + track.recorded;
        (nwa < self.track_end(track)).then_some(nwa)
    }

    /// What 52h reports for track `number`.
    pub(crate) fn track_view(&self, number: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (number == 1).then(|| self.whole_disc_track());
        }
        let track = self.state.tracks.iter().find(|t| t.number == number)?;
        Some(self.view_of(track))
    }

    /// The track holding `lba`, for 52h address type 00b.
    pub(crate) fn track_at(&self, lba: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (lba < self.capacity()).then(|| self.whole_disc_track());
        }
        self.state
            .tracks
            .iter()
            .find(|t| t.start <= lba && lba < self.track_end(t))
            .map(|t| self.view_of(t))
    }

    /// First track of session `session`, for 52h address type 10b.
    pub(crate) fn first_track_of_session(&self, session: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (session == 1).then(|| self.whole_disc_track());
        }
        self.state
            .tracks
            .iter()
            .find(|t| t.session == session)
            .map(|t| self.view_of(t))
    }

    /// The invisible (or incomplete) track, for 52h track number FFh on CD and DVD+R.
    pub(crate) fn invisible_track(&self) -> Option<TrackView> {
        self.state
            .tracks
            .last()
            .filter(|t| !t.is_closed())
            .map(|t| self.view_of(t))
    }

    fn whole_disc_track(&self) -> TrackView {
        let capacity = self.capacity();
        let formatted = self.is_formatted() || self.kind == Kind::Rom;
        let (packet, fixed_packet, packet_size) = match self.profile {
            Profile::DvdPlusRw => (true, false, 0),
            Profile::DvdRwRestrictedOverwrite => (true, true, 16),
            Profile::BdRe if formatted => (true, true, 32),
            _ => (false, false, 0),
        };
        TrackView {
            number: 1,
            session: 1,
            start: 0,
            size: capacity,
            next_writable: None,
            free: if formatted { 0 } else { capacity },
            last_recorded: None,
            reserved: false,
            // R1: a blank DVD+RW is an "invisible incremental" track (Blank=1, Packet=1).
            blank: !formatted,
            packet: packet || (self.profile == Profile::DvdPlusRw && !formatted),
            fixed_packet,
            packet_size,
            damaged: false,
            track_mode: 4,
        }
    }

    fn view_of(&self, track: &Track) -> TrackView {
        let end = self.track_end(track);
        let next_writable = self.track_nwa(track);
        let incremental = track.mode == TrackMode::Incremental;
        let blank = track.recorded == 0 && !track.is_closed();
        // Blank DVD-R/-RW where incremental writing is possible: "invisible incremental"
        // (PI R8 table, 0110b); written incremental tracks carry fixed 16-block packets.
        let packet = incremental && (track.recorded > 0 || self.incremental_possible());
        let fixed_packet = incremental && track.recorded > 0 && self.family() == MediaFamily::Dvd;
        let plus = matches!(self.kind, Kind::DvdPlusR { .. });
        TrackView {
            number: track.number,
            session: track.session,
            start: track.start,
            size: end - track.start,
            next_writable,
            free: next_writable.map_or(0, |nwa| end - nwa),
            last_recorded: (track.recorded > 0 && !plus).then(|| track.start + track.recorded - 1),
            // RT stays set on a written CD reserved track (PI R8: 100xb); a finished DVD-R
            // DAO track is plain "complete" (0000b).
            reserved: track.reserved.is_some()
                && (!track.is_closed() || matches!(self.kind, Kind::Cd { .. })),
            blank,
            packet,
            fixed_packet,
            packet_size: if fixed_packet { 16 } else { 0 },
            damaged: track.damaged,
            track_mode: if incremental { 5 } else { 4 },
        }
    }

    /// READ CAPACITY's last LBA: 0 without a complete session, the end of the last closed
    /// session otherwise; the whole formatted area of overwritable media (`mmc.md` 1.4).
    pub(crate) fn read_capacity_last_lba(&self) -> u32 {
        if self.kind == Kind::Rom {
            return self.capacity().saturating_sub(1);
        }
        if self.is_overwritable() {
            return if self.is_formatted() {
                self.capacity().saturating_sub(1)
            } else {
                0
            };
        }
        self.state
            .tracks
            .iter()
            .filter(|t| t.session <= self.state.closed_sessions)
            .map(|t| self.track_end(t))
            .max()
            .map_or(0, |end| end.saturating_sub(1))
    }

    /// The tracks of closed sessions, for the fabricated TOC: (number, session, start).
    pub(crate) fn closed_tracks(&self) -> Vec<(u32, u32, u32)> {
        if !self.is_sequential() {
            return if self.is_formatted() || self.kind == Kind::Rom {
                vec![(1, 1, 0)]
            } else {
                Vec::new()
            };
        }
        self.state
            .tracks
            .iter()
            .filter(|t| t.session <= self.state.closed_sessions)
            .map(|t| (t.number, t.session, t.start))
            .collect()
    }

    /// The lead-out start after the last closed session (TOC track AAh).
    pub(crate) fn closed_area_end(&self) -> u32 {
        if !self.is_sequential() {
            return self.capacity();
        }
        self.read_capacity_last_lba() + 1
    }

    pub(crate) fn complete_sessions(&self) -> u32 {
        if self.is_sequential() {
            self.state.closed_sessions
        } else {
            u32::from(self.is_formatted() || self.kind == Kind::Rom)
        }
    }

    /// READ FORMAT CAPACITIES: the current/maximum descriptor and the formattable ones.
    pub(crate) fn format_capacities(&self) -> ((u32, CapacityType), Vec<FormatOffer>) {
        let raw = self.state.raw_capacity;
        let (disc, _) = self.disc_status();
        let blank = disc == DiscStatus::Blank;
        let current_plain = if blank {
            (raw, CapacityType::Unformatted)
        } else {
            (self.capacity(), CapacityType::Formatted)
        };
        match self.profile {
            Profile::DvdPlusRw => (current_plain, vec![(raw, 0x26, 0)]),
            Profile::DvdRwSequential => {
                let size = self.dvd_rw_formatted_capacity();
                (
                    current_plain,
                    vec![(size, 0x00, 0x800), (size, 0x10, 16), (size, 0x15, 16)],
                )
            }
            Profile::DvdRwRestrictedOverwrite => {
                let size = self.dvd_rw_formatted_capacity();
                let intermediate = matches!(
                    self.state.format,
                    FormatState::Formatted {
                        intermediate: true,
                        ..
                    }
                );
                if intermediate {
                    (
                        (self.capacity(), CapacityType::Unknown),
                        vec![(size, 0x00, 0x800), (size, 0x10, 16), (size, 0x15, 16)],
                    )
                } else {
                    (
                        (self.capacity(), CapacityType::Formatted),
                        vec![
                            (size, 0x00, 0x800),
                            (size, 0x10, 16),
                            (0, 0x13, 16),
                            (size, 0x15, 16),
                        ],
                    )
                }
            }
            Profile::BdRe => {
                let (default, large, small) = self.bd_sizes();
                let current = if self.is_formatted() {
                    (self.capacity(), CapacityType::Formatted)
                } else {
                    (raw, CapacityType::Unformatted)
                };
                (
                    current,
                    vec![
                        (default, 0x00, 0x3000),
                        (default, 0x30, 0x3000),
                        (large, 0x30, 0x5000),
                        (small, 0x30, 0x1000),
                        (raw, 0x31, 0x800),
                    ],
                )
            }
            Profile::BdRSequential if self.is_formatted() => {
                ((self.capacity(), CapacityType::Formatted), Vec::new())
            }
            Profile::BdRSequential if blank => {
                let (default, large, small) = self.bd_sizes();
                (
                    current_plain,
                    vec![
                        (default, 0x00, 0x3000),
                        (default, 0x32, 0),
                        (large, 0x32, 0),
                        (small, 0x32, 0),
                    ],
                )
            }
            _ => (current_plain, Vec::new()),
        }
    }

    /// Checks a WRITE of `blocks` at `lba` against the medium's rules and says where it goes.
    ///
    /// Alignment: DVD±R and DVD-RW take whole 16-block ECC blocks, BD-R whole 32-block
    /// clusters, BD-RE streaming writes whole clusters. A misaligned start is 5/21/02 (the
    /// address is not writable); a length that is not a whole unit is 5/24/00 (the transfer
    /// length field is invalid). Real drives either reject or pad (`mmc.md` 2.2); this one
    /// rejects, so a host that forgets to pad fails loudly.
    pub(crate) fn prepare_write(
        &self,
        lba: u32,
        blocks: u32,
        streaming: bool,
        params: &WriteParameters,
    ) -> Result<WriteTarget, Sense> {
        if self.kind == Kind::Rom {
            return Err(sense::CANNOT_WRITE_MEDIUM);
        }
        if self.state.finalized {
            return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
        }
        let end = lba as u64 + blocks as u64;
        if end > self.capacity() as u64 {
            return Err(sense::LBA_OUT_OF_RANGE.at(lba));
        }
        if self.is_overwritable() {
            let unit = match self.profile {
                Profile::DvdRwRestrictedOverwrite => 16,
                Profile::BdRe if streaming => 32,
                _ => 1,
            };
            if !self.is_formatted() {
                return Err(sense::MEDIUM_NOT_FORMATTED);
            }
            if !lba.is_multiple_of(unit) {
                return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
            }
            if !blocks.is_multiple_of(unit) {
                return Err(sense::INVALID_FIELD_IN_CDB);
            }
            return Ok(WriteTarget::Overwrite);
        }
        let write_type = params.write_type;
        match self.kind {
            Kind::DvdMinus { .. } => match write_type {
                WRITE_TYPE_PACKET => {
                    if !self.incremental_possible() || !params.dvd_incremental_ready() {
                        return Err(sense::ILLEGAL_MODE_FOR_TRACK);
                    }
                }
                WRITE_TYPE_DAO => {}
                _ => return Err(sense::ILLEGAL_MODE_FOR_TRACK),
            },
            Kind::Cd { .. } => match write_type {
                WRITE_TYPE_PACKET | WRITE_TYPE_TAO => {}
                // SAO needs SEND CUE SHEET first, which this drive does not implement.
                WRITE_TYPE_SAO => return Err(sense::COMMAND_SEQUENCE_ERROR),
                _ => return Err(sense::ILLEGAL_MODE_FOR_TRACK),
            },
            _ => {}
        }
        let unit = self.write_unit();
        if !blocks.is_multiple_of(unit) {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        let found = self
            .state
            .tracks
            .iter()
            .position(|t| self.track_nwa(t) == Some(lba));
        let Some(index) = found else {
            if self.bd_r_pow() && self.within_recorded(lba, blocks) {
                return Ok(WriteTarget::Overwrite);
            }
            return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
        };
        let track = &self.state.tracks[index];
        if end > self.track_end(track) as u64 {
            return Err(sense::END_OF_USER_AREA.at(lba));
        }
        if let Kind::DvdMinus { .. } = self.kind {
            let dao_track = track.reserved.is_some() && track.mode == TrackMode::Dao;
            if (write_type == WRITE_TYPE_DAO) != dao_track {
                // DAO writes only into the DAO reservation, incremental never into it.
                return Err(sense::COMMAND_SEQUENCE_ERROR);
            }
        }
        Ok(WriteTarget::Append(index))
    }

    /// Checks a test WRITE (page 05h Test Write): the medium's rules at the NWA of the open
    /// track, for any address from it on.
    pub(crate) fn prepare_test_write(
        &self,
        lba: u32,
        blocks: u32,
        params: &WriteParameters,
    ) -> Result<(), Sense> {
        let nwa = self
            .state
            .tracks
            .iter()
            .rev()
            .find_map(|t| self.track_nwa(t))
            .filter(|nwa| *nwa <= lba)
            .ok_or(sense::INVALID_ADDRESS_FOR_WRITE.at(lba))?;
        if lba as u64 + blocks as u64 > self.capacity() as u64 {
            return Err(sense::LBA_OUT_OF_RANGE.at(lba));
        }
        self.prepare_write(nwa, blocks, false, params).map(|_| ())
    }

    fn within_recorded(&self, lba: u32, blocks: u32) -> bool {
        self.state
            .tracks
            .iter()
            .any(|t| t.start <= lba && lba + blocks <= t.start + t.recorded)
    }

    /// Records that `blocks` were accepted for `target`.
    pub(crate) fn record(&mut self, target: WriteTarget, blocks: u32, params: &WriteParameters) {
        if let WriteTarget::Append(index) = target {
            let mode = self.mode_for(params);
            let track = &mut self.state.tracks[index];
            if track.recorded == 0 && track.reserved.is_none() {
                track.mode = mode;
            }
            track.recorded += blocks;
        }
    }

    /// Marks the track holding `lba` damaged after a write error there.
    pub(crate) fn damage_at(&mut self, lba: u32) {
        if !self.is_sequential() {
            return;
        }
        let capacity = self.capacity();
        for track in &mut self.state.tracks {
            let end = track
                .closed_size
                .or(track.reserved)
                .map_or(capacity, |s| track.start + s);
            if track.start <= lba && lba < end {
                track.damaged = true;
                track.recorded = lba - track.start;
            }
        }
    }

    fn mode_for(&self, params: &WriteParameters) -> TrackMode {
        match self.kind {
            Kind::DvdMinus { .. } if params.write_type == WRITE_TYPE_DAO => TrackMode::Dao,
            Kind::DvdMinus { .. } => TrackMode::Incremental,
            Kind::Cd { .. } if params.write_type == WRITE_TYPE_PACKET => TrackMode::Incremental,
            Kind::Cd { .. } => TrackMode::Tao,
            _ => TrackMode::Fragment,
        }
    }

    /// RESERVE TRACK of `size` blocks on the invisible track.
    pub(crate) fn reserve(&mut self, size: u32, params: &WriteParameters) -> Result<(), Sense> {
        if !self.is_sequential() || self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        if size == 0 {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        let dao = matches!(self.kind, Kind::DvdMinus { .. }) && params.write_type == WRITE_TYPE_DAO;
        if dao && !self.nothing_written() {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let unit = self.write_unit();
        let size = size.div_ceil(unit) * unit;
        let capacity = self.capacity();
        let mode = if dao {
            TrackMode::Dao
        } else {
            self.mode_for(params)
        };
        let Some(track) = self.state.tracks.last_mut().filter(|t| t.is_invisible()) else {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        };
        if track.recorded > 0 {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        if track.start as u64 + size as u64 > capacity as u64 {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        track.reserved = Some(size);
        track.mode = mode;
        let (number, session, next_start) = (track.number + 1, track.session, track.start + size);
        if next_start < capacity {
            let default_mode = self.mode_for(params);
            self.state
                .tracks
                .push(Track::new(number, session, next_start, default_mode));
        }
        Ok(())
    }

    /// CLOSE TRACK on `number` (FFh: the invisible track, valid on CD and DVD+R only).
    pub(crate) fn close_track(&mut self, number: u32) -> Result<(), Sense> {
        if self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let index = if number == 0xff {
            if !matches!(self.kind, Kind::Cd { .. } | Kind::DvdPlusR { .. }) {
                return Err(sense::INVALID_FIELD_IN_CDB);
            }
            self.state.tracks.iter().rposition(|t| !t.is_closed())
        } else {
            self.state.tracks.iter().position(|t| t.number == number)
        };
        let Some(index) = index else {
            return Err(sense::INVALID_FIELD_IN_CDB);
        };
        let track = &self.state.tracks[index];
        if track.session != self.open_session() || track.is_closed() {
            // Closing a closed track changes nothing.
            return Ok(());
        }
        if track.damaged {
            return Err(sense::WRITE_ERROR.at(track.start + track.recorded));
        }
        if track.recorded == 0 && track.reserved.is_none() {
            // A blank incomplete fragment: GOOD, nothing happens (PI R11).
            return Ok(());
        }
        self.seal_track(index);
        Ok(())
    }

    /// Closes track `index` and opens the next invisible track behind it.
    fn seal_track(&mut self, index: usize) {
        let unit = self.write_unit();
        let is_cd = matches!(self.kind, Kind::Cd { .. });
        let capacity = self.capacity();
        let track = &mut self.state.tracks[index];
        let size = if let Some(reserved) = track.reserved {
            // The drive pads a reserved track to its reserved size.
            reserved
        } else if is_cd {
            track.recorded = track.recorded.max(CD_MIN_TRACK);
            track.recorded + CD_RUN_OUT
        } else {
            track.recorded.div_ceil(unit) * unit
        };
        track.closed_size = Some(size);
        let invisible_follows = track.reserved.is_none();
        let (number, session, end) = (track.number + 1, track.session, track.start + size);
        if invisible_follows {
            let start = if is_cd { end + CD_NEXT_TRACK_GAP } else { end };
            if start < capacity {
                let mode = track.mode;
                self.state
                    .tracks
                    .push(Track::new(number, session, start, mode));
            }
        }
    }

    /// CLOSE SESSION; with `finalize` the disc becomes complete. The multi-session bits of
    /// page 05h (CD, DVD-R) and the function code (DVD+R, BD-R) decide `finalize`.
    pub(crate) fn close_session(&mut self, finalize: bool) -> Result<(), Sense> {
        if self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let open = self.open_session();
        // Reserved tracks written to their end count as complete.
        for index in 0..self.state.tracks.len() {
            let t = &self.state.tracks[index];
            if t.session == open && !t.is_closed() && t.reserved == Some(t.recorded) {
                self.seal_track(index);
            }
        }
        for t in self.open_session_tracks() {
            if t.is_closed() {
                continue;
            }
            if t.reserved.is_some() {
                return Err(sense::EMPTY_RESERVED_TRACK);
            }
            if t.recorded > 0 || t.damaged {
                return Err(sense::INCOMPLETE_TRACK_IN_SESSION);
            }
        }
        let has_tracks = self.open_session_tracks().any(|t| t.is_closed());
        if !has_tracks {
            if !finalize {
                return Ok(());
            }
            if self.state.closed_sessions == 0 {
                return Err(sense::COMMAND_SEQUENCE_ERROR);
            }
            self.state
                .tracks
                .retain(|t| t.session <= self.state.closed_sessions);
            self.state.finalized = true;
            return Ok(());
        }
        let first_session = self.state.closed_sessions == 0;
        self.state
            .tracks
            .retain(|t| t.session != open || t.is_closed());
        self.state.closed_sessions += 1;
        let end = self
            .state
            .tracks
            .iter()
            .map(|t| self.track_end(t))
            .max()
            .unwrap_or(0);
        let next_start = end as u64 + self.kind.session_gap(first_session) as u64;
        let capacity = self.capacity() as u64;
        let sessions_full = match self.kind {
            Kind::DvdPlusR { dual_layer: false } => {
                self.state.closed_sessions >= DVD_PLUS_R_MAX_SESSIONS
            }
            Kind::DvdPlusR { dual_layer: true } => {
                self.state.closed_sessions >= DVD_PLUS_R_DL_MAX_SESSIONS
                    || capacity.saturating_sub(end as u64) < DVD_PLUS_R_DL_MIN_REMAINING as u64
            }
            // DVD-R DL has no multi-session.
            Kind::DvdMinus {
                dual_layer: true, ..
            } => true,
            _ => false,
        };
        if finalize || sessions_full || next_start + self.write_unit() as u64 > capacity {
            self.state.finalized = true;
            return Ok(());
        }
        let number = self.state.tracks.last().map_or(1, |t| t.number + 1);
        let mode = self
            .state
            .tracks
            .last()
            .map_or(TrackMode::Fragment, |t| t.mode);
        let mode = if mode == TrackMode::Dao {
            TrackMode::Incremental
        } else {
            mode
        };
        self.state.tracks.push(Track::new(
            number,
            self.state.closed_sessions + 1,
            next_start as u32,
            mode,
        ));
        Ok(())
    }

    /// What SYNCHRONIZE CACHE completes: a CD TAO track is closed by it, and a DVD-R DAO
    /// recording written to the end of its reservation is closed and finalized (no CLOSE
    /// follows DAO, `mmc.md` 2.2). Returns true when the state changed.
    pub(crate) fn after_sync(&mut self, params: &WriteParameters) -> bool {
        if !self.is_sequential() || self.state.finalized {
            return false;
        }
        match self.kind {
            Kind::Cd { .. } if params.write_type == WRITE_TYPE_TAO => {
                let open = self
                    .state
                    .tracks
                    .iter()
                    .rposition(|t| t.is_invisible() && t.recorded > 0 && !t.damaged);
                if let Some(index) = open {
                    self.seal_track(index);
                    return true;
                }
                false
            }
            Kind::DvdMinus { .. } => {
                let done = self.state.tracks.iter().position(|t| {
                    t.mode == TrackMode::Dao
                        && !t.is_closed()
                        && !t.damaged
                        && t.reserved.is_some_and(|r| r == t.recorded)
                });
                if let Some(index) = done {
                    self.seal_track(index);
                    let open = self.open_session();
                    self.state
                        .tracks
                        .retain(|t| t.session != open || t.is_closed());
                    self.state.closed_sessions += 1;
                    self.state.finalized = true;
                    return true;
                }
                false
            }
            _ => false,
        }
    }

    /// Checks a BLANK of `blank_type` and returns the work it costs.
    pub(crate) fn check_blank(&self, blank_type: u8) -> Result<WorkBlocks, Sense> {
        if !self.is_erasable() {
            // R7: BLANK on BD-R and CD-R answers 5/30/06.
            return Err(sense::CANNOT_FORMAT_MEDIUM);
        }
        let raw = self.state.raw_capacity as u64;
        match (self.profile, blank_type) {
            (Profile::CdRw | Profile::DvdRwSequential | Profile::DvdRwRestrictedOverwrite, 0) => {
                Ok(raw)
            }
            (Profile::CdRw | Profile::DvdRwSequential, 1) => Ok(raw / 50),
            _ => Err(sense::INVALID_FIELD_IN_CDB),
        }
    }

    /// Blanks the medium (full or minimal, as checked by [`check_blank`](Self::check_blank)).
    pub(crate) fn blank(&mut self, full: bool) -> io::Result<()> {
        let profile = match self.profile {
            Profile::DvdRwRestrictedOverwrite => Profile::DvdRwSequential,
            other => other,
        };
        self.reset_blank(profile);
        self.state.minimally_blanked = !full && profile == Profile::DvdRwSequential;
        self.file.set_len(0)
    }

    fn reset_blank(&mut self, profile: Profile) {
        self.set_profile(profile);
        let mode = self.mode_for(&WriteParameters::default());
        self.state.tracks = if self.is_sequential() {
            vec![Track::new(1, 1, 0, mode)]
        } else {
            Vec::new()
        };
        self.state.closed_sessions = 0;
        self.state.finalized = false;
        self.state.format = FormatState::Unformatted;
    }

    fn set_profile(&mut self, profile: Profile) {
        self.profile = profile;
        self.state.profile = profile.token().unwrap_or_default().to_string();
        if let Some(kind) = Kind::of(profile) {
            self.kind = kind;
        }
    }

    /// Checks a FORMAT UNIT descriptor (`mmc.md` 1.12) and returns the job and its work.
    pub(crate) fn check_format(
        &self,
        format_type: u8,
        sub_type: u8,
        blocks: u32,
        tdp: u32,
    ) -> Result<(FormatJob, WorkBlocks), Sense> {
        let raw = self.state.raw_capacity;
        let bad = sense::INVALID_FIELD_IN_PARAMETER_LIST;
        let quick = raw as u64 / 100;
        let job = |capacity, intermediate, erase| FormatJob::Formatted {
            capacity,
            format_type,
            sub_type,
            intermediate,
            erase,
        };
        match self.kind {
            Kind::DvdPlusRw => {
                if format_type != 0x26 || (blocks != u32::MAX && blocks > raw) {
                    return Err(bad);
                }
                let restart = tdp & 1 == 1;
                Ok((FormatJob::PlusRwBackground { restart }, 0))
            }
            Kind::DvdMinus {
                rewritable: true, ..
            } => {
                let max = self.dvd_rw_formatted_capacity();
                if blocks > max {
                    return Err(bad);
                }
                let size = if blocks == 0 { max } else { blocks / 16 * 16 };
                if size == 0 {
                    return Err(bad);
                }
                match format_type {
                    0x00 | 0x10 => Ok((job(size, false, true), size as u64)),
                    0x15 => Ok((job(max, true, true), max as u64 / 50)),
                    0x13 if self.profile == Profile::DvdRwRestrictedOverwrite => {
                        Ok((job(self.capacity(), true, false), max as u64 / 50))
                    }
                    _ => Err(bad),
                }
            }
            Kind::BdRe => {
                let (default, _, small) = self.bd_sizes();
                let size = |blocks: u32| {
                    if blocks == 0 {
                        default
                    } else {
                        blocks / 32 * 32
                    }
                };
                match format_type {
                    0x00 if blocks <= small => Ok((job(size(blocks), false, true), quick)),
                    // PI BDR-203: less than ISA0's 4096 clusters of spare is 5/26/00.
                    0x30 if blocks <= small && blocks >= raw / 2 => {
                        let capacity = size(blocks);
                        let work = match sub_type {
                            0b10 => capacity as u64 * 2,
                            0b11 => capacity as u64 / 10,
                            _ => quick,
                        };
                        Ok((job(capacity, false, true), work))
                    }
                    0x31 if blocks == 0 || blocks == raw => Ok((job(raw, false, true), quick)),
                    _ => Err(bad),
                }
            }
            Kind::BdR => {
                if self.is_formatted() || !self.nothing_written() {
                    return Err(sense::CANNOT_FORMAT_MEDIUM);
                }
                let (default, _, small) = self.bd_sizes();
                match (format_type, sub_type) {
                    // The drive ignores the block count of 00h (PI); RRM is not emulated.
                    (0x00, 0b00 | 0b01) => Ok((job(default, false, false), quick)),
                    (0x32, 0b00 | 0b01) if blocks >= raw / 2 && blocks <= small => {
                        Ok((job(blocks / 32 * 32, false, false), quick))
                    }
                    _ => Err(bad),
                }
            }
            Kind::Cd { rewritable: true } => Err(bad),
            _ => Err(sense::CANNOT_FORMAT_MEDIUM),
        }
    }

    /// Applies a checked FORMAT UNIT job.
    pub(crate) fn apply_format(&mut self, job: FormatJob) -> io::Result<()> {
        match job {
            FormatJob::PlusRwBackground { restart } => {
                self.state.format = match (self.state.format.clone(), restart) {
                    (
                        FormatState::Background {
                            done,
                            status: BackgroundFormat::Suspended | BackgroundFormat::Running,
                        },
                        true,
                    ) => FormatState::Background {
                        done,
                        status: BackgroundFormat::Running,
                    },
                    (complete @ FormatState::Background { .. }, true) => complete,
                    (_, _) => {
                        self.file.set_len(0)?;
                        FormatState::Background {
                            done: 0,
                            status: BackgroundFormat::Running,
                        }
                    }
                };
            }
            FormatJob::Formatted {
                capacity,
                format_type,
                sub_type,
                intermediate,
                erase,
            } => {
                if erase {
                    self.file.set_len(0)?;
                }
                if self.kind
                    == (Kind::DvdMinus {
                        rewritable: true,
                        dual_layer: false,
                    })
                {
                    self.set_profile(Profile::DvdRwRestrictedOverwrite);
                    self.state.tracks.clear();
                    self.state.closed_sessions = 0;
                    self.state.finalized = false;
                    self.state.minimally_blanked = false;
                }
                self.state.format = FormatState::Formatted {
                    capacity,
                    format_type,
                    sub_type,
                    intermediate,
                };
                if self.kind == Kind::BdR {
                    // The formatted capacity bounds the invisible track.
                    self.reset_tracks_keep_format();
                }
            }
        }
        Ok(())
    }

    fn reset_tracks_keep_format(&mut self) {
        self.state.tracks = vec![Track::new(1, 1, 0, TrackMode::Fragment)];
        self.state.closed_sessions = 0;
        self.state.finalized = false;
    }

    /// Moves a DVD+RW background format on to `done` blocks (complete at the capacity).
    pub(crate) fn set_background_progress(&mut self, done: u32) {
        let capacity = self.capacity();
        if let FormatState::Background { done: d, status } = &mut self.state.format {
            *d = done.min(capacity).max(*d);
            if *d >= capacity {
                *status = BackgroundFormat::Complete;
            }
        }
    }

    /// Stops a running background format (CLOSE 000b/010b on DVD+RW).
    pub(crate) fn suspend_background_format(&mut self) {
        if let FormatState::Background { status, .. } = &mut self.state.format
            && *status == BackgroundFormat::Running
        {
            *status = BackgroundFormat::Suspended;
        }
    }

    /// DVD-RW restricted overwrite: CLOSE SESSION ends the intermediate state of a quick
    /// format.
    pub(crate) fn finish_quick_format(&mut self) {
        if let FormatState::Formatted { intermediate, .. } = &mut self.state.format {
            *intermediate = false;
        }
    }

    /// Checks a READ of `blocks` at `lba`: returns how many blocks from `lba` read, and the
    /// condition of the first that does not.
    ///
    /// Unwritten sectors fail as one real drive per family does (`mmc.md` 2.4 lists several):
    /// CD answers 8/00/00 BLANK CHECK (and 5/64/00 for a TAO track's run-out blocks), DVD and
    /// BD answer 5/21/00 like a DVD+R in DiscImageCreator#45. Formatted overwritable media read
    /// everywhere (the format wrote every sector).
    pub(crate) fn check_read(&self, lba: u32, blocks: u32) -> (u32, Option<Sense>) {
        let end = lba as u64 + blocks as u64;
        if end > self.capacity() as u64 {
            let good = self.capacity().saturating_sub(lba).min(blocks);
            let (readable, sense) = self.check_read(lba, good);
            return (
                readable,
                sense.or(Some(sense::LBA_OUT_OF_RANGE.at(lba + good))),
            );
        }
        if self.kind == Kind::Rom || (self.is_overwritable() && self.is_formatted()) {
            return (blocks, None);
        }
        let unwritten = if matches!(self.kind, Kind::Cd { .. }) {
            sense::BLANK_CHECK
        } else {
            sense::LBA_OUT_OF_RANGE
        };
        if self.is_overwritable() {
            return (0, Some(unwritten.at(lba)));
        }
        let mut at = lba;
        while (at as u64) < end {
            let Some(track) = self
                .state
                .tracks
                .iter()
                .find(|t| t.start <= at && at < self.track_end(t))
            else {
                return (at - lba, Some(unwritten.at(at)));
            };
            let readable_end = match track.closed_size {
                Some(size) if matches!(self.kind, Kind::Cd { .. }) => {
                    let data_end = track.start + size - CD_RUN_OUT;
                    if at >= data_end {
                        return (at - lba, Some(sense::ILLEGAL_MODE_FOR_TRACK.at(at)));
                    }
                    data_end
                }
                Some(size) => track.start + size,
                None => track.start + track.recorded,
            };
            if at >= readable_end {
                return (at - lba, Some(unwritten.at(at)));
            }
            at = readable_end.min(end as u32);
        }
        (blocks, None)
    }

    /// Writes sectors to the medium file.
    pub(crate) fn store(&self, lba: u32, bytes: &[u8]) -> io::Result<()> {
        self.file
            .write_all_at(bytes, lba as u64 * SECTOR_BYTES as u64)
    }

    /// Reads sectors from the medium file; past its end (sparse, never written) reads zeros.
    pub(crate) fn load(&self, lba: u32, buf: &mut [u8]) -> io::Result<()> {
        let mut offset = lba as u64 * SECTOR_BYTES as u64;
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read_at(&mut buf[filled..], offset) {
                Ok(0) => {
                    buf[filled..].fill(0);
                    break;
                }
                Ok(n) => {
                    filled += n;
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Forgets sectors that never left the drive buffer (power cut, removal): on sequential
    /// media the NWA goes back to the burnt end; in place writes keep the old contents.
    pub(crate) fn lose(&mut self, lost: &[Extent]) {
        lose_from(&mut self.state, lost);
    }

    /// Saves the state as the disc would have it if `pending` (still in the drive buffer)
    /// never got burnt: atomically, by writing a temporary file and renaming it.
    pub(crate) fn save(&self, pending: &[Extent]) -> io::Result<()> {
        if self.read_only_image {
            return Ok(());
        }
        let mut burnt = self.state.clone();
        lose_from(&mut burnt, pending);
        let target = state_path(&self.path);
        let mut temporary = target.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let text = serde_json::to_string_pretty(&burnt).map_err(io::Error::other)?;
        fs::write(&temporary, text)?;
        fs::rename(&temporary, &target)
    }
}

fn lose_from(state: &mut MediumState, lost: &[Extent]) {
    // Newest first: an append lost at the end of a track moves the track's end back; a
    // pseudo-overwrite inside the recorded area leaves it.
    for extent in lost.iter().rev() {
        for track in &mut state.tracks {
            let recorded_end = track.start + track.recorded;
            if extent.lba >= track.start && extent.lba + extent.blocks == recorded_end {
                track.recorded = extent.lba - track.start;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

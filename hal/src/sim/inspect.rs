//! What a [`SimControl`](super::SimControl) shows of the drive from outside: the commands
//! it received and what each got, and a snapshot of the medium's state.

use std::path::PathBuf;

use crate::mmc::Profile;

use super::medium::{BackgroundFormat, DiscStatus, SessionState, TrackMode};

/// What one recorded command got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandResult {
    /// GOOD status.
    Good,
    /// CHECK CONDITION with this sense key, ASC and ASCQ.
    CheckCondition {
        /// Sense key.
        key: u8,
        /// Additional sense code.
        asc: u8,
        /// Additional sense code qualifier.
        ascq: u8,
    },
    /// No answer before the caller's timeout.
    Timeout,
    /// No answer: the power failed while the command ran, or the medium file could not be
    /// read or written (the transport error says which).
    Gone,
}

impl CommandResult {
    /// True for [`CommandResult::Good`].
    pub fn is_good(self) -> bool {
        self == CommandResult::Good
    }

    /// `(key, asc, ascq)` of a CHECK CONDITION.
    pub fn sense(self) -> Option<(u8, u8, u8)> {
        match self {
            CommandResult::CheckCondition { key, asc, ascq } => Some((key, asc, ascq)),
            _ => None,
        }
    }
}

/// One command as the drive received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCommand {
    pub(super) cdb: [u8; 16],
    pub(super) cdb_len: u8,
    /// Bytes the host sent in the data-out phase.
    pub data_out: usize,
    /// Bytes the drive sent in the data-in phase.
    pub data_in: usize,
    /// What it got.
    pub result: CommandResult,
}

impl RecordedCommand {
    /// The CDB bytes.
    pub fn cdb(&self) -> &[u8] {
        &self.cdb[..self.cdb_len as usize]
    }

    /// The operation code.
    pub fn opcode(&self) -> u8 {
        self.cdb[0]
    }
}

/// One track as the medium state holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSnapshot {
    /// Track number (from 1).
    pub number: u32,
    /// Session number (from 1).
    pub session: u32,
    /// First LBA.
    pub start: u32,
    /// Blocks written from `start` (accepted by the drive, burnt or still in its buffer).
    pub recorded: u32,
    /// Reserved size, if RESERVE TRACK fixed one.
    pub reserved: Option<u32>,
    /// Size once closed.
    pub closed_size: Option<u32>,
    /// How the track is written.
    pub mode: TrackMode,
    /// A write failed inside it.
    pub damaged: bool,
}

/// The medium in the drive, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumSnapshot {
    /// The medium file.
    pub path: PathBuf,
    /// The current profile.
    pub profile: Profile,
    /// Disc status (51h byte 2 bits 1-0).
    pub disc_status: DiscStatus,
    /// State of the last session (51h byte 2 bits 3-2).
    pub last_session: SessionState,
    /// Sessions, counting the open or empty one.
    pub sessions: u32,
    /// Closed sessions.
    pub closed_sessions: u32,
    /// Tracks of sequential media (empty for overwritable and ROM media).
    pub tracks: Vec<TrackSnapshot>,
    /// The next writable address of the last open track.
    pub next_writable_address: Option<u32>,
    /// Blocks addressable now (formatted capacity when formatted).
    pub capacity: u32,
    /// Whether the medium is formatted (DVD+RW background format started, DVD-RW RO,
    /// BD-RE, BD-R with spares).
    pub formatted: bool,
    /// DVD+RW background format status.
    pub background_format: Option<BackgroundFormat>,
    /// DVD-RW minimally blanked (incremental writing unavailable).
    pub minimally_blanked: bool,
}

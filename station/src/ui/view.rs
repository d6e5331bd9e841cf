//! What the display shows: the view model the daemon fills in from its state and events.
//!
//! The UI knows nothing of the daemon. The daemon describes the box as a [`View`] (what it
//! is doing, [`Status`], plus the facts the menu's pages show), and the UI decides how that
//! looks on whatever panel is attached. Every value is typed (bytes, durations, disc
//! numbers), so the UI formats them for the space it has and the layout tests can try the
//! longest each can be.

use std::time::Duration;

/// Everything the display can show, as the daemon sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// What the box is doing: one variant per status screen.
    pub status: Status,
    /// The "Device info" page.
    pub device: DeviceInfo,
    /// The box's own ssh public key as one `authorized_keys` line ("ssh-ed25519 AAAA...
    /// comment"), shown as a QR code with its fingerprint; `None` before the first boot made it.
    pub box_key: Option<String>,
}

/// The facts on the "Device info" page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// The station's name from the settings.
    pub name: String,
    /// The box's IP address, `None` when it has none (no network).
    pub ip: Option<String>,
    /// The software version.
    pub version: String,
    /// Free space on the data partition, in bytes, if known.
    pub free_bytes: Option<u64>,
    /// The data partition's size, in bytes, if known.
    pub total_bytes: Option<u64>,
}

/// Disc `n` of a set of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscNo {
    /// This disc's number, from 1.
    pub n: u32,
    /// How many discs the set has.
    pub of: u32,
}

/// How far a job is: `done` of `total` units (bytes, blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Units done.
    pub done: u64,
    /// Units in all; 0 reads as nothing to do (0 %).
    pub total: u64,
}

impl Progress {
    /// The part done, from 0.0 to 1.0.
    pub fn fraction(self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done.min(self.total) as f64 / self.total as f64) as f32
        }
    }

    /// Whole percent done, rounded down (so 100 % only when done).
    pub fn percent(self) -> u32 {
        if self.total == 0 {
            0
        } else {
            (u128::from(self.done.min(self.total)) * 100 / u128::from(self.total)) as u32
        }
    }
}

/// What the box is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Just switched on: reading the settings, finding the burner.
    Starting,
    /// Nothing to do right now.
    Idle(Idle),
    /// Copying the backup tree from the server.
    Syncing(Syncing),
    /// A disc of the set is due and the drive is empty.
    WaitingForDisc {
        /// Which disc.
        disc: DiscNo,
        /// The medium wanted ("DVD+R"), `None` for any blank disc.
        medium: Option<String>,
    },
    /// A blank disc is in and the settings say to ask before burning.
    ReadyToBurn {
        /// Which disc.
        disc: DiscNo,
        /// The medium in the drive ("DVD+R").
        medium: String,
        /// How much will be written.
        bytes: u64,
    },
    /// Writing a disc.
    Burning(Burning),
    /// Reading a burnt disc back against what was meant.
    Verifying(Verifying),
    /// A disc was burnt and verified: it wants a label.
    DiscDone {
        /// Which disc.
        disc: DiscNo,
        /// What to write on it ("OSK 2026-11-26 2/3").
        label: String,
        /// Whether the tray has been opened.
        ejected: bool,
    },
    /// Every disc of a set is burnt and verified.
    SetComplete {
        /// The set's label ("OSK 2026-11-26").
        label: String,
        /// How many discs it has.
        discs: u32,
    },
    /// Erasing a rewritable disc (after the volunteer confirmed it).
    Erasing {
        /// How far, when the drive reports it.
        progress: Option<Progress>,
    },
    /// The result of "Verify a disc" from the menu.
    DiscChecked {
        /// The disc's label, when the station knows the disc.
        label: Option<String>,
        /// Good or bad.
        ok: bool,
        /// How many files differ or could not be read (0 when `ok`).
        bad_files: u32,
    },
    /// Something is wrong; the screen says what fixes it.
    Problem(Problem),
}

/// The idle screen's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idle {
    /// How long ago the last good sync finished; `None`: never.
    pub last_sync_ago: Option<Duration>,
    /// When the next sync is.
    pub next_sync: NextSync,
    /// The newest disc set, if there is one.
    pub set: Option<SetStatus>,
    /// A new disc set is due (the interval or snapshot count says so): a press burns it.
    pub burn_due: bool,
}

/// When the next sync will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextSync {
    /// In this long.
    In(Duration),
    /// The clock has not been set from the network yet, so the schedule is not trusted.
    WaitingForClock,
    /// The server's host key is not in the settings yet, so the box does not sync.
    NotConfigured,
}

/// How far the newest disc set is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStatus {
    /// The set's label ("OSK 2026-11-26").
    pub label: String,
    /// Discs burnt.
    pub burnt: u32,
    /// Discs burnt and verified.
    pub verified: u32,
    /// Discs in the set.
    pub total: u32,
}

/// The sync screen's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syncing {
    /// Bytes received so far.
    pub received: u64,
    /// How far, when rsync knows the total.
    pub progress: Option<Progress>,
    /// Bytes per second, when known.
    pub rate: Option<u64>,
    /// Time left, when known.
    pub eta: Option<Duration>,
}

/// The burn screen's facts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burning {
    /// Which disc.
    pub disc: DiscNo,
    /// Where the burn is.
    pub stage: BurnStage,
    /// Bytes written of the image.
    pub progress: Progress,
    /// Write speed as a multiple of the medium's 1x (8.0 = "8x"), when known.
    pub speed_x: Option<f32>,
    /// Time left, when known.
    pub eta: Option<Duration>,
    /// The drive's buffer fill in percent, when the drive reports it.
    pub buffer_percent: Option<u8>,
}

/// The parts of a burn that look different to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurnStage {
    /// Calibrating, formatting, reserving: before the first byte.
    Preparing,
    /// Writing the image.
    Writing,
    /// Closing the track and finalizing the disc (can take minutes, shows no progress).
    Closing,
}

/// The verify screen's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verifying {
    /// Which disc, when it belongs to a set the station knows.
    pub disc: Option<DiscNo>,
    /// Bytes read back.
    pub progress: Progress,
    /// Time left, when known.
    pub eta: Option<Duration>,
}

/// Every error state the display knows, each with the action that fixes it.
///
/// `detail` fields carry the station's own one-sentence description of what happened (an
/// error's `Display`); the UI shows it under the headline and adds the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The settings file is wrong: nothing runs until it is fixed.
    Settings {
        /// The line of `burnstation.toml`, if known.
        line: Option<u32>,
        /// What is wrong, as one sentence.
        detail: String,
    },
    /// No optical drive is connected.
    NoDrive,
    /// The burner is on a USB link too slow to burn.
    SlowLink {
        /// The sentence from discovery ("... connected at USB full speed ...").
        detail: String,
    },
    /// The burner stopped answering and could not be reset.
    DriveNotResponding {
        /// What happened.
        detail: String,
    },
    /// The disc in the drive is write-once and not blank.
    DiscNotBlank {
        /// The medium wanted next ("DVD+R"), if any.
        wanted: Option<String>,
    },
    /// The disc in the drive is rewritable and holds data: erase it, or use another.
    DiscHoldsData {
        /// The medium in the drive ("DVD+RW").
        medium: String,
    },
    /// The disc in the drive is not a medium the settings allow, or is too small.
    WrongDisc {
        /// What is in the drive ("CD-R").
        found: String,
        /// What is wanted ("DVD+R").
        wanted: String,
    },
    /// The disc in the drive was left open by a burn that stopped (a power cut).
    DiscInterrupted,
    /// Burning a disc failed: that disc is spoilt.
    BurnFailed {
        /// Which disc of the set.
        disc: DiscNo,
        /// What happened.
        detail: String,
    },
    /// A burnt disc did not read back as it was meant.
    VerifyFailed {
        /// Which disc of the set.
        disc: DiscNo,
        /// How many files differ or could not be read.
        bad_files: u32,
    },
    /// The sync from the server failed; the box retries by itself later.
    SyncFailed {
        /// What happened.
        detail: String,
    },
    /// The server's host key differs from the one in the settings.
    HostKeyChanged,
    /// The data partition is too full to sync.
    StorageFull {
        /// Bytes free.
        free_bytes: u64,
    },
    /// A bug: the station cannot go on.
    Internal {
        /// What happened.
        detail: String,
    },
}

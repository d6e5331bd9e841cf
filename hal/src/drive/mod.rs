//! `Drive`: an optical drive over any [`Transport`]: who it is, whether it is ready, what
//! medium it holds, and the tray.
//!
//! This layer turns MMC answers into facts a burn can rely on, the way libburn and
//! growisofs read them (mmc.md sections 1 and 2): READ TRACK INFORMATION on track FFh only
//! where that names the invisible track, lengths asked for twice, and no second-guessing of
//! odd but real combinations (R3). Optional commands a drive or emulator does not support
//! (READ FORMAT CAPACITIES, GET EVENT STATUS NOTIFICATION, GET PERFORMANCE, READ BUFFER
//! CAPACITY, MODE SENSE 2Ah) never fail a query: another source is used where one exists,
//! and the fallback is logged and listed in the result. The burn sequences are in [`burn`]
//! and read-back in [`readback`]; the rest of this module never writes to the medium.
//!
//! The submodules add methods to [`Drive`] and report its errors, so they import this
//! module while it declares and re-exports them: that parent-and-child pair is the only
//! two-way import here (the submodules import each other one way).

pub mod burn;
mod disc_reader;
mod info;
mod presence;
pub mod readback;

use std::fmt;
use std::time::{Duration, Instant};

use crate::mmc::config::{GetConfiguration, RequestType};
use crate::mmc::disc::{ReadCapacity, ReadDiscInformation};
use crate::mmc::event::{GetEventStatusNotification, MediaEvent};
use crate::mmc::unit::{PreventAllowMediumRemoval, StartStopAction, StartStopUnit, TestUnitReady};
use crate::mmc::write::{Read10, Read12};
use crate::mmc::{self, Command, DataIn, Profile, QueryError};
use crate::scsi::{
    CommandError, DataTransfer, Sense, SenseClass, SenseKey, Status, Transport, TransportError,
    execute,
};

pub use burn::{
    BurnError, BurnEvent, BurnOptions, BurnPhase, BurnPlan, BurnReport, ImageSource,
    InterruptedDisc, Method, SpeedRequest, WriteProgress, interrupted_burn,
};
pub use disc_reader::DiscReader;
pub use info::{DriveInfo, FormatState, MediaInfo, WriteSpeed};
pub use readback::{
    ReadBackError, ReadBackOptions, ReadProgress, SectorMap, SectorQuality, SectorRun,
};

pub use crate::mmc::BLOCK_SIZE;

/// An optical drive.
pub struct Drive<T: Transport> {
    transport: T,
    sleep: fn(Duration),
}

impl<T: Transport> fmt::Debug for Drive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drive")
            .field("device", &self.transport.name())
            .finish()
    }
}

/// Why the drive is not ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// No disc (xx/3A/xx).
    #[error("{}", if *.tray_open {
        "the tray is open and empty: put a disc in and close the tray"
    } else {
        "there is no disc in the drive: insert a disc"
    })]
    NoMedium {
        /// The drive said the tray is open (3A/02, or a GESN media status).
        tray_open: bool,
    },
    /// Still busy when the time ran out.
    #[error("the drive is still not ready after {} s ({last}): wait a minute and try again, \
             or eject and re-insert the disc", .waited.as_secs())]
    Timeout {
        /// How long we waited.
        waited: Duration,
        /// The last thing the drive said.
        last: Sense,
    },
    /// The drive needs something waiting will not give it.
    #[error(
        "the drive is not ready ({0}): eject and re-insert the disc; if that does not help, \
             unplug the drive and plug it in again"
    )]
    Stuck(Sense),
}

/// A drive operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// INQUIRY says this is not an optical drive.
    #[error(
        "{device} is not an optical drive (it reports SCSI device type {peripheral_type:#04x}): \
             give the burner's device, such as /dev/sr0"
    )]
    NotOptical {
        /// The transport's name.
        device: String,
        /// INQUIRY byte 0 bits 4-0.
        peripheral_type: u8,
    },
    /// Not ready, or no medium.
    #[error("{device}: {reason}")]
    NotReady {
        /// The transport's name.
        device: String,
        /// Why.
        reason: NotReady,
    },
    /// A command failed.
    #[error("{device}: {source}; {}", hint(.source))]
    Command {
        /// The transport's name.
        device: String,
        /// What failed.
        #[source]
        source: CommandError,
    },
    /// A command's answer made no sense.
    #[error(
        "{device}: {source}; the drive may need a firmware update, or a reset (unplug it \
             and plug it in again)"
    )]
    BadAnswer {
        /// The transport's name.
        device: String,
        /// What was wrong.
        #[source]
        source: QueryError,
    },
    /// The caller's buffer does not match the blocks asked for.
    #[error("internal error: a {len}-byte buffer cannot hold {count} blocks of {BLOCK_SIZE} bytes")]
    BufferSize {
        /// Blocks asked for.
        count: u32,
        /// Buffer length.
        len: usize,
    },
}

impl DriveError {
    /// The sense of the failed command, if the drive sent one.
    pub fn sense(&self) -> Option<&Sense> {
        match self {
            DriveError::Command { source, .. } => source.sense(),
            _ => None,
        }
    }
}

/// What a person should do about a failed command, by its class.
fn hint(e: &CommandError) -> &'static str {
    if let CommandError::Transport { source, .. } = e {
        return match source {
            TransportError::Gone => "plug the drive back in",
            TransportError::Timeout { .. } => {
                "the drive stopped answering: unplug it and plug it in again"
            }
            _ => "check the drive's cable and power supply",
        };
    }
    match e.class() {
        Some(SenseClass::MediumError) | Some(SenseClass::BlankCheck) => {
            "the disc may be damaged or of poor quality: try another disc"
        }
        Some(SenseClass::IncompatibleMedium) => {
            "this disc cannot be used for this: use another disc"
        }
        Some(SenseClass::HardwareError) => {
            "the drive reported a fault: unplug it and plug it in again; if it persists, the drive needs repair"
        }
        Some(SenseClass::DataProtect) => "the disc is write-protected: use another disc",
        Some(SenseClass::NoMedium) => "insert a disc",
        Some(SenseClass::WaitAndRetry) | Some(SenseClass::UnitAttention) => {
            "wait a moment and try again"
        }
        Some(SenseClass::Unsupported) => "this drive does not support it",
        _ => "this is probably a bug in the burn station: please report it with this message",
    }
}

/// The first and the longest wait between TEST UNIT READY polls.
const FIRST_WAIT: Duration = Duration::from_millis(100);
const LONGEST_WAIT: Duration = Duration::from_secs(2);
/// Unit attentions in a row before the drive is considered stuck: each one is consumed by
/// the TUR that reports it, so a healthy drive runs out after two or three.
const MAX_UNIT_ATTENTIONS: u32 = 16;

impl<T: Transport> Drive<T> {
    /// A drive over `transport`.
    pub fn new(transport: T) -> Drive<T> {
        Drive {
            transport,
            sleep: std::thread::sleep,
        }
    }

    /// Replaces how the drive waits between polls (tests make waiting instant).
    pub fn set_sleep(&mut self, sleep: fn(Duration)) {
        self.sleep = sleep;
    }

    /// The transport's name (`/dev/sr0`).
    pub fn name(&self) -> &str {
        self.transport.name()
    }

    /// The transport, for commands this type does not wrap.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    fn command_error(&self, source: CommandError) -> DriveError {
        DriveError::Command {
            device: self.name().to_string(),
            source,
        }
    }

    fn query_error(&self, e: QueryError) -> DriveError {
        match e {
            QueryError::Command(source) => self.command_error(source),
            parse @ QueryError::Parse { .. } => DriveError::BadAnswer {
                device: self.name().to_string(),
                source: parse,
            },
        }
    }

    fn not_ready(&self, reason: NotReady) -> DriveError {
        DriveError::NotReady {
            device: self.name().to_string(),
            reason,
        }
    }

    /// Runs a data-in command, resending it after a unit attention (the attention is
    /// consumed by the command that reports it: mmc.md 2.4).
    fn query<C: DataIn>(&mut self, cmd: &C) -> Result<C::Response, QueryError> {
        let mut attempts = 0;
        loop {
            match mmc::query(&mut self.transport, cmd) {
                Err(QueryError::Command(e))
                    if e.class() == Some(SenseClass::UnitAttention) && attempts < 3 =>
                {
                    tracing::debug!(device = self.name(), error = %e, "unit attention consumed");
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    /// Runs a command without data, resending it after a unit attention.
    fn run<C: Command>(&mut self, cmd: &C) -> Result<(), DriveError> {
        let mut attempts = 0;
        loop {
            match mmc::run(&mut self.transport, cmd) {
                Err(e) if e.class() == Some(SenseClass::UnitAttention) && attempts < 3 => {
                    attempts += 1;
                }
                Err(e) => return Err(self.command_error(e)),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// Runs an optional query: unsupported commands, refusals and nonsense answers become
    /// `None` plus a note in `fallbacks`; a drive that is gone is still an error.
    fn optional<C: DataIn>(
        &mut self,
        cmd: &C,
        what: &str,
        fallbacks: &mut Vec<String>,
    ) -> Result<Option<C::Response>, DriveError> {
        self.optional_query(cmd, what, fallbacks, false)
    }

    /// Like [`Drive::optional`], but a medium that disappeared (xx/3A/xx) is an error: the
    /// answers gathered so far describe a disc that is no longer there.
    fn optional_on_medium<C: DataIn>(
        &mut self,
        cmd: &C,
        what: &str,
        fallbacks: &mut Vec<String>,
    ) -> Result<Option<C::Response>, DriveError> {
        self.optional_query(cmd, what, fallbacks, true)
    }

    fn optional_query<C: DataIn>(
        &mut self,
        cmd: &C,
        what: &str,
        fallbacks: &mut Vec<String>,
        medium_required: bool,
    ) -> Result<Option<C::Response>, DriveError> {
        match self.query(cmd) {
            Ok(r) => Ok(Some(r)),
            Err(QueryError::Command(e @ CommandError::Transport { .. })) => {
                Err(self.command_error(e))
            }
            Err(QueryError::Command(e))
                if medium_required && e.class() == Some(SenseClass::NoMedium) =>
            {
                let tray_open = e.sense().is_some_and(|s| s.ascq == 0x02);
                Err(self.not_ready(NotReady::NoMedium { tray_open }))
            }
            Err(e) => {
                let note = format!("{what}: {e}");
                tracing::info!(device = self.name(), "{note}");
                fallbacks.push(note);
                Ok(None)
            }
        }
    }

    /// Polls TEST UNIT READY until the drive is ready, for at most `timeout`.
    ///
    /// Unit attentions (6/28 medium changed, 6/29 reset) are consumed; becoming ready,
    /// format, operation and long write in progress (2/04/01, 04, 07, 08) are waited out
    /// with growing pauses; a drive that needs a START UNIT (2/04/02) gets one. No medium
    /// is answered at once with [`NotReady::NoMedium`].
    pub fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), DriveError> {
        let start = Instant::now();
        let mut waited = Duration::ZERO;
        let mut pause = FIRST_WAIT;
        let mut attentions = 0;
        let mut started = false;
        loop {
            let last = match mmc::run(&mut self.transport, &TestUnitReady) {
                Ok(()) => return Ok(()),
                Err(CommandError::Check { sense, .. }) => sense,
                Err(CommandError::Status {
                    status: Status::Busy | Status::TaskSetFull,
                    ..
                }) => Sense::new(SenseKey::NotReady, 0x04, 0x00),
                Err(e) => return Err(self.command_error(e)),
            };
            match last.class() {
                SenseClass::UnitAttention => {
                    attentions += 1;
                    if attentions > MAX_UNIT_ATTENTIONS {
                        return Err(self.not_ready(NotReady::Stuck(last)));
                    }
                    tracing::debug!(device = self.name(), sense = %last, "unit attention consumed");
                    continue;
                }
                SenseClass::NoMedium => {
                    let tray_open = last.ascq == 0x02;
                    return Err(self.not_ready(NotReady::NoMedium { tray_open }));
                }
                SenseClass::Recovered => return Ok(()),
                SenseClass::WaitAndRetry => {}
                SenseClass::NotReady if (last.asc, last.ascq) == (0x04, 0x02) => {
                    // "Initializing command required": spin it up once, then wait.
                    if !started {
                        started = true;
                        let start_unit = StartStopUnit {
                            action: StartStopAction::Start,
                            immediate: true,
                        };
                        if let Err(e) = mmc::run(&mut self.transport, &start_unit) {
                            tracing::info!(device = self.name(), error = %e, "START UNIT refused");
                        }
                    }
                }
                SenseClass::NotReady => return Err(self.not_ready(NotReady::Stuck(last))),
                _ => {
                    return Err(self.command_error(CommandError::Check {
                        opcode: TestUnitReady::OPCODE,
                        sense: last,
                    }));
                }
            }
            let elapsed = start.elapsed().max(waited);
            if elapsed >= timeout {
                return Err(self.not_ready(NotReady::Timeout {
                    waited: elapsed,
                    last,
                }));
            }
            let nap = pause.min(timeout - elapsed);
            (self.sleep)(nap);
            waited += nap;
            pause = (pause * 3 / 2).min(LONGEST_WAIT);
        }
    }

    /// Recovers a drive that stopped answering: resets it (the last step of recovery; a
    /// USB burner's transport resets its USB device) and waits for it to answer again.
    /// Returns what came of it, as a clause for the message that reports the hang.
    pub(crate) fn recover_from_hang(&mut self) -> String {
        match self.transport.reset() {
            Ok(()) => match self.wait_until_ready(Duration::from_secs(30)) {
                Ok(()) => "it was reset and answers again".to_string(),
                Err(e) => format!(
                    "it was reset but is still not ready ({e}); unplug it and plug it in again"
                ),
            },
            Err(e) => format!("resetting it failed ({e})"),
        }
    }

    /// Locks the tray (PREVENT ALLOW MEDIUM REMOVAL, prevent).
    pub fn lock_tray(&mut self) -> Result<(), DriveError> {
        self.run(&PreventAllowMediumRemoval { prevent: true })
    }

    /// Unlocks the tray.
    pub fn unlock_tray(&mut self) -> Result<(), DriveError> {
        self.run(&PreventAllowMediumRemoval { prevent: false })
    }

    /// Unlocks and opens the tray (a locked drive refuses to eject with 5/53/02).
    pub fn eject(&mut self) -> Result<(), DriveError> {
        self.unlock_tray()?;
        self.run(&StartStopUnit {
            action: StartStopAction::Eject,
            immediate: false,
        })
    }

    /// Closes the tray and loads the disc.
    pub fn load(&mut self) -> Result<(), DriveError> {
        self.run(&StartStopUnit {
            action: StartStopAction::Load,
            immediate: false,
        })
    }

    /// Polls GET EVENT STATUS NOTIFICATION for a media event; `None` when the drive does
    /// not support it or has nothing to report.
    pub fn media_event(&mut self) -> Result<Option<MediaEvent>, DriveError> {
        let mut ignored = Vec::new();
        let status = self.optional(
            &GetEventStatusNotification::default(),
            "media events are not available",
            &mut ignored,
        )?;
        Ok(status.and_then(|s| s.media))
    }

    /// Reads `count` blocks from `lba` into `buf` (exactly `count` × 2048 bytes), with
    /// READ(10) where it can express the request and READ(12) otherwise.
    pub fn read_blocks(&mut self, lba: u32, count: u32, buf: &mut [u8]) -> Result<(), DriveError> {
        if buf.len() != count as usize * BLOCK_SIZE {
            return Err(DriveError::BufferSize {
                count,
                len: buf.len(),
            });
        }
        let cdb = match u16::try_from(count) {
            Ok(blocks) => Read10 {
                lba,
                blocks,
                fua: false,
            }
            .cdb(),
            Err(_) => Read12 {
                lba,
                blocks: count,
                streaming: false,
                fua: false,
            }
            .cdb(),
        };
        let timeout = Read10 {
            lba,
            blocks: 0,
            fua: false,
        }
        .timeout();
        execute(
            &mut self.transport,
            cdb.as_bytes(),
            DataTransfer::FromDevice(buf),
            timeout,
        )
        .map(|_| ())
        .map_err(|e| self.command_error(e))
    }

    /// The current profile, from the GET CONFIGURATION header (cheap: header only).
    pub fn current_profile(&mut self) -> Result<Profile, DriveError> {
        let cmd = GetConfiguration {
            request: RequestType::One,
            starting_feature: 0,
            allocation_length: 8,
        };
        let mut attempts = 0;
        let raw = loop {
            match mmc::read_raw(&mut self.transport, &cmd) {
                Err(e) if e.class() == Some(SenseClass::UnitAttention) && attempts < 3 => {
                    attempts += 1;
                }
                other => break other.map_err(|e| self.command_error(e))?,
            }
        };
        GetConfiguration::parse(&raw)
            .map(|c| c.current_profile)
            .map_err(|source| {
                self.query_error(QueryError::Parse {
                    opcode: GetConfiguration::OPCODE,
                    source,
                })
            })
    }

    fn read_capacity(&mut self, fallbacks: &mut Vec<String>) -> Result<u64, DriveError> {
        Ok(self
            .optional_on_medium(
                &ReadCapacity,
                "READ CAPACITY failed, readable capacity taken as 0",
                fallbacks,
            )?
            .map(|c| c.readable_blocks())
            .unwrap_or(0))
    }

    fn disc_information(&mut self) -> Result<crate::mmc::disc::DiscInformation, DriveError> {
        self.query(&ReadDiscInformation::new())
            .map_err(|e| self.query_error(e))
    }
}

#[cfg(test)]
mod tests;

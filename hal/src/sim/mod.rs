//! SimDrive: an MMC burner in software, behind the same [`Transport`] as a real drive.
//!
//! It is the device side, written from the MMC tables (`mmc.md`) independently of the
//! host-side command layer: it decodes raw CDB bytes and builds raw reply bytes itself. It
//! holds a medium of any emulated profile (CD-R/RW, DVD-R/-RW, DVD-R DL, DVD+R, DVD+R DL,
//! DVD+RW, BD-R, BD-RE, a finalized ROM image, or none), whose sectors and state live in
//! files so a disc outlives the process; paces writes through a drive buffer like a real
//! burner; and shows faults on demand (not ready, long write in progress, write and read
//! errors, medium removal, a hang, a power cut). Every command it receives is recorded.
//!
//! - [`SimConfig`] and the `sim:PATH?option=value` spec (`config`).
//! - The medium, its file and state rules (`medium`), GET CONFIGURATION (`features`), mode
//!   pages (`pages`), the buffer and clock (`pacing`), faults (`faults`), sense data
//!   (`sense`), and the command handlers (`respond`, `recording`).
//!
//! Use [`SimDrive::open`] to get a drive, [`SimDrive::control`] for a [`SimControl`] that
//! injects faults and inspects the drive from any thread while a burn runs.
//!
//! Library code: it never prints, and reports failures to open as [`SimError`].

mod config;
mod faults;
mod features;
mod medium;
mod pacing;
mod pages;
mod recording;
mod respond;
mod sense;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::mmc::Profile;
use crate::scsi::{Completion, DataTransfer, Status, Transport, TransportError};

pub use config::{
    ClockMode, DEFAULT_BUFFER_BYTES, DriveIdentity, FaultPlan, MIN_BUFFER_BYTES, SimConfig,
    SpecError, UnreadableSector,
};
pub use medium::{BackgroundFormat, DiscStatus, MediumError, SessionState, TrackMode};

use faults::Faults;
use medium::Medium;
use pacing::{Clock, DriveBuffer};
use pages::WriteParameters;
use sense::Sense;

/// The software drive could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The device spec is not usable.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The medium could not be opened or created.
    #[error(transparent)]
    Medium(#[from] MediumError),
}

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
    cdb: [u8; 16],
    cdb_len: u8,
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

/// What the handlers tell the execution loop.
#[derive(Debug)]
pub(crate) enum Step {
    /// The command is answered.
    Done(Completion),
    /// The drive cannot take the command before this time: run it again then.
    RetryAt(Duration),
    /// Answer with this completion once the running operation has finished.
    AfterOperation(Completion),
    /// No answer at all.
    Fail(TransportError),
}

/// A long operation the drive is busy with (started by SYNCHRONIZE CACHE, CLOSE, BLANK,
/// FORMAT UNIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    pub(crate) kind: OperationKind,
    pub(crate) started: Duration,
    pub(crate) ends: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    /// Burning the buffer; at the end the medium learns the flush happened.
    Synchronize,
    Closing,
    Blanking,
    Formatting,
}

/// GESN media event codes (`mmc.md` 1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaEvent {
    NewMedia = 2,
    MediaRemoval = 3,
}

/// Everything the drive is, behind one lock.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: SimConfig,
    pub(crate) clock: Clock,
    pub(crate) tray_open: bool,
    pub(crate) medium: Option<Medium>,
    /// What an empty drive answers: 3A/01 tray closed, 3A/02 open, 3A/00 pulled out.
    pub(crate) no_medium: Sense,
    pub(crate) locked: bool,
    pub(crate) attentions: VecDeque<Sense>,
    pub(crate) events: VecDeque<MediaEvent>,
    pub(crate) write_params: WriteParameters,
    /// Write and read speeds asked for by SET STREAMING / SET CD SPEED, bytes per second.
    pub(crate) requested_write: Option<u64>,
    pub(crate) requested_read: Option<u64>,
    pub(crate) buffer: DriveBuffer,
    pub(crate) operation: Option<Operation>,
    /// DVD+RW background format: when it last (re)started and how far it was then.
    pub(crate) background_anchor: Option<(Duration, u32)>,
    pub(crate) faults: Faults,
    /// The commands received, oldest first (the most recent ones only, with a log limit).
    pub(crate) log: VecDeque<RecordedCommand>,
    /// Bumped by every power cut: a command in flight then gets no answer.
    pub(crate) power_generation: u64,
    /// Bumped by every change made through [`SimControl`], to wake a waiting command.
    pub(crate) control_generation: u64,
    /// Blocks accepted since the state was last saved.
    pub(crate) unsaved_blocks: u64,
}

/// Save the state at least this often while writing (64 MiB), so a killed process leaves a
/// disc close to what a real one would show.
const SAVE_EVERY_BLOCKS: u64 = 32 * 1024;

impl Core {
    fn new(config: SimConfig) -> Result<Core, SimError> {
        let medium = match &config.medium {
            Some(path) => Some(Medium::open(path, config.profile, config.capacity)?),
            None => None,
        };
        let faults = Faults::from_plan(&config.faults);
        Ok(Core {
            clock: Clock::new(config.clock),
            tray_open: false,
            medium,
            no_medium: sense::NO_MEDIUM_TRAY_CLOSED,
            locked: false,
            attentions: VecDeque::from([sense::POWER_ON_RESET]),
            events: VecDeque::from([MediaEvent::NewMedia]),
            write_params: WriteParameters::default(),
            requested_write: None,
            requested_read: None,
            buffer: DriveBuffer::new(config.buffer_bytes),
            operation: None,
            background_anchor: None,
            faults,
            log: VecDeque::new(),
            power_generation: 0,
            control_generation: 0,
            unsaved_blocks: 0,
            config,
        })
    }

    /// The medium the host can reach (in the drive, tray closed).
    pub(crate) fn loaded(&self) -> Option<&Medium> {
        self.medium.as_ref().filter(|_| !self.tray_open)
    }

    /// The medium, or the sense an empty drive answers.
    pub(crate) fn need_medium(&self) -> Result<&Medium, Sense> {
        self.loaded().ok_or(if self.tray_open {
            sense::NO_MEDIUM_TRAY_OPEN
        } else {
            self.no_medium
        })
    }

    pub(crate) fn need_medium_mut(&mut self) -> Result<&mut Medium, Sense> {
        let missing = if self.tray_open {
            sense::NO_MEDIUM_TRAY_OPEN
        } else {
            self.no_medium
        };
        match self.medium.as_mut() {
            Some(m) if !self.tray_open => Ok(m),
            _ => Err(missing),
        }
    }

    pub(crate) fn paced(&self) -> bool {
        self.config.speed > 0.0
    }

    fn family(&self) -> crate::mmc::MediaFamily {
        self.loaded()
            .map_or(crate::mmc::MediaFamily::Dvd, Medium::family)
    }

    /// The fastest write rate for the medium in the drive, bytes per second.
    pub(crate) fn max_write_rate(&self) -> u64 {
        let family = self.family();
        let x = if self.paced() {
            self.config.speed
        } else {
            pacing::nominal_max_x(family)
        };
        (x * pacing::one_x_bytes_per_sec(family) as f64).round() as u64
    }

    /// Write rates on offer, fastest first.
    pub(crate) fn offered_write_rates(&self) -> Vec<u64> {
        pacing::offered_rates(self.max_write_rate())
    }

    /// The write rate in force: the requested one rounded down to an offered one.
    pub(crate) fn write_rate(&self) -> u64 {
        let offered = self.offered_write_rates();
        match self.requested_write {
            Some(requested) => pacing::rate_for_request(&offered, requested),
            None => offered[0],
        }
    }

    /// The read rate reported (reads are not paced).
    pub(crate) fn read_rate(&self) -> u64 {
        let family = self.family();
        let max =
            (pacing::nominal_max_x(family) * pacing::one_x_bytes_per_sec(family) as f64) as u64;
        self.requested_read.map_or(max, |r| r.clamp(1000, max))
    }

    /// The rate the buffer drains at, or None when unpaced.
    pub(crate) fn pacing_rate(&self) -> Option<u64> {
        self.paced().then(|| self.write_rate())
    }

    /// Brings time-driven state up to now: burns buffered data, ends a finished operation,
    /// moves a background format on.
    pub(crate) fn settle(&mut self) -> std::io::Result<()> {
        let now = self.clock.now();
        if let (Some(rate), Some(medium)) = (self.pacing_rate(), self.medium.as_ref()) {
            self.buffer
                .drain_until(now, rate, |lba, bytes| medium.store(lba, bytes))?;
            if let Some(stream) = self.buffer.take_burnt_stream() {
                log_burnt_stream(&stream, rate);
            }
        }
        if let Some(op) = self.operation
            && now >= op.ends
        {
            self.operation = None;
            self.finish_operation(op)?;
        }
        self.advance_background_format(now);
        Ok(())
    }

    fn finish_operation(&mut self, op: Operation) -> std::io::Result<()> {
        let Some(medium) = self.medium.as_mut() else {
            return Ok(());
        };
        self.buffer
            .drain_all(|lba, bytes| medium.store(lba, bytes))?;
        if op.kind == OperationKind::Synchronize {
            medium.after_sync(&self.write_params);
        }
        self.unsaved_blocks = 0;
        medium.save(&[])
    }

    fn advance_background_format(&mut self, now: Duration) {
        let Some(medium) = self.medium.as_mut() else {
            return;
        };
        match medium.background_format() {
            Some((done, BackgroundFormat::Running)) => {
                if self.config.speed <= 0.0 {
                    // Unpaced: the drive formats infinitely fast too.
                    medium.set_background_progress(medium.capacity());
                    return;
                }
                // De-icing runs at the drive's top speed, writes or not.
                let rate = pacing::one_x_bytes_per_sec(medium.family()) as f64 * self.config.speed;
                let (since, done_then) = *self.background_anchor.get_or_insert((now, done));
                let elapsed = now.saturating_sub(since).as_secs_f64();
                let blocks = (elapsed * rate / medium::SECTOR_BYTES as f64) as u64;
                let progress = (done_then as u64 + blocks).min(u32::MAX as u64) as u32;
                medium.set_background_progress(progress);
            }
            _ => self.background_anchor = None,
        }
    }

    /// The sense a busy drive answers, with progress; None when idle.
    pub(crate) fn busy_sense(&self) -> Option<Sense> {
        let op = self.operation?;
        let now = self.clock.now();
        let total = op.ends.saturating_sub(op.started).as_nanos();
        let done = now.saturating_sub(op.started).as_nanos();
        let progress = sense::progress_fraction(done, total);
        let base = if op.kind == OperationKind::Formatting {
            sense::FORMAT_IN_PROGRESS
        } else {
            sense::OPERATION_IN_PROGRESS
        };
        Some(base.with_progress(progress))
    }

    /// On a virtual clock a busy answer stands for the host waiting before it asks again:
    /// an eighth of the operation passes.
    pub(crate) fn pass_poll_interval(&mut self) {
        if let (true, Some(op)) = (self.clock.is_virtual(), self.operation) {
            let step = (op.ends.saturating_sub(op.started) / 8).max(Duration::from_millis(1));
            let now = self.clock.now();
            self.clock.advance_to(now + step);
        }
    }

    /// Starts a long operation of `work` blocks' worth of writing (after the buffer drains).
    pub(crate) fn start_operation(
        &mut self,
        kind: OperationKind,
        work: u64,
    ) -> std::io::Result<()> {
        let now = self.clock.now();
        let drain = self.pacing_rate().map_or(Duration::ZERO, |rate| {
            self.buffer.time_until_empty(now, rate)
        });
        let work_time = self.pacing_rate().map_or(Duration::ZERO, |rate| {
            pacing::time_for(work * medium::SECTOR_BYTES as u64, rate)
        });
        let op = Operation {
            kind,
            started: now,
            ends: now + drain + work_time,
        };
        if op.ends <= now {
            self.finish_operation(op)
        } else {
            self.operation = Some(op);
            Ok(())
        }
    }

    /// Power fails and comes back: the buffer's contents are lost, any operation stops, the
    /// drive forgets its settings and reports 6/29/00.
    pub(crate) fn power_cycle(&mut self) {
        // Whatever the drive had burnt by now (or finished doing) stays; only the rest is lost.
        let _ = self.settle();
        let lost = self.buffer.discard();
        if let Some(medium) = self.medium.as_mut() {
            medium.lose(&lost);
            medium.suspend_background_format();
            // A failed save leaves the previous state on disk, which a real disc would not
            // show either way; there is no one to tell.
            let _ = medium.save(&[]);
        }
        self.operation = None;
        self.background_anchor = None;
        self.locked = false;
        self.write_params = WriteParameters::default();
        self.requested_write = None;
        self.requested_read = None;
        self.faults.hung = false;
        self.attentions.clear();
        self.attentions.push_back(sense::POWER_ON_RESET);
        self.events.clear();
        self.unsaved_blocks = 0;
        self.power_generation += 1;
    }

    /// The medium leaves the drive without warning (pulled out mid-burn): what was still in
    /// the buffer is lost, the disc keeps what was burnt.
    pub(crate) fn pull_medium(&mut self) {
        let _ = self.settle();
        let lost = self.buffer.discard();
        if let Some(medium) = self.medium.as_mut() {
            medium.lose(&lost);
            let _ = medium.save(&[]);
        }
        if self.medium.take().is_some() {
            self.events.push_back(MediaEvent::MediaRemoval);
        }
        self.operation = None;
        self.background_anchor = None;
        self.no_medium = sense::NO_MEDIUM;
    }

    /// Saves the state with whatever is still in the buffer counted as not burnt.
    pub(crate) fn save_burnt(&mut self) -> std::io::Result<()> {
        self.unsaved_blocks = 0;
        let pending: Vec<_> = self.buffer.pending().copied().collect();
        match &self.medium {
            Some(medium) => medium.save(&pending),
            None => Ok(()),
        }
    }

    /// The host went away but the drive keeps power: it burns its buffer, finishes what it
    /// was doing, and the disc keeps it all.
    fn shut_down(&mut self) -> std::io::Result<()> {
        if let Some(medium) = self.medium.as_ref() {
            self.buffer
                .drain_all(|lba, bytes| medium.store(lba, bytes))?;
        }
        if let Some(op) = self.operation.take() {
            self.finish_operation(op)?;
        }
        self.save_burnt()
    }

    fn record(
        &mut self,
        cdb: &[u8],
        data_out: usize,
        outcome: &Result<Completion, TransportError>,
    ) {
        let mut bytes = [0u8; 16];
        let len = cdb.len().min(16);
        bytes[..len].copy_from_slice(&cdb[..len]);
        let (data_in, result) = match outcome {
            Ok(c) if c.status == Status::Good => (c.transferred, CommandResult::Good),
            Ok(c) => (
                c.transferred,
                CommandResult::CheckCondition {
                    key: c.sense.get(2).map_or(0, |k| k & 0x0f),
                    asc: c.sense.get(12).copied().unwrap_or(0),
                    ascq: c.sense.get(13).copied().unwrap_or(0),
                },
            ),
            Err(TransportError::Timeout { .. }) => (0, CommandResult::Timeout),
            Err(_) => (0, CommandResult::Gone),
        };
        let data_in = if data_out > 0 { 0 } else { data_in };
        if let Some(limit) = self.config.command_log_limit {
            if limit == 0 {
                return;
            }
            if self.log.len() >= limit {
                self.log.pop_front();
            }
        }
        self.log.push_back(RecordedCommand {
            cdb: bytes,
            cdb_len: len as u8,
            data_out,
            data_in,
            result,
        });
    }

    fn snapshot(&self) -> Option<MediumSnapshot> {
        let medium = self.medium.as_ref()?;
        let (disc_status, last_session) = medium.disc_status();
        let tracks = if medium.is_sequential() {
            medium
                .state
                .tracks
                .iter()
                .map(|t| TrackSnapshot {
                    number: t.number,
                    session: t.session,
                    start: t.start,
                    recorded: t.recorded,
                    reserved: t.reserved,
                    closed_size: t.closed_size,
                    mode: t.mode,
                    damaged: t.damaged,
                })
                .collect()
        } else {
            Vec::new()
        };
        let next_writable_address = if medium.is_sequential() {
            medium
                .state
                .tracks
                .iter()
                .rev()
                .find_map(|t| medium.track_view(t.number).and_then(|v| v.next_writable))
        } else {
            None
        };
        Some(MediumSnapshot {
            path: medium.path().to_path_buf(),
            profile: medium.profile(),
            disc_status,
            last_session,
            sessions: medium.session_count(),
            closed_sessions: medium.state.closed_sessions,
            tracks,
            next_writable_address,
            capacity: medium.capacity(),
            formatted: medium.is_formatted(),
            background_format: medium.background_format().map(|(_, s)| s),
            minimally_blanked: medium.state.minimally_blanked,
        })
    }
}

#[derive(Debug)]
struct Shared {
    core: Mutex<Core>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `until` on the drive's clock (a virtual clock just jumps). Returns early
    /// when the power fails or a [`SimControl`] changes something.
    fn sleep_until<'a>(
        &'a self,
        mut core: MutexGuard<'a, Core>,
        until: Duration,
    ) -> MutexGuard<'a, Core> {
        if core.clock.is_virtual() {
            core.clock.advance_to(until);
            return core;
        }
        let (power, control) = (core.power_generation, core.control_generation);
        loop {
            let now = core.clock.now();
            if now >= until || core.power_generation != power || core.control_generation != control
            {
                return core;
            }
            core = self
                .wake
                .wait_timeout(core, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits out a hang: until `until`, and only a power cut ends it early.
    fn sleep_hung<'a>(
        &'a self,
        mut core: MutexGuard<'a, Core>,
        until: Duration,
    ) -> MutexGuard<'a, Core> {
        let power = core.power_generation;
        while core.clock.now() < until && core.power_generation == power {
            core = self.sleep_until(core, until);
        }
        core
    }
}

/// An MMC burner in software. See the [module documentation](self).
#[derive(Debug)]
pub struct SimDrive {
    name: String,
    shared: Arc<Shared>,
}

impl SimDrive {
    /// Opens a drive as configured, creating a blank medium if the medium file does not
    /// exist. The first command sees 6/29/00 (power on), as after plugging a burner in.
    pub fn open(config: SimConfig) -> Result<SimDrive, SimError> {
        let name = config.spec();
        let core = Core::new(config)?;
        Ok(SimDrive {
            name,
            shared: Arc::new(Shared {
                core: Mutex::new(core),
                wake: Condvar::new(),
            }),
        })
    }

    /// Opens the drive a `sim:` spec names.
    pub fn open_spec(spec: &str) -> Result<SimDrive, SimError> {
        SimDrive::open(SimConfig::from_spec(spec)?)
    }

    /// A handle that inspects this drive and injects faults, usable from any thread.
    pub fn control(&self) -> SimControl {
        SimControl {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Transport for SimDrive {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        let data_out = match &data {
            DataTransfer::ToDevice(bytes) => bytes.len(),
            _ => 0,
        };
        let shared = &*self.shared;
        let mut core = shared.lock();
        let deadline = core.clock.now() + timeout;
        let power = core.power_generation;
        let outcome = loop {
            if core.power_generation != power {
                break Err(TransportError::Gone);
            }
            if core.faults.hung {
                core = shared.sleep_hung(core, deadline);
                if core.power_generation != power {
                    break Err(TransportError::Gone);
                }
                break Err(TransportError::Timeout { after: timeout });
            }
            match respond::handle(&mut core, cdb, &mut data) {
                Step::Done(completion) => break Ok(completion),
                Step::Fail(error) => break Err(error),
                Step::RetryAt(when) => {
                    if when > deadline {
                        core = shared.sleep_until(core, deadline);
                        break Err(TransportError::Timeout { after: timeout });
                    }
                    core = shared.sleep_until(core, when);
                }
                Step::AfterOperation(completion) => {
                    let finished = loop {
                        let Some(ends) = core.operation.map(|op| op.ends) else {
                            break Ok(completion);
                        };
                        if ends > deadline {
                            // The host gives up; the drive carries on (as after Immed).
                            core = shared.sleep_until(core, deadline);
                            break Err(TransportError::Timeout { after: timeout });
                        }
                        core = shared.sleep_until(core, ends);
                        if core.power_generation != power {
                            break Err(TransportError::Gone);
                        }
                        if let Err(e) = core.settle() {
                            break Err(TransportError::Io(e));
                        }
                    };
                    break finished;
                }
            }
        };
        core.record(cdb, data_out, &outcome);
        outcome
    }

    fn name(&self) -> &str {
        &self.name
    }

    /// Resets the drive: a hang ends, the buffer is lost, and the next command sees 6/29/00.
    fn reset(&mut self) -> Result<(), TransportError> {
        let mut core = self.shared.lock();
        core.power_cycle();
        Ok(())
    }
}

impl Drop for SimDrive {
    fn drop(&mut self) {
        let mut core = self.shared.lock();
        // Nobody is left to hear about a failure to write the medium file.
        let _ = core.shut_down();
        if core.paced() {
            tracing::info!(
                drive = %self.name,
                underruns = core.buffer.underruns(),
                "SimDrive closed"
            );
        }
    }
}

/// Inspects a [`SimDrive`] and injects faults, from any thread, while it runs.
#[derive(Debug, Clone)]
pub struct SimControl {
    shared: Arc<Shared>,
}

impl SimControl {
    fn change(&self, f: impl FnOnce(&mut Core)) {
        let mut core = self.shared.lock();
        f(&mut core);
        core.control_generation += 1;
        drop(core);
        self.shared.wake.notify_all();
    }

    /// Every command received so far (only the most recent ones when
    /// [`SimConfig::command_log_limit`] says so), oldest first.
    pub fn commands(&self) -> Vec<RecordedCommand> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// Forgets the recorded commands.
    pub fn clear_commands(&self) {
        self.shared.lock().log.clear();
    }

    /// The medium in the drive (also while the tray is open), or None.
    pub fn medium(&self) -> Option<MediumSnapshot> {
        self.shared.lock().snapshot()
    }

    /// Times the drive buffer ran empty while a track was being written and more data
    /// followed.
    pub fn underruns(&self) -> u64 {
        self.shared.lock().buffer.underruns()
    }

    /// Bytes in the drive buffer now.
    pub fn buffer_fill(&self) -> usize {
        let mut core = self.shared.lock();
        let _ = core.settle();
        core.buffer.fill()
    }

    /// The write rate in force, in bytes per second.
    pub fn write_rate(&self) -> u64 {
        self.shared.lock().write_rate()
    }

    /// True while the host has the tray locked (PREVENT ALLOW MEDIUM REMOVAL).
    pub fn locked(&self) -> bool {
        self.shared.lock().locked
    }

    /// The drive's clock.
    pub fn now(&self) -> Duration {
        self.shared.lock().clock.now()
    }

    /// Moves a virtual clock forward (the host stalled for `by`); a real clock cannot be
    /// moved, and this returns false.
    pub fn advance_clock(&self, by: Duration) -> bool {
        let mut moved = false;
        self.change(|core| {
            if core.clock.is_virtual() {
                let now = core.clock.now();
                core.clock.advance_to(now + by);
                moved = true;
            }
        });
        moved
    }

    /// The next `commands` commands (other than INQUIRY, REQUEST SENSE, GET CONFIGURATION
    /// and GET EVENT STATUS NOTIFICATION) answer 2/04/01.
    pub fn set_not_ready(&self, commands: u32) {
        self.change(|core| core.faults.not_ready = commands);
    }

    /// The next `writes` WRITEs answer 2/04/08 without taking their data.
    pub fn set_long_write_in_progress(&self, writes: u32) {
        self.change(|core| core.faults.long_write = writes);
    }

    /// WRITEs covering `lba` fail there with 3/0C/00.
    pub fn add_write_error(&self, lba: u32) {
        self.change(|core| {
            core.faults.write_errors.insert(lba);
        });
    }

    /// READs covering `lba` fail there with 3/11/00: `failures` times, or always (None).
    pub fn add_unreadable(&self, lba: u32, failures: Option<u32>) {
        self.change(|core| {
            core.faults.unreadable.insert(lba, failures);
        });
    }

    /// Removes every injected fault (a hang stays until reset).
    pub fn clear_faults(&self) {
        self.change(|core| {
            let hung = core.faults.hung;
            core.faults = Faults {
                hung,
                ..Faults::default()
            };
        });
    }

    /// The medium is pulled out now: commands answer 2/3A/00, what was still in the drive
    /// buffer is lost, and the disc keeps its state as burnt so far.
    pub fn remove_medium(&self) {
        self.change(Core::pull_medium);
    }

    /// Puts the medium at `path` into the drive (a new blank one of `profile` if the file
    /// does not exist) and closes the tray: the next command sees 6/28/00.
    pub fn insert_medium(&self, path: &Path, profile: Profile) -> Result<(), MediumError> {
        let capacity = self.shared.lock().config.capacity;
        let medium = Medium::open(path, profile, capacity)?;
        self.change(|core| {
            if core.medium.is_some() {
                core.pull_medium();
            }
            core.medium = Some(medium);
            core.tray_open = false;
            core.no_medium = sense::NO_MEDIUM_TRAY_CLOSED;
            core.attentions.push_back(sense::MEDIUM_CHANGED);
            core.events.push_back(MediaEvent::NewMedia);
        });
        Ok(())
    }

    /// The drive stops answering: every command waits out its timeout until a reset.
    pub fn hang(&self) {
        self.change(|core| core.faults.hung = true);
    }

    /// True while the drive is hung.
    pub fn is_hung(&self) -> bool {
        self.shared.lock().faults.hung
    }

    /// The power fails and comes back: see [`Transport::reset`], plus a command in flight
    /// gets no answer.
    pub fn power_cut(&self) {
        self.change(Core::power_cycle);
    }

    /// A DVD+RW background format completes now.
    pub fn finish_background_format(&self) {
        self.change(|core| {
            if let Some(medium) = core.medium.as_mut() {
                medium.set_background_progress(medium.capacity());
            }
        });
    }
}

/// Says how long a stream of writes took to burn, as the drive saw it, so a person (or a
/// benchmark, with `RUST_LOG=burnstation_hal::sim=info`) can compare it with the speed.
fn log_burnt_stream(stream: &pacing::BurntStream, rate: u64) {
    let seconds = stream.finished.saturating_sub(stream.started).as_secs_f64();
    tracing::info!(
        bytes = stream.bytes,
        drive_seconds = format_args!("{seconds:.6}"),
        write_rate = rate,
        underruns = stream.underruns,
        "SimDrive burnt a stream of writes (from its first byte taken to its last byte burnt)"
    );
}

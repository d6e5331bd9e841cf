//! Everything the drive is, behind one lock: the medium, the buffer and clock, the faults,
//! the long operation it is busy with, and the command log. The command handlers
//! (`respond`, `recording`) work on a [`Core`]; [`Shared`] is the lock and the waits a
//! command makes on the drive's clock.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::scsi::{Completion, Status, TransportError};

use super::config::{SimConfig, SpecError};
use super::faults::Faults;
use super::inspect::{CommandResult, MediumSnapshot, RecordedCommand, TrackSnapshot};
use super::medium::{BackgroundFormat, Medium, MediumError};
use super::pacing::{self, Clock, DriveBuffer};
use super::pages::WriteParameters;
use super::sense::{self, Sense};

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
pub(super) const SAVE_EVERY_BLOCKS: u64 = 32 * 1024;

impl Core {
    pub(super) fn new(config: SimConfig) -> Result<Core, SimError> {
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

    /// How long a READ of `bytes` takes, when reads are paced.
    pub(crate) fn read_time(&self, bytes: usize) -> Option<Duration> {
        if self.config.read_speed <= 0.0 {
            return None;
        }
        let rate = self.config.read_speed * pacing::one_x_bytes_per_sec(self.family()) as f64;
        Some(Duration::from_secs_f64(bytes as f64 / rate))
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
                let blocks = (elapsed * rate / crate::mmc::BLOCK_SIZE as f64) as u64;
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
            pacing::time_for(work * crate::mmc::BLOCK_SIZE as u64, rate)
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
    pub(super) fn shut_down(&mut self) -> std::io::Result<()> {
        if let Some(medium) = self.medium.as_ref() {
            self.buffer
                .drain_all(|lba, bytes| medium.store(lba, bytes))?;
        }
        if let Some(op) = self.operation.take() {
            self.finish_operation(op)?;
        }
        self.save_burnt()
    }

    pub(super) fn record(
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

    pub(super) fn snapshot(&self) -> Option<MediumSnapshot> {
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
pub(super) struct Shared {
    pub(super) core: Mutex<Core>,
    pub(super) wake: Condvar,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `until` on the drive's clock (a virtual clock just jumps). Returns early
    /// when the power fails or a [`SimControl`] changes something.
    pub(super) fn sleep_until<'a>(
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
    pub(super) fn sleep_hung<'a>(
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

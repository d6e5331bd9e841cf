//! Waiting out long operations started with Immed: FORMAT UNIT, BLANK, SYNCHRONIZE CACHE,
//! CLOSE TRACK/SESSION.
//!
//! The command returns at once; the drive then answers TEST UNIT READY with "operation in
//! progress" (2/04/07), "format in progress" (2/04/04) or "long write in progress" (2/04/08),
//! usually with a progress indication in sense bytes 16-17, until it is done. libburn polls
//! twice a second for up to an hour (`spc_wait_unit_attention`); so do we, reporting the
//! drive's own progress as events. Some drives answer GOOD to TEST UNIT READY while a close
//! still runs (mmc.md 2.4, R8/R11); the next command then gets 2/04/07, which
//! [`send_when_idle`] waits out before sending it again (as growisofs retries CLOSE).

use std::time::{Duration, Instant};

use super::{BurnEvent, BurnPhase};
use crate::drive::Drive;
use crate::mmc::unit::TestUnitReady;
use crate::mmc::{self, Command};
use crate::scsi::{CommandError, SenseClass, Transport, TransportError};

/// How often the drive is asked whether it is done.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Why a wait ended without the drive becoming ready.
#[derive(Debug)]
pub(super) enum WaitError {
    /// The drive answered something other than "busy" or "ready".
    Failed(CommandError),
    /// The disc went away.
    NoMedium,
    /// The drive stopped answering.
    Hung,
    /// Still busy after the time allowed.
    TimedOut(Duration),
}

/// Polls TEST UNIT READY until the drive is idle, for at most `limit`, reporting progress.
pub(super) fn until_idle<T: Transport>(
    drive: &mut Drive<T>,
    phase: BurnPhase,
    limit: Duration,
    events: &mut dyn FnMut(BurnEvent),
) -> Result<(), WaitError> {
    send_when_idle(drive, &TestUnitReady, phase, limit, events)
}

/// Sends a command that has no data phase, waiting first (and again) while the drive says
/// an earlier operation is still in progress.
pub(super) fn send_when_idle<T: Transport, C: Command>(
    drive: &mut Drive<T>,
    cmd: &C,
    phase: BurnPhase,
    limit: Duration,
    events: &mut dyn FnMut(BurnEvent),
) -> Result<(), WaitError> {
    let start = Instant::now();
    let mut slept = Duration::ZERO;
    loop {
        match mmc::run(&mut drive.transport, cmd) {
            Ok(()) => return Ok(()),
            Err(e) => match classify(&e) {
                Busy::Yes(fraction) => events(BurnEvent::Waiting { phase, fraction }),
                Busy::Attention => {}
                Busy::NoMedium => return Err(WaitError::NoMedium),
                Busy::Hung => return Err(hung(e)),
                Busy::No => return Err(WaitError::Failed(e)),
            },
        }
        let waited = start.elapsed().max(slept);
        if waited >= limit {
            return Err(WaitError::TimedOut(waited));
        }
        (drive.sleep)(POLL_INTERVAL);
        slept += POLL_INTERVAL;
    }
}

/// What an answer means while waiting.
enum Busy {
    /// Still working, with the drive's progress when it gives one.
    Yes(Option<f64>),
    /// A unit attention: consumed by this answer; ask again.
    Attention,
    NoMedium,
    Hung,
    No,
}

fn classify(e: &CommandError) -> Busy {
    if let CommandError::Transport {
        source: TransportError::Timeout { .. },
        ..
    } = e
    {
        return Busy::Hung;
    }
    match (e.class(), e.sense()) {
        (Some(SenseClass::WaitAndRetry), Some(sense)) => Busy::Yes(sense.progress()),
        (Some(SenseClass::WaitAndRetry), None) => Busy::Yes(None),
        (Some(SenseClass::UnitAttention), _) => Busy::Attention,
        (Some(SenseClass::NoMedium), _) => Busy::NoMedium,
        _ => Busy::No,
    }
}

fn hung(e: CommandError) -> WaitError {
    match e {
        CommandError::Transport { .. } => WaitError::Hung,
        other => WaitError::Failed(other),
    }
}

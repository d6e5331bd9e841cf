//! Waiting out long operations started with Immed: FORMAT UNIT, BLANK, SYNCHRONIZE CACHE,
//! CLOSE TRACK/SESSION.
//!
//! The command returns at once; the drive then answers TEST UNIT READY with "operation in
//! progress" (2/04/07), "format in progress" (2/04/04) or "long write in progress" (2/04/08),
//! usually with a progress indication in sense bytes 16-17, until it is done. libburn polls
//! twice a second for up to an hour (`spc_wait_unit_attention`); so do we, after a few
//! quicker polls at the start (a flush or a track close is often done in a tenth of a
//! second), reporting the drive's own progress as events. Some drives answer GOOD to TEST
//! UNIT READY while a close still runs (mmc.md 2.4, R8/R11); the next command then gets
//! 2/04/07, which [`send_when_idle`] waits out before sending it again (as growisofs retries
//! CLOSE).

use std::time::{Duration, Instant};

use super::{BurnEvent, BurnPhase};
use crate::drive::Drive;
use crate::mmc::unit::TestUnitReady;
use crate::mmc::{self, Command};
use crate::scsi::{CommandError, SenseClass, Transport, TransportError};

/// How often the drive is asked whether it is done: soon at first (flushing a full 2 MiB
/// buffer takes a tenth of a second at DVD 16x, closing a track as long), then less and less
/// often, down to libburn's twice a second.
const FIRST_POLL: Duration = Duration::from_millis(50);
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
    let mut interval = FIRST_POLL;
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
        (drive.sleep)(interval);
        slept += interval;
        interval = (interval * 2).min(POLL_INTERVAL);
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::scsi::{Completion, DataTransfer, Sense, SenseKey};

    /// A drive that answers TEST UNIT READY "operation in progress" `busy` times, then GOOD.
    struct Busy {
        busy: u32,
    }

    impl Transport for Busy {
        fn execute(
            &mut self,
            cdb: &[u8],
            _data: DataTransfer<'_>,
            _timeout: Duration,
        ) -> Result<Completion, TransportError> {
            assert_eq!(cdb[0], 0x00, "only TEST UNIT READY is expected");
            if self.busy == 0 {
                return Ok(Completion::good(0));
            }
            self.busy -= 1;
            let sense = Sense::new(SenseKey::NotReady, 0x04, 0x07);
            Ok(Completion::check_condition(sense.to_fixed().to_vec()))
        }

        fn name(&self) -> &str {
            "busy"
        }
    }

    thread_local! {
        static SLEPT: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn polls_soon_at_first_then_twice_a_second() {
        let mut drive = Drive::new(Busy { busy: 7 });
        drive.set_sleep(|d| SLEPT.with(|s| s.borrow_mut().push(d)));
        let mut waits = 0;
        until_idle(
            &mut drive,
            BurnPhase::Synchronizing,
            Duration::from_secs(60),
            &mut |_| waits += 1,
        )
        .unwrap();
        let ms: Vec<u128> = SLEPT.with(|s| s.borrow().iter().map(|d| d.as_millis()).collect());
        assert_eq!(ms, [50, 100, 200, 400, 500, 500, 500]);
        assert_eq!(waits, 7, "every busy answer is reported");
    }
}

//! Noticing disc changes by asking the drive, for systems where the kernel does not say.
//!
//! Most kernels send no media events unless `events_poll_msecs` is set for the drive
//! (eudev#245), and a drive opened for exclusive writing is never polled by the kernel at
//! all. So the station also asks the drive itself, on the drive's own thread, between
//! jobs. [`MediaPoller`] is the loop around that question: it calls a probe the caller
//! supplies (which sends GET EVENT STATUS NOTIFICATION or TEST UNIT READY through the
//! drive layer and says what it saw) at a fixed interval, and reports only changes.
//!
//! It blocks (SCSI commands do) and never talks to a drive itself, so it is tested here
//! with scripted probes.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

/// What a probe saw in the drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaPresence {
    /// The tray is open (sense 2/3A/02, or the GESN door-open bit).
    TrayOpen,
    /// The tray is closed and holds no disc (2/3A/00, 2/3A/01).
    NoMedium,
    /// A disc is in, but the drive is still spinning it up and reading it (2/04/01).
    BecomingReady,
    /// A disc is in and the drive is ready.
    Present,
    /// A disc is in, and the drive says it is not the one it had before (GESN "new
    /// media", or unit attention 6/28/00): reported even if the last probe also saw a disc,
    /// since a quick swap between two probes must not go unnoticed.
    Replaced,
}

/// A change in what the drive holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaEvent {
    /// What the drive held before; `None` for the first probe.
    pub previous: Option<MediaPresence>,
    /// What it holds now.
    pub current: MediaPresence,
}

/// Asks the drive at an interval and reports what changed.
pub struct MediaPoller<P> {
    interval: Duration,
    probe: P,
    last: Option<MediaPresence>,
}

impl MediaPresence {
    /// True when a disc is in the drive (ready or not yet).
    pub fn has_disc(self) -> bool {
        matches!(
            self,
            MediaPresence::Present | MediaPresence::Replaced | MediaPresence::BecomingReady
        )
    }

    /// The state to compare against: a replaced disc is, from then on, simply present.
    fn settled(self) -> MediaPresence {
        match self {
            MediaPresence::Replaced => MediaPresence::Present,
            other => other,
        }
    }
}

impl MediaEvent {
    /// True when a disc became ready to use: inserted, swapped, or done spinning up.
    pub fn disc_arrived(&self) -> bool {
        match self.current {
            MediaPresence::Replaced => true,
            MediaPresence::Present => self.previous != Some(MediaPresence::Present),
            _ => false,
        }
    }

    /// True when the disc that was there is gone.
    pub fn disc_left(&self) -> bool {
        self.previous.is_some_and(MediaPresence::has_disc) && !self.current.has_disc()
    }
}

impl fmt::Display for MediaPresence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaPresence::TrayOpen => "tray open",
            MediaPresence::NoMedium => "no disc",
            MediaPresence::BecomingReady => "disc spinning up",
            MediaPresence::Present => "disc ready",
            MediaPresence::Replaced => "new disc ready",
        })
    }
}

impl<P, E> MediaPoller<P>
where
    P: FnMut() -> Result<MediaPresence, E>,
{
    /// A poller that calls `probe` every `interval` (2 s matches what udisks and the
    /// kernel use; a drive answers TEST UNIT READY in milliseconds).
    pub fn new(interval: Duration, probe: P) -> MediaPoller<P> {
        MediaPoller {
            interval,
            probe,
            last: None,
        }
    }

    /// What the last successful probe saw.
    pub fn current(&self) -> Option<MediaPresence> {
        self.last
    }

    /// Probes once, now. Returns the change, if any; the first probe always reports one
    /// (from nothing), so the caller learns the starting state. A failed probe changes
    /// nothing and hands the error back: the caller decides whether the drive is gone.
    pub fn poll_once(&mut self) -> Result<Option<MediaEvent>, E> {
        let current = (self.probe)()?;
        let previous = self.last;
        self.last = Some(current.settled());
        let changed = previous != Some(current.settled()) || current == MediaPresence::Replaced;
        Ok(changed.then_some(MediaEvent { previous, current }))
    }

    /// Probes now and then every interval until something changes or `max_wait` has
    /// passed (`Ok(None)`). The drive thread calls this between looking at its job queue.
    pub fn wait_for_change(&mut self, max_wait: Duration) -> Result<Option<MediaEvent>, E> {
        let deadline = Instant::now() + max_wait;
        loop {
            if let Some(event) = self.poll_once()? {
                return Ok(Some(event));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            thread::sleep(self.interval.min(left));
        }
    }
}

impl<P, E> Iterator for MediaPoller<P>
where
    P: FnMut() -> Result<MediaPresence, E>,
{
    type Item = Result<MediaEvent, E>;

    /// Blocks until the next change (or a probe error). Never ends.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.poll_once() {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => thread::sleep(self.interval),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl<P> fmt::Debug for MediaPoller<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaPoller")
            .field("interval", &self.interval)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::VecDeque;

    use super::MediaPresence::*;
    use super::*;

    /// A probe that answers from a script, then keeps repeating its last answer; it
    /// counts its calls.
    fn scripted(
        answers: &[Result<MediaPresence, &'static str>],
    ) -> impl FnMut() -> Result<MediaPresence, &'static str> {
        let mut queue: VecDeque<_> = answers.iter().cloned().collect();
        let mut last = Ok(NoMedium);
        move || {
            if let Some(next) = queue.pop_front() {
                last = next;
            }
            last
        }
    }

    fn events_of(
        answers: &[Result<MediaPresence, &'static str>],
    ) -> Vec<Result<Option<MediaEvent>, &'static str>> {
        let mut poller = MediaPoller::new(Duration::from_millis(1), scripted(answers));
        (0..answers.len()).map(|_| poller.poll_once()).collect()
    }

    fn change(previous: Option<MediaPresence>, current: MediaPresence) -> MediaEvent {
        MediaEvent { previous, current }
    }

    #[test]
    fn first_probe_reports_the_starting_state() {
        assert_eq!(
            events_of(&[Ok(NoMedium)]),
            [Ok(Some(change(None, NoMedium)))]
        );
    }

    #[test]
    fn only_changes_are_reported() {
        let events = events_of(&[
            Ok(NoMedium),
            Ok(NoMedium),
            Ok(TrayOpen),
            Ok(TrayOpen),
            Ok(BecomingReady),
            Ok(Present),
            Ok(Present),
            Ok(NoMedium),
        ]);
        assert_eq!(
            events,
            [
                Ok(Some(change(None, NoMedium))),
                Ok(None),
                Ok(Some(change(Some(NoMedium), TrayOpen))),
                Ok(None),
                Ok(Some(change(Some(TrayOpen), BecomingReady))),
                Ok(Some(change(Some(BecomingReady), Present))),
                Ok(None),
                Ok(Some(change(Some(Present), NoMedium))),
            ]
        );
    }

    #[test]
    fn a_swapped_disc_is_reported_even_between_two_present_probes() {
        let events = events_of(&[Ok(Present), Ok(Replaced), Ok(Present), Ok(Replaced)]);
        assert_eq!(
            events,
            [
                Ok(Some(change(None, Present))),
                Ok(Some(change(Some(Present), Replaced))),
                Ok(None),
                Ok(Some(change(Some(Present), Replaced))),
            ]
        );
    }

    #[test]
    fn a_failed_probe_changes_nothing() {
        let events = events_of(&[Ok(Present), Err("drive did not answer"), Ok(Present)]);
        assert_eq!(
            events,
            [
                Ok(Some(change(None, Present))),
                Err("drive did not answer"),
                Ok(None)
            ]
        );
    }

    #[test]
    fn arrivals_and_departures() {
        assert!(change(Some(NoMedium), Present).disc_arrived());
        assert!(change(Some(BecomingReady), Present).disc_arrived());
        assert!(change(None, Present).disc_arrived());
        assert!(change(Some(Present), Replaced).disc_arrived());
        assert!(!change(Some(NoMedium), BecomingReady).disc_arrived());
        assert!(!change(Some(TrayOpen), NoMedium).disc_arrived());

        assert!(change(Some(Present), TrayOpen).disc_left());
        assert!(change(Some(BecomingReady), NoMedium).disc_left());
        assert!(!change(Some(TrayOpen), NoMedium).disc_left());
        assert!(!change(None, NoMedium).disc_left());
    }

    #[test]
    fn wait_for_change_probes_at_the_interval_until_something_changes() {
        let calls = Cell::new(0);
        let mut poller = MediaPoller::new(Duration::from_millis(2), || {
            calls.set(calls.get() + 1);
            Ok::<_, ()>(if calls.get() < 5 { NoMedium } else { Present })
        });
        assert_eq!(
            poller.wait_for_change(Duration::from_secs(10)),
            Ok(Some(change(None, NoMedium)))
        );
        let started = Instant::now();
        assert_eq!(
            poller.wait_for_change(Duration::from_secs(10)),
            Ok(Some(change(Some(NoMedium), Present)))
        );
        // Probes 2, 3, 4 saw no change; probe 5 did, after three intervals of sleep.
        assert!(started.elapsed() >= Duration::from_millis(6));
        assert_eq!(calls.get(), 5);
    }

    #[test]
    fn wait_for_change_gives_up_after_max_wait() {
        let mut poller = MediaPoller::new(Duration::from_millis(5), scripted(&[Ok(NoMedium)]));
        poller.poll_once().unwrap();
        let started = Instant::now();
        assert_eq!(poller.wait_for_change(Duration::from_millis(30)), Ok(None));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        assert_eq!(poller.current(), Some(NoMedium));
    }

    #[test]
    fn as_an_iterator_it_yields_changes_only() {
        let poller = MediaPoller::new(
            Duration::from_millis(1),
            scripted(&[
                Ok(NoMedium),
                Ok(NoMedium),
                Ok(NoMedium),
                Ok(Present),
                Ok(Present),
                Err("gone"),
                Ok(TrayOpen),
            ]),
        );
        let seen: Vec<_> = poller.take(4).collect();
        assert_eq!(
            seen,
            [
                Ok(change(None, NoMedium)),
                Ok(change(Some(NoMedium), Present)),
                Err("gone"),
                Ok(change(Some(Present), TrayOpen)),
            ]
        );
    }
}

//! When to sync: the cron line (in UTC), retries with exponential backoff after a failure,
//! and not trusting the clock before it has been set.
//!
//! The Pi has no real-time clock. It boots at 1970, or at the build date, or (with
//! systemd-timesyncd) at the time it last saved, which looks plausible and may be days old.
//! A schedule read against such a clock would sync at random, and a snapshot named after it
//! would sort wrongly. So the station waits until the clock is known good ([`judge_clock`]):
//! the kernel says an NTP client disciplines it, or timesyncd says it has synchronised; only
//! where no time service runs at all does "later than this binary's build and the newest
//! snapshot" count as good enough.
//!
//! A box is often off at the scheduled hour, so a scheduled time that passed since the last
//! good sync is due at once, like anacron ([`SyncSchedule::next_sync`]).
//!
//! Every decision here is a function of the time it is given; [`Clock`] is the one place the
//! real time comes from, so tests inject theirs.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{CronSchedule, ScheduleConfig};

/// timesyncd creates this file when it has synchronised the clock (systemd-time-wait-sync
/// waits for the same file).
pub const TIMESYNCD_SYNCHRONIZED: &str = "/run/systemd/timesync/synchronized";
/// Directories that exist wherever timesyncd runs (its runtime and its state directory).
const TIMESYNCD_DIRS: [&str; 2] = ["/run/systemd/timesync", "/var/lib/systemd/timesync"];

/// How often the clock is looked at again while it is not trusted.
pub const CLOCK_POLL: Duration = Duration::from_secs(5);
/// The longest single sleep towards a wall-clock time: the clock may be stepped meanwhile.
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// The source of the current time and of what the system knows about it.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// What the system says about the clock having been set.
    fn evidence(&self) -> ClockEvidence;
}

/// What the system says about its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockEvidence {
    /// The kernel says an NTP client keeps the clock synchronised (`adjtimex`).
    pub kernel_synchronized: bool,
    /// What systemd-timesyncd says.
    pub timesyncd: Timesyncd,
    /// A time the clock cannot be earlier than if it is right: when this program was built.
    pub built_at: Option<DateTime<Utc>>,
}

/// systemd-timesyncd's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timesyncd {
    /// Not on this system.
    Absent,
    /// Running, not synchronised yet.
    Waiting,
    /// Has synchronised the clock since boot.
    Synchronized,
}

/// Whether the clock can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockTrust {
    /// Yes, because of this.
    Trusted(TrustReason),
    /// Not yet.
    NotYet,
}

/// Why the clock is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustReason {
    /// The kernel reports it synchronised.
    KernelSynchronized,
    /// timesyncd has synchronised it.
    TimesyncdSynchronized,
    /// There is no time service, and it is later than the build and the newest snapshot.
    LaterThanKnownTimes,
}

/// Whether the clock reading `now` can be trusted, given the `evidence` and the newest
/// snapshot's time (a clock earlier than a snapshot it made is certainly wrong).
pub fn judge_clock(
    now: DateTime<Utc>,
    evidence: &ClockEvidence,
    newest_snapshot: Option<DateTime<Utc>>,
) -> ClockTrust {
    if evidence.timesyncd == Timesyncd::Synchronized {
        return ClockTrust::Trusted(TrustReason::TimesyncdSynchronized);
    }
    if evidence.kernel_synchronized {
        return ClockTrust::Trusted(TrustReason::KernelSynchronized);
    }
    // timesyncd restores the last saved time at boot: plausible, and possibly days old.
    if evidence.timesyncd == Timesyncd::Waiting {
        return ClockTrust::NotYet;
    }
    let floor = evidence.built_at.max(newest_snapshot);
    match floor {
        Some(floor) if now <= floor => ClockTrust::NotYet,
        _ => ClockTrust::Trusted(TrustReason::LaterThanKnownTimes),
    }
}

/// The real clock.
#[derive(Debug, Clone, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn evidence(&self) -> ClockEvidence {
        let timesyncd = if Path::new(TIMESYNCD_SYNCHRONIZED).exists() {
            Timesyncd::Synchronized
        } else if TIMESYNCD_DIRS.iter().any(|d| Path::new(d).is_dir()) {
            Timesyncd::Waiting
        } else {
            Timesyncd::Absent
        };
        ClockEvidence {
            kernel_synchronized: kernel_clock_synchronized(),
            timesyncd,
            built_at: program_built_at(),
        }
    }
}

/// Whether the kernel reports its clock synchronised by an NTP client. Every client
/// (timesyncd, chrony, ntpd, busybox ntpd) clears `STA_UNSYNC` when it sets the clock, and the
/// kernel sets it again when no client has spoken for a while.
fn kernel_clock_synchronized() -> bool {
    // SAFETY: `timex` is plain integers, so all zeroes is a valid value; with `modes` 0,
    // adjtimex only reads the kernel's clock state into the struct this frame owns.
    let state = unsafe {
        let mut timex: libc::timex = std::mem::zeroed();
        libc::adjtimex(&mut timex)
    };
    state >= 0 && state != libc::TIME_ERROR
}

/// When the running program was built, from its file's time (on the image, the build's).
fn program_built_at() -> Option<DateTime<Utc>> {
    let modified = std::env::current_exe()
        .ok()?
        .metadata()
        .ok()?
        .modified()
        .ok()?;
    Some(DateTime::<Utc>::from(modified))
}

/// Waits until `clock` can be trusted, looking again every `poll`.
pub async fn wait_for_clock(
    clock: &dyn Clock,
    newest_snapshot: Option<DateTime<Utc>>,
    poll: Duration,
) -> TrustReason {
    loop {
        if let ClockTrust::Trusted(reason) =
            judge_clock(clock.now(), &clock.evidence(), newest_snapshot)
        {
            return reason;
        }
        tokio::time::sleep(poll).await;
    }
}

/// Sleeps until `clock` reads `at` or later. The wall clock may be stepped while asleep, so
/// this wakes at least once a minute to look again.
pub async fn sleep_until(clock: &dyn Clock, at: DateTime<Utc>) {
    loop {
        let left = (at - clock.now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(LONGEST_SLEEP)).await;
    }
}

/// When the next sync is due: the cron line, or sooner to retry after a failure.
#[derive(Debug, Clone)]
pub struct SyncSchedule {
    cron: CronSchedule,
    retry_after: Duration,
    retry_max: Duration,
    /// Failures in a row since the last success.
    failures: u32,
    last_failure: Option<DateTime<Utc>>,
}

impl SyncSchedule {
    /// The schedule the settings describe, with no failures yet.
    pub fn new(config: &ScheduleConfig) -> SyncSchedule {
        SyncSchedule {
            cron: config.sync.clone(),
            retry_after: config.retry_after.duration(),
            retry_max: config.retry_max.duration(),
            failures: 0,
            last_failure: None,
        }
    }

    /// When to sync next, at `now`, given the last good sync (the newest snapshot's time).
    /// A scheduled time missed since then (the box was off, or never synced) is due `now`.
    pub fn next_sync(
        &self,
        last_success: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        // The schedule counts from the last attempt, so a failure is retried by the backoff
        // and not at once as a "missed" time.
        let reference = last_success.max(self.last_failure);
        let scheduled = match reference {
            None => now,
            Some(reference) => self
                .cron
                .next_after(reference)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        };
        let retry = self.last_failure.map(|failed| failed + self.retry_delay());
        let next = retry.map_or(scheduled, |retry| retry.min(scheduled));
        next.max(now)
    }

    /// How long after a failure the next try waits: `retry_after`, doubled for each failure
    /// in a row before it, at most `retry_max`.
    pub fn retry_delay(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(31);
        self.retry_after
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }

    /// A sync failed at `at`; returns when the next try is.
    pub fn record_failure(&mut self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(at);
        at + self.retry_delay()
    }

    /// A sync succeeded: the backoff starts over.
    pub fn record_success(&mut self) {
        self.failures = 0;
        self.last_failure = None;
    }

    /// Failures in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn evidence(kernel: bool, timesyncd: Timesyncd, built: Option<&str>) -> ClockEvidence {
        ClockEvidence {
            kernel_synchronized: kernel,
            timesyncd,
            built_at: built.map(t),
        }
    }

    #[test]
    fn the_clock_is_trusted_only_with_evidence() {
        let now = t("2026-11-26T03:00:00Z");
        let built = Some("2026-10-01T00:00:00Z");
        let table = [
            // timesyncd or the kernel say so: trusted, whatever the time reads.
            (evidence(false, Timesyncd::Synchronized, built), None, true),
            (evidence(true, Timesyncd::Absent, built), None, true),
            (evidence(true, Timesyncd::Waiting, built), None, true),
            // timesyncd runs but has not synchronised: its restored clock is not trusted.
            (evidence(false, Timesyncd::Waiting, built), None, false),
            // No time service: later than the build and the newest snapshot will do.
            (evidence(false, Timesyncd::Absent, built), None, true),
            (
                evidence(false, Timesyncd::Absent, Some("2027-01-01T00:00:00Z")),
                None,
                false,
            ),
            (
                evidence(false, Timesyncd::Absent, built),
                Some(t("2026-11-27T03:00:00Z")),
                false,
            ),
            (evidence(false, Timesyncd::Absent, None), None, true),
        ];
        for (evidence, newest, trusted) in table {
            let judged = judge_clock(now, &evidence, newest);
            assert_eq!(
                matches!(judged, ClockTrust::Trusted(_)),
                trusted,
                "{evidence:?} newest {newest:?}: {judged:?}"
            );
        }
        // Booted at 1970 with no service: never before the build.
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let absent = evidence(false, Timesyncd::Absent, built);
        assert_eq!(judge_clock(epoch, &absent, None), ClockTrust::NotYet);
    }

    fn schedule(cron: &str, retry_after: u64, retry_max: u64) -> SyncSchedule {
        SyncSchedule::new(&ScheduleConfig {
            sync: cron.parse().unwrap(),
            retry_after: crate::config::Period(Duration::from_secs(retry_after)),
            retry_max: crate::config::Period(Duration::from_secs(retry_max)),
        })
    }

    #[test]
    fn a_box_that_never_synced_or_missed_its_hour_syncs_now() {
        let daily = schedule("0 3 * * *", 300, 6 * 3600);
        let now = t("2026-11-26T19:30:00Z");
        assert_eq!(daily.next_sync(None, now), now);
        // Last good sync two days ago: today's 03:00 was missed (the box was off).
        assert_eq!(daily.next_sync(Some(t("2026-11-24T03:01:00Z")), now), now);
        // Synced this morning: tomorrow at 03:00.
        assert_eq!(
            daily.next_sync(Some(t("2026-11-26T03:02:00Z")), now),
            t("2026-11-27T03:00:00Z")
        );
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_maximum_then_reset() {
        let mut daily = schedule("0 3 * * *", 300, 3600);
        let last_good = Some(t("2026-11-25T03:00:30Z"));
        let mut now = t("2026-11-26T03:00:00Z");
        let mut waits = Vec::new();
        for _ in 0..6 {
            let retry_at = daily.record_failure(now);
            assert_eq!(daily.next_sync(last_good, now), retry_at);
            waits.push((retry_at - now).num_seconds());
            now = retry_at;
        }
        assert_eq!(waits, vec![300, 600, 1200, 2400, 3600, 3600]);
        daily.record_success();
        assert_eq!(daily.failures(), 0);
        assert_eq!(daily.next_sync(Some(now), now), t("2026-11-27T03:00:00Z"));
    }

    #[test]
    fn a_scheduled_time_before_the_retry_comes_first() {
        let mut hourly = schedule("0 * * * *", 2 * 3600, 6 * 3600);
        let failed = t("2026-11-26T03:00:10Z");
        hourly.record_failure(failed);
        assert_eq!(
            hourly.next_sync(Some(t("2026-11-26T02:00:05Z")), failed),
            t("2026-11-26T04:00:00Z")
        );
    }

    /// A clock whose time runs with tokio's (paused) time from `start`, and whose evidence
    /// turns good after `untrusted_looks` looks.
    struct TestClock {
        start: DateTime<Utc>,
        origin: tokio::time::Instant,
        untrusted_looks: AtomicU32,
        stepped: Mutex<chrono::Duration>,
    }

    impl TestClock {
        fn new(start: &str, untrusted_looks: u32) -> TestClock {
            TestClock {
                start: t(start),
                origin: tokio::time::Instant::now(),
                untrusted_looks: AtomicU32::new(untrusted_looks),
                stepped: Mutex::new(chrono::Duration::zero()),
            }
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            let elapsed = chrono::Duration::from_std(self.origin.elapsed()).unwrap();
            self.start + elapsed + *self.stepped.lock().unwrap()
        }

        fn evidence(&self) -> ClockEvidence {
            let left = self.untrusted_looks.load(Ordering::SeqCst);
            if left > 0 {
                self.untrusted_looks.store(left - 1, Ordering::SeqCst);
            }
            evidence(
                false,
                if left > 0 {
                    Timesyncd::Waiting
                } else {
                    Timesyncd::Synchronized
                },
                None,
            )
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_the_clock_returns_once_it_is_set() {
        let clock = TestClock::new("2026-11-26T03:00:00Z", 3);
        let reason = wait_for_clock(&clock, None, CLOCK_POLL).await;
        assert_eq!(reason, TrustReason::TimesyncdSynchronized);
        assert_eq!(clock.untrusted_looks.load(Ordering::SeqCst), 0);
        assert_eq!(clock.origin.elapsed(), CLOCK_POLL * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn sleeping_until_a_time_notices_a_clock_step() {
        let clock = TestClock::new("2026-11-26T03:00:00Z", 0);
        // Due in two hours; after ten minutes NTP steps the clock two hours forward.
        let due = t("2026-11-26T05:00:00Z");
        let sleeper = sleep_until(&clock, due);
        let stepper = async {
            tokio::time::sleep(Duration::from_secs(600)).await;
            *clock.stepped.lock().unwrap() = chrono::Duration::hours(2);
        };
        tokio::join!(sleeper, stepper);
        // Woken within a minute of the step, not two hours later.
        assert!(
            clock.origin.elapsed() <= Duration::from_secs(660),
            "{:?}",
            clock.origin.elapsed()
        );
        assert!(clock.now() >= due);
    }
}

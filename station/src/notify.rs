//! Telling systemd how the daemon is: `READY=1` once it runs, a one-line `STATUS=` for
//! `systemctl status`, and `WATCHDOG=1` often enough that a hung daemon is restarted.
//!
//! This is the sd_notify protocol written directly: one datagram per message to the Unix
//! socket `$NOTIFY_SOCKET` names (a path, or an abstract name starting with `@`). Outside
//! systemd (the command line, the tests, a shell) there is no such socket and every call does
//! nothing. The watchdog interval comes from `$WATCHDOG_USEC` (only when `$WATCHDOG_PID` is
//! unset or names this process); the daemon sends `WATCHDOG=1` at half of it.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use burnstation_hal::Cancel;

/// The connection to systemd's notification socket, or nothing outside systemd.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
}

/// When the daemon's loop last showed life, for the watchdog: on the monotonic clock,
/// because the wall clock jumps when the time is first set after boot (a Pi has no clock),
/// and a jump must neither starve the watchdog nor hide a hung loop.
#[derive(Debug)]
pub struct Heartbeat {
    origin: Instant,
    /// Milliseconds from `origin` to the last beat.
    last: AtomicU64,
}

impl Notifier {
    /// The notifier systemd's environment describes (none outside systemd). A socket that
    /// cannot be used is logged once and treated as absent: notifying is never worth failing
    /// the daemon for, and systemd's own timeout will say what went wrong.
    pub fn from_env() -> Notifier {
        let var = |name: &str| std::env::var(name).ok();
        Notifier::from_values(
            var("NOTIFY_SOCKET").as_deref(),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        )
    }

    /// The notifier for these values of `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`,
    /// in process `pid`.
    pub fn from_values(
        socket: Option<&str>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        pid: u32,
    ) -> Notifier {
        let target = socket
            .filter(|s| !s.is_empty())
            .and_then(|s| match connect(s) {
                Ok(target) => Some(target),
                Err(e) => {
                    tracing::warn!(socket = s, error = %e, "cannot use systemd's notify socket");
                    None
                }
            });
        let ours = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>() == Ok(pid));
        let watchdog = watchdog_usec
            .filter(|_| ours)
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0)
            .map(Duration::from_micros);
        Notifier { target, watchdog }
    }

    /// A notifier that does nothing.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog: None,
        }
    }

    /// Whether a notification socket is there.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Startup is done: systemd counts the service as started from here.
    pub fn ready(&self) {
        self.send("READY=1");
    }

    /// The line `systemctl status` shows.
    pub fn status(&self, line: &str) {
        // One line: a newline would start another assignment.
        let line = line.replace('\n', " ");
        self.send(&format!("STATUS={line}"));
    }

    /// The daemon is alive.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Shutting down on purpose.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// How often to send [`watchdog`](Notifier::watchdog): half of systemd's timeout, or
    /// `None` when systemd watches nothing.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|timeout| timeout / 2)
    }

    fn send(&self, message: &str) {
        if let Some((socket, address)) = &self.target
            && let Err(e) = socket.send_to_addr(message.as_bytes(), address)
        {
            tracing::debug!(message, error = %e, "systemd notification not sent");
        }
    }
}

impl Heartbeat {
    /// A heartbeat that beats now.
    pub fn new() -> Heartbeat {
        Heartbeat {
            origin: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// The loop is alive.
    pub fn beat(&self) {
        let millis = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(millis, Ordering::Relaxed);
    }

    /// How long ago the last beat was.
    pub fn age(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }
}

impl Default for Heartbeat {
    fn default() -> Heartbeat {
        Heartbeat::new()
    }
}

/// Starts the thread that sends `WATCHDOG=1` (a thread of its own: the daemon's thread
/// blocks in SCSI commands for seconds) at a quarter of systemd's watchdog timeout while `heartbeat` is younger than `alive_within`, so that a loop stuck for longer is
/// restarted, until `cancel` is raised. Does nothing when systemd watches nothing.
pub fn start_watchdog(
    notifier: Arc<Notifier>,
    heartbeat: Arc<Heartbeat>,
    alive_within: Duration,
    cancel: Cancel,
) {
    let Some(interval) = notifier.watchdog_interval() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            while !cancel.is_cancelled() {
                let age = heartbeat.age();
                if age < alive_within {
                    notifier.watchdog();
                } else {
                    tracing::error!(seconds = age.as_secs(), "the daemon's loop shows no life");
                }
                // Kicks twice per interval: one late kick still arrives in time.
                std::thread::sleep(interval / 2);
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the watchdog thread: {e}");
    }
}

fn connect(socket: &str) -> io::Result<(UnixDatagram, SocketAddr)> {
    let address = match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)?
        }
        None => SocketAddr::from_pathname(socket)?,
    };
    Ok((UnixDatagram::unbound()?, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buffer = [0u8; 256];
        let length = socket.recv(&mut buffer).unwrap();
        String::from_utf8(buffer[..length].to_vec()).unwrap()
    }

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::from_values(path.to_str(), None, None, 1);
        assert!(notifier.is_enabled());
        notifier.ready();
        notifier.status("syncing\n42%");
        notifier.watchdog();
        notifier.stopping();
        assert_eq!(receive(&systemd), "READY=1");
        assert_eq!(receive(&systemd), "STATUS=syncing 42%");
        assert_eq!(receive(&systemd), "WATCHDOG=1");
        assert_eq!(receive(&systemd), "STOPPING=1");
    }

    #[test]
    fn messages_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("burnstation-test-notify-{}", std::process::id());
        let systemd =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        let notifier = Notifier::from_values(Some(&format!("@{name}")), None, None, 1);
        notifier.ready();
        assert_eq!(receive(&systemd), "READY=1");
    }

    #[test]
    fn without_systemd_nothing_happens() {
        let notifier = Notifier::from_values(None, Some("30000000"), None, 1);
        assert!(!notifier.is_enabled());
        notifier.ready();
        notifier.watchdog();
        // An unusable socket is the same as none.
        let broken = Notifier::from_values(Some("/nonexistent/dir/notify"), None, None, 1);
        broken.ready();
    }

    #[test]
    fn the_watchdog_is_fed_at_half_its_timeout_and_only_for_its_process() {
        let ours = Notifier::from_values(None, Some("30000000"), Some("77"), 77);
        assert_eq!(ours.watchdog_interval(), Some(Duration::from_secs(15)));
        let unset_pid = Notifier::from_values(None, Some("30000000"), None, 77);
        assert_eq!(unset_pid.watchdog_interval(), Some(Duration::from_secs(15)));
        let another = Notifier::from_values(None, Some("30000000"), Some("78"), 77);
        assert_eq!(another.watchdog_interval(), None);
        for usec in ["0", "soon", ""] {
            let odd = Notifier::from_values(None, Some(usec), None, 77);
            assert_eq!(odd.watchdog_interval(), None, "{usec}");
        }
    }

    /// Waits up to `limit` for the next message.
    fn next(socket: &UnixDatagram, limit: Duration) -> Option<String> {
        socket.set_read_timeout(Some(limit)).unwrap();
        let mut buffer = [0u8; 256];
        let length = socket.recv(&mut buffer).ok()?;
        Some(String::from_utf8(buffer[..length].to_vec()).unwrap())
    }

    #[test]
    fn the_watchdog_is_kicked_while_the_heartbeat_is_fresh_and_not_after_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        // A 400 ms timeout: a kick every 100 ms.
        let notifier = Notifier::from_values(path.to_str(), Some("400000"), None, 1);
        let heartbeat = Arc::new(Heartbeat::new());
        let cancel = Cancel::new();
        start_watchdog(
            Arc::new(notifier),
            Arc::clone(&heartbeat),
            Duration::from_secs(3600),
            cancel.clone(),
        );
        for _ in 0..3 {
            let kick = next(&systemd, Duration::from_secs(30));
            assert_eq!(kick.as_deref(), Some("WATCHDOG=1"));
        }
        cancel.cancel();
        // A kick already under way may still come; then nothing for many intervals.
        let mut after = 0;
        while next(&systemd, Duration::from_secs(1)).is_some() {
            after += 1;
            assert!(after <= 1, "kicked after the cancel");
        }
    }

    #[test]
    fn a_loop_that_shows_no_life_gets_no_kicks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        let notifier = Arc::new(Notifier::from_values(path.to_str(), Some("40000"), None, 1));
        let heartbeat = Arc::new(Heartbeat::new());
        let cancel = Cancel::new();
        // Alive within nothing at all: every check finds the loop silent.
        start_watchdog(
            Arc::clone(&notifier),
            heartbeat,
            Duration::ZERO,
            cancel.clone(),
        );
        // Long enough for many checks (one each 10 ms); the first message is ours.
        std::thread::sleep(Duration::from_millis(300));
        notifier.stopping();
        cancel.cancel();
        assert_eq!(
            next(&systemd, Duration::from_secs(30)).as_deref(),
            Some("STOPPING=1")
        );
    }

    #[test]
    fn a_heartbeat_ages_from_its_last_beat() {
        let heartbeat = Heartbeat::new();
        std::thread::sleep(Duration::from_millis(30));
        assert!(heartbeat.age() >= Duration::from_millis(30));
        let before_the_beat = Instant::now();
        heartbeat.beat();
        // The beat is kept in whole milliseconds.
        assert!(heartbeat.age() <= before_the_beat.elapsed() + Duration::from_millis(1));
    }
}

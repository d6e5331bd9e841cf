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
use std::time::Duration;

/// The connection to systemd's notification socket, or nothing outside systemd.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
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

    /// Sends `WATCHDOG=1` at [`watchdog_interval`](Notifier::watchdog_interval) until the
    /// task is dropped; returns at once when there is no watchdog.
    pub async fn keep_watchdog_fed(&self) {
        let Some(every) = self.watchdog_interval().filter(|_| self.is_enabled()) else {
            return;
        };
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            self.watchdog();
        }
    }

    fn send(&self, message: &str) {
        if let Some((socket, address)) = &self.target
            && let Err(e) = socket.send_to_addr(message.as_bytes(), address)
        {
            tracing::debug!(message, error = %e, "systemd notification not sent");
        }
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

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_task_kicks_on_every_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        systemd.set_nonblocking(true).unwrap();
        let notifier = Notifier::from_values(path.to_str(), Some("2000000"), None, 1);
        let feeding =
            tokio::time::timeout(Duration::from_millis(3500), notifier.keep_watchdog_fed());
        assert!(feeding.await.is_err(), "the task runs until it is dropped");
        // Ticks at 0 s, 1 s, 2 s and 3 s of (paused, virtual) time.
        let mut kicks = 0;
        let mut buffer = [0u8; 64];
        while let Ok(length) = systemd.recv(&mut buffer) {
            assert_eq!(&buffer[..length], b"WATCHDOG=1");
            kicks += 1;
        }
        assert_eq!(kicks, 4);
    }
}

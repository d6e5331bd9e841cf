//! Where log lines go: the systemd journal when there is one, and stderr.
//!
//! Under systemd, stderr *is* the journal (systemd sets `$JOURNAL_STREAM` to the device and
//! inode of the stream it connected), so writing both would log every line twice: then the
//! structured journald layer replaces stderr. The daemon (`burnstation run`) also logs to the
//! journal when its socket is there but stderr goes elsewhere (started from a shell on the
//! box, say), so the box's history is in one place; a command run by hand logs only to stderr.
//!
//! `RUST_LOG` overrides the levels; `-v` raises stderr's. Colours only on a terminal.

use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The journal's socket, where journald listens for native messages.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// Who is logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A command a person ran, that ends when its job does.
    Command,
    /// The daemon, from boot to power-off.
    Daemon,
}

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sinks {
    /// Native journal messages (with fields).
    pub journal: bool,
    /// Plain lines on stderr.
    pub stderr: bool,
}

/// What the process can see of its surroundings, for [`choose_sinks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surroundings {
    /// `$JOURNAL_STREAM`: `DEVICE:INODE` of the stream systemd connected to stdout/stderr.
    pub journal_stream: Option<String>,
    /// The device and inode of this process's stderr.
    pub stderr_identity: Option<(u64, u64)>,
    /// Whether journald's socket exists.
    pub journal_socket: bool,
}

impl Surroundings {
    /// This process's surroundings.
    pub fn of_this_process() -> Surroundings {
        let stderr_identity = Path::new("/proc/self/fd/2")
            .metadata()
            .ok()
            .map(|meta| (meta.dev(), meta.ino()));
        Surroundings {
            journal_stream: std::env::var("JOURNAL_STREAM").ok(),
            stderr_identity,
            journal_socket: Path::new(JOURNAL_SOCKET).exists(),
        }
    }

    /// Whether stderr is the journal's stream.
    fn stderr_is_journal(&self) -> bool {
        let Some((device, inode)) = self.stderr_identity else {
            return false;
        };
        self.journal_stream
            .as_deref()
            .and_then(|value| value.split_once(':'))
            .is_some_and(|(d, i)| d.parse() == Ok(device) && i.parse() == Ok(inode))
    }
}

/// Where a process in `role` with these surroundings logs.
pub fn choose_sinks(role: Role, around: &Surroundings) -> Sinks {
    if around.journal_socket && around.stderr_is_journal() {
        return Sinks {
            journal: true,
            stderr: false,
        };
    }
    Sinks {
        journal: role == Role::Daemon && around.journal_socket,
        stderr: true,
    }
}

/// Sets up logging for the process; `verbose` is the number of `-v` flags. Returns where the
/// lines go. Call once, first thing.
pub fn init(role: Role, verbose: u8) -> Sinks {
    let mut sinks = choose_sinks(role, &Surroundings::of_this_process());
    let stderr_level = match (role, verbose) {
        (Role::Command, 0) => "warn",
        (Role::Daemon, 0) | (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter =
        |level: &str| EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let journal = sinks
        .journal
        .then(tracing_journald::layer)
        .and_then(|made| match made {
            Ok(layer) => Some(layer.with_syslog_identifier("burnstation".to_string())),
            // journald went away between the check and the connect: stderr it is.
            Err(_) => None,
        });
    if sinks.journal && journal.is_none() {
        sinks = Sinks {
            journal: false,
            stderr: true,
        };
    }
    let journal_level = if verbose >= 2 { stderr_level } else { "info" };
    let stderr = sinks.stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
    });
    use tracing_subscriber::Layer;
    // Another subscriber already set (a test harness) is not worth failing for.
    let _ = tracing_subscriber::registry()
        .with(journal.map(|layer| layer.with_filter(filter(journal_level))))
        .with(stderr.map(|layer| layer.with_filter(filter(stderr_level))))
        .try_init();
    sinks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(stream: Option<&str>, stderr: Option<(u64, u64)>, socket: bool) -> Surroundings {
        Surroundings {
            journal_stream: stream.map(str::to_string),
            stderr_identity: stderr,
            journal_socket: socket,
        }
    }

    const JOURNAL_ONLY: Sinks = Sinks {
        journal: true,
        stderr: false,
    };
    const STDERR_ONLY: Sinks = Sinks {
        journal: false,
        stderr: true,
    };
    const BOTH: Sinks = Sinks {
        journal: true,
        stderr: true,
    };

    #[test]
    fn under_systemd_stderr_is_the_journal_so_only_the_journal_is_written() {
        let service = around(Some("8:1234"), Some((8, 1234)), true);
        assert_eq!(choose_sinks(Role::Daemon, &service), JOURNAL_ONLY);
        assert_eq!(choose_sinks(Role::Command, &service), JOURNAL_ONLY);
    }

    #[test]
    fn a_stream_inherited_but_redirected_is_not_the_journal() {
        // `burnstation sync 2>file` from a service's shell: JOURNAL_STREAM is inherited, but
        // stderr is now the file.
        let redirected = around(Some("8:1234"), Some((8, 999)), true);
        assert_eq!(choose_sinks(Role::Command, &redirected), STDERR_ONLY);
        assert_eq!(choose_sinks(Role::Daemon, &redirected), BOTH);
    }

    #[test]
    fn without_a_journal_everything_goes_to_stderr() {
        for role in [Role::Command, Role::Daemon] {
            assert_eq!(
                choose_sinks(role, &around(None, Some((1, 2)), false)),
                STDERR_ONLY
            );
            // A stale JOURNAL_STREAM with no journald is not a journal either.
            let stale = around(Some("1:2"), Some((1, 2)), false);
            assert_eq!(choose_sinks(role, &stale), STDERR_ONLY);
        }
        assert_eq!(
            choose_sinks(Role::Command, &around(Some("junk"), None, true)),
            STDERR_ONLY
        );
    }

    #[test]
    fn this_process_is_described_without_failing() {
        let here = Surroundings::of_this_process();
        assert!(here.stderr_identity.is_some());
    }
}

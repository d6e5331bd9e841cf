//! Why a sync failed, in the words a volunteer needs: what happened, and what to do.
//!
//! rsync reports most failures with a handful of exit codes and leaves the reason to the
//! text it (and ssh, underneath it) writes on stderr, so [`classify`] reads both: a host key
//! mismatch, a refused key, a refused or timed-out connection and an unknown host are all
//! exit 255 from ssh, told apart by ssh's own message. The messages it looks for are
//! OpenSSH's and rsync's under `LC_ALL=C`, which the sync sets.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Period;
use crate::events::{Problem, ProblemKind};
use crate::snapshots::StoreError;

/// A sync that did not produce a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// `source.host_key` is empty.
    NoHostKey,
    /// The box's own key is not there.
    KeyMissing {
        /// Where it should be.
        path: PathBuf,
    },
    /// Less free space than `retention.min_free` before starting.
    LowSpace {
        /// Free bytes.
        free: u64,
        /// The setting.
        min_free: u64,
    },
    /// The data partition filled up during the transfer.
    DiskFull,
    /// The server's host key is not the pinned one.
    HostKeyMismatch {
        /// The server.
        host: String,
        /// The fingerprint of the key it offered, when ssh said.
        offered: Option<String>,
    },
    /// The server refused the box's key.
    AuthRefused {
        /// The server.
        host: String,
        /// The account.
        user: String,
    },
    /// Nothing listens on the server's ssh port.
    ConnectionRefused {
        /// The server.
        host: String,
        /// Its port.
        port: u16,
    },
    /// The server could not be reached at all.
    Unreachable {
        /// The server.
        host: String,
        /// ssh's words.
        detail: String,
    },
    /// The server's name could not be looked up.
    HostNotFound {
        /// The server.
        host: String,
    },
    /// The connection broke off during the transfer.
    ConnectionLost {
        /// The server.
        host: String,
    },
    /// The server sent nothing for `source.timeout`.
    Stalled {
        /// The setting.
        timeout: Duration,
    },
    /// The folder to copy is not on the server.
    SourceMissing {
        /// The folder.
        path: String,
        /// rsync's words.
        detail: String,
    },
    /// Files changed or vanished on the server while they were copied.
    SourceChanged {
        /// rsync's words.
        detail: String,
    },
    /// Some files could not be copied.
    Incomplete {
        /// rsync's words.
        detail: String,
    },
    /// rsync (or ssh under it) was killed by a signal.
    Killed {
        /// The signal.
        signal: i32,
    },
    /// The sync was stopped on purpose (a button, Ctrl-C, shutdown).
    Cancelled,
    /// rsync or ssh is not installed.
    ToolMissing {
        /// Which.
        tool: &'static str,
    },
    /// Any other rsync failure.
    Rsync {
        /// Its exit code.
        code: i32,
        /// Its last words.
        detail: String,
    },
    /// The snapshot store.
    Store(#[from] StoreError),
}

impl SyncError {
    /// What kind of trouble it is.
    pub fn kind(&self) -> ProblemKind {
        match self {
            SyncError::NoHostKey | SyncError::KeyMissing { .. } => ProblemKind::Config,
            SyncError::LowSpace { .. } | SyncError::DiskFull => ProblemKind::DiskFull,
            SyncError::HostKeyMismatch { .. } => ProblemKind::HostKey,
            SyncError::AuthRefused { .. } => ProblemKind::Auth,
            SyncError::ConnectionRefused { .. }
            | SyncError::Unreachable { .. }
            | SyncError::HostNotFound { .. }
            | SyncError::ConnectionLost { .. }
            | SyncError::Stalled { .. } => ProblemKind::Network,
            SyncError::SourceMissing { .. }
            | SyncError::SourceChanged { .. }
            | SyncError::Incomplete { .. } => ProblemKind::Source,
            SyncError::Killed { .. }
            | SyncError::Cancelled
            | SyncError::ToolMissing { .. }
            | SyncError::Rsync { .. } => ProblemKind::Internal,
            SyncError::Store(StoreError::Busy { .. }) => ProblemKind::Busy,
            SyncError::Store(StoreError::ClockBehind { .. }) => ProblemKind::Clock,
            SyncError::Store(StoreError::Io { .. }) => ProblemKind::DiskFull,
        }
    }

    /// What happened.
    pub fn what(&self) -> String {
        match self {
            SyncError::NoHostKey => "the box does not know the backup server's host key yet \
                                     (source.host_key is empty)"
                .to_string(),
            SyncError::KeyMissing { path } => {
                format!("the box's own ssh key {} is missing", path.display())
            }
            SyncError::LowSpace { free, min_free } => format!(
                "only {} is free on the data partition, less than retention.min_free ({})",
                size(*free),
                size(*min_free)
            ),
            SyncError::DiskFull => "the data partition filled up during the sync".to_string(),
            SyncError::HostKeyMismatch { host, offered } => match offered {
                Some(fingerprint) => format!(
                    "{host} answered with host key {fingerprint}, not the one in source.host_key"
                ),
                None => format!("{host} did not prove the host key in source.host_key"),
            },
            SyncError::AuthRefused { host, user } => {
                format!("{host} refused the box's key for the account {user}")
            }
            SyncError::ConnectionRefused { host, port } => {
                format!("{host} refused the connection on port {port}")
            }
            SyncError::Unreachable { host, detail } => {
                format!("{host} could not be reached ({detail})")
            }
            SyncError::HostNotFound { host } => {
                format!("the server name {host} could not be looked up")
            }
            SyncError::ConnectionLost { host } => {
                format!("the connection to {host} broke off during the sync")
            }
            SyncError::Stalled { timeout } => format!(
                "the server sent nothing for {} (source.timeout)",
                Period(*timeout)
            ),
            SyncError::SourceMissing { path, detail } => {
                format!("the folder {path} is not on the server ({detail})")
            }
            SyncError::SourceChanged { detail } => {
                format!("files changed or vanished on the server during the copy ({detail})")
            }
            SyncError::Incomplete { detail } => {
                format!("some files could not be copied ({detail})")
            }
            SyncError::Killed { signal } => format!("rsync was killed (signal {signal})"),
            SyncError::Cancelled => "the sync was stopped".to_string(),
            SyncError::ToolMissing { tool } => format!("{tool} is not installed on the box"),
            SyncError::Rsync { code, detail } => {
                format!(
                    "rsync failed ({}, code {code}: {detail})",
                    rsync_meaning(*code)
                )
            }
            SyncError::Store(error) => error.to_string(),
        }
    }

    /// What to do about it.
    pub fn action(&self) -> String {
        let action = match self {
            SyncError::NoHostKey => {
                "ask your administrator for it and paste it into burnstation.toml"
            }
            SyncError::KeyMissing { .. } => {
                "restart the box to make a new one, then send the new burnstation.pub to your \
                 administrator"
            }
            SyncError::LowSpace { .. } | SyncError::DiskFull => {
                "keep fewer snapshots (retention.keep_snapshots) or use a larger SD card"
            }
            SyncError::HostKeyMismatch { .. } => {
                "ask your administrator whether the server changed; change source.host_key only \
                 with the key they send, never from this message"
            }
            SyncError::AuthRefused { .. } => {
                "send burnstation.pub (on the SD card) to your administrator, and check \
                 source.user"
            }
            SyncError::ConnectionRefused { .. } => {
                "check source.host and source.port, or ask your administrator whether the server \
                 is up"
            }
            SyncError::Unreachable { .. } => {
                "check the box's network cable or Wi-Fi, and source.host; the box tries again \
                 by itself"
            }
            SyncError::HostNotFound { .. } => {
                "check source.host and the box's network; the box tries again by itself"
            }
            SyncError::ConnectionLost { .. } | SyncError::Stalled { .. } => {
                "nothing to do: the box tries again by itself and resumes where it stopped"
            }
            SyncError::SourceMissing { .. } => {
                "check source.path, or ask your administrator whether the backups moved"
            }
            SyncError::SourceChanged { .. } => {
                "nothing to do: the server was probably writing its backups, and the box tries \
                 again later"
            }
            SyncError::Incomplete { .. } => {
                "the box tries again by itself; if this stays, tell your administrator"
            }
            SyncError::Killed { .. } => {
                "the box tries again by itself; if this keeps happening, it may be short of \
                 memory"
            }
            SyncError::Cancelled => "start it again when you want it",
            SyncError::ToolMissing { .. } | SyncError::Rsync { .. } => {
                "the box tries again by itself; if this stays, tell your administrator"
            }
            // The store's messages say what to do themselves.
            SyncError::Store(_) => return String::new(),
        };
        action.to_string()
    }

    /// The error for the display and the event stream.
    pub fn problem(&self) -> Problem {
        let mut what = self.what();
        let mut action = self.action();
        if action.is_empty()
            && let Some((said, todo)) = what.clone().rsplit_once("; ")
        {
            what = said.to_string();
            action = todo.to_string();
        }
        Problem {
            kind: self.kind(),
            what,
            action,
        }
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = self.action();
        if action.is_empty() {
            f.write_str(&self.what())
        } else {
            write!(f, "{}; {action}", self.what())
        }
    }
}

fn size(bytes: u64) -> String {
    crate::config::ByteSize(bytes).to_string()
}

/// What rsync's exit codes mean (rsync(1), EXIT VALUES).
fn rsync_meaning(code: i32) -> &'static str {
    match code {
        1 => "syntax or usage error",
        2 => "protocol incompatibility",
        3 => "errors selecting input/output files",
        4 => "requested action not supported",
        5 => "error starting client-server protocol",
        10 => "error in socket I/O",
        11 => "error in file I/O",
        12 => "error in rsync protocol data stream",
        13 => "errors with program diagnostics",
        14 => "error in IPC code",
        20 => "received SIGUSR1 or SIGINT",
        21 => "some error returned by waitpid()",
        22 => "error allocating core memory buffers",
        23 => "partial transfer due to error",
        24 => "partial transfer due to vanished source files",
        25 => "the --max-delete limit stopped deletions",
        30 => "timeout in data send/receive",
        35 => "timeout waiting for daemon connection",
        255 => "the remote shell failed",
        _ => "unknown error",
    }
}

/// How rsync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// With an exit code.
    Code(i32),
    /// Killed by a signal.
    Signal(i32),
}

/// What the error messages name.
#[derive(Debug, Clone)]
pub struct Remote<'a> {
    /// The server.
    pub host: &'a str,
    /// Its port.
    pub port: u16,
    /// The account.
    pub user: &'a str,
    /// The folder.
    pub path: &'a str,
    /// `source.timeout`.
    pub timeout: Duration,
}

/// The failure an rsync run that ended as `ended`, having written `stderr`, stands for.
pub fn classify(ended: Ended, stderr: &str, remote: &Remote<'_>) -> SyncError {
    let host = remote.host.to_string();
    let has = |needle: &str| stderr.contains(needle);
    let code = match ended {
        Ended::Signal(signal) => return SyncError::Killed { signal },
        Ended::Code(code) => code,
    };
    if has("Host key verification failed")
        || has("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || has("no matching host key type found")
    {
        return SyncError::HostKeyMismatch {
            host,
            offered: offered_fingerprint(stderr),
        };
    }
    // ssh lists the methods it tried, "Permission denied (publickey)."; a file rsync may not
    // read is "Permission denied (13)".
    let auth_refused = stderr
        .split("Permission denied (")
        .skip(1)
        .any(|after| after.starts_with(|c: char| c.is_ascii_alphabetic()));
    if auth_refused {
        return SyncError::AuthRefused {
            host,
            user: remote.user.to_string(),
        };
    }
    if has("Connection refused") {
        return SyncError::ConnectionRefused {
            host,
            port: remote.port,
        };
    }
    if has("Could not resolve hostname") {
        return SyncError::HostNotFound { host };
    }
    for reason in [
        "Connection timed out",
        "timed out during banner exchange",
        "No route to host",
        "Network is unreachable",
    ] {
        if has(reason) {
            return SyncError::Unreachable {
                host,
                detail: reason.to_lowercase(),
            };
        }
    }
    if has("No space left on device") || has("Disk quota exceeded") {
        return SyncError::DiskFull;
    }
    if code == 30 || has("io timeout after") {
        return SyncError::Stalled {
            timeout: remote.timeout,
        };
    }
    if code == 24 || has("file has vanished") {
        let vanished = stderr.lines().find(|l| l.contains("file has vanished"));
        let detail = vanished.map_or_else(|| first_rsync_error(stderr), |l| l.trim().to_string());
        return SyncError::SourceChanged { detail };
    }
    let detail = first_rsync_error(stderr);
    if code == 23 {
        // The folder itself is missing: rsync could not enter it (or stat it).
        let missing_root = stderr.lines().any(|line| {
            (line.contains("change_dir") || line.contains("link_stat"))
                && line.contains("No such file or directory")
        });
        if missing_root {
            return SyncError::SourceMissing {
                path: remote.path.to_string(),
                detail,
            };
        }
        return SyncError::Incomplete { detail };
    }
    if has("connection unexpectedly closed")
        || has("Broken pipe")
        || has("Connection reset by peer")
        || has("Connection closed by")
    {
        return SyncError::ConnectionLost { host };
    }
    SyncError::Rsync { code, detail }
}

/// ssh's "The fingerprint for the ED25519 key sent by the remote host is\nSHA256:...".
fn offered_fingerprint(stderr: &str) -> Option<String> {
    let start = stderr.find("SHA256:")?;
    let fingerprint: String = stderr[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(fingerprint.trim_end_matches('.').to_string())
}

/// rsync's first `rsync: ...` error line, without its prefix; or its last line.
fn first_rsync_error(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("rsync: ") && !l.contains("connection unexpectedly closed"))
        .or_else(|| stderr.lines().rfind(|l| !l.trim().is_empty()))
        .unwrap_or("no message");
    let line = line.strip_prefix("rsync: ").unwrap_or(line);
    // "[sender] change_dir ..." reads better without the process tag.
    let line = line
        .strip_prefix("[sender] ")
        .or_else(|| line.strip_prefix("[receiver] "))
        .or_else(|| line.strip_prefix("[Receiver] "))
        .or_else(|| line.strip_prefix("[generator] "))
        .unwrap_or(line);
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REMOTE: Remote<'static> = Remote {
        host: "backup.example.org",
        port: 2222,
        user: "burnstation",
        path: "/srv/backups",
        timeout: Duration::from_secs(600),
    };

    /// What ssh 9.2 and rsync 3.x wrote in each case (captured from real runs).
    const CHANGED_KEY: &str = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
The fingerprint for the ED25519 key sent by the remote host is
SHA256:TlG3Jt/7hrf4/1fcjotgFEP7gnzuGTleD3g7Pa8Yfhg.
Host key for burnstation-source has changed and you have requested strict checking.
Host key verification failed.
rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]
rsync error: unexplained error (code 255) at io.c(285) [Receiver=3.5.0]
";

    #[test]
    fn each_failure_is_told_apart_by_what_ssh_and_rsync_said() {
        let table: &[(Ended, &str, &str)] = &[
            (
                Ended::Code(255),
                CHANGED_KEY,
                "SHA256:TlG3Jt/7hrf4/1fcjotgFEP7gnzuGTleD3g7Pa8Yfhg, not the one",
            ),
            (
                Ended::Code(255),
                "No ED25519 host key is known for burnstation-source and you have requested strict checking.\nHost key verification failed.\n",
                "did not prove the host key",
            ),
            (
                Ended::Code(255),
                "root@127.0.0.1: Permission denied (publickey).\nrsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\n",
                "refused the box's key for the account burnstation",
            ),
            (
                Ended::Code(12),
                "ssh: connect to host 127.0.0.1 port 22022: Connection refused\nrsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\n",
                "refused the connection on port 2222",
            ),
            (
                Ended::Code(255),
                "Connection timed out during banner exchange\nConnection to 10.255.255.1 port 22 timed out\n",
                "could not be reached",
            ),
            (
                Ended::Code(255),
                "ssh: connect to host 10.0.0.9 port 22: No route to host\n",
                "no route to host",
            ),
            (
                Ended::Code(255),
                "ssh: Could not resolve hostname nonexistent.invalid: Name or service not known\n",
                "could not be looked up",
            ),
            (
                Ended::Code(11),
                "rsync: [receiver] write failed on \"/data/staging/tree/big\": No space left on device (28)\n",
                "filled up",
            ),
            (
                Ended::Code(30),
                "[receiver] io timeout after 600 seconds -- exiting\n",
                "sent nothing for 10m",
            ),
            (
                Ended::Code(23),
                "rsync: [sender] change_dir \"/srv/backups\" failed: No such file or directory (2)\nrsync error: some files/attrs were not transferred (see previous errors) (code 23)\n",
                "the folder /srv/backups is not on the server (change_dir \"/srv/backups\" failed",
            ),
            (
                Ended::Code(24),
                "file has vanished: \"/srv/backups/db/wal.0001\"\n",
                "changed or vanished",
            ),
            (
                Ended::Code(23),
                "rsync: [sender] send_files failed to open \"/srv/backups/secret\": Permission denied (13)\n",
                "some files could not be copied (send_files failed to open",
            ),
            (
                Ended::Code(12),
                "Connection closed by 127.0.0.1 port 22022\nrsync: connection unexpectedly closed (123456 bytes received so far) [receiver]\n",
                "broke off",
            ),
            (Ended::Signal(9), "", "killed (signal 9)"),
            (
                Ended::Code(2),
                "rsync: protocol version mismatch\n",
                "protocol incompatibility, code 2",
            ),
        ];
        for (ended, stderr, says) in table {
            let error = classify(*ended, stderr, &REMOTE);
            let sentence = error.to_string();
            assert!(sentence.contains(says), "{ended:?} {stderr:?}: {sentence}");
            let problem = error.problem();
            assert!(
                !problem.what.is_empty() && !problem.action.is_empty(),
                "{sentence}"
            );
        }
    }

    #[test]
    fn store_errors_split_into_what_and_what_to_do() {
        let error = SyncError::Store(StoreError::Busy {
            lock: PathBuf::from("/data/sync.lock"),
        });
        let problem = error.problem();
        assert_eq!(problem.kind, ProblemKind::Busy);
        assert!(problem.what.contains("another sync"), "{problem:?}");
        assert_eq!(problem.action, "wait for it to finish");
        assert_eq!(error.to_string(), problem.to_string());
    }
}

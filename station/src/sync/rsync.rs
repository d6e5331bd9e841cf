//! Running the real rsync over ssh: its command line, the child process, its output, and
//! stopping it.
//!
//! ssh is told everything on its command line (`-F none`: no user or system ssh config), so
//! the box behaves the same whatever else is installed: the box's key only, the server's
//! pinned key only (a `known_hosts` file of one line under a fixed alias, `HostKeyAlgorithms`
//! limited to the pinned key's type so the server cannot offer another one), no questions
//! (`BatchMode`), and a bounded connect.
//!
//! rsync runs in a process group of its own, so that stopping it stops ssh too: SIGTERM to
//! the group (rsync then keeps the partly transferred file in `--partial-dir`), SIGKILL after
//! a grace period. If the daemon itself dies (`kill -9`, a crash), the kernel kills rsync
//! (`PR_SET_PDEATHSIG`) so that no orphan keeps writing into staging while a new daemon
//! starts another sync there. PDEATHSIG fires when the spawning *thread* ends; rsync is
//! spawned from the async runtime's own threads (never from `spawn_blocking`), which live as
//! long as the daemon.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use super::error::{Ended, Remote, SyncError};
use super::progress::{LineSplitter, RsyncProgress, RsyncStats, parse_line};
use crate::events::{EventBus, Progress, Stage};

/// The name the pinned host key is filed under in our `known_hosts`, whatever the server's
/// name or port: ssh looks it up by this alias.
pub const HOST_KEY_ALIAS: &str = "burnstation-source";
/// How long ssh may take to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long rsync gets to stop after SIGTERM before the group is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Progress is published at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Lines of stderr kept for the error message (the first ones say why; the rest may be
/// thousands of per-file complaints).
const STDERR_HEAD: usize = 200;
const STDERR_TAIL: usize = 20;

/// One rsync run.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// The server, account and folder.
    pub remote: Remote<'a>,
    /// The box's private key.
    pub key: &'a Path,
    /// The `known_hosts` file holding the pinned key under [`HOST_KEY_ALIAS`].
    pub known_hosts: &'a Path,
    /// `HostKeyAlgorithms` for the pinned key.
    pub host_key_algorithms: &'a str,
    /// KiB/s, 0 for no limit.
    pub bandwidth_limit: u32,
    /// Where partly transferred files wait for the next try.
    pub partial_dir: &'a Path,
    /// The previous snapshot's tree, whose unchanged files are linked instead of copied.
    pub link_dest: Option<&'a Path>,
    /// Where the tree is written.
    pub destination: &'a Path,
}

/// The `-e` command: ssh with everything on its command line.
pub fn ssh_command(run: &Invocation<'_>) -> String {
    let words = [
        "ssh".to_string(),
        "-F".to_string(),
        "none".to_string(),
        "-i".to_string(),
        run.key.display().to_string(),
        "-p".to_string(),
        run.remote.port.to_string(),
        "-o".to_string(),
        "BatchMode=yes".to_string(),
        "-o".to_string(),
        "IdentitiesOnly=yes".to_string(),
        "-o".to_string(),
        "StrictHostKeyChecking=yes".to_string(),
        "-o".to_string(),
        format!("UserKnownHostsFile={}", run.known_hosts.display()),
        "-o".to_string(),
        "GlobalKnownHostsFile=/dev/null".to_string(),
        "-o".to_string(),
        format!("HostKeyAlias={HOST_KEY_ALIAS}"),
        "-o".to_string(),
        format!("HostKeyAlgorithms={}", run.host_key_algorithms),
        "-o".to_string(),
        "UpdateHostKeys=no".to_string(),
        "-o".to_string(),
        format!("ConnectTimeout={}", CONNECT_TIMEOUT.as_secs()),
    ];
    words
        .iter()
        .map(|w| quote_for_rsync(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes a word of the `-e` command the way rsync splits it: spaces separate words, and
/// single quotes keep a word whole (a single quote inside is doubled).
fn quote_for_rsync(word: &str) -> String {
    if !word.is_empty() && !word.contains([' ', '\'', '"']) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "''"))
}

/// rsync's arguments.
pub fn arguments(run: &Invocation<'_>) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--archive",
        "--hard-links",
        "--numeric-ids",
        "--delete",
        // The totals come from the whole file list, so the percentage means something.
        "--no-inc-recursive",
        "--info=progress2",
        "--stats",
        "--no-human-readable",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let mut flag = |name: &str, value: &dyn AsRef<std::ffi::OsStr>| {
        let mut arg = OsString::from(name);
        arg.push(value);
        args.push(arg);
    };
    flag("--partial-dir=", &run.partial_dir);
    flag(
        "--timeout=",
        &run.remote.timeout.as_secs().max(1).to_string(),
    );
    if run.bandwidth_limit > 0 {
        flag("--bwlimit=", &run.bandwidth_limit.to_string());
    }
    if let Some(previous) = run.link_dest {
        flag("--link-dest=", &previous);
    }
    args.push("-e".into());
    args.push(ssh_command(run).into());
    args.push("--".into());
    args.push(source_argument(&run.remote).into());
    let mut destination = run.destination.as_os_str().to_owned();
    destination.push("/");
    args.push(destination);
    args
}

/// `user@host:path/`: the trailing slash copies the folder's contents, not the folder.
fn source_argument(remote: &Remote<'_>) -> String {
    let host = if remote.host.contains(':') {
        format!("[{}]", remote.host)
    } else {
        remote.host.to_string()
    };
    let path = if remote.path.ends_with('/') {
        remote.path.to_string()
    } else {
        format!("{}/", remote.path)
    };
    format!("{}@{host}:{path}", remote.user)
}

/// How an rsync run ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit.
    pub ended: Ended,
    /// What it wrote on stderr (the first and last lines).
    pub stderr: String,
    /// Its statistics (all zero unless it finished).
    pub stats: RsyncStats,
}

/// Runs rsync, publishing its progress on `events`, until it ends or `cancel` is raised.
pub async fn run(
    run: &Invocation<'_>,
    events: &EventBus,
    cancel: &CancellationToken,
) -> Result<Finished, SyncError> {
    let mut command = Command::new("rsync");
    command
        .args(arguments(run))
        // rsync's and ssh's messages are matched in English.
        .env("LC_ALL", "C")
        // Only the daemon talks to systemd.
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    die_with_parent(&mut command);
    tracing::debug!(args = ?arguments(run), "starting rsync");
    let mut child = command.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SyncError::ToolMissing { tool: "rsync" },
        _ => SyncError::Rsync {
            code: -1,
            detail: format!("could not start rsync: {e}"),
        },
    })?;
    let group = child.id().map(|pid| Pid::from_raw(pid as i32));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let finished = {
        let watch = async {
            let incremental = run.link_dest.is_some();
            let (stats, stderr) = tokio::join!(
                publish_progress(stdout, events, incremental),
                keep_stderr(stderr)
            );
            let status = child.wait().await;
            (status, stats, stderr)
        };
        tokio::select! {
            done = watch => Some(done),
            () = cancel.cancelled() => None,
        }
    };
    let Some((status, stats, stderr)) = finished else {
        stop(&mut child, group).await;
        return Err(SyncError::Cancelled);
    };
    // ssh (or anything rsync started) may outlive it; nothing of the group stays behind.
    if let Some(group) = group {
        let _ = killpg(group, Signal::SIGKILL);
    }
    let status = status.map_err(|e| SyncError::Rsync {
        code: -1,
        detail: format!("could not wait for rsync: {e}"),
    })?;
    let ended = match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Code(code),
        (None, Some(signal)) => Ended::Signal(signal),
        (None, None) => Ended::Code(-1),
    };
    if !stderr.trim().is_empty() {
        tracing::debug!(?ended, stderr = %stderr, "rsync finished");
    }
    Ok(Finished {
        ended,
        stderr,
        stats,
    })
}

/// Stops rsync and ssh: SIGTERM to the group, SIGKILL if it is still there after a grace.
async fn stop(child: &mut Child, group: Option<Pid>) {
    if let Some(group) = group {
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(STOP_GRACE, child.wait())
            .await
            .is_err()
        {
            tracing::warn!("rsync did not stop within {STOP_GRACE:?} of SIGTERM; killing it");
        }
        let _ = killpg(group, Signal::SIGKILL);
    }
    let _ = child.kill().await;
}

/// Reads rsync's stdout, publishing its progress at most every [`PROGRESS_EVERY`] (and the
/// last line always), and returns the statistics it ends with.
async fn publish_progress(
    stdout: Option<impl AsyncRead + Unpin>,
    events: &EventBus,
    incremental: bool,
) -> RsyncStats {
    let mut stats = RsyncStats::default();
    let Some(mut stdout) = stdout else {
        return stats;
    };
    let mut splitter = LineSplitter::default();
    let mut buffer = [0u8; 4096];
    let mut last = None;
    let mut published_at: Option<Instant> = None;
    let mut unpublished = false;
    let mut take = |line: &str, last: &mut Option<RsyncProgress>| {
        if let Some(progress) = parse_line(line) {
            *last = Some(progress);
            true
        } else {
            stats.read_line(line);
            false
        }
    };
    loop {
        let read = match stdout.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        for line in splitter.push(&buffer[..read]) {
            unpublished |= take(&line, &mut last);
        }
        let due = published_at.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
        if due
            && unpublished
            && let Some(progress) = &last
        {
            events.progress(as_event(progress, incremental));
            published_at = Some(Instant::now());
            unpublished = false;
        }
    }
    if let Some(line) = splitter.finish() {
        unpublished |= take(&line, &mut last);
    }
    if unpublished && let Some(progress) = &last {
        events.progress(as_event(progress, incremental));
    }
    stats
}

/// rsync's line as an event. Its bytes are the bytes transferred and its percentage is of
/// the whole tree, so the total is only known on a first sync, where everything is
/// transferred; after that (unchanged files are linked, not sent), progress is the count of
/// files checked.
fn as_event(progress: &RsyncProgress, incremental: bool) -> Progress {
    let (total_bytes, eta) = if incremental {
        (None, None)
    } else {
        (progress.total_estimate(), progress.eta())
    };
    let files = progress.files_to_check;
    Progress {
        stage: Stage::Sync,
        disc: None,
        done_bytes: progress.bytes,
        total_bytes,
        items_done: files.map(|(left, all)| all.saturating_sub(left)),
        items_total: files.map(|(_, all)| all),
        bytes_per_second: progress.bytes_per_second,
        eta_seconds: eta.map(|eta| eta.as_secs()),
        buffer_fill: None,
    }
}

/// Keeps the first and last lines of stderr, logging each at debug level.
async fn keep_stderr(stderr: Option<impl AsyncRead + Unpin>) -> String {
    let Some(stderr) = stderr else {
        return String::new();
    };
    let mut lines = BufReader::new(stderr).lines();
    let mut head = Vec::new();
    let mut tail = VecDeque::new();
    let mut skipped = 0u64;
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "burnstation::sync::rsync", "{line}");
        if head.len() < STDERR_HEAD {
            head.push(line);
        } else {
            tail.push_back(line);
            if tail.len() > STDERR_TAIL {
                tail.pop_front();
                skipped += 1;
            }
        }
    }
    if skipped > 0 {
        head.push(format!("... {skipped} more lines ..."));
    }
    head.extend(tail);
    head.join("\n")
}

/// Makes the kernel SIGKILL rsync when the thread that started it ends (see the module doc).
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one prctl system call, allocates
    // nothing, takes no lock, and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn the_command_line_pins_everything_and_quotes_what_rsync_would_split() {
        let key = PathBuf::from("/data/keys/id ed25519");
        let known_hosts = PathBuf::from("/data/known_hosts");
        let partial = PathBuf::from("/data/partial");
        let previous = PathBuf::from("/data/snapshots/2026-11-25T030000Z/tree");
        let destination = PathBuf::from("/data/staging/tree");
        let run = Invocation {
            remote: Remote {
                host: "2001:db8::1",
                port: 2222,
                user: "box",
                path: "/srv/backups",
                timeout: Duration::from_secs(600),
            },
            key: &key,
            known_hosts: &known_hosts,
            host_key_algorithms: "ssh-ed25519",
            bandwidth_limit: 512,
            partial_dir: &partial,
            link_dest: Some(&previous),
            destination: &destination,
        };
        let args: Vec<String> = arguments(&run)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        let ssh = "ssh -F none -i '/data/keys/id ed25519' -p 2222 -o BatchMode=yes \
                   -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
                   -o UserKnownHostsFile=/data/known_hosts -o GlobalKnownHostsFile=/dev/null \
                   -o HostKeyAlias=burnstation-source -o HostKeyAlgorithms=ssh-ed25519 \
                   -o UpdateHostKeys=no -o ConnectTimeout=30";
        assert_eq!(
            args,
            [
                "--archive",
                "--hard-links",
                "--numeric-ids",
                "--delete",
                "--no-inc-recursive",
                "--info=progress2",
                "--stats",
                "--no-human-readable",
                "--partial-dir=/data/partial",
                "--timeout=600",
                "--bwlimit=512",
                "--link-dest=/data/snapshots/2026-11-25T030000Z/tree",
                "-e",
                ssh,
                "--",
                "box@[2001:db8::1]:/srv/backups/",
                "/data/staging/tree/",
            ]
        );
        assert_eq!(quote_for_rsync("it's"), "'it''s'");
    }
}

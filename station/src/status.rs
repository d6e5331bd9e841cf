//! The daemon's status socket, which `burnstation status` reads: what the running station
//! is doing, from outside it.
//!
//! A Unix stream socket, [`SOCKET_FILE`] in the data directory (or where `--socket` says),
//! open to the station's user and group (mode 0660): an administrator logged into the box,
//! a test, or the QEMU boot test asks the service it started. The protocol is one line each
//! way and then events:
//!
//! ```text
//! client: status\n            client: follow\n
//! daemon: {"event":"state",...}\n      (the current state)
//! daemon: {"event":"progress",...}\n   (the running stage's latest progress, if any)
//!         (closes)                      then every event as it is published, until the
//!                                       client closes
//! ```
//!
//! Every line is an [`Event`] as [`Event::to_json_line`] writes it: the same stream the
//! display and the log read, so a status can never say something the display does not.
//! The server never holds up the daemon: it reads the bus like any other reader (a client
//! that falls behind is told it lagged and given the current state again), and each client
//! has a thread of its own.
//!
//! Only one daemon may own a data directory. A socket file that answers means another one
//! runs, and [`StatusServer::start`] refuses; one that does not (left by a power cut or a
//! `kill -9`) is removed and bound again.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::events::{Event, EventBus, Progress, Stage, State, TryRecv};

/// The socket's name in the data directory.
pub const SOCKET_FILE: &str = "burnstation.sock";

/// How often the accept loop and the followers look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// How long a client may take to send its request line.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write to a client may block before the client is dropped (a reader that
/// stopped reading must not keep a thread forever).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// The current state and progress, then the connection closes.
    Status,
    /// The current state and progress, then every event until the client closes.
    Follow,
}

impl Query {
    fn line(self) -> &'static str {
        match self {
            Query::Status => "status\n",
            Query::Follow => "follow\n",
        }
    }

    fn parse(line: &str) -> Option<Query> {
        match line.trim() {
            "status" => Some(Query::Status),
            "follow" => Some(Query::Follow),
            _ => None,
        }
    }
}

/// Why the socket could not be served or asked.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Another daemon answers on the socket: it owns this data directory.
    #[error(
        "another station daemon is running with this data directory (it answers on {path}); \
         stop it first (`systemctl stop burnstation`, or end the other `burnstation run`)"
    )]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// Nobody answers on the socket.
    #[error(
        "the station daemon is not running (nothing answers on {path}); start it with \
         `systemctl start burnstation` or `burnstation run`, or give the socket of the one \
         that runs with --socket or its settings file with --config"
    )]
    NotRunning {
        /// The socket.
        path: PathBuf,
    },
    /// Not allowed to open the socket.
    #[error(
        "not allowed to open {path}; run this as the station's user, as a member of its group, \
         or as root"
    )]
    NotAllowed {
        /// The socket.
        path: PathBuf,
    },
    /// Any other failure on the socket.
    #[error("the status socket {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The daemon sent a line that is not an event (a different version of the station?).
    #[error("the daemon on {path} sent a line this command cannot read ({reason}): {line:?}")]
    BadLine {
        /// The socket.
        path: PathBuf,
        /// The line.
        line: String,
        /// Why it is not an event.
        reason: String,
    },
}

/// The running server; dropping it stops accepting and removes the socket file.
#[derive(Debug)]
pub struct StatusServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    /// The accept loop, which returns the client threads still running when it stops.
    accept: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl StatusServer {
    /// Serves `bus` on a socket at `path`.
    pub fn start(path: &Path, bus: &EventBus) -> Result<StatusServer, StatusError> {
        let io_err = |source| StatusError::Io {
            path: path.to_path_buf(),
            source,
        };
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(StatusError::InUse {
                    path: path.to_path_buf(),
                });
            }
            // Left behind by a daemon that did not stop cleanly.
            std::fs::remove_file(path).map_err(io_err)?;
        }
        let listener = UnixListener::bind(path).map_err(io_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io_err)?;
        // Non-blocking, so that the loop sees the stop flag without a wake-up connection.
        listener.set_nonblocking(true).map_err(io_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (bus, stop) = (bus.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("status".into())
                .spawn(move || accept_loop(listener, bus, stop))
                .map_err(io_err)?
        };
        Ok(StatusServer {
            path: path.to_path_buf(),
            stop,
            accept: Some(accept),
        })
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The clients are waited for too: each sends what was published up to now (the
        // daemon's last state) before it closes.
        if let Some(accept) = self.accept.take()
            && let Ok(clients) = accept.join()
        {
            for client in clients {
                let _ = client.join();
            }
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop(
    listener: UnixListener,
    bus: EventBus,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (bus, stop) = (bus.clone(), Arc::clone(&stop));
                let spawned = std::thread::Builder::new()
                    .name("status-client".into())
                    .spawn(move || {
                        if let Err(e) = serve(stream, &bus, &stop) {
                            tracing::debug!("a status client went away: {e}");
                        }
                    });
                match spawned {
                    Ok(client) => clients.push(client),
                    Err(e) => tracing::warn!("cannot answer a status client ({e})"),
                }
                clients.retain(|client| !client.is_finished());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) => {
                tracing::warn!("the status socket stopped accepting ({e})");
                std::thread::sleep(POLL);
            }
        }
    }
    clients
}

/// Answers one client.
fn serve(stream: UnixStream, bus: &EventBus, stop: &AtomicBool) -> io::Result<()> {
    // The accepted socket inherits nothing from the listener on Linux, but say it anyway:
    // the reads and writes below block, with timeouts.
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let line = read_request(&stream)?;
    let mut out = &stream;
    let Some(query) = Query::parse(&line) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown request {line:?}"),
        ));
    };
    let mut events = bus.subscribe();
    let mut current = String::new();
    if let Some(state) = events.take_current() {
        current.push_str(&Event::State(state).to_json_line());
    }
    if let Some(progress) = bus.current_progress() {
        current.push_str(&Event::Progress(progress).to_json_line());
    }
    out.write_all(current.as_bytes())?;
    if query == Query::Status {
        return Ok(());
    }
    loop {
        // Read before the queue, so that what was published before the daemon stopped (its
        // last state) still reaches the client.
        let stopping = stop.load(Ordering::Relaxed);
        match events.try_recv() {
            TryRecv::Event(event) => out.write_all(event.to_json_line().as_bytes())?,
            TryRecv::Empty if stopping => return Ok(()),
            TryRecv::Empty => std::thread::sleep(POLL / 2),
            TryRecv::Closed => return Ok(()),
        }
    }
}

/// The client's request line. A request is a word: 64 bytes is plenty, and a client cannot
/// make the daemon buffer more.
fn read_request(stream: &UnixStream) -> io::Result<String> {
    let mut line = String::new();
    BufReader::new(io::Read::take(stream, 64)).read_line(&mut line)?;
    Ok(line)
}

/// A connection to the daemon's socket, yielding its events.
#[derive(Debug)]
pub struct StatusClient {
    path: PathBuf,
    lines: io::Lines<BufReader<UnixStream>>,
}

impl StatusClient {
    /// Connects to the daemon on `path` and asks `query`.
    pub fn connect(path: &Path, query: Query) -> Result<StatusClient, StatusError> {
        let stream = UnixStream::connect(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => StatusError::NotRunning {
                path: path.to_path_buf(),
            },
            io::ErrorKind::PermissionDenied => StatusError::NotAllowed {
                path: path.to_path_buf(),
            },
            _ => StatusError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let io_err = |source| StatusError::Io {
            path: path.to_path_buf(),
            source,
        };
        (&stream)
            .write_all(query.line().as_bytes())
            .map_err(io_err)?;
        Ok(StatusClient {
            path: path.to_path_buf(),
            lines: BufReader::new(stream).lines(),
        })
    }
}

impl Iterator for StatusClient {
    type Item = Result<Event, StatusError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.lines.next()? {
            Ok(line) => line,
            Err(source) => {
                return Some(Err(StatusError::Io {
                    path: self.path.clone(),
                    source,
                }));
            }
        };
        Some(
            Event::from_json_line(&line).map_err(|e| StatusError::BadLine {
                path: self.path.clone(),
                line,
                reason: e.to_string(),
            }),
        )
    }
}

/// A state in words, for a person reading `burnstation status`.
pub fn describe_state(state: &State, now: DateTime<Utc>) -> String {
    let when = |at: &DateTime<Utc>| {
        let wait = (*at - now).num_seconds().max(0);
        format!(
            "{} (in {})",
            at.format("%Y-%m-%d %H:%M UTC"),
            humantime_serde::re::humantime::format_duration(Duration::from_secs(wait as u64))
        )
    };
    match state {
        State::Starting => "starting".to_string(),
        State::ConfigInvalid { problem } => format!("the settings file is wrong: {problem}"),
        State::WaitingForClock => {
            "waiting for the clock to be set from the network before any schedule".to_string()
        }
        State::Idle {
            next_sync,
            last_snapshot,
        } => {
            let mut text = "idle".to_string();
            match next_sync {
                Some(at) => {
                    let _ = write!(text, "; next sync {}", when(at));
                }
                None => text.push_str("; no sync scheduled"),
            }
            match last_snapshot {
                Some(name) => {
                    let _ = write!(text, "; newest snapshot {name}");
                }
                None => text.push_str("; no snapshot yet"),
            }
            text
        }
        State::Syncing => "copying the backup tree from the server".to_string(),
        State::SyncFailed { problem, retry_at } => {
            format!(
                "the last sync failed: {problem}; next try {}",
                when(retry_at)
            )
        }
        State::Planning => "planning a disc set".to_string(),
        State::WaitingForDisc { disc, medium } => {
            format!("waiting for a blank {medium} disc for {disc}")
        }
        State::ReadyToBurn {
            disc,
            medium,
            bytes,
        } => format!(
            "ready to burn {disc} ({}) onto the {medium} in the drive: press the button",
            bytes_text(*bytes)
        ),
        State::Burning { disc } => format!("burning {disc}"),
        State::Verifying { disc: Some(disc) } => format!("reading back {disc}"),
        State::Verifying { disc: None } => "reading back the disc".to_string(),
        State::DiscDone { disc, label } => {
            format!("{disc} is burnt and verified: write {label:?} on it and put it away")
        }
        State::SetComplete { label, discs } => {
            format!("disc set {label} is complete ({discs} discs, all verified)")
        }
        State::Erasing => "erasing the disc".to_string(),
        State::DiscChecked {
            label,
            bad_files: 0,
        } => format!("the disc {} is good", label.as_deref().unwrap_or("checked")),
        State::DiscChecked { label, bad_files } => format!(
            "the disc {} has {bad_files} damaged file(s)",
            label.as_deref().unwrap_or("checked")
        ),
        State::Stopped { problem } => format!("stopped: {problem}"),
    }
}

/// A progress event in words: `burning: 45 % (2.0 GB of 4.4 GB), 22.2 MB/s, 1 m 48 s left`.
pub fn describe_progress(progress: &Progress) -> String {
    let stage = match progress.stage {
        Stage::Sync => "copying",
        Stage::Hash => "hashing",
        Stage::Burn => "burning",
        Stage::Verify => "reading back",
    };
    let mut text = stage.to_string();
    if let Some(disc) = progress.disc {
        let _ = write!(text, " {disc}");
    }
    text.push(':');
    if let Some(fraction) = progress.fraction() {
        let _ = write!(text, " {:.0} %", fraction * 100.0);
    }
    match progress.total_bytes {
        Some(total) => {
            let _ = write!(
                text,
                " ({} of {})",
                bytes_text(progress.done_bytes),
                bytes_text(total)
            );
        }
        None => {
            let _ = write!(text, " {}", bytes_text(progress.done_bytes));
        }
    }
    if let (Some(done), Some(total)) = (progress.items_done, progress.items_total) {
        let _ = write!(text, ", {done} of {total} files");
    }
    if let Some(rate) = progress.bytes_per_second {
        let _ = write!(text, ", {}/s", bytes_text(rate as u64));
    }
    if let Some(eta) = progress.eta_seconds {
        let _ = write!(
            text,
            ", {} left",
            humantime_serde::re::humantime::format_duration(Duration::from_secs(eta))
        );
    }
    if let Some(fill) = progress.buffer_fill {
        let _ = write!(text, ", buffer {:.0} %", fill * 100.0);
    }
    text
}

/// Bytes in decimal units, as discs and drives count them.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{DiscOf, NoticeLevel, StateChange};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn burn_progress(done: u64) -> Progress {
        Progress {
            stage: Stage::Burn,
            disc: Some(DiscOf { number: 1, of: 2 }),
            done_bytes: done,
            total_bytes: Some(4_000_000_000),
            items_done: None,
            items_total: None,
            bytes_per_second: Some(22_160_000.0),
            eta_seconds: Some(108),
            buffer_fill: Some(0.5),
        }
    }

    fn socket(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join(SOCKET_FILE)
    }

    #[test]
    fn status_answers_the_current_state_and_progress_then_closes() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EventBus::new();
        bus.state(State::Syncing, at(1));
        bus.state(
            State::Burning {
                disc: DiscOf { number: 1, of: 2 },
            },
            at(2),
        );
        bus.progress(burn_progress(1_000_000_000));
        let server = StatusServer::start(&socket(&dir), &bus).unwrap();
        let events: Vec<Event> = StatusClient::connect(server.path(), Query::Status)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            events,
            vec![
                Event::State(StateChange {
                    state: State::Burning {
                        disc: DiscOf { number: 1, of: 2 }
                    },
                    at: at(2)
                }),
                Event::Progress(burn_progress(1_000_000_000)),
            ]
        );
    }

    #[test]
    fn follow_streams_every_event_after_the_current_state() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EventBus::new();
        bus.state(State::Syncing, at(1));
        let server = StatusServer::start(&socket(&dir), &bus).unwrap();
        let mut client = StatusClient::connect(server.path(), Query::Follow).unwrap();
        let first = client.next().unwrap().unwrap();
        assert_eq!(
            first,
            Event::State(StateChange {
                state: State::Syncing,
                at: at(1)
            })
        );
        bus.notice(NoticeLevel::Info, "copied 3 files");
        bus.state(State::Planning, at(3));
        let next: Vec<Event> = client.by_ref().take(2).map(Result::unwrap).collect();
        assert_eq!(
            next,
            vec![
                Event::Notice(crate::events::Notice {
                    level: NoticeLevel::Info,
                    text: "copied 3 files".into()
                }),
                Event::State(StateChange {
                    state: State::Planning,
                    at: at(3)
                }),
            ]
        );
        // Stopping the server ends the follower's stream.
        drop(server);
        assert!(client.next().is_none());
    }

    #[test]
    fn a_second_daemon_is_refused_and_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EventBus::new();
        let first = StatusServer::start(&socket(&dir), &bus).unwrap();
        match StatusServer::start(&socket(&dir), &bus) {
            Err(StatusError::InUse { path }) => assert_eq!(path, socket(&dir)),
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        assert!(!socket(&dir).exists(), "a clean stop removes the socket");
        // A socket file nobody listens on, as a kill -9 leaves it.
        drop(UnixListener::bind(socket(&dir)).unwrap());
        assert!(socket(&dir).exists());
        bus.state(State::Planning, at(5));
        let server = StatusServer::start(&socket(&dir), &bus).unwrap();
        let mode = std::fs::metadata(server.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o660);
        let events: Vec<Event> = StatusClient::connect(server.path(), Query::Status)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events.len(), 1, "{events:?}");
    }

    #[test]
    fn no_daemon_is_said_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let error = StatusClient::connect(&socket(&dir), Query::Status).unwrap_err();
        assert!(matches!(error, StatusError::NotRunning { .. }), "{error:?}");
        assert!(error.to_string().contains("not running"), "{error}");
        drop(UnixListener::bind(socket(&dir)).unwrap());
        let error = StatusClient::connect(&socket(&dir), Query::Status).unwrap_err();
        assert!(matches!(error, StatusError::NotRunning { .. }), "{error:?}");
    }

    #[test]
    fn an_unknown_request_gets_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EventBus::new();
        bus.state(State::Syncing, at(1));
        let server = StatusServer::start(&socket(&dir), &bus).unwrap();
        let mut stream = UnixStream::connect(server.path()).unwrap();
        stream.write_all(b"reboot\n").unwrap();
        let mut answer = String::new();
        io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert_eq!(answer, "");
    }

    #[test]
    fn states_and_progress_read_as_sentences() {
        let disc = DiscOf { number: 2, of: 3 };
        assert_eq!(
            describe_state(
                &State::WaitingForDisc {
                    disc,
                    medium: "dvd+r".into()
                },
                at(0)
            ),
            "waiting for a blank dvd+r disc for disc 2 of 3"
        );
        assert_eq!(
            describe_state(
                &State::Idle {
                    next_sync: Some(at(3600)),
                    last_snapshot: Some("2026-12-01T030000Z".into())
                },
                at(0)
            ),
            "idle; next sync 1970-01-01 01:00 UTC (in 1h); newest snapshot 2026-12-01T030000Z"
        );
        assert_eq!(
            describe_progress(&burn_progress(2_000_000_000)),
            "burning disc 1 of 2: 50 % (2.0 GB of 4.0 GB), 22.2 MB/s, 1m 48s left, buffer 50 %"
        );
    }
}

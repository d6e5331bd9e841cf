//! The station daemon, `burnstation run`: what the box does from boot to power-off.
//!
//! It loads the settings, waits for a trustworthy clock, syncs the backup tree on the
//! schedule (or when the volunteer asks), plans the newest snapshot onto discs when a set is
//! due, and burns and verifies every disc of the set through the one burn path
//! ([`crate::pipeline::burn_planned_disc`]). The job's progress is a state machine ([`jobs`])
//! written to the catalogue before each step it takes, so a power cut at any point resumes
//! where it stopped: an interrupted sync is redone, an interrupted disc is reported and
//! burnt again, never counted. Everything it does is published on one [`EventBus`], which
//! the display, the log and `burnstation status` read.
//!
//! ```text
//! Idle --schedule/SyncNow--> Syncing --ok--> Planning --due--> WaitingForDisc(n of N)
//!   ^                          |fail              |not due          | blank disc (+ press)
//!   +--------------------------+------------------+             Burning -> Verifying
//!   |                                                               | good       | bad
//!   +--Dismiss/next sync-- SetComplete <--last-- DiscDone(n) <------+   WaitingForDisc(n)
//! ```
//!
//! The daemon's own thread is the drive thread: SCSI commands block, and the pipeline runs
//! on it. It never blocks for long anywhere else: each wait looks at the volunteer's
//! requests and at `cancel` a few times a second.

pub mod jobs;
mod station;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use burnstation_hal::Cancel;

use chrono::Utc;

use crate::config::Config;
use crate::events::{EventBus, NoticeLevel, Problem, ProblemKind, State};
use crate::notify::{self, Heartbeat, Notifier};
use crate::status::{SOCKET_FILE, StatusError, StatusServer};
use crate::ui::Request;

/// The catalogue's file in the data directory.
pub const CATALOG_FILE: &str = "catalog.db";

/// When `run` returns by itself (it otherwise runs until cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Return once a disc set is complete (for tests and the demo).
    SetComplete,
}

/// How to run the daemon.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The settings file.
    pub config: PathBuf,
    /// The drive, overriding the settings' `[drive] device` (`sim-changer:DIR?...` too).
    pub drive: Option<String>,
    /// Return when this happens instead of running until cancelled.
    pub until: Option<Until>,
    /// Where `burnstation status` finds the daemon, instead of [`socket_path`]'s.
    pub socket: Option<PathBuf>,
}

/// The status socket of a daemon started with the settings file `config`: in its data
/// directory, or in the default one when the file cannot be read (a daemon with a wrong
/// settings file still answers, to say what is wrong).
pub fn socket_path(config: &Result<Config, crate::config::ConfigError>) -> PathBuf {
    let data_dir = match config {
        Ok(config) => config.data_dir().to_path_buf(),
        Err(_) => crate::config::StationConfig::default()
            .data_dir
            .path()
            .to_path_buf(),
    };
    data_dir.join(SOCKET_FILE)
}

/// How the daemon stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `cancel` was raised.
    Cancelled,
    /// What [`DaemonOptions::until`] asked for happened.
    Reached(Until),
}

/// Why the daemon could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The catalogue could not be opened or written.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// The data directory could not be used.
    #[error(transparent)]
    Store(#[from] crate::snapshots::StoreError),
    /// The job state machine was asked for a step its state does not allow (a bug).
    #[error(transparent)]
    Transition(#[from] jobs::BadTransition),
    /// Anything else, said for a person.
    #[error("{0}")]
    Other(String),
}

/// Runs the daemon until `cancel` is raised (or `options.until` happens), publishing every
/// state on `bus` and taking the volunteer's requests from `requests`.
pub fn run(
    options: DaemonOptions,
    bus: EventBus,
    requests: Receiver<Request>,
    cancel: Cancel,
) -> Result<Ended, DaemonError> {
    bus.state(State::Starting, Utc::now());
    let config = Config::load(&options.config);
    let socket = options
        .socket
        .clone()
        .unwrap_or_else(|| socket_path(&config));
    if let Ok(config) = &config {
        // The socket lives there; a failure is reported by `Station::open` below.
        let _ = std::fs::create_dir_all(config.data_dir());
    }
    // Kept until the daemon returns.
    let _status = match StatusServer::start(&socket, &bus) {
        Ok(server) => Some(server),
        Err(error @ StatusError::InUse { .. }) => {
            let problem = Problem {
                kind: ProblemKind::Busy,
                what: error.to_string(),
                action: "run only one station per data directory".to_string(),
            };
            bus.state(State::Stopped { problem }, Utc::now());
            return Err(DaemonError::Other(error.to_string()));
        }
        // Burning matters more than being asked about it.
        Err(error) => {
            bus.notice(
                NoticeLevel::Warning,
                format!("`burnstation status` cannot reach this daemon: {error}"),
            );
            None
        }
    };
    let config = match config {
        Ok(config) => config,
        // A wrong settings file starts no job: the problem stays on the display and in
        // `burnstation status` until the volunteer fixes the file and the box restarts.
        Err(error) => {
            let problem = Problem {
                kind: ProblemKind::Config,
                what: error.to_string(),
                action: "correct the settings file and restart the station".to_string(),
            };
            let what = problem.what.clone();
            bus.state(State::ConfigInvalid { problem }, Utc::now());
            hold(&what, &cancel, None);
            return Ok(Ended::Cancelled);
        }
    };
    // The data partition missing, read-only or full: nothing can be kept, so nothing
    // starts; the display says so, and the daemon tries again now and then (a partition
    // mounted late, a card freed by the volunteer).
    let mut shown: Option<String> = None;
    let data = loop {
        match station::DataDir::open(&config) {
            Ok(data) => break data,
            Err(error) => {
                let what = error.to_string();
                if shown.as_deref() != Some(what.as_str()) {
                    let problem = Problem {
                        kind: ProblemKind::DiskFull,
                        what: what.clone(),
                        action: "check the data partition (is the SD card full or damaged?); \
                                 the station tries again every minute"
                            .to_string(),
                    };
                    bus.state(State::Stopped { problem }, Utc::now());
                    shown = Some(what.clone());
                }
                if hold(&what, &cancel, Some(DATA_RETRY)) == Held::Cancelled {
                    return Err(error);
                }
            }
        }
    };
    let mut station =
        station::Station::open(config, data, &options, bus.clone(), requests, &cancel)?;
    station.run()
}

/// How long the daemon shows an unusable data partition before it tries it again.
const DATA_RETRY: Duration = Duration::from_secs(60);

/// How [`hold`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// `cancel` was raised: the daemon stops.
    Cancelled,
    /// The time was up: try again.
    TimeUp,
}

/// Waits, with a problem on show, until `cancel` is raised or `limit` (if any) passes. The
/// daemon is doing its job, which is now to say what is wrong: systemd hears that it started
/// and that it is alive, so that it neither times the start out nor restarts it (each
/// restart would blank the display and log the problem again), and `systemctl status` shows
/// `what`.
fn hold(what: &str, cancel: &Cancel, limit: Option<Duration>) -> Held {
    let notifier = Arc::new(Notifier::from_env());
    notifier.status(what);
    notifier.ready();
    let heartbeat = Arc::new(Heartbeat::new());
    // This wait's own watchdog, ended with it: the job's loop starts its own.
    let held = Cancel::new();
    notify::start_watchdog(
        Arc::clone(&notifier),
        Arc::clone(&heartbeat),
        station::ALIVE_WITHIN,
        held.clone(),
    );
    let started = Instant::now();
    let ended = loop {
        if cancel.is_cancelled() {
            break Held::Cancelled;
        }
        if limit.is_some_and(|limit| started.elapsed() >= limit) {
            break Held::TimeUp;
        }
        heartbeat.beat();
        std::thread::sleep(Duration::from_millis(100));
    };
    held.cancel();
    if ended == Held::Cancelled {
        notifier.stopping();
    }
    ended
}

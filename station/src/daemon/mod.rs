//! The station daemon, `burnstation run`: what the box does from boot to power-off.
//!
//! Today only the first step is built: it loads the settings, publishes `Starting`, or
//! `ConfigInvalid` when the file is wrong, and waits until cancelled; `drive` and `until`
//! are accepted but not yet used. What follows is the design the rest fills in.
//!
//! It loads the settings, waits for a trustworthy clock, syncs the backup tree on the
//! schedule (or when the volunteer asks), plans the newest snapshot onto discs, and burns
//! and verifies every disc of the set through the one burn path ([`crate::pipeline`]). The
//! job's progress is a state machine ([`jobs`]) persisted in the catalogue before each
//! action, so a power cut at any point resumes where it stopped. Everything it does is
//! published on one [`EventBus`], which the display, the log and `burnstation status` read.

pub mod jobs;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use burnstation_hal::Cancel;

use chrono::Utc;

use crate::config::Config;
use crate::events::{EventBus, Problem, ProblemKind, State};
use crate::ui::Request;

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
    let _ = (&options.drive, &options.until, &requests);
    bus.state(State::Starting, Utc::now());
    match Config::load(&options.config) {
        Ok(_config) => {}
        // A wrong settings file starts no job: the problem stays on the display and in
        // `burnstation status` until the volunteer fixes the file and the box restarts.
        Err(error) => {
            tracing::error!("{error}");
            let problem = Problem {
                kind: ProblemKind::Config,
                what: error.to_string(),
                action: "correct the settings file and restart the station".to_string(),
            };
            bus.state(State::ConfigInvalid { problem }, Utc::now());
        }
    }
    while !cancel.is_cancelled() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(Ended::Cancelled)
}

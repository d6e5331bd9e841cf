//! `burnstation status`: what the running station daemon is doing, asked over its status
//! socket (`burnstation::status`).
//!
//! Plain output is a sentence for the state and one for the running stage's progress;
//! `--json` prints the daemon's events as it sends them, one JSON object per line, for
//! scripts and tests. `--follow` keeps printing every state change, problem and notice (and
//! the progress, at most every few seconds unless `--json`) until the daemon stops or the
//! command is interrupted. Exit 0 when the daemon answered, 2 when it did not.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use burnstation::config::{Config, DEFAULT_PATH};
use burnstation::daemon::socket_path;
use burnstation::events::{Event, NoticeLevel};
use burnstation::status::{Query, StatusClient, describe_progress, describe_state};
use chrono::Utc;

/// How often `--follow` prints a progress line in words.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Arguments of `burnstation status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The settings file the daemon runs with (its data directory holds the socket).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PATH)]
    pub config: PathBuf,
    /// The daemon's socket, instead of the one the settings file implies.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Keep printing what happens until the daemon stops (Ctrl-C to leave).
    #[arg(long)]
    pub follow: bool,
    /// Print the daemon's events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Asks the daemon and prints its answer.
pub fn run(args: StatusArgs) -> Result<()> {
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(|| socket_path(&Config::load(&args.config)));
    let query = if args.follow {
        Query::Follow
    } else {
        Query::Status
    };
    let client = StatusClient::connect(&socket, query)?;
    let mut out = io::stdout().lock();
    let mut answered = false;
    let mut last_progress: Option<Instant> = None;
    for event in client {
        let event = event?;
        answered = true;
        if args.json {
            out.write_all(event.to_json_line().as_bytes())?;
            out.flush()?;
            continue;
        }
        let line = match &event {
            Event::State(change) => Some(format!(
                "{} (since {})",
                describe_state(&change.state, Utc::now()),
                change.at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            Event::Progress(progress) => {
                let due =
                    !args.follow || last_progress.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
                due.then(|| {
                    last_progress = Some(Instant::now());
                    describe_progress(progress)
                })
            }
            Event::Problem(problem) => Some(format!("problem: {problem}")),
            Event::Notice(notice) => Some(match notice.level {
                NoticeLevel::Info => notice.text.clone(),
                NoticeLevel::Warning => format!("warning: {}", notice.text),
            }),
            Event::Lagged { missed } => Some(format!("({missed} events missed)")),
        };
        if let Some(line) = line {
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    if !answered {
        // Connected, but the daemon had not published a state yet (it is starting).
        writeln!(out, "starting").context("writing to stdout")?;
    }
    Ok(())
}

//! `burnstation run --config PATH`: the station daemon, as the box's service runs it.

use std::path::PathBuf;

use anyhow::Result;
use burnstation::config::DEFAULT_PATH;
use burnstation::daemon::{self, DaemonOptions, Until};
use burnstation::events::EventBus;
use burnstation::ui::Request;

use super::interrupt::cancel_on_signals;

/// Arguments of `burnstation run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The settings file.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PATH)]
    pub config: PathBuf,
    /// The drive, instead of the settings' `[drive] device` (also `sim-changer:DIR?...`).
    #[arg(long, value_name = "SPEC")]
    pub drive: Option<String>,
    /// Exit 0 when this happens (for tests and the demo): `set-complete`.
    #[arg(long, value_name = "WHEN", value_parser = parse_until)]
    pub until: Option<Until>,
}

fn parse_until(text: &str) -> Result<Until, String> {
    match text {
        "set-complete" => Ok(Until::SetComplete),
        other => Err(format!("{other:?}: the only choice is set-complete")),
    }
}

/// Runs the daemon until SIGTERM/SIGINT (or `--until`).
pub fn run(args: RunArgs) -> Result<()> {
    let bus = EventBus::new();
    let (request_tx, requests) = std::sync::mpsc::channel::<Request>();
    let cancel = cancel_on_signals();
    // FRONT PANEL: the display and buttons start here, reading `bus.subscribe()` and sending
    // the volunteer's presses through `request_tx`.
    let _request_tx = request_tx;
    daemon::run(
        DaemonOptions {
            config: args.config,
            drive: args.drive,
            until: args.until,
        },
        bus,
        requests,
        cancel,
    )?;
    Ok(())
}

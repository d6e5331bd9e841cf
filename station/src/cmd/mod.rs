//! The subcommands: one file each, each with its clap arguments and a `run` function.
//! To add one, add its module, a variant here, and its arm in [`Command::run`].

pub mod burn;
pub mod catalog;
pub mod device;
pub mod drives;
pub mod eject;
pub mod finalize;
pub mod image;
pub mod interrupt;
pub mod ls;
pub mod media;
pub mod output;
pub mod plan;
pub mod progress;
pub mod restore;
pub mod run;
pub mod status;
pub mod sync;
pub mod verify;

use std::time::{SystemTime, UNIX_EPOCH};

use burnstation::verify::VerifyReport;
use clap::Subcommand;

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done, and any disc checked holds what it should.
    Done,
    /// A disc was read back and does not hold what it should.
    Damaged,
}

/// The current time in Unix seconds (0 if the clock is before 1970, as on a board with no
/// real-time clock before NTP), the default volume time of an image.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Verdict {
    /// What a verification report means for the exit status.
    pub fn of(report: &VerifyReport) -> Verdict {
        if report.passed() {
            Verdict::Done
        } else {
            Verdict::Damaged
        }
    }
}

/// What the command line can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the optical drives (or show the one --device names) and what they can write.
    Drives(drives::DrivesArgs),
    /// Show everything the drive knows about the disc in it.
    Media(media::MediaArgs),
    /// Burn a directory or an image onto the disc, then read every byte back.
    Burn(burn::BurnArgs),
    /// Read the disc back and check it against its SHA256SUMS, a manifest or an image.
    Verify(verify::VerifyArgs),
    /// Close a disc left open by an interrupted burn, as it is.
    Finalize(finalize::FinalizeArgs),
    /// Unlock and open the drive's tray.
    Eject(eject::EjectArgs),
    /// Build the disc image (ISO 9660 + Joliet + Rock Ridge) of a directory.
    Image(image::ImageArgs),
    /// List the Rock Ridge tree of a disc image, like `ls -l`.
    Ls(ls::LsArgs),
    /// Plan a snapshot onto as many discs as it needs; optionally write every disc's image.
    Plan(plan::PlanArgs),
    /// Restore a disc set (or a path of it) from mounted discs, images or a drive.
    Restore(restore::RestoreArgs),
    /// Ask the catalogue which disc holds a file, or how far each disc set got.
    Catalog(catalog::CatalogArgs),
    /// Copy the backup tree from the server into a new snapshot now (exit 0 ok, 2 error,
    /// 130 interrupted).
    Sync(sync::SyncArgs),
    /// Run the station as the service: sync on the schedule, plan, burn and verify disc sets.
    Run(run::RunArgs),
    /// Ask the running station daemon what it is doing (--follow to keep watching).
    Status(status::StatusArgs),
}

impl Command {
    /// Runs the subcommand; its error is reported by `main`.
    pub fn run(self) -> anyhow::Result<Verdict> {
        let done = |result: anyhow::Result<()>| result.map(|()| Verdict::Done);
        match self {
            Command::Drives(args) => done(drives::run(args)),
            Command::Media(args) => done(media::run(args)),
            Command::Burn(args) => burn::run(args),
            Command::Verify(args) => verify::run(args),
            Command::Finalize(args) => done(finalize::run(args)),
            Command::Eject(args) => done(eject::run(args)),
            Command::Image(args) => done(image::run(args)),
            Command::Ls(args) => done(ls::run(args)),
            Command::Plan(args) => plan::run(args),
            Command::Restore(args) => restore::run(args),
            Command::Catalog(args) => done(catalog::run(args)),
            Command::Sync(args) => done(sync::run(args)),
            Command::Run(args) => done(run::run(args)),
            Command::Status(args) => done(status::run(args)),
        }
    }
}

//! The subcommands: one file each, each with its clap arguments and a `run` function.
//! To add one, add its module, a variant here, and its arm in [`Command::run`].

pub mod burn;
pub mod catalog;
pub mod device;
pub mod drives;
pub mod eject;
pub mod finalize;
pub mod image;
pub mod ls;
pub mod media;
pub mod plan;
pub mod progress;
pub mod restore;
pub mod verify;

use clap::Subcommand;

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
}

impl Command {
    /// Runs the subcommand; its error is reported by `main`.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Drives(args) => drives::run(args),
            Command::Media(args) => media::run(args),
            Command::Burn(args) => burn::run(args),
            Command::Verify(args) => verify::run(args),
            Command::Finalize(args) => finalize::run(args),
            Command::Eject(args) => eject::run(args),
            Command::Image(args) => image::run(args),
            Command::Ls(args) => ls::run(args),
            Command::Plan(args) => plan::run(args),
            Command::Restore(args) => restore::run(args),
            Command::Catalog(args) => catalog::run(args),
        }
    }
}

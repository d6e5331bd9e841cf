//! The subcommands: one file each, each with its clap arguments and a `run` function.
//! To add one, add its module, a variant here, and its arm in [`Command::run`].

pub mod image;
pub mod ls;

use clap::Subcommand;

/// What the command line can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the disc image (ISO 9660 + Joliet + Rock Ridge) of a directory.
    Image(image::ImageArgs),
    /// List the Rock Ridge tree of a disc image, like `ls -l`.
    Ls(ls::LsArgs),
}

impl Command {
    /// Runs the subcommand; its error is reported by `main`.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Image(args) => image::run(args),
            Command::Ls(args) => ls::run(args),
        }
    }
}

/// Lower-case hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

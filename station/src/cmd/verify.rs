//! `burnstation verify`: read the disc back and check it, against the SHA256SUMS it carries
//! (default), a manifest kept elsewhere (`--manifest`), or the image it was burnt from
//! (`--image`).

use std::path::PathBuf;

use anyhow::Result;
use burnstation::verify;
use burnstation_hal::ReadBackOptions;

use super::Verdict;
use super::device::DeviceArg;
use super::interrupt::cancel_on_signals;
use super::progress::Progress;

/// Arguments of `burnstation verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub device: DeviceArg,
    /// Check against this SHA256SUMS file instead of the one on the disc.
    #[arg(long, value_name = "M", conflicts_with = "image")]
    pub manifest: Option<PathBuf>,
    /// Check every block against this image file.
    #[arg(long, value_name = "I")]
    pub image: Option<PathBuf>,
}

/// Verifies and reports; a disc that does not hold what it should is
/// [`Verdict::Damaged`].
pub fn run(args: VerifyArgs) -> Result<Verdict> {
    let mut drive = args.device.open()?;
    let cancel = cancel_on_signals();
    let mut progress = Progress::new();
    let options = ReadBackOptions::default();
    let mut events = |p| progress.read_progress(p);
    let report = match &args.image {
        Some(image) => verify::against_image(&mut drive, image, &options, &mut events, &cancel),
        None => verify::against_manifest(
            &mut drive,
            args.manifest.as_deref(),
            &options,
            &mut events,
            &cancel,
        ),
    };
    progress.finish();
    let report = report?;
    println!("{report}");
    for path in &report.unlisted {
        println!("not in the manifest: /{}", String::from_utf8_lossy(path));
    }
    Ok(Verdict::of(&report))
}

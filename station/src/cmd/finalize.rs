//! `burnstation finalize`: close a write-once disc left open by an interrupted burn, as it
//! is, so it is done with (and can be discarded or kept as a partial copy).

use anyhow::Result;

use super::device::DeviceArg;
use super::progress::Progress;

/// Arguments of `burnstation finalize`.
#[derive(Debug, clap::Args)]
pub struct FinalizeArgs {
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Finalizes the interrupted disc.
pub fn run(args: FinalizeArgs) -> Result<()> {
    let mut drive = args.device.open()?;
    let mut progress = Progress::new();
    let result = drive.finalize_as_is(&mut |e| progress.burn_event(e));
    progress.finish();
    result?;
    println!(
        "{}: the interrupted disc is finalized as it is; it does not hold a whole backup, so label it or discard it",
        drive.name()
    );
    Ok(())
}

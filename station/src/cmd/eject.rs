//! `burnstation eject`: unlock and open the tray.

use anyhow::Result;

use super::device::DeviceArg;

/// Arguments of `burnstation eject`.
#[derive(Debug, clap::Args)]
pub struct EjectArgs {
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Ejects the disc.
pub fn run(args: EjectArgs) -> Result<()> {
    let mut drive = args.device.open()?;
    drive.eject()?;
    println!("{}: ejected", drive.name());
    Ok(())
}

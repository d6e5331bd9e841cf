//! The `--device` option every drive command shares, and opening what it names.

use anyhow::Result;
use burnstation::device::{self, AnyDrive};

/// Which drive to use.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArg {
    /// The burner: a device node (/dev/sr0), or a software drive for trying the station
    /// without hardware (sim:/tmp/disc.img?profile=dvd+r; see docs/simdrive.md). Default: the
    /// only optical drive there is.
    #[arg(long, short = 'd', value_name = "DEVICE", env = "BURNSTATION_DEVICE")]
    pub device: Option<String>,
}

impl DeviceArg {
    /// Opens the drive.
    pub fn open(&self) -> Result<AnyDrive> {
        Ok(device::open(self.device.as_deref())?)
    }
}

//! Opening the drive a person names: a device node (`/dev/sr0`, `/dev/sg1`), a software
//! drive (`sim:PATH?profile=dvd+r`), a software changer that loads a new blank disc at each
//! eject (`sim-changer:DIR?profile=dvd+r`, [`changer`]), or, when none is named, the one
//! optical drive there is.
//!
//! A real burner is opened with hal's recovery policy ([`burnstation_hal::open_local`]): a
//! drive that stops answering gets a SCSI reset, then a reset of its USB device.

pub mod changer;

use std::path::Path;

use burnstation_hal::discovery::{self, DiscoveryError};
use burnstation_hal::{Drive, OpenError, SimConfig, SimDrive, SimError, Transport, open_local};

/// A drive opened for use, whatever it is.
pub type AnyDrive = Drive<Box<dyn Transport>>;

/// Commands a software drive remembers (for a debugger's eyes; about 48 bytes each).
const SIM_COMMAND_LOG: usize = 1_000;

/// The device could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// No drive named, and none found.
    #[error(
        "no optical drive found: connect the burner and give it a few seconds, or name one \
         with --device /dev/srN (to try the station without hardware: --device \
         'sim:/tmp/disc.img?profile=dvd+r')"
    )]
    NoDrive,
    /// No drive named, and several found.
    #[error("{count} optical drives found ({names}): choose one with --device")]
    SeveralDrives {
        /// How many.
        count: usize,
        /// Their device nodes.
        names: String,
    },
    /// Listing drives failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// The device node could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The software drive could not be opened.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// Opens the drive `spec` names, or the only drive there is when `spec` is `None`.
pub fn open(spec: Option<&str>) -> Result<AnyDrive, DeviceError> {
    let transport: Box<dyn Transport> = match spec {
        Some(spec) if spec.starts_with(changer::PREFIX) => {
            Box::new(changer::SimChanger::open(spec, SIM_COMMAND_LOG)?)
        }
        Some(spec) if spec.starts_with("sim:") => {
            let mut config = SimConfig::from_spec(spec).map_err(SimError::from)?;
            // Nobody reads a software drive's command log here, and a full DVD's would be
            // over 6 MB of the memory the station is measured by: keep only the last few.
            config.command_log_limit = Some(SIM_COMMAND_LOG);
            Box::new(SimDrive::open(config)?)
        }
        Some(path) => Box::new(open_local(Path::new(path))?),
        None => {
            let drives = discovery::list_drives()?;
            match drives.as_slice() {
                [] => return Err(DeviceError::NoDrive),
                [only] => Box::new(open_local(&only.device_node)?),
                several => {
                    return Err(DeviceError::SeveralDrives {
                        count: several.len(),
                        names: several
                            .iter()
                            .map(|d| d.device_node.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
        }
    };
    Ok(Drive::new(transport))
}

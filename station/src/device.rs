//! Opening the drive a person names: a device node (`/dev/sr0`, `/dev/sg1`), a software
//! drive (`sim:PATH?profile=dvd+r`), or, when none is named, the one optical drive there is.
//!
//! A real burner is wrapped so that resetting it (the last step of recovering a drive that
//! stopped answering) first tries a SCSI device reset and then, for a USB burner, a reset
//! of its USB device: a wedged USB bridge ignores the former.

use std::path::{Path, PathBuf};
use std::time::Duration;

use burnstation_hal::Drive;
use burnstation_hal::discovery::{self, DriveEntry, UsbResetOutcome};
use burnstation_hal::scsi::sgio::{OpenError, SgDevice};
use burnstation_hal::scsi::{Completion, DataTransfer, Transport, TransportError};
use burnstation_hal::sim::{SimConfig, SimDrive, SimError};

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
    Discovery(#[from] discovery::DiscoveryError),
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
        Some(spec) if spec.starts_with("sim:") => {
            let mut config = SimConfig::from_spec(spec).map_err(SimError::from)?;
            // Nobody reads a software drive's command log here, and a full DVD's would be
            // over 6 MB of the memory the station is measured by: keep only the last few.
            config.command_log_limit = Some(SIM_COMMAND_LOG);
            Box::new(SimDrive::open(config)?)
        }
        Some(path) => Box::new(LocalDrive::open(Path::new(path))?),
        None => {
            let drives = discovery::list_drives()?;
            match drives.as_slice() {
                [] => return Err(DeviceError::NoDrive),
                [only] => Box::new(LocalDrive::open(&only.device_node)?),
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

/// A burner on this machine: SG_IO on its device node, plus what discovery knows about it
/// (its USB identity, for a USB reset).
struct LocalDrive {
    path: PathBuf,
    name: String,
    device: SgDevice,
    entry: Option<DriveEntry>,
}

impl LocalDrive {
    fn open(path: &Path) -> Result<LocalDrive, OpenError> {
        let device = SgDevice::open(path)?;
        // Discovery is only needed to recover a USB burner; a drive it cannot place (no
        // sysfs, say) still works.
        let entry = discovery::find_drive(path)
            .map_err(|e| tracing::debug!(device = %path.display(), error = %e, "drive not found in sysfs"))
            .ok();
        Ok(LocalDrive {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            device,
            entry,
        })
    }
}

impl Transport for LocalDrive {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        self.device.execute(cdb, data, timeout)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        let scsi = self.device.reset();
        let Some(entry) = self.entry.as_ref().filter(|e| e.usb.is_some()) else {
            return scsi;
        };
        if let Err(e) = &scsi {
            tracing::info!(device = %self.path.display(), error = %e, "SCSI reset failed; resetting the USB device");
        }
        match discovery::usb_reset(entry) {
            Ok(UsbResetOutcome::SameDevice) => {
                // The kernel rebinds usb-storage; the old file descriptor is stale.
                self.device = reopen(&self.path)?;
                Ok(())
            }
            Ok(UsbResetOutcome::Reenumerated) => Err(TransportError::Gone),
            Err(e) => {
                tracing::warn!(device = %self.path.display(), error = %e, "USB reset failed");
                scsi
            }
        }
    }
}

/// Opens the device node again after a USB reset, waiting for the kernel to bring it back.
fn reopen(path: &Path) -> Result<SgDevice, TransportError> {
    let mut last = None;
    for _ in 0..50 {
        match SgDevice::open(path) {
            Ok(device) => return Ok(device),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    tracing::warn!(device = %path.display(), error = ?last, "drive did not come back after the USB reset");
    Err(TransportError::Gone)
}

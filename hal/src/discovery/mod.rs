//! Discovery: which optical drives exist, what happens to them, and who they are on USB.
//!
//! - [`list_drives`] finds every CD/DVD/BD drive ([`DriveEntry`]): device and sg nodes,
//!   inquiry strings, bus, udev's `ID_CDROM*` view of drive and disc when a udev daemon has
//!   probed them, and the USB identity of a USB burner. It uses libudev to enumerate and
//!   reads sysfs for the rest, so it works the same with no udev daemon (capabilities are
//!   then "unknown"). [`SysfsRoot`] runs the same code on any sysfs tree.
//! - [`DriveEvents`]: hotplug and media-change events as an async stream (udev monitor on
//!   tokio's `AsyncFd`), and [`MediaPoller`]: the same media changes found by asking the
//!   drive, for the many systems where the kernel reports none.
//! - [`usb`]: USB identity, link speed warning and [`usb_reset`] through rusb.
//!
//! This module never sends a SCSI command: what a drive can write and what disc it holds
//! are for the MMC layer to ask. udev's answers here are hints for listing drives, not
//! facts to burn by.
//!
//! The submodules import each other one way (`bus` and `usb` at the bottom, `entry`, then
//! `sysfs`, `events`); `sysfs` and `events` report [`DiscoveryError`], defined here next to
//! the functions that return it, which is the only two-way import (parent and child).

mod bus;
mod capabilities;
mod entry;
mod events;
mod poller;
mod sysfs;
pub mod usb;

#[cfg(test)]
mod fixture;

use std::io;
use std::path::{Path, PathBuf};

pub use bus::DriveBus;
pub use capabilities::{
    DriveCapabilities, FormatSet, MediaView, MediumState, OpticalFormat, UdevMedium, UdevProperties,
};
pub use entry::{DriveEntry, KernelMediaEvents, usb_reset};
pub use events::{DriveEvent, DriveEvents, EventSource};
pub use poller::{MediaEvent, MediaPoller, MediaPresence};
pub use sysfs::SysfsRoot;
pub use usb::{UsbError, UsbIdentity, UsbResetOutcome, UsbSpeed};

/// Finding drives, or listening for their events, failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// sysfs could not be read.
    #[error("cannot read {} ({source}): is /sys mounted?", .path.display())]
    Sysfs {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// No block device by that name.
    #[error(
        "{} is not a drive on this system: check the name with `burnstation drives`",
        .device.display()
    )]
    NoSuchDrive {
        /// The device asked for.
        device: PathBuf,
    },
    /// A block device that is not a CD/DVD/BD drive.
    #[error(
        "{} is not a CD, DVD or Blu-ray drive: pick one listed by `burnstation drives`",
        .device.display()
    )]
    NotOptical {
        /// The device asked for.
        device: PathBuf,
    },
    /// Neither the udev daemon's nor the kernel's event socket could be opened.
    #[error(
        "drive hotplug events are not available ({source}): the station will poll the drive \
         for discs instead"
    )]
    EventsUnavailable {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The event socket broke while in use.
    #[error(
        "the drive event stream stopped working ({source}): the station will poll the drive \
         for discs instead"
    )]
    EventsFailed {
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Every optical drive on this system, in kernel order (`sr0`, `sr1`, ...).
///
/// libudev enumerates block devices named `sr*` and supplies udev's properties; each is
/// then read from sysfs, and anything that is not an MMC device (SCSI type 5) is left out.
/// If libudev cannot enumerate at all, sysfs is scanned directly. A USB burner whose link
/// speed sysfs did not give is looked up through libusb.
pub fn list_drives() -> Result<Vec<DriveEntry>, DiscoveryError> {
    let sysfs = SysfsRoot::system();
    let mut drives = match enumerate_with_udev("sr*") {
        Ok(found) => found
            .into_iter()
            .filter_map(|d| sysfs.read_drive(&d.syspath, &d.properties, d.device_node))
            .collect(),
        Err(error) => {
            tracing::debug!(%error, "libudev could not enumerate drives; reading sysfs");
            sysfs.list_drives()?
        }
    };
    sysfs::sort_drives(&mut drives);
    for usb in drives.iter_mut().filter_map(|d| d.usb.as_mut()) {
        if usb.speed == UsbSpeed::Unknown
            && let Err(error) = usb.complete_from_libusb()
        {
            tracing::debug!(%error, port = %usb.port, "libusb could not tell the link speed");
        }
    }
    Ok(drives)
}

/// The drive behind a device node: `/dev/sr0`, its sg node, or a link such as `/dev/cdrom`.
pub fn find_drive(device: &Path) -> Result<DriveEntry, DiscoveryError> {
    let from_sysfs = SysfsRoot::system().drive_for_node(device)?;
    Ok(list_drives()?
        .into_iter()
        .find(|d| d.name == from_sysfs.name)
        .unwrap_or(from_sysfs))
}

/// A block device libudev found, as owned data.
struct UdevFound {
    syspath: PathBuf,
    device_node: Option<PathBuf>,
    properties: UdevProperties,
}

/// Enumerates `block` devices whose name matches `name_glob` (`sr*`) with libudev, which
/// reads sysfs and, when a udev daemon has run, its database of properties.
fn enumerate_with_udev(name_glob: &str) -> io::Result<Vec<UdevFound>> {
    let mut enumerator = udev::Enumerator::new()?;
    enumerator.match_subsystem("block")?;
    enumerator.match_sysname(name_glob)?;
    Ok(enumerator
        .scan_devices()?
        .map(|device| UdevFound {
            syspath: device.syspath().to_path_buf(),
            device_node: device.devnode().map(Path::to_path_buf),
            properties: device
                .properties()
                .map(|p| {
                    (
                        p.name().to_string_lossy().into_owned(),
                        p.value().to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_say_what_happened_and_what_to_do() {
        let cases = [
            (
                DiscoveryError::Sysfs {
                    path: "/sys/class/block".into(),
                    source: io::Error::from(io::ErrorKind::NotFound),
                },
                "cannot read /sys/class/block (entity not found): is /sys mounted?",
            ),
            (
                DiscoveryError::NoSuchDrive {
                    device: "/dev/sr9".into(),
                },
                "/dev/sr9 is not a drive on this system: check the name with `burnstation drives`",
            ),
            (
                DiscoveryError::NotOptical {
                    device: "/dev/sda".into(),
                },
                "/dev/sda is not a CD, DVD or Blu-ray drive: pick one listed by `burnstation \
                 drives`",
            ),
            (
                DiscoveryError::EventsUnavailable {
                    source: io::Error::from(io::ErrorKind::PermissionDenied),
                },
                "drive hotplug events are not available (permission denied): the station will \
                 poll the drive for discs instead",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    /// libudev enumerates the real /sys without a udev daemon (as in the system-test
    /// guest): loop devices stand in for drives, since this machine has no burner. Their
    /// node, path and kernel properties come through; `ID_CDROM*` do not, and sysfs then
    /// rejects them as not MMC devices.
    #[test]
    fn libudev_enumerates_block_devices_without_a_daemon() {
        let found = enumerate_with_udev("loop*").expect("libudev enumeration");
        assert!(!found.is_empty(), "no loop devices (modprobe loop)");
        for device in &found {
            let name = device.syspath.file_name().unwrap().to_string_lossy();
            assert!(name.starts_with("loop"), "{name}");
            assert!(device.syspath.starts_with("/sys/devices/virtual/block"));
            assert_eq!(
                device.device_node.as_deref(),
                Some(Path::new("/dev").join(&*name).as_path())
            );
            assert_eq!(
                device.properties.get("DEVTYPE").map(String::as_str),
                Some("disk")
            );
            let read = SysfsRoot::system().read_drive(
                &device.syspath,
                &device.properties,
                device.device_node.clone(),
            );
            assert_eq!(read, None, "{name} is no optical drive");
        }
    }

    /// On this machine (and in CI) libudev enumerates the real /sys, which has no optical
    /// drive: the udev path must run and find nothing, rather than fail.
    #[test]
    fn listing_the_real_system_works() {
        let drives = list_drives().expect("listing drives");
        let from_sysfs = SysfsRoot::system()
            .list_drives()
            .expect("listing via sysfs");
        let names = |d: &[DriveEntry]| d.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&drives), names(&from_sysfs));
    }
}

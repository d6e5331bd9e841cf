//! One optical drive as the system sees it, before anyone has talked to it.
//!
//! A [`DriveEntry`] is what discovery can tell without sending a single SCSI command: the
//! device nodes, the inquiry strings the kernel cached, the bus, udev's view of the drive
//! and disc when a udev daemon has probed them, and the USB identity of a USB burner. What
//! the drive can actually write, and what disc it holds right now, is the MMC layer's job.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::bus::DriveBus;
use super::capabilities::{DriveCapabilities, MediaView};
use super::usb::{UsbError, UsbIdentity, UsbResetOutcome};

/// Whether the kernel itself watches the drive for disc changes.
///
/// The kernel sends a `change` uevent with `DISK_MEDIA_CHANGE=1` only while it polls the
/// drive, and by default it does not (`block.events_dfl_poll_msecs=0`), so without a udev
/// rule setting `events_poll_msecs` there are no media events and the station has to ask
/// the drive itself (see [`MediaPoller`](super::MediaPoller)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelMediaEvents {
    /// The kernel polls the drive at this interval and reports disc changes as uevents.
    Polled(Duration),
    /// The drive can report disc changes, but the kernel does not poll it.
    NotPolled,
    /// The kernel reports no media events for this device.
    Unsupported,
}

/// One optical drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveEntry {
    /// The kernel name (`sr0`).
    pub name: String,
    /// The block device node the drive is driven through (`/dev/sr0`).
    pub device_node: PathBuf,
    /// The SCSI generic node of the same drive (`/dev/sg1`), when the `sg` driver is loaded.
    pub generic_node: Option<PathBuf>,
    /// The drive's directory in sysfs (`/sys/devices/.../block/sr0`).
    pub sysfs_path: PathBuf,
    /// The SCSI address `host:channel:target:lun` (`6:0:0:0`).
    pub scsi_address: String,
    /// INQUIRY vendor identification, trimmed (`HL-DT-ST`); empty if the kernel has none.
    pub vendor: String,
    /// INQUIRY product identification, trimmed (`DVDRAM GP57EB40`).
    pub model: String,
    /// INQUIRY product revision, trimmed (`PF00`).
    pub revision: String,
    /// How the drive is connected.
    pub bus: DriveBus,
    /// What udev says the drive can handle.
    pub capabilities: DriveCapabilities,
    /// What udev says about the disc in the drive.
    pub media: MediaView,
    /// Whether the kernel reports disc changes by itself.
    pub kernel_media_events: KernelMediaEvents,
    /// The USB device, for a USB burner.
    pub usb: Option<UsbIdentity>,
}

impl DriveEntry {
    /// `HL-DT-ST DVDRAM GP57EB40 PF00`, or the kernel name when the drive has no strings.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [&self.vendor, &self.model, &self.revision]
            .into_iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.name.clone()
        } else {
            parts.join(" ")
        }
    }

    /// True when the station must ask the drive itself to notice a disc being inserted or
    /// removed, because the kernel will not report it.
    pub fn needs_media_polling(&self) -> bool {
        !matches!(self.kernel_media_events, KernelMediaEvents::Polled(_))
    }

    /// The warning to show when a USB burner's link is too slow to burn on.
    pub fn link_warning(&self) -> Option<String> {
        self.usb.as_ref().and_then(UsbIdentity::link_warning)
    }

    /// A minimal entry for unit tests elsewhere in this module.
    #[cfg(test)]
    pub(crate) fn for_tests(name: &str) -> DriveEntry {
        DriveEntry {
            name: name.to_string(),
            device_node: PathBuf::from(format!("/dev/{name}")),
            generic_node: None,
            sysfs_path: PathBuf::from(format!("/sys/class/block/{name}")),
            scsi_address: "0:0:0:0".to_string(),
            vendor: String::new(),
            model: String::new(),
            revision: String::new(),
            bus: DriveBus::Scsi,
            capabilities: DriveCapabilities::Unknown,
            media: MediaView::Unknown,
            kernel_media_events: KernelMediaEvents::NotPolled,
            usb: None,
        }
    }
}

impl fmt::Display for DriveEntry {
    /// `/dev/sr0: HL-DT-ST DVDRAM GP57EB40 PF00 (USB)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.device_node.display(),
            self.display_name(),
            self.bus
        )
    }
}

/// Resets a USB burner: the last step of recovering one that stopped answering, after the
/// SCSI-level recovery failed (see [`UsbIdentity::reset`]). A drive on another bus is
/// refused before libusb is touched.
pub fn usb_reset(drive: &DriveEntry) -> Result<UsbResetOutcome, UsbError> {
    let usb = drive.usb.as_ref().ok_or_else(|| UsbError::NotUsb {
        device: drive.device_node.clone(),
        bus: drive.bus,
    })?;
    usb.reset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_skips_empty_strings() {
        let mut drive = DriveEntry::for_tests("sr3");
        assert_eq!(drive.display_name(), "sr3");
        drive.vendor = "HL-DT-ST".into();
        drive.model = "DVDRAM GP57EB40".into();
        assert_eq!(drive.display_name(), "HL-DT-ST DVDRAM GP57EB40");
        drive.bus = DriveBus::Usb;
        assert_eq!(
            drive.to_string(),
            "/dev/sr3: HL-DT-ST DVDRAM GP57EB40 (USB)"
        );
    }

    #[test]
    fn polling_is_needed_unless_the_kernel_polls() {
        let mut drive = DriveEntry::for_tests("sr0");
        for (events, needed) in [
            (KernelMediaEvents::Polled(Duration::from_secs(2)), false),
            (KernelMediaEvents::NotPolled, true),
            (KernelMediaEvents::Unsupported, true),
        ] {
            drive.kernel_media_events = events;
            assert_eq!(drive.needs_media_polling(), needed, "{events:?}");
        }
    }

    #[test]
    fn reset_of_a_drive_not_on_usb_says_so_before_touching_libusb() {
        let drive = DriveEntry {
            usb: None,
            bus: DriveBus::Ata,
            ..DriveEntry::for_tests("sr0")
        };
        let err = usb_reset(&drive).unwrap_err();
        assert!(matches!(err, UsbError::NotUsb { .. }));
        assert_eq!(
            err.to_string(),
            "/dev/sr0 is connected over ATA, not USB, so it cannot be reset through USB: switch \
             the station off and on again to reset it"
        );
    }
}

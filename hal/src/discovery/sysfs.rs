//! Finding optical drives by reading sysfs, with or without udev.
//!
//! Everything about a drive that discovery reports, except udev's `ID_CDROM*` properties,
//! comes from sysfs: the kernel's own tree of devices. Reading it directly keeps discovery
//! working where no udev daemon runs (the system-test guest is a bare initramfs), and lets
//! tests point the same code at a fixture tree in a temporary directory through
//! [`SysfsRoot`]. Nothing here opens a device node or sends a command to a drive.
//!
//! The layout this relies on (Linux `Documentation/ABI`, stable for 15 years):
//!
//! ```text
//! /sys/class/block/sr0 -> ../../devices/<path to the SCSI device>/block/sr0
//! <SCSI device>/type                      5 for an MMC (CD/DVD/BD) device
//! <SCSI device>/vendor, model, rev        the INQUIRY strings, space-padded
//! <SCSI device>/scsi_generic/sg1/         the sg node of the same device
//! <block>/events, events_poll_msecs       kernel media-change events
//! <USB device above it>/busnum, devnum, idVendor, idProduct, speed, ...
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::DiscoveryError;
use super::bus::DriveBus;
use super::capabilities::{DriveCapabilities, MediaView, UdevProperties};
use super::entry::{DriveEntry, KernelMediaEvents};
use super::usb::{UsbIdentity, UsbSpeed};

/// The SCSI peripheral device type of an MMC device (SPC-4, "Peripheral device type").
const MMC_DEVICE_TYPE: &str = "5";

/// Where sysfs and the device nodes are: `/sys` and `/dev` on a running system, a fixture
/// tree in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsRoot {
    sys: PathBuf,
    dev: PathBuf,
}

impl SysfsRoot {
    /// The running system's `/sys` and `/dev`.
    pub fn system() -> SysfsRoot {
        SysfsRoot::new("/sys", "/dev")
    }

    /// A sysfs tree at `sys` whose device nodes are in `dev`.
    pub fn new(sys: impl Into<PathBuf>, dev: impl Into<PathBuf>) -> SysfsRoot {
        SysfsRoot {
            sys: sys.into(),
            dev: dev.into(),
        }
    }

    /// Every optical drive, in kernel order (`sr0`, `sr1`, ..., `sr10`), from sysfs alone:
    /// udev's capabilities are reported as unknown.
    pub fn list_drives(&self) -> Result<Vec<DriveEntry>, DiscoveryError> {
        let class_block = self.sys.join("class/block");
        let entries = fs::read_dir(&class_block).map_err(|source| DiscoveryError::Sysfs {
            path: class_block.clone(),
            source,
        })?;
        let mut drives = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| DiscoveryError::Sysfs {
                path: class_block.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if optical_block_number(&name).is_none() {
                continue;
            }
            if let Some(drive) = self.read_drive(&entry.path(), &UdevProperties::new(), None) {
                drives.push(drive);
            }
        }
        sort_drives(&mut drives);
        Ok(drives)
    }

    /// The optical drive with this kernel name (`sr0`), from sysfs alone.
    pub fn drive(&self, name: &str) -> Result<DriveEntry, DiscoveryError> {
        let link = self.sys.join("class/block").join(name);
        let device = self.dev.join(name);
        if fs::symlink_metadata(&link).is_err() {
            return Err(DiscoveryError::NoSuchDrive { device });
        }
        if optical_block_number(name).is_none() {
            return Err(DiscoveryError::NotOptical { device });
        }
        self.read_drive(&link, &UdevProperties::new(), None)
            .ok_or(DiscoveryError::NotOptical { device })
    }

    /// The optical drive behind a device node: `/dev/sr0`, its sg node `/dev/sg1`, or a
    /// symlink to either (`/dev/cdrom`).
    pub fn drive_for_node(&self, node: &Path) -> Result<DriveEntry, DiscoveryError> {
        let resolved = fs::canonicalize(node).unwrap_or_else(|_| node.to_path_buf());
        let name = resolved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if optical_block_number(&name).is_some() {
            return self.drive(&name);
        }
        if name.starts_with("sg") {
            let generic = self.dev.join(&name);
            if let Some(drive) = self
                .list_drives()?
                .into_iter()
                .find(|d| d.generic_node.as_deref() == Some(generic.as_path()))
            {
                return Ok(drive);
            }
        }
        let device = node.to_path_buf();
        if !name.is_empty()
            && fs::symlink_metadata(self.sys.join("class/block").join(&name)).is_ok()
        {
            return Err(DiscoveryError::NotOptical { device });
        }
        Err(DiscoveryError::NoSuchDrive { device })
    }

    /// Reads one block device, given its sysfs path (`/sys/class/block/sr0` or the
    /// `/sys/devices/...` path udev reports). Returns `None` for anything that is not an
    /// MMC device, or that vanished while being read (unplugged).
    pub(crate) fn read_drive(
        &self,
        block_path: &Path,
        properties: &UdevProperties,
        udev_device_node: Option<PathBuf>,
    ) -> Option<DriveEntry> {
        let block_dir = fs::canonicalize(block_path).ok()?;
        let name = block_dir.file_name()?.to_string_lossy().into_owned();
        let scsi_dir = fs::canonicalize(block_dir.join("device")).ok()?;
        let device_type = read_attr(&scsi_dir, "type");
        if device_type.as_deref() != Some(MMC_DEVICE_TYPE) {
            tracing::debug!(
                device = %name,
                ?device_type,
                "not an MMC device; skipped"
            );
            return None;
        }
        let (bus, usb) = self.bus_of(&scsi_dir);
        Some(DriveEntry {
            device_node: udev_device_node.unwrap_or_else(|| self.dev.join(&name)),
            generic_node: generic_name(&scsi_dir).map(|sg| self.dev.join(sg)),
            scsi_address: scsi_dir.file_name()?.to_string_lossy().into_owned(),
            vendor: read_attr(&scsi_dir, "vendor").unwrap_or_default(),
            model: read_attr(&scsi_dir, "model").unwrap_or_default(),
            revision: read_attr(&scsi_dir, "rev").unwrap_or_default(),
            bus,
            capabilities: DriveCapabilities::from_properties(properties),
            media: MediaView::from_properties(properties),
            kernel_media_events: self.kernel_media_events(&block_dir),
            usb,
            sysfs_path: block_dir,
            name,
        })
    }

    /// The bus a SCSI device hangs off, found by walking up its sysfs path: the first USB
    /// device (`2-1`, with `busnum`), libata port (`ata2`) or virtio device (`virtio1`) on
    /// the way up decides it; none of them means a plain SCSI host.
    fn bus_of(&self, scsi_dir: &Path) -> (DriveBus, Option<UsbIdentity>) {
        let devices_root =
            fs::canonicalize(self.sys.join("devices")).unwrap_or_else(|_| self.sys.join("devices"));
        for dir in scsi_dir
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(&devices_root) && *dir != devices_root)
        {
            if let Some(usb) = UsbIdentity::from_sysfs_device(dir) {
                return (DriveBus::Usb, Some(usb));
            }
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            if numbered(&name, "ata") {
                return (DriveBus::Ata, None);
            }
            if numbered(&name, "virtio") {
                return (DriveBus::Virtio, None);
            }
        }
        (DriveBus::Scsi, None)
    }

    /// Reads `events` and `events_poll_msecs` (block/genhd.c): a negative interval means
    /// "the system default", which is the `block` module's `events_dfl_poll_msecs`.
    fn kernel_media_events(&self, block_dir: &Path) -> KernelMediaEvents {
        let events = read_attr(block_dir, "events").unwrap_or_default();
        if !events.split_whitespace().any(|e| e == "media_change") {
            return KernelMediaEvents::Unsupported;
        }
        let own: Option<i64> =
            read_attr(block_dir, "events_poll_msecs").and_then(|v| v.parse().ok());
        let interval_ms = match own {
            Some(ms) if ms >= 0 => ms,
            _ => read_attr(
                &self.sys.join("module/block/parameters"),
                "events_dfl_poll_msecs",
            )
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        };
        match u64::try_from(interval_ms) {
            Ok(ms) if ms > 0 => KernelMediaEvents::Polled(Duration::from_millis(ms)),
            _ => KernelMediaEvents::NotPolled,
        }
    }
}

/// Reads a sysfs attribute as trimmed text; `None` when it is missing or unreadable.
/// The SCSI strings are space-padded to their INQUIRY field widths, hence the trim.
pub(crate) fn read_attr(dir: &Path, name: &str) -> Option<String> {
    match fs::read(dir.join(name)) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).trim().to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::debug!(attribute = %dir.join(name).display(), error = %e, "unreadable");
            None
        }
    }
}

/// The number of an optical block device name (`sr12` → 12).
pub(crate) fn optical_block_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("sr")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Sorts drives in kernel order, numerically (`sr2` before `sr10`).
pub(crate) fn sort_drives(drives: &mut [DriveEntry]) {
    drives.sort_by_key(|d| optical_block_number(&d.name).unwrap_or(u32::MAX));
}

/// The sg name of a SCSI device: `scsi_generic/sg1` on current kernels, a
/// `scsi_generic:sg1` link on kernels built with CONFIG_SYSFS_DEPRECATED.
fn generic_name(scsi_dir: &Path) -> Option<String> {
    let is_sg = |name: &str| {
        name.strip_prefix("sg")
            .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    if let Ok(entries) = fs::read_dir(scsi_dir.join("scsi_generic")) {
        let found = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|name| is_sg(name));
        if found.is_some() {
            return found;
        }
    }
    fs::read_dir(scsi_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("scsi_generic:")
                .map(str::to_string)
        })
        .find(|name| is_sg(name))
}

/// True for `prefix` followed by digits only (`ata2`, `virtio10`).
fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What sysfs says about a USB device, read where the kernel keeps it.
impl UsbIdentity {
    /// Reads a USB device directory in sysfs (`/sys/devices/.../usb2/2-1`). Returns `None`
    /// when `dir` is not a USB device (a USB interface such as `2-1:1.0` has no `busnum`).
    pub fn from_sysfs_device(dir: &Path) -> Option<UsbIdentity> {
        let bus = read_attr(dir, "busnum")?.parse().ok()?;
        let address = read_attr(dir, "devnum")?.parse().ok()?;
        let vendor_id = u16::from_str_radix(&read_attr(dir, "idVendor")?, 16).ok()?;
        let product_id = u16::from_str_radix(&read_attr(dir, "idProduct")?, 16).ok()?;
        let text = |name| read_attr(dir, name).filter(|s| !s.is_empty());
        Some(UsbIdentity {
            vendor_id,
            product_id,
            manufacturer: text("manufacturer"),
            product: text("product"),
            serial: text("serial"),
            bus,
            address,
            speed: read_attr(dir, "speed")
                .map(|s| UsbSpeed::from_sysfs(&s))
                .unwrap_or(UsbSpeed::Unknown),
            port: dir.file_name()?.to_string_lossy().into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::capabilities::OpticalFormat;
    use super::super::fixture::{FakeSys, Optical, UsbDevice};
    use super::*;

    /// The SCSI device of a USB burner behind a hub, on an Intel xHCI controller. The path
    /// is the one udevadm reported for a Panasonic UJ-850S in an Initio enclosure (systemd
    /// issue #2485); the USB ids are illustrative.
    const HUB_BURNER: &str =
        "pci0000:00/0000:00:14.0/usb1/1-2/1-2.1/1-2.1:1.0/host6/target6:0:0/6:0:0:0";

    /// A SATA drive on an AHCI controller.
    const SATA_DRIVE: &str = "pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0";

    /// A QEMU virtio-scsi CD-ROM.
    const VIRTIO_DRIVE: &str = "pci0000:00/0000:00:05.0/virtio2/host2/target2:0:0/2:0:0:0";

    /// A USB burner in a Raspberry Pi 4's USB 2.0 socket: the VL805 controller sits behind
    /// the BCM2711's PCIe bridge, and every socket behind the VL805's internal hub (`1-1`).
    const PI4_BURNER: &str = "platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/\
                              0000:01:00.0/usb1/1-1/1-1.3/1-1.3:1.0/host0/target0:0:0/0:0:0:0";

    fn initio_burner() -> UsbDevice<'static> {
        UsbDevice {
            dir: "pci0000:00/0000:00:14.0/usb1/1-2/1-2.1",
            busnum: "1",
            devnum: "7",
            id_vendor: "13fd",
            id_product: "0840",
            manufacturer: Some("Initio"),
            product: Some("DVD-RAM UJ-850S"),
            serial: Some("0000000000000000W"),
            speed: "480",
        }
    }

    #[test]
    fn usb_burner_behind_a_hub() {
        let sys = FakeSys::new();
        // The hub between the burner and the root port is a USB device too: the burner's
        // identity must be the nearest one.
        sys.add_usb_device(&UsbDevice {
            dir: "pci0000:00/0000:00:14.0/usb1/1-2",
            busnum: "1",
            devnum: "3",
            id_vendor: "05e3",
            id_product: "0608",
            manufacturer: None,
            product: Some("USB2.0 Hub"),
            serial: None,
            speed: "480",
        });
        sys.add_usb_device(&initio_burner());
        sys.add_optical(&Optical {
            scsi_dir: HUB_BURNER,
            name: "sr0",
            generic: Some("sg1"),
            vendor: "MATSHITA",
            model: "DVD-RAM UJ-850S ",
            rev: "1.50",
            ..Optical::default()
        });
        let drives = sys.root().list_drives().unwrap();
        assert_eq!(drives.len(), 1);
        let drive = &drives[0];
        assert_eq!(drive.name, "sr0");
        assert_eq!(drive.device_node, sys.dev().join("sr0"));
        assert_eq!(drive.generic_node, Some(sys.dev().join("sg1")));
        assert_eq!(drive.scsi_address, "6:0:0:0");
        assert_eq!(
            (
                drive.vendor.as_str(),
                drive.model.as_str(),
                drive.revision.as_str()
            ),
            ("MATSHITA", "DVD-RAM UJ-850S", "1.50"),
            "padding trimmed"
        );
        assert_eq!(drive.bus, DriveBus::Usb);
        assert!(drive.sysfs_path.ends_with("6:0:0:0/block/sr0"));
        let usb = drive.usb.as_ref().expect("a USB identity");
        assert_eq!((usb.vendor_id, usb.product_id), (0x13fd, 0x0840));
        assert_eq!((usb.bus, usb.address), (1, 7), "the burner, not the hub");
        assert_eq!(usb.port, "1-2.1");
        assert_eq!(usb.manufacturer.as_deref(), Some("Initio"));
        assert_eq!(usb.product.as_deref(), Some("DVD-RAM UJ-850S"));
        assert_eq!(usb.serial.as_deref(), Some("0000000000000000W"));
        assert_eq!(usb.speed, UsbSpeed::High);
        assert_eq!(drive.link_warning(), None);
        // No udev database in a bare sysfs read.
        assert_eq!(drive.capabilities, DriveCapabilities::Unknown);
        assert_eq!(drive.media, MediaView::Unknown);
    }

    #[test]
    fn usb_burner_on_a_full_speed_link_is_warned_about() {
        let sys = FakeSys::new();
        sys.add_usb_device(&UsbDevice {
            dir: "platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1/1-1/1-1.3",
            speed: "12",
            manufacturer: None,
            product: None,
            serial: None,
            ..initio_burner()
        });
        sys.add_optical(&Optical {
            scsi_dir: PI4_BURNER,
            ..Optical::default()
        });
        let drive = sys.root().drive("sr0").unwrap();
        let usb = drive.usb.as_ref().unwrap();
        assert_eq!(usb.speed, UsbSpeed::Full);
        assert_eq!(usb.port, "1-1.3");
        assert_eq!(
            (usb.manufacturer.as_ref(), usb.product.as_ref()),
            (None, None)
        );
        let warning = drive.link_warning().expect("a full-speed warning");
        assert!(warning.contains("USB full speed (12 Mbit/s)"), "{warning}");
    }

    #[test]
    fn sata_and_virtio_drives_have_no_usb_identity() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            name: "sr0",
            generic: Some("sg0"),
            ..Optical::default()
        });
        sys.add_optical(&Optical {
            scsi_dir: VIRTIO_DRIVE,
            name: "sr1",
            generic: Some("sg2"),
            vendor: "QEMU    ",
            model: "QEMU CD-ROM     ",
            rev: "2.5+",
            ..Optical::default()
        });
        let drives = sys.root().list_drives().unwrap();
        let buses: Vec<_> = drives.iter().map(|d| (d.name.as_str(), d.bus)).collect();
        assert_eq!(buses, [("sr0", DriveBus::Ata), ("sr1", DriveBus::Virtio)]);
        assert!(drives.iter().all(|d| d.usb.is_none()));
        assert_eq!(drives[1].display_name(), "QEMU QEMU CD-ROM 2.5+");
    }

    #[test]
    fn other_scsi_hosts_are_plain_scsi() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: "platform/host3/session1/target3:0:0/3:0:0:0",
            ..Optical::default()
        });
        assert_eq!(sys.root().drive("sr0").unwrap().bus, DriveBus::Scsi);
    }

    #[test]
    fn disks_and_non_mmc_devices_are_not_drives() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            ..Optical::default()
        });
        sys.add_block(
            "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0",
            "sda",
            "0",
        );
        // An sr-named device whose SCSI type is not MMC: trust the type, not the name.
        sys.add_block(
            "pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0",
            "sr1",
            "0",
        );
        let names: Vec<_> = sys
            .root()
            .list_drives()
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["sr0"]);
        assert!(matches!(
            sys.root().drive("sr1"),
            Err(DiscoveryError::NotOptical { .. })
        ));
        assert!(matches!(
            sys.root().drive("sda"),
            Err(DiscoveryError::NotOptical { .. })
        ));
        assert!(matches!(
            sys.root().drive_for_node(&sys.dev().join("sda")),
            Err(DiscoveryError::NotOptical { .. })
        ));
        assert!(matches!(
            sys.root().drive("sr7"),
            Err(DiscoveryError::NoSuchDrive { .. })
        ));
    }

    #[test]
    fn drives_come_in_numeric_order() {
        let sys = FakeSys::new();
        for (host, name) in [(10, "sr10"), (2, "sr2"), (1, "sr1")] {
            let dir = format!(
                "pci0000:00/0000:00:1f.2/ata{host}/host{host}/target{host}:0:0/{host}:0:0:0"
            );
            sys.add_optical(&Optical {
                scsi_dir: &dir,
                name,
                ..Optical::default()
            });
        }
        let names: Vec<_> = sys
            .root()
            .list_drives()
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["sr1", "sr2", "sr10"]);
    }

    #[test]
    fn missing_sg_driver_leaves_no_generic_node() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            generic: None,
            ..Optical::default()
        });
        assert_eq!(sys.root().drive("sr0").unwrap().generic_node, None);
    }

    #[test]
    fn deprecated_sysfs_generic_link_is_understood() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            generic: None,
            ..Optical::default()
        });
        sys.add_deprecated_generic_link(SATA_DRIVE, "sg4");
        assert_eq!(
            sys.root().drive("sr0").unwrap().generic_node,
            Some(sys.dev().join("sg4"))
        );
    }

    #[test]
    fn kernel_media_event_polling() {
        let cases = [
            (
                "media_change eject_request",
                "2000",
                "0",
                KernelMediaEvents::Polled(Duration::from_secs(2)),
            ),
            (
                "media_change eject_request",
                "-1",
                "0",
                KernelMediaEvents::NotPolled,
            ),
            (
                "media_change eject_request",
                "-1",
                "1500",
                KernelMediaEvents::Polled(Duration::from_millis(1500)),
            ),
            (
                "media_change eject_request",
                "0",
                "1500",
                KernelMediaEvents::NotPolled,
            ),
            ("", "-1", "1500", KernelMediaEvents::Unsupported),
        ];
        for (events, own, default, expected) in cases {
            let sys = FakeSys::new();
            sys.set_default_poll_msecs(default);
            sys.add_optical(&Optical {
                scsi_dir: SATA_DRIVE,
                events,
                events_poll_msecs: own,
                ..Optical::default()
            });
            let drive = sys.root().drive("sr0").unwrap();
            assert_eq!(
                drive.kernel_media_events, expected,
                "events={events:?} own={own} default={default}"
            );
        }
    }

    #[test]
    fn udev_properties_fill_capabilities() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            ..Optical::default()
        });
        let properties: UdevProperties = [("ID_CDROM", "1"), ("ID_CDROM_DVD_PLUS_R", "1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let drive = sys
            .root()
            .read_drive(
                &sys.sys().join("class/block/sr0"),
                &properties,
                Some(PathBuf::from("/dev/sr0")),
            )
            .unwrap();
        assert_eq!(
            drive.device_node,
            PathBuf::from("/dev/sr0"),
            "udev's node wins"
        );
        assert!(
            drive
                .capabilities
                .known()
                .unwrap()
                .contains(OpticalFormat::DvdPlusR)
        );
        assert_eq!(drive.media, MediaView::NoMedium);
    }

    #[test]
    fn drive_for_node_follows_symlinks_and_sg_nodes() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical {
            scsi_dir: SATA_DRIVE,
            name: "sr0",
            generic: Some("sg3"),
            ..Optical::default()
        });
        sys.add_dev_node("sr0");
        sys.add_dev_node("sg3");
        sys.add_dev_symlink("cdrom", "sr0");
        let root = sys.root();
        for node in ["sr0", "cdrom", "sg3"] {
            let drive = root.drive_for_node(&sys.dev().join(node)).unwrap();
            assert_eq!(drive.name, "sr0", "via {node}");
        }
        let err = root.drive_for_node(&sys.dev().join("sda")).unwrap_err();
        assert!(matches!(err, DiscoveryError::NoSuchDrive { .. }));
    }

    #[test]
    fn unreadable_sysfs_is_an_error_that_says_where() {
        let root = SysfsRoot::new("/nonexistent-sysfs", "/dev");
        let err = root.list_drives().unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("/nonexistent-sysfs/class/block"),
            "{message}"
        );
    }

    #[test]
    fn block_names() {
        assert_eq!(optical_block_number("sr0"), Some(0));
        assert_eq!(optical_block_number("sr12"), Some(12));
        assert_eq!(optical_block_number("sr"), None);
        assert_eq!(optical_block_number("sra"), None);
        assert_eq!(optical_block_number("sda"), None);
        assert!(numbered("ata12", "ata"));
        assert!(!numbered("ata_port", "ata"));
        assert!(!numbered("virtio", "virtio"));
    }
}

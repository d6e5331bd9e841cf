//! Fake sysfs trees for tests, laid out like the kernel lays out the real one.
//!
//! Every drive is a SCSI device directory under `sys/devices/<path>` with `type`, `vendor`,
//! `model`, `rev`, a `block/srN` child whose `device` link points back up (as
//! `../../../H:C:T:L`, the way the kernel writes it), a `scsi_generic/sgN` child, and a
//! `sys/class/block/srN` link into it. USB devices get the attributes the kernel's usb core
//! exports. The paths used by the tests come from real machines (see each test).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::sysfs::SysfsRoot;

/// A temporary `sys/` and `dev/`.
pub(crate) struct FakeSys {
    dir: TempDir,
}

/// An optical drive to add.
pub(crate) struct Optical<'a> {
    /// The SCSI device directory, relative to `sys/devices`.
    pub scsi_dir: &'a str,
    pub name: &'a str,
    pub generic: Option<&'a str>,
    /// Raw attribute contents, padded as the kernel pads INQUIRY strings.
    pub vendor: &'a str,
    pub model: &'a str,
    pub rev: &'a str,
    pub events: &'a str,
    pub events_poll_msecs: &'a str,
}

/// A USB device to add (the attributes of `drivers/usb/core/sysfs.c`).
pub(crate) struct UsbDevice<'a> {
    /// The device directory, relative to `sys/devices`.
    pub dir: &'a str,
    pub busnum: &'a str,
    pub devnum: &'a str,
    pub id_vendor: &'a str,
    pub id_product: &'a str,
    pub manufacturer: Option<&'a str>,
    pub product: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub speed: &'a str,
}

impl Default for Optical<'_> {
    fn default() -> Self {
        Optical {
            scsi_dir: "pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0",
            name: "sr0",
            generic: Some("sg0"),
            vendor: "HL-DT-ST",
            model: "DVDRAM GH24NSD1 ",
            rev: "LG00",
            events: "media_change eject_request",
            events_poll_msecs: "-1",
        }
    }
}

impl FakeSys {
    pub fn new() -> FakeSys {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fake = FakeSys { dir };
        fs::create_dir_all(fake.sys().join("class/block")).unwrap();
        fs::create_dir_all(fake.sys().join("devices")).unwrap();
        fs::create_dir_all(fake.dev()).unwrap();
        fake.set_default_poll_msecs("0");
        fake
    }

    pub fn sys(&self) -> PathBuf {
        self.dir.path().join("sys")
    }

    pub fn dev(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    pub fn root(&self) -> SysfsRoot {
        SysfsRoot::new(self.sys(), self.dev())
    }

    /// `block.events_dfl_poll_msecs`, the kernel's default media-poll interval.
    pub fn set_default_poll_msecs(&self, value: &str) {
        let dir = self.sys().join("module/block/parameters");
        fs::create_dir_all(&dir).unwrap();
        write(&dir.join("events_dfl_poll_msecs"), value);
    }

    pub fn add_optical(&self, drive: &Optical<'_>) {
        let scsi = self.add_block(drive.scsi_dir, drive.name, "5");
        write(&scsi.join("vendor"), drive.vendor);
        write(&scsi.join("model"), drive.model);
        write(&scsi.join("rev"), drive.rev);
        if let Some(sg) = drive.generic {
            let sg_dir = scsi.join("scsi_generic").join(sg);
            fs::create_dir_all(&sg_dir).unwrap();
            write(&sg_dir.join("dev"), "21:0");
        }
        let block = scsi.join("block").join(drive.name);
        write(&block.join("events"), drive.events);
        write(&block.join("events_poll_msecs"), drive.events_poll_msecs);
        write(&block.join("removable"), "1");
        write(&block.join("dev"), "11:0");
    }

    /// A SCSI device of `scsi_type` with a block device `name`; returns the SCSI directory.
    pub fn add_block(&self, scsi_dir: &str, name: &str, scsi_type: &str) -> PathBuf {
        let scsi = self.sys().join("devices").join(scsi_dir);
        let block = scsi.join("block").join(name);
        fs::create_dir_all(&block).unwrap();
        write(&scsi.join("type"), scsi_type);
        let scsi_name = Path::new(scsi_dir).file_name().unwrap();
        symlink(Path::new("../../..").join(scsi_name), block.join("device")).unwrap();
        symlink(
            Path::new("../../devices")
                .join(scsi_dir)
                .join("block")
                .join(name),
            self.sys().join("class/block").join(name),
        )
        .unwrap();
        scsi
    }

    /// Old kernels (CONFIG_SYSFS_DEPRECATED) link the sg device as `scsi_generic:sgN`.
    pub fn add_deprecated_generic_link(&self, scsi_dir: &str, sg: &str) {
        let scsi = self.sys().join("devices").join(scsi_dir);
        let class_dir = self.sys().join("class/scsi_generic").join(sg);
        fs::create_dir_all(&class_dir).unwrap();
        symlink(&class_dir, scsi.join(format!("scsi_generic:{sg}"))).unwrap();
    }

    pub fn add_usb_device(&self, usb: &UsbDevice<'_>) {
        let dir = self.sys().join("devices").join(usb.dir);
        fs::create_dir_all(&dir).unwrap();
        write(&dir.join("busnum"), usb.busnum);
        write(&dir.join("devnum"), usb.devnum);
        write(&dir.join("idVendor"), usb.id_vendor);
        write(&dir.join("idProduct"), usb.id_product);
        write(&dir.join("speed"), usb.speed);
        write(&dir.join("bDeviceClass"), "00");
        for (name, value) in [
            ("manufacturer", usb.manufacturer),
            ("product", usb.product),
            ("serial", usb.serial),
        ] {
            if let Some(value) = value {
                write(&dir.join(name), value);
            }
        }
    }

    pub fn add_dev_node(&self, name: &str) {
        write(&self.dev().join(name), "");
    }

    pub fn add_dev_symlink(&self, name: &str, target: &str) {
        symlink(target, self.dev().join(name)).unwrap();
    }
}

/// Writes an attribute the way sysfs shows it: the value and a newline.
fn write(path: &Path, value: &str) {
    fs::write(path, format!("{value}\n")).unwrap();
}

//! The USB side of a USB burner: which USB device it is, how fast its link is, and a reset.
//!
//! A USB burner is a USB mass-storage device: the kernel's `usb-storage` or `uas` driver
//! already turns it into a SCSI device, and every MMC command goes through `/dev/srN` like
//! on any other bus. So this module never talks SCSI over USB. It only reads the USB
//! identity (from sysfs, where the kernel keeps it), warns about a link too slow to burn
//! on, and resets the device as the last step of recovering a burner that stopped
//! answering.
//!
//! libusb (through `rusb`) is used for two things only: the reset (USBDEVFS_RESET on
//! `/dev/bus/usb/BBB/DDD`) and filling in what sysfs did not say. Those calls need a real
//! USB device and cannot run in tests here, so they are kept thin: every decision around
//! them (matching, error wording, speed mapping) is in plain functions that are tested.

use std::fmt;
use std::path::PathBuf;

use super::bus::DriveBus;

/// The speed the USB link negotiated, as the kernel reports it in sysfs `speed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsbSpeed {
    /// `1.5`: USB 1.0 low speed, 1.5 Mbit/s.
    Low,
    /// `12`: USB 1.1 full speed, 12 Mbit/s.
    Full,
    /// `480`: USB 2.0 high speed, 480 Mbit/s.
    High,
    /// `53.3-480`: wireless USB.
    Wireless,
    /// `5000`: USB 3 SuperSpeed, 5 Gbit/s.
    Super,
    /// `10000`: USB 3 SuperSpeed+, 10 Gbit/s.
    SuperPlus,
    /// `20000`: USB 3 SuperSpeed+ 2x2, 20 Gbit/s.
    SuperPlusDual,
    /// Not known (missing attribute, or a value this code does not know).
    Unknown,
}

/// Who a USB burner is on the USB bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbIdentity {
    /// `idVendor`.
    pub vendor_id: u16,
    /// `idProduct`.
    pub product_id: u16,
    /// `manufacturer` string descriptor, when the device has one.
    pub manufacturer: Option<String>,
    /// `product` string descriptor, when the device has one.
    pub product: Option<String>,
    /// `serial` string descriptor, when the device has one.
    pub serial: Option<String>,
    /// USB bus number (`busnum`).
    pub bus: u8,
    /// Device address on that bus (`devnum`); it changes every time the device is plugged.
    pub address: u8,
    /// The negotiated link speed.
    pub speed: UsbSpeed,
    /// The kernel's name for the port chain (`2-1.3`: bus 2, root port 1, hub port 3),
    /// which stays the same while the burner stays in the same socket.
    pub port: String,
}

/// What a USB reset did to the burner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbResetOutcome {
    /// The burner was reset and is the same USB device as before; its SCSI device comes
    /// back with a unit attention (6/29/00).
    SameDevice,
    /// The burner reset and re-enumerated: it will come back as a new USB device and
    /// possibly a new `/dev/srN`, so find it again (a drive "added" event follows).
    Reenumerated,
}

/// A USB reset, or a libusb query, did not work.
#[derive(Debug, thiserror::Error)]
pub enum UsbError {
    /// The drive is not on USB.
    #[error(
        "{device} is connected over {bus}, not USB, so it cannot be reset through USB: switch \
         the station off and on again to reset it"
    )]
    NotUsb {
        /// The drive's device node.
        device: PathBuf,
        /// The bus it is on.
        bus: DriveBus,
    },
    /// No USB device with this bus number and address (unplugged, or already re-enumerated).
    #[error(
        "the burner (USB bus {bus}, address {address}) is no longer on the USB bus: check its \
         cable and power, then plug it in again"
    )]
    Gone {
        /// Bus number.
        bus: u8,
        /// Device address.
        address: u8,
    },
    /// The process may not open the USB device node.
    #[error(
        "the station may not reset the burner: it needs write access to {usbfs_node} (install \
         the udev rule from docs/hardware.md, or unplug the burner and plug it in again)"
    )]
    PermissionDenied {
        /// `/dev/bus/usb/BBB/DDD`.
        usbfs_node: PathBuf,
    },
    /// Any other libusb failure.
    #[error(
        "the USB layer failed while handling the burner ({source}): unplug the burner and plug \
         it in again"
    )]
    Libusb {
        /// What libusb said.
        #[source]
        source: rusb::Error,
    },
}

impl UsbSpeed {
    /// Parses the sysfs `speed` attribute (Mbit/s as text).
    pub fn from_sysfs(value: &str) -> UsbSpeed {
        match value.trim() {
            "1.5" => UsbSpeed::Low,
            "12" => UsbSpeed::Full,
            "480" => UsbSpeed::High,
            "53.3-480" => UsbSpeed::Wireless,
            "5000" => UsbSpeed::Super,
            "10000" => UsbSpeed::SuperPlus,
            "20000" => UsbSpeed::SuperPlusDual,
            _ => UsbSpeed::Unknown,
        }
    }

    /// The speed libusb reports.
    pub fn from_libusb(speed: rusb::Speed) -> UsbSpeed {
        match speed {
            rusb::Speed::Low => UsbSpeed::Low,
            rusb::Speed::Full => UsbSpeed::Full,
            rusb::Speed::High => UsbSpeed::High,
            rusb::Speed::Super => UsbSpeed::Super,
            rusb::Speed::SuperPlus => UsbSpeed::SuperPlus,
            // `rusb::Speed` is non-exhaustive: a speed newer than this code is unknown to it,
            // not a guess.
            _ => UsbSpeed::Unknown,
        }
    }

    /// The nominal signalling rate in Mbit/s, when known.
    pub fn megabits_per_second(self) -> Option<f64> {
        match self {
            UsbSpeed::Low => Some(1.5),
            UsbSpeed::Full => Some(12.0),
            UsbSpeed::High | UsbSpeed::Wireless => Some(480.0),
            UsbSpeed::Super => Some(5000.0),
            UsbSpeed::SuperPlus => Some(10_000.0),
            UsbSpeed::SuperPlusDual => Some(20_000.0),
            UsbSpeed::Unknown => None,
        }
    }

    /// True for links below USB 2.0 high speed. At 12 Mbit/s a burner moves at most about
    /// 1 MB/s, less than DVD 1x (1.385 MB/s): the drive's buffer runs dry and every DVD
    /// or BD burn would crawl or fail.
    pub fn is_slower_than_high_speed(self) -> bool {
        matches!(self, UsbSpeed::Low | UsbSpeed::Full)
    }
}

impl fmt::Display for UsbSpeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsbSpeed::Low => "USB low speed (1.5 Mbit/s)",
            UsbSpeed::Full => "USB full speed (12 Mbit/s)",
            UsbSpeed::High => "USB high speed (480 Mbit/s)",
            UsbSpeed::Wireless => "wireless USB (up to 480 Mbit/s)",
            UsbSpeed::Super => "USB SuperSpeed (5 Gbit/s)",
            UsbSpeed::SuperPlus => "USB SuperSpeed+ (10 Gbit/s)",
            UsbSpeed::SuperPlusDual => "USB SuperSpeed+ 2x2 (20 Gbit/s)",
            UsbSpeed::Unknown => "an unknown USB speed",
        })
    }
}

impl UsbIdentity {
    /// The usbfs node libusb opens for this device (`/dev/bus/usb/002/004`).
    pub fn usbfs_node(&self) -> PathBuf {
        PathBuf::from(format!("/dev/bus/usb/{:03}/{:03}", self.bus, self.address))
    }

    /// One sentence for the display when the link is slower than USB 2.0 high speed, which
    /// is too slow to burn a DVD; `None` when the link is fine or its speed is unknown.
    pub fn link_warning(&self) -> Option<String> {
        self.speed.is_slower_than_high_speed().then(|| {
            format!(
                "the burner is connected at {}, too slow to burn a DVD: use a USB 2.0 or faster \
                 port and cable",
                self.speed
            )
        })
    }

    /// Fills in what sysfs left out (the speed, string descriptors) from libusb. Reading
    /// the speed needs no permission; the strings need the device opened, which is skipped
    /// quietly when not permitted.
    pub fn complete_from_libusb(&mut self) -> Result<(), UsbError> {
        let device = self.find_libusb_device()?;
        if self.speed == UsbSpeed::Unknown {
            self.speed = UsbSpeed::from_libusb(device.speed());
        }
        if self.manufacturer.is_some() && self.product.is_some() && self.serial.is_some() {
            return Ok(());
        }
        let descriptor = device.device_descriptor().map_err(|e| self.error(e))?;
        let handle = match device.open() {
            Ok(handle) => handle,
            Err(rusb::Error::Access) => return Ok(()),
            Err(e) => return Err(self.error(e)),
        };
        if self.manufacturer.is_none() {
            self.manufacturer = handle.read_manufacturer_string_ascii(&descriptor).ok();
        }
        if self.product.is_none() {
            self.product = handle.read_product_string_ascii(&descriptor).ok();
        }
        if self.serial.is_none() {
            self.serial = handle.read_serial_number_string_ascii(&descriptor).ok();
        }
        Ok(())
    }

    /// Resets this USB device: the kernel re-initialises it and the storage driver
    /// reattaches; anything in the drive's cache is lost, and a burn in progress is ruined.
    ///
    /// Needs write access to the burner's `/dev/bus/usb/BBB/DDD` node (see
    /// docs/hardware.md). This runs libusb against a real device and is not covered by
    /// tests here.
    pub fn reset(&self) -> Result<UsbResetOutcome, UsbError> {
        let device = self.find_libusb_device()?;
        let handle = device.open().map_err(|e| self.error(e))?;
        tracing::warn!(burner = %self, "resetting the burner's USB device");
        match handle.reset() {
            Ok(()) => Ok(UsbResetOutcome::SameDevice),
            // libusb's word for "the device came back as a different one; rediscover it".
            Err(rusb::Error::NotFound) => Ok(UsbResetOutcome::Reenumerated),
            Err(e) => Err(self.error(e)),
        }
    }

    /// The libusb device at this bus and address, checked to still be the same vendor and
    /// product: addresses are reused after an unplug, and resetting a stranger would be bad.
    fn find_libusb_device(&self) -> Result<rusb::Device<rusb::GlobalContext>, UsbError> {
        let devices = rusb::devices().map_err(|e| self.error(e))?;
        for device in devices.iter() {
            if device.bus_number() != self.bus || device.address() != self.address {
                continue;
            }
            let descriptor = device.device_descriptor().map_err(|e| self.error(e))?;
            if descriptor.vendor_id() == self.vendor_id
                && descriptor.product_id() == self.product_id
            {
                return Ok(device);
            }
            break;
        }
        Err(UsbError::Gone {
            bus: self.bus,
            address: self.address,
        })
    }

    /// Turns a libusb error about this device into one a person can act on.
    fn error(&self, error: rusb::Error) -> UsbError {
        match error {
            rusb::Error::Access => UsbError::PermissionDenied {
                usbfs_node: self.usbfs_node(),
            },
            rusb::Error::NoDevice | rusb::Error::NotFound => UsbError::Gone {
                bus: self.bus,
                address: self.address,
            },
            source => UsbError::Libusb { source },
        }
    }
}

impl fmt::Display for UsbIdentity {
    /// `HLDS Inc SuperMulti RW (152e:2571) on USB 1-2.1 at USB high speed (480 Mbit/s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match (&self.manufacturer, &self.product) {
            (Some(m), Some(p)) => format!("{m} {p} "),
            (None, Some(p)) => format!("{p} "),
            (Some(m), None) => format!("{m} "),
            (None, None) => String::new(),
        };
        write!(
            f,
            "{name}({:04x}:{:04x}) on USB {} at {}",
            self.vendor_id, self.product_id, self.port, self.speed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(speed: UsbSpeed) -> UsbIdentity {
        UsbIdentity {
            vendor_id: 0x152e,
            product_id: 0x2571,
            manufacturer: Some("HLDS Inc".into()),
            product: Some("SuperMulti RW".into()),
            serial: None,
            bus: 2,
            address: 14,
            speed,
            port: "2-1.3".into(),
        }
    }

    #[test]
    fn sysfs_speed_values() {
        let cases = [
            ("1.5\n", UsbSpeed::Low),
            ("12\n", UsbSpeed::Full),
            ("480\n", UsbSpeed::High),
            ("53.3-480\n", UsbSpeed::Wireless),
            ("5000\n", UsbSpeed::Super),
            ("10000\n", UsbSpeed::SuperPlus),
            ("20000\n", UsbSpeed::SuperPlusDual),
            ("unknown\n", UsbSpeed::Unknown),
            ("", UsbSpeed::Unknown),
        ];
        for (text, speed) in cases {
            assert_eq!(UsbSpeed::from_sysfs(text), speed, "{text:?}");
        }
    }

    #[test]
    fn libusb_speed_values() {
        assert_eq!(UsbSpeed::from_libusb(rusb::Speed::Full), UsbSpeed::Full);
        assert_eq!(UsbSpeed::from_libusb(rusb::Speed::High), UsbSpeed::High);
        assert_eq!(UsbSpeed::from_libusb(rusb::Speed::Super), UsbSpeed::Super);
        assert_eq!(
            UsbSpeed::from_libusb(rusb::Speed::SuperPlus),
            UsbSpeed::SuperPlus
        );
        assert_eq!(
            UsbSpeed::from_libusb(rusb::Speed::Unknown),
            UsbSpeed::Unknown
        );
    }

    #[test]
    fn full_speed_link_gets_one_sentence_warning() {
        let warning = identity(UsbSpeed::Full).link_warning().expect("a warning");
        assert_eq!(
            warning,
            "the burner is connected at USB full speed (12 Mbit/s), too slow to burn a DVD: use \
             a USB 2.0 or faster port and cable"
        );
        assert!(
            identity(UsbSpeed::Low)
                .link_warning()
                .unwrap()
                .contains("1.5 Mbit/s")
        );
    }

    #[test]
    fn high_speed_and_faster_links_get_no_warning() {
        for speed in [
            UsbSpeed::High,
            UsbSpeed::Super,
            UsbSpeed::SuperPlus,
            UsbSpeed::SuperPlusDual,
            UsbSpeed::Unknown,
        ] {
            assert_eq!(identity(speed).link_warning(), None, "{speed:?}");
        }
    }

    #[test]
    fn usbfs_node_is_zero_padded() {
        assert_eq!(
            identity(UsbSpeed::High).usbfs_node(),
            PathBuf::from("/dev/bus/usb/002/014")
        );
    }

    #[test]
    fn identity_reads_as_a_sentence_part() {
        assert_eq!(
            identity(UsbSpeed::High).to_string(),
            "HLDS Inc SuperMulti RW (152e:2571) on USB 2-1.3 at USB high speed (480 Mbit/s)"
        );
    }

    #[test]
    fn libusb_errors_become_actionable_errors() {
        let usb = identity(UsbSpeed::High);
        let denied = usb.error(rusb::Error::Access).to_string();
        assert!(denied.contains("/dev/bus/usb/002/014"), "{denied}");
        assert!(denied.contains("write access"), "{denied}");
        assert!(matches!(
            usb.error(rusb::Error::NoDevice),
            UsbError::Gone {
                bus: 2,
                address: 14
            }
        ));
        assert!(matches!(
            usb.error(rusb::Error::Io),
            UsbError::Libusb {
                source: rusb::Error::Io
            }
        ));
    }
}

//! How an optical drive is connected: the one fact about a drive that every part of
//! discovery (sysfs, the USB layer, the entry it builds) needs, so it sits on its own and
//! they all import it one way.

use std::fmt;

/// How the drive is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriveBus {
    /// A USB burner (usb-storage or uas): the usual case on a Raspberry Pi.
    Usb,
    /// SATA or PATA (ATAPI) through libata.
    Ata,
    /// virtio-scsi (a virtual machine).
    Virtio,
    /// Any other SCSI host: SAS, iSCSI, a parallel SCSI card.
    Scsi,
}

impl fmt::Display for DriveBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriveBus::Usb => "USB",
            DriveBus::Ata => "ATA",
            DriveBus::Virtio => "virtio",
            DriveBus::Scsi => "SCSI",
        })
    }
}

//! SCSI: executing one command on a device, and what came back.
//!
//! A [`Transport`] executes one CDB with an optional data buffer and a timeout. It is the
//! only seam between the MMC logic above and a device below: Linux SG_IO on a real burner,
//! or [`crate::sim::SimDrive`] in tests and demos. A transport reports what the device
//! answered ([`Completion`]: status and raw sense bytes) separately from failures to get an
//! answer at all ([`TransportError`]: the ioctl failed, the host adapter or driver gave up,
//! the command timed out). Turning a CHECK CONDITION into a decoded, classified error is the
//! job of [`execute`] and the `sense` module, not of each transport.
//!
//! `command` and `sgio` implement and use the [`Transport`] seam defined here, which this
//! module re-exports them beside: that parent-and-child pair is the only two-way import.

use std::fmt;
use std::time::Duration;

mod asc;
mod command;
pub mod sense;
#[cfg(target_os = "linux")]
mod sgio;

pub use asc::{asc_meaning, asc_table_len};
pub use command::{CommandError, execute, opcode_name};
pub use sense::{Sense, SenseClass, SenseError, SenseFormat, SenseKey, SenseKeySpecific};
#[cfg(target_os = "linux")]
pub use sgio::{OpenError, SgDevice};

/// The data phase of one command, seen from the host.
#[derive(Debug)]
pub enum DataTransfer<'a> {
    /// No data phase (TEST UNIT READY, SYNCHRONIZE CACHE, ...).
    None,
    /// The device sends data into this buffer (INQUIRY, READ, ...). Its length is the most
    /// the host accepts; the device may send less.
    FromDevice(&'a mut [u8]),
    /// The host sends this buffer to the device (WRITE, MODE SELECT, ...).
    ToDevice(&'a [u8]),
}

impl DataTransfer<'_> {
    /// Bytes the host offered to move.
    pub fn len(&self) -> usize {
        match self {
            DataTransfer::None => 0,
            DataTransfer::FromDevice(buf) => buf.len(),
            DataTransfer::ToDevice(buf) => buf.len(),
        }
    }

    /// True when there is no data phase, or an empty one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The SCSI status byte of a completed command (SAM-5, table "Status codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 00h.
    Good,
    /// 02h: sense data describes what went wrong.
    CheckCondition,
    /// 04h.
    ConditionMet,
    /// 08h: the device is busy; try again later.
    Busy,
    /// 18h.
    ReservationConflict,
    /// 28h.
    TaskSetFull,
    /// 30h.
    AcaActive,
    /// 40h.
    TaskAborted,
    /// Any other value.
    Other(u8),
}

impl Status {
    /// Decodes a status byte (the reserved bits 0, 6 and 7 are ignored, as the kernel does).
    pub fn from_byte(byte: u8) -> Status {
        match byte & 0x3e {
            0x00 => Status::Good,
            0x02 => Status::CheckCondition,
            0x04 => Status::ConditionMet,
            0x08 => Status::Busy,
            0x18 => Status::ReservationConflict,
            0x28 => Status::TaskSetFull,
            0x30 => Status::AcaActive,
            0x40 => Status::TaskAborted,
            other => Status::Other(other),
        }
    }

    /// The status byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Status::Good => 0x00,
            Status::CheckCondition => 0x02,
            Status::ConditionMet => 0x04,
            Status::Busy => 0x08,
            Status::ReservationConflict => 0x18,
            Status::TaskSetFull => 0x28,
            Status::AcaActive => 0x30,
            Status::TaskAborted => 0x40,
            Status::Other(b) => b,
        }
    }
}

/// What the device answered to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The status byte.
    pub status: Status,
    /// Raw sense bytes (fixed or descriptor format), empty when the device sent none.
    pub sense: Vec<u8>,
    /// Bytes actually moved in the data phase, as far as the transport knows. Some paths
    /// (QEMU's iSCSI pass-through, for one) always report the full length, so response
    /// parsers must trust the length fields inside the data, never this count alone.
    pub transferred: usize,
}

impl Completion {
    /// A GOOD completion that moved `transferred` bytes.
    pub fn good(transferred: usize) -> Completion {
        Completion {
            status: Status::Good,
            sense: Vec::new(),
            transferred,
        }
    }

    /// A CHECK CONDITION completion carrying `sense`.
    pub fn check_condition(sense: Vec<u8>) -> Completion {
        Completion {
            status: Status::CheckCondition,
            sense,
            transferred: 0,
        }
    }
}

/// The command never got an answer from the device.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The operating system refused or failed the request (the SG_IO ioctl itself failed).
    #[error("the operating system could not send the command to the drive: {0}")]
    Io(#[from] std::io::Error),
    /// No answer within the command's timeout.
    #[error("the drive did not answer within {} s", .after.as_secs())]
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The host adapter reported a failure (`host_status` of SG_IO, e.g. the USB link reset).
    #[error("the connection to the drive failed (host status {code:#04x})")]
    Host {
        /// The host status code.
        code: u16,
    },
    /// The low-level driver reported a failure (`driver_status` of SG_IO).
    #[error("the drive's driver reported an error (driver status {code:#04x})")]
    Driver {
        /// The driver status code.
        code: u16,
    },
    /// The device is gone: unplugged, or the software drive was shut down.
    #[error("the drive is no longer there (unplugged or switched off)")]
    Gone,
    /// This transport has no way to reset its device.
    #[error("this drive cannot be reset from software; unplug it and plug it in again")]
    ResetUnsupported,
}

/// Executes one SCSI command.
///
/// Implementations block until the device answers or the timeout expires, and never retry:
/// what to retry, and when, is decided above, from the sense data.
pub trait Transport: Send {
    /// Sends `cdb` with the given data phase and waits at most `timeout` for the answer.
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError>;

    /// A short human-readable name of the device behind this transport (`/dev/sr0`,
    /// `sim:/tmp/disc.img`), for messages.
    fn name(&self) -> &str;

    /// Resets the device, the last step of recovering one that stopped answering (a USB
    /// reset of the burner, or a SCSI device reset). Afterwards the device reports a unit
    /// attention (6/29/00) and has lost whatever its cache held. Transports that cannot
    /// reset say so with [`TransportError::ResetUnsupported`].
    fn reset(&mut self) -> Result<(), TransportError> {
        Err(TransportError::ResetUnsupported)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        (**self).execute(cdb, data, timeout)
    }

    fn name(&self) -> &str {
        (**self).name()
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        (**self).reset()
    }
}

/// Formats a CDB as hex bytes, for logs and errors (`2a 00 00 00 00 10 00 00 10 00`).
#[derive(Debug)]
pub struct CdbHex<'a>(pub &'a [u8]);

impl fmt::Display for CdbHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

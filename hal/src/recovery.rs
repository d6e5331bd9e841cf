//! Recovering a burner that stopped answering: the policy behind [`Transport::reset`] for a
//! burner on this machine, in one place.
//!
//! [`Drive`](crate::Drive) resets its transport as the last step of recovering a hung drive
//! (during a burn or a read-back). For a real burner that reset is three steps, each for a
//! failure the one before cannot fix: a SCSI device reset (`SG_SCSI_RESET`), then, for a
//! USB burner, a reset of its USB device (a wedged USB bridge ignores the SCSI reset), and
//! after that reopening the device node, since the kernel rebinds `usb-storage` and the old
//! file descriptor is stale. [`Recovering`] wraps any transport with that policy, and
//! [`open_local`] is the one call that opens a burner with it.
//!
//! The steps are seams so the policy runs on SimDrive in the tests: the USB device is a
//! [`UsbPort`] (discovery's [`DriveEntry`] on a real machine) and reopening is a closure.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::discovery::{self, DriveEntry, UsbError, UsbResetOutcome};
use crate::scsi::{Completion, DataTransfer, Transport, TransportError};
#[cfg(target_os = "linux")]
use crate::scsi::{OpenError, SgDevice};

/// How often, and how far apart, the device node is opened again after a USB reset: the
/// kernel takes a few seconds to bring `usb-storage` and `sr` back (10 s in all).
const REOPEN_ATTEMPTS: u32 = 50;
const REOPEN_PAUSE: Duration = Duration::from_millis(200);

/// The USB device a burner hangs off, which can be reset on its own.
pub trait UsbPort: Send {
    /// Resets the USB device (see [`discovery::usb_reset`]).
    fn reset(&mut self) -> Result<UsbResetOutcome, UsbError>;
}

impl UsbPort for DriveEntry {
    fn reset(&mut self) -> Result<UsbResetOutcome, UsbError> {
        discovery::usb_reset(self)
    }
}

/// Why opening the device again failed (whatever the transport's own open error is).
pub type ReopenError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the device behind a transport again, after a reset made the old handle stale.
type Reopen<T> = Box<dyn FnMut() -> Result<T, ReopenError> + Send>;

/// A transport whose [`Transport::reset`] is the whole recovery policy: a SCSI reset, then
/// (for a USB burner) a USB reset and reopening the device.
pub struct Recovering<T> {
    /// The device; `None` once a USB reset left it stale and it could not be opened again
    /// (every command then answers [`TransportError::Gone`]).
    device: Option<T>,
    /// The device's name, kept for messages when there is no device.
    name: String,
    usb: Option<Box<dyn UsbPort>>,
    reopen: Reopen<T>,
    sleep: fn(Duration),
}

impl<T: Transport> fmt::Debug for Recovering<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recovering")
            .field("device", &self.name)
            .field("usb", &self.usb.is_some())
            .finish()
    }
}

impl<T: Transport> Recovering<T> {
    /// `device`, with `reopen` to open it again after a USB reset. Without a USB port
    /// ([`Recovering::with_usb`]) a reset is the device's own SCSI reset.
    pub fn new(
        device: T,
        reopen: impl FnMut() -> Result<T, ReopenError> + Send + 'static,
    ) -> Recovering<T> {
        Recovering {
            name: device.name().to_string(),
            device: Some(device),
            usb: None,
            reopen: Box::new(reopen),
            sleep: std::thread::sleep,
        }
    }

    /// The burner is on USB, behind `port`.
    pub fn with_usb(mut self, port: impl UsbPort + 'static) -> Recovering<T> {
        self.usb = Some(Box::new(port));
        self
    }

    /// Replaces the pause between reopening attempts (tests use a no-op).
    pub fn set_sleep(&mut self, sleep: fn(Duration)) {
        self.sleep = sleep;
    }

    /// The device as it is now (a new one after a USB reset; `None` if it never came back).
    pub fn device(&self) -> Option<&T> {
        self.device.as_ref()
    }

    /// Opens the device again after a USB reset, waiting for the kernel to bring it back.
    /// The stale handle is closed first: a device opened exclusively (a burner's `O_EXCL`,
    /// a software drive's locked medium) cannot be opened again while it is held.
    fn reopen(&mut self) -> Result<(), TransportError> {
        self.device = None;
        let mut last = None;
        for attempt in 0..REOPEN_ATTEMPTS {
            if attempt > 0 {
                (self.sleep)(REOPEN_PAUSE);
            }
            match (self.reopen)() {
                Ok(device) => {
                    self.device = Some(device);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        tracing::warn!(device = %self.name, error = ?last, "drive did not come back after the USB reset");
        Err(TransportError::Gone)
    }
}

impl<T: Transport> Transport for Recovering<T> {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        match self.device.as_mut() {
            Some(device) => device.execute(cdb, data, timeout),
            None => Err(TransportError::Gone),
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    /// A SCSI reset, then for a USB burner a USB reset whatever the SCSI reset did (a
    /// bridge that accepted it may still be wedged), then reopening the device. When the
    /// USB reset itself fails, the SCSI reset's result stands.
    fn reset(&mut self) -> Result<(), TransportError> {
        let scsi = match self.device.as_mut() {
            Some(device) => device.reset(),
            None => Err(TransportError::Gone),
        };
        let Some(usb) = self.usb.as_mut() else {
            return scsi;
        };
        if let Err(e) = &scsi {
            tracing::info!(device = %self.name, error = %e, "SCSI reset failed; resetting the USB device");
        }
        match usb.reset() {
            Ok(UsbResetOutcome::SameDevice) => self.reopen(),
            // A new USB device, possibly a new /dev/srN: this handle will never answer again.
            Ok(UsbResetOutcome::Reenumerated) => Err(TransportError::Gone),
            Err(e) => {
                tracing::warn!(device = %self.name, error = %e, "USB reset failed");
                scsi
            }
        }
    }
}

/// Opens the burner at `path` (`/dev/srN` or `/dev/sgN`) for SG_IO, with the recovery
/// policy: a USB burner that discovery can place gets its USB reset too. A drive discovery
/// cannot place (no sysfs, say) still works, with the SCSI reset alone.
#[cfg(target_os = "linux")]
pub fn open_local(path: &Path) -> Result<Recovering<SgDevice>, OpenError> {
    let device = SgDevice::open(path)?;
    let owned = path.to_path_buf();
    let recovering = Recovering::new(device, move || Ok(SgDevice::open(&owned)?));
    match discovery::find_drive(path) {
        Ok(entry) if entry.usb.is_some() => Ok(recovering.with_usb(entry)),
        Ok(_) => Ok(recovering),
        Err(e) => {
            tracing::debug!(device = %path.display(), error = %e, "drive not found in sysfs");
            Ok(recovering)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::Drive;
    use crate::sim::{SimConfig, SimDrive};

    /// A SimDrive behind a USB bridge that may ignore SCSI resets: the drive is SimDrive,
    /// only the bridge's refusal is played here.
    struct Bridge {
        sim: SimDrive,
        scsi_reset_works: bool,
        scsi_resets: Arc<AtomicU32>,
    }

    impl Transport for Bridge {
        fn execute(
            &mut self,
            cdb: &[u8],
            data: DataTransfer<'_>,
            timeout: Duration,
        ) -> Result<Completion, TransportError> {
            self.sim.execute(cdb, data, timeout)
        }

        fn name(&self) -> &str {
            self.sim.name()
        }

        fn reset(&mut self) -> Result<(), TransportError> {
            self.scsi_resets.fetch_add(1, Ordering::SeqCst);
            if self.scsi_reset_works {
                self.sim.reset()
            } else {
                Err(TransportError::Io(std::io::Error::other(
                    "the bridge ignored it",
                )))
            }
        }
    }

    /// A USB port that answers as told and counts its resets.
    struct Port {
        outcome: Result<UsbResetOutcome, ()>,
        resets: Arc<AtomicU32>,
    }

    impl UsbPort for Port {
        fn reset(&mut self) -> Result<UsbResetOutcome, UsbError> {
            self.resets.fetch_add(1, Ordering::SeqCst);
            self.outcome.map_err(|()| UsbError::NotUsb {
                device: "/dev/sr0".into(),
                bus: crate::discovery::DriveBus::Usb,
            })
        }
    }

    /// One recovery scenario.
    struct Case {
        what: &'static str,
        scsi_reset_works: bool,
        usb: Option<Result<UsbResetOutcome, ()>>,
        /// Reopening fails this many times before it works (`None`: never works).
        reopen_failures: Option<u32>,
        /// What the reset returns: `Ok`, or the error's `Debug` text start.
        expect: Result<(), &'static str>,
        usb_resets: u32,
        reopens: u32,
    }

    #[test]
    fn the_policy_tries_scsi_then_usb_then_reopens() {
        let cases = [
            Case {
                what: "not on USB: the SCSI reset alone",
                scsi_reset_works: true,
                usb: None,
                reopen_failures: Some(0),
                expect: Ok(()),
                usb_resets: 0,
                reopens: 0,
            },
            Case {
                what: "not on USB, SCSI reset refused",
                scsi_reset_works: false,
                usb: None,
                reopen_failures: Some(0),
                expect: Err("Io"),
                usb_resets: 0,
                reopens: 0,
            },
            Case {
                what: "USB: reset even after a SCSI reset that worked, then reopened",
                scsi_reset_works: true,
                usb: Some(Ok(UsbResetOutcome::SameDevice)),
                reopen_failures: Some(0),
                expect: Ok(()),
                usb_resets: 1,
                reopens: 1,
            },
            Case {
                what: "USB: the node comes back after a few tries",
                scsi_reset_works: false,
                usb: Some(Ok(UsbResetOutcome::SameDevice)),
                reopen_failures: Some(7),
                expect: Ok(()),
                usb_resets: 1,
                reopens: 8,
            },
            Case {
                what: "USB: the node never comes back",
                scsi_reset_works: false,
                usb: Some(Ok(UsbResetOutcome::SameDevice)),
                reopen_failures: None,
                expect: Err("Gone"),
                usb_resets: 1,
                reopens: REOPEN_ATTEMPTS,
            },
            Case {
                what: "USB: re-enumerated as a new device",
                scsi_reset_works: true,
                usb: Some(Ok(UsbResetOutcome::Reenumerated)),
                reopen_failures: Some(0),
                expect: Err("Gone"),
                usb_resets: 1,
                reopens: 0,
            },
            Case {
                what: "USB reset fails: the SCSI reset's result stands",
                scsi_reset_works: true,
                usb: Some(Err(())),
                reopen_failures: Some(0),
                expect: Ok(()),
                usb_resets: 1,
                reopens: 0,
            },
        ];
        for case in cases {
            let dir = tempfile::tempdir().unwrap();
            let spec = format!(
                "sim:{}?profile=dvd+r",
                dir.path().join("disc.img").display()
            );
            let config = SimConfig::from_spec(&spec).unwrap();
            let scsi_resets = Arc::new(AtomicU32::new(0));
            let usb_resets = Arc::new(AtomicU32::new(0));
            let reopens = Arc::new(AtomicU32::new(0));
            let first = Bridge {
                sim: SimDrive::open(config.clone()).unwrap(),
                scsi_reset_works: case.scsi_reset_works,
                scsi_resets: Arc::clone(&scsi_resets),
            };
            let counter = Arc::clone(&reopens);
            let failures = case.reopen_failures;
            // The node that comes back is the same drive on the same medium.
            let reopen = move || -> Result<Bridge, ReopenError> {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if failures.is_none_or(|f| n < f) {
                    return Err("not back yet".into());
                }
                Ok(Bridge {
                    sim: SimDrive::open(config.clone())?,
                    scsi_reset_works: true,
                    scsi_resets: Arc::new(AtomicU32::new(0)),
                })
            };
            let mut recovering = Recovering::new(first, reopen);
            recovering.set_sleep(|_| {});
            if let Some(outcome) = case.usb {
                recovering = recovering.with_usb(Port {
                    outcome,
                    resets: Arc::clone(&usb_resets),
                });
            }
            let result = recovering.reset();
            match case.expect {
                Ok(()) => assert!(result.is_ok(), "{}: {result:?}", case.what),
                Err(kind) => assert!(
                    format!("{:?}", result.as_ref().unwrap_err()).starts_with(kind),
                    "{}: {result:?}",
                    case.what
                ),
            }
            assert_eq!(scsi_resets.load(Ordering::SeqCst), 1, "{}", case.what);
            assert_eq!(
                usb_resets.load(Ordering::SeqCst),
                case.usb_resets,
                "{}",
                case.what
            );
            assert_eq!(
                reopens.load(Ordering::SeqCst),
                case.reopens,
                "{}",
                case.what
            );
            if result.is_ok() {
                // Whichever device it is now, it answers.
                let mut drive = Drive::new(recovering);
                drive
                    .wait_until_ready(Duration::from_secs(5))
                    .unwrap_or_else(|e| panic!("{}: {e}", case.what));
            }
        }
    }
}

//! SimDrive: an MMC burner in software, behind the same [`Transport`] as a real drive.
//!
//! It is the device side, written from the MMC tables (`mmc.md`) independently of the
//! host-side command layer: it decodes raw CDB bytes and builds raw reply bytes itself. It
//! holds a medium of any emulated profile (CD-R/RW, DVD-R/-RW, DVD-R DL, DVD+R, DVD+R DL,
//! DVD+RW, BD-R, BD-RE, a finalized ROM image, or none), whose sectors and state live in
//! files so a disc outlives the process; paces writes through a drive buffer like a real
//! burner; and shows faults on demand (not ready, long write in progress, write and read
//! errors, medium removal, a hang, a power cut). Every command it receives is recorded.
//!
//! - [`SimConfig`] and the `sim:PATH?option=value` spec (`config`).
//! - The drive's state behind one lock (`core`), what [`SimControl`] does to it (`control`)
//!   and shows of it (`inspect`).
//! - The medium, its file and state rules (`medium`), GET CONFIGURATION (`features`), mode
//!   pages (`pages`), the buffer and clock (`pacing`), faults (`faults`), sense data
//!   (`sense`), and the command handlers (`respond`, `recording`, with `reply` for what a
//!   handler gives back).
//!
//! Imports between these files go one way: `respond` dispatches to `recording`, both build
//! on `core` and `reply`, and nothing below imports this module; it only ties them to
//! [`SimDrive`].
//!
//! Use [`SimDrive::open`] to get a drive, [`SimDrive::control`] for a [`SimControl`] that
//! injects faults and inspects the drive from any thread while a burn runs.
//!
//! Library code: it never prints, and reports failures to open as [`SimError`].

mod config;
mod control;
mod core;
mod faults;
mod features;
mod inspect;
mod medium;
mod pacing;
mod pages;
mod recording;
mod reply;
mod respond;
mod sense;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::scsi::{Completion, DataTransfer, Transport, TransportError};

pub use config::{
    ClockMode, DEFAULT_BUFFER_BYTES, DriveIdentity, FaultPlan, MIN_BUFFER_BYTES, SimConfig,
    SpecError, UnreadableSector,
};
pub use control::SimControl;
pub use core::SimError;
pub use inspect::{CommandResult, MediumSnapshot, RecordedCommand, TrackSnapshot};
pub use medium::{BackgroundFormat, DiscStatus, MediumError, SessionState, TrackMode};

use core::{Core, Shared};
use reply::Step;

/// An MMC burner in software. See the [module documentation](self).
#[derive(Debug)]
pub struct SimDrive {
    name: String,
    shared: Arc<Shared>,
}

impl SimDrive {
    /// Opens a drive as configured, creating a blank medium if the medium file does not
    /// exist. The first command sees 6/29/00 (power on), as after plugging a burner in.
    pub fn open(config: SimConfig) -> Result<SimDrive, SimError> {
        let name = config.spec();
        let core = Core::new(config)?;
        Ok(SimDrive {
            name,
            shared: Arc::new(Shared {
                core: Mutex::new(core),
                wake: Condvar::new(),
            }),
        })
    }

    /// Opens the drive a `sim:` spec names.
    pub fn open_spec(spec: &str) -> Result<SimDrive, SimError> {
        SimDrive::open(SimConfig::from_spec(spec)?)
    }

    /// A handle that inspects this drive and injects faults, usable from any thread.
    pub fn control(&self) -> SimControl {
        SimControl {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Transport for SimDrive {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataTransfer<'_>,
        timeout: Duration,
    ) -> Result<Completion, TransportError> {
        let data_out = match &data {
            DataTransfer::ToDevice(bytes) => bytes.len(),
            _ => 0,
        };
        let shared = &*self.shared;
        let mut core = shared.lock();
        let deadline = core.clock.now() + timeout;
        let power = core.power_generation;
        let outcome = loop {
            if core.power_generation != power {
                break Err(TransportError::Gone);
            }
            if core.faults.hung {
                core = shared.sleep_hung(core, deadline);
                if core.power_generation != power {
                    break Err(TransportError::Gone);
                }
                break Err(TransportError::Timeout { after: timeout });
            }
            match respond::handle(&mut core, cdb, &mut data) {
                Step::Done(completion) => {
                    // READ(10) and READ(12) take as long as the disc spinning past the head.
                    let read = matches!(cdb.first(), Some(0x28 | 0xa8));
                    if let (true, Some(took)) = (read, core.read_time(completion.transferred)) {
                        let until = core.clock.now() + took;
                        core = shared.sleep_until(core, until);
                    }
                    break Ok(completion);
                }
                Step::Fail(error) => break Err(error),
                Step::RetryAt(when) => {
                    if when > deadline {
                        core = shared.sleep_until(core, deadline);
                        break Err(TransportError::Timeout { after: timeout });
                    }
                    core = shared.sleep_until(core, when);
                }
                Step::AfterOperation(completion) => {
                    let finished = loop {
                        let Some(ends) = core.operation.map(|op| op.ends) else {
                            break Ok(completion);
                        };
                        if ends > deadline {
                            // The host gives up; the drive carries on (as after Immed).
                            core = shared.sleep_until(core, deadline);
                            break Err(TransportError::Timeout { after: timeout });
                        }
                        core = shared.sleep_until(core, ends);
                        if core.power_generation != power {
                            break Err(TransportError::Gone);
                        }
                        if let Err(e) = core.settle() {
                            break Err(TransportError::Io(e));
                        }
                    };
                    break finished;
                }
            }
        };
        core.record(cdb, data_out, &outcome);
        outcome
    }

    fn name(&self) -> &str {
        &self.name
    }

    /// Resets the drive: a hang ends, the buffer is lost, and the next command sees 6/29/00.
    fn reset(&mut self) -> Result<(), TransportError> {
        let mut core = self.shared.lock();
        core.power_cycle();
        Ok(())
    }
}

impl Drop for SimDrive {
    fn drop(&mut self) {
        let mut core = self.shared.lock();
        // Nobody is left to hear about a failure to write the medium file.
        let _ = core.shut_down();
        if core.paced() {
            tracing::info!(
                drive = %self.name,
                underruns = core.buffer.underruns(),
                "SimDrive closed"
            );
        }
    }
}

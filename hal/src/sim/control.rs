//! [`SimControl`]: a handle on a running [`SimDrive`](super::SimDrive) that inspects it and
//! injects faults from any thread, the way a test reaches into a burn in progress.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::mmc::Profile;

use super::core::{Core, MediaEvent, Shared};
use super::faults::Faults;
use super::inspect::{MediumSnapshot, RecordedCommand};
use super::medium::{Medium, MediumError};
use super::sense;

/// Inspects a [`SimDrive`] and injects faults, from any thread, while it runs.
#[derive(Debug, Clone)]
pub struct SimControl {
    pub(super) shared: Arc<Shared>,
}

impl SimControl {
    fn change(&self, f: impl FnOnce(&mut Core)) {
        let mut core = self.shared.lock();
        f(&mut core);
        core.control_generation += 1;
        drop(core);
        self.shared.wake.notify_all();
    }

    /// Every command received so far (only the most recent ones when
    /// [`SimConfig::command_log_limit`] says so), oldest first.
    pub fn commands(&self) -> Vec<RecordedCommand> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// Forgets the recorded commands.
    pub fn clear_commands(&self) {
        self.shared.lock().log.clear();
    }

    /// The medium in the drive (also while the tray is open), or None.
    pub fn medium(&self) -> Option<MediumSnapshot> {
        self.shared.lock().snapshot()
    }

    /// Times the drive buffer ran empty while a track was being written and more data
    /// followed.
    pub fn underruns(&self) -> u64 {
        self.shared.lock().buffer.underruns()
    }

    /// Bytes in the drive buffer now.
    pub fn buffer_fill(&self) -> usize {
        let mut core = self.shared.lock();
        let _ = core.settle();
        core.buffer.fill()
    }

    /// The write rate in force, in bytes per second.
    pub fn write_rate(&self) -> u64 {
        self.shared.lock().write_rate()
    }

    /// True while the host has the tray locked (PREVENT ALLOW MEDIUM REMOVAL).
    pub fn locked(&self) -> bool {
        self.shared.lock().locked
    }

    /// The drive's clock.
    pub fn now(&self) -> Duration {
        self.shared.lock().clock.now()
    }

    /// Moves a virtual clock forward (the host stalled for `by`); a real clock cannot be
    /// moved, and this returns false.
    pub fn advance_clock(&self, by: Duration) -> bool {
        let mut moved = false;
        self.change(|core| {
            if core.clock.is_virtual() {
                let now = core.clock.now();
                core.clock.advance_to(now + by);
                moved = true;
            }
        });
        moved
    }

    /// The next `commands` commands (other than INQUIRY, REQUEST SENSE, GET CONFIGURATION
    /// and GET EVENT STATUS NOTIFICATION) answer 2/04/01.
    pub fn set_not_ready(&self, commands: u32) {
        self.change(|core| core.faults.not_ready = commands);
    }

    /// The next `writes` WRITEs answer 2/04/08 without taking their data.
    pub fn set_long_write_in_progress(&self, writes: u32) {
        self.change(|core| core.faults.long_write = writes);
    }

    /// WRITEs covering `lba` fail there with 3/0C/00.
    pub fn add_write_error(&self, lba: u32) {
        self.change(|core| {
            core.faults.write_errors.insert(lba);
        });
    }

    /// READs covering `lba` fail there with 3/11/00: `failures` times, or always (None).
    pub fn add_unreadable(&self, lba: u32, failures: Option<u32>) {
        self.change(|core| {
            core.faults.unreadable.insert(lba, failures);
        });
    }

    /// Removes every injected fault (a hang stays until reset).
    pub fn clear_faults(&self) {
        self.change(|core| {
            let hung = core.faults.hung;
            core.faults = Faults {
                hung,
                ..Faults::default()
            };
        });
    }

    /// The medium is pulled out now: commands answer 2/3A/00, what was still in the drive
    /// buffer is lost, and the disc keeps its state as burnt so far.
    pub fn remove_medium(&self) {
        self.change(Core::pull_medium);
    }

    /// Puts the medium at `path` into the drive (a new blank one of `profile` if the file
    /// does not exist) and closes the tray: the next command sees 6/28/00.
    pub fn insert_medium(&self, path: &Path, profile: Profile) -> Result<(), MediumError> {
        let capacity = self.shared.lock().config.capacity;
        let medium = Medium::open(path, profile, capacity)?;
        self.change(|core| {
            if core.medium.is_some() {
                core.pull_medium();
            }
            core.medium = Some(medium);
            core.tray_open = false;
            core.no_medium = sense::NO_MEDIUM_TRAY_CLOSED;
            core.attentions.push_back(sense::MEDIUM_CHANGED);
            core.events.push_back(MediaEvent::NewMedia);
        });
        Ok(())
    }

    /// The drive stops answering: every command waits out its timeout until a reset.
    pub fn hang(&self) {
        self.change(|core| core.faults.hung = true);
    }

    /// True while the drive is hung.
    pub fn is_hung(&self) -> bool {
        self.shared.lock().faults.hung
    }

    /// The power fails and comes back: see [`Transport::reset`], plus a command in flight
    /// gets no answer.
    pub fn power_cut(&self) {
        self.change(Core::power_cycle);
    }

    /// A DVD+RW background format completes now.
    pub fn finish_background_format(&self) {
        self.change(|core| {
            if let Some(medium) = core.medium.as_mut() {
                medium.set_background_progress(medium.capacity());
            }
        });
    }
}

//! Whether a disc is in the drive, for the media poller (`discovery::MediaPoller`).
//!
//! Many kernels send no media events, and none for a drive opened exclusively, so the
//! station asks the drive itself between jobs. GET EVENT STATUS NOTIFICATION is the better
//! question: it reports a disc swapped between two polls ("new media"), which a plain
//! TEST UNIT READY can miss. Drives (and emulators, tgt among them) that lack it are asked
//! with TEST UNIT READY, whose sense says as much: no disc, tray open, spinning up, or
//! "medium changed".

use super::{Drive, DriveError};
use crate::discovery::MediaPresence;
use crate::mmc::event::MediaEventKind;
use crate::mmc::unit::TestUnitReady;
use crate::mmc::{self, Command};
use crate::scsi::{CommandError, SenseClass, Transport};

impl<T: Transport> Drive<T> {
    /// What the drive holds now. Changes nothing: suitable as a `MediaPoller` probe.
    pub fn media_presence(&mut self) -> Result<MediaPresence, DriveError> {
        if let Some(event) = self.media_event()? {
            if event.tray_open {
                return Ok(MediaPresence::TrayOpen);
            }
            if !event.present {
                return Ok(MediaPresence::NoMedium);
            }
            if matches!(
                event.kind,
                MediaEventKind::NewMedia | MediaEventKind::MediaChanged
            ) {
                return Ok(MediaPresence::Replaced);
            }
        }
        // No GESN, or a disc is in: TEST UNIT READY says whether it is ready yet (and, without
        // GESN, whether there is one at all).
        match mmc::run(&mut self.transport, &TestUnitReady) {
            Ok(()) => Ok(MediaPresence::Present),
            Err(CommandError::Check { sense, .. }) => Ok(match sense.class() {
                SenseClass::NoMedium if sense.ascq == 0x02 => MediaPresence::TrayOpen,
                SenseClass::NoMedium => MediaPresence::NoMedium,
                SenseClass::UnitAttention if sense.asc == 0x28 => MediaPresence::Replaced,
                // A reset (6/29) says nothing about the disc: ask once more.
                SenseClass::UnitAttention => return self.media_presence(),
                SenseClass::WaitAndRetry | SenseClass::NotReady => MediaPresence::BecomingReady,
                SenseClass::Recovered => MediaPresence::Present,
                _ => {
                    return Err(self.command_error(CommandError::Check {
                        opcode: TestUnitReady::OPCODE,
                        sense,
                    }));
                }
            }),
            Err(e) => Err(self.command_error(e)),
        }
    }
}

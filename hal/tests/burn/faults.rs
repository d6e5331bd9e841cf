//! The fault matrix: what a burn survives (a busy or slow drive) and what it must report,
//! never counting a bad disc as good (write errors, a removed disc, a hung drive, a power
//! cut, a failing image source, cancellation), plus unreadable sectors on read-back.

use std::io::{self, Cursor, Read};
use std::sync::Mutex;
use std::time::Duration;

use burnstation_hal::Profile;
use burnstation_hal::cancel::Cancel;
use burnstation_hal::drive::burn::{DiscAfterFailure, InterruptedChoice};
use burnstation_hal::drive::{
    BurnError, BurnOptions, ImageSource, ReadBackOptions, SectorQuality, interrupted_burn,
};
use burnstation_hal::mmc::disc::DiscStatus;
use burnstation_hal::sim::{ClockMode, SimConfig, SimControl, SimDrive};

use crate::{Rig, image, read_prefix};

const BLOCKS: usize = 4000;

/// An image source that runs `action` once, when the burn has consumed `at` bytes: a fault
/// injected at a known point of the burn, from the burn's own thread, so tests are exact.
struct FaultAt<'a> {
    inner: Cursor<&'a [u8]>,
    at: u64,
    action: Option<Box<dyn FnOnce() + 'a>>,
}

impl<'a> FaultAt<'a> {
    fn new(data: &'a [u8], at: u64, action: impl FnOnce() + 'a) -> FaultAt<'a> {
        FaultAt {
            inner: Cursor::new(data),
            at,
            action: Some(Box::new(action)),
        }
    }
}

impl Read for FaultAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inner.position() >= self.at
            && let Some(action) = self.action.take()
        {
            action();
        }
        self.inner.read(buf)
    }
}

impl ImageSource for FaultAt<'_> {}

/// Burns with `source` on `rig` (planning first), returning the burn's result.
fn burn_from(
    rig: &mut Rig,
    source: &mut dyn ImageSource,
    blocks: usize,
    cancel: &Cancel,
) -> Result<burnstation_hal::drive::BurnReport, BurnError> {
    let plan = rig
        .drive
        .plan_burn(blocks as u64, &BurnOptions::default())?;
    rig.drive.burn(&plan, source, &mut |_| {}, cancel)
}

#[test]
fn long_write_in_progress_for_many_writes_loses_and_repeats_nothing() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    rig.control.set_long_write_in_progress(300);
    let data = image(BLOCKS, 21);
    let (report, _) = rig.burn(&data, &BurnOptions::default()).unwrap();
    assert!(
        report.drive_busy_waits >= 300,
        "{} busy answers seen",
        report.drive_busy_waits
    );
    assert!(
        rig.medium_bytes(data.len()) == data,
        "data lost or duplicated"
    );
    let medium = rig.control.medium().unwrap();
    assert_eq!(
        medium.disc_status,
        burnstation_hal::sim::DiscStatus::Complete
    );
}

#[test]
fn a_paced_drive_is_fed_through_its_full_buffer_without_underruns() {
    // 16x on SimDrive's virtual clock: the drive's 2 MiB buffer fills at once and the burn
    // has to follow its drain rate through "long write in progress" answers.
    let mut rig = Rig::with(Profile::DvdPlusR, |c| {
        c.speed = 16.0;
        c.clock = ClockMode::Virtual;
    });
    let data = image(BLOCKS * 4, 22);
    let (report, _) = rig.burn(&data, &BurnOptions::default()).unwrap();
    assert!(
        report.drive_busy_waits > 0,
        "a paced drive must have said busy"
    );
    assert_eq!(rig.control.underruns(), 0);
    assert!(rig.medium_bytes(data.len()) == data);
}

/// The drive whose clock [`wake_late`] moves (one test uses it).
static LATE_DRIVE: Mutex<Option<SimControl>> = Mutex::new(None);
/// How late the host of that test wakes up from every sleep.
const LATE: Duration = Duration::from_millis(60);

/// A sleep on a loaded machine: `d` and then `LATE` more pass on the drive's virtual clock.
fn wake_late(d: Duration) {
    if let Some(control) = LATE_DRIVE.lock().unwrap().as_ref() {
        control.advance_clock(d + LATE);
    }
}

#[test]
fn a_host_that_wakes_late_after_busy_answers_never_lets_the_drive_run_dry() {
    // A 2 MiB buffer lasts 95 ms at 16x. After "busy" the host sleeps until a quarter of it
    // has drained, and here wakes 60 ms late every time: the rest must still be enough.
    let mut rig = Rig::with(Profile::DvdPlusR, |c| {
        c.speed = 16.0;
        c.clock = ClockMode::Virtual;
    });
    *LATE_DRIVE.lock().unwrap() = Some(rig.control.clone());
    rig.drive.set_sleep(wake_late);
    let data = image(BLOCKS * 4, 25);
    let result = rig.burn(&data, &BurnOptions::default());
    *LATE_DRIVE.lock().unwrap() = None;
    let (report, _) = result.unwrap();
    assert!(report.drive_busy_waits > 0, "the drive must have said busy");
    assert_eq!(rig.control.underruns(), 0, "the buffer ran dry");
    assert!(rig.medium_bytes(data.len()) == data);
}

#[test]
fn the_host_buffer_is_filled_before_the_first_write() {
    /// A buffered source that counts its prefills and refuses reads before one.
    struct Buffered<'a> {
        inner: Cursor<&'a [u8]>,
        prefills: u32,
    }
    impl Read for Buffered<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert_eq!(self.prefills, 1, "read before the buffer was filled");
            self.inner.read(buf)
        }
    }
    impl ImageSource for Buffered<'_> {
        fn prefill(&mut self, limit: Duration) {
            assert!(limit > Duration::ZERO);
            self.prefills += 1;
        }
    }
    let mut rig = Rig::new(Profile::DvdPlusR);
    let data = image(BLOCKS, 26);
    let mut source = Buffered {
        inner: Cursor::new(&data),
        prefills: 0,
    };
    burn_from(&mut rig, &mut source, BLOCKS, &Cancel::new()).unwrap();
    assert_eq!(source.prefills, 1);
    assert!(rig.medium_bytes(data.len()) == data);
}

#[test]
fn a_drive_not_ready_at_the_start_is_waited_for() {
    let mut rig = Rig::new(Profile::BdRSequential);
    rig.control.set_not_ready(6);
    let data = image(BLOCKS, 23);
    rig.burn(&data, &BurnOptions::default()).unwrap();
    assert!(rig.medium_bytes(data.len()) == data);
}

#[test]
fn a_write_error_fails_the_burn_and_the_disc_is_reported_bad() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    rig.control.add_write_error(1024);
    let err = rig
        .burn(&image(BLOCKS, 24), &BurnOptions::default())
        .unwrap_err();
    match &err {
        BurnError::WriteFailed { lba, after, .. } => {
            assert_eq!(*lba, 1024);
            assert_eq!(*after, DiscAfterFailure::Spoilt);
        }
        other => panic!("expected a write failure, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("block 1024") && message.contains("use a new disc"),
        "{message}"
    );
    assert!(!err.disc_untouched());
    assert!(
        !rig.control.locked(),
        "the tray stays locked after a failed burn"
    );
    // The disc is not finalized, and looks like the interrupted burn it is.
    rig.drive
        .wait_until_ready(std::time::Duration::from_secs(5))
        .unwrap();
    let media = rig.drive.media().unwrap();
    assert_ne!(media.status, DiscStatus::Complete);
    // One whose last track the failed write damaged: it cannot be closed, only replaced,
    // and is not reported as a power cut.
    let interrupted = interrupted_burn(&media).expect("an interrupted disc");
    assert!(interrupted.damaged, "{interrupted}");
    let said = interrupted.to_string();
    assert!(
        said.contains("a write to it failed") && !said.contains("power cut"),
        "{said}"
    );
    let refused = rig.drive.finalize_as_is(&mut |_| {}).unwrap_err();
    assert!(
        matches!(&refused, BurnError::Interrupted(i) if i.damaged),
        "{refused}"
    );
    assert!(refused.to_string().contains("new disc"), "{refused}");
}

#[test]
fn a_cancel_before_the_first_write_leaves_the_disc_blank_and_says_so() {
    let mut rig = Rig::new(Profile::DvdRSequential);
    let cancel = Cancel::new();
    cancel.cancel();
    let data = image(BLOCKS, 32);
    let err = burn_from(&mut rig, &mut Cursor::new(&data[..]), BLOCKS, &cancel).unwrap_err();
    assert!(
        matches!(
            err,
            BurnError::Cancelled {
                written_blocks: 0,
                after: DiscAfterFailure::Untouched,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was written"), "{err}");
    let medium = rig.control.medium().unwrap();
    assert_eq!(
        medium.disc_status,
        burnstation_hal::sim::DiscStatus::Blank,
        "no reservation, no write"
    );
}

#[test]
fn a_removed_disc_stops_the_burn() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    let control = rig.control.clone();
    let data = image(BLOCKS, 25);
    let mut source = FaultAt::new(&data, 2 << 20, move || control.remove_medium());
    let err = burn_from(&mut rig, &mut source, BLOCKS, &Cancel::new()).unwrap_err();
    assert!(matches!(err, BurnError::MediumRemoved { .. }), "{err}");
    assert!(err.to_string().contains("removed"), "{err}");
}

#[test]
fn a_hung_drive_times_out_is_reset_and_the_burn_fails_clearly() {
    let mut rig = Rig::with(Profile::DvdPlusR, |c| c.clock = ClockMode::Virtual);
    let control = rig.control.clone();
    let data = image(BLOCKS, 26);
    let mut source = FaultAt::new(&data, 1 << 20, move || control.hang());
    let err = burn_from(&mut rig, &mut source, BLOCKS, &Cancel::new()).unwrap_err();
    match &err {
        BurnError::DriveHung {
            recovery, after, ..
        } => {
            assert!(recovery.contains("reset and answers again"), "{recovery}");
            assert_eq!(*after, DiscAfterFailure::Spoilt);
        }
        other => panic!("expected a hang, got {other}"),
    }
    assert!(!rig.control.is_hung(), "recovery must have reset the drive");
    assert!(err.to_string().contains("stopped answering"), "{err}");
}

#[test]
fn a_power_cut_mid_burn_leaves_an_interrupted_disc_that_is_detected_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let medium = dir.path().join("disc.img");
    let data = image(BLOCKS * 2, 27);
    {
        let mut config = SimConfig::new(&medium, Profile::DvdPlusR);
        config.speed = 8.0;
        config.clock = ClockMode::Virtual;
        let sim = SimDrive::open(config).unwrap();
        let control = sim.control();
        let mut drive = burnstation_hal::Drive::new(sim);
        let plan = drive
            .plan_burn((BLOCKS * 2) as u64, &BurnOptions::default())
            .unwrap();
        let mut source = FaultAt::new(&data, 6 << 20, move || control.power_cut());
        let err = drive
            .burn(&plan, &mut source, &mut |_| {}, &Cancel::new())
            .unwrap_err();
        assert!(!err.disc_untouched(), "{err}");
    }
    // "Restart": a new process opens the same disc.
    let mut drive = burnstation_hal::Drive::new(
        SimDrive::open(SimConfig::new(&medium, Profile::DvdPlusR)).unwrap(),
    );
    let err = drive.plan_burn(16, &BurnOptions::default()).unwrap_err();
    let BurnError::Interrupted(interrupted) = &err else {
        panic!("expected an interrupted disc, got {err}");
    };
    assert_eq!(interrupted.profile, Profile::DvdPlusR);
    assert!(
        interrupted
            .choices
            .contains(&InterruptedChoice::FinalizeAsIs)
    );
    assert!(interrupted.choices.contains(&InterruptedChoice::UseNewDisc));
    let written = interrupted
        .written_blocks
        .expect("the drive reports how far the burn got");
    assert!(written > 0 && written < (BLOCKS * 2) as u64, "{written}");
    // What was burnt before the cut is on the disc; nothing after the reported end.
    let on_disc = read_prefix(&medium, written as usize * 2048);
    assert!(on_disc == data[..written as usize * 2048]);
    assert!(
        err.to_string().contains("interrupted") && err.to_string().contains("new disc"),
        "{err}"
    );

    // Finalizing as is closes it for good.
    drive.finalize_as_is(&mut |_| {}).unwrap();
    drive
        .wait_until_ready(std::time::Duration::from_secs(5))
        .unwrap();
    let media = drive.media().unwrap();
    assert_eq!(media.status, DiscStatus::Complete);
    assert!(interrupted_burn(&media).is_none());
    assert!(matches!(
        drive.finalize_as_is(&mut |_| {}),
        Err(BurnError::NothingToFinalize { .. })
    ));
}

#[test]
fn a_failing_image_source_stops_the_burn_naming_the_cause() {
    struct Failing<'a>(Cursor<&'a [u8]>);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.position() >= 1 << 20 {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "services/db/dump.sql vanished",
                ));
            }
            self.0.read(buf)
        }
    }
    impl ImageSource for Failing<'_> {}
    let mut rig = Rig::new(Profile::BdRe);
    let data = image(BLOCKS, 28);
    let err = burn_from(
        &mut rig,
        &mut Failing(Cursor::new(&data)),
        BLOCKS,
        &Cancel::new(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            BurnError::Source {
                after: DiscAfterFailure::Rewritable,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("dump.sql vanished"), "{message}");

    // An image shorter than promised is an error too, never a silently short disc.
    let mut rig = Rig::new(Profile::DvdPlusR);
    let short = image(BLOCKS / 2, 29);
    let err = burn_from(
        &mut rig,
        &mut Cursor::new(&short[..]),
        BLOCKS,
        &Cancel::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("the image ended"), "{err}");
}

#[test]
fn cancelling_stops_between_writes_and_unlocks_the_tray() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    let data = image(BLOCKS, 30);
    let mut source = FaultAt::new(&data, 3 << 20, move || trigger.cancel());
    let err = burn_from(&mut rig, &mut source, BLOCKS, &cancel).unwrap_err();
    let BurnError::Cancelled {
        written_blocks,
        total_blocks,
        after,
    } = err
    else {
        panic!("expected a cancel, got {err}");
    };
    assert!(written_blocks > 0 && written_blocks < total_blocks);
    assert_eq!(after, DiscAfterFailure::Spoilt);
    assert!(!rig.control.locked());
    // What was written reached the disc (the drive was flushed before reporting).
    let medium = rig.control.medium().unwrap();
    assert_eq!(medium.next_writable_address, Some(written_blocks as u32));
}

#[test]
fn unreadable_sectors_are_retried_then_mapped() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    let data = image(BLOCKS, 31);
    rig.burn(&data, &BurnOptions::default()).unwrap();
    rig.control.add_unreadable(100, None);
    rig.control.add_unreadable(2000, Some(2));

    let mut read = Vec::new();
    let map = rig
        .drive
        .read_back(
            0,
            BLOCKS as u64,
            &ReadBackOptions::default(),
            &mut |_, chunk| read.extend_from_slice(chunk),
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(map.count(SectorQuality::Unreadable), 1, "{map}");
    assert_eq!(
        map.count(SectorQuality::Retried),
        63,
        "the rest of each failing chunk reads on retry: {map}"
    );
    let bad: Vec<u64> = map.unreadable().map(|r| r.start).collect();
    assert_eq!(bad, vec![100]);
    // Everything but the unreadable block came back right; that block reads as zeros.
    assert!(read[..100 * 2048] == data[..100 * 2048]);
    assert!(read[100 * 2048..101 * 2048].iter().all(|&b| b == 0));
    assert!(read[101 * 2048..] == data[101 * 2048..]);
}

#[test]
fn read_back_never_reads_past_what_it_was_asked_for() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    let data = image(1500, 32);
    rig.burn(&data, &BurnOptions::default()).unwrap();
    rig.control.clear_commands();
    let mut read = Vec::new();
    rig.drive
        .read_back(
            0,
            1500,
            &ReadBackOptions::default(),
            &mut |_, c| read.extend_from_slice(c),
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(read.len(), 1500 * 2048);
    let last_read_end = rig
        .control
        .commands()
        .iter()
        .filter(|c| c.opcode() == 0x28)
        .map(|c| {
            let cdb = c.cdb();
            u32::from_be_bytes([cdb[2], cdb[3], cdb[4], cdb[5]])
                + u16::from_be_bytes([cdb[7], cdb[8]]) as u32
        })
        .max()
        .unwrap();
    assert_eq!(
        last_read_end, 1500,
        "read-back went past the image (into the padding)"
    );
}

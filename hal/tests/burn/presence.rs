//! The media poller driven by the drive itself (GET EVENT STATUS NOTIFICATION, or TEST UNIT
//! READY on a drive without it): discs coming, going and being swapped are noticed.

use std::time::Duration;

use burnstation_hal::Profile;
use burnstation_hal::discovery::{MediaPoller, MediaPresence};

use crate::Rig;

fn notices_insertion_removal_and_a_swap(rig: Rig) {
    let Rig {
        mut drive,
        control,
        _dir: dir,
        ..
    } = rig;
    let mut poller = MediaPoller::new(Duration::ZERO, move || drive.media_presence());
    let first = poller
        .poll_once()
        .unwrap()
        .expect("the first poll reports the state");
    assert!(first.current.has_disc(), "{first:?}");
    assert_eq!(
        poller.poll_once().unwrap(),
        None,
        "nothing changed, nothing reported"
    );

    control.remove_medium();
    let gone = poller.poll_once().unwrap().expect("removal is a change");
    assert!(gone.disc_left(), "{gone:?}");
    assert!(!gone.current.has_disc());

    control
        .insert_medium(&dir.path().join("other.img"), Profile::BdRe)
        .unwrap();
    let back = poller.poll_once().unwrap().expect("insertion is a change");
    assert!(back.disc_arrived(), "{back:?}");

    // A swap between two polls is still seen.
    control
        .insert_medium(&dir.path().join("third.img"), Profile::DvdPlusR)
        .unwrap();
    let swapped = poller.poll_once().unwrap().expect("a swap is a change");
    assert_eq!(swapped.current, MediaPresence::Replaced, "{swapped:?}");
    assert!(swapped.disc_arrived());
}

#[test]
fn media_events_through_get_event_status_notification() {
    notices_insertion_removal_and_a_swap(Rig::new(Profile::DvdPlusR));
}

#[test]
fn media_events_through_test_unit_ready_on_a_drive_without_gesn() {
    notices_insertion_removal_and_a_swap(Rig::with(Profile::DvdPlusR, |c| c.lacks = vec![0x4a]));
}

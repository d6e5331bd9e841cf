//! A disc outlives the process: the medium file holds the sectors, the sidecar state the
//! rest, and reopening gives back the same disc.

use std::fs;
use std::os::unix::fs::MetadataExt;

use burnstation_hal::mmc::Profile;
use burnstation_hal::sim::{MediumError, SimConfig, SimDrive, SimError};

use crate::host::*;

#[test]
fn an_incomplete_dvd_plus_r_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
        host.write_run(0, 64, 16, 1);
        host.ok(&synchronize_cache(false));
    }
    let state_file = dir.path().join("disc.img.state.json");
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(state["profile"], "dvd+r");
    assert_eq!(state["tracks"][0]["recorded"], 64);
    assert!(
        !dir.path().join("disc.img.state.json.tmp").exists(),
        "renamed into place"
    );
    // The profile of an existing disc wins over the one configured for new media.
    let mut host = Host::open(config(dir.path(), Profile::BdRe));
    let info = host.disc_info();
    assert_eq!((info.status, info.last_session), (1, 1));
    assert_eq!(host.track_info(0xff).nwa, 64);
    host.verify(0, 64, 1);
    assert_eq!(host.features().0, Profile::DvdPlusR.number());
}

#[test]
fn a_plain_image_is_a_finalized_rom_disc() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disc.img");
    fs::write(&image, pattern(0, 40, 9)).unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    assert_eq!(host.features().0, Profile::DvdRom.number());
    let info = host.disc_info();
    assert_eq!((info.status, info.last_session, info.sessions), (2, 3, 1));
    assert_eq!(host.read_capacity_value(), 39);
    host.verify(0, 40, 9);
    assert_eq!(sense_of(&host.write(40, 16, 1)), Some((5, 0x30, 5)));
    host.expect(&blank(false, 0), CANNOT_FORMAT);
    drop(host);
    assert!(
        !dir.path().join("disc.img.state.json").exists(),
        "a ROM image gets no state file"
    );
}

#[test]
fn a_state_without_its_medium_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    drop(Host::open(config(dir.path(), Profile::DvdPlusR)));
    fs::remove_file(dir.path().join("disc.img")).unwrap();
    let err = SimDrive::open(config(dir.path(), Profile::DvdPlusR)).unwrap_err();
    assert!(matches!(
        err,
        SimError::Medium(MediumError::MissingMedium { .. })
    ));
    let text = err.to_string();
    assert!(text.contains("delete the state file"), "{text}");
    fs::write(dir.path().join("disc.img"), b"").unwrap();
    fs::write(dir.path().join("disc.img.state.json"), b"{ not json").unwrap();
    let err = SimDrive::open(config(dir.path(), Profile::DvdPlusR)).unwrap_err();
    assert!(
        matches!(err, SimError::Medium(MediumError::BadState { .. })),
        "{err}"
    );
    let err = SimDrive::open(config(&dir.path().join("x"), Profile::DvdRom)).unwrap_err();
    assert!(err.to_string().contains("recordable"), "{err}");
}

#[test]
fn the_medium_file_is_sparse_where_nothing_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRe));
    host.ok_out(&format_unit(), &format_list(false, 0, 0x31, 0, 0x800));
    host.write_run(5_000_000, 32, 32, 1);
    let meta = fs::metadata(dir.path().join("disc.img")).unwrap();
    assert_eq!(meta.len(), (5_000_000 + 32) * 2048);
    assert!(
        meta.blocks() * 512 < 16 * 1024 * 1024,
        "{} bytes allocated for a 10 GB file",
        meta.blocks() * 512
    );
    host.verify(5_000_000, 32, 1);
}

#[test]
fn the_drive_finishes_its_buffer_when_the_host_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut config = config(dir.path(), Profile::DvdPlusR);
        config.speed = 4.0;
        let mut host = Host::open(config);
        host.write_run(0, 256, 16, 1);
        assert!(
            host.control.buffer_fill() > 0,
            "data still in the drive buffer"
        );
    }
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    assert_eq!(host.track_info(0xff).nwa, 256);
    host.verify(0, 256, 1);
}

#[test]
fn the_state_is_saved_while_a_long_burn_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.write_run(0, 40_000, 1024, 1);
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("disc.img.state.json")).unwrap())
            .unwrap();
    let saved = state["tracks"][0]["recorded"].as_u64().unwrap();
    assert!(saved >= 32_768, "saved at {saved} blocks");
}

#[test]
fn an_ejected_disc_can_be_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    host.write_run(0, 64, 32, 1);
    host.ok(&start_stop(true, false));
    host.expect(&tur(), NO_MEDIUM_OPEN);
    // Another disc goes in.
    let other = dir.path().join("other.img");
    host.control.insert_medium(&other, Profile::CdR).unwrap();
    assert_eq!(host.wait_ready(), vec![MEDIUM_CHANGED]);
    assert_eq!(host.features().0, Profile::CdR.number());
    // And the first one again.
    host.control
        .insert_medium(&dir.path().join("disc.img"), Profile::CdR)
        .unwrap();
    host.wait_ready();
    assert_eq!(host.features().0, Profile::BdRSequential.number());
    assert_eq!(host.last_track().nwa, 64);
    host.verify(0, 64, 1);
}

#[test]
fn every_recordable_medium_is_created_blank_and_reopens_the_same() {
    for profile in RECORDABLE {
        let dir = tempfile::tempdir().unwrap();
        let (info, track, capacity) = {
            let mut host = Host::open(config(dir.path(), profile));
            assert_eq!(host.features().0, profile.number(), "{profile}");
            let info = host.disc_info();
            let formatted = profile == Profile::DvdRwRestrictedOverwrite;
            assert_eq!(info.status, if formatted { 2 } else { 0 }, "{profile}");
            assert_eq!(info.erasable, !profile.is_write_once(), "{profile}");
            (info, host.track_info(1), host.read_capacity_value())
        };
        let mut host = Host::open(config(dir.path(), Profile::CdR));
        assert_eq!(host.features().0, profile.number(), "{profile}");
        assert_eq!(host.disc_info(), info, "{profile}");
        assert_eq!(host.track_info(1), track, "{profile}");
        assert_eq!(host.read_capacity_value(), capacity, "{profile}");
    }
}

#[test]
fn a_directory_is_not_a_medium() {
    let dir = tempfile::tempdir().unwrap();
    let err = SimDrive::open(SimConfig::new(dir.path(), Profile::DvdPlusR)).unwrap_err();
    assert!(
        matches!(err, SimError::Medium(MediumError::NotAFile { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("not a file"), "{err}");
}

/// Two drives cannot hold one disc: the second is refused while the first has it, as a
/// real burner's device node is opened O_EXCL, and may open it once the first is gone.
#[test]
fn a_medium_held_by_one_drive_is_refused_to_another() {
    let dir = tempfile::tempdir().unwrap();
    for profile in [Profile::DvdPlusR, Profile::DvdRom] {
        if profile == Profile::DvdRom {
            // An existing file without state: a ROM image, locked all the same.
            fs::remove_file(dir.path().join("disc.img.state.json")).unwrap();
        }
        let first = SimDrive::open(config(dir.path(), profile)).unwrap();
        let err = SimDrive::open(config(dir.path(), profile)).unwrap_err();
        assert!(
            matches!(err, SimError::Medium(MediumError::Busy { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("in use"), "{err}");
        drop(first);
        drop(SimDrive::open(config(dir.path(), profile)).unwrap());
    }
}

/// A READ past the end of a disc fails there with 5/21/00, wherever it starts: at the end,
/// across it, or far beyond it (a truncated image, an image compared with a smaller disc).
#[test]
fn reads_past_the_end_of_a_disc_fail_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("disc.img"), pattern(0, 40, 9)).unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    let across = host.expect_in(&read10(32, 16), 16 * 2048, OUT_OF_RANGE);
    assert_eq!(information_of(&across), Some(40));
    assert_eq!(
        across.transferred,
        8 * 2048,
        "the blocks before the end arrive"
    );
    for lba in [40, 41, 1000, u32::MAX - 1] {
        let beyond = host.expect_in(&read10(lba, 1), 2048, OUT_OF_RANGE);
        assert_eq!(information_of(&beyond), Some(lba));
        assert_eq!(beyond.transferred, 0);
    }
    host.expect_in(&read12(u32::MAX - 1, 16), 16 * 2048, OUT_OF_RANGE);
}

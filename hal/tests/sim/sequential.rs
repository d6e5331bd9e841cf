//! Sequential media (CD-R/RW, DVD-R/-RW, DVD-R DL, DVD+R, DVD+R DL, BD-R): blank, written,
//! closed, finalized, and the rules a real drive enforces on the way (`mmc.md` 2.2).

use burnstation_hal::mmc::Profile;
use burnstation_hal::sim::{DiscStatus, SessionState};

use crate::host::*;

/// The write unit of a medium in blocks (the tests always write whole units).
fn unit(profile: Profile) -> u32 {
    match profile {
        Profile::BdRSequential => 32,
        _ => 16,
    }
}

/// What a burner sends before writing on this medium (burning-anchors B.3).
fn prepare(host: &mut Host, profile: Profile, keep_appendable: bool) {
    match profile {
        Profile::CdR | Profile::CdRw => host.select_cd_tao(keep_appendable),
        Profile::DvdRSequential | Profile::DvdRwSequential | Profile::DvdRDualLayerSequential => {
            host.select_dvd_incremental(keep_appendable)
        }
        _ => {}
    }
}

/// Ends a track: SYNCHRONIZE CACHE, and CLOSE TRACK where the medium takes one (a CD TAO
/// track is closed by the flush itself).
fn end_track(host: &mut Host, profile: Profile, number: u16) {
    host.ok(&synchronize_cache(false));
    if !matches!(profile, Profile::CdR | Profile::CdRw) {
        host.ok(&close(false, 0b001, number));
    }
}

/// CLOSE SESSION, finalizing or not, the way each medium is told.
fn end_session(host: &mut Host, profile: Profile, finalize: bool) {
    match profile {
        Profile::CdR
        | Profile::CdRw
        | Profile::DvdRSequential
        | Profile::DvdRwSequential
        | Profile::DvdRDualLayerSequential => {
            // The multi-session bits of page 05h decide.
            prepare(host, profile, !finalize);
            host.ok(&close(false, 0b010, 0));
        }
        Profile::DvdPlusR | Profile::DvdPlusRDualLayer => {
            host.ok(&close(false, if finalize { 0b101 } else { 0b010 }, 0))
        }
        Profile::BdRSequential => host.ok(&close(false, if finalize { 0b110 } else { 0b010 }, 0)),
        _ => unreachable!(),
    }
}

const SEQUENTIAL: [Profile; 8] = [
    Profile::CdR,
    Profile::CdRw,
    Profile::DvdRSequential,
    Profile::DvdRwSequential,
    Profile::DvdRDualLayerSequential,
    Profile::DvdPlusR,
    Profile::DvdPlusRDualLayer,
    Profile::BdRSequential,
];

#[test]
fn every_sequential_medium_goes_blank_incomplete_appendable_finalized() {
    for profile in SEQUENTIAL {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        let cd = matches!(profile, Profile::CdR | Profile::CdRw);
        let unit = unit(profile);
        let capacity = host.last_track().free;

        // Blank.
        let info = host.disc_info();
        assert_eq!(
            (info.status, info.last_session, info.sessions),
            (0, 0, 1),
            "{profile}"
        );
        prepare(&mut host, profile, true);
        let first = host.last_track();
        assert!(
            first.nwa_valid && first.nwa == 0,
            "{profile}: NWA 0 on a blank disc"
        );

        // Written, nothing closed: incomplete, NWA advancing, READ CAPACITY 0.
        let n = if cd { 320 } else { unit * 20 };
        host.write_run(0, n, unit, 1);
        let info = host.disc_info();
        assert_eq!(
            (info.status, info.last_session),
            (1, 1),
            "{profile}: incomplete"
        );
        let track = host.last_track();
        assert_eq!((track.nwa, track.free), (n, capacity - n), "{profile}");
        assert_eq!(
            track.rt_blank_packet_fp & 0b0100,
            0,
            "{profile}: no longer blank"
        );
        assert_eq!(
            host.read_capacity_value(),
            0,
            "{profile}: no complete session"
        );
        host.verify(0, n as u16, 1);

        // Track and session closed: appendable, a new empty session behind a gap.
        end_track(&mut host, profile, 1);
        if profile == Profile::DvdRDualLayerSequential {
            // DVD-R DL has no multi-session: closing the session finalizes.
            end_session(&mut host, profile, false);
            let info = host.disc_info();
            assert_eq!((info.status, info.last_session), (2, 3), "{profile}");
            assert_eq!(host.read_capacity_value(), n - 1, "{profile}");
            continue;
        }
        end_session(&mut host, profile, false);
        let info = host.disc_info();
        assert_eq!(
            (info.status, info.last_session, info.sessions),
            (1, 0, 2),
            "{profile}"
        );
        assert_eq!(
            (info.first_track_last_session, info.last_track_last_session),
            (2, 2),
            "{profile}"
        );
        let closed = host.track_info(1);
        assert!(!closed.nwa_valid, "{profile}: closed track has no NWA");
        assert!(closed.size >= n, "{profile}");
        let session1_end = closed.start + closed.size;
        assert_eq!(host.read_capacity_value(), session1_end - 1, "{profile}");
        let second = host.last_track();
        assert_eq!(second.number, 2);
        assert_eq!(second.session, 2);
        assert!(second.nwa_valid && second.nwa == second.start, "{profile}");
        assert!(
            second.start > session1_end,
            "{profile}: sessions are separated by a gap"
        );
        assert_eq!(
            second.rt_blank_packet_fp & 0b0100,
            0b0100,
            "{profile}: blank"
        );
        // READ TOC format 1: the last complete session and its first track.
        let toc = host.data_in(&read_toc(1, false, 0, 12), 12);
        assert_eq!((toc[2], toc[3]), (1, 1), "{profile}");
        assert_eq!((toc[6], be32(&toc[8..12])), (1, 0), "{profile}");

        // Second session, then finalize.
        let m = if cd { 300 } else { unit * 4 };
        host.write_run(second.nwa, m, unit, 2);
        end_track(&mut host, profile, 2);
        end_session(&mut host, profile, true);
        let info = host.disc_info();
        assert_eq!(
            (info.status, info.last_session),
            (2, 3),
            "{profile}: complete"
        );
        assert_eq!(info.sessions, 2, "{profile}");
        assert_eq!(info.lead_in, [0xff; 4], "{profile}");
        let last = host.track_info(2);
        assert!(!last.nwa_valid, "{profile}: no NWA on a finalized disc");
        assert_eq!(
            host.read_capacity_value(),
            last.start + last.size - 1,
            "{profile}"
        );
        host.verify(0, n as u16, 1);
        host.verify(second.nwa, m as u16, 2);
        // The fabricated TOC lists both tracks and the lead-out.
        let toc = host.data_in(&read_toc(0, false, 0, 100), 100);
        assert_eq!((toc[2], toc[3]), (1, 2), "{profile}");
        assert_eq!(be16(&toc[0..2]) as usize, 2 + 3 * 8, "{profile}");
        assert_eq!(toc[4 + 16 + 2], 0xaa, "{profile}");
        assert_eq!(be32(&toc[4 + 8 + 4..]), second.start, "{profile}");
        // Nothing more goes on a finalized disc.
        let c = host.write(last.start + last.size, unit as u16, 3);
        assert_eq!(sense_of(&c), Some(INVALID_WRITE_ADDRESS), "{profile}");
        host.expect(&close(false, 0b010, 0), SEQUENCE_ERROR);
        let snapshot = host.control.medium().unwrap();
        assert_eq!(snapshot.disc_status, DiscStatus::Complete);
        assert_eq!(snapshot.last_session, SessionState::Complete);
        assert_eq!(snapshot.next_writable_address, None);
    }
}

#[test]
fn writes_must_be_at_the_nwa_aligned_and_inside_the_disc() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusR);
    config.capacity = Some(4096);
    let mut host = Host::open(config);
    let c = host.write(16, 16, 1);
    assert_eq!(sense_of(&c), Some(INVALID_WRITE_ADDRESS));
    assert_eq!(information_of(&c), Some(16));
    let c = host.write(0, 8, 1);
    assert_eq!(sense_of(&c), Some(INVALID_FIELD), "half an ECC block");
    host.write_run(0, 4000, 32, 1);
    let c = host.write(4000, 112, 1);
    assert_eq!(
        sense_of(&c),
        Some(OUT_OF_RANGE),
        "runs past the end of the disc"
    );
    host.ok(&write10(4000, 0));
    assert_eq!(host.last_track().nwa, 4000, "nothing changed");
    // BD-R takes whole 64 KiB clusters.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config_for(dir.path(), Profile::BdRSequential));
    let c = host.write(0, 16, 1);
    assert_eq!(sense_of(&c), Some(INVALID_FIELD));
    let data = pattern(0, 32, 1);
    host.ok_out(&write12(0, 32, false), &data);
}

fn config_for(dir: &std::path::Path, profile: Profile) -> burnstation_hal::sim::SimConfig {
    config(dir, profile)
}

#[test]
fn unwritten_sectors_fail_to_read_the_way_drives_fail() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.write_run(0, 32, 16, 1);
    // DVD: 5/21/00 at the first unwritten sector; the sectors before it arrive.
    let c = host.expect_in(&read10(16, 32), 32 * 2048, OUT_OF_RANGE);
    assert_eq!(information_of(&c), Some(32));
    assert_eq!(c.transferred, 16 * 2048);
    host.expect_in(&read12(2_295_104, 1), 2048, OUT_OF_RANGE);
    // CD: BLANK CHECK.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::CdR));
    host.select_cd_tao(true);
    host.write_run(0, 300, 30, 1);
    host.expect_in(&read10(300, 1), 2048, BLANK_CHECK);
    // After the TAO flush the 2 run-out blocks count but do not read.
    host.ok(&synchronize_cache(false));
    assert_eq!(host.track_info(1).size, 302);
    host.expect_in(&read10(300, 1), 2048, ILLEGAL_MODE);
    host.verify(0, 300, 1);
}

#[test]
fn dvd_minus_r_disc_at_once_needs_an_exact_reservation_and_no_close() {
    for profile in [Profile::DvdRSequential, Profile::DvdRwSequential] {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        host.select_dvd_dao();
        let c = host.write(0, 16, 1);
        assert_eq!(
            sense_of(&c),
            Some(SEQUENCE_ERROR),
            "{profile}: DAO without a reservation"
        );
        host.ok(&reserve_track(160));
        let track = host.track_info(1);
        assert_eq!(
            track.rt_blank_packet_fp, 0b1100,
            "{profile}: empty reserved track"
        );
        assert_eq!((track.size, track.free), (160, 160));
        host.write_run(0, 144, 16, 1);
        let c = host.write(144, 32, 1);
        assert_eq!(
            sense_of(&c),
            Some(END_OF_USER_AREA),
            "{profile}: past the reservation"
        );
        assert_eq!(
            host.track_info(1).rt_blank_packet_fp,
            0b1000,
            "partially recorded"
        );
        host.write_run(144, 16, 16, 1);
        host.ok(&synchronize_cache(false));
        let info = host.disc_info();
        assert_eq!(
            (info.status, info.last_session),
            (2, 3),
            "{profile}: SYNC completes DAO"
        );
        let track = host.track_info(1);
        assert_eq!(
            track.rt_blank_packet_fp, 0b0000,
            "{profile}: complete DAO track"
        );
        assert!(!track.nwa_valid);
        assert_eq!(track.size, 160);
        assert_eq!(host.read_capacity_value(), 159);
        host.expect(&close(false, 0b010, 0), SEQUENCE_ERROR);
        host.verify(0, 160, 1);
    }
    // DAO reserves only on a blank disc.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRSequential));
    host.select_dvd_incremental(true);
    host.write_run(0, 32, 16, 1);
    host.select_dvd_dao();
    host.expect(&reserve_track(160), SEQUENCE_ERROR);
}

#[test]
fn dvd_minus_r_incremental_needs_the_write_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRSequential));
    // After power-on page 05h says TAO, which is no DVD write type.
    let c = host.write(0, 16, 1);
    assert_eq!(sense_of(&c), Some(ILLEGAL_MODE));
    // Incremental without fixed packets is refused at WRITE.
    let c = host.select_page(&write_page(0, true, 16, false, 0, 3, 5, false));
    assert_eq!(sense_of(&c), None);
    assert_eq!(sense_of(&host.write(0, 16, 1)), Some(ILLEGAL_MODE));
    host.select_dvd_incremental(true);
    assert_eq!(sense_of(&host.write(0, 16, 1)), None);
    let track = host.last_track();
    assert_eq!(
        track.rt_blank_packet_fp, 0b0011,
        "incremental, fixed packets"
    );
    assert_eq!(track.packet_size, 16);
    assert!(track.lra_valid);
    assert_eq!(track.last_recorded, 15);
}

#[test]
fn minimally_blanked_dvd_rw_loses_incremental_but_writes_dao() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRwSequential));
    host.select_dvd_incremental(true);
    host.write_run(0, 64, 16, 1);
    host.ok(&synchronize_cache(false));
    host.ok(&blank(false, 0b001));
    assert_eq!(host.disc_info().status, 0, "blank again");
    assert!(
        !host.feature_current(0x21),
        "0021h gone after a minimal blank"
    );
    assert!(host.control.medium().unwrap().minimally_blanked);
    assert_eq!(
        host.last_track().rt_blank_packet_fp,
        0b0100,
        "invisible, not incremental"
    );
    assert_eq!(sense_of(&host.write(0, 16, 1)), Some(ILLEGAL_MODE));
    host.select_dvd_dao();
    host.ok(&reserve_track(64));
    host.write_run(0, 64, 16, 2);
    host.ok(&synchronize_cache(false));
    assert_eq!(host.disc_info().status, 2);
    host.verify(0, 64, 2);
    // A full blank brings incremental writing back.
    host.ok(&blank(false, 0b000));
    assert!(host.feature_current(0x21));
    assert_eq!(host.disc_info().status, 0);
    host.expect_in(&read10(0, 1), 2048, OUT_OF_RANGE);
}

#[test]
fn closing_a_session_with_open_tracks_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.write_run(0, 64, 16, 1);
    host.ok(&synchronize_cache(false));
    host.expect(&close(false, 0b010, 0), INCOMPLETE_TRACK);
    // An empty reserved track.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.ok(&reserve_track(100));
    assert_eq!(
        host.track_info(1).size,
        112,
        "reservations are whole ECC blocks"
    );
    assert_eq!(host.track_info(2).start, 112, "the invisible track follows");
    host.expect(&close(false, 0b010, 0), EMPTY_RESERVED);
    // Write both tracks: the reserved one at its own NWA, the invisible one after it.
    host.write_run(112, 32, 16, 2);
    host.write_run(0, 112, 16, 1);
    host.ok(&close(false, 0b001, 2));
    host.ok(&close(false, 0b010, 0));
    let info = host.disc_info();
    assert_eq!((info.status, info.sessions), (1, 2));
    host.verify(0, 112, 1);
    host.verify(112, 32, 2);
    // Closing a blank fragment is GOOD and does nothing (PI R11).
    let next = host.last_track().number as u16;
    host.ok(&close(false, 0b001, next));
    assert_eq!(host.last_track().number as u16, next);
}

#[test]
fn close_functions_are_checked_per_medium() {
    let cases: [(Profile, u8, u16); 7] = [
        (Profile::DvdPlusR, 0b000, 0),
        (Profile::DvdPlusR, 0b100, 0), // middle zones: DL only
        (Profile::BdRSequential, 0b101, 0),
        (Profile::DvdRSequential, 0b001, 0xff), // FFh is for CD and DVD+R
        (Profile::BdRe, 0b010, 0),
        (Profile::DvdPlusRw, 0b001, 1),
        (Profile::CdR, 0b110, 0),
    ];
    for (profile, function, track) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        if profile == Profile::DvdRSequential {
            host.select_dvd_incremental(true);
            host.write_run(0, 16, 16, 1);
        }
        host.expect(&close(false, function, track), INVALID_FIELD);
    }
}

#[test]
fn write_once_media_cannot_be_blanked_or_formatted() {
    for profile in [
        Profile::CdR,
        Profile::DvdPlusR,
        Profile::BdRSequential,
        Profile::DvdRSequential,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        host.expect(&blank(true, 0b001), CANNOT_FORMAT);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    let c = host.format(&format_list(false, 0, 0x26, 0, 0));
    assert_eq!(sense_of(&c), Some(CANNOT_FORMAT));
}

#[test]
fn cd_sessions_finalize_by_the_multi_session_bits() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::CdRw));
    host.select_cd_tao(false);
    host.write_run(0, 400, 16, 1);
    host.ok(&synchronize_cache(false));
    let track = host.track_info(1);
    assert!(!track.nwa_valid, "the TAO flush closed the track");
    assert_eq!(track.size, 402, "data and 2 run-out blocks");
    host.ok(&close(false, 0b010, 0));
    let info = host.disc_info();
    assert_eq!((info.status, info.last_session, info.sessions), (2, 3, 1));
    assert_eq!(host.read_capacity_value(), 401);
    // MSF addressing in the TOC: LBA 0 is 00:02:00.
    let toc = host.data_in(&read_toc(0, true, 0, 100), 100);
    assert_eq!(&toc[8..12], &[0, 0, 2, 0]);
    assert!(info.erasable);
    // Short tracks are padded to the 300-block minimum.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::CdR));
    host.select_cd_tao(true);
    host.write_run(0, 32, 16, 1);
    host.ok(&synchronize_cache(false));
    assert_eq!(host.track_info(1).size, 302);
    host.ok(&close(false, 0b010, 0));
    let next = host.last_track();
    assert_eq!(
        next.start,
        302 + 11_400,
        "LB: the first session costs 11400 blocks"
    );
}

#[test]
fn dual_layer_plus_r_finalizes_when_nearly_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusRDualLayer);
    config.capacity = Some(8192);
    let mut host = Host::open(config);
    host.write_run(0, 7200, 400, 1);
    host.ok(&close(false, 0b001, 1));
    host.ok(&close(false, 0b010, 0));
    assert_eq!(
        host.disc_info().status,
        2,
        "fewer than 65 ECC blocks left: the session close finalizes"
    );
}

#[test]
fn test_write_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRSequential));
    let c = host.select_page(&write_page(0, true, 16, true, 16, 3, 5, true));
    assert_eq!(sense_of(&c), None);
    host.write_run(0, 64, 16, 1);
    assert_eq!(host.disc_info().status, 0, "still blank");
    assert_eq!(host.last_track().nwa, 0);
}

#[test]
fn track_information_by_lba_and_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    host.write_run(0, 320, 64, 1);
    host.ok(&close(false, 0b001, 1));
    host.ok(&close(false, 0b010, 0));
    let second = host.last_track();
    assert_eq!(host.track_info_by(0, 100).number, 1);
    assert_eq!(host.track_info_by(0, second.start + 5).number, 2);
    assert_eq!(host.track_info_by(2, 2).number, 2);
    host.expect_in(&read_track_information(2, 3, 48), 48, INVALID_FIELD);
    // In the gap between the sessions there is no track.
    host.expect_in(&read_track_information(0, 320, 48), 48, INVALID_FIELD);
}

#[test]
fn rewritable_sequential_media_blank_back_to_blank() {
    for profile in [Profile::CdRw, Profile::DvdRwSequential] {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        prepare(&mut host, profile, false);
        host.write_run(0, 320, 16, 1);
        end_track(&mut host, profile, 1);
        end_session(&mut host, profile, true);
        assert_eq!(host.disc_info().status, 2, "{profile}");
        host.ok(&blank(false, 0b000));
        let info = host.disc_info();
        assert_eq!((info.status, info.sessions), (0, 1), "{profile}");
        assert_eq!(host.read_capacity_value(), 0, "{profile}");
        assert!(
            std::fs::metadata(dir.path().join("disc.img"))
                .unwrap()
                .len()
                == 0
        );
        prepare(&mut host, profile, false);
        host.write_run(0, 320, 16, 2);
        host.verify(0, 320, 2);
    }
}

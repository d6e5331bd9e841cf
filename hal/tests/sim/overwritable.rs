//! Overwritable media (DVD+RW, DVD-RW restricted overwrite, BD-RE) and formatting, blanking
//! and BD-R pre-formatting (`mmc.md` 1.12, 2.3).

use burnstation_hal::mmc::Profile;
use burnstation_hal::sim::BackgroundFormat;

use crate::host::*;

#[test]
fn dvd_plus_rw_background_format_then_write_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusRw));
    let c = host.write(0, 16, 1);
    assert_eq!(
        sense_of(&c),
        Some(NOT_FORMATTED),
        "a blank DVD+RW must be formatted"
    );
    // growisofs: FORMAT UNIT 26h, Immed, blocks FFFFFFFFh.
    let c = host.format(&format_list(true, u32::MAX, 0x26, 0, 0));
    assert_eq!(sense_of(&c), None);
    // Unpaced, the drive formats instantly.
    let info = host.disc_info();
    assert_eq!((info.status, info.background_format), (2, 3));
    assert_eq!(
        host.read_capacity_value(),
        2_295_103,
        "PI: non-blank DVD+RW"
    );
    let ((blocks, kind), _) = host.format_capacities();
    assert_eq!((blocks, kind), (2_295_104, 2), "formatted");
    // Any 2 KiB address, any length.
    host.write_run(1000, 3, 3, 1);
    host.write_run(0, 32, 16, 2);
    host.write_run(0, 16, 16, 3);
    host.verify(0, 16, 3);
    host.verify(16, 16, 2);
    host.verify(1000, 3, 1);
    // Never written, but formatted: reads as zeros.
    let zeros = host.data_in(&read10(50_000, 1), 2048);
    assert!(zeros.iter().all(|b| *b == 0));
    let track = host.track_info(1);
    assert!(!track.nwa_valid, "NWA_V is never set on DVD+RW");
    // Stop de-icing and write the lead-out, as growisofs does: no error.
    host.ok(&synchronize_cache(false));
    host.ok(&close(false, 0b000, 0));
    host.ok(&close(false, 0b010, 0));
    host.ok(&close(false, 0b011, 0));
    host.expect(&reserve_track(16), SEQUENCE_ERROR);
}

#[test]
fn dvd_plus_rw_background_format_suspends_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusRw);
    config.speed = 8.0;
    let mut host = Host::open(config);
    host.ok_out(&format_unit(), &format_list(true, u32::MAX, 0x26, 0, 0));
    assert_eq!(host.disc_info().background_format, 2, "running");
    // Writing starts at once.
    host.write_run(0, 64, 16, 1);
    // REQUEST SENSE shows the format's progress.
    let r = host.data_in(&request_sense(18), 18);
    assert_eq!(r[2] & 0x0f, 0);
    assert_eq!(r[15] & 0x80, 0x80, "SKSV with progress");
    host.ok(&close(false, 0b000, 0));
    assert_eq!(host.disc_info().background_format, 1, "suspended");
    assert_eq!(
        host.control.medium().unwrap().background_format,
        Some(BackgroundFormat::Suspended)
    );
    // The Restart bit resumes it (TDP byte 11 bit 0) and keeps the data.
    host.ok_out(&format_unit(), &format_list(true, u32::MAX, 0x26, 0, 1));
    assert_eq!(host.disc_info().background_format, 2);
    host.verify(0, 64, 1);
    host.control.finish_background_format();
    assert_eq!(host.disc_info().background_format, 3);
}

#[test]
fn dvd_rw_formats_to_restricted_overwrite_and_blanks_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRwSequential));
    host.select_dvd_incremental(true);
    host.write_run(0, 32, 16, 1);
    // Full format 00h with the offered size: profile 0013h.
    let c = host.format(&format_list(false, 2_297_888, 0x00, 0, 0x800));
    assert_eq!(sense_of(&c), None);
    let (profile, _) = host.features();
    assert_eq!(profile, 0x0013);
    assert!(host.feature_current(0x26), "restricted overwrite");
    assert!(!host.feature_current(0x21));
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (2_297_888, 2));
    assert!(
        offers.contains(&(0, 0x13, 16)),
        "fully formatted: 0 blocks offered for 13h"
    );
    assert_eq!(host.read_capacity_value(), 2_297_887);
    assert_eq!(host.disc_info().status, 2);
    // 32 KiB aligned writes anywhere.
    host.write_run(32_000, 32, 16, 2);
    host.verify(32_000, 32, 2);
    let c = host.write(8, 16, 2);
    assert_eq!(sense_of(&c), Some(INVALID_WRITE_ADDRESS));
    let c = host.write(0, 8, 2);
    assert_eq!(sense_of(&c), Some(INVALID_FIELD));
    // Minimal blank is not for restricted overwrite; full blank returns to 0014h.
    host.expect(&blank(false, 0b001), INVALID_FIELD);
    host.ok(&blank(false, 0b000));
    let (profile, _) = host.features();
    assert_eq!(profile, 0x0014);
    assert!(host.feature_current(0x21));
    assert_eq!(host.disc_info().status, 0);
}

#[test]
fn dvd_rw_quick_format_is_intermediate_until_close_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRwSequential));
    host.ok_out(&format_unit(), &format_list(false, 0, 0x15, 0, 16));
    let ((_, kind), offers) = host.format_capacities();
    assert_eq!(kind, 3, "intermediate: type 11b");
    assert!(!offers.iter().any(|o| o.1 == 0x13), "no 13h offered yet");
    host.write_run(0, 64, 16, 1);
    host.ok(&close(false, 0b010, 0));
    let ((_, kind), offers) = host.format_capacities();
    assert_eq!(kind, 2);
    assert!(offers.iter().any(|o| o.1 == 0x13));
    host.verify(0, 64, 1);
    // Quick grow keeps the data.
    host.ok_out(&format_unit(), &format_list(false, 0, 0x13, 0, 16));
    host.verify(0, 64, 1);
    // 11h is not offered.
    let c = host.format(&format_list(false, 0, 0x11, 0, 16));
    assert_eq!(sense_of(&c), Some(INVALID_PARAMETER));
}

#[test]
fn bd_re_formats_and_takes_streaming_writes_of_whole_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRe));
    let c = host.write(0, 32, 1);
    assert_eq!(sense_of(&c), Some(NOT_FORMATTED));
    // Too little spare: 5/26/00 (PI BDR-203).
    let c = host.format(&format_list(false, 12_150_000, 0x30, 0b11, 0));
    assert_eq!(sense_of(&c), Some(INVALID_PARAMETER));
    // The default format.
    host.ok_out(
        &format_unit(),
        &format_list(false, 11_826_176, 0x00, 0, 0x3000),
    );
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (11_826_176, 2));
    assert_eq!(offers.len(), 5, "reformatting stays offered");
    assert!(host.feature_current(0x24), "defect management");
    assert_eq!(host.read_capacity_value(), 11_826_175);
    let c = host.exec(
        &write12(0, 16, true),
        burnstation_hal::scsi::DataTransfer::ToDevice(&pattern(0, 16, 1)),
    );
    assert_eq!(
        sense_of(&c),
        Some(INVALID_FIELD),
        "streaming needs full 64 KiB"
    );
    host.ok_out(&write12(64, 32, true), &pattern(64, 32, 1));
    host.write_run(7, 5, 5, 2);
    host.verify(7, 5, 2);
    let data = host.data_in(&read12(64, 32), 32 * 2048);
    assert_eq!(data, pattern(64, 32, 1));
    host.expect(&close(false, 0b001, 1), INVALID_FIELD);
    host.expect(&blank(false, 0), INVALID_FIELD);
    // No defect management: the whole disc.
    host.ok_out(
        &format_unit(),
        &format_list(false, 12_219_392, 0x31, 0, 0x800),
    );
    assert_eq!(host.format_capacities().0, (12_219_392, 2));
    assert!(!host.feature_current(0x24));
    let _ = host.data_in(&read10(12_219_391, 1), 2048);
    host.expect_in(&read10(12_219_392, 1), 2048, OUT_OF_RANGE);
}

#[test]
fn bd_r_formatted_with_pow() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    // 32h, sub-type 00b SRM+POW, the default spare (growisofs forces POW).
    host.ok_out(
        &format_unit(),
        &format_list(false, 11_826_176, 0x32, 0b00, 0),
    );
    assert!(host.feature_current(0x38), "POW");
    assert!(host.feature_current(0x24));
    let info = host.disc_info();
    assert_eq!(
        (info.status, info.last_session, info.sessions),
        (1, 0, 1),
        "formatted, unwritten BD-R: appendable, empty session"
    );
    assert_eq!(host.read_capacity_value(), 0);
    let track = host.last_track();
    assert_eq!((track.nwa, track.free), (0, 11_826_176));
    assert_eq!(host.format_capacities().0, (11_826_176, 2));
    host.write_run(0, 128, 64, 1);
    // Pseudo-overwrite inside the recorded area.
    host.write_run(32, 32, 32, 2);
    host.verify(32, 32, 2);
    host.verify(0, 32, 1);
    // Beyond the NWA is still not writable.
    let c = host.write(256, 32, 1);
    assert_eq!(sense_of(&c), Some(INVALID_WRITE_ADDRESS));
    // A BD-R is formatted once, while blank.
    let c = host.format(&format_list(false, 11_826_176, 0x32, 0b01, 0));
    assert_eq!(sense_of(&c), Some(CANNOT_FORMAT));
    // Without POW, no pseudo-overwrite.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    host.ok_out(
        &format_unit(),
        &format_list(false, 12_088_320, 0x32, 0b01, 0),
    );
    assert!(!host.feature_current(0x38));
    assert_eq!(host.last_track().free, 12_088_320);
    host.write_run(0, 64, 32, 1);
    assert_eq!(sense_of(&host.write(0, 32, 2)), Some(INVALID_WRITE_ADDRESS));
    // Random recording mode is not emulated.
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    let c = host.format(&format_list(false, 0, 0x00, 0b10, 0));
    assert_eq!(sense_of(&c), Some(INVALID_PARAMETER));
}

#[test]
fn immediate_blank_and_format_show_progress_while_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdRwSequential);
    config.speed = 4.0;
    let mut host = Host::open(config);
    host.select_dvd_incremental(true);
    host.write_run(0, 64, 16, 1);
    host.ok(&synchronize_cache(false));
    let start = host.control.now();
    host.ok(&blank(true, 0b000));
    let mut progress = Vec::new();
    loop {
        let c = host.run(&tur());
        match sense_of(&c) {
            None => break,
            Some(s) => {
                assert_eq!(s, IN_PROGRESS);
                progress.push(progress_of(&c).expect("progress in sense bytes 16-17"));
            }
        }
        // Other media commands wait too; INQUIRY and REQUEST SENSE answer.
        if progress.len() == 1 {
            host.expect_in(&read_disc_information(34), 34, IN_PROGRESS);
            let r = host.data_in(&request_sense(18), 18);
            assert_eq!((r[2], r[12], r[13]), (2, 4, 7));
            let _ = host.data_in(&inquiry(36), 36);
        }
    }
    assert!(progress.len() >= 3, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    // A full blank of a DVD-RW at 4x takes about capacity / speed.
    let took = (host.control.now() - start).as_secs_f64();
    let expected = 2_298_496.0 * 2048.0 / (4.0 * 1_385_000.0);
    assert!(
        took >= expected * 0.95 && took <= expected * 1.3,
        "{took} s vs {expected} s"
    );
    assert_eq!(host.disc_info().status, 0);
    // A full format answers 2/04/04.
    host.ok_out(&format_unit(), &format_list(true, 2_297_888, 0x10, 0, 16));
    let c = host.run(&tur());
    assert_eq!(sense_of(&c), Some(FORMAT_IN_PROGRESS));
    host.wait_ready();
    let (profile, _) = host.features();
    assert_eq!(profile, 0x0013);
}

#[test]
fn non_immediate_operations_answer_when_done() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::CdRw);
    config.speed = 4.0;
    let mut host = Host::open(config);
    let start = host.control.now();
    host.ok(&blank(false, 0b001));
    assert!(host.control.now() > start, "a minimal blank takes time");
    host.ok(&tur());
}

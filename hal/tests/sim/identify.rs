//! What a host learns before it writes: INQUIRY, unit attentions, GET CONFIGURATION, GESN,
//! mode pages, speeds, buffer, and what an empty drive says.

use burnstation_hal::mmc::Profile;
use burnstation_hal::scsi::{DataTransfer, Transport};
use burnstation_hal::sim::{CommandResult, SimConfig, SimDrive};

use crate::host::*;

#[test]
fn inquiry_reports_a_removable_mmc_device_with_the_configured_identity() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "sim:{}?vendor=PIONEER&revision=1.10",
        dir.path().join("d.img").display()
    );
    let mut config = SimConfig::from_spec(&spec).unwrap();
    config.identity.product = "BD-RW BDR-209".to_string();
    let mut host = Host::open(config);
    let r = host.data_in(&inquiry(96), 96);
    assert_eq!(r.len(), 36);
    assert_eq!(r[0] & 0x1f, 0x05, "peripheral device type: CD/DVD");
    assert_eq!(r[1] & 0x80, 0x80, "removable");
    assert_eq!(r[4] as usize, r.len() - 5, "additional length");
    assert_eq!(&r[8..16], b"PIONEER ");
    assert_eq!(&r[16..32], b"BD-RW BDR-209   ");
    assert_eq!(&r[32..36], b"1.10");
    // Allocation length is respected.
    assert_eq!(host.data_in(&inquiry(5), 96).len(), 5);
}

#[test]
fn unknown_and_lacking_commands_are_invalid_opcodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusR);
    config.lacks = vec![0x4a, 0x53];
    let mut host = Host::open(config);
    host.expect(&[0xbe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], INVALID_OPCODE);
    host.expect(&gesn(true, 0x10, 8), INVALID_OPCODE);
    host.expect(&reserve_track(16), INVALID_OPCODE);
    host.ok(&tur());
}

#[test]
fn power_on_then_ready_and_request_sense_reports_no_sense() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.ok(&tur());
    let r = host.data_in(&request_sense(18), 18);
    assert_eq!(r.len(), 18);
    assert_eq!(r[0] & 0x7f, 0x70);
    assert_eq!((r[2] & 0x0f, r[12], r[13]), (0, 0, 0));
}

#[test]
fn get_configuration_reports_profile_and_current_features_for_every_medium() {
    // Features that must be current, and that must not, per medium (mmc.md 1.1, 2.2, 2.3).
    let cases: [(Profile, &[u16], &[u16]); 11] = [
        (Profile::CdR, &[0x21, 0x2d], &[0x1f, 0x23, 0x2f, 0x2b, 0x40]),
        (Profile::CdRw, &[0x21, 0x2d], &[0x1f, 0x23, 0x2f]),
        (
            Profile::DvdRSequential,
            &[0x1f, 0x21, 0x2f],
            &[0x23, 0x2b, 0x2d],
        ),
        (
            Profile::DvdRwSequential,
            &[0x1f, 0x21, 0x23, 0x2f],
            &[0x26, 0x2a],
        ),
        (
            Profile::DvdRwRestrictedOverwrite,
            &[0x1f, 0x23, 0x26],
            &[0x21, 0x2f],
        ),
        (
            Profile::DvdRDualLayerSequential,
            &[0x1f, 0x21, 0x2f],
            &[0x2b],
        ),
        (Profile::DvdPlusR, &[0x1f, 0x2b], &[0x21, 0x23, 0x2f, 0x3b]),
        (Profile::DvdPlusRDualLayer, &[0x1f, 0x2b, 0x3b], &[0x21]),
        (Profile::DvdPlusRw, &[0x1f, 0x23, 0x2a], &[0x21, 0x24, 0x2b]),
        (
            Profile::BdRSequential,
            &[0x23, 0x40, 0x41],
            &[0x1f, 0x21, 0x24, 0x38],
        ),
        (
            Profile::BdRe,
            &[0x23, 0x40, 0x41],
            &[0x1f, 0x21, 0x24, 0x38],
        ),
    ];
    for (profile, current, not_current) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        let (header_profile, features) = host.features();
        assert_eq!(
            header_profile,
            profile.number(),
            "{profile}: header bytes 6-7"
        );
        let codes: Vec<u16> = features.iter().map(|f| f.0).collect();
        for wanted in [
            0x0000u16, 0x0001, 0x0003, 0x001f, 0x0021, 0x0023, 0x0024, 0x0026, 0x002a, 0x002b,
            0x002d, 0x002f, 0x0038, 0x003b, 0x0040, 0x0041, 0x0107,
        ] {
            assert!(
                codes.contains(&wanted),
                "{profile}: feature {wanted:04x} missing"
            );
        }
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "features in ascending order"
        );
        for code in current {
            assert!(
                host.feature_current(*code),
                "{profile}: {code:04x} should be current"
            );
        }
        for code in not_current {
            assert!(
                !host.feature_current(*code),
                "{profile}: {code:04x} should not be current"
            );
        }
        // The profile list marks exactly the current profile.
        let list = &features[0].2;
        let marked: Vec<u16> = list
            .chunks(4)
            .filter(|e| e[2] & 1 == 1)
            .map(|e| be16(&e[0..2]))
            .collect();
        assert_eq!(marked, vec![profile.number()], "{profile}: CurrentP");
    }
}

#[test]
fn get_configuration_request_types_and_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRSequential));
    // RT=2 names one feature: growisofs asks for 0021h with 16 bytes.
    let r = host.data_in(&get_configuration(2, 0x21, 16), 16);
    assert_eq!(be32(&r[0..4]), 4 + 12, "header + one 12-byte descriptor");
    assert_eq!(be16(&r[8..10]), 0x21);
    assert_eq!(r[10] & 1, 1, "current on a blank DVD-R");
    assert_eq!(r[11], 8);
    assert_eq!(r[15], 1, "one link size");
    // Only the first 16 bytes arrive; the link size (byte 20) would not.
    assert_eq!(r.len(), 16);
    let r = host.data_in(&get_configuration(2, 0x21, 64), 64);
    assert_eq!(r[16], 16, "DVD link size 16");
    // RT=1: only current features.
    let r = host.data_in(&get_configuration(1, 0, 4096), 4096);
    let mut at = 8;
    while at < r.len() {
        assert_eq!(
            r[at + 2] & 1,
            1,
            "feature {:04x} not current",
            be16(&r[at..])
        );
        at += 4 + r[at + 3] as usize;
    }
    // RT=0 from a start feature.
    let r = host.data_in(&get_configuration(0, 0x40, 4096), 4096);
    assert_eq!(be16(&r[8..10]), 0x40);
    // An 8-byte probe says how long the whole answer is.
    let probe = host.data_in(&get_configuration(0, 0, 8), 8);
    let full = host.data_in(&get_configuration(0, 0, 4096), 4096);
    assert_eq!(be32(&probe[0..4]) as usize + 4, full.len());
    host.expect(&get_configuration(3, 0, 8), INVALID_FIELD);
}

#[test]
fn empty_drive_answers_no_medium_but_still_identifies() {
    let mut host = Host::open(SimConfig::empty_tray());
    host.expect(&tur(), NO_MEDIUM_CLOSED);
    host.expect_in(&read_disc_information(34), 34, NO_MEDIUM_CLOSED);
    let r = host.data_in(&get_configuration(0, 0, 8), 8);
    assert_eq!(be16(&r[6..8]), 0, "no current profile");
    let sense = host.data_in(&request_sense(18), 18);
    assert_eq!((sense[2], sense[12], sense[13]), (2, 0x3a, 1));
    let (current, offers) = host.format_capacities();
    assert_eq!(current.1, 3, "no medium: type 11b");
    assert!(offers.is_empty());
}

#[test]
fn gesn_reports_media_events_with_length_six() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.expect(&gesn(false, 0x10, 8), INVALID_FIELD);
    // Linux's poll: 4a 01 00 00 10 00 00 00 08 00.
    let r = host.data_in(&gesn(true, 0x10, 8), 8);
    assert_eq!(
        r,
        vec![0, 6, 0x04, 0x10, 2, 0x02, 0, 0],
        "new media, present"
    );
    let r = host.data_in(&gesn(true, 0x10, 8), 8);
    assert_eq!(r[4], 0, "the event was consumed");
    // Eject: removal event, tray open.
    host.ok(&start_stop(true, false));
    let r = host.data_in(&gesn(true, 0x10, 8), 8);
    assert_eq!((r[4], r[5]), (3, 0x01));
    host.expect(&tur(), NO_MEDIUM_OPEN);
    // Load: new media, then the medium-changed unit attention.
    host.ok(&start_stop(true, true));
    let r = host.data_in(&gesn(true, 0x10, 8), 8);
    assert_eq!((r[4], r[5]), (2, 0x02));
    assert_eq!(host.wait_ready(), vec![MEDIUM_CHANGED]);
    // No supported class asked for: NEA.
    let r = host.data_in(&gesn(true, 0x02, 8), 8);
    assert_eq!(r, vec![0, 2, 0x80, 0x10]);
}

#[test]
fn locked_tray_refuses_eject() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.ok(&prevent_allow(true));
    assert!(host.control.locked());
    host.expect(&start_stop(true, false), REMOVAL_PREVENTED);
    host.ok(&tur());
    host.ok(&prevent_allow(false));
    host.ok(&start_stop(true, false));
}

#[test]
fn mode_pages_05_and_2a() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdRSequential);
    config.speed = 16.0;
    let mut host = Host::open(config);
    let r = host.data_in(&mode_sense(0x05, 0, 128), 128);
    assert_eq!(be16(&r[0..2]) as usize, r.len() - 2, "mode data length");
    assert_eq!(be16(&r[6..8]), 0, "no block descriptors");
    assert_eq!((r[8], r[9]), (0x05, 0x32));
    assert_eq!(r[10] & 0x40, 0x40, "BUFE on");
    // Changeable mask.
    let mask = host.data_in(&mode_sense(0x05, 1, 128), 128);
    assert_eq!(mask[10] & 0x0f, 0x0f, "write type changeable");
    host.expect_in(&mode_sense(0x05, 3, 128), 128, (5, 0x39, 0));
    host.expect_in(&mode_sense(0x1a, 0, 128), 128, INVALID_FIELD);
    // Page 2Ah: buffer and the write speeds of a 16x DVD drive.
    let r = host.data_in(&mode_sense(0x2a, 0, 256), 256);
    let page = &r[8..];
    assert_eq!(page[0] & 0x3f, 0x2a);
    assert_eq!(page[1] as usize + 2, page.len());
    assert_eq!(be16(&page[12..14]), 2048, "buffer size in KiB");
    assert_eq!(be16(&page[28..30]), 22160, "current write speed, kB/s");
    let count = be16(&page[30..32]) as usize;
    let speeds: Vec<u16> = (0..count).map(|i| be16(&page[34 + 4 * i..])).collect();
    assert_eq!(speeds, vec![22160, 11080, 5540]);
    // All pages.
    let all = host.data_in(&mode_sense(0x3f, 0, 512), 512);
    assert_eq!(all.len(), 8 + 52 + page.len());
    // Page 05h is validated per medium: DVD link size must be 16, write type 0 or 2.
    let c = host.select_page(&write_page(0, true, 7, true, 16, 3, 5, false));
    assert_eq!(sense_of(&c), Some(INVALID_PARAMETER));
    let c = host.select_page(&write_page(1, false, 0, false, 0, 0, 5, false));
    assert_eq!(
        sense_of(&c),
        Some(INVALID_PARAMETER),
        "TAO is not a DVD write type"
    );
    let c = host.select_page(&write_page(0, true, 16, true, 32, 3, 5, false));
    assert_eq!(
        sense_of(&c),
        Some(INVALID_PARAMETER),
        "DVD packets are 16 blocks"
    );
    host.select_dvd_incremental(true);
    let r = host.data_in(&mode_sense(0x05, 0, 128), 128);
    assert_eq!(r[10] & 0x2f, 0x20, "LS_V, write type 0");
    assert_eq!(r[13], 16);
    // Truncated page, and a page this drive does not have.
    let mut short = write_page(0, true, 16, true, 16, 3, 5, false);
    short.truncate(30);
    host.expect_out(&mode_select(30), &short, INVALID_PARAMETER);
    let mut unknown = write_page(0, true, 16, true, 16, 3, 5, false);
    unknown[8] = 0x1a;
    host.expect_out(&mode_select(60), &unknown, INVALID_PARAMETER);
    // Saving pages (SP) is not supported.
    let mut saving = mode_select(60);
    saving[1] |= 0x01;
    host.expect_out(&saving, &unknown, INVALID_FIELD);
}

#[test]
fn write_parameters_do_not_apply_to_plus_media_and_bd() {
    for profile in [Profile::DvdPlusR, Profile::DvdPlusRw, Profile::BdRe] {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::open(config(dir.path(), profile));
        // growisofs sends one on DVD+R anyway: taken, ignored.
        let c = host.select_page(&write_page(1, true, 99, false, 0, 3, 5, false));
        assert_eq!(sense_of(&c), None, "{profile}");
    }
}

#[test]
fn speeds_from_get_performance_and_set_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusR);
    config.speed = 8.0;
    let mut host = Host::open(config);
    // Type 03h: write speed descriptors ending at capacity - 1 (R1: 2295103).
    let probe = host.data_in(&get_performance(3, 0, 0), 8);
    let count = (be32(&probe[0..4]) as usize - 4) / 16;
    assert_eq!(count, 3);
    let r = host.data_in(&get_performance(3, 0, count as u16), 8 + 16 * count);
    let descriptors: Vec<(u32, u32)> = r[8..]
        .chunks(16)
        .map(|d| (be32(&d[4..8]), be32(&d[12..16])))
        .collect();
    assert_eq!(
        descriptors,
        vec![(2_295_103, 11080), (2_295_103, 5540), (2_295_103, 2770)]
    );
    // Type 00h, write, nominal.
    let r = host.data_in(&get_performance(0, 0x04, 1), 24);
    assert_eq!(r[4] & 0x02, 0x02, "Write bit echoed");
    assert_eq!(be32(&r[8 + 4..8 + 8]), 11080);
    assert_eq!(be32(&r[8 + 8..8 + 12]), 2_295_103);
    host.expect_in(&get_performance(0x05, 0, 1), 64, INVALID_FIELD);
    // SET STREAMING 4x: honoured (drives round down to a speed they have).
    let d = streaming_descriptor(2_295_103, 6000);
    host.ok_out(&set_streaming(28), &d);
    assert_eq!(host.control.write_rate(), 5_540_000);
    // Faster than the drive: its top speed.
    host.ok_out(&set_streaming(28), &streaming_descriptor(2_295_103, 99_999));
    assert_eq!(host.control.write_rate(), 11_080_000);
    // SET CD SPEED works too; FFFFh = fastest.
    host.ok(&set_cd_speed(0xffff, 2770));
    assert_eq!(host.control.write_rate(), 2_770_000);
    host.ok(&set_cd_speed(0xffff, 0xffff));
    assert_eq!(host.control.write_rate(), 11_080_000);
}

#[test]
fn read_buffer_capacity_in_bytes_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    let r = host.data_in(&read_buffer_capacity(false, 12), 12);
    assert_eq!(be16(&r[0..2]), 0x0a);
    assert_eq!(be32(&r[4..8]), 2 * 1024 * 1024);
    assert_eq!(be32(&r[8..12]), 2 * 1024 * 1024, "empty");
    let r = host.data_in(&read_buffer_capacity(true, 12), 12);
    assert_eq!(r[3] & 1, 1);
    assert_eq!(be32(&r[4..8]), 1024, "in blocks");
    assert_eq!(be32(&r[8..12]), 1024);
}

#[test]
fn every_command_is_recorded_with_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    host.control.clear_commands();
    host.ok(&tur());
    let _ = host.write(0, 16, 1);
    let _ = host.write(100, 16, 1);
    let _ = host.data_in(&inquiry(36), 36);
    let log = host.control.commands();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].cdb(), &tur()[..]);
    assert_eq!(log[0].result, CommandResult::Good);
    assert_eq!(log[1].opcode(), 0x2a);
    assert_eq!(log[1].data_out, 16 * 2048);
    assert!(log[1].result.is_good());
    assert_eq!(log[2].result.sense(), Some(INVALID_WRITE_ADDRESS));
    assert_eq!(log[3].data_in, 36);
}

#[test]
fn a_log_limit_keeps_only_the_most_recent_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusR);
    config.command_log_limit = Some(3);
    let mut host = Host::open(config);
    host.ok(&tur());
    let _ = host.write(0, 16, 1);
    let _ = host.write(16, 16, 1);
    let _ = host.data_in(&inquiry(36), 36);
    let log = host.control.commands();
    let opcodes: Vec<u8> = log.iter().map(|c| c.opcode()).collect();
    assert_eq!(opcodes, [0x2a, 0x2a, 0x12], "the last three, oldest first");
    assert_eq!(log[0].cdb()[2..6], 0u32.to_be_bytes());
    assert_eq!(log[1].cdb()[2..6], 16u32.to_be_bytes());

    let dir = tempfile::tempdir().unwrap();
    let mut silent = self::config(dir.path(), Profile::DvdPlusR);
    silent.command_log_limit = Some(0);
    let mut host = Host::open(silent);
    host.ok(&tur());
    assert!(host.control.commands().is_empty(), "nothing kept");
}

#[test]
fn name_is_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "sim:{}?profile=bd-r&speed=2",
        dir.path().join("x.img").display()
    );
    let drive = SimDrive::open_spec(&spec).unwrap();
    assert_eq!(drive.name(), spec);
    let mut drive = drive;
    let mut buf = [0u8; 8];
    // A short CDB for its group is refused, not read past.
    let c = drive
        .execute(&[0x25, 0, 0], DataTransfer::FromDevice(&mut buf), TIMEOUT)
        .unwrap();
    assert_eq!(sense_of(&c), Some(INVALID_FIELD));
}

//! Blank media must answer the way real drives were seen answering (`mmc.md` part 3).

use burnstation_hal::mmc::Profile;

use crate::host::*;

/// R1: a blank DVD+RW in an LG GP60N.
#[test]
fn blank_dvd_plus_rw_answers_exactly_r1() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusRw));
    let info = host.disc_info();
    assert_eq!(info.status, 0, "disc blank");
    assert_eq!(info.last_session, 0, "last session empty");
    assert_eq!(info.sessions, 1);
    assert_eq!(info.first_track_last_session, 1, "next track 1");
    assert_eq!(info.last_track_last_session, 1, "1 track");
    assert_eq!(info.background_format, 0);
    assert!(info.erasable);
    assert_eq!(be32(&info.lead_out), 2_295_104, "legacy lead-out");
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (2_295_104, 1), "unformatted 2295104*2048");
    assert_eq!(offers, vec![(2_295_104, 0x26, 0)], "26h(0) 2295104");
    let track = host.track_info(1);
    assert_eq!(
        track.rt_blank_packet_fp, 0b0110,
        "invisible incremental: Blank, Packet"
    );
    assert_eq!(track.start, 0);
    assert!(!track.nwa_valid, "no NWA line");
    assert_eq!(track.free, 2_295_104);
    assert_eq!(track.size, 2_295_104);
    assert_eq!(host.read_capacity_value(), 0);
    // Speed descriptor 00/2295103.
    let r = host.data_in(&get_performance(3, 0, 1), 24);
    assert_eq!(be32(&r[12..16]), 2_295_103);
}

/// R2/R5: a blank BD-R, unformatted, with the format list LB's cookbook describes.
#[test]
fn blank_bd_r_answers_r2_and_r5() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    let info = host.disc_info();
    assert_eq!((info.status, info.last_session, info.sessions), (0, 0, 1));
    assert_eq!(
        (info.first_track_last_session, info.last_track_last_session),
        (1, 1)
    );
    assert!(!info.erasable);
    let track = host.last_track();
    assert!(track.nwa_valid);
    assert_eq!(
        (track.nwa, track.free),
        (0, 12_219_392),
        "R5: NWA + free = 12219392"
    );
    assert_eq!(track.length, 46, "48-byte reply on BD");
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (12_219_392, 1));
    let types: Vec<u8> = offers.iter().map(|o| o.1).collect();
    assert_eq!(
        types,
        vec![0x00, 0x32, 0x32, 0x32],
        "00h, then 32h default/max/min spare"
    );
    assert_eq!(offers[1].0, 11_826_176, "default spare");
    assert!(
        offers[2].0 < offers[1].0,
        "maximum spare is the smallest capacity"
    );
    assert_eq!(
        offers[3].0, 12_088_320,
        "minimum spare (ImgBurn's 'maximum')"
    );
    assert_eq!(host.read_capacity_value(), 0);
    // Track FFh is for CD and DVD+R only.
    host.expect_in(&read_track_information(1, 0xff, 48), 48, INVALID_FIELD);
}

/// R10: the BD-RE format list of an LG drive (LB's fixture).
#[test]
fn bd_re_format_list_is_r10() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRe));
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (12_219_392, 1), "sold unformatted");
    assert_eq!(
        offers,
        vec![
            (11_826_176, 0x00, 0x3000),
            (11_826_176, 0x30, 0x3000),
            (11_564_032, 0x30, 0x5000),
            (12_088_320, 0x30, 0x1000),
            (12_219_392, 0x31, 0x0800),
        ]
    );
    assert_eq!(host.disc_info().status, 0);
}

/// R3: a DVD-RW offers 00h/10h/15h with the TDP conventions of a GSA-4083N.
#[test]
fn dvd_rw_sequential_offers_r3_formats() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdRwSequential));
    let ((blocks, kind), offers) = host.format_capacities();
    assert_eq!((blocks, kind), (2_298_496, 1));
    assert_eq!(
        offers,
        vec![
            (2_297_888, 0x00, 0x800),
            (2_297_888, 0x10, 16),
            (2_297_888, 0x15, 16)
        ]
    );
    let track = host.last_track();
    assert_eq!(track.rt_blank_packet_fp, 0b0110, "invisible incremental");
    assert_eq!(track.track_mode, 5);
    assert_eq!(be32(&host.disc_info().lead_out), 2_298_496);
}

/// R11: a blank 80-minute CD-R: lead-in 97:15:35, lead-out 79:59:74, in MSF.
#[test]
fn blank_cd_r_reports_atip_times_in_msf() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::CdR));
    let info = host.disc_info();
    assert_eq!(info.lead_in, [0, 97, 15, 35]);
    assert_eq!(info.lead_out, [0, 79, 59, 74]);
    let track = host.track_info(0xff);
    assert_eq!(track.length, 34, "36-byte reply on CD (R6)");
    assert!(track.nwa_valid);
    assert_eq!((track.nwa, track.free), (0, 359_849));
    assert_eq!(track.rt_blank_packet_fp, 0b0100, "invisible TAO track");
    // No TOC on a blank disc.
    host.expect_in(&read_toc(0, false, 0, 100), 100, INVALID_FIELD);
}

/// Blank DVD+R as TG and real drives report it.
#[test]
fn blank_dvd_plus_r() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    let info = host.disc_info();
    assert_eq!((info.status, info.sessions), (0, 1));
    assert_eq!(be32(&info.lead_out), 2_295_104, "TG: 0x00230540");
    let track = host.track_info(0xff);
    assert_eq!(track.rt_blank_packet_fp, 0b0100, "PI R11: RT=0, Blank=1");
    assert_eq!(
        (track.nwa, track.free, track.size),
        (0, 2_295_104, 2_295_104)
    );
    assert!(!track.lra_valid);
    assert_eq!(host.track_info(1), track, "FFh is track 1 on a blank disc");
    // Past the last track: 5/24/00.
    host.expect_in(&read_track_information(1, 2, 48), 48, INVALID_FIELD);
    host.expect_in(&read_track_information(2, 2, 48), 48, INVALID_FIELD);
    assert_eq!(host.track_info_by(2, 1), track, "first track of session 1");
    assert_eq!(
        host.track_info_by(0, 1000),
        track,
        "the track holding LBA 1000"
    );
}

/// `dvd+rw-mediainfo` asks for POW resources with byte 1 = 10h (a reserved bit): the drive
/// ignores it and sends the standard block; the real data types 001b/010b are refused.
#[test]
fn disc_information_data_types() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::BdRSequential));
    let mut cdb = read_disc_information(34);
    cdb[1] = 0x10;
    let r = host.data_in(&cdb, 34);
    assert_eq!(be16(&r[0..2]), 32);
    cdb[1] = 0x02;
    host.expect_in(&cdb, 34, INVALID_FIELD);
    cdb[1] = 0x01;
    host.expect_in(&cdb, 34, INVALID_FIELD);
    // Allocation length: a 2-byte probe gets the length field only.
    assert_eq!(host.data_in(&read_disc_information(2), 34), vec![0, 32]);
}

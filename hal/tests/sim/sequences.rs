//! The command sequences the reference burners send (burning-anchors B.3), replayed as raw
//! CDBs on a paced drive with Immed flushes and polling, the way growisofs does them.

use burnstation_hal::mmc::Profile;
use burnstation_hal::scsi::DataTransfer;

use crate::host::*;

/// Sends a command with Immed until it is taken, answering 2/04/07 by asking again
/// (growisofs retries CLOSE that way), then polls TEST UNIT READY until the drive is done.
fn immed_and_poll(host: &mut Host, cdb: &[u8]) -> usize {
    let mut polls = 0;
    loop {
        let c = host.run(cdb);
        match sense_of(&c) {
            None => break,
            Some(IN_PROGRESS) => polls += 1,
            Some(other) => panic!("{cdb:02x?}: {other:02x?}"),
        }
    }
    loop {
        let c = host.run(&tur());
        match sense_of(&c) {
            None => return polls,
            Some(IN_PROGRESS | FORMAT_IN_PROGRESS) => polls += 1,
            Some(other) => panic!("polling after {cdb:02x?}: {other:02x?}"),
        }
    }
}

fn paced(dir: &std::path::Path, profile: Profile) -> burnstation_hal::sim::SimConfig {
    let mut config = config(dir, profile);
    config.speed = 8.0;
    config
}

#[test]
fn growisofs_dvd_minus_r_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::DvdRSequential));
    // Feature 0021h, RT=2: the short probe, then the announced length.
    let probe = host.data_in(&get_configuration(2, 0x21, 8), 8);
    let len = be32(&probe[0..4]) as usize + 4;
    let feature = host.data_in(&get_configuration(2, 0x21, len as u16), len);
    assert_eq!(feature[10] & 1, 1, "0021h current: incremental is possible");
    let link_size = feature[16];
    // Page 05h from MODE SENSE as a template, with track mode copied from 52h.
    let info = host.disc_info();
    let track = host.track_info(info.first_track_last_session as u32);
    let mut list = host.data_in(&mode_sense(0x05, 0, 60), 60);
    list[0] = 0;
    list[1] = 0;
    let page = &mut list[8..];
    page[2] = 0x40 | 0x20; // BUFE, LS_V, write type 0
    page[3] = 0xc0 | 0x20 | track.track_mode; // keep appendable, FP
    page[4] = 8;
    page[5] = link_size;
    page[10..14].copy_from_slice(&16u32.to_be_bytes());
    host.ok_out(&mode_select(60), &list);
    host.ok_out(&set_streaming(28), &streaming_descriptor(2_298_495, 11_080));
    // RBC tells how much the drive holds.
    let rbc = host.data_in(&read_buffer_capacity(false, 12), 12);
    assert!(be32(&rbc[4..8]) > 0);
    let mut at = track.nwa;
    let mut resent = 0;
    while at < 4096 {
        match sense_of(&host.write(at, 16, 1)) {
            None => at += 16,
            Some(LONG_WRITE) => resent += 1,
            Some(other) => panic!("{other:?}"),
        }
    }
    assert!(resent > 0);
    immed_and_poll(&mut host, &synchronize_cache(true));
    immed_and_poll(&mut host, &close(true, 0b001, track.number as u16));
    let polls = immed_and_poll(&mut host, &close(true, 0b010, 0));
    assert!(polls > 0, "closing a session takes a while");
    let info = host.disc_info();
    assert_eq!((info.status, info.last_session, info.sessions), (1, 0, 2));
    host.verify(0, 4096, 1);
}

#[test]
fn growisofs_bd_re_with_maximum_capacity_spare_and_streaming_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::BdRe));
    // growisofs picks the 30h descriptor with the largest capacity (the least spare) and
    // formats it with quick certification, Immed.
    let (_, offers) = host.format_capacities();
    let best = offers
        .iter()
        .filter(|o| o.1 == 0x30)
        .max_by_key(|o| o.0)
        .copied()
        .unwrap();
    assert_eq!(best.0, 12_088_320);
    let list = format_list(true, best.0, 0x30, 0b11, best.2);
    host.ok_out(&format_unit(), &list);
    let c = host.run(&tur());
    assert_eq!(sense_of(&c), Some(FORMAT_IN_PROGRESS));
    assert!(progress_of(&c).is_some());
    host.wait_ready();
    assert_eq!(host.format_capacities().0, (12_088_320, 2));
    host.ok_out(&set_streaming(28), &streaming_descriptor(12_088_319, 8990));
    for i in 0..32u32 {
        let lba = i * 32;
        host.ok_out(&write12(lba, 32, true), &pattern(lba, 32, 1));
    }
    immed_and_poll(&mut host, &synchronize_cache(true));
    host.verify(0, 1024, 1);
    // No CLOSE on BD-RE.
    host.expect(&close(false, 0b010, 0), INVALID_FIELD);
}

#[test]
fn growisofs_dvd_plus_rw_de_icing() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::DvdPlusRw));
    assert_eq!(host.disc_info().background_format, 0);
    host.ok_out(&format_unit(), &format_list(true, u32::MAX, 0x26, 0, 0));
    assert_eq!(host.disc_info().background_format, 2);
    // The session goes at LBA 0 over 32 KiB units; the drive formats behind it.
    for i in 0..64u32 {
        let data = pattern(i * 16, 16, 1);
        host.ok_out(&write10(i * 16, 16), &data);
    }
    immed_and_poll(&mut host, &synchronize_cache(true));
    // Stop de-icing, then write the lead-out.
    immed_and_poll(&mut host, &close(true, 0b000, 0));
    immed_and_poll(&mut host, &close(true, 0b010, 0));
    assert_eq!(
        host.disc_info().background_format,
        1,
        "suspended, resumable"
    );
    host.verify(0, 1024, 1);
}

#[test]
fn libburn_cd_r_track_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::CdR));
    host.ok(&set_cd_speed(0xffff, 8 * 176));
    host.select_cd_tao(false);
    let nwa = host.track_info(0xff).nwa;
    let mut at = nwa;
    while at < 600 {
        let n = 30.min(600 - at) as u16;
        let data = pattern(at, n as u32, 1);
        match sense_of(&host.exec(&write10(at, n), DataTransfer::ToDevice(&data))) {
            None => at += n as u32,
            Some(LONG_WRITE) => {}
            Some(other) => panic!("{other:?}"),
        }
    }
    immed_and_poll(&mut host, &synchronize_cache(true));
    immed_and_poll(&mut host, &close(true, 0b010, 0));
    let info = host.disc_info();
    assert_eq!(
        (info.status, info.last_session),
        (2, 3),
        "multi-session 00b: finalized"
    );
    host.verify(0, 600, 1);
}

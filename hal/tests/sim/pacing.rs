//! Pacing: writes take as long as the disc's speed says, through a drive buffer of the
//! configured size; long write in progress, blocking, underruns and flushing.

use std::time::{Duration, Instant};

use burnstation_hal::mmc::Profile;
use burnstation_hal::sim::{ClockMode, SimConfig};

use crate::host::*;

fn paced(dir: &std::path::Path, profile: Profile, speed: f64, buffer: usize) -> SimConfig {
    let mut config = config(dir, profile);
    config.speed = speed;
    config.buffer_bytes = buffer;
    config
}

/// Writes `blocks` from `lba` in `unit`-block WRITEs, resending a WRITE that answers
/// 2/04/08 as growisofs does; returns how many times it had to.
fn write_resending(host: &mut Host, lba: u32, blocks: u32, unit: u32) -> u32 {
    let mut resent = 0;
    let mut at = lba;
    while at < lba + blocks {
        let c = host.write(at, unit as u16, 1);
        match sense_of(&c) {
            None => at += unit,
            Some(LONG_WRITE) => resent += 1,
            Some(other) => panic!("WRITE at {at}: {other:02x?}"),
        }
        assert!(resent < 1_000_000);
    }
    resent
}

#[test]
fn a_paced_burn_takes_size_over_speed_on_the_virtual_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::DvdPlusR, 4.0, 2 << 20));
    let blocks = 8 * 512; // 8 MiB
    let start = host.control.now();
    let resent = write_resending(&mut host, 0, blocks, 16);
    assert!(resent > 0, "a full buffer answers long write in progress");
    host.ok(&synchronize_cache(false));
    let took = (host.control.now() - start).as_secs_f64();
    let expected = blocks as f64 * 2048.0 / (4.0 * 1_385_000.0);
    assert!(
        took > expected * 0.97 && took < expected * 1.05,
        "{took} s for {expected} s of writing"
    );
    assert_eq!(host.control.underruns(), 0);
    host.verify(0, 512, 1);
}

#[test]
fn a_paced_burn_takes_size_over_speed_on_the_real_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = paced(dir.path(), Profile::DvdPlusRw, 2.0, 256 * 1024);
    config.clock = ClockMode::Real;
    let mut host = Host::open(config);
    host.ok_out(&format_unit(), &format_list(false, u32::MAX, 0x26, 0, 0));
    host.control.finish_background_format();
    let blocks = 1024; // 2 MiB: about 0.76 s at 2x DVD
    let start = Instant::now();
    // Rewritable media: the drive holds each WRITE until there is room, no 2/04/08.
    assert_eq!(write_resending(&mut host, 0, blocks, 16), 0);
    host.ok(&synchronize_cache(false));
    let took = start.elapsed().as_secs_f64();
    let expected = blocks as f64 * 2048.0 / (2.0 * 1_385_000.0);
    // Only the lower bound: the drive may not be faster than its speed, but a loaded
    // machine may make the host as slow as it likes (the virtual-clock test above checks
    // that the pacing itself adds nothing).
    assert!(
        took > expected * 0.9,
        "{took} s for {expected} s of writing"
    );
    host.verify(0, 1024, 1);
}

#[test]
fn read_buffer_capacity_shows_the_fill_and_sync_drains_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::DvdPlusR, 4.0, 256 * 1024));
    host.write_run(0, 64, 16, 1); // 128 KiB
    let r = host.data_in(&read_buffer_capacity(false, 12), 12);
    assert_eq!(be32(&r[4..8]), 256 * 1024);
    assert_eq!(be32(&r[8..12]), 128 * 1024, "half full");
    host.write_run(64, 64, 16, 1);
    let r = host.data_in(&read_buffer_capacity(true, 12), 12);
    assert_eq!(be32(&r[8..12]), 0, "full, in blocks");
    // Full: a write-once medium answers 2/04/08 and takes nothing.
    let c = host.write(128, 16, 1);
    assert_eq!(sense_of(&c), Some(LONG_WRITE));
    assert_eq!(host.track_info(0xff).nwa, 128);
    // On the virtual clock, the host's wait is exactly long enough: the resend fits.
    assert_eq!(sense_of(&host.write(128, 16, 1)), None);
    // SYNCHRONIZE CACHE with Immed returns at once; the drive is busy until drained.
    host.ok(&synchronize_cache(true));
    let c = host.run(&tur());
    assert_eq!(sense_of(&c), Some(IN_PROGRESS));
    host.wait_ready();
    let r = host.data_in(&read_buffer_capacity(false, 12), 12);
    assert_eq!(be32(&r[8..12]), 256 * 1024, "empty after the flush");
    host.verify(0, 144, 1);
}

#[test]
fn underruns_are_counted_when_the_host_stalls_mid_track() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::DvdPlusR, 4.0, 256 * 1024));
    host.write_run(0, 64, 16, 1);
    assert_eq!(host.control.underruns(), 0);
    // The host stalls for a second: 128 KiB drain in 24 ms at 4x.
    assert!(host.control.advance_clock(Duration::from_secs(1)));
    host.write_run(64, 16, 16, 1);
    assert_eq!(host.control.underruns(), 1);
    // A pause after the host flushed is no underrun.
    host.ok(&synchronize_cache(false));
    host.control.advance_clock(Duration::from_secs(5));
    host.write_run(80, 16, 16, 1);
    assert_eq!(host.control.underruns(), 1);
}

#[test]
fn set_streaming_slows_the_burn_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(paced(dir.path(), Profile::BdRSequential, 4.0, 1 << 20));
    // 2x BD = 8990 kB/s.
    host.ok_out(&set_streaming(28), &streaming_descriptor(12_219_391, 8990));
    let start = host.control.now();
    write_resending(&mut host, 0, 4096, 32);
    host.ok(&synchronize_cache(false));
    let took = (host.control.now() - start).as_secs_f64();
    let expected = 4096.0 * 2048.0 / 8_990_000.0;
    assert!(
        took > expected * 0.97 && took < expected * 1.05,
        "{took} vs {expected}"
    );
}

#[test]
fn unpaced_writes_go_straight_to_the_medium() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(config(dir.path(), Profile::DvdPlusR));
    let start = host.control.now();
    host.write_run(0, 4096, 16, 1);
    assert_eq!(host.control.buffer_fill(), 0);
    assert_eq!(host.control.now(), start, "no time passes");
    let r = host.data_in(&read_buffer_capacity(false, 12), 12);
    assert_eq!(be32(&r[8..12]), be32(&r[4..8]));
}

#[test]
fn paced_reads_take_size_over_read_speed_and_unpaced_ones_no_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), Profile::DvdPlusR);
    config.read_speed = 2.0;
    let mut host = Host::open(config);
    let blocks = 4 * 512; // 4 MiB
    write_resending(&mut host, 0, blocks, 16);
    host.ok(&synchronize_cache(false));
    let start = host.control.now();
    for lba in (0..blocks).step_by(32) {
        host.verify(lba, 32, 1);
    }
    let took = (host.control.now() - start).as_secs_f64();
    let expected = blocks as f64 * 2048.0 / (2.0 * 1_385_000.0);
    assert!(
        took > expected * 0.99 && took < expected * 1.01,
        "{took} s for {expected} s of reading"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut host = Host::open(crate::host::config(dir.path(), Profile::DvdPlusR));
    write_resending(&mut host, 0, 512, 16);
    host.ok(&synchronize_cache(false));
    let start = host.control.now();
    host.verify(0, 32, 1);
    assert_eq!(
        host.control.now(),
        start,
        "an unpaced read takes no drive time"
    );
}

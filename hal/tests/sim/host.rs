//! A minimal host for the tests: CDBs built from the MMC tables (`mmc.md` part 1), a few
//! reply parsers, and assertions on sense data. Deliberately independent of the crate's
//! own host-side MMC layer: these tests check the drive against the spec, not against it.

use std::path::Path;
use std::time::Duration;

use burnstation_hal::mmc::Profile;
use burnstation_hal::scsi::{Completion, DataTransfer, Status, Transport};
use burnstation_hal::sim::{ClockMode, SimConfig, SimControl, SimDrive};

/// Timeout for every command (the virtual clock makes long waits free).
pub const TIMEOUT: Duration = Duration::from_secs(3600);

pub struct Host {
    pub drive: SimDrive,
    pub control: SimControl,
}

/// A key/ASC/ASCQ triple.
pub type Ksq = (u8, u8, u8);

/// A formattable descriptor of READ FORMAT CAPACITIES: blocks, format type, TDP.
pub type FormatOffer = (u32, u8, u32);

pub const INVALID_OPCODE: Ksq = (5, 0x20, 0);
pub const INVALID_FIELD: Ksq = (5, 0x24, 0);
pub const INVALID_PARAMETER: Ksq = (5, 0x26, 0);
pub const OUT_OF_RANGE: Ksq = (5, 0x21, 0);
pub const INVALID_WRITE_ADDRESS: Ksq = (5, 0x21, 2);
pub const SEQUENCE_ERROR: Ksq = (5, 0x2c, 0);
pub const END_OF_USER_AREA: Ksq = (5, 0x63, 0);
pub const ILLEGAL_MODE: Ksq = (5, 0x64, 0);
pub const INCOMPLETE_TRACK: Ksq = (5, 0x72, 3);
pub const EMPTY_RESERVED: Ksq = (5, 0x72, 4);
pub const CANNOT_FORMAT: Ksq = (5, 0x30, 6);
pub const NOT_FORMATTED: Ksq = (5, 0x30, 0x10);
pub const BLANK_CHECK: Ksq = (8, 0, 0);
pub const BECOMING_READY: Ksq = (2, 4, 1);
pub const FORMAT_IN_PROGRESS: Ksq = (2, 4, 4);
pub const IN_PROGRESS: Ksq = (2, 4, 7);
pub const LONG_WRITE: Ksq = (2, 4, 8);
pub const NO_MEDIUM: Ksq = (2, 0x3a, 0);
pub const NO_MEDIUM_CLOSED: Ksq = (2, 0x3a, 1);
pub const NO_MEDIUM_OPEN: Ksq = (2, 0x3a, 2);
pub const REMOVAL_PREVENTED: Ksq = (5, 0x53, 2);
pub const WRITE_ERROR: Ksq = (3, 0x0c, 0);
pub const READ_ERROR: Ksq = (3, 0x11, 0);
pub const MEDIUM_CHANGED: Ksq = (6, 0x28, 0);
pub const POWER_ON: Ksq = (6, 0x29, 0);

pub fn sense_of(c: &Completion) -> Option<Ksq> {
    (c.status == Status::CheckCondition).then(|| (c.sense[2] & 0x0f, c.sense[12], c.sense[13]))
}

/// Bytes 16-17 of fixed sense data, when SKSV is set.
pub fn progress_of(c: &Completion) -> Option<u16> {
    (c.sense.len() >= 18 && c.sense[15] & 0x80 != 0)
        .then(|| u16::from_be_bytes([c.sense[16], c.sense[17]]))
}

/// The information field (an LBA), when Valid is set.
pub fn information_of(c: &Completion) -> Option<u32> {
    (c.sense[0] & 0x80 != 0).then(|| u32::from_be_bytes(c.sense[3..7].try_into().unwrap()))
}

pub fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

pub fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A config for a new medium of `profile` in `dir`, unpaced, virtual clock.
pub fn config(dir: &Path, profile: Profile) -> SimConfig {
    let mut config = SimConfig::new(dir.join("disc.img"), profile);
    config.clock = ClockMode::Virtual;
    config
}

/// The content the tests write into sector `lba`: different for every sector and run.
pub fn sector_pattern(lba: u32, seed: u8) -> Vec<u8> {
    let mut sector = vec![0u8; 2048];
    for (i, b) in sector.iter_mut().enumerate() {
        *b = (lba as usize * 7 + i * 13 + seed as usize * 31) as u8;
    }
    sector[..4].copy_from_slice(&lba.to_be_bytes());
    sector
}

pub fn pattern(lba: u32, blocks: u32, seed: u8) -> Vec<u8> {
    (lba..lba + blocks)
        .flat_map(|l| sector_pattern(l, seed))
        .collect()
}

// ---- CDBs, from the tables in mmc.md part 1 ----

pub fn tur() -> Vec<u8> {
    vec![0x00, 0, 0, 0, 0, 0]
}

pub fn request_sense(allocation: u8) -> Vec<u8> {
    vec![0x03, 0, 0, 0, allocation, 0]
}

pub fn inquiry(allocation: u16) -> Vec<u8> {
    let a = allocation.to_be_bytes();
    vec![0x12, 0, 0, a[0], a[1], 0]
}

fn ten(opcode: u8, b1: u8, lba: u32, b6: u8, len: u16, control: u8) -> Vec<u8> {
    let l = lba.to_be_bytes();
    let n = len.to_be_bytes();
    vec![opcode, b1, l[0], l[1], l[2], l[3], b6, n[0], n[1], control]
}

pub fn get_configuration(rt: u8, start: u16, allocation: u16) -> Vec<u8> {
    let s = start.to_be_bytes();
    let mut cdb = ten(0x46, rt, 0, 0, allocation, 0);
    cdb[2] = s[0];
    cdb[3] = s[1];
    cdb[4] = 0;
    cdb[5] = 0;
    cdb
}

pub fn gesn(polled: bool, classes: u8, allocation: u16) -> Vec<u8> {
    let mut cdb = ten(0x4a, u8::from(polled), 0, 0, allocation, 0);
    cdb[4] = classes;
    cdb
}

pub fn read_disc_information(allocation: u16) -> Vec<u8> {
    ten(0x51, 0, 0, 0, allocation, 0)
}

pub fn read_track_information(address_type: u8, value: u32, allocation: u16) -> Vec<u8> {
    ten(0x52, address_type, value, 0, allocation, 0)
}

pub fn read_capacity() -> Vec<u8> {
    ten(0x25, 0, 0, 0, 0, 0)
}

pub fn read_format_capacities(allocation: u16) -> Vec<u8> {
    ten(0x23, 0, 0, 0, allocation, 0)
}

pub fn read_toc(format: u8, msf: bool, track: u8, allocation: u16) -> Vec<u8> {
    let mut cdb = ten(0x43, u8::from(msf) << 1, 0, track, allocation, 0);
    cdb[2] = format;
    cdb
}

pub fn mode_sense(page: u8, control: u8, allocation: u16) -> Vec<u8> {
    let mut cdb = ten(0x5a, 0x08, 0, 0, allocation, 0);
    cdb[2] = (control << 6) | page;
    cdb[3..6].fill(0);
    cdb
}

pub fn mode_select(length: u16) -> Vec<u8> {
    ten(0x55, 0x10, 0, 0, length, 0)
}

/// Page 05h with an 8-byte zero header, as LB sends it.
#[allow(clippy::too_many_arguments)]
pub fn write_page(
    write_type: u8,
    ls_v: bool,
    link: u8,
    fixed_packet: bool,
    packet: u32,
    multi_session: u8,
    track_mode: u8,
    test_write: bool,
) -> Vec<u8> {
    let mut list = vec![0u8; 8 + 52];
    let p = &mut list[8..];
    p[0] = 0x05;
    p[1] = 0x32;
    p[2] = 0x40 | (u8::from(ls_v) << 5) | (u8::from(test_write) << 4) | write_type;
    p[3] = (multi_session << 6) | (u8::from(fixed_packet) << 5) | track_mode;
    p[4] = 8;
    p[5] = link;
    p[10..14].copy_from_slice(&packet.to_be_bytes());
    p[14..16].copy_from_slice(&150u16.to_be_bytes());
    list
}

pub fn get_performance(kind: u8, b1: u8, max_descriptors: u16) -> Vec<u8> {
    let m = max_descriptors.to_be_bytes();
    vec![0xac, b1, 0, 0, 0, 0, 0, 0, m[0], m[1], kind, 0]
}

pub fn set_streaming(length: u16) -> Vec<u8> {
    let l = length.to_be_bytes();
    vec![0xb6, 0, 0, 0, 0, 0, 0, 0, 0, l[0], l[1], 0]
}

/// A SET STREAMING performance descriptor: `kbps` for reading and writing, 1000 ms.
pub fn streaming_descriptor(end_lba: u32, kbps: u32) -> Vec<u8> {
    let mut d = vec![0u8; 28];
    d[8..12].copy_from_slice(&end_lba.to_be_bytes());
    d[12..16].copy_from_slice(&kbps.to_be_bytes());
    d[16..20].copy_from_slice(&1000u32.to_be_bytes());
    d[20..24].copy_from_slice(&kbps.to_be_bytes());
    d[24..28].copy_from_slice(&1000u32.to_be_bytes());
    d
}

pub fn set_cd_speed(read_kbps: u16, write_kbps: u16) -> Vec<u8> {
    let r = read_kbps.to_be_bytes();
    let w = write_kbps.to_be_bytes();
    vec![0xbb, 0, r[0], r[1], w[0], w[1], 0, 0, 0, 0, 0, 0]
}

pub fn read_buffer_capacity(block: bool, allocation: u16) -> Vec<u8> {
    ten(0x5c, u8::from(block), 0, 0, allocation, 0)
}

pub fn reserve_track(blocks: u32) -> Vec<u8> {
    let b = blocks.to_be_bytes();
    vec![0x53, 0, 0, 0, 0, b[0], b[1], b[2], b[3], 0]
}

pub fn write10(lba: u32, blocks: u16) -> Vec<u8> {
    ten(0x2a, 0, lba, 0, blocks, 0)
}

pub fn write12(lba: u32, blocks: u32, streaming: bool) -> Vec<u8> {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    vec![
        0xaa,
        0,
        l[0],
        l[1],
        l[2],
        l[3],
        b[0],
        b[1],
        b[2],
        b[3],
        u8::from(streaming) << 7,
        0,
    ]
}

pub fn read10(lba: u32, blocks: u16) -> Vec<u8> {
    ten(0x28, 0, lba, 0, blocks, 0)
}

pub fn read12(lba: u32, blocks: u32) -> Vec<u8> {
    let mut cdb = write12(lba, blocks, false);
    cdb[0] = 0xa8;
    cdb
}

pub fn synchronize_cache(immed: bool) -> Vec<u8> {
    ten(0x35, u8::from(immed) << 1, 0, 0, 0, 0)
}

pub fn close(immed: bool, function: u8, track: u16) -> Vec<u8> {
    let t = track.to_be_bytes();
    vec![0x5b, u8::from(immed), function, 0, t[0], t[1], 0, 0, 0, 0]
}

pub fn blank(immed: bool, blank_type: u8) -> Vec<u8> {
    vec![
        0xa1,
        (u8::from(immed) << 4) | blank_type,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ]
}

pub fn format_unit() -> Vec<u8> {
    vec![0x04, 0x11, 0, 0, 0, 0]
}

/// The 12-byte FORMAT UNIT parameter list (`mmc.md` 1.12).
pub fn format_list(immed: bool, blocks: u32, format_type: u8, sub_type: u8, tdp: u32) -> Vec<u8> {
    let mut list = vec![0u8; 12];
    list[1] = 0x80 | (u8::from(immed) << 1); // FOV, Immed
    list[3] = 8;
    list[4..8].copy_from_slice(&blocks.to_be_bytes());
    list[8] = (format_type << 2) | sub_type;
    list[9..12].copy_from_slice(&tdp.to_be_bytes()[1..]);
    list
}

pub fn start_stop(load_eject: bool, start: bool) -> Vec<u8> {
    vec![
        0x1b,
        0,
        0,
        0,
        (u8::from(load_eject) << 1) | u8::from(start),
        0,
    ]
}

pub fn prevent_allow(prevent: bool) -> Vec<u8> {
    vec![0x1e, 0, 0, 0, u8::from(prevent), 0]
}

// ---- parsed replies ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscInfo {
    pub erasable: bool,
    pub last_session: u8,
    pub status: u8,
    pub sessions: u16,
    pub first_track_last_session: u16,
    pub last_track_last_session: u16,
    pub background_format: u8,
    pub lead_in: [u8; 4],
    pub lead_out: [u8; 4],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    pub length: u16,
    pub number: u16,
    pub session: u16,
    pub damage: bool,
    pub track_mode: u8,
    /// Byte 6 high nibble: RT, Blank, Packet, FP.
    pub rt_blank_packet_fp: u8,
    pub lra_valid: bool,
    pub nwa_valid: bool,
    pub start: u32,
    pub nwa: u32,
    pub free: u32,
    pub packet_size: u32,
    pub size: u32,
    pub last_recorded: u32,
}

impl Host {
    pub fn open(config: SimConfig) -> Host {
        let drive = SimDrive::open(config).expect("open the software drive");
        let control = drive.control();
        let mut host = Host { drive, control };
        // Power-on unit attention, as after plugging the burner in.
        host.expect(&tur(), POWER_ON);
        host
    }

    pub fn exec(&mut self, cdb: &[u8], data: DataTransfer<'_>) -> Completion {
        self.drive
            .execute(cdb, data, TIMEOUT)
            .unwrap_or_else(|e| panic!("{cdb:02x?}: no answer: {e}"))
    }

    pub fn run(&mut self, cdb: &[u8]) -> Completion {
        self.exec(cdb, DataTransfer::None)
    }

    /// Sends a command that must succeed.
    pub fn ok(&mut self, cdb: &[u8]) {
        let c = self.run(cdb);
        assert_eq!(sense_of(&c), None, "{cdb:02x?} failed");
    }

    pub fn ok_out(&mut self, cdb: &[u8], data: &[u8]) {
        let c = self.exec(cdb, DataTransfer::ToDevice(data));
        assert_eq!(sense_of(&c), None, "{cdb:02x?} failed");
    }

    /// A data-in command that must succeed; returns the bytes sent.
    pub fn data_in(&mut self, cdb: &[u8], len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let c = self.exec(cdb, DataTransfer::FromDevice(&mut buf));
        assert_eq!(sense_of(&c), None, "{cdb:02x?} failed");
        buf.truncate(c.transferred);
        buf
    }

    /// A command that must fail with `expected`.
    pub fn expect(&mut self, cdb: &[u8], expected: Ksq) -> Completion {
        let c = self.run(cdb);
        assert_eq!(sense_of(&c), Some(expected), "{cdb:02x?}");
        c
    }

    pub fn expect_out(&mut self, cdb: &[u8], data: &[u8], expected: Ksq) -> Completion {
        let c = self.exec(cdb, DataTransfer::ToDevice(data));
        assert_eq!(sense_of(&c), Some(expected), "{cdb:02x?}");
        c
    }

    pub fn expect_in(&mut self, cdb: &[u8], len: usize, expected: Ksq) -> Completion {
        let mut buf = vec![0u8; len];
        let c = self.exec(cdb, DataTransfer::FromDevice(&mut buf));
        assert_eq!(sense_of(&c), Some(expected), "{cdb:02x?}");
        c
    }

    /// TEST UNIT READY until GOOD, consuming unit attentions as hosts do.
    pub fn wait_ready(&mut self) -> Vec<Ksq> {
        let mut seen = Vec::new();
        for _ in 0..1000 {
            let c = self.run(&tur());
            match sense_of(&c) {
                None => return seen,
                Some(s) => seen.push(s),
            }
        }
        panic!("never ready: {seen:?}");
    }

    pub fn disc_info(&mut self) -> DiscInfo {
        let r = self.data_in(&read_disc_information(34), 34);
        assert_eq!(be16(&r[0..2]), 32, "disc information length");
        DiscInfo {
            erasable: r[2] & 0x10 != 0,
            last_session: (r[2] >> 2) & 3,
            status: r[2] & 3,
            sessions: u16::from_be_bytes([r[9], r[4]]),
            first_track_last_session: u16::from_be_bytes([r[10], r[5]]),
            last_track_last_session: u16::from_be_bytes([r[11], r[6]]),
            background_format: r[7] & 3,
            lead_in: r[16..20].try_into().unwrap(),
            lead_out: r[20..24].try_into().unwrap(),
        }
    }

    pub fn track_info_by(&mut self, address_type: u8, value: u32) -> TrackInfo {
        let r = self.data_in(&read_track_information(address_type, value, 48), 48);
        assert!(r.len() >= 36, "short track information");
        TrackInfo {
            length: be16(&r[0..2]),
            number: u16::from_be_bytes([r[32], r[2]]),
            session: u16::from_be_bytes([r[33], r[3]]),
            damage: r[5] & 0x20 != 0,
            track_mode: r[5] & 0x0f,
            rt_blank_packet_fp: r[6] >> 4,
            lra_valid: r[7] & 2 != 0,
            nwa_valid: r[7] & 1 != 0,
            start: be32(&r[8..12]),
            nwa: be32(&r[12..16]),
            free: be32(&r[16..20]),
            packet_size: be32(&r[20..24]),
            size: be32(&r[24..28]),
            last_recorded: be32(&r[28..32]),
        }
    }

    pub fn track_info(&mut self, track: u32) -> TrackInfo {
        self.track_info_by(1, track)
    }

    /// The last track of the last session, found the way LB and GI do: from 51h.
    pub fn last_track(&mut self) -> TrackInfo {
        let info = self.disc_info();
        self.track_info(info.last_track_last_session as u32)
    }

    pub fn read_capacity_value(&mut self) -> u32 {
        let r = self.data_in(&read_capacity(), 8);
        assert_eq!(be32(&r[4..8]), 2048);
        be32(&r[0..4])
    }

    /// READ FORMAT CAPACITIES: ((blocks, type), [(blocks, format type, TDP)]).
    pub fn format_capacities(&mut self) -> ((u32, u8), Vec<FormatOffer>) {
        let r = self.data_in(&read_format_capacities(252), 252);
        let list_len = r[3] as usize;
        assert_eq!(r.len(), 4 + list_len);
        let current = (be32(&r[4..8]), r[8] & 3);
        assert_eq!(&r[9..12], &[0, 8, 0], "block length 2048");
        let offers = r[12..]
            .chunks(8)
            .map(|d| {
                (
                    be32(&d[0..4]),
                    d[4] >> 2,
                    u32::from_be_bytes([0, d[5], d[6], d[7]]),
                )
            })
            .collect();
        (current, offers)
    }

    /// Writes `blocks` of the test pattern at `lba` with WRITE(10).
    pub fn write(&mut self, lba: u32, blocks: u16, seed: u8) -> Completion {
        let data = pattern(lba, blocks as u32, seed);
        self.exec(&write10(lba, blocks), DataTransfer::ToDevice(&data))
    }

    /// Writes `blocks` from `lba` in `unit`-block WRITE(10)s, each of which must succeed.
    pub fn write_run(&mut self, lba: u32, blocks: u32, unit: u32, seed: u8) {
        let mut at = lba;
        while at < lba + blocks {
            let n = unit.min(lba + blocks - at) as u16;
            let c = self.write(at, n, seed);
            assert_eq!(sense_of(&c), None, "WRITE at {at}");
            at += n as u32;
        }
    }

    /// Reads `blocks` at `lba` and checks them against the pattern.
    pub fn verify(&mut self, lba: u32, blocks: u16, seed: u8) {
        let data = self.data_in(&read10(lba, blocks), blocks as usize * 2048);
        assert_eq!(data.len(), blocks as usize * 2048);
        assert!(
            data == pattern(lba, blocks as u32, seed),
            "sectors {lba}..{} differ from what was written",
            lba + blocks as u32
        );
    }

    pub fn select_page(&mut self, list: &[u8]) -> Completion {
        self.exec(
            &mode_select(list.len() as u16),
            DataTransfer::ToDevice(list),
        )
    }

    /// Page 05h for DVD-R/-RW incremental writing, as LB sends it.
    pub fn select_dvd_incremental(&mut self, keep_appendable: bool) {
        let ms = if keep_appendable { 3 } else { 0 };
        let c = self.select_page(&write_page(0, true, 16, true, 16, ms, 5, false));
        assert_eq!(sense_of(&c), None, "MODE SELECT incremental");
    }

    /// Page 05h for DVD-R/-RW disc-at-once.
    pub fn select_dvd_dao(&mut self) {
        let c = self.select_page(&write_page(2, false, 0, false, 0, 0, 5, false));
        assert_eq!(sense_of(&c), None, "MODE SELECT DAO");
    }

    /// Page 05h for CD track-at-once.
    pub fn select_cd_tao(&mut self, keep_appendable: bool) {
        let ms = if keep_appendable { 3 } else { 0 };
        let c = self.select_page(&write_page(1, false, 0, false, 0, ms, 4, false));
        assert_eq!(sense_of(&c), None, "MODE SELECT TAO");
    }

    pub fn format(&mut self, list: &[u8]) -> Completion {
        self.exec(&format_unit(), DataTransfer::ToDevice(list))
    }

    /// The feature descriptors of GET CONFIGURATION RT=0: (code, current, data).
    pub fn features(&mut self) -> (u16, Vec<(u16, bool, Vec<u8>)>) {
        let r = self.data_in(&get_configuration(0, 0, 4096), 4096);
        assert_eq!(be32(&r[0..4]) as usize, r.len() - 4);
        let current = be16(&r[6..8]);
        let mut features = Vec::new();
        let mut at = 8;
        while at < r.len() {
            let code = be16(&r[at..at + 2]);
            let current_bit = r[at + 2] & 1 == 1;
            let len = r[at + 3] as usize;
            assert_eq!(len % 4, 0, "feature {code:04x} additional length");
            features.push((code, current_bit, r[at + 4..at + 4 + len].to_vec()));
            at += 4 + len;
        }
        (current, features)
    }

    pub fn feature_current(&mut self, code: u16) -> bool {
        let (_, features) = self.features();
        features
            .iter()
            .find(|f| f.0 == code)
            .unwrap_or_else(|| panic!("feature {code:04x} missing"))
            .1
    }
}

/// Every profile the drive emulates as a recordable medium.
pub const RECORDABLE: [Profile; 11] = [
    Profile::CdR,
    Profile::CdRw,
    Profile::DvdRSequential,
    Profile::DvdRwSequential,
    Profile::DvdRwRestrictedOverwrite,
    Profile::DvdRDualLayerSequential,
    Profile::DvdPlusR,
    Profile::DvdPlusRDualLayer,
    Profile::DvdPlusRw,
    Profile::BdRSequential,
    Profile::BdRe,
];

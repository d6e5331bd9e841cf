//! Drive against a scripted transport: every CDB the drive sends must be the next one the
//! script expects (like probe-rs's FakeProbe), and the script must be used up.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use super::*;
use crate::mmc::config::tests::dvd_burner_config;
use crate::mmc::config::{GetConfiguration, PhysicalInterface, RequestType};
use crate::mmc::disc::tests::{bd_re_r10, blank_dvd_plus_r_info};
use crate::mmc::disc::{
    DiscStatus, ReadCapacity, ReadDiscInformation, ReadFormatCapacities, SessionState,
};
use crate::mmc::event::GetEventStatusNotification;
use crate::mmc::mode::tests::capabilities_mode_data;
use crate::mmc::mode::{CAPABILITIES_PAGE, ModeSense10};
use crate::mmc::performance::tests::r1_write_speeds;
use crate::mmc::performance::{GetWriteSpeeds, ReadBufferCapacity};
use crate::mmc::track::tests::{blank_dvd_plus_r_track, blank_dvd_plus_rw_track_r1};
use crate::mmc::track::{ReadTrackInformation, TrackAddress};
use crate::mmc::unit::Inquiry;
use crate::mmc::write::FormatType;
use crate::mmc::{Cdb, LengthField};
use crate::scsi::{CdbHex, Completion};

/// What the scripted drive answers.
enum Reply {
    Good,
    Data(Vec<u8>),
    Check(Sense),
}

struct Scripted {
    script: VecDeque<(Vec<u8>, Reply)>,
}

impl Scripted {
    fn new() -> Scripted {
        Scripted {
            script: VecDeque::new(),
        }
    }

    fn expect(&mut self, cdb: Cdb, reply: Reply) -> &mut Self {
        self.script.push_back((cdb.as_bytes().to_vec(), reply));
        self
    }

    fn check(&mut self, cdb: Cdb, key: SenseKey, asc: u8, ascq: u8) -> &mut Self {
        self.expect(cdb, Reply::Check(Sense::new(key, asc, ascq)))
    }

    /// Expects a data-in command the way `mmc::query` sends it: the header probe, then the
    /// announced length when it is more.
    fn expect_query<C: DataIn>(&mut self, cmd: C, data: Vec<u8>) -> &mut Self {
        let cap = cmd.allocation_length();
        match C::LENGTH {
            LengthField::Once => self.expect(cmd.cdb(), Reply::Data(data)),
            field => {
                let probe = (field.probe_len() as u32).min(cap);
                self.expect(
                    cmd.with_allocation_length(probe).cdb(),
                    Reply::Data(data.clone()),
                );
                let head = &data[..(probe as usize).min(data.len())];
                if let Some(total) = field.announced(head)
                    && total > head.len()
                    && probe < cap
                {
                    let full = cmd.with_allocation_length((total as u32).min(cap));
                    self.expect(full.cdb(), Reply::Data(data));
                }
                self
            }
        }
    }

    fn drive(self) -> Drive<Scripted> {
        let mut d = Drive::new(self);
        d.set_sleep(record_sleep);
        d
    }
}

impl Transport for Scripted {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataTransfer<'_>,
        _timeout: Duration,
    ) -> Result<Completion, TransportError> {
        let Some((want, reply)) = self.script.pop_front() else {
            panic!("unexpected CDB {} after the end of the script", CdbHex(cdb));
        };
        assert_eq!(
            CdbHex(cdb).to_string(),
            CdbHex(&want).to_string(),
            "unexpected CDB"
        );
        Ok(match reply {
            Reply::Good => Completion::good(0),
            Reply::Check(sense) => Completion::check_condition(sense.to_fixed().to_vec()),
            Reply::Data(bytes) => {
                let DataTransfer::FromDevice(buf) = data else {
                    panic!("CDB {} has no data-in buffer", CdbHex(cdb));
                };
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                Completion::good(n)
            }
        })
    }

    fn name(&self) -> &str {
        "scripted"
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.script.is_empty() {
            let left: Vec<String> = self
                .script
                .iter()
                .map(|(c, _)| CdbHex(c).to_string())
                .collect();
            panic!("script not used up; still expected: {left:?}");
        }
    }
}

thread_local! {
    static SLEPT: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

fn record_sleep(d: Duration) {
    SLEPT.with(|s| s.borrow_mut().push(d));
}

fn take_sleeps() -> Vec<Duration> {
    SLEPT.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

fn tur() -> Cdb {
    TestUnitReady.cdb()
}

fn profile_probe() -> Cdb {
    GetConfiguration {
        request: RequestType::One,
        starting_feature: 0,
        allocation_length: 8,
    }
    .cdb()
}

fn config_header(profile: u16) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 4, 0, 0];
    b.extend_from_slice(&profile.to_be_bytes());
    b
}

fn inquiry_data(peripheral_type: u8) -> Vec<u8> {
    let mut b = vec![peripheral_type, 0x80, 0x00, 0x32, 0x1f, 0, 0, 0];
    b.extend_from_slice(b"HL-DT-ST");
    b.extend_from_slice(b"DVD+-RW GP60N   ");
    b.extend_from_slice(b"A300");
    b
}

/// Fails unless `err` says there is no disc, with the tray open or closed as given.
#[track_caller]
fn assert_no_medium(err: &DriveError, tray_open: bool) {
    assert!(
        matches!(
            err,
            DriveError::NotReady { reason: NotReady::NoMedium { tray_open: open }, .. }
                if *open == tray_open
        ),
        "{err:?}"
    );
}

#[test]
fn becoming_ready_consumes_attentions_and_waits_longer_each_time() {
    let mut s = Scripted::new();
    s.check(tur(), SenseKey::UnitAttention, 0x28, 0x00)
        .check(tur(), SenseKey::UnitAttention, 0x29, 0x00)
        .check(tur(), SenseKey::NotReady, 0x04, 0x01)
        .check(tur(), SenseKey::NotReady, 0x04, 0x01)
        .check(tur(), SenseKey::NotReady, 0x04, 0x08)
        .expect(tur(), Reply::Good);
    let mut d = s.drive();
    take_sleeps();
    d.wait_until_ready(Duration::from_secs(30)).unwrap();
    let slept = take_sleeps();
    assert_eq!(slept.len(), 3, "no sleep after a unit attention: {slept:?}");
    assert!(
        slept.windows(2).all(|w| w[1] > w[0]),
        "growing waits: {slept:?}"
    );
}

#[test]
fn no_medium_is_reported_with_the_tray_state() {
    let mut s = Scripted::new();
    s.check(tur(), SenseKey::NotReady, 0x3a, 0x02);
    let err = s
        .drive()
        .wait_until_ready(Duration::from_secs(30))
        .unwrap_err();
    assert_no_medium(&err, true);
    assert_eq!(
        err.to_string(),
        "scripted: the tray is open and empty: put a disc in and close the tray"
    );

    let mut s = Scripted::new();
    s.check(tur(), SenseKey::NotReady, 0x3a, 0x01);
    let err = s
        .drive()
        .wait_until_ready(Duration::from_secs(30))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "scripted: there is no disc in the drive: insert a disc"
    );
}

#[test]
fn gives_up_at_the_timeout() {
    let mut s = Scripted::new();
    for _ in 0..6 {
        s.check(tur(), SenseKey::NotReady, 0x04, 0x07);
    }
    let mut d = s.drive();
    take_sleeps();
    let err = d.wait_until_ready(Duration::from_millis(900)).unwrap_err();
    let DriveError::NotReady {
        reason: NotReady::Timeout { waited, last },
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(*waited >= Duration::from_millis(900));
    assert_eq!((last.asc, last.ascq), (0x04, 0x07));
    assert!(err.to_string().contains("still not ready"), "{err}");
    let total: Duration = take_sleeps().iter().sum();
    assert_eq!(
        total,
        Duration::from_millis(900),
        "never sleeps past the timeout"
    );
}

#[test]
fn start_unit_when_the_drive_asks_for_it() {
    let start = StartStopUnit {
        action: StartStopAction::Start,
        immediate: true,
    };
    let mut s = Scripted::new();
    s.check(tur(), SenseKey::NotReady, 0x04, 0x02)
        .expect(start.cdb(), Reply::Good)
        .check(tur(), SenseKey::NotReady, 0x04, 0x01)
        .expect(tur(), Reply::Good);
    s.drive().wait_until_ready(Duration::from_secs(30)).unwrap();
}

#[test]
fn a_drive_that_needs_help_is_not_waited_on() {
    let mut s = Scripted::new();
    s.check(tur(), SenseKey::NotReady, 0x04, 0x03);
    let err = s
        .drive()
        .wait_until_ready(Duration::from_secs(30))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            DriveError::NotReady {
                reason: NotReady::Stuck(_),
                ..
            }
        ),
        "{err:?}"
    );
    let mut s = Scripted::new();
    s.check(tur(), SenseKey::HardwareError, 0x44, 0x00);
    let err = s
        .drive()
        .wait_until_ready(Duration::from_secs(30))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("TEST UNIT READY failed: Hardware error"),
        "{err}"
    );
    assert!(
        err.to_string().contains("unplug it and plug it in again"),
        "{err}"
    );
}

#[test]
fn identify_a_usb_dvd_burner() {
    let mut s = Scripted::new();
    s.expect_query(Inquiry::default(), inquiry_data(0x05))
        .expect_query(GetConfiguration::all(), dvd_burner_config(0x1a))
        .expect_query(
            ModeSense10::current(CAPABILITIES_PAGE),
            capabilities_mode_data(),
        )
        .expect_query(GetWriteSpeeds::default(), r1_write_speeds());
    let info = s.drive().identify().unwrap();
    assert_eq!(
        (
            info.vendor.as_str(),
            info.product.as_str(),
            info.revision.as_str()
        ),
        ("HL-DT-ST", "DVD+-RW GP60N", "A300")
    );
    assert_eq!(info.interface, Some(PhysicalInterface::Usb));
    assert_eq!(info.profiles.len(), 14);
    assert_eq!(
        info.writable_profiles,
        vec![
            Profile::DvdRSequential,
            Profile::DvdRDualLayerSequential,
            Profile::DvdRwSequential,
            Profile::DvdRwRestrictedOverwrite,
            Profile::DvdPlusRw,
            Profile::DvdPlusR,
            Profile::DvdPlusRDualLayer,
            Profile::CdR,
            Profile::CdRw,
        ]
    );
    assert_eq!(info.buffer_bytes, Some(1088 * 1024));
    let speeds: Vec<u32> = info.write_speeds.iter().map(|s| s.kbytes_per_sec).collect();
    assert_eq!(speeds, vec![5540, 3324]);
    assert_eq!(info.write_speeds[0].end_lba, Some(2_295_103));
    assert!((info.write_speeds[0].times(MediaFamily::Dvd) - 4.0).abs() < 0.01);
    assert!(info.can_eject && info.can_lock);
    assert!(info.fallbacks.is_empty(), "{:?}", info.fallbacks);
}

use crate::mmc::MediaFamily;

#[test]
fn identify_falls_back_when_optional_commands_are_missing() {
    let mut s = Scripted::new();
    s.expect_query(Inquiry::default(), inquiry_data(0x05))
        .expect_query(GetConfiguration::all(), dvd_burner_config(0x1b));
    // MODE SENSE 2Ah unsupported: buffer from READ BUFFER CAPACITY.
    s.check(
        ModeSense10::current(CAPABILITIES_PAGE)
            .with_allocation_length(2)
            .cdb(),
        SenseKey::IllegalRequest,
        0x24,
        0x00,
    )
    .expect_query(
        ReadBufferCapacity { in_blocks: false },
        vec![0, 0x0a, 0, 0, 0x00, 0x11, 0x00, 0x00, 0, 0, 0, 0],
    )
    // GET PERFORMANCE unsupported (tgt's NOT READY flavour), page 2Ah asked again and
    // still unsupported: no speeds, but no failure.
    .check(
        GetWriteSpeeds::default().cdb(),
        SenseKey::NotReady,
        0x20,
        0x00,
    )
    .check(
        ModeSense10::current(CAPABILITIES_PAGE)
            .with_allocation_length(2)
            .cdb(),
        SenseKey::IllegalRequest,
        0x24,
        0x00,
    );
    let info = s.drive().identify().unwrap();
    assert_eq!(info.buffer_bytes, Some(1_114_112));
    assert!(info.write_speeds.is_empty());
    assert_eq!(info.fallbacks.len(), 3, "{:?}", info.fallbacks);
    assert!(
        info.fallbacks[1].starts_with("GET PERFORMANCE (write speeds) failed"),
        "{:?}",
        info.fallbacks
    );
    assert!(info.can_eject, "from feature 0003h");
}

#[test]
fn identify_refuses_a_disk() {
    let mut s = Scripted::new();
    s.expect_query(Inquiry::default(), inquiry_data(0x00));
    let err = s.drive().identify().unwrap_err();
    assert_eq!(
        err.to_string(),
        "scripted is not an optical drive (it reports SCSI device type 0x00): give the burner's device, such as /dev/sr0"
    );
}

/// The commands `media()` sends for a sequential disc whose answers are given.
fn script_media(
    s: &mut Scripted,
    profile: u16,
    disc: Vec<u8>,
    track: (TrackAddress, Vec<u8>),
    capacity: [u8; 8],
) {
    s.expect(profile_probe(), Reply::Data(config_header(profile)))
        .expect_query(ReadDiscInformation::new(), disc)
        .expect_query(ReadTrackInformation::new(track.0), track.1)
        .expect(ReadCapacity.cdb(), Reply::Data(capacity.to_vec()));
}

/// The GESN poll `media` ends with, on a drive that reports media events (a disc present).
fn expect_media_events(s: &mut Scripted) {
    s.expect_query(
        GetEventStatusNotification::default(),
        vec![0, 6, 4, 0x5e, 0, 2, 0, 0],
    );
}

#[test]
fn blank_dvd_plus_r() {
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x1b,
        blank_dvd_plus_r_info(),
        (TrackAddress::INVISIBLE, blank_dvd_plus_r_track()),
        [0, 0, 0, 0, 0, 0, 8, 0],
    );
    s.expect_query(GetWriteSpeeds::default(), r1_write_speeds());
    expect_media_events(&mut s);
    let m = s.drive().media().unwrap();
    assert_eq!(m.profile, Profile::DvdPlusR);
    assert!(m.is_blank());
    assert_eq!(m.last_session, SessionState::Empty);
    assert!(!m.erasable);
    assert_eq!((m.sessions, m.tracks), (1, 1));
    assert_eq!(
        (m.first_track_in_last_session, m.last_track_in_last_session),
        (1, 1)
    );
    assert_eq!(m.next_writable, Some(0));
    assert_eq!(m.free_blocks, 2_295_104);
    assert_eq!(m.capacity_blocks, 2_295_104);
    assert_eq!(m.readable_blocks, 0);
    assert_eq!(m.format, None);
    assert_eq!(m.write_speeds.len(), 2);
    assert!(m.media_events);
    assert!(m.fallbacks.is_empty());
}

#[test]
fn appendable_dvd_plus_r_after_an_interrupted_burn() {
    // R8: 1275392 blocks written, nothing closed: disc 01, session 01, NWA = blocks written.
    let mut disc = blank_dvd_plus_r_info();
    disc[2] = 0x05;
    let mut track = blank_dvd_plus_r_track();
    track[6] = 0x20; // not blank any more
    track[12..16].copy_from_slice(&1_275_392u32.to_be_bytes());
    track[16..20].copy_from_slice(&1_019_712u32.to_be_bytes());
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x1b,
        disc,
        (TrackAddress::INVISIBLE, track),
        [0, 0, 0, 0, 0, 0, 8, 0],
    );
    s.expect_query(GetWriteSpeeds::default(), r1_write_speeds());
    expect_media_events(&mut s);
    let m = s.drive().media().unwrap();
    assert_eq!(m.status, DiscStatus::Appendable);
    assert_eq!(m.last_session, SessionState::Incomplete);
    assert_eq!(m.next_writable, Some(1_275_392));
    assert_eq!(m.free_blocks, 1_019_712);
    assert_eq!(m.capacity_blocks, 2_295_104);
    assert_eq!(m.readable_blocks, 0, "no complete session yet");
}

#[test]
fn finalized_dvd_minus_r_asks_for_its_last_track() {
    // Two sessions, three tracks, finalized; DVD-R must not be asked for track FFh.
    let mut disc = blank_dvd_plus_r_info();
    disc[2] = 0x0e;
    disc[4] = 2;
    disc[5] = 3;
    disc[6] = 3;
    let mut track = blank_dvd_plus_r_track();
    track[2] = 3;
    track[3] = 2;
    track[6] = 0x00;
    track[7] = 0x00;
    track[8..12].copy_from_slice(&500_000u32.to_be_bytes());
    track[16..20].copy_from_slice(&0u32.to_be_bytes());
    track[24..28].copy_from_slice(&100_000u32.to_be_bytes());
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x11,
        disc,
        (TrackAddress::Track(3), track),
        599_999u32
            .to_be_bytes()
            .into_iter()
            .chain([0, 0, 8, 0])
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
    );
    s.expect_query(GetWriteSpeeds::default(), vec![0, 0, 0, 4, 0, 0, 0, 0]);
    s.expect_query(
        ModeSense10::current(CAPABILITIES_PAGE),
        capabilities_mode_data(),
    );
    expect_media_events(&mut s);
    let m = s.drive().media().unwrap();
    assert_eq!(m.profile, Profile::DvdRSequential);
    assert_eq!(m.status, DiscStatus::Complete);
    assert_eq!(m.last_session, SessionState::Complete);
    assert_eq!((m.sessions, m.tracks), (2, 3));
    assert_eq!(m.next_writable, None);
    assert_eq!(m.free_blocks, 0);
    assert_eq!(m.readable_blocks, 600_000);
    assert_eq!(m.capacity_blocks, 600_000);
    // GET PERFORMANCE answered with no descriptors: page 2Ah's list is used.
    let speeds: Vec<u32> = m.write_speeds.iter().map(|s| s.kbytes_per_sec).collect();
    assert_eq!(speeds, vec![5540, 3324]);
}

#[test]
fn no_medium_from_media() {
    let mut s = Scripted::new();
    s.expect(profile_probe(), Reply::Data(config_header(0)))
        .expect_query(
            GetEventStatusNotification::default(),
            vec![0, 6, 4, 0x5e, 0, 1, 0, 0],
        );
    let err = s.drive().media().unwrap_err();
    assert_no_medium(&err, true);

    // And with a drive that has no GESN.
    let mut s = Scripted::new();
    s.expect(profile_probe(), Reply::Data(config_header(0)))
        .check(
            GetEventStatusNotification::default()
                .with_allocation_length(2)
                .cdb(),
            SenseKey::IllegalRequest,
            0x20,
            0x00,
        );
    let err = s.drive().media().unwrap_err();
    assert_no_medium(&err, false);
}

#[test]
fn blank_dvd_plus_rw_with_unsupported_optional_commands() {
    // R1's shape; READ FORMAT CAPACITIES and GET PERFORMANCE refused the way tgt refuses
    // (NOT READY + 24h/20h), page 2Ah gives the speeds.
    let mut disc = blank_dvd_plus_r_info();
    disc[2] = 0x10;
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x1a,
        disc,
        (TrackAddress::Track(1), blank_dvd_plus_rw_track_r1()),
        [0, 0, 0, 0, 0, 0, 8, 0],
    );
    s.check(
        ReadFormatCapacities::default()
            .with_allocation_length(4)
            .cdb(),
        SenseKey::NotReady,
        0x24,
        0x00,
    )
    .check(
        GetWriteSpeeds::default().cdb(),
        SenseKey::NotReady,
        0x20,
        0x00,
    )
    .expect_query(
        ModeSense10::current(CAPABILITIES_PAGE),
        capabilities_mode_data(),
    );
    // tgt refuses GESN with NOT READY and ASC 24h (emulated-burner.md).
    s.check(
        GetEventStatusNotification::default()
            .with_allocation_length(2)
            .cdb(),
        SenseKey::NotReady,
        0x24,
        0x00,
    );
    let m = s.drive().media().unwrap();
    assert_eq!(m.profile, Profile::DvdPlusRw);
    assert!(m.is_blank() && m.erasable);
    assert_eq!(m.next_writable, None, "NWA_V is 0 on DVD+RW");
    assert_eq!(m.capacity_blocks, 2_295_104, "from the track's extent");
    assert_eq!(m.format, Some(FormatState::Unformatted));
    assert!(m.formattable.is_empty());
    assert_eq!(m.write_speeds.len(), 2);
    assert_eq!(m.fallbacks.len(), 3, "{:?}", m.fallbacks);
    assert!(m.fallbacks[0].contains("READ FORMAT CAPACITIES"));
    assert!(m.fallbacks[1].contains("GET PERFORMANCE"));
    assert!(m.fallbacks[2].contains("polling TEST UNIT READY"));
    assert!(!m.media_events);
}

#[test]
fn unformatted_bd_re() {
    let mut disc = blank_dvd_plus_r_info();
    disc[2] = 0x10; // erasable, blank
    let mut track = blank_dvd_plus_rw_track_r1();
    track[16..20].copy_from_slice(&12_219_392u32.to_be_bytes());
    track[24..28].copy_from_slice(&12_219_392u32.to_be_bytes());
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x43,
        disc,
        (TrackAddress::Track(1), track),
        [0, 0, 0, 0, 0, 0, 8, 0],
    );
    s.expect_query(ReadFormatCapacities::default(), bd_re_r10())
        .expect_query(GetWriteSpeeds::default(), vec![0, 0, 0, 4, 0, 0, 0, 0])
        .expect_query(
            ModeSense10::current(CAPABILITIES_PAGE),
            vec![0, 6, 0, 0, 0, 0, 0, 0],
        );
    expect_media_events(&mut s);
    let m = s.drive().media().unwrap();
    assert_eq!(m.profile, Profile::BdRe);
    assert_eq!(m.format, Some(FormatState::Unformatted));
    assert_eq!(m.formattable.len(), 5);
    assert_eq!(m.formattable[4].format_type, FormatType::BdReWithoutSpare);
    assert_eq!(m.capacity_blocks, 12_219_392);
    assert!(m.write_speeds.is_empty());
    // A page 2Ah answer without a page is noted, not fatal.
    assert_eq!(m.fallbacks.len(), 1, "{:?}", m.fallbacks);
}

#[test]
fn tray_and_reads() {
    let mut s = Scripted::new();
    s.expect(
        PreventAllowMediumRemoval { prevent: true }.cdb(),
        Reply::Good,
    )
    .check(
        PreventAllowMediumRemoval { prevent: false }.cdb(),
        SenseKey::UnitAttention,
        0x28,
        0,
    )
    .expect(
        PreventAllowMediumRemoval { prevent: false }.cdb(),
        Reply::Good,
    )
    .expect(
        StartStopUnit {
            action: StartStopAction::Eject,
            immediate: false,
        }
        .cdb(),
        Reply::Good,
    )
    .expect(
        StartStopUnit {
            action: StartStopAction::Load,
            immediate: false,
        }
        .cdb(),
        Reply::Good,
    )
    .expect(
        Read10 {
            lba: 16,
            blocks: 2,
            fua: false,
        }
        .cdb(),
        Reply::Data(vec![0xab; 4096]),
    )
    .expect(
        Read12 {
            lba: 0,
            blocks: 0x10000,
            streaming: false,
            fua: false,
        }
        .cdb(),
        Reply::Data(vec![1; 16]),
    )
    .check(
        Read10 {
            lba: 99,
            blocks: 1,
            fua: false,
        }
        .cdb(),
        SenseKey::MediumError,
        0x11,
        0x00,
    );
    let mut d = s.drive();
    d.lock_tray().unwrap();
    d.eject().unwrap();
    d.load().unwrap();
    let mut buf = vec![0u8; 4096];
    d.read_blocks(16, 2, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0xab));
    let mut big = vec![0u8; 0x10000 * BLOCK_SIZE];
    d.read_blocks(0, 0x10000, &mut big).unwrap();
    let mut one = vec![0u8; 2048];
    let err = d.read_blocks(99, 1, &mut one).unwrap_err();
    assert_eq!(
        err.to_string(),
        "scripted: READ(10) failed: Medium error: unrecovered read error (3/11/00); \
         the disc may be damaged or of poor quality: try another disc"
    );
    assert!(matches!(
        d.read_blocks(0, 2, &mut one),
        Err(DriveError::BufferSize {
            count: 2,
            len: 2048
        })
    ));
    let _ = d.into_transport();
}

#[test]
fn media_event_poll() {
    let mut s = Scripted::new();
    s.expect_query(
        GetEventStatusNotification::default(),
        vec![0, 6, 4, 0x5e, 2, 2, 0, 0],
    )
    .check(
        GetEventStatusNotification::default()
            .with_allocation_length(2)
            .cdb(),
        SenseKey::IllegalRequest,
        0x24,
        0x00,
    );
    let mut d = s.drive();
    let e = d.media_event().unwrap().unwrap();
    assert!(e.present && !e.tray_open);
    assert_eq!(d.media_event().unwrap(), None);
}

#[test]
fn a_disc_removed_during_media_is_an_error_not_a_fallback() {
    let mut s = Scripted::new();
    s.check(profile_probe(), SenseKey::UnitAttention, 0x28, 0x00)
        .expect(profile_probe(), Reply::Data(config_header(0x1b)))
        .expect_query(ReadDiscInformation::new(), blank_dvd_plus_r_info())
        .check(
            ReadTrackInformation::new(TrackAddress::INVISIBLE)
                .with_allocation_length(2)
                .cdb(),
            SenseKey::NotReady,
            0x3a,
            0x02,
        );
    let err = s.drive().media().unwrap_err();
    assert_no_medium(&err, true);
}

#[test]
fn blank_media_reporting_nwa_minus_150_starts_at_the_track_start() {
    // libburn: Pioneer BDR-205 and LITE-ON LTR-48125S say NWA −150 on blank media.
    let mut track = blank_dvd_plus_r_track();
    track[12..16].copy_from_slice(&(-150i32).to_be_bytes());
    track[5] |= 0x20; // and a Damage bit, passed on as it is
    let mut s = Scripted::new();
    script_media(
        &mut s,
        0x09,
        blank_dvd_plus_r_info(),
        (TrackAddress::INVISIBLE, track),
        [0; 8],
    );
    s.expect_query(GetWriteSpeeds::default(), r1_write_speeds());
    expect_media_events(&mut s);
    let m = s.drive().media().unwrap();
    assert_eq!(m.profile, Profile::CdR);
    assert_eq!(m.next_writable, Some(0));
    assert!(m.last_track_damaged);
}

#[test]
fn incremental_recording_alone_makes_the_current_dvd_r_writable() {
    use crate::mmc::config::Configuration;
    // Current profile DVD-R (0011h); features 0000h (DVD-R, current) and 0021h (current),
    // but no 002Fh.
    let mut bytes = vec![0, 0, 0, 0, 0, 0, 0x00, 0x11];
    bytes.extend([0x00, 0x00, 0x03, 4, 0x00, 0x11, 0x01, 0x00]);
    bytes.extend([0x00, 0x21, 0x01, 4, 0, 0, 0, 0]);
    let len = (bytes.len() - 4) as u32;
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    let config = Configuration::parse(&bytes).unwrap();
    assert_eq!(
        super::info::writable_profiles(&config),
        vec![Profile::DvdRSequential]
    );

    // With 0021h not current, nothing says the drive can write it.
    bytes[18] = 0x00;
    let config = Configuration::parse(&bytes).unwrap();
    assert!(super::info::writable_profiles(&config).is_empty());
}

//! Mode pages: MODE SENSE(10) (5Ah), MODE SELECT(10) (55h), and the two pages a burner
//! needs: 05h write parameters (built and parsed) and 2Ah capabilities (parsed)
//! (MMC-5 7.5, 7.x "legacy" page 2Ah; mmc.md 1.7).

use super::{
    Cdb, Command, DataIn, LengthField, ParseError, announced_slice, be16, be32, bit, byte,
};

/// Page code of the write parameters page.
pub const WRITE_PARAMETERS_PAGE: u8 = 0x05;
/// Page code of the capabilities and mechanical status page.
pub const CAPABILITIES_PAGE: u8 = 0x2a;

/// Which values MODE SENSE returns (byte 2 bits 7-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageControl {
    /// 00b.
    Current,
    /// 01b: a mask of the changeable bits.
    Changeable,
    /// 10b.
    Default,
    /// 11b.
    Saved,
}

/// MODE SENSE(10) (5Ah).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSense10 {
    /// Page code (byte 2 bits 5-0).
    pub page: u8,
    /// Page control.
    pub control: PageControl,
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl ModeSense10 {
    /// The current values of `page`.
    pub fn current(page: u8) -> ModeSense10 {
        ModeSense10 {
            page,
            control: PageControl::Current,
            allocation_length: 0xfff0,
        }
    }
}

impl Command for ModeSense10 {
    const OPCODE: u8 = 0x5a;
    fn cdb(&self) -> Cdb {
        let pc = match self.control {
            PageControl::Current => 0,
            PageControl::Changeable => 1,
            PageControl::Default => 2,
            PageControl::Saved => 3,
        };
        // DBD (byte 1 bit 3): MMC drives have no block descriptors, but QEMU adds one
        // unless told not to (mmc.md 1.7).
        Cdb::new10(Self::OPCODE)
            .with(1, 0x08)
            .with(2, pc << 6 | (self.page & 0x3f))
            .with_u16(7, self.allocation_length)
    }
}

impl DataIn for ModeSense10 {
    type Response = ModeParameters;
    const LENGTH: LengthField = LengthField::At {
        offset: 0,
        width: 2,
        plus: 2,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ModeSense10 {
            allocation_length: len.min(0xffff) as u16,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<ModeParameters, ParseError> {
        ModeParameters::parse(bytes)
    }
}

/// MODE SENSE(10) data: the header and the first page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeParameters {
    /// Header byte 2.
    pub medium_type: u8,
    /// Header byte 3.
    pub device_specific: u8,
    /// The page code of the page that follows.
    pub page_code: u8,
    /// The page, including its 2-byte header, as far as it was received.
    pub page: Vec<u8>,
}

impl ModeParameters {
    /// Parses the 8-byte header, skips any block descriptors and takes the page.
    pub fn parse(bytes: &[u8]) -> Result<ModeParameters, ParseError> {
        const WHAT: &str = "mode parameters";
        let b = announced_slice(bytes, ModeSense10::LENGTH);
        if b.len() < 8 {
            return Err(ParseError::short(WHAT, 8, b.len()));
        }
        let page_at = 8 + be16(b, 6) as usize;
        if b.len() < page_at + 2 {
            return Err(ParseError::inconsistent(
                WHAT,
                format!(
                    "block descriptors ({} bytes) leave no room for a page in {} bytes",
                    page_at - 8,
                    b.len()
                ),
            ));
        }
        let page_end = (page_at + 2 + b[page_at + 1] as usize).min(b.len());
        Ok(ModeParameters {
            medium_type: b[2],
            device_specific: b[3],
            page_code: b[page_at] & 0x3f,
            page: b[page_at..page_end].to_vec(),
        })
    }

    /// The page, checked to be the one asked for.
    pub fn expect_page(&self, code: u8) -> Result<&[u8], ParseError> {
        if self.page_code != code {
            return Err(ParseError::inconsistent(
                "mode parameters",
                format!(
                    "asked for page {code:02X}h, the drive sent page {:02X}h",
                    self.page_code
                ),
            ));
        }
        Ok(&self.page)
    }
}

/// MODE SELECT(10) (55h) with PF=1, SP=0 (mmc.md 1.7: SP must be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSelect10 {
    /// Parameter list length (bytes 7-8).
    pub parameter_list_length: u16,
}

impl ModeSelect10 {
    /// The command and its parameter list for one page: an 8-byte header with mode data
    /// length 0 (SPC: reserved in MODE SELECT), no block descriptors, then the page with
    /// its PS bit cleared.
    pub fn for_page(page: &[u8]) -> (ModeSelect10, Vec<u8>) {
        let mut list = vec![0u8; 8];
        list.extend_from_slice(page);
        if let Some(first) = list.get_mut(8) {
            *first &= 0x7f;
        }
        let cmd = ModeSelect10 {
            parameter_list_length: list.len().min(0xffff) as u16,
        };
        (cmd, list)
    }
}

impl Command for ModeSelect10 {
    const OPCODE: u8 = 0x55;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
            .with(1, 0x10)
            .with_u16(7, self.parameter_list_length)
    }
}

/// Write type (page 05h byte 2 bits 3-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteType {
    /// 0: packet / incremental.
    Incremental,
    /// 1: track at once.
    TrackAtOnce,
    /// 2: session at once (CD) / disc at once (DVD-R).
    SessionAtOnce,
    /// 3: raw.
    Raw,
    /// 4: layer jump (DVD-R DL).
    LayerJump,
    /// Other values.
    Other(u8),
}

impl WriteType {
    fn code(self) -> u8 {
        match self {
            WriteType::Incremental => 0,
            WriteType::TrackAtOnce => 1,
            WriteType::SessionAtOnce => 2,
            WriteType::Raw => 3,
            WriteType::LayerJump => 4,
            WriteType::Other(v) => v & 0x0f,
        }
    }

    fn from_code(v: u8) -> WriteType {
        match v & 0x0f {
            0 => WriteType::Incremental,
            1 => WriteType::TrackAtOnce,
            2 => WriteType::SessionAtOnce,
            3 => WriteType::Raw,
            4 => WriteType::LayerJump,
            other => WriteType::Other(other),
        }
    }
}

/// What closing a session leaves (page 05h byte 3 bits 7-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiSession {
    /// 00b: no next session (finalize).
    Finalize,
    /// 01b: CD only: no next session, B0 pointer FFh.
    FinalizeB0,
    /// 10b: reserved.
    Reserved,
    /// 11b: next session allowed (keep appendable).
    Appendable,
}

impl MultiSession {
    fn bits(self) -> u8 {
        match self {
            MultiSession::Finalize => 0,
            MultiSession::FinalizeB0 => 1,
            MultiSession::Reserved => 2,
            MultiSession::Appendable => 3,
        }
    }

    fn from_bits(v: u8) -> MultiSession {
        match v & 3 {
            0 => MultiSession::Finalize,
            1 => MultiSession::FinalizeB0,
            2 => MultiSession::Reserved,
            _ => MultiSession::Appendable,
        }
    }
}

/// Page 05h, write parameters. Only CD and DVD-R/-RW sequential use it; DVD+R/+RW, BD and
/// formatted DVD-RW ignore or reject it (PI BDR-203, mmc.md 1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteParametersPage {
    /// Byte 2 bit 6: buffer underrun protection.
    pub bufe: bool,
    /// Byte 2 bit 5: link size valid.
    pub link_size_valid: bool,
    /// Byte 2 bit 4: simulate only.
    pub test_write: bool,
    /// Byte 2 bits 3-0.
    pub write_type: WriteType,
    /// Byte 3 bits 7-6.
    pub multi_session: MultiSession,
    /// Byte 3 bit 5: fixed packets.
    pub fixed_packet: bool,
    /// Byte 3 bit 4.
    pub copy: bool,
    /// Byte 3 bits 3-0 (4 data uninterrupted, 5 data incremental).
    pub track_mode: u8,
    /// Byte 4 bits 3-0 (8 = 2048-byte mode 1, 10 = mode 2 form 1).
    pub data_block_type: u8,
    /// Byte 5 (7 on CD, 16 on DVD-R when link size valid).
    pub link_size: u8,
    /// Byte 7 bits 5-0.
    pub host_application_code: u8,
    /// Byte 8 (00h CD-DA/CD-ROM, 10h CD-I, 20h CD-ROM XA).
    pub session_format: u8,
    /// Bytes 10-13 (16 blocks on DVD-R incremental).
    pub packet_size: u32,
    /// Bytes 14-15 (150).
    pub audio_pause_length: u16,
    /// Bytes 16-31: media catalog number (byte 16 bit 7 valid).
    pub mcn: [u8; 16],
    /// Bytes 32-47: ISRC.
    pub isrc: [u8; 16],
    /// Bytes 48-51: subheader.
    pub subheader: [u8; 4],
}

impl WriteParametersPage {
    /// Page length of the MMC page (byte 1).
    pub const PAGE_LENGTH: u8 = 0x32;

    fn base(write_type: WriteType, multi_session: MultiSession) -> WriteParametersPage {
        WriteParametersPage {
            bufe: true,
            link_size_valid: false,
            test_write: false,
            write_type,
            multi_session,
            fixed_packet: false,
            copy: false,
            track_mode: 4,
            data_block_type: 8,
            link_size: 0,
            host_application_code: 0,
            session_format: 0,
            packet_size: 0,
            audio_pause_length: 150,
            mcn: [0; 16],
            isrc: [0; 16],
            subheader: [0; 4],
        }
    }

    /// CD track at once, 2048-byte mode 1 data (burning-anchors B.3).
    pub fn cd_track_at_once(keep_appendable: bool) -> WriteParametersPage {
        let ms = if keep_appendable {
            MultiSession::Appendable
        } else {
            MultiSession::Finalize
        };
        WriteParametersPage::base(WriteType::TrackAtOnce, ms)
    }

    /// DVD-R/-RW incremental: LS_V, link size 16, fixed 16-block packets, track mode 5.
    pub fn dvd_incremental(keep_appendable: bool) -> WriteParametersPage {
        let ms = if keep_appendable {
            MultiSession::Appendable
        } else {
            MultiSession::Finalize
        };
        WriteParametersPage {
            link_size_valid: true,
            link_size: 16,
            fixed_packet: true,
            packet_size: 16,
            track_mode: 5,
            ..WriteParametersPage::base(WriteType::Incremental, ms)
        }
    }

    /// DVD-R/-RW disc at once: no link size, finalize, track mode 5.
    pub fn dvd_disc_at_once() -> WriteParametersPage {
        WriteParametersPage {
            track_mode: 5,
            ..WriteParametersPage::base(WriteType::SessionAtOnce, MultiSession::Finalize)
        }
    }

    /// The page bytes (page code 05h, length 32h) for MODE SELECT.
    pub fn to_bytes(&self) -> [u8; 52] {
        let mut p = [0u8; 52];
        p[0] = WRITE_PARAMETERS_PAGE;
        p[1] = Self::PAGE_LENGTH;
        p[2] = (self.bufe as u8) << 6
            | (self.link_size_valid as u8) << 5
            | (self.test_write as u8) << 4
            | self.write_type.code();
        p[3] = self.multi_session.bits() << 6
            | (self.fixed_packet as u8) << 5
            | (self.copy as u8) << 4
            | (self.track_mode & 0x0f);
        p[4] = self.data_block_type & 0x0f;
        p[5] = self.link_size;
        p[7] = self.host_application_code & 0x3f;
        p[8] = self.session_format;
        p[10..14].copy_from_slice(&self.packet_size.to_be_bytes());
        p[14..16].copy_from_slice(&self.audio_pause_length.to_be_bytes());
        p[16..32].copy_from_slice(&self.mcn);
        p[32..48].copy_from_slice(&self.isrc);
        p[48..52].copy_from_slice(&self.subheader);
        p
    }

    /// Parses the page. Needs bytes 0-15; MCN, ISRC and subheader read as zero when the
    /// drive sent a shorter page.
    pub fn parse(page: &[u8]) -> Result<WriteParametersPage, ParseError> {
        const WHAT: &str = "write parameters page";
        if page.len() < 16 {
            return Err(ParseError::short(WHAT, 16, page.len()));
        }
        if page[0] & 0x3f != WRITE_PARAMETERS_PAGE {
            return Err(ParseError::inconsistent(
                WHAT,
                format!("page code is {:02X}h, not 05h", page[0] & 0x3f),
            ));
        }
        let copy_field = |from: usize| -> [u8; 16] {
            let mut f = [0u8; 16];
            for (i, v) in f.iter_mut().enumerate() {
                *v = byte(page, from + i);
            }
            f
        };
        Ok(WriteParametersPage {
            bufe: bit(page, 2, 6),
            link_size_valid: bit(page, 2, 5),
            test_write: bit(page, 2, 4),
            write_type: WriteType::from_code(page[2]),
            multi_session: MultiSession::from_bits(page[3] >> 6),
            fixed_packet: bit(page, 3, 5),
            copy: bit(page, 3, 4),
            track_mode: page[3] & 0x0f,
            data_block_type: page[4] & 0x0f,
            link_size: page[5],
            host_application_code: page[7] & 0x3f,
            session_format: page[8],
            packet_size: be32(page, 10),
            audio_pause_length: be16(page, 14),
            mcn: copy_field(16),
            isrc: copy_field(32),
            subheader: [
                byte(page, 48),
                byte(page, 49),
                byte(page, 50),
                byte(page, 51),
            ],
        })
    }
}

/// One write speed descriptor of page 2Ah.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWriteSpeed {
    /// Byte 1 bits 2-0: 0 CLV, 1 CAV.
    pub rotation_control: u8,
    /// Bytes 2-3, kB/s (k = 1000).
    pub kbytes_per_sec: u16,
}

/// Page 2Ah, capabilities and mechanical status (legacy since MMC-5, still sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilitiesPage {
    /// Byte 2 bits 0, 1, 3, 4, 5: reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM.
    pub read_cd_r: bool,
    /// See `read_cd_r`.
    pub read_cd_rw: bool,
    /// See `read_cd_r`.
    pub read_dvd_rom: bool,
    /// See `read_cd_r`.
    pub read_dvd_r: bool,
    /// See `read_cd_r`.
    pub read_dvd_ram: bool,
    /// Byte 3 bits 0, 1, 2, 4, 5: writes CD-R, CD-RW, test write, DVD-R, DVD-RAM.
    pub write_cd_r: bool,
    /// See `write_cd_r`.
    pub write_cd_rw: bool,
    /// See `write_cd_r`.
    pub test_write: bool,
    /// See `write_cd_r`.
    pub write_dvd_r: bool,
    /// See `write_cd_r`.
    pub write_dvd_ram: bool,
    /// Byte 4 bit 7: buffer underrun protection.
    pub buf: bool,
    /// Byte 6 bit 0.
    pub lock: bool,
    /// Byte 6 bit 1: the tray is locked now.
    pub locked: bool,
    /// Byte 6 bit 3.
    pub eject: bool,
    /// Byte 6 bits 7-5.
    pub loading_mechanism: u8,
    /// Bytes 8-9 (obsolete), kB/s.
    pub max_read_speed: u16,
    /// Bytes 12-13: buffer size in KiB.
    pub buffer_size_kib: u16,
    /// Bytes 18-19 (obsolete), kB/s.
    pub max_write_speed: u16,
    /// Bytes 28-29 when sent, else 20-21: the write speed selected, kB/s.
    pub current_write_speed: u16,
    /// Bytes 32..: write speed descriptors, as many as bytes 30-31 announce and the page
    /// holds.
    pub write_speeds: Vec<PageWriteSpeed>,
}

impl CapabilitiesPage {
    /// Parses the page. Needs bytes 0-13 (through the buffer size); old drives send 20 or
    /// 24 bytes and the later fields read as zero.
    pub fn parse(page: &[u8]) -> Result<CapabilitiesPage, ParseError> {
        const WHAT: &str = "capabilities page";
        if page.len() < 14 {
            return Err(ParseError::short(WHAT, 14, page.len()));
        }
        if page[0] & 0x3f != CAPABILITIES_PAGE {
            return Err(ParseError::inconsistent(
                WHAT,
                format!("page code is {:02X}h, not 2Ah", page[0] & 0x3f),
            ));
        }
        let announced = be16(page, 30) as usize;
        let write_speeds = page
            .get(32..)
            .unwrap_or(&[])
            .chunks_exact(4)
            .take(announced)
            .map(|d| PageWriteSpeed {
                rotation_control: d[1] & 0x07,
                kbytes_per_sec: be16(d, 2),
            })
            .collect();
        let current_write_speed = if page.len() >= 30 {
            be16(page, 28)
        } else {
            be16(page, 20)
        };
        Ok(CapabilitiesPage {
            read_cd_r: bit(page, 2, 0),
            read_cd_rw: bit(page, 2, 1),
            read_dvd_rom: bit(page, 2, 3),
            read_dvd_r: bit(page, 2, 4),
            read_dvd_ram: bit(page, 2, 5),
            write_cd_r: bit(page, 3, 0),
            write_cd_rw: bit(page, 3, 1),
            test_write: bit(page, 3, 2),
            write_dvd_r: bit(page, 3, 4),
            write_dvd_ram: bit(page, 3, 5),
            buf: bit(page, 4, 7),
            lock: bit(page, 6, 0),
            locked: bit(page, 6, 1),
            eject: bit(page, 6, 3),
            loading_mechanism: byte(page, 6) >> 5,
            max_read_speed: be16(page, 8),
            buffer_size_kib: be16(page, 12),
            max_write_speed: be16(page, 18),
            current_write_speed,
            write_speeds,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdbs() {
        assert_eq!(
            ModeSense10::current(CAPABILITIES_PAGE)
                .with_allocation_length(8)
                .cdb()
                .as_bytes(),
            hex("5a 08 2a 00 00 00 00 00 08 00")
        );
        let changeable = ModeSense10 {
            page: WRITE_PARAMETERS_PAGE,
            control: PageControl::Changeable,
            allocation_length: 60,
        };
        assert_eq!(
            changeable.cdb().as_bytes(),
            hex("5a 08 45 00 00 00 00 00 3c 00")
        );
        let (select, list) =
            ModeSelect10::for_page(&WriteParametersPage::cd_track_at_once(false).to_bytes());
        assert_eq!(
            select.cdb().as_bytes(),
            hex("55 10 00 00 00 00 00 00 3c 00")
        );
        assert_eq!(list.len(), 60);
        assert_eq!(&list[..8], &[0; 8]);
    }

    #[test]
    fn write_parameters_pages_match_the_tables() {
        // CD TAO, finalize: BUFE, write type 1; track mode 4; DBT 8; pause 150.
        let tao = WriteParametersPage::cd_track_at_once(false).to_bytes();
        assert_eq!(
            &tao[..16],
            &hex("05 32 41 04 08 00 00 00 00 00 00 00 00 00 00 96")[..]
        );
        // CD TAO appendable: multi-session 11b.
        assert_eq!(
            WriteParametersPage::cd_track_at_once(true).to_bytes()[3],
            0xc4
        );
        // DVD-R incremental: BUFE, LS_V, type 0; MS 11b, FP, mode 5; link 16; packet 16.
        let inc = WriteParametersPage::dvd_incremental(true).to_bytes();
        assert_eq!(
            &inc[..16],
            &hex("05 32 60 e5 08 10 00 00 00 00 00 00 00 10 00 96")[..]
        );
        // DVD-R DAO: BUFE, type 2, finalize, mode 5.
        let dao = WriteParametersPage::dvd_disc_at_once().to_bytes();
        assert_eq!(&dao[..6], &hex("05 32 42 05 08 00")[..]);
        assert!(dao[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn write_parameters_round_trip_and_errors() {
        let mut p = WriteParametersPage::dvd_incremental(false);
        p.test_write = true;
        p.mcn[0] = 0x80;
        p.subheader = [1, 2, 3, 4];
        p.host_application_code = 0x3f;
        let parsed = WriteParametersPage::parse(&p.to_bytes()).unwrap();
        assert_eq!(parsed, p);
        assert!(matches!(
            WriteParametersPage::parse(&p.to_bytes()[..15]),
            Err(ParseError::Short { .. })
        ));
        let mut wrong = p.to_bytes();
        wrong[0] = 0x2a;
        assert!(matches!(
            WriteParametersPage::parse(&wrong),
            Err(ParseError::Inconsistent { .. })
        ));
    }

    /// Page 2Ah of a DVD burner with R1's write speeds (5540 and 3324 kB/s) and a
    /// 1088 KiB buffer (R4's 1114112 bytes), inside MODE SENSE(10) data.
    pub(crate) fn capabilities_mode_data() -> Vec<u8> {
        let mut page = hex(
            "2a 26 3f 37 f1 73 29 23 1b 90 01 00 04 40 1b 90 00 00 15 a4 15 a4 00 00 00 00 00 00 \
             15 a4 00 02 00 00 15 a4 00 00 0c fc",
        );
        let mut b = vec![0u8; 8];
        let total = 6 + page.len();
        b[0..2].copy_from_slice(&(total as u16).to_be_bytes());
        b.append(&mut page);
        b
    }

    #[test]
    fn capabilities_page() {
        let m = ModeParameters::parse(&capabilities_mode_data()).unwrap();
        assert_eq!(m.page_code, CAPABILITIES_PAGE);
        let c = CapabilitiesPage::parse(m.expect_page(CAPABILITIES_PAGE).unwrap()).unwrap();
        assert!(c.read_cd_r && c.read_dvd_rom && c.read_dvd_ram);
        assert!(c.write_cd_r && c.write_cd_rw && c.test_write && c.write_dvd_r && c.write_dvd_ram);
        assert!(c.buf && c.lock && c.eject);
        assert_eq!(c.loading_mechanism, 1);
        assert_eq!(c.buffer_size_kib, 1088);
        assert_eq!(c.max_write_speed, 5540);
        assert_eq!(c.current_write_speed, 5540);
        assert_eq!(
            c.write_speeds,
            vec![
                PageWriteSpeed {
                    rotation_control: 0,
                    kbytes_per_sec: 5540
                },
                PageWriteSpeed {
                    rotation_control: 0,
                    kbytes_per_sec: 3324
                }
            ]
        );
        assert!(m.expect_page(WRITE_PARAMETERS_PAGE).is_err());
    }

    #[test]
    fn mode_data_short_or_inconsistent() {
        let b = capabilities_mode_data();
        assert!(matches!(
            ModeParameters::parse(&b[..7]),
            Err(ParseError::Short { .. })
        ));
        // Block descriptor length pointing past the data.
        let mut bad = b.clone();
        bad[7] = 0xf0;
        assert!(matches!(
            ModeParameters::parse(&bad),
            Err(ParseError::Inconsistent { .. })
        ));
        // A page cut by the allocation length: the descriptors announced but absent are
        // not invented.
        let cut = ModeParameters::parse(&b[..8 + 36]).unwrap();
        let c = CapabilitiesPage::parse(&cut.page).unwrap();
        assert_eq!(c.write_speeds.len(), 1);
        // A page too short for the buffer size.
        assert!(matches!(
            CapabilitiesPage::parse(&cut.page[..13]),
            Err(ParseError::Short { .. })
        ));
        // QEMU-style block descriptor (8 bytes) before the page is skipped.
        let mut with_bd = b[..8].to_vec();
        with_bd[7] = 8;
        with_bd.extend_from_slice(&[0u8; 8]);
        with_bd.extend_from_slice(&b[8..]);
        let total = (with_bd.len() - 2) as u16;
        with_bd[0..2].copy_from_slice(&total.to_be_bytes());
        assert_eq!(
            ModeParameters::parse(&with_bd).unwrap().page_code,
            CAPABILITIES_PAGE
        );
    }
}

//! The disc as a whole: READ DISC INFORMATION (51h), READ CAPACITY (25h) and READ FORMAT
//! CAPACITIES (23h) (MMC-5 6.22, 6.23, 6.24; mmc.md 1.2, 1.4, 1.5).

use super::{Cdb, Command, DataIn, LengthField, ParseError, announced_slice, be24, be32, byte};

/// READ DISC INFORMATION (51h), data type 000b (standard disc information).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadDiscInformation {
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl ReadDiscInformation {
    /// The standard 34-byte block plus room for OPC tables.
    pub fn new() -> ReadDiscInformation {
        ReadDiscInformation {
            allocation_length: 0x0800,
        }
    }
}

impl Default for ReadDiscInformation {
    fn default() -> Self {
        ReadDiscInformation::new()
    }
}

impl Command for ReadDiscInformation {
    const OPCODE: u8 = 0x51;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE).with_u16(7, self.allocation_length)
    }
}

impl DataIn for ReadDiscInformation {
    type Response = DiscInformation;
    const LENGTH: LengthField = LengthField::At {
        offset: 0,
        width: 2,
        plus: 2,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ReadDiscInformation {
            allocation_length: len.min(0xffff) as u16,
        }
    }
    fn parse(bytes: &[u8]) -> Result<DiscInformation, ParseError> {
        DiscInformation::parse(bytes)
    }
}

/// Disc status (byte 2 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscStatus {
    /// 00b: nothing written.
    Blank,
    /// 01b: written and appendable (incomplete).
    Appendable,
    /// 10b: complete (finalized, or a pressed disc).
    Complete,
    /// 11b: random-access media (DVD-RAM, BD-RE, formatted +RW in some drives).
    Other,
}

/// State of the last session (byte 2 bits 3-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// 00b: empty.
    Empty,
    /// 01b: incomplete (open).
    Incomplete,
    /// 10b: reserved or damaged.
    Damaged,
    /// 11b: complete.
    Complete,
}

/// How a person reads the disc status.
impl std::fmt::Display for DiscStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DiscStatus::Blank => "blank",
            DiscStatus::Appendable => "appendable (not finalized)",
            DiscStatus::Complete => "complete (finalized)",
            DiscStatus::Other => "random access (formatted rewritable)",
        })
    }
}

/// How a person reads the last session's state.
impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionState::Empty => "empty",
            SessionState::Incomplete => "incomplete (open)",
            SessionState::Damaged => "reserved or damaged",
            SessionState::Complete => "complete",
        })
    }
}

/// Background format status (byte 7 bits 1-0; DVD+RW, BD-RE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundFormat {
    /// 00b: never formatted, or not a medium that formats in the background.
    None,
    /// 01b: started and suspended (by CLOSE 000b/010b); resumable with the Restart bit.
    Suspended,
    /// 10b: running.
    Running,
    /// 11b: complete.
    Complete,
}

/// Standard disc information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscInformation {
    /// Byte 2 bit 4.
    pub erasable: bool,
    /// Byte 2 bits 3-2.
    pub last_session: SessionState,
    /// Byte 2 bits 1-0.
    pub status: DiscStatus,
    /// Byte 3: first track on the disc.
    pub first_track: u8,
    /// Bytes 4/9: number of sessions, including an open or empty last one.
    pub sessions: u16,
    /// Bytes 5/10.
    pub first_track_in_last_session: u16,
    /// Bytes 6/11.
    pub last_track_in_last_session: u16,
    /// Byte 7 bit 5: unrestricted use.
    pub unrestricted_use: bool,
    /// Byte 7 bits 1-0.
    pub background_format: BackgroundFormat,
    /// Byte 8: 00h CD-DA/CD-ROM, 10h CD-I, 20h CD-ROM XA, FFh undefined.
    pub disc_type: u8,
    /// Bytes 12-15 when DID_V is set.
    pub disc_id: Option<u32>,
    /// Bytes 16-19: start of the last session's lead-in (MSF on CD, LBA otherwise);
    /// FFFFFFFFh when the disc is complete.
    pub last_session_lead_in: Option<u32>,
    /// Bytes 20-23: last possible start of the lead-out (same encoding).
    pub last_possible_lead_out: Option<u32>,
}

impl DiscInformation {
    /// Parses standard disc information. Needs bytes 0-11 (status, session and track
    /// counts); the addresses in 12-23 are optional, as MMC-1 drives may stop earlier.
    pub fn parse(bytes: &[u8]) -> Result<DiscInformation, ParseError> {
        const WHAT: &str = "disc information";
        let b = announced_slice(bytes, ReadDiscInformation::LENGTH);
        if b.len() < 12 {
            return Err(ParseError::short(WHAT, 12, b.len()));
        }
        if byte(b, 2) >> 5 & 0x07 != 0 {
            // Data types 001b/010b (track/POW resources) have another layout entirely.
            return Err(ParseError::inconsistent(
                WHAT,
                format!("data type {} is not standard disc information", b[2] >> 5),
            ));
        }
        let field = |at: usize| (b.len() >= at + 4).then(|| be32(b, at));
        Ok(DiscInformation {
            erasable: b[2] & 0x10 != 0,
            last_session: match (b[2] >> 2) & 3 {
                0 => SessionState::Empty,
                1 => SessionState::Incomplete,
                2 => SessionState::Damaged,
                _ => SessionState::Complete,
            },
            status: match b[2] & 3 {
                0 => DiscStatus::Blank,
                1 => DiscStatus::Appendable,
                2 => DiscStatus::Complete,
                _ => DiscStatus::Other,
            },
            first_track: b[3],
            sessions: u16::from_be_bytes([b[9], b[4]]),
            first_track_in_last_session: u16::from_be_bytes([b[10], b[5]]),
            last_track_in_last_session: u16::from_be_bytes([b[11], b[6]]),
            unrestricted_use: b[7] & 0x20 != 0,
            background_format: match b[7] & 3 {
                0 => BackgroundFormat::None,
                1 => BackgroundFormat::Suspended,
                2 => BackgroundFormat::Running,
                _ => BackgroundFormat::Complete,
            },
            disc_type: b[8],
            disc_id: field(12).filter(|_| b[7] & 0x80 != 0),
            last_session_lead_in: field(16),
            last_possible_lead_out: field(20),
        })
    }
}

/// READ CAPACITY (25h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCapacity;

impl Command for ReadCapacity {
    const OPCODE: u8 = 0x25;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
    }
}

/// The answer to READ CAPACITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Bytes 0-3: the last readable LBA. Drives say 0 for blank discs and for discs without
    /// a complete session (mmc.md 1.4), so 0 means "nothing readable", not "one block".
    pub last_lba: u32,
    /// Bytes 4-7: block length (2048).
    pub block_length: u32,
}

impl Capacity {
    /// Parses the 8-byte answer.
    pub fn parse(bytes: &[u8]) -> Result<Capacity, ParseError> {
        if bytes.len() < 8 {
            return Err(ParseError::short("READ CAPACITY data", 8, bytes.len()));
        }
        Ok(Capacity {
            last_lba: be32(bytes, 0),
            block_length: be32(bytes, 4),
        })
    }

    /// Readable blocks: last LBA + 1, except that 0 stays 0 (as `dvd+rw-mediainfo` prints).
    pub fn readable_blocks(&self) -> u64 {
        if self.last_lba == 0 {
            0
        } else {
            self.last_lba as u64 + 1
        }
    }
}

impl DataIn for ReadCapacity {
    type Response = Capacity;
    const LENGTH: LengthField = LengthField::Once;
    fn allocation_length(&self) -> u32 {
        8
    }
    fn with_allocation_length(&self, _len: u32) -> Self {
        ReadCapacity
    }
    fn parse(bytes: &[u8]) -> Result<Capacity, ParseError> {
        Capacity::parse(bytes)
    }
}

/// READ FORMAT CAPACITIES (23h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFormatCapacities {
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl Default for ReadFormatCapacities {
    fn default() -> Self {
        // Header + current + up to 30 formattable descriptors (BD lists run to ~10).
        ReadFormatCapacities {
            allocation_length: 4 + 8 * 31,
        }
    }
}

impl Command for ReadFormatCapacities {
    const OPCODE: u8 = 0x23;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE).with_u16(7, self.allocation_length)
    }
}

impl DataIn for ReadFormatCapacities {
    type Response = FormatCapacities;
    // The one reply whose length is a single byte at offset 3 (mmc.md 1.5).
    const LENGTH: LengthField = LengthField::At {
        offset: 3,
        width: 1,
        plus: 4,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ReadFormatCapacities {
            allocation_length: len.min(0xffff) as u16,
        }
    }
    fn parse(bytes: &[u8]) -> Result<FormatCapacities, ParseError> {
        FormatCapacities::parse(bytes)
    }
}

/// What the current/maximum capacity descriptor says (byte 4 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurrentCapacityKind {
    /// 01b: unformatted or blank medium; the blocks are the maximum formattable.
    Unformatted,
    /// 10b: formatted medium; the blocks are the formatted capacity.
    Formatted,
    /// 11b: no medium, or capacity unknown.
    NoMedium,
    /// 00b: reserved.
    Reserved,
}

/// The current/maximum capacity descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentCapacity {
    /// Bytes 0-3.
    pub blocks: u32,
    /// Byte 4 bits 1-0.
    pub kind: CurrentCapacityKind,
    /// Bytes 5-7.
    pub block_length: u32,
}

/// A formattable capacity descriptor: one format the drive offers for this medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormattableCapacity {
    /// Bytes 0-3.
    pub blocks: u32,
    /// Byte 4 bits 7-2.
    pub format_type: FormatType,
    /// Bytes 5-7: type-dependent parameter (block length, ECC block size, spare size...).
    pub type_dependent: u32,
}

/// The answer to READ FORMAT CAPACITIES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatCapacities {
    /// The current/maximum capacity.
    pub current: CurrentCapacity,
    /// The formats offered, in the drive's order (for BD the default comes first, then the
    /// maximum- and minimum-spare variants: mmc.md R2, R10).
    pub formattable: Vec<FormattableCapacity>,
}

impl FormatCapacities {
    /// Parses the capacity list. Needs the header and the current descriptor; trailing
    /// bytes that do not make a whole descriptor are ignored (R3: do not over-validate).
    pub fn parse(bytes: &[u8]) -> Result<FormatCapacities, ParseError> {
        const WHAT: &str = "format capacities";
        if bytes.len() < 4 {
            return Err(ParseError::short(WHAT, 4, bytes.len()));
        }
        if bytes[3] < 8 {
            return Err(ParseError::inconsistent(
                WHAT,
                format!(
                    "capacity list length {} leaves no room for the current capacity",
                    bytes[3]
                ),
            ));
        }
        let b = announced_slice(bytes, ReadFormatCapacities::LENGTH);
        if b.len() < 12 {
            return Err(ParseError::short(WHAT, 12, b.len()));
        }
        let current = CurrentCapacity {
            blocks: be32(b, 4),
            kind: match b[8] & 3 {
                1 => CurrentCapacityKind::Unformatted,
                2 => CurrentCapacityKind::Formatted,
                3 => CurrentCapacityKind::NoMedium,
                _ => CurrentCapacityKind::Reserved,
            },
            block_length: be24(b, 9),
        };
        let formattable = b[12..]
            .chunks_exact(8)
            .map(|d| FormattableCapacity {
                blocks: be32(d, 0),
                format_type: FormatType::from_code(d[4] >> 2),
                type_dependent: be24(d, 5),
            })
            .collect();
        Ok(FormatCapacities {
            current,
            formattable,
        })
    }

    /// The formats offered of one type.
    pub fn offers(&self, format_type: FormatType) -> impl Iterator<Item = &FormattableCapacity> {
        self.formattable
            .iter()
            .filter(move |d| d.format_type == format_type)
    }
}

/// A format type, as READ FORMAT CAPACITIES offers it and FORMAT UNIT asks for it
/// (descriptor byte 8 bits 7-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatType {
    /// 00h: full format (DVD-RW to restricted overwrite, DVD-RAM, BD-RE default, BD-R).
    Full,
    /// 10h: DVD-RW / CD-RW full format.
    DvdRwFull,
    /// 11h: DVD-RW grow the last session.
    DvdRwGrowSession,
    /// 13h: DVD-RW quick grow of the last session.
    DvdRwQuickGrow,
    /// 15h: DVD-RW quick format.
    DvdRwQuick,
    /// 26h: DVD+RW basic (background) format.
    DvdPlusRwBasic,
    /// 30h: BD-RE with spare areas.
    BdReWithSpare,
    /// 31h: BD-RE without spare areas.
    BdReWithoutSpare,
    /// 32h: BD-R with spare areas.
    BdRWithSpare,
    /// Any other type.
    Other(u8),
}

impl FormatType {
    /// The 6-bit format type code.
    pub fn code(self) -> u8 {
        match self {
            FormatType::Full => 0x00,
            FormatType::DvdRwFull => 0x10,
            FormatType::DvdRwGrowSession => 0x11,
            FormatType::DvdRwQuickGrow => 0x13,
            FormatType::DvdRwQuick => 0x15,
            FormatType::DvdPlusRwBasic => 0x26,
            FormatType::BdReWithSpare => 0x30,
            FormatType::BdReWithoutSpare => 0x31,
            FormatType::BdRWithSpare => 0x32,
            FormatType::Other(v) => v & 0x3f,
        }
    }

    /// The type with this code.
    pub fn from_code(code: u8) -> FormatType {
        match code & 0x3f {
            0x00 => FormatType::Full,
            0x10 => FormatType::DvdRwFull,
            0x11 => FormatType::DvdRwGrowSession,
            0x13 => FormatType::DvdRwQuickGrow,
            0x15 => FormatType::DvdRwQuick,
            0x26 => FormatType::DvdPlusRwBasic,
            0x30 => FormatType::BdReWithSpare,
            0x31 => FormatType::BdReWithoutSpare,
            0x32 => FormatType::BdRWithSpare,
            other => FormatType::Other(other),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdbs() {
        assert_eq!(
            ReadDiscInformation::new()
                .with_allocation_length(34)
                .cdb()
                .as_bytes(),
            hex("51 00 00 00 00 00 00 00 22 00")
        );
        assert_eq!(
            ReadCapacity.cdb().as_bytes(),
            hex("25 00 00 00 00 00 00 00 00 00")
        );
        assert_eq!(
            ReadFormatCapacities::default()
                .with_allocation_length(12)
                .cdb()
                .as_bytes(),
            hex("23 00 00 00 00 00 00 00 0c 00")
        );
    }

    /// Disc information as mmc.md 2.2 describes a blank DVD+R (TG's lead-out 2295104).
    pub(crate) fn blank_dvd_plus_r_info() -> Vec<u8> {
        hex(
            "00 20 00 01 01 01 01 00 ff 00 00 00 00 00 00 00 00 00 00 00 00 23 05 40 \
             00 00 00 00 00 00 00 00 00 00",
        )
    }

    #[test]
    fn blank_dvd_plus_rw_r1() {
        // R1: blank, 1 session, last session empty, next track 1, 1 track; +RW is erasable.
        let b = hex(
            "00 20 10 01 01 01 01 00 ff 00 00 00 00 00 00 00 00 00 00 00 00 23 05 40 \
                     00 00 00 00 00 00 00 00 00 00",
        );
        let d = DiscInformation::parse(&b).unwrap();
        assert!(d.erasable);
        assert_eq!(d.status, DiscStatus::Blank);
        assert_eq!(d.last_session, SessionState::Empty);
        assert_eq!((d.first_track, d.sessions), (1, 1));
        assert_eq!(
            (d.first_track_in_last_session, d.last_track_in_last_session),
            (1, 1)
        );
        assert_eq!(d.background_format, BackgroundFormat::None);
        assert_eq!(d.last_possible_lead_out, Some(2_295_104));
        assert_eq!(d.disc_id, None);
    }

    #[test]
    fn complete_dvd_rw_r3_and_high_track_numbers() {
        // R3: complete, 2 sessions, last session "reserved/damaged", 1 track; the MSB bytes
        // 9-11 carry track numbers above 255.
        let mut b = blank_dvd_plus_r_info();
        b[2] = 0x1a;
        b[4] = 2;
        b[6] = 0x2c;
        b[11] = 0x01;
        b[16..24].copy_from_slice(&[0xff; 8]);
        let d = DiscInformation::parse(&b).unwrap();
        assert_eq!(d.status, DiscStatus::Complete);
        assert_eq!(d.last_session, SessionState::Damaged);
        assert_eq!(d.sessions, 2);
        assert_eq!(d.last_track_in_last_session, 0x012c);
        assert_eq!(d.last_session_lead_in, Some(0xffff_ffff));
    }

    #[test]
    fn background_format_and_disc_id() {
        let mut b = blank_dvd_plus_r_info();
        b[2] = 0x1d; // erasable, complete session, appendable
        b[7] = 0x82; // DID_V, format running
        b[12..16].copy_from_slice(&[0, 0, 0x12, 0x34]);
        let d = DiscInformation::parse(&b).unwrap();
        assert_eq!(d.status, DiscStatus::Appendable);
        assert_eq!(d.last_session, SessionState::Complete);
        assert_eq!(d.background_format, BackgroundFormat::Running);
        assert_eq!(d.disc_id, Some(0x1234));
    }

    #[test]
    fn disc_information_short_or_wrong() {
        let b = blank_dvd_plus_r_info();
        assert!(matches!(
            DiscInformation::parse(&b[..10]),
            Err(ParseError::Short {
                need: 12,
                got: 10,
                ..
            })
        ));
        // The length field says 8 bytes follow: the counts are cut off.
        let mut cut = b.clone();
        cut[1] = 8;
        assert!(matches!(
            DiscInformation::parse(&cut),
            Err(ParseError::Short { got: 10, .. })
        ));
        // Track-resources data (type 001b) is not standard disc information.
        let mut other = b.clone();
        other[2] = 0x20;
        assert!(matches!(
            DiscInformation::parse(&other),
            Err(ParseError::Inconsistent { .. })
        ));
        // Only 24 bytes sent (MMC-1 style): addresses past the end are absent, not zero.
        let mut old = b[..20].to_vec();
        old[1] = 18;
        let d = DiscInformation::parse(&old).unwrap();
        assert_eq!(d.last_session_lead_in, Some(0));
        assert_eq!(d.last_possible_lead_out, None);
    }

    #[test]
    fn read_capacity() {
        // Non-blank DVD+RW: 23053Fh (PI R11); blank: 0 (R1).
        let c = Capacity::parse(&hex("00 23 05 3f 00 00 08 00")).unwrap();
        assert_eq!(c.last_lba, 2_295_103);
        assert_eq!(c.block_length, 2048);
        assert_eq!(c.readable_blocks(), 2_295_104);
        let blank = Capacity::parse(&hex("00 00 00 00 00 00 08 00")).unwrap();
        assert_eq!(blank.readable_blocks(), 0);
        assert!(matches!(
            Capacity::parse(&hex("00 23 05 3f 00 00 08")),
            Err(ParseError::Short { .. })
        ));
    }

    /// R10: the BD-RE list of an LG drive, kept by libburn as a fixture.
    pub(crate) fn bd_re_r10() -> Vec<u8> {
        hex("00 00 00 30 \
             00 ba 74 00 01 00 08 00 \
             00 b4 74 00 00 00 30 00 \
             00 b4 74 00 c0 00 30 00 \
             00 b0 74 00 c0 00 50 00 \
             00 b8 74 00 c0 00 10 00 \
             00 ba 74 00 c4 00 08 00")
    }

    #[test]
    fn bd_re_format_list_r10() {
        let f = FormatCapacities::parse(&bd_re_r10()).unwrap();
        assert_eq!(
            f.current,
            CurrentCapacity {
                blocks: 12_219_392,
                kind: CurrentCapacityKind::Unformatted,
                block_length: 2048
            }
        );
        let got: Vec<(FormatType, u32, u32)> = f
            .formattable
            .iter()
            .map(|d| (d.format_type, d.blocks, d.type_dependent))
            .collect();
        assert_eq!(
            got,
            vec![
                (FormatType::Full, 11_826_176, 0x3000),
                (FormatType::BdReWithSpare, 11_826_176, 0x3000),
                (FormatType::BdReWithSpare, 11_564_032, 0x5000),
                (FormatType::BdReWithSpare, 12_088_320, 0x1000),
                (FormatType::BdReWithoutSpare, 12_219_392, 0x0800),
            ]
        );
        assert_eq!(f.offers(FormatType::BdReWithSpare).count(), 3);
    }

    #[test]
    fn dvd_plus_rw_r1_and_dvd_rw_r3_and_bd_r_r2() {
        // R1: "unformatted 2295104*2048", 26h(0) 2295104.
        let r1 = FormatCapacities::parse(&hex(
            "00 00 00 10 00 23 05 40 01 00 08 00 00 23 05 40 98 00 00 00",
        ))
        .unwrap();
        assert_eq!(r1.current.kind, CurrentCapacityKind::Unformatted);
        assert_eq!(r1.formattable[0].format_type, FormatType::DvdPlusRwBasic);
        assert_eq!(r1.formattable[0].blocks, 2_295_104);
        // R3: formatted 2254432; 00h(800), 10h(10), 15h(10) all 2297888.
        let r3 = FormatCapacities::parse(&hex(
            "00 00 00 20 00 22 66 60 02 00 08 00 00 23 10 20 00 00 08 00 \
             00 23 10 20 40 00 00 10 00 23 10 20 54 00 00 10",
        ))
        .unwrap();
        assert_eq!(r3.current.kind, CurrentCapacityKind::Formatted);
        assert_eq!(r3.current.blocks, 2_254_432);
        let types: Vec<_> = r3
            .formattable
            .iter()
            .map(|d| (d.format_type, d.type_dependent))
            .collect();
        assert_eq!(
            types,
            vec![
                (FormatType::Full, 0x800),
                (FormatType::DvdRwFull, 0x10),
                (FormatType::DvdRwQuick, 0x10)
            ]
        );
        // R2: BD-R 100 GB: unformatted 48878592, 00h(c000), 32h(0) x3.
        let r2 = FormatCapacities::parse(&hex(
            "00 00 00 28 02 e9 d4 00 01 00 08 00 02 d1 d4 00 00 00 c0 00 \
             02 d1 d4 00 c8 00 00 00 01 d5 d4 00 c8 00 00 00 02 e9 74 00 c8 00 00 00",
        ))
        .unwrap();
        assert_eq!(r2.current.blocks, 48_878_592);
        let blocks: Vec<_> = r2
            .offers(FormatType::BdRWithSpare)
            .map(|d| d.blocks)
            .collect();
        assert_eq!(blocks, vec![47_305_728, 30_790_656, 48_854_016]);
    }

    #[test]
    fn format_capacities_short_or_inconsistent() {
        let b = bd_re_r10();
        assert!(matches!(
            FormatCapacities::parse(&b[..3]),
            Err(ParseError::Short { .. })
        ));
        assert!(matches!(
            FormatCapacities::parse(&b[..10]),
            Err(ParseError::Short { need: 12, .. })
        ));
        let mut no_current = b.clone();
        no_current[3] = 0;
        assert!(matches!(
            FormatCapacities::parse(&no_current),
            Err(ParseError::Inconsistent { .. })
        ));
        // Cut inside the third descriptor: two whole formattable descriptors survive.
        let f = FormatCapacities::parse(&b[..4 + 8 + 16 + 5]).unwrap();
        assert_eq!(f.formattable.len(), 2);
    }
}

//! Tracks and sessions: READ TRACK INFORMATION (52h) and READ TOC/PMA/ATIP (43h) formats
//! 0 and 1 (MMC-5 6.26, 6.27; mmc.md 1.3, 1.6).

use super::{Cdb, Command, DataIn, LengthField, ParseError, announced_slice, be16, be32, byte};

/// What the address in READ TRACK INFORMATION names (byte 1 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackAddress {
    /// 00b: the track containing this LBA.
    Lba(u32),
    /// 01b: this track number (0 = lead-in on CD, FFh = the invisible/incomplete track,
    /// valid on CD, DVD+R and DVD+R DL only: mmc.md 1.3).
    Track(u32),
    /// 10b: the first track of this session.
    Session(u32),
}

impl TrackAddress {
    /// Track FFh: the invisible (incomplete) track on CD, DVD+R and DVD+R DL.
    pub const INVISIBLE: TrackAddress = TrackAddress::Track(0xff);
}

/// READ TRACK INFORMATION (52h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTrackInformation {
    /// Which track.
    pub address: TrackAddress,
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl ReadTrackInformation {
    /// Asks for the whole (48-byte) block of this track.
    pub fn new(address: TrackAddress) -> ReadTrackInformation {
        ReadTrackInformation {
            address,
            allocation_length: 48,
        }
    }
}

impl Command for ReadTrackInformation {
    const OPCODE: u8 = 0x52;
    fn cdb(&self) -> Cdb {
        let (kind, value) = match self.address {
            TrackAddress::Lba(v) => (0, v),
            TrackAddress::Track(v) => (1, v),
            TrackAddress::Session(v) => (2, v),
        };
        Cdb::new10(Self::OPCODE)
            .with(1, kind)
            .with_u32(2, value)
            .with_u16(7, self.allocation_length)
    }
}

impl DataIn for ReadTrackInformation {
    type Response = TrackInformation;
    const LENGTH: LengthField = LengthField::At {
        offset: 0,
        width: 2,
        plus: 2,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ReadTrackInformation {
            allocation_length: len.min(0xffff) as u16,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<TrackInformation, ParseError> {
        TrackInformation::parse(bytes)
    }
}

/// Track information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInformation {
    /// Bytes 2/32 (LSB/MSB).
    pub track_number: u16,
    /// Bytes 3/33.
    pub session_number: u16,
    /// Byte 5 bit 5.
    pub damage: bool,
    /// Byte 5 bit 4.
    pub copy: bool,
    /// Byte 5 bits 3-0 (4 data uninterrupted, 5 data incremental, 7 on some emulators).
    pub track_mode: u8,
    /// Byte 6 bit 7: reserved track.
    pub reserved: bool,
    /// Byte 6 bit 6.
    pub blank: bool,
    /// Byte 6 bit 5: packet/incremental.
    pub packet: bool,
    /// Byte 6 bit 4: fixed packets.
    pub fixed_packet: bool,
    /// Byte 6 bits 3-0 (1 mode 1, 2 mode 2, Fh unknown).
    pub data_mode: u8,
    /// Bytes 8-11.
    pub start: u32,
    /// Bytes 12-15 when NWA_V (byte 7 bit 0) is set. Signed on CD: some drives report −150
    /// on blank media (mmc.md 1.3, LB).
    pub next_writable: Option<u32>,
    /// Bytes 16-19.
    pub free_blocks: u32,
    /// Bytes 20-23: fixed packet size / blocking factor.
    pub fixed_packet_size: u32,
    /// Bytes 24-27.
    pub size: u32,
    /// Bytes 28-31 when sent and LRA_V (byte 7 bit 1) is set.
    pub last_recorded: Option<u32>,
    /// Bytes 36-39 when sent (DVD+R read compatibility LBA).
    pub read_compatibility: Option<u32>,
}

impl TrackInformation {
    /// Parses track information. Needs bytes 0-27 (through the track size, the MMC-2
    /// block); the later fields are optional.
    pub fn parse(bytes: &[u8]) -> Result<TrackInformation, ParseError> {
        const WHAT: &str = "track information";
        let b = announced_slice(bytes, ReadTrackInformation::LENGTH);
        if b.len() < 28 {
            return Err(ParseError::short(WHAT, 28, b.len()));
        }
        let has = |at: usize, n: usize| b.len() >= at + n;
        Ok(TrackInformation {
            track_number: u16::from_be_bytes([if has(32, 1) { b[32] } else { 0 }, b[2]]),
            session_number: u16::from_be_bytes([if has(33, 1) { b[33] } else { 0 }, b[3]]),
            damage: b[5] & 0x20 != 0,
            copy: b[5] & 0x10 != 0,
            track_mode: b[5] & 0x0f,
            reserved: b[6] & 0x80 != 0,
            blank: b[6] & 0x40 != 0,
            packet: b[6] & 0x20 != 0,
            fixed_packet: b[6] & 0x10 != 0,
            data_mode: b[6] & 0x0f,
            start: be32(b, 8),
            next_writable: (b[7] & 0x01 != 0).then(|| be32(b, 12)),
            free_blocks: be32(b, 16),
            fixed_packet_size: be32(b, 20),
            size: be32(b, 24),
            last_recorded: (b[7] & 0x02 != 0 && has(28, 4)).then(|| be32(b, 28)),
            read_compatibility: has(36, 4).then(|| be32(b, 36)),
        })
    }
}

/// READ TOC/PMA/ATIP formats this layer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TocFormat {
    /// 0000b: the TOC (track descriptors and the lead-out).
    Toc,
    /// 0001b: multi-session information.
    SessionInfo,
}

/// READ TOC/PMA/ATIP (43h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadToc {
    /// Which format.
    pub format: TocFormat,
    /// Addresses as MSF instead of LBA (byte 1 bit 1).
    pub msf: bool,
    /// Starting track (format 0) or session (ignored by format 1).
    pub track: u8,
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl ReadToc {
    /// Format 0 from track 1, LBA addresses.
    pub fn toc() -> ReadToc {
        ReadToc {
            format: TocFormat::Toc,
            msf: false,
            track: 1,
            allocation_length: 4 + 8 * 100,
        }
    }

    /// Format 1 (growisofs `-C` reads the last session's start this way).
    pub fn session_info() -> ReadToc {
        ReadToc {
            format: TocFormat::SessionInfo,
            msf: false,
            track: 0,
            allocation_length: 12,
        }
    }
}

impl Command for ReadToc {
    const OPCODE: u8 = 0x43;
    fn cdb(&self) -> Cdb {
        let format = match self.format {
            TocFormat::Toc => 0,
            TocFormat::SessionInfo => 1,
        };
        Cdb::new10(Self::OPCODE)
            .with(1, if self.msf { 0x02 } else { 0 })
            .with(2, format)
            .with(6, self.track)
            .with_u16(7, self.allocation_length)
    }
}

/// One TOC track descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TocEntry {
    /// Byte 1 bits 7-4.
    pub adr: u8,
    /// Byte 1 bits 3-0 (bit 2 set: data track).
    pub control: u8,
    /// Byte 2: track number, AAh for the lead-out.
    pub track: u8,
    /// Bytes 4-7: start address (LBA, or 00 M S F).
    pub address: u32,
}

/// The lead-out's track number in a TOC.
pub const LEAD_OUT_TRACK: u8 = 0xaa;

/// READ TOC format 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toc {
    /// Byte 2.
    pub first_track: u8,
    /// Byte 3.
    pub last_track: u8,
    /// Track descriptors, ending with the lead-out (AAh).
    pub entries: Vec<TocEntry>,
}

/// READ TOC format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// Byte 2.
    pub first_complete_session: u8,
    /// Byte 3.
    pub last_complete_session: u8,
    /// Descriptor byte 2: first track in the last complete session.
    pub first_track_in_last_session: u8,
    /// Descriptor bytes 4-7: its start address.
    pub last_session_start: u32,
}

const TOC_LENGTH: LengthField = LengthField::At {
    offset: 0,
    width: 2,
    plus: 2,
};

fn toc_descriptors<'a>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), ParseError> {
    if bytes.len() < 4 {
        return Err(ParseError::short(what, 4, bytes.len()));
    }
    let length = be16(bytes, 0) as usize;
    if length < 2 || !(length - 2).is_multiple_of(8) {
        return Err(ParseError::inconsistent(
            what,
            format!("data length {length} is not 2 plus whole 8-byte descriptors"),
        ));
    }
    let b = announced_slice(bytes, TOC_LENGTH);
    Ok((&b[..4], &b[4..]))
}

impl Toc {
    /// Parses format 0. Descriptors cut off by the allocation length are dropped.
    pub fn parse(bytes: &[u8]) -> Result<Toc, ParseError> {
        const WHAT: &str = "TOC";
        let (head, rest) = toc_descriptors(bytes, WHAT)?;
        let entries = rest
            .chunks_exact(8)
            .map(|d| TocEntry {
                adr: d[1] >> 4,
                control: d[1] & 0x0f,
                track: d[2],
                address: be32(d, 4),
            })
            .collect();
        Ok(Toc {
            first_track: head[2],
            last_track: head[3],
            entries,
        })
    }

    /// The lead-out's start address, if the TOC reached it.
    pub fn lead_out(&self) -> Option<u32> {
        self.entries
            .iter()
            .find(|e| e.track == LEAD_OUT_TRACK)
            .map(|e| e.address)
    }
}

impl SessionInfo {
    /// Parses format 1: the header and exactly one descriptor.
    pub fn parse(bytes: &[u8]) -> Result<SessionInfo, ParseError> {
        const WHAT: &str = "session information";
        let (head, rest) = toc_descriptors(bytes, WHAT)?;
        if rest.len() < 8 {
            return Err(ParseError::short(WHAT, 12, 4 + rest.len()));
        }
        Ok(SessionInfo {
            first_complete_session: head[2],
            last_complete_session: head[3],
            first_track_in_last_session: byte(rest, 2),
            last_session_start: be32(rest, 4),
        })
    }
}

/// Typed wrappers so each format has its own [`DataIn`] response type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTocFormat0(pub ReadToc);
/// See [`ReadTocFormat0`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTocFormat1(pub ReadToc);

impl Default for ReadTocFormat0 {
    fn default() -> Self {
        ReadTocFormat0(ReadToc::toc())
    }
}

impl Default for ReadTocFormat1 {
    fn default() -> Self {
        ReadTocFormat1(ReadToc::session_info())
    }
}

impl Command for ReadTocFormat0 {
    const OPCODE: u8 = ReadToc::OPCODE;
    fn cdb(&self) -> Cdb {
        self.0.cdb()
    }
}

impl Command for ReadTocFormat1 {
    const OPCODE: u8 = ReadToc::OPCODE;
    fn cdb(&self) -> Cdb {
        self.0.cdb()
    }
}

impl DataIn for ReadTocFormat0 {
    type Response = Toc;
    const LENGTH: LengthField = TOC_LENGTH;
    fn allocation_length(&self) -> u32 {
        self.0.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ReadTocFormat0(ReadToc {
            allocation_length: len.min(0xffff) as u16,
            ..self.0
        })
    }
    fn parse(bytes: &[u8]) -> Result<Toc, ParseError> {
        Toc::parse(bytes)
    }
}

impl DataIn for ReadTocFormat1 {
    type Response = SessionInfo;
    const LENGTH: LengthField = TOC_LENGTH;
    fn allocation_length(&self) -> u32 {
        self.0.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        ReadTocFormat1(ReadToc {
            allocation_length: len.min(0xffff) as u16,
            ..self.0
        })
    }
    fn parse(bytes: &[u8]) -> Result<SessionInfo, ParseError> {
        SessionInfo::parse(bytes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdbs() {
        assert_eq!(
            ReadTrackInformation::new(TrackAddress::INVISIBLE)
                .cdb()
                .as_bytes(),
            hex("52 01 00 00 00 ff 00 00 30 00")
        );
        assert_eq!(
            ReadTrackInformation::new(TrackAddress::Lba(0x1234))
                .with_allocation_length(2)
                .cdb()
                .as_bytes(),
            hex("52 00 00 00 12 34 00 00 02 00")
        );
        assert_eq!(
            ReadTrackInformation::new(TrackAddress::Session(2))
                .cdb()
                .as_bytes(),
            hex("52 02 00 00 00 02 00 00 30 00")
        );
        assert_eq!(
            ReadToc::toc().cdb().as_bytes(),
            hex("43 00 00 00 00 00 01 03 24 00")
        );
        assert_eq!(
            ReadToc::session_info().cdb().as_bytes(),
            hex("43 00 01 00 00 00 00 00 0c 00")
        );
        let msf = ReadToc {
            msf: true,
            ..ReadToc::toc()
        };
        assert_eq!(msf.cdb().as_bytes(), hex("43 02 00 00 00 00 01 03 24 00"));
    }

    /// R6: packet-formatted CD-RW, `00 22 01 01 00 07 b2 00 …`, fixed packet 20h, size
    /// 00048160h (pali/udftools#44, xorriso -scsi_log). The bytes the report elides are 0.
    const R6_PACKET: &str = "00 22 01 01 00 07 b2 00 00 00 00 00 00 00 00 00 00 00 00 00 \
                             00 00 00 20 00 04 81 60 00 00 00 00 00 00 00 00";
    /// R6: unformatted closed CD-RW, track mode 4, data mode 1, size 00008581h.
    const R6_CLOSED: &str = "00 22 01 01 00 04 01 00 00 00 00 00 00 00 00 00 00 00 00 00 \
                             00 00 00 00 00 00 85 81 00 00 00 00 00 00 00 00";

    #[test]
    fn cd_rw_tracks_r6() {
        let t = TrackInformation::parse(&hex(R6_PACKET)).unwrap();
        assert_eq!((t.track_number, t.session_number), (1, 1));
        assert_eq!(t.track_mode, 7);
        assert!(t.reserved && !t.blank && t.packet && t.fixed_packet);
        assert_eq!(t.data_mode, 2);
        assert_eq!(t.fixed_packet_size, 0x20);
        assert_eq!(t.size, 295_264);
        assert_eq!(t.next_writable, None);

        let t = TrackInformation::parse(&hex(R6_CLOSED)).unwrap();
        assert_eq!((t.track_mode, t.data_mode), (4, 1));
        assert!(!t.reserved && !t.blank && !t.packet);
        assert_eq!(t.next_writable, None);
        assert_eq!(t.size, 34_177);
        assert_eq!(
            t.read_compatibility, None,
            "36-byte block has no bytes 36-39"
        );
    }

    /// R1: blank DVD+RW track 1, "invisible incremental" (Blank=1, Packet=1), start 0,
    /// no NWA, free = size = 2295104.
    pub(crate) fn blank_dvd_plus_rw_track_r1() -> Vec<u8> {
        hex(
            "00 2e 01 01 00 07 60 00 00 00 00 00 00 00 00 00 00 23 05 40 \
             00 00 00 10 00 23 05 40 00 00 00 00 00 00 00 00 00 00 00 00 \
             00 00 00 00 00 00 00 00",
        )
    }

    /// A blank DVD+R's invisible track (mmc.md 2.2 "blank"): Blank=1, NWA_V=1, NWA 0.
    pub(crate) fn blank_dvd_plus_r_track() -> Vec<u8> {
        hex(
            "00 2e 01 01 00 07 60 01 00 00 00 00 00 00 00 00 00 23 05 40 \
             00 00 00 10 00 23 05 40 00 00 00 00 00 00 00 00 00 00 00 00 \
             00 00 00 00 00 00 00 00",
        )
    }

    #[test]
    fn dvd_tracks() {
        let t = TrackInformation::parse(&blank_dvd_plus_rw_track_r1()).unwrap();
        assert!(t.blank && t.packet && !t.reserved);
        assert_eq!(
            t.next_writable, None,
            "NWA_V is always 0 on DVD+RW (PI R11, R1)"
        );
        assert_eq!((t.free_blocks, t.size), (2_295_104, 2_295_104));
        assert_eq!(t.read_compatibility, Some(0));

        let mut b = blank_dvd_plus_r_track();
        // 1275392 blocks written (R8) and the last recorded address valid.
        b[7] = 0x03;
        b[6] = 0x20;
        b[12..16].copy_from_slice(&1_275_392u32.to_be_bytes());
        b[16..20].copy_from_slice(&(2_295_104u32 - 1_275_392).to_be_bytes());
        b[28..32].copy_from_slice(&1_275_391u32.to_be_bytes());
        b[32] = 0x01; // track 257: the MSB byte counts
        let t = TrackInformation::parse(&b).unwrap();
        assert!(!t.blank);
        assert_eq!(t.next_writable, Some(1_275_392));
        assert_eq!(t.free_blocks, 1_019_712);
        assert_eq!(t.last_recorded, Some(1_275_391));
        assert_eq!(t.track_number, 257);
    }

    #[test]
    fn track_information_short() {
        let b = hex(R6_PACKET);
        assert!(matches!(
            TrackInformation::parse(&b[..27]),
            Err(ParseError::Short {
                need: 28,
                got: 27,
                ..
            })
        ));
        let mut cut = b.clone();
        cut[1] = 0x10; // announces 18 bytes
        assert!(matches!(
            TrackInformation::parse(&cut),
            Err(ParseError::Short { got: 18, .. })
        ));
        // 28 bytes (MMC-2 era): the later fields are absent.
        let mut old = b[..28].to_vec();
        old[1] = 26;
        old[7] = 0x02;
        let t = TrackInformation::parse(&old).unwrap();
        assert_eq!(t.last_recorded, None);
        assert_eq!(t.track_number, 1);
    }

    #[test]
    fn toc_of_a_two_track_cd() {
        // Data track 1 at 0, track 2 at 33000 (a second session), lead-out at 359849.
        let b = hex("00 1a 01 02 \
                     00 14 01 00 00 00 00 00 \
                     00 14 02 00 00 00 80 e8 \
                     00 14 aa 00 00 05 7d a9");
        let t = Toc::parse(&b).unwrap();
        assert_eq!((t.first_track, t.last_track), (1, 2));
        assert_eq!(t.entries.len(), 3);
        assert_eq!((t.entries[1].adr, t.entries[1].control), (1, 4));
        assert_eq!(t.entries[1].address, 33_000);
        assert_eq!(t.lead_out(), Some(359_849));
        // Cut by the allocation length: whole descriptors only, no lead-out.
        let cut = Toc::parse(&b[..4 + 8 + 5]).unwrap();
        assert_eq!(cut.entries.len(), 1);
        assert_eq!(cut.lead_out(), None);
        // Length that is not 2 + 8n.
        let mut bad = b.clone();
        bad[1] = 0x19;
        assert!(matches!(
            Toc::parse(&bad),
            Err(ParseError::Inconsistent { .. })
        ));
        assert!(matches!(Toc::parse(&b[..3]), Err(ParseError::Short { .. })));
    }

    #[test]
    fn session_info() {
        let b = hex("00 0a 01 02 00 14 02 00 00 00 80 e8");
        let s = SessionInfo::parse(&b).unwrap();
        assert_eq!((s.first_complete_session, s.last_complete_session), (1, 2));
        assert_eq!(s.first_track_in_last_session, 2);
        assert_eq!(s.last_session_start, 33_000);
        // Header only, although the length promises a descriptor: short.
        assert!(matches!(
            SessionInfo::parse(&b[..6]),
            Err(ParseError::Short { .. })
        ));
        // A length with no descriptor at all.
        assert!(matches!(
            SessionInfo::parse(&hex("00 02 01 01")),
            Err(ParseError::Short { .. })
        ));
    }
}

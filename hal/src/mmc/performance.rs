//! Speeds and the drive buffer: GET PERFORMANCE (ACh) types 00h and 03h, SET STREAMING
//! (B6h), SET CD SPEED (BBh) and READ BUFFER CAPACITY (5Ch) (MMC-5 6.8, 6.39, 6.37, 6.25;
//! mmc.md 1.8, 1.10). Speeds are kB/s with k = 1000.

use super::{Cdb, Command, DataIn, LengthField, ParseError, announced_slice, be32, bit};

/// Header bytes of a GET PERFORMANCE answer.
const PERFORMANCE_HEADER: usize = 8;
/// Bytes per descriptor, for both types.
const PERFORMANCE_DESCRIPTOR: usize = 16;
/// The 4-byte data length at the start of the answer.
const PERFORMANCE_LENGTH: LengthField = LengthField::At {
    offset: 0,
    width: 4,
    plus: 4,
};

/// GET PERFORMANCE type 00h (performance) or 03h (write speeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerformanceRequest {
    /// Type 00h: nominal read or write performance over LBA ranges.
    Performance {
        /// Write performance instead of read (byte 1 bit 2).
        write: bool,
    },
    /// Type 03h: the write speeds the drive offers for the loaded medium.
    WriteSpeeds,
}

/// GET PERFORMANCE (ACh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetPerformance {
    /// What to report.
    pub request: PerformanceRequest,
    /// Starting LBA (type 00h).
    pub start_lba: u32,
    /// Maximum number of descriptors (bytes 8-9).
    pub max_descriptors: u16,
}

impl GetPerformance {
    /// Type 03h with room for 64 descriptors. Asked once, generously: libburn notes that
    /// some drives announce only one descriptor when probed with zero (mmc.md 1.8).
    pub fn write_speeds() -> GetPerformance {
        GetPerformance {
            request: PerformanceRequest::WriteSpeeds,
            start_lba: 0,
            max_descriptors: 64,
        }
    }

    /// Type 00h from LBA 0.
    pub fn performance(write: bool) -> GetPerformance {
        GetPerformance {
            request: PerformanceRequest::Performance { write },
            start_lba: 0,
            max_descriptors: 64,
        }
    }
}

impl Command for GetPerformance {
    const OPCODE: u8 = 0xac;
    fn cdb(&self) -> Cdb {
        let (byte1, kind) = match self.request {
            // Tolerance 10b (10% nominal) as libburn sends it (10h for read, 14h for write).
            PerformanceRequest::Performance { write } => (0x10 | (write as u8) << 2, 0x00),
            PerformanceRequest::WriteSpeeds => (0x00, 0x03),
        };
        Cdb::new12(Self::OPCODE)
            .with(1, byte1)
            .with_u32(2, self.start_lba)
            .with_u16(8, self.max_descriptors)
            .with(10, kind)
    }
}

/// A type 00h descriptor: performance at the start and end of an LBA range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerformanceDescriptor {
    /// Bytes 0-3.
    pub start_lba: u32,
    /// Bytes 4-7, kB/s.
    pub start_kbytes_per_sec: u32,
    /// Bytes 8-11.
    pub end_lba: u32,
    /// Bytes 12-15, kB/s.
    pub end_kbytes_per_sec: u32,
}

/// A type 03h descriptor: one write speed the drive offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSpeedDescriptor {
    /// Byte 0 bits 4-3: write rotation control (0 CLV, 1 CAV).
    pub rotation_control: u8,
    /// Byte 0 bit 2: restore drive defaults.
    pub restore_defaults: bool,
    /// Byte 0 bit 1: the drive can hold exactly this speed.
    pub exact: bool,
    /// Byte 0 bit 0: mixed read/write.
    pub mixed_read_write: bool,
    /// Bytes 4-7: the last LBA this speed applies to (capacity − 1 on real drives).
    pub end_lba: u32,
    /// Bytes 8-11, kB/s.
    pub read_kbytes_per_sec: u32,
    /// Bytes 12-15, kB/s.
    pub write_kbytes_per_sec: u32,
}

/// The answer to GET PERFORMANCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerformanceData {
    /// Type 00h.
    Performance {
        /// Header byte 4 bit 1.
        write: bool,
        /// Header byte 4 bit 0: the ranges have exceptions.
        except: bool,
        /// The descriptors.
        descriptors: Vec<PerformanceDescriptor>,
    },
    /// Type 03h.
    WriteSpeeds(Vec<WriteSpeedDescriptor>),
}

impl PerformanceData {
    fn check<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a [u8], ParseError> {
        if bytes.len() < PERFORMANCE_HEADER {
            return Err(ParseError::short(what, PERFORMANCE_HEADER, bytes.len()));
        }
        let length = be32(bytes, 0) as usize;
        if length < 4 || !(length - 4).is_multiple_of(PERFORMANCE_DESCRIPTOR) {
            return Err(ParseError::inconsistent(
                what,
                format!("data length {length} is not 4 plus whole 16-byte descriptors"),
            ));
        }
        Ok(announced_slice(bytes, PERFORMANCE_LENGTH))
    }

    /// Parses a type 00h answer.
    pub fn parse_performance(bytes: &[u8]) -> Result<PerformanceData, ParseError> {
        let b = Self::check(bytes, "performance data")?;
        let descriptors = b[PERFORMANCE_HEADER..]
            .chunks_exact(PERFORMANCE_DESCRIPTOR)
            .map(|d| PerformanceDescriptor {
                start_lba: be32(d, 0),
                start_kbytes_per_sec: be32(d, 4),
                end_lba: be32(d, 8),
                end_kbytes_per_sec: be32(d, 12),
            })
            .collect();
        Ok(PerformanceData::Performance {
            write: bit(b, 4, 1),
            except: bit(b, 4, 0),
            descriptors,
        })
    }

    /// Parses a type 03h answer.
    pub fn parse_write_speeds(bytes: &[u8]) -> Result<PerformanceData, ParseError> {
        Self::write_speed_descriptors(bytes).map(PerformanceData::WriteSpeeds)
    }

    fn write_speed_descriptors(bytes: &[u8]) -> Result<Vec<WriteSpeedDescriptor>, ParseError> {
        let b = Self::check(bytes, "write speed data")?;
        let descriptors = b[PERFORMANCE_HEADER..]
            .chunks_exact(PERFORMANCE_DESCRIPTOR)
            .map(|d| WriteSpeedDescriptor {
                rotation_control: (d[0] >> 3) & 0x03,
                restore_defaults: d[0] & 0x04 != 0,
                exact: d[0] & 0x02 != 0,
                mixed_read_write: d[0] & 0x01 != 0,
                end_lba: be32(d, 4),
                read_kbytes_per_sec: be32(d, 8),
                write_kbytes_per_sec: be32(d, 12),
            })
            .collect();
        Ok(descriptors)
    }
}

/// GET PERFORMANCE type 03h as its own [`DataIn`] command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetWriteSpeeds(pub GetPerformance);

impl Default for GetWriteSpeeds {
    fn default() -> Self {
        GetWriteSpeeds(GetPerformance::write_speeds())
    }
}

impl Command for GetWriteSpeeds {
    const OPCODE: u8 = GetPerformance::OPCODE;
    fn cdb(&self) -> Cdb {
        self.0.cdb()
    }
}

impl DataIn for GetWriteSpeeds {
    type Response = Vec<WriteSpeedDescriptor>;
    const LENGTH: LengthField = LengthField::Once;
    fn allocation_length(&self) -> u32 {
        self.0.allocation_length()
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        GetWriteSpeeds(self.0.with_allocation_length(len))
    }
    fn parse(bytes: &[u8]) -> Result<Vec<WriteSpeedDescriptor>, ParseError> {
        PerformanceData::write_speed_descriptors(bytes)
    }
}

impl DataIn for GetPerformance {
    type Response = PerformanceData;
    // The allocation is a descriptor count, and probing with 0 misleads some drives: ask
    // once.
    const LENGTH: LengthField = LengthField::Once;
    fn allocation_length(&self) -> u32 {
        (PERFORMANCE_HEADER + PERFORMANCE_DESCRIPTOR * self.max_descriptors as usize) as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        let count = (len as usize).saturating_sub(PERFORMANCE_HEADER) / PERFORMANCE_DESCRIPTOR;
        GetPerformance {
            max_descriptors: count.min(0xffff) as u16,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<PerformanceData, ParseError> {
        PerformanceData::parse_performance(bytes)
    }
}

/// The 28-byte performance descriptor SET STREAMING sends (type 00h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamingDescriptor {
    /// Byte 0 bits 4-3: write rotation control.
    pub rotation_control: u8,
    /// Byte 0 bit 2: restore drive defaults.
    pub restore_defaults: bool,
    /// Byte 0 bit 1: exact.
    pub exact: bool,
    /// Byte 0 bit 0: random access.
    pub random_access: bool,
    /// Bytes 4-7.
    pub start_lba: u32,
    /// Bytes 8-11: capacity − 1, as libburn sends it.
    pub end_lba: u32,
    /// Bytes 12-15: kB read per `read_time_ms`.
    pub read_size: u32,
    /// Bytes 16-19.
    pub read_time_ms: u32,
    /// Bytes 20-23: kB written per `write_time_ms`.
    pub write_size: u32,
    /// Bytes 24-27.
    pub write_time_ms: u32,
}

impl StreamingDescriptor {
    /// Size of the descriptor.
    pub const LEN: usize = 28;

    /// Asks for `read`/`write` kB/s over LBAs 0..=`end_lba`, per 1000 ms as libburn does.
    pub fn speeds(
        end_lba: u32,
        read_kbytes_per_sec: u32,
        write_kbytes_per_sec: u32,
    ) -> StreamingDescriptor {
        StreamingDescriptor {
            rotation_control: 0,
            restore_defaults: false,
            exact: false,
            random_access: false,
            start_lba: 0,
            end_lba,
            read_size: read_kbytes_per_sec,
            read_time_ms: 1000,
            write_size: write_kbytes_per_sec,
            write_time_ms: 1000,
        }
    }

    /// The descriptor bytes.
    pub fn to_bytes(&self) -> [u8; 28] {
        let mut b = [0u8; 28];
        b[0] = (self.rotation_control & 3) << 3
            | (self.restore_defaults as u8) << 2
            | (self.exact as u8) << 1
            | self.random_access as u8;
        for (at, v) in [
            (4, self.start_lba),
            (8, self.end_lba),
            (12, self.read_size),
            (16, self.read_time_ms),
            (20, self.write_size),
            (24, self.write_time_ms),
        ] {
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
        b
    }

    /// Parses a descriptor (SimDrive reads what the host sent).
    pub fn parse(b: &[u8]) -> Result<StreamingDescriptor, ParseError> {
        if b.len() < Self::LEN {
            return Err(ParseError::short(
                "streaming descriptor",
                Self::LEN,
                b.len(),
            ));
        }
        Ok(StreamingDescriptor {
            rotation_control: (b[0] >> 3) & 3,
            restore_defaults: b[0] & 4 != 0,
            exact: b[0] & 2 != 0,
            random_access: b[0] & 1 != 0,
            start_lba: be32(b, 4),
            end_lba: be32(b, 8),
            read_size: be32(b, 12),
            read_time_ms: be32(b, 16),
            write_size: be32(b, 20),
            write_time_ms: be32(b, 24),
        })
    }
}

/// SET STREAMING (B6h) with a performance descriptor (type 00h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetStreaming;

impl Command for SetStreaming {
    const OPCODE: u8 = 0xb6;
    fn cdb(&self) -> Cdb {
        Cdb::new12(Self::OPCODE)
            .with(8, 0x00)
            .with_u16(9, StreamingDescriptor::LEN as u16)
    }
}

/// SET CD SPEED (BBh). 0xFFFF asks for the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCdSpeed {
    /// Bytes 2-3, kB/s.
    pub read_kbytes_per_sec: u16,
    /// Bytes 4-5, kB/s.
    pub write_kbytes_per_sec: u16,
    /// Byte 1 bits 1-0: 0 CLV, 1 CAV.
    pub rotation_control: u8,
}

impl SetCdSpeed {
    /// The value meaning "as fast as the drive can".
    pub const MAX: u16 = 0xffff;
}

impl Command for SetCdSpeed {
    const OPCODE: u8 = 0xbb;
    fn cdb(&self) -> Cdb {
        Cdb::new12(Self::OPCODE)
            .with(1, self.rotation_control & 3)
            .with_u16(2, self.read_kbytes_per_sec)
            .with_u16(4, self.write_kbytes_per_sec)
    }
}

/// READ BUFFER CAPACITY (5Ch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBufferCapacity {
    /// Report in blocks instead of bytes (byte 1 bit 0; feature 0107h RBCB).
    pub in_blocks: bool,
}

impl Command for ReadBufferCapacity {
    const OPCODE: u8 = 0x5c;
    fn cdb(&self) -> Cdb {
        Cdb::new10(Self::OPCODE)
            .with(1, self.in_blocks as u8)
            .with_u16(7, 12)
    }
}

/// The answer to READ BUFFER CAPACITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferCapacity {
    /// Bytes 4-7: buffer size (bytes, or blocks with the Block bit).
    pub size: u32,
    /// Bytes 8-11: free space in the same unit.
    pub free: u32,
}

impl BufferCapacity {
    /// Parses the 12-byte answer. A free count above the size is passed on as sent; libburn
    /// clamps it, and so must callers that divide by it.
    pub fn parse(bytes: &[u8]) -> Result<BufferCapacity, ParseError> {
        let b = announced_slice(bytes, BUFFER_CAPACITY_LENGTH);
        if b.len() < 12 {
            return Err(ParseError::short("buffer capacity", 12, b.len()));
        }
        Ok(BufferCapacity {
            size: be32(b, 4),
            free: be32(b, 8),
        })
    }
}

/// The 2-byte data length of the READ BUFFER CAPACITY answer.
const BUFFER_CAPACITY_LENGTH: LengthField = LengthField::At {
    offset: 0,
    width: 2,
    plus: 2,
};

impl DataIn for ReadBufferCapacity {
    type Response = BufferCapacity;
    // A fixed 12-byte answer: one request is enough.
    const LENGTH: LengthField = LengthField::Once;
    fn allocation_length(&self) -> u32 {
        12
    }
    fn with_allocation_length(&self, _len: u32) -> Self {
        *self
    }
    fn parse(bytes: &[u8]) -> Result<BufferCapacity, ParseError> {
        BufferCapacity::parse(bytes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdbs() {
        assert_eq!(
            GetPerformance::write_speeds().cdb().as_bytes(),
            hex("ac 00 00 00 00 00 00 00 00 40 03 00")
        );
        assert_eq!(
            GetPerformance::performance(false).cdb().as_bytes(),
            hex("ac 10 00 00 00 00 00 00 00 40 00 00")
        );
        // dvd+rw-mediainfo's current write performance: byte 1 = 14h.
        let mut w = GetPerformance::performance(true);
        w.max_descriptors = 1;
        w.start_lba = 0x1234;
        assert_eq!(
            w.cdb().as_bytes(),
            hex("ac 14 00 00 12 34 00 00 00 01 00 00")
        );
        assert_eq!(w.allocation_length(), 24);
        assert_eq!(w.with_allocation_length(8 + 32).max_descriptors, 2);
        assert_eq!(
            SetStreaming.cdb().as_bytes(),
            hex("b6 00 00 00 00 00 00 00 00 00 1c 00")
        );
        let cd = SetCdSpeed {
            read_kbytes_per_sec: SetCdSpeed::MAX,
            write_kbytes_per_sec: 1764,
            rotation_control: 0,
        };
        assert_eq!(
            cd.cdb().as_bytes(),
            hex("bb 00 ff ff 06 e4 00 00 00 00 00 00")
        );
        assert_eq!(
            ReadBufferCapacity { in_blocks: false }.cdb().as_bytes(),
            hex("5c 00 00 00 00 00 00 00 0c 00")
        );
        assert_eq!(
            ReadBufferCapacity { in_blocks: true }.cdb().as_bytes(),
            hex("5c 01 00 00 00 00 00 00 0c 00")
        );
    }

    /// R1: speed descriptors of the GP60N with a blank DVD+RW: 4.0x (5540) and 2.4x (3324)
    /// write, 8.0x read, end LBA 2295103.
    pub(crate) fn r1_write_speeds() -> Vec<u8> {
        hex("00 00 00 24 00 00 00 00 \
             00 00 00 00 00 23 05 3f 00 00 2b 48 00 00 15 a4 \
             00 00 00 00 00 23 05 3f 00 00 2b 48 00 00 0c fc")
    }

    #[test]
    fn write_speeds_r1_r3() {
        let d = GetWriteSpeeds::parse(&r1_write_speeds()).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].end_lba, 2_295_103);
        assert_eq!(d[0].read_kbytes_per_sec, 11_080);
        assert_eq!(d[0].write_kbytes_per_sec, 5540);
        assert_eq!(d[1].write_kbytes_per_sec, 3324);
        // R3: `02/2254431`, Exact bit set, 2.0x.
        let r3 = hex("00 00 00 14 00 00 00 00 02 00 00 00 00 22 66 5f 00 00 0a d2 00 00 0a d2");
        let d = GetWriteSpeeds::parse(&r3).unwrap();
        assert!(d[0].exact && !d[0].restore_defaults);
        assert_eq!(d[0].end_lba, 2_254_431);
        assert_eq!(d[0].write_kbytes_per_sec, 2770);
    }

    #[test]
    fn performance_type_0() {
        let b = hex("00 00 00 14 02 00 00 00 00 00 00 00 00 00 0d 84 00 23 05 3f 00 00 2b 48");
        let PerformanceData::Performance {
            write,
            except,
            descriptors,
        } = PerformanceData::parse_performance(&b).unwrap()
        else {
            panic!("type 00h");
        };
        assert!(write && !except);
        assert_eq!(descriptors[0].start_kbytes_per_sec, 3460);
        assert_eq!(descriptors[0].end_lba, 2_295_103);
        assert_eq!(descriptors[0].end_kbytes_per_sec, 11_080);
    }

    #[test]
    fn performance_short_or_inconsistent() {
        let b = r1_write_speeds();
        assert!(matches!(
            GetWriteSpeeds::parse(&b[..7]),
            Err(ParseError::Short { .. })
        ));
        let mut bad = b.clone();
        bad[3] = 0x25;
        assert!(matches!(
            GetWriteSpeeds::parse(&bad),
            Err(ParseError::Inconsistent { .. })
        ));
        let mut tiny = b.clone();
        tiny[3] = 0x02;
        assert!(matches!(
            GetWriteSpeeds::parse(&tiny),
            Err(ParseError::Inconsistent { .. })
        ));
        // Cut by the allocation: the whole descriptors only.
        assert_eq!(GetWriteSpeeds::parse(&b[..8 + 16 + 3]).unwrap().len(), 1);
        // Header only, "no descriptors": an empty list, not an error.
        assert!(
            GetWriteSpeeds::parse(&hex("00 00 00 04 00 00 00 00"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn streaming_descriptor_bytes() {
        // libburn: end = capacity − 1, 1000 ms, read and write sizes = kB/s.
        let d = StreamingDescriptor::speeds(2_295_103, 11_080, 5540);
        let b = d.to_bytes();
        assert_eq!(
            &b[..],
            &hex(
                "00 00 00 00 00 00 00 00 00 23 05 3f 00 00 2b 48 00 00 03 e8 00 00 15 a4 00 00 03 e8"
            )[..]
        );
        assert_eq!(StreamingDescriptor::parse(&b).unwrap(), d);
        assert!(StreamingDescriptor::parse(&b[..27]).is_err());
        let mut exact = d;
        exact.exact = true;
        exact.rotation_control = 1;
        assert_eq!(exact.to_bytes()[0], 0x0a);
    }

    #[test]
    fn buffer_capacity() {
        // R4: 1114112-byte buffer; PI R11 DVD: 188000h.
        let b = hex("00 0a 00 00 00 11 00 00 00 08 00 00");
        let c = BufferCapacity::parse(&b).unwrap();
        assert_eq!(c.size, 1_114_112);
        assert_eq!(c.free, 0x080000);
        assert!(matches!(
            BufferCapacity::parse(&b[..11]),
            Err(ParseError::Short { .. })
        ));
        let mut cut = b.clone();
        cut[1] = 6;
        assert!(matches!(
            BufferCapacity::parse(&cut),
            Err(ParseError::Short { got: 8, .. })
        ));
    }
}

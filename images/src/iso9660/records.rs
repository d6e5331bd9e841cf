//! Byte encoders for the fixed ECMA-119 structures: both-endian numbers, dates, volume
//! descriptors, directory records and path-table records.
//!
//! Everything here is a pure function from values to bytes, so the layout can measure a
//! structure with placeholder numbers and the stream can later write it with the real ones
//! and get exactly the same length. Nothing here knows about trees, files or Rock Ridge.

/// One logical block (sector) of the image.
pub const BLOCK: u64 = 2048;
/// The same, as a `usize` for buffer arithmetic.
pub const BLOCK_USIZE: usize = BLOCK as usize;
/// The largest extent a non-final record of a multi-extent file may describe: the largest
/// multiple of the block size that fits a 32-bit length (readers map blocks with `len >> 11`).
pub const MAX_EXTENT_BYTES: u64 = 0xFFFF_F800;
/// Directory record flag: a directory.
pub const FLAG_DIRECTORY: u8 = 0x02;
/// Directory record flag: this is not the file's final extent record.
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// A time as the Rock Ridge and ECMA-119 date fields see it: whole seconds since the Unix
/// epoch, UTC. Sub-second parts are not representable in the 7-byte form we write.
pub type UnixSeconds = i64;

/// Appends `value` as ECMA 7.2.3 (16-bit both-endian: LE then BE).
pub fn put_u16_both(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends `value` as ECMA 7.3.3 (32-bit both-endian: LE then BE).
pub fn put_u32_both(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
    out.extend_from_slice(&value.to_be_bytes());
}

/// Reads a 32-bit both-endian field, trusting the little-endian half as Linux does.
pub fn get_u32_both(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian), Howard Hinnant's algorithm.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` of a time in UTC, for listings and messages.
pub fn utc_text(time: UnixSeconds) -> String {
    let (year, month, day) = civil_from_days(time.div_euclid(86_400));
    let secs = time.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The earliest time the 7-byte recording date can hold (1900-01-01T00:00:00Z).
pub const EARLIEST_SHORT_DATE: UnixSeconds = -2_208_988_800;
/// The latest time the 7-byte recording date can hold (2155-12-31T23:59:59Z).
pub const LATEST_SHORT_DATE: UnixSeconds = 5_869_583_999;

/// Encodes ECMA 9.1.5's 7-byte recording date in UTC (offset 0). Times outside 1900..=2155
/// are clamped to the nearest representable second: [`super::Layout::warnings`] names
/// every entry this happens to.
pub fn short_date(time: UnixSeconds) -> [u8; 7] {
    let time = time.clamp(EARLIEST_SHORT_DATE, LATEST_SHORT_DATE);
    let days = time.div_euclid(86_400);
    let secs = time.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    [
        (year - 1900) as u8,
        month as u8,
        day as u8,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        0,
    ]
}

/// Decodes a 7-byte recording date, applying its 15-minute GMT offset. All zeros means
/// "not specified" and gives `None`.
pub fn parse_short_date(bytes: &[u8]) -> Option<UnixSeconds> {
    if bytes.len() < 7 || bytes[..7].iter().all(|&b| b == 0) {
        return None;
    }
    let days = days_from_civil(
        1900 + i64::from(bytes[0]),
        u32::from(bytes[1]).clamp(1, 12),
        u32::from(bytes[2]).clamp(1, 31),
    );
    let offset = i64::from(bytes[6] as i8);
    let offset = if (-48..=52).contains(&offset) {
        offset
    } else {
        0
    };
    Some(
        days * 86_400 + i64::from(bytes[3]) * 3600 + i64::from(bytes[4]) * 60 + i64::from(bytes[5])
            - offset * 15 * 60,
    )
}

/// Decodes a 17-byte dec-datetime (descriptors, long-form TF). `None` when not specified or
/// not digits.
pub fn parse_long_date(bytes: &[u8]) -> Option<UnixSeconds> {
    if bytes.len() < 17 || !bytes[..16].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0'))
    };
    let year = num(0..4);
    if year == 0 {
        return None;
    }
    let days = days_from_civil(
        year,
        num(4..6).clamp(1, 12) as u32,
        num(6..8).clamp(1, 31) as u32,
    );
    let offset = i64::from(bytes[16] as i8);
    let offset = if (-48..=52).contains(&offset) {
        offset
    } else {
        0
    };
    Some(days * 86_400 + num(8..10) * 3600 + num(10..12) * 60 + num(12..14) - offset * 900)
}

/// Encodes ECMA 8.4.26.1's 17-byte dec-datetime in UTC; `None` writes "not specified".
pub fn long_date(time: Option<UnixSeconds>) -> [u8; 17] {
    let mut out = [b'0'; 17];
    out[16] = 0;
    let Some(time) = time else { return out };
    let time = time.clamp(-62_135_596_800, 253_402_300_799); // years 1..=9999
    let (year, month, day) = civil_from_days(time.div_euclid(86_400));
    let secs = time.rem_euclid(86_400);
    let text = format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    out[..16].copy_from_slice(&text.as_bytes()[..16]);
    out
}

/// The identifier of a directory record: the two special one-byte names or a real name.
#[derive(Debug, Clone, Copy)]
pub enum RecordName<'a> {
    /// `.` (the byte 0x00).
    Current,
    /// `..` (the byte 0x01).
    Parent,
    /// A file or directory identifier, already encoded for its tree.
    Named(&'a [u8]),
}

impl RecordName<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            RecordName::Current => &[0],
            RecordName::Parent => &[1],
            RecordName::Named(bytes) => bytes,
        }
    }
}

/// The fixed part of a directory record, before the system use area.
#[derive(Debug, Clone, Copy)]
pub struct RecordHead<'a> {
    pub extent_lba: u32,
    pub data_length: u32,
    pub recorded: UnixSeconds,
    pub flags: u8,
    pub name: RecordName<'a>,
}

/// Length of a directory record's fixed part plus identifier padding (where the SUA starts).
pub fn record_head_len(name_len: usize) -> usize {
    33 + name_len + usize::from(name_len.is_multiple_of(2))
}

/// Appends a directory record (ECMA 9.1) with `system_use` as its SUA, padding the whole
/// record to an even length. The caller guarantees the total stays within 255 bytes.
pub fn put_directory_record(out: &mut Vec<u8>, head: &RecordHead<'_>, system_use: &[u8]) {
    let name = head.name.bytes();
    let mut len = record_head_len(name.len()) + system_use.len();
    len += len % 2;
    debug_assert!(len <= 255, "directory record of {len} bytes");
    let start = out.len();
    out.push(len as u8);
    out.push(0); // extended attribute record length
    put_u32_both(out, head.extent_lba);
    put_u32_both(out, head.data_length);
    out.extend_from_slice(&short_date(head.recorded));
    out.push(head.flags);
    out.push(0); // file unit size
    out.push(0); // interleave gap
    put_u16_both(out, 1); // volume sequence number
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    if name.len().is_multiple_of(2) {
        out.push(0);
    }
    out.extend_from_slice(system_use);
    out.resize(start + len, 0);
}

/// Length of one path-table record with an identifier of `name_len` bytes.
pub fn path_record_len(name_len: usize) -> usize {
    8 + name_len + name_len % 2
}

/// Appends one path-table record (ECMA 9.4) in little- or big-endian form.
pub fn put_path_record(out: &mut Vec<u8>, name: &[u8], extent: u32, parent: u16, big: bool) {
    out.push(name.len() as u8);
    out.push(0);
    if big {
        out.extend_from_slice(&extent.to_be_bytes());
        out.extend_from_slice(&parent.to_be_bytes());
    } else {
        out.extend_from_slice(&extent.to_le_bytes());
        out.extend_from_slice(&parent.to_le_bytes());
    }
    out.extend_from_slice(name);
    if name.len() % 2 == 1 {
        out.push(0);
    }
}

/// Which volume descriptor: the primary (ISO names) or the Joliet supplementary one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorKind {
    Primary,
    Joliet,
}

/// What a primary or Joliet volume descriptor records about its tree and the volume.
#[derive(Debug, Clone)]
pub struct VolumeDescriptor<'a> {
    pub kind: DescriptorKind,
    pub volume_id: &'a str,
    pub volume_blocks: u32,
    pub path_table_bytes: u32,
    pub path_table_l_lba: u32,
    pub path_table_m_lba: u32,
    pub root_lba: u32,
    pub root_bytes: u32,
    pub volume_time: UnixSeconds,
}

/// Writes a text field: d/a-characters in the PVD (space padded), UCS-2BE in the Joliet SVD
/// (U+0020 padded, and a trailing 0x00 byte when the field length is odd).
fn put_text_field(block: &mut [u8], kind: DescriptorKind, text: &str) {
    match kind {
        DescriptorKind::Primary => {
            block.fill(b' ');
            for (slot, byte) in block.iter_mut().zip(text.bytes()) {
                *slot = byte;
            }
        }
        DescriptorKind::Joliet => {
            let units: Vec<u16> = text.encode_utf16().collect();
            for (index, pair) in block.chunks_exact_mut(2).enumerate() {
                let unit = units.get(index).copied().unwrap_or(0x20);
                pair.copy_from_slice(&unit.to_be_bytes());
            }
            if block.len() % 2 == 1 {
                let last = block.len() - 1;
                block[last] = 0;
            }
        }
    }
}

/// Encodes a primary or Joliet supplementary volume descriptor (one 2048-byte block).
pub fn volume_descriptor(vd: &VolumeDescriptor<'_>) -> Vec<u8> {
    let mut block = vec![0u8; BLOCK_USIZE];
    block[0] = match vd.kind {
        DescriptorKind::Primary => 1,
        DescriptorKind::Joliet => 2,
    };
    block[1..6].copy_from_slice(b"CD001");
    block[6] = 1;
    put_text_field(&mut block[8..40], vd.kind, "");
    put_text_field(&mut block[40..72], vd.kind, vd.volume_id);
    let mut numbers = Vec::with_capacity(64);
    put_u32_both(&mut numbers, vd.volume_blocks);
    block[80..88].copy_from_slice(&numbers);
    if vd.kind == DescriptorKind::Joliet {
        block[88..91].copy_from_slice(b"%/E"); // UCS-2 level 3
    }
    numbers.clear();
    put_u16_both(&mut numbers, 1); // volume set size
    put_u16_both(&mut numbers, 1); // volume sequence number
    put_u16_both(&mut numbers, BLOCK as u16);
    put_u32_both(&mut numbers, vd.path_table_bytes);
    numbers.extend_from_slice(&vd.path_table_l_lba.to_le_bytes());
    numbers.extend_from_slice(&0u32.to_le_bytes());
    numbers.extend_from_slice(&vd.path_table_m_lba.to_be_bytes());
    numbers.extend_from_slice(&0u32.to_be_bytes());
    block[120..156].copy_from_slice(&numbers);
    let mut root = Vec::with_capacity(34);
    put_directory_record(
        &mut root,
        &RecordHead {
            extent_lba: vd.root_lba,
            data_length: vd.root_bytes,
            recorded: vd.volume_time,
            flags: FLAG_DIRECTORY,
            name: RecordName::Current,
        },
        &[],
    );
    block[156..190].copy_from_slice(&root);
    put_text_field(&mut block[190..318], vd.kind, ""); // volume set
    put_text_field(&mut block[318..446], vd.kind, ""); // publisher
    put_text_field(&mut block[446..574], vd.kind, ""); // data preparer
    put_text_field(&mut block[574..702], vd.kind, "BURNSTATION");
    for field in [702..739, 739..776, 776..813] {
        put_text_field(&mut block[field], vd.kind, "");
    }
    let created = long_date(Some(vd.volume_time));
    block[813..830].copy_from_slice(&created);
    block[830..847].copy_from_slice(&created);
    block[847..864].copy_from_slice(&long_date(None));
    block[864..881].copy_from_slice(&long_date(None));
    block[881] = 1; // file structure version
    if vd.kind == DescriptorKind::Primary {
        block[883..1395].fill(b' ');
    }
    block
}

/// The volume descriptor set terminator.
pub fn terminator() -> Vec<u8> {
    let mut block = vec![0u8; BLOCK_USIZE];
    block[0] = 255;
    block[1..6].copy_from_slice(b"CD001");
    block[6] = 1;
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_endian_numbers_mirror_each_other() {
        let mut out = Vec::new();
        put_u32_both(&mut out, 0x0102_0304);
        put_u16_both(&mut out, 0x0506);
        assert_eq!(out, [4, 3, 2, 1, 1, 2, 3, 4, 6, 5, 5, 6]);
    }

    #[test]
    fn dates_round_trip_before_1970_and_after_2038() {
        for time in [0, -315_619_200, 2_208_988_800, 4_107_542_400, 1_700_000_000] {
            assert_eq!(parse_short_date(&short_date(time)), Some(time), "{time}");
            assert_eq!(
                parse_long_date(&long_date(Some(time))),
                Some(time),
                "{time}"
            );
        }
        // 1960-01-01T00:00:00Z is year byte 60.
        assert_eq!(short_date(-315_619_200), [60, 1, 1, 0, 0, 0, 0]);
        assert_eq!(&long_date(Some(0))[..16], b"1970010100000000");
        assert_eq!(long_date(None), *b"0000000000000000\0");
    }

    #[test]
    fn dates_outside_the_short_range_are_clamped() {
        assert_eq!(short_date(i64::MIN), short_date(EARLIEST_SHORT_DATE));
        assert_eq!(short_date(i64::MAX)[0], 255);
    }

    #[test]
    fn directory_records_pad_even_identifiers_and_odd_lengths() {
        let mut out = Vec::new();
        let head = RecordHead {
            extent_lba: 20,
            data_length: 2048,
            recorded: 0,
            flags: FLAG_DIRECTORY,
            name: RecordName::Named(b"AB"),
        };
        put_directory_record(&mut out, &head, &[9, 9, 9]);
        // 33 + 2 + pad 1 = 36, + 3 SUA = 39, padded to 40.
        assert_eq!(out.len(), 40);
        assert_eq!(out[0], 40);
        assert_eq!(&out[33..36], b"AB\0");
        assert_eq!(&out[36..40], &[9, 9, 9, 0]);
        assert_eq!(&out[2..10], &[20, 0, 0, 0, 0, 0, 0, 20]);
    }

    #[test]
    fn descriptors_keep_reserved_bytes_zero() {
        let vd = VolumeDescriptor {
            kind: DescriptorKind::Joliet,
            volume_id: "Backup",
            volume_blocks: 1000,
            path_table_bytes: 10,
            path_table_l_lba: 20,
            path_table_m_lba: 21,
            root_lba: 22,
            root_bytes: 2048,
            volume_time: 0,
        };
        let block = volume_descriptor(&vd);
        assert_eq!(&block[1..7], b"CD001\x01");
        assert_eq!(block[7], 0);
        assert!(block[72..80].iter().all(|&b| b == 0));
        assert_eq!(&block[88..91], b"%/E");
        assert!(block[91..120].iter().all(|&b| b == 0));
        assert_eq!(&block[40..46], &[0, b'B', 0, b'a', 0, b'c']);
        assert_eq!(block[881], 1);
        assert_eq!(block[882], 0);
        assert!(block[1395..].iter().all(|&b| b == 0));
        assert_eq!(block[156], 34);
    }
}

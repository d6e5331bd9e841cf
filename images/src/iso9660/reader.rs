//! The reader: opens an ISO 9660 image from any `Read + Seek` (a file, or a disc read with
//! READ(10)), lists its tree and gives back file contents, or extracts everything.
//!
//! It prefers the Rock Ridge tree (names, modes, owners, times, symlinks, hard links), falls
//! back to Joliet, then to plain ISO 9660 names. It reads images made by xorriso and
//! genisoimage too: 36- and 44-byte PX, short and long TF, NM/SL across CE continuation
//! areas, multi-extent files, and genisoimage's relocated deep directories (CL/RE, with the
//! `rr_moved` directory hidden). Each directory extent is read in one piece, so the reader
//! seeks once per directory and once per continuation block, not per record.
//!
//! It never trusts the image: names with `/`, `.`/`..` and loops are refused. Extracting a
//! whole tree onto disk is `extract`'s job, on top of this reader's entries and files.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::layout::Extent;
use super::records::{
    BLOCK, BLOCK_USIZE, FLAG_DIRECTORY, FLAG_MULTI_EXTENT, UnixSeconds, get_u32_both,
    parse_long_date, parse_short_date,
};

/// Directory extents larger than this are refused as corrupt (a directory of 100 000
/// long-named entries is about 25 MiB).
const MAX_DIRECTORY_BYTES: u64 = 256 << 20;
/// Continuation hops followed per record (Linux follows 32).
const MAX_CE_HOPS: usize = 32;
/// How deep a tree may be before the reader calls it a loop.
const MAX_DEPTH: usize = 1000;

/// Which of the image's trees the reader is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    RockRidge,
    Joliet,
    Iso9660,
}

/// What the volume descriptors say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub volume_id: String,
    pub volume_blocks: u64,
    pub created: Option<UnixSeconds>,
    pub has_joliet: bool,
    pub has_rock_ridge: bool,
}

/// What kind of entry the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsoEntryKind {
    File,
    Directory,
    Symlink { target: Vec<u8> },
}

/// One entry of the image's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoEntry {
    /// Path relative to the root, `/`-separated, raw bytes.
    pub path: Vec<u8>,
    pub kind: IsoEntryKind,
    pub size: u64,
    /// Full `st_mode` (type bits included); synthesised as 0444/0555 without Rock Ridge.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    /// Rock Ridge's PX serial number (`st_ino`), when the image has one: equal serials with
    /// `nlink > 1` are hard links.
    pub serial: Option<u32>,
    pub mtime: UnixSeconds,
    /// Where the data is, in order (empty for directories and symlinks).
    pub extents: Vec<Extent>,
}

/// Why an image could not be read or extracted.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the image at block {lba} ({cause}); check the disc or the file")]
    Io { lba: u64, cause: io::Error },
    #[error(
        "this is not an ISO 9660 image (no primary volume descriptor at block 16); check that the right file or disc was given"
    )]
    NotIso9660,
    #[error("the image is damaged: {what}; it cannot be read reliably")]
    Corrupt { what: String },
    #[error("the image holds an entry with an unsafe path {path:?}; refusing to extract it")]
    UnsafePath { path: String },
    #[error(
        "cannot write {path} while extracting ({cause}); check the destination's space and permissions"
    )]
    Extract { path: PathBuf, cause: io::Error },
}

fn corrupt(what: impl Into<String>) -> ReadError {
    ReadError::Corrupt { what: what.into() }
}

/// An opened image.
#[derive(Debug)]
pub struct IsoImage<R> {
    reader: R,
    volume: VolumeInfo,
    tree: TreeKind,
    entries: Vec<IsoEntry>,
}

/// The Rock Ridge fields of one record, gathered across its SUA and continuation areas.
#[derive(Debug, Default)]
struct RockRidge {
    name: Option<Vec<u8>>,
    name_continues: bool,
    mode: Option<u32>,
    nlink: u32,
    uid: u32,
    gid: u32,
    serial: Option<u32>,
    mtime: Option<UnixSeconds>,
    symlink: Option<Vec<u8>>,
    symlink_continues: bool,
    symlink_separator: bool,
    child_link: Option<u32>,
    relocated: bool,
}

/// A raw directory record.
#[derive(Debug)]
struct RawRecord {
    lba: u32,
    size: u32,
    recorded: Option<UnixSeconds>,
    flags: u8,
    name: Vec<u8>,
    rr: RockRidge,
}

/// A directory still to be walked.
#[derive(Debug)]
struct PendingDir {
    lba: u32,
    size: u32,
    path: Vec<u8>,
    depth: usize,
}

impl<R: Read + Seek> IsoImage<R> {
    /// Reads the volume descriptors and the whole tree (Rock Ridge, else Joliet, else ISO).
    pub fn open(reader: R) -> Result<IsoImage<R>, ReadError> {
        let mut image = IsoImage {
            reader,
            volume: VolumeInfo {
                volume_id: String::new(),
                volume_blocks: 0,
                created: None,
                has_joliet: false,
                has_rock_ridge: false,
            },
            tree: TreeKind::Iso9660,
            entries: Vec::new(),
        };
        let mut primary_root = None;
        let mut joliet_root = None;
        for lba in 16..116u64 {
            let block = image.read_blocks(lba, BLOCK)?;
            if &block[1..6] != b"CD001" {
                break;
            }
            let root = (
                get_u32_both(&block[158..166]),
                get_u32_both(&block[166..174]),
            );
            match block[0] {
                1 if primary_root.is_none() => {
                    primary_root = Some(root);
                    image.volume.volume_id = String::from_utf8_lossy(&block[40..72])
                        .trim_end()
                        .to_string();
                    image.volume.volume_blocks = u64::from(get_u32_both(&block[80..88]));
                    image.volume.created = parse_long_date(&block[813..830]);
                }
                2 if block[88] == b'%'
                    && block[89] == b'/'
                    && matches!(block[90], b'@' | b'C' | b'E') =>
                {
                    joliet_root = Some(root);
                }
                255 => break,
                _ => {}
            }
        }
        let Some(primary_root) = primary_root else {
            return Err(ReadError::NotIso9660);
        };
        image.volume.has_joliet = joliet_root.is_some();
        // Rock Ridge: SP at the start of the root `.` record's system use area.
        let root_block = image.read_blocks(u64::from(primary_root.0), BLOCK)?;
        let first_len = usize::from(root_block[0]);
        if first_len >= 34 && first_len <= root_block.len() {
            let record = &root_block[..first_len];
            let sua = &record[34..];
            image.volume.has_rock_ridge =
                sua.len() >= 7 && &sua[..2] == b"SP" && sua[4] == 0xBE && sua[5] == 0xEF;
        }
        let (tree, root) = if image.volume.has_rock_ridge {
            (TreeKind::RockRidge, primary_root)
        } else if let Some(root) = joliet_root {
            (TreeKind::Joliet, root)
        } else {
            (TreeKind::Iso9660, primary_root)
        };
        image.tree = tree;
        image.walk(root)?;
        Ok(image)
    }

    /// What the volume descriptors say.
    pub fn volume(&self) -> &VolumeInfo {
        &self.volume
    }

    /// Which tree the entries come from.
    pub fn tree(&self) -> TreeKind {
        self.tree
    }

    /// Every entry, parents before their children, each directory's entries by name.
    pub fn entries(&self) -> &[IsoEntry] {
        &self.entries
    }

    /// The entry at `path`, if any.
    pub fn entry(&self, path: &[u8]) -> Option<&IsoEntry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// A reader of a file's contents.
    pub fn open_file(&mut self, entry: &IsoEntry) -> FileReader<'_, R> {
        FileReader {
            image: &mut self.reader,
            extents: entry.extents.clone(),
            index: 0,
            offset: 0,
            positioned: false,
        }
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    fn read_blocks(&mut self, lba: u64, len: u64) -> Result<Vec<u8>, ReadError> {
        let io_error = |cause| ReadError::Io { lba, cause };
        self.reader
            .seek(SeekFrom::Start(lba * BLOCK))
            .map_err(io_error)?;
        // Grown as bytes arrive, so a damaged length cannot allocate more than exists.
        let mut out = Vec::with_capacity(len.min(1 << 20) as usize);
        (&mut self.reader)
            .take(len)
            .read_to_end(&mut out)
            .map_err(io_error)?;
        if (out.len() as u64) < len {
            return Err(io_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the image ends before this block",
            )));
        }
        Ok(out)
    }

    fn walk(&mut self, root: (u32, u32)) -> Result<(), ReadError> {
        let mut stack = vec![PendingDir {
            lba: root.0,
            size: root.1,
            path: Vec::new(),
            depth: 0,
        }];
        let mut visited: HashSet<u32> = HashSet::new();
        let mut ce_cache: HashMap<u64, Vec<u8>> = HashMap::new();
        while let Some(dir) = stack.pop() {
            if !visited.insert(dir.lba) || dir.depth > MAX_DEPTH {
                return Err(corrupt(format!(
                    "directory {:?} loops back on itself",
                    String::from_utf8_lossy(&dir.path)
                )));
            }
            // Checked before allocating: a damaged size must not cost gigabytes of memory.
            let end = (u64::from(dir.lba) + u64::from(dir.size).div_ceil(BLOCK)) * BLOCK;
            let volume_end = self.volume.volume_blocks * BLOCK;
            if u64::from(dir.size) > MAX_DIRECTORY_BYTES || (volume_end > 0 && end > volume_end) {
                return Err(corrupt(format!(
                    "a directory at block {} claims {} bytes, beyond the volume",
                    dir.lba, dir.size
                )));
            }
            ce_cache.clear();
            let records = self.read_directory(dir.lba, dir.size, &mut ce_cache)?;
            let mut children: Vec<IsoEntry> = Vec::new();
            let mut subdirs = Vec::new();
            let mut relocated_children = 0;
            let mut continuing: Option<Vec<u8>> = None;
            for record in records {
                if record.rr.relocated {
                    relocated_children += 1;
                    continue;
                }
                let name = self.display_name(&record);
                if name.is_empty() || name == b"." || name == b".." {
                    return Err(ReadError::UnsafePath {
                        path: String::from_utf8_lossy(&name).into_owned(),
                    });
                }
                // Further extents of a multi-extent file: the records that follow one with
                // the multi-extent flag and carry the same name.
                if let (Some(previous), Some(last)) = (&continuing, children.last_mut())
                    && *previous == name
                    && last.kind == IsoEntryKind::File
                {
                    last.extents.push(Extent {
                        lba: u64::from(record.lba),
                        length: u64::from(record.size),
                    });
                    last.size += u64::from(record.size);
                    if record.flags & FLAG_MULTI_EXTENT == 0 {
                        continuing = None;
                    }
                    continue;
                }
                continuing = None;
                let mut path = dir.path.clone();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(&name);
                let is_dir = record.flags & FLAG_DIRECTORY != 0 || record.rr.child_link.is_some();
                let mode_default = if is_dir { 0o040555 } else { 0o100444 };
                let mode = record.rr.mode.unwrap_or(mode_default);
                let kind = if is_dir {
                    IsoEntryKind::Directory
                } else if let Some(target) = record.rr.symlink.clone() {
                    IsoEntryKind::Symlink { target }
                } else {
                    IsoEntryKind::File
                };
                let mtime = record.rr.mtime.or(record.recorded).unwrap_or(0);
                if is_dir {
                    let (lba, size) = match record.rr.child_link {
                        Some(lba) => (lba, self.directory_size(lba)?),
                        None => (record.lba, record.size),
                    };
                    subdirs.push(PendingDir {
                        lba,
                        size,
                        path: path.clone(),
                        depth: dir.depth + 1,
                    });
                }
                let extents = if kind == IsoEntryKind::File {
                    vec![Extent {
                        lba: u64::from(record.lba),
                        length: u64::from(record.size),
                    }]
                } else {
                    Vec::new()
                };
                if record.flags & FLAG_MULTI_EXTENT != 0 && kind == IsoEntryKind::File {
                    continuing = Some(name.clone());
                }
                let nlink = record.rr.nlink.max(1);
                children.push(IsoEntry {
                    path,
                    size: if kind == IsoEntryKind::File {
                        u64::from(record.size)
                    } else {
                        0
                    },
                    kind,
                    mode,
                    uid: record.rr.uid,
                    gid: record.rr.gid,
                    nlink,
                    serial: record.rr.serial,
                    mtime,
                    extents,
                });
            }
            // genisoimage's relocation directory: hidden once its children are relocated.
            if dir.depth == 1
                && relocated_children > 0
                && children.is_empty()
                && dir.path.eq_ignore_ascii_case(b"rr_moved")
            {
                self.entries.retain(|e| e.path != dir.path);
            }
            children.sort_by(|a, b| a.path.cmp(&b.path));
            self.entries.extend(children);
            subdirs.sort_by(|a, b| b.path.cmp(&a.path));
            stack.extend(subdirs);
        }
        Ok(())
    }

    /// Size of a relocated directory, from its own `.` record.
    fn directory_size(&mut self, lba: u32) -> Result<u32, ReadError> {
        let block = self.read_blocks(u64::from(lba), BLOCK)?;
        if block[0] < 34 {
            return Err(corrupt(format!(
                "relocated directory at block {lba} has no `.`"
            )));
        }
        Ok(get_u32_both(&block[10..18]))
    }

    fn display_name(&self, record: &RawRecord) -> Vec<u8> {
        let raw = match self.tree {
            TreeKind::RockRidge => match &record.rr.name {
                Some(name) => name.clone(),
                None => plain_iso_name(&record.name),
            },
            TreeKind::Joliet => {
                let units: Vec<u16> = record
                    .name
                    .chunks_exact(2)
                    .map(|p| u16::from_be_bytes([p[0], p[1]]))
                    .collect();
                let name = String::from_utf16_lossy(&units);
                let name = name.strip_suffix(";1").unwrap_or(&name);
                name.as_bytes().to_vec()
            }
            TreeKind::Iso9660 => plain_iso_name(&record.name),
        };
        raw.into_iter()
            .map(|b| if b == b'/' || b == 0 { b'_' } else { b })
            .collect()
    }

    /// Reads one directory extent and parses its records (`.` and `..` left out).
    fn read_directory(
        &mut self,
        lba: u32,
        size: u32,
        ce_cache: &mut HashMap<u64, Vec<u8>>,
    ) -> Result<Vec<RawRecord>, ReadError> {
        let bytes = self.read_blocks(u64::from(lba), u64::from(size).div_ceil(BLOCK) * BLOCK)?;
        let mut out = Vec::new();
        let mut at = 0usize;
        let rock_ridge = self.tree == TreeKind::RockRidge;
        while at < size as usize {
            let len = usize::from(bytes[at]);
            if len == 0 {
                at = (at / BLOCK_USIZE + 1) * BLOCK_USIZE;
                continue;
            }
            if len < 34 || at + len > bytes.len() {
                return Err(corrupt(format!(
                    "a directory record at block {lba} is malformed"
                )));
            }
            let record = &bytes[at..at + len];
            at += len;
            let name_len = usize::from(record[32]);
            if 33 + name_len > len {
                return Err(corrupt(format!(
                    "a directory record at block {lba} overflows"
                )));
            }
            let name = record[33..33 + name_len].to_vec();
            if name == [0] || name == [1] {
                continue;
            }
            let mut rr = RockRidge::default();
            if rock_ridge {
                let sua_start = 33 + name_len + usize::from(name_len.is_multiple_of(2));
                if sua_start < len {
                    self.parse_system_use(&record[sua_start..], &mut rr, ce_cache)?;
                }
            }
            out.push(RawRecord {
                lba: get_u32_both(&record[2..10]),
                size: get_u32_both(&record[10..18]),
                recorded: parse_short_date(&record[18..25]),
                flags: record[25],
                name,
                rr,
            });
        }
        Ok(out)
    }

    fn parse_system_use(
        &mut self,
        sua: &[u8],
        rr: &mut RockRidge,
        ce_cache: &mut HashMap<u64, Vec<u8>>,
    ) -> Result<(), ReadError> {
        let mut area = sua.to_vec();
        for _ in 0..MAX_CE_HOPS {
            let next = parse_entries(&area, rr);
            let Some((lba, offset, len)) = next else {
                return Ok(());
            };
            let (lba, offset, len) = (u64::from(lba), offset as usize, len as usize);
            if offset + len > BLOCK_USIZE {
                return Err(corrupt(format!(
                    "a continuation area at block {lba} crosses its block"
                )));
            }
            let block = match ce_cache.entry(lba) {
                std::collections::hash_map::Entry::Occupied(cached) => cached.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(self.read_blocks(lba, BLOCK)?)
                }
            };
            area = block[offset..offset + len].to_vec();
        }
        Ok(())
    }
}

/// `NAME.EXT;1` -> `NAME.EXT`, `NAME.;1` -> `NAME`.
fn plain_iso_name(raw: &[u8]) -> Vec<u8> {
    let mut name = raw;
    if let Some(pos) = name.iter().position(|&b| b == b';') {
        name = &name[..pos];
    }
    if let Some(stripped) = name.strip_suffix(b".") {
        name = stripped;
    }
    name.to_vec()
}

/// Parses SUSP entries into `rr`; returns the CE pointer, if any.
fn parse_entries(mut data: &[u8], rr: &mut RockRidge) -> Option<(u32, u32, u32)> {
    let mut continuation = None;
    while data.len() >= 4 {
        let len = usize::from(data[2]);
        if len < 4 || len > data.len() {
            break;
        }
        let (entry, rest) = data.split_at(len);
        data = rest;
        let body = &entry[4..];
        match &entry[..2] {
            b"CE" if body.len() >= 24 => {
                continuation = Some((
                    get_u32_both(&body[0..8]),
                    get_u32_both(&body[8..16]),
                    get_u32_both(&body[16..24]),
                ));
            }
            b"ST" => break,
            b"PX" if body.len() >= 32 => {
                rr.mode = Some(get_u32_both(&body[0..8]));
                rr.nlink = get_u32_both(&body[8..16]);
                rr.uid = get_u32_both(&body[16..24]);
                rr.gid = get_u32_both(&body[24..32]);
                if body.len() >= 40 {
                    rr.serial = Some(get_u32_both(&body[32..40]));
                }
            }
            b"NM" if !body.is_empty() => {
                let flags = body[0];
                if flags & 0x06 != 0 {
                    continue; // `.` / `..` names are implied
                }
                let name = rr.name.get_or_insert_with(Vec::new);
                if !rr.name_continues {
                    name.clear();
                }
                name.extend_from_slice(&body[1..]);
                rr.name_continues = flags & 1 != 0;
            }
            b"SL" if !body.is_empty() => parse_sl(body, rr),
            b"TF" if !body.is_empty() => {
                let flags = body[0];
                let width = if flags & 0x80 != 0 { 17 } else { 7 };
                let mut at = 1;
                for bit in 0..7 {
                    if flags & (1 << bit) == 0 {
                        continue;
                    }
                    if at + width > body.len() {
                        break;
                    }
                    if bit == 1 {
                        let stamp = &body[at..at + width];
                        rr.mtime = if width == 7 {
                            parse_short_date(stamp)
                        } else {
                            parse_long_date(stamp)
                        };
                    }
                    at += width;
                }
            }
            b"CL" if body.len() >= 8 => rr.child_link = Some(get_u32_both(&body[0..8])),
            b"RE" => rr.relocated = true,
            _ => {}
        }
    }
    continuation
}

fn parse_sl(body: &[u8], rr: &mut RockRidge) {
    let target = rr.symlink.get_or_insert_with(Vec::new);
    if !rr.symlink_continues {
        target.clear();
        rr.symlink_separator = false;
    }
    rr.symlink_continues = body[0] & 1 != 0;
    let mut comps = &body[1..];
    while comps.len() >= 2 {
        let (flags, len) = (comps[0], usize::from(comps[1]));
        if 2 + len > comps.len() {
            break;
        }
        if rr.symlink_separator {
            target.push(b'/');
        }
        rr.symlink_separator = true;
        match flags & !1 {
            0x08 => {
                target.push(b'/');
                rr.symlink_separator = false;
            }
            0x02 => target.push(b'.'),
            0x04 => target.extend_from_slice(b".."),
            _ => target.extend_from_slice(&comps[2..2 + len]),
        }
        if flags & 1 != 0 {
            rr.symlink_separator = false;
        }
        comps = &comps[2 + len..];
    }
}

/// Reads one file's bytes over its extents.
#[derive(Debug)]
pub struct FileReader<'a, R> {
    image: &'a mut R,
    extents: Vec<Extent>,
    index: usize,
    offset: u64,
    positioned: bool,
}

impl<R: Read + Seek> Read for FileReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(extent) = self.extents.get(self.index).copied() else {
                return Ok(0);
            };
            if self.offset >= extent.length {
                self.index += 1;
                self.offset = 0;
                self.positioned = false;
                continue;
            }
            if !self.positioned {
                self.image
                    .seek(SeekFrom::Start(extent.lba * BLOCK + self.offset))?;
                self.positioned = true;
            }
            let want = (extent.length - self.offset).min(buf.len() as u64) as usize;
            let n = self.image.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the image ends inside a file's data",
                ));
            }
            self.offset += n as u64;
            return Ok(n);
        }
    }
}

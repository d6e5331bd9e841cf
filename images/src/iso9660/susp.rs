//! System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP) entries for the ISO tree:
//! building PX, TF, NM, SL, SP, ER and CE, and spreading them over a directory record's
//! system use area and continuation areas.
//!
//! Rules this module keeps (see docs/iso9660.md): SP first in the root `.`; PX is the 44-byte
//! form with a unique, non-zero serial; TF is the short form with modify/access/change;
//! NM is never written for `.`/`..`; a symlink target that needs several SL entries is split
//! inside a component (continue flag set), never at a component boundary; no continuation
//! area is longer than one block. It does not decide LBAs: continuation pointers are patched
//! in once the layout has placed the areas.

use super::records::{BLOCK_USIZE, UnixSeconds, put_u32_both, short_date};

/// Length of a CE entry.
pub const CE_LEN: usize = 28;
/// The most data bytes one NM or SL entry can hold after its 5-byte header.
const ENTRY_DATA_MAX: usize = 250;
/// The Rock Ridge extension identifier we announce in ER (RRIP 1.10's, which every reader,
/// old FreeBSD included, accepts; libisofs writes the 44-byte PX under it too).
pub const ER_ID: &[u8] = b"RRIP_1991A";
const ER_DESCRIPTION: &[u8] =
    b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SOURCE: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

/// The POSIX attributes Rock Ridge records for one directory record.
#[derive(Debug, Clone, Copy)]
pub struct PosixAttributes {
    /// Full `st_mode`, file type bits included.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    /// The PX serial number (RRIP 1.12 `st_ino`): unique per inode, never zero.
    pub serial: u32,
    pub mtime: UnixSeconds,
}

/// One piece of system use data waiting to be placed.
#[derive(Debug, Clone)]
pub enum SuspItem<'a> {
    /// A complete entry that is never split.
    Entry(Vec<u8>),
    /// A Rock Ridge name, split over several NM entries where room runs out.
    Name(&'a [u8]),
}

/// Where a CE entry sits inside a byte buffer, so the layout can fill in its pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemUse {
    /// The bytes that go into the directory record itself.
    pub record: Vec<u8>,
    /// Continuation areas in chain order; each one at most a block long.
    pub areas: Vec<Vec<u8>>,
}

fn header(out: &mut Vec<u8>, signature: &[u8; 2], len: usize) {
    out.extend_from_slice(signature);
    out.push(len as u8);
    out.push(1);
}

/// SP: "SUSP is in use", first entry of the root directory's `.` record.
pub fn sp() -> Vec<u8> {
    vec![b'S', b'P', 7, 1, 0xBE, 0xEF, 0]
}

/// ER: which extension the SUSP entries belong to (Rock Ridge).
pub fn er() -> Vec<u8> {
    let len = 8 + ER_ID.len() + ER_DESCRIPTION.len() + ER_SOURCE.len();
    let mut out = Vec::with_capacity(len);
    header(&mut out, b"ER", len);
    out.push(ER_ID.len() as u8);
    out.push(ER_DESCRIPTION.len() as u8);
    out.push(ER_SOURCE.len() as u8);
    out.push(1);
    out.extend_from_slice(ER_ID);
    out.extend_from_slice(ER_DESCRIPTION);
    out.extend_from_slice(ER_SOURCE);
    out
}

/// PX, RRIP 1.12's 44-byte form (mode, links, uid, gid, serial).
pub fn px(attrs: &PosixAttributes) -> Vec<u8> {
    let mut out = Vec::with_capacity(44);
    header(&mut out, b"PX", 44);
    put_u32_both(&mut out, attrs.mode);
    put_u32_both(&mut out, attrs.nlink);
    put_u32_both(&mut out, attrs.uid);
    put_u32_both(&mut out, attrs.gid);
    put_u32_both(&mut out, attrs.serial);
    out
}

/// TF, short form, with modify, access and attribute-change times (all the mtime: the
/// source's atime and ctime say nothing about the backup).
pub fn tf(mtime: UnixSeconds) -> Vec<u8> {
    let mut out = Vec::with_capacity(26);
    header(&mut out, b"TF", 26);
    out.push(0x0E);
    for _ in 0..3 {
        out.extend_from_slice(&short_date(mtime));
    }
    out
}

/// A CE entry pointing at a continuation area.
pub fn ce(lba: u32, offset: u32, len: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(CE_LEN);
    header(&mut out, b"CE", CE_LEN);
    put_u32_both(&mut out, lba);
    put_u32_both(&mut out, offset);
    put_u32_both(&mut out, len);
    out
}

fn nm(part: &[u8], continues: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + part.len());
    header(&mut out, b"NM", 5 + part.len());
    out.push(u8::from(continues));
    out.extend_from_slice(part);
    out
}

/// One symlink target component as SL writes it.
#[derive(Debug, Clone, Copy)]
enum Component<'a> {
    Root,
    Current,
    Parent,
    Name(&'a [u8]),
}

fn components(target: &[u8]) -> Vec<Component<'_>> {
    let mut out = Vec::new();
    if target.first() == Some(&b'/') {
        out.push(Component::Root);
    }
    let parts: Vec<&[u8]> = target.split(|&b| b == b'/').collect();
    let last = parts.len().saturating_sub(1);
    for (index, part) in parts.into_iter().enumerate() {
        match part {
            b"" if index == 0 || index == last => {}
            // An empty component inside the target (`a//b`): xorriso writes a root component,
            // and every reader gives `//` back.
            b"" => out.push(Component::Root),
            b"." => out.push(Component::Current),
            b".." => out.push(Component::Parent),
            name => out.push(Component::Name(name)),
        }
    }
    out
}

/// Encodes a symlink target as SL entries, each at most 255 bytes. When a target needs more
/// than one entry, every entry but the last ends inside a component with the component's
/// continue flag set, because libarchive does not insert the `/` between entries.
pub fn sl_entries(target: &[u8]) -> Vec<Vec<u8>> {
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut data: Vec<u8> = Vec::new(); // component bytes of the entry being filled
    let finish = |entries: &mut Vec<Vec<u8>>, data: &mut Vec<u8>, continues: bool| {
        let mut out = Vec::with_capacity(5 + data.len());
        header(&mut out, b"SL", 5 + data.len());
        out.push(u8::from(continues));
        out.append(data);
        entries.push(out);
    };
    let comps = components(target);
    let count = comps.len();
    for (index, comp) in comps.into_iter().enumerate() {
        let more_follow = index + 1 < count;
        let mut rest: &[u8] = match comp {
            Component::Name(name) => name,
            _ => &[],
        };
        let flags = match comp {
            Component::Root => 8,
            Component::Current => 2,
            Component::Parent => 4,
            Component::Name(_) => 0,
        };
        loop {
            let room = ENTRY_DATA_MAX - 1 - data.len(); // 1 byte: the SL flags
            let whole = 2 + rest.len();
            // A whole component fits, and leaves room to split the next one if needed.
            if whole <= room && (!more_follow || room - whole >= 3 || flags != 0 || rest.len() < 2)
            {
                data.push(flags);
                data.push(rest.len() as u8);
                data.extend_from_slice(rest);
                break;
            }
            if flags == 0 && room >= 3 && !rest.is_empty() {
                // Split the name: as much as fits (but keep one byte back when it would all
                // fit, so the entry ends inside the component).
                let take = (room - 2).min(rest.len().saturating_sub(1)).max(1);
                data.push(1);
                data.push(take as u8);
                data.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                finish(&mut entries, &mut data, true);
                continue;
            }
            // Rare: a special component with no room left; end the entry at a boundary.
            finish(&mut entries, &mut data, true);
        }
    }
    finish(&mut entries, &mut data, false);
    entries
}

/// The Rock Ridge items of one ISO-tree record, in the order they are placed: PX and TF
/// first (so readers that ignore CE still see them), then NM, then SL.
pub fn record_items<'a>(
    attrs: &PosixAttributes,
    name: Option<&'a [u8]>,
    symlink_target: Option<&[u8]>,
) -> Vec<SuspItem<'a>> {
    let mut items = vec![SuspItem::Entry(px(attrs)), SuspItem::Entry(tf(attrs.mtime))];
    if let Some(name) = name {
        items.push(SuspItem::Name(name));
    }
    if let Some(target) = symlink_target {
        items.extend(sl_entries(target).into_iter().map(SuspItem::Entry));
    }
    items
}

/// Spreads `items` over a record's system use area of `record_budget` bytes and as many
/// continuation areas as needed. CE entries are written with zero pointers; the layout
/// patches them with [`patch_ce`] once the areas have a place.
pub fn split(items: &[SuspItem<'_>], record_budget: usize) -> SystemUse {
    let mut containers: Vec<Vec<u8>> = vec![Vec::new()];
    let mut capacity = record_budget;
    let placeholder = ce(0, 0, 0);
    let count = items.len();
    let next_container = |containers: &mut Vec<Vec<u8>>, capacity: &mut usize| {
        containers
            .last_mut()
            .expect("at least one container")
            .extend_from_slice(&placeholder);
        containers.push(Vec::new());
        *capacity = BLOCK_USIZE;
    };
    for (index, item) in items.iter().enumerate() {
        let reserve = if index + 1 == count { 0 } else { CE_LEN };
        match item {
            SuspItem::Entry(entry) => loop {
                let used = containers.last().map_or(0, Vec::len);
                if used + entry.len() + reserve <= capacity {
                    containers
                        .last_mut()
                        .expect("container")
                        .extend_from_slice(entry);
                    break;
                }
                next_container(&mut containers, &mut capacity);
            },
            SuspItem::Name(name) => {
                let mut rest: &[u8] = name;
                loop {
                    let used = containers.last().map_or(0, Vec::len);
                    if rest.len() <= ENTRY_DATA_MAX && used + 5 + rest.len() + reserve <= capacity {
                        containers
                            .last_mut()
                            .expect("container")
                            .extend_from_slice(&nm(rest, false));
                        break;
                    }
                    let room = capacity
                        .saturating_sub(used + CE_LEN + 5)
                        .min(ENTRY_DATA_MAX);
                    if room >= 1 {
                        let take = room.min(rest.len() - 1).max(1);
                        containers
                            .last_mut()
                            .expect("container")
                            .extend_from_slice(&nm(&rest[..take], true));
                        rest = &rest[take..];
                        if !rest.is_empty() && rest.len() <= ENTRY_DATA_MAX {
                            let used = containers.last().map_or(0, Vec::len);
                            if used + 5 + rest.len() + reserve <= capacity {
                                continue;
                            }
                        }
                    }
                    next_container(&mut containers, &mut capacity);
                }
            }
        }
    }
    let mut containers = containers.into_iter();
    let record = containers.next().unwrap_or_default();
    SystemUse {
        record,
        areas: containers.collect(),
    }
}

/// Fills in the CE entry at the end of `bytes` (the last 28 bytes) with a real pointer.
pub fn patch_ce(bytes: &mut [u8], lba: u32, offset: u32, len: u32) {
    let start = bytes.len() - CE_LEN;
    debug_assert_eq!(&bytes[start..start + 2], b"CE");
    bytes[start..].copy_from_slice(&ce(lba, offset, len));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joins SL entries back into a target the way a careful reader does.
    fn decode_sl(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut separator = false;
        for entry in entries {
            let mut data = &entry[5..entry[2] as usize];
            while data.len() >= 2 {
                let (flags, len) = (data[0], data[1] as usize);
                if separator {
                    out.push(b'/');
                }
                separator = true;
                match flags & !1 {
                    8 => {
                        out.push(b'/');
                        separator = false;
                    }
                    2 => out.push(b'.'),
                    4 => out.extend_from_slice(b".."),
                    _ => out.extend_from_slice(&data[2..2 + len]),
                }
                if flags & 1 != 0 {
                    separator = false;
                }
                data = &data[2 + len..];
            }
        }
        out
    }

    #[test]
    fn er_has_the_rrip_1991a_texts() {
        assert_eq!(er().len(), 237);
        assert_eq!(er()[2], 237);
    }

    #[test]
    fn short_targets_fit_one_sl_entry() {
        for target in [&b"../x/./y"[..], b"/etc/passwd", b"plain"] {
            let entries = sl_entries(target);
            assert_eq!(entries.len(), 1);
            assert_eq!(decode_sl(&entries), target);
        }
        assert_eq!(sl_entries(b"/")[0], [b'S', b'L', 7, 1, 0, 8, 0]);
    }

    #[test]
    fn long_targets_split_inside_a_component() {
        let target: Vec<u8> = (0..40)
            .map(|i| format!("component{i:02}"))
            .collect::<Vec<_>>()
            .join("/")
            .into_bytes();
        let entries = sl_entries(&target);
        assert!(entries.len() > 1);
        for entry in &entries[..entries.len() - 1] {
            assert_eq!(entry[4], 1, "SL continues");
            assert!(entry.len() <= 255);
            // The last component of a continued entry carries the continue flag.
            let mut data = &entry[5..];
            let mut last_flags = 0;
            while data.len() >= 2 {
                last_flags = data[0];
                data = &data[2 + data[1] as usize..];
            }
            assert_eq!(last_flags & 1, 1);
        }
        assert_eq!(decode_sl(&entries), target);
        let long_name = vec![b'q'; 600];
        assert_eq!(decode_sl(&sl_entries(&long_name)), long_name);
    }

    #[test]
    fn a_long_name_spills_into_a_continuation_area() {
        let attrs = PosixAttributes {
            mode: 0o100644,
            nlink: 1,
            uid: 0,
            gid: 0,
            serial: 1,
            mtime: 0,
        };
        let name = vec![b'n'; 255];
        let items = record_items(&attrs, Some(&name), None);
        let split = split(&items, 254 - 44);
        assert!(split.record.len() <= 210);
        assert_eq!(split.areas.len(), 1);
        assert_eq!(&split.record[split.record.len() - 28..][..2], b"CE");
        // All NM pieces together give the name back.
        let mut joined = Vec::new();
        for chunk in std::iter::once(&split.record).chain(&split.areas) {
            let mut data = &chunk[..];
            while data.len() >= 4 {
                let len = data[2] as usize;
                if &data[..2] == b"NM" {
                    joined.extend_from_slice(&data[5..len]);
                }
                data = &data[len..];
            }
        }
        assert_eq!(joined, name);
    }

    /// Walks the SUSP entries of a record and its continuation areas, checking the SUSP
    /// framing, and returns (joined NM, joined SL entries).
    fn walk_split(split: &SystemUse, budget: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
        assert!(
            split.record.len() <= budget,
            "record SUA {} > {budget}",
            split.record.len()
        );
        let mut name = Vec::new();
        let mut sl = Vec::new();
        let chunks: Vec<&Vec<u8>> = std::iter::once(&split.record).chain(&split.areas).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            assert!(chunk.len() <= BLOCK_USIZE);
            let mut data = &chunk[..];
            let mut saw_ce = false;
            while data.len() >= 4 {
                let len = data[2] as usize;
                assert!(len >= 4 && len <= data.len(), "entry framing");
                match &data[..2] {
                    b"NM" => name.extend_from_slice(&data[5..len]),
                    b"SL" => sl.push(data[..len].to_vec()),
                    b"CE" => saw_ce = true,
                    _ => {}
                }
                data = &data[len..];
            }
            assert!(data.is_empty());
            assert_eq!(
                saw_ce,
                index + 1 < chunks.len(),
                "a CE exactly where more follows"
            );
        }
        (name, sl)
    }

    #[test]
    fn every_name_length_and_budget_splits_and_joins_back() {
        let attrs = PosixAttributes {
            mode: 0o120777,
            nlink: 1,
            uid: 0,
            gid: 0,
            serial: 9,
            mtime: 0,
        };
        for budget in [186, 200, 210, 220] {
            for len in 1..=255 {
                let name = vec![b'a' + (len % 26) as u8; len];
                let split = split(&record_items(&attrs, Some(&name), None), budget);
                assert_eq!(
                    walk_split(&split, budget).0,
                    name,
                    "len {len} budget {budget}"
                );
            }
        }
    }

    #[test]
    fn a_4000_byte_symlink_target_chains_continuation_areas() {
        let attrs = PosixAttributes {
            mode: 0o120777,
            nlink: 1,
            uid: 0,
            gid: 0,
            serial: 9,
            mtime: 0,
        };
        let target: Vec<u8> = (0..400)
            .map(|i| format!("d{i:03}x"))
            .collect::<Vec<_>>()
            .join("/")
            .into_bytes();
        assert!(target.len() > 2000);
        let name = vec![b'n'; 255];
        let split = split(&record_items(&attrs, Some(&name), Some(&target)), 200);
        assert!(
            split.areas.len() >= 2,
            "needs a chain of continuation areas"
        );
        let (joined_name, sl) = walk_split(&split, 200);
        assert_eq!(joined_name, name);
        assert_eq!(decode_sl(&sl), target);
    }
}

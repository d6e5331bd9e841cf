//! A snapshot's entries in a compact form: one fixed 48-byte record per entry and one arena
//! for every name and symlink target, in depth-first pre-order (a directory, then its
//! entries by name bytes, each subdirectory's contents right after it).
//!
//! A million-entry backup tree must be planned on a board with 1 GB of memory; as
//! `SourceEntry` values (a full path and a vector each) it would take about 250 bytes per
//! entry, here about 70. Paths are rebuilt from the parent links when they are needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::iso9660::{EntryKind, LinkIdentity, ScanError, SourceEntry, Timestamp, scan_tree_each};

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    File,
    Symlink,
}

/// One entry, compactly. Indices are positions in [`Snapshot::entries`].
#[derive(Debug, Clone, Copy)]
struct Compact {
    /// File: its size. Symlink: the target's offset in the arena (high 32 bits) and length.
    size: u64,
    mtime: i64,
    name_at: u32,
    parent: u32,
    uid: u32,
    gid: u32,
    /// The hard-link group (files with more than one name), or `NO_LINK`.
    link: u32,
    /// One past the last entry of this entry's subtree (itself + 1 for a non-directory).
    end: u32,
    name_len: u16,
    mode: u16,
    kind: Kind,
}

const NO_LINK: u32 = u32::MAX;

/// Why a snapshot cannot be read for planning.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(
        "the snapshot has more than 4 294 967 295 entries or 4 GiB of names, more than one disc set can describe; split the backup tree"
    )]
    TooLarge,
}

/// A scanned snapshot.
#[derive(Debug)]
pub struct Snapshot {
    root: PathBuf,
    entries: Vec<Compact>,
    arena: Vec<u8>,
    files: u64,
    bytes: u64,
}

/// One entry, as the planner reads it.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    snapshot: &'a Snapshot,
    index: u32,
}

impl Snapshot {
    /// Scans the snapshot at `root` (see [`scan_tree_each`]: special files are refused).
    pub fn scan(root: &Path) -> Result<Snapshot, SnapshotError> {
        let mut builder = Builder::default();
        let mut failed = false;
        scan_tree_each(root, &mut |entry| {
            if !failed && builder.push(entry).is_err() {
                failed = true;
            }
        })?;
        if failed {
            return Err(SnapshotError::TooLarge);
        }
        Ok(builder.finish(root.to_path_buf()))
    }

    /// Builds a snapshot from entries in depth-first pre-order, root first (as
    /// [`scan_tree_each`] hands them over), read from `root` later.
    pub fn from_entries(
        root: PathBuf,
        entries: impl IntoIterator<Item = SourceEntry>,
    ) -> Result<Snapshot, SnapshotError> {
        let mut builder = Builder::default();
        for entry in entries {
            builder.push(entry)?;
        }
        Ok(builder.finish(root))
    }

    /// Where the snapshot's files are read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many entries (the root included).
    pub fn len(&self) -> u32 {
        self.entries.len() as u32
    }

    /// True when even the root is missing (never, for a scanned snapshot).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Regular files (each hard link counted).
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Bytes of all regular files (each hard link counted).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u32) -> EntryRef<'_> {
        EntryRef {
            snapshot: self,
            index,
        }
    }

    /// Appends the path of entry `index` (relative to the root, `/`-separated) to `out`.
    pub fn push_path(&self, index: u32, out: &mut Vec<u8>) {
        let mut chain = Vec::new();
        let mut at = index;
        while at != 0 {
            chain.push(at);
            at = self.entries[at as usize].parent;
        }
        for (n, &part) in chain.iter().rev().enumerate() {
            if n > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(self.entry(part).name());
        }
    }

    /// The path of entry `index`.
    pub fn path(&self, index: u32) -> Vec<u8> {
        let mut out = Vec::new();
        self.push_path(index, &mut out);
        out
    }

    /// The ancestors of `index`, root first, without the root and without `index`.
    pub fn ancestors(&self, index: u32) -> Vec<u32> {
        let mut chain = Vec::new();
        let mut at = self.entries[index as usize].parent;
        while at != 0 {
            chain.push(at);
            at = self.entries[at as usize].parent;
        }
        chain.reverse();
        chain
    }

    /// The direct children of directory `index`, in name order.
    pub fn children(&self, index: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.entries[index as usize].end;
        let mut next = index + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let child = next;
            next = self.entries[child as usize].end;
            Some(child)
        })
    }

    /// True when directory `parent` has a child called `name`.
    pub fn has_child(&self, parent: u32, name: &[u8]) -> bool {
        self.children(parent).any(|c| self.entry(c).name() == name)
    }
}

impl<'a> EntryRef<'a> {
    fn compact(&self) -> &'a Compact {
        &self.snapshot.entries[self.index as usize]
    }

    /// Its position in the snapshot.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Its last path component (empty for the root).
    pub fn name(&self) -> &'a [u8] {
        let c = self.compact();
        &self.snapshot.arena[c.name_at as usize..c.name_at as usize + c.name_len as usize]
    }

    pub fn kind(&self) -> Kind {
        self.compact().kind
    }

    /// The parent directory's index (the root's is 0).
    pub fn parent(&self) -> u32 {
        self.compact().parent
    }

    /// Bytes of a regular file (0 otherwise).
    pub fn size(&self) -> u64 {
        match self.compact().kind {
            Kind::File => self.compact().size,
            _ => 0,
        }
    }

    /// The target of a symlink (empty otherwise).
    pub fn target(&self) -> &'a [u8] {
        let c = self.compact();
        match c.kind {
            Kind::Symlink => {
                let at = (c.size >> 32) as usize;
                let len = (c.size & 0xFFFF_FFFF) as usize;
                &self.snapshot.arena[at..at + len]
            }
            _ => &[],
        }
    }

    /// Permission bits (`st_mode & 0o7777`).
    pub fn mode(&self) -> u32 {
        u32::from(self.compact().mode)
    }

    pub fn mtime(&self) -> i64 {
        self.compact().mtime
    }

    /// The hard-link group of a file with several names in the snapshot.
    pub fn link_group(&self) -> Option<u32> {
        let link = self.compact().link;
        (link != NO_LINK).then_some(link)
    }

    /// The entry as the image layout takes it, at `path` on the disc, `size` bytes long
    /// (a part of a file is shorter than the file).
    pub fn to_source(&self, path: Vec<u8>, size: Option<u64>) -> SourceEntry {
        let c = self.compact();
        let kind = match c.kind {
            Kind::Directory => EntryKind::Directory,
            Kind::File => EntryKind::File {
                size: size.unwrap_or(c.size),
            },
            Kind::Symlink => EntryKind::Symlink {
                target: self.target().to_vec(),
            },
        };
        // Hard links stay linked on a disc that holds several of their names; a part is
        // a file of its own.
        let link = match (c.link, size) {
            (NO_LINK, _) | (_, Some(_)) => LinkIdentity {
                dev: 0,
                ino: 0,
                nlink: 1,
            },
            (group, None) => LinkIdentity {
                dev: 0,
                ino: u64::from(group) + 1,
                nlink: 2,
            },
        };
        SourceEntry {
            path,
            kind,
            mode: u32::from(c.mode),
            uid: c.uid,
            gid: c.gid,
            mtime: Timestamp {
                seconds: c.mtime,
                nanoseconds: 0,
            },
            link,
        }
    }
}

/// Builds a [`Snapshot`] from entries in depth-first pre-order.
#[derive(Debug, Default)]
struct Builder {
    entries: Vec<Compact>,
    arena: Vec<u8>,
    /// The open directories: (index, length of its path).
    open: Vec<(u32, usize)>,
    /// Hard-link identity -> group, for files with more than one name.
    groups: HashMap<(u64, u64), u32>,
    files: u64,
    bytes: u64,
}

impl Builder {
    fn intern(&mut self, bytes: &[u8]) -> Result<u32, SnapshotError> {
        let at = u32::try_from(self.arena.len()).map_err(|_| SnapshotError::TooLarge)?;
        if self.arena.len() + bytes.len() > u32::MAX as usize {
            return Err(SnapshotError::TooLarge);
        }
        self.arena.extend_from_slice(bytes);
        Ok(at)
    }

    /// Closes the open directories deeper than the parent (whose path is `parent_len`
    /// bytes long): the open directories are a chain of ancestors, each path longer.
    fn close_deeper_than(&mut self, parent_len: usize) {
        while let Some(&(dir, len)) = self.open.last() {
            if len <= parent_len {
                break;
            }
            self.entries[dir as usize].end = self.entries.len() as u32;
            self.open.pop();
        }
    }

    fn push(&mut self, entry: SourceEntry) -> Result<(), SnapshotError> {
        let index = u32::try_from(self.entries.len()).map_err(|_| SnapshotError::TooLarge)?;
        if index == u32::MAX {
            return Err(SnapshotError::TooLarge);
        }
        let (parent_len, name) = match entry.path.iter().rposition(|&b| b == b'/') {
            Some(pos) => (pos, &entry.path[pos + 1..]),
            None => (0, &entry.path[..]),
        };
        let parent = if entry.path.is_empty() {
            0
        } else {
            // Directories whose subtree ended before this entry are closed.
            self.close_deeper_than(parent_len);
            self.open.last().map_or(0, |&(dir, _)| dir)
        };
        let name_at = self.intern(name)?;
        let (kind, size) = match &entry.kind {
            EntryKind::Directory => (Kind::Directory, 0),
            EntryKind::File { size } => {
                self.files += 1;
                self.bytes += size;
                (Kind::File, *size)
            }
            EntryKind::Symlink { target } => {
                let at = self.intern(target)?;
                (Kind::Symlink, (u64::from(at) << 32) | target.len() as u64)
            }
        };
        let link = if kind == Kind::File && entry.link.nlink > 1 {
            let next = self.groups.len() as u32;
            *self
                .groups
                .entry((entry.link.dev, entry.link.ino))
                .or_insert(next)
        } else {
            NO_LINK
        };
        self.entries.push(Compact {
            size,
            mtime: entry.mtime.seconds,
            name_at,
            parent,
            uid: entry.uid,
            gid: entry.gid,
            link,
            end: index + 1,
            name_len: name.len() as u16,
            mode: (entry.mode & 0o7777) as u16,
            kind,
        });
        if kind == Kind::Directory {
            self.open.push((index, entry.path.len()));
        }
        Ok(())
    }

    fn finish(mut self, root: PathBuf) -> Snapshot {
        let end = self.entries.len() as u32;
        for (dir, _) in self.open.drain(..) {
            self.entries[dir as usize].end = end;
        }
        self.entries.shrink_to_fit();
        self.arena.shrink_to_fit();
        Snapshot {
            root,
            entries: self.entries,
            arena: self.arena,
            files: self.files,
            bytes: self.bytes,
        }
    }
}

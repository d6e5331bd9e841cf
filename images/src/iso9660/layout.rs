//! The whole image plan: every tree, name, record, path table and extent, and so the exact
//! image size, computed from the source entries alone (no file is read).
//!
//! Area order (docs/iso9660.md): system area (LBA 0-15), primary descriptor (16), Joliet
//! descriptor (17), terminator (18), ISO directories in depth-first pre-order each followed
//! by its continuation blocks, ISO path tables (L then M), Joliet directories, Joliet path
//! tables, one zero block for every empty file and symlink, file data (each file once, in
//! ISO tree order, generated files with them), the `SHA256SUMS` manifest last, then 150
//! blocks of padding. Directory bytes are produced by the same functions (`directories.rs`)
//! at plan time (with placeholder numbers, to measure them) and at stream time (with the real
//! ones): their lengths never depend on the numbers, so the plan and the stream cannot
//! disagree.
//!
//! Memory is proportional to the number of entries; the layout never holds file contents
//! (generated files excepted, which the caller hands over in memory).

use std::collections::HashMap;

use super::entry::{EntryKind, LinkIdentity, SourceEntry};
use super::manifest::{self, MANIFEST_NAME};
use super::names;
use super::records::{self, BLOCK, MAX_EXTENT_BYTES, UnixSeconds};
use super::warnings::{self, ImageWarning};

/// Where the volume descriptors start (after the 16-block system area).
const FIRST_DESCRIPTOR_LBA: u64 = 16;
/// Zero blocks after the last file, counted in the volume size, as xorriso and genisoimage
/// add by default: they keep Linux's read-ahead away from the end of a TAO-written CD track.
pub const DEFAULT_PAD_BLOCKS: u64 = 150;
/// Longest Rock Ridge name we accept, in bytes (Linux's NAME_MAX).
pub const NAME_MAX: usize = 255;
/// Longest symlink target we accept, in bytes: libisofs (xorriso) refuses to load a whole
/// image tree that holds a longer one ("Rock Ridge path too long").
pub const SYMLINK_TARGET_MAX: usize = 1023;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// A file that is not in the source tree but goes onto the disc's root, e.g. a README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub name: String,
    pub contents: Vec<u8>,
    /// Permission bits.
    pub mode: u32,
    pub mtime: UnixSeconds,
}

/// What the caller decides about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOptions {
    /// The disc label (cut to 32 d-characters in the primary descriptor, 16 in Joliet; a cut
    /// is reported in [`Layout::warnings`]).
    pub volume_id: String,
    /// The volume's creation time, Unix seconds: the snapshot time, so images are repeatable.
    pub volume_time: UnixSeconds,
    /// Put a `SHA256SUMS` of every regular file at the root.
    pub manifest: bool,
    /// Files to add at the root.
    pub extra_files: Vec<GeneratedFile>,
    /// Fail if the image would need more blocks than this.
    pub capacity_blocks: Option<u64>,
    /// Zero blocks at the end of the image (counted in its size).
    pub pad_blocks: u64,
}

impl Default for ImageOptions {
    fn default() -> Self {
        ImageOptions {
            volume_id: "BACKUP".to_string(),
            volume_time: 0,
            manifest: true,
            extra_files: Vec::new(),
            capacity_blocks: None,
            pad_blocks: DEFAULT_PAD_BLOCKS,
        }
    }
}

/// Why a tree cannot become an image.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("the entry {path:?} has a name that cannot be put on a disc ({reason}); rename it")]
    InvalidName { path: String, reason: &'static str },
    #[error(
        "the symlink {path:?} points to a target of {len} bytes, and xorriso cannot read a disc holding a target over 1023 bytes; shorten the link or replace it with a file"
    )]
    SymlinkTargetTooLong { path: String, len: usize },
    #[error("the entry {path:?} is listed but its directory is not; list the parent directory too")]
    MissingParent { path: String },
    #[error("the entry {path:?} is listed twice; give each path once")]
    Duplicate { path: String },
    #[error(
        "the source tree already has a file named SHA256SUMS at its root; the disc's own manifest needs that name: rename or remove it"
    )]
    ManifestNameTaken,
    #[error(
        "the extra file {name:?} clashes with an entry of the tree at the root; rename one of them"
    )]
    ExtraFileClash { name: String },
    #[error(
        "the image needs {needed} blocks of 2048 bytes but the medium holds {capacity}; the first entry that does not fit is {first_beyond:?}: choose a larger medium or split the tree"
    )]
    TooLarge {
        needed: u64,
        capacity: u64,
        first_beyond: String,
    },
    #[error(
        "the tree has {count} directories, more than the 65535 an ISO 9660 path table can number; split it over several discs"
    )]
    TooManyDirectories { count: usize },
    #[error(
        "the image would need {blocks} blocks, more than ISO 9660's 32-bit block numbers allow; split the tree over several discs"
    )]
    TooManyBlocks { blocks: u64 },
}

/// What a block of our own image holds when no file owns it, to name what a bad sector
/// damaged in more detail than "the filesystem structures". Which file owns a block is the
/// region map's answer ([`super::regions::RegionMap::of_layout`]), the one model of block
/// ownership; this only refines the blocks it leaves to the structures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Structure {
    SystemArea,
    VolumeDescriptors,
    /// A directory of the ISO/Rock Ridge tree, or its continuation blocks.
    Directory {
        path: Vec<u8>,
    },
    /// A directory of the Joliet tree.
    JolietDirectory {
        path: Vec<u8>,
    },
    PathTable,
    /// The shared zero block that empty files and symlinks point at.
    EmptyFiles,
    Padding,
}

/// One extent of a file: where it starts and how many bytes it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub lba: u64,
    pub length: u64,
}

/// Where a data file's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOrigin {
    /// A regular file of the source tree.
    Source,
    /// One of [`ImageOptions::extra_files`].
    Generated,
    /// The `SHA256SUMS` manifest.
    Manifest,
}

/// A file with data on the disc, as [`Layout::files`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// The first name (in tree order) of the file.
    pub path: Vec<u8>,
    /// Further names of the same file (hard links), sharing its extents.
    pub hard_links: Vec<Vec<u8>>,
    pub size: u64,
    pub extents: Vec<Extent>,
    pub origin: FileOrigin,
}

/// What one directory costs in an image, as [`Layout::directory_cost`] measures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectoryCost {
    /// Blocks of its ISO extent, its continuation area and its Joliet extent.
    pub blocks: u64,
    /// Bytes of its subdirectories' records in the ISO and in the Joliet path table.
    pub iso_path_records: u64,
    pub joliet_path_records: u64,
}

/// One data file of a [`Layout`], as [`Layout::data_files`] yields it.
#[derive(Debug, Clone, Copy)]
pub struct DataFileRef<'a> {
    layout: &'a Layout,
    data: u32,
}

impl<'a> DataFileRef<'a> {
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.layout.data[self.data as usize].size
    }

    /// Where its bytes are, in order (more than one extent from 4 GiB on).
    pub fn extents(&self) -> Vec<Extent> {
        self.layout.extents_of(self.data)
    }

    /// Its names (paths from the image root): the first, then any hard links.
    pub fn names(&self) -> impl Iterator<Item = Vec<u8>> + 'a {
        let layout = self.layout;
        layout
            .data_names(self.data)
            .map(move |node| layout.node_path(node))
    }

    /// Where its bytes come from.
    pub fn origin(&self) -> FileOrigin {
        match self.layout.data[self.data as usize].source {
            DataSource::Source => FileOrigin::Source,
            DataSource::Generated(_) => FileOrigin::Generated,
            DataSource::Manifest => FileOrigin::Manifest,
        }
    }
}

/// Where a name is in one of the layout's arenas ([`Layout::bytes`], [`Layout::units`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub at: u32,
    pub len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.at as usize..self.at as usize + self.len as usize
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum NodeKind {
    Directory {
        dir: u32,
    },
    File {
        data: u32,
    },
    /// The target, in [`Layout::bytes`].
    Symlink {
        target: Span,
    },
}

/// One entry of the image, in fixed size: its names are spans of the layout's arenas, not
/// allocations of their own (three per entry were most of a 100 000-file layout).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The Rock Ridge name (the name as given), in [`Layout::bytes`].
    pub name: Span,
    pub parent: u32,
    pub kind: NodeKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: UnixSeconds,
    pub serial: u32,
    pub nlink: u32,
    /// The ISO 9660 identifier, in [`Layout::bytes`].
    pub iso_name: Span,
    /// The Joliet name (UCS-2), in [`Layout::units`].
    pub joliet_name: Span,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pub node: u32,
    /// Children (node indices) in ISO identifier order.
    pub iso_children: Vec<u32>,
    /// Children shown in the Joliet tree (no symlinks), in Joliet identifier order.
    pub joliet_children: Vec<u32>,
    pub iso_lba: u64,
    pub iso_bytes: u64,
    pub ce_lba: u64,
    pub ce_blocks: u64,
    pub joliet_lba: u64,
    pub joliet_bytes: u64,
    /// 1-based position in the ISO / Joliet path table.
    pub iso_number: u16,
    pub joliet_number: u16,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum DataSource {
    Source,
    Generated(u32),
    Manifest,
}

/// No further names: the file is not hard-linked.
pub(crate) const NO_LINKS: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct DataFile {
    /// The first name of this file (a node index): where it is read from.
    pub first: u32,
    /// Its further names (hard links), an index into [`Layout::links`], or [`NO_LINKS`].
    pub links: u32,
    pub size: u64,
    pub lba: u64,
    pub source: DataSource,
}

/// The bytes of one directory of the ISO tree: its extent and its continuation blocks.
#[derive(Debug)]
pub(crate) struct DirectoryBytes {
    pub extent: Vec<u8>,
    pub continuation: Vec<u8>,
}

/// The complete plan of an image.
#[derive(Debug, Clone)]
pub struct Layout {
    pub(crate) nodes: Vec<Node>,
    /// Every Rock Ridge name, ISO identifier and symlink target, back to back.
    pub(crate) bytes: Vec<u8>,
    /// Every Joliet name, back to back.
    pub(crate) units: Vec<u16>,
    /// The further names of each hard-linked data file ([`DataFile::links`]).
    pub(crate) links: Vec<Vec<u32>>,
    pub(crate) dirs: Vec<Directory>,
    pub(crate) data: Vec<DataFile>,
    pub(crate) generated: Vec<GeneratedFile>,
    /// Directories (indices into `dirs`) in ISO / Joliet path-table order.
    pub(crate) iso_path_order: Vec<u32>,
    pub(crate) joliet_path_order: Vec<u32>,
    /// Directories in ISO / Joliet placement (depth-first pre-order).
    pub(crate) iso_dir_order: Vec<u32>,
    pub(crate) joliet_dir_order: Vec<u32>,
    pub(crate) iso_path_table_bytes: u64,
    pub(crate) joliet_path_table_bytes: u64,
    pub(crate) iso_path_table_lba: u64,
    pub(crate) joliet_path_table_lba: u64,
    pub(crate) zero_block_lba: u64,
    pub(crate) padding_lba: u64,
    pub(crate) total_blocks: u64,
    pub(crate) volume_id: String,
    pub(crate) volume_time: UnixSeconds,
    /// Index into `data` of the manifest, if any.
    pub(crate) manifest: Option<u32>,
    /// What the image holds differently from how it was given.
    pub(crate) warnings: Vec<ImageWarning>,
}

fn lossy(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

fn blocks_for(bytes: u64) -> u64 {
    bytes.div_ceil(BLOCK)
}

fn check_name(path: &[u8], name: &[u8]) -> Result<(), LayoutError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name == b"." || name == b".." {
        "it is . or .."
    } else if name.contains(&0) {
        "it contains a NUL byte"
    } else if name.len() > NAME_MAX {
        "it is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(LayoutError::InvalidName {
        path: lossy(path),
        reason,
    })
}

impl Layout {
    /// Plans the image of `entries` (as [`super::scan_tree`] lists them, in any order).
    pub fn plan(entries: Vec<SourceEntry>, options: &ImageOptions) -> Result<Layout, LayoutError> {
        let mut layout = Layout {
            nodes: Vec::with_capacity(entries.len() + 2 + options.extra_files.len()),
            bytes: Vec::new(),
            units: Vec::new(),
            links: Vec::new(),
            dirs: Vec::new(),
            data: Vec::new(),
            generated: options.extra_files.clone(),
            iso_path_order: Vec::new(),
            joliet_path_order: Vec::new(),
            iso_dir_order: Vec::new(),
            joliet_dir_order: Vec::new(),
            iso_path_table_bytes: 0,
            joliet_path_table_bytes: 0,
            iso_path_table_lba: 0,
            joliet_path_table_lba: 0,
            zero_block_lba: 0,
            padding_lba: 0,
            total_blocks: 0,
            volume_id: options.volume_id.clone(),
            volume_time: options.volume_time,
            manifest: None,
            warnings: Vec::new(),
        };
        layout.build_tree(entries, options)?;
        layout.assign_names();
        layout.order_directories()?;
        layout.place(options)?;
        layout.bytes.shrink_to_fit();
        layout.units.shrink_to_fit();
        layout.warnings = warnings::of_layout(&layout);
        Ok(layout)
    }

    /// The values this image holds differently from how they were given (a cut volume ID,
    /// clamped times), each naming what it is about: show them to the person who asked.
    pub fn warnings(&self) -> &[ImageWarning] {
        &self.warnings
    }

    fn build_tree(
        &mut self,
        mut entries: Vec<SourceEntry>,
        options: &ImageOptions,
    ) -> Result<(), LayoutError> {
        // Parents sort before their children in byte order of the path.
        entries.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let root_entry = match entries.first() {
            Some(first) if first.path.is_empty() => Some(entries.remove(0)),
            _ => None,
        };
        let (root_mode, root_uid, root_gid, root_mtime) = match &root_entry {
            Some(root) => (root.mode, root.uid, root.gid, root.mtime.seconds),
            None => (0o755, 0, 0, options.volume_time),
        };
        self.dirs.push(Directory::default());
        self.nodes.push(Node {
            name: Span::default(),
            parent: 0,
            kind: NodeKind::Directory { dir: 0 },
            mode: S_IFDIR | root_mode,
            uid: root_uid,
            gid: root_gid,
            mtime: root_mtime,
            serial: 1,
            nlink: 2,
            iso_name: Span::default(),
            joliet_name: Span::default(),
        });
        // Directory path -> node, for finding parents; hard-link identity -> data file.
        let mut dir_by_path: HashMap<Vec<u8>, u32> = HashMap::new();
        dir_by_path.insert(Vec::new(), 0);
        let mut data_by_inode: HashMap<(u64, u64), u32> = HashMap::new();
        let mut children: Vec<Vec<u32>> = vec![Vec::new()];
        let mut previous: Option<Vec<u8>> = None;
        for entry in entries {
            if previous.as_deref() == Some(&entry.path[..]) {
                return Err(LayoutError::Duplicate {
                    path: lossy(&entry.path),
                });
            }
            let (parent_path, name) = match entry.path.iter().rposition(|&b| b == b'/') {
                Some(pos) => (&entry.path[..pos], &entry.path[pos + 1..]),
                None => (&[][..], &entry.path[..]),
            };
            for component in entry.path.split(|&b| b == b'/') {
                check_name(&entry.path, component)?;
            }
            let Some(&parent) = dir_by_path.get(parent_path) else {
                return Err(LayoutError::MissingParent {
                    path: lossy(&entry.path),
                });
            };
            if parent == 0 && options.manifest && name == MANIFEST_NAME.as_bytes() {
                return Err(LayoutError::ManifestNameTaken);
            }
            let index = self.nodes.len() as u32;
            let (kind, type_bits) = match entry.kind {
                EntryKind::Directory => {
                    let dir = self.dirs.len() as u32;
                    self.dirs.push(Directory {
                        node: index,
                        ..Directory::default()
                    });
                    children.push(Vec::new());
                    dir_by_path.insert(entry.path.clone(), index);
                    (NodeKind::Directory { dir }, S_IFDIR)
                }
                EntryKind::File { size } => {
                    let LinkIdentity { dev, ino, nlink } = entry.link;
                    let linked = (nlink > 1).then(|| data_by_inode.get(&(dev, ino)).copied());
                    let data = match linked.flatten() {
                        Some(data) => {
                            self.add_link(data, index);
                            data
                        }
                        None => {
                            let data = self.data.len() as u32;
                            self.data.push(DataFile {
                                first: index,
                                links: NO_LINKS,
                                size,
                                lba: 0,
                                source: DataSource::Source,
                            });
                            if nlink > 1 {
                                data_by_inode.insert((dev, ino), data);
                            }
                            data
                        }
                    };
                    (NodeKind::File { data }, S_IFREG)
                }
                EntryKind::Symlink { target } if target.len() > SYMLINK_TARGET_MAX => {
                    return Err(LayoutError::SymlinkTargetTooLong {
                        path: lossy(&entry.path),
                        len: target.len(),
                    });
                }
                EntryKind::Symlink { target } => (
                    NodeKind::Symlink {
                        target: self.push_bytes(&target),
                    },
                    S_IFLNK,
                ),
            };
            let parent_dir = self.dir_of(parent);
            children[parent_dir as usize].push(index);
            let name = self.push_bytes(name);
            self.nodes.push(Node {
                name,
                parent,
                kind,
                mode: type_bits | (entry.mode & 0o7777),
                uid: entry.uid,
                gid: entry.gid,
                mtime: entry.mtime.seconds,
                serial: 0,
                nlink: 1,
                iso_name: Span::default(),
                joliet_name: Span::default(),
            });
            previous = Some(entry.path);
        }
        // Generated files and the manifest live at the root.
        let root_names: std::collections::HashSet<Vec<u8>> =
            children[0].iter().map(|&n| self.name(n).to_vec()).collect();
        let generated: Vec<(Vec<u8>, u32, UnixSeconds, DataSource, u64)> = self
            .generated
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    g.name.clone().into_bytes(),
                    g.mode,
                    g.mtime,
                    DataSource::Generated(i as u32),
                    g.contents.len() as u64,
                )
            })
            .collect();
        for (name, mode, mtime, source, size) in generated {
            check_name(&name, &name)?;
            let clashes_manifest = options.manifest && name == MANIFEST_NAME.as_bytes();
            if root_names.contains(&name) || clashes_manifest {
                return Err(LayoutError::ExtraFileClash { name: lossy(&name) });
            }
            self.push_root_file(&mut children, name, mode, mtime, source, size);
        }
        if options.manifest {
            self.push_root_file(
                &mut children,
                MANIFEST_NAME.as_bytes().to_vec(),
                0o444,
                options.volume_time,
                DataSource::Manifest,
                0,
            );
            let manifest = self.data.len() as u32 - 1;
            self.manifest = Some(manifest);
            self.data[manifest as usize].size = manifest::manifest_size(self);
        }
        // Children lists, link counts and serials.
        for (dir, kids) in children.into_iter().enumerate() {
            let subdirs = kids
                .iter()
                .filter(|&&k| matches!(self.nodes[k as usize].kind, NodeKind::Directory { .. }))
                .count() as u32;
            let node = self.dirs[dir].node as usize;
            self.nodes[node].nlink = 2 + subdirs;
            self.dirs[dir].iso_children = kids;
        }
        let mut serial = 1u32;
        for index in 0..self.nodes.len() {
            let node = &self.nodes[index];
            match node.kind {
                NodeKind::File { data } => {
                    let first = self.data[data as usize].first as usize;
                    if first == index {
                        serial += 1;
                        self.nodes[index].serial = serial;
                    } else {
                        self.nodes[index].serial = self.nodes[first].serial;
                    }
                    self.nodes[index].nlink = self.name_count(data);
                }
                _ if index == 0 => {}
                _ => {
                    serial += 1;
                    self.nodes[index].serial = serial;
                }
            }
        }
        Ok(())
    }

    fn push_root_file(
        &mut self,
        children: &mut [Vec<u32>],
        name: Vec<u8>,
        mode: u32,
        mtime: UnixSeconds,
        source: DataSource,
        size: u64,
    ) {
        let index = self.nodes.len() as u32;
        let data = self.data.len() as u32;
        self.data.push(DataFile {
            first: index,
            links: NO_LINKS,
            size,
            lba: 0,
            source,
        });
        children[0].push(index);
        let name = self.push_bytes(&name);
        self.nodes.push(Node {
            name,
            parent: 0,
            kind: NodeKind::File { data },
            mode: S_IFREG | (mode & 0o7777),
            uid: 0,
            gid: 0,
            mtime,
            serial: 0,
            nlink: 1,
            iso_name: Span::default(),
            joliet_name: Span::default(),
        });
    }

    /// Appends `bytes` to the byte arena.
    fn push_bytes(&mut self, bytes: &[u8]) -> Span {
        push_to_arena(&mut self.bytes, bytes)
    }

    /// Appends `units` to the Joliet arena.
    fn push_units(&mut self, units: &[u16]) -> Span {
        push_to_arena(&mut self.units, units)
    }

    /// Gives data file `data` the further name `node`.
    fn add_link(&mut self, data: u32, node: u32) {
        let file = &mut self.data[data as usize];
        if file.links == NO_LINKS {
            file.links = self.links.len() as u32;
            self.links.push(Vec::new());
        }
        self.links[file.links as usize].push(node);
    }

    /// The Rock Ridge name of `node` (empty for the root).
    pub(crate) fn name(&self, node: u32) -> &[u8] {
        &self.bytes[self.nodes[node as usize].name.range()]
    }

    /// The ISO 9660 identifier of `node`.
    pub(crate) fn iso_name(&self, node: u32) -> &[u8] {
        &self.bytes[self.nodes[node as usize].iso_name.range()]
    }

    /// The Joliet name of `node`, UCS-2 units.
    pub(crate) fn joliet_name(&self, node: u32) -> &[u16] {
        &self.units[self.nodes[node as usize].joliet_name.range()]
    }

    /// A symlink's target.
    pub(crate) fn target(&self, target: Span) -> &[u8] {
        &self.bytes[target.range()]
    }

    /// Every name of data file `data` (node indices), the first one first.
    pub(crate) fn data_names(&self, data: u32) -> impl Iterator<Item = u32> + '_ {
        let file = &self.data[data as usize];
        let more: &[u32] = match file.links {
            NO_LINKS => &[],
            links => &self.links[links as usize],
        };
        std::iter::once(file.first).chain(more.iter().copied())
    }

    /// How many names data file `data` has.
    pub(crate) fn name_count(&self, data: u32) -> u32 {
        match self.data[data as usize].links {
            NO_LINKS => 1,
            links => 1 + self.links[links as usize].len() as u32,
        }
    }

    pub(crate) fn dir_of(&self, node: u32) -> u32 {
        match self.nodes[node as usize].kind {
            NodeKind::Directory { dir } => dir,
            _ => unreachable!("dir_of called on a non-directory"),
        }
    }

    fn is_dir(&self, node: u32) -> bool {
        matches!(self.nodes[node as usize].kind, NodeKind::Directory { .. })
    }

    /// Gives every child its ISO and Joliet name and sorts both child lists.
    fn assign_names(&mut self) {
        for dir in 0..self.dirs.len() {
            let mut kids = std::mem::take(&mut self.dirs[dir].iso_children);
            kids.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
            let input: Vec<(&[u8], bool)> = kids
                .iter()
                .map(|&k| (self.name(k), self.is_dir(k)))
                .collect();
            let iso = names::iso_names(&input);
            let joliet_input: Vec<(&[u8], bool)> = kids
                .iter()
                .zip(&input)
                .filter(|&(&k, _)| !matches!(self.nodes[k as usize].kind, NodeKind::Symlink { .. }))
                .map(|(_, &pair)| pair)
                .collect();
            let joliet = names::joliet_names(&joliet_input);
            let mut joliet_kids = Vec::with_capacity(joliet.len());
            let mut joliet = joliet.into_iter();
            for (&kid, iso_name) in kids.iter().zip(iso) {
                let iso_name = self.push_bytes(&iso_name);
                self.nodes[kid as usize].iso_name = iso_name;
                if !matches!(self.nodes[kid as usize].kind, NodeKind::Symlink { .. }) {
                    let units = joliet.next().unwrap_or_default();
                    let joliet_name = self.push_units(&units);
                    self.nodes[kid as usize].joliet_name = joliet_name;
                    joliet_kids.push(kid);
                }
            }
            kids.sort_unstable_by(|&a, &b| self.iso_name(a).cmp(self.iso_name(b)));
            joliet_kids.sort_unstable_by(|&a, &b| self.joliet_name(a).cmp(self.joliet_name(b)));
            self.dirs[dir].iso_children = kids;
            self.dirs[dir].joliet_children = joliet_kids;
        }
    }

    /// Computes path-table order (breadth-first) and placement order (depth-first) of both
    /// trees.
    fn order_directories(&mut self) -> Result<(), LayoutError> {
        if self.dirs.len() > usize::from(u16::MAX) {
            return Err(LayoutError::TooManyDirectories {
                count: self.dirs.len(),
            });
        }
        for joliet in [false, true] {
            let child_dirs = |layout: &Layout, dir: u32| -> Vec<u32> {
                let d = &layout.dirs[dir as usize];
                let kids = if joliet {
                    &d.joliet_children
                } else {
                    &d.iso_children
                };
                kids.iter()
                    .filter(|&&k| layout.is_dir(k))
                    .map(|&k| layout.dir_of(k))
                    .collect()
            };
            let mut breadth = vec![0u32];
            let mut next = 0;
            while next < breadth.len() {
                let kids = child_dirs(self, breadth[next]);
                breadth.extend(kids);
                next += 1;
            }
            let mut depth = Vec::with_capacity(self.dirs.len());
            let mut stack = vec![0u32];
            while let Some(dir) = stack.pop() {
                depth.push(dir);
                stack.extend(child_dirs(self, dir).into_iter().rev());
            }
            for (position, &dir) in breadth.iter().enumerate() {
                let number = (position + 1) as u16;
                if joliet {
                    self.dirs[dir as usize].joliet_number = number;
                } else {
                    self.dirs[dir as usize].iso_number = number;
                }
            }
            if joliet {
                self.joliet_path_order = breadth;
                self.joliet_dir_order = depth;
            } else {
                self.iso_path_order = breadth;
                self.iso_dir_order = depth;
            }
        }
        Ok(())
    }

    /// Measures everything, then assigns every LBA in writing order.
    fn place(&mut self, options: &ImageOptions) -> Result<(), LayoutError> {
        for dir in 0..self.dirs.len() as u32 {
            let bytes = self.iso_directory_bytes(dir);
            let joliet = self.joliet_directory_bytes(dir);
            let d = &mut self.dirs[dir as usize];
            d.iso_bytes = bytes.extent.len() as u64;
            d.ce_blocks = bytes.continuation.len() as u64 / BLOCK;
            d.joliet_bytes = joliet.len() as u64;
        }
        self.iso_path_table_bytes = self.path_table(false, false).len() as u64;
        self.joliet_path_table_bytes = self.path_table(true, false).len() as u64;

        let mut next = FIRST_DESCRIPTOR_LBA + 3;
        for &dir in &self.iso_dir_order {
            let d = &mut self.dirs[dir as usize];
            d.iso_lba = next;
            d.ce_lba = next + blocks_for(d.iso_bytes);
            next = d.ce_lba + d.ce_blocks;
        }
        self.iso_path_table_lba = next;
        next += 2 * blocks_for(self.iso_path_table_bytes);
        for &dir in &self.joliet_dir_order {
            let d = &mut self.dirs[dir as usize];
            d.joliet_lba = next;
            next += blocks_for(d.joliet_bytes);
        }
        self.joliet_path_table_lba = next;
        next += 2 * blocks_for(self.joliet_path_table_bytes);
        self.zero_block_lba = next;
        next += 1;
        // File data in ISO tree order, each file once, the manifest last.
        let mut order = Vec::with_capacity(self.data.len());
        for &dir in &self.iso_dir_order {
            for &kid in &self.dirs[dir as usize].iso_children {
                if let NodeKind::File { data } = self.nodes[kid as usize].kind {
                    let first = self.data[data as usize].first;
                    if first == kid && Some(data) != self.manifest {
                        order.push(data);
                    }
                }
            }
        }
        order.extend(self.manifest);
        let mut remap = vec![0u32; self.data.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let mut data: Vec<Option<DataFile>> = std::mem::take(&mut self.data)
            .into_iter()
            .map(Some)
            .collect();
        self.data = order
            .iter()
            .map(|&old| {
                data[old as usize]
                    .take()
                    .expect("each data file placed once")
            })
            .collect();
        for node in &mut self.nodes {
            if let NodeKind::File { data } = &mut node.kind {
                *data = remap[*data as usize];
            }
        }
        self.manifest = self.manifest.map(|m| remap[m as usize]);
        for file in &mut self.data {
            file.lba = next;
            next += blocks_for(file.size);
        }
        self.padding_lba = next;
        self.total_blocks = next + options.pad_blocks;
        if self.total_blocks > u64::from(u32::MAX) {
            return Err(LayoutError::TooManyBlocks {
                blocks: self.total_blocks,
            });
        }
        if let Some(capacity) = options.capacity_blocks
            && self.total_blocks > capacity
        {
            let first_beyond = self
                .data
                .iter()
                .find(|f| f.lba + blocks_for(f.size) > capacity)
                .map(|f| lossy(&self.node_path(f.first)))
                .unwrap_or_else(|| "the padding at the end of the image".to_string());
            return Err(LayoutError::TooLarge {
                needed: self.total_blocks,
                capacity,
                first_beyond,
            });
        }
        Ok(())
    }

    /// The image size in 2048-byte blocks (equal to the volume space size).
    pub fn total_blocks(&self) -> u64 {
        self.total_blocks
    }

    /// The image size in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_blocks * BLOCK
    }

    /// The path (raw bytes, relative) of a node.
    pub(crate) fn node_path(&self, node: u32) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut current = node;
        while current != 0 {
            parts.push(current);
            current = self.nodes[current as usize].parent;
        }
        let mut path = Vec::new();
        for part in parts.iter().rev() {
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(self.name(*part));
        }
        path
    }

    /// The node at `path` (relative, `/`-separated), if any.
    pub(crate) fn find(&self, path: &[u8]) -> Option<u32> {
        let mut node = 0u32;
        for component in path.split(|&b| b == b'/') {
            let NodeKind::Directory { dir } = self.nodes[node as usize].kind else {
                return None;
            };
            node = *self.dirs[dir as usize]
                .iso_children
                .iter()
                .find(|&&kid| self.name(kid) == component)?;
        }
        Some(node)
    }

    /// Extents of a data file: contiguous, every one but the last `MAX_EXTENT_BYTES` long.
    pub(crate) fn extents_of(&self, data: u32) -> Vec<Extent> {
        let file = &self.data[data as usize];
        let mut extents = Vec::new();
        let mut left = file.size;
        let mut lba = file.lba;
        loop {
            let length = if left > u64::from(u32::MAX) {
                MAX_EXTENT_BYTES
            } else {
                left
            };
            extents.push(Extent { lba, length });
            left -= length;
            lba += length / BLOCK;
            if left == 0 {
                break;
            }
        }
        extents
    }

    /// What the directory at `path` costs (the root's path is empty). Its records' lengths
    /// depend only on its own entries (names, attributes, symlink targets, extents), never
    /// on other directories: the same directory costs the same in any image, which lets a
    /// caller measure a large image one directory at a time.
    pub fn directory_cost(&self, path: &[u8]) -> Option<DirectoryCost> {
        let node = if path.is_empty() { 0 } else { self.find(path)? };
        let NodeKind::Directory { dir } = self.nodes[node as usize].kind else {
            return None;
        };
        let d = &self.dirs[dir as usize];
        let child_dirs = |kids: &[u32]| {
            kids.iter()
                .copied()
                .filter(|&k| self.is_dir(k))
                .collect::<Vec<u32>>()
        };
        let iso_path_records = child_dirs(&d.iso_children)
            .iter()
            .map(|&k| records::path_record_len(self.iso_name(k).len()) as u64)
            .sum();
        let joliet_path_records = child_dirs(&d.joliet_children)
            .iter()
            .map(|&k| records::path_record_len(self.joliet_name(k).len() * 2) as u64)
            .sum();
        Some(DirectoryCost {
            blocks: blocks_for(d.iso_bytes) + d.ce_blocks + blocks_for(d.joliet_bytes),
            iso_path_records,
            joliet_path_records,
        })
    }

    /// Every file with data on the disc, in LBA order (the manifest, if any, last).
    pub fn files(&self) -> Vec<PlannedFile> {
        self.data_files()
            .map(|file| {
                let mut names = file.names();
                PlannedFile {
                    path: names.next().expect("a data file has a name"),
                    hard_links: names.collect(),
                    size: file.size(),
                    extents: file.extents(),
                    origin: file.origin(),
                }
            })
            .collect()
    }

    /// The same files one at a time, building nothing for the whole tree: a caller that keeps
    /// only part of each (the burn's region map) stays small on a 100 000-file tree.
    pub fn data_files(&self) -> impl ExactSizeIterator<Item = DataFileRef<'_>> + '_ {
        (0..self.data.len() as u32).map(move |data| DataFileRef { layout: self, data })
    }

    /// Data file `data` (an index in [`Layout::data_files`]' order).
    pub fn data_file(&self, data: u32) -> DataFileRef<'_> {
        assert!((data as usize) < self.data.len(), "no data file {data}");
        DataFileRef { layout: self, data }
    }

    /// The structure the block at `lba` holds, or `None` for a block of file data (the
    /// region map names its file) and past the end of the image.
    pub fn structure_at(&self, lba: u64) -> Option<Structure> {
        if lba >= self.total_blocks {
            return None;
        }
        if lba < FIRST_DESCRIPTOR_LBA {
            return Some(Structure::SystemArea);
        }
        if lba < FIRST_DESCRIPTOR_LBA + 3 {
            return Some(Structure::VolumeDescriptors);
        }
        if lba >= self.padding_lba {
            return Some(Structure::Padding);
        }
        if lba == self.zero_block_lba {
            return Some(Structure::EmptyFiles);
        }
        if lba > self.zero_block_lba {
            // Files follow the zero block back to back, up to the padding.
            return None;
        }
        let path_tables = [
            (self.iso_path_table_lba, self.iso_path_table_bytes),
            (self.joliet_path_table_lba, self.joliet_path_table_bytes),
        ];
        if path_tables
            .iter()
            .any(|&(start, bytes)| lba >= start && lba < start + 2 * blocks_for(bytes))
        {
            return Some(Structure::PathTable);
        }
        if lba < self.iso_path_table_lba {
            let index = self
                .iso_dir_order
                .partition_point(|&d| self.dirs[d as usize].iso_lba <= lba)
                .saturating_sub(1);
            let node = self.dirs[self.iso_dir_order[index] as usize].node;
            return Some(Structure::Directory {
                path: self.node_path(node),
            });
        }
        let index = self
            .joliet_dir_order
            .partition_point(|&d| self.dirs[d as usize].joliet_lba <= lba)
            .saturating_sub(1);
        let node = self.dirs[self.joliet_dir_order[index] as usize].node;
        Some(Structure::JolietDirectory {
            path: self.node_path(node),
        })
    }
}

/// Appends `items` to `arena`, returning where they are.
fn push_to_arena<T: Copy>(arena: &mut Vec<T>, items: &[T]) -> Span {
    let span = Span {
        at: u32::try_from(arena.len()).expect("a layout holds under 4 GiB of names"),
        len: items.len() as u32,
    };
    arena.extend_from_slice(items);
    span
}

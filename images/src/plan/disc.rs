//! One disc of a set as the image layer takes it: its entries (the generated files at the
//! root, the snapshot's under `backup/`, parts of split files), its layout, and the data
//! source that gives the stream each file's bytes.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{self, Cursor as ByteCursor};
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use super::files::{CatalogReader, Generated};
use super::hash::SetHashes;
use super::pack::disc_content;
use super::snapshot::Kind;
use super::snapshot::Snapshot;
use super::walk::PathWalker;
use super::{CATALOG_NAME, DiscSet, PlanError, PlanOptions, README_NAME, SET_NAME, TREE_FOLDER};
use crate::iso9660::layout::DEFAULT_PAD_BLOCKS;
use crate::iso9660::records::BLOCK;
use crate::iso9660::{
    EntryKind, FileSource, ImageOptions, ImageStream, Layout, LinkIdentity, OpenedFile,
    SourceEntry, Timestamp, manifest, open_range,
};

/// A part of a file on one disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartSpec {
    pub entry: u32,
    /// Its name (`NAME.part002`).
    pub name: Vec<u8>,
    pub offset: u64,
    pub len: u64,
}

/// What one disc holds of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Content {
    /// The rest (or a middle piece) of a file begun on an earlier disc.
    pub head: Option<PartSpec>,
    /// Entries held whole.
    pub whole: Range<u32>,
    /// The start of a file continued on the next disc.
    pub tail: Option<PartSpec>,
}

fn generated_entry(name: &str, size: u64, time: i64) -> SourceEntry {
    SourceEntry {
        path: name.as_bytes().to_vec(),
        kind: EntryKind::File { size },
        mode: 0o444,
        uid: 0,
        gid: 0,
        mtime: Timestamp {
            seconds: time,
            nanoseconds: 0,
        },
        link: LinkIdentity {
            dev: 0,
            ino: 0,
            nlink: 1,
        },
    }
}

fn under_tree(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TREE_FOLDER.len() + 1 + path.len());
    out.extend_from_slice(TREE_FOLDER.as_bytes());
    out.push(b'/');
    out.extend_from_slice(path);
    out
}

/// The disc path of a part: its file's directory under `backup/`, and its own name.
pub(crate) fn part_path(snapshot: &Snapshot, part: &PartSpec) -> Vec<u8> {
    let parent = snapshot.entry(part.entry).parent();
    let mut path = TREE_FOLDER.as_bytes().to_vec();
    if parent != 0 {
        path.push(b'/');
        snapshot.push_path(parent, &mut path);
    }
    path.push(b'/');
    path.extend_from_slice(&part.name);
    path
}

/// The disc's root and its generated files.
fn root_entries(
    snapshot: &Snapshot,
    options: &PlanOptions,
    generated: &Generated,
) -> Vec<SourceEntry> {
    let _ = snapshot;
    let time = options.snapshot_time;
    let mut root = generated_entry("", 0, time);
    root.kind = EntryKind::Directory;
    root.mode = 0o555;
    let (catalog, readme, set_json) = generated.sizes();
    vec![
        root,
        generated_entry(CATALOG_NAME, catalog, time),
        generated_entry(README_NAME, readme, time),
        generated_entry(SET_NAME, set_json, time),
    ]
}

/// The directories above this disc's entries that are not on it themselves, in order.
fn directories_above(snapshot: &Snapshot, content: &Content) -> BTreeSet<u32> {
    let mut above = BTreeSet::new();
    let firsts = [
        content.head.as_ref().map(|p| p.entry),
        (!content.whole.is_empty()).then_some(content.whole.start),
        content.tail.as_ref().map(|p| p.entry),
    ];
    for first in firsts.into_iter().flatten() {
        above.extend(
            snapshot
                .ancestors(first)
                .into_iter()
                .filter(|a| !content.whole.contains(a)),
        );
    }
    above
}

/// Every entry of the disc, as the layout takes them.
fn disc_entries(
    snapshot: &Snapshot,
    options: &PlanOptions,
    content: &Content,
    generated: &Generated,
) -> Vec<SourceEntry> {
    let mut entries = root_entries(snapshot, options, generated);
    entries.reserve(content.whole.len() + 16);
    entries.push(
        snapshot
            .entry(0)
            .to_source(TREE_FOLDER.as_bytes().to_vec(), None),
    );
    let above = directories_above(snapshot, content);
    for dir in above {
        entries.push(
            snapshot
                .entry(dir)
                .to_source(under_tree(&snapshot.path(dir)), None),
        );
    }
    for part in content.head.iter().chain(&content.tail) {
        let source = snapshot.entry(part.entry);
        entries.push(source.to_source(part_path(snapshot, part), Some(part.len)));
    }
    let mut walker = PathWalker::new(TREE_FOLDER.as_bytes());
    for index in content.whole.clone() {
        let path = walker.path(snapshot, index).to_vec();
        entries.push(snapshot.entry(index).to_source(path, None));
    }
    entries
}

/// A child of a directory on a disc: an entry of the snapshot, or a part of a file.
#[derive(Debug, Clone, Copy)]
enum Child<'a> {
    Entry(u32),
    Part(&'a PartSpec),
}

/// The name a directory is given in the one-directory layouts that measure it.
const MEASURED: &[u8] = b"x";

/// The disc's exact size in blocks, measured one directory at a time, without its whole
/// layout: an image's size is the sum of what each directory costs (which depends on that
/// directory's entries alone), the path tables, the file data and the manifest. Each
/// directory is measured by the layout itself, in a layout holding only that directory and
/// its entries, so the sum is what [`disc_layout`] gives (tested), at the memory of one
/// directory instead of one disc.
pub(crate) fn disc_blocks(
    snapshot: &Snapshot,
    options: &PlanOptions,
    content: &Content,
    generated: &Generated,
) -> Result<u64, PlanError> {
    use std::collections::{HashMap, HashSet};
    let time = options.snapshot_time;
    let blocks_for = |bytes: u64| bytes.div_ceil(BLOCK);
    // Which directories are on the disc, and their children on it.
    let mut children: HashMap<u32, Vec<Child<'_>>> = HashMap::new();
    let mut dirs: Vec<u32> = vec![0];
    let above = directories_above(snapshot, content);
    for &dir in &above {
        children
            .entry(snapshot.entry(dir).parent())
            .or_default()
            .push(Child::Entry(dir));
        dirs.push(dir);
    }
    for part in content.head.iter().chain(&content.tail) {
        children
            .entry(snapshot.entry(part.entry).parent())
            .or_default()
            .push(Child::Part(part));
    }
    let mut data_blocks = 0u64;
    let mut manifest_bytes = 0u64;
    let mut groups = HashSet::new();
    let mut walker = PathWalker::new(TREE_FOLDER.as_bytes());
    for index in content.whole.clone() {
        let entry = snapshot.entry(index);
        let path = walker.path(snapshot, index);
        children
            .entry(entry.parent())
            .or_default()
            .push(Child::Entry(index));
        match entry.kind() {
            Kind::Directory => dirs.push(index),
            Kind::File => {
                manifest_bytes += manifest::line_len(path);
                if entry.link_group().is_none_or(|g| groups.insert(g)) {
                    data_blocks += blocks_for(entry.size());
                }
            }
            Kind::Symlink => {}
        }
    }
    for part in content.head.iter().chain(&content.tail) {
        manifest_bytes += manifest::line_len(&part_path(snapshot, part));
        data_blocks += blocks_for(part.len);
    }
    // +1 for the disc's root.
    if dirs.len() + 1 > usize::from(u16::MAX) {
        // The layout would refuse it; to packing it is simply too large.
        return Ok(u64::MAX / 2);
    }
    let (catalog, readme, set_json) = generated.sizes();
    for (name, size) in [
        (CATALOG_NAME, catalog),
        (README_NAME, readme),
        (SET_NAME, set_json),
    ] {
        manifest_bytes += manifest::line_len(name.as_bytes());
        data_blocks += blocks_for(size);
    }
    let measure_options = ImageOptions {
        manifest: false,
        pad_blocks: 0,
        ..ImageOptions::default()
    };
    // The disc's root: the generated files, the manifest and backup/.
    let mut root = root_entries(snapshot, options, generated);
    root.push(
        snapshot
            .entry(0)
            .to_source(TREE_FOLDER.as_bytes().to_vec(), None),
    );
    let root_cost = Layout::plan(
        root,
        &ImageOptions {
            manifest: true,
            ..measure_options.clone()
        },
    )?
    .directory_cost(b"")
    .expect("the root is a directory");
    let mut dir_blocks = root_cost.blocks;
    let mut iso_path_table = 10 + root_cost.iso_path_records;
    let mut joliet_path_table = 10 + root_cost.joliet_path_records;
    let named = |name: &[u8]| {
        let mut path = MEASURED.to_vec();
        path.push(b'/');
        path.extend_from_slice(name);
        path
    };
    for dir in dirs {
        let mut entries = vec![
            generated_entry("", 0, time),
            snapshot.entry(dir).to_source(MEASURED.to_vec(), None),
        ];
        entries[0].kind = EntryKind::Directory;
        for child in children.get(&dir).map(Vec::as_slice).unwrap_or(&[]) {
            entries.push(match *child {
                Child::Entry(index) => {
                    let entry = snapshot.entry(index);
                    entry.to_source(named(entry.name()), None)
                }
                Child::Part(part) => snapshot
                    .entry(part.entry)
                    .to_source(named(&part.name), Some(part.len)),
            });
        }
        let cost = Layout::plan(entries, &measure_options)?
            .directory_cost(MEASURED)
            .expect("the measured directory is a directory");
        dir_blocks += cost.blocks;
        iso_path_table += cost.iso_path_records;
        joliet_path_table += cost.joliet_path_records;
    }
    Ok(16
        + 3
        + dir_blocks
        + 2 * blocks_for(iso_path_table)
        + 2 * blocks_for(joliet_path_table)
        + 1
        + data_blocks
        + blocks_for(manifest_bytes)
        + DEFAULT_PAD_BLOCKS)
}

/// The layout of a disc.
pub(crate) fn disc_layout(
    snapshot: &Snapshot,
    options: &PlanOptions,
    content: &Content,
    generated: &Generated,
    volume_id: &str,
) -> Result<Layout, PlanError> {
    let entries = disc_entries(snapshot, options, content, generated);
    let image = ImageOptions {
        volume_id: volume_id.to_string(),
        volume_time: options.snapshot_time,
        manifest: true,
        extra_files: Vec::new(),
        capacity_blocks: None,
        ..ImageOptions::default()
    };
    Ok(Layout::plan(entries, &image)?)
}

/// A disc of a planned set, ready to be streamed: its layout and its data source.
#[derive(Debug)]
pub struct DiscImage {
    layout: Arc<Layout>,
    source: DiscSource,
}

impl DiscImage {
    pub(crate) fn new(
        set: &Arc<DiscSet>,
        number: u32,
        hashes: Arc<SetHashes>,
    ) -> Result<DiscImage, PlanError> {
        let disc = set
            .disc(number)
            .expect("disc_image is asked for a disc of the set");
        let content = disc_content(set, number);
        let generated = Generated::real(set, number);
        let layout = disc_layout(
            set.snapshot(),
            set.options(),
            &content,
            &generated,
            &disc.volume_id,
        )?;
        // The measure the plan was made with and the real layout cannot disagree (tested);
        // should they ever, no image of the wrong size may be made.
        if layout.total_blocks() != disc.image_blocks {
            return Err(PlanError::DidNotConverge {
                disc: number,
                capacity: layout.total_blocks(),
            });
        }
        let snapshot = set.snapshot();
        let parts = content
            .head
            .iter()
            .chain(&content.tail)
            .map(|p| {
                let whole = snapshot.entry(p.entry).size();
                let source = snapshot
                    .root()
                    .join(OsStr::from_bytes(&snapshot.path(p.entry)));
                (part_path(snapshot, p), (source, p.offset, p.len, whole))
            })
            .collect();
        let Generated::Real {
            readme, set_json, ..
        } = generated
        else {
            unreachable!("Generated::real is real")
        };
        Ok(DiscImage {
            layout: Arc::new(layout),
            source: DiscSource {
                set: Arc::clone(set),
                hashes,
                readme: readme.into(),
                set_json: set_json.into(),
                parts,
            },
        })
    }

    /// The disc's layout (its exact size, its files' places).
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// The disc's image as a stream (hashing every file on the way).
    pub fn stream(self) -> ImageStream {
        ImageStream::with_source(self.layout, Box::new(self.source))
    }
}

type PartSource = (std::path::PathBuf, u64, u64, u64);

/// Where a disc's bytes come from: the generated files, the snapshot's files under
/// `backup/`, and ranges of split files.
#[derive(Debug)]
struct DiscSource {
    set: Arc<DiscSet>,
    hashes: Arc<SetHashes>,
    readme: Arc<[u8]>,
    set_json: Arc<[u8]>,
    /// Disc path of each part -> (source file, offset, length, the file's whole size).
    parts: Vec<(Vec<u8>, PartSource)>,
}

/// An in-memory file shared with the stream's thread.
struct Shared(Arc<[u8]>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl FileSource for DiscSource {
    fn open(&self, path: &[u8], _size: u64) -> io::Result<OpenedFile> {
        match path {
            p if p == CATALOG_NAME.as_bytes() => Ok(OpenedFile::generated(Box::new(
                CatalogReader::new(Arc::clone(&self.set), Arc::clone(&self.hashes)),
            ))),
            p if p == README_NAME.as_bytes() => Ok(OpenedFile::generated(Box::new(
                ByteCursor::new(Shared(Arc::clone(&self.readme))),
            ))),
            p if p == SET_NAME.as_bytes() => Ok(OpenedFile::generated(Box::new(ByteCursor::new(
                Shared(Arc::clone(&self.set_json)),
            )))),
            _ => {
                if let Some((_, (source, offset, len, whole))) =
                    self.parts.iter().find(|(disc_path, _)| disc_path == path)
                {
                    return open_range(source, *offset, *len, *whole);
                }
                let relative = path
                    .strip_prefix(TREE_FOLDER.as_bytes())
                    .and_then(|rest| rest.strip_prefix(b"/"))
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotFound, "not a file of the disc set")
                    })?;
                let file = self.set.snapshot().root().join(OsStr::from_bytes(relative));
                OpenedFile::file(&file)
            }
        }
    }
}

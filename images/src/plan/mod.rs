//! Disc-set planning: spreading a snapshot over as many discs as it needs.
//!
//! Every disc is useful on its own and the set restores without our software:
//!
//! ```text
//! /SHA256SUMS    this disc's files, as `sha256sum -c` checks them from the disc's root
//! /CATALOG.txt   the whole set: every file and part, its size, SHA-256 and disc
//! /README.txt    plain words: which set, disc n of N, how to restore with ordinary tools
//! /SET.json      the same facts for programs
//! /backup/...    the snapshot's entries that are on this disc
//! ```
//!
//! The entries keep their depth-first order, so a service's files stay together: each disc
//! takes the next entries in order until it is full, and a file that does not fit is split
//! into parts (`NAME.part001`, ...) that `cat` joins back. Every disc repeats the
//! directories above its entries. The size of each disc is decided by its real layout
//! ([`Layout::plan`]), never by an estimate: the estimate only says where to look. The same
//! snapshot and capacity always give the same set.
//!
//! The modules: `snapshot` (the entries, compactly), `walk` (their paths), `pack` (which
//! entries and parts go on which disc), `files` (the generated files), `disc` (a disc's
//! layout and data source), `hash` (the hashing pass the catalogue needs), `volume` (volume
//! IDs), `set_file` (reading `SET.json` and `CATALOG.txt` back, for restoring).

mod disc;
pub mod files;
pub mod hash;
mod pack;
pub mod set_file;
pub mod snapshot;
pub mod volume;
mod walk;

use std::ops::Range;
use std::sync::Arc;

use crate::iso9660::LayoutError;

pub use disc::DiscImage;
pub use hash::{HashEvent, SetHashes, hash_set};
pub use snapshot::{Kind, Snapshot, SnapshotError};

/// The folder every disc holds the snapshot's entries in, so that the disc's own files
/// never clash with the tree's (which may have its own `README.txt`).
pub const TREE_FOLDER: &str = "backup";
/// The generated files at every disc's root.
pub const CATALOG_NAME: &str = "CATALOG.txt";
pub const README_NAME: &str = "README.txt";
pub const SET_NAME: &str = "SET.json";

/// What the caller decides about a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// The largest image a disc may take, in 2048-byte blocks.
    pub capacity_blocks: u64,
    /// The medium's name (`dvd+r`), for the discs' README and SET.json.
    pub medium: String,
    /// The start of every volume ID (`OSK`).
    pub label_prefix: String,
    /// The snapshot's name (its directory name), for the README and the catalogue.
    pub snapshot_name: String,
    /// The snapshot's time, Unix seconds: the volume time and every generated file's.
    pub snapshot_time: i64,
}

/// Why a snapshot cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "a disc of {capacity} blocks is too small for this snapshot: even its catalogue and the first entry need more; choose a larger medium"
    )]
    CapacityTooSmall { capacity: u64 },
    #[error(
        "the snapshot needs more than {max} discs of this medium; choose a larger medium or split the backup tree"
    )]
    TooManyDiscs { max: u32 },
    #[error("a disc of the set cannot be laid out: {0}")]
    Layout(#[from] LayoutError),
    #[error(
        "the planner could not fit disc {disc} within {capacity} blocks after several tries; this is a bug in burnstation"
    )]
    DidNotConverge { disc: u32, capacity: u64 },
}

/// Most discs a set may have (5 digits keep catalogue lines aligned and volume IDs short).
pub const MAX_DISCS: u32 = 99_999;

/// One part of a file split over discs: bytes `offset..offset + len` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The file's index in the snapshot.
    pub entry: u32,
    /// 1-based.
    pub number: u32,
    pub offset: u64,
    pub len: u64,
    /// The disc it is on (1-based).
    pub disc: u32,
}

/// A file split into parts, and how its parts are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub entry: u32,
    /// What follows the file name: `.part` (or `.part1-` when the tree already holds a
    /// name of the first form next to the file).
    pub suffix: String,
    /// Digits of the part number (3: `part001`).
    pub width: usize,
    /// Its parts: indices into [`DiscSet::parts`].
    pub parts: Range<u32>,
}

impl Split {
    /// The name of part `number` of a file called `name`.
    pub fn part_name(&self, name: &[u8], number: u32) -> Vec<u8> {
        part_name(name, &self.suffix, self.width, number)
    }
}

fn part_name(name: &[u8], suffix: &str, width: usize, number: u32) -> Vec<u8> {
    let mut out = name.to_vec();
    out.extend_from_slice(format!("{suffix}{number:0width$}").as_bytes());
    out
}

/// One disc of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDisc {
    /// 1-based.
    pub number: u32,
    pub volume_id: String,
    /// The exact size of its image.
    pub image_blocks: u64,
    /// The snapshot entries it holds whole (indices, in order).
    pub entries: Range<u32>,
    /// The parts it holds: indices into [`DiscSet::parts`] (the rest of a file begun on the
    /// disc before first, then the start of one continued on the next).
    pub parts: Range<u32>,
    /// Regular files and parts of the backup tree on it.
    pub files: u64,
    /// Their bytes.
    pub data_bytes: u64,
}

/// A planned disc set.
#[derive(Debug)]
pub struct DiscSet {
    snapshot: Arc<Snapshot>,
    options: PlanOptions,
    label: String,
    plan_id: String,
    parts: Vec<Part>,
    splits: Vec<Split>,
    discs: Vec<PlannedDisc>,
}

impl DiscSet {
    /// Plans `snapshot` onto discs of `options.capacity_blocks`.
    pub fn plan(snapshot: Arc<Snapshot>, options: PlanOptions) -> Result<DiscSet, PlanError> {
        pack::plan(snapshot, options)
    }

    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    pub fn options(&self) -> &PlanOptions {
        &self.options
    }

    /// The set's label, e.g. `OSK261126`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A short identifier of this exact plan (16 hex digits): every disc of the set
    /// carries it, so a restore can tell discs of different sets apart.
    pub fn plan_id(&self) -> &str {
        &self.plan_id
    }

    pub fn discs(&self) -> &[PlannedDisc] {
        &self.discs
    }

    pub fn disc(&self, number: u32) -> Option<&PlannedDisc> {
        self.discs.get((number as usize).checked_sub(1)?)
    }

    /// Every part of every split file, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Every split file, in order.
    pub fn splits(&self) -> &[Split] {
        &self.splits
    }

    /// The split of file `entry`, if it is split.
    pub fn split_of(&self, entry: u32) -> Option<&Split> {
        self.splits
            .binary_search_by_key(&entry, |s| s.entry)
            .ok()
            .map(|i| &self.splits[i])
    }

    /// The disc holding the whole file `entry` (None for a split file or a non-file).
    pub fn disc_of(&self, entry: u32) -> Option<u32> {
        let at = self.discs.partition_point(|d| d.entries.end <= entry);
        let disc = self.discs.get(at)?;
        disc.entries.contains(&entry).then_some(disc.number)
    }

    /// The set's fill: image bytes over capacity bytes, of every disc but the last, and of
    /// the whole set.
    pub fn fill(&self) -> (f64, f64) {
        let capacity = self.options.capacity_blocks as f64;
        let all: u64 = self.discs.iter().map(|d| d.image_blocks).sum();
        let but_last: u64 = all - self.discs.last().map_or(0, |d| d.image_blocks);
        let n = self.discs.len() as f64;
        let but_last_fill = if self.discs.len() > 1 {
            but_last as f64 / ((n - 1.0) * capacity)
        } else {
            f64::NAN
        };
        (but_last_fill, all as f64 / (n * capacity))
    }

    /// Calls `f` with the path (as on the disc) and SHA-256 of every file and part of the
    /// backup tree on disc `number`, as `hashes` (the set's catalogue) has them.
    pub fn for_each_disc_file(
        &self,
        number: u32,
        hashes: &SetHashes,
        f: &mut dyn FnMut(&[u8], &[u8; 32]),
    ) {
        let Some(disc) = self.disc(number) else {
            return;
        };
        let mut walker = walk::PathWalker::new(TREE_FOLDER.as_bytes());
        for index in disc.entries.clone() {
            let path = walker.path(&self.snapshot, index);
            if self.snapshot.entry(index).kind() == Kind::File {
                f(path, &hashes.file(index));
            }
        }
        let content = pack::disc_content(self, number);
        for (p, part) in
            (disc.parts.start..disc.parts.end).zip(content.head.iter().chain(&content.tail))
        {
            f(&disc::part_path(&self.snapshot, part), &hashes.part(p));
        }
    }

    /// Disc `number`'s image: its layout and where each byte comes from.
    pub fn disc_image(
        self: &Arc<Self>,
        number: u32,
        hashes: Arc<SetHashes>,
    ) -> Result<DiscImage, PlanError> {
        disc::DiscImage::new(self, number, hashes)
    }
}

#[cfg(test)]
mod tests;

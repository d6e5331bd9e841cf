//! Which entries and parts go on which disc.
//!
//! The entries form one sequence (depth-first order); a disc takes the sequence from a
//! cursor (an entry, and a byte offset into it when a file continues from the disc before)
//! to another. For each disc the planner estimates how far it reaches, lays the disc out
//! for real, and corrects the cursor by what the layout says until the disc is full to
//! within a few blocks: the estimate says where to look, the layout decides.
//!
//! The generated files need room on every disc before their contents are known (the
//! catalogue lists parts that packing creates), so packing reserves room for them; after
//! packing, every disc is laid out again with the real files. Should a real file be larger
//! than its reservation (it never was in testing), packing runs again with more room.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::disc::{Content, PartSpec, disc_blocks};
use super::files::{self, Generated};
use super::snapshot::{Kind, Snapshot};
use super::volume;
use super::{DiscSet, MAX_DISCS, Part, PlanError, PlanOptions, PlannedDisc, Split, part_name};
use crate::iso9660::records::BLOCK;

/// Blocks every disc needs besides entries and generated files: system area, descriptors,
/// the zero block, padding, the root and `backup/` directories of both trees, path tables.
const FIXED_BLOCKS: u64 = 16 + 3 + 1 + 150 + 8 + 4;
/// How many layouts one disc may take to fill.
const MAX_TRIES: usize = 16;

/// A position in the sequence of entries: entry `entry`, `offset` bytes into it (only
/// files that may be split have an offset other than 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cursor {
    pub entry: u32,
    pub offset: u64,
}

/// A disc as packing decides it: from `start` to `end`, its first part numbered `head`.
#[derive(Debug, Clone, Copy)]
struct Draft {
    start: Cursor,
    end: Cursor,
    head_number: u32,
}

/// Bytes kept for the generated files on every disc while packing.
#[derive(Debug, Clone, Copy)]
struct Reserve {
    catalog: u64,
    readme: u64,
    set_json: u64,
}

impl Reserve {
    fn blocks(&self) -> u64 {
        [self.catalog, self.readme, self.set_json]
            .iter()
            .map(|b| b.div_ceil(BLOCK))
            .sum()
    }
}

/// Estimated bytes of every entry on a disc (its records, manifest line, data), summed in
/// order, so that a byte budget maps to a cursor by binary search.
struct Estimate {
    /// `cum[i]`: the estimated bytes of entries `0..i`.
    cum: Vec<u64>,
    /// Files larger than this may be split.
    split_min: u64,
}

/// Estimated metadata bytes of one entry: both trees' records, path table records and
/// block ends for directories, the manifest line for files.
fn meta_bytes(snapshot: &Snapshot, index: u32, path_len: u64) -> u64 {
    let entry = snapshot.entry(index);
    let name = entry.name().len() as u64;
    let target = entry.target().len() as u64;
    let mut iso = 33 + name.min(37) + 1 + 44 + 26 + 5 + name;
    if entry.kind() == Kind::Symlink {
        iso += target + 5 + target / 200 * 5;
    }
    if iso > 254 {
        iso += 28;
    }
    let joliet = match entry.kind() {
        Kind::Symlink => 0,
        _ => 34 + 2 * name.min(64),
    };
    let extra = match entry.kind() {
        Kind::File => 64 + 3 + 7 + path_len,
        Kind::Directory => 2 * 1024 + 4 * (8 + name.min(64) * 2) + 2 * (34 + 100),
        Kind::Symlink => 0,
    };
    iso + joliet + extra
}

impl Estimate {
    fn new(snapshot: &Snapshot, capacity_blocks: u64) -> Estimate {
        let n = snapshot.len() as usize;
        let mut cum = Vec::with_capacity(n + 1);
        let mut total = 0u64;
        // Path lengths of the open directories, to estimate manifest lines.
        let mut dir_len: HashMap<u32, u64> = HashMap::new();
        dir_len.insert(0, super::TREE_FOLDER.len() as u64);
        for index in 0..n as u32 {
            cum.push(total);
            if index == 0 {
                continue;
            }
            let entry = snapshot.entry(index);
            let parent_len = dir_len.get(&entry.parent()).copied().unwrap_or(64);
            let path_len = parent_len + 1 + entry.name().len() as u64;
            if entry.kind() == Kind::Directory {
                dir_len.insert(index, path_len);
            }
            total += meta_bytes(snapshot, index, path_len) + entry.size().div_ceil(BLOCK) * BLOCK;
        }
        cum.push(total);
        Estimate {
            cum,
            split_min: (capacity_blocks * BLOCK / 1024).max(8 * 1024),
        }
    }

    fn meta(&self, snapshot: &Snapshot, index: u32) -> u64 {
        let i = index as usize;
        let whole = self.cum[i + 1] - self.cum[i];
        whole - snapshot.entry(index).size().div_ceil(BLOCK) * BLOCK
    }

    fn splittable(&self, snapshot: &Snapshot, index: u32) -> bool {
        let entry = snapshot.entry(index);
        entry.kind() == Kind::File && entry.size() > self.split_min
    }

    /// Where `cursor` is in estimated bytes.
    fn position(&self, snapshot: &Snapshot, cursor: Cursor) -> u64 {
        let base = self.cum[cursor.entry as usize];
        if cursor.offset == 0 {
            base
        } else {
            base + self.meta(snapshot, cursor.entry) + cursor.offset
        }
    }

    /// The furthest cursor after `start` whose estimated bytes from the sequence's start
    /// are at most `target`; `start` itself when none is.
    fn cursor_at(&self, snapshot: &Snapshot, start: Cursor, target: u64) -> Cursor {
        let n = snapshot.len();
        if target >= self.cum[n as usize] {
            return Cursor {
                entry: n,
                offset: 0,
            };
        }
        let i = (self.cum.partition_point(|&c| c <= target) - 1) as u32;
        if i < start.entry {
            return start;
        }
        if self.splittable(snapshot, i) {
            let into = target - self.cum[i as usize];
            let meta = self.meta(snapshot, i);
            if into > meta {
                let offset = (into - meta) / BLOCK * BLOCK;
                let size = snapshot.entry(i).size();
                let floor = if i == start.entry { start.offset } else { 0 };
                if offset >= size {
                    return Cursor {
                        entry: i + 1,
                        offset: 0,
                    };
                }
                if offset > floor {
                    return Cursor { entry: i, offset };
                }
            }
        }
        if i == start.entry && start.offset > 0 {
            return start;
        }
        Cursor {
            entry: i,
            offset: 0,
        }
    }

    /// The smallest step after `start`: one block of a split file, or the next entry.
    fn step(&self, snapshot: &Snapshot, start: Cursor) -> Cursor {
        let size = snapshot.entry(start.entry).size();
        if self.splittable(snapshot, start.entry) && start.offset + BLOCK < size {
            Cursor {
                entry: start.entry,
                offset: start.offset + BLOCK,
            }
        } else {
            Cursor {
                entry: start.entry + 1,
                offset: 0,
            }
        }
    }
}

/// How the parts of split files are named, decided once per file.
struct Naming {
    capacity_bytes: u64,
    chosen: HashMap<u32, (String, usize)>,
}

impl Naming {
    /// The suffix and digit count of file `entry`'s parts: `.part` and 3 digits, unless
    /// the file's directory already holds such a name (then `.part1-`, `.part2-`...), and
    /// more digits for a file of over a few hundred discs.
    fn of(&mut self, snapshot: &Snapshot, entry: u32) -> (String, usize) {
        if let Some(found) = self.chosen.get(&entry) {
            return found.clone();
        }
        let size = snapshot.entry(entry).size();
        let most_parts = size / (self.capacity_bytes / 2).max(1) + 2;
        let width = most_parts.to_string().len().max(3);
        let name = snapshot.entry(entry).name();
        let parent = snapshot.entry(entry).parent();
        let mut attempt = 0u32;
        let suffix = loop {
            let suffix = if attempt == 0 {
                ".part".to_string()
            } else {
                format!(".part{attempt}-")
            };
            let clash = (1..=most_parts.min(100_000) as u32)
                .any(|number| snapshot.has_child(parent, &part_name(name, &suffix, width, number)));
            if !clash {
                break suffix;
            }
            attempt += 1;
        };
        self.chosen.insert(entry, (suffix.clone(), width));
        (suffix, width)
    }
}

/// What a disc from `start` to `end` holds.
fn content(
    snapshot: &Snapshot,
    naming: &mut Naming,
    start: Cursor,
    end: Cursor,
    head_number: u32,
) -> Content {
    let spec = |naming: &mut Naming, entry: u32, number: u32, offset: u64, len: u64| {
        let (suffix, width) = naming.of(snapshot, entry);
        PartSpec {
            entry,
            name: part_name(snapshot.entry(entry).name(), &suffix, width, number),
            offset,
            len,
        }
    };
    let head = (start.offset > 0).then(|| {
        let e = start.entry;
        let stop = if end.entry == e {
            end.offset
        } else {
            snapshot.entry(e).size()
        };
        spec(naming, e, head_number, start.offset, stop - start.offset)
    });
    let whole_start = if start.offset > 0 {
        start.entry + 1
    } else {
        start.entry
    };
    let whole = whole_start..end.entry.max(whole_start);
    let tail = (end.offset > 0 && head.as_ref().is_none_or(|h| h.entry != end.entry))
        .then(|| spec(naming, end.entry, 1, 0, end.offset));
    Content { head, whole, tail }
}

struct Packer<'a> {
    snapshot: &'a Snapshot,
    options: &'a PlanOptions,
    estimate: &'a Estimate,
    naming: Naming,
    reserve: Reserve,
}

impl Packer<'_> {
    fn exact(&mut self, start: Cursor, end: Cursor, head_number: u32) -> Result<u64, PlanError> {
        let content = content(self.snapshot, &mut self.naming, start, end, head_number);
        let generated = Generated::Reserved {
            catalog: self.reserve.catalog,
            readme: self.reserve.readme,
            set_json: self.reserve.set_json,
        };
        disc_blocks(self.snapshot, self.options, &content, &generated)
    }

    /// Where the disc starting at `start` ends: as far as its layout fits.
    fn fill(&mut self, start: Cursor, head_number: u32) -> Result<Cursor, PlanError> {
        let capacity = self.options.capacity_blocks;
        let snapshot = self.snapshot;
        let n = snapshot.len();
        let stop_slack = (capacity / 2000).max(4);
        let base = self.estimate.position(snapshot, start);
        let fixed = (FIXED_BLOCKS + self.reserve.blocks()) * BLOCK;
        let mut budget = (capacity * BLOCK).saturating_sub(fixed);
        let mut good: Option<(u64, Cursor)> = None;
        let mut bad: Option<u64> = None;
        let mut last: Option<(Cursor, u64)> = None;
        for _ in 0..MAX_TRIES {
            let cursor = self.estimate.cursor_at(snapshot, start, base + budget);
            let blocks = match last {
                Some((c, b)) if c == cursor => b,
                _ if cursor <= start => u64::MAX,
                _ => self.exact(start, cursor, head_number)?,
            };
            last = Some((cursor, blocks));
            let next = if blocks <= capacity {
                if good.is_none_or(|(_, g)| cursor > g) {
                    good = Some((budget, cursor));
                }
                let slack = capacity - blocks;
                if cursor.entry >= n || slack <= stop_slack {
                    break;
                }
                let mut next = budget + slack * BLOCK;
                if let Some(b) = bad
                    && next >= b
                {
                    next = budget + (b - budget) / 2;
                }
                next
            } else {
                bad = Some(bad.map_or(budget, |b| b.min(budget)));
                let over = blocks.saturating_sub(capacity).min(budget / BLOCK);
                let mut next = budget.saturating_sub(over * BLOCK + BLOCK);
                if let Some((g, _)) = good
                    && next <= g
                {
                    next = g + (budget - g) / 2;
                }
                next
            };
            if next == budget {
                break;
            }
            budget = next;
        }
        if let Some((_, cursor)) = good {
            return Ok(cursor);
        }
        // Nothing fitted by the estimate: the smallest step must.
        let step = self.estimate.step(snapshot, start);
        if self.exact(start, step, head_number)? <= capacity {
            return Ok(step);
        }
        Err(PlanError::CapacityTooSmall { capacity })
    }

    fn pack(&mut self) -> Result<Vec<Draft>, PlanError> {
        let n = self.snapshot.len();
        let mut drafts = Vec::new();
        let mut start = Cursor {
            entry: 1,
            offset: 0,
        };
        let mut head_number = 1;
        loop {
            if drafts.len() as u32 >= MAX_DISCS {
                return Err(PlanError::TooManyDiscs { max: MAX_DISCS });
            }
            let mut end = if start.entry >= n {
                start
            } else {
                self.fill(start, head_number)?
            };
            if end.entry < n && end.offset >= self.snapshot.entry(end.entry).size() {
                end = Cursor {
                    entry: end.entry + 1,
                    offset: 0,
                };
            }
            drafts.push(Draft {
                start,
                end,
                head_number,
            });
            head_number = match (end.offset > 0, start.offset > 0 && end.entry == start.entry) {
                (false, _) => 1,
                (true, true) => head_number + 1,
                (true, false) => 2,
            };
            start = end;
            if start.entry >= n {
                return Ok(drafts);
            }
        }
    }
}

/// Plans the set: packing with reserved room, then exact sizes with the real files.
pub(super) fn plan(snapshot: Arc<Snapshot>, options: PlanOptions) -> Result<DiscSet, PlanError> {
    let estimate = Estimate::new(&snapshot, options.capacity_blocks);
    let mut reserve = Reserve {
        catalog: files::catalog_bound(&snapshot, &options, estimate_parts(&snapshot, &options)),
        readme: files::readme_bound(&options),
        set_json: files::set_json_bound(&options),
    };
    let mut fallback: Option<DiscSet> = None;
    for _round in 0..4 {
        let mut packer = Packer {
            snapshot: &snapshot,
            options: &options,
            estimate: &estimate,
            naming: Naming {
                capacity_bytes: options.capacity_blocks * BLOCK,
                chosen: HashMap::new(),
            },
            reserve,
        };
        let drafts = packer.pack()?;
        let mut set = assemble(
            Arc::clone(&snapshot),
            options.clone(),
            &drafts,
            &mut packer.naming,
        );
        let mut fits = true;
        let mut needed = reserve;
        let mut needed_now = Reserve {
            catalog: 0,
            readme: 0,
            set_json: 0,
        };
        for number in 1..=set.discs.len() as u32 {
            let generated = Generated::real(&set, number);
            let content = disc_content(&set, number);
            let blocks = disc_blocks(&snapshot, &options, &content, &generated)?;
            let (catalog, readme, set_json) = generated.sizes();
            needed.catalog = needed.catalog.max(catalog);
            needed.readme = needed.readme.max(readme);
            needed.set_json = needed.set_json.max(set_json);
            needed_now.catalog = needed_now.catalog.max(catalog);
            needed_now.readme = needed_now.readme.max(readme);
            needed_now.set_json = needed_now.set_json.max(set_json);
            set.discs[number as usize - 1].image_blocks = blocks;
            fits &= blocks <= options.capacity_blocks;
        }
        let wasted = reserve.blocks().saturating_sub(
            Reserve {
                catalog: needed_now.catalog,
                readme: needed_now.readme,
                set_json: needed_now.set_json,
            }
            .blocks(),
        );
        match (fits, fallback.take()) {
            // Room was reserved for the catalogue's parts before packing made them: pack
            // once more with what the real files need, unless that no longer fits.
            (true, None) if wasted > 1 => fallback = Some(set),
            (true, _) => return Ok(set),
            (false, Some(earlier)) => return Ok(earlier),
            (false, None) => {}
        }
        reserve = if fits {
            Reserve {
                catalog: needed_now.catalog + BLOCK,
                ..needed_now
            }
        } else {
            Reserve {
                catalog: needed.catalog + 4 * BLOCK,
                ..needed
            }
        };
    }
    if let Some(set) = fallback {
        return Ok(set);
    }
    Err(PlanError::DidNotConverge {
        disc: 0,
        capacity: options.capacity_blocks,
    })
}

/// A generous guess at how many parts packing will make: two per disc, and every disc's
/// worth of a large file.
fn estimate_parts(snapshot: &Snapshot, options: &PlanOptions) -> u64 {
    let capacity = options.capacity_blocks * BLOCK;
    let discs = snapshot.bytes() / capacity.max(1) + 2;
    2 * discs + 8
}

/// What disc `number` of a planned set holds.
pub(crate) fn disc_content(set: &DiscSet, number: u32) -> Content {
    let disc = &set.discs[number as usize - 1];
    let mut head = None;
    let mut tail = None;
    for part in &set.parts[disc.parts.start as usize..disc.parts.end as usize] {
        let split = set
            .split_of(part.entry)
            .expect("a part belongs to a split file");
        let spec = PartSpec {
            entry: part.entry,
            name: split.part_name(set.snapshot.entry(part.entry).name(), part.number),
            offset: part.offset,
            len: part.len,
        };
        if part.entry < disc.entries.start {
            head = Some(spec);
        } else {
            tail = Some(spec);
        }
    }
    Content {
        head,
        whole: disc.entries.clone(),
        tail,
    }
}

/// The set from the drafts: parts, splits, discs, label, volume IDs and plan ID.
fn assemble(
    snapshot: Arc<Snapshot>,
    options: PlanOptions,
    drafts: &[Draft],
    naming: &mut Naming,
) -> DiscSet {
    let mut parts = Vec::new();
    let mut discs = Vec::new();
    let count = drafts.len() as u32;
    let mut id = Sha256::new();
    id.update(b"burnstation-disc-set/1\0");
    id.update(options.snapshot_name.as_bytes());
    id.update(options.snapshot_time.to_le_bytes());
    id.update(options.capacity_blocks.to_le_bytes());
    id.update(snapshot.len().to_le_bytes());
    id.update(snapshot.bytes().to_le_bytes());
    for (i, draft) in drafts.iter().enumerate() {
        let number = i as u32 + 1;
        let content = content(&snapshot, naming, draft.start, draft.end, draft.head_number);
        let first_part = parts.len() as u32;
        let mut files = 0;
        let mut data_bytes = 0;
        for (spec, part_number) in [(&content.head, draft.head_number), (&content.tail, 1)] {
            if let Some(spec) = spec {
                parts.push(Part {
                    entry: spec.entry,
                    number: part_number,
                    offset: spec.offset,
                    len: spec.len,
                    disc: number,
                });
                files += 1;
                data_bytes += spec.len;
            }
        }
        for index in content.whole.clone() {
            let entry = snapshot.entry(index);
            if entry.kind() == Kind::File {
                files += 1;
                data_bytes += entry.size();
            }
        }
        for value in [
            content.whole.start as u64,
            content.whole.end as u64,
            u64::from(first_part),
            parts.len() as u64,
        ] {
            id.update(value.to_le_bytes());
        }
        discs.push(PlannedDisc {
            number,
            volume_id: volume::volume_id(
                &options.label_prefix,
                options.snapshot_time,
                number,
                count,
            ),
            image_blocks: 0,
            entries: content.whole,
            parts: first_part..parts.len() as u32,
            files,
            data_bytes,
        });
    }
    for part in &parts {
        id.update(part.offset.to_le_bytes());
        id.update(part.len.to_le_bytes());
    }
    // Parts of one file are consecutive; number them within their file.
    let mut splits: Vec<Split> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        match splits.last_mut() {
            Some(split) if split.entry == part.entry => split.parts.end = index as u32 + 1,
            _ => {
                let (suffix, width) = naming.of(&snapshot, part.entry);
                splits.push(Split {
                    entry: part.entry,
                    suffix,
                    width,
                    parts: index as u32..index as u32 + 1,
                });
            }
        }
    }
    let digest = id.finalize();
    let plan_id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    DiscSet {
        label: volume::set_label(&options.label_prefix, options.snapshot_time),
        snapshot,
        options,
        plan_id,
        parts,
        splits,
        discs,
    }
}

//! Region maps: which bytes of a disc image belong to which file, and their hashes.
//!
//! Verification must say *which files* a bad sector or a wrong byte touches, not just "the
//! image differs". So an image is cut into regions (block ranges): each file's extents, and
//! everything else ("filesystem structures": descriptors, directories, path tables, padding).
//! While the image streams towards the drive, a [`RegionHasher`] computes one SHA-256 per
//! region; read-back computes the same over what the disc returns, and the station's
//! verification turns the differences into owners a person can act on.
//!
//! This is the one answer to "which file owns block N" for every part of the station: a map
//! is built from whatever knows the layout, the writer's plan for a tree we image ourselves
//! ([`RegionMap::of_layout`]) or the directory records of an existing image
//! ([`RegionMap::of_entries`]). What a block holds when no file owns it (a directory, a
//! path table) is [`Layout::structure_at`]'s finer answer for our own images.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::layout::Layout;
use super::reader::{IsoEntry, IsoEntryKind};
use super::records::BLOCK;

/// Who a region belongs to, as a report holds it (owned; see [`OwnerRef`] for the map's
/// own, compact view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// File data. Hard-linked files share their data, so one region can have several names.
    File {
        /// Paths relative to the image root, as raw bytes (names need not be UTF-8).
        names: Vec<Vec<u8>>,
    },
    /// Volume descriptors, directories, path tables, padding: anything that is not file data.
    Structures,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::File { names } => {
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "/{}", String::from_utf8_lossy(name))?;
                }
                Ok(())
            }
            Owner::Structures => {
                f.write_str("the filesystem structures (directories, descriptors)")
            }
        }
    }
}

/// A run of blocks with one owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First block.
    pub start: u64,
    /// Number of blocks (at least 1).
    pub blocks: u64,
    /// Bytes that matter, from the region's start: a file's size (its last block is padded
    /// with zeros no reader looks at), or every byte for structures. The region's hash
    /// covers exactly these bytes, so a file's region hash is the SHA-256 of its contents,
    /// the very value `SHA256SUMS` lists.
    pub bytes: u64,
    /// The owner, for [`RegionMap::owner`]; 0 is always the filesystem structures.
    pub owner: u32,
}

impl Region {
    /// One past the last block.
    pub fn end(&self) -> u64 {
        self.start + self.blocks
    }
}

/// Regions covering an image from block 0 to its end, without gaps or overlaps.
///
/// A burn keeps one for the whole image, 100 000 files and more, so owners are small: a
/// region refers to its owner by number, and the names are looked up only when a report
/// needs them.
#[derive(Debug, Clone)]
pub struct RegionMap {
    regions: Vec<Region>,
    names: Names,
    total_blocks: u64,
}

/// Where a map finds its owners' names.
#[derive(Debug, Clone)]
enum Names {
    /// Kept by the map: the names of all files back to back in one arena. For an image we
    /// did not lay out (its directory records read back).
    Listed {
        /// Each owner's names, as a range of `name_ends`; owner 0 (structures) has none.
        owners: Vec<Range<u32>>,
        /// Every name, back to back.
        name_bytes: Vec<u8>,
        /// Where each name ends in `name_bytes`.
        name_ends: Vec<u32>,
    },
    /// The layout's own, for an image we lay out: owner `n` is the layout's data file
    /// `n - 1`, every one of them (an empty file owns no region). A second copy of every
    /// path would be about 8 MB for 100 000 files, held through the whole burn.
    Layout(Arc<Layout>),
}

/// An owner as the map holds it: structures, or a file with one or more names.
#[derive(Debug, Clone, Copy)]
pub struct OwnerRef<'m> {
    map: &'m RegionMap,
    owner: u32,
}

impl<'m> OwnerRef<'m> {
    /// True for the filesystem structures (everything that is not file data).
    pub fn is_structures(&self) -> bool {
        self.owner == 0
    }

    /// The file's names, paths from the image root (none for structures).
    pub fn names(self) -> Vec<Vec<u8>> {
        match &self.map.names {
            Names::Listed {
                owners,
                name_bytes,
                name_ends,
            } => owners[self.owner as usize]
                .clone()
                .map(|n| {
                    let start = match n {
                        0 => 0,
                        n => name_ends[n as usize - 1] as usize,
                    };
                    name_bytes[start..name_ends[n as usize] as usize].to_vec()
                })
                .collect(),
            Names::Layout(layout) => match self.data_file() {
                Some(data) => layout.data_file(data).names().collect(),
                None => Vec::new(),
            },
        }
    }

    /// For a map of a layout ([`RegionMap::of_layout`]): the index of the layout's data
    /// file this owner is (`None` for structures, and for every owner of other maps).
    pub fn data_file(self) -> Option<u32> {
        match &self.map.names {
            Names::Layout(_) if self.owner > 0 => Some(self.owner - 1),
            _ => None,
        }
    }

    /// The owned form, for reports.
    pub fn to_owner(&self) -> Owner {
        if self.is_structures() {
            Owner::Structures
        } else {
            Owner::File {
                names: self.names(),
            }
        }
    }
}

impl fmt::Display for OwnerRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_owner().fmt(f)
    }
}

/// The extents handed to [`RegionMap::build`] do not describe a possible image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Two files claim the same block.
    #[error("the image layout is inconsistent: {first} and {second} both claim block {block}")]
    Overlap {
        /// One claimant.
        first: String,
        /// The other.
        second: String,
        /// A block both claim.
        block: u64,
    },
    /// A file extent reaches past the end of the image.
    #[error(
        "the image layout is inconsistent: {owner} reaches block {end}, past the image end {total}"
    )]
    PastEnd {
        /// The claimant.
        owner: String,
        /// One past its last block.
        end: u64,
        /// The image size in blocks.
        total: u64,
    },
}

impl RegionMap {
    /// Builds the map of an image of `total_blocks` blocks from its files: each item is a
    /// file's extents, as (first block, length in bytes), and its names. Blocks no file
    /// claims become the filesystem structures. Extents of length 0 are ignored; an extent
    /// whose length is not a whole number of blocks owns its last, partly used block too.
    pub fn build(
        total_blocks: u64,
        files: impl IntoIterator<Item = (Vec<(u64, u64)>, Vec<Vec<u8>>)>,
    ) -> Result<RegionMap, RegionError> {
        // Owner 0, the structures, has no names.
        let mut owners: Vec<Range<u32>> = std::iter::once(0..0).collect();
        let mut name_bytes = Vec::new();
        let mut name_ends = Vec::new();
        let mut claimed: Vec<Region> = Vec::new();
        for (extents, names) in files {
            if extents.iter().all(|&(_, bytes)| bytes == 0) {
                continue;
            }
            let owner = owners.len() as u32;
            let first = name_ends.len() as u32;
            for name in names {
                name_bytes.extend_from_slice(&name);
                name_ends.push(name_bytes.len() as u32);
            }
            owners.push(first..name_ends.len() as u32);
            claim(&mut claimed, owner, extents);
        }
        name_bytes.shrink_to_fit();
        let names = Names::Listed {
            owners,
            name_bytes,
            name_ends,
        };
        RegionMap::of_claims(total_blocks, names, claimed)
    }

    /// The map of `claimed` (file extents, in any order) once their owners' names are
    /// known: the gaps between them become the structures.
    fn of_claims(
        total_blocks: u64,
        names: Names,
        mut claimed: Vec<Region>,
    ) -> Result<RegionMap, RegionError> {
        let mut map = RegionMap {
            regions: Vec::new(),
            names,
            total_blocks,
        };
        claimed.sort_by_key(|r| r.start);

        let mut regions = Vec::with_capacity(claimed.len() * 2 + 1);
        let mut next = 0u64;
        for region in claimed {
            if region.end() > total_blocks {
                return Err(RegionError::PastEnd {
                    owner: map.owner(region.owner).to_string(),
                    end: region.end(),
                    total: total_blocks,
                });
            }
            if region.start < next {
                let previous = regions.last().map_or(0, |r: &Region| r.owner);
                return Err(RegionError::Overlap {
                    first: map.owner(previous).to_string(),
                    second: map.owner(region.owner).to_string(),
                    block: region.start,
                });
            }
            if region.start > next {
                push_merged(&mut regions, structures(next, region.start - next));
            }
            push_merged(&mut regions, region);
            next = region.end();
        }
        if next < total_blocks {
            push_merged(&mut regions, structures(next, total_blocks - next));
        }
        regions.shrink_to_fit();
        map.regions = regions;
        Ok(map)
    }

    /// The map of an image we lay out ourselves: every data file of `layout` (the manifest
    /// and generated files too), named by the layout itself (see [`OwnerRef::data_file`]).
    pub fn of_layout(layout: &Arc<Layout>) -> Result<RegionMap, RegionError> {
        let mut claimed = Vec::with_capacity(layout.data_files().len());
        for (data, file) in layout.data_files().enumerate() {
            let extents = file.extents();
            claim(
                &mut claimed,
                data as u32 + 1,
                extents.iter().map(|e| (e.lba, e.length)),
            );
        }
        RegionMap::of_claims(
            layout.total_blocks(),
            Names::Layout(Arc::clone(layout)),
            claimed,
        )
    }

    /// The map of an image of `total_blocks` blocks from a reader's entries (its regular
    /// files; names of one file, hard links, become one owner).
    pub fn of_entries(total_blocks: u64, entries: &[IsoEntry]) -> Result<RegionMap, RegionError> {
        RegionMap::from_named_files(
            total_blocks,
            entries
                .iter()
                .filter(|e| e.kind == IsoEntryKind::File)
                .map(|e| {
                    (
                        e.extents.iter().map(|x| (x.lba, x.length)).collect(),
                        e.path.clone(),
                    )
                }),
        )
    }

    /// Builds the map from files listed one entry per name, such as a reader's directory
    /// walk: entries whose data starts at the same block are one file with several names
    /// (hard links share their extents). Each item is (the file's extents as (first block,
    /// length in bytes), its name).
    pub fn from_named_files(
        total_blocks: u64,
        files: impl IntoIterator<Item = (Vec<(u64, u64)>, Vec<u8>)>,
    ) -> Result<RegionMap, RegionError> {
        /// A file's extents and every name it has.
        type Named = (Vec<(u64, u64)>, Vec<Vec<u8>>);
        let mut by_start: std::collections::BTreeMap<u64, Named> = Default::default();
        for (extents, name) in files {
            let Some(&(start, _)) = extents.iter().find(|(_, len)| *len > 0) else {
                continue;
            };
            by_start
                .entry(start)
                .or_insert_with(|| (extents, Vec::new()))
                .1
                .push(name);
        }
        RegionMap::build(total_blocks, by_start.into_values())
    }

    /// The regions in block order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Owner `owner` (a [`Region::owner`]).
    pub fn owner(&self, owner: u32) -> OwnerRef<'_> {
        OwnerRef { map: self, owner }
    }

    /// How many owners there are, structures included.
    pub fn owner_count(&self) -> usize {
        match &self.names {
            Names::Listed { owners, .. } => owners.len(),
            Names::Layout(layout) => layout.data_files().len() + 1,
        }
    }

    /// The image size in blocks.
    pub fn total_blocks(&self) -> u64 {
        self.total_blocks
    }

    /// The owner of `block`, or `None` past the end of the image.
    pub fn owner_of(&self, block: u64) -> Option<OwnerRef<'_>> {
        let i = self.regions.partition_point(|r| r.end() <= block);
        self.regions
            .get(i)
            .filter(|r| r.start <= block)
            .map(|r| self.owner(r.owner))
    }
}

/// Adds the non-empty `extents` (first block, length in bytes) of `owner` to `claimed`.
fn claim(claimed: &mut Vec<Region>, owner: u32, extents: impl IntoIterator<Item = (u64, u64)>) {
    for (start, bytes) in extents.into_iter().filter(|&(_, bytes)| bytes > 0) {
        claimed.push(Region {
            start,
            blocks: bytes.div_ceil(BLOCK),
            bytes,
            owner,
        });
    }
}

fn structures(start: u64, blocks: u64) -> Region {
    Region {
        start,
        blocks,
        bytes: blocks * BLOCK,
        owner: 0,
    }
}

/// Adjacent runs of one owner become one region: structures runs stay whole, and the
/// extents of a multi-extent file (all but the last a whole number of blocks) hash as one
/// file. A run that does not fill its blocks cannot be continued, so it ends the region.
fn push_merged(regions: &mut Vec<Region>, region: Region) {
    if let Some(last) = regions.last_mut()
        && last.owner == region.owner
        && last.end() == region.start
        && last.bytes == last.blocks * BLOCK
    {
        last.blocks += region.blocks;
        last.bytes += region.bytes;
        return;
    }
    regions.push(region);
}

/// Computes one SHA-256 per region, and one over everything, from bytes fed in image order.
#[derive(Debug)]
pub struct RegionHasher<'m> {
    map: &'m RegionMap,
    /// Index of the region the next byte belongs to.
    current: usize,
    /// Bytes of the current region still to come that count towards its hash.
    left_hashed: u64,
    /// Bytes after those, up to the region's end (the zero tail of a file's last block).
    left_slack: u64,
    region_hash: Sha256,
    /// The whole-image hash, unless the caller gets it elsewhere.
    image_hash: Option<Sha256>,
    /// Hash file regions too (read-back), or only structures (the writer's side, whose
    /// image stream already hashed every file).
    hash_files: bool,
    hashes: Vec<[u8; 32]>,
    /// For a structures-only hasher, the region of each of `hashes`.
    hashed_regions: Vec<u32>,
    fed: u64,
}

/// What a [`RegionHasher`] computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionHashes {
    /// One hash per region fed completely, in order; for a structures-only hasher, one per
    /// structures region (so a burn does not hold 32 bytes per file for nothing).
    hashes: Vec<[u8; 32]>,
    /// For a structures-only hasher, the region index of each of `hashes`; empty when
    /// every region was hashed.
    hashed_regions: Vec<u32>,
    /// The SHA-256 of all bytes fed (all zeros for a structures-only hasher).
    pub image: [u8; 32],
    /// How many bytes were fed.
    pub bytes: u64,
}

impl RegionHashes {
    /// The hash of region `region`, if it was hashed: fed completely, and, for a
    /// structures-only hasher, a structures region.
    pub fn region(&self, region: usize) -> Option<&[u8; 32]> {
        if self.hashed_regions.is_empty() {
            return self.hashes.get(region);
        }
        let i = self
            .hashed_regions
            .binary_search(&u32::try_from(region).ok()?)
            .ok()?;
        self.hashes.get(i)
    }
}

impl<'m> RegionHasher<'m> {
    /// A hasher of every region and of the whole image, for an image laid out as `map`.
    pub fn new(map: &'m RegionMap) -> RegionHasher<'m> {
        RegionHasher::with(map, true)
    }

    /// A hasher of the structures regions only, for a stream whose files (and whole-image
    /// hash) are hashed already: file regions get an all-zero placeholder, to be replaced
    /// with the stream's own file hashes, so no byte is hashed twice on the way out.
    pub fn structures_only(map: &'m RegionMap) -> RegionHasher<'m> {
        RegionHasher::with(map, false)
    }

    fn with(map: &'m RegionMap, hash_files: bool) -> RegionHasher<'m> {
        let first = map.regions.first();
        RegionHasher {
            map,
            current: 0,
            left_hashed: first.map_or(0, |r| r.bytes),
            left_slack: first.map_or(0, |r| r.blocks * BLOCK - r.bytes),
            region_hash: Sha256::new(),
            image_hash: hash_files.then(Sha256::new),
            hash_files,
            hashes: Vec::with_capacity(if hash_files { map.regions.len() } else { 0 }),
            hashed_regions: Vec::new(),
            fed: 0,
        }
    }

    /// Feeds the next bytes of the image. Bytes past the map's end (padding to the drive's
    /// write unit) count towards the image hash only.
    pub fn update(&mut self, mut bytes: &[u8]) {
        if let Some(image) = &mut self.image_hash {
            image.update(bytes);
        }
        self.fed += bytes.len() as u64;
        while !bytes.is_empty() && self.current < self.map.regions.len() {
            let take = (bytes.len() as u64).min(self.left_hashed) as usize;
            if self.hash_files || self.map.regions[self.current].owner == 0 {
                self.region_hash.update(&bytes[..take]);
            }
            bytes = &bytes[take..];
            self.left_hashed -= take as u64;
            let skip = (bytes.len() as u64).min(self.left_slack) as usize;
            bytes = &bytes[skip..];
            self.left_slack -= skip as u64;
            if self.left_hashed == 0 && self.left_slack == 0 {
                let hash = self.region_hash.finalize_reset().into();
                let is_file = self.map.regions[self.current].owner != 0;
                if self.hash_files {
                    self.hashes.push(hash);
                } else if !is_file {
                    self.hashes.push(hash);
                    self.hashed_regions.push(self.current as u32);
                }
                self.current += 1;
                let next = self.map.regions.get(self.current);
                self.left_hashed = next.map_or(0, |r| r.bytes);
                self.left_slack = next.map_or(0, |r| r.blocks * BLOCK - r.bytes);
            }
        }
    }

    /// The hashes so far. Regions that were not fed completely get no hash, so a short
    /// stream can never compare equal to a complete one.
    pub fn finish(self) -> RegionHashes {
        RegionHashes {
            hashes: self.hashes,
            hashed_regions: self.hashed_regions,
            image: self.image_hash.map_or([0; 32], |h| h.finalize().into()),
            bytes: self.fed,
        }
    }
}

/// The distinct owners of a set of regions, in block order, each once.
pub fn owners_of(map: &RegionMap, regions: impl IntoIterator<Item = usize>) -> Vec<Owner> {
    let mut seen = vec![false; map.owner_count()];
    let mut owners = Vec::new();
    for i in regions {
        let owner = map.regions[i].owner;
        if !std::mem::replace(&mut seen[owner as usize], true) {
            owners.push(map.owner(owner).to_owner());
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regions whose hashes differ between what was meant and what was read, as indexes into
    /// the map's regions; a region missing from either side (a short read) counts as
    /// different, the rule the station's verification applies to reports.
    fn differing_regions(
        expected: &RegionHashes,
        actual: &RegionHashes,
        map: &RegionMap,
    ) -> Vec<usize> {
        (0..map.regions().len())
            .filter(|&i| expected.region(i).is_none() || expected.region(i) != actual.region(i))
            .collect()
    }

    fn name(s: &str) -> Vec<Vec<u8>> {
        vec![s.as_bytes().to_vec()]
    }

    /// An image of 40 blocks: structures 0..20, a.txt 20..22 (3000 bytes), b.bin 22..25
    /// (two extents of one file), a gap, c 30..31.
    fn sample() -> RegionMap {
        RegionMap::build(
            40,
            vec![
                (vec![(22, 4096), (24, 2048)], name("b.bin")),
                (vec![(20, 3000)], name("a.txt")),
                (vec![(30, 1)], name("dir/c")),
                (vec![(35, 0)], name("empty")),
            ],
        )
        .unwrap()
    }

    #[test]
    fn gaps_become_structures_and_extents_keep_their_owner() {
        let map = sample();
        let spans: Vec<(u64, u64, String)> = map
            .regions()
            .iter()
            .map(|r| (r.start, r.blocks, map.owner(r.owner).to_string()))
            .collect();
        let structures = Owner::Structures.to_string();
        assert_eq!(
            spans,
            vec![
                (0, 20, structures.clone()),
                (20, 2, "/a.txt".to_string()),
                (22, 3, "/b.bin".to_string()),
                (25, 5, structures.clone()),
                (30, 1, "/dir/c".to_string()),
                (31, 9, structures),
            ]
        );
        assert_eq!(map.owner_of(21).unwrap().to_string(), "/a.txt");
        assert!(map.owner_of(39).unwrap().is_structures());
        assert!(map.owner_of(40).is_none());
    }

    #[test]
    fn inconsistent_layouts_are_refused() {
        let overlap = RegionMap::build(
            10,
            vec![(vec![(2, 4096)], name("x")), (vec![(3, 10)], name("y"))],
        )
        .unwrap_err();
        assert!(
            overlap.to_string().contains("/x") && overlap.to_string().contains("/y"),
            "{overlap}"
        );
        let past = RegionMap::build(10, vec![(vec![(9, 4096)], name("big"))]).unwrap_err();
        assert!(matches!(
            past,
            RegionError::PastEnd {
                end: 11,
                total: 10,
                ..
            }
        ));
    }

    #[test]
    fn a_changed_byte_names_exactly_its_file() {
        let map = sample();
        let image: Vec<u8> = (0..40 * BLOCK).map(|i| (i % 251) as u8).collect();
        let mut expected = RegionHasher::new(&map);
        // Feed in odd-sized pieces: boundaries must not depend on how bytes arrive.
        for piece in image.chunks(3333) {
            expected.update(piece);
        }
        let expected = expected.finish();
        assert!(expected.region(map.regions().len() - 1).is_some());
        assert!(expected.region(map.regions().len()).is_none());

        let mut damaged = image.clone();
        damaged[(23 * BLOCK + 5) as usize] ^= 0x40;
        let mut actual = RegionHasher::new(&map);
        actual.update(&damaged);
        let actual = actual.finish();
        assert_ne!(actual.image, expected.image);
        let bad = differing_regions(&expected, &actual, &map);
        let owners: Vec<String> = owners_of(&map, bad).iter().map(|o| o.to_string()).collect();
        assert_eq!(owners, vec!["/b.bin"]);
    }

    #[test]
    fn a_file_region_hashes_to_the_sha256_of_its_contents() {
        let map = sample();
        let mut image: Vec<u8> = vec![0; (40 * BLOCK) as usize];
        let a_txt: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
        image[(20 * BLOCK) as usize..(20 * BLOCK) as usize + 3000].copy_from_slice(&a_txt);
        // Garbage in the slack of a.txt's last block changes the image, not the file.
        image[(20 * BLOCK) as usize + 3500] = 0xee;
        let mut hasher = RegionHasher::new(&map);
        hasher.update(&image);
        let hashes = hasher.finish();
        let a_region = map.regions().iter().position(|r| r.start == 20).unwrap();
        let want: [u8; 32] = Sha256::digest(&a_txt).into();
        assert_eq!(hashes.region(a_region), Some(&want));
        // b.bin's two extents (2 + 1 blocks, all full) hash as one 6144-byte file.
        let b_region = map.regions().iter().position(|r| r.start == 22).unwrap();
        assert_eq!(map.regions()[b_region].bytes, 6144);
        let want: [u8; 32] =
            Sha256::digest(&image[(22 * BLOCK) as usize..(25 * BLOCK) as usize]).into();
        assert_eq!(hashes.region(b_region), Some(&want));
    }

    #[test]
    fn a_structures_only_hasher_leaves_files_to_the_stream() {
        let map = sample();
        let image: Vec<u8> = (0..40 * BLOCK).map(|i| (i % 13) as u8).collect();
        let mut full = RegionHasher::new(&map);
        full.update(&image);
        let full = full.finish();
        let mut structures = RegionHasher::structures_only(&map);
        structures.update(&image);
        let structures = structures.finish();
        for (i, region) in map.regions().iter().enumerate() {
            if region.owner == 0 {
                assert_eq!(structures.region(i), full.region(i));
                assert!(structures.region(i).is_some());
            } else {
                assert_eq!(structures.region(i), None);
            }
        }
        assert_eq!(structures.image, [0; 32]);
    }

    #[test]
    fn names_sharing_data_are_one_file() {
        let map = RegionMap::from_named_files(
            10,
            vec![
                (vec![(4, 100)], b"a".to_vec()),
                (vec![(6, 10)], b"c".to_vec()),
                (vec![(4, 100)], b"b/hardlink".to_vec()),
                (vec![], b"empty".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(map.owner_of(4).unwrap().to_string(), "/a, /b/hardlink");
        assert_eq!(map.owner_of(6).unwrap().to_string(), "/c");
    }

    #[test]
    fn a_short_read_never_compares_equal() {
        let map = sample();
        let image = vec![0u8; (40 * BLOCK) as usize];
        let mut full = RegionHasher::new(&map);
        full.update(&image);
        let mut short = RegionHasher::new(&map);
        short.update(&image[..(30 * BLOCK) as usize]);
        let bad = differing_regions(&full.finish(), &short.finish(), &map);
        assert_eq!(
            bad,
            vec![4, 5],
            "the regions never read must count as different"
        );
    }
}

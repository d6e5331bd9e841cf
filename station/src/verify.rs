//! Verifying a disc: read back exactly the image's blocks and compare them with what was
//! meant, naming every file a difference or an unreadable block touches.
//!
//! What "meant" is depends on what we have:
//! - right after a burn, the hashes computed while the image streamed to the drive
//!   ([`crate::pipeline`]);
//! - an image file (`verify --image`): its own bytes, hashed first;
//! - nothing but the disc (`verify`, or `verify --manifest M`): the `SHA256SUMS` the disc
//!   carries (or a copy kept elsewhere), checked against the files the disc's own directory
//!   lists.
//!
//! All three go through one [`RegionMap`] and one sequential read of the disc, so a disc is
//! read once, in order, however it is checked.
//!
//! A disc that cannot be checked says why in words: a blank disc is blank, an interrupted
//! burn is one (with what to do about it), a disc shorter than its image or its own
//! filesystem fails as incomplete without reading past its end, and a manifest that lists
//! nothing is refused rather than passing a disc nobody checked.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use burnstation_hal::{
    Cancel, DiscReader, Drive, DriveError, InterruptedDisc, MediaInfo, ReadBackError,
    ReadBackOptions, ReadProgress, SectorMap, Transport, interrupted_burn,
};
use burnstation_images::digest::for_each_chunk;
use burnstation_images::iso9660::{
    BLOCK, IsoEntry, IsoEntryKind, IsoImage, MANIFEST_NAME, ManifestEntry, ManifestFormatError,
    Owner, ReadError, RegionError, RegionHasher, RegionHashes, RegionMap, owners_of,
    parse_manifest,
};
use sha2::{Digest, Sha256};

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Blocks compared.
    pub blocks: u64,
    /// How every block read.
    pub sectors: SectorMap,
    /// Files (or structures) whose bytes differ from what was meant.
    pub mismatched: Vec<Owner>,
    /// Files (or structures) with unreadable blocks.
    pub unreadable: Vec<Owner>,
    /// Files the manifest lists that the disc does not have.
    pub missing: Vec<Vec<u8>>,
    /// Regular files on the disc that the manifest does not list (a warning, not a failure:
    /// their bytes were still read).
    pub unlisted: Vec<Vec<u8>>,
    /// Whether the whole image hashes the same, when there is a whole-image hash to compare
    /// (after a burn, and against an image file).
    pub image_matches: Option<bool>,
    /// Files checked against an expected hash.
    pub files_checked: usize,
    /// The disc's readable blocks, when it ends before the image (or its filesystem) does:
    /// the blocks after it were not read and count as unreadable.
    pub disc_ends_after: Option<u64>,
}

impl VerifyReport {
    /// True when the disc holds exactly what was meant and every block read.
    pub fn passed(&self) -> bool {
        self.mismatched.is_empty()
            && self.unreadable.is_empty()
            && self.missing.is_empty()
            && self.image_matches != Some(false)
            && self.disc_ends_after.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            write!(
                f,
                "verified: all {} blocks read back as meant ({} files checked; {})",
                self.blocks, self.files_checked, self.sectors
            )?;
            if !self.unlisted.is_empty() {
                write!(
                    f,
                    "; note: {} file(s) on the disc are not in the manifest",
                    self.unlisted.len()
                )?;
            }
            return Ok(());
        }
        write!(f, "verification FAILED ({}):", self.sectors)?;
        for owner in &self.unreadable {
            write!(f, "\n  unreadable: {owner}")?;
        }
        for owner in &self.mismatched {
            write!(f, "\n  differs:    {owner}")?;
        }
        for path in &self.missing {
            write!(f, "\n  missing:    /{}", String::from_utf8_lossy(path))?;
        }
        if let Some(readable) = self.disc_ends_after {
            write!(
                f,
                "\n  the disc ends after {readable} blocks, but {} were meant: an incomplete burn, or not the disc this was burnt to",
                self.blocks
            )?;
        }
        if self.image_matches == Some(false)
            && self.mismatched.is_empty()
            && self.unreadable.is_empty()
        {
            f.write_str("\n  differs:    bytes that belong to no file (the zero tail of blocks)")?;
        }
        f.write_str("\nThe disc cannot be trusted: burn the data onto a new disc (and try this disc in another drive, if it is unreadable there too, discard it)")
    }
}

/// Why a verification could not be carried out (as opposed to a disc that failed it).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Asking the drive failed.
    #[error(transparent)]
    Drive(#[from] DriveError),
    /// Reading back failed as a whole.
    #[error(transparent)]
    ReadBack(#[from] ReadBackError),
    /// Nothing was ever written to the disc.
    #[error(
        "the disc in {device} is blank: there is nothing on it to verify (insert the disc you meant, or burn this one first)"
    )]
    Blank {
        /// The drive.
        device: String,
    },
    /// The disc holds a burn that never finished.
    #[error("the disc in {device} cannot be verified: {interrupted}")]
    Interrupted {
        /// The drive.
        device: String,
        /// What the disc holds and what can be done with it.
        interrupted: InterruptedDisc,
    },
    /// The disc ends before its own filesystem, and the manifest was in the missing part.
    #[error(
        "the disc ends after {readable} blocks, but its filesystem claims {volume}: it is incomplete and cannot be counted as a good copy (to see which files survive, verify it against a kept --manifest or the --image)"
    )]
    Incomplete {
        /// Blocks the disc holds.
        readable: u64,
        /// Blocks its volume descriptor claims.
        volume: u64,
    },
    /// A manifest that lists no file would pass a disc nobody checked.
    #[error(
        "the manifest {what} lists no files, so it cannot vouch for the {files} file(s) on the disc: give a manifest that lists them, or the image the disc was burnt from (--image)"
    )]
    EmptyManifest {
        /// Which manifest: a path, or "on the disc".
        what: String,
        /// Regular files on the disc.
        files: usize,
    },
    /// The image file to compare with could not be read.
    #[error("could not read the image {}: {source}; check the path", .path.display())]
    Image {
        /// The image.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The image file is not whole blocks.
    #[error("{} is not a disc image: its size ({bytes} bytes) is not a whole, non-zero number of {BLOCK}-byte blocks", .path.display())]
    NotBlocks {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The disc holds no filesystem the station can read.
    #[error(
        "the disc holds no ISO 9660 filesystem the station can read ({0}); to compare it with an image, use --image"
    )]
    NoFilesystem(ReadError),
    /// The disc's manifest could not be read.
    #[error(
        "could not read {MANIFEST_NAME} from the disc ({0}); the disc may be damaged: try it in another drive, or verify with --image"
    )]
    ManifestOnDisc(#[source] io::Error),
    /// No manifest to check against.
    #[error(
        "the disc carries no {MANIFEST_NAME}: give the manifest with --manifest, or the image with --image"
    )]
    NoManifest,
    /// The manifest file could not be read.
    #[error("could not read the manifest {}: {source}", .path.display())]
    ManifestFile {
        /// The manifest.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The manifest could not be parsed.
    #[error(transparent)]
    ManifestFormat(#[from] ManifestFormatError),
    /// The image's own layout is inconsistent.
    #[error(transparent)]
    Regions(#[from] RegionError),
    /// The disc's directories describe no possible image (files overlapping, or reaching
    /// past the volume's end): they are damaged.
    #[error(
        "the disc's filesystem is damaged ({0}), so it cannot be checked against a manifest: verify it against the image it was burnt from (--image), or discard it"
    )]
    DamagedFilesystem(RegionError),
}

/// Compares read-back hashes with the expected ones; `expected` may leave regions without
/// an expectation (`None`), which are then only checked for readability.
pub fn compare(
    map: &RegionMap,
    expected: &[Option<[u8; 32]>],
    actual: &RegionHashes,
    sectors: SectorMap,
    image_matches: Option<bool>,
) -> VerifyReport {
    let differing =
        (0..map.regions().len()).filter(|&i| match expected.get(i).copied().flatten() {
            Some(want) => actual.region(i) != Some(&want),
            None => false,
        });
    let mismatched: Vec<Owner> = owners_of(map, differing);
    let unreadable_regions = sectors.unreadable().flat_map(|run| {
        let regions = map.regions();
        let first = regions.partition_point(|r| r.end() <= run.start);
        let last = regions.partition_point(|r| r.start < run.start + run.blocks);
        first..last
    });
    let unreadable: Vec<Owner> = owners_of(map, unreadable_regions.collect::<Vec<_>>());
    // A file that is unreadable is reported as such, not also as different.
    let mismatched = mismatched
        .into_iter()
        .filter(|o| !unreadable.contains(o))
        .collect();
    let files_checked = map
        .regions()
        .iter()
        .zip(expected)
        .filter(|(r, e)| r.owner != 0 && e.is_some())
        .count();
    VerifyReport {
        blocks: map.total_blocks(),
        sectors,
        mismatched,
        unreadable,
        missing: Vec::new(),
        unlisted: Vec::new(),
        image_matches,
        files_checked,
        disc_ends_after: None,
    }
}

/// Waits for the disc and says what it holds, refusing (in words) a disc that holds
/// nothing to verify: a blank one, or an interrupted burn.
fn disc_to_verify<T: Transport>(drive: &mut Drive<T>) -> Result<MediaInfo, VerifyError> {
    drive.wait_until_ready(std::time::Duration::from_secs(60))?;
    let media = drive.media()?;
    let device = drive.name().to_string();
    if media.is_blank() {
        return Err(VerifyError::Blank { device });
    }
    if let Some(interrupted) = interrupted_burn(&media) {
        return Err(VerifyError::Interrupted {
            device,
            interrupted,
        });
    }
    Ok(media)
}

/// Reads and hashes the disc as [`read_and_hash`] does, but never past its `readable`
/// blocks: what lies beyond counts as unreadable (a read there could only fail, block by
/// block, and on a damaged volume size that would take for ever).
fn read_within<T: Transport>(
    drive: &mut Drive<T>,
    map: &RegionMap,
    readable: u64,
    options: &ReadBackOptions,
    events: &mut dyn FnMut(ReadProgress),
    cancel: &Cancel,
) -> Result<(RegionHashes, SectorMap, Option<u64>), ReadBackError> {
    let wanted = map.total_blocks();
    let read = wanted.min(readable);
    let mut hasher = RegionHasher::new(map);
    let mut sectors = drive.read_back(
        0,
        read,
        options,
        &mut |_, chunk| hasher.update(chunk),
        events,
        cancel,
    )?;
    sectors.add_unread(read, wanted - read);
    let short = (read < wanted).then_some(read);
    Ok((hasher.finish(), sectors, short))
}

/// Reads `map.total_blocks()` blocks back and hashes them per region.
pub fn read_and_hash<T: Transport>(
    drive: &mut Drive<T>,
    map: &RegionMap,
    options: &ReadBackOptions,
    events: &mut dyn FnMut(ReadProgress),
    cancel: &Cancel,
) -> Result<(RegionHashes, SectorMap), ReadBackError> {
    let mut hasher = RegionHasher::new(map);
    let sectors = drive.read_back(
        0,
        map.total_blocks(),
        options,
        &mut |_, chunk| hasher.update(chunk),
        events,
        cancel,
    )?;
    Ok((hasher.finish(), sectors))
}

/// Verifies the disc against an image file, block for block.
pub fn against_image<T: Transport>(
    drive: &mut Drive<T>,
    image: &Path,
    options: &ReadBackOptions,
    events: &mut dyn FnMut(ReadProgress),
    cancel: &Cancel,
) -> Result<VerifyReport, VerifyError> {
    let (map, expected) = image_regions(image)?;
    let media = disc_to_verify(drive)?;
    let (actual, sectors, short) =
        read_within(drive, &map, media.readable_blocks, options, events, cancel)?;
    let wanted: Vec<Option<[u8; 32]>> = (0..map.regions().len())
        .map(|i| expected.region(i).copied())
        .collect();
    let mut report = compare(
        &map,
        &wanted,
        &actual,
        sectors,
        Some(actual.image == expected.image),
    );
    report.disc_ends_after = short;
    Ok(report)
}

/// The region map of an image file of `blocks` blocks: its files named when it is an ISO
/// 9660 image we can read, one "structures" region otherwise.
pub fn image_map(path: &Path, blocks: u64) -> Result<RegionMap, VerifyError> {
    image_map_or_blocks(path, blocks).map(|(map, _)| map)
}

/// [`image_map`], saying why the image is compared as plain blocks when it is: the reader's
/// error for a file that holds no ISO 9660 filesystem it can read.
pub fn image_map_or_blocks(
    path: &Path,
    blocks: u64,
) -> Result<(RegionMap, Option<ReadError>), VerifyError> {
    let err = |source| VerifyError::Image {
        path: path.to_path_buf(),
        source,
    };
    Ok(match IsoImage::open(File::open(path).map_err(err)?) {
        Ok(iso) => (RegionMap::of_entries(blocks, iso.entries())?, None),
        Err(e) => {
            tracing::info!(image = %path.display(), error = %e, "not an ISO 9660 image; comparing it as blocks");
            (RegionMap::build(blocks, Vec::new())?, Some(e))
        }
    })
}

/// The size of an image file in blocks, refusing what is not a file of whole blocks.
pub fn image_blocks(path: &Path) -> Result<u64, VerifyError> {
    let meta = std::fs::metadata(path).map_err(|source| VerifyError::Image {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(VerifyError::Image {
            path: path.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is not a regular file (a pipe, a device or a directory)",
            ),
        });
    }
    let bytes = meta.len();
    if bytes % BLOCK != 0 || bytes == 0 {
        return Err(VerifyError::NotBlocks {
            path: path.to_path_buf(),
            bytes,
        });
    }
    Ok(bytes / BLOCK)
}

/// The region map of an image file and its hashes.
pub fn image_regions(path: &Path) -> Result<(RegionMap, RegionHashes), VerifyError> {
    let err = |source| VerifyError::Image {
        path: path.to_path_buf(),
        source,
    };
    let map = image_map(path, image_blocks(path)?)?;
    let mut hasher = RegionHasher::new(&map);
    let mut file = File::open(path).map_err(err)?;
    for_each_chunk(&mut file, |chunk| {
        hasher.update(chunk);
        Ok::<(), io::Error>(())
    })
    .map_err(err)?;
    let hashes = hasher.finish();
    Ok((map, hashes))
}

/// Verifies the disc against a `SHA256SUMS` manifest: the disc's own (`manifest: None`) or
/// a copy kept elsewhere.
pub fn against_manifest<T: Transport>(
    drive: &mut Drive<T>,
    manifest: Option<&Path>,
    options: &ReadBackOptions,
    events: &mut dyn FnMut(ReadProgress),
    cancel: &Cancel,
) -> Result<VerifyReport, VerifyError> {
    // A manifest kept elsewhere is read first: a wrong path fails before the drive works.
    let kept = manifest
        .map(|path| {
            std::fs::read(path).map_err(|source| VerifyError::ManifestFile {
                path: path.to_path_buf(),
                source,
            })
        })
        .transpose()?;
    let readable = disc_to_verify(drive)?.readable_blocks;
    let (volume_blocks, entries, manifest_bytes) = {
        let mut reader = DiscReader::with_options(drive, readable, options);
        let mut iso = IsoImage::open(&mut reader).map_err(VerifyError::NoFilesystem)?;
        let volume = iso.volume().volume_blocks;
        let manifest_bytes = match kept {
            Some(bytes) => bytes,
            None => {
                let entry = iso
                    .entry(MANIFEST_NAME.as_bytes())
                    .cloned()
                    .ok_or(VerifyError::NoManifest)?;
                let mut bytes = Vec::new();
                iso.open_file(&entry).read_to_end(&mut bytes).map_err(|e| {
                    if volume > readable {
                        VerifyError::Incomplete { readable, volume }
                    } else {
                        VerifyError::ManifestOnDisc(e)
                    }
                })?;
                bytes
            }
        };
        (
            iso.volume().volume_blocks,
            iso.entries().to_vec(),
            manifest_bytes,
        )
    };
    let listed = parse_manifest(&manifest_bytes)?;
    let files_on_disc = entries
        .iter()
        .filter(|e| e.kind == IsoEntryKind::File && e.path != MANIFEST_NAME.as_bytes())
        .count();
    if listed.is_empty() && files_on_disc > 0 {
        return Err(VerifyError::EmptyManifest {
            what: manifest.map_or("on the disc".to_string(), |p| p.display().to_string()),
            files: files_on_disc,
        });
    }

    let map =
        RegionMap::of_entries(volume_blocks, &entries).map_err(VerifyError::DamagedFilesystem)?;
    let mut expected: Vec<Option<[u8; 32]>> = vec![None; map.regions().len()];
    let by_path: HashMap<&[u8], [u8; 32]> = listed
        .iter()
        .map(|e| (e.path.as_slice(), e.sha256))
        .collect();
    let mut conflicting = Vec::new();
    for (i, region) in map.regions().iter().enumerate() {
        let owner = map.owner(region.owner);
        let wanted: Vec<[u8; 32]> = owner
            .names()
            .iter()
            .filter_map(|n| by_path.get(n.as_slice()).copied())
            .collect();
        if let Some(first) = wanted.first() {
            if wanted.iter().any(|w| w != first) {
                // Two names of one file listed with different hashes: one is wrong.
                conflicting.push(owner.to_owner());
            }
            expected[i] = Some(*first);
        }
    }

    let (actual, sectors, short) = read_within(drive, &map, readable, options, events, cancel)?;
    let mut report = compare(&map, &expected, &actual, sectors, None);
    report.disc_ends_after = short;
    report.mismatched.extend(conflicting);

    let on_disc: HashMap<&[u8], &IsoEntry> = entries
        .iter()
        .filter(|e| e.kind == IsoEntryKind::File)
        .map(|e| (e.path.as_slice(), e))
        .collect();
    let empty: [u8; 32] = Sha256::digest([]).into();
    for ManifestEntry { path, sha256 } in &listed {
        match on_disc.get(path.as_slice()) {
            None => report.missing.push(path.clone()),
            Some(entry) if entry.size == 0 => {
                report.files_checked += 1;
                if *sha256 != empty {
                    report.mismatched.push(Owner::File {
                        names: vec![path.clone()],
                    });
                }
            }
            Some(_) => {}
        }
    }
    report.unlisted = entries
        .iter()
        .filter(|e| {
            e.kind == IsoEntryKind::File
                && e.path != MANIFEST_NAME.as_bytes()
                && !by_path.contains_key(e.path.as_slice())
        })
        .map(|e| e.path.clone())
        .collect();
    Ok(report)
}

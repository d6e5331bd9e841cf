//! The burn-one-disc pipeline: burn a tree (or an existing image) onto the disc in a drive,
//! then read every byte back.
//!
//! ```text
//! producer thread: files -> ImageStream (file + image SHA-256) -> structures hash -> ring
//! this thread:     ring -> Drive::burn (WRITE in whole units) -> Drive::read_back -> compare
//! ```
//!
//! The image is never stored: it is produced from the tree while the drive writes, through a
//! bounded ring buffer, and its exact size is known from the layout before the first byte.
//! The caller's thread is the drive thread: SCSI commands block, so run this on a thread of
//! its own (the command line does; the daemon gives each drive one). "Jobs" are the
//! daemon's: a job may run this pipeline once per disc of a set.
//!
//! Every burn of a laid-out image goes through [`burn_layout`], which takes the image's
//! stream (its [`Layout`] and where its files' bytes come from): a tree is laid out here
//! ([`burn_and_verify`]), a disc of a planned set arrives laid out already
//! ([`burn_planned_disc`]). One path serves one disc and a set.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burnstation_hal::priority::{DRIVE_NICE, raise_this_thread};
use burnstation_hal::{
    BurnError, BurnEvent, BurnOptions, BurnPlan, BurnReport, Cancel, DEFAULT_RING_BYTES, Drive,
    MAX_RING_BYTES, MIN_RING_BYTES, ReadBackOptions, ReadProgress, RingWriter, Transport, ring,
};
use burnstation_images::digest::for_each_chunk;
use burnstation_images::iso9660::{
    BLOCK, FileDigest, ImageDigest, ImageOptions, ImageStream, ImageWarning, Layout, LayoutError,
    ReadError, RegionError, RegionHasher, RegionHashes, RegionMap, ScanError, scan_tree,
};

use burnstation_images::plan::{DiscSet, PlanError, SetHashes, TREE_FOLDER};
use sha2::{Digest, Sha256};

use crate::verify::{self, VerifyError, VerifyReport, compare};

/// What goes onto the disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory tree, imaged on the fly (with its `SHA256SUMS`).
    Tree(PathBuf),
    /// An existing disc image file, written as it is.
    Image(PathBuf),
}

impl Source {
    /// A tree for a directory, an image for anything else.
    pub fn from_path(path: &Path) -> Source {
        if path.is_dir() {
            Source::Tree(path.to_path_buf())
        } else {
            Source::Image(path.to_path_buf())
        }
    }
}

/// How to run the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineOptions {
    /// The burn itself.
    pub burn: BurnOptions,
    /// The volume label of an imaged tree.
    pub volume_id: String,
    /// The volume's creation time (unix seconds): the snapshot's time, so that the same tree
    /// gives the same image.
    pub volume_time: i64,
    /// The host ring buffer's size, from [`MIN_RING_BYTES`] to [`MAX_RING_BYTES`].
    pub ring_bytes: usize,
    /// Burn an image file that holds no ISO 9660 filesystem (refused otherwise: it is
    /// almost always the wrong file, and the disc would hold nothing a reader can list).
    pub allow_non_iso: bool,
    /// The nice value the drive thread runs at while it writes (`None`: as it is). See
    /// `burnstation_hal::priority` for why.
    pub drive_nice: Option<i32>,
    /// Read the disc back after burning.
    pub verify: bool,
    /// How to read it back.
    pub read_back: ReadBackOptions,
}

impl Default for PipelineOptions {
    fn default() -> PipelineOptions {
        PipelineOptions {
            burn: BurnOptions::default(),
            volume_id: "BACKUP".to_string(),
            volume_time: 0,
            ring_bytes: DEFAULT_RING_BYTES,
            allow_non_iso: false,
            drive_nice: Some(DRIVE_NICE),
            verify: true,
            read_back: ReadBackOptions::default(),
        }
    }
}

/// What the pipeline reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineEvent {
    /// Reading the tree's metadata.
    Scanning,
    /// A value the image holds differently from how it was given (a cut volume ID, a
    /// clamped time): the burn goes on, and a person should hear it.
    Warning(ImageWarning),
    /// The image is laid out and the burn planned.
    Planned {
        /// The burn plan.
        plan: BurnPlan,
        /// Files on the disc (tree only).
        files: usize,
    },
    /// The burn's own events.
    Burn(BurnEvent),
    /// Worth telling the person, but no warning about the image (the drive thread could not
    /// get its priority, say).
    Note(String),
    /// Read-back began.
    Verifying {
        /// Bytes to read.
        bytes: u64,
    },
    /// Read-back progress.
    ReadBack(ReadProgress),
}

/// What a burnt disc holds and how its burn and read-back went: what a catalogue records.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscOutcome {
    /// The burn.
    pub burn: BurnReport,
    /// The image's size in bytes.
    pub image_bytes: u64,
    /// The image's SHA-256.
    pub image_sha256: [u8; 32],
    /// Every file on the disc with its size and SHA-256.
    pub files: DiscFiles,
    /// The read-back, when asked for.
    pub verify: Option<VerifyReport>,
}

/// Every file name on the disc with its size and SHA-256 (hard links each by name, the
/// manifest too), as the burn computed them. For an image file written as it is: the files
/// of its ISO 9660 tree when it has one, each whose data is one run of blocks (all of ours
/// are). A laid-out image keeps 32 bytes per file and shares the layout for the names, so
/// the outcome of a 100 000-file disc stays small.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscFiles(Files);

#[derive(Debug, Clone, PartialEq)]
enum Files {
    /// Our own image: the stream's digest.
    Laid(ImageDigest),
    /// An image file: what its region hashes say.
    Listed(Vec<FileDigest>),
}

impl DiscFiles {
    /// The files, in block order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = FileDigest> + '_> {
        match &self.0 {
            Files::Laid(digest) => Box::new(digest.files()),
            Files::Listed(files) => Box::new(files.iter().cloned()),
        }
    }
}

/// Why the pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The tree could not be read.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The tree cannot become an image (a bad name, too large for the disc...).
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The image file could not be read.
    #[error("could not read the image {}: {source}", .path.display())]
    Image {
        /// The image.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The image file holds no ISO 9660 filesystem, and that was not allowed.
    #[error(
        "{} holds no ISO 9660 filesystem ({reason}): it is probably not a disc image. Give the directory to burn instead, or add --non-iso to write this file as it is", .path.display()
    )]
    NotIso {
        /// The image.
        path: PathBuf,
        /// What the reader found.
        reason: ReadError,
    },
    /// The host buffer asked for is outside what a burn may use.
    #[error(
        "a host buffer of {bytes} bytes is outside {MIN_RING_BYTES}..={MAX_RING_BYTES}: choose one in that range"
    )]
    RingSize {
        /// What was asked for.
        bytes: usize,
    },
    /// The burn failed or was refused.
    #[error(transparent)]
    Burn(#[from] BurnError),
    /// The disc was burnt, but reading it back failed or was stopped.
    #[error(
        "the disc was burnt{}, but reading it back stopped: {source}; check it with `burnstation verify` before counting it as a copy", if *.finalized { " and finalized" } else { "" }
    )]
    ReadBackStopped {
        /// Whether the burn finalized the disc.
        finalized: bool,
        /// Why reading stopped.
        #[source]
        source: VerifyError,
    },
    /// Verification could not be carried out.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The layout is inconsistent (a bug).
    #[error(transparent)]
    Regions(#[from] RegionError),
    /// A disc of a planned set cannot be laid out.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The set has no such disc.
    #[error("the set has discs 1 to {discs}, not {disc}; choose one of them")]
    NoSuchDisc {
        /// The disc asked for.
        disc: u32,
        /// How many the set has.
        discs: u32,
    },
    /// A file changed between the hashing pass and the burn.
    #[error(
        "{path} on the disc does not have the SHA-256 the set's catalogue lists (it changed since the snapshot was hashed); the disc cannot count: hash the snapshot again and burn the disc again"
    )]
    ChangedSinceHashed {
        /// The file, as on the disc.
        path: String,
    },
}

/// What the producer thread hands back.
struct Produced {
    /// Per-region hashes: structures hashed here, files left to the stream (tree) or
    /// hashed here too (image).
    regions: RegionHashes,
    /// The stream's digest (tree only).
    digest: Option<ImageDigest>,
}

/// One run of the pipeline on one drive: what every stage needs, handed over once.
struct Run<'a, T: Transport> {
    drive: &'a mut Drive<T>,
    options: &'a PipelineOptions,
    events: &'a mut dyn FnMut(PipelineEvent),
    cancel: &'a Cancel,
}

/// Burns `source` onto the disc in `drive` and, unless told not to, reads it back.
pub fn burn_and_verify<T: Transport>(
    drive: &mut Drive<T>,
    source: &Source,
    options: &PipelineOptions,
    events: &mut dyn FnMut(PipelineEvent),
    cancel: &Cancel,
) -> Result<DiscOutcome, PipelineError> {
    if !(MIN_RING_BYTES..=MAX_RING_BYTES).contains(&options.ring_bytes) {
        return Err(PipelineError::RingSize {
            bytes: options.ring_bytes,
        });
    }
    match source {
        Source::Tree(root) => burn_tree(drive, root, options, events, cancel),
        Source::Image(path) => burn_image(drive, path, options, events, cancel),
    }
}

/// Lays the tree out for the disc in the drive, then burns that layout.
fn burn_tree<T: Transport>(
    drive: &mut Drive<T>,
    root: &Path,
    options: &PipelineOptions,
    events: &mut dyn FnMut(PipelineEvent),
    cancel: &Cancel,
) -> Result<DiscOutcome, PipelineError> {
    // Plan before reading the tree: a volunteer who inserted the wrong disc hears so at
    // once, not after a snapshot of 100 000 files was scanned; and the plan says the room
    // there is, so an oversized tree names the file that does not fit. The plan is sized
    // for the image once it is laid out, without asking the drive again.
    let medium = drive.plan_burn(1, &options.burn)?;
    events(PipelineEvent::Scanning);
    let entries = scan_tree(root)?;
    let image_options = ImageOptions {
        volume_id: options.volume_id.clone(),
        volume_time: options.volume_time,
        capacity_blocks: Some(medium.capacity_blocks),
        ..ImageOptions::default()
    };
    let layout = Layout::plan(entries, &image_options)?;
    let stream = ImageStream::new(Arc::new(layout), root.to_path_buf());
    burn_layout(drive, medium, stream, options, events, cancel)
}

/// Burns disc `disc` (1-based) of a planned set onto the disc in `drive` and reads it
/// back, through [`burn_layout`] like any image. `hashes` are the set's, from the hashing
/// pass: every disc's `CATALOG.txt` lists them, so a file whose bytes on this disc hash
/// otherwise (the snapshot changed since it was hashed) fails the disc, even though the
/// disc itself reads back as written.
pub fn burn_planned_disc<T: Transport>(
    drive: &mut Drive<T>,
    set: &Arc<DiscSet>,
    disc: u32,
    hashes: Arc<SetHashes>,
    options: &PipelineOptions,
    events: &mut dyn FnMut(PipelineEvent),
    cancel: &Cancel,
) -> Result<DiscOutcome, PipelineError> {
    if set.disc(disc).is_none() {
        return Err(PipelineError::NoSuchDisc {
            disc,
            discs: set.discs().len() as u32,
        });
    }
    // The disc in the drive is checked before anything else is done, as for a tree.
    let medium = drive.plan_burn(1, &options.burn)?;
    let image = set.disc_image(disc, Arc::clone(&hashes))?;
    // Laying the disc out freed the list of its entries (full paths, about 15 MB for
    // 100 000 files): give those pages back before the ring and the region map are made.
    crate::memory::give_back_freed();
    let outcome = burn_layout(drive, medium, image.stream(), options, events, cancel)?;
    check_catalogued(set, disc, &hashes, &outcome)?;
    Ok(outcome)
}

/// Fails when a file of the backup tree on the disc does not have the SHA-256 the set's
/// catalogue gives it. One order-independent fold over both lists finds whether any
/// differs, without holding either; only then are they sorted to name the file.
fn check_catalogued(
    set: &DiscSet,
    disc: u32,
    hashes: &SetHashes,
    outcome: &DiscOutcome,
) -> Result<(), PipelineError> {
    let tree = format!("{TREE_FOLDER}/");
    let fold = |acc: &mut [u8; 32], path: &[u8], sha: &[u8; 32]| {
        let mut h = Sha256::new();
        h.update((path.len() as u64).to_le_bytes());
        h.update(path);
        h.update(sha);
        for (a, b) in acc.iter_mut().zip(h.finalize()) {
            *a ^= b;
        }
    };
    let mut expected = [0u8; 32];
    set.for_each_disc_file(disc, hashes, &mut |path, sha| {
        fold(&mut expected, path, sha)
    });
    let burnt_files = || {
        outcome
            .files
            .iter()
            .filter(|f| f.path.starts_with(tree.as_bytes()))
    };
    let mut burnt = [0u8; 32];
    for file in burnt_files() {
        fold(&mut burnt, &file.path, &file.sha256);
    }
    if burnt == expected {
        return Ok(());
    }
    let mut listed = Vec::new();
    set.for_each_disc_file(disc, hashes, &mut |path, sha| {
        listed.push((path.to_vec(), *sha))
    });
    listed.sort();
    let mut actual: Vec<(Vec<u8>, [u8; 32])> = burnt_files().map(|f| (f.path, f.sha256)).collect();
    actual.sort();
    let differs = listed
        .iter()
        .zip(&actual)
        .find(|(a, b)| a != b)
        .map(|(a, _)| a.0.clone())
        .or_else(|| listed.get(actual.len()).map(|a| a.0.clone()))
        .unwrap_or_default();
    Err(PipelineError::ChangedSinceHashed {
        path: String::from_utf8_lossy(&differs).into_owned(),
    })
}

/// Burns the image `stream` produces and reads it back: the path every laid-out image
/// takes, whoever laid it out and wherever its files' bytes come from. `plan` is the
/// drive's plan for the disc in it ([`Drive::plan_burn`], for any size): it is sized for
/// the layout here.
pub fn burn_layout<T: Transport>(
    drive: &mut Drive<T>,
    plan: BurnPlan,
    stream: ImageStream,
    options: &PipelineOptions,
    events: &mut dyn FnMut(PipelineEvent),
    cancel: &Cancel,
) -> Result<DiscOutcome, PipelineError> {
    let layout = Arc::clone(stream.layout());
    let plan = plan.for_image(layout.total_blocks())?;
    let map = RegionMap::of_layout(&layout)?;
    for warning in layout.warnings() {
        events(PipelineEvent::Warning(warning.clone()));
    }
    events(PipelineEvent::Planned {
        plan: plan.clone(),
        files: layout.data_files().count(),
    });
    let mut run = Run {
        drive,
        options,
        events,
        cancel,
    };
    // The stream hashes every file and the whole image; only structures are hashed here.
    let (burn, produced) = run.burn_streamed(&plan, &map, false, move |writer, hasher| {
        let mut stream = stream;
        pump(&mut stream, writer, hasher)?;
        stream.finish().map(Some).map_err(io::Error::other)
    })?;
    let digest = produced
        .digest
        .expect("the tree producer returns the stream's digest");
    let expected = with_file_hashes(&map, &produced.regions, |data| {
        digest.data_file_sha256(data)
    });
    let verify = run.read_back(&map, expected, digest.image_sha256)?;
    Ok(DiscOutcome {
        burn,
        image_bytes: digest.image_bytes,
        image_sha256: digest.image_sha256,
        files: DiscFiles(Files::Laid(digest)),
        verify,
    })
}

fn burn_image<T: Transport>(
    drive: &mut Drive<T>,
    path: &Path,
    options: &PipelineOptions,
    events: &mut dyn FnMut(PipelineEvent),
    cancel: &Cancel,
) -> Result<DiscOutcome, PipelineError> {
    let image_err = |source| PipelineError::Image {
        path: path.to_path_buf(),
        source,
    };
    let from_verify = |e| match e {
        VerifyError::Image { source, .. } => image_err(source),
        other => PipelineError::Verify(other),
    };
    let blocks = verify::image_blocks(path).map_err(from_verify)?;
    // Name the files of the image where it is one we can read, for the verify report.
    let (map, not_iso) = verify::image_map_or_blocks(path, blocks).map_err(from_verify)?;
    if let Some(reason) = not_iso
        && !options.allow_non_iso
    {
        return Err(PipelineError::NotIso {
            path: path.to_path_buf(),
            reason,
        });
    }
    let plan = drive.plan_burn(blocks, &options.burn)?;
    events(PipelineEvent::Planned {
        plan: plan.clone(),
        files: 0,
    });
    let file = File::open(path).map_err(image_err)?;
    let mut run = Run {
        drive,
        options,
        events,
        cancel,
    };
    let (burn, produced) = run.burn_streamed(&plan, &map, true, move |writer, hasher| {
        let mut file = file;
        pump(&mut file, writer, hasher)?;
        Ok(None)
    })?;
    let image_sha256 = produced.regions.image;
    let files = DiscFiles(Files::Listed(file_digests(&map, &produced.regions)));
    let expected: Vec<Option<[u8; 32]>> = (0..map.regions().len())
        .map(|i| produced.regions.region(i).copied())
        .collect();
    let verify = run.read_back(&map, expected, image_sha256)?;
    Ok(DiscOutcome {
        burn,
        image_bytes: blocks * BLOCK,
        image_sha256,
        files,
        verify,
    })
}

/// Copies `from` into the ring, hashing per region on the way.
fn pump(
    from: &mut dyn io::Read,
    writer: &mut RingWriter,
    hasher: &mut RegionHasher<'_>,
) -> io::Result<()> {
    for_each_chunk(from, |chunk| {
        hasher.update(chunk);
        writer.write_all(chunk)
    })
    .map(drop)
}

/// The expected hash of every region after a burn from a tree: structures from the
/// writer's structures-only hasher, files (by their layout data file) from the image
/// stream's own file hashes.
fn with_file_hashes(
    map: &RegionMap,
    structures: &RegionHashes,
    file_hash: impl Fn(u32) -> [u8; 32],
) -> Vec<Option<[u8; 32]>> {
    map.regions()
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let owner = map.owner(region.owner);
            if owner.is_structures() {
                structures.region(i).copied()
            } else {
                owner.data_file().map(&file_hash)
            }
        })
        .collect()
}

/// The files of an image written as it is, from its region hashes: a file region's hash is
/// the SHA-256 of the file (see [`RegionMap`]). A file whose data is split over several
/// runs of blocks has no one region hash, and is left out.
fn file_digests(map: &RegionMap, hashes: &RegionHashes) -> Vec<FileDigest> {
    let mut regions_of = vec![0u32; map.owner_count()];
    for region in map.regions() {
        regions_of[region.owner as usize] += 1;
    }
    map.regions()
        .iter()
        .enumerate()
        .filter(|(_, region)| region.owner != 0 && regions_of[region.owner as usize] == 1)
        .filter_map(|(i, region)| Some((region, *hashes.region(i)?)))
        .flat_map(|(region, sha256)| {
            map.owner(region.owner)
                .names()
                .into_iter()
                .map(move |path| FileDigest {
                    path,
                    size: region.bytes,
                    sha256,
                })
        })
        .collect()
}

impl<T: Transport> Run<'_, T> {
    /// Runs `produce` on a producer thread writing into a ring, while this thread burns from
    /// the ring. A producer failure reaches the burn as a read error (naming the file), and a
    /// burn failure makes the producer's next write fail, so neither side waits forever.
    /// `hash_files`: hash file regions here too (an image file), or leave them to the image
    /// stream, which hashes every file anyway (a tree).
    fn burn_streamed<P>(
        &mut self,
        plan: &BurnPlan,
        map: &RegionMap,
        hash_files: bool,
        produce: P,
    ) -> Result<(BurnReport, Produced), PipelineError>
    where
        P: FnOnce(&mut RingWriter, &mut RegionHasher<'_>) -> io::Result<Option<ImageDigest>> + Send,
    {
        let (writer, mut reader) = ring(self.options.ring_bytes);
        std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let mut writer = writer;
                let mut hasher = if hash_files {
                    RegionHasher::new(map)
                } else {
                    RegionHasher::structures_only(map)
                };
                match produce(&mut writer, &mut hasher) {
                    Ok(digest) => {
                        drop(writer);
                        Ok(Produced {
                            regions: hasher.finish(),
                            digest,
                        })
                    }
                    Err(e) => {
                        let message = e.to_string();
                        writer.fail(e);
                        Err(message)
                    }
                }
            });
            let events = &mut *self.events;
            // Held for the writing only: reading back has no buffer to keep full.
            let priority = match self.options.drive_nice {
                Some(nice) => match raise_this_thread(nice) {
                    Ok(raised) => Some(raised),
                    Err(e) => {
                        events(PipelineEvent::Note(e.to_string()));
                        None
                    }
                },
                None => None,
            };
            let burn = self.drive.burn(
                plan,
                &mut reader,
                &mut |e| events(PipelineEvent::Burn(e)),
                self.cancel,
            );
            drop(priority);
            // Unblocks a producer still writing into a ring nobody drains.
            drop(reader);
            let produced = producer
                .join()
                .unwrap_or_else(|_| Err("the image producer crashed".to_string()));
            let burn = burn?;
            // The drive took every byte, but the producer found afterwards that the image was
            // wrong (a file changed while it was read): the disc must not count as good.
            let produced = produced.map_err(|message| {
                BurnError::source_failed_after_writing(plan, io::Error::other(message))
            })?;
            Ok((burn, produced))
        })
    }

    /// Reads the disc back and compares it, when the options ask for it.
    fn read_back(
        &mut self,
        map: &RegionMap,
        expected: Vec<Option<[u8; 32]>>,
        image_sha256: [u8; 32],
    ) -> Result<Option<VerifyReport>, PipelineError> {
        if !self.options.verify {
            return Ok(None);
        }
        let stopped = |source: VerifyError| PipelineError::ReadBackStopped {
            finalized: self.options.burn.finalize,
            source,
        };
        self.drive
            .wait_until_ready(Duration::from_secs(120))
            .map_err(|e| stopped(e.into()))?;
        (self.events)(PipelineEvent::Verifying {
            bytes: map.total_blocks() * BLOCK,
        });
        let events = &mut *self.events;
        let (actual, sectors) = verify::read_and_hash(
            self.drive,
            map,
            &self.options.read_back,
            &mut |p| events(PipelineEvent::ReadBack(p)),
            self.cancel,
        )
        .map_err(|e| stopped(e.into()))?;
        let image_matches = Some(image_sha256 == actual.image);
        Ok(Some(compare(
            map,
            &expected,
            &actual,
            sectors,
            image_matches,
        )))
    }
}

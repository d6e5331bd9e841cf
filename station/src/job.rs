//! The station's main job for one disc: burn a tree (or an existing image) onto the disc in
//! a drive, then read every byte back.
//!
//! ```text
//! producer thread: files -> ImageStream (file + image SHA-256) -> structures hash -> ring
//! this thread:     ring -> Drive::burn (WRITE in whole units) -> Drive::read_back -> compare
//! ```
//!
//! The image is never stored: it is produced from the tree while the drive writes, through a
//! bounded ring buffer, and its exact size is known from the layout before the first byte.
//! The caller's thread is the drive thread: SCSI commands block, so run this on a thread of
//! its own (the command line does; the daemon gives each drive one).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burnstation_hal::Drive;
use burnstation_hal::cancel::Cancel;
use burnstation_hal::drive::burn::DiscAfterFailure;
use burnstation_hal::drive::{
    BurnError, BurnEvent, BurnOptions, BurnPlan, BurnReport, ReadBackOptions, ReadProgress,
};
use burnstation_hal::ring::{DEFAULT_RING_BYTES, RingWriter, ring};
use burnstation_hal::scsi::Transport;
use burnstation_images::iso9660::{
    ImageDigest, ImageOptions, ImageStream, Layout, LayoutError, ScanError, scan_tree,
};

use crate::regions::{RegionError, RegionHasher, RegionHashes, RegionMap};
use crate::verify::{self, VerifyError, VerifyReport, compare, with_file_hashes};

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

/// How to run the job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOptions {
    /// The burn itself.
    pub burn: BurnOptions,
    /// The volume label of an imaged tree.
    pub volume_id: String,
    /// The volume's creation time (unix seconds): the snapshot's time, so that the same tree
    /// gives the same image.
    pub volume_time: i64,
    /// The host ring buffer's size.
    pub ring_bytes: usize,
    /// Read the disc back after burning.
    pub verify: bool,
    /// How to read it back.
    pub read_back: ReadBackOptions,
}

impl Default for JobOptions {
    fn default() -> JobOptions {
        JobOptions {
            burn: BurnOptions::default(),
            volume_id: "BACKUP".to_string(),
            volume_time: 0,
            ring_bytes: DEFAULT_RING_BYTES,
            verify: true,
            read_back: ReadBackOptions::default(),
        }
    }
}

/// What the job reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// Reading the tree's metadata.
    Scanning,
    /// The image is laid out and the burn planned.
    Planned {
        /// The burn plan.
        plan: BurnPlan,
        /// Files on the disc (tree only).
        files: usize,
    },
    /// The burn's own events.
    Burn(BurnEvent),
    /// Read-back began.
    Verifying {
        /// Bytes to read.
        bytes: u64,
    },
    /// Read-back progress.
    ReadBack(ReadProgress),
}

/// What a finished job did.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    /// The burn.
    pub burn: BurnReport,
    /// The image's size in bytes.
    pub image_bytes: u64,
    /// The image's SHA-256.
    pub image_sha256: [u8; 32],
    /// Files on the disc (tree only).
    pub files: usize,
    /// The read-back, when asked for.
    pub verify: Option<VerifyReport>,
}

/// Why the job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
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
    /// The burn failed or was refused.
    #[error(transparent)]
    Burn(#[from] BurnError),
    /// Verification could not be carried out.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The layout is inconsistent (a bug).
    #[error(transparent)]
    Regions(#[from] RegionError),
}

/// What the producer thread hands back.
struct Produced {
    /// Per-region hashes: structures hashed here, files left to the stream (tree) or
    /// hashed here too (image).
    regions: RegionHashes,
    /// The stream's digest (tree only).
    digest: Option<ImageDigest>,
}

/// Burns `source` onto the disc in `drive` and, unless told not to, reads it back.
pub fn burn_and_verify<T: Transport>(
    drive: &mut Drive<T>,
    source: &Source,
    options: &JobOptions,
    events: &mut dyn FnMut(JobEvent),
    cancel: &Cancel,
) -> Result<JobOutcome, JobError> {
    match source {
        Source::Tree(root) => burn_tree(drive, root, options, events, cancel),
        Source::Image(path) => burn_image(drive, path, options, events, cancel),
    }
}

fn burn_tree<T: Transport>(
    drive: &mut Drive<T>,
    root: &Path,
    options: &JobOptions,
    events: &mut dyn FnMut(JobEvent),
    cancel: &Cancel,
) -> Result<JobOutcome, JobError> {
    // Refuse an unusable disc before reading the tree: a volunteer who inserted the wrong
    // disc hears so at once, not after a snapshot of 100 000 files was scanned. This also
    // learns the room there is, so an oversized tree names the file that does not fit.
    let room = drive.plan_burn(1, &options.burn)?.capacity_blocks;
    events(JobEvent::Scanning);
    let entries = scan_tree(root)?;
    let image_options = ImageOptions {
        volume_id: options.volume_id.clone(),
        volume_time: options.volume_time,
        capacity_blocks: Some(room),
        ..ImageOptions::default()
    };
    let layout = Arc::new(Layout::plan(entries, &image_options)?);
    let total = layout.total_blocks();
    let mut file_count = 0;
    let map = RegionMap::build(
        total,
        layout.data_files().map(|file| {
            file_count += 1;
            let extents = file.extents().iter().map(|e| (e.lba, e.length)).collect();
            (extents, file.names().collect())
        }),
    )?;
    let plan = drive.plan_burn(total, &options.burn)?;
    events(JobEvent::Planned {
        plan: plan.clone(),
        files: file_count,
    });

    let stream = ImageStream::new(Arc::clone(&layout), root.to_path_buf());
    // The stream hashes every file and the whole image; only structures are hashed here.
    let (burn, produced) = burn_streamed(
        drive,
        &plan,
        options.ring_bytes,
        events,
        cancel,
        &map,
        false,
        move |writer, hasher| {
            let mut stream = stream;
            pump(&mut stream, writer, hasher)?;
            stream.finish().map(Some).map_err(io::Error::other)
        },
    )?;
    let digest = produced
        .digest
        .expect("the tree producer returns the stream's digest");
    let expected = with_file_hashes(&map, &produced.regions, |path| digest.file(path));
    let verify = read_back(
        drive,
        &map,
        expected,
        digest.image_sha256,
        options,
        events,
        cancel,
    )?;
    Ok(JobOutcome {
        burn,
        image_bytes: digest.image_bytes,
        image_sha256: digest.image_sha256,
        files: file_count,
        verify,
    })
}

fn burn_image<T: Transport>(
    drive: &mut Drive<T>,
    path: &Path,
    options: &JobOptions,
    events: &mut dyn FnMut(JobEvent),
    cancel: &Cancel,
) -> Result<JobOutcome, JobError> {
    let image_err = |source| JobError::Image {
        path: path.to_path_buf(),
        source,
    };
    let from_verify = |e| match e {
        VerifyError::Image { source, .. } => image_err(source),
        other => JobError::Verify(other),
    };
    let blocks = verify::image_blocks(path).map_err(from_verify)?;
    let bytes = blocks * 2048;
    // Name the files of the image where it is one we can read, for the verify report.
    let map = verify::image_map(path, blocks).map_err(from_verify)?;
    let plan = drive.plan_burn(blocks, &options.burn)?;
    events(JobEvent::Planned {
        plan: plan.clone(),
        files: 0,
    });
    let file = File::open(path).map_err(image_err)?;
    let (burn, produced) = burn_streamed(
        drive,
        &plan,
        options.ring_bytes,
        events,
        cancel,
        &map,
        true,
        move |writer, hasher| {
            let mut file = file;
            pump(&mut file, writer, hasher)?;
            Ok(None)
        },
    )?;
    let image_sha256 = produced.regions.image;
    let expected: Vec<Option<[u8; 32]>> =
        produced.regions.regions.iter().copied().map(Some).collect();
    let verify = read_back(drive, &map, expected, image_sha256, options, events, cancel)?;
    Ok(JobOutcome {
        burn,
        image_bytes: bytes,
        image_sha256,
        files: 0,
        verify,
    })
}

/// Runs `produce` on a producer thread writing into a ring, while this thread burns from
/// the ring. A producer failure reaches the burn as a read error (naming the file), and a
/// burn failure makes the producer's next write fail, so neither side waits forever.
/// `hash_files`: hash file regions here too (an image file), or leave them to the image
/// stream, which hashes every file anyway (a tree).
#[allow(clippy::too_many_arguments)]
fn burn_streamed<T, P>(
    drive: &mut Drive<T>,
    plan: &BurnPlan,
    ring_bytes: usize,
    events: &mut dyn FnMut(JobEvent),
    cancel: &Cancel,
    map: &RegionMap,
    hash_files: bool,
    produce: P,
) -> Result<(BurnReport, Produced), JobError>
where
    T: Transport,
    P: FnOnce(&mut RingWriter, &mut RegionHasher<'_>) -> io::Result<Option<ImageDigest>> + Send,
{
    let (writer, mut reader) = ring(ring_bytes);
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
        let burn = drive.burn(
            plan,
            &mut reader,
            &mut |e| events(JobEvent::Burn(e)),
            cancel,
        );
        // Unblocks a producer still writing into a ring nobody drains.
        drop(reader);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err("the image producer crashed".to_string()));
        let burn = burn?;
        // The drive took every byte, but the producer found afterwards that the image was
        // wrong (a file changed while it was read): the disc must not count as good.
        let produced = produced.map_err(|message| {
            JobError::Burn(BurnError::Source {
                source: io::Error::other(message),
                after: if plan.profile.is_write_once() {
                    DiscAfterFailure::Spoilt
                } else {
                    DiscAfterFailure::Rewritable
                },
            })
        })?;
        Ok((burn, produced))
    })
}

/// Copies `from` into the ring, hashing per region on the way.
fn pump(
    from: &mut dyn Read,
    writer: &mut RingWriter,
    hasher: &mut RegionHasher<'_>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n])?;
    }
}

/// Reads the disc back and compares it, when the options ask for it.
fn read_back<T: Transport>(
    drive: &mut Drive<T>,
    map: &RegionMap,
    expected: Vec<Option<[u8; 32]>>,
    image_sha256: [u8; 32],
    options: &JobOptions,
    events: &mut dyn FnMut(JobEvent),
    cancel: &Cancel,
) -> Result<Option<VerifyReport>, JobError> {
    if !options.verify {
        return Ok(None);
    }
    drive
        .wait_until_ready(Duration::from_secs(120))
        .map_err(|e| JobError::Verify(e.into()))?;
    events(JobEvent::Verifying {
        bytes: map.total_blocks() * 2048,
    });
    let (actual, sectors) = verify::read_and_hash(
        drive,
        map,
        &options.read_back,
        &mut |p| events(JobEvent::ReadBack(p)),
        cancel,
    )
    .map_err(|e| JobError::Verify(e.into()))?;
    let image_matches = Some(image_sha256 == actual.image);
    Ok(Some(compare(
        map,
        &expected,
        &actual,
        sectors,
        image_matches,
    )))
}

//! The streaming writer: the image's bytes in LBA order, produced from a [`Layout`] and the
//! source tree, as a `std::io::Read`.
//!
//! Each source file is opened once and read once, sequentially, straight into the caller's
//! buffer; the SHA-256 of every file and of the whole image are computed on the way, on two
//! helper threads (hashing is the main cost, and the board has more than one core).
//! Memory stays bounded: one directory's bytes at a time, a few hashing buffers, and 32
//! bytes per file. A file that vanished, became unreadable or changed size since the plan
//! stops the stream with an error naming it: the image is never silently wrong. So does one
//! rewritten in place, even to the same size: each file's modification time is checked
//! against the plan when it is opened, and its size, modification and change times against
//! the open file once its last byte is read (and its inode against the path, for a file
//! replaced by a rename while it was read).

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::layout::{DataSource, Layout, NodeKind};
use super::manifest;
use super::records::{BLOCK, BLOCK_USIZE};
use super::source::{FileSource, OpenedFile, TreeSource};

/// How many bytes of image the helper threads hash at once. Up to a dozen chunks are alive
/// (queued to either helper, being filled, waiting to be reused): 256 KiB keeps them at a
/// few MiB of the daemon's 64 MiB, and is still few enough hand-overs (17 000 for a full
/// DVD) to cost nothing measurable.
const HASH_CHUNK: usize = 256 << 10;
/// How many chunks may wait for the helper thread (bounds memory to a few MiB).
const HASH_QUEUE: usize = 3;
/// How much of the manifest is produced at a time.
const MANIFEST_CHUNK: usize = 64 * 1024;

/// Why the stream stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StreamError {
    #[error(
        "cannot open {path:?} to put it on the disc ({cause}); it vanished or became unreadable since the image was planned: plan the image again"
    )]
    Open { path: String, cause: Arc<io::Error> },
    #[error(
        "cannot read {path:?} ({cause}); check the disk holding the tree and plan the image again"
    )]
    Read { path: String, cause: Arc<io::Error> },
    #[error(
        "{path:?} changed size since the image was planned ({planned} bytes planned, {found}); the snapshot must not change while it is burnt: plan the image again"
    )]
    SizeChanged {
        path: String,
        planned: u64,
        found: String,
    },
    #[error(
        "{path:?} changed while it was put on the disc ({what}); the snapshot must not change while it is burnt: plan the image again"
    )]
    Changed { path: String, what: &'static str },
    #[error(
        "the image stream was finished before its last byte was read; read it to the end first"
    )]
    NotFinished,
    #[error("the image hashing thread failed; this is a bug in burnstation")]
    HasherFailed,
}

/// The SHA-256 of one file on the disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The path on the disc (every name of a hard-linked file has its own entry).
    pub path: Vec<u8>,
    /// The file's size in bytes.
    pub size: u64,
    pub sha256: [u8; 32],
}

/// What the stream computed: the image's SHA-256 and every file's. It keeps 32 bytes per
/// file and shares the layout for the names, so a 100 000-file digest stays small.
#[derive(Clone)]
pub struct ImageDigest {
    pub image_sha256: [u8; 32],
    pub image_bytes: u64,
    layout: Arc<Layout>,
    /// Indexed like the layout's data files.
    file_hashes: Vec<[u8; 32]>,
}

impl ImageDigest {
    /// The SHA-256 of the file at `path` (any of its names), if the image has one there.
    pub fn file(&self, path: &[u8]) -> Option<[u8; 32]> {
        let node = self.layout.find(path)?;
        match self.layout.nodes[node as usize].kind {
            NodeKind::File { data } => Some(self.file_hashes[data as usize]),
            _ => None,
        }
    }

    /// The SHA-256 of the layout's data file `data` (see [`Layout::data_files`]).
    pub fn data_file_sha256(&self, data: u32) -> [u8; 32] {
        self.file_hashes[data as usize]
    }

    /// Every file name on the disc with its size and SHA-256 (each name of a hard-linked file,
    /// generated files and the manifest included), in the layout's data order.
    pub fn files(&self) -> impl Iterator<Item = FileDigest> + '_ {
        let layout = &self.layout;
        (0..layout.data.len() as u32)
            .zip(&self.file_hashes)
            .flat_map(move |(data, sha256)| {
                let size = layout.data[data as usize].size;
                layout.data_names(data).map(move |name| FileDigest {
                    path: layout.node_path(name),
                    size,
                    sha256: *sha256,
                })
            })
    }
}

impl PartialEq for ImageDigest {
    fn eq(&self, other: &Self) -> bool {
        self.image_sha256 == other.image_sha256
            && self.image_bytes == other.image_bytes
            && self.file_hashes == other.file_hashes
            && self.files().eq(other.files())
    }
}

impl Eq for ImageDigest {}

impl std::fmt::Debug for ImageDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDigest")
            .field("image_sha256", &self.image_sha256)
            .field("image_bytes", &self.image_bytes)
            .field("files", &self.file_hashes.len())
            .finish()
    }
}

/// The pieces of the image, in LBA order.
#[derive(Debug, Clone, Copy)]
enum Segment {
    SystemArea,
    Descriptors,
    IsoDirectory(usize),
    IsoPathTables,
    JolietDirectory(usize),
    JolietPathTables,
    ZeroBlock,
    Data(usize),
    Padding,
    End,
}

/// What is being produced right now.
#[derive(Debug)]
enum Current {
    /// Bytes built in memory (descriptors, a directory, a path table, a generated file).
    Buffer {
        bytes: Vec<u8>,
        at: usize,
    },
    /// The manifest, written in chunks from the hashes of the files before it.
    Manifest {
        data: usize,
        files: Vec<u32>,
        next: usize,
        bytes: Vec<u8>,
        at: usize,
        hasher: Box<Sha256>,
    },
    /// Zeros (system area, padding, the end of a file's last block).
    Zeros {
        left: u64,
    },
    /// A source file being copied.
    File {
        data: usize,
        file: OpenedFile,
        left: u64,
    },
    Done,
}

/// What a run of bytes in a hashing chunk is.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// `len` bytes of the image; `file` is the data file they belong to, if any.
    Bytes { len: usize, file: Option<u32> },
    /// The data file ended: its hash is complete.
    FileEnd(u32),
}

/// A copy of up to [`HASH_CHUNK`] image bytes, with what each run of them is.
#[derive(Debug, Default)]
struct Chunk {
    bytes: Vec<u8>,
    pieces: Vec<Piece>,
}

/// The SHA-256s, computed on two helper threads so that the two hashes (each file's, and
/// the whole image's) run on two cores while this thread reads: hashing is the stream's
/// main cost. Both threads get the same chunks (one copy of the bytes, shared); the last
/// one done with a chunk sends it back for reuse, so no buffer is allocated per chunk.
#[derive(Debug)]
struct Hashers {
    chunk: Chunk,
    to_image: Option<SyncSender<Arc<Chunk>>>,
    to_files: Option<SyncSender<Arc<Chunk>>>,
    recycled: Receiver<Chunk>,
    image_thread: Option<JoinHandle<[u8; 32]>>,
    files_thread: Option<JoinHandle<Vec<[u8; 32]>>>,
}

/// Gives a chunk back for reuse when the caller held the last reference.
fn recycle(chunk: Arc<Chunk>, back: &SyncSender<Chunk>) {
    if let Ok(chunk) = Arc::try_unwrap(chunk) {
        // A full queue or a gone stream only costs a reuse.
        let _ = back.try_send(chunk);
    }
}

impl Hashers {
    fn new(files: usize) -> Self {
        let (to_image, image_rx) = sync_channel::<Arc<Chunk>>(HASH_QUEUE);
        let (to_files, files_rx) = sync_channel::<Arc<Chunk>>(HASH_QUEUE);
        let (back, recycled) = sync_channel::<Chunk>(2 * HASH_QUEUE + 2);
        let image_back = back.clone();
        let image_thread = std::thread::Builder::new()
            .name("image-sha256".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for chunk in image_rx {
                    hasher.update(&chunk.bytes);
                    recycle(chunk, &image_back);
                }
                hasher.finalize().into()
            })
            .ok();
        let files_thread = std::thread::Builder::new()
            .name("file-sha256".into())
            .spawn(move || {
                let mut hashes = vec![[0u8; 32]; files];
                let mut current = Sha256::new();
                for chunk in files_rx {
                    let mut at = 0;
                    for piece in &chunk.pieces {
                        match *piece {
                            Piece::Bytes { len, file } => {
                                if file.is_some() {
                                    current.update(&chunk.bytes[at..at + len]);
                                }
                                at += len;
                            }
                            Piece::FileEnd(file) => {
                                hashes[file as usize] =
                                    std::mem::take(&mut current).finalize().into();
                            }
                        }
                    }
                    recycle(chunk, &back);
                }
                hashes
            })
            .ok();
        Hashers {
            chunk: Chunk::default(),
            to_image: Some(to_image),
            to_files: Some(to_files),
            recycled,
            image_thread,
            files_thread,
        }
    }

    /// Records image bytes that belong to data file `file` (or to no file).
    fn bytes(&mut self, mut bytes: &[u8], file: Option<u32>) {
        while !bytes.is_empty() {
            let room = HASH_CHUNK - self.chunk.bytes.len();
            let take = room.min(bytes.len());
            self.chunk.bytes.extend_from_slice(&bytes[..take]);
            match self.chunk.pieces.last_mut() {
                Some(Piece::Bytes { len, file: last }) if *last == file => *len += take,
                _ => self.chunk.pieces.push(Piece::Bytes { len: take, file }),
            }
            bytes = &bytes[take..];
            if self.chunk.bytes.len() == HASH_CHUNK {
                self.flush();
            }
        }
    }

    fn file_end(&mut self, file: u32) {
        self.chunk.pieces.push(Piece::FileEnd(file));
    }

    fn flush(&mut self) {
        if self.chunk.pieces.is_empty() {
            return;
        }
        let mut fresh = self.recycled.try_recv().unwrap_or_else(|_| Chunk {
            bytes: Vec::with_capacity(HASH_CHUNK),
            pieces: Vec::new(),
        });
        fresh.bytes.clear();
        fresh.pieces.clear();
        let full = Arc::new(std::mem::replace(&mut self.chunk, fresh));
        // A send fails only if a thread died; finishing reports that.
        if let Some(files) = &self.to_files {
            let _ = files.send(Arc::clone(&full));
        }
        if let Some(image) = &self.to_image {
            let _ = image.send(full);
        }
    }

    /// Every data file's hash so far; no file bytes may follow.
    fn finish_files(&mut self) -> Result<Vec<[u8; 32]>, StreamError> {
        self.flush();
        drop(self.to_files.take());
        self.files_thread
            .take()
            .ok_or(StreamError::HasherFailed)?
            .join()
            .map_err(|_| StreamError::HasherFailed)
    }

    fn finish_image(&mut self) -> Result<[u8; 32], StreamError> {
        self.flush();
        drop(self.to_image.take());
        self.image_thread
            .take()
            .ok_or(StreamError::HasherFailed)?
            .join()
            .map_err(|_| StreamError::HasherFailed)
    }
}

/// The image as a byte stream. Read it to the end, then call [`ImageStream::finish`].
#[derive(Debug)]
pub struct ImageStream {
    layout: Arc<Layout>,
    source: Box<dyn FileSource>,
    segment: Segment,
    current: Current,
    hashers: Hashers,
    /// Hashes of the data files: the generated ones as they are produced, the source files
    /// once the files thread is done (before the manifest, or at the end).
    file_hashes: Vec<[u8; 32]>,
    source_hashes_merged: bool,
    produced: u64,
    failed: Option<StreamError>,
}

impl ImageStream {
    /// A stream of the image `layout` describes, reading source files under `source_root`.
    pub fn new(layout: impl Into<Arc<Layout>>, source_root: PathBuf) -> ImageStream {
        ImageStream::with_source(layout, Box::new(TreeSource::new(source_root)))
    }

    /// A stream of the image `layout` describes, reading each source file's bytes from
    /// `source` (by its first name on the disc).
    pub fn with_source(layout: impl Into<Arc<Layout>>, source: Box<dyn FileSource>) -> ImageStream {
        let layout = layout.into();
        let files = layout.data.len();
        ImageStream {
            layout,
            source,
            segment: Segment::SystemArea,
            current: Current::Zeros { left: 16 * BLOCK },
            hashers: Hashers::new(files),
            file_hashes: vec![[0; 32]; files],
            source_hashes_merged: false,
            produced: 0,
            failed: None,
        }
    }

    /// The layout this stream produces.
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// How many image bytes have been produced so far.
    pub fn position(&self) -> u64 {
        self.produced
    }

    /// After the last byte: the image's and every file's SHA-256; or the error that stopped
    /// the stream.
    pub fn finish(mut self) -> Result<ImageDigest, StreamError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        if !matches!(self.current, Current::Done) {
            return Err(StreamError::NotFinished);
        }
        self.merge_source_hashes()?;
        let image_sha256 = self.hashers.finish_image()?;
        Ok(ImageDigest {
            image_sha256,
            image_bytes: self.produced,
            layout: Arc::clone(&self.layout),
            file_hashes: std::mem::take(&mut self.file_hashes),
        })
    }

    /// Waits for the files thread and takes the source files' hashes from it.
    fn merge_source_hashes(&mut self) -> Result<(), StreamError> {
        if self.source_hashes_merged {
            return Ok(());
        }
        let hashes = self.hashers.finish_files()?;
        for (index, file) in self.layout.data.iter().enumerate() {
            if matches!(file.source, DataSource::Source) {
                self.file_hashes[index] = hashes[index];
            }
        }
        self.source_hashes_merged = true;
        Ok(())
    }

    fn next_segment(&self) -> Segment {
        let layout = &self.layout;
        let dirs = layout.dirs.len();
        match self.segment {
            Segment::SystemArea => Segment::Descriptors,
            Segment::Descriptors => Segment::IsoDirectory(0),
            Segment::IsoDirectory(i) if i + 1 < dirs => Segment::IsoDirectory(i + 1),
            Segment::IsoDirectory(_) => Segment::IsoPathTables,
            Segment::IsoPathTables => Segment::JolietDirectory(0),
            Segment::JolietDirectory(i) if i + 1 < dirs => Segment::JolietDirectory(i + 1),
            Segment::JolietDirectory(_) => Segment::JolietPathTables,
            Segment::JolietPathTables => Segment::ZeroBlock,
            Segment::ZeroBlock if layout.data.is_empty() => Segment::Padding,
            Segment::ZeroBlock => Segment::Data(0),
            Segment::Data(i) if i + 1 < layout.data.len() => Segment::Data(i + 1),
            Segment::Data(_) => Segment::Padding,
            Segment::Padding | Segment::End => Segment::End,
        }
    }

    /// Moves on to the next segment and prepares its bytes (or opens its file).
    fn advance(&mut self) -> Result<(), StreamError> {
        self.segment = self.next_segment();
        let layout = Arc::clone(&self.layout);
        self.current = match self.segment {
            Segment::SystemArea => Current::Zeros { left: 16 * BLOCK },
            Segment::Descriptors => buffer(layout.descriptors()),
            Segment::IsoDirectory(i) => {
                let dir = layout.iso_dir_order[i];
                let mut bytes = layout.iso_directory_bytes(dir);
                bytes.extent.append(&mut bytes.continuation);
                buffer(bytes.extent)
            }
            Segment::IsoPathTables => {
                let mut bytes = layout.path_table(false, false);
                bytes.extend(layout.path_table(false, true));
                buffer(bytes)
            }
            Segment::JolietDirectory(i) => {
                buffer(layout.joliet_directory_bytes(layout.joliet_dir_order[i]))
            }
            Segment::JolietPathTables => {
                let mut bytes = layout.path_table(true, false);
                bytes.extend(layout.path_table(true, true));
                buffer(bytes)
            }
            Segment::ZeroBlock => Current::Zeros { left: BLOCK },
            Segment::Data(i) => self.open_data(i)?,
            Segment::Padding => Current::Zeros {
                left: (layout.total_blocks - layout.padding_lba) * BLOCK,
            },
            Segment::End => Current::Done,
        };
        Ok(())
    }

    fn open_data(&mut self, index: usize) -> Result<Current, StreamError> {
        let layout = Arc::clone(&self.layout);
        let file = &layout.data[index];
        let contents = match file.source {
            DataSource::Generated(g) => layout.generated[g as usize].contents.clone(),
            DataSource::Manifest => {
                self.merge_source_hashes()?;
                return Ok(Current::Manifest {
                    data: index,
                    files: manifest::listed_files(&layout),
                    next: 0,
                    bytes: Vec::with_capacity(MANIFEST_CHUNK + 4096),
                    at: 0,
                    hasher: Box::new(Sha256::new()),
                });
            }
            DataSource::Source => {
                let rel = layout.node_path(file.first);
                let shown = || String::from_utf8_lossy(&rel).into_owned();
                let opened =
                    self.source
                        .open(&rel, file.size)
                        .map_err(|source| StreamError::Open {
                            path: shown(),
                            cause: Arc::new(source),
                        })?;
                // The disc will show the planned time: contents from another time would be
                // a silently wrong copy.
                if opened
                    .mtime_seconds()
                    .is_some_and(|mtime| mtime != layout.nodes[file.first as usize].mtime)
                {
                    return Err(StreamError::Changed {
                        path: shown(),
                        what: "it was modified after the image was planned",
                    });
                }
                return Ok(Current::File {
                    data: index,
                    file: opened,
                    left: file.size,
                });
            }
        };
        debug_assert_eq!(contents.len() as u64, file.size);
        self.file_hashes[index] = Sha256::digest(&contents).into();
        let mut bytes = contents;
        bytes.resize(bytes.len().div_ceil(BLOCK_USIZE) * BLOCK_USIZE, 0);
        Ok(buffer(bytes))
    }

    fn path_of(&self, data: usize) -> String {
        String::from_utf8_lossy(&self.layout.node_path(self.layout.data[data].first)).into_owned()
    }

    /// Produces up to `buf.len()` bytes (0 only at the end of the image), and says which
    /// data file they belong to, if any.
    fn produce(&mut self, buf: &mut [u8]) -> Result<(usize, Option<u32>), StreamError> {
        loop {
            match &mut self.current {
                Current::Done => return Ok((0, None)),
                Current::Buffer { bytes, at } => {
                    if *at < bytes.len() {
                        let n = (bytes.len() - *at).min(buf.len());
                        buf[..n].copy_from_slice(&bytes[*at..*at + n]);
                        *at += n;
                        return Ok((n, None));
                    }
                }
                Current::Manifest {
                    data,
                    files,
                    next,
                    bytes,
                    at,
                    hasher,
                } => {
                    if *at == bytes.len() {
                        bytes.clear();
                        *at = 0;
                        let layout = &self.layout;
                        manifest::manifest_lines(
                            layout,
                            files,
                            next,
                            &self.file_hashes,
                            bytes,
                            MANIFEST_CHUNK,
                        );
                        hasher.update(&bytes[..]);
                    }
                    if *at < bytes.len() {
                        let n = (bytes.len() - *at).min(buf.len());
                        buf[..n].copy_from_slice(&bytes[*at..*at + n]);
                        *at += n;
                        return Ok((n, None));
                    }
                    let data = *data;
                    self.file_hashes[data] = std::mem::take(hasher).finalize().into();
                    let size = self.layout.data[data].size;
                    self.current = Current::Zeros {
                        left: size.div_ceil(BLOCK) * BLOCK - size,
                    };
                    continue;
                }
                Current::Zeros { left } => {
                    if *left > 0 {
                        let n = (*left).min(buf.len() as u64) as usize;
                        buf[..n].fill(0);
                        *left -= n as u64;
                        return Ok((n, None));
                    }
                }
                Current::File { data, file, left } => {
                    let data = *data;
                    if *left > 0 {
                        let want = (*left).min(buf.len() as u64) as usize;
                        let n = match file.read(&mut buf[..want]) {
                            Ok(n) => n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(source) => {
                                return Err(StreamError::Read {
                                    path: self.path_of(data),
                                    cause: Arc::new(source),
                                });
                            }
                        };
                        if n == 0 {
                            let planned = self.layout.data[data].size;
                            let found = format!("it now ends after {} bytes", planned - *left);
                            return Err(StreamError::SizeChanged {
                                path: self.path_of(data),
                                planned,
                                found,
                            });
                        }
                        *left -= n as u64;
                        return Ok((n, Some(data as u32)));
                    }
                    // All planned bytes are in: the file must end here.
                    let mut probe = [0u8; 1];
                    let grew = loop {
                        match file.read(&mut probe) {
                            Ok(n) => break n > 0,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(source) => {
                                return Err(StreamError::Read {
                                    path: self.path_of(data),
                                    cause: Arc::new(source),
                                });
                            }
                        }
                    };
                    if grew {
                        return Err(StreamError::SizeChanged {
                            path: self.path_of(data),
                            planned: self.layout.data[data].size,
                            found: "it has grown".to_string(),
                        });
                    }
                    if let Some(what) = file.changed_while_read() {
                        return Err(StreamError::Changed {
                            path: self.path_of(data),
                            what,
                        });
                    }
                    self.hashers.file_end(data as u32);
                    let size = self.layout.data[data].size;
                    let pad = size.div_ceil(BLOCK) * BLOCK - size;
                    self.current = Current::Zeros { left: pad };
                    continue;
                }
            }
            self.advance()?;
        }
    }
}

fn buffer(bytes: Vec<u8>) -> Current {
    Current::Buffer { bytes, at: 0 }
}

impl Read for ImageStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(error) = &self.failed {
            return Err(io::Error::other(error.clone()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        match self.produce(buf) {
            Ok((n, file)) => {
                self.hashers.bytes(&buf[..n], file);
                self.produced += n as u64;
                debug_assert!(self.produced <= self.layout.total_bytes());
                Ok(n)
            }
            Err(error) => {
                self.failed = Some(error.clone());
                Err(io::Error::other(error))
            }
        }
    }
}

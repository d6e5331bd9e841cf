//! Where the image stream reads each data file's bytes: by default the file of the same
//! path under a tree's root, but a caller can map disc paths elsewhere. The disc-set planner
//! does: its discs hold the snapshot under `backup/`, parts of files too large for one disc
//! (a byte range of the source file), and catalogues produced on the fly.
//!
//! The stream still checks every source against the size the layout planned (a source that
//! ends early or goes on is an error naming the file), and hashes it like any file. A source
//! read from a file also says how to notice that the file changed while it was read
//! ([`OpenedFile`]): a copy of it taken then would be silently wrong.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Opens the bytes of the data files of one image.
pub trait FileSource: Send + fmt::Debug {
    /// The bytes of the data file whose first name on the disc is `path` (relative, raw
    /// bytes, `/`-separated), planned at `size` bytes.
    fn open(&self, path: &[u8], size: u64) -> io::Result<OpenedFile>;
}

/// An opened data file: its bytes, and for one read from a file on disk, what the file
/// system said about that file when it was opened.
pub struct OpenedFile {
    reader: Box<dyn Read + Send>,
    watch: Option<Watch>,
}

/// A file being read, to notice that it changes meanwhile: a rewrite in place moves the
/// modification and change times (nanoseconds) of the open file, a replacement by rename
/// gives the path another inode.
struct Watch {
    /// The open file (a second handle on the reader's), for its metadata.
    file: File,
    path: PathBuf,
    opened: Stamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl OpenedFile {
    /// Bytes that no file on disk holds (produced on the fly): nothing to watch.
    pub fn generated(reader: Box<dyn Read + Send>) -> OpenedFile {
        OpenedFile {
            reader,
            watch: None,
        }
    }

    /// The whole file at `path`.
    pub fn file(path: &Path) -> io::Result<OpenedFile> {
        let (file, watch) = watched(path)?;
        Ok(OpenedFile {
            reader: Box::new(file),
            watch: Some(watch),
        })
    }

    /// The file's modification time (seconds) when it was opened, for a file on disk.
    pub fn mtime_seconds(&self) -> Option<i64> {
        self.watch.as_ref().map(|w| w.opened.mtime.0)
    }

    /// Why the file read to its end is not the file that was opened, if it is not: its
    /// times or size moved on the open file (rewritten in place), or its path now names
    /// another file (replaced, removed).
    pub fn changed_while_read(&self) -> Option<&'static str> {
        let watch = self.watch.as_ref()?;
        // The path first: unlinking the old file moves its change time too.
        match fs::symlink_metadata(&watch.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == (watch.opened.dev, watch.opened.ino) => {}
            Ok(_) => return Some("it was replaced by another file while it was read"),
            Err(_) => return Some("it was removed while it was read"),
        }
        match watch.file.metadata() {
            Ok(meta) if Stamp::of(&meta) == watch.opened => None,
            Ok(_) => Some("it was written to while it was read"),
            Err(_) => Some("it could not be examined after it was read"),
        }
    }
}

impl Read for OpenedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl fmt::Debug for OpenedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedFile")
            .field("path", &self.watch.as_ref().map(|w| &w.path))
            .finish_non_exhaustive()
    }
}

/// Opens `path` for reading, with a second handle and the stamp to watch it by.
fn watched(path: &Path) -> io::Result<(File, Watch)> {
    let file = File::open(path)?;
    let opened = Stamp::of(&file.metadata()?);
    let watch = Watch {
        file: file.try_clone()?,
        path: path.to_path_buf(),
        opened,
    };
    Ok((file, watch))
}

/// Every file read from the same path under one directory: the image of a plain tree.
#[derive(Debug, Clone)]
pub struct TreeSource {
    root: PathBuf,
}

impl TreeSource {
    /// Files under `root`.
    pub fn new(root: PathBuf) -> TreeSource {
        TreeSource { root }
    }
}

impl FileSource for TreeSource {
    fn open(&self, path: &[u8], _size: u64) -> io::Result<OpenedFile> {
        OpenedFile::file(&self.root.join(OsStr::from_bytes(path)))
    }
}

/// Bytes `offset..offset + len` of the file at `path`, which must still be `whole_size`
/// bytes long: a part of a file split over several discs. A file whose size changed since
/// it was planned is refused here, because a range of it would silently hold other bytes.
pub fn open_range(path: &Path, offset: u64, len: u64, whole_size: u64) -> io::Result<OpenedFile> {
    let (mut file, watch) = watched(path)?;
    let found = watch.opened.size;
    if found != whole_size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is now {found} bytes, {whole_size} were planned"),
        ));
    }
    file.seek(SeekFrom::Start(offset))?;
    Ok(OpenedFile {
        reader: Box::new(file.take(len)),
        watch: Some(watch),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_reads_exactly_its_bytes_and_refuses_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut out = Vec::new();
        open_range(&path, 4096, 3000, 10_000)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, &bytes[4096..7096]);
        let err = open_range(&path, 0, 10, 9_999).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("10000"), "{err}");
    }
}

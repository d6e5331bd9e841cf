//! Where the image stream reads each data file's bytes: by default the file of the same
//! path under a tree's root, but a caller can map disc paths elsewhere. The disc-set planner
//! does: its discs hold the snapshot under `backup/`, parts of files too large for one disc
//! (a byte range of the source file), and catalogues produced on the fly.
//!
//! The stream still checks every source against the size the layout planned (a source that
//! ends early or goes on is an error naming the file), and hashes it like any file.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Opens the bytes of the data files of one image.
pub trait FileSource: Send + fmt::Debug {
    /// The bytes of the data file whose first name on the disc is `path` (relative, raw
    /// bytes, `/`-separated), planned at `size` bytes.
    fn open(&self, path: &[u8], size: u64) -> io::Result<Box<dyn Read + Send>>;
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
    fn open(&self, path: &[u8], _size: u64) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(
            self.root.join(OsStr::from_bytes(path)),
        )?))
    }
}

/// Bytes `offset..offset + len` of the file at `path`, which must still be `whole_size`
/// bytes long: a part of a file split over several discs. A file whose size changed since
/// it was planned is refused here, because a range of it would silently hold other bytes.
pub fn open_range(
    path: &Path,
    offset: u64,
    len: u64,
    whole_size: u64,
) -> io::Result<Box<dyn Read + Send>> {
    let mut file = File::open(path)?;
    let found = file.metadata()?.len();
    if found != whole_size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is now {found} bytes, {whole_size} were planned"),
        ));
    }
    file.seek(SeekFrom::Start(offset))?;
    Ok(Box::new(file.take(len)))
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

//! A disc of a set as the restore reads it: mounted (a directory), an image file, or the
//! disc in a drive (both read with the image reader). Only what restoring needs: the small
//! files at the root, the tree under `backup/`, and each file's bytes.

use std::fs;
use std::io::{self, Read, Seek};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use burnstation_images::iso9660::{IsoEntry, IsoEntryKind, IsoImage};
use burnstation_images::plan::TREE_FOLDER;

/// What an entry of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeKind {
    File,
    Directory,
    Symlink(Vec<u8>),
}

/// An entry of the disc's `backup/` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Relative to `backup/`.
    pub path: Vec<u8>,
    pub kind: TreeKind,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
}

/// A disc the restore can read.
pub trait Disc {
    /// What to call it in messages (a path, or "the disc in /dev/sr0").
    fn name(&self) -> String;
    /// A file at the disc's root (`SET.json`, `CATALOG.txt`), or `None` if it has none.
    fn root_file(&mut self, name: &str) -> io::Result<Option<Vec<u8>>>;
    /// Every entry under `backup/`, parents before children.
    fn tree(&mut self) -> io::Result<Vec<TreeEntry>>;
    /// The bytes of the file at `path` (relative to `backup/`).
    fn open(&mut self, path: &[u8]) -> io::Result<Box<dyn Read + '_>>;
}

/// A mounted disc (or a copy of one): a directory.
#[derive(Debug)]
pub struct MountedDisc {
    root: PathBuf,
}

impl MountedDisc {
    pub fn new(root: PathBuf) -> MountedDisc {
        MountedDisc { root }
    }
}

impl Disc for MountedDisc {
    fn name(&self) -> String {
        self.root.display().to_string()
    }

    fn root_file(&mut self, name: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.root.join(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn tree(&mut self) -> io::Result<Vec<TreeEntry>> {
        let base = self.root.join(TREE_FOLDER);
        let mut out = Vec::new();
        let mut stack = vec![Vec::new()];
        while let Some(dir) = stack.pop() {
            let abs = base.join(std::ffi::OsStr::from_bytes(&dir));
            let mut names: Vec<Vec<u8>> = fs::read_dir(&abs)?
                .map(|e| e.map(|e| e.file_name().into_vec()))
                .collect::<Result<_, _>>()?;
            names.sort();
            let mut subdirs = Vec::new();
            for name in names {
                let mut path = dir.clone();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(&name);
                let full = base.join(std::ffi::OsStr::from_bytes(&path));
                let meta = fs::symlink_metadata(&full)?;
                let kind = if meta.is_dir() {
                    subdirs.push(path.clone());
                    TreeKind::Directory
                } else if meta.file_type().is_symlink() {
                    TreeKind::Symlink(fs::read_link(&full)?.into_os_string().into_vec())
                } else {
                    TreeKind::File
                };
                out.push(TreeEntry {
                    path,
                    kind,
                    mode: meta.mode() & 0o7777,
                    uid: meta.uid(),
                    gid: meta.gid(),
                    mtime: meta.mtime(),
                });
            }
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(out)
    }

    fn open(&mut self, path: &[u8]) -> io::Result<Box<dyn Read + '_>> {
        let full = self
            .root
            .join(TREE_FOLDER)
            .join(std::ffi::OsStr::from_bytes(path));
        Ok(Box::new(fs::File::open(full)?))
    }
}

/// An image file or a disc in a drive, read with the image reader.
#[derive(Debug)]
pub struct IsoDisc<R> {
    name: String,
    image: IsoImage<R>,
}

impl<R: Read + Seek> IsoDisc<R> {
    /// Reads the image's directory tree.
    pub fn open(name: String, reader: R) -> io::Result<IsoDisc<R>> {
        let image = IsoImage::open(reader).map_err(io::Error::other)?;
        Ok(IsoDisc { name, image })
    }

    fn entry(&self, path: &[u8]) -> Option<IsoEntry> {
        self.image.entry(path).cloned()
    }
}

impl IsoDisc<io::BufReader<fs::File>> {
    /// An image file.
    pub fn from_file(path: &Path) -> io::Result<Self> {
        let file = fs::File::open(path)?;
        IsoDisc::open(
            path.display().to_string(),
            io::BufReader::with_capacity(256 * 1024, file),
        )
    }
}

impl<R: Read + Seek> Disc for IsoDisc<R> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn root_file(&mut self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(entry) = self.entry(name.as_bytes()) else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(entry.size as usize);
        self.image.open_file(&entry).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn tree(&mut self) -> io::Result<Vec<TreeEntry>> {
        let prefix = format!("{TREE_FOLDER}/");
        Ok(self
            .image
            .entries()
            .iter()
            .filter_map(|e| {
                let path = e.path.strip_prefix(prefix.as_bytes())?.to_vec();
                let kind = match &e.kind {
                    IsoEntryKind::File => TreeKind::File,
                    IsoEntryKind::Directory => TreeKind::Directory,
                    IsoEntryKind::Symlink { target } => TreeKind::Symlink(target.clone()),
                };
                Some(TreeEntry {
                    path,
                    kind,
                    mode: e.mode & 0o7777,
                    uid: e.uid,
                    gid: e.gid,
                    mtime: e.mtime,
                })
            })
            .collect())
    }

    fn open(&mut self, path: &[u8]) -> io::Result<Box<dyn Read + '_>> {
        let mut full = TREE_FOLDER.as_bytes().to_vec();
        full.push(b'/');
        full.extend_from_slice(path);
        let entry = self
            .entry(&full)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not on this disc"))?;
        Ok(Box::new(self.image.open_file(&entry)))
    }
}

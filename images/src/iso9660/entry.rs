//! Source entries: what the layout needs to know about each file of the tree, and the scan
//! that reads it from a directory without following symlinks.
//!
//! The scan reads metadata and symlink targets, and opens each regular file once only to
//! prove it readable; it never reads file contents. Paths
//! are kept as raw bytes, relative to the scanned root, so names that are not UTF-8 survive.
//! Sockets, FIFOs and device nodes cannot be backed up on a data disc: `scan_tree` refuses
//! them with an error naming the entry, `scan_tree_with` skips them and reports each one.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A point in time as the file system records it: seconds since the Unix epoch (negative
/// before 1970) and nanoseconds within that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanoseconds: u32,
}

/// What kind of entry, with what only that kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file of this many bytes.
    File { size: u64 },
    /// A directory.
    Directory,
    /// A symbolic link and its target, as raw bytes.
    Symlink { target: Vec<u8> },
}

/// Which inode an entry is, so hard links can be recognised (equal `dev` and `ino`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LinkIdentity {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

/// One entry of the source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// Path relative to the tree's root, components separated by `/`, as raw bytes. The root
    /// itself, when present, has an empty path (it only lends its mode, owner and mtime to
    /// the disc's root directory).
    pub path: Vec<u8>,
    pub kind: EntryKind,
    /// Permission bits, setuid/setgid/sticky included (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: Timestamp,
    pub link: LinkIdentity,
}

impl SourceEntry {
    /// The path as an `OsStr`, for joining onto a root.
    pub fn os_path(&self) -> &OsStr {
        OsStr::from_bytes(&self.path)
    }
}

/// Why a source tree could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "cannot read the tree {path} ({cause}); check that it exists and is a readable directory"
    )]
    Root { path: PathBuf, cause: io::Error },
    #[error("cannot read {path} ({cause}); fix its permissions or remove it from the tree")]
    Unreadable { path: PathBuf, cause: io::Error },
    #[error(
        "{path} is a {kind}, which a data disc cannot hold; remove it from the tree or exclude it"
    )]
    Unsupported { path: PathBuf, kind: &'static str },
}

/// Something the scan did that the caller may want to tell a person about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// A socket, FIFO or device node was left out of the list.
    SkippedSpecial { path: Vec<u8>, kind: &'static str },
}

/// Lists every entry under `root` (the root itself first, with an empty path), without
/// following symlinks. A socket, FIFO or device node is an error naming it.
pub fn scan_tree(root: &Path) -> Result<Vec<SourceEntry>, ScanError> {
    let mut entries = Vec::new();
    scan_tree_each(root, &mut |entry| entries.push(entry))?;
    Ok(entries)
}

/// Like [`scan_tree`], but hands each entry to `on_entry` as it is found instead of
/// collecting them, in depth-first pre-order (a directory, then its entries by name bytes,
/// each subdirectory's contents right after it): for callers that keep a more compact form
/// of a large tree.
pub fn scan_tree_each(root: &Path, on_entry: &mut dyn FnMut(SourceEntry)) -> Result<(), ScanError> {
    let mut special = None;
    scan(
        root,
        &mut |path: &Path, kind| {
            if special.is_none() {
                special = Some((path.to_path_buf(), kind));
            }
        },
        on_entry,
    )?;
    match special {
        Some((path, kind)) => Err(ScanError::Unsupported { path, kind }),
        None => Ok(()),
    }
}

/// Like [`scan_tree`], but skips sockets, FIFOs and device nodes, reporting each one.
pub fn scan_tree_with(
    root: &Path,
    mut on_event: impl FnMut(ScanEvent),
) -> Result<Vec<SourceEntry>, ScanError> {
    let mut entries = Vec::new();
    scan(
        root,
        &mut |path: &Path, kind| {
            let relative = path.strip_prefix(root).unwrap_or(path);
            on_event(ScanEvent::SkippedSpecial {
                path: relative.as_os_str().as_bytes().to_vec(),
                kind,
            });
        },
        &mut |entry| entries.push(entry),
    )?;
    Ok(entries)
}

/// What a file that is neither a regular file, a directory nor a symlink is, in words.
pub fn special_kind(file_type: &fs::FileType) -> &'static str {
    if file_type.is_socket() {
        "socket"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// One directory being listed: its path and the names not visited yet.
struct Level {
    rel: Vec<u8>,
    abs: PathBuf,
    names: std::vec::IntoIter<Vec<u8>>,
}

/// A directory's names, sorted so the scan is deterministic (the layout sorts again by its
/// own rules).
fn list(rel: Vec<u8>, abs: PathBuf) -> Result<Level, ScanError> {
    let unreadable = |cause| ScanError::Unreadable {
        path: abs.clone(),
        cause,
    };
    let mut names: Vec<Vec<u8>> = fs::read_dir(&abs)
        .map_err(unreadable)?
        .map(|item| item.map(|e| e.file_name().as_bytes().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    names.sort();
    Ok(Level {
        rel,
        abs,
        names: names.into_iter(),
    })
}

fn scan(
    root: &Path,
    on_special: &mut dyn FnMut(&Path, &'static str),
    on_entry: &mut dyn FnMut(SourceEntry),
) -> Result<(), ScanError> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| ScanError::Unreadable { path, cause }
    };
    let root_error = |cause| ScanError::Root {
        path: root.to_path_buf(),
        cause,
    };
    let meta = fs::metadata(root).map_err(root_error)?;
    if !meta.is_dir() {
        return Err(root_error(io::Error::new(
            io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    on_entry(entry_from(Vec::new(), &meta, EntryKind::Directory));
    // Depth-first with an explicit stack of the directories being listed.
    let mut stack = vec![list(Vec::new(), root.to_path_buf())?];
    while let Some(level) = stack.last_mut() {
        let Some(name) = level.names.next() else {
            stack.pop();
            continue;
        };
        let mut rel = level.rel.clone();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(&name);
        let abs = level.abs.join(OsStr::from_bytes(&name));
        let meta = fs::symlink_metadata(&abs).map_err(unreadable(&abs))?;
        let file_type = meta.file_type();
        if file_type.is_file() {
            // Opened (and closed) only to find an unreadable file now, before a
            // write-once disc is half burnt; its contents are read when streaming.
            fs::File::open(&abs).map_err(unreadable(&abs))?;
            on_entry(entry_from(rel, &meta, EntryKind::File { size: meta.len() }));
        } else if file_type.is_dir() {
            on_entry(entry_from(rel.clone(), &meta, EntryKind::Directory));
            stack.push(list(rel, abs)?);
        } else if file_type.is_symlink() {
            let target = fs::read_link(&abs).map_err(unreadable(&abs))?;
            let target = target.into_os_string().into_encoded_bytes();
            on_entry(entry_from(rel, &meta, EntryKind::Symlink { target }));
        } else {
            on_special(&abs, special_kind(&file_type));
        }
    }
    Ok(())
}

fn entry_from(path: Vec<u8>, meta: &fs::Metadata, kind: EntryKind) -> SourceEntry {
    SourceEntry {
        path,
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: Timestamp {
            seconds: meta.mtime(),
            nanoseconds: meta.mtime_nsec().clamp(0, 999_999_999) as u32,
        },
        link: LinkIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            nlink: meta.nlink(),
        },
    }
}

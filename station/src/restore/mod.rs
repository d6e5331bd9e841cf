//! Restoring a disc set (or one path of it) from the discs alone: their `SET.json` says
//! which set and disc each is, their `CATALOG.txt` lists every file of the set with its
//! disc, size and SHA-256. Discs can come in any order and one at a time (a drive asks for
//! the next); parts of split files are written at their place in the file as their discs
//! come, and a file becomes visible under its name only once every byte matched its
//! SHA-256. The report names every file that is missing (with the discs that would hold
//! it) or damaged.
//!
//! ```text
//! Restore::new(to, paths) -> add_disc(disc) ... (wanted() says which discs are left) -> finish()
//! ```

pub mod disc;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use burnstation_images::plan::files::SET_FORMAT;
use burnstation_images::plan::set_file::{CatalogLine, SetInfo, parse_catalog_line};
use burnstation_images::plan::{CATALOG_NAME, SET_NAME, TREE_FOLDER};
use sha2::{Digest, Sha256};

pub use disc::{Disc, IsoDisc, MountedDisc, TreeEntry, TreeKind};

/// Suffix of a file being put together; renamed to its own name once it checked out.
const PARTIAL: &str = ".burnstation-partial";
/// Suffix a damaged file is left under, so that it is never taken for a good one.
const DAMAGED: &str = ".damaged";

/// Why a restore could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "{disc} is not a disc of a burn station set (it has no SET.json); give the discs of one set"
    )]
    NotASetDisc { disc: String },
    #[error("cannot read {what} on {disc} ({cause}); clean the disc or try another copy")]
    ReadDisc {
        disc: String,
        what: String,
        cause: io::Error,
    },
    #[error(
        "{disc} belongs to set {found} (plan {found_plan}), not to set {wanted} (plan {wanted_plan}) like the discs before it; give the discs of one set"
    )]
    OtherSet {
        disc: String,
        found: String,
        found_plan: String,
        wanted: String,
        wanted_plan: String,
    },
    #[error("{disc} has a SET.json this burnstation cannot read ({why}); update burnstation")]
    UnknownFormat { disc: String, why: String },
    #[error(transparent)]
    Catalog(#[from] burnstation_images::plan::set_file::CatalogLineError),
    #[error(
        "{disc} lists a path that would leave the restore's folder ({path:?}); the disc is damaged or forged: use another copy"
    )]
    UnsafePath { disc: String, path: String },
    #[error("cannot write {path} ({cause}); check the destination's free space and permissions")]
    Write { path: PathBuf, cause: io::Error },
}

/// Where one file of the set is.
#[derive(Debug, Clone)]
enum Placement {
    Whole {
        disc: u32,
    },
    /// Its parts: (disc, path on the disc relative to `backup/`, offset, size, SHA-256).
    Split {
        parts: Vec<PartPlace>,
    },
}

#[derive(Debug, Clone)]
struct PartPlace {
    disc: u32,
    path: Vec<u8>,
    offset: u64,
    size: u64,
    sha256: [u8; 32],
    done: bool,
}

/// What became of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Pending,
    Restored,
    Damaged(String),
}

#[derive(Debug, Clone)]
struct SetFile {
    /// Relative to `backup/` (and to the destination).
    path: Vec<u8>,
    size: u64,
    sha256: [u8; 32],
    placement: Placement,
    state: State,
}

/// A file the restore could not give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Relative to the backup tree.
    pub path: Vec<u8>,
    /// The discs that hold it (or its missing parts) and were not given.
    pub discs: Vec<u32>,
}

/// A file whose bytes did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    pub path: Vec<u8>,
    pub why: String,
}

/// The end of a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The set's label and size, when a disc was read.
    pub set: Option<SetInfo>,
    pub discs_read: Vec<u32>,
    pub discs_missing: Vec<(u32, String)>,
    pub restored_files: u64,
    pub restored_bytes: u64,
    pub missing: Vec<Missing>,
    pub damaged: Vec<Damaged>,
}

impl RestoreReport {
    /// Everything asked for was restored and matched its SHA-256.
    pub fn complete(&self) -> bool {
        self.set.is_some() && self.missing.is_empty() && self.damaged.is_empty()
    }
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(set) = &self.set else {
            return f.write_str("no disc of a set was read: nothing was restored");
        };
        writeln!(
            f,
            "set {} (snapshot {:?} of {}): read {} of {} discs; restored {} files, {} bytes",
            set.set,
            set.snapshot,
            set.snapshot_utc,
            self.discs_read.len(),
            set.discs,
            self.restored_files,
            self.restored_bytes
        )?;
        for (disc, volume) in &self.discs_missing {
            writeln!(f, "disc {disc} ({volume}) was not read")?;
        }
        for missing in &self.missing {
            let discs: Vec<String> = missing.discs.iter().map(|d| d.to_string()).collect();
            writeln!(
                f,
                "MISSING {} (on disc {})",
                show(&missing.path),
                discs.join(", ")
            )?;
        }
        for damaged in &self.damaged {
            writeln!(f, "DAMAGED {}: {}", show(&damaged.path), damaged.why)?;
        }
        if self.complete() {
            write!(
                f,
                "every file asked for was restored and matched its SHA-256"
            )
        } else {
            write!(
                f,
                "{} files missing, {} damaged: find another copy of the discs named above",
                self.missing.len(),
                self.damaged.len()
            )
        }
    }
}

/// What a restore reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreEvent {
    /// A disc was recognised.
    Disc {
        disc: u32,
        discs: u32,
        volume_id: String,
    },
    /// A disc was given twice, or holds nothing asked for.
    Skipped { disc: u32, why: &'static str },
    /// A file (or a part) was written.
    Wrote { path: Vec<u8>, bytes: u64 },
}

/// A restore in progress.
#[derive(Debug)]
pub struct Restore {
    to: PathBuf,
    /// Paths (relative to the tree) to restore; empty: everything.
    only: Vec<Vec<u8>>,
    set: Option<SetInfo>,
    files: Vec<SetFile>,
    read: BTreeSet<u32>,
    /// Directories created, to give them their modes and times at the end (deepest last).
    dirs: Vec<TreeEntry>,
}

/// True when `path` stays inside the folder it is joined to: relative, no `.` or `..`,
/// no empty component.
fn is_safe(path: &[u8]) -> bool {
    !path.is_empty()
        && path
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// True when `path` is `wanted` or lies under it.
fn under(path: &[u8], wanted: &[u8]) -> bool {
    path == wanted || (path.starts_with(wanted) && path.get(wanted.len()) == Some(&b'/'))
}

impl Restore {
    /// A restore into `to` of everything, or of the paths in `only` (relative to the
    /// backup tree, with or without `backup/`).
    pub fn new(to: PathBuf, only: Vec<Vec<u8>>) -> Restore {
        let prefix = format!("{TREE_FOLDER}/");
        let only = only
            .into_iter()
            .map(|p| {
                let p = p.strip_prefix(prefix.as_bytes()).unwrap_or(&p).to_vec();
                let mut p = p;
                while p.last() == Some(&b'/') {
                    p.pop();
                }
                p
            })
            .collect();
        Restore {
            to,
            only,
            set: None,
            files: Vec::new(),
            read: BTreeSet::new(),
            dirs: Vec::new(),
        }
    }

    fn wanted(&self, path: &[u8]) -> bool {
        self.only.is_empty() || self.only.iter().any(|w| under(path, w))
    }

    /// The discs still needed (holding a file asked for that is not restored yet), with
    /// their volume IDs; empty before the first disc.
    pub fn discs_needed(&self) -> Vec<(u32, String)> {
        let Some(set) = &self.set else {
            return Vec::new();
        };
        let mut needed = BTreeSet::new();
        for file in &self.files {
            if file.state != State::Pending {
                continue;
            }
            match &file.placement {
                Placement::Whole { disc } => {
                    needed.insert(*disc);
                }
                Placement::Split { parts } => {
                    needed.extend(parts.iter().filter(|p| !p.done).map(|p| p.disc));
                }
            }
        }
        // Discs never read may hold directories and symlinks asked for.
        if self.only.is_empty() {
            needed.extend((1..=set.discs).filter(|d| !self.read.contains(d)));
        }
        needed.retain(|d| !self.read.contains(d));
        needed
            .into_iter()
            .map(|d| (d, set.volume_id_of(d)))
            .collect()
    }

    /// The set being restored, once a disc was read.
    pub fn set(&self) -> Option<&SetInfo> {
        self.set.as_ref()
    }

    fn read_err(disc: &dyn Disc, what: &str) -> impl FnOnce(io::Error) -> RestoreError {
        let disc = disc.name();
        let what = what.to_string();
        move |cause| RestoreError::ReadDisc { disc, what, cause }
    }

    /// Reads the set's description from the first disc: its catalogue.
    fn learn_set(&mut self, disc: &mut dyn Disc, info: SetInfo) -> Result<(), RestoreError> {
        let catalog = disc
            .root_file(CATALOG_NAME)
            .map_err(Self::read_err(disc, CATALOG_NAME))?
            .ok_or_else(|| RestoreError::ReadDisc {
                disc: disc.name(),
                what: CATALOG_NAME.to_string(),
                cause: io::Error::new(io::ErrorKind::NotFound, "it is missing"),
            })?;
        let mut lines = Vec::new();
        for (i, text) in catalog.split(|&b| b == b'\n').enumerate() {
            if let Some(line) = parse_catalog_line(text, i + 1)? {
                lines.push(line);
            }
        }
        let prefix = format!("{TREE_FOLDER}/");
        let relative = |line: &CatalogLine| {
            line.path
                .strip_prefix(prefix.as_bytes())
                .unwrap_or(&line.path)
                .to_vec()
        };
        for line in &lines {
            let path = relative(line);
            if !is_safe(&path) || !line.path.starts_with(prefix.as_bytes()) {
                return Err(RestoreError::UnsafePath {
                    disc: disc.name(),
                    path: show(&line.path),
                });
            }
        }
        let mut i = 0;
        while i < lines.len() {
            let line = &lines[i];
            let path = relative(line);
            i += 1;
            let placement = match line.disc {
                Some(disc) => Placement::Whole { disc },
                None => {
                    // Parts follow until their sizes add up to the file's.
                    let mut parts = Vec::new();
                    let mut offset = 0;
                    while offset < line.size && i < lines.len() {
                        let part = &lines[i];
                        parts.push(PartPlace {
                            disc: part.disc.unwrap_or(0),
                            path: relative(part),
                            offset,
                            size: part.size,
                            sha256: part.sha256,
                            done: false,
                        });
                        offset += part.size;
                        i += 1;
                    }
                    Placement::Split { parts }
                }
            };
            if self.wanted(&path) {
                self.files.push(SetFile {
                    path,
                    size: line.size,
                    sha256: line.sha256,
                    placement,
                    state: State::Pending,
                });
            }
        }
        self.set = Some(info);
        Ok(())
    }

    fn target(&self, path: &[u8]) -> PathBuf {
        self.to.join(OsStr::from_bytes(path))
    }

    fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Restores what `disc` holds of the set.
    pub fn add_disc(
        &mut self,
        disc: &mut dyn Disc,
        on_event: &mut dyn FnMut(RestoreEvent),
    ) -> Result<(), RestoreError> {
        let info = disc
            .root_file(SET_NAME)
            .map_err(Self::read_err(disc, SET_NAME))?
            .ok_or_else(|| RestoreError::NotASetDisc { disc: disc.name() })?;
        let info: SetInfo =
            serde_json::from_slice(&info).map_err(|e| RestoreError::UnknownFormat {
                disc: disc.name(),
                why: e.to_string(),
            })?;
        if info.format != SET_FORMAT {
            return Err(RestoreError::UnknownFormat {
                disc: disc.name(),
                why: format!("format {:?}", info.format),
            });
        }
        match &self.set {
            None => self.learn_set(disc, info.clone())?,
            Some(set) if set.plan != info.plan || set.set != info.set => {
                return Err(RestoreError::OtherSet {
                    disc: disc.name(),
                    found: info.set,
                    found_plan: info.plan,
                    wanted: set.set.clone(),
                    wanted_plan: set.plan.clone(),
                });
            }
            Some(_) => {}
        }
        let number = info.disc;
        if !self.read.insert(number) {
            on_event(RestoreEvent::Skipped {
                disc: number,
                why: "it was read already",
            });
            return Ok(());
        }
        on_event(RestoreEvent::Disc {
            disc: number,
            discs: info.discs,
            volume_id: info.volume_id.clone(),
        });
        let tree = disc.tree().map_err(Self::read_err(disc, "the tree"))?;
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |cause| RestoreError::Write { path, cause }
        };
        fs::create_dir_all(&self.to).map_err(write_err(&self.to))?;
        // Directories and symlinks first (files need their directories).
        if let Some(bad) = tree.iter().find(|e| !is_safe(&e.path)) {
            return Err(RestoreError::UnsafePath {
                disc: disc.name(),
                path: show(&bad.path),
            });
        }
        let mut attributes = Vec::new();
        for entry in &tree {
            if !self.wanted(&entry.path) && !self.only.iter().any(|w| under(w, &entry.path)) {
                continue;
            }
            let target = self.target(&entry.path);
            match &entry.kind {
                TreeKind::Directory => {
                    fs::create_dir_all(&target).map_err(write_err(&target))?;
                    if self.wanted(&entry.path) {
                        self.dirs.push(entry.clone());
                    }
                }
                TreeKind::Symlink(link) if self.wanted(&entry.path) => {
                    if fs::symlink_metadata(&target).is_err() {
                        symlink(OsStr::from_bytes(link), &target).map_err(write_err(&target))?;
                    }
                }
                TreeKind::File => attributes.push(entry),
                TreeKind::Symlink(_) => {}
            }
        }
        let by_path: std::collections::HashMap<&[u8], &TreeEntry> =
            attributes.iter().map(|e| (&e.path[..], *e)).collect();
        for index in 0..self.files.len() {
            self.restore_file(index, number, disc, &by_path, on_event)?;
        }
        Ok(())
    }

    fn restore_file(
        &mut self,
        index: usize,
        number: u32,
        disc: &mut dyn Disc,
        attributes: &std::collections::HashMap<&[u8], &TreeEntry>,
        on_event: &mut dyn FnMut(RestoreEvent),
    ) -> Result<(), RestoreError> {
        if self.files[index].state != State::Pending {
            return Ok(());
        }
        let file = self.files[index].clone();
        let target = self.target(&file.path);
        let partial = Self::with_suffix(&target, PARTIAL);
        let write_err = |cause| RestoreError::Write {
            path: partial.clone(),
            cause,
        };
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|cause| RestoreError::Write {
                path: parent.to_path_buf(),
                cause,
            })?;
        }
        match &file.placement {
            Placement::Whole { disc: d } if *d == number => {
                let mut out = File::create(&partial).map_err(write_err)?;
                let copied = copy_hashed(disc, &file.path, &mut out, None);
                drop(out);
                let state = match copied {
                    Ok((bytes, sha)) if bytes == file.size && sha == file.sha256 => {
                        on_event(RestoreEvent::Wrote {
                            path: file.path.clone(),
                            bytes,
                        });
                        State::Restored
                    }
                    Ok((bytes, _)) if bytes != file.size => State::Damaged(format!(
                        "{bytes} bytes on disc {number}, the catalogue says {}",
                        file.size
                    )),
                    Ok(_) => State::Damaged(format!(
                        "its SHA-256 on disc {number} differs from the catalogue's"
                    )),
                    Err(e) => State::Damaged(format!("reading it from disc {number} failed: {e}")),
                };
                self.settle(
                    index,
                    state,
                    &partial,
                    &target,
                    attributes.get(&file.path[..]),
                )?;
            }
            Placement::Split { parts } => {
                let mut any = false;
                for (p, part) in parts.iter().enumerate() {
                    if part.disc != number || part.done {
                        continue;
                    }
                    any = true;
                    let mut out = OpenOptions::new()
                        .create(true)
                        .write(true)
                        .truncate(false)
                        .open(&partial)
                        .map_err(write_err)?;
                    out.seek(SeekFrom::Start(part.offset)).map_err(write_err)?;
                    let copied = copy_hashed(disc, &part.path, &mut out, Some(part.size));
                    let good = matches!(copied, Ok((bytes, sha)) if bytes == part.size && sha == part.sha256);
                    if !good {
                        let why = match copied {
                            Err(e) => {
                                format!("reading part {} from disc {number} failed: {e}", p + 1)
                            }
                            Ok(_) => format!(
                                "part {} on disc {number} does not match its SHA-256",
                                p + 1
                            ),
                        };
                        self.settle(index, State::Damaged(why), &partial, &target, None)?;
                        return Ok(());
                    }
                    on_event(RestoreEvent::Wrote {
                        path: part.path.clone(),
                        bytes: part.size,
                    });
                    if let Placement::Split { parts } = &mut self.files[index].placement {
                        parts[p].done = true;
                    }
                }
                let all_done = matches!(&self.files[index].placement,
                    Placement::Split { parts } if parts.iter().all(|p| p.done));
                if any && all_done {
                    // Every part matched; the whole must too.
                    let state = match File::open(&partial).and_then(|mut f| sha256_of(&mut f)) {
                        Ok((bytes, sha)) if bytes == file.size && sha == file.sha256 => {
                            State::Restored
                        }
                        Ok(_) => State::Damaged(
                            "its parts matched, but the joined file does not match its SHA-256"
                                .to_string(),
                        ),
                        Err(e) => State::Damaged(format!("reading the joined file failed: {e}")),
                    };
                    // Every part carries the file's mode and time: take one on this disc.
                    let here = parts
                        .iter()
                        .find(|p| p.disc == number)
                        .map(|p| &p.path[..])
                        .unwrap_or(&[]);
                    self.settle(index, state, &partial, &target, attributes.get(here))?;
                }
            }
            Placement::Whole { .. } => {}
        }
        Ok(())
    }

    /// Gives a finished file its name (or its damaged name) and its attributes.
    fn settle(
        &mut self,
        index: usize,
        state: State,
        partial: &Path,
        target: &Path,
        attributes: Option<&&TreeEntry>,
    ) -> Result<(), RestoreError> {
        let write_err = |cause| RestoreError::Write {
            path: target.to_path_buf(),
            cause,
        };
        let final_path = match &state {
            State::Restored => target.to_path_buf(),
            _ => Self::with_suffix(target, DAMAGED),
        };
        if fs::symlink_metadata(partial).is_ok() {
            fs::rename(partial, &final_path).map_err(write_err)?;
            if let Some(entry) = attributes {
                set_attributes(&final_path, entry).map_err(write_err)?;
            }
        }
        self.files[index].state = state;
        Ok(())
    }

    /// Ends the restore: directories get their modes and times, unfinished files are
    /// removed, and the report says what is missing or damaged.
    pub fn finish(mut self) -> Result<RestoreReport, RestoreError> {
        let mut report = RestoreReport {
            set: self.set.clone(),
            discs_read: self.read.iter().copied().collect(),
            discs_missing: Vec::new(),
            restored_files: 0,
            restored_bytes: 0,
            missing: Vec::new(),
            damaged: Vec::new(),
        };
        if let Some(set) = &self.set {
            report.discs_missing = (1..=set.discs)
                .filter(|d| !self.read.contains(d))
                .map(|d| (d, set.volume_id_of(d)))
                .collect();
        }
        for file in &self.files {
            match &file.state {
                State::Restored => {
                    report.restored_files += 1;
                    report.restored_bytes += file.size;
                }
                State::Damaged(why) => report.damaged.push(Damaged {
                    path: file.path.clone(),
                    why: why.clone(),
                }),
                State::Pending => {
                    let discs = match &file.placement {
                        Placement::Whole { disc } => vec![*disc],
                        Placement::Split { parts } => {
                            let mut discs: Vec<u32> =
                                parts.iter().filter(|p| !p.done).map(|p| p.disc).collect();
                            discs.dedup();
                            discs
                        }
                    };
                    // A part-joined file that can never be whole is not left half-written.
                    let partial = Self::with_suffix(&self.target(&file.path), PARTIAL);
                    let _ = fs::remove_file(partial);
                    report.missing.push(Missing {
                        path: file.path.clone(),
                        discs,
                    });
                }
            }
        }
        // Deepest directories last in the list: set their times after their contents.
        self.dirs.sort_by(|a, b| b.path.cmp(&a.path));
        self.dirs.dedup_by(|a, b| a.path == b.path);
        for dir in &self.dirs {
            let target = self.target(&dir.path);
            set_attributes(&target, dir).map_err(|cause| RestoreError::Write {
                path: target.clone(),
                cause,
            })?;
        }
        Ok(report)
    }
}

/// Copies the file at `path` of `disc` into `out` (at most `limit` bytes and one read
/// more), returning its length and SHA-256.
fn copy_hashed(
    disc: &mut dyn Disc,
    path: &[u8],
    out: &mut File,
    limit: Option<u64>,
) -> io::Result<(u64, [u8; 32])> {
    hash_through(&mut disc.open(path)?, Some(out), limit)
}

fn sha256_of(reader: &mut impl Read) -> io::Result<(u64, [u8; 32])> {
    hash_through(reader, None, None)
}

/// Reads `reader` to its end (or past `limit`), hashing it and copying it into `out`.
fn hash_through(
    reader: &mut dyn Read,
    mut out: Option<&mut File>,
    limit: Option<u64>,
) -> io::Result<(u64, [u8; 32])> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        if let Some(out) = out.as_mut() {
            out.write_all(&buf[..n])?;
        }
        total += n as u64;
        if limit.is_some_and(|l| total > l) {
            break;
        }
    }
    Ok((total, hasher.finalize().into()))
}

/// Mode, modification time and (when allowed) owner of a restored entry.
fn set_attributes(path: &Path, entry: &TreeEntry) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(entry.mode))?;
    let time = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(entry.mtime.max(0) as u64))
        .unwrap_or(std::time::UNIX_EPOCH);
    let file = File::options()
        .read(true)
        .open(path)
        .or_else(|_| File::open(path));
    if let Ok(file) = file {
        let _ = file.set_modified(time);
    }
    // Owners only as root; anyone else restores as themselves, as cp -a does.
    let _ = std::os::unix::fs::lchown(path, Some(entry.uid), Some(entry.gid));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_would_leave_the_destination_are_unsafe() {
        for bad in [
            &b""[..],
            b"/etc/passwd",
            b"../x",
            b"a/../../x",
            b"a//b",
            b"./a",
            b"a/.",
        ] {
            assert!(!is_safe(bad), "{}", show(bad));
        }
        for good in [&b"a"[..], b"a/b.c", b"..a/b..", b"a/.hidden"] {
            assert!(is_safe(good), "{}", show(good));
        }
    }

    #[test]
    fn a_path_is_under_itself_and_its_directories_only() {
        assert!(under(b"www/site/a", b"www"));
        assert!(under(b"www", b"www"));
        assert!(!under(b"www2/a", b"www"));
    }
}

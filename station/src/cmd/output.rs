//! Where `burnstation image -o OUT` writes, made safe for the tree it images.
//!
//! Three rules, each for a way a person can lose data with one wrong argument:
//! - an output inside the source tree (or the same file as one of its files) is refused
//!   before anything is opened for writing: it would overwrite a file of the tree, or
//!   change the tree while it is read;
//! - a file is written under a temporary name beside it and renamed into place only once
//!   the whole image is in it, so a failed or stopped run leaves no partial image behind
//!   (and an existing image is replaced only by a whole one);
//! - when the output is the same file as stdout (`-o /dev/stdout`), the summary goes to
//!   stderr, so the image on stdout is only the image.
//!
//! Pipes and devices (`/dev/null`, a tty, `/dev/stdout` on a pipe) cannot be renamed and
//! hold no file to protect: they are written directly.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnstation_images::iso9660::SourceEntry;

/// An output path, checked against the source and resolved to what will be written.
#[derive(Debug)]
pub struct Output {
    /// The path as the person gave it, for messages.
    given: PathBuf,
    target: Target,
    /// The output is the file stdout already writes to.
    is_stdout: bool,
}

#[derive(Debug)]
enum Target {
    /// A regular file (or none yet): written beside it, then renamed onto this path.
    File(PathBuf),
    /// A pipe or device: written as it is.
    Direct,
}

impl Output {
    /// Resolves `given` (following symlinks) and refuses it when it lies inside `source`.
    /// Nothing is opened for writing.
    pub fn check(given: &Path, source: &Path) -> Result<Output> {
        let exists = fs::metadata(given).is_ok();
        let resolved = match fs::canonicalize(given) {
            Ok(path) => Some(path),
            // `/dev/stdout` on a pipe resolves to no path: a pipe, written directly.
            Err(_) if exists => None,
            Err(_) => Some(new_file_path(given)?),
        };
        if let (Some(resolved), Ok(tree)) = (&resolved, fs::canonicalize(source))
            && resolved.starts_with(&tree)
        {
            bail!(
                "{} is inside the tree being imaged ({}): writing the image there would change the tree while it is read, and could overwrite one of its files; write it outside {}",
                given.display(),
                source.display(),
                source.display()
            );
        }
        let target = match &resolved {
            Some(path) if fs::metadata(path).is_ok_and(|m| !m.is_file()) => Target::Direct,
            Some(path) => Target::File(path.clone()),
            None => Target::Direct,
        };
        Ok(Output {
            given: given.to_path_buf(),
            target,
            is_stdout: same_file_as_stdout(given),
        })
    }

    /// Refuses an output that is the same file as one of the tree's `entries` (a hard link
    /// to it, or stdout redirected into the tree), which no path comparison shows.
    pub fn check_entries(&self, source: &Path, entries: &[SourceEntry]) -> Result<()> {
        let Ok(meta) = fs::metadata(&self.given) else {
            return Ok(());
        };
        if let Some(entry) = entries
            .iter()
            .find(|e| (e.link.dev, e.link.ino) == (meta.dev(), meta.ino()))
        {
            bail!(
                "{} is the same file as {} in the tree being imaged ({}): writing the image would destroy it; write the image elsewhere",
                self.given.display(),
                String::from_utf8_lossy(&entry.path),
                source.display()
            );
        }
        Ok(())
    }

    /// The path as the person gave it, for messages.
    pub fn given(&self) -> &Path {
        &self.given
    }

    /// True when the summary must stay off stdout, which carries the image.
    pub fn is_stdout(&self) -> bool {
        self.is_stdout
    }

    /// Opens what the image is written to: a temporary file beside a file output, or the
    /// pipe or device itself.
    pub fn create(&self) -> Result<Partial> {
        let cannot_create = || {
            format!(
                "cannot create {}; check that its directory exists and is writable",
                self.given.display()
            )
        };
        match &self.target {
            Target::Direct => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&self.given)
                    .with_context(cannot_create)?;
                Ok(Partial {
                    file,
                    temporary: None,
                })
            }
            Target::File(path) => {
                let temporary = temporary_path(path);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&temporary)
                    .with_context(cannot_create)?;
                Ok(Partial {
                    file,
                    temporary: Some((temporary, path.clone())),
                })
            }
        }
    }
}

/// An image being written. Dropped before [`Partial::commit`], it removes its temporary
/// file: a failed run leaves nothing at the output.
#[derive(Debug)]
pub struct Partial {
    file: File,
    /// The temporary file and the path it becomes.
    temporary: Option<(PathBuf, PathBuf)>,
}

impl Partial {
    /// True when this is a temporary file, removed unless committed.
    pub fn is_temporary(&self) -> bool {
        self.temporary.is_some()
    }

    /// Writes more of the image.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    /// The whole image is written: it reaches the disk, then takes the output's name.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        if let Some((temporary, path)) = self.temporary.take() {
            let done = self
                .file
                .sync_all()
                .and_then(|()| fs::rename(&temporary, &path));
            if done.is_err() {
                let _ = fs::remove_file(&temporary);
            }
            done?;
        }
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some((temporary, _)) = self.temporary.take() {
            // Nobody is left to tell if this fails; the name says what the file is.
            let _ = fs::remove_file(temporary);
        }
    }
}

/// Where a file that does not exist yet would be: its directory resolved, its name kept.
fn new_file_path(given: &Path) -> Result<PathBuf> {
    let name = given
        .file_name()
        .with_context(|| format!("{} names no file to write the image to", given.display()))?;
    let parent = match given.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let parent = fs::canonicalize(parent).with_context(|| {
        format!(
            "cannot create {}; check that its directory exists and is writable",
            given.display()
        )
    })?;
    Ok(parent.join(name))
}

/// `.NAME.partial-PID` beside `path`: hidden, says what it is, unique to this run.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

/// True when `path` is the file stdout writes to (`/dev/stdout`, or a redirect to it).
fn same_file_as_stdout(path: &Path) -> bool {
    let Ok(target) = fs::metadata(path) else {
        return false;
    };
    let Ok(stdout) = io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    File::from(stdout)
        .metadata()
        .is_ok_and(|out| (out.dev(), out.ino()) == (target.dev(), target.ino()))
}

//! Extracting a whole image onto disk, on top of the reader's entries and file contents:
//! contents, modes, mtimes, symlinks and hard links, with sparse files kept sparse.
//!
//! It never writes outside the destination: a name with an empty, `.` or `..` component,
//! or one below a symlink it extracted, is refused before anything is written for it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::reader::{IsoEntry, IsoEntryKind, IsoImage, ReadError};
use super::records::UnixSeconds;

fn to_system_time(time: UnixSeconds) -> SystemTime {
    if time >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(time as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(time.unsigned_abs())
    }
}

/// Sets a symlink's own modification (and access) time, which std cannot do.
fn set_symlink_mtime(path: &Path, time: UnixSeconds) -> io::Result<()> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    let stamp = libc::timespec {
        tv_sec: time as libc::time_t,
        tv_nsec: 0,
    };
    let times = [stamp, stamp];
    // SAFETY: `c_path` is a valid NUL-terminated string and `times` two valid timespecs,
    // both alive for the whole call; utimensat does not keep either pointer.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl<R: Read + Seek> IsoImage<R> {
    /// Extracts the whole tree under `dest` (created if missing): contents, modes, mtimes,
    /// symlinks and hard links. Owners are not restored. All-zero blocks of a file become
    /// holes, so sparse files stay sparse.
    pub fn extract_all(&mut self, dest: &Path) -> Result<(), ReadError> {
        let failed = |path: &Path| {
            let path = path.to_path_buf();
            move |cause| ReadError::Extract { path, cause }
        };
        fs::create_dir_all(dest).map_err(failed(dest))?;
        let entries = self.entries().to_vec();
        let mut symlinks: HashSet<Vec<u8>> = HashSet::new();
        let mut first_link: HashMap<u32, PathBuf> = HashMap::new();
        let mut buf = vec![0u8; 1 << 20];
        for entry in &entries {
            if entry
                .path
                .split(|&b| b == b'/')
                .any(|c| c.is_empty() || c == b"." || c == b"..")
            {
                return Err(ReadError::UnsafePath {
                    path: String::from_utf8_lossy(&entry.path).into_owned(),
                });
            }
            let mut prefix = entry.path.as_slice();
            while let Some(pos) = prefix.iter().rposition(|&b| b == b'/') {
                prefix = &prefix[..pos];
                if symlinks.contains(prefix) {
                    return Err(ReadError::UnsafePath {
                        path: String::from_utf8_lossy(&entry.path).into_owned(),
                    });
                }
            }
            let target = dest.join(OsStr::from_bytes(&entry.path));
            match &entry.kind {
                IsoEntryKind::Directory => {
                    fs::create_dir_all(&target).map_err(failed(&target))?;
                }
                IsoEntryKind::Symlink { target: link } => {
                    std::os::unix::fs::symlink(OsStr::from_bytes(link), &target)
                        .map_err(failed(&target))?;
                    symlinks.insert(entry.path.clone());
                    set_symlink_mtime(&target, entry.mtime).map_err(failed(&target))?;
                }
                IsoEntryKind::File => {
                    let linked = entry
                        .serial
                        .filter(|_| entry.nlink > 1)
                        .and_then(|s| first_link.get(&s));
                    if let Some(original) = linked {
                        fs::hard_link(original, &target).map_err(failed(&target))?;
                        continue;
                    }
                    self.extract_file(entry, &target, &mut buf)?;
                    if let (Some(serial), true) = (entry.serial, entry.nlink > 1) {
                        first_link.insert(serial, target.clone());
                    }
                }
            }
        }
        // Directories last, deepest first, so their mode and mtime stick.
        for entry in entries.iter().rev() {
            if entry.kind == IsoEntryKind::Directory {
                let target = dest.join(OsStr::from_bytes(&entry.path));
                let dir = fs::File::open(&target).map_err(failed(&target))?;
                dir.set_modified(to_system_time(entry.mtime))
                    .map_err(failed(&target))?;
                fs::set_permissions(&target, fs::Permissions::from_mode_bits(entry.mode))
                    .map_err(failed(&target))?;
            }
        }
        Ok(())
    }

    fn extract_file(
        &mut self,
        entry: &IsoEntry,
        target: &Path,
        buf: &mut [u8],
    ) -> Result<(), ReadError> {
        let failed = |cause| ReadError::Extract {
            path: target.to_path_buf(),
            cause,
        };
        let mut out = fs::File::create(target).map_err(failed)?;
        let mut reader = self.open_file(entry);
        let mut written = 0u64;
        loop {
            let n = read_full(&mut reader, buf).map_err(|cause| ReadError::Io {
                lba: entry.extents.first().map_or(0, |e| e.lba),
                cause,
            })?;
            if n == 0 {
                break;
            }
            if buf[..n].iter().all(|&b| b == 0) {
                out.seek(SeekFrom::Current(n as i64)).map_err(failed)?;
            } else {
                out.write_all(&buf[..n]).map_err(failed)?;
            }
            written += n as u64;
        }
        out.set_len(written).map_err(failed)?;
        out.set_modified(to_system_time(entry.mtime))
            .map_err(failed)?;
        drop(out);
        fs::set_permissions(target, fs::Permissions::from_mode_bits(entry.mode)).map_err(failed)?;
        Ok(())
    }
}

/// Fills `buf` as far as the reader allows (fewer bytes only at the end).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Permission bits from a full `st_mode`.
trait FromModeBits {
    fn from_mode_bits(mode: u32) -> Self;
}

impl FromModeBits for fs::Permissions {
    fn from_mode_bits(mode: u32) -> Self {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(mode & 0o7777)
    }
}

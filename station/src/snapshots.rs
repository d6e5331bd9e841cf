//! The snapshot store: every good copy of the backup tree the box holds, under its data
//! directory, and the one place a new copy is made.
//!
//! ```text
//! DATA_DIR/
//!   snapshots/2026-11-26T030000Z/tree/...   one complete sync each, named by its UTC start
//!   staging/tree/...                         what rsync writes into; becomes the next snapshot
//!   partial/                                 rsync's partly transferred files (--partial-dir)
//!   trash/                                   snapshots being deleted
//!   known_hosts, sync.lock
//! ```
//!
//! Rules, and why:
//! - Only a complete, successful sync becomes a snapshot, by one `rename` of `staging/` into
//!   `snapshots/` after everything in it is on the disk (`syncfs`), followed by an fsync of
//!   both directories: after a power cut a snapshot is either all there or not there.
//! - A snapshot is never written again. Unchanged files are hard links to the previous
//!   snapshot's (`--link-dest`), and rsync replaces a changed file by renaming a new one into
//!   place, never by writing into it, so a link shared with a snapshot is never changed by a
//!   sync. The snapshot's own directory (above `tree/`, which is exactly the source) is made
//!   read-only, so nothing can be added to or removed from it by mistake.
//! - Staging left by a failed or killed sync is kept, so the next try resumes instead of
//!   starting over, but every file in it that shares its inode with another (a link into a
//!   snapshot) is removed first ([`SnapshotStore::prepare_staging`]): rsync changes a file's
//!   permissions and times in place, and such a change must never reach a snapshot.
//! - Retention keeps the newest N and every snapshot the caller protects (a disc set still
//!   being burnt needs its snapshot); a snapshot is deleted by moving it to `trash/` first, so
//!   a half-deleted one is never listed.
//! - One sync at a time: `sync.lock` is held (flock) while staging is in use, so the command
//!   line's `burnstation sync` and the daemon cannot write into it together.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use nix::fcntl::{Flock, FlockArg};

use crate::config::SshPublicKey;

/// The format of a snapshot's name: its UTC start time.
const NAME_FORMAT: &str = "%Y-%m-%dT%H%M%SZ";
/// The permissions of a snapshot's own directory: read-only for everybody.
const SEALED_MODE: u32 = 0o555;

/// One good snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Snapshot {
    /// When the sync that made it started (UTC, whole seconds).
    pub taken_at: DateTime<Utc>,
    /// 1, or more when several syncs started within the same second.
    pub sequence: u32,
    name: String,
    path: PathBuf,
}

impl Snapshot {
    /// Its name, `2026-11-26T030000Z` (with `-2`, `-3`... for a second one in that second).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The copied tree: exactly what the source folder held.
    pub fn tree(&self) -> PathBuf {
        self.path.join("tree")
    }

    /// The snapshot named `name` in `dir`, if `name` is a snapshot's name.
    fn from_name(dir: &Path, name: &str) -> Option<Snapshot> {
        let (stamp, sequence) = match name.split_once("Z-") {
            Some((stamp, n)) => (
                format!("{stamp}Z"),
                n.parse::<u32>().ok().filter(|n| *n >= 2)?,
            ),
            None => (name.to_string(), 1),
        };
        let taken_at = NaiveDateTime::parse_from_str(&stamp, NAME_FORMAT)
            .ok()?
            .and_utc();
        Some(Snapshot {
            taken_at,
            sequence,
            name: name.to_string(),
            path: dir.join(name),
        })
    }
}

fn snapshot_name(taken_at: DateTime<Utc>, sequence: u32) -> String {
    let stamp = taken_at.format(NAME_FORMAT).to_string();
    if sequence == 1 {
        stamp
    } else {
        format!("{stamp}-{sequence}")
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory of the store could not be used.
    #[error(
        "could not {what} {path} ({source}); check that the data partition is mounted and \
         writable"
    )]
    Io {
        /// What the store was doing.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Another sync holds the store.
    #[error("another sync is already running on this box (it holds {lock}); wait for it to finish")]
    Busy {
        /// The lock file.
        lock: PathBuf,
    },
    /// The clock is earlier than the newest snapshot, so it is wrong.
    #[error(
        "the clock says {now}, earlier than the newest snapshot {newest}, so the clock is wrong; \
         wait for the box to set its clock from the network"
    )]
    ClockBehind {
        /// The clock.
        now: DateTime<Utc>,
        /// The newest snapshot's name.
        newest: String,
    },
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The store under a data directory.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    data_dir: PathBuf,
}

/// Holding this, the caller is the only one using staging.
#[derive(Debug)]
pub struct SyncLock {
    _lock: Flock<File>,
}

impl SnapshotStore {
    /// Opens the store under `data_dir`, creating its directories, finishing any deletion a
    /// power cut interrupted, and sealing any snapshot whose sealing it interrupted.
    pub fn open(data_dir: &Path) -> Result<SnapshotStore, StoreError> {
        let store = SnapshotStore {
            data_dir: data_dir.to_path_buf(),
        };
        for dir in [
            store.snapshots_dir(),
            store.partial_dir(),
            store.trash_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        }
        store.empty_trash()?;
        for snapshot in store.list()? {
            seal(snapshot.path())?;
        }
        Ok(store)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn snapshots_dir(&self) -> PathBuf {
        self.data_dir.join("snapshots")
    }

    /// Where the sync writes.
    pub fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("staging")
    }

    /// Where rsync keeps partly transferred files between tries.
    pub fn partial_dir(&self) -> PathBuf {
        self.data_dir.join("partial")
    }

    fn trash_dir(&self) -> PathBuf {
        self.data_dir.join("trash")
    }

    /// The `known_hosts` file written from the pinned host key.
    pub fn known_hosts_path(&self) -> PathBuf {
        self.data_dir.join("known_hosts")
    }

    /// Every snapshot, oldest first.
    pub fn list(&self) -> Result<Vec<Snapshot>, StoreError> {
        let dir = self.snapshots_dir();
        let mut snapshots = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_error("list", &dir))? {
            let entry = entry.map_err(io_error("list", &dir))?;
            let name = entry.file_name();
            match name.to_str().and_then(|n| Snapshot::from_name(&dir, n)) {
                Some(snapshot) => snapshots.push(snapshot),
                None => tracing::debug!(name = ?name, "not a snapshot, left alone"),
            }
        }
        snapshots.sort();
        Ok(snapshots)
    }

    /// The newest snapshot, if there is one.
    pub fn newest(&self) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.list()?.pop())
    }

    /// Takes the store for one sync, or says another one has it.
    pub fn lock(&self) -> Result<SyncLock, StoreError> {
        let path = self.data_dir.join("sync.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(SyncLock { _lock: lock }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(StoreError::Busy { lock: path }),
            Err((_, errno)) => Err(StoreError::Io {
                what: "lock",
                path,
                source: io::Error::from(errno),
            }),
        }
    }

    /// Free space on the data partition, in bytes, as an unprivileged user may use it.
    pub fn free_space(&self) -> Result<u64, StoreError> {
        let stats = nix::sys::statvfs::statvfs(&self.data_dir).map_err(|errno| StoreError::Io {
            what: "measure the free space of",
            path: self.data_dir.clone(),
            source: io::Error::from(errno),
        })?;
        // The field types are 32 bits wide on 32-bit ARM and 64 on the rest.
        #[allow(clippy::useless_conversion)]
        let (blocks, block_size) = (
            u64::from(stats.blocks_available()),
            u64::from(stats.fragment_size()),
        );
        Ok(blocks.saturating_mul(block_size))
    }

    /// Makes staging ready for a sync and returns the directory rsync writes into. What a
    /// failed sync left is kept (so the next one resumes) except files that share their inode
    /// with another: those are links into a snapshot, cheap to make again, and rsync would
    /// change their permissions and times in place.
    pub fn prepare_staging(&self, _lock: &SyncLock) -> Result<PathBuf, StoreError> {
        let tree = self.staging_dir().join("tree");
        fs::create_dir_all(&tree).map_err(io_error("create", &tree))?;
        let removed = remove_shared_files(&tree)?;
        if removed > 0 {
            tracing::info!(removed, "cleared the links a failed sync left in staging");
        }
        Ok(tree)
    }

    /// Writes the `known_hosts` file that pins `key` under the name `alias`.
    pub fn write_known_hosts(
        &self,
        _lock: &SyncLock,
        key: &SshPublicKey,
        alias: &str,
    ) -> Result<PathBuf, StoreError> {
        let path = self.known_hosts_path();
        write_atomically(&path, key.known_hosts_line(alias).as_bytes())?;
        Ok(path)
    }

    /// Makes the finished staging the newest snapshot, named after `taken_at`. Refused when
    /// `taken_at` is earlier than the newest snapshot: the clock must be wrong.
    pub fn promote(
        &self,
        _lock: &SyncLock,
        taken_at: DateTime<Utc>,
    ) -> Result<Snapshot, StoreError> {
        let taken_at = DateTime::from_timestamp(taken_at.timestamp(), 0).unwrap_or(taken_at);
        self.check_clock(taken_at)?;
        let dir = self.snapshots_dir();
        let mut sequence = 1;
        while dir.join(snapshot_name(taken_at, sequence)).exists() {
            sequence += 1;
        }
        let name = snapshot_name(taken_at, sequence);
        let staging = self.staging_dir();
        let target = dir.join(&name);
        // Everything rsync wrote reaches the disk before the snapshot exists.
        sync_filesystem(&staging)?;
        fs::rename(&staging, &target).map_err(io_error("rename staging to", &target))?;
        fsync_dir(&dir)?;
        fsync_dir(&self.data_dir)?;
        seal(&target)?;
        self.empty_partial_dir()?;
        Ok(Snapshot {
            taken_at,
            sequence,
            name,
            path: target,
        })
    }

    /// Fails when the clock reading `now` is earlier than the newest snapshot.
    pub fn check_clock(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        match self.newest()? {
            Some(newest) if now < newest.taken_at => Err(StoreError::ClockBehind {
                now,
                newest: newest.name,
            }),
            _ => Ok(()),
        }
    }

    /// Deletes the oldest snapshots beyond the newest `keep`, except those `protected` says
    /// a disc set still needs. Returns the deleted ones.
    pub fn prune(
        &self,
        keep: usize,
        protected: impl Fn(&Snapshot) -> bool,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let snapshots = self.list()?;
        let keep = keep.max(1);
        let old = snapshots.len().saturating_sub(keep);
        let mut deleted = Vec::new();
        for snapshot in snapshots.into_iter().take(old) {
            if protected(&snapshot) {
                tracing::debug!(snapshot = snapshot.name(), "kept: a disc set needs it");
                continue;
            }
            let doomed = self.trash_dir().join(snapshot.name());
            // Moving a directory to another parent rewrites its "..", which its own
            // permissions must allow; `open` seals it again if the move never happens.
            make_owner_writable(snapshot.path())?;
            fs::rename(snapshot.path(), &doomed)
                .map_err(io_error("move to the trash", snapshot.path()))?;
            fsync_dir(&self.snapshots_dir())?;
            remove_tree(&doomed)?;
            tracing::info!(snapshot = snapshot.name(), "deleted an old snapshot");
            deleted.push(snapshot);
        }
        Ok(deleted)
    }

    /// Deletes the partly transferred files failed syncs kept (they only save time).
    pub fn clear_partial_files(&self, _lock: &SyncLock) -> Result<(), StoreError> {
        self.empty_partial_dir()
    }

    fn empty_trash(&self) -> Result<(), StoreError> {
        let trash = self.trash_dir();
        for entry in fs::read_dir(&trash).map_err(io_error("list", &trash))? {
            let entry = entry.map_err(io_error("list", &trash))?;
            remove_tree(&entry.path())?;
        }
        Ok(())
    }

    fn empty_partial_dir(&self) -> Result<(), StoreError> {
        let partial = self.partial_dir();
        if partial.exists() {
            remove_tree(&partial)?;
        }
        fs::create_dir_all(&partial).map_err(io_error("create", &partial))
    }
}

/// Makes a snapshot's own directory read-only (its tree keeps the source's permissions).
fn seal(snapshot: &Path) -> Result<(), StoreError> {
    let mode = fs::symlink_metadata(snapshot)
        .map_err(io_error("look at", snapshot))?
        .permissions()
        .mode();
    if mode & 0o7777 != SEALED_MODE {
        fs::set_permissions(snapshot, fs::Permissions::from_mode(SEALED_MODE))
            .map_err(io_error("make read-only", snapshot))?;
    }
    Ok(())
}

/// Removes every non-directory under `root` whose inode has other names; returns how many.
fn remove_shared_files(root: &Path) -> Result<u64, StoreError> {
    let mut removed = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut writable = false;
        for entry in fs::read_dir(&dir).map_err(io_error("list", &dir))? {
            let entry = entry.map_err(io_error("list", &dir))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(io_error("look at", &path))?;
            if meta.is_dir() {
                dirs.push(path);
            } else if meta.nlink() > 1 {
                if !writable {
                    // A directory copied read-only from the source; rsync sets its mode
                    // again at the end of the next sync.
                    make_owner_writable(&dir)?;
                    writable = true;
                }
                fs::remove_file(&path).map_err(io_error("remove", &path))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn make_owner_writable(dir: &Path) -> Result<(), StoreError> {
    let mode = fs::symlink_metadata(dir)
        .map_err(io_error("look at", dir))?
        .permissions()
        .mode();
    if mode & 0o700 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))
            .map_err(io_error("make writable", dir))?;
    }
    Ok(())
}

/// Deletes a tree even where its directories are read-only (a sealed snapshot, a source
/// folder copied with mode 0555).
fn remove_tree(root: &Path) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(root).map_err(io_error("look at", root))?;
    if !meta.is_dir() {
        return fs::remove_file(root).map_err(io_error("remove", root));
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        make_owner_writable(&dir)?;
        for entry in fs::read_dir(&dir).map_err(io_error("list", &dir))? {
            let entry = entry.map_err(io_error("list", &dir))?;
            if entry
                .file_type()
                .map_err(io_error("look at", &entry.path()))?
                .is_dir()
            {
                dirs.push(entry.path());
            }
        }
    }
    fs::remove_dir_all(root).map_err(io_error("remove", root))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let temporary = path.with_extension("new");
    let mut file = File::create(&temporary).map_err(io_error("create", &temporary))?;
    file.write_all(bytes)
        .map_err(io_error("write", &temporary))?;
    file.sync_all().map_err(io_error("write", &temporary))?;
    fs::rename(&temporary, path).map_err(io_error("replace", path))
}

/// Flushes everything written to the filesystem holding `path`: one call for a whole tree,
/// instead of an fsync per file (rsync's `--fsync`), which an SD card makes slow.
fn sync_filesystem(path: &Path) -> Result<(), StoreError> {
    let dir = File::open(path).map_err(io_error("open", path))?;
    nix::unistd::syncfs(&dir).map_err(|errno| StoreError::Io {
        what: "flush",
        path: path.to_path_buf(),
        source: io::Error::from(errno),
    })
}

fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("flush", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Fills staging with one file, as a sync would, and promotes it.
    fn sync_once(store: &SnapshotStore, when: &str, contents: &str) -> Snapshot {
        let lock = store.lock().unwrap();
        let tree = store.prepare_staging(&lock).unwrap();
        fs::write(tree.join("file"), contents).unwrap();
        store.promote(&lock, at(when)).unwrap()
    }

    #[test]
    fn names_are_utc_start_times_that_sort_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let first = sync_once(&store, "2026-11-26T03:00:00.750Z", "a");
        let second = sync_once(&store, "2026-11-26T03:00:00Z", "b");
        let third = sync_once(&store, "2026-11-27T03:00:00Z", "c");
        assert_eq!(first.name(), "2026-11-26T030000Z");
        assert_eq!(second.name(), "2026-11-26T030000Z-2");
        assert_eq!(third.name(), "2026-11-27T030000Z");
        let names: Vec<String> = store
            .list()
            .unwrap()
            .iter()
            .map(|s| s.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "2026-11-26T030000Z",
                "2026-11-26T030000Z-2",
                "2026-11-27T030000Z"
            ]
        );
        assert_eq!(fs::read_to_string(second.tree().join("file")).unwrap(), "b");
        // Sealed: nothing can be added next to the tree.
        let mode = fs::metadata(third.path()).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, SEALED_MODE);
        // Staging is gone, so the next sync starts from an empty one.
        assert!(!store.staging_dir().exists());
    }

    #[test]
    fn a_clock_behind_the_newest_snapshot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        sync_once(&store, "2026-11-26T03:00:00Z", "a");
        let lock = store.lock().unwrap();
        store.prepare_staging(&lock).unwrap();
        let err = store
            .promote(&lock, at("1970-01-01T00:00:10Z"))
            .unwrap_err();
        assert!(matches!(err, StoreError::ClockBehind { .. }), "{err}");
        assert!(err.to_string().contains("2026-11-26T030000Z"), "{err}");
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn one_sync_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let held = store.lock().unwrap();
        assert!(matches!(store.lock(), Err(StoreError::Busy { .. })));
        drop(held);
        store.lock().unwrap();
    }

    #[test]
    fn links_into_snapshots_are_cleared_from_staging_and_other_files_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let snapshot = sync_once(&store, "2026-11-26T03:00:00Z", "kept safe");
        let lock = store.lock().unwrap();
        let tree = store.prepare_staging(&lock).unwrap();
        // What a failed sync leaves: a link into the snapshot, in a read-only directory, and a
        // file it downloaded.
        fs::create_dir(tree.join("ro")).unwrap();
        fs::hard_link(snapshot.tree().join("file"), tree.join("ro/linked")).unwrap();
        fs::set_permissions(tree.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
        fs::write(tree.join("downloaded"), "new").unwrap();
        let tree = store.prepare_staging(&lock).unwrap();
        assert!(!tree.join("ro/linked").exists());
        assert_eq!(fs::read_to_string(tree.join("downloaded")).unwrap(), "new");
        assert_eq!(
            fs::metadata(snapshot.tree().join("file")).unwrap().nlink(),
            1
        );
    }

    #[test]
    fn retention_keeps_the_newest_and_every_protected_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let days = ["21", "22", "23", "24", "25", "26"];
        for day in days {
            sync_once(&store, &format!("2026-11-{day}T03:00:00Z"), day);
        }
        // A read-only directory inside a tree must not stop the deletion.
        let oldest = store.list().unwrap()[0].clone();
        fs::set_permissions(oldest.tree(), fs::Permissions::from_mode(0o555)).unwrap();
        let protected = "2026-11-22T030000Z";
        let deleted = store.prune(2, |s| s.name() == protected).unwrap();
        let deleted: Vec<&str> = deleted.iter().map(Snapshot::name).collect();
        assert_eq!(
            deleted,
            [
                "2026-11-21T030000Z",
                "2026-11-23T030000Z",
                "2026-11-24T030000Z"
            ]
        );
        let left: Vec<String> = store
            .list()
            .unwrap()
            .iter()
            .map(|s| s.name().to_string())
            .collect();
        assert_eq!(
            left,
            [protected, "2026-11-25T030000Z", "2026-11-26T030000Z"]
        );
        assert_eq!(fs::read_dir(store.trash_dir()).unwrap().count(), 0);
        // Never fewer than one, whatever is asked.
        store.prune(0, |_| false).unwrap();
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn opening_finishes_an_interrupted_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let snapshot = sync_once(&store, "2026-11-26T03:00:00Z", "a");
        // A power cut after the move to the trash, before the delete.
        fs::rename(snapshot.path(), store.trash_dir().join(snapshot.name())).unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(store.trash_dir()).unwrap().count(), 0);
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn other_names_in_the_snapshot_folder_are_not_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        for odd in [
            "notes",
            "2026-11-26T030000Z-1",
            "2026-13-26T030000Z",
            "2026-11-26T030000Z-x",
        ] {
            fs::create_dir(store.snapshots_dir().join(odd)).unwrap();
        }
        assert!(store.list().unwrap().is_empty());
    }
}

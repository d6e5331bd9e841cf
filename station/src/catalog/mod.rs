//! The catalogue: the box's memory of every snapshot, disc set, disc, file, burn and
//! verification, in SQLite.
//!
//! Every write is one transaction, committed before the box acts on it (a burn is recorded
//! as started before the first WRITE), so after a power cut or a `kill -9` the database
//! holds exactly the transactions that committed and the box knows where it was: a burn
//! left "started" is marked interrupted ([`Catalog::mark_interrupted_burns`]), never done.
//! WAL journaling with `synchronous = FULL` makes a commit durable once it returns.
//!
//! The schema grows by migrations (`migrations.rs`); the daemon adds its own tables there.

pub mod migrations;
mod queries;

use std::path::{Path, PathBuf};
use std::time::Duration;

use burnstation_hal::drive::SectorQuality;
use burnstation_images::plan::{DiscSet, Kind, SetHashes, TREE_FOLDER};
use rusqlite::{Connection, OptionalExtension, params};

use crate::verify::VerifyReport;

pub use queries::{BurnRecord, DiscHistory, Location, SetHistory, SetSummary, VerificationRecord};

/// A snapshot's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SnapshotId(pub i64);
/// A disc set's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetId(pub i64);
/// A burn's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BurnId(pub i64);

/// Why the catalogue could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(
        "cannot open the catalogue {path} ({source}); check that its directory exists and is writable"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the catalogue {path} was written by a newer burnstation (schema {found}, this one knows {known}); update burnstation"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("the catalogue has no disc set {0}; list the sets with `burnstation catalog sets`")]
    NoSuchSet(i64),
    #[error("the catalogue's set {set} has no disc {disc}")]
    NoSuchDisc { set: i64, disc: u32 },
    #[error("the catalogue could not be read or written ({0}); check the disk holding it")]
    Sql(#[from] rusqlite::Error),
}

/// How a burn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurnResult {
    Done,
    Failed,
    Cancelled,
}

impl BurnResult {
    fn as_str(self) -> &'static str {
        match self {
            BurnResult::Done => "done",
            BurnResult::Failed => "failed",
            BurnResult::Cancelled => "cancelled",
        }
    }
}

/// The outcome of reading a disc back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every block read back and matched.
    pub passed: bool,
    /// Verification could not be carried out at all (as opposed to finding damage).
    pub failed: bool,
    pub blocks: u64,
    pub unreadable_blocks: u64,
    pub damaged_files: u64,
    /// The sector map in words (which ranges, which files).
    pub summary: String,
}

impl From<&VerifyReport> for Verification {
    /// What the catalogue keeps of a read-back: the verdict, the sector map in numbers and
    /// the report in words.
    fn from(report: &VerifyReport) -> Verification {
        Verification {
            passed: report.passed(),
            failed: false,
            blocks: report.blocks,
            unreadable_blocks: report.sectors.count(SectorQuality::Unreadable),
            damaged_files: (report.mismatched.len()
                + report.unreadable.len()
                + report.missing.len()) as u64,
            summary: report.to_string(),
        }
    }
}

/// A burn about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBurn<'a> {
    pub set: SetId,
    pub disc: u32,
    pub drive: &'a str,
    pub medium: &'a str,
    pub speed_kbps: Option<u32>,
    pub started_at: i64,
}

/// How a recorded set was planned ([`Catalog::set_plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPlan {
    pub snapshot: SnapshotId,
    pub snapshot_name: String,
    /// The snapshot's tree, as it was planned from.
    pub snapshot_path: PathBuf,
    pub snapshot_time: i64,
    pub medium: String,
    pub capacity_blocks: u64,
    pub plan_id: String,
    pub discs: u32,
}

/// The open catalogue.
#[derive(Debug)]
pub struct Catalog {
    conn: Connection,
}

fn blob(bytes: &[u8]) -> &[u8] {
    bytes
}

impl Catalog {
    /// Opens (creating if needed) the catalogue at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let open_err = |source| CatalogError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        let mut catalog = Catalog { conn };
        catalog.configure().map_err(open_err)?;
        catalog.migrate(path)?;
        Ok(catalog)
    }

    /// An in-memory catalogue (for a command run without the box's database).
    pub fn in_memory() -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog {
            conn: Connection::open_in_memory()?,
        };
        catalog.configure()?;
        catalog.migrate(Path::new(":memory:"))?;
        Ok(catalog)
    }

    fn configure(&mut self) -> Result<(), rusqlite::Error> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        // WAL: readers (the display, the command line) never block the daemon's writes;
        // FULL: a commit survives a power cut once it returns.
        let _mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        self.conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = FILE;",
        )
    }

    fn migrate(&mut self, path: &Path) -> Result<(), CatalogError> {
        let known = migrations::MIGRATIONS.last().map_or(0, |m| m.version);
        let found: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > known {
            return Err(CatalogError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        for migration in migrations::MIGRATIONS.iter().filter(|m| m.version > found) {
            tracing::info!(version = migration.version, "{}", migration.description);
            let tx = self.conn.transaction()?;
            tx.execute_batch(migration.sql)?;
            tx.pragma_update(None, "user_version", migration.version)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<u32, CatalogError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, CatalogError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
    }

    /// The snapshot at `path` taken at `taken_at`, added if new.
    pub fn add_snapshot(
        &mut self,
        name: &str,
        path: &Path,
        taken_at: i64,
        files: u64,
        bytes: u64,
    ) -> Result<SnapshotId, CatalogError> {
        let path = path.to_string_lossy();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO snapshots (name, path, taken_at, files, bytes) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (path, taken_at) DO NOTHING",
            params![name, path, taken_at, files as i64, bytes as i64],
        )?;
        let id = tx.query_row(
            "SELECT id FROM snapshots WHERE path = ?1 AND taken_at = ?2",
            params![path, taken_at],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(SnapshotId(id))
    }

    /// The known SHA-256 of the file at `path` (relative to the snapshot) of `size` bytes
    /// and modified at `mtime`: from this snapshot, else from any other where the file had
    /// the same size and time (rsync's own test for "unchanged", the one that hard-links it
    /// into the next snapshot).
    pub fn known_hash(
        &self,
        snapshot: SnapshotId,
        path: &[u8],
        size: u64,
        mtime: i64,
    ) -> Result<Option<[u8; 32]>, CatalogError> {
        let mut own = self.conn.prepare_cached(
            "SELECT sha256 FROM file_hashes WHERE snapshot_id = ?1 AND path = ?2 AND size = ?3 AND mtime = ?4",
        )?;
        let found: Option<Vec<u8>> = own
            .query_row(params![snapshot.0, blob(path), size as i64, mtime], |row| {
                row.get(0)
            })
            .optional()?;
        let found = match found {
            Some(found) => Some(found),
            None => {
                let mut other = self.conn.prepare_cached(
                    "SELECT sha256 FROM file_hashes WHERE path = ?1 AND size = ?2 AND mtime = ?3
                     ORDER BY snapshot_id DESC LIMIT 1",
                )?;
                other
                    .query_row(params![blob(path), size as i64, mtime], |row| row.get(0))
                    .optional()?
            }
        };
        Ok(found.and_then(|bytes: Vec<u8>| bytes.try_into().ok()))
    }

    /// Records the hashes of files of `snapshot` (path, size, mtime, SHA-256), in one
    /// transaction.
    pub fn store_hashes<'a>(
        &mut self,
        snapshot: SnapshotId,
        hashes: impl IntoIterator<Item = (&'a [u8], u64, i64, [u8; 32])>,
    ) -> Result<(), CatalogError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO file_hashes (snapshot_id, path, size, mtime, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (path, size, mtime, sha) in hashes {
                insert.execute(params![snapshot.0, path, size as i64, mtime, &sha[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a planned set: the set, its discs, every file and part with its disc and
    /// SHA-256, in one transaction.
    pub fn record_set(
        &mut self,
        snapshot: SnapshotId,
        set: &DiscSet,
        hashes: &SetHashes,
        created_at: i64,
    ) -> Result<SetId, CatalogError> {
        let options = set.options();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO disc_sets (snapshot_id, label, plan_id, medium, capacity_blocks, discs, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                snapshot.0,
                set.label(),
                set.plan_id(),
                options.medium,
                options.capacity_blocks as i64,
                set.discs().len() as i64,
                created_at
            ],
        )?;
        let set_id = tx.last_insert_rowid();
        {
            let mut disc = tx.prepare(
                "INSERT INTO discs (set_id, number, volume_id, image_blocks, files, data_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for d in set.discs() {
                disc.execute(params![
                    set_id,
                    d.number,
                    d.volume_id,
                    d.image_blocks as i64,
                    d.files as i64,
                    d.data_bytes as i64
                ])?;
            }
            let mut file = tx.prepare(
                "INSERT INTO set_files (set_id, path, part, disc, disc_path, offset, size, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let snapshot = set.snapshot();
            let mut path = Vec::new();
            let mut disc_path = Vec::new();
            for index in 1..snapshot.len() {
                let entry = snapshot.entry(index);
                if entry.kind() != Kind::File {
                    continue;
                }
                path.clear();
                snapshot.push_path(index, &mut path);
                disc_path.clear();
                disc_path.extend_from_slice(TREE_FOLDER.as_bytes());
                disc_path.push(b'/');
                disc_path.extend_from_slice(&path);
                let sha = hashes.file(index);
                match set.split_of(index) {
                    None => {
                        let disc = set.disc_of(index).unwrap_or(0);
                        file.execute(params![
                            set_id,
                            &path[..],
                            0,
                            disc,
                            &disc_path[..],
                            0,
                            entry.size() as i64,
                            &sha[..]
                        ])?;
                    }
                    Some(split) => {
                        file.execute(params![
                            set_id,
                            &path[..],
                            0,
                            0,
                            &disc_path[..],
                            0,
                            entry.size() as i64,
                            &sha[..]
                        ])?;
                        let dir_len = disc_path.len() - entry.name().len();
                        for p in split.parts.clone() {
                            let part = set.parts()[p as usize];
                            let mut part_path = disc_path[..dir_len].to_vec();
                            part_path
                                .extend_from_slice(&split.part_name(entry.name(), part.number));
                            file.execute(params![
                                set_id,
                                &path[..],
                                part.number,
                                part.disc,
                                &part_path[..],
                                part.offset as i64,
                                part.len as i64,
                                &hashes.part(p)[..]
                            ])?;
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(SetId(set_id))
    }

    /// The SHA-256 of part `part` of the file at `path` (relative to the snapshot), as
    /// recorded with `set`.
    pub fn part_hash(
        &self,
        set: SetId,
        path: &[u8],
        part: u32,
    ) -> Result<Option<[u8; 32]>, CatalogError> {
        let mut query = self.conn.prepare_cached(
            "SELECT sha256 FROM set_files WHERE set_id = ?1 AND path = ?2 AND part = ?3",
        )?;
        let found: Option<Vec<u8>> = query
            .query_row(params![set.0, path, part], |row| row.get(0))
            .optional()?;
        Ok(found.and_then(|bytes| bytes.try_into().ok()))
    }

    /// The recorded set of this plan of `snapshot`, if there is one (the newest).
    pub fn recorded_set(
        &self,
        snapshot: SnapshotId,
        plan_id: &str,
    ) -> Result<Option<SetId>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM disc_sets WHERE snapshot_id = ?1 AND plan_id = ?2 ORDER BY id DESC LIMIT 1",
                params![snapshot.0, plan_id],
                |row| row.get(0),
            )
            .optional()?
            .map(SetId))
    }

    /// How set `set` was planned: enough to plan it again from its snapshot after a restart
    /// (the plan is deterministic, so the same inputs give the same `plan_id`).
    pub fn set_plan(&self, set: SetId) -> Result<Option<RecordedPlan>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT n.id, n.name, n.path, n.taken_at, s.medium, s.capacity_blocks, s.plan_id, s.discs
                 FROM disc_sets s JOIN snapshots n ON n.id = s.snapshot_id WHERE s.id = ?1",
                params![set.0],
                |row| {
                    Ok(RecordedPlan {
                        snapshot: SnapshotId(row.get(0)?),
                        snapshot_name: row.get(1)?,
                        snapshot_path: PathBuf::from(row.get::<_, String>(2)?),
                        snapshot_time: row.get(3)?,
                        medium: row.get(4)?,
                        capacity_blocks: row.get::<_, i64>(5)? as u64,
                        plan_id: row.get(6)?,
                        discs: row.get(7)?,
                    })
                },
            )
            .optional()?)
    }

    fn disc_id(&self, set: SetId, disc: u32) -> Result<i64, CatalogError> {
        self.conn
            .query_row(
                "SELECT id FROM discs WHERE set_id = ?1 AND number = ?2",
                params![set.0, disc],
                |row| row.get(0),
            )
            .optional()?
            .ok_or(CatalogError::NoSuchDisc { set: set.0, disc })
    }

    /// Records that a burn starts: committed before the first WRITE.
    pub fn start_burn(&mut self, burn: &NewBurn<'_>) -> Result<BurnId, CatalogError> {
        let disc = self.disc_id(burn.set, burn.disc)?;
        self.conn.execute(
            "INSERT INTO burns (disc_id, drive, medium, speed_kbps, started_at, result)
             VALUES (?1, ?2, ?3, ?4, ?5, 'started')",
            params![
                disc,
                burn.drive,
                burn.medium,
                burn.speed_kbps,
                burn.started_at
            ],
        )?;
        Ok(BurnId(self.conn.last_insert_rowid()))
    }

    /// Records how a burn ended.
    pub fn finish_burn(
        &mut self,
        burn: BurnId,
        result: BurnResult,
        ended_at: i64,
        detail: Option<&str>,
        image_sha256: Option<[u8; 32]>,
    ) -> Result<(), CatalogError> {
        self.conn.execute(
            "UPDATE burns SET result = ?2, ended_at = ?3, detail = ?4, image_sha256 = ?5 WHERE id = ?1",
            params![
                burn.0,
                result.as_str(),
                ended_at,
                detail,
                image_sha256.as_ref().map(|s| &s[..])
            ],
        )?;
        Ok(())
    }

    /// Marks every burn still "started" as interrupted: call once when the box starts,
    /// before any burn, since nothing can be burning then. Returns how many there were.
    pub fn mark_interrupted_burns(&mut self, now: i64) -> Result<usize, CatalogError> {
        Ok(self.conn.execute(
            "UPDATE burns SET result = 'interrupted', ended_at = ?1,
             detail = 'the station stopped (power cut or crash) while this disc was being written'
             WHERE result = 'started'",
            params![now],
        )?)
    }

    /// Records a read-back of disc `disc` of `set` (after `burn`, or on its own).
    pub fn record_verification(
        &mut self,
        set: SetId,
        disc: u32,
        burn: Option<BurnId>,
        at: i64,
        verification: &Verification,
    ) -> Result<(), CatalogError> {
        let disc_id = self.disc_id(set, disc)?;
        let result = if verification.failed {
            "failed"
        } else if verification.passed {
            "passed"
        } else {
            "damaged"
        };
        self.conn.execute(
            "INSERT INTO verifications (disc_id, burn_id, at, result, blocks, unreadable_blocks, damaged_files, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                disc_id,
                burn.map(|b| b.0),
                at,
                result,
                verification.blocks as i64,
                verification.unreadable_blocks as i64,
                verification.damaged_files as i64,
                verification.summary
            ],
        )?;
        Ok(())
    }

    /// Frees what SQLite caches for this connection (its page cache), after a large write
    /// such as recording a set: the daemon burns next, within a small memory budget.
    pub fn release_memory(&self) -> Result<(), CatalogError> {
        self.conn.execute_batch("PRAGMA shrink_memory;")?;
        Ok(())
    }

    /// Records the daemon's job state (its JSON): committed before the daemon acts on it.
    pub fn save_job(&mut self, job: &str, now: i64) -> Result<(), CatalogError> {
        self.conn.execute(
            "INSERT INTO daemon_job (id, job, updated_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET job = excluded.job, updated_at = excluded.updated_at",
            params![job, now],
        )?;
        Ok(())
    }

    /// The daemon's last recorded job state, if it ever recorded one.
    pub fn saved_job(&self) -> Result<Option<String>, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT job FROM daemon_job WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// The connection, for the queries in `queries.rs` and for migrations' users.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

//! What the catalogue answers: where a path is, the history of a set, and the sets not yet
//! completely burnt and verified.

use rusqlite::params;

use super::{Catalog, CatalogError, SetId};

/// Where a file (or a part of one) is, in one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub set: SetId,
    pub label: String,
    pub snapshot: String,
    pub snapshot_time: i64,
    /// The path in the snapshot.
    pub path: Vec<u8>,
    /// 0 for a whole file; 1, 2, ... for the parts of a split one.
    pub part: u32,
    pub disc: u32,
    pub volume_id: String,
    /// The path on the disc.
    pub disc_path: Vec<u8>,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// A set and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSummary {
    pub set: SetId,
    pub label: String,
    pub plan_id: String,
    pub snapshot: String,
    pub snapshot_time: i64,
    pub medium: String,
    pub discs: u32,
    /// Discs with a finished burn.
    pub burnt: u32,
    /// Discs whose latest verification passed after a finished burn.
    pub verified: u32,
    pub created_at: i64,
}

impl SetSummary {
    /// Every disc burnt and verified.
    pub fn complete(&self) -> bool {
        self.verified == self.discs
    }
}

/// One burn of a disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnRecord {
    pub drive: String,
    pub medium: String,
    pub speed_kbps: Option<u32>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub result: String,
    pub detail: Option<String>,
}

/// One read-back of a disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub at: i64,
    pub result: String,
    pub blocks: u64,
    pub unreadable_blocks: u64,
    pub damaged_files: u64,
    pub summary: String,
}

/// Everything that happened to one disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscHistory {
    pub number: u32,
    pub volume_id: String,
    pub image_blocks: u64,
    pub burns: Vec<BurnRecord>,
    pub verifications: Vec<VerificationRecord>,
}

/// A set and the history of each of its discs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetHistory {
    pub summary: SetSummary,
    pub discs: Vec<DiscHistory>,
}

const SUMMARY: &str = "
SELECT s.id, s.label, s.plan_id, n.name, n.taken_at, s.medium, s.discs, s.created_at,
    (SELECT COUNT(*) FROM discs d WHERE d.set_id = s.id
        AND EXISTS (SELECT 1 FROM burns b WHERE b.disc_id = d.id AND b.result = 'done')),
    (SELECT COUNT(*) FROM discs d WHERE d.set_id = s.id
        AND (SELECT v.result FROM verifications v
             WHERE v.disc_id = d.id
               AND v.at >= (SELECT MIN(b.started_at) FROM burns b
                            WHERE b.disc_id = d.id AND b.result = 'done')
             ORDER BY v.at DESC, v.id DESC LIMIT 1) = 'passed')
FROM disc_sets s JOIN snapshots n ON n.id = s.snapshot_id";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<SetSummary> {
    Ok(SetSummary {
        set: SetId(row.get(0)?),
        label: row.get(1)?,
        plan_id: row.get(2)?,
        snapshot: row.get(3)?,
        snapshot_time: row.get(4)?,
        medium: row.get(5)?,
        discs: row.get(6)?,
        created_at: row.get(7)?,
        burnt: row.get(8)?,
        verified: row.get(9)?,
    })
}

fn sha(bytes: Vec<u8>) -> [u8; 32] {
    bytes.try_into().unwrap_or([0; 32])
}

impl Catalog {
    /// Where `path` (relative to a snapshot's root, or `backup/...` as on a disc) is, in
    /// every set of every snapshot: the file itself, or every file under it when it is a
    /// directory. Newest set first.
    pub fn find(&self, path: &[u8]) -> Result<Vec<Location>, CatalogError> {
        let path = path.strip_prefix(b"backup/").unwrap_or(path);
        let path = path.strip_suffix(b"/").unwrap_or(path);
        // Everything under a directory: paths between "dir/" and "dir0" ('0' follows '/').
        let mut low = path.to_vec();
        low.push(b'/');
        let mut high = path.to_vec();
        high.push(b'0');
        let mut query = self.connection().prepare(
            "SELECT f.set_id, s.label, n.name, n.taken_at, f.path, f.part, f.disc,
                    COALESCE(d.volume_id, ''), f.disc_path, f.size, f.sha256
             FROM set_files f
             JOIN disc_sets s ON s.id = f.set_id
             JOIN snapshots n ON n.id = s.snapshot_id
             LEFT JOIN discs d ON d.set_id = f.set_id AND d.number = f.disc
             WHERE f.path = ?1 OR (f.path >= ?2 AND f.path < ?3)
             ORDER BY n.taken_at DESC, f.set_id DESC, f.path, f.part",
        )?;
        let rows = query.query_map(params![path, low, high], |row| {
            Ok(Location {
                set: SetId(row.get(0)?),
                label: row.get(1)?,
                snapshot: row.get(2)?,
                snapshot_time: row.get(3)?,
                path: row.get(4)?,
                part: row.get(5)?,
                disc: row.get(6)?,
                volume_id: row.get(7)?,
                disc_path: row.get(8)?,
                size: row.get::<_, i64>(9)? as u64,
                sha256: sha(row.get(10)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every set, newest first.
    pub fn sets(&self) -> Result<Vec<SetSummary>, CatalogError> {
        let mut query = self
            .connection()
            .prepare(&format!("{SUMMARY} ORDER BY s.created_at DESC, s.id DESC"))?;
        let rows = query.query_map([], summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The sets with a disc not yet burnt and verified, oldest first (what is left to do).
    pub fn incomplete_sets(&self) -> Result<Vec<SetSummary>, CatalogError> {
        let mut sets = self.sets()?;
        sets.retain(|s| !s.complete());
        sets.reverse();
        Ok(sets)
    }

    /// Everything that happened to the discs of `set`.
    pub fn set_history(&self, set: SetId) -> Result<SetHistory, CatalogError> {
        let conn = self.connection();
        let summary = conn
            .query_row(
                &format!("{SUMMARY} WHERE s.id = ?1"),
                params![set.0],
                summary,
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => CatalogError::NoSuchSet(set.0),
                other => other.into(),
            })?;
        let mut discs_query = conn.prepare(
            "SELECT id, number, volume_id, image_blocks FROM discs WHERE set_id = ?1 ORDER BY number",
        )?;
        let mut burns_query = conn.prepare(
            "SELECT drive, medium, speed_kbps, started_at, ended_at, result, detail
             FROM burns WHERE disc_id = ?1 ORDER BY started_at, id",
        )?;
        let mut verifications_query = conn.prepare(
            "SELECT at, result, blocks, unreadable_blocks, damaged_files, summary
             FROM verifications WHERE disc_id = ?1 ORDER BY at, id",
        )?;
        let discs: Vec<(i64, u32, String, i64)> = discs_query
            .query_map(params![set.0], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (id, number, volume_id, image_blocks) in discs {
            let burns = burns_query
                .query_map(params![id], |row| {
                    Ok(BurnRecord {
                        drive: row.get(0)?,
                        medium: row.get(1)?,
                        speed_kbps: row.get(2)?,
                        started_at: row.get(3)?,
                        ended_at: row.get(4)?,
                        result: row.get(5)?,
                        detail: row.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let verifications = verifications_query
                .query_map(params![id], |row| {
                    Ok(VerificationRecord {
                        at: row.get(0)?,
                        result: row.get(1)?,
                        blocks: row.get::<_, i64>(2)? as u64,
                        unreadable_blocks: row.get::<_, i64>(3)? as u64,
                        damaged_files: row.get::<_, i64>(4)? as u64,
                        summary: row.get(5)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            out.push(DiscHistory {
                number,
                volume_id,
                image_blocks: image_blocks as u64,
                burns,
                verifications,
            });
        }
        Ok(SetHistory {
            summary,
            discs: out,
        })
    }
}

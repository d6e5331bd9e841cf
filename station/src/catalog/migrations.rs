//! The catalogue's schema, as an ordered list of migrations. The database records the last
//! one applied in `PRAGMA user_version`; opening applies the rest, each in a transaction of
//! its own together with the new version number, so a crash leaves the schema at one
//! version or the next, never between.
//!
//! To add tables (the daemon's job state, for instance), append a migration with the next
//! version: never edit one that has shipped, since databases in the field already ran it.

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, 3...: `user_version` after it ran.
    pub version: u32,
    /// What it adds, for logs.
    pub description: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "snapshots, their file hashes, disc sets, discs, files and parts, burns, verifications",
        sql: r#"
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    taken_at    INTEGER NOT NULL,           -- Unix seconds
    files       INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    UNIQUE (path, taken_at)
);

-- The hashing pass: every regular file of a snapshot, hashed once per snapshot.
CREATE TABLE file_hashes (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    path        BLOB    NOT NULL,           -- relative to the snapshot's root
    size        INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    sha256      BLOB    NOT NULL,
    PRIMARY KEY (snapshot_id, path)
) WITHOUT ROWID;
CREATE INDEX file_hashes_by_path ON file_hashes (path);

-- One physical set of discs (a second copy of the same plan is another set).
CREATE TABLE disc_sets (
    id              INTEGER PRIMARY KEY,
    snapshot_id     INTEGER NOT NULL REFERENCES snapshots (id),
    label           TEXT    NOT NULL,
    plan_id         TEXT    NOT NULL,
    medium          TEXT    NOT NULL,
    capacity_blocks INTEGER NOT NULL,
    discs           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE discs (
    id           INTEGER PRIMARY KEY,
    set_id       INTEGER NOT NULL REFERENCES disc_sets (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    volume_id    TEXT    NOT NULL,
    image_blocks INTEGER NOT NULL,
    files        INTEGER NOT NULL,
    data_bytes   INTEGER NOT NULL,
    UNIQUE (set_id, number)
);

-- Every file of a set and where it is: part 0 is a whole file (disc 0 when it is split,
-- its parts 1, 2, ... follow with their discs).
CREATE TABLE set_files (
    set_id    INTEGER NOT NULL REFERENCES disc_sets (id) ON DELETE CASCADE,
    path      BLOB    NOT NULL,             -- relative to the snapshot's root
    part      INTEGER NOT NULL,
    disc      INTEGER NOT NULL,
    disc_path BLOB    NOT NULL,             -- on the disc: backup/...
    offset    INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    sha256    BLOB    NOT NULL,
    PRIMARY KEY (set_id, path, part)
) WITHOUT ROWID;
CREATE INDEX set_files_by_path ON set_files (path);

CREATE TABLE burns (
    id           INTEGER PRIMARY KEY,
    disc_id      INTEGER NOT NULL REFERENCES discs (id) ON DELETE CASCADE,
    drive        TEXT    NOT NULL,
    medium       TEXT    NOT NULL,
    speed_kbps   INTEGER,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    -- 'started' until it ends; one left 'started' by a crash becomes 'interrupted'.
    result       TEXT    NOT NULL CHECK (result IN ('started', 'done', 'failed', 'interrupted', 'cancelled')),
    detail       TEXT,
    image_sha256 BLOB
);
CREATE INDEX burns_by_disc ON burns (disc_id);

CREATE TABLE verifications (
    id                INTEGER PRIMARY KEY,
    disc_id           INTEGER NOT NULL REFERENCES discs (id) ON DELETE CASCADE,
    burn_id           INTEGER REFERENCES burns (id) ON DELETE SET NULL,
    at                INTEGER NOT NULL,
    result            TEXT    NOT NULL CHECK (result IN ('passed', 'damaged', 'failed')),
    blocks            INTEGER NOT NULL,
    unreadable_blocks INTEGER NOT NULL,
    damaged_files     INTEGER NOT NULL,
    summary           TEXT    NOT NULL     -- the sector map, in words
);
CREATE INDEX verifications_by_disc ON verifications (disc_id);
"#,
    },
    Migration {
        version: 2,
        description: "the daemon's job state, written before each step it takes",
        sql: r#"
-- One row: where the daemon's job is (its `daemon::jobs::Job` as JSON), so that a restart
-- after a power cut resumes from the last state committed before acting.
CREATE TABLE daemon_job (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    job        TEXT    NOT NULL,
    updated_at INTEGER NOT NULL            -- Unix seconds
);
"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.description);
        }
    }
}

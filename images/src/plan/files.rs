//! The files every disc of a set carries next to the data: `CATALOG.txt` (the whole set),
//! `README.txt` (plain words) and `SET.json` (for programs). `SHA256SUMS` is the image
//! layer's own manifest of the disc.
//!
//! `CATALOG.txt` has one line per file and per part, in the snapshot's order:
//!
//! ```text
//!     1              1234  <64 hex digits>  backup/www/index.html
//!     -        9876543210  <64 hex digits>  backup/db/dump.sql
//!     1        4294965248  <64 hex digits>  backup/db/dump.sql.part001
//!     2        5581578962  <64 hex digits>  backup/db/dump.sql.part002
//! ```
//!
//! The columns are the disc (5 wide, `-` for a split file's own line), the size (15 wide),
//! the SHA-256 and the path on the disc, with `\\`, `\n` and `\r` for a backslash, newline
//! or carriage return in it. A split file's parts follow its own line until their sizes
//! add up to the file's. Fixed widths keep the file's size independent of the parts'
//! sizes, and keep it readable with `less` and searchable with `grep`. Lines starting with
//! `#` are comments. The catalogue of a million files is over 100 MB, so it is produced as a
//! stream, never held.

use std::io::{self, Read};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::hash::SetHashes;
use super::snapshot::{Kind, Snapshot};
use super::walk::PathWalker;
use super::{
    CATALOG_NAME, DiscSet, MAX_DISCS, PlanOptions, README_NAME, SET_NAME, TREE_FOLDER, volume,
};
use crate::iso9660::manifest::push_line;
use crate::iso9660::records::civil_from_days;

/// The identifier of the format of `SET.json` and `CATALOG.txt`.
pub const SET_FORMAT: &str = "burnstation-disc-set/1";
/// Width of the catalogue's disc column.
const DISC_WIDTH: usize = 5;
/// Width of the catalogue's size column (up to a petabyte).
const SIZE_WIDTH: usize = 15;
/// How much catalogue is produced at a time.
const CHUNK: usize = 64 * 1024;

/// The generated files of a disc: only their sizes while packing, their contents after.
#[derive(Debug, Clone)]
pub(crate) enum Generated {
    Reserved {
        catalog: u64,
        readme: u64,
        set_json: u64,
    },
    Real {
        catalog: u64,
        readme: Vec<u8>,
        set_json: Vec<u8>,
    },
}

impl Generated {
    pub(crate) fn real(set: &DiscSet, disc: u32) -> Generated {
        Generated::Real {
            catalog: catalog_size(set),
            readme: readme(set, disc).into_bytes(),
            set_json: set_json(set, disc).into_bytes(),
        }
    }

    /// Sizes of `CATALOG.txt`, `README.txt` and `SET.json`.
    pub(crate) fn sizes(&self) -> (u64, u64, u64) {
        match self {
            Generated::Reserved {
                catalog,
                readme,
                set_json,
            } => (*catalog, *readme, *set_json),
            Generated::Real {
                catalog,
                readme,
                set_json,
            } => (*catalog, readme.len() as u64, set_json.len() as u64),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_text(time: i64) -> String {
    let (year, month, day) = civil_from_days(time.div_euclid(86_400));
    let secs = time.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

// ---------------------------------------------------------------------------------------
// CATALOG.txt

fn escaped_len(path: &[u8]) -> u64 {
    path.len() as u64
        + path
            .iter()
            .filter(|&&b| matches!(b, b'\\' | b'\n' | b'\r'))
            .count() as u64
}

fn digits(value: u64) -> u64 {
    value.to_string().len() as u64
}

/// Bytes of one catalogue line.
fn line_len(size: u64, path: &[u8]) -> u64 {
    DISC_WIDTH as u64 + 2 + digits(size).max(SIZE_WIDTH as u64) + 2 + 64 + 2 + escaped_len(path) + 1
}

/// Appends one catalogue line.
pub fn push_catalog_line(
    out: &mut Vec<u8>,
    disc: Option<u32>,
    size: u64,
    sha256: &[u8; 32],
    path: &[u8],
) {
    let disc = disc.map_or_else(|| "-".to_string(), |d| d.to_string());
    out.extend_from_slice(format!("{disc:>DISC_WIDTH$}  {size:>SIZE_WIDTH$}  ").as_bytes());
    // The manifest's encoder gives the hash; the path is escaped here unconditionally.
    let mut hex = Vec::with_capacity(70);
    push_line(&mut hex, b"", sha256);
    out.extend_from_slice(&hex[..64]);
    out.extend_from_slice(b"  ");
    for &byte in path {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
    out.push(b'\n');
}

fn catalog_header(
    label: &str,
    options: &PlanOptions,
    discs: u32,
    files: u64,
    bytes: u64,
    plan_id: &str,
) -> String {
    format!(
        "# {CATALOG_NAME}: every file of disc set {label} and the disc it is on.\n\
         # Snapshot {:?} of {}: {files} files, {bytes} bytes, on {discs} discs of {} (plan {plan_id}).\n\
         # Every disc of the set carries this same file; README.txt says how to restore.\n\
         #\n\
         # Columns: disc, size in bytes, SHA-256, path on the disc. A file too large for one\n\
         # disc has disc \"-\" (its whole size and SHA-256) and is followed by its parts (their\n\
         # sizes add up to the file's), which cat joins back in order:\n\
         #     cat NAME.part001 NAME.part002 ... > NAME\n\
         # In paths, \\\\ \\n and \\r stand for a backslash, a newline and a carriage return.\n",
        options.snapshot_name,
        utc_text(options.snapshot_time),
        options.medium,
    )
}

/// The header of `set`'s catalogue.
fn set_catalog_header(set: &DiscSet) -> String {
    let snapshot = set.snapshot();
    catalog_header(
        set.label(),
        set.options(),
        set.discs().len() as u32,
        snapshot.files(),
        snapshot.bytes(),
        set.plan_id(),
    )
}

/// Sum over the snapshot's files of their catalogue lines (parts excluded), with their
/// paths under `backup/`; and the longest of those paths.
fn file_lines(snapshot: &Snapshot) -> (u64, u64) {
    let mut walker = PathWalker::new(TREE_FOLDER.as_bytes());
    let mut total = 0;
    let mut longest = 0;
    for index in 1..snapshot.len() {
        let path_len = escaped_len(walker.path(snapshot, index));
        let entry = snapshot.entry(index);
        if entry.kind() == Kind::File {
            total += line_len(entry.size(), &[]) + path_len;
            longest = longest.max(path_len);
        }
    }
    (total, longest)
}

/// At least the catalogue's size with `parts` parts, before packing.
pub(crate) fn catalog_bound(snapshot: &Snapshot, options: &PlanOptions, parts: u64) -> u64 {
    let header = catalog_header(
        "X".repeat(16).as_str(),
        options,
        MAX_DISCS,
        u64::MAX,
        u64::MAX,
        "0123456789abcdef",
    )
    .len() as u64;
    // A part line: as long as the longest file's line, plus a part suffix.
    let (lines, longest) = file_lines(snapshot);
    let part_line = line_len(u64::MAX, &[]) + longest + 16;
    header + lines + parts * part_line
}

/// The catalogue's exact size.
pub(crate) fn catalog_size(set: &DiscSet) -> u64 {
    let snapshot = set.snapshot();
    let header = set_catalog_header(set).len() as u64;
    let parts: u64 = set
        .parts()
        .iter()
        .map(|part| {
            let split = set.split_of(part.entry).expect("a part has its split");
            let name = split.part_name(snapshot.entry(part.entry).name(), part.number);
            let whole_path = set_path(snapshot, part.entry);
            // The part's path is its file's with the file name replaced.
            let path = escaped_len(&whole_path) - escaped_len(snapshot.entry(part.entry).name())
                + escaped_len(&name);
            line_len(part.len, &[]) + path
        })
        .sum();
    header + file_lines(snapshot).0 + parts
}

fn set_path(snapshot: &Snapshot, entry: u32) -> Vec<u8> {
    let mut path = TREE_FOLDER.as_bytes().to_vec();
    path.push(b'/');
    snapshot.push_path(entry, &mut path);
    path
}

/// `CATALOG.txt` as a stream, written from the plan and the hashing pass.
#[derive(Debug)]
pub struct CatalogReader {
    set: Arc<DiscSet>,
    hashes: Arc<SetHashes>,
    header: bool,
    next: u32,
    walker: PathWalker,
    buffer: Vec<u8>,
    at: usize,
}

impl CatalogReader {
    /// The catalogue of `set`, with the SHA-256s of `hashes`.
    pub fn new(set: Arc<DiscSet>, hashes: Arc<SetHashes>) -> CatalogReader {
        CatalogReader {
            set,
            hashes,
            header: false,
            next: 1,
            walker: PathWalker::new(TREE_FOLDER.as_bytes()),
            buffer: Vec::with_capacity(CHUNK + 8192),
            at: 0,
        }
    }

    fn refill(&mut self) {
        self.buffer.clear();
        self.at = 0;
        let set = &self.set;
        let snapshot = set.snapshot();
        if !self.header {
            self.header = true;
            self.buffer
                .extend_from_slice(set_catalog_header(set).as_bytes());
        }
        while self.buffer.len() < CHUNK && self.next < snapshot.len() {
            let index = self.next;
            self.next += 1;
            let path = self.walker.path(snapshot, index);
            let entry = snapshot.entry(index);
            if entry.kind() != Kind::File {
                continue;
            }
            let whole_sha = self.hashes.file(index);
            match set.split_of(index) {
                None => push_catalog_line(
                    &mut self.buffer,
                    set.disc_of(index),
                    entry.size(),
                    &whole_sha,
                    path,
                ),
                Some(split) => {
                    push_catalog_line(&mut self.buffer, None, entry.size(), &whole_sha, path);
                    let dir_len = path.len() - entry.name().len();
                    let mut part_path = path[..dir_len].to_vec();
                    for p in split.parts.clone() {
                        let part = &set.parts()[p as usize];
                        part_path.truncate(dir_len);
                        part_path.extend_from_slice(&split.part_name(entry.name(), part.number));
                        push_catalog_line(
                            &mut self.buffer,
                            Some(part.disc),
                            part.len,
                            &self.hashes.part(p),
                            &part_path,
                        );
                    }
                }
            }
        }
    }
}

impl Read for CatalogReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.buffer.len() {
            self.refill();
        }
        let n = (self.buffer.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------
// SET.json

/// What `SET.json` says: the set, the snapshot, and which disc this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetInfo {
    /// [`SET_FORMAT`].
    pub format: String,
    /// The set's label (`OSK261126`).
    pub set: String,
    /// The plan's identifier: equal on every disc of one set.
    pub plan: String,
    /// The start of the volume IDs (`OSK`).
    pub label_prefix: String,
    pub snapshot: String,
    /// Unix seconds.
    pub snapshot_time: i64,
    pub snapshot_utc: String,
    pub medium: String,
    pub capacity_blocks: u64,
    /// How many discs the set has.
    pub discs: u32,
    /// Which one this is (1-based).
    pub disc: u32,
    pub volume_id: String,
    /// The folder holding the backup tree.
    pub tree: String,
    pub catalog: String,
    pub manifest: String,
    /// Files (and their bytes) of the whole set.
    pub files: u64,
    pub bytes: u64,
    /// Files and parts (and their bytes) on this disc.
    pub disc_files: u64,
    pub disc_bytes: u64,
}

impl SetInfo {
    /// The volume ID of disc `disc` of this set.
    pub fn volume_id_of(&self, disc: u32) -> String {
        volume::volume_id(&self.label_prefix, self.snapshot_time, disc, self.discs)
    }
}

fn set_info(set: &DiscSet, disc: u32) -> SetInfo {
    let options = set.options();
    let planned = set.disc(disc).expect("a disc of the set");
    SetInfo {
        format: SET_FORMAT.to_string(),
        set: set.label().to_string(),
        plan: set.plan_id().to_string(),
        label_prefix: options.label_prefix.clone(),
        snapshot: options.snapshot_name.clone(),
        snapshot_time: options.snapshot_time,
        snapshot_utc: utc_text(options.snapshot_time),
        medium: options.medium.clone(),
        capacity_blocks: options.capacity_blocks,
        discs: set.discs().len() as u32,
        disc,
        volume_id: planned.volume_id.clone(),
        tree: TREE_FOLDER.to_string(),
        catalog: CATALOG_NAME.to_string(),
        manifest: crate::iso9660::MANIFEST_NAME.to_string(),
        files: set.snapshot().files(),
        bytes: set.snapshot().bytes(),
        disc_files: planned.files,
        disc_bytes: planned.data_bytes,
    }
}

fn render_json(info: &SetInfo) -> String {
    let mut text = serde_json::to_string_pretty(info).expect("SET.json always serializes");
    text.push('\n');
    text
}

/// `SET.json` of disc `disc`.
pub(crate) fn set_json(set: &DiscSet, disc: u32) -> String {
    render_json(&set_info(set, disc))
}

/// At least the size of any disc's `SET.json`.
pub(crate) fn set_json_bound(options: &PlanOptions) -> u64 {
    let info = SetInfo {
        format: SET_FORMAT.to_string(),
        set: "X".repeat(64),
        plan: "0".repeat(16),
        label_prefix: options.label_prefix.clone(),
        snapshot: options.snapshot_name.clone(),
        snapshot_time: i64::MIN,
        snapshot_utc: utc_text(options.snapshot_time),
        medium: options.medium.clone(),
        capacity_blocks: u64::MAX,
        discs: u32::MAX,
        disc: u32::MAX,
        volume_id: "X".repeat(16),
        tree: TREE_FOLDER.to_string(),
        catalog: CATALOG_NAME.to_string(),
        manifest: crate::iso9660::MANIFEST_NAME.to_string(),
        files: u64::MAX,
        bytes: u64::MAX,
        disc_files: u64::MAX,
        disc_bytes: u64::MAX,
    };
    render_json(&info).len() as u64 + 256
}

// ---------------------------------------------------------------------------------------
// README.txt

struct ReadmeFacts<'a> {
    label: &'a str,
    disc: u32,
    discs: u32,
    volume_id: &'a str,
    options: &'a PlanOptions,
    plan_id: &'a str,
}

fn render_readme(f: &ReadmeFacts<'_>) -> String {
    let ReadmeFacts {
        label,
        disc,
        discs,
        volume_id,
        options,
        plan_id,
    } = f;
    let snapshot = &options.snapshot_name;
    let when = utc_text(options.snapshot_time);
    let medium = &options.medium;
    format!(
        "OpenSkills backup: disc {disc} of {discs} of disc set {label}
=====================================================================

This disc (volume label {volume_id}) is disc {disc} of a set of {discs} discs
that together hold one copy of the OpenSkills backup tree: snapshot {snapshot:?}
taken {when}. The set was written by a burn station onto {medium} discs
(plan {plan_id}). Keep the discs of a set together.

What is on this disc
--------------------
  backup/       the part of the backup tree that is on this disc, exactly as it was on
                the backup server (names, modes, owners, times, symlinks).
  SHA256SUMS    the SHA-256 of every file on this disc.
  CATALOG.txt   every file of the WHOLE set: the disc it is on, its size, its SHA-256.
                Use it to find which disc holds a file: grep 'name' CATALOG.txt
  SET.json      the same facts for programs.
  README.txt    this file.

Every disc carries the folders above the files it holds, so each disc is useful on
its own. A file too large for one disc is split into parts next to where the file
would be: NAME.part001, NAME.part002, ... (on consecutive discs). CATALOG.txt lists
the whole file with disc \"-\", followed by its parts.

How to restore with ordinary tools (Linux)
------------------------------------------
1. Check the disc, from its top folder:
       mount -o ro /dev/sr0 /mnt/disc       (or: mount -o loop,ro disc.iso /mnt/disc)
       cd /mnt/disc && sha256sum -c --quiet SHA256SUMS
   It prints nothing when every file is intact, and FAILED for a damaged one.
2. Copy the tree off, keeping modes, owners, times and links:
       cp -a /mnt/disc/backup/. /srv/restore/
3. Repeat steps 1 and 2 with every disc of the set (in any order).
4. Join every split file, in the order of its parts, then remove the parts:
       cd /srv/restore/PATH/TO
       cat NAME.part001 NAME.part002 NAME.part003 > NAME && rm NAME.part[0-9]*
   and check the joined file against the line with disc \"-\" in CATALOG.txt:
       sha256sum NAME
5. To restore one service only, copy only its folder (backup/SERVICE) from every
   disc that holds part of it (grep CATALOG.txt for the folder's name).

Without mounting: xorriso -osirrox on -indev /dev/sr0 -extract /backup /srv/restore
or: bsdtar -xpf /dev/sr0 -C /srv/restore. On Windows the files can be copied off as
well (names are cut to 64 characters and Unix modes are lost): prefer Linux.

With the burn station's software, one command restores the whole set (or one path),
joins the parts and checks every SHA-256:
       burnstation restore --from /dev/sr0 --to /srv/restore
"
    )
}

/// `README.txt` of disc `disc`.
pub(crate) fn readme(set: &DiscSet, disc: u32) -> String {
    let planned = set.disc(disc).expect("a disc of the set");
    render_readme(&ReadmeFacts {
        label: set.label(),
        disc,
        discs: set.discs().len() as u32,
        volume_id: &planned.volume_id,
        options: set.options(),
        plan_id: set.plan_id(),
    })
}

/// At least the size of any disc's `README.txt`.
pub(crate) fn readme_bound(options: &PlanOptions) -> u64 {
    let label = "X".repeat(64);
    render_readme(&ReadmeFacts {
        label: &label,
        disc: MAX_DISCS,
        discs: MAX_DISCS,
        volume_id: "XXXXXXXXXXXXXXXX",
        options,
        plan_id: "0123456789abcdef",
    })
    .len() as u64
        + 256
}

/// The names of the generated files, for a caller that lists a disc's own files.
pub const GENERATED_NAMES: [&str; 3] = [CATALOG_NAME, README_NAME, SET_NAME];

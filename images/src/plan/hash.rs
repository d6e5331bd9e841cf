//! The hashing pass: the SHA-256 of every file of a snapshot and of every part of a split
//! file, which `CATALOG.txt` lists on every disc and so must be known before disc 1 is
//! imaged.
//!
//! The caller says which hashes it knows already (the station keeps them in its catalogue,
//! so an unchanged file is hashed once per snapshot, not once per burn); only the others
//! are read. A split file is read once for its own hash and all its parts'.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::DiscSet;
use super::snapshot::Kind;

/// Every SHA-256 a set's catalogue needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetHashes {
    /// Indexed by snapshot entry (zeros for what is not a file).
    files: Vec<[u8; 32]>,
    /// Indexed like [`DiscSet::parts`].
    parts: Vec<[u8; 32]>,
}

impl SetHashes {
    /// The SHA-256 of file `entry`.
    pub fn file(&self, entry: u32) -> [u8; 32] {
        self.files[entry as usize]
    }

    /// The SHA-256 of part `part` (an index into [`DiscSet::parts`]).
    pub fn part(&self, part: u32) -> [u8; 32] {
        self.parts[part as usize]
    }
}

/// What the pass reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashEvent {
    /// File `entry` (with its parts, if split) was read and hashed.
    Hashed {
        entry: u32,
        sha256: [u8; 32],
        bytes: u64,
    },
    /// Part `part` of a split file was hashed.
    PartHashed { part: u32, sha256: [u8; 32] },
}

/// Why the pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot read {path} to hash it ({cause}); check the snapshot's disk and plan again")]
    Read { path: PathBuf, cause: io::Error },
    #[error(
        "{path} changed size since the snapshot was planned ({planned} bytes planned, {found} found); a snapshot must not change: plan it again"
    )]
    SizeChanged {
        path: PathBuf,
        planned: u64,
        found: u64,
    },
    #[error("hashing was cancelled")]
    Cancelled,
}

/// Hashes what `known_file` and `known_part` do not know. `known_file(entry)` gives a
/// file's hash if known; `known_part(part)` a part's. A split file is read again unless
/// all its parts and its own hash are known. `cancelled` is asked between two reads.
pub fn hash_set(
    set: &DiscSet,
    known_file: &mut dyn FnMut(u32) -> Option<[u8; 32]>,
    known_part: &mut dyn FnMut(u32) -> Option<[u8; 32]>,
    on_event: &mut dyn FnMut(HashEvent),
    cancelled: &dyn Fn() -> bool,
) -> Result<SetHashes, HashError> {
    let snapshot = set.snapshot();
    let mut hashes = SetHashes {
        files: vec![[0; 32]; snapshot.len() as usize],
        parts: vec![[0; 32]; set.parts().len()],
    };
    let mut buf = vec![0u8; 1 << 20];
    for index in 1..snapshot.len() {
        let entry = snapshot.entry(index);
        if entry.kind() != Kind::File {
            continue;
        }
        let split = set.split_of(index);
        let known = known_file(index);
        let parts_known: Option<Vec<[u8; 32]>> = match split {
            None => Some(Vec::new()),
            Some(split) => split.parts.clone().map(&mut *known_part).collect(),
        };
        if let (Some(sha), Some(parts)) = (known, &parts_known) {
            hashes.files[index as usize] = sha;
            if let Some(split) = split {
                for (p, sha) in split.parts.clone().zip(parts) {
                    hashes.parts[p as usize] = *sha;
                }
            }
            continue;
        }
        if cancelled() {
            return Err(HashError::Cancelled);
        }
        let path = snapshot
            .root()
            .join(OsStr::from_bytes(&snapshot.path(index)));
        let read_error = |cause| HashError::Read {
            path: path.clone(),
            cause,
        };
        let mut file = File::open(&path).map_err(read_error)?;
        // Part boundaries: (part index, end offset), in order.
        let bounds: Vec<(u32, u64)> = split
            .map(|s| {
                s.parts
                    .clone()
                    .map(|p| {
                        let part = &set.parts()[p as usize];
                        (p, part.offset + part.len)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut whole = Sha256::new();
        let mut part = Sha256::new();
        let mut next_bound = 0;
        let mut at = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            };
            if cancelled() {
                return Err(HashError::Cancelled);
            }
            let mut chunk = &buf[..n];
            whole.update(chunk);
            while !chunk.is_empty() {
                match bounds.get(next_bound) {
                    Some(&(p, end)) => {
                        let take = ((end - at) as usize).min(chunk.len());
                        part.update(&chunk[..take]);
                        at += take as u64;
                        chunk = &chunk[take..];
                        if at == end {
                            let sha: [u8; 32] = std::mem::take(&mut part).finalize().into();
                            hashes.parts[p as usize] = sha;
                            on_event(HashEvent::PartHashed {
                                part: p,
                                sha256: sha,
                            });
                            next_bound += 1;
                        }
                    }
                    None => {
                        at += chunk.len() as u64;
                        chunk = &[];
                    }
                }
            }
        }
        if at != entry.size() || next_bound != bounds.len() {
            return Err(HashError::SizeChanged {
                path,
                planned: entry.size(),
                found: at,
            });
        }
        let sha: [u8; 32] = whole.finalize().into();
        hashes.files[index as usize] = sha;
        on_event(HashEvent::Hashed {
            entry: index,
            sha256: sha,
            bytes: at,
        });
    }
    Ok(hashes)
}

//! The hashing pass of a planned set, with the catalogue as its memory: a file whose
//! SHA-256 the catalogue knows (for this snapshot, or for an earlier one where it had the
//! same size and time) is not read again; what is read is recorded, in batches, so a pass
//! cut short by a power cut resumes where it stopped.

use burnstation_hal::Cancel;
use burnstation_images::plan::hash::HashError;
use burnstation_images::plan::{DiscSet, HashEvent, SetHashes, hash_set};

use crate::catalog::{Catalog, CatalogError, SnapshotId};

/// Files recorded per transaction.
const BATCH: usize = 512;

/// What the pass reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashingEvent {
    /// How many files the set has, and how many of them must be read.
    Started { files: u64, to_read: u64 },
    /// A file was read and hashed.
    Hashed { bytes: u64 },
}

/// Why the pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Every hash `set` needs, reading only the files the catalogue does not know.
pub fn hash_with_catalog(
    set: &DiscSet,
    catalog: &mut Catalog,
    snapshot: SnapshotId,
    on_event: &mut dyn FnMut(HashingEvent),
    cancel: &Cancel,
) -> Result<SetHashes, HashingError> {
    let snap = set.snapshot();
    let lookup = |catalog: &Catalog, entry: u32| {
        let e = snap.entry(entry);
        catalog.known_hash(snapshot, &snap.path(entry), e.size(), e.mtime())
    };
    // A set of this very plan recorded before (a restart between two discs) has every
    // part's hash: split files need not be read again.
    let recorded = catalog.recorded_set(snapshot, set.plan_id())?;
    let mut known_parts = vec![None; set.parts().len()];
    if let Some(recorded) = recorded {
        for (p, part) in set.parts().iter().enumerate() {
            known_parts[p] = catalog.part_hash(recorded, &snap.path(part.entry), part.number)?;
        }
    }
    // Look every file up first: the count of files to read is worth telling a person.
    let mut known = vec![None; snap.len() as usize];
    let mut files = 0u64;
    let mut to_read = 0u64;
    for entry in 1..snap.len() {
        if snap.entry(entry).kind() != burnstation_images::plan::Kind::File {
            continue;
        }
        files += 1;
        known[entry as usize] = lookup(catalog, entry)?;
        let parts_known = set.split_of(entry).is_none_or(|split| {
            split
                .parts
                .clone()
                .all(|p| known_parts[p as usize].is_some())
        });
        if known[entry as usize].is_none() || !parts_known {
            to_read += 1;
        }
    }
    on_event(HashingEvent::Started { files, to_read });
    let mut pending: Vec<(Vec<u8>, u64, i64, [u8; 32])> = Vec::new();
    let mut failed: Option<CatalogError> = None;
    let hashes = hash_set(
        set,
        &mut |entry| known[entry as usize],
        // Parts depend on the plan, not the snapshot: they are kept with the set.
        &mut |part| known_parts[part as usize],
        &mut |event| {
            if let HashEvent::Hashed {
                entry,
                sha256,
                bytes,
            } = event
            {
                on_event(HashingEvent::Hashed { bytes });
                let e = snap.entry(entry);
                pending.push((snap.path(entry), e.size(), e.mtime(), sha256));
                if pending.len() >= BATCH && failed.is_none() {
                    let batch = std::mem::take(&mut pending);
                    if let Err(e) = catalog.store_hashes(
                        snapshot,
                        batch.iter().map(|(p, s, m, h)| (&p[..], *s, *m, *h)),
                    ) {
                        failed = Some(e);
                    }
                }
            }
        },
        &|| cancel.is_cancelled(),
    );
    if let Some(e) = failed {
        return Err(e.into());
    }
    // Whatever was hashed is kept, even when the pass stopped early.
    catalog.store_hashes(
        snapshot,
        pending.iter().map(|(p, s, m, h)| (&p[..], *s, *m, *h)),
    )?;
    Ok(hashes?)
}

//! Reading a disc back, block by block, with a record of how each block read.
//!
//! Verification reads exactly the blocks that were meant to be there (never the padding
//! after the image, never past it: reading there fails on most drives and says nothing
//! about the data; burning-anchors.md C.2) and hands them, in order, to the caller, who
//! compares them with what was meant. Reads go in chunks; a chunk that fails is read again
//! block by block, each block a bounded number of times, so one bad block costs a few reads
//! and is pinned down exactly. The result is a [`SectorMap`], the same classification
//! `xorriso -check_media` gives: good, slow, readable after retries, unreadable.

use std::fmt;
use std::time::{Duration, Instant};

use super::{BLOCK_SIZE, Drive, DriveError};
use crate::cancel::Cancel;
use crate::scsi::{CommandError, SenseClass, Transport, TransportError};

/// How a read-back is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBackOptions {
    /// Blocks per READ (32 = 64 KiB, a BD cluster and two DVD ECC blocks).
    pub chunk_blocks: u32,
    /// Reads of a failing block before it counts as unreadable.
    pub attempts: u32,
    /// A chunk that takes longer than this marks its blocks slow (xorriso's default
    /// `slow_limit` is 1 s).
    pub slow_chunk: Duration,
    /// After this many unreadable blocks, failing chunks are no longer read block by block
    /// (a ruined disc would otherwise take hours).
    pub give_up_after: u64,
}

impl Default for ReadBackOptions {
    fn default() -> ReadBackOptions {
        ReadBackOptions {
            chunk_blocks: 32,
            attempts: 3,
            slow_chunk: Duration::from_secs(1),
            give_up_after: 1024,
        }
    }
}

/// How a block read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectorQuality {
    /// First time, in time.
    Good,
    /// First time, but its chunk took longer than [`ReadBackOptions::slow_chunk`].
    Slow,
    /// Only after one or more failed reads.
    Retried,
    /// Not at all.
    Unreadable,
}

/// A run of blocks of one quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectorRun {
    /// First block.
    pub start: u64,
    /// Number of blocks.
    pub blocks: u64,
    /// How they read.
    pub quality: SectorQuality,
}

/// How every block of a read-back read, as runs in block order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectorMap {
    runs: Vec<SectorRun>,
}

impl SectorMap {
    pub(crate) fn push(&mut self, start: u64, blocks: u64, quality: SectorQuality) {
        if blocks == 0 {
            return;
        }
        if let Some(last) = self.runs.last_mut()
            && last.quality == quality
            && last.start + last.blocks == start
        {
            last.blocks += blocks;
            return;
        }
        self.runs.push(SectorRun {
            start,
            blocks,
            quality,
        });
    }

    /// Records `blocks` blocks from `start` as unreadable without reading them: blocks past
    /// the end of the disc, which a read could only fail on.
    pub fn add_unread(&mut self, start: u64, blocks: u64) {
        self.push(start, blocks, SectorQuality::Unreadable);
    }

    /// The runs, in block order.
    pub fn runs(&self) -> &[SectorRun] {
        &self.runs
    }

    /// Blocks of `quality`.
    pub fn count(&self, quality: SectorQuality) -> u64 {
        self.runs
            .iter()
            .filter(|r| r.quality == quality)
            .map(|r| r.blocks)
            .sum()
    }

    /// The runs of unreadable blocks.
    pub fn unreadable(&self) -> impl Iterator<Item = &SectorRun> {
        self.runs
            .iter()
            .filter(|r| r.quality == SectorQuality::Unreadable)
    }

    /// True when every block was read.
    pub fn all_readable(&self) -> bool {
        self.count(SectorQuality::Unreadable) == 0
    }
}

impl fmt::Display for SectorMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} good, {} slow, {} read after retries, {} unreadable",
            self.count(SectorQuality::Good),
            self.count(SectorQuality::Slow),
            self.count(SectorQuality::Retried),
            self.count(SectorQuality::Unreadable)
        )
    }
}

/// Where a read-back stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadProgress {
    /// Bytes read (or given up on) so far.
    pub read_bytes: u64,
    /// Bytes to read in all.
    pub total_bytes: u64,
    /// Recent read speed.
    pub bytes_per_sec: f64,
    /// Time left at that speed.
    pub eta: Option<Duration>,
    /// Unreadable blocks so far.
    pub unreadable_blocks: u64,
}

/// Why a read-back stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    /// The drive failed in a way that is not about one block (no disc, a fault).
    #[error(transparent)]
    Drive(#[from] DriveError),
    /// The disc went away.
    #[error(
        "{device}: the disc was removed during the read-back (at block {lba}): put it back and verify again"
    )]
    MediumRemoved {
        /// The drive.
        device: String,
        /// Where reading was.
        lba: u64,
    },
    /// The drive stopped answering.
    #[error(
        "{device} stopped answering while reading block {lba}; {recovery}: verify the disc again"
    )]
    DriveHung {
        /// The drive.
        device: String,
        /// Where reading was.
        lba: u64,
        /// What recovery achieved.
        recovery: String,
    },
    /// Cancelled.
    #[error("the read-back was cancelled after {read_blocks} blocks")]
    Cancelled {
        /// Blocks read before stopping.
        read_blocks: u64,
    },
}

/// What one read attempt came to.
enum Attempt {
    Ok,
    /// This block (or chunk) did not read; try again or give up on it.
    Bad,
}

impl<T: Transport> Drive<T> {
    /// Reads `blocks` blocks from `start`, handing each chunk to `sink` in order (an
    /// unreadable block arrives as zeros; the map says which). Progress goes to `events`,
    /// a few times a second; `cancel` is checked between reads.
    pub fn read_back(
        &mut self,
        start: u64,
        blocks: u64,
        options: &ReadBackOptions,
        sink: &mut dyn FnMut(u64, &[u8]),
        events: &mut dyn FnMut(ReadProgress),
        cancel: &Cancel,
    ) -> Result<SectorMap, ReadBackError> {
        let chunk_blocks = options.chunk_blocks.max(1) as u64;
        let mut buf = vec![0u8; chunk_blocks as usize * BLOCK_SIZE];
        let mut map = SectorMap::default();
        let end = start + blocks;
        let mut lba = start;
        let begun = Instant::now();
        let mut last_event = Instant::now() - Duration::from_secs(1);
        while lba < end {
            if cancel.is_cancelled() {
                return Err(ReadBackError::Cancelled {
                    read_blocks: lba - start,
                });
            }
            let n = chunk_blocks.min(end - lba);
            let chunk = &mut buf[..n as usize * BLOCK_SIZE];
            self.read_chunk(lba, chunk, options, &mut map)?;
            sink(lba, chunk);
            lba += n;
            if last_event.elapsed() >= Duration::from_millis(250) || lba == end {
                last_event = Instant::now();
                let read = (lba - start) * BLOCK_SIZE as u64;
                let total = blocks * BLOCK_SIZE as u64;
                let secs = begun.elapsed().as_secs_f64();
                let bytes_per_sec = if secs > 0.0 { read as f64 / secs } else { 0.0 };
                events(ReadProgress {
                    read_bytes: read,
                    total_bytes: total,
                    bytes_per_sec,
                    eta: (bytes_per_sec > 0.0)
                        .then(|| Duration::from_secs_f64((total - read) as f64 / bytes_per_sec)),
                    unreadable_blocks: map.count(SectorQuality::Unreadable),
                });
            }
        }
        Ok(map)
    }

    /// Reads the blocks from `lba` that fill `chunk`, recording how each read in `map`: in
    /// one READ, or (when that fails) block by block, each up to `options.attempts` times,
    /// until `options.give_up_after` blocks of `map` are unreadable. An unreadable block
    /// is left as zeros. Every reader of the disc goes through here (the read-back, and
    /// [`DiscReader`](super::DiscReader) for directories and manifests), so one block that
    /// reads on a retry never fails one and passes the other.
    pub(crate) fn read_chunk(
        &mut self,
        lba: u64,
        chunk: &mut [u8],
        options: &ReadBackOptions,
        map: &mut SectorMap,
    ) -> Result<(), ReadBackError> {
        let n = (chunk.len() / BLOCK_SIZE) as u64;
        let took = Instant::now();
        match self.read_attempt(lba, n as u32, chunk)? {
            Attempt::Ok => {
                let quality = if took.elapsed() > options.slow_chunk {
                    SectorQuality::Slow
                } else {
                    SectorQuality::Good
                };
                map.push(lba, n, quality);
            }
            Attempt::Bad => {
                if map.count(SectorQuality::Unreadable) >= options.give_up_after {
                    chunk.fill(0);
                    map.push(lba, n, SectorQuality::Unreadable);
                } else {
                    self.read_block_by_block(lba, chunk, options, map)?;
                }
            }
        }
        Ok(())
    }

    /// Reads a failed chunk again one block at a time, each up to `attempts` times.
    fn read_block_by_block(
        &mut self,
        first: u64,
        chunk: &mut [u8],
        options: &ReadBackOptions,
        map: &mut SectorMap,
    ) -> Result<(), ReadBackError> {
        for (i, block) in chunk.chunks_mut(BLOCK_SIZE).enumerate() {
            let lba = first + i as u64;
            let mut quality = SectorQuality::Unreadable;
            // The chunk read already failed once: every success here is after a retry.
            for _ in 0..options.attempts.max(1) {
                if let Attempt::Ok = self.read_attempt(lba, 1, block)? {
                    quality = SectorQuality::Retried;
                    break;
                }
            }
            if quality == SectorQuality::Unreadable {
                tracing::info!(device = self.name(), lba, "block unreadable");
                block.fill(0);
            }
            map.push(lba, 1, quality);
        }
        Ok(())
    }

    /// One READ: `Bad` for failures that belong to the blocks (medium errors, blocks that
    /// were never written), an error for those that belong to the drive.
    fn read_attempt(
        &mut self,
        lba: u64,
        count: u32,
        buf: &mut [u8],
    ) -> Result<Attempt, ReadBackError> {
        let lba32 = u32::try_from(lba).map_err(|_| DriveError::BufferSize {
            count,
            len: buf.len(),
        })?;
        let error = match self.read_blocks(lba32, count, buf) {
            Ok(()) => return Ok(Attempt::Ok),
            Err(e) => e,
        };
        if let DriveError::Command { source, .. } = &error {
            if let CommandError::Transport {
                source: TransportError::Timeout { .. },
                ..
            } = source
            {
                let recovery = self.recover_from_hang();
                return Err(ReadBackError::DriveHung {
                    device: self.name().to_string(),
                    lba,
                    recovery,
                });
            }
            match source.class() {
                Some(SenseClass::NoMedium) => {
                    return Err(ReadBackError::MediumRemoved {
                        device: self.name().to_string(),
                        lba,
                    });
                }
                // What drives answer for a block they cannot read or that holds nothing:
                // medium errors, "blank check" (CD), and 5/21/00 or 5/64/00 past the written
                // area (mmc.md 2.4). Each belongs to the block, not to the drive.
                Some(
                    SenseClass::MediumError
                    | SenseClass::BlankCheck
                    | SenseClass::HardwareError
                    | SenseClass::IllegalRequest
                    | SenseClass::RetryNow
                    | SenseClass::Aborted
                    | SenseClass::WaitAndRetry
                    | SenseClass::UnitAttention,
                ) => return Ok(Attempt::Bad),
                _ => {}
            }
        }
        Err(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_and_count() {
        let mut map = SectorMap::default();
        map.push(0, 32, SectorQuality::Good);
        map.push(32, 32, SectorQuality::Good);
        map.push(64, 1, SectorQuality::Retried);
        map.push(65, 1, SectorQuality::Unreadable);
        map.push(66, 1, SectorQuality::Unreadable);
        map.push(67, 29, SectorQuality::Good);
        assert_eq!(map.runs().len(), 4);
        assert_eq!(map.count(SectorQuality::Good), 93);
        assert_eq!(map.count(SectorQuality::Unreadable), 2);
        let bad: Vec<(u64, u64)> = map.unreadable().map(|r| (r.start, r.blocks)).collect();
        assert_eq!(bad, vec![(65, 2)]);
        assert!(!map.all_readable());
        assert_eq!(
            map.to_string(),
            "93 good, 0 slow, 1 read after retries, 2 unreadable"
        );
    }
}

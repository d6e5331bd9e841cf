//! The disc as a file: `Read + Seek` over READ(10), for readers that want a byte stream
//! (the ISO 9660 reader, when verifying a disc against its own manifest or restoring).
//!
//! Reads go to the drive in chunks of whole blocks and the last chunk is kept, because a
//! directory walk reads many small records from the same few blocks. The end of the
//! "file" is the number of blocks the caller says are readable (READ CAPACITY, or the
//! volume size): reading there would only fail on the drive.
//!
//! A chunk that fails is read again exactly as the read-back reads data blocks (block by
//! block, each a few times: [`ReadBackOptions`]), so a directory or a manifest block that
//! reads on a retry does not fail a verification whose data blocks would have passed. Only
//! a block that stays unreadable is an error: a reader of structures cannot go on with
//! zeros in their place.

use std::io::{self, Read, Seek, SeekFrom};

use super::readback::{ReadBackOptions, SectorMap, SectorQuality};
use super::{BLOCK_SIZE, Drive};
use crate::scsi::Transport;

/// Blocks per READ (64 KiB).
const CHUNK_BLOCKS: u64 = 32;

/// A read-only byte view of the first `blocks` blocks of the disc in a drive.
#[derive(Debug)]
pub struct DiscReader<'d, T: Transport> {
    drive: &'d mut Drive<T>,
    blocks: u64,
    position: u64,
    /// How a failing chunk is read again.
    options: ReadBackOptions,
    /// The cached chunk: its first block and its bytes.
    cache: Option<(u64, Vec<u8>)>,
}

impl<'d, T: Transport> DiscReader<'d, T> {
    /// A view of blocks `0..blocks` of the disc in `drive`, retrying as the default
    /// read-back does.
    pub fn new(drive: &'d mut Drive<T>, blocks: u64) -> DiscReader<'d, T> {
        DiscReader::with_options(drive, blocks, &ReadBackOptions::default())
    }

    /// A view of blocks `0..blocks`, retrying failing blocks as `options` say (use the
    /// read-back's own options, so structures and data get the same retries).
    pub fn with_options(
        drive: &'d mut Drive<T>,
        blocks: u64,
        options: &ReadBackOptions,
    ) -> DiscReader<'d, T> {
        DiscReader {
            drive,
            blocks,
            position: 0,
            options: options.clone(),
            cache: None,
        }
    }

    fn len(&self) -> u64 {
        self.blocks * BLOCK_SIZE as u64
    }

    /// The chunk holding `block`, read from the drive unless cached.
    fn chunk(&mut self, block: u64) -> io::Result<(u64, &[u8])> {
        let first = block - block % CHUNK_BLOCKS;
        let cached = matches!(&self.cache, Some((start, _)) if *start == first);
        if !cached {
            let count = CHUNK_BLOCKS.min(self.blocks - first);
            let mut buf = vec![0u8; count as usize * BLOCK_SIZE];
            let last = first + count - 1;
            let mut map = SectorMap::default();
            self.drive
                .read_chunk(first, &mut buf, &self.options, &mut map)
                .map_err(|e| io::Error::other(format!("reading blocks {first}-{last}: {e}")))?;
            if let Some(bad) = map.unreadable().next() {
                return Err(io::Error::other(format!(
                    "block {} of the disc is unreadable ({} reads failed): the disc may be damaged or of poor quality",
                    bad.start,
                    self.options.attempts.max(1) + 1
                )));
            }
            if map.count(SectorQuality::Retried) > 0 {
                tracing::info!(
                    device = self.drive.name(),
                    first,
                    last,
                    "blocks read after retries"
                );
            }
            self.cache = Some((first, buf));
        }
        let (start, bytes) = self.cache.as_ref().expect("filled above");
        Ok((*start, bytes))
    }
}

impl<T: Transport> Read for DiscReader<'_, T> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.position >= self.len() {
            return Ok(0);
        }
        let position = self.position;
        let block = position / BLOCK_SIZE as u64;
        let (start, bytes) = self.chunk(block)?;
        let offset = (position - start * BLOCK_SIZE as u64) as usize;
        let n = out.len().min(bytes.len() - offset);
        out[..n].copy_from_slice(&bytes[offset..offset + n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<T: Transport> Seek for DiscReader<'_, T> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the disc",
            )
        })?;
        self.position = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sim::{ClockMode, SimConfig, SimDrive, UnreadableSector};

    /// A ROM disc of 40 blocks, each filled with its own number, with `unreadable` faults.
    fn rom(dir: &std::path::Path, unreadable: Vec<UnreadableSector>) -> (Drive<SimDrive>, Vec<u8>) {
        let bytes: Vec<u8> = (0..40u8)
            .flat_map(|lba| std::iter::repeat_n(lba, BLOCK_SIZE))
            .collect();
        let path = dir.join("disc.img");
        std::fs::write(&path, &bytes).unwrap();
        let mut config = SimConfig::new(path, crate::mmc::Profile::DvdRom);
        config.clock = ClockMode::Virtual;
        config.faults.unreadable = unreadable;
        let mut drive = Drive::new(SimDrive::open(config).unwrap());
        drive.wait_until_ready(Duration::from_secs(5)).unwrap();
        (drive, bytes)
    }

    #[test]
    fn a_block_that_reads_on_a_retry_reads() {
        let dir = tempfile::tempdir().unwrap();
        let fault = UnreadableSector {
            lba: 5,
            failures: Some(2),
        };
        let (mut drive, bytes) = rom(dir.path(), vec![fault]);
        let mut read = Vec::new();
        DiscReader::new(&mut drive, 40)
            .read_to_end(&mut read)
            .unwrap();
        assert!(read == bytes, "the retried block arrived as it is");
    }

    #[test]
    fn a_block_that_never_reads_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fault = UnreadableSector {
            lba: 37,
            failures: None,
        };
        let (mut drive, _) = rom(dir.path(), vec![fault]);
        let mut reader = DiscReader::new(&mut drive, 40);
        let mut first = vec![0u8; 32 * BLOCK_SIZE];
        reader.read_exact(&mut first).unwrap();
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("block 37"), "{err}");
        assert!(err.to_string().contains("unreadable"), "{err}");
    }
}

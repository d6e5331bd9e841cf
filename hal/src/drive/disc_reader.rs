//! The disc as a file: `Read + Seek` over READ(10), for readers that want a byte stream
//! (the ISO 9660 reader, when verifying a disc against its own manifest or restoring).
//!
//! Reads go to the drive in chunks of whole blocks and the last chunk is kept, because a
//! directory walk reads many small records from the same few blocks. The end of the
//! "file" is the number of blocks the caller says are readable (READ CAPACITY, or the
//! volume size): reading there would only fail on the drive.

use std::io::{self, Read, Seek, SeekFrom};

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
    /// The cached chunk: its first block and its bytes.
    cache: Option<(u64, Vec<u8>)>,
}

impl<'d, T: Transport> DiscReader<'d, T> {
    /// A view of blocks `0..blocks` of the disc in `drive`.
    pub fn new(drive: &'d mut Drive<T>, blocks: u64) -> DiscReader<'d, T> {
        DiscReader {
            drive,
            blocks,
            position: 0,
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
            let lba = u32::try_from(first).map_err(io::Error::other)?;
            self.drive
                .read_blocks(lba, count as u32, &mut buf)
                .map_err(|e| {
                    io::Error::other(format!("reading blocks {first}-{}: {e}", first + count - 1))
                })?;
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

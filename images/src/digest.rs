//! SHA-256 as the station writes and reads it: lower-case hex (the way `sha256sum` prints a
//! digest) and the one loop that reads a source to its end in large chunks.
//!
//! Every place that hashes or copies a stream (the burn's producer, verifying against an
//! image file, writing an image to a file, the tests' oracles) goes through
//! [`for_each_chunk`], so a read interrupted by a signal is retried the same way everywhere.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// How much [`for_each_chunk`] reads at a time: large enough that a read costs little per
/// byte, small enough to stay in a Pi's cache.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Appends the lower-case hex digits of `bytes` to `out`.
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 15)]);
    }
}

/// `bytes` in lower-case hex, as `sha256sum` prints a digest.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// The value of one hex digit (either case), or `None` for any other byte.
pub fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Reads `from` to its end, handing each chunk read to `sink` in order; a read interrupted
/// by a signal is retried. Returns how many bytes were read. `sink`'s error type lets a
/// caller stop with its own error; a read error becomes one through `From<io::Error>`.
pub fn for_each_chunk<E: From<io::Error>>(
    from: &mut dyn Read,
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<u64, E> {
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        total += n as u64;
        sink(&buf[..n])?;
    }
}

/// The SHA-256 of everything `from` holds, read to its end.
pub fn sha256_of(from: &mut dyn Read) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    for_each_chunk(from, |chunk| {
        hasher.update(chunk);
        Ok::<(), io::Error>(())
    })?;
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that is interrupted before every second read and returns at most 5 bytes.
    struct Stuttering<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Stuttering<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(5).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn hex_is_what_sha256sum_prints() {
        // `printf '' | sha256sum`
        let empty = sha256_of(&mut io::empty()).unwrap();
        assert_eq!(
            hex(&empty),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex_digit(b'F'), Some(15));
        assert_eq!(hex_digit(b'g'), None);
    }

    #[test]
    fn chunks_arrive_in_order_and_interrupted_reads_are_retried() {
        let data: Vec<u8> = (0..=255).collect();
        let mut seen = Vec::new();
        let mut reader = Stuttering {
            data: &data,
            interrupt: false,
        };
        let total = for_each_chunk(&mut reader, |chunk| {
            seen.extend_from_slice(chunk);
            Ok::<(), io::Error>(())
        })
        .unwrap();
        assert_eq!(total, 256);
        assert_eq!(seen, data);
        let mut again = Stuttering {
            data: &data,
            interrupt: false,
        };
        assert_eq!(
            sha256_of(&mut again).unwrap(),
            <[u8; 32]>::from(Sha256::digest(&data))
        );
    }
}

//! The host-side ring buffer between the image producer and the drive thread.
//!
//! A burn must never starve the drive: the image is produced from files on an SD card or a
//! USB disk whose speed stutters, while the drive wants an even stream. The producer thread
//! writes the image into a bounded buffer (32 MiB by default) and the drive thread drains it
//! in WRITE-sized pieces. Memory stays bounded whatever the image size.
//!
//! Both ends see the other's fate: when the producer fails (a file vanished, a read error) the
//! drive thread's next read returns that error instead of silently short data, and when the
//! drive thread gives up (write error, cancellation) and drops its end, the producer's next
//! write fails with `BrokenPipe` so it stops reading files. Either side can read the fill level
//! for progress reports.

use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The default ring size: about 1.5 s of DVD 16x, or 7 s of BD 1x.
pub const DEFAULT_RING_BYTES: usize = 32 * 1024 * 1024;

/// The ring the station's daemon burns with: 8 MiB, about 0.4 s of DVD 16x or 1.8 s of BD
/// 1x, four times the drive's own buffer. The daemon's whole budget is 64 MiB for a full DVD
/// of 100 000 files, and the drive thread runs at a raised priority while it writes (see
/// `docs/performance.md`), so the ring only has to cover the producer's stutters (a slow
/// file on an SD card), not the drive thread's waits for a CPU.
pub const STATION_RING_BYTES: usize = 8 * 1024 * 1024;

/// The largest ring a burn may ask for: 7 s of BD 8x, 12 s of DVD 16x. The station's whole
/// budget is a few times the default; a larger ring buys nothing a drive notices and, on a
/// small board, costs the memory everything else needs (or fails to allocate at all).
pub const MAX_RING_BYTES: usize = 256 * 1024 * 1024;

/// The smallest ring a burn may ask for: a few write units, so a byte-sized ring cannot
/// turn a burn into a crawl.
pub const MIN_RING_BYTES: usize = 1024 * 1024;

/// How full the ring is, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingFill {
    /// Bytes waiting to be drained.
    pub used: usize,
    /// The ring's size in bytes.
    pub capacity: usize,
}

impl RingFill {
    /// The fill as a fraction from 0.0 (empty) to 1.0 (full).
    pub fn fraction(self) -> f64 {
        if self.capacity == 0 {
            0.0
        } else {
            self.used as f64 / self.capacity as f64
        }
    }
}

/// The producer's end: implements [`Write`]. Dropping it without [`RingWriter::fail`] ends
/// the stream normally (the reader sees end-of-file once it has drained the ring).
#[derive(Debug)]
pub struct RingWriter {
    shared: Arc<Shared>,
}

/// The drive thread's end: implements [`Read`]. Dropping it makes further writes fail.
#[derive(Debug)]
pub struct RingReader {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when data arrives or the writer ends (the reader waits on it).
    readable: Condvar,
    /// Signalled when space frees up or the reader goes away (the writer waits on it).
    writable: Condvar,
}

#[derive(Debug)]
struct State {
    buf: Box<[u8]>,
    /// Index of the oldest unread byte.
    head: usize,
    /// Number of unread bytes.
    len: usize,
    writer: WriterState,
    reader_gone: bool,
}

/// What the producer has done so far.
#[derive(Debug)]
enum WriterState {
    Open,
    Finished,
    /// The producer failed; the reader gets this error once it has drained what came before
    /// (so bytes that did arrive are not lost from the count, but the stream never "ends").
    Failed(Option<io::Error>),
}

/// Creates a ring of `capacity` bytes (at least 1) and returns its two ends. Callers that
/// take the size from a person check it against [`MIN_RING_BYTES`] and [`MAX_RING_BYTES`].
pub fn ring(capacity: usize) -> (RingWriter, RingReader) {
    let capacity = capacity.max(1);
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            buf: vec![0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
            writer: WriterState::Open,
            reader_gone: false,
        }),
        readable: Condvar::new(),
        writable: Condvar::new(),
    });
    (
        RingWriter {
            shared: Arc::clone(&shared),
        },
        RingReader { shared },
    )
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves only indexes that are updated after each copy,
        // so the state is still consistent: keep going rather than poisoning the burn.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fill(&self) -> RingFill {
        let state = self.lock();
        RingFill {
            used: state.len,
            capacity: state.buf.len(),
        }
    }
}

impl RingWriter {
    /// How full the ring is.
    pub fn fill(&self) -> RingFill {
        self.shared.fill()
    }

    /// Ends the stream with an error: the reader returns `error` after draining what was
    /// written before it.
    pub fn fail(self, error: io::Error) {
        let mut state = self.shared.lock();
        state.writer = WriterState::Failed(Some(error));
        drop(state);
        self.shared.readable.notify_all();
        // Drop runs next and sees the writer is no longer open: it changes nothing.
    }
}

impl Write for RingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut state = self.shared.lock();
        loop {
            if state.reader_gone {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the drive stopped taking data",
                ));
            }
            let capacity = state.buf.len();
            let free = capacity - state.len;
            if free > 0 {
                let n = data.len().min(free);
                let tail = (state.head + state.len) % capacity;
                let first = n.min(capacity - tail);
                state.buf[tail..tail + first].copy_from_slice(&data[..first]);
                state.buf[..n - first].copy_from_slice(&data[first..n]);
                state.len += n;
                drop(state);
                self.shared.readable.notify_one();
                return Ok(n);
            }
            state = self
                .shared
                .writable
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RingWriter {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if matches!(state.writer, WriterState::Open) {
            state.writer = WriterState::Finished;
        }
        drop(state);
        self.shared.readable.notify_all();
    }
}

impl RingReader {
    /// How full the ring is.
    pub fn fill(&self) -> RingFill {
        self.shared.fill()
    }

    /// Waits until the ring is full or the producer has ended (finished or failed), for at
    /// most `limit`; returns how full it is then.
    pub fn wait_until_full(&self, limit: Duration) -> RingFill {
        let deadline = Instant::now() + limit;
        let mut state = self.shared.lock();
        loop {
            let capacity = state.buf.len();
            let now = Instant::now();
            if state.len == capacity
                || !matches!(state.writer, WriterState::Open)
                || now >= deadline
            {
                return RingFill {
                    used: state.len,
                    capacity,
                };
            }
            state = self
                .shared
                .readable
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Read for RingReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut state = self.shared.lock();
        loop {
            if state.len > 0 {
                let capacity = state.buf.len();
                let n = out.len().min(state.len);
                let first = n.min(capacity - state.head);
                out[..first].copy_from_slice(&state.buf[state.head..state.head + first]);
                out[first..n].copy_from_slice(&state.buf[..n - first]);
                state.head = (state.head + n) % capacity;
                state.len -= n;
                drop(state);
                self.shared.writable.notify_one();
                return Ok(n);
            }
            match &mut state.writer {
                WriterState::Open => {}
                WriterState::Finished => return Ok(0),
                WriterState::Failed(error) => {
                    // Hand the error out once; later reads see a generic one, never EOF.
                    return Err(error
                        .take()
                        .unwrap_or_else(|| io::Error::other("the image producer failed earlier")));
                }
            }
            state = self
                .shared
                .readable
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for RingReader {
    fn drop(&mut self) {
        self.shared.lock().reader_gone = true;
        self.shared.writable.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// A deterministic byte pattern that makes a lost, duplicated or reordered byte visible.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect()
    }

    #[test]
    fn bytes_arrive_in_order_across_wraparound() {
        let data = pattern(1_000_003);
        let (mut writer, mut reader) = ring(4099);
        let sent = data.clone();
        let producer = thread::spawn(move || {
            // Odd chunk sizes so that writes straddle the ring's end many times.
            for chunk in sent.chunks(777) {
                writer.write_all(chunk).unwrap();
            }
        });
        let mut received = Vec::new();
        let mut buf = vec![0; 1000];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        producer.join().unwrap();
        assert_eq!(received.len(), data.len());
        assert!(received == data, "ring reordered or corrupted bytes");
    }

    #[test]
    fn producer_failure_reaches_the_reader_after_the_data() {
        let (mut writer, mut reader) = ring(64);
        writer.write_all(b"0123456789").unwrap();
        writer.fail(io::Error::new(
            io::ErrorKind::NotFound,
            "db.sqlite vanished",
        ));
        let mut got = Vec::new();
        let err = reader.read_to_end(&mut got).unwrap_err();
        assert_eq!(got, b"0123456789");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("db.sqlite"));
        // The stream never turns into a clean end after a failure.
        assert!(reader.read(&mut [0; 8]).is_err());
    }

    #[test]
    fn prefill_waits_for_a_full_ring_or_the_end_of_the_stream() {
        let (mut writer, reader) = ring(64 * 1024);
        let producer = thread::spawn(move || {
            for _ in 0..64 {
                thread::sleep(std::time::Duration::from_micros(200));
                writer.write_all(&[1; 1024]).unwrap();
            }
            // The ring is full: this waits for a reader that never drains it.
            writer.write_all(&[2; 1024])
        });
        let fill = reader.wait_until_full(Duration::from_secs(60));
        assert_eq!(fill.used, 64 * 1024, "waited for the producer to fill it");
        drop(reader);
        let blocked = producer.join().unwrap().unwrap_err();
        assert_eq!(blocked.kind(), io::ErrorKind::BrokenPipe);

        // A producer that ends early ends the wait with what it wrote.
        let (mut writer, reader) = ring(64 * 1024);
        writer.write_all(&[3; 1000]).unwrap();
        drop(writer);
        assert_eq!(reader.wait_until_full(Duration::from_secs(60)).used, 1000);

        // A stalled producer: the wait gives up at its limit.
        let (_writer, reader) = ring(64 * 1024);
        let start = Instant::now();
        assert_eq!(reader.wait_until_full(Duration::from_millis(50)).used, 0);
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn writer_blocked_on_a_full_ring_wakes_when_the_reader_goes_away() {
        let (mut writer, reader) = ring(16);
        writer.write_all(&[7; 16]).unwrap();
        let producer = thread::spawn(move || writer.write_all(&[8; 16]));
        // The producer is now blocked (or about to be) on the full ring.
        thread::sleep(std::time::Duration::from_millis(20));
        drop(reader);
        let err = producer.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn fill_reports_what_is_buffered() {
        let (mut writer, mut reader) = ring(100);
        assert_eq!(
            writer.fill(),
            RingFill {
                used: 0,
                capacity: 100
            }
        );
        writer.write_all(&[1; 40]).unwrap();
        assert_eq!(reader.fill().used, 40);
        assert!((reader.fill().fraction() - 0.4).abs() < 1e-9);
        reader.read_exact(&mut [0; 15]).unwrap();
        assert_eq!(writer.fill().used, 25);
    }
}

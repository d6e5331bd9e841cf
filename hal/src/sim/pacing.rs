//! Time in the software drive: the clock, the write speeds, and the drive buffer that drains
//! onto the medium at the write speed.
//!
//! A real burner takes WRITE data into its buffer at bus speed and burns it at the disc's
//! speed. [`DriveBuffer`] models exactly that on a [`Clock`]: data waits in a ring of the
//! configured size, leaves it (into the medium file) at the current write rate, and whatever
//! is still in it at a power cut is lost. When the ring runs empty while a track is being
//! fed and more data follows, that is a buffer underrun, and it is counted; so is how long
//! each stream of writes took to burn, from its first byte taken to its last byte burnt.
//! This module keeps time and bytes; it does not decide what a command answers.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use crate::mmc::MediaFamily;

use super::config::ClockMode;
use crate::mmc::BLOCK_SIZE;

/// The drive's notion of now.
#[derive(Debug)]
pub(crate) enum Clock {
    /// Wall-clock time since the drive was opened.
    Real { origin: Instant },
    /// Time that moves only when told to.
    Virtual { now: Duration },
}

impl Clock {
    pub(crate) fn new(mode: ClockMode) -> Clock {
        match mode {
            ClockMode::Real => Clock::Real {
                origin: Instant::now(),
            },
            ClockMode::Virtual => Clock::Virtual {
                now: Duration::ZERO,
            },
        }
    }

    pub(crate) fn now(&self) -> Duration {
        match self {
            Clock::Real { origin } => origin.elapsed(),
            Clock::Virtual { now } => *now,
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual { .. })
    }

    /// Moves a virtual clock forward to `t` (never back); a real clock cannot be moved.
    pub(crate) fn advance_to(&mut self, t: Duration) {
        if let Clock::Virtual { now } = self {
            *now = (*now).max(t);
        }
    }
}

/// The speed of 1x in bytes per second (k = 1000, as MMC counts).
pub(crate) fn one_x_bytes_per_sec(family: MediaFamily) -> u64 {
    match family {
        MediaFamily::Cd => 176_400,
        MediaFamily::Dvd => 1_385_000,
        MediaFamily::Bd => 4_495_000,
    }
}

/// The top speed an unpaced drive reports (it writes faster than any of them).
pub(crate) fn nominal_max_x(family: MediaFamily) -> f64 {
    match family {
        MediaFamily::Cd => 48.0,
        MediaFamily::Dvd => 16.0,
        MediaFamily::Bd => 12.0,
    }
}

/// The write rates the drive offers for a medium family, fastest first: the top rate, half
/// and a quarter of it (as real drives offer a few steps below their maximum).
pub(crate) fn offered_rates(max_rate: u64) -> Vec<u64> {
    let mut rates: Vec<u64> = [max_rate, max_rate / 2, max_rate / 4]
        .into_iter()
        .filter(|r| *r >= 1000)
        .collect();
    rates.dedup();
    if rates.is_empty() {
        rates.push(max_rate.max(1000));
    }
    rates
}

/// The offered rate a request in bytes per second gets: drives round down to a speed they
/// have, and give their slowest when asked for less.
pub(crate) fn rate_for_request(offered: &[u64], requested: u64) -> u64 {
    offered
        .iter()
        .copied()
        .find(|r| *r <= requested)
        .unwrap_or_else(|| offered.last().copied().unwrap_or(requested))
}

/// Time to move `bytes` at `rate` bytes per second, rounded up to the nanosecond.
pub(crate) fn time_for(bytes: u64, rate: u64) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    let nanos = (bytes as u128 * 1_000_000_000).div_ceil(rate as u128);
    Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
}

/// A run of sectors waiting in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub(crate) lba: u32,
    pub(crate) blocks: u32,
}

/// One stream of writes as the drive burnt it: from the moment its first byte entered an
/// empty buffer to the moment its last byte was burnt after the host flushed. With a host
/// that keeps the buffer fed, `finished - started` is `bytes` at the write rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BurntStream {
    pub(crate) started: Duration,
    pub(crate) finished: Duration,
    pub(crate) bytes: u64,
    /// Underruns during this stream.
    pub(crate) underruns: u64,
}

/// A stream being burnt: when it began, what it brought so far, and the underrun count then.
#[derive(Debug, Clone, Copy)]
struct OpenStream {
    started: Duration,
    bytes: u64,
    underruns_before: u64,
}

/// The drive buffer: a ring of WRITE data waiting to be burnt, in arrival order.
#[derive(Debug)]
pub(crate) struct DriveBuffer {
    capacity: usize,
    /// Allocated on the first paced write, at least `capacity` bytes.
    ring: Vec<u8>,
    head: usize,
    fill: usize,
    pending: VecDeque<Extent>,
    /// Start of the current draining period and bytes burnt since then: the burnt amount is
    /// computed from the elapsed time as a whole, so rounding never accumulates.
    anchor: Duration,
    drained_since_anchor: u64,
    /// True from the first WRITE of a track until the host flushes (sync, close).
    streaming: bool,
    emptied_at: Option<Duration>,
    underruns: u64,
    /// The stream of writes being burnt, from its first WRITE until it is burnt after a flush.
    stream: Option<OpenStream>,
    /// The last stream burnt completely, until [`take_burnt_stream`](Self::take_burnt_stream).
    burnt_stream: Option<BurntStream>,
}

impl DriveBuffer {
    pub(crate) fn new(capacity: usize) -> DriveBuffer {
        DriveBuffer {
            capacity,
            ring: Vec::new(),
            head: 0,
            fill: 0,
            pending: VecDeque::new(),
            anchor: Duration::ZERO,
            drained_since_anchor: 0,
            streaming: false,
            emptied_at: None,
            underruns: 0,
            stream: None,
            burnt_stream: None,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn fill(&self) -> usize {
        self.fill
    }

    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.fill)
    }

    pub(crate) fn underruns(&self) -> u64 {
        self.underruns
    }

    /// When the buffer last ran empty, if it is empty now.
    pub(crate) fn emptied_at(&self) -> Option<Duration> {
        self.emptied_at
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fill == 0
    }

    /// The last stream burnt completely since this was last asked, if any.
    pub(crate) fn take_burnt_stream(&mut self) -> Option<BurntStream> {
        self.burnt_stream.take()
    }

    /// Burns what the rate allows between the last call and `now`, handing each burnt run to
    /// `burn(lba, bytes)` (which writes it to the medium file).
    pub(crate) fn drain_until(
        &mut self,
        now: Duration,
        rate: u64,
        mut burn: impl FnMut(u32, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.fill == 0 || rate == 0 {
            return Ok(());
        }
        let elapsed = now.saturating_sub(self.anchor);
        let allowed = (elapsed.as_nanos() * rate as u128 / 1_000_000_000) as u64;
        let budget = allowed.saturating_sub(self.drained_since_anchor) as usize;
        let budget = budget.min(self.fill) / BLOCK_SIZE * BLOCK_SIZE;
        self.burn_front(budget, &mut burn)?;
        if self.fill == 0 {
            let emptied_at = self.anchor + time_for(self.drained_since_anchor, rate);
            self.emptied_at = Some(emptied_at);
            if !self.streaming
                && let Some(stream) = self.stream.take()
            {
                self.burnt_stream = Some(BurntStream {
                    started: stream.started,
                    finished: emptied_at,
                    bytes: stream.bytes,
                    underruns: self.underruns - stream.underruns_before,
                });
            }
        }
        Ok(())
    }

    /// Burns everything at once (the drive finishing its buffer after the host went away).
    pub(crate) fn drain_all(
        &mut self,
        mut burn: impl FnMut(u32, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let fill = self.fill;
        self.burn_front(fill, &mut burn)?;
        if !self.streaming {
            // Burnt out of time (the host went away): no finishing time to report.
            self.stream = None;
        }
        Ok(())
    }

    fn burn_front(
        &mut self,
        mut bytes: usize,
        burn: &mut impl FnMut(u32, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let ring_len = self.ring.len();
        while bytes > 0 {
            let Some(front) = self.pending.front_mut() else {
                break;
            };
            let sectors = (bytes / BLOCK_SIZE).min(front.blocks as usize);
            let mut lba = front.lba;
            let mut left = sectors * BLOCK_SIZE;
            while left > 0 {
                // The ring wraps only at sector boundaries (capacity and every write are
                // whole sectors), so each piece is whole sectors too.
                let piece = left.min(ring_len - self.head);
                burn(lba, &self.ring[self.head..self.head + piece])?;
                lba += (piece / BLOCK_SIZE) as u32;
                self.head = (self.head + piece) % ring_len;
                left -= piece;
            }
            front.lba += sectors as u32;
            front.blocks -= sectors as u32;
            if front.blocks == 0 {
                self.pending.pop_front();
            }
            let moved = sectors * BLOCK_SIZE;
            self.fill -= moved;
            self.drained_since_anchor += moved as u64;
            bytes -= moved;
        }
        if self.fill == 0 {
            self.head = 0;
        }
        Ok(())
    }

    /// Time from `now` until `bytes` more fit (zero if they fit now). A transfer larger than
    /// the whole buffer fits once the buffer is empty.
    pub(crate) fn time_until_fits(&self, bytes: usize, now: Duration, rate: u64) -> Duration {
        let need = if bytes > self.capacity {
            self.fill
        } else {
            (self.fill + bytes).saturating_sub(self.capacity)
        };
        self.time_until_drained(need, now, rate)
    }

    /// Time from `now` until the buffer is empty.
    pub(crate) fn time_until_empty(&self, now: Duration, rate: u64) -> Duration {
        self.time_until_drained(self.fill, now, rate)
    }

    fn time_until_drained(&self, bytes: usize, now: Duration, rate: u64) -> Duration {
        if bytes == 0 || rate == 0 {
            return Duration::ZERO;
        }
        let bytes = bytes.div_ceil(BLOCK_SIZE) * BLOCK_SIZE;
        let done_at = self.anchor + time_for(self.drained_since_anchor + bytes as u64, rate);
        done_at.saturating_sub(now)
    }

    /// True when `bytes` can be taken now.
    pub(crate) fn fits(&self, bytes: usize) -> bool {
        self.fill == 0 || self.fill + bytes <= self.capacity
    }

    /// Takes a WRITE's data. The caller has drained up to `now` and checked [`fits`](Self::fits).
    pub(crate) fn push(&mut self, now: Duration, lba: u32, data: &[u8]) {
        if self.fill == 0 {
            if self.streaming && self.emptied_at.is_some_and(|t| t < now) {
                self.underruns += 1;
            }
            self.anchor = now;
            self.drained_since_anchor = 0;
            self.head = 0;
        }
        let stream = self.stream.get_or_insert(OpenStream {
            started: now,
            bytes: 0,
            underruns_before: self.underruns,
        });
        stream.bytes += data.len() as u64;
        let wanted = self
            .capacity
            .max(data.len().div_ceil(BLOCK_SIZE) * BLOCK_SIZE);
        if self.ring.len() < wanted {
            // Only when empty can the ring grow (an oversize transfer); growing keeps
            // positions valid because head is 0 then.
            debug_assert!(self.fill == 0 || self.ring.len() >= self.capacity);
            if self.fill == 0 {
                self.ring.resize(wanted, 0);
            }
        }
        let ring_len = self.ring.len();
        let mut tail = (self.head + self.fill) % ring_len;
        let mut rest = data;
        while !rest.is_empty() {
            let piece = rest.len().min(ring_len - tail);
            self.ring[tail..tail + piece].copy_from_slice(&rest[..piece]);
            tail = (tail + piece) % ring_len;
            rest = &rest[piece..];
        }
        self.fill += data.len();
        let blocks = (data.len() / BLOCK_SIZE) as u32;
        match self.pending.back_mut() {
            Some(last) if last.lba + last.blocks == lba => last.blocks += blocks,
            _ => self.pending.push_back(Extent { lba, blocks }),
        }
        self.streaming = true;
        self.emptied_at = None;
    }

    /// Restarts the draining period at `now` (the rate is about to change).
    pub(crate) fn rebase(&mut self, now: Duration) {
        self.anchor = now;
        self.drained_since_anchor = 0;
    }

    /// The host flushed: running empty from here on is not an underrun.
    pub(crate) fn end_stream(&mut self) {
        self.streaming = false;
    }

    /// Throws away everything not yet burnt and says which sectors that was.
    pub(crate) fn discard(&mut self) -> Vec<Extent> {
        let lost = self.pending.drain(..).collect();
        self.fill = 0;
        self.head = 0;
        self.streaming = false;
        self.emptied_at = None;
        self.stream = None;
        lost
    }

    /// The sectors waiting in the buffer.
    pub(crate) fn pending(&self) -> impl Iterator<Item = &Extent> {
        self.pending.iter()
    }

    /// True when any sector of `lba..lba + blocks` is still waiting in the buffer.
    pub(crate) fn overlaps(&self, lba: u32, blocks: u32) -> bool {
        let (start, end) = (lba as u64, lba as u64 + blocks as u64);
        self.pending.iter().any(|e| {
            let (e_start, e_end) = (e.lba as u64, e.lba as u64 + e.blocks as u64);
            e_start < end && start < e_end
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sectors(n: usize, fill: u8) -> Vec<u8> {
        vec![fill; n * BLOCK_SIZE]
    }

    #[test]
    fn drains_at_the_rate_and_in_order() {
        let mut buffer = DriveBuffer::new(64 * BLOCK_SIZE);
        let rate = 2048 * 10; // ten sectors a second
        buffer.push(Duration::ZERO, 100, &sectors(16, 1));
        buffer.push(Duration::ZERO, 116, &sectors(16, 2));
        assert_eq!(buffer.fill(), 32 * BLOCK_SIZE);
        let mut burnt = Vec::new();
        buffer
            .drain_until(Duration::from_millis(1500), rate, |lba, bytes| {
                burnt.push((lba, bytes.len() / BLOCK_SIZE, bytes[0]));
                Ok(())
            })
            .unwrap();
        assert_eq!(burnt, vec![(100, 15, 1)], "1.5 s at 10 sectors/s");
        burnt.clear();
        buffer
            .drain_until(Duration::from_secs(2), rate, |lba, bytes| {
                assert_eq!(
                    bytes[BLOCK_SIZE], 2,
                    "sector 116 came from the second write"
                );
                burnt.push((lba, bytes.len() / BLOCK_SIZE, bytes[0]));
                Ok(())
            })
            .unwrap();
        // Contiguous writes burn as one run; the bytes keep their order.
        assert_eq!(burnt, vec![(115, 5, 1)]);
        assert_eq!(buffer.fill(), 12 * BLOCK_SIZE);
        assert_eq!(
            buffer.time_until_empty(Duration::from_secs(2), rate),
            Duration::from_millis(1200)
        );
    }

    #[test]
    fn full_buffer_says_when_a_write_fits() {
        let mut buffer = DriveBuffer::new(32 * BLOCK_SIZE);
        let rate = 2048 * 16;
        buffer.push(Duration::ZERO, 0, &sectors(32, 0));
        assert!(!buffer.fits(16 * BLOCK_SIZE));
        assert_eq!(buffer.free(), 0);
        let wait = buffer.time_until_fits(16 * BLOCK_SIZE, Duration::ZERO, rate);
        assert_eq!(wait, Duration::from_secs(1));
        buffer.drain_until(wait, rate, |_, _| Ok(())).unwrap();
        assert!(buffer.fits(16 * BLOCK_SIZE));
    }

    #[test]
    fn ring_wraps_and_keeps_bytes() {
        let mut buffer = DriveBuffer::new(4 * BLOCK_SIZE);
        let rate = 2048;
        let mut data = sectors(3, 0);
        for (i, chunk) in data.chunks_mut(BLOCK_SIZE).enumerate() {
            chunk.fill(i as u8 + 1);
        }
        buffer.push(Duration::ZERO, 0, &data);
        buffer
            .drain_until(Duration::from_secs(2), rate, |_, _| Ok(()))
            .unwrap();
        // Two sectors left the ring; the next three wrap around its end.
        let more: Vec<u8> = (4..7u8).flat_map(|v| vec![v; BLOCK_SIZE]).collect();
        buffer.push(Duration::from_secs(2), 3, &more);
        let mut seen = Vec::new();
        buffer
            .drain_all(|lba, bytes| {
                for (i, s) in bytes.chunks(BLOCK_SIZE).enumerate() {
                    assert!(s.iter().all(|b| *b == s[0]));
                    seen.push((lba + i as u32, s[0]));
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![(2, 3), (3, 4), (4, 5), (5, 6)]);
    }

    #[test]
    fn running_dry_mid_track_is_an_underrun() {
        let mut buffer = DriveBuffer::new(32 * BLOCK_SIZE);
        let rate = 2048 * 16;
        buffer.push(Duration::ZERO, 0, &sectors(16, 0));
        buffer
            .drain_until(Duration::from_secs(2), rate, |_, _| Ok(()))
            .unwrap();
        assert!(buffer.is_empty());
        buffer.push(Duration::from_secs(2), 16, &sectors(16, 0));
        assert_eq!(buffer.underruns(), 1, "empty at 1 s, data again at 2 s");
        // Exactly on time is no underrun.
        buffer
            .drain_until(Duration::from_secs(3), rate, |_, _| Ok(()))
            .unwrap();
        buffer.push(Duration::from_secs(3), 32, &sectors(16, 0));
        assert_eq!(buffer.underruns(), 1);
        // After the host flushed, a pause is no underrun either.
        buffer
            .drain_until(Duration::from_secs(4), rate, |_, _| Ok(()))
            .unwrap();
        buffer.end_stream();
        buffer.push(Duration::from_secs(9), 48, &sectors(16, 0));
        assert_eq!(buffer.underruns(), 1);
    }

    #[test]
    fn a_flushed_stream_reports_its_burning_time_and_underruns() {
        let mut buffer = DriveBuffer::new(32 * BLOCK_SIZE);
        let rate = 2048 * 16; // 16 sectors a second
        let t = Duration::from_secs;
        buffer.push(t(10), 0, &sectors(16, 0));
        buffer.drain_until(t(11), rate, |_, _| Ok(())).unwrap();
        buffer.push(t(11), 16, &sectors(16, 0));
        // Late by two seconds: the buffer ran dry at 12 s.
        buffer.drain_until(t(14), rate, |_, _| Ok(())).unwrap();
        assert_eq!(buffer.take_burnt_stream(), None, "not flushed yet");
        buffer.push(t(14), 32, &sectors(8, 0));
        buffer.end_stream();
        buffer
            .drain_until(Duration::from_millis(14_200), rate, |_, _| Ok(()))
            .unwrap();
        assert_eq!(buffer.take_burnt_stream(), None, "still burning");
        buffer.drain_until(t(20), rate, |_, _| Ok(())).unwrap();
        assert_eq!(
            buffer.take_burnt_stream(),
            Some(BurntStream {
                started: t(10),
                finished: Duration::from_millis(14_500),
                bytes: 40 * BLOCK_SIZE as u64,
                underruns: 1,
            }),
            "from the first byte taken to the last burnt, the gap included"
        );
        assert_eq!(buffer.take_burnt_stream(), None, "reported once");
        // The next stream is timed from its own first write.
        buffer.push(t(30), 40, &sectors(16, 0));
        buffer.end_stream();
        buffer.drain_until(t(40), rate, |_, _| Ok(())).unwrap();
        let next = buffer.take_burnt_stream().unwrap();
        assert_eq!(
            (next.started, next.finished, next.underruns),
            (t(30), t(31), 0)
        );
    }

    #[test]
    fn discard_reports_what_was_lost() {
        let mut buffer = DriveBuffer::new(64 * BLOCK_SIZE);
        buffer.push(Duration::ZERO, 10, &sectors(4, 0));
        buffer.push(Duration::ZERO, 14, &sectors(4, 0));
        buffer.push(Duration::ZERO, 40, &sectors(2, 0));
        assert!(buffer.overlaps(12, 1));
        assert!(!buffer.overlaps(18, 22));
        assert_eq!(
            buffer.discard(),
            vec![Extent { lba: 10, blocks: 8 }, Extent { lba: 40, blocks: 2 }]
        );
        assert!(buffer.is_empty());
    }

    #[test]
    fn rates_round_down_like_drives() {
        let offered = offered_rates(16 * 1_385_000);
        assert_eq!(offered, vec![22_160_000, 11_080_000, 5_540_000]);
        assert_eq!(rate_for_request(&offered, 30_000_000), 22_160_000);
        assert_eq!(rate_for_request(&offered, 12_000_000), 11_080_000);
        assert_eq!(rate_for_request(&offered, 1_000), 5_540_000);
        assert_eq!(time_for(22_160_000, 22_160_000), Duration::from_secs(1));
    }
}

//! Carrying out a burn plan: prepare, set the speed, write, flush, close.
//!
//! The write loop keeps the drive fed in whole write units and handles what real drives say
//! while burning (burning-anchors.md B.4): "long write in progress" (2/04/08) and the other
//! "busy" answers mean the drive's buffer is full, so we wait about as long as it needs to
//! drain a quarter of it (from READ BUFFER CAPACITY, as growisofs does for half) and resend
//! the very same WRITE. The first WRITE waits for the host buffer to fill. Other errors are
//! retried only where a retry cannot duplicate or skip data: on sequential media after
//! reading the next writable address back, on overwritable media always (rewriting a block
//! is harmless). A drive that stops answering is reset as the last step of recovery and the
//! burn fails; it is never resumed.

use std::io;
use std::time::{Duration, Instant};

use super::plan::{InterruptedChoice, interrupted_burn};
use super::wait::{WaitError, send_when_idle, until_idle};
use super::{
    BurnError, BurnEvent, BurnPhase, BurnPlan, BurnReport, DiscAfterFailure, DriveBufferFill,
    ImageSource, Method, Preparation, WriteProgress,
};
use crate::cancel::Cancel;
use crate::drive::{BLOCK_SIZE, Drive};
use crate::mmc::config::{Feature, GetConfiguration, feature};
use crate::mmc::disc::ReadDiscInformation;
use crate::mmc::mode::{ModeSelect10, WriteParametersPage};
use crate::mmc::performance::{ReadBufferCapacity, SetCdSpeed, SetStreaming, StreamingDescriptor};
use crate::mmc::track::ReadTrackInformation;
use crate::mmc::write::{
    Blank, BlankType, CloseFunction, CloseTrackSession, ReserveTrack, SynchronizeCache,
    WRITE_TIMEOUT, Write10, Write12,
};
use crate::mmc::{self, Command, MediaFamily, Profile};
use crate::ring::RingFill;
use crate::scsi::{CommandError, DataTransfer, SenseClass, Transport, TransportError, execute};

/// Longest wait for a format, a blank, a flush or a close to finish.
const FORMAT_LIMIT: Duration = Duration::from_secs(3 * 60 * 60);
const BLANK_LIMIT: Duration = Duration::from_secs(2 * 60 * 60);
const SYNC_LIMIT: Duration = Duration::from_secs(15 * 60);
const CLOSE_LIMIT: Duration = Duration::from_secs(60 * 60);
/// How long one WRITE may keep getting "busy" before the drive counts as stuck (growisofs
/// gives up after 192 retries of up to half a buffer's drain time).
const BUSY_LIMIT: Duration = Duration::from_secs(120);
/// Resends of a WRITE after an error that was safe to retry.
const SAFE_RETRIES: u32 = 3;
/// How often progress is reported, and the drive's buffer asked about.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
const DRIVE_BUFFER_EVERY: Duration = Duration::from_secs(1);
/// The window over which the current speed is measured.
const SPEED_WINDOW: Duration = Duration::from_secs(3);
/// Longest wait for the host buffer to fill before the first WRITE (a slow source starts
/// the burn anyway; the drive's own buffer and busy answers then pace it).
const PREFILL_LIMIT: Duration = Duration::from_secs(10);

/// One burn in progress: the drive, the plan, and what happened so far.
struct Burn<'d, T: Transport> {
    drive: &'d mut Drive<T>,
    plan: &'d BurnPlan,
    notes: Vec<String>,
    /// Something was written to the medium (or it was blanked): a failure now leaves it
    /// changed.
    touched: bool,
    /// Where writing is (the next block to write).
    lba: u64,
    drive_busy_waits: u64,
    retried_writes: u64,
    lowest_host_buffer: Option<RingFill>,
    /// READ BUFFER CAPACITY works on this drive (until it fails once).
    buffer_query_works: bool,
    /// Recent (time, bytes written) samples for the current speed.
    samples: std::collections::VecDeque<(Instant, u64)>,
}

pub(super) fn burn<T: Transport>(
    drive: &mut Drive<T>,
    plan: &BurnPlan,
    source: &mut dyn ImageSource,
    events: &mut dyn FnMut(BurnEvent),
    cancel: &Cancel,
) -> Result<BurnReport, BurnError> {
    let started = Instant::now();
    let mut notes = plan.notes.clone();
    let locked = match drive.lock_tray() {
        Ok(()) => true,
        Err(e) => {
            let note =
                format!("the tray could not be locked ({e}); do not open it during the burn");
            tracing::info!("{note}");
            events(BurnEvent::Note(note.clone()));
            notes.push(note);
            false
        }
    };
    let mut burn = Burn {
        drive,
        plan,
        notes,
        touched: false,
        lba: plan.start_lba as u64,
        drive_busy_waits: 0,
        retried_writes: 0,
        lowest_host_buffer: None,
        buffer_query_works: true,
        samples: Default::default(),
    };
    let result = burn.run(source, events, cancel);
    if let Err(e) = &result {
        // Leave the drive quiet: whatever it buffered is burnt before we report, so the
        // disc is in the state the message describes. Not after a hang or a lost disc.
        let drive_usable = !matches!(
            e,
            BurnError::DriveHung { .. } | BurnError::MediumRemoved { .. }
        );
        if burn.touched && drive_usable {
            let _ = send_when_idle(
                burn.drive,
                &SynchronizeCache { immediate: true },
                BurnPhase::Synchronizing,
                SYNC_LIMIT,
                events,
            )
            .and_then(|()| until_idle(burn.drive, BurnPhase::Synchronizing, SYNC_LIMIT, events));
        }
    }
    let Burn {
        drive,
        mut notes,
        drive_busy_waits,
        retried_writes,
        lowest_host_buffer,
        ..
    } = burn;
    if locked && let Err(e) = drive.unlock_tray() {
        notes.push(format!("the tray could not be unlocked ({e})"));
    }
    let writing_time = result?;
    Ok(BurnReport {
        plan: plan.clone(),
        writing_time,
        total_time: started.elapsed(),
        drive_busy_waits,
        retried_writes,
        lowest_host_buffer,
        notes,
    })
}

impl<T: Transport> Burn<'_, T> {
    /// The whole sequence; returns the time spent writing.
    fn run(
        &mut self,
        source: &mut dyn ImageSource,
        events: &mut dyn FnMut(BurnEvent),
        cancel: &Cancel,
    ) -> Result<Duration, BurnError> {
        // A stop asked for before anything reached the disc leaves it blank, and says so.
        if cancel.is_cancelled() {
            return Err(BurnError::Cancelled {
                written_blocks: 0,
                total_blocks: self.plan.written_blocks,
                after: self.after(),
            });
        }
        self.prepare(events)?;
        self.set_speed(events);
        self.set_write_parameters(events)?;
        self.lba = self.start_address()? as u64;
        // Start the drive with a full host buffer, as cdrecord fills its FIFO first: the
        // producer has only just started, and the first WRITEs must not outrun it.
        source.prefill(PREFILL_LIMIT);
        events(BurnEvent::Phase(BurnPhase::Writing));
        let writing = Instant::now();
        self.write_image(source, events, cancel)?;
        let writing_time = writing.elapsed();
        self.synchronize(events)?;
        self.close(events)?;
        Ok(writing_time)
    }

    fn device(&self) -> String {
        self.drive.name().to_string()
    }

    /// The disc's state if the burn failed now.
    fn after(&self) -> DiscAfterFailure {
        if !self.touched {
            DiscAfterFailure::Untouched
        } else if self.plan.profile.is_write_once() {
            DiscAfterFailure::Spoilt
        } else {
            DiscAfterFailure::Rewritable
        }
    }

    fn note(&mut self, note: String, events: &mut dyn FnMut(BurnEvent)) {
        tracing::info!(device = self.drive.name(), "{note}");
        events(BurnEvent::Note(note.clone()));
        self.notes.push(note);
    }

    /// Blank or format the medium, as planned.
    fn prepare(&mut self, events: &mut dyn FnMut(BurnEvent)) -> Result<(), BurnError> {
        match self.plan.preparation {
            Preparation::None => Ok(()),
            Preparation::BlankMinimal => {
                events(BurnEvent::Phase(BurnPhase::Blanking));
                self.touched = true;
                let blank = Blank {
                    blank_type: BlankType::Minimal,
                    address: 0,
                    immediate: true,
                };
                send_when_idle(self.drive, &blank, BurnPhase::Blanking, BLANK_LIMIT, events)
                    .and_then(|()| until_idle(self.drive, BurnPhase::Blanking, BLANK_LIMIT, events))
                    .map_err(|e| self.wait_error("BLANK", e))
            }
            Preparation::Format(format) | Preparation::RestartBackgroundFormat(format) => {
                events(BurnEvent::Phase(BurnPhase::Formatting));
                let list = format.parameter_list();
                if let Err(e) = mmc::send(&mut self.drive.transport, &format, &list) {
                    return Err(self.step_error("FORMAT UNIT", e));
                }
                // A DVD+RW formats in the background and takes writes at once; others are
                // busy until done.
                until_idle(self.drive, BurnPhase::Formatting, FORMAT_LIMIT, events)
                    .map_err(|e| self.wait_error("FORMAT UNIT", e))
            }
        }
    }

    /// Asks for the planned speed: SET CD SPEED on CD, SET STREAMING on DVD and BD. A
    /// drive that ignores or refuses it still burns, at its own speed.
    fn set_speed(&mut self, events: &mut dyn FnMut(BurnEvent)) {
        let Some(kbps) = self.plan.speed_kbytes_per_sec else {
            return;
        };
        let result = if self.plan.family() == MediaFamily::Cd {
            let cmd = SetCdSpeed {
                read_kbytes_per_sec: SetCdSpeed::MAX,
                write_kbytes_per_sec: u16::try_from(kbps).unwrap_or(SetCdSpeed::MAX),
                rotation_control: 0,
            };
            mmc::run(&mut self.drive.transport, &cmd)
        } else {
            let end = self.plan.start_lba as u64 + self.plan.capacity_blocks;
            // Reads are asked at the same rate: every drive reads at least as fast as it
            // writes, and read-back follows the burn.
            let descriptor = StreamingDescriptor::speeds(
                u32::try_from(end.saturating_sub(1)).unwrap_or(u32::MAX),
                kbps,
                kbps,
            );
            mmc::send(
                &mut self.drive.transport,
                &SetStreaming,
                &descriptor.to_bytes(),
            )
            .map(|_| ())
        };
        if let Err(e) = result {
            self.note(
                format!("the drive did not take the write speed ({e}); it burns at its own speed"),
                events,
            );
        }
    }

    /// MODE SELECT page 05h where the medium uses it (CD, DVD-R/-RW), and RESERVE TRACK
    /// for disc at once.
    fn set_write_parameters(&mut self, events: &mut dyn FnMut(BurnEvent)) -> Result<(), BurnError> {
        let keep_appendable = !self.plan.finalize;
        let mut page = match self.plan.method {
            Method::DvdMinusIncremental => WriteParametersPage::dvd_incremental(keep_appendable),
            Method::DvdMinusDiscAtOnce => WriteParametersPage::dvd_disc_at_once(),
            Method::CdTrackAtOnce => WriteParametersPage::cd_track_at_once(keep_appendable),
            _ => return Ok(()),
        };
        page.bufe = self.underrun_protection();
        if !page.bufe {
            self.note("the drive has no buffer underrun protection: keep other work off the station while it burns".to_string(), events);
        }
        let (cmd, data) = ModeSelect10::for_page(&page.to_bytes());
        if let Err(e) = mmc::send(&mut self.drive.transport, &cmd, &data) {
            return Err(self.step_error("MODE SELECT (write parameters)", e));
        }
        if self.plan.method == Method::DvdMinusDiscAtOnce {
            let blocks = u32::try_from(self.plan.written_blocks).unwrap_or(u32::MAX);
            if let Err(e) = mmc::run(&mut self.drive.transport, &ReserveTrack { blocks }) {
                return Err(self.step_error("RESERVE TRACK", e));
            }
            // A reservation is recorded on the disc: it is no longer blank.
            self.touched = true;
        }
        Ok(())
    }

    /// BUFE where the drive's write feature has the BUF bit (libburn enables it whenever
    /// the drive supports it; burning-anchors.md B.4).
    fn underrun_protection(&mut self) -> bool {
        let code = if self.plan.family() == MediaFamily::Cd {
            feature::CD_TRACK_AT_ONCE
        } else {
            feature::DVD_R_RW_WRITE
        };
        match self.drive.query(&GetConfiguration::one(code)) {
            Ok(config) => matches!(
                config.feature(code).map(|d| &d.feature),
                Some(Feature::CdTrackAtOnce { buf: true, .. })
                    | Some(Feature::DvdRWrite { buf: true, .. })
            ),
            Err(_) => false,
        }
    }

    /// Where writing starts: the next writable address on sequential media (read again now:
    /// on CD it depends on the write type just set; mmc.md 1.3), block 0 otherwise.
    fn start_address(&mut self) -> Result<u32, BurnError> {
        if !self.plan.method.is_sequential() {
            return Ok(0);
        }
        let track = match self
            .drive
            .query(&ReadTrackInformation::new(self.plan.track))
        {
            Ok(t) => t,
            Err(e) => {
                return Err(match e {
                    mmc::QueryError::Command(c) => self.step_error("READ TRACK INFORMATION", c),
                    parse => BurnError::Drive(self.drive.query_error(parse)),
                });
            }
        };
        let nwa = match self.plan.method {
            // A reserved track is written from its start.
            Method::DvdMinusDiscAtOnce => track.next_writable.unwrap_or(track.start),
            _ => track.next_writable.unwrap_or(self.plan.start_lba),
        };
        // Some drives report −150 on blank media (mmc.md 1.3): begin at the track start.
        let nwa = if (nwa as i32) < 0 { track.start } else { nwa };
        Ok(nwa)
    }

    /// Writes the image and its padding, in write units.
    fn write_image(
        &mut self,
        source: &mut dyn ImageSource,
        events: &mut dyn FnMut(BurnEvent),
        cancel: &Cancel,
    ) -> Result<(), BurnError> {
        let unit = self.plan.write_unit_blocks as u64;
        let image_bytes = self.plan.image_blocks * BLOCK_SIZE as u64;
        let total_bytes = self.plan.written_blocks * BLOCK_SIZE as u64;
        let start = self.lba;
        let end = start + self.plan.written_blocks;
        let mut buf = vec![0u8; unit as usize * BLOCK_SIZE];
        let mut consumed = 0u64;
        let mut last_progress = Instant::now() - PROGRESS_EVERY;
        let mut last_buffer_query = Instant::now() - DRIVE_BUFFER_EVERY;
        let mut drive_buffer = None;
        self.samples.push_back((Instant::now(), 0));
        while self.lba < end {
            if cancel.is_cancelled() {
                return Err(BurnError::Cancelled {
                    written_blocks: self.lba - start,
                    total_blocks: self.plan.written_blocks,
                    after: self.after(),
                });
            }
            let blocks = unit.min(end - self.lba);
            let chunk = &mut buf[..blocks as usize * BLOCK_SIZE];
            let want = (chunk.len() as u64).min(image_bytes - consumed) as usize;
            if let Err(e) = source.read_exact(&mut chunk[..want]) {
                let source = if e.kind() == io::ErrorKind::UnexpectedEof {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the image ended after about {consumed} of its {image_bytes} bytes"
                        ),
                    )
                } else {
                    e
                };
                return Err(BurnError::Source {
                    source,
                    after: self.after(),
                });
            }
            chunk[want..].fill(0);
            consumed += want as u64;
            if let Some(fill) = source.buffer_fill()
                && self
                    .lowest_host_buffer
                    .is_none_or(|low| fill.used < low.used)
                && consumed < image_bytes
            {
                self.lowest_host_buffer = Some(fill);
            }

            let lba = self.lba;
            self.write_unit(lba, blocks as u32, &buf[..blocks as usize * BLOCK_SIZE])?;
            self.touched = true;
            self.lba += blocks;

            let written = (self.lba - start) * BLOCK_SIZE as u64;
            if last_progress.elapsed() >= PROGRESS_EVERY || self.lba == end {
                last_progress = Instant::now();
                if self.buffer_query_works && last_buffer_query.elapsed() >= DRIVE_BUFFER_EVERY {
                    last_buffer_query = Instant::now();
                    drive_buffer = self.drive_buffer();
                }
                events(BurnEvent::Progress(self.progress(
                    written,
                    total_bytes,
                    source.buffer_fill(),
                    drive_buffer,
                )));
            }
        }
        Ok(())
    }

    /// One WRITE, resent while the drive is busy, and after errors where that is safe.
    fn write_unit(&mut self, lba: u64, blocks: u32, data: &[u8]) -> Result<(), BurnError> {
        let cdb = if self.plan.method == Method::BdRe {
            Write12 {
                lba: lba as u32,
                blocks,
                streaming: true,
                fua: false,
            }
            .cdb()
        } else {
            Write10 {
                lba: lba as u32,
                blocks: blocks as u16,
                fua: false,
            }
            .cdb()
        };
        let busy_start = Instant::now();
        let mut slept = Duration::ZERO;
        let mut busy_tries = 0u32;
        let mut retries = 0;
        loop {
            let error = match execute(
                &mut self.drive.transport,
                cdb.as_bytes(),
                DataTransfer::ToDevice(data),
                WRITE_TIMEOUT,
            ) {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if is_timeout(&error) {
                return Err(self.recover(format!("writing block {lba}")));
            }
            match error.class() {
                Some(SenseClass::WaitAndRetry) => {
                    self.drive_busy_waits += 1;
                    busy_tries += 1;
                    let waited = busy_start.elapsed().max(slept);
                    if waited >= BUSY_LIMIT {
                        return Err(BurnError::Stuck {
                            device: self.device(),
                            lba,
                            waited,
                            after: self.after(),
                        });
                    }
                    let pause = self.busy_pause(data.len(), busy_tries);
                    (self.drive.sleep)(pause);
                    slept += pause;
                }
                Some(SenseClass::NoMedium) => {
                    return Err(BurnError::MediumRemoved {
                        device: self.device(),
                        lba,
                        after: self.after(),
                    });
                }
                Some(SenseClass::RetryNow) | Some(SenseClass::Aborted)
                    if retries < SAFE_RETRIES =>
                {
                    retries += 1;
                    self.retried_writes += 1;
                    tracing::info!(device = self.drive.name(), lba, error = %error, "retrying WRITE");
                    if self.plan.method.is_sequential() {
                        match self.landed(lba, blocks)? {
                            Some(true) => return Ok(()),
                            Some(false) => {}
                            None => return Err(self.write_failed(lba, error)),
                        }
                    }
                }
                _ => return Err(self.write_failed(lba, error)),
            }
        }
    }

    /// After an ambiguous WRITE failure on sequential media: did the data land? The next
    /// writable address tells: unchanged (no), moved past this write (yes), or anything
    /// else (we do not know, so we must not guess).
    fn landed(&mut self, lba: u64, blocks: u32) -> Result<Option<bool>, BurnError> {
        match self
            .drive
            .query(&ReadTrackInformation::new(self.plan.track))
        {
            Ok(track) => Ok(match track.next_writable.map(u64::from) {
                Some(nwa) if nwa == lba => Some(false),
                Some(nwa) if nwa == lba + blocks as u64 => Some(true),
                _ => None,
            }),
            Err(mmc::QueryError::Command(e)) if is_timeout(&e) => {
                Err(self.recover(format!("checking block {lba}")))
            }
            Err(_) => Ok(None),
        }
    }

    /// How long to wait after the drive said its buffer is full: until a quarter of it has
    /// drained, at the speed the drive burns; libburn's short growing sleeps when the drive
    /// cannot tell its fill. growisofs waits for half; libburn until it is at most 65 %
    /// full (xfburn asks 75 %). A quarter keeps three quarters of the buffer (70 ms of a
    /// 2 MiB buffer at DVD 16x) between a late wake-up on a loaded CPU and an underrun, at
    /// the price of twice as many "busy" answers.
    fn busy_pause(&mut self, write_len: usize, tries: u32) -> Duration {
        let fallback = Duration::from_millis((2 * tries as u64).min(25));
        let Some(fill) = (if self.buffer_query_works {
            self.drive_buffer()
        } else {
            None
        }) else {
            return fallback;
        };
        let want_free = (write_len as u64).max(fill.size / 4);
        let free = fill.size - fill.used;
        if free >= want_free {
            return Duration::from_millis(1);
        }
        let rate = self.expected_rate();
        let secs = (want_free - free) as f64 / rate;
        Duration::from_secs_f64(secs).clamp(Duration::from_millis(1), Duration::from_millis(200))
    }

    /// Bytes per second the drive should be burning at.
    fn expected_rate(&self) -> f64 {
        let family = self.plan.family();
        let kbps = self
            .plan
            .speed_kbytes_per_sec
            .map(f64::from)
            .unwrap_or_else(|| family.one_x_kbytes_per_sec());
        kbps * 1000.0
    }

    /// The drive's buffer fill, or `None` (and no more asking) when it cannot tell.
    fn drive_buffer(&mut self) -> Option<DriveBufferFill> {
        match self.drive.query(&ReadBufferCapacity { in_blocks: false }) {
            Ok(cap) if cap.size > 0 => {
                // A free count above the size is nonsense some drives send; libburn takes
                // half the buffer then.
                let free = if cap.free > cap.size {
                    cap.size / 2
                } else {
                    cap.free
                };
                Some(DriveBufferFill {
                    used: (cap.size - free) as u64,
                    size: cap.size as u64,
                })
            }
            Ok(_) | Err(_) => {
                self.buffer_query_works = false;
                tracing::info!(
                    device = self.drive.name(),
                    "READ BUFFER CAPACITY unusable; drive buffer fill unknown"
                );
                None
            }
        }
    }

    fn progress(
        &mut self,
        written: u64,
        total: u64,
        host_buffer: Option<RingFill>,
        drive_buffer: Option<DriveBufferFill>,
    ) -> WriteProgress {
        let now = Instant::now();
        self.samples.push_back((now, written));
        while self.samples.len() > 2 && now.duration_since(self.samples[0].0) > SPEED_WINDOW {
            self.samples.pop_front();
        }
        let (t0, b0) = self.samples[0];
        let secs = now.duration_since(t0).as_secs_f64();
        let bytes_per_sec = if secs > 0.0 {
            (written - b0) as f64 / secs
        } else {
            0.0
        };
        let one_x = self.plan.family().one_x_kbytes_per_sec() * 1000.0;
        let eta = (bytes_per_sec > 0.0)
            .then(|| Duration::from_secs_f64((total - written) as f64 / bytes_per_sec));
        WriteProgress {
            written_bytes: written,
            total_bytes: total,
            bytes_per_sec,
            speed_times: bytes_per_sec / one_x,
            host_buffer,
            drive_buffer,
            eta,
        }
    }

    /// SYNCHRONIZE CACHE with Immed, then wait until the drive has written it all.
    fn synchronize(&mut self, events: &mut dyn FnMut(BurnEvent)) -> Result<(), BurnError> {
        events(BurnEvent::Phase(BurnPhase::Synchronizing));
        synchronize(self.drive, events).map_err(|e| self.wait_error("SYNCHRONIZE CACHE", e))
    }

    /// Closes the track and session, or finalizes, as the medium needs.
    fn close(&mut self, events: &mut dyn FnMut(BurnEvent)) -> Result<(), BurnError> {
        let functions: Vec<CloseFunction> = match self.plan.method {
            Method::DvdPlusR { dual_layer } => vec![
                CloseFunction::CloseTrack,
                match (self.plan.finalize, dual_layer) {
                    (false, _) => CloseFunction::CloseSession,
                    // growisofs -dvd-compat: 110b on single layer, 101b on DL.
                    (true, false) => CloseFunction::Finalize,
                    (true, true) => CloseFunction::FinalizeMinimalRadius,
                },
            ],
            // Page 05h's multi-session bits decide whether closing the session finalizes.
            Method::DvdMinusIncremental => {
                vec![CloseFunction::CloseTrack, CloseFunction::CloseSession]
            }
            Method::BdR => vec![
                CloseFunction::CloseTrack,
                if self.plan.finalize {
                    CloseFunction::Finalize
                } else {
                    CloseFunction::CloseSession
                },
            ],
            Method::CdTrackAtOnce => vec![CloseFunction::CloseSession],
            // Finalizing writes a lead-out (stopping any background format), so DVD-ROM
            // drives read the disc, as growisofs always does; otherwise only the background
            // format is stopped (a no-op when none runs).
            Method::DvdPlusRw => vec![if self.plan.finalize {
                CloseFunction::CloseSession
            } else {
                CloseFunction::StopBackgroundFormat
            }],
            // Disc at once needs no close; overwritable media have nothing to close.
            Method::DvdMinusDiscAtOnce | Method::DvdRwOverwrite | Method::BdRe => Vec::new(),
        };
        if functions.is_empty() {
            return Ok(());
        }
        events(BurnEvent::Phase(BurnPhase::Closing));
        let track = self.last_track();
        close(self.drive, &functions, track, events)
            .map_err(|e| self.wait_error("CLOSE TRACK/SESSION", e))
    }

    /// The logical number of the track just written (DVD-R and BD-R want the real number,
    /// not FFh: growisofs).
    fn last_track(&mut self) -> u16 {
        self.drive
            .query(&ReadDiscInformation::new())
            .map(|d| d.last_track_in_last_session.max(1))
            .unwrap_or(1)
    }

    fn write_failed(&mut self, lba: u64, source: CommandError) -> BurnError {
        if source.class() == Some(SenseClass::NoMedium) {
            return BurnError::MediumRemoved {
                device: self.device(),
                lba,
                after: self.after(),
            };
        }
        BurnError::WriteFailed {
            device: self.device(),
            lba,
            source,
            after: self.after(),
        }
    }

    fn step_error(&mut self, step: &'static str, source: CommandError) -> BurnError {
        if is_timeout(&source) {
            return self.recover(format!("running {step}"));
        }
        if source.class() == Some(SenseClass::NoMedium) {
            return BurnError::MediumRemoved {
                device: self.device(),
                lba: self.lba,
                after: self.after(),
            };
        }
        BurnError::Step {
            device: self.device(),
            step,
            source,
            after: self.after(),
        }
    }

    fn wait_error(&mut self, step: &'static str, e: WaitError) -> BurnError {
        match e {
            WaitError::Failed(source) => self.step_error(step, source),
            WaitError::NoMedium => BurnError::MediumRemoved {
                device: self.device(),
                lba: self.lba,
                after: self.after(),
            },
            WaitError::Hung => self.recover(format!("running {step}")),
            WaitError::TimedOut(waited) => BurnError::Stuck {
                device: self.device(),
                lba: self.lba,
                waited,
                after: self.after(),
            },
        }
    }

    /// The drive stopped answering: reset it (the last step of recovery; a USB burner gets
    /// a bus reset from its transport) and see whether it answers again.
    fn recover(&mut self, during: String) -> BurnError {
        let recovery = self.drive.recover_from_hang();
        BurnError::DriveHung {
            device: self.device(),
            during,
            recovery,
            after: self.after(),
        }
    }
}

/// SYNCHRONIZE CACHE with Immed and a wait, then once more without Immed, as growisofs
/// flushes: some Pioneer drives answer TEST UNIT READY before their cache is on the disc,
/// and the plain form returns only when it is. A drive that refuses Immed gets only the
/// plain form.
fn synchronize<T: Transport>(
    drive: &mut Drive<T>,
    events: &mut dyn FnMut(BurnEvent),
) -> Result<(), WaitError> {
    let phase = BurnPhase::Synchronizing;
    match send_when_idle(
        drive,
        &SynchronizeCache { immediate: true },
        phase,
        SYNC_LIMIT,
        events,
    ) {
        Ok(()) => until_idle(drive, phase, SYNC_LIMIT, events)?,
        Err(WaitError::Failed(e)) if e.is_unsupported() => {
            tracing::info!(
                device = drive.name(),
                "SYNCHRONIZE CACHE with Immed refused; sending it without"
            );
        }
        Err(e) => return Err(e),
    }
    send_when_idle(
        drive,
        &SynchronizeCache { immediate: false },
        phase,
        SYNC_LIMIT,
        events,
    )
}

/// Sends each close function in turn (with Immed) and waits for it to finish.
fn close<T: Transport>(
    drive: &mut Drive<T>,
    functions: &[CloseFunction],
    track: u16,
    events: &mut dyn FnMut(BurnEvent),
) -> Result<(), WaitError> {
    for &function in functions {
        let cmd = CloseTrackSession {
            function,
            track: if function == CloseFunction::CloseTrack {
                track
            } else {
                0
            },
            immediate: true,
        };
        send_when_idle(drive, &cmd, BurnPhase::Closing, CLOSE_LIMIT, events)?;
        until_idle(drive, BurnPhase::Closing, CLOSE_LIMIT, events)?;
    }
    Ok(())
}

fn is_timeout(e: &CommandError) -> bool {
    matches!(
        e,
        CommandError::Transport {
            source: TransportError::Timeout { .. },
            ..
        }
    )
}

/// See [`Drive::finalize_as_is`].
pub(super) fn finalize_as_is<T: Transport>(
    drive: &mut Drive<T>,
    events: &mut dyn FnMut(BurnEvent),
) -> Result<(), BurnError> {
    drive.wait_until_ready(Duration::from_secs(60))?;
    let media = drive.media()?;
    let Some(interrupted) = interrupted_burn(&media) else {
        return Err(BurnError::NothingToFinalize {
            profile: media.profile,
        });
    };
    if !interrupted
        .choices
        .contains(&InterruptedChoice::FinalizeAsIs)
    {
        // Closing a damaged track fails on the drive (3/0C/00): say why before trying.
        return Err(BurnError::Interrupted(interrupted));
    }
    let finalize = match media.profile {
        Profile::DvdPlusR | Profile::BdRSequential => CloseFunction::Finalize,
        Profile::DvdPlusRDualLayer => CloseFunction::FinalizeMinimalRadius,
        _ => CloseFunction::CloseSession,
    };
    let step = |e: WaitError, step: &'static str, drive: &mut Drive<T>| match e {
        WaitError::Failed(source) => BurnError::Step {
            device: drive.name().to_string(),
            step,
            source,
            after: DiscAfterFailure::Spoilt,
        },
        WaitError::NoMedium => BurnError::MediumRemoved {
            device: drive.name().to_string(),
            lba: 0,
            after: DiscAfterFailure::Spoilt,
        },
        WaitError::Hung => BurnError::DriveHung {
            device: drive.name().to_string(),
            during: format!("running {step}"),
            recovery: drive.recover_from_hang(),
            after: DiscAfterFailure::Spoilt,
        },
        WaitError::TimedOut(waited) => BurnError::Stuck {
            device: drive.name().to_string(),
            lba: 0,
            waited,
            after: DiscAfterFailure::Spoilt,
        },
    };
    events(BurnEvent::Phase(BurnPhase::Synchronizing));
    if let Err(e) = synchronize(drive, events) {
        return Err(step(e, "SYNCHRONIZE CACHE", drive));
    }
    events(BurnEvent::Phase(BurnPhase::Closing));
    let track = media.last_track_in_last_session.max(1);
    close(drive, &[CloseFunction::CloseTrack, finalize], track, events)
        .map_err(|e| step(e, "CLOSE TRACK/SESSION", drive))
}

//! Burning an image onto the medium in the drive, one sequence per medium family.
//!
//! A burn has two steps, so that a person can be asked before anything irreversible
//! happens: [`Drive::plan_burn`] looks at the medium and decides what would be done (which
//! write method, whether the disc must be formatted or erased first, where writing starts,
//! whether the image fits), changing nothing; [`Drive::burn`] then carries the plan out:
//! prepare the medium, set the speed, write the image in whole write units (32 KiB on DVD,
//! 64 KiB on BD), flush the drive's cache and close or finalize the disc.
//!
//! The sequences follow the MMC spec as libburn and growisofs apply it
//! (`shared/notes/burning-anchors.md` part B, `mmc.md` sections 1.11 and 2):
//!
//! | medium | method |
//! |---|---|
//! | DVD+R, DVD+R DL | write at the NWA, CLOSE TRACK, then finalize (110b; 101b on DL) or CLOSE SESSION |
//! | DVD-R, DVD-RW, DVD-R DL | incremental (page 05h, CLOSE TRACK + SESSION) when feature 0021h is current, else disc-at-once (page 05h, RESERVE TRACK of the exact size, no close) |
//! | DVD+RW | background format 26h when blank, overwrite from 0, stop the format (CLOSE 000b, or 010b to finalize) |
//! | DVD-RW restricted overwrite | overwrite from 0 |
//! | BD-R | unformatted by default (format 00h with spares only when asked), write at the NWA, CLOSE TRACK, finalize (110b) or CLOSE SESSION |
//! | BD-RE | format 00h when unformatted, WRITE(12) with the streaming bit, no close |
//! | CD-R, CD-RW | track at once (page 05h), CLOSE SESSION (page 05h decides finalization) |
//!
//! Nothing is erased unless the caller allowed it ([`BurnOptions::erase`]): a rewritable
//! disc that holds a filesystem is refused otherwise, and a write-once disc that is not
//! blank is always refused. A write-once disc left open by an interrupted burn is reported
//! as such ([`InterruptedDisc`]) with the choices its medium allows; it is never resumed.
//!
//! The plan, its sequences and the waits (`plan`, `write`, `wait`) all work on the types
//! defined here ([`BurnPlan`], [`BurnError`]...), so they import this module while it
//! declares them: that parent-and-child pair is the only two-way import here.

mod plan;
mod wait;
mod write;

use std::fmt;
use std::io::{self, Read};
use std::time::Duration;

pub use plan::{InterruptedChoice, InterruptedDisc, interrupted_burn};

use super::{BLOCK_SIZE, Drive, DriveError};
use crate::cancel::Cancel;
use crate::mmc::track::TrackAddress;
use crate::mmc::write::FormatUnit;
use crate::mmc::{MediaFamily, Profile};
use crate::ring::{RingFill, RingReader};
use crate::scsi::{CommandError, Transport};

/// What the caller wants from a burn.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnOptions {
    /// Close the disc for good, so that it reads in any drive (the default). Without it the
    /// session is closed but the disc stays appendable.
    pub finalize: bool,
    /// The write speed to ask for.
    pub speed: SpeedRequest,
    /// Permission to erase: blank a rewritable disc that holds data (CD-RW, DVD-RW) or
    /// overwrite one (DVD+RW, BD-RE, formatted DVD-RW). Without it such discs are refused.
    pub erase: bool,
    /// Format a blank BD-R with spare areas (defect management) before writing. Off by
    /// default: spares cost about 3% of the capacity and halve the write speed, and the
    /// station verifies every sector anyway (burning-anchors.md C.4).
    pub bd_r_spares: bool,
}

impl Default for BurnOptions {
    fn default() -> BurnOptions {
        BurnOptions {
            finalize: true,
            speed: SpeedRequest::Max,
            erase: false,
            bd_r_spares: false,
        }
    }
}

/// The write speed to ask the drive for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpeedRequest {
    /// As fast as the drive and medium allow.
    Max,
    /// At most this multiple of 1x (the drive's nearest speed at or below it).
    Times(f64),
}

/// How a medium gets written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// DVD+R and DVD+R DL: sequential at the NWA, close track, close or finalize session.
    DvdPlusR {
        /// DVD+R DL: finalize with 101b instead of 110b.
        dual_layer: bool,
    },
    /// DVD-R/-RW sequential, incremental recording (feature 0021h current).
    DvdMinusIncremental,
    /// DVD-R/-RW sequential, disc at once with a reserved track of the exact size.
    DvdMinusDiscAtOnce,
    /// DVD+RW: random writes on a (background-)formatted disc.
    DvdPlusRw,
    /// DVD-RW restricted overwrite: random writes on a formatted disc.
    DvdRwOverwrite,
    /// BD-R sequential recording.
    BdR,
    /// BD-RE: streaming writes on a formatted disc.
    BdRe,
    /// CD-R/CD-RW track at once.
    CdTrackAtOnce,
}

impl Method {
    /// A short description for logs and screens.
    pub fn describe(self) -> &'static str {
        match self {
            Method::DvdPlusR { .. } => "sequential recording",
            Method::DvdMinusIncremental => "incremental recording",
            Method::DvdMinusDiscAtOnce => "disc at once",
            Method::DvdPlusRw | Method::DvdRwOverwrite => "overwrite",
            Method::BdR => "sequential recording",
            Method::BdRe => "streaming overwrite",
            Method::CdTrackAtOnce => "track at once",
        }
    }

    /// True for media written once, block by block at the next writable address.
    pub fn is_sequential(self) -> bool {
        !matches!(
            self,
            Method::DvdPlusRw | Method::DvdRwOverwrite | Method::BdRe
        )
    }
}

/// What must happen to the medium before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preparation {
    /// Nothing: the medium is ready.
    None,
    /// Minimal BLANK of a CD-RW or DVD-RW that holds data (allowed by `erase`).
    BlankMinimal,
    /// FORMAT UNIT with this descriptor (blank DVD+RW, unformatted BD-RE, BD-R with spares).
    Format(FormatUnit),
    /// Restart a suspended DVD+RW background format.
    RestartBackgroundFormat(FormatUnit),
}

/// What [`Drive::burn`] will do: decided by [`Drive::plan_burn`] from the medium.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnPlan {
    /// The medium.
    pub profile: Profile,
    /// How it is written.
    pub method: Method,
    /// What happens first.
    pub preparation: Preparation,
    /// The disc holds data that this burn will erase or overwrite (only with `erase`).
    pub erases_data: bool,
    /// First block written.
    pub start_lba: u32,
    /// The image, in 2048-byte blocks.
    pub image_blocks: u64,
    /// Blocks written: the image padded with zeros to whole write units (and to 300 blocks
    /// on CD, the shortest track).
    pub written_blocks: u64,
    /// Blocks free for this burn.
    pub capacity_blocks: u64,
    /// Blocks per WRITE command.
    pub write_unit_blocks: u32,
    /// The write speed that will be asked for (kB/s), when the drive listed its speeds.
    pub speed_kbytes_per_sec: Option<u32>,
    /// Finalize (from the options).
    pub finalize: bool,
    /// The track whose next writable address a sequential burn follows.
    pub track: TrackAddress,
    /// Things worth telling the person (fallbacks taken while looking at the medium).
    pub notes: Vec<String>,
}

impl BurnPlan {
    /// The medium family.
    pub fn family(&self) -> MediaFamily {
        self.profile.family().unwrap_or(MediaFamily::Dvd)
    }
}

/// The stage a burn is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurnPhase {
    /// Blanking a rewritable disc.
    Blanking,
    /// Formatting (DVD+RW, BD-RE, BD-R with spares).
    Formatting,
    /// Writing the image.
    Writing,
    /// Waiting for the drive to write out its cache.
    Synchronizing,
    /// Closing the track and session, or finalizing.
    Closing,
}

impl fmt::Display for BurnPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BurnPhase::Blanking => "blanking",
            BurnPhase::Formatting => "formatting",
            BurnPhase::Writing => "writing",
            BurnPhase::Synchronizing => "flushing the drive's cache",
            BurnPhase::Closing => "closing the disc",
        })
    }
}

/// How full the drive's own buffer is (READ BUFFER CAPACITY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriveBufferFill {
    /// Bytes waiting to be burnt.
    pub used: u64,
    /// The buffer's size.
    pub size: u64,
}

/// Where a burn stands while writing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteProgress {
    /// Bytes written so far (padding included).
    pub written_bytes: u64,
    /// Bytes the burn writes in all.
    pub total_bytes: u64,
    /// Recent write speed.
    pub bytes_per_sec: f64,
    /// The same as a multiple of 1x for the medium.
    pub speed_times: f64,
    /// The host-side ring buffer, when the image comes through one.
    pub host_buffer: Option<RingFill>,
    /// The drive's buffer, when the drive reports it.
    pub drive_buffer: Option<DriveBufferFill>,
    /// Time left at the recent speed.
    pub eta: Option<Duration>,
}

/// What a burn reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum BurnEvent {
    /// A new stage began.
    Phase(BurnPhase),
    /// Writing progress (a few times a second).
    Progress(WriteProgress),
    /// A long operation (format, blank, flush, close) is still running; `fraction` is the
    /// drive's own progress indication when it gives one.
    Waiting {
        /// The operation.
        phase: BurnPhase,
        /// 0.0 to 1.0.
        fraction: Option<f64>,
    },
    /// Something worth telling: a fallback taken, a speed chosen.
    Note(String),
}

/// What a finished burn did.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnReport {
    /// The plan that was carried out (its method is the one used: a DVD-RW that is blanked
    /// first is planned as disc at once from the start).
    pub plan: BurnPlan,
    /// Time spent writing (not preparing or closing).
    pub writing_time: Duration,
    /// Time of the whole burn.
    pub total_time: Duration,
    /// WRITE commands the drive answered "long write in progress" (it was full, we waited).
    pub drive_busy_waits: u64,
    /// WRITE commands resent after an error that was safe to retry.
    pub retried_writes: u64,
    /// The emptiest the host ring buffer got while writing, when known.
    pub lowest_host_buffer: Option<RingFill>,
    /// Notes gathered on the way (fallbacks taken).
    pub notes: Vec<String>,
}

/// Where the image bytes come from: anything readable, plus its buffer fill when it has one.
pub trait ImageSource: Read {
    /// How full the source's buffer is, if it is buffered.
    fn buffer_fill(&self) -> Option<RingFill> {
        None
    }

    /// Waits, at most `limit`, until the source's buffer is full or its producer is done,
    /// so the drive starts with everything the buffer can give. Unbuffered sources return
    /// at once.
    fn prefill(&mut self, limit: Duration) {
        let _ = limit;
    }
}

impl ImageSource for RingReader {
    fn buffer_fill(&self) -> Option<RingFill> {
        Some(self.fill())
    }

    fn prefill(&mut self, limit: Duration) {
        self.wait_until_full(limit);
    }
}

impl ImageSource for std::fs::File {}

impl<B: AsRef<[u8]>> ImageSource for io::Cursor<B> {}

impl<S: ImageSource + ?Sized> ImageSource for &mut S {
    fn buffer_fill(&self) -> Option<RingFill> {
        (**self).buffer_fill()
    }

    fn prefill(&mut self, limit: Duration) {
        (**self).prefill(limit);
    }
}

/// What the disc is like after a failed burn, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscAfterFailure {
    /// Nothing was written.
    Untouched,
    /// Write-once medium with part of the image: it cannot be used for this backup.
    Spoilt,
    /// Rewritable medium: burn it again.
    Rewritable,
}

impl fmt::Display for DiscAfterFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiscAfterFailure::Untouched => "nothing was written to the disc",
            DiscAfterFailure::Spoilt => {
                "the disc holds part of the image and cannot be used for this backup: use a new disc (`burnstation media` shows what it holds)"
            }
            DiscAfterFailure::Rewritable => {
                "the disc is rewritable: it can be burnt again (with erase allowed)"
            }
        })
    }
}

/// Why a burn could not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum BurnError {
    /// Asking the drive failed (not ready, no disc, a query failed).
    #[error(transparent)]
    Drive(#[from] DriveError),
    /// A read-only disc: pressed, or a finalized recordable disc that the drive reports as
    /// ROM (tgt does, and so do drives for a DVD+R whose book type says DVD-ROM). The
    /// volunteer holds a disc labelled DVD+R, so the message leads with what matters: it
    /// already holds data.
    #[error(
        "the disc in {device} already holds data and cannot be written (the drive reports a {profile}: a finalized or pressed disc): insert a blank DVD+R, DVD-R, BD-R or CD-R"
    )]
    ReadOnly {
        /// The drive.
        device: String,
        /// The medium (CD-ROM, DVD-ROM or BD-ROM).
        profile: Profile,
    },
    /// A medium of no family the station knows, which it cannot write.
    #[error(
        "the disc in {device} is a {profile}, which cannot be written: insert a blank DVD+R, DVD-R, BD-R or CD-R"
    )]
    NotWritable {
        /// The drive.
        device: String,
        /// The medium.
        profile: Profile,
    },
    /// The station does not burn this kind of medium.
    #[error("the station does not burn {profile} discs: use DVD±R, DVD±RW, BD-R, BD-RE or CD-R/RW")]
    UnsupportedMedium {
        /// The medium.
        profile: Profile,
    },
    /// The drive cannot write this medium.
    #[error(
        "{device} cannot write {profile} discs (it lacks the write feature): use a medium the drive can burn"
    )]
    DriveCannotWrite {
        /// The drive.
        device: String,
        /// The medium.
        profile: Profile,
    },
    /// A write-once disc that already holds data.
    #[error(
        "this {profile} already holds data ({sessions} closed session(s)): the station burns only blank write-once discs, insert a blank disc"
    )]
    NotBlank {
        /// The medium.
        profile: Profile,
        /// Closed sessions on it.
        sessions: u16,
    },
    /// A finalized write-once disc.
    #[error("this {profile} is finalized and cannot take more data: insert a blank disc")]
    Finalized {
        /// The medium.
        profile: Profile,
    },
    /// A write-once disc left open by a burn that did not finish.
    #[error("{0}")]
    Interrupted(InterruptedDisc),
    /// A rewritable disc holding data, and erasing was not allowed.
    #[error(
        "this {profile} holds data: burning would erase it. Allow erasing (burn --erase, or the erase button) or insert a blank disc"
    )]
    HoldsData {
        /// The medium.
        profile: Profile,
    },
    /// The image does not fit.
    #[error("the image needs {needed} blocks ({} MB) but this {profile} has room for {free} ({} MB): use a larger medium or a smaller tree", .needed * BLOCK_SIZE as u64 / 1_000_000, .free * BLOCK_SIZE as u64 / 1_000_000)]
    TooLarge {
        /// Blocks the burn writes.
        needed: u64,
        /// Blocks free.
        free: u64,
        /// The medium.
        profile: Profile,
    },
    /// A DVD-R/-RW the drive can write neither incrementally nor disc at once.
    #[error(
        "{device} offers no way to write this {profile} (neither incremental recording nor disc at once): try another drive or medium"
    )]
    NoWriteMethod {
        /// The drive.
        device: String,
        /// The medium.
        profile: Profile,
    },
    /// The image could not be produced or read.
    #[error("the image could not be read: {source}; {after}")]
    Source {
        /// What went wrong (names the file when the image is produced from a tree).
        #[source]
        source: io::Error,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// The drive refused to write a block.
    #[error("{device}: writing block {lba} failed: {source}; {after}")]
    WriteFailed {
        /// The drive.
        device: String,
        /// The first block of the failed WRITE.
        lba: u64,
        /// What the drive said.
        #[source]
        source: CommandError,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// The disc went away during the burn.
    #[error(
        "{device}: the disc was removed or the tray opened during the burn (at block {lba}); {after}"
    )]
    MediumRemoved {
        /// The drive.
        device: String,
        /// Where writing was.
        lba: u64,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// The drive stopped answering.
    #[error("{device} stopped answering while {during}; {recovery}; {after}")]
    DriveHung {
        /// The drive.
        device: String,
        /// What it was doing.
        during: String,
        /// What recovery achieved.
        recovery: String,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// The drive said "busy" for too long.
    #[error("{device} kept saying it is busy at block {lba} for {} s: it appears stuck. Unplug it and plug it in again; {after}", .waited.as_secs())]
    Stuck {
        /// The drive.
        device: String,
        /// Where writing was.
        lba: u64,
        /// How long we waited.
        waited: Duration,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// `finalize` was asked for a disc that is not an interrupted burn.
    #[error("this {profile} is not an interrupted burn: there is nothing to finalize")]
    NothingToFinalize {
        /// The medium.
        profile: Profile,
    },
    /// The burn was cancelled (between two WRITEs, after the drive burnt what it had
    /// taken).
    #[error(
        "the burn was cancelled between two writes, after {written_blocks} of {total_blocks} blocks; {after}"
    )]
    Cancelled {
        /// Blocks written before stopping.
        written_blocks: u64,
        /// Blocks the burn would have written.
        total_blocks: u64,
        /// The disc's state.
        after: DiscAfterFailure,
    },
    /// A step of the sequence (format, blank, reserve, flush, close) failed.
    #[error("{device}: {step} failed: {source}; {after}")]
    Step {
        /// The drive.
        device: String,
        /// The step.
        step: &'static str,
        /// What the drive said.
        #[source]
        source: CommandError,
        /// The disc's state.
        after: DiscAfterFailure,
    },
}

impl BurnError {
    /// The image source failed after the drive took every byte `plan` meant to write (a file
    /// changed while it was read, say): the disc holds a wrong image and must not count as
    /// good. A write-once disc is spoilt by it; a rewritable one can be burnt again.
    pub fn source_failed_after_writing(plan: &BurnPlan, source: io::Error) -> BurnError {
        BurnError::Source {
            source,
            after: if plan.profile.is_write_once() {
                DiscAfterFailure::Spoilt
            } else {
                DiscAfterFailure::Rewritable
            },
        }
    }

    /// True when the burn stopped because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, BurnError::Cancelled { .. })
    }

    /// True when the disc was not touched (a refusal before the first write), so the
    /// person can simply fix the cause and try again.
    pub fn disc_untouched(&self) -> bool {
        match self {
            BurnError::Source { after, .. }
            | BurnError::WriteFailed { after, .. }
            | BurnError::MediumRemoved { after, .. }
            | BurnError::DriveHung { after, .. }
            | BurnError::Stuck { after, .. }
            | BurnError::Cancelled { after, .. }
            | BurnError::Step { after, .. } => *after == DiscAfterFailure::Untouched,
            _ => true,
        }
    }
}

impl<T: Transport> Drive<T> {
    /// Looks at the medium and decides how an image of `image_blocks` blocks would be
    /// burnt, without changing anything. Refuses (with a sentence saying what to do) a
    /// medium that cannot or may not be written.
    pub fn plan_burn(
        &mut self,
        image_blocks: u64,
        options: &BurnOptions,
    ) -> Result<BurnPlan, BurnError> {
        plan::plan(self, image_blocks, options)
    }

    /// Carries out `plan`, reading exactly `plan.image_blocks` × 2048 bytes from `source`.
    /// Progress goes to `events`; `cancel` is checked between WRITE commands (once closing
    /// has begun it runs to the end, since stopping then would only spoil the disc).
    pub fn burn(
        &mut self,
        plan: &BurnPlan,
        source: &mut dyn ImageSource,
        events: &mut dyn FnMut(BurnEvent),
        cancel: &Cancel,
    ) -> Result<BurnReport, BurnError> {
        write::burn(self, plan, source, events, cancel)
    }

    /// Closes a write-once disc left open by an interrupted burn, as it is, so that it no
    /// longer looks like a disc in progress (it is then finished with, and should be
    /// discarded). Only for discs that [`interrupted_burn`] reports.
    pub fn finalize_as_is(&mut self, events: &mut dyn FnMut(BurnEvent)) -> Result<(), BurnError> {
        write::finalize_as_is(self, events)
    }
}

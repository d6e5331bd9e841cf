//! Blanking and formatting: what each medium accepts, what it costs, and the state it
//! leaves, background formats of DVD+RW and BD-RE included (`mmc.md` 1.12, 2.3).

use std::io;

use crate::mmc::Profile;
use crate::sim::pages::WriteParameters;
use crate::sim::sense::{self, Sense};

use super::{BackgroundFormat, FormatJob, FormatState, Kind, Medium, Track, TrackMode, WorkBlocks};

impl Medium {
    /// Checks a BLANK of `blank_type` and returns the work it costs.
    pub(crate) fn check_blank(&self, blank_type: u8) -> Result<WorkBlocks, Sense> {
        if !self.is_erasable() {
            // R7: BLANK on BD-R and CD-R answers 5/30/06.
            return Err(sense::CANNOT_FORMAT_MEDIUM);
        }
        let raw = self.state.raw_capacity as u64;
        match (self.profile, blank_type) {
            (Profile::CdRw | Profile::DvdRwSequential | Profile::DvdRwRestrictedOverwrite, 0) => {
                Ok(raw)
            }
            (Profile::CdRw | Profile::DvdRwSequential, 1) => Ok(raw / 50),
            _ => Err(sense::INVALID_FIELD_IN_CDB),
        }
    }

    /// Blanks the medium (full or minimal, as checked by [`check_blank`](Self::check_blank)).
    pub(crate) fn blank(&mut self, full: bool) -> io::Result<()> {
        let profile = match self.profile {
            Profile::DvdRwRestrictedOverwrite => Profile::DvdRwSequential,
            other => other,
        };
        self.reset_blank(profile);
        self.state.minimally_blanked = !full && profile == Profile::DvdRwSequential;
        self.file.set_len(0)
    }

    pub(super) fn reset_blank(&mut self, profile: Profile) {
        self.set_profile(profile);
        let mode = self.mode_for(&WriteParameters::default());
        self.state.tracks = if self.is_sequential() {
            vec![Track::new(1, 1, 0, mode)]
        } else {
            Vec::new()
        };
        self.state.closed_sessions = 0;
        self.state.finalized = false;
        self.state.format = FormatState::Unformatted;
    }

    pub(super) fn set_profile(&mut self, profile: Profile) {
        self.profile = profile;
        self.state.profile = profile.token().unwrap_or_default().to_string();
        if let Some(kind) = Kind::of(profile) {
            self.kind = kind;
        }
    }

    /// Checks a FORMAT UNIT descriptor (`mmc.md` 1.12) and returns the job and its work.
    pub(crate) fn check_format(
        &self,
        format_type: u8,
        sub_type: u8,
        blocks: u32,
        tdp: u32,
    ) -> Result<(FormatJob, WorkBlocks), Sense> {
        let raw = self.state.raw_capacity;
        let bad = sense::INVALID_FIELD_IN_PARAMETER_LIST;
        let quick = raw as u64 / 100;
        let job = |capacity, intermediate, erase| FormatJob::Formatted {
            capacity,
            format_type,
            sub_type,
            intermediate,
            erase,
        };
        match self.kind {
            Kind::DvdPlusRw => {
                if format_type != 0x26 || (blocks != u32::MAX && blocks > raw) {
                    return Err(bad);
                }
                let restart = tdp & 1 == 1;
                Ok((FormatJob::PlusRwBackground { restart }, 0))
            }
            Kind::DvdMinus {
                rewritable: true, ..
            } => {
                let max = self.dvd_rw_formatted_capacity();
                if blocks > max {
                    return Err(bad);
                }
                let size = if blocks == 0 { max } else { blocks / 16 * 16 };
                if size == 0 {
                    return Err(bad);
                }
                match format_type {
                    0x00 | 0x10 => Ok((job(size, false, true), size as u64)),
                    0x15 => Ok((job(max, true, true), max as u64 / 50)),
                    0x13 if self.profile == Profile::DvdRwRestrictedOverwrite => {
                        Ok((job(self.capacity(), true, false), max as u64 / 50))
                    }
                    _ => Err(bad),
                }
            }
            Kind::BdRe => {
                let (default, _, small) = self.bd_sizes();
                let size = |blocks: u32| {
                    if blocks == 0 {
                        default
                    } else {
                        blocks / 32 * 32
                    }
                };
                match format_type {
                    0x00 if blocks <= small => Ok((job(size(blocks), false, true), quick)),
                    // PI BDR-203: less than ISA0's 4096 clusters of spare is 5/26/00.
                    0x30 if blocks <= small && blocks >= raw / 2 => {
                        let capacity = size(blocks);
                        let work = match sub_type {
                            0b10 => capacity as u64 * 2,
                            0b11 => capacity as u64 / 10,
                            _ => quick,
                        };
                        Ok((job(capacity, false, true), work))
                    }
                    0x31 if blocks == 0 || blocks == raw => Ok((job(raw, false, true), quick)),
                    _ => Err(bad),
                }
            }
            Kind::BdR => {
                if self.is_formatted() || !self.nothing_written() {
                    return Err(sense::CANNOT_FORMAT_MEDIUM);
                }
                let (default, _, small) = self.bd_sizes();
                match (format_type, sub_type) {
                    // The drive ignores the block count of 00h (PI); RRM is not emulated.
                    (0x00, 0b00 | 0b01) => Ok((job(default, false, false), quick)),
                    (0x32, 0b00 | 0b01) if blocks >= raw / 2 && blocks <= small => {
                        Ok((job(blocks / 32 * 32, false, false), quick))
                    }
                    _ => Err(bad),
                }
            }
            Kind::Cd { rewritable: true } => Err(bad),
            _ => Err(sense::CANNOT_FORMAT_MEDIUM),
        }
    }

    /// Applies a checked FORMAT UNIT job.
    pub(crate) fn apply_format(&mut self, job: FormatJob) -> io::Result<()> {
        match job {
            FormatJob::PlusRwBackground { restart } => {
                self.state.format = match (self.state.format.clone(), restart) {
                    (
                        FormatState::Background {
                            done,
                            status: BackgroundFormat::Suspended | BackgroundFormat::Running,
                        },
                        true,
                    ) => FormatState::Background {
                        done,
                        status: BackgroundFormat::Running,
                    },
                    (complete @ FormatState::Background { .. }, true) => complete,
                    (_, _) => {
                        self.file.set_len(0)?;
                        FormatState::Background {
                            done: 0,
                            status: BackgroundFormat::Running,
                        }
                    }
                };
            }
            FormatJob::Formatted {
                capacity,
                format_type,
                sub_type,
                intermediate,
                erase,
            } => {
                if erase {
                    self.file.set_len(0)?;
                }
                if self.kind
                    == (Kind::DvdMinus {
                        rewritable: true,
                        dual_layer: false,
                    })
                {
                    self.set_profile(Profile::DvdRwRestrictedOverwrite);
                    self.state.tracks.clear();
                    self.state.closed_sessions = 0;
                    self.state.finalized = false;
                    self.state.minimally_blanked = false;
                }
                self.state.format = FormatState::Formatted {
                    capacity,
                    format_type,
                    sub_type,
                    intermediate,
                };
                if self.kind == Kind::BdR {
                    // The formatted capacity bounds the invisible track.
                    self.reset_tracks_keep_format();
                }
            }
        }
        Ok(())
    }

    pub(super) fn reset_tracks_keep_format(&mut self) {
        self.state.tracks = vec![Track::new(1, 1, 0, TrackMode::Fragment)];
        self.state.closed_sessions = 0;
        self.state.finalized = false;
    }

    /// Moves a DVD+RW background format on to `done` blocks (complete at the capacity).
    pub(crate) fn set_background_progress(&mut self, done: u32) {
        let capacity = self.capacity();
        if let FormatState::Background { done: d, status } = &mut self.state.format {
            *d = done.min(capacity).max(*d);
            if *d >= capacity {
                *status = BackgroundFormat::Complete;
            }
        }
    }

    /// Stops a running background format (CLOSE 000b/010b on DVD+RW).
    pub(crate) fn suspend_background_format(&mut self) {
        if let FormatState::Background { status, .. } = &mut self.state.format
            && *status == BackgroundFormat::Running
        {
            *status = BackgroundFormat::Suspended;
        }
    }

    /// DVD-RW restricted overwrite: CLOSE SESSION ends the intermediate state of a quick
    /// format.
    pub(crate) fn finish_quick_format(&mut self) {
        if let FormatState::Formatted { intermediate, .. } = &mut self.state.format {
            *intermediate = false;
        }
    }
}

//! What the disc says about itself: disc status, sessions and tracks as READ DISC
//! INFORMATION, READ TRACK INFORMATION and READ CAPACITY report them, the format capacities
//! it offers, and what a read of unwritten or damaged sectors returns (`mmc.md` 2.2-2.4).

use crate::mmc::{MediaFamily, Profile};
use crate::sim::sense::{self, Sense};

use super::{
    CD_RUN_OUT, CapacityType, DiscStatus, FormatOffer, FormatState, Kind, Medium, SessionState,
    Track, TrackMode, TrackView,
};

impl Medium {
    /// Number of the session that is open (or would be).
    pub(super) fn open_session(&self) -> u32 {
        self.state.closed_sessions + 1
    }

    pub(super) fn open_session_tracks(&self) -> impl Iterator<Item = &Track> {
        let open = self.open_session();
        self.state.tracks.iter().filter(move |t| t.session == open)
    }

    pub(super) fn nothing_written(&self) -> bool {
        self.state
            .tracks
            .iter()
            .all(|t| t.recorded == 0 && t.reserved.is_none())
            && self.state.closed_sessions == 0
    }

    /// 51h byte 2: disc status and state of the last session.
    pub(crate) fn disc_status(&self) -> (DiscStatus, SessionState) {
        if self.kind == Kind::Rom || self.state.finalized {
            return (DiscStatus::Complete, SessionState::Complete);
        }
        if self.is_overwritable() {
            return if self.is_formatted() {
                (DiscStatus::Complete, SessionState::Complete)
            } else {
                (DiscStatus::Blank, SessionState::Empty)
            };
        }
        let open_has_data = self
            .open_session_tracks()
            .any(|t| t.recorded > 0 || t.reserved.is_some() || t.is_closed());
        if open_has_data {
            (DiscStatus::Incomplete, SessionState::Incomplete)
        } else if self.state.closed_sessions > 0 || self.is_formatted() {
            // A formatted, unwritten BD-R reports "appendable, empty session" (`mmc.md` 2.2).
            (DiscStatus::Incomplete, SessionState::Empty)
        } else {
            (DiscStatus::Blank, SessionState::Empty)
        }
    }

    /// Sessions on the disc, counting the open or empty one.
    pub(crate) fn session_count(&self) -> u32 {
        if !self.is_sequential() {
            return 1;
        }
        self.state.closed_sessions + u32::from(!self.state.finalized)
    }

    /// First and last track number of the last session.
    pub(crate) fn last_session_tracks(&self) -> (u32, u32) {
        if !self.is_sequential() {
            return (1, 1);
        }
        let last = self.session_count();
        let mut numbers = self
            .state
            .tracks
            .iter()
            .filter(|t| t.session == last)
            .map(|t| t.number);
        let first = numbers.next();
        let final_number = numbers.next_back().or(first);
        match (first, final_number) {
            (Some(f), Some(l)) => (f, l),
            _ => {
                let next = self.state.tracks.last().map_or(1, |t| t.number + 1);
                (next, next)
            }
        }
    }

    /// Start LBA of the last (open or empty) session.
    pub(crate) fn last_session_start(&self) -> u32 {
        let (first, _) = self.last_session_tracks();
        self.track_view(first).map_or(0, |t| t.start)
    }

    pub(super) fn track_end(&self, track: &Track) -> u32 {
        if let Some(size) = track.closed_size {
            track.start + size
        } else if let Some(size) = track.reserved {
            track.start + size
        } else {
            self.capacity()
        }
    }

    pub(super) fn track_nwa(&self, track: &Track) -> Option<u32> {
        if track.is_closed() || track.damaged || self.state.finalized {
            return None;
        }
        let nwa = track.start + track.recorded;
        (nwa < self.track_end(track)).then_some(nwa)
    }

    /// What 52h reports for track `number`.
    pub(crate) fn track_view(&self, number: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (number == 1).then(|| self.whole_disc_track());
        }
        let track = self.state.tracks.iter().find(|t| t.number == number)?;
        Some(self.view_of(track))
    }

    /// The track holding `lba`, for 52h address type 00b.
    pub(crate) fn track_at(&self, lba: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (lba < self.capacity()).then(|| self.whole_disc_track());
        }
        self.state
            .tracks
            .iter()
            .find(|t| t.start <= lba && lba < self.track_end(t))
            .map(|t| self.view_of(t))
    }

    /// First track of session `session`, for 52h address type 10b.
    pub(crate) fn first_track_of_session(&self, session: u32) -> Option<TrackView> {
        if !self.is_sequential() {
            return (session == 1).then(|| self.whole_disc_track());
        }
        self.state
            .tracks
            .iter()
            .find(|t| t.session == session)
            .map(|t| self.view_of(t))
    }

    /// The invisible (or incomplete) track, for 52h track number FFh on CD and DVD+R.
    pub(crate) fn invisible_track(&self) -> Option<TrackView> {
        self.state
            .tracks
            .last()
            .filter(|t| !t.is_closed())
            .map(|t| self.view_of(t))
    }

    pub(super) fn whole_disc_track(&self) -> TrackView {
        let capacity = self.capacity();
        let formatted = self.is_formatted() || self.kind == Kind::Rom;
        let (packet, fixed_packet, packet_size) = match self.profile {
            Profile::DvdPlusRw => (true, false, 0),
            Profile::DvdRwRestrictedOverwrite => (true, true, 16),
            Profile::BdRe if formatted => (true, true, 32),
            _ => (false, false, 0),
        };
        TrackView {
            number: 1,
            session: 1,
            start: 0,
            size: capacity,
            next_writable: None,
            free: if formatted { 0 } else { capacity },
            last_recorded: None,
            reserved: false,
            // R1: a blank DVD+RW is an "invisible incremental" track (Blank=1, Packet=1).
            blank: !formatted,
            packet: packet || (self.profile == Profile::DvdPlusRw && !formatted),
            fixed_packet,
            packet_size,
            damaged: false,
            track_mode: 4,
        }
    }

    pub(super) fn view_of(&self, track: &Track) -> TrackView {
        let end = self.track_end(track);
        let next_writable = self.track_nwa(track);
        let incremental = track.mode == TrackMode::Incremental;
        let blank = track.recorded == 0 && !track.is_closed();
        // Blank DVD-R/-RW where incremental writing is possible: "invisible incremental"
        // (PI R8 table, 0110b); written incremental tracks carry fixed 16-block packets.
        let packet = incremental && (track.recorded > 0 || self.incremental_possible());
        let fixed_packet = incremental && track.recorded > 0 && self.family() == MediaFamily::Dvd;
        let plus = matches!(self.kind, Kind::DvdPlusR { .. });
        TrackView {
            number: track.number,
            session: track.session,
            start: track.start,
            size: end - track.start,
            next_writable,
            free: next_writable.map_or(0, |nwa| end - nwa),
            last_recorded: (track.recorded > 0 && !plus).then(|| track.start + track.recorded - 1),
            // RT stays set on a written CD reserved track (PI R8: 100xb); a finished DVD-R
            // DAO track is plain "complete" (0000b).
            reserved: track.reserved.is_some()
                && (!track.is_closed() || matches!(self.kind, Kind::Cd { .. })),
            blank,
            packet,
            fixed_packet,
            packet_size: if fixed_packet { 16 } else { 0 },
            damaged: track.damaged,
            track_mode: if incremental { 5 } else { 4 },
        }
    }

    /// READ CAPACITY's last LBA: 0 without a complete session, the end of the last closed
    /// session otherwise; the whole formatted area of overwritable media (`mmc.md` 1.4).
    pub(crate) fn read_capacity_last_lba(&self) -> u32 {
        if self.kind == Kind::Rom {
            return self.capacity().saturating_sub(1);
        }
        if self.is_overwritable() {
            return if self.is_formatted() {
                self.capacity().saturating_sub(1)
            } else {
                0
            };
        }
        self.state
            .tracks
            .iter()
            .filter(|t| t.session <= self.state.closed_sessions)
            .map(|t| self.track_end(t))
            .max()
            .map_or(0, |end| end.saturating_sub(1))
    }

    /// The tracks of closed sessions, for the fabricated TOC: (number, session, start).
    pub(crate) fn closed_tracks(&self) -> Vec<(u32, u32, u32)> {
        if !self.is_sequential() {
            return if self.is_formatted() || self.kind == Kind::Rom {
                vec![(1, 1, 0)]
            } else {
                Vec::new()
            };
        }
        self.state
            .tracks
            .iter()
            .filter(|t| t.session <= self.state.closed_sessions)
            .map(|t| (t.number, t.session, t.start))
            .collect()
    }

    /// The lead-out start after the last closed session (TOC track AAh).
    pub(crate) fn closed_area_end(&self) -> u32 {
        if !self.is_sequential() {
            return self.capacity();
        }
        self.read_capacity_last_lba() + 1
    }

    pub(crate) fn complete_sessions(&self) -> u32 {
        if self.is_sequential() {
            self.state.closed_sessions
        } else {
            u32::from(self.is_formatted() || self.kind == Kind::Rom)
        }
    }

    /// READ FORMAT CAPACITIES: the current/maximum descriptor and the formattable ones.
    pub(crate) fn format_capacities(&self) -> ((u32, CapacityType), Vec<FormatOffer>) {
        let raw = self.state.raw_capacity;
        let (disc, _) = self.disc_status();
        let blank = disc == DiscStatus::Blank;
        let current_plain = if blank {
            (raw, CapacityType::Unformatted)
        } else {
            (self.capacity(), CapacityType::Formatted)
        };
        match self.profile {
            Profile::DvdPlusRw => (current_plain, vec![(raw, 0x26, 0)]),
            Profile::DvdRwSequential => {
                let size = self.dvd_rw_formatted_capacity();
                (
                    current_plain,
                    vec![(size, 0x00, 0x800), (size, 0x10, 16), (size, 0x15, 16)],
                )
            }
            Profile::DvdRwRestrictedOverwrite => {
                let size = self.dvd_rw_formatted_capacity();
                let intermediate = matches!(
                    self.state.format,
                    FormatState::Formatted {
                        intermediate: true,
                        ..
                    }
                );
                if intermediate {
                    (
                        (self.capacity(), CapacityType::Unknown),
                        vec![(size, 0x00, 0x800), (size, 0x10, 16), (size, 0x15, 16)],
                    )
                } else {
                    (
                        (self.capacity(), CapacityType::Formatted),
                        vec![
                            (size, 0x00, 0x800),
                            (size, 0x10, 16),
                            (0, 0x13, 16),
                            (size, 0x15, 16),
                        ],
                    )
                }
            }
            Profile::BdRe => {
                let (default, large, small) = self.bd_sizes();
                let current = if self.is_formatted() {
                    (self.capacity(), CapacityType::Formatted)
                } else {
                    (raw, CapacityType::Unformatted)
                };
                (
                    current,
                    vec![
                        (default, 0x00, 0x3000),
                        (default, 0x30, 0x3000),
                        (large, 0x30, 0x5000),
                        (small, 0x30, 0x1000),
                        (raw, 0x31, 0x800),
                    ],
                )
            }
            Profile::BdRSequential if self.is_formatted() => {
                ((self.capacity(), CapacityType::Formatted), Vec::new())
            }
            Profile::BdRSequential if blank => {
                let (default, large, small) = self.bd_sizes();
                (
                    current_plain,
                    vec![
                        (default, 0x00, 0x3000),
                        (default, 0x32, 0),
                        (large, 0x32, 0),
                        (small, 0x32, 0),
                    ],
                )
            }
            _ => (current_plain, Vec::new()),
        }
    }

    /// Checks a READ of `blocks` at `lba`: returns how many blocks from `lba` read, and the
    /// condition of the first that does not.
    ///
    /// Unwritten sectors fail as one real drive per family does (`mmc.md` 2.4 lists several):
    /// CD answers 8/00/00 BLANK CHECK (and 5/64/00 for a TAO track's run-out blocks), DVD and
    /// BD answer 5/21/00 like a DVD+R in DiscImageCreator#45. Formatted overwritable media read
    /// everywhere (the format wrote every sector).
    ///
    /// A READ that runs past the capacity reads up to it and fails there with 5/21/00; one
    /// that starts past it fails at once (and is not re-checked: `lba` may be anywhere).
    pub(crate) fn check_read(&self, lba: u32, blocks: u32) -> (u32, Option<Sense>) {
        let in_range = self.capacity().saturating_sub(lba).min(blocks);
        let (readable, sense) = self.check_recorded(lba, in_range);
        if in_range < blocks && sense.is_none() {
            return (readable, Some(sense::LBA_OUT_OF_RANGE.at(lba + in_range)));
        }
        (readable, sense)
    }

    /// [`Medium::check_read`] for blocks that all lie within the capacity.
    fn check_recorded(&self, lba: u32, blocks: u32) -> (u32, Option<Sense>) {
        let end = lba as u64 + blocks as u64;
        if blocks == 0 {
            return (0, None);
        }
        if self.kind == Kind::Rom || (self.is_overwritable() && self.is_formatted()) {
            return (blocks, None);
        }
        let unwritten = if matches!(self.kind, Kind::Cd { .. }) {
            sense::BLANK_CHECK
        } else {
            sense::LBA_OUT_OF_RANGE
        };
        if self.is_overwritable() {
            return (0, Some(unwritten.at(lba)));
        }
        let mut at = lba;
        while (at as u64) < end {
            let Some(track) = self
                .state
                .tracks
                .iter()
                .find(|t| t.start <= at && at < self.track_end(t))
            else {
                return (at - lba, Some(unwritten.at(at)));
            };
            let readable_end = match track.closed_size {
                Some(size) if matches!(self.kind, Kind::Cd { .. }) => {
                    let data_end = track.start + size - CD_RUN_OUT;
                    if at >= data_end {
                        return (at - lba, Some(sense::ILLEGAL_MODE_FOR_TRACK.at(at)));
                    }
                    data_end
                }
                Some(size) => track.start + size,
                None => track.start + track.recorded,
            };
            if at >= readable_end {
                return (at - lba, Some(unwritten.at(at)));
            }
            at = readable_end.min(end as u32);
        }
        (blocks, None)
    }
}

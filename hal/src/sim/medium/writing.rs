//! Where a write goes and what it leaves: the alignment and next-writable-address rules
//! of each medium, reservations, and closing tracks and sessions (`mmc.md` 2.2, 2.3).

use crate::mmc::Profile;
use crate::sim::pages::{
    WRITE_TYPE_DAO, WRITE_TYPE_PACKET, WRITE_TYPE_SAO, WRITE_TYPE_TAO, WriteParameters,
};
use crate::sim::sense::{self, Sense};

use super::{
    CD_MIN_TRACK, CD_NEXT_TRACK_GAP, CD_RUN_OUT, DVD_PLUS_R_DL_MAX_SESSIONS,
    DVD_PLUS_R_DL_MIN_REMAINING, DVD_PLUS_R_MAX_SESSIONS, Kind, Medium, Track, TrackMode,
    WriteTarget,
};

impl Medium {
    /// Checks a WRITE of `blocks` at `lba` against the medium's rules and says where it goes.
    ///
    /// Alignment: DVD±R and DVD-RW take whole 16-block ECC blocks, BD-R whole 32-block
    /// clusters, BD-RE streaming writes whole clusters. A misaligned start is 5/21/02 (the
    /// address is not writable); a length that is not a whole unit is 5/24/00 (the transfer
    /// length field is invalid). Real drives either reject or pad (`mmc.md` 2.2); this one
    /// rejects, so a host that forgets to pad fails loudly.
    pub(crate) fn prepare_write(
        &self,
        lba: u32,
        blocks: u32,
        streaming: bool,
        params: &WriteParameters,
    ) -> Result<WriteTarget, Sense> {
        if self.kind == Kind::Rom {
            return Err(sense::CANNOT_WRITE_MEDIUM);
        }
        if self.state.finalized {
            return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
        }
        let end = lba as u64 + blocks as u64;
        if end > self.capacity() as u64 {
            return Err(sense::LBA_OUT_OF_RANGE.at(lba));
        }
        if self.is_overwritable() {
            let unit = match self.profile {
                Profile::DvdRwRestrictedOverwrite => 16,
                Profile::BdRe if streaming => 32,
                _ => 1,
            };
            if !self.is_formatted() {
                return Err(sense::MEDIUM_NOT_FORMATTED);
            }
            if !lba.is_multiple_of(unit) {
                return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
            }
            if !blocks.is_multiple_of(unit) {
                return Err(sense::INVALID_FIELD_IN_CDB);
            }
            return Ok(WriteTarget::Overwrite);
        }
        let write_type = params.write_type;
        match self.kind {
            Kind::DvdMinus { .. } => match write_type {
                WRITE_TYPE_PACKET => {
                    if !self.incremental_possible() || !params.dvd_incremental_ready() {
                        return Err(sense::ILLEGAL_MODE_FOR_TRACK);
                    }
                }
                WRITE_TYPE_DAO => {}
                _ => return Err(sense::ILLEGAL_MODE_FOR_TRACK),
            },
            Kind::Cd { .. } => match write_type {
                WRITE_TYPE_PACKET | WRITE_TYPE_TAO => {}
                // SAO needs SEND CUE SHEET first, which this drive does not implement.
                WRITE_TYPE_SAO => return Err(sense::COMMAND_SEQUENCE_ERROR),
                _ => return Err(sense::ILLEGAL_MODE_FOR_TRACK),
            },
            _ => {}
        }
        let unit = self.write_unit();
        if !blocks.is_multiple_of(unit) {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        let found = self
            .state
            .tracks
            .iter()
            .position(|t| self.track_nwa(t) == Some(lba));
        let Some(index) = found else {
            if self.bd_r_pow() && self.within_recorded(lba, blocks) {
                return Ok(WriteTarget::Overwrite);
            }
            return Err(sense::INVALID_ADDRESS_FOR_WRITE.at(lba));
        };
        let track = &self.state.tracks[index];
        if end > self.track_end(track) as u64 {
            return Err(sense::END_OF_USER_AREA.at(lba));
        }
        if let Kind::DvdMinus { .. } = self.kind {
            let dao_track = track.reserved.is_some() && track.mode == TrackMode::Dao;
            if (write_type == WRITE_TYPE_DAO) != dao_track {
                // DAO writes only into the DAO reservation, incremental never into it.
                return Err(sense::COMMAND_SEQUENCE_ERROR);
            }
        }
        Ok(WriteTarget::Append(index))
    }

    /// Checks a test WRITE (page 05h Test Write): the medium's rules at the NWA of the open
    /// track, for any address from it on.
    pub(crate) fn prepare_test_write(
        &self,
        lba: u32,
        blocks: u32,
        params: &WriteParameters,
    ) -> Result<(), Sense> {
        let nwa = self
            .state
            .tracks
            .iter()
            .rev()
            .find_map(|t| self.track_nwa(t))
            .filter(|nwa| *nwa <= lba)
            .ok_or(sense::INVALID_ADDRESS_FOR_WRITE.at(lba))?;
        if lba as u64 + blocks as u64 > self.capacity() as u64 {
            return Err(sense::LBA_OUT_OF_RANGE.at(lba));
        }
        self.prepare_write(nwa, blocks, false, params).map(|_| ())
    }

    pub(super) fn within_recorded(&self, lba: u32, blocks: u32) -> bool {
        self.state
            .tracks
            .iter()
            .any(|t| t.start <= lba && lba + blocks <= t.start + t.recorded)
    }

    /// Records that `blocks` were accepted for `target`.
    pub(crate) fn record(&mut self, target: WriteTarget, blocks: u32, params: &WriteParameters) {
        if let WriteTarget::Append(index) = target {
            let mode = self.mode_for(params);
            let track = &mut self.state.tracks[index];
            if track.recorded == 0 && track.reserved.is_none() {
                track.mode = mode;
            }
            track.recorded += blocks;
        }
    }

    /// Marks the track holding `lba` damaged after a write error there.
    pub(crate) fn damage_at(&mut self, lba: u32) {
        if !self.is_sequential() {
            return;
        }
        let capacity = self.capacity();
        for track in &mut self.state.tracks {
            let end = track
                .closed_size
                .or(track.reserved)
                .map_or(capacity, |s| track.start + s);
            if track.start <= lba && lba < end {
                track.damaged = true;
                track.recorded = lba - track.start;
            }
        }
    }

    pub(super) fn mode_for(&self, params: &WriteParameters) -> TrackMode {
        match self.kind {
            Kind::DvdMinus { .. } if params.write_type == WRITE_TYPE_DAO => TrackMode::Dao,
            Kind::DvdMinus { .. } => TrackMode::Incremental,
            Kind::Cd { .. } if params.write_type == WRITE_TYPE_PACKET => TrackMode::Incremental,
            Kind::Cd { .. } => TrackMode::Tao,
            _ => TrackMode::Fragment,
        }
    }

    /// RESERVE TRACK of `size` blocks on the invisible track.
    pub(crate) fn reserve(&mut self, size: u32, params: &WriteParameters) -> Result<(), Sense> {
        if !self.is_sequential() || self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        if size == 0 {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        let dao = matches!(self.kind, Kind::DvdMinus { .. }) && params.write_type == WRITE_TYPE_DAO;
        if dao && !self.nothing_written() {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let unit = self.write_unit();
        let size = size.div_ceil(unit) * unit;
        let capacity = self.capacity();
        let mode = if dao {
            TrackMode::Dao
        } else {
            self.mode_for(params)
        };
        let Some(track) = self.state.tracks.last_mut().filter(|t| t.is_invisible()) else {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        };
        if track.recorded > 0 {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        if track.start as u64 + size as u64 > capacity as u64 {
            return Err(sense::INVALID_FIELD_IN_CDB);
        }
        track.reserved = Some(size);
        track.mode = mode;
        let (number, session, next_start) = (track.number + 1, track.session, track.start + size);
        if next_start < capacity {
            let default_mode = self.mode_for(params);
            self.state
                .tracks
                .push(Track::new(number, session, next_start, default_mode));
        }
        Ok(())
    }

    /// CLOSE TRACK on `number` (FFh: the invisible track, valid on CD and DVD+R only).
    pub(crate) fn close_track(&mut self, number: u32) -> Result<(), Sense> {
        if self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let index = if number == 0xff {
            if !matches!(self.kind, Kind::Cd { .. } | Kind::DvdPlusR { .. }) {
                return Err(sense::INVALID_FIELD_IN_CDB);
            }
            self.state.tracks.iter().rposition(|t| !t.is_closed())
        } else {
            self.state.tracks.iter().position(|t| t.number == number)
        };
        let Some(index) = index else {
            return Err(sense::INVALID_FIELD_IN_CDB);
        };
        let track = &self.state.tracks[index];
        if track.session != self.open_session() || track.is_closed() {
            // Closing a closed track changes nothing.
            return Ok(());
        }
        if track.damaged {
            return Err(sense::WRITE_ERROR.at(track.start + track.recorded));
        }
        if track.recorded == 0 && track.reserved.is_none() {
            // A blank incomplete fragment: GOOD, nothing happens (PI R11).
            return Ok(());
        }
        self.seal_track(index);
        Ok(())
    }

    /// Closes track `index` and opens the next invisible track behind it.
    pub(super) fn seal_track(&mut self, index: usize) {
        let unit = self.write_unit();
        let is_cd = matches!(self.kind, Kind::Cd { .. });
        let capacity = self.capacity();
        let track = &mut self.state.tracks[index];
        let size = if let Some(reserved) = track.reserved {
            // The drive pads a reserved track to its reserved size.
            reserved
        } else if is_cd {
            track.recorded = track.recorded.max(CD_MIN_TRACK);
            track.recorded + CD_RUN_OUT
        } else {
            track.recorded.div_ceil(unit) * unit
        };
        track.closed_size = Some(size);
        let invisible_follows = track.reserved.is_none();
        let (number, session, end) = (track.number + 1, track.session, track.start + size);
        if invisible_follows {
            let start = if is_cd { end + CD_NEXT_TRACK_GAP } else { end };
            if start < capacity {
                let mode = track.mode;
                self.state
                    .tracks
                    .push(Track::new(number, session, start, mode));
            }
        }
    }

    /// CLOSE SESSION; with `finalize` the disc becomes complete. The multi-session bits of
    /// page 05h (CD, DVD-R) and the function code (DVD+R, BD-R) decide `finalize`.
    pub(crate) fn close_session(&mut self, finalize: bool) -> Result<(), Sense> {
        if self.state.finalized {
            return Err(sense::COMMAND_SEQUENCE_ERROR);
        }
        let open = self.open_session();
        // Reserved tracks written to their end count as complete.
        for index in 0..self.state.tracks.len() {
            let t = &self.state.tracks[index];
            if t.session == open && !t.is_closed() && t.reserved == Some(t.recorded) {
                self.seal_track(index);
            }
        }
        for t in self.open_session_tracks() {
            if t.is_closed() {
                continue;
            }
            if t.reserved.is_some() {
                return Err(sense::EMPTY_RESERVED_TRACK);
            }
            if t.recorded > 0 || t.damaged {
                return Err(sense::INCOMPLETE_TRACK_IN_SESSION);
            }
        }
        let has_tracks = self.open_session_tracks().any(|t| t.is_closed());
        if !has_tracks {
            if !finalize {
                return Ok(());
            }
            if self.state.closed_sessions == 0 {
                return Err(sense::COMMAND_SEQUENCE_ERROR);
            }
            self.state
                .tracks
                .retain(|t| t.session <= self.state.closed_sessions);
            self.state.finalized = true;
            return Ok(());
        }
        let first_session = self.state.closed_sessions == 0;
        self.state
            .tracks
            .retain(|t| t.session != open || t.is_closed());
        self.state.closed_sessions += 1;
        let end = self
            .state
            .tracks
            .iter()
            .map(|t| self.track_end(t))
            .max()
            .unwrap_or(0);
        let next_start = end as u64 + self.kind.session_gap(first_session) as u64;
        let capacity = self.capacity() as u64;
        let sessions_full = match self.kind {
            Kind::DvdPlusR { dual_layer: false } => {
                self.state.closed_sessions >= DVD_PLUS_R_MAX_SESSIONS
            }
            Kind::DvdPlusR { dual_layer: true } => {
                self.state.closed_sessions >= DVD_PLUS_R_DL_MAX_SESSIONS
                    || capacity.saturating_sub(end as u64) < DVD_PLUS_R_DL_MIN_REMAINING as u64
            }
            // DVD-R DL has no multi-session.
            Kind::DvdMinus {
                dual_layer: true, ..
            } => true,
            _ => false,
        };
        if finalize || sessions_full || next_start + self.write_unit() as u64 > capacity {
            self.state.finalized = true;
            return Ok(());
        }
        let number = self.state.tracks.last().map_or(1, |t| t.number + 1);
        let mode = self
            .state
            .tracks
            .last()
            .map_or(TrackMode::Fragment, |t| t.mode);
        let mode = if mode == TrackMode::Dao {
            TrackMode::Incremental
        } else {
            mode
        };
        self.state.tracks.push(Track::new(
            number,
            self.state.closed_sessions + 1,
            next_start as u32,
            mode,
        ));
        Ok(())
    }

    /// What SYNCHRONIZE CACHE completes: a CD TAO track is closed by it, and a DVD-R DAO
    /// recording written to the end of its reservation is closed and finalized (no CLOSE
    /// follows DAO, `mmc.md` 2.2). Returns true when the state changed.
    pub(crate) fn after_sync(&mut self, params: &WriteParameters) -> bool {
        if !self.is_sequential() || self.state.finalized {
            return false;
        }
        match self.kind {
            Kind::Cd { .. } if params.write_type == WRITE_TYPE_TAO => {
                let open = self
                    .state
                    .tracks
                    .iter()
                    .rposition(|t| t.is_invisible() && t.recorded > 0 && !t.damaged);
                if let Some(index) = open {
                    self.seal_track(index);
                    return true;
                }
                false
            }
            Kind::DvdMinus { .. } => {
                let done = self.state.tracks.iter().position(|t| {
                    t.mode == TrackMode::Dao
                        && !t.is_closed()
                        && !t.damaged
                        && t.reserved.is_some_and(|r| r == t.recorded)
                });
                if let Some(index) = done {
                    self.seal_track(index);
                    let open = self.open_session();
                    self.state
                        .tracks
                        .retain(|t| t.session != open || t.is_closed());
                    self.state.closed_sessions += 1;
                    self.state.finalized = true;
                    return true;
                }
                false
            }
            _ => false,
        }
    }
}

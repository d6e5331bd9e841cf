//! The medium file and its state: the user sectors at their LBAs (sparse where nothing
//! was written, so ordinary tools read it as a disc image) and `<file>.state.json` beside it,
//! replaced atomically. Opening makes a blank disc, a finalized ROM, or the saved one.
//!
//! The medium file is locked (`flock`, exclusive, not waiting) while a drive holds it, as a
//! real burner's device node is opened `O_EXCL`: a second drive on the same disc file, in
//! this process or another, is refused instead of burning over the first one's writes.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::mmc::{BLOCK_SIZE, Profile};
use crate::sim::pacing::Extent;

use super::{
    BackgroundFormat, FormatState, Kind, Medium, MediumError, MediumState, STATE_VERSION, Track,
    TrackMode, real_capacity, state_path,
};

impl Medium {
    /// Opens the medium at `path`: its state if it has one, a finalized read-only disc if
    /// only the file exists, or a new blank medium of `profile` if neither does.
    pub(crate) fn open(
        path: &Path,
        profile: Profile,
        capacity: Option<u32>,
    ) -> Result<Medium, MediumError> {
        let state_file = state_path(path);
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| MediumError::Io { path: p, source }
        };
        if let Ok(meta) = fs::metadata(path) {
            let kind = meta.file_type();
            // A block device is a disc image too (a loop device, a USB stick's partition).
            if !(kind.is_file() || kind.is_block_device()) {
                return Err(MediumError::NotAFile {
                    path: path.to_path_buf(),
                });
            }
        }
        if state_file.exists() {
            let text = fs::read_to_string(&state_file).map_err(io_err(&state_file))?;
            let mut state: MediumState =
                serde_json::from_str(&text).map_err(|e| MediumError::BadState {
                    path: state_file.clone(),
                    detail: e.to_string(),
                })?;
            let profile: Profile = state.profile.parse().map_err(|_| MediumError::BadState {
                path: state_file.clone(),
                detail: format!("unknown profile {:?}", state.profile),
            })?;
            let kind = Kind::of(profile).ok_or_else(|| MediumError::BadState {
                path: state_file.clone(),
                detail: format!("profile {profile} is not emulated"),
            })?;
            if state.version != STATE_VERSION {
                return Err(MediumError::BadState {
                    path: state_file,
                    detail: format!("version {} (expected {STATE_VERSION})", state.version),
                });
            }
            if !path.exists() {
                return Err(MediumError::MissingMedium {
                    path: path.to_path_buf(),
                });
            }
            // A background format does not survive power-off: the drive finds it suspended.
            if let FormatState::Background { status, .. } = &mut state.format
                && *status == BackgroundFormat::Running
            {
                *status = BackgroundFormat::Suspended;
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(io_err(path))?;
            let file = lock(file, path)?;
            return Ok(Medium {
                path: path.to_path_buf(),
                file,
                state,
                profile,
                kind,
                read_only_image: false,
            });
        }
        if path.exists() {
            let file = lock(File::open(path).map_err(io_err(path))?, path)?;
            let len = file.metadata().map_err(io_err(path))?.len();
            let blocks = len.div_ceil(BLOCK_SIZE as u64).min(u32::MAX as u64) as u32;
            let profile = match profile {
                Profile::CdRom | Profile::BdRom => profile,
                _ => Profile::DvdRom,
            };
            let mut track = Track::new(1, 1, 0, TrackMode::Dao);
            track.recorded = blocks;
            track.closed_size = Some(blocks);
            let state = MediumState {
                version: STATE_VERSION,
                profile: profile.token().unwrap_or("dvd-rom").to_string(),
                raw_capacity: blocks,
                tracks: vec![track],
                closed_sessions: 1,
                finalized: true,
                minimally_blanked: false,
                format: FormatState::Unformatted,
            };
            return Ok(Medium {
                path: path.to_path_buf(),
                file,
                state,
                profile,
                kind: Kind::Rom,
                read_only_image: true,
            });
        }
        let kind = Kind::of(profile)
            .filter(|k| *k != Kind::Rom)
            .ok_or(MediumError::NotRecordable { profile })?;
        let raw = capacity
            .or_else(|| real_capacity(profile))
            .ok_or(MediumError::NotRecordable { profile })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io_err(path))?;
        let file = lock(file, path)?;
        let mut medium = Medium {
            path: path.to_path_buf(),
            file,
            state: MediumState {
                version: STATE_VERSION,
                profile: String::new(),
                raw_capacity: raw,
                tracks: Vec::new(),
                closed_sessions: 0,
                finalized: false,
                minimally_blanked: false,
                format: FormatState::Unformatted,
            },
            profile,
            kind,
            read_only_image: false,
        };
        medium.reset_blank(profile);
        if profile == Profile::DvdRwRestrictedOverwrite {
            let capacity = medium.dvd_rw_formatted_capacity();
            medium.state.format = FormatState::Formatted {
                capacity,
                format_type: 0x00,
                sub_type: 0,
                intermediate: false,
            };
        }
        medium.save(&[]).map_err(io_err(&state_file))?;
        Ok(medium)
    }

    /// Writes sectors to the medium file.
    pub(crate) fn store(&self, lba: u32, bytes: &[u8]) -> io::Result<()> {
        self.file
            .write_all_at(bytes, lba as u64 * BLOCK_SIZE as u64)
    }

    /// Reads sectors from the medium file; past its end (sparse, never written) reads zeros.
    pub(crate) fn load(&self, lba: u32, buf: &mut [u8]) -> io::Result<()> {
        let mut offset = lba as u64 * BLOCK_SIZE as u64;
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read_at(&mut buf[filled..], offset) {
                Ok(0) => {
                    buf[filled..].fill(0);
                    break;
                }
                Ok(n) => {
                    filled += n;
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Forgets sectors that never left the drive buffer (power cut, removal): on sequential
    /// media the NWA goes back to the burnt end; in place writes keep the old contents.
    pub(crate) fn lose(&mut self, lost: &[Extent]) {
        lose_from(&mut self.state, lost);
    }

    /// Saves the state as the disc would have it if `pending` (still in the drive buffer)
    /// never got burnt: atomically, by writing a temporary file and renaming it.
    pub(crate) fn save(&self, pending: &[Extent]) -> io::Result<()> {
        if self.read_only_image {
            return Ok(());
        }
        let mut burnt = self.state.clone();
        lose_from(&mut burnt, pending);
        let target = state_path(&self.path);
        let mut temporary = target.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let text = serde_json::to_string_pretty(&burnt).map_err(io::Error::other)?;
        fs::write(&temporary, text)?;
        fs::rename(&temporary, &target)
    }
}

/// Takes the medium's lock, or says who holds it.
fn lock(file: File, path: &Path) -> Result<Flock<File>, MediumError> {
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| match errno {
        Errno::EWOULDBLOCK => MediumError::Busy {
            path: path.to_path_buf(),
        },
        other => MediumError::Io {
            path: path.to_path_buf(),
            source: io::Error::from(other),
        },
    })
}

fn lose_from(state: &mut MediumState, lost: &[Extent]) {
    // Newest first: an append lost at the end of a track moves the track's end back; a
    // pseudo-overwrite inside the recorded area leaves it.
    for extent in lost.iter().rev() {
        for track in &mut state.tracks {
            let recorded_end = track.start + track.recorded;
            if extent.lba >= track.start && extent.lba + extent.blocks == recorded_end {
                track.recorded = extent.lba - track.start;
            }
        }
    }
}

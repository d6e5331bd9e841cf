//! Planning a burn: what the medium is, whether it may be written, and how.
//!
//! Everything here only reads from the drive. The decisions follow the medium-state rules of
//! mmc.md section 2 and what libburn and growisofs check before writing (burning-anchors.md
//! B.1-B.3): a write-once disc must be blank; a rewritable one that holds a filesystem is
//! erased only with permission; a disc left open by a burn that never finished is reported,
//! not resumed.

use std::fmt;

use super::{BurnError, BurnOptions, BurnPlan, Method, Preparation, SpeedRequest};
use crate::drive::info::writable_profiles;
use crate::drive::{BLOCK_SIZE, Drive, FormatState, MediaInfo};
use crate::mmc::config::{GetConfiguration, feature};
use crate::mmc::disc::{DiscStatus, SessionState};
use crate::mmc::track::TrackAddress;
use crate::mmc::write::{FormatType, FormatUnit};
use crate::mmc::{MediaFamily, Profile};
use crate::scsi::Transport;

/// How long a drive may take to become ready before planning gives up.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A CD track is at least 300 blocks (4 seconds; libburn).
const SHORTEST_CD_TRACK: u64 = 300;

/// A write-once disc left open by a burn that did not finish (power cut, crash, unplugged
/// drive, a stop asked for, a failed write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptedDisc {
    /// The medium.
    pub profile: Profile,
    /// Blocks that were written before the burn stopped, when the drive says.
    pub written_blocks: Option<u64>,
    /// The drive marks the last track damaged (READ TRACK INFORMATION's Damage bit, with no
    /// next writable address): a write failed there, and the track cannot be closed.
    pub damaged: bool,
    /// What can be done with it.
    pub choices: Vec<InterruptedChoice>,
}

/// What can be done with an interrupted disc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptedChoice {
    /// Close it as it is (it holds part of an image) and discard it.
    FinalizeAsIs,
    /// Leave it and burn onto a new disc.
    UseNewDisc,
}

impl fmt::Display for InterruptedDisc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "this {} holds an interrupted burn", self.profile)?;
        if let Some(blocks) = self.written_blocks {
            write!(
                f,
                " ({} MB written)",
                blocks * BLOCK_SIZE as u64 / 1_000_000
            )?;
        }
        f.write_str(if self.damaged {
            ": a write to it failed and left its last track damaged, so the drive cannot close it. "
        } else {
            ": it was left open when a burn stopped before its end (stopped, power cut or crash) and will not be resumed. "
        })?;
        let finalize = self.choices.contains(&InterruptedChoice::FinalizeAsIs);
        if finalize {
            f.write_str("Either finalize it as it is and discard it (burnstation finalize), or put it aside and insert a new disc")
        } else {
            f.write_str("Put it aside and insert a new disc")
        }
    }
}

/// Whether `media` shows a burn that never finished: a sequential disc whose last session
/// is still open (incomplete) or whose last track is damaged. The station always closes
/// what it writes, so an open session means a burn stopped half-way.
pub fn interrupted_burn(media: &MediaInfo) -> Option<InterruptedDisc> {
    let sequential = matches!(
        media.profile,
        Profile::CdR
            | Profile::CdRw
            | Profile::DvdRSequential
            | Profile::DvdRwSequential
            | Profile::DvdRDualLayerSequential
            | Profile::DvdPlusR
            | Profile::DvdPlusRDualLayer
            | Profile::BdRSequential
    );
    let open = media.status == DiscStatus::Appendable
        && (media.last_session == SessionState::Incomplete || media.last_track_damaged);
    if !sequential || !open {
        return None;
    }
    // A damaged track has no next writable address; how far the burn got is not known.
    let damaged = media.last_track_damaged && media.next_writable.is_none();
    let choices = if damaged {
        vec![InterruptedChoice::UseNewDisc]
    } else {
        vec![
            InterruptedChoice::FinalizeAsIs,
            InterruptedChoice::UseNewDisc,
        ]
    };
    Some(InterruptedDisc {
        profile: media.profile,
        written_blocks: media.next_writable.map(u64::from),
        damaged,
        choices,
    })
}

pub(super) fn plan<T: Transport>(
    drive: &mut Drive<T>,
    image_blocks: u64,
    options: &BurnOptions,
) -> Result<BurnPlan, BurnError> {
    drive.wait_until_ready(READY_TIMEOUT)?;
    let media = drive.media()?;
    let profile = media.profile;
    let device = drive.name().to_string();
    let Some(family) = profile.family() else {
        return Err(BurnError::NotWritable { device, profile });
    };
    if matches!(profile, Profile::CdRom | Profile::DvdRom | Profile::BdRom) {
        return Err(BurnError::ReadOnly { device, profile });
    }
    if !profile.is_supported_for_writing() {
        return Err(BurnError::UnsupportedMedium { profile });
    }
    let config = drive
        .query(&GetConfiguration::all())
        .map_err(|e| drive.query_error(e))?;
    let mut notes = media.fallbacks.clone();

    let mut erases_data = false;
    let mut preparation = Preparation::None;
    let method = match profile {
        Profile::DvdPlusR | Profile::DvdPlusRDualLayer => {
            require_blank_write_once(&media)?;
            Method::DvdPlusR {
                dual_layer: profile == Profile::DvdPlusRDualLayer,
            }
        }
        Profile::BdRSequential => {
            require_blank_write_once(&media)?;
            if options.bd_r_spares && media.format != Some(FormatState::Formatted) {
                preparation = Preparation::Format(format_from_offer(
                    &media,
                    FormatType::Full,
                    // Sub-type 01b: SRM without pseudo-overwrite; libburn refuses POW discs.
                    0b01,
                )?);
            }
            Method::BdR
        }
        Profile::CdR => {
            require_blank_write_once(&media)?;
            Method::CdTrackAtOnce
        }
        Profile::CdRw => {
            if !media.is_blank() {
                if !options.erase {
                    return Err(BurnError::HoldsData { profile });
                }
                erases_data = true;
                preparation = Preparation::BlankMinimal;
            }
            Method::CdTrackAtOnce
        }
        Profile::DvdRSequential | Profile::DvdRDualLayerSequential | Profile::DvdRwSequential => {
            if profile == Profile::DvdRwSequential && !media.is_blank() {
                if !options.erase {
                    return Err(BurnError::HoldsData { profile });
                }
                erases_data = true;
                preparation = Preparation::BlankMinimal;
            } else {
                require_blank_write_once(&media)?;
            }
            // A minimally blanked DVD-RW loses incremental recording (mmc.md 1.1): the
            // method is decided again after blanking.
            dvd_minus_method(&config, preparation == Preparation::BlankMinimal).ok_or_else(
                || BurnError::NoWriteMethod {
                    device: device.clone(),
                    profile,
                },
            )?
        }
        Profile::DvdPlusRw => {
            match media.format {
                Some(FormatState::Formatted) | Some(FormatState::Formatting) => {}
                Some(FormatState::Suspended) => {
                    let mut format = format_from_offer(&media, FormatType::DvdPlusRwBasic, 0)?;
                    format.restart = true;
                    preparation = Preparation::RestartBackgroundFormat(format);
                }
                Some(FormatState::Unformatted) | None => {
                    preparation = Preparation::Format(format_from_offer(
                        &media,
                        FormatType::DvdPlusRwBasic,
                        0,
                    )?);
                }
            }
            if preparation == Preparation::None
                || matches!(preparation, Preparation::RestartBackgroundFormat(_))
            {
                erases_data = holds_filesystem(drive)?;
            }
            Method::DvdPlusRw
        }
        Profile::DvdRwRestrictedOverwrite => {
            erases_data = holds_filesystem(drive)?;
            Method::DvdRwOverwrite
        }
        Profile::BdRe => {
            if media.format == Some(FormatState::Formatted) {
                erases_data = holds_filesystem(drive)?;
            } else {
                preparation = Preparation::Format(format_from_offer(&media, FormatType::Full, 0)?);
            }
            Method::BdRe
        }
        _ => return Err(BurnError::UnsupportedMedium { profile }),
    };
    if erases_data && !options.erase {
        return Err(BurnError::HoldsData { profile });
    }
    // Burning without the write feature would only end in a confusing error half-way.
    if !writable_profiles(&config).contains(&profile) {
        return Err(BurnError::DriveCannotWrite { device, profile });
    }

    let write_unit_blocks = family.write_unit_blocks();
    let (start_lba, capacity_blocks) = room(&media, method, preparation);
    let speed_kbytes_per_sec = choose_speed(&media, family, options.speed);
    if let Some(kbps) = speed_kbytes_per_sec {
        notes.push(format!(
            "write speed {:.1}x ({} kB/s)",
            kbps as f64 / family.one_x_kbytes_per_sec(),
            kbps
        ));
    }
    let track = match method {
        Method::DvdPlusR { .. } | Method::CdTrackAtOnce => TrackAddress::INVISIBLE,
        _ => TrackAddress::Track(u32::from(media.last_track_in_last_session.max(1))),
    };
    BurnPlan {
        profile,
        method,
        preparation,
        erases_data,
        start_lba,
        image_blocks: 0,
        written_blocks: 0,
        capacity_blocks,
        write_unit_blocks,
        speed_kbytes_per_sec,
        finalize: options.finalize,
        track,
        notes,
    }
    .for_image(image_blocks)
}

impl BurnPlan {
    /// The same plan for an image of `image_blocks` blocks, without asking the drive again:
    /// what is written (the image padded to whole write units, and on CD to the shortest
    /// track) and whether it fits. A caller that must look at the medium before the image is
    /// laid out (to refuse a wrong disc at once, and to learn the room there is) plans once
    /// and sizes the plan when the image's size is known.
    pub fn for_image(mut self, image_blocks: u64) -> Result<BurnPlan, BurnError> {
        let unit = u64::from(self.write_unit_blocks);
        let mut written_blocks = image_blocks.div_ceil(unit) * unit;
        if self.family() == MediaFamily::Cd {
            written_blocks = written_blocks.max(SHORTEST_CD_TRACK);
        }
        if written_blocks > self.capacity_blocks {
            return Err(BurnError::TooLarge {
                needed: written_blocks,
                free: self.capacity_blocks,
                profile: self.profile,
            });
        }
        self.image_blocks = image_blocks;
        self.written_blocks = written_blocks;
        Ok(self)
    }
}

/// Refuses a write-once disc that is not blank, saying why.
fn require_blank_write_once(media: &MediaInfo) -> Result<(), BurnError> {
    if let Some(interrupted) = interrupted_burn(media) {
        return Err(BurnError::Interrupted(interrupted));
    }
    match media.status {
        DiscStatus::Blank => Ok(()),
        DiscStatus::Complete => Err(BurnError::Finalized {
            profile: media.profile,
        }),
        DiscStatus::Appendable | DiscStatus::Other => {
            // A BD-R formatted but never written reports "appendable" with an empty last
            // session and nothing recorded; libburn treats it as blank (mmc.md 2.2).
            let formatted_empty_bd_r = media.profile == Profile::BdRSequential
                && media.sessions <= 1
                && media.last_session == SessionState::Empty
                && media.readable_blocks == 0;
            if formatted_empty_bd_r {
                Ok(())
            } else {
                Err(BurnError::NotBlank {
                    profile: media.profile,
                    sessions: media.sessions.saturating_sub(1),
                })
            }
        }
    }
}

/// Incremental recording when feature 0021h is current (and the disc was not just
/// minimally blanked), else disc at once when the drive has feature 002Fh.
fn dvd_minus_method(
    config: &crate::mmc::config::Configuration,
    minimally_blanked: bool,
) -> Option<Method> {
    if config.is_current(feature::INCREMENTAL_STREAMING_WRITABLE) && !minimally_blanked {
        Some(Method::DvdMinusIncremental)
    } else if config.feature(feature::DVD_R_RW_WRITE).is_some() {
        Some(Method::DvdMinusDiscAtOnce)
    } else {
        None
    }
}

/// A FORMAT UNIT copied from the drive's own offer of `format_type`, as libburn and
/// growisofs build it (mmc.md 1.12); a full-size descriptor when the drive offered none
/// (FFFFFFFFh blocks is valid for 26h, and the drive ignores the count for BD-R 00h).
fn format_from_offer(
    media: &MediaInfo,
    format_type: FormatType,
    subtype: u8,
) -> Result<FormatUnit, BurnError> {
    let offer = media
        .formattable
        .iter()
        .find(|f| f.format_type == format_type);
    Ok(match offer {
        Some(offer) => FormatUnit::from_offer(offer, subtype, true),
        None => FormatUnit {
            format_type,
            subtype,
            blocks: if format_type == FormatType::DvdPlusRwBasic {
                u32::MAX
            } else {
                u32::try_from(media.capacity_blocks).unwrap_or(u32::MAX)
            },
            type_dependent: 0,
            restart: false,
            immediate: true,
        },
    })
}

/// True when the disc holds a filesystem (a volume descriptor at block 16: ISO 9660
/// "CD001" or UDF "BEA01"), which overwriting would destroy. An unreadable block 16 means
/// nothing was written there.
fn holds_filesystem<T: Transport>(drive: &mut Drive<T>) -> Result<bool, BurnError> {
    let mut block = vec![0u8; BLOCK_SIZE];
    match drive.read_blocks(16, 1, &mut block) {
        Ok(()) => Ok(&block[1..6] == b"CD001" || &block[1..6] == b"BEA01"),
        Err(e) if e.sense().is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Where writing starts and how many blocks are free from there.
fn room(media: &MediaInfo, method: Method, preparation: Preparation) -> (u32, u64) {
    if method.is_sequential() {
        if preparation == Preparation::BlankMinimal {
            return (0, media.capacity_blocks);
        }
        let start = media.next_writable.unwrap_or(0);
        let free = if media.free_blocks > 0 {
            media.free_blocks as u64
        } else {
            media.capacity_blocks.saturating_sub(start as u64)
        };
        (start, free)
    } else {
        let capacity = match preparation {
            Preparation::Format(f) | Preparation::RestartBackgroundFormat(f)
                if f.blocks != u32::MAX =>
            {
                f.blocks as u64
            }
            _ => media.capacity_blocks,
        };
        (0, capacity)
    }
}

/// The speed to ask for, from the drive's list for this medium: the fastest, or the fastest
/// at or below the requested multiple (the slowest if all are faster). `None` when the drive
/// listed no speeds and the request is "as fast as possible": it then writes at its own
/// default, which is its fastest.
fn choose_speed(media: &MediaInfo, family: MediaFamily, request: SpeedRequest) -> Option<u32> {
    let mut speeds: Vec<u32> = media
        .write_speeds
        .iter()
        .map(|s| s.kbytes_per_sec)
        .collect();
    speeds.sort_unstable_by(|a, b| b.cmp(a));
    match request {
        SpeedRequest::Max => speeds.first().copied(),
        SpeedRequest::Times(times) => {
            let wanted = times * family.one_x_kbytes_per_sec();
            // 2% slack: drives list 16x DVD as 22160 kB/s, which is 16.0x, or 22161.
            let at_or_below = speeds.iter().copied().find(|&s| s as f64 <= wanted * 1.02);
            at_or_below
                .or_else(|| speeds.last().copied())
                .or(Some(wanted.round() as u32))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::WriteSpeed;

    fn media(profile: Profile, status: DiscStatus, session: SessionState) -> MediaInfo {
        MediaInfo {
            profile,
            status,
            last_session: session,
            erasable: false,
            sessions: 1,
            tracks: 1,
            first_track_in_last_session: 1,
            last_track_in_last_session: 1,
            next_writable: Some(0),
            last_track_damaged: false,
            free_blocks: 2_295_104,
            capacity_blocks: 2_295_104,
            readable_blocks: 0,
            format: None,
            formattable: Vec::new(),
            write_speeds: vec![
                WriteSpeed {
                    kbytes_per_sec: 22_160,
                    end_lba: None,
                },
                WriteSpeed {
                    kbytes_per_sec: 11_080,
                    end_lba: None,
                },
                WriteSpeed {
                    kbytes_per_sec: 5_540,
                    end_lba: None,
                },
            ],
            media_events: true,
            fallbacks: Vec::new(),
        }
    }

    #[test]
    fn an_open_session_on_write_once_media_is_an_interrupted_burn() {
        let mut m = media(
            Profile::DvdPlusR,
            DiscStatus::Appendable,
            SessionState::Incomplete,
        );
        m.next_writable = Some(1_275_392);
        let interrupted = interrupted_burn(&m).expect("an open DVD+R is interrupted");
        assert_eq!(interrupted.written_blocks, Some(1_275_392));
        assert!(
            interrupted
                .choices
                .contains(&InterruptedChoice::FinalizeAsIs)
        );
        let message = interrupted.to_string();
        assert!(
            message.contains("interrupted") && message.contains("new disc"),
            "{message}"
        );

        // A closed session that stays appendable (burnt with --no-finalize) is not one.
        let closed = media(
            Profile::DvdPlusR,
            DiscStatus::Appendable,
            SessionState::Empty,
        );
        assert_eq!(interrupted_burn(&closed), None);
        // Nor is a blank disc, or an overwritable one.
        assert_eq!(
            interrupted_burn(&media(
                Profile::BdRSequential,
                DiscStatus::Blank,
                SessionState::Empty
            )),
            None
        );
        assert_eq!(
            interrupted_burn(&media(
                Profile::DvdPlusRw,
                DiscStatus::Appendable,
                SessionState::Incomplete
            )),
            None
        );
        // A damaged last track counts even when the session looks closed.
        let mut damaged = media(
            Profile::BdRSequential,
            DiscStatus::Appendable,
            SessionState::Empty,
        );
        damaged.last_track_damaged = true;
        damaged.next_writable = None;
        let interrupted = interrupted_burn(&damaged).expect("a damaged track is interrupted");
        // A failed write, not a power cut: it cannot be finalized, only replaced.
        assert!(interrupted.damaged);
        assert_eq!(interrupted.choices, vec![InterruptedChoice::UseNewDisc]);
        let message = interrupted.to_string();
        assert!(
            message.contains("a write to it failed") && !message.contains("power cut"),
            "{message}"
        );
        assert!(!message.contains("finalize"), "{message}");
    }

    #[test]
    fn write_once_media_must_be_blank() {
        assert!(
            require_blank_write_once(&media(
                Profile::DvdPlusR,
                DiscStatus::Blank,
                SessionState::Empty
            ))
            .is_ok()
        );
        let finalized = require_blank_write_once(&media(
            Profile::DvdPlusR,
            DiscStatus::Complete,
            SessionState::Complete,
        ));
        assert!(matches!(finalized, Err(BurnError::Finalized { .. })));
        let mut appendable = media(
            Profile::DvdPlusR,
            DiscStatus::Appendable,
            SessionState::Empty,
        );
        appendable.sessions = 2;
        let err = require_blank_write_once(&appendable).unwrap_err();
        assert!(
            matches!(err, BurnError::NotBlank { sessions: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("insert a blank disc"));
        // A formatted, never written BD-R is as good as blank (libburn).
        let formatted_bd_r = media(
            Profile::BdRSequential,
            DiscStatus::Appendable,
            SessionState::Empty,
        );
        assert!(require_blank_write_once(&formatted_bd_r).is_ok());
    }

    #[test]
    fn speed_is_the_fastest_at_or_below_the_request() {
        let m = media(Profile::DvdPlusR, DiscStatus::Blank, SessionState::Empty);
        assert_eq!(
            choose_speed(&m, MediaFamily::Dvd, SpeedRequest::Max),
            Some(22_160)
        );
        assert_eq!(
            choose_speed(&m, MediaFamily::Dvd, SpeedRequest::Times(16.0)),
            Some(22_160)
        );
        assert_eq!(
            choose_speed(&m, MediaFamily::Dvd, SpeedRequest::Times(12.0)),
            Some(11_080)
        );
        assert_eq!(
            choose_speed(&m, MediaFamily::Dvd, SpeedRequest::Times(1.0)),
            Some(5_540)
        );
        let mut none = m.clone();
        none.write_speeds.clear();
        assert_eq!(
            choose_speed(&none, MediaFamily::Dvd, SpeedRequest::Max),
            None
        );
        assert_eq!(
            choose_speed(&none, MediaFamily::Dvd, SpeedRequest::Times(4.0)),
            Some(5_540)
        );
    }
}

//! What `Drive::identify` and `Drive::media` report, and how they gather it.

use super::{Drive, DriveError, NotReady};
use crate::mmc::config::{Configuration, Feature, GetConfiguration, PhysicalInterface, feature};
use crate::mmc::disc::{
    BackgroundFormat, CurrentCapacityKind, DiscInformation, DiscStatus, FormatCapacities,
    FormattableCapacity, ReadFormatCapacities, SessionState,
};
use crate::mmc::event::GetEventStatusNotification;
use crate::mmc::mode::{CAPABILITIES_PAGE, CapabilitiesPage, ModeSense10};
use crate::mmc::performance::{GetWriteSpeeds, ReadBufferCapacity};
use crate::mmc::track::{ReadTrackInformation, TrackAddress, TrackInformation};
use crate::mmc::unit::Inquiry;
use crate::mmc::{MediaFamily, Profile};
use crate::scsi::Transport;

/// Who the drive is and what it can do.
#[derive(Debug, Clone, PartialEq)]
pub struct DriveInfo {
    /// INQUIRY vendor ("HL-DT-ST").
    pub vendor: String,
    /// INQUIRY product ("DVD+-RW GP60N").
    pub product: String,
    /// INQUIRY revision ("A300").
    pub revision: String,
    /// How it is attached (feature 0001h), when the drive says.
    pub interface: Option<PhysicalInterface>,
    /// Every profile in the drive's profile list (feature 0000h), in its order: the media
    /// it can read.
    pub profiles: Vec<Profile>,
    /// The profiles it can write: in the list and backed by the matching write feature.
    pub writable_profiles: Vec<Profile>,
    /// Buffer size in bytes (page 2Ah, else READ BUFFER CAPACITY).
    pub buffer_bytes: Option<u64>,
    /// Write speeds for the medium now loaded (GET PERFORMANCE 03h, else page 2Ah);
    /// drives report none without a medium.
    pub write_speeds: Vec<WriteSpeed>,
    /// The drive can open its tray (feature 0003h or page 2Ah).
    pub can_eject: bool,
    /// The drive can lock its tray.
    pub can_lock: bool,
    /// Optional commands that failed and what was used instead.
    pub fallbacks: Vec<String>,
}

/// One write speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSpeed {
    /// kB/s (k = 1000).
    pub kbytes_per_sec: u32,
    /// The last LBA this speed applies to, when GET PERFORMANCE said.
    pub end_lba: Option<u32>,
}

impl WriteSpeed {
    /// The speed as a multiple of 1x for `family` ("4.0x").
    pub fn times(&self, family: MediaFamily) -> f64 {
        self.kbytes_per_sec as f64 / family.one_x_kbytes_per_sec()
    }
}

/// Format state of media that are formatted (DVD+RW, DVD-RW, BD-RE, BD-R, DVD-RAM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatState {
    /// Never formatted.
    Unformatted,
    /// A (background) format is running.
    Formatting,
    /// A background format was stopped before it finished; it can be restarted.
    Suspended,
    /// Formatted.
    Formatted,
}

/// Everything the drive knows about the medium in it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The current profile.
    pub profile: Profile,
    /// Blank, appendable, complete or other (READ DISC INFORMATION).
    pub status: DiscStatus,
    /// State of the last session.
    pub last_session: SessionState,
    /// The medium can be blanked or overwritten.
    pub erasable: bool,
    /// Number of sessions, including an open or empty last one.
    pub sessions: u16,
    /// Number of tracks on the disc, including an open or empty last one.
    pub tracks: u16,
    /// First track number in the last session.
    pub first_track_in_last_session: u16,
    /// Last track number in the last session.
    pub last_track_in_last_session: u16,
    /// Where the next write must start, on media that say (never on DVD+RW: PI R11).
    pub next_writable: Option<u32>,
    /// The Damage bit of the last track: with no next writable address it was "not closed
    /// due to an incomplete write"; with one it may still be appended to (MMC-5 6.27.3.7,
    /// as libburn reads it).
    pub last_track_damaged: bool,
    /// Blocks still writable.
    pub free_blocks: u32,
    /// Total recordable capacity in 2048-byte blocks.
    pub capacity_blocks: u64,
    /// Blocks that can be read back now (READ CAPACITY; 0 without a complete session).
    pub readable_blocks: u64,
    /// Format state, for media that are formatted.
    pub format: Option<FormatState>,
    /// The formats the drive offers for this medium (READ FORMAT CAPACITIES).
    pub formattable: Vec<FormattableCapacity>,
    /// Write speeds for this medium.
    pub write_speeds: Vec<WriteSpeed>,
    /// The drive reports disc changes itself (GET EVENT STATUS NOTIFICATION works); without
    /// it the station notices discs by polling TEST UNIT READY (`Drive::media_presence`).
    pub media_events: bool,
    /// Optional commands that failed and what was used instead.
    pub fallbacks: Vec<String>,
}

impl MediaInfo {
    /// True when nothing has been written.
    pub fn is_blank(&self) -> bool {
        self.status == DiscStatus::Blank
    }
}

/// Profiles whose format state matters.
fn is_formattable(p: Profile) -> bool {
    matches!(
        p,
        Profile::DvdPlusRw
            | Profile::DvdPlusRwDualLayer
            | Profile::DvdRwSequential
            | Profile::DvdRwRestrictedOverwrite
            | Profile::DvdRam
            | Profile::BdRe
            | Profile::BdRSequential
            | Profile::BdRRandom
    )
}

/// The track READ TRACK INFORMATION should ask about: the invisible track FFh only where it
/// exists (CD, DVD+R, DVD+R DL with room left), else the last track from 51h (mmc.md 1.3;
/// libburn's cookbook and growisofs).
fn track_to_ask(profile: Profile, disc: &DiscInformation) -> TrackAddress {
    let invisible_exists = matches!(
        profile,
        Profile::CdR | Profile::CdRw | Profile::DvdPlusR | Profile::DvdPlusRDualLayer
    ) && disc.status != DiscStatus::Complete;
    let overwritable = matches!(
        profile,
        Profile::DvdPlusRw
            | Profile::DvdRwRestrictedOverwrite
            | Profile::DvdRam
            | Profile::BdRRandom
            | Profile::BdRe
    );
    if invisible_exists {
        TrackAddress::INVISIBLE
    } else if overwritable {
        // One track spanning the medium (libburn asks track 1 for these).
        TrackAddress::Track(1)
    } else {
        TrackAddress::Track(disc.last_track_in_last_session.max(1) as u32)
    }
}

fn format_state(
    profile: Profile,
    disc: &DiscInformation,
    formats: Option<&FormatCapacities>,
) -> Option<FormatState> {
    if !is_formattable(profile) {
        return None;
    }
    match disc.background_format {
        BackgroundFormat::Running => return Some(FormatState::Formatting),
        BackgroundFormat::Suspended => return Some(FormatState::Suspended),
        BackgroundFormat::Complete => return Some(FormatState::Formatted),
        BackgroundFormat::None => {}
    }
    match formats.map(|f| f.current.kind) {
        Some(CurrentCapacityKind::Formatted) => Some(FormatState::Formatted),
        Some(CurrentCapacityKind::Unformatted) => Some(FormatState::Unformatted),
        // Without a usable format list, the profile alone still tells these two apart.
        _ => match profile {
            Profile::DvdRwRestrictedOverwrite => Some(FormatState::Formatted),
            Profile::DvdRwSequential | Profile::DvdPlusRw | Profile::DvdPlusRwDualLayer => {
                Some(FormatState::Unformatted)
            }
            _ => None,
        },
    }
}

/// The profiles the drive can write, from its write features (MMC-5 profile/feature
/// tables; mmc.md 1.1). Incremental recording being current (0021h) also makes the current
/// DVD-R/-RW profile writable, and a restricted-overwrite DVD-RW needs feature 0026h or the
/// DVD-RW bit of 002Fh.
pub(crate) fn writable_profiles(config: &Configuration) -> Vec<Profile> {
    let listed: Vec<Profile> = config.profiles().iter().map(|e| e.profile).collect();
    let f = |code| config.feature(code).map(|d| &d.feature);
    let cd_tao = f(feature::CD_TRACK_AT_ONCE);
    let cd_rw = matches!(cd_tao, Some(Feature::CdTrackAtOnce { cd_rw: true, .. }));
    let dvd_r = f(feature::DVD_R_RW_WRITE);
    let dvd_rw = matches!(dvd_r, Some(Feature::DvdRWrite { dvd_rw: true, .. }));
    let incremental_now = |p: &Profile| {
        *p == config.current_profile && config.is_current(feature::INCREMENTAL_STREAMING_WRITABLE)
    };
    let restricted_overwrite = config.feature(feature::RESTRICTED_OVERWRITE).is_some();
    let dvd_r_dl = matches!(
        dvd_r,
        Some(Feature::DvdRWrite {
            dual_layer: true,
            ..
        })
    );
    let plus_rw = matches!(
        f(feature::DVD_PLUS_RW),
        Some(Feature::DvdPlusRw { write: true, .. })
    );
    let plus_r = matches!(
        f(feature::DVD_PLUS_R),
        Some(Feature::DvdPlusR { write: true })
    );
    let plus_r_dl = matches!(
        f(feature::DVD_PLUS_R_DUAL_LAYER),
        Some(Feature::DvdPlusRDualLayer { write: true })
    );
    let (bd_re, bd_r) = match f(feature::BD_WRITE) {
        Some(Feature::BdWrite { re, r, .. }) => {
            (re.iter().any(|&c| c != 0), r.iter().any(|&c| c != 0))
        }
        _ => (false, false),
    };
    listed
        .into_iter()
        .filter(|p| match p {
            Profile::CdR => cd_tao.is_some(),
            Profile::CdRw => cd_rw,
            Profile::DvdRSequential => dvd_r.is_some() || incremental_now(p),
            Profile::DvdRwSequential => dvd_rw || incremental_now(p),
            Profile::DvdRwRestrictedOverwrite => dvd_rw || restricted_overwrite,
            Profile::DvdRDualLayerSequential => dvd_r_dl || incremental_now(p),
            Profile::DvdPlusRw => plus_rw,
            Profile::DvdPlusR => plus_r,
            Profile::DvdPlusRDualLayer => plus_r_dl,
            Profile::BdRSequential => bd_r,
            Profile::BdRe => bd_re,
            _ => false,
        })
        .collect()
}

impl<T: Transport> Drive<T> {
    /// Identifies the drive: INQUIRY (must be an optical drive), the profile list and write
    /// features, the buffer size and the write speeds.
    pub fn identify(&mut self) -> Result<DriveInfo, DriveError> {
        let inquiry = self
            .query(&Inquiry::default())
            .map_err(|e| self.query_error(e))?;
        if !inquiry.is_optical() {
            return Err(DriveError::NotOptical {
                device: self.name().to_string(),
                peripheral_type: inquiry.peripheral_type,
            });
        }
        let mut fallbacks = Vec::new();
        let config = self.optional(
            &GetConfiguration::all(),
            "GET CONFIGURATION failed, so the supported media are unknown",
            &mut fallbacks,
        )?;
        let capabilities = self.capabilities(&mut fallbacks)?;
        let mut buffer_bytes = capabilities
            .as_ref()
            .map(|c| c.buffer_size_kib as u64 * 1024)
            .filter(|&b| b > 0);
        if buffer_bytes.is_none() {
            buffer_bytes = self
                .optional(
                    &ReadBufferCapacity { in_blocks: false },
                    "READ BUFFER CAPACITY failed, buffer size unknown",
                    &mut fallbacks,
                )?
                .map(|b| b.size as u64)
                .filter(|&b| b > 0);
        }
        let write_speeds = self.write_speeds(capabilities.as_ref(), &mut fallbacks)?;
        let removable = config
            .as_ref()
            .and_then(|c| c.feature(feature::REMOVABLE_MEDIUM))
            .map(|d| &d.feature);
        let (can_eject, can_lock) = match (removable, capabilities.as_ref()) {
            (Some(Feature::RemovableMedium { eject, lock, .. }), _) => (*eject, *lock),
            (_, Some(c)) => (c.eject, c.lock),
            _ => (false, false),
        };
        let interface = config
            .as_ref()
            .and_then(|c| match c.feature(feature::CORE) {
                Some(d) => match d.feature {
                    Feature::Core { interface, .. } => Some(interface),
                    _ => None,
                },
                None => None,
            });
        Ok(DriveInfo {
            vendor: inquiry.vendor,
            product: inquiry.product,
            revision: inquiry.revision,
            interface,
            profiles: config
                .as_ref()
                .map(|c| c.profiles().iter().map(|e| e.profile).collect())
                .unwrap_or_default(),
            writable_profiles: config.as_ref().map(writable_profiles).unwrap_or_default(),
            buffer_bytes,
            write_speeds,
            can_eject,
            can_lock,
            fallbacks,
        })
    }

    /// Reads page 2Ah, or notes why not.
    fn capabilities(
        &mut self,
        fallbacks: &mut Vec<String>,
    ) -> Result<Option<CapabilitiesPage>, DriveError> {
        let Some(mode) = self.optional(
            &ModeSense10::current(CAPABILITIES_PAGE),
            "MODE SENSE page 2Ah failed",
            fallbacks,
        )?
        else {
            return Ok(None);
        };
        match mode
            .expect_page(CAPABILITIES_PAGE)
            .and_then(CapabilitiesPage::parse)
        {
            Ok(page) => Ok(Some(page)),
            Err(e) => {
                let note = format!("page 2Ah could not be read: {e}");
                tracing::info!(device = self.name(), "{note}");
                fallbacks.push(note);
                Ok(None)
            }
        }
    }

    /// Write speeds from GET PERFORMANCE type 03h, else from page 2Ah's descriptors (asking
    /// for the page only when needed).
    fn write_speeds(
        &mut self,
        capabilities: Option<&CapabilitiesPage>,
        fallbacks: &mut Vec<String>,
    ) -> Result<Vec<WriteSpeed>, DriveError> {
        let from_performance = self.optional(
            &GetWriteSpeeds::default(),
            "GET PERFORMANCE (write speeds) failed, using page 2Ah",
            fallbacks,
        )?;
        let mut speeds: Vec<WriteSpeed> = from_performance
            .unwrap_or_default()
            .iter()
            .filter(|d| d.write_kbytes_per_sec > 0)
            .map(|d| WriteSpeed {
                kbytes_per_sec: d.write_kbytes_per_sec,
                end_lba: Some(d.end_lba),
            })
            .collect();
        if speeds.is_empty() {
            let fetched;
            let page = match capabilities {
                Some(p) => Some(p),
                None => {
                    fetched = self.capabilities(fallbacks)?;
                    fetched.as_ref()
                }
            };
            if let Some(page) = page {
                speeds = page
                    .write_speeds
                    .iter()
                    .filter(|d| d.kbytes_per_sec > 0)
                    .map(|d| WriteSpeed {
                        kbytes_per_sec: d.kbytes_per_sec as u32,
                        end_lba: None,
                    })
                    .collect();
                if speeds.is_empty() && page.max_write_speed > 0 {
                    speeds.push(WriteSpeed {
                        kbytes_per_sec: page.max_write_speed as u32,
                        end_lba: None,
                    });
                }
            }
        }
        speeds.sort_by_key(|s| std::cmp::Reverse(s.kbytes_per_sec));
        speeds.dedup_by_key(|s| s.kbytes_per_sec);
        Ok(speeds)
    }

    /// Everything about the medium in the drive. Call [`Drive::wait_until_ready`] first;
    /// with no medium this answers [`NotReady::NoMedium`].
    pub fn media(&mut self) -> Result<MediaInfo, DriveError> {
        let profile = self.current_profile()?;
        if profile == Profile::None {
            let tray_open = self.media_event()?.is_some_and(|m| m.tray_open);
            return Err(self.not_ready(NotReady::NoMedium { tray_open }));
        }
        let mut fallbacks = Vec::new();
        let disc = self.disc_information()?;
        let track = self.optional_on_medium(
            &ReadTrackInformation::new(track_to_ask(profile, &disc)),
            "READ TRACK INFORMATION failed, next writable address unknown",
            &mut fallbacks,
        )?;
        let readable_blocks = self.read_capacity(&mut fallbacks)?;
        let formats = if is_formattable(profile) {
            self.optional_on_medium(
                &ReadFormatCapacities::default(),
                "READ FORMAT CAPACITIES failed, format state taken from disc information",
                &mut fallbacks,
            )?
        } else {
            None
        };
        let write_speeds = self.write_speeds(None, &mut fallbacks)?;
        // How the station will notice this disc leaving and the next one arriving.
        let media_events = self
            .optional(
                &GetEventStatusNotification::default(),
                "media events (GET EVENT STATUS NOTIFICATION) are not available: discs are noticed by polling TEST UNIT READY",
                &mut fallbacks,
            )?
            .is_some_and(|status| status.media.is_some());

        let complete = disc.status == DiscStatus::Complete;
        let next_writable = track.as_ref().and_then(|t| {
            let nwa = t.next_writable.filter(|_| !complete)?;
            // A Pioneer BDR-205 and a LITE-ON LTR-48125S report NWA −150 on blank media
            // (libburn mmc.c): the track start is where writing begins.
            if disc.status == DiscStatus::Blank && (nwa as i32) < (t.start as i32) {
                Some(t.start)
            } else {
                Some(nwa)
            }
        });
        let last_track_damaged = track.as_ref().is_some_and(|t| t.damage);
        let free_blocks = match &track {
            Some(t) if !complete => t.free_blocks,
            _ => 0,
        };
        let capacity_blocks = capacity(
            next_writable,
            free_blocks,
            track.as_ref(),
            formats.as_ref(),
            readable_blocks,
        );
        Ok(MediaInfo {
            profile,
            status: disc.status,
            last_session: disc.last_session,
            erasable: disc.erasable,
            sessions: disc.sessions,
            tracks: disc
                .last_track_in_last_session
                .saturating_sub(disc.first_track as u16)
                + 1,
            first_track_in_last_session: disc.first_track_in_last_session,
            last_track_in_last_session: disc.last_track_in_last_session,
            next_writable,
            last_track_damaged,
            free_blocks,
            capacity_blocks,
            readable_blocks,
            format: format_state(profile, &disc, formats.as_ref()),
            formattable: formats.map(|f| f.formattable).unwrap_or_default(),
            write_speeds,
            media_events,
            fallbacks,
        })
    }
}

/// Total capacity: NWA + free blocks where the drive gives an NWA (growisofs), else the
/// formatted capacity, else the track's extent, else the format list's maximum, else what
/// is readable.
fn capacity(
    next_writable: Option<u32>,
    free_blocks: u32,
    track: Option<&TrackInformation>,
    formats: Option<&FormatCapacities>,
    readable_blocks: u64,
) -> u64 {
    if let Some(nwa) = next_writable {
        return nwa as u64 + free_blocks as u64;
    }
    if let Some(f) = formats.filter(|f| f.current.kind == CurrentCapacityKind::Formatted) {
        return f.current.blocks as u64;
    }
    if let Some(t) = track.filter(|t| t.size > 0) {
        return (t.start as u64 + t.size as u64).max(readable_blocks);
    }
    if let Some(f) = formats.filter(|f| f.current.kind == CurrentCapacityKind::Unformatted) {
        return f.current.blocks as u64;
    }
    readable_blocks
}

//! GET CONFIGURATION (46h): the current profile, the profiles the drive supports and its
//! features (MMC-5 5.2/5.3; mmc.md 1.1).
//!
//! Features the station acts on are decoded into [`Feature`] variants; every other feature
//! is kept raw. Bytes a short (older MMC revision) descriptor does not carry read as zero,
//! because drives and emulators send the shorter MMC-3 forms (tgt's 001Fh has no body).

use super::{
    Cdb, Command, DataIn, LengthField, ParseError, Profile, announced_slice, be16, be32, bit, byte,
};

/// Which features GET CONFIGURATION returns (byte 1 bits 1-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// 00b: all features from the starting one on.
    All,
    /// 01b: only current features from the starting one on.
    Current,
    /// 10b: only the starting feature.
    One,
}

/// GET CONFIGURATION (46h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetConfiguration {
    /// RT field.
    pub request: RequestType,
    /// Starting feature number.
    pub starting_feature: u16,
    /// Allocation length (bytes 7-8).
    pub allocation_length: u16,
}

impl GetConfiguration {
    /// All features.
    pub fn all() -> GetConfiguration {
        GetConfiguration {
            request: RequestType::All,
            starting_feature: 0,
            allocation_length: 0xfff8,
        }
    }

    /// One feature (growisofs asks for 0021h and 0038h this way).
    pub fn one(feature: u16) -> GetConfiguration {
        GetConfiguration {
            request: RequestType::One,
            starting_feature: feature,
            allocation_length: 0xfff8,
        }
    }
}

impl Command for GetConfiguration {
    const OPCODE: u8 = 0x46;
    fn cdb(&self) -> Cdb {
        let rt = match self.request {
            RequestType::All => 0,
            RequestType::Current => 1,
            RequestType::One => 2,
        };
        Cdb::new10(Self::OPCODE)
            .with(1, rt)
            .with_u16(2, self.starting_feature)
            .with_u16(7, self.allocation_length)
    }
}

impl DataIn for GetConfiguration {
    type Response = Configuration;
    const LENGTH: LengthField = LengthField::At {
        offset: 0,
        width: 4,
        plus: 4,
    };
    fn allocation_length(&self) -> u32 {
        self.allocation_length as u32
    }
    fn with_allocation_length(&self, len: u32) -> Self {
        GetConfiguration {
            allocation_length: len.min(0xfff8) as u16,
            ..*self
        }
    }
    fn parse(bytes: &[u8]) -> Result<Configuration, ParseError> {
        Configuration::parse(bytes)
    }
}

/// Feature numbers the station looks at.
pub mod feature {
    /// Profile list.
    pub const PROFILE_LIST: u16 = 0x0000;
    /// Core (physical interface).
    pub const CORE: u16 = 0x0001;
    /// Removable medium (tray, lock, eject).
    pub const REMOVABLE_MEDIUM: u16 = 0x0003;
    /// DVD read.
    pub const DVD_READ: u16 = 0x001f;
    /// Incremental streaming writable (DVD-R/RW incremental, CD TAO packet).
    pub const INCREMENTAL_STREAMING_WRITABLE: u16 = 0x0021;
    /// Formattable.
    pub const FORMATTABLE: u16 = 0x0023;
    /// Restricted overwrite (DVD-RW formatted for random writes).
    pub const RESTRICTED_OVERWRITE: u16 = 0x0026;
    /// DVD+RW.
    pub const DVD_PLUS_RW: u16 = 0x002a;
    /// DVD+R.
    pub const DVD_PLUS_R: u16 = 0x002b;
    /// CD track at once.
    pub const CD_TRACK_AT_ONCE: u16 = 0x002d;
    /// DVD-R/-RW write.
    pub const DVD_R_RW_WRITE: u16 = 0x002f;
    /// BD-R pseudo-overwrite.
    pub const BD_R_POW: u16 = 0x0038;
    /// DVD+R dual layer.
    pub const DVD_PLUS_R_DUAL_LAYER: u16 = 0x003b;
    /// BD read.
    pub const BD_READ: u16 = 0x0040;
    /// BD write.
    pub const BD_WRITE: u16 = 0x0041;
    /// Real-time streaming.
    pub const REAL_TIME_STREAMING: u16 = 0x0107;
}

/// One entry of the profile list (feature 0000h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileEntry {
    /// The profile.
    pub profile: Profile,
    /// CurrentP: this is the medium in the drive.
    pub current: bool,
}

/// The physical interface of the drive (feature 0001h bytes 4-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhysicalInterface {
    /// 0: unspecified.
    Unspecified,
    /// 1: SCSI family.
    Scsi,
    /// 2: ATAPI.
    Atapi,
    /// 3, 4, 6: IEEE 1394.
    Ieee1394,
    /// 7: Serial ATAPI.
    SerialAtapi,
    /// 8: USB.
    Usb,
    /// Anything else.
    Other(u32),
}

impl PhysicalInterface {
    /// Decodes the interface standard number.
    pub fn from_number(n: u32) -> PhysicalInterface {
        match n {
            0 => PhysicalInterface::Unspecified,
            1 => PhysicalInterface::Scsi,
            2 => PhysicalInterface::Atapi,
            3 | 4 | 6 => PhysicalInterface::Ieee1394,
            7 => PhysicalInterface::SerialAtapi,
            8 => PhysicalInterface::Usb,
            other => PhysicalInterface::Other(other),
        }
    }
}

/// How the medium goes in (feature 0003h byte 4 bits 7-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadingMechanism {
    /// 000b.
    Caddy,
    /// 001b.
    Tray,
    /// 010b.
    PopUp,
    /// 100b/101b: changers.
    Changer,
    /// Anything else.
    Other(u8),
}

impl LoadingMechanism {
    /// Decodes the 3-bit field.
    pub fn from_bits(bits: u8) -> LoadingMechanism {
        match bits & 0x07 {
            0 => LoadingMechanism::Caddy,
            1 => LoadingMechanism::Tray,
            2 => LoadingMechanism::PopUp,
            4 | 5 => LoadingMechanism::Changer,
            other => LoadingMechanism::Other(other),
        }
    }
}

/// A decoded feature body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// 0000h.
    ProfileList(Vec<ProfileEntry>),
    /// 0001h.
    Core {
        /// Physical interface standard.
        interface: PhysicalInterface,
        /// Device busy events.
        dbe: bool,
    },
    /// 0003h.
    RemovableMedium {
        /// The medium can be locked.
        lock: bool,
        /// The prevent jumper is present.
        prevent_jumper: bool,
        /// The drive can eject.
        eject: bool,
        /// The drive can load (close the tray).
        load: bool,
        /// Tray, caddy, slot.
        mechanism: LoadingMechanism,
    },
    /// 001Fh.
    DvdRead {
        /// Reads DVD+R/-R multi-border (MULTI110).
        multi110: bool,
        /// Reads DVD-R DL.
        dual_r: bool,
    },
    /// 0021h.
    IncrementalStreamingWritable {
        /// Data block types supported (bit n = type n).
        data_block_types: u16,
        /// Buffer underrun free recording.
        buf: bool,
        /// Link sizes the drive can write (16 on DVD-R, 7 on CD).
        link_sizes: Vec<u8>,
    },
    /// 0023h.
    Formattable {
        /// BD-RE full certification.
        cert: bool,
        /// BD-RE quick certification.
        qcert: bool,
        /// BD-RE spare area expansion.
        expand: bool,
        /// BD-RE format without spare.
        renosa: bool,
        /// BD-R random recording mode format.
        rrm: bool,
    },
    /// 002Ah.
    DvdPlusRw {
        /// Can write DVD+RW.
        write: bool,
        /// Close only (no quick start).
        close_only: bool,
        /// Quick start formatting.
        quick_start: bool,
    },
    /// 002Bh.
    DvdPlusR {
        /// Can write DVD+R.
        write: bool,
    },
    /// 002Dh.
    CdTrackAtOnce {
        /// Can write CD-RW.
        cd_rw: bool,
        /// Test write (simulation).
        test_write: bool,
        /// Buffer underrun free recording.
        buf: bool,
        /// Data types supported.
        data_types: u16,
    },
    /// 002Fh.
    DvdRWrite {
        /// Can write DVD-RW.
        dvd_rw: bool,
        /// Test write.
        test_write: bool,
        /// Can write DVD-R DL.
        dual_layer: bool,
        /// Buffer underrun free recording.
        buf: bool,
    },
    /// 0038h: only its current bit matters (GI).
    BdRPseudoOverwrite,
    /// 003Bh.
    DvdPlusRDualLayer {
        /// Can write DVD+R DL.
        write: bool,
    },
    /// 0040h: class bitmaps (bit n = version n).
    BdRead {
        /// BD-RE classes 0-3.
        re: [u16; 4],
        /// BD-R classes 0-3.
        r: [u16; 4],
        /// BD-ROM classes 0-3.
        rom: [u16; 4],
    },
    /// 0041h.
    BdWrite {
        /// Supports verify-not-required.
        svnr: bool,
        /// BD-RE classes 0-3.
        re: [u16; 4],
        /// BD-R classes 0-3.
        r: [u16; 4],
    },
    /// 0107h.
    RealTimeStreaming {
        /// Stream writing (WRITE(12) Streaming bit).
        stream_writing: bool,
        /// GET PERFORMANCE type 03h and SET STREAMING work.
        write_speed_performance: bool,
        /// Page 2Ah carries write speed descriptors.
        mode_page_2a_speeds: bool,
        /// SET CD SPEED works.
        set_cd_speed: bool,
        /// READ BUFFER CAPACITY Block bit works.
        read_buffer_capacity_block: bool,
    },
    /// Any other feature: its body (bytes after the 4-byte header).
    Other(Vec<u8>),
}

/// A feature descriptor: header and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDescriptor {
    /// Feature code.
    pub code: u16,
    /// Version (byte 2 bits 5-2).
    pub version: u8,
    /// Persistent (byte 2 bit 1).
    pub persistent: bool,
    /// Current (byte 2 bit 0): active for the medium in the drive.
    pub current: bool,
    /// The decoded body.
    pub feature: Feature,
}

/// The answer to GET CONFIGURATION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// The current profile (header bytes 6-7; [`Profile::None`] with no medium).
    pub current_profile: Profile,
    /// Feature descriptors in the order sent.
    pub features: Vec<FeatureDescriptor>,
}

impl Configuration {
    /// Parses the header and every complete feature descriptor within the announced length.
    /// A descriptor cut off by the allocation length is dropped; one whose length runs past
    /// the announced data length is an error.
    pub fn parse(bytes: &[u8]) -> Result<Configuration, ParseError> {
        const WHAT: &str = "GET CONFIGURATION data";
        if bytes.len() < 8 {
            return Err(ParseError::short(WHAT, 8, bytes.len()));
        }
        let announced = be32(bytes, 0) as usize + 4;
        if announced < 8 {
            return Err(ParseError::inconsistent(
                WHAT,
                format!("data length {} is shorter than the header", announced - 4),
            ));
        }
        let b = announced_slice(bytes, GetConfiguration::LENGTH);
        let mut features = Vec::new();
        let mut at = 8;
        while at + 4 <= b.len() {
            let end = at + 4 + b[at + 3] as usize;
            if end > announced {
                return Err(ParseError::inconsistent(
                    WHAT,
                    format!(
                        "feature {:04X}h at byte {at} runs to byte {end}, past the data length {announced}",
                        be16(b, at)
                    ),
                ));
            }
            if end > b.len() {
                break; // cut off by the allocation length
            }
            features.push(FeatureDescriptor::parse(&b[at..end]));
            at = end;
        }
        Ok(Configuration {
            current_profile: Profile::from_number(be16(b, 6)),
            features,
        })
    }

    /// The feature with this code, if the drive sent it.
    pub fn feature(&self, code: u16) -> Option<&FeatureDescriptor> {
        self.features.iter().find(|f| f.code == code)
    }

    /// True when the drive sent this feature with its current bit set.
    pub fn is_current(&self, code: u16) -> bool {
        self.feature(code).is_some_and(|f| f.current)
    }

    /// The profile list (feature 0000h), empty if absent.
    pub fn profiles(&self) -> &[ProfileEntry] {
        match self.feature(feature::PROFILE_LIST).map(|f| &f.feature) {
            Some(Feature::ProfileList(list)) => list,
            _ => &[],
        }
    }
}

impl FeatureDescriptor {
    /// Decodes one descriptor (`d` is exactly header + additional length bytes).
    fn parse(d: &[u8]) -> FeatureDescriptor {
        let code = be16(d, 0);
        let body = &d[4..];
        let feature = match code {
            feature::PROFILE_LIST => Feature::ProfileList(
                body.chunks_exact(4)
                    .map(|e| ProfileEntry {
                        profile: Profile::from_number(be16(e, 0)),
                        current: e[2] & 1 != 0,
                    })
                    .collect(),
            ),
            feature::CORE => Feature::Core {
                interface: PhysicalInterface::from_number(be32(d, 4)),
                dbe: bit(d, 8, 0),
            },
            feature::REMOVABLE_MEDIUM => Feature::RemovableMedium {
                lock: bit(d, 4, 0),
                prevent_jumper: bit(d, 4, 2),
                eject: bit(d, 4, 3),
                load: bit(d, 4, 4),
                mechanism: LoadingMechanism::from_bits(byte(d, 4) >> 5),
            },
            feature::DVD_READ => Feature::DvdRead {
                multi110: bit(d, 4, 0),
                dual_r: bit(d, 6, 0),
            },
            feature::INCREMENTAL_STREAMING_WRITABLE => {
                let count = byte(d, 7) as usize;
                let link_sizes = d.get(8..).unwrap_or(&[]);
                Feature::IncrementalStreamingWritable {
                    data_block_types: be16(d, 4),
                    buf: bit(d, 6, 0),
                    link_sizes: link_sizes[..count.min(link_sizes.len())].to_vec(),
                }
            }
            feature::FORMATTABLE => Feature::Formattable {
                cert: bit(d, 4, 0),
                qcert: bit(d, 4, 1),
                expand: bit(d, 4, 2),
                renosa: bit(d, 4, 3),
                rrm: bit(d, 8, 0),
            },
            feature::DVD_PLUS_RW => Feature::DvdPlusRw {
                write: bit(d, 4, 0),
                close_only: bit(d, 5, 0),
                quick_start: bit(d, 5, 1),
            },
            feature::DVD_PLUS_R => Feature::DvdPlusR {
                write: bit(d, 4, 0),
            },
            feature::CD_TRACK_AT_ONCE => Feature::CdTrackAtOnce {
                cd_rw: bit(d, 4, 1),
                test_write: bit(d, 4, 2),
                buf: bit(d, 4, 6),
                data_types: be16(d, 6),
            },
            feature::DVD_R_RW_WRITE => Feature::DvdRWrite {
                dvd_rw: bit(d, 4, 1),
                test_write: bit(d, 4, 2),
                dual_layer: bit(d, 4, 3),
                buf: bit(d, 4, 6),
            },
            feature::BD_R_POW => Feature::BdRPseudoOverwrite,
            feature::DVD_PLUS_R_DUAL_LAYER => Feature::DvdPlusRDualLayer {
                write: bit(d, 4, 0),
            },
            feature::BD_READ => Feature::BdRead {
                re: classes(d, 8),
                r: classes(d, 16),
                rom: classes(d, 24),
            },
            feature::BD_WRITE => Feature::BdWrite {
                svnr: bit(d, 4, 0),
                re: classes(d, 8),
                r: classes(d, 16),
            },
            feature::REAL_TIME_STREAMING => Feature::RealTimeStreaming {
                stream_writing: bit(d, 4, 0),
                write_speed_performance: bit(d, 4, 1),
                mode_page_2a_speeds: bit(d, 4, 2),
                set_cd_speed: bit(d, 4, 3),
                read_buffer_capacity_block: bit(d, 4, 4),
            },
            _ => Feature::Other(body.to_vec()),
        };
        FeatureDescriptor {
            code,
            version: (d[2] >> 2) & 0x0f,
            persistent: d[2] & 0x02 != 0,
            current: d[2] & 0x01 != 0,
            feature,
        }
    }
}

fn classes(d: &[u8], at: usize) -> [u16; 4] {
    [
        be16(d, at),
        be16(d, at + 2),
        be16(d, at + 4),
        be16(d, at + 6),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mmc::testutil::hex;

    #[test]
    fn cdbs() {
        assert_eq!(
            GetConfiguration::all()
                .with_allocation_length(8)
                .cdb()
                .as_bytes(),
            hex("46 00 00 00 00 00 00 00 08 00")
        );
        // growisofs's probe for feature 0021h (mmc.md 1.1).
        assert_eq!(
            GetConfiguration::one(0x21)
                .with_allocation_length(16)
                .cdb()
                .as_bytes(),
            hex("46 02 00 21 00 00 00 00 10 00")
        );
        let current = GetConfiguration {
            request: RequestType::Current,
            starting_feature: 0x0107,
            allocation_length: 0x1000,
        };
        assert_eq!(
            current.cdb().as_bytes(),
            hex("46 01 01 07 00 00 00 10 00 00")
        );
    }

    /// A multi-format USB burner with a blank DVD+RW, shaped after mmc.md R1 (GP60N,
    /// profile 1Ah) with R4's profile list order.
    pub(crate) fn dvd_burner_config(current: u16) -> Vec<u8> {
        let profiles: [u16; 14] = [
            0x12, 0x11, 0x15, 0x16, 0x14, 0x13, 0x1a, 0x1b, 0x2b, 0x10, 0x09, 0x0a, 0x08, 0x02,
        ];
        let mut f = Vec::new();
        // 0000h profile list, persistent + current.
        f.extend_from_slice(&[0x00, 0x00, 0x03, (profiles.len() * 4) as u8]);
        for p in profiles {
            f.extend_from_slice(&[0, p as u8, (p == current) as u8, 0]);
        }
        // 0001h core, version 2: USB.
        f.extend_from_slice(&hex("00 01 0b 08 00 00 00 08 01 00 00 00"));
        // 0003h removable medium: tray, load, eject, lock.
        f.extend_from_slice(&hex("00 03 03 04 39 00 00 00"));
        // 001Fh DVD read, MMC-3 form without body (as tgt sends it).
        f.extend_from_slice(&hex("00 1f 01 00"));
        // 0021h incremental streaming, not current on +RW: link size 16.
        f.extend_from_slice(&hex("00 21 04 08 01 00 01 01 10 00 00 00"));
        // 0023h formattable, current.
        f.extend_from_slice(&hex("00 23 01 08 00 00 00 00 00 00 00 00"));
        // 002Ah DVD+RW write, current.
        f.extend_from_slice(&hex("00 2a 05 04 01 00 00 00"));
        // 002Bh DVD+R write.
        f.extend_from_slice(&hex("00 2b 00 04 01 00 00 00"));
        // 002Dh CD TAO: CD-RW, test write, BUF; data types 0x0fff.
        f.extend_from_slice(&hex("00 2d 08 04 46 00 0f ff"));
        // 002Fh DVD-R/RW write: DVD-RW, test write, DL, BUF.
        f.extend_from_slice(&hex("00 2f 08 04 4e 00 00 00"));
        // 003Bh DVD+R DL write.
        f.extend_from_slice(&hex("00 3b 00 04 01 00 00 00"));
        // 0107h real-time streaming: 1Fh as tgt sends it.
        f.extend_from_slice(&hex("01 07 05 04 1f 00 00 00"));
        // 0108h (serial number) kept raw.
        f.extend_from_slice(&hex("01 08 03 04 4b 4c 5a 31"));
        let mut b = Vec::new();
        b.extend_from_slice(&((f.len() + 4) as u32).to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&current.to_be_bytes());
        b.extend_from_slice(&f);
        b
    }

    #[test]
    fn parses_a_dvd_burner() {
        let c = Configuration::parse(&dvd_burner_config(0x1a)).unwrap();
        assert_eq!(c.current_profile, Profile::DvdPlusRw);
        let profiles = c.profiles();
        assert_eq!(profiles.len(), 14);
        assert_eq!(profiles[0].profile, Profile::DvdRam);
        assert_eq!(profiles.iter().filter(|p| p.current).count(), 1);
        assert!(
            profiles
                .iter()
                .any(|p| p.current && p.profile == Profile::DvdPlusRw)
        );
        assert_eq!(profiles[13].profile, Profile::Other(2));
        assert_eq!(
            c.feature(feature::CORE).unwrap().feature,
            Feature::Core {
                interface: PhysicalInterface::Usb,
                dbe: true
            }
        );
        assert_eq!(c.feature(feature::CORE).unwrap().version, 2);
        assert_eq!(
            c.feature(feature::REMOVABLE_MEDIUM).unwrap().feature,
            Feature::RemovableMedium {
                lock: true,
                prevent_jumper: false,
                eject: true,
                load: true,
                mechanism: LoadingMechanism::Tray
            }
        );
        assert_eq!(
            c.feature(feature::DVD_READ).unwrap().feature,
            Feature::DvdRead {
                multi110: false,
                dual_r: false
            }
        );
        assert_eq!(
            c.feature(feature::INCREMENTAL_STREAMING_WRITABLE)
                .unwrap()
                .feature,
            Feature::IncrementalStreamingWritable {
                data_block_types: 0x0100,
                buf: true,
                link_sizes: vec![16]
            }
        );
        assert!(!c.is_current(feature::INCREMENTAL_STREAMING_WRITABLE));
        assert!(c.is_current(feature::FORMATTABLE));
        assert!(c.is_current(feature::DVD_PLUS_RW));
        assert_eq!(
            c.feature(feature::CD_TRACK_AT_ONCE).unwrap().feature,
            Feature::CdTrackAtOnce {
                cd_rw: true,
                test_write: true,
                buf: true,
                data_types: 0x0fff
            }
        );
        assert_eq!(
            c.feature(feature::DVD_R_RW_WRITE).unwrap().feature,
            Feature::DvdRWrite {
                dvd_rw: true,
                test_write: true,
                dual_layer: true,
                buf: true
            }
        );
        assert_eq!(
            c.feature(feature::REAL_TIME_STREAMING).unwrap().feature,
            Feature::RealTimeStreaming {
                stream_writing: true,
                write_speed_performance: true,
                mode_page_2a_speeds: true,
                set_cd_speed: true,
                read_buffer_capacity_block: true
            }
        );
        assert_eq!(
            c.feature(0x0108).unwrap().feature,
            Feature::Other(b"KLZ1".to_vec())
        );
    }

    #[test]
    fn parses_bd_features() {
        let body = hex("00 00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 06 00 00 00 00 00 00");
        let mut f = hex("00 40 01 1c 00 00 00 00");
        f.extend_from_slice(&body);
        f.extend_from_slice(&hex(
            "00 41 01 14 01 00 00 00 00 06 00 00 00 00 00 00 00 0e 00 00 00 00 00 00",
        ));
        f.extend_from_slice(&hex("00 38 01 04 00 00 00 00"));
        let mut b = ((f.len() + 4) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0, 0, 0x41]);
        b.extend_from_slice(&f);
        let c = Configuration::parse(&b).unwrap();
        assert_eq!(c.current_profile, Profile::BdRSequential);
        assert_eq!(
            c.feature(feature::BD_READ).unwrap().feature,
            Feature::BdRead {
                re: [0, 0, 0, 0],
                r: [4, 0, 0, 0],
                rom: [6, 0, 0, 0]
            }
        );
        assert_eq!(
            c.feature(feature::BD_WRITE).unwrap().feature,
            Feature::BdWrite {
                svnr: true,
                re: [6, 0, 0, 0],
                r: [0x0e, 0, 0, 0]
            }
        );
        assert!(c.is_current(feature::BD_R_POW));
    }

    #[test]
    fn no_medium_reports_profile_zero() {
        let c = Configuration::parse(&hex("00 00 00 04 00 00 00 00")).unwrap();
        assert_eq!(c.current_profile, Profile::None);
        assert!(c.features.is_empty());
        assert!(c.profiles().is_empty());
    }

    #[test]
    fn truncated_and_inconsistent() {
        let full = dvd_burner_config(0x1b);
        // Header cut: error.
        assert!(matches!(
            Configuration::parse(&full[..6]),
            Err(ParseError::Short {
                need: 8,
                got: 6,
                ..
            })
        ));
        // Cut by the allocation length inside a descriptor: the cut one is dropped.
        let cut = Configuration::parse(&full[..8 + 60 + 6]).unwrap();
        assert_eq!(cut.features.len(), 1);
        assert_eq!(cut.current_profile, Profile::DvdPlusR);
        // A feature whose length runs past the announced data length: error.
        let mut bad = full.clone();
        bad[8 + 3] = 0xf0;
        assert!(matches!(
            Configuration::parse(&bad),
            Err(ParseError::Inconsistent { .. })
        ));
        // A data length smaller than the header itself.
        assert!(matches!(
            Configuration::parse(&hex("00 00 00 02 00 00 00 1b")),
            Err(ParseError::Inconsistent { .. })
        ));
        // Data length shorter than what was received: only the announced part counts.
        let mut shorter = full.clone();
        shorter[3] = 4 + 60;
        assert_eq!(Configuration::parse(&shorter).unwrap().features.len(), 1);
    }
}

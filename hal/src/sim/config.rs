//! How a software drive is set up, and the `sim:` device spec that names one.
//!
//! A spec is what a person types after `--device`: `sim:PATH?option=value&option=value`.
//! PATH is the medium file (empty: a drive with no disc); the options choose the medium of a
//! new disc, the pacing, the drive's identity, commands it lacks, and faults to show. This
//! module only parses and renders specs; it opens no file.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::mmc::Profile;

/// Drive buffer size when the spec does not say (a typical DVD burner holds 2 MiB).
pub const DEFAULT_BUFFER_BYTES: usize = 2 * 1024 * 1024;

/// The smallest drive buffer accepted: one BD write unit (64 KiB).
pub const MIN_BUFFER_BYTES: usize = 64 * 1024;

/// Which clock paces the drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Wall-clock time: a paced WRITE, SYNCHRONIZE CACHE or BLANK really takes its time.
    #[default]
    Real,
    /// A clock that moves only when the drive would make the host wait (it jumps instead of
    /// sleeping) or when a test moves it with [`SimControl::advance_clock`](super::SimControl::advance_clock).
    /// Paced runs become instant and exactly repeatable.
    Virtual,
}

/// What INQUIRY reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveIdentity {
    /// T10 vendor identification, at most 8 ASCII characters.
    pub vendor: String,
    /// Product identification, at most 16 ASCII characters.
    pub product: String,
    /// Product revision level, at most 4 ASCII characters.
    pub revision: String,
}

impl Default for DriveIdentity {
    fn default() -> DriveIdentity {
        DriveIdentity {
            vendor: "BURNSTN".to_string(),
            product: "SimDrive BD-RW".to_string(),
            revision: "1.00".to_string(),
        }
    }
}

/// A sector that fails to read: always, or `failures` times and then reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableSector {
    /// The LBA that fails with 3/11/00.
    pub lba: u32,
    /// How many READs of it fail before it reads; `None` for every READ.
    pub failures: Option<u32>,
}

/// Faults a drive shows from the start (the spec's fault options). Tests usually set faults
/// while a burn runs, through [`SimControl`](super::SimControl), instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// The next N commands (other than INQUIRY, REQUEST SENSE, GET CONFIGURATION, GET EVENT
    /// STATUS NOTIFICATION) answer 2/04/01 becoming ready.
    pub not_ready: u32,
    /// The next N WRITEs answer 2/04/08 long write in progress without taking the data.
    pub long_write: u32,
    /// A WRITE covering one of these LBAs fails there with 3/0C/00.
    pub write_errors: Vec<u32>,
    /// Sectors that fail to read with 3/11/00.
    pub unreadable: Vec<UnreadableSector>,
    /// The drive stops answering when a WRITE reaches this LBA (until a reset).
    pub hang_at: Option<u32>,
    /// The power fails when a WRITE reaches this LBA.
    pub power_cut_at: Option<u32>,
    /// The medium is pulled out when a WRITE reaches this LBA.
    pub remove_at: Option<u32>,
}

/// Everything a [`SimDrive`](super::SimDrive) is opened with.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The medium file, or `None` for a drive with an empty (closed) tray. Its state lives
    /// next to it in `<file>.state.json`.
    pub medium: Option<PathBuf>,
    /// The profile of a new medium (used only when the medium file does not exist yet).
    pub profile: Profile,
    /// Capacity of a new medium in 2048-byte blocks, instead of the real one (tests only).
    pub capacity: Option<u32>,
    /// The drive's highest write speed in x (1x DVD = 1385 kB/s). 0 = unpaced: writes go to
    /// the medium file as fast as the host sends them.
    pub speed: f64,
    /// The drive's read speed in x. 0 = unpaced: READs answer as fast as the file reads.
    /// Paced reads let a test stop the station in the middle of a read-back.
    pub read_speed: f64,
    /// The drive buffer in bytes (a multiple of 2048, at least 64 KiB).
    pub buffer_bytes: usize,
    /// Which clock paces the drive.
    pub clock: ClockMode,
    /// What INQUIRY reports.
    pub identity: DriveIdentity,
    /// Operation codes this drive does not implement (answered 5/20/00).
    pub lacks: Vec<u8>,
    /// Faults present from the start.
    pub faults: FaultPlan,
    /// How many of the most recent commands the drive remembers for
    /// [`SimControl::commands`](super::SimControl::commands); `None` (the default): every
    /// one, which a long burn pays for at about 48 bytes a command (over 6 MB for a full DVD).
    pub command_log_limit: Option<usize>,
    /// The spec this configuration was parsed from, kept verbatim for `name()`.
    given_spec: Option<String>,
}

/// A `sim:` device spec that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The spec does not start with `sim:`.
    #[error("{spec:?} is not a software drive; write it as sim:PATH?option=value")]
    NotSim {
        /// What was given.
        spec: String,
    },
    /// An option name the software drive does not know.
    #[error("unknown software-drive option {name:?}; use one of: {}", OPTION_NAMES.join(", "))]
    UnknownOption {
        /// The unknown name.
        name: String,
    },
    /// An option without `=value`, or with a value it cannot take.
    #[error("software-drive option {option}={value:?} is invalid; expected {expected}")]
    BadValue {
        /// The option.
        option: &'static str,
        /// The value given.
        value: String,
        /// What the option takes.
        expected: &'static str,
    },
    /// An option given twice: which one counts would be a guess.
    #[error(
        "software-drive option {name:?} is given twice; give it once (write_error, unreadable and lacks take a comma-separated list)"
    )]
    Repeated {
        /// The option.
        name: String,
    },
    /// A command name in `lacks=` that is not known.
    #[error("unknown command {name:?} in lacks=; use one of: {} or a hex opcode like 0x4a", LACKABLE.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
    UnknownCommand {
        /// The unknown name.
        name: String,
    },
}

const OPTION_NAMES: [&str; 17] = [
    "profile",
    "capacity",
    "speed",
    "read_speed",
    "buffer",
    "clock",
    "vendor",
    "product",
    "revision",
    "lacks",
    "not_ready",
    "lwip",
    "write_error",
    "unreadable",
    "hang_at",
    "power_cut_at",
    "remove_at",
];

/// Commands a spec can take away with `lacks=`, by short name.
const LACKABLE: [(&str, u8); 21] = [
    ("format", 0x04),
    ("startstop", 0x1b),
    ("prevent", 0x1e),
    ("rfc", 0x23),
    ("sync", 0x35),
    ("toc", 0x43),
    ("gc", 0x46),
    ("gesn", 0x4a),
    ("rdi", 0x51),
    ("rti", 0x52),
    ("reserve", 0x53),
    ("modeselect", 0x55),
    ("modesense", 0x5a),
    ("close", 0x5b),
    ("rbc", 0x5c),
    ("blank", 0xa1),
    ("read12", 0xa8),
    ("write12", 0xaa),
    ("perf", 0xac),
    ("streaming", 0xb6),
    ("cdspeed", 0xbb),
];

impl SimConfig {
    /// A drive holding the medium in `medium` (a new one of `profile` if the file does not
    /// exist), unpaced, with a 2 MiB buffer and the real clock.
    pub fn new(medium: impl Into<PathBuf>, profile: Profile) -> SimConfig {
        SimConfig {
            medium: Some(medium.into()),
            profile,
            ..SimConfig::empty_tray()
        }
    }

    /// A drive with a closed, empty tray.
    pub fn empty_tray() -> SimConfig {
        SimConfig {
            medium: None,
            profile: Profile::DvdPlusR,
            capacity: None,
            speed: 0.0,
            read_speed: 0.0,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            clock: ClockMode::Real,
            identity: DriveIdentity::default(),
            lacks: Vec::new(),
            faults: FaultPlan::default(),
            command_log_limit: None,
            given_spec: None,
        }
    }

    /// Parses `sim:PATH?option=value&...`.
    ///
    /// Options: `profile` (token such as `dvd+r`, for a new medium; default `dvd+r`),
    /// `capacity` (blocks, new medium), `speed` (x, 0 = unpaced, the default), `buffer`
    /// (bytes, with K/M suffixes of 1024), `clock` (`real` or `virtual`), `vendor`,
    /// `product`, `revision`, `lacks` (command names such as `gesn,reserve,rfc`, or hex
    /// opcodes), and the faults `not_ready=N`, `lwip=N`, `write_error=LBA[,LBA]`,
    /// `unreadable=LBA[:K][,LBA[:K]]`, `hang_at=LBA`, `power_cut_at=LBA`, `remove_at=LBA`.
    /// Each option may be given once.
    pub fn from_spec(spec: &str) -> Result<SimConfig, SpecError> {
        let rest = spec.strip_prefix("sim:").ok_or_else(|| SpecError::NotSim {
            spec: spec.to_string(),
        })?;
        let (path, options) = match rest.split_once('?') {
            Some((path, options)) => (path, options),
            None => (rest, ""),
        };
        let mut config = SimConfig::empty_tray();
        if !path.is_empty() {
            config.medium = Some(PathBuf::from(path));
        }
        let mut seen: Vec<&str> = Vec::new();
        for option in options.split('&').filter(|o| !o.is_empty()) {
            let (name, value) = option.split_once('=').unwrap_or((option, ""));
            if seen.contains(&name) {
                return Err(SpecError::Repeated {
                    name: name.to_string(),
                });
            }
            seen.push(name);
            config.apply_option(name, value)?;
        }
        config.given_spec = Some(spec.to_string());
        Ok(config)
    }

    /// The spec that names this drive: the one it was parsed from, or a rendering of it.
    pub fn spec(&self) -> String {
        if let Some(given) = &self.given_spec {
            return given.clone();
        }
        let mut spec = String::from("sim:");
        if let Some(path) = &self.medium {
            spec.push_str(&path.to_string_lossy());
        }
        let mut options = Vec::new();
        if self.medium.is_some() {
            options.push(format!(
                "profile={}",
                self.profile.token().unwrap_or("dvd+r")
            ));
        }
        if let Some(capacity) = self.capacity {
            options.push(format!("capacity={capacity}"));
        }
        if self.speed > 0.0 {
            options.push(format!("speed={}", self.speed));
        }
        if self.read_speed > 0.0 {
            options.push(format!("read_speed={}", self.read_speed));
        }
        if self.buffer_bytes != DEFAULT_BUFFER_BYTES {
            options.push(format!("buffer={}", self.buffer_bytes));
        }
        if self.clock == ClockMode::Virtual {
            options.push("clock=virtual".to_string());
        }
        if !self.lacks.is_empty() {
            let mut lacks = String::from("lacks=");
            for (i, opcode) in self.lacks.iter().enumerate() {
                if i > 0 {
                    lacks.push(',');
                }
                match LACKABLE.iter().find(|(_, op)| op == opcode) {
                    Some((name, _)) => lacks.push_str(name),
                    None => {
                        let _ = write!(lacks, "0x{opcode:02x}");
                    }
                }
            }
            options.push(lacks);
        }
        if !options.is_empty() {
            spec.push('?');
            spec.push_str(&options.join("&"));
        }
        spec
    }

    fn apply_option(&mut self, name: &str, value: &str) -> Result<(), SpecError> {
        match name {
            "profile" => {
                self.profile = value.parse::<Profile>().map_err(|_| SpecError::BadValue {
                    option: "profile",
                    value: value.to_string(),
                    expected: "a medium such as dvd+r, dvd-rw, bd-r, bd-re, cd-r",
                })?;
            }
            "capacity" => {
                let blocks = parse_u32("capacity", value, "a number of 2048-byte blocks")?;
                if blocks < 1024 {
                    return Err(bad("capacity", value, "at least 1024 blocks"));
                }
                self.capacity = Some(blocks);
            }
            "speed" => {
                self.speed = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 100.0)
                    .ok_or_else(|| bad("speed", value, "a write speed in x from 0 to 100"))?;
            }
            "read_speed" => {
                self.read_speed = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 100.0)
                    .ok_or_else(|| bad("read_speed", value, "a read speed in x from 0 to 100"))?;
            }
            "buffer" => self.buffer_bytes = parse_buffer(value)?,
            "clock" => {
                self.clock = match value {
                    "real" => ClockMode::Real,
                    "virtual" => ClockMode::Virtual,
                    _ => return Err(bad("clock", value, "real or virtual")),
                }
            }
            "vendor" => self.identity.vendor = parse_ascii("vendor", value, 8)?,
            "product" => self.identity.product = parse_ascii("product", value, 16)?,
            "revision" => self.identity.revision = parse_ascii("revision", value, 4)?,
            "lacks" => {
                for command in value.split(',').filter(|c| !c.is_empty()) {
                    self.lacks.push(parse_command(command)?);
                }
            }
            "not_ready" => self.faults.not_ready = parse_u32("not_ready", value, "a count")?,
            "lwip" => self.faults.long_write = parse_u32("lwip", value, "a count")?,
            "write_error" => {
                for lba in value.split(',') {
                    let lba = parse_u32("write_error", lba, "LBA[,LBA]")?;
                    self.faults.write_errors.push(lba);
                }
            }
            "unreadable" => {
                for item in value.split(',') {
                    let (lba, failures) = match item.split_once(':') {
                        Some((lba, k)) => (lba, Some(k)),
                        None => (item, None),
                    };
                    let expected = "LBA[:FAILURES][,LBA[:FAILURES]]";
                    let lba = parse_u32("unreadable", lba, expected)?;
                    let failures = match failures {
                        Some(k) => Some(parse_u32("unreadable", k, expected)?),
                        None => None,
                    };
                    self.faults
                        .unreadable
                        .push(UnreadableSector { lba, failures });
                }
            }
            "hang_at" => self.faults.hang_at = Some(parse_u32("hang_at", value, "an LBA")?),
            "power_cut_at" => {
                self.faults.power_cut_at = Some(parse_u32("power_cut_at", value, "an LBA")?)
            }
            "remove_at" => self.faults.remove_at = Some(parse_u32("remove_at", value, "an LBA")?),
            _ => {
                return Err(SpecError::UnknownOption {
                    name: name.to_string(),
                });
            }
        }
        Ok(())
    }
}

fn bad(option: &'static str, value: &str, expected: &'static str) -> SpecError {
    SpecError::BadValue {
        option,
        value: value.to_string(),
        expected,
    }
}

fn parse_u32(option: &'static str, value: &str, expected: &'static str) -> Result<u32, SpecError> {
    let value = value.trim();
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => value.parse::<u32>(),
    };
    parsed.map_err(|_| bad(option, value, expected))
}

fn parse_buffer(value: &str) -> Result<usize, SpecError> {
    let expected = "a size in bytes (K and M suffixes: 1024), a multiple of 2048, at least 64K";
    let lower = value.trim().to_ascii_lowercase();
    let (digits, unit) = match lower.strip_suffix(['k', 'm']) {
        Some(digits) if lower.ends_with('k') => (digits, 1024usize),
        Some(digits) => (digits, 1024 * 1024),
        None => (lower.as_str(), 1),
    };
    let bytes = digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|b| *b >= MIN_BUFFER_BYTES && b % 2048 == 0 && *b <= 1 << 30)
        .ok_or_else(|| bad("buffer", value, expected))?;
    Ok(bytes)
}

fn parse_ascii(option: &'static str, value: &str, max: usize) -> Result<String, SpecError> {
    let expected = match max {
        8 => "at most 8 printable ASCII characters",
        16 => "at most 16 printable ASCII characters",
        _ => "at most 4 printable ASCII characters",
    };
    if value.len() > max || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(bad(option, value, expected));
    }
    Ok(value.to_string())
}

fn parse_command(name: &str) -> Result<u8, SpecError> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).map_err(|_| SpecError::UnknownCommand {
            name: name.to_string(),
        });
    }
    LACKABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, opcode)| *opcode)
        .ok_or_else(|| SpecError::UnknownCommand {
            name: name.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_spec_parses() {
        let spec = "sim:/tmp/d.img?profile=bd-re&speed=2.5&buffer=4M&clock=virtual&vendor=PIONEER\
                    &lacks=gesn,reserve,0x23&not_ready=3&lwip=5&write_error=100,200\
                    &unreadable=7:2,9&hang_at=64&power_cut_at=128&remove_at=256&capacity=4096";
        let config = SimConfig::from_spec(spec).unwrap();
        assert_eq!(config.medium, Some(PathBuf::from("/tmp/d.img")));
        assert_eq!(config.profile, Profile::BdRe);
        assert_eq!(config.speed, 2.5);
        assert_eq!(config.buffer_bytes, 4 << 20);
        assert_eq!(config.clock, ClockMode::Virtual);
        assert_eq!(config.identity.vendor, "PIONEER");
        assert_eq!(config.lacks, vec![0x4a, 0x53, 0x23]);
        assert_eq!(config.capacity, Some(4096));
        let faults = &config.faults;
        assert_eq!((faults.not_ready, faults.long_write), (3, 5));
        assert_eq!(faults.write_errors, vec![100, 200]);
        assert_eq!(
            faults.unreadable,
            vec![
                UnreadableSector {
                    lba: 7,
                    failures: Some(2)
                },
                UnreadableSector {
                    lba: 9,
                    failures: None
                }
            ]
        );
        assert_eq!(
            (faults.hang_at, faults.power_cut_at, faults.remove_at),
            (Some(64), Some(128), Some(256))
        );
        assert_eq!(config.spec(), spec, "name() is the spec as given");
    }

    #[test]
    fn defaults_are_unpaced_dvd_plus_r() {
        let config = SimConfig::from_spec("sim:disc.img").unwrap();
        assert_eq!(config.profile, Profile::DvdPlusR);
        assert_eq!(config.speed, 0.0);
        assert_eq!(config.buffer_bytes, DEFAULT_BUFFER_BYTES);
        assert_eq!(config.clock, ClockMode::Real);
        let empty = SimConfig::from_spec("sim:").unwrap();
        assert_eq!(empty.medium, None);
    }

    #[test]
    fn rendered_spec_round_trips() {
        let mut config = SimConfig::new("/m/x.img", Profile::DvdRwSequential);
        config.speed = 16.0;
        config.read_speed = 4.0;
        config.clock = ClockMode::Virtual;
        config.lacks = vec![0x4a, 0x99];
        let spec = config.spec();
        assert_eq!(
            spec,
            "sim:/m/x.img?profile=dvd-rw&speed=16&read_speed=4&clock=virtual&lacks=gesn,0x99"
        );
        let back = SimConfig::from_spec(&spec).unwrap();
        assert_eq!(back.profile, config.profile);
        assert_eq!(back.lacks, config.lacks);
        assert_eq!(back.speed, config.speed);
        assert_eq!(back.read_speed, config.read_speed);
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        let not_sim = SimConfig::from_spec("/dev/sr0").unwrap_err();
        assert!(matches!(not_sim, SpecError::NotSim { .. }));
        let unknown = SimConfig::from_spec("sim:x?colour=blue")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("colour") && unknown.contains("profile"),
            "{unknown}"
        );
        let speed = SimConfig::from_spec("sim:x?speed=fast")
            .unwrap_err()
            .to_string();
        assert!(
            speed.contains("speed") && speed.contains("0 to 100"),
            "{speed}"
        );
        let buffer = SimConfig::from_spec("sim:x?buffer=1000").unwrap_err();
        assert!(matches!(
            buffer,
            SpecError::BadValue {
                option: "buffer",
                ..
            }
        ));
        let lacks = SimConfig::from_spec("sim:x?lacks=teleport")
            .unwrap_err()
            .to_string();
        assert!(
            lacks.contains("teleport") && lacks.contains("gesn"),
            "{lacks}"
        );
        let profile = SimConfig::from_spec("sim:x?profile=floppy").unwrap_err();
        assert!(matches!(
            profile,
            SpecError::BadValue {
                option: "profile",
                ..
            }
        ));
        let twice = SimConfig::from_spec("sim:x?speed=1&speed=2").unwrap_err();
        assert_eq!(
            twice,
            SpecError::Repeated {
                name: "speed".to_string()
            }
        );
        assert!(twice.to_string().contains("give it once"), "{twice}");
        let vendor = SimConfig::from_spec("sim:x?vendor=MUCHTOOLONG").unwrap_err();
        assert!(matches!(
            vendor,
            SpecError::BadValue {
                option: "vendor",
                ..
            }
        ));
    }
}

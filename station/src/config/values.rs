//! The typed values of the settings file: a duration such as `"10m"`, a size such as
//! `"1GiB"`, a cron line, a medium name, a write speed, a device, a path.
//!
//! Each type parses from the text a volunteer writes and refuses anything else with a message
//! that says what is wrong and how to write it instead; `super::error` adds the line and the
//! setting. Serde reaches each one through `try_from`, so the message travels with toml's span.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use burnstation_hal::mmc::capacity::{NOMINAL_MEDIA, NominalMedium};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Why a value was refused: what is wrong, and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(message.into()))
}

/// `TryFrom<String>` through `FromStr`, which serde's `try_from = "String"` calls.
macro_rules! try_from_string_by_parsing {
    ($($type:ty),*) => {$(
        impl TryFrom<String> for $type {
            type Error = ValueError;
            fn try_from(text: String) -> Result<$type, ValueError> {
                text.parse()
            }
        }
    )*};
}

try_from_string_by_parsing!(Period, ByteSize, CronSchedule, WriteSpeed);

/// A length of time written as numbers with units: `"90s"`, `"10m"`, `"6h"`, `"7d"`, `"2w"`,
/// or several together (`"1h30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Period(pub Duration);

impl Period {
    /// The duration.
    pub fn duration(self) -> Duration {
        self.0
    }
}

const PERIOD_HELP: &str = "write a number and a unit, like \"90s\", \"10m\", \"6h\" or \"7d\"";

impl FromStr for Period {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Period, ValueError> {
        let refused = || refuse(format!("{text:?} is not a length of time; {PERIOD_HELP}"));
        let mut rest = text.trim();
        if rest.is_empty() {
            return refused();
        }
        let mut seconds: u64 = 0;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let (number, after) = rest.split_at(digits);
            let unit_len = after.len() - after.trim_start_matches(char::is_alphabetic).len();
            let (unit, after) = after.split_at(unit_len);
            let Ok(number) = number.parse::<u64>() else {
                return refused();
            };
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 7 * 86_400,
                _ => return refused(),
            };
            let Some(sum) = number
                .checked_mul(scale)
                .and_then(|part| seconds.checked_add(part))
            else {
                return refuse(format!("{text:?} is too long a time; {PERIOD_HELP}"));
            };
            seconds = sum;
            rest = after.trim_start();
        }
        Ok(Period(Duration::from_secs(seconds)))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut left = self.0.as_secs();
        if left == 0 {
            return f.write_str("0s");
        }
        for (unit, scale) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if left >= scale {
                write!(f, "{}{unit}", left / scale)?;
                left %= scale;
            }
        }
        Ok(())
    }
}

/// An amount of storage: `"1GiB"`, `"500MiB"`, `"2GB"`, `"0"`. Binary (KiB, MiB, GiB, TiB)
/// and decimal (kB, MB, GB, TB) units; a plain number is bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

const SIZE_HELP: &str = "write a number and a unit, like \"500MiB\", \"1GiB\" or \"2GB\"";

impl FromStr for ByteSize {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<ByteSize, ValueError> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let scale: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "TiB" => 1 << 40,
            "kB" | "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "TB" => 1_000_000_000_000,
            _ => return refuse(format!("{text:?} is not a size; {SIZE_HELP}")),
        };
        let Ok(number) = number.parse::<f64>() else {
            return refuse(format!("{text:?} is not a size; {SIZE_HELP}"));
        };
        let bytes = number * scale as f64;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return refuse(format!("{text:?} is too large a size; {SIZE_HELP}"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        if bytes < 1024 {
            return write!(f, "{bytes}B");
        }
        for (unit, scale) in [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)] {
            if bytes >= scale {
                return write!(f, "{:.1}{unit}", bytes as f64 / scale as f64);
            }
        }
        write!(f, "{:.0}KiB", bytes as f64 / 1024.0)
    }
}

/// A cron line (minute hour day-of-month month day-of-week), read in UTC.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct CronSchedule {
    pattern: String,
    cron: croner::Cron,
}

impl CronSchedule {
    /// The line as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The first time the line names strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }

    /// The last time the line names at or before `at`.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_previous_occurrence(&at, true).ok()
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronSchedule").field(&self.pattern).finish()
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &CronSchedule) -> bool {
        self.pattern == other.pattern
    }
}

const CRON_HELP: &str = "write five fields, minute hour day month weekday, like \"0 3 * * *\" \
                         (every day at 03:00 UTC)";

impl FromStr for CronSchedule {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<CronSchedule, ValueError> {
        let pattern = text.trim();
        // Five fields only: croner would also take a sixth (seconds) field and `@` nicknames,
        // which the guide does not describe and a volunteer should not meet in a copied line.
        if pattern.split_whitespace().count() != 5 {
            return refuse(format!("{text:?} is not a cron line; {CRON_HELP}"));
        }
        let parsed = croner::parser::CronParser::new().parse(pattern);
        let cron = match parsed {
            Ok(cron) => cron,
            Err(e) => return refuse(format!("{text:?} is not a cron line ({e}); {CRON_HELP}")),
        };
        // A line that names no time at all ("0 0 31 2 *") is refused here, not found out at 3am.
        let probe = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        if cron.find_next_occurrence(&probe, false).is_err() {
            return refuse(format!("{text:?} never happens; {CRON_HELP}"));
        }
        Ok(CronSchedule {
            pattern: pattern.to_string(),
            cron,
        })
    }
}

/// Which media the station asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub enum MediaChoice {
    /// Whatever blank disc is in the drive.
    Auto,
    /// These, best first (hal's table of media, by the names on the packets).
    Prefer(Vec<&'static NominalMedium>),
}

impl TryFrom<Vec<String>> for MediaChoice {
    type Error = ValueError;

    fn try_from(names: Vec<String>) -> Result<MediaChoice, ValueError> {
        let known = NOMINAL_MEDIA
            .iter()
            .map(|m| m.token)
            .collect::<Vec<_>>()
            .join(", ");
        if names.is_empty() {
            return refuse(format!(
                "the list is empty; write [\"auto\"] or media names such as [\"dvd+r\"] ({known})"
            ));
        }
        if names.iter().any(|n| n.trim().eq_ignore_ascii_case("auto")) {
            if names.len() == 1 {
                return Ok(MediaChoice::Auto);
            }
            return refuse("\"auto\" means any medium, so it must be alone: write [\"auto\"]");
        }
        let mut chosen: Vec<&'static NominalMedium> = Vec::new();
        for name in &names {
            let Ok(found) = name.parse::<&'static NominalMedium>() else {
                return refuse(format!(
                    "{name:?} is not a medium the box knows; use {known}"
                ));
            };
            if chosen.contains(&found) {
                return refuse(format!("{name:?} is listed twice; name each medium once"));
            }
            chosen.push(found);
        }
        Ok(MediaChoice::Prefer(chosen))
    }
}

/// How fast to write.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub enum WriteSpeed {
    /// As fast as the drive and the disc allow.
    Max,
    /// A multiple of the medium's base speed (the drive's nearest speed at or below it).
    Times(f64),
}

const SPEED_HELP: &str = "write \"max\" or a multiple of the base speed such as \"4x\"";

impl FromStr for WriteSpeed {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<WriteSpeed, ValueError> {
        let trimmed = text.trim().to_ascii_lowercase();
        if trimmed == "max" {
            return Ok(WriteSpeed::Max);
        }
        let number = trimmed.strip_suffix('x').unwrap_or(&trimmed);
        match number.trim().parse::<f64>() {
            Ok(times) if times > 0.0 && times <= 64.0 => Ok(WriteSpeed::Times(times)),
            _ => refuse(format!("{text:?} is not a write speed; {SPEED_HELP}")),
        }
    }
}

/// When a burn starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum StartPolicy {
    /// Wait for a button press.
    Ask,
    /// As soon as a blank disc is in the drive.
    Auto,
}

impl TryFrom<String> for StartPolicy {
    type Error = ValueError;
    fn try_from(text: String) -> Result<StartPolicy, ValueError> {
        match text.trim() {
            "ask" => Ok(StartPolicy::Ask),
            "auto" => Ok(StartPolicy::Auto),
            _ => refuse(format!(
                "{text:?} is not a choice here; write \"ask\" or \"auto\""
            )),
        }
    }
}

/// Which drive to burn with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum DeviceChoice {
    /// The only optical drive there is.
    Auto,
    /// A device node such as `/dev/sr0`.
    Path(PathBuf),
    /// A software drive (`sim:PATH?options`, or a changer `sim-changer:DIR?options`), for
    /// the demo and the tests.
    Sim(String),
}

impl TryFrom<String> for DeviceChoice {
    type Error = ValueError;
    fn try_from(text: String) -> Result<DeviceChoice, ValueError> {
        let trimmed = text.trim();
        if trimmed == "auto" {
            Ok(DeviceChoice::Auto)
        } else if trimmed.starts_with("sim:") || trimmed.starts_with("sim-changer:") {
            Ok(DeviceChoice::Sim(trimmed.to_string()))
        } else if trimmed.starts_with("/dev/") {
            Ok(DeviceChoice::Path(PathBuf::from(trimmed)))
        } else {
            refuse(format!(
                "{text:?} is not a drive; write \"auto\" or a device such as \"/dev/sr0\""
            ))
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Path(path) => write!(f, "{}", path.display()),
            DeviceChoice::Sim(spec) => f.write_str(spec),
        }
    }
}

/// A path that starts at `/`: the box has no "current folder" a relative path could mean.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AbsolutePath(pub PathBuf);

impl AbsolutePath {
    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl TryFrom<String> for AbsolutePath {
    type Error = ValueError;
    fn try_from(text: String) -> Result<AbsolutePath, ValueError> {
        if text.starts_with('/') && !text.contains('\n') {
            Ok(AbsolutePath(PathBuf::from(text)))
        } else {
            refuse(format!(
                "{text:?} is not a full path; write one that starts with /, like \"/data\""
            ))
        }
    }
}

/// The box's name: 1 to 32 letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct StationName(pub String);

impl TryFrom<String> for StationName {
    type Error = ValueError;
    fn try_from(text: String) -> Result<StationName, ValueError> {
        let fits = (1..=32).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if fits {
            Ok(StationName(text))
        } else {
            refuse(format!(
                "{text:?} is not a name the box can use; use 1 to 32 letters, digits, - and _"
            ))
        }
    }
}

/// The backup server's name or address (no user, no port: those are their own settings).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HostName(pub String);

impl TryFrom<String> for HostName {
    type Error = ValueError;
    fn try_from(text: String) -> Result<HostName, ValueError> {
        let name = text.trim();
        let ipv6 = name.contains(':') && name.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
        let dns = !name.is_empty()
            && !name.starts_with(['-', '.'])
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if text.contains('@') {
            return refuse(format!(
                "{text:?} has a user in it; put only the server's name here and the user in user"
            ));
        }
        if ipv6 || dns {
            Ok(HostName(name.to_string()))
        } else {
            refuse(format!(
                "{text:?} is not a server name; write a name like \"backup.example.org\" or an \
                 address like \"192.0.2.10\""
            ))
        }
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account name on the backup server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UserName(pub String);

impl TryFrom<String> for UserName {
    type Error = ValueError;
    fn try_from(text: String) -> Result<UserName, ValueError> {
        let fits = !text.is_empty()
            && text.len() <= 64
            && !text.starts_with('-')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if fits {
            Ok(UserName(text))
        } else {
            refuse(format!(
                "{text:?} is not an account name; write the name your administrator gave you, \
                 like \"burnstation\""
            ))
        }
    }
}

/// The folder on the backup server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RemotePath(pub String);

impl TryFrom<String> for RemotePath {
    type Error = ValueError;
    fn try_from(text: String) -> Result<RemotePath, ValueError> {
        if text.is_empty() || text.starts_with('-') || text.contains(['\n', '\0']) {
            refuse(format!(
                "{text:?} is not a folder on the server; write the one your administrator gave \
                 you, usually \"/\""
            ))
        } else {
            Ok(RemotePath(text))
        }
    }
}

/// A TCP port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Port(pub u16);

impl TryFrom<i64> for Port {
    type Error = ValueError;
    fn try_from(number: i64) -> Result<Port, ValueError> {
        match u16::try_from(number) {
            Ok(port) if port > 0 => Ok(Port(port)),
            _ => refuse(format!(
                "{number} is not a port; write a number from 1 to 65535 (ssh is usually 22)"
            )),
        }
    }
}

/// How many snapshots to keep: at least one, the one being burnt from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct KeepCount(pub u32);

impl TryFrom<i64> for KeepCount {
    type Error = ValueError;
    fn try_from(number: i64) -> Result<KeepCount, ValueError> {
        match u32::try_from(number) {
            Ok(count) if (1..=1000).contains(&count) => Ok(KeepCount(count)),
            _ => refuse(format!(
                "{number} snapshots cannot be kept; write a number from 1 to 1000"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_a_person_writes_them() {
        for (text, seconds) in [
            ("90s", 90),
            ("10m", 600),
            ("6h", 21_600),
            ("7d", 604_800),
            ("2w", 1_209_600),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("0s", 0),
        ] {
            assert_eq!(
                text.parse::<Period>().unwrap().0.as_secs(),
                seconds,
                "{text}"
            );
        }
        for text in ["", "10", "10q", "m", "-5m", "1.5h", "10 minutes"] {
            let err = text.parse::<Period>().unwrap_err().0;
            assert!(err.contains("\"10m\""), "{text}: {err}");
        }
        assert_eq!(Period(Duration::from_secs(5400)).to_string(), "1h30m");
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        for (text, bytes) in [
            ("1GiB", 1u64 << 30),
            ("500MiB", 500 << 20),
            ("1.5GiB", 3 << 29),
            ("2GB", 2_000_000_000),
            ("4096", 4096),
            ("0", 0),
        ] {
            assert_eq!(text.parse::<ByteSize>().unwrap().0, bytes, "{text}");
        }
        for text in ["", "1 gigabyte", "GiB", "1PiB", "1e30TB"] {
            assert!(text.parse::<ByteSize>().is_err(), "{text}");
        }
    }

    #[test]
    fn cron_lines_are_five_fields_that_happen() {
        let daily: CronSchedule = "0 3 * * *".parse().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-26T02:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            daily.next_after(at).unwrap().to_rfc3339(),
            "2026-11-26T03:00:00+00:00"
        );
        for text in [
            "0 3 * *",
            "0 0 3 * * *",
            "@daily",
            "61 3 * * *",
            "0 0 31 2 *",
        ] {
            assert!(text.parse::<CronSchedule>().is_err(), "{text}");
        }
    }

    #[test]
    fn media_are_auto_alone_or_known_names_once() {
        let auto = MediaChoice::try_from(vec!["auto".to_string()]).unwrap();
        assert_eq!(auto, MediaChoice::Auto);
        let named = MediaChoice::try_from(vec!["BD-R".into(), "dvd+r-dl".into()]).unwrap();
        let MediaChoice::Prefer(named) = named else {
            panic!("named media are a preference")
        };
        let tokens: Vec<&str> = named.iter().map(|m| m.token).collect();
        assert_eq!(tokens, ["bd-r", "dvd+r-dl"]);
        for bad in [
            vec![],
            vec!["auto".to_string(), "dvd+r".to_string()],
            vec!["dvd+q".to_string()],
            vec!["dvd+r".to_string(), "dvd+r".to_string()],
        ] {
            assert!(MediaChoice::try_from(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn speeds_are_max_or_a_multiple() {
        assert_eq!("max".parse::<WriteSpeed>().unwrap(), WriteSpeed::Max);
        assert_eq!("4x".parse::<WriteSpeed>().unwrap(), WriteSpeed::Times(4.0));
        assert_eq!(
            "2.4x".parse::<WriteSpeed>().unwrap(),
            WriteSpeed::Times(2.4)
        );
        for text in ["fast", "0x", "-4x", "100x", ""] {
            assert!(text.parse::<WriteSpeed>().is_err(), "{text}");
        }
    }
}

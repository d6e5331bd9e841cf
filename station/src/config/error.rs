//! What is wrong with a settings file, said so that a volunteer can fix it: the line, the
//! setting, and what to write instead, in one sentence.
//!
//! toml reports where a problem is as a byte span; this module turns the span into a line
//! number and the setting (`[section] key`) whose key or value holds it, and rewrites serde's
//! generic messages ("invalid type: string, expected i64") into the words the volunteer guide
//! uses ("write it as a number, without quotes").

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};

/// A settings file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error(
        "could not read the settings file {path} ({source}); check that it is there and that \
         the box may read it"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read, and something in it is wrong.
    #[error(transparent)]
    Invalid(Box<InvalidConfig>),
}

impl ConfigError {
    /// The details, for a display that shows the line and the setting apart.
    pub fn invalid(&self) -> Option<&InvalidConfig> {
        match self {
            ConfigError::Invalid(invalid) => Some(invalid),
            ConfigError::Read { .. } => None,
        }
    }
}

/// One problem in a settings file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidConfig {
    /// The file, as the volunteer knows it.
    pub file: String,
    /// The line (from 1), when the problem has one.
    pub line: Option<usize>,
    /// The setting, `section.key` (or `[section]` for a whole section), when there is one.
    pub setting: Option<String>,
    /// What is wrong and what to write instead.
    pub problem: String,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(setting) = &self.setting {
            write!(f, ", {setting}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// Where in the file a span falls.
#[derive(Debug, Default)]
struct Place {
    section: Option<String>,
    key: Option<String>,
}

impl Place {
    fn setting(&self) -> Option<String> {
        match (&self.section, &self.key) {
            (Some(section), Some(key)) => Some(format!("{section}.{key}")),
            (Some(section), None) => Some(format!("[{section}]")),
            (None, Some(key)) => Some(key.clone()),
            (None, None) => None,
        }
    }
}

/// The error toml (or one of our value types, through serde) reported, located and explained.
pub(super) fn from_toml(text: &str, origin: &str, error: &toml::de::Error) -> ConfigError {
    let span = error.span();
    let line = span.as_ref().map(|s| line_of(text, s.start));
    let message = error.message().trim();
    let (place, problem) = match DeTable::parse(text) {
        // The document parsed, so this is about a value or a name: find the setting.
        Ok(document) => {
            // A span that covers the whole document is about the document (a missing
            // section), even though it starts inside the first section.
            let place = span
                .as_ref()
                .filter(|s| **s != document.span())
                .map(|s| place_of(document.get_ref(), s.start))
                .unwrap_or_default();
            let problem = explain(message, &place);
            (place, problem)
        }
        // Not even TOML: the key on that line (if any) is the best name there is.
        Err(_) => {
            let place = Place {
                section: None,
                key: line.and_then(|n| key_on_line(text, n)),
            };
            let problem = format!(
                "this line is not valid TOML ({}); write name = value, with text in double \
                 quotes",
                message.replace('\n', ", ")
            );
            (place, problem)
        }
    };
    ConfigError::Invalid(Box::new(InvalidConfig {
        file: origin.to_string(),
        line,
        setting: place.setting(),
        problem,
    }))
}

/// A problem found after parsing, reported at `[section] key`.
pub(super) fn at_setting(
    text: &str,
    origin: &str,
    section: &str,
    key: &str,
    problem: String,
) -> ConfigError {
    let line = DeTable::parse(text)
        .ok()
        .and_then(|doc| span_of(doc.get_ref(), section, key))
        .map(|span| line_of(text, span.start));
    ConfigError::Invalid(Box::new(InvalidConfig {
        file: origin.to_string(),
        line,
        setting: Some(format!("{section}.{key}")),
        problem,
    }))
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn key_on_line(text: &str, line: usize) -> Option<String> {
    let (key, _) = text.lines().nth(line - 1)?.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('#')).then(|| key.to_string())
}

/// The section and key whose name or value covers `offset`. A section's own span covers its
/// whole body, so a problem with the section itself (a missing key) names just the section.
fn place_of(document: &DeTable<'_>, offset: usize) -> Place {
    let within = |span: Range<usize>| span.start <= offset && offset < span.end.max(span.start + 1);
    for (name, value) in document.iter() {
        let section = name.get_ref().to_string();
        if within(name.span()) {
            return Place {
                section: None,
                key: Some(section),
            };
        }
        let DeValue::Table(table) = value.get_ref() else {
            if within(value.span()) {
                return Place {
                    section: None,
                    key: Some(section),
                };
            }
            continue;
        };
        for (key, item) in table.iter() {
            if within(key.span()) || within(item.span()) {
                return Place {
                    section: Some(section),
                    key: Some(key.get_ref().to_string()),
                };
            }
        }
        if within(value.span()) {
            return Place {
                section: Some(section),
                key: None,
            };
        }
    }
    Place::default()
}

/// Where `key` is written in `[section]`; the section's header when the key is not written
/// (a setting that is missing but needed), so there is always a line to look at.
fn span_of(document: &DeTable<'_>, section: &str, key: &str) -> Option<Range<usize>> {
    let (header, table) = document
        .iter()
        .find(|(name, _)| name.get_ref() == section)?;
    let DeValue::Table(table) = table.get_ref() else {
        return None;
    };
    let written = table
        .iter()
        .find(|(name, _)| name.get_ref() == key)
        .map(|(name, _)| name.span());
    Some(written.unwrap_or_else(|| header.span()))
}

/// serde's and toml's messages in the volunteer guide's words. Our own value types already
/// speak them, and pass through unchanged.
fn explain(message: &str, place: &Place) -> String {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (given, known) = backquoted_names(rest);
        return unknown_name(&given, &known, place);
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let (missing, _) = backquoted_names(rest);
        return match &place.section {
            Some(section) => format!(
                "[{section}] has no {missing}; add a line {missing} = \"...\" with the value your \
                 administrator gave you"
            ),
            None => format!(
                "the file has no [{missing}] section; add it (see the file the box shipped with)"
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (given, known) = backquoted_names(rest);
        let choices: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
        return format!(
            "{given:?} is not one of the choices; write one of {}",
            choices.join(", ")
        );
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let wanted = message.rsplit("expected ").next().unwrap_or_default();
        // The display's settings read their times with humantime ("800ms", "2m").
        if wanted == "a duration" {
            let given = message
                .split_once("string ")
                .and_then(|(_, rest)| rest.rsplit_once(", expected"))
                .map_or("this", |(given, _)| given);
            return format!(
                "{given} is not a length of time; write a number and a unit, like \"800ms\", \"2m\" \
                 or \"1h\""
            );
        }
        let how = match wanted {
            "a boolean" => "write true or false, without quotes",
            "a string" => "write it as text in double quotes, like \"...\"",
            "a sequence" => "write a list in brackets, like [\"dvd+r\"]",
            "i64" => "write it as a number, without quotes",
            w if w.starts_with('u') => "write a whole number, 0 or more, without quotes",
            _ => return message.to_string(),
        };
        return format!("this is not the right kind of value; {how}");
    }
    message.to_string()
}

/// `unknown field `x`, expected one of `a`, `b`` → ("x", ["a", "b"]).
fn backquoted_names(text: &str) -> (String, Vec<String>) {
    let mut names = text.split('`').skip(1).step_by(2).map(str::to_string);
    let first = names.next().unwrap_or_default();
    (first, names.collect())
}

fn unknown_name(given: &str, known: &[String], place: &Place) -> String {
    let hint = closest(given, known)
        .map(|name| format!(" (did you mean {name}?)"))
        .unwrap_or_default();
    match &place.section {
        Some(section) => format!(
            "[{section}] has no setting {given:?}{hint}; the settings there are {}",
            known.join(", ")
        ),
        None => format!(
            "there is no section [{given}]{hint}; the sections are {}",
            known
                .iter()
                .map(|k| format!("[{k}]"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The known name within two edits of `given`, if one is.
fn closest<'a>(given: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(given, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

//! The three names every entry gets: its Rock Ridge name (the original bytes, untouched), its
//! ISO 9660 level-3 identifier and its Joliet identifier, plus the deterministic mangling
//! that keeps the last two unique inside a directory.
//!
//! Mangling depends only on the names of one directory, taken in byte order of their Rock
//! Ridge names, so the same tree always gives the same identifiers. This module must not
//! reject names: deciding what is encodable at all is the layout's job.

use std::collections::HashSet;

/// Longest file identifier (name + `.` + extension, without `;1`) at level 3 (ECMA 7.5.1
/// counts 30 for name and extension together).
const ISO_FILE_MAX: usize = 30;
/// Longest directory identifier at level 3 (ECMA 7.6.3).
const ISO_DIR_MAX: usize = 31;
/// Longest extension we keep in an ISO identifier.
const ISO_EXT_MAX: usize = 8;
/// Joliet's limit per identifier, in UCS-2 code units.
pub const JOLIET_MAX: usize = 64;
/// Longest extension (with its dot) kept when a Joliet name is cut.
const JOLIET_EXT_MAX: usize = 16;

/// A d-character (ECMA 7.4.1): what an ISO identifier may contain besides `.` and `;`.
fn is_d_char(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_'
}

fn to_d_chars(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| b.to_ascii_uppercase())
        .map(|b| if is_d_char(b) { b } else { b'_' })
        .collect()
}

/// Splits a name at its last dot into base and extension, treating a leading dot as part of
/// the base (`.profile` has no extension).
fn split_extension<T: PartialEq + Copy>(name: &[T], dot: T) -> (&[T], Option<&[T]>) {
    match name.iter().rposition(|&c| c == dot) {
        Some(0) | None => (name, None),
        Some(pos) => (&name[..pos], Some(&name[pos + 1..])),
    }
}

/// The ISO 9660 identifier candidate (without `;1`) for a Rock Ridge name, before mangling.
fn iso_candidate(rr_name: &[u8], is_dir: bool) -> (Vec<u8>, Vec<u8>) {
    if is_dir {
        let mut base = to_d_chars(rr_name);
        base.truncate(ISO_DIR_MAX);
        return (base, Vec::new());
    }
    let (base, ext) = split_extension(rr_name, b'.');
    let mut ext = ext.map(to_d_chars).unwrap_or_default();
    ext.truncate(ISO_EXT_MAX);
    let mut base = to_d_chars(base);
    base.truncate(ISO_FILE_MAX - ext.len());
    (base, ext)
}

fn iso_identifier(base: &[u8], ext: &[u8], is_dir: bool) -> Vec<u8> {
    let mut id = base.to_vec();
    if !is_dir {
        id.push(b'.');
        id.extend_from_slice(ext);
        id.extend_from_slice(b";1");
    }
    id
}

/// Assigns unique ISO 9660 identifiers (files as `NAME.EXT;1`, directories bare) to one
/// directory's children. `children` are `(rr_name, is_dir)` in Rock Ridge byte order; the
/// result is in the same order.
pub fn iso_names(children: &[(&[u8], bool)]) -> Vec<Vec<u8>> {
    let mut taken: HashSet<Vec<u8>> = HashSet::with_capacity(children.len());
    children
        .iter()
        .map(|&(rr, is_dir)| {
            let (base, ext) = iso_candidate(rr, is_dir);
            let limit = if is_dir {
                ISO_DIR_MAX
            } else {
                ISO_FILE_MAX - ext.len()
            };
            let mut id = iso_identifier(&base, &ext, is_dir);
            let mut counter = 0u64;
            while taken.contains(&id) {
                counter += 1;
                let digits = counter.to_string().into_bytes();
                let mut mangled = base.clone();
                mangled.truncate(limit.saturating_sub(digits.len()));
                mangled.extend_from_slice(&digits);
                id = iso_identifier(&mangled, &ext, is_dir);
            }
            taken.insert(id.clone());
            id
        })
        .collect()
}

/// Decodes a Rock Ridge name for Joliet: UTF-8 where valid, `_` for each invalid byte, `_`
/// for characters Joliet forbids (`* / : ; ? \` and controls) and for characters outside
/// the Basic Multilingual Plane (UCS-2 has no surrogates).
pub fn joliet_units(rr_name: &[u8]) -> Vec<u16> {
    let mut units = Vec::with_capacity(rr_name.len());
    for chunk in rr_name.utf8_chunks() {
        for ch in chunk.valid().chars() {
            let forbidden = matches!(ch, '*' | '/' | ':' | ';' | '?' | '\\') || (ch as u32) < 0x20;
            match u16::try_from(ch as u32) {
                Ok(unit) if !forbidden => units.push(unit),
                _ => units.push(u16::from(b'_')),
            }
        }
        units.extend(std::iter::repeat_n(u16::from(b'_'), chunk.invalid().len()));
    }
    units
}

/// The key under which two Joliet names collide: Windows compares them case-insensitively,
/// so `Readme` and `README` must not both appear in one Joliet directory.
fn joliet_fold(units: &[u16]) -> Vec<u16> {
    char::decode_utf16(units.iter().copied())
        .flat_map(|c| c.unwrap_or('_').to_uppercase())
        .map(|c| u16::try_from(c as u32).unwrap_or(u16::from(b'_')))
        .collect()
}

/// Builds `base` + `suffix` + `.ext` within `limit` units, cutting the base as needed.
fn joliet_compose(base: &[u16], suffix: &[u16], ext: Option<&[u16]>, limit: usize) -> Vec<u16> {
    let ext_len = ext.map_or(0, |e| e.len() + 1);
    let room = limit.saturating_sub(ext_len + suffix.len());
    let mut out: Vec<u16> = base[..base.len().min(room)].to_vec();
    out.extend_from_slice(suffix);
    if let Some(ext) = ext {
        out.push(u16::from(b'.'));
        out.extend_from_slice(ext);
    }
    out
}

/// Assigns unique Joliet identifiers (UCS-2 code units, at most 64) to one directory's
/// children, given in Rock Ridge byte order. A name that is too long keeps its extension
/// (when short) and loses the end of its base; a collision gets `~N` before the extension.
pub fn joliet_names(children: &[(&[u8], bool)]) -> Vec<Vec<u16>> {
    let mut taken: HashSet<Vec<u16>> = HashSet::with_capacity(children.len());
    children
        .iter()
        .map(|&(rr, is_dir)| {
            let units = joliet_units(rr);
            let (base, ext) = if is_dir {
                (&units[..], None)
            } else {
                match split_extension(&units, u16::from(b'.')) {
                    (base, Some(ext)) if ext.len() < JOLIET_EXT_MAX => (base, Some(ext)),
                    _ => (&units[..], None),
                }
            };
            let mut name = if units.len() <= JOLIET_MAX {
                units.clone()
            } else {
                joliet_compose(base, &[], ext, JOLIET_MAX)
            };
            let mut counter = 0u64;
            while taken.contains(&joliet_fold(&name)) {
                counter += 1;
                let suffix: Vec<u16> = format!("~{counter}").encode_utf16().collect();
                name = joliet_compose(base, &suffix, ext, JOLIET_MAX);
            }
            taken.insert(joliet_fold(&name));
            name
        })
        .collect()
}

/// Encodes UCS-2 code units big-endian, as Joliet stores identifiers.
pub fn ucs2_be(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_be_bytes()).collect()
}

/// A volume identifier for the primary descriptor: d-characters, at most 32.
pub fn iso_volume_id(volume_id: &str) -> String {
    let mut id = to_d_chars(volume_id.as_bytes());
    id.truncate(32);
    String::from_utf8(id).unwrap_or_default()
}

/// A volume identifier for the Joliet descriptor: at most 16 UCS-2 characters.
pub fn joliet_volume_id(volume_id: &str) -> String {
    let units = joliet_units(volume_id.as_bytes());
    String::from_utf16_lossy(&units[..units.len().min(16)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(names: &[(&str, bool)]) -> Vec<String> {
        let input: Vec<(&[u8], bool)> = names.iter().map(|(n, d)| (n.as_bytes(), *d)).collect();
        iso_names(&input)
            .into_iter()
            .map(|n| String::from_utf8(n).unwrap())
            .collect()
    }

    fn joliet(names: &[&[u8]]) -> Vec<String> {
        let input: Vec<(&[u8], bool)> = names.iter().map(|n| (*n, false)).collect();
        joliet_names(&input)
            .into_iter()
            .map(|n| String::from_utf16(&n).unwrap())
            .collect()
    }

    #[test]
    fn iso_names_are_d_characters_with_version() {
        assert_eq!(
            iso(&[
                ("notes.txt", false),
                ("my dir", true),
                ("archive.tar.gz", false)
            ]),
            ["NOTES.TXT;1", "MY_DIR", "ARCHIVE_TAR.GZ;1"]
        );
        assert_eq!(
            iso(&[(".profile", false), ("Makefile", false)]),
            ["_PROFILE.;1", "MAKEFILE.;1"]
        );
    }

    #[test]
    fn iso_collisions_are_numbered_within_the_limit() {
        let long = "a".repeat(40);
        let names = iso(&[
            ("README", false),
            ("readme", false),
            (&long, false),
            (&long, false),
        ]);
        assert_eq!(names[0], "README.;1");
        assert_eq!(names[1], "README1.;1");
        assert_eq!(names[2].len(), 30 + 3);
        assert_ne!(names[2], names[3]);
        assert!(names[3].starts_with(&"A".repeat(29)) && names[3].ends_with("1.;1"));
    }

    #[test]
    fn joliet_names_replace_forbidden_and_invalid_characters() {
        assert_eq!(
            joliet(&[b"weird;name", b"caf\xE9-latin1", "emoji-😀.txt".as_bytes()]),
            ["weird_name", "caf_-latin1", "emoji-_.txt"]
        );
    }

    #[test]
    fn joliet_names_are_cut_to_64_keeping_the_extension_and_unique_ignoring_case() {
        let long_a = format!("{}.txt", "x".repeat(100));
        let names = joliet(&[long_a.as_bytes(), long_a.as_bytes(), b"Readme", b"README"]);
        assert_eq!(names[0].encode_utf16().count(), 64);
        assert!(names[0].ends_with(".txt"));
        assert_eq!(names[1].encode_utf16().count(), 64);
        assert!(names[1].ends_with("~1.txt"));
        assert_eq!(names[2], "Readme");
        assert_eq!(names[3], "README~1");
    }
}

//! Reading a disc's own description back: `SET.json` and the lines of `CATALOG.txt`, so
//! that a restore needs nothing but the discs.

pub use super::files::SetInfo;

/// One line of `CATALOG.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogLine {
    /// The disc holding it; `None` for a split file's own line (its parts follow).
    pub disc: Option<u32>,
    pub size: u64,
    pub sha256: [u8; 32],
    /// The path on the disc (`backup/...`), unescaped.
    pub path: Vec<u8>,
}

/// A line of `CATALOG.txt` that is not a comment and cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line} of CATALOG.txt cannot be read; the disc's catalogue is damaged: use the CATALOG.txt of another disc of the set"
)]
pub struct CatalogLineError {
    pub line: usize,
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Parses one line (without its `\n`); `Ok(None)` for a comment or an empty line.
pub fn parse_catalog_line(
    text: &[u8],
    line: usize,
) -> Result<Option<CatalogLine>, CatalogLineError> {
    if text.is_empty() || text[0] == b'#' {
        return Ok(None);
    }
    let err = CatalogLineError { line };
    // Leading spaces pad the disc column: take the fields by skipping runs of spaces.
    let mut rest = text;
    let mut next = || -> Option<&[u8]> {
        let start = rest.iter().position(|&b| b != b' ')?;
        rest = &rest[start..];
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let field = &rest[..end];
        rest = &rest[end..];
        Some(field)
    };
    let disc = next().ok_or(err.clone())?;
    let size = next().ok_or(err.clone())?;
    let sha = next().ok_or(err.clone())?;
    let path = rest.strip_prefix(b"  ").ok_or(err.clone())?;
    let disc = match disc {
        b"-" => None,
        digits => Some(
            std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or(err.clone())?,
        ),
    };
    let size = std::str::from_utf8(size)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(err.clone())?;
    if sha.len() != 64 {
        return Err(err);
    }
    let mut sha256 = [0u8; 32];
    for (i, pair) in sha.chunks(2).enumerate() {
        let hi = hex_digit(pair[0]).ok_or(err.clone())?;
        let lo = hex_digit(pair[1]).ok_or(err.clone())?;
        sha256[i] = hi << 4 | lo;
    }
    let mut unescaped = Vec::with_capacity(path.len());
    let mut bytes = path.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(b'\\') => unescaped.push(b'\\'),
                Some(b'n') => unescaped.push(b'\n'),
                Some(b'r') => unescaped.push(b'\r'),
                _ => return Err(err),
            }
        } else {
            unescaped.push(b);
        }
    }
    Ok(Some(CatalogLine {
        disc,
        size,
        sha256,
        path: unescaped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::files::push_catalog_line;

    #[test]
    fn a_written_line_reads_back() {
        let sha = [0x5au8; 32];
        for (disc, size, path) in [
            (Some(1), 0, &b"backup/a b/c  d"[..]),
            (None, 123_456_789_012, b"backup/back\\slash\nnew\rline"),
            (Some(99_999), u64::MAX, b"backup/x"),
        ] {
            let mut out = Vec::new();
            push_catalog_line(&mut out, disc, size, &sha, path);
            assert_eq!(out.last(), Some(&b'\n'));
            let line = parse_catalog_line(&out[..out.len() - 1], 7)
                .unwrap()
                .unwrap();
            assert_eq!(line.disc, disc);
            assert_eq!(line.size, size);
            assert_eq!(line.sha256, sha);
            assert_eq!(line.path, path);
        }
        assert_eq!(parse_catalog_line(b"# comment", 1), Ok(None));
        assert_eq!(
            parse_catalog_line(b"    1  12  nothex  backup/x", 3),
            Err(CatalogLineError { line: 3 })
        );
    }
}

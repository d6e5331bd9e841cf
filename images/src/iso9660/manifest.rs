//! The `SHA256SUMS` manifest at the disc's root: one line per regular file name on the disc
//! (every name of a hard-linked file, generated files too, never the manifest itself), in
//! exactly the format GNU `sha256sum` writes, so `sha256sum -c SHA256SUMS` run in the
//! mounted disc's root checks every file.
//!
//! Its size depends only on the paths, so the layout knows it before any file is read; its
//! contents are produced last, from the hashes the stream computed on the way.
//!
//! The format is owned here, both ways: [`push_line`] writes a line with GNU's escaping, and
//! [`parse_manifest`] reads what `sha256sum` (and so `sha256sum -c`) accepts, for checking a
//! disc against the manifest it carries or a copy kept elsewhere.

use crate::digest::{hex_digit, push_hex};

use super::layout::{Layout, NodeKind};

/// The manifest's name at the disc's root.
pub const MANIFEST_NAME: &str = "SHA256SUMS";

/// One line of a `SHA256SUMS` manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The file's path relative to the disc root, raw bytes.
    pub path: Vec<u8>,
    /// Its SHA-256.
    pub sha256: [u8; 32],
}

/// A manifest that is not in `sha256sum` format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the manifest is not in sha256sum format: line {line}: {reason}")]
pub struct ManifestFormatError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// Whether `sha256sum` escapes this path: it then starts the line with `\` and writes `\\`,
/// `\n` and `\r` for backslash, newline and carriage return (GNU coreutils 9.x).
fn needs_escape(path: &[u8]) -> bool {
    path.iter().any(|&b| matches!(b, b'\\' | b'\n' | b'\r'))
}

fn escaped_len(path: &[u8]) -> usize {
    path.len()
        + if needs_escape(path) {
            1 + path
                .iter()
                .filter(|&&b| matches!(b, b'\\' | b'\n' | b'\r'))
                .count()
        } else {
            0
        }
}

/// Bytes of one line: optional `\`, 64 hex digits, two spaces, the (escaped) path, `\n`.
pub fn line_len(path: &[u8]) -> u64 {
    (64 + 2 + escaped_len(path) + 1) as u64
}

/// Appends one manifest line for `path` with digest `sha256`.
pub fn push_line(out: &mut Vec<u8>, path: &[u8], sha256: &[u8; 32]) {
    let escape = needs_escape(path);
    if escape {
        out.push(b'\\');
    }
    push_hex(out, sha256);
    out.extend_from_slice(b"  ");
    for &byte in path {
        match byte {
            b'\\' if escape => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' if escape => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
    out.push(b'\n');
}

/// Parses `sha256sum` output: `HASH  NAME` or `HASH *NAME` (binary mode), the hash in
/// either case, with GNU's escaping (a line starting with `\` has `\\`, `\n` and `\r`
/// escapes in its name). Names are relative to the disc root; a leading `./` is dropped.
/// Blank lines are skipped.
pub fn parse_manifest(bytes: &[u8]) -> Result<Vec<ManifestEntry>, ManifestFormatError> {
    let mut out = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let bad = |reason| ManifestFormatError {
            line: index + 1,
            reason,
        };
        // `sha256sum -c` drops one carriage return before the newline, so a manifest that
        // went through a CRLF editor or mail still checks (a name that really ends in CR
        // is written escaped, as `\r`, and is not affected).
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let (escaped, line) = match raw.strip_prefix(b"\\") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if line.len() < 66 {
            return Err(bad("too short for a SHA-256 and a name"));
        }
        let mut sha256 = [0u8; 32];
        for (byte, pair) in sha256.iter_mut().zip(line[..64].chunks(2)) {
            let digit = |c: u8| hex_digit(c).ok_or(bad("the hash is not 64 hexadecimal digits"));
            *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
        }
        if line[64] != b' ' || !(line[65] == b' ' || line[65] == b'*') {
            return Err(bad(
                "the hash must be followed by two spaces (or a space and *)",
            ));
        }
        let name = &line[66..];
        let mut path = if escaped {
            unescape(name).ok_or(bad("a bad \\ escape in the name"))?
        } else {
            name.to_vec()
        };
        if path.starts_with(b"./") {
            path.drain(..2);
        }
        out.push(ManifestEntry { path, sha256 });
    }
    Ok(out)
}

/// Undoes [`push_line`]'s escaping of a name; `None` for an escape GNU never writes.
fn unescape(name: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len());
    let mut bytes = name.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next()? {
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            _ => return None,
        });
    }
    Some(out)
}

/// The file nodes the manifest lists, in tree order: depth-first, each directory's entries
/// in byte order of their names (a directory's contents right after it). Holding node
/// numbers, not paths, keeps a 100 000-file manifest at 400 KB until its lines are written.
pub(crate) fn listed_files(layout: &Layout) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<u32> = vec![0];
    while let Some(dir) = stack.pop() {
        let mut kids = layout.dirs[dir as usize].iso_children.clone();
        kids.sort_unstable_by(|&a, &b| layout.name(a).cmp(layout.name(b)));
        // Files of this directory, then its subdirectories in order (pushed reversed).
        let mut subdirs = Vec::new();
        for kid in kids {
            match layout.nodes[kid as usize].kind {
                NodeKind::File { data } if Some(data) != layout.manifest => out.push(kid),
                NodeKind::Directory { dir } => subdirs.push(dir),
                _ => {}
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out
}

/// The manifest's exact size in bytes.
pub(crate) fn manifest_size(layout: &Layout) -> u64 {
    layout
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(index, node)| match node.kind {
            NodeKind::File { data } if Some(data) != layout.manifest => {
                Some(line_len(&layout.node_path(index as u32)))
            }
            _ => None,
        })
        .sum()
}

/// Appends the lines of `files[*next..]` to `out` until it holds at least `chunk` bytes,
/// given the SHA-256 of every data file (indexed like the layout's data files).
pub(crate) fn manifest_lines(
    layout: &Layout,
    files: &[u32],
    next: &mut usize,
    file_hashes: &[[u8; 32]],
    out: &mut Vec<u8>,
    chunk: usize,
) {
    while *next < files.len() && out.len() < chunk {
        let node = files[*next];
        if let NodeKind::File { data } = layout.nodes[node as usize].kind {
            push_line(out, &layout.node_path(node), &file_hashes[data as usize]);
        }
        *next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_gnu_sha256sum() {
        let hash = [0xABu8; 32];
        let mut out = Vec::new();
        push_line(&mut out, b"dir/plain.txt", &hash);
        push_line(&mut out, b"new\nline", &hash);
        push_line(&mut out, b"back\\slash", &hash);
        push_line(&mut out, b"a\rb", &hash);
        let hex = "ab".repeat(32);
        let expected = format!(
            "{hex}  dir/plain.txt\n\\{hex}  new\\nline\n\\{hex}  back\\\\slash\n\\{hex}  a\\rb\n"
        );
        assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
        let sizes: usize = [&b"dir/plain.txt"[..], b"new\nline", b"back\\slash", b"a\rb"]
            .iter()
            .map(|p| line_len(p) as usize)
            .sum();
        assert_eq!(sizes, out.len());
    }

    #[test]
    fn what_push_line_writes_parses_back() {
        let names: [&[u8]; 5] = [
            b"dir/plain.txt",
            b"new\nline",
            b"back\\slash",
            b"a\rb",
            b"x\\\n",
        ];
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            push_line(&mut out, name, &[i as u8; 32]);
        }
        let parsed = parse_manifest(&out).unwrap();
        let back: Vec<(&[u8], [u8; 32])> = parsed
            .iter()
            .map(|e| (e.path.as_slice(), e.sha256))
            .collect();
        let want: Vec<(&[u8], [u8; 32])> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, [i as u8; 32]))
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn manifests_parse_as_sha256sum_writes_them() {
        let text = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n\
\\e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  new\\nline\\\\back\n\
E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 *./dir/bin\n\n";
        let parsed = parse_manifest(text).unwrap();
        let names: Vec<&[u8]> = parsed.iter().map(|e| e.path.as_slice()).collect();
        assert_eq!(
            names,
            vec![b"empty".as_slice(), b"new\nline\\back", b"dir/bin"]
        );
        assert_eq!(parsed[2].sha256[0], 0xe3);
    }

    #[test]
    fn crlf_line_ends_parse_as_sha256sum_reads_them() {
        let hash = [7u8; 32];
        let mut lf = Vec::new();
        push_line(&mut lf, b"dir/plain.txt", &hash);
        push_line(&mut lf, b"a\rb", &hash);
        let crlf: Vec<u8> = lf
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|line| [&line[..line.len() - 1], b"\r\n"].concat())
            .collect();
        assert_eq!(parse_manifest(&crlf).unwrap(), parse_manifest(&lf).unwrap());
        assert_eq!(parse_manifest(&crlf).unwrap()[1].path, b"a\rb");
    }

    #[test]
    fn malformed_lines_name_their_line_and_fault() {
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases: [(String, usize, &str); 5] = [
            ("abc  file\n".to_string(), 1, "too short"),
            (format!("{}g  x\n", &hash[..63]), 1, "hexadecimal"),
            (format!("{hash}  ok\n{hash}\tx\n"), 2, "two spaces"),
            (format!("\\{hash}  bad\\q\n"), 1, "escape"),
            (format!("\n\n{hash} -x\n"), 3, "two spaces"),
        ];
        for (text, line, reason) in cases {
            let err = parse_manifest(text.as_bytes()).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.reason.contains(reason), "{text:?}: {err}");
        }
    }
}

//! The `SHA256SUMS` manifest at the disc's root: one line per regular file name on the disc
//! (every name of a hard-linked file, generated files too, never the manifest itself), in
//! exactly the format GNU `sha256sum` writes, so `sha256sum -c SHA256SUMS` run in the
//! mounted disc's root checks every file.
//!
//! Its size depends only on the paths, so the layout knows it before any file is read; its
//! contents are produced last, from the hashes the stream computed on the way.

use super::layout::{Layout, NodeKind};

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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let escape = needs_escape(path);
    if escape {
        out.push(b'\\');
    }
    for byte in sha256 {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 15)]);
    }
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

/// The file nodes the manifest lists, in tree order: depth-first, each directory's entries
/// in byte order of their names (a directory's contents right after it). Holding node
/// numbers, not paths, keeps a 100 000-file manifest at 400 KB until its lines are written.
pub(crate) fn listed_files(layout: &Layout) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<u32> = vec![0];
    while let Some(dir) = stack.pop() {
        let mut kids = layout.dirs[dir as usize].iso_children.clone();
        kids.sort_unstable_by(|&a, &b| {
            layout.nodes[a as usize]
                .name
                .cmp(&layout.nodes[b as usize].name)
        });
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
}

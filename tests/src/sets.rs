//! The snapshot the disc-set tests share: about 3.2 discs of 4096 blocks (8 MiB), with
//! files larger than a disc, and a listing to compare a restored tree with it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// The small "medium" the set tests plan for: 4096 blocks of 2048 bytes.
pub const SET_CAPACITY_BLOCKS: u64 = 4096;

/// Deterministic bytes that do not compress to zero blocks.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// About 3.2 discs of [`SET_CAPACITY_BLOCKS`]: a database dump larger than two discs, a
/// log larger than one (next to a file already named like its first part), many small
/// files, a README of the tree's own, a symlink and an empty directory.
pub fn build_set_tree(root: &Path) {
    let write = |rel: &str, data: &[u8]| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a relative path")).expect("mkdir");
        fs::write(path, data).expect("write a set fixture file");
    };
    write("README.txt", b"the tree's own README\n");
    write("db/dump.sql", &noise(1, 17 << 20));
    write("db/schema.sql", &noise(2, 3000));
    write("logs/big.log", &noise(3, (9 << 20) + 12345));
    write(
        "logs/big.log.part001",
        b"a file that only looks like a part\n",
    );
    for i in 0..150 {
        write(
            &format!("www/site{}/page{i:03}.html", i % 7),
            &noise(10 + i, 1000 + (i as usize * 337) % 30_000),
        );
    }
    for i in 0..60 {
        write(
            &format!("mail/cur/{i:05}.eml"),
            &noise(500 + i, 200 + (i as usize * 97) % 8000),
        );
    }
    fs::create_dir_all(root.join("mail/new")).expect("mkdir");
    symlink("site0/page000.html", root.join("www/index.html")).expect("symlink");
}

/// Every entry under `root`: a file's bytes, a symlink's target, `dir` for a directory.
pub fn tree_listing(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read a directory") {
            let path = entry.expect("a directory entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                out.insert(rel, b"dir".to_vec());
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).expect("a symlink");
                out.insert(rel, target.into_os_string().into_encoded_bytes());
            } else {
                out.insert(rel, fs::read(&path).expect("a file"));
            }
        }
    }
    out
}

//! Memory stays bounded: imaging a tree with many files and a large file peaks well under
//! the 64 MiB the board can spare, because memory follows the number of entries, never the
//! size of the files. Measured as the child's peak RSS (getrusage), not as time.
//! This file holds one test so that RUSAGE_CHILDREN sees only that child.

use std::fs;
use std::process::Command;

const FILES: usize = 30_000;
const LARGE: u64 = 2 << 30;
const LIMIT_KIB: i64 = 64 * 1024;

#[test]
fn imaging_many_files_and_a_large_one_stays_under_64_mib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    for i in 0..FILES {
        let sub = src.join(format!("dir{:03}", i / 300));
        if i % 300 == 0 {
            fs::create_dir_all(&sub).expect("mkdir");
        }
        fs::write(
            sub.join(format!("file-{i:06}-with-a-longish-name.txt")),
            i.to_string(),
        )
        .expect("write");
    }
    let large = fs::File::create(src.join("large.img")).expect("create");
    large.set_len(LARGE).expect("sparse 2 GiB");
    drop(large);
    let status = Command::new(env!("CARGO_BIN_EXE_burnstation"))
        .arg("image")
        .arg(&src)
        .args(["-o", "/dev/null", "--volume-time", "0"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run burnstation");
    assert!(status.success());
    // SAFETY: getrusage writes into the zeroed struct we pass and keeps no pointer.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage
    };
    let peak_kib = usage.ru_maxrss;
    assert!(
        peak_kib < LIMIT_KIB,
        "peak RSS {} MiB for {FILES} files and a {} GiB file; the limit is 64 MiB",
        peak_kib / 1024,
        LARGE >> 30
    );
}

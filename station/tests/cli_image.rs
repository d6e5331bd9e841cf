//! `burnstation image` and `burnstation ls`, run as a person would: the printed size and
//! SHA-256 match the file written, the same tree gives the same image, `ls` shows the Rock
//! Ridge tree, and mistakes end in one sentence that names the culprit.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

use burnstation_images::digest::hex;
use sha2::{Digest, Sha256};

fn burnstation() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burnstation"))
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run burnstation");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn failing(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run burnstation");
    assert!(!out.status.success(), "{cmd:?} should have failed");
    assert!(out.stdout.is_empty(), "errors go to stderr only");
    out
}

fn sample_tree(root: &Path) {
    fs::create_dir_all(root.join("docs/old")).expect("mkdir");
    fs::write(root.join("docs/report.txt"), b"quarterly numbers\n").expect("write");
    fs::write(root.join("docs/old/notes.md"), b"# notes\n").expect("write");
    fs::write(root.join("run.sh"), b"#!/bin/sh\necho hi\n").expect("write");
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o4755)).expect("chmod");
    symlink("docs/report.txt", root.join("latest")).expect("symlink");
}

fn image(src: &Path, out: &Path) -> String {
    ok(burnstation()
        .arg("image")
        .arg(src)
        .arg("-o")
        .arg(out)
        .args([
            "--volume-id",
            "Weekly 2026-11",
            "--volume-time",
            "1700000000",
        ]))
}

#[test]
fn image_prints_the_size_and_sha256_of_what_it_wrote_and_is_repeatable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    sample_tree(&src);
    let first = dir.path().join("first.iso");
    let printed = image(&src, &first);
    let bytes = fs::read(&first).expect("image written");
    let sha = hex(&Sha256::digest(&bytes));
    assert!(
        printed.contains(&format!(
            "{} bytes ({} blocks of 2048)",
            bytes.len(),
            bytes.len() / 2048
        )),
        "{printed}"
    );
    assert!(printed.contains(&format!("sha256 {sha}")), "{printed}");
    let second = dir.path().join("second.iso");
    let again = image(&src, &second);
    assert_eq!(
        printed.replace("first.iso", ""),
        again.replace("second.iso", ""),
        "same tree and volume time, same image"
    );
    assert_eq!(fs::read(&second).expect("second image"), bytes);
}

#[test]
fn ls_lists_the_rock_ridge_tree_like_ls_l() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    sample_tree(&src);
    let iso = dir.path().join("disc.iso");
    image(&src, &iso);
    let listing = ok(burnstation().arg("ls").arg(&iso));
    let line = |suffix: &str| -> String {
        listing
            .lines()
            .find(|l| l.ends_with(suffix) && (suffix.contains(" -> ") || !l.contains(" -> ")))
            .unwrap_or_else(|| panic!("no line ending in {suffix:?} in:\n{listing}"))
            .to_string()
    };
    assert!(line(" run.sh").starts_with("-rwsr-xr-x   1 "), "{listing}");
    assert!(
        line(" latest -> docs/report.txt").starts_with("lrwxrwxrwx"),
        "{listing}"
    );
    assert!(line(" docs").starts_with("drwxr-xr-x   3 "), "{listing}");
    assert!(
        line(" docs/old").starts_with("drwxr-xr-x   2 "),
        "{listing}"
    );
    assert!(
        line(" docs/report.txt").contains(" 18 "),
        "size 18 in {listing}"
    );
    assert!(
        line(" SHA256SUMS").contains("2023-11-14 22:13:20"),
        "{listing}"
    );
}

#[test]
fn a_missing_source_is_one_sentence_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = failing(
        burnstation()
            .arg("image")
            .arg(dir.path().join("no-such-dir"))
            .arg("-o")
            .arg(dir.path().join("x.iso")),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-dir"), "{stderr}");
}

#[test]
fn ls_of_something_that_is_not_an_image_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("bogus.iso");
    fs::write(&bogus, vec![0u8; 64 * 1024]).expect("write");
    let out = failing(burnstation().arg("ls").arg(&bogus));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an ISO 9660 image"), "{stderr}");
}

/// Root can read any file, so the unreadable-file check runs the command as `nobody`.
fn as_unprivileged(cmd: Command) -> Command {
    // SAFETY: geteuid has no preconditions and only reads the process's credentials.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return cmd;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    wrapped
}

#[test]
fn an_unreadable_file_is_named_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let src = dir.path().join("src");
    sample_tree(&src);
    fs::write(src.join("docs/secret.key"), b"no").expect("write");
    fs::set_permissions(
        src.join("docs/secret.key"),
        fs::Permissions::from_mode(0o000),
    )
    .expect("chmod");
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    fs::set_permissions(&out_dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let iso = out_dir.join("disc.iso");
    let mut cmd = burnstation();
    cmd.arg("image").arg(&src).arg("-o").arg(&iso);
    let out = failing(&mut as_unprivileged(cmd));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("docs/secret.key"), "{stderr}");
    assert!(stderr.contains("fix its permissions"), "{stderr}");
    assert!(
        !iso.exists(),
        "nothing is written before the tree is known to be readable"
    );
}

#[test]
fn an_unreadable_directory_is_named_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let src = dir.path().join("src");
    sample_tree(&src);
    fs::create_dir(src.join("locked")).expect("mkdir");
    fs::write(src.join("locked/inside"), b"x").expect("write");
    fs::set_permissions(src.join("locked"), fs::Permissions::from_mode(0o000)).expect("chmod");
    let mut cmd = burnstation();
    cmd.arg("image").arg(&src).args(["-o", "/dev/null"]);
    let out = failing(&mut as_unprivileged(cmd));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("src/locked"), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
}

//! The bad-input matrix of `docs/testing.md`, through the command line as a person meets
//! it: wrong paths, wrong files, hostile numbers, damaged and half-burnt discs, a tree that
//! changes under a burn, two burns on one disc. Each case ends in one sentence that says
//! what happened and what to do, with the exit status a script can act on; none crashes,
//! none passes silently, none destroys anything. (Corrupted media by the hundred are
//! `hostile_media.rs`'s; signals are `cli_signals.rs`'s.)

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burnstation_tests::awkward::{require, run};
use common::*;

/// Every file of `dir` (not recursing), for "nothing was left behind".
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `SHA256SUMS` of the disc file `disc`, extracted by xorriso into `out`.
fn manifest_of(disc: &Path, out: &Path) {
    require("xorriso", "xorriso");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(disc)
        .args(["-extract", "/SHA256SUMS"])
        .arg(out));
}

/// `burnstation image TREE -o OUT` where no file may grow past 1 MB: the image cannot be
/// written whole (EFBIG; the signal that would come with it is ignored, as a shell's trap
/// makes it).
fn image_within_1_mb(tree: &Path, out: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 2048; trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_burnstation"))
        .arg("image")
        .arg(tree)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// ---- Nothing destroyed ----

#[test]
fn an_output_inside_the_source_is_refused_before_anything_is_written() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let victim = tree.join("notes.txt");
    let before = fs::read(&victim).unwrap();
    let hard_link = scene.path("outside-but-the-same.iso");
    fs::hard_link(tree.join("db/part-03.bin"), &hard_link).unwrap();
    let part = fs::read(&hard_link).unwrap();
    let listing = names_in(&tree);
    for output in [
        victim.clone(),           // a file of the tree
        tree.join("new.iso"),     // a new file inside it
        tree.join("db/../x.iso"), // inside it by another spelling
        hard_link.clone(),        // outside by path, but one of its files
    ] {
        let out = burnstation(&[
            "image",
            tree.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ]);
        assert_exit(&out, ERROR);
        let said = stderr_of(&out);
        assert!(
            said.contains("inside the tree being imaged") || said.contains("the same file as"),
            "{}: {}",
            output.display(),
            text(&out)
        );
        assert!(out.stdout.is_empty(), "{}", text(&out));
    }
    assert_eq!(
        fs::read(&victim).unwrap(),
        before,
        "a file of the tree was overwritten"
    );
    assert_eq!(
        fs::read(&hard_link).unwrap(),
        part,
        "a hard link of the tree was overwritten"
    );
    assert_eq!(
        names_in(&tree),
        listing,
        "something was created in the tree"
    );
}

#[test]
fn a_failed_output_leaves_no_partial_file_and_keeps_the_old_image() {
    let scene = Scene::new();
    let tree = scene.big_tree();
    let out_dir = scene.path("out");
    fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("backup.iso");
    fs::write(&output, b"last week's image").unwrap();
    let out = image_within_1_mb(&tree, &output);
    assert_says(&out, ERROR, &["cannot write", "no image was left"]);
    assert_eq!(fs::read(&output).unwrap(), b"last week's image");
    assert_eq!(
        names_in(&out_dir),
        ["backup.iso"],
        "a partial file was left"
    );

    // A new output that fails leaves nothing at all.
    let new = out_dir.join("new.iso");
    let out = image_within_1_mb(&tree, &new);
    assert_exit(&out, ERROR);
    assert_eq!(names_in(&out_dir), ["backup.iso"], "{}", text(&out));
}

#[test]
fn an_image_to_stdout_is_only_the_image_and_the_summary_goes_to_stderr() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let file = scene.path("file.iso");
    image_of(&tree, &file);
    let out = burnstation(&[
        "image",
        tree.to_str().unwrap(),
        "-o",
        "/dev/stdout",
        "--volume-time",
        "1700000000",
    ]);
    assert_exit(&out, OK);
    assert!(
        out.stdout == fs::read(&file).unwrap(),
        "stdout is not exactly the image"
    );
    assert_says(&out, OK, &["sha256 "]);
}

// ---- No crash ----

#[test]
fn a_truncated_or_too_small_disc_is_reported_in_words_not_a_crash() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let image = scene.path("backup.iso");
    image_of(&tree, &image);
    let bytes = fs::read(&image).unwrap();
    // A truncated image used as a disc: its manifest at the end is gone.
    let truncated = scene.path("truncated.img");
    fs::write(&truncated, &bytes[..100_000]).unwrap();
    let device = format!("sim:{}", truncated.display());
    let out = burnstation(&["verify", "--device", &device]);
    assert_says(&out, ERROR, &["the disc ends after 49 blocks"]);
    // An image bigger than the disc: the disc fails as incomplete, read only as far as it
    // goes, naming the files beyond its end.
    let out = burnstation(&[
        "verify",
        "--device",
        &device,
        "--image",
        image.to_str().unwrap(),
    ]);
    assert_exit(&out, DAMAGED);
    assert_prints(
        &out,
        &["the disc ends after 49 blocks", "unreadable: /SHA256SUMS"],
    );
}

#[test]
fn a_huge_or_wrapping_buffer_is_refused_where_it_is_parsed() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    for buffer in ["33554432", "17592186044416", "0", "-1", "lots"] {
        let out = burnstation(&[
            "burn",
            tree.to_str().unwrap(),
            "--device",
            &scene.disc("profile=dvd+r"),
            &format!("--buffer={buffer}"),
        ]);
        assert_says(&out, ERROR, &["from 1 to 256"]);
        let written = fs::metadata(scene.path("disc.img")).map_or(0, |m| m.len());
        assert_eq!(written, 0, "{buffer}: the disc was touched");
    }
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r"),
        "--buffer",
        "256",
    ]);
    assert_exit(&out, OK);
}

// ---- No silent pass ----

#[test]
fn an_empty_manifest_fails_and_a_crlf_one_checks_as_sha256sum_checks_it() {
    require("sha256sum", "coreutils");
    let scene = Scene::new();
    let tree = scene.burnt_small_tree("profile=dvd+r");
    let empty = scene.path("empty.sums");
    fs::write(&empty, b"").unwrap();
    let out = burnstation(&[
        "verify",
        "--device",
        &scene.disc(""),
        "--manifest",
        empty.to_str().unwrap(),
    ]);
    assert_says(&out, ERROR, &["lists no files"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("verified"),
        "{}",
        text(&out)
    );

    // The disc's own manifest, with CRLF line ends: sha256sum -c takes it, and so do we.
    let extracted = scene.path("extracted");
    manifest_of(&scene.path("disc.img"), &extracted);
    let crlf = scene.path("crlf.sums");
    let lf = fs::read(&extracted).unwrap();
    let with_cr: Vec<u8> = lf
        .split_inclusive(|&b| b == b'\n')
        .flat_map(|line| [&line[..line.len() - 1], b"\r\n"].concat())
        .collect();
    fs::write(&crlf, with_cr).unwrap();
    run(Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet"])
        .arg(&crlf)
        .current_dir(&tree));
    let out = burnstation(&[
        "verify",
        "--device",
        &scene.disc(""),
        "--manifest",
        crlf.to_str().unwrap(),
    ]);
    assert_exit(&out, OK);
    assert_prints(&out, &["21 files checked"]);
}

/// A file of the tree rewritten in place (same size, mtime put back) while a paced burn
/// reads it: the burn does not report the disc good, and names the file.
#[test]
fn a_source_file_rewritten_during_a_burn_is_detected_and_the_disc_not_passed() {
    let scene = Scene::new();
    let tree = scene.big_tree();
    let big = tree.join("db/big.bin");
    // A 1 MiB host buffer and 1x: the producer is still inside big.bin when writing starts.
    let (child, stderr, mut seen) = started_until(
        &[
            "burn",
            tree.to_str().unwrap(),
            "--device",
            &scene.disc("profile=dvd+r&speed=1"),
            "--buffer",
            "1",
        ],
        "writing...",
    );
    let mtime = fs::metadata(&big).unwrap().modified().unwrap();
    let mut file = fs::File::options().write(true).open(&big).unwrap();
    std::io::Write::write_all(&mut file, &vec![0x5a; 8_000_000]).unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    let mut stdout = String::new();
    let code = {
        let mut child = child;
        let mut out = child.stdout.take().unwrap();
        std::io::Read::read_to_string(&mut out, &mut stdout).unwrap();
        finish(child, stderr, &mut seen)
    };
    assert_eq!(code, Some(ERROR), "{seen}\n{stdout}");
    assert!(
        seen.contains("db/big.bin") && seen.contains("changed while it was put on the disc"),
        "{seen}"
    );
    assert!(!stdout.contains("verified"), "{stdout}");
}

#[test]
fn a_file_that_is_no_disc_image_is_refused_as_a_burn_source_unless_forced() {
    let scene = Scene::new();
    let not_iso = scene.path("photos.tar");
    let bytes: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i * 7 + i / 4096) as u8)
        .collect();
    fs::write(&not_iso, &bytes).unwrap();
    let out = burnstation(&[
        "burn",
        not_iso.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r"),
    ]);
    assert_says(&out, ERROR, &["holds no ISO 9660 filesystem", "--non-iso"]);
    let media = burnstation(&["media", "--device", &scene.disc("")]);
    assert_prints(&media, &["blank"]);
    // Forced, it is written as it is and read back.
    let out = burnstation(&[
        "burn",
        not_iso.to_str().unwrap(),
        "--device",
        &scene.disc(""),
        "--non-iso",
    ]);
    assert_exit(&out, OK);
    assert!(bytes_of(&scene.path("disc.img"), bytes.len()) == bytes);
    // A pipe or a directory-less path is no image either.
    let out = burnstation(&["burn", "/dev/zero", "--device", &scene.disc("")]);
    assert_says(&out, ERROR, &["not a regular file"]);
}

// ---- Transient read errors ----

/// One read error that clears on a retry never fails a standalone verify, wherever it
/// strikes: the volume descriptor, the root directory, the manifest, a file.
#[test]
fn a_read_error_that_clears_on_retry_never_fails_a_verify() {
    let scene = Scene::new();
    scene.burnt_small_tree("profile=dvd+r");
    let disc = scene.path("disc.img");
    let kept = scene.path("kept.sums");
    manifest_of(&disc, &kept);
    let kept = kept.to_str().unwrap();
    // The root directory's block, from the primary volume descriptor (ECMA-119 8.4.18).
    let pvd = fs::read(&disc).unwrap()[16 * 2048..17 * 2048].to_vec();
    let root = u64::from(u32::from_le_bytes(pvd[158..162].try_into().unwrap()));
    for lba in [
        16, // the primary volume descriptor
        root,
        block_of(&disc, "SHA256SUMS"),
        block_of(&disc, "db/part-05.bin"),
    ] {
        let device = scene.disc(&format!("unreadable={lba}:1"));
        for manifest in [None, Some(kept)] {
            let mut args = vec!["verify", "--device", &device];
            args.extend(manifest.iter().flat_map(|m| ["--manifest", m]));
            let out = burnstation(&args);
            assert_exit(&out, OK);
            assert_prints(&out, &["verified: all"]);
        }
    }
}

// ---- Clear words ----

#[test]
fn a_blank_disc_and_an_interrupted_one_are_named_for_what_they_are() {
    let scene = Scene::new();
    let out = burnstation(&["verify", "--device", &scene.disc("profile=bd-r")]);
    assert_says(&out, ERROR, &["is blank"]);
    let tree = scene.path("image-dir");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("x"), b"x").unwrap();
    let image = scene.path("x.iso");
    image_of(&tree, &image);
    let out = burnstation(&[
        "verify",
        "--device",
        &scene.disc(""),
        "--image",
        image.to_str().unwrap(),
    ]);
    assert_says(&out, ERROR, &["is blank"]);

    let scene = Scene::new();
    let tree = scene.big_tree();
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r&speed=4&clock=virtual&power_cut_at=3200"),
    ]);
    assert_exit(&out, ERROR);
    for args in [
        vec!["verify", "--device"],
        vec!["verify", "--image", image.to_str().unwrap(), "--device"],
    ] {
        let mut args = args;
        let disc = scene.disc("");
        args.push(&disc);
        let out = burnstation(&args);
        assert_says(&out, ERROR, &["interrupted burn", "burnstation finalize"]);
    }
}

#[test]
fn a_failed_write_is_reported_as_one_by_media_and_finalize() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r&write_error=96"),
    ]);
    assert_says(&out, ERROR, &["writing block 96 failed"]);
    let media = burnstation(&["media", "--device", &scene.disc("")]);
    let said = String::from_utf8_lossy(&media.stdout);
    assert!(
        said.contains("a write to it failed") && !said.contains("power cut"),
        "{}",
        text(&media)
    );
    let finalize = burnstation(&["finalize", "--device", &scene.disc("")]);
    assert_says(
        &finalize,
        ERROR,
        &["a write to it failed", "cannot close it", "new disc"],
    );
}

#[test]
fn a_repeated_sim_option_or_a_directory_as_disc_is_an_error() {
    let scene = Scene::new();
    let disc = scene.path("disc.img");
    let out = burnstation(&[
        "media",
        "--device",
        &format!("sim:{}?speed=1&speed=2", disc.display()),
    ]);
    assert_says(&out, ERROR, &["\"speed\" is given twice"]);
    let out = burnstation(&[
        "media",
        "--device",
        &format!("sim:{}", scene.dir.path().display()),
    ]);
    assert_says(&out, ERROR, &["is not a file"]);
}

#[test]
fn ls_refuses_a_fifo_a_directory_and_a_character_device() {
    let scene = Scene::new();
    let fifo = scene.path("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for (path, kind) in [
        (fifo.as_path(), "FIFO"),
        (scene.dir.path(), "directory"),
        (Path::new("/dev/zero"), "character device"),
    ] {
        let mut child = burnstation_command()
            .arg("ls")
            .arg(path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A guard against the old failure, which waited for a writer for ever; not a
        // measure of speed.
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("ls {} never ended", path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_says(&out, ERROR, &[&format!("(it is a {kind})")]);
    }
}

/// Values the disc cannot hold as given are named in a warning, by `image` and `burn`
/// alike, and the image is still made.
#[test]
fn cut_and_clamped_values_are_named_in_warnings() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let late = tree.join("notes.txt");
    fs::File::options()
        .write(true)
        .open(&late)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(7_000_000_000))
        .unwrap();
    let label = "OpenSkills weekly backup 2026-11";
    let image = scene.path("out.iso");
    let out = burnstation(&[
        "image",
        tree.to_str().unwrap(),
        "-o",
        image.to_str().unwrap(),
        "--volume-id",
        label,
        "--volume-time",
        "-2500000000",
    ]);
    assert_exit(&out, OK);
    let said = stderr_of(&out);
    let warnings: Vec<&str> = said
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 3, "{said}");
    assert!(
        warnings[0].contains(label) && warnings[0].contains("\"OpenSkills weekl\""),
        "{said}"
    );
    assert!(warnings[1].contains("volume time -2500000000"), "{said}");
    assert!(
        warnings[2].contains("\"notes.txt\"") && warnings[2].contains("2191-"),
        "{said}"
    );
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r"),
        "--volume-id",
        label,
    ]);
    assert_says(
        &out,
        OK,
        &[
            "warning: the volume ID",
            "warning: the modification time of \"notes.txt\"",
        ],
    );
}

// ---- Two burners, one disc ----

#[test]
fn a_second_burn_of_a_disc_being_burnt_is_refused_and_the_first_completes() {
    let scene = Scene::new();
    let tree = scene.big_tree();
    let tree = tree.to_str().unwrap();
    let disc = scene.disc("profile=dvd+r&speed=2");
    let (child, stderr, mut seen) = started_until(&["burn", tree, "--device", &disc], "writing...");
    for command in [
        vec!["burn", tree, "--device", &disc],
        vec!["media", "--device", &disc],
        vec!["finalize", "--device", &disc],
    ] {
        let out = burnstation(&command);
        assert_says(&out, ERROR, &["is in use by another burnstation"]);
    }
    let mut child = child;
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert_eq!(finish(child, stderr, &mut seen), Some(OK), "{seen}");
    assert!(stdout.contains("verified: all"), "{stdout}");
}

#[test]
fn an_output_in_a_missing_directory_is_refused_in_words() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let out = burnstation(&["image", tree.to_str().unwrap(), "-o", "/nonexistent/x.iso"]);
    assert_says(&out, ERROR, &["check that its directory exists"]);
}

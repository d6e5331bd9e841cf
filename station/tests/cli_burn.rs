//! `burnstation burn`, `verify`, `media`, `finalize`, `drives` and `eject` as a person runs
//! them, against SimDrive discs: the disc an independent reader (xorriso) extracts equals
//! the source tree; every fault ends with the exit status a script can act on (1: the disc
//! is damaged, 2: an error) and a sentence that says what to do, and a bad disc is never
//! reported good. Signals are `cli_signals.rs`'s, hostile input `cli_hostile.rs`'s.

mod common;

use std::fs;
use std::process::{Command, Output};

use burnstation_tests::awkward::{Fidelity, build_awkward_tree, compare_trees, require, run};
use common::*;

#[test]
fn a_burnt_tree_is_what_xorriso_extracts_and_verifies_three_ways() {
    require("xorriso", "xorriso");
    require("sha256sum", "coreutils");
    let scene = Scene::new();
    let tree = scene.path("awkward");
    fs::create_dir(&tree).unwrap();
    build_awkward_tree(&tree);
    let disc = scene.disc("profile=dvd+r");

    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &disc,
        "--volume-time",
        "1700000000",
    ]);
    assert_exit(&out, OK);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("verified: all"), "{}", text(&out));

    // The independent reader's view of the medium file is the source tree.
    let extracted = scene.path("extracted");
    run(Command::new("xorriso")
        .args(["-hardlinks", "on", "-osirrox", "on", "-indev"])
        .arg(scene.path("disc.img"))
        .args(["-extract", "/"])
        .arg(&extracted));
    compare_trees(
        &tree,
        &extracted,
        Fidelity::XORRISO,
        &|p, _| Some(p.to_vec()),
        &[b"SHA256SUMS"],
    );
    run(Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&extracted));

    // Verify against the disc's own manifest.
    let out = burnstation(&["verify", "--device", &disc]);
    assert_exit(&out, OK);
    // Against an image of the same tree made by `burnstation image` with the same volume
    // time: the disc must be that image, byte for byte.
    let image = scene.path("same.iso");
    let made = burnstation(&[
        "image",
        tree.to_str().unwrap(),
        "-o",
        image.to_str().unwrap(),
        "--volume-time",
        "1700000000",
    ]);
    assert_exit(&made, OK);
    let out = burnstation(&[
        "verify",
        "--device",
        &disc,
        "--image",
        image.to_str().unwrap(),
    ]);
    assert_exit(&out, OK);
    // Against a manifest kept elsewhere.
    let manifest = extracted.join("SHA256SUMS");
    let out = burnstation(&[
        "verify",
        "--device",
        &disc,
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert_exit(&out, OK);

    // And `media` describes the finalized disc.
    let out = burnstation(&["media", "--device", &disc]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("DVD+R") && stdout.contains("complete (finalized)"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_image_file_burns_onto_bd_re_and_verifies() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let image = scene.path("backup.iso");
    assert!(
        burnstation(&[
            "image",
            tree.to_str().unwrap(),
            "-o",
            image.to_str().unwrap()
        ])
        .status
        .success()
    );
    let disc = scene.disc("profile=bd-re");
    let out = burnstation(&["burn", image.to_str().unwrap(), "--device", &disc]);
    assert_exit(&out, OK);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("verified: all"),
        "{}",
        text(&out)
    );
    let on_disc = fs::read(scene.path("disc.img")).unwrap();
    let meant = fs::read(&image).unwrap();
    assert!(
        on_disc[..meant.len()] == meant[..],
        "the disc does not hold the image"
    );
}

#[test]
fn an_unreadable_sector_fails_verification_naming_the_file() {
    let scene = Scene::new();
    scene.burnt_small_tree("profile=dvd+r");
    let lba = block_of(&scene.path("disc.img"), "db/part-07.bin");

    let out = burnstation(&[
        "verify",
        "--device",
        &scene.disc(&format!("unreadable={lba}")),
    ]);
    assert_exit(&out, DAMAGED);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unreadable: /db/part-07.bin"),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("1 unreadable"), "{}", text(&out));
    assert!(
        !stdout.contains("part-06") && !stdout.contains("part-08"),
        "only the damaged file is named:\n{stdout}"
    );

    // A block that reads after two failures is fine, and counted as retried.
    let out = burnstation(&[
        "verify",
        "--device",
        &scene.disc(&format!("unreadable={lba}:2")),
    ]);
    assert_exit(&out, OK);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("read after retries"),
        "{}",
        text(&out)
    );
}

#[test]
fn changed_bytes_on_the_disc_fail_verification_naming_the_file() {
    let scene = Scene::new();
    scene.burnt_small_tree("profile=bd-r");
    let disc = scene.path("disc.img");
    let lba = block_of(&disc, "db/part-11.bin");
    let mut bytes = fs::read(&disc).unwrap();
    bytes[(lba * 2048 + 100) as usize] ^= 0xff;
    fs::write(&disc, &bytes).unwrap();
    let out = burnstation(&["verify", "--device", &scene.disc("")]);
    assert_exit(&out, DAMAGED);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("differs:    /db/part-11.bin"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_non_blank_write_once_disc_is_refused_and_left_unchanged() {
    let scene = Scene::new();
    let tree = scene.burnt_small_tree("profile=dvd+r");
    let before = fs::read(scene.path("disc.img")).unwrap();
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc(""),
        "--erase",
    ]);
    assert_exit(&out, ERROR);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("finalized") && stderr.contains("insert a blank disc"),
        "{}",
        text(&out)
    );
    // The disc is refused before the tree is read: a volunteer with the wrong disc hears
    // so at once, not after a long scan of the snapshot.
    assert!(!stderr.contains("reading the tree"), "{}", text(&out));
    assert_eq!(fs::read(scene.path("disc.img")).unwrap(), before);
}

/// `-vvv` logs every command the drive answered, so a person (or the emulated-burner
/// system test) can see exactly what went to the drive; a log that goes to a file or a pipe
/// carries no terminal colour codes.
#[test]
fn a_trace_to_a_pipe_names_every_command_without_colour_codes() {
    let scene = Scene::new();
    let out = burnstation(&["-vvv", "media", "--device", &scene.disc("profile=dvd+r")]);
    assert_exit(&out, OK);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for command in [
        "TEST UNIT READY",
        "GET CONFIGURATION",
        "READ DISC INFORMATION",
        "READ TRACK INFORMATION",
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.contains(&format!("command=\"{command}\""))),
            "{command} missing from the trace:\n{}",
            text(&out)
        );
    }
    assert!(!stderr.contains('\u{1b}'), "{}", text(&out));
}

/// A drive that lacks the optional commands real drives often lack (and tgt lacks) still
/// burns and verifies, and the person is told which fallbacks were taken. The emulated
/// burner cannot show this on DVD+R, where the station needs none of them (docs/testing.md),
/// so a DVD+RW on a software drive does: it is the medium that uses READ FORMAT CAPACITIES.
#[test]
fn a_drive_lacking_optional_commands_burns_and_says_which_fallbacks_it_took() {
    let scene = Scene::new();
    let tree = scene.small_tree();
    let disc = scene.disc("profile=dvd+rw&lacks=gesn,rfc,reserve,perf,rbc");
    let out = burnstation(&["-v", "burn", tree.to_str().unwrap(), "--device", &disc]);
    assert_exit(&out, OK);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("verified: all"),
        "{}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for fallback in [
        "READ FORMAT CAPACITIES failed, format state taken from disc information",
        "GET PERFORMANCE (write speeds) failed, using page 2Ah",
        "READ BUFFER CAPACITY unusable; drive buffer fill unknown",
    ] {
        assert!(
            stderr.contains(fallback),
            "{fallback:?} missing:\n{}",
            text(&out)
        );
    }
    let out = burnstation(&["media", "--device", &disc]);
    let fallbacks: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("fallback:"))
        .map(|line| line.trim().to_string())
        .collect();
    assert_eq!(fallbacks.len(), 3, "{}", text(&out));
    assert!(
        fallbacks[0].starts_with("READ FORMAT CAPACITIES failed"),
        "{}",
        text(&out)
    );
    assert!(
        fallbacks[1].starts_with("GET PERFORMANCE (write speeds) failed"),
        "{}",
        text(&out)
    );
    assert!(
        fallbacks[2].contains("discs are noticed by polling TEST UNIT READY"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("disc changes:     noticed by polling"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_power_cut_leaves_an_interrupted_disc_that_is_refused_then_finalized() {
    let scene = Scene::new();
    let tree = scene.big_tree();
    // At block 3200 (6.5 MB) about 4.5 MB have been burnt; the 2 MiB buffer is lost.
    let out = burnstation(&[
        "burn",
        tree.to_str().unwrap(),
        "--device",
        &scene.disc("profile=dvd+r&speed=4&clock=virtual&power_cut_at=3200"),
    ]);
    assert_exit(&out, ERROR);

    // "After the restart": a new run sees the open disc and refuses to touch it.
    let out = burnstation(&["burn", tree.to_str().unwrap(), "--device", &scene.disc("")]);
    assert_exit(&out, ERROR);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("interrupted burn") && stderr.contains("burnstation finalize"),
        "{}",
        text(&out)
    );

    let out = burnstation(&["finalize", "--device", &scene.disc("")]);
    assert_exit(&out, OK);
    let media = burnstation(&["media", "--device", &scene.disc("")]);
    let stdout = String::from_utf8_lossy(&media.stdout);
    assert!(
        stdout.contains("complete (finalized)") && !stdout.contains("interrupted"),
        "{}",
        text(&media)
    );
}

#[test]
fn a_paced_software_drive_logs_its_burning_time_and_underruns() {
    // What `cargo xtask bench burn` reads: SimDrive's own account of the stream it burnt.
    let scene = Scene::new();
    let tree = scene.big_tree();
    let out = Command::new(env!("CARGO_BIN_EXE_burnstation"))
        .args(["burn", tree.to_str().unwrap(), "--device"])
        .arg(scene.disc("profile=dvd+r&speed=16&clock=virtual"))
        .env("RUST_LOG", "burnstation_hal::sim=info")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_exit(&out, OK);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |line: &str, name: &str| -> f64 {
        let key = format!("{name}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key.as_str()))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .parse()
            .unwrap()
    };
    let stream = stderr
        .lines()
        .find(|l| l.contains("SimDrive burnt a stream of writes"))
        .unwrap_or_else(|| panic!("no stream line\n{}", text(&out)));
    let bytes = field(stream, "bytes");
    let disc_bytes = fs::metadata(scene.path("disc.img")).unwrap().len() as f64;
    assert!(
        bytes >= disc_bytes - 2048.0 * 16.0 && bytes <= disc_bytes,
        "the stream is the image padded to 32 KiB: {bytes} vs a {disc_bytes}-byte disc file"
    );
    assert_eq!(field(stream, "write_rate"), 22_160_000.0);
    // On the virtual clock the host is never late: exactly bytes / rate.
    let seconds = field(stream, "drive_seconds");
    assert!(
        (seconds - bytes / 22_160_000.0).abs() < 1e-5,
        "{seconds} s for {bytes} bytes"
    );
    assert_eq!(field(stream, "underruns"), 0.0);
    let closed = stderr
        .lines()
        .find(|l| l.contains("SimDrive closed"))
        .unwrap_or_else(|| panic!("no closing line\n{}", text(&out)));
    assert_eq!(field(closed, "underruns"), 0.0);
}

#[test]
fn drives_and_eject_work_against_a_software_drive() {
    let scene = Scene::new();
    let disc = scene.disc("profile=bd-r");
    let out = burnstation(&["drives", "--device", &disc]);
    assert_exit(&out, OK);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("DEVICE") && stdout.contains("SimDrive") && stdout.contains("bd-r"),
        "{}",
        text(&out)
    );
    let out = burnstation(&["eject", "--device", &disc]);
    assert_exit(&out, OK);
}

/// One burn that must fail: what the disc does, and what the person must hear.
struct BurnFault {
    what: &'static str,
    /// The ~8 MB tree instead of the small one.
    big: bool,
    disc: &'static str,
    exit: i32,
    stderr: &'static [&'static str],
    /// What else must hold afterwards.
    after: fn(&Scene, &Output),
}

/// Every fault of a burn ends with its exit status and one sentence that says what to do,
/// and never with a disc reported good.
#[test]
fn every_burn_fault_ends_with_its_exit_status_and_says_what_to_do() {
    let faults = [
        BurnFault {
            what: "a write error",
            big: false,
            disc: "profile=dvd+r&write_error=96",
            exit: ERROR,
            stderr: &["writing block 96 failed", "use a new disc"],
            // The disc is left as the interrupted burn it is, and says so.
            after: |scene, _| {
                let media = burnstation(&["media", "--device", &scene.disc("")]);
                assert!(
                    String::from_utf8_lossy(&media.stdout).contains("interrupted"),
                    "{}",
                    text(&media)
                );
            },
        },
        BurnFault {
            what: "a hung drive",
            big: false,
            disc: "profile=dvd+r&clock=virtual&hang_at=32",
            exit: ERROR,
            stderr: &["stopped answering", "was reset"],
            after: |_, _| {},
        },
        BurnFault {
            what: "a disc removed during the burn",
            big: false,
            disc: "profile=dvd+r&remove_at=48",
            exit: ERROR,
            stderr: &["the disc was removed"],
            after: |_, _| {},
        },
        BurnFault {
            what: "a tree too large for the disc",
            big: true,
            disc: "profile=cd-r&capacity=2000",
            exit: ERROR,
            stderr: &["db/big.bin"],
            after: |scene, _| {
                let written = fs::metadata(scene.path("disc.img"))
                    .map(|m| m.len())
                    .unwrap_or(0);
                assert_eq!(written, 0, "a refused burn wrote to the disc");
            },
        },
        BurnFault {
            what: "a block the read-back cannot read",
            big: false,
            disc: "profile=dvd+r&unreadable=40",
            exit: DAMAGED,
            stderr: &["failed verification", "must not be counted as a good copy"],
            after: |_, out| {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(stdout.contains("unreadable:"), "{}", text(out));
            },
        },
    ];
    for fault in faults {
        let scene = Scene::new();
        let tree = if fault.big {
            scene.big_tree()
        } else {
            scene.small_tree()
        };
        let out = burnstation(&[
            "burn",
            tree.to_str().unwrap(),
            "--device",
            &scene.disc(fault.disc),
        ]);
        assert_eq!(
            out.status.code(),
            Some(fault.exit),
            "{}: {}",
            fault.what,
            text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        for said in fault.stderr {
            assert!(
                stderr.contains(said),
                "{}: {said:?}\n{}",
                fault.what,
                text(&out)
            );
        }
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("verified: all"),
            "{}: {}",
            fault.what,
            text(&out)
        );
        (fault.after)(&scene, &out);
    }

    let out = burnstation(&["media", "--device", "sim:"]);
    assert_exit(&out, ERROR);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("insert a disc"),
        "{}",
        text(&out)
    );
}

/// `--help` documents the exit statuses the tests above check.
#[test]
fn help_lists_the_exit_statuses() {
    let out = burnstation(&["--help"]);
    assert_exit(&out, OK);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0    done",
        "1    verification found damage",
        "2    error",
        "130  interrupted",
        "143  terminated (SIGTERM",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
}

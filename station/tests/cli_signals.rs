//! Signals sent to a burning `burnstation`, as a person (Ctrl-C, twice) and systemd
//! (SIGTERM) send them: the burn stops between two writes, says where the disc stands, and
//! exits 130 or 143; and the disc then holds exactly what was written, so a write-once disc
//! that holds data is never reported blank nor burnt a second time.
//!
//! The drives are paced at 1x on the real clock, so the signal reaches a burn in progress:
//! the 8 MB tree takes about six seconds to write.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// Waits until the simulated disc at `disc` holds a written block (its file grows with
/// each write; a blank disc's is empty).
fn wait_for_first_write(disc: &Path) {
    // Not a time limit on the burn: only a guard against a burn that never writes.
    for _ in 0..6000 {
        if fs::metadata(disc).is_ok_and(|meta| meta.len() > 0) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never received a write", disc.display());
}

/// Burns the big tree onto a new paced disc of `profile`, sends `signals` once writing has
/// begun, and checks what a person must then see and what the disc must hold.
fn stopped_burn(profile: &str, signals: &[libc::c_int], exit: i32) {
    let scene = Scene::new();
    let tree = scene.big_tree();
    let tree = tree.to_str().unwrap();
    let disc = scene.disc(&format!("profile={profile}&speed=1"));
    let args = [
        "burn",
        tree,
        "--device",
        &disc,
        "--volume-time",
        VOLUME_TIME,
    ];
    let (child, mut stderr, mut seen) = started_until(&args, "writing...");
    // "writing..." comes as the phase starts, before the first WRITE: a signal that beat
    // it would stop a burn that wrote nothing, which is another test's case.
    wait_for_first_write(&scene.path("disc.img"));
    // One at a time, each once the one before was heard: the kernel merges a signal that
    // is still pending with another of its kind, and delivers pending ones by number.
    for &signal in signals {
        send(&child, signal);
        let heard = seen.matches("stopping at the next safe point").count() + 1;
        read_until(&mut stderr, &mut seen, |seen| {
            seen.matches("stopping at the next safe point").count() >= heard
        });
    }
    let code = finish(child, stderr, &mut seen);
    assert_eq!(code, Some(exit), "{profile}: {seen}");
    assert!(seen.contains("stopping at the next safe point"), "{seen}");
    if signals.len() > 1 {
        assert!(seen.contains("already stopping"), "{seen}");
    }
    // Where the disc stands, in words.
    assert!(
        seen.contains("cancelled between two writes")
            && seen.contains("holds part of the image")
            && seen.contains("use a new disc"),
        "{profile}: {seen}"
    );

    // The disc is the interrupted burn it is: how far it got is what it holds.
    let media = burnstation(&["media", "--device", &scene.disc("")]);
    assert_exit(&media, OK);
    let said = String::from_utf8_lossy(&media.stdout).into_owned();
    assert!(
        said.contains("interrupted burn") && !said.contains("status:           blank"),
        "{said}"
    );
    let written: usize = said
        .lines()
        .find_map(|l| l.strip_prefix("next writable:    block "))
        .unwrap_or_else(|| panic!("no next writable block:\n{said}"))
        .trim()
        .parse()
        .unwrap();
    assert!(written > 0, "{said}");
    let image = scene.path("same.iso");
    image_of(Path::new(tree), &image);
    let image = fs::read(&image).unwrap();
    assert!(
        written * 2048 < image.len(),
        "{profile}: the burn was not stopped"
    );
    let disc_file = scene.path("disc.img");
    let on_disc = bytes_of(&disc_file, image.len());
    assert!(
        on_disc[..written * 2048] == image[..written * 2048],
        "{profile}: the disc's first {written} blocks are not the image's"
    );
    assert!(
        on_disc[written * 2048..].iter().all(|&b| b == 0),
        "{profile}: the disc holds data past block {written}, where it says it is empty"
    );

    // It is neither burnt again nor passed as good, and each says what to do.
    let before = fs::read(&disc_file).unwrap();
    let again = burnstation(&["burn", tree, "--device", &scene.disc("")]);
    assert_says(&again, ERROR, &["interrupted burn"]);
    assert_eq!(
        fs::read(&disc_file).unwrap(),
        before,
        "the disc was written again"
    );
    let verify = burnstation(&["verify", "--device", &scene.disc("")]);
    assert_says(
        &verify,
        ERROR,
        &["interrupted burn", "burnstation finalize"],
    );
}

#[test]
fn ctrl_c_twice_stops_a_dvd_plus_r_burn_like_once_with_status_130() {
    stopped_burn("dvd+r", &[libc::SIGINT, libc::SIGINT], INTERRUPTED);
}

#[test]
fn sigterm_stops_a_bd_r_burn_between_writes_with_status_143() {
    stopped_burn("bd-r", &[libc::SIGTERM], TERMINATED);
}

#[test]
fn sigterm_then_ctrl_c_keeps_the_first_signals_status() {
    stopped_burn("dvd-r", &[libc::SIGTERM, libc::SIGINT], TERMINATED);
}

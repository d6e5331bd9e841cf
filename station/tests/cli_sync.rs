//! `burnstation sync --config PATH` as a volunteer or an administrator runs it, against a real
//! sshd on loopback: a snapshot and exit 0; one sentence and exit 2 for a wrong setting or a
//! server that is not the pinned one; exit 130 when interrupted, with the last good snapshot
//! as it was.

mod sync_scene;

use std::fs;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use burnstation::snapshots::SnapshotStore;
use burnstation_tests::fixtures::{generate_tree, tree_digests, write_bulk_file};
use burnstation_tests::procfs::named_mentioning as processes;
use burnstation_tests::sshd::generate_key;
use burnstation_tests::tools::describe_output as text;
use sync_scene::{Knobs, Scene};

fn burnstation_sync(config: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnstation"))
        .arg("sync")
        .arg("--config")
        .arg(config)
        .output()
        .expect("run burnstation")
}

/// The last line on stderr: the error sentence.
fn error_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr.lines().last().unwrap_or_default().to_string()
}

#[test]
fn a_sync_makes_a_snapshot_and_says_where() {
    let scene = Scene::new();
    generate_tree(&scene.source, 21, &[30_000, 1_000]).unwrap();
    let output = burnstation_sync(&scene.write_config(&Knobs::default()));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("snapshot "), "{}", text(&output));
    let store = SnapshotStore::open(&scene.data).unwrap();
    let snapshot = store.newest().unwrap().expect("a snapshot");
    assert!(
        stdout.contains(&snapshot.tree().display().to_string()),
        "{stdout}"
    );
    assert_eq!(
        tree_digests(&snapshot.tree()).unwrap(),
        tree_digests(&scene.source).unwrap()
    );
}

#[test]
fn wrong_settings_and_a_wrong_server_exit_2_with_one_sentence() {
    let scene = Scene::new();
    generate_tree(&scene.source, 22, &[1_000]).unwrap();
    let config = scene.path("burnstation.toml");

    let impostor = generate_key(&scene.path("impostor")).unwrap();
    fs::write(
        &config,
        scene.config_text(&Knobs {
            host_key: Some(impostor),
            ..Knobs::default()
        }),
    )
    .unwrap();
    let output = burnstation_sync(&config);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let line = error_line(&output);
    assert!(
        line.starts_with("burnstation: 127.0.0.1 answered with host key SHA256:"),
        "{line}"
    );
    assert!(line.contains("ask your administrator"), "{line}");

    let unpinned = scene
        .config_text(&Knobs::default())
        .replace(scene.sshd.host_public_key(), "");
    fs::write(&config, unpinned).unwrap();
    let output = burnstation_sync(&config);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        error_line(&output).contains("host key yet"),
        "{}",
        text(&output)
    );

    let misspelt = scene
        .config_text(&Knobs::default())
        .replace("bandwidth_limit", "bandwith_limit");
    fs::write(&config, misspelt).unwrap();
    let output = burnstation_sync(&config);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let line = error_line(&output);
    assert!(line.contains("line 11, source.bandwith_limit"), "{line}");
    assert!(line.contains("did you mean bandwidth_limit?"), "{line}");
    assert!(
        SnapshotStore::open(&scene.data)
            .unwrap()
            .list()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_interrupted_sync_exits_130_and_keeps_the_last_snapshot() {
    let scene = Scene::new();
    generate_tree(&scene.source, 23, &[5_000]).unwrap();
    let config = scene.write_config(&Knobs::default());
    let first = burnstation_sync(&config);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let store = SnapshotStore::open(&scene.data).unwrap();
    let kept = store.newest().unwrap().unwrap();
    let kept_digests = tree_digests(&kept.tree()).unwrap();

    write_bulk_file(&scene.source.join("big.bin"), 6, 4 << 20).unwrap();
    let slow = scene.write_config(&Knobs {
        bandwidth_limit: 256,
        ..Knobs::default()
    });
    let child = Command::new(env!("CARGO_BIN_EXE_burnstation"))
        .arg("sync")
        .arg("--config")
        .arg(&slow)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once rsync is copying (a limit, not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes("rsync", &scene.data).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(
        error_line(&output).contains("the sync was stopped"),
        "{}",
        text(&output)
    );
    assert_eq!(store.list().unwrap(), std::slice::from_ref(&kept));
    assert_eq!(tree_digests(&kept.tree()).unwrap(), kept_digests);
}

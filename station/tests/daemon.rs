//! `burnstation run`, the daemon, as the box runs it: a real rsync over ssh from a real
//! sshd on loopback, a software disc changer whose discs are files that outlive the
//! process, and the catalogue in SQLite. A full run syncs, plans two discs, burns and
//! verifies both and says the set is complete; `kill -9` during the sync, the burn and the
//! read-back loses no snapshot, reports the cut disc and finishes the set after a restart;
//! a wrong settings file starts no job. What the discs hold is checked by restoring them
//! with `burnstation restore` and comparing with the server's tree.

mod sync_scene;

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use burnstation::catalog::Catalog;
use burnstation_tests::sets::{noise, tree_listing};
use sync_scene::{Knobs, Scene};

/// A disc of the changer: 4 MiB, so the tree below needs two.
const DISC_BLOCKS: u32 = 2048;
/// The longest any daemon run here may take before the test gives up on it.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// A server with a tree of about 6 MiB, and the box's settings for it.
struct Station {
    scene: Scene,
    changer: PathBuf,
    config: PathBuf,
}

impl Station {
    /// `speed`: the changer's write and read speed in x (0: unpaced); `knobs`: the sync's
    /// settings.
    fn new(speed: u32, knobs: &Knobs) -> Station {
        Station::with_drive_options(speed, knobs, "")
    }

    /// As [`Station::new`], with more of SimDrive's options for the changer's drive
    /// (`&remove_at=LBA`, ...).
    fn with_drive_options(speed: u32, knobs: &Knobs, options: &str) -> Station {
        let scene = Scene::new();
        for i in 0..40u64 {
            let path = scene.source.join(format!("svc{}/file{i:02}.bin", i % 3));
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, noise(i + 1, 150_000 + (i as usize * 1013) % 9000)).unwrap();
        }
        fs::write(scene.source.join("README.txt"), b"what this backup is\n").unwrap();
        let changer = scene.path("changer");
        let config = scene.path("burnstation.toml");
        let mut text = scene.config_text(knobs);
        text.push_str(&format!(
            "[schedule]\nretry_after = \"1s\"\nretry_max = \"2s\"\n\
             [burn]\nstart = \"auto\"\nmedia = [\"dvd+r\"]\n\
             [drive]\ndevice = \"sim-changer:{}?profile=dvd+r&capacity={DISC_BLOCKS}&speed={speed}&read_speed={speed}{options}\"\n",
            changer.display()
        ));
        fs::write(&config, text).unwrap();
        Station {
            scene,
            changer,
            config,
        }
    }

    fn command(&self, until_complete: bool) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_burnstation"));
        command
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .args(["--display", "none", "--buttons", "none"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        if until_complete {
            command.args(["--until", "set-complete"]);
        }
        command
    }

    /// Runs the daemon until the set is complete.
    fn run_to_completion(&self) -> Output {
        let child = self
            .command(true)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = wait_limited(child);
        assert!(
            output.status.success(),
            "the daemon failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts the daemon, waits until the catalogue's job state contains `state`, and
    /// kills it with SIGKILL. Returns its log and the disc that was in the drive.
    fn kill_during(&self, state: &str) -> (String, Option<PathBuf>) {
        let log = self.scene.path(&format!("killed-in-{state}.log"));
        let mut child = self
            .command(true)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the daemon ended ({status}) before reaching {state}:\n{}",
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            // A burn is cut once the disc holds some of it (before that it is still blank,
            // and rightly used again).
            let far_enough = state != "burning"
                || self
                    .disc_files()
                    .last()
                    .is_some_and(|d| recorded_blocks(d) > 0);
            // The running daemon says the same over its status socket.
            if self.job().is_some_and(|job| job.contains(state))
                && far_enough
                && self.status_state().as_deref() == Some(state)
            {
                break;
            }
            assert!(
                start.elapsed() < RUN_LIMIT,
                "never reached {state}:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let in_drive = self.disc_files().pop();
        (fs::read_to_string(&log).unwrap(), in_drive)
    }

    fn catalog_path(&self) -> PathBuf {
        self.scene.data.join("catalog.db")
    }

    /// `burnstation status` with these settings and `args`, as an administrator runs it.
    fn status(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_burnstation"));
        command
            .arg("status")
            .arg("--config")
            .arg(&self.config)
            .args(args);
        command
    }

    /// The state's name `burnstation status --json` reports, `None` when it gets no answer.
    fn status_state(&self) -> Option<String> {
        let output = self.status(&["--json"]).output().unwrap();
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8(output.stdout).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next()?).unwrap();
        assert_eq!(first["event"], "state", "{text}");
        first["state"]["name"].as_str().map(str::to_string)
    }

    /// The job state the daemon last committed.
    fn job(&self) -> Option<String> {
        if !self.catalog_path().exists() {
            return None;
        }
        Catalog::open(&self.catalog_path())
            .ok()?
            .saved_job()
            .ok()
            .flatten()
    }

    fn snapshots(&self) -> Vec<String> {
        let dir = self.scene.data.join("snapshots");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The changer's disc files, in order.
    fn disc_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.changer) else {
            return Vec::new();
        };
        let mut discs: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "img"))
            .collect();
        discs.sort();
        discs
    }

    /// The set is complete in the catalogue, and its discs (but `cut`, a disc that does not
    /// count) restore to the server's tree.
    fn assert_set_restores(&self, cut: Option<&Path>) {
        let catalog = Catalog::open(&self.catalog_path()).unwrap();
        let sets = catalog.sets().unwrap();
        assert_eq!(sets.len(), 1, "{sets:?}");
        let set = &sets[0];
        assert_eq!(set.discs, 2, "{set:?}");
        assert!(set.complete(), "{set:?}");
        let to = self.scene.path("restored");
        let mut restore = Command::new(env!("CARGO_BIN_EXE_burnstation"));
        restore.arg("restore").arg("--to").arg(&to).arg("--from");
        // Every finalized disc the changer holds, but the one the station said not to count.
        let good: Vec<PathBuf> = self
            .disc_files()
            .into_iter()
            .filter(|d| finalized(d) && Some(d.as_path()) != cut)
            .collect();
        assert_eq!(good.len(), 2, "{good:?}");
        restore.args(&good);
        let output = restore.output().unwrap();
        assert!(
            output.status.success(),
            "restore failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(tree_listing(&to), tree_listing(&self.scene.source));
    }
}

/// The state the changer's disc at `path` keeps beside it (what a real disc's lead-in
/// says), if it has one yet.
fn disc_state(path: &Path) -> Option<serde_json::Value> {
    let mut state = path.as_os_str().to_owned();
    state.push(".state.json");
    let text = fs::read_to_string(PathBuf::from(state)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether the disc at `path` is finalized.
fn finalized(path: &Path) -> bool {
    disc_state(path).is_some_and(|s| s["finalized"] == serde_json::Value::Bool(true))
}

/// Blocks burnt onto the disc at `path`.
fn recorded_blocks(path: &Path) -> u64 {
    disc_state(path)
        .and_then(|s| {
            s["tracks"]
                .as_array()
                .map(|tracks| tracks.iter().filter_map(|t| t["recorded"].as_u64()).sum())
        })
        .unwrap_or(0)
}

/// systemd's end of the sd_notify protocol: a datagram socket the daemon is told of in
/// `NOTIFY_SOCKET`.
struct SystemdNotify {
    path: PathBuf,
    socket: UnixDatagram,
}

impl SystemdNotify {
    fn bind(path: &Path) -> SystemdNotify {
        let _ = fs::remove_file(path);
        let socket = UnixDatagram::bind(path).unwrap();
        socket.set_read_timeout(Some(RUN_LIMIT)).unwrap();
        SystemdNotify {
            path: path.to_path_buf(),
            socket,
        }
    }

    /// Every message up to and including `wanted`; panics when none comes in
    /// [`RUN_LIMIT`].
    fn until(&self, wanted: &str) -> Vec<String> {
        let mut messages = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let length = self
                .socket
                .recv(&mut buffer)
                .unwrap_or_else(|e| panic!("no {wanted} from the daemon ({e}): {messages:?}"));
            let message = String::from_utf8_lossy(&buffer[..length]).into_owned();
            let done = message == wanted;
            messages.push(message);
            if done {
                return messages;
            }
        }
    }
}

/// Waits for `child`, killing it after [`RUN_LIMIT`].
fn wait_limited(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > RUN_LIMIT {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the daemon did not finish in {RUN_LIMIT:?}:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_full_run_syncs_plans_burns_and_verifies_a_two_disc_set() {
    // The sync slow enough that `status --follow` joins before it ends: about 6 MiB at
    // 2 MiB/s.
    let station = Station::new(
        0,
        &Knobs {
            bandwidth_limit: 2048,
            ..Knobs::default()
        },
    );
    let daemon = station
        .command(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let socket = station.scene.data.join("burnstation.sock");
    let start = Instant::now();
    while !socket.exists() {
        assert!(
            start.elapsed() < RUN_LIMIT,
            "the daemon never opened {socket:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let follower = station
        .status(&["--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A second daemon on the same data directory is refused, and touches nothing.
    let second = station.command(true).output().unwrap();
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another station daemon is running"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let output = wait_limited(daemon);
    assert!(
        output.status.success(),
        "the daemon failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(station.snapshots().len(), 1, "{log}");
    assert!(
        station
            .job()
            .is_some_and(|j| j.contains("set_complete") && j.contains("\"of\":2")),
        "{:?}",
        station.job()
    );
    station.assert_set_restores(None);
    // Each disc was burnt once, and read back.
    let catalog = Catalog::open(&station.catalog_path()).unwrap();
    let history = catalog.set_history(catalog.sets().unwrap()[0].set).unwrap();
    for disc in &history.discs {
        assert_eq!(disc.burns.len(), 1, "{disc:?}");
        assert_eq!(disc.burns[0].result, "done", "{disc:?}");
        assert_eq!(disc.verifications.len(), 1, "{disc:?}");
        assert_eq!(disc.verifications[0].result, "passed", "{disc:?}");
    }
    // The follower saw the job from the sync to the complete set, in order, and its stream
    // ended with the daemon.
    let followed = wait_limited(follower);
    assert!(followed.status.success(), "{followed:?}");
    let states: Vec<String> = String::from_utf8(followed.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["event"] == "state")
        .map(|event| {
            let state = &event["state"];
            match state["disc"]["number"].as_u64() {
                Some(n) => format!("{} {n}", state["name"].as_str().unwrap()),
                None => state["name"].as_str().unwrap().to_string(),
            }
        })
        .collect();
    let expected = [
        "syncing",
        "planning",
        "burning 1",
        "verifying 1",
        "disc_done 1",
        "burning 2",
        "verifying 2",
        "disc_done 2",
        "set_complete",
    ];
    let mut seen = states.iter();
    for state in expected {
        assert!(
            seen.any(|s| s == state),
            "{state} missing or out of order in {states:?}"
        );
    }
}

#[test]
fn kill_9_during_the_sync_loses_nothing_and_the_sync_is_redone() {
    let slow = Knobs {
        bandwidth_limit: 512,
        ..Knobs::default()
    };
    let station = Station::new(0, &slow);
    station.kill_during("syncing");
    assert!(
        station.snapshots().is_empty(),
        "a cut sync made a snapshot: {:?}",
        station.snapshots()
    );
    let output = station.run_to_completion();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("a sync was interrupted"), "{log}");
    assert_eq!(station.snapshots().len(), 1, "{log}");
    station.assert_set_restores(None);
}

#[test]
fn a_failed_sync_says_why_keeps_the_last_snapshot_and_the_next_one_recovers() {
    let station = Station::new(0, &Knobs::default());
    // The server's folder is gone (moved away by its administrator, say).
    let away = station.scene.path("away");
    fs::rename(&station.scene.source, &away).unwrap();
    let log = station.scene.path("failing.log");
    let mut child = station
        .command(true)
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !fs::read_to_string(&log).unwrap().contains("SyncFailed") {
        assert!(child.try_wait().unwrap().is_none(), "the daemon ended");
        assert!(
            start.elapsed() < RUN_LIMIT,
            "{}",
            fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(station.snapshots().is_empty());
    // Back again: a retry (1 s, then 2 s) makes the snapshot and the set.
    fs::rename(&away, &station.scene.source).unwrap();
    let output = wait_limited(child);
    let text = fs::read_to_string(&log).unwrap();
    assert!(output.status.success(), "{text}");
    let failed = text.lines().find(|l| l.contains("SyncFailed")).unwrap();
    assert!(
        failed.contains(&station.scene.source.display().to_string()),
        "{failed}"
    );
    assert_eq!(station.snapshots().len(), 1, "{text}");
    station.assert_set_restores(None);
}

/// Kills the daemon while the job is in `state` ("burning" or "verifying"), then lets a new
/// one finish: the cut disc is reported and burnt again, and the set is right.
fn kill_during_a_disc(state: &str) {
    // 1x: about three seconds to write a disc and three to read it, long enough to be cut.
    let station = Station::new(1, &Knobs::default());
    let (_, cut_disc) = station.kill_during(state);
    let cut_disc = cut_disc.expect("a disc was being written or read");
    let snapshots = station.snapshots();
    assert_eq!(snapshots.len(), 1);
    let output = station.run_to_completion();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("when the station stopped"), "{log}");
    assert_eq!(station.snapshots(), snapshots, "{log}");
    let catalog = Catalog::open(&station.catalog_path()).unwrap();
    let history = catalog.set_history(catalog.sets().unwrap()[0].set).unwrap();
    let cut: Vec<_> = history
        .discs
        .iter()
        .flat_map(|d| d.burns.iter())
        .filter(|b| b.result == "interrupted")
        .collect();
    if state == "burning" {
        assert_eq!(cut.len(), 1, "{history:?}");
        assert!(!finalized(&cut_disc), "the cut disc was finished anyway");
    }
    station.assert_set_restores(Some(&cut_disc));
}

#[test]
fn kill_9_during_a_burn_reports_the_disc_and_the_set_finishes() {
    kill_during_a_disc("burning");
}

#[test]
fn kill_9_during_a_read_back_reports_the_disc_and_the_set_finishes() {
    kill_during_a_disc("verifying");
}

/// The disc is pulled out of the drive in the middle of its burn (SimDrive's `remove_at`):
/// the daemon says so, counts the burn as failed, and burns the disc again on the next blank
/// one; the set is right.
#[test]
fn a_disc_pulled_out_mid_burn_is_reported_and_burnt_again() {
    let station = Station::with_drive_options(0, &Knobs::default(), "&remove_at=600");
    let output = station.run_to_completion();
    let log = String::from_utf8_lossy(&output.stderr);
    let catalog = Catalog::open(&station.catalog_path()).unwrap();
    let history = catalog.set_history(catalog.sets().unwrap()[0].set).unwrap();
    let results: Vec<&str> = history.discs[0]
        .burns
        .iter()
        .map(|b| b.result.as_str())
        .collect();
    assert_eq!(results.len(), 2, "{history:?}\n{log}");
    assert_ne!(results[0], "done", "{history:?}");
    assert_eq!(results[1], "done", "{history:?}");
    assert!(log.contains("disc 1 of 2"), "{log}");
    // The pulled disc, disc 1 again, disc 2, and the blank one put in after the last eject:
    // the pulled one is neither finalized nor needed.
    let discs = station.disc_files();
    assert_eq!(discs.len(), 4, "{discs:?}");
    assert!(!finalized(&discs[0]) && recorded_blocks(&discs[0]) > 0);
    assert_eq!(recorded_blocks(&discs[3]), 0);
    station.assert_set_restores(None);
}

/// A settings file with one field wrong: the daemon says which line and field, and
/// starts no job (no catalogue, no snapshot, no disc); under systemd it says it started
/// and keeps the watchdog fed while it shows the problem, so it is not restarted.
#[test]
fn a_wrong_setting_starts_no_job() {
    let station = Station::new(0, &Knobs::default());
    let good = fs::read_to_string(&station.config).unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("port = ", "port = 70000\n", "port"),
        ("host = ", "host = \"\"\n", "host"),
        (
            "keep_snapshots = ",
            "keep_snapshots = 0\n",
            "keep_snapshots",
        ),
        ("min_free = ", "min_free = \"lots\"\n", "min_free"),
        ("start = ", "start = \"sometimes\"\n", "start"),
        ("media = ", "media = [\"floppy\"]\n", "media"),
        ("device = ", "device = \"sr0\"\n", "device"),
        ("data_dir = ", "data_dir = \"data\"\n", "data_dir"),
        ("timeout = ", "timeout = \"soon\"\n", "timeout"),
    ];
    for (starts, replacement, field) in cases {
        let mut text = String::new();
        let mut line_number = 0;
        for (n, line) in good.lines().enumerate() {
            if line.starts_with(starts) {
                text.push_str(replacement);
                line_number = n + 1;
            } else {
                text.push_str(line);
                text.push('\n');
            }
        }
        assert!(line_number > 0, "no line {starts} in\n{good}");
        fs::write(&station.config, &text).unwrap();
        // The settings cannot say where the data directory is, so the socket is given.
        let socket = station.scene.path("bad-settings.sock");
        // Under systemd, the daemon holding the problem counts as started and alive.
        let systemd = SystemdNotify::bind(&station.scene.path("notify"));
        let child = station
            .command(false)
            .arg("--socket")
            .arg(&socket)
            .env("NOTIFY_SOCKET", &systemd.path)
            .env("WATCHDOG_USEC", "1000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < RUN_LIMIT, "{field}: no status socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Asked, the daemon says what is wrong with the file.
        let status = station
            .status(&[])
            .arg("--socket")
            .arg(&socket)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&status.stdout);
        assert!(status.status.success(), "{field}: {status:?}");
        assert!(
            said.contains("the settings file is wrong") && said.contains(field),
            "{field}: {said}"
        );
        let told = systemd.until("WATCHDOG=1");
        let status_line = told.iter().find(|m| m.starts_with("STATUS="));
        assert!(
            status_line.is_some_and(|m| m.contains(field)),
            "{field}: {told:?}"
        );
        assert!(told.iter().any(|m| m == "READY=1"), "{field}: {told:?}");
        // SIGTERM: the daemon waits for the corrected file, and stops when told.
        let pid = child.id() as i32;
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        systemd.until("STOPPING=1");
        let output = wait_limited(child);
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(log.contains(field), "{field}: {log}");
        assert!(
            log.contains(&format!("line {line_number}")),
            "{field} (line {line_number}): {log}"
        );
        assert!(!station.catalog_path().exists(), "{field}: a job started");
        assert!(station.snapshots().is_empty(), "{field}");
        assert!(!station.changer.exists(), "{field}: the drive was used");
    }
}

/// A data directory that cannot be made (here: a file stands where it should be) stops
/// nothing for good: the daemon says so, stays up for systemd, and once the directory can be
/// made (the volunteer freed the card, the partition came late) it starts its job without
/// being restarted.
#[test]
fn an_unusable_data_directory_is_reported_and_tried_again() {
    let station = Station::new(0, &Knobs::default());
    let good = fs::read_to_string(&station.config).unwrap();
    let blocker = station.scene.path("not-a-directory");
    fs::write(
        &blocker,
        b"a file where the data directory's parent should be",
    )
    .unwrap();
    let data_dir = blocker.join("data");
    let text: String = good
        .lines()
        .map(|line| {
            if line.starts_with("data_dir = ") {
                format!("data_dir = {:?}\n", data_dir.display().to_string())
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert_ne!(text, good, "the settings have no data_dir line");
    fs::write(&station.config, &text).unwrap();
    let socket = station.scene.path("elsewhere.sock");
    let systemd = SystemdNotify::bind(&station.scene.path("notify"));
    let mut child = station
        .command(false)
        .arg("--socket")
        .arg(&socket)
        .env("NOTIFY_SOCKET", &systemd.path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = |station: &Station| -> Option<(String, String)> {
        let output = station
            .status(&["--json", "--socket"])
            .arg(&socket)
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).ok()?;
        let first: serde_json::Value = serde_json::from_str(text.lines().next()?).ok()?;
        let name = first["state"]["name"].as_str()?.to_string();
        Some((name, text))
    };
    let wait_for = |wanted: &dyn Fn(&str) -> bool| -> String {
        let start = Instant::now();
        loop {
            if let Some((name, text)) = state(&station)
                && wanted(&name)
            {
                return text;
            }
            assert!(start.elapsed() < RUN_LIMIT, "the daemon never got there");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let stopped = wait_for(&|name| name == "stopped");
    assert!(stopped.contains("not-a-directory"), "{stopped}");
    assert!(
        systemd
            .until("READY=1")
            .iter()
            .any(|m| m.starts_with("STATUS="))
    );
    assert!(!data_dir.exists());

    fs::remove_file(&blocker).unwrap();
    wait_for(&|name| name != "stopped" && name != "starting");
    assert!(
        data_dir.join("catalog.db").exists(),
        "the job started without its catalogue"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon was not restarted"
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = wait_limited(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

//! The emulated burner's daemon on its own (no guest): it starts on a private port and
//! control socket, serves the disc file, changes discs, and always stops, panics included.

use std::net::TcpStream;
use std::path::Path;
use std::thread;

use burnstation_tests::tgt::Tgtd;

fn start(dir: &Path, disc: &Path) -> Tgtd {
    Tgtd::start(dir, disc).unwrap_or_else(|err| panic!("{err}"))
}

fn is_running(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn tgtd_serves_the_disc_file_as_a_dvd_burner_on_loopback_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let disc = dir.path().join("blank.img");
    std::fs::write(&disc, b"").unwrap();
    let tgtd = start(dir.path(), &disc);
    let pid = tgtd.pid();
    assert!(is_running(pid));
    TcpStream::connect(("127.0.0.1", tgtd.port())).expect("tgtd must listen on its port");
    assert_eq!(
        tgtd.iscsi_url(),
        format!("iscsi://127.0.0.1:{}/{}/1", tgtd.port(), tgtd.target_name())
    );
    let shown = tgtd.show().unwrap_or_else(|err| panic!("{err}"));
    assert!(shown.contains("Type: cd/dvd"), "{shown}");
    assert!(
        shown.contains(&format!("Backing store path: {}", disc.display())),
        "{shown}"
    );
    assert!(
        shown.contains("127.0.0.1"),
        "only loopback may connect:\n{shown}"
    );

    tgtd.stop().unwrap_or_else(|err| panic!("{err}"));
    assert!(!is_running(pid), "tgtd {pid} must be gone after stop");
    assert!(
        !dir.path().join("tgtd-socket.1").exists(),
        "the control socket must be removed"
    );
}

#[test]
fn changing_the_disc_points_the_burner_at_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.img");
    let other = dir.path().join("other.img");
    std::fs::write(&blank, b"").unwrap();
    std::fs::write(&other, vec![0u8; 4096]).unwrap();
    let mut tgtd = start(dir.path(), &blank);
    tgtd.change_disc(&other)
        .unwrap_or_else(|err| panic!("{err}"));
    let shown = tgtd.show().unwrap_or_else(|err| panic!("{err}"));
    // LUN 0 is tgt's own controller, always online: look at the burner's section only.
    let burner_lun = shown
        .split_once("LUN: 1")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no LUN 1 in:\n{shown}"));
    assert!(
        burner_lun.contains(&format!("Backing store path: {}", other.display())),
        "{shown}"
    );
    assert!(
        burner_lun.contains("Online: Yes"),
        "the new disc must be loaded:\n{shown}"
    );
    assert_eq!(tgtd.disc(), other);
}

#[test]
fn concurrent_daemons_do_not_clash() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let daemons: Vec<Tgtd> = dirs
        .iter()
        .map(|dir| {
            let disc = dir.path().join("disc.img");
            std::fs::write(&disc, b"").unwrap();
            start(dir.path(), &disc)
        })
        .collect();
    let mut ports: Vec<u16> = daemons.iter().map(Tgtd::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "each daemon needs its own port");
    for tgtd in &daemons {
        tgtd.show().unwrap_or_else(|err| panic!("{err}"));
    }
}

#[test]
fn a_panicking_test_still_stops_its_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let disc = dir.path().join("disc.img");
    std::fs::write(&disc, b"").unwrap();
    let (pid_sender, pid_receiver) = std::sync::mpsc::channel();
    let dir_path = dir.path().to_path_buf();
    let outcome = thread::spawn(move || {
        let tgtd = start(&dir_path, &disc);
        pid_sender.send(tgtd.pid()).unwrap();
        panic!("a scenario failed while tgtd {} was running", tgtd.pid());
    })
    .join();
    assert!(outcome.is_err(), "the thread was meant to panic");
    let pid = pid_receiver.recv().unwrap();
    assert!(!is_running(pid), "tgtd {pid} outlived the panic");
}

/// If the test runner is killed, no `Drop` runs; the kernel must then kill the daemon with
/// the thread that started it. Forgetting the guard stands in for the killed runner.
#[test]
fn a_daemon_whose_guard_never_ran_dies_with_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let disc = dir.path().join("disc.img");
    std::fs::write(&disc, b"").unwrap();
    let dir_path = dir.path().to_path_buf();
    let pid = thread::spawn(move || {
        let tgtd = start(&dir_path, &disc);
        let pid = tgtd.pid();
        std::mem::forget(tgtd);
        pid
    })
    .join()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    // Nobody reaps the forgotten child, so "dead" here means gone or a zombie.
    while is_alive(pid) && std::time::Instant::now() < deadline {
        thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !is_alive(pid),
        "tgtd {pid} outlived the thread that started it"
    );
}

fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses.
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !state.is_some_and(|rest| rest.starts_with('Z'))
    })
}

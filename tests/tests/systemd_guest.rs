//! The image's userland under systemd, booted from a card laid out as the image's, with
//! tgt's burner on USB: the BR2_EXTERNAL tree's units and scripts do on first boot what the
//! admin guide says (grow the data partition, lay it out, make the box's key and put its
//! public half on the boot partition, keep inbound ssh off or let one key in), and the
//! station's own unit runs as its user with the burner in reach; with the guest as its own
//! backup server, that unit syncs over ssh, plans, burns and verifies a set onto tgt's DVD+R.
//! See `tests/src/systemd_guest.rs` for how the guest is assembled from Debian packages.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use burnstation_tests::awkward::{Fidelity, compare_trees};

use burnstation_tests::burner::cache_dir;
use burnstation_tests::card::{self, CardLayout};
use burnstation_tests::host_build::workspace_binary;
use burnstation_tests::sets::build_set_tree;
use burnstation_tests::steps::{self, Step, Steps};
use burnstation_tests::systemd_guest::{CARD_SIZE, SystemdGuest};
use burnstation_tests::tools::{self, DEBUGFS, MTYPE, SHA256SUM, SSH_KEYGEN, XORRISO};
use burnstation_tests::{Attach, DiscState, EmulatedBurner, GuestRun};

/// The station's name in the tests' settings: it ends up in the key's comment.
const BOX_NAME: &str = "systest-box";

/// Held by each test while it boots: one guest at a time. Each is a TCG guest that keeps
/// both of this machine's cores busy, and a first boot beside another guest's run took
/// longer than its deadline (and than systemd's own start-job timeouts during the data
/// partition's growth).
static ONE_GUEST_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What each test boots with: its turn, the guest, tgt's burner with a blank DVD+R, and a
/// directory for the card and the test's keys.
struct Setup {
    _turn: MutexGuard<'static, ()>,
    guest: SystemdGuest,
    burner: EmulatedBurner,
    dir: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        // A test that failed while holding the turn leaves nothing the next one uses.
        let turn = ONE_GUEST_AT_A_TIME
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let cache = cache_dir().unwrap_or_else(|err| panic!("{err}"));
        let guest = SystemdGuest::build(&cache).unwrap_or_else(|err| panic!("{err}"));
        let burner = EmulatedBurner::new(DiscState::Blank).unwrap_or_else(|err| panic!("{err}"));
        let dir = burner.dir().join("card");
        fs::create_dir_all(&dir).unwrap();
        Setup {
            _turn: turn,
            guest,
            burner,
            dir,
        }
    }

    /// A fresh card with `settings` and the test build of the station.
    fn card(&self, settings: &str) -> PathBuf {
        let binary =
            workspace_binary("burnstation", "burnstation").unwrap_or_else(|err| panic!("{err}"));
        self.guest
            .make_card(&self.dir, settings, &binary)
            .unwrap_or_else(|err| panic!("{err}"))
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shipped settings file, with the box's name changed and `[admin_ssh]` replaced by
/// `admin_ssh` (the section's lines) when given.
fn settings(admin_ssh: Option<&str>) -> String {
    let shipped = fs::read_to_string(workspace().join("station/burnstation.toml")).unwrap();
    let named = shipped.replacen(
        "name = \"burnstation\"",
        &format!("name = \"{BOX_NAME}\""),
        1,
    );
    assert_ne!(named, shipped, "the settings file names the box");
    match admin_ssh {
        None => named,
        Some(section) => {
            let start = named
                .find("[admin_ssh]")
                .expect("the settings have [admin_ssh]");
            format!("{}[admin_ssh]\n{section}\n", &named[..start])
        }
    }
}

fn step<'a>(steps: &'a Steps, name: &str, run: &GuestRun) -> &'a Step {
    steps
        .get(name)
        .unwrap_or_else(|| panic!("no step {name} in the run\n{run}"))
}

/// `key=value` lines of a step's stdout.
fn value<'a>(step: &'a Step, key: &str) -> Option<&'a str> {
    step.stdout.lines().find_map(|line| {
        line.split_once('=')
            .filter(|(name, _)| *name == key)
            .map(|(_, value)| value)
    })
}

/// `systemctl show` of the units the tree adds, and the state of the boot.
const BOOT_STEPS: &str = r#"
step running systemctl is-system-running --wait
step failed systemctl list-units --failed --plain --no-legend
for unit in burnstation-grow-data.service burnstation-data-layout.service \
    var-log-journal.mount burnstation-firstboot.service burnstation-admin-ssh.service \
    sshd.service data.mount boot.mount systemd-growfs@data.service; do
    step "unit-$unit" systemctl show --property=ActiveState,Result,ConditionResult "$unit"
done
step mounts findmnt --noheadings --raw --output TARGET,FSTYPE,OPTIONS
step partition sh -c 'echo disk=$(cat /sys/class/block/vda/size); echo start=$(cat /sys/class/block/vda3/start); echo size=$(cat /sys/class/block/vda3/size); echo fs=$(df --block-size=512 --output=size /data | tail -n 1 | tr -d " ")'
step layout stat -c '%n %U %G %a' /data /data/keys /data/keys/id_ed25519 /data/keys/id_ed25519.pub /data/system /data/system/journal /data/system/ssh
step pub cmp /data/keys/id_ed25519.pub /boot/burnstation.pub
step fingerprint ssh-keygen -l -f /data/keys/id_ed25519.pub
step journal sh -c 'journalctl --header | grep "File path"'
step watchdog systemctl show --property=RuntimeWatchdogUSec
step watchdog-device cat /sys/class/watchdog/watchdog0/state /sys/class/watchdog/watchdog0/identity
step firstboot-log journalctl --boot --output=cat --unit=burnstation-firstboot.service --unit=burnstation-admin-ssh.service --unit=burnstation-grow-data.service
step var-run readlink -f /var/run /var/lock
"#;

/// Checks the first boot of a fresh card; returns the box key's fingerprint.
fn check_first_boot(run: &GuestRun, steps: &Steps) -> String {
    let running = step(steps, "running", run);
    let failed = step(steps, "failed", run);
    assert_eq!(
        failed.stdout.trim(),
        "",
        "no unit may fail ({}):\n{run}",
        running.stdout.trim()
    );
    for unit in [
        "burnstation-grow-data.service",
        "burnstation-data-layout.service",
        "var-log-journal.mount",
        "burnstation-firstboot.service",
        "burnstation-admin-ssh.service",
        "data.mount",
        "boot.mount",
        "systemd-growfs@data.service",
    ] {
        let shown = step(steps, &format!("unit-{unit}"), run);
        assert_eq!(value(shown, "ActiveState"), Some("active"), "{unit}\n{run}");
        assert_eq!(value(shown, "Result"), Some("success"), "{unit}\n{run}");
    }

    let mounts = &step(steps, "mounts", run).stdout;
    let mount = |target: &str| -> (String, Vec<String>) {
        let line = mounts
            .lines()
            .find(|line| line.split(' ').next() == Some(target))
            .unwrap_or_else(|| panic!("{target} is not mounted:\n{mounts}\n{run}"));
        let fields: Vec<&str> = line.split(' ').collect();
        (
            fields[1].to_string(),
            fields[2].split(',').map(str::to_string).collect(),
        )
    };
    let (root_type, root_options) = mount("/");
    assert_eq!(root_type, "squashfs");
    assert!(root_options.contains(&"ro".to_string()), "{mounts}");
    let (boot_type, boot_options) = mount("/boot");
    assert_eq!(boot_type, "vfat");
    assert!(
        boot_options.contains(&"ro".to_string()),
        "the boot partition is back to read-only after burnstation.pub: {mounts}"
    );
    let (data_type, data_options) = mount("/data");
    assert_eq!(data_type, "ext4");
    for option in ["rw", "noatime", "nodev", "nosuid", "noexec"] {
        assert!(
            data_options.contains(&option.to_string()),
            "{option}: {mounts}"
        );
    }
    assert_eq!(
        mount("/var").0,
        "overlay",
        "as buildroot mounts it on a read-only root"
    );
    assert_eq!(
        step(steps, "var-run", run).stdout,
        "/run\n/run/lock\n",
        "the skeleton's relative links resolve under the overlay\n{run}"
    );
    assert_eq!(
        mount("/var/log/journal").0,
        "ext4",
        "the journal is on /data"
    );

    // The data partition reaches the end of the card (within 1 MiB) and so does its ext4.
    let partition = step(steps, "partition", run);
    let number = |key| -> u64 {
        value(partition, key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key}: {run}"))
    };
    let (disk, start, size, fs_size) = (
        number("disk"),
        number("start"),
        number("size"),
        number("fs"),
    );
    assert_eq!(disk * 512, CARD_SIZE);
    assert!(
        disk - (start + size) < 2048,
        "partition 3 ends at {} of {disk}",
        start + size
    );
    assert!(
        fs_size > size * 9 / 10,
        "ext4 has {fs_size} of {size} sectors"
    );

    let layout = &step(steps, "layout", run).stdout;
    for expected in [
        "/data root burnstation 1775",
        "/data/keys burnstation burnstation 700",
        "/data/keys/id_ed25519 burnstation burnstation 600",
        "/data/keys/id_ed25519.pub burnstation burnstation 644",
        "/data/system root root 755",
        "/data/system/journal root systemd-journal 2755",
        "/data/system/ssh root root 700",
    ] {
        assert!(
            layout.lines().any(|line| line == expected),
            "{expected}:\n{layout}\n{run}"
        );
    }
    assert_eq!(
        step(steps, "pub", run).exit_code,
        0,
        "/boot/burnstation.pub is the key's public half\n{run}"
    );
    let fingerprint = step(steps, "fingerprint", run).stdout.trim().to_string();
    assert!(
        fingerprint.starts_with("256 SHA256:")
            && fingerprint.ends_with(&format!("burnstation@{BOX_NAME} (ED25519)")),
        "{fingerprint}"
    );
    let journal = &step(steps, "journal", run).stdout;
    assert!(
        journal.contains("/var/log/journal/"),
        "the journal is persistent:\n{journal}\n{run}"
    );
    assert_eq!(
        value(step(steps, "watchdog", run), "RuntimeWatchdogUSec"),
        Some("15s")
    );
    let watchdog = &step(steps, "watchdog-device", run).stdout;
    assert!(
        watchdog.starts_with("active\ni6300ESB"),
        "systemd holds the hardware watchdog: {watchdog}"
    );
    fingerprint
}

/// The box's public key as the boot partition of `card` holds it (read with mtools, not
/// through the guest), and the private key's public half from the data partition (debugfs).
fn keys_on_card(card: &Path, dir: &Path) -> (String, String) {
    let layout = CardLayout::read(card).unwrap_or_else(|err| panic!("{err}"));
    let boot = dir.join("boot.vfat");
    card::extract(card, &layout.partitions[0], &boot).unwrap();
    let mut mtype = MTYPE.command().unwrap();
    mtype
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(&boot)
        .arg("::burnstation.pub");
    let on_boot = tools::run(&mut mtype).unwrap_or_else(|err| panic!("{err}"));
    let data = dir.join("data.ext4");
    card::extract(card, &layout.partitions[2], &data).unwrap();
    let mut debugfs = DEBUGFS.command().unwrap();
    debugfs.args(["-R", "cat /keys/id_ed25519.pub"]).arg(&data);
    let on_data = tools::run(&mut debugfs).unwrap_or_else(|err| panic!("{err}"));
    let _ = fs::remove_file(&boot);
    let _ = fs::remove_file(&data);
    (
        String::from_utf8_lossy(&on_boot.stdout).into_owned(),
        String::from_utf8_lossy(&on_data.stdout).into_owned(),
    )
}

#[test]
fn a_fresh_card_boots_grows_its_data_makes_the_box_key_and_runs_the_station_unit_with_the_burner() {
    let mut setup = Setup::new();
    let dir = setup.dir.clone();
    let card = setup.card(&settings(None));
    let scenario = format!(
        "{BOOT_STEPS}\n\
         step station systemctl show --property=User,Group,Type,NotifyAccess,Restart,WatchdogUSec,RuntimeDirectory,ExecStart burnstation.service\n\
         step status sh -c 'for i in $(seq 100); do burnstation status --config /boot/burnstation.toml --json && exit 0; sleep 0.2; done; exit 1'\n\
         systemctl restart burnstation.service\n\
         step status-again sh -c 'for i in $(seq 100); do burnstation status --config /boot/burnstation.toml && exit 0; sleep 0.2; done; exit 1'\n\
         step station-log journalctl --boot --output=cat --unit=burnstation.service\n\
         systemctl stop burnstation.service # its restarts would remove /run/burnstation under the probe\n\
         step probe sh -c 'systemctl start systest-probe.service; cat /run/systest-probe.out'\n\
         step sshd-off systemctl show --property=ActiveState,ConditionResult sshd.service\n"
    );
    let run = setup
        .burner
        .boot(Attach::Usb)
        .systemd(&setup.guest, &card)
        .run(&steps::script(&scenario), &[])
        .unwrap_or_else(|err| panic!("{err}"));
    run.assert_success();
    let steps = Steps::parse(&run.stdout);
    let fingerprint = check_first_boot(&run, &steps);
    eprintln!("box key: {fingerprint}");

    // The station's unit, as a probe: its user, groups and sandbox, and the burner.
    let probe = step(&steps, "probe", &run);
    let expected_version = format!("burnstation {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(value(probe, "user"), Some("burnstation"), "{run}");
    let groups: Vec<&str> = value(probe, "groups").unwrap_or("").split(' ').collect();
    for group in ["burnstation", "cdrom", "i2c", "spi", "gpio"] {
        assert!(groups.contains(&group), "{group}: {groups:?}");
    }
    assert_eq!(
        value(probe, "version"),
        Some(expected_version.as_str()),
        "{run}"
    );
    assert_eq!(value(probe, "data"), Some("writable"), "{run}");
    assert_eq!(value(probe, "boot"), Some("read-only"), "{run}");
    assert_eq!(value(probe, "usr"), Some("read-only"), "{run}");
    assert_eq!(
        value(probe, "runtime_dir"),
        Some("burnstation 755"),
        "{run}"
    );
    assert_eq!(value(probe, "key"), Some("readable"), "{run}");
    assert_eq!(value(probe, "settings"), Some("readable"), "{run}");
    assert_eq!(value(probe, "drive"), Some("cdrom 660"), "{run}");
    assert_eq!(
        value(probe, "media_exit"),
        Some("0"),
        "the station reads the burner as its user, through the unit's sandbox\n{run}"
    );
    assert!(
        probe.stdout.contains("DVD+R"),
        "`burnstation media` sees the blank DVD+R:\n{}",
        probe.stdout
    );

    // The real unit, as systemd loaded it: the daemon's contract (docs/admin-guide.md).
    let station = step(&steps, "station", &run);
    for (property, expected) in [
        ("User", "burnstation"),
        ("Group", "burnstation"),
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("Restart", "always"),
        ("WatchdogUSec", "1min"),
        ("RuntimeDirectory", "burnstation"),
    ] {
        assert_eq!(
            value(station, property),
            Some(expected),
            "{property}\n{run}"
        );
    }
    assert!(
        value(station, "ExecStart").is_some_and(|exec| exec
            .contains("argv[]=/usr/bin/burnstation run --config /boot/burnstation.toml ")),
        "{run}"
    );
    // The running service answers `burnstation status` on its socket in /data, before and
    // after a restart (a box with no network waits for its clock, or for the server).
    let status = step(&steps, "status", &run);
    let first = status.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("{\"event\":\"state\""),
        "`burnstation status --json` as root in the guest:\n{run}"
    );
    let again = step(&steps, "status-again", &run);
    assert!(
        again.stdout.contains("(since "),
        "`burnstation status` after `systemctl restart`:\n{run}"
    );
    let log = &step(&steps, "station-log", &run).stdout;
    assert!(
        log.contains("Starting burnstation.service - Burn station..."),
        "systemd started the station at boot:\n{log}"
    );

    // Inbound ssh stays off without [admin_ssh].
    let sshd = step(&steps, "sshd-off", &run);
    assert_eq!(value(sshd, "ActiveState"), Some("inactive"), "{run}");
    assert_eq!(value(sshd, "ConditionResult"), Some("no"), "{run}");

    // On the host, with other tools: the boot partition has the box's public key.
    let (on_boot, on_data) = keys_on_card(&card, &dir);
    assert_eq!(on_boot, on_data);
    let key_file = dir.join("burnstation.pub");
    fs::write(&key_file, &on_boot).unwrap();
    let mut keygen = SSH_KEYGEN.command().unwrap_or_else(|err| panic!("{err}"));
    keygen.arg("-l").arg("-f").arg(&key_file);
    let host_fingerprint = tools::run(&mut keygen).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        String::from_utf8_lossy(&host_fingerprint.stdout).trim(),
        fingerprint
    );
}

/// A test key pair in `dir`: (private key file, public key line).
fn key_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let private = dir.join(name);
    let mut keygen = SSH_KEYGEN.command().unwrap_or_else(|err| panic!("{err}"));
    keygen
        .args(["-q", "-t", "ed25519", "-N", "", "-C"])
        .arg(format!("{name}@systest"))
        .arg("-f")
        .arg(&private);
    tools::run(&mut keygen).unwrap_or_else(|err| panic!("{err}"));
    let public = fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
    (private, public.trim().to_string())
}

/// The bytes of the card's boot partition.
fn boot_partition(card: &Path, dir: &Path) -> Vec<u8> {
    let layout = CardLayout::read(card).unwrap_or_else(|err| panic!("{err}"));
    let boot = dir.join("boot-partition.img");
    card::extract(card, &layout.partitions[0], &boot).unwrap();
    let bytes = fs::read(&boot).unwrap();
    fs::remove_file(&boot).unwrap();
    bytes
}

/// What the second boot checks and both boots print: the keys, the partition, the boots
/// the journal has seen, and what the boot scripts said this time.
const AGAIN_STEPS: &str = r#"
step box-key ssh-keygen -l -f /data/keys/id_ed25519.pub
step host-key ssh-keygen -l -f /data/system/ssh/ssh_host_ed25519_key.pub
step size cat /sys/class/block/vda3/size
step boots journalctl --directory=/var/log/journal --list-boots --no-pager
step previous journalctl --directory=/var/log/journal --boot=-1 --output=cat --unit=burnstation-firstboot.service
step said journalctl --boot --output=cat --unit=burnstation-firstboot.service --unit=burnstation-grow-data.service --unit=burnstation-admin-ssh.service
"#;

/// Logging in over ssh from inside the guest: the administrator's key as root, and what
/// must be refused.
const SSH_STEPS: &str = r#"
for key in admin stranger; do
    cp "$FILES/$key" "/tmp/$key"
    chmod 600 "/tmp/$key"
done
ssh_opts="-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=30"
step sshd systemctl show --property=ActiveState,ConditionResult sshd.service
step ssh-admin ssh $ssh_opts -i /tmp/admin root@127.0.0.1 id -un
step ssh-stranger ssh $ssh_opts -i /tmp/stranger root@127.0.0.1 true
step ssh-user ssh $ssh_opts -i /tmp/admin burnstation@127.0.0.1 true
step ssh-password ssh $ssh_opts -o PubkeyAuthentication=no root@127.0.0.1 true
step offered-host-key sh -c 'ssh-keyscan -t ed25519 127.0.0.1 2>/dev/null | cut -d" " -f2-3'
step host-key-file cut -d" " -f1-2 /data/system/ssh/ssh_host_ed25519_key.pub
"#;

#[test]
fn admin_ssh_lets_exactly_one_key_in_and_a_second_boot_changes_nothing_already_done() {
    let mut setup = Setup::new();
    let dir = setup.dir.clone();
    let (admin, admin_public) = key_pair(&dir, "admin");
    let (stranger, _) = key_pair(&dir, "stranger");
    let settings = settings(Some(&format!(
        "enabled = true\nauthorized_key = \"{admin_public}\""
    )));
    let card = setup.card(&settings);
    let files = [(admin.as_path(), "admin"), (stranger.as_path(), "stranger")];

    let first = setup
        .burner
        .boot(Attach::Usb)
        .systemd(&setup.guest, &card)
        .run(
            &steps::script(&format!("{BOOT_STEPS}{SSH_STEPS}{AGAIN_STEPS}")),
            &files,
        )
        .unwrap_or_else(|err| panic!("{err}"));
    first.assert_success();
    let steps1 = Steps::parse(&first.stdout);
    let fingerprint = check_first_boot(&first, &steps1);
    let sshd = step(&steps1, "sshd", &first);
    assert_eq!(value(sshd, "ActiveState"), Some("active"), "{first}");
    let admin_login = step(&steps1, "ssh-admin", &first);
    assert_eq!(
        (admin_login.exit_code, admin_login.stdout.as_str()),
        (0, "root\n"),
        "{first}"
    );
    for refused in ["ssh-stranger", "ssh-user", "ssh-password"] {
        let attempt = step(&steps1, refused, &first);
        assert_ne!(attempt.exit_code, 0, "{refused} got in\n{first}");
        assert!(
            attempt.stderr.contains("Permission denied (publickey)"),
            "{refused}: only keys are offered\n{first}"
        );
    }
    let offered = step(&steps1, "offered-host-key", &first)
        .stdout
        .trim()
        .to_string();
    assert!(offered.starts_with("ssh-ed25519 "), "{first}");
    assert_eq!(
        offered,
        step(&steps1, "host-key-file", &first).stdout.trim(),
        "sshd presents the host key made on the data partition"
    );
    let said = &step(&steps1, "said", &first).stdout;
    assert!(
        said.contains("inbound ssh is on for root with the key 256 SHA256:"),
        "{said}"
    );
    let boot_after_first = boot_partition(&card, &dir);

    let second = setup
        .burner
        .boot(Attach::Usb)
        .systemd(&setup.guest, &card)
        .run(&steps::script(AGAIN_STEPS), &[])
        .unwrap_or_else(|err| panic!("{err}"));
    second.assert_success();
    let steps2 = Steps::parse(&second.stdout);
    for kept in ["box-key", "host-key", "size"] {
        assert_eq!(
            step(&steps2, kept, &second).stdout,
            step(&steps1, kept, &first).stdout,
            "{kept} changed on the second boot\n{second}"
        );
    }
    assert_eq!(step(&steps2, "box-key", &second).stdout.trim(), fingerprint);
    let boots = &step(&steps2, "boots", &second).stdout;
    let boot_ids = boots
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .any(|field| field.len() == 32 && field.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .count();
    // Each boot of a read-only root has its own machine ID, so its own journal directory:
    // --directory reads them all.
    assert_eq!(
        boot_ids, 2,
        "the journal on /data kept the first boot:\n{boots}\n{second}"
    );
    let previous = &step(&steps2, "previous", &second).stdout;
    assert!(
        previous.contains("made the ssh key /data/keys/id_ed25519"),
        "the first boot's log is on /data:\n{previous}\n{second}"
    );
    let said = &step(&steps2, "said", &second).stdout;
    for first_boot_only in ["made the ssh key", "wrote the box's public key", "growing"] {
        assert!(
            !said.contains(first_boot_only),
            "the second boot did again: {first_boot_only}\n{said}"
        );
    }
    assert!(
        boot_partition(&card, &dir) == boot_after_first,
        "the second boot wrote to the boot partition"
    );
}

/// `text` with the first line equal to `from` replaced by `to`; panics when there is none,
/// so a change to the shipped settings cannot silently leave the test on the defaults.
fn set_line(text: &str, from: &str, to: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|line| *line == from)
        .unwrap_or_else(|| panic!("the settings have no line {from:?}"));
    lines[at] = to;
    lines.join("\n") + "\n"
}

/// The guest is its own backup server: the administrator's inbound ssh (root, one key) is
/// what the station's rsync logs into, over loopback, for the tree in the test's share. The
/// scenario does what a volunteer and an administrator do by mail: the box's public key
/// (`burnstation.pub`) becomes the server's authorized key, and the server's host key is
/// pinned in the settings. The clock is declared synchronised the way timesyncd does (the
/// guest has no network).
const SYNC_AND_BURN_STEPS: &str = r#"
step running systemctl is-system-running --wait
box_key=$(cat /boot/burnstation.pub)
mount -o remount,rw /boot
sed -i "s|^authorized_key = \"\"\$|authorized_key = \"$box_key\"|" /boot/burnstation.toml
systemctl restart burnstation-admin-ssh.service
systemctl start sshd.service
host_key=$(cut -d' ' -f1-2 /data/system/ssh/ssh_host_ed25519_key.pub)
sed -i "s|^host_key = \"\"\$|host_key = \"$host_key\"|" /boot/burnstation.toml
mount -o remount,ro /boot
step server systemctl show --property=ActiveState sshd.service
step pinned grep -c "^host_key = \"$host_key\"\$" /boot/burnstation.toml
mkdir -p /run/systemd/timesync
touch /run/systemd/timesync/synchronized
systemctl restart burnstation.service
# Every state the service shows, as it changes; a state that needs a person ends the wait.
step progress sh -c 'end=$(( $(date +%s) + 600 )); last=
while [ "$(date +%s)" -lt "$end" ]; do
    if burnstation status --config /boot/burnstation.toml --json > /tmp/status 2> /tmp/status.err; then
        state=$(head -n 1 /tmp/status)
        if [ "$state" != "$last" ]; then echo "$state"; last=$state; fi
        case "$state" in
            *\"name\":\"set_complete\"*) exit 0 ;;
            *\"name\":\"sync_failed\"*|*\"name\":\"stopped\"*|*\"name\":\"config_invalid\"*) exit 2 ;;
        esac
    fi
    sleep 1
done
cat /tmp/status.err; exit 1'
step status burnstation status --config /boot/burnstation.toml
systemctl stop burnstation.service
step catalog runuser -u burnstation -- burnstation catalog sets
step states sh -c "journalctl --boot --unit=burnstation.service --output=verbose | sed -n 's/^ *F_STATE=//p'"
step station-log journalctl --boot --output=cat --unit=burnstation.service
step sshd-log journalctl --boot --output=cat --unit=sshd.service
# For a post-mortem: what did not start, and what the boot warned of.
step failed systemctl list-units --failed --plain --no-legend
step warnings journalctl --boot --priority=warning --output=short-monotonic --no-pager
"#;

#[test]
fn the_station_service_syncs_over_ssh_plans_burns_and_verifies_a_set_onto_the_dvd_plus_r() {
    let mut setup = Setup::new();
    let tree = setup.burner.dir().join("served");
    fs::create_dir(&tree).unwrap();
    build_set_tree(&tree);
    fs::hard_link(tree.join("db/schema.sql"), tree.join("db/schema-copy.sql")).unwrap();
    let mut settings = settings(Some("enabled = true\nauthorized_key = \"\""));
    for (from, to) in [
        ("host = \"backup.example.org\"", "host = \"127.0.0.1\""),
        ("user = \"burnstation\"", "user = \"root\""),
        ("path = \"/\"", "path = \"/share/files/tree\""),
        ("start = \"ask\"", "start = \"auto\""),
        ("media = [\"auto\"]", "media = [\"dvd+r\"]"),
        // The test's card is 1 GiB, so the shipped margin would forbid any sync.
        ("min_free = \"1GiB\"", "min_free = \"64MiB\""),
    ] {
        settings = set_line(&settings, from, to);
    }
    let card = setup.card(&settings);
    let files = [(tree.as_path(), "tree")];
    let run = setup
        .burner
        .boot(Attach::Usb)
        .systemd(&setup.guest, &card)
        .timeout(Duration::from_secs(1200))
        .run(&steps::script(SYNC_AND_BURN_STEPS), &files)
        .unwrap_or_else(|err| panic!("{err}"));
    run.assert_success();
    let steps = Steps::parse(&run.stdout);
    assert_eq!(step(&steps, "running", &run).stdout.trim(), "running");
    assert_eq!(
        value(step(&steps, "server", &run), "ActiveState"),
        Some("active"),
        "sshd runs once the box's key is authorized\n{run}"
    );
    assert_eq!(step(&steps, "pinned", &run).stdout.trim(), "1", "{run}");
    let progress = step(&steps, "progress", &run);
    assert_eq!(
        progress.exit_code, 0,
        "the service did not reach set complete (2: it stopped for a person, 1: it took \
         over 10 minutes)\n{run}"
    );

    eprintln!(
        "the service's states, as `burnstation status` saw them:\n{}",
        progress.stdout
    );
    // The job went through every state of the issue, in order.
    let states: Vec<&str> = step(&steps, "states", &run).stdout.lines().collect();
    let mut expected = ["Syncing", "Planning", "Burning", "Verifying", "SetComplete"]
        .into_iter()
        .peekable();
    for state in &states {
        if expected.peek().is_some_and(|want| state.starts_with(want)) {
            expected.next();
        }
    }
    assert_eq!(
        expected.next(),
        None,
        "the journal's states, in order: {states:#?}\n{run}"
    );

    // The catalogue, read as the station's user once the service stopped.
    let catalog = step(&steps, "catalog", &run);
    let sets: Vec<&str> = catalog.stdout.lines().collect();
    assert_eq!(sets.len(), 1, "{run}");
    assert!(
        sets[0].contains(" 1 discs of ") && sets[0].ends_with(": 1 burnt, 1 verified (complete)"),
        "`burnstation catalog sets`: {}\n{run}",
        sets[0]
    );

    eprintln!("{}", sets[0]);
    // On the host, with xorriso: the disc tgt holds is the served tree under backup/, with
    // the set's own files beside it, and its SHA256SUMS checks.
    let extracted = setup.burner.dir().join("extracted");
    let mut xorriso = XORRISO.command().unwrap_or_else(|err| panic!("{err}"));
    xorriso
        .args(["-hardlinks", "on", "-osirrox", "on", "-indev"])
        .arg(setup.burner.backing_file())
        .args(["-extract", "/"])
        .arg(&extracted);
    tools::run(&mut xorriso).unwrap_or_else(|err| panic!("{err}"));
    let mut top: Vec<String> = fs::read_dir(&extracted)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            "CATALOG.txt",
            "README.txt",
            "SET.json",
            "SHA256SUMS",
            "backup"
        ]
    );
    // The station's rsync runs as its own user, so the snapshot's files are its own.
    let fidelity = Fidelity {
        owners: false,
        ..Fidelity::XORRISO
    };
    compare_trees(
        &tree,
        &extracted.join("backup"),
        fidelity,
        &|path, _| Some(path.to_vec()),
        &[],
    );
    let mut check = SHA256SUM.command().unwrap_or_else(|err| panic!("{err}"));
    check
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&extracted);
    tools::run(&mut check).unwrap_or_else(|err| panic!("{err}"));
}

//! System tests: a guest kernel drives an emulated DVD burner (tgt) that nobody here wrote.
//!
//! Each test boots one or two fresh QEMU guests (see `docs/testing.md`). Until the station's
//! `drives`, `media`, `burn` and `verify` subcommands exist, the scenarios use what does:
//! the `mmc-probe` test program (raw SG_IO, none of the station's code), busybox in the
//! guest, `burnstation --version`, and xorriso / isoinfo on the host. They prove the path:
//! both buses, the guest's sr/sg drivers, tgt's MMC emulation, and bytes landing on the disc
//! file and coming back.
//!
//! A missing tool (tgtd, QEMU, busybox, xorriso, a reachable Debian mirror...) fails the
//! test with what to install; nothing is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use burnstation_tests::fixtures::{self, parse_sha256sum};
use burnstation_tests::host_build::workspace_binary;
use burnstation_tests::qemu::QemuError;
use burnstation_tests::tools::{self, ISOINFO, XORRISO};
use burnstation_tests::{Attach, DiscState, EmulatedBurner, GuestRun, SystestError};

/// The probe program, built by Cargo with this test.
const MMC_PROBE: &str = env!("CARGO_BIN_EXE_mmc-probe");

/// What tgt 1.0.85 answers to INQUIRY for an MMC logical unit (`usr/spc.c`, `usr/mmc.c`).
const TGT_VENDOR: &str = "IET";
const TGT_PRODUCT: &str = "VIRTUAL-CDROM";
const TGT_REVISION: &str = "0001";
/// MMC profiles (MMC-5, "Profile List").
const PROFILE_DVD_ROM: &str = "0x0010";
const PROFILE_DVD_PLUS_R: &str = "0x001B";

/// Unwraps a harness result, printing the error's whole message (console tail included).
fn ok<T>(result: Result<T, SystestError>) -> T {
    result.unwrap_or_else(|err| panic!("{err}"))
}

fn burnstation() -> PathBuf {
    workspace_binary("burnstation", "burnstation").unwrap_or_else(|err| panic!("{err}"))
}

/// The scenario of the "sees the burner" tests: sysfs, raw MMC, and the station binary.
const IDENTIFY: &str = r#"
set -e
echo "vendor=$(cat /sys/block/sr0/device/vendor)"
echo "model=$(cat /sys/block/sr0/device/model)"
echo "device-path=$(readlink -f /sys/block/sr0)"
echo "sg-device=$SG_DEVICE"
[ -b "$DRIVE" ] && echo "drive-is-block-device=yes"
[ -c "$SG_DEVICE" ] && echo "sg-is-char-device=yes"
mmc-probe inquiry "$DRIVE"
mmc-probe profile "$DRIVE"
mmc-probe disc "$DRIVE"
echo "burnstation-version=$(burnstation --version)"
"#;

fn assert_sees_blank_dvd_plus_r_burner(attach: Attach, bus_in_path: &str) {
    let station = burnstation();
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let run = ok(burner.boot(attach).run(
        IDENTIFY,
        &[
            (Path::new(MMC_PROBE), "mmc-probe"),
            (&station, "burnstation"),
        ],
    ));
    run.assert_success();
    let expect = |key: &str, want: &str| {
        assert_eq!(run.value(key).map(str::trim), Some(want), "{key}\n{run}");
    };
    expect("vendor", TGT_VENDOR);
    expect("model", TGT_PRODUCT);
    expect("drive-is-block-device", "yes");
    expect("sg-is-char-device", "yes");
    expect("peripheral-type", "5");
    expect("product", TGT_PRODUCT);
    expect("revision", TGT_REVISION);
    expect("current-profile", PROFILE_DVD_PLUS_R);
    expect("disc-status", "blank");
    let path = run.value("device-path").unwrap_or_default();
    assert!(
        path.contains(bus_in_path),
        "sr0 should sit on {bus_in_path}: {path}\n{run}"
    );
    let profiles = run.value("profiles").unwrap_or_default();
    assert!(
        profiles.split(',').any(|p| p == "0x001B*"),
        "DVD+R must be listed and current: {profiles}\n{run}"
    );

    let host_version = Command::new(&station).arg("--version").output().unwrap();
    expect(
        "burnstation-version",
        String::from_utf8_lossy(&host_version.stdout).trim(),
    );
    eprintln!(
        "{attach:?} identify run took {:.1} s",
        run.took.as_secs_f64()
    );
}

#[test]
fn usb_guest_sees_a_blank_dvd_plus_r_burner() {
    // usb-storage puts the SCSI host under the xHCI controller's USB port.
    assert_sees_blank_dvd_plus_r_burner(Attach::Usb, "/usb");
}

#[test]
fn virtio_scsi_guest_sees_a_blank_dvd_plus_r_burner() {
    assert_sees_blank_dvd_plus_r_burner(Attach::VirtioScsi, "/virtio");
}

/// A small tree, its xorriso image, and what the files hash to.
struct TestImage {
    _dir: tempfile::TempDir,
    image: PathBuf,
    digests: BTreeMap<String, String>,
}

fn test_image(seed: u64) -> TestImage {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let digests = fixtures::generate_tree(&tree, seed, &[1 << 20, 300 * 1024, 77_777, 2048])
        .unwrap_or_else(|err| panic!("{err}"));
    let image = dir.path().join("image.iso");
    fixtures::xorriso_image(&tree, &image).unwrap_or_else(|err| panic!("{err}"));
    TestImage {
        _dir: dir,
        image,
        digests,
    }
}

/// Mounts the disc and hashes every file on it (paths relative to the disc's root).
const READ_BACK: &str = r#"
set -e
mmc-probe profile "$DRIVE"
mmc-probe disc "$DRIVE"
mkdir -p /mnt/disc
mount -t iso9660 -o ro "$DRIVE" /mnt/disc
cd /mnt/disc
echo "--- sha256sum"
find . -type f -exec sha256sum {} +
"#;

fn assert_reads_back_as_finalized_disc(run: &GuestRun, image: &TestImage) {
    run.assert_success();
    assert_eq!(run.value("current-profile"), Some(PROFILE_DVD_ROM), "{run}");
    assert_eq!(run.value("disc-status"), Some("complete"), "{run}");
    let image_blocks = std::fs::metadata(&image.image).unwrap().len() / 2048;
    assert_eq!(
        run.value("readable-blocks"),
        Some(image_blocks.to_string().as_str()),
        "the readable capacity must be the image's\n{run}"
    );
    let (_, listing) = run.stdout.split_once("--- sha256sum\n").unwrap_or_default();
    assert_eq!(
        parse_sha256sum(listing),
        image.digests,
        "the guest must read back exactly the tree that went in\n{run}"
    );
}

/// The bytes a guest writes through its kernel's sr driver (raw WRITE(10) over USB) land in
/// the disc file; host tools read that file as the image; after a reload a fresh guest sees
/// a finalized disc and reads every file back.
#[test]
fn bytes_burnt_in_the_guest_land_on_the_disc_and_read_back_after_a_reload() {
    let image = test_image(11);
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let burn = ok(burner.boot(Attach::Usb).run(
        "set -e\nmmc-probe profile \"$DRIVE\"\nmmc-probe write \"$DRIVE\" \"$FILES/image.iso\"\n",
        &[
            (Path::new(MMC_PROBE), "mmc-probe"),
            (&image.image, "image.iso"),
        ],
    ));
    burn.assert_success();
    assert_eq!(
        burn.value("current-profile"),
        Some(PROFILE_DVD_PLUS_R),
        "{burn}"
    );

    let written = std::fs::read(burner.backing_file()).unwrap();
    let expected = std::fs::read(&image.image).unwrap();
    assert!(
        written == expected,
        "the disc file ({} bytes) must hold exactly the image ({} bytes)",
        written.len(),
        expected.len()
    );
    let mut isoinfo = ISOINFO.command().unwrap_or_else(|err| panic!("{err}"));
    isoinfo.args(["-f", "-R", "-i"]).arg(burner.backing_file());
    let listing = tools::run(&mut isoinfo).unwrap_or_else(|err| panic!("{err}"));
    let listing = String::from_utf8_lossy(&listing.stdout);
    for path in image.digests.keys() {
        assert!(
            listing.lines().any(|line| line == format!("/{path}")),
            "isoinfo must list /{path} on the burnt disc:\n{listing}"
        );
    }
    let mut xorriso = XORRISO.command().unwrap_or_else(|err| panic!("{err}"));
    xorriso
        .args(["-abort_on", "FAILURE", "-indev"])
        .arg(burner.backing_file())
        .args(["-check_media", "--"]);
    tools::run(&mut xorriso).unwrap_or_else(|err| panic!("{err}"));

    ok(burner.reload_disc());
    let read = ok(burner
        .boot(Attach::Usb)
        .run(READ_BACK, &[(Path::new(MMC_PROBE), "mmc-probe")]));
    assert_reads_back_as_finalized_disc(&read, &image);
    eprintln!(
        "burn run took {:.1} s, read-back run {:.1} s",
        burn.took.as_secs_f64(),
        read.took.as_secs_f64()
    );
}

/// A non-empty disc file is a finalized DVD-ROM with the file's size as readable capacity,
/// and the guest mounts the ISO on it.
#[test]
fn a_finalized_disc_is_a_dvd_rom_the_guest_mounts_and_reads() {
    let image = test_image(23);
    let bytes = std::fs::read(&image.image).unwrap();
    let mut burner = ok(EmulatedBurner::new(DiscState::Finalized(bytes)));
    let run = ok(burner
        .boot(Attach::VirtioScsi)
        .run(READ_BACK, &[(Path::new(MMC_PROBE), "mmc-probe")]));
    assert_reads_back_as_finalized_disc(&run, &image);
}

/// The harness reports what a failing scenario printed and its exit code: the suite can fail.
#[test]
fn a_failing_scenario_is_reported_with_its_output_and_exit_code() {
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let run = ok(burner
        .boot(Attach::VirtioScsi)
        .run("echo 'to stdout'\necho 'to stderr' >&2\nexit 7\n", &[]));
    assert_eq!(run.exit_code, 7, "{run}");
    assert_eq!(run.stdout, "to stdout\n");
    assert_eq!(run.stderr, "to stderr\n");
    assert!(
        run.console_log
            .contains("systest-init: scenario exit code 7"),
        "{run}"
    );
}

/// A guest that hangs is killed at its deadline, the error shows the end of its console, and
/// no QEMU is left running.
#[test]
fn a_hung_guest_is_killed_at_its_deadline() {
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let timeout = Duration::from_secs(40);
    let err = burner
        .boot(Attach::VirtioScsi)
        .timeout(timeout)
        .run("echo about to hang\nwhile true; do sleep 1; done\n", &[])
        .expect_err("a guest that never powers off must fail the run");
    let SystestError::Qemu(QemuError::Timeout {
        console_log,
        console_tail,
        ..
    }) = &err
    else {
        panic!("expected a timeout, got: {err}");
    };
    let message = err.to_string();
    assert!(
        message.contains("did not power off within 40s"),
        "{message}"
    );
    assert!(
        console_tail.contains("systest-init:"),
        "the error must show the console's end:\n{message}"
    );
    let left = processes_mentioning(console_log);
    assert!(left.is_empty(), "QEMU must be gone, yet found: {left:?}");
}

/// PIDs of processes whose command line mentions `path`.
fn processes_mentioning(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
        })
        .collect()
}

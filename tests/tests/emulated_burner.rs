//! System tests: `burnstation` burns and verifies inside a guest kernel, on an emulated DVD
//! burner (tgt) that nobody here wrote. The scenarios of issue 6.
//!
//! Each test boots one or two fresh QEMU guests (see `docs/testing.md`) and runs the
//! station's own commands in them (`drives`, `media`, `burn`, `verify`), through the guest
//! kernel's `usb-storage`/`virtio-scsi`, `sr`, `sg` and `cdrom` drivers. What lands on the
//! disc (tgt's backing file) is then read on the host by xorriso, isoinfo and bsdtar, never
//! by our reader alone, and compared with the source tree.
//!
//! 1. The burner is found over USB and over virtio-scsi, with its profile and capacity.
//! 2. A tree of a few hundred MiB with awkward names burns and verifies, in the same guest
//!    and in a fresh one; the host's readers extract exactly the source tree.
//! 3. A finalized disc is refused with a sentence a volunteer understands and stays as it
//!    was.
//! 4. The drive lacks commands real drives often lack, and hides short answers: the station
//!    burns and verifies anyway, and its log shows each refusal and the fallback taken.
//! 5. Bytes damaged in one file's extent fail verification in a fresh guest, naming that file
//!    and only it.
//!
//! The last two tests check the harness itself: a failing scenario and a hung guest are
//! reported as failures, so this suite can fail.
//!
//! A missing tool (tgtd, QEMU, busybox, xorriso, isoinfo, bsdtar, a reachable Debian
//! mirror...) fails the test with what to install; nothing is skipped.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use burnstation_tests::awkward::{self, Fidelity, build_awkward_tree, compare_trees};
use burnstation_tests::fixtures;
use burnstation_tests::host_build::workspace_binary;
use burnstation_tests::qemu::QemuError;
use burnstation_tests::station_log::{Answer, StationLog};
use burnstation_tests::steps::{self, Step, Steps};
use burnstation_tests::tools::{self, BSDTAR, ISOINFO, SHA256SUM, Tool, XORRISO};
use burnstation_tests::{Attach, DiscState, EmulatedBurner, GuestRun, SystestError};

/// The probe program (raw SG_IO, none of the station's code), built by Cargo with this test.
const MMC_PROBE: &str = env!("CARGO_BIN_EXE_mmc-probe");

/// What tgt 1.0.85 answers to INQUIRY for an MMC logical unit (`usr/spc.c`, `usr/mmc.c`).
const TGT_VENDOR: &str = "IET";
const TGT_PRODUCT: &str = "VIRTUAL-CDROM";
/// tgt's blank DVD+R: always this many blocks (`usr/mmc.c`, READ TRACK INFORMATION).
const TGT_CAPACITY_BLOCKS: u64 = 2_295_104;
/// The volume label of the burnt discs.
const VOLUME_ID: &str = "SYSTEST";
/// The disc's own manifest, which is not in the source tree.
const MANIFEST: &[u8] = b"SHA256SUMS";

/// Unwraps a harness result, printing the error's whole message (console tail included).
fn ok<T>(result: Result<T, SystestError>) -> T {
    result.unwrap_or_else(|err| panic!("{err}"))
}

fn burnstation() -> PathBuf {
    workspace_binary("burnstation", "burnstation").unwrap_or_else(|err| panic!("{err}"))
}

/// A host tool's command, or a failure saying what to install.
fn tool(tool: Tool) -> Command {
    tool.command().unwrap_or_else(|err| panic!("{err}"))
}

/// Runs a host command that must succeed; the test fails with its output otherwise.
fn host(command: &mut Command) -> Vec<u8> {
    tools::run(command)
        .unwrap_or_else(|err| panic!("{err}"))
        .stdout
}

/// The steps of a run, or a failure showing the whole run when one is missing.
fn step<'a>(steps: &'a Steps, name: &str, run: &GuestRun) -> &'a Step {
    steps
        .get(name)
        .unwrap_or_else(|| panic!("step {name} did not finish\n{run}"))
}

/// Fails with the step's and the run's output unless the step exited 0.
fn assert_step_ok(step: &Step, name: &str, run: &GuestRun) {
    assert!(
        step.exit_code == 0,
        "`{name}` failed in the guest:\n{step}\n\nthe whole run:\n{run}"
    );
}

/// `key: value` lines (what `burnstation media` prints), by key.
fn fields(text: &str) -> BTreeMap<String, String> {
    split_lines(text, ':')
}

/// `key=value` lines (what `mmc-probe` prints), by key.
fn values(text: &str) -> BTreeMap<String, String> {
    split_lines(text, '=')
}

fn split_lines(text: &str, separator: char) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(separator))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// The rows of `burnstation drives` (after the header), split into their columns.
fn drive_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|line| !line.starts_with("DEVICE"))
        .skip(1)
        .take_while(|line| line.starts_with('/'))
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A source tree: the awkward names and metadata of the images issue (`build_awkward_tree`)
/// plus generated bulk files, for the size a scenario needs.
struct SourceTree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The bulk files, by path relative to the root.
    bulk: Vec<String>,
}

fn source_tree(bulk_sizes: &[u64]) -> SourceTree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    fs::create_dir(&root).unwrap();
    build_awkward_tree(&root);
    fs::create_dir(root.join("bulk")).unwrap();
    let mut bulk = Vec::new();
    for (index, &size) in bulk_sizes.iter().enumerate() {
        let name = format!("bulk/part-{index:02}.bin");
        fixtures::write_bulk_file(&root.join(&name), 1000 + index as u64, size)
            .unwrap_or_else(|err| panic!("{err}"));
        bulk.push(name);
    }
    SourceTree {
        _dir: dir,
        root,
        bulk,
    }
}

// ---------------------------------------------------------------------------------------
// 1. The station finds the burner over USB and over virtio-scsi.
// ---------------------------------------------------------------------------------------

/// `drives` (found through sysfs: the guest has no udev daemon), `drives --device`, `media`
/// with and without `--device`, and the raw probe's view of the same disc.
const FIND_THE_BURNER: &str = r#"
echo "sg-device=$SG_DEVICE"
step drives burnstation drives
step drives-device burnstation drives --device "$DRIVE"
step media burnstation media
step media-device burnstation media --device "$DRIVE"
step probe-profile mmc-probe profile "$DRIVE"
step probe-disc mmc-probe disc "$DRIVE"
"#;

fn assert_station_finds_the_burner(attach: Attach, bus: &str) {
    let station = burnstation();
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let run = ok(burner.boot(attach).run(
        &steps::script(FIND_THE_BURNER),
        &[
            (&station, "burnstation"),
            (Path::new(MMC_PROBE), "mmc-probe"),
        ],
    ));
    run.assert_success();
    let steps = Steps::parse(&run.stdout);
    let sg_device = run.value("sg-device").unwrap_or_default().to_string();

    for name in ["drives", "drives-device"] {
        let drives = step(&steps, name, &run);
        assert_step_ok(drives, name, &run);
        let rows = drive_rows(&drives.stdout);
        assert_eq!(
            rows,
            [vec![
                "/dev/sr0".to_string(),
                sg_device.clone(),
                bus.to_string(),
                TGT_VENDOR.to_string(),
                TGT_PRODUCT.to_string(),
                "0001".to_string(),
                "dvd+r".to_string(),
            ]],
            "`{name}` must list the one burner, on {bus}, writing DVD+R:\n{drives}\n{run}"
        );
    }
    for name in ["media", "media-device"] {
        let media = step(&steps, name, &run);
        assert_step_ok(media, name, &run);
        let facts = fields(&media.stdout);
        let fact = |key: &str| facts.get(key).map(String::as_str).unwrap_or("(missing)");
        assert_eq!(fact("device"), "/dev/sr0", "{media}");
        assert_eq!(fact("medium"), "DVD+R (profile 001Bh)", "{media}");
        assert_eq!(fact("status"), "blank", "{media}");
        assert_eq!(fact("next writable"), "block 0", "{media}");
        let capacity = format!("{TGT_CAPACITY_BLOCKS} blocks (4700 MB)");
        assert_eq!(fact("capacity"), capacity, "{media}");
        assert_eq!(fact("free"), capacity, "{media}");
        assert_eq!(fact("readable"), "0 blocks (0 MB)", "{media}");
    }
    // The raw probe (none of the station's code) sees the same disc.
    let profile = step(&steps, "probe-profile", &run);
    assert!(
        profile.stdout.contains("current-profile=0x001B"),
        "{profile}"
    );
    let disc = step(&steps, "probe-disc", &run);
    assert!(disc.stdout.contains("disc-status=blank"), "{disc}");
    eprintln!(
        "{attach:?}: finding the burner took {:.1} s",
        run.took.as_secs_f64()
    );
}

#[test]
fn usb_the_station_finds_the_burner_and_its_blank_dvd_plus_r() {
    assert_station_finds_the_burner(Attach::Usb, "USB");
}

#[test]
fn virtio_scsi_the_station_finds_the_burner_and_its_blank_dvd_plus_r() {
    assert_station_finds_the_burner(Attach::VirtioScsi, "virtio");
}

// ---------------------------------------------------------------------------------------
// 2. A few hundred MiB of awkward tree: burn, verify, and three independent readers.
// ---------------------------------------------------------------------------------------

/// Burns and verifies in one guest. `sysfs-size` is the guest kernel's own idea of the
/// disc (it saw a blank one at boot and is told of no change), which the station's
/// read-back must not depend on.
const BURN_AND_VERIFY: &str = r#"
step burn burnstation burn "$FILES/tree" --volume-id SYSTEST --volume-time 1700000000
step sysfs-size cat /sys/block/sr0/size
step verify burnstation verify
step media burnstation media
"#;

/// After the disc was taken out and put back: a fresh guest reads it.
const VERIFY_AGAIN: &str = r#"
step media burnstation media
step verify burnstation verify
"#;

#[test]
fn a_few_hundred_mib_of_awkward_tree_burns_verifies_and_reads_back_everywhere() {
    let station = burnstation();
    // 320 MiB in files of uneven sizes (none a whole number of blocks but the first).
    let mib = 1 << 20;
    let tree = source_tree(&[
        96 * mib,
        80 * mib + 1,
        64 * mib + 2047,
        48 * mib + 12_345,
        24 * mib + 7,
        8 * mib + 2049,
    ]);
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    // About 65 s on a 2-core machine shared with builds; TCG on a busier CI machine may
    // take several times that.
    let burn = ok(burner
        .boot(Attach::Usb)
        .timeout(Duration::from_secs(600))
        .run(
            &steps::script(BURN_AND_VERIFY),
            &[(&station, "burnstation"), (&tree.root, "tree")],
        ));
    burn.assert_success();
    let steps = Steps::parse(&burn.stdout);
    let burnt = step(&steps, "burn", &burn);
    assert_step_ok(burnt, "burn", &burn);
    assert!(burnt.stdout.contains("verified: all"), "{burnt}");
    // Verification in the same guest reads the disc through SG_IO, as the station always
    // does, so it needs no reload even though the kernel still thinks the disc is blank.
    let verify = step(&steps, "verify", &burn);
    assert_step_ok(verify, "verify", &burn);
    assert!(verify.stdout.starts_with("verified: all"), "{verify}");
    let media = fields(&step(&steps, "media", &burn).stdout);
    assert_eq!(
        media.get("status").map(String::as_str),
        Some("complete (finalized)"),
        "{burn}"
    );
    let disc = burner.backing_file().to_path_buf();
    let disc_bytes = fs::metadata(&disc).unwrap().len();
    eprintln!(
        "burn + verify + verify of {} MB took {:.1} s in the guest; the guest kernel's sr0 \
         size after the burn: {} sectors",
        disc_bytes / 1_000_000,
        burn.took.as_secs_f64(),
        step(&steps, "sysfs-size", &burn).stdout.trim()
    );

    assert_disc_is_the_tree(&disc, &tree);

    // A fresh power-on with the disc put back, on the other bus.
    ok(burner.reload_disc());
    let again = ok(burner
        .boot(Attach::VirtioScsi)
        .run(&steps::script(VERIFY_AGAIN), &[(&station, "burnstation")]));
    let steps = Steps::parse(&again.stdout);
    let media = step(&steps, "media", &again);
    assert_step_ok(media, "media", &again);
    let facts = fields(&media.stdout);
    assert_eq!(
        facts.get("status").map(String::as_str),
        Some("complete (finalized)"),
        "{media}"
    );
    let blocks = disc_bytes / 2048;
    assert_eq!(
        facts.get("readable").map(String::as_str),
        Some(format!("{blocks} blocks ({} MB)", disc_bytes / 1_000_000).as_str()),
        "{media}"
    );
    let verify = step(&steps, "verify", &again);
    assert_step_ok(verify, "verify", &again);
    assert!(verify.stdout.starts_with("verified: all"), "{verify}");
    eprintln!(
        "the fresh guest's media + verify took {:.1} s",
        again.took.as_secs_f64()
    );
}

/// The disc file, read by xorriso, bsdtar and isoinfo on the host, is the source tree.
fn assert_disc_is_the_tree(disc: &Path, tree: &SourceTree) {
    let scratch = tempfile::tempdir().unwrap();

    // xorriso, checking MD5 tags where there are any (-md5 on must come before -indev).
    let extracted = scratch.path().join("xorriso");
    host(
        tool(XORRISO)
            .args(["-md5", "on", "-hardlinks", "on", "-osirrox", "on", "-indev"])
            .arg(disc)
            .args(["-extract", "/"])
            .arg(&extracted),
    );
    compare_trees(
        &tree.root,
        &extracted,
        Fidelity::XORRISO,
        &|path, _| Some(path.to_vec()),
        &[MANIFEST],
    );
    // The disc's manifest, checked the way a person restoring it would.
    host(
        tool(SHA256SUM)
            .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
            .current_dir(&extracted),
    );

    // bsdtar (libarchive), which restores symlink times but never links empty files.
    let extracted = scratch.path().join("bsdtar");
    fs::create_dir(&extracted).unwrap();
    host(tool(BSDTAR).arg("-xpf").arg(disc).arg("-C").arg(&extracted));
    compare_trees(
        &tree.root,
        &extracted,
        Fidelity::BSDTAR,
        &|path, _| Some(path.to_vec()),
        &[MANIFEST],
    );

    // isoinfo: the volume, the Rock Ridge listing, and the bulk files' bytes.
    let info =
        String::from_utf8_lossy(&host(tool(ISOINFO).arg("-d").arg("-i").arg(disc))).into_owned();
    for want in [
        "CD-ROM is in ISO 9660 format".to_string(),
        format!("Volume id: {VOLUME_ID}"),
        "Joliet with UCS level 3 found".to_string(),
        "Rock Ridge signatures version 1 found".to_string(),
    ] {
        assert!(info.contains(&want), "isoinfo -d lacks {want:?}:\n{info}");
    }
    let volume_blocks: u64 = info
        .lines()
        .find_map(|line| line.strip_prefix("Volume size is: "))
        .and_then(|blocks| blocks.trim().parse().ok())
        .unwrap_or_else(|| panic!("isoinfo -d gives no volume size:\n{info}"));
    let disc_blocks = fs::metadata(disc).unwrap().len() / 2048;
    assert!(
        volume_blocks <= disc_blocks && disc_blocks - volume_blocks < 16,
        "the disc ({disc_blocks} blocks) must hold the volume ({volume_blocks} blocks) padded \
         to a whole 32 KiB write unit"
    );
    let listing = host(tool(ISOINFO).args(["-f", "-R", "-i"]).arg(disc));
    let listed: Vec<&[u8]> = listing.split(|&b| b == b'\n').collect();
    for (path, _) in awkward::walk(&tree.root) {
        // A name with a newline spans two lines of the listing; the extractions above
        // checked it.
        if !path.contains(&b'\n') {
            let want = [b"/".as_slice(), &path].concat();
            assert!(
                listed.contains(&want.as_slice()),
                "isoinfo -R does not list {}",
                awkward::show(&want)
            );
        }
    }
    for name in &tree.bulk {
        let bytes = host(
            tool(ISOINFO)
                .args(["-R", "-i"])
                .arg(disc)
                .args(["-x", &format!("/{name}")]),
        );
        assert!(
            bytes == fs::read(tree.root.join(name)).unwrap(),
            "isoinfo extracts other bytes for /{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. A finalized disc is refused, and left as it was.
// ---------------------------------------------------------------------------------------

const BURN_A_FINALIZED_DISC: &str = r#"
step media burnstation media
step burn burnstation burn "$FILES/tree"
"#;

#[test]
fn a_finalized_disc_is_refused_in_words_a_volunteer_understands_and_left_unchanged() {
    let station = burnstation();
    // Last week's backup disc: an image another tool made, finalized.
    let old = tempfile::tempdir().unwrap();
    fixtures::generate_tree(&old.path().join("old"), 41, &[300_000, 70_000])
        .unwrap_or_else(|err| panic!("{err}"));
    let image = old.path().join("old.iso");
    fixtures::xorriso_image(&old.path().join("old"), &image).unwrap_or_else(|err| panic!("{err}"));
    let before = fs::read(&image).unwrap();

    let tree = source_tree(&[1 << 20]);
    let mut burner = ok(EmulatedBurner::new(DiscState::File(image)));
    let run = ok(burner.boot(Attach::Usb).run(
        &steps::script(BURN_A_FINALIZED_DISC),
        &[(&station, "burnstation"), (&tree.root, "tree")],
    ));
    let steps = Steps::parse(&run.stdout);
    let media = step(&steps, "media", &run);
    assert_step_ok(media, "media", &run);
    let facts = fields(&media.stdout);
    assert_eq!(
        facts.get("status").map(String::as_str),
        Some("complete (finalized)"),
        "{media}"
    );

    let burn = step(&steps, "burn", &run);
    // Exit status 2: an error (the medium), not a damaged disc.
    assert_eq!(burn.exit_code, 2, "the burn must fail:\n{burn}");
    let said = burn.stderr.trim_end();
    // One sentence: what happened (the disc already holds data), what to do (a blank disc).
    assert!(
        said.starts_with(
            "burnstation: the disc in /dev/sr0 already holds data and cannot be written"
        ) && said.ends_with("insert a blank DVD+R, DVD-R, BD-R or CD-R"),
        "the refusal must say what happened and what to do:\n{burn}"
    );
    assert_eq!(
        said.lines().count(),
        1,
        "the refusal comes before anything is read or written:\n{burn}"
    );
    assert!(
        fs::read(burner.backing_file()).unwrap() == before,
        "the finalized disc must be left byte for byte as it was"
    );
}

// ---------------------------------------------------------------------------------------
// 4. A drive that lacks commands, and hides short answers.
// ---------------------------------------------------------------------------------------

/// The probe first establishes what the drive lacks (so this test cannot pass by accident
/// on a drive that lacks nothing), then the station does its whole job with every command
/// it sends in the log (`-vvv`).
const ON_A_DRIVE_THAT_LACKS_COMMANDS: &str = r#"
step quirks mmc-probe quirks "$DRIVE"
step drives burnstation -vvv drives --device "$DRIVE"
step media burnstation -vvv media
step burn burnstation -vvv burn "$FILES/tree" --volume-time 1700000000
step verify burnstation -vvv verify
"#;

#[test]
fn a_drive_lacking_commands_real_drives_lack_still_burns_and_the_log_says_how() {
    let station = burnstation();
    let tree = source_tree(&[6 << 20, 300_001]);
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let run = ok(burner.boot(Attach::Usb).run(
        &steps::script(ON_A_DRIVE_THAT_LACKS_COMMANDS),
        &[
            (&station, "burnstation"),
            (Path::new(MMC_PROBE), "mmc-probe"),
            (&tree.root, "tree"),
        ],
    ));
    let steps = Steps::parse(&run.stdout);

    // The premise: tgt refuses these, the way many real drives do, one of them with its
    // NOT READY flavour; and through QEMU's pass-through a short answer reports residual 0.
    let quirks = step(&steps, "quirks", &run);
    assert_step_ok(quirks, "mmc-probe quirks", &run);
    let quirk = values(&quirks.stdout);
    for command in ["gesn", "read-format-capacities", "reserve-track"] {
        let answer = quirk
            .get(command)
            .map(String::as_str)
            .unwrap_or("(missing)");
        assert!(
            answer.starts_with("refused"),
            "the emulated drive no longer lacks {command} ({answer}): this test's premise is \
             gone, find another way to make the station fall back\n{quirks}"
        );
    }
    assert_eq!(
        quirk.get("read-toc-raw").map(String::as_str),
        Some("refused 2/24/00"),
        "tgt refuses an unsupported field with NOT READY, not ILLEGAL REQUEST\n{quirks}"
    );
    let number = |key: &str| -> usize {
        quirk
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} missing\n{quirks}"))
    };
    let asked = number("get-performance-asked");
    let announced = number("get-performance-length");
    assert_eq!(number("get-performance-resid"), 0, "{quirks}");
    assert!(
        announced < asked,
        "GET PERFORMANCE's answer ({announced} bytes) must be shorter than asked ({asked}) for \
         the residual count to be wrong\n{quirks}"
    );

    // The station does the whole job.
    for name in ["drives", "media", "burn", "verify"] {
        assert_step_ok(step(&steps, name, &run), name, &run);
    }
    assert!(step(&steps, "burn", &run).stdout.contains("verified: all"));
    assert!(
        step(&steps, "verify", &run)
            .stdout
            .starts_with("verified: all")
    );

    // Every refusal the station met is answered in its log by what it did instead.
    let mut summary = String::new();
    for name in ["drives", "media", "burn", "verify"] {
        let log = StationLog::parse(&step(&steps, name, &run).stderr);
        assert!(
            log.commands().count() > 0,
            "`burnstation -vvv {name}` logged no commands: the trace this test reads is gone\n{}",
            step(&steps, name, &run)
        );
        let unanswered = log.unanswered_refusals();
        assert!(
            unanswered.is_empty(),
            "`{name}`: the drive refused {unanswered:?} and the station logged no fallback"
        );
        let refused: Vec<String> = log
            .refused()
            .filter_map(|command| match &command.answer {
                Answer::Refused { sense } => Some(format!("{} ({sense})", command.name)),
                Answer::Good { .. } => None,
            })
            .collect();
        let notes: Vec<&str> = log.drive_notes().collect();
        summary.push_str(&format!(
            "{name}: {} commands, refused: {refused:?}, fallbacks logged: {notes:?}\n",
            log.commands().count()
        ));
        if name == "media" {
            let media = step(&steps, name, &run);
            // What `media` prints as its fallbacks is what its log says it fell back from.
            let printed: Vec<&str> = media
                .stdout
                .lines()
                .filter_map(|line| line.strip_prefix("fallback:"))
                .map(str::trim)
                .collect();
            assert_eq!(
                printed.len(),
                notes.len(),
                "media prints {printed:?} but logged {notes:?}"
            );
            // tgt has no GET EVENT STATUS NOTIFICATION: the station is refused, says it
            // will notice discs by polling TEST UNIT READY instead, and shows it.
            assert!(
                refused
                    .iter()
                    .any(|r| r.starts_with("GET EVENT STATUS NOTIFICATION")),
                "tgt no longer refuses GESN: {refused:?}"
            );
            assert!(
                printed
                    .iter()
                    .any(|p| p.contains("polling TEST UNIT READY")),
                "media does not say how it falls back from GESN: {printed:?}\n{media}"
            );
            assert!(
                media
                    .stdout
                    .contains("disc changes:     noticed by polling"),
                "{media}"
            );
            // A short answer is read by its own length, not by the transfer count: the
            // write speeds `media` lists are the descriptors the answer holds, not 64.
            let performance = log
                .commands()
                .find(|c| c.name == "GET PERFORMANCE")
                .unwrap_or_else(|| panic!("media sent no GET PERFORMANCE\n{media}"));
            assert_eq!(
                performance.answer,
                Answer::Good { transferred: asked },
                "the transport reports the whole allocation as transferred"
            );
            let speeds = fields(&media.stdout)
                .get("write speeds")
                .cloned()
                .unwrap_or_default();
            let descriptors = (announced - 8) / 16;
            assert_eq!(
                speeds.split(", ").filter(|s| s.contains("kB/s")).count(),
                descriptors,
                "media must list the {descriptors} write speed(s) the answer holds: {speeds}"
            );
        }
    }
    eprintln!("{summary}");
}

// ---------------------------------------------------------------------------------------
// 5. Damage in one file's extent fails verification in a fresh guest, naming that file.
// ---------------------------------------------------------------------------------------

const BURN: &str = r#"
step burn burnstation burn "$FILES/tree" --volume-time 1700000000
"#;

const VERIFY: &str = r#"
step verify burnstation verify
"#;

#[test]
fn bytes_damaged_in_one_files_extent_fail_verification_naming_that_file_only() {
    let station = burnstation();
    let tree = source_tree(&[3 << 20, (2 << 20) + 5, 1 << 20]);
    let damaged = tree.bulk[1].clone();
    let mut burner = ok(EmulatedBurner::new(DiscState::Blank));
    let burn = ok(burner.boot(Attach::VirtioScsi).run(
        &steps::script(BURN),
        &[(&station, "burnstation"), (&tree.root, "tree")],
    ));
    let steps = Steps::parse(&burn.stdout);
    let burnt = step(&steps, "burn", &burn);
    assert_step_ok(burnt, "burn", &burn);
    assert!(burnt.stdout.contains("verified: all"), "{burnt}");

    // 64 bytes in the middle of the file's extent, as found by our reader and confirmed by
    // the bytes there being the file's own.
    let disc = burner.backing_file().to_path_buf();
    let extents =
        fixtures::file_extents(&disc, damaged.as_bytes()).unwrap_or_else(|err| panic!("{err}"));
    let [(offset, length)] = extents.as_slice() else {
        panic!("{damaged} should be one extent: {extents:?}");
    };
    let middle = offset + length / 2;
    let source = fs::read(tree.root.join(&damaged)).unwrap();
    let on_disc = fs::read(&disc).unwrap();
    let at = (length / 2) as usize;
    assert_eq!(
        &on_disc[middle as usize..middle as usize + 64],
        &source[at..at + 64],
        "the extent found for {damaged} must hold its bytes"
    );
    fixtures::invert_bytes(&disc, middle, 64).unwrap_or_else(|err| panic!("{err}"));
    ok(burner.reload_disc());

    let run = ok(burner
        .boot(Attach::Usb)
        .run(&steps::script(VERIFY), &[(&station, "burnstation")]));
    let steps = Steps::parse(&run.stdout);
    let verify = step(&steps, "verify", &run);
    // Exit status 1: verification found damage.
    assert_eq!(verify.exit_code, 1, "a damaged disc must fail:\n{verify}");
    assert!(verify.stdout.starts_with("verification FAILED"), "{verify}");
    let named: Vec<&str> = verify
        .stdout
        .lines()
        .filter_map(|line| {
            ["differs:", "unreadable:", "missing:"]
                .iter()
                .find_map(|kind| line.trim_start().strip_prefix(kind))
        })
        .map(str::trim)
        .collect();
    assert_eq!(
        named,
        [format!("/{damaged}")],
        "verify must name the damaged file, and only it:\n{verify}"
    );
    assert!(
        verify
            .stderr
            .contains("the disc failed verification and must not be counted as a good copy"),
        "{verify}"
    );
}

// ---------------------------------------------------------------------------------------
// The harness itself: a failing scenario and a hung guest fail the test.
// ---------------------------------------------------------------------------------------

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
    let needle = path.as_os_str().as_bytes().to_vec();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

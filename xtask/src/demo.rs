//! `cargo xtask demo`: the station's main job on this machine, with no hardware.
//!
//! The default runs the daemon, `burnstation run`, for real: a generated sample backup tree
//! (a few services' dumps, repositories and uploads) on a "backup server" that is a private
//! OpenSSH server on loopback, copied by the real rsync over ssh into a snapshot, planned
//! onto two small discs, burnt and read back on a software disc changer paced so a person
//! can watch, with the front panel drawn in the terminal and the keys standing in for its
//! buttons. `--auto` burns without waiting for a press, so the whole flow runs unattended
//! and ends with a summary. `--cli` is the one-disc demo of the command line instead.
//! Everything lives under `target/demo/`; running it again starts afresh.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::backup_server::{BackupServer, StationSettings};
use crate::{cargo, run};

/// How fast the software burner writes: slow enough to watch, quick enough to wait for.
const DEMO_SPEED: &str = "2";
/// The demo's discs: 24 MiB each, so the sample tree needs more than one.
const DEMO_DISC_BLOCKS: u32 = 12_288;
/// The daemon demo's write speed (x) and read speed.
const DAEMON_SPEED: &str = "4";
const DAEMON_READ_SPEED: &str = "16";

/// Arguments of `cargo xtask demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Press the buttons by itself: burn every disc without waiting, end with a summary.
    #[arg(long)]
    pub auto: bool,
    /// The command line's demo instead: one disc, `burnstation burn` and `verify`.
    #[arg(long, conflicts_with = "auto")]
    pub cli: bool,
}

/// The daemon's demo.
pub fn demo_daemon(root: &Path, args: &DemoArgs) -> Result<()> {
    cargo(
        root,
        &[
            "build",
            "--package",
            "burnstation",
            "--package",
            "burnstation-tests",
            "--bin",
            "burnstation",
            "--bin",
            "demo-server",
        ],
    )?;
    let exe = root.join("target/debug/burnstation");
    let dir = root.join("target/demo");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tree = dir.join("server/backup");

    step("generating a sample backup tree on the \"backup server\"");
    let bytes = sample_tree(&tree)?;
    println!("    {} ({} MB)", tree.display(), bytes / 1_000_000);

    step("starting the backup server: a private OpenSSH server on 127.0.0.1");
    let server = BackupServer::start(
        &root.join("target/debug/demo-server"),
        &dir.join("server/sshd"),
    )?;
    println!("    listening on 127.0.0.1:{}", server.port);

    let config = dir.join("burnstation.toml");
    let changer = dir.join("discs");
    let device = format!(
        "sim-changer:{}?profile=dvd+r&capacity={DEMO_DISC_BLOCKS}&speed={DAEMON_SPEED}&read_speed={DAEMON_READ_SPEED}",
        changer.display()
    );
    let settings = server.settings(&StationSettings {
        name: "demo-box",
        data_dir: &dir.join("data"),
        tree: &tree,
        timeout: "1m",
        start: if args.auto { "auto" } else { "ask" },
        device: &device,
    });
    fs::write(&config, settings).with_context(|| format!("cannot write {}", config.display()))?;
    println!("    the station's settings: {}", config.display());

    let log = dir.join("station.log");
    step("running the station: burnstation run (its log: target/demo/station.log)");
    if !args.auto {
        println!(
            "    Keys stand in for the buttons: Enter = select (burn when asked, done), n/p = \
             next/previous, m = menu. The station asks before burning each disc."
        );
    }
    println!(
        "    In another terminal, `{} status --follow --config {}` shows what it is doing.",
        exe.display(),
        config.display()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut station = Command::new(&exe);
    station
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--display", "terminal", "--until", "set-complete"])
        .args(["--buttons", if args.auto { "none" } else { "keyboard" }])
        .stderr(fs::File::create(&log)?);
    let status = station.status().context("cannot start burnstation run")?;
    drop(server);
    print!("\x1b[2J\x1b[H");
    if !status.success() {
        bail!(
            "burnstation run failed ({status}); its log is {}",
            log.display()
        );
    }

    step("the set is complete: what the catalogue says");
    let catalog = dir.join("data/catalog.db");
    run(
        Command::new(&exe)
            .args(["catalog", "--catalog"])
            .arg(&catalog)
            .arg("sets"),
        "burnstation catalog sets",
    )?;
    let mut discs: Vec<PathBuf> = fs::read_dir(&changer)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "img") && finalized(p))
        .collect();
    discs.sort();
    step("restoring the backup tree from the discs, as an administrator would");
    let restored = dir.join("restored");
    run(
        Command::new(&exe)
            .arg("restore")
            .arg("--to")
            .arg(&restored)
            .arg("--from")
            .args(&discs),
        "burnstation restore",
    )?;
    let same = run(
        Command::new("diff").arg("-r").arg(&tree).arg(&restored),
        "diff -r",
    );
    step("summary");
    println!(
        "    synced {} MB over ssh into a snapshot",
        bytes / 1_000_000
    );
    println!("    burnt and verified {} discs:", discs.len());
    for disc in &discs {
        println!("      {}", disc.display());
    }
    match same {
        Ok(()) => println!("    restored from the discs: identical to the server's tree"),
        Err(e) => bail!("the restored tree differs from the server's: {e}"),
    }
    println!(
        "    each disc file is a disc image: `burnstation ls DISC`, `xorriso -indev DISC -ls /`"
    );
    Ok(())
}

/// Whether the software disc at `path` was finalized (its state file says so).
fn finalized(path: &Path) -> bool {
    let mut state = path.as_os_str().to_owned();
    state.push(".state.json");
    fs::read_to_string(PathBuf::from(state))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|s| s["finalized"] == serde_json::Value::Bool(true))
}

/// The command line's demo: one disc.
pub fn demo_cli(root: &Path) -> Result<()> {
    cargo(root, &["build", "--package", "burnstation"])?;
    let exe = root.join("target/debug/burnstation");
    let dir = root.join("target/demo");
    let tree = dir.join("backup");
    let disc = dir.join("disc.img");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    step("generating a sample backup tree");
    let bytes = sample_tree(&tree)?;
    println!("    {} ({} MB)", tree.display(), bytes / 1_000_000);

    let device = format!("sim:{}?profile=dvd+r&speed={DEMO_SPEED}", disc.display());
    step("a blank DVD+R in a software burner");
    run(
        Command::new(&exe).args(["media", "--device", &device]),
        "burnstation media",
    )?;

    step(&format!(
        "burning it at {DEMO_SPEED}x, then reading every byte back"
    ));
    run(
        Command::new(&exe).arg("burn").arg(&tree).args([
            "--device",
            &device,
            "--volume-id",
            "DEMO_BACKUP",
        ]),
        "burnstation burn",
    )?;

    step("checking the disc again, against the SHA256SUMS it carries");
    let again = format!("sim:{}", disc.display());
    run(
        Command::new(&exe).args(["verify", "--device", &again]),
        "burnstation verify",
    )?;

    step("done");
    let disc = disc.display();
    println!(
        "The disc's medium file is {disc}: the 2048-byte blocks of the disc, nothing else, so
ordinary tools read it as they would read the DVD itself:

    burnstation ls {disc}
    xorriso -indev {disc} -ls /
    7z l {disc}
    mkdir -p /tmp/disc && sudo mount -o loop,ro {disc} /tmp/disc
    cd /tmp/disc && sha256sum -c SHA256SUMS

To burn it again, delete {disc} and {disc}.state.json (a used DVD+R cannot be burnt twice)."
    );
    Ok(())
}

fn step(what: &str) {
    println!("\n==> {what}");
}

/// Writes a sample tree shaped like the OpenSkills backup tree (about 60 MB) and returns its
/// size. The contents are generated, compressible like real dumps, and repeatable.
fn sample_tree(root: &Path) -> Result<u64> {
    let mut total = 0;
    let mut put = |rel: &str, bytes: Vec<u8>| -> Result<()> {
        let path: PathBuf = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .with_context(|| format!("cannot write {}", path.display()))?;
        total += bytes.len() as u64;
        Ok(())
    };
    put(
        "README.txt",
        b"OpenSkills backup tree (demo sample)\n".to_vec(),
    )?;
    for (service, dumps) in [("wiki", 3), ("forum", 2), ("accounts", 1)] {
        for day in 0..dumps {
            put(
                &format!("services/{service}/db/dump-2026-11-{:02}.sql", 20 + day),
                sql_dump(service, day, 6_000_000),
            )?;
        }
        put(
            &format!("services/{service}/config/settings.toml"),
            format!("[{service}]\nreplicas = 2\n").into_bytes(),
        )?;
    }
    for repo in ["website", "course-material", "tooling"] {
        put(
            &format!("services/git/{repo}.git/objects/pack/pack-0001.pack"),
            noise(repo.len() as u32, 3_000_000),
        )?;
        put(
            &format!("services/git/{repo}.git/HEAD"),
            b"ref: refs/heads/main\n".to_vec(),
        )?;
    }
    for upload in 0..200u32 {
        put(
            &format!("services/uploads/{:03}/image-{upload:04}.jpg", upload / 50),
            noise(upload + 7, 40_000 + upload as usize * 97),
        )?;
    }
    Ok(total)
}

/// SQL-looking text.
fn sql_dump(service: &str, day: u32, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    let mut row = 0u64;
    while out.len() < len {
        row += 1;
        let _ = writeln!(
            out,
            "INSERT INTO {service}_items VALUES ({row}, 'item {row} of day {day}', {});",
            row.wrapping_mul(2_654_435_761) % 100_000
        );
    }
    out
}

/// Incompressible bytes (like packs and photos), from a small generator.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

//! `cargo xtask bench daemon`: the station daemon's memory burning a full DVD of 100 000
//! files, the design's 64 MiB budget for the board.
//!
//! What runs, as `cargo xtask demo` drives it: the bench burn's full-DVD tree (cached under
//! `target/bench/burn-dvd`) on a "backup server" that is a private OpenSSH server on
//! loopback (`demo-server`), and `burnstation run --until set-complete` (release build) with
//! an unpaced software disc changer on /dev/shm: the real rsync over ssh into a snapshot,
//! planning, hashing, the burn through the daemon's 8 MiB ring, the read-back, the set
//! complete. Its peak RSS is GNU `time`'s `%M` (the daemon's process alone: rsync and ssh are
//! processes of their own, and `time` reports the largest of the waited-for children, which
//! the daemon's own `peak_rss_kib` log line confirms). The catalogue must then say the set is
//! complete, every disc burnt and verified.
//!
//! Side by side, in the same run: xorriso burning the same tree through libburn's stdio drive
//! with MD5s and checking it (as `cargo xtask bench burn` does), and the command line's burn,
//! `burnstation burn TREE --buffer 8` (the daemon's ring), on SimDrive. The figures are
//! printed and written to `target/bench/daemon-results.md`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::backup_server::{BackupServer, StationSettings};
use crate::bench_burn::{self, DVD_TREE, Unpaced};
use crate::bench_util::{ChildRun, cached_tree, run_measured, warm};

/// The design's budget for the daemon on a board.
const PEAK_RSS_TARGET_MIB: f64 = 64.0;
/// Where the software discs and xorriso's image go (tmpfs: 4.4 GB each, removed after).
const SHM_DIR: &str = "/dev/shm/burnstation-bench-daemon";

/// The states whose start the daemon logs, in the order of one set of one disc.
const PHASES: &[(&str, &str)] = &[
    ("Syncing", "sync (rsync over ssh into a snapshot)"),
    ("Planning", "plan and hash"),
    ("Burning", "burn (8 MiB ring)"),
    ("Verifying", "read back and verify"),
    ("DiscDone", "disc done to set complete"),
];

/// The daemon's run.
struct DaemonRun {
    run: ChildRun,
    /// What the daemon logged at set complete (`VmHWM`).
    own_peak_kib: Option<u64>,
    /// Seconds from the start of each phase of [`PHASES`] to the start of the next.
    phases: Vec<(&'static str, Option<f64>)>,
    /// `burnstation catalog sets`.
    catalog: String,
    image_bytes: u64,
}

/// The `daemon` benchmark.
pub fn run(root: &Path) -> Result<()> {
    super::cargo(
        root,
        &[
            "build",
            "--release",
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
    let ours = root.join("target/release/burnstation");
    let bench_dir = root.join("target/bench");
    fs::create_dir_all(&bench_dir)?;
    let tree = cached_tree(&bench_dir, "burn-dvd", |root| DVD_TREE.generate(root))?;
    let scratch = bench_dir.join("daemon-scratch");
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)?;
    let shm = PathBuf::from(SHM_DIR);
    let _ = fs::remove_dir_all(&shm);
    fs::create_dir_all(&shm).with_context(|| format!("cannot create {}", shm.display()))?;

    eprintln!("bench: warming the page cache for {}", tree.display());
    let tree_bytes = warm(&tree)?;
    warm(&tree)?;

    let result = (|| {
        eprintln!("bench: burnstation run --until set-complete (sync, plan, burn, verify)");
        let daemon = daemon(root, &ours, &tree, &scratch, &shm)?;
        let _ = fs::remove_dir_all(scratch.join("data"));
        let _ = fs::remove_dir_all(shm.join("discs"));
        eprintln!("bench: xorriso -md5 on ... -commit, then -check_media");
        warm(&tree)?;
        let xorriso = bench_burn::xorriso_unpaced(&tree, &shm)?;
        eprintln!("bench: burnstation burn --buffer 8");
        let cli = cli_burn(&ours, &tree, &shm)?;
        Ok::<_, anyhow::Error>((daemon, xorriso, cli))
    })();
    let _ = fs::remove_dir_all(&shm);
    let (daemon, xorriso, cli) = result?;

    let report = table(tree_bytes, &daemon, &xorriso, &cli);
    let results = bench_dir.join("daemon-results.md");
    fs::write(&results, &report)?;
    println!("{report}");
    println!("(also written to {})", results.display());
    let peak = daemon.run.usage.peak_rss_kib as f64 / 1024.0;
    if peak >= PEAK_RSS_TARGET_MIB {
        eprintln!(
            "bench: the daemon peaked at {peak:.1} MiB, over the {PEAK_RSS_TARGET_MIB} MiB budget"
        );
    }
    Ok(())
}

/// Serves `tree` over ssh and runs the daemon once through a set.
fn daemon(root: &Path, ours: &Path, tree: &Path, scratch: &Path, shm: &Path) -> Result<DaemonRun> {
    let server = BackupServer::start(
        &root.join("target/release/demo-server"),
        &scratch.join("sshd"),
    )?;
    let data = scratch.join("data");
    let changer = shm.join("discs");
    let config = scratch.join("burnstation.toml");
    let device = format!("sim-changer:{}?profile=dvd+r", changer.display());
    let settings = server.settings(&StationSettings {
        name: "bench-box",
        data_dir: &data,
        tree,
        timeout: "5m",
        start: "auto",
        device: &device,
    });
    fs::write(&config, settings)?;
    let args: Vec<OsString> = vec![
        ours.into(),
        "run".into(),
        "--config".into(),
        config.into(),
        "--display".into(),
        "none".into(),
        "--buttons".into(),
        "none".into(),
        "--until".into(),
        "set-complete".into(),
    ];
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let run = run_measured(&args, &[("RUST_LOG", "info"), ("NO_COLOR", "1")], scratch);
    drop(server);
    let run = run?;
    fs::write(scratch.join("station.log"), run.stderr_text())?;

    let catalog_db = data.join("catalog.db");
    let out = Command::new(ours)
        .args(["catalog", "--catalog"])
        .arg(&catalog_db)
        .arg("sets")
        .output()
        .context("cannot run burnstation catalog sets")?;
    let catalog = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !set_complete(&catalog) {
        bail!(
            "the daemon's set is not complete, burnt and verified; `burnstation catalog sets` \
             says:\n{catalog}\n{}\n(the daemon's log: {})",
            String::from_utf8_lossy(&out.stderr),
            scratch.join("station.log").display()
        );
    }

    let started = |state: &str| {
        let key = format!("state={state}");
        run.stderr
            .iter()
            .find(|l| l.text.split_whitespace().any(|w| w == key))
            .map(|l| l.at.as_secs_f64())
    };
    let ends: Vec<Option<f64>> = PHASES
        .iter()
        .map(|(state, _)| started(state))
        .chain([started("SetComplete")])
        .collect();
    let phases = PHASES
        .iter()
        .zip(ends.windows(2))
        .map(|(&(_, what), w)| (what, w[0].zip(w[1]).map(|(a, b)| b - a)))
        .collect();
    let own_peak_kib = run.stderr.iter().find_map(|l| {
        let at = l.text.find("peak_rss_kib=Some(")? + "peak_rss_kib=Some(".len();
        let rest = &l.text[at..];
        rest[..rest.find(')')?].parse().ok()
    });
    let image_bytes = fs::read_dir(&changer)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "img"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    Ok(DaemonRun {
        run,
        own_peak_kib,
        phases,
        catalog,
        image_bytes,
    })
}

/// Whether `burnstation catalog sets` lists one set, complete, with every disc burnt and
/// verified.
fn set_complete(sets: &str) -> bool {
    let mut lines = sets.lines();
    let (Some(line), None) = (lines.next(), lines.next()) else {
        return false;
    };
    let number_before = |word: &str| {
        let at = line.find(word)?;
        line[..at].split_whitespace().last()?.parse::<u64>().ok()
    };
    let discs = number_before(" discs of ");
    line.ends_with("(complete)")
        && discs.is_some_and(|d| d > 0)
        && number_before(" burnt,") == discs
        && number_before(" verified") == discs
}

/// The command line's burn with the daemon's ring, on a SimDrive disc in `shm`.
fn cli_burn(ours: &Path, tree: &Path, shm: &Path) -> Result<Unpaced> {
    let disc = shm.join("cli-disc.img");
    bench_burn::remove_disc(&disc)?;
    let spec = format!("sim:{}?profile=dvd+r", disc.display());
    let run = bench_burn::burn(ours, tree, &spec, &["--buffer", "8"], shm)?;
    bench_burn::remove_disc(&disc)?;
    let verifying = run.need_line("verifying...")?;
    Ok(Unpaced {
        image_bytes: bench_burn::verified_bytes(&run)?,
        burn_seconds: verifying.at.as_secs_f64(),
        prepare_seconds: run.line("writing...").map(|l| l.at.as_secs_f64()),
        verify_seconds: run.usage.wall_seconds - verifying.at.as_secs_f64(),
        burn_cpu_seconds: verifying.cpu_seconds.unwrap_or(0.0),
        verify_cpu_seconds: run.usage.cpu_seconds() - verifying.cpu_seconds.unwrap_or(0.0),
        peak_rss_kib: run.usage.peak_rss_kib,
    })
}

fn table(tree_bytes: u64, daemon: &DaemonRun, xorriso: &Unpaced, cli: &Unpaced) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let theirs = xorriso.peak_rss_kib as f64;
    let peak = daemon.run.usage.peak_rss_kib;
    let mut out = format!(
        "### The daemon burning a full DVD ({:.2} GB in 100 000 files)\n\n\
         | run | image | wall time | peak RSS | RSS / xorriso |\n|---|---:|---:|---:|---:|\n",
        tree_bytes as f64 / 1e9
    );
    let gb = |b: u64| format!("{:.2} GB", b as f64 / 1e9);
    out.push_str(&format!(
        "| burnstation run --until set-complete (sync over ssh, plan, hash, burn, verify) | {} | {:.1} s | {:.1} MiB | {:.2} |\n",
        gb(daemon.image_bytes),
        daemon.run.usage.wall_seconds,
        mib(peak),
        peak as f64 / theirs
    ));
    out.push_str(&format!(
        "| burnstation burn TREE --buffer 8 (SimDrive, unpaced) | {} | {:.1} s | {:.1} MiB | {:.2} |\n",
        gb(cli.image_bytes),
        cli.burn_seconds + cli.verify_seconds,
        mib(cli.peak_rss_kib),
        cli.peak_rss_kib as f64 / theirs
    ));
    out.push_str(&format!(
        "| xorriso -md5 on -outdev stdio:FILE ... -commit, then -check_media | {} | {:.1} s | {:.1} MiB | 1.00 |\n",
        gb(xorriso.image_bytes),
        xorriso.burn_seconds + xorriso.verify_seconds,
        mib(xorriso.peak_rss_kib),
    ));
    out.push_str("\n| daemon phase | seconds |\n|---|---:|\n");
    for (what, seconds) in &daemon.phases {
        out.push_str(&format!(
            "| {what} | {} |\n",
            seconds.map_or("-".to_string(), |s| format!("{s:.1}"))
        ));
    }
    out.push_str(&format!(
        "\n- the daemon's own account at set complete (`VmHWM`): {}\n\
         - the catalogue: {}\n\
         - daemon peak RSS under {PEAK_RSS_TARGET_MIB} MiB: {} ({:.1} MiB)\n",
        daemon
            .own_peak_kib
            .map_or("not logged".to_string(), |k| format!("{:.1} MiB", mib(k))),
        daemon.catalog,
        if mib(peak) < PEAK_RSS_TARGET_MIB {
            "met"
        } else {
            "MISSED"
        },
        mib(peak),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::set_complete;

    #[test]
    fn a_complete_set_is_one_line_with_every_disc_burnt_and_verified() {
        let line = "set 1 OSK261203 (0123456789abcdef): snapshot \"s\" of 2026-12-03 10:00:00, \
                    1 discs of dvd+r: 1 burnt, 1 verified (complete)";
        assert!(set_complete(line));
        assert!(!set_complete(
            &line.replace("1 verified (complete)", "0 verified")
        ));
        assert!(!set_complete(&line.replace(" (complete)", "")));
        assert!(!set_complete("no disc sets yet"));
        assert!(!set_complete(&format!("{line}\n{line}")));
    }
}

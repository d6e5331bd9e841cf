//! `cargo xtask bench burn`: the whole burn pipeline (scan, layout, the image stream on a
//! producer thread, the 32 MiB ring, `Drive::burn` on the main thread, read-back verify)
//! run by `burnstation burn` against SimDrive, in three parts:
//!
//! 1. Unpaced, a full DVD's worth (a 4.4 GB image of 100 000 files, a few of them large):
//!    burn and verify throughput, CPU seconds per GB and peak RSS, side by side with
//!    xorriso writing the same tree to a file through libburn's "stdio" drive with MD5s on,
//!    then checking it with `-check_media`.
//! 2. Paced at DVD 16x (22.16 MB/s) while two processes keep both cores busy: how long the
//!    drive took to burn the stream against size / speed (at most 1.01), and SimDrive's count
//!    of drive-buffer underruns (zero). Both come from SimDrive itself, through its log lines
//!    (`RUST_LOG=burnstation_hal::sim=info`). Twice, with the daemon's 8 MiB ring: with the
//!    drive thread at the daemon's raised priority (nice -10, as the service allows it), and
//!    at the normal priority (`--drive-nice 0`), to show what the priority buys.
//!    `cargo xtask bench burn-paced` runs this part alone.
//! 3. Memory: peak RSS of burning 100 000 files onto a DVD (under 64 MiB), and what it is
//!    made of (the same run with a 1 MiB ring, and the image stream alone).
//!
//! Trees are generated once and cached under `target/bench/`; the simulated discs and
//! xorriso's image are written to `target/bench/burn-scratch/` (the paced disc to /dev/shm
//! when it has room; see [`paced_disc_dir`]) and removed after each run. The figures are
//! printed and written to `target/bench/burn-results.md`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_util::{
    ChildRun, MixedTree, cached_tree, cpu_seconds_of, many_files_tree, median, run_measured, warm,
};

/// Runs of each tool in part 1; the median of each figure is reported.
const REPEATS: usize = 3;
/// A full DVD: 100 000 files, 11 of them 256 MiB, the rest 1–24 KiB (4.2 GB of data, a
/// 4.4 GB image; a DVD+R holds 4.70 GB).
pub(crate) const DVD_TREE: MixedTree = MixedTree {
    large_files: 11,
    large_file_bytes: 256 << 20,
    small_files: 100_000 - 11,
    small_file_max_bytes: 24 << 10,
};
/// DVD 16x: 16 × 1385 kB/s.
const DVD_16X_BYTES_PER_SEC: f64 = 22_160_000.0;
/// The design's targets.
const PACED_RATIO_TARGET: f64 = 1.01;
const PEAK_RSS_TARGET_MIB: f64 = 64.0;
/// Processes that keep the cores busy during the paced burn.
const LOADERS: usize = 2;
/// The paced runs: what each is, and its extra arguments. The ring is the daemon's
/// (`STATION_RING_BYTES`).
const PACED_RUNS: &[(&str, &[&str])] = &[
    (
        "8 MiB ring, drive thread at nice -10 (the daemon's settings)",
        &["--buffer", "8"],
    ),
    (
        "8 MiB ring, drive thread at normal priority",
        &["--buffer", "8", "--drive-nice", "0"],
    ),
];

/// One unpaced burn and verify, by either tool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unpaced {
    /// Bytes of the image (ours: the verified blocks; xorriso: its image file).
    pub(crate) image_bytes: u64,
    /// From the start to the closed disc: scan, layout, write, flush, close.
    pub(crate) burn_seconds: f64,
    /// Of which before the first WRITE (ours only).
    pub(crate) prepare_seconds: Option<f64>,
    /// Reading it back and checking it.
    pub(crate) verify_seconds: f64,
    pub(crate) burn_cpu_seconds: f64,
    pub(crate) verify_cpu_seconds: f64,
    pub(crate) peak_rss_kib: u64,
}

/// What SimDrive said about the paced stream, and what the host saw.
#[derive(Debug, Clone)]
struct Paced {
    /// Which of [`PACED_RUNS`].
    what: &'static str,
    /// The drive thread could not get the priority asked for (burnstation's note).
    priority_refused: bool,
    /// Bytes the drive took in the stream (the image padded to whole write units).
    stream_bytes: u64,
    /// From the first byte the drive took to the last byte it burnt.
    drive_seconds: f64,
    write_rate: f64,
    stream_underruns: u64,
    total_underruns: u64,
    /// "writing..." to "flushing the drive's cache...": first WRITE sent to last accepted.
    host_writing_seconds: f64,
    /// "writing..." to "verifying...": writing, flush, close.
    host_burn_seconds: f64,
    /// CPU seconds burnstation used from "writing..." to "verifying...".
    burn_cpu_seconds: f64,
    /// CPU seconds the loaders used during the burn, over its wall time: cores kept busy.
    loader_cores: f64,
    wall_seconds: f64,
    peak_rss_kib: u64,
    /// Where the medium file was.
    disc_dir: PathBuf,
    /// The load average when the burn ended (1, 5 and 15 minutes).
    load_average: String,
}

/// One memory measurement.
struct MemoryRow {
    what: String,
    image_bytes: Option<u64>,
    peak_rss_kib: u64,
}

/// The `burn` benchmark.
pub fn run(root: &Path) -> Result<()> {
    super::cargo(root, &["build", "--release", "--package", "burnstation"])?;
    let ours = root.join("target/release/burnstation");
    let bench_dir = root.join("target/bench");
    fs::create_dir_all(&bench_dir)?;
    let dvd_tree = cached_tree(&bench_dir, "burn-dvd", |root| DVD_TREE.generate(root))?;
    let many = many_files_tree(&bench_dir)?;
    let scratch = bench_dir.join("burn-scratch");
    fs::create_dir_all(&scratch)?;

    eprintln!("bench: warming the page cache for {}", dvd_tree.display());
    let tree_bytes = warm(&dvd_tree)?;
    warm(&dvd_tree)?;

    eprintln!("bench: part 1, unpaced burn and verify, {REPEATS} runs of each tool");
    let (ours_unpaced, xorriso_unpaced) = unpaced(&ours, &dvd_tree, &scratch)?;

    let paced = paced_runs(&ours, &dvd_tree, &scratch, ours_unpaced.image_bytes)?;

    eprintln!("bench: part 3, memory");
    warm(&many)?;
    let memory = memory(&ours, &dvd_tree, &many, &scratch, &ours_unpaced)?;

    let mut report = String::new();
    report.push_str(&unpaced_table(tree_bytes, &ours_unpaced, &xorriso_unpaced));
    report.push('\n');
    for paced in &paced {
        report.push_str(&paced_table(paced));
        report.push('\n');
    }
    report.push_str(&memory_table(&memory));
    let results = bench_dir.join("burn-results.md");
    fs::write(&results, &report)?;
    println!("{report}");
    println!("(also written to {})", results.display());
    Ok(())
}

/// The `burn-paced` benchmark: part 2 alone.
pub fn run_paced(root: &Path) -> Result<()> {
    super::cargo(root, &["build", "--release", "--package", "burnstation"])?;
    let ours = root.join("target/release/burnstation");
    let bench_dir = root.join("target/bench");
    fs::create_dir_all(&bench_dir)?;
    let dvd_tree = cached_tree(&bench_dir, "burn-dvd", |root| DVD_TREE.generate(root))?;
    let scratch = bench_dir.join("burn-scratch");
    fs::create_dir_all(&scratch)?;
    let tree_bytes = warm(&dvd_tree)?;
    // The image is the tree and a few percent of structures; room for it on /dev/shm is
    // all this is used for.
    let paced = paced_runs(&ours, &dvd_tree, &scratch, tree_bytes + tree_bytes / 20)?;
    let report: String = paced.iter().map(|p| paced_table(p) + "\n").collect();
    let results = bench_dir.join("burn-paced-results.md");
    fs::write(&results, &report)?;
    println!("{report}");
    println!("(also written to {})", results.display());
    Ok(())
}

/// Part 2: every one of [`PACED_RUNS`].
fn paced_runs(ours: &Path, tree: &Path, scratch: &Path, image_bytes: u64) -> Result<Vec<Paced>> {
    let mut runs = Vec::new();
    for (n, (what, extra)) in PACED_RUNS.iter().enumerate() {
        eprintln!(
            "bench: part 2, run {} of {}: paced at DVD 16x with {LOADERS} CPU loaders, {what} \
             (about 3.5 min)",
            n + 1,
            PACED_RUNS.len()
        );
        warm(tree)?;
        runs.push(paced(ours, tree, scratch, image_bytes, what, extra)?);
    }
    Ok(runs)
}

/// The `sim:` spec of a DVD+R in `scratch`, removing any disc left there.
fn fresh_disc(scratch: &Path, options: &str) -> Result<(PathBuf, String)> {
    let disc = scratch.join("disc.img");
    remove_disc(&disc)?;
    let spec = format!("sim:{}?profile=dvd+r{options}", disc.display());
    Ok((disc, spec))
}

pub(crate) fn remove_disc(disc: &Path) -> Result<()> {
    let mut state = disc.as_os_str().to_owned();
    state.push(".state.json");
    for path in [disc.to_path_buf(), PathBuf::from(state)] {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    Ok(())
}

/// `burnstation burn TREE --device SPEC [extra]`, with SimDrive's log lines on stderr.
pub(crate) fn burn(
    ours: &Path,
    tree: &Path,
    spec: &str,
    extra: &[&str],
    scratch: &Path,
) -> Result<ChildRun> {
    let mut args: Vec<OsString> = vec![
        ours.into(),
        "burn".into(),
        tree.into(),
        "--device".into(),
        spec.into(),
        "--volume-time".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    run_measured(
        &args,
        &[("RUST_LOG", "burnstation_hal::sim=info"), ("NO_COLOR", "1")],
        scratch,
    )
}

/// Blocks the verify report says it read back, in bytes.
pub(crate) fn verified_bytes(run: &ChildRun) -> Result<u64> {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("verified: all "))
        .with_context(|| format!("no \"verified\" line in:\n{}", run.stdout))?;
    let blocks: u64 = line["verified: all ".len()..]
        .split_whitespace()
        .next()
        .context("verified line")?
        .parse()?;
    Ok(blocks * 2048)
}

fn ours_unpaced(ours: &Path, tree: &Path, scratch: &Path) -> Result<Unpaced> {
    let (disc, spec) = fresh_disc(scratch, "")?;
    let run = burn(ours, tree, &spec, &[], scratch)?;
    remove_disc(&disc)?;
    let writing = run.need_line("writing...")?;
    let verifying = run.need_line("verifying...")?;
    let verify_cpu_start = verifying
        .cpu_seconds
        .context("could not read the child's CPU time from /proc")?;
    Ok(Unpaced {
        image_bytes: verified_bytes(&run)?,
        burn_seconds: verifying.at.as_secs_f64(),
        prepare_seconds: Some(writing.at.as_secs_f64()),
        verify_seconds: run.usage.wall_seconds - verifying.at.as_secs_f64(),
        burn_cpu_seconds: verify_cpu_start,
        verify_cpu_seconds: run.usage.cpu_seconds() - verify_cpu_start,
        peak_rss_kib: run.usage.peak_rss_kib,
    })
}

/// xorriso writes the tree through libburn's "stdio" drive into a file, computing the MD5 of
/// every file and of the session (`-md5 on`), without forcing the file to disk every 16 MiB
/// (`-stdio_sync off`, as SimDrive does not either); then `-check_media` reads every block
/// back and checks the session's MD5.
pub(crate) fn xorriso_unpaced(tree: &Path, scratch: &Path) -> Result<Unpaced> {
    let image = scratch.join("xorriso.iso");
    remove_disc(&image)?;
    let mut outdev = OsString::from("stdio:");
    outdev.push(&image);
    let write_args: Vec<&OsStr> = ["xorriso", "-md5", "on", "-stdio_sync", "off", "-outdev"]
        .iter()
        .map(OsStr::new)
        .chain([outdev.as_os_str()])
        .chain(["-joliet", "on", "-map"].iter().map(OsStr::new))
        .chain([tree.as_os_str()])
        .chain(["/", "-commit"].iter().map(OsStr::new))
        .collect();
    let written = run_measured(&write_args, &[], scratch)?;
    let image_bytes = fs::metadata(&image)?.len();
    let check_args: Vec<&OsStr> = ["xorriso", "-md5", "on", "-indev"]
        .iter()
        .map(OsStr::new)
        .chain([outdev.as_os_str()])
        .chain(["-check_media", "--"].iter().map(OsStr::new))
        .collect();
    let checked = run_measured(&check_args, &[], scratch)?;
    remove_disc(&image)?;
    if !checked.stdout.contains("+ md5_match") {
        bail!(
            "xorriso -check_media did not report an MD5 match:\n{}{}",
            checked.stdout,
            checked.stderr_text()
        );
    }
    Ok(Unpaced {
        image_bytes,
        burn_seconds: written.usage.wall_seconds,
        prepare_seconds: None,
        verify_seconds: checked.usage.wall_seconds,
        burn_cpu_seconds: written.usage.cpu_seconds(),
        verify_cpu_seconds: checked.usage.cpu_seconds(),
        peak_rss_kib: written.usage.peak_rss_kib.max(checked.usage.peak_rss_kib),
    })
}

/// Part 1: both tools, `REPEATS` times in alternating order; the median of each figure and
/// the largest peak RSS.
fn unpaced(ours: &Path, tree: &Path, scratch: &Path) -> Result<(Unpaced, Unpaced)> {
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..REPEATS {
        if round % 2 == 0 {
            mine.push(ours_unpaced(ours, tree, scratch)?);
            theirs.push(xorriso_unpaced(tree, scratch)?);
        } else {
            theirs.push(xorriso_unpaced(tree, scratch)?);
            mine.push(ours_unpaced(ours, tree, scratch)?);
        }
    }
    Ok((summarise(&mine), summarise(&theirs)))
}

fn summarise(runs: &[Unpaced]) -> Unpaced {
    let med = |f: fn(&Unpaced) -> f64| median(runs.iter().map(f).collect());
    Unpaced {
        image_bytes: runs[0].image_bytes,
        burn_seconds: med(|r| r.burn_seconds),
        prepare_seconds: runs[0]
            .prepare_seconds
            .map(|_| med(|r| r.prepare_seconds.unwrap_or(0.0))),
        verify_seconds: med(|r| r.verify_seconds),
        burn_cpu_seconds: med(|r| r.burn_cpu_seconds),
        verify_cpu_seconds: med(|r| r.verify_cpu_seconds),
        peak_rss_kib: runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0),
    }
}

/// Starts a process that keeps one core busy: SHA-256 of an endless stream of zeros.
fn start_loader() -> Result<Child> {
    Command::new("sha256sum")
        .arg("/dev/zero")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("could not start `sha256sum /dev/zero` to load the CPU")
}

/// The loaders' CPU seconds so far.
fn loaders_cpu(loaders: &[Child]) -> Result<f64> {
    loaders
        .iter()
        .map(|l| cpu_seconds_of(l.id()).context("could not read a loader's CPU time"))
        .sum()
}

/// Where the paced burn's disc lives: tmpfs when it has room. SimDrive burns its buffer
/// into the medium file on the host's thread, inside the next command; on a disk shared
/// with other jobs that write can stall for a tenth of a second, which would count against
/// the host as an underrun that no real drive (which burns on its own) would cause.
fn paced_disc_dir(scratch: &Path, image_bytes: u64) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let free = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(shm)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| t.lines().nth(1).and_then(|l| l.trim().parse::<u64>().ok()));
    match free {
        Some(free) if free > image_bytes + (1 << 30) => shm.to_path_buf(),
        _ => scratch.to_path_buf(),
    }
}

/// Part 2: one burn paced at 16x while `LOADERS` processes keep the cores busy.
fn paced(
    ours: &Path,
    tree: &Path,
    scratch: &Path,
    image_bytes: u64,
    what: &'static str,
    extra: &[&str],
) -> Result<Paced> {
    let disc_dir = paced_disc_dir(scratch, image_bytes);
    let (disc, spec) = fresh_disc(&disc_dir, "&speed=16")?;
    let mut loaders = Vec::new();
    for _ in 0..LOADERS {
        loaders.push(start_loader()?);
    }
    // Let the scheduler see them as the hogs they are before the burn starts.
    std::thread::sleep(Duration::from_secs(1));
    let loaded_from = (Instant::now(), loaders_cpu(&loaders)?);
    let run = burn(ours, tree, &spec, extra, scratch);
    let loaded_to = (Instant::now(), loaders_cpu(&loaders));
    let load_average = fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    for mut loader in loaders {
        let _ = loader.kill();
        let _ = loader.wait();
    }
    let run = run?;
    remove_disc(&disc)?;
    let loader_cores =
        (loaded_to.1? - loaded_from.1) / loaded_to.0.duration_since(loaded_from.0).as_secs_f64();

    let stream = run.need_line_holding("SimDrive burnt a stream")?;
    let field = |line: &str, name: &str| -> Result<f64> {
        let key = format!("{name}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&key))
            .with_context(|| format!("no {name} in {line:?}"))?
            .parse::<f64>()
            .with_context(|| format!("{name} in {line:?}"))
    };
    let text = stream_text(&stream.text);
    let closed = run.need_line_holding("SimDrive closed")?;
    let writing = run.need_line("writing...")?;
    let flushing = run.need_line("flushing the drive's cache...")?;
    let verifying = run.need_line("verifying...")?;
    let cpu = |line: &crate::bench_util::StderrLine| {
        line.cpu_seconds
            .context("could not read the child's CPU time from /proc")
    };
    Ok(Paced {
        what,
        priority_refused: run
            .stderr
            .iter()
            .any(|l| l.text.contains("runs at normal priority")),
        stream_bytes: field(text, "bytes")? as u64,
        drive_seconds: field(text, "drive_seconds")?,
        write_rate: field(text, "write_rate")?,
        stream_underruns: field(text, "underruns")? as u64,
        total_underruns: field(stream_text(&closed.text), "underruns")? as u64,
        host_writing_seconds: (flushing.at - writing.at).as_secs_f64(),
        host_burn_seconds: (verifying.at - writing.at).as_secs_f64(),
        burn_cpu_seconds: cpu(verifying)? - cpu(writing)?,
        loader_cores,
        wall_seconds: run.usage.wall_seconds,
        peak_rss_kib: run.usage.peak_rss_kib,
        disc_dir,
        load_average,
    })
}

/// A log line from the level on: the timestamp before it is of no use here.
fn stream_text(line: &str) -> &str {
    line.find("INFO ").map_or(line, |i| &line[i..])
}

/// Part 3: what a burn of 100 000 files costs in memory, and what it is made of.
fn memory(
    ours: &Path,
    dvd_tree: &Path,
    many: &Path,
    scratch: &Path,
    dvd_unpaced: &Unpaced,
) -> Result<Vec<MemoryRow>> {
    let mut rows = vec![MemoryRow {
        what: "burn + verify, full DVD of 100 000 files (part 1)".to_string(),
        image_bytes: Some(dvd_unpaced.image_bytes),
        peak_rss_kib: dvd_unpaced.peak_rss_kib,
    }];
    let (disc, spec) = fresh_disc(scratch, "")?;
    let run = burn(ours, dvd_tree, &spec, &["--buffer", "1"], scratch)?;
    remove_disc(&disc)?;
    rows.push(MemoryRow {
        what: "the same with a 1 MiB ring (`--buffer 1`)".to_string(),
        image_bytes: Some(verified_bytes(&run)?),
        peak_rss_kib: run.usage.peak_rss_kib,
    });
    for (what, extra) in [
        ("burn + verify, 100 000 files of 0–4 KiB", &[][..]),
        (
            "the same with a 1 MiB ring (`--buffer 1`)",
            &["--buffer", "1"][..],
        ),
    ] {
        let (disc, spec) = fresh_disc(scratch, "")?;
        let run = burn(ours, many, &spec, extra, scratch)?;
        remove_disc(&disc)?;
        rows.push(MemoryRow {
            what: what.to_string(),
            image_bytes: Some(verified_bytes(&run)?),
            peak_rss_kib: run.usage.peak_rss_kib,
        });
    }
    let image_args: Vec<&OsStr> = [
        ours.as_os_str(),
        OsStr::new("image"),
        many.as_os_str(),
        OsStr::new("-o"),
        OsStr::new("/dev/null"),
    ]
    .to_vec();
    let run = run_measured(&image_args, &[], scratch)?;
    rows.push(MemoryRow {
        what: "the image stream alone (`burnstation image -o /dev/null`), same tree".to_string(),
        image_bytes: None,
        peak_rss_kib: run.usage.peak_rss_kib,
    });
    Ok(rows)
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn unpaced_table(tree_bytes: u64, ours: &Unpaced, xorriso: &Unpaced) -> String {
    let gb = |bytes: u64| bytes as f64 / 1e9;
    let mut out = format!(
        "### Unpaced: burn and verify of a full DVD ({:.2} GB in 100 000 files)\n\n\
         | tool | image | burn (scan to closed disc) | burn MB/s | verify | verify MB/s | \
         CPU s/GB burn | CPU s/GB verify | peak RSS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        gb(tree_bytes)
    );
    for (tool, f) in [
        ("burnstation burn (SimDrive, unpaced)", ours),
        (
            "xorriso -md5 on -outdev stdio:FILE ... -commit, then -check_media",
            xorriso,
        ),
    ] {
        out.push_str(&format!(
            "| {tool} | {:.2} GB | {:.2} s{} | {:.0} | {:.2} s | {:.0} | {:.2} | {:.2} | {:.1} MiB |\n",
            gb(f.image_bytes),
            f.burn_seconds,
            f.prepare_seconds
                .map_or(String::new(), |p| format!(" ({p:.2} s before the first WRITE)")),
            f.image_bytes as f64 / 1e6 / f.burn_seconds,
            f.verify_seconds,
            f.image_bytes as f64 / 1e6 / f.verify_seconds,
            f.burn_cpu_seconds / gb(f.image_bytes),
            f.verify_cpu_seconds / gb(f.image_bytes),
            f.peak_rss_kib as f64 / 1024.0,
        ));
    }
    out.push_str(&format!(
        "\nxorriso's time / ours: burn {:.2}, verify {:.2}, both {:.2}\n",
        xorriso.burn_seconds / ours.burn_seconds,
        xorriso.verify_seconds / ours.verify_seconds,
        (xorriso.burn_seconds + xorriso.verify_seconds) / (ours.burn_seconds + ours.verify_seconds)
    ));
    out
}

fn paced_table(p: &Paced) -> String {
    let ideal = p.stream_bytes as f64 / DVD_16X_BYTES_PER_SEC;
    let ratio = p.drive_seconds / ideal;
    format!(
        "### Paced at DVD 16x with {LOADERS} CPU loaders: {}\n\n\
         | measure | seconds | / (size / speed) |\n|---|---:|---:|\n\
         | size / speed: {} bytes at {:.2} MB/s (SimDrive's rate: {:.2} MB/s) | {ideal:.2} | 1.0000 |\n\
         | drive: first byte taken to last byte burnt (SimDrive) | {:.2} | {ratio:.4} |\n\
         | host: first WRITE sent to last WRITE accepted | {:.2} | {:.4} |\n\
         | host: writing, flush and close (\"writing...\" to \"verifying...\") | {:.2} | {:.4} |\n\
         | whole command: scan, burn, verify | {:.2} | |\n\n\
         - drive-buffer underruns (SimDrive): {} in the stream, {} in all\n\
         - CPU loaders kept {:.2} cores busy during the burn (load average at the end: {}); \
         burnstation used {:.1} CPU s while writing ({:.2} CPU s/GB); peak RSS {:.1} MiB; \
         the medium file was in {}\n\
         - burn time / (size / speed) at most {PACED_RATIO_TARGET}: {} ({ratio:.4})\n\
         - zero drive-buffer underruns: {}\n{}",
        p.what,
        p.stream_bytes,
        DVD_16X_BYTES_PER_SEC / 1e6,
        p.write_rate / 1e6,
        p.drive_seconds,
        p.host_writing_seconds,
        p.host_writing_seconds / ideal,
        p.host_burn_seconds,
        p.host_burn_seconds / ideal,
        p.wall_seconds,
        p.stream_underruns,
        p.total_underruns,
        p.loader_cores,
        p.load_average,
        p.burn_cpu_seconds,
        p.burn_cpu_seconds / (p.stream_bytes as f64 / 1e9),
        p.peak_rss_kib as f64 / 1024.0,
        p.disc_dir.display(),
        mark(ratio <= PACED_RATIO_TARGET),
        mark(p.stream_underruns == 0 && p.total_underruns == 0),
        if p.priority_refused {
            "- **the drive thread was refused the raised priority** (not root, no CAP_SYS_NICE)\n"
        } else {
            ""
        },
    )
}

fn memory_table(rows: &[MemoryRow]) -> String {
    let mut out = "### Memory: burning 100 000 files onto a DVD+R (unpaced)\n\n\
                   | run | image | peak RSS |\n|---|---:|---:|\n"
        .to_string();
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.1} MiB |\n",
            row.what,
            row.image_bytes
                .map_or("-".to_string(), |b| format!("{:.2} GB", b as f64 / 1e9)),
            row.peak_rss_kib as f64 / 1024.0
        ));
    }
    let worst = rows[0].peak_rss_kib.max(rows[2].peak_rss_kib) as f64 / 1024.0;
    out.push_str(&format!(
        "\n- peak RSS under {PEAK_RSS_TARGET_MIB} MiB with the default 32 MiB ring: {} ({worst:.1} MiB)\n",
        mark(worst < PEAK_RSS_TARGET_MIB)
    ));
    out
}

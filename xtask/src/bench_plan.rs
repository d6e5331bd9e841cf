//! `cargo xtask bench plan`: planning a 1 000 000-entry snapshot onto a disc set, with
//! bounded memory (the issue's target: peak RSS under 200 MiB; a Pi 3 has 1 GB).
//!
//! The tree (cached under `target/bench/plan-1m`) has 1 000 000 entries: 20 000
//! directories of 49 files each (0–32 KiB, sparse: sizes are all planning reads) plus 16
//! sparse files of 3 GiB, about 64 GB in all. `burnstation plan` scans it, lays out every
//! disc for real and prints the set, for DVD+R and for BD-R. The reference is the same
//! question asked of genisoimage and xorriso for one image of the whole tree
//! (`-print-size`: scan and lay out, write nothing), which is the closest thing either
//! tool does; the table gives time and peak RSS as ratios.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::bench_util::{cached_tree, median, run_measured};

const DIRECTORIES: usize = 20_000;
const FILES_PER_DIRECTORY: usize = 49;
const LARGE_FILES: usize = 16;
const LARGE_FILE_BYTES: u64 = 3 << 30;
const REPEATS: usize = 3;
/// The issue's bound.
const RSS_TARGET_MIB: f64 = 200.0;

fn generate(root: &Path) -> Result<()> {
    for d in 0..DIRECTORIES {
        let dir = root.join(format!("service{:02}/box{d:05}", d % 40));
        fs::create_dir_all(&dir)?;
        for f in 0..FILES_PER_DIRECTORY {
            let i = (d * FILES_PER_DIRECTORY + f) as u64;
            let file = fs::File::create(dir.join(format!("message-{f:03}.eml")))?;
            file.set_len(i * 7919 % (32 << 10))?;
        }
    }
    for l in 0..LARGE_FILES {
        let dir = root.join(format!("service{:02}", l % 40));
        let file = fs::File::create(dir.join(format!("database-{l:02}.dump")))?;
        file.set_len(LARGE_FILE_BYTES)?;
    }
    Ok(())
}

struct Figures {
    tool: String,
    seconds: f64,
    peak_rss_kib: u64,
    summary: String,
}

fn measure(tool: &str, args: &[&OsStr], scratch: &Path) -> Result<Figures> {
    let mut times = Vec::new();
    let mut peak = 0;
    let mut summary = String::new();
    for _ in 0..REPEATS {
        let run = run_measured(args, &[], scratch)?;
        times.push(run.usage.wall_seconds);
        peak = peak.max(run.usage.peak_rss_kib);
        summary = run
            .stdout
            .lines()
            .find(|l| l.starts_with("set ") || l.starts_with("fill:"))
            .map(str::to_string)
            .unwrap_or_else(|| run.stdout.trim().to_string());
        if let Some(fill) = run.stdout.lines().find(|l| l.starts_with("fill:")) {
            summary = format!("{summary}; {fill}");
        }
    }
    Ok(Figures {
        tool: tool.to_string(),
        seconds: median(times),
        peak_rss_kib: peak,
        summary,
    })
}

/// The `plan` benchmark.
pub fn run(root: &Path) -> Result<()> {
    super::cargo(root, &["build", "--release", "--package", "burnstation"])?;
    let ours = root.join("target/release/burnstation");
    let bench_dir = root.join("target/bench");
    fs::create_dir_all(&bench_dir)?;
    let tree = cached_tree(&bench_dir, "plan-1m", generate)?;
    let entries = 1 + DIRECTORIES + 40 + DIRECTORIES * FILES_PER_DIRECTORY + LARGE_FILES;
    let tree_arg = tree.as_os_str();
    let mut figures = Vec::new();
    for medium in ["dvd+r", "bd-r"] {
        eprintln!("bench: burnstation plan --medium {medium}, {REPEATS} runs");
        figures.push(measure(
            &format!("burnstation plan --medium {medium}"),
            &[
                ours.as_os_str(),
                "plan".as_ref(),
                tree_arg,
                "--medium".as_ref(),
                medium.as_ref(),
                "--snapshot-time".as_ref(),
                "0".as_ref(),
            ],
            &bench_dir,
        )?);
    }
    eprintln!("bench: genisoimage and xorriso -print-size, {REPEATS} runs each");
    for (tool, program) in [
        ("genisoimage -R -J -print-size", &["genisoimage"][..]),
        (
            "xorriso -as mkisofs -R -J -print-size",
            &["xorriso", "-as", "mkisofs"][..],
        ),
    ] {
        let mut args: Vec<&OsStr> = program.iter().map(OsStr::new).collect();
        args.extend(["-quiet", "-R", "-J", "-print-size"].map(OsStr::new));
        args.push(tree_arg);
        figures.push(measure(tool, &args, &bench_dir)?);
    }
    let ours = &figures[0];
    let mut report = format!(
        "### Planning {entries} entries\n\n| tool | median wall time | time / ours (DVD+R) | peak RSS | RSS / ours (DVD+R) | bytes per entry at the peak | output |\n|---|---:|---:|---:|---:|---:|---|\n"
    );
    for f in &figures {
        report.push_str(&format!(
            "| {} | {:.2} s | {:.2} | {:.1} MiB | {:.2} | {:.0} | {} |\n",
            f.tool,
            f.seconds,
            f.seconds / ours.seconds,
            f.peak_rss_kib as f64 / 1024.0,
            f.peak_rss_kib as f64 / ours.peak_rss_kib as f64,
            f.peak_rss_kib as f64 * 1024.0 / entries as f64,
            f.summary
        ));
    }
    for f in &figures[..2] {
        let mib = f.peak_rss_kib as f64 / 1024.0;
        report.push_str(&format!(
            "\n- {}: peak RSS under {RSS_TARGET_MIB} MiB: {} ({mib:.1} MiB)",
            f.tool,
            if mib < RSS_TARGET_MIB {
                "met"
            } else {
                "MISSED"
            }
        ));
    }
    report.push('\n');
    let results = bench_dir.join("plan-results.md");
    fs::write(&results, &report)?;
    println!("{report}");
    println!("(also written to {})", results.display());
    Ok(())
}

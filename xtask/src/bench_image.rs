//! `cargo xtask bench image`: our image stream against genisoimage and xorriso.
//!
//! Two generated trees, cached under `target/bench/` (about 1.5 GB of 256 MiB files plus
//! thousands of small files; and 100 000 small files). For each, every tool writes the image
//! of the tree to /dev/null, with the page cache warmed first so all see the same state;
//! each run is repeated and the median wall time kept, and the peak RSS of the child is
//! read from `/usr/bin/time` (see `bench_util`). Ours always hashes every byte (each file and
//! the image).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::bench_util::{MixedTree, cached_tree, many_files_tree, median, run_measured, warm};

/// Runs of each tool per tree; the median is reported.
const REPEATS: usize = 3;

/// One tool's figures on one tree.
struct Figures {
    tool: &'static str,
    seconds: f64,
    peak_rss_kib: u64,
}

/// The tree of large files: five 256 MiB files and 5 000 small files.
const LARGE_TREE: MixedTree = MixedTree {
    large_files: 5,
    large_file_bytes: 256 << 20,
    small_files: 5_000,
    small_file_max_bytes: 64 << 10,
};

/// Runs `args` with the tree as last argument, returning wall seconds and the child's peak RSS.
fn measure(args: &[&str], tree: &Path, scratch: &Path) -> Result<(f64, u64)> {
    let mut full: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    full.push(tree.as_os_str());
    let run = run_measured(&full, &[], scratch)?;
    Ok((run.usage.wall_seconds, run.usage.peak_rss_kib))
}

fn bench_tree(ours: &Path, tree: &Path, scratch: &Path) -> Result<Vec<Figures>> {
    let ours = ours.to_str().context("non-UTF-8 target path")?;
    let tools: [(&'static str, Vec<&str>); 4] = [
        (
            "burnstation image (SHA-256 of every file and of the image)",
            vec![ours, "image", "-o", "/dev/null", "--volume-time", "0"],
        ),
        (
            "genisoimage -R -J",
            vec!["genisoimage", "-quiet", "-R", "-J", "-o", "/dev/null"],
        ),
        (
            "xorriso -as mkisofs -R -J",
            vec![
                "xorriso",
                "-as",
                "mkisofs",
                "-quiet",
                "-R",
                "-J",
                "-o",
                "/dev/null",
            ],
        ),
        (
            "xorriso -as mkisofs -R -J --md5",
            vec![
                "xorriso",
                "-as",
                "mkisofs",
                "-quiet",
                "-R",
                "-J",
                "--md5",
                "-o",
                "/dev/null",
            ],
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); tools.len()];
    let mut peaks = vec![0u64; tools.len()];
    for round in 0..REPEATS {
        // Rotate the order so no tool always runs first or last.
        for offset in 0..tools.len() {
            let index = (round + offset) % tools.len();
            let (seconds, peak) = measure(&tools[index].1, tree, scratch)?;
            times[index].push(seconds);
            peaks[index] = peaks[index].max(peak);
        }
    }
    Ok(tools
        .iter()
        .zip(times)
        .zip(peaks)
        .map(|((tool, times), peak)| Figures {
            tool: tool.0,
            seconds: median(times),
            peak_rss_kib: peak,
        })
        .collect())
}

fn table(title: &str, bytes: u64, figures: &[Figures]) -> String {
    let ours = figures[0].seconds;
    let mut out = format!(
        "### {title} ({:.2} GB in the tree)\n\n| tool | median wall time | MB/s | time / ours | peak RSS |\n|---|---:|---:|---:|---:|\n",
        bytes as f64 / 1e9
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {:.2} s | {:.0} | {:.2} | {:.1} MiB |\n",
            f.tool,
            f.seconds,
            bytes as f64 / 1e6 / f.seconds,
            f.seconds / ours,
            f.peak_rss_kib as f64 / 1024.0
        ));
    }
    out
}

/// Verdicts on the targets for one tree.
fn verdicts(figures: &[Figures], rss_target: bool) -> String {
    let ours = &figures[0];
    let genisoimage = &figures[1];
    let xorriso = &figures[2];
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut out = format!(
        "- not slower than genisoimage: {} ({:.2} s vs {:.2} s)\n- at most half of xorriso's time: {} ({:.2} s vs {:.2} s)\n",
        mark(ours.seconds <= genisoimage.seconds),
        ours.seconds,
        genisoimage.seconds,
        mark(ours.seconds * 2.0 <= xorriso.seconds),
        ours.seconds,
        xorriso.seconds
    );
    if rss_target {
        out.push_str(&format!(
            "- peak RSS under 64 MiB: {} ({:.1} MiB)\n",
            mark(ours.peak_rss_kib < 64 * 1024),
            ours.peak_rss_kib as f64 / 1024.0
        ));
    }
    out
}

/// The `image` benchmark.
pub fn run(root: &Path) -> Result<()> {
    super::cargo(root, &["build", "--release", "--package", "burnstation"])?;
    let ours = root.join("target/release/burnstation");
    let bench_dir = root.join("target/bench");
    fs::create_dir_all(&bench_dir)?;
    let large = cached_tree(&bench_dir, "image-large", |root| LARGE_TREE.generate(root))?;
    let many = many_files_tree(&bench_dir)?;
    let mut report = String::new();
    for (title, tree, rss_target) in [
        (
            "1.5 GB tree: five 256 MiB files and 5 000 small files",
            &large,
            false,
        ),
        ("100 000-file tree", &many, true),
    ] {
        eprintln!("bench: warming the page cache for {}", tree.display());
        let bytes = warm(tree)?;
        warm(tree)?;
        eprintln!(
            "bench: timing {REPEATS} runs of each tool on {}",
            tree.display()
        );
        let figures = bench_tree(&ours, tree, &bench_dir)?;
        report.push_str(&table(title, bytes, &figures));
        report.push('\n');
        report.push_str(&verdicts(&figures, rss_target));
        report.push('\n');
    }
    let results = bench_dir.join("image-results.md");
    fs::write(&results, &report)?;
    println!("{report}");
    println!("(also written to {})", results.display());
    Ok(())
}

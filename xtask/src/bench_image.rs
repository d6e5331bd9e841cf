//! `cargo xtask bench image`: our image stream against genisoimage and xorriso.
//!
//! Two generated trees, cached under `target/bench/` (about 1.5 GB of 256 MiB files plus
//! thousands of small files; and 100 000 small files). For each, every tool writes the image
//! of the tree to /dev/null, with the page cache warmed first so all see the same state;
//! each run is repeated and the median wall time kept, and the peak RSS of the child is
//! read from `/usr/bin/time`. Ours always hashes every byte (each file and the image).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Runs of each tool per tree; the median is reported.
const REPEATS: usize = 3;
const LARGE_FILES: usize = 5;
const LARGE_FILE_BYTES: usize = 256 << 20;
const SMALL_FILES_IN_LARGE_TREE: usize = 5_000;
const MANY_FILES: usize = 100_000;

/// One tool's figures on one tree.
struct Figures {
    tool: &'static str,
    seconds: f64,
    peak_rss_kib: u64,
}

/// A tiny deterministic generator (xorshift64*): contents that do not compress or dedupe,
/// produced far faster than the disk writes them.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

fn generate_large_tree(root: &Path) -> Result<()> {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut buf = vec![0u8; 1 << 20];
    fs::create_dir_all(root.join("big"))?;
    for i in 0..LARGE_FILES {
        let mut file = fs::File::create(root.join(format!("big/archive-{i}.bin")))?;
        for _ in 0..LARGE_FILE_BYTES / buf.len() {
            noise.fill(&mut buf);
            file.write_all(&buf)?;
        }
    }
    for i in 0..SMALL_FILES_IN_LARGE_TREE {
        let dir = root.join(format!("small/d{:02}", i / 250));
        if i % 250 == 0 {
            fs::create_dir_all(&dir)?;
        }
        let len = 1024 + (i * 7919) % (63 * 1024);
        noise.fill(&mut buf[..len]);
        fs::write(dir.join(format!("file-{i:05}.dat")), &buf[..len])?;
    }
    Ok(())
}

fn generate_many_tree(root: &Path) -> Result<()> {
    let mut noise = Noise(0xD1B5_4A32_D192_ED03);
    let mut buf = vec![0u8; 4096];
    for i in 0..MANY_FILES {
        let dir = root.join(format!("d{:03}/s{:02}", i / 1000, (i / 100) % 10));
        if i % 100 == 0 {
            fs::create_dir_all(&dir)?;
        }
        let len = (i * 131) % 4096;
        noise.fill(&mut buf[..len]);
        fs::write(dir.join(format!("record-{i:06}.json")), &buf[..len])?;
    }
    Ok(())
}

/// Generates a tree once; a marker file says it is complete.
fn cached_tree(bench_dir: &Path, name: &str, generate: fn(&Path) -> Result<()>) -> Result<PathBuf> {
    let root = bench_dir.join(name);
    let marker = bench_dir.join(format!("{name}.complete"));
    if marker.exists() {
        return Ok(root);
    }
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    eprintln!("bench: generating {} (once; cached)", root.display());
    generate(&root).with_context(|| format!("generating {}", root.display()))?;
    fs::write(&marker, b"")?;
    Ok(root)
}

/// Reads every file once so every tool finds the tree in the page cache.
fn warm(root: &Path) -> Result<u64> {
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for item in fs::read_dir(&dir)? {
            let item = item?;
            let path = item.path();
            if item.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let mut file = fs::File::open(&path)?;
                loop {
                    let n = file.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    bytes += n as u64;
                }
            }
        }
    }
    Ok(bytes)
}

/// Runs `args` under `/usr/bin/time`, returning wall seconds and the child's peak RSS.
fn measure(args: &[&str], tree: &Path, scratch: &Path) -> Result<(f64, u64)> {
    let rss_file = scratch.join("rss");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%M").arg("-o").arg(&rss_file);
    cmd.args(args).arg(tree);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("running {}", args[0]))?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rss = fs::read_to_string(&rss_file)?;
    let peak = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .context("reading /usr/bin/time's peak RSS")?;
    Ok((seconds, peak))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
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
    let large = cached_tree(&bench_dir, "image-large", generate_large_tree)?;
    let many = cached_tree(&bench_dir, "image-many", generate_many_tree)?;
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

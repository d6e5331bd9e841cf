//! What every benchmark shares: generated trees cached under `target/bench/`, a warm page
//! cache, and running a child under GNU `time` to learn its wall time, CPU time and peak RSS
//! (the `rusage` of the child that `wait4` returns), with each line it writes to stderr
//! stamped with when it arrived and how much CPU the child had used by then.
//!
//! Benchmarks only: nothing here is timing-sensitive in a way a test could rely on.

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Files in the many-files tree, the size the design's memory target names.
pub const MANY_FILES: usize = 100_000;

/// A tree of a few large files of random bytes (`big/archive-N.bin`) and many small ones of
/// 1 KiB up to `small_file_max_bytes` (`small/dNN/file-NNNNN.dat`, 250 per directory), like a
/// backup of a few database dumps next to a service's scattered files.
#[derive(Debug, Clone, Copy)]
pub struct MixedTree {
    pub large_files: usize,
    pub large_file_bytes: usize,
    pub small_files: usize,
    pub small_file_max_bytes: usize,
}

/// What a finished child used, from GNU `time`.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub wall_seconds: f64,
    pub user_seconds: f64,
    pub system_seconds: f64,
    pub peak_rss_kib: u64,
}

/// One line the child wrote to stderr.
#[derive(Debug, Clone)]
pub struct StderrLine {
    /// When it arrived, from the child's start.
    pub at: Duration,
    /// The child's CPU time (user + system) when it arrived, if /proc could tell.
    pub cpu_seconds: Option<f64>,
    /// The line, without its newline and without terminal colour codes.
    pub text: String,
}

/// A finished child: what it used and what it said.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub usage: Usage,
    pub stdout: String,
    pub stderr: Vec<StderrLine>,
}

/// A tiny deterministic generator (xorshift64*): contents that do not compress or dedupe,
/// produced far faster than the disk writes them.
pub struct Noise(pub u64);

impl Noise {
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

impl MixedTree {
    pub fn generate(&self, root: &Path) -> Result<()> {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        let mut buf = vec![0u8; 1 << 20];
        if !(1024 < self.small_file_max_bytes && self.small_file_max_bytes <= buf.len()) {
            bail!("small files are made of 1 KiB to 1 MiB");
        }
        fs::create_dir_all(root.join("big"))?;
        for i in 0..self.large_files {
            let mut file = fs::File::create(root.join(format!("big/archive-{i}.bin")))?;
            for _ in 0..self.large_file_bytes / buf.len() {
                noise.fill(&mut buf);
                file.write_all(&buf)?;
            }
        }
        for i in 0..self.small_files {
            let dir = root.join(format!("small/d{:02}", i / 250));
            if i % 250 == 0 {
                fs::create_dir_all(&dir)?;
            }
            let len = 1024 + (i * 7919) % (self.small_file_max_bytes - 1024);
            noise.fill(&mut buf[..len]);
            fs::write(dir.join(format!("file-{i:05}.dat")), &buf[..len])?;
        }
        Ok(())
    }
}

impl Usage {
    pub fn cpu_seconds(&self) -> f64 {
        self.user_seconds + self.system_seconds
    }
}

impl ChildRun {
    /// The first stderr line that starts with `prefix`.
    pub fn line(&self, prefix: &str) -> Option<&StderrLine> {
        self.stderr.iter().find(|l| l.text.starts_with(prefix))
    }

    /// Like [`ChildRun::line`], but a missing line is an error naming it.
    pub fn need_line(&self, prefix: &str) -> Result<&StderrLine> {
        self.line(prefix).with_context(|| {
            format!(
                "the child never printed a line starting {prefix:?}; its stderr:\n{}",
                self.stderr_text()
            )
        })
    }

    /// The first stderr line that holds `text` anywhere (a log line after its timestamp).
    pub fn need_line_holding(&self, text: &str) -> Result<&StderrLine> {
        self.stderr
            .iter()
            .find(|l| l.text.contains(text))
            .with_context(|| {
                format!(
                    "the child never printed a line holding {text:?}; its stderr:\n{}",
                    self.stderr_text()
                )
            })
    }

    pub fn stderr_text(&self) -> String {
        self.stderr
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// 100 000 files of 0–4 KiB in 1 000 directories (0.2 GB), generated once.
pub fn many_files_tree(bench_dir: &Path) -> Result<PathBuf> {
    cached_tree(bench_dir, "image-many", |root| {
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
    })
}

/// Generates a tree once; a marker file says it is complete.
pub fn cached_tree(
    bench_dir: &Path,
    name: &str,
    generate: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
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

/// Reads every file once so every tool finds the tree in the page cache; returns the bytes
/// the files hold.
pub fn warm(root: &Path) -> Result<u64> {
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

/// Runs `args` (program first) under GNU `time` with `env` added, and fails with the child's
/// stderr if it fails. `scratch` holds `time`'s report.
pub fn run_measured(args: &[&OsStr], env: &[(&str, &str)], scratch: &Path) -> Result<ChildRun> {
    let what = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let usage_file = scratch.join("time-usage");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%M %U %S").arg("-o").arg(&usage_file);
    cmd.args(args).envs(env.iter().copied());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{what}`"))?;
    let time_pid = child.id();
    let mut stdout = child.stdout.take().context("child stdout")?;
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut stderr_lines = Vec::new();
    let mut measured_pid = None;
    let mut reader = BufReader::new(child.stderr.take().context("child stderr")?);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let at = start.elapsed();
        measured_pid = measured_pid.or_else(|| child_of(time_pid));
        let cpu_seconds = measured_pid.and_then(cpu_seconds_of);
        let text = strip_ansi(String::from_utf8_lossy(&raw).trim_end());
        stderr_lines.push(StderrLine {
            at,
            cpu_seconds,
            text,
        });
    }
    let status = child.wait()?;
    let wall_seconds = start.elapsed().as_secs_f64();
    let stdout = stdout_reader.join().unwrap_or_default();
    let run = ChildRun {
        usage: Usage {
            wall_seconds,
            user_seconds: 0.0,
            system_seconds: 0.0,
            peak_rss_kib: 0,
        },
        stdout,
        stderr: stderr_lines,
    };
    if !status.success() {
        bail!(
            "`{what}` failed ({status}):\n{}\n{}",
            run.stdout,
            run.stderr_text()
        );
    }
    let report = fs::read_to_string(&usage_file)?;
    let fields: Vec<&str> = report
        .lines()
        .last()
        .context("GNU time wrote no report")?
        .split_whitespace()
        .collect();
    let [rss, user, system] = fields[..] else {
        bail!("GNU time's report {report:?} is not `%M %U %S`");
    };
    Ok(ChildRun {
        usage: Usage {
            wall_seconds,
            user_seconds: user.parse()?,
            system_seconds: system.parse()?,
            peak_rss_kib: rss.parse()?,
        },
        ..run
    })
}

/// The process GNU `time` started (its only child).
fn child_of(pid: u32) -> Option<u32> {
    let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// User + system CPU seconds a running process has used (its threads included).
pub fn cpu_seconds_of(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name and state.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks_per_second())
}

/// `getconf CLK_TCK`: 100 on every Linux this runs on, asked rather than assumed.
fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Removes terminal colour codes (`ESC [ ... m`), which a logger may add even into a pipe.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

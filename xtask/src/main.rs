//! `cargo xtask`: the project's own automation.
//!
//! - `cargo xtask demo`: the station's main job on this machine, with no hardware.
//! - `cargo xtask test`: installs what the tests need, then runs every check and test, and
//!   runs the fuzz targets for a bounded time.
//! - `cargo xtask bench NAME`: a benchmark, side by side with the reference tools.
//! - `cargo xtask vendor`, `cargo xtask image BOARD`: the flashable image (needs the network).
//! - `cargo xtask buildroot-check BUILDROOT_DIR`: the image's BR2_EXTERNAL tree against a
//!   buildroot checkout, offline.
//!
//! Each task installs the system packages it needs when it runs as root on Debian, and says
//! exactly what to install otherwise (see `packages`).

mod backup_server;
mod bench_burn;
mod bench_daemon;
mod bench_image;
mod bench_plan;
mod bench_util;
mod buildroot;
mod buildroot_check;
mod demo;
mod packages;
mod test_report;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "The burn station's own automation")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the station's main job against a simulated drive, with no hardware.
    Demo(demo::DemoArgs),
    /// Install what the tests need, then run fmt, clippy and every test.
    Test(TestArgs),
    /// Run a benchmark side by side with the reference tools (no name: list them).
    Bench {
        /// Which benchmark to run.
        name: Option<String>,
    },
    /// Put every crate of Cargo.lock in vendor/, for the buildroot package (needs crates.io).
    Vendor,
    /// Build the SD card image of a board with buildroot (needs the network).
    Image {
        /// The board: rpi4_64, rpi3_64 or qemu_aarch64_virt (buildroot/configs/).
        board: String,
        /// A buildroot checkout of the pinned release (default: cloned into target/buildroot/).
        #[arg(long)]
        buildroot: Option<PathBuf>,
        /// Buildroot's output directory (default: target/buildroot/BOARD).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Check the BR2_EXTERNAL tree against a buildroot checkout, without the network.
    BuildrootCheck {
        /// A checkout of the pinned buildroot series (buildroot/buildroot.pin).
        buildroot_dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// Do not install anything; fail if something is missing.
    #[arg(long)]
    no_install: bool,
}

/// A benchmark: its name, what it measures, and the function that runs it.
struct Bench {
    name: &'static str,
    about: &'static str,
    run: fn(&Path) -> Result<()>,
}

/// The benchmarks, in the order `cargo xtask bench` lists them. Each issue that asks for a
/// benchmark adds its entry here.
const BENCHES: &[Bench] = &[
    Bench {
        name: "image",
        about: "ISO image stream vs genisoimage and xorriso (1.5 GB and 100 000-file trees)",
        run: bench_image::run,
    },
    Bench {
        name: "burn",
        about: "burn + verify on SimDrive vs xorriso; 16x pacing under CPU load; memory (~20 min)",
        run: bench_burn::run,
    },
    Bench {
        name: "burn-paced",
        about: "the burn's 16x pacing under CPU load alone, with and without the drive thread's priority (~8 min)",
        run: bench_burn::run_paced,
    },
    Bench {
        name: "plan",
        about: "planning a 1 000 000-entry snapshot onto DVD+R and BD-R sets: time and memory",
        run: bench_plan::run,
    },
    Bench {
        name: "daemon",
        about: "burnstation run through sync, plan, burn, verify of a full DVD: peak RSS vs xorriso",
        run: bench_daemon::run,
    },
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.task {
        Task::Demo(args) => demo(&root, &args),
        Task::Test(args) => test(&root, &args),
        Task::Bench { name } => bench(&root, name.as_deref()),
        Task::Vendor => buildroot::vendor(&root),
        Task::Image {
            board,
            buildroot,
            output,
        } => packages::ensure(packages::IMAGE).and_then(|()| {
            buildroot::image(&root, &board, buildroot.as_deref(), output.as_deref())
        }),
        Task::BuildrootCheck { buildroot_dir } => packages::ensure(packages::BUILDROOT_CHECK)
            .and_then(|()| buildroot_check::check(&root, &buildroot_dir)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}

fn demo(root: &Path, args: &demo::DemoArgs) -> Result<()> {
    packages::ensure(packages::BUILD)?;
    if args.cli {
        demo::demo_cli(root)
    } else {
        packages::ensure(packages::DEMO)?;
        demo::demo_daemon(root, args)
    }
}

/// One step of `cargo xtask test` and how it ended.
struct Step {
    name: String,
    passed: bool,
    took: Duration,
}

fn test(root: &Path, args: &TestArgs) -> Result<()> {
    if args.no_install {
        packages::check(packages::BUILD)?;
        packages::check(packages::TEST)?;
    } else {
        packages::ensure(packages::BUILD)?;
        packages::ensure(packages::TEST)?;
    }

    let mut steps = Vec::new();
    let step = |name: &str, mut cmd: Command| {
        eprintln!("\n==> {name}");
        let start = Instant::now();
        let passed = cmd.status().is_ok_and(|s| s.success());
        Step {
            name: name.to_string(),
            passed,
            took: start.elapsed(),
        }
    };
    steps.push(step(
        "cargo fmt --check",
        cargo_cmd(root, &["fmt", "--all", "--check"]),
    ));
    steps.push(step(
        "cargo clippy",
        cargo_cmd(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    ));
    eprintln!("\n==> cargo test");
    let start = Instant::now();
    let (passed, test_failures) =
        test_report::run(cargo_cmd(root, &["test", "--workspace", "--no-fail-fast"]));
    steps.push(Step {
        name: "cargo test".to_string(),
        passed,
        took: start.elapsed(),
    });

    // The demo is what a newcomer runs first: it must keep working end to end. Its frames
    // go to a file (the log says where), not into CI's output.
    let demo_log = root.join("target/demo-auto.log");
    match (std::env::current_exe(), fs::File::create(&demo_log)) {
        (Ok(xtask), Ok(log)) => {
            let mut demo = Command::new(xtask);
            demo.args(["demo", "--auto"]).current_dir(root).stdout(log);
            steps.push(step("cargo xtask demo --auto", demo));
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("cannot run the demo: {e}");
            steps.push(Step {
                name: "cargo xtask demo --auto".to_string(),
                passed: false,
                took: Duration::ZERO,
            });
        }
    }

    eprintln!("\n==> cargo fuzz");
    let start = Instant::now();
    let fuzzed = fuzz(root, args.no_install);
    if let Err(err) = &fuzzed {
        eprintln!("cargo fuzz: {err:#}");
    }
    steps.push(Step {
        name: "cargo fuzz".to_string(),
        passed: fuzzed.is_ok(),
        took: start.elapsed(),
    });

    eprintln!("\n==> summary");
    for s in &steps {
        let mark = if s.passed { "ok  " } else { "FAIL" };
        eprintln!("  {mark} {:<24} {:>7.1}s", s.name, s.took.as_secs_f64());
    }
    // Last, so that it is in the few lines CI keeps of a run.
    for line in test_failures.summary() {
        eprintln!("{line}");
    }
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| s.name.as_str())
        .collect();
    if failed.is_empty() {
        eprintln!("all {} steps passed", steps.len());
        Ok(())
    } else {
        bail!(
            "{} of {} steps failed: {}",
            failed.len(),
            steps.len(),
            failed.join(", ")
        )
    }
}

/// The cargo-fuzz crates (outside the workspace), their targets and how long each runs:
/// about two minutes in all, enough for libFuzzer to cover the parsers' branches.
const FUZZ_TARGETS: &[(&str, &str, u32)] = &[
    ("hal/fuzz", "sense", 30),
    ("hal/fuzz", "responses", 50),
    ("images/fuzz", "reader", 40),
];

/// Runs every fuzz target for a bounded time; fails on a crash, a failed property, or a
/// missing nightly toolchain.
fn fuzz(root: &Path, no_install: bool) -> Result<()> {
    let nightly = Command::new("cargo")
        .args(["+nightly", "--version"])
        .current_dir(root)
        .output();
    if !nightly.is_ok_and(|o| o.status.success()) {
        bail!("the fuzz targets need a nightly toolchain: rustup toolchain install nightly");
    }
    let have_cargo_fuzz = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_cargo_fuzz {
        if no_install {
            bail!("cargo-fuzz is missing: cargo install cargo-fuzz --locked");
        }
        run(
            Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]),
            "cargo install cargo-fuzz --locked",
        )?;
    }
    for (dir, target, seconds) in FUZZ_TARGETS {
        let fuzz_dir = root.join(dir);
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("could not create {}", corpus.display()))?;
        // New inputs go to the first (untracked) corpus directory; the checked-in seeds
        // (real drive answers from the unit tests) are read only.
        let seeds = fuzz_dir.join("seeds").join(target);
        let max_time = format!("-max_total_time={seconds}");
        run(
            Command::new("cargo")
                .args(["+nightly", "fuzz", "run", "--fuzz-dir"])
                .arg(&fuzz_dir)
                .arg(target)
                .arg(&corpus)
                .arg(&seeds)
                .args(["--", &max_time])
                .current_dir(root),
            &format!("cargo fuzz run {target} -- {max_time}"),
        )?;
    }
    Ok(())
}

fn bench(root: &Path, name: Option<&str>) -> Result<()> {
    let Some(name) = name else {
        if BENCHES.is_empty() {
            println!("no benchmarks yet");
        }
        for b in BENCHES {
            println!("{:<8} {}", b.name, b.about);
        }
        return Ok(());
    };
    let Some(b) = BENCHES.iter().find(|b| b.name == name) else {
        let known: Vec<&str> = BENCHES.iter().map(|b| b.name).collect();
        bail!("no benchmark named {name:?}; known: {}", known.join(", "));
    };
    packages::ensure(packages::BUILD)?;
    packages::ensure(packages::BENCH)?;
    (b.run)(root)
}

fn cargo_cmd(root: &Path, args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(root);
    cmd
}

fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    run(
        &mut cargo_cmd(root, args),
        &format!("cargo {}", args.join(" ")),
    )
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(())
}

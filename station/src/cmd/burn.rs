//! `burnstation burn SRC_DIR|IMAGE`: burn a tree (imaged on the fly, with its SHA256SUMS) or
//! an image file onto the disc in the drive, then read every byte back.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burnstation::pipeline::{self, PipelineOptions, Source};
use burnstation_hal::priority::DRIVE_NICE;
use burnstation_hal::{
    BurnOptions, DEFAULT_RING_BYTES, MAX_RING_BYTES, MIN_RING_BYTES, SpeedRequest,
};
use burnstation_images::digest::hex;
use burnstation_images::iso9660::BLOCK;

use super::device::DeviceArg;
use super::interrupt::cancel_on_signals;
use super::progress::Progress;
use super::{Verdict, unix_now};

/// Arguments of `burnstation burn`.
#[derive(Debug, clap::Args)]
pub struct BurnArgs {
    /// A directory to put on the disc, or a disc image file to write as it is.
    pub source: PathBuf,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Write speed as a multiple of 1x (the drive's nearest speed at or below it).
    /// Default: as fast as the drive and disc allow.
    #[arg(long, value_name = "X")]
    pub speed: Option<f64>,
    /// Leave the disc appendable instead of finalizing it (finalized discs read in every
    /// drive).
    #[arg(long)]
    pub no_finalize: bool,
    /// Allow erasing: blank a rewritable disc that holds data, or overwrite it.
    #[arg(long)]
    pub erase: bool,
    /// Format a blank BD-R with spare areas first (slower and about 3% smaller).
    #[arg(long)]
    pub bd_r_spares: bool,
    /// Do not read the disc back after burning.
    #[arg(long)]
    pub no_verify: bool,
    /// The disc label of an imaged directory.
    #[arg(long, value_name = "ID", default_value = "BACKUP")]
    pub volume_id: String,
    /// The volume's creation time of an imaged directory, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    pub volume_time: Option<i64>,
    /// Size of the buffer between the image and the drive, in MiB (1 to 256).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_RING_BYTES >> 20, value_parser = buffer_mib)]
    pub buffer: usize,
    /// Burn an image file even though it holds no ISO 9660 filesystem (refused without
    /// this: it is almost always the wrong file).
    #[arg(long)]
    pub non_iso: bool,
    /// The nice value (-20 to 19) of the thread feeding the drive while it writes, so a
    /// busy CPU does not let the drive's buffer run empty; 0 leaves it at the normal
    /// priority. Raising it needs root or CAP_SYS_NICE (or RLIMIT_NICE).
    #[arg(long, value_name = "NICE", default_value_t = DRIVE_NICE, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i32).range(-20..=19))]
    pub drive_nice: i32,
}

/// `--buffer`: whole MiB within what a burn may use, checked here so that a huge or
/// wrapping number is an error and never an allocation.
fn buffer_mib(text: &str) -> Result<usize, String> {
    let (min, max) = (MIN_RING_BYTES >> 20, MAX_RING_BYTES >> 20);
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|mib| (min as u64..=max as u64).contains(mib))
        .map(|mib| mib as usize)
        .ok_or_else(|| {
            format!(
                "give the buffer in MiB, from {min} to {max} (the default {} holds about 1.5 s of DVD 16x)",
                DEFAULT_RING_BYTES >> 20
            )
        })
}

/// Burns, verifies, and reports; a disc that fails verification is [`Verdict::Damaged`].
pub fn run(args: BurnArgs) -> Result<Verdict> {
    if let Some(speed) = args.speed
        && !(speed > 0.0 && speed <= 64.0)
    {
        bail!("--speed {speed} is not a write speed: give a multiple of 1x such as 4 or 16");
    }
    if !args.source.exists() {
        bail!(
            "{} does not exist: give a directory or a disc image",
            args.source.display()
        );
    }
    let source = Source::from_path(&args.source);
    let options = PipelineOptions {
        burn: BurnOptions {
            finalize: !args.no_finalize,
            speed: args.speed.map_or(SpeedRequest::Max, SpeedRequest::Times),
            erase: args.erase,
            bd_r_spares: args.bd_r_spares,
        },
        volume_id: args.volume_id,
        volume_time: args.volume_time.unwrap_or_else(unix_now),
        ring_bytes: args.buffer << 20,
        allow_non_iso: args.non_iso,
        drive_nice: Some(args.drive_nice),
        verify: !args.no_verify,
        ..PipelineOptions::default()
    };
    let mut drive = args.device.open()?;
    let cancel = cancel_on_signals();
    let mut progress = Progress::new();
    let outcome = pipeline::burn_and_verify(
        &mut drive,
        &source,
        &options,
        &mut |e| progress.event(e),
        &cancel,
    );
    progress.finish();
    Ok(report(&outcome?))
}

/// Prints what a burn did and how its read-back went; a disc that failed verification is
/// [`Verdict::Damaged`].
pub fn report(outcome: &pipeline::DiscOutcome) -> Verdict {
    let burn = &outcome.burn;
    let seconds = burn.writing_time.as_secs_f64().max(0.001);
    let family = burn.plan.family();
    let rate = (burn.plan.written_blocks * BLOCK) as f64 / seconds;
    println!(
        "burnt {} MB onto the {} in {:.0} s (average {:.1}x, {:.1} MB/s; {} s in all)",
        outcome.image_bytes / 1_000_000,
        burn.plan.profile,
        seconds,
        rate / (family.one_x_kbytes_per_sec() * 1000.0),
        rate / 1e6,
        burn.total_time.as_secs()
    );
    println!("image sha256 {}", hex(&outcome.image_sha256));
    for note in burn.notes.iter().filter(|n| !burn.plan.notes.contains(n)) {
        println!("note: {note}");
    }
    match &outcome.verify {
        None => {
            println!(
                "not verified (--no-verify): check it with `burnstation verify` before trusting it"
            );
            Verdict::Done
        }
        Some(report) => {
            println!("{report}");
            Verdict::of(report)
        }
    }
}

//! `burnstation plan SNAPSHOT_DIR --medium dvd+r`: spread a snapshot over as many discs as
//! it needs and print the set; with `--write-images DIR`, also write every disc's image
//! (to burn elsewhere, to keep on other storage, or to test).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use burnstation::catalog::{BurnResult, Catalog, NewBurn, SetId, Verification};
use burnstation::hashing::hash_with_catalog;
use burnstation::pipeline::{self, PipelineOptions};
use burnstation_hal::Cancel;
use burnstation_hal::mmc::capacity::NominalMedium;
use burnstation_images::plan::{DiscSet, PlanOptions, SetHashes, Snapshot};

use super::catalog::CatalogArg;
use super::device::DeviceArg;
use super::interrupt::cancel_on_signals;
use super::output::Output;
use super::progress::Progress;
use super::{Verdict, unix_now};

/// Arguments of `burnstation plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The snapshot (a directory) to put on discs.
    pub snapshot_dir: PathBuf,
    /// The medium: cd-r, cd-rw, dvd+r, dvd+rw, dvd-r, dvd-rw, dvd+r-dl, dvd-r-dl, bd-r, bd-re,
    /// bd-r-dl.
    #[arg(long, value_name = "MEDIUM")]
    pub medium: String,
    /// A smaller capacity than the medium's, in 2048-byte blocks (for trying sets out).
    #[arg(long, value_name = "BLOCKS")]
    pub capacity_blocks: Option<u64>,
    /// Write every disc's image into this directory, as VOLUME_ID.iso.
    #[arg(long, value_name = "DIR")]
    pub write_images: Option<PathBuf>,
    /// The start of every volume ID.
    #[arg(long, value_name = "TEXT", default_value = "OSK")]
    pub label_prefix: String,
    /// The snapshot's time, Unix seconds (default: the directory's modification time).
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    pub snapshot_time: Option<i64>,
    /// Record the set and its hashes in the catalogue (and reuse the hashes it knows).
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub catalog: CatalogArg,
    /// Burn this disc of the set (1 = the first) onto the disc in --device, then read it
    /// back.
    #[arg(long, value_name = "N")]
    pub burn_disc: Option<u32>,
    #[command(flatten)]
    pub device: DeviceArg,
}

fn snapshot_time(dir: &Path) -> Result<i64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata(dir)
        .with_context(|| format!("cannot read {}; check the path", dir.display()))?
        .mtime())
}

/// Plans, prints, writes the images and burns a disc when asked.
pub fn run(args: PlanArgs) -> Result<Verdict> {
    let medium: &NominalMedium = args.medium.parse()?;
    let capacity = args
        .capacity_blocks
        .unwrap_or(u64::from(medium.image_blocks));
    if capacity > u64::from(medium.image_blocks) {
        bail!(
            "--capacity-blocks {capacity} is more than a {} holds ({} blocks)",
            medium.token,
            medium.image_blocks
        );
    }
    let time = match args.snapshot_time {
        Some(time) => time,
        None => snapshot_time(&args.snapshot_dir)?,
    };
    let name = args
        .snapshot_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_string());
    eprintln!("scanning {}...", args.snapshot_dir.display());
    let snapshot = Arc::new(Snapshot::scan(&args.snapshot_dir)?);
    tracing::debug!(entries = snapshot.len(), peak_rss_kib = ?peak_rss_kib(), "scanned");
    let set = Arc::new(DiscSet::plan(
        Arc::clone(&snapshot),
        PlanOptions {
            capacity_blocks: capacity,
            medium: medium.token.to_string(),
            label_prefix: args.label_prefix.clone(),
            snapshot_name: name.clone(),
            snapshot_time: time,
        },
    )?);
    tracing::debug!(peak_rss_kib = ?peak_rss_kib(), "planned");
    print_set(&set);
    if args.write_images.is_none() && !args.record && args.burn_disc.is_none() {
        return Ok(Verdict::Done);
    }
    if let Some(n) = args.burn_disc
        && set.disc(n).is_none()
    {
        bail!(
            "--burn-disc {n}: the set has discs 1 to {}; choose one of them",
            set.discs().len()
        );
    }
    let mut catalog = if args.record {
        args.catalog.open()?
    } else {
        Catalog::in_memory()?
    };
    let snapshot_id = catalog.add_snapshot(
        &name,
        &args.snapshot_dir,
        time,
        snapshot.files(),
        snapshot.bytes(),
    )?;
    // One Ctrl-C handler for the whole command: hashing, then the burn.
    let cancel = cancel_on_signals();
    eprintln!("hashing the snapshot's files (the catalogue lists every SHA-256)...");
    let hashes = Arc::new(hash_with_catalog(
        &set,
        &mut catalog,
        snapshot_id,
        &mut |_| {},
        &cancel,
    )?);
    let recorded = if args.record {
        let id = catalog.record_set(snapshot_id, &set, &hashes, unix_now())?;
        println!("recorded as set {} in the catalogue", id.0);
        Some(id)
    } else {
        None
    };
    if let Some(dir) = &args.write_images {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}; check the path", dir.display()))?;
        for disc in set.discs() {
            let path = dir.join(format!("{}.iso", disc.volume_id));
            let image = set.disc_image(disc.number, Arc::clone(&hashes))?;
            // Checked per disc: DIR inside the snapshot would change the tree being imaged.
            let output = Output::check(&path, &args.snapshot_dir)?;
            super::image::write_image(image.stream(), &output, &cancel)?;
            println!("wrote {}", path.display());
        }
    }
    match args.burn_disc {
        Some(disc) => burn(
            &args.device,
            &set,
            disc,
            hashes,
            &mut catalog,
            recorded,
            &cancel,
        ),
        None => Ok(Verdict::Done),
    }
}

/// Burns disc `disc` of the set and reads it back, recording both in the catalogue when
/// the set is recorded there.
fn burn(
    device: &DeviceArg,
    set: &Arc<DiscSet>,
    disc: u32,
    hashes: Arc<SetHashes>,
    catalog: &mut Catalog,
    recorded: Option<SetId>,
    cancel: &Cancel,
) -> Result<Verdict> {
    let mut drive = device.open()?;
    let medium = drive.media()?.profile.to_string();
    let burn_id = match recorded {
        Some(set_id) => Some(catalog.start_burn(&NewBurn {
            set: set_id,
            disc,
            drive: drive.name(),
            medium: &medium,
            speed_kbps: None,
            started_at: unix_now(),
        })?),
        None => None,
    };
    let mut progress = Progress::new();
    let outcome = pipeline::burn_planned_disc(
        &mut drive,
        set,
        disc,
        hashes,
        &PipelineOptions::default(),
        &mut |e| progress.event(e),
        cancel,
    );
    progress.finish();
    if let (Some(set_id), Some(burn_id)) = (recorded, burn_id) {
        let (result, detail) = match &outcome {
            Ok(_) => (BurnResult::Done, None),
            Err(e) if cancel.is_cancelled() => (BurnResult::Cancelled, Some(e.to_string())),
            Err(e) => (BurnResult::Failed, Some(e.to_string())),
        };
        let sha = outcome.as_ref().ok().map(|o| o.image_sha256);
        catalog.finish_burn(burn_id, result, unix_now(), detail.as_deref(), sha)?;
        if let Ok(Some(report)) = outcome.as_ref().map(|o| o.verify.as_ref()) {
            catalog.record_verification(
                set_id,
                disc,
                Some(burn_id),
                unix_now(),
                &Verification::from(report),
            )?;
        }
    }
    Ok(super::burn::report(&outcome?))
}

/// This process's peak resident memory so far (`VmHWM`), for the debug log.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn print_set(set: &DiscSet) {
    let options = set.options();
    let capacity = options.capacity_blocks;
    println!(
        "set {} (plan {}): {} files, {} bytes onto {} discs of {} ({} blocks each)",
        set.label(),
        set.plan_id(),
        set.snapshot().files(),
        set.snapshot().bytes(),
        set.discs().len(),
        options.medium,
        capacity
    );
    println!(
        "{:>5}  {:<16}  {:>12}  {:>7}  {:>9}  {:>14}",
        "disc", "volume id", "image bytes", "fill", "files", "data bytes"
    );
    for disc in set.discs() {
        println!(
            "{:>5}  {:<16}  {:>12}  {:>6.2}%  {:>9}  {:>14}",
            disc.number,
            disc.volume_id,
            disc.image_blocks * 2048,
            disc.image_blocks as f64 * 100.0 / capacity as f64,
            disc.files,
            disc.data_bytes
        );
    }
    let (but_last, all) = set.fill();
    if but_last.is_nan() {
        println!("fill: {:.2}% (one disc)", all * 100.0);
    } else {
        println!(
            "fill: {:.2}% for every disc but the last, {:.2}% for the whole set",
            but_last * 100.0,
            all * 100.0
        );
    }
}

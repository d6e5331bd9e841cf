//! `burnstation restore --from PATH... --to DIR`: restore a disc set (or `--path` parts of
//! it) from mounted discs, disc image files, or a drive that is fed one disc after
//! another. Parts are joined, every SHA-256 is checked, and the report names everything
//! missing or damaged (then the command fails). The discs alone are enough: no catalogue.

use std::io::BufRead;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use burnstation::restore::{IsoDisc, MountedDisc, Restore, RestoreEvent};
use burnstation_hal::drive::DiscReader;

use super::Verdict;

/// Arguments of `burnstation restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Where the discs are: mounted discs (directories), image files, or a drive
    /// (/dev/sr0, or sim:FILE), which asks for each disc in turn.
    #[arg(long, value_name = "PATH", required = true, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// Where to restore to (created if needed).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Restore only this path of the backup tree (a file or a directory); repeat for more.
    #[arg(long, value_name = "PATH")]
    pub path: Vec<PathBuf>,
}

fn event(e: RestoreEvent) {
    match e {
        RestoreEvent::Disc {
            disc,
            discs,
            volume_id,
        } => eprintln!("reading disc {disc} of {discs} ({volume_id})..."),
        RestoreEvent::Skipped { disc, why } => eprintln!("skipping disc {disc}: {why}"),
        RestoreEvent::Wrote { .. } => {}
    }
}

/// Restores and prints the report: damaged (exit status 1) when anything asked for is
/// missing or damaged.
pub fn run(args: RestoreArgs) -> Result<Verdict> {
    let only = args
        .path
        .iter()
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .collect();
    let mut restore = Restore::new(args.to.clone(), only);
    // Directories and image files first, in the order given; a drive then asks for the
    // discs still needed.
    let mut drives = Vec::new();
    for from in &args.from {
        let meta = std::fs::metadata(from);
        match meta {
            Ok(m) if m.is_dir() => {
                restore.add_disc(&mut MountedDisc::new(from.clone()), &mut event)?
            }
            Ok(m) if m.is_file() => {
                let mut disc = IsoDisc::from_file(from).with_context(|| {
                    format!(
                        "cannot read {} as a disc image; check the file",
                        from.display()
                    )
                })?;
                restore.add_disc(&mut disc, &mut event)?;
            }
            _ => drives.push(from.clone()),
        }
    }
    for spec in drives {
        restore_from_drive(&mut restore, &spec.to_string_lossy())?;
    }
    let report = restore.finish()?;
    println!("{report}");
    if !report.complete() {
        eprintln!("burnstation: the restore is incomplete: the files above are missing or damaged");
        return Ok(Verdict::Damaged);
    }
    Ok(Verdict::Done)
}

/// Asks for each disc still needed and reads it from the drive.
fn restore_from_drive(restore: &mut Restore, spec: &str) -> Result<()> {
    let mut drive = burnstation::device::open(Some(spec))?;
    let stdin = std::io::stdin();
    let mut first = true;
    loop {
        let needed = restore.discs_needed();
        let prompt = match (restore.set(), needed.first()) {
            (None, _) => format!("insert a disc of the set into {spec}"),
            (Some(_), None) => return Ok(()),
            (Some(set), Some((disc, volume))) => format!(
                "insert disc {disc} of {} ({volume}) of set {} into {spec}",
                set.discs, set.set
            ),
        };
        if !first || restore.set().is_some() {
            eprintln!("{prompt}, then press Enter (or type q and Enter to stop)");
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 || line.trim() == "q" {
                return Ok(());
            }
        }
        first = false;
        drive
            .wait_until_ready(Duration::from_secs(60))
            .context("the drive did not become ready; is a disc in it?")?;
        let blocks = drive.media()?.readable_blocks;
        let reader = DiscReader::new(&mut drive, blocks);
        let mut disc = IsoDisc::open(format!("the disc in {spec}"), reader)
            .context("the disc in the drive is not a readable disc image")?;
        if let Err(e) = restore.add_disc(&mut disc, &mut event) {
            eprintln!("burnstation: {e}");
        }
        drop(disc);
        // Open the tray for the next disc, if one is still needed.
        if !restore.discs_needed().is_empty()
            && let Err(e) = drive.eject()
        {
            tracing::info!(error = %e, "could not open the tray; the person opens it");
        }
    }
}

//! `burnstation catalog find PATH` and `burnstation catalog sets`: what the box's catalogue
//! knows: which disc holds a file, and how far each disc set got.

use std::path::PathBuf;

use anyhow::Result;
use burnstation::catalog::Catalog;
use burnstation_images::plan::files::utc_text;

/// Where the catalogue is.
#[derive(Debug, Clone, clap::Args)]
pub struct CatalogArg {
    /// The catalogue database.
    #[arg(
        long,
        value_name = "FILE",
        env = "BURNSTATION_CATALOG",
        default_value = "/data/catalog.db"
    )]
    pub catalog: PathBuf,
}

impl CatalogArg {
    /// Opens it (creating it if needed).
    pub fn open(&self) -> Result<Catalog> {
        Ok(Catalog::open(&self.catalog)?)
    }
}

/// Arguments of `burnstation catalog`.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub command: CatalogCommand,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// What to ask the catalogue.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Which disc of which set holds a file (or every file under a directory).
    Find {
        /// The path in the backup tree (as on the server, or backup/... as on a disc).
        path: PathBuf,
    },
    /// Every disc set, and how many of its discs are burnt and verified.
    Sets,
    /// The burns and verifications of each disc of one set.
    History {
        /// The set's number, as `catalog sets` shows it.
        set: i64,
    },
}

/// Answers the question.
pub fn run(args: CatalogArgs) -> Result<()> {
    let catalog = args.catalog.open()?;
    match args.command {
        CatalogCommand::Find { path } => {
            use std::os::unix::ffi::OsStrExt;
            let found = catalog.find(path.as_os_str().as_bytes())?;
            if found.is_empty() {
                anyhow::bail!(
                    "no disc set holds {}; check the path (relative to the backup tree)",
                    path.display()
                );
            }
            for l in found {
                let part = if l.part > 0 {
                    format!(" part {}", l.part)
                } else {
                    String::new()
                };
                let disc = if l.disc == 0 {
                    "in parts:".to_string()
                } else {
                    format!("disc {} ({})", l.disc, l.volume_id)
                };
                println!(
                    "set {} {} snapshot {:?} of {}: {disc}{part} {} ({} bytes)",
                    l.set.0,
                    l.label,
                    l.snapshot,
                    utc_text(l.snapshot_time),
                    String::from_utf8_lossy(&l.disc_path),
                    l.size
                );
            }
        }
        CatalogCommand::Sets => {
            let sets = catalog.sets()?;
            if sets.is_empty() {
                println!("no disc sets yet");
            }
            for s in sets {
                println!(
                    "set {} {} ({}): snapshot {:?} of {}, {} discs of {}: {} burnt, {} verified{}",
                    s.set.0,
                    s.label,
                    s.plan_id,
                    s.snapshot,
                    utc_text(s.snapshot_time),
                    s.discs,
                    s.medium,
                    s.burnt,
                    s.verified,
                    if s.complete() { " (complete)" } else { "" }
                );
            }
        }
        CatalogCommand::History { set } => {
            let history = catalog.set_history(burnstation::catalog::SetId(set))?;
            println!("set {} {}", set, history.summary.label);
            for disc in history.discs {
                println!("disc {} ({}):", disc.number, disc.volume_id);
                for b in disc.burns {
                    println!(
                        "  burn {} on {} ({}): {}{}",
                        utc_text(b.started_at),
                        b.drive,
                        b.medium,
                        b.result,
                        b.detail.map(|d| format!(": {d}")).unwrap_or_default()
                    );
                }
                for v in disc.verifications {
                    println!("  verified {}: {}: {}", utc_text(v.at), v.result, v.summary);
                }
            }
        }
    }
    Ok(())
}

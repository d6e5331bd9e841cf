//! `burnstation drives`: the optical drives this machine has (or the one `--device` names),
//! who they are, and what they can write.

use anyhow::Result;
use burnstation::device::AnyDrive;
use burnstation_hal::discovery::{self, DriveCapabilities, DriveEntry};

use super::device::DeviceArg;

/// Arguments of `burnstation drives`.
#[derive(Debug, clap::Args)]
pub struct DrivesArgs {
    #[command(flatten)]
    pub device: DeviceArg,
}

/// One row of the table.
struct Row {
    device: String,
    generic: String,
    bus: String,
    vendor: String,
    model: String,
    revision: String,
    writes: String,
}

/// Prints the table of drives.
pub fn run(args: DrivesArgs) -> Result<()> {
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    if let Some(spec) = &args.device.device {
        let mut drive = args.device.open()?;
        // A real drive is placed by discovery too, for its sg node and bus; a software
        // drive (or one sysfs cannot place) is listed without them.
        let entry = (!spec.starts_with("sim:"))
            .then(|| discovery::find_drive(std::path::Path::new(spec)).ok())
            .flatten();
        if let Some(warning) = entry.as_ref().and_then(DriveEntry::link_warning) {
            warnings.push(format!("{spec}: {warning}"));
        }
        rows.push(identified_row(&mut drive, entry.as_ref())?);
    } else {
        let drives = discovery::list_drives()?;
        if drives.is_empty() {
            println!("no optical drives found (connect the burner and give it a few seconds)");
            return Ok(());
        }
        for entry in drives {
            if let Some(warning) = entry.link_warning() {
                warnings.push(format!("{}: {warning}", entry.device_node.display()));
            }
            rows.push(row_for(&entry));
        }
    }
    print_table(&rows);
    for warning in warnings {
        println!("warning: {warning}");
    }
    Ok(())
}

/// A row from what discovery found, asking the drive itself for what it writes when it
/// can be opened (it may be busy or not ours to open).
fn row_for(entry: &DriveEntry) -> Row {
    let spec = entry.device_node.display().to_string();
    match burnstation::device::open(Some(&spec))
        .map_err(anyhow::Error::from)
        .and_then(|mut d| identified_row(&mut d, Some(entry)))
    {
        Ok(row) => row,
        Err(e) => {
            tracing::info!(device = %spec, error = %e, "could not ask the drive itself");
            Row {
                device: spec,
                generic: generic(entry),
                bus: entry.bus.to_string(),
                vendor: entry.vendor.clone(),
                model: entry.model.clone(),
                revision: entry.revision.clone(),
                writes: match &entry.capabilities {
                    DriveCapabilities::Known(formats) => formats.to_string(),
                    DriveCapabilities::Unknown => "unknown (cannot open the drive)".to_string(),
                },
            }
        }
    }
}

fn generic(entry: &DriveEntry) -> String {
    entry
        .generic_node
        .as_ref()
        .map_or("-".to_string(), |p| p.display().to_string())
}

fn identified_row(drive: &mut AnyDrive, entry: Option<&DriveEntry>) -> Result<Row> {
    let info = drive.identify()?;
    let writes: Vec<&str> = info
        .writable_profiles
        .iter()
        .filter_map(|p| p.token())
        .collect();
    Ok(Row {
        device: drive.name().to_string(),
        generic: entry.map_or("-".to_string(), generic),
        bus: entry.map_or("-".to_string(), |e| e.bus.to_string()),
        vendor: info.vendor,
        model: info.product,
        revision: info.revision,
        writes: if writes.is_empty() {
            "nothing".to_string()
        } else {
            writes.join(" ")
        },
    })
}

fn print_table(rows: &[Row]) {
    let header = Row {
        device: "DEVICE".into(),
        generic: "GENERIC".into(),
        bus: "BUS".into(),
        vendor: "VENDOR".into(),
        model: "MODEL".into(),
        revision: "REV".into(),
        writes: "WRITES".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let (wd, wg, wb, wv, wm, wr) = (
        width(|r| &r.device),
        width(|r| &r.generic),
        width(|r| &r.bus),
        width(|r| &r.vendor),
        width(|r| &r.model),
        width(|r| &r.revision),
    );
    for r in all {
        println!(
            "{:wd$}  {:wg$}  {:wb$}  {:wv$}  {:wm$}  {:wr$}  {}",
            r.device, r.generic, r.bus, r.vendor, r.model, r.revision, r.writes
        );
    }
}

//! `burnstation media`: everything the drive knows about the disc in it.

use std::time::Duration;

use anyhow::Result;
use burnstation_hal::interrupted_burn;
use burnstation_images::iso9660::BLOCK;

use super::device::DeviceArg;

/// Arguments of `burnstation media`.
#[derive(Debug, clap::Args)]
pub struct MediaArgs {
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Prints the medium's facts, one `key: value` per line.
pub fn run(args: MediaArgs) -> Result<()> {
    let mut drive = args.device.open()?;
    drive.wait_until_ready(Duration::from_secs(60))?;
    let media = drive.media()?;
    let family = media.profile.family();
    let mb = |blocks: u64| blocks * BLOCK / 1_000_000;
    println!("device:           {}", drive.name());
    println!(
        "medium:           {} (profile {:04X}h)",
        media.profile,
        media.profile.number()
    );
    println!("status:           {}", media.status);
    println!("last session:     {}", media.last_session);
    println!(
        "erasable:         {}",
        if media.erasable { "yes" } else { "no" }
    );
    if let Some(format) = media.format {
        println!("format:           {format:?}");
    }
    println!("sessions:         {}", media.sessions);
    println!("tracks:           {}", media.tracks);
    match media.next_writable {
        Some(nwa) => println!("next writable:    block {nwa}"),
        None => println!("next writable:    -"),
    }
    println!(
        "free:             {} blocks ({} MB)",
        media.free_blocks,
        mb(media.free_blocks as u64)
    );
    println!(
        "capacity:         {} blocks ({} MB)",
        media.capacity_blocks,
        mb(media.capacity_blocks)
    );
    println!(
        "readable:         {} blocks ({} MB)",
        media.readable_blocks,
        mb(media.readable_blocks)
    );
    let speeds: Vec<String> = media
        .write_speeds
        .iter()
        .map(|s| match family {
            Some(f) => format!("{:.1}x ({} kB/s)", s.times(f), s.kbytes_per_sec),
            None => format!("{} kB/s", s.kbytes_per_sec),
        })
        .collect();
    println!(
        "write speeds:     {}",
        if speeds.is_empty() {
            "-".to_string()
        } else {
            speeds.join(", ")
        }
    );
    println!(
        "disc changes:     {}",
        if media.media_events {
            "reported by the drive (GET EVENT STATUS NOTIFICATION)"
        } else {
            "noticed by polling (the drive does not report them)"
        }
    );
    for fallback in &media.fallbacks {
        println!("fallback:         {fallback}");
    }
    if let Some(interrupted) = interrupted_burn(&media) {
        println!("interrupted:      {interrupted}");
    }
    Ok(())
}

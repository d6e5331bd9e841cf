//! `burnstation image SRC_DIR -o OUT.iso`: the disc image of a directory, written to a file
//! (or `/dev/null` to time and hash it), exactly as it would stream onto a disc.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnstation_images::digest::{for_each_chunk, hex};
use burnstation_images::iso9660::{
    BLOCK, ImageDigest, ImageOptions, ImageStream, Layout, scan_tree,
};

use super::unix_now;

/// Why writing the image stopped.
enum Stopped {
    Stream(io::Error),
    Output(io::Error),
}

impl From<io::Error> for Stopped {
    fn from(e: io::Error) -> Stopped {
        Stopped::Stream(e)
    }
}

/// Arguments of `burnstation image`.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The directory to put on the disc.
    pub src_dir: PathBuf,
    /// Where to write the image.
    #[arg(short, long, value_name = "OUT.iso")]
    pub output: PathBuf,
    /// The disc label.
    #[arg(long, value_name = "ID", default_value = "BACKUP")]
    pub volume_id: String,
    /// The volume's creation time, Unix seconds (default: now). Fix it to get identical
    /// images from identical trees.
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    pub volume_time: Option<i64>,
    /// Leave out the SHA256SUMS manifest at the disc's root.
    #[arg(long)]
    pub no_manifest: bool,
}

/// Plans, streams and writes the image, then prints its size and SHA-256.
pub fn run(args: ImageArgs) -> Result<()> {
    let volume_time = args.volume_time.unwrap_or_else(unix_now);
    // The library's errors already say what happened, to which entry, and what to do.
    let entries = scan_tree(&args.src_dir)?;
    let options = ImageOptions {
        volume_id: args.volume_id,
        volume_time,
        manifest: !args.no_manifest,
        ..ImageOptions::default()
    };
    let layout = Layout::plan(entries, &options)?;
    let total = layout.total_bytes();
    let digest = write_image(ImageStream::new(layout, args.src_dir.clone()), &args.output)?;
    println!(
        "{}: {} bytes ({} blocks of {BLOCK})",
        args.output.display(),
        total,
        total / BLOCK
    );
    println!("sha256 {}", hex(&digest.image_sha256));
    Ok(())
}

/// Streams a whole image into the file `path`, returning its digest.
pub fn write_image(mut stream: ImageStream, path: &Path) -> Result<ImageDigest> {
    let mut out = File::create(path).with_context(|| {
        format!(
            "cannot create {}; check that its directory exists and is writable",
            path.display()
        )
    })?;
    let copied = for_each_chunk(&mut stream, |chunk| {
        out.write_all(chunk).map_err(Stopped::Output)
    });
    match copied {
        Ok(_) => {}
        Err(Stopped::Stream(e)) => {
            return Err(anyhow::Error::new(e).context("the image stream stopped"));
        }
        Err(Stopped::Output(e)) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot write {}; check the free space",
                path.display()
            )));
        }
    }
    out.flush()?;
    stream.finish().context("the image stream stopped")
}

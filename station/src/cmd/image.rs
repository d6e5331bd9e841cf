//! `burnstation image SRC_DIR -o OUT.iso`: the disc image of a directory, written to a file
//! (or `/dev/null` to time and hash it, or `/dev/stdout`), exactly as it would stream onto a
//! disc. The output is guarded by [`super::output`]: never inside the tree, never left
//! half-written.

use std::io;
use std::path::PathBuf;

use anyhow::{Context, Result};
use burnstation_images::digest::{for_each_chunk, hex};
use burnstation_images::iso9660::{
    BLOCK, ImageDigest, ImageOptions, ImageStream, Layout, scan_tree,
};

use burnstation_hal::Cancel;

use super::interrupt::cancel_on_signals;
use super::output::Output;
use super::unix_now;

/// Why writing the image stopped.
enum Stopped {
    Stream(io::Error),
    Output(io::Error),
    Cancelled,
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
    /// Where to write the image (outside SRC_DIR). A file is written under a temporary
    /// name and renamed at the end, so a failed run leaves none.
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

/// Plans, streams and writes the image, then prints its size and SHA-256 (to stderr when
/// the image itself goes to stdout).
pub fn run(args: ImageArgs) -> Result<()> {
    // Before anything is opened for writing, and before a long scan.
    let output = Output::check(&args.output, &args.src_dir)?;
    let volume_time = args.volume_time.unwrap_or_else(unix_now);
    // The library's errors already say what happened, to which entry, and what to do.
    let entries = scan_tree(&args.src_dir)?;
    output.check_entries(&args.src_dir, &entries)?;
    let options = ImageOptions {
        volume_id: args.volume_id,
        volume_time,
        manifest: !args.no_manifest,
        ..ImageOptions::default()
    };
    let layout = Layout::plan(entries, &options)?;
    for warning in layout.warnings() {
        eprintln!("warning: {warning}");
    }
    let total = layout.total_bytes();
    let cancel = cancel_on_signals();
    let digest = write_image(
        ImageStream::new(layout, args.src_dir.clone()),
        &output,
        &cancel,
    )?;
    let summary = format!(
        "{}: {} bytes ({} blocks of {BLOCK})\nsha256 {}",
        args.output.display(),
        total,
        total / BLOCK,
        hex(&digest.image_sha256)
    );
    if output.is_stdout() {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    Ok(())
}

/// Streams a whole image into `output` (written under a temporary name and renamed at the
/// end, so a failure or a stop leaves no partial file), returning its digest.
pub fn write_image(
    mut stream: ImageStream,
    output: &Output,
    cancel: &Cancel,
) -> Result<ImageDigest> {
    let shown = output.given().display();
    let mut out = output.create()?;
    let written = for_each_chunk(&mut stream, |chunk| {
        if cancel.is_cancelled() {
            return Err(Stopped::Cancelled);
        }
        out.write_all(chunk).map_err(Stopped::Output)
    })
    .map_err(|stopped| match stopped {
        Stopped::Cancelled => anyhow::anyhow!("the image was stopped before its end"),
        Stopped::Stream(e) => anyhow::Error::new(e).context("the image stream stopped"),
        Stopped::Output(e) => {
            anyhow::Error::new(e).context(format!("cannot write {shown}; check the free space"))
        }
    })
    .and_then(|_| {
        stream
            .finish()
            .map_err(|e| anyhow::Error::new(e).context("the image stream stopped"))
    });
    let digest = match written {
        Ok(digest) => digest,
        Err(e) if out.is_temporary() => {
            // Dropping it removes the partial file.
            drop(out);
            return Err(e.context(format!("no image was left at {shown}")));
        }
        Err(e) => return Err(e),
    };
    out.commit()
        .with_context(|| format!("cannot write {shown}; check the free space"))?;
    Ok(digest)
}

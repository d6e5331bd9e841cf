//! `burnstation ls IMAGE`: an `ls -l`-like listing of a disc image's Rock Ridge tree (or its
//! Joliet or plain ISO 9660 tree when it has no Rock Ridge).

use std::fs::File;
use std::io::{BufReader, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burnstation_images::iso9660::entry::special_kind;
use burnstation_images::iso9660::records::utc_text;
use burnstation_images::iso9660::{IsoEntryKind, IsoImage};

/// Arguments of `burnstation ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// The image file (or a readable disc device).
    pub image: PathBuf,
}

/// `drwxr-xr-x`-style text of a full `st_mode`.
fn mode_text(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        _ => '-',
    };
    let mut text = String::with_capacity(10);
    text.push(kind);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (index, (bit, ch)) in bits.into_iter().enumerate() {
        let set = mode & bit != 0;
        let special = match index {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        text.push(match (special, set, index) {
            (true, true, 8) => 't',
            (true, false, 8) => 'T',
            (true, true, _) => 's',
            (true, false, _) => 'S',
            (false, true, _) => ch,
            (false, false, _) => '-',
        });
    }
    text
}

/// Prints one line per entry: mode, links, owner, size, mtime (UTC), path, `-> target`.
pub fn run(args: LsArgs) -> Result<()> {
    // Opening a FIFO would wait for a writer for ever, and a directory or a character
    // device holds no image: refuse them before opening anything.
    let meta = std::fs::metadata(&args.image)
        .with_context(|| format!("cannot open {}; check the path", args.image.display()))?;
    let kind = meta.file_type();
    if !(kind.is_file() || kind.is_block_device()) {
        bail!(
            "{} is not an image file or a disc device (it is a {}): give the .iso file, or the disc's device such as /dev/sr0",
            args.image.display(),
            if kind.is_dir() {
                "directory"
            } else {
                special_kind(&kind)
            }
        );
    }
    let file = File::open(&args.image)
        .with_context(|| format!("cannot open {}; check the path", args.image.display()))?;
    let image = IsoImage::open(BufReader::with_capacity(64 * 1024, file))
        .with_context(|| format!("cannot read {} as a disc image", args.image.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for entry in image.entries() {
        let mut line = format!(
            "{} {:>3} {:>5} {:>5} {:>12} {} ",
            mode_text(entry.mode),
            entry.nlink,
            entry.uid,
            entry.gid,
            entry.size,
            utc_text(entry.mtime)
        )
        .into_bytes();
        line.extend_from_slice(&entry.path);
        if let IsoEntryKind::Symlink { target } = &entry.kind {
            line.extend_from_slice(b" -> ");
            line.extend_from_slice(target);
        }
        line.push(b'\n');
        if let Err(e) = out.write_all(&line) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_like_ls() {
        assert_eq!(mode_text(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_text(0o041777), "drwxrwxrwt");
        assert_eq!(mode_text(0o100000), "----------");
        assert_eq!(mode_text(0o120777), "lrwxrwxrwx");
        assert_eq!(utc_text(-315_619_200), "1960-01-01 00:00:00");
    }
}

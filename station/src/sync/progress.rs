//! Reading rsync's `--info=progress2` output: one line for the whole transfer, rewritten in
//! place with `\r` a few times a second:
//!
//! ```text
//!       1,048,576  34%  988.42kB/s    0:00:01
//!       3,000,006  99%    1.02MB/s    0:00:02 (xfr#2, to-chk=0/5)
//! ```
//!
//! bytes so far, percent of all bytes, the rate (rsync's units are powers of 1024 written
//! kB/MB/GB), the time left (the time taken, once everything is checked), and after a file
//! completes, how many files are transferred and how many are left to check. Anything else
//! rsync prints on stdout is not progress and is skipped.

use std::time::Duration;

/// One progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RsyncProgress {
    /// Bytes done (transferred or found unchanged).
    pub bytes: u64,
    /// Percent of all bytes, 0 to 100.
    pub percent: u8,
    /// rsync's current rate.
    pub bytes_per_second: Option<f64>,
    /// The time left, when rsync still counts down.
    pub remaining: Option<Duration>,
    /// `to-chk=LEFT/ALL`: files still to check, and all files.
    pub files_to_check: Option<(u64, u64)>,
}

impl RsyncProgress {
    /// All bytes, estimated from the percentage (rsync prints no total).
    pub fn total_estimate(&self) -> Option<u64> {
        if self.files_to_check.is_some_and(|(left, _)| left == 0) || self.percent >= 100 {
            return Some(self.bytes);
        }
        (self.percent > 0)
            .then(|| (self.bytes.saturating_mul(100) / u64::from(self.percent)).max(self.bytes))
    }

    /// The time left, as far as it can be told.
    pub fn eta(&self) -> Option<Duration> {
        // Once every file is checked, rsync's time column is the time taken, not the time left.
        if self.files_to_check.is_some_and(|(left, _)| left == 0) {
            return Some(Duration::ZERO);
        }
        self.remaining
    }
}

/// Parses one line, or `None` when it is not a progress line.
pub fn parse_line(line: &str) -> Option<RsyncProgress> {
    let mut words = line.split_whitespace();
    let bytes = words.next()?.replace(',', "").parse::<u64>().ok()?;
    let percent = words.next()?.strip_suffix('%')?.parse::<u8>().ok()?;
    let bytes_per_second = words.next().and_then(parse_rate);
    let remaining = words.next().and_then(parse_clock);
    let rest: String = words.collect::<Vec<_>>().join(" ");
    let files_to_check = rest
        .split_once("to-chk=")
        .and_then(|(_, after)| after.trim_end_matches(')').split_once('/'))
        .and_then(|(left, all)| Some((left.parse().ok()?, all.parse().ok()?)));
    Some(RsyncProgress {
        bytes,
        percent: percent.min(100),
        bytes_per_second,
        remaining,
        files_to_check,
    })
}

fn parse_rate(word: &str) -> Option<f64> {
    let number_end = word.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
    let (number, unit) = word.split_at(number_end);
    let scale = match unit {
        "B/s" => 1.0,
        "kB/s" => 1024.0,
        "MB/s" => 1024.0 * 1024.0,
        "GB/s" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(number.replace(',', "").parse::<f64>().ok()? * scale)
}

fn parse_clock(word: &str) -> Option<Duration> {
    let mut seconds = 0u64;
    for part in word.split(':') {
        seconds = seconds.checked_mul(60)? + part.parse::<u64>().ok()?;
    }
    Some(Duration::from_secs(seconds))
}

/// What `--stats` says at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RsyncStats {
    /// Entries in the tree (files, directories, links).
    pub files: u64,
    /// Regular files that were transferred (new or changed).
    pub files_transferred: u64,
    /// Bytes in the tree's regular files.
    pub tree_bytes: u64,
    /// Bytes of the files that were transferred.
    pub transferred_bytes: u64,
}

impl RsyncStats {
    /// Takes in one line of rsync's output; returns whether it was a statistics line.
    ///
    /// ```text
    /// Number of files: 5 (reg: 2, dir: 2, link: 1)
    /// Number of regular files transferred: 2
    /// Total file size: 3000009 bytes
    /// Total transferred file size: 3000006 bytes
    /// ```
    pub fn read_line(&mut self, line: &str) -> bool {
        let Some((name, value)) = line.split_once(": ") else {
            return false;
        };
        let first_number = || {
            value
                .split_whitespace()
                .next()
                .and_then(|n| n.replace(',', "").parse::<u64>().ok())
        };
        let field = match name.trim() {
            "Number of files" => &mut self.files,
            "Number of regular files transferred" => &mut self.files_transferred,
            "Total file size" => &mut self.tree_bytes,
            "Total transferred file size" => &mut self.transferred_bytes,
            _ => return false,
        };
        match first_number() {
            Some(number) => {
                *field = number;
                true
            }
            None => false,
        }
    }
}

/// Splits a byte stream into lines at `\r` or `\n`, keeping an unfinished line for later.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

/// A line longer than this is not progress; it is cut so memory stays bounded.
const LONGEST_LINE: usize = 4096;

impl LineSplitter {
    /// The lines completed by `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\r' || byte == b'\n' {
                if !self.partial.is_empty() {
                    lines.push(String::from_utf8_lossy(&self.partial).into_owned());
                    self.partial.clear();
                }
            } else if self.partial.len() < LONGEST_LINE {
                self.partial.push(byte);
            }
        }
        lines
    }

    /// The last, unterminated line, if any.
    pub fn finish(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_as_rsync_writes_them() {
        let first = parse_line("              0   0%    0.00kB/s    0:00:00  ").unwrap();
        assert_eq!((first.bytes, first.percent), (0, 0));
        assert_eq!(first.total_estimate(), None);

        let middle = parse_line("        1048576  34%  988.42kB/s    0:00:01  ").unwrap();
        assert_eq!(middle.bytes, 1_048_576);
        assert_eq!(middle.percent, 34);
        assert_eq!(middle.bytes_per_second, Some(988.42 * 1024.0));
        assert_eq!(middle.eta(), Some(Duration::from_secs(1)));
        assert_eq!(middle.total_estimate(), Some(1_048_576 * 100 / 34));

        let last =
            parse_line("      3,000,006  99%    1.02MB/s    0:00:02 (xfr#2, to-chk=0/5)").unwrap();
        assert_eq!(last.bytes, 3_000_006);
        assert_eq!(last.files_to_check, Some((0, 5)));
        assert_eq!(last.total_estimate(), Some(3_000_006));
        assert_eq!(last.eta(), Some(Duration::ZERO));

        let long = parse_line("  12,345,678,901  50%   12.00MB/s    1:02:03 (xfr#7, to-chk=10/20)")
            .unwrap();
        assert_eq!(long.remaining, Some(Duration::from_secs(3723)));
        assert_eq!(long.files_to_check, Some((10, 20)));
    }

    #[test]
    fn other_lines_are_not_progress() {
        for line in [
            "",
            "receiving incremental file list",
            "sent 1,234 bytes  received 5,678 bytes  1,000.00 bytes/sec",
            "total size is 3,000,009  speedup is 1.00",
            "rsync: [sender] change_dir \"/x\" failed: No such file or directory (2)",
        ] {
            assert_eq!(parse_line(line), None, "{line}");
        }
    }

    #[test]
    fn statistics_are_read_from_the_end_of_a_run() {
        let output = "Number of files: 5 (reg: 2, dir: 2, link: 1)\n\
                      Number of created files: 5 (reg: 2, dir: 2, link: 1)\n\
                      Number of regular files transferred: 2\n\
                      Total file size: 3000009 bytes\n\
                      Total transferred file size: 3,000,006 bytes\n\
                      Literal data: 3000006 bytes\n";
        let mut stats = RsyncStats::default();
        let read: Vec<bool> = output.lines().map(|l| stats.read_line(l)).collect();
        assert_eq!(read, [true, false, true, true, true, false]);
        assert_eq!(
            stats,
            RsyncStats {
                files: 5,
                files_transferred: 2,
                tree_bytes: 3_000_009,
                transferred_bytes: 3_000_006,
            }
        );
    }

    #[test]
    fn output_splits_at_carriage_returns_and_newlines_across_reads() {
        let mut splitter = LineSplitter::default();
        assert_eq!(splitter.push(b"\r   0  0%"), Vec::<String>::new());
        assert_eq!(
            splitter.push(b" 0.00kB/s\r  10 50%\r"),
            vec!["   0  0% 0.00kB/s", "  10 50%"]
        );
        assert_eq!(splitter.push(b"  20 100%\n\nend"), vec!["  20 100%"]);
        assert_eq!(splitter.finish().as_deref(), Some("end"));
        assert_eq!(splitter.finish(), None);
    }
}

//! What the `burnstation` command-line tests share: running the built binary, the exit
//! statuses of `--help`, and a scratch scene with a tree to burn and a SimDrive disc.
// Each test binary uses a part of this.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};

use burnstation_images::iso9660::IsoImage;

/// The built `burnstation`, ready for arguments.
pub fn burnstation_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burnstation"))
}

pub fn burnstation(args: &[&str]) -> Output {
    burnstation_command()
        .args(args)
        .output()
        .expect("run burnstation")
}

/// The exit statuses of `burnstation --help`.
pub const OK: i32 = 0;
pub const DAMAGED: i32 = 1;
pub const ERROR: i32 = 2;
pub const INTERRUPTED: i32 = 130;
pub const TERMINATED: i32 = 143;

/// Fails the test unless `output` ended with `code`.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// Fails the test unless `output` ended with `code` and its stderr holds each of `said`.
#[track_caller]
pub fn assert_says(output: &Output, code: i32, said: &[&str]) {
    assert_exit(output, code);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for words in said {
        assert!(
            stderr.contains(words),
            "{words:?} not said:\n{}",
            text(output)
        );
    }
}

/// Fails the test unless `output`'s stdout holds each of `printed`.
#[track_caller]
pub fn assert_prints(output: &Output, printed: &[&str]) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    for words in printed {
        assert!(
            stdout.contains(words),
            "{words:?} not printed:\n{}",
            text(output)
        );
    }
}

pub use burnstation_tests::tools::describe_output as text;

/// A scratch directory with a tree to burn and a disc file path.
pub struct Scene {
    pub dir: tempfile::TempDir,
}

impl Scene {
    pub fn new() -> Scene {
        Scene {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A plain tree of a few hundred KB.
    pub fn small_tree(&self) -> PathBuf {
        let root = self.path("tree");
        fs::create_dir_all(root.join("db")).unwrap();
        for i in 0..20u32 {
            let body: Vec<u8> = (0..(i * 5003 + 17)).map(|b| (b * 31 + i) as u8).collect();
            fs::write(root.join(format!("db/part-{i:02}.bin")), body).unwrap();
        }
        fs::write(root.join("notes.txt"), "restore with care\n").unwrap();
        root
    }

    /// A tree of about 8 MB: more than SimDrive's 2 MiB buffer, so a paced burn has burnt
    /// part of it before any fault strikes.
    pub fn big_tree(&self) -> PathBuf {
        let root = self.small_tree();
        let body: Vec<u8> = (0..8_000_000u32)
            .map(|b| (b.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        fs::write(root.join("db/big.bin"), body).unwrap();
        root
    }

    /// The small tree, burnt onto a new disc with `options`.
    pub fn burnt_small_tree(&self, options: &str) -> PathBuf {
        let tree = self.small_tree();
        let out = burnstation(&[
            "burn",
            tree.to_str().unwrap(),
            "--device",
            &self.disc(options),
        ]);
        assert_exit(&out, OK);
        tree
    }

    pub fn disc(&self, options: &str) -> String {
        let disc = self.path("disc.img");
        format!(
            "sim:{}{}{}",
            disc.display(),
            if options.is_empty() { "" } else { "?" },
            options
        )
    }
}

/// The first block of `path` on the disc image `disc`, from our reader.
pub fn block_of(disc: &Path, path: &str) -> u64 {
    let iso = IsoImage::open(fs::File::open(disc).unwrap()).unwrap();
    iso.entry(path.as_bytes()).unwrap().extents[0].lba
}

/// A `burnstation` started with `args`, once its stderr has said `until`: a burn that has
/// begun writing, for faults and signals to strike. Returns the child, the rest of its
/// stderr, and what it said so far.
pub fn started_until(args: &[&str], until: &str) -> (Child, BufReader<ChildStderr>, String) {
    let mut child = burnstation_command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run burnstation");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut seen = String::new();
    read_until(&mut stderr, &mut seen, |seen| seen.contains(until));
    (child, stderr, seen)
}

/// Reads lines of `stderr` into `seen` until `done(seen)`.
pub fn read_until(
    stderr: &mut BufReader<ChildStderr>,
    seen: &mut String,
    done: impl Fn(&str) -> bool,
) {
    while !done(seen) {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("read stderr");
        seen.push_str(&line);
        assert!(
            read > 0,
            "burnstation ended before it said what was awaited:\n{seen}"
        );
    }
}

/// Sends `signal` to `child`.
pub fn send(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not yet reaped.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "could not send signal {signal}");
}

/// Waits for `child` and reads the rest of its stderr into `seen`; its exit code.
pub fn finish(
    mut child: Child,
    mut stderr: BufReader<ChildStderr>,
    seen: &mut String,
) -> Option<i32> {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read stderr");
    seen.push_str(&rest);
    child.wait().expect("wait for burnstation").code()
}

/// The volume time of [`image_of`]'s images: a burn given it makes the same image.
pub const VOLUME_TIME: &str = "1700000000";

/// The image of `tree` made by `burnstation image` at [`VOLUME_TIME`].
pub fn image_of(tree: &Path, out: &Path) {
    let made = burnstation(&[
        "image",
        tree.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--volume-time",
        VOLUME_TIME,
    ]);
    assert_exit(&made, OK);
}

/// The bytes of the file at `path`, zero-padded or cut to `len`.
pub fn bytes_of(path: &Path, len: usize) -> Vec<u8> {
    let mut bytes = fs::read(path).unwrap_or_default();
    bytes.resize(len, 0);
    bytes
}

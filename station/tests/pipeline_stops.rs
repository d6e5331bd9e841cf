//! The burn-one-disc pipeline stopped at each stage it can be stopped in, in process: what
//! it reports must be where the disc stands. (Signals through the command line are
//! `cli_signals.rs`'s; a read-back cannot be caught by a signal from outside, since a
//! software drive reads at once.)

use std::fs;

use burnstation::pipeline::{self, PipelineError, PipelineEvent, PipelineOptions, Source};
use burnstation_hal::{Cancel, Drive, SimDrive};

fn tree(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("tree");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("a.bin"), vec![5u8; 300_000]).unwrap();
    root
}

/// Burns a small tree onto a new DVD+R, raising the cancel flag at the first event `at`
/// matches; the error the pipeline ends with, and the drive.
fn stopped_at(
    dir: &std::path::Path,
    at: fn(&PipelineEvent) -> bool,
) -> (PipelineError, Drive<SimDrive>) {
    let root = tree(dir);
    let spec = format!("sim:{}?profile=dvd+r", dir.join("disc.img").display());
    let mut drive = Drive::new(SimDrive::open_spec(&spec).unwrap());
    let cancel = Cancel::new();
    let raise = cancel.clone();
    let err = pipeline::burn_and_verify(
        &mut drive,
        &Source::Tree(root),
        &PipelineOptions::default(),
        &mut |event| {
            if at(&event) {
                raise.cancel();
            }
        },
        &cancel,
    )
    .unwrap_err();
    (err, drive)
}

#[test]
fn a_stop_during_the_read_back_says_the_disc_was_burnt_but_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (err, _) = stopped_at(dir.path(), |e| matches!(e, PipelineEvent::Verifying { .. }));
    assert!(
        matches!(
            err,
            PipelineError::ReadBackStopped {
                finalized: true,
                ..
            }
        ),
        "{err}"
    );
    let said = err.to_string();
    assert!(
        said.contains("the disc was burnt and finalized, but reading it back stopped")
            && said.contains("burnstation verify"),
        "{said}"
    );
}

#[test]
fn a_stop_before_the_first_write_leaves_a_blank_disc_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (err, mut drive) = stopped_at(dir.path(), |e| matches!(e, PipelineEvent::Planned { .. }));
    assert!(
        err.to_string().contains("nothing was written to the disc"),
        "{err}"
    );
    let media = drive.media().unwrap();
    assert!(media.is_blank(), "{media:?}");
}

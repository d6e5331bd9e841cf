//! The medium file is a disc image other tools read: an ISO 9660 image burnt onto a
//! SimDrive through raw CDBs comes out of the medium file intact for xorriso, isoinfo,
//! 7-Zip and bsdtar.

use std::fs;
use std::path::Path;
use std::process::Command;

use burnstation_hal::mmc::Profile;
use burnstation_hal::scsi::DataTransfer;

use crate::host::*;

/// Runs a tool, failing the test with what to install when it is missing.
fn tool(program: &str, package: &str, args: &[&str], dir: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test ({e}); install the Debian package {package}")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("docs/deep")).unwrap();
    fs::write(root.join("README.txt"), "Restore with any ISO reader.\n").unwrap();
    fs::write(root.join("docs/notes.md"), "notes\n".repeat(1000)).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    fs::write(root.join("docs/deep/data.bin"), big).unwrap();
}

#[test]
fn a_burnt_iso_reads_back_with_independent_tools() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    make_tree(&tree);
    tool(
        "xorriso",
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-R",
            "-J",
            "-V",
            "SIMTEST",
            "-o",
            "image.iso",
            "tree",
        ],
        dir.path(),
    );
    let mut image = fs::read(dir.path().join("image.iso")).unwrap();
    let image_len = image.len();
    // Pad to whole ECC blocks, as a burner must.
    image.resize(image_len.div_ceil(32 * 1024) * 32 * 1024, 0);

    let medium_dir = dir.path().join("drive");
    fs::create_dir(&medium_dir).unwrap();
    let mut host = Host::open(config(&medium_dir, Profile::DvdPlusR));
    for (i, chunk) in image.chunks(32 * 1024).enumerate() {
        let lba = (i * 16) as u32;
        let c = host.exec(&write10(lba, 16), DataTransfer::ToDevice(chunk));
        assert_eq!(sense_of(&c), None, "WRITE at {lba}");
    }
    host.ok(&synchronize_cache(false));
    host.ok(&close(false, 0b001, 1));
    host.ok(&close(false, 0b101, 0));
    assert_eq!(host.disc_info().status, 2);
    drop(host);

    let medium = medium_dir.join("disc.img");
    let burnt = fs::read(&medium).unwrap();
    assert_eq!(
        &burnt[..image_len],
        &fs::read(dir.path().join("image.iso")).unwrap()[..]
    );

    let listing = tool(
        "isoinfo",
        "genisoimage",
        &["-R", "-f", "-i", "drive/disc.img"],
        dir.path(),
    );
    assert!(listing.contains("/docs/deep/data.bin"), "{listing}");
    let listing = tool("7z", "p7zip-full", &["l", "drive/disc.img"], dir.path());
    assert!(listing.contains("README.txt"), "{listing}");
    let listing = tool(
        "bsdtar",
        "libarchive-tools",
        &["-tf", "drive/disc.img"],
        dir.path(),
    );
    assert!(listing.contains("docs/notes.md"), "{listing}");
    tool(
        "xorriso",
        "xorriso",
        &[
            "-osirrox",
            "on",
            "-indev",
            "drive/disc.img",
            "-extract",
            "/",
            "out",
        ],
        dir.path(),
    );
    for file in ["README.txt", "docs/notes.md", "docs/deep/data.bin"] {
        assert_eq!(
            fs::read(dir.path().join("out").join(file)).unwrap(),
            fs::read(tree.join(file)).unwrap(),
            "{file}"
        );
    }
}

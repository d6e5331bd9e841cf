//! The card image the boards' post-image scripts make (genimage on
//! `buildroot/board/common/genimage.cfg.in`), read back with tools that are not genimage:
//! sfdisk for the partition table, mtools for the FAT boot partition, dumpe2fs and debugfs
//! for the data partition, and a byte comparison for the root filesystem. The inputs are
//! laid out as buildroot leaves them in its images directory; the scripts run in the order
//! the defconfig lists them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use burnstation_tests::card::{self, CardLayout, Partition};
use burnstation_tests::image_tree::{Destination, ImageTree};
use burnstation_tests::tools::{self, DEBUGFS, DUMPE2FS, MDIR, MKSQUASHFS, MTYPE};

const MIB: u64 = 1024 * 1024;

/// An images directory with what buildroot leaves there for every board: the files the
/// package installs into it, and a root filesystem.
fn images_dir(tree: &ImageTree, dir: &Path) -> (PathBuf, Vec<u8>) {
    let binaries = dir.join("images");
    fs::create_dir_all(&binaries).unwrap();
    for install in tree.package_installs().unwrap() {
        if install.into == Destination::Images {
            card::place(&install.source, &binaries.join(&install.dest)).unwrap();
        }
    }
    let root = dir.join("root");
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::write(root.join("usr/bin/hello"), b"a root filesystem\n").unwrap();
    let squashfs = binaries.join("rootfs.squashfs");
    let mut mksquashfs = MKSQUASHFS.command().unwrap_or_else(|err| panic!("{err}"));
    mksquashfs
        .arg(&root)
        .arg(&squashfs)
        .args(["-all-root", "-noappend", "-quiet"]);
    tools::run(&mut mksquashfs).unwrap_or_else(|err| panic!("{err}"));
    let bytes = fs::read(&squashfs).unwrap();
    (binaries, bytes)
}

fn make(tree: &ImageTree, defconfig: &str, binaries: &Path, dir: &Path) -> PathBuf {
    let build = dir.join("build");
    fs::create_dir_all(&build).unwrap();
    let scripts = tree.post_image_scripts(defconfig).unwrap();
    card::make_card(&scripts, binaries, &build).unwrap_or_else(|err| panic!("{err}"))
}

/// A file of a FAT image, read by mtools.
fn fat_file(image: &Path, name: &str) -> Vec<u8> {
    let mut mtype = MTYPE.command().unwrap_or_else(|err| panic!("{err}"));
    mtype
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(image)
        .arg(format!("::{name}"));
    tools::run(&mut mtype)
        .unwrap_or_else(|err| panic!("{err}"))
        .stdout
}

fn part(card: &Path, partition: &Partition, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    card::extract(card, partition, &out).unwrap_or_else(|err| panic!("{err}"));
    out
}

/// Checks what every board's card has in common; returns the boot partition's image.
fn check_common_layout(card: &Path, rootfs: &[u8], dir: &Path) -> PathBuf {
    let tree = ImageTree::of_this_workspace();
    let layout = CardLayout::read(card).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(layout.label, "dos", "{layout:?}");
    assert_eq!(layout.id, "0x6275726e", "the PARTUUIDs derive from it");
    let kinds: Vec<(&str, bool)> = layout
        .partitions
        .iter()
        .map(|p| (p.kind.as_str(), p.bootable))
        .collect();
    assert_eq!(kinds, [("c", true), ("83", false), ("83", false)]);
    for partition in &layout.partitions {
        assert_eq!(
            partition.start % (4 * MIB),
            0,
            "{partition:?} is not aligned"
        );
    }
    let [boot, root, data] = &layout.partitions[..] else {
        unreachable!()
    };
    assert_eq!(boot.size, 64 * MIB);
    assert_eq!(
        data.size,
        64 * MIB,
        "the data partition starts small and grows"
    );
    assert!(
        data.start > root.start,
        "the data partition is last, so that it can grow"
    );

    let boot_image = part(card, boot, dir, "boot.vfat");
    let settings = fs::read(tree.workspace().join("station/burnstation.toml")).unwrap();
    assert_eq!(fat_file(&boot_image, "burnstation.toml"), settings);

    let root_image = fs::read(part(card, root, dir, "root.img")).unwrap();
    assert_eq!(
        &root_image[..rootfs.len()],
        rootfs,
        "the root partition is rootfs.squashfs"
    );

    let data_image = part(card, data, dir, "data.ext4");
    let mut dumpe2fs = DUMPE2FS.command().unwrap_or_else(|err| panic!("{err}"));
    dumpe2fs.arg("-h").arg(&data_image);
    let superblock = String::from_utf8_lossy(
        &tools::run(&mut dumpe2fs)
            .unwrap_or_else(|err| panic!("{err}"))
            .stdout,
    )
    .into_owned();
    assert!(
        superblock
            .lines()
            .any(|l| l.starts_with("Filesystem volume name:") && l.ends_with(" burndata")),
        "{superblock}"
    );
    for feature in ["has_journal", "extent"] {
        assert!(superblock.contains(feature), "{feature}: {superblock}");
    }
    let mut debugfs = DEBUGFS.command().unwrap_or_else(|err| panic!("{err}"));
    debugfs.args(["-R", "stat /"]).arg(&data_image);
    let root_dir = String::from_utf8_lossy(
        &tools::run(&mut debugfs)
            .unwrap_or_else(|err| panic!("{err}"))
            .stdout,
    )
    .into_owned();
    assert!(
        root_dir.contains("User:     0   Group:     0"),
        "the data partition's root belongs to root: {root_dir}"
    );
    boot_image
}

#[test]
fn the_qemu_card_holds_the_settings_a_squashfs_root_and_a_small_data_partition() {
    let tree = ImageTree::of_this_workspace();
    let dir = tempfile::tempdir().unwrap();
    let (binaries, rootfs) = images_dir(&tree, dir.path());
    let card = make(
        &tree,
        "burnstation_qemu_aarch64_virt_defconfig",
        &binaries,
        dir.path(),
    );
    let boot = check_common_layout(&card, &rootfs, dir.path());
    let mut mdir = MDIR.command().unwrap_or_else(|err| panic!("{err}"));
    mdir.env("MTOOLS_SKIP_CHECK", "1")
        .args(["-b", "-i"])
        .arg(&boot)
        .arg("::");
    let listing = String::from_utf8_lossy(
        &tools::run(&mut mdir)
            .unwrap_or_else(|err| panic!("{err}"))
            .stdout,
    )
    .into_owned();
    assert_eq!(
        listing.trim(),
        "::/burnstation.toml",
        "nothing but the settings"
    );

    let start_qemu = binaries.join("start-qemu.sh");
    let text = fs::read_to_string(&start_qemu).unwrap();
    assert!(text.contains("-kernel Image"), "{text}");
    assert!(text.contains("-device i6300esb"), "the watchdog: {text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        start_qemu.metadata().unwrap().permissions().mode() & 0o777,
        0o755
    );
    let syntax = Command::new("sh")
        .arg("-n")
        .arg(&start_qemu)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{syntax:?}");
}

#[test]
fn the_pi_card_boots_the_firmware_with_the_trees_config_and_the_kernel() {
    let tree = ImageTree::of_this_workspace();
    let dir = tempfile::tempdir().unwrap();
    let (binaries, rootfs) = images_dir(&tree, dir.path());
    // What rpi-firmware and the kernel leave in the images directory (dummy contents).
    let board = tree.external().join("board/raspberrypi");
    let firmware = binaries.join("rpi-firmware");
    card::place(
        &board.join("config_rpi4_64.txt"),
        &firmware.join("config.txt"),
    )
    .unwrap();
    card::place(&board.join("cmdline.txt"), &firmware.join("cmdline.txt")).unwrap();
    let blobs: [(&Path, &[u8]); 5] = [
        (&firmware.join("start4.elf"), b"firmware"),
        (&firmware.join("fixup4.dat"), b"fixup"),
        (&firmware.join("overlays/miniuart-bt.dtbo"), b"overlay"),
        (&binaries.join("bcm2711-rpi-4-b.dtb"), b"device tree"),
        (&binaries.join("Image"), b"the kernel"),
    ];
    for (path, bytes) in blobs {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    let card = make(
        &tree,
        "burnstation_rpi4_64_defconfig",
        &binaries,
        dir.path(),
    );
    let boot = check_common_layout(&card, &rootfs, dir.path());
    assert_eq!(
        fat_file(&boot, "config.txt"),
        fs::read(board.join("config_rpi4_64.txt")).unwrap()
    );
    assert_eq!(
        fat_file(&boot, "cmdline.txt"),
        fs::read(board.join("cmdline.txt")).unwrap()
    );
    for (name, bytes) in [
        ("start4.elf", &b"firmware"[..]),
        ("fixup4.dat", b"fixup"),
        ("overlays/miniuart-bt.dtbo", b"overlay"),
        ("bcm2711-rpi-4-b.dtb", b"device tree"),
        ("Image", b"the kernel"),
    ] {
        assert_eq!(fat_file(&boot, name), bytes, "{name}");
    }
}

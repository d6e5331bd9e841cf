//! The flashable image's BR2_EXTERNAL tree (`buildroot/`) is consistent: every file it
//! names exists, every file it has is used, its scripts are sound shell, the names it uses
//! for the card's partitions agree everywhere, and the boot scripts read the settings file
//! the way the daemon's schema has it. (Loading it into buildroot is
//! `cargo xtask buildroot-check`; building the image needs the network.)

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use burnstation_tests::image_tree::{Destination, ImageTree, entries_under};
use burnstation_tests::tools::{self, SHELLCHECK};

/// The disk signature genimage gives the card; partitions are named by it.
const DISK_SIGNATURE: &str = "6275726e";

fn tree() -> ImageTree {
    ImageTree::of_this_workspace()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every file of a directory, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    entries_under(dir)
        .unwrap_or_else(|err| panic!("{err}"))
        .into_iter()
        .filter(|path| path.is_file())
        .collect()
}

/// The image's root filesystem paths the tree provides, as absolute paths (`/usr/...`), plus
/// the daemon itself, which `cargo install` puts in `/usr/bin`.
fn provided_paths(tree: &ImageTree) -> BTreeSet<String> {
    let mut paths: BTreeSet<String> = tree
        .root_files()
        .unwrap()
        .into_iter()
        .map(|(dest, _)| format!("/{}", dest.display()))
        .collect();
    paths.insert("/usr/bin/burnstation".to_string());
    paths
}

/// The files of the tree that are shell scripts (by their first line).
fn shell_scripts(tree: &ImageTree) -> Vec<PathBuf> {
    files_under(&tree.external())
        .into_iter()
        .filter(|path| {
            fs::read(path).is_ok_and(|bytes| {
                bytes.starts_with(b"#!/bin/sh") || bytes.starts_with(b"#!/bin/bash")
            })
        })
        .collect()
}

#[test]
fn every_file_the_package_installs_exists_and_every_package_file_is_installed() {
    let tree = tree();
    let installs = tree.package_installs().unwrap();
    assert!(installs.len() >= 10, "{installs:#?}");
    for install in &installs {
        assert!(
            install.source.is_file(),
            "burnstation.mk installs {}, which does not exist",
            install.source.display()
        );
        let executable = install.source.metadata().unwrap().permissions();
        let script = fs::read(&install.source).unwrap().starts_with(b"#!");
        assert_eq!(
            install.mode == 0o755,
            script,
            "{} is installed with mode {:o}: scripts 0755, everything else 0644",
            install.source.display(),
            install.mode
        );
        if script {
            use std::os::unix::fs::PermissionsExt;
            assert!(
                executable.mode() & 0o111 != 0,
                "{} is not executable in the repository",
                install.source.display()
            );
        }
    }
    let installed: BTreeSet<PathBuf> = installs.iter().map(|i| i.source.clone()).collect();
    for file in files_under(&tree.package_dir()) {
        let name = file.file_name().unwrap().to_str().unwrap();
        if name == "Config.in" || name == "burnstation.mk" {
            continue;
        }
        assert!(
            installed.contains(&file),
            "{} is in the package directory but burnstation.mk never installs it",
            file.display()
        );
    }
}

#[test]
fn the_boot_partition_gets_the_settings_file_the_daemon_reads_as_the_repository_has_it() {
    let tree = tree();
    let settings = tree.workspace().join("station/burnstation.toml");
    let images: Vec<_> = tree
        .package_installs()
        .unwrap()
        .into_iter()
        .filter(|install| install.into == Destination::Images)
        .collect();
    assert_eq!(images.len(), 1, "{images:#?}");
    assert_eq!(images[0].source, settings);
    assert_eq!(images[0].dest, PathBuf::from("burnstation.toml"));
    let post_image = read(&tree.external().join("board/common/post-image.sh"));
    assert!(
        post_image.contains("boot_files=(burnstation.toml)"),
        "post-image.sh must put burnstation.toml on the boot partition"
    );
    let unit = read(&tree.package_dir().join("burnstation.service"));
    assert!(
        unit.contains("ExecStart=/usr/bin/burnstation run --config /boot/burnstation.toml\n"),
        "{unit}"
    );
}

#[test]
fn the_package_version_is_the_workspace_version() {
    let tree = tree();
    let manifest = read(&tree.workspace().join("Cargo.toml"));
    let workspace_version = manifest
        .lines()
        .skip_while(|line| line.trim() != "[workspace.package]")
        .find_map(|line| line.strip_prefix("version = "))
        .map(|version| version.trim_matches('"'))
        .expect("[workspace.package] has a version");
    let mk = read(&tree.makefile());
    let package_version = mk
        .lines()
        .find_map(|line| line.strip_prefix("BURNSTATION_VERSION = "))
        .expect("burnstation.mk sets BURNSTATION_VERSION");
    assert_eq!(package_version, workspace_version);
}

#[test]
fn every_path_a_defconfig_names_in_the_tree_exists() {
    let tree = tree();
    let configs = files_under(&tree.external().join("configs"));
    assert_eq!(configs.len(), 3, "{configs:?}");
    for config in configs {
        let text = read(&config);
        let mut named = 0;
        for word in text.split(|c: char| c == '"' || c.is_whitespace()) {
            if let Some(path) = word.strip_prefix("$(BR2_EXTERNAL_BURNSTATION_PATH)/") {
                let path = tree.external().join(path);
                assert!(
                    path.exists(),
                    "{} names {}, which does not exist",
                    config.display(),
                    path.display()
                );
                named += 1;
            }
        }
        assert!(named >= 5, "{}: {named} paths", config.display());
        for required in [
            "BR2_INIT_SYSTEMD=y",
            "BR2_INIT_SYSTEMD_VAR_OVERLAYFS=y",
            "BR2_PACKAGE_BURNSTATION=y",
            "BR2_TARGET_ROOTFS_SQUASHFS=y",
            "# BR2_TARGET_ENABLE_ROOT_LOGIN is not set",
            "# BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW is not set",
            "BR2_PACKAGE_XORRISO=y",
            "BR2_PACKAGE_SG3_UTILS_PROGS=y",
            "BR2_PACKAGE_UTIL_LINUX_PARTX=y",
        ] {
            assert!(
                text.lines().any(|line| line == required),
                "{} lacks {required}",
                config.display()
            );
        }
    }
}

#[test]
fn every_program_a_unit_or_script_of_the_tree_runs_from_the_tree_is_there() {
    let tree = tree();
    let provided = provided_paths(&tree);
    let units: Vec<(PathBuf, PathBuf)> = tree
        .root_files()
        .unwrap()
        .into_iter()
        .filter(|(dest, _)| {
            let dest = dest.to_string_lossy();
            dest.ends_with(".service") || dest.ends_with(".mount") || dest.ends_with(".conf")
        })
        .collect();
    let mut checked = 0;
    for (dest, source) in &units {
        for line in read(source).lines() {
            let Some(command) = line
                .strip_prefix("ExecStart=")
                .or_else(|| line.strip_prefix("ExecStartPre="))
            else {
                continue;
            };
            let Some(program) = command.split_whitespace().next() else {
                continue; // an empty assignment resets the list
            };
            if program.starts_with("/usr/libexec/burnstation/")
                || program.starts_with("/usr/bin/burnstation")
                || program.starts_with("/usr/share/burnstation/")
            {
                assert!(
                    provided.contains(program),
                    "{} runs {program}, which the tree does not install",
                    dest.display()
                );
                checked += 1;
            }
            // Files passed to the programs (configurations, tmpfiles) must be there too.
            for word in command.split_whitespace().skip(1) {
                if word.starts_with("/usr/") {
                    assert!(
                        provided.contains(word),
                        "{} names {word}, which the tree does not install",
                        dest.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 6, "only {checked} programs and files checked");

    // The scripts call their helpers as "$libexec/NAME", beside themselves.
    for script in shell_scripts(&tree) {
        let text = read(&script);
        for (start, _) in text.match_indices("\"$libexec/") {
            let name: String = text[start + 10..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let helper = format!("/usr/libexec/burnstation/{name}");
            assert!(
                provided.contains(&helper),
                "{} calls {helper}, which the tree does not install",
                script.display()
            );
        }
    }
}

#[test]
fn every_unit_a_preset_enables_comes_with_the_tree_or_its_package() {
    let tree = tree();
    let provided = provided_paths(&tree);
    let presets: Vec<PathBuf> = tree
        .root_files()
        .unwrap()
        .into_iter()
        .filter(|(dest, _)| dest.starts_with("usr/lib/systemd/system-preset"))
        .map(|(_, source)| source)
        .collect();
    assert_eq!(presets.len(), 2, "{presets:?}");
    let mut enabled = Vec::new();
    for preset in presets {
        for line in read(&preset).lines() {
            if let Some(unit) = line.strip_prefix("enable ") {
                enabled.push(unit.to_string());
            }
        }
    }
    for unit in &enabled {
        // sshd.service is openssh's (the package selects openssh); only our drop-in is ours.
        let path = if unit == "sshd.service" {
            "/usr/lib/systemd/system/sshd.service.d/burnstation.conf".to_string()
        } else {
            format!("/usr/lib/systemd/system/{unit}")
        };
        assert!(
            provided.contains(&path),
            "a preset enables {unit}, but the tree has no {path}"
        );
    }
    for unit in [
        "burnstation.service",
        "burnstation-firstboot.service",
        "burnstation-admin-ssh.service",
        "burnstation-grow-data.service",
        "burnstation-data-layout.service",
        "var-log-journal.mount",
    ] {
        assert!(enabled.iter().any(|e| e == unit), "{unit} is not enabled");
    }
}

#[test]
fn every_shell_script_of_the_tree_parses_and_passes_shellcheck() {
    let tree = tree();
    let scripts = shell_scripts(&tree);
    assert!(scripts.len() >= 8, "{scripts:?}");
    for script in &scripts {
        let bash = fs::read(script).unwrap().starts_with(b"#!/bin/bash");
        let shell = if bash { "bash" } else { "sh" };
        let output = Command::new(shell).arg("-n").arg(script).output().unwrap();
        assert!(
            output.status.success(),
            "{shell} -n {}: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut shellcheck = SHELLCHECK.command().unwrap_or_else(|err| panic!("{err}"));
    shellcheck.args(&scripts);
    if let Err(err) = tools::run(&mut shellcheck) {
        panic!("{err}");
    }
}

#[test]
fn the_partitions_are_named_by_one_disk_signature_everywhere() {
    let tree = tree();
    let external = tree.external();
    let genimage = read(&external.join("board/common/genimage.cfg.in"));
    assert!(
        genimage.contains(&format!("disk-signature = 0x{DISK_SIGNATURE}")),
        "{genimage}"
    );
    // boot, root, data: in that order, data last so that it can grow.
    let partitions: Vec<&str> = genimage
        .lines()
        .filter_map(|line| line.trim().strip_prefix("partition "))
        .collect();
    assert_eq!(partitions, ["boot {", "rootfs {", "data {"]);

    let root = format!("root=PARTUUID={DISK_SIGNATURE}-02 rootfstype=squashfs ro rootwait");
    let cmdline = read(&external.join("board/raspberrypi/cmdline.txt"));
    assert!(cmdline.starts_with(&root), "{cmdline}");
    assert_eq!(cmdline.lines().count(), 1, "cmdline.txt must be one line");
    let start_qemu = read(&external.join("board/qemu-aarch64-virt/post-image.sh"));
    assert!(start_qemu.contains(&root), "{start_qemu}");

    let fstab = read(&tree.overlay().join("etc/fstab"));
    let mounts: Vec<(&str, &str, &str, &str)> = fstab
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields[0], fields[1], fields[2], fields[3])
        })
        .collect();
    let boot = format!("PARTUUID={DISK_SIGNATURE}-01");
    let data = format!("PARTUUID={DISK_SIGNATURE}-03");
    assert_eq!(mounts[0].0, "/dev/root");
    assert!(mounts[0].3.split(',').any(|o| o == "ro"), "{fstab}");
    assert_eq!(
        (mounts[1].0, mounts[1].1, mounts[1].2),
        (&*boot, "/boot", "vfat")
    );
    assert!(
        mounts[1].3.split(',').any(|o| o == "ro"),
        "the boot partition stays read-only"
    );
    assert_eq!(
        (mounts[2].0, mounts[2].1, mounts[2].2),
        (&*data, "/data", "ext4")
    );
    for option in ["x-systemd.growfs", "nofail"] {
        assert!(mounts[2].3.split(',').any(|o| o == option), "{fstab}");
    }

    let grow = read(
        &tree
            .overlay()
            .join("usr/lib/systemd/system/burnstation-grow-data.service"),
    );
    assert!(
        grow.contains(&format!("/dev/disk/by-partuuid/{DISK_SIGNATURE}-03")),
        "{grow}"
    );
    assert!(
        grow.contains(&format!(
            "dev-disk-by\\x2dpartuuid-{DISK_SIGNATURE}\\x2d03.device"
        )),
        "{grow}"
    );
}

#[test]
fn the_kernel_fragments_build_in_what_the_station_needs() {
    let tree = tree();
    let board = tree.external().join("board");
    let fragment = |path: &str| -> Vec<(String, String)> {
        read(&board.join(path))
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (symbol, value) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{path}: cannot read {line:?}"));
                assert!(
                    symbol.starts_with("CONFIG_")
                        && symbol[7..]
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "{path}: {symbol} is not a kernel symbol"
                );
                assert!(
                    ["y", "m", "n"].contains(&value) || value.starts_with('"'),
                    "{path}: {line}"
                );
                (symbol.to_string(), value.to_string())
            })
            .collect()
    };
    let common = fragment("common/linux.fragment");
    for board_fragment in [
        "raspberrypi/linux.fragment",
        "qemu-aarch64-virt/linux.fragment",
    ] {
        let mut all = common.clone();
        all.extend(fragment(board_fragment));
        let symbols: BTreeSet<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            symbols.len(),
            all.len(),
            "a symbol is set twice with {board_fragment}"
        );
        let watchdog = if board_fragment.starts_with("raspberrypi") {
            "CONFIG_BCM2835_WDT"
        } else {
            "CONFIG_I6300ESB_WDT"
        };
        for needed in [
            "CONFIG_BLK_DEV_SR",
            "CONFIG_CHR_DEV_SG",
            "CONFIG_USB_STORAGE",
            "CONFIG_USB_UAS",
            "CONFIG_I2C_CHARDEV",
            "CONFIG_SPI_SPIDEV",
            "CONFIG_GPIO_CDEV",
            "CONFIG_SQUASHFS",
            "CONFIG_SQUASHFS_ZSTD",
            "CONFIG_VFAT_FS",
            "CONFIG_EXT4_FS",
            "CONFIG_WATCHDOG",
            watchdog,
        ] {
            assert!(
                all.iter().any(|(s, v)| s == needed && v == "y"),
                "{needed}=y is missing with {board_fragment}"
            );
        }
    }
}

#[test]
fn the_pi_configs_enable_i2c_spi_and_the_watchdog_with_the_right_firmware() {
    let tree = tree();
    let board = tree.external().join("board/raspberrypi");
    let configs = tree.external().join("configs");
    for (config_txt, defconfig, start) in [
        (
            "config_rpi4_64.txt",
            "burnstation_rpi4_64_defconfig",
            "start4.elf",
        ),
        (
            "config_rpi3_64.txt",
            "burnstation_rpi3_64_defconfig",
            "start.elf",
        ),
    ] {
        let text = read(&board.join(config_txt));
        let lines: Vec<&str> = text.lines().collect();
        for needed in [
            "dtparam=i2c_arm=on",
            "dtparam=spi=on",
            "dtparam=watchdog=on",
            "kernel=Image",
            "arm_64bit=1",
        ] {
            assert!(lines.contains(&needed), "{config_txt} lacks {needed}");
        }
        assert!(
            lines.contains(&format!("start_file={start}").as_str()),
            "{config_txt}"
        );
        let defconfig_text = read(&configs.join(defconfig));
        assert!(defconfig_text.contains(&format!("board/raspberrypi/{config_txt}\"")));
        let pi4_firmware = defconfig_text.contains("BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4=y");
        assert_eq!(pi4_firmware, start == "start4.elf", "{defconfig}");
    }
}

/// Runs the boot scripts' settings reader with a chosen awk (busybox's is the image's).
fn settings_get(settings: &Path, section: &str, key: &str, awk: Option<&Path>) -> (i32, String) {
    let script = tree().package_dir().join("settings-get");
    let mut command = Command::new("sh");
    command.arg(&script).arg(settings).args([section, key]);
    if let Some(awk_dir) = awk {
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", awk_dir.display()));
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A directory whose `awk` is busybox's, and the system's own (mawk or gawk, as on Debian).
fn awks(dir: &Path) -> Vec<Option<PathBuf>> {
    let busybox = tools::BUSYBOX.find().unwrap_or_else(|err| panic!("{err}"));
    let busybox_dir = dir.join("busybox-awk");
    fs::create_dir_all(&busybox_dir).unwrap();
    std::os::unix::fs::symlink(busybox, busybox_dir.join("awk")).unwrap();
    vec![None, Some(busybox_dir)]
}

#[test]
fn the_boot_scripts_read_the_shipped_settings_as_the_schema_means_them() {
    let tree = tree();
    let settings = tree.workspace().join("station/burnstation.toml");
    let dir = tempfile::tempdir().unwrap();
    for awk in awks(dir.path()) {
        let get = |section, key| settings_get(&settings, section, key, awk.as_deref());
        // firstboot makes the key where the daemon looks for it, on the data partition the
        // unit lets the daemon write (ReadWritePaths=/data) and tmpfiles prepares.
        assert_eq!(
            get("source", "key"),
            (0, "/data/keys/id_ed25519\n".to_string())
        );
        assert_eq!(get("station", "data_dir"), (0, "/data\n".to_string()));
        assert_eq!(get("station", "name"), (0, "burnstation\n".to_string()));
        // Inbound ssh is off unless a volunteer turns it on.
        assert_eq!(get("admin_ssh", "enabled"), (0, "false\n".to_string()));
        assert_eq!(get("admin_ssh", "authorized_key"), (0, "\n".to_string()));
        assert_eq!(get("source", "port"), (0, "22\n".to_string()));
        assert_eq!(get("burn", "media").0, 2, "an array is not for this reader");
        assert_eq!(get("admin_ssh", "no_such_key").0, 1);
        assert_eq!(get("no_such_section", "enabled").0, 1);
    }
    let unit = read(&tree.package_dir().join("burnstation.service"));
    assert!(unit.contains("ReadWritePaths=/data\n"), "{unit}");
    let tmpfiles = read(&tree.package_dir().join("burnstation.tmpfiles"));
    assert!(
        tmpfiles.contains("d /data/keys 0700 burnstation burnstation -"),
        "{tmpfiles}"
    );
}

#[test]
fn the_settings_reader_fails_safe_on_what_it_does_not_take() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("burnstation.toml");
    // A file as a volunteer's editor may leave it: a byte order mark, Windows line ends,
    // comments after values, odd spacing, and forms the reader refuses.
    fs::write(
        &settings,
        "\u{feff}[admin_ssh]\r\n  enabled   =   true   # I want in\r\nauthorized_key = \"ssh-ed25519 AAAA \\\"x\\\"\" \r\n\
         [other]\nenabled = false\nmulti = \"\"\"a\nb\"\"\"\nescaped = \"a\\nb\"\nliteral = 'C:\\keys'\n\
         open = \"never closed\nnumber = 1_000\n[[table]]\nenabled = false\n[admin_ssh.sub]\nx = 1\n",
    )
    .unwrap();
    for awk in awks(dir.path()) {
        let get = |section, key| settings_get(&settings, section, key, awk.as_deref());
        assert_eq!(get("admin_ssh", "enabled"), (0, "true\n".to_string()));
        assert_eq!(
            get("admin_ssh", "authorized_key"),
            (0, "ssh-ed25519 AAAA \"x\"\n".to_string())
        );
        assert_eq!(get("other", "enabled"), (0, "false\n".to_string()));
        assert_eq!(get("other", "literal"), (0, "C:\\keys\n".to_string()));
        assert_eq!(get("other", "number"), (0, "1000\n".to_string()));
        for refused in ["multi", "escaped", "open"] {
            assert_eq!(get("other", refused).0, 2, "{refused}");
        }
        assert_eq!(
            get("table", "enabled").0,
            1,
            "arrays of tables are not read"
        );
        assert_eq!(get("admin_ssh", "x").0, 1, "dotted tables are not read");
    }
    let (code, _) = settings_get(&dir.path().join("missing.toml"), "a", "b", None);
    assert_eq!(code, 1);
}

//! `cargo xtask buildroot-check BUILDROOT_DIR`: the BR2_EXTERNAL tree (`buildroot/`) checked
//! against a real buildroot checkout of the pinned series, offline.
//!
//! For every defconfig in `buildroot/configs/`:
//! - it loads (`make NAME_defconfig`) without a single Kconfig warning;
//! - every symbol it sets is in the resulting `.config` with that value, and every symbol
//!   it unsets is unset (Kconfig silently drops a symbol whose dependencies are not met);
//! - `make savedefconfig` gives back the same file, byte for byte (it is in savedefconfig
//!   form, so a diff of it says exactly what changed);
//! - `make show-info` evaluates every package of that configuration and prints JSON that
//!   parses, with the station's package taken from this tree.
//!
//! Then `utils/check-package` (buildroot's own style checker, with shellcheck and flake8) is
//! clean on every file of the tree.
//!
//! None of these targets downloads anything. That is made sure of: `BR2_DL_DIR` is an empty
//! scratch directory that must still be empty at the end, the proxies point at a closed
//! port, and the `make` runs happen in a network namespace of their own when `unshare`
//! can make one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

use crate::buildroot::{self, Pin};

/// What a defconfig line asks of `.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// `SYMBOL=value`.
    Set(String),
    /// `# SYMBOL is not set`.
    Unset,
}

/// How the `make` runs are kept off the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// In a network namespace with nothing but a loopback device (`unshare --net`).
    NetworkNamespace,
    /// Only the empty download directory and dead proxies (no namespace could be made).
    DeadProxies,
}

/// Runs the whole check; the error lists every problem found.
pub fn check(root: &Path, buildroot_dir: &Path) -> Result<()> {
    let buildroot_dir = buildroot_dir
        .canonicalize()
        .with_context(|| format!("cannot find {}", buildroot_dir.display()))?;
    let pin = Pin::read(root)?;
    let version = buildroot::require_pinned_series(&buildroot_dir, &pin)?;
    let external = buildroot::external_tree(root);
    let scratch = tempfile::Builder::new()
        .prefix("buildroot-check-")
        .tempdir()
        .context("cannot make a scratch directory")?;
    let dl_dir = scratch.path().join("dl");
    fs::create_dir(&dl_dir).context("cannot make the empty download directory")?;
    let isolation = isolation();
    eprintln!(
        "xtask: checking {} against buildroot {version} ({}), offline: {}",
        external.display(),
        buildroot_dir.display(),
        match isolation {
            Isolation::NetworkNamespace => "no network (own network namespace), empty BR2_DL_DIR",
            Isolation::DeadProxies =>
                "unshare cannot make a network namespace here; empty BR2_DL_DIR and dead proxies",
        }
    );

    let make = Make {
        buildroot: buildroot_dir.clone(),
        external: external.clone(),
        dl_dir: dl_dir.clone(),
        isolation,
    };
    let mut problems = Vec::new();
    for name in buildroot::defconfigs(root)? {
        let out = scratch.path().join(&name);
        match check_defconfig(&make, &external.join("configs").join(&name), &out) {
            Ok(summary) => eprintln!("  ok   {name}: {summary}"),
            Err(err) => {
                eprintln!("  FAIL {name}");
                problems.push(format!("{name}: {err:#}"));
            }
        }
    }
    match check_package(&buildroot_dir, &external) {
        Ok(summary) => eprintln!("  ok   utils/check-package: {summary}"),
        Err(err) => {
            eprintln!("  FAIL utils/check-package");
            problems.push(format!("utils/check-package: {err:#}"));
        }
    }
    let downloaded = files_under(&dl_dir)?;
    if !downloaded.is_empty() {
        problems.push(format!(
            "these make targets downloaded files, which they must not: {}",
            downloaded
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if problems.is_empty() {
        eprintln!("xtask: the tree is valid for buildroot {version}");
        Ok(())
    } else {
        bail!("{}", problems.join("\n\n"))
    }
}

/// The `make` invocations of one check, all with the same environment.
struct Make {
    buildroot: PathBuf,
    external: PathBuf,
    dl_dir: PathBuf,
    isolation: Isolation,
}

impl Make {
    /// `make -C BUILDROOT O=out BR2_EXTERNAL=... args`, its output, failing on a non-zero exit.
    fn run(&self, out: &Path, args: &[&str]) -> Result<Output> {
        let mut cmd = match self.isolation {
            Isolation::NetworkNamespace => {
                let mut cmd = Command::new("unshare");
                cmd.args(["--net", "--map-root-user", "make"]);
                cmd
            }
            Isolation::DeadProxies => Command::new("make"),
        };
        cmd.arg("-C")
            .arg(&self.buildroot)
            .arg(format!("O={}", out.display()))
            .arg(format!("BR2_EXTERNAL={}", self.external.display()))
            .arg(format!("BR2_DL_DIR={}", self.dl_dir.display()))
            .args(args);
        for proxy in [
            "http_proxy",
            "https_proxy",
            "ftp_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
        ] {
            cmd.env(proxy, "http://127.0.0.1:9");
        }
        cmd.env_remove("no_proxy").env_remove("NO_PROXY");
        let line = format!("make {}", args.join(" "));
        let output = cmd
            .output()
            .with_context(|| format!("could not run `{line}`"))?;
        if !output.status.success() {
            bail!(
                "`{line}` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }
}

/// Checks one defconfig; on success, a one-line summary.
fn check_defconfig(make: &Make, defconfig: &Path, out: &Path) -> Result<String> {
    let name = defconfig
        .file_name()
        .and_then(|name| name.to_str())
        .context("a defconfig name is not UTF-8")?;
    let text = fs::read_to_string(defconfig)
        .with_context(|| format!("cannot read {}", defconfig.display()))?;
    let wanted = parse_defconfig(&text)?;

    let loaded = make.run(out, &[name])?;
    let warnings = warning_lines(&loaded);
    if !warnings.is_empty() {
        bail!("Kconfig warned while loading it:\n{}", warnings.join("\n"));
    }
    let config_path = out.join(".config");
    let config = fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let lost = lost_settings(&wanted, &parse_config(&config));
    if !lost.is_empty() {
        bail!(
            "these lines did not survive into .config (a dependency is not met, or the symbol \
             does not exist):\n{}",
            lost.join("\n")
        );
    }

    let saved = out.join("saved_defconfig");
    let saved_arg = format!("BR2_DEFCONFIG={}", saved.display());
    make.run(out, &["savedefconfig", &saved_arg])?;
    let resaved =
        fs::read_to_string(&saved).with_context(|| format!("cannot read {}", saved.display()))?;
    if resaved != text {
        bail!(
            "`make savedefconfig` writes it differently: it is not in savedefconfig form \
             (replace it with {}):\n{}",
            saved.display(),
            line_diff(&text, &resaved)
        );
    }

    // -s: nothing but the JSON on stdout (no "Entering directory" lines).
    let info = make.run(out, &["-s", "show-info"])?;
    let warnings = warning_lines(&info);
    if !warnings.is_empty() {
        bail!("`make show-info` warned:\n{}", warnings.join("\n"));
    }
    let packages = show_info_packages(&info.stdout, &make.external)?;
    Ok(format!(
        "{} settings kept, savedefconfig identical, show-info parsed {packages} packages",
        wanted.len()
    ))
}

/// The settings of a defconfig, by symbol. Fails on a line that is neither a setting, an
/// unset symbol, a comment nor blank, and on a symbol given twice.
pub fn parse_defconfig(text: &str) -> Result<BTreeMap<String, Setting>> {
    let mut settings = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let setting = if let Some(symbol) = unset_symbol(line) {
            Some((symbol.to_string(), Setting::Unset))
        } else if line.trim().is_empty() || line.starts_with('#') {
            None
        } else if let Some((symbol, value)) = line.split_once('=') {
            Some((symbol.to_string(), Setting::Set(value.to_string())))
        } else {
            bail!("line {}: cannot read {line:?}", number + 1);
        };
        let Some((symbol, setting)) = setting else {
            continue;
        };
        if settings.insert(symbol.clone(), setting).is_some() {
            bail!("line {}: {symbol} is given twice", number + 1);
        }
    }
    Ok(settings)
}

/// The symbols a `.config` sets, with their values (unset ones are simply absent).
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(symbol, value)| (symbol.to_string(), value.to_string()))
        .collect()
}

/// The defconfig lines `.config` does not honour, as the defconfig has them.
pub fn lost_settings(
    wanted: &BTreeMap<String, Setting>,
    config: &BTreeMap<String, String>,
) -> Vec<String> {
    wanted
        .iter()
        .filter_map(|(symbol, setting)| match (setting, config.get(symbol)) {
            (Setting::Set(value), Some(got)) if got == value => None,
            (Setting::Set(value), got) => Some(format!(
                "{symbol}={value} (.config: {})",
                got.map_or("not set".to_string(), |got| format!("{symbol}={got}"))
            )),
            (Setting::Unset, None) => None,
            (Setting::Unset, Some(got)) => {
                Some(format!("# {symbol} is not set (.config: {symbol}={got})"))
            }
        })
        .collect()
}

fn unset_symbol(line: &str) -> Option<&str> {
    line.strip_prefix("# ")?.strip_suffix(" is not set")
}

/// The lines of a command's output that mention a warning.
fn warning_lines(output: &Output) -> Vec<String> {
    [&output.stdout, &output.stderr]
        .iter()
        .flat_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .filter(|line| line.to_ascii_lowercase().contains("warning"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The number of packages in `make show-info` output, checking that it is a JSON object of
/// package descriptions and that `burnstation` comes from the tree in `external`.
fn show_info_packages(stdout: &[u8], external: &Path) -> Result<usize> {
    let info: serde_json::Value =
        serde_json::from_slice(stdout).context("`make show-info` did not print JSON")?;
    let packages = info
        .as_object()
        .context("`make show-info` did not print a JSON object")?;
    for (key, package) in packages {
        if !package["dependencies"].is_array() {
            bail!("`make show-info` gives {key} no dependency list: {package}");
        }
        match package["type"].as_str() {
            Some("target" | "host") => {
                // Host packages are keyed `host-NAME`; a virtual package (one a provider
                // stands for) has no version of its own.
                let named = package["name"]
                    .as_str()
                    .is_some_and(|name| key == name || key.strip_prefix("host-") == Some(name));
                let versioned = package["version"].is_string() || package["virtual"] == true;
                if !named || !versioned {
                    bail!(
                        "`make show-info` describes {key} without its name or version: {package}"
                    );
                }
            }
            Some("rootfs") => {}
            _ => bail!("`make show-info` gives {key} no known type: {package}"),
        }
    }
    let station = packages
        .get("burnstation")
        .context("`make show-info` does not list the burnstation package")?;
    let package_dir = external.join("package/burnstation");
    if station["package_dir"].as_str() != Some(&package_dir.display().to_string()) {
        bail!(
            "the burnstation package does not come from {}: {}",
            package_dir.display(),
            station["package_dir"]
        );
    }
    Ok(packages.len())
}

/// Runs `utils/check-package` over every file of the tree; on success, its summary.
fn check_package(buildroot_dir: &Path, external: &Path) -> Result<String> {
    let files: Vec<String> = files_under(external)?
        .iter()
        .filter_map(|path| path.strip_prefix(external).ok())
        .map(|path| path.display().to_string())
        .collect();
    // Paths relative to the tree, so that check-package recognises configs/*_defconfig.
    let output = Command::new(python3())
        .arg(buildroot_dir.join("utils/check-package"))
        .arg("--br2-external")
        .args(&files)
        .current_dir(external)
        .output()
        .context("could not run utils/check-package")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("it reported:\n{}", said.trim_end());
    }
    Ok(said.lines().collect::<Vec<_>>().join(", "))
}

/// Debian's python, which has the modules check-package needs (python3-magic,
/// python3-flake8), ahead of any other python3 on PATH.
fn python3() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.is_file() {
        debian
    } else {
        PathBuf::from("python3")
    }
}

fn isolation() -> Isolation {
    let works = Command::new("unshare")
        .args(["--net", "--map-root-user", "true"])
        .output()
        .is_ok_and(|output| output.status.success());
    if works {
        Isolation::NetworkNamespace
    } else {
        Isolation::DeadProxies
    }
}

/// Every file below `dir`, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The lines only one side has, `-` for `old` and `+` for `new`.
fn line_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut diff: Vec<String> = old_lines
        .iter()
        .filter(|line| !new_lines.contains(line))
        .map(|line| format!("-{line}"))
        .collect();
    diff.extend(
        new_lines
            .iter()
            .filter(|line| !old_lines.contains(line))
            .map(|line| format!("+{line}")),
    );
    if diff.is_empty() {
        "(the same lines, in another order)".to_string()
    } else {
        diff.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_defconfig_reads_as_settings_and_unset_symbols() {
        let settings =
            parse_defconfig("BR2_aarch64=y\n# BR2_TARGET_ROOTFS_TAR is not set\nBR2_X=\"a b\"\n")
                .unwrap();
        assert_eq!(settings["BR2_aarch64"], Setting::Set("y".to_string()));
        assert_eq!(settings["BR2_TARGET_ROOTFS_TAR"], Setting::Unset);
        assert_eq!(settings["BR2_X"], Setting::Set("\"a b\"".to_string()));
        assert!(parse_defconfig("BR2_A=y\nBR2_A=n\n").is_err());
        assert!(parse_defconfig("nonsense\n").is_err());
    }

    #[test]
    fn a_dropped_changed_or_set_symbol_is_reported_as_lost() {
        let wanted = parse_defconfig(
            "BR2_KEPT=y\nBR2_DROPPED=y\nBR2_CHANGED=\"a\"\n# BR2_OFF is not set\n# BR2_ON is not set\n",
        )
        .unwrap();
        let config = parse_config(
            "BR2_KEPT=y\nBR2_CHANGED=\"b\"\n# BR2_OFF is not set\nBR2_ON=y\nBR2_OTHER=y\n",
        );
        assert_eq!(
            lost_settings(&wanted, &config),
            [
                "BR2_CHANGED=\"a\" (.config: BR2_CHANGED=\"b\")",
                "BR2_DROPPED=y (.config: not set)",
                "# BR2_ON is not set (.config: BR2_ON=y)",
            ]
        );
    }

    #[test]
    fn the_diff_shows_what_each_side_alone_has() {
        assert_eq!(line_diff("a\nb\n", "a\nc\n"), "-b\n+c");
        assert_eq!(
            line_diff("a\nb\n", "b\na\n"),
            "(the same lines, in another order)"
        );
    }
}

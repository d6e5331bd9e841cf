//! The host binaries the guest runs, built from this workspace.
//!
//! A binary of another package (`burnstation`) is not built by `cargo test` of this one, and
//! Cargo has no stable way to depend on another package's binary. So [`workspace_binary`]
//! runs `cargo build` for it, with the profile and target directory of the running test
//! (nothing is rebuilt when it is up to date), and returns the executable's path.
//! `BURNSTATION_SYSTEST_BIN_<NAME>` (name upper-cased, `-` as `_`) points at a prebuilt
//! binary instead, which is how a scenario is run by hand against another build.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{self, CommandError};

/// Why a workspace binary is not available.
#[derive(Debug, thiserror::Error)]
pub enum HostBuildError {
    /// The running test is not where Cargo puts tests.
    #[error(
        "cannot tell the Cargo profile from the test's path {0}; run the tests with cargo, or \
         set {1} to the binary"
    )]
    UnknownLayout(PathBuf, String),
    /// The build failed.
    #[error("could not build {binary} for the guest: {source}")]
    Build {
        /// The binary.
        binary: String,
        /// Cargo's failure (with its messages).
        source: CommandError,
    },
    /// The build did not say where the binary is.
    #[error("cargo built {0} but did not report its executable")]
    NoExecutable(String),
}

/// The path of binary `bin` of workspace package `package`, built if needed.
pub fn workspace_binary(package: &str, bin: &str) -> Result<PathBuf, HostBuildError> {
    let variable = format!(
        "BURNSTATION_SYSTEST_BIN_{}",
        bin.to_ascii_uppercase().replace('-', "_")
    );
    if let Some(path) = env::var_os(&variable) {
        return Ok(PathBuf::from(path));
    }
    let test = env::current_exe().unwrap_or_default();
    let (target_dir, profile) =
        cargo_layout(&test).ok_or_else(|| HostBuildError::UnknownLayout(test.clone(), variable))?;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("Cargo.toml");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .args(["--profile", &profile, "--package", package, "--bin", bin]);
    let output = tools::run(&mut build).map_err(|source| HostBuildError::Build {
        binary: bin.to_string(),
        source,
    })?;
    executable_in(&String::from_utf8_lossy(&output.stdout), bin)
        .ok_or_else(|| HostBuildError::NoExecutable(bin.to_string()))
}

/// The target directory and profile name of a test executable at
/// `<target>/<profile dir>/deps/<test>` (`debug` is the `dev` profile's directory).
fn cargo_layout(test: &Path) -> Option<(PathBuf, String)> {
    let deps = test.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    let profile_dir = deps.parent()?;
    let profile = match profile_dir.file_name()?.to_str()? {
        "debug" => "dev".to_string(),
        other => other.to_string(),
    };
    Some((profile_dir.parent()?.to_path_buf(), profile))
}

/// The executable of binary target `bin` in Cargo's JSON messages.
fn executable_in(messages: &str, bin: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == bin)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_comes_from_the_test_path() {
        assert_eq!(
            cargo_layout(Path::new("/w/target/debug/deps/emulated_burner-1a2b")),
            Some((PathBuf::from("/w/target"), "dev".to_string()))
        );
        assert_eq!(
            cargo_layout(Path::new("/w/target/release/deps/emulated_burner-1a2b")),
            Some((PathBuf::from("/w/target"), "release".to_string()))
        );
        assert_eq!(
            cargo_layout(Path::new("/usr/local/bin/emulated_burner")),
            None
        );
    }

    #[test]
    fn the_executable_is_found_among_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"clap"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"burnstation"},"executable":"/w/target/debug/burnstation"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_in(messages, "burnstation"),
            Some(PathBuf::from("/w/target/debug/burnstation"))
        );
        assert_eq!(executable_in(messages, "mmc-probe"), None);
    }
}

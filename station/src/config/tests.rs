//! The shipped settings file parses to the documented defaults, and every setting written
//! wrong in turn gives an error that names its line and setting and says what to write.

use super::*;

/// The file the image puts on the boot partition.
const SHIPPED: &str = include_str!("../../burnstation.toml");

fn shipped_defaults() -> Config {
    Config::default_for(
        HostName("backup.example.org".to_string()),
        UserName("burnstation".to_string()),
    )
}

#[test]
fn the_shipped_file_holds_exactly_the_defaults() {
    let config = Config::parse(SHIPPED, "burnstation.toml").unwrap();
    assert_eq!(config, shipped_defaults());
}

#[test]
fn only_the_source_server_and_account_are_required() {
    let text = "[source]\nhost = \"backup.example.org\"\nuser = \"burnstation\"\n";
    assert_eq!(Config::parse(text, "t.toml").unwrap(), shipped_defaults());
}

#[test]
fn a_pinned_host_key_and_an_admin_key_are_read() {
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMuComClvJVBMuAjdtCwtOnVJvAekQ90lA8zyDmfTNOp";
    let text = SHIPPED
        .replace("host_key = \"\"", &format!("host_key = \"{key}\""))
        .replace("enabled = false", "enabled = true")
        .replace(
            "authorized_key = \"\"",
            &format!("authorized_key = \"{key} admin\""),
        );
    let config = Config::parse(&text, "t.toml").unwrap();
    assert_eq!(config.source.host_key.unwrap().to_string(), key);
    assert!(config.admin_ssh.enabled);
    let admin = config.admin_ssh.authorized_key.unwrap();
    assert_eq!(admin.to_string(), format!("{key} admin"));
}

/// The shipped file with `key` in `[section]` set to `value` (a TOML literal), and the line.
fn with_setting(section: &str, key: &str, value: &str) -> (String, usize) {
    let mut in_section = false;
    let mut found = None;
    let lines: Vec<String> = SHIPPED
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if line.starts_with('[') {
                in_section = line == format!("[{section}]");
            } else if in_section && line.split('=').next().map(str::trim) == Some(key) {
                found = Some(index + 1);
                return format!("{key} = {value}");
            }
            line.to_string()
        })
        .collect();
    let line = found.unwrap_or_else(|| panic!("the shipped file has no {section}.{key}"));
    (lines.join("\n") + "\n", line)
}

fn invalid(text: &str) -> InvalidConfig {
    match Config::parse(text, "burnstation.toml") {
        Ok(config) => panic!("accepted: {config:?}\n{text}"),
        Err(e) => e
            .invalid()
            .expect("an invalid file, not a read error")
            .clone(),
    }
}

#[test]
fn each_setting_written_wrong_names_its_line_and_the_fix() {
    let table: &[(&str, &str, &str, &str)] = &[
        ("station", "name", "\"my box!\"", "letters, digits"),
        ("station", "data_dir", "\"data\"", "starts with /"),
        ("station", "data_dir", "5", "double quotes"),
        ("source", "host", "\"me@backup.example.org\"", "has a user"),
        ("source", "host", "\"\"", "not a server name"),
        ("source", "port", "0", "1 to 65535"),
        ("source", "port", "\"22\"", "as a number, without quotes"),
        ("source", "user", "\"\"", "account name"),
        ("source", "path", "\"\"", "folder on the server"),
        ("source", "key", "\"keys/id_ed25519\"", "starts with /"),
        (
            "source",
            "host_key",
            "\"ssh-ed25519 AAAAC3Nz\"",
            "paste the whole key",
        ),
        (
            "source",
            "host_key",
            "\"AAAAC3NzaC1lZDI1NTE5\"",
            "not a key type",
        ),
        ("source", "timeout", "\"10q\"", "\"10m\""),
        ("source", "timeout", "\"5s\"", "too short"),
        ("source", "bandwidth_limit", "-1", "whole number"),
        ("schedule", "sync", "\"every day\"", "five fields"),
        ("schedule", "sync", "\"0 25 * * *\"", "not a cron line"),
        ("schedule", "retry_after", "\"soon\"", "a number and a unit"),
        ("schedule", "retry_after", "\"7h\"", "retry_max"),
        ("schedule", "retry_after", "\"0s\"", "at least"),
        ("schedule", "retry_max", "6", "text in double quotes"),
        ("burn", "interval", "\"weekly\"", "a number and a unit"),
        (
            "burn",
            "every_nth_snapshot",
            "\"2\"",
            "whole number, 0 or more, without quotes",
        ),
        ("burn", "start", "\"sometimes\"", "\"ask\" or \"auto\""),
        ("burn", "media", "[\"dvd+q\"]", "not a medium the box knows"),
        ("burn", "media", "[\"auto\", \"dvd+r\"]", "must be alone"),
        ("burn", "media", "\"dvd+r\"", "a list in brackets"),
        ("burn", "speed", "\"fast\"", "\"4x\""),
        ("burn", "eject", "\"yes\"", "true or false"),
        ("drive", "device", "\"sr0\"", "\"/dev/sr0\""),
        ("retention", "keep_snapshots", "0", "1 to 1000"),
        ("retention", "min_free", "\"lots\"", "\"1GiB\""),
        (
            "display",
            "kind",
            "\"hdmi\"",
            "write one of \"none\", \"adafruit-oled-bonnet\"",
        ),
        (
            "display",
            "dim_after",
            "\"soon\"",
            "\"soon\" is not a length of time",
        ),
        (
            "display",
            "off_after",
            "\"1m\"",
            "must not be shorter than dim_after",
        ),
        (
            "buttons",
            "kind",
            "\"many\"",
            "write one of \"none\", \"preset\", \"gpio\"",
        ),
        ("buttons", "long_press", "\"10s\"", "between 200ms and 5s"),
        ("admin_ssh", "enabled", "\"no\"", "true or false"),
        ("admin_ssh", "enabled", "true", "authorized_key is empty"),
        ("admin_ssh", "authorized_key", "\"ssh-rsa AAAA\"", "damaged"),
    ];
    for &(section, key, value, says) in table {
        let (text, line) = with_setting(section, key, value);
        let error = invalid(&text);
        let what = format!("{section}.{key} = {value}: {error}");
        assert_eq!(error.line, Some(line), "{what}");
        assert_eq!(
            error.setting.as_deref(),
            Some(&*format!("{section}.{key}")),
            "{what}"
        );
        assert!(error.problem.contains(says), "{what}");
        // One sentence: what is wrong, then what to do, on one line.
        let sentence = error.to_string();
        assert!(!sentence.contains('\n'), "{sentence}");
        assert!(
            sentence.starts_with(&format!("burnstation.toml line {line}, ")),
            "{sentence}"
        );
    }
}

#[test]
fn a_needed_setting_that_is_not_written_is_reported_at_its_section() {
    let (text, _) = with_setting("buttons", "kind", "\"gpio\"");
    let error = invalid(&text);
    let header = SHIPPED.lines().position(|l| l == "[buttons]").unwrap() + 1;
    assert_eq!(error.line, Some(header), "{error}");
    assert_eq!(error.setting.as_deref(), Some("buttons.lines"), "{error}");
    assert!(error.problem.contains("list at least one line"), "{error}");
}

#[test]
fn a_misspelt_setting_is_an_error_with_the_likely_name() {
    let text = SHIPPED.replace("timeout = \"10m\"", "tmeout = \"10m\"");
    let error = invalid(&text);
    assert_eq!(error.setting.as_deref(), Some("source.tmeout"));
    assert!(error.problem.contains("did you mean timeout?"), "{error}");
    assert!(error.problem.contains("bandwidth_limit"), "{error}");
}

#[test]
fn an_unknown_section_is_an_error_with_the_likely_name() {
    let text = SHIPPED.replace("[display]", "[displya]");
    let error = invalid(&text);
    assert!(error.problem.contains("no section [displya]"), "{error}");
    assert!(error.problem.contains("did you mean display?"), "{error}");
    let line = SHIPPED.lines().position(|l| l == "[display]").unwrap() + 1;
    assert_eq!(error.line, Some(line));
}

#[test]
fn a_missing_server_name_says_to_add_it() {
    let text = SHIPPED.replace("host = \"backup.example.org\"\n", "");
    let error = invalid(&text);
    assert_eq!(error.setting.as_deref(), Some("[source]"), "{error}");
    assert!(error.problem.contains("[source] has no host"), "{error}");
    let without = "[station]\nname = \"box\"\n";
    let error = invalid(without);
    assert!(error.problem.contains("no [source] section"), "{error}");
}

#[test]
fn a_line_that_is_not_toml_is_named() {
    let text = SHIPPED.replace("name = \"burnstation\"", "name = \"burnstation");
    let error = invalid(&text);
    let line = SHIPPED
        .lines()
        .position(|l| l == "name = \"burnstation\"")
        .unwrap()
        + 1;
    assert_eq!(error.line, Some(line), "{error}");
    assert_eq!(error.setting.as_deref(), Some("name"), "{error}");
    assert!(error.problem.contains("not valid TOML"), "{error}");
    assert!(!error.to_string().contains('\n'), "{error}");
}

#[test]
fn a_missing_file_says_which() {
    let error = Config::load(Path::new("/nonexistent/burnstation.toml")).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/burnstation.toml"),
        "{error}"
    );
    assert!(error.invalid().is_none());
}

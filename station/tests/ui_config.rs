//! The `[display]` and `[buttons]` settings: the shipped `burnstation.toml` parses, every
//! board preset resolves to its wiring, and wrong settings are refused naming the setting.

use std::time::Duration;

use burnstation::ui::config::{ButtonsConfig, ButtonsKind, DisplayConfig, DisplayKind};
use burnstation::ui::key;
use burnstation_hal::buttons::Button;
use burnstation_hal::display::{OledSize, PanelSpec};
use burnstation_tests::sshd::generate_key;

fn sections(text: &str) -> (DisplayConfig, ButtonsConfig) {
    let table: toml::Table = text.parse().unwrap();
    let display = table["display"].clone().try_into().unwrap();
    let buttons = table["buttons"].clone().try_into().unwrap();
    (display, buttons)
}

#[test]
fn the_shipped_settings_file_parses_and_validates() {
    let text = include_str!("../burnstation.toml");
    let (display, buttons) = sections(text);
    assert_eq!(display.kind, DisplayKind::None);
    assert_eq!(display.dim_after, Duration::from_secs(120));
    assert_eq!(buttons.kind, ButtonsKind::Preset);
    assert_eq!(buttons.long_press, Duration::from_millis(800));
    display.validate().unwrap();
    buttons.validate(&display).unwrap();
    assert_eq!(display.panel(), None);
}

fn display(toml: &str) -> DisplayConfig {
    toml::from_str(toml).unwrap()
}

fn buttons(toml: &str) -> ButtonsConfig {
    toml::from_str(toml).unwrap()
}

#[test]
fn presets_resolve_to_their_boards() {
    let bonnet = display(r#"kind = "adafruit-oled-bonnet""#);
    let Some(PanelSpec::Ssd1306 { i2c, size, rotated }) = bonnet.panel() else {
        panic!("the bonnet is an SSD1306");
    };
    assert_eq!(
        (i2c.bus.to_str(), i2c.address, size, rotated),
        (Some("/dev/i2c-1"), 0x3c, OledSize::W128H64, false)
    );
    let b = ButtonsConfig::default().resolve(&bonnet).unwrap().unwrap();
    assert!(b.lines.contains(&(5, Button::Select)) && b.lines.contains(&(6, Button::Menu)));
    assert!(b.active_low && b.pull);

    for (kind, size, dc, bl) in [
        ("waveshare-lcd-hat-1.3", (240, 240), 25, Some(24)),
        ("adafruit-mini-pitft-1.14", (240, 135), 25, Some(22)),
        ("adafruit-mini-pitft-1.3", (240, 240), 25, Some(22)),
    ] {
        let config = display(&format!("kind = {kind:?}"));
        let Some(PanelSpec::St7789(t)) = config.panel() else {
            panic!("{kind} is an ST7789");
        };
        let frame = t.frame_size();
        assert_eq!((frame.width, frame.height), size, "{kind}");
        assert_eq!((t.dc, t.backlight), (dc, bl), "{kind}");
        let b = ButtonsConfig::default().resolve(&config).unwrap().unwrap();
        assert!(b.lines.iter().any(|&(_, b)| b == Button::Select), "{kind}");
    }
}

#[test]
fn fields_beside_a_preset_override_it() {
    let config = display("kind = \"adafruit-oled-bonnet\"\nrotation = 180\ni2c_address = 0x3d");
    let Some(PanelSpec::Ssd1306 { i2c, rotated, .. }) = config.panel() else {
        panic!()
    };
    assert_eq!((i2c.address, rotated), (0x3d, true));
}

#[test]
fn hand_wired_buttons_map_lines_to_buttons() {
    let config =
        buttons("kind = \"gpio\"\nlong_press = \"1s\"\n[lines]\n17 = \"select\"\n27 = \"menu\"");
    let spec = config.resolve(&DisplayConfig::default()).unwrap().unwrap();
    assert_eq!(spec.lines, [(17, Button::Select), (27, Button::Menu)]);
    assert_eq!(spec.long_press, Duration::from_secs(1));
    assert_eq!(spec.debounce, Duration::from_millis(10));
}

#[test]
fn wrong_settings_are_refused_naming_the_setting() {
    let cases: [(&str, &str); 7] = [
        ("kind = \"ssd1306\"\nrotation = 90", "[display] rotation"),
        (
            "kind = \"ssd1306\"\ni2c_address = 0x90",
            "[display] i2c_address",
        ),
        ("kind = \"st7789\"", "[display] dc_line"),
        (
            "kind = \"st7789\"\ndc_line = 25\nwidth = 240\noffset_x = 10",
            "[display] width",
        ),
        ("kind = \"ssd1306\"\ndc_line = 25", "[display] dc_line"),
        (
            "kind = \"adafruit-oled-bonnet\"\ndim_after = \"10m\"\noff_after = \"1m\"",
            "[display] off_after",
        ),
        (
            "kind = \"st7789\"\ndc_line = 25\nrotation = 45",
            "[display] rotation",
        ),
    ];
    for (toml, want) in cases {
        let err = display(toml).validate().unwrap_err().to_string();
        assert!(err.starts_with(want), "{toml:?}: {err}");
    }
    let none = DisplayConfig::default();
    let by_hand = display("kind = \"ssd1306\"");
    let err = buttons("kind = \"preset\"").validate(&by_hand).unwrap_err();
    assert!(err.to_string().starts_with("[buttons] kind"), "{err}");
    for (toml, want) in [
        ("kind = \"gpio\"", "[buttons] lines"),
        ("kind = \"gpio\"\n[lines]\n17 = \"menu\"", "[buttons] lines"),
        (
            "kind = \"gpio\"\n[lines]\nx = \"select\"",
            "[buttons] lines",
        ),
        (
            "kind = \"gpio\"\n[lines]\n17 = \"sideways\"",
            "[buttons] lines",
        ),
        (
            "kind = \"gpio\"\nlong_press = \"10s\"\n[lines]\n17 = \"select\"",
            "[buttons] long_press",
        ),
    ] {
        let err = buttons(toml).validate(&none).unwrap_err().to_string();
        assert!(err.starts_with(want), "{toml:?}: {err}");
    }
}

#[test]
fn unknown_settings_are_refused() {
    let err = toml::from_str::<DisplayConfig>("kind = \"none\"\nbrightness = 3").unwrap_err();
    assert!(err.to_string().contains("brightness"), "{err}");
    let err = toml::from_str::<DisplayConfig>("kind = \"oled\"").unwrap_err();
    assert!(err.to_string().contains("oled"), "{err}");
}

#[test]
fn the_key_fingerprint_is_the_one_ssh_keygen_prints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id_ed25519");
    let line = generate_key(&path).unwrap();
    let listed = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path.with_extension("pub"))
        .output()
        .unwrap();
    let printed = String::from_utf8(listed.stdout).unwrap();
    let theirs = printed.split_whitespace().nth(1).unwrap();
    assert_eq!(key::fingerprint(&line).as_deref(), Some(theirs));
    let (modules, width) = key::qr_modules(&line).unwrap();
    assert_eq!(modules.len(), width * width);
    assert_eq!(key::fingerprint("ssh-ed25519 not-base64!"), None);
}

//! PLACEHOLDER: the `[display]` and `[buttons]` sections, as far as the shipped settings file
//! has them today (one `kind` each).
//!
//! The display and buttons work (`station/src/ui`) owns these sections: when it lands, its
//! `ui::DisplayConfig` and `ui::ButtonsConfig` replace the two structs below (delete this
//! module and point `Config::display` / `Config::buttons` at them). Until then the daemon
//! reads and checks the `kind` values, so the settings file a volunteer edits today is
//! already validated in full.

use serde::Deserialize;

use super::values::ValueError;

/// The `[display]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisplayConfig {
    /// The screen: none, a preset add-on board, or a controller.
    pub kind: DisplayKind,
}

impl Default for DisplayConfig {
    fn default() -> DisplayConfig {
        DisplayConfig {
            kind: DisplayKind::None,
        }
    }
}

/// The screens the settings file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum DisplayKind {
    /// No screen.
    None,
    /// Adafruit 128x64 OLED Bonnet (SSD1306, I2C).
    AdafruitOledBonnet,
    /// Waveshare 1.3" LCD HAT (ST7789 240x240, SPI).
    WaveshareLcdHat13,
    /// Adafruit Mini PiTFT 1.14" (ST7789 240x135, SPI).
    AdafruitMiniPitft114,
    /// Adafruit Mini PiTFT 1.3" (ST7789 240x240, SPI).
    AdafruitMiniPitft13,
    /// An SSD1306 OLED wired by hand.
    Ssd1306,
    /// An SH1106 OLED wired by hand.
    Sh1106,
    /// An ST7789 TFT wired by hand.
    St7789,
}

const DISPLAY_KINDS: [(&str, DisplayKind); 8] = [
    ("none", DisplayKind::None),
    ("adafruit-oled-bonnet", DisplayKind::AdafruitOledBonnet),
    ("waveshare-lcd-hat-1.3", DisplayKind::WaveshareLcdHat13),
    (
        "adafruit-mini-pitft-1.14",
        DisplayKind::AdafruitMiniPitft114,
    ),
    ("adafruit-mini-pitft-1.3", DisplayKind::AdafruitMiniPitft13),
    ("ssd1306", DisplayKind::Ssd1306),
    ("sh1106", DisplayKind::Sh1106),
    ("st7789", DisplayKind::St7789),
];

impl TryFrom<String> for DisplayKind {
    type Error = ValueError;
    fn try_from(text: String) -> Result<DisplayKind, ValueError> {
        choose(&text, &DISPLAY_KINDS, "screen")
    }
}

/// The `[buttons]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ButtonsConfig {
    /// The buttons: none, or those of the display's add-on board.
    pub kind: ButtonsKind,
}

impl Default for ButtonsConfig {
    fn default() -> ButtonsConfig {
        ButtonsConfig {
            kind: ButtonsKind::Preset,
        }
    }
}

/// The buttons the settings file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ButtonsKind {
    /// No buttons.
    None,
    /// The buttons of the display's add-on board.
    Preset,
}

const BUTTONS_KINDS: [(&str, ButtonsKind); 2] =
    [("none", ButtonsKind::None), ("preset", ButtonsKind::Preset)];

impl TryFrom<String> for ButtonsKind {
    type Error = ValueError;
    fn try_from(text: String) -> Result<ButtonsKind, ValueError> {
        choose(&text, &BUTTONS_KINDS, "choice for the buttons")
    }
}

fn choose<T: Copy>(text: &str, table: &[(&str, T)], what: &str) -> Result<T, ValueError> {
    table
        .iter()
        .find(|(name, _)| *name == text.trim())
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            let names: Vec<String> = table.iter().map(|(n, _)| format!("{n:?}")).collect();
            ValueError(format!(
                "{text:?} is not a {what} the box knows; write one of {}",
                names.join(", ")
            ))
        })
}

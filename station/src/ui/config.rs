//! The `[display]` and `[buttons]` sections of `burnstation.toml`, the presets for common
//! add-on boards, and what they resolve to (a panel and GPIO lines).
//!
//! A volunteer usually writes one line (`kind = "adafruit-oled-bonnet"`); a preset fills in
//! the wiring, and any wiring field set beside it overrides the preset's (a board mounted
//! upside down: `rotation = 180`). `kind = "ssd1306"` or `"st7789"` takes the wiring from
//! the fields alone. The daemon's settings embed these structs as its `display` and
//! `buttons` fields; `validate` says what is wrong in one sentence naming the setting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use burnstation_hal::buttons::{Button, GpioButtonsSpec};
use burnstation_hal::display::{I2cSpec, OledSize, PanelSpec, TftSpec};
use serde::Deserialize;

use super::nav::ButtonSet;

/// The `[display]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayConfig {
    /// Which display: none, a board preset, or a controller wired by hand.
    #[serde(default)]
    pub kind: DisplayKind,
    /// Dim after this long without a press or a new screen (0 = never).
    #[serde(default = "default_dim_after", with = "humantime_serde")]
    pub dim_after: Duration,
    /// Switch off after this long (0 = never); screens that wait for someone only dim.
    #[serde(default = "default_off_after", with = "humantime_serde")]
    pub off_after: Duration,
    /// SSD1306: the I2C bus.
    pub i2c_bus: Option<PathBuf>,
    /// SSD1306: the I2C address (0x3c or 0x3d).
    pub i2c_address: Option<u8>,
    /// ST7789: the SPI device.
    pub spi_device: Option<PathBuf>,
    /// ST7789: the SPI clock in Hz.
    pub spi_hz: Option<u32>,
    /// ST7789: the GPIO chip of the lines below.
    pub gpio_chip: Option<PathBuf>,
    /// ST7789: the data/command line.
    pub dc_line: Option<u32>,
    /// ST7789: the reset line (-1 or absent: none).
    pub reset_line: Option<i64>,
    /// ST7789: the backlight line (-1 or absent: none).
    pub backlight_line: Option<i64>,
    /// The panel's width before rotation.
    pub width: Option<u16>,
    /// The panel's height before rotation.
    pub height: Option<u16>,
    /// ST7789: where the panel starts in the controller's memory.
    pub offset_x: Option<u16>,
    /// ST7789: see `offset_x`.
    pub offset_y: Option<u16>,
    /// Degrees clockwise: 0 or 180 (SSD1306), 0, 90, 180 or 270 (ST7789).
    pub rotation: Option<u16>,
    /// ST7789: invert the colours (IPS panels need it).
    pub invert_colors: Option<bool>,
}

fn default_dim_after() -> Duration {
    Duration::from_secs(120)
}

fn default_off_after() -> Duration {
    Duration::from_secs(15 * 60)
}

impl Default for DisplayConfig {
    fn default() -> Self {
        Self {
            kind: DisplayKind::None,
            dim_after: default_dim_after(),
            off_after: default_off_after(),
            i2c_bus: None,
            i2c_address: None,
            spi_device: None,
            spi_hz: None,
            gpio_chip: None,
            dc_line: None,
            reset_line: None,
            backlight_line: None,
            width: None,
            height: None,
            offset_x: None,
            offset_y: None,
            rotation: None,
            invert_colors: None,
        }
    }
}

/// The displays the station knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum DisplayKind {
    /// No display.
    #[default]
    #[serde(rename = "none")]
    None,
    /// Adafruit 128x64 OLED Bonnet (SSD1306 on I2C, 5-way joystick and two buttons).
    #[serde(rename = "adafruit-oled-bonnet")]
    AdafruitOledBonnet,
    /// Waveshare 1.3" LCD HAT (ST7789 240x240 on SPI, joystick and three keys).
    #[serde(rename = "waveshare-lcd-hat-1.3")]
    WaveshareLcdHat13,
    /// Adafruit Mini PiTFT 1.14" (ST7789 240x135 on SPI, two buttons).
    #[serde(rename = "adafruit-mini-pitft-1.14")]
    AdafruitMiniPitft114,
    /// Adafruit Mini PiTFT 1.3" (ST7789 240x240 on SPI, two buttons).
    #[serde(rename = "adafruit-mini-pitft-1.3")]
    AdafruitMiniPitft13,
    /// An SSD1306 OLED wired by hand.
    #[serde(rename = "ssd1306")]
    Ssd1306,
    /// An ST7789 TFT wired by hand.
    #[serde(rename = "st7789")]
    St7789,
}

/// A setting that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{section}] {setting}: {message}")]
pub struct ConfigError {
    /// "display" or "buttons".
    pub section: &'static str,
    /// The setting's name.
    pub setting: &'static str,
    /// What is wrong and what to write instead.
    pub message: String,
}

fn bad(section: &'static str, setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        section,
        setting,
        message: message.into(),
    }
}

/// A board's wiring, before the settings' overrides.
struct Preset {
    panel: PanelSpec,
    buttons: &'static [(u32, Button)],
}

const SELECT: Button = Button::Select;
const NEXT: Button = Button::Next;
const PREVIOUS: Button = Button::Previous;
const MENU: Button = Button::Menu;

/// Adafruit OLED Bonnet: A = GPIO 5, B = GPIO 6; joystick up 17, down 22, left 27,
/// right 23, centre 4.
const BONNET_BUTTONS: &[(u32, Button)] = &[
    (5, SELECT),
    (6, MENU),
    (4, SELECT),
    (17, PREVIOUS),
    (22, NEXT),
    (27, MENU),
    (23, SELECT),
];
/// Waveshare 1.3" LCD HAT: KEY1 = 21, KEY2 = 20, KEY3 = 16; joystick up 6, down 19,
/// left 5, right 26, press 13.
const WAVESHARE_BUTTONS: &[(u32, Button)] = &[
    (21, SELECT),
    (20, NEXT),
    (16, MENU),
    (13, SELECT),
    (6, PREVIOUS),
    (19, NEXT),
    (5, MENU),
    (26, SELECT),
];
/// Adafruit Mini PiTFT: the upper button (GPIO 23) and the lower one (GPIO 24).
const PITFT_BUTTONS: &[(u32, Button)] = &[(23, SELECT), (24, NEXT)];

fn tft(dc: u32, reset: Option<u32>, backlight: Option<u32>) -> TftSpec {
    TftSpec {
        spi: "/dev/spidev0.0".into(),
        spi_hz: 32_000_000,
        gpio_chip: "/dev/gpiochip0".into(),
        dc,
        reset,
        backlight,
        native_width: 240,
        native_height: 240,
        offset_x: 0,
        offset_y: 0,
        rotation_degrees: 0,
        invert: true,
    }
}

fn preset(kind: DisplayKind) -> Option<Preset> {
    Some(match kind {
        DisplayKind::AdafruitOledBonnet => Preset {
            panel: PanelSpec::Ssd1306 {
                i2c: I2cSpec {
                    bus: "/dev/i2c-1".into(),
                    address: 0x3c,
                },
                size: OledSize::W128H64,
                rotated: false,
            },
            buttons: BONNET_BUTTONS,
        },
        DisplayKind::WaveshareLcdHat13 => Preset {
            panel: PanelSpec::St7789(tft(25, Some(27), Some(24))),
            buttons: WAVESHARE_BUTTONS,
        },
        DisplayKind::AdafruitMiniPitft114 => Preset {
            panel: PanelSpec::St7789(TftSpec {
                native_width: 135,
                native_height: 240,
                offset_x: 52,
                offset_y: 40,
                rotation_degrees: 90,
                ..tft(25, None, Some(22))
            }),
            buttons: PITFT_BUTTONS,
        },
        DisplayKind::AdafruitMiniPitft13 => Preset {
            panel: PanelSpec::St7789(TftSpec {
                offset_y: 80,
                rotation_degrees: 180,
                ..tft(25, None, Some(22))
            }),
            buttons: PITFT_BUTTONS,
        },
        DisplayKind::None | DisplayKind::Ssd1306 | DisplayKind::St7789 => return None,
    })
}

/// An optional GPIO line from the settings: absent or -1 is none.
fn optional_line(v: Option<i64>, setting: &'static str) -> Result<Option<u32>, ConfigError> {
    match v {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n).map(Some).map_err(|_| {
            bad(
                "display",
                setting,
                format!("{n} is not a GPIO line: use its number, or -1 for none"),
            )
        }),
    }
}

impl DisplayConfig {
    /// Checks every setting; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.dim_after.is_zero() && !self.off_after.is_zero() && self.off_after < self.dim_after
        {
            return Err(bad(
                "display",
                "off_after",
                "must not be shorter than dim_after (or 0 for never)",
            ));
        }
        self.resolve().map(drop)
    }

    /// Dim after this long, if ever.
    pub fn dim_after(&self) -> Option<Duration> {
        (!self.dim_after.is_zero()).then_some(self.dim_after)
    }

    /// Switch off after this long, if ever.
    pub fn off_after(&self) -> Option<Duration> {
        (!self.off_after.is_zero()).then_some(self.off_after)
    }

    /// The panel the settings describe (`None` for no display, or settings that do not
    /// [`validate`](Self::validate)).
    pub fn panel(&self) -> Option<PanelSpec> {
        self.resolve().ok().flatten()
    }

    /// The panel: the preset's (if any) with every field set here laid over it.
    pub fn resolve(&self) -> Result<Option<PanelSpec>, ConfigError> {
        let base = match self.kind {
            DisplayKind::None => return Ok(None),
            DisplayKind::Ssd1306 => None,
            DisplayKind::St7789 => None,
            kind => preset(kind).map(|p| p.panel),
        };
        let is_oled = matches!(
            (self.kind, &base),
            (DisplayKind::Ssd1306, _) | (_, Some(PanelSpec::Ssd1306 { .. }))
        );
        if is_oled {
            self.resolve_oled(base).map(Some)
        } else {
            let base = match base {
                Some(PanelSpec::St7789(t)) => Some(t),
                _ => None,
            };
            self.resolve_tft(base).map(|t| Some(PanelSpec::St7789(t)))
        }
    }

    fn resolve_oled(&self, base: Option<PanelSpec>) -> Result<PanelSpec, ConfigError> {
        let (bus, address, size, rotated) = match base {
            Some(PanelSpec::Ssd1306 { i2c, size, rotated }) => {
                (Some(i2c.bus), Some(i2c.address), Some(size), rotated)
            }
            _ => (None, None, None, false),
        };
        for (set, name) in [
            (self.spi_device.is_some(), "spi_device"),
            (self.spi_hz.is_some(), "spi_hz"),
            (self.dc_line.is_some(), "dc_line"),
            (
                self.offset_x.is_some() || self.offset_y.is_some(),
                "offset_x",
            ),
            (self.invert_colors.is_some(), "invert_colors"),
        ] {
            if set {
                return Err(bad(
                    "display",
                    name,
                    "is for ST7789 displays: remove it for an SSD1306",
                ));
            }
        }
        let bus = self
            .i2c_bus
            .clone()
            .or(bus)
            .unwrap_or_else(|| "/dev/i2c-1".into());
        let address = self.i2c_address.or(address).unwrap_or(0x3c);
        if !(0x03..=0x77).contains(&address) {
            return Err(bad(
                "display",
                "i2c_address",
                format!(
                    "{address:#04x} is not a 7-bit I2C address: SSD1306 OLEDs use 0x3c or 0x3d"
                ),
            ));
        }
        let size = match (self.width, self.height) {
            (None, None) => size.unwrap_or(OledSize::W128H64),
            (Some(128) | None, Some(64)) => OledSize::W128H64,
            (Some(128) | None, Some(32)) => OledSize::W128H32,
            (w, h) => {
                return Err(bad(
                    "display",
                    "height",
                    format!(
                        "an SSD1306 of {}x{} is not supported: use 128x64 or 128x32",
                        w.unwrap_or(128),
                        h.unwrap_or(64)
                    ),
                ));
            }
        };
        let rotated = match self.rotation {
            None => rotated,
            Some(0) => false,
            Some(180) => true,
            Some(r) => {
                return Err(bad(
                    "display",
                    "rotation",
                    format!("{r} is not possible on an SSD1306: use 0 or 180"),
                ));
            }
        };
        Ok(PanelSpec::Ssd1306 {
            i2c: I2cSpec { bus, address },
            size,
            rotated,
        })
    }

    fn resolve_tft(&self, base: Option<TftSpec>) -> Result<TftSpec, ConfigError> {
        if self.i2c_bus.is_some() || self.i2c_address.is_some() {
            return Err(bad(
                "display",
                "i2c_bus",
                "is for SSD1306 displays: remove it for an ST7789",
            ));
        }
        let by_hand = base.is_none();
        let mut t = base.unwrap_or_else(|| TftSpec {
            backlight: None,
            invert: false,
            ..tft(0, None, None)
        });
        if let Some(v) = &self.spi_device {
            t.spi = v.clone();
        }
        if let Some(v) = self.spi_hz {
            if !(1_000_000..=80_000_000).contains(&v) {
                return Err(bad(
                    "display",
                    "spi_hz",
                    "use a clock between 1000000 and 80000000 Hz",
                ));
            }
            t.spi_hz = v;
        }
        if let Some(v) = &self.gpio_chip {
            t.gpio_chip = v.clone();
        }
        match (self.dc_line, by_hand) {
            (Some(v), _) => t.dc = v,
            (None, true) => {
                return Err(bad(
                    "display",
                    "dc_line",
                    "an ST7789 needs its data/command GPIO line",
                ));
            }
            (None, false) => {}
        }
        if self.reset_line.is_some() {
            t.reset = optional_line(self.reset_line, "reset_line")?;
        }
        if self.backlight_line.is_some() {
            t.backlight = optional_line(self.backlight_line, "backlight_line")?;
        }
        if let Some(v) = self.width {
            t.native_width = v;
        }
        if let Some(v) = self.height {
            t.native_height = v;
        }
        if let Some(v) = self.offset_x {
            t.offset_x = v;
        }
        if let Some(v) = self.offset_y {
            t.offset_y = v;
        }
        if let Some(v) = self.invert_colors {
            t.invert = v;
        }
        if let Some(r) = self.rotation {
            if ![0, 90, 180, 270].contains(&r) {
                return Err(bad(
                    "display",
                    "rotation",
                    format!("{r} is not 0, 90, 180 or 270"),
                ));
            }
            t.rotation_degrees = r;
        }
        // The ST7789's memory is 240x320; the panel is a window in it.
        let fits = |size: u16, offset: u16, max: u16| {
            size >= 64 && u32::from(size) + u32::from(offset) <= u32::from(max)
        };
        if !fits(t.native_width, t.offset_x, 240) {
            return Err(bad(
                "display",
                "width",
                format!(
                    "{} wide at offset_x {} does not fit an ST7789 (64 to 240 pixels in all)",
                    t.native_width, t.offset_x
                ),
            ));
        }
        if !fits(t.native_height, t.offset_y, 320) {
            return Err(bad(
                "display",
                "height",
                format!(
                    "{} high at offset_y {} does not fit an ST7789 (64 to 320 pixels in all)",
                    t.native_height, t.offset_y
                ),
            ));
        }
        Ok(t)
    }
}

/// The `[buttons]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonsConfig {
    /// None, the display board's own, or GPIO lines listed here.
    #[serde(default)]
    pub kind: ButtonsKind,
    /// A hold this long is a long press.
    #[serde(default = "default_long_press", with = "humantime_serde")]
    pub long_press: Duration,
    /// The kernel's debounce period for each line.
    #[serde(default = "default_debounce", with = "humantime_serde")]
    pub debounce: Duration,
    /// The GPIO chip (kind = "gpio").
    pub gpio_chip: Option<PathBuf>,
    /// A pressed button pulls its line low (the usual wiring, to ground).
    pub active_low: Option<bool>,
    /// Turn the line's pull-up (active-low) or pull-down bias on.
    pub pull: Option<bool>,
    /// GPIO line number -> "select", "next", "previous" or "menu" (kind = "gpio").
    #[serde(default)]
    pub lines: BTreeMap<String, String>,
}

fn default_long_press() -> Duration {
    Duration::from_millis(800)
}

fn default_debounce() -> Duration {
    Duration::from_millis(10)
}

impl Default for ButtonsConfig {
    fn default() -> Self {
        Self {
            kind: ButtonsKind::Preset,
            long_press: default_long_press(),
            debounce: default_debounce(),
            gpio_chip: None,
            active_low: None,
            pull: None,
            lines: BTreeMap::new(),
        }
    }
}

/// Where the buttons are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ButtonsKind {
    /// No buttons: the box burns by itself (`[burn] start = "auto"`).
    None,
    /// The buttons of the display's board preset (none without a display).
    #[default]
    Preset,
    /// The GPIO lines in `lines`.
    Gpio,
}

impl ButtonsConfig {
    /// Checks every setting against the display's; the error names the first wrong one.
    pub fn validate(&self, display: &DisplayConfig) -> Result<(), ConfigError> {
        self.resolve(display).map(drop)
    }

    /// The GPIO lines and their buttons (`None`: no buttons).
    pub fn resolve(&self, display: &DisplayConfig) -> Result<Option<GpioButtonsSpec>, ConfigError> {
        if !(Duration::from_millis(200)..=Duration::from_secs(5)).contains(&self.long_press) {
            return Err(bad(
                "buttons",
                "long_press",
                "use between 200ms and 5s, e.g. \"800ms\"",
            ));
        }
        if self.debounce > Duration::from_millis(100) {
            return Err(bad(
                "buttons",
                "debounce",
                "use at most 100ms, e.g. \"10ms\"",
            ));
        }
        let lines: Vec<(u32, Button)> = match self.kind {
            ButtonsKind::None => return Ok(None),
            ButtonsKind::Preset => {
                if !self.lines.is_empty() {
                    return Err(bad(
                        "buttons",
                        "lines",
                        "are only read with kind = \"gpio\"",
                    ));
                }
                match preset(display.kind) {
                    Some(p) => p.buttons.to_vec(),
                    // No display board, no board buttons.
                    None if display.kind == DisplayKind::None => return Ok(None),
                    None => {
                        return Err(bad(
                            "buttons",
                            "kind",
                            "\"preset\" needs a display board preset in [display] kind; \
                             use kind = \"gpio\" with lines, or \"none\"",
                        ));
                    }
                }
            }
            ButtonsKind::Gpio => {
                if self.lines.is_empty() {
                    return Err(bad(
                        "buttons",
                        "lines",
                        "list at least one line, e.g. lines = { 17 = \"select\" }",
                    ));
                }
                let mut lines = Vec::new();
                for (line, role) in &self.lines {
                    let offset: u32 = line.parse().map_err(|_| {
                        bad(
                            "buttons",
                            "lines",
                            format!("{line:?} is not a GPIO line number"),
                        )
                    })?;
                    let button: Button = role.parse().map_err(|e| bad("buttons", "lines", e))?;
                    lines.push((offset, button));
                }
                if !lines.iter().any(|&(_, b)| b == Button::Select) {
                    return Err(bad(
                        "buttons",
                        "lines",
                        "one line must be \"select\": it is the button for the next step",
                    ));
                }
                lines
            }
        };
        Ok(Some(GpioButtonsSpec {
            chip: self
                .gpio_chip
                .clone()
                .unwrap_or_else(|| "/dev/gpiochip0".into()),
            lines,
            active_low: self.active_low.unwrap_or(true),
            pull: self.pull.unwrap_or(true),
            debounce: self.debounce,
            long_press: self.long_press,
        }))
    }

    /// Which buttons the board has (a single select button when they cannot be resolved).
    pub fn button_set(&self, display: &DisplayConfig) -> ButtonSet {
        match self.resolve(display) {
            Ok(Some(spec)) => ButtonSet::of(spec.lines.iter().map(|&(_, b)| b)),
            _ => ButtonSet::SINGLE,
        }
    }
}

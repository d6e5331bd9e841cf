//! The display: the panels the station can draw on, and a wrapper that never lets a missing
//! one stop the box.
//!
//! Screens are drawn (by `burnstation::ui`) into a [`Frame`], a [`Framebuffer`] in the
//! panel's colour format, and the whole frame is handed to a [`Panel`]:
//!
//! - [`Ssd1306Panel`]: 128x64 (or 128x32) monochrome OLEDs over I2C (`ssd1306` crate);
//! - [`St7789Panel`]: 240x240 and 240x135 colour TFTs over SPI (`mipidsi`), DC, reset and
//!   backlight on GPIO lines through gpiocdev.
//!
//! [`Display`] owns whichever panel the settings name. The display is never a dependency of
//! burning: a panel that is missing, miswired or stops answering is logged once, the box goes
//! on without it, and the panel is tried again every [`RETRY_EVERY`]. [`FakePanel`] is the
//! test double, a panel in memory that can be told to fail.

mod fake;
mod framebuffer;
mod gpio_pin;
mod ssd1306;
mod st7789;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use embedded_graphics_core::geometry::Size;

pub use fake::{FakePanel, FakePanelState};
pub use framebuffer::{Frame, Framebuffer, decode_png_rgb8};
pub use gpio_pin::{GpioError, OutputLine};
pub use ssd1306::Ssd1306Panel;
pub use st7789::St7789Panel;

/// How often a missing or failed panel is tried again.
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// A panel that shows whole frames.
pub trait Panel: Send {
    /// Shows `frame`, which has the panel's size and colour format.
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayError>;
    /// Full brightness, dimmed, or dark (OLED off, TFT backlight off).
    fn set_power(&mut self, power: PanelPower) -> Result<(), DisplayError>;
}

/// How bright the panel is: the screen saver's three steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelPower {
    /// Full brightness.
    Full,
    /// Dimmed (OLED contrast down; on a TFT the UI draws a darker palette).
    Dim,
    /// Dark: nothing is lit.
    Off,
}

/// Which panel is attached and how: what the settings' `[display]` section resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelSpec {
    /// An SSD1306 OLED on an I2C bus.
    Ssd1306 {
        /// The bus and address.
        i2c: I2cSpec,
        /// The panel's size.
        size: OledSize,
        /// Mounted upside down (rotated 180 degrees).
        rotated: bool,
    },
    /// An ST7789 TFT on SPI.
    St7789(TftSpec),
}

/// An I2C bus and a device address on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I2cSpec {
    /// The bus device, e.g. `/dev/i2c-1`.
    pub bus: PathBuf,
    /// The 7-bit address, e.g. `0x3c`.
    pub address: u8,
}

/// The SSD1306 sizes the station draws for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OledSize {
    /// 128x64.
    W128H64,
    /// 128x32.
    W128H32,
}

/// An ST7789 on SPI, and its GPIO lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftSpec {
    /// The SPI device, e.g. `/dev/spidev0.0`.
    pub spi: PathBuf,
    /// The SPI clock in Hz.
    pub spi_hz: u32,
    /// The GPIO chip of the lines below, e.g. `/dev/gpiochip0`.
    pub gpio_chip: PathBuf,
    /// The data/command line.
    pub dc: u32,
    /// The reset line, if the board has one.
    pub reset: Option<u32>,
    /// The backlight line, if the board switches it.
    pub backlight: Option<u32>,
    /// The panel's size before rotation, as the controller sees it (135x240 for the 1.14"
    /// Mini PiTFT).
    pub native_width: u16,
    /// See `native_width`.
    pub native_height: u16,
    /// Where the panel's pixels start in the controller's 240x320 memory.
    pub offset_x: u16,
    /// See `offset_x`.
    pub offset_y: u16,
    /// 0, 90, 180 or 270 degrees clockwise.
    pub rotation_degrees: u16,
    /// IPS panels want their colours inverted.
    pub invert: bool,
}

impl TftSpec {
    /// The size of a frame for this panel, after rotation.
    pub fn frame_size(&self) -> Size {
        let (w, h) = (u32::from(self.native_width), u32::from(self.native_height));
        if self.rotation_degrees % 180 == 90 {
            Size::new(h, w)
        } else {
            Size::new(w, h)
        }
    }
}

impl PanelSpec {
    /// The size of a frame for this panel.
    pub fn frame_size(&self) -> Size {
        match self {
            PanelSpec::Ssd1306 { size, .. } => ssd1306::frame_size(*size),
            PanelSpec::St7789(tft) => tft.frame_size(),
        }
    }

    /// Whether the panel shows colour (else on/off pixels).
    pub fn is_colour(&self) -> bool {
        matches!(self, PanelSpec::St7789(_))
    }

    /// Opens and initialises the panel.
    pub fn open(&self) -> Result<Box<dyn Panel>, DisplayError> {
        Ok(match self {
            PanelSpec::Ssd1306 { i2c, size, rotated } => {
                Box::new(Ssd1306Panel::open(i2c, *size, *rotated)?)
            }
            PanelSpec::St7789(tft) => Box::new(St7789Panel::open(tft)?),
        })
    }
}

/// Why a panel could not be used. Each says what to check.
#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    /// The bus device could not be opened.
    #[error("cannot open {what} ({source}): {hint}")]
    Open {
        /// The device, e.g. "the I2C bus /dev/i2c-1".
        what: String,
        /// What the kernel said.
        source: std::io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// A GPIO line of the display could not be used.
    #[error("{0}: check the display's GPIO lines in the settings")]
    Gpio(#[from] GpioError),
    /// The controller did not take a command: nothing there, or miswired.
    #[error("{what} does not answer ({detail}): check its wiring and address")]
    NoAnswer {
        /// The panel, e.g. "the OLED at address 0x3c on /dev/i2c-1".
        what: String,
        /// The bus error.
        detail: String,
    },
    /// A frame of another size or colour format than the panel's: a bug in the caller.
    #[error("the frame does not match the panel's size or colours (a bug: please report it)")]
    WrongFrame,
}

/// Whether the display is showing what the station draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisplayState {
    /// The settings name no display.
    NotConfigured,
    /// The panel is showing frames.
    Working,
    /// The panel could not be opened or stopped answering; it is tried again.
    Missing {
        /// The last failure, as one sentence.
        reason: String,
    },
}

/// Opens a panel from its spec: [`PanelSpec::open`], or a test's stand-in.
pub type Opener = Box<dyn FnMut(&PanelSpec) -> Result<Box<dyn Panel>, DisplayError> + Send>;

/// The display as the station sees it: a panel that may or may not be there.
///
/// `show` never fails. A failure is logged (a warning the first time, then quietly at each
/// retry), the panel is dropped, and it is opened again at the next frame after
/// [`RETRY_EVERY`]. Identical frames are not sent again.
pub struct Display {
    spec: Option<PanelSpec>,
    opener: Opener,
    panel: Option<Box<dyn Panel>>,
    state: DisplayState,
    next_attempt: Option<Instant>,
    last_frame: Option<Frame>,
    last_power: Option<PanelPower>,
}

impl std::fmt::Debug for Display {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Display")
            .field("spec", &self.spec)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Display {
    /// The display of `spec` (`None`: the settings name none), opened at the first frame.
    pub fn new(spec: Option<PanelSpec>) -> Self {
        Self::with_opener(spec, Box::new(|spec: &PanelSpec| spec.open()))
    }

    /// Like [`Display::new`], opening panels with `opener` (tests pass a [`FakePanel`]).
    pub fn with_opener(spec: Option<PanelSpec>, opener: Opener) -> Self {
        let state = match spec {
            Some(_) => DisplayState::Missing {
                reason: "not opened yet".into(),
            },
            None => DisplayState::NotConfigured,
        };
        Self {
            spec,
            opener,
            panel: None,
            state,
            next_attempt: None,
            last_frame: None,
            last_power: None,
        }
    }

    /// The size and colour format frames must have (a 128x64 mono frame when there is no
    /// display, so the UI always has something to draw into).
    pub fn frame_size(&self) -> (Size, bool) {
        match &self.spec {
            Some(spec) => (spec.frame_size(), spec.is_colour()),
            None => (Size::new(128, 64), false),
        }
    }

    /// Whether the panel is showing frames.
    pub fn state(&self) -> &DisplayState {
        &self.state
    }

    /// Shows `frame` at `power`, opening the panel first if it is due for a try.
    pub fn show(&mut self, frame: &Frame, power: PanelPower, now: Instant) {
        let Some(spec) = &self.spec else { return };
        if self.panel.is_none() {
            if self.next_attempt.is_some_and(|at| now < at) {
                return;
            }
            match (self.opener)(spec) {
                Ok(panel) => {
                    tracing::info!(display = ?spec, "display opened");
                    self.panel = Some(panel);
                    self.last_frame = None;
                    self.last_power = None;
                }
                Err(e) => return self.failed(e, now),
            }
        }
        let Some(panel) = self.panel.as_mut() else {
            return;
        };
        let mut result = Ok(());
        if self.last_frame.as_ref() != Some(frame) {
            result = panel.show(frame);
            if result.is_ok() {
                self.last_frame = Some(frame.clone());
            }
        }
        if result.is_ok() && self.last_power != Some(power) {
            result = panel.set_power(power);
            if result.is_ok() {
                self.last_power = Some(power);
            }
        }
        match result {
            Ok(()) => self.state = DisplayState::Working,
            Err(e) => self.failed(e, now),
        }
    }

    fn failed(&mut self, e: DisplayError, now: Instant) {
        let reason = e.to_string();
        if matches!(self.state, DisplayState::Missing { reason: ref r } if *r == reason) {
            tracing::debug!("display still unusable: {reason}");
        } else {
            tracing::warn!(
                "display unusable, the box goes on without it and retries every {} s: {reason}",
                RETRY_EVERY.as_secs()
            );
        }
        self.panel = None;
        self.state = DisplayState::Missing { reason };
        self.next_attempt = Some(now + RETRY_EVERY);
    }
}

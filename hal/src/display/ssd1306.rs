//! SSD1306 128x64 / 128x32 monochrome OLEDs over I2C (the Adafruit OLED Bonnet and the many
//! bare 0.96" modules), through the `ssd1306` crate on linux-embedded-hal's `I2cdev`.

use embedded_graphics_core::pixelcolor::BinaryColor;
use embedded_graphics_core::prelude::*;
use linux_embedded_hal::I2cdev;
use ssd1306::mode::{BufferedGraphicsMode, DisplayConfig};
use ssd1306::prelude::*;
use ssd1306::{I2CDisplayInterface, Ssd1306};

use super::{DisplayError, Frame, I2cSpec, OledSize, Panel, PanelPower};

/// What the SSD1306 driver needs for each size the station supports.
type Driver<S> = Ssd1306<I2CInterface<I2cdev>, S, BufferedGraphicsMode<S>>;

/// An initialised SSD1306 panel.
pub struct Ssd1306Panel {
    driver: Sized1306,
    bus: String,
    address: u8,
}

impl std::fmt::Debug for Ssd1306Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ssd1306Panel")
            .field("bus", &self.bus)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The driver's size is a type; the station picks it from the settings at run time. One
/// panel lives for the whole run, so the smaller variant's unused bytes do not matter.
#[allow(clippy::large_enum_variant)]
enum Sized1306 {
    W128H64(Driver<DisplaySize128x64>),
    W128H32(Driver<DisplaySize128x32>),
}

impl Ssd1306Panel {
    /// Opens the I2C bus and initialises the controller; fails if the bus is missing or
    /// nothing answers at the address.
    pub fn open(spec: &I2cSpec, size: OledSize, rotated: bool) -> Result<Self, DisplayError> {
        let bus = spec.bus.display().to_string();
        let i2c = I2cdev::new(&spec.bus).map_err(|e| DisplayError::Open {
            what: format!("the I2C bus {bus}"),
            source: std::io::Error::other(e),
            hint: "enable I2C (dtparam=i2c_arm=on in config.txt)",
        })?;
        let interface = I2CDisplayInterface::new_custom_address(i2c, spec.address);
        let rotation = if rotated {
            DisplayRotation::Rotate180
        } else {
            DisplayRotation::Rotate0
        };
        let driver = match size {
            OledSize::W128H64 => {
                let mut d = Ssd1306::new(interface, DisplaySize128x64, rotation)
                    .into_buffered_graphics_mode();
                d.init().map_err(|e| no_answer(&bus, spec.address, e))?;
                Sized1306::W128H64(d)
            }
            OledSize::W128H32 => {
                let mut d = Ssd1306::new(interface, DisplaySize128x32, rotation)
                    .into_buffered_graphics_mode();
                d.init().map_err(|e| no_answer(&bus, spec.address, e))?;
                Sized1306::W128H32(d)
            }
        };
        Ok(Self {
            driver,
            bus,
            address: spec.address,
        })
    }
}

fn no_answer(bus: &str, address: u8, e: impl std::fmt::Debug) -> DisplayError {
    DisplayError::NoAnswer {
        what: format!("the OLED at address {address:#04x} on {bus}"),
        detail: format!("{e:?}"),
    }
}

/// Copies a frame into the driver's buffer and sends it.
fn push<S: DisplaySize>(
    driver: &mut Driver<S>,
    frame: &Frame,
    bus: &str,
    address: u8,
) -> Result<(), DisplayError> {
    let Frame::Mono(fb) = frame else {
        return Err(DisplayError::WrongFrame);
    };
    if fb.size() != driver.bounding_box().size {
        return Err(DisplayError::WrongFrame);
    }
    driver.clear_buffer();
    let width = fb.size().width;
    for (i, &color) in fb.pixels().iter().enumerate() {
        if color == BinaryColor::On {
            let i = i as u32;
            driver.set_pixel(i % width, i / width, true);
        }
    }
    driver.flush().map_err(|e| no_answer(bus, address, e))
}

fn power<S: DisplaySize>(
    driver: &mut Driver<S>,
    power: PanelPower,
    bus: &str,
    address: u8,
) -> Result<(), DisplayError> {
    let result = match power {
        PanelPower::Off => driver.set_display_on(false),
        PanelPower::Dim => driver
            .set_brightness(Brightness::DIMMEST)
            .and_then(|()| driver.set_display_on(true)),
        PanelPower::Full => driver
            .set_brightness(Brightness::BRIGHTEST)
            .and_then(|()| driver.set_display_on(true)),
    };
    result.map_err(|e| no_answer(bus, address, e))
}

impl Panel for Ssd1306Panel {
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayError> {
        match &mut self.driver {
            Sized1306::W128H64(d) => push(d, frame, &self.bus, self.address),
            Sized1306::W128H32(d) => push(d, frame, &self.bus, self.address),
        }
    }

    fn set_power(&mut self, level: PanelPower) -> Result<(), DisplayError> {
        match &mut self.driver {
            Sized1306::W128H64(d) => power(d, level, &self.bus, self.address),
            Sized1306::W128H32(d) => power(d, level, &self.bus, self.address),
        }
    }
}

/// The frame size of an SSD1306 of this size (its rotation is 0 or 180 degrees only).
pub(super) fn frame_size(size: OledSize) -> Size {
    match size {
        OledSize::W128H64 => Size::new(128, 64),
        OledSize::W128H32 => Size::new(128, 32),
    }
}

//! ST7789 colour TFTs over SPI (Waveshare 1.3" LCD HAT, Adafruit Mini PiTFT 1.14" and 1.3"),
//! through `mipidsi` on linux-embedded-hal's spidev, with DC, reset and backlight on GPIO
//! lines through gpiocdev.

use embedded_graphics_core::prelude::*;
use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiDevice;
use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
use linux_embedded_hal::{Delay, SpidevDevice};
use mipidsi::interface::{Interface, InterfaceKind};
use mipidsi::models::ST7789;
use mipidsi::options::{ColorInversion, Orientation, Rotation};

use super::gpio_pin::{GpioError, OutputLine};
use super::{DisplayError, Frame, Panel, PanelPower, TftSpec};

/// spidev moves at most `bufsiz` bytes (4096 by default) per transfer; pixels are sent in
/// chunks of this size.
const SPI_CHUNK: usize = 4096;

/// An initialised ST7789 panel.
pub struct St7789Panel {
    display: mipidsi::Display<SpiLink, ST7789, ResetLine>,
    backlight: Option<OutputLine>,
    size: Size,
    spi: String,
}

impl std::fmt::Debug for St7789Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("St7789Panel")
            .field("spi", &self.spi)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl St7789Panel {
    /// Opens the SPI device and the GPIO lines and initialises the controller.
    pub fn open(spec: &TftSpec) -> Result<Self, DisplayError> {
        let spi_name = spec.spi.display().to_string();
        let open_failed = |source, hint| DisplayError::Open {
            what: format!("the SPI device {spi_name}"),
            source,
            hint,
        };
        let mut spi = SpidevDevice::open(&spec.spi).map_err(|e| {
            open_failed(
                std::io::Error::other(e),
                "enable SPI (dtparam=spi=on in config.txt)",
            )
        })?;
        let options = SpidevOptions::new()
            .bits_per_word(8)
            .max_speed_hz(spec.spi_hz)
            .mode(SpiModeFlags::SPI_MODE_0)
            .build();
        spi.configure(&options)
            .map_err(|e| open_failed(e, "lower the display's SPI speed"))?;
        let gpio = |offset, high| OutputLine::request(&spec.gpio_chip, offset, high);
        let dc = gpio(spec.dc, false)?;
        // Backlight off until the first frame is there, so the panel's power-on noise is
        // never seen.
        let backlight = spec.backlight.map(|line| gpio(line, false)).transpose()?;
        let reset = match spec.reset {
            Some(line) => ResetLine::Line(gpio(line, true)?),
            None => ResetLine::None,
        };
        let link = SpiLink {
            spi,
            dc,
            buffer: vec![0; SPI_CHUNK],
        };
        let display = mipidsi::Builder::new(ST7789, link)
            .display_size(spec.native_width, spec.native_height)
            .display_offset(spec.offset_x, spec.offset_y)
            .orientation(Orientation::new().rotate(rotation(spec.rotation_degrees)))
            .invert_colors(if spec.invert {
                ColorInversion::Inverted
            } else {
                ColorInversion::Normal
            })
            .reset_pin(reset)
            .init(&mut Delay)
            .map_err(|e| DisplayError::NoAnswer {
                what: format!("the TFT on {spi_name}"),
                detail: format!("{e:?}"),
            })?;
        Ok(Self {
            display,
            backlight,
            size: spec.frame_size(),
            spi: spi_name,
        })
    }

    fn bus_error(&self, e: impl std::fmt::Debug) -> DisplayError {
        DisplayError::NoAnswer {
            what: format!("the TFT on {}", self.spi),
            detail: format!("{e:?}"),
        }
    }
}

fn rotation(degrees: u16) -> Rotation {
    match degrees {
        90 => Rotation::Deg90,
        180 => Rotation::Deg180,
        270 => Rotation::Deg270,
        _ => Rotation::Deg0,
    }
}

impl Panel for St7789Panel {
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayError> {
        let Frame::Colour(fb) = frame else {
            return Err(DisplayError::WrongFrame);
        };
        if fb.size() != self.size {
            return Err(DisplayError::WrongFrame);
        }
        let (w, h) = (self.size.width as u16, self.size.height as u16);
        let pixels = fb.pixels().iter().copied();
        self.display
            .set_pixels(0, 0, w - 1, h - 1, pixels)
            .map_err(|e| self.bus_error(e))
    }

    fn set_power(&mut self, power: PanelPower) -> Result<(), DisplayError> {
        // The ST7789 has no brightness of its own, and the HATs wire the backlight to a
        // plain GPIO line: dimming is the UI's darker palette, "off" is the backlight off.
        let lit = power != PanelPower::Off;
        if let Some(backlight) = &mut self.backlight {
            backlight.set_state(lit.into())?;
        }
        Ok(())
    }
}

/// The reset line, when the board has one (the Mini PiTFT does not).
enum ResetLine {
    Line(OutputLine),
    None,
}

impl embedded_hal::digital::ErrorType for ResetLine {
    type Error = GpioError;
}

impl OutputPin for ResetLine {
    fn set_low(&mut self) -> Result<(), GpioError> {
        match self {
            ResetLine::Line(line) => line.set_low(),
            ResetLine::None => Ok(()),
        }
    }

    fn set_high(&mut self) -> Result<(), GpioError> {
        match self {
            ResetLine::Line(line) => line.set_high(),
            ResetLine::None => Ok(()),
        }
    }
}

/// The SPI bus and DC line as mipidsi's 4-wire serial interface, owning its chunk buffer
/// (mipidsi's own `SpiInterface` borrows one, which a panel that can be reopened at run
/// time cannot give it).
struct SpiLink {
    spi: SpidevDevice,
    dc: OutputLine,
    buffer: Vec<u8>,
}

/// A failure on the SPI bus or the DC line.
#[derive(Debug)]
enum LinkError {
    Spi(#[allow(dead_code)] linux_embedded_hal::SPIError),
    Dc(#[allow(dead_code)] GpioError),
}

impl Interface for SpiLink {
    type Word = u8;
    type Error = LinkError;

    const KIND: InterfaceKind = InterfaceKind::Serial4Line;

    fn send_command(&mut self, command: u8, args: &[u8]) -> Result<(), LinkError> {
        self.dc.set_low().map_err(LinkError::Dc)?;
        self.spi.write(&[command]).map_err(LinkError::Spi)?;
        self.dc.set_high().map_err(LinkError::Dc)?;
        if !args.is_empty() {
            self.spi.write(args).map_err(LinkError::Spi)?;
        }
        Ok(())
    }

    fn send_pixels<const N: usize>(
        &mut self,
        pixels: impl IntoIterator<Item = [u8; N]>,
    ) -> Result<(), LinkError> {
        let mut filled = 0;
        for pixel in pixels {
            if filled + N > self.buffer.len() {
                self.spi
                    .write(&self.buffer[..filled])
                    .map_err(LinkError::Spi)?;
                filled = 0;
            }
            self.buffer[filled..filled + N].copy_from_slice(&pixel);
            filled += N;
        }
        if filled > 0 {
            self.spi
                .write(&self.buffer[..filled])
                .map_err(LinkError::Spi)?;
        }
        Ok(())
    }

    fn send_repeated_pixel<const N: usize>(
        &mut self,
        pixel: [u8; N],
        count: u32,
    ) -> Result<(), LinkError> {
        self.send_pixels((0..count).map(|_| pixel))
    }
}

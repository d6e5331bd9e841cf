//! One GPIO output line through the kernel's GPIO character device, as an embedded-hal pin.
//!
//! The display drivers want `OutputPin`s for DC, reset and backlight. linux-embedded-hal's
//! own pins sit on the deprecated sysfs interface or the older gpio-cdev crate; the station
//! uses gpiocdev everywhere (buttons too), so this adapter is all the drivers need.

use std::path::{Path, PathBuf};

use gpiocdev::line::Value;

/// A requested output line. The kernel releases it when this is dropped.
#[derive(Debug)]
pub struct OutputLine {
    request: gpiocdev::Request,
    offset: u32,
}

/// An output line could not be requested or set.
#[derive(Debug, thiserror::Error)]
#[error("GPIO line {offset} of {chip}: {source}", chip = chip.display())]
pub struct GpioError {
    /// The GPIO chip, e.g. `/dev/gpiochip0`.
    pub chip: PathBuf,
    /// The line's offset on that chip (the Pi's BCM GPIO number on `gpiochip0`).
    pub offset: u32,
    /// What the kernel said.
    #[source]
    pub source: gpiocdev::Error,
}

impl OutputLine {
    /// Requests line `offset` of `chip` as an output, driven to `high` at once.
    pub fn request(chip: &Path, offset: u32, high: bool) -> Result<Self, GpioError> {
        let request = gpiocdev::Request::builder()
            .on_chip(chip)
            .with_consumer("burnstation-display")
            .with_line(offset)
            .as_output(level(high))
            .request()
            .map_err(|source| GpioError {
                chip: chip.to_owned(),
                offset,
                source,
            })?;
        Ok(Self { request, offset })
    }

    fn set(&mut self, high: bool) -> Result<(), GpioError> {
        self.request
            .set_value(self.offset, level(high))
            .map_err(|source| GpioError {
                chip: self.request.chip_path().to_owned(),
                offset: self.offset,
                source,
            })
    }
}

fn level(high: bool) -> Value {
    if high { Value::Active } else { Value::Inactive }
}

impl embedded_hal::digital::Error for GpioError {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl embedded_hal::digital::ErrorType for OutputLine {
    type Error = GpioError;
}

impl embedded_hal::digital::OutputPin for OutputLine {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.set(false)
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.set(true)
    }
}

//! Buttons on GPIO lines, through the kernel's GPIO character device (gpiocdev).
//!
//! Every line is requested as an input with edge events on both edges and the kernel's
//! debounce (done in hardware where the GPIO controller can, else by gpiolib in software),
//! so contact bounce never reaches the station. Buttons on HATs pull the line to ground when
//! pressed: lines are active-low with the pull-up bias on by default. Edge events carry the
//! kernel's monotonic timestamps, so short and long are told apart from when the edges
//! happened, not from when the station got round to reading them.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use gpiocdev::line::{Bias, EdgeDetection, EdgeKind};

use super::{Button, ButtonError, ButtonEvent, ButtonSource, PressClassifier};

/// Which lines are which buttons, and how they behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpioButtonsSpec {
    /// The GPIO chip, e.g. `/dev/gpiochip0` (the Pi's header).
    pub chip: PathBuf,
    /// Each line's offset on the chip and the button it is. Several lines may be one button
    /// (a joystick's centre and a key beside it).
    pub lines: Vec<(u32, Button)>,
    /// A pressed button pulls its line low (the usual wiring: button to ground).
    pub active_low: bool,
    /// Turn on the line's pull-up (active-low) or pull-down (active-high) bias.
    pub pull: bool,
    /// The kernel's debounce period.
    pub debounce: Duration,
    /// How long a hold is a long press.
    pub long_press: Duration,
}

/// Buttons on GPIO lines.
#[derive(Debug)]
pub struct GpioButtons {
    request: gpiocdev::Request,
    buttons: BTreeMap<u32, Button>,
    classifier: PressClassifier,
    pending: VecDeque<ButtonEvent>,
    chip: String,
}

impl GpioButtons {
    /// Requests the lines. Fails if the chip or a line is missing or already in use.
    pub fn open(spec: &GpioButtonsSpec) -> Result<Self, ButtonError> {
        let offsets: Vec<u32> = spec.lines.iter().map(|&(offset, _)| offset).collect();
        let mut builder = gpiocdev::Request::builder();
        builder
            .on_chip(&spec.chip)
            .with_consumer("burnstation-buttons")
            .with_lines(&offsets)
            .as_input()
            .with_edge_detection(EdgeDetection::BothEdges)
            .with_debounce_period(spec.debounce);
        if spec.active_low {
            builder.as_active_low();
        }
        if spec.pull {
            builder.with_bias(if spec.active_low {
                Bias::PullUp
            } else {
                Bias::PullDown
            });
        }
        let chip = spec.chip.display().to_string();
        let request = builder.request().map_err(|source| ButtonError::Gpio {
            chip: chip.clone(),
            lines: offsets.clone(),
            source,
        })?;
        Ok(Self {
            request,
            buttons: spec.lines.iter().copied().collect(),
            classifier: PressClassifier::new(spec.long_press),
            pending: VecDeque::new(),
            chip,
        })
    }

    fn error(&self, source: gpiocdev::Error) -> ButtonError {
        ButtonError::Gpio {
            chip: self.chip.clone(),
            lines: self.buttons.keys().copied().collect(),
            source,
        }
    }
}

/// Now on the clock the kernel stamps edge events with (CLOCK_MONOTONIC, gpiocdev's default).
fn monotonic_now() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default()
}

impl ButtonSource for GpioButtons {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<ButtonEvent>, ButtonError> {
        let give_up = monotonic_now() + timeout;
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let now = monotonic_now();
            self.pending.extend(self.classifier.poll(now));
            if !self.pending.is_empty() {
                continue;
            }
            if now >= give_up {
                return Ok(None);
            }
            // Wake for the next edge, a long press falling due, or the caller's timeout.
            let until = self
                .classifier
                .next_deadline()
                .map_or(give_up, |due| due.min(give_up));
            let wait = until.saturating_sub(now);
            if !self
                .request
                .wait_edge_event(wait)
                .map_err(|e| self.error(e))?
            {
                continue;
            }
            let edge = self.request.read_edge_event().map_err(|e| self.error(e))?;
            let Some(&button) = self.buttons.get(&edge.offset) else {
                continue;
            };
            let at = Duration::from_nanos(edge.timestamp_ns);
            // Active-low lines are inverted by the kernel: rising = pressed either way.
            match edge.kind {
                EdgeKind::Rising => self.classifier.pressed(button, at),
                EdgeKind::Falling => self.pending.extend(self.classifier.released(button, at)),
            }
        }
    }
}

//! The front-panel buttons: which button was pressed, and whether briefly or held.
//!
//! A [`ButtonSource`] yields [`ButtonEvent`]s: [`GpioButtons`] reads GPIO lines through the
//! kernel's GPIO character device (gpiocdev), with the kernel debouncing each line;
//! [`KeyboardButtons`] stands in for them with a terminal's keys (the demo, a box without
//! buttons on a desk); [`ScriptedButtons`] plays a fixed sequence (tests).
//!
//! A press is [`PressKind::Short`] when released before the long-press time, and
//! [`PressKind::Long`] as soon as it has been held that long, without waiting for the
//! release, so the screen answers while the finger is still on the button.
//! [`PressClassifier`] makes that call from press and release times, for every source.
//!
//! What a press means (next step, menu, ...) is the UI's business (`burnstation::ui`); this
//! module only knows buttons.

mod classify;
mod gpio;
mod keyboard;
mod scripted;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use classify::PressClassifier;
pub use gpio::{GpioButtons, GpioButtonsSpec};
pub use keyboard::{KeyboardButtons, key_help};
pub use scripted::ScriptedButtons;

/// A button's role on the front panel. A board wires one or more GPIO lines to each role
/// it has; with a single button, it is [`Button::Select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Button {
    /// "Do it": the obvious next step, or choose the highlighted menu item.
    Select,
    /// Move down in a menu.
    Next,
    /// Move up in a menu.
    Previous,
    /// Open the menu; in the menu, go back.
    Menu,
}

impl Button {
    /// Every role, in the order the docs list them.
    pub const ALL: [Button; 4] = [Button::Select, Button::Next, Button::Previous, Button::Menu];

    /// The role's name in the settings file.
    pub fn name(self) -> &'static str {
        match self {
            Button::Select => "select",
            Button::Next => "next",
            Button::Previous => "previous",
            Button::Menu => "menu",
        }
    }
}

impl fmt::Display for Button {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Button {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Button::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown button {s:?}: use select, next, previous or menu"))
    }
}

/// How long a button was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PressKind {
    /// Released before the long-press time.
    Short,
    /// Held for the long-press time (reported then, not at the release).
    Long,
}

/// One press of one button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ButtonEvent {
    /// Which button.
    pub button: Button,
    /// Short or long.
    pub kind: PressKind,
}

impl ButtonEvent {
    /// A short press of `button`.
    pub fn short(button: Button) -> Self {
        Self {
            button,
            kind: PressKind::Short,
        }
    }

    /// A long press of `button`.
    pub fn long(button: Button) -> Self {
        Self {
            button,
            kind: PressKind::Long,
        }
    }

    /// Reads a sequence of presses written as people write them: comma-separated steps,
    /// each `press BUTTON` (or just `BUTTON`) for a short press and `hold BUTTON` (or
    /// `long BUTTON`) for a long one, e.g. `"hold select, press next, press select"`.
    pub fn parse_script(script: &str) -> Result<Vec<ButtonEvent>, String> {
        script
            .split(',')
            .map(str::trim)
            .filter(|step| !step.is_empty())
            .map(|step| {
                let words: Vec<&str> = step.split_whitespace().collect();
                match words.as_slice() {
                    ["press" | "short", name] | [name] => name.parse().map(Self::short),
                    ["hold" | "long", name] => name.parse().map(Self::long),
                    _ => Err(format!(
                        "cannot read {step:?}: write \"press BUTTON\" or \"hold BUTTON\""
                    )),
                }
            })
            .collect()
    }
}

/// Why buttons could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ButtonError {
    /// The GPIO lines could not be requested or read.
    #[error(
        "cannot use the buttons' GPIO lines {lines:?} on {chip}: {source}; check the [buttons] settings"
    )]
    Gpio {
        /// The GPIO chip.
        chip: String,
        /// The line offsets.
        lines: Vec<u32>,
        /// What the kernel said.
        #[source]
        source: gpiocdev::Error,
    },
    /// The keyboard stand-in's input ended.
    #[error("the keyboard input was closed")]
    InputClosed,
}

/// Something that yields button presses.
pub trait ButtonSource {
    /// Waits up to `timeout` for the next press; `Ok(None)` if none came in that time.
    fn next_event(&mut self, timeout: Duration) -> Result<Option<ButtonEvent>, ButtonError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_read_as_written() {
        let events =
            ButtonEvent::parse_script("hold select, press next,select , long menu").unwrap();
        assert_eq!(
            events,
            [
                ButtonEvent::long(Button::Select),
                ButtonEvent::short(Button::Next),
                ButtonEvent::short(Button::Select),
                ButtonEvent::long(Button::Menu),
            ]
        );
        assert!(ButtonEvent::parse_script("press sideways").is_err());
        assert!(ButtonEvent::parse_script("tap select twice").is_err());
    }
}

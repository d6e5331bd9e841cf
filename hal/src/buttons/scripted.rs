//! A fixed sequence of presses: the test double for buttons.

use std::collections::VecDeque;
use std::time::Duration;

use super::{ButtonError, ButtonEvent, ButtonSource};

/// Yields its presses in order, one per call, then `Ok(None)` for ever.
#[derive(Debug, Clone, Default)]
pub struct ScriptedButtons {
    events: VecDeque<ButtonEvent>,
}

impl ScriptedButtons {
    /// Plays `events`.
    pub fn new(events: impl IntoIterator<Item = ButtonEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
        }
    }

    /// Plays a script as [`ButtonEvent::parse_script`] reads it.
    pub fn from_script(script: &str) -> Result<Self, String> {
        ButtonEvent::parse_script(script).map(Self::new)
    }

    /// Whether every press has been played.
    pub fn is_done(&self) -> bool {
        self.events.is_empty()
    }
}

impl ButtonSource for ScriptedButtons {
    fn next_event(&mut self, _timeout: Duration) -> Result<Option<ButtonEvent>, ButtonError> {
        Ok(self.events.pop_front())
    }
}

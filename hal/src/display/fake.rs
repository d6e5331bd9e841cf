//! A panel in memory, for tests: it records what it was shown and fails when told to.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{DisplayError, Frame, Panel, PanelPower};

/// What a [`FakePanel`] has been shown, shared with the test that made it.
#[derive(Debug, Default)]
pub struct FakePanelState {
    /// Every frame sent, in order.
    pub frames: Vec<Frame>,
    /// The last power level set.
    pub power: Option<PanelPower>,
    /// While true, every call fails as a miswired panel would.
    pub failing: bool,
    /// How many times the panel was opened.
    pub opened: u32,
}

/// A panel in memory. Clones share one [`FakePanelState`].
#[derive(Debug, Clone, Default)]
pub struct FakePanel {
    state: Arc<Mutex<FakePanelState>>,
}

impl FakePanel {
    /// A working panel that has shown nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the panel has been shown so far.
    pub fn state(&self) -> MutexGuard<'_, FakePanelState> {
        // A test that panicked while holding the lock has failed anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens the panel as [`super::PanelSpec::open`] would: fails while `failing` is set.
    pub fn open(&self) -> Result<Box<dyn Panel>, DisplayError> {
        let mut state = self.state();
        if state.failing {
            return Err(unanswered());
        }
        state.opened += 1;
        Ok(Box::new(self.clone()))
    }
}

fn unanswered() -> DisplayError {
    DisplayError::NoAnswer {
        what: "the fake panel".into(),
        detail: "told to fail".into(),
    }
}

impl Panel for FakePanel {
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayError> {
        let mut state = self.state();
        if state.failing {
            return Err(unanswered());
        }
        state.frames.push(frame.clone());
        Ok(())
    }

    fn set_power(&mut self, power: PanelPower) -> Result<(), DisplayError> {
        let mut state = self.state();
        if state.failing {
            return Err(unanswered());
        }
        state.power = Some(power);
        Ok(())
    }
}

//! Short or long: the decision from press and release times, shared by every source.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Button, ButtonEvent};

/// Turns press and release times of buttons into [`ButtonEvent`]s.
///
/// Times are in one monotonic timebase of the caller's (the kernel's event timestamps for
/// GPIO lines). A press held `long_press` is reported as long when [`Self::poll`] is called
/// at or after that time, and its release then reports nothing.
#[derive(Debug, Clone)]
pub struct PressClassifier {
    long_press: Duration,
    held: BTreeMap<Button, Held>,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    since: Duration,
    reported_long: bool,
}

impl PressClassifier {
    /// A classifier calling a press long once held for `long_press`.
    pub fn new(long_press: Duration) -> Self {
        Self {
            long_press,
            held: BTreeMap::new(),
        }
    }

    /// `button` went down at `at`. A second press without a release (a lost edge) restarts it.
    pub fn pressed(&mut self, button: Button, at: Duration) {
        self.held.insert(
            button,
            Held {
                since: at,
                reported_long: false,
            },
        );
    }

    /// `button` came up at `at`: a short press, unless it was long (already reported, or
    /// reported now if [`Self::poll`] was not called in time). A release without a press
    /// (the line was held when the station started) reports nothing.
    pub fn released(&mut self, button: Button, at: Duration) -> Option<ButtonEvent> {
        let held = self.held.remove(&button)?;
        if held.reported_long {
            None
        } else if at.saturating_sub(held.since) >= self.long_press {
            Some(ButtonEvent::long(button))
        } else {
            Some(ButtonEvent::short(button))
        }
    }

    /// The long presses that are due at `now`, each reported once.
    pub fn poll(&mut self, now: Duration) -> Vec<ButtonEvent> {
        let mut due = Vec::new();
        for (&button, held) in &mut self.held {
            if !held.reported_long && now.saturating_sub(held.since) >= self.long_press {
                held.reported_long = true;
                due.push(ButtonEvent::long(button));
            }
        }
        due
    }

    /// When the next long press falls due, if a button is held.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.held
            .values()
            .filter(|h| !h.reported_long)
            .map(|h| h.since + self.long_press)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_quick_release_is_short_and_a_hold_is_long_before_the_release() {
        let mut c = PressClassifier::new(MS(800));
        c.pressed(Button::Select, MS(1000));
        assert_eq!(c.next_deadline(), Some(MS(1800)));
        assert!(c.poll(MS(1799)).is_empty());
        assert_eq!(
            c.released(Button::Select, MS(1200)),
            Some(ButtonEvent::short(Button::Select))
        );

        c.pressed(Button::Select, MS(2000));
        assert_eq!(c.poll(MS(2800)), [ButtonEvent::long(Button::Select)]);
        assert!(c.poll(MS(3000)).is_empty(), "a long press is reported once");
        assert_eq!(c.released(Button::Select, MS(3500)), None);
        assert_eq!(c.next_deadline(), None);
    }

    #[test]
    fn a_long_hold_released_before_any_poll_is_still_long() {
        let mut c = PressClassifier::new(MS(800));
        c.pressed(Button::Next, MS(0));
        assert_eq!(
            c.released(Button::Next, MS(900)),
            Some(ButtonEvent::long(Button::Next))
        );
    }

    #[test]
    fn a_release_without_a_press_is_ignored() {
        let mut c = PressClassifier::new(MS(800));
        assert_eq!(c.released(Button::Menu, MS(5)), None);
    }
}

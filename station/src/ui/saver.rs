//! The screen saver: full brightness while someone is likely looking, dimmed after a while,
//! dark after longer, so an OLED does not burn in a screen shown for days.
//!
//! Time is passed in, never read here, so the policy is tested with made-up instants.
//! Activity is a button press or a change of status screen (a disc is done, a problem
//! appears). A screen that wants someone (insert a disc, label it, a problem) dims but never
//! goes dark, or the volunteer would walk past a box that is waiting for them.

use std::mem::Discriminant;
use std::time::{Duration, Instant};

use burnstation_hal::display::PanelPower;

use super::nav::needs_attention;
use super::view::Status;

/// The saver's state.
#[derive(Debug, Clone)]
pub struct ScreenSaver {
    dim_after: Option<Duration>,
    off_after: Option<Duration>,
    last_activity: Instant,
    last_status: Option<Discriminant<Status>>,
}

impl ScreenSaver {
    /// Dims after `dim_after` and goes dark after `off_after` without activity (`None`:
    /// never), counting from `now`.
    pub fn new(dim_after: Option<Duration>, off_after: Option<Duration>, now: Instant) -> Self {
        Self {
            dim_after,
            off_after,
            last_activity: now,
            last_status: None,
        }
    }

    /// Notes the status shown at `now`; a different kind of screen counts as activity.
    pub fn observe(&mut self, status: &Status, now: Instant) {
        let kind = std::mem::discriminant(status);
        if self.last_status != Some(kind) {
            self.last_status = Some(kind);
            self.last_activity = now;
        }
    }

    /// Notes a button press at `now`. Returns whether the press only woke a dark screen
    /// (then it must do nothing else: nobody saw what it would have done).
    pub fn press(&mut self, status: &Status, now: Instant) -> bool {
        let was_dark = self.power(status, now) == PanelPower::Off;
        self.last_activity = now;
        was_dark
    }

    /// How bright the screen is at `now`.
    pub fn power(&self, status: &Status, now: Instant) -> PanelPower {
        let idle = now.saturating_duration_since(self.last_activity);
        let past = |limit: Option<Duration>| limit.is_some_and(|l| idle >= l);
        if past(self.off_after) && !needs_attention(status) {
            PanelPower::Off
        } else if past(self.dim_after) || past(self.off_after) {
            PanelPower::Dim
        } else {
            PanelPower::Full
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::view::{DiscNo, Idle, NextSync};

    fn idle() -> Status {
        Status::Idle(Idle {
            last_sync_ago: None,
            next_sync: NextSync::WaitingForClock,
            set: None,
            burn_due: false,
        })
    }

    /// Dims after a minute and goes dark after ten, idle since `t0`.
    fn one_minute_then_ten(t0: Instant) -> ScreenSaver {
        let mut saver = ScreenSaver::new(
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(600)),
            t0,
        );
        saver.observe(&idle(), t0);
        saver
    }

    #[test]
    fn dims_then_goes_dark_and_a_press_only_wakes_it() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut saver = one_minute_then_ten(t0);
        assert_eq!(saver.power(&idle(), at(59)), PanelPower::Full);
        assert_eq!(saver.power(&idle(), at(60)), PanelPower::Dim);
        assert_eq!(saver.power(&idle(), at(600)), PanelPower::Off);
        assert!(
            saver.press(&idle(), at(700)),
            "the press that wakes is swallowed"
        );
        assert_eq!(saver.power(&idle(), at(700)), PanelPower::Full);
        assert!(
            !saver.press(&idle(), at(710)),
            "a press on a lit screen acts"
        );
    }

    #[test]
    fn a_new_screen_wakes_it_and_a_waiting_screen_never_goes_dark() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut saver = one_minute_then_ten(t0);
        let waiting = Status::WaitingForDisc {
            disc: DiscNo { n: 1, of: 2 },
            medium: None,
        };
        saver.observe(&waiting, at(1000));
        assert_eq!(saver.power(&waiting, at(1000)), PanelPower::Full);
        assert_eq!(saver.power(&waiting, at(100_000)), PanelPower::Dim);
    }
}

//! Faults the software drive shows when told to: counted not-ready and long-write answers,
//! bad sectors for writing and reading, and triggers that hang the drive, cut its power or
//! pull the medium when a WRITE reaches an LBA.
//!
//! Only bookkeeping lives here: which fault applies to which command. What a fault does to
//! the drive (losing the buffer, marking a track damaged) is done by the drive itself.

use std::collections::{BTreeMap, BTreeSet};

use super::config::FaultPlan;

/// What happens when a WRITE reaches a trigger LBA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteTrigger {
    Hang,
    PowerCut,
    RemoveMedium,
}

/// The faults in force.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) not_ready: u32,
    pub(crate) long_write: u32,
    pub(crate) write_errors: BTreeSet<u32>,
    /// LBA -> failures left (`None`: fails for ever).
    pub(crate) unreadable: BTreeMap<u32, Option<u32>>,
    pub(crate) hang_at: Option<u32>,
    pub(crate) power_cut_at: Option<u32>,
    pub(crate) remove_at: Option<u32>,
    /// The drive answers nothing until reset.
    pub(crate) hung: bool,
}

fn first_in(set: impl IntoIterator<Item = u32>, lba: u32, blocks: u32) -> Option<u32> {
    let end = lba as u64 + blocks as u64;
    set.into_iter()
        .find(|bad| *bad >= lba && (*bad as u64) < end)
}

impl Faults {
    pub(crate) fn from_plan(plan: &FaultPlan) -> Faults {
        Faults {
            not_ready: plan.not_ready,
            long_write: plan.long_write,
            write_errors: plan.write_errors.iter().copied().collect(),
            unreadable: plan
                .unreadable
                .iter()
                .map(|u| (u.lba, u.failures))
                .collect(),
            hang_at: plan.hang_at,
            power_cut_at: plan.power_cut_at,
            remove_at: plan.remove_at,
            hung: false,
        }
    }

    /// Consumes one not-ready answer, if any are left.
    pub(crate) fn take_not_ready(&mut self) -> bool {
        let take = self.not_ready > 0;
        self.not_ready = self.not_ready.saturating_sub(1);
        take
    }

    /// Consumes one long-write-in-progress answer, if any are left.
    pub(crate) fn take_long_write(&mut self) -> bool {
        let take = self.long_write > 0;
        self.long_write = self.long_write.saturating_sub(1);
        take
    }

    /// The first bad LBA for writing in `lba..lba + blocks`.
    pub(crate) fn write_error_in(&self, lba: u32, blocks: u32) -> Option<u32> {
        let end = lba.saturating_add(blocks);
        first_in(self.write_errors.range(lba..end).copied(), lba, blocks)
    }

    /// The first sector in `lba..lba + blocks` that fails this READ; counts the failure.
    pub(crate) fn read_failure_in(&mut self, lba: u32, blocks: u32) -> Option<u32> {
        let end = lba.saturating_add(blocks);
        let bad = first_in(
            self.unreadable.range(lba..end).map(|(l, _)| *l),
            lba,
            blocks,
        )?;
        match self.unreadable.get_mut(&bad) {
            Some(Some(0)) => {
                // Its failures are used up: it reads now, and so may the rest.
                self.unreadable.remove(&bad);
                self.read_failure_in(lba, blocks)
            }
            Some(Some(left)) => {
                *left -= 1;
                Some(bad)
            }
            _ => Some(bad),
        }
    }

    /// A trigger that a WRITE of `lba..lba + blocks` sets off (each fires once).
    pub(crate) fn write_trigger(&mut self, lba: u32, blocks: u32) -> Option<WriteTrigger> {
        let hit = |slot: &mut Option<u32>| {
            let fired = slot.is_some_and(|at| first_in([at], lba, blocks).is_some());
            if fired {
                *slot = None;
            }
            fired
        };
        if hit(&mut self.power_cut_at) {
            Some(WriteTrigger::PowerCut)
        } else if hit(&mut self.remove_at) {
            Some(WriteTrigger::RemoveMedium)
        } else if hit(&mut self.hang_at) {
            Some(WriteTrigger::Hang)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::UnreadableSector;

    #[test]
    fn counted_faults_run_out() {
        let mut faults = Faults::from_plan(&FaultPlan {
            not_ready: 2,
            long_write: 1,
            ..FaultPlan::default()
        });
        assert!(faults.take_not_ready());
        assert!(faults.take_not_ready());
        assert!(!faults.take_not_ready());
        assert!(faults.take_long_write());
        assert!(!faults.take_long_write());
    }

    #[test]
    fn unreadable_sector_fails_k_times_then_reads() {
        let mut faults = Faults::from_plan(&FaultPlan {
            unreadable: vec![
                UnreadableSector {
                    lba: 10,
                    failures: Some(2),
                },
                UnreadableSector {
                    lba: 20,
                    failures: None,
                },
            ],
            ..FaultPlan::default()
        });
        assert_eq!(faults.read_failure_in(0, 16), Some(10));
        assert_eq!(faults.read_failure_in(0, 16), Some(10));
        assert_eq!(faults.read_failure_in(0, 16), None, "third read succeeds");
        assert_eq!(faults.read_failure_in(16, 16), Some(20));
        assert_eq!(faults.read_failure_in(16, 16), Some(20));
        assert_eq!(faults.read_failure_in(21, 16), None);
    }

    #[test]
    fn triggers_fire_once_inside_the_write() {
        let mut faults = Faults::from_plan(&FaultPlan {
            power_cut_at: Some(40),
            write_errors: vec![5],
            ..FaultPlan::default()
        });
        assert_eq!(faults.write_trigger(0, 32), None);
        assert_eq!(faults.write_trigger(32, 16), Some(WriteTrigger::PowerCut));
        assert_eq!(faults.write_trigger(32, 16), None);
        assert_eq!(faults.write_error_in(0, 5), None);
        assert_eq!(faults.write_error_in(0, 6), Some(5));
    }
}

//! The job state machine: where the daemon is in sync -> plan -> burn every disc -> done.
//!
//! Pure: each transition is a function of the state and what happened, returning the next
//! state or refusing. The daemon persists the state before acting on it, so on a restart
//! [`Job::resumed`] says what to do again: an interrupted sync is redone, an interrupted
//! burn or verification asks for that disc again (the burn is reported, never counted).

use serde::{Deserialize, Serialize};

/// The job, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Job {
    /// Nothing running.
    Idle,
    /// Copying the backup tree.
    Syncing,
    /// Planning a set from snapshot `snapshot`.
    Planning { snapshot: String },
    /// Waiting for a blank disc for disc `disc` of `of` of set `set`.
    WaitingForDisc { set: i64, disc: u32, of: u32 },
    /// Burning.
    Burning { set: i64, disc: u32, of: u32 },
    /// Reading back.
    Verifying { set: i64, disc: u32, of: u32 },
    /// A disc is done.
    DiscDone { set: i64, disc: u32, of: u32 },
    /// Every disc is done.
    SetComplete { set: i64, of: u32 },
    /// Stopped until the volunteer acts; `what` says why.
    Failed { what: String },
}

/// A transition that the state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the job cannot go from {from:?} by {by}")]
pub struct BadTransition {
    /// The state.
    pub from: Job,
    /// The transition asked for.
    pub by: &'static str,
}

impl Job {
    fn refuse(&self, by: &'static str) -> BadTransition {
        BadTransition {
            from: self.clone(),
            by,
        }
    }

    /// A sync starts (from idle, a finished set or a failure).
    pub fn start_sync(&self) -> Result<Job, BadTransition> {
        match self {
            Job::Idle | Job::SetComplete { .. } | Job::Failed { .. } => Ok(Job::Syncing),
            _ => Err(self.refuse("start_sync")),
        }
    }

    /// The sync made snapshot `snapshot`.
    pub fn synced(&self, snapshot: &str) -> Result<Job, BadTransition> {
        match self {
            Job::Syncing => Ok(Job::Planning {
                snapshot: snapshot.to_string(),
            }),
            _ => Err(self.refuse("synced")),
        }
    }

    /// No set is due: the snapshot waits for the next sync.
    pub fn not_due(&self) -> Result<Job, BadTransition> {
        match self {
            Job::Planning { .. } => Ok(Job::Idle),
            _ => Err(self.refuse("not_due")),
        }
    }

    /// The sync failed: back to waiting (the state published says why, and when it retries).
    pub fn sync_failed(&self) -> Result<Job, BadTransition> {
        match self {
            Job::Syncing => Ok(Job::Idle),
            _ => Err(self.refuse("sync_failed")),
        }
    }

    /// The volunteer asked for a set of snapshot `snapshot` now (or a set is due without a
    /// new sync).
    pub fn plan_now(&self, snapshot: &str) -> Result<Job, BadTransition> {
        match self {
            Job::Idle | Job::SetComplete { .. } | Job::Failed { .. } => Ok(Job::Planning {
                snapshot: snapshot.to_string(),
            }),
            _ => Err(self.refuse("plan_now")),
        }
    }

    /// An unfinished set found in the catalogue is taken up again at disc `disc`.
    pub fn resume_set(&self, set: i64, disc: u32, of: u32) -> Result<Job, BadTransition> {
        match self {
            Job::Idle | Job::Planning { .. } | Job::SetComplete { .. } | Job::Failed { .. }
                if disc >= 1 && disc <= of =>
            {
                Ok(Job::WaitingForDisc { set, disc, of })
            }
            _ => Err(self.refuse("resume_set")),
        }
    }

    /// The volunteer read the "set complete" screen.
    pub fn dismissed(&self) -> Result<Job, BadTransition> {
        match self {
            Job::SetComplete { .. } => Ok(Job::Idle),
            _ => Err(self.refuse("dismissed")),
        }
    }

    /// The set `set` of `of` discs is planned and recorded.
    pub fn planned(&self, set: i64, of: u32) -> Result<Job, BadTransition> {
        match self {
            Job::Planning { .. } if of > 0 => Ok(Job::WaitingForDisc { set, disc: 1, of }),
            _ => Err(self.refuse("planned")),
        }
    }

    /// A blank disc is in (and, if asked, the volunteer said burn).
    pub fn burn(&self) -> Result<Job, BadTransition> {
        match *self {
            Job::WaitingForDisc { set, disc, of } => Ok(Job::Burning { set, disc, of }),
            _ => Err(self.refuse("burn")),
        }
    }

    /// The burn ended; reading back.
    pub fn verify(&self) -> Result<Job, BadTransition> {
        match *self {
            Job::Burning { set, disc, of } => Ok(Job::Verifying { set, disc, of }),
            _ => Err(self.refuse("verify")),
        }
    }

    /// The disc read back as written.
    pub fn disc_done(&self) -> Result<Job, BadTransition> {
        match *self {
            Job::Verifying { set, disc, of } => Ok(Job::DiscDone { set, disc, of }),
            _ => Err(self.refuse("disc_done")),
        }
    }

    /// The disc failed (burn or read-back): the same disc number is asked for again.
    pub fn disc_failed(&self) -> Result<Job, BadTransition> {
        match *self {
            Job::Burning { set, disc, of } | Job::Verifying { set, disc, of } => {
                Ok(Job::WaitingForDisc { set, disc, of })
            }
            _ => Err(self.refuse("disc_failed")),
        }
    }

    /// The done disc was taken out: the next one, or the set is complete.
    pub fn next_disc(&self) -> Result<Job, BadTransition> {
        match *self {
            Job::DiscDone { set, disc, of } if disc < of => Ok(Job::WaitingForDisc {
                set,
                disc: disc + 1,
                of,
            }),
            Job::DiscDone { set, of, .. } => Ok(Job::SetComplete { set, of }),
            _ => Err(self.refuse("next_disc")),
        }
    }

    /// Something the volunteer must fix stopped the job.
    pub fn fail(&self, what: impl Into<String>) -> Job {
        Job::Failed { what: what.into() }
    }

    /// The state to resume from after a restart in `self`: a sync is redone, a burn or a
    /// read-back that was cut asks for that disc again (the daemon reports it).
    pub fn resumed(&self) -> Job {
        match *self {
            Job::Syncing => Job::Idle,
            Job::Burning { set, disc, of } | Job::Verifying { set, disc, of } => {
                Job::WaitingForDisc { set, disc, of }
            }
            _ => self.clone(),
        }
    }

    /// Whether a restart in this state means a disc was cut mid-burn or mid-read-back.
    pub fn interrupted_disc(&self) -> Option<u32> {
        match *self {
            Job::Burning { disc, .. } | Job::Verifying { disc, .. } => Some(disc),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_disc_set_runs_to_complete() {
        let mut job = Job::Idle.start_sync().unwrap().synced("s1").unwrap();
        job = job.planned(7, 2).unwrap();
        for disc in 1..=2 {
            assert_eq!(
                job,
                Job::WaitingForDisc {
                    set: 7,
                    disc,
                    of: 2
                }
            );
            job = job.burn().unwrap().verify().unwrap().disc_done().unwrap();
            job = job.next_disc().unwrap();
        }
        assert_eq!(job, Job::SetComplete { set: 7, of: 2 });
    }

    #[test]
    fn a_failed_disc_is_asked_for_again() {
        let burning = Job::Burning {
            set: 1,
            disc: 2,
            of: 3,
        };
        assert_eq!(
            burning.disc_failed().unwrap(),
            Job::WaitingForDisc {
                set: 1,
                disc: 2,
                of: 3
            }
        );
    }

    #[test]
    fn wrong_transitions_are_refused() {
        assert!(Job::Idle.burn().is_err());
        assert!(Job::Syncing.start_sync().is_err());
        assert!(
            Job::Planning {
                snapshot: "s".into()
            }
            .planned(1, 0)
            .is_err()
        );
    }

    #[test]
    fn a_restart_redoes_a_sync_and_asks_for_a_cut_disc_again() {
        assert_eq!(Job::Syncing.resumed(), Job::Idle);
        let cut = Job::Verifying {
            set: 3,
            disc: 1,
            of: 2,
        };
        assert_eq!(cut.interrupted_disc(), Some(1));
        assert_eq!(
            cut.resumed(),
            Job::WaitingForDisc {
                set: 3,
                disc: 1,
                of: 2
            }
        );
    }

    #[test]
    fn a_set_not_due_waits_and_an_unfinished_one_is_taken_up() {
        let planning = Job::Syncing.synced("s").unwrap();
        assert_eq!(planning.not_due().unwrap(), Job::Idle);
        assert_eq!(Job::Syncing.sync_failed().unwrap(), Job::Idle);
        assert!(Job::Idle.sync_failed().is_err());
        assert_eq!(
            Job::Idle.resume_set(4, 2, 3).unwrap(),
            Job::WaitingForDisc {
                set: 4,
                disc: 2,
                of: 3
            }
        );
        assert!(Job::Idle.resume_set(4, 4, 3).is_err());
        assert!(Job::Syncing.resume_set(4, 1, 3).is_err());
        let done = Job::SetComplete { set: 4, of: 3 };
        assert_eq!(done.dismissed().unwrap(), Job::Idle);
        assert_eq!(
            done.plan_now("s").unwrap(),
            Job::Planning {
                snapshot: "s".into()
            }
        );
    }

    #[test]
    fn the_state_round_trips_through_json() {
        let job = Job::DiscDone {
            set: 2,
            disc: 1,
            of: 2,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), job);
    }
}

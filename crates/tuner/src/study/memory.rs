//! [`MemoryStorage`]: a study's trials in the process's memory, for library use and tests.

use std::time::{Duration, SystemTime};

use super::storage::{
    check_finish, requeue_note, Finish, Reservation, Storage, StudyRecord, STALE_AFTER_HEARTBEATS,
};
use crate::trial::{Trial, TrialState};
use crate::TunerError;

/// Who holds a running trial, and since when it was last heard of.
#[derive(Clone, Debug)]
pub(crate) struct Lease {
    pub interval: Option<Duration>,
    pub beat: SystemTime,
    pub attempts: u32,
}

/// Trials kept in memory; gone with the process.
#[derive(Clone, Debug)]
pub struct MemoryStorage {
    record: StudyRecord,
    trials: Vec<Trial>,
    leases: Vec<Option<Lease>>,
}

impl MemoryStorage {
    /// An empty study.
    pub fn new(record: StudyRecord) -> Self {
        MemoryStorage {
            record,
            trials: Vec::new(),
            leases: Vec::new(),
        }
    }

    /// The trials, without copying them.
    pub fn trials_ref(&self) -> &[Trial] {
        &self.trials
    }
}

impl Storage for MemoryStorage {
    fn study(&self) -> &StudyRecord {
        &self.record
    }

    fn trials(&mut self) -> Result<Vec<Trial>, TunerError> {
        Ok(self.trials.clone())
    }

    fn reserve(
        &mut self,
        heartbeat: Option<Duration>,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Trial, TunerError> {
        let now = SystemTime::now();
        let number = match choose(&self.trials)?.resolve(self.trials.len()) {
            Ok(t) => {
                self.trials.push(t);
                self.leases.push(None);
                self.trials.len() - 1
            }
            Err(n) => match self.trials.get(n) {
                Some(t) if t.state == TrialState::Queued => n,
                _ => {
                    return Err(TunerError::InvalidTrial {
                        trial: n,
                        reason: "not queued".into(),
                    })
                }
            },
        };
        let attempts = self.leases[number].as_ref().map_or(0, |l| l.attempts) + 1;
        self.leases[number] = Some(Lease {
            interval: heartbeat,
            beat: now,
            attempts,
        });
        let t = &mut self.trials[number];
        t.state = TrialState::Running;
        t.started_at = Some(now);
        t.intermediate.clear();
        Ok(t.clone())
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        check_finish(self.trials.get(f.number), f)?;
        let t = &mut self.trials[f.number];
        t.state = f.state;
        t.values = f.values.clone();
        t.metrics = f.metrics.clone();
        t.error = f.error.clone();
        t.finished_at = f.finished_at;
        Ok(())
    }

    fn report(&mut self, number: usize, step: u64, value: f64) -> Result<(), TunerError> {
        match self.trials.get_mut(number) {
            Some(t) if t.state == TrialState::Running => {
                t.intermediate.push((step, value));
                Ok(())
            }
            Some(t) => Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!("not running ({})", t.state.name()),
            }),
            None => Err(TunerError::InvalidTrial {
                trial: number,
                reason: "no such trial".into(),
            }),
        }
    }

    fn heartbeat(&mut self, numbers: &[usize]) -> Result<(), TunerError> {
        let now = SystemTime::now();
        for &n in numbers {
            if let Some(Some(l)) = self.leases.get_mut(n) {
                l.beat = now;
            }
        }
        Ok(())
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let now = SystemTime::now();
        let mut lost = Vec::new();
        for (t, lease) in self.trials.iter_mut().zip(&self.leases) {
            let Some(l) = lease else { continue };
            let Some(interval) = l.interval else { continue };
            let silent = now.duration_since(l.beat).unwrap_or_default();
            if t.state == TrialState::Running && silent > interval * STALE_AFTER_HEARTBEATS {
                let why = format!(
                    "worker lost (no heartbeat for {:.0} s)",
                    silent.as_secs_f64()
                );
                let (state, note) = requeue_note(t.error.as_deref(), l.attempts, &why);
                t.state = state;
                t.error = Some(note);
                if state == TrialState::Failed {
                    t.finished_at = Some(now);
                }
                lost.push(t.number);
            }
        }
        Ok(lost)
    }

    fn import(&mut self, trials: Vec<Trial>) -> Result<Vec<usize>, TunerError> {
        let mut numbers = Vec::with_capacity(trials.len());
        for mut t in trials {
            t.number = self.trials.len();
            numbers.push(t.number);
            self.trials.push(t);
            self.leases.push(None);
        }
        Ok(numbers)
    }
}

//! [`MemoryStorage`]: a study's trials in the process's memory, for library use and tests.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use super::storage::{
    check_finish, check_finite, check_import, check_report, lease_lost, requeue_note, Finish,
    Import, Imported, Lease, Request, Reservation, Storage, StudyRecord, STALE_AFTER_HEARTBEATS,
};
use crate::trial::{Source, Trial, TrialState};
use crate::TunerError;

/// Who holds a running trial, and since when it was last heard of.
#[derive(Clone, Debug)]
pub(crate) struct Hold {
    pub interval: Option<Duration>,
    pub beat: SystemTime,
    /// Claims so far: the token of the latest.
    pub attempts: u32,
    /// Whether the holder gave the trial back (an interruption): a heartbeat does not take
    /// it again.
    pub released: bool,
}

/// Trials kept in memory; gone with the process.
#[derive(Clone, Debug)]
pub struct MemoryStorage {
    record: StudyRecord,
    trials: Vec<Trial>,
    holds: Vec<Option<Hold>>,
    imports: HashSet<String>,
}

impl MemoryStorage {
    /// An empty study.
    pub fn new(record: StudyRecord) -> Self {
        MemoryStorage {
            record,
            trials: Vec::new(),
            holds: Vec::new(),
            imports: HashSet::new(),
        }
    }

    /// The trials, without copying them.
    pub fn trials_ref(&self) -> &[Trial] {
        &self.trials
    }

    fn stored(&self, number: usize) -> Option<(TrialState, u64)> {
        let t = self.trials.get(number)?;
        let token = self.holds[number].as_ref().map_or(0, |h| h.attempts as u64);
        Some((t.state, token))
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
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, TunerError> {
        let now = SystemTime::now();
        let counted = self
            .trials
            .iter()
            .filter(|t| t.source != Source::WarmStart)
            .count();
        let number = match choose(&self.trials)?.resolve(self.trials.len()) {
            Ok(_) if request.limit.is_some_and(|l| counted >= l) => return Ok(None),
            Ok(t) => {
                self.trials.push(t);
                self.holds.push(None);
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
        let attempts = self.holds[number].as_ref().map_or(0, |h| h.attempts) + 1;
        self.holds[number] = Some(Hold {
            interval: request.heartbeat,
            beat: now,
            attempts,
            released: false,
        });
        let t = &mut self.trials[number];
        t.state = TrialState::Running;
        t.started_at = Some(now);
        t.intermediate.clear();
        Ok(Some((
            t.clone(),
            Lease {
                number,
                token: attempts as u64,
            },
        )))
    }

    fn finish(&mut self, f: &Finish) -> Result<(), TunerError> {
        check_finite(f.number, &f.values, &f.metrics)?;
        check_finish(self.stored(f.number), f)?;
        let t = &mut self.trials[f.number];
        t.state = f.state;
        t.values = f.values.clone();
        t.metrics = f.metrics.clone();
        t.error = f.error.clone();
        t.finished_at = f.finished_at;
        if let Some(h) = self.holds[f.number].as_mut() {
            h.released = true;
        }
        Ok(())
    }

    fn report(
        &mut self,
        number: usize,
        token: Option<u64>,
        step: u64,
        value: f64,
    ) -> Result<(), TunerError> {
        check_report(number, step, value)?;
        let stored = self.stored(number);
        match (stored, token) {
            (None, _) => Err(TunerError::InvalidTrial {
                trial: number,
                reason: "no such trial".into(),
            }),
            (Some((_, held)), Some(t)) if held != t => Err(lease_lost(number, t, held)),
            (Some((TrialState::Running, _)), _) => {
                self.trials[number].intermediate.push((step, value));
                Ok(())
            }
            (Some((state, _)), _) => Err(TunerError::InvalidTrial {
                trial: number,
                reason: format!("not running ({})", state.name()),
            }),
        }
    }

    fn heartbeat(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, TunerError> {
        let now = SystemTime::now();
        let mut lost = Vec::new();
        for l in leases {
            let held = match (self.trials.get_mut(l.number), self.holds.get_mut(l.number)) {
                (Some(t), Some(Some(h))) if h.attempts as u64 == l.token && !h.released => {
                    match t.state {
                        TrialState::Running => true,
                        TrialState::Queued => {
                            t.state = TrialState::Running;
                            true
                        }
                        _ => false,
                    }
                }
                _ => false,
            };
            match held {
                true => {
                    if let Some(Some(h)) = self.holds.get_mut(l.number) {
                        h.beat = now;
                    }
                }
                false => lost.push(*l),
            }
        }
        Ok(lost)
    }

    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let now = SystemTime::now();
        let mut lost = Vec::new();
        for (t, hold) in self.trials.iter_mut().zip(&self.holds) {
            let Some(h) = hold else { continue };
            let Some(interval) = h.interval else { continue };
            let silent = now.duration_since(h.beat).unwrap_or_default();
            if t.state == TrialState::Running && silent > interval * STALE_AFTER_HEARTBEATS {
                let why = format!(
                    "worker lost (no heartbeat for {:.0} s)",
                    silent.as_secs_f64()
                );
                let (state, note) = requeue_note(t.error.as_deref(), h.attempts, &why);
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

    fn import(&mut self, import: Import) -> Result<Imported, TunerError> {
        if let Some(k) = &import.key {
            if self.imports.contains(k) {
                return Ok(Imported::Already);
            }
        }
        if import.into_empty && !self.trials.is_empty() {
            return Err(TunerError::NotEmpty {
                study: self.record.name.clone(),
                trials: self.trials.len(),
            });
        }
        for t in &import.trials {
            check_import(t)?;
        }
        let mut numbers = Vec::with_capacity(import.trials.len());
        for mut t in import.trials {
            t.number = self.trials.len();
            numbers.push(t.number);
            self.trials.push(t);
            self.holds.push(None);
        }
        if let Some(k) = import.key {
            self.imports.insert(k);
        }
        Ok(Imported::Added(numbers))
    }
}

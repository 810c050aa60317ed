//! [`CsvStorage`]: a study kept in one CSV file (the exchange format of [`super::csv`]),
//! rewritten atomically after every change. For one process at a time; intermediate values
//! and heartbeats live in memory only. The durable, shareable storages are the databases.

use super::csv::{read_trials, write_atomic};
use super::memory::MemoryStorage;
use super::storage::{Finish, Import, Imported, Lease, Request, Reservation, Storage, StudyRecord};
use crate::trial::{Trial, TrialState};
use crate::TunerError;
use std::path::{Path, PathBuf};

/// A study in a CSV file.
pub struct CsvStorage {
    memory: MemoryStorage,
    path: PathBuf,
}

impl CsvStorage {
    /// Opens the study in `path`, or starts it there when the file does not exist. Trials the
    /// file records as running (the run that wrote it stopped before they finished) are put
    /// back in the queue.
    pub fn open(record: StudyRecord, path: &Path) -> Result<Self, TunerError> {
        if record.directions.len() > 1 {
            return Err(TunerError::Storage {
                url: path.display().to_string(),
                reason: "a CSV file holds single-objective studies; keep a study of several objectives in sqlite:PATH or PostgreSQL".into(),
            });
        }
        let mut memory = MemoryStorage::new(record);
        if path.exists() {
            let mut trials = read_trials(&memory.study().space, path)?;
            trials.sort_by_key(|t| t.number);
            for (i, t) in trials.iter_mut().enumerate() {
                if t.number != i {
                    return Err(TunerError::Csv {
                        path: path.display().to_string(),
                        line: 0,
                        reason: format!("trials are not numbered 0, 1, 2, …: trial {i} is missing"),
                    });
                }
                if t.state == TrialState::Running {
                    t.state = TrialState::Queued;
                    t.error = Some(
                        "interrupted: the run stopped before it finished; queued to run again"
                            .into(),
                    );
                }
            }
            memory.import(Import {
                trials,
                ..Import::default()
            })?;
        }
        let s = CsvStorage {
            memory,
            path: path.to_path_buf(),
        };
        s.save()?;
        Ok(s)
    }

    fn save(&self) -> Result<(), TunerError> {
        write_atomic(
            &self.memory.study().space,
            &self.memory.study().directions,
            self.memory.trials_ref(),
            &self.path,
        )
    }
}

impl Storage for CsvStorage {
    fn study(&self) -> &StudyRecord {
        self.memory.study()
    }
    fn trials(&mut self) -> Result<Vec<Trial>, TunerError> {
        self.memory.trials()
    }
    fn reserve(
        &mut self,
        request: &Request,
        choose: &mut dyn FnMut(&[Trial]) -> Result<Reservation, TunerError>,
    ) -> Result<Option<(Trial, Lease)>, TunerError> {
        let t = self.memory.reserve(request, choose)?;
        if t.is_some() {
            self.save()?;
        }
        Ok(t)
    }
    fn finish(&mut self, finish: &Finish) -> Result<(), TunerError> {
        self.memory.finish(finish)?;
        self.save()
    }
    fn report(
        &mut self,
        number: usize,
        token: Option<u64>,
        step: u64,
        value: f64,
    ) -> Result<(), TunerError> {
        self.memory.report(number, token, step, value)
    }
    fn heartbeat(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, TunerError> {
        self.memory.heartbeat(leases)
    }
    fn requeue_lost(&mut self) -> Result<Vec<usize>, TunerError> {
        let lost = self.memory.requeue_lost()?;
        if !lost.is_empty() {
            self.save()?;
        }
        Ok(lost)
    }
    fn import(&mut self, import: Import) -> Result<Imported, TunerError> {
        let done = self.memory.import(import)?;
        if matches!(done, Imported::Added(_)) {
            self.save()?;
        }
        Ok(done)
    }
}

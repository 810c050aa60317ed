//! Progress for long work: a bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress reporter.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    label: String,
}

impl Progress {
    /// `total` steps, labelled `label` (e.g. "trials").
    pub fn new(total: u64, label: &str) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {prefix} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_prefix(label.to_string());
            b.enable_steady_tick(Duration::from_millis(200));
            Some(b)
        } else {
            None
        };
        Progress {
            bar,
            total,
            label: label.into(),
        }
    }

    /// Sets the position and a status message.
    pub fn update(&self, position: u64, message: &str) {
        match &self.bar {
            Some(b) => {
                b.set_position(position);
                b.set_message(message.to_string());
            }
            None => eprintln!("[{position}/{} {}] {message}", self.total, self.label),
        }
    }

    /// A message above the bar (or a plain line).
    pub fn println(&self, message: &str) {
        match &self.bar {
            Some(b) => b.println(message),
            None => eprintln!("{message}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

//! Subcommands of the `nasbo` binary. They parse flags and print; the work is in the
//! libraries (the run loop in `nasbo_tuner::run`, the trainer in `nasbo::nas`).

pub mod bench;
pub mod curves;
pub mod learning;
pub mod mobench;
pub mod nas;
pub mod progress;
pub mod report;
pub mod session;
pub mod shell;
pub mod storage;
pub mod tables;
pub mod train;
pub mod tune;

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("{n} {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

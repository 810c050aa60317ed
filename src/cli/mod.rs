//! Subcommands of the `nasbo` binary.

pub mod bench;
pub mod nas;
pub mod progress;
pub mod tables;
pub mod tune;

//! The `nasbo` command line: `nas` (the main job), `tune` any program, ask/tell from the
//! shell, `bench` strategies on test problems. Unix only (process groups and signals).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// mimalloc keeps freed pages for reuse: training allocates and frees tensors of the same
/// sizes every step, and with the system allocator a good share of a CNN's step went to page
/// faults on fresh memory (docs/benchmarks.md §5).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "nasbo",
    version,
    about = "Bayesian optimization of neural-network architectures and training settings in few trials"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tune any program: run it with proposed parameters and read its objective from stdout.
    #[command(allow_negative_numbers = true)]
    Tune(cli::tune::TuneArgs),
    /// Run strategies × problems × seeds and report regret curves.
    #[command(allow_negative_numbers = true)]
    Bench(cli::bench::BenchArgs),
    /// Search architectures and training settings of a network on a data set, with candle.
    #[command(allow_negative_numbers = true)]
    Nas(cli::nas::NasArgs),
    /// Train one configuration (a trial's parameters as JSON) and save its weights as
    /// safetensors; prints a JSON summary as its last line.
    #[command(allow_negative_numbers = true)]
    Train(cli::train::TrainArgs),
    /// Reserve the next trial of a study and print it as JSON: {"trial": N, "params": {...}}.
    #[command(allow_negative_numbers = true)]
    Ask(cli::storage::AskArgs),
    /// Record the result of a trial reserved with `nasbo ask`.
    #[command(allow_negative_numbers = true)]
    Tell(cli::storage::TellArgs),
    /// Write a study's trials as CSV (the format of `nasbo tune --out`).
    #[command(allow_negative_numbers = true)]
    Export(cli::storage::ExportArgs),
    /// List the studies in a storage with their trials by state.
    #[command(allow_negative_numbers = true)]
    Studies(cli::storage::StudiesArgs),
    /// Write a page of figures for a study: convergence, each parameter, importances,
    /// Pareto fronts.
    #[command(allow_negative_numbers = true)]
    Report(cli::report::ReportArgs),
}

fn main() -> ExitCode {
    nasbo::train::cpu::fix_thread_count();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tune(args) => cli::tune::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Nas(args) => cli::nas::run(args),
        Command::Train(args) => cli::train::run(args),
        Command::Ask(args) => cli::storage::ask(args),
        Command::Tell(args) => cli::storage::tell(args),
        Command::Export(args) => cli::storage::export(args),
        Command::Studies(args) => cli::storage::studies(args),
        Command::Report(args) => cli::report::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause once (the libraries' messages already include their
/// source's text).
fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg = format!("{msg}: {c}");
        }
    }
    msg
}

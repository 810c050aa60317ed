//! The `nasbo` command line: `tune` any program, `bench` strategies on test problems.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

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
    Tune(cli::tune::TuneArgs),
    /// Run strategies × problems × seeds and report regret curves.
    Bench(cli::bench::BenchArgs),
    /// Search architectures and training settings of a network on a data set, with candle.
    Nas(cli::nas::NasArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tune(args) => cli::tune::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Nas(args) => cli::nas::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

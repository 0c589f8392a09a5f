//! `xbar`: the command-line front end. Argument parsing and reporting only;
//! every computation lives in the library crates.

use clap::{Parser, Subcommand};

mod crossbar;
mod device;
mod infer;
mod output;
mod sim;
mod study;
mod train;

#[derive(Parser)]
#[command(
    name = "xbar",
    version,
    about = "Memristor crossbar and spiking-accelerator simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every analysis of a SPICE deck and write one CSV per analysis.
    ///
    /// Analyses: .op, .dc, .ac dec|oct|lin N fstart fstop, .tran. Files:
    /// op.csv, dc.csv, ac.csv, tran.csv (numbered dc1.csv, dc2.csv, ... when
    /// a kind occurs more than once). Columns are ngspice's vector names:
    /// the scale (time, v(v-sweep)/i(i-sweep), frequency in Hz), then v(node),
    /// i(vsource), i(inductor), x(memristor). In ac.csv every vector is a
    /// phasor in two columns, re(v(out)) and im(v(out)), followed after all
    /// of them by db(v(out)) (20·log10 of the magnitude) and phase(v(out))
    /// (degrees) for every vector.
    Sim(sim::Args),
    /// Solve a resistive crossbar with wire, driver and sense resistance.
    Crossbar(crossbar::Args),
    /// Memristor device characteristics: I-V loops, pulse programming, drift.
    #[command(subcommand)]
    Device(device::Command),
    /// Train the 784-1024-1024-10 network on MNIST and write a model.
    Train(train::Args),
    /// Run SNN inference on the MNIST test set at a chosen fidelity.
    Infer(infer::Args),
    /// Monte Carlo and sweep studies of non-idealities.
    Study(study::Args),
    /// Merge study shards into what a single run writes.
    Merge(study::MergeArgs),
    /// Tabulate finished studies: accuracy with 95 % intervals per sweep point.
    Table(study::TableArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(args) => sim::run(args),
        Command::Crossbar(args) => crossbar::run(args),
        Command::Device(cmd) => device::run(cmd),
        Command::Train(args) => train::run(args),
        Command::Infer(args) => infer::run(args),
        Command::Study(args) => study::run(args),
        Command::Merge(args) => study::merge(args),
        Command::Table(args) => study::table(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

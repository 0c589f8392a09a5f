//! `xbar study`, `xbar merge` and `xbar table`: run, resume, shard, merge
//! and tabulate sweep studies.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use xbar_study::{
    calibrates_adc_ranges, cancel_on_interrupt, check_threads, load_results, merge_dirs,
    render_csv, render_markdown, run_study, Evaluator, NetworkEvaluator, PointSummary, RunOptions,
    RunReport, Shard, Study, StudyConfig, StudyError, SyntheticEvaluator, NETWORK_MAPPINGS,
    NETWORK_PARAMETERS, PAPER_ACCURACY,
};

#[derive(clap::Args)]
pub struct Args {
    /// Study configuration (TOML; see studies/README.md).
    config: PathBuf,
    /// Output folder; rerunning with the same folder resumes. It receives
    /// study.toml (what the study is), trials.csv (one row per trial),
    /// summary.csv (per sweep point: mean accuracy, 95 % interval, ...) and,
    /// when something is swept, <first swept key>.svg (accuracy against it).
    #[arg(long)]
    out: PathBuf,
    /// Run only share K of N (1-based), e.g. one task of a SLURM job array;
    /// combine the shard folders with `xbar merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Worker threads (default: one per core; at most 4 per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Model file for ideal/shared/dense; overrides the config's `model`
    /// [default: as `xbar infer` finds it: $XBAR_MODEL, else
    /// models/mnist_shared.xbm in the working folder or one above it, else
    /// beside the executable]. Its SHA-256 is part of the study: resuming or
    /// merging needs the same model file contents.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Folder with the MNIST IDX files (else XBAR_MNIST_DIR, else the cache).
    #[arg(long)]
    mnist: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Study folders to combine (typically the shards of one study).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Folder for the merged study.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// A Markdown table for READMEs (accuracies in %).
    Markdown,
    /// CSV with exact values (accuracies as fractions, as in summary.csv).
    Csv,
}

#[derive(clap::Args)]
pub struct TableArgs {
    /// Finished (or merged) study folders, one table row per sweep point.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Accuracy to compare with, as a fraction (default: the paper's 96.4 %).
    #[arg(long, value_name = "ACC", default_value_t = PAPER_ACCURACY)]
    baseline: f64,
    /// Tabulate unfinished studies and shards from the trials recorded so far.
    #[arg(long)]
    partial: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    if let Some(threads) = args.threads {
        check_threads(threads as usize).context("--threads")?;
    }
    let config = StudyConfig::from_path(&args.config)?;
    match config.mapping.as_str() {
        "synthetic" => {
            if args.model.is_some() || args.mnist.is_some() {
                bail!(
                    "{}: mapping `synthetic` has no network; --model and --mnist apply to \
                     the network mappings ({})",
                    args.config.display(),
                    NETWORK_MAPPINGS.join(", ")
                );
            }
            if config.model.is_some() {
                bail!(
                    "{}: mapping `synthetic` has no network; `model` applies to the network \
                     mappings ({})",
                    args.config.display(),
                    NETWORK_MAPPINGS.join(", ")
                );
            }
            let study = Study::new(&config, SyntheticEvaluator.parameters())?;
            run_with(&study, &SyntheticEvaluator, &args, started)
        }
        mapping if NETWORK_MAPPINGS.contains(&mapping) => {
            // A typo in the config is reported before seconds go into
            // loading the model and verifying MNIST.
            let study = Study::new(&config, NETWORK_PARAMETERS)?;
            let model = args.model.as_deref().or(config.model.as_deref());
            let mut evaluator =
                NetworkEvaluator::load(mapping, model, args.mnist.as_deref(), true)?;
            if calibrates_adc_ranges(&config) {
                evaluator = evaluator.with_adc_range_metrics();
            }
            let available = evaluator.available_images();
            if config.images > available {
                bail!(
                    "{}: images = {} per trial, but the MNIST test set has {available}",
                    args.config.display(),
                    config.images
                );
            }
            let study = study.with_model(Some(evaluator.model_id().clone()));
            run_with(&study, &evaluator, &args, started)
        }
        other => bail!(
            "{}: unknown mapping `{other}`; expected synthetic or one of: {}",
            args.config.display(),
            NETWORK_MAPPINGS.join(", ")
        ),
    }
}

fn run_with<E: Evaluator>(
    study: &Study,
    evaluator: &E,
    args: &Args,
    started: Instant,
) -> anyhow::Result<()> {
    let setup = started.elapsed();
    let options = RunOptions {
        threads: args.threads.map(|n| n as usize),
        shard: args.shard,
        progress: true,
        cancel: Some(cancel_on_interrupt()?),
    };
    let report = match run_study(study, evaluator, &args.out, &options) {
        Err(interrupted @ StudyError::Interrupted { .. }) => {
            eprintln!("{interrupted}");
            // Everything is flushed and closed; 130 is the shell's code for SIGINT.
            std::process::exit(130);
        }
        other => other.with_context(|| format!("study {}", args.config.display()))?,
    };
    let mut text = format!(
        "{} trials ({} run now, {} resumed) in {:.1} s\n",
        report.total,
        report.ran,
        report.resumed,
        report.elapsed.as_secs_f64()
    );
    text.push_str(&timing(setup, &report, started.elapsed()));
    match args.shard {
        Some(shard) => text.push_str(&format!(
            "shard {shard} done; combine all shards with `xbar merge DIR... --out DIR`\n"
        )),
        None => text.push_str(&summary_table(study, report.reference, &report.summaries)),
    }
    text.push_str(&written(&report.files));
    print(&text)
}

pub fn merge(args: MergeArgs) -> anyhow::Result<()> {
    let report = merge_dirs(&args.dirs, &args.out)?;
    let mut text = format!(
        "merged {} trials from {} folders\n",
        report.trials,
        args.dirs.len()
    );
    text.push_str(&summary_table(
        &report.study,
        report.reference,
        &report.summaries,
    ));
    text.push_str(&written(&report.files));
    print(&text)
}

/// Where the wall time went: loading, the ideal reference, the trials (mean
/// per trial, and how busy the threads were), and the rest (writing files).
fn timing(setup: Duration, report: &RunReport, wall: Duration) -> String {
    let secs = Duration::as_secs_f64;
    let mut text = format!("wall time {:.1} s", secs(&wall));
    let mut parts = vec![format!("{:.1} s setup (config, model, data)", secs(&setup))];
    if !report.reference_time.is_zero() {
        parts.push(format!(
            "{:.1} s ideal reference",
            secs(&report.reference_time)
        ));
    }
    if report.ran > 0 {
        let trial = secs(&report.trial_time);
        let run_wall = secs(&report.elapsed) - secs(&report.reference_time);
        let busy = if run_wall > 0.0 {
            100.0 * trial / (run_wall * report.threads as f64)
        } else {
            0.0
        };
        parts.push(format!(
            "trials {:.3} s mean over {} ({:.1} s of trial time on {} thread{}, {:.0} % busy)",
            trial / report.ran as f64,
            report.ran,
            trial,
            report.threads,
            if report.threads == 1 { "" } else { "s" },
            busy.min(100.0)
        ));
    }
    text.push_str(": ");
    text.push_str(&parts.join(", "));
    text.push('\n');
    text
}

pub fn table(args: TableArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.baseline) {
        bail!(
            "--baseline {} is not an accuracy fraction in [0, 1] (0.964 for 96.4 %)",
            args.baseline
        );
    }
    let mut studies = Vec::with_capacity(args.dirs.len());
    for dir in &args.dirs {
        let results = load_results(dir, args.partial)?;
        if results.missing > 0 {
            eprintln!(
                "warning: {}: {} of {} trials missing; its rows are partial",
                dir.display(),
                results.missing,
                results.study.total_trials()
            );
        }
        studies.push(results);
    }
    match args.format {
        Format::Markdown => print(&render_markdown(&studies, args.baseline)),
        Format::Csv => print(&String::from_utf8_lossy(&render_csv(
            &studies,
            args.baseline,
        ))),
    }
}

/// Writes to stdout; a closed pipe (`xbar study ... | head`) is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

fn written(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| format!("wrote {}\n", f.display()))
        .collect()
}

fn summary_table(study: &Study, reference: Option<f64>, summaries: &[PointSummary]) -> String {
    let mut text = String::new();
    if let Some(r) = reference {
        text.push_str(&format!("ideal accuracy: {:.2} %\n", 100.0 * r));
    }
    let keys: Vec<&str> = study.axes.iter().map(|a| a.key.as_str()).collect();
    text.push_str(&format!(
        "{:>30}  {:>8}  {:>19}  {:>4}\n",
        keys.join(", "),
        "mean %",
        "95 % CI",
        "n"
    ));
    for s in summaries {
        let values: Vec<String> = s.values.iter().map(|v| v.to_string()).collect();
        let ci = s.stats.ci95.map_or("-".to_string(), |(lo, hi)| {
            format!("{:.2} .. {:.2}", 100.0 * lo, 100.0 * hi)
        });
        text.push_str(&format!(
            "{:>30}  {:>8.2}  {:>19}  {:>4}\n",
            values.join(", "),
            100.0 * s.stats.mean,
            ci,
            s.stats.n
        ));
    }
    text
}

//! `xbar study` and `xbar merge`: run, resume, shard and merge sweep studies.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use xbar_study::{
    cancel_on_interrupt, merge_dirs, run_study, Evaluator, NetworkEvaluator, PointSummary,
    RunOptions, Shard, Study, StudyConfig, StudyError, SyntheticEvaluator, NETWORK_MAPPINGS,
    NETWORK_PARAMETERS,
};

#[derive(clap::Args)]
pub struct Args {
    /// Study configuration (TOML; see studies/README.md).
    config: PathBuf,
    /// Output folder; rerunning with the same folder resumes.
    #[arg(long)]
    out: PathBuf,
    /// Run only share K of N (1-based), e.g. one task of a SLURM job array;
    /// combine the shard folders with `xbar merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Model file for ideal/shared/dense (default: the shipped
    /// models/mnist_shared.xbm). Resuming must use the same model.
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

pub fn run(args: Args) -> anyhow::Result<()> {
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
            run_with(&config, &SyntheticEvaluator, &args)
        }
        mapping if NETWORK_MAPPINGS.contains(&mapping) => {
            // A typo in the config is reported before seconds go into
            // loading the model and verifying MNIST.
            Study::new(&config, NETWORK_PARAMETERS)?;
            let evaluator = NetworkEvaluator::load(
                mapping,
                args.model.as_deref(),
                args.mnist.as_deref(),
                true,
            )?;
            let available = evaluator.available_images();
            if config.images > available {
                bail!(
                    "{}: images = {} per trial, but the MNIST test set has {available}",
                    args.config.display(),
                    config.images
                );
            }
            run_with(&config, &evaluator, &args)
        }
        other => bail!(
            "{}: unknown mapping `{other}`; expected synthetic or one of: {}",
            args.config.display(),
            NETWORK_MAPPINGS.join(", ")
        ),
    }
}

fn run_with<E: Evaluator>(config: &StudyConfig, evaluator: &E, args: &Args) -> anyhow::Result<()> {
    let study = Study::new(config, evaluator.parameters())?;
    let options = RunOptions {
        threads: args.threads.map(|n| n as usize),
        shard: args.shard,
        progress: true,
        cancel: Some(cancel_on_interrupt()?),
    };
    let report = match run_study(&study, evaluator, &args.out, &options) {
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
    match args.shard {
        Some(shard) => text.push_str(&format!(
            "shard {shard} done; combine all shards with `xbar merge DIR... --out DIR`\n"
        )),
        None => text.push_str(&summary_table(&study, report.reference, &report.summaries)),
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

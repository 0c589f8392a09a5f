//! `xbar train`: trains the 784-1024-1024-10 network, shares its weights and
//! writes the model with a TOML record of how it was made.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xbar_snn::mlp::{Schedule, TrainConfig};
use xbar_snn::pipeline::{self, Phase, Recipe};
use xbar_snn::quant::Method;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Quantize {
    /// 16 shared values per layer by k-means, then fine-tuned.
    Kmeans,
    /// 16 evenly spaced levels per layer, not fine-tuned.
    Uniform,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LrSchedule {
    /// --lr throughout.
    Constant,
    /// From --lr down to --lr-final x --lr along half a cosine.
    Cosine,
}

#[derive(clap::Args)]
pub struct Args {
    /// Folder with the MNIST IDX files (else XBAR_MNIST_DIR, else the cache,
    /// downloaded on first use).
    #[arg(long)]
    mnist: Option<PathBuf>,
    /// Model file to write; the training record goes beside it as `.toml`.
    /// An existing model is kept unless --force is given.
    #[arg(long, default_value = "models/mnist_shared.xbm")]
    out: PathBuf,
    /// Replace the model (and its record) at --out if there is one.
    #[arg(long)]
    force: bool,
    /// Passes over the training images before clustering (at least 1).
    #[arg(long, default_value_t = 15)]
    epochs: usize,
    /// Images per gradient step.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Initial Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// How the learning rate changes over the epochs.
    #[arg(long, value_enum, default_value = "cosine")]
    schedule: LrSchedule,
    /// Last learning rate of the cosine schedule, as a fraction of --lr.
    #[arg(long, default_value_t = 0.02)]
    lr_final: f64,
    /// Probability of dropping each input pixel during training, in [0, 1).
    #[arg(long, default_value_t = 0.1)]
    dropout_input: f64,
    /// Probability of dropping each hidden neuron during training, in [0, 1).
    #[arg(long, default_value_t = 0.3)]
    dropout_hidden: f64,
    /// Random translation of training images by up to this many pixels.
    #[arg(long, default_value_t = 1)]
    shift: usize,
    /// Seed of the initial weights, the image order, dropout and shifts
    /// (the same seed gives the same model, bit for bit).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How each layer's weights become 16 shared values.
    #[arg(long, value_enum, default_value = "kmeans")]
    quantize: Quantize,
    /// Epochs of fine-tuning the shared values after clustering.
    #[arg(long, default_value_t = 2)]
    fine_tune_epochs: usize,
    /// Adam learning rate of the fine-tuning epochs (constant).
    #[arg(long, default_value_t = 1e-4)]
    fine_tune_lr: f64,
    /// Training images held out for validation (the last ones).
    #[arg(long, default_value_t = 5000)]
    validation: usize,
    /// Percentile of positive activations for the normalisation scales.
    #[arg(long, default_value_t = 99.9)]
    percentile: f64,
    /// Use only the first N training images (quick experiments); more than
    /// --validation, which are held out of them.
    #[arg(long)]
    limit: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.percentile > 0.0 && args.percentile <= 100.0) {
        anyhow::bail!("--percentile must be in (0, 100], got {}", args.percentile);
    }
    if args.epochs == 0 {
        anyhow::bail!("--epochs 0 would write an untrained network; give at least 1");
    }
    if let Some(n) = args.limit {
        if n <= args.validation {
            anyhow::bail!(
                "--limit {n} leaves no training images once the last --validation {} are held \
                 out; give a --limit above {} or a smaller --validation",
                args.validation,
                args.validation
            );
        }
    }
    let toml_path = args.out.with_extension("toml");
    check_writable(&args.out, &toml_path, args.force)?;
    let mut data = xbar_snn::mnist::load(args.mnist.as_deref(), true)?;
    if let Some(n) = args.limit {
        data.train = data.train.truncated(n);
    }
    let schedule = match args.schedule {
        LrSchedule::Constant => Schedule::Constant,
        LrSchedule::Cosine => Schedule::Cosine,
    };
    let dense = TrainConfig {
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
        schedule,
        final_fraction: args.lr_final,
        dropout_input: args.dropout_input,
        dropout_hidden: args.dropout_hidden,
        shift: args.shift,
        seed: args.seed,
    };
    let recipe = Recipe {
        fine_tune: TrainConfig {
            epochs: args.fine_tune_epochs,
            lr: args.fine_tune_lr,
            seed: args.seed.wrapping_add(1),
            ..dense.clone()
        },
        dense,
        method: match args.quantize {
            Quantize::Kmeans => Method::KMeans,
            Quantize::Uniform => Method::Uniform,
        },
        validation: args.validation,
        percentile: args.percentile,
        ..Recipe::default()
    };
    let (model, record) = pipeline::train_shared(&data, &recipe, true, |phase, r| {
        let phase = match phase {
            Phase::Dense => "train",
            Phase::FineTune => "fine-tune",
        };
        println!(
            "{phase} epoch {}/{}: loss {:.4}, validation accuracy {:.2} %, lr {:.2e}, {:.1} s",
            r.epoch,
            r.epochs,
            r.loss,
            100.0 * r.validation_accuracy,
            r.lr,
            r.seconds
        );
    })?;
    println!(
        "test accuracy: ANN {:.2} %, clustered {:.2} %, shared 16-bit {:.2} % ({:.0} s)",
        100.0 * record.ann_test_accuracy,
        100.0 * record.clustered_test_accuracy,
        100.0 * record.shared_test_accuracy,
        record.training_seconds
    );
    model.save(&args.out)?;
    let snn = pipeline::SnnRecord::measure(&model, &data.test, true)?;
    println!(
        "SNN (ideal, T = {}): test accuracy {:.2} %, {:.0} frames/s",
        snn.timesteps,
        100.0 * snn.accuracy,
        snn.frames_per_s
    );
    let command = std::iter::once("xbar".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut document = pipeline::Document::new(command, &recipe, &record);
    document.snn = Some(snn);
    pipeline::write_toml(&toml_path, &document)
        .with_context(|| format!("writing {}", toml_path.display()))?;
    println!("wrote {} and {}", args.out.display(), toml_path.display());
    Ok(())
}

/// Refuses, before minutes of training, what would fail or destroy work at
/// the end: an existing model or record at `model`/`record` (without
/// `force`), a folder in their place, or a folder that cannot be written.
fn check_writable(model: &Path, record: &Path, force: bool) -> anyhow::Result<()> {
    for path in [model, record] {
        if path.is_dir() {
            anyhow::bail!("--out: {} is a folder, not a model file", path.display());
        }
        if path.exists() && !force {
            anyhow::bail!(
                "--out: {} exists; pass --force to replace it, or name another file",
                path.display()
            );
        }
    }
    let dir = match model.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("--out: creating {}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".xbar-")
        .tempfile_in(dir)
        .with_context(|| format!("--out: cannot write into {}", dir.display()))?;
    Ok(())
}

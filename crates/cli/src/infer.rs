//! `xbar infer`: runs the converted SNN on the MNIST test images and writes
//! `summary.csv`, `confusion.csv` and `layers.csv` (and, for the shared
//! mapping, `resources.csv`).

use std::path::PathBuf;

use xbar_snn::mnist::{self, Split};
use xbar_snn::report::{self, Summary};
use xbar_snn::resources::Resources;
use xbar_snn::snn::{Encoding, Normalisation, Reset};
use xbar_snn::trial::{self, Conversion, Images};
use xbar_snn::SharedModel;
use xbar_snn::{calibrate, nonideal};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MappingArg {
    /// Software synapses with the stored 16-bit shared weights.
    Ideal,
    /// The paper's accelerator: shared weights bit-sliced in 16x16 binary
    /// memristor arrays, read through the crossbar solver.
    Shared,
    /// Differential conductance pairs in tiled crossbars, through each
    /// tile's IR-drop-aware effective matrix and column ADCs.
    Dense,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EncodingArg {
    /// Pixels spike with probability intensity/255 each step (seeded).
    Bernoulli,
    /// Pixels inject their intensity every step (deterministic).
    Constant,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ResetArg {
    /// V = V_reset after a spike (the paper's neuron).
    Value,
    /// V = V - V_th after a spike (Rueckauer et al. 2017).
    Subtract,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum NormArg {
    /// Thresholds from the 99.9th percentile of ANN activations.
    Percentile,
    /// Thresholds from the maximum ANN activations.
    Max,
}

#[derive(clap::Args)]
pub struct Args {
    /// Model file [default: $XBAR_MODEL, else models/mnist_shared.xbm in
    /// the working folder or any folder above it, else the one beside the xbar
    /// executable (<exe dir>/../../models/)].
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "ideal")]
    mapping: MappingArg,
    /// TOML file of non-idealities (dotted keys; unset keys are ideal).
    #[arg(long)]
    nonideal: Option<PathBuf>,
    /// Time steps per image (overrides input.timesteps) [default: 32].
    #[arg(long)]
    timesteps: Option<usize>,
    /// Input coding (overrides input.encoding) [default: bernoulli].
    #[arg(long, value_enum)]
    encoding: Option<EncodingArg>,
    #[arg(long, value_enum, default_value = "value")]
    reset: ResetArg,
    /// Reset potential with --reset value, as a fraction of the threshold
    /// (below 1).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    v_reset: f64,
    #[arg(long, value_enum, default_value = "percentile")]
    norm: NormArg,
    /// Only the first N test images.
    #[arg(long)]
    limit: Option<usize>,
    /// Seed of the input spike trains.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder with the MNIST IDX files (else XBAR_MNIST_DIR, else the cache).
    #[arg(long)]
    mnist: Option<PathBuf>,
    /// With --mapping dense: compare the effective-matrix currents with full
    /// circuit solves of every tile on N input patterns.
    #[arg(long, value_name = "N")]
    validate: Option<usize>,
    /// Output folder: summary.csv (accuracy, frames/s, settings),
    /// confusion.csv (true class x predicted class), layers.csv (spikes per
    /// layer), and with --mapping shared resources.csv (cores, cycles).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mapping_name = match args.mapping {
        MappingArg::Ideal => "ideal",
        MappingArg::Shared => "shared",
        MappingArg::Dense => "dense",
    };
    if args.validate.is_some() && args.mapping != MappingArg::Dense {
        anyhow::bail!("--validate needs --mapping dense");
    }
    if args.validate == Some(0) {
        anyhow::bail!("--validate must be at least 1");
    }
    if args.limit == Some(0) {
        anyhow::bail!("--limit must be at least 1");
    }
    if args.timesteps == Some(0) {
        anyhow::bail!("--timesteps must be at least 1");
    }
    let v_reset = args.v_reset as f32;
    if !(v_reset.is_finite() && args.v_reset < 1.0) {
        anyhow::bail!(
            "--v-reset {}: the reset potential is a fraction of the threshold and must be \
             below 1 (a neuron reset at or above its threshold fires every step) and within \
             the range of a 32-bit float (magnitude below 3.4e38)",
            xbar_study::format_f64(args.v_reset)
        );
    }
    let mut settings = match &args.nonideal {
        Some(path) => nonideal::read(path, mapping_name)?,
        None => nonideal::Settings::default(),
    };
    let model_path = xbar_study::locate_model(args.model.as_deref())?;
    let model = SharedModel::load(&model_path)?;
    let test = mnist::load_split(args.mnist.as_deref(), Split::Test, true)?;
    let test = match args.limit {
        Some(n) => test.truncated(n),
        None => test,
    };
    let train = if args.mapping == MappingArg::Dense
        && calibrate::needs_training_images(&settings.hardware)
    {
        Some(mnist::load_split(
            args.mnist.as_deref(),
            Split::Train,
            true,
        )?)
    } else {
        None
    };
    if let Some(t) = args.timesteps {
        settings.neuron.timesteps = Some(t);
    }
    match args.encoding {
        Some(EncodingArg::Bernoulli) => settings.neuron.encoding = Some(Encoding::Bernoulli),
        Some(EncodingArg::Constant) => settings.neuron.encoding = Some(Encoding::Constant),
        None => {}
    }
    let conversion = Conversion {
        norm: match args.norm {
            NormArg::Percentile => Normalisation::Percentile,
            NormArg::Max => Normalisation::Max,
        },
        reset: match args.reset {
            ResetArg::Subtract => Reset::Subtract,
            ResetArg::Value => Reset::ToValue,
        },
        v_reset,
    };
    let images = Images {
        test: &test,
        train: train.as_ref(),
    };
    let run = trial::run(
        &model,
        images,
        mapping_name,
        &settings,
        &conversion,
        args.seed,
        true,
    )?;
    let outcome = &run.outcome;
    let accuracy = outcome.accuracy(&test.labels);
    let mut columns = vec![
        (
            "encoding".to_string(),
            format!("{:?}", run.config.encoding).to_lowercase(),
        ),
        (
            "reset".into(),
            match conversion.reset {
                Reset::ToValue => "value",
                Reset::Subtract => "subtract",
            }
            .into(),
        ),
        ("v_reset".into(), v_reset.to_string()),
        (
            "normalisation".into(),
            format!("{:?}", conversion.norm).to_lowercase(),
        ),
        (
            "lif.v_th".into(),
            settings.neuron.v_th.unwrap_or(1.0).to_string(),
        ),
        (
            "lif.v_leak".into(),
            settings.neuron.v_leak.unwrap_or(0.0).to_string(),
        ),
        (
            "lif.threshold_sigma".into(),
            settings.neuron.threshold_sigma.unwrap_or(0.0).to_string(),
        ),
    ];
    // Every hardware key as set in the file, empty when ideal.
    for key in nonideal::HARDWARE_KEYS {
        let value = settings
            .keys
            .iter()
            .find(|(k, _)| k == key)
            .map_or(String::new(), |(_, v)| v.trim_matches('"').to_string());
        columns.push((key.to_string(), value));
    }
    if let Some((shared, _)) = &run.shared {
        let errors: usize = shared.cores.iter().map(|c| c.bit_errors).sum();
        columns.push(("table_bit_errors".into(), errors.to_string()));
    }
    // The range each layer's column converters used, however it was chosen.
    if let Some(dense) = run.dense.as_ref().filter(|d| !d.adc(0).is_ideal()) {
        for l in 0..dense.layers() {
            columns.push((
                format!("adc_range_layer{}_a", l + 1),
                dense.adc_range_amps(l).to_string(),
            ));
        }
    }
    if let Some(c) = &run.calibration {
        columns.push(("adc_calibration_s".into(), c.seconds.to_string()));
    }
    columns.extend([
        ("seed".into(), args.seed.to_string()),
        ("threads".into(), xbar_snn::threads().to_string()),
        (
            "model".into(),
            std::fs::canonicalize(&model_path)
                .unwrap_or(model_path)
                .display()
                .to_string(),
        ),
    ]);
    let summary = Summary {
        mapping: mapping_name.to_string(),
        accuracy,
        images: outcome.images(),
        timesteps: run.config.timesteps,
        frames_per_s: outcome.frames_per_s(),
        settings: columns,
    };
    report::write(&args.out, &summary, outcome, &test.labels)?;
    println!(
        "{mapping_name}: accuracy {:.2} % on {} images, T = {}, {:.0} frames/s (simulation); wrote {}",
        100.0 * accuracy,
        outcome.images(),
        run.config.timesteps,
        outcome.frames_per_s(),
        args.out.display()
    );
    if let Some(dense) = &run.dense {
        println!(
            "dense: {} crossbars of at most {t}x{t}, effective matrices in {:.2} s",
            dense.crossbars,
            dense.effective_seconds,
            t = dense.tile(),
        );
        if let Some(c) = &run.calibration {
            let ranges: Vec<String> = (0..dense.layers())
                .map(|l| {
                    let kept = if c.ranges[l].is_none() {
                        " (full scale)"
                    } else {
                        ""
                    };
                    format!("layer {} {:.4e} A{kept}", l + 1, dense.adc_range_amps(l))
                })
                .collect();
            println!(
                "adc: ranges at the {} percentile of |partial sum| over {} training images ({:.2} s): {}",
                c.percentile,
                c.images,
                c.seconds,
                ranges.join(", ")
            );
        }
        if let Some(n) = args.validate {
            let v = dense.validate(&test, n, args.seed)?;
            println!(
                "validate: {} column currents, full solve vs effective matrix: max {:.3e}, mean {:.3e} (relative)",
                v.reads, v.max_relative, v.mean_relative
            );
        }
    }
    if let Some((shared, resources)) = &run.shared {
        report::write_resources(&args.out, resources)?;
        for (l, c) in shared.cores.iter().enumerate() {
            if c.bit_errors > 0 {
                println!(
                    "core {}: {} of 256 table bits read wrong (noise-free read)",
                    l + 1,
                    c.bit_errors
                );
            }
        }
        print_resources(resources);
    }
    Ok(())
}

fn print_resources(r: &Resources) {
    use xbar_snn::resources as paper;
    println!(
        "accelerator: {} cores; memristors {} (paper {}), neurons {} (paper {}), synapses {} (paper {})",
        r.cores.len(),
        r.memristors(),
        paper::PAPER_MEMRISTORS,
        r.neurons(),
        paper::PAPER_NEURONS,
        r.synapses(),
        paper::PAPER_SYNAPSES
    );
    for (l, c) in r.cores.iter().enumerate() {
        println!(
            "  core {}: {}x{} synapses, {} memristors, {:.0} input spikes/frame, {:.0} cycles/frame",
            l + 1,
            c.inputs,
            c.neurons,
            c.memristors,
            c.spikes_in,
            c.cycles
        );
    }
    println!(
        "  {:.0} cycles/frame (layer pipeline; {:.0} serial) at {:.0} MHz: {:.1} frames/s (paper {})",
        r.cycles_per_frame(),
        r.serial_cycles_per_frame(),
        paper::CLOCK_HZ / 1e6,
        r.frames_per_s(),
        paper::PAPER_FRAMES_PER_S
    );
}

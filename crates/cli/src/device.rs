//! `xbar device iv|pulse|drift`: single-device characteristics and
//! conductance-drift statistics, written as CSV.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xbar_memristor::drift::load_drift_preset;
use xbar_memristor::integrate::{simulate, Drive, Tolerances};
use xbar_memristor::program::pulse_train;
use xbar_memristor::{load_model, CompactModel, Compensation, NonIdealConfig};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Pinched hysteresis loop under a sine.
    ///
    /// Writes DIR/iv.csv: time_s, voltage_V, current_A, state (model units:
    /// w/D for lid, metres for vteam, x for yakopcic, gap in metres for
    /// stanford_pku).
    Iv(IvArgs),
    /// Conductance vs pulse number for a train of identical pulses.
    ///
    /// Writes DIR/pulse.csv: pulse (0 = before the first), conductance_S
    /// (I/V at --read-voltage), state.
    Pulse(PulseArgs),
    /// Conductance distributions over time for a drift preset.
    ///
    /// Writes DIR/drift_summary.csv, one row per time and target: time_s,
    /// target_S, devices, mean_S, std_S, p01_S .. p99_S, mean_ratio (mean /
    /// target), expected_mean_ratio (the model's formula), and
    /// compensated_mean_ratio (after one layer-wide drift-compensation scale
    /// estimated from the array, as aihwkit's GlobalDriftCompensation). With
    /// --samples also DIR/drift_samples.csv: device, target_S, time_s,
    /// conductance_S.
    Drift(DriftArgs),
}

#[derive(clap::Args)]
pub struct IvArgs {
    /// Device model file (models/<name>.toml).
    #[arg(long)]
    model: PathBuf,
    /// Sine amplitude, V.
    #[arg(long, default_value_t = 1.0)]
    amplitude: f64,
    /// Sine frequency, Hz.
    #[arg(long, default_value_t = 1.0)]
    freq: f64,
    /// Number of periods.
    #[arg(long, default_value_t = 2)]
    cycles: u32,
    /// Output points per period.
    #[arg(long, default_value_t = 1000)]
    points: u32,
    /// Initial state (model units); default: the model's `x0`.
    #[arg(long, allow_hyphen_values = true)]
    x0: Option<f64>,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct PulseArgs {
    #[arg(long)]
    model: PathBuf,
    /// Pulse amplitude, V (signed: negative for RESET of a bipolar device).
    #[arg(long, allow_hyphen_values = true)]
    amplitude: f64,
    /// Pulse width, s.
    #[arg(long, allow_hyphen_values = true)]
    width: f64,
    /// Number of pulses.
    #[arg(long)]
    count: usize,
    /// Read voltage for the conductance after each pulse, V.
    #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
    read_voltage: f64,
    #[arg(long)]
    x0: Option<f64>,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct DriftArgs {
    /// Drift preset file (models/drift_pcm.toml, models/drift_rram.toml).
    #[arg(long)]
    model: PathBuf,
    /// Read times after programming, s, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,60,3600,86400,3.15e7")]
    times: Vec<f64>,
    /// Number of devices, spread evenly over the preset's targets.
    #[arg(long, default_value_t = 10_000)]
    devices: usize,
    /// Seed; device k always draws from the streams of (seed, k).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write every device's conductance at every time.
    #[arg(long)]
    samples: bool,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Iv(a) => iv(a),
        Command::Pulse(a) => pulse(a),
        Command::Drift(a) => drift(a),
    }
}

fn model_and_state(path: &Path, x0: Option<f64>) -> Result<(Box<dyn CompactModel>, f64)> {
    let model = load_model(path)?;
    let x = x0.unwrap_or_else(|| model.default_state());
    let (lo, hi) = model.state_bounds();
    if !(x.is_finite() && (lo..=hi).contains(&x)) {
        bail!(
            "--x0 {x} is outside the state bounds [{lo}, {hi}] of {}",
            path.display()
        );
    }
    Ok((model, x))
}

fn iv(a: IvArgs) -> Result<()> {
    let (model, x0) = model_and_state(&a.model, a.x0)?;
    if !(a.freq.is_finite() && a.freq > 0.0) {
        bail!("--freq must be positive, got {}", a.freq);
    }
    if a.cycles == 0 || a.points == 0 {
        bail!("--cycles and --points must be at least 1");
    }
    let n = a.cycles as usize * a.points as usize;
    let period = 1.0 / a.freq;
    let times: Vec<f64> = (0..=n)
        .map(|k| k as f64 * period / a.points as f64)
        .collect();
    let drive = Drive::Sine {
        amplitude: a.amplitude,
        frequency: a.freq,
    };
    let samples = simulate(model.as_ref(), &drive, x0, &times, &Tolerances::default())
        .with_context(|| format!("simulating {}", a.model.display()))?;
    write_csv(&a.out, "iv.csv", |w| {
        w.write_record(["time_s", "voltage_V", "current_A", "state"])?;
        for s in &samples {
            w.serialize((s.t, s.v, s.i, s.x))?;
        }
        Ok(())
    })
}

fn pulse(a: PulseArgs) -> Result<()> {
    let (model, x0) = model_and_state(&a.model, a.x0)?;
    let curve = pulse_train(
        model.as_ref(),
        x0,
        a.amplitude,
        a.width,
        a.count,
        a.read_voltage,
        &Tolerances::default(),
    )
    .with_context(|| format!("pulsing {}", a.model.display()))?;
    write_csv(&a.out, "pulse.csv", |w| {
        w.write_record(["pulse", "conductance_S", "state"])?;
        for p in &curve {
            w.serialize((p.pulse, p.conductance, p.state))?;
        }
        Ok(())
    })
}

fn drift(a: DriftArgs) -> Result<()> {
    let preset = load_drift_preset(&a.model)?;
    if a.devices == 0 {
        bail!("--devices must be at least 1");
    }
    if let Some(t) = a.times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
        bail!("--times holds {t}; times must be finite and >= 0");
    }
    let targets: Vec<f64> = (0..a.devices)
        .map(|k| preset.targets[k % preset.targets.len()])
        .collect();
    let mut summary = Vec::new();
    let mut samples = Vec::new();
    for &t in &a.times {
        let cfg = NonIdealConfig {
            drift: Some(preset.drift.clone()),
            drift_time_s: Some(t),
            compensation: Some(Compensation::Layer),
            ..Default::default()
        };
        let out = cfg.apply(&targets, a.devices, 1, a.seed)?;
        let compensated = out.compensated();
        for &g in &preset.targets {
            let pick = |v: &[f64]| -> Vec<f64> {
                (0..a.devices)
                    .filter(|&k| targets[k] == g)
                    .map(|k| v[k])
                    .collect()
            };
            let mut read = pick(&out.read);
            if read.is_empty() {
                // Fewer devices than targets: this target got none.
                continue;
            }
            let comp = pick(&compensated);
            read.sort_by(f64::total_cmp);
            let n = read.len() as f64;
            let mean = read.iter().sum::<f64>() / n;
            let var =
                read.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
            let q = |p: f64| read[((p * (n - 1.0)).round() as usize).min(read.len() - 1)];
            summary.push((
                t,
                g,
                read.len(),
                mean,
                var.sqrt(),
                [q(0.01), q(0.1), q(0.5), q(0.9), q(0.99)],
                mean / g,
                preset.drift.expected_mean_ratio(g, t),
                comp.iter().sum::<f64>() / n / g,
            ));
        }
        if a.samples {
            samples.push((t, out.read));
        }
    }
    write_csv(&a.out, "drift_summary.csv", |w| {
        w.write_record([
            "time_s",
            "target_S",
            "devices",
            "mean_S",
            "std_S",
            "p01_S",
            "p10_S",
            "p50_S",
            "p90_S",
            "p99_S",
            "mean_ratio",
            "expected_mean_ratio",
            "compensated_mean_ratio",
        ])?;
        for (t, g, n, mean, std, q, ratio, expected, comp) in &summary {
            w.serialize((
                t, g, n, mean, std, q[0], q[1], q[2], q[3], q[4], ratio, expected, comp,
            ))?;
        }
        Ok(())
    })?;
    if a.samples {
        write_csv(&a.out, "drift_samples.csv", |w| {
            w.write_record(["device", "target_S", "time_s", "conductance_S"])?;
            for (t, read) in &samples {
                for (k, g) in read.iter().enumerate() {
                    w.serialize((k, targets[k], t, g))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Writes `dir/name` (creating `dir`) atomically.
fn write_csv(
    dir: &Path,
    name: &str,
    body: impl FnOnce(&mut csv::Writer<&mut dyn std::io::Write>) -> Result<()>,
) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::output::write_csv(&dir.join(name), body)
}

//! `xbar device iv|pulse|program|drift`: single-device characteristics,
//! write-verify distributions and conductance-drift statistics, as CSV.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xbar_memristor::drift::load_drift_preset;
use xbar_memristor::integrate::{simulate, Drive, Tolerances};
use xbar_memristor::program::{
    levels, pulse_train, ParamSpread, Population, Ramp, TargetSummary, WriteVerify,
};
use xbar_memristor::{
    from_card, load_card, load_model, CompactModel, Compensation, NonIdealConfig,
};

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
    /// Write-verify (program-and-verify) a population of devices to target
    /// conductances through the compact model.
    ///
    /// Each device starts from its initial state and gets a pulse at a time:
    /// --v-set pulses while its read conductance is below the target,
    /// --v-reset pulses while above, until it is within --tolerance or the
    /// budget of --max-pulses is spent. Consecutive pulses in one direction
    /// climb by --step up to --v-max; a reversal restarts the staircase.
    ///
    /// Writes DIR/devices.csv (device, target_S, conductance_S, rel_error,
    /// pulses, converged, state) and DIR/summary.csv, one row per target:
    /// target_S, devices, converged, failure_rate, mean_S, std_S,
    /// mean_pulses, std_pulses, max_pulses (moments over all devices, failed
    /// ones included; sample standard deviations). Device k draws its
    /// parameters from the streams of (seed, k), so the files are the same
    /// for any thread count.
    Program(ProgramArgs),
    /// Conductance distributions over time for a drift preset.
    ///
    /// Writes DIR/drift_summary.csv, one row per time and target: time_s,
    /// target_S, devices, mean_S, std_S, p01_S .. p99_S, mean_ratio (mean /
    /// target), expected_mean_ratio (the model's formula), and
    /// compensated_mean_ratio (after the drift-compensation scales of
    /// --compensation, estimated from the drifted array itself). With
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
    /// Device model file (models/<name>.toml; a drift preset is not a device).
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
    /// Initial state (model units, within the model's state bounds);
    /// default: the model's x0.
    #[arg(long, allow_hyphen_values = true)]
    x0: Option<f64>,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ProgramArgs {
    /// Device model file (models/<name>.toml).
    #[arg(long)]
    model: PathBuf,
    /// Target conductances, S, comma separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "levels")]
    targets: Option<Vec<f64>>,
    /// Evenly spaced target levels from --g-min to --g-max (16 for 4 bits).
    #[arg(long)]
    levels: Option<u32>,
    /// Lowest level, S (default: the nominal device's conductance at the
    /// state bound of lower conductance).
    #[arg(long, requires = "levels")]
    g_min: Option<f64>,
    /// Highest level, S (default: at the other state bound).
    #[arg(long, requires = "levels")]
    g_max: Option<f64>,
    /// Accepted relative deviation |G - target| / target.
    #[arg(long, default_value_t = 0.02)]
    tolerance: f64,
    /// Pulse budget per device and target.
    #[arg(long, default_value_t = 100)]
    max_pulses: usize,
    /// First amplitude of the pulses that raise the conductance, V (signed:
    /// negative for a device such as VTEAM that turns ON at negative bias).
    #[arg(long, allow_hyphen_values = true)]
    v_set: f64,
    /// First amplitude of the pulses that lower the conductance, V (signed).
    #[arg(long, allow_hyphen_values = true)]
    v_reset: f64,
    /// Pulse width, s.
    #[arg(long, allow_hyphen_values = true)]
    width: f64,
    /// Amplitude increment per consecutive pulse in one direction, V (>= 0).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    step: f64,
    /// Largest pulse magnitude the staircase climbs to, V (needed with --step).
    #[arg(long)]
    v_max: Option<f64>,
    /// Read voltage of the verify step, V.
    #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
    read_voltage: f64,
    /// Device-to-device spread of a model parameter: NAME=SIGMA (normal,
    /// p (1 + SIGMA N)) or NAME=SIGMA:log (lognormal, p exp(SIGMA N)). The
    /// parameter must be set in the model file. Repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    variability: Vec<String>,
    /// Cycle-to-cycle noise: each pulse's state change is scaled by
    /// max(0, 1 + SIGMA N).
    #[arg(long, default_value_t = 0.0)]
    c2c: f64,
    /// Initial state of every device (model units); default: the model's x0.
    #[arg(long, allow_hyphen_values = true)]
    x0: Option<f64>,
    /// Devices programmed to each target.
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// Seed; device k always draws from the streams of (seed, k).
    #[arg(long, default_value_t = 0)]
    seed: u64,
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
    /// Drift compensation behind compensated_mean_ratio: none; layer (one
    /// scale for all devices, as aihwkit's GlobalDriftCompensation); column
    /// (one scale per target level: the devices are laid out with one column
    /// per target, so --devices must be a multiple of the preset's targets).
    /// The drawn conductances are the same whatever the choice.
    #[arg(long, value_enum, default_value_t = CompensationArg::Layer)]
    compensation: CompensationArg,
    /// Also write every device's conductance at every time.
    #[arg(long)]
    samples: bool,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CompensationArg {
    None,
    Layer,
    Column,
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Iv(a) => iv(a),
        Command::Pulse(a) => pulse(a),
        Command::Program(a) => program(a),
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

/// Most devices one `device program` or `device drift` run simulates: each
/// keeps a few conductances per read time in memory (~120 bytes at the five
/// default times), so 10 million need ~1.2 GB.
const MAX_DEVICES: usize = 10_000_000;

fn check_devices(devices: usize) -> Result<()> {
    if devices == 0 {
        bail!("--devices must be at least 1");
    }
    if devices > MAX_DEVICES {
        bail!("--devices {devices}: more than the limit of {MAX_DEVICES} devices per run (memory grows with the devices; split the population over seeds)");
    }
    Ok(())
}

fn program(a: ProgramArgs) -> Result<()> {
    let (words, params) = load_card(&a.model)?;
    let nominal = from_card(&words, &params)
        .with_context(|| format!("building the model of {}", a.model.display()))?;
    check_devices(a.devices)?;
    if !(a.tolerance.is_finite() && a.tolerance > 0.0) {
        bail!("--tolerance must be positive, got {}", a.tolerance);
    }
    if a.max_pulses == 0 {
        bail!("--max-pulses must be at least 1");
    }
    if !(a.width.is_finite() && a.width > 0.0) {
        bail!("--width must be positive, got {} s", a.width);
    }
    if !(a.read_voltage.is_finite() && a.read_voltage != 0.0) {
        bail!("--read-voltage must be finite and non-zero");
    }
    if !(a.c2c.is_finite() && a.c2c >= 0.0) {
        bail!("--c2c must be >= 0, got {}", a.c2c);
    }
    let targets = program_targets(&a, nominal.as_ref())?;
    let spreads = a
        .variability
        .iter()
        .map(|s| parse_spread(s))
        .collect::<Result<Vec<_>>>()?;
    let increase = staircase("--v-set", a.v_set, a.step, a.v_max)?;
    let decrease = staircase("--v-reset", a.v_reset, a.step, a.v_max)?;
    let tol = Tolerances::default();
    check_direction(nominal.as_ref(), "--v-set", &increase, 1.0, &a, &tol)?;
    check_direction(nominal.as_ref(), "--v-reset", &decrease, -1.0, &a, &tol)?;
    let population = Population {
        words,
        params,
        spreads,
    };
    // Draw one device up front so a bad spread is reported once, by name,
    // rather than from inside the parallel runs.
    population
        .device(a.seed, 0)
        .context("--variability does not fit the model")?;
    let wv = WriteVerify {
        target: targets[0],
        tolerance: a.tolerance,
        max_pulses: a.max_pulses,
        increase,
        decrease,
        width: a.width,
        v_read: a.read_voltage,
    };
    let runs = population
        .write_verify_targets(&targets, a.devices, a.seed, &wv, a.c2c, a.x0, &tol)
        .with_context(|| format!("programming {}", a.model.display()))?;
    let summaries: Vec<TargetSummary> = targets
        .iter()
        .zip(runs.chunks(a.devices))
        .map(|(&t, chunk)| TargetSummary::new(t, chunk))
        .collect();
    fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    write_csv(&a.out, "devices.csv", |w| {
        w.write_record([
            "device",
            "target_S",
            "conductance_S",
            "rel_error",
            "pulses",
            "converged",
            "state",
        ])?;
        for (k, r) in runs.iter().enumerate() {
            let t = targets[k / a.devices];
            w.serialize((
                k % a.devices,
                t,
                r.conductance,
                (r.conductance - t) / t,
                r.pulses,
                r.converged,
                r.state,
            ))?;
        }
        Ok(())
    })?;
    write_csv(&a.out, "summary.csv", |w| {
        w.write_record([
            "target_S",
            "devices",
            "converged",
            "failure_rate",
            "mean_S",
            "std_S",
            "mean_pulses",
            "std_pulses",
            "max_pulses",
        ])?;
        for s in &summaries {
            w.serialize((
                s.target,
                s.devices,
                s.converged,
                s.failure_rate,
                s.mean_conductance,
                s.std_conductance,
                s.mean_pulses,
                s.std_pulses,
                s.max_pulses,
            ))?;
        }
        Ok(())
    })
}

/// The targets of --targets, or --levels between --g-min and --g-max.
fn program_targets(a: &ProgramArgs, nominal: &dyn CompactModel) -> Result<Vec<f64>> {
    let targets = match (&a.targets, a.levels) {
        (Some(t), None) => t.clone(),
        (None, Some(k)) => {
            if k < 2 {
                bail!("--levels must be at least 2, got {k}");
            }
            let (lo, hi) = nominal.state_bounds();
            let g_lo = nominal.read_conductance(a.read_voltage, lo);
            let g_hi = nominal.read_conductance(a.read_voltage, hi);
            let g_min = a.g_min.unwrap_or(g_lo.min(g_hi));
            let g_max = a.g_max.unwrap_or(g_lo.max(g_hi));
            if !(g_min.is_finite() && g_max.is_finite() && g_min > 0.0 && g_max > g_min) {
                bail!(
                    "--g-min {g_min} S and --g-max {g_max} S must satisfy 0 < g-min < g-max \
                     (unless given, they are the read conductances at the model's state bounds)"
                );
            }
            levels(g_min, g_max, k)
        }
        _ => bail!("give the targets: --targets G1,G2,... or --levels K"),
    };
    if targets.is_empty() {
        bail!("--targets is empty");
    }
    if let Some(t) = targets.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
        bail!("--targets holds {t}; conductances must be positive, in S");
    }
    Ok(targets)
}

/// `NAME=SIGMA` (normal) or `NAME=SIGMA:log` (lognormal).
fn parse_spread(text: &str) -> Result<ParamSpread> {
    let bad = || anyhow::anyhow!("--variability `{text}`: expected NAME=SIGMA or NAME=SIGMA:log");
    let (name, rest) = text.split_once('=').ok_or_else(bad)?;
    let (sigma, lognormal) = match rest.split_once(':') {
        Some((s, "log")) => (s, true),
        Some(_) => return Err(bad()),
        None => (rest, false),
    };
    let sigma: f64 = sigma.trim().parse().map_err(|_| bad())?;
    if !(sigma.is_finite() && sigma >= 0.0) {
        bail!("--variability `{text}`: sigma must be >= 0");
    }
    Ok(ParamSpread {
        name: name.trim().to_ascii_lowercase(),
        sigma,
        lognormal,
    })
}

/// The amplitude staircase starting at `start`, growing in magnitude by
/// `step` up to `v_max`.
fn staircase(flag: &str, start: f64, step: f64, v_max: Option<f64>) -> Result<Ramp> {
    if !(start.is_finite() && start != 0.0) {
        bail!("{flag} must be finite and non-zero, got {start} V");
    }
    if !(step.is_finite() && step >= 0.0) {
        bail!("--step must be >= 0, got {step} V");
    }
    let sign = start.signum();
    let stop = match v_max {
        Some(v) if v.is_finite() && v >= start.abs() => sign * v,
        Some(v) => bail!("--v-max {v} V is below the {flag} amplitude {start} V"),
        None if step > 0.0 => bail!("--step needs --v-max, the staircase's ceiling"),
        None => start,
    };
    Ok(Ramp {
        start,
        step: sign * step,
        stop,
    })
}

/// Refuses a pulse polarity that moves the conductance the wrong way (or
/// not at all): one pulse at the staircase's top amplitude on the nominal
/// device half way between its state bounds.
fn check_direction(
    model: &dyn CompactModel,
    flag: &str,
    ramp: &Ramp,
    wanted: f64,
    a: &ProgramArgs,
    tol: &Tolerances,
) -> Result<()> {
    let (lo, hi) = model.state_bounds();
    let top = ramp.amplitude(a.max_pulses - 1);
    let curve = pulse_train(model, 0.5 * (lo + hi), top, a.width, 1, a.read_voltage, tol)
        .with_context(|| format!("probing {flag} at {top} V"))?;
    let change = curve[1].conductance - curve[0].conductance;
    if change == 0.0 {
        bail!(
            "{flag}: a {top} V, {} s pulse does not change the conductance of {} (below its switching threshold?)",
            a.width,
            a.model.display()
        );
    }
    if change * wanted < 0.0 {
        let verb = if wanted > 0.0 { "lowers" } else { "raises" };
        bail!(
            "{flag}: a {top} V pulse {verb} the conductance of {}; flip its sign",
            a.model.display()
        );
    }
    Ok(())
}

fn drift(a: DriftArgs) -> Result<()> {
    let preset = load_drift_preset(&a.model)?;
    check_devices(a.devices)?;
    if let Some(t) = a.times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
        bail!("--times holds {t}; times must be finite and >= 0");
    }
    let targets: Vec<f64> = (0..a.devices)
        .map(|k| preset.targets[k % preset.targets.len()])
        .collect();
    // Device k is row-major element k in either layout, so it keeps its
    // random streams; only the grouping of the compensation scales changes.
    let (rows, cols, compensation) = match a.compensation {
        CompensationArg::None => (a.devices, 1, Compensation::None),
        CompensationArg::Layer => (a.devices, 1, Compensation::Layer),
        CompensationArg::Column => {
            let t = preset.targets.len();
            if a.devices % t != 0 {
                bail!(
                    "--compensation column needs --devices to be a multiple of the {t} targets of {}, got {}",
                    a.model.display(),
                    a.devices
                );
            }
            (a.devices / t, t, Compensation::Column)
        }
    };
    let mut summary = Vec::new();
    let mut samples = Vec::new();
    for &t in &a.times {
        let cfg = NonIdealConfig {
            drift: Some(preset.drift.clone()),
            drift_time_s: Some(t),
            compensation: Some(compensation),
            ..Default::default()
        };
        let out = cfg.apply(&targets, rows, cols, a.seed)?;
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

//! The study configuration file (TOML) and its validated, expanded form.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::StudyError;
use crate::model::ModelId;
use crate::value::{self, ParameterSpec, Value, ValueKind};

/// At most this many swept parameters: one gives a curve, two give a grid
/// (one curve per value of the second).
pub const MAX_SWEEPS: usize = 2;

/// At most this many sweep points in a study (the grid of two sweeps
/// counted whole): each is a row of the summary and a mark on the plot, and
/// the committed studies use at most 12. The limit keeps a typo
/// (`points = 100000000`) from filling memory before anything runs.
pub const MAX_POINTS: usize = 1_000;

/// At most this many trials in a study (points x trials): one row of
/// `trials.csv` each, and more than a core runs in weeks.
pub const MAX_TRIALS: usize = 1_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    mapping: String,
    images: usize,
    trials: usize,
    seed: u64,
    model: Option<PathBuf>,
    nonideal_file: Option<PathBuf>,
    nonideal: Option<toml::Table>,
    sweep: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    parameter: String,
    values: Option<Vec<toml::Value>>,
    start: Option<f64>,
    stop: Option<f64>,
    points: Option<usize>,
    spacing: Option<Spacing>,
    axis: Option<Spacing>,
}

/// How generated sweep points are spaced, and how the plot's x axis is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Spacing {
    Linear,
    Log,
}

/// The values of one swept parameter as written in the config, before they
/// are checked against what the evaluator understands.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepValues {
    List(Vec<toml::Value>),
    Range {
        start: f64,
        stop: f64,
        points: usize,
        spacing: Spacing,
    },
}

/// One `[[sweep]]` entry of the config.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepDef {
    pub parameter: String,
    pub values: SweepValues,
    /// Plot x-axis scale; defaults to the spacing of a range, linear for a list.
    pub axis: Spacing,
}

/// A parsed study configuration file. Structure is checked here; whether the
/// parameters exist is checked by [`Study::new`] against an evaluator.
#[derive(Clone, Debug)]
pub struct StudyConfig {
    /// File the config came from (for error messages).
    pub source: PathBuf,
    /// Which evaluator runs the trials (`ideal`, `shared`, `dense`, `synthetic`).
    pub mapping: String,
    /// Test images per trial.
    pub images: usize,
    /// Trials per sweep point.
    pub trials: usize,
    pub seed: u64,
    /// `model`: the model file of the network mappings, resolved against the
    /// config's folder; `None` leaves the choice to the caller (the CLI's
    /// `--model`, else [`crate::locate_model`]).
    pub model: Option<PathBuf>,
    /// Base non-ideality table: `nonideal_file` with the inline `[nonideal]`
    /// table laid over it.
    pub nonideal: toml::Table,
    pub sweeps: Vec<SweepDef>,
}

impl StudyConfig {
    /// Reads and parses a config file; `model` and `nonideal_file` are
    /// relative to it.
    pub fn from_path(path: &Path) -> Result<StudyConfig, StudyError> {
        let text = std::fs::read_to_string(path).map_err(|e| StudyError::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        StudyConfig::parse(&text, path, base)
    }

    /// Parses config text; `source` names it in errors, `base_dir` resolves
    /// a relative `model` or `nonideal_file`.
    pub fn parse(text: &str, source: &Path, base_dir: &Path) -> Result<StudyConfig, StudyError> {
        let err = |message: String| StudyError::Config {
            path: source.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.images == 0 {
            return Err(err("`images` must be at least 1".into()));
        }
        if raw.trials == 0 {
            return Err(err("`trials` must be at least 1".into()));
        }
        if raw.mapping.trim().is_empty() {
            return Err(err("`mapping` is empty".into()));
        }
        let mut nonideal = toml::Table::new();
        if let Some(file) = &raw.nonideal_file {
            let full = base_dir.join(file);
            let text = std::fs::read_to_string(&full).map_err(|e| StudyError::io(&full, e))?;
            nonideal = toml::from_str(&text).map_err(|e| StudyError::Config {
                path: full.clone(),
                message: e.to_string(),
            })?;
        }
        if let Some(inline) = &raw.nonideal {
            value::overlay(&mut nonideal, inline);
        }
        let raw_sweeps: Vec<toml::Value> = match raw.sweep {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(table @ toml::Value::Table(_)) => vec![table],
            Some(other) => {
                return Err(err(format!(
                    "`sweep` must be a table or an array of tables ([[sweep]]), found {}",
                    other.type_str()
                )))
            }
        };
        if raw_sweeps.len() > MAX_SWEEPS {
            return Err(err(format!(
                "{} sweeps given; at most {MAX_SWEEPS} parameters can be swept (a grid)",
                raw_sweeps.len()
            )));
        }
        let mut sweeps = Vec::with_capacity(raw_sweeps.len());
        for (i, raw) in raw_sweeps.into_iter().enumerate() {
            let at = |m: String| err(format!("sweep {}: {m}", i + 1));
            let raw: RawSweep = raw
                .try_into()
                .map_err(|e: toml::de::Error| at(e.to_string()))?;
            let at = |m: String| err(format!("sweep {} (`{}`): {m}", i + 1, raw.parameter));
            value::split_dotted(&raw.parameter).map_err(at)?;
            let range = (raw.start, raw.stop, raw.points);
            let values = match (raw.values, range) {
                (Some(list), (None, None, None)) => {
                    if raw.spacing.is_some() {
                        return Err(at("`spacing` applies to start/stop/points; \
                                       use `axis` to choose the plot scale of a list"
                            .into()));
                    }
                    if list.is_empty() {
                        return Err(at("`values` is empty".into()));
                    }
                    SweepValues::List(list)
                }
                (None, (Some(start), Some(stop), Some(points))) => SweepValues::Range {
                    start,
                    stop,
                    points,
                    spacing: raw.spacing.unwrap_or(Spacing::Linear),
                },
                (Some(_), _) => {
                    return Err(at(
                        "give either `values` or `start`/`stop`/`points`, not both".into(),
                    ))
                }
                (None, _) => {
                    return Err(at(
                        "give `values = [...]` or all of `start`, `stop` and `points`".into(),
                    ))
                }
            };
            let axis = raw.axis.unwrap_or(match values {
                SweepValues::Range { spacing, .. } => spacing,
                SweepValues::List(_) => Spacing::Linear,
            });
            sweeps.push(SweepDef {
                parameter: raw.parameter,
                values,
                axis,
            });
        }
        if sweeps.len() == 2 && sweeps[0].parameter == sweeps[1].parameter {
            return Err(err(format!("`{}` is swept twice", sweeps[0].parameter)));
        }
        let mut points = 1usize;
        for (i, sweep) in sweeps.iter().enumerate() {
            let n = match &sweep.values {
                SweepValues::List(list) => list.len(),
                SweepValues::Range { points, .. } => *points,
            };
            points = match points.checked_mul(n).filter(|&p| p <= MAX_POINTS) {
                Some(p) => p,
                None if i == 0 => {
                    return Err(err(format!(
                        "sweep 1 (`{}`): {n} points exceeds the limit of {MAX_POINTS} \
                         sweep points per study (split it into several studies)",
                        sweep.parameter
                    )))
                }
                None => {
                    return Err(err(format!(
                        "the grid of {points} x {n} points exceeds the limit of {MAX_POINTS} \
                         sweep points per study (split it into several studies)"
                    )))
                }
            };
        }
        if points
            .checked_mul(raw.trials)
            .is_none_or(|t| t > MAX_TRIALS)
        {
            return Err(err(format!(
                "{points} points x {} trials exceeds the limit of {MAX_TRIALS} trials \
                 per study (split it into several studies)",
                raw.trials
            )));
        }
        Ok(StudyConfig {
            source: source.to_path_buf(),
            mapping: raw.mapping,
            images: raw.images,
            trials: raw.trials,
            seed: raw.seed,
            model: raw.model.map(|m| base_dir.join(m)),
            nonideal,
            sweeps,
        })
    }
}

/// Expands `start`/`stop`/`points`; the end points are exact and the others
/// are rounded to 12 significant digits, so 0 to 0.14 in 8 points gives
/// 0.06 rather than 0.060000000000000005 (the value a user would type).
pub fn expand_range(
    start: f64,
    stop: f64,
    points: usize,
    spacing: Spacing,
) -> Result<Vec<f64>, String> {
    if !start.is_finite() || !stop.is_finite() {
        return Err("`start` and `stop` must be finite".into());
    }
    if points == 0 {
        return Err("`points` must be at least 1".into());
    }
    if points > MAX_POINTS {
        return Err(format!(
            "`points` = {points} exceeds the limit of {MAX_POINTS} sweep points"
        ));
    }
    if points == 1 {
        if start != stop {
            return Err("one point needs start = stop".into());
        }
        return Ok(vec![start]);
    }
    if start == stop {
        return Err(format!(
            "start = stop = {start} cannot give {points} distinct points"
        ));
    }
    let last = (points - 1) as f64;
    let values = match spacing {
        Spacing::Linear => (0..points)
            .map(|i| start + (stop - start) * (i as f64 / last))
            .collect::<Vec<_>>(),
        Spacing::Log => {
            if start <= 0.0 || stop <= 0.0 {
                return Err(format!(
                    "log spacing needs start > 0 and stop > 0 (got start = {start}, stop = {stop}); \
                     list the values instead to include zero"
                ));
            }
            let (a, b) = (start.log10(), stop.log10());
            (0..points)
                .map(|i| 10f64.powf(a + (b - a) * (i as f64 / last)))
                .collect()
        }
    };
    let mut values: Vec<f64> = values
        .into_iter()
        .map(|x| value::round_significant(x, 12))
        .collect();
    values[0] = start;
    values[points - 1] = stop;
    Ok(values)
}

/// One swept parameter after validation: typed values and what the plot needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub kind: ValueKind,
    pub unit: String,
    pub description: String,
    pub values: Vec<Value>,
    /// Plot the x axis logarithmically.
    pub log: bool,
}

impl Axis {
    /// `key [unit]`, the axis label of plots.
    pub fn label(&self) -> String {
        if self.unit.is_empty() {
            self.key.clone()
        } else {
            format!("{} [{}]", self.key, self.unit)
        }
    }
}

/// A validated study: every parameter known to the evaluator, every value
/// typed, the grid of points fixed. Points are numbered row-major over the
/// sweeps (the last sweep varies fastest).
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    pub mapping: String,
    pub images: usize,
    pub trials: usize,
    pub seed: u64,
    pub nonideal: toml::Table,
    pub axes: Vec<Axis>,
    model: Option<ModelId>,
    hash: String,
}

impl Study {
    /// Checks `config` against the parameters an evaluator understands.
    pub fn new(config: &StudyConfig, parameters: &[ParameterSpec]) -> Result<Study, StudyError> {
        let err = |message: String| StudyError::Config {
            path: config.source.clone(),
            message,
        };
        let known = |key: &str| -> Result<ParameterSpec, String> {
            parameters
                .iter()
                .find(|p| p.key == key)
                .copied()
                .ok_or_else(|| {
                    let list: Vec<&str> = parameters.iter().map(|p| p.key).collect();
                    format!(
                        "unknown parameter `{key}` for mapping `{}`; known: {}",
                        config.mapping,
                        list.join(", ")
                    )
                })
        };
        // Normalise the base table so evaluators see each parameter in its
        // declared type (an integer written for a float becomes a float).
        let mut nonideal = toml::Table::new();
        for (key, raw) in value::leaves(&config.nonideal) {
            let spec = known(&key).map_err(|m| err(format!("nonideal: {m}")))?;
            let typed = Value::from_toml(raw, spec.kind)
                .map_err(|m| err(format!("nonideal: `{key}`: {m}")))?;
            value::set_dotted(&mut nonideal, &key, typed.to_toml())
                .map_err(|m| err(format!("nonideal: {m}")))?;
        }
        let mut axes = Vec::with_capacity(config.sweeps.len());
        for (i, sweep) in config.sweeps.iter().enumerate() {
            let at = |m: String| err(format!("sweep {} (`{}`): {m}", i + 1, sweep.parameter));
            let spec = known(&sweep.parameter).map_err(at)?;
            let values: Vec<Value> = match &sweep.values {
                SweepValues::List(list) => list
                    .iter()
                    .map(|v| Value::from_toml(v, spec.kind))
                    .collect::<Result<_, _>>()
                    .map_err(at)?,
                SweepValues::Range {
                    start,
                    stop,
                    points,
                    spacing,
                } => {
                    let xs = expand_range(*start, *stop, *points, *spacing).map_err(at)?;
                    match spec.kind {
                        ValueKind::Float => xs.into_iter().map(Value::Float).collect(),
                        ValueKind::Integer => {
                            let mut ints = Vec::with_capacity(xs.len());
                            for x in xs {
                                let r = x.round();
                                if (x - r).abs() > 1e-9 * x.abs().max(1.0) {
                                    return Err(at(format!(
                                        "is an integer but the range gives {x}; \
                                         list the values instead"
                                    )));
                                }
                                ints.push(Value::Integer(r as i64));
                            }
                            ints
                        }
                        ValueKind::Bool | ValueKind::Text => {
                            return Err(at(format!(
                                "takes {}; start/stop/points need a number",
                                spec.kind
                            )))
                        }
                    }
                }
            };
            for (j, v) in values.iter().enumerate() {
                if values[..j].contains(v) {
                    return Err(at(format!("value {v} appears twice")));
                }
            }
            let log = sweep.axis == Spacing::Log;
            if log {
                if let Some(bad) = values.iter().find(|v| v.as_f64().is_none_or(|x| x <= 0.0)) {
                    return Err(at(format!(
                        "a log axis needs positive numbers, found {bad}"
                    )));
                }
            }
            axes.push(Axis {
                key: sweep.parameter.clone(),
                kind: spec.kind,
                unit: spec.unit.to_string(),
                description: spec.description.to_string(),
                values,
                log,
            });
        }
        let mut study = Study {
            mapping: config.mapping.clone(),
            images: config.images,
            trials: config.trials,
            seed: config.seed,
            nonideal,
            axes,
            model: None,
            hash: String::new(),
        };
        study.hash = study.compute_hash();
        // Every point's table must be buildable (a swept key may collide with
        // a base value that is a table).
        for p in 0..study.points() {
            study.point_table(p).map_err(err)?;
        }
        Ok(study)
    }

    /// Rebuilds a study from its recorded parts (as stored in `study.toml`).
    pub(crate) fn from_parts(
        mapping: String,
        images: usize,
        trials: usize,
        seed: u64,
        nonideal: toml::Table,
        axes: Vec<Axis>,
        model: Option<ModelId>,
    ) -> Study {
        let mut study = Study {
            mapping,
            images,
            trials,
            seed,
            nonideal,
            axes,
            model,
            hash: String::new(),
        };
        study.hash = study.compute_hash();
        study
    }

    /// The study run on `model` (the network's weights are as much a part of
    /// the results as the non-idealities): the model's content hash enters
    /// [`Study::hash`], and a run checks that its evaluator runs this model.
    pub fn with_model(mut self, model: Option<ModelId>) -> Study {
        self.model = model;
        self.hash = self.compute_hash();
        self
    }

    /// The model the trials run, if the mapping has one.
    pub fn model(&self) -> Option<&ModelId> {
        self.model.as_ref()
    }

    /// SHA-256 (hex) of everything that determines the trials' results:
    /// mapping, images, trials, seed, the base table, the swept keys and
    /// values, and the model's content hash (not its path). Plot settings
    /// and units are not part of it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    fn compute_hash(&self) -> String {
        let mut text = String::from("xbar-study v1\n");
        text.push_str(&format!(
            "mapping={:?}\nimages={}\ntrials={}\nseed={}\nnonideal=",
            self.mapping, self.images, self.trials, self.seed
        ));
        value::canonical(&toml::Value::Table(self.nonideal.clone()), &mut text);
        for axis in &self.axes {
            text.push_str(&format!("\nsweep {:?}=", axis.key));
            let list = toml::Value::Array(axis.values.iter().map(Value::to_toml).collect());
            value::canonical(&list, &mut text);
        }
        // Appended only when present, so studies without a model keep the
        // hashes they had before models were recorded.
        if let Some(model) = &self.model {
            text.push_str(&format!("\nmodel_sha256={}", model.sha256));
        }
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Number of sweep points (1 when nothing is swept).
    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Total number of trials over all points.
    pub fn total_trials(&self) -> usize {
        self.points() * self.trials
    }

    /// Index of each axis's value at `point` (row-major, last axis fastest).
    pub fn coordinates(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut coords = vec![0; self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            coords[i] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        coords
    }

    /// The swept values at `point`, one per axis.
    pub fn point_values(&self, point: usize) -> Vec<&Value> {
        self.coordinates(point)
            .into_iter()
            .zip(&self.axes)
            .map(|(i, axis)| &axis.values[i])
            .collect()
    }

    /// `key = value, ...` for messages.
    pub fn describe_point(&self, point: usize) -> String {
        if self.axes.is_empty() {
            return "no sweep".into();
        }
        self.axes
            .iter()
            .zip(self.point_values(point))
            .map(|(a, v)| format!("{} = {v}", a.key))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The non-ideality table of `point`: the base table with the swept values set.
    pub fn point_table(&self, point: usize) -> Result<toml::Table, String> {
        let mut table = self.nonideal.clone();
        for (axis, v) in self.axes.iter().zip(self.point_values(point)) {
            value::set_dotted(&mut table, &axis.key, v.to_toml())?;
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: &[ParameterSpec] = &[
        ParameterSpec {
            key: "device.programming_sigma",
            kind: ValueKind::Float,
            unit: "",
            description: "relative programming error",
        },
        ParameterSpec {
            key: "adc.bits",
            kind: ValueKind::Integer,
            unit: "bit",
            description: "ADC resolution",
        },
        ParameterSpec {
            key: "drift.compensation",
            kind: ValueKind::Bool,
            unit: "",
            description: "drift compensation",
        },
        ParameterSpec {
            key: "drift.time_s",
            kind: ValueKind::Float,
            unit: "s",
            description: "time since programming",
        },
    ];

    fn parse(text: &str) -> Result<Study, StudyError> {
        let config = StudyConfig::parse(text, Path::new("study.toml"), Path::new("."))?;
        Study::new(&config, PARAMS)
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const HEAD: &str = "mapping = \"synthetic\"\nimages = 100\ntrials = 3\nseed = 7\n";

    #[test]
    fn ranges_match_closed_forms() {
        let lin = expand_range(0.0, 0.2, 5, Spacing::Linear).unwrap();
        assert_eq!(lin, [0.0, 0.05, 0.1, 0.15, 0.2]);
        let demo = expand_range(0.0, 0.14, 8, Spacing::Linear).unwrap();
        assert_eq!(demo, [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14]);
        assert_eq!(lin[4], 0.2);
        let log = expand_range(1.0, 31536000.0, 8, Spacing::Log).unwrap();
        assert_eq!((log[0], log[7]), (1.0, 31536000.0));
        let ratio = 31536000f64.powf(1.0 / 7.0);
        for w in log.windows(2) {
            assert!((w[1] / w[0] - ratio).abs() < 1e-10 * ratio);
        }
        let decades = expand_range(1e-3, 1.0, 4, Spacing::Log).unwrap();
        assert_eq!(decades, [1e-3, 1e-2, 1e-1, 1.0]);
        let err = expand_range(0.0, 1.0, 3, Spacing::Log).unwrap_err();
        assert!(err.contains("log spacing needs start > 0"), "{err}");
        assert!(expand_range(1.0, 1.0, 3, Spacing::Linear).is_err());
        assert!(expand_range(1.0, 2.0, 0, Spacing::Linear).is_err());
    }

    #[test]
    fn grid_numbering_and_tables() {
        let study = parse(&format!(
            "{HEAD}[nonideal]\ndrift.time_s = 10\n\
             [[sweep]]\nparameter = \"adc.bits\"\nstart = 2\nstop = 8\npoints = 4\n\
             [[sweep]]\nparameter = \"drift.compensation\"\nvalues = [false, true]\n"
        ))
        .unwrap();
        assert_eq!(study.points(), 8);
        assert_eq!(study.total_trials(), 24);
        assert_eq!(
            study.axes[0].values,
            [2, 4, 6, 8].map(Value::Integer).to_vec()
        );
        assert_eq!(study.coordinates(5), vec![2, 1]);
        assert_eq!(
            study.describe_point(5),
            "adc.bits = 6, drift.compensation = true"
        );
        let table = study.point_table(5).unwrap();
        assert_eq!(
            value::get_dotted(&table, "adc.bits"),
            Some(&toml::Value::Integer(6))
        );
        // The integer written for a float parameter arrives as a float.
        assert_eq!(
            value::get_dotted(&table, "drift.time_s"),
            Some(&toml::Value::Float(10.0))
        );
    }

    #[test]
    fn single_sweep_table_and_hash() {
        let a = parse(&format!(
            "{HEAD}[sweep]\nparameter = \"device.programming_sigma\"\nvalues = [0.0, 0.1]\n"
        ))
        .unwrap();
        assert_eq!(a.points(), 2);
        assert_eq!(a.hash().len(), 64);
        let b = parse(&format!(
            "{HEAD}[sweep]\nparameter = \"device.programming_sigma\"\nvalues = [0.0, 0.1]\naxis = \"linear\"\n"
        ))
        .unwrap();
        assert_eq!(a.hash(), b.hash());
        let c = parse(&format!(
            "{HEAD}[sweep]\nparameter = \"device.programming_sigma\"\nvalues = [0.0, 0.2]\n"
        ))
        .unwrap();
        assert_ne!(a.hash(), c.hash());
        let none = parse(HEAD).unwrap();
        assert_eq!(none.points(), 1);
    }

    #[test]
    fn clear_errors() {
        let m = message(&format!("{HEAD}trails = 3\n"));
        assert!(m.contains("unknown field `trails`"), "{m}");
        let m = message(&format!(
            "{HEAD}[nonideal]\ndevice.programing_sigma = 0.1\n"
        ));
        assert!(
            m.contains("unknown parameter `device.programing_sigma`"),
            "{m}"
        );
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"device..sigma\"\nvalues = [1.0]\n"
        ));
        assert!(m.contains("not a dotted key"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"drift.time_s\"\nstart = 0\nstop = 1e7\npoints = 5\nspacing = \"log\"\n"
        ));
        assert!(m.contains("log spacing needs start > 0"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"drift.time_s\"\nvalues = [0.0, 1.0]\naxis = \"log\"\n"
        ));
        assert!(m.contains("log axis needs positive numbers"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"adc.bits\"\nvalues = [4, 4.5]\n"
        ));
        assert!(m.contains("expected an integer"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"adc.bits\"\nstart = 1\nstop = 4\npoints = 3\n"
        ));
        assert!(m.contains("is an integer but the range gives 2.5"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"adc.bits\"\nvalues = [4, 4]\n"
        ));
        assert!(m.contains("value 4 appears twice"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"drift.time_s\"\nvalues = [nan]\n"
        ));
        assert!(m.contains("finite"), "{m}");
        let m = message(&format!(
            "{HEAD}[sweep]\nparameter = \"drift.time_s\"\nvalues = [1.0]\nstart = 1.0\n"
        ));
        assert!(m.contains("not both"), "{m}");
        let three = "[[sweep]]\nparameter = \"adc.bits\"\nvalues = [1]\n".repeat(3);
        let m = message(&format!("{HEAD}{three}"));
        assert!(m.contains("at most 2"), "{m}");
        let m = message(&format!("{HEAD}[nonideal]\nadc = 3\n"));
        assert!(m.contains("unknown parameter `adc`"), "{m}");
        let m = message("mapping = \"synthetic\"\nimages = 0\ntrials = 3\nseed = 1\n");
        assert!(
            m.starts_with("study.toml: `images` must be at least 1"),
            "{m}"
        );
        let m = message("mapping = \"synthetic\"\nimages = 10\ntrials = 3\nseed = -1\n");
        assert!(m.contains("seed"), "{m}");
    }
}

//! Results tables across study folders (`xbar table`): one row per sweep
//! point with its non-ideality, value, accuracy and 95 % interval, next to a
//! baseline accuracy, as Markdown (for READMEs) or CSV (for users).
//!
//! A finished or merged folder is read from `study.toml` and `summary.csv`;
//! an unfinished one (no `summary.csv`) is refused, or, when partial results
//! are asked for, summarised from the rows of `trials.csv` recorded so far.

use std::path::{Path, PathBuf};

use crate::config::Study;
use crate::error::StudyError;
use crate::network::{NETWORK_MAPPINGS, NETWORK_PARAMETERS};
use crate::stats::Stats;
use crate::store::{self, Meta};
use crate::synthetic::{self, SyntheticParams};
use crate::value::{self, format_f64, round_significant, ParameterSpec, Value};

/// One study folder as the table shows it.
#[derive(Clone, Debug)]
pub struct StudyResults {
    /// The folder's name: the study column.
    pub name: String,
    pub dir: PathBuf,
    pub study: Study,
    /// The study's own ideal accuracy, if its evaluator has one.
    pub reference: Option<f64>,
    /// `K/N` for a shard folder.
    pub shard: Option<String>,
    /// Base settings that are not swept and change the results (settings
    /// equal to the mapping's default are left out), in key order.
    pub fixed: Vec<Setting>,
    /// Every sweep point, in point order.
    pub points: Vec<PointResult>,
    /// Trials of the study not recorded in the folder.
    pub missing: usize,
}

/// One fixed base setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    /// The parameter's unit, empty when dimensionless or unknown.
    pub unit: String,
}

/// One sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    pub point: usize,
    /// The swept values, one per axis.
    pub values: Vec<Value>,
    /// `None` when no trial of the point is recorded yet (partial results).
    pub stats: Option<Stats>,
}

/// Reads a study folder. Without `partial`, a folder that lacks trials is
/// an error saying how many; with it, the points are summarised from the
/// trials recorded so far.
pub fn load_results(dir: &Path, partial: bool) -> Result<StudyResults, StudyError> {
    let meta = Meta::read(dir)?;
    let study = meta.study().map_err(|message| StudyError::Directory {
        path: dir.join(store::META_FILE),
        message,
    })?;
    let summary_path = dir.join(store::SUMMARY_FILE);
    let summaries = match read_summary(&summary_path, &study)? {
        Some(found) => found,
        None => {
            let trials_path = dir.join(store::TRIALS_FILE);
            let rows =
                store::read_trials(&trials_path, &study, &meta.metrics, false)?.unwrap_or_default();
            store::summarize_rows(&study, &rows)
                .into_iter()
                .map(|s| (s.point, s.stats))
                .collect()
        }
    };
    let mut points: Vec<PointResult> = (0..study.points())
        .map(|point| PointResult {
            point,
            values: study.point_values(point).into_iter().cloned().collect(),
            stats: None,
        })
        .collect();
    for (point, stats) in summaries {
        points[point].stats = Some(stats);
    }
    let recorded: usize = points
        .iter()
        .map(|p| p.stats.as_ref().map_or(0, |s| s.n))
        .sum();
    let missing = study.total_trials() - recorded;
    if missing > 0 && !partial {
        let hint = match &meta.shard {
            Some(shard) => {
                format!("it is shard {shard}: combine the shards with `xbar merge` first")
            }
            None => "finish it by rerunning `xbar study` with this --out".to_string(),
        };
        return Err(StudyError::Directory {
            path: dir.to_path_buf(),
            message: format!(
                "incomplete study: {missing} of {} trials missing; {hint}, \
                 or pass --partial to tabulate the trials recorded so far",
                study.total_trials()
            ),
        });
    }
    let fixed = fixed_settings(&study);
    Ok(StudyResults {
        name: folder_name(dir),
        dir: dir.to_path_buf(),
        reference: meta.reference_accuracy,
        shard: meta.shard.clone(),
        fixed,
        points,
        missing,
        study,
    })
}

fn folder_name(dir: &Path) -> String {
    // `xbar table .` should name the folder, not ".".
    let resolved = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    resolved
        .file_name()
        .or_else(|| dir.file_name())
        .map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
}

/// Reads `summary.csv` (`None` if the folder has none), checking it against
/// the study: header, point numbers, swept values, counts and accuracies.
fn read_summary(path: &Path, study: &Study) -> Result<Option<Vec<(usize, Stats)>>, StudyError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StudyError::io(path, e)),
    };
    let bad = |line: u64, message: String| StudyError::Trials {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut expected = vec!["point".to_string()];
    expected.extend(study.axes.iter().map(|a| a.key.clone()));
    expected.extend(["n", "mean", "std", "ci95_low", "ci95_high", "min", "max"].map(String::from));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..]);
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?;
    if header.iter().ne(expected.iter().map(String::as_str)) {
        return Err(bad(
            1,
            format!(
                "header `{}` is not the expected `{}`",
                header.iter().collect::<Vec<_>>().join(","),
                expected.join(",")
            ),
        ));
    }
    let n_axes = study.axes.len();
    let mut found: Vec<(usize, Stats)> = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != expected.len() {
            return Err(bad(
                line,
                format!("{} fields, expected {}", record.len(), expected.len()),
            ));
        }
        let parse = || -> Result<(usize, Stats), String> {
            let point: usize = record[0]
                .parse()
                .map_err(|_| format!("point `{}` is not a valid number", &record[0]))?;
            if point >= study.points() {
                return Err(format!(
                    "point {point} is outside the study ({} points)",
                    study.points()
                ));
            }
            if found.iter().any(|(p, _)| *p == point) {
                return Err(format!("second row for point {point}"));
            }
            for (i, v) in study.point_values(point).iter().enumerate() {
                if record[1 + i] != v.to_string() {
                    return Err(format!(
                        "`{}` is {} but point {point} has {v}",
                        study.axes[i].key,
                        &record[1 + i]
                    ));
                }
            }
            let field = |i: usize, what: &str| -> Result<Option<f64>, String> {
                let text = &record[1 + n_axes + i];
                if text.is_empty() {
                    return Ok(None);
                }
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(format!("{what} `{text}` is not a finite number")),
                }
            };
            let accuracy = |i: usize, what: &str| -> Result<f64, String> {
                match field(i, what)? {
                    Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
                    Some(x) => Err(format!("{what} {x} is outside [0, 1]")),
                    None => Err(format!("{what} is empty")),
                }
            };
            let n: usize = record[1 + n_axes]
                .parse()
                .map_err(|_| format!("n `{}` is not a valid count", &record[1 + n_axes]))?;
            if n == 0 || n > study.trials {
                return Err(format!(
                    "n = {n}, but a point has 1 to {} trials",
                    study.trials
                ));
            }
            let (low, high) = (field(3, "ci95_low")?, field(4, "ci95_high")?);
            let ci95 = match (low, high) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                (None, None) => None,
                _ => return Err("ci95_low and ci95_high must both be given or both empty".into()),
            };
            Ok((
                point,
                Stats {
                    n,
                    mean: accuracy(1, "mean")?,
                    std: field(2, "std")?,
                    ci95,
                    min: accuracy(5, "min")?,
                    max: accuracy(6, "max")?,
                },
            ))
        };
        found.push(parse().map_err(|m| bad(line, m))?);
    }
    Ok(Some(found))
}

/// The parameters a mapping understands, for the units of fixed settings.
fn parameters_of(mapping: &str) -> &'static [ParameterSpec] {
    if NETWORK_MAPPINGS.contains(&mapping) {
        NETWORK_PARAMETERS
    } else if mapping == "synthetic" {
        synthetic::PARAMETERS
    } else {
        &[]
    }
}

/// What a non-ideality table means to a mapping, to tell settings that
/// change nothing (equal to the default) from those that do.
#[derive(PartialEq)]
enum Effect {
    Network(
        Box<(
            xbar_snn::nonideal::NeuronSettings,
            xbar_snn::nonideal::HardwareSettings,
        )>,
    ),
    Synthetic(SyntheticParams),
}

fn effect(mapping: &str, table: &toml::Table) -> Option<Effect> {
    if NETWORK_MAPPINGS.contains(&mapping) {
        let s = xbar_snn::nonideal::from_table(table, mapping).ok()?;
        Some(Effect::Network(Box::new((s.neuron, s.hardware))))
    } else if mapping == "synthetic" {
        SyntheticParams::from_table(table)
            .ok()
            .map(Effect::Synthetic)
    } else {
        None
    }
}

/// The base settings worth showing: not swept, and not at the default (a
/// setting is at its default when the table means the same without it; for
/// a mapping this crate does not know, every setting is shown).
fn fixed_settings(study: &Study) -> Vec<Setting> {
    let whole = effect(&study.mapping, &study.nonideal);
    let specs = parameters_of(&study.mapping);
    value::leaves(&study.nonideal)
        .into_iter()
        .filter(|(key, _)| !study.axes.iter().any(|a| &a.key == key))
        .filter(|(key, _)| {
            let mut without = study.nonideal.clone();
            value::remove_dotted(&mut without, key);
            whole.is_none() || effect(&study.mapping, &without) != whole
        })
        .map(|(key, raw)| Setting {
            value: value::from_scalar(raw).unwrap_or_else(|| Value::Text(raw.to_string())),
            unit: specs
                .iter()
                .find(|s| s.key == key)
                .map_or_else(String::new, |s| s.unit.to_string()),
            key,
        })
        .collect()
}

/// A number in at most 4 significant digits, plain in the usual range.
fn short_number(x: f64) -> String {
    let r = round_significant(x, 4);
    let a = r.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

/// A duration of a minute or more in the largest fitting unit (year = 365 d).
fn human_duration(seconds: f64) -> Option<String> {
    const UNITS: [(f64, &str); 4] = [
        (31_536_000.0, "y"),
        (86_400.0, "d"),
        (3_600.0, "h"),
        (60.0, "min"),
    ];
    let (size, name) = UNITS.iter().find(|(size, _)| seconds >= *size)?;
    Some(format!(
        "{} {name}",
        format_f64(round_significant(seconds / size, 3))
    ))
}

/// A value with its unit, for people: relative quantities in %, times
/// beyond a minute also in min/h/d/y, floats in 4 significant digits.
pub fn display_value(value: &Value, unit: &str) -> String {
    let Value::Float(x) = value else {
        return if unit.is_empty() || matches!(value, Value::Bool(_) | Value::Text(_)) {
            value.to_string()
        } else {
            format!("{value} {unit}")
        };
    };
    match unit {
        "" => short_number(*x),
        "relative" => format!("{} %", short_number(x * 100.0)),
        "s" => match human_duration(*x) {
            Some(h) => format!("{} s ({h})", short_number(*x)),
            None => format!("{} s", short_number(*x)),
        },
        unit => format!("{} {unit}", short_number(*x)),
    }
}

/// An accuracy fraction as a percentage with two decimals.
fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

fn escape_markdown(cell: &str) -> String {
    cell.replace('|', "\\|")
}

fn non_ideality(results: &StudyResults) -> String {
    let swept: Vec<String> = results
        .study
        .axes
        .iter()
        .map(|a| format!("`{}`", a.key))
        .collect();
    let fixed: Vec<String> = results
        .fixed
        .iter()
        .map(|s| format!("{} = {}", s.key, display_value(&s.value, &s.unit)))
        .collect();
    match (swept.is_empty(), fixed.is_empty()) {
        (true, true) => "none".into(),
        (true, false) => format!("fixed: {}", fixed.join(", ")),
        (false, true) => swept.join(" × "),
        (false, false) => format!("{} (fixed: {})", swept.join(" × "), fixed.join(", ")),
    }
}

/// The baseline as a percentage for headers: 0.964 → "96.4".
fn baseline_label(baseline: f64) -> String {
    format_f64(round_significant(100.0 * baseline, 10))
}

/// A Markdown table: one row per sweep point of every study, accuracies
/// in % with two decimals, the difference from `baseline` (a fraction) in
/// percentage points.
pub fn render_markdown(studies: &[StudyResults], baseline: f64) -> String {
    let mut text = format!(
        "| study | mapping | non-ideality | value | accuracy % (95 % CI) | trials × images | vs {} % (pp) |\n\
         | --- | --- | --- | --- | ---: | ---: | ---: |\n",
        baseline_label(baseline)
    );
    for results in studies {
        let what = non_ideality(results);
        let study = &results.study;
        for p in &results.points {
            let value = if p.values.is_empty() {
                "—".to_string()
            } else {
                p.values
                    .iter()
                    .zip(&study.axes)
                    .map(|(v, a)| display_value(v, &a.unit))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (accuracy, n, delta) = match &p.stats {
                Some(s) => (
                    match s.ci95 {
                        Some((lo, hi)) => format!("{} ({} – {})", pct(s.mean), pct(lo), pct(hi)),
                        None => pct(s.mean),
                    },
                    s.n,
                    format!("{:+.2}", 100.0 * (s.mean - baseline)),
                ),
                None => ("—".into(), 0, "—".into()),
            };
            let trials = if n == study.trials {
                format!("{n} × {}", study.images)
            } else {
                format!("{n} of {} × {}", study.trials, study.images)
            };
            let cells = [
                results.name.as_str(),
                study.mapping.as_str(),
                what.as_str(),
                value.as_str(),
                accuracy.as_str(),
                trials.as_str(),
                delta.as_str(),
            ];
            let cells: Vec<String> = cells.iter().map(|c| escape_markdown(c)).collect();
            text.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    text
}

/// Column names of [`render_csv`].
pub const CSV_COLUMNS: [&str; 19] = [
    "study",
    "mapping",
    "parameter_1",
    "value_1",
    "unit_1",
    "parameter_2",
    "value_2",
    "unit_2",
    "fixed",
    "n",
    "trials",
    "images",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "ideal",
    "baseline",
    "delta",
];

/// A CSV table: the same rows as [`render_markdown`] with exact values.
/// Accuracies are fractions written exactly as in `summary.csv`; `n` is the
/// trials recorded at the point and `trials` those the study asks for;
/// `fixed` lists the fixed base settings as `key=value` separated by `;`;
/// `delta` is `mean − baseline`; empty fields are absent values.
pub fn render_csv(studies: &[StudyResults], baseline: f64) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut records: Vec<Vec<String>> = vec![CSV_COLUMNS.iter().map(|c| c.to_string()).collect()];
    for results in studies {
        let study = &results.study;
        let fixed = results
            .fixed
            .iter()
            .map(|s| format!("{}={}", s.key, s.value))
            .collect::<Vec<_>>()
            .join(";");
        for p in &results.points {
            let mut f = vec![results.name.clone(), study.mapping.clone()];
            for slot in 0..crate::config::MAX_SWEEPS {
                match (study.axes.get(slot), p.values.get(slot)) {
                    (Some(axis), Some(v)) => {
                        f.extend([axis.key.clone(), v.to_string(), axis.unit.clone()])
                    }
                    _ => f.extend([String::new(), String::new(), String::new()]),
                }
            }
            f.push(fixed.clone());
            let opt = |x: Option<f64>| x.map(format_f64).unwrap_or_default();
            let s = p.stats.as_ref();
            f.push(s.map_or(0, |s| s.n).to_string());
            f.push(study.trials.to_string());
            f.push(study.images.to_string());
            f.push(opt(s.map(|s| s.mean)));
            f.push(opt(s.and_then(|s| s.std)));
            f.push(opt(s.and_then(|s| s.ci95).map(|c| c.0)));
            f.push(opt(s.and_then(|s| s.ci95).map(|c| c.1)));
            f.push(opt(results.reference));
            f.push(format_f64(baseline));
            f.push(opt(s.map(|s| s.mean - baseline)));
            records.push(f);
        }
    }
    for r in &records {
        // Writing to memory cannot fail.
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_a_device_engineer_writes_them() {
        let f = |x: f64, unit: &str| display_value(&Value::Float(x), unit);
        assert_eq!(f(0.05, "relative"), "5 %");
        assert_eq!(f(0.07, "relative"), "7 %");
        assert_eq!(f(1e-3, "relative"), "0.1 %");
        assert_eq!(f(2.5, "Ω"), "2.5 Ω");
        assert_eq!(f(0.0, "Ω"), "0 Ω");
        assert_eq!(f(1.0, "s"), "1 s");
        assert_eq!(f(86400.0, "s"), "86400 s (1 d)");
        assert_eq!(f(3.1536e7, "s"), "3.154e7 s (1 y)");
        assert_eq!(f(7200.0, "s"), "7200 s (2 h)");
        assert_eq!(f(1e-4, ""), "1e-4");
        assert_eq!(f(1.0 / 3.0, ""), "0.3333");
        assert_eq!(f(123456.0, "A"), "1.235e5 A");
        assert_eq!(display_value(&Value::Integer(6), "bit"), "6 bit");
        assert_eq!(display_value(&Value::Integer(128), ""), "128");
        assert_eq!(display_value(&Value::Text("column".into()), ""), "column");
        assert_eq!(display_value(&Value::Bool(true), ""), "true");
        assert_eq!(baseline_label(0.964), "96.4");
        assert_eq!(baseline_label(0.98905), "98.905");
    }

    fn study(mapping: &str, nonideal: &str, sweep: &str) -> Study {
        let text = format!(
            "mapping = \"{mapping}\"\nimages = 10\ntrials = 2\nseed = 1\n[nonideal]\n{nonideal}\n{sweep}"
        );
        let config =
            crate::config::StudyConfig::parse(&text, Path::new("t.toml"), Path::new(".")).unwrap();
        Study::new(&config, parameters_of(mapping)).unwrap()
    }

    #[test]
    fn fixed_settings_leave_out_swept_keys_and_defaults() {
        let s = study(
            "dense",
            "crossbar.r_wire = 0.0\nadc.bits = 0\ndrift.model = \"rram\"\n\
             device.programming_sigma = 0.05\ninput.timesteps = 16",
            "[sweep]\nparameter = \"device.programming_sigma\"\nvalues = [0.0, 0.1]",
        );
        let fixed: Vec<String> = fixed_settings(&s)
            .iter()
            .map(|f| format!("{} = {}", f.key, display_value(&f.value, &f.unit)))
            .collect();
        assert_eq!(fixed, ["drift.model = rram", "input.timesteps = 16 steps"]);

        let s = study(
            "synthetic",
            "crossbar.r_wire = 0.5\ndrift.compensation = false\nsynthetic.ideal_accuracy = 0.964",
            "",
        );
        let fixed: Vec<String> = fixed_settings(&s).into_iter().map(|f| f.key).collect();
        assert_eq!(fixed, ["crossbar.r_wire"]);
        assert_eq!(
            non_ideality(&StudyResults {
                name: "x".into(),
                dir: PathBuf::from("x"),
                reference: None,
                shard: None,
                fixed: fixed_settings(&s),
                points: Vec::new(),
                missing: 0,
                study: s,
            }),
            "fixed: crossbar.r_wire = 0.5 Ω"
        );
    }
}

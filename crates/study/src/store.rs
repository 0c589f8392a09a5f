//! The files of a study directory: `study.toml`, `trials.csv`, `summary.csv`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Axis, Study};
use crate::error::StudyError;
use crate::model::ModelId;
use crate::seed::trial_seed;
use crate::stats::{summarize, Stats};
use crate::value::{format_f64, Value, ValueKind};

pub const META_FILE: &str = "study.toml";
pub const TRIALS_FILE: &str = "trials.csv";
pub const SUMMARY_FILE: &str = "summary.csv";

const FORMAT: u32 = 1;

/// Columns of `trials.csv` that are not swept values or metrics.
const FIXED_COLUMNS: &[&str] = &[
    "point",
    "trial",
    "seed",
    "accuracy",
    "images",
    "runtime_s",
    "n",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "min",
    "max",
];

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so readers and crashes never see a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StudyError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".xbar-study-").suffix(".tmp");
    // Temporary files are private (0600) by default; results are ordinary
    // files (0666 less the umask), readable by collaborators like any output.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| StudyError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| StudyError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| StudyError::io(path, e.error))?;
    Ok(())
}

/// What `study.toml` records: enough to check a resumed or merged run
/// belongs to the same study and to redraw its summary and plot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Meta {
    pub format: u32,
    pub config_hash: String,
    pub mapping: String,
    pub images: usize,
    pub trials: usize,
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_accuracy: Option<f64>,
    pub metrics: Vec<String>,
    /// Absent for evaluators without a model (and in folders written before
    /// models were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelMeta>,
    pub nonideal: toml::Table,
    pub axes: Vec<AxisMeta>,
}

/// The `[model]` table of `study.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelMeta {
    /// SHA-256 of the model file's bytes: the identity.
    pub sha256: String,
    /// Where the first run read it (for messages only).
    pub path: String,
}

impl ModelMeta {
    fn new(model: &ModelId) -> ModelMeta {
        ModelMeta {
            sha256: model.sha256.clone(),
            path: model.path.to_string_lossy().into_owned(),
        }
    }

    fn id(&self) -> ModelId {
        ModelId {
            sha256: self.sha256.clone(),
            path: PathBuf::from(&self.path),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AxisMeta {
    pub key: String,
    pub kind: String,
    pub unit: String,
    pub description: String,
    pub log: bool,
    pub values: Vec<toml::Value>,
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Float => "float",
        ValueKind::Integer => "integer",
        ValueKind::Bool => "bool",
        ValueKind::Text => "text",
    }
}

impl Meta {
    pub fn new(
        study: &Study,
        metrics: &[String],
        shard: Option<String>,
        reference: Option<f64>,
    ) -> Meta {
        Meta {
            format: FORMAT,
            config_hash: study.hash().to_string(),
            mapping: study.mapping.clone(),
            images: study.images,
            trials: study.trials,
            seed: study.seed,
            shard,
            reference_accuracy: reference,
            metrics: metrics.to_vec(),
            model: study.model().map(ModelMeta::new),
            nonideal: study.nonideal.clone(),
            axes: study
                .axes
                .iter()
                .map(|a| AxisMeta {
                    key: a.key.clone(),
                    kind: kind_name(a.kind).into(),
                    unit: a.unit.clone(),
                    description: a.description.clone(),
                    log: a.log,
                    values: a.values.iter().map(Value::to_toml).collect(),
                })
                .collect(),
        }
    }

    pub fn read(dir: &Path) -> Result<Meta, StudyError> {
        let path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| StudyError::io(&path, e))?;
        let bad = |message: String| StudyError::Directory {
            path: path.clone(),
            message,
        };
        let meta: Meta = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if meta.format != FORMAT {
            return Err(bad(format!(
                "format {} is not the supported format {FORMAT}",
                meta.format
            )));
        }
        let study = meta.study().map_err(&bad)?;
        if study.hash() != meta.config_hash {
            return Err(bad(
                "config_hash does not match the recorded study (file edited by hand?)".into(),
            ));
        }
        Ok(meta)
    }

    /// The recorded model, if any.
    pub fn model(&self) -> Option<ModelId> {
        self.model.as_ref().map(ModelMeta::id)
    }

    pub fn write(&self, dir: &Path) -> Result<(), StudyError> {
        let body = toml::to_string(self).map_err(|e| StudyError::Directory {
            path: dir.join(META_FILE),
            message: e.to_string(),
        })?;
        let text = format!(
            "# Written by `xbar study`: identifies the study whose trials this folder holds.\n\
             # Do not edit; a rerun with another config is refused.\n{}\n",
            body.trim_end()
        );
        write_atomic(&dir.join(META_FILE), text.as_bytes())
    }

    /// The study this metadata describes.
    pub fn study(&self) -> Result<Study, String> {
        let mut axes = Vec::with_capacity(self.axes.len());
        for a in &self.axes {
            let kind = match a.kind.as_str() {
                "float" => ValueKind::Float,
                "integer" => ValueKind::Integer,
                "bool" => ValueKind::Bool,
                "text" => ValueKind::Text,
                other => return Err(format!("axis `{}`: unknown kind `{other}`", a.key)),
            };
            let values = a
                .values
                .iter()
                .map(|v| Value::from_toml(v, kind))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| format!("axis `{}`: {m}", a.key))?;
            if values.is_empty() {
                return Err(format!("axis `{}` has no values", a.key));
            }
            axes.push(Axis {
                key: a.key.clone(),
                kind,
                unit: a.unit.clone(),
                description: a.description.clone(),
                values,
                log: a.log,
            });
        }
        if self.images == 0 || self.trials == 0 {
            return Err("images and trials must be at least 1".into());
        }
        if let Some(m) = &self.model {
            if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "model.sha256 `{}` is not a SHA-256 in hex",
                    m.sha256
                ));
            }
        }
        Ok(Study::from_parts(
            self.mapping.clone(),
            self.images,
            self.trials,
            self.seed,
            self.nonideal.clone(),
            axes,
            self.model(),
        ))
    }
}

/// Checks that metric names are usable CSV columns.
pub(crate) fn check_metric_names(study: &Study, metrics: &[String]) -> Result<(), String> {
    for (i, m) in metrics.iter().enumerate() {
        if m.is_empty()
            || FIXED_COLUMNS.contains(&m.as_str())
            || study.axes.iter().any(|a| &a.key == m)
            || metrics[..i].contains(m)
        {
            return Err(format!(
                "evaluator metric name `{m}` clashes with another column"
            ));
        }
    }
    Ok(())
}

/// Rows of `trials.csv` by (point, trial): canonical order is key order.
pub(crate) type Rows = BTreeMap<(usize, usize), Row>;

/// One row of `trials.csv`; the swept values follow from `point`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub point: usize,
    pub trial: usize,
    pub seed: u64,
    pub accuracy: f64,
    pub images: usize,
    pub metrics: Vec<f64>,
    pub runtime_s: f64,
}

impl Row {
    /// Equal apart from the measured runtime.
    pub fn same_result(&self, other: &Row) -> bool {
        self.point == other.point
            && self.trial == other.trial
            && self.seed == other.seed
            && self.accuracy.to_bits() == other.accuracy.to_bits()
            && self.images == other.images
            && self.metrics.len() == other.metrics.len()
            && self
                .metrics
                .iter()
                .zip(&other.metrics)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

pub(crate) fn trials_header(study: &Study, metrics: &[String]) -> Vec<String> {
    let mut h = vec!["point".to_string(), "trial".to_string()];
    h.extend(study.axes.iter().map(|a| a.key.clone()));
    h.extend(["seed", "accuracy", "images"].map(String::from));
    h.extend(metrics.iter().cloned());
    h.push("runtime_s".into());
    h
}

fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to memory cannot fail; an error would only come from the
    // buffer and leaves an empty line that the reader rejects.
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

pub(crate) fn header_line(study: &Study, metrics: &[String]) -> Vec<u8> {
    csv_line(&trials_header(study, metrics))
}

/// One complete CSV line (with its newline) for `row`.
pub(crate) fn row_line(study: &Study, row: &Row) -> Vec<u8> {
    let mut f = vec![row.point.to_string(), row.trial.to_string()];
    f.extend(study.point_values(row.point).iter().map(|v| v.to_string()));
    f.push(row.seed.to_string());
    f.push(format_f64(row.accuracy));
    f.push(row.images.to_string());
    f.extend(row.metrics.iter().map(|m| format_f64(*m)));
    f.push(format_f64(row.runtime_s));
    csv_line(&f)
}

/// Reads `trials.csv`, checking every row against the study. A trailing
/// line without its newline is a row cut short by a kill: with `repair` it
/// is removed from the file, otherwise ignored. Returns the rows by
/// (point, trial); `None` if the file does not exist.
pub(crate) fn read_trials(
    path: &Path,
    study: &Study,
    metrics: &[String],
    repair: bool,
) -> Result<Option<Rows>, StudyError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StudyError::io(path, e)),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() && repair {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| StudyError::io(path, e))?;
        file.set_len(complete as u64)
            .and_then(|()| file.sync_all())
            .map_err(|e| StudyError::io(path, e))?;
    }
    let mut rows = BTreeMap::new();
    if complete == 0 {
        return Ok(Some(rows));
    }
    let bad = |line: u64, message: String| StudyError::Trials {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..complete]);
    let expected = trials_header(study, metrics);
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
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != expected.len() {
            return Err(bad(
                line,
                format!("{} fields, expected {}", record.len(), expected.len()),
            ));
        }
        let field = |i: usize| &record[i];
        fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
            s.parse()
                .map_err(|_| format!("{what} `{s}` is not a valid number"))
        }
        let parse = || -> Result<Row, String> {
            let point: usize = num(field(0), "point")?;
            let trial: usize = num(field(1), "trial")?;
            if point >= study.points() || trial >= study.trials {
                return Err(format!(
                    "point {point}, trial {trial} is outside the study ({} points × {} trials)",
                    study.points(),
                    study.trials
                ));
            }
            for (i, v) in study.point_values(point).iter().enumerate() {
                if field(2 + i) != v.to_string() {
                    return Err(format!(
                        "`{}` is {} but point {point} has {v}",
                        study.axes[i].key,
                        field(2 + i)
                    ));
                }
            }
            let seed: u64 = num(field(2 + n_axes), "seed")?;
            if seed != trial_seed(study.seed, point, trial) {
                return Err(format!(
                    "seed {seed} is not the seed of point {point}, trial {trial}"
                ));
            }
            let accuracy: f64 = num(field(3 + n_axes), "accuracy")?;
            if !(0.0..=1.0).contains(&accuracy) {
                return Err(format!("accuracy {accuracy} is outside [0, 1]"));
            }
            let images = num(field(4 + n_axes), "images")?;
            let metrics = (0..metrics.len())
                .map(|i| num(field(5 + n_axes + i), "metric"))
                .collect::<Result<Vec<f64>, _>>()?;
            let runtime_s = num(field(expected.len() - 1), "runtime_s")?;
            Ok(Row {
                point,
                trial,
                seed,
                accuracy,
                images,
                metrics,
                runtime_s,
            })
        };
        let row = parse().map_err(|m| bad(line, m))?;
        let key = (row.point, row.trial);
        if rows.contains_key(&key) {
            return Err(bad(
                line,
                format!("second row for point {}, trial {}", key.0, key.1),
            ));
        }
        rows.insert(key, row);
    }
    Ok(Some(rows))
}

/// Writes `trials.csv` in canonical (point, trial) order, atomically.
pub(crate) fn write_trials(
    path: &Path,
    study: &Study,
    metrics: &[String],
    rows: &Rows,
) -> Result<(), StudyError> {
    let mut bytes = header_line(study, metrics);
    for row in rows.values() {
        bytes.extend(row_line(study, row));
    }
    write_atomic(path, &bytes)
}

/// Statistics of one sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSummary {
    pub point: usize,
    pub values: Vec<Value>,
    pub stats: Stats,
}

/// Per-point statistics over complete rows, in point order (trial order
/// inside a point, so the sums are reproducible).
pub(crate) fn summarize_rows(study: &Study, rows: &Rows) -> Vec<PointSummary> {
    (0..study.points())
        .filter_map(|point| {
            let acc: Vec<f64> = rows
                .range((point, 0)..(point + 1, 0))
                .map(|(_, r)| r.accuracy)
                .collect();
            summarize(&acc).map(|mut stats| {
                // An accuracy cannot leave [0, 1]; the Student-t interval of a
                // point whose trials straddle a collapse would.
                stats.ci95 = stats.ci95.map(|(lo, hi)| (lo.max(0.0), hi.min(1.0)));
                PointSummary {
                    point,
                    values: study.point_values(point).into_iter().cloned().collect(),
                    stats,
                }
            })
        })
        .collect()
}

/// Writes `summary.csv`: per point the swept values, n, mean, std, 95 %
/// interval (Student t, clipped to [0, 1]), min and max (accuracies as
/// fractions; std and interval empty for a single trial).
pub(crate) fn write_summary(
    path: &Path,
    study: &Study,
    summaries: &[PointSummary],
) -> Result<(), StudyError> {
    let mut header = vec!["point".to_string()];
    header.extend(study.axes.iter().map(|a| a.key.clone()));
    header.extend(["n", "mean", "std", "ci95_low", "ci95_high", "min", "max"].map(String::from));
    let mut bytes = csv_line(&header);
    let opt = |x: Option<f64>| x.map(format_f64).unwrap_or_default();
    for s in summaries {
        let mut f = vec![s.point.to_string()];
        f.extend(s.values.iter().map(|v| v.to_string()));
        f.push(s.stats.n.to_string());
        f.push(format_f64(s.stats.mean));
        f.push(opt(s.stats.std));
        f.push(opt(s.stats.ci95.map(|c| c.0)));
        f.push(opt(s.stats.ci95.map(|c| c.1)));
        f.push(format_f64(s.stats.min));
        f.push(format_f64(s.stats.max));
        bytes.extend(csv_line(&f));
    }
    write_atomic(path, &bytes)
}

/// The plot file of a study: `<first swept key>.svg`.
pub fn plot_path(dir: &Path, study: &Study) -> Option<PathBuf> {
    study
        .axes
        .first()
        .map(|a| dir.join(format!("{}.svg", a.key)))
}

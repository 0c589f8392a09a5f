//! The CSV files `xbar infer` writes: `summary.csv` (one row: accuracy,
//! throughput and every setting), `confusion.csv` and `layers.csv`.

use std::path::{Path, PathBuf};

use crate::snn::Outcome;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Csv { path: PathBuf, source: csv::Error },
}

/// One run's settings and headline numbers, in `summary.csv` column order
/// after the fixed columns `mapping,accuracy,images,timesteps,frames_per_s`.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub mapping: String,
    /// Fraction of images classified correctly.
    pub accuracy: f64,
    pub images: usize,
    pub timesteps: usize,
    pub frames_per_s: f64,
    /// Further `(column, value)` pairs: encoding, thresholds, seed, model...
    pub settings: Vec<(String, String)>,
}

/// Writes `summary.csv`, `confusion.csv` (true class by row, predicted class
/// by column) and `layers.csv` (per layer: neurons, spikes, spikes per
/// neuron per time step) into `dir`, each file atomically.
pub fn write(
    dir: &Path,
    summary: &Summary,
    outcome: &Outcome,
    labels: &[u8],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut header: Vec<String> = ["mapping", "accuracy", "images", "timesteps", "frames_per_s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut row = vec![
        summary.mapping.clone(),
        summary.accuracy.to_string(),
        summary.images.to_string(),
        summary.timesteps.to_string(),
        summary.frames_per_s.to_string(),
    ];
    for (k, v) in &summary.settings {
        header.push(k.clone());
        row.push(v.clone());
    }
    write_csv(&dir.join("summary.csv"), &[header, row])?;

    let classes = outcome.sizes.last().copied().unwrap_or(0);
    let mut rows = Vec::with_capacity(classes + 1);
    let mut header = vec!["true_class".to_string()];
    header.extend((0..classes).map(|c| format!("predicted_{c}")));
    rows.push(header);
    for (c, counts) in outcome.confusion(labels, classes).into_iter().enumerate() {
        let mut r = vec![c.to_string()];
        r.extend(counts.iter().map(u64::to_string));
        rows.push(r);
    }
    write_csv(&dir.join("confusion.csv"), &rows)?;

    let mut rows = vec![vec![
        "layer".to_string(),
        "neurons".to_string(),
        "spikes".to_string(),
        "rate_per_step".to_string(),
    ]];
    for (l, ((&n, &s), r)) in outcome
        .sizes
        .iter()
        .zip(&outcome.layer_spikes)
        .zip(outcome.layer_rates())
        .enumerate()
    {
        let name = if l == 0 {
            "input".to_string()
        } else {
            format!("layer{l}")
        };
        rows.push(vec![name, n.to_string(), s.to_string(), r.to_string()]);
    }
    write_csv(&dir.join("layers.csv"), &rows)
}

fn write_csv(path: &Path, rows: &[Vec<String>]) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(|source| ReportError::Csv {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    crate::atomic_write(path, |f| f.write_all(&bytes)).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `resources.csv` (see [`crate::resources::Resources::rows`]) into
/// `dir` atomically.
pub fn write_resources(
    dir: &Path,
    resources: &crate::resources::Resources,
) -> Result<(), ReportError> {
    let rows: Vec<Vec<String>> = resources.rows().into_iter().map(Vec::from).collect();
    write_csv(&dir.join("resources.csv"), &rows)
}

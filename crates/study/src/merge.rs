//! Combining shard folders into the folder a single run writes.

use std::path::{Path, PathBuf};

use crate::config::Study;
use crate::error::StudyError;
use crate::model;
use crate::run::write_outputs;
use crate::store::{self, Meta, PointSummary, Rows};

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeReport {
    /// The study the folders hold.
    pub study: Study,
    pub trials: usize,
    pub reference: Option<f64>,
    pub summaries: Vec<PointSummary>,
    pub files: Vec<PathBuf>,
}

/// Merges study folders (shards, or partial runs) of one study into `out`.
///
/// All inputs must record the same study; a trial found in several inputs
/// must have the same result in each (its runtime may differ: the first is
/// kept); together they must hold every trial. The output is byte for byte
/// what a single run writes, except for the runtimes.
pub fn merge_dirs(inputs: &[PathBuf], out: &Path) -> Result<MergeReport, StudyError> {
    let Some(first_dir) = inputs.first() else {
        return Err(StudyError::Directory {
            path: out.to_path_buf(),
            message: "no study folders to merge".into(),
        });
    };
    // A shard's own folder as the output would replace its trials with the
    // merged ones and its study.toml with the unsharded record.
    if let Ok(out_real) = std::fs::canonicalize(out) {
        for dir in inputs {
            if std::fs::canonicalize(dir).is_ok_and(|d| d == out_real) {
                return Err(StudyError::Directory {
                    path: out.to_path_buf(),
                    message: format!(
                        "is also an input ({}); merging into it would overwrite that \
                         folder: choose a new output folder",
                        dir.display()
                    ),
                });
            }
        }
    }
    let first = Meta::read(first_dir)?;
    let study = first.study().map_err(|message| StudyError::Directory {
        path: first_dir.join(store::META_FILE),
        message,
    })?;
    let mut rows = Rows::new();
    for dir in inputs {
        let meta = Meta::read(dir)?;
        let differ = |what: &str| StudyError::Directory {
            path: dir.clone(),
            message: format!(
                "{what} differs from {}; not a shard of the same study",
                first_dir.display()
            ),
        };
        if meta.model() != first.model() {
            return Err(StudyError::Directory {
                path: dir.clone(),
                message: format!(
                    "holds the trials of {}, but {} holds those of {}; \
                     shards of one study must run the same model",
                    model::describe(meta.model().as_ref()),
                    first_dir.display(),
                    model::describe(first.model().as_ref())
                ),
            });
        }
        if meta.config_hash != first.config_hash {
            return Err(differ("the study (config hash)"));
        }
        if meta.metrics != first.metrics {
            return Err(differ("the metric list"));
        }
        if meta.reference_accuracy.map(f64::to_bits) != first.reference_accuracy.map(f64::to_bits) {
            return Err(differ("the reference accuracy"));
        }
        let path = dir.join(store::TRIALS_FILE);
        let found = store::read_trials(&path, &study, &first.metrics, false)?.ok_or_else(|| {
            StudyError::Directory {
                path: dir.clone(),
                message: format!("has no {}", store::TRIALS_FILE),
            }
        })?;
        for (key, row) in found {
            match rows.get(&key) {
                None => {
                    rows.insert(key, row);
                }
                Some(kept) if kept.same_result(&row) => {}
                Some(_) => {
                    return Err(StudyError::Directory {
                        path: path.clone(),
                        message: format!(
                            "point {}, trial {} has a different result than in another folder",
                            key.0, key.1
                        ),
                    })
                }
            }
        }
    }
    let total = study.total_trials();
    if rows.len() < total {
        let missing = (0..study.points())
            .flat_map(|p| (0..study.trials).map(move |t| (p, t)))
            .find(|k| !rows.contains_key(k))
            .unwrap_or_default();
        return Err(StudyError::Directory {
            path: out.to_path_buf(),
            message: format!(
                "the folders hold {} of {total} trials (first missing: point {}, trial {}); \
                 is a shard missing or unfinished?",
                rows.len(),
                missing.0,
                missing.1
            ),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| StudyError::io(out, e))?;
    if out.join(store::META_FILE).exists() {
        let existing = Meta::read(out)?;
        if existing.model() != first.model() {
            return Err(StudyError::Directory {
                path: out.to_path_buf(),
                message: format!(
                    "holds the results of {}, not {}; choose another --out",
                    model::describe(existing.model().as_ref()),
                    model::describe(first.model().as_ref())
                ),
            });
        }
        if existing.config_hash != first.config_hash {
            return Err(StudyError::Directory {
                path: out.to_path_buf(),
                message: "holds the results of a different study; choose another --out".into(),
            });
        }
    }
    let mut meta = first.clone();
    meta.shard = None;
    meta.write(out)?;
    let trials_path = out.join(store::TRIALS_FILE);
    store::write_trials(&trials_path, &study, &meta.metrics, &rows)?;
    let mut files = vec![out.join(store::META_FILE), trials_path];
    files.extend(write_outputs(out, &study, &rows, meta.reference_accuracy)?);
    Ok(MergeReport {
        trials: rows.len(),
        reference: meta.reference_accuracy,
        summaries: store::summarize_rows(&study, &rows),
        files,
        study,
    })
}

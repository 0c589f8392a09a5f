//! Running a study: resume, shards, parallel trials, interruption.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::config::Study;
use crate::error::StudyError;
use crate::evaluator::Evaluator;
use crate::model;
use crate::plot::write_plot;
use crate::seed::{reference_seed, trial_seed};
use crate::store::{self, Meta, PointSummary, Row, Rows};

/// A deterministic share of a study's trials: shard `index` of `count`
/// (1-based) runs the trials whose global number `point · trials + trial`
/// is `index − 1` modulo `count`. Interleaving spreads every point over all
/// shards so they take about the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn contains(&self, global: usize) -> bool {
        global % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard `{s}` is not K/N with 1 ≤ K ≤ N (e.g. 2/8)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Worker threads a study may start per core. Beyond one per core threads
/// add no speed, only memory (each running trial holds its own device sample
/// and buffers); a few per core leave room for oversubscribing on purpose.
pub const THREADS_PER_CORE: usize = 4;

/// Refuses a thread count above [`THREADS_PER_CORE`] per core of this
/// machine, or zero.
pub fn check_threads(threads: usize) -> Result<(), StudyError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = THREADS_PER_CORE * cores;
    if threads == 0 || threads > limit {
        return Err(StudyError::Threads(format!(
            "{threads} threads requested; give 1 to {limit} ({THREADS_PER_CORE} per core, \
             {cores} cores here)"
        )));
    }
    Ok(())
}

/// How to run a study.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Worker threads; `None` uses rayon's global pool (one per core).
    pub threads: Option<usize>,
    pub shard: Option<Shard>,
    /// Show a progress bar with ETA (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Set to stop starting new trials; trials in flight finish and are kept.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// Trials this run (or shard) is responsible for.
    pub total: usize,
    /// Of those, already recorded by an earlier run.
    pub resumed: usize,
    /// Run now.
    pub ran: usize,
    pub elapsed: Duration,
    /// Of `elapsed`, computing the ideal reference accuracy (zero on resume:
    /// it is recorded in `study.toml`).
    pub reference_time: Duration,
    /// Sum of the runtimes of the trials run now (the `runtime_s` column):
    /// divided by `ran` it is the mean time per trial, and against
    /// `elapsed · threads` it shows how well the threads were used.
    pub trial_time: Duration,
    /// Worker threads the trials ran on.
    pub threads: usize,
    pub reference: Option<f64>,
    /// Per-point statistics; empty for a shard (merge the shards for them).
    pub summaries: Vec<PointSummary>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Runs (or resumes) `study` into `out`, using `evaluator` for the trials.
///
/// Rows are appended to `out/trials.csv` as trials finish, one whole line per
/// write, so a kill loses only the trials in flight. When every trial of the
/// run is recorded the file is rewritten in canonical order; a full run (not
/// a shard) then writes `summary.csv` and the plot.
pub fn run_study<E: Evaluator>(
    study: &Study,
    evaluator: &E,
    out: &Path,
    options: &RunOptions,
) -> Result<RunReport, StudyError> {
    let started = Instant::now();
    if let Some(threads) = options.threads {
        check_threads(threads)?;
    }
    if study.model() != evaluator.model() {
        return Err(StudyError::ModelMismatch {
            study: model::describe(study.model()),
            evaluator: model::describe(evaluator.model()),
        });
    }
    let metrics = evaluator.metrics();
    store::check_metric_names(study, &metrics).map_err(|message| StudyError::Directory {
        path: out.to_path_buf(),
        message,
    })?;
    let tables = (0..study.points())
        .map(|p| {
            let table = study.point_table(p).map_err(|m| StudyError::InvalidPoint {
                point: p,
                values: study.describe_point(p),
                source: m.into(),
            })?;
            evaluator
                .validate(&table)
                .map_err(|e| StudyError::InvalidPoint {
                    point: p,
                    values: study.describe_point(p),
                    source: Box::new(e),
                })?;
            Ok(table)
        })
        .collect::<Result<Vec<_>, StudyError>>()?;

    std::fs::create_dir_all(out).map_err(|e| StudyError::io(out, e))?;
    let shard_text = options.shard.map(|s| s.to_string());
    let meta_path = out.join(store::META_FILE);
    let trials_path = out.join(store::TRIALS_FILE);
    let mut reference_time = Duration::ZERO;
    let reference = if meta_path.exists() {
        let meta = Meta::read(out)?;
        let refuse = |what: String| StudyError::Directory {
            path: out.to_path_buf(),
            message: format!(
                "{what}; resume only with the same config and model, or choose another --out"
            ),
        };
        let recorded = meta.model();
        if recorded.as_ref() != study.model() {
            return Err(refuse(format!(
                "holds the trials of {}, but this run uses {}",
                model::describe(recorded.as_ref()),
                model::describe(study.model())
            )));
        }
        if meta.config_hash != study.hash() {
            return Err(refuse(
                "holds the results of a different study (the config changed)".into(),
            ));
        }
        if meta.shard != shard_text {
            let name = |s: &Option<String>| {
                s.clone()
                    .map_or("a full run".into(), |s| format!("shard {s}"))
            };
            return Err(refuse(format!(
                "holds {}, not {}",
                name(&meta.shard),
                name(&shard_text)
            )));
        }
        if meta.metrics != metrics {
            return Err(refuse(format!(
                "was written with metrics {:?}, the evaluator now reports {:?}",
                meta.metrics, metrics
            )));
        }
        meta.reference_accuracy
    } else {
        if trials_path.exists() {
            return Err(StudyError::Directory {
                path: out.to_path_buf(),
                message: format!(
                    "has a {} but no {}; not a study folder, refusing to overwrite",
                    store::TRIALS_FILE,
                    store::META_FILE
                ),
            });
        }
        let clock = Instant::now();
        let reference = evaluator
            .reference(&study.nonideal, study.images, reference_seed(study.seed))
            .map_err(|e| StudyError::Reference {
                source: Box::new(e),
            })?;
        reference_time = clock.elapsed();
        Meta::new(study, &metrics, shard_text.clone(), reference).write(out)?;
        reference
    };

    let mut rows = store::read_trials(&trials_path, study, &metrics, true)?.unwrap_or_default();
    let in_shard = |p: usize, t: usize| {
        options
            .shard
            .is_none_or(|s| s.contains(p * study.trials + t))
    };
    if let Some(((p, t), _)) = rows.iter().find(|((p, t), _)| !in_shard(*p, *t)) {
        return Err(StudyError::Directory {
            path: trials_path.clone(),
            message: format!("has point {p}, trial {t}, which is not part of this shard"),
        });
    }
    let mine: Vec<(usize, usize)> = (0..study.points())
        .flat_map(|p| (0..study.trials).map(move |t| (p, t)))
        .filter(|&(p, t)| in_shard(p, t))
        .collect();
    let pending: Vec<(usize, usize)> = mine
        .iter()
        .copied()
        .filter(|key| !rows.contains_key(key))
        .collect();
    let resumed = mine.len() - pending.len();

    if std::fs::metadata(&trials_path).map_or(true, |m| m.len() == 0) {
        store::write_atomic(&trials_path, &store::header_line(study, &metrics))?;
    }
    let file = OpenOptions::new()
        .append(true)
        .open(&trials_path)
        .map_err(|e| StudyError::io(&trials_path, e))?;
    let sink = Mutex::new((file, Vec::<Row>::new()));

    let bar = if options.progress && std::io::stderr().is_terminal() && !pending.is_empty() {
        let bar = ProgressBar::new(pending.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials  ETA {eta_precise}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    } else {
        ProgressBar::hidden()
    };

    let stop = AtomicBool::new(false);
    let cancelled = || {
        stop.load(Ordering::Relaxed)
            || options
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let first_error: Mutex<Option<StudyError>> = Mutex::new(None);
    let run_one = |&(point, trial): &(usize, usize)| {
        if cancelled() {
            return;
        }
        let seed = trial_seed(study.seed, point, trial);
        let clock = Instant::now();
        let outcome = evaluator.evaluate(&tables[point], study.images, seed);
        let runtime_s = clock.elapsed().as_secs_f64();
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| StudyError::Trial {
            point,
            trial,
            seed,
            values: study.describe_point(point),
            source,
        };
        let result = match outcome {
            Err(e) => Err(fail(Box::new(e))),
            Ok(r) if !(0.0..=1.0).contains(&r.accuracy) => Err(fail(
                format!("accuracy {} is outside [0, 1]", r.accuracy).into(),
            )),
            Ok(r)
                if r.metrics.len() != metrics.len() || r.metrics.iter().any(|m| !m.is_finite()) =>
            {
                Err(fail(
                    format!(
                        "returned metrics {:?}, expected {} finite numbers",
                        r.metrics,
                        metrics.len()
                    )
                    .into(),
                ))
            }
            Ok(r) => Ok(Row {
                point,
                trial,
                seed,
                accuracy: r.accuracy,
                images: r.images,
                metrics: r.metrics,
                runtime_s,
            }),
        };
        let outcome = result.and_then(|row| {
            let line = store::row_line(study, &row);
            let mut guard = sink.lock().unwrap_or_else(|p| p.into_inner());
            // One write per row: a kill between writes never splits a row.
            guard
                .0
                .write_all(&line)
                .and_then(|()| guard.0.flush())
                .map_err(|e| StudyError::io(&trials_path, e))?;
            guard.1.push(row);
            Ok(())
        });
        match outcome {
            Ok(()) => bar.inc(1),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
            }
        }
    };
    let threads = match options.threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| StudyError::Threads(e.to_string()))?;
            pool.install(|| pending.par_iter().with_max_len(1).for_each(run_one));
            n
        }
        None => {
            pending.par_iter().with_max_len(1).for_each(run_one);
            rayon::current_num_threads()
        }
    };
    bar.finish_and_clear();

    let (file, new_rows) = sink.into_inner().unwrap_or_else(|p| p.into_inner());
    drop(file);
    let ran = new_rows.len();
    let trial_time = Duration::from_secs_f64(new_rows.iter().map(|r| r.runtime_s).sum());
    for row in new_rows {
        rows.insert((row.point, row.trial), row);
    }
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    if rows.len() < mine.len() {
        return Err(StudyError::Interrupted {
            done: rows.len(),
            total: mine.len(),
            out: out.to_path_buf(),
        });
    }

    store::write_trials(&trials_path, study, &metrics, &rows)?;
    let mut files = vec![meta_path, trials_path];
    let summaries = if options.shard.is_none() {
        files.extend(write_outputs(out, study, &rows, reference)?);
        store::summarize_rows(study, &rows)
    } else {
        Vec::new()
    };
    Ok(RunReport {
        total: mine.len(),
        resumed,
        ran,
        elapsed: started.elapsed(),
        reference_time,
        trial_time,
        threads,
        reference,
        summaries,
        files,
    })
}

/// Writes `summary.csv` and the plot of a complete study.
pub(crate) fn write_outputs(
    out: &Path,
    study: &Study,
    rows: &Rows,
    reference: Option<f64>,
) -> Result<Vec<PathBuf>, StudyError> {
    let summaries = store::summarize_rows(study, rows);
    let summary_path = out.join(store::SUMMARY_FILE);
    store::write_summary(&summary_path, study, &summaries)?;
    let mut files = vec![summary_path];
    if let Some(plot) = store::plot_path(out, study) {
        write_plot(&plot, study, &summaries, reference)?;
        files.push(plot);
    }
    Ok(files)
}

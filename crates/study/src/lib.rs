//! Monte Carlo and parameter-sweep studies of crossbar non-idealities.
//!
//! A study answers "how does accuracy fall as this non-ideality grows?" with
//! confidence intervals. It sweeps one or two dotted keys of a non-ideality
//! table (a grid for two), runs `trials` independent trials per point through
//! an [`Evaluator`], and writes a study folder:
//!
//! - `study.toml`: what study this is (config hash, settings, axes, the
//!   ideal reference accuracy); a rerun with another config is refused;
//! - `trials.csv`: one row per trial (point, trial, swept values, seed,
//!   accuracy as a fraction, images, evaluator metrics, runtime in s);
//! - `summary.csv`: per point n, mean, std, Student-t 95 % interval, min, max;
//! - `<first swept key>.svg`: accuracy against the parameter with the
//!   intervals and the ideal accuracy.
//!
//! The network mappings record the model file's SHA-256 ([`ModelId`]) in
//! the study's identity, so a folder never mixes two models' trials.
//! [`table`] turns finished folders into one Markdown or CSV results table.
//!
//! Each trial's seed depends only on (seed, point, trial) ([`trial_seed`]),
//! so results are bit-identical whatever the thread count, however the work
//! is split into shards ([`Shard`], merged by [`merge_dirs`]) and however often
//! a run is interrupted and resumed.
//!
//! The config format is described in `studies/README.md`.
//! [`NetworkEvaluator`] runs the trials on the paper's network (mappings
//! `ideal`, `shared`, `dense` of xbar-snn); [`SyntheticEvaluator`] is a
//! closed-form stand-in for it, for demos and tests.

mod config;
mod error;
mod evaluator;
mod interrupt;
mod merge;
mod model;
pub mod network;
mod plot;
mod run;
mod seed;
mod stats;
mod store;
mod synthetic;
pub mod table;
mod value;

pub use config::{
    expand_range, Axis, Spacing, Study, StudyConfig, SweepDef, SweepValues, MAX_POINTS, MAX_SWEEPS,
    MAX_TRIALS,
};
pub use error::StudyError;
pub use evaluator::{Evaluator, TrialResult};
pub use interrupt::cancel_on_interrupt;
pub use merge::{merge_dirs, MergeReport};
pub use model::{locate_model, LocateError, ModelId, MODEL_ENV, MODEL_FILE};
pub use network::{
    calibrates_adc_ranges, NetworkError, NetworkEvaluator, NETWORK_MAPPINGS, NETWORK_PARAMETERS,
};
pub use run::{check_threads, run_study, RunOptions, RunReport, Shard, THREADS_PER_CORE};
pub use seed::{reference_seed, trial_seed};
pub use stats::{summarize, t_975, Stats};
pub use store::{plot_path, PointSummary, META_FILE, SUMMARY_FILE, TRIALS_FILE};
pub use synthetic::{SyntheticError, SyntheticEvaluator, SyntheticParams, PAPER_ACCURACY};
pub use table::{load_results, render_csv, render_markdown, StudyResults};
pub use value::{
    format_f64, get_dotted, remove_dotted, set_dotted, ParameterSpec, Value, ValueKind,
};

use std::path::PathBuf;

/// Everything that can go wrong while loading, running or merging a study.
///
/// Each variant names the file (and line where there is one) so a user can
/// find the offending input without reading the source.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("{path}:{line}: {message}")]
    Trials {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{path}: {message}")]
    Directory { path: PathBuf, message: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("evaluator rejected point {point} ({values}): {source}")]
    InvalidPoint {
        point: usize,
        values: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("point {point} ({values}), trial {trial} (seed {seed}): {source}")]
    Trial {
        point: usize,
        trial: usize,
        seed: u64,
        values: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("reference (ideal) accuracy: {source}")]
    Reference {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error(
        "interrupted after {done} of {total} trials; rerun the same command to resume from {}",
        out.display()
    )]
    Interrupted {
        done: usize,
        total: usize,
        out: PathBuf,
    },

    #[error("{0}")]
    Plot(String),

    #[error(
        "the study was set up for {study} but the evaluator runs {evaluator}; \
             build the study with Study::with_model(evaluator.model())"
    )]
    ModelMismatch { study: String, evaluator: String },

    #[error("worker threads: {0}")]
    Threads(String),

    #[error("cannot install the Ctrl-C handler: {0}")]
    Signal(String),
}

impl StudyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StudyError::Io {
            path: path.into(),
            source,
        }
    }
}

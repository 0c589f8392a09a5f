//! Ctrl-C (SIGINT/SIGTERM) handling for command-line runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::StudyError;

/// Installs a process-wide handler and returns the flag it sets, for
/// [`crate::RunOptions::cancel`]. The first signal lets trials in flight
/// finish and be recorded; a second one exits at once (status 130), which
/// still leaves `trials.csv` whole because every row is a single write.
/// Call at most once per process.
pub fn cancel_on_interrupt() -> Result<Arc<AtomicBool>, StudyError> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&flag);
    ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: abandoning trials in flight");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing trials in flight (Ctrl-C again to abandon them)");
    })
    .map_err(|e| StudyError::Signal(e.to_string()))?;
    Ok(flag)
}

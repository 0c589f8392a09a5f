//! `xbar-snn`: the paper's MNIST spiking network, from data to spikes.
//!
//! - [`mnist`]: finds, downloads and verifies the MNIST IDX files.
//! - [`mlp`]: the bias-free ReLU network 784-1024-1024-10 and its training.
//! - [`quant`]: weight sharing (16 values per layer, 4-bit indices) and the
//!   16-bit fixed point of the shared-weight table.
//! - [`model`]: the stored network (`.xbm`) with its normalisation scales.
//! - [`snn`]: ANN-to-SNN conversion and time-stepped LIF inference, with the
//!   synaptic array abstracted as a [`snn::Mapping`] so that crossbar-level
//!   mappings plug into the same loop as the ideal one.
//! - [`pipeline`]: the training recipe behind `xbar train` and its record.
//! - [`nonideal`]: the dotted keys of `--nonideal` files.
//! - [`adc`]: the column converters of the crossbar mappings, with
//!   `xbar-periph`'s transfer function.
//! - [`calibrate`]: the dense mapping's converter ranges calibrated on
//!   training images.
//! - [`shared`]: the paper's mapping, shared weights bit-sliced in binary
//!   memristor arrays read through the crossbar solver.
//! - [`dense`]: the conventional mapping, differential conductance pairs
//!   in tiled crossbars through their IR-drop-aware effective matrices.
//! - [`resources`]: the accelerator's memristors, neurons, synapses and
//!   cycles per frame.
//! - [`trial`]: one seeded run of a mapping, the study engine's entry point.
//! - [`report`]: the CSV files `xbar infer` writes.

pub mod adc;
pub mod calibrate;
pub mod dense;
pub mod mlp;
pub mod mnist;
pub mod model;
pub mod nonideal;
pub mod pipeline;
pub mod quant;
pub mod report;
pub mod resources;
pub mod shared;
pub mod snn;
pub mod trial;

use std::io::{BufWriter, Write};
use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use mlp::{Mlp, TrainConfig};
pub use mnist::{Dataset, Mnist, MnistError};
pub use model::{ModelError, SharedModel};
pub use snn::SnnError;
pub use trial::{run_trial, TrialOutcome};

/// An independent random stream for item `index` of a run seeded by `seed`:
/// the same numbers whichever thread draws them, and in whatever order.
pub fn stream_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Writes a file through a temporary file in the same folder that is renamed
/// over `path` only once `write` succeeded, so readers never see half a file.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        write(&mut w)?;
        w.flush()?;
    }
    // Temporary files are private (0600); the result is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Threads the parallel loops use (rayon's pool, `RAYON_NUM_THREADS`).
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// A progress bar on stderr when `show` is set and stderr is a terminal.
pub(crate) fn progress_bar(len: u64, show: bool, message: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(message.to_string());
    bar
}

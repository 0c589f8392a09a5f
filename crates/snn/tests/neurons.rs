//! `lif.threshold_sigma` on the real network: off when zero, seeded, the
//! same on any number of threads, and costly when large.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::path::Path;

use xbar_snn::mnist::{self, Files};
use xbar_snn::nonideal;
use xbar_snn::trial::{self, Conversion};
use xbar_snn::SharedModel;

fn outcome(text: &str, images: usize, seed: u64, threads: usize) -> (f64, trial::Run) {
    let model = SharedModel::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist_shared.xbm"),
    )
    .unwrap();
    let data = mnist::load_dir(&mnist_dir(), &Files::standard())
        .unwrap()
        .test
        .truncated(images);
    let settings = nonideal::from_table(&text.parse().unwrap(), "ideal").unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let run = pool
        .install(|| {
            trial::run(
                &model,
                &data,
                "ideal",
                &settings,
                &Conversion::default(),
                seed,
                false,
            )
        })
        .unwrap();
    (run.outcome.accuracy(&data.labels), run)
}

#[test]
fn threshold_spread_is_seeded_thread_independent_and_costs_accuracy() {
    let n = 200;
    let (clean, base) = outcome("", n, 3, 2);
    let (_, zero) = outcome("lif.threshold_sigma = 0.0", n, 3, 1);
    assert_eq!(base.outcome.predictions, zero.outcome.predictions);
    assert_eq!(base.outcome.layer_spikes, zero.outcome.layer_spikes);
    assert_eq!(base.outcome.output_spikes, zero.outcome.output_spikes);

    let spread = "lif.threshold_sigma = 0.2\ninput.timesteps = 16";
    let (_, one) = outcome(spread, n, 3, 1);
    let (_, two) = outcome(spread, n, 3, 2);
    assert_eq!(one.outcome.output_spikes, two.outcome.output_spikes);
    assert_eq!(one.outcome.layer_spikes, two.outcome.layer_spikes);
    let (_, other) = outcome(spread, n, 4, 2);
    assert_ne!(one.outcome.layer_spikes, other.outcome.layer_spikes);
    assert!(one.lif.iter().all(|p| p.threshold_sigma == 0.2));

    // Thresholds spread by a whole V_th: neurons with tiny thresholds fire
    // at every step whatever their input.
    let (wild, _) = outcome("lif.threshold_sigma = 1.0", n, 3, 2);
    assert!(clean > 0.95, "{clean}");
    assert!(wild < clean - 0.05, "{wild} vs {clean}");
}

#[test]
fn bad_threshold_sigma_is_named() {
    for bad in ["-0.1", "nan", "\"wide\""] {
        let e = nonideal::from_table(
            &format!("lif.threshold_sigma = {bad}").parse().unwrap(),
            "dense",
        )
        .unwrap_err();
        assert!(e.to_string().contains("lif.threshold_sigma"), "{e}");
    }
}

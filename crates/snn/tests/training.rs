//! Training on a small MNIST subset: convergence, determinism and the
//! shared-weight fine-tuning.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;

use xbar_snn::mlp::{train, Mlp, Schedule, TrainConfig};
use xbar_snn::mnist::{self, Dataset, Files};
use xbar_snn::quant::{self, Method};

/// The first 3,000 training images: 2,500 to train on, 500 to validate.
fn subset() -> Dataset {
    mnist::load_dir(&mnist_dir(), &Files::standard())
        .unwrap()
        .train
        .truncated(3000)
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: 50,
        lr: 1e-3,
        schedule: Schedule::Constant,
        final_fraction: 1.0,
        dropout_input: 0.0,
        dropout_hidden: 0.1,
        shift: 0,
        seed: 3,
    }
}

#[test]
fn small_network_learns_and_fine_tuning_keeps_the_clusters() {
    let data = subset();
    let mut net = Mlp::new(&[784, 96, 10], 3).unwrap();
    let before = net.accuracy(&data, 2500..3000);
    let reports = train(
        &mut net,
        &data,
        0..2500,
        2500..3000,
        &config(3),
        false,
        |_| {},
    )
    .unwrap();
    assert_eq!(reports.len(), 3);
    // Chance is 10 %; three epochs on 2,500 digits reach well above 85 %.
    assert!(before < 0.3, "untrained accuracy {before}");
    let after = reports[2].validation_accuracy;
    assert!(after > 0.85, "validation accuracy {after}");
    assert!(reports[2].loss < 0.6 * reports[0].loss, "{reports:?}");
    assert!((net.accuracy(&data, 2500..3000) - after).abs() < 1e-12);

    // Cluster, then fine-tune only the 16 shared values per layer.
    for layer in &mut net.layers {
        layer.shared = Some(quant::cluster(&layer.weights, Method::KMeans, 50).shared);
        layer.materialise();
    }
    let indices: Vec<Vec<u8>> = net
        .layers
        .iter()
        .map(|l| l.shared.as_ref().unwrap().index.clone())
        .collect();
    let values: Vec<Vec<f32>> = net
        .layers
        .iter()
        .map(|l| l.shared.as_ref().unwrap().values.clone())
        .collect();
    let clustered = net.accuracy(&data, 2500..3000);
    assert!(
        clustered > after - 0.05,
        "clustering cost too much: {after} -> {clustered}"
    );
    let tune = TrainConfig {
        lr: 1e-4,
        ..config(1)
    };
    train(&mut net, &data, 0..2500, 2500..3000, &tune, false, |_| {}).unwrap();
    for (l, layer) in net.layers.iter().enumerate() {
        let s = layer.shared.as_ref().unwrap();
        assert_eq!(s.index, indices[l], "indices must not change");
        assert_ne!(s.values, values[l], "shared values must move");
        for (&w, &k) in layer.weights.iter().zip(&s.index) {
            assert_eq!(w, s.values[k as usize]);
        }
    }
    let tuned = net.accuracy(&data, 2500..3000);
    assert!(
        tuned > clustered - 0.01,
        "fine-tuning hurt: {clustered} -> {tuned}"
    );

    // Normalisation scales: the percentile never exceeds the maximum, which
    // is the largest output of the forward pass.
    let scales = net.activation_scales(&data, 0..500, 99.0);
    let scores = net.scores(&data, 0..500);
    let top = scores.iter().copied().fold(0.0f32, f32::max);
    assert_eq!(scales[1].max, top);
    for s in &scales {
        assert!(s.percentile <= s.max && s.percentile > 0.0, "{s:?}");
    }
}

#[test]
fn same_seed_same_weights_whatever_the_thread_count() {
    let data = subset().truncated(600);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut net = Mlp::new(&[784, 32, 10], 7).unwrap();
                let c = TrainConfig {
                    dropout_input: 0.1,
                    shift: 1,
                    ..config(1)
                };
                train(&mut net, &data, 0..500, 500..600, &c, false, |_| {}).unwrap();
                net
            })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn bad_settings_are_rejected() {
    let data = subset().truncated(10);
    let mut net = Mlp::new(&[784, 4, 10], 1).unwrap();
    let bad = TrainConfig {
        dropout_hidden: 1.0,
        ..config(1)
    };
    let err = train(&mut net, &data, 0..10, 0..0, &bad, false, |_| {}).unwrap_err();
    assert!(err.to_string().contains("dropout_hidden"), "{err}");
    let bad = TrainConfig {
        lr: f64::NAN,
        ..config(1)
    };
    assert!(train(&mut net, &data, 0..10, 0..0, &bad, false, |_| {}).is_err());
    assert!(Mlp::new(&[784], 1).is_err());
    let mut wrong = Mlp::new(&[100, 4, 10], 1).unwrap();
    assert!(train(&mut wrong, &data, 0..10, 0..0, &config(1), false, |_| {}).is_err());
}

//! The dense (differential pair, tiled) mapping: convergence to the ideal
//! network, the effective matrix against full circuit solves, the ADC.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::path::Path;

use xbar_snn::dense::DenseMapping;
use xbar_snn::mnist::{self, Dataset, Files};
use xbar_snn::nonideal;
use xbar_snn::snn::{self, IdealMapping};
use xbar_snn::trial::{self, Conversion};
use xbar_snn::SharedModel;

fn shipped() -> SharedModel {
    SharedModel::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist_shared.xbm"))
        .unwrap()
}

fn test_images(n: usize) -> Dataset {
    mnist::load_dir(&mnist_dir(), &Files::standard())
        .unwrap()
        .test
        .truncated(n)
}

fn settings(text: &str) -> nonideal::Settings {
    nonideal::from_table(&text.parse().unwrap(), "dense").unwrap()
}

#[test]
fn ideal_devices_with_many_levels_approach_the_ideal_network() {
    let model = shipped();
    let data = test_images(30);
    let s = settings("[device]\nlevels = 65536\n");
    let (lif, config) = trial::configure(&model, &s, &Conversion::default(), 4);
    let ideal = snn::infer(
        &IdealMapping::new(&model).unwrap(),
        &lif,
        &data,
        &config,
        false,
    )
    .unwrap();
    let dense = DenseMapping::new(&model, &s.hardware, 4).unwrap();
    // 2 x (7x8 + 8x8 + 8x1) tiles of at most 128 x 128.
    assert_eq!(dense.crossbars, 2 * (56 + 64 + 8));
    let d = snn::infer(&dense, &lif, &data, &config, false).unwrap();
    let same = ideal
        .predictions
        .iter()
        .zip(&d.predictions)
        .filter(|(a, b)| a == b)
        .count();
    assert!(same >= 29, "{same} of 30 decisions equal");
    // Weights within half a level (1/65535 of the largest) of the ideal
    // ones: spike totals within 1 %.
    for (a, b) in ideal.layer_spikes.iter().zip(&d.layer_spikes) {
        assert!(
            (*a as f64 - *b as f64).abs() <= 0.01 * *a as f64,
            "{a} vs {b}"
        );
    }
    // Two levels (binary pairs) lose most of the network.
    let coarse = settings("[device]\nlevels = 2\n");
    let dense2 = DenseMapping::new(&model, &coarse.hardware, 4).unwrap();
    let d2 = snn::infer(&dense2, &lif, &data, &config, false).unwrap();
    assert!(d2.accuracy(&data.labels) < ideal.accuracy(&data.labels));
}

#[test]
fn effective_matrix_agrees_with_full_solves_for_linear_cells() {
    let model = shipped();
    let data = test_images(2);
    let s = settings(
        "[crossbar]\ntile = 64\nr_wire = 2.5\nr_driver = 50\nr_sense = 50\n\
         [device]\non_off_ratio = 20\nprogramming_sigma = 0.05\n",
    );
    let dense = DenseMapping::new(&model, &s.hardware, 8).unwrap();
    let v = dense.validate(&data, 2, 8).unwrap();
    // Column currents: 2 inputs x (13 row tiles x 1024 + 16 x 1024 + 16 x 10).
    assert_eq!(v.reads, 2 * (13 * 1024 + 16 * 1024 + 16 * 10));
    assert!(v.max_relative < 1e-9, "{v:?}");
    assert!(v.mean_relative <= v.max_relative);
}

#[test]
fn wires_lower_the_sums_and_a_coarse_adc_changes_them() {
    let model = shipped();
    let data = test_images(10);
    let base = settings("[crossbar]\ntile = 64\n");
    let (lif, config) = trial::configure(&model, &base, &Conversion::default(), 2);
    let spikes = |text: &str| {
        let s = settings(text);
        let m = DenseMapping::new(&model, &s.hardware, 2).unwrap();
        snn::infer(&m, &lif, &data, &config, false).unwrap()
    };
    let clean = spikes("[crossbar]\ntile = 64\n");
    // IR drop attenuates every current, so the hidden layers fire less.
    let wired = spikes("[crossbar]\ntile = 64\nr_wire = 20\n");
    assert!(
        wired.layer_spikes[1] < clean.layer_spikes[1],
        "{:?} vs {:?}",
        wired.layer_spikes,
        clean.layer_spikes
    );
    // A 3-bit converter over the full tile range rounds most partial sums
    // of a step to zero.
    let adc = spikes("[crossbar]\ntile = 64\n[adc]\nbits = 3\n");
    assert!(
        adc.layer_spikes[1] < clean.layer_spikes[1] / 2,
        "{:?}",
        adc.layer_spikes
    );
}

#[test]
fn ideal_devices_skip_the_device_model_with_the_same_conductances() {
    use xbar_memristor::stats::{Compensation, NonIdealConfig};
    let ideal = NonIdealConfig {
        g_min: Some(1e-5),
        g_max: Some(1e-4),
        compensation: Some(Compensation::None),
        ..NonIdealConfig::default()
    };
    assert!(xbar_snn::dense::is_ideal(&ideal));
    let targets: Vec<f64> = (0..64).map(|k| 1e-5 + 9e-5 * k as f64 / 63.0).collect();
    let applied = ideal.apply(&targets, 8, 8, 5).unwrap().compensated();
    let clamped: Vec<f64> = targets.iter().map(|g| g.clamp(1e-5, 1e-4)).collect();
    assert_eq!(applied, clamped);
    for off in [
        NonIdealConfig {
            levels: Some(16),
            ..ideal.clone()
        },
        NonIdealConfig {
            programming_sigma: Some(0.01),
            ..ideal.clone()
        },
        NonIdealConfig {
            stuck_on_rate: Some(0.01),
            ..ideal.clone()
        },
        NonIdealConfig {
            compensation: Some(Compensation::Column),
            ..ideal.clone()
        },
    ] {
        assert!(!xbar_snn::dense::is_ideal(&off), "{off:?}");
    }
}

#[test]
fn dense_converters_are_periph_adcs_over_the_tile_range() {
    use xbar_periph::AdcBank;
    let model = shipped();
    let s = settings("[crossbar]\ntile = 64\n[adc]\nbits = 6\n");
    let dense = DenseMapping::new(&model, &s.hardware, 1).unwrap();
    for l in 0..3 {
        let adc = dense.adc(l);
        assert_eq!(adc.bits(), 6);
        let cfg = xbar_snn::adc::ColumnAdc::config(6, adc.range(), true);
        let x: Vec<f64> = (0..=200)
            .map(|k| adc.range() * (k as f64 / 80.0 - 1.25))
            .collect();
        let mut want = vec![0.0; x.len()];
        AdcBank::new(&cfg, x.len(), 0)
            .unwrap()
            .convert(&x, &mut want)
            .unwrap();
        for (&xi, &w) in x.iter().zip(&want) {
            assert_eq!(adc.read(xi), w, "layer {l}, x = {xi}");
        }
    }
    // A one-bit signed converter has no zero code: a clear error.
    let one = settings("[adc]\nbits = 1\n");
    let e = DenseMapping::new(&model, &one.hardware, 1).unwrap_err();
    assert!(e.to_string().contains("column converters"), "{e}");
}

/// Spike sets that exercise every path of the lockstep sums: no spike, one
/// spike, one or two spikes in a tile, spikes in one tile only, sparse and
/// dense sets, and the same rows in several sets.
fn spike_sets(n_in: usize, seed: u64) -> Vec<Vec<u32>> {
    use rand::Rng;
    let mut rng = xbar_snn::stream_rng(seed, 0);
    let mut sets = vec![
        vec![],
        vec![0],
        vec![n_in as u32 - 1],
        vec![3, 70],
        vec![5, 6, 7],
        (0..64).collect(),
    ];
    for density in [0.01, 0.03, 0.1, 0.3, 0.03, 0.1] {
        sets.push(
            (0..n_in as u32)
                .filter(|_| rng.random_bool(density))
                .collect(),
        );
    }
    sets.push(sets[8].clone());
    sets
}

#[test]
fn lockstep_sums_are_those_of_each_set_alone_bit_for_bit() {
    use snn::{Mapping, Presynaptic};
    let model = shipped();
    for text in [
        "[crossbar]\ntile = 64\nr_wire = 2\n",
        "[crossbar]\ntile = 64\nr_wire = 2\n[adc]\nbits = 6\nrange = 2e-4\n",
        "[crossbar]\ntile = 100\n[adc]\nbits = 4\nrange = 5e-5\n",
    ] {
        let s = settings(text);
        let m = DenseMapping::new(&model, &s.hardware, 4).unwrap();
        for layer in 0..2 {
            let (n_in, n) = (m.sizes()[layer], m.sizes()[layer + 1]);
            let sets = spike_sets(n_in, layer as u64);
            let refs: Vec<&[u32]> = sets.iter().map(Vec::as_slice).collect();
            let mut scratch = m.scratch();
            // Stale values from an earlier call must not leak in.
            let mut together = vec![f32::NAN; sets.len() * n];
            m.spike_inputs(layer, &refs[..3], &mut together, &mut scratch);
            m.spike_inputs(layer, &refs, &mut together, &mut scratch);
            let mut rng = xbar_snn::stream_rng(0, 0);
            for (k, set) in refs.iter().enumerate() {
                let mut alone = vec![f32::NAN; n];
                m.synaptic_input(
                    layer,
                    Presynaptic::Spikes(set),
                    &mut alone,
                    &mut scratch,
                    &mut rng,
                );
                let got = &together[k * n..(k + 1) * n];
                let same = got
                    .iter()
                    .zip(&alone)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    same,
                    "{text:?} layer {layer} set {k} ({} spikes)",
                    set.len()
                );
                // (Corner pixels may have all-zero weights.)
                if set.len() > 50 {
                    assert!(
                        alone.iter().any(|&x| x != 0.0),
                        "{text:?}: set {k} sums nothing"
                    );
                }
            }
        }
    }
}

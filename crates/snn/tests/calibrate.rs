//! Calibrated column-ADC ranges of the dense mapping (`adc.calibration`):
//! the percentile over a constructed network whose partial sums are known,
//! precedence of `adc.range`, seeding and thread independence on the real
//! network, and the keys' errors.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::path::Path;

use xbar_snn::calibrate::{self, AdcCalibration, DEFAULT_IMAGES, DEFAULT_PERCENTILE};
use xbar_snn::dense::DenseMapping;
use xbar_snn::mlp::ActivationScale;
use xbar_snn::mnist::{self, Dataset, Files};
use xbar_snn::model::{ModelLayer, SharedModel};
use xbar_snn::nonideal::{self, KeyError, Settings};
use xbar_snn::quant::FixedPoint;
use xbar_snn::trial::{self, Conversion, Images};
use xbar_snn::SnnError;

fn settings(text: &str) -> Settings {
    nonideal::from_table(&text.parse().unwrap(), "dense").unwrap()
}

/// A dense run of `test` with calibration images `train`.
fn run_dense(
    model: &SharedModel,
    test: &Dataset,
    train: &Dataset,
    s: &Settings,
    seed: u64,
) -> Result<trial::Run, SnnError> {
    let images = Images {
        test,
        train: Some(train),
    };
    trial::run(
        model,
        images,
        "dense",
        s,
        &Conversion::default(),
        seed,
        false,
    )
}

/// One layer of 4 inputs and 2 outputs with 16 distinct shared codes, so
/// that every synapse has its own weight.
fn four_by_two() -> SharedModel {
    let codes: Vec<i16> = (0..16).map(|k| (k - 7) * 300).collect();
    let format = FixedPoint { frac_bits: 12 };
    SharedModel {
        layers: vec![ModelLayer {
            n_in: 4,
            n_out: 2,
            format,
            values: codes.iter().map(|&c| format.decode(c)).collect(),
            codes,
            index: vec![15, 2, 11, 0, 4, 13, 9, 14],
            scale: ActivationScale {
                max: 2.0,
                percentile: 1.5,
            },
            percentile: 99.9,
        }],
    }
}

/// 2x2-pixel images whose intensities sweep every case: both tiles, one
/// tile or no tile active.
fn constructed_images(n: usize) -> Dataset {
    let mut images = Vec::with_capacity(4 * n);
    for k in 0..n {
        let p = |s: usize| ((k * 37 + s * 91) % 256) as u8;
        match k % 4 {
            0 => images.extend([p(0), p(1), p(2), p(3)]),
            1 => images.extend([p(0), 0, 0, 0]),
            2 => images.extend([0, 0, 0, p(3)]),
            _ => images.extend([0, 0, 0, 0]),
        }
    }
    Dataset {
        images,
        labels: vec![0; n],
        rows: 2,
        cols: 2,
    }
}

/// The `|partial sum|` of every read the converters of 2-row tiles make
/// over `data` at `steps` constant-input steps, formed as the dense
/// mapping forms them (ascending rows, `f32`); idle tiles are no reads.
fn expected_reads(w: &[f32], data: &Dataset, steps: usize) -> Vec<f64> {
    let mut reads = Vec::new();
    for k in 0..data.len() {
        let x: Vec<f32> = data.image(k).iter().map(|&p| p as f32 / 255.0).collect();
        for rows in [0..2, 2..4] {
            if rows.clone().all(|i| x[i] == 0.0) {
                continue;
            }
            for j in 0..2 {
                let mut p = 0.0f32;
                for i in rows.clone().filter(|&i| x[i] != 0.0) {
                    p += x[i] * w[i * 2 + j];
                }
                reads.extend(std::iter::repeat_n(p.abs() as f64, steps));
            }
        }
    }
    reads
}

#[test]
fn range_is_the_percentile_of_the_constructed_partial_sums() {
    let model = four_by_two();
    let train = constructed_images(203);
    let test = constructed_images(8);
    for p in [100.0, 99.0, 90.0, 50.0] {
        let s = settings(&format!(
            "crossbar.tile = 2\nadc.bits = 5\nadc.calibration = \"percentile\"\n\
             adc.percentile = {p:?}\nadc.calibration_images = 201\n\
             input.encoding = \"constant\"\ninput.timesteps = 3\n"
        ));
        let run = run_dense(&model, &test, &train, &s, 5).unwrap();
        let dense = run.dense.unwrap();
        let c = run.calibration.unwrap();
        let mut reads = expected_reads(dense.weights(0), &train.truncated(201), 3);
        // 201 images: 51 with both tiles, 50 + 50 with one, 50 with none;
        // 2 columns and 3 steps per active tile.
        assert_eq!(reads.len(), (51 * 2 + 100) * 2 * 3);
        assert_eq!(c.reads, vec![reads.len() as u64]);
        assert_eq!((c.images, c.percentile), (201, p));
        let want = xbar_periph::percentile_of(&mut reads, p);
        assert_eq!(c.ranges, vec![Some(want)], "p = {p}");
        assert_eq!(dense.adc(0).range(), want);
        assert_eq!(dense.adc(0).bits(), 5);
        // The largest read is far below the full-scale bound of 2 rows.
        let full = DenseMapping::new(
            &model,
            &settings("crossbar.tile = 2\nadc.bits = 5").hardware,
            5,
        )
        .unwrap()
        .adc(0)
        .range();
        assert!(want < 0.8 * full, "{want} vs full scale {full}");
    }
}

#[test]
fn explicit_range_is_kept_and_full_scale_stays_the_default() {
    let model = four_by_two();
    let train = constructed_images(40);
    let test = constructed_images(4);
    let run_with = |text: &str| run_dense(&model, &test, &train, &settings(text), 1).unwrap();
    let explicit = run_with("crossbar.tile = 2\nadc.bits = 4\nadc.range = 3.5e-5");
    assert!(explicit.calibration.is_none());
    let amps = explicit.dense.unwrap().adc_range_amps(0);
    assert!((amps / 3.5e-5 - 1.0).abs() < 1e-12, "{amps}");

    let full = run_with("crossbar.tile = 2\nadc.bits = 4");
    let by_default = full.dense.unwrap();
    let named = run_with("crossbar.tile = 2\nadc.bits = 4\nadc.calibration = \"full_scale\"");
    assert!(full.calibration.is_none() && named.calibration.is_none());
    assert_eq!(named.dense.unwrap().adc(0), by_default.adc(0));
    // Full scale is 2 rows of (G_hi - G_lo) at the read voltage: 2 x 100 uS x 0.2 V.
    let amps = by_default.adc_range_amps(0);
    assert!((amps / 4e-5 - 1.0).abs() < 1e-12, "{amps}");

    // A fixed range and a calibrated one contradict each other.
    let both =
        "crossbar.tile = 2\nadc.bits = 4\nadc.range = 3.5e-5\nadc.calibration = \"percentile\"";
    let e = nonideal::from_table(&both.parse().unwrap(), "dense")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("adc.range = 0.000035") && e.contains("contradict"),
        "{e}"
    );

    // Ideal converters have no range to calibrate: nothing runs.
    let ideal = run_with(
        "crossbar.tile = 2\nadc.calibration = \"percentile\"\nadc.calibration_images = 40",
    );
    assert!(ideal.calibration.is_none());
}

#[test]
fn calibration_needs_enough_training_images() {
    let model = four_by_two();
    let test = constructed_images(4);
    let s = settings("crossbar.tile = 2\nadc.bits = 4\nadc.calibration = \"percentile\"");
    let e = trial::run(&model, &test, "dense", &s, &Conversion::default(), 1, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("adc.calibration = \"percentile\" needs the MNIST training images"),
        "{e}"
    );
    let train = constructed_images(DEFAULT_IMAGES - 1);
    let e = run_dense(&model, &test, &train, &s, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("adc.calibration_images = 500, but only 499 training images"),
        "{e}"
    );
}

fn shipped() -> SharedModel {
    SharedModel::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist_shared.xbm"))
        .unwrap()
}

/// The same seed gives the same ranges bit for bit on 1 and 2 threads; a
/// different seed (other input spike trains) gives other ranges.
#[test]
fn calibration_is_seeded_and_thread_independent() {
    let model = shipped();
    let train = mnist::load_dir(&mnist_dir(), &Files::standard())
        .unwrap()
        .train
        .truncated(12);
    let s = settings("adc.bits = 4\nadc.calibration = \"percentile\"\nadc.percentile = 99.9\ninput.timesteps = 6");
    let dense = DenseMapping::new(&model, &s.hardware, 3).unwrap();
    let measure = |threads: usize, seed: u64| {
        let (lif, config) = trial::configure(&model, &s, &Conversion::default(), seed);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| calibrate::measure(&dense, &lif, &train, &config, 99.9).unwrap())
    };
    let one = measure(1, 7);
    let two = measure(2, 7);
    assert_eq!((&one.ranges, &one.reads), (&two.ranges, &two.reads));
    assert!(one.ranges.iter().all(|r| r.is_some_and(|r| r > 0.0)));
    let other = measure(2, 8);
    assert_ne!(one.ranges, other.ranges);
    // Each layer's range is far below its full-scale range.
    for (l, r) in one.ranges.iter().enumerate() {
        let full = dense.adc(l).range();
        assert!(r.unwrap() < 0.5 * full, "layer {l}: {r:?} vs {full}");
    }
}

fn key_error(text: &str, mapping: &str) -> String {
    match nonideal::from_table(&text.parse().unwrap(), mapping) {
        Err(e @ KeyError::Value { .. }) | Err(e @ KeyError::NotModelled { .. }) => e.to_string(),
        other => panic!("{text}: expected a key error, got {other:?}"),
    }
}

#[test]
fn calibration_keys_have_defaults_and_reject_bad_values() {
    assert_eq!(
        settings("").hardware.adc_calibration,
        AdcCalibration::FullScale
    );
    assert_eq!(
        settings("adc.calibration = \"percentile\"")
            .hardware
            .adc_calibration,
        AdcCalibration::Percentile {
            percentile: DEFAULT_PERCENTILE,
            images: DEFAULT_IMAGES
        }
    );
    assert_eq!(
        settings("[adc]\ncalibration = \"percentile\"\npercentile = 99.5\ncalibration_images = 64")
            .hardware
            .adc_calibration,
        AdcCalibration::Percentile {
            percentile: 99.5,
            images: 64
        }
    );
    // Sweeping adc.calibration over both modes with one base table.
    assert_eq!(
        settings("adc.calibration = \"full_scale\"\nadc.percentile = 99.5")
            .hardware
            .adc_calibration,
        AdcCalibration::FullScale
    );
    let cases = [
        (
            "adc.calibration = \"auto\"",
            "must be \"full_scale\" or \"percentile\"",
        ),
        (
            "adc.calibration = 1",
            "must be \"full_scale\" or \"percentile\"",
        ),
        ("adc.percentile = nan", "must be a percentile in (0, 100]"),
        ("adc.percentile = 0", "must be a percentile in (0, 100]"),
        ("adc.percentile = -5", "must be a percentile in (0, 100]"),
        ("adc.percentile = 100.5", "must be a percentile in (0, 100]"),
        (
            "adc.percentile = \"99\"",
            "must be a percentile in (0, 100]",
        ),
        (
            "adc.calibration_images = 0",
            "must be an integer from 1 to 60000",
        ),
        (
            "adc.calibration_images = 60001",
            "must be an integer from 1 to 60000",
        ),
        (
            "adc.calibration_images = 2.5",
            "must be an integer from 1 to 60000",
        ),
    ];
    for (text, why) in cases {
        let key = text.split(' ').next().unwrap();
        let table = if key == "adc.calibration" {
            text.to_string()
        } else {
            format!("adc.calibration = \"percentile\"\n{text}")
        };
        let e = key_error(&table, "dense");
        assert!(e.contains(key) && e.contains(why), "{text}: {e}");
    }
    let e = key_error("adc.percentile = 99.9", "dense");
    assert!(
        e.contains("adc.percentile = 99.9") && e.contains("only used with adc.calibration"),
        "{e}"
    );
    let e = key_error("adc.calibration_images = 100", "dense");
    assert!(e.contains("adc.calibration_images = 100"), "{e}");
    let e = key_error("adc.calibration = \"percentile\"", "shared");
    assert!(
        e.contains("adc.calibration") && e.contains("--mapping shared"),
        "{e}"
    );
    let e = key_error("adc.calibration = \"percentile\"", "ideal");
    assert!(
        e.contains("adc.calibration") && e.contains("does not model"),
        "{e}"
    );
}

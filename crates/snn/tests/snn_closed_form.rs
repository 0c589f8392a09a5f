//! The SNN against closed forms: exact spike counts of integrate-and-fire
//! chains, ANN/SNN rate agreement, determinism across thread counts.

use xbar_snn::mnist::Dataset;
use xbar_snn::snn::{
    self, lif_step, Encoding, IdealMapping, LifParams, Mapping, Presynaptic, Reset, SnnConfig,
};
use xbar_snn::stream_rng;

/// A data set of one 1 x `n` "image" per row of `pixels`.
fn images(pixels: &[&[u8]]) -> Dataset {
    Dataset {
        images: pixels.concat(),
        labels: vec![0; pixels.len()],
        rows: 1,
        cols: pixels[0].len(),
    }
}

fn lif(v_th: f32, reset: Reset) -> LifParams {
    LifParams {
        v_th,
        v_leak: 0.0,
        v_reset: 0.0,
        reset,
        threshold_sigma: 0.0,
    }
}

/// `lif_step` with uniform thresholds `p.v_th`.
fn step(v: &mut [f32], input: &[f32], p: &LifParams, spikes: &mut Vec<u32>) {
    let theta = vec![p.v_th; v.len()];
    lif_step(v, input, &theta, p, spikes);
}

#[test]
fn lif_step_matches_the_paper_equation() {
    // V = 0.75 per step against V_th = 1: spikes at steps 2, 3, 4, 6, 7, 8
    // with subtraction (floor(0.75 t) increments), every 2nd step with reset
    // to zero.
    let mut fired = Vec::new();
    for reset in [Reset::Subtract, Reset::ToValue] {
        let mut v = vec![0.0f32];
        let mut steps = Vec::new();
        for t in 1..=8 {
            let mut s = Vec::new();
            step(&mut v, &[0.75], &lif(1.0, reset), &mut s);
            if !s.is_empty() {
                steps.push(t);
            }
        }
        fired.push(steps);
    }
    assert_eq!(fired[0], vec![2, 3, 4, 6, 7, 8]);
    assert_eq!(fired[1], vec![2, 4, 6, 8]);
    // Leak: 0.75 - 0.25 = 0.5 net per step, fires every 2nd step.
    let mut v = vec![0.0f32];
    let mut s = Vec::new();
    let p = LifParams {
        v_leak: -0.25,
        ..lif(1.0, Reset::ToValue)
    };
    for _ in 0..8 {
        step(&mut v, &[0.75], &p, &mut s);
    }
    assert_eq!(s, vec![0; 4]);
}

#[test]
fn lif_step_is_the_periph_layer_bit_for_bit() {
    use rand::Rng;
    let mut rng = stream_rng(5, 0);
    for (reset, leak, v_reset) in [
        (Reset::ToValue, 0.0, 0.0),
        (Reset::ToValue, -0.013, 0.1),
        (Reset::Subtract, 0.007, 0.0),
    ] {
        let p = LifParams {
            v_leak: leak,
            v_reset,
            threshold_sigma: 0.2,
            ..lif(0.9, reset)
        };
        let n = 300;
        let mut layer = p.layer(n, 3).unwrap();
        let (mut v, mut flags, mut spikes) = (vec![0.0f32; n], vec![false; n], Vec::new());
        for _ in 0..60 {
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-0.2..0.6)).collect();
            layer.step(&x, &mut flags).unwrap();
            spikes.clear();
            lif_step(&mut v, &x, layer.thresholds(), &p, &mut spikes);
            let want: Vec<u32> = (0..n as u32).filter(|&j| flags[j as usize]).collect();
            assert_eq!(spikes, want);
            let same = v
                .iter()
                .zip(layer.potentials())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{reset:?}, leak {leak}");
        }
        assert!(layer.spike_counts().iter().sum::<u32>() > 100);
    }
}

#[test]
fn threshold_spread_is_relative_seeded_and_starts_from_rest() {
    let p = LifParams {
        threshold_sigma: 0.1,
        v_reset: 0.5,
        ..lif(2.0, Reset::ToValue)
    };
    let a = p.layer(20_000, 7).unwrap();
    assert_eq!(a.thresholds(), p.layer(20_000, 7).unwrap().thresholds());
    assert_ne!(a.thresholds(), p.layer(20_000, 8).unwrap().thresholds());
    let n = a.len() as f64;
    let mean = a.thresholds().iter().map(|&t| t as f64).sum::<f64>() / n;
    let var = a
        .thresholds()
        .iter()
        .map(|&t| (t as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    // sigma = 0.1 x V_th = 0.2; mean within 5 standard errors, sigma 3 %.
    assert!((mean - 2.0).abs() < 5.0 * 0.2 / n.sqrt(), "{mean}");
    assert!((var.sqrt() - 0.2).abs() < 0.006, "{}", var.sqrt());
    // The membrane starts at rest (0), not at the reset value.
    assert!(a.potentials().iter().all(|&v| v == 0.0));
    let uniform = lif(2.0, Reset::ToValue).layer(5, 7).unwrap();
    assert!(uniform.thresholds().iter().all(|&t| t == 2.0));
}

/// Non-negative weights, subtractive reset and constant input make every
/// count exact: `N_j = floor(sum_i w_ij N_i / V_th)` layer by layer, with
/// `N_i = T x_i` for the constant-current input.
#[test]
fn spike_counts_of_a_non_negative_network_are_floor_of_the_charge() {
    let sizes = vec![4, 3, 2];
    let codes = vec![
        vec![1, 2, 0, 3, 2, 1, 1, 1, 4, 0, 3, 2], // 4 x 3
        vec![2, 1, 1, 3, 3, 1],                   // 3 x 2
    ];
    let lsb = vec![0.25f32, 0.5];
    let mapping = IdealMapping::from_codes(sizes.clone(), codes.clone(), lsb.clone()).unwrap();
    // Each layer's largest charge per step (1.5 and 3) stays below its
    // threshold, so no charge is left over beyond one threshold at the end.
    let th = [1.75f32, 4.0];
    let params = [lif(th[0], Reset::Subtract), lif(th[1], Reset::Subtract)];
    // Intensities 0 and 1 are exact in f32, so every charge is exact.
    let pixels: [u8; 4] = [255, 0, 255, 255];
    let t = 40usize;
    let out = snn::infer(
        &mapping,
        &params,
        &images(&[&pixels]),
        &SnnConfig {
            timesteps: t,
            encoding: Encoding::Constant,
            seed: 0,
        },
        false,
    )
    .unwrap();
    // Layer 1 charge per step is sum_i x_i w_ij; over T steps, floor(T q / th).
    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let n1: Vec<u64> = (0..3)
        .map(|j| {
            let q: f64 = (0..4)
                .map(|i| x[i] * codes[0][i * 3 + j] as f64 * lsb[0] as f64)
                .sum();
            (t as f64 * q / th[0] as f64 + 1e-6).floor() as u64
        })
        .collect();
    let n2: Vec<u32> = (0..2)
        .map(|j| {
            let q: f64 = (0..3)
                .map(|i| n1[i] as f64 * codes[1][i * 2 + j] as f64 * lsb[1] as f64)
                .sum();
            (q / th[1] as f64).floor() as u32
        })
        .collect();
    assert_eq!(out.layer_spikes[1], n1.iter().sum::<u64>());
    assert_eq!(out.output_spikes, n2);
    assert_eq!(
        out.predictions[0] as usize,
        if n2[1] > n2[0] { 1 } else { 0 }
    );
    // Sanity of the hand computation: these are not trivial counts.
    assert_eq!(n1, vec![11, 34, 34]);
    assert_eq!(n2, vec![19, 18]);
}

/// ANN rates vs SNN rates: with subtractive reset the first layer's rate is
/// the normalised ANN activation to within 1/T, and the class agrees with
/// the ANN's on random networks.
#[test]
fn rates_track_normalised_ann_activations() {
    let sizes = vec![16, 12, 5];
    let mut rng = stream_rng(5, 0);
    use rand::Rng;
    let codes: Vec<Vec<i16>> = (0..2)
        .map(|l| {
            (0..sizes[l] * sizes[l + 1])
                .map(|_| rng.random_range(-40..=60))
                .collect()
        })
        .collect();
    let lsb = vec![1.0 / 64.0, 1.0 / 64.0];
    let mapping = IdealMapping::from_codes(sizes.clone(), codes.clone(), lsb.clone()).unwrap();
    let imgs: Vec<Vec<u8>> = (0..20)
        .map(|_| (0..16).map(|_| rng.random::<u8>()).collect())
        .collect();
    let refs: Vec<&[u8]> = imgs.iter().map(|v| v.as_slice()).collect();
    // ANN forward pass in f64 and its maximum activations as scales.
    let ann: Vec<(Vec<f64>, Vec<f64>)> = imgs
        .iter()
        .map(|img| {
            let x: Vec<f64> = img.iter().map(|&p| p as f64 / 255.0).collect();
            let h: Vec<f64> = (0..12)
                .map(|j| {
                    (0..16)
                        .map(|i| x[i] * codes[0][i * 12 + j] as f64 / 64.0)
                        .sum::<f64>()
                        .max(0.0)
                })
                .collect();
            let o: Vec<f64> = (0..5)
                .map(|j| {
                    (0..12)
                        .map(|i| h[i] * codes[1][i * 5 + j] as f64 / 64.0)
                        .sum::<f64>()
                })
                .collect();
            (h, o)
        })
        .collect();
    let l1 = ann
        .iter()
        .flat_map(|(h, _)| h.iter().copied())
        .fold(0.0, f64::max);
    let l2 = ann
        .iter()
        .flat_map(|(_, o)| o.iter().copied())
        .fold(0.0, f64::max);
    let params = [
        lif(l1 as f32, Reset::Subtract),
        lif((l2 / l1) as f32, Reset::Subtract),
    ];
    let t = 2000;
    let mut agree = 0;
    for (k, (h, o)) in ann.iter().enumerate() {
        let one = images(&[refs[k]]);
        let out = snn::infer(
            &mapping,
            &params,
            &one,
            &SnnConfig {
                timesteps: t,
                encoding: Encoding::Constant,
                seed: 0,
            },
            false,
        )
        .unwrap();
        // Total hidden spikes vs the ANN's normalised activations: each
        // neuron is within one spike of T a / lambda.
        let expected: f64 = h.iter().map(|a| t as f64 * a / l1).sum();
        assert!(
            (out.layer_spikes[1] as f64 - expected).abs() <= 12.0,
            "{} vs {expected}",
            out.layer_spikes[1]
        );
        let best = (0..5).fold(0, |b, j| if o[j] > o[b] { j } else { b });
        let margin = o[best]
            - o.iter()
                .enumerate()
                .filter(|&(j, _)| j != best)
                .map(|(_, &v)| v)
                .fold(f64::MIN, f64::max);
        if out.predictions[0] as usize == best {
            agree += 1;
        } else {
            assert!(
                margin / l2 < 0.02,
                "clear ANN winner {best} (margin {margin}) lost"
            );
        }
    }
    assert!(agree >= 18, "{agree}/20");
}

#[test]
fn output_ties_are_broken_by_membrane_potential() {
    // Two outputs get the same spike count; output 1 ends higher.
    let mapping = IdealMapping::from_codes(vec![1, 2], vec![vec![4, 5]], vec![0.25]).unwrap();
    // Charges 1.0 and 1.25 per step, threshold 2: after T = 3 steps both
    // fired once; V = 1.0 and 1.75.
    let out = snn::infer(
        &mapping,
        &[lif(2.0, Reset::Subtract)],
        &images(&[&[255]]),
        &SnnConfig {
            timesteps: 3,
            encoding: Encoding::Constant,
            seed: 0,
        },
        false,
    )
    .unwrap();
    assert_eq!(out.output_spikes, vec![1, 1]);
    assert_eq!(out.predictions, vec![1]);
}

#[test]
fn bernoulli_rates_match_intensities_and_are_thread_count_independent() {
    let mapping = IdealMapping::from_codes(vec![3, 1], vec![vec![1, 1, 1]], vec![1.0]).unwrap();
    let pixels: Vec<Vec<u8>> = (0..64).map(|i| vec![255, 64, (i * 4) as u8]).collect();
    let refs: Vec<&[u8]> = pixels.iter().map(|v| v.as_slice()).collect();
    let data = images(&refs);
    let config = SnnConfig {
        timesteps: 500,
        encoding: Encoding::Bernoulli,
        seed: 42,
    };
    let params = [lif(1e9, Reset::Subtract)];
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| snn::infer(&mapping, &params, &data, &config, false).unwrap())
    };
    let one = run(1);
    let two = run(3);
    assert_eq!(one.layer_spikes, two.layer_spikes);
    assert_eq!(one.output_spikes, two.output_spikes);
    // Expected input spikes: T * sum of p / 255 over all images.
    let expected: f64 = pixels
        .iter()
        .flatten()
        .map(|&p| p as f64 / 255.0)
        .sum::<f64>()
        * 500.0;
    let sd = (expected).sqrt();
    assert!(
        (one.layer_spikes[0] as f64 - expected).abs() < 4.0 * sd,
        "{} vs {expected}",
        one.layer_spikes[0]
    );
    // A pixel at 255 spikes every step.
    let mut rng = stream_rng(1, 1);
    let mut out = vec![0.0];
    let mut scratch = mapping.scratch();
    mapping.synaptic_input(
        0,
        Presynaptic::Spikes(&[0, 2]),
        &mut out,
        &mut scratch,
        &mut rng,
    );
    assert_eq!(out, vec![2.0]);
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mapping = IdealMapping::from_codes(vec![1, 1], vec![vec![1]], vec![1.0]).unwrap();
    let data = images(&[&[1]]);
    let ok = SnnConfig {
        timesteps: 4,
        encoding: Encoding::Constant,
        seed: 0,
    };
    let e = snn::infer(
        &mapping,
        &[lif(f32::NAN, Reset::Subtract)],
        &data,
        &ok,
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("V_th"), "{e}");
    let e = snn::infer(
        &mapping,
        &[lif(1.0, Reset::Subtract)],
        &data,
        &SnnConfig { timesteps: 0, ..ok },
        false,
    )
    .unwrap_err();
    assert_eq!(e, snn::SnnError::NoTimesteps);
    assert!(IdealMapping::from_codes(vec![2, 1], vec![vec![1]], vec![1.0]).is_err());
}

/// The ideal mapping without its linearity flag: every step is summed from
/// scratch instead of updated by the spikes that changed.
struct Summing(IdealMapping);

impl Mapping for Summing {
    type Scratch = <IdealMapping as Mapping>::Scratch;

    fn sizes(&self) -> &[usize] {
        self.0.sizes()
    }

    fn deterministic(&self) -> bool {
        true
    }

    fn scratch(&self) -> Self::Scratch {
        self.0.scratch()
    }

    fn synaptic_input(
        &self,
        layer: usize,
        pre: Presynaptic<'_>,
        out: &mut [f32],
        scratch: &mut Self::Scratch,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) {
        self.0.synaptic_input(layer, pre, out, scratch, rng)
    }
}

#[test]
fn incremental_updates_give_exactly_the_summed_result() {
    use rand::Rng;
    let sizes = vec![64, 48, 10];
    let mut rng = stream_rng(11, 0);
    let codes: Vec<Vec<i16>> = (0..2)
        .map(|l| {
            (0..sizes[l] * sizes[l + 1])
                .map(|_| rng.random_range(-3000..=3000))
                .collect()
        })
        .collect();
    let lsb = vec![1.0 / 4096.0, 1.0 / 2048.0];
    let ideal = IdealMapping::from_codes(sizes.clone(), codes, lsb).unwrap();
    // Mostly black-or-white pixels, as in MNIST, so many steps take the
    // incremental path.
    let imgs: Vec<Vec<u8>> = (0..30)
        .map(|_| {
            (0..64)
                .map(|_| [0u8, 0, 255, 255, 128][rng.random_range(0..5)])
                .collect()
        })
        .collect();
    let refs: Vec<&[u8]> = imgs.iter().map(|v| v.as_slice()).collect();
    let data = images(&refs);
    let params = [lif(0.2, Reset::ToValue), lif(0.3, Reset::Subtract)];
    let config = SnnConfig {
        timesteps: 50,
        encoding: Encoding::Bernoulli,
        seed: 4,
    };
    let fast = snn::infer(&ideal, &params, &data, &config, false).unwrap();
    let slow = snn::infer(&Summing(ideal.clone()), &params, &data, &config, false).unwrap();
    assert_eq!(fast.layer_spikes, slow.layer_spikes);
    assert_eq!(fast.output_spikes, slow.output_spikes);
    assert_eq!(fast.predictions, slow.predictions);
    assert!(
        fast.layer_spikes[1] > 0 && fast.layer_spikes[2] > 0,
        "{:?}",
        fast.layer_spikes
    );
}

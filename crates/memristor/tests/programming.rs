//! Pulse programming through the compact models.

use std::collections::BTreeMap;

use xbar_memristor::integrate::Tolerances;
use xbar_memristor::program::{
    levels, pulse_train, quantize, write_verify, ParamSpread, Population, Ramp, TargetSummary,
    WriteResult, WriteVerify,
};
use xbar_memristor::{from_card, stats};

fn lid_card(window: &str) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let words = [("model", "lid"), ("window", window)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let params = [
        ("ron", 100.0),
        ("roff", 16e3),
        ("d", 10e-9),
        ("uv", 1e-14),
        ("p", 10.0),
        ("x0", 0.1),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    (words, params)
}

/// Linear drift without window under constant V: `(R_off x - dR x^2/2)`
/// grows by `k V t`, so after n pulses of width w,
/// `x_n = (R_off - sqrt(R_off^2 - 2 dR (R_off x0 - dR x0^2/2 + k V n w)))/dR`.
#[test]
fn pulse_train_conductance_matches_closed_form() {
    let (w, p) = lid_card("none");
    let m = from_card(&w, &p).unwrap();
    let (v, width, x0) = (1.0, 1e-3, 0.1);
    let curve = pulse_train(m.as_ref(), x0, v, width, 50, 0.1, &Tolerances::default()).unwrap();
    assert_eq!(curve.len(), 51);
    let (roff, dr, k) = (16e3, 15900.0, 1e-14 * 100.0 / 1e-16);
    let c0 = roff * x0 - dr * x0 * x0 / 2.0;
    for pt in &curve {
        let c = c0 + k * v * width * pt.pulse as f64;
        let x = (roff - (roff * roff - 2.0 * dr * c).sqrt()) / dr;
        let g = 1.0 / (100.0 * x + roff * (1.0 - x));
        assert!(
            (pt.state - x).abs() < 1e-7,
            "pulse {}: {} vs {x}",
            pt.pulse,
            pt.state
        );
        assert!((pt.conductance / g - 1.0).abs() < 1e-6);
    }
    assert!(curve
        .windows(2)
        .all(|w| w[1].conductance > w[0].conductance));
}

fn wv(target: f64) -> WriteVerify {
    WriteVerify {
        target,
        tolerance: 0.02,
        max_pulses: 1000,
        increase: Ramp {
            start: 0.5,
            step: 0.1,
            stop: 2.0,
        },
        decrease: Ramp {
            start: -0.5,
            step: -0.1,
            stop: -2.0,
        },
        width: 1e-3,
        v_read: 0.1,
    }
}

#[test]
fn write_verify_reaches_target_within_tolerance() {
    let (w, p) = lid_card("biolek");
    let m = from_card(&w, &p).unwrap();
    let mut rng = stats::device_rng(0, stats::Stage::CycleToCycle, 0);
    for target in [1.0 / 8000.0, 1.0 / 2000.0, 1.0 / 500.0] {
        let r = write_verify(
            m.as_ref(),
            0.1,
            &wv(target),
            0.0,
            &mut rng,
            &Tolerances::default(),
        )
        .unwrap();
        assert!(r.converged, "target {target}: {r:?}");
        assert!((r.conductance / target - 1.0).abs() <= 0.02);
        assert!(r.pulses > 0 && r.pulses < 1000);
    }
    // An unreachable target (beyond 1/R_on) spends the whole budget.
    let r = write_verify(
        m.as_ref(),
        0.1,
        &wv(1.0 / 50.0),
        0.0,
        &mut rng,
        &Tolerances::default(),
    )
    .unwrap();
    assert!(!r.converged && r.pulses == 1000);
}

/// 200 devices with 10 % lognormal R_off spread and 20 % cycle-to-cycle noise:
/// every device converges, the achieved conductances lie within tolerance,
/// and the distribution is the same with 1 and 2 threads.
#[test]
fn write_verify_population_is_deterministic() {
    let (words, params) = lid_card("biolek");
    let pop = Population {
        words,
        params,
        spreads: vec![ParamSpread {
            name: "roff".into(),
            sigma: 0.1,
            lognormal: true,
        }],
    };
    let roffs: Vec<f64> = (0..200)
        .map(|k| 1.0 / pop.device(5, k).unwrap().read_conductance(0.1, 0.0))
        .collect();
    let logs: Vec<f64> = roffs.iter().map(|r| (r / 16e3).ln()).collect();
    let m = logs.iter().sum::<f64>() / 200.0;
    assert!(m.abs() < 4.0 * 0.1 / 200f64.sqrt(), "mean log spread {m}");
    let target = 1.0 / 2000.0;
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                pop.write_verify_all(200, 5, &wv(target), 0.2, &Tolerances::default())
                    .unwrap()
            })
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a, b);
    for r in &a {
        assert!(
            r.converged && (r.conductance / target - 1.0).abs() <= 0.02,
            "{r:?}"
        );
    }
    let pulses: Vec<usize> = a.iter().map(|r| r.pulses).collect();
    assert!(
        pulses.iter().min() < pulses.iter().max(),
        "spread shows in the pulse counts"
    );
}

#[test]
fn levels_and_quantisation() {
    let l = levels(1e-6, 16e-6, 16);
    assert_eq!(l.len(), 16);
    assert_eq!((l[0], l[15]), (1e-6, 16e-6));
    assert!((l[1] - 2e-6).abs() < 1e-18);
    assert_eq!(quantize(7.4e-6, 1e-6, 16e-6, 16), l[6]);
    assert_eq!(quantize(30e-6, 1e-6, 16e-6, 16), 16e-6);
    assert_eq!(quantize(0.0, 1e-6, 16e-6, 2), 1e-6);
    assert_eq!(quantize(9e-6, 1e-6, 16e-6, 2), 16e-6);
}

/// Normal spread on a model parameter: `koff (1 + 0.2 N)` over 2000 VTEAM
/// devices, mean and standard deviation within 4-sigma bounds; the parameter
/// must be in the card to be varied.
#[test]
fn normal_parameter_spread_statistics() {
    let words: BTreeMap<String, String> = [("model".to_string(), "vteam".to_string())].into();
    let params: BTreeMap<String, f64> = [("koff".to_string(), 5e-4)].into();
    let pop = Population {
        words,
        params,
        spreads: vec![ParamSpread {
            name: "koff".into(),
            sigma: 0.2,
            lognormal: false,
        }],
    };
    let n = 2000;
    // The bare OFF rate at 0.04 V is koff (0.04/0.02 - 1) = koff.
    let k: Vec<f64> = (0..n)
        .map(|i| pop.device(8, i).unwrap().state_rate(0.04, 1e-9))
        .collect();
    let mean = k.iter().sum::<f64>() / n as f64;
    let sd = (k.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let (mu, sigma) = (5e-4, 0.2 * 5e-4);
    assert!(
        (mean - mu).abs() < 4.0 * sigma / (n as f64).sqrt(),
        "mean {mean}"
    );
    assert!(
        (sd / sigma - 1.0).abs() < 4.0 / (2.0 * n as f64).sqrt(),
        "sd {sd}"
    );
    let missing = Population {
        spreads: vec![ParamSpread {
            name: "kon".into(),
            sigma: 0.1,
            lognormal: false,
        }],
        ..pop
    };
    assert!(missing
        .device(8, 0)
        .unwrap_err()
        .to_string()
        .contains("kon"));
}

/// Target-major layout: run `j * n + i` is device `i` (same drawn
/// parameters for every target) programmed to target `j`, and with one
/// target it is exactly `write_verify_all`.
#[test]
fn write_verify_targets_layout_and_summary() {
    let (words, params) = lid_card("biolek");
    let pop = Population {
        words,
        params,
        spreads: vec![ParamSpread {
            name: "roff".into(),
            sigma: 0.1,
            lognormal: true,
        }],
    };
    let tol = Tolerances::default();
    let targets = [1.0 / 4000.0, 1.0 / 1000.0];
    let runs = pop
        .write_verify_targets(&targets, 6, 11, &wv(0.0), 0.1, None, &tol)
        .unwrap();
    assert_eq!(runs.len(), 12);
    let first = pop
        .write_verify_all(6, 11, &wv(targets[0]), 0.1, &tol)
        .unwrap();
    assert_eq!(runs[..6], first[..]);
    for (k, r) in runs.iter().enumerate() {
        let t = targets[k / 6];
        assert!(
            r.converged && (r.conductance / t - 1.0).abs() <= 0.02,
            "{r:?}"
        );
    }
    // A fixed start state applies to every device; one outside the bounds is refused.
    let fixed = pop
        .write_verify_targets(&targets[..1], 2, 11, &wv(0.0), 0.0, Some(0.5), &tol)
        .unwrap();
    assert!(fixed.iter().all(|r| r.converged));
    let err = pop
        .write_verify_targets(&targets, 2, 11, &wv(0.0), 0.0, Some(1.5), &tol)
        .unwrap_err();
    assert!(err.to_string().contains("1.5"), "{err}");

    // Summary moments by hand: conductances 1, 2, 3, 6 uS -> mean 3 uS,
    // sample sd sqrt(14/3) uS; pulses 1, 3, 5, 7 -> 4 and sqrt(20/3).
    let make = |g: f64, pulses: usize, converged: bool| WriteResult {
        conductance: g,
        state: 0.0,
        pulses,
        converged,
    };
    let runs = [
        make(1e-6, 1, true),
        make(2e-6, 3, true),
        make(3e-6, 5, false),
        make(6e-6, 7, true),
    ];
    let s = TargetSummary::new(3e-6, &runs);
    assert_eq!((s.devices, s.converged, s.max_pulses), (4, 3, 7));
    assert_eq!(s.failure_rate, 0.25);
    assert!((s.mean_conductance - 3e-6).abs() < 1e-20);
    assert!((s.std_conductance - (14.0f64 / 3.0).sqrt() * 1e-6).abs() < 1e-18);
    assert_eq!(s.mean_pulses, 4.0);
    assert!((s.std_pulses - (20.0f64 / 3.0).sqrt()).abs() < 1e-12);
    let one = TargetSummary::new(1e-6, &runs[..1]);
    assert_eq!((one.std_conductance, one.std_pulses), (0.0, 0.0));
}

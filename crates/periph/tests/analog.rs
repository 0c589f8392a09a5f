//! The analog integrate-and-fire neuron against its continuous solution, an
//! independent RK4 integration, and its discrete-time equivalent.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbar_periph::{AnalogIfConfig, AnalogIfNeuron, LifLayer};

/// 1 pF, 1 uS: tau = 1 us.
fn leaky() -> AnalogIfConfig {
    AnalogIfConfig {
        c_mem: 1e-12,
        g_leak: 1e-6,
        e_leak: 0.0,
        v_th: 0.5,
        v_reset: 0.0,
        ..AnalogIfConfig::default()
    }
}

/// Time for `C dV/dt = I - g (V - E)` to climb from `v0` to `theta`, by
/// classical RK4 with a fixed step and linear interpolation of the crossing.
fn rk4_crossing(cfg: &AnalogIfConfig, i: f64, v0: f64, theta: f64, h: f64) -> f64 {
    let f = |v: f64| (i - cfg.g_leak * (v - cfg.e_leak)) / cfg.c_mem;
    let (mut t, mut v) = (0.0, v0);
    loop {
        let k1 = f(v);
        let k2 = f(v + 0.5 * h * k1);
        let k3 = f(v + 0.5 * h * k2);
        let k4 = f(v + h * k3);
        let next = v + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        if next >= theta {
            return t + h * (theta - v) / (next - v);
        }
        v = next;
        t += h;
        assert!(t < 1.0, "no crossing");
    }
}

#[test]
fn firing_period_is_tau_ln_ratio() {
    let cfg = leaky();
    let n = AnalogIfNeuron::new(&cfg, 0, 0).unwrap();
    // I = 1 uA: V_inf = 1 V = 2 theta, so T = tau ln 2.
    let t = n.firing_period(1e-6).unwrap();
    assert!((t - 1e-6 * std::f64::consts::LN_2).abs() < 1e-21, "{t}");
    // V_inf at or below threshold: never fires.
    assert_eq!(n.firing_period(0.5e-6), None);
    assert_eq!(n.firing_period(-1e-6), None);
    // Perfect integrator: T = C theta / I.
    let ideal = AnalogIfConfig {
        g_leak: 0.0,
        ..cfg.clone()
    };
    let n = AnalogIfNeuron::new(&ideal, 0, 0).unwrap();
    assert!((n.firing_period(2e-6).unwrap() - 1e-12 * 0.5 / 2e-6).abs() < 1e-21);
    assert_eq!(n.firing_period(0.0), None);
}

#[test]
fn firing_period_matches_rk4_integration() {
    let cases = [
        (leaky(), 1e-6),
        (leaky(), 0.51e-6), // barely above rheobase: long, log-sensitive period
        (
            AnalogIfConfig {
                e_leak: 0.1,
                v_reset: -0.2,
                comparator_offset: 0.03,
                t_refractory: 50e-9,
                ..leaky()
            },
            3e-6,
        ),
        (
            AnalogIfConfig {
                g_leak: 1e-9, // tau = 1 ms: nearly a perfect integrator
                ..leaky()
            },
            1e-6,
        ),
    ];
    for (cfg, i) in cases {
        let n = AnalogIfNeuron::new(&cfg, 0, 0).unwrap();
        let period = n.firing_period(i).unwrap();
        let crossing = period - cfg.t_refractory;
        let h = crossing / 20_000.0;
        let rk4 = rk4_crossing(&cfg, i, cfg.v_reset, cfg.threshold(), h);
        assert!(
            ((rk4 - crossing) / crossing).abs() < 1e-8,
            "I = {i}: rk4 {rk4} vs closed form {crossing}"
        );
    }
}

#[test]
fn exact_integration_spikes_at_multiples_of_the_period() {
    let cfg = AnalogIfConfig {
        t_refractory: 100e-9,
        ..leaky()
    };
    let mut n = AnalogIfNeuron::new(&cfg, 0, 0).unwrap();
    let i = 1.7e-6;
    let period = n.firing_period(i).unwrap();
    let crossing = period - 100e-9;
    // Random chunking of the same constant current must not matter.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut spikes = Vec::new();
    let total = 50e-6;
    while n.time() < total {
        let dt = rng.random_range(1e-9f64..400e-9).min(total - n.time());
        n.advance(i, dt, &mut spikes).unwrap();
    }
    // The first spike needs no refractory period before it.
    let expected = ((total - crossing) / period).floor() as usize + 1;
    assert_eq!(spikes.len(), expected);
    for (m, &t) in spikes.iter().enumerate() {
        let want = crossing + m as f64 * period;
        assert!((t - want).abs() < 1e-12 * total, "spike {m}: {t} vs {want}");
    }
}

#[test]
fn subthreshold_potential_follows_exponential() {
    let cfg = leaky();
    let mut n = AnalogIfNeuron::new(&cfg, 0, 0).unwrap();
    let mut spikes = Vec::new();
    // I = 0.4 uA: V_inf = 0.4 V < 0.5 V threshold.
    for _ in 0..10 {
        n.advance(0.4e-6, 0.3e-6, &mut spikes).unwrap();
    }
    assert!(spikes.is_empty());
    let want = 0.4 * (1.0 - (-3.0f64).exp());
    assert!((n.potential() - want).abs() < 1e-14, "{}", n.potential());
    // Then the current stops: decay towards e_leak = 0.
    n.advance(0.0, 2e-6, &mut spikes).unwrap();
    assert!((n.potential() - want * (-2.0f64).exp()).abs() < 1e-14);
}

#[test]
fn discrete_equivalent_samples_the_continuous_solution() {
    let cfg = AnalogIfConfig {
        e_leak: 0.05,
        v_th: 10.0, // no firing: compare trajectories
        ..leaky()
    };
    let dt = 37e-9;
    let d = cfg.discretise(dt).unwrap();
    let mut layer = LifLayer::new(&d.lif, 3, 0).unwrap();
    let currents = [0.2e-6, 1.0e-6, 2.5e-6];
    let input: Vec<f64> = currents.iter().map(|i| i * d.input_scale).collect();
    let mut spikes = [false; 3];
    for step in 1..=100 {
        layer.step(&input, &mut spikes).unwrap();
        let t = step as f64 * dt;
        for (k, &i) in currents.iter().enumerate() {
            let v_inf = cfg.e_leak + i / cfg.g_leak;
            let exact = v_inf * (1.0 - (-t / 1e-6).exp());
            let got = f64::from(layer.potentials()[k]);
            assert!(
                (got - exact).abs() < 1e-5 * v_inf,
                "step {step}: {got} vs {exact}"
            );
        }
    }
}

#[test]
fn discrete_equivalent_fires_at_the_first_sample_after_crossing() {
    for (t_ref_steps, dt) in [(0u32, 41e-9), (3, 41e-9), (0, 7e-9), (2, 150e-9)] {
        let cfg = AnalogIfConfig {
            t_refractory: t_ref_steps as f64 * dt,
            ..leaky()
        };
        let analog = AnalogIfNeuron::new(&cfg, 0, 0).unwrap();
        let i = 1.3e-6;
        let crossing = analog.firing_period(i).unwrap() - cfg.t_refractory;
        let k = (crossing / dt).ceil();
        assert!(
            (crossing / dt - k).abs() > 1e-3,
            "case sits on a step boundary"
        );
        let d = cfg.discretise(dt).unwrap();
        assert_eq!(d.lif.refractory, t_ref_steps);
        let mut layer = LifLayer::new(&d.lif, 1, 0).unwrap();
        let steps = 2000;
        let mut spikes = [false];
        for _ in 0..steps {
            layer.step(&[i * d.input_scale], &mut spikes).unwrap();
        }
        let period = k as usize + t_ref_steps as usize;
        assert_eq!(
            layer.spike_counts()[0] as usize,
            (steps + t_ref_steps as usize) / period,
            "dt = {dt}, refractory {t_ref_steps}"
        );
    }
}

#[test]
fn comparator_offsets_are_seeded_and_shared_with_the_discrete_layer() {
    let cfg = AnalogIfConfig {
        comparator_offset: 0.01,
        comparator_offset_sigma: 0.02,
        ..leaky()
    };
    let d = cfg.discretise(10e-9).unwrap();
    let layer = LifLayer::new(&d.lif, 50, 123).unwrap();
    for (k, &th) in layer.thresholds().iter().enumerate() {
        let n = AnalogIfNeuron::new(&cfg, 123, k).unwrap();
        assert_eq!(th, n.threshold() as f32);
        // The offset moves the period exactly as the closed form says.
        let v_inf = 1.0;
        let want = 1e-6 * (v_inf / (v_inf - n.threshold())).ln();
        assert!((n.firing_period(1e-6).unwrap() - want).abs() < 1e-18);
    }
    assert_ne!(layer.thresholds()[0], layer.thresholds()[1]);
}

#[test]
fn invalid_configurations_are_rejected() {
    let bad = [
        AnalogIfConfig {
            c_mem: 0.0,
            ..leaky()
        },
        AnalogIfConfig {
            g_leak: -1e-6,
            ..leaky()
        },
        AnalogIfConfig {
            v_th: -0.1,
            ..leaky()
        },
    ];
    for cfg in bad {
        assert!(AnalogIfNeuron::new(&cfg, 0, 0).is_err(), "{cfg:?}");
    }
    let off_grid = AnalogIfConfig {
        t_refractory: 25e-9,
        ..leaky()
    };
    let e = off_grid.discretise(10e-9).unwrap_err();
    assert!(e.to_string().contains("t_refractory"), "{e}");
    let mut n = AnalogIfNeuron::new(&leaky(), 0, 0).unwrap();
    assert!(n.advance(f64::NAN, 1e-9, &mut Vec::new()).is_err());
    assert!(n.advance(1e-6, -1e-9, &mut Vec::new()).is_err());
}

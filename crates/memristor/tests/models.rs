//! Each compact model against closed forms and published parameter sets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xbar_memristor::integrate::{hold, simulate, Drive, Tolerances};
use xbar_memristor::{from_card, load_model, CardError, CompactModel, LoadError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn card(
    words: &[(&str, &str)],
    params: &[(&str, f64)],
) -> Result<Box<dyn CompactModel>, CardError> {
    let w: BTreeMap<String, String> = words
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p: BTreeMap<String, f64> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    from_card(&w, &p)
}

fn tol() -> Tolerances {
    Tolerances::default()
}

/// Strukov et al. (Nature 2008), linear drift without window: with
/// `phi(t) = int v dt` the state follows the q-phi relation
/// `phi = R0 q - (R_off - R_on) k q^2 / 2`, `x = x0 + k q`, so
/// `i = v / sqrt(R0^2 - 2 dR k phi)` and `x = x0 + (R0 - sqrt(R0^2 - 2 dR k phi))/dR`.
#[test]
fn hp_linear_drift_follows_the_closed_form_pinched_loop() {
    let (ron, roff, d, uv, x0) = (100.0, 16e3, 10e-9, 1e-14, 0.5);
    let m = card(
        &[("model", "lid")],
        &[("ron", ron), ("roff", roff), ("d", d), ("uv", uv)],
    )
    .unwrap();
    let (v0, f) = (1.0, 2.0);
    let w = 2.0 * std::f64::consts::PI * f;
    let times: Vec<f64> = (0..=400).map(|k| k as f64 * 1.25e-3).collect();
    let out = simulate(
        m.as_ref(),
        &Drive::Sine {
            amplitude: v0,
            frequency: f,
        },
        x0,
        &times,
        &tol(),
    )
    .unwrap();
    let k = uv * ron / (d * d);
    let dr = roff - ron;
    let r0 = ron * x0 + roff * (1.0 - x0);
    let (mut i_peak, mut di_max, mut dx_max, mut x_max) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for s in &out {
        let phi = v0 / w * (1.0 - (w * s.t).cos());
        let m_t = (r0 * r0 - 2.0 * dr * k * phi).sqrt();
        let i = s.v / m_t;
        let x = x0 + (r0 - m_t) / dr;
        i_peak = i_peak.max(i.abs());
        x_max = x_max.max(x);
        di_max = di_max.max((s.i - i).abs());
        dx_max = dx_max.max((s.x - x).abs());
    }
    assert!(
        di_max / i_peak < 1e-5,
        "current off by {di_max} of {i_peak}"
    );
    assert!(dx_max < 1e-6, "state off by {dx_max}");
    // The loop is pinched (i = 0 whenever v = 0) and the memristance swings
    // visibly: x reaches 0.7697 from 0.5 at the end of the positive half wave.
    assert!((x_max - 0.7697).abs() < 1e-3, "x_max = {x_max}");
}

/// Joglekar's window vanishes at both bounds, so a device at x = 1 never
/// leaves it; Biolek's only stops motion towards the bound (Biolek 2009, Fig. 1).
#[test]
fn joglekar_sticks_at_the_bound_and_biolek_releases() {
    let params = [
        ("ron", 100.0),
        ("roff", 16e3),
        ("d", 10e-9),
        ("uv", 1e-14),
        ("p", 2.0),
    ];
    let jog = card(&[("model", "lid"), ("window", "joglekar")], &params).unwrap();
    let bio = card(&[("model", "lid"), ("window", "biolek")], &params).unwrap();
    assert_eq!(hold(jog.as_ref(), -1.0, 1.0, 0.1, &tol()).unwrap(), 1.0);
    let released = hold(bio.as_ref(), -1.0, 1.0, 0.1, &tol()).unwrap();
    assert!(released < 0.9, "Biolek state {released}");
    // Pushing further into the bound: no overshoot.
    assert_eq!(hold(bio.as_ref(), 1.0, 1.0, 0.1, &tol()).unwrap(), 1.0);
    // Driven hard from the middle it reaches the bound and stays exactly on it.
    let x = hold(bio.as_ref(), 5.0, 0.5, 1.0, &tol()).unwrap();
    assert!(x <= 1.0 && x > 0.999, "x = {x}");
}

/// Kvatinsky et al. 2015, eq. (1): above threshold the state moves at
/// `k_off (v/v_off - 1)^alpha_off`, so the OFF switching time of the linear,
/// windowless device is `(w_off - w_on) / (k_off (v/v_off - 1)^alpha_off)`,
/// and there is no motion at all between the thresholds.
#[test]
fn vteam_switching_time_follows_the_threshold_power_law() {
    let m = load_model(&root().join("models/vteam.toml")).unwrap();
    let (won, woff) = m.state_bounds();
    assert_eq!((won, woff), (0.0, 3e-9));
    for v in [0.1, 0.5, 1.0, 2.0] {
        let t_switch = (woff - won) / (5e-4 * (v / 0.02 - 1.0));
        let half = hold(m.as_ref(), v, won, 0.5 * t_switch, &tol()).unwrap();
        assert!(
            (half - 0.5 * woff).abs() < 1e-6 * woff,
            "v = {v}: w = {half}"
        );
        let late = hold(m.as_ref(), v, won, 1.001 * t_switch, &tol()).unwrap();
        assert_eq!(late, woff);
    }
    // 1 V: 3 nm / (0.5 mm/s * 49) = 122.4 ns.
    let t1: f64 = 3e-9 / (5e-4 * 49.0);
    assert!((t1 - 122.45e-9).abs() < 0.01e-9);
    // ON side: alpha_on = 3, k_on = -10 m/s: -1 V switches in 3 nm / 640 m/s.
    let t_on = 3e-9 / (10.0 * (1.0f64 / 0.2 - 1.0).powi(3));
    let half = hold(m.as_ref(), -1.0, woff, 0.5 * t_on, &tol()).unwrap();
    assert!((half - 0.5 * woff).abs() < 1e-6 * woff, "w = {half}");
    // Sub-threshold: 1 s at v_off - 1 mV or v_on + 1 mV changes nothing.
    assert_eq!(hold(m.as_ref(), 0.019, 1e-9, 1.0, &tol()).unwrap(), 1e-9);
    assert_eq!(hold(m.as_ref(), -0.199, 1e-9, 1.0, &tol()).unwrap(), 1e-9);
    // Linear R(w): 50 ohm ON, 1 kohm OFF, 525 ohm half way.
    assert!((1.0 / m.read_conductance(0.01, 1.5e-9) - 525.0).abs() < 1e-9);
}

/// Yakopcic et al. 2011 with the Oblea fit of its Table I: the state moves
/// only above |V| = Vp = 0.16 V / Vn = 0.15 V, at `Ap (e^V - e^Vp)` while
/// x < xp, and the current is `a1 x sinh(b V)`.
#[test]
fn yakopcic_oblea_fit_thresholds_and_rates() {
    let m = load_model(&root().join("models/yakopcic.toml")).unwrap();
    let x0 = m.default_state();
    assert_eq!(x0, 0.11);
    // Below both thresholds a sine leaves no hysteresis: I = a1 x0 sinh(b V).
    let times: Vec<f64> = (0..=200).map(|k| k as f64 * 1e-4).collect();
    let out = simulate(
        m.as_ref(),
        &Drive::Sine {
            amplitude: 0.149,
            frequency: 100.0,
        },
        x0,
        &times,
        &tol(),
    )
    .unwrap();
    for s in &out {
        assert_eq!(s.x, x0);
        assert!((s.i - 0.17 * x0 * (0.05 * s.v).sinh()).abs() <= 1e-18);
    }
    // Above threshold, from x0 < xp: dx/dt = 4000 (e^0.45 - e^0.16) = 1579.3 /s.
    let rate = 4000.0 * (0.45f64.exp() - 0.16f64.exp());
    assert!((rate - 1579.3).abs() < 0.1);
    let x = hold(m.as_ref(), 0.45, x0, 1e-5, &tol()).unwrap();
    assert!((x - (x0 + rate * 1e-5)).abs() < 1e-9, "x = {x}");
    // Past xp the motion decays as exp(-alphap (x - xp)) wp(x): at x = 0.65,
    // f = e^-0.35 * ((0.3 - 0.65)/0.7 + 1) = 0.3523.
    let f = m.state_rate(0.45, 0.65) / rate;
    assert!((f - (-0.35f64).exp() * 0.5).abs() < 1e-12, "f = {f}");
    // A 100 Hz, 0.45 V sine gives a pinched loop whose state rises on the
    // positive half wave and falls on the negative one (Oblea device loop).
    let times: Vec<f64> = (0..=1000).map(|k| k as f64 * 1e-5).collect();
    let out = simulate(
        m.as_ref(),
        &Drive::Sine {
            amplitude: 0.45,
            frequency: 100.0,
        },
        x0,
        &times,
        &tol(),
    )
    .unwrap();
    let x_half = out[500].x;
    assert!(x_half > 0.5, "state after the positive half wave: {x_half}");
    assert!(out[1000].x < x_half);
    for s in &out {
        if s.v.abs() < 1e-12 {
            assert!(s.i.abs() < 1e-12);
        }
    }
}

/// Stanford-PKU (Guan 2012, Jiang 2016) with the v1.0.0 parameters: the read
/// resistance ratio is `exp((g_max - g_min)/g0) = e^6`, the gap cannot move
/// below the minimum field `gamma |V| / tox = F_min`, and SET is abrupt
/// (a single pulse) while RESET is gradual (many pulses).
#[test]
fn stanford_pku_window_threshold_and_abrupt_set() {
    let m = load_model(&root().join("models/stanford_pku.toml")).unwrap();
    let (gmin, gmax) = m.state_bounds();
    let r_lrs = 1.0 / m.read_conductance(0.1, gmin);
    let r_hrs = 1.0 / m.read_conductance(0.1, gmax);
    assert!((r_hrs / r_lrs - 6f64.exp()).abs() < 1e-9 * 6f64.exp());
    // R_LRS = 0.1 V / (1 mA e^-0.8 sinh(0.4)) = 541.82 ohm.
    assert!((r_lrs - 541.82).abs() < 0.01, "R_LRS = {r_lrs}");
    // SET threshold from HRS: gamma = 16 - 0.8 * 1.7^3 = 12.070,
    // V = F_min tox / gamma = 1.392 V.
    let gamma = 16.0 - 0.8 * 1.7f64.powi(3);
    let v_th = 1.4e9 * 12e-9 / gamma;
    assert!((v_th - 1.392).abs() < 1e-3);
    assert_eq!(
        hold(m.as_ref(), v_th - 0.01, gmax, 1.0, &tol()).unwrap(),
        gmax
    );
    // SET: one 100 ns pulse at 2 V closes most of the gap.
    let after_set = hold(m.as_ref(), 2.0, gmax, 100e-9, &tol()).unwrap();
    assert!(
        after_set < gmin + 0.1 * (gmax - gmin),
        "gap after SET pulse {after_set}"
    );
    // RESET: 100 ns pulses at -1.2 V open the gap step by step.
    let mut g = gmin;
    let mut gaps = Vec::new();
    for _ in 0..20 {
        g = hold(m.as_ref(), -1.2, g, 100e-9, &tol()).unwrap();
        gaps.push(g);
    }
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]));
    assert!(
        gaps[0] < gmin + 0.5 * (gmax - gmin),
        "first RESET pulse already {}",
        gaps[0]
    );
    assert!(
        gaps[9] > gaps[0] + 0.5e-9,
        "RESET not progressing: {gaps:?}"
    );
    // It stops where the field drops to F_min: gamma(g) 1.2 V / tox = F_min,
    // g = g1 ((gamma0 - F_min tox / 1.2 V) / beta)^(1/3) = 2.5^(1/3) nm.
    let g_stop = 2.5f64.cbrt() * 1e-9;
    assert!((gaps[19] - g_stop).abs() < 1e-3 * g_stop, "{gaps:?}");
}

#[test]
fn cards_reject_bad_parameters_by_name() {
    let err = card(&[("model", "lid")], &[("ron", f64::NAN)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "ron"),
        "{err}"
    );
    let err = card(&[("model", "lid")], &[("ron", 100.0), ("roff", 50.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "roff"),
        "{err}"
    );
    let err = card(&[("model", "vteam")], &[("kon", 1.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "kon"),
        "{err}"
    );
    let err = card(&[("model", "lid")], &[("rof", 1e4)]).unwrap_err();
    assert!(
        matches!(&err, CardError::UnknownParameter(n) if n == "rof"),
        "{err}"
    );
    let err = card(&[("model", "lid"), ("window", "hann")], &[]).unwrap_err();
    assert!(matches!(&err, CardError::BadWord { .. }), "{err}");
    let err = card(&[("model", "mystery")], &[]).unwrap_err();
    assert!(
        matches!(&err, CardError::UnknownKind(k) if k == "mystery"),
        "{err}"
    );
    assert!(matches!(card(&[], &[]), Err(CardError::MissingKind)));
    let err = card(&[("model", "stanford_pku")], &[("x0", 5e-9)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "x0"),
        "{err}"
    );
}

#[test]
fn model_files_load_and_bad_files_name_the_problem() {
    for name in ["lid", "vteam", "yakopcic", "stanford_pku", "pershin", "mms"] {
        let m = load_model(&root().join(format!("models/{name}.toml"))).unwrap();
        assert_eq!(m.kind(), name);
        let (lo, hi) = m.state_bounds();
        assert!((lo..=hi).contains(&m.default_state()));
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "model = \"lid\"\nroff = -5.0\n").unwrap();
    let err = load_model(&bad).unwrap_err();
    assert!(
        matches!(&err, LoadError::Card { error: CardError::BadParameter { name, .. }, .. } if name == "roff")
    );
    assert!(err.to_string().contains("bad.toml"), "{err}");
    std::fs::write(&bad, "model = \"lid\"\nroff = [1, 2]\n").unwrap();
    assert!(matches!(load_model(&bad), Err(LoadError::BadValue { key, .. }) if key == "roff"));
    std::fs::write(&bad, "model = \"lid\"\nroff = \n").unwrap();
    assert!(matches!(load_model(&bad), Err(LoadError::Toml { .. })));
    assert!(matches!(
        load_model(&dir.path().join("missing.toml")),
        Err(LoadError::Io { .. })
    ));
}

/// The analytic derivatives agree with central differences.
#[test]
fn analytic_derivatives_match_finite_differences() {
    let models: Vec<Box<dyn CompactModel>> =
        ["lid", "vteam", "yakopcic", "stanford_pku", "pershin", "mms"]
            .iter()
            .map(|n| load_model(&root().join(format!("models/{n}.toml"))).unwrap())
            .collect();
    for m in &models {
        let (lo, hi) = m.state_bounds();
        let x = lo + 0.37 * (hi - lo);
        for v in [0.3, -0.4, 0.7] {
            let h = 1e-6;
            let di_dv = (m.current(v + h, x) - m.current(v - h, x)) / (2.0 * h);
            assert!(
                (m.conductance(v, x) - di_dv).abs() <= 1e-6 * di_dv.abs().max(1e-12),
                "{} dI/dV",
                m.kind()
            );
            let hx = 1e-6 * (hi - lo);
            let di_dx = (m.current(v, x + hx) - m.current(v, x - hx)) / (2.0 * hx);
            assert!(
                (m.current_dx(v, x) - di_dx).abs() <= 1e-5 * di_dx.abs().max(1e-12),
                "{} dI/dx",
                m.kind()
            );
        }
    }
}

/// Under a slow RESET ramp the Stanford-PKU gap slides along the
/// minimum-field boundary, `gamma(g) |V| / tox = F_min`, i.e.
/// `g*(V) = g1 ((gamma0 - F_min tox/|V|)/beta)^(1/3)`, until it reaches g_max;
/// the implicit fallback follows that discontinuity in a few hundred steps.
#[test]
fn stanford_pku_reset_slides_on_the_field_threshold_cheaply() {
    let m = load_model(&root().join("models/stanford_pku.toml")).unwrap();
    let (gmin, gmax) = m.state_bounds();
    let drive = Drive::Pwl(vec![(0.0, 0.0), (1e-3, -1.35)]);
    let times: Vec<f64> = (0..=100).map(|k| k as f64 * 1e-5).collect();
    let tight = Tolerances {
        max_steps: 5_000,
        ..tol()
    };
    let out = simulate(m.as_ref(), &drive, gmin, &times, &tight).unwrap();
    let mut checked = 0;
    for s in &out {
        // Below the LRS threshold (1.0504 V) g* < g_min: no motion at all.
        let g_star = (1e-9 * ((16.0 - 1.4e9 * 12e-9 / s.v.abs()) / 0.8).cbrt()).clamp(gmin, gmax);
        if g_star == gmin {
            assert_eq!(s.x, gmin, "v = {}", s.v);
        } else {
            assert!(
                (s.x - g_star).abs() < 1e-3 * g_star,
                "v = {}: gap {} vs {g_star}",
                s.v,
                s.x
            );
            checked += 1;
        }
    }
    assert!(checked > 15);
    // A full 2 V, 1 kHz sine (abrupt SET, RESET to g_max) also stays cheap.
    let times: Vec<f64> = (0..=1000).map(|k| k as f64 * 1e-6).collect();
    let sine = Drive::Sine {
        amplitude: 2.0,
        frequency: 1e3,
    };
    let out = simulate(
        m.as_ref(),
        &sine,
        gmax,
        &times,
        &Tolerances {
            max_steps: 20_000,
            ..tol()
        },
    )
    .unwrap();
    assert_eq!(out[500].x, gmin);
    assert_eq!(out[1000].x, gmax);
}

/// VTEAM options of the paper: exponential R(w) (eq. 6) gives the geometric
/// mean half way; Kvatinsky's window (eq. 4) scales the bare rate by
/// `exp(-exp((w - a_off)/w_c))` towards OFF and `exp(-exp(-(w - a_on)/w_c))` towards ON.
#[test]
fn vteam_exponential_resistance_and_kvatinsky_window() {
    let words = [
        ("model", "vteam"),
        ("rmodel", "exponential"),
        ("window", "kvatinsky"),
    ];
    let params = [("aon", 0.5e-9), ("aoff", 2.5e-9), ("wc", 0.1e-9)];
    let m = card(&words, &params).unwrap();
    let r = |w: f64| 1.0 / m.read_conductance(0.01, w);
    assert!((r(0.0) - 50.0).abs() < 1e-9 && (r(3e-9) - 1000.0).abs() < 1e-9);
    assert!((r(1.5e-9) - (50.0f64 * 1000.0).sqrt()).abs() < 1e-9);
    let bare_off = 5e-4 * (0.5 / 0.02 - 1.0);
    let bare_on = -10.0 * (-0.5f64 / -0.2 - 1.0).powi(3);
    for w in [0.2e-9f64, 1.5e-9, 2.4e-9, 2.9e-9] {
        let f_off = (-((w - 2.5e-9) / 0.1e-9).exp()).exp();
        let f_on = (-(-(w - 0.5e-9) / 0.1e-9).exp()).exp();
        assert!((m.state_rate(0.5, w) - bare_off * f_off).abs() <= 1e-12 * bare_off.abs());
        assert!((m.state_rate(-0.5, w) - bare_on * f_on).abs() <= 1e-12 * bare_on.abs());
    }
    // Past a_off the OFF motion dies out: at w = 2.9 nm it is below 1e-17 of bare.
    assert!(m.state_rate(0.5, 2.9e-9) < 1e-17 * bare_off);
}

/// Pershin & Di Ventra 2013, eqs. (1)-(3): above the threshold the
/// resistance moves at `beta (V - vt) + alpha vt`, below it at `alpha V`, so
/// under a constant voltage `R(t)` is a straight line until the bound the
/// drive points at, where it stays; reversing the drive releases it.
#[test]
fn pershin_resistance_ramps_at_the_threshold_rate_and_stops_at_its_bound() {
    let m = load_model(&root().join("models/pershin.toml")).unwrap();
    assert_eq!(m.state_bounds(), (1e3, 10e3));
    let (alpha, beta, vt) = (5e9, 2e12, 1.6);
    let m = card(
        &[("model", "pershin")],
        &[("alpha", alpha), ("beta", beta), ("vt", vt)],
    )
    .unwrap();
    // Above threshold: 3 V for 1 ns adds beta (3 - 1.6) + alpha 1.6 per second.
    let rate = beta * (3.0 - vt) + alpha * vt;
    let r = hold(m.as_ref(), 3.0, 5e3, 1e-9, &tol()).unwrap();
    assert!((r - (5e3 + rate * 1e-9)).abs() < 1e-6 * r, "R = {r}");
    let r = hold(m.as_ref(), -3.0, 5e3, 1e-9, &tol()).unwrap();
    assert!((r - (5e3 - rate * 1e-9)).abs() < 1e-6 * r, "R = {r}");
    // Below threshold only alpha acts: 1 V for 100 ns.
    let r = hold(m.as_ref(), 1.0, 5e3, 100e-9, &tol()).unwrap();
    assert!((r - (5e3 + alpha * 100e-9)).abs() < 1e-6 * r, "R = {r}");
    // Driven into R_off it stops there exactly, and leaves it when reversed.
    assert_eq!(hold(m.as_ref(), 3.0, 9e3, 10e-9, &tol()).unwrap(), 10e3);
    let r = hold(m.as_ref(), -3.0, 10e3, 1e-9, &tol()).unwrap();
    assert!((r - (10e3 - rate * 1e-9)).abs() < 1e-6 * r, "R = {r}");
    // I = V / R.
    assert_eq!(m.current(2.0, 4e3), 2.0 / 4e3);
}

/// Molter & Nugent 2016: under a constant voltage the mean switch population
/// relaxes exponentially, `x(t) = x_inf + (x0 - x_inf) exp(-t (P_on + P_off)/tau)`
/// with `x_inf = P_on / (P_on + P_off)`; the current is the weighted sum of the
/// switch current and the Schottky pair.
#[test]
fn mms_mean_population_relaxes_to_the_boltzmann_balance() {
    let m = load_model(&root().join("models/mms.toml")).unwrap();
    let vt = 1.380649e-23 * 300.15 / 1.602176634e-19;
    let logistic = |u: f64| 1.0 / (1.0 + (-u).exp());
    for v in [0.35, 0.27, 0.1, -0.3] {
        let p_on = logistic((v - 0.27) / vt);
        let p_off = 1.0 - logistic((v + 0.27) / vt);
        let x_inf = p_on / (p_on + p_off);
        let t = 0.7e-4 / (p_on + p_off).max(1e-3);
        let x0 = if x_inf > 0.5 { 0.05 } else { 0.95 };
        let x = hold(m.as_ref(), v, x0, t, &tol()).unwrap();
        let want = x_inf + (x0 - x_inf) * (-t * (p_on + p_off) / 1e-4).exp();
        assert!(
            (x - want).abs() < 1e-6,
            "v = {v}: x = {x}, closed form {want}"
        );
    }
    let (v, x): (f64, f64) = (0.3, 0.4);
    let switch = v * (x / 500.0 + (1.0 - x) / 1500.0);
    let schottky = 8e-4 * (4.0 * v).exp() - 8e-4 * (-4.0 * v).exp();
    let want = 0.8 * switch + 0.2 * schottky;
    assert!(
        (m.current(v, x) - want).abs() < 1e-15,
        "{}",
        m.current(v, x)
    );
    assert_eq!(m.current(0.0, 0.7), 0.0);
}

//! Transients against closed forms and against ngspice.

mod common;

use common::{interp, ngspice, Deck};
use xbar_netlist::{Analysis, Waveform};
use xbar_nodal::{run_analyses, AnalysisOutput};

fn col(out: &AnalysisOutput, name: &str) -> Vec<f64> {
    let k = out
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", out.columns));
    out.rows.iter().map(|r| r[k]).collect()
}

fn run(deck: &Deck) -> Vec<AnalysisOutput> {
    run_analyses(&deck.circuit).unwrap_or_else(|e| panic!("analysis failed: {e}"))
}

/// Largest deviation of `ys` from `f` at `ts`, relative to `peak`.
fn worst(ts: &[f64], ys: &[f64], f: impl Fn(f64) -> f64, peak: f64) -> f64 {
    ts.iter()
        .zip(ys)
        .map(|(&t, &y)| (y - f(t)).abs() / peak)
        .fold(0.0, f64::max)
}

/// Exact response of `v' = (u - v)/tau` to a piecewise-linear input given
/// by its corners, from `v(0) = v0`.
fn rc_pwl_exact(corners: &[(f64, f64)], tau: f64, v0: f64, t: f64) -> f64 {
    let mut v = v0;
    for w in corners.windows(2) {
        let ((t0, u0), (t1, u1)) = (w[0], w[1]);
        if t <= t0 {
            break;
        }
        let s = (u1 - u0) / (t1 - t0);
        let end = t.min(t1);
        let dt = end - t0;
        // v(t) = u(t) - s·tau + (v0 - u0 + s·tau)·exp(-(t - t0)/tau)
        v = u0 + s * dt - s * tau + (v - u0 + s * tau) * (-dt / tau).exp();
    }
    v
}

#[test]
fn rc_step_with_uic_follows_the_exponential() {
    let (r, c) = (1e3, 1e-6);
    let tau = r * c;
    for method in [1.0, 2.0] {
        let mut d = Deck::new();
        d.v("v1", "in", "0", 1.0)
            .r("r1", "in", "out", r)
            .c("c1", "out", "0", c, Some(0.0))
            .option("method", method)
            .tran(10e-6, 5e-3, true);
        let out = &run(&d)[0];
        assert_eq!(out.columns[0], "time");
        let t = col(out, "time");
        let v = col(out, "v(out)");
        assert!((t[t.len() - 1] - 5e-3).abs() < 1e-15, "must end at tstop");
        assert!(t.windows(2).all(|w| w[1] > w[0]), "time must increase");
        let err = worst(&t, &v, |t| 1.0 - (-t / tau).exp(), 1.0);
        eprintln!(
            "rc step, method {method}: worst {err:.2e} over {} points",
            t.len()
        );
        assert!(err < 1e-3, "method {method}: worst error {err}");
        // Capacitor current = -i(v1) ... the source delivers (1 - v)/R.
        let i = col(out, "i(v1)");
        for k in 1..t.len() {
            assert!((-i[k] - (1.0 - v[k]) / r).abs() < 1e-12);
        }
    }
}

#[test]
fn rc_pulse_matches_piecewise_exact_solution() {
    let (r, c) = (2e3, 0.5e-6);
    let tau = r * c;
    let w = Waveform::Pulse {
        v1: 0.0,
        v2: 2.0,
        td: Some(1e-3),
        tr: Some(10e-6),
        tf: Some(50e-6),
        pw: Some(2e-3),
        per: Some(5e-3),
    };
    let mut d = Deck::new();
    d.vw("v1", "in", "0", 0.0, w, "pulse(0 2 1m 10u 50u 2m 5m)")
        .r("r1", "in", "out", r)
        .c("c1", "out", "0", c, None)
        .tran(20e-6, 8e-3, false);
    let out = &run(&d)[0];
    let t = col(out, "time");
    let v = col(out, "v(out)");
    let corners = [
        (0.0, 0.0),
        (1e-3, 0.0),
        (1.01e-3, 2.0),
        (3.01e-3, 2.0),
        (3.06e-3, 0.0),
        (6e-3, 0.0),
        (6.01e-3, 2.0),
        (8e-3, 2.0),
    ];
    let err = worst(&t, &v, |x| rc_pwl_exact(&corners, tau, 0.0, x), 2.0);
    eprintln!("rc pulse: worst {err:.2e} of peak over {} points", t.len());
    assert!(err < 1e-3, "worst error {err} of peak");
    // Breakpoints are hit exactly.
    for bp in [1e-3, 1.01e-3, 3.01e-3, 3.06e-3, 6e-3, 6.01e-3] {
        assert!(
            t.iter().any(|&x| (x - bp).abs() < 1e-12),
            "missed breakpoint {bp}"
        );
    }
}

#[test]
fn rc_sine_matches_closed_form() {
    let (r, c, f, a) = (1e3, 1e-6, 500.0, 1.5);
    let tau = r * c;
    let w = Waveform::Sin {
        vo: 0.0,
        va: a,
        freq: Some(f),
        td: None,
        theta: None,
        phase: None,
    };
    let mut d = Deck::new();
    d.vw("v1", "in", "0", 0.0, w, "sin(0 1.5 500)")
        .r("r1", "in", "out", r)
        .c("c1", "out", "0", c, None)
        .tran(20e-6, 6e-3, false);
    let out = &run(&d)[0];
    let t = col(out, "time");
    let v = col(out, "v(out)");
    let wt = 2.0 * std::f64::consts::PI * f * tau;
    let exact = |t: f64| {
        let om = 2.0 * std::f64::consts::PI * f;
        a / (1.0 + wt * wt) * ((om * t).sin() - wt * (om * t).cos() + wt * (-t / tau).exp())
    };
    let peak = a / (1.0 + wt * wt).sqrt();
    let err = worst(&t, &v, exact, peak);
    eprintln!("rc sine: worst {err:.2e} of peak over {} points", t.len());
    assert!(err < 1e-3, "worst error {err} of peak");
}

#[test]
fn tstart_drops_rows_and_tmax_bounds_the_step() {
    let mut d = Deck::new();
    d.v("v1", "in", "0", 1.0)
        .r("r1", "in", "out", 1e3)
        .c("c1", "out", "0", 1e-6, Some(0.0));
    d.circuit.analyses.push(Analysis::Tran {
        tstep: 1e-4,
        tstop: 4e-3,
        tstart: 1e-3,
        tmax: Some(2e-5),
        uic: true,
    });
    let out = &run(&d)[0];
    let t = col(out, "time");
    assert!(t[0] >= 1e-3);
    assert!(t.windows(2).all(|w| w[1] - w[0] <= 2e-5 * (1.0 + 1e-9)));
}

/// An RC charging through a diode from a pulse, against ngspice at
/// ngspice's own time points (within 1e-3 of each vector's peak). With its
/// default step control ngspice itself is off by 1.2e-3 of the peak of
/// v(a) at the second pulse's corner (checked against a 0.05 µs tmax run),
/// so the deck bounds the step at 1 µs to make ngspice a reference.
#[test]
fn diode_rc_pulse_agrees_with_ngspice() {
    let w = Waveform::Pulse {
        v1: -1.0,
        v2: 3.0,
        td: Some(0.1e-3),
        tr: Some(20e-6),
        tf: Some(20e-6),
        pw: Some(0.4e-3),
        per: Some(1e-3),
    };
    let mut d = Deck::new();
    d.vw("v1", "in", "0", 0.0, w, "pulse(-1 3 0.1m 20u 20u 0.4m 1m)")
        .r("r1", "in", "a", 1e3)
        .d("d1", "a", "out", "dm")
        .c("c1", "out", "0", 1e-6, None)
        .r("rl", "out", "0", 2e3)
        .model("dm", "d", &[("is", 1e-14), ("cjo", 5e-12), ("tt", 1e-9)])
        .tran_max(10e-6, 2.5e-3, 1e-6);
    let ours = &run(&d)[0];
    let t = col(ours, "time");
    for answer in ngspice(&d.text(), "diode_rc_pulse_tran") {
        let raw = &answer.value;
        let ts = raw[0].col("time");
        for name in ["v(in)", "v(a)", "v(out)", "i(v1)"] {
            let theirs = raw[0].col(name);
            let mine = col(ours, name);
            let peak = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (k, (&tk, &yk)) in ts.iter().zip(&theirs).enumerate() {
                let y = interp(&t, &mine, tk);
                assert!(
                    (y - yk).abs() <= 1e-3 * peak,
                    "{name} at t = {tk:e} (#{k}): xbar {y} vs {} {yk}, peak {peak}",
                    answer.origin
                );
            }
        }
    }
}

/// `uic` starts from the capacitor's `ic` without an operating point and,
/// as in ngspice, without a t = 0 row; the first step is ngspice's
/// min(tstop/100, tstep)/10, cut tenfold again at the t = 0 breakpoint.
#[test]
fn uic_starts_from_ic_like_ngspice() {
    let mut d = Deck::new();
    d.v("v1", "in", "0", 1.0)
        .r("r1", "in", "out", 1e3)
        .c("c1", "out", "0", 1e-6, Some(0.2))
        .tran(10e-6, 50e-6, true);
    let out = &run(&d)[0];
    let t = col(out, "time");
    let v = col(out, "v(out)");
    assert!((t[0] - 5e-9).abs() < 1e-20, "first time point {}", t[0]);
    let exact = |t: f64| 1.0 - 0.8 * (-t / 1e-3).exp();
    assert!(worst(&t, &v, exact, 1.0) < 1e-6);
    for answer in ngspice(&d.text(), "uic_rc_tran") {
        let raw = &answer.value;
        let ts = raw[0].col("time");
        assert_eq!(ts[0], t[0], "{}", answer.origin);
        let theirs = raw[0].col("v(out)");
        for (&tk, &yk) in ts.iter().zip(&theirs) {
            let y = common::interp(&t, &v, tk);
            assert!(
                (y - yk).abs() < 1e-6,
                "t = {tk:e}: xbar {y} vs {} {yk}",
                answer.origin
            );
        }
    }
}

/// A 1T1R-style cell: NMOS access transistor switched by a gate pulse,
/// a resistor and a load capacitor, against ngspice (1e-3 of peak). With a
/// 20 ns tmax ngspice's own v(mid) is 5.6e-3 V off during the gate ramp
/// (against a 0.5 ns run) while xbar's is 2e-5 V off, so the deck bounds
/// the step at 2 ns to make ngspice a reference.
#[test]
fn nmos_switch_transient_agrees_with_ngspice() {
    let w = Waveform::Pulse {
        v1: 0.0,
        v2: 1.8,
        td: Some(1e-6),
        tr: Some(0.1e-6),
        tf: Some(0.1e-6),
        pw: Some(3e-6),
        per: Some(8e-6),
    };
    let mut d = Deck::new();
    d.v("vdd", "bl", "0", 1.2)
        .vw("vwl", "wl", "0", 0.0, w, "pulse(0 1.8 1u 0.1u 0.1u 3u 8u)")
        .r("rcell", "bl", "mid", 20e3)
        .m("m1", ["mid", "wl", "sl", "0"], "nm", 1e-6, 0.18e-6)
        .c("csl", "sl", "0", 50e-12, None)
        .r("rsl", "sl", "0", 100e3)
        .model(
            "nm",
            "nmos",
            &[
                ("vto", 0.45),
                ("kp", 2e-4),
                ("lambda", 0.05),
                ("gamma", 0.4),
            ],
        )
        .tran_max(50e-9, 12e-6, 2e-9);
    let ours = &run(&d)[0];
    let t = col(ours, "time");
    for answer in ngspice(&d.text(), "nmos_switch_tran") {
        let raw = &answer.value;
        let ts = raw[0].col("time");
        for name in ["v(mid)", "v(sl)", "i(vdd)"] {
            let theirs = raw[0].col(name);
            let mine = col(ours, name);
            let peak = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (&tk, &yk) in ts.iter().zip(&theirs) {
                let y = interp(&t, &mine, tk);
                assert!(
                    (y - yk).abs() <= 1e-3 * peak,
                    "{name} at t = {tk:e}: xbar {y} vs {} {yk}, peak {peak}",
                    answer.origin
                );
            }
        }
    }
}

/// `.tran 1e-30 1` would need 1e30 points: refused before any work, naming
/// the limit and the option that raises it; a lowered `maxpoints` stops a
/// run that outgrows it while stepping (52 admits the 50 steps of tmax but
/// not the small first steps ngspice's rules add).
#[test]
fn transients_beyond_the_point_limit_are_refused_with_the_limit() {
    let mut d = Deck::new();
    d.v("v1", "in", "0", 1.0)
        .r("r1", "in", "out", 1e3)
        .c("c1", "out", "0", 1e-6, None);
    d.circuit.analyses.push(Analysis::Tran {
        tstep: 1e-30,
        tstop: 1.0,
        tstart: 0.0,
        tmax: None,
        uic: false,
    });
    let err = run_analyses(&d.circuit).unwrap_err().to_string();
    assert!(
        err.contains("limit of 10000000") && err.contains("maxpoints"),
        "{err}"
    );
    let mut d = Deck::new();
    d.v("v1", "in", "0", 1.0)
        .r("r1", "in", "out", 1e3)
        .c("c1", "out", "0", 1e-6, None)
        .option("maxpoints", 52.0)
        .tran(1e-4, 5e-3, false);
    let err = run_analyses(&d.circuit).unwrap_err().to_string();
    assert!(err.contains("more than 52 by t = "), "{err}");
}

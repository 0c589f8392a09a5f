//! The YMEMRISTOR device on a linear-ion-drift model written here (the
//! memristor crate's models are tested there): DC freezes the state,
//! transients integrate it like a capacitor charge, bounds hold exactly.

mod common;

use std::collections::BTreeMap;

use common::Deck;
use xbar_memristor::CompactModel;
use xbar_netlist::{Model, SourceLoc, Waveform};
use xbar_nodal::{run_on, AnalysisOutput, NodalError, Simulator};

/// HP/Strukov linear ion drift with an optional Joglekar window:
/// `R(x) = Ron·x + Roff·(1-x)`, `dx/dt = k·I·f(x)`, `f = 1 - (2x-1)^(2p)`.
#[derive(Debug, Clone, Copy)]
struct Lid {
    ron: f64,
    roff: f64,
    k: f64,
    /// Joglekar exponent; `None` is no window at all.
    p: Option<i32>,
}

impl Lid {
    fn r(&self, x: f64) -> f64 {
        self.ron * x + self.roff * (1.0 - x)
    }

    fn window(&self, x: f64) -> f64 {
        self.p.map_or(1.0, |p| 1.0 - (2.0 * x - 1.0).powi(2 * p))
    }
}

impl CompactModel for Lid {
    fn kind(&self) -> &'static str {
        "lid"
    }
    fn current(&self, v: f64, x: f64) -> f64 {
        v / self.r(x)
    }
    fn state_rate(&self, v: f64, x: f64) -> f64 {
        self.k * self.current(v, x) * self.window(x)
    }
    fn state_bounds(&self) -> (f64, f64) {
        (0.0, 1.0)
    }
    fn default_state(&self) -> f64 {
        0.5
    }
    fn conductance(&self, _v: f64, x: f64) -> f64 {
        1.0 / self.r(x)
    }
    fn current_dx(&self, v: f64, x: f64) -> f64 {
        -v * (self.ron - self.roff) / (self.r(x) * self.r(x))
    }
}

const HP: Lid = Lid {
    ron: 100.0,
    roff: 16e3,
    k: 1e4,
    p: Some(2),
};

fn deck(model: Lid, drive: Option<(f64, f64)>, x0: f64) -> (Deck, Lid) {
    let mut d = Deck::new();
    match drive {
        Some((amp, freq)) => {
            let w = Waveform::Sin {
                vo: 0.0,
                va: amp,
                freq: Some(freq),
                td: None,
                theta: None,
                phase: None,
            };
            d.vw("v1", "in", "0", 0.0, w, "sin");
        }
        None => {
            d.v("v1", "in", "0", 0.5);
        }
    }
    d.y("y1", "in", "0", "mem", Some(x0));
    d.circuit.models.insert(
        "mem".into(),
        Model {
            name: "mem".into(),
            kind: "memristor".into(),
            params: BTreeMap::new(),
            words: BTreeMap::from([("model".to_string(), "lid".to_string())]),
            loc: SourceLoc::default(),
        },
    );
    (d, model)
}

fn simulate(d: &Deck, model: Lid) -> Result<Vec<AnalysisOutput>, NodalError> {
    let mut sim = Simulator::with_memristor_models(&d.circuit, &move |_| Ok(Box::new(model)))?;
    run_on(&mut sim, &d.circuit)
}

fn col(out: &AnalysisOutput, name: &str) -> Vec<f64> {
    let k = out
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", out.columns));
    out.rows.iter().map(|r| r[k]).collect()
}

/// RK4 reference of the state under `v(t) = amp·sin(2πft)`.
fn reference(m: Lid, amp: f64, freq: f64, x0: f64, tstop: f64, n: usize) -> Vec<(f64, f64)> {
    let v = |t: f64| amp * (2.0 * std::f64::consts::PI * freq * t).sin();
    let f = |t: f64, x: f64| m.state_rate(v(t), x);
    let h = tstop / n as f64;
    let mut out = Vec::with_capacity(n + 1);
    let (mut t, mut x) = (0.0, x0);
    out.push((t, x));
    for _ in 0..n {
        let k1 = f(t, x);
        let k2 = f(t + h / 2.0, x + h / 2.0 * k1);
        let k3 = f(t + h / 2.0, x + h / 2.0 * k2);
        let k4 = f(t + h, x + h * k3);
        x += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        t += h;
        out.push((t, x));
    }
    out
}

#[test]
fn dc_freezes_the_state_at_x0() {
    let (mut d, m) = deck(HP, None, 0.3);
    d.op();
    let out = &simulate(&d, m).unwrap_or_else(|e| panic!("{e}"))[0];
    assert_eq!(out.columns, vec!["v(in)", "i(v1)", "x(y1)", "i(y1)"]);
    assert_eq!(col(out, "x(y1)")[0], 0.3);
    let i = 0.5 / m.r(0.3);
    assert!((col(out, "i(y1)")[0] - i).abs() < 1e-15);
    assert!((col(out, "i(v1)")[0] + i).abs() < 1e-15);
}

#[test]
fn joglekar_sine_response_matches_rk4() {
    let (amp, freq, x0, tstop) = (1.0, 1.0, 0.1, 2.0);
    let (mut d, m) = deck(HP, Some((amp, freq)), x0);
    d.tran(1e-3, tstop, false);
    let out = &simulate(&d, m).unwrap_or_else(|e| panic!("{e}"))[0];
    let t = col(out, "time");
    let x = col(out, "x(y1)");
    let i = col(out, "i(y1)");
    let refx = reference(m, amp, freq, x0, tstop, 200_000);
    let (rt, rx): (Vec<f64>, Vec<f64>) = refx.into_iter().unzip();
    let xpeak = rx.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let ipeak = i.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let mut worst_x = 0.0f64;
    let mut worst_i = 0.0f64;
    for k in 0..t.len() {
        let xr = common::interp(&rt, &rx, t[k]);
        worst_x = worst_x.max((x[k] - xr).abs() / xpeak);
        let v = amp * (2.0 * std::f64::consts::PI * freq * t[k]).sin();
        worst_i = worst_i.max((i[k] - v / m.r(xr)).abs() / ipeak);
    }
    eprintln!(
        "memristor vs RK4: state {worst_x:.2e}, current {worst_i:.2e} of peak, {} points",
        t.len()
    );
    assert!(worst_x < 1e-3, "state off by {worst_x} of peak");
    assert!(worst_i < 1e-3, "current off by {worst_i} of peak");
    // The loop is pinched: the state moved noticeably.
    assert!(xpeak > 2.0 * x0);
}

#[test]
fn state_stays_in_bounds_and_leaves_the_bound_when_driven_back() {
    // No window: nothing in the model stops the state at 1.
    let hard = Lid { p: None, ..HP };
    let (mut d, m) = deck(hard, Some((3.0, 1.0)), 0.5);
    d.tran(1e-3, 1.0, false);
    let out = &simulate(&d, m).unwrap_or_else(|e| panic!("{e}"))[0];
    let t = col(out, "time");
    let x = col(out, "x(y1)");
    assert!(
        x.iter().all(|&v| (0.0..=1.0).contains(&v)),
        "state left [0, 1]"
    );
    assert!(x.contains(&1.0), "the drive must saturate the state");
    // After the voltage turns negative (t > 0.5 s) the state comes off 1.
    let last = x[x.len() - 1];
    assert!(last < 0.99, "state stuck at the bound: {last}");
    let k = t.iter().position(|&v| v > 0.75).unwrap_or(0);
    assert!(x[k] < 1.0);
}

#[test]
fn x0_outside_bounds_is_an_error_naming_the_element() {
    let (mut d, m) = deck(HP, None, 1.5);
    d.op();
    let msg = simulate(&d, m)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("y1") && msg.contains("x0"), "{msg}");
}

#[test]
fn unknown_memristor_model_kind_is_reported_with_the_element() {
    let (mut d, _) = deck(HP, None, 0.5);
    d.circuit
        .models
        .get_mut("mem")
        .map(|m| m.words.insert("model".into(), "nonsense".into()));
    d.op();
    let msg = xbar_nodal::run_analyses(&d.circuit)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("y1") && msg.contains("mem"), "{msg}");
}

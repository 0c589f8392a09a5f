//! Newton path for nonlinear cells against (1) an independent dense
//! Newton-Raphson MNA solve written here, with each diode selector as an
//! explicit junction behind an internal node, and (2) ngspice on the same
//! circuit (live when ngspice is on PATH, otherwise its committed answer).

mod dense_reference;
use dense_reference::gauss;
#[path = "../../../tests/support/ngspice.rs"]
mod spice;
use std::sync::Arc;

use xbar_memristor::CompactModel;
use xbar_nodal::crossbar::{
    AccessTransistor, CellIv, Conductances, Crossbar, CrossbarError, DiodeSelectorCell, LinearCell,
    MemristorCell, NewtonOptions, Parasitics, RowMode,
};

const IS: f64 = 1e-9;
const N: f64 = 1.5;
/// ngspice's thermal voltage at 27 °C (its CONSTboltz, CHARGE and REFTEMP).
const VT: f64 = 1.38064852e-23 * 300.15 / 1.6021766208e-19;

fn case(rows: usize, cols: usize) -> (Vec<f64>, Vec<f64>) {
    let g = (0..rows * cols)
        .map(|k| 1e-6 + 1e-4 * (((k * 7919) % 101) as f64 / 100.0))
        .collect();
    let v = (0..rows)
        .map(|i| 0.4 + 0.5 * ((i * 37 % 11) as f64 / 10.0))
        .collect();
    (g, v)
}

/// Independent solve: every physical node kept, the cell as R (row node to
/// internal node) then diode (internal node to column node), ideal
/// elements as voltage sources; damped Newton with dense elimination.
fn reference(g: &[f64], v: &[f64], rows: usize, cols: usize, par: Parasitics) -> Vec<f64> {
    let r = |i: usize, j: usize| i * cols + j;
    let c = |i: usize, j: usize| rows * cols + i * cols + j;
    let d = |i: usize, j: usize| 2 * rows * cols + i * cols + j;
    let nodes = 3 * rows * cols;
    let mut res: Vec<(usize, Option<usize>, f64)> = Vec::new();
    let mut src: Vec<(usize, Option<usize>, f64)> = Vec::new();
    let mut drive: Vec<(usize, f64)> = Vec::new();
    for i in 0..rows {
        if par.r_driver > 0.0 {
            res.push((r(i, 0), None, 1.0 / par.r_driver));
            drive.push((r(i, 0), v[i] / par.r_driver));
        } else {
            src.push((r(i, 0), None, v[i]));
        }
        for j in 0..cols {
            res.push((r(i, j), Some(d(i, j)), g[i * cols + j]));
            if j + 1 < cols {
                res.push((r(i, j), Some(r(i, j + 1)), 1.0 / par.r_row));
            }
            if i + 1 < rows {
                res.push((c(i, j), Some(c(i + 1, j)), 1.0 / par.r_col));
            }
        }
    }
    let mut sense = Vec::new();
    for j in 0..cols {
        if par.r_sense > 0.0 {
            res.push((c(rows - 1, j), None, 1.0 / par.r_sense));
        } else {
            sense.push(src.len());
            src.push((c(rows - 1, j), None, 0.0));
        }
    }
    let dim = nodes + src.len();
    let nvt = N * VT;
    let mut x = vec![0.0; dim];
    for _ in 0..500 {
        let mut a = vec![vec![0.0; dim]; dim];
        let mut b = vec![0.0; dim];
        for &(p, q, gv) in &res {
            a[p][p] += gv;
            if let Some(q) = q {
                a[q][q] += gv;
                a[p][q] -= gv;
                a[q][p] -= gv;
            }
        }
        for &(p, cur) in &drive {
            b[p] += cur;
        }
        for (s, &(p, _, value)) in src.iter().enumerate() {
            a[p][nodes + s] += 1.0;
            a[nodes + s][p] += 1.0;
            b[nodes + s] = value;
        }
        for i in 0..rows {
            for j in 0..cols {
                let (p, q) = (d(i, j), c(i, j));
                let vd = x[p] - x[q];
                let gd = IS * (vd / nvt).exp() / nvt;
                let id = IS * (vd / nvt).exp_m1();
                let ieq = id - gd * vd;
                a[p][p] += gd;
                a[q][q] += gd;
                a[p][q] -= gd;
                a[q][p] -= gd;
                b[p] -= ieq;
                b[q] += ieq;
            }
        }
        let xn = gauss(a, b);
        let step = xn
            .iter()
            .zip(&x)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
        let scale = if step > 0.05 { 0.05 / step } else { 1.0 };
        for (xi, xv) in x.iter_mut().zip(&xn) {
            *xi += scale * (xv - *xi);
        }
        if step < 1e-15 {
            break;
        }
    }
    (0..cols)
        .map(|j| {
            if par.r_sense > 0.0 {
                x[c(rows - 1, j)] / par.r_sense
            } else {
                x[nodes + sense[j]]
            }
        })
        .collect()
}

fn diode_cells(g: &[f64]) -> Vec<DiodeSelectorCell> {
    g.iter()
        .map(|&g| DiodeSelectorCell {
            g,
            is: IS,
            n: N,
            vt: VT,
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: column count");
    let scale = want.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    for (j, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rel * scale,
            "{what}: column {j}: got {a:e}, want {b:e}"
        );
    }
}

/// Every parasitic non-zero and different, so a swapped row/column or
/// driver/sense term shows up.
const ALL_PARASITICS: Parasitics = Parasitics {
    r_row: 2.0,
    r_col: 3.0,
    r_driver: 50.0,
    r_sense: 40.0,
};

#[test]
fn diode_selectors_match_independent_newton() {
    let (rows, cols) = (5, 4);
    let (g, v) = case(rows, cols);
    let full = ALL_PARASITICS;
    for par in [
        full,
        Parasitics {
            r_driver: 0.0,
            r_sense: 0.0,
            ..full
        },
    ] {
        let want = reference(&g, &v, rows, cols, par);
        let xbar = Crossbar::new(rows, cols, par).unwrap();
        let s = xbar
            .solve_nonlinear(&diode_cells(&g), &v, NewtonOptions::default())
            .unwrap();
        assert_close("diode crossbar", &s.solution.column_currents, &want, 1e-9);
        assert!(
            s.iterations >= 2 && s.iterations < 60,
            "{} iterations",
            s.iterations
        );
        // With driver and sense resistance the cells see less than their
        // read voltage, and the diodes' knee makes the chord model visibly wrong.
        if par == full {
            assert!(s.max_relative_difference() > 1e-3);
        }
        let out: f64 = s.solution.column_currents.iter().sum();
        let drawn: f64 = s.solution.driver_currents.iter().sum();
        assert!((out - drawn).abs() <= 1e-10 * out.abs());
    }
}

#[test]
fn linear_cells_through_newton_equal_the_linear_solve() {
    let (rows, cols) = (4, 6);
    let (g, v) = case(rows, cols);
    let par = Parasitics {
        r_row: 1.0,
        r_col: 1.0,
        r_driver: 10.0,
        r_sense: 10.0,
    };
    let xbar = Crossbar::new(rows, cols, par).unwrap();
    let cells: Vec<LinearCell> = g.iter().map(|&g| LinearCell(g)).collect();
    let s = xbar
        .solve_nonlinear(&cells, &v, NewtonOptions::default())
        .unwrap();
    let gm = Conductances::new(rows, cols, g).unwrap();
    let lin = xbar.factor(&gm).unwrap().column_currents(&v).unwrap();
    assert_close("linear newton", &s.solution.column_currents, &lin, 1e-12);
    assert!(s.iterations <= 2);
    assert!(s.max_relative_difference() < 1e-12);
}

/// A sinh memristor I-V (`I = x·a·sinh(b·v)`) plugged in through the
/// device-model interface, against the same I-V written as a closure cell.
#[derive(Debug)]
struct SinhModel;

impl CompactModel for SinhModel {
    fn kind(&self) -> &'static str {
        "sinh-test"
    }
    fn current(&self, v: f64, x: f64) -> f64 {
        x * 1e-4 * (3.0 * v).sinh()
    }
    fn state_rate(&self, _v: f64, _x: f64) -> f64 {
        0.0
    }
    fn state_bounds(&self) -> (f64, f64) {
        (0.0, 1.0)
    }
    fn default_state(&self) -> f64 {
        0.5
    }
}

struct SinhByHand(f64);

impl CellIv for SinhByHand {
    fn current(&self, v: f64) -> f64 {
        self.0 * 1e-4 * (3.0 * v).sinh()
    }
    fn conductance(&self, v: f64) -> f64 {
        self.0 * 3e-4 * (3.0 * v).cosh()
    }
}

#[test]
fn memristor_models_plug_in() {
    let (rows, cols) = (6, 5);
    let (_, v) = case(rows, cols);
    let states: Vec<f64> = (0..rows * cols)
        .map(|k| 0.1 + 0.8 * (k % 7) as f64 / 6.0)
        .collect();
    let model: Arc<dyn CompactModel> = Arc::new(SinhModel);
    let cells: Vec<MemristorCell> = states
        .iter()
        .map(|&x| MemristorCell {
            model: model.clone(),
            state: x,
        })
        .collect();
    let by_hand: Vec<SinhByHand> = states.iter().map(|&x| SinhByHand(x)).collect();
    let par = Parasitics {
        r_row: 5.0,
        r_col: 5.0,
        r_driver: 20.0,
        r_sense: 20.0,
    };
    let xbar = Crossbar::new(rows, cols, par).unwrap();
    let a = xbar
        .solve_nonlinear(&cells, &v, NewtonOptions::default())
        .unwrap();
    let b = xbar
        .solve_nonlinear(&by_hand, &v, NewtonOptions::default())
        .unwrap();
    // The model's finite-difference dI/dV only changes the Newton path.
    assert_close(
        "model vs hand",
        &a.solution.column_currents,
        &b.solution.column_currents,
        1e-10,
    );
    // Self-consistency: every cell current is the I-V at its solved voltage.
    for (k, cell) in by_hand.iter().enumerate() {
        let vc = b.solution.row_voltages[k] - b.solution.col_voltages[k];
        assert!((b.solution.cell_currents[k] - cell.current(vc)).abs() < 1e-18);
    }
}

fn ngspice_deck(g: &[f64], v: &[f64], rows: usize, cols: usize, par: Parasitics) -> String {
    let mut s = String::from(
        "* diode-selector crossbar\n.options reltol=1e-12 abstol=1e-20 vntol=1e-15 gmin=1e-30\n",
    );
    s += &format!(".model dsel d(is={IS:e} n={N:e})\n");
    for i in 0..rows {
        s += &format!(
            "vin{i} in{i} 0 dc {:e}\nrdrv{i} in{i} r{i}_0 {:e}\n",
            v[i], par.r_driver
        );
        for j in 0..cols {
            s += &format!("rc{i}_{j} r{i}_{j} d{i}_{j} {:e}\n", 1.0 / g[i * cols + j]);
            s += &format!("dd{i}_{j} d{i}_{j} c{i}_{j} dsel\n");
            if j + 1 < cols {
                s += &format!("rr{i}_{j} r{i}_{j} r{i}_{} {:e}\n", j + 1, par.r_row);
            }
            if i + 1 < rows {
                s += &format!("rk{i}_{j} c{i}_{j} c{}_{j} {:e}\n", i + 1, par.r_col);
            }
        }
    }
    for j in 0..cols {
        s += &format!(
            "rs{j} c{}_{j} vg{j} {:e}\nvamm{j} vg{j} 0 dc 0\n",
            rows - 1,
            par.r_sense
        );
    }
    s += ".op\n.save";
    for j in 0..cols {
        s += &format!(" i(vamm{j})");
    }
    s + "\n.end\n"
}

fn raw_values(raw: &str) -> Vec<f64> {
    let at = raw.find("\nValues:").expect("values");
    raw[at + 8..]
        .split_whitespace()
        .filter(|t| t.contains('.'))
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn diode_selectors_match_ngspice() {
    let (rows, cols) = (5, 4);
    let (g, v) = case(rows, cols);
    let par = Parasitics {
        r_row: 2.0,
        r_col: 3.0,
        r_driver: 50.0,
        r_sense: 40.0,
    };
    let deck = ngspice_deck(&g, &v, rows, cols, par);
    let xbar = Crossbar::new(rows, cols, par).unwrap();
    let s = xbar
        .solve_nonlinear(&diode_cells(&g), &v, NewtonOptions::default())
        .unwrap();
    for answer in spice::answers_in_file(
        "tests/golden/ngspice/nodal/diode_selector_crossbar_5x4.raw",
        |program| spice::run_raw(program, &deck),
    ) {
        let spice = raw_values(&answer.value);
        assert_close(&answer.origin, &s.solution.column_currents, &spice, 1e-9);
    }
}

/// The same diode-selector crossbar written as a netlist and run by the
/// general nodal engine (`xbar sim`'s `run_analyses`).
#[test]
fn diode_selectors_match_general_engine() {
    let (rows, cols) = (5, 4);
    let (g, v) = case(rows, cols);
    let par = Parasitics {
        r_row: 2.0,
        r_col: 3.0,
        r_driver: 50.0,
        r_sense: 40.0,
    };
    let deck = ngspice_deck(&g, &v, rows, cols, par);
    let circuit = xbar_netlist::parse_str(&deck, std::path::Path::new("diode.cir")).unwrap();
    let outputs = xbar_nodal::run_analyses(&circuit).unwrap();
    let op = outputs
        .iter()
        .find(|o| o.kind == xbar_nodal::AnalysisKind::Op)
        .expect("operating point");
    let engine: Vec<f64> = (0..cols)
        .map(|j| {
            let name = format!("i(vamm{j})");
            let at = op
                .columns
                .iter()
                .position(|c| *c == name)
                .expect("ammeter current");
            op.rows[0][at]
        })
        .collect();
    let xbar = Crossbar::new(rows, cols, par).unwrap();
    let s = xbar
        .solve_nonlinear(&diode_cells(&g), &v, NewtonOptions::default())
        .unwrap();
    assert_close("general engine", &s.solution.column_currents, &engine, 1e-9);
}

// ---- 1T1R cells with a level-1 NMOS access transistor per cell ----

/// ngspice's default `gmin` across every MOSFET bulk junction.
const GMIN: f64 = 1e-12;

fn nmos(spec: &str) -> AccessTransistor {
    AccessTransistor::parse(spec).unwrap()
}

fn linear_cells(g: &[f64]) -> Vec<LinearCell> {
    g.iter().map(|&g| LinearCell(g)).collect()
}

/// One cell, ideal wires: the transistor's source sits on the virtual
/// ground, so `V_gs = V_g`, `V_ds = V_m` and the series pair solves by hand.
/// `is=1e-30` leaves `gmin` as the only junction current (`gmin·V_m`).
#[test]
fn one_cell_saturated_and_triode_by_hand() {
    let (g, beta, vt) = (1e-4, 1e-4 * 1e-6 / 100e-9, 0.7);
    let xbar = Crossbar::new(1, 1, Parasitics::IDEAL).unwrap();

    // Saturation: I = β/2 (V_g - V_T)² (1 + λ V_m) = G (V - V_m) - gmin V_m.
    let (v, vg, lambda) = (1.0, 1.0, 0.02);
    let t = nmos("vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02 is=1e-30");
    let i0 = 0.5 * beta * (vg - vt) * (vg - vt);
    let vm = (g * v - i0) / (g + i0 * lambda + GMIN);
    let want = i0 * (1.0 + lambda * vm);
    assert!(vm > vg - vt, "saturated: V_ds {vm} > V_gs - V_T");
    let s = xbar
        .solve_1t1r(&[LinearCell(g)], &t, &[vg], &[v], NewtonOptions::default())
        .unwrap();
    let got = s.solution.column_currents[0];
    assert!((got - want).abs() <= 1e-12 * want, "{got:e} vs {want:e}");
    assert!((s.internal_voltages[0] - vm).abs() <= 1e-12);
    assert!(s.iterations > 2 && s.iterations < 40, "{}", s.iterations);
    // The cell carries the channel current plus the junction's gmin·V_m.
    let cell = s.solution.cell_currents[0];
    assert!((cell - (want + GMIN * vm)).abs() <= 1e-12 * want);

    // Triode (λ = 0): β V_d (V_ov - V_d/2) = G (V - V_d) - gmin V_d.
    let (v, vg) = (0.3, 2.5);
    let t = nmos("vto=0.7 kp=1e-4 w=1u l=100n is=1e-30");
    let ov = vg - vt;
    let b = beta * ov + g + GMIN;
    let vd = (b - (b * b - 2.0 * beta * g * v).sqrt()) / beta;
    let want = beta * vd * (ov - 0.5 * vd);
    assert!(vd < ov, "triode");
    let s = xbar
        .solve_1t1r(&[LinearCell(g)], &t, &[vg], &[v], NewtonOptions::default())
        .unwrap();
    let got = s.solution.column_currents[0];
    assert!((got - want).abs() <= 1e-12 * want, "{got:e} vs {want:e}");
    // The linear model treats the transistor as an ideal switch: G·V.
    assert!((s.linear_column_currents[0] - g * v).abs() <= 1e-15 * g * v);
    assert!(s.max_relative_difference() > 0.04);
}

/// Gate at 0 V (below VTO): the row's cells are cut off. Level 1 has no
/// subthreshold current, so only junction leakage (pA) flows, and the row's
/// input no longer reaches the columns.
#[test]
fn gate_off_rows_isolate_their_cells() {
    let (rows, cols) = (3, 4);
    let (g, _) = case(rows, cols);
    let par = Parasitics {
        r_row: 2.0,
        r_col: 3.0,
        r_driver: 50.0,
        r_sense: 40.0,
    };
    let t = nmos("vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02");
    let xbar = Crossbar::new(rows, cols, par).unwrap();
    let gates = [1.8, 0.0, 1.8];
    let solve = |v1: f64| {
        xbar.solve_1t1r(
            &linear_cells(&g),
            &t,
            &gates,
            &[0.6, v1, 0.4],
            NewtonOptions::default(),
        )
        .unwrap()
    };
    let (a, b) = (solve(0.9), solve(0.0));
    let scale = a
        .solution
        .column_currents
        .iter()
        .fold(0.0f64, |s, x| s.max(x.abs()));
    assert!(scale > 1e-5);
    for j in 0..cols {
        let off = a.solution.cell_currents[cols + j];
        assert!(off.abs() < 2e-12, "off cell (1,{j}) carries {off:e} A");
        let on = a.solution.cell_currents[j];
        assert!(on > 1e-7, "on cell (0,{j}) carries {on:e} A");
        let moved = (a.solution.column_currents[j] - b.solution.column_currents[j]).abs();
        assert!(moved <= 1e-9 * scale, "column {j} moved {moved:e} A");
    }
    // A floating unselected row is isolated too (its nodes hang on the
    // transistors' junction gmin alone).
    let floating = Crossbar::with_row_modes(
        rows,
        cols,
        par,
        vec![RowMode::Driven, RowMode::Floating, RowMode::Driven],
    )
    .unwrap();
    let f = floating
        .solve_1t1r(
            &linear_cells(&g),
            &t,
            &gates,
            &[0.6, 0.9, 0.4],
            NewtonOptions::default(),
        )
        .unwrap();
    assert_close(
        "floating off row",
        &f.solution.column_currents,
        &b.solution.column_currents,
        1e-9,
    );
    // The linear model opens the gated-off row too.
    let lin = xbar
        .factor(
            &Conductances::from_fn(
                rows,
                cols,
                |i, j| if i == 1 { 0.0 } else { g[i * cols + j] },
            )
            .unwrap(),
        )
        .unwrap()
        .column_currents(&[0.6, 0.9, 0.4])
        .unwrap();
    assert_close("chord model", &a.linear_column_currents, &lin, 1e-12);
}

fn mosfet_case() -> (usize, usize, Vec<f64>, Vec<f64>, Vec<f64>, AccessTransistor) {
    let (rows, cols) = (4, 3);
    let (g, _) = case(rows, cols);
    // A negative input drives its transistors with drain and source swapped.
    let v = vec![0.8, -0.2, 0.5, 0.6];
    // Row 2 unselected; the others in triode and saturation.
    let gates = vec![1.8, 1.2, 0.0, 2.5];
    let t = nmos("vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02 gamma=0.4 phi=0.7");
    (rows, cols, g, v, gates, t)
}

/// The 1T1R crossbar written by `write_spice_deck_1t1r`, run by the
/// general nodal engine (`xbar sim`'s path): its column currents and the
/// Newton iterations its operating point took.
fn engine_1t1r(
    xbar: &Crossbar,
    g: &[f64],
    v: &[f64],
    t: &AccessTransistor,
    gates: &[f64],
) -> (Vec<f64>, usize) {
    let (rows, cols) = (v.len(), g.len() / v.len());
    let gm = Conductances::new(rows, cols, g.to_vec()).unwrap();
    let mut deck = Vec::new();
    xbar.write_spice_deck_1t1r(&mut deck, &gm, v, t, gates)
        .unwrap();
    let deck = String::from_utf8(deck).unwrap();
    assert!(deck.contains(".model xbar_access nmos level=1"), "{deck}");
    assert!(deck.contains("mcell2_1 m2_1 wl2 "), "{deck}");
    let circuit = xbar_netlist::parse_str(&deck, std::path::Path::new("1t1r.cir")).unwrap();
    let mut sim = xbar_nodal::Simulator::new(&circuit).unwrap();
    let outputs = xbar_nodal::run_on(&mut sim, &circuit).unwrap();
    let op = outputs
        .iter()
        .find(|o| o.kind == xbar_nodal::AnalysisKind::Op)
        .expect("operating point");
    let currents = (0..cols)
        .map(|j| {
            let name = format!("i(vamm{j})");
            let at = op.columns.iter().position(|c| *c == name).unwrap();
            op.rows[0][at]
        })
        .collect();
    (currents, sim.newton_iterations())
}

#[test]
fn mosfet_1t1r_matches_general_engine() {
    let (rows, cols, g, v, gates, t) = mosfet_case();
    let full = ALL_PARASITICS;
    for par in [
        full,
        Parasitics {
            r_driver: 0.0,
            r_sense: 0.0,
            ..full
        },
        Parasitics::IDEAL,
    ] {
        let xbar = Crossbar::new(rows, cols, par).unwrap();
        let (engine, _) = engine_1t1r(&xbar, &g, &v, &t, &gates);
        let s = xbar
            .solve_1t1r(&linear_cells(&g), &t, &gates, &v, NewtonOptions::default())
            .unwrap();
        assert_close("1T1R vs engine", &s.solution.column_currents, &engine, 1e-9);
        assert!(s.iterations < 60, "{} iterations", s.iterations);
        // Current in = current out + junction leakage (pA) into the body.
        let out: f64 = s.solution.column_currents.iter().sum();
        let drawn: f64 = s.solution.driver_currents.iter().sum();
        assert!((out - drawn).abs() < 1e-10, "{out:e} vs {drawn:e}");
        // Transistor drop: the ideal-switch model is visibly off.
        assert!(s.max_relative_difference() > 1e-2);
    }
}

/// The emitted deck's own tolerances (reltol 1e-12, vntol 1e-15, abstol
/// 1e-20) on a 16 x 16 array of transistors, some of whose cells carry tens
/// of nA: a stop that also demanded each transistor's linearized current
/// change be below `reltol·|I| + abstol` never came, since
/// that change is then below what the rounding of the node voltages allows.
/// The solver stops as the engine does (node test, no limiting) and needs
/// no more iterations than the engine on the same circuit.
#[test]
fn tight_tolerance_1t1r_array_converges_like_the_engine() {
    let k = 16;
    let par = Parasitics {
        r_row: 1.0,
        r_col: 1.0,
        r_driver: 10.0,
        r_sense: 10.0,
    };
    let g: Vec<f64> = (0..k * k)
        .map(|c| 1e-6 + (1e-4 - 1e-6) * (((c / k) * 5 + (c % k) * 3) % 11) as f64 / 10.0)
        .collect();
    let v: Vec<f64> = (0..k)
        .map(|i| 0.04 + 0.42 * ((i * 7) % k) as f64 / (k - 1) as f64)
        .collect();
    let gates = vec![1.8; k];
    let t = nmos("vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02");
    let xbar = Crossbar::new(k, k, par).unwrap();
    let (engine, engine_iterations) = engine_1t1r(&xbar, &g, &v, &t, &gates);
    let s = xbar
        .solve_1t1r(
            &linear_cells(&g),
            &t,
            &gates,
            &v,
            NewtonOptions {
                rel_tol: 1e-12,
                abs_tol: 1e-15,
                current_abs_tol: 1e-20,
                ..NewtonOptions::default()
            },
        )
        .unwrap();
    assert_close(
        "tight 1T1R vs engine",
        &s.solution.column_currents,
        &engine,
        1e-9,
    );
    assert!(
        s.iterations <= engine_iterations,
        "{} iterations, engine {engine_iterations}",
        s.iterations
    );
}

#[test]
fn mosfet_1t1r_bad_input_is_a_typed_error() {
    let (rows, cols, g, v, _, t) = mosfet_case();
    let xbar = Crossbar::new(rows, cols, Parasitics::IDEAL).unwrap();
    let cells = linear_cells(&g);
    let o = NewtonOptions::default();
    let e = xbar
        .solve_1t1r(&cells, &t, &[1.0, f64::NAN, 1.0, 1.0], &v, o)
        .unwrap_err();
    assert!(
        matches!(e, CrossbarError::InvalidGateVoltage { row: 1, value } if value.is_nan()),
        "{e}"
    );
    assert!(e.to_string().contains("gate voltage of row 1"), "{e}");
    let e = xbar.solve_1t1r(&cells, &t, &[1.0; 3], &v, o).unwrap_err();
    assert!(
        matches!(
            e,
            CrossbarError::SizeMismatch {
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e}"
    );
    for (spec, needle) in [
        ("kp=-1e-4", "`kp`"),
        ("vto=0.7 foo=1", "`foo`"),
        ("w=0 l=1u", "w = 0"),
        ("vto=abc", "`abc` is not a number"),
        ("vto", "name=value"),
        ("lambda=-0.1", "`lambda`"),
        ("rd=10", "`rd`"),
        ("vto=0.5 vto=0.6", "twice"),
    ] {
        let e = AccessTransistor::parse(spec).unwrap_err();
        assert!(matches!(e, CrossbarError::InvalidTransistor(_)), "{spec}");
        assert!(e.to_string().contains(needle), "{spec}: {e}");
    }
    // A Newton budget too small to converge names a cell.
    let e = xbar
        .solve_1t1r(
            &cells,
            &t,
            &[2.0; 4],
            &v,
            NewtonOptions {
                max_iterations: 2,
                ..o
            },
        )
        .unwrap_err();
    assert!(
        matches!(e, CrossbarError::AccessNoConvergence { iterations: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("between cell ("), "{e}");
}

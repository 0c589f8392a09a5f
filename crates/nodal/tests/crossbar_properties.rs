//! Physical laws every crossbar solution must obey, on random small arrays
//! with random (possibly zero) parasitics: current conservation, passivity
//! (maximum principle, non-negative power and effective matrix) and
//! monotonicity of the total current in any cell conductance.

use proptest::prelude::*;
use xbar_nodal::crossbar::{Conductances, Crossbar, Parasitics};

fn resistance(max: f64) -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.01..max]
}

fn case() -> impl Strategy<Value = (Parasitics, Conductances, Vec<f64>)> {
    (1usize..6, 1usize..6).prop_flat_map(|(n, m)| {
        (
            (
                resistance(10.0),
                resistance(10.0),
                resistance(500.0),
                resistance(500.0),
            ),
            proptest::collection::vec(1e-7..1e-3f64, n * m),
            proptest::collection::vec(-1.0..1.0f64, n),
        )
            .prop_map(move |((r_row, r_col, r_driver, r_sense), g, v)| {
                let par = Parasitics {
                    r_row,
                    r_col,
                    r_driver,
                    r_sense,
                };
                (par, Conductances::new(n, m, g).unwrap(), v)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn conservation_and_passivity((par, g, v) in case()) {
        let xbar = Crossbar::new(g.rows(), g.cols(), par).unwrap();
        let s = xbar.factor(&g).unwrap().solve(&v).unwrap();
        let out: f64 = s.column_currents.iter().sum();
        let drawn: f64 = s.driver_currents.iter().sum();
        let scale = s.driver_currents.iter().chain(&s.column_currents).fold(0.0f64, |a, x| a.max(x.abs()));
        prop_assert!((out - drawn).abs() <= 1e-10 * scale, "out {out:e} drawn {drawn:e}");
        // Maximum principle: no node outside the range of the sources and ground.
        let lo = v.iter().fold(0.0f64, |a, &x| a.min(x));
        let hi = v.iter().fold(0.0f64, |a, &x| a.max(x));
        let tol = 1e-12 * (hi - lo).max(1e-3);
        for x in s.row_voltages.iter().chain(&s.col_voltages) {
            prop_assert!(*x >= lo - tol && *x <= hi + tol, "node at {x} outside [{lo}, {hi}]");
        }
        // Power delivered by the sources equals the power dissipated in the cells
        // and wires, which is non-negative.
        let delivered: f64 = v.iter().zip(&s.driver_currents).map(|(a, b)| a * b).sum();
        let in_cells: f64 = (0..g.rows() * g.cols())
            .map(|k| s.cell_currents[k] * (s.row_voltages[k] - s.col_voltages[k]))
            .sum();
        prop_assert!(delivered >= -1e-15);
        prop_assert!(in_cells <= delivered * (1.0 + 1e-9) + 1e-18, "cells {in_cells:e} > delivered {delivered:e}");
    }

    #[test]
    fn effective_matrix_is_nonnegative_and_consistent((par, g, v) in case()) {
        let xbar = Crossbar::new(g.rows(), g.cols(), par).unwrap();
        let f = xbar.factor(&g).unwrap();
        let a = f.effective_matrix().unwrap();
        prop_assert!(a.data.iter().all(|&x| x >= 0.0), "negative transfer conductance");
        // A unit input on row i with the other rows grounded: every cell on
        // row i sees at most 1 V, so the columns together collect at most
        // the row's total conductance (the rest returns through other drivers).
        for i in 0..g.rows() {
            let collected: f64 = (0..g.cols()).map(|j| a.get(j, i)).sum();
            let row_g: f64 = (0..g.cols()).map(|j| g.get(i, j)).sum();
            prop_assert!(collected <= row_g * (1.0 + 1e-12), "row {i}: {collected:e} > {row_g:e}");
        }
        let direct = f.column_currents(&v).unwrap();
        let scale = direct.iter().fold(1e-30f64, |s, x| s.max(x.abs()));
        for (x, y) in a.apply(&v).iter().zip(&direct) {
            prop_assert!((x - y).abs() <= 1e-11 * scale);
        }
    }

    #[test]
    fn total_current_grows_with_any_conductance(
        (par, g, _) in case(),
        pick in any::<prop::sample::Index>(),
        factor in 1.01..100.0f64,
    ) {
        // All rows at one voltage: a two-terminal network, so by Rayleigh's
        // monotonicity law the total current cannot drop when a cell conducts more.
        let v = vec![0.5; g.rows()];
        let xbar = Crossbar::new(g.rows(), g.cols(), par).unwrap();
        let before: f64 = xbar.factor(&g).unwrap().column_currents(&v).unwrap().iter().sum();
        let k = pick.index(g.rows() * g.cols());
        let mut data = g.as_slice().to_vec();
        data[k] *= factor;
        let g2 = Conductances::new(g.rows(), g.cols(), data).unwrap();
        let after: f64 = xbar.factor(&g2).unwrap().column_currents(&v).unwrap().iter().sum();
        prop_assert!(after >= before * (1.0 - 1e-12), "before {before:e} after {after:e}");
    }
}

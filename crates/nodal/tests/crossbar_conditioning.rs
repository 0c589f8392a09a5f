//! `Crossbar::kcl_residual` tells a meaningful solution from a meaningless
//! one: issue 20's 2x2 array of equal cells G on 1 Ω wires, inputs 0.1 and
//! 0.2 V, whose column 1 tends to 0.25 A as G grows (every cell a short).

use xbar_nodal::crossbar::{Conductances, Crossbar, IterativeOptions, Parasitics};

fn two_by_two(g: f64) -> (Crossbar, Conductances, Vec<f64>) {
    let par = Parasitics {
        r_row: 1.0,
        r_col: 1.0,
        r_driver: 0.0,
        r_sense: 0.0,
    };
    (
        Crossbar::new(2, 2, par).unwrap(),
        Conductances::new(2, 2, vec![g; 4]).unwrap(),
        vec![0.1, 0.2],
    )
}

#[test]
fn residual_is_rounding_when_right_and_large_when_wrong() {
    for (g, right) in [(1e3, true), (1e9, true), (1e15, false), (1e20, false)] {
        let (xbar, cells, v) = two_by_two(g);
        let direct = xbar.factor(&cells).and_then(|f| f.solve(&v));
        let iterative = xbar
            .solve_iterative(&cells, &v, IterativeOptions::default())
            .map(|s| s.solution);
        for (name, solution) in [("direct", direct), ("iterative", iterative)] {
            // A solver may also refuse outright (the direct one finds the
            // 1e20 matrix singular): that is not a wrong answer either.
            let Ok(solution) = solution else { continue };
            let residual = xbar.kcl_residual(&cells, &v, &solution);
            let column1 = solution.column_currents[1];
            if right {
                assert!(residual < 1e-6, "G = {g:e}, {name}: residual {residual:e}");
                // Column 1 = 0.25 - O(1/G) A.
                assert!(
                    (column1 - 0.25).abs() < 1e3 / g,
                    "G = {g:e}, {name}: {column1}"
                );
            } else {
                assert!(
                    residual > 1e-4,
                    "G = {g:e}, {name}: residual {residual:e}, column 1 {column1}"
                );
            }
        }
    }
}

#[test]
fn overflowing_sizes_are_errors() {
    let huge = 1usize << 33;
    let ideal = Parasitics {
        r_row: 0.0,
        r_col: 0.0,
        r_driver: 0.0,
        r_sense: 0.0,
    };
    assert!(Crossbar::new(huge, huge, ideal).is_err());
    assert!(Conductances::new(huge, huge, Vec::new()).is_err());
}

//! Column currents of the structured crossbar solvers against an
//! independent modified-nodal-analysis solve written here from the circuit
//! description: every physical node kept, ideal wires / drivers / sense
//! inputs as voltage sources, dense Gaussian elimination with partial
//! pivoting.

mod dense_reference;
use dense_reference::gauss;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbar_nodal::crossbar::{
    Conductances, Crossbar, DirectOrdering, IterativeOptions, Parasitics, RowMode,
};

/// Column currents of the crossbar by plain MNA.
fn reference_currents(g: &Conductances, v: &[f64], par: Parasitics, modes: &[RowMode]) -> Vec<f64> {
    let (n, m) = (g.rows(), g.cols());
    let r = |i: usize, j: usize| i * m + j;
    let c = |i: usize, j: usize| n * m + i * m + j;
    let nodes = 2 * n * m;
    // Voltage sources: (plus node or None for ground, minus node or None, value).
    let mut sources: Vec<(Option<usize>, Option<usize>, f64)> = Vec::new();
    let mut resistors: Vec<(Option<usize>, Option<usize>, f64)> = Vec::new();
    let mut sense_src = vec![usize::MAX; m];
    let mut sense_res = vec![usize::MAX; m];
    for i in 0..n {
        if modes[i] == RowMode::Driven {
            if par.r_driver == 0.0 {
                sources.push((Some(r(i, 0)), None, v[i]));
            } else {
                // Source node as an extra node: use a Norton equivalent.
                resistors.push((Some(r(i, 0)), None, 1.0 / par.r_driver));
            }
        }
        for j in 0..m {
            resistors.push((Some(r(i, j)), Some(c(i, j)), g.get(i, j)));
            if j + 1 < m {
                if par.r_row == 0.0 {
                    sources.push((Some(r(i, j)), Some(r(i, j + 1)), 0.0));
                } else {
                    resistors.push((Some(r(i, j)), Some(r(i, j + 1)), 1.0 / par.r_row));
                }
            }
            if i + 1 < n {
                if par.r_col == 0.0 {
                    sources.push((Some(c(i, j)), Some(c(i + 1, j)), 0.0));
                } else {
                    resistors.push((Some(c(i, j)), Some(c(i + 1, j)), 1.0 / par.r_col));
                }
            }
        }
    }
    for j in 0..m {
        if par.r_sense == 0.0 {
            sense_src[j] = sources.len();
            sources.push((Some(c(n - 1, j)), None, 0.0));
        } else {
            sense_res[j] = resistors.len();
            resistors.push((Some(c(n - 1, j)), None, 1.0 / par.r_sense));
        }
    }
    let dim = nodes + sources.len();
    let mut a = vec![vec![0.0; dim]; dim];
    let mut b = vec![0.0; dim];
    for &(p, q, gv) in &resistors {
        if let Some(p) = p {
            a[p][p] += gv;
        }
        if let Some(q) = q {
            a[q][q] += gv;
        }
        if let (Some(p), Some(q)) = (p, q) {
            a[p][q] -= gv;
            a[q][p] -= gv;
        }
    }
    if par.r_driver > 0.0 {
        for i in 0..n {
            if modes[i] == RowMode::Driven {
                b[r(i, 0)] += v[i] / par.r_driver;
            }
        }
    }
    for (s, &(p, q, value)) in sources.iter().enumerate() {
        let k = nodes + s;
        // Branch current flows from p through the source to q.
        if let Some(p) = p {
            a[p][k] += 1.0;
            a[k][p] += 1.0;
        }
        if let Some(q) = q {
            a[q][k] -= 1.0;
            a[k][q] -= 1.0;
        }
        b[k] = value;
    }
    let x = gauss(a, b);
    (0..m)
        .map(|j| {
            if par.r_sense == 0.0 {
                // Current entering the source's plus terminal flows to ground.
                x[nodes + sense_src[j]]
            } else {
                x[c(n - 1, j)] / par.r_sense
            }
        })
        .collect()
}

fn random_case(seed: u64, n: usize, m: usize) -> (Conductances, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data: Vec<f64> = (0..n * m).map(|_| rng.random_range(1e-6..1e-4)).collect();
    let g = Conductances::new(n, m, data).unwrap();
    let v = (0..n).map(|_| rng.random_range(-0.3..0.3)).collect();
    (g, v)
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    let scale = want.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    for (j, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rel * scale,
            "{what}: column {j}: got {a:e}, want {b:e} (rel. diff {:e})",
            (a - b).abs() / scale
        );
    }
}

/// Every combination of zero / non-zero parasitics, on several non-square
/// shapes (and 1-wide arrays), for every solver path.
#[test]
fn all_solvers_match_independent_mna() {
    let shapes = [(7, 5), (4, 9), (1, 6), (6, 1), (3, 3)];
    let values = [(2.5, 1.5, 100.0, 50.0)];
    let mut case = 0;
    for &(n, m) in &shapes {
        for mask in 0..16u32 {
            let (rr, rc, rd, rs) = values[0];
            let pick = |bit: u32, r: f64| if mask & (1 << bit) != 0 { r } else { 0.0 };
            let par = Parasitics {
                r_row: pick(0, rr),
                r_col: pick(1, rc),
                r_driver: pick(2, rd),
                r_sense: pick(3, rs),
            };
            case += 1;
            let (g, v) = random_case(case, n, m);
            let modes = vec![RowMode::Driven; n];
            let want = reference_currents(&g, &v, par, &modes);
            let label = format!("{n}x{m} {par:?}");
            for ordering in [DirectOrdering::Amd, DirectOrdering::PortsLast] {
                let xbar = Crossbar::new(n, m, par).unwrap().with_ordering(ordering);
                let f = xbar.factor(&g).unwrap();
                let got = f.column_currents(&v).unwrap();
                assert_close(&format!("{label} {ordering:?} solve"), &got, &want, 1e-9);
                let a = f.effective_matrix().unwrap();
                assert_close(
                    &format!("{label} {ordering:?} A v"),
                    &a.apply(&v),
                    &want,
                    1e-9,
                );
                let full = f.solve(&v).unwrap();
                assert_close(&format!("{label} full"), &full.column_currents, &want, 1e-9);
            }
            let xbar = Crossbar::new(n, m, par).unwrap();
            let it = xbar
                .solve_iterative(&g, &v, IterativeOptions::default())
                .unwrap();
            assert_close(
                &format!("{label} pcg"),
                &it.solution.column_currents,
                &want,
                1e-9,
            );
        }
    }
}

/// With every parasitic zero the answer is exactly `Gᵀ v` (up to rounding).
#[test]
fn ideal_crossbar_is_exactly_gt_v() {
    let (g, v) = random_case(99, 6, 11);
    let xbar = Crossbar::new(6, 11, Parasitics::IDEAL).unwrap();
    assert_eq!(xbar.unknowns(), 0);
    let f = xbar.factor(&g).unwrap();
    let ideal = g.ideal_currents(&v);
    assert_close("ideal", &f.column_currents(&v).unwrap(), &ideal, 1e-15);
    assert_close(
        "ideal A",
        &f.effective_matrix().unwrap().apply(&v),
        &ideal,
        1e-15,
    );
    let it = xbar
        .solve_iterative(&g, &v, IterativeOptions::default())
        .unwrap();
    assert_close("ideal pcg", &it.solution.column_currents, &ideal, 1e-15);
}

/// Floating rows: the reference simply has no driver on those rows.
#[test]
fn floating_rows_match_reference() {
    let par = Parasitics {
        r_row: 3.0,
        r_col: 2.0,
        r_driver: 20.0,
        r_sense: 10.0,
    };
    for r_driver in [20.0, 0.0] {
        let par = Parasitics { r_driver, ..par };
        let (g, v) = random_case(7, 5, 4);
        let modes = vec![
            RowMode::Driven,
            RowMode::Floating,
            RowMode::Driven,
            RowMode::Floating,
            RowMode::Driven,
        ];
        let want = reference_currents(&g, &v, par, &modes);
        let xbar = Crossbar::with_row_modes(5, 4, par, modes).unwrap();
        let f = xbar.factor(&g).unwrap();
        assert_close("floating", &f.column_currents(&v).unwrap(), &want, 1e-9);
        assert_close(
            "floating A",
            &f.effective_matrix().unwrap().apply(&v),
            &want,
            1e-9,
        );
        let it = xbar
            .solve_iterative(&g, &v, IterativeOptions::default())
            .unwrap();
        assert_close("floating pcg", &it.solution.column_currents, &want, 1e-9);
    }
}

/// Largest entrywise difference of two effective matrices, relative to the
/// largest entry of `want`.
fn max_rel_diff(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    got.iter()
        .zip(want)
        .fold(0.0f64, |s, (a, b)| s.max((a - b).abs()))
        / scale
}

/// The ports-last effective matrix (Schur complement onto sources and
/// virtual grounds) against the independent dense MNA on two input vectors,
/// and entry by entry against the plain Cholesky's one solve per input, at
/// 1e-10, on non-square shapes with every zero / non-zero parasitic set.
#[test]
fn ports_last_effective_matrix_is_exact() {
    let mut case = 1000;
    for &(n, m) in &[(7, 5), (4, 9), (1, 6), (6, 1), (23, 17), (17, 23)] {
        for mask in 0..16u32 {
            let pick = |bit: u32, r: f64| if mask & (1 << bit) != 0 { r } else { 0.0 };
            let par = Parasitics {
                r_row: pick(0, 2.0),
                r_col: pick(1, 3.0),
                r_driver: pick(2, 40.0),
                r_sense: pick(3, 25.0),
            };
            case += 1;
            let (g, v) = random_case(case, n, m);
            let label = format!("{n}x{m} {par:?}");
            let fast = Crossbar::new(n, m, par).unwrap();
            let a = fast.factor(&g).unwrap().effective_matrix().unwrap();
            assert_eq!((a.outputs, a.inputs), (m, n), "{label}");
            if n * m <= 64 {
                let modes = vec![RowMode::Driven; n];
                let w: Vec<f64> = v.iter().map(|x| 0.2 - x).collect();
                for input in [&v, &w] {
                    let want = reference_currents(&g, input, par, &modes);
                    assert_close(&format!("{label} A v"), &a.apply(input), &want, 1e-10);
                }
            }
            let plain = Crossbar::new(n, m, par)
                .unwrap()
                .with_ordering(DirectOrdering::Amd);
            let b = plain.factor(&g).unwrap().effective_matrix().unwrap();
            let diff = max_rel_diff(&a.data, &b.data);
            assert!(
                diff <= 1e-10,
                "{label}: A differs from one solve per input by {diff:e}"
            );
        }
    }
}

/// Rows and columns whose cells are all open leave the port block singular
/// but for the shift: the effective matrix must still be exact (zero
/// transfer through them) and floating rows contribute nothing.
#[test]
fn effective_matrix_with_open_rows_and_columns() {
    let (n, m) = (9, 7);
    let (g, _) = random_case(4242, n, m);
    let mut data = g.as_slice().to_vec();
    for j in 0..m {
        data[3 * m + j] = 0.0;
    }
    for i in 0..n {
        data[i * m + 5] = 0.0;
    }
    let g = Conductances::new(n, m, data).unwrap();
    let mut modes = vec![RowMode::Driven; n];
    modes[6] = RowMode::Floating;
    for par in [
        Parasitics {
            r_row: 2.0,
            r_col: 2.0,
            r_driver: 0.0,
            r_sense: 0.0,
        },
        Parasitics {
            r_row: 1.0,
            r_col: 4.0,
            r_driver: 30.0,
            r_sense: 10.0,
        },
    ] {
        let fast = Crossbar::with_row_modes(n, m, par, modes.clone()).unwrap();
        let a = fast.factor(&g).unwrap().effective_matrix().unwrap();
        let plain = Crossbar::with_row_modes(n, m, par, modes.clone())
            .unwrap()
            .with_ordering(DirectOrdering::Amd);
        let b = plain.factor(&g).unwrap().effective_matrix().unwrap();
        let diff = max_rel_diff(&a.data, &b.data);
        assert!(diff <= 1e-10, "{par:?}: {diff:e}");
        let scale = b.data.iter().fold(0.0f64, |s, x| s.max(x.abs()));
        for j in 0..m {
            assert!(
                a.get(j, 3).abs() <= 1e-12 * scale,
                "open row 3 reaches column {j}"
            );
            assert_eq!(a.get(j, 6), 0.0, "floating row 6 has no input");
        }
        for i in 0..n {
            assert!(
                a.get(5, i).abs() <= 1e-12 * scale,
                "open column 5 collects from row {i}"
            );
        }
    }
}

/// With every parasitic zero the effective matrix is `Gᵀ`, bit for bit.
#[test]
fn ideal_effective_matrix_is_g_transposed_exactly() {
    let (n, m) = (13, 8);
    let (g, v) = random_case(77, n, m);
    let xbar = Crossbar::new(n, m, Parasitics::IDEAL).unwrap();
    let f = xbar.factor(&g).unwrap();
    let a = f.effective_matrix().unwrap();
    for i in 0..n {
        for j in 0..m {
            assert_eq!(a.get(j, i).to_bits(), g.get(i, j).to_bits(), "({i},{j})");
        }
    }
    assert_eq!(f.column_currents(&v).unwrap(), g.ideal_currents(&v));
}

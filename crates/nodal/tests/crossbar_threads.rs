//! The crossbar solvers give bit-identical answers on 1 and 2 threads
//! (BENCHMARKS claims this for 1024x1024; CI time allows 260x260, which
//! takes the same parallel paths: the iterative solver's dot products span
//! 9 blocks of 2^14 entries and its interleaved chain solve splits 260
//! columns (more than its 256-column minimum) between two threads; the
//! direct solver splits right-hand sides, not the array, so 70 of them on a
//! 40x40 array make the same three batches of 32 as on any size).

use xbar_nodal::crossbar::{Conductances, Crossbar, IterativeOptions, Parasitics};

fn array(n: usize) -> (Crossbar, Conductances, Vec<f64>) {
    let par = Parasitics {
        r_row: 2.0,
        r_col: 3.0,
        r_driver: 10.0,
        r_sense: 5.0,
    };
    let g = Conductances::from_fn(n, n, |i, j| {
        1e-6 + 1e-4 * (((i * 7919 + j * 104_729) % 997) as f64 / 996.0)
    })
    .unwrap();
    let v = (0..n)
        .map(|i| 0.3 * ((i * 37 % 101) as f64 / 100.0))
        .collect();
    (Crossbar::new(n, n, par).unwrap(), g, v)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn iterative_solution_is_bit_identical_on_one_and_two_threads() {
    let (xbar, g, v) = array(260);
    let solve = || {
        xbar.solve_iterative(&g, &v, IterativeOptions::default())
            .unwrap()
    };
    let one = pool(1).install(solve);
    let two = pool(2).install(solve);
    assert_eq!(one.iterations, two.iterations);
    let bits = |x: &[f64]| x.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&one.solution.column_currents),
        bits(&two.solution.column_currents)
    );
    assert_eq!(
        bits(&one.solution.row_voltages),
        bits(&two.solution.row_voltages)
    );
    // And it is an answer: Kirchhoff holds to rounding.
    let residual = xbar.kcl_residual(&g, &v, &one.solution);
    assert!(residual < 1e-9, "Kirchhoff residual {residual:e}");
}

#[test]
fn direct_batches_are_bit_identical_on_one_and_two_threads() {
    const N: usize = 40;
    let (xbar, g, _) = array(N);
    let inputs: Vec<Vec<f64>> = (0..70)
        .map(|k| {
            (0..N)
                .map(|i| 0.3 * (((i + k) * 37 % 101) as f64 / 100.0))
                .collect()
        })
        .collect();
    let run = || {
        let factored = xbar.factor(&g).unwrap();
        factored.column_currents_many(&inputs).unwrap()
    };
    let one = pool(1).install(run);
    let two = pool(2).install(run);
    let bits =
        |m: &Vec<Vec<f64>>| -> Vec<u64> { m.iter().flatten().map(|c| c.to_bits()).collect() };
    assert_eq!(bits(&one), bits(&two));
}

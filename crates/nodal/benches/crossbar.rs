//! Crossbar solver timings, each structured path next to the plain faer
//! sparse Cholesky (AMD ordering) it replaces.
//! Run: `cargo bench -p xbar-nodal --bench crossbar`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbar_nodal::crossbar::{Conductances, Crossbar, DirectOrdering, IterativeOptions, Parasitics};

const PAR: Parasitics = Parasitics {
    r_row: 2.5,
    r_col: 2.5,
    r_driver: 100.0,
    r_sense: 100.0,
};

fn sample(n: usize, seed: u64) -> Conductances {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = (0..n * n).map(|_| rng.random_range(1e-6..1e-4)).collect();
    Conductances::new(n, n, data).unwrap()
}

fn inputs(n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n).map(|_| rng.random_range(0.0..0.2)).collect()
}

fn effective_matrix(c: &mut Criterion) {
    let mut group = c.benchmark_group("effective_matrix_128");
    group.sample_size(10);
    let g = sample(128, 1);
    // The dense SNN mapping's tiles (`crossbar.r_wire`: wires only), the
    // full parasitic set, and the ideal crossbar.
    let wires_only = Parasitics {
        r_row: 2.0,
        r_col: 2.0,
        r_driver: 0.0,
        r_sense: 0.0,
    };
    for (label, par) in [("wires", wires_only), ("all", PAR)] {
        for (name, ordering) in [
            ("amd_one_solve_per_input", DirectOrdering::Amd),
            ("ports_last_block", DirectOrdering::PortsLast),
        ] {
            let xbar = Crossbar::new(128, 128, par)
                .unwrap()
                .with_ordering(ordering);
            xbar.analyse().unwrap();
            group.bench_function(format!("{label}_{name}"), |b| {
                b.iter(|| black_box(xbar.factor(&g).unwrap().effective_matrix().unwrap()))
            });
        }
    }
    let ideal = Crossbar::new(128, 128, Parasitics::IDEAL).unwrap();
    group.bench_function("ideal_copy", |b| {
        b.iter(|| black_box(ideal.factor(&g).unwrap().effective_matrix().unwrap()))
    });
    group.finish();
}

fn single_solve(c: &mut Criterion) {
    let mut group = c.benchmark_group("factor_and_solve");
    group.sample_size(10);
    for n in [128, 256, 512] {
        let g = sample(n, 2);
        let v = inputs(n);
        if n <= 256 {
            for (name, ordering) in [
                ("amd", DirectOrdering::Amd),
                ("ports_last", DirectOrdering::PortsLast),
            ] {
                let xbar = Crossbar::new(n, n, PAR).unwrap().with_ordering(ordering);
                xbar.analyse().unwrap();
                group.bench_function(format!("{name}_{n}"), |b| {
                    b.iter(|| black_box(xbar.factor(&g).unwrap().column_currents(&v).unwrap()))
                });
            }
        }
        let xbar = Crossbar::new(n, n, PAR).unwrap();
        group.bench_function(format!("pcg_{n}"), |b| {
            b.iter(|| {
                black_box(
                    xbar.solve_iterative(&g, &v, IterativeOptions::default())
                        .unwrap(),
                )
            })
        });
    }
    group.finish();
}

fn monte_carlo(c: &mut Criterion) {
    let mut group = c.benchmark_group("monte_carlo_256");
    group.sample_size(10);
    let samples: Vec<Conductances> = (0..100).map(|s| sample(256, 100 + s)).collect();
    let v = inputs(256);
    let xbar = Crossbar::new(256, 256, PAR).unwrap();
    group.bench_function("pcg_100_samples", |b| {
        b.iter(|| {
            black_box(
                xbar.monte_carlo(&samples, &v, IterativeOptions::default())
                    .unwrap(),
            )
        })
    });
    // The plain sparse Cholesky on 10 samples (it is ~10x too slow for 100).
    let direct = Crossbar::new(256, 256, PAR)
        .unwrap()
        .with_ordering(DirectOrdering::Amd);
    direct.analyse().unwrap();
    group.bench_function("amd_cholesky_10_samples", |b| {
        b.iter(|| {
            for g in &samples[..10] {
                black_box(direct.factor(g).unwrap().column_currents(&v).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, effective_matrix, single_solve, monte_carlo);
criterion_main!(benches);

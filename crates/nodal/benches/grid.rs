//! Operating point of square resistor grids with 10^3, 10^4 and 10^5
//! unknowns: a 1 V source at one corner, every node tied to ground
//! through 1 MΩ, 1 kΩ between neighbours.
//!
//! `cargo bench -p xbar-nodal --bench grid`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use xbar_netlist::{Analysis, Circuit, Element, ElementKind, Source, SourceLoc};
use xbar_nodal::Simulator;

fn grid(side: usize) -> Circuit {
    let mut c = Circuit::default();
    let name = |i: usize, j: usize| format!("n{i}_{j}");
    let mut push = |name: String, nodes: [String; 2], kind: ElementKind| {
        c.elements.push(Element {
            name,
            nodes: nodes.to_vec(),
            kind,
            loc: SourceLoc::default(),
        })
    };
    push(
        "v1".into(),
        [name(0, 0), "0".into()],
        ElementKind::VoltageSource(Source {
            dc: 1.0,
            waveform: None,
            ac: None,
        }),
    );
    for i in 0..side {
        for j in 0..side {
            let r = |r| ElementKind::Resistor {
                resistance: r,
                ac: None,
            };
            if i + 1 < side {
                push(format!("rv{i}_{j}"), [name(i, j), name(i + 1, j)], r(1e3));
            }
            if j + 1 < side {
                push(format!("rh{i}_{j}"), [name(i, j), name(i, j + 1)], r(1e3));
            }
            push(format!("rg{i}_{j}"), [name(i, j), "0".into()], r(1e6));
        }
    }
    c.analyses.push(Analysis::Op);
    c
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("grid_op");
    g.sample_size(10);
    for side in [32usize, 100, 316] {
        let circuit = grid(side);
        let unknowns = side * side + 1;
        g.bench_with_input(BenchmarkId::new("setup+op", unknowns), &circuit, |b, c| {
            b.iter(|| {
                let mut sim = Simulator::new(c).expect("grid sets up");
                black_box(sim.op().expect("grid solves"))
            })
        });
        // A repeated operating point reuses the symbolic analysis and, the
        // matrix being unchanged, the numeric factorization as well.
        let mut sim = Simulator::new(&circuit).expect("grid sets up");
        sim.op().expect("grid solves");
        g.bench_with_input(
            BenchmarkId::new("op (symbolic reused)", unknowns),
            &(),
            |b, _| b.iter(|| black_box(sim.op().expect("grid solves"))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

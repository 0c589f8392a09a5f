//! Random resistor networks with sources: the operating point must satisfy
//! Kirchhoff's current law at every node and Ohm's law in every source
//! branch (a conservation check that needs no reference solver).

mod common;

use common::Deck;
use proptest::prelude::*;
use xbar_nodal::run_analyses;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn kcl_holds_on_random_networks(
        n in 2usize..30,
        extra in proptest::collection::vec((0usize..1000, 0usize..1000, 1.0f64..1e6), 0..60),
        vs in -10.0f64..10.0,
        is in -1e-3f64..1e-3,
    ) {
        let name = |k: usize| if k == 0 { "0".to_string() } else { format!("n{k}") };
        let mut d = Deck::new();
        let mut edges = Vec::new();
        // A spanning chain keeps every node connected to ground.
        for k in 1..=n {
            edges.push((k - 1, k, 1e3 * k as f64));
        }
        for &(a, b, r) in &extra {
            let (a, b) = (a % (n + 1), b % (n + 1));
            if a != b {
                edges.push((a, b, r));
            }
        }
        for (k, &(a, b, r)) in edges.iter().enumerate() {
            d.r(&format!("r{k}"), &name(a), &name(b), r);
        }
        d.v("vs", &name(n), "0", vs);
        d.i("is", "0", &name(1), is);
        d.op();
        let out = &run_analyses(&d.circuit).map_err(|e| TestCaseError::fail(e.to_string()))?[0];
        let v = |k: usize| -> f64 {
            if k == 0 {
                return 0.0;
            }
            let name = format!("v(n{k})");
            let c = out.columns.iter().position(|c| *c == name).expect("a column per node");
            out.rows[0][c]
        };
        let ivs = out.rows[0][out.columns.iter().position(|c| c == "i(vs)").expect("a column i(vs)")];
        prop_assert!((v(n) - vs).abs() <= 1e-12 * (1.0 + vs.abs()));
        // Sum of currents leaving each node through resistors, the source
        // branch (current into + through the source) and the current source.
        let mut leaving = vec![0.0f64; n + 1];
        let mut scale = vec![0.0f64; n + 1];
        for &(a, b, r) in &edges {
            let i = (v(a) - v(b)) / r;
            leaving[a] += i;
            leaving[b] -= i;
            scale[a] += i.abs();
            scale[b] += i.abs();
        }
        leaving[n] += ivs;
        scale[n] += ivs.abs();
        leaving[1] -= is;
        scale[1] += is.abs();
        for k in 1..=n {
            prop_assert!(
                leaving[k].abs() <= 1e-10 * scale[k] + 1e-15,
                "KCL at n{}: residual {} of {}", k, leaving[k], scale[k]
            );
        }
    }
}

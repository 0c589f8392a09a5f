//! Small-signal AC, inductors and couplings against closed forms and
//! against the DC solution they linearise (a finite difference of two
//! operating points).

use std::path::Path;

use xbar_nodal::{run_analyses, AnalysisKind, AnalysisOutput, NodalError};

fn run(deck: &str) -> Result<Vec<AnalysisOutput>, NodalError> {
    let circuit = xbar_netlist::parse_str(deck, Path::new("test.cir")).expect("deck parses");
    run_analyses(&circuit)
}

fn column(out: &AnalysisOutput, name: &str) -> Vec<f64> {
    let k = out
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", out.columns));
    out.rows.iter().map(|r| r[k]).collect()
}

#[derive(Debug, Clone, Copy)]
struct C(f64, f64);

impl C {
    fn add(self, o: C) -> C {
        C(self.0 + o.0, self.1 + o.1)
    }
    fn sub(self, o: C) -> C {
        C(self.0 - o.0, self.1 - o.1)
    }
    fn mul(self, o: C) -> C {
        C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
    }
    fn div(self, o: C) -> C {
        let d = o.0 * o.0 + o.1 * o.1;
        C(
            (self.0 * o.0 + self.1 * o.1) / d,
            (self.1 * o.0 - self.0 * o.1) / d,
        )
    }
    fn abs(self) -> f64 {
        self.0.hypot(self.1)
    }
}

/// The phasor of vector `name` in every row.
fn phasors(out: &AnalysisOutput, name: &str) -> Vec<C> {
    let re = column(out, &format!("re({name})"));
    let im = column(out, &format!("im({name})"));
    re.into_iter().zip(im).map(|(a, b)| C(a, b)).collect()
}

fn assert_close(got: C, want: C, rel: f64, what: &str) {
    let err = got.sub(want).abs();
    assert!(
        err <= rel * want.abs(),
        "{what}: got {got:?}, want {want:?} (error {err:e})"
    );
}

#[test]
fn rc_low_pass_matches_its_transfer_function() {
    let out = run("rc\nv1 in 0 dc 1 ac 2 30\nr1 in out 1k\nc1 out 0 1u\n.ac dec 5 10 100k\n.end\n")
        .expect("runs");
    let ac = &out[0];
    assert_eq!(ac.kind, AnalysisKind::Ac);
    let f = column(ac, "frequency");
    assert_eq!(f.len(), 21);
    let source = C(
        2.0 * 30f64.to_radians().cos(),
        2.0 * 30f64.to_radians().sin(),
    );
    for ((&f, v), i) in f
        .iter()
        .zip(phasors(ac, "v(out)"))
        .zip(phasors(ac, "i(v1)"))
    {
        let jwrc = C(0.0, 2.0 * std::f64::consts::PI * f * 1e3 * 1e-6);
        let want = source.div(C(1.0, 0.0).add(jwrc));
        assert_close(v, want, 1e-12, &format!("v(out) at {f} Hz"));
        // The source current flows into its + terminal: minus the load current.
        let load = source.sub(want).div(C(1e3, 0.0));
        assert_close(i, C(0.0, 0.0).sub(load), 1e-12, &format!("i(v1) at {f} Hz"));
    }
}

#[test]
fn parallel_rlc_driven_by_an_ac_current_source() {
    // 1 mA into R || L || C: v = I / (1/R + 1/(jωL) + jωC).
    let out = run(
        "tank\ni1 0 top dc 0 ac 1m\nr1 top 0 2k\nl1 top 0 1m\nc1 top 0 10n\n.ac lin 7 10k 100k\n.end\n",
    )
    .expect("runs");
    let ac = &out[0];
    let f = column(ac, "frequency");
    for ((&f, v), il) in f
        .iter()
        .zip(phasors(ac, "v(top)"))
        .zip(phasors(ac, "i(l1)"))
    {
        let w = 2.0 * std::f64::consts::PI * f;
        let y = C(1.0 / 2e3, w * 10e-9 - 1.0 / (w * 1e-3));
        let want = C(1e-3, 0.0).div(y);
        assert_close(v, want, 1e-12, &format!("v(top) at {f} Hz"));
        assert_close(il, want.div(C(0.0, w * 1e-3)), 1e-12, "i(l1)");
    }
}

#[test]
fn coupled_inductors_solve_the_two_port_equations() {
    // v = (R1 + jωL1) i1 + jωM i2 and 0 = jωM i1 + (R2 + jωL2) i2, the
    // branch currents flowing from each inductor's first node to its second.
    let (l1, l2, k) = (2e-3, 8e-3, 0.9);
    let m = k * f64::sqrt(l1 * l2);
    let out = run(&format!(
        "two-port\nv1 in 0 ac 1\nr1 in p 10\nla p 0 {l1}\nlb s 0 {l2}\nkab la lb {k}\nr2 s 0 50\n.ac dec 3 100 100k\n.end\n"
    ))
    .expect("runs");
    let ac = &out[0];
    let f = column(ac, "frequency");
    let (ia, ib) = (phasors(ac, "i(la)"), phasors(ac, "i(lb)"));
    for (k, &f) in f.iter().enumerate() {
        let w = 2.0 * std::f64::consts::PI * f;
        let (a, b) = (C(10.0, w * l1), C(0.0, w * m));
        let d = C(50.0, w * l2);
        // i2 = -b i1 / d; v = (a - b²/d) i1.
        let i1 = C(1.0, 0.0).div(a.sub(b.mul(b).div(d)));
        let i2 = C(0.0, 0.0).sub(b.mul(i1).div(d));
        assert_close(ia[k], i1, 1e-11, &format!("i(la) at {f} Hz"));
        assert_close(ib[k], i2, 1e-11, &format!("i(lb) at {f} Hz"));
    }
}

#[test]
fn diode_small_signal_gain_is_the_derivative_of_the_dc_solution() {
    // At a frequency where the junction charge is negligible the AC gain
    // is d v(a) / d v(in) of the DC solution (solved tightly, so that the
    // central difference measures the slope, not Newton's tolerance).
    let deck = |vin: f64, analysis: &str| {
        format!(
            "diode\n.options reltol=1e-12 vntol=1e-15 abstol=1e-18\n.model dm d is=1e-14 n=1.2 rs=5 cjo=1p tt=1n\nv1 in 0 dc {vin} ac 1\nr1 in a 1k\nd1 a 0 dm\n{analysis}\n.end\n"
        )
    };
    let ac = &run(&deck(2.0, ".ac lin 1 1 1")).expect("runs")[0];
    let gain = phasors(ac, "v(a)")[0];
    let h = 1e-3;
    let dc = &run(&deck(2.0, &format!(".dc v1 {} {} {h}", 2.0 - h, 2.0 + h))).expect("runs")[0];
    let va = column(dc, "v(a)");
    let slope = (va[2] - va[0]) / (2.0 * h);
    assert!(
        (gain.0 - slope).abs() < 1e-5 * slope && gain.1.abs() < 1e-5 * slope,
        "ac gain {gain:?} vs dc slope {slope}"
    );
}

#[test]
fn inductor_is_a_short_at_dc_and_charges_exponentially() {
    let out = run("rl\nv1 in 0 dc 0 pulse(0 1 0 1n 1n 1 2)\nr1 in a 100\nl1 a 0 1m\n.op\n.tran 0.1u 50u\n.end\n")
        .expect("runs");
    assert_eq!(column(&out[0], "i(l1)")[0], 0.0);
    let tran = &out[1];
    let (t, i) = (column(tran, "time"), column(tran, "i(l1)"));
    let tau = 1e-3 / 100.0;
    for (&t, &i) in t.iter().zip(&i) {
        // The source rises in 1 ns; afterwards the current follows the
        // RL charging curve.
        if t > 1e-7 {
            let want = 0.01 * (1.0 - (-(t - 0.5e-9) / tau).exp());
            assert!(
                (i - want).abs() < 1e-3 * 0.01,
                "i(l1) at {t}: {i} vs {want}"
            );
        }
    }
}

#[test]
fn couplings_that_name_no_inductor_are_errors() {
    let circuit = xbar_netlist::parse_str(
        "k\nv1 a 0 1\nr1 a b 1\nl1 b 0 1m\nk1 l1 l2 0.5\n.op\n.end\n",
        Path::new("k.cir"),
    )
    .expect("parses");
    let err = run_analyses(&circuit)
        .expect_err("l2 does not exist")
        .to_string();
    assert!(err.contains("k.cir:5") && err.contains("l2"), "{err}");
}

#[test]
fn junction_devices_refuse_a_temperature_they_do_not_model() {
    let circuit = xbar_netlist::parse_str(
        "hot\n.temp 85\n.model dm d is=1e-14\nv1 a 0 1\nr1 a b 1k\nd1 b 0 dm\n.op\n.end\n",
        Path::new("hot.cir"),
    )
    .expect("parses");
    let err = run_analyses(&circuit).expect_err("85 °C").to_string();
    assert!(
        err.contains("hot.cir:6") && err.contains("d1") && err.contains("85"),
        "{err}"
    );
}

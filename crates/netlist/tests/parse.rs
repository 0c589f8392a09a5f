//! Elaboration of whole decks: names as ngspice gives them, parameter values,
//! subcircuit expansion, sources and analyses.

use std::path::{Path, PathBuf};

use xbar_netlist::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse(text: &str) -> Circuit {
    parse_str(text, Path::new("deck.cir")).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> NetlistError {
    parse_str(text, Path::new("deck.cir")).expect_err("deck should be rejected")
}

fn element<'c>(circuit: &'c Circuit, name: &str) -> &'c Element {
    circuit
        .elements
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

fn resistance(circuit: &Circuit, name: &str) -> f64 {
    match element(circuit, name).kind {
        ElementKind::Resistor { resistance, .. } => resistance,
        ref other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn resistor_network_flattens_with_ngspice_names() {
    let circuit = parse_file(&repo().join("netlists/resistor_network.cir")).unwrap();
    assert_eq!(
        circuit.title,
        "Resistor network with parameterised, nested subcircuits"
    );
    // 2 bridges x (2 dividers x 2 resistors + rg + vmeas + rload) + vin + rtie.
    assert_eq!(circuit.elements.len(), 2 * 7 + 2);
    // rbase = 2*500 = 1000, rtop = sqrt(1000*4000) = 2000; x1 has ratio=3.
    assert_eq!(resistance(&circuit, "r.x1.xa.r1"), 2000.0);
    assert_eq!(resistance(&circuit, "r.x1.xa.r2"), 6000.0);
    assert_eq!(resistance(&circuit, "r.x2.xa.r2"), 4000.0);
    assert_eq!(resistance(&circuit, "r.x1.xb.r1"), 3000.0);
    assert_eq!(resistance(&circuit, "r.x2.xb.r1"), 2000.0);
    assert_eq!(resistance(&circuit, "r.x2.xb.r2"), 2200.0);
    assert_eq!(resistance(&circuit, "rtie"), 1e6);
    assert_eq!(element(&circuit, "r.x1.xa.r1").nodes, ["in", "x1.a"]);
    assert_eq!(element(&circuit, "r.x1.xa.r2").nodes, ["x1.a", "0"]);
    assert_eq!(element(&circuit, "v.x2.vmeas").nodes, ["x2.b", "out2"]);
    assert_eq!(element(&circuit, "r.x1.rg").loc.line, 18);
    assert_eq!(
        circuit.analyses,
        [
            Analysis::Op,
            Analysis::Dc {
                inner: Sweep {
                    source: "vin".into(),
                    start: 0.0,
                    stop: 5.0,
                    step: 0.5
                },
                outer: None
            }
        ]
    );
    assert!(circuit.warnings.is_empty(), "{:?}", circuit.warnings);
}

#[test]
fn every_example_deck_parses() {
    let mut count = 0;
    for entry in std::fs::read_dir(repo().join("netlists")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // Memristor decks belong to the device work and may use devices
        // (B sources) outside this parser's dialect.
        if path.extension().is_some_and(|e| e == "cir") && !name.starts_with("memristor") {
            let circuit = parse_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!circuit.analyses.is_empty(), "{name}");
            count += 1;
        }
    }
    assert!(count >= 5);
}

#[test]
fn devices_models_and_sources() {
    let circuit = parse(
        "devices\n\
         .model dx D(IS=1e-15 n=1.5 rs={2*5})\n\
         .model nm nmos level=1 vto=0.7 kp=100u version=demo\n\
         .model mr memristor model=lid window=joglekar p=2 ron=100 roff=16k\n\
         d1 a 0 dx 2.5\n\
         m1 d g 0 0 nm w=2u l=1u\n\
         ymemristor mem1 a d mr x0=0.1\n\
         v1 a 0 pulse(0 1 1n 2n 3n 4n 10n)\n\
         v2 g 0 dc 0.5 ac 1 sin(0 1 1meg)\n\
         v3 d 0 pwl 0 0 1u 1 2u 0\n\
         i1 0 a 1m\n\
         c1 a 0 1p ic=0.2\n\
         .tran 1n 1u 0 5n uic\n\
         .end\n",
    );
    assert_eq!(circuit.models["dx"].params["is"], 1e-15);
    assert_eq!(circuit.models["dx"].params["rs"], 10.0);
    assert_eq!(circuit.models["nm"].words["version"], "demo");
    assert_eq!(circuit.models["mr"].words["model"], "lid");
    assert_eq!(circuit.models["mr"].params["roff"], 16e3);
    assert_eq!(
        element(&circuit, "d1").kind,
        ElementKind::Diode {
            model: "dx".into(),
            area: 2.5
        }
    );
    assert_eq!(
        element(&circuit, "m1").kind,
        ElementKind::Mosfet {
            model: "nm".into(),
            w: Some(2e-6),
            l: Some(1e-6),
            geometry: Default::default()
        }
    );
    assert_eq!(element(&circuit, "m1").nodes, ["d", "g", "0", "0"]);
    assert_eq!(
        element(&circuit, "mem1").kind,
        ElementKind::Memristor {
            model: "mr".into(),
            x0: Some(0.1),
            instance: Default::default(),
        }
    );
    // No DC value: ngspice uses the waveform's value at t = 0.
    let ElementKind::VoltageSource(ref v1) = element(&circuit, "v1").kind else {
        panic!()
    };
    assert_eq!(v1.dc, 0.0);
    assert_eq!(
        v1.waveform,
        Some(Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: Some(1e-9),
            tr: Some(2e-9),
            tf: Some(3e-9),
            pw: Some(4e-9),
            per: Some(10e-9)
        })
    );
    let ElementKind::VoltageSource(ref v2) = element(&circuit, "v2").kind else {
        panic!()
    };
    assert_eq!(v2.dc, 0.5);
    assert_eq!(
        v2.waveform,
        Some(Waveform::Sin {
            vo: 0.0,
            va: 1.0,
            freq: Some(1e6),
            td: None,
            theta: None,
            phase: None
        })
    );
    let ElementKind::VoltageSource(ref v3) = element(&circuit, "v3").kind else {
        panic!()
    };
    assert_eq!(
        v3.waveform,
        Some(Waveform::Pwl(vec![(0.0, 0.0), (1e-6, 1.0), (2e-6, 0.0)]))
    );
    assert_eq!(
        element(&circuit, "i1").kind,
        ElementKind::CurrentSource(Source {
            dc: 1e-3,
            waveform: None,
            ac: None
        })
    );
    assert_eq!(
        element(&circuit, "c1").kind,
        ElementKind::Capacitor {
            capacitance: 1e-12,
            ic: Some(0.2)
        }
    );
    assert_eq!(
        circuit.analyses,
        [Analysis::Tran {
            tstep: 1e-9,
            tstop: 1e-6,
            tstart: 0.0,
            tmax: Some(5e-9),
            uic: true
        }]
    );
}

#[test]
fn waveform_only_sources_take_their_time_zero_value_as_dc() {
    // Checked against ngspice 39: .op gives 0.3, 1.0 and 0.7 for these.
    let circuit = parse(
        "t\nv1 a 0 pulse(0.3 1 1u 1u 1u 1u 4u)\nv2 b 0 sin(0.5 1 1k 0 0 30)\nv3 c 0 pwl(1u 0.7 2u 1)\nr1 a b 1\nr2 b c 1\nr3 c 0 1\n.op\n",
    );
    let dc = |name: &str| match &element(&circuit, name).kind {
        ElementKind::VoltageSource(s) => s.dc,
        _ => panic!(),
    };
    assert_eq!(dc("v1"), 0.3);
    assert!((dc("v2") - 1.0).abs() < 1e-15);
    assert_eq!(dc("v3"), 0.7);
}

#[test]
fn nested_subcircuits_name_nodes_elements_and_local_models() {
    let circuit = parse(
        "nested\n\
         .subckt inner a b w=1\n\
         .model dl d is={w*1e-14}\n\
         vx a m 0\n\
         d1 m b dl\n\
         .ends\n\
         .subckt outer p q\n\
         x2 p mid inner w=3\n\
         r2 mid q 1k\n\
         .ends\n\
         v1 in GND 1\n\
         X1 in 0 outer\n\
         .op\n",
    );
    // The names ngspice 39 prints for this deck: v(x1.x2.m), v(x1.mid), i(v.x1.x2.vx).
    assert_eq!(element(&circuit, "v.x1.x2.vx").nodes, ["in", "x1.x2.m"]);
    assert_eq!(element(&circuit, "r.x1.r2").nodes, ["x1.mid", "0"]);
    let ElementKind::Diode { ref model, .. } = element(&circuit, "d.x1.x2.d1").kind else {
        panic!()
    };
    assert_eq!(circuit.models[model].params["is"], 3e-14);
    assert_eq!(element(&circuit, "v1").nodes, ["in", "0"]);
}

#[test]
fn parameter_scoping_and_overrides() {
    let circuit = parse(
        "params\n\
         .param g = 2\n\
         .subckt s a b r=1 k={r*g}\n\
         .param local = {k + 1}\n\
         r1 a b {local}\n\
         .ends\n\
         x1 n 0 s r=10\n\
         x2 n 0 s params: r={g*100}\n\
         x3 n 0 s\n\
         v1 n 0 1\n\
         .op\n",
    );
    assert_eq!(resistance(&circuit, "r.x1.r1"), 21.0);
    assert_eq!(resistance(&circuit, "r.x2.r1"), 401.0);
    assert_eq!(resistance(&circuit, "r.x3.r1"), 3.0);
}

#[test]
fn expressions_in_both_quotings_with_functions() {
    let circuit = parse(
        "expr\n.param a=4 b = 2 * a c='pow(a, 2) - max(b, 12)'\nr1 n 0 {sqrt(c) + abs(-1) + exp(0) + log(1) + min(1,2)}\nr2 n 0 'a ** 2 / 4^0.5'\nv1 n 0 1\n.op\n",
    );
    assert_eq!(resistance(&circuit, "r1"), 2.0 + 1.0 + 1.0 + 0.0 + 1.0);
    assert_eq!(resistance(&circuit, "r2"), 8.0);
}

#[test]
fn options_save_print_and_nested_dc() {
    let circuit = parse(
        "opts\n.options reltol=1e-6 ABSTOL=1p method=gear noacct foo=3\nv1 a 0 1\ni1 0 b 1m\nr1 a b 1k\nr2 b 0 1k\n\
         .dc v1 0 1 0.1 i1 0 2m 1m\n.save v(a) v(a,b) i(v1) b\n.print dc v(b)\n",
    );
    assert_eq!(circuit.options["reltol"], 1e-6);
    assert_eq!(circuit.options["abstol"], 1e-12);
    assert_eq!(circuit.method, IntegrationMethod::Gear);
    assert_eq!(circuit.warnings.len(), 2, "{:?}", circuit.warnings);
    assert!(circuit.warnings[0].message.contains("noacct"));
    assert!(circuit.warnings[1].message.contains("foo"));
    assert_eq!(
        circuit.saves,
        [
            OutputVector::Voltage("a".into(), None),
            OutputVector::Voltage("a".into(), Some("b".into())),
            OutputVector::Current("v1".into()),
            OutputVector::Voltage("b".into(), None),
        ]
    );
    assert_eq!(circuit.prints, [OutputVector::Voltage("b".into(), None)]);
    let Analysis::Dc {
        ref inner,
        outer: Some(ref outer),
    } = circuit.analyses[0]
    else {
        panic!()
    };
    assert_eq!((inner.source.as_str(), inner.step), ("v1", 0.1));
    assert_eq!((outer.source.as_str(), outer.stop), ("i1", 2e-3));
}

#[test]
fn zero_resistance_becomes_one_milliohm_as_in_ngspice() {
    // ngspice 39 gives v(x) = 0.3 * 1k / (1k + 1m) for this deck.
    let circuit = parse("t\nv1 a 0 0.3\nr0 a x 0\nr1 x 0 1k\n.op\n");
    assert_eq!(resistance(&circuit, "r0"), 1e-3);
    assert_eq!(circuit.warnings.len(), 1);
}

#[test]
fn includes_resolve_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    std::fs::write(
        dir.path().join("lib/models.inc"),
        "* models\n.include 'more.inc'\n.model dd d is=1e-14\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("lib/more.inc"), ".param rr=3k\n").unwrap();
    std::fs::write(
        dir.path().join("top.cir"),
        "top\n.INCLUDE lib/models.inc\nd1 a 0 dd\nr1 a b {rr}\nv1 b 0 1\n.op\n",
    )
    .unwrap();
    let circuit = parse_file(&dir.path().join("top.cir")).unwrap();
    assert_eq!(resistance(&circuit, "r1"), 3e3);
    assert!(circuit.models.contains_key("dd"));

    std::fs::write(dir.path().join("lib/more.inc"), ".include ../top.cir\n").unwrap();
    let err = parse_file(&dir.path().join("top.cir")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::IncludeCycle);
    assert!(err.loc.file.ends_with("lib/more.inc"), "{err}");
    assert_eq!(err.loc.line, 1);
}

#[test]
fn errors_name_file_line_and_token() {
    let err = parse_err("t\nr1 a 0 1k\n\nydev a b c qmod\n.op\n");
    assert_eq!(
        err.to_string(),
        "deck.cir:4: unknown element type (supported: R C L K V I B E F G H D M Q X YMEMRISTOR) (ydev)"
    );
    let err = parse_err("t\nr1 a 0 {x}\n.param x={y+1}\n.param y={2*x}\n.op\n");
    assert_eq!(err.kind, ErrorKind::CircularParameter);
    let err = parse_err("t\nr1 a 0 1k\n+ 2k\n.op\n");
    assert_eq!((err.loc.line, err.token.as_str()), (2, "2k"));
    let err = parse_err("t\n.subckt s a b\nr1 a b 1\nv1 a 0 1\n");
    assert_eq!((err.kind, err.loc.line), (ErrorKind::UnterminatedSubckt, 2));
    let err = parse_err("t\n.subckt s a b\nr1 a b 1\nv1 a 0 1\n.op\n");
    assert_eq!(
        err.to_string(),
        "deck.cir:5: `.op` inside `.subckt s` (missing `.ends`?) (.op)"
    );
}

#[test]
fn title_control_blocks_end_and_memristors_in_subcircuits() {
    let circuit = parse(
        "first line\n\
         .title Real Title\n\
         .model mr memristor model=lid\n\
         .subckt cell a b\n\
         ymemristor m1 a b mr x0=0.5\n\
         .ends\n\
         x1 in 0 cell\n\
         v1 in 0 1\n\
         .control\n\
         run\n\
         .endc\n\
         .op\n\
         .end\n\
         q1 this line is after .end\n",
    );
    assert_eq!(circuit.title, "Real Title");
    assert_eq!(element(&circuit, "y.x1.m1").nodes, ["in", "0"]);
    assert!(circuit.warnings.is_empty());
    assert_eq!(circuit.control.len(), 1);
    assert_eq!(
        (
            circuit.control[0].text.as_str(),
            circuit.control[0].loc.line
        ),
        ("run", 10)
    );
}

#[test]
fn off_flags_warn_and_capacitor_only_nodes_float_unless_uic() {
    let circuit = parse(".\n.model dd d\nv1 a 0 1\nd1 a 0 dd off\n.op\n");
    assert!(circuit.warnings[0].message.contains("`off` ignored"));
    let deck = "rc\nv1 a 0 1\nr1 a 0 1k\nc1 a b 1n\nc2 b 0 1n\n";
    let err = parse_err(&format!("{deck}.tran 1n 1u\n"));
    assert_eq!(
        (
            err.kind.to_string().starts_with("floating node: `b`"),
            err.loc.line
        ),
        (true, 4)
    );
    // With uic there is no operating point: the capacitors' companion
    // conductances hold node b from the first step.
    parse(&format!("{deck}.tran 1n 1u uic\n"));
}

#[test]
fn save_all_keeps_everything() {
    let circuit = parse("t\nv1 a 0 1\nr1 a 0 1k\n.save all v(a)\n.op\n");
    assert!(circuit.saves.is_empty());
}

#[test]
fn bjts_with_and_without_substrate_and_version_words() {
    let circuit = parse(
        "bjts\n\
         .model qn npn(is=1e-16 bf=100)\n\
         .model qp pnp is=2e-16\n\
         .model b3 nmos level=3 version=3.3.0 tox=4n\n\
         q1 c b e qn\n\
         q2 c b e sub qp 2.5\n\
         q3 c b e qn area=3 off\n\
         m1 d g 0 0 b3 w=1u l=1u ad=2p as=3p pd=4u ps=5u nrd=1 nrs=2\n\
         v1 c 0 1\n\
         v2 g 0 1\n\
         r1 d 0 1k\n\
         .op\n",
    );
    assert_eq!(circuit.models["b3"].words["version"], "3.3.0");
    assert_eq!(circuit.models["b3"].params["level"], 3.0);
    let q1 = element(&circuit, "q1");
    assert_eq!(q1.nodes, ["c", "b", "e", "0"]);
    assert_eq!(
        q1.kind,
        ElementKind::Bjt {
            model: "qn".into(),
            area: 1.0
        }
    );
    let q2 = element(&circuit, "q2");
    assert_eq!(q2.nodes, ["c", "b", "e", "sub"]);
    assert_eq!(
        q2.kind,
        ElementKind::Bjt {
            model: "qp".into(),
            area: 2.5
        }
    );
    assert_eq!(
        element(&circuit, "q3").kind,
        ElementKind::Bjt {
            model: "qn".into(),
            area: 3.0
        }
    );
    let ElementKind::Mosfet { geometry, .. } = element(&circuit, "m1").kind else {
        panic!("m1 is a MOSFET");
    };
    assert_eq!(
        geometry,
        MosGeometry {
            ad: Some(2e-12),
            r#as: Some(3e-12),
            pd: Some(4e-6),
            ps: Some(5e-6),
            nrd: Some(1.0),
            nrs: Some(2.0)
        }
    );
    let err = parse_err("t\n.model qn npn\nq1 c b e qn -1\n.op\n");
    assert_eq!(err.loc.line, 3);
    let err = parse_err("t\n.model qn npn\nq1 c b e qn m=2\n.op\n");
    assert!(err.to_string().contains("multiplier"), "{err}");
    // BSIM cards are refused for their level, whatever else they hold.
    let err = parse_err("t\n.model n1 nmos level=54 version=4.8 toxe=1n\nv1 a 0 1\n.op\n");
    assert_eq!(
        err.to_string(),
        "deck.cir:2: MOSFET level 54 (BSIM4) is not supported (level)"
    );
}

#[test]
fn resistor_models_and_temperature_as_ngspice_computes_them() {
    let circuit = parse(
        "r\n.options tnom=25\n.temp 75\n.model rp r rsh=100 defw=2u narrow=0.1u short=0.5u tc1=1e-3 tc2=1e-6\n\
         .model rm r r=500 tnom=50\nv1 a 0 1\n\
         r1 a 0 rp l=10u\nr2 a 0 rp l=10u w=4u tc1=0\nr3 a 0 rm\nr4 a 0 1k tc=2e-3 m=4 ac=3k\n\
         r5 a 0 1k tc1=1e-2 temp=35 dtemp=100\nr6 a 0 rm 2k\n.op\n.end\n",
    );
    // r1: (l - 2 short)/(defw - 2 narrow)·rsh at 50 K above the options' tnom.
    let factor = 1.0 + 1e-3 * 50.0 + 1e-6 * 2500.0;
    let r1 = (10e-6 - 1e-6) / (2e-6 - 0.2e-6) * 100.0 * factor;
    assert!((resistance(&circuit, "r1") - r1).abs() < 1e-12 * r1);
    let r2 = (10e-6 - 1e-6) / (4e-6 - 0.2e-6) * 100.0 * (1.0 + 1e-6 * 2500.0);
    assert!((resistance(&circuit, "r2") - r2).abs() < 1e-12 * r2);
    // The model's own tnom; its default value when the instance gives none.
    assert_eq!(resistance(&circuit, "r3"), 500.0);
    let ElementKind::Resistor { resistance: r4, ac } = element(&circuit, "r4").kind else {
        panic!()
    };
    let f4 = 1.0 + 2e-3 * 50.0;
    assert!((r4 - 1e3 * f4 / 4.0).abs() < 1e-9);
    assert!((ac.unwrap_or(0.0) - 3e3 * f4 / 4.0).abs() < 1e-9);
    // An instance temperature wins over dtemp (with a warning).
    assert!((resistance(&circuit, "r5") - 1e3 * 1.1).abs() < 1e-9);
    assert!(circuit.warnings.iter().any(|w| w.message.contains("dtemp")));
    // A value on the instance wins over the model's r.
    assert_eq!(resistance(&circuit, "r6"), 2e3);
    let err = parse_err("r\n.model rp r rsh=1 bogus=2\nv1 a 0 1\nr1 a 0 rp l=1u\n.op\n.end\n");
    assert!(err.to_string().contains("deck.cir:4") && err.to_string().contains("bogus"));
}

#[test]
fn ac_analysis_and_source_phasors() {
    let circuit = parse(
        "ac\nv1 a 0 dc 1 ac\nv2 b 0 ac 2 45 sin(0 1 1k)\ni1 a b ac 1m\nr1 a b 1k\nr2 b 0 1k\n\
         l1 b 0 1m ic=1m\n.ac oct 4 1 1k\n.end\n",
    );
    let phasor = |name: &str| match &element(&circuit, name).kind {
        ElementKind::VoltageSource(s) | ElementKind::CurrentSource(s) => s.ac,
        _ => None,
    };
    assert_eq!(
        phasor("v1"),
        Some(AcPhasor {
            mag: 1.0,
            phase_deg: 0.0
        })
    );
    assert_eq!(
        phasor("v2"),
        Some(AcPhasor {
            mag: 2.0,
            phase_deg: 45.0
        })
    );
    assert_eq!(phasor("i1").map(|p| p.mag), Some(1e-3));
    assert_eq!(
        circuit.analyses,
        vec![Analysis::Ac(AcSweep {
            scale: AcScale::Oct,
            points: 4,
            fstart: 1.0,
            fstop: 1e3
        })]
    );
    for (deck, token) in [
        (".ac dec 10 0 1k", "0"),
        (".ac log 10 1 1k", "log"),
        (".ac dec 2.5 1 1k", "2.5"),
        (".ac dec 10 1k 1", "1"),
        (".ac dec 10 1", ".ac"),
    ] {
        let err = parse_err(&format!("ac\nv1 a 0 ac 1\nr1 a 0 1\n{deck}\n.end\n")).to_string();
        assert!(
            err.contains("deck.cir:4") && err.contains(token),
            "{deck}: {err}"
        );
    }
}

#[test]
fn controlled_sources_in_plain_and_poly_forms() {
    let circuit = parse(
        "ctrl\nv1 a 0 dc=1\nr1 a b 1k\nvs b 0 0\n.subckt amp in out\ne1 out 0 in 0 10\nvs out m 0\nr1 m 0 1k\nf1 0 out vs 2\n.ends\n\
         x1 a o amp\ng1 0 c poly(2) a 0 b 0 1m 2m 3m 4m\nrc c 0 1k\nh1 d 0 poly(1) vs 0 1k\nrd d 0 1k\n.op\n",
    );
    assert_eq!(
        element(&circuit, "e.x1.e1").kind,
        ElementKind::Vcvs(Polynomial {
            dims: 1,
            coeffs: vec![0.0, 10.0],
            written_as_poly: false
        })
    );
    assert_eq!(element(&circuit, "e.x1.e1").nodes, ["o", "0", "a", "0"]);
    // A control inside a subcircuit is that instance's element (ngspice:
    // "unknown controlling source v.x1.vs" when only the top level has one).
    let ElementKind::Cccs { ref controls, .. } = element(&circuit, "f.x1.f1").kind else {
        panic!("f.x1.f1 is not a CCCS");
    };
    assert_eq!(controls, &["v.x1.vs"]);
    let ElementKind::Vccs(ref poly) = element(&circuit, "g1").kind else {
        panic!("g1 is not a VCCS");
    };
    assert_eq!((poly.dims, poly.coeffs.len()), (2, 4));
    assert_eq!(
        element(&circuit, "g1").nodes,
        ["0", "c", "a", "0", "b", "0"]
    );
    let ElementKind::VoltageSource(ref v1) = element(&circuit, "v1").kind else {
        panic!("v1 is not a voltage source");
    };
    assert_eq!(v1.dc, 1.0);
}

#[test]
fn ic_nodeset_and_options_ngspice_knows() {
    let circuit = parse(
        "ic\nv1 a 0 1\nr1 a b 1k\nc1 b 0 1n\n.ic v(b)=0.5 V(a) = 1\n.nodeset v(b)={2*0.25}\n\
         .options post temp=50 trtol=5 bogus\n.width out=80\n.probe v(b)\n.plot tran v(b)\n.tran 1n 1u\n",
    );
    assert_eq!(
        circuit.initial_conditions,
        [("b".to_string(), 0.5), ("a".to_string(), 1.0)]
    );
    assert_eq!(circuit.nodesets, [("b".to_string(), 0.5)]);
    assert_eq!(circuit.options["trtol"], 5.0);
    let messages: Vec<&str> = circuit
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("ngspice option `post` has no effect"));
    assert!(messages[1].contains("`temp=50` ignored"));
    assert!(messages[2].contains("unknown option `bogus`"));
    assert!(circuit.saves.is_empty());
    assert_eq!(circuit.prints, [OutputVector::Voltage("b".into(), None)]);
}

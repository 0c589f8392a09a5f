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
        ElementKind::Resistor { resistance } => resistance,
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
            l: Some(1e-6)
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
            waveform: None
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
    let err = parse_err("t\nr1 a 0 1k\n\nq1 a b c qmod\n.op\n");
    assert_eq!(
        err.to_string(),
        "deck.cir:4: unknown element type (supported: R C V I D M X B YMEMRISTOR, E/G with value=) (q1)"
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
    assert_eq!(circuit.warnings.len(), 1);
    assert!(circuit.warnings[0].message.contains(".control"));
    assert_eq!(circuit.warnings[0].loc.line, 9);
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

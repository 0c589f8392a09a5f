//! Elaboration of the behavioural constructs: what the engine receives for
//! B sources, E/G `value=`, expression resistors and capacitors, `.func`
//! and parameter chains, and the errors for what is refused.

use std::path::Path;

use xbar_netlist::expr::{Expr, Probe, Var};
use xbar_netlist::{Behavior, ElementKind};

fn parse(deck: &str) -> Result<xbar_netlist::Circuit, xbar_netlist::NetlistError> {
    xbar_netlist::parse_str(deck, Path::new("deck.cir"))
}

fn behavioral<'c>(c: &'c xbar_netlist::Circuit, name: &str) -> (Behavior, &'c Expr) {
    let e = c
        .elements
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no element {name}"));
    match &e.kind {
        ElementKind::Behavioral { quantity, expr } => (*quantity, expr),
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn a_chain_of_ten_thousand_parameters_evaluates_without_recursion() {
    let mut deck = String::from("chain\n.param p0=1\n");
    for i in 1..=10_000 {
        deck.push_str(&format!(".param p{i}={{p{}+1}}\n", i - 1));
    }
    deck.push_str("v1 a 0 {p10000}\nr1 a 0 1k\n.op\n");
    // On a small stack, as a test thread or a library user's thread has.
    let circuit = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || parse(&deck))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    let ElementKind::VoltageSource(ref v1) = circuit.elements[0].kind else {
        panic!("v1 is not a voltage source");
    };
    assert_eq!(v1.dc, 10_001.0);
}

#[test]
fn circular_parameters_are_named_even_in_long_chains() {
    let mut deck = String::from("cycle\n.param p0={p3000}\n");
    for i in 1..=3000 {
        deck.push_str(&format!(".param p{i}={{p{}+1}}\n", i - 1));
    }
    deck.push_str("v1 a 0 {p10}\nr1 a 0 1k\n.op\n");
    let err = parse(&deck).unwrap_err();
    assert!(
        err.to_string().contains("circular parameter definition"),
        "{err}"
    );
}

#[test]
fn subcircuit_names_flatten_as_ngspice_names_them() {
    let deck = "flatten\n\
        .subckt cell a b params: k=2\n\
        v1 a n 0\n\
        b1 n b I=k*V(n,b) + I(v1) + V(a)\n\
        .ends\n\
        vin in 0 1\n\
        x1 in 0 cell k=3\n\
        b2 out 0 V=I(vin)*time + temper\n\
        r1 out 0 1k\n\
        .op\n";
    let c = parse(deck).unwrap();
    let (quantity, expr) = behavioral(&c, "b.x1.b1");
    assert_eq!(quantity, Behavior::Current);
    assert_eq!(
        expr.probes(),
        vec![
            Probe::Voltage("x1.n".into(), Some("0".into())),
            Probe::Current("v.x1.v1".into()),
            Probe::Voltage("in".into(), None),
        ]
    );
    // The instance override is a number in the resolved expression.
    let mut numbers = Vec::new();
    expr.walk(&mut |e| {
        if let Expr::Num(v) = e {
            numbers.push(*v)
        }
    });
    assert_eq!(numbers, vec![3.0]);
    let (quantity, expr) = behavioral(&c, "b2");
    assert_eq!(quantity, Behavior::Voltage);
    let mut vars = Vec::new();
    expr.walk(&mut |e| {
        if let Expr::Var(v) = e {
            vars.push(*v)
        }
    });
    assert_eq!(vars, vec![Var::Time, Var::Temper]);
}

#[test]
fn expression_resistors_capacitors_and_controlled_sources() {
    let deck = "forms\n\
        v1 c 0 1\n\
        r1 c a r={V(c)*1k}\n\
        r2 a 0 {2*1k}\n\
        c1 a 0 c={1u*V(c)}\n\
        c2 a 0 {1u*V(a)}\n\
        e1 o 0 value={2*V(a)}\n\
        r3 o 0 1k\n\
        g1 0 o cur='V(a)*1m'\n\
        .op\n";
    let c = parse(deck).unwrap();
    let (q, expr) = behavioral(&c, "r1");
    assert_eq!(q, Behavior::Current);
    assert_eq!(expr.to_string(), "(v(c,a) / (v(c) * 1e3))");
    // A constant expression keeps the plain, fast resistor.
    assert!(matches!(
        c.elements.iter().find(|e| e.name == "r2").unwrap().kind,
        ElementKind::Resistor { resistance } if resistance == 2000.0
    ));
    assert_eq!(behavioral(&c, "c1").0, Behavior::Capacitance);
    assert_eq!(behavioral(&c, "c2").0, Behavior::Charge);
    assert_eq!(behavioral(&c, "e1").0, Behavior::Voltage);
    assert_eq!(behavioral(&c, "g1").0, Behavior::Current);
}

#[test]
fn refusals_name_file_line_and_feature() {
    for (deck, line, want) in [
        ("t\nv1 a 0 1\nb1 a 0 I=limit(1, 2)\n.op\n", 3, "limit"),
        ("t\nv1 a 0 1\nb1 b 0 V=ddt(V(a))\nr1 b 0 1\n.op\n", 3, "ddt"),
        (
            "t\n.func f(x) = {g(x)}\n.func g(x) = {f(x)}\nv1 a 0 {f(1)}\nr1 a 0 1\n.op\n",
            2,
            "calls itself",
        ),
        (
            "t\nv1 a 0 {nosuch(1)}\nr1 a 0 1\n.op\n",
            2,
            "unknown function `nosuch`",
        ),
        (
            "t\n.func f(x, y) = {x*y}\nv1 a 0 {f(1)}\nr1 a 0 1\n.op\n",
            3,
            "takes 2 argument",
        ),
        (
            "t\n.param p={V(a)}\nv1 a 0 {p}\nr1 a 0 1\n.op\n",
            2,
            "simulation quantity",
        ),
        ("t\nv1 a 0 1\nb1 a 0 X=1\n.op\n", 3, "`V=expr` or `I=expr`"),
        ("t\n.func sin(x) = {x}\nv1 a 0 1\n.op\n", 2, "built-in"),
    ] {
        let err = parse(deck).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("deck.cir:{line}:")) && message.contains(want),
            "{deck:?}: {message}"
        );
    }
}

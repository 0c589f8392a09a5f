//! Hostile decks: each is refused with an error that names the place and
//! the limit, quickly and within bounded memory.

use std::path::Path;

use xbar_netlist::{parse_file, parse_str, parse_str_with, ErrorKind, Limits};

/// `levels` nested subcircuits of `fanout` instances each over one resistor:
/// fanout^levels elements from a deck of a few hundred bytes.
fn multiplying_deck(levels: usize, fanout: usize) -> String {
    let mut deck = String::from("billion laughs\n.subckt l0 a b\nr1 a b 1k\n.ends\n");
    for level in 1..=levels {
        deck += &format!(".subckt l{level} a b\n");
        for k in 0..fanout {
            deck += &format!("x{k} a b l{}\n", level - 1);
        }
        deck += ".ends\n";
    }
    deck + &format!("v1 in 0 1\nx1 in 0 l{levels}\n.op\n.end\n")
}

#[test]
fn billion_laughs_is_refused_at_the_element_limit() {
    let limits = Limits {
        max_elements: 10_001,
        ..Limits::default()
    };
    let err =
        parse_str_with(&multiplying_deck(10, 10), Path::new("laughs.cir"), &limits).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Limit(_)), "{err}");
    let message = err.to_string();
    // The element that would have been one too many: l0's resistor, line 3.
    assert!(message.starts_with("laughs.cir:3: "), "{message}");
    assert!(message.contains("more than 10001 elements"), "{message}");
    assert!(message.contains("--max-elements"), "{message}");
    // At the limit is accepted: the bound counts elements exactly.
    let circuit =
        parse_str_with(&multiplying_deck(4, 10), Path::new("laughs.cir"), &limits).unwrap();
    assert_eq!(circuit.elements.len(), 10_000 + 1);
}

/// A chain `s0 -> s1 -> ... -> s{depth-1}` of distinct subcircuits.
fn chain_deck(depth: usize) -> String {
    let mut deck = String::from("deep chain\n");
    for i in 0..depth {
        deck += &format!(".subckt s{i} a b\n");
        if i + 1 < depth {
            deck += &format!("x1 a b s{}\n", i + 1);
        } else {
            deck += "r1 a b 1k\n";
        }
        deck += ".ends\n";
    }
    deck + "v1 a 0 1\nx1 a 0 s0\n.op\n.end\n"
}

#[test]
fn deep_nesting_is_a_limit_not_recursion() {
    // 100 levels of instances are accepted ...
    let circuit = parse_str(&chain_deck(100), Path::new("chain.cir")).unwrap();
    assert_eq!(circuit.elements.len(), 2);
    // ... 101 are refused as too deep, not as a subcircuit instantiating itself.
    let err = parse_str(&chain_deck(101), Path::new("chain.cir")).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err.kind, ErrorKind::Limit(_)), "{message}");
    assert!(message.contains("nested deeper than 100"), "{message}");
    assert!(!message.contains("instantiates itself"), "{message}");
}

#[test]
fn deeply_nested_definitions_are_refused() {
    let mut deck = String::from("nested definitions\n");
    for i in 0..101 {
        deck += &format!(".subckt d{i} a b\n");
    }
    let err = parse_str(&deck, Path::new("nest.cir")).unwrap_err();
    assert_eq!(err.loc.line, 102, "{err}");
    assert!(
        err.to_string()
            .contains("definitions nested deeper than 100"),
        "{err}"
    );
}

#[test]
fn including_a_device_is_refused_without_reading_it() {
    let deck = "dev zero\nv1 a 0 1\nr1 a 0 1k\n.include /dev/zero\n.op\n.end\n";
    let err = parse_str(deck, Path::new("zero.cir")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "zero.cir:4: cannot read file: not a regular file (/dev/zero)"
    );
    let err = parse_file(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/dev/zero: cannot read file: not a regular file (/dev/zero)"
    );
}

#[test]
fn an_included_file_over_the_size_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.inc");
    // 2 kB of valid resistors; the limit is 1 kB.
    let text: String = (0..100).map(|i| format!("r{i:03} a 0 1k\n")).collect();
    assert!(text.len() > 1024);
    std::fs::write(&big, &text).unwrap();
    let top = dir.path().join("top.cir");
    std::fs::write(&top, "top\nv1 a 0 1\n.include big.inc\n.op\n.end\n").unwrap();
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let err = xbar_netlist::parse_file_with(&top, &limits).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.loc.line, 3, "{message}");
    assert!(message.contains("file larger than 1024 bytes"), "{message}");
    assert!(message.contains("--max-file-bytes"), "{message}");
    // The same deck within the default limits.
    assert_eq!(parse_file(&top).unwrap().elements.len(), 101);
}

#[test]
fn an_empty_deck_names_its_file() {
    let err = parse_str("just a title\n", Path::new("empty.cir")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "empty.cir: deck has no elements (just a title)"
    );
    let err = parse_str("", Path::new("nothing.cir")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("nothing.cir: deck has no elements"),
        "{err}"
    );
}

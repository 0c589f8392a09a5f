//! Property tests: random text, mutations of real decks and decks built from
//! grammar fragments (every construct of the dialect, valid and broken, and
//! the hostile ones: devices, system files, multiplying and deep
//! subcircuits) never panic the parser; it returns a circuit or a typed
//! error that names its file.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use xbar_netlist::{parse_str_with, Limits};

fn example_decks() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut decks = Vec::new();
    for dir in ["netlists", "tests/decks", "tests/malformed"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cir") {
                decks.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    decks.sort();
    decks
}

/// Fragments that steer mutations towards the parser's interesting corners.
const FRAGMENTS: &[&str] = &[
    "\n+",
    "{",
    "}",
    "'",
    "(",
    ")",
    "=",
    ",",
    " $ ",
    ";",
    "\n.subckt s a b\n",
    "\n.ends\n",
    ".param p={p}",
    "x1 a b s",
    "1meg",
    "1e999",
    "-",
    "**",
    "^",
    "sqrt(-1)",
    "\n.end\n",
    "\n.include nowhere\n",
    "pulse(",
    "pwl(0 1",
    "gnd",
    "\n*",
    "v1",
    "i(",
    "v(",
    ".dc v1 0 1 0",
    ".tran 1n",
    "\u{e9}",
    "\0",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(a, f)| Mutation::Insert(a, f)),
        (any::<usize>(), 1..80usize).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return text.to_string();
    }
    let at = |i: usize| i % (chars.len() + 1);
    let s = |a: usize, b: usize| {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    match *mutation {
        Mutation::Delete(a, n) => s(0, at(a)) + &s(at(a) + n, chars.len()),
        Mutation::Insert(a, f) => s(0, at(a)) + FRAGMENTS[f] + &s(at(a), chars.len()),
        Mutation::Duplicate(a, n) => s(0, at(a) + n) + &s(at(a), chars.len()),
        Mutation::Swap(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            let len = lines.len();
            lines.swap(a % len, b % len);
            lines.join("\n")
        }
    }
}

/// Node names, including ground's spellings.
fn node() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("gnd".to_string()),
        "[a-c][0-2]?".prop_map(String::from),
    ]
}

/// Values: numbers with SPICE suffixes, expressions and broken ones.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[1-9][0-9]{0,2}(\\.[0-9]{1,2})?(e-?[0-9]{1,2})?(f|p|n|u|m|k|meg|g|t|mil)?".prop_map(String::from),
        2 => "\\{(p|q|[0-9]+)( ?[-+*/^] ?(p|q|[0-9]+|sqrt\\(4\\)|min\\(1,2\\)))*\\}".prop_map(String::from),
        1 => "'(p|q)\\*2'".prop_map(String::from),
        1 => prop::sample::select(vec!["-1", "0", "1e999", "nan", "inf", "1x", "{", "}", "{1/0}", "{p", "'", "1e-400", "--1", "{sqrt(-1)}"]).prop_map(String::from),
    ]
}

/// Independent source values and waveforms.
fn source_value() -> impl Strategy<Value = String> {
    prop_oneof![
        value().prop_map(|v| format!("dc {v}")),
        value(),
        (value(), value()).prop_map(|(a, b)| format!("pulse({a} {b} 1n 1n 1n 5n 10n)")),
        (value(), value()).prop_map(|(a, b)| format!("sin(0 {a} {b})")),
        (value(), value()).prop_map(|(a, b)| format!("pwl(0 {a} 1u {b})")),
        Just("pulse(".to_string()),
        Just("pwl(0 1 0 2)".to_string()),
    ]
}

/// One statement of the dialect (a logical line, maybe continued).
fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..9u8, node(), node(), value()).prop_map(|(k, a, b, v)| format!("r{k} {a} {b} {v}")),
        1 => (0..9u8, node(), node(), value()).prop_map(|(k, a, b, v)| format!("c{k} {a} {b} {v} ic={v}")),
        3 => (0..9u8, node(), node(), source_value()).prop_map(|(k, a, b, v)| format!("v{k} {a} {b} {v}")),
        1 => (0..9u8, node(), node(), source_value()).prop_map(|(k, a, b, v)| format!("i{k} {a} {b} {v}")),
        1 => (0..9u8, node(), node()).prop_map(|(k, a, b)| format!("d{k} {a} {b} dm")),
        1 => (0..9u8, node(), node(), node(), value()).prop_map(|(k, d, g, s, w)| format!("m{k} {d} {g} {s} 0 nm w={w} l=1u")),
        1 => (0..9u8, node(), node(), value()).prop_map(|(k, a, b, x)| format!("ymemristor ym{k} {a} {b} hp x0={x}")),
        2 => (0..9u8, node(), node(), prop::sample::select(vec!["s", "t", "nowhere"]), value())
            .prop_map(|(k, a, b, sub, v)| format!("x{k} {a} {b} {sub} p={v}")),
        2 => (prop::sample::select(vec!["p", "q"]), value()).prop_map(|(p, v)| format!(".param {p}={v}")),
        1 => value().prop_map(|v| format!(".model dm d(is={v} n=1.2 rs=2)")),
        1 => value().prop_map(|v| format!(".model nm nmos level=1 vto=0.7 kp={v}")),
        1 => value().prop_map(|v| format!(".model hp memristor model=lid window=joglekar p=1 ron=100 roff=16k d=10n uv={v}")),
        1 => (node(), value()).prop_map(|(a, v)| format!(".subckt s {a} b p=1\nr1 {a} b {v}\n.ends s")),
        1 => Just(".subckt t a b\nx1 a b t\n.ends".to_string()),
        1 => Just(".subckt u a b\nx1 a b s\nx2 a b s\n.ends\nxu1 a 0 u".to_string()),
        1 => (0..9u8, value(), value()).prop_map(|(k, a, b)| format!(".dc v{k} {a} {b} {a}")),
        1 => (value(), value()).prop_map(|(a, b)| format!(".tran {a} {b}")),
        1 => Just(".op".to_string()),
        1 => value().prop_map(|v| format!(".options reltol={v} method=gear")),
        1 => node().prop_map(|a| format!(".save v({a}) i(v1)")),
        1 => node().prop_map(|a| format!(".print dc v({a})")),
        1 => Just(".control\nrun\n.endc".to_string()),
        1 => prop::sample::select(vec![
            ".include /dev/zero", ".include /etc/passwd", ".include /", ".include missing.inc",
            ".inc", ".lib x", ".ends", ".end", "+ 1k", "* comment", "r1 a b 1k ; tail", "r1 a b 1k $ tail",
            ".ac dec 10 1 1k", ".title t", "\u{e9}\0", "x",
        ]).prop_map(String::from),
    ]
}

/// `levels` nested subcircuits of `fanout` instances each.
fn multiplying(levels: usize, fanout: usize) -> String {
    let mut deck = String::from(".subckt l0 a b\nr1 a b 1k\n.ends\n");
    for level in 1..=levels {
        deck += &format!(".subckt l{level} a b\n");
        for k in 0..fanout {
            deck += &format!("x{k} a b l{}\n", level - 1);
        }
        deck += ".ends\n";
    }
    deck + &format!("xtop in 0 l{levels}\n")
}

/// Parses within small limits and checks the error names the file.
fn check(text: &str) -> Result<(), TestCaseError> {
    let limits = Limits {
        max_elements: 5_000,
        ..Limits::default()
    };
    if let Err(err) = parse_str_with(text, Path::new("fragments.cir"), &limits) {
        // Named by its file: the deck, or the included file it is in.
        let message = err.to_string();
        let file = err.loc.file.display().to_string();
        prop_assert!(
            !file.is_empty() && message.starts_with(&file),
            "{}",
            message
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn decks_from_grammar_fragments_never_panic(
        statements in prop::collection::vec(statement(), 1..16),
        hostile in prop::option::of((1..8usize, 2..12usize)),
    ) {
        let mut text = format!("fragments\n{}\n", statements.join("\n"));
        if let Some((levels, fanout)) = hostile {
            text += &multiplying(levels, fanout);
        }
        check(&text)?;
    }

    #[test]
    fn broken_grammar_fragments_never_panic(
        statements in prop::collection::vec(statement(), 1..12),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut text = format!("fragments\n{}\n", statements.join("\n"));
        for m in &mutations {
            text = apply(&text, m);
        }
        check(&text)?;
    }

    #[test]
    fn random_text_never_panics(text in "(?s).{0,400}") {
        let _ = xbar_netlist::parse_str(&text, Path::new("random.cir"));
    }

    #[test]
    fn spice_like_tokens_never_panic(lines in prop::collection::vec(
        "([rcvidmxy][a-z0-9]{0,3}|\\.(param|subckt|ends|model|dc|tran|op|save|options|include)|\\+)( ([a-z0-9.{}'()=*+/^-]{1,8}))*", 1..12)) {
        let text = format!("title\n{}\n", lines.join("\n"));
        let _ = xbar_netlist::parse_str(&text, Path::new("tokens.cir"));
    }

    #[test]
    fn mutated_example_decks_never_panic(pick in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let decks = example_decks();
        let mut text = decks[pick % decks.len()].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        let _ = xbar_netlist::parse_str(&text, Path::new("netlists/mutated.cir"));
    }
}

//! Property tests: random text and mutations of real decks never panic the
//! parser; it returns a circuit or a typed error.

use std::path::Path;

use proptest::prelude::*;

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

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

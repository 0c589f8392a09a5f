//! The malformed-deck corpus in `tests/malformed/`: every deck is rejected
//! with the error its title line announces (`expect FILE:LINE: substring`).

use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/malformed");
    let mut decks: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cir"))
        .collect();
    decks.sort();
    decks
}

/// `(file, line, substring)` from the deck's title line.
pub fn expectation(deck: &Path) -> (String, usize, String) {
    let text = std::fs::read_to_string(deck).unwrap();
    let title = text.lines().next().unwrap();
    let rest = title
        .strip_prefix("expect ")
        .unwrap_or_else(|| panic!("{}: no expectation", deck.display()));
    let (place, substring) = rest.split_once(": ").unwrap();
    let (file, line) = place.rsplit_once(':').unwrap();
    (
        file.to_string(),
        line.parse().unwrap(),
        substring.to_string(),
    )
}

#[test]
fn every_malformed_deck_fails_with_its_message_file_and_line() {
    let decks = corpus();
    assert!(decks.len() >= 25, "only {} malformed decks", decks.len());
    let mut failures = Vec::new();
    for deck in decks {
        let (file, line, substring) = expectation(&deck);
        let err = match xbar_netlist::parse_file(&deck) {
            Ok(_) => {
                failures.push(format!("{} was accepted", deck.display()));
                continue;
            }
            Err(err) => err,
        };
        let message = err.to_string();
        let prefix = format!("{}:{line}: ", err.loc.file.display());
        if !message.contains(&substring)
            || !err.loc.file.ends_with(&file)
            || !message.starts_with(&prefix)
        {
            failures.push(format!(
                "{}: got `{message}`, want {file}:{line} and `{substring}`",
                deck.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

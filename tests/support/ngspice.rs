//! The one way tests compare with ngspice, shared by the test files of every
//! crate (each includes this file with `#[path]`).
//!
//! A test names the committed ngspice answer it relies on and how to get a
//! live one. Its check then runs against the committed answer always, and
//! against ngspice's live answer as well when ngspice can be run: so without
//! ngspice the test still compares (never a silent pass), and with it the
//! committed answers are re-checked.
//!
//! - `XBAR_NGSPICE=none` behaves as a machine without ngspice; any other
//!   value names the ngspice program (default `ngspice` on `PATH`).
//! - `XBAR_BLESS_GOLDEN=1` (with ngspice) rewrites the committed answers of
//!   the text kind ([`answers_in_file`]) from the live run.
//! - Each comparing test prints one line `ngspice reference: NAME: ORIGINS`
//!   to stderr, so that
//!   `cargo test --workspace -- --nocapture 2>&1 | grep -o 'ngspice reference: ' | wc -l`
//!   counts them; the count is the same with and without ngspice.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ngspice program to run live, or `None` (disabled by
/// `XBAR_NGSPICE=none`, or not installed).
pub fn program() -> Option<String> {
    let program = match std::env::var("XBAR_NGSPICE") {
        Ok(value) if value == "none" => return None,
        Ok(value) => {
            // Named explicitly: it must run.
            assert!(
                runs(&value),
                "XBAR_NGSPICE={value} does not run (`{value} --version` failed)"
            );
            return Some(value);
        }
        Err(_) => "ngspice".to_string(),
    };
    runs(&program).then_some(program)
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An ngspice command for the live run (panics if there is none: call it
/// only from the `live` closure of [`answers`]).
pub fn command() -> Command {
    Command::new(program().expect("ngspice is not available"))
}

/// One ngspice answer and where it came from (for failure messages).
pub struct Answer<T> {
    pub value: T,
    pub origin: String,
}

/// The answers to check against: the committed one (`committed` loads it and
/// must panic, naming the file, when it is missing), then ngspice's live one
/// when ngspice can be run (`live` gets the program name).
pub fn answers<T>(
    name: &str,
    committed: impl FnOnce() -> T,
    live: impl FnOnce(&str) -> T,
) -> Vec<Answer<T>> {
    let mut out = vec![Answer {
        value: committed(),
        origin: format!("committed answer of {name}"),
    }];
    if let Some(program) = program() {
        out.push(Answer {
            value: live(&program),
            origin: format!("live {program} on {name}"),
        });
    }
    let origins: Vec<&str> = out
        .iter()
        .map(|a| {
            if a.origin.starts_with("live") {
                "live"
            } else {
                "committed"
            }
        })
        .collect();
    eprintln!("ngspice reference: {name}: {}", origins.join("+"));
    out
}

/// [`answers`] for an answer kept as one text file `golden` (relative to the
/// repository root, e.g. an ngspice ascii raw file). `live` returns the same
/// kind of text; with `XBAR_BLESS_GOLDEN` set it replaces the committed file.
pub fn answers_in_file(golden: &str, live: impl FnOnce(&str) -> String) -> Vec<Answer<String>> {
    let path = repo().join(golden);
    let bless = std::env::var_os("XBAR_BLESS_GOLDEN").is_some();
    let mut live = Some(live);
    let blessed = bless.then(|| {
        let program = program().expect("XBAR_BLESS_GOLDEN needs ngspice");
        let text = (live.take().unwrap())(&program);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        text
    });
    answers(
        golden,
        || {
            std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "committed ngspice answer {}: {e} (write it with XBAR_BLESS_GOLDEN=1 and ngspice installed)",
                    path.display()
                )
            })
        },
        |program| match (blessed, live) {
            (Some(text), _) => text,
            (None, Some(live)) => live(program),
            (None, None) => unreachable!("the live run is taken only when blessing"),
        },
    )
}

/// Runs `ngspice -b -r out.raw deck.cir` (ascii raw) on `deck` in a
/// temporary folder and returns the raw file's text.
pub fn run_raw(program: &str, deck: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let cir = dir.path().join("deck.cir");
    let raw = dir.path().join("out.raw");
    std::fs::write(&cir, deck).expect("write deck");
    let out = Command::new(program)
        .arg("-b")
        .arg("-r")
        .arg(&raw)
        .arg(&cir)
        .env("SPICE_ASCIIRAWFILE", "1")
        .current_dir(dir.path())
        .output()
        .expect("run ngspice");
    assert!(
        out.status.success(),
        "ngspice failed on\n{deck}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&raw).expect("read raw")
}

//! Helpers shared by the `xbar study` / `xbar infer` integration tests:
//! running the binary, writing study configs into temporary folders, and
//! reading the folders and CSVs the runs write.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const XBAR: &str = env!("CARGO_BIN_EXE_xbar");

/// The model shipped with the repository.
pub const SHIPPED_MODEL: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mnist_shared.xbm");

/// `xbar` with `args`, cut off from the user's download mirror and model
/// choice so the tests see only what they set.
pub fn command(xbar: &Path) -> Command {
    let mut c = Command::new(xbar);
    c.env_remove("XBAR_MNIST_URL").env_remove("XBAR_MODEL");
    c
}

pub fn xbar(args: &[&str]) -> Output {
    command(Path::new(XBAR)).args(args).output().unwrap()
}

/// Runs `xbar args`, asserts success and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = xbar(args);
    assert!(
        out.status.success(),
        "xbar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `xbar args`, asserts failure and returns its stderr.
pub fn err(args: &[&str]) -> String {
    let out = xbar(args);
    assert!(!out.status.success(), "xbar {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Writes the study config `text` as `dir/name`.
pub fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `text` with `from` replaced by `to` (nothing when `from` is empty);
/// `from` must occur, so a case never silently tests the unedited config.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return text.to_string();
    }
    assert!(text.contains(from), "`{from}` is not in the config");
    text.replace(from, to)
}

/// A study folder's trials.csv without its last column (runtime_s, the
/// one thing that differs between runs of one study).
pub fn trials_without_runtime(dir: &Path) -> String {
    read(&dir.join("trials.csv"))
        .lines()
        .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
        .collect()
}

/// CSV rows of `text` as header → field maps.
pub fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Rows of the CSV file at `path` as header → field maps.
pub fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    csv_rows(&read(path))
}

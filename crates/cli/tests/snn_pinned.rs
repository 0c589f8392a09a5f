//! The headline inference runs pinned exactly. Inference is deterministic
//! (seeded spike trains and device samples, results independent of the
//! thread count), so for the first `IMAGES` test images every mapping and
//! preset of the README's results table must give the same predictions and
//! spike counts, bit for bit: `confusion.csv` and `layers.csv` are compared
//! byte for byte with the files committed in `tests/pinned/<run>/`, and the
//! number of correct answers with the count written here. A change in any
//! arithmetic the network sees (a conductance, a converter level, a
//! threshold, a random stream) changes some spike count and fails.
//!
//! After an intended change of results, rewrite the committed files with
//! `XBAR_BLESS_PINNED=1 cargo test -p xbar --test snn_pinned` and explain the
//! change in the commit.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
mod study_common;

use std::path::{Path, PathBuf};

use mnist_support::mnist_dir;
use study_common::{ok, read, s};

/// Test images per pinned run: enough that every output class occurs, few
/// enough for CI.
const IMAGES: usize = 100;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `xbar infer` on the first [`IMAGES`] test images with the shipped
/// model and `args`, then checks its outputs against `tests/pinned/<name>/`
/// and its number of correct answers against `correct`.
fn pinned(name: &str, args: &[&str], correct: u64) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mnist = mnist_dir();
    let limit = IMAGES.to_string();
    let model = repo().join("models/mnist_shared.xbm");
    let mut command = vec![
        "infer",
        "--limit",
        &limit,
        "--model",
        s(&model),
        "--mnist",
        s(&mnist),
        "--out",
        s(&out),
    ];
    command.extend_from_slice(args);
    ok(&command);
    let committed = repo().join("tests/pinned").join(name);
    if std::env::var_os("XBAR_BLESS_PINNED").is_some() {
        std::fs::create_dir_all(&committed).unwrap();
        for file in ["confusion.csv", "layers.csv"] {
            std::fs::copy(out.join(file), committed.join(file)).unwrap();
        }
    }
    for file in ["confusion.csv", "layers.csv"] {
        assert_eq!(
            read(&out.join(file)),
            read(&committed.join(file)),
            "{name}: {file} differs from tests/pinned/{name}/{file}"
        );
    }
    let confusion: Vec<Vec<u64>> = read(&out.join("confusion.csv"))
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|c| c.parse().unwrap()).collect())
        .collect();
    let total: u64 = confusion.iter().flatten().sum();
    let diagonal: u64 = (0..10).map(|c| confusion[c][c]).sum();
    assert_eq!(total, IMAGES as u64, "{name}");
    assert_eq!(diagonal, correct, "{name}: correct answers");
    let summary = read(&out.join("summary.csv"));
    let accuracy = summary.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    assert_eq!(
        accuracy.parse::<f64>().unwrap(),
        correct as f64 / IMAGES as f64,
        "{name}"
    );
}

fn preset(name: &str) -> String {
    repo().join("models").join(name).display().to_string()
}

#[test]
fn ideal() {
    pinned("ideal", &["--mapping", "ideal"], 100);
}

#[test]
fn shared() {
    pinned("shared", &["--mapping", "shared"], 100);
}

#[test]
fn dense() {
    pinned("dense", &["--mapping", "dense"], 100);
}

#[test]
fn shared_rram() {
    let p = preset("nonideal_rram.toml");
    pinned(
        "shared_rram",
        &["--mapping", "shared", "--nonideal", &p],
        99,
    );
}

#[test]
fn shared_pcm() {
    let p = preset("nonideal_pcm.toml");
    pinned(
        "shared_pcm",
        &["--mapping", "shared", "--nonideal", &p],
        100,
    );
}

#[test]
fn dense_rram() {
    let p = preset("nonideal_rram.toml");
    pinned("dense_rram", &["--mapping", "dense", "--nonideal", &p], 98);
}

#[test]
fn dense_pcm() {
    let p = preset("nonideal_pcm.toml");
    pinned("dense_pcm", &["--mapping", "dense", "--nonideal", &p], 100);
}

//! Helpers shared by the `xbar sim` integration tests: running the binary,
//! reading its CSVs, reading ngspice's ascii raw files and golden CSVs.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One analysis' table: column names and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let index = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[index]).collect())
    }
}

pub fn run_sim(deck: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xbar"))
        .arg("sim")
        .arg(deck)
        .arg("--out")
        .arg(out)
        .output()
        .expect("running xbar")
}

pub fn read_csv(path: &Path) -> Table {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let columns = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|v| {
                    v.parse::<f64>()
                        .unwrap_or_else(|e| panic!("{}: `{v}`: {e}", path.display()))
                })
                .collect()
        })
        .collect();
    Table { columns, rows }
}

/// Linear interpolation of (xs, ys) at x; xs ascending, held constant
/// outside the range.
pub fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let k = xs.partition_point(|&t| t < x);
    if k == 0 {
        return ys[0];
    }
    if k == xs.len() {
        return ys[xs.len() - 1];
    }
    let (x0, x1) = (xs[k - 1], xs[k]);
    if x1 == x0 {
        return ys[k];
    }
    ys[k - 1] + (ys[k] - ys[k - 1]) * (x - x0) / (x1 - x0)
}

/// Runs ngspice (`program`) in batch mode on `deck` and returns its plots
/// by kind (`op`, `dc`, `ac`, `tran`).
pub fn run_ngspice(program: &str, deck: &Path, work: &Path) -> BTreeMap<String, Table> {
    let raw = work.join("ngspice.raw");
    let output = Command::new(program)
        .arg("-b")
        .arg("-r")
        .arg(&raw)
        .arg(deck.file_name().unwrap())
        .current_dir(deck.parent().unwrap())
        .env("SPICE_ASCIIRAWFILE", "1")
        .output()
        .expect("running ngspice");
    assert!(
        output.status.success(),
        "ngspice failed on {}: {}",
        deck.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    parse_raw(&std::fs::read_to_string(&raw).unwrap())
}

/// Parses an ngspice ascii raw file. A complex plot (AC) becomes the table
/// xbar writes: the scale's real part, then `re(name)`, `im(name)` per
/// vector.
pub fn parse_raw(text: &str) -> BTreeMap<String, Table> {
    let mut plots = BTreeMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("Title:") {
            continue;
        }
        let mut header = BTreeMap::new();
        for line in lines.by_ref() {
            if line.starts_with("Variables:") {
                break;
            }
            let (key, value) = line.split_once(':').unwrap();
            header.insert(key.trim().to_string(), value.trim().to_string());
        }
        let nvars: usize = header["No. Variables"].parse().unwrap();
        let npoints: usize = header["No. Points"].parse().unwrap();
        let complex = header.get("Flags").is_some_and(|f| f.contains("complex"));
        let names: Vec<String> = (0..nvars)
            .map(|_| {
                lines
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
                    .to_string()
            })
            .collect();
        let columns = if complex {
            let mut c = vec![names[0].clone()];
            for n in &names[1..] {
                c.push(format!("re({n})"));
                c.push(format!("im({n})"));
            }
            c
        } else {
            names
        };
        assert!(lines.next().unwrap().starts_with("Values:"));
        // A complex value is `re,im`; the scale's imaginary part is dropped.
        let values = |text: &str, all: bool| -> Vec<f64> {
            let parts: Vec<f64> = text.split(',').map(|v| v.parse().unwrap()).collect();
            if all {
                parts
            } else {
                parts[..1].to_vec()
            }
        };
        let mut rows = Vec::with_capacity(npoints);
        for _ in 0..npoints {
            let mut row = Vec::with_capacity(columns.len());
            row.extend(values(
                lines.next().unwrap().split_whitespace().nth(1).unwrap(),
                false,
            ));
            for _ in 1..nvars {
                row.extend(values(lines.next().unwrap().trim(), true));
            }
            rows.push(row);
        }
        let kind = match header["Plotname"].as_str() {
            "Operating Point" => "op",
            "DC transfer characteristic" => "dc",
            "Transient Analysis" => "tran",
            "AC Analysis" => "ac",
            other => panic!("unexpected plot {other}"),
        };
        plots.insert(kind.to_string(), Table { columns, rows });
    }
    plots
}

/// The committed ngspice outputs of a deck, by kind.
pub fn golden(name: &str) -> BTreeMap<String, Table> {
    let dir = repo().join("tests/golden").join(name);
    let mut plots = BTreeMap::new();
    for kind in ["op", "dc", "ac", "tran"] {
        let path = dir.join(format!("{kind}.csv"));
        if path.exists() {
            plots.insert(kind.to_string(), read_csv(&path));
        }
    }
    assert!(!plots.is_empty(), "no golden files in {}", dir.display());
    plots
}

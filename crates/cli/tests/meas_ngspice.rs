//! `.meas` and `.control` decks (tests/meas/) against ngspice 39: the
//! measurement results (`meas.csv`), the analyses' CSVs and the files
//! `wrdata` writes. Live ngspice when it is installed (run without `-r`,
//! which ngspice refuses together with `.meas`), the committed goldens
//! (tests/golden/meas/, from tests/regen_meas_golden.sh) otherwise.
//!
//! Tolerances. On a DC sweep both simulators evaluate at the same sweep
//! points: 1e-6 relative. On a transient the time points differ, so a
//! measured time may be off by 1e-3 of the measured interval (the FROM/TO
//! window, else the whole transient) and a measured value by 1e-3 of the
//! vector's peak (times the interval for INTEG); a PARAM result derived
//! from them by 1e-3 relative. Below 1e-15 values are numerically zero (as
//! in sim_ngspice.rs). ngspice prints some results with 7
//! significant digits: half a unit of the last printed digit is added.

mod sim_common;
#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sim_common::*;
use xbar_netlist::measure::{MeasAnalysis, Measure, MeasureKind, Statistic};

const DC_RELATIVE: f64 = 1e-6;
/// As in sim_ngspice.rs: currents below a femtoampere are numerically zero.
const DC_FLOOR: f64 = 1e-15;
const TRAN_FRACTION: f64 = 1e-3;

/// `name -> value` (NaN for a failed measurement), in file order.
fn read_measures(path: &Path) -> Vec<(String, f64, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let (name, value) = line.split_once(',').expect("name,value");
            let parsed = value
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            (name.to_string(), parsed, value.to_string())
        })
        .collect()
}

/// Runs ngspice in batch mode (no raw file) in a copy of the deck's folder
/// and reads its measurement lines: `%-20s=` then the value (or `failed`).
fn ngspice_measures(
    program: &str,
    deck: &Path,
    circuit_measures: &[String],
    work: &Path,
) -> Vec<(String, f64, String)> {
    let run = work.join("ngspice");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy(deck, run.join(deck.file_name().unwrap())).unwrap();
    let output = Command::new(program)
        .arg("-b")
        .arg(deck.file_name().unwrap())
        .current_dir(&run)
        .env("NGSPICE_MEAS_PRECISION", "12")
        .output()
        .expect("running ngspice");
    assert!(
        output.status.success(),
        "ngspice failed on {}",
        deck.display()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut found = BTreeMap::new();
    for line in stdout.lines() {
        let Some((left, right)) = line.split_once('=') else {
            continue;
        };
        let name = left.trim().to_string();
        if left.len() < 20 || !circuit_measures.contains(&name) {
            continue;
        }
        let value = right.split_whitespace().next().unwrap_or("").to_string();
        found.insert(
            name,
            if value == "failed" {
                "nan".to_string()
            } else {
                value
            },
        );
    }
    circuit_measures
        .iter()
        .map(|name| {
            let text = found.get(name).cloned().unwrap_or_else(|| "nan".into());
            (name.clone(), text.parse().unwrap(), text)
        })
        .collect()
}

/// Half a unit in the last digit ngspice printed (`1.234567e-06`).
fn printed_rounding(text: &str) -> f64 {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return 0.0;
    };
    let digits = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
    let exponent: i32 = exponent.parse().unwrap_or(0);
    0.5 * 10f64.powi(exponent - digits as i32)
}

/// What a measurement returns, for its tolerance on a transient.
enum Quantity {
    /// A time, with the interval it was measured in.
    Time(f64),
    /// A value of a vector (peak magnitude), times `scale` (1, or the
    /// interval for an integral).
    Value {
        vector: String,
        scale: f64,
    },
    Derived,
}

fn quantity(m: &Measure, tstop: f64) -> Quantity {
    let interval = |from: Option<f64>, to: Option<f64>| to.unwrap_or(tstop) - from.unwrap_or(0.0);
    match &m.kind {
        MeasureKind::TrigTarg { .. } | MeasureKind::When(_) => Quantity::Time(tstop),
        MeasureKind::Find { vector, .. } | MeasureKind::Deriv { vector, .. } => Quantity::Value {
            vector: vector.name.clone(),
            scale: 1.0,
        },
        MeasureKind::Statistic {
            statistic,
            vector,
            window,
        } => match statistic {
            Statistic::MinAt | Statistic::MaxAt => Quantity::Time(interval(window.from, window.to)),
            Statistic::Integ => Quantity::Value {
                vector: vector.name.clone(),
                scale: interval(window.from, window.to),
            },
            _ => Quantity::Value {
                vector: vector.name.clone(),
                scale: 1.0,
            },
        },
        MeasureKind::Param { .. } => Quantity::Derived,
    }
}

fn check_deck(relative: &str) {
    let deck = repo().join(relative);
    let name = deck.file_stem().unwrap().to_string_lossy().to_string();
    let circuit = xbar_netlist::parse_file(&deck).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("xbar");
    let output = run_sim(&deck, &out);
    assert!(
        output.status.success(),
        "xbar sim {relative} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let golden_dir = repo().join("tests/golden/meas").join(&name);
    // Measurement names in the order they run: the deck's `.meas` lines,
    // else the `.control` block's `meas` commands.
    let names: Vec<String> = read_measures(&golden_dir.join("meas.csv"))
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    let answers = spice::answers(
        &format!("tests/golden/meas/{name}"),
        || read_measures(&golden_dir.join("meas.csv")),
        |program| ngspice_measures(program, &deck, &names, work.path()),
    );
    let ours: BTreeMap<String, f64> = read_measures(&out.join("meas.csv"))
        .into_iter()
        .map(|(n, v, _)| (n, v))
        .collect();
    // The first transient's table (a `.control` block's are numbered).
    let tran = ["tran.csv", "tran1.csv"]
        .iter()
        .map(|f| out.join(f))
        .find(|p| p.exists())
        .map(|p| read_csv(&p));
    let tstop = tran
        .as_ref()
        .and_then(|t| t.rows.last().map(|r| r[0]))
        .unwrap_or(0.0);
    let commands: Vec<Measure> = circuit
        .control
        .iter()
        .filter(|line| line.text.to_ascii_lowercase().starts_with("meas"))
        .map(|line| xbar_netlist::control_measure(&circuit, &line.loc, &line.text).unwrap())
        .collect();
    let measures: BTreeMap<&str, &Measure> = circuit
        .measures
        .iter()
        .chain(&commands)
        .map(|m| (m.name.as_str(), m))
        .collect();
    let mut problems = Vec::new();
    for (answer, (measure, want, text)) in answers
        .iter()
        .flat_map(|a| a.value.iter().map(move |m| (a, m)))
    {
        let origin = &answer.origin;
        let Some(&got) = ours.get(measure) else {
            problems.push(format!("{origin}: {measure}: not in xbar's meas.csv"));
            continue;
        };
        if want.is_nan() || got.is_nan() {
            if want.is_nan() != got.is_nan() {
                problems.push(format!("{origin}: {measure}: xbar {got}, ngspice {text}"));
            }
            continue;
        }
        let on_tran = measures
            .get(measure.as_str())
            .is_none_or(|m| m.analysis == MeasAnalysis::Tran)
            && tran.is_some();
        let tolerance = printed_rounding(text)
            + if !on_tran {
                DC_RELATIVE * want.abs() + DC_FLOOR
            } else {
                match measures.get(measure.as_str()).map(|m| quantity(m, tstop)) {
                    Some(Quantity::Time(interval)) => TRAN_FRACTION * interval,
                    Some(Quantity::Value { vector, scale }) => {
                        let peak = tran
                            .as_ref()
                            .and_then(|t| t.column(&vector))
                            .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.abs())))
                            .unwrap_or(want.abs());
                        TRAN_FRACTION * peak * scale
                    }
                    Some(Quantity::Derived) | None => TRAN_FRACTION * want.abs(),
                }
            };
        if (got - want).abs() > tolerance {
            problems.push(format!(
                "{origin}: {measure}: xbar {got:e}, ngspice {text} (off by {:.3e}, tolerance {tolerance:.3e})",
                (got - want).abs()
            ));
        }
    }
    // The analyses' tables and the wrdata files against the goldens.
    for entry in std::fs::read_dir(&golden_dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if file == "meas.csv" {
            continue;
        }
        let ours_name = match file.strip_prefix("wrdata_") {
            Some(data) => data.trim_end_matches(".csv").to_string(),
            None => file.clone(),
        };
        let ours_path = out.join(&ours_name);
        if !ours_path.exists() {
            problems.push(format!("{ours_name} not written"));
            continue;
        }
        let (theirs, mine) = (read_csv(&path), read_csv(&ours_path));
        problems.extend(compare_tables(&file, &mine, &theirs));
    }
    assert!(problems.is_empty(), "{relative}:\n{}", problems.join("\n"));
}

/// Every column of `theirs` against `mine` at ngspice's scale points: DC
/// tables point by point (1e-9 relative), transients interpolated (1e-3 of
/// each column's peak).
fn compare_tables(file: &str, mine: &Table, theirs: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    let on_time = theirs.columns[0] == "time";
    let my_scale: Vec<f64> = mine.rows.iter().map(|r| r[0]).collect();
    for (index, column) in theirs.columns.iter().enumerate().skip(1) {
        let Some(my_values) = mine.column(column) else {
            problems.push(format!("{file}: xbar has no column {column}"));
            continue;
        };
        let their_values: Vec<f64> = theirs.rows.iter().map(|r| r[index]).collect();
        let peak = their_values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (row, (&want, their_row)) in their_values.iter().zip(&theirs.rows).enumerate() {
            let (got, tolerance) = if on_time {
                (
                    interpolate(&my_scale, &my_values, their_row[0]),
                    TRAN_FRACTION * peak + 1e-15,
                )
            } else {
                if mine.rows.len() != theirs.rows.len() {
                    problems.push(format!(
                        "{file}: {} rows, ngspice {}",
                        mine.rows.len(),
                        theirs.rows.len()
                    ));
                    break;
                }
                (my_values[row], 1e-9 * want.abs() + 1e-15)
            };
            if (got - want).abs() > tolerance {
                problems.push(format!(
                    "{file} {column} at {}: xbar {got:e}, ngspice {want:e}",
                    their_row[0]
                ));
                break;
            }
        }
    }
    problems
}

fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
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

#[test]
fn tran_measures_of_every_kind() {
    check_deck("tests/meas/rc_tran_meas.cir");
}

#[test]
fn dc_sweep_measures() {
    check_deck("tests/meas/diode_dc_meas.cir");
}

#[test]
fn analyses_only_in_a_control_block() {
    check_deck("tests/meas/control_rc.cir");
}

#[test]
fn tia_read_settling_and_bandwidth() {
    check_deck("tests/meas/tia_1t1r_read.cir");
}

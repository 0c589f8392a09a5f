//! `xbar sim` against ngspice on the example decks and on decks the engine's
//! own tests never saw (tests/decks/). Live ngspice when it is installed,
//! the committed goldens (tests/golden/, from tests/regen_golden.sh)
//! otherwise.
//!
//! Operating points and DC sweeps: |xbar - ngspice| <= 1e-9 |ngspice| + floor,
//! with floor 1e-12 V for voltages and 1e-15 A for currents (ngspice prints
//! 16 digits; values below the floor are numerically zero). Transients:
//! within 1e-3 of each vector's peak at ngspice's time points, xbar's output
//! interpolated linearly.

mod sim_common;

use std::path::Path;

use sim_common::*;

const RELATIVE: f64 = 1e-9;
const TRAN_FRACTION_OF_PEAK: f64 = 1e-3;

fn floor(column: &str) -> f64 {
    if column.starts_with("i(") {
        1e-15
    } else {
        1e-12
    }
}

/// Compares one analysis; returns the mismatches.
fn compare(kind: &str, xbar: &Table, spice: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    // The scale column is matched by position (its name differs between raw
    // files and versions: `v(v-sweep)`, `v-sweep`), every other by name.
    let has_scale = kind != "op";
    let skip = usize::from(has_scale);
    let mut want: Vec<&String> = spice.columns[skip..].iter().collect();
    let mut got: Vec<&String> = xbar.columns[skip.min(xbar.columns.len())..]
        .iter()
        .collect();
    want.sort();
    got.sort();
    if want != got {
        problems.push(format!(
            "{kind}: columns differ: ngspice {want:?}, xbar {got:?}"
        ));
    }
    match kind {
        "op" | "dc" => {
            if xbar.rows.len() != spice.rows.len() {
                problems.push(format!(
                    "{kind}: {} rows, ngspice has {}",
                    xbar.rows.len(),
                    spice.rows.len()
                ));
                return problems;
            }
            for (index, name) in spice.columns.iter().enumerate() {
                let theirs: Vec<f64> = spice.rows.iter().map(|r| r[index]).collect();
                let ours = if has_scale && index == 0 {
                    xbar.rows.iter().map(|r| r[0]).collect()
                } else {
                    match xbar.column(name) {
                        Some(c) => c,
                        None => continue,
                    }
                };
                let tol = |y: f64| RELATIVE * y.abs() + floor(name);
                if let Some(row) =
                    (0..theirs.len()).find(|&k| (ours[k] - theirs[k]).abs() > tol(theirs[k]))
                {
                    problems.push(format!(
                        "{kind} {name} row {row}: xbar {} vs ngspice {}",
                        ours[row], theirs[row]
                    ));
                }
            }
        }
        _ => {
            let times: Vec<f64> = xbar.rows.iter().map(|r| r[0]).collect();
            let spice_times: Vec<f64> = spice.rows.iter().map(|r| r[0]).collect();
            let (Some(&end), Some(&spice_end)) = (times.last(), spice_times.last()) else {
                problems.push("tran: empty output".into());
                return problems;
            };
            if (end - spice_end).abs() > 1e-9 * spice_end {
                problems.push(format!("tran: ends at {end} s, ngspice at {spice_end} s"));
            }
            for (index, name) in spice.columns.iter().enumerate().skip(1) {
                let Some(ours) = xbar.column(name) else {
                    continue;
                };
                let theirs: Vec<f64> = spice.rows.iter().map(|r| r[index]).collect();
                let peak = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let tol = TRAN_FRACTION_OF_PEAK * peak + floor(name);
                let worst = spice_times
                    .iter()
                    .zip(&theirs)
                    .map(|(&t, &y)| (t, (interpolate(&times, &ours, t) - y).abs()))
                    .fold((0.0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
                if worst.1 > tol {
                    problems.push(format!(
                        "tran {name}: off by {:.3e} at t = {:.6e} s (tolerance {tol:.3e}, peak {peak:.3e})",
                        worst.1, worst.0
                    ));
                }
            }
        }
    }
    problems
}

fn check_deck(relative: &str) {
    let deck = repo().join(relative);
    let name = deck.file_stem().unwrap().to_string_lossy().to_string();
    let work = tempfile::tempdir().unwrap();
    let reference = if ngspice_available() {
        run_ngspice(&deck, work.path())
    } else {
        eprintln!("ngspice not on PATH: comparing {name} with tests/golden/{name}");
        golden(&name)
    };
    let out = work.path().join("xbar");
    let output = run_sim(&deck, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "xbar sim {relative} failed:\n{stderr}"
    );
    let mut problems = Vec::new();
    for (kind, spice) in &reference {
        let path = out.join(format!("{kind}.csv"));
        if !Path::new(&path).exists() {
            problems.push(format!("{kind}.csv not written"));
            continue;
        }
        problems.extend(compare(kind, &read_csv(&path), spice));
    }
    assert!(problems.is_empty(), "{relative}:\n{}", problems.join("\n"));
}

macro_rules! decks {
    ($($test:ident => $path:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_deck($path);
            }
        )*
    };
}

decks! {
    example_resistor_network => "netlists/resistor_network.cir",
    example_diode => "netlists/diode.cir",
    example_1t1r => "netlists/1t1r.cir",
    example_rc_transient => "netlists/rc_transient.cir",
    example_crossbar_4x4 => "netlists/crossbar_4x4.cir",
    unseen_ladder_params => "tests/decks/ladder_params.cir",
    unseen_suffixes_continuations => "tests/decks/suffixes_continuations.cir",
    unseen_diode_clamp_subckt => "tests/decks/diode_clamp_subckt.cir",
    unseen_diode_bridge_tran => "tests/decks/diode_bridge_tran.cir",
    unseen_rc_pwl_sin => "tests/decks/rc_pwl_sin.cir",
    unseen_rc_ladder_pulse => "tests/decks/rc_ladder_pulse.cir",
    behavioral_bsource_functions => "tests/decks/bsource_functions.cir",
    behavioral_func_scoping => "tests/decks/func_scoping.cir",
    behavioral_subckt_params => "tests/decks/subckt_params.cir",
    behavioral_expr_resistor_capacitor => "tests/decks/expr_resistor_capacitor.cir",
    behavioral_eg_value => "tests/decks/eg_value.cir",
    memristor_model_biolek_sine => "netlists/memristor_models/biolek_sine.cir",
    memristor_model_biolek_pulse => "netlists/memristor_models/biolek_pulse.cir",
    memristor_model_joglekar_sine => "netlists/memristor_models/joglekar_sine.cir",
    memristor_model_joglekar_pulse => "netlists/memristor_models/joglekar_pulse.cir",
    memristor_model_yakopcic_sine => "netlists/memristor_models/yakopcic_sine.cir",
    memristor_model_yakopcic_pulse => "netlists/memristor_models/yakopcic_pulse.cir",
    memristor_model_mms_sine => "netlists/memristor_models/mms_sine.cir",
}

#[test]
fn goldens_match_live_ngspice() {
    // Keeps the committed goldens honest: when ngspice is present they must
    // agree with what it prints now, within the comparison's tolerances (a
    // different ngspice release may pick other transient time points).
    if !ngspice_available() {
        eprintln!("ngspice not on PATH: goldens not re-checked");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    for dir in ["netlists", "netlists/memristor_models", "tests/decks"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let deck = entry.unwrap().path();
            let name = deck.file_stem().unwrap().to_string_lossy().to_string();
            // memristor_* decks have the device tests' goldens; the *_ymem
            // and *_xyce twins use YMEMRISTOR, which ngspice lacks.
            if deck.extension().is_none_or(|e| e != "cir")
                || name.starts_with("memristor")
                || name.ends_with("_ymem")
                || name.ends_with("_xyce")
            {
                continue;
            }
            let live = run_ngspice(&deck, work.path());
            let stored = golden(&name);
            assert_eq!(
                live.keys().collect::<Vec<_>>(),
                stored.keys().collect::<Vec<_>>(),
                "{name}"
            );
            for (kind, table) in &live {
                assert_eq!(table.columns, stored[kind].columns, "{name} {kind}");
                let problems = compare(kind, &stored[kind], table);
                assert!(
                    problems.is_empty(),
                    "{name}: goldens out of date (rerun tests/regen_golden.sh):\n{}",
                    problems.join("\n")
                );
            }
        }
    }
}

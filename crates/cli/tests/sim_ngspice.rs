//! `xbar sim` against ngspice on the example decks and on decks the engine's
//! own tests never saw (tests/decks/): against the committed goldens
//! (tests/golden/, from tests/regen_golden.sh) always, and live ngspice as
//! well when it is installed (`tests/support/ngspice.rs`), which keeps the
//! goldens honest.
//!
//! Operating points and DC sweeps: |xbar - ngspice| <= 1e-9 |ngspice| + floor,
//! with floor 1e-12 V for voltages and 1e-15 A for currents (ngspice prints
//! 16 digits; values below the floor are numerically zero). Transients:
//! within 1e-3 of each vector's peak at ngspice's time points, xbar's output
//! interpolated linearly. AC: the same frequencies within 1e-12 relative,
//! and every phasor component-wise within 1e-9 of the phasor's magnitude
//! (plus the floor); `db(..)`/`phase(..)` columns are derived from them and
//! checked against them.

mod sim_common;
#[path = "../../../tests/support/ngspice.rs"]
mod spice;

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

/// Compares one analysis of xbar's output with ngspice's; returns the
/// mismatches.
fn compare(kind: &str, xbar: &Table, spice: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    // The scale column is matched by position (its name differs between raw
    // files and versions: `v(v-sweep)`, `v-sweep`), every other by name.
    let has_scale = kind != "op";
    let skip = usize::from(has_scale);
    let mut want: Vec<&String> = spice.columns[skip..].iter().collect();
    // xbar's derived AC columns (`db(..)`, `phase(..)`) have no ngspice
    // counterpart.
    let mut got: Vec<&String> = xbar.columns[skip.min(xbar.columns.len())..]
        .iter()
        .filter(|c| kind != "ac" || c.starts_with("re(") || c.starts_with("im("))
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
        "ac" => problems.extend(compare_ac(xbar, spice)),
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

/// AC phasors component-wise against the magnitude; the derived dB and
/// phase columns against the phasors they come from.
fn compare_ac(xbar: &Table, spice: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    if xbar.rows.len() != spice.rows.len() {
        return vec![format!(
            "ac: {} frequencies, ngspice has {}",
            xbar.rows.len(),
            spice.rows.len()
        )];
    }
    for (k, (ours, theirs)) in xbar.rows.iter().zip(&spice.rows).enumerate() {
        if (ours[0] - theirs[0]).abs() > 1e-12 * theirs[0].abs() {
            problems.push(format!(
                "ac frequency row {k}: xbar {} vs ngspice {}",
                ours[0], theirs[0]
            ));
            return problems;
        }
    }
    for re_name in spice.columns.iter().filter(|c| c.starts_with("re(")) {
        let inner = &re_name[3..re_name.len() - 1];
        let im_name = format!("im({inner})");
        let (Some(spice_re), Some(spice_im)) = (spice.column(re_name), spice.column(&im_name))
        else {
            continue;
        };
        let (Some(re), Some(im)) = (xbar.column(re_name), xbar.column(&im_name)) else {
            continue;
        };
        for row in 0..re.len() {
            let magnitude = spice_re[row].hypot(spice_im[row]);
            let tol = RELATIVE * magnitude + floor(inner);
            if (re[row] - spice_re[row]).abs() > tol || (im[row] - spice_im[row]).abs() > tol {
                problems.push(format!(
                    "ac {inner} at {} Hz: xbar {}{:+}j vs ngspice {}{:+}j",
                    spice.rows[row][0], re[row], im[row], spice_re[row], spice_im[row]
                ));
                break;
            }
        }
        let (Some(db), Some(phase)) = (
            xbar.column(&format!("db({inner})")),
            xbar.column(&format!("phase({inner})")),
        ) else {
            problems.push(format!("ac: db/phase columns of {inner} missing"));
            continue;
        };
        for row in 0..re.len() {
            let want_db = 20.0 * re[row].hypot(im[row]).log10();
            let want_phase = im[row].atan2(re[row]).to_degrees();
            if (db[row] - want_db).abs() > 1e-9 || (phase[row] - want_phase).abs() > 1e-9 {
                problems.push(format!(
                    "ac {inner} row {row}: db {} / phase {} disagree with the phasor",
                    db[row], phase[row]
                ));
                break;
            }
        }
    }
    problems
}

fn check_deck(relative: &str) {
    let deck = repo().join(relative);
    let name = deck.file_stem().unwrap().to_string_lossy().to_string();
    let work = tempfile::tempdir().unwrap();
    let answers = spice::answers(
        &format!("tests/golden/{name}"),
        || golden(&name),
        |program| run_ngspice(program, &deck, work.path()),
    );
    if let [committed, live] = &answers[..] {
        assert_eq!(
            committed.value.keys().collect::<Vec<_>>(),
            live.value.keys().collect::<Vec<_>>(),
            "{name}: analyses of the goldens and of live ngspice differ (rerun tests/regen_golden.sh)"
        );
    }
    let out = work.path().join("xbar");
    let output = run_sim(&deck, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "xbar sim {relative} failed:\n{stderr}"
    );
    let mut problems = Vec::new();
    for answer in &answers {
        for (kind, spice) in &answer.value {
            let path = out.join(format!("{kind}.csv"));
            if !Path::new(&path).exists() {
                problems.push(format!("{kind}.csv not written"));
                continue;
            }
            problems.extend(
                compare(kind, &read_csv(&path), spice)
                    .into_iter()
                    .map(|p| format!("{}: {p}", answer.origin)),
            );
        }
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
    behavioral_memristor_hp => "tests/decks/bsource_memristor_hp.cir",
    behavioral_memristor_biolek => "tests/decks/bsource_memristor_biolek_rs.cir",
    bjt_ce_amp => "tests/decks/bjt_ce_amp.cir",
    bjt_ce_amp_ac => "tests/decks/bjt_ce_amp_ac.cir",
    bjt_npn_output_dc => "tests/decks/bjt_npn_output_dc.cir",
    bjt_pnp_output_dc => "tests/decks/bjt_pnp_output_dc.cir",
    bjt_gummel_dc => "tests/decks/bjt_gummel_dc.cir",
    bjt_switch_tran => "tests/decks/bjt_switch_tran.cir",
    cmos_inverter_chain_tran => "tests/decks/cmos_inverter_chain_tran.cir",
    mos1_cs_ac => "tests/decks/mos1_cs_ac.cir",
    mos2_cs_stage => "tests/decks/mos2_cs_stage.cir",
    mos3_cs_stage => "tests/decks/mos3_cs_stage.cir",
    semis_temperature_dc => "tests/decks/semis_temperature_dc.cir",
    ac_rlc_bandpass => "tests/decks/rlc_bandpass.cir",
    ac_transformer_k => "tests/decks/transformer_k.cir",
    lc_tank_coupled_uic => "tests/decks/lc_tank_uic.cir",
    resistor_models_temp => "tests/decks/resistor_models_temp.cir",
    ac_diode_small_signal => "tests/decks/diode_small_signal.cir",
    ac_nmos_small_signal => "tests/decks/nmos_small_signal.cir",
    controlled_sources_poly => "tests/decks/controlled_sources.cir",
    controlled_sources_transient => "tests/decks/controlled_tran.cir",
    pulse_longer_than_period_and_bare_pulse => "tests/decks/pulse_overlap.cir",
    ic_and_nodeset => "tests/decks/ic_nodeset.cir",
    nodeset_picks_the_latch_state => "tests/decks/nodeset_latch.cir",
    ic_with_uic => "tests/decks/ic_uic.cir",
    deck_syntax_dialect => "tests/decks/syntax_dialect.cir",
    cmos_chain_gear => "tests/decks/cmos_gear.cir",
    memristor_model_biolek_sine => "netlists/memristor_models/biolek_sine.cir",
    memristor_model_biolek_pulse => "netlists/memristor_models/biolek_pulse.cir",
    memristor_model_joglekar_sine => "netlists/memristor_models/joglekar_sine.cir",
    memristor_model_joglekar_pulse => "netlists/memristor_models/joglekar_pulse.cir",
    memristor_model_yakopcic_sine => "netlists/memristor_models/yakopcic_sine.cir",
    memristor_model_yakopcic_pulse => "netlists/memristor_models/yakopcic_pulse.cir",
    memristor_model_mms_sine => "netlists/memristor_models/mms_sine.cir",
    memristor_model_mms_pulse => "netlists/memristor_models/mms_pulse.cir",
    memristor_model_pershin_sine => "netlists/memristor_models/pershin_sine.cir",
    memristor_model_pershin_pulse => "netlists/memristor_models/pershin_pulse.cir",
}

/// xbar's accepted time points (from `xbar sim`'s summary line) against
/// ngspice's (tests/golden/<deck>/tran_points.txt, from its `acct`
/// statistics) on every transient deck: equal, as the
/// step control is ngspice's.
#[test]
fn accepted_time_points_equal_ngspice() {
    let mut table = Vec::new();
    for dir in ["netlists", "netlists/memristor_models", "tests/decks"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let deck = entry.unwrap().path();
            let name = deck.file_stem().unwrap().to_string_lossy().to_string();
            let counted = repo()
                .join("tests/golden")
                .join(&name)
                .join("tran_points.txt");
            if deck.extension().is_none_or(|e| e != "cir") || !counted.exists() {
                continue;
            }
            let theirs: usize = std::fs::read_to_string(&counted)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let work = tempfile::tempdir().unwrap();
            let output = run_sim(&deck, work.path());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{name}: {stderr}");
            let ours: usize = stderr
                .split("tran: ")
                .nth(1)
                .and_then(|rest| rest.split(" accepted time points").next())
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name}: no accepted-point count in {stderr}"));
            table.push((name, ours, theirs));
        }
    }
    for (name, ours, theirs) in &table {
        eprintln!("{name:<28} xbar {ours:>6}  ngspice {theirs:>6}");
    }
    assert!(
        table.len() >= 31,
        "only {} transient decks found",
        table.len()
    );
    let off: Vec<_> = table
        .iter()
        .filter(|(_, ours, theirs)| ours != theirs)
        .collect();
    assert!(off.is_empty(), "point counts other than ngspice's: {off:?}");
}

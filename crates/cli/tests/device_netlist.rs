//! Must-show 1: `xbar sim` on each YMEMRISTOR deck reproduces ngspice running
//! the same circuit with the device as a behavioural subcircuit (B-source
//! current, state on a 1 F capacitor; goldens from
//! tests/regen_memristor_golden.sh): current and state within 1 % of their
//! peaks. Pairs: HP/Joglekar p=1 directly on a 1 V, 1 Hz sine; HP/Biolek p=2
//! behind 1 kohm on a 1.5 V, 2 Hz sine.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_columns(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for r in rdr.records() {
        for (c, f) in r.unwrap().iter().enumerate() {
            cols[c].push(f.trim().parse::<f64>().unwrap());
        }
    }
    (header, cols)
}

fn interp(ts: &[f64], ys: &[f64], t: f64) -> f64 {
    let k = ts.partition_point(|&x| x <= t).clamp(1, ts.len() - 1);
    let (t0, t1) = (ts[k - 1], ts[k]);
    ys[k - 1] + (ys[k] - ys[k - 1]) * (t - t0) / (t1 - t0)
}

/// Compares against the committed golden and, with ngspice on PATH, against
/// a live ngspice run of the behavioural deck as well.
fn compare(ymem_deck: &str, bsource_deck: &str, golden_csv: &str, t_end: f64) {
    compare_with(ymem_deck, &root().join(golden_csv), t_end);
    if Command::new("ngspice").arg("--version").output().is_err() {
        eprintln!("ngspice not on PATH: live comparison skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.csv");
    let status = Command::new("bash")
        .arg(root().join("tests/regen_memristor_golden.sh"))
        .arg(root().join(bsource_deck))
        .arg(&live)
        .status()
        .unwrap();
    assert!(status.success(), "ngspice run of {bsource_deck} failed");
    compare_with(ymem_deck, &live, t_end);
}

fn compare_with(ymem_deck: &str, golden_csv: &Path, t_end: f64) {
    let (gh, golden) = read_columns(golden_csv);
    assert_eq!(gh, ["time_s", "v_v", "i_a", "x"]);
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(["sim", ymem_deck, "--out"])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xbar sim failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (header, sim) = read_columns(&dir.path().join("tran.csv"));
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let (t, i, x) = (&sim[col("time")], &sim[col("i(ym1)")], &sim[col("x(ym1)")]);
    let i_peak = golden[2].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let x_peak = golden[3].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (mut di, mut dx) = (0.0f64, 0.0f64);
    let mut compared = 0;
    for k in 0..t.len() {
        if t[k] < golden[0][0] || t[k] > t_end {
            continue;
        }
        di = di.max((i[k] - interp(&golden[0], &golden[2], t[k])).abs());
        dx = dx.max((x[k] - interp(&golden[0], &golden[3], t[k])).abs());
        compared += 1;
    }
    eprintln!("{ymem_deck}: {compared} points: max |di| = {di:.3e} (peak {i_peak:.3e}), max |dx| = {dx:.3e} (peak {x_peak:.3e})");
    assert!(compared > 100, "only {compared} time points from xbar sim");
    assert!(
        di < 0.01 * i_peak,
        "current differs by {di} of peak {i_peak}"
    );
    assert!(dx < 0.01 * x_peak, "state differs by {dx} of peak {x_peak}");
}

#[test]
fn hp_joglekar_deck_matches_ngspice() {
    compare(
        "netlists/memristor_hp_ymem.cir",
        "netlists/memristor_hp_bsource.cir",
        "tests/golden/memristor_hp_bsource.csv",
        2.0,
    );
}

#[test]
fn biolek_series_deck_matches_ngspice() {
    compare(
        "netlists/memristor_biolek_rs_ymem.cir",
        "netlists/memristor_biolek_rs_bsource.cir",
        "tests/golden/memristor_biolek_rs_bsource.csv",
        1.0,
    );
}

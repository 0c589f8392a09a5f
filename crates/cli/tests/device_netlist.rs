//! Must-show 1: `xbar sim` on each YMEMRISTOR deck reproduces ngspice running
//! the same circuit with the device as a behavioural subcircuit (B-source
//! current, state on a 1 F capacitor; goldens from
//! tests/regen_memristor_golden.sh; live ngspice too when it is installed,
//! `tests/support/ngspice.rs`): current and state within [`TOLERANCE`] of
//! their peaks. Pairs: HP/Joglekar p=1 directly on a 1 V, 1 Hz sine;
//! HP/Biolek p=2 behind 1 kohm on a 1.5 V, 2 Hz sine.

#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Achieved: 1.8e-5 (Biolek current), 9.8e-6 (Biolek state), 6.7e-6 and
/// 2.5e-6 (HP) of the peaks; asserted with a 10x margin.
const TOLERANCE: f64 = 2e-4;

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

/// Compares `xbar sim` on the YMEMRISTOR deck against the committed golden
/// and, with ngspice available, a live run of the behavioural deck.
fn compare(ymem_deck: &str, bsource_deck: &str, golden_csv: &str, t_end: f64) {
    let answers = spice::answers(
        golden_csv,
        || read_columns(&root().join(golden_csv)),
        |program| {
            let dir = tempfile::tempdir().unwrap();
            let live = dir.path().join("live.csv");
            let status = Command::new("bash")
                .arg(root().join("tests/regen_memristor_golden.sh"))
                .arg(root().join(bsource_deck))
                .arg(&live)
                .env("NGSPICE", program)
                .status()
                .unwrap();
            assert!(status.success(), "ngspice run of {bsource_deck} failed");
            read_columns(&live)
        },
    );
    let deck = std::fs::read_to_string(root().join(ymem_deck)).unwrap();
    for answer in answers {
        let (di, dx) = deviation(&deck, &answer.value, t_end);
        eprintln!(
            "{ymem_deck} vs {}: max |di| = {di:.3e}, max |dx| = {dx:.3e} of the peaks",
            answer.origin
        );
        assert!(
            di < TOLERANCE && dx < TOLERANCE,
            "{ymem_deck}: current off by {di:.3e}, state by {dx:.3e} of their peaks from {}",
            answer.origin
        );
    }
}

/// Runs `xbar sim` on the deck text `deck` and returns the largest
/// differences of current and state from `golden`'s, as fractions of the
/// golden's peaks.
fn deviation(deck: &str, golden: &(Vec<String>, Vec<Vec<f64>>), t_end: f64) -> (f64, f64) {
    let (gh, golden) = golden;
    assert_eq!(gh, &["time_s", "v_v", "i_a", "x"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deck.cir");
    std::fs::write(&path, deck).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .arg("sim")
        .arg(&path)
        .arg("--out")
        .arg(dir.path())
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
    assert!(compared > 100, "only {compared} time points from xbar sim");
    (di / i_peak, dx / x_peak)
}

/// The comparison sees a 1 % error in the initial state or in a model
/// parameter of the YMEMRISTOR deck.
#[test]
fn a_one_percent_error_fails_the_ngspice_comparison() {
    let deck = std::fs::read_to_string(root().join("netlists/memristor_hp_ymem.cir")).unwrap();
    let golden = read_columns(&root().join("tests/golden/memristor_hp_bsource.csv"));
    for (right, wrong) in [
        ("x0=0.31446540880503143", "x0=0.31761006289308174"),
        ("ron=100 ", "ron=101 "),
        ("uv=10f", "uv=10.1f"),
    ] {
        assert!(deck.contains(right), "{right}");
        let (di, dx) = deviation(&deck.replace(right, wrong), &golden, 2.0);
        assert!(
            di.max(dx) > TOLERANCE,
            "{wrong}: current off by {di:.3e}, state by {dx:.3e}: not detected"
        );
    }
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

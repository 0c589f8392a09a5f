//! `xbar device iv|pulse|drift` end to end: files, columns and numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `xbar` with the space-separated `args` and `--out out`, run from the
/// repository root.
fn command(args: &str, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xbar"));
    c.args(args.split_whitespace())
        .arg("--out")
        .arg(out)
        .current_dir(root());
    c
}

/// Runs `command` and asserts it succeeded.
fn succeed(mut command: Command) {
    let o = command.output().expect("xbar runs");
    assert!(
        o.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run_ok(args: &str, out: &Path) {
    succeed(command(args, out));
}

fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|f| f.parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    (header, rows)
}

/// The HP/Biolek loop: `i = v / (R_on x + R_off (1 - x))` at every point,
/// pinched at v = 0, state inside [0, 1] and moving.
#[test]
fn iv_writes_a_consistent_pinched_loop() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        "device iv --model models/lid.toml --cycles 2 --points 500",
        dir.path(),
    );
    let (header, rows) = read_csv(&dir.path().join("iv.csv"));
    assert_eq!(header, ["time_s", "voltage_V", "current_A", "state"]);
    assert_eq!(rows.len(), 1001);
    assert_eq!(rows[1000][0], 2.0);
    for r in &rows {
        let (v, i, x) = (r[1], r[2], r[3]);
        assert!((0.0..=1.0).contains(&x));
        assert!((i * (100.0 * x + 16e3 * (1.0 - x)) - v).abs() < 1e-12);
    }
    let (xmin, xmax) = rows
        .iter()
        .fold((1.0f64, 0.0f64), |(a, b), r| (a.min(r[3]), b.max(r[3])));
    assert!(xmax - xmin > 0.3, "state range {xmin}..{xmax}");
}

/// VTEAM (linear R, no window): each 100 ns pulse at 0.1 V moves w by
/// k_off (0.1/0.02 - 1) 100 ns = 0.2 nm, so G_n = 1/(50 + 950 min(n 0.2 nm, 3 nm)/3 nm).
#[test]
fn pulse_follows_the_vteam_rate() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        "device pulse --model models/vteam.toml --amplitude 0.1 --width 100e-9 --count 20",
        dir.path(),
    );
    let (header, rows) = read_csv(&dir.path().join("pulse.csv"));
    assert_eq!(header, ["pulse", "conductance_S", "state"]);
    assert_eq!(rows.len(), 21);
    for r in &rows {
        let w = (r[0] * 0.2e-9).min(3e-9);
        assert!((r[2] - w).abs() < 1e-15, "pulse {}: w = {}", r[0], r[2]);
        assert!((r[1] - 1.0 / (50.0 + 950.0 * w / 3e-9)).abs() < 1e-12);
    }
}

/// PCM preset: the mean ratio per target follows the aihwkit formula and the
/// compensated ratio is back near 1; with --samples every device is listed.
#[test]
fn drift_summary_matches_expected_ratio() {
    let drift =
        "device drift --model models/drift_pcm.toml --times 3600,86400 --devices 6000 --seed 9";
    let dir = tempfile::tempdir().unwrap();
    run_ok(&format!("{drift} --samples"), dir.path());
    let (header, rows) = read_csv(&dir.path().join("drift_summary.csv"));
    assert_eq!(header[0], "time_s");
    assert_eq!(
        header[10..],
        [
            "mean_ratio",
            "expected_mean_ratio",
            "compensated_mean_ratio"
        ]
    );
    assert_eq!(rows.len(), 2 * 6);
    for r in &rows {
        assert_eq!(r[2], 1000.0);
        assert!((r[10] / r[11] - 1.0).abs() < 0.02, "{r:?}");
        // One layer-wide scale cannot undo G-dependent drift for every level.
        assert!(r[11] < 0.8 && (r[12] - 1.0).abs() < 0.1, "{r:?}");
        assert!(r[5] <= r[7] && r[7] <= r[9]);
    }
    // ... but it restores the array's total conductance (the mean over levels).
    for t in [3600.0, 86400.0] {
        let rows_t: Vec<&Vec<f64>> = rows.iter().filter(|r| r[0] == t).collect();
        let total: f64 = rows_t.iter().map(|r| r[1]).sum();
        let restored: f64 = rows_t.iter().map(|r| r[1] * r[12]).sum::<f64>() / total;
        assert!((restored - 1.0).abs() < 0.01, "t = {t}: {restored}");
    }
    let (_, samples) = read_csv(&dir.path().join("drift_samples.csv"));
    assert_eq!(samples.len(), 2 * 6000);
    // Same seed, same file.
    let again = tempfile::tempdir().unwrap();
    run_ok(drift, again.path());
    assert_eq!(
        std::fs::read(dir.path().join("drift_summary.csv")).unwrap(),
        std::fs::read(again.path().join("drift_summary.csv")).unwrap()
    );
}

fn read_text_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Noiseless VTEAM (linear R, no window) from w = 0 (50 ohm): every 1 ns
/// RESET pulse at 0.1 V moves w by k_off (0.1/0.02 - 1) 1 ns = 2 pm, so after
/// n pulses G_n = 1/(50 + 950 min(n 2 pm, 3 nm)/3 nm) exactly, and write-verify
/// stops at the first n with |G_n - T|/T <= 5 %: 72, 222 and 673 pulses for
/// 10, 5 and 2 mS. Farther targets cost more pulses.
#[test]
fn program_noiseless_vteam_spends_the_closed_form_pulse_count() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        "device program --model models/vteam.toml --targets 10e-3,5e-3,2e-3 --tolerance 0.05 \
         --max-pulses 1000 --v-set -0.3 --v-reset 0.1 --width 1e-9 --devices 3",
        dir.path(),
    );
    let g = |n: usize| 1.0 / (50.0 + 950.0 * (n as f64 * 2e-12).min(3e-9) / 3e-9);
    let expected = |t: f64| (0..).find(|&n| ((g(n) - t) / t).abs() <= 0.05).unwrap();
    let (header, rows) = read_text_csv(&dir.path().join("devices.csv"));
    assert_eq!(
        header,
        [
            "device",
            "target_S",
            "conductance_S",
            "rel_error",
            "pulses",
            "converged",
            "state"
        ]
    );
    assert_eq!(rows.len(), 9);
    let mut counts = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let t: f64 = r[1].parse().unwrap();
        let n: usize = r[4].parse().unwrap();
        assert_eq!(r[0], (k % 3).to_string());
        assert_eq!(n, expected(t), "target {t}");
        let achieved: f64 = r[2].parse().unwrap();
        assert!((achieved / g(n) - 1.0).abs() < 1e-9, "{r:?}");
        assert!((r[3].parse::<f64>().unwrap() - (achieved - t) / t).abs() < 1e-12);
        assert_eq!(r[5], "true");
        counts.push(n);
    }
    assert_eq!([counts[0], counts[3], counts[6]], [72, 222, 673]);
    let (header, rows) = read_csv(&dir.path().join("summary.csv"));
    assert_eq!(
        header[..4],
        ["target_S", "devices", "converged", "failure_rate"]
    );
    for (r, n) in rows.iter().zip([72.0, 222.0, 673.0]) {
        assert_eq!(r[1..4], [3.0, 3.0, 0.0]);
        assert!((r[4] / g(n as usize) - 1.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r[5..], [0.0, n, 0.0, n]);
    }
}

/// 24 Biolek devices with 10 % lognormal R_off and 20 % cycle-to-cycle noise
/// on 4 levels plus one target beyond 1/R_on: every converged device is within
/// tolerance, the unreachable target fails on every device after the whole
/// budget, the summary is the devices file's statistics, and 1 and 2 threads
/// give the same bytes.
#[test]
fn program_noisy_population_statistics_and_thread_identity() {
    let run = |threads: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut c = command(
            "device program --model models/lid.toml --levels 4 --g-min 1.25e-4 --g-max 2e-3 \
             --v-set 0.5 --v-reset -0.5 --step 0.1 --v-max 2 --width 1e-3 \
             --variability roff=0.1:log --c2c 0.2 --max-pulses 300 --devices 24 --seed 3",
            dir.path(),
        );
        c.env("RAYON_NUM_THREADS", threads);
        succeed(c);
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        (read("devices.csv"), read("summary.csv"), dir)
    };
    let (dev1, sum1, dir) = run("1");
    let (dev2, sum2, _d2) = run("2");
    assert_eq!(dev1, dev2);
    assert_eq!(sum1, sum2);
    let (_, rows) = read_text_csv(&dir.path().join("devices.csv"));
    let (_, summary) = read_csv(&dir.path().join("summary.csv"));
    let targets = [1.25e-4, 1.25e-4 + 6.25e-4, 1.25e-4 + 2.0 * 6.25e-4, 2e-3];
    assert_eq!(rows.len(), 4 * 24);
    for (j, s) in summary.iter().enumerate() {
        assert!((s[0] / targets[j] - 1.0).abs() < 1e-12);
        let mine: Vec<&Vec<String>> = rows[j * 24..(j + 1) * 24].iter().collect();
        let g: Vec<f64> = mine.iter().map(|r| r[2].parse().unwrap()).collect();
        let p: Vec<f64> = mine.iter().map(|r| r[4].parse().unwrap()).collect();
        let converged = mine.iter().filter(|r| r[5] == "true").count();
        for r in &mine {
            let rel: f64 = r[3].parse().unwrap();
            assert_eq!(r[5] == "true", rel.abs() <= 0.02, "{r:?}");
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let sd = |v: &[f64]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
        };
        assert_eq!(s[1], 24.0);
        assert_eq!(s[2], converged as f64);
        assert!((s[3] - (24 - converged) as f64 / 24.0).abs() < 1e-15);
        assert!((s[4] / mean(&g) - 1.0).abs() < 1e-12);
        assert!((s[5] / sd(&g) - 1.0).abs() < 1e-9);
        assert!((s[6] - mean(&p)).abs() < 1e-9 && (s[7] - sd(&p)).abs() < 1e-9);
        // The spread in R_off and the noise show in the pulse counts.
        assert!(s[7] > 0.0, "{s:?}");
        // Write-verify pins the conductance: the spread stays inside the band.
        assert!(s[5] < 0.02 * targets[j], "{s:?}");
    }
    assert!(summary.iter().all(|s| s[3] < 0.1), "{summary:?}");

    // Beyond 1/R_on = 10 mS nothing converges and every device spends 300 pulses.
    let out = tempfile::tempdir().unwrap();
    run_ok(
        "device program --model models/lid.toml --targets 0.02 --v-set 1 --v-reset -1 \
         --width 1e-3 --max-pulses 300 --devices 4",
        out.path(),
    );
    let (_, s) = read_csv(&out.path().join("summary.csv"));
    assert_eq!(s[0][1..4], [4.0, 0.0, 1.0]);
    assert_eq!((s[0][6], s[0][8]), (300.0, 300.0));
}

/// Each bad request exits with code 1, says what is wrong (every listed
/// fragment), and writes nothing.
#[test]
fn bad_requests_fail_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "model = \"vteam\"\nkoff = nan\n").unwrap();
    let program = "device program --model models/vteam.toml --width 1e-9 --devices 2";
    let request = "--targets 1e-3 --v-set -0.3 --v-reset 0.1";
    let cases: &[(String, &[&str])] = &[
        (
            format!("device iv --model {}", bad.display()),
            &["koff", "bad.toml"],
        ),
        (
            "device pulse --model models/lid.toml --amplitude 1 --width -1e-3 --count 3".into(),
            &["-0.001 s"],
        ),
        (
            "device drift --model models/lid.toml".into(),
            &["models/lid.toml", "expected `targets` or `drift`"],
        ),
        (
            "device iv --model models/missing.toml".into(),
            &["missing.toml"],
        ),
        // Per-column compensation needs whole columns of devices.
        (
            "device drift --model models/drift_pcm.toml --devices 6001 --compensation column"
                .into(),
            &["multiple"],
        ),
        (
            format!("{program} --v-set -0.3 --v-reset 0.1"),
            &["--targets"],
        ),
        (
            format!("{program} --targets 1e-3,-2e-3 --v-set -0.3 --v-reset 0.1"),
            &["-0.002"],
        ),
        (
            format!("{program} --targets 1e-3 --v-set 0.3 --v-reset 0.1"),
            &["--v-set"],
        ),
        (
            format!("{program} --targets 1e-3 --v-set -0.3 --v-reset 0.01"),
            &["threshold"],
        ),
        (
            format!("{program} {request} --tolerance 0"),
            &["--tolerance"],
        ),
        (format!("{program} {request} --step 0.1"), &["--v-max"]),
        (
            format!("{program} {request} --variability rof=0.1"),
            &["rof"],
        ),
        (
            format!("{program} {request} --variability koff=0.1:gauss"),
            &["koff=0.1:gauss"],
        ),
        (
            format!("{program} --levels 1 --v-set -0.3 --v-reset 0.1"),
            &["--levels"],
        ),
        (format!("{program} {request} --x0 1"), &["bounds"]),
    ];
    for (k, (args, says)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("out{k}"));
        let o = command(args, &out).output().expect("xbar runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args}: {err}");
        for needle in says.iter() {
            assert!(
                err.contains(needle),
                "{args}: `{needle}` missing from {err}"
            );
        }
        assert!(!out.exists(), "{args}: wrote {}", out.display());
    }
}

/// `--compensation`: the drawn conductances do not depend on it; `none`
/// leaves the drifted mean (compensated ratio = raw ratio), `column` (one
/// scale per target level) brings every level's mean back to its target
/// within 1 %, which one layer-wide scale cannot do for G-dependent drift.
#[test]
fn drift_compensation_modes() {
    let run = |mode: &str| {
        let dir = tempfile::tempdir().unwrap();
        run_ok(
            &format!(
                "device drift --model models/drift_pcm.toml --times 86400 --devices 6000 \
                 --seed 4 --compensation {mode}"
            ),
            dir.path(),
        );
        read_csv(&dir.path().join("drift_summary.csv")).1
    };
    let (none, layer, column) = (run("none"), run("layer"), run("column"));
    assert_eq!(none.len(), 6);
    for ((n, l), c) in none.iter().zip(&layer).zip(&column) {
        // Same devices, same draws: identical raw statistics.
        assert_eq!(n[..12], l[..12]);
        assert_eq!(n[..12], c[..12]);
        assert!(n[10] < 0.8, "{n:?}");
        assert!((n[12] / n[10] - 1.0).abs() < 1e-12, "{n:?}");
        assert!((c[12] - 1.0).abs() < 0.01, "{c:?}");
    }
    // The layer-wide scale over- or under-corrects some level by more than 5 %.
    assert!(
        layer.iter().any(|l| (l[12] - 1.0).abs() > 0.05),
        "{layer:?}"
    );
}

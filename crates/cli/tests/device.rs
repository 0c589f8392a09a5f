//! `xbar device iv|pulse|drift` end to end: files, columns and numbers.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn xbar(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("xbar runs")
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
    let out = dir.path().to_str().unwrap();
    let o = xbar(&[
        "device",
        "iv",
        "--model",
        "models/lid.toml",
        "--cycles",
        "2",
        "--points",
        "500",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
    let out = dir.path().to_str().unwrap();
    let o = xbar(&[
        "device",
        "pulse",
        "--model",
        "models/vteam.toml",
        "--amplitude",
        "0.1",
        "--width",
        "100e-9",
        "--count",
        "20",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = xbar(&[
        "device",
        "drift",
        "--model",
        "models/drift_pcm.toml",
        "--times",
        "3600,86400",
        "--devices",
        "6000",
        "--seed",
        "9",
        "--samples",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
    let o = xbar(&[
        "device",
        "drift",
        "--model",
        "models/drift_pcm.toml",
        "--times",
        "3600,86400",
        "--devices",
        "6000",
        "--seed",
        "9",
        "--out",
        again.path().to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("drift_summary.csv")).unwrap(),
        std::fs::read(again.path().join("drift_summary.csv")).unwrap()
    );
}

#[test]
fn bad_input_fails_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let out_s = out.to_str().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "model = \"vteam\"\nkoff = nan\n").unwrap();
    let o = xbar(&[
        "device",
        "iv",
        "--model",
        bad.to_str().unwrap(),
        "--out",
        out_s,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("koff") && err.contains("bad.toml"), "{err}");
    let o = xbar(&[
        "device",
        "pulse",
        "--model",
        "models/lid.toml",
        "--amplitude",
        "1",
        "--width",
        "-1e-3",
        "--count",
        "3",
        "--out",
        out_s,
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("-0.001 s"));
    let o = xbar(&[
        "device",
        "drift",
        "--model",
        "models/lid.toml",
        "--out",
        out_s,
    ]);
    assert!(!o.status.success());
    let o = xbar(&[
        "device",
        "iv",
        "--model",
        "models/missing.toml",
        "--out",
        out_s,
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.toml"));
    assert!(!out.join("iv.csv").exists() && !out.join("pulse.csv").exists());
}

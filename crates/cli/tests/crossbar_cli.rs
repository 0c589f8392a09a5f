//! `xbar crossbar` end to end: output files, the emitted ngspice deck run by
//! ngspice (or, without ngspice on PATH, ngspice's committed answers for the
//! same decks), and clear errors for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn xbar() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xbar"))
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crossbar_golden")
}

fn read_columns(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("col,current,ideal_current"));
    lines
        .enumerate()
        .map(|(k, l)| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[0].parse::<usize>().unwrap(), k);
            (f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

/// Values of `i(vammJ)` from an ngspice ASCII raw file, in column order.
fn raw_currents(raw: &str) -> Vec<f64> {
    let vars_at = raw.find("\nVariables:").expect("raw file has variables");
    let values_at = raw.find("\nValues:").expect("raw file has values");
    let names: Vec<String> = raw[vars_at + 11..values_at]
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    let values: Vec<f64> = raw[values_at + 8..]
        .split_whitespace()
        .filter_map(|t| {
            if t.contains('.') {
                t.parse().ok()
            } else {
                None
            }
        })
        .collect();
    assert_eq!(names.len(), values.len(), "one point of every variable");
    let mut out = vec![f64::NAN; names.len()];
    for (name, v) in names.iter().zip(values) {
        let j: usize = name
            .strip_prefix("i(vamm")
            .and_then(|s| s.strip_suffix(')'))
            .expect("only ammeter currents saved")
            .parse()
            .unwrap();
        out[j] = v;
    }
    out
}

fn ngspice_available() -> bool {
    Command::new("ngspice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The cases with committed ngspice answers: (name, xbar arguments).
fn spice_cases() -> Vec<(&'static str, Vec<&'static str>)> {
    let gen = ["--g-min", "1e-6", "--g-max", "1e-4", "--v-max", "0.3"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        gen.iter().copied().chain(extra.iter().copied()).collect()
    };
    vec![
        (
            "all_parasitics_9x6",
            with(&[
                "--rows",
                "9",
                "--cols",
                "6",
                "--seed",
                "11",
                "--r-row",
                "2.5",
                "--r-col",
                "1.5",
                "--r-driver",
                "100",
                "--r-sense",
                "50",
            ]),
        ),
        (
            "ideal_driver_sense_5x8",
            with(&[
                "--rows", "5", "--cols", "8", "--seed", "12", "--r-row", "10", "--r-col", "4",
            ]),
        ),
        (
            "ideal_rows_7x4",
            with(&[
                "--rows",
                "7",
                "--cols",
                "4",
                "--seed",
                "13",
                "--r-col",
                "3",
                "--r-driver",
                "20",
                "--r-sense",
                "30",
            ]),
        ),
    ]
}

#[test]
fn emitted_deck_matches_ngspice() {
    let live = ngspice_available();
    for (name, args) in spice_cases() {
        let dir = tempfile::tempdir().unwrap();
        let deck = dir.path().join("deck.cir");
        let status = xbar()
            .arg("crossbar")
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .arg("--emit-netlist")
            .arg(&deck)
            .status()
            .unwrap();
        assert!(status.success(), "{name}: xbar failed");
        let raw = if live {
            let raw_path = dir.path().join("out.raw");
            let out = Command::new("ngspice")
                .env("SPICE_ASCIIRAWFILE", "1")
                .arg("-b")
                .arg("-r")
                .arg(&raw_path)
                .arg(&deck)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name}: ngspice failed");
            std::fs::read_to_string(&raw_path).unwrap()
        } else {
            std::fs::read_to_string(golden_dir().join(format!("{name}.raw")))
                .expect("committed ngspice answer")
        };
        let spice = raw_currents(&raw);
        let ours = read_columns(&dir.path().join("columns.csv"));
        assert_eq!(spice.len(), ours.len(), "{name}: column count");
        let scale = spice.iter().fold(0.0f64, |s, x| s.max(x.abs()));
        for (j, (s, (o, _))) in spice.iter().zip(&ours).enumerate() {
            assert!(
                (s - o).abs() <= 1e-9 * scale,
                "{name}: column {j}: ngspice {s:e}, xbar {o:e}"
            );
        }
        // The IR drop is real: the ideal currents differ by far more.
        let drop = ours.iter().fold(0.0f64, |m, (c, id)| m.max((c - id).abs()));
        assert!(drop > 1e-4 * scale, "{name}: parasitics had no effect");
    }
}

#[test]
fn files_in_files_out() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.csv");
    let v = dir.path().join("v.csv");
    std::fs::write(&g, "1e-5,2e-5,3e-5\n4e-5,5e-5,6e-5\n").unwrap();
    std::fs::write(&v, "0.1\n0.2\n").unwrap();
    let out = dir.path().join("out");
    let status = xbar()
        .args(["crossbar", "--g-file"])
        .arg(&g)
        .arg("--v-file")
        .arg(&v)
        .arg("--out")
        .arg(&out)
        .arg("--cells")
        .status()
        .unwrap();
    assert!(status.success());
    // No parasitics: exactly the ideal product, G^T v.
    let cols = read_columns(&out.join("columns.csv"));
    let want = [
        1e-5 * 0.1 + 4e-5 * 0.2,
        2e-5 * 0.1 + 5e-5 * 0.2,
        3e-5 * 0.1 + 6e-5 * 0.2,
    ];
    for ((c, ideal), w) in cols.iter().zip(want) {
        assert!((c - w).abs() <= 1e-15 * w && (ideal - w).abs() <= 1e-15 * w);
    }
    let cells = std::fs::read_to_string(out.join("cells.csv")).unwrap();
    let mut lines = cells.lines();
    assert_eq!(lines.next(), Some("row,col,v_row,v_col,current"));
    let last: Vec<f64> = lines
        .last()
        .unwrap()
        .split(',')
        .map(|f| f.parse().unwrap())
        .collect();
    assert_eq!(&last[..2], &[1.0, 2.0]);
    assert!((last[2] - 0.2).abs() < 1e-15 && last[3] == 0.0);
    assert!((last[4] - 6e-5 * 0.2).abs() < 1e-18);
}

fn run_expect_error(g_text: &str, v_text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.csv");
    let v = dir.path().join("v.csv");
    std::fs::write(&g, g_text).unwrap();
    std::fs::write(&v, v_text).unwrap();
    let out = dir.path().join("out");
    let o = xbar()
        .args(["crossbar", "--r-row", "1", "--g-file"])
        .arg(&g)
        .arg("--v-file")
        .arg(&v)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success(), "bad input accepted");
    assert!(
        !out.join("columns.csv").exists(),
        "output written despite the error"
    );
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn bad_input_is_a_clear_error() {
    let e = run_expect_error("1e-5,2e-5\n3e-5,abc\n", "0.1\n0.2\n");
    assert!(e.contains("line 2, field 2") && e.contains("abc"), "{e}");
    let e = run_expect_error("1e-5,2e-5\n3e-5\n", "0.1\n0.2\n");
    assert!(
        e.contains("line 2") && e.contains("1 fields, expected 2"),
        "{e}"
    );
    let e = run_expect_error("1e-5,-2e-5\n3e-5,1e-5\n", "0.1\n0.2\n");
    assert!(
        e.contains("line 1, field 2") && e.contains("non-negative"),
        "{e}"
    );
    let e = run_expect_error("1e-5,NaN\n3e-5,1e-5\n", "0.1\n0.2\n");
    assert!(e.contains("line 1, field 2") && e.contains("finite"), "{e}");
    let e = run_expect_error("1e-5,2e-5\n3e-5,1e-5\n", "0.1\n0.2\n0.3\n");
    assert!(e.contains("3 voltages") && e.contains("2 rows"), "{e}");
    let e = run_expect_error("1e-5,2e-5\n3e-5,1e-5\n", "0.1\n0.2,0.3\n");
    assert!(e.contains("line 2") && e.contains("one voltage"), "{e}");
}

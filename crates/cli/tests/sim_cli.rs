//! `xbar sim` as a user meets it: output files and their names, `.save`,
//! number formatting, warnings, and errors for every malformed deck.

mod sim_common;

use std::path::Path;
use std::process::Command;

use sim_common::*;

fn write_deck(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `text` as `work/name`, runs `xbar sim` on it into `work/out`,
/// asserts success and returns the output folder and stderr.
fn sim_ok(work: &Path, name: &str, text: &str) -> (std::path::PathBuf, String) {
    let deck = write_deck(work, name, text);
    let out = work.join("out");
    let output = run_sim(&deck, &out);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{name}: {stderr}");
    (out, stderr)
}

fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// `(file, line, substring)` from a malformed deck's title `expect FILE:LINE: substring`.
fn expectation(deck: &Path) -> (String, usize, String) {
    let text = std::fs::read_to_string(deck).unwrap();
    let rest = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("expect ")
        .unwrap()
        .to_string();
    let (place, substring) = rest.split_once(": ").unwrap();
    let (file, line) = place.rsplit_once(':').unwrap();
    (
        file.to_string(),
        line.parse().unwrap(),
        substring.to_string(),
    )
}

#[test]
fn every_malformed_deck_exits_non_zero_naming_file_and_line() {
    let dir = repo().join("tests/malformed");
    let mut decks: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cir"))
        .collect();
    decks.sort();
    assert!(decks.len() >= 25, "{} decks", decks.len());
    let work = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for deck in &decks {
        let (file, line, substring) = expectation(deck);
        let out = work.path().join(deck.file_stem().unwrap());
        let output = run_sim(deck, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let place = format!("{}:{line}: ", dir.join(&file).display());
        if output.status.success() || output.status.code() != Some(1) {
            failures.push(format!(
                "{}: exit status {:?}",
                deck.display(),
                output.status
            ));
        } else if stderr.contains("panicked")
            || !stderr.contains(&place)
            || !stderr.contains(&substring)
        {
            failures.push(format!(
                "{}: stderr `{}` lacks `{place}` or `{substring}`",
                deck.display(),
                stderr.trim()
            ));
        } else if !files(&out).is_empty() {
            failures.push(format!("{}: wrote {:?}", deck.display(), files(&out)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_deck_is_an_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let output = run_sim(&work.path().join("absent.cir"), work.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("absent.cir") && stderr.contains("cannot read file"),
        "{stderr}"
    );
    assert!(files(work.path()).is_empty(), "{:?}", files(work.path()));
}

#[test]
fn repeated_analyses_get_numbered_files_and_summaries() {
    let work = tempfile::tempdir().unwrap();
    let (out, stderr) = sim_ok(
        work.path(),
        "divider.cir",
        "divider\nv1 a 0 1\nr1 a b 1k\nr2 b 0 3k\n.dc v1 0 1 0.5\n.op\n.dc v1 0 2 0.25\n",
    );
    assert_eq!(files(&out), ["dc1.csv", "dc2.csv", "op.csv"]);
    // One summary line per analysis, named by its file.
    for name in ["dc1.csv: ", "dc2.csv: ", "op.csv: "] {
        assert_eq!(stderr.matches(name).count(), 1, "{stderr}");
    }
    let dc1 = read_csv(&out.join("dc1.csv"));
    let dc2 = read_csv(&out.join("dc2.csv"));
    assert_eq!(dc1.rows.len(), 3);
    assert_eq!(dc2.rows.len(), 9);
    let sweep: Vec<f64> = dc2.rows.iter().map(|r| r[0]).collect();
    let vb = dc2.column("v(b)").unwrap();
    for (v, b) in sweep.iter().zip(&vb) {
        assert!((b - 0.75 * v).abs() <= 1e-15, "v(b) = {b} at {v}");
    }
    let op = read_csv(&out.join("op.csv"));
    assert_eq!(op.rows.len(), 1);
    assert_eq!(op.column("i(v1)").unwrap(), [-1.0 / 4000.0]);
}

#[test]
fn save_restricts_columns_in_save_order_with_differences() {
    let work = tempfile::tempdir().unwrap();
    let (out, _) = sim_ok(
        work.path(),
        "save.cir",
        "save\nv1 a 0 2\nr1 a b 1k\nr2 b c 3k\nr3 c 0 4k\n.save v(c) v(a,b) i(v1) b\n.dc v1 0 2 1\n.op\n",
    );
    let dc = read_csv(&out.join("dc.csv"));
    assert_eq!(dc.columns[1..], ["v(c)", "v(a,b)", "i(v1)", "v(b)"]);
    let op = read_csv(&out.join("op.csv"));
    assert_eq!(op.columns, ["v(c)", "v(a,b)", "i(v1)", "v(b)"]);
    let want = [2.0 * 4.0 / 8.0, 2.0 / 8.0, -2.0 / 8000.0, 2.0 * 7.0 / 8.0];
    for (got, want) in op.rows[0].iter().zip(want) {
        assert!(
            (got - want).abs() <= 1e-15 * want.abs().max(1.0),
            "{:?} vs {want:?}",
            op.rows[0]
        );
    }
    for (row, v) in dc.rows.iter().zip([0.0, 1.0, 2.0]) {
        assert_eq!(row[0], v);
        assert!((row[2] - v / 8.0).abs() <= 1e-15, "{row:?}");
    }
}

#[test]
fn numbers_round_trip_and_no_temporary_files_remain() {
    let work = tempfile::tempdir().unwrap();
    // 1/3 V and 1/3e-3 A have no short decimal form: the CSV must carry all
    // 17 significant digits, and a tiny current must keep its exponent.
    let (out, _) = sim_ok(
        work.path(),
        "third.cir",
        "third\nv1 a 0 1\nr1 a b 2\nr2 b 0 1\nv2 c 0 1e-300\nr3 c 0 1\n.op\n",
    );
    assert_eq!(files(&out), ["op.csv"]);
    let text = std::fs::read_to_string(out.join("op.csv")).unwrap();
    let op = read_csv(&out.join("op.csv"));
    let vb = op.column("v(b)").unwrap()[0];
    assert!((vb - 1.0 / 3.0).abs() <= 1e-16, "{vb}");
    assert!(text.contains(&format!("{vb}")), "{text}");
    assert_eq!(op.column("v(c)").unwrap()[0], 1e-300);
    assert!(text.contains("1e-300"), "{text}");
}

#[test]
fn warnings_are_reported_with_their_place_and_the_run_succeeds() {
    let work = tempfile::tempdir().unwrap();
    write_deck(
        work.path(),
        "warn.cir",
        "warn\n.options frobnicate=3\nv1 a 0 1\nr1 a 0 0\n.op\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(["sim", "warn.cir"])
        .current_dir(work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warn.cir:2: warning: unknown option `frobnicate` ignored"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warn.cir:4: warning: r1: zero resistance set to 1 mOhm"),
        "{stderr}"
    );
    // Default output folder: the current one.
    let op = read_csv(&work.path().join("op.csv"));
    assert_eq!(op.column("i(v1)").unwrap(), [-1000.0]);
}

#[test]
fn print_writes_tables_to_stdout() {
    let work = tempfile::tempdir().unwrap();
    let deck = write_deck(
        work.path(),
        "print.cir",
        "print\nv1 a 0 1\nr1 a b 1k\nr2 b 0 1k\n.print dc v(b)\n.op\n.dc v1 0 1 1\n",
    );
    let output = run_sim(&deck, &work.path().join("out"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..3], ["# op", "v(b)", "0.5"], "{stdout}");
    assert_eq!(lines[3], "# dc");
    assert!(lines[4].ends_with("\tv(b)"), "{stdout}");
    assert_eq!(lines[5..], ["0\t0", "1\t0.5"], "{stdout}");
}

#[test]
fn a_deck_without_analyses_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (out, stderr) = sim_ok(work.path(), "none.cir", "none\nv1 a 0 1\nr1 a 0 1k\n");
    assert!(stderr.contains("no analysis"), "{stderr}");
    assert!(files(&out).is_empty());
}

/// ngspice's operating point uses a source's DC value, even an explicit
/// `dc 0`, and only a source with no DC value falls back to its waveform's
/// time-zero value.
#[test]
fn operating_point_uses_explicit_dc_zero_and_waveform_start_otherwise() {
    let work = tempfile::tempdir().unwrap();
    let (out, _) = sim_ok(
        work.path(),
        "dc0.cir",
        "dc zero\nv1 a 0 dc 0 pulse(1 2 1u 1n 1n 1u 2u)\nr1 a 0 1k\n\
         v2 b 0 pulse(1 2 1u 1n 1n 1u 2u)\nr2 b 0 1k\n.op\n",
    );
    let op = read_csv(&out.join("op.csv"));
    assert_eq!(op.column("v(a)").unwrap(), [0.0]);
    assert_eq!(op.column("v(b)").unwrap(), [1.0]);
}

#[test]
fn ac_csv_has_the_documented_columns_and_save_selects_phasors() {
    let work = tempfile::tempdir().unwrap();
    let (out, _) = sim_ok(
        work.path(),
        "ac.cir",
        "ac\nv1 in 0 dc 1 ac 1\nr1 in out 1k\nc1 out 0 1u\nl1 out 0 1\n.save v(out) v(in,out) i(l1)\n.ac dec 1 10 100\n.end\n",
    );
    let table = read_csv(&out.join("ac.csv"));
    let vectors = ["v(out)", "v(in,out)", "i(l1)"];
    let mut want = vec!["frequency".to_string()];
    for v in vectors {
        want.push(format!("re({v})"));
        want.push(format!("im({v})"));
    }
    want.extend(vectors.iter().map(|v| format!("db({v})")));
    want.extend(vectors.iter().map(|v| format!("phase({v})")));
    assert_eq!(table.columns, want);
    // v(in,out) is the difference of the node phasors: v(in) is the source.
    let (re_out, re_diff) = (
        table.column("re(v(out))").unwrap(),
        table.column("re(v(in,out))").unwrap(),
    );
    let (im_out, im_diff) = (
        table.column("im(v(out))").unwrap(),
        table.column("im(v(in,out))").unwrap(),
    );
    for k in 0..table.rows.len() {
        assert!((re_out[k] + re_diff[k] - 1.0).abs() < 1e-15);
        assert!((im_out[k] + im_diff[k]).abs() < 1e-15);
    }
    // The help names every column form ac.csv uses.
    let help = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for form in [
        ".ac dec|oct|lin",
        "ac.csv",
        "frequency",
        "re(v(out))",
        "im(v(out))",
        "db(v(out))",
        "phase(v(out))",
    ] {
        assert!(help.contains(form), "--help does not mention {form}");
    }
}

#[test]
fn help_lists_the_dialect_table() {
    let output = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in xbar_netlist::dialect::markdown_table().lines() {
        assert!(stdout.contains(line), "`xbar sim --help` lacks `{line}`");
    }
}

/// DERIV (which ngspice 39 reports unsupported) on an RC step response
/// against the closed form: v = 1 - exp(-t/tau), dv/dt = exp(-t/tau)/tau.
#[test]
fn deriv_measures_the_rc_slope() {
    let work = tempfile::tempdir().unwrap();
    let (out, _) = sim_ok(
        work.path(),
        "deriv.cir",
        "deriv\nv1 in 0 pwl(0 0 1n 1)\nr1 in out 1k\nc1 out 0 1n\n.tran 1n 5u 0 2n\n\
         .meas tran s1 deriv v(out) at=2u\n\
         .meas tran s2 deriv v(out) when v(out)=0.5\n",
    );
    let text = std::fs::read_to_string(out.join("meas.csv")).unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name},")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let tau: f64 = 1e-6;
    // The source ramps over the first nanosecond: time runs from its middle.
    let s1 = (-(2e-6 - 0.5e-9) / tau).exp() / tau;
    assert!(
        (value("s1") - s1).abs() < 2e-3 * s1,
        "{} vs {s1}",
        value("s1")
    );
    let s2 = 0.5 / tau;
    assert!(
        (value("s2") - s2).abs() < 2e-3 * s2,
        "{} vs {s2}",
        value("s2")
    );
}

#[test]
fn control_block_runs_its_analyses_loops_and_alters() {
    let work = tempfile::tempdir().unwrap();
    let deck = write_deck(
        work.path(),
        "loop.cir",
        "loop\nv1 a 0 1\nr1 a b 1k\nr2 b 0 1k\n.control\n\
         foreach r 1k 3k\nalter r2 $r\nop\nprint v(b)\nend\n\
         repeat 2\necho again\nend\nreset\nop\nlet twice = v(b) * 2\nprint twice\n\
         dc v1 0 2 1\nwrdata sweep.csv v(b) v(b)*2\nplot v(b)\nplot v(a)\nquit\necho never\n.endc\n",
    );
    let out = work.path().join("out");
    let output = run_sim(&deck, &out);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "v(b) = 5.000000e-01",
            "v(b) = 7.500000e-01",
            "again",
            "again",
            "twice = 1.000000e+00"
        ],
        "{stdout}"
    );
    assert_eq!(stderr.matches("`plot` ignored").count(), 1, "{stderr}");
    assert!(stderr.contains("loop.cir:"), "{stderr}");
    assert_eq!(
        files(&out),
        ["dc.csv", "op1.csv", "op2.csv", "op3.csv", "sweep.csv"]
    );
    let sweep = read_csv(&out.join("sweep.csv"));
    assert_eq!(sweep.columns, ["v-sweep", "v(b)", "v(b)*2"]);
    assert_eq!(sweep.column("v(b)*2").unwrap(), [0.0, 1.0, 2.0]);
}

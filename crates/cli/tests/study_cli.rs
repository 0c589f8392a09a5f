//! `xbar study` / `xbar merge` end to end: thread-count and shard invariance,
//! kill-and-resume, Ctrl-C, and the errors a user sees.

mod study_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use study_common::{command, csv_rows, edit, err, ok, read, s, trials_without_runtime, xbar, XBAR};

/// A synthetic grid study: 4 × 2 points, 5 trials each.
fn config(dir: &Path, delay_s: f64) -> PathBuf {
    config_with(dir, delay_s, 5)
}

fn config_with(dir: &Path, delay_s: f64, trials: usize) -> PathBuf {
    let text = format!(
        r#"mapping = "synthetic"
images = 500
trials = {trials}
seed = 148

[nonideal]
crossbar.r_wire = 1.0
synthetic.trial_delay_s = {delay_s}

[[sweep]]
parameter = "device.programming_sigma"
start = 0.0
stop = 0.15
points = 4

[[sweep]]
parameter = "drift.compensation"
values = [false, true]
"#
    );
    study_common::write_config(dir, "study.toml", &text)
}

fn assert_same_study(a: &Path, b: &Path) {
    assert_eq!(
        trials_without_runtime(a),
        trials_without_runtime(b),
        "trials.csv differs"
    );
    for f in ["study.toml", "summary.csv", "device.programming_sigma.svg"] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f} differs");
    }
}

#[test]
fn threads_and_shards_write_identical_studies() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), 0.0);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let stdout = ok(&["study", s(&cfg), "--out", s(&one), "--threads", "1"]);
    assert!(
        stdout.contains("40 trials (40 run now, 0 resumed)"),
        "{stdout}"
    );
    assert!(stdout.contains("\nwall time "), "{stdout}");
    assert!(
        stdout.contains(" s mean over 40 (") && stdout.contains(" s of trial time on 1 thread, "),
        "{stdout}"
    );
    assert!(stdout.contains("ideal accuracy: 96.40 %"), "{stdout}");
    ok(&["study", s(&cfg), "--out", s(&two), "--threads", "2"]);
    assert_same_study(&one, &two);
    assert_eq!(read(&one.join("trials.csv")).lines().count(), 41);

    let mut shards = Vec::new();
    for k in 1..=3 {
        let dir = tmp.path().join(format!("shard{k}"));
        let out = ok(&[
            "study",
            s(&cfg),
            "--out",
            s(&dir),
            "--shard",
            &format!("{k}/3"),
        ]);
        assert!(out.contains(&format!("shard {k}/3 done")), "{out}");
        shards.push(dir);
    }
    let merged = tmp.path().join("merged");
    let e = err(&["merge", s(&shards[0]), s(&shards[2]), "--out", s(&merged)]);
    assert!(
        e.contains("hold 27 of 40 trials (first missing: point 0, trial 1)"),
        "{e}"
    );
    let out = ok(&[
        "merge",
        s(&shards[0]),
        s(&shards[1]),
        s(&shards[2]),
        "--out",
        s(&merged),
    ]);
    assert!(out.contains("merged 40 trials from 3 folders"), "{out}");
    assert_same_study(&one, &merged);

    // Merging into one of the inputs would replace that shard's record.
    let before = read(&shards[1].join("trials.csv"));
    let via = shards[1].join("..").join("shard2");
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&shards[1]),
        s(&shards[2]),
        "--out",
        s(&via),
    ]);
    assert!(
        e.contains("is also an input") && e.contains("shard2"),
        "{e}"
    );
    assert_eq!(read(&shards[1].join("trials.csv")), before);
}

/// Waits until `trials.csv` has at least `rows` data rows.
fn wait_for_rows(path: &Path, rows: usize) {
    let start = Instant::now();
    while std::fs::read_to_string(path).map_or(0, |t| t.lines().count().saturating_sub(1)) < rows {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no progress in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn killed_study_resumes_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), 0.04);
    let reference = tmp.path().join("reference");
    ok(&["study", s(&cfg), "--out", s(&reference), "--threads", "2"]);

    let out = tmp.path().join("killed");
    let mut child = command(Path::new(XBAR))
        .args(["study", s(&cfg), "--out", s(&out), "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_rows(&out.join("trials.csv"), 7);
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = read(&out.join("trials.csv"));
    let rows = partial.lines().count() - 1;
    assert!((7..40).contains(&rows), "{rows} rows after the kill");
    assert!(!out.join("summary.csv").exists());

    let stdout = ok(&["study", s(&cfg), "--out", s(&out), "--threads", "1"]);
    let resumed = format!("({} run now, {rows} resumed)", 40 - rows);
    assert!(stdout.contains(&resumed), "{stdout}");
    assert_same_study(&reference, &out);
}

#[test]
fn ctrl_c_finishes_trials_in_flight_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), 0.04);
    let out = tmp.path().join("interrupted");
    let child = command(Path::new(XBAR))
        .args(["study", s(&cfg), "--out", s(&out), "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_rows(&out.join("trials.csv"), 3);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = child.wait_with_output().unwrap();
    assert_eq!(result.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("interrupted after"), "{stderr}");
    assert!(
        stderr.contains("rerun the same command to resume"),
        "{stderr}"
    );
    let text = read(&out.join("trials.csv"));
    assert!(text.ends_with('\n'));
    let rows = text.lines().count() - 1;
    assert!(rows < 40, "{rows}");

    ok(&["study", s(&cfg), "--out", s(&out)]);
    assert_eq!(read(&out.join("trials.csv")).lines().count(), 41);
    assert!(out.join("summary.csv").exists());
}

#[test]
fn second_ctrl_c_abandons_trials_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_with(tmp.path(), 0.6, 1);
    let out = tmp.path().join("abandoned");
    let child = command(Path::new(XBAR))
        .args(["study", s(&cfg), "--out", s(&out), "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_rows(&out.join("trials.csv"), 2);
    for _ in 0..2 {
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = child.wait_with_output().unwrap();
    assert_eq!(result.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("abandoning trials in flight"), "{stderr}");
    let text = read(&out.join("trials.csv"));
    assert!(text.ends_with('\n'), "torn row: {text}");
    let rows = text.lines().count() - 1;
    assert!((2..8).contains(&rows), "{rows}");
    let stdout = ok(&["study", s(&cfg), "--out", s(&out), "--threads", "2"]);
    assert!(stdout.contains(&format!("{rows} resumed")), "{stdout}");
}

#[test]
fn clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), 0.0);
    let text = read(&cfg);
    let out = tmp.path().join("out");

    /// (config edit, extra arguments, what the error says, what it must not).
    type Case<'a> = ((&'a str, &'a str), &'a [&'a str], &'a str, Option<&'a str>);
    let cases: &[Case] = &[
        (
            ("\"synthetic\"", "\"ideal\""),
            &[],
            "unknown parameter `synthetic.trial_delay_s` for mapping `ideal`",
            None,
        ),
        // The config is checked before the model is looked at.
        (
            ("\"synthetic\"", "\"ideal\""),
            &["--model", "x.xbm"],
            "unknown parameter `synthetic.trial_delay_s` for mapping `ideal`",
            Some("x.xbm"),
        ),
        (
            ("", ""),
            &["--model", "x.xbm"],
            "--model and --mnist apply to the network",
            None,
        ),
        (
            ("seed = 148", "seed = 148\nmodel = \"x.xbm\""),
            &[],
            "study.toml: mapping `synthetic` has no network; `model` applies to the network mappings",
            None,
        ),
        (
            ("crossbar.r_wire", "crossbar.r_wyre"),
            &[],
            "study.toml: nonideal: unknown parameter `crossbar.r_wyre`",
            None,
        ),
        (
            ("start = 0.0", "start = 0.0\nspacing = \"log\""),
            &[],
            "log spacing needs start > 0",
            None,
        ),
        (
            ("crossbar.r_wire = 1.0", "crossbar.r_wire = -1.0"),
            &[],
            "`crossbar.r_wire` = -1.0: must be ≥ 0 Ω",
            None,
        ),
        (("", ""), &["--shard", "4/3"], "not K/N", None),
        // Hostile sizes are refused before anything is allocated or spawned.
        (
            ("points = 4", "points = 100000000"),
            &[],
            "sweep 1 (`device.programming_sigma`): 100000000 points exceeds the limit of 1000",
            None,
        ),
        (
            ("trials = 5", "trials = 1000000"),
            &[],
            "8 points x 1000000 trials exceeds the limit of 1000000 trials",
            None,
        ),
        (
            ("", ""),
            &["--threads", "100000"],
            "--threads: worker threads: 100000 threads requested; give 1 to",
            None,
        ),
    ];
    for ((from, to), extra, says, not) in cases {
        std::fs::write(&cfg, edit(&text, from, to)).unwrap();
        let mut args = vec!["study", s(&cfg), "--out", s(&out)];
        args.extend(extra.iter());
        let e = err(&args);
        assert!(e.contains(says), "{from} -> {to} {extra:?}: {e}");
        if let Some(not) = not {
            assert!(!e.contains(not), "{from} -> {to} {extra:?}: {e}");
        }
        assert!(!out.exists(), "a rejected study must not create its folder");
    }

    std::fs::write(&cfg, &text).unwrap();
    ok(&["study", s(&cfg), "--out", s(&out)]);
    std::fs::write(&cfg, text.replace("seed = 148", "seed = 149")).unwrap();
    let e = err(&["study", s(&cfg), "--out", s(&out)]);
    assert!(e.contains("different study"), "{e}");

    let e = err(&[
        "study",
        s(&tmp.path().join("missing.toml")),
        "--out",
        s(&out),
    ]);
    assert!(e.contains("missing.toml"), "{e}");
}

#[test]
fn table_shows_each_point_of_finished_studies() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), 0.0);
    let grid = tmp.path().join("sigma_comp");
    ok(&["study", s(&cfg), "--out", s(&grid)]);
    let summary = csv_rows(&read(&grid.join("summary.csv")));
    assert_eq!(summary.len(), 8);

    let csv = ok(&["table", s(&grid), "--format", "csv"]);
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 8, "{csv}");
    for (row, want) in rows.iter().zip(&summary) {
        for (mine, theirs) in [
            ("mean", "mean"),
            ("ci95_low", "ci95_low"),
            ("ci95_high", "ci95_high"),
            ("n", "n"),
            ("value_1", "device.programming_sigma"),
            ("value_2", "drift.compensation"),
        ] {
            assert_eq!(row[mine], want[theirs], "{mine}");
        }
        assert_eq!(row["study"], "sigma_comp");
        assert_eq!(row["fixed"], "crossbar.r_wire=1");
        assert_eq!(row["baseline"], "0.964");
    }

    let md = ok(&["table", s(&grid), "--baseline", "0.95"]);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 10, "{md}");
    assert!(lines[0].contains("| vs 95 % (pp) |"), "{md}");
    // Point 5: σ = 0.1 (the third of 0, 0.05, 0.1, 0.15), compensation on.
    let f = |k: &str| summary[5][k].parse::<f64>().unwrap();
    let want = format!(
        "| sigma_comp | synthetic | `device.programming_sigma` × `drift.compensation` \
         (fixed: crossbar.r_wire = 1 Ω) | 10 %, true | {:.2} ({:.2} – {:.2}) | 5 × 500 | {:+.2} |",
        100.0 * f("mean"),
        100.0 * f("ci95_low"),
        100.0 * f("ci95_high"),
        100.0 * (f("mean") - 0.95)
    );
    assert_eq!(lines[7], want);

    // Two studies in one table; an unfinished one is refused unless --partial.
    let shard = tmp.path().join("shard");
    ok(&["study", s(&cfg), "--out", s(&shard), "--shard", "1/3"]);
    let e = err(&["table", s(&grid), s(&shard)]);
    assert!(
        e.contains("incomplete study: 26 of 40 trials missing; it is shard 1/3"),
        "{e}"
    );
    let out = xbar(&["table", s(&grid), s(&shard), "--partial"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("26 of 40 trials missing"), "{stderr}");
    let md = String::from_utf8_lossy(&out.stdout);
    assert_eq!(md.lines().count(), 2 + 16, "{md}");
    assert!(
        md.lines()
            .nth(10)
            .unwrap()
            .starts_with("| shard | synthetic |"),
        "{md}"
    );

    let e = err(&["table", s(&grid), "--baseline", "96.4"]);
    assert!(e.contains("0.964 for 96.4 %"), "{e}");
    let e = err(&["table", s(&tmp.path().join("none"))]);
    assert!(e.contains("none/study.toml"), "{e}");
}

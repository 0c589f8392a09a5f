//! `xbar table`'s library side on small synthetic studies: the numbers in
//! the table are summary.csv's, a grid renders one row per point, and
//! unfinished studies are refused unless partial results are asked for.

use std::collections::HashMap;
use std::path::Path;

use xbar_study::table::{display_value, CSV_COLUMNS};
use xbar_study::{
    load_results, render_csv, render_markdown, run_study, Evaluator, RunOptions, Shard, Study,
    StudyConfig, SyntheticEvaluator, Value, PAPER_ACCURACY,
};

const GRID: &str = r#"
mapping = "synthetic"
images = 400
trials = 4
seed = 5

[nonideal]
crossbar.r_wire = 0.5
drift.time_s = 0.0

[[sweep]]
parameter = "device.programming_sigma"
values = [0.0, 0.05, 0.1]

[[sweep]]
parameter = "adc.bits"
values = [4, 8]
"#;

fn run(text: &str, out: &Path, shard: Option<Shard>) -> Study {
    let config = StudyConfig::parse(text, Path::new("grid.toml"), Path::new(".")).unwrap();
    let study = Study::new(&config, SyntheticEvaluator.parameters()).unwrap();
    let options = RunOptions {
        shard,
        ..RunOptions::default()
    };
    run_study(&study, &SyntheticEvaluator, out, &options).unwrap();
    study
}

/// Rows of CSV text as header → field maps.
fn csv_rows(bytes: &[u8]) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn grid_table_carries_summary_csv_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sigma_bits");
    run(GRID, &dir, None);
    let summary = csv_rows(&std::fs::read(dir.join("summary.csv")).unwrap());
    assert_eq!(summary.len(), 6);

    let results = load_results(&dir, false).unwrap();
    assert_eq!((results.name.as_str(), results.missing), ("sigma_bits", 0));
    // drift.time_s = 0 is the default: not shown.
    let fixed: Vec<&str> = results.fixed.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(fixed, ["crossbar.r_wire"]);

    let csv = render_csv(std::slice::from_ref(&results), 0.95);
    let text = String::from_utf8(csv.clone()).unwrap();
    assert_eq!(text.lines().next().unwrap(), CSV_COLUMNS.join(","));
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 6);
    for (row, s) in rows.iter().zip(&summary) {
        // Exactly the strings of summary.csv, not re-rounded numbers.
        for (mine, theirs) in [
            ("mean", "mean"),
            ("std", "std"),
            ("ci95_low", "ci95_low"),
            ("ci95_high", "ci95_high"),
            ("n", "n"),
            ("value_1", "device.programming_sigma"),
            ("value_2", "adc.bits"),
        ] {
            assert_eq!(row[mine], s[theirs], "{mine}");
        }
        assert_eq!(row["parameter_1"], "device.programming_sigma");
        assert_eq!(row["unit_1"], "relative");
        assert_eq!(row["parameter_2"], "adc.bits");
        assert_eq!(row["unit_2"], "bit");
        assert_eq!(row["fixed"], "crossbar.r_wire=0.5");
        assert_eq!(
            (row["trials"].as_str(), row["images"].as_str()),
            ("4", "400")
        );
        assert_eq!(row["ideal"], "0.964");
        assert_eq!(row["baseline"], "0.95");
        let mean: f64 = s["mean"].parse().unwrap();
        assert_eq!(row["delta"].parse::<f64>().unwrap(), mean - 0.95);
    }

    // Markdown: one row per point, last axis fastest, numbers from summary.csv.
    let md = render_markdown(std::slice::from_ref(&results), PAPER_ACCURACY);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 2 + 6, "{md}");
    assert!(lines[0].ends_with("| vs 96.4 % (pp) |"), "{}", lines[0]);
    let sigmas = ["0 %", "5 %", "10 %"];
    for (i, s) in summary.iter().enumerate() {
        let f = |k: &str| s[k].parse::<f64>().unwrap();
        let want = format!(
            "| sigma_bits | synthetic | `device.programming_sigma` × `adc.bits` (fixed: crossbar.r_wire = 0.5 Ω) \
             | {}, {} bit | {:.2} ({:.2} – {:.2}) | 4 × 400 | {:+.2} |",
            sigmas[i / 2],
            [4, 8][i % 2],
            100.0 * f("mean"),
            100.0 * f("ci95_low"),
            100.0 * f("ci95_high"),
            100.0 * (f("mean") - PAPER_ACCURACY)
        );
        assert_eq!(lines[2 + i], want);
    }
    // Sanity of the closed form behind the numbers: σ = 0.1 costs accuracy.
    let mean = |i: usize| summary[i]["mean"].parse::<f64>().unwrap();
    assert!(mean(5) < mean(1) - 0.1, "{} vs {}", mean(5), mean(1));
}

#[test]
fn incomplete_studies_are_refused_unless_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let shard = tmp.path().join("shard");
    let study = run(GRID, &shard, Some(Shard { index: 1, count: 5 }));
    // Trials 0, 5, 10, 15, 20 of 24: 5 recorded.
    let e = load_results(&shard, false).unwrap_err().to_string();
    assert!(
        e.contains("incomplete study: 19 of 24 trials missing; it is shard 1/5"),
        "{e}"
    );
    assert!(e.contains("--partial"), "{e}");

    let partial = load_results(&shard, true).unwrap();
    assert_eq!(partial.missing, 19);
    let counts: Vec<usize> = partial
        .points
        .iter()
        .map(|p| p.stats.as_ref().map_or(0, |s| s.n))
        .collect();
    // Global trial numbers point · 4 + trial ≡ 0 (mod 5): 0, 5, 10, 15, 20.
    assert_eq!(counts, [1, 1, 1, 1, 0, 1]);
    assert_eq!(partial.shard.as_deref(), Some("1/5"));
    let md = render_markdown(std::slice::from_ref(&partial), PAPER_ACCURACY);
    let empty = md.lines().nth(2 + 4).unwrap();
    assert!(
        empty.ends_with("| 10 %, 4 bit | — | 0 of 4 × 400 | — |"),
        "{empty}"
    );
    let first = md.lines().nth(2).unwrap();
    assert!(first.contains("| 1 of 4 × 400 |"), "{first}");
    let rows = csv_rows(&render_csv(&[partial], PAPER_ACCURACY));
    assert_eq!((rows[4]["n"].as_str(), rows[4]["mean"].as_str()), ("0", ""));
    assert_eq!(rows[0]["std"], "", "one trial has no spread");

    // An unfinished single run: no summary.csv, rows missing from trials.csv.
    let full = tmp.path().join("full");
    run(GRID, &full, None);
    let trials = std::fs::read_to_string(full.join("trials.csv")).unwrap();
    let kept: Vec<&str> = trials.lines().take(1 + 20).collect();
    std::fs::write(full.join("trials.csv"), kept.join("\n") + "\n").unwrap();
    std::fs::remove_file(full.join("summary.csv")).unwrap();
    let e = load_results(&full, false).unwrap_err().to_string();
    assert!(
        e.contains("4 of 24 trials missing; finish it by rerunning `xbar study`"),
        "{e}"
    );
    assert_eq!(load_results(&full, true).unwrap().missing, 4);
    assert_eq!(study.total_trials(), 24);
}

#[test]
fn corrupt_summary_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    run(GRID, &dir, None);
    let path = dir.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let edits = [
        (
            "0,0,4,4,",
            "0,0,4,9,",
            "n = 9, but a point has 1 to 4 trials",
        ),
        ("1,0,8,", "1,0,6,", "`adc.bits` is 6 but point 1 has 8"),
        ("\n2,", "\n0,", "second row for point 0"),
    ];
    for (from, to, want) in edits {
        assert!(text.contains(from), "{from} not in {text}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let e = load_results(&dir, false).unwrap_err().to_string();
        assert!(e.contains("summary.csv:") && e.contains(want), "{e}");
    }
    let mut lines: Vec<&str> = text.lines().collect();
    let broken = lines[1].replacen(',', ",x", 3);
    lines[1] = &broken;
    std::fs::write(&path, lines.join("\n")).unwrap();
    assert!(load_results(&dir, false).is_err());
    let e = load_results(&tmp.path().join("nothing"), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothing/study.toml"), "{e}");
    assert_eq!(display_value(&Value::Float(0.1), "relative"), "10 %");
}

#[test]
fn a_committed_table_row_is_re_derived_from_its_trials() {
    // The README quotes the dense wire study at 5 Ω: re-derive that row of
    // `xbar table` from the 20 trials in the committed trials.csv with the
    // textbook formulas (sample mean, sample standard deviation with n - 1,
    // Student-t interval with t(0.975, 19) = 2.093024 from a printed table).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/dense_wire_resistance");
    let trials = csv_rows(&std::fs::read(dir.join("trials.csv")).unwrap());
    let acc: Vec<f64> = trials
        .iter()
        .filter(|r| r["crossbar.r_wire"] == "5")
        .map(|r| r["accuracy"].parse().unwrap())
        .collect();
    assert_eq!(acc.len(), 20);
    let n = acc.len() as f64;
    let mean = acc.iter().sum::<f64>() / n;
    let std = (acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = 2.093024 * std / n.sqrt();

    let results = load_results(&dir, false).unwrap();
    let table = csv_rows(&render_csv(&[results], PAPER_ACCURACY));
    let row = table.iter().find(|r| r["value_1"] == "5").unwrap();
    let field = |k: &str| row[k].parse::<f64>().unwrap();
    assert_eq!(row["n"], "20");
    assert!((field("mean") - mean).abs() < 1e-12, "{row:?} vs {mean}");
    assert!((field("std") - std).abs() < 1e-12, "{row:?} vs {std}");
    // t is printed to 7 digits: 1e-6 relative of a half-width of ~2e-4.
    assert!((field("ci95_low") - (mean - half)).abs() < 1e-9, "{row:?}");
    assert!((field("ci95_high") - (mean + half)).abs() < 1e-9, "{row:?}");
    assert!(
        (field("delta") - (mean - PAPER_ACCURACY)).abs() < 1e-12,
        "{row:?}"
    );
    // The README's "98.77 (98.75–98.79)".
    assert_eq!(
        format!(
            "{:.2} ({:.2}–{:.2})",
            100.0 * mean,
            100.0 * (mean - half),
            100.0 * (mean + half)
        ),
        "98.77 (98.75–98.79)"
    );
}

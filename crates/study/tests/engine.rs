//! End-to-end checks of the study engine with evaluators whose results are
//! known in closed form.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use xbar_study::{
    merge_dirs, run_study, t_975, trial_seed, Evaluator, ParameterSpec, RunOptions, Shard, Study,
    StudyConfig, StudyError, SyntheticEvaluator, TrialResult, ValueKind,
};

/// accuracy = 0.9 − x + (seed mod 5) / 100, with x = `device.programming_sigma`
/// (plus 0.001 when `drift.compensation` is true): every statistic can be
/// computed by hand from the documented seeds.
struct Linear {
    cancel_after: Option<(usize, Arc<AtomicBool>)>,
    calls: AtomicUsize,
    fail_at: Option<f64>,
}

impl Linear {
    fn new() -> Linear {
        Linear {
            cancel_after: None,
            calls: AtomicUsize::new(0),
            fail_at: None,
        }
    }

    fn expected(x: f64, comp: bool, seed: u64) -> f64 {
        0.9 - x + (seed % 5) as f64 / 100.0 + if comp { 0.001 } else { 0.0 }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("refused x = {0}")]
struct Refused(f64);

const PARAMS: &[ParameterSpec] = &[
    ParameterSpec {
        key: "device.programming_sigma",
        kind: ValueKind::Float,
        unit: "relative",
        description: "programming error",
    },
    ParameterSpec {
        key: "drift.compensation",
        kind: ValueKind::Bool,
        unit: "",
        description: "drift compensation",
    },
];

impl Evaluator for Linear {
    type Error = Refused;

    fn parameters(&self) -> &[ParameterSpec] {
        PARAMS
    }

    fn metrics(&self) -> Vec<String> {
        vec!["x".into()]
    }

    fn reference(&self, _: &toml::Table, _: usize, _: u64) -> Result<Option<f64>, Refused> {
        Ok(Some(0.95))
    }

    fn evaluate(&self, t: &toml::Table, images: usize, seed: u64) -> Result<TrialResult, Refused> {
        let x = xbar_study::get_dotted(t, "device.programming_sigma")
            .and_then(|v| v.as_float())
            .unwrap_or(0.0);
        let comp = xbar_study::get_dotted(t, "drift.compensation")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if self.fail_at == Some(x) {
            return Err(Refused(x));
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((k, flag)) = &self.cancel_after {
            if n >= *k {
                flag.store(true, Ordering::SeqCst);
            }
        }
        Ok(TrialResult {
            accuracy: Linear::expected(x, comp, seed),
            images,
            metrics: vec![x],
        })
    }
}

const CONFIG: &str = r#"
mapping = "linear"
images = 100
trials = 6
seed = 2022

[[sweep]]
parameter = "device.programming_sigma"
values = [0.0, 0.1, 0.2]

[[sweep]]
parameter = "drift.compensation"
values = [false, true]
"#;

fn study(text: &str) -> Study {
    let config = StudyConfig::parse(text, Path::new("test.toml"), Path::new(".")).unwrap();
    Study::new(&config, PARAMS).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// trials.csv without the runtime column (the last).
fn trials_sans_runtime(dir: &Path) -> String {
    read(&dir.join("trials.csv"))
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect()
}

/// The text content of every `<text>` element of an SVG file.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

fn opts(threads: usize) -> RunOptions {
    RunOptions {
        threads: Some(threads),
        ..RunOptions::default()
    }
}

fn assert_same_outputs(a: &Path, b: &Path) {
    assert_eq!(trials_sans_runtime(a), trials_sans_runtime(b));
    for f in ["study.toml", "summary.csv", "device.programming_sigma.svg"] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f} differs");
    }
}

#[test]
fn summary_matches_hand_computation() {
    let s = study(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    let report = run_study(&s, &Linear::new(), dir.path(), &opts(2)).unwrap();
    assert_eq!((report.total, report.ran, report.resumed), (36, 36, 0));
    assert_eq!(report.reference, Some(0.95));

    let summary = read(&dir.path().join("summary.csv"));
    let mut lines = summary.lines();
    assert_eq!(
        lines.next().unwrap(),
        "point,device.programming_sigma,drift.compensation,n,mean,std,ci95_low,ci95_high,min,max"
    );
    let t5 = t_975(5).unwrap();
    assert!((t5 - 2.5705818356363146).abs() < 1e-12);
    for (point, line) in lines.enumerate() {
        let (x, comp) = ([0.0, 0.1, 0.2][point / 2], point % 2 == 1);
        let acc: Vec<f64> = (0..6)
            .map(|t| Linear::expected(x, comp, trial_seed(2022, point, t)))
            .collect();
        let mean = acc.iter().sum::<f64>() / 6.0;
        let var = acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 5.0;
        let half = t5 * var.sqrt() / 6f64.sqrt();
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0], point.to_string());
        assert_eq!(f[2], comp.to_string());
        assert_eq!(f[3], "6");
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(num(1), x));
        assert!(close(num(4), mean), "{line}");
        assert!(close(num(5), var.sqrt()), "{line}");
        assert!(
            close(num(6), mean - half) && close(num(7), mean + half),
            "{line}"
        );
        let min = acc.iter().copied().fold(1.0, f64::min);
        let max = acc.iter().copied().fold(0.0, f64::max);
        assert!(close(num(8), min) && close(num(9), max), "{line}");
    }

    let trials = read(&dir.path().join("trials.csv"));
    let header = trials.lines().next().unwrap();
    assert_eq!(
        header,
        "point,trial,device.programming_sigma,drift.compensation,seed,accuracy,images,x,runtime_s"
    );
    let second = trials.lines().nth(2).unwrap();
    assert!(
        second.starts_with(&format!("0,1,0,false,{},", trial_seed(2022, 0, 1))),
        "{second}"
    );
    assert_eq!(trials.lines().count(), 37);
}

#[test]
fn threads_and_shards_give_identical_files() {
    let s = study(CONFIG);
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    run_study(&s, &Linear::new(), one.path(), &opts(1)).unwrap();
    run_study(&s, &Linear::new(), two.path(), &opts(2)).unwrap();
    assert_same_outputs(one.path(), two.path());

    let root = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (1..=3).map(|k| root.path().join(format!("s{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        let o = RunOptions {
            shard: Some(Shard {
                index: k + 1,
                count: 3,
            }),
            ..opts(2)
        };
        let r = run_study(&s, &Linear::new(), dir, &o).unwrap();
        assert_eq!(r.total, 12);
        assert!(r.summaries.is_empty() && !dir.join("summary.csv").exists());
    }
    let merged = root.path().join("merged");
    // Incomplete: only two shards.
    let err = merge_dirs(&shards[..2], &merged).unwrap_err().to_string();
    assert!(err.contains("hold 24 of 36 trials"), "{err}");
    assert!(!merged.join("trials.csv").exists());
    let report = merge_dirs(&shards, &merged).unwrap();
    assert_eq!(report.trials, 36);
    assert_same_outputs(one.path(), &merged);
}

#[test]
fn cancelled_run_resumes_to_the_same_files() {
    let s = study(CONFIG);
    let full = tempfile::tempdir().unwrap();
    run_study(&s, &Linear::new(), full.path(), &opts(1)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let stopping = Linear {
        cancel_after: Some((10, Arc::clone(&flag))),
        ..Linear::new()
    };
    let o = RunOptions {
        cancel: Some(Arc::clone(&flag)),
        ..opts(1)
    };
    match run_study(&s, &stopping, dir.path(), &o) {
        Err(StudyError::Interrupted { done, total, .. }) => assert_eq!((done, total), (10, 36)),
        other => panic!("expected an interruption, got {other:?}"),
    }
    assert_eq!(read(&dir.path().join("trials.csv")).lines().count(), 11);
    assert!(!dir.path().join("summary.csv").exists());

    // A kill in the middle of a write leaves a partial last line.
    let path = dir.path().join("trials.csv");
    let mut text = read(&path);
    text.push_str("5,0,0.2,tr");
    std::fs::write(&path, text).unwrap();

    let r = run_study(&s, &Linear::new(), dir.path(), &opts(2)).unwrap();
    assert_eq!((r.resumed, r.ran), (10, 26));
    assert_same_outputs(full.path(), dir.path());

    // Rerunning a finished study runs nothing and rewrites the same files.
    let r = run_study(&s, &Linear::new(), dir.path(), &opts(2)).unwrap();
    assert_eq!((r.resumed, r.ran), (36, 0));
    assert_same_outputs(full.path(), dir.path());
}

#[test]
fn failing_trial_keeps_finished_rows() {
    let s = study(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    let failing = Linear {
        fail_at: Some(0.2),
        ..Linear::new()
    };
    let err = run_study(&s, &failing, dir.path(), &opts(1)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "point 4 (device.programming_sigma = 0.2, drift.compensation = false), trial 0"
        ),
        "{msg}"
    );
    assert!(std::error::Error::source(&err)
        .unwrap()
        .to_string()
        .contains("refused x = 0.2"));
    assert_eq!(read(&dir.path().join("trials.csv")).lines().count(), 1 + 24);
    let r = run_study(&s, &Linear::new(), dir.path(), &opts(1)).unwrap();
    assert_eq!((r.resumed, r.ran), (24, 12));
}

#[test]
fn refuses_foreign_and_corrupt_folders() {
    let s = study(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    run_study(&s, &Linear::new(), dir.path(), &opts(1)).unwrap();

    let changed = study(&CONFIG.replace("trials = 6", "trials = 7"));
    let err = run_study(&changed, &Linear::new(), dir.path(), &opts(1)).unwrap_err();
    assert!(err.to_string().contains("different study"), "{err}");

    let o = RunOptions {
        shard: Some("2/4".parse().unwrap()),
        ..opts(1)
    };
    let err = run_study(&s, &Linear::new(), dir.path(), &o).unwrap_err();
    assert!(
        err.to_string().contains("holds a full run, not shard 2/4"),
        "{err}"
    );

    // A row whose seed was tampered with is reported with its line number.
    let path = dir.path().join("trials.csv");
    let text = read(&path);
    let seed = trial_seed(2022, 0, 2).to_string();
    std::fs::write(&path, text.replacen(&seed, "12345", 1)).unwrap();
    let err = run_study(&s, &Linear::new(), dir.path(), &opts(1)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("trials.csv:4:") && msg.contains("seed 12345 is not the seed"),
        "{msg}"
    );

    let stray = tempfile::tempdir().unwrap();
    std::fs::write(stray.path().join("trials.csv"), "a,b\n").unwrap();
    let err = run_study(&s, &Linear::new(), stray.path(), &opts(1)).unwrap_err();
    assert!(err.to_string().contains("not a study folder"), "{err}");

    for bad in ["0/3", "4/3", "x/3", "3"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn svg_has_labels_points_and_reference() {
    let s = study(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    run_study(&s, &Linear::new(), dir.path(), &opts(2)).unwrap();
    let svg = read(&dir.path().join("device.programming_sigma.svg"));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let texts = svg_texts(&svg);
    for want in [
        "device.programming_sigma [relative]",
        "accuracy [%]",
        "drift.compensation = false",
        "drift.compensation = true",
        "ideal 95.00 %",
    ] {
        assert!(texts.iter().any(|t| t == want), "no `{want}` in {texts:?}");
    }
    // One marker per sweep point (3 values × 2 curves).
    assert_eq!(svg.matches("<circle").count(), 6);
}

#[test]
fn synthetic_log_sweep_and_categorical_axis() {
    let text = r#"
mapping = "synthetic"
images = 2000
trials = 4
seed = 1
[nonideal]
synthetic.ideal_accuracy = 0.98
[[sweep]]
parameter = "drift.time_s"
start = 1
stop = 3.1536e7
points = 5
spacing = "log"
"#;
    let config = StudyConfig::parse(text, Path::new("s.toml"), Path::new(".")).unwrap();
    let e = SyntheticEvaluator;
    let s = Study::new(&config, e.parameters()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = run_study(&s, &e, dir.path(), &opts(2)).unwrap();
    assert_eq!(r.reference, Some(0.98));
    for p in &r.summaries {
        let t = p.values[0].as_f64().unwrap();
        let want = 0.1 + 0.88 * (1.0 + t).powf(-0.02);
        // 4 trials of 2000 images: standard error of the mean ≈ 0.0035.
        assert!(
            (p.stats.mean - want).abs() < 0.02,
            "{t}: {} vs {want}",
            p.stats.mean
        );
    }
    let svg = read(&dir.path().join("drift.time_s.svg"));
    assert!(svg_texts(&svg).contains(&"drift.time_s [s]".to_string()));
    assert_eq!(svg.matches("<circle").count(), 5);

    let text = "mapping = \"synthetic\"\nimages = 50\ntrials = 2\nseed = 1\n\
                [sweep]\nparameter = \"drift.compensation\"\nvalues = [false, true]\n";
    let config = StudyConfig::parse(text, Path::new("s.toml"), Path::new(".")).unwrap();
    let s = Study::new(&config, e.parameters()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_study(&s, &e, dir.path(), &opts(1)).unwrap();
    let svg = read(&dir.path().join("drift.compensation.svg"));
    let texts = svg_texts(&svg);
    assert!(texts.contains(&"false".to_string()) && texts.contains(&"true".to_string()));
    assert_eq!(svg.matches("<circle").count(), 2);
}

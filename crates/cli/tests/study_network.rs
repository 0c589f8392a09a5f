//! `xbar study` on the real network: the shipped model on the first MNIST
//! test images, checked trial by trial against `xbar infer`.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
mod study_common;

use std::path::{Path, PathBuf};

use mnist_support::mnist_dir;
use study_common::{
    edit, err, ok, read, rows, s, trials_without_runtime, write_config, xbar, SHIPPED_MODEL,
};

const IMAGES: usize = 50;
const SEED: u64 = 7;
const TIMESTEPS: usize = 16;
const LEAKS: [f64; 2] = [0.0, -0.1];

/// `images` × 2 trials × 2 leaks on the ideal mapping, 16 time steps.
fn ideal_study(dir: &Path) -> PathBuf {
    write_config(
        dir,
        "ideal_leak.toml",
        &format!(
            "mapping = \"ideal\"\nimages = {IMAGES}\ntrials = 2\nseed = {SEED}\n\n\
             [nonideal]\ninput.timesteps = {TIMESTEPS}\n\n\
             [sweep]\nparameter = \"lif.v_leak\"\nvalues = [{}, {}]\n",
            LEAKS[0], LEAKS[1]
        ),
    )
}

/// Accuracy `xbar infer --mapping ideal` reports for the first IMAGES test
/// images with `nonideal` (TOML text) and `seed`.
fn infer_accuracy(tmp: &Path, nonideal: &str, seed: u64) -> f64 {
    let file = tmp.join("nonideal.toml");
    std::fs::write(&file, nonideal).unwrap();
    let out = tmp.join("infer");
    let mnist = mnist_dir();
    ok(&[
        "infer",
        "--mapping",
        "ideal",
        "--nonideal",
        s(&file),
        "--limit",
        &IMAGES.to_string(),
        "--seed",
        &seed.to_string(),
        "--mnist",
        s(&mnist),
        "--out",
        s(&out),
    ]);
    let summary = rows(&out.join("summary.csv"));
    summary[0]["accuracy"].parse().unwrap()
}

#[test]
fn ideal_study_matches_xbar_infer_and_is_thread_invariant() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ideal_study(tmp.path());
    let mnist = mnist_dir();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let stdout = ok(&[
        "study",
        s(&cfg),
        "--out",
        s(&one),
        "--threads",
        "1",
        "--mnist",
        s(&mnist),
    ]);
    ok(&[
        "study",
        s(&cfg),
        "--out",
        s(&two),
        "--threads",
        "2",
        "--mnist",
        s(&mnist),
    ]);
    assert_eq!(trials_without_runtime(&one), trials_without_runtime(&two));
    assert_eq!(
        read(&one.join("summary.csv")),
        read(&two.join("summary.csv"))
    );
    assert!(one.join("lif.v_leak.svg").is_file());

    let trials = rows(&one.join("trials.csv"));
    assert_eq!(trials.len(), 4);
    let mut by_leak = [Vec::new(), Vec::new()];
    for row in &trials {
        let (point, trial): (usize, usize) =
            (row["point"].parse().unwrap(), row["trial"].parse().unwrap());
        let seed: u64 = row["seed"].parse().unwrap();
        assert_eq!(seed, xbar_study::trial_seed(SEED, point, trial));
        assert_eq!(row["images"], IMAGES.to_string());
        let leak: f64 = row["lif.v_leak"].parse().unwrap();
        assert_eq!(leak, LEAKS[point]);
        let accuracy: f64 = row["accuracy"].parse().unwrap();
        // The trial is exactly `xbar infer` with the point's table and seed.
        let want = infer_accuracy(
            tmp.path(),
            &format!("lif.v_leak = {leak:?}\ninput.timesteps = {TIMESTEPS}\n"),
            seed,
        );
        assert_eq!(accuracy, want, "point {point}, trial {trial}");
        by_leak[point].push(accuracy);
    }
    // The shipped model scores 98.9 % on the test set; a leak of a tenth of
    // the threshold per step silences much of the network.
    assert!(by_leak[0].iter().all(|&a| a >= 0.9), "{by_leak:?}");
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&by_leak[1]) < mean(&by_leak[0]), "{by_leak:?}");

    // The reference line: the ideal mapping with the base input coding
    // (16 steps) and no leak, on its own seed.
    let meta = read(&one.join("study.toml"));
    let reference = infer_accuracy(
        tmp.path(),
        &format!("input.timesteps = {TIMESTEPS}\n"),
        xbar_study::reference_seed(SEED),
    );
    let line = meta
        .lines()
        .find(|l| l.starts_with("reference_accuracy"))
        .unwrap_or_else(|| panic!("no reference in {meta}"));
    let recorded: f64 = line.split('=').nth(1).unwrap().trim().parse().unwrap();
    assert_eq!(recorded, reference);
    assert!(
        stdout.contains(&format!("ideal accuracy: {:.2} %", 100.0 * reference)),
        "{stdout}"
    );
}

#[test]
fn network_study_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ideal_study(tmp.path());
    let text = read(&cfg);
    let mnist = mnist_dir();
    let out = tmp.path().join("out");
    let run = |model: Option<&Path>, mnist: &Path| {
        let mut args = vec!["study", s(&cfg), "--out", s(&out), "--mnist", s(mnist)];
        if let Some(m) = model {
            args.extend(["--model", s(m)]);
        }
        err(&args)
    };

    let missing = tmp.path().join("missing.xbm");
    /// (config edit, --model, --mnist, what the error says).
    type Case<'a> = ((&'a str, &'a str), Option<&'a Path>, &'a Path, &'a str);
    let cases: &[Case] = &[
        // The ideal mapping has no memristors to program.
        (
            (
                "[nonideal]\n",
                "[nonideal]\ndevice.programming_sigma = 0.1\n",
            ),
            None,
            &mnist,
            "device.programming_sigma describes the memristor array",
        ),
        (
            ("values = [0, -0.1]", "values = [0, nan]"),
            None,
            &mnist,
            "finite",
        ),
        (
            ("images = 50", "images = 20000"),
            None,
            &mnist,
            "images = 20000 per trial, but the MNIST test set has 10000",
        ),
        (("", ""), Some(&missing), &mnist, "missing.xbm"),
        (("", ""), None, tmp.path(), "not found"),
    ];
    for ((from, to), model, mnist, says) in cases {
        std::fs::write(&cfg, edit(&text, from, to)).unwrap();
        let e = run(*model, mnist);
        assert!(e.contains(says), "{from} -> {to}: {e}");
        assert!(
            !out.exists(),
            "a failed start must not create the study folder"
        );
    }
}

/// The shipped model with one synapse's weight index changed: another model.
fn other_model(path: &Path) {
    let mut model = xbar_snn::model::SharedModel::load(Path::new(SHIPPED_MODEL)).unwrap();
    model.layers[2].index[0] ^= 1;
    model.save(path).unwrap();
}

#[test]
fn the_model_file_contents_are_part_of_the_study() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = mnist_dir();
    let models = tmp.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let a = models.join("a.xbm");
    std::fs::copy(SHIPPED_MODEL, &a).unwrap();
    let same = tmp.path().join("elsewhere.xbm");
    std::fs::copy(&a, &same).unwrap();
    let b = tmp.path().join("b.xbm");
    other_model(&b);
    let a_id = xbar_study::ModelId::of_bytes(&a, &std::fs::read(&a).unwrap());

    // `model` is relative to the config file.
    let cfg = tmp.path().join("model.toml");
    std::fs::write(
        &cfg,
        "mapping = \"ideal\"\nimages = 10\ntrials = 2\nseed = 3\nmodel = \"models/a.xbm\"\n\n\
         [nonideal]\ninput.timesteps = 4\n",
    )
    .unwrap();
    let study = |out: &Path, extra: &[&str]| {
        let mut args = vec!["study", s(&cfg), "--out", s(out), "--mnist", s(&mnist)];
        args.extend(extra);
        xbar(&args)
    };
    let out = tmp.path().join("out");
    assert!(study(&out, &[]).status.success());
    let meta = read(&out.join("study.toml"));
    assert!(
        meta.contains(&format!("[model]\nsha256 = \"{}\"", a_id.sha256)),
        "{meta}"
    );

    let refused = study(&out, &["--model", s(&b)]);
    assert!(!refused.status.success());
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(
        e.contains("holds the trials of model ")
            && e.contains("a.xbm (SHA-256 ")
            && e.contains("but this run uses model ")
            && e.contains("b.xbm (SHA-256 "),
        "{e}"
    );
    let resumed = study(&out, &["--model", s(&same)]);
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success() && stdout.contains("(0 run now, 2 resumed)"),
        "{stdout}"
    );

    let s1 = tmp.path().join("s1");
    let s2 = tmp.path().join("s2");
    assert!(study(&s1, &["--shard", "1/2"]).status.success());
    assert!(study(&s2, &["--shard", "2/2", "--model", s(&b)])
        .status
        .success());
    let e = err(&["merge", s(&s1), s(&s2), "--out", s(&tmp.path().join("m"))]);
    assert!(
        e.contains("shards of one study must run the same model") && e.contains("b.xbm"),
        "{e}"
    );
}

//! The model file is part of a study's identity: resuming or merging with
//! another model is refused, the same model under another path is not.

use std::path::{Path, PathBuf};

use xbar_study::{
    merge_dirs, run_study, Evaluator, ModelId, ParameterSpec, RunOptions, Shard, Study,
    StudyConfig, StudyError, SyntheticError, SyntheticEvaluator, TrialResult,
};

/// The synthetic evaluator standing in for a network that runs `model`.
struct WithModel(Option<ModelId>);

impl Evaluator for WithModel {
    type Error = SyntheticError;

    fn parameters(&self) -> &[ParameterSpec] {
        SyntheticEvaluator.parameters()
    }

    fn metrics(&self) -> Vec<String> {
        SyntheticEvaluator.metrics()
    }

    fn model(&self) -> Option<&ModelId> {
        self.0.as_ref()
    }

    fn evaluate(
        &self,
        nonideal: &toml::Table,
        images: usize,
        seed: u64,
    ) -> Result<TrialResult, SyntheticError> {
        SyntheticEvaluator.evaluate(nonideal, images, seed)
    }
}

const CONFIG: &str = r#"
mapping = "net"
images = 200
trials = 3
seed = 11
model = "weights/a.xbm"

[sweep]
parameter = "device.programming_sigma"
values = [0.0, 0.1]
"#;

/// Model files: `a.xbm` and its copy `copy/a.xbm` hold the same bytes,
/// `b.xbm` others.
fn models(dir: &Path) -> (ModelId, ModelId, ModelId) {
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        ModelId::of_bytes(&path, &std::fs::read(&path).unwrap())
    };
    (
        file("a.xbm", b"model A"),
        file("copy/a.xbm", b"model A"),
        file("b.xbm", b"model B"),
    )
}

fn study(model: Option<&ModelId>) -> Study {
    let config = StudyConfig::parse(CONFIG, Path::new("net.toml"), Path::new("cfg")).unwrap();
    Study::new(&config, SyntheticEvaluator.parameters())
        .unwrap()
        .with_model(model.cloned())
}

fn run(model: Option<&ModelId>, out: &Path, shard: Option<Shard>) -> Result<usize, StudyError> {
    let options = RunOptions {
        shard,
        ..RunOptions::default()
    };
    run_study(&study(model), &WithModel(model.cloned()), out, &options).map(|r| r.resumed)
}

#[test]
fn config_model_is_relative_to_the_config() {
    let config = StudyConfig::parse(CONFIG, Path::new("net.toml"), Path::new("cfg")).unwrap();
    assert_eq!(config.model, Some(PathBuf::from("cfg/weights/a.xbm")));
    let config = StudyConfig::parse(
        &CONFIG.replace("weights/a.xbm", "/abs/a.xbm"),
        Path::new("net.toml"),
        Path::new("cfg"),
    )
    .unwrap();
    assert_eq!(config.model, Some(PathBuf::from("/abs/a.xbm")));
}

#[test]
fn the_model_hash_is_part_of_the_study_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_copy, b) = models(tmp.path());
    assert_eq!(study(Some(&a)).hash(), study(Some(&a_copy)).hash());
    assert_ne!(study(Some(&a)).hash(), study(Some(&b)).hash());
    assert_ne!(study(Some(&a)).hash(), study(None).hash());
}

#[test]
fn resume_needs_the_same_model_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_copy, b) = models(tmp.path());
    let out = tmp.path().join("out");
    assert_eq!(run(Some(&a), &out, None).unwrap(), 0);
    let meta = std::fs::read_to_string(out.join("study.toml")).unwrap();
    assert!(
        meta.contains(&format!("[model]\nsha256 = \"{}\"", a.sha256)),
        "{meta}"
    );
    assert!(meta.contains(&a.path.display().to_string()), "{meta}");

    let e = run(Some(&b), &out, None).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "holds the trials of model {a}, but this run uses model {b}"
        )),
        "{e}"
    );
    assert!(e.contains("b.xbm") && e.contains("/a.xbm"), "{e}");
    let e = run(None, &out, None).unwrap_err().to_string();
    assert!(e.contains("but this run uses no model"), "{e}");

    // The same bytes under another path are the same study: all 6 trials resumed.
    assert_eq!(run(Some(&a_copy), &out, None).unwrap(), 6);
    // The folder still names the file the study was first run with.
    assert_eq!(
        std::fs::read_to_string(out.join("study.toml")).unwrap(),
        meta
    );

    let none = tmp.path().join("none");
    run(None, &none, None).unwrap();
    let e = run(Some(&a), &none, None).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "holds the trials of no model, but this run uses model {a}"
        )),
        "{e}"
    );
}

#[test]
fn merge_refuses_shards_of_different_models() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_copy, b) = models(tmp.path());
    let shard = |k| Some(Shard { index: k, count: 2 });
    let (s1, s2a, s2b) = (
        tmp.path().join("s1"),
        tmp.path().join("s2a"),
        tmp.path().join("s2b"),
    );
    run(Some(&a), &s1, shard(1)).unwrap();
    run(Some(&a_copy), &s2a, shard(2)).unwrap();
    run(Some(&b), &s2b, shard(2)).unwrap();

    let merged = tmp.path().join("merged");
    let e = merge_dirs(&[s1.clone(), s2b.clone()], &merged)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "holds the trials of model {b}, but {} holds those of model {a}",
            s1.display()
        )),
        "{e}"
    );
    assert!(!merged.exists());
    let report = merge_dirs(&[s1.clone(), s2a.clone()], &merged).unwrap();
    assert_eq!(report.trials, 6);
    assert_eq!(report.study.model(), Some(&a));

    // The merged folder is the model-A study: a single run with A resumes it all.
    assert_eq!(run(Some(&a), &merged, None).unwrap(), 6);
    // Merging model-B shards over it is refused.
    let b1 = tmp.path().join("b1");
    run(Some(&b), &b1, shard(1)).unwrap();
    let e = merge_dirs(&[b1, s2b], &merged).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "holds the results of model {a}, not model {b}; choose another --out"
        )),
        "{e}"
    );
}

#[test]
fn a_study_must_name_the_model_its_evaluator_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _, b) = models(tmp.path());
    let out = tmp.path().join("out");
    let e = run_study(
        &study(Some(&a)),
        &WithModel(Some(b.clone())),
        &out,
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, StudyError::ModelMismatch { .. }), "{e}");
    let e = run_study(
        &study(None),
        &WithModel(Some(b)),
        &out,
        &RunOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("set up for no model but the evaluator runs model"),
        "{e}"
    );
    assert!(!out.exists(), "nothing is written before the check");
}

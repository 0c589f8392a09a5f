//! Every config shipped in `studies/` parses, uses only known keys, and the
//! synthetic ones run.

use std::path::PathBuf;

use xbar_study::network::NETWORK_PARAMETERS;
use xbar_study::{run_study, Evaluator, RunOptions, Study, StudyConfig, SyntheticEvaluator};

fn studies_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../studies")
}

#[test]
fn shipped_configs_are_valid() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(studies_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 18, "{paths:?}");
    let mut mappings = std::collections::BTreeMap::<String, usize>::new();
    for path in &paths {
        let config = StudyConfig::from_path(path).unwrap();
        *mappings.entry(config.mapping.clone()).or_default() += 1;
        match config.mapping.as_str() {
            "synthetic" => {
                let e = SyntheticEvaluator;
                let study = Study::new(&config, e.parameters()).unwrap();
                let dir = tempfile::tempdir().unwrap();
                let report = run_study(&study, &e, dir.path(), &RunOptions::default()).unwrap();
                assert_eq!(report.ran, study.total_trials());
            }
            "dense" | "shared" => {
                let study = Study::new(&config, NETWORK_PARAMETERS)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                // Every point must be a table the network accepts, values and all.
                for point in 0..study.points() {
                    let table = study.point_table(point).unwrap();
                    xbar_snn::nonideal::from_table(&table, &config.mapping)
                        .unwrap_or_else(|e| panic!("{} point {point}: {e}", path.display()));
                }
                // The lead sizes the shipped studies; whatever the size, each
                // point needs two trials for an interval, and the test set
                // has 10,000 images.
                assert!(
                    (1..=10000).contains(&study.images) && study.trials >= 2,
                    "{}: {} images, {} trials",
                    path.display(),
                    study.images,
                    study.trials
                );
                if let Some(model) = &config.model {
                    assert!(
                        model.is_file(),
                        "{}: model {}",
                        path.display(),
                        model.display()
                    );
                }
                assert!(!study.axes.is_empty());
            }
            other => panic!("{}: mapping {other}", path.display()),
        }
    }
    // Every listed non-ideality for both mappings (issue 7).
    assert_eq!(mappings.get("dense"), Some(&11));
    assert_eq!(mappings.get("shared"), Some(&8));
}

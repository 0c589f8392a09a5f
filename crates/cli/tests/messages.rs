//! What `xbar infer` and `xbar train` say about bad input: each cause once,
//! the option or key named with its limit, a non-zero exit, nothing written,
//! and every refusal made before the slow work (loading MNIST, training).

mod study_common;

use std::path::Path;

use study_common::{err, s};

/// A folder that cannot hold MNIST: a command that reaches the data fails
/// with "not found", so the errors below prove they come before it.
const NO_MNIST: &str = "/nonexistent/mnist";

fn count(text: &str, what: &str) -> usize {
    text.matches(what).count()
}

#[test]
fn each_cause_of_an_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[adc]\nbits = 70\n").unwrap();
    let out = dir.path().join("out");
    let e = err(&[
        "infer",
        "--mapping",
        "shared",
        "--nonideal",
        s(&bad),
        "--mnist",
        NO_MNIST,
        "--out",
        s(&out),
    ]);
    assert_eq!(count(&e, "adc.bits = 70"), 1, "{e}");
    assert!(e.contains("from 0 (ideal) to 16"), "{e}");
    // An operating-system error quoted by the library error and returned as
    // its source as well.
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let e = err(&[
        "study",
        s(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../studies/synthetic_demo.toml"
        ))),
        "--out",
        s(&file.join("sub")),
    ]);
    assert_eq!(count(&e, "os error"), 1, "{e}");
    assert!(!out.exists());
}

#[test]
fn infer_names_the_option_and_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (value, shown) in [("5", "--v-reset 5:"), ("-1e300", "--v-reset -1e300:")] {
        let e = err(&[
            "infer",
            "--v-reset",
            value,
            "--mnist",
            NO_MNIST,
            "--out",
            s(&out),
        ]);
        assert!(e.contains(shown) && e.contains("below 1"), "{e}");
        assert!(!e.contains("inf") && !e.contains("layer"), "{e}");
    }
    for (toml, key) in [
        (
            "[device]\ng_max = 1e300\n[crossbar]\nr_wire = 1\n",
            "device.g_max",
        ),
        ("[lif]\nv_leak = -1e300\n", "lif.v_leak"),
        ("[lif]\nv_th = 1e39\n", "lif.v_th"),
    ] {
        let file = dir.path().join("n.toml");
        std::fs::write(&file, toml).unwrap();
        let e = err(&[
            "infer",
            "--mapping",
            "dense",
            "--nonideal",
            s(&file),
            "--mnist",
            NO_MNIST,
            "--out",
            s(&out),
        ]);
        assert!(e.contains(key) && e.contains("n.toml"), "{toml}: {e}");
        assert!(!e.contains("-inf") && !e.contains("conducting path"), "{e}");
    }
    assert!(!out.exists());
}

#[test]
fn train_refuses_before_training_what_would_fail_or_destroy_work() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.xbm");
    let train = |extra: &[&str], out: &Path| {
        let mut args = vec!["train", "--mnist", NO_MNIST, "--out", s(out)];
        args.extend_from_slice(extra);
        err(&args)
    };
    let e = train(&["--epochs", "0"], &model);
    assert!(e.contains("--epochs 0") && e.contains("at least 1"), "{e}");
    let e = train(&["--limit", "0"], &model);
    assert!(
        e.contains("--limit 0") && e.contains("--validation 5000"),
        "{e}"
    );
    assert!(!e.contains("invalid training setting"), "{e}");

    // An existing model (or record) is kept without --force.
    std::fs::write(&model, "keep me").unwrap();
    let e = train(&[], &model);
    assert!(e.contains("m.xbm exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(&model).unwrap(), "keep me");
    std::fs::remove_file(&model).unwrap();
    std::fs::write(model.with_extension("toml"), "keep me").unwrap();
    let e = train(&[], &model);
    assert!(e.contains("m.toml exists"), "{e}");
    // With --force the output is accepted and the run goes on to MNIST.
    let e = train(&["--force"], &model);
    assert!(e.contains(NO_MNIST) && e.contains("not found"), "{e}");

    // A folder that cannot be written is found before MNIST is read.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let e = train(&[], &blocker.join("m.xbm"));
    assert!(e.contains("--out") && !e.contains(NO_MNIST), "{e}");
    let e = train(&[], dir.path());
    assert!(e.contains("is a folder"), "{e}");
}

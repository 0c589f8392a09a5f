//! Which model `xbar infer` and `xbar study` run when no `--model` is
//! given: `$XBAR_MODEL`, else `models/mnist_shared.xbm` in the working
//! folder or above it, else the one beside the executable; and the error
//! when there is none.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
mod study_common;

use std::path::{Path, PathBuf};
use std::process::Output;

use mnist_support::mnist_dir;
use study_common::{command, read, rows, s, write_config, SHIPPED_MODEL, XBAR};

/// `exe args --mnist <MNIST>` from `cwd`, with `XBAR_MODEL` set to `env`
/// if given.
fn run(exe: &Path, cwd: &Path, env: Option<&Path>, args: &[&str]) -> Output {
    let mut c = command(exe);
    if let Some(model) = env {
        c.env("XBAR_MODEL", model);
    }
    c.args(args)
        .args(["--mnist", s(&mnist_dir())])
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// `exe infer` on the first 5 test images, writing into `out`.
fn infer(exe: &Path, cwd: &Path, env: Option<&Path>, out: &Path) -> Output {
    let args = [
        "infer",
        "--mapping",
        "ideal",
        "--limit",
        "5",
        "--out",
        s(out),
    ];
    run(exe, cwd, env, &args)
}

/// `exe study` of one trial of the ideal mapping on 5 images (its config
/// beside `out`), writing into `out`.
fn study(exe: &Path, cwd: &Path, env: Option<&Path>, out: &Path) -> Output {
    let cfg = write_config(
        out.parent().unwrap(),
        "net.toml",
        "mapping = \"ideal\"\nimages = 5\ntrials = 1\nseed = 3\n\n\
         [nonideal]\ninput.timesteps = 4\n",
    );
    run(exe, cwd, env, &["study", s(&cfg), "--out", s(out)])
}

/// The model file a successful `xbar infer` recorded in summary.csv.
fn model_used(o: &Output, out: &Path) -> PathBuf {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    PathBuf::from(&rows(&out.join("summary.csv"))[0]["model"])
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn xbar_model_names_the_model_before_the_working_folder_is_searched() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("copy.xbm");
    std::fs::copy(SHIPPED_MODEL, &copy).unwrap();
    let exe = Path::new(XBAR);
    // Inside the repository, where the search would find the shipped model.
    let inside = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("infer");
    let o = infer(exe, inside, Some(&copy), &out);
    assert_eq!(model_used(&o, &out), canonical(&copy));
    assert_eq!(
        model_used(&infer(exe, inside, None, &out), &out),
        canonical(Path::new(SHIPPED_MODEL))
    );

    // The study records the model it ran, by contents and path.
    let study_out = tmp.path().join("study");
    let o = study(exe, inside, Some(&copy), &study_out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = xbar_study::ModelId::of_bytes(&copy, &std::fs::read(&copy).unwrap());
    let meta = read(&study_out.join("study.toml"));
    let want = format!(
        "[model]\nsha256 = \"{}\"\npath = \"{}\"",
        id.sha256,
        canonical(&copy).display()
    );
    assert!(meta.contains(&want), "{meta}");

    // A name that is not a file is refused before anything is written.
    let missing = tmp.path().join("missing.xbm");
    let refused = tmp.path().join("refused");
    let o = infer(exe, inside, Some(&missing), &refused);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!(
            "XBAR_MODEL names {}, which is not a file",
            missing.display()
        )),
        "{e}"
    );
    assert!(!refused.exists());
}

/// An installed layout: the binary (a hard link to the test build) at
/// `<root>/target/release/xbar`, run from a working folder outside any
/// repository. Without `<root>/models/mnist_shared.xbm` it says where it
/// looked and how to get a model, writing nothing; with it, it runs it.
#[test]
fn binary_finds_the_model_beside_it_or_says_where_it_looked() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let bin = root.path().join("target/release");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("xbar");
    if std::fs::hard_link(XBAR, &exe).is_err() {
        std::fs::copy(XBAR, &exe).unwrap();
    }
    let cwd = tempfile::tempdir().unwrap();
    let beside = root.path().join("models/mnist_shared.xbm");

    let out = cwd.path().join("infer");
    let o = infer(&exe, cwd.path(), None, &out);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "no model file: none named with --model or XBAR_MODEL".to_string(),
        format!("in {} or any folder above it", cwd.path().display()),
        format!("at {} (beside the executable)", beside.display()),
        "`xbar train --out models/mnist_shared.xbm`".into(),
        "--model FILE".into(),
    ] {
        assert!(e.contains(&needle), "`{needle}` missing from: {e}");
    }
    assert!(!out.exists(), "a failed run must not write");
    let study_out = cwd.path().join("study");
    let o = study(&exe, cwd.path(), None, &study_out);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("(beside the executable)"), "{e}");
    assert!(
        !study_out.exists(),
        "a failed study must not create its folder"
    );

    std::fs::create_dir_all(beside.parent().unwrap()).unwrap();
    std::fs::copy(SHIPPED_MODEL, &beside).unwrap();
    let o = infer(&exe, cwd.path(), None, &out);
    assert_eq!(model_used(&o, &out), canonical(&beside));
}

//! `xbar infer --mapping dense` end to end: ideal tiles reproduce the ideal
//! network, `--validate` reports the full-solve difference, misuse errors.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::path::Path;
use std::process::Command;

fn infer(extra: &[&str], out: &Path) -> std::process::Output {
    let mnist = mnist_dir();
    let mut args = vec![
        "infer",
        "--limit",
        "12",
        "--timesteps",
        "16",
        "--mnist",
        mnist.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(&args)
        .env_remove("XBAR_MNIST_URL")
        .output()
        .unwrap()
}

#[test]
fn dense_with_ideal_tiles_validates_and_matches_ideal_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let o = infer(&["--mapping", "ideal"], &dir.path().join("i"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ideal = String::from_utf8_lossy(&o.stdout).to_string();
    let o = infer(
        &["--mapping", "dense", "--validate", "1"],
        &dir.path().join("d"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("256 crossbars of at most 128x128"),
        "{stdout}"
    );
    // 1 input x (7 row tiles x 1024 + 8 x 1024 + 8 x 10) column currents.
    assert!(
        stdout.contains("validate: 15440 column currents"),
        "{stdout}"
    );
    let max: f64 = stdout
        .split("max ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(max < 1e-9, "{stdout}");
    // Unquantised differential pairs are the stored weights up to f32
    // rounding: the same accuracy on these images.
    let accuracy = |s: &str| {
        s.split("accuracy ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(accuracy(&ideal), accuracy(&stdout), "{ideal}\n{stdout}");
}

#[test]
fn validate_needs_the_dense_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let o = infer(&["--mapping", "shared", "--validate", "2"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--validate needs --mapping dense"),
        "{err}"
    );
}

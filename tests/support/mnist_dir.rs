//! Where the tests read MNIST from, shared by the test files of every crate
//! (each includes this file with `#[path]`).

use std::path::{Path, PathBuf};

/// `XBAR_MNIST_DIR` (a relative path is taken from the package folder the
/// test runs in, else from the repository root, so CI's
/// `XBAR_MNIST_DIR=../shared/mnist` works from any crate), else the shared
/// folder beside the checkout.
pub fn mnist_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("XBAR_MNIST_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_dir() => dir,
        Some(dir) => root.join(dir),
        None => root.join("../shared/mnist"),
    }
}

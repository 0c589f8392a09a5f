//! Where the tests read MNIST from, shared by the test files of every crate
//! (each includes this file with `#[path]`).

use std::path::{Path, PathBuf};

use xbar_snn::mnist::{self, Split};

/// The folder `xbar infer` would read MNIST from: `XBAR_MNIST_DIR` (a
/// relative path is taken from the package folder the test runs in, else
/// from the repository root, so CI's `XBAR_MNIST_DIR=../shared/mnist` works
/// from any crate), else the user cache, where the files it does not hold yet
/// are downloaded (as `xbar infer` does) before the folder is returned.
pub fn mnist_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let named = std::env::var_os(mnist::ENV_DIR)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .map(|dir| if dir.is_dir() { dir } else { root.join(dir) });
    mnist::locate(named.as_deref(), &[Split::Train, Split::Test], false)
        .unwrap_or_else(|e| panic!("MNIST for the tests: {e}"))
}

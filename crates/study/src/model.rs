//! Which model file a study runs, identified by its contents.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The model a study's trials run. Its identity is the SHA-256 of the file's
/// bytes (what `sha256sum` prints), so the same model copied elsewhere is the
/// same study and another model saved over the same path is not; the path
/// only names the file in messages.
#[derive(Clone, Debug, Eq)]
pub struct ModelId {
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Where the file was read from.
    pub path: PathBuf,
}

impl ModelId {
    /// The identity of a model file whose bytes are `bytes`.
    pub fn of_bytes(path: &Path, bytes: &[u8]) -> ModelId {
        ModelId {
            sha256: hex_sha256(bytes),
            path: readable_path(path),
        }
    }

    /// The first 12 hex digits: enough to tell models apart in a message.
    pub fn short_hash(&self) -> &str {
        &self.sha256[..self.sha256.len().min(12)]
    }
}

/// Equal when the contents are: the path is not part of the identity.
impl PartialEq for ModelId {
    fn eq(&self, other: &ModelId) -> bool {
        self.sha256 == other.sha256
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (SHA-256 {}…)",
            self.path.display(),
            self.short_hash()
        )
    }
}

/// `path` without `..` detours and, when it lies under the working folder,
/// relative to it: `study.toml` of a study run from the repository then says
/// `models/mnist_shared.xbm`, not the build machine's absolute path.
fn readable_path(path: &Path) -> PathBuf {
    let Ok(absolute) = path.canonicalize() else {
        return path.to_path_buf();
    };
    std::env::current_dir()
        .and_then(|cwd| cwd.canonicalize())
        .ok()
        .and_then(|cwd| absolute.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(absolute)
}

/// Names an optional model for messages ("no model" for evaluators without one).
pub(crate) fn describe(model: Option<&ModelId>) -> String {
    model.map_or_else(|| "no model".into(), |m| format!("model {m}"))
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_content_hash() {
        // sha256sum of "abc" (FIPS 180-2 test vector).
        let a = ModelId::of_bytes(Path::new("a.xbm"), b"abc");
        assert_eq!(
            a.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(a.to_string(), "a.xbm (SHA-256 ba7816bf8f01…)");
        assert_eq!(a, ModelId::of_bytes(Path::new("elsewhere/b.xbm"), b"abc"));
        assert_ne!(a, ModelId::of_bytes(Path::new("a.xbm"), b"abd"));
        assert_eq!(describe(None), "no model");
        assert_eq!(describe(Some(&a)), "model a.xbm (SHA-256 ba7816bf8f01…)");
    }
}

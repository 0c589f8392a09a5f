//! Which model file a study (or `xbar infer`) runs: where it is found when
//! none is named, and its identity by contents.

use std::ffi::OsString;
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

/// Where the shipped model lies below the repository root.
pub const MODEL_FILE: &str = "models/mnist_shared.xbm";

/// The environment variable naming the model file when none is given.
pub const MODEL_ENV: &str = "XBAR_MODEL";

/// No model file was named and none was found where one is looked for.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("{MODEL_ENV} names {}, which is not a file", .0.display())]
    EnvNotAFile(PathBuf),
    #[error(
        "no model file: none named with --model or {MODEL_ENV}, and no {MODEL_FILE} {}; \
         make one with `xbar train --out {MODEL_FILE}` or name one with --model FILE \
         (or {MODEL_ENV}=FILE)",
        looked_at(.cwd.as_deref(), .beside_exe.as_deref())
    )]
    NotFound {
        /// The working folder the search walked up from.
        cwd: Option<PathBuf>,
        /// The candidate beside the executable.
        beside_exe: Option<PathBuf>,
    },
}

fn looked_at(cwd: Option<&Path>, beside_exe: Option<&Path>) -> String {
    let mut places = Vec::new();
    if let Some(cwd) = cwd {
        places.push(format!("in {} or any folder above it", cwd.display()));
    }
    if let Some(exe) = beside_exe {
        places.push(format!("at {} (beside the executable)", exe.display()));
    }
    if places.is_empty() {
        "(neither the working folder nor the executable's location is known)".into()
    } else {
        places.join(", nor ")
    }
}

/// The model file to run: `explicit` (`--model`) if given, else the file
/// `$XBAR_MODEL` names, else [`MODEL_FILE`] in the working folder or the
/// nearest folder above it (a repository checkout run from anywhere inside
/// it), else `<executable's folder>/../../models/mnist_shared.xbm` (the
/// checkout of a `target/<profile>/xbar`, from any working folder).
pub fn locate_model(explicit: Option<&Path>) -> Result<PathBuf, LocateError> {
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    locate_from(
        explicit,
        std::env::var_os(MODEL_ENV),
        cwd.as_deref(),
        exe.as_deref(),
    )
}

/// [`locate_model`] with the environment, working folder and executable
/// given.
fn locate_from(
    explicit: Option<&Path>,
    env: Option<OsString>,
    cwd: Option<&Path>,
    exe: Option<&Path>,
) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = env.filter(|v| !v.is_empty()).map(PathBuf::from) {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(LocateError::EnvNotAFile(path))
        };
    }
    if let Some(found) = cwd
        .into_iter()
        .flat_map(Path::ancestors)
        .map(|dir| dir.join(MODEL_FILE))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    // The executable's folder is its first ancestor; two folders up from
    // there is the fourth.
    let beside_exe = exe
        .and_then(|e| e.ancestors().nth(3))
        .map(|root| root.join(MODEL_FILE));
    match beside_exe {
        Some(path) if path.is_file() => Ok(path),
        beside_exe => Err(LocateError::NotFound {
            cwd: cwd.map(Path::to_path_buf),
            beside_exe,
        }),
    }
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

    /// A folder tree `root/repo/models/mnist_shared.xbm`,
    /// `root/repo/target/release/xbar` and `root/elsewhere/deep`.
    fn tree() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        let model = repo.join(MODEL_FILE);
        std::fs::create_dir_all(model.parent().unwrap()).unwrap();
        std::fs::write(&model, b"model").unwrap();
        let exe = repo.join("target/release/xbar");
        let elsewhere = root.path().join("elsewhere/deep");
        std::fs::create_dir_all(&elsewhere).unwrap();
        (root, model, exe, elsewhere)
    }

    #[test]
    fn model_search_order() {
        let (root, model, exe, elsewhere) = tree();
        let other = root.path().join("other.xbm");
        std::fs::write(&other, b"other").unwrap();
        let inside = model.parent().unwrap().parent().unwrap().join("crates/cli");
        let (exe, inside) = (Some(exe.as_path()), Some(inside.as_path()));
        let env = || Some(OsString::from(&other));

        let named = Path::new("named.xbm");
        let got = locate_from(Some(named), env(), inside, exe).unwrap();
        assert_eq!(got, named, "--model wins over everything");
        assert_eq!(locate_from(None, env(), inside, exe).unwrap(), other);
        let empty = Some(OsString::new());
        assert_eq!(locate_from(None, empty, inside, exe).unwrap(), model);
        assert_eq!(locate_from(None, None, inside, exe).unwrap(), model);
        let outside = Some(elsewhere.as_path());
        assert_eq!(locate_from(None, None, outside, exe).unwrap(), model);
        assert_eq!(locate_from(None, None, None, exe).unwrap(), model);

        let missing = root.path().join("missing.xbm");
        let e = locate_from(None, Some(missing.clone().into()), inside, exe).unwrap_err();
        assert!(
            matches!(&e, LocateError::EnvNotAFile(p) if *p == missing),
            "{e}"
        );
        assert!(e.to_string().starts_with("XBAR_MODEL names "), "{e}");
    }

    #[test]
    fn missing_model_names_every_place_looked_at() {
        let (root, _, _, elsewhere) = tree();
        let stray = root.path().join("bin/sub/xbar");
        let e = locate_from(None, None, Some(&elsewhere), Some(&stray)).unwrap_err();
        let text = e.to_string();
        let beside = root.path().join(MODEL_FILE);
        for needle in [
            format!("in {} or any folder above it", elsewhere.display()),
            format!("at {} (beside the executable)", beside.display()),
            "xbar train --out models/mnist_shared.xbm".into(),
            "--model FILE".into(),
            "XBAR_MODEL=FILE".into(),
        ] {
            assert!(text.contains(&needle), "`{needle}` missing from: {text}");
        }
        let e = locate_from(None, None, None, None).unwrap_err().to_string();
        assert!(e.contains("neither the working folder"), "{e}");
    }
}

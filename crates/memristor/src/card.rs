//! Building a compact model from a `.model <name> memristor model=<kind> ...`
//! card, or from the same parameters in a TOML file (`models/*.toml`).
//!
//! Both routes go through [`from_card`], so a parameter means the same thing
//! and is validated the same way whether it comes from a deck or a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::mms::Mms;
use crate::{CompactModel, LinearIonDrift, Pershin, StanfordPku, Vteam, Yakopcic};

/// Why a model card could not become a device model.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(
        "memristor model card has neither `model=` (lid, vteam, yakopcic, stanford_pku, pershin, \
         mms) nor Xyce's `level=` (2, 3, 5)"
    )]
    MissingKind,
    #[error("memristor model card gives both `model=` (xbar) and `level=` (Xyce): give one")]
    KindAndLevel,
    #[error("Xyce memristor level {level} {why}")]
    XyceLevel { level: f64, why: String },
    #[error("memristor parameter `{name}` {why}")]
    Unsupported { name: String, why: String },
    #[error("unknown memristor model kind `{0}`")]
    UnknownKind(String),
    #[error("memristor parameter `{name}` = {value} is invalid: {why}")]
    BadParameter {
        name: String,
        value: f64,
        why: String,
    },
    #[error("unknown parameter `{0}` for this memristor model")]
    UnknownParameter(String),
    #[error("memristor parameter `{name}` = `{value}` is invalid (expected {expected})")]
    BadWord {
        name: String,
        value: String,
        expected: &'static str,
    },
}

/// `words` holds word-valued parameters (`model`, `window`), `params` numeric
/// ones, all names lower-cased as the netlist parser gives them.
///
/// Parameters the model does not know are an error rather than silently
/// ignored: a misspelt `roff` would otherwise simulate the default device.
pub fn from_card(
    words: &BTreeMap<String, String>,
    params: &BTreeMap<String, f64>,
) -> Result<Box<dyn CompactModel>, CardError> {
    let kind = match (words.get("model"), params.contains_key("level")) {
        (Some(_), true) => return Err(CardError::KindAndLevel),
        (None, true) => return crate::xyce::from_level(words, params),
        (None, false) => return Err(CardError::MissingKind),
        (Some(kind), false) => kind,
    };
    let allowed_words: &[&str] = match kind.as_str() {
        "lid" => &["model", "window"],
        "vteam" => &["model", "window", "rmodel"],
        "yakopcic" | "stanford_pku" | "pershin" | "mms" => &["model"],
        other => return Err(CardError::UnknownKind(other.to_string())),
    };
    if let Some(extra) = words.keys().find(|k| !allowed_words.contains(&k.as_str())) {
        return Err(CardError::UnknownParameter(extra.clone()));
    }
    let word = |name: &str| words.get(name).map(String::as_str);
    let mut reader = ParamReader::new(params);
    let model: Box<dyn CompactModel> = match kind.as_str() {
        "lid" => Box::new(LinearIonDrift::from_params(word("window"), &mut reader)?),
        "vteam" => Box::new(Vteam::from_params(
            word("window"),
            word("rmodel"),
            &mut reader,
        )?),
        "yakopcic" => Box::new(Yakopcic::from_params(&mut reader, &Yakopcic::OBLEA)?),
        "stanford_pku" => Box::new(StanfordPku::from_params(&mut reader)?),
        "pershin" => Box::new(Pershin::from_params(&mut reader)?),
        "mms" => Box::new(Mms::from_params(&mut reader, &Mms::KNOWM_SUBCIRCUIT)?),
        other => return Err(CardError::UnknownKind(other.to_string())),
    };
    reader.finish()?;
    Ok(model)
}

/// Reads numeric card parameters with defaults and range checks, remembering
/// which ones were consumed so that leftovers can be reported.
pub(crate) struct ParamReader<'a> {
    params: &'a BTreeMap<String, f64>,
    used: BTreeSet<&'static str>,
}

impl<'a> ParamReader<'a> {
    pub(crate) fn new(params: &'a BTreeMap<String, f64>) -> Self {
        Self {
            params,
            used: BTreeSet::new(),
        }
    }

    fn raw(&mut self, name: &'static str, default: f64) -> Result<f64, CardError> {
        self.used.insert(name);
        let value = self.params.get(name).copied().unwrap_or(default);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(bad(name, value, "must be a finite number"))
        }
    }

    /// Any finite value.
    pub(crate) fn finite(&mut self, name: &'static str, default: f64) -> Result<f64, CardError> {
        self.raw(name, default)
    }

    /// Strictly positive.
    pub(crate) fn positive(&mut self, name: &'static str, default: f64) -> Result<f64, CardError> {
        let v = self.raw(name, default)?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(bad(name, v, "must be > 0"))
        }
    }

    /// Zero or positive.
    pub(crate) fn non_negative(
        &mut self,
        name: &'static str,
        default: f64,
    ) -> Result<f64, CardError> {
        let v = self.raw(name, default)?;
        if v >= 0.0 {
            Ok(v)
        } else {
            Err(bad(name, v, "must be >= 0"))
        }
    }

    /// Strictly negative.
    pub(crate) fn negative(&mut self, name: &'static str, default: f64) -> Result<f64, CardError> {
        let v = self.raw(name, default)?;
        if v < 0.0 {
            Ok(v)
        } else {
            Err(bad(name, v, "must be < 0"))
        }
    }

    /// Within the closed interval `[lo, hi]`.
    pub(crate) fn in_range(
        &mut self,
        name: &'static str,
        default: f64,
        lo: f64,
        hi: f64,
    ) -> Result<f64, CardError> {
        let v = self.raw(name, default)?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(bad(name, v, &format!("must lie in [{lo}, {hi}]")))
        }
    }

    /// Whether the card gives `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.params.contains_key(name)
    }

    pub(crate) fn finish(self) -> Result<(), CardError> {
        match self.params.keys().find(|k| !self.used.contains(k.as_str())) {
            Some(extra) => Err(CardError::UnknownParameter(extra.clone())),
            None => Ok(()),
        }
    }
}

pub(crate) fn bad(name: &str, value: f64, why: &str) -> CardError {
    CardError::BadParameter {
        name: name.to_string(),
        value,
        why: why.to_string(),
    }
}

/// Why a model file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not valid TOML: {error}")]
    Toml {
        path: PathBuf,
        error: toml::de::Error,
    },
    #[error("{path}: key `{key}` must be a number or a word, not {found}")]
    BadValue {
        path: PathBuf,
        key: String,
        found: &'static str,
    },
    #[error("{path}: {error}")]
    Card { path: PathBuf, error: CardError },
}

/// A model card as word-valued and numeric parameters, lower-cased: what
/// [`from_card`] takes, and what [`crate::program::Population`] varies.
pub type Card = (BTreeMap<String, String>, BTreeMap<String, f64>);

/// Loads a device model from a TOML file of `key = value` pairs using the
/// model-card names (`model = "lid"`, `window = "biolek"`, `ron = 100.0`, ...).
pub fn load_model(path: &Path) -> Result<Box<dyn CompactModel>, LoadError> {
    let (words, params) = load_card(path)?;
    from_card(&words, &params).map_err(|error| LoadError::Card {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads a model file's card and checks that it builds a model, so a card
/// returned here is valid (device-to-device spreads start from it).
pub fn load_card(path: &Path) -> Result<Card, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let card = card_from_toml(&text).map_err(|e| match e {
        TomlCardError::Toml(error) => LoadError::Toml {
            path: path.to_path_buf(),
            error,
        },
        TomlCardError::BadValue { key, found } => LoadError::BadValue {
            path: path.to_path_buf(),
            key,
            found,
        },
    })?;
    from_card(&card.0, &card.1).map_err(|error| LoadError::Card {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(card)
}

enum TomlCardError {
    Toml(toml::de::Error),
    BadValue { key: String, found: &'static str },
}

fn card_from_toml(text: &str) -> Result<Card, TomlCardError> {
    let table: toml::Table = toml::from_str(text).map_err(TomlCardError::Toml)?;
    let mut words = BTreeMap::new();
    let mut params = BTreeMap::new();
    for (key, value) in table {
        let key = key.to_ascii_lowercase();
        match value {
            toml::Value::String(s) => {
                words.insert(key, s.to_ascii_lowercase());
            }
            toml::Value::Float(f) => {
                params.insert(key, f);
            }
            toml::Value::Integer(i) => {
                params.insert(key, i as f64);
            }
            other => {
                return Err(TomlCardError::BadValue {
                    key,
                    found: other.type_str(),
                })
            }
        }
    }
    Ok((words, params))
}

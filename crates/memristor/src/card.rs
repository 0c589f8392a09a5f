//! Building a compact model from a `.model <name> memristor model=<kind> ...` card.

use std::collections::BTreeMap;

use crate::CompactModel;

/// Why a model card could not become a device model.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("memristor model card has no `model=` kind (expected lid, vteam, yakopcic or stanford_pku)")]
    MissingKind,
    #[error("unknown memristor model kind `{0}`")]
    UnknownKind(String),
    #[error("memristor parameter `{name}` = {value} is invalid: {why}")]
    BadParameter { name: String, value: f64, why: String },
    #[error("unknown parameter `{0}` for this memristor model")]
    UnknownParameter(String),
}

/// `words` holds word-valued parameters (`model`, `window`), `params` numeric
/// ones, all names lower-cased as the netlist parser gives them.
pub fn from_card(
    words: &BTreeMap<String, String>,
    _params: &BTreeMap<String, f64>,
) -> Result<Box<dyn CompactModel>, CardError> {
    let kind = words.get("model").ok_or(CardError::MissingKind)?;
    Err(CardError::UnknownKind(kind.clone()))
}

//! xbar-memristor: memristor device physics: compact models, programming,
//! drift, variability and faults. No circuit numerics here: a model exposes
//! what `xbar-nodal` needs to stamp it ([`CompactModel`]) and nothing more.

pub mod model;

pub use model::CompactModel;
pub mod card;

pub use card::{from_card, CardError};

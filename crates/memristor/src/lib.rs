//! xbar-memristor: memristor device physics: compact models, programming,
//! drift, variability and faults. No circuit numerics here: a model exposes
//! what `xbar-nodal` needs to stamp it ([`CompactModel`]) and nothing more.
//!
//! - Compact models: [`LinearIonDrift`] (HP, Joglekar/Biolek windows),
//!   [`Vteam`] (and current-controlled TEAM), [`Yakopcic`], [`StanfordPku`],
//!   [`Pershin`] (Pershin/Di Ventra threshold), [`Mms`] (Knowm's mean
//!   metastable switch); built from a netlist card with [`from_card`] (xbar's
//!   `model=` cards and Xyce's `level=` cards, see [`xyce`]) or from
//!   `models/*.toml` with [`load_model`].
//! - [`integrate`]: one device under a voltage waveform (I-V loops, pulses).
//! - [`program`]: pulse trains, write-verify, populations, quantisation.
//! - [`drift`] and [`stats`]: seeded statistical non-idealities of a whole
//!   conductance array ([`NonIdealConfig::apply`]), the entry point for
//!   mapping network weights onto devices.
//!
//! ```
//! use xbar_memristor::NonIdealConfig;
//!
//! // 4-bit weights on 1-25 uS devices, 3 % programming noise, PCM drift read
//! // one day after programming with per-column drift compensation.
//! let cfg: NonIdealConfig = toml::from_str(r#"
//!     g_min = 1e-6
//!     g_max = 25e-6
//!     levels = 16
//!     programming_sigma = 0.03
//!     drift = { model = "pcm" }
//!     drift_time_s = 86400.0
//!     compensation = "column"
//! "#).unwrap();
//! let targets = vec![5e-6, 12e-6, 25e-6, 1e-6]; // 2 x 2, row-major, S
//! let array = cfg.apply(&targets, 2, 2, 42).unwrap();
//! assert_eq!(array.programmed.len(), 4);
//! let seen = array.compensated(); // what the periphery reads after correction
//! assert!(seen.iter().all(|g| g.is_finite() && *g >= 0.0));
//! ```

pub mod card;
pub mod drift;
pub mod integrate;
pub mod lid;
pub mod mms;
pub mod model;
pub mod pershin;
pub mod program;
pub mod stanford_pku;
pub mod stats;
pub mod vteam;
pub mod xyce;
pub mod yakopcic;

pub use card::{from_card, load_card, load_model, Card, CardError, LoadError};
pub use drift::{load_drift_preset, Drift, DriftPreset};
pub use integrate::{simulate, Drive, IntegrateError, Sample, Tolerances};
pub use lid::{LinearIonDrift, Window};
pub use mms::Mms;
pub use model::CompactModel;
pub use pershin::Pershin;
pub use program::{levels, pulse_train, quantize, write_verify, Population, WriteVerify};
pub use stanford_pku::StanfordPku;
pub use stats::{ArrayConductances, Compensation, NonIdealConfig, NonIdealError};
pub use vteam::{Control, ResistanceLaw, Vteam, VteamWindow};
pub use yakopcic::Yakopcic;

//! xbar-nodal: modified nodal analysis (DC operating point, DC sweep,
//! transient) of flat circuits from `xbar-netlist`, and the structured
//! crossbar solver. Owns every linear solve (faer).
//!
//! The general engine follows SPICE3/ngspice closely so that a deck gives
//! ngspice's numbers: every element is a [`devices::Device`] that stamps its
//! Newton companion model into a sparse matrix whose pattern is fixed at
//! setup; faer's sparse LU reuses one symbolic analysis for every Newton
//! iteration, sweep point and time step. Newton uses SPICE's convergence
//! tests and junction limiting, falling back to gmin and source stepping;
//! the transient uses trapezoidal or Gear integration with charge-based
//! truncation-error step control and source breakpoints. Floating nodes
//! and voltage-source loops are found by graph connectivity and reported
//! by name before anything is factored.

pub mod compiled_expr;
pub mod crossbar;
mod dc;
pub mod devices;
mod engine;
mod error;
pub mod matrix;
pub mod options;
pub mod output;
mod topology;
mod tran;
pub mod waveform;

pub use dc::sweep_values;
pub use engine::Simulator;
pub use options::{Method, Options};
pub use output::{run_analyses, run_on, AnalysisKind, AnalysisOutput, NodalError};
pub use tran::TranSpec;

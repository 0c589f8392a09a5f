//! xbar-nodal: modified nodal analysis (DC operating point, DC sweep,
//! transient) of flat circuits from `xbar-netlist`, and the structured
//! crossbar solver. Owns every linear solve (faer).

pub mod crossbar;
pub mod output;

pub use output::{run_analyses, AnalysisKind, AnalysisOutput, NodalError};

//! What running a deck's analyses returns: one table per analysis, columns
//! named as ngspice names its vectors.

use xbar_netlist::Circuit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisKind {
    Op,
    Dc,
    Tran,
}

/// One analysis' results. `columns[0]` is the scale vector named as in
/// ngspice's raw file (`time` for a transient, `v-sweep`/`i-sweep` for a DC
/// sweep); an operating point has no scale column and exactly one row.
/// Then `v(node)` for every node and `i(vname)` for every voltage source
/// (ngspice sign convention), `x(name)` for device states.
#[derive(Debug, Clone)]
pub struct AnalysisOutput {
    pub kind: AnalysisKind,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    /// One human-readable line for stderr (points, Newton iterations, time).
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NodalError {
    #[error("{0}")]
    Unsupported(String),
}

/// Runs every analysis of `circuit` in deck order.
pub fn run_analyses(_circuit: &Circuit) -> Result<Vec<AnalysisOutput>, NodalError> {
    Err(NodalError::Unsupported("the nodal engine is not built yet".into()))
}

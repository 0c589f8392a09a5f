//! What running a deck's analyses returns: one table per analysis, columns
//! named as ngspice names its vectors.

use xbar_netlist::{Analysis, Circuit};

use crate::engine::Simulator;
pub use crate::error::NodalError;
use crate::tran::TranSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisKind {
    Op,
    Dc,
    Tran,
    Ac,
}

/// One analysis' results. `columns[0]` is the scale vector named as in
/// ngspice's raw file (`time` for a transient, `v(v-sweep)`/`i(i-sweep)` for
/// a DC sweep); an operating point has no scale column and exactly one row.
/// Then `v(node)` for every node (in order of first appearance in the deck),
/// `i(vname)` for every voltage source (ngspice sign convention: current
/// into the + terminal through the source), `x(name)` for memristor states,
/// and `i(name)` for memristor currents (from + through the device to -).
/// An AC analysis has the scale `frequency` (Hz) and, for every vector, two
/// columns `re(name)` and `im(name)`: its phasor.
#[derive(Debug, Clone)]
pub struct AnalysisOutput {
    pub kind: AnalysisKind,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    /// One human-readable line for stderr (points, Newton iterations, time).
    pub summary: String,
}

/// Runs every analysis of `circuit` in deck order.
pub fn run_analyses(circuit: &Circuit) -> Result<Vec<AnalysisOutput>, NodalError> {
    let mut sim = Simulator::new(circuit)?;
    run_on(&mut sim, circuit)
}

/// Runs every analysis of `circuit` on an already set-up simulator (for
/// callers that built it with their own memristor models).
pub fn run_on(sim: &mut Simulator, circuit: &Circuit) -> Result<Vec<AnalysisOutput>, NodalError> {
    circuit
        .analyses
        .iter()
        .map(|a| match a {
            Analysis::Op => sim.op(),
            Analysis::Dc { inner, outer } => sim.dc_sweep(inner, outer.as_ref()),
            Analysis::Ac(sweep) => sim.ac(sweep),
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            } => sim.transient(&TranSpec {
                tstep: *tstep,
                tstop: *tstop,
                tstart: *tstart,
                tmax: *tmax,
                uic: *uic,
            }),
        })
        .collect()
}

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

impl AnalysisOutput {
    /// A vector by ngspice's name: a column (`v(out)`, `i(v1)`, `time`), a
    /// difference `v(a,b)` or a bare node name; ground reads as zeros.
    pub fn vector(&self, name: &str) -> Option<Vec<f64>> {
        self.vector_part(None, name)
    }

    /// The real and imaginary parts of vector `name` of an AC analysis
    /// (whose columns are `re(..)` and `im(..)`).
    pub fn phasor(&self, name: &str) -> Option<(Vec<f64>, Vec<f64>)> {
        Some((
            self.vector_part(Some("re"), name)?,
            self.vector_part(Some("im"), name)?,
        ))
    }

    /// Vector `name` (a column, `v(n)`, `v(a,b)` or a bare node), each
    /// column wrapped as `part(..)` when a part is given.
    fn vector_part(&self, part: Option<&str>, name: &str) -> Option<Vec<f64>> {
        let column = |name: &str| -> Option<Vec<f64>> {
            let name = match part {
                Some(p) => format!("{p}({name})"),
                None => name.to_string(),
            };
            let index = self.columns.iter().position(|c| *c == name)?;
            Some(self.rows.iter().map(|row| row[index]).collect())
        };
        let node = |n: &str| -> Option<Vec<f64>> {
            if n == "0" || n == "gnd" {
                Some(vec![0.0; self.rows.len()])
            } else {
                column(&format!("v({n})"))
            }
        };
        if let Some(found) = column(name) {
            return Some(found);
        }
        match name.strip_prefix("v(").and_then(|r| r.strip_suffix(')')) {
            Some(args) => match args.split_once(',') {
                Some((a, b)) => {
                    let (a, b) = (node(a.trim())?, node(b.trim())?);
                    Some(a.iter().zip(&b).map(|(x, y)| x - y).collect())
                }
                None => node(args.trim()),
            },
            None => node(name),
        }
    }

    /// The scale vector (`time`, the swept source); `None` for an operating point.
    pub fn scale(&self) -> Option<Vec<f64>> {
        if self.kind == AnalysisKind::Op {
            return None;
        }
        Some(self.rows.iter().map(|row| row[0]).collect())
    }
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
        .map(|a| run_analysis(sim, a))
        .collect()
}

/// Runs one analysis.
pub fn run_analysis(
    sim: &mut Simulator,
    analysis: &Analysis,
) -> Result<AnalysisOutput, NodalError> {
    match analysis {
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
    }
}

//! The crossbar as an ngspice deck, for cross-checking against SPICE.

use std::io::{self, Write};

use super::access::MODEL_NAME;
use super::topology::{Elem, Node};
use super::{AccessTransistor, Conductances, Crossbar, CrossbarError, RowMode};

fn node_name(node: Node, names: &[String]) -> String {
    match node {
        Node::Free(k) => names[k].clone(),
        Node::Source(i) => format!("in{i}"),
        Node::Ground(j) => format!("vg{j}"),
    }
}

impl Crossbar {
    /// Writes this crossbar with conductances `g` and inputs `v` as an
    /// ngspice deck: one DC source per driven row, R elements for wires,
    /// driver, sense and cells (ideal wires merge nodes, zero-conductance
    /// cells are left open), a 0 V source `vammJ` as the ammeter at each
    /// column's virtual ground, `.op` and `.save i(vammJ)`. The currents
    /// `i(vammJ)` are the column currents.
    pub fn write_spice_deck(
        &self,
        out: &mut (impl Write + ?Sized),
        g: &Conductances,
        v: &[f64],
    ) -> Result<(), DeckError> {
        self.write_deck(out, g, v, None)
    }

    /// The 1T1R crossbar of [`Crossbar::solve_1t1r`] with linear cells `g`
    /// as an ngspice deck: like [`write_spice_deck`](Crossbar::write_spice_deck),
    /// but cell `(i,j)` is `rcellI_J` from its row node to `mI_J` (omitted
    /// when `g` is 0) and `mcellI_J mI_J wlI <column node> 0 xbar_access`,
    /// with word line `wlI` driven by `vwlI` at `gates[i]` and the
    /// transistor's `.model xbar_access nmos level=1 …` card.
    pub fn write_spice_deck_1t1r(
        &self,
        out: &mut (impl Write + ?Sized),
        g: &Conductances,
        v: &[f64],
        access: &AccessTransistor,
        gates: &[f64],
    ) -> Result<(), DeckError> {
        self.check_gates(gates)?;
        self.write_deck(out, g, v, Some((access, gates)))
    }

    fn write_deck(
        &self,
        out: &mut (impl Write + ?Sized),
        g: &Conductances,
        v: &[f64],
        access: Option<(&AccessTransistor, &[f64])>,
    ) -> Result<(), DeckError> {
        self.check_conductances(g)?;
        self.check_inputs(v)?;
        let topo = &self.topo;
        let p = topo.par;
        writeln!(
            out,
            "* xbar crossbar {}x{}{} r_row={:e} r_col={:e} r_driver={:e} r_sense={:e}",
            topo.rows,
            topo.cols,
            if access.is_some() { " 1T1R" } else { "" },
            p.r_row,
            p.r_col,
            p.r_driver,
            p.r_sense
        )?;
        // Tight tolerances so ngspice's answer is comparable at 1e-9.
        writeln!(out, ".options reltol=1e-12 abstol=1e-20 vntol=1e-15")?;
        for (i, mode) in topo.modes.iter().enumerate() {
            if *mode == RowMode::Driven {
                writeln!(out, "vin{i} in{i} 0 dc {:e}", v[i])?;
            }
        }
        if let Some((transistor, gates)) = access {
            writeln!(out, "{}", transistor.model_line())?;
            for (i, vg) in gates.iter().enumerate() {
                writeln!(out, "vwl{i} wl{i} 0 dc {vg:e}")?;
            }
        }
        let names = topo.spice_names();
        let mut count = 0usize;
        let mut result = Ok(());
        topo.for_each_element(|a, b, e| {
            if result.is_err() {
                return;
            }
            let (na, nb) = (node_name(a, &names), node_name(b, &names));
            result = match (e, access) {
                (Elem::Cell(i, j), Some((transistor, _))) => {
                    let mid = format!("m{i}_{j}");
                    let gij = g.get(i, j);
                    (if gij > 0.0 {
                        writeln!(out, "rcell{i}_{j} {na} {mid} {:e}", 1.0 / gij)
                    } else {
                        Ok(())
                    })
                    .and_then(|_| {
                        writeln!(
                            out,
                            "mcell{i}_{j} {mid} wl{i} {nb} 0 {MODEL_NAME} w={:e} l={:e}",
                            transistor.w(),
                            transistor.l()
                        )
                    })
                }
                _ => {
                    let value = match e {
                        Elem::Wire(w) => w,
                        Elem::Cell(i, j) => g.get(i, j),
                    };
                    if value == 0.0 || matches!((a, b), (Node::Source(_), Node::Source(_))) {
                        return;
                    }
                    count += 1;
                    let name = match e {
                        Elem::Wire(_) => format!("rw{count}"),
                        Elem::Cell(i, j) => format!("rcell{i}_{j}"),
                    };
                    writeln!(out, "{name} {na} {nb} {:e}", 1.0 / value)
                }
            };
        });
        result?;
        let mut save = String::from(".save");
        for j in 0..topo.cols {
            writeln!(out, "vamm{j} vg{j} 0 dc 0")?;
            save.push_str(&format!(" i(vamm{j})"));
        }
        writeln!(out, ".op")?;
        writeln!(out, "{save}")?;
        writeln!(out, ".end")?;
        Ok(())
    }
}

/// Failure writing a SPICE deck.
#[derive(Debug, thiserror::Error)]
pub enum DeckError {
    #[error(transparent)]
    Crossbar(#[from] CrossbarError),
    #[error("writing the deck: {0}")]
    Io(#[from] io::Error),
}

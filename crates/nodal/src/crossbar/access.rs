//! 1T1R cells with an NMOS access transistor (MOSFET level 1, 2 or 3) per cell.
//!
//! Cell `(i,j)` is its two-terminal element (a [`CellIv`]) from the row node
//! `r(i,j)` to an internal node `m(i,j)`, then an NMOS with drain `m(i,j)`,
//! gate on word line `i` (voltage `V_g[i]`), source on the column node
//! `c(i,j)` and body at 0 V (a p-substrate), exactly the SPICE lines
//! `R… r m`, `M… m wl c 0 model` that [`Crossbar::write_spice_deck_1t1r`]
//! emits. The transistor is the nodal engine's own MOSFET (level 1 unless
//! the card sets `level=2|3`; level 1 is ngspice's mos1: square law, LAMBDA, body effect through GAMMA/PHI, bulk junction
//! diodes with `gmin`, drain/source swap when `V_ds < 0`, `fetlim`/`limvds`/
//! `pnjlim` limiting), built from the same model card, and Newton stops by
//! the engine's own test, so this solver, `xbar sim` and ngspice see one
//! circuit and converge on it alike.
//!
//! The Jacobian is not symmetric (the transconductance couples the gate
//! and source sides), so the crossbar's Cholesky cannot be used: the
//! unknowns are the crossbar's free nodes, one internal node per cell, the
//! word lines and the branch currents of the ideal sources and ammeters,
//! assembled on a pattern fixed once and factored by sparse LU with its
//! symbolic analysis reused for every Newton iteration.

use std::collections::{BTreeMap, HashMap};

use xbar_netlist::{Circuit, Element, ElementKind, Model, SourceLoc};

use super::nonlinear::{CellIv, NewtonOptions, NonlinearSolution};
use super::solution::Solution;
use super::topology::{Elem, Node};
use super::{Crossbar, CrossbarError, RowMode};
use crate::devices::{self, Device, Init, LoadCtx, NodeMap, Phase, Setup, States, UnknownKind};
use crate::engine::{next_mode, unknowns_settled};
use crate::matrix::{LuFailure, PatternBuilder, Slot, SparseLu, Stamp};
use crate::options::Options;
use crate::output::NodalError;
use crate::waveform::SourceMode;

/// Name of the model card in emitted decks.
pub(crate) const MODEL_NAME: &str = "xbar_access";

/// An NMOS access transistor: an ngspice `nmos` model card (level 1 unless it
/// sets `level=2|3`) plus the instance's channel width and length.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTransistor {
    card: BTreeMap<String, f64>,
    w: f64,
    l: f64,
}

impl AccessTransistor {
    /// Parses `name=value` pairs separated by spaces or commas, values as
    /// SPICE numbers (`1u`, `100n`, `2e-5`): `w` and `l` (m) are the
    /// instance's width and length, every other name is a parameter of the
    /// model card (level 1: `vto`, `kp`, `lambda`, `gamma`, `phi`, `ld`,
    /// `is`, `tox`, `uo`). Example: `"vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02"`.
    pub fn parse(spec: &str) -> Result<Self, CrossbarError> {
        let mut pairs = Vec::new();
        for token in spec
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
        {
            let (name, text) = token.split_once('=').ok_or_else(|| {
                CrossbarError::InvalidTransistor(format!("`{token}` is not of the form name=value"))
            })?;
            let value = xbar_netlist::parse_number(text).ok_or_else(|| {
                CrossbarError::InvalidTransistor(format!(
                    "parameter `{name}`: `{text}` is not a number"
                ))
            })?;
            pairs.push((name.to_string(), value));
        }
        Self::new(pairs)
    }

    /// Builds from `(name, value)` pairs with the names of [`parse`]
    /// (case-insensitive); `w` and `l` default to ngspice's 100 µm. The
    /// card is checked by the nodal engine's MOSFET: unknown or unsupported
    /// parameters, non-finite values, `kp <= 0`, `w`, `l <= 0` are errors.
    ///
    /// [`parse`]: AccessTransistor::parse
    pub fn new<S: AsRef<str>>(
        pairs: impl IntoIterator<Item = (S, f64)>,
    ) -> Result<Self, CrossbarError> {
        let defaults = Options::default();
        let (mut w, mut l) = (defaults.defw, defaults.defl);
        let mut card = BTreeMap::new();
        for (name, value) in pairs {
            let name = name.as_ref().trim().to_ascii_lowercase();
            match name.as_str() {
                "w" => w = value,
                "l" => l = value,
                _ => {
                    if card.insert(name.clone(), value).is_some() {
                        return Err(CrossbarError::InvalidTransistor(format!(
                            "parameter `{name}` given twice"
                        )));
                    }
                }
            }
        }
        // The solver numbers every node itself: a transistor that would add
        // internal drain/source nodes cannot be placed in it.
        for name in ["rd", "rs", "rsh"] {
            if card.get(name).is_some_and(|&r| r != 0.0) {
                return Err(CrossbarError::InvalidTransistor(format!(
                    "parameter `{name}`: series resistances are not supported in the \
                     crossbar's access transistor"
                )));
            }
        }
        let t = Self { card, w, l };
        // Building one device runs every check the engine makes on a deck.
        t.build_devices(&[["d", "g", "s"]], &NodeMap::default(), &defaults)?;
        Ok(t)
    }

    /// Channel width (m).
    pub fn w(&self) -> f64 {
        self.w
    }

    /// Channel length (m).
    pub fn l(&self) -> f64 {
        self.l
    }

    /// Zero-bias threshold voltage `VTO` (V; ngspice's default 0).
    pub fn threshold(&self) -> f64 {
        self.card
            .get("vto")
            .or_else(|| self.card.get("vt0"))
            .copied()
            .unwrap_or(0.0)
    }

    /// The model card's parameters (lower-case ngspice names).
    pub fn card(&self) -> &BTreeMap<String, f64> {
        &self.card
    }

    /// The `.model` line of an ngspice deck (full round-trip precision).
    pub fn model_line(&self) -> String {
        let level = self.card.get("level").copied().unwrap_or(1.0);
        let mut line = format!(".model {MODEL_NAME} nmos level={level}");
        for (name, value) in self.card.iter().filter(|(n, _)| *n != "level") {
            line.push_str(&format!(" {name}={value:e}"));
        }
        line
    }

    /// One engine MOSFET per `[drain, gate, source]` node-name triple, body
    /// at ground.
    fn build_devices(
        &self,
        terminals: &[[&str; 3]],
        map: &NodeMap,
        opts: &Options,
    ) -> Result<Vec<Box<dyn Device>>, CrossbarError> {
        let loc = SourceLoc::default();
        let mut circuit = Circuit::default();
        circuit.models.insert(
            MODEL_NAME.into(),
            Model {
                name: MODEL_NAME.into(),
                kind: "nmos".into(),
                params: self.card.clone(),
                words: BTreeMap::new(),
                loc: loc.clone(),
            },
        );
        circuit.elements = terminals
            .iter()
            .enumerate()
            .map(|(k, t)| Element {
                name: format!("macc{k}"),
                nodes: vec![t[0].into(), t[1].into(), t[2].into(), "0".into()],
                kind: ElementKind::Mosfet {
                    model: MODEL_NAME.into(),
                    w: Some(self.w),
                    l: Some(self.l),
                    geometry: Default::default(),
                },
                loc: loc.clone(),
            })
            .collect();
        devices::build(&circuit, map, opts, &|m| {
            xbar_memristor::from_card(&m.words, &m.params)
        })
        .map_err(|e| CrossbarError::InvalidTransistor(describe(e)))
    }
}

/// The engine's error without its (synthetic) deck location.
fn describe(e: NodalError) -> String {
    match e {
        NodalError::BadModelParameter {
            param, value, why, ..
        } => format!("parameter `{param}` = {value} is invalid: {why}"),
        NodalError::BadParameter { message, .. } => message,
        NodalError::NonFiniteParameter { param, value, .. } => {
            format!("parameter `{param}` = {value} is not a finite number")
        }
        other => other.to_string(),
    }
}

/// A two-terminal element with fixed conductance on the pattern.
struct Fixed {
    slots: [Slot; 4],
    g: f64,
}

/// An ideal voltage source (driver, ammeter) pinning `node` to `value`;
/// its branch current flows from `node` into the source.
struct Pin {
    node: usize,
    branch: usize,
    to_branch: Slot,
    from_branch: Slot,
    value: f64,
}

impl Crossbar {
    /// Solves the 1T1R crossbar whose cell `(i,j)` has I-V
    /// `cells[i*cols + j]` in series with the level-1 NMOS `access` gated
    /// by `gates[i]` (V), for row inputs `v` (see the module docs for the
    /// circuit). Newton with ngspice's limiting, stopped as the general
    /// engine stops (the same code): every unknown moved by at most
    /// `rel_tol · max(|new|, |old|)` plus `abs_tol` (nodes) or
    /// `current_abs_tol` (source branch currents), no transistor was
    /// limited, and ngspice's junction-initialisation iterations are past;
    /// with `rel_tol`, `abs_tol` and `current_abs_tol` equal to the deck's
    /// `reltol`, `vntol` and `abstol`, the solver converges on what `xbar
    /// sim` converges on for the deck of [`Crossbar::write_spice_deck_1t1r`]
    /// (the defaults are looser). Column currents are the
    /// ammeter currents into the virtual grounds; `cell_currents` are the
    /// currents entering the cells at their row terminals (the two differ by
    /// the transistors' junction leakage to the body).
    pub fn solve_1t1r<C: CellIv>(
        &self,
        cells: &[C],
        access: &AccessTransistor,
        gates: &[f64],
        v: &[f64],
        options: NewtonOptions,
    ) -> Result<NonlinearSolution, CrossbarError> {
        let topo = &self.topo;
        let (rows, cols) = (topo.rows, topo.cols);
        if cells.len() != rows * cols {
            return Err(CrossbarError::SizeMismatch {
                what: "cells",
                expected: rows * cols,
                found: cells.len(),
            });
        }
        self.check_inputs(v)?;
        self.check_gates(gates)?;

        // Unknowns: free nodes, pinned nodes (driven inputs, column virtual
        // grounds), one internal node per cell, word lines, then branches.
        let n = topo.n;
        let mut next = n;
        let mut source_node = vec![usize::MAX; rows];
        for i in (0..rows).filter(|&i| topo.modes[i] == RowMode::Driven) {
            source_node[i] = next;
            next += 1;
        }
        let ground_node: Vec<usize> = (next..next + cols).collect();
        next += cols;
        let mid0 = next;
        next += rows * cols;
        let gate0 = next;
        next += rows;
        let nodes = next;
        let index = |node: Node| match node {
            Node::Free(k) => k,
            Node::Source(i) => source_node[i],
            Node::Ground(j) => ground_node[j],
        };

        let mut pb = PatternBuilder::default();
        let mut wires = Vec::new();
        let mut cell_row = vec![0usize; rows * cols];
        let mut cell_col = vec![0usize; rows * cols];
        topo.for_each_element(|a, b, e| match e {
            Elem::Wire(g) => wires.push(Fixed {
                slots: pb.pair(Some(index(a)), Some(index(b))),
                g,
            }),
            Elem::Cell(i, j) => {
                cell_row[i * cols + j] = index(a);
                cell_col[i * cols + j] = index(b);
            }
        });
        let cell_slots: Vec<[Slot; 4]> = (0..rows * cols)
            .map(|k| pb.pair(Some(cell_row[k]), Some(mid0 + k)))
            .collect();
        let mut pins = Vec::new();
        let pinned = (0..rows)
            .filter(|&i| topo.modes[i] == RowMode::Driven)
            .map(|i| (source_node[i], v[i]))
            .chain(ground_node.iter().map(|&p| (p, 0.0)));
        for (k, (node, value)) in pinned.enumerate() {
            let branch = nodes + k;
            pins.push(Pin {
                node,
                branch,
                to_branch: pb.entry(Some(node), Some(branch)),
                from_branch: pb.entry(Some(branch), Some(node)),
                value,
            });
        }
        let total = nodes + pins.len();
        let gate_slots: Vec<Slot> = (0..rows)
            .map(|i| pb.entry(Some(gate0 + i), Some(gate0 + i)))
            .collect();

        let names: Vec<String> = (0..nodes).map(|k| format!("x{k}")).collect();
        let map = NodeMap {
            index: names.iter().cloned().zip(0..).collect::<HashMap<_, _>>(),
            names: names.clone(),
        };
        let terminals: Vec<[&str; 3]> = (0..rows * cols)
            .map(|k| {
                [
                    names[mid0 + k].as_str(),
                    names[gate0 + k / cols].as_str(),
                    names[cell_col[k]].as_str(),
                ]
            })
            .collect();
        let opts = Options {
            reltol: options.rel_tol,
            vntol: options.abs_tol,
            abstol: options.current_abs_tol,
            ..Options::default()
        };
        let mut mos = access.build_devices(&terminals, &map, &opts)?;
        let (mut unknowns, mut n_states, mut charges) = (Vec::new(), 0, Vec::new());
        for d in &mut mos {
            d.setup(&mut Setup::new(
                &mut pb,
                &mut unknowns,
                &mut n_states,
                &mut charges,
            ));
        }
        let pattern = pb.finish(total);
        let mut lu = SparseLu::new(&pattern);
        let mut states = States::new(n_states);
        let mut values = pattern.new_values();
        let mut rhs = vec![0.0; total];

        // Pinned nodes start at their values so damping never throttles
        // them; the rest from the ideal-switch chord model, each internal
        // node at its column node (a fully on transistor).
        // A floating row whose transistors are all off is isolated in the
        // chord model (singular); the model then keeps every row on.
        let (x_chord, linear_column_currents) =
            match self.chord_solve(cells, v, |i| gates[i] > access.threshold()) {
                Err(CrossbarError::Singular(_)) => self.chord_solve(cells, v, |_| true)?,
                other => other?,
            };
        let mut x = vec![0.0; total];
        x[..n].copy_from_slice(&x_chord);
        for p in &pins {
            x[p.node] = p.value;
        }
        for k in 0..rows * cols {
            x[mid0 + k] = x[cell_col[k]];
        }
        x[gate0..gate0 + rows].copy_from_slice(gates);
        let mut last = (f64::INFINITY, 0usize);
        // ngspice's MODEINITJCT: transistors start at their standard
        // guesses, then follow the iterate with limiting.
        let mut mode = Init::Junction;
        for iteration in 1..=options.max_iterations {
            values.fill(0.0);
            rhs.fill(0.0);
            let ctx = LoadCtx {
                phase: Phase::Dc,
                sources: SourceMode::Dc,
                src_fact: 1.0,
                opts: &opts,
                init: mode,
            };
            let mut m = Stamp::new(&pattern, &mut values, &mut rhs);
            for w in &wires {
                m.conductance(&w.slots, w.g);
            }
            for p in &pins {
                m.add(p.to_branch, 1.0);
                m.add(p.from_branch, 1.0);
                m.rhs(Some(p.branch), p.value);
            }
            for (i, &s) in gate_slots.iter().enumerate() {
                m.add(s, 1.0);
                m.rhs(Some(gate0 + i), gates[i]);
            }
            for (k, cell) in cells.iter().enumerate() {
                let (row, mid) = (cell_row[k], mid0 + k);
                let vc = x[row] - x[mid];
                let (g, current) = (cell.conductance(vc), cell.current(vc));
                let reason = if !(g.is_finite() && g >= 0.0) {
                    Some("dI/dV negative or not finite")
                } else if !current.is_finite() {
                    Some("current not finite")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(CrossbarError::InvalidCellIv {
                        row: k / cols,
                        col: k % cols,
                        voltage: vc,
                        reason,
                    });
                }
                m.conductance(&cell_slots[k], g);
                m.current(Some(row), Some(mid), current - g * vc);
            }
            let mut consistent = true;
            for d in &mut mos {
                consistent &= d.load(&ctx, &x, &mut states, &mut m);
            }
            lu.factor(&values).map_err(|e| match e {
                LuFailure::Structural(col) => CrossbarError::Singular(format!(
                    "1T1R system structurally singular at {}",
                    self.describe_1t1r(col, n, mid0, gate0, nodes)
                )),
                LuFailure::Other(s) => CrossbarError::Singular(s),
            })?;
            let mut x_new = rhs.clone();
            lu.solve(&mut x_new);
            if let Some(k) = x_new.iter().position(|a| !a.is_finite()) {
                return Err(CrossbarError::Singular(format!(
                    "1T1R Newton iterate not finite at {}",
                    self.describe_1t1r(k, n, mid0, gate0, nodes)
                )));
            }
            let kind = |k| {
                if k < nodes {
                    UnknownKind::Node
                } else {
                    UnknownKind::Current
                }
            };
            let (settled, _) = unknowns_settled(&opts, kind, &x_new, &x);
            let step = x_new[..nodes]
                .iter()
                .zip(&x[..nodes])
                .fold(0.0f64, |s, (a, b)| s.max((a - b).abs()));
            let worst_cell = (0..rows * cols)
                .max_by(|&a, &b| {
                    let da = (x_new[mid0 + a] - x[mid0 + a]).abs();
                    let db = (x_new[mid0 + b] - x[mid0 + b]).abs();
                    da.total_cmp(&db)
                })
                .unwrap_or(0);
            last = (step, worst_cell);
            let scale = if step > options.max_step {
                options.max_step / step
            } else {
                1.0
            };
            for (xi, xn) in x.iter_mut().zip(&x_new) {
                *xi += scale * (xn - *xi);
            }
            let Some(next) = next_mode(mode, iteration, settled, consistent) else {
                let column_currents = ground_node
                    .iter()
                    .map(|&p| {
                        pins.iter()
                            .find(|q| q.node == p)
                            .map_or(0.0, |q| x[q.branch])
                    })
                    .collect();
                let driver_currents = (0..rows)
                    .map(|i| {
                        pins.iter()
                            .find(|q| q.node == source_node[i])
                            .map_or(0.0, |q| -x[q.branch])
                    })
                    .collect();
                let cell_currents = (0..rows * cols)
                    .map(|k| cells[k].current(x[cell_row[k]] - x[mid0 + k]))
                    .collect();
                return Ok(NonlinearSolution {
                    solution: Solution {
                        rows,
                        cols,
                        column_currents,
                        driver_currents,
                        row_voltages: cell_row.iter().map(|&p| x[p]).collect(),
                        col_voltages: cell_col.iter().map(|&p| x[p]).collect(),
                        cell_currents,
                    },
                    iterations: iteration,
                    linear_column_currents,
                    internal_voltages: x[mid0..mid0 + rows * cols].to_vec(),
                });
            };
            mode = next;
        }
        Err(CrossbarError::AccessNoConvergence {
            row: last.1 / cols,
            col: last.1 % cols,
            iterations: options.max_iterations,
            max_update: last.0,
        })
    }

    pub(crate) fn check_gates(&self, gates: &[f64]) -> Result<(), CrossbarError> {
        if gates.len() != self.topo.rows {
            return Err(CrossbarError::SizeMismatch {
                what: "gate voltages",
                expected: self.topo.rows,
                found: gates.len(),
            });
        }
        if let Some((row, &value)) = gates.iter().enumerate().find(|(_, g)| !g.is_finite()) {
            return Err(CrossbarError::InvalidGateVoltage { row, value });
        }
        Ok(())
    }

    /// Names unknown `k` of the 1T1R system for error messages.
    fn describe_1t1r(&self, k: usize, n: usize, mid0: usize, gate0: usize, nodes: usize) -> String {
        let cols = self.topo.cols;
        if k < n {
            self.topo.describe(k)
        } else if k < mid0 {
            "a driver or virtual-ground node".into()
        } else if k < gate0 {
            let c = k - mid0;
            format!(
                "the node between cell ({},{}) and its transistor",
                c / cols,
                c % cols
            )
        } else if k < nodes {
            format!("word line {}", k - gate0)
        } else {
            "a source branch current".into()
        }
    }
}

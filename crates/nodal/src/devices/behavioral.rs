//! Behavioural elements (ngspice's ASRC): B sources, `E`/`G` with
//! `value=`, and resistors and capacitors whose value is an expression of the
//! circuit. At every Newton iterate the expression and its exact partial
//! derivatives are evaluated at the present solution and stamped as a
//! linearised controlled source, as ngspice's asrcload.c does: no limiting,
//! no damping (ngspice's own convergence check of B sources takes no part in
//! its Newton either, see `unknowns_settled`).

use xbar_netlist::expr::Probe;
use xbar_netlist::{Behavior, Element, SourceLoc};

use super::{nodes, Device, Link, LinkKind, LoadCtx, NodeMap, Phase, Setup, States, UnknownKind};
use crate::compiled_expr::{CompiledExpr, Env};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};
use crate::waveform::SourceMode;

/// What a probe reads from the solution vector.
#[derive(Debug, Clone, Copy)]
enum Read {
    Voltage(Unknown, Unknown),
    /// A branch current unknown (resolved after every device's setup).
    Branch(usize),
}

#[derive(Debug)]
pub struct Behavioral {
    name: String,
    loc: SourceLoc,
    a: Unknown,
    b: Unknown,
    quantity: Behavior,
    expr: CompiledExpr,
    probes: Vec<Probe>,
    reads: Vec<Read>,
    values: Vec<f64>,
    /// The partial derivatives of the last evaluation.
    grad: Vec<f64>,
    temper: f64,
    /// Voltage-defined: the branch current unknown.
    branch: usize,
    /// The rows this element's equation touches with, per probe, the
    /// matrix entries of that probe's columns.
    probe_slots: Vec<[Slot; 4]>,
    /// Voltage-defined: (a,j) (b,j) (j,a) (j,b); capacitance: the (a,b) pair.
    own_slots: [Slot; 4],
    /// Capacitance and charge: the integrated state.
    q: usize,
    fault: Option<String>,
}

impl Behavioral {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        quantity: Behavior,
        expr: &xbar_netlist::expr::Expr,
        gmin: f64,
        temper: f64,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let probes = expr.probes();
        let mut reads = Vec::with_capacity(probes.len());
        for probe in &probes {
            reads.push(match probe {
                Probe::Voltage(p, m) => {
                    let node = |name: &str| {
                        if name == "0" || map.index.contains_key(name) {
                            Ok(map.get(name))
                        } else {
                            Err(super::bad(
                                e,
                                format!(
                                    "`{}` reads node `{name}`, which no element connects",
                                    xbar_netlist::expr::Expr::Probe(probe.clone())
                                ),
                            ))
                        }
                    };
                    Read::Voltage(node(p)?, m.as_deref().map_or(Ok(None), node)?)
                }
                Probe::Current(_) => Read::Branch(0),
            });
        }
        // ngspice's PTfudge_factor.
        let fudge = gmin * 1e-20;
        let compiled = CompiledExpr::compile(expr, &probes, fudge)
            .map_err(|err| super::bad(e, format!("expression {expr}: {err}")))?;
        Ok(Self {
            name: e.name.clone(),
            loc: e.loc.clone(),
            a: n[0],
            b: n[1],
            quantity,
            expr: compiled,
            values: vec![0.0; probes.len()],
            grad: vec![0.0; probes.len()],
            probe_slots: vec![[Slot::default(); 4]; probes.len()],
            probes,
            reads,
            temper,
            branch: 0,
            own_slots: [Slot::default(); 4],
            q: 0,
            fault: None,
        })
    }

    /// The rows of the element's equations: the branch row for a voltage
    /// definition, the two node rows otherwise.
    fn rows(&self) -> (Unknown, Unknown) {
        match self.quantity {
            Behavior::Voltage => (Some(self.branch), None),
            _ => (self.a, self.b),
        }
    }

    fn register_probe(&mut self, s: &mut Setup<'_>, k: usize) {
        let (r1, r2) = self.rows();
        let (c1, c2) = match self.reads[k] {
            Read::Voltage(p, m) => (p, m),
            Read::Branch(j) => (Some(j), None),
        };
        self.probe_slots[k] = [
            s.pattern.entry(r1, c1),
            s.pattern.entry(r1, c2),
            s.pattern.entry(r2, c1),
            s.pattern.entry(r2, c2),
        ];
    }

    fn read(&self, x: &[f64], k: usize) -> f64 {
        let v = |n: Unknown| n.map_or(0.0, |i| x[i]);
        match self.reads[k] {
            Read::Voltage(p, m) => v(p) - v(m),
            Read::Branch(j) => x[j],
        }
    }

    /// Stamps `scale·Σ g_k·probe_k` into the element's rows (the first row
    /// positive, the second negative) and returns `Σ g_k·probe_k` at the
    /// present iterate.
    fn stamp_probes(&self, m: &mut Stamp<'_>, scale: f64) -> f64 {
        let mut linear = 0.0;
        for (k, &g) in self.grad.iter().enumerate() {
            linear += g * self.values[k];
            let gs = g * scale;
            let slots = &self.probe_slots[k];
            m.add(slots[0], gs);
            m.add(slots[1], -gs);
            m.add(slots[2], -gs);
            m.add(slots[3], gs);
        }
        linear
    }

    /// Records an evaluation failure and poisons the right-hand side so the
    /// solve fails; the engine then reports [`Device::fault`].
    fn fail(&mut self, m: &mut Stamp<'_>, message: String) {
        self.fault = Some(format!("{}: element `{}`: {message}", self.loc, self.name));
        let (r1, _) = self.rows();
        m.rhs(r1.or(self.a).or(self.b), f64::NAN);
    }
}

impl Device for Behavioral {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        let kind = match self.quantity {
            Behavior::Voltage => LinkKind::VoltageSource,
            Behavior::Current => LinkKind::Conductive,
            Behavior::Capacitance | Behavior::Charge => LinkKind::Capacitive,
        };
        vec![Link {
            a: self.a,
            b: self.b,
            kind,
        }]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        match self.quantity {
            Behavior::Voltage => {
                self.branch = s.unknown(format!("i({})", self.name), UnknownKind::Current, true);
                let j = Some(self.branch);
                self.own_slots = [
                    s.pattern.entry(self.a, j),
                    s.pattern.entry(self.b, j),
                    s.pattern.entry(j, self.a),
                    s.pattern.entry(j, self.b),
                ];
            }
            Behavior::Capacitance => {
                self.own_slots = s.pattern.pair(self.a, self.b);
                self.q = s.charge();
            }
            Behavior::Charge => self.q = s.charge(),
            Behavior::Current => {}
        }
        for k in 0..self.probes.len() {
            if matches!(self.reads[k], Read::Voltage(..)) {
                self.register_probe(s, k);
            }
        }
    }

    fn setup_references(&mut self, s: &mut Setup<'_>) -> Result<(), NodalError> {
        for k in 0..self.probes.len() {
            let Probe::Current(target) = &self.probes[k] else {
                continue;
            };
            let wanted = format!("i({target})");
            let Some(j) = s
                .unknowns
                .iter()
                .position(|u| u.name == wanted && u.kind == UnknownKind::Current)
            else {
                return Err(NodalError::BadParameter {
                    element: self.name.clone(),
                    message: format!(
                        "`i({target})`: no voltage source, B/E voltage source or other element with a branch current of that name"
                    ),
                    loc: Box::new(self.loc.clone()),
                });
            };
            self.reads[k] = Read::Branch(j);
            self.register_probe(s, k);
        }
        Ok(())
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        for k in 0..self.reads.len() {
            self.values[k] = self.read(x, k);
        }
        let time = match ctx.sources {
            SourceMode::Dc => 0.0,
            SourceMode::Tran { time, .. } => time,
        };
        let env = Env {
            probes: &self.values,
            time,
            temper: self.temper,
        };
        let f = match self.expr.eval(&env) {
            Ok((f, grad)) => {
                self.grad.copy_from_slice(grad);
                f
            }
            Err(err) => {
                self.fail(m, err.to_string());
                return true;
            }
        };
        self.fault = None;
        match self.quantity {
            Behavior::Voltage => {
                m.add(self.own_slots[0], 1.0);
                m.add(self.own_slots[1], -1.0);
                m.add(self.own_slots[2], 1.0);
                m.add(self.own_slots[3], -1.0);
                let linear = self.stamp_probes(m, -1.0);
                m.rhs(Some(self.branch), f - linear);
            }
            Behavior::Current => {
                let linear = self.stamp_probes(m, 1.0);
                m.current(self.a, self.b, f - linear);
            }
            Behavior::Capacitance => {
                let volt = |n: Unknown| n.map_or(0.0, |i| x[i]);
                let v = volt(self.a) - volt(self.b);
                st.levels[0][self.q] = v;
                match ctx.phase {
                    Phase::Dc | Phase::UicStart => st.levels[0][self.q + 1] = 0.0,
                    Phase::Tran(integ) => {
                        // dv/dt from a unit capacitor on v, times C(x):
                        // ngspice's E + 1 F capacitor + B construction.
                        let (geq, _) = integ.integrate(st, self.q, 1.0);
                        let slope = st.levels[0][self.q + 1];
                        let linear = self.stamp_probes(m, slope);
                        m.conductance(&self.own_slots, f * geq);
                        m.current(self.a, self.b, f * slope - slope * linear - f * geq * v);
                    }
                }
            }
            Behavior::Charge => {
                st.levels[0][self.q] = f;
                match ctx.phase {
                    Phase::Dc | Phase::UicStart => st.levels[0][self.q + 1] = 0.0,
                    Phase::Tran(integ) => {
                        let (geq, _) = integ.integrate(st, self.q, 1.0);
                        let current = st.levels[0][self.q + 1];
                        let linear = self.stamp_probes(m, geq);
                        m.current(self.a, self.b, current - geq * linear);
                    }
                }
            }
        }
        true
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn fault(&self) -> Option<String> {
        self.fault.clone()
    }
}

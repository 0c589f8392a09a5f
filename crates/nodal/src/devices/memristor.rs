//! Two-terminal memristor `I = f(V, x)`, `dx/dt = g(V, x)` on top of an
//! `xbar_memristor::CompactModel`. The state is an extra unknown of the
//! Newton system (`x(name)`), integrated with the capacitors' method and
//! step control; in DC analyses it is frozen at its initial value. The state
//! never leaves the model's bounds: Newton updates are projected onto them,
//! and while the dynamics push outward at a bound the state equation becomes
//! `x = bound` with zero rate, so the integration history carries no
//! overshoot. In AC the state is frozen at its operating-point value: the
//! memristor is its small-signal conductance there.

use faer::c64;
use xbar_memristor::CompactModel;
use xbar_netlist::Element;

use super::{
    finite, nodes, Device, Link, LinkKind, LoadCtx, NodeMap, Phase, Setup, States, UnknownKind,
};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};

#[derive(Debug)]
pub struct Memristor {
    name: String,
    a: Unknown,
    b: Unknown,
    model: Box<dyn CompactModel>,
    x0: f64,
    lo: f64,
    hi: f64,
    state: usize,
    q: usize,
    pair: [Slot; 4],
    /// (a,x) (b,x) (x,a) (x,b) (x,x)
    coupling: [Slot; 5],
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

impl Memristor {
    /// A memristor element driven by `model`; `x0` defaults to the model's
    /// default state and must lie within its bounds.
    pub fn new(
        e: &Element,
        map: &NodeMap,
        model: Box<dyn CompactModel>,
        x0: Option<f64>,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let (lo, hi) = model.state_bounds();
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(super::bad(
                e,
                format!(
                    "model `{}` has invalid state bounds [{lo}, {hi}]",
                    model.kind()
                ),
            ));
        }
        let x0 = finite(e, "x0", x0.unwrap_or_else(|| model.default_state()))?;
        if !(lo..=hi).contains(&x0) {
            return Err(super::bad(
                e,
                format!("initial state x0 = {x0} lies outside the model's bounds [{lo}, {hi}]"),
            ));
        }
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            model,
            x0,
            lo,
            hi,
            state: 0,
            q: 0,
            pair: [Slot::default(); 4],
            coupling: [Slot::default(); 5],
        })
    }
}

impl Device for Memristor {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        vec![Link {
            a: self.a,
            b: self.b,
            kind: LinkKind::Conductive,
        }]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        let abstol = 1e-6 * (self.hi - self.lo).max(f64::MIN_POSITIVE);
        self.state = s.unknown(
            format!("x({})", self.name),
            UnknownKind::State { abstol },
            true,
        );
        let x = Some(self.state);
        self.pair = s.pattern.pair(self.a, self.b);
        self.coupling = [
            s.pattern.entry(self.a, x),
            s.pattern.entry(self.b, x),
            s.pattern.entry(x, self.a),
            s.pattern.entry(x, self.b),
            s.pattern.entry(x, x),
        ];
        self.q = s.charge();
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let v = volt(x, self.a) - volt(x, self.b);
        let xs = match ctx.phase {
            Phase::Dc | Phase::UicStart => self.x0,
            Phase::Tran(_) => x[self.state].clamp(self.lo, self.hi),
        };
        let i = self.model.current(v, xs);
        let g = self.model.conductance(v, xs);
        let gx = self.model.current_dx(v, xs);
        m.conductance(&self.pair, g);
        m.add(self.coupling[0], gx);
        m.add(self.coupling[1], -gx);
        m.current(self.a, self.b, i - g * v - gx * xs);

        let pinned = match ctx.phase {
            Phase::Dc | Phase::UicStart => Some(self.x0),
            Phase::Tran(_) => {
                let rate = self.model.state_rate(v, xs);
                if xs >= self.hi && rate > 0.0 {
                    Some(self.hi)
                } else if xs <= self.lo && rate < 0.0 {
                    Some(self.lo)
                } else {
                    None
                }
            }
        };
        match (pinned, ctx.phase) {
            (Some(p), _) => {
                st.levels[0][self.q] = p;
                st.levels[0][self.q + 1] = 0.0;
                m.add(self.coupling[4], 1.0);
                m.rhs(Some(self.state), p);
            }
            (None, Phase::Tran(integ)) => {
                st.levels[0][self.q] = xs;
                let (geq, ceq) = integ.integrate(st, self.q, 1.0);
                let r = self.model.state_rate(v, xs);
                let rv = self.model.state_rate_dv(v, xs);
                let rx = self.model.state_rate_dx(v, xs);
                // dx/dt(x) - g(v, x) = 0, linearized at (v, xs), divided by
                // geq: unscaled, this row holds 1/step (1e11 at 10 ps) and
                // can win the LU's partial pivoting in a node-voltage column,
                // whose solution then carries its cancellation error.
                let scale = 1.0 / geq;
                m.add(self.coupling[4], (geq - rx) * scale);
                m.add(self.coupling[2], -rv * scale);
                m.add(self.coupling[3], rv * scale);
                m.rhs(Some(self.state), (r - rv * v - rx * xs - ceq) * scale);
            }
            (None, _) => {}
        }
        true
    }

    fn initial_guess(&self, x: &mut [f64]) {
        x[self.state] = self.x0;
    }

    fn project(&self, x: &mut [f64]) {
        x[self.state] = x[self.state].clamp(self.lo, self.hi);
    }

    fn extra_outputs(&self) -> Vec<String> {
        vec![format!("i({})", self.name)]
    }

    fn extra_values(&self, x: &[f64], out: &mut Vec<f64>) {
        let v = volt(x, self.a) - volt(x, self.b);
        out.push(self.model.current(v, x[self.state]));
    }

    fn ac_extra_values(&self, op: &[f64], x: &[c64], out: &mut Vec<c64>) {
        // Small-signal current through the conductance at the operating
        // point; the state's phasor is zero (frozen), but kept for form.
        let v = volt(op, self.a) - volt(op, self.b);
        let xs = op[self.state];
        let phasor = |n: Unknown| n.map_or(c64::new(0.0, 0.0), |i| x[i]);
        let dv = phasor(self.a) - phasor(self.b);
        out.push(dv * self.model.conductance(v, xs) + x[self.state] * self.model.current_dx(v, xs));
    }
}

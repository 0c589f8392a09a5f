//! Linear capacitor: open at DC, admittance `jωC` in AC, integrated charge
//! `q = C·v` in a transient.

use xbar_netlist::Element;

use super::{finite, nodes, Device, Link, LinkKind, LoadCtx, NodeMap, Phase, Setup, States};
use crate::error::NodalError;
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};

#[derive(Debug)]
pub struct Capacitor {
    name: String,
    a: Unknown,
    b: Unknown,
    c: f64,
    ic: Option<f64>,
    slots: [Slot; 4],
    q: usize,
}

impl Capacitor {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        capacitance: f64,
        ic: Option<f64>,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let c = finite(e, "capacitance", capacitance)?;
        if let Some(v) = ic {
            finite(e, "ic", v)?;
        }
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            c,
            ic,
            slots: [Slot::default(); 4],
            q: 0,
        })
    }
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

impl Device for Capacitor {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        vec![Link {
            a: self.a,
            b: self.b,
            kind: LinkKind::Capacitive,
        }]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        self.slots = s.pattern.pair(self.a, self.b);
        self.q = s.charge();
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let v = volt(x, self.a) - volt(x, self.b);
        match ctx.phase {
            Phase::Dc => {
                // Remember the charge so the transient starts from the
                // operating point.
                st.levels[0][self.q] = self.c * v;
                st.levels[0][self.q + 1] = 0.0;
            }
            Phase::UicStart => {
                st.levels[0][self.q] = self.c * self.ic.unwrap_or(v);
                st.levels[0][self.q + 1] = 0.0;
            }
            Phase::Tran(integ) => {
                st.levels[0][self.q] = self.c * v;
                let (geq, ceq) = integ.integrate(st, self.q, self.c);
                m.conductance(&self.slots, geq);
                m.current(self.a, self.b, ceq);
            }
        }
        true
    }

    fn ac_load(&self, omega: f64, _: &States, m: &mut AcStamp<'_>) {
        m.admittance(&self.slots, 0.0, omega * self.c);
    }
}

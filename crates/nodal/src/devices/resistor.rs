//! Linear resistor.

use xbar_netlist::Element;

use super::{finite, nodes, Device, Link, LinkKind, NodeMap, Setup, States};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};

#[derive(Debug)]
pub struct Resistor {
    name: String,
    a: Unknown,
    b: Unknown,
    g: f64,
    slots: [Slot; 4],
}

impl Resistor {
    pub fn new(e: &Element, map: &NodeMap, resistance: f64) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let r = finite(e, "resistance", resistance)?;
        if r == 0.0 {
            return Err(super::bad(e, "resistance must not be zero".into()));
        }
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            g: 1.0 / r,
            slots: [Slot::default(); 4],
        })
    }
}

impl Device for Resistor {
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
        self.slots = s.pattern.pair(self.a, self.b);
    }

    fn load(
        &mut self,
        _: &super::LoadCtx<'_>,
        _: &[f64],
        _: &mut States,
        m: &mut Stamp<'_>,
    ) -> bool {
        m.conductance(&self.slots, self.g);
        true
    }
}

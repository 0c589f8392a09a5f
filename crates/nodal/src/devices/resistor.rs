//! Linear resistor; in AC its `ac=` resistance when the deck gives one.

use xbar_netlist::Element;

use super::{finite, nodes, Device, Link, LinkKind, NodeMap, Setup, States};
use crate::error::NodalError;
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};

#[derive(Debug)]
pub struct Resistor {
    name: String,
    a: Unknown,
    b: Unknown,
    g: f64,
    /// Conductance in AC (instance `ac=`), when it differs from `g`.
    g_ac: Option<f64>,
    slots: [Slot; 4],
}

impl Resistor {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        resistance: f64,
        ac: Option<f64>,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let r = finite(e, "resistance", resistance)?;
        if r == 0.0 {
            return Err(super::bad(e, "resistance must not be zero".into()));
        }
        let g_ac = match ac {
            Some(r_ac) => {
                if finite(e, "ac", r_ac)? == 0.0 {
                    return Err(super::bad(e, "ac resistance must not be zero".into()));
                }
                Some(1.0 / r_ac)
            }
            None => None,
        };
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            g: 1.0 / r,
            g_ac,
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

    fn ac_load(&self, _: f64, _: &States, m: &mut AcStamp<'_>) {
        if let Some(g_ac) = self.g_ac {
            m.admittance(&self.slots, g_ac - self.g, 0.0);
        }
    }
}

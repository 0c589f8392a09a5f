//! Independent current source: current flows from n+ through the source
//! to n- (SPICE convention).

use xbar_netlist::{Element, Source};

use super::vsource::{check_source, value};
use super::{nodes, Device, Link, LoadCtx, NodeMap, Setup, States};
use crate::error::NodalError;
use crate::matrix::{Stamp, Unknown};
use crate::waveform::{self, TranSpan};

#[derive(Debug)]
pub struct CurrentSource {
    name: String,
    a: Unknown,
    b: Unknown,
    src: Source,
    sweep: Option<f64>,
}

impl CurrentSource {
    pub fn new(e: &Element, map: &NodeMap, src: &Source) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        check_source(e, src)?;
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            src: src.clone(),
            sweep: None,
        })
    }
}

impl Device for CurrentSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        Vec::new()
    }

    fn setup(&mut self, _: &mut Setup<'_>) {}

    fn load(&mut self, ctx: &LoadCtx<'_>, _: &[f64], _: &mut States, m: &mut Stamp<'_>) -> bool {
        m.current(self.a, self.b, value(&self.src, self.sweep, ctx));
        true
    }

    fn breakpoints(&self, span: TranSpan, limit: usize) -> Vec<f64> {
        self.src
            .waveform
            .as_ref()
            .map(|w| waveform::breakpoints(w, span, limit))
            .unwrap_or_default()
    }

    fn sweep(&mut self, value: Option<f64>) -> bool {
        self.sweep = value;
        true
    }

    fn source_kind(&self) -> Option<bool> {
        Some(false)
    }
}

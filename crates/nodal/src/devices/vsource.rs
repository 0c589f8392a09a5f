//! Independent voltage source with its branch current as an extra unknown
//! (`i(name)`: current entering the + terminal through the source).

use xbar_netlist::{Element, Source};

use super::{finite, nodes, Device, Link, LinkKind, LoadCtx, NodeMap, Setup, States, UnknownKind};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};
use crate::waveform::{self, SourceMode, TranSpan};

#[derive(Debug)]
pub struct VoltageSource {
    name: String,
    a: Unknown,
    b: Unknown,
    src: Source,
    sweep: Option<f64>,
    branch: usize,
    /// (a,j) (b,j) (j,a) (j,b)
    slots: [Slot; 4],
}

/// Validates a source's numbers, shared with the current source.
pub(super) fn check_source(e: &Element, src: &Source) -> Result<(), NodalError> {
    finite(e, "dc", src.dc)?;
    if let Some(w) = &src.waveform {
        for (name, v) in waveform::fields(w) {
            finite(e, name, v)?;
        }
        if let xbar_netlist::Waveform::Pwl(points) = w {
            if points.windows(2).any(|p| p[1].0 < p[0].0) {
                return Err(super::bad(e, "PWL times must not decrease".into()));
            }
        }
    }
    Ok(())
}

/// Value of `src` in the present analysis, with sweep override and
/// source-stepping factor.
pub(super) fn value(src: &Source, sweep: Option<f64>, ctx: &LoadCtx<'_>) -> f64 {
    let v = match (sweep, ctx.sources) {
        (Some(v), SourceMode::Dc) => v,
        _ => waveform::source_value(src, ctx.sources),
    };
    v * ctx.src_fact
}

impl VoltageSource {
    pub fn new(e: &Element, map: &NodeMap, src: &Source) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        check_source(e, src)?;
        Ok(Self {
            name: e.name.clone(),
            a: n[0],
            b: n[1],
            src: src.clone(),
            sweep: None,
            branch: 0,
            slots: [Slot::default(); 4],
        })
    }
}

impl Device for VoltageSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        vec![Link {
            a: self.a,
            b: self.b,
            kind: LinkKind::VoltageSource,
        }]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        self.branch = s.unknown(format!("i({})", self.name), UnknownKind::Current, true);
        let j = Some(self.branch);
        self.slots = [
            s.pattern.entry(self.a, j),
            s.pattern.entry(self.b, j),
            s.pattern.entry(j, self.a),
            s.pattern.entry(j, self.b),
        ];
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, _: &[f64], _: &mut States, m: &mut Stamp<'_>) -> bool {
        m.add(self.slots[0], 1.0);
        m.add(self.slots[1], -1.0);
        m.add(self.slots[2], 1.0);
        m.add(self.slots[3], -1.0);
        m.rhs(Some(self.branch), value(&self.src, self.sweep, ctx));
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
        Some(true)
    }
}

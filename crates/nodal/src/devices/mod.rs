//! The device interface and one module per device. A device owns its setup
//! (unknowns, matrix entries, state slots), its load (the Newton companion
//! model: Jacobian entries and right-hand side at the present iterate) and
//! its breakpoints; the engine owns the solve, integration history and step
//! control. Adding a device is one new module plus one arm in [`build`].

mod behavioral;
mod bjt;
mod capacitor;
mod controlled;
mod diode;
mod inductor;
mod isource;
mod junction;
mod limit;
mod memristor;
mod mosfet;
mod resistor;
mod vsource;

use std::collections::HashMap;

use faer::c64;
use xbar_memristor::{CardError, CompactModel};
use xbar_netlist::{Circuit, Element, ElementKind, Model};

use crate::error::NodalError;
use crate::matrix::{AcStamp, PatternBuilder, Stamp, Unknown};
use crate::options::{Method, Options};
use crate::waveform::{SourceMode, TranSpan};

/// Boltzmann constant over electron charge times ngspice's default 27 °C:
/// the thermal voltage every junction uses (ngspice's const.h values).
pub const VT_NOMINAL: f64 = 1.380_648_52e-23 / 1.602_176_620_8e-19 * 300.15;

/// What kind of quantity an unknown is; sets its convergence tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownKind {
    Node,
    Current,
    /// A device state with its absolute convergence tolerance.
    State {
        abstol: f64,
    },
}

#[derive(Debug, Clone)]
pub struct UnknownInfo {
    /// Output vector name (`v(n1)`, `i(v1)`, `x(y1)`) or, for internal
    /// unknowns, a descriptive name used in error messages.
    pub name: String,
    pub kind: UnknownKind,
    /// Whether the unknown is written as an output column.
    pub output: bool,
}

/// How an element connects two nodes, for the connectivity checks that run
/// before any factorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Conducts at DC (resistor, junction, channel, memristor).
    Conductive,
    /// Conducts only in a transient (capacitor).
    Capacitive,
    /// Fixes the voltage between its nodes.
    VoltageSource,
}

#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub a: Unknown,
    pub b: Unknown,
    pub kind: LinkKind,
}

/// Per-device storage the engine keeps across accepted time points:
/// `levels[0]` is the present iterate, `levels[k]` the k-th previous accepted
/// time point.
#[derive(Debug, Clone)]
pub struct States {
    pub levels: Vec<Vec<f64>>,
}

/// Number of history levels kept (enough for order-2 truncation error).
pub const STATE_LEVELS: usize = 4;

impl States {
    pub fn new(n: usize) -> Self {
        Self {
            levels: vec![vec![0.0; n]; STATE_LEVELS],
        }
    }

    /// Makes every history level equal to the present one (start of a
    /// transient: the circuit has been at rest).
    pub fn flatten(&mut self) {
        let (now, hist) = self.levels.split_at_mut(1);
        for h in hist {
            h.copy_from_slice(&now[0]);
        }
    }

    /// Shifts history after an accepted time point.
    pub fn rotate(&mut self) {
        self.levels.rotate_right(1);
        let (now, hist) = self.levels.split_at_mut(1);
        now[0].copy_from_slice(&hist[0]);
    }
}

/// What setup gives a device: matrix entries, extra unknowns, state slots.
pub struct Setup<'a> {
    pub pattern: &'a mut PatternBuilder,
    pub unknowns: &'a mut Vec<UnknownInfo>,
    n_states: &'a mut usize,
    charges: &'a mut Vec<usize>,
}

impl<'a> Setup<'a> {
    pub fn new(
        pattern: &'a mut PatternBuilder,
        unknowns: &'a mut Vec<UnknownInfo>,
        n_states: &'a mut usize,
        charges: &'a mut Vec<usize>,
    ) -> Self {
        Self {
            pattern,
            unknowns,
            n_states,
            charges,
        }
    }

    /// A new unknown (branch current, internal node, state).
    pub fn unknown(&mut self, name: String, kind: UnknownKind, output: bool) -> usize {
        self.unknowns.push(UnknownInfo { name, kind, output });
        self.unknowns.len() - 1
    }

    /// The branch-current unknown `i(element)` of an element that has one
    /// (voltage sources, E and H sources, inductors).
    pub fn branch(&self, element: &str) -> Option<usize> {
        let name = format!("i({element})");
        self.unknowns
            .iter()
            .position(|u| u.kind == UnknownKind::Current && u.name == name)
    }

    /// `n` plain state slots.
    pub fn states(&mut self, n: usize) -> usize {
        *self.n_states += n;
        *self.n_states - n
    }

    /// A charge slot `q` and its current `q + 1`, integrated by
    /// [`Integrator::integrate`] and watched by the truncation-error control.
    pub fn charge(&mut self) -> usize {
        let q = self.states(2);
        self.charges.push(q);
        q
    }
}

/// Numerical integration coefficients of the present time step.
#[derive(Debug, Clone, Copy)]
pub struct Integrator {
    pub method: Method,
    pub order: usize,
    /// `ag[0]·q0 + ag[1]·q1 + ag[2]·q2` (Gear) or the trapezoidal recursion
    /// uses these; `ag[0]` is the companion conductance factor.
    pub ag: [f64; 3],
}

impl Integrator {
    /// Coefficients for a step `h` after previous step `h_prev`.
    pub fn new(method: Method, order: usize, h: f64, h_prev: f64) -> Self {
        let ag = match (method, order) {
            (_, 1) => [1.0 / h, -1.0 / h, 0.0],
            (Method::Trapezoidal, _) => [2.0 / h, -2.0 / h, 0.0],
            (Method::Gear, _) => {
                let s = h + h_prev;
                [
                    (2.0 * h + h_prev) / (h * s),
                    -s / (h * h_prev),
                    h / (h_prev * s),
                ]
            }
        };
        Self { method, order, ag }
    }

    /// Integrates the charge in slot `q` (already written to `levels[0]`):
    /// stores its current `dq/dt` in slot `q + 1` and returns the companion
    /// `(geq, ceq)` with `i ≈ geq·v + ceq` for a charge of incremental
    /// capacitance `cap`.
    pub fn integrate(&self, st: &mut States, q: usize, cap: f64) -> (f64, f64) {
        let q0 = st.levels[0][q];
        let q1 = st.levels[1][q];
        let i = match (self.method, self.order) {
            (_, 1) => self.ag[0] * q0 + self.ag[1] * q1,
            (Method::Trapezoidal, _) => self.ag[0] * (q0 - q1) - st.levels[1][q + 1],
            (Method::Gear, _) => self.ag[0] * q0 + self.ag[1] * q1 + self.ag[2] * st.levels[2][q],
        };
        st.levels[0][q + 1] = i;
        (self.ag[0] * cap, i - self.ag[0] * q0)
    }
}

/// Which analysis is loading the circuit.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// DC operating point or sweep point: capacitors open, states frozen.
    Dc,
    /// First point of a `uic` transient: capacitors hold their `ic`.
    UicStart,
    /// A transient time step.
    Tran(Integrator),
}

/// Where a Newton iteration stands, as ngspice's INITF modes: junction
/// devices pick their linearization voltages from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// First iteration of a fresh DC solve: standard junction guesses.
    Junction,
    /// Second iteration of a fresh DC solve.
    Fix,
    /// Ordinary iteration: voltages from the present iterate, limited
    /// against the last load.
    Float,
    /// First iteration at a new sweep point or time point: junction
    /// voltages extrapolated from the last two accepted points,
    /// `(1 + xfact)·s1 - xfact·s2`.
    Predict { xfact: f64 },
    /// First iteration of the first time step: junctions at the
    /// operating point.
    Tran,
}

/// Everything a device needs to load itself.
#[derive(Debug, Clone, Copy)]
pub struct LoadCtx<'a> {
    pub phase: Phase,
    pub sources: SourceMode,
    /// Source-stepping factor applied to every independent source.
    pub src_fact: f64,
    pub opts: &'a Options,
    pub init: Init,
}

/// A junction-type voltage for this iteration, as ngspice's device loads
/// choose it: `fresh` from the iterate, the accepted value in `slot` at the
/// start of a transient, or an extrapolation of the accepted history.
/// Returns the voltage and the value to limit against (`None`: no limiting,
/// which SPICE counts as "not converged").
pub fn junction_voltage(
    ctx: &LoadCtx<'_>,
    st: &mut States,
    slot: usize,
    fresh: f64,
    guess: f64,
) -> (f64, Option<f64>) {
    match ctx.init {
        Init::Junction => (guess, None),
        Init::Tran => (st.levels[1][slot], None),
        Init::Predict { xfact } => {
            let (s1, s2) = (st.levels[1][slot], st.levels[2][slot]);
            st.levels[0][slot] = s1;
            ((1.0 + xfact) * s1 - xfact * s2, Some(s1))
        }
        Init::Fix | Init::Float => (fresh, Some(st.levels[0][slot])),
    }
}

/// One circuit element as the engine sees it.
pub trait Device: Send + std::fmt::Debug {
    fn name(&self) -> &str;

    /// Node connections, for floating-node and source-loop detection.
    fn links(&self) -> Vec<Link>;

    /// Registers matrix entries, extra unknowns and state slots.
    fn setup(&mut self, s: &mut Setup<'_>);

    /// Registers what refers to other devices' unknowns (a B source's
    /// `I(vname)`); runs after every device's [`Device::setup`].
    fn setup_references(&mut self, _s: &mut Setup<'_>) -> Result<(), NodalError> {
        Ok(())
    }

    /// Why the last load could not evaluate the device (a behavioural
    /// expression out of its domain), as a complete message; asked only
    /// after a solve failed.
    fn fault(&self) -> Option<String> {
        None
    }

    /// Stamps the companion model linearized at iterate `x`. Returns `false`
    /// when the device is not yet self-consistent (voltage limiting applied
    /// or its current prediction missed), which keeps Newton iterating.
    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool;

    /// Small-signal load at angular frequency `omega` (rad/s). The real part
    /// of `m` already holds the device's DC Jacobian from its load at the
    /// operating point, and `st.levels[0]` the states that load wrote (its
    /// junction voltages, charges); add `jω·C` of every capacitance (and any
    /// AC-only change of a conductance) and, for a source, its AC phasor.
    /// The default adds nothing: right for memoryless devices.
    fn ac_load(&self, _omega: f64, _st: &States, _m: &mut AcStamp<'_>) {}

    /// Writes the device's own unknowns' starting values (a `uic` transient
    /// starts from these instead of an operating point).
    fn initial_guess(&self, _x: &mut [f64]) {}

    /// Whether the device's stamps depend on the solution.
    fn is_nonlinear(&self) -> bool {
        false
    }

    /// Times the transient must hit exactly (source corners), at most
    /// `limit + 1` of them (more cannot fit in the run's point limit).
    fn breakpoints(&self, _span: TranSpan, _limit: usize) -> Vec<f64> {
        Vec::new()
    }

    /// Projects a Newton update back into the device's admissible region
    /// (memristor state bounds).
    fn project(&self, _x: &mut [f64]) {}

    /// Extra output vectors beyond the unknowns (memristor current).
    fn extra_outputs(&self) -> Vec<String> {
        Vec::new()
    }

    fn extra_values(&self, _x: &[f64], _out: &mut Vec<f64>) {}

    /// Phasors of the extra output vectors in an AC analysis, from the AC
    /// solution `x` about the operating point `op`; a device with
    /// [`Device::extra_outputs`] pushes one per output.
    fn ac_extra_values(&self, _op: &[f64], _x: &[c64], _out: &mut Vec<c64>) {}

    /// Sets (`Some`) or restores (`None`) the DC value of an independent
    /// source for a DC sweep; `false` for anything that is not a source.
    fn sweep(&mut self, _value: Option<f64>) -> bool {
        false
    }

    /// `Some(true)` for a voltage source, `Some(false)` for a current source.
    fn source_kind(&self) -> Option<bool> {
        None
    }
}

/// Node name to unknown index; ground is `"0"`.
#[derive(Debug, Default)]
pub struct NodeMap {
    pub index: HashMap<String, usize>,
    pub names: Vec<String>,
}

impl NodeMap {
    pub fn from_circuit(c: &Circuit) -> Self {
        let mut m = Self::default();
        for e in &c.elements {
            for n in &e.nodes {
                if n != "0" && !m.index.contains_key(n) {
                    m.index.insert(n.clone(), m.names.len());
                    m.names.push(n.clone());
                }
            }
        }
        m
    }

    pub fn get(&self, name: &str) -> Unknown {
        if name == "0" {
            None
        } else {
            self.index.get(name).copied()
        }
    }
}

/// The element's nodes resolved, checking their count.
fn nodes(e: &Element, map: &NodeMap, expected: usize) -> Result<Vec<Unknown>, NodalError> {
    if e.nodes.len() != expected {
        return Err(NodalError::NodeCount {
            element: e.name.clone(),
            expected,
            got: e.nodes.len(),
            loc: Box::new(e.loc.clone()),
        });
    }
    Ok(e.nodes.iter().map(|n| map.get(n)).collect())
}

/// Rejects a NaN or infinite element parameter by name.
fn finite(e: &Element, param: &str, value: f64) -> Result<f64, NodalError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NodalError::NonFiniteParameter {
            element: e.name.clone(),
            param: param.into(),
            value,
            loc: Box::new(e.loc.clone()),
        })
    }
}

fn bad(e: &Element, message: String) -> NodalError {
    NodalError::BadParameter {
        element: e.name.clone(),
        message,
        loc: Box::new(e.loc.clone()),
    }
}

/// The model card an element refers to, checked for its kind.
fn model<'c>(
    c: &'c Circuit,
    e: &Element,
    name: &str,
    kinds: &[&str],
) -> Result<&'c Model, NodalError> {
    let m = c.models.get(name).ok_or_else(|| NodalError::UnknownModel {
        element: e.name.clone(),
        model: name.into(),
        loc: Box::new(e.loc.clone()),
    })?;
    if !kinds.contains(&m.kind.as_str()) {
        return Err(NodalError::WrongModelKind {
            element: e.name.clone(),
            model: name.into(),
            expected: kinds.join("|"),
            found: m.kind.clone(),
            loc: Box::new(e.loc.clone()),
        });
    }
    Ok(m)
}

/// Reads numeric model parameters with defaults, rejecting non-finite values
/// and parameters the device does not know.
struct ModelParams<'m> {
    model: &'m Model,
}

impl<'m> ModelParams<'m> {
    fn new(model: &'m Model, known: &[&str]) -> Result<Self, NodalError> {
        if let Some((k, word)) = model.words.iter().next() {
            let why = if known.contains(&k.as_str()) {
                "expects a number"
            } else {
                "not a parameter of this model type"
            };
            return Err(NodalError::BadModelWord {
                model: model.name.clone(),
                param: k.clone(),
                word: word.clone(),
                why: why.into(),
                loc: Box::new(model.loc.clone()),
            });
        }
        for (k, &v) in &model.params {
            if !known.contains(&k.as_str()) {
                return Err(Self::error(
                    model,
                    k,
                    v,
                    "not a parameter of this model type",
                ));
            }
            if !v.is_finite() {
                return Err(Self::error(model, k, v, "not a finite number"));
            }
        }
        Ok(Self { model })
    }

    fn error(model: &Model, param: &str, value: f64, why: &str) -> NodalError {
        NodalError::BadModelParameter {
            model: model.name.clone(),
            param: param.into(),
            value,
            why: why.into(),
            loc: Box::new(model.loc.clone()),
        }
    }

    fn get(&self, name: &str, default: f64) -> f64 {
        self.model.params.get(name).copied().unwrap_or(default)
    }

    fn given(&self, name: &str) -> Option<f64> {
        self.model.params.get(name).copied()
    }

    /// A parameter that must satisfy `ok`.
    fn checked(
        &self,
        name: &str,
        default: f64,
        ok: impl Fn(f64) -> bool,
        why: &str,
    ) -> Result<f64, NodalError> {
        let v = self.get(name, default);
        if ok(v) {
            Ok(v)
        } else {
            Err(Self::error(self.model, name, v, why))
        }
    }
}

/// Turns a `.model ... memristor` card into a compact model.
pub type MemristorResolver<'r> = dyn Fn(&Model) -> Result<Box<dyn CompactModel>, CardError> + 'r;

/// Builds every element of `c` as a device, in deck order; inductors joined
/// by couplings become one device at the place of the first of them.
pub fn build(
    c: &Circuit,
    map: &NodeMap,
    opts: &Options,
    memristors: &MemristorResolver<'_>,
) -> Result<Vec<Box<dyn Device>>, NodalError> {
    let mut groups = inductor_groups(c, map)?;
    let mut devices: Vec<Box<dyn Device>> = Vec::with_capacity(c.elements.len());
    for (k, e) in c.elements.iter().enumerate() {
        devices.push(match &e.kind {
            ElementKind::Resistor { resistance, ac } => {
                Box::new(resistor::Resistor::new(e, map, *resistance, *ac)?)
            }
            ElementKind::Capacitor { capacitance, ic } => {
                Box::new(capacitor::Capacitor::new(e, map, *capacitance, *ic)?)
            }
            ElementKind::Inductor { .. } => match groups.remove(&k) {
                Some(group) => Box::new(group),
                None => continue,
            },
            ElementKind::Coupling { .. } => continue,
            ElementKind::VoltageSource(src) => Box::new(vsource::VoltageSource::new(e, map, src)?),
            ElementKind::CurrentSource(src) => Box::new(isource::CurrentSource::new(e, map, src)?),
            ElementKind::Vcvs(poly) => Box::new(controlled::Controlled::new(
                e,
                map,
                controlled::Output::Voltage,
                poly,
                &[],
            )?),
            ElementKind::Vccs(poly) => Box::new(controlled::Controlled::new(
                e,
                map,
                controlled::Output::Current,
                poly,
                &[],
            )?),
            ElementKind::Ccvs { controls, poly } => Box::new(controlled::Controlled::new(
                e,
                map,
                controlled::Output::Voltage,
                poly,
                controls,
            )?),
            ElementKind::Cccs { controls, poly } => Box::new(controlled::Controlled::new(
                e,
                map,
                controlled::Output::Current,
                poly,
                controls,
            )?),
            ElementKind::Diode { model: m, area } => {
                let card = model(c, e, m, &["d"])?;
                Box::new(diode::Diode::new(e, map, card, *area, opts)?)
            }
            ElementKind::Mosfet {
                model: m,
                w,
                l,
                geometry,
            } => {
                let card = model(c, e, m, &["nmos", "pmos"])?;
                Box::new(mosfet::Mosfet::new(e, map, card, *w, *l, geometry, opts)?)
            }
            ElementKind::Bjt { model: m, area } => {
                let card = model(c, e, m, &["npn", "pnp"])?;
                Box::new(bjt::Bjt::new(e, map, card, *area, opts)?)
            }
            ElementKind::Memristor {
                model: m,
                x0,
                instance,
            } => {
                let card = model(c, e, m, &["memristor"])?;
                let resolved = if instance.is_empty() {
                    memristors(card)
                } else {
                    // Xyce's instance parameters complete this element's card.
                    let mut own = card.clone();
                    own.params
                        .extend(instance.iter().map(|(k, v)| (k.clone(), *v)));
                    memristors(&own)
                };
                let compact = resolved.map_err(|source| NodalError::MemristorModel {
                    element: e.name.clone(),
                    model: m.clone(),
                    loc: Box::new(e.loc.clone()),
                    source,
                })?;
                Box::new(memristor::Memristor::new(e, map, compact, *x0)?)
            }
            ElementKind::Behavioral { quantity, expr } => {
                // ngspice's default temperature, 27 °C, unless `.options temp`.
                let temper = c.options.get("temp").copied().unwrap_or(27.0);
                Box::new(behavioral::Behavioral::new(
                    e, map, *quantity, expr, opts.gmin, temper,
                )?)
            }
        });
    }
    Ok(devices)
}

/// The inductors of `c` grouped by their couplings, keyed by the element
/// index of each group's first inductor.
fn inductor_groups(
    c: &Circuit,
    map: &NodeMap,
) -> Result<HashMap<usize, inductor::Inductors>, NodalError> {
    let mut index = HashMap::new();
    let mut windings = Vec::new();
    for (k, e) in c.elements.iter().enumerate() {
        if let ElementKind::Inductor { inductance, ic } = &e.kind {
            let n = nodes(e, map, 2)?;
            let l = finite(e, "inductance", *inductance)?;
            if l == 0.0 {
                return Err(bad(e, "inductance must not be zero".into()));
            }
            if let Some(i) = ic {
                finite(e, "ic", *i)?;
            }
            index.insert(e.name.as_str(), windings.len());
            windings.push((
                k,
                inductor::Winding::new(e.name.clone(), n[0], n[1], l, *ic),
            ));
        }
    }
    // Union-find over windings; each coupling joins two.
    let mut parent: Vec<usize> = (0..windings.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut couplings = Vec::new();
    for e in &c.elements {
        let ElementKind::Coupling {
            inductors,
            coefficient,
        } = &e.kind
        else {
            continue;
        };
        let k = finite(e, "coupling coefficient", *coefficient)?;
        if k == 0.0 || k.abs() > 1.0 {
            return Err(bad(
                e,
                format!("coupling coefficient {k} must satisfy 0 < |k| <= 1"),
            ));
        }
        let mut ends = [0usize; 2];
        for (end, name) in ends.iter_mut().zip(inductors) {
            *end = *index
                .get(name.as_str())
                .ok_or_else(|| bad(e, format!("`{name}` is not an inductor of the circuit")))?;
        }
        if ends[0] == ends[1] {
            return Err(bad(e, "couples an inductor with itself".into()));
        }
        let (li, lj) = (
            windings[ends[0]].1.inductance,
            windings[ends[1]].1.inductance,
        );
        couplings.push((ends, k * (li * lj).abs().sqrt()));
        let (ri, rj) = (root(&mut parent, ends[0]), root(&mut parent, ends[1]));
        parent[ri] = rj;
    }
    // Members of each group in deck order, and each winding's place in it.
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for w in 0..windings.len() {
        members.entry(root(&mut parent, w)).or_default().push(w);
    }
    let mut place = vec![0usize; windings.len()];
    for list in members.values() {
        for (p, &w) in list.iter().enumerate() {
            place[w] = p;
        }
    }
    let mut mutuals: HashMap<usize, Vec<inductor::Mutual>> = HashMap::new();
    for ([i, j], m) in couplings {
        let r = root(&mut parent, i);
        mutuals
            .entry(r)
            .or_default()
            .push(inductor::Mutual::new(place[i], place[j], m));
    }
    let mut slots: Vec<Option<(usize, inductor::Winding)>> =
        windings.into_iter().map(Some).collect();
    let mut groups = HashMap::new();
    for (r, list) in members {
        let mut first = usize::MAX;
        let mut group = Vec::with_capacity(list.len());
        for w in list {
            if let Some((k, winding)) = slots[w].take() {
                first = first.min(k);
                group.push(winding);
            }
        }
        let m = mutuals.remove(&r).unwrap_or_default();
        groups.insert(first, inductor::Inductors::new(group, m));
    }
    Ok(groups)
}

//! The flat circuit description a deck elaborates to: every subcircuit expanded,
//! every parameter and expression evaluated to a number, every name lower-cased.
//! This is the contract between the parser and the numerical engine (`xbar-nodal`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::expr::Expr;

/// Where a piece of the deck came from, for error messages and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceLoc {
    pub file: PathBuf,
    /// 1-based line number of the first physical line of the logical line;
    /// 0 when the error concerns the whole file.
    pub line: usize,
}

impl std::fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Line 0 means "the file as a whole" (it could not be read).
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// A fully elaborated deck.
#[derive(Debug, Clone, Default)]
pub struct Circuit {
    pub title: String,
    /// Flattened elements in deck order; subcircuit contents expanded in place.
    pub elements: Vec<Element>,
    /// Model cards by lower-cased name (subcircuit-local models already renamed
    /// to be unique).
    pub models: BTreeMap<String, Model>,
    /// Analyses in deck order.
    pub analyses: Vec<Analysis>,
    /// `.options` that were given, lower-cased names (known numeric ones only:
    /// reltol abstol vntol chgtol trtol gmin itl1 itl2 itl4 temp tnom maxord;
    /// `method` is [`Circuit::method`]; unknown ones become warnings).
    pub options: BTreeMap<String, f64>,
    /// `.save` vectors; empty means "everything".
    pub saves: Vec<OutputVector>,
    /// `.print` requests (kept so the CLI can honour them).
    pub prints: Vec<OutputVector>,
    /// Non-fatal diagnostics (unknown option, ...), each with its place.
    pub warnings: Vec<Diagnostic>,
    /// Transient integration method from `.options method=trap|gear`.
    pub method: IntegrationMethod,
    /// `.ic v(node)=value`, in deck order (a later value for a node wins).
    /// As in ngspice: a transient's operating point holds these nodes at
    /// their values; with `uic` they are the starting node voltages (and
    /// the initial voltage of capacitors without their own `ic=`).
    pub initial_conditions: Vec<(String, f64)>,
    /// `.nodeset v(node)=value`: as in ngspice, the first two Newton
    /// iterations of an operating point hold these nodes at their values,
    /// then they are released (an initial guess, not a constraint).
    pub nodesets: Vec<(String, f64)>,
    /// `.meas` statements in deck order.
    pub measures: Vec<crate::measure::Measure>,
    /// Top-level `.param` values (those that evaluate), for `.meas param=`
    /// and `.control` expressions.
    pub params: BTreeMap<String, f64>,
    /// The `.control` block's lines, unparsed (the interpreter parses each
    /// line when it runs it, as ngspice does).
    pub control: Vec<ControlLine>,
}

/// One logical line of a `.control` block, as written (case kept: file
/// names need it).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlLine {
    pub loc: SourceLoc,
    pub text: String,
}

/// `.options method=`: ngspice integrates with the trapezoidal rule unless
/// told `gear`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntegrationMethod {
    #[default]
    Trapezoidal,
    Gear,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub loc: SourceLoc,
    pub message: String,
}

/// A vector name as ngspice spells it: `v(node)`, `v(a,b)`, `i(vname)`, `x(ymem)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutputVector {
    /// Node voltage; `v(a,b)` is the difference `v(a) - v(b)`.
    Voltage(String, Option<String>),
    /// Current through a voltage source (or other branch element), ngspice's sign.
    Current(String),
    /// Internal state of a device (memristor state `x(name)`).
    State(String),
}

impl std::fmt::Display for OutputVector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputVector::Voltage(a, None) => write!(f, "v({a})"),
            OutputVector::Voltage(a, Some(b)) => write!(f, "v({a},{b})"),
            OutputVector::Current(name) => write!(f, "i({name})"),
            OutputVector::State(name) => write!(f, "x({name})"),
        }
    }
}

/// One flattened element. Node names are lower-cased; ground is `"0"`
/// (`gnd` is mapped to `"0"`); subcircuit-internal nodes are `x1.node`
/// (nested: `x1.x2.node`) as ngspice names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Flattened lower-cased name as ngspice prints it in vector names
    /// (e.g. `v1`, or for an element `v1` inside instance `x1`: `v.x1.v1`).
    pub name: String,
    pub nodes: Vec<String>,
    pub kind: ElementKind,
    pub loc: SourceLoc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ElementKind {
    /// Nodes: n+ n-. Resistance in ohms, never 0: like ngspice, the parser
    /// replaces 0 by 1 mOhm (with a warning). Negative values are allowed.
    ///
    /// Both values are at the resistor's temperature: a `.model ... r` card
    /// (`rsh`, `defw`, `narrow`, `short`, `tc1`, `tc2`, `tnom`) and the
    /// instance's `l=`, `w=`, `tc1=`, `tc2=`, `temp=`, `dtemp=` are applied
    /// during elaboration, as ngspice's resistor setup and temperature
    /// update do. `ac` is the resistance `.ac` uses (instance `ac=`).
    Resistor { resistance: f64, ac: Option<f64> },
    /// Nodes: n+ n-. `ic` is the initial voltage used with `uic`.
    Capacitor { capacitance: f64, ic: Option<f64> },
    /// Nodes: n+ n-. Inductance in henries; `ic` is the initial current
    /// (from n+ through the inductor to n-) used with `uic`. Its branch
    /// current is the vector `i(name)`.
    Inductor { inductance: f64, ic: Option<f64> },
    /// `Kname L1 L2 k`: magnetic coupling of two inductors (flattened
    /// element names) with coefficient `k`, `0 < |k| <= 1`; mutual
    /// inductance `M = k·sqrt(L1·L2)`. No nodes.
    Coupling {
        inductors: [String; 2],
        coefficient: f64,
    },
    /// Nodes: n+ n-.
    VoltageSource(Source),
    /// Nodes: n+ n-. Current flows from n+ through the source to n- (SPICE convention).
    CurrentSource(Source),
    /// Nodes: anode cathode. `model` names a `.model ... d` card.
    Diode { model: String, area: f64 },
    /// Nodes: drain gate source bulk. `model` names a `.model ... nmos|pmos` card.
    Mosfet {
        model: String,
        /// Channel width and length in metres; `None` means the model default.
        w: Option<f64>,
        l: Option<f64>,
        /// Drain and source junction geometry.
        geometry: MosGeometry,
    },
    /// `E n+ n- nc+ nc- gain` or `E n+ n- POLY(n) nc1+ nc1- ... p0 p1 ...`:
    /// voltage-controlled voltage source. Nodes: n+ n- then the controlling
    /// pairs; the output voltage is `poly` of the controlling voltages and
    /// the branch current is `i(name)`, as for a voltage source.
    Vcvs(Polynomial),
    /// `G ...` (same forms as `E`): voltage-controlled current source; the
    /// current flows from n+ through the source to n-.
    Vccs(Polynomial),
    /// `H n+ n- vcontrol transres` or `H n+ n- POLY(n) v1 ... vn p0 ...`:
    /// current-controlled voltage source; `controls` name the elements
    /// whose branch currents (ngspice's sign: into their + terminal) are
    /// the polynomial's variables. Nodes: n+ n-.
    Ccvs {
        controls: Vec<String>,
        poly: Polynomial,
    },
    /// `F ...` (same forms as `H`): current-controlled current source.
    Cccs {
        controls: Vec<String>,
        poly: Polynomial,
    },
    /// Nodes: collector base emitter substrate (the substrate is `"0"` when
    /// the instance names three nodes, as in ngspice). `model` names a
    /// `.model ... npn|pnp` card; `area` scales the device (1 unless given).
    Bjt { model: String, area: f64 },
    /// `YMEMRISTOR name n+ n- model [x0=...]`. Nodes: n+ n-. The element is
    /// named `name` at the top level and `y.x1.name` inside instance `x1`
    /// (ngspice's prefix rule with the device letter `y`). `instance` holds
    /// Xyce's instance parameters (`xo`, `ivrelation`, `rinit`, `temp`), which
    /// belong to the model card of this one element.
    Memristor {
        model: String,
        x0: Option<f64>,
        instance: BTreeMap<String, f64>,
    },
    /// Nodes: n+ n-. A behavioural element: `B` sources, `E`/`G` with
    /// `value=`/`vol=`/`cur=`, and resistors and capacitors whose value
    /// depends on the simulation (ngspice turns those into B sources too).
    /// `expr` is resolved: parameters are numbers, `.func`s are inlined,
    /// probes name flattened nodes and elements (`V(x1.n)`, `I(v.x1.v1)`),
    /// and `time`/`temper`/`hertz` are [`crate::expr::Var`]s. It is
    /// evaluated with [`crate::expr::Dialect::Behavioral`].
    Behavioral { quantity: Behavior, expr: Expr },
}

/// What the expression of an [`ElementKind::Behavioral`] element sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// `V(n+) - V(n-) = expr`; the element has a branch current `i(name)`
    /// that other expressions may reference (`B ... V=`, `E ... value=`).
    Voltage,
    /// `expr` flows from n+ through the element to n- (`B ... I=`,
    /// `G ... value=`, a resistor `r={...}` as `V(n+,n-)/(...)`).
    Current,
    /// A capacitance: the current is `expr · dV(n+,n-)/dt` (ngspice's
    /// `C n+ n- c={expr}`).
    Capacitance,
    /// A charge: the current is `d(expr)/dt` (ngspice's `C n+ n- q={expr}`
    /// and `C n+ n- {expr}` without `c=`).
    Charge,
}

/// A controlled source's transfer function, SPICE2's `POLY(dims)`: `coeffs`
/// are p0, then the coefficients of the products of the controlling
/// quantities by total degree, within a degree in decreasing lexicographic
/// order of the exponents (`x1, x2, x1², x1·x2, x2², x1³, ...`). The plain
/// form with gain `k` is `dims = 1, coeffs = [0, k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    pub dims: usize,
    pub coeffs: Vec<f64>,
    /// Written as `POLY(n)`: ngspice runs such a source as an XSPICE code
    /// model and names an E or H source's branch current `i(a$poly$name)`.
    pub written_as_poly: bool,
}

impl ElementKind {
    /// Whether the element's current is an unknown of its own, `i(name)`,
    /// that F and H sources can be controlled by.
    pub fn has_branch_current(&self) -> bool {
        matches!(
            self,
            ElementKind::VoltageSource(_)
                | ElementKind::Inductor { .. }
                | ElementKind::Vcvs(_)
                | ElementKind::Ccvs { .. }
                | ElementKind::Behavioral {
                    quantity: Behavior::Voltage,
                    ..
                }
        )
    }
}

/// A MOSFET instance's junction geometry (`ad as pd ps nrd nrs`); `None`
/// takes ngspice's default (0, or `.options defad defas`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MosGeometry {
    /// Drain and source diffusion areas, m².
    pub ad: Option<f64>,
    pub r#as: Option<f64>,
    /// Drain and source diffusion perimeters, m.
    pub pd: Option<f64>,
    pub ps: Option<f64>,
    /// Drain and source diffusion lengths in squares of `rsh`.
    pub nrd: Option<f64>,
    pub nrs: Option<f64>,
}

/// DC value plus an optional time-domain waveform and AC phasor of an
/// independent source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Source {
    /// DC value; a deck giving none takes the waveform's value at t = 0, as
    /// ngspice does (0 without a waveform).
    pub dc: f64,
    pub waveform: Option<Waveform>,
    /// Small-signal excitation of `.ac` (`ac [mag [phase]]`); `None`: the
    /// source is a short (V) or open (I) in AC.
    pub ac: Option<AcPhasor>,
}

/// `ac mag phase` of a source: magnitude in V or A, phase in degrees. A bare
/// `ac` is magnitude 1, phase 0 (ngspice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcPhasor {
    pub mag: f64,
    pub phase_deg: f64,
}

/// Time-domain waveforms with the values the deck gave; `None` fields take
/// ngspice's defaults, which depend on the transient analysis (tstep, tstop)
/// and are applied by the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Waveform {
    Pulse {
        v1: f64,
        v2: f64,
        td: Option<f64>,
        tr: Option<f64>,
        tf: Option<f64>,
        pw: Option<f64>,
        per: Option<f64>,
    },
    /// (time, value) pairs, times non-decreasing.
    Pwl(Vec<(f64, f64)>),
    Sin {
        vo: f64,
        va: f64,
        freq: Option<f64>,
        td: Option<f64>,
        theta: Option<f64>,
        phase: Option<f64>,
    },
}

/// A `.model` card.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: String,
    /// Lower-cased model type: `d`, `nmos`, `pmos`, `memristor`, `r`, `c`, ...
    pub kind: String,
    /// Numeric parameters, lower-cased names.
    pub params: BTreeMap<String, f64>,
    /// Word-valued parameters, lower-cased (`model=vteam`, `window=biolek`).
    pub words: BTreeMap<String, String>,
    pub loc: SourceLoc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    Op,
    /// `.dc src start stop step [src2 start2 stop2 step2]`: `inner` is the first
    /// (fast) sweep, `outer` the optional second (slow) one, as ngspice.
    Dc {
        inner: Sweep,
        outer: Option<Sweep>,
    },
    /// `.ac dec|oct|lin points fstart fstop`: small-signal analysis about
    /// the operating point.
    Ac(AcSweep),
    /// `.tran tstep tstop [tstart [tmax]] [uic]`.
    Tran {
        tstep: f64,
        tstop: f64,
        tstart: f64,
        tmax: Option<f64>,
        uic: bool,
    },
}

/// Frequencies of an `.ac` analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcSweep {
    pub scale: AcScale,
    /// Points per decade or octave (`dec`, `oct`), or in total (`lin`).
    pub points: usize,
    pub fstart: f64,
    pub fstop: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcScale {
    Dec,
    Oct,
    Lin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Lower-cased name of the independent source swept.
    pub source: String,
    pub start: f64,
    pub stop: f64,
    pub step: f64,
}

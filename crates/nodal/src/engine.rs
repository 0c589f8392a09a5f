//! The simulator core: unknown numbering, assembly, Newton-Raphson with
//! SPICE's convergence tests, and the operating-point fallbacks (gmin
//! stepping, source stepping).

use xbar_netlist::Circuit;

use crate::devices::{
    self, Device, Init, LoadCtx, MemristorResolver, NodeMap, Phase, Setup, States, UnknownInfo,
    UnknownKind,
};
use crate::error::NodalError;
use crate::matrix::{LuFailure, Pattern, PatternBuilder, Slot, SparseLu, Stamp};
use crate::options::Options;
use crate::topology;
use crate::waveform::SourceMode;

/// A circuit set up for analysis: devices, unknowns, the fixed matrix
/// pattern and its reusable LU.
#[derive(Debug)]
pub struct Simulator {
    pub(crate) opts: Options,
    pub(crate) devices: Vec<Box<dyn Device>>,
    pub(crate) unknowns: Vec<UnknownInfo>,
    pub(crate) node_names: Vec<String>,
    pattern: Pattern,
    values: Vec<f64>,
    rhs: Vec<f64>,
    lu: SparseLu,
    pub(crate) states: States,
    pub(crate) charges: Vec<usize>,
    /// Diagonal entries of the node rows, for gmin stepping.
    node_diag: Vec<Slot>,
    nonlinear: bool,
    /// Newton iterations spent so far (for summaries).
    pub(crate) iterations: usize,
    /// Worst unknown of the last convergence test and its change.
    worst: (usize, f64),
}

/// How one Newton solve is set up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Solve {
    pub phase: Phase,
    pub sources: SourceMode,
    pub src_fact: f64,
    /// Conductance from every node to ground (gmin stepping).
    pub diag_gmin: f64,
    /// Mode of the first iteration (ngspice's INITF).
    pub init: Init,
    pub max_iter: usize,
}

/// Why a Newton solve stopped.
#[derive(Debug)]
pub(crate) enum NewtonFailure {
    NoConvergence {
        iterations: usize,
        worst: usize,
        delta: f64,
    },
    Singular(Vec<usize>),
    Other(String),
}

impl Simulator {
    /// Sets up `circuit` with memristor cards built by `xbar_memristor::from_card`.
    pub fn new(circuit: &Circuit) -> Result<Self, NodalError> {
        Self::with_memristor_models(circuit, &|m| xbar_memristor::from_card(&m.words, &m.params))
    }

    /// Sets up `circuit`, turning memristor model cards into compact models
    /// with `memristors` (lets callers supply models the card parser does
    /// not know).
    pub fn with_memristor_models(
        circuit: &Circuit,
        memristors: &MemristorResolver<'_>,
    ) -> Result<Self, NodalError> {
        let opts = Options::from_deck(&circuit.options)?;
        let map = NodeMap::from_circuit(circuit);
        let mut devices = devices::build(circuit, &map, &opts, memristors)?;
        let mut unknowns: Vec<UnknownInfo> = map
            .names
            .iter()
            .map(|n| UnknownInfo {
                name: format!("v({n})"),
                kind: UnknownKind::Node,
                output: true,
            })
            .collect();
        let mut pattern = PatternBuilder::default();
        let node_diag = (0..map.names.len())
            .map(|i| pattern.entry(Some(i), Some(i)))
            .collect();
        let mut n_states = 0;
        let mut charges = Vec::new();
        {
            let mut setup = Setup::new(&mut pattern, &mut unknowns, &mut n_states, &mut charges);
            for d in &mut devices {
                d.setup(&mut setup);
            }
            for d in &mut devices {
                d.setup_references(&mut setup)?;
            }
        }
        let pattern = pattern.finish(unknowns.len());
        let nonlinear = devices.iter().any(|d| d.is_nonlinear());
        Ok(Self {
            opts,
            lu: SparseLu::new(&pattern),
            values: pattern.new_values(),
            rhs: vec![0.0; unknowns.len()],
            pattern,
            devices,
            unknowns,
            node_names: map.names,
            states: States::new(n_states),
            charges,
            node_diag,
            nonlinear,
            iterations: 0,
            worst: (0, 0.0),
        })
    }

    /// Number of unknowns of the MNA system.
    pub fn unknown_count(&self) -> usize {
        self.unknowns.len()
    }

    /// Non-zeros of the MNA matrix.
    pub fn nnz(&self) -> usize {
        self.pattern.nnz()
    }

    /// Newton iterations of every analysis run so far (ngspice's
    /// `rusage totiter`).
    pub fn newton_iterations(&self) -> usize {
        self.iterations
    }

    /// Floating-node and source-loop checks.
    pub(crate) fn check_topology(&self, capacitors_conduct: bool) -> Result<(), NodalError> {
        topology::check(&self.node_names, &self.devices, capacitors_conduct)
    }

    /// Output column names: the output unknowns then the devices' extras.
    pub(crate) fn column_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .unknowns
            .iter()
            .filter(|u| u.output)
            .map(|u| u.name.clone())
            .collect();
        for d in &self.devices {
            names.extend(d.extra_outputs());
        }
        names
    }

    /// Output values matching [`Self::column_names`].
    pub(crate) fn row(&self, x: &[f64], out: &mut Vec<f64>) {
        out.extend(
            self.unknowns
                .iter()
                .zip(x)
                .filter(|(u, _)| u.output)
                .map(|(_, v)| *v),
        );
        for d in &self.devices {
            d.extra_values(x, out);
        }
    }

    /// Assembles the system at iterate `x`; returns whether every device was
    /// self-consistent (no limiting).
    fn assemble(&mut self, s: &Solve, init: Init, x: &[f64]) -> bool {
        self.values.fill(0.0);
        self.rhs.fill(0.0);
        let ctx = LoadCtx {
            phase: s.phase,
            sources: s.sources,
            src_fact: s.src_fact,
            opts: &self.opts,
            init,
        };
        let mut stamp = Stamp::new(&self.pattern, &mut self.values, &mut self.rhs);
        let mut consistent = true;
        for d in &mut self.devices {
            consistent &= d.load(&ctx, x, &mut self.states, &mut stamp);
        }
        if s.diag_gmin > 0.0 {
            for &slot in &self.node_diag {
                stamp.add(slot, s.diag_gmin);
            }
        }
        consistent
    }

    /// Loads every device once at `x` without solving (sets up the states a
    /// `uic` transient starts from).
    pub(crate) fn load_only(&mut self, s: &Solve, x: &[f64]) {
        self.assemble(s, Init::Float, x);
    }

    /// Factors the assembled matrix and solves into `self.rhs`.
    fn factor_solve(&mut self) -> Result<(), NewtonFailure> {
        match self.lu.factor(&self.values) {
            Ok(()) => {}
            Err(LuFailure::Structural(col)) => return Err(NewtonFailure::Singular(vec![col])),
            Err(LuFailure::Other(m)) => return Err(NewtonFailure::Other(m)),
        }
        self.lu.solve(&mut self.rhs);
        let bad: Vec<usize> = self
            .rhs
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_finite())
            .map(|(i, _)| i)
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(NewtonFailure::Singular(bad))
        }
    }

    /// ngspice's convergence test of a solve (see [`unknowns_settled`]).
    /// Records the worst unknown for error messages.
    fn conv_test(&mut self, old: &[f64]) -> bool {
        let unknowns = &self.unknowns;
        let (settled, worst) = unknowns_settled(&self.opts, |k| unknowns[k].kind, &self.rhs, old);
        self.worst = worst;
        settled
    }

    /// Newton-Raphson from `x` as ngspice's NIiter runs it: the first
    /// iteration in mode `s.init`, at least two iterations, and on
    /// convergence `x` is the iterate the last load linearized at (the one
    /// ngspice reports). Returns the iterations.
    pub(crate) fn newton(&mut self, s: &Solve, x: &mut [f64]) -> Result<usize, NewtonFailure> {
        let mut mode = s.init;
        let mut iterno = 0;
        self.worst = (0, 0.0);
        loop {
            let consistent = self.assemble(s, mode, x);
            iterno += 1;
            self.iterations += 1;
            self.factor_solve()?;
            for d in &self.devices {
                d.project(&mut self.rhs);
            }
            if iterno > s.max_iter {
                return Err(NewtonFailure::NoConvergence {
                    iterations: s.max_iter,
                    worst: self.worst.0,
                    delta: self.worst.1,
                });
            }
            if !self.nonlinear {
                // One solve is exact; loading once more at the solution
                // leaves the devices' states (charges) consistent with it,
                // as the second iteration ngspice takes does.
                x.copy_from_slice(&self.rhs);
                self.assemble(s, Init::Float, x);
                return Ok(iterno);
            }
            let settled = self.conv_test(x);
            match next_mode(mode, iterno, settled, consistent) {
                Some(next) => mode = next,
                None => return Ok(iterno),
            }
            x.copy_from_slice(&self.rhs);
        }
    }

    /// Operating point with ngspice's fallbacks: plain Newton, then dynamic
    /// gmin stepping, then source stepping (the steps with itl2 iterations).
    pub(crate) fn operating_point(
        &mut self,
        phase: Phase,
        sources: SourceMode,
        x: &mut [f64],
        max_iter: usize,
        analysis: &str,
    ) -> Result<(), NodalError> {
        let base = Solve {
            phase,
            sources,
            src_fact: 1.0,
            diag_gmin: 0.0,
            init: Init::Junction,
            max_iter,
        };
        let start = x.to_vec();
        let first = match self.newton(&base, x) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if !self.nonlinear || matches!(first, NewtonFailure::Other(_)) {
            return Err(self.failure(first, analysis, None));
        }
        if self.opts.gmin_steps {
            x.copy_from_slice(&start);
            if self.gmin_stepping(&base, x).is_ok() {
                return Ok(());
            }
        }
        if self.opts.source_steps {
            x.copy_from_slice(&start);
            if self.source_stepping(&base, x).is_ok() {
                return Ok(());
            }
        }
        Err(self.failure(first, analysis, None))
    }

    /// ngspice's dynamic gmin stepping: a conductance from every node to
    /// ground starts at 1e-3 S and shrinks by an adaptive factor to gmin,
    /// each solve starting from the last converged one; then a final solve
    /// without it.
    fn gmin_stepping(&mut self, base: &Solve, x: &mut [f64]) -> Result<(), NewtonFailure> {
        let itl = self.opts.itl2;
        let target = self.opts.gmin.max(1e-15);
        let mut factor: f64 = 10.0;
        let mut old_gmin = 1e-2;
        let mut gmin = old_gmin / factor;
        let mut saved = (x.to_vec(), self.states.levels[0].clone());
        let mut init = Init::Junction;
        self.states.levels[0].fill(0.0);
        loop {
            let s = Solve {
                diag_gmin: gmin,
                init,
                max_iter: itl,
                ..*base
            };
            let before = self.iterations;
            match self.newton(&s, x) {
                Ok(_) => {
                    init = Init::Float;
                    if gmin <= target {
                        break;
                    }
                    saved = (x.to_vec(), self.states.levels[0].clone());
                    let iters = self.iterations - before;
                    if iters <= itl / 4 {
                        factor = (factor * factor.sqrt()).min(10.0);
                    }
                    if iters > 3 * itl / 4 {
                        factor = factor.sqrt();
                    }
                    old_gmin = gmin;
                    if gmin < factor * target {
                        factor = gmin / target;
                        gmin = target;
                    } else {
                        gmin /= factor;
                    }
                }
                Err(e) => {
                    if factor < 1.00005 {
                        return Err(e);
                    }
                    factor = factor.sqrt().sqrt();
                    gmin = old_gmin / factor;
                    x.copy_from_slice(&saved.0);
                    self.states.levels[0].copy_from_slice(&saved.1);
                }
            }
        }
        let s = Solve {
            init: Init::Float,
            ..*base
        };
        self.newton(&s, x).map(|_| ())
    }

    /// Source stepping: all independent sources ramp from 0 to their full
    /// value, the step growing on success and shrinking on failure.
    fn source_stepping(&mut self, base: &Solve, x: &mut [f64]) -> Result<(), NewtonFailure> {
        let itl = self.opts.itl2;
        let mut fact: f64 = 0.0;
        let mut raise = 1e-3;
        self.states.levels[0].fill(0.0);
        let s0 = Solve {
            src_fact: 0.0,
            max_iter: itl,
            ..*base
        };
        self.newton(&s0, x)?;
        let mut saved = (x.to_vec(), self.states.levels[0].clone());
        while fact < 1.0 {
            let next = (fact + raise).min(1.0);
            let s = Solve {
                src_fact: next,
                init: Init::Float,
                max_iter: itl,
                ..*base
            };
            let before = self.iterations;
            match self.newton(&s, x) {
                Ok(_) => {
                    fact = next;
                    saved = (x.to_vec(), self.states.levels[0].clone());
                    let iters = self.iterations - before;
                    if iters <= itl / 4 {
                        raise *= 1.5;
                    } else if iters > 3 * itl / 4 {
                        raise *= 0.5;
                    }
                }
                Err(e) => {
                    if next - fact < 1e-8 {
                        return Err(e);
                    }
                    raise /= 10.0;
                    x.copy_from_slice(&saved.0);
                    self.states.levels[0].copy_from_slice(&saved.1);
                }
            }
        }
        Ok(())
    }

    /// Turns a Newton failure into a named error.
    pub(crate) fn failure(&self, f: NewtonFailure, analysis: &str, at: Option<f64>) -> NodalError {
        if let Some(message) = self.devices.iter().find_map(|d| d.fault()) {
            return NodalError::Evaluation {
                analysis: analysis.into(),
                at,
                message,
            };
        }
        match f {
            NewtonFailure::NoConvergence {
                iterations,
                worst,
                delta,
            } => NodalError::NoConvergence {
                analysis: analysis.into(),
                at,
                iterations,
                worst: self.unknown_name(worst),
                delta,
            },
            NewtonFailure::Singular(idx) => NodalError::Singular {
                unknowns: idx.into_iter().map(|i| self.unknown_name(i)).collect(),
            },
            NewtonFailure::Other(m) => NodalError::Factorization(m),
        }
    }

    pub(crate) fn unknown_name(&self, i: usize) -> String {
        self.unknowns
            .get(i)
            .map_or_else(|| format!("unknown #{i}"), |u| u.name.clone())
    }

    pub(crate) fn initial_guess(&self) -> Vec<f64> {
        let mut x = vec![0.0; self.unknowns.len()];
        for d in &self.devices {
            d.initial_guess(&mut x);
        }
        x
    }
}

/// ngspice's convergence test of a Newton solve (NIconvTest): every
/// unknown moved from `old` to `new` by at most `reltol·max(|new|, |old|)`
/// plus `vntol` (nodes), `abstol` (branch currents) or the state's own
/// tolerance. Returns the verdict and the unknown that came nearest to (or
/// furthest past) its tolerance, with its change.
///
/// The devices' own current checks (DEVconvTest) take no part, exactly as
/// in ngspice: its CKTconvTest returns OK after a device counts a
/// non-convergence and NIiter stores that return value over the count, so
/// the checks never hold Newton back. Applying them anyway diverges from
/// ngspice's iteration counts and, worse, with tight tolerances
/// (`reltol=1e-12 abstol=1e-20`) never ends: the linearized current change
/// `gds·Δvds` of a cell with `vds` of a few µV is then below the rounding
/// of the node voltages it is computed from.
pub(crate) fn unknowns_settled(
    opts: &Options,
    kind: impl Fn(usize) -> UnknownKind,
    new: &[f64],
    old: &[f64],
) -> (bool, (usize, f64)) {
    let mut settled = true;
    let mut worst = (0usize, 0.0f64, 0.0f64);
    for (k, (&a, &b)) in new.iter().zip(old).enumerate() {
        let tol = opts.reltol * a.abs().max(b.abs())
            + match kind(k) {
                UnknownKind::Node => opts.vntol,
                UnknownKind::Current => opts.abstol,
                UnknownKind::State { abstol } => abstol,
            };
        let d = (a - b).abs();
        settled &= d <= tol;
        if d / tol > worst.1 {
            worst = (k, d / tol, d);
        }
    }
    (settled, (worst.0, worst.2))
}

/// ngspice's NIiter after the solve of iteration `iterno` (from 1) run in
/// `mode`: `None` when Newton has converged (the unknowns `settled`, no
/// device limited its step, not the first iteration, and past the
/// junction-initialisation modes), else the mode of the next iteration.
pub(crate) fn next_mode(
    mode: Init,
    iterno: usize,
    settled: bool,
    consistent: bool,
) -> Option<Init> {
    let converged = settled && consistent && iterno != 1;
    match mode {
        Init::Float if converged => None,
        Init::Fix if converged => Some(Init::Float),
        Init::Float | Init::Fix => Some(mode),
        Init::Junction => Some(Init::Fix),
        Init::Tran | Init::Predict { .. } => Some(Init::Float),
    }
}

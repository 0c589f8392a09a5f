//! Transient analysis as ngspice's dctran.c runs it: an operating point (or
//! `uic` initial conditions), then variable steps chosen by the
//! charge-based local truncation error (trtol, chgtol), landing exactly on
//! source breakpoints and restarting at first order after each of them.
//! Rows are the accepted time points at or after `tstart`.

use std::collections::VecDeque;
use std::time::Instant;

use crate::devices::{Init, Integrator, Phase, STATE_LEVELS};
use crate::engine::{NewtonFailure, Simulator, Solve};
use crate::error::NodalError;
use crate::options::Method;
use crate::output::{AnalysisKind, AnalysisOutput};
use crate::waveform::{SourceMode, TranSpan};

/// The parameters of a `.tran` line.
#[derive(Debug, Clone, Copy)]
pub struct TranSpec {
    pub tstep: f64,
    pub tstop: f64,
    pub tstart: f64,
    pub tmax: Option<f64>,
    pub uic: bool,
}

impl TranSpec {
    fn validate(&self) -> Result<(), NodalError> {
        let bad = |message: &str| NodalError::BadAnalysis {
            analysis: ".tran".into(),
            message: message.into(),
        };
        let all = [
            self.tstep,
            self.tstop,
            self.tstart,
            self.tmax.unwrap_or(1.0),
        ];
        if all.iter().any(|v| !v.is_finite()) {
            return Err(bad("tstep, tstop, tstart and tmax must be finite"));
        }
        if self.tstep <= 0.0 {
            return Err(bad("tstep must be > 0"));
        }
        if self.tstop <= 0.0 {
            return Err(bad("tstop must be > 0"));
        }
        if self.tstart < 0.0 || self.tstart >= self.tstop {
            return Err(bad("tstart must lie in [0, tstop)"));
        }
        if self.tmax.is_some_and(|t| t <= 0.0) {
            return Err(bad("tmax must be > 0"));
        }
        Ok(())
    }
}

/// ngspice's truncation-error coefficients by order.
const TRAP_COEFF: [f64; 2] = [0.5, 1.0 / 12.0];
const GEAR_COEFF: [f64; 2] = [0.5, 2.0 / 9.0];

impl Simulator {
    /// Largest step the truncation error allows for every integrated
    /// charge (ngspice's CKTterr), at integration `order`, given the step
    /// history `deltas` (`deltas[0]` is the step just taken).
    fn truncation_step(&self, order: usize, deltas: &[f64; STATE_LEVELS]) -> f64 {
        let o = &self.opts;
        let factor = match o.method {
            Method::Trapezoidal => TRAP_COEFF[order - 1],
            Method::Gear => GEAR_COEFF[order - 1],
        };
        let lv = &self.states.levels;
        let mut step = f64::INFINITY;
        for &q in &self.charges {
            let volttol = o.abstol + o.reltol * lv[0][q + 1].abs().max(lv[1][q + 1].abs());
            let chargetol = o.reltol * lv[0][q].abs().max(lv[1][q].abs()).max(o.chgtol) / deltas[0];
            let tol = volttol.max(chargetol);
            // Divided difference of order `order + 1` of the charge.
            let mut diff = [0.0; STATE_LEVELS];
            for (i, d) in diff.iter_mut().enumerate().take(order + 2) {
                *d = lv[i][q];
            }
            let mut span = [0.0; STATE_LEVELS];
            span[..=order].copy_from_slice(&deltas[..=order]);
            let mut j = order as isize;
            loop {
                for i in 0..=(j as usize) {
                    diff[i] = (diff[i] - diff[i + 1]) / span[i];
                }
                j -= 1;
                if j < 0 {
                    break;
                }
                for i in 0..=(j as usize) {
                    span[i] = span[i + 1] + deltas[i];
                }
            }
            let mut del = o.trtol * tol / o.abstol.max(factor * diff[0].abs());
            if order == 2 {
                del = del.sqrt();
            }
            step = step.min(del);
        }
        step
    }

    /// `.tran`: columns `time` then every output vector. The step control
    /// is ngspice 39's dctran (as built with XSPICE, as distributions ship
    /// it): the first step, the order and step cut at every breakpoint, the
    /// forced landing on breakpoints, the truncation-error accept/reject
    /// rule and the order raise, in the same sequence.
    pub fn transient(&mut self, spec: &TranSpec) -> Result<AnalysisOutput, NodalError> {
        spec.validate()?;
        let t0 = Instant::now();
        let it0 = self.iterations;
        self.check_topology(spec.uic)?;
        let span = TranSpan {
            tstep: spec.tstep,
            tstop: spec.tstop,
        };
        let max_step = spec
            .tmax
            .unwrap_or_else(|| spec.tstep.min((spec.tstop - spec.tstart) / 50.0));
        let limit = self.opts.max_points;
        let fewest = (spec.tstop - spec.tstart) / max_step;
        if fewest > limit as f64 {
            return Err(NodalError::TooManyPoints {
                needed: format!("at least {fewest:.3e} (span / step limit {max_step:e} s)"),
                limit,
            });
        }
        let delmin = 1e-11 * max_step;
        let method = self.opts.method;
        let max_order = self.opts.maxord.clamp(1, 2);

        let mut corners: Vec<f64> = Vec::new();
        for d in &self.devices {
            corners.extend(d.breakpoints(span, limit));
            if corners.len() > limit {
                return Err(NodalError::TooManyPoints {
                    needed: format!("more than {limit} source breakpoints"),
                    limit,
                });
            }
        }
        if spec.uic {
            // ngspice: "set a breakpoint to reduce ringing of current in
            // devices" when a uic run starts.
            corners.push(spec.tstep);
        }
        let mut breaks = Breakpoints::new(corners, spec.tstop, 10.0 * delmin);

        let mut x = self.initial_guess(true);
        let at_zero = SourceMode::Tran { time: 0.0, span };
        if spec.uic {
            let s = Solve {
                phase: Phase::UicStart,
                sources: at_zero,
                src_fact: 1.0,
                diag_gmin: 0.0,
                init: Init::Float,
                max_iter: 1,
            };
            self.load_only(&s, &x);
        } else {
            let max = self.opts.itl1;
            self.operating_point(Phase::Dc, at_zero, &mut x, max, "transient operating point")?;
        }
        self.states.flatten();

        let mut columns = vec!["time".to_string()];
        columns.extend(self.column_names());
        let mut rows = Vec::new();
        let push_row = |sim: &Simulator, t: f64, x: &[f64], rows: &mut Vec<Vec<f64>>| {
            if t >= spec.tstart {
                let mut row = vec![t];
                sim.row(x, &mut row);
                rows.push(row);
            }
        };
        // The operating point is ngspice's first accepted point, but a
        // `uic` run starts from unsolved initial conditions and writes no
        // t = 0 row.
        let mut accepted = 1usize;
        if !spec.uic {
            push_row(self, 0.0, &x, &mut rows);
        }

        let mut time = 0.0;
        let mut deltas = [max_step; STATE_LEVELS];
        let mut delta = (spec.tstop / 100.0).min(spec.tstep) / 10.0;
        let mut save_delta = spec.tstop / 50.0;
        let mut order = 1;
        let mut first = true;
        let mut rejected = 0usize;
        let mut xnew = x.clone();

        loop {
            delta = delta.min(max_step);
            if almost_equal_ulps(time, breaks.first(), 100) || breaks.first() - time <= delmin {
                // First point after a breakpoint: first order, and a step
                // of a tenth of the smaller of the step before the corner
                // and the gap to the next one (a further tenth at t = 0).
                order = 1;
                delta = delta.min(0.1 * save_delta.min(breaks.second() - breaks.first()));
                if first {
                    delta /= 10.0;
                }
            }
            breaks.drop_reached(time);
            let mut landing = None;
            if time + delta > breaks.first() {
                save_delta = delta;
                delta = breaks.first() - time;
                landing = Some(breaks.first());
            }
            deltas.rotate_right(1);
            self.states.rotate();
            let next_delta = loop {
                let old_delta = delta;
                deltas[0] = delta;
                let t_new = match landing {
                    Some(t) if delta == t - time => t,
                    _ => time + delta,
                };
                let integ = Integrator::new(method, order, delta, deltas[1]);
                let s = Solve {
                    phase: Phase::Tran(integ),
                    sources: SourceMode::Tran { time: t_new, span },
                    src_fact: 1.0,
                    diag_gmin: 0.0,
                    init: if first {
                        Init::Tran
                    } else {
                        Init::Predict {
                            xfact: delta / deltas[1],
                        }
                    },
                    max_iter: self.opts.itl4,
                };
                xnew.copy_from_slice(&x);
                let mut worst = "truncation error".to_string();
                match self.newton(&s, &mut xnew) {
                    Err(NewtonFailure::NoConvergence { worst: w, .. }) => {
                        rejected += 1;
                        delta /= 8.0;
                        order = 1;
                        worst = self.unknown_name(w);
                    }
                    Err(e) => return Err(self.failure(e, "transient", Some(t_new))),
                    Ok(_) if first => {
                        first = false;
                        break (t_new, delta);
                    }
                    Ok(_) => {
                        let mut new_delta = self.truncation_step(order, &deltas).min(2.0 * delta);
                        if new_delta > 0.9 * delta {
                            if order == 1 && max_order > 1 {
                                // ngspice keeps the order-2 estimate as the
                                // next step even when it does not raise
                                // the order.
                                new_delta = self.truncation_step(2, &deltas).min(2.0 * delta);
                                order = if new_delta <= 1.05 * delta { 1 } else { 2 };
                            }
                            break (t_new, new_delta);
                        }
                        rejected += 1;
                        delta = new_delta;
                    }
                }
                if delta <= delmin {
                    if old_delta > delmin {
                        delta = delmin;
                    } else {
                        return Err(NodalError::TimestepTooSmall {
                            time,
                            step: delta,
                            min: delmin,
                            worst,
                        });
                    }
                }
            };
            let (t_new, new_delta) = next_delta;
            time = t_new;
            delta = new_delta;
            x.copy_from_slice(&xnew);
            accepted += 1;
            push_row(self, time, &x, &mut rows);
            if rows.len() > limit {
                return Err(NodalError::TooManyPoints {
                    needed: format!("more than {limit} by t = {time:e} s"),
                    limit,
                });
            }
            if time > breaks.first() {
                breaks.clear_first();
            }
            if almost_equal_ulps(time, spec.tstop, 100) {
                break;
            }
        }

        Ok(AnalysisOutput {
            kind: AnalysisKind::Tran,
            columns,
            summary: format!(
                "tran: {accepted} accepted time points ({rejected} rejected), {} rows, {} unknowns, {} Newton iterations, {:.3} s",
                rows.len(),
                self.unknown_count(),
                self.iterations - it0,
                t0.elapsed().as_secs_f64()
            ),
            rows,
        })
    }
}

/// ngspice's breakpoint table: sorted times, the first one the next (or
/// just reached) breakpoint, always ending with tstop.
struct Breakpoints {
    times: VecDeque<f64>,
    tstop: f64,
    min_break: f64,
}

impl Breakpoints {
    /// The table from every source corner, merged as ngspice's CKTsetBreak
    /// merges them: a corner within `min_break` after a kept one is
    /// dropped, so nearly coincident corners (a pulse whose rise, width
    /// and fall fill its period) become one.
    fn new(mut corners: Vec<f64>, tstop: f64, min_break: f64) -> Self {
        corners.retain(|&t| t > 0.0 && t < tstop);
        corners.sort_by(f64::total_cmp);
        let mut times = VecDeque::from([0.0]);
        for t in corners {
            if t - times.back().copied().unwrap_or(0.0) > min_break && tstop - t > min_break {
                times.push_back(t);
            }
        }
        times.push_back(tstop);
        Self {
            times,
            tstop,
            min_break,
        }
    }

    fn first(&self) -> f64 {
        self.times.front().copied().unwrap_or(self.tstop)
    }

    fn second(&self) -> f64 {
        self.times.get(1).copied().unwrap_or(self.tstop)
    }

    /// CKTclrBreak: the table never shrinks below two entries.
    fn clear_first(&mut self) {
        if self.times.len() > 2 {
            self.times.pop_front();
        } else {
            self.times = VecDeque::from([self.second(), self.tstop]);
        }
    }

    /// Drops breakpoints at or just after `time` (within 10 delmin, the
    /// XSPICE build's minimum break), except tstop.
    fn drop_reached(&mut self, time: f64) {
        while (self.first() <= time + self.min_break || almost_equal_ulps(self.first(), time, 100))
            && self.first() < self.tstop
        {
            self.clear_first();
        }
    }
}

/// ngspice's AlmostEqualUlps: `a` and `b` at most `max_ulps` representable
/// doubles apart.
fn almost_equal_ulps(a: f64, b: f64, max_ulps: i64) -> bool {
    if a == b {
        return true;
    }
    let ordered = |v: f64| {
        let bits = v.to_bits() as i64;
        if bits < 0 {
            i64::MIN.wrapping_sub(bits)
        } else {
            bits
        }
    };
    (i128::from(ordered(a)) - i128::from(ordered(b))).abs() <= i128::from(max_ulps)
}

//! Transient analysis as ngspice's dctran.c runs it: an operating point (or
//! `uic` initial conditions), then variable steps chosen by the
//! charge-based local truncation error (trtol, chgtol), landing exactly on
//! source breakpoints and restarting at first order after each of them.
//! Rows are the accepted time points at or after `tstart`.

use std::time::Instant;

use crate::devices::{Init, Integrator, Phase, UnknownKind, STATE_LEVELS};
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

    /// Largest step for which linear interpolation between accepted points
    /// stays within a small fraction of each node's peak, from the second
    /// divided difference of the last three points. ngspice's charge-based
    /// control alone lets node voltages bend sharply between two points
    /// (a diode turning on); bounding the interpolation error keeps every
    /// output vector accurate between the rows too.
    fn interpolation_step(
        &self,
        new: &[f64],
        x: &[f64],
        prev: &[f64],
        deltas: &[f64; STATE_LEVELS],
        peak: &[f64],
    ) -> f64 {
        const FRACTION: f64 = 2e-4;
        let (h0, h1) = (deltas[0], deltas[1]);
        let mut step = f64::INFINITY;
        for (k, u) in self.unknowns.iter().enumerate() {
            if u.kind != UnknownKind::Node || !u.output {
                continue;
            }
            let dd2 = 2.0 * ((new[k] - x[k]) / h0 - (x[k] - prev[k]) / h1) / (h0 + h1);
            let tol = FRACTION * peak[k].max(new[k].abs()).max(1e-3);
            if dd2 != 0.0 {
                step = step.min((8.0 * tol / dd2.abs()).sqrt());
            }
        }
        step
    }

    /// `.tran`: columns `time` then every output vector.
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
        let delmin = 1e-11 * max_step;
        let method = self.opts.method;
        let max_order = self.opts.maxord.clamp(1, 2);

        let mut breaks: Vec<f64> = self
            .devices
            .iter()
            .flat_map(|d| d.breakpoints(span))
            .filter(|&t| t > 0.0 && t < spec.tstop)
            .collect();
        breaks.push(spec.tstop);
        breaks.sort_by(f64::total_cmp);
        breaks.dedup_by(|a, b| (*a - *b).abs() <= delmin);
        let mut next_break = 0usize;

        let mut x = self.initial_guess();
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
        // ngspice reports the operating point as the first row, but a `uic`
        // run starts from unsolved initial conditions and has no t = 0 row.
        if !spec.uic {
            push_row(self, 0.0, &x, &mut rows);
        }

        let mut time = 0.0;
        let mut deltas = [max_step; STATE_LEVELS];
        // ngspice starts at a breakpoint (t = 0) on its first step, which
        // divides the initial step by ten twice.
        let first_gap = breaks.first().copied().unwrap_or(spec.tstop);
        let mut delta = (spec.tstop / 100.0).min(spec.tstep) / 10.0;
        delta = delta.min(0.1 * first_gap) / 10.0;
        delta = delta.max(2.0 * delmin);
        let mut order = 1;
        let mut first = true;
        let mut rejected = 0usize;
        let mut xnew = x.clone();
        // The accepted point before `x` (for the interpolation check) and
        // whether it lies on the same smooth stretch as `x`.
        let mut xprev = x.clone();
        let mut smooth = false;
        let mut peak: Vec<f64> = x.iter().map(|v| v.abs()).collect();

        while next_break < breaks.len() {
            let target = breaks[next_break];
            delta = delta.min(max_step);
            // Land exactly on the next breakpoint rather than just short of it.
            let landing = time + delta >= target - delmin;
            if landing {
                delta = target - time;
            }
            deltas[0] = delta;
            let integ = Integrator::new(method, order, delta, deltas[1]);
            let t_new = if landing { target } else { time + delta };
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
            let outcome = self.newton(&s, &mut xnew);
            let mut accept_delta = None;
            match outcome {
                Err(NewtonFailure::NoConvergence { worst, .. }) => {
                    delta /= 8.0;
                    order = 1;
                    rejected += 1;
                    if delta < delmin {
                        return Err(NodalError::TimestepTooSmall {
                            time,
                            step: delta,
                            min: delmin,
                            worst: self.unknown_name(worst),
                        });
                    }
                }
                Err(e) => return Err(self.failure(e, "transient", Some(t_new))),
                Ok(_) if first => accept_delta = Some(delta),
                Ok(_) => {
                    let mut new_delta = self.truncation_step(order, &deltas);
                    if smooth {
                        new_delta = new_delta
                            .min(self.interpolation_step(&xnew, &x, &xprev, &deltas, &peak));
                    }
                    if new_delta > 0.9 * delta {
                        if order == 1 && max_order >= 2 {
                            let raised = self.truncation_step(2, &deltas);
                            if raised > 1.05 * new_delta {
                                order = 2;
                                new_delta = raised;
                            }
                        }
                        accept_delta = Some(new_delta.min(2.0 * delta));
                    } else {
                        rejected += 1;
                        if new_delta < delmin {
                            return Err(NodalError::TimestepTooSmall {
                                time,
                                step: new_delta,
                                min: delmin,
                                worst: "truncation error".into(),
                            });
                        }
                        delta = new_delta;
                    }
                }
            }
            let Some(next_delta) = accept_delta else {
                continue;
            };
            time = t_new;
            xprev.copy_from_slice(&x);
            x.copy_from_slice(&xnew);
            for (p, v) in peak.iter_mut().zip(&x) {
                *p = p.max(v.abs());
            }
            smooth = !landing;
            self.states.rotate();
            deltas.rotate_right(1);
            push_row(self, time, &x, &mut rows);
            first = false;
            delta = next_delta;
            if landing {
                next_break += 1;
                // Restart at first order with a small step after a corner.
                order = 1;
                let gap = breaks.get(next_break).map_or(f64::INFINITY, |&b| b - time);
                delta = delta.min(0.1 * deltas[1].min(gap)).max(2.0 * delmin);
            }
        }

        Ok(AnalysisOutput {
            kind: AnalysisKind::Tran,
            columns,
            summary: format!(
                "tran: {} time points ({} rejected), {} unknowns, {} Newton iterations, {:.3} s",
                rows.len(),
                rejected,
                self.unknown_count(),
                self.iterations - it0,
                t0.elapsed().as_secs_f64()
            ),
            rows,
        })
    }
}

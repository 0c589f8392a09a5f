//! Transient integration of one device driven by a voltage waveform, for
//! I-V loops and pulse programming without a circuit around the device.
//!
//! Embedded Bogacki-Shampine 3(2) with error control, falling back to
//! backward Euler with step doubling on the steps it rejects (stiff or
//! discontinuous state equations). The state is kept inside the model's
//! bounds at every stage and every implicit solve, so it never overshoots;
//! what happens at a bound (Joglekar's sticking, Biolek's release on current
//! reversal) is then entirely the model's window.

use crate::CompactModel;

/// Why an integration failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IntegrateError {
    #[error("state rate is not finite at t = {t} s, x = {x} (v = {v} V)")]
    NonFinite { t: f64, x: f64, v: f64 },
    #[error("step size fell below {h} s at t = {t} s: the state equation is too stiff here")]
    StepTooSmall { t: f64, h: f64 },
    #[error("more than {0} steps; loosen the tolerances or shorten the run")]
    TooManySteps(usize),
    #[error("invalid integration request: {0}")]
    BadRequest(String),
}

/// Accuracy controls. The absolute tolerance is relative to the width of the
/// state interval, so one setting suits states in metres and in [0, 1] alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub rtol: f64,
    /// Absolute tolerance as a fraction of `hi - lo` of the state bounds.
    pub atol_frac: f64,
    /// Largest step, s. Threshold models have zero rate below threshold; this
    /// keeps the step from growing across a whole above-threshold excursion.
    pub max_step: f64,
    pub max_steps: usize,
}

impl Default for Tolerances {
    fn default() -> Self {
        Self {
            rtol: 1e-7,
            atol_frac: 1e-9,
            max_step: f64::INFINITY,
            max_steps: 50_000_000,
        }
    }
}

/// A terminal-voltage waveform.
#[derive(Debug, Clone, PartialEq)]
pub enum Drive {
    /// `v(t) = amplitude sin(2 pi frequency t)`, as SPICE `SIN(0 A F)`.
    Sine { amplitude: f64, frequency: f64 },
    /// Piecewise linear `(t, v)` with non-decreasing times; held after the last point.
    Pwl(Vec<(f64, f64)>),
}

impl Drive {
    /// Voltage at time `t`, V.
    pub fn voltage(&self, t: f64) -> f64 {
        match self {
            Drive::Sine {
                amplitude,
                frequency,
            } => amplitude * (2.0 * std::f64::consts::PI * frequency * t).sin(),
            Drive::Pwl(points) => pwl_value(points, t),
        }
    }

    /// Times inside `(0, t_end)` where the waveform is not smooth.
    fn breakpoints(&self, t_end: f64) -> Vec<f64> {
        match self {
            Drive::Sine { .. } => Vec::new(),
            Drive::Pwl(points) => points
                .iter()
                .map(|&(t, _)| t)
                .filter(|&t| t > 0.0 && t < t_end)
                .collect(),
        }
    }

    /// A step size that resolves the waveform's shape.
    fn natural_step(&self) -> f64 {
        match self {
            Drive::Sine { frequency, .. } => 1.0 / (200.0 * frequency),
            Drive::Pwl(_) => f64::INFINITY,
        }
    }

    fn validate(&self) -> Result<(), IntegrateError> {
        match self {
            Drive::Sine {
                amplitude,
                frequency,
            } => {
                if !(amplitude.is_finite() && frequency.is_finite() && *frequency > 0.0) {
                    return Err(IntegrateError::BadRequest(format!(
                        "sine needs a finite amplitude and a positive frequency (got {amplitude} V, {frequency} Hz)"
                    )));
                }
            }
            Drive::Pwl(points) => {
                if points.is_empty() {
                    return Err(IntegrateError::BadRequest("empty PWL waveform".into()));
                }
                for (k, &(t, v)) in points.iter().enumerate() {
                    if !t.is_finite() || !v.is_finite() {
                        return Err(IntegrateError::BadRequest(format!(
                            "PWL point {k} is not finite"
                        )));
                    }
                    if k > 0 && t < points[k - 1].0 {
                        return Err(IntegrateError::BadRequest(format!(
                            "PWL times decrease at point {k}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

fn pwl_value(points: &[(f64, f64)], t: f64) -> f64 {
    let k = points.partition_point(|&(tk, _)| tk <= t);
    if k == 0 {
        return points[0].1;
    }
    if k == points.len() {
        return points[k - 1].1;
    }
    let (t0, v0) = points[k - 1];
    let (t1, v1) = points[k];
    if t1 == t0 {
        v1
    } else {
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }
}

/// One output point of a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Time, s.
    pub t: f64,
    /// Terminal voltage, V.
    pub v: f64,
    /// Device current, A.
    pub i: f64,
    /// State (model units).
    pub x: f64,
}

/// Integrates the device from state `x0` at `t = 0` and reports it at each of
/// `times` (non-decreasing, >= 0).
pub fn simulate(
    model: &dyn CompactModel,
    drive: &Drive,
    x0: f64,
    times: &[f64],
    tol: &Tolerances,
) -> Result<Vec<Sample>, IntegrateError> {
    drive.validate()?;
    let (lo, hi) = model.state_bounds();
    if !(x0.is_finite() && (lo..=hi).contains(&x0)) {
        return Err(IntegrateError::BadRequest(format!(
            "initial state {x0} outside the bounds [{lo}, {hi}]"
        )));
    }
    if let Some(k) = (0..times.len())
        .find(|&k| !(times[k].is_finite() && times[k] >= 0.0) || (k > 0 && times[k] < times[k - 1]))
    {
        return Err(IntegrateError::BadRequest(format!(
            "output time {k} ({}) is negative, not finite or out of order",
            times[k]
        )));
    }
    let t_end = times.last().copied().unwrap_or(0.0);
    let mut stops: Vec<f64> = times.to_vec();
    stops.extend(drive.breakpoints(t_end));
    stops.sort_by(f64::total_cmp);
    stops.dedup();
    let tol = Tolerances {
        max_step: tol.max_step.min(drive.natural_step()),
        ..*tol
    };
    let v_of = |t: f64| drive.voltage(t);
    let mut out = Vec::with_capacity(times.len());
    let mut next_out = 0;
    let (mut t, mut x) = (0.0, x0);
    let mut steps = 0;
    let mut h = f64::NAN;
    for &stop in &stops {
        if stop > t {
            let r = advance(model, &v_of, x, t, stop, &tol, &mut h, &mut steps)?;
            x = r;
            t = stop;
        }
        while next_out < times.len() && times[next_out] <= t {
            let tk = times[next_out];
            let v = drive.voltage(tk);
            out.push(Sample {
                t: tk,
                v,
                i: model.current(v, x),
                x,
            });
            next_out += 1;
        }
    }
    Ok(out)
}

/// State after holding the terminal voltage at `v` for `duration` seconds,
/// starting from `x0` (a rectangular programming pulse).
pub fn hold(
    model: &dyn CompactModel,
    v: f64,
    x0: f64,
    duration: f64,
    tol: &Tolerances,
) -> Result<f64, IntegrateError> {
    if !(v.is_finite() && duration.is_finite() && duration >= 0.0) {
        return Err(IntegrateError::BadRequest(format!(
            "pulse of {v} V for {duration} s"
        )));
    }
    let (lo, hi) = model.state_bounds();
    let mut h = f64::NAN;
    let mut steps = 0;
    advance(
        model,
        &|_| v,
        x0.clamp(lo, hi),
        0.0,
        duration,
        tol,
        &mut h,
        &mut steps,
    )
}

/// Adaptive integration from `t0` to `t1`, over which `v_of` is smooth. `h`
/// carries the step size between calls (NaN: pick one).
///
/// Each step first tries embedded Bogacki-Shampine 3(2), cheap and accurate
/// where the state moves smoothly. A step it rejects is retried as backward
/// Euler taken once with the full and twice with half the step (difference:
/// error estimate; `2 x_half - x_full`: second-order Richardson result).
/// Backward Euler is what keeps the stiff and discontinuous cases cheap: a
/// filament gap held at the minimum-field threshold (Stanford-PKU RESET) is a
/// root of its implicit equation that the bracketed solve lands on exactly,
/// where an explicit method chatters across the discontinuity in tiny steps.
#[allow(clippy::too_many_arguments)]
fn advance(
    model: &dyn CompactModel,
    v_of: &dyn Fn(f64) -> f64,
    x0: f64,
    t0: f64,
    t1: f64,
    tol: &Tolerances,
    h: &mut f64,
    steps: &mut usize,
) -> Result<f64, IntegrateError> {
    let (lo, hi) = model.state_bounds();
    let atol = tol.atol_frac * (hi - lo);
    let span = t1 - t0;
    if span <= 0.0 {
        return Ok(x0);
    }
    let rate = |t: f64, x: f64| -> Result<f64, IntegrateError> {
        let v = v_of(t);
        let r = model.state_rate(v, x.clamp(lo, hi));
        if r.is_finite() {
            Ok(r)
        } else {
            Err(IntegrateError::NonFinite { t, x, v })
        }
    };
    let h_min = 1e-14 * span.max(t1.abs());
    if !h.is_finite() || *h <= 0.0 {
        *h = (span / 100.0).min(tol.max_step);
    }
    let (mut t, mut x) = (t0, x0);
    let mut k1 = rate(t, x)?;
    while t < t1 {
        *steps += 1;
        if *steps > tol.max_steps {
            return Err(IntegrateError::TooManySteps(tol.max_steps));
        }
        let mut step = h.min(tol.max_step).min(t1 - t);
        // Land exactly on t1 rather than leave a sliver for the next step.
        if t + 1.01 * step >= t1 {
            step = t1 - t;
        }
        let t_end = if step == t1 - t { t1 } else { t + step };
        let k2 = rate(t + 0.5 * step, x + 0.5 * step * k1)?;
        let k3 = rate(t + 0.75 * step, x + 0.75 * step * k2)?;
        let x_new = x + step * (2.0 / 9.0 * k1 + 1.0 / 3.0 * k2 + 4.0 / 9.0 * k3);
        let x_clamped = x_new.clamp(lo, hi);
        let k4 = rate(t_end, x_clamped)?;
        let err = step * (-5.0 / 72.0 * k1 + 1.0 / 12.0 * k2 + 1.0 / 9.0 * k3 - 1.0 / 8.0 * k4);
        let scale = |y: f64| atol + tol.rtol * x.abs().max(y.abs());
        // A step that runs into a bound is exact up to the clamp when the
        // motion still pushes into the bound there: the state cannot go
        // further, so its (unclamped) error estimate is moot. If the rate at
        // the bound has stopped (a threshold crossed on the way), the clamp
        // is not justified and the step goes to the implicit solve.
        let err_norm = if x_new > hi || x_new < lo {
            if (x_new > hi && k4 > 0.0) || (x_new < lo && k4 < 0.0) {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            err.abs() / scale(x_clamped)
        };
        if err_norm <= 1.0 {
            t = t_end;
            x = x_clamped;
            k1 = k4;
            *h = step * grow(err_norm, 3.0);
            continue;
        }
        let full = euler_step(model, v_of(t_end), x, step, t_end)?;
        let mid = euler_step(model, v_of(t + 0.5 * step), x, 0.5 * step, t + 0.5 * step)?;
        let half = euler_step(model, v_of(t_end), mid, 0.5 * step, t_end)?;
        let be_norm = (half - full).abs() / scale(half);
        if be_norm <= 1.0 {
            t = t_end;
            x = (2.0 * half - full).clamp(lo, hi);
            k1 = rate(t, x)?;
            *h = step * grow(be_norm, 2.0);
        } else {
            let shrink = |e: f64, order: f64| (0.9 * e.powf(-1.0 / order)).clamp(0.1, 0.9);
            *h = step
                * shrink(be_norm, 2.0).max(if err_norm.is_finite() {
                    shrink(err_norm, 3.0)
                } else {
                    0.1
                });
            if *h < h_min {
                return Err(IntegrateError::StepTooSmall { t, h: *h });
            }
        }
    }
    Ok(x)
}

/// Step growth after an accepted step with error norm `e` of a method whose
/// local error scales as `h^order`.
fn grow(e: f64, order: f64) -> f64 {
    if e == 0.0 {
        5.0
    } else {
        (0.9 * e.powf(-1.0 / order)).clamp(0.2, 5.0)
    }
}

/// One backward-Euler step: the root of `F(y) = y - x - h g(v, y)` within the
/// state bounds, by Newton safeguarded with bisection. Without a sign change
/// inside the bounds the motion runs into a bound, which is the answer.
fn euler_step(
    model: &dyn CompactModel,
    v: f64,
    x: f64,
    h: f64,
    t: f64,
) -> Result<f64, IntegrateError> {
    let (lo, hi) = model.state_bounds();
    let rate = |y: f64| -> Result<f64, IntegrateError> {
        let r = model.state_rate(v, y);
        if r.is_finite() {
            Ok(r)
        } else {
            Err(IntegrateError::NonFinite { t, x: y, v })
        }
    };
    let f = |y: f64| -> Result<f64, IntegrateError> { Ok(y - x - h * rate(y)?) };
    let r0 = rate(x)?;
    if r0 == 0.0 {
        return Ok(x);
    }
    // F(x) = -h g(x): the root lies on the side the state moves to.
    let (mut a, mut b) = if r0 > 0.0 { (x, hi) } else { (lo, x) };
    let (fa, fb) = (f(a)?, f(b)?);
    if r0 > 0.0 && fb <= 0.0 {
        return Ok(hi);
    }
    if r0 < 0.0 && fa >= 0.0 {
        return Ok(lo);
    }
    // Invariant: F(a) < 0 < F(b).
    let mut y = (x + h * r0).clamp(a, b);
    let width_tol = 1e-15 * (hi - lo).max(x.abs());
    for _ in 0..200 {
        let fy = f(y)?;
        if fy == 0.0 {
            return Ok(y);
        }
        if fy < 0.0 {
            a = y;
        } else {
            b = y;
        }
        if b - a <= width_tol {
            return Ok(0.5 * (a + b));
        }
        let slope = 1.0 - h * model.state_rate_dx(v, y);
        let newton = y - fy / slope;
        // Newton while it stays inside the bracket and the slope is sane,
        // bisection otherwise (steps across the threshold discontinuity).
        y = if slope.is_finite() && slope > 0.0 && newton > a && newton < b {
            newton
        } else {
            0.5 * (a + b)
        };
    }
    Ok(0.5 * (a + b))
}

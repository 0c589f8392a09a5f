//! `.meas` evaluation on an analysis' vectors, following ngspice's measure
//! code (`com_measure2.c`) step for step: the same crossing counting, the
//! same linear interpolation, the same window rules (TO=0 means "no end" on
//! transients, a DC window is closed on both sides), the same Simpson /
//! trapezoid integration for RMS and INTEG, and the same printed lines.
//!
//! `DERIV` is reported unsupported by ngspice 39; xbar measures it as the
//! value at the point of ngspice's own `deriv()` vector function (the
//! derivative of the quadratic through each point and its neighbours),
//! interpolated linearly like `FIND ... AT`.

use std::collections::BTreeMap;
use xbar_netlist::expr::{Dialect, Expr, ExprError};

use xbar_netlist::measure::{
    Count, Crossing, Edge, Level, MeasAnalysis, MeasVector, Measure, MeasureKind, Point, Statistic,
    Window,
};

/// The vectors a measurement may read: the analysis' scale and a lookup
/// that returns a vector (the real number ngspice takes of an AC value
/// already applied).
pub struct MeasData<'a> {
    pub scale: &'a [f64],
    pub lookup: &'a dyn Fn(&MeasVector) -> Option<Vec<f64>>,
}

/// One measurement's outcome, with the text ngspice prints for it.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasResult {
    pub name: String,
    /// `None` when the measurement failed.
    pub value: Option<f64>,
    /// The stdout line (`name = value ...`); for a failed PARAM measurement
    /// `name = failed`, for other failures empty (ngspice prints nothing).
    pub line: String,
    /// ngspice's stderr message for a failure.
    pub error: Option<String>,
}

/// ngspice's open ends of a DC window.
const DC_LIMIT: f64 = 1e99;

/// The header ngspice prints before an analysis' measurements.
pub fn header(analysis: MeasAnalysis) -> &'static str {
    match analysis {
        MeasAnalysis::Tran => "  Measurements for Transient Analysis",
        MeasAnalysis::Dc => "  Measurements for DC Analysis",
        MeasAnalysis::Ac => "  Measurements for AC Analysis",
    }
}

/// Runs every measurement of `analysis` in deck order, as ngspice does after
/// that analysis: first all but PARAM, then PARAM over the deck parameters
/// and the results so far. `precision` is the digits ngspice prints for
/// WHEN, RMS, INTEG and PARAM results (`NGSPICE_MEAS_PRECISION`, 5 unless set).
pub fn run_measures(
    measures: &[Measure],
    analysis: MeasAnalysis,
    data: &MeasData,
    params: &BTreeMap<String, f64>,
    precision: usize,
) -> Vec<MeasResult> {
    let mine: Vec<&Measure> = measures.iter().filter(|m| m.analysis == analysis).collect();
    let mut known = params.clone();
    let mut results: Vec<Option<MeasResult>> = mine
        .iter()
        .map(|m| {
            if matches!(m.kind, MeasureKind::Param { .. }) {
                return None;
            }
            let result = measure(m, data, precision, Caller::Deck);
            if let Some(value) = result.value {
                known.insert(m.name.clone(), value);
            }
            Some(result)
        })
        .collect();
    for (slot, m) in results.iter_mut().zip(&mine) {
        if slot.is_none() {
            let result = param(m, &known, precision);
            if let Some(value) = result.value {
                known.insert(m.name.clone(), value);
            }
            *slot = Some(result);
        }
    }
    results.into_iter().flatten().collect()
}

/// A PARAM measurement: its expression over `known` names.
pub fn param(m: &Measure, known: &BTreeMap<String, f64>, precision: usize) -> MeasResult {
    let MeasureKind::Param { expr, .. } = &m.kind else {
        unreachable!("param() is called on PARAM measurements only");
    };
    let value = expr
        .eval(Dialect::Numparam, &mut |leaf: &Expr| match leaf {
            Expr::Param(name) => known
                .get(name)
                .copied()
                .ok_or_else(|| ExprError::Domain(format!("`{name}` is not defined"))),
            other => Err(ExprError::Domain(format!(
                "`{other:?}` is not a measurement or parameter"
            ))),
        })
        .ok();
    let line = match value {
        Some(v) => format!("{:<20}=  {}", m.name, c_exp(v, precision)),
        None => format!("{:<20}=   failed", m.name),
    };
    MeasResult {
        name: m.name.clone(),
        value,
        line,
        error: None,
    }
}

/// Where a measurement's line is printed: ngspice formats a few results
/// differently after a dot analysis and for a `meas` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Deck,
    Command,
}

/// Evaluates one non-PARAM measurement.
pub fn measure(m: &Measure, data: &MeasData, precision: usize, caller: Caller) -> MeasResult {
    match evaluate(m, data, precision, caller) {
        Ok((value, line)) => MeasResult {
            name: m.name.clone(),
            value: Some(value),
            line,
            error: None,
        },
        Err(message) => MeasResult {
            name: m.name.clone(),
            value: None,
            line: String::new(),
            error: Some(format!("{message}\n {} failed!\n", m.text)),
        },
    }
}

/// The failure text ngspice prints for a clause of a measurement.
fn failure(m: &Measure, clause: &str, why: &str) -> String {
    format!(
        "\nError: measure  {}  {}({clause}) : {why}",
        m.name,
        function_word(m)
    )
}

/// The function as the deck wrote it (ngspice echoes that spelling).
fn function_word(m: &Measure) -> String {
    m.text
        .split_whitespace()
        .nth(3)
        .unwrap_or_default()
        .to_string()
}

fn evaluate(
    m: &Measure,
    data: &MeasData,
    precision: usize,
    caller: Caller,
) -> Result<(f64, String), String> {
    let e6 = |v: f64| c_exp(v, 6);
    let ep = |v: f64| c_exp(v, precision);
    // WHEN, RMS and INTEG lines after a dot analysis have one more space.
    let gap = match caller {
        Caller::Deck => "   ",
        Caller::Command => "  ",
    };
    let vector = |v: &MeasVector| -> Result<Vec<f64>, String> {
        (data.lookup)(v).ok_or_else(|| format!("Error: no such vector as {}.", v.name))
    };
    let window = |w: &Window| resolve_window(w, m.analysis);
    match &m.kind {
        MeasureKind::TrigTarg { trig, targ } => {
            let trig_at = point(m.analysis, trig, data, &vector)?
                .ok_or_else(|| failure(m, "TRIG", "out of interval"))?;
            let targ_at = point(m.analysis, targ, data, &vector)?
                .ok_or_else(|| failure(m, "TARG", "out of interval"))?;
            let value = targ_at - trig_at;
            Ok((
                value,
                format!(
                    "{:<20}=  {} targ=  {} trig=  {}",
                    m.name,
                    e6(value),
                    e6(targ_at),
                    e6(trig_at)
                ),
            ))
        }
        MeasureKind::Find { vector: v, at } => {
            let x = point(m.analysis, at, data, &vector)?
                .ok_or_else(|| failure(m, "AT", "out of interval"))?;
            let values = vector(v)?;
            let value = value_at(m.analysis, data.scale, &values, x)
                .ok_or_else(|| failure(m, "AT", "out of interval"))?;
            Ok((value, format!("{:<20}=  {}", m.name, e6(value))))
        }
        MeasureKind::When(crossing) => {
            let x = when(m.analysis, crossing, data, &vector)?
                .ok_or_else(|| failure(m, "WHEN", "out of interval"))?;
            let text = match caller {
                Caller::Deck => ep(x),
                Caller::Command => e6(x),
            };
            Ok((x, format!("{:<20}={gap}{text}", m.name)))
        }
        MeasureKind::Deriv { vector: v, at } => {
            let x = point(m.analysis, at, data, &vector)?
                .ok_or_else(|| failure(m, "AT", "out of interval"))?;
            let slope = derivative(data.scale, &vector(v)?);
            let value = value_at(m.analysis, data.scale, &slope, x)
                .ok_or_else(|| failure(m, "AT", "out of interval"))?;
            Ok((value, format!("{:<20}=  {}", m.name, e6(value))))
        }
        MeasureKind::Statistic {
            statistic,
            vector: v,
            window: w,
        } => {
            let values = vector(v)?;
            let (from, to) = window(w);
            let out = || failure(m, "TRIG", "out of interval");
            match statistic {
                Statistic::Rms | Statistic::Integ => {
                    let (value, start, end) =
                        rms_integral(data.scale, &values, from, to, *statistic == Statistic::Rms);
                    if value.is_nan() {
                        return Err(out());
                    }
                    Ok((
                        value,
                        format!(
                            "{:<20}={gap}{} from=  {} to=  {}",
                            m.name,
                            ep(value),
                            ep(start),
                            ep(end)
                        ),
                    ))
                }
                Statistic::Avg => {
                    let found =
                        min_max_avg(m.analysis, data.scale, &values, from, to, Extremum::Avg)
                            .ok_or_else(out)?;
                    Ok((
                        found.value,
                        format!(
                            "{:<20}=  {} from=  {} to=  {}",
                            m.name,
                            e6(found.value),
                            e6(from),
                            e6(found.at)
                        ),
                    ))
                }
                Statistic::Min | Statistic::Max | Statistic::MinAt | Statistic::MaxAt => {
                    let which = if matches!(statistic, Statistic::Min | Statistic::MinAt) {
                        Extremum::Min
                    } else {
                        Extremum::Max
                    };
                    let found = min_max_avg(m.analysis, data.scale, &values, from, to, which)
                        .ok_or_else(out)?;
                    if matches!(statistic, Statistic::Min | Statistic::Max) {
                        Ok((
                            found.value,
                            format!("{:<20}=  {} at=  {}", m.name, e6(found.value), e6(found.at)),
                        ))
                    } else {
                        Ok((
                            found.at,
                            format!(
                                "{:<20}=  {} with=  {}",
                                m.name,
                                e6(found.at),
                                e6(found.value)
                            ),
                        ))
                    }
                }
                Statistic::Pp => {
                    let low = min_max_avg(m.analysis, data.scale, &values, from, to, Extremum::Min)
                        .ok_or_else(out)?;
                    let high =
                        min_max_avg(m.analysis, data.scale, &values, from, to, Extremum::Max)
                            .ok_or_else(out)?;
                    let value = high.value - low.value;
                    Ok((
                        value,
                        format!(
                            "{:<20}=  {} from=  {} to=  {}",
                            m.name,
                            e6(value),
                            e6(from),
                            e6(to)
                        ),
                    ))
                }
            }
        }
        MeasureKind::Param { .. } => unreachable!("PARAM measurements are evaluated by param()"),
    }
}

/// ngspice's FROM/TO with its defaults: 0 ("unset") on transients and AC,
/// the whole real line on DC.
fn resolve_window(w: &Window, analysis: MeasAnalysis) -> (f64, f64) {
    match analysis {
        MeasAnalysis::Dc => (w.from.unwrap_or(-DC_LIMIT), w.to.unwrap_or(DC_LIMIT)),
        _ => (w.from.unwrap_or(0.0), w.to.unwrap_or(0.0)),
    }
}

/// The scale value of a TRIG/TARG/AT point; `Ok(None)` when no crossing is found.
fn point(
    analysis: MeasAnalysis,
    p: &Point,
    data: &MeasData,
    vector: &dyn Fn(&MeasVector) -> Result<Vec<f64>, String>,
) -> Result<Option<f64>, String> {
    match p {
        Point::At(at) => Ok(Some(*at)),
        Point::When(c) => when(analysis, c, data, vector),
    }
}

/// ngspice's `MEASURE_DEFAULT` / `MEASURE_LAST_TRANSITION` encoding of the
/// RISE/FALL/CROSS counts.
const DEFAULT: i32 = -1;
const LAST: i32 = -2;

fn counts(edge: Edge) -> (i32, i32, i32) {
    let n = |c: Count| match c {
        Count::Nth(n) => n,
        Count::Last => LAST,
    };
    match edge {
        Edge::First => (DEFAULT, DEFAULT, DEFAULT),
        Edge::Rise(c) => (n(c), DEFAULT, DEFAULT),
        Edge::Fall(c) => (DEFAULT, n(c), DEFAULT),
        Edge::Cross(c) => (DEFAULT, DEFAULT, n(c)),
    }
}

/// `com_measure_when`: the scale value where the vector crosses the level.
fn when(
    analysis: MeasAnalysis,
    c: &Crossing,
    data: &MeasData,
    vector: &dyn Fn(&MeasVector) -> Result<Vec<f64>, String>,
) -> Result<Option<f64>, String> {
    let values = vector(&c.vector)?;
    let (level, second) = match &c.level {
        Level::Value(v) => (*v, None),
        Level::Vector(v) => (f64::NAN, Some(vector(v)?)),
    };
    let (rise, fall, cross) = counts(c.edge);
    let (from, to) = resolve_window(&c.window, analysis);
    let mut td = c.td;
    let (mut rise_count, mut fall_count, mut cross_count) = (0, 0, 0);
    let mut above = false;
    let (mut prev, mut prev2, mut prev_scale) = (0.0, 0.0, 0.0);
    let mut first = 0;
    let mut pending = false;
    let mut measured = None;
    let n = values.len().min(data.scale.len());
    for i in 0..n {
        let (value, scale) = (values[i], data.scale[i]);
        let value2 = second.as_ref().map_or(f64::NAN, |s| s[i]);
        // On DC, TD holds the sweep start: a nested sweep restarting there
        // restarts the search.
        if analysis == MeasAnalysis::Dc && i == 0 {
            td = scale;
        }
        match analysis {
            MeasAnalysis::Tran if scale < td => continue,
            MeasAnalysis::Ac if scale < 0.0 => continue,
            _ => {}
        }
        if analysis == MeasAnalysis::Dc {
            if scale < from || scale > to {
                continue;
            }
        } else {
            if scale < from {
                continue;
            }
            if to != 0.0 && scale > to {
                break;
            }
        }
        if first > 1 && analysis == MeasAnalysis::Dc && td == scale {
            first = 1;
        }
        let (now, before) = match second {
            Some(_) => (value2, prev2),
            None => (level, level),
        };
        if first == 1 {
            cross_count = 0;
            if value < now {
                above = false;
                if prev >= before {
                    fall_count = 1;
                    cross_count = 1;
                }
            } else {
                above = true;
                if prev < before {
                    rise_count = 1;
                    cross_count = 1;
                }
            }
        }
        if first > 1 {
            if !above && value >= now {
                above = true;
                cross_count += 1;
                rise_count += 1;
                pending |= fall != LAST;
            } else if above && value <= now {
                above = false;
                cross_count += 1;
                fall_count += 1;
                pending |= rise != LAST;
            }
            let crossing = match second {
                Some(_) => {
                    prev_scale
                        + (prev2 - prev) * (scale - prev_scale) / (value - prev - value2 + prev2)
                }
                None => prev_scale + (level - prev) * (scale - prev_scale) / (value - prev),
            };
            if cross_count == cross || rise_count == rise || fall_count == fall {
                return Ok(finite(crossing));
            }
            if pending {
                if cross == DEFAULT && rise == DEFAULT && fall == DEFAULT {
                    return Ok(finite(crossing));
                }
                if cross == LAST || rise == LAST || fall == LAST {
                    measured = Some(crossing);
                }
                pending = false;
            }
        }
        first += 1;
        prev = value;
        if second.is_some() {
            prev2 = value2;
        }
        prev_scale = scale;
    }
    Ok(measured.and_then(finite))
}

fn finite(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

/// `measure_at`: the vector linearly interpolated at scale value `at` (a DC
/// sweep may run downwards).
fn value_at(analysis: MeasAnalysis, scale: &[f64], values: &[f64], at: f64) -> Option<f64> {
    let n = values.len().min(scale.len());
    for i in 1..n {
        let (ps, s, pv, v) = (scale[i - 1], scale[i], values[i - 1], values[i]);
        let upward = ps <= at && s >= at;
        let downward = analysis == MeasAnalysis::Dc && ps >= at && s <= at;
        if upward || downward {
            return finite(pv + (at - ps) * (v - pv) / (s - ps));
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Extremum {
    Min,
    Max,
    Avg,
}

struct Found {
    value: f64,
    /// Where the extremum is; for AVG the last scale value looked at (what
    /// ngspice prints as `to=`).
    at: f64,
}

/// `measure_minMaxAvg`: no interpolation at the window's ends (as ngspice).
fn min_max_avg(
    analysis: MeasAnalysis,
    scale: &[f64],
    values: &[f64],
    from: f64,
    to: f64,
    which: Extremum,
) -> Option<Found> {
    let (mut best, mut best_at) = (0.0, 0.0);
    let (mut span, mut prev, mut prev_scale) = (0.0, 0.0, 0.0);
    let mut last_scale = 0.0;
    let mut started = false;
    for (&value, &s) in values.iter().zip(scale) {
        last_scale = s;
        if analysis == MeasAnalysis::Dc {
            if s < from || s > to {
                continue;
            }
        } else {
            if s < from {
                continue;
            }
            if to != 0.0 && s > to {
                break;
            }
        }
        if !started {
            started = true;
            best = if which == Extremum::Avg { 0.0 } else { value };
            best_at = s;
            prev = value;
            prev_scale = s;
            continue;
        }
        match which {
            Extremum::Min if value <= best => (best, best_at) = (value, s),
            Extremum::Max if value >= best => (best, best_at) = (value, s),
            Extremum::Avg => {
                best += 0.5 * (value + prev) * (s - prev_scale);
                span += s - prev_scale;
                prev = value;
                prev_scale = s;
            }
            _ => {}
        }
    }
    if !started {
        return None;
    }
    match which {
        Extremum::Avg => finite(best / span).map(|value| Found {
            value,
            at: last_scale,
        }),
        _ => Some(Found {
            value: best,
            at: best_at,
        }),
    }
}

/// ngspice's `AlmostEqualUlps`: equal within `max_ulps` representable doubles.
fn almost_equal_ulps(a: f64, b: f64, max_ulps: i64) -> bool {
    if a == b {
        return true;
    }
    let ordered = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i64::MIN.wrapping_sub(bits)
        } else {
            bits
        }
    };
    ordered(a).wrapping_sub(ordered(b)).unsigned_abs() <= max_ulps as u64
}

/// `measure_rms_integral`: the window's ends interpolated, then Simpson's
/// 3/8 rule where three equal widths follow, 1/3 where two do, trapezoids
/// elsewhere. Returns (value, from, to) as ngspice prints them.
fn rms_integral(scale: &[f64], values: &[f64], from: f64, to: f64, rms: bool) -> (f64, f64, f64) {
    let n = values.len().min(scale.len());
    let interpolate = |i: usize, x: f64| {
        let slope = (values[i] - values[i - 1]) / (scale[i] - scale[i - 1]);
        let intercept = values[i - 1] - slope * scale[i - 1];
        slope * x + intercept
    };
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    let mut start = f64::NAN;
    let mut end: Option<f64> = None;
    let square = |y: f64| if rms { y * y } else { y };
    for i in 0..n {
        let (mut x, mut y) = (scale[i], values[i]);
        if x < from {
            continue;
        }
        if to != 0.0 && x > to {
            if i > 0 && !almost_equal_ulps(x, to, 100) {
                y = interpolate(i, to);
                x = to;
            }
            xs.push(x);
            ys.push(square(y));
            end = Some(x);
            break;
        }
        if xs.is_empty() {
            if from != 0.0 && i > 0 && !almost_equal_ulps(x, from, 100) {
                y = interpolate(i, from);
                x = from;
            }
            start = x;
        }
        xs.push(x);
        ys.push(square(y));
    }
    let count = xs.len();
    let width = |i: usize| {
        if i + 1 < count {
            xs[i + 1] - xs[i]
        } else {
            0.0
        }
    };
    let mut sum = 0.0;
    let mut i = 0;
    while i + 1 < count {
        let (w0, w1, w2) = (width(i), width(i + 1), width(i + 2));
        if almost_equal_ulps(w0, w1, 100) && almost_equal_ulps(w0, w2, 100) && i + 3 < count {
            sum += 3.0 * w0 * (ys[i] + 3.0 * (ys[i + 1] + ys[i + 2]) + ys[i + 3]) / 8.0;
            i += 3;
        } else if almost_equal_ulps(w0, w1, 100) && i + 2 < count {
            sum += w0 * (ys[i] + 4.0 * ys[i + 1] + ys[i + 2]) / 3.0;
            i += 2;
        } else {
            sum += w0 * (ys[i] + ys[i + 1]) / 2.0;
            i += 1;
        }
    }
    let end = end.unwrap_or_else(|| scale.get(n.wrapping_sub(1)).copied().unwrap_or(f64::NAN));
    let value = if rms {
        (sum / (end - start)).sqrt()
    } else {
        sum
    };
    (value, start, end)
}

/// ngspice's `deriv()` with its default quadratic: at every point the slope
/// of the parabola through it and its two neighbours (at the ends, through
/// the first or last three points).
pub fn derivative(scale: &[f64], values: &[f64]) -> Vec<f64> {
    let n = values.len().min(scale.len());
    if n < 3 {
        // Too short for a parabola: the chord's slope.
        let slope = if n == 2 {
            (values[1] - values[0]) / (scale[1] - scale[0])
        } else {
            f64::NAN
        };
        return vec![slope; n];
    }
    (0..n)
        .map(|j| {
            let c = j.clamp(1, n - 2);
            let (x0, x1, x2) = (scale[c - 1], scale[c], scale[c + 1]);
            let (y0, y1, y2) = (values[c - 1], values[c], values[c + 1]);
            let x = scale[j];
            // Derivative of the Lagrange parabola through the three points.
            y0 * (2.0 * x - x1 - x2) / ((x0 - x1) * (x0 - x2))
                + y1 * (2.0 * x - x0 - x2) / ((x1 - x0) * (x1 - x2))
                + y2 * (2.0 * x - x0 - x1) / ((x2 - x0) * (x2 - x1))
        })
        .collect()
}

/// C's `%.{precision}e`: at least two exponent digits, sign always shown.
pub fn c_exp(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    let text = format!("{value:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').expect("`e` format has an exponent");
    let exponent: i32 = exponent.parse().expect("exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xbar_netlist::measure::{ComplexPart, MeasureKind};

    /// A triangle wave 0 -> 1 -> 0 -> 1 -> 0 over t = 0..4, sampled every 0.1.
    fn triangle() -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..=40).map(|k| k as f64 * 0.1).collect();
        let v = t
            .iter()
            .map(|&x| {
                let phase = x % 2.0;
                if phase <= 1.0 {
                    phase
                } else {
                    2.0 - phase
                }
            })
            .collect();
        (t, v)
    }

    fn vector() -> MeasVector {
        MeasVector {
            name: "v(out)".into(),
            part: ComplexPart::Real,
        }
    }

    fn run(kind: MeasureKind) -> Option<f64> {
        let (t, v) = triangle();
        let lookup = move |_: &MeasVector| Some(v.clone());
        let data = MeasData {
            scale: &t,
            lookup: &lookup,
        };
        let m = Measure {
            name: "m".into(),
            analysis: MeasAnalysis::Tran,
            kind,
            text: ".meas tran m".into(),
            loc: Default::default(),
        };
        measure(&m, &data, 5, Caller::Deck).value
    }

    fn crossing(level: f64, edge: Edge, td: f64) -> Crossing {
        Crossing {
            vector: vector(),
            level: Level::Value(level),
            edge,
            td,
            window: Window::default(),
        }
    }

    fn close(got: Option<f64>, want: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() < 1e-12)
    }

    #[test]
    fn crossings_count_rises_falls_and_the_last_one() {
        let when = |edge, td| run(MeasureKind::When(crossing(0.25, edge, td)));
        assert!(close(when(Edge::First, 0.0), 0.25));
        assert!(close(when(Edge::Rise(Count::Nth(2)), 0.0), 2.25));
        assert!(close(when(Edge::Fall(Count::Nth(1)), 0.0), 1.75));
        assert!(close(when(Edge::Cross(Count::Nth(3)), 0.0), 2.25));
        assert!(close(when(Edge::Cross(Count::Last), 0.0), 3.75));
        assert!(close(when(Edge::Rise(Count::Last), 0.0), 2.25));
        assert!(close(when(Edge::First, 1.0), 1.75));
        assert_eq!(when(Edge::Rise(Count::Nth(3)), 0.0), None);
        let delay = run(MeasureKind::TrigTarg {
            trig: Point::At(0.5),
            targ: Point::When(crossing(0.5, Edge::Fall(Count::Nth(1)), 0.0)),
        });
        assert!(close(delay, 1.0));
    }

    #[test]
    fn values_statistics_and_integrals_match_closed_forms() {
        let find = run(MeasureKind::Find {
            vector: vector(),
            at: Point::At(1.25),
        });
        assert!(close(find, 0.75));
        let statistic = |statistic, from, to| {
            run(MeasureKind::Statistic {
                statistic,
                vector: vector(),
                window: Window { from, to },
            })
        };
        // Mean of a triangle over whole periods is 1/2; on the ramp t in
        // [0, 0.9] (three equal 3/8-rule panels, exact on the quadratic t^2)
        // the RMS is 0.9/sqrt(3).
        assert!(close(statistic(Statistic::Avg, None, None), 0.5));
        assert!(close(
            statistic(Statistic::Rms, None, Some(0.9)),
            0.9 / 3f64.sqrt()
        ));
        assert!(close(
            statistic(Statistic::Integ, Some(0.05), Some(1.0)),
            0.5 - 0.00125
        ));
        assert!(close(statistic(Statistic::Max, Some(1.5), Some(2.5)), 0.5));
        assert!(close(
            statistic(Statistic::MinAt, Some(1.5), Some(2.5)),
            2.0
        ));
        assert!(close(statistic(Statistic::Pp, None, None), 1.0));
        let slope = run(MeasureKind::Deriv {
            vector: vector(),
            at: Point::When(crossing(0.5, Edge::Fall(Count::Nth(1)), 0.0)),
        });
        assert!(close(slope, -1.0));
    }

    #[test]
    fn c_style_exponents() {
        assert_eq!(c_exp(6.935719e-7, 6), "6.935719e-07");
        assert_eq!(c_exp(0.0, 6), "0.000000e+00");
        assert_eq!(c_exp(-9.80737e-10, 5), "-9.80737e-10");
        assert_eq!(c_exp(1.5e123, 2), "1.50e+123");
    }

    #[test]
    fn ulps() {
        assert!(almost_equal_ulps(1.0, 1.0 + 50.0 * f64::EPSILON, 100));
        assert!(!almost_equal_ulps(1.0, 1.0 + 1e-10, 100));
        assert!(almost_equal_ulps(0.0, -0.0, 100));
    }

    #[test]
    fn parabola_slope_is_exact_on_quadratics() {
        let xs: Vec<f64> = [0.0, 0.3, 0.5, 1.1, 1.2, 2.0].to_vec();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x * x - x + 2.0).collect();
        for (x, d) in xs.iter().zip(derivative(&xs, &ys)) {
            assert!((d - (6.0 * x - 1.0)).abs() < 1e-12, "{x}: {d}");
        }
    }

    #[test]
    fn simpson_integrates_cubics_exactly_on_even_grids() {
        let xs: Vec<f64> = (0..=12).map(|k| k as f64 * 0.25).collect();
        let ys: Vec<f64> = xs.iter().map(|x| x * x * x).collect();
        let (value, from, to) = rms_integral(&xs, &ys, 0.0, 0.0, false);
        assert!((value - 3f64.powi(4) / 4.0).abs() < 1e-12, "{value}");
        assert_eq!((from, to), (0.0, 3.0));
    }
}

//! Independent-source waveforms (PULSE, PWL, SIN) evaluated as ngspice's
//! vsrcload/isrcload do, with ngspice's defaults and their breakpoints.

use xbar_netlist::{Source, Waveform};

/// The transient run a waveform's defaults depend on.
#[derive(Debug, Clone, Copy)]
pub struct TranSpan {
    pub tstep: f64,
    pub tstop: f64,
}

/// Which value an analysis asks a source for.
#[derive(Debug, Clone, Copy)]
pub enum SourceMode {
    /// `.op` / `.dc`: the DC value (the parser already gave a source with
    /// no DC value its waveform's time-zero value, as ngspice does).
    Dc,
    /// Transient (including its operating point at `t = 0`).
    Tran { time: f64, span: TranSpan },
}

/// A source's value under `mode`.
pub fn source_value(src: &Source, mode: SourceMode) -> f64 {
    match (mode, &src.waveform) {
        (SourceMode::Dc, _) | (_, None) => src.dc,
        (SourceMode::Tran { time, span }, Some(w)) => eval(w, time, span),
    }
}

fn given_or(v: Option<f64>, default: f64) -> f64 {
    match v {
        Some(x) if x != 0.0 => x,
        _ => default,
    }
}

/// Resolved pulse timing.
struct Pulse {
    v1: f64,
    v2: f64,
    td: f64,
    tr: f64,
    tf: f64,
    pw: f64,
    per: f64,
}

fn pulse(w: &Waveform, span: TranSpan) -> Option<Pulse> {
    match *w {
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        } => Some(Pulse {
            v1,
            v2,
            td: td.unwrap_or(0.0),
            tr: given_or(tr, span.tstep),
            tf: given_or(tf, span.tstep),
            pw: given_or(pw, span.tstop),
            per: given_or(per, span.tstop),
        }),
        _ => None,
    }
}

/// The corner a pulse schedules when the run lands on a corner at `now`
/// (ngspice's VSRCaccept): corners count as reached within 1e-7 of the
/// pulse width.
fn next_pulse_corner(p: &Pulse, now: f64) -> Option<f64> {
    let reached = |a: f64, b: f64| (a - b).abs() <= 1e-7 * p.pw;
    let mut time = now - p.td;
    let mut base = 0.0;
    if time >= p.per {
        base = p.per * (time / p.per).floor();
        time -= base;
    }
    let at = base + p.td;
    let (rise_end, fall_start, fall_end) = (p.tr, p.tr + p.pw, p.tr + p.pw + p.tf);
    if time <= 0.0 || time >= fall_end {
        if reached(time, 0.0) {
            Some(at + rise_end)
        } else if reached(fall_end, time) {
            Some(at + p.per)
        } else if time == -p.td {
            Some(at)
        } else if reached(p.per, time) {
            Some(at + rise_end + p.per)
        } else {
            None
        }
    } else if time >= rise_end && time <= fall_start {
        if reached(time, rise_end) {
            Some(at + fall_start)
        } else if reached(fall_start, time) {
            Some(at + fall_end)
        } else {
            None
        }
    } else if time > 0.0 && time < rise_end {
        if reached(time, 0.0) {
            Some(at + rise_end)
        } else if reached(time, rise_end) {
            Some(at + fall_start)
        } else {
            None
        }
    } else if reached(time, fall_start) {
        Some(at + fall_end)
    } else if reached(time, fall_end) {
        Some(at + p.per)
    } else {
        None
    }
}

/// Waveform value at `time`.
pub fn eval(w: &Waveform, time: f64, span: TranSpan) -> f64 {
    match w {
        Waveform::Pulse { .. } => {
            let Some(p) = pulse(w, span) else {
                return 0.0;
            };
            let mut t = time - p.td;
            // Strictly after the period, as ngspice: at a whole period the
            // pulse still shows the end of the period before (a pulse
            // longer than its period jumps back to v1 just after it).
            if t > p.per {
                t -= p.per * (t / p.per).floor();
            }
            if t <= 0.0 || t >= p.tr + p.pw + p.tf {
                p.v1
            } else if t >= p.tr && t <= p.tr + p.pw {
                p.v2
            } else if t > 0.0 && t < p.tr {
                p.v1 + (p.v2 - p.v1) * t / p.tr
            } else {
                p.v2 + (p.v1 - p.v2) * (t - (p.tr + p.pw)) / p.tf
            }
        }
        Waveform::Pwl(points) => pwl(points, time),
        &Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let freq = given_or(freq, 1.0 / span.tstop);
            let td = td.unwrap_or(0.0);
            let theta = theta.unwrap_or(0.0);
            let phase = phase.unwrap_or(0.0).to_radians();
            let t = time - td;
            if t <= 0.0 {
                vo + va * phase.sin()
            } else {
                vo + va * (2.0 * std::f64::consts::PI * freq * t + phase).sin() * (-t * theta).exp()
            }
        }
    }
}

fn pwl(points: &[(f64, f64)], time: f64) -> f64 {
    let Some(&(t0, v0)) = points.first() else {
        return 0.0;
    };
    if time <= t0 {
        return v0;
    }
    // First corner at or after `time`.
    let k = points.partition_point(|&(t, _)| t < time);
    if k >= points.len() {
        return points[points.len() - 1].1;
    }
    let (ta, va) = points[k - 1];
    let (tb, vb) = points[k];
    if tb <= ta {
        return vb;
    }
    va + (vb - va) * (time - ta) / (tb - ta)
}

/// Corners of the waveform within `[0, tstop]` (at most `limit + 1`),
/// where the transient must land exactly and restart at first order: the
/// times ngspice 39's source accept routine schedules. A pulse schedules
/// its next corner each time the run lands on one, starting at t = 0, so
/// a pulse whose rise + width + fall exceed its period keeps the corners
/// of that chain only (its restart at each period is stepped over, as in
/// ngspice). PWL corners are all breakpoints; sines have none.
pub fn breakpoints(w: &Waveform, span: TranSpan, limit: usize) -> Vec<f64> {
    let mut out = Vec::new();
    match w {
        Waveform::Pulse { .. } => {
            if let Some(p) = pulse(w, span) {
                let mut now = 0.0;
                while out.len() <= limit {
                    match next_pulse_corner(&p, now) {
                        Some(next) if next > now && next <= span.tstop => {
                            out.push(next);
                            now = next;
                        }
                        _ => break,
                    }
                }
            }
        }
        Waveform::Pwl(points) => {
            out.extend(
                points
                    .iter()
                    .map(|&(t, _)| t)
                    .filter(|&t| t <= span.tstop)
                    .take(limit + 1),
            );
        }
        Waveform::Sin { .. } => {}
    }
    out.retain(|&t| t >= 0.0);
    out
}

/// Every numeric field of a waveform, named, for parameter validation.
pub fn fields(w: &Waveform) -> Vec<(&'static str, f64)> {
    match w {
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        } => {
            let mut v = vec![("v1", *v1), ("v2", *v2)];
            for (n, x) in [("td", td), ("tr", tr), ("tf", tf), ("pw", pw), ("per", per)] {
                if let Some(x) = x {
                    v.push((n, *x));
                }
            }
            v
        }
        Waveform::Pwl(points) => points
            .iter()
            .flat_map(|&(t, v)| [("pwl time", t), ("pwl value", v)])
            .collect(),
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let mut v = vec![("vo", *vo), ("va", *va)];
            for (n, x) in [
                ("freq", freq),
                ("td", td),
                ("theta", theta),
                ("phase", phase),
            ] {
                if let Some(x) = x {
                    v.push((n, *x));
                }
            }
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAN: TranSpan = TranSpan {
        tstep: 1e-3,
        tstop: 1.0,
    };

    #[test]
    fn pulse_shape_with_defaults() {
        let w = Waveform::Pulse {
            v1: 0.0,
            v2: 2.0,
            td: Some(0.1),
            tr: None,
            tf: None,
            pw: Some(0.2),
            per: Some(0.5),
        };
        // tr = tf = tstep by default.
        assert_eq!(eval(&w, 0.05, SPAN), 0.0);
        assert!((eval(&w, 0.1005, SPAN) - 1.0).abs() < 1e-12);
        assert_eq!(eval(&w, 0.2, SPAN), 2.0);
        assert!((eval(&w, 0.1 + 1e-3 + 0.2 + 0.25e-3, SPAN) - 1.5).abs() < 1e-9);
        assert_eq!(eval(&w, 0.45, SPAN), 0.0);
        // Second period.
        assert_eq!(eval(&w, 0.7, SPAN), 2.0);
        let bp = breakpoints(&w, SPAN, 1000);
        assert!(bp.contains(&0.1) && bp.iter().any(|&t| (t - 0.601).abs() < 1e-12));
    }

    #[test]
    fn pwl_interpolates_and_holds() {
        let w = Waveform::Pwl(vec![(0.1, 1.0), (0.2, 3.0), (0.4, -1.0)]);
        assert_eq!(eval(&w, 0.0, SPAN), 1.0);
        assert!((eval(&w, 0.15, SPAN) - 2.0).abs() < 1e-12);
        assert!((eval(&w, 0.3, SPAN) - 1.0).abs() < 1e-12);
        assert_eq!(eval(&w, 0.9, SPAN), -1.0);
        assert_eq!(breakpoints(&w, SPAN, 1000), vec![0.1, 0.2, 0.4]);
    }

    #[test]
    fn sine_defaults_to_one_period_over_the_run() {
        let w = Waveform::Sin {
            vo: 0.5,
            va: 1.0,
            freq: None,
            td: None,
            theta: None,
            phase: Some(90.0),
        };
        assert!((eval(&w, 0.0, SPAN) - 1.5).abs() < 1e-12);
        assert!((eval(&w, 0.5, SPAN) - (-0.5)).abs() < 1e-12);
        assert!((eval(&w, 0.25, SPAN) - 0.5).abs() < 1e-12);
    }

    /// The DC value holds for `.op`/`.dc` even when it is an explicit 0 and
    /// the waveform starts elsewhere (ngspice 39); the transient's time-zero
    /// point takes the waveform.
    #[test]
    fn dc_analyses_use_the_dc_value_and_transients_the_waveform() {
        let s = Source {
            dc: 0.0,
            waveform: Some(Waveform::Pulse {
                v1: 0.3,
                v2: 1.0,
                td: None,
                tr: None,
                tf: None,
                pw: None,
                per: None,
            }),
        };
        assert_eq!(source_value(&s, SourceMode::Dc), 0.0);
        let span = TranSpan {
            tstep: 1e-6,
            tstop: 1e-5,
        };
        assert_eq!(source_value(&s, SourceMode::Tran { time: 0.0, span }), 0.3);
    }
}

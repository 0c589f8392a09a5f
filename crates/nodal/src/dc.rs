//! DC operating point and DC sweeps (one or two nested sources).

use std::time::Instant;

use xbar_netlist::Sweep;

use crate::devices::{Init, Phase};
use crate::engine::{Simulator, Solve};
use crate::error::NodalError;
use crate::output::{AnalysisKind, AnalysisOutput};
use crate::waveform::SourceMode;

/// The points of a sweep, generated as ngspice does: by repeated addition
/// of the step until the stop value is passed.
pub fn sweep_values(s: &Sweep) -> Result<Vec<f64>, NodalError> {
    let bad = |message: String| NodalError::BadAnalysis {
        analysis: format!(".dc {}", s.source),
        message,
    };
    if !(s.start.is_finite() && s.stop.is_finite() && s.step.is_finite()) {
        return Err(bad("start, stop and step must be finite".into()));
    }
    if s.step == 0.0 {
        if s.start == s.stop {
            return Ok(vec![s.start]);
        }
        return Err(bad("step must not be zero".into()));
    }
    if (s.stop - s.start) * s.step < 0.0 {
        return Err(bad(format!(
            "step {} goes away from stop {} (start {})",
            s.step, s.stop, s.start
        )));
    }
    let count = ((s.stop - s.start) / s.step).abs();
    if count > 1e7 {
        return Err(bad(format!("{count:.0} points is too many")));
    }
    let mut out = Vec::with_capacity(count as usize + 2);
    let mut v = s.start;
    let sign = s.step.signum();
    while sign * (v - s.stop) <= f64::EPSILON * 1e3 {
        out.push(v);
        v += s.step;
    }
    Ok(out)
}

impl Simulator {
    /// `.op`: one row of every output vector.
    pub fn op(&mut self) -> Result<AnalysisOutput, NodalError> {
        let t0 = Instant::now();
        let it0 = self.iterations;
        self.check_topology(false)?;
        let mut x = self.initial_guess(false);
        let max = self.opts.itl1;
        self.operating_point(Phase::Dc, SourceMode::Dc, &mut x, max, "operating point")?;
        let mut row = Vec::new();
        self.row(&x, &mut row);
        Ok(AnalysisOutput {
            kind: AnalysisKind::Op,
            columns: self.column_names(),
            rows: vec![row],
            summary: format!(
                "op: {} unknowns, {} Newton iterations, {:.3} s",
                self.unknown_count(),
                self.iterations - it0,
                t0.elapsed().as_secs_f64()
            ),
        })
    }

    fn find_source(&self, name: &str) -> Result<(usize, bool), NodalError> {
        self.devices
            .iter()
            .enumerate()
            .find_map(|(k, d)| match d.source_kind() {
                Some(is_v) if d.name() == name => Some((k, is_v)),
                _ => None,
            })
            .ok_or_else(|| NodalError::UnknownSweepSource {
                analysis: ".dc".into(),
                source_name: name.into(),
            })
    }

    /// `.dc`: the inner source sweeps fastest; the scale column is named as
    /// in ngspice's raw file (`v(v-sweep)` or `i(i-sweep)`).
    pub fn dc_sweep(
        &mut self,
        inner: &Sweep,
        outer: Option<&Sweep>,
    ) -> Result<AnalysisOutput, NodalError> {
        let t0 = Instant::now();
        let it0 = self.iterations;
        self.check_topology(false)?;
        let (ki, inner_is_v) = self.find_source(&inner.source)?;
        let inner_vals = sweep_values(inner)?;
        let (ko, outer_vals) = match outer {
            Some(o) => (Some(self.find_source(&o.source)?.0), sweep_values(o)?),
            None => (None, vec![f64::NAN]),
        };
        let scale = if inner_is_v {
            "v(v-sweep)"
        } else {
            "i(i-sweep)"
        };
        let mut columns = vec![scale.to_string()];
        columns.extend(self.column_names());
        let mut rows = Vec::with_capacity(inner_vals.len() * outer_vals.len());
        let mut x = self.initial_guess(false);
        let result = (|| -> Result<(), NodalError> {
            for &vo in &outer_vals {
                if let Some(ko) = ko {
                    self.devices[ko].sweep(Some(vo));
                }
                // Every outer value restarts the inner sweep from junction
                // guesses, as ngspice does.
                let mut first = true;
                for &vi in &inner_vals {
                    self.devices[ki].sweep(Some(vi));
                    self.states.rotate();
                    let s = Solve {
                        phase: Phase::Dc,
                        sources: SourceMode::Dc,
                        src_fact: 1.0,
                        diag_gmin: 0.0,
                        init: if first {
                            Init::Junction
                        } else {
                            Init::Predict { xfact: 1.0 }
                        },
                        max_iter: self.opts.itl2,
                    };
                    if self.newton(&s, &mut x).is_err() {
                        let max = self.opts.itl1;
                        let what = format!(".dc {} = {vi:e}", inner.source);
                        self.operating_point(Phase::Dc, SourceMode::Dc, &mut x, max, &what)?;
                    }
                    if first {
                        self.states.flatten();
                        first = false;
                    }
                    let mut row = vec![vi];
                    self.row(&x, &mut row);
                    rows.push(row);
                }
            }
            Ok(())
        })();
        self.devices[ki].sweep(None);
        if let Some(ko) = ko {
            self.devices[ko].sweep(None);
        }
        result?;
        Ok(AnalysisOutput {
            kind: AnalysisKind::Dc,
            columns,
            summary: format!(
                "dc: {} points, {} unknowns, {} Newton iterations, {:.3} s",
                rows.len(),
                self.unknown_count(),
                self.iterations - it0,
                t0.elapsed().as_secs_f64()
            ),
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(start: f64, stop: f64, step: f64) -> Sweep {
        Sweep {
            source: "v1".into(),
            start,
            stop,
            step,
        }
    }

    #[test]
    fn sweep_points_include_stop_despite_rounding() {
        let v = sweep_values(&sweep(0.0, 1.0, 0.1)).unwrap_or_default();
        assert_eq!(v.len(), 11);
        assert!((v[10] - 1.0).abs() < 1e-12);
        let v = sweep_values(&sweep(1.0, -1.0, -0.5)).unwrap_or_default();
        assert_eq!(v, vec![1.0, 0.5, 0.0, -0.5, -1.0]);
    }

    #[test]
    fn bad_sweeps_are_errors() {
        assert!(sweep_values(&sweep(0.0, 1.0, 0.0)).is_err());
        assert!(sweep_values(&sweep(0.0, 1.0, -0.1)).is_err());
        assert!(sweep_values(&sweep(0.0, f64::NAN, 0.1)).is_err());
    }
}

//! Small-signal AC analysis as ngspice's acan.c runs it: the operating
//! point, one more load there whose real Jacobian every frequency shares,
//! then per frequency the devices' `jω` terms and AC phasors and one
//! complex sparse solve. The symbolic LU analysis of the circuit's fixed
//! pattern is computed once per analysis and reused at every frequency.

use std::time::Instant;

use faer::c64;
use xbar_netlist::{AcScale, AcSweep};

use crate::devices::Phase;
use crate::engine::Simulator;
use crate::error::NodalError;
use crate::matrix::{AcStamp, LuFailure, SparseLu};
use crate::output::{AnalysisKind, AnalysisOutput};
use crate::waveform::SourceMode;

/// The frequencies of an `.ac` sweep, generated as ngspice 39 does: a
/// geometric (`dec`, `oct`) or arithmetic (`lin`) progression from
/// `fstart`, continued while the frequency stays below `fstop` plus a
/// tolerance of `reltol` times one step.
pub fn ac_frequencies(s: &AcSweep, reltol: f64) -> Result<Vec<f64>, NodalError> {
    let bad = |message: String| NodalError::BadAnalysis {
        analysis: ".ac".into(),
        message,
    };
    if !(s.fstart.is_finite() && s.fstop.is_finite()) {
        return Err(bad("fstart and fstop must be finite".into()));
    }
    if s.points < 1 {
        return Err(bad("the number of points must be at least 1".into()));
    }
    if s.fstop < s.fstart {
        return Err(bad(format!(
            "fstop {} is below fstart {}",
            s.fstop, s.fstart
        )));
    }
    let n = s.points as f64;
    let (delta, tol) = match s.scale {
        AcScale::Dec | AcScale::Oct => {
            if s.fstart <= 0.0 {
                return Err(bad(format!(
                    "fstart {} must be > 0 for a logarithmic sweep",
                    s.fstart
                )));
            }
            let delta = match s.scale {
                AcScale::Oct => (2f64.ln() / n).exp(),
                _ if s.fstop == s.fstart => 1.0,
                _ if s.fstop / 10.0 < s.fstart => (10f64.ln() / n).exp(),
                _ => {
                    let steps = ((s.fstop / s.fstart).log10().abs() * n).floor();
                    ((s.fstop / s.fstart).ln() / steps).exp()
                }
            };
            (delta, delta * s.fstop * reltol)
        }
        AcScale::Lin => {
            let delta = if s.points > 2 {
                (s.fstop - s.fstart) / (n - 1.0)
            } else {
                0.0
            };
            (delta, delta * reltol)
        }
    };
    let estimate = match s.scale {
        AcScale::Lin => n,
        _ if delta > 1.0 => (s.fstop / s.fstart).ln() / delta.ln() + 2.0,
        _ => 1.0,
    };
    if estimate > 1e7 {
        return Err(bad(format!("{estimate:.0} frequencies is too many")));
    }
    let mut out = Vec::with_capacity(estimate as usize + 1);
    let mut f = s.fstart;
    while f <= s.fstop + tol {
        out.push(f);
        match s.scale {
            AcScale::Lin if delta == 0.0 => break,
            AcScale::Lin => f += delta,
            _ if delta == 1.0 => break,
            _ => f *= delta,
        }
    }
    Ok(out)
}

impl Simulator {
    /// `.ac`: columns `frequency`, then `re(name)` and `im(name)` of every
    /// output vector (the phasors of the small-signal response).
    pub fn ac(&mut self, sweep: &AcSweep) -> Result<AnalysisOutput, NodalError> {
        let t0 = Instant::now();
        let it0 = self.iterations;
        let freqs = ac_frequencies(sweep, self.opts.reltol)?;
        self.check_topology(false)?;
        let mut op = self.initial_guess();
        let max = self.opts.itl1;
        self.operating_point(
            Phase::Dc,
            SourceMode::Dc,
            &mut op,
            max,
            "AC operating point",
        )?;
        let jacobian = self.small_signal_jacobian(&op);

        let names = self.column_names();
        let mut columns = vec!["frequency".to_string()];
        for name in &names {
            columns.push(format!("re({name})"));
            columns.push(format!("im({name})"));
        }
        let n = self.unknown_count();
        let mut lu = SparseLu::<c64>::new(&self.pattern);
        let mut values = vec![c64::new(0.0, 0.0); jacobian.len()];
        let mut rhs = vec![c64::new(0.0, 0.0); n];
        let mut phasors = Vec::with_capacity(names.len());
        let mut rows = Vec::with_capacity(freqs.len());
        for &f in &freqs {
            let omega = 2.0 * std::f64::consts::PI * f;
            for (v, &g) in values.iter_mut().zip(&jacobian) {
                *v = c64::new(g, 0.0);
            }
            rhs.fill(c64::new(0.0, 0.0));
            {
                let mut stamp = AcStamp::new(&self.pattern, &mut values, &mut rhs);
                for d in &self.devices {
                    d.ac_load(omega, &self.states, &mut stamp);
                }
            }
            match lu.factor(&values) {
                Ok(()) => {}
                Err(LuFailure::Structural(col)) => {
                    return Err(NodalError::Singular {
                        unknowns: vec![self.unknown_name(col)],
                    })
                }
                Err(LuFailure::Other(m)) => return Err(NodalError::Factorization(m)),
            }
            lu.solve(&mut rhs);
            let bad: Vec<String> = rhs
                .iter()
                .enumerate()
                .filter(|(_, v)| !(v.re.is_finite() && v.im.is_finite()))
                .map(|(i, _)| self.unknown_name(i))
                .collect();
            if !bad.is_empty() {
                return Err(NodalError::Singular { unknowns: bad });
            }
            phasors.clear();
            self.ac_row(&op, &rhs, &mut phasors);
            let mut row = Vec::with_capacity(columns.len());
            row.push(f);
            for p in &phasors {
                row.push(p.re);
                row.push(p.im);
            }
            rows.push(row);
        }
        Ok(AnalysisOutput {
            kind: AnalysisKind::Ac,
            columns,
            summary: format!(
                "ac: {} frequencies, {} unknowns, {} Newton iterations (operating point), {:.3} s",
                rows.len(),
                n,
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

    fn sweep(scale: AcScale, points: usize, fstart: f64, fstop: f64) -> AcSweep {
        AcSweep {
            scale,
            points,
            fstart,
            fstop,
        }
    }

    #[test]
    fn decade_sweep_ends_on_fstop() {
        let f = ac_frequencies(&sweep(AcScale::Dec, 10, 1.0, 1e6), 1e-3).unwrap_or_default();
        assert_eq!(f.len(), 61);
        assert!((f[60] / 1e6 - 1.0).abs() < 1e-12, "{}", f[60]);
        assert!((f[10] / 10.0 - 1.0).abs() < 1e-13, "{}", f[10]);
    }

    #[test]
    fn octave_and_linear_sweeps() {
        let f = ac_frequencies(&sweep(AcScale::Oct, 2, 1.0, 8.0), 1e-3).unwrap_or_default();
        assert_eq!(f.len(), 7);
        assert!((f[2] - 2.0).abs() < 1e-12);
        let f = ac_frequencies(&sweep(AcScale::Lin, 5, 10.0, 50.0), 1e-3).unwrap_or_default();
        assert_eq!(f, vec![10.0, 20.0, 30.0, 40.0, 50.0]);
        let f = ac_frequencies(&sweep(AcScale::Lin, 1, 10.0, 50.0), 1e-3).unwrap_or_default();
        assert_eq!(f, vec![10.0]);
    }

    #[test]
    fn bad_sweeps_are_errors() {
        assert!(ac_frequencies(&sweep(AcScale::Dec, 10, 0.0, 1e3), 1e-3).is_err());
        assert!(ac_frequencies(&sweep(AcScale::Dec, 0, 1.0, 1e3), 1e-3).is_err());
        assert!(ac_frequencies(&sweep(AcScale::Lin, 10, 1e3, 1.0), 1e-3).is_err());
        assert!(ac_frequencies(&sweep(AcScale::Dec, 10, 1.0, f64::NAN), 1e-3).is_err());
    }
}

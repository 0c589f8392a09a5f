//! Per-point statistics of trial accuracies.
//!
//! The 95 % confidence interval of the mean is Student's t interval,
//! `mean ± t(0.975, n−1) · s / √n` with `s` the sample standard deviation
//! (divisor n − 1): exact for normally distributed trial accuracies and a
//! good approximation for the binomial-like accuracies of a few hundred
//! images or more. With one trial there is no spread to estimate, so the
//! standard deviation and interval are absent.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Summary of the trials at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 divisor); `None` for n = 1.
    pub std: Option<f64>,
    /// 95 % Student-t interval of the mean; `None` for n = 1.
    pub ci95: Option<(f64, f64)>,
    pub min: f64,
    pub max: f64,
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom
/// (`None` for df = 0).
pub fn t_975(df: usize) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(t.inverse_cdf(0.975))
}

/// Statistics of `samples` in the order given (sums run in that order, so
/// the same samples in the same order give the same bits); `None` if empty.
pub fn summarize(samples: &[f64]) -> Option<Stats> {
    let n = samples.len();
    if n == 0 {
        return None;
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (std, ci95) = if n >= 2 {
        let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
        let std = (ss / (n - 1) as f64).sqrt();
        let half = t_975(n - 1).map(|t| t * std / (n as f64).sqrt());
        (Some(std), half.map(|h| (mean - h, mean + h)))
    } else {
        (None, None)
    };
    Some(Stats {
        n,
        mean,
        std,
        ci95,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf(0.975, df)
        let table = [
            (1, 12.706204736174694),
            (2, 4.302652729749462),
            (3, 3.1824463052837078),
            (4, 2.7764451051977934),
            (9, 2.262157162798205),
            (19, 2.0930240544083087),
            (99, 1.9842169515864174),
            (1000, 1.9623390808264083),
        ];
        for (df, want) in table {
            let got = t_975(df).unwrap();
            assert!((got - want).abs() < 1e-9 * want, "df {df}: {got} vs {want}");
        }
        assert_eq!(t_975(0), None);
    }

    #[test]
    fn hand_computed_summary() {
        // mean 0.93, s = sqrt(0.002/3), half width = t(0.975,3) s / 2.
        let s = summarize(&[0.9, 0.92, 0.94, 0.96]).unwrap();
        assert_eq!(s.n, 4);
        assert!(close(s.mean, 0.93));
        assert!(close(s.std.unwrap(), (0.002f64 / 3.0).sqrt()));
        let (lo, hi) = s.ci95.unwrap();
        assert!(close(lo, 0.8889147948647895), "{lo}");
        assert!(close(hi, 0.9710852051352103), "{hi}");
        assert_eq!((s.min, s.max), (0.9, 0.96));

        let s = summarize(&[0.81, 0.79, 0.83, 0.85, 0.80, 0.77, 0.90]).unwrap();
        assert!(close(s.mean, 0.8214285714285714));
        assert!(close(s.std.unwrap(), 0.04336994790119513));
        let (lo, hi) = s.ci95.unwrap();
        assert!(close(lo, 0.781318059507376) && close(hi, 0.8615390833497668));

        let one = summarize(&[0.5]).unwrap();
        assert_eq!((one.mean, one.std, one.ci95), (0.5, None, None));
        assert_eq!(summarize(&[]), None);
    }
}

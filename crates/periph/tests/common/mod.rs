//! Statistics shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

/// Sample mean and (n-1) standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Asserts that samples of a normal population have mean `mu` and standard
/// deviation `sigma`, each within 5 standard errors (a false alarm about
/// once in 1.7 million runs; the tests are seeded, so never in practice).
pub fn assert_normal_moments(xs: &[f64], mu: f64, sigma: f64, what: &str) {
    let n = xs.len() as f64;
    let (mean, std) = mean_std(xs);
    let se_mean = sigma / n.sqrt();
    assert!(
        (mean - mu).abs() <= 5.0 * se_mean,
        "{what}: mean {mean} vs {mu} (5 SE = {})",
        5.0 * se_mean
    );
    // sd of the sample standard deviation of a normal sample ~ sigma/sqrt(2(n-1)).
    let se_std = sigma / (2.0 * (n - 1.0)).sqrt();
    assert!(
        (std - sigma).abs() <= 5.0 * se_std,
        "{what}: std {std} vs {sigma} (5 SE = {})",
        5.0 * se_std
    );
}

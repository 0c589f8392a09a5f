//! Weight sharing: k-means properties, uniform levels and 16-bit fixed point.

use proptest::prelude::*;
use xbar_snn::quant::{self, FixedPoint, Method, LEVELS};

fn nearest(values: &[f32], w: f32) -> f32 {
    values
        .iter()
        .map(|&v| (v - w).abs())
        .fold(f32::INFINITY, f32::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn kmeans_gives_16_sorted_centroids_nearest_assignment_and_falling_distortion(
        weights in prop::collection::vec(-1.0f32..1.0, 40..400)
    ) {
        let c = quant::cluster(&weights, Method::KMeans, 100);
        prop_assert_eq!(c.shared.values.len(), LEVELS);
        prop_assert!(c.shared.values.windows(2).all(|p| p[0] <= p[1]));
        prop_assert_eq!(c.shared.index.len(), weights.len());
        for (&w, &k) in weights.iter().zip(&c.shared.index) {
            prop_assert!((k as usize) < LEVELS);
            let d = (c.shared.values[k as usize] - w).abs();
            prop_assert!(d <= nearest(&c.shared.values, w) + 1e-6);
        }
        for pair in c.distortion.windows(2) {
            prop_assert!(pair[1] <= pair[0] * (1.0 + 1e-9) + 1e-12, "{:?}", c.distortion);
        }
        // The final distortion is the sum of squared errors of the assignment.
        let sse: f64 = weights
            .iter()
            .zip(&c.shared.index)
            .map(|(&w, &k)| ((w - c.shared.values[k as usize]) as f64).powi(2))
            .sum();
        let last = *c.distortion.last().unwrap();
        prop_assert!((sse - last).abs() <= 1e-4 * last.max(1e-6), "{sse} vs {last}");
    }

    #[test]
    fn fixed_point_round_trip_is_within_half_an_lsb(
        values in prop::collection::vec(-3.0f32..3.0, 16)
    ) {
        let f = FixedPoint::fitting(&values);
        for &v in &values {
            let back = f.decode(f.encode(v));
            prop_assert!(((back - v) as f64).abs() <= 0.5 * f.lsb() + 1e-9);
        }
        // The format is the finest that fits: one more bit would overflow.
        let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        prop_assert!(max <= i16::MAX as f64 * f.lsb());
        if f.frac_bits < 30 {
            prop_assert!(max > i16::MAX as f64 * f.lsb() / 2.0);
        }
    }
}

#[test]
fn kmeans_recovers_well_separated_clusters() {
    // 16 tight groups around known centres: k-means must find the centres.
    let centres: Vec<f32> = (0..16)
        .map(|k| -0.8 + 0.1 * k as f32 + 0.013 * (k % 3) as f32)
        .collect();
    let weights: Vec<f32> = (0..1600)
        .map(|i| centres[i % 16] + if (i / 16) % 2 == 0 { 1e-3 } else { -1e-3 })
        .collect();
    let c = quant::cluster(&weights, Method::KMeans, 100);
    for (v, t) in c.shared.values.iter().zip(&centres) {
        assert!((v - t).abs() < 1e-5, "{v} vs {t}");
    }
    assert!(c.distortion.last().unwrap() < &(1600.0 * 1e-5));
}

#[test]
fn uniform_levels_are_evenly_spaced_over_the_range() {
    let weights: Vec<f32> = (0..1000)
        .map(|i| ((i * 37) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let c = quant::cluster(&weights, Method::Uniform, 100);
    let step = (0.998 + 1.0) / 15.0;
    for (k, v) in c.shared.values.iter().enumerate() {
        assert!((v - (-1.0 + step * k as f32)).abs() < 1e-6);
    }
    assert_eq!(c.distortion.len(), 1);
    // k-means starts from the same levels and can only improve on them.
    let k = quant::cluster(&weights, Method::KMeans, 100);
    assert!(k.distortion.last().unwrap() <= &c.distortion[0]);
}

#[test]
fn fixed_point_saturates_instead_of_wrapping() {
    let f = FixedPoint { frac_bits: 12 };
    assert_eq!(f.encode(100.0), i16::MAX);
    assert_eq!(f.encode(-100.0), i16::MIN);
    assert_eq!(f.decode(4096), 1.0);
}

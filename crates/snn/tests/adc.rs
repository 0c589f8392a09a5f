//! The mappings' column converters against `xbar_periph::AdcBank`: the same
//! transfer function, bit for bit.

use rand::Rng;
use xbar_periph::AdcBank;
use xbar_snn::adc::ColumnAdc;
use xbar_snn::stream_rng;

/// Inputs spread over and beyond the range, plus every transition level
/// and its neighbours, where rounding decides.
fn probes(adc: &ColumnAdc, signed: bool, seed: u64) -> Vec<f64> {
    let r = adc.range();
    let mut rng = stream_rng(seed, 0);
    let lo = if signed { -1.3 * r } else { -0.3 * r };
    let mut x: Vec<f64> = (0..4000).map(|_| rng.random_range(lo..1.3 * r)).collect();
    if adc.bits() > 0 {
        let lsb = if signed { 2.0 * r } else { r } / (1u64 << adc.bits()) as f64;
        let first = if signed {
            -(1i64 << (adc.bits() - 1))
        } else {
            0
        };
        for k in first - 1..first + (1i64 << adc.bits()) + 1 {
            let t = (k as f64 + 0.5) * lsb;
            x.extend([
                t,
                f64::from_bits(t.to_bits() - 1),
                f64::from_bits(t.to_bits() + 1),
            ]);
        }
    }
    x.extend([0.0, -0.0, r, -r, 1e30, -1e30]);
    x
}

#[test]
fn column_adc_reads_exactly_what_an_adc_bank_reads() {
    for (bits, range, signed) in [
        (8, 1.0, true),
        (6, 3.7e-4, true),
        (4, 0.25, true),
        (2, 5.0, true),
        (8, 2e-5, false),
        (3, 1.0, false),
        (1, 1.0, false),
        (0, 1.0, true),
    ] {
        let adc = ColumnAdc::new(bits, range, signed).unwrap();
        let cfg = ColumnAdc::config(bits, range, signed);
        let x = probes(&adc, signed, bits as u64);
        let mut bank = AdcBank::new(&cfg, x.len(), 9).unwrap();
        let mut want = vec![0.0; x.len()];
        bank.convert(&x, &mut want).unwrap();
        for (&xi, &w) in x.iter().zip(&want) {
            if bits == 0 {
                // The bank adds its (zero) noise, which turns -0.0 into
                // 0.0; the pass-through keeps the sign of zero.
                assert_eq!(adc.read(xi), w, "ideal: x = {xi}");
            } else {
                assert_eq!(adc.read(xi).to_bits(), w.to_bits(), "{bits} bits: x = {xi}");
            }
        }
        if bits > 0 {
            let mut codes = vec![0; x.len()];
            bank.convert_codes(&x, &mut codes).unwrap();
            for (&xi, &c) in x.iter().zip(&codes) {
                assert_eq!(adc.code(xi), c, "{bits} bits: x = {xi}");
            }
        }
    }
}

#[test]
fn converter_settings_the_bank_rejects_are_errors() {
    // Periph's rules: a signed converter needs 2 bits, a range is > 0.
    assert!(ColumnAdc::new(1, 1.0, true).is_err());
    assert!(ColumnAdc::new(8, 0.0, true).is_err());
    assert!(ColumnAdc::new(8, f64::NAN, false).is_err());
    assert!(ColumnAdc::new(17, 1.0, true).is_err());
}

#[test]
fn vectorised_reads_add_exactly_what_single_reads_add() {
    for (bits, range, signed) in [
        (8, 1.0, true),
        (6, 3.7e-4, true),
        (3, 1.0, false),
        (0, 1.0, true),
    ] {
        let adc = ColumnAdc::new(bits, range, signed).unwrap();
        let mut sums: Vec<f32> = probes(&adc, signed, 40 + bits as u64)
            .into_iter()
            .map(|x| x as f32)
            .collect();
        sums.extend([
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            -f32::MAX,
        ]);
        let start: Vec<f32> = (0..sums.len())
            .map(|k| (k % 7) as f32 * 0.125 * range as f32)
            .collect();
        let mut out = start.clone();
        adc.add_reads(&sums, &mut out);
        for ((&x, &o0), &o) in sums.iter().zip(&start).zip(&out) {
            let want = o0 + adc.read(x as f64) as f32;
            assert_eq!(o.to_bits(), want.to_bits(), "{bits} bits: x = {x}");
        }
    }
}

//! Input drivers, TIA, sense amplifier and activity/energy accounting.

mod common;
#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbar_periph::{
    Activity, DriverConfig, EnergyModel, InputDriver, InputEncoding, PeriphError, SenseAmp,
    SenseAmpConfig, Tia, TiaConfig,
};

/// Column currents of a linear crossbar, `I_c = sum_r G[r][c] V_r`.
fn currents(g: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    (0..g[0].len())
        .map(|c| g.iter().zip(v).map(|(row, &vr)| row[c] * vr).sum())
        .collect()
}

#[test]
fn multi_bit_encodings_reproduce_the_matrix_vector_product() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (rows, cols) = (8, 4);
    let g: Vec<Vec<f64>> = (0..rows)
        .map(|_| (0..cols).map(|_| rng.random_range(1e-6..1e-4)).collect())
        .collect();
    let codes: Vec<u32> = (0..rows).map(|_| rng.random_range(0..16)).collect();
    for (encoding, phases) in [
        (InputEncoding::BitSerial, 4),
        (InputEncoding::PulseWidth, 15),
    ] {
        let cfg = DriverConfig {
            bits: 4,
            encoding,
            v_read: 0.15,
            ..DriverConfig::default()
        };
        let mut d = InputDriver::new(&cfg, rows, 0).unwrap();
        assert_eq!(d.phases(), phases);
        assert!((d.read_time() - phases as f64 * 10e-9).abs() < 1e-20);
        let mut acc = vec![0.0; cols];
        let mut v = vec![0.0; rows];
        for p in 0..d.phases() {
            d.phase_voltages(&codes, p, &mut v).unwrap();
            assert!(
                v.iter().all(|&x| x == 0.0 || x == 0.15),
                "two read levels only"
            );
            for (a, i) in acc.iter_mut().zip(currents(&g, &v)) {
                *a += d.phase_weight(p) * i;
            }
        }
        let direct: Vec<f64> = currents(
            &g,
            &codes.iter().map(|&q| 0.15 * q as f64).collect::<Vec<_>>(),
        );
        for (a, b) in acc.iter().zip(&direct) {
            assert!(((a - b) / b).abs() < 1e-12, "{encoding:?}: {a} vs {b}");
        }
        let ones: u64 = match encoding {
            InputEncoding::BitSerial => codes.iter().map(|q| q.count_ones() as u64).sum(),
            InputEncoding::PulseWidth => codes.iter().map(|&q| q as u64).sum(),
        };
        assert_eq!(
            d.activity(),
            Activity {
                array_reads: phases as u64,
                input_pulses: ones,
                ..Activity::default()
            }
        );
    }
}

#[test]
fn spikes_become_read_pulses() {
    let mut d = InputDriver::new(&DriverConfig::default(), 5, 0).unwrap();
    let mut v = [1.0; 5];
    d.spike_voltages(&[true, false, false, true, true], &mut v)
        .unwrap();
    assert_eq!(v, [0.2, 0.0, 0.0, 0.2, 0.2]);
    assert_eq!(d.activity().input_pulses, 3);
    assert_eq!(d.activity().array_reads, 1);
    assert!(d.spike_voltages(&[true; 4], &mut v).is_err());
    assert!(
        d.phase_voltages(&[0; 5], 1, &mut v).is_err(),
        "1-bit: one phase"
    );
    assert!(
        d.phase_voltages(&[2, 0, 0, 0, 0], 0, &mut v).is_err(),
        "code > 1"
    );
}

#[test]
fn driver_resistance_divides_the_read_voltage() {
    let cfg = DriverConfig {
        r_out: 500.0,
        ..DriverConfig::default()
    };
    let d = InputDriver::new(&cfg, 1, 0).unwrap();
    assert_eq!(d.r_out(), 500.0);
    // 0.2 V into 1 mS through 500 ohm: 0.2 / 1.5.
    assert!((d.loaded_voltage(0.2, 1e-3) - 0.2 / 1.5).abs() < 1e-15);
    let q = InputDriver::new(&DriverConfig { bits: 4, ..cfg }, 1, 0).unwrap();
    assert_eq!(q.quantise(0.5).unwrap(), 8); // round(7.5)
    assert_eq!(q.quantise(1.7).unwrap(), 15);
    assert_eq!(q.quantise(-0.2).unwrap(), 0);
    assert!(q.quantise(f64::NAN).is_err());
    assert!(InputDriver::new(
        &DriverConfig {
            bits: 0,
            ..DriverConfig::default()
        },
        1,
        0
    )
    .is_err());
    assert!(InputDriver::new(
        &DriverConfig {
            r_out: -1.0,
            ..DriverConfig::default()
        },
        1,
        0
    )
    .is_err());
}

#[test]
fn driver_amplitude_mismatch_statistics() {
    let cfg = DriverConfig {
        amplitude_sigma: 0.03,
        ..DriverConfig::default()
    };
    let d = InputDriver::new(&cfg, 20_000, 5).unwrap();
    let rel: Vec<f64> = d.amplitudes().iter().map(|a| a / 0.2 - 1.0).collect();
    common::assert_normal_moments(&rel, 0.0, 0.03, "driver amplitudes");
    let again = InputDriver::new(&cfg, 20_000, 5).unwrap();
    assert_eq!(d.amplitudes(), again.amplitudes());
}

/// `name = value` lines of an ngspice `print`.
fn parse_print(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn finite_gain_tia_matches_ngspice() {
    // tests/golden/tia_finite_gain.cir: rows at 0.2, 0.1, 0 V through 10k,
    // 20k, 5k into the column; op-amp gain 1000, V_os = 2 mV, R_f = 10k.
    let deck = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tia_finite_gain.cir");
    let answers = spice::answers_in_file(
        "crates/periph/tests/golden/tia_finite_gain.out",
        |program| {
            // Batch mode exits with status 1 after a `.control` block that
            // prints instead of writing a raw file: success is the printout.
            let out = Command::new(program).arg("-b").arg(&deck).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                text.contains("v(out) = "),
                "ngspice printed no result for {}: {}",
                deck.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            text
        },
    );
    let cfg = TiaConfig {
        r_f: 10e3,
        open_loop_gain: 1000.0,
        offset: 2e-3,
        ..TiaConfig::default()
    };
    let tia = Tia::new(&cfg, 1, 0).unwrap();
    let (g, v) = ([1e-4, 5e-5, 2e-4], [0.2, 0.1, 0.0]);
    let s: f64 = g.iter().zip(v).map(|(g, v)| g * v).sum();
    let i = tia.column_current(0, s, g.iter().sum()).unwrap();
    let v_col = tia.virtual_ground(0, i).unwrap();
    let mut out = [0.0];
    tia.clone().output(&[i], &mut out).unwrap();
    for answer in answers {
        let spice = parse_print(&answer.value);
        let origin = &answer.origin;
        let i_spice = -(spice["i(v1)"] + spice["i(v2)"] + spice["i(v3)"]);
        assert!(
            ((i - i_spice) / i).abs() < 1e-9,
            "{i} vs {origin} {i_spice}"
        );
        assert!(((v_col - spice["v(col)"]) / v_col).abs() < 1e-9, "{origin}");
        assert!(
            ((out[0] - spice["v(out)"]) / out[0]).abs() < 1e-9,
            "{origin}"
        );
    }
    assert!((tia.input_resistance(0).unwrap() - 10e3 / 1001.0).abs() < 1e-9);
}

#[test]
fn ideal_tia_and_gain_error() {
    let mut tia = Tia::new(&TiaConfig::default(), 2, 0).unwrap();
    assert_eq!(tia.input_resistance(0).unwrap(), 0.0);
    assert_eq!(tia.virtual_ground(1, 1e-3).unwrap(), 0.0);
    let mut out = [0.0; 2];
    tia.output(&[1e-6, -2e-6], &mut out).unwrap();
    assert_eq!(out, [-1e-2, 2e-2]);
    let cfg = TiaConfig {
        gain_error: -0.1,
        offset: 1e-3,
        ..TiaConfig::default()
    };
    let mut tia = Tia::new(&cfg, 1, 0).unwrap();
    let mut out = [0.0];
    tia.output(&[1e-6], &mut out).unwrap();
    assert!((out[0] - (1e-3 - 1e-6 * 9e3)).abs() < 1e-15);
    assert_eq!(tia.activity().tia_samples, 1);
    assert!(tia.virtual_ground(1, 0.0).is_err());
    assert!(tia.output(&[f64::NAN], &mut out).is_err());
    assert!(Tia::new(
        &TiaConfig {
            open_loop_gain: 0.0,
            ..cfg
        },
        1,
        0
    )
    .is_err());
}

#[test]
fn tia_noise_std() {
    let cfg = TiaConfig {
        noise: 1e-8,
        ..TiaConfig::default()
    };
    let mut tia = Tia::new(&cfg, 100, 1).unwrap();
    let mut out = vec![0.0; 100];
    let mut v = Vec::new();
    for _ in 0..200 {
        tia.output(&[1e-6; 100], &mut out).unwrap();
        v.extend_from_slice(&out);
    }
    // Output noise = R_f x input current noise = 1e-4 V.
    common::assert_normal_moments(&v, -1e-2, 1e-4, "TIA noise");
}

#[test]
fn sense_amp_decisions_and_error_rate() {
    let mut sa = SenseAmp::new(&SenseAmpConfig::default(), 4, 0).unwrap();
    let mut bits = [false; 4];
    sa.sense(&[0.5e-6, 1.5e-6, 1e-6, 1.0001e-6], &mut bits)
        .unwrap();
    assert_eq!(bits, [false, true, false, true]);
    // With noise sigma, a cell 0.5 sigma above the reference reads 1 with
    // probability Phi(0.5) = 0.691462.
    let cfg = SenseAmpConfig {
        noise: 1e-7,
        ..SenseAmpConfig::default()
    };
    let mut sa = SenseAmp::new(&cfg, 1000, 2).unwrap();
    let mut bits = vec![false; 1000];
    let mut ones = 0usize;
    for _ in 0..50 {
        sa.sense(&[1.05e-6; 1000], &mut bits).unwrap();
        ones += bits.iter().filter(|&&b| b).count();
    }
    let (n, p) = (50_000.0f64, 0.691_462_461);
    let se = (p * (1.0 - p) / n).sqrt();
    assert!(
        (ones as f64 / n - p).abs() < 5.0 * se,
        "{}",
        ones as f64 / n
    );
    assert_eq!(sa.activity().sense_ops, 50_000);
    let cfg = SenseAmpConfig {
        offset_sigma: 2e-8,
        ..SenseAmpConfig::default()
    };
    let sa = SenseAmp::new(&cfg, 10_000, 3).unwrap();
    common::assert_normal_moments(sa.offsets(), 0.0, 2e-8, "sense offsets");
}

#[test]
fn energy_is_counts_times_costs() {
    let a = Activity {
        adc_conversions: 1000,
        adc_saturations: 3,
        array_reads: 10,
        input_pulses: 400,
        sense_ops: 256,
        tia_samples: 1000,
        neuron_updates: 2048,
        spikes: 77,
    };
    let e = EnergyModel {
        adc_conversion: 2e-12,
        array_read: 5e-12,
        input_pulse: 1e-13,
        sense_op: 3e-14,
        tia_sample: 1e-13,
        neuron_update: 1e-14,
        spike: 4e-14,
    };
    let r = e.energy(&a);
    let want = 1000.0 * 2e-12
        + 10.0 * 5e-12
        + 400.0 * 1e-13
        + 256.0 * 3e-14
        + 1000.0 * 1e-13
        + 2048.0 * 1e-14
        + 77.0 * 4e-14;
    assert!((r.total() - want).abs() < 1e-24, "{} vs {want}", r.total());
    assert_eq!(r.adc, 2e-9);
    let sum: Activity = [a, a, Activity::default()].into_iter().sum();
    assert_eq!(sum.spikes, 154);
    assert_eq!(sum.adc_saturations, 6);
    let from_toml: EnergyModel = toml::from_str("adc_conversion = 2e-12\nspike = 4e-14\n").unwrap();
    assert_eq!(from_toml.spike, 4e-14);
    assert_eq!(from_toml.array_read, 0.0);
    assert!(from_toml.validate().is_ok());
    let e = EnergyModel { spike: -1.0, ..e }.validate().unwrap_err();
    assert!(e.to_string().contains("spike"), "{e}");
}

#[test]
fn lengths_are_checked() {
    let mut tia = Tia::new(&TiaConfig::default(), 3, 0).unwrap();
    assert!(matches!(
        tia.output(&[0.0; 2], &mut [0.0; 3]),
        Err(PeriphError::LengthMismatch {
            got: 2,
            expected: 3,
            ..
        })
    ));
    let mut sa = SenseAmp::new(&SenseAmpConfig::default(), 3, 0).unwrap();
    assert!(sa.sense(&[0.0; 3], &mut [false; 2]).is_err());
}

#[test]
fn whole_document_parses_and_validates() {
    let text = "
[adc]
bits = 8
range = \"p99.9\"

[lif]
v_th = 1.0
v_leak = -0.002
threshold_sigma = 0.05

[driver]
v_read = 0.1
r_out = 1e3

[tia]
open_loop_gain = 1e4

[energy]
adc_conversion = 1.5e-12
";
    let cfg: xbar_periph::PeriphConfig = toml::from_str(text).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.adc.bits, 8);
    assert_eq!(cfg.driver.r_out, 1e3);
    assert_eq!(cfg.tia.open_loop_gain, 1e4);
    assert_eq!(cfg.sense_amp, SenseAmpConfig::default());
    let e = toml::from_str::<xbar_periph::PeriphConfig>("[adcs]\nbits = 4\n")
        .err()
        .unwrap();
    assert!(e.to_string().contains("adcs"), "{e}");
    let bad: xbar_periph::PeriphConfig = toml::from_str("[tia]\nr_f = -5\n").unwrap();
    let e = bad.validate().unwrap_err();
    assert!(
        e.to_string().contains("tia") && e.to_string().contains("r_f"),
        "{e}"
    );
}

//! The `--nonideal` loader against random and broken documents: documents
//! built from the file's own sections, keys and value kinds, mixed with
//! misspellings, out-of-range numbers, wrong types and broken TOML. It never
//! panics; every refusal names the file; every accepted document holds
//! values inside the documented ranges.

use std::path::Path;

use proptest::prelude::*;
use xbar_snn::nonideal::{self, MAX_CONDUCTANCE};

const SECTIONS: [&str; 9] = [
    "device", "drift", "faults", "crossbar", "adc", "lif", "input", "devise", "",
];

const KEYS: [&str; 28] = [
    "programming_sigma",
    "read_noise_sigma",
    "g_min",
    "g_max",
    "levels",
    "on_off_ratio",
    "model",
    "time_s",
    "compensation",
    "stuck_on_rate",
    "stuck_off_rate",
    "tile",
    "r_wire",
    "r_driver",
    "r_sense",
    "bits",
    "range",
    "calibration",
    "percentile",
    "calibration_images",
    "v_th",
    "v_leak",
    "threshold_sigma",
    "encoding",
    "timesteps",
    "drift",
    "v_lek",
    "x",
];

const VALUES: [&str; 34] = [
    "0",
    "1",
    "2",
    "8",
    "16",
    "70",
    "-1",
    "65537",
    "9223372036854775807",
    "-9223372036854775808",
    "0.5",
    "-0.0",
    "1e-6",
    "100e-6",
    "1e300",
    "-1e300",
    "1e39",
    "nan",
    "inf",
    "-inf",
    "true",
    "\"pcm\"",
    "\"rram\"",
    "\"none\"",
    "\"column\"",
    "\"layer\"",
    "\"percentile\"",
    "\"full_scale\"",
    "\"bernoulli\"",
    "\"constant\"",
    "\"\"",
    "[1, 2]",
    "{ a = 1 }",
    "1979-05-27",
];

const BROKEN: [&str; 6] = ["[lif", "= 3", "v_th =", "[[adc]]", "a.b.c = 1", "\u{0}"];

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..SECTIONS.len()).prop_map(|s| format!("[{}]", SECTIONS[s])),
        8 => (0..KEYS.len(), 0..VALUES.len())
            .prop_map(|(k, v)| format!("{} = {}", KEYS[k], VALUES[v])),
        3 => (0..SECTIONS.len(), 0..KEYS.len(), 0..VALUES.len())
            .prop_map(|(s, k, v)| format!("{}.{} = {}", SECTIONS[s], KEYS[k], VALUES[v])),
        1 => (0..BROKEN.len()).prop_map(|b| BROKEN[b].to_string()),
        1 => "[ -~]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_documents_are_loaded_or_refused_by_name(
        lines in prop::collection::vec(line(), 0..12),
        mapping in prop::sample::select(vec!["ideal", "shared", "dense"]),
    ) {
        let text = lines.join("\n");
        let path = Path::new("fuzz/nonideal.toml");
        match nonideal::parse(&text, path, mapping) {
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz/nonideal.toml: "), "{e}"),
            Ok(s) => {
                let n = &s.neuron;
                prop_assert!(n.v_th.is_none_or(|v| v.is_finite() && v > 0.0));
                prop_assert!(n.v_leak.is_none_or(f32::is_finite));
                prop_assert!(n.threshold_sigma.is_none_or(|v| v.is_finite() && v >= 0.0));
                prop_assert!(n.timesteps.is_none_or(|t| t >= 1));
                let hw = &s.hardware;
                prop_assert!(hw.adc_bits <= 16);
                prop_assert!(hw.device.g_max.is_none_or(|g| g > 0.0 && g <= MAX_CONDUCTANCE));
                for r in [hw.r_wire, hw.r_driver, hw.r_sense] {
                    prop_assert!(r.is_finite() && r >= 0.0);
                }
                if mapping == "ideal" {
                    prop_assert!(s.keys.iter().all(|(k, _)| !nonideal::HARDWARE_KEYS.contains(&k.as_str())));
                }
            }
        }
    }
}

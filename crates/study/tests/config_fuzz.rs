//! The study config loader against random and broken documents: configs
//! built from the format's own keys (top level, `[nonideal]`, `[[sweep]]`)
//! with values of every kind, sizes far past the limits, misspellings and
//! broken TOML. Loading and checking against both evaluators' parameters
//! never panics; every refusal names the file; every accepted study stays
//! inside the documented limits and can build each point's table.

use std::path::Path;

use proptest::prelude::*;
use xbar_study::{
    Evaluator, Study, StudyConfig, SyntheticEvaluator, MAX_POINTS, MAX_TRIALS, NETWORK_PARAMETERS,
};

const TOP: [&str; 7] = [
    "mapping",
    "images",
    "trials",
    "seed",
    "model",
    "nonideal_file",
    "mapinng",
];

const SWEEP: [&str; 8] = [
    "parameter",
    "values",
    "start",
    "stop",
    "points",
    "spacing",
    "axis",
    "step",
];

const PARAMETERS: [&str; 9] = [
    "\"device.programming_sigma\"",
    "\"adc.bits\"",
    "\"drift.compensation\"",
    "\"drift.model\"",
    "\"crossbar.r_wire\"",
    "\"lif.v_th\"",
    "\"synthetic.trial_delay_s\"",
    "\"device..g_max\"",
    "\"nope\"",
];

const VALUES: [&str; 30] = [
    "0",
    "1",
    "3",
    "8",
    "1000",
    "1001",
    "100000000",
    "18446744073709551615",
    "-1",
    "0.5",
    "1e300",
    "-1e300",
    "nan",
    "inf",
    "true",
    "\"synthetic\"",
    "\"ideal\"",
    "\"shared\"",
    "\"dense\"",
    "\"log\"",
    "\"linear\"",
    "\"cubic\"",
    "\"rram\"",
    "\"missing.toml\"",
    "[]",
    "[0.0, 0.1, 0.2]",
    "[1, 1]",
    "[true, false]",
    "[\"none\", \"column\"]",
    "{ a = 1 }",
];

fn value() -> impl Strategy<Value = &'static str> {
    prop::sample::select(VALUES.to_vec())
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(TOP.to_vec()), value())
            .prop_map(|(k, v)| format!("{k} = {v}")),
        2 => Just("[nonideal]".to_string()),
        2 => Just("[[sweep]]".to_string()),
        1 => Just("[sweep]".to_string()),
        3 => prop::sample::select(PARAMETERS.to_vec()).prop_map(|p| format!("parameter = {p}")),
        4 => (prop::sample::select(SWEEP.to_vec()), value())
            .prop_map(|(k, v)| format!("{k} = {v}")),
        2 => (prop::sample::select(PARAMETERS.to_vec()), value())
            .prop_map(|(p, v)| format!("{} = {v}", p.trim_matches('"'))),
        1 => prop::sample::select(vec!["[[sweep]", "= 1", "images =", "\u{7f}"])
            .prop_map(str::to_string),
        1 => "[ -~]{0,20}",
    ]
}

/// A header that makes most documents parse, so the random lines reach the
/// checks past the TOML syntax.
fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec!["synthetic", "ideal", "dense"])
            .prop_map(|m| format!("mapping = \"{m}\"\nimages = 100\ntrials = 3\nseed = 1\n")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_configs_are_loaded_or_refused_by_name(
        head in header(),
        lines in prop::collection::vec(line(), 0..14),
    ) {
        let text = format!("{head}{}", lines.join("\n"));
        let source = Path::new("fuzz/study.toml");
        let config = match StudyConfig::parse(&text, source, Path::new("fuzz")) {
            Ok(config) => config,
            Err(e) => {
                prop_assert!(e.to_string().starts_with("fuzz/"), "{e}");
                return Ok(());
            }
        };
        for parameters in [NETWORK_PARAMETERS, SyntheticEvaluator.parameters()] {
            match Study::new(&config, parameters) {
                Err(e) => prop_assert!(e.to_string().starts_with("fuzz/study.toml: "), "{e}"),
                Ok(study) => {
                    prop_assert!(study.points() <= MAX_POINTS);
                    prop_assert!(study.total_trials() <= MAX_TRIALS);
                    for p in 0..study.points() {
                        prop_assert!(study.point_table(p).is_ok());
                    }
                }
            }
        }
    }
}

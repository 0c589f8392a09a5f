//! The single-device integrator against ngspice running the same HP/Joglekar
//! device as a behavioural subcircuit (`netlists/memristor_hp_bsource.cir`):
//! against the committed golden always, and a live ngspice run as well when
//! ngspice is available (`tests/support/ngspice.rs`).

#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use xbar_memristor::integrate::{simulate, Drive, Tolerances};
use xbar_memristor::{from_card, Sample};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_golden(path: &Path) -> Vec<Sample> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(rdr.headers().unwrap(), vec!["time_s", "v_V", "i_A", "x"]);
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let f = |k: usize| r[k].trim().parse::<f64>().unwrap();
            Sample {
                t: f(0),
                v: f(1),
                i: f(2),
                x: f(3),
            }
        })
        .collect()
}

/// The device of `netlists/memristor_hp_ymem.cir`, parsed from its card line,
/// with the parameter `scaled` (if any) multiplied by its factor.
fn ymem_device(scaled: Option<(&str, f64)>) -> (Box<dyn xbar_memristor::CompactModel>, f64) {
    let deck = std::fs::read_to_string(root().join("netlists/memristor_hp_ymem.cir")).unwrap();
    let card = deck
        .lines()
        .find(|l| l.to_lowercase().starts_with(".model"))
        .unwrap();
    let mut words = BTreeMap::new();
    let mut params = BTreeMap::new();
    for tok in card.split_whitespace().skip(3) {
        let (k, v) = tok.split_once('=').unwrap();
        let v = v.to_lowercase();
        let num = v
            .strip_suffix('k')
            .map(|s| s.parse::<f64>().unwrap() * 1e3)
            .or_else(|| {
                v.strip_suffix('n')
                    .map(|s| s.parse::<f64>().unwrap() * 1e-9)
            })
            .or_else(|| {
                v.strip_suffix('f')
                    .map(|s| s.parse::<f64>().unwrap() * 1e-15)
            })
            .or_else(|| v.parse::<f64>().ok());
        match num {
            Some(x) => params.insert(k.to_lowercase(), x).map(|_| ()),
            None => words.insert(k.to_lowercase(), v).map(|_| ()),
        };
    }
    let inst = deck
        .lines()
        .find(|l| l.to_lowercase().starts_with("ymemristor"))
        .unwrap();
    let x0: f64 = inst.split("x0=").nth(1).unwrap().trim().parse().unwrap();
    if let Some((name, factor)) = scaled {
        *params.get_mut(name).unwrap() *= factor;
    }
    (from_card(&words, &params).unwrap(), x0)
}

/// What the two integrations achieve is 2.3e-6 (current) and 2.0e-6
/// (state) of the peaks; asserted with a 10x margin.
const TOLERANCE: f64 = 2e-5;

/// Largest differences of current and state from ngspice's, each as a
/// fraction of ngspice's peak.
fn deviation(scaled: Option<(&str, f64)>, golden: &[Sample]) -> (f64, f64) {
    let (model, x0) = ymem_device(scaled);
    let times: Vec<f64> = golden.iter().map(|s| s.t).collect();
    let ours = simulate(
        model.as_ref(),
        &Drive::Sine {
            amplitude: 1.0,
            frequency: 1.0,
        },
        x0,
        &times,
        &Tolerances::default(),
    )
    .unwrap();
    assert_eq!(ours.len(), golden.len());
    let i_peak = golden.iter().map(|s| s.i.abs()).fold(0.0, f64::max);
    let x_peak = golden.iter().map(|s| s.x.abs()).fold(0.0, f64::max);
    // The drive swings the state over a real range (0.314 -> 0.693).
    assert!(x_peak > 0.65);
    let mut di = 0.0f64;
    let mut dx = 0.0f64;
    for (a, b) in ours.iter().zip(golden) {
        assert!((a.v - b.v).abs() < 1e-9, "drive differs at t = {}", a.t);
        di = di.max((a.i - b.i).abs());
        dx = dx.max((a.x - b.x).abs());
    }
    (di / i_peak, dx / x_peak)
}

fn committed() -> Vec<Sample> {
    let golden = read_golden(&root().join("tests/golden/memristor_hp_bsource.csv"));
    assert!(golden.len() > 1000);
    golden
}

#[test]
fn integrator_matches_ngspice() {
    let answers = spice::answers(
        "tests/golden/memristor_hp_bsource.csv",
        committed,
        |program| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("live.csv");
            let status = Command::new("bash")
                .arg(root().join("tests/regen_memristor_golden.sh"))
                .arg(root().join("netlists/memristor_hp_bsource.cir"))
                .arg(&out)
                .env("NGSPICE", program)
                .status()
                .unwrap();
            assert!(status.success());
            read_golden(&out)
        },
    );
    for answer in answers {
        let (di, dx) = deviation(None, &answer.value);
        eprintln!(
            "{}: max |di| = {di:.3e}, max |dx| = {dx:.3e} of the peaks",
            answer.origin
        );
        assert!(
            di < TOLERANCE && dx < TOLERANCE,
            "{}: current off by {di:.3e}, state by {dx:.3e} of their peaks",
            answer.origin
        );
    }
}

/// The comparison is sharp enough to see a 1 % error in any one parameter.
#[test]
fn a_one_percent_parameter_error_fails_the_comparison() {
    let golden = committed();
    for name in ["ron", "roff", "uv", "d"] {
        let (di, dx) = deviation(Some((name, 1.01)), &golden);
        assert!(
            di.max(dx) > 10.0 * TOLERANCE,
            "{name} x 1.01: current off by {di:.3e}, state by {dx:.3e}: not detected"
        );
    }
}

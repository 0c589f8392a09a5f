//! The single-device integrator against ngspice running the same HP/Joglekar
//! device as a behavioural subcircuit (`netlists/memristor_hp_bsource.cir`).
//! With ngspice on PATH the deck is simulated live; the committed golden is
//! checked in every case.

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

/// The device of `netlists/memristor_hp_ymem.cir`, parsed from its card line.
fn ymem_device() -> (Box<dyn xbar_memristor::CompactModel>, f64) {
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
    (from_card(&words, &params).unwrap(), x0)
}

fn compare(golden: &[Sample]) {
    let (model, x0) = ymem_device();
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
    let i_peak = golden.iter().map(|s| s.i.abs()).fold(0.0, f64::max);
    let x_peak = golden.iter().map(|s| s.x.abs()).fold(0.0, f64::max);
    let mut di = 0.0f64;
    let mut dx = 0.0f64;
    for (a, b) in ours.iter().zip(golden) {
        assert!((a.v - b.v).abs() < 1e-9, "drive differs at t = {}", a.t);
        di = di.max((a.i - b.i).abs());
        dx = dx.max((a.x - b.x).abs());
    }
    eprintln!(
        "max |di| = {:.3e} of peak {i_peak:.3e}, max |dx| = {dx:.3e} of peak {x_peak:.3e}",
        di
    );
    assert!(
        di < 0.01 * i_peak,
        "current differs by {di} (peak {i_peak})"
    );
    assert!(dx < 0.01 * x_peak, "state differs by {dx} (peak {x_peak})");
    // Much tighter in fact: the two integrations agree to 0.1 % of peak.
    assert!(di < 1e-3 * i_peak && dx < 1e-3 * x_peak);
    // The drive swings the state over a real range (0.314 -> 0.693).
    assert!(x_peak > 0.65);
}

#[test]
fn integrator_matches_committed_ngspice_golden() {
    let golden = read_golden(&root().join("tests/golden/memristor_hp_bsource.csv"));
    assert!(golden.len() > 1000);
    compare(&golden);
}

#[test]
fn integrator_matches_live_ngspice() {
    if Command::new("ngspice").arg("--version").output().is_err() {
        eprintln!("ngspice not on PATH: live comparison skipped (golden test still runs)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.csv");
    let status = Command::new("bash")
        .arg(root().join("tests/regen_memristor_golden.sh"))
        .arg(root().join("netlists/memristor_hp_bsource.cir"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    compare(&read_golden(&out));
}

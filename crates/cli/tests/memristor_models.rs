//! The published memristor models of `netlists/memristor_models/` (Biolek's
//! and Joglekar's windows, Yakopcic, Pershin/Di Ventra, Knowm MMS), each under
//! a sine and a pulse train: xbar's native `YMEMRISTOR` twin of every
//! behavioural deck agrees with ngspice running the behavioural subcircuit,
//! the device current within 1 % of its peak and the state within 1 % of
//! its peak, at ngspice's time points (xbar's output interpolated). Compared
//! with the committed golden always, and with a live ngspice run when ngspice
//! is on PATH. Decks written with Xyce's memristor cards (`level=3`
//! Yakopcic, Knowm's `level=5` MMS) run the same devices.

mod sim_common;
#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::path::Path;

use sim_common::*;

const FRACTION_OF_PEAK: f64 = 0.01;

fn peak(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Worst `|ours - theirs|` at ngspice's times, and where.
fn worst(ours_t: &[f64], ours: &[f64], theirs_t: &[f64], theirs: &[f64]) -> (f64, f64) {
    theirs_t
        .iter()
        .zip(theirs)
        .map(|(&t, &y)| (t, (interpolate(ours_t, ours, t) - y).abs()))
        .fold((0.0, 0.0), |a, b| if b.1 > a.1 { b } else { a })
}

fn compare_twin(name: &str, spice: &Table, xbar_dir: &Path) {
    let ours = read_csv(&xbar_dir.join("tran.csv"));
    let column = |table: &Table, name: &str| {
        table
            .column(name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", table.columns))
    };
    let (t, i, x) = (
        column(&ours, "time"),
        column(&ours, "i(v1)"),
        column(&ours, "x(ym1)"),
    );
    let (st, si, sx) = (
        column(spice, "time"),
        column(spice, "i(v1)"),
        column(spice, "v(xs)"),
    );
    let (i_peak, x_peak) = (peak(&si), peak(&sx));
    let (di_at, di) = worst(&t, &i, &st, &si);
    let (dx_at, dx) = worst(&t, &x, &st, &sx);
    eprintln!(
        "{name}: max |di| = {di:.3e} at {di_at:.4e} s (peak {i_peak:.3e} A), \
         max |dx| = {dx:.3e} at {dx_at:.4e} s (peak {x_peak:.3e})"
    );
    assert!(
        (t.last().unwrap() - st.last().unwrap()).abs() <= 1e-9 * st.last().unwrap(),
        "{name}: xbar ends at {}, ngspice at {}",
        t.last().unwrap(),
        st.last().unwrap()
    );
    assert!(
        di <= FRACTION_OF_PEAK * i_peak,
        "{name}: current differs by {di:.3e} at t = {di_at:.4e} s (peak {i_peak:.3e})"
    );
    assert!(
        dx <= FRACTION_OF_PEAK * x_peak,
        "{name}: state differs by {dx:.3e} at t = {dx_at:.4e} s (peak {x_peak:.3e})"
    );
    // The drive moves the state: the comparison covers real switching.
    let swing =
        sx.iter().cloned().fold(f64::MIN, f64::max) - sx.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        swing > 0.05 * x_peak,
        "{name}: the state barely moves ({swing:.3e})"
    );
}

/// Runs the twin `{name}_{twin}.cir` and compares it with ngspice on `{name}.cir`.
fn check_twin(name: &str, twin: &str) {
    let dir = repo().join("netlists/memristor_models");
    let work = tempfile::tempdir().unwrap();
    let xbar_dir = work.path().join("xbar");
    let output = run_sim(&dir.join(format!("{name}_{twin}.cir")), &xbar_dir);
    assert!(
        output.status.success(),
        "xbar sim {name}_{twin}.cir failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers = spice::answers(
        &format!("tests/golden/{name}"),
        || golden(name),
        |program| run_ngspice(program, &dir.join(format!("{name}.cir")), work.path()),
    );
    for answer in &answers {
        compare_twin(name, &answer.value["tran"], &xbar_dir);
    }
}

macro_rules! twins {
    ($($test:ident => $name:literal $twin:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_twin($name, $twin);
            }
        )*
    };
}

twins! {
    biolek_sine_native_twin_matches_ngspice => "biolek_sine" "ymem",
    biolek_pulse_native_twin_matches_ngspice => "biolek_pulse" "ymem",
    joglekar_sine_native_twin_matches_ngspice => "joglekar_sine" "ymem",
    joglekar_pulse_native_twin_matches_ngspice => "joglekar_pulse" "ymem",
    yakopcic_sine_native_twin_matches_ngspice => "yakopcic_sine" "ymem",
    yakopcic_pulse_native_twin_matches_ngspice => "yakopcic_pulse" "ymem",
    pershin_sine_native_twin_matches_ngspice => "pershin_sine" "ymem",
    pershin_pulse_native_twin_matches_ngspice => "pershin_pulse" "ymem",
    mms_sine_native_twin_matches_ngspice => "mms_sine" "ymem",
    mms_pulse_native_twin_matches_ngspice => "mms_pulse" "ymem",
    yakopcic_sine_xyce_level_3_card_matches_ngspice => "yakopcic_sine" "xyce",
    mms_sine_xyce_level_5_card_matches_ngspice => "mms_sine" "xyce",
}

/// Xyce cards xbar cannot run stop `xbar sim` with the deck's file and the
/// element's line and say why: level 4 (Xyce's PEM) is not in xbar, and an
/// instance parameter of another level is unknown to the card.
#[test]
fn xyce_cards_xbar_lacks_are_refused_with_file_line_and_reason() {
    let work = tempfile::tempdir().unwrap();
    let cases = [
        (
            "level4.cir",
            "Xyce PEM memristor\nv1 a 0 SIN(0 1 1k)\nymemristor mr3 a 0 mrm4 xo=0.5\n\
             .model mrm4 memristor level=4 i1=85.37e-6 i2=90.16e-6 v1=0.265 v2=0.265\n\
             .tran 1u 1m\n.end\n",
            "Xyce memristor level 4 is Xyce's piecewise empirical model",
        ),
        (
            "wrong_instance.cir",
            "Yakopcic with a level-5 instance parameter\nv1 a 0 SIN(0 0.45 100)\n\
             ymemristor mr1 a 0 mrm3 rinit=500\n.model mrm3 memristor level=3 xp=0.3 xn=0.5\n\
             .tran 10u 10m\n.end\n",
            "unknown parameter `rinit`",
        ),
    ];
    for (name, text, reason) in cases {
        let deck = work.path().join(name);
        std::fs::write(&deck, text).unwrap();
        let output = run_sim(&deck, &work.path().join("out"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        let place = format!("{}:3: ", deck.display());
        assert!(
            stderr.contains(&place) && stderr.contains(reason) && !stderr.contains("panicked"),
            "{name}: `{stderr}` lacks `{place}` or `{reason}`"
        );
    }
}

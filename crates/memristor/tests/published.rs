//! Compact models against what their sources published: the author's own
//! SPICE implementation under the published stimulus (Yakopcic) and the
//! sample simulation decks shipped with the model (Stanford-PKU).
//!
//! VTEAM has no test here: no published characteristic of it (Kvatinsky et
//! al. 2015, Table I fits, switching times, or the TEAM/Pickett comparison)
//! could be read from any source open to this project; only the abstract's
//! "below 1.5 % relative RMS error" was found, which needs the unpublished
//! reference waveforms to check. `models.rs` covers VTEAM's closed forms.

#[path = "../../../tests/support/ngspice.rs"]
mod spice;

use std::path::PathBuf;
use std::process::Command;

use xbar_memristor::integrate::{simulate, Drive, Tolerances};
use xbar_memristor::{load_model, CompactModel, Sample};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tol() -> Tolerances {
    Tolerances::default()
}

/// C. Yakopcic's SPICE subcircuit `MEM_YAKOPCIC` ("Created by Chris
/// Yakopcic, Last Update: 8/9/2011", the model of Yakopcic et al., IEEE EDL
/// 32(10) 2011 and IEEE TCAD 32(8) 2013), as mirrored in
/// knowm/memristor-models-4-all, `Yakopcic/LTSpice/memristor_yakopcic.sub`.
/// Its functions `wp wn G F IVRel` and the state capacitor are transcribed
/// one to one into ngspice syntax (`IF(c, a, b)` -> `c ? a : b`, `G` sources
/// -> `B` sources), with the Oblea parameter line of that file
/// (`a1=0.17 a2=0.17 b=0.05 Vp=0.16 Vn=0.15 Ap=4000 An=4000 xp=0.3 xn=0.5
/// alphap=1 alphan=5 xo=0.11 eta=1`, identical to `models/yakopcic.toml`).
const YAKOPCIC_AUTHOR_DECK: &str = "\
* Yakopcic's MEM_YAKOPCIC subcircuit, Oblea parameters, Oblea stimulus
.param a1=0.17 a2=0.17 b=0.05 Vp=0.16 Vn=0.15 Ap=4000 An=4000
.param xp=0.3 xn=0.5 alphap=1 alphan=5 xo=0.11 eta=1
.func wp(V) {xp/(1-xp) - V/(1-xp) + 1}
.func wn(V) {V/(1-xn)}
.func G(V) {V <= Vp ? (V >= -Vn ? 0 : -An*(exp(-V)-exp(Vn))) : Ap*(exp(V)-exp(Vp))}
.func F(V1,V2) {eta*V1 >= 0 ? (V2 >= xp ? exp(-alphap*(V2-xp))*wp(V2) : 1) : (V2 <= (1-xn) ? exp(alphan*(V2+xn-1))*wn(V2) : 1)}
.func IVRel(V1,V2) {V1 >= 0 ? a1*V2*sinh(b*V1) : a2*V2*sinh(b*V1)}
V1 te 0 SIN(0 0.45 100)
Cx xsv 0 1
Bx 0 xsv I={eta*F(V(te),V(xsv))*G(V(te))}
Bm te 0 I={IVRel(V(te),V(xsv))}
.ic V(xsv)=0.11
.options reltol=1e-6 abstol=1e-15 vntol=1e-9
.tran 1e-6 20e-3 0 1e-6 uic
.control
run
wrdata yakopcic.out v(te) i(V1) v(xsv)
.endc
.end
";

/// `(t, v, i, x)` of the author's subcircuit under the Oblea stimulus, as
/// ngspice 39 computed it from `YAKOPCIC_AUTHOR_DECK` (linear interpolation
/// of its 1 us-spaced output), for machines without ngspice.
const YAKOPCIC_AUTHOR_GOLDEN: [(f64, f64, f64, f64); 8] = [
    (2.5e-3, 0.45, 3.331369125e-3, 8.708727027e-1),
    (5.0e-3, 0.0, 0.0, 9.697370320e-1),
    (7.5e-3, -0.45, -6.620279102e-4, 1.730645904e-1),
    (10.0e-3, 0.0, 0.0, 9.292530360e-2),
    (12.5e-3, 0.45, 3.324507881e-3, 8.690790640e-1),
    (15.0e-3, 0.0, 0.0, 9.693567530e-1),
    (17.5e-3, -0.45, -6.619300448e-4, 1.730390076e-1),
    (20.0e-3, 0.0, 0.0, 9.291610130e-2),
];
/// Extreme currents of the same ngspice run over the two periods, A.
const YAKOPCIC_AUTHOR_PEAKS: (f64, f64) = (3.422588340e-3, -1.899088200e-3);

/// Runs `YAKOPCIC_AUTHOR_DECK` in ngspice (`program`).
fn ngspice_yakopcic(program: &str) -> Vec<Sample> {
    let dir = tempfile::tempdir().unwrap();
    let deck = dir.path().join("yakopcic.cir");
    std::fs::write(&deck, YAKOPCIC_AUTHOR_DECK).unwrap();
    let out = Command::new(program)
        .arg("-b")
        .arg(&deck)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("ngspice: {e}"));
    // Batch mode exits with status 1 when a deck runs its analysis from a
    // .control block instead of .print lines, so success is the data file.
    let text = std::fs::read_to_string(dir.path().join("yakopcic.out"))
        .unwrap_or_else(|e| panic!("ngspice wrote no data ({e}): {out:?}"));
    text.lines()
        .map(|line| {
            let f: Vec<f64> = line
                .split_whitespace()
                .map(|w| w.parse().unwrap())
                .collect();
            // wrdata writes (time, value) per vector; i(V1) is the
            // current into the source, the device current's negative.
            Sample {
                t: f[0],
                v: f[1],
                i: -f[3],
                x: f[5],
            }
        })
        .collect()
}

/// Yakopcic et al. fitted the Oblea et al. Ag-chalcogenide device (IJCNN
/// 2010) with the parameter set of `models/yakopcic.toml` under a 0.45 V,
/// 100 Hz sine from x0 = 0.11. The paper (EDL 2011, Fig. 2) could not be
/// read here; the stimulus is taken from the open reproduction of that fit
/// in thomastiotto/Memristor-Models, `PYTHON model/backend/experiments.py`,
/// class `oblea_sine` (`frequency: 100, vp: 0.45, vn: 0.45`, `x0: 0.11`,
/// same 13 parameters). The measured loop's currents are not available, so
/// the published characteristic checked is the loop the author's own
/// published subcircuit produces: over two periods our integrator must give
/// the same current (within 1e-4 of the 3.42 mA peak) and state (within
/// 1e-5) as ngspice running that subcircuit. Both are deterministic
/// solutions of the same ODE at tight tolerances (they agree to ~1e-7), so
/// the bounds leave room only for integration error; any difference in the
/// window functions, thresholds or sinh branch selection shows up at the
/// 1e-2 level. Without ngspice the run is compared with the recorded values.
#[test]
fn yakopcic_oblea_loop_matches_the_authors_subcircuit() {
    let m = load_model(&root().join("models/yakopcic.toml")).unwrap();
    assert_eq!(m.default_state(), 0.11);
    let drive = Drive::Sine {
        amplitude: 0.45,
        frequency: 100.0,
    };
    let (i_hi, i_lo) = YAKOPCIC_AUTHOR_PEAKS;
    let i_tol = 1e-4 * i_hi;
    let x_tol = 1e-5;
    // The committed answer is YAKOPCIC_AUTHOR_GOLDEN, checked below in every
    // case; a live run adds the whole waveform.
    let answers = spice::answers(
        "crates/memristor/tests/published.rs:YAKOPCIC_AUTHOR_GOLDEN",
        || None,
        |program| Some(ngspice_yakopcic(program)),
    );
    for reference in answers.into_iter().filter_map(|a| a.value) {
        assert!(reference.len() > 10_000, "{} points", reference.len());
        let times: Vec<f64> = reference.iter().map(|s| s.t).collect();
        let ours = simulate(m.as_ref(), &drive, 0.11, &times, &tol()).unwrap();
        let (mut di, mut dx) = (0.0f64, 0.0f64);
        for (a, b) in ours.iter().zip(&reference) {
            assert!(
                (a.v - b.v).abs() < 1e-9,
                "t = {}: {} vs {} V",
                a.t,
                a.v,
                b.v
            );
            di = di.max((a.i - b.i).abs());
            dx = dx.max((a.x - b.x).abs());
        }
        assert!(di < i_tol, "current off by {di} A");
        assert!(dx < x_tol, "state off by {dx}");
        let hi = reference.iter().map(|s| s.i).fold(f64::MIN, f64::max);
        let lo = reference.iter().map(|s| s.i).fold(f64::MAX, f64::min);
        assert!((hi - i_hi).abs() < i_tol && (lo - i_lo).abs() < i_tol);
    }
    let times: Vec<f64> = (0..=20_000).map(|k| k as f64 * 1e-6).collect();
    let ours = simulate(m.as_ref(), &drive, 0.11, &times, &tol()).unwrap();
    for &(t, v, i, x) in &YAKOPCIC_AUTHOR_GOLDEN {
        let s = &ours[(t / 1e-6).round() as usize];
        assert!((s.t - t).abs() < 1e-12);
        assert!((s.v - v).abs() < 1e-9, "t = {t}: v = {}", s.v);
        assert!((s.i - i).abs() < i_tol, "t = {t}: i = {} A, want {i}", s.i);
        assert!((s.x - x).abs() < x_tol, "t = {t}: x = {}, want {x}", s.x);
    }
    let hi = ours.iter().map(|s| s.i).fold(f64::MIN, f64::max);
    let lo = ours.iter().map(|s| s.i).fold(f64::MAX, f64::min);
    assert!((hi - i_hi).abs() < i_tol, "peak {hi} A");
    assert!((lo - i_lo).abs() < i_tol, "negative peak {lo} A");
    // The loop's shape: the state swings 0.11 -> 0.97 on the positive half
    // wave and back to 0.093 on the negative one, so the positive current
    // peak is 1.8x the negative one although |V| is symmetric.
    assert!(hi / -lo > 1.7 && hi / -lo < 1.9);
}

/// The first time the gap leaves its start by 1 % of the window, with the
/// voltage there; `None` if it never does.
fn first_move(out: &[Sample], g_start: f64, window: f64) -> Option<(f64, f64)> {
    out.iter()
        .find(|s| (s.x - g_start).abs() > 0.01 * window)
        .map(|s| (s.t, s.v))
}

/// Gap-motion threshold of the Stanford-PKU model at gap `g`: the field
/// `gamma(g) |V| / tox` reaches `F_min` (v1.0.0 parameters).
fn field_threshold(g: f64) -> f64 {
    let gamma = 16.0 - 0.8 * (g / 1e-9).powi(3);
    1.4e9 * 12e-9 / gamma
}

fn read_resistance(m: &dyn CompactModel, g: f64) -> f64 {
    1.0 / m.read_conductance(0.1, g)
}

/// The Stanford RRAM Verilog-A model v1.0.0 (Z. Jiang, H.-S. P. Wong,
/// doi:10.4231/D37H1DN48) ships two sample decks, read in the mirror
/// bcrafton/rram (`.../Benchmarks/RRAM_Model_1_0_0_HSPICE_Netlists/`):
/// - `pulseSweep.sp`: `pulse 0 1.8 10ps 10ps 10ps 100ns 200ns` on a device
///   at `gap_ini = 19e-10` ("HRS initial: set") and `pulse 0 -1.3 10ps 10ps
///   10ps 100ns 200ns` at `gap_ini = 2e-10` ("LRS initial: reset");
/// - `DCSweep.sp`: `pulse 0 2 1us 4ms 4ms 1us 10ms` (SET) and `pulse 0 -2
///   1us 4ms 4ms 1us 10ms` (RESET), `.tran 1us 8.1ms`, same initial gaps.
///
/// Their readme states what the decks show: from HRS the input SETs the
/// device, from LRS it RESETs it. The decks' 1.9 nm start lies above the
/// model's `gap_max` = 1.7 nm and is clipped to it by the model, so the runs
/// here start at 1.7 nm. Checked (standard mode, deltaGap0 noise off as in
/// `model_switch = 0`):
/// - the 1.8 V, 100 ns pulse SETs fully within the pulse (gap at `gap_min`,
///   read resistance down by e^6);
/// - the -1.3 V, 100 ns pulse RESETs (read resistance up more than tenfold;
///   the decks give no number, tenfold is the smallest change anyone would
///   call a RESET of a window of e^6 = 403);
/// - the 500 V/s ramps SET and RESET, starting where the field reaches
///   F_min (1.392 V from HRS, -1.050 V from LRS), within one 1 us output
///   step (0.5 mV of ramp), and end in LRS / HRS respectively.
#[test]
fn stanford_pku_sample_decks_set_and_reset() {
    let m = load_model(&root().join("models/stanford_pku.toml")).unwrap();
    let (gmin, gmax) = m.state_bounds();
    assert_eq!((gmin, gmax), (0.2e-9, 1.7e-9));
    let window = gmax - gmin;
    let pulse = |amp: f64| {
        Drive::Pwl(vec![
            (0.0, 0.0),
            (10e-12, 0.0),
            (20e-12, amp),
            (100.02e-9, amp),
            (100.03e-9, 0.0),
        ])
    };
    // One period of the pulse decks (their .tran also runs 5 ns into the
    // second pulse's delay, which changes nothing before it rises).
    let times: Vec<f64> = (0..=2000).map(|k| k as f64 * 0.1e-9).collect();

    let set = simulate(m.as_ref(), &pulse(1.8), gmax, &times, &tol()).unwrap();
    let t_set = set
        .iter()
        .find(|s| s.x == gmin)
        .map(|s| s.t)
        .expect("1.8 V pulse never reached LRS");
    assert!(t_set < 100e-9, "SET completed at {t_set} s");
    assert_eq!(set.last().unwrap().x, gmin);
    let ratio = read_resistance(m.as_ref(), gmax) / read_resistance(m.as_ref(), gmin);
    assert!((ratio - 6f64.exp()).abs() < 1e-9 * ratio);

    let reset = simulate(m.as_ref(), &pulse(-1.3), gmin, &times, &tol()).unwrap();
    let g_reset = reset.last().unwrap().x;
    // Gradual: the gap opens over the whole pulse and freezes after it.
    assert!(reset[500].x > gmin && reset[500].x < g_reset);
    assert_eq!(reset[1500].x, g_reset);
    let rise = read_resistance(m.as_ref(), g_reset) / read_resistance(m.as_ref(), gmin);
    assert!(rise > 10.0, "RESET raised R only {rise}x (gap {g_reset})");

    let ramp = |amp: f64| {
        Drive::Pwl(vec![
            (0.0, 0.0),
            (1e-6, 0.0),
            (4.001e-3, amp),
            (4.002e-3, amp),
            (8.002e-3, 0.0),
        ])
    };
    let times: Vec<f64> = (0..=8100).map(|k| k as f64 * 1e-6).collect();
    let dc_set = simulate(m.as_ref(), &ramp(2.0), gmax, &times, &tol()).unwrap();
    let (_, v_set) = first_move(&dc_set, gmax, window).expect("DC sweep never SET");
    let v_th = field_threshold(gmax);
    assert!((v_th - 1.392).abs() < 1e-3);
    assert!(v_set >= v_th && v_set < v_th + 1e-3, "SET at {v_set} V");
    assert_eq!(dc_set.last().unwrap().x, gmin);

    let dc_reset = simulate(m.as_ref(), &ramp(-2.0), gmin, &times, &tol()).unwrap();
    let (_, v_reset) = first_move(&dc_reset, gmin, window).expect("DC sweep never RESET");
    let v_th = field_threshold(gmin);
    assert!((v_th - 1.0504).abs() < 1e-4);
    assert!(
        -v_reset >= v_th && -v_reset < v_th + 1e-3,
        "RESET at {v_reset} V"
    );
    assert_eq!(dc_reset.last().unwrap().x, gmax);
}

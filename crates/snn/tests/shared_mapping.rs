//! The shared-weight mapping against closed forms: exact equality with the
//! ideal mapping when the hardware is ideal, the IR drop of the table read,
//! stuck-at faults, the sense converter, resources, and the key parser.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::path::Path;

use xbar_snn::mnist::{self, Dataset, Files};
use xbar_snn::nonideal::{self, KeyError};
use xbar_snn::resources::Resources;
use xbar_snn::shared::{SharedMapping, DEFAULT_G_LRS, V_READ};
use xbar_snn::snn::{self, IdealMapping, SnnError};
use xbar_snn::trial::{self, Conversion};
use xbar_snn::{run_trial, SharedModel};

fn shipped() -> SharedModel {
    SharedModel::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist_shared.xbm"))
        .unwrap()
}

fn test_images(n: usize) -> Dataset {
    mnist::load_dir(&mnist_dir(), &Files::standard())
        .unwrap()
        .test
        .truncated(n)
}

fn settings(toml_text: &str) -> nonideal::Settings {
    nonideal::from_table(&toml_text.parse().unwrap(), "shared").unwrap()
}

#[test]
fn ideal_hardware_reads_every_table_exactly_and_matches_ideal_inference() {
    let model = shipped();
    let s = settings("");
    let shared = SharedMapping::new(&model, &s.hardware, 5).unwrap();
    for (core, layer) in shared.cores.iter().zip(&model.layers) {
        assert_eq!(core.decoded, layer.codes);
        assert_eq!(core.bit_errors, 0);
        // Ideal wires: I = V_read G exactly, G = G_LRS for 1 and 0 for 0.
        for (c, &i) in core.currents.iter().enumerate() {
            let one = (layer.codes[c / 16] as u16 >> (c % 16)) & 1 == 1;
            let expect = if one { V_READ * DEFAULT_G_LRS } else { 0.0 };
            assert!((i - expect).abs() <= 1e-15 * expect, "{c}: {i} vs {expect}");
        }
    }
    // Image by image on the first 300 test images (10,000 of 10,000 in the
    // README's full runs): the same prediction and the same output spikes.
    let data = test_images(300);
    let (lif, config) = trial::configure(&model, &s, &Conversion::default(), 11);
    let a = snn::infer(
        &IdealMapping::new(&model).unwrap(),
        &lif,
        &data,
        &config,
        false,
    )
    .unwrap();
    let b = snn::infer(&shared, &lif, &data, &config, false).unwrap();
    assert_eq!(a.predictions, b.predictions);
    assert_eq!(a.output_spikes, b.output_spikes);
    assert_eq!(a.layer_spikes, b.layer_spikes);
}

#[test]
fn driver_resistance_lowers_currents_as_the_closed_form_and_flips_full_rows() {
    // Only r_driver: the selected row's node sits at V / (1 + R n G) for n
    // LRS cells in the row (columns at virtual ground), each LRS cell
    // carries G times that.
    let model = shipped();
    let g = DEFAULT_G_LRS;
    // Rows with more than 8.5 ones fall below the midway reference
    // (V_row < V/2 iff R n G > 1).
    let r = 1.0 / (8.5 * g);
    let s = settings(&format!("[crossbar]\nr_driver = {r}\n"));
    let shared = SharedMapping::new(&model, &s.hardware, 5).unwrap();
    let mut flipped_rows = 0;
    for (core, layer) in shared.cores.iter().zip(&model.layers) {
        for (k, &code) in layer.codes.iter().enumerate() {
            let n = (code as u16).count_ones() as f64;
            let v_row = V_READ / (1.0 + r * n * g);
            for b in 0..16 {
                let one = (code as u16 >> b) & 1 == 1;
                let expect = if one { g * v_row } else { 0.0 };
                let i = core.currents[k * 16 + b];
                assert!(
                    (i - expect).abs() <= 1e-12 * V_READ * g,
                    "{k},{b}: {i} vs {expect}"
                );
            }
            let expect_code = if n > 8.5 { 0 } else { code };
            flipped_rows += (n > 8.5) as usize;
            assert_eq!(core.decoded[k], expect_code, "row {k} with {n} ones");
        }
    }
    assert!(flipped_rows > 0, "the test needs rows with many ones");
}

#[test]
fn sense_resistance_matches_the_column_divider() {
    // Only r_sense: column b's bottom node sees the selected row at V
    // through G_kb and the 15 grounded rows through their cells, so
    // V_c = V G_kb / (sum_i G_ib + 1/R) and I_b = V_c / R.
    let model = shipped();
    let g = DEFAULT_G_LRS;
    let r = 2000.0;
    let s = settings(&format!("[crossbar]\nr_sense = {r}\n"));
    let shared = SharedMapping::new(&model, &s.hardware, 5).unwrap();
    for (core, layer) in shared.cores.iter().zip(&model.layers) {
        for b in 0..16 {
            let ones = layer
                .codes
                .iter()
                .filter(|&&c| (c as u16 >> b) & 1 == 1)
                .count() as f64;
            for (k, &code) in layer.codes.iter().enumerate() {
                let g_kb = if (code as u16 >> b) & 1 == 1 { g } else { 0.0 };
                let expect = V_READ * g_kb / (ones * g + 1.0 / r) / r;
                let i = core.currents[k * 16 + b];
                assert!(
                    (i - expect).abs() <= 1e-12 * V_READ * g,
                    "{k},{b}: {i} vs {expect}"
                );
            }
        }
    }
}

#[test]
fn wire_resistance_only_lowers_lrs_currents_and_only_clears_bits() {
    let model = shipped();
    let mut previous: Option<Vec<f64>> = None;
    for r_wire in [0.0, 5.0, 50.0, 500.0] {
        let s = settings(&format!(
            "[crossbar]\nr_wire = {r_wire}\n[device]\non_off_ratio = 50\n"
        ));
        let shared = SharedMapping::new(&model, &s.hardware, 5).unwrap();
        let core = &shared.cores[0];
        let lrs: Vec<f64> = (0..256)
            .filter(|c| (model.layers[0].codes[c / 16] as u16 >> (c % 16)) & 1 == 1)
            .map(|c| core.currents[c])
            .collect();
        if let Some(p) = &previous {
            assert!(
                lrs.iter().zip(p).all(|(now, before)| now < before),
                "r_wire {r_wire}"
            );
        }
        // IR drop never adds current to an LRS cell, so a misread turns a
        // 1 into a 0 and never the reverse.
        for (d, s) in core.decoded.iter().zip(&core.stored) {
            assert_eq!(
                *d as u16 & !(*s as u16),
                0,
                "r_wire {r_wire}: {d:#x} from {s:#x}"
            );
        }
        previous = Some(lrs);
    }
}

#[test]
fn stuck_cells_and_converters_decode_as_predicted() {
    let model = shipped();
    // Every cell stuck at LRS: all 16 bits read 1, two's complement -1.
    let s = settings("[faults]\nstuck_on_rate = 1.0\n");
    let shared = SharedMapping::new(&model, &s.hardware, 1).unwrap();
    assert!(shared.cores.iter().all(|c| c.decoded == vec![-1i16; 16]));
    // Stuck at HRS: all zero.
    let s = settings("[faults]\nstuck_off_rate = 1.0\n");
    let shared = SharedMapping::new(&model, &s.hardware, 1).unwrap();
    assert!(shared.cores.iter().all(|c| c.decoded == vec![0i16; 16]));
    // A 1-bit converter over the LRS current reads ideal devices exactly.
    let s = settings("[adc]\nbits = 1\n[device]\non_off_ratio = 10\n");
    let shared = SharedMapping::new(&model, &s.hardware, 1).unwrap();
    assert!(shared.cores.iter().all(|c| c.decoded == c.stored));
    // A range 100x the LRS current puts LRS and HRS in the same 2-bit code.
    let s = settings(&format!(
        "[adc]\nbits = 2\nrange = {}\n",
        100.0 * V_READ * DEFAULT_G_LRS
    ));
    let e = SharedMapping::new(&model, &s.hardware, 1).unwrap_err();
    assert!(
        matches!(&e, SnnError::Hardware(m) if m.contains("same code")),
        "{e}"
    );
}

#[test]
fn read_noise_is_seeded_thread_independent_and_costs_accuracy() {
    let model = shipped();
    let data = test_images(24);
    let table: toml::Table = "[device]\nread_noise_sigma = 0.6\n".parse().unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_trial(&model, &data, "shared", &table, 24, 3).unwrap())
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.accuracy, two.accuracy);
    // sigma 0.6: a 1 bit reads 0 with P(N < -0.83) = 20 %, so the tables are
    // garbage and accuracy falls towards chance; without noise 24/24 or
    // close.
    let clean = run_trial(&model, &data, "shared", &toml::Table::new(), 24, 3).unwrap();
    assert!(clean.accuracy >= 0.95, "{clean:?}");
    assert!(one.accuracy < clean.accuracy - 0.3, "{one:?} vs {clean:?}");
    assert_eq!(one.images, 24);
}

#[test]
fn run_trial_caps_images_and_matches_ideal_on_ideal_hardware() {
    let model = shipped();
    let data = test_images(20);
    let empty = toml::Table::new();
    let ideal = run_trial(&model, &data, "ideal", &empty, 100, 9).unwrap();
    let shared = run_trial(&model, &data, "shared", &empty, 100, 9).unwrap();
    assert_eq!(ideal.images, 20);
    assert_eq!(ideal.accuracy, shared.accuracy);
    let hw: toml::Table = "[crossbar]\nr_wire = 1.0\n".parse().unwrap();
    assert!(matches!(
        run_trial(&model, &data, "ideal", &hw, 5, 1),
        Err(SnnError::NonIdeal(KeyError::NotModelled { .. }))
    ));
    assert!(matches!(
        run_trial(&model, &data, "analog", &empty, 5, 1),
        Err(SnnError::UnknownMapping(_))
    ));
}

#[test]
fn resources_count_the_paper_architecture() {
    let model = shipped();
    let data = test_images(8);
    let s = settings("");
    let r = trial::run(
        &model,
        &data,
        "shared",
        &s,
        &Conversion::default(),
        1,
        false,
    )
    .unwrap();
    let (_, res) = r.shared.unwrap();
    assert_eq!(res.memristors(), 3 * 256);
    assert_eq!(res.neurons(), 1024 + 1024 + 10);
    assert_eq!(res.synapses(), 784 * 1024 + 1024 * 1024 + 1024 * 10);
    let spikes = &r.outcome.layer_spikes;
    let c0 = spikes[0] as f64 / 8.0 * 1024.0 + 32.0 * 1024.0;
    assert!((res.cores[0].cycles - c0).abs() < 1e-6);
    assert_eq!(
        res.cycles_per_frame(),
        res.cores.iter().map(|c| c.cycles).fold(0.0, f64::max)
    );
    assert!((res.frames_per_s() - 50e6 / res.cycles_per_frame()).abs() < 1e-9);
    let rows = res.rows();
    assert!(rows
        .iter()
        .any(|r| r[0] == "total" && r[1] == "memristors" && r[2] == "768" && r[3] == "750"));
    assert_eq!(Resources::from_outcome(&r.outcome), res);
}

#[test]
fn cycle_count_and_frame_rate_match_a_hand_count() {
    // Two frames of the paper's network, T = 32, with spike totals chosen by
    // hand: 3,000 input spikes, 500 from hidden layer 1, 100 from layer 2
    // (the output layer's own spikes drive no core).
    let outcome = snn::Outcome {
        predictions: vec![0, 0],
        output_spikes: vec![0; 20],
        layer_spikes: vec![3_000, 500, 100, 7],
        sizes: vec![784, 1024, 1024, 10],
        timesteps: 32,
        seconds: 1.0,
    };
    let r = Resources::from_outcome(&outcome);
    // Per frame: core 1 serves 1,500 spikes x 1,024 synapses = 1,536,000
    // cycles plus 32 x 1,024 = 32,768 LIF updates: 1,568,768. Core 2:
    // 250 x 1,024 + 32,768 = 288,768. Core 3: 50 x 10 + 32 x 10 = 820.
    let cycles: Vec<f64> = r.cores.iter().map(|c| c.cycles).collect();
    assert_eq!(cycles, [1_568_768.0, 288_768.0, 820.0]);
    assert_eq!(r.cycles_per_frame(), 1_568_768.0);
    assert_eq!(r.serial_cycles_per_frame(), 1_858_356.0);
    // 50 MHz / 1,568,768 cycles = 31.872... frames/s.
    assert!(
        (r.frames_per_s() - 31.872_144_26).abs() < 1e-8,
        "{}",
        r.frames_per_s()
    );
    // Index memory: 4 bits per synapse, 784 x 1024 x 4 = 3,211,264 bits.
    assert_eq!(r.cores[0].index_bits, 3_211_264);
}

#[test]
fn bad_keys_and_values_are_named() {
    let parse = |t: &str, m: &str| nonideal::from_table(&t.parse().unwrap(), m);
    for (text, key) in [
        (
            "[device]\nprogramming_sigma = -0.1\n",
            "device.programming_sigma",
        ),
        ("[device]\nlevels = 1\n", "device.levels"),
        ("[device]\non_off_ratio = 0.5\n", "device.on_off_ratio"),
        ("[device]\ng_min = 1e-4\ng_max = 1e-5\n", "device.g_min"),
        ("[drift]\nmodel = \"ecram\"\n", "drift.model"),
        (
            "[faults]\nstuck_on_rate = 0.7\nstuck_off_rate = 0.7\n",
            "faults.stuck_off_rate",
        ),
        ("[crossbar]\nr_wire = nan\n", "crossbar.r_wire"),
        ("[crossbar]\ntile = 1\n", "crossbar.tile"),
        ("[adc]\nbits = 40\n", "adc.bits"),
    ] {
        match parse(text, "shared") {
            Err(KeyError::Value { key: k, .. }) => assert_eq!(k, key, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(
        parse("[crossbar]\nwire = 1\n", "shared"),
        Err(KeyError::Unknown { key }) if key == "crossbar.wire"
    ));
    assert!(matches!(
        parse("[adc]\nbits = 4\n", "ideal"),
        Err(KeyError::NotModelled { key, .. }) if key == "adc.bits"
    ));
    let s = parse(
        "[drift]\nmodel = \"rram\"\ntime_s = 3600\ncompensation = \"column\"\n[device]\nlevels = 8\n",
        "shared",
    )
    .unwrap();
    assert_eq!(s.hardware.device.levels, Some(8));
    assert_eq!(s.hardware.device.drift_time_s, Some(3600.0));
    assert_eq!(s.keys.len(), 4);
}

//! The `.xbm` model format: round trip and clear errors on damaged files.

use xbar_snn::mlp::{ActivationScale, Mlp};
use xbar_snn::model::{ModelError, SharedModel};
use xbar_snn::pipeline::snap_to_fixed_point;
use xbar_snn::quant::{self, Method};

fn small_model() -> SharedModel {
    let mut net = Mlp::new(&[7, 5, 3], 9).unwrap();
    for layer in &mut net.layers {
        layer.shared = Some(quant::cluster(&layer.weights, Method::KMeans, 50).shared);
        layer.materialise();
    }
    snap_to_fixed_point(&mut net);
    let scales = vec![
        ActivationScale {
            max: 2.5,
            percentile: 2.0,
        },
        ActivationScale {
            max: 4.0,
            percentile: 3.5,
        },
    ];
    SharedModel::from_mlp(&net, &scales, 99.9).unwrap()
}

#[test]
fn save_load_round_trip_is_exact() {
    let model = small_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.xbm");
    model.save(&path).unwrap();
    let back = SharedModel::load(&path).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.sizes(), vec![7, 5, 3]);
    // 35 synapses pack into 18 bytes; the decoded table equals the values.
    for l in &back.layers {
        assert_eq!(l.table(), l.values);
    }
    assert_eq!(model.to_bytes().len(), 16 + 2 * (9 + 64 + 32 + 12) + 18 + 8);
}

#[test]
fn truncated_file_is_rejected() {
    let model = small_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.xbm");
    model.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = SharedModel::load(&path).unwrap_err();
    assert!(err.to_string().contains("corrupt or truncated"), "{err}");
}

#[test]
fn truncated_records_and_bad_magic_are_named() {
    let model = small_model();
    let bytes = model.to_bytes();
    let p = std::path::Path::new("x.xbm");
    let err = SharedModel::from_bytes(&bytes[..bytes.len() - 1], p).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let mut bad = bytes.clone();
    bad[0] = b'Y';
    let err = SharedModel::from_bytes(&bad, p).unwrap_err();
    assert!(err.to_string().contains("magic"), "{err}");
    let mut long = bytes.clone();
    long.push(0);
    assert!(SharedModel::from_bytes(&long, p).is_err());
    // A shared value that disagrees with its 16-bit code.
    let mut bad = bytes;
    let first_value = 8 + 4 + 4 + 4 + 4 + 1;
    bad[first_value..first_value + 4].copy_from_slice(&1000.0f32.to_le_bytes());
    let err = SharedModel::from_bytes(&bad, p).unwrap_err();
    assert!(
        matches!(err, ModelError::Format { .. }) && err.to_string().contains("16-bit code"),
        "{err}"
    );
}

#[test]
fn missing_file_names_the_path() {
    let err = SharedModel::load(std::path::Path::new("/nonexistent/m.xbm")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/m.xbm"), "{err}");
}

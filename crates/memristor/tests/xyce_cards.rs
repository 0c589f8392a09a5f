//! Xyce's memristor cards (`.model ... memristor level=N`, Xyce Reference
//! Guide, "Memristor Device") build xbar's models with Xyce's parameter names
//! and defaults; levels xbar lacks are refused by name.

use std::collections::BTreeMap;

use xbar_memristor::{from_card, CardError, CompactModel};

fn card(
    words: &[(&str, &str)],
    params: &[(&str, f64)],
) -> Result<Box<dyn CompactModel>, CardError> {
    let w: BTreeMap<String, String> = words
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p: BTreeMap<String, f64> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    from_card(&w, &p)
}

const OBLEA: [(&str, f64); 12] = [
    ("a1", 0.17),
    ("a2", 0.17),
    ("b", 0.05),
    ("vp", 0.16),
    ("vn", 0.15),
    ("ap", 4000.0),
    ("an", 4000.0),
    ("xp", 0.3),
    ("xn", 0.5),
    ("alphap", 1.0),
    ("alphan", 5.0),
    ("eta", 1.0),
];

/// The Reference Guide's level-3 example (`mrm3`, instance `xo=0.11`) is
/// xbar's Yakopcic model with the same numbers, value for value.
#[test]
fn level_3_is_yakopcic_with_xo_as_the_initial_state() {
    let mut xyce = OBLEA.to_vec();
    xyce.extend([("level", 3.0), ("xo", 0.11)]);
    let xyce = card(&[], &xyce).unwrap();
    let mut native = OBLEA.to_vec();
    native.push(("x0", 0.11));
    let native = card(&[("model", "yakopcic")], &native).unwrap();
    assert_eq!(xyce.kind(), "yakopcic");
    assert_eq!(xyce.default_state(), 0.11);
    for v in [-0.4, -0.1, 0.05, 0.2, 0.45] {
        for x in [0.0, 0.11, 0.4, 0.8, 1.0] {
            assert_eq!(xyce.current(v, x), native.current(v, x));
            assert_eq!(xyce.state_rate(v, x), native.state_rate(v, x));
        }
    }
    // Xyce's defaults (a1 = b = ap = 1, vp = 0.01, vn = -0.01, xp = xn = 1):
    // I = x sinh(V); g = e^V - e^0.01 above 0.01 V, -(e^-V - e^-0.01) below it;
    // with xp = xn = 1 the motion is never slowed.
    let bare = card(&[], &[("level", 3.0)]).unwrap();
    assert_eq!(bare.default_state(), 0.0);
    assert!((bare.current(0.3, 0.5) - 0.5 * 0.3f64.sinh()).abs() < 1e-15);
    let up = 0.3f64.exp() - 0.01f64.exp();
    assert!((bare.state_rate(0.3, 0.99) - up).abs() < 1e-12);
    let down = -((0.2f64).exp() - (-0.01f64).exp());
    assert!((bare.state_rate(-0.2, 0.5) - down).abs() < 1e-12);
}

/// Level 2 is current-controlled TEAM (Kvatinsky et al. 2013): the Reference
/// Guide's example `mrm2` (state in nm via `xscaling=1e9`, Kvatinsky window)
/// moves at `k_off (i/i_off - 1)^alpha_off f_off(x)` with `i = V/R(x)`.
#[test]
fn level_2_is_current_controlled_team_in_metres() {
    let m = card(
        &[],
        &[
            ("level", 2.0),
            ("ron", 50.0),
            ("roff", 1000.0),
            ("koff", 1.46e-18),
            ("kon", -4.68e-22),
            ("alphaoff", 10.0),
            ("alphaon", 10.0),
            ("wc", 1.0e-12),
            ("ioff", 115e-6),
            ("ion", -8.9e-6),
            ("xscaling", 1.0e9),
            ("wt", 4.0),
        ],
    )
    .unwrap();
    assert_eq!(m.kind(), "vteam");
    assert_eq!(m.state_bounds(), (0.0, 3e-9));
    let w = 2.99e-9;
    let r = 50.0 + 950.0 * w / 3e-9;
    assert!((1.0 / m.conductance(0.1, w) - r).abs() < 1e-9);
    // Twice the OFF threshold current: (2 - 1)^10 = 1.
    let v = 2.0 * 115e-6 * r;
    let f_off = (-((w - 3e-9) / 1e-12).exp()).exp();
    let want = 1.46e-18 * f_off;
    assert!(
        (m.state_rate(v, w) - want).abs() < 1e-9 * want,
        "{}",
        m.state_rate(v, w)
    );
    // Three times the ON threshold current, negative: (3 - 1)^10.
    let v = -3.0 * 8.9e-6 * r;
    let f_on = (-(-(w - 0.0) / 1e-12).exp()).exp();
    let want = -4.68e-22 * 2f64.powi(10) * f_on;
    assert!((m.state_rate(v, w) - want).abs() < 1e-9 * want.abs());
    // A voltage whose current lies between the thresholds moves nothing.
    assert_eq!(m.state_rate(100e-6 * r, w), 0.0);
    // Joglekar's window of Xyce acts on the scaled state over D: x_nm / D.
    let jog = card(
        &[],
        &[
            ("level", 2.0),
            ("ion", -8.9e-6),
            ("wt", 1.0),
            ("d", 3.0),
            ("p", 1.0),
            ("xscaling", 1e9),
        ],
    )
    .unwrap();
    let w = 0.75e-9;
    let r = 50.0 + 950.0 * 0.25;
    let v = 2.0 * 1.15e-4 * r;
    let window = 1.0 - (2.0 * 0.25 - 1.0f64).powi(2);
    let want = 8e-13 * window;
    assert!((jog.state_rate(v, w) - want).abs() < 1e-9 * want);
    // ivrelation=1: R = ron exp(ln(roff/ron) (x - xon)/(xoff - xon)).
    let exp = card(
        &[],
        &[("level", 2.0), ("ion", -8.9e-6), ("ivrelation", 1.0)],
    )
    .unwrap();
    assert!((1.0 / exp.conductance(0.0, 1.5e-9) - (50.0f64 * 1000.0).sqrt()).abs() < 1e-9);
}

/// Level 5 is Knowm's MMS (Knowm's Xyce model): `rinit` sets the initial
/// state through `1/R = x/R_on + (1-x)/R_off`; default `rinit` = `roff`.
#[test]
fn level_5_is_knowm_mms_with_rinit() {
    let params = [
        ("level", 5.0),
        ("roff", 1500.0),
        ("ron", 500.0),
        ("voff", 0.27),
        ("von", 0.27),
        ("tau", 1e-4),
        ("phi", 0.8),
        ("sfa", 8e-4),
        ("sfb", 4.0),
        ("sra", 8e-4),
        ("srb", 4.0),
    ];
    let m = card(&[], &params).unwrap();
    assert_eq!(m.kind(), "mms");
    assert_eq!(m.default_state(), 0.0);
    let mut with_rinit = params.to_vec();
    with_rinit.push(("rinit", 750.0));
    let m = card(&[], &with_rinit).unwrap();
    // 1/750 = x/500 + (1 - x)/1500  ->  x = 0.5.
    assert!((m.default_state() - 0.5).abs() < 1e-12);
    let native = card(
        &[("model", "mms")],
        &[
            ("ron", 500.0),
            ("roff", 1500.0),
            ("phi", 0.8),
            ("sfa", 8e-4),
            ("sfb", 4.0),
            ("sra", 8e-4),
            ("srb", 4.0),
        ],
    )
    .unwrap();
    for v in [-0.5, -0.1, 0.2, 0.4] {
        assert_eq!(m.current(v, 0.3), native.current(v, 0.3));
        assert_eq!(m.state_rate(v, 0.3), native.state_rate(v, 0.3));
    }
}

#[test]
fn levels_and_options_xbar_lacks_are_refused_by_name() {
    let err = card(&[], &[("level", 4.0), ("i1", 85.37e-6)]).unwrap_err();
    assert!(matches!(err, CardError::XyceLevel { level, .. } if level == 4.0));
    assert!(err.to_string().contains("piecewise empirical"), "{err}");
    for level in [1.0, 6.0, 2.5] {
        let err = card(&[], &[("level", level)]).unwrap_err();
        assert!(matches!(err, CardError::XyceLevel { .. }), "{err}");
        assert!(err.to_string().contains(&format!("level {level}")), "{err}");
    }
    let err = card(&[("model", "lid")], &[("level", 3.0)]).unwrap_err();
    assert!(matches!(err, CardError::KindAndLevel), "{err}");
    let err = card(&[], &[("level", 3.0), ("resnoise", 1.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::Unsupported { name, .. } if name == "resnoise"),
        "{err}"
    );
    // Switched-off noise is accepted.
    card(&[("resnoise", "false")], &[("level", 3.0), ("xp", 0.3)]).unwrap();
    for wt in [2.0, 3.0] {
        let err = card(&[], &[("level", 2.0), ("ion", -1e-6), ("wt", wt)]).unwrap_err();
        assert!(
            matches!(&err, CardError::Unsupported { name, .. } if name == "wt"),
            "{err}"
        );
    }
    // Xyce's own default ion (+8.9 uA) is not a TEAM ON threshold.
    let err = card(&[], &[("level", 2.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "ion"),
        "{err}"
    );
    // A parameter of another level is unknown here.
    let err = card(&[], &[("level", 3.0), ("rinit", 500.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::UnknownParameter(n) if n == "rinit"),
        "{err}"
    );
    let err = card(&[], &[("level", 5.0), ("rinit", 50.0)]).unwrap_err();
    assert!(
        matches!(&err, CardError::BadParameter { name, .. } if name == "rinit"),
        "{err}"
    );
}

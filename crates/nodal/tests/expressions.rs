//! Property tests of the behavioural expression path: random expressions
//! using every operator and function, written out as deck text, parsed by
//! `xbar_netlist::expr` and compiled by `xbar_nodal::compiled_expr`, must
//! evaluate as a direct recursive f64 evaluation of the same tree (written
//! here from ngspice's definitions, independently of the library), and their
//! derivatives must match central differences where the function is smooth.
//! Malformed text must give an error, never a panic.

use proptest::prelude::*;
use xbar_netlist::expr::{self, Probe};
use xbar_nodal::compiled_expr::{CompiledExpr, Env};

const FUDGE: f64 = 1e-32;

#[derive(Debug, Clone)]
enum T {
    Num(f64),
    /// `V(p0)`, `V(p1)`, `I(p2)`.
    Probe(usize),
    Time,
    Neg(Box<T>),
    Not(Box<T>),
    Bin(&'static str, Box<T>, Box<T>),
    Tern(Box<T>, Box<T>, Box<T>),
    F1(&'static str, Box<T>),
    F2(&'static str, Box<T>, Box<T>),
}

const UNARY: &[&str] = &[
    "abs", "sgn", "sqrt", "exp", "ln", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil", "int", "nint", "u", "u2",
    "uramp",
];
const BINARY_FN: &[&str] = &["pow", "pwr", "min", "max"];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "^", "**", "==", "!=", "<", "<=", ">", ">=", "&&", "||",
];

fn tree() -> impl Strategy<Value = T> {
    let leaf = prop_oneof![
        (-3.0f64..3.0).prop_map(|v| T::Num((v * 100.0).round() / 100.0)),
        (0usize..3).prop_map(T::Probe),
        Just(T::Time),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| T::Neg(Box::new(a))),
            inner.clone().prop_map(|a| T::Not(Box::new(a))),
            (prop::sample::select(OPS), inner.clone(), inner.clone())
                .prop_map(|(op, a, b)| T::Bin(op, Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| T::Tern(
                Box::new(c),
                Box::new(a),
                Box::new(b)
            )),
            (prop::sample::select(UNARY), inner.clone()).prop_map(|(f, a)| T::F1(f, Box::new(a))),
            (prop::sample::select(BINARY_FN), inner.clone(), inner).prop_map(|(f, a, b)| T::F2(
                f,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

/// Deck text, fully parenthesised (precedence has its own unit tests).
fn text(t: &T) -> String {
    match t {
        T::Num(v) => format!("({v})"),
        T::Probe(0) => "V(p0)".into(),
        T::Probe(1) => "v(P1, 0)".into(),
        T::Probe(_) => "I(vx)".into(),
        T::Time => "time".into(),
        T::Neg(a) => format!("(-{})", text(a)),
        T::Not(a) => format!("(!{})", text(a)),
        T::Bin(op, a, b) => format!("({} {op} {})", text(a), text(b)),
        T::Tern(c, a, b) => format!("({} ? {} : {})", text(c), text(a), text(b)),
        T::F1(f, a) => format!("{f}({})", text(a)),
        T::F2(f, a, b) => format!("{f}({}, {})", text(a), text(b)),
    }
}

fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn sgn(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// ngspice 39's B-source values, directly; `None` where ngspice reports
/// an error (or carries a NaN or infinity on).
fn reference(t: &T, p: &[f64; 3], time: f64) -> Option<f64> {
    let r = |t: &T| reference(t, p, time);
    let two_pi = 2.0 * std::f64::consts::PI;
    let value = match t {
        T::Num(v) => *v,
        T::Probe(k) => p[*k],
        T::Time => time,
        T::Neg(a) => -r(a)?,
        T::Not(a) => truth(r(a)? == 0.0),
        T::Bin(op, a, b) => {
            let (x, y) = (r(a)?, r(b)?);
            match *op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / if y >= 0.0 { y + FUDGE } else { y - FUDGE },
                "^" | "**" => x.abs().powf(y),
                "==" => truth(x == y),
                "!=" => truth(x != y),
                "<" => truth(x < y),
                "<=" => truth(x <= y),
                ">" => truth(x > y),
                ">=" => truth(x >= y),
                "&&" => truth(x != 0.0 && y != 0.0),
                _ => truth(x != 0.0 || y != 0.0),
            }
        }
        T::Tern(c, a, b) => {
            if r(c)? != 0.0 {
                r(a)?
            } else {
                r(b)?
            }
        }
        T::F1(f, a) => {
            let x = r(a)?;
            match *f {
                "abs" => x.abs(),
                "sgn" => sgn(x),
                "sqrt" if x < 0.0 => return None,
                "sqrt" => x.sqrt(),
                "exp" if x > 227.9559242 => 1e99,
                "exp" => x.exp(),
                "ln" | "log" | "log10" if x < 0.0 => return None,
                "ln" | "log" | "log10" if x == 0.0 => -1e99,
                "ln" | "log" => x.ln(),
                "log10" => x.log10(),
                "sin" => (x - (x / two_pi).trunc() * two_pi).sin(),
                "cos" => (x - (x / two_pi).trunc() * two_pi).cos(),
                "tan" => {
                    let pi = std::f64::consts::PI;
                    (x - (x / pi).trunc() * pi).tan()
                }
                "asin" => x.asin(),
                "acos" => x.acos(),
                "atan" => x.atan(),
                "sinh" => x.sinh(),
                "cosh" => x.cosh(),
                "tanh" => x.tanh(),
                "asinh" => x.asinh(),
                "acosh" => x.acosh(),
                "atanh" => x.atanh(),
                "floor" => x.floor(),
                "ceil" => x.ceil(),
                "int" => x.trunc(),
                "nint" => x.round_ties_even(),
                "u" => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        0.0
                    } else {
                        0.5
                    }
                }
                "u2" => x.clamp(0.0, 1.0),
                _ => x.max(0.0),
            }
        }
        T::F2(f, a, b) => {
            let (x, y) = (r(a)?, r(b)?);
            match *f {
                "pow" => x.abs().powf(y),
                "pwr" if x < 0.0 => -(-x).powf(y),
                "pwr" => x.powf(y),
                "min" => {
                    if x > y {
                        y
                    } else {
                        x
                    }
                }
                _ => {
                    if x > y {
                        x
                    } else {
                        y
                    }
                }
            }
        }
    };
    value.is_finite().then_some(value)
}

fn probes() -> Vec<Probe> {
    vec![
        Probe::Voltage("p0".into(), None),
        Probe::Voltage("p1".into(), Some("0".into())),
        Probe::Current("vx".into()),
    ]
}

/// Compiles with all three probes listed (an expression may use fewer).
fn compile(t: &T) -> CompiledExpr {
    let parsed = expr::parse(&text(t)).unwrap_or_else(|e| panic!("{}: {e}", text(t)));
    let resolved = parsed
        .map_leaves(&mut |leaf| -> Result<expr::Expr, ()> {
            Ok(match leaf {
                expr::Expr::Param(name) if name == "time" => expr::Expr::Var(expr::Var::Time),
                other => other,
            })
        })
        .unwrap();
    CompiledExpr::compile(&resolved, &probes(), FUDGE).unwrap()
}

fn eval(c: &mut CompiledExpr, p: &[f64; 3], time: f64) -> Option<(f64, Vec<f64>)> {
    let env = Env {
        probes: p,
        time,
        temper: 27.0,
    };
    c.eval(&env).ok().map(|(v, g)| (v, g.to_vec()))
}

/// Whether `t` is smooth around `p`: every value along the central
/// difference stencil exists and no step, rounding, comparison or branch
/// changes inside it.
fn smooth(t: &T, p: &[f64; 3], h: f64) -> bool {
    fn kinks(t: &T, p: &[f64; 3], q: &[f64; 3]) -> bool {
        let same = |t: &T| match (reference(t, p, 0.5), reference(t, q, 0.5)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        let sign_same = |t: &T| match (reference(t, p, 0.5), reference(t, q, 0.5)) {
            (Some(a), Some(b)) => sgn(a) == sgn(b) && a != 0.0,
            _ => false,
        };
        let bounded = |t: &T, lo: f64, hi: f64| match (reference(t, p, 0.5), reference(t, q, 0.5)) {
            (Some(a), Some(b)) => {
                let inside = |v: f64| v > lo && v < hi;
                inside(a) == inside(b) && (a - lo).abs() > 1e-3 && (a - hi).abs() > 1e-3
            }
            _ => false,
        };
        match t {
            T::Num(_) | T::Probe(_) | T::Time => true,
            T::Neg(a) => kinks(a, p, q),
            T::Not(a) => same(t) && kinks(a, p, q),
            T::Bin(op, a, b) => {
                let ok = match *op {
                    "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" => same(t),
                    // |a|^b bends at a = 0.
                    "^" | "**" => sign_same(a),
                    "/" => sign_same(b),
                    _ => true,
                };
                ok && kinks(a, p, q) && kinks(b, p, q)
            }
            T::Tern(c, a, b) => same(c) && kinks(c, p, q) && kinks(a, p, q) && kinks(b, p, q),
            T::F1(f, a) => {
                let ok = match *f {
                    "sgn" | "floor" | "ceil" | "int" | "nint" | "u" => same(t),
                    "abs" | "uramp" | "sqrt" | "ln" | "log" | "log10" => sign_same(a),
                    "u2" => bounded(a, 0.0, 1.0),
                    "asin" | "acos" | "atanh" => bounded(a, -0.999, 0.999),
                    "acosh" => bounded(a, 1.001, f64::INFINITY),
                    "exp" => bounded(a, f64::NEG_INFINITY, 227.0),
                    "tan" => match reference(a, p, 0.5) {
                        Some(x) => x.cos().abs() > 0.05,
                        None => false,
                    },
                    _ => true,
                };
                ok && kinks(a, p, q)
            }
            T::F2(f, a, b) => {
                let ok = match *f {
                    "pow" | "pwr" => sign_same(a),
                    _ => match (reference(a, p, 0.5), reference(b, p, 0.5)) {
                        (Some(x), Some(y)) => {
                            (x - y).abs() > 1e-3 && same(t)
                                || {
                                    let (xq, yq) = (reference(a, q, 0.5), reference(b, q, 0.5));
                                    matches!((xq, yq), (Some(xq), Some(yq)) if (x > y) == (xq > yq) && (x - y).abs() > 1e-3)
                                }
                        }
                        _ => false,
                    },
                };
                ok && kinks(a, p, q) && kinks(b, p, q)
            }
        }
    }
    (0..3).all(|k| {
        let (mut lo, mut hi) = (*p, *p);
        lo[k] -= h;
        hi[k] += h;
        kinks(t, p, &lo) && kinks(t, p, &hi)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compiled_values_match_the_reference(t in tree(), p in prop::array::uniform3(-2.0f64..2.0), time in 0.0f64..1.0) {
        let mut c = compile(&t);
        let want = reference(&t, &p, time);
        let got = eval(&mut c, &p, time);
        match (want, got) {
            (Some(w), Some((v, _))) => prop_assert!(
                v == w || (v - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{}: compiled {v}, reference {w}", text(&t)
            ),
            // A finite value the reference rejects (or the reverse) is a
            // disagreement; both failing is agreement. A compiled value may
            // fail on a non-finite derivative only.
            (None, Some((v, _))) => prop_assert!(false, "{}: compiled {v}, reference fails", text(&t)),
            (Some(w), None) => {
                let derivative_only = eval_value_only(&t, &p, time).is_some();
                prop_assert!(derivative_only, "{}: reference {w}, compiled fails", text(&t));
            }
            (None, None) => {}
        }
    }

    #[test]
    fn derivatives_match_central_differences(t in tree(), p in prop::array::uniform3(-2.0f64..2.0)) {
        let h = 1e-6;
        prop_assume!(smooth(&t, &p, 10.0 * h));
        let mut c = compile(&t);
        let Some((value, grad)) = eval(&mut c, &p, 0.5) else {
            return Ok(());
        };
        prop_assume!(value.abs() < 1e6);
        for k in 0..3 {
            let (mut lo, mut hi) = (p, p);
            lo[k] -= h;
            hi[k] += h;
            let (Some(a), Some(b)) = (reference(&t, &hi, 0.5), reference(&t, &lo, 0.5)) else {
                continue;
            };
            let numeric = (a - b) / (2.0 * h);
            prop_assert!(
                (grad[k] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0) + 1e-5 * value.abs().max(1.0),
                "{}: d/dp{k} = {} but the central difference is {numeric}", text(&t), grad[k]
            );
        }
    }

    #[test]
    fn malformed_expressions_error_without_panicking(s in "[-+*/^()?:<>=!&|,. a-zA-Z0-9{}]{0,40}") {
        let _ = expr::parse(&s);
    }

    #[test]
    fn mangled_valid_expressions_error_without_panicking(t in tree(), cut in 0usize..200, insert in "[-+*/^()?:<>=!&|,]") {
        let mut s = text(&t);
        let at = cut.min(s.len());
        s.insert_str(at, &insert);
        if let Ok(parsed) = expr::parse(&s) {
            // Whatever parsed must also compile (or say why) without panicking.
            let _ = CompiledExpr::compile(&parsed, &parsed.probes(), FUDGE);
        }
    }
}

/// The value alone, by the library's own evaluator (no derivatives).
fn eval_value_only(t: &T, p: &[f64; 3], time: f64) -> Option<f64> {
    let parsed = expr::parse(&text(t)).ok()?;
    parsed
        .eval(
            expr::Dialect::Behavioral { fudge: FUDGE },
            &mut |leaf| -> Result<f64, expr::ExprError> {
                Ok(match leaf {
                    expr::Expr::Probe(Probe::Voltage(n, _)) if n == "p0" => p[0],
                    expr::Expr::Probe(Probe::Voltage(_, _)) => p[1],
                    expr::Expr::Probe(Probe::Current(_)) => p[2],
                    _ => time,
                })
            },
        )
        .ok()
}

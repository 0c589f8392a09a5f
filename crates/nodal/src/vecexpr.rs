//! Vector arithmetic of `.control` blocks (`let`, `print`, `wrdata`):
//! ngspice's front-end expressions over whole vectors. Element-wise
//! `+ - * / % ^` with scalars broadcast, unary minus, indexing `v[i]` and
//! ranges `v[lo,hi]`, and the functions engineers use: `mag abs db ph real
//! imag sqrt exp ln log log10 sin cos tan atan deriv mean vecmax vecmin
//! length vector min max`. As in ngspice 39, `log` is the natural logarithm
//! and `ph` is in radians. Values are complex where an AC vector makes them.

use xbar_netlist::number::scan_number;

/// A vector: real parts, and imaginary parts when complex.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub re: Vec<f64>,
    pub im: Option<Vec<f64>>,
}

impl Value {
    pub fn real(re: Vec<f64>) -> Self {
        Self { re, im: None }
    }

    fn len(&self) -> usize {
        self.re.len()
    }

    fn im_at(&self, i: usize) -> f64 {
        self.im.as_ref().map_or(0.0, |im| im[i])
    }

    pub fn magnitude(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.re[i].hypot(self.im_at(i)))
            .collect()
    }

    pub fn phase_degrees(&self) -> Vec<f64> {
        self.phase().iter().map(|p| p.to_degrees()).collect()
    }

    fn phase(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.im_at(i).atan2(self.re[i]))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    /// A vector or function name; `v(a,b)`-style vector names come whole.
    Name(String),
    Op(char),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
}

const FUNCTIONS: &[&str] = &[
    "mag", "abs", "db", "ph", "phase", "real", "re", "imag", "im", "sqrt", "exp", "ln", "log",
    "log10", "sin", "cos", "tan", "atan", "deriv", "mean", "vecmax", "vecmin", "length", "vector",
    "min", "max",
];

fn tokenize(text: &str) -> Result<Vec<(Tok, usize, usize)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '0'..='9' | '.' => {
                let rest: String = chars[i..].iter().collect();
                let (value, len) =
                    scan_number(&rest).ok_or_else(|| format!("bad number at `{rest}`"))?;
                i += rest[..len].chars().count();
                Tok::Num(value)
            }
            '+' | '-' | '*' | '/' | '%' | '^' => {
                i += 1;
                Tok::Op(c)
            }
            '(' => {
                i += 1;
                Tok::Open
            }
            ')' => {
                i += 1;
                Tok::Close
            }
            '[' => {
                i += 1;
                Tok::OpenBracket
            }
            ']' => {
                i += 1;
                Tok::CloseBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            c if c.is_alphabetic() || matches!(c, '_' | '@' | '#') => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || matches!(chars[i], '_' | '@' | '#' | '.' | ':'))
                {
                    i += 1;
                }
                let mut name: String = chars[start..i].iter().collect::<String>().to_lowercase();
                // `v(out)`, `i(v1)`, `v(a, b)`: a vector name, not a call.
                if chars.get(i) == Some(&'(') && !FUNCTIONS.contains(&name.as_str()) {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ')')
                        .ok_or_else(|| format!("missing `)` after `{name}(`"))?;
                    let args: String = chars[i + 1..i + close]
                        .iter()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_lowercase();
                    name = format!("{name}({args})");
                    i += close + 1;
                }
                Tok::Name(name)
            }
            other => return Err(format!("unexpected `{other}`")),
        };
        out.push((tok, start, i));
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Node {
    Num(f64),
    Vector(String),
    Neg(Box<Node>),
    Binary(char, Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
    Index(Box<Node>, Box<Node>, Option<Box<Node>>),
}

struct Parser {
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        tok
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(tok) if tok == want => Ok(()),
            _ => Err(format!("expected {what}")),
        }
    }

    fn sum(&mut self) -> Result<Node, String> {
        let mut lhs = self.product()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            lhs = Node::Binary(op, Box::new(lhs), Box::new(self.product()?));
        }
        Ok(lhs)
    }

    fn product(&mut self) -> Result<Node, String> {
        let mut lhs = self.unary()?;
        while let Some(Tok::Op(op @ ('*' | '/' | '%'))) = self.peek().cloned() {
            self.pos += 1;
            lhs = Node::Binary(op, Box::new(lhs), Box::new(self.unary()?));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, String> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Node, String> {
        let base = self.postfix()?;
        if self.peek() == Some(&Tok::Op('^')) {
            self.pos += 1;
            return Ok(Node::Binary('^', Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Node, String> {
        let mut node = self.primary()?;
        while self.peek() == Some(&Tok::OpenBracket) {
            self.pos += 1;
            let first = self.sum()?;
            let second = if self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                Some(Box::new(self.sum()?))
            } else {
                None
            };
            self.expect(Tok::CloseBracket, "`]`")?;
            node = Node::Index(Box::new(node), Box::new(first), second);
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, String> {
        match self.next() {
            Some(Tok::Num(v)) => Ok(Node::Num(v)),
            Some(Tok::Open) => {
                let inner = self.sum()?;
                self.expect(Tok::Close, "`)`")?;
                Ok(inner)
            }
            Some(Tok::Name(name)) => {
                if self.peek() == Some(&Tok::Open) {
                    self.pos += 1;
                    let mut args = vec![self.sum()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        args.push(self.sum()?);
                    }
                    self.expect(Tok::Close, "`)`")?;
                    return Ok(Node::Call(name, args));
                }
                Ok(Node::Vector(name))
            }
            Some(other) => Err(format!("unexpected {other:?}")),
            None => Err("expression ends early".into()),
        }
    }
}

/// Splits `text` into the expressions written one after another
/// (`print v(a) v(b)*2`), as their source text.
pub fn split(text: &str) -> Result<Vec<String>, String> {
    let toks = tokenize(text)?;
    let mut parser = Parser { toks, pos: 0 };
    let mut out = Vec::new();
    while parser.pos < parser.toks.len() {
        let start = parser.toks[parser.pos].1;
        parser.sum()?;
        let end = parser.toks[parser.pos - 1].2;
        out.push(text.chars().skip(start).take(end - start).collect());
    }
    Ok(out)
}

/// Evaluates `text` with `lookup` for vector names; `scale` is the current
/// plot's scale (for `deriv`).
pub fn evaluate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    scale: Option<&[f64]>,
) -> Result<Value, String> {
    let toks = tokenize(text)?;
    let mut parser = Parser { toks, pos: 0 };
    let node = parser.sum()?;
    if parser.pos < parser.toks.len() {
        return Err("more than one expression".into());
    }
    eval(&node, lookup, scale)
}

fn eval(
    node: &Node,
    lookup: &dyn Fn(&str) -> Option<Value>,
    scale: Option<&[f64]>,
) -> Result<Value, String> {
    let go = |n: &Node| eval(n, lookup, scale);
    Ok(match node {
        Node::Num(v) => Value::real(vec![*v]),
        Node::Vector(name) => lookup(name).ok_or_else(|| format!("no such vector `{name}`"))?,
        Node::Neg(inner) => {
            let v = go(inner)?;
            Value {
                re: v.re.iter().map(|x| -x).collect(),
                im: v.im.map(|im| im.iter().map(|x| -x).collect()),
            }
        }
        Node::Binary(op, a, b) => binary(*op, &go(a)?, &go(b)?)?,
        Node::Index(base, first, second) => {
            let v = go(base)?;
            let index = |n: &Node| -> Result<usize, String> {
                let i = scalar(&go(n)?)?;
                if i < 0.0 || i.fract() != 0.0 || i as usize >= v.len() {
                    return Err(format!("index {i} outside 0..{}", v.len()));
                }
                Ok(i as usize)
            };
            let lo = index(first)?;
            let hi = match second {
                Some(s) => index(s)?,
                None => lo,
            };
            let range: Vec<usize> = if lo <= hi {
                (lo..=hi).collect()
            } else {
                (hi..=lo).rev().collect()
            };
            Value {
                re: range.iter().map(|&i| v.re[i]).collect(),
                im: v
                    .im
                    .as_ref()
                    .map(|im| range.iter().map(|&i| im[i]).collect()),
            }
        }
        Node::Call(name, args) => {
            let values = args.iter().map(go).collect::<Result<Vec<_>, _>>()?;
            call(name, &values, scale)?
        }
    })
}

fn scalar(v: &Value) -> Result<f64, String> {
    match v.re.as_slice() {
        [x] => Ok(*x),
        _ => Err(format!("expected a single value, got {} points", v.len())),
    }
}

/// The length of an element-wise result: a length-1 operand is broadcast.
fn broadcast_len(a: &Value, b: &Value) -> Result<usize, String> {
    match (a.len(), b.len()) {
        (x, y) if x == y => Ok(x),
        (1, y) => Ok(y),
        (x, 1) => Ok(x),
        (x, y) => Err(format!("vectors of different lengths ({x} and {y})")),
    }
}

/// Element-wise with a length-1 operand broadcast.
fn binary(op: char, a: &Value, b: &Value) -> Result<Value, String> {
    let n = broadcast_len(a, b)?;
    let at = |v: &Value, i: usize| {
        let k = if v.len() == 1 { 0 } else { i };
        (v.re[k], v.im_at(k))
    };
    let complex = a.im.is_some() || b.im.is_some();
    let mut re = Vec::with_capacity(n);
    let mut im = Vec::with_capacity(n);
    for i in 0..n {
        let ((ar, ai), (br, bi)) = (at(a, i), at(b, i));
        let (r, j) = match op {
            '+' => (ar + br, ai + bi),
            '-' => (ar - br, ai - bi),
            '*' => (ar * br - ai * bi, ar * bi + ai * br),
            '/' => {
                let d = br * br + bi * bi;
                if d == 0.0 {
                    return Err("division by zero".into());
                }
                ((ar * br + ai * bi) / d, (ai * br - ar * bi) / d)
            }
            '%' if !complex => (ar % br, 0.0),
            '^' if !complex => (ar.powf(br), 0.0),
            _ => return Err(format!("`{op}` of complex vectors")),
        };
        re.push(r);
        im.push(j);
    }
    Ok(Value {
        re,
        im: complex.then_some(im),
    })
}

fn call(name: &str, args: &[Value], scale: Option<&[f64]>) -> Result<Value, String> {
    let arity = if matches!(name, "min" | "max") { 2 } else { 1 };
    if args.len() != arity {
        return Err(format!("`{name}` takes {arity} argument(s)"));
    }
    let v = &args[0];
    let real_only = |f: fn(f64) -> f64| -> Result<Value, String> {
        if v.im.is_some() {
            return Err(format!("`{name}` of a complex vector"));
        }
        Ok(Value::real(v.re.iter().map(|&x| f(x)).collect()))
    };
    let one = |x: f64| Value::real(vec![x]);
    Ok(match name {
        "mag" | "abs" => Value::real(v.magnitude()),
        "db" => Value::real(v.magnitude().iter().map(|m| 20.0 * m.log10()).collect()),
        "ph" | "phase" => Value::real(v.phase()),
        "real" | "re" => Value::real(v.re.clone()),
        "imag" | "im" => Value::real(v.im.clone().unwrap_or_else(|| vec![0.0; v.len()])),
        "sqrt" => real_only(f64::sqrt)?,
        "exp" => real_only(f64::exp)?,
        "ln" | "log" => real_only(f64::ln)?,
        "log10" => real_only(f64::log10)?,
        "sin" => real_only(f64::sin)?,
        "cos" => real_only(f64::cos)?,
        "tan" => real_only(f64::tan)?,
        "atan" => real_only(f64::atan)?,
        "mean" => one(v.re.iter().sum::<f64>() / v.len() as f64),
        "vecmax" => one(v.re.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        "vecmin" => one(v.re.iter().copied().fold(f64::INFINITY, f64::min)),
        "length" => one(v.len() as f64),
        "vector" => {
            let n = scalar(v)?;
            if n < 0.0 {
                return Err("vector(n) needs n >= 0".into());
            }
            Value::real((0..n as usize).map(|i| i as f64).collect())
        }
        "deriv" => {
            let scale = scale.ok_or("deriv needs an analysis with a scale")?;
            if scale.len() != v.len() || v.im.is_some() {
                return Err("deriv of a vector that is not on the plot's scale".into());
            }
            Value::real(crate::measure::derivative(scale, &v.re))
        }
        "min" | "max" => {
            let b = &args[1];
            let pick = if name == "min" { f64::min } else { f64::max };
            let n = broadcast_len(v, b)?;
            let at = |w: &Value, i: usize| if w.len() == 1 { w.re[0] } else { w.re[i] };
            Value::real((0..n).map(|i| pick(at(v, i), at(b, i))).collect())
        }
        other => return Err(format!("unknown function `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<Value> {
        match name {
            "a" | "v(out)" => Some(Value::real(vec![0.0, 0.25, 0.5, 0.75, 1.0])),
            _ => None,
        }
    }

    fn eval_str(text: &str) -> Vec<f64> {
        let scale = [0.0, 0.5, 1.0, 1.5, 2.0];
        evaluate(text, &lookup, Some(&scale)).unwrap().re
    }

    #[test]
    fn arithmetic_indexing_and_functions_as_ngspice() {
        assert_eq!(eval_str("mean(a)"), [0.5]);
        assert_eq!(eval_str("vecmax(v(out)) - vecmin(a)"), [1.0]);
        assert_eq!(eval_str("length(a)"), [5.0]);
        assert_eq!(eval_str("a[2]"), [0.5]);
        assert_eq!(eval_str("a[1,3]"), [0.25, 0.5, 0.75]);
        assert_eq!(eval_str("abs(-a[1])"), [0.25]);
        assert_eq!(eval_str("max(a, 0.6)"), [0.6, 0.6, 0.6, 0.75, 1.0]);
        assert_eq!(eval_str("2^3 + 5%3"), [10.0]);
        assert_eq!(eval_str("-2^2"), [-4.0]);
        assert!((eval_str("log(100)")[0] - 100f64.ln()).abs() < 1e-15);
        assert_eq!(eval_str("deriv(a)"), [0.5; 5]);
        assert_eq!(eval_str("a * 2 + 1k")[4], 1002.0);
        assert!(evaluate("a + b", &lookup, None).is_err());
        assert!(evaluate("a[7]", &lookup, None).is_err());
    }

    #[test]
    fn complex_parts() {
        let z = Value {
            re: vec![3.0, 0.0],
            im: Some(vec![4.0, -1.0]),
        };
        let lookup = move |n: &str| (n == "z").then(|| z.clone());
        let mag = evaluate("mag(z)", &lookup, None).unwrap().re;
        assert_eq!(mag, [5.0, 1.0]);
        let db = evaluate("db(z)", &lookup, None).unwrap().re;
        assert!((db[0] - 20.0 * 5f64.log10()).abs() < 1e-12);
        let ph = evaluate("ph(z)", &lookup, None).unwrap().re;
        assert!((ph[1] + std::f64::consts::FRAC_PI_2).abs() < 1e-15);
        let product = evaluate("z * z", &lookup, None).unwrap();
        assert_eq!((product.re[0], product.im.unwrap()[0]), (-7.0, 24.0));
    }

    #[test]
    fn split_into_expressions() {
        assert_eq!(
            split("v(out) a * 2 mean(v(a, b))").unwrap(),
            ["v(out)", "a * 2", "mean(v(a, b))"]
        );
    }
}

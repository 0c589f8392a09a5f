//! ngspice's expression language: the parameter expressions of `.param` and
//! `{...}` values (ngspice's numparam) and the run-time expressions of B
//! sources (ngspice's parse trees), one grammar and one AST for both.
//!
//! Precedence, lowest first, as ngspice's B-source grammar: `c ? a : b`
//! (right associative), `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* /`,
//! unary `- + !`, and `^`/`**` (left associative, binding tighter than unary
//! minus: `-2^2` is -4, `2^3^2` is 64). Leaves are numbers with SPICE
//! suffixes, names (parameters, the constants `pi` and `e`, the run-time
//! variables `time`, `temper`, `hertz`), probes `V(a)`, `V(a,b)`, `I(name)`,
//! built-in functions and `.func` calls.
//!
//! The two evaluation contexts differ where ngspice 39 differs (checked by
//! running it), see [`Dialect`]. Deliberate differences from ngspice: both
//! contexts know every built-in function and the constants (numparam knows
//! neither `u`, `uramp`, `pi` nor `e`, B sources do not know `int`); the
//! numparam comparison operators follow the B-source precedence (numparam
//! ranks `==` with `<`); a NaN or infinite value is an error where ngspice
//! would carry it on until the analysis fails; ngspice's random Monte Carlo
//! functions (`limit(nom, avar)`, `gauss`, `agauss`, `unif`, `aunif`) and
//! `ddt`/`pwl` inside expressions are refused with an error naming them.

use std::fmt;

use crate::number::scan_number;

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("bad expression: {0}")]
    Syntax(String),
    #[error("{0}")]
    Domain(String),
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    /// A name: a parameter, a constant (`pi`, `e`) or, before elaboration
    /// resolves it, a run-time variable (`time`, `temper`, `hertz`).
    Param(String),
    /// A run-time variable (after elaboration).
    Var(Var),
    /// A simulation quantity; node and element names lower-cased (after
    /// elaboration: flattened as ngspice names them).
    Probe(Probe),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b` and `ternary_fcn(c, a, b)`: `a` when `c` is non-zero;
    /// only the chosen branch is evaluated.
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A built-in function.
    Func(Func, Vec<Expr>),
    /// A call of a user `.func` (inlined by elaboration).
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// Simulation time (0 outside a transient).
    Time,
    /// Circuit temperature in °C.
    Temper,
    /// Frequency of a small-signal analysis (0 in DC and transient).
    Hertz,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Probe {
    /// `V(a)` or `V(a,b)`; ground is `"0"`.
    Voltage(String, Option<String>),
    /// `I(name)`: the branch current of a voltage-defined element.
    Current(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    /// `!x`: 1 when `x` is 0, else 0.
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `^` and `**`.
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// How values are computed where ngspice's two evaluators differ (ngspice
/// 39, `newcompat` off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dialect {
    /// `.param` and `{...}` values (numparam): C library semantics; `^` is
    /// `|a|^b`, `pow(a,b)` is C's `pow` (NaN for a negative base with a
    /// fractional exponent), `pwr(a,b)` is `|a|^b`. Any NaN or infinity is an
    /// error.
    Numparam,
    /// B sources and everything built on them (ngspice's parse trees): a
    /// divisor is moved away from zero by `fudge` (ngspice: gmin·1e-20),
    /// `^` and `pow` are `|a|^b`, `pwr(a,b)` is `sign(a)|a|^b`, `exp` of more
    /// than 227.9559242 is 1e99, `log(0)` is -1e99, `sin`/`cos` reduce their
    /// argument modulo 2π and `tan` modulo π first; a negative argument of
    /// `sqrt`/`log`, an infinite result (`0^-1`) and a NaN (`acos(2)`) are
    /// errors.
    Behavioral { fudge: f64 },
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Sgn,
    Sqrt,
    Sqr,
    Exp,
    Ln,
    Log10,
    Pow,
    Pwr,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Floor,
    Ceil,
    Int,
    Nint,
    Min,
    Max,
    /// `u(x)`: 0 below zero, 0.5 at zero, 1 above (ngspice's step).
    U,
    /// `u2(x)`: 0 below zero, `x` in [0, 1], 1 above.
    U2,
    /// `uramp(x)`: `max(x, 0)`.
    Uramp,
}

/// Names, functions and argument counts. `log` is the natural logarithm,
/// as in ngspice; `arctan` is numparam's spelling of `atan`.
const FUNCTIONS: &[(&str, Func, usize)] = &[
    ("abs", Func::Abs, 1),
    ("sgn", Func::Sgn, 1),
    ("sqrt", Func::Sqrt, 1),
    ("sqr", Func::Sqr, 1),
    ("exp", Func::Exp, 1),
    ("ln", Func::Ln, 1),
    ("log", Func::Ln, 1),
    ("log10", Func::Log10, 1),
    ("pow", Func::Pow, 2),
    ("pwr", Func::Pwr, 2),
    ("sin", Func::Sin, 1),
    ("cos", Func::Cos, 1),
    ("tan", Func::Tan, 1),
    ("asin", Func::Asin, 1),
    ("acos", Func::Acos, 1),
    ("atan", Func::Atan, 1),
    ("arctan", Func::Atan, 1),
    ("sinh", Func::Sinh, 1),
    ("cosh", Func::Cosh, 1),
    ("tanh", Func::Tanh, 1),
    ("asinh", Func::Asinh, 1),
    ("acosh", Func::Acosh, 1),
    ("atanh", Func::Atanh, 1),
    ("floor", Func::Floor, 1),
    ("ceil", Func::Ceil, 1),
    ("int", Func::Int, 1),
    ("nint", Func::Nint, 1),
    ("min", Func::Min, 2),
    ("max", Func::Max, 2),
    ("u", Func::U, 1),
    ("u2", Func::U2, 1),
    ("uramp", Func::Uramp, 1),
];

/// ngspice functions xbar refuses, with the reason.
const REFUSED: &[(&str, &str)] = &[
    (
        "limit",
        "the Monte Carlo function limit(nom, avar) is random; xbar runs are deterministic",
    ),
    (
        "gauss",
        "Monte Carlo functions are random; xbar runs are deterministic",
    ),
    (
        "agauss",
        "Monte Carlo functions are random; xbar runs are deterministic",
    ),
    (
        "unif",
        "Monte Carlo functions are random; xbar runs are deterministic",
    ),
    (
        "aunif",
        "Monte Carlo functions are random; xbar runs are deterministic",
    ),
    (
        "ddt",
        "time derivatives inside expressions are not supported",
    ),
    ("idt", "time integrals inside expressions are not supported"),
    ("pwl", "pwl() tables inside expressions are not supported"),
    ("table", "table() inside expressions is not supported"),
];

impl Func {
    pub fn lookup(name: &str) -> Option<(Func, usize)> {
        FUNCTIONS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(_, f, arity)| (f, arity))
    }

    pub fn name(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or("?", |(n, _, _)| n)
    }

    pub fn arity(self) -> usize {
        FUNCTIONS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or(1, |(_, _, a)| *a)
    }

    /// Every built-in function, once.
    pub fn all() -> Vec<Func> {
        let mut out: Vec<Func> = Vec::new();
        for &(_, f, _) in FUNCTIONS {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// The function's value at `args` (`args.len()` is the arity).
    pub fn apply(self, dialect: Dialect, args: &[f64]) -> Result<f64, ExprError> {
        let x = args[0];
        let y = args.get(1).copied().unwrap_or(0.0);
        let behavioral = matches!(dialect, Dialect::Behavioral { .. });
        let domain = |why: &str| Err(ExprError::Domain(format!("{}({x}): {why}", self.name())));
        let value = match self {
            Func::Abs => x.abs(),
            Func::Sgn => sgn(x),
            Func::Sqrt if x < 0.0 => return domain("negative argument"),
            Func::Sqrt => x.sqrt(),
            Func::Sqr => x * x,
            Func::Exp if behavioral && x > 227.955_924_2 => 1e99,
            Func::Exp => x.exp(),
            Func::Ln | Func::Log10 if x < 0.0 => return domain("negative argument"),
            Func::Ln | Func::Log10 if behavioral && x == 0.0 => -1e99,
            Func::Ln | Func::Log10 if x == 0.0 => return domain("zero argument"),
            Func::Ln => x.ln(),
            Func::Log10 => x.log10(),
            Func::Pow if behavioral => x.abs().powf(y),
            Func::Pow => x.powf(y),
            Func::Pwr if behavioral && x < 0.0 => -(-x).powf(y),
            Func::Pwr => x.abs().powf(y),
            Func::Sin if behavioral => modulus(x, 2.0 * std::f64::consts::PI).sin(),
            Func::Sin => x.sin(),
            Func::Cos if behavioral => modulus(x, 2.0 * std::f64::consts::PI).cos(),
            Func::Cos => x.cos(),
            Func::Tan if behavioral => modulus(x, std::f64::consts::PI).tan(),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => x.atan(),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Tanh => x.tanh(),
            Func::Asinh => x.asinh(),
            Func::Acosh => x.acosh(),
            Func::Atanh => x.atanh(),
            Func::Floor => x.floor(),
            Func::Ceil => x.ceil(),
            Func::Int => x.trunc(),
            Func::Nint => x.round_ties_even(),
            Func::Min => {
                if x > y {
                    y
                } else {
                    x
                }
            }
            Func::Max => {
                if x > y {
                    x
                } else {
                    y
                }
            }
            Func::U => step(x),
            Func::U2 => x.clamp(0.0, 1.0),
            Func::Uramp => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
        };
        finite(value, || {
            let shown: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            format!("{}({})", self.name(), shown.join(", "))
        })
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

/// ngspice's `u()`: one half at zero.
fn step(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else if x > 0.0 {
        1.0
    } else {
        0.5
    }
}

/// ngspice's MODULUS macro, `x - trunc(x / m) * m`, applied before its
/// trigonometric functions (it changes the last bits of the result).
fn modulus(x: f64, m: f64) -> f64 {
    x - (x / m).trunc() * m
}

fn finite(value: f64, what: impl FnOnce() -> String) -> Result<f64, ExprError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ExprError::Domain(format!(
            "{} evaluates to {value}",
            what()
        )))
    }
}

fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// The operator's value for operands `a`, `b`.
    pub fn apply(self, dialect: Dialect, a: f64, b: f64) -> Result<f64, ExprError> {
        let value = match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => match dialect {
                Dialect::Behavioral { fudge } => {
                    let d = if b >= 0.0 { b + fudge } else { b - fudge };
                    if d == 0.0 {
                        return Err(ExprError::Domain(format!("{a} / {b}: division by zero")));
                    }
                    a / d
                }
                Dialect::Numparam if b == 0.0 => {
                    return Err(ExprError::Domain(format!("{a} / {b}: division by zero")))
                }
                Dialect::Numparam => a / b,
            },
            BinOp::Pow => a.abs().powf(b),
            BinOp::Eq => truth(a == b),
            BinOp::Ne => truth(a != b),
            BinOp::Lt => truth(a < b),
            BinOp::Le => truth(a <= b),
            BinOp::Gt => truth(a > b),
            BinOp::Ge => truth(a >= b),
            BinOp::And => truth(a != 0.0 && b != 0.0),
            BinOp::Or => truth(a != 0.0 || b != 0.0),
        };
        finite(value, || format!("{a} {} {b}", self.symbol()))
    }
}

impl UnOp {
    pub fn apply(self, a: f64) -> f64 {
        match self {
            UnOp::Neg => -a,
            UnOp::Not => truth(a == 0.0),
        }
    }
}

impl Var {
    pub fn name(self) -> &'static str {
        match self {
            Var::Time => "time",
            Var::Temper => "temper",
            Var::Hertz => "hertz",
        }
    }

    pub fn lookup(name: &str) -> Option<Var> {
        match name {
            "time" => Some(Var::Time),
            "temper" => Some(Var::Temper),
            "hertz" => Some(Var::Hertz),
            _ => None,
        }
    }
}

/// The constants every expression knows (unless a parameter of the same
/// name hides them).
pub fn constant(name: &str) -> Option<f64> {
    match name {
        "pi" => Some(std::f64::consts::PI),
        "e" => Some(std::f64::consts::E),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Probe(Probe),
    Op(BinOp),
    Minus,
    Plus,
    Not,
    Question,
    Colon,
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, ExprError> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        let (tok, len) = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'0'..=b'9' | b'.' => {
                let (value, len) = scan_number(&text[i..])
                    .ok_or_else(|| ExprError::Syntax(format!("bad number at `{}`", &text[i..])))?;
                (Tok::Num(value), len)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i;
                let mut end = i;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let name = text[start..end].to_ascii_lowercase();
                let mut after = end;
                while after < bytes.len() && bytes[after] == b' ' {
                    after += 1;
                }
                if (name == "v" || name == "i") && bytes.get(after) == Some(&b'(') {
                    let (probe, close) = probe(&name, text, after)?;
                    toks.push(Tok::Probe(probe));
                    i = close + 1;
                    continue;
                }
                (Tok::Ident(name), end - start)
            }
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' if next == Some(b'*') => (Tok::Op(BinOp::Pow), 2),
            b'*' => (Tok::Op(BinOp::Mul), 1),
            b'/' => (Tok::Op(BinOp::Div), 1),
            b'^' => (Tok::Op(BinOp::Pow), 1),
            b'=' if next == Some(b'=') => (Tok::Op(BinOp::Eq), 2),
            b'!' if next == Some(b'=') => (Tok::Op(BinOp::Ne), 2),
            b'<' if next == Some(b'>') => (Tok::Op(BinOp::Ne), 2),
            b'<' if next == Some(b'=') => (Tok::Op(BinOp::Le), 2),
            b'>' if next == Some(b'=') => (Tok::Op(BinOp::Ge), 2),
            b'<' => (Tok::Op(BinOp::Lt), 1),
            b'>' => (Tok::Op(BinOp::Gt), 1),
            b'&' if next == Some(b'&') => (Tok::Op(BinOp::And), 2),
            b'|' if next == Some(b'|') => (Tok::Op(BinOp::Or), 2),
            b'!' => (Tok::Not, 1),
            b'?' => (Tok::Question, 1),
            b':' => (Tok::Colon, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ExprError::Syntax(format!("unexpected character `{ch}`")));
            }
        };
        toks.push(tok);
        i += len;
    }
    Ok(toks)
}

/// `v(a)`, `v(a,b)` or `i(name)` starting at the `(` at `open`; node and
/// element names are taken verbatim (they may hold `.`, `#`, `-`...).
/// Returns the probe and the index of the closing `)`.
fn probe(kind: &str, text: &str, open: usize) -> Result<(Probe, usize), ExprError> {
    let close = text[open..]
        .find(')')
        .map(|p| p + open)
        .ok_or_else(|| ExprError::Syntax(format!("missing `)` after `{kind}(`")))?;
    let names: Vec<String> = text[open + 1..close]
        .split(',')
        .map(|n| n.trim().to_lowercase())
        .collect();
    let bad = |why: &str| {
        Err(ExprError::Syntax(format!(
            "`{kind}({})`: {why}",
            &text[open + 1..close]
        )))
    };
    if names
        .iter()
        .any(|n| n.is_empty() || n.contains(char::is_whitespace) || n.contains('('))
    {
        return bad("expected a name");
    }
    let ground = |n: &String| {
        if n == "gnd" {
            "0".to_string()
        } else {
            n.clone()
        }
    };
    let probe = match (kind, names.as_slice()) {
        ("v", [a]) => Probe::Voltage(ground(a), None),
        ("v", [a, b]) => Probe::Voltage(ground(a), Some(ground(b))),
        ("i", [name]) => Probe::Current(name.clone()),
        ("v", _) => return bad("takes one or two nodes"),
        _ => return bad("takes one element name"),
    };
    Ok((probe, close))
}

/// Deeply nested input (`((((...`) must fail cleanly rather than overflow the stack.
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        tok
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::Syntax("expression nested too deeply".into()));
        }
        Ok(())
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ExprError> {
        match self.next() {
            Some(tok) if tok == want => Ok(()),
            Some(tok) => Err(ExprError::Syntax(format!(
                "expected {what}, found {}",
                describe(&tok)
            ))),
            None => Err(ExprError::Syntax(format!(
                "expected {what} at the end of the expression"
            ))),
        }
    }

    /// `or ? ternary : ternary`, right associative.
    fn ternary(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let cond = self.binary(0)?;
        let result = if self.peek() == Some(&Tok::Question) {
            self.pos += 1;
            let yes = self.ternary()?;
            self.expect(Tok::Colon, "`:` of `? :`")?;
            let no = self.ternary()?;
            Expr::Ternary(Box::new(cond), Box::new(yes), Box::new(no))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(result)
    }

    /// Left-associative binary levels, loosest first.
    fn binary(&mut self, level: usize) -> Result<Expr, ExprError> {
        const LEVELS: &[&[BinOp]] = &[
            &[BinOp::Or],
            &[BinOp::And],
            &[BinOp::Eq, BinOp::Ne],
            &[BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge],
            &[BinOp::Add, BinOp::Sub],
            &[BinOp::Mul, BinOp::Div],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op)) if LEVELS[level].contains(op) => *op,
                Some(Tok::Plus) if level == 4 => BinOp::Add,
                Some(Tok::Minus) if level == 4 => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    /// A prefix operator applies to everything up to the next operator
    /// looser than `^`: `-2^2` is `-(2^2)`.
    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let result = match self.prefix() {
            Some(op) => {
                let inner = self.unary()?;
                Ok(apply_prefix(op, inner))
            }
            None => self.power(),
        };
        self.depth -= 1;
        result
    }

    fn prefix(&mut self) -> Option<Option<UnOp>> {
        let op = match self.peek() {
            Some(Tok::Minus) => Some(UnOp::Neg),
            Some(Tok::Not) => Some(UnOp::Not),
            Some(Tok::Plus) => None,
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    /// `atom (^ operand)*`, left associative; an operand with a prefix
    /// operator takes a whole power chain: `2^-3^2` is `2^(-(3^2))`.
    fn power(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.atom()?;
        while let Some(Tok::Op(BinOp::Pow)) = self.peek() {
            self.pos += 1;
            let rhs = match self.prefix() {
                Some(op) => {
                    self.enter()?;
                    let inner = self.unary()?;
                    self.depth -= 1;
                    apply_prefix(op, inner)
                }
                None => self.atom()?,
            };
            lhs = Expr::Binary(BinOp::Pow, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        match self.next() {
            Some(Tok::Num(value)) => Ok(Expr::Num(value)),
            Some(Tok::Probe(p)) => Ok(Expr::Probe(p)),
            Some(Tok::Ident(name)) => {
                if self.peek() != Some(&Tok::LParen) {
                    return Ok(Expr::Param(name));
                }
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                } else {
                    loop {
                        args.push(self.ternary()?);
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::RParen) => break,
                            _ => {
                                return Err(ExprError::Syntax(format!(
                                    "missing `)` after arguments of `{name}`"
                                )))
                            }
                        }
                    }
                }
                call(name, args)
            }
            Some(Tok::LParen) => {
                let inner = self.ternary()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(inner)
            }
            Some(tok) => Err(ExprError::Syntax(format!("unexpected {}", describe(&tok)))),
            None => Err(ExprError::Syntax("unexpected end of expression".into())),
        }
    }
}

fn apply_prefix(op: Option<UnOp>, inner: Expr) -> Expr {
    match op {
        Some(op) => Expr::Unary(op, Box::new(inner)),
        None => inner,
    }
}

/// A call: a built-in (arity checked), `ternary_fcn`, a refused ngspice
/// function, or a user function (checked when elaboration inlines it).
fn call(name: String, mut args: Vec<Expr>) -> Result<Expr, ExprError> {
    if name == "ternary_fcn" {
        if args.len() != 3 {
            return Err(ExprError::Syntax(format!(
                "`ternary_fcn` takes 3 arguments, got {}",
                args.len()
            )));
        }
        let no = args.pop().map(Box::new);
        let yes = args.pop().map(Box::new);
        let cond = args.pop().map(Box::new);
        if let (Some(c), Some(y), Some(n)) = (cond, yes, no) {
            return Ok(Expr::Ternary(c, y, n));
        }
    }
    if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
        return Err(ExprError::Syntax(format!(
            "unsupported function `{name}`: {why}"
        )));
    }
    match Func::lookup(&name) {
        Some((func, arity)) if arity == args.len() => Ok(Expr::Func(func, args)),
        Some((_, arity)) => Err(ExprError::Syntax(format!(
            "`{name}` takes {arity} argument(s), got {}",
            args.len()
        ))),
        None => Ok(Expr::Call(name, args)),
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(name) => format!("`{name}`"),
        Tok::Probe(p) => format!("`{}`", Expr::Probe(p.clone())),
        Tok::Op(op) => format!("operator `{}`", op.symbol()),
        Tok::Minus => "operator `-`".into(),
        Tok::Plus => "operator `+`".into(),
        Tok::Not => "operator `!`".into(),
        Tok::Question => "`?`".into(),
        Tok::Colon => "`:`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
    }
}

/// Parses an expression (the text between `{}` or quotes, or after `V=`).
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(ExprError::Syntax("empty expression".into()));
    }
    let mut parser = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let expr = parser.ternary()?;
    match parser.peek() {
        None => Ok(expr),
        Some(tok) => Err(ExprError::Syntax(format!("unexpected {}", describe(tok)))),
    }
}

impl Expr {
    /// Evaluates in `dialect`; `leaf` gives the value of every name, run-time
    /// variable, probe and user call (`Param`, `Var`, `Probe`, `Call`).
    /// Only the chosen branch of a ternary is evaluated.
    pub fn eval<E: From<ExprError>>(
        &self,
        dialect: Dialect,
        leaf: &mut dyn FnMut(&Expr) -> Result<f64, E>,
    ) -> Result<f64, E> {
        Ok(match self {
            Expr::Num(value) => *value,
            Expr::Param(_) | Expr::Var(_) | Expr::Probe(_) | Expr::Call(..) => leaf(self)?,
            Expr::Unary(op, inner) => op.apply(inner.eval(dialect, leaf)?),
            Expr::Binary(op, lhs, rhs) => {
                let a = lhs.eval(dialect, leaf)?;
                let b = rhs.eval(dialect, leaf)?;
                op.apply(dialect, a, b)?
            }
            Expr::Ternary(cond, yes, no) => {
                if cond.eval(dialect, leaf)? != 0.0 {
                    yes.eval(dialect, leaf)?
                } else {
                    no.eval(dialect, leaf)?
                }
            }
            Expr::Func(func, args) => {
                let mut values = [0.0; 2];
                for (slot, arg) in values.iter_mut().zip(args) {
                    *slot = arg.eval(dialect, leaf)?;
                }
                func.apply(dialect, &values[..args.len()])?
            }
        })
    }

    /// Rebuilds the tree with every leaf (`Param`, `Var`, `Probe`, and `Call`
    /// with its arguments already rebuilt) replaced by what `leaf` returns.
    pub fn map_leaves<E>(&self, leaf: &mut dyn FnMut(Expr) -> Result<Expr, E>) -> Result<Expr, E> {
        let boxed = |e: &Expr, leaf: &mut dyn FnMut(Expr) -> Result<Expr, E>| {
            e.map_leaves(leaf).map(Box::new)
        };
        Ok(match self {
            Expr::Num(v) => Expr::Num(*v),
            Expr::Param(_) | Expr::Var(_) | Expr::Probe(_) => leaf(self.clone())?,
            Expr::Call(name, args) => {
                let args = args
                    .iter()
                    .map(|a| a.map_leaves(leaf))
                    .collect::<Result<Vec<_>, E>>()?;
                leaf(Expr::Call(name.clone(), args))?
            }
            Expr::Unary(op, inner) => Expr::Unary(*op, boxed(inner, leaf)?),
            Expr::Binary(op, a, b) => Expr::Binary(*op, boxed(a, leaf)?, boxed(b, leaf)?),
            Expr::Ternary(c, a, b) => {
                Expr::Ternary(boxed(c, leaf)?, boxed(a, leaf)?, boxed(b, leaf)?)
            }
            Expr::Func(f, args) => Expr::Func(
                *f,
                args.iter()
                    .map(|a| a.map_leaves(leaf))
                    .collect::<Result<Vec<_>, E>>()?,
            ),
        })
    }

    /// Calls `visit` on every node, parents before children.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        visit(self);
        match self {
            Expr::Num(_) | Expr::Param(_) | Expr::Var(_) | Expr::Probe(_) => {}
            Expr::Unary(_, inner) => inner.walk(visit),
            Expr::Binary(_, a, b) => {
                a.walk(visit);
                b.walk(visit);
            }
            Expr::Ternary(c, a, b) => {
                c.walk(visit);
                a.walk(visit);
                b.walk(visit);
            }
            Expr::Func(_, args) | Expr::Call(_, args) => {
                for arg in args {
                    arg.walk(visit);
                }
            }
        }
    }

    /// Whether the value depends on the simulation (probes, `time`,
    /// `temper`, `hertz`), i.e. the expression is a behavioural one.
    pub fn is_runtime(&self) -> bool {
        let mut runtime = false;
        self.walk(&mut |e| {
            runtime |= match e {
                Expr::Probe(_) | Expr::Var(_) => true,
                Expr::Param(name) => Var::lookup(name).is_some(),
                _ => false,
            }
        });
        runtime
    }

    /// The distinct probes, in order of first appearance.
    pub fn probes(&self) -> Vec<Probe> {
        let mut out: Vec<Probe> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Probe(p) = e {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        });
        out
    }
}

/// Writes the expression back in ngspice syntax, fully parenthesised.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, args: &[Expr]| -> fmt::Result {
            for (k, arg) in args.iter().enumerate() {
                if k > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{arg}")?;
            }
            Ok(())
        };
        match self {
            Expr::Num(v) => write!(f, "{v:e}"),
            Expr::Param(name) => write!(f, "{name}"),
            Expr::Var(var) => write!(f, "{}", var.name()),
            Expr::Probe(Probe::Voltage(a, None)) => write!(f, "v({a})"),
            Expr::Probe(Probe::Voltage(a, Some(b))) => write!(f, "v({a},{b})"),
            Expr::Probe(Probe::Current(name)) => write!(f, "i({name})"),
            Expr::Unary(UnOp::Neg, inner) => write!(f, "(-{inner})"),
            Expr::Unary(UnOp::Not, inner) => write!(f, "(!{inner})"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Ternary(c, a, b) => write!(f, "({c} ? {a} : {b})"),
            Expr::Func(func, args) => {
                write!(f, "{}(", func.name())?;
                list(f, args)?;
                write!(f, ")")
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_in(dialect: Dialect, text: &str) -> Result<f64, ExprError> {
        parse(text)?.eval(dialect, &mut |leaf: &Expr| match leaf {
            Expr::Param(name) if name == "a" => Ok(2.0),
            Expr::Param(name) if name == "b" => Ok(3.0),
            Expr::Param(name) => {
                constant(name).ok_or_else(|| ExprError::Domain(format!("undefined `{name}`")))
            }
            other => Err(ExprError::Domain(format!("no value for {other}"))),
        })
    }

    fn eval(text: &str) -> Result<f64, ExprError> {
        eval_in(Dialect::Numparam, text)
    }

    fn bsrc(text: &str) -> Result<f64, ExprError> {
        eval_in(Dialect::Behavioral { fudge: 1e-32 }, text)
    }

    #[test]
    fn arithmetic_and_precedence_as_ngspice() {
        assert_eq!(eval("1+2*3").unwrap(), 7.0);
        assert_eq!(eval("(1+2)*3").unwrap(), 9.0);
        // ngspice 39: `^` is left associative and binds tighter than unary minus.
        assert_eq!(eval("2^3^2").unwrap(), 64.0);
        assert_eq!(eval("2**3**2").unwrap(), 64.0);
        assert_eq!(eval("-2^2").unwrap(), -4.0);
        assert_eq!(eval("2^-1").unwrap(), 0.5);
        assert_eq!(eval("2^-1*3").unwrap(), 1.5);
        assert_eq!(eval("2 ^ -2 ^ 2").unwrap(), 0.0625);
        assert_eq!(eval("10/4/5").unwrap(), 0.5);
        assert_eq!(eval("8-3-2").unwrap(), 3.0);
        assert_eq!(eval("--a").unwrap(), 2.0);
        assert_eq!(eval("2k*a + 1meg").unwrap(), 1_004_000.0);
        assert_eq!(eval("A*B").unwrap(), 6.0);
        assert_eq!(eval("1+2*3>6").unwrap(), 1.0);
        assert_eq!(eval("1<2 ? 3 : 4").unwrap(), 3.0);
        assert_eq!(eval("0 ? 1 : 0 ? 2 : 3").unwrap(), 3.0);
        assert_eq!(
            eval("(1<2) + (2==2)*10 + (1!=1)*100 + (!0)*1000 + (1&&0)*10000 + (0||3)*100000")
                .unwrap(),
            101_011.0
        );
        assert_eq!(eval("ternary_fcn(1, 2, 3)").unwrap(), 2.0);
        assert_eq!(
            eval("pi + e").unwrap(),
            std::f64::consts::PI + std::f64::consts::E
        );
    }

    #[test]
    fn functions_and_dialects_as_ngspice_39() {
        // Values printed by ngspice 39 for the same expressions in a B
        // source and in `.param`.
        assert_eq!(bsrc("u(0)").unwrap(), 0.5);
        assert_eq!(bsrc("(-2)^0.5").unwrap(), 2f64.sqrt());
        assert_eq!(bsrc("(-2)^3").unwrap(), 8.0);
        assert_eq!(bsrc("pwr(-2,0.5)").unwrap(), -(2f64.sqrt()));
        assert_eq!(bsrc("pow(-2,0.5)").unwrap(), 2f64.sqrt());
        assert_eq!(bsrc("log(0)").unwrap(), -1e99);
        assert_eq!(bsrc("exp(300)").unwrap(), 1e99);
        assert!((bsrc("1/0").unwrap() / 1e32 - 1.0).abs() < 1e-15);
        assert_eq!(
            bsrc("nint(2.5)+floor(-1.5)*10+ceil(-1.5)*100").unwrap(),
            -118.0
        );
        assert_eq!(bsrc("uramp(-1) + uramp(2)*10+sgn(-3)*100").unwrap(), -80.0);
        assert_eq!(bsrc("0^0 + 0^2*10").unwrap(), 1.0);
        assert_eq!(bsrc("u2(0.5)").unwrap(), 0.5);
        assert!(bsrc("sqrt(-4)").is_err());
        assert!(bsrc("ln(-1)").is_err());
        assert!(bsrc("0^-1").is_err());
        assert!(bsrc("atanh(1)").is_err());
        assert_eq!(eval("pwr(-2,3)").unwrap(), 8.0);
        assert_eq!(eval("(-2)^3").unwrap(), 8.0);
        assert_eq!(eval("int(-1.5)").unwrap(), -1.0);
        assert_eq!(eval("nint(2.5)").unwrap(), 2.0);
        assert_eq!(eval("sqr(3)").unwrap(), 9.0);
        assert!((eval("asinh(1)+acosh(2)").unwrap() - 2.198_331).abs() < 1e-6);
        assert!(eval("pow(-2,0.5)").is_err());
        assert!(eval("log(0)").is_err());
        assert!(eval("sqrt(-4)").is_err());
        assert!(eval("exp(1000)").is_err());
        assert!(eval("1/0").is_err());
        assert_eq!(eval("sqrt(16)").unwrap(), 4.0);
        assert_eq!(eval("log(exp(2))").unwrap(), 2.0);
        assert_eq!(eval("pow(a, b)").unwrap(), 8.0);
        assert_eq!(eval("min(a,b) + max(a,b)").unwrap(), 5.0);
        assert_eq!(eval("abs(-1.5)").unwrap(), 1.5);
    }

    #[test]
    fn probes_and_calls() {
        let e = parse("V(A) + v(x1.n, gnd)*I(Vdd) + f(2, time)").unwrap();
        assert_eq!(
            e.probes(),
            vec![
                Probe::Voltage("a".into(), None),
                Probe::Voltage("x1.n".into(), Some("0".into())),
                Probe::Current("vdd".into()),
            ]
        );
        assert!(e.is_runtime());
        assert!(!parse("2*p + f(3)").unwrap().is_runtime());
        assert!(parse("temper").unwrap().is_runtime());
    }

    #[test]
    fn errors_are_typed() {
        for bad in [
            "",
            "1+",
            "(1",
            "1)",
            "sqrt(1,2)",
            "1 2",
            "a # b",
            "min(1",
            "1 ? 2",
            "v()",
            "v(a,b,c)",
            "i(a,b)",
            "limit(1, 2)",
            "ddt(v(a))",
            "a = b",
            "?",
            "v(a",
        ] {
            assert!(matches!(parse(bad), Err(ExprError::Syntax(_))), "{bad}");
        }
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(matches!(parse(&deep), Err(ExprError::Syntax(_))));
        let minus = "-".repeat(10_000) + "1";
        assert!(matches!(parse(&minus), Err(ExprError::Syntax(_))));
        let pow = "2^-".repeat(10_000) + "1";
        assert!(matches!(parse(&pow), Err(ExprError::Syntax(_))));
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "-2^2 + v(a,b)*i(v1) ? min(1, 2) : !time",
            "2^3^2",
            "a/(b-1)*-c",
        ] {
            let e = parse(text).unwrap();
            assert_eq!(parse(&e.to_string()).unwrap(), e, "{text}");
        }
    }
}

//! Parameter expressions as written in `{...}` and `'...'`: numbers with
//! SPICE suffixes, parameter names, `+ - * /`, `^` and `**` (right
//! associative, binding tighter than unary minus), parentheses and the
//! functions ngspice's numparam offers for device work.

use crate::number::scan_number;

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("bad expression: {0}")]
    Syntax(String),
    #[error("{0}")]
    Domain(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Param(String),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(BinOp),
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
        match c {
            b' ' | b'\t' => i += 1,
            b'0'..=b'9' | b'.' => {
                let (value, len) = scan_number(&text[i..])
                    .ok_or_else(|| ExprError::Syntax(format!("bad number at `{}`", &text[i..])))?;
                toks.push(Tok::Num(value));
                i += len;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                toks.push(Tok::Ident(text[start..i].to_ascii_lowercase()));
            }
            b'+' => {
                toks.push(Tok::Op(BinOp::Add));
                i += 1;
            }
            b'-' => {
                toks.push(Tok::Op(BinOp::Sub));
                i += 1;
            }
            b'*' if bytes.get(i + 1) == Some(&b'*') => {
                toks.push(Tok::Op(BinOp::Pow));
                i += 2;
            }
            b'*' => {
                toks.push(Tok::Op(BinOp::Mul));
                i += 1;
            }
            b'/' => {
                toks.push(Tok::Op(BinOp::Div));
                i += 1;
            }
            b'^' => {
                toks.push(Tok::Op(BinOp::Pow));
                i += 1;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ExprError::Syntax(format!("unexpected character `{ch}`")));
            }
        }
    }
    Ok(toks)
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

    fn sum(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let mut lhs = self.product()?;
        while let Some(Tok::Op(op @ (BinOp::Add | BinOp::Sub))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let rhs = self.product()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(Tok::Op(op @ (BinOp::Mul | BinOp::Div))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let result = match self.peek() {
            Some(Tok::Op(BinOp::Sub)) => {
                self.pos += 1;
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Some(Tok::Op(BinOp::Add)) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.power(),
        };
        self.depth -= 1;
        result
    }

    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.atom()?;
        if let Some(Tok::Op(BinOp::Pow)) = self.peek() {
            self.pos += 1;
            // The exponent may carry its own sign: `2^-1`.
            let exponent = self.unary()?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        match self.next() {
            Some(Tok::Num(value)) => Ok(Expr::Num(value)),
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
                        args.push(self.sum()?);
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
                check_arity(&name, args.len())?;
                Ok(Expr::Call(name, args))
            }
            Some(Tok::LParen) => {
                let inner = self.sum()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => Err(ExprError::Syntax("missing `)`".into())),
                }
            }
            Some(tok) => Err(ExprError::Syntax(format!("unexpected {}", describe(&tok)))),
            None => Err(ExprError::Syntax("unexpected end of expression".into())),
        }
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(name) => format!("`{name}`"),
        Tok::Op(op) => format!(
            "operator `{}`",
            match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                BinOp::Pow => "^",
            }
        ),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
    }
}

/// Functions with their argument counts.
const FUNCTIONS: &[(&str, usize)] = &[
    ("sqrt", 1),
    ("exp", 1),
    ("log", 1),
    ("ln", 1),
    ("log10", 1),
    ("abs", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("atan", 1),
    ("sinh", 1),
    ("cosh", 1),
    ("tanh", 1),
    ("floor", 1),
    ("ceil", 1),
    ("pow", 2),
    ("pwr", 2),
    ("min", 2),
    ("max", 2),
];

fn check_arity(name: &str, got: usize) -> Result<(), ExprError> {
    match FUNCTIONS.iter().find(|(f, _)| *f == name) {
        None => Err(ExprError::Syntax(format!("unknown function `{name}`"))),
        Some((_, want)) if *want != got => Err(ExprError::Syntax(format!(
            "`{name}` takes {want} argument(s), got {got}"
        ))),
        Some(_) => Ok(()),
    }
}

/// Parses an expression (the text between `{}` or quotes).
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
    let expr = parser.sum()?;
    match parser.peek() {
        None => Ok(expr),
        Some(tok) => Err(ExprError::Syntax(format!("unexpected {}", describe(tok)))),
    }
}

impl Expr {
    /// Evaluates with `lookup` resolving parameter names. A result or
    /// intermediate value that is not finite (`1/0`, `sqrt(-1)`, `log(0)`)
    /// is an error rather than a NaN reaching the circuit.
    pub fn eval<E: From<ExprError>>(
        &self,
        lookup: &mut dyn FnMut(&str) -> Result<f64, E>,
    ) -> Result<f64, E> {
        let value = match self {
            Expr::Num(value) => *value,
            Expr::Param(name) => lookup(name)?,
            Expr::Neg(inner) => -inner.eval(lookup)?,
            Expr::Binary(op, lhs, rhs) => {
                let (a, b) = (lhs.eval(lookup)?, rhs.eval(lookup)?);
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div if b == 0.0 => {
                        return Err(ExprError::Domain("division by zero".into()).into())
                    }
                    BinOp::Div => a / b,
                    BinOp::Pow => a.powf(b),
                }
            }
            Expr::Call(name, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(arg.eval(lookup)?);
                }
                apply(name, &values)?
            }
        };
        if value.is_finite() {
            Ok(value)
        } else {
            Err(ExprError::Domain(format!("expression evaluates to {value}")).into())
        }
    }
}

fn apply(name: &str, args: &[f64]) -> Result<f64, ExprError> {
    let x = args.first().copied().unwrap_or(f64::NAN);
    let y = args.get(1).copied().unwrap_or(f64::NAN);
    let domain = |why: &str| Err(ExprError::Domain(format!("{name}({x}): {why}")));
    Ok(match name {
        "sqrt" if x < 0.0 => return domain("negative argument"),
        "sqrt" => x.sqrt(),
        "exp" => x.exp(),
        "log" | "ln" | "log10" if x <= 0.0 => return domain("argument not positive"),
        "log" | "ln" => x.ln(),
        "log10" => x.log10(),
        "abs" => x.abs(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "atan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "tanh" => x.tanh(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "pow" | "pwr" => x.powf(y),
        "min" => x.min(y),
        "max" => x.max(y),
        _ => return Err(ExprError::Syntax(format!("unknown function `{name}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str) -> Result<f64, ExprError> {
        parse(text)?.eval(&mut |name: &str| match name {
            "a" => Ok(2.0),
            "b" => Ok(3.0),
            _ => Err(ExprError::Domain(format!("undefined `{name}`"))),
        })
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(eval("1+2*3").unwrap(), 7.0);
        assert_eq!(eval("(1+2)*3").unwrap(), 9.0);
        assert_eq!(eval("2^3^2").unwrap(), 512.0);
        assert_eq!(eval("2**3").unwrap(), 8.0);
        assert_eq!(eval("-2^2").unwrap(), -4.0);
        assert_eq!(eval("2^-1").unwrap(), 0.5);
        assert_eq!(eval("10/4/5").unwrap(), 0.5);
        assert_eq!(eval("8-3-2").unwrap(), 3.0);
        assert_eq!(eval("--a").unwrap(), 2.0);
        assert_eq!(eval("2k*a + 1meg").unwrap(), 1_004_000.0);
        assert_eq!(eval("A*B").unwrap(), 6.0);
    }

    #[test]
    fn functions() {
        assert_eq!(eval("sqrt(16)").unwrap(), 4.0);
        assert_eq!(eval("exp(0)").unwrap(), 1.0);
        assert_eq!(eval("log(exp(2))").unwrap(), 2.0);
        assert_eq!(eval("pow(a, b)").unwrap(), 8.0);
        assert_eq!(eval("min(a,b) + max(a,b)").unwrap(), 5.0);
        assert_eq!(eval("abs(-1.5)").unwrap(), 1.5);
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(eval("1/0"), Err(ExprError::Domain(_))));
        assert!(matches!(eval("sqrt(-1)"), Err(ExprError::Domain(_))));
        assert!(matches!(eval("log(0)"), Err(ExprError::Domain(_))));
        assert!(matches!(eval("exp(1000)"), Err(ExprError::Domain(_))));
        for bad in [
            "",
            "1+",
            "(1",
            "1)",
            "foo(1)",
            "sqrt(1,2)",
            "1 2",
            "a # b",
            "min(1",
        ] {
            assert!(matches!(eval(bad), Err(ExprError::Syntax(_))), "{bad}");
        }
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(matches!(eval(&deep), Err(ExprError::Syntax(_))));
    }
}

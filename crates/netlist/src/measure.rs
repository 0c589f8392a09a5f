//! `.meas` / `.measure` statements (and the `meas` command of `.control`
//! blocks): the syntax of ngspice's measure code, parsed into a typed
//! [`Measure`]. Evaluation against simulation results lives in `xbar-nodal`.
//!
//! Forms (ngspice manual, chapter "Measurements after AC, DC and Transient
//! Analysis"):
//! - `TRIG vec VAL= [TD=] [RISE=|FALL=|CROSS=n|LAST] | TRIG AT=t` then the
//!   same for `TARG`: the scale difference targ - trig;
//! - `FIND vec WHEN vec2=val|vec2=vec3 [...]`, `FIND vec AT=x`;
//! - `WHEN vec=val|vec=vec2 [TD= FROM= TO= RISE= FALL= CROSS=]`;
//! - `AVG|MIN|MAX|MIN_AT|MAX_AT|PP|RMS|INTEG vec [FROM= TO=]`;
//! - `DERIV vec AT=x | DERIV vec WHEN ...`;
//! - `PARAM='expression'` over deck parameters and earlier results.
//!
//! Values are numbers or `{...}`/`'...'` expressions over deck parameters;
//! inside `.control`, also single-valued vectors.

use crate::circuit::SourceLoc;
use crate::error::{ErrorKind, NetlistError};
use crate::expr::Expr;
use crate::lexer::Token;

/// One measurement statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// Result name, lower-cased.
    pub name: String,
    pub analysis: MeasAnalysis,
    pub kind: MeasureKind,
    /// The statement as ngspice echoes it in failure messages (lower-cased).
    pub text: String,
    pub loc: SourceLoc,
}

/// The analysis whose results a measurement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasAnalysis {
    Tran,
    Dc,
    Ac,
}

impl MeasAnalysis {
    pub fn name(self) -> &'static str {
        match self {
            MeasAnalysis::Tran => "tran",
            MeasAnalysis::Dc => "dc",
            MeasAnalysis::Ac => "ac",
        }
    }
}

/// A vector a measurement reads: `v(out)`, `v(a,b)`, `i(v1)`, a bare node
/// or (in `.control`) a vector made by `let`; on AC, `vdb(out)`, `vm`,
/// `vp` (degrees), `vr`, `vi` select a real part of the complex vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasVector {
    /// ngspice's spelling without the AC part letter: `v(out)`, `i(v1)`, `out`.
    pub name: String,
    pub part: ComplexPart,
}

/// Which real number an AC measurement takes of a complex value (ngspice's
/// `get_value`); real vectors are read as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComplexPart {
    #[default]
    Real,
    Imag,
    Mag,
    Phase,
    Db,
}

/// Which crossing of a level counts: ngspice's `RISE=`, `FALL=`, `CROSS=`
/// (only the last one given applies), or the first crossing of any kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Edge {
    #[default]
    First,
    Rise(Count),
    Fall(Count),
    Cross(Count),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// The n-th event (ngspice rounds the number given to an integer).
    Nth(i32),
    Last,
}

/// The level a crossing is sought against: a number or a second vector.
#[derive(Debug, Clone, PartialEq)]
pub enum Level {
    Value(f64),
    Vector(MeasVector),
}

/// A point on the scale found by a crossing (`WHEN`, `TRIG`/`TARG` with
/// `VAL=`), with the window the search is restricted to.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub vector: MeasVector,
    pub level: Level,
    pub edge: Edge,
    /// `TD=`: transient points before this time are skipped.
    pub td: f64,
    pub window: Window,
}

/// `FROM=` / `TO=`. `None` is ngspice's default: the whole scale (on a DC
/// sweep, which may run downwards, from and to are ordered).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Window {
    pub from: Option<f64>,
    pub to: Option<f64>,
}

/// A `TRIG` or `TARG` point: a crossing or a fixed scale value `AT=`.
#[derive(Debug, Clone, PartialEq)]
pub enum Point {
    At(f64),
    When(Crossing),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Avg,
    Min,
    Max,
    MinAt,
    MaxAt,
    Pp,
    Rms,
    Integ,
}

impl Statistic {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "avg" => Statistic::Avg,
            "min" => Statistic::Min,
            "max" => Statistic::Max,
            "min_at" => Statistic::MinAt,
            "max_at" => Statistic::MaxAt,
            "pp" => Statistic::Pp,
            "rms" => Statistic::Rms,
            "integ" | "integral" => Statistic::Integ,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MeasureKind {
    /// `TRIG ... TARG ...`: targ - trig.
    TrigTarg { trig: Point, targ: Point },
    /// `FIND vec AT=x` or `FIND vec WHEN ...`: the vector's value there.
    Find { vector: MeasVector, at: Point },
    /// `WHEN ...`: the scale value of the crossing.
    When(Crossing),
    /// `AVG RMS MIN MAX MIN_AT MAX_AT PP INTEG` over a window.
    Statistic {
        statistic: Statistic,
        vector: MeasVector,
        window: Window,
    },
    /// `DERIV vec AT=x` or `DERIV vec WHEN ...`: d vec / d scale there.
    Deriv { vector: MeasVector, at: Point },
    /// `PARAM='expr'` over deck parameters and earlier results.
    Param { expr: Expr, text: String },
}

/// How the caller turns the pieces of a statement into values: numbers and
/// expressions (deck parameters, or `.control` vectors) and vector names
/// (checked against the circuit where it is known).
pub trait MeasContext {
    fn value(&self, token: &Token) -> Result<f64, NetlistError>;
    /// `name` (`v`, `i`, `vdb`, a bare node or vector) with its parenthesised
    /// arguments, if any.
    fn vector(&self, name: &str, args: &[String]) -> Result<String, NetlistError>;
    /// The expression of `PARAM=`.
    fn expression(&self, token: &Token) -> Result<(Expr, String), NetlistError>;
}

/// Parses the tokens after `.meas`/`.measure`/`meas`: `analysis name kind ...`.
pub fn parse(
    loc: &SourceLoc,
    text: &str,
    tokens: &[Token],
    context: &dyn MeasContext,
) -> Result<Measure, NetlistError> {
    let err = |kind: ErrorKind, token: String| NetlistError::new(loc, kind, token);
    let word = |index: usize, what: &str| match tokens.get(index) {
        Some(Token::Word(w)) => Ok(w.clone()),
        Some(other) => Err(err(
            ErrorKind::Unexpected(format!(": expected {what}")),
            other.text(),
        )),
        None => Err(err(ErrorKind::Missing(what.into()), text.into())),
    };
    let analysis = match word(0, "analysis (tran, dc or ac)")?.as_str() {
        "tran" => MeasAnalysis::Tran,
        "dc" => MeasAnalysis::Dc,
        "ac" => MeasAnalysis::Ac,
        other => {
            return Err(err(
                ErrorKind::Unsupported("measurement analysis (tran, dc, ac)".into()),
                other.into(),
            ))
        }
    };
    let name = word(1, "result name")?;
    let mut parser = Parser {
        loc,
        tokens,
        pos: 3,
        analysis,
        context,
    };
    let function = word(2, "measurement function")?;
    // `param=` is the one function written with `=`.
    let kind = match function.as_str() {
        "param" | "expr" => {
            if tokens.get(3) != Some(&Token::Eq) {
                return Err(err(ErrorKind::Missing("`=` after PARAM".into()), function));
            }
            let Some(token) = tokens.get(4) else {
                return Err(err(ErrorKind::Missing("PARAM expression".into()), function));
            };
            parser.pos = 5;
            parser.end()?;
            let (expr, text) = context.expression(token)?;
            MeasureKind::Param { expr, text }
        }
        "trig" | "delay" => {
            let trig = parser.point("trig", Some("targ"))?;
            if !parser.eat_word("targ") {
                return Err(err(ErrorKind::Missing("TARG clause".into()), function));
            }
            let targ = parser.point("targ", None)?;
            let (trig, targ) = propagate_from(trig, targ);
            MeasureKind::TrigTarg { trig, targ }
        }
        "find" => {
            let vector = parser.vector()?;
            let at = if parser.eat_word("when") {
                Point::When(parser.crossing_when()?)
            } else {
                let at = parser.params(&["at"])?;
                Point::At(at.at.ok_or_else(|| {
                    err(
                        ErrorKind::Missing("WHEN or AT= after FIND".into()),
                        function.clone(),
                    )
                })?)
            };
            parser.end()?;
            MeasureKind::Find { vector, at }
        }
        "when" => {
            let crossing = parser.crossing_when()?;
            parser.end()?;
            MeasureKind::When(crossing)
        }
        "deriv" | "derivative" => {
            let vector = parser.vector()?;
            let at = if parser.eat_word("when") {
                Point::When(parser.crossing_when()?)
            } else {
                let at = parser.params(&["at"])?;
                Point::At(at.at.ok_or_else(|| {
                    err(
                        ErrorKind::Missing("WHEN or AT= after DERIV".into()),
                        function.clone(),
                    )
                })?)
            };
            parser.end()?;
            MeasureKind::Deriv { vector, at }
        }
        other => match Statistic::from_word(other) {
            Some(statistic) => {
                let vector = parser.vector()?;
                let params = parser.params(&["from", "to", "td"])?;
                parser.end()?;
                MeasureKind::Statistic {
                    statistic,
                    vector,
                    window: params.window(analysis),
                }
            }
            None => {
                return Err(err(
                    ErrorKind::Unsupported(
                        "measurement function (TRIG/TARG, FIND, WHEN, AVG, MIN, MAX, MIN_AT, \
                         MAX_AT, PP, RMS, INTEG, DERIV, PARAM)"
                            .into(),
                    ),
                    other.into(),
                ))
            }
        },
    };
    Ok(Measure {
        name,
        analysis,
        kind,
        text: text.to_ascii_lowercase(),
        loc: loc.clone(),
    })
}

/// ngspice copies a `FROM=` given on one of TRIG/TARG to the other.
fn propagate_from(mut trig: Point, mut targ: Point) -> (Point, Point) {
    if let (Point::When(a), Point::When(b)) = (&mut trig, &mut targ) {
        match (a.window.from, b.window.from) {
            (Some(from), None) if from != 0.0 => b.window.from = Some(from),
            (None, Some(from)) if from != 0.0 => a.window.from = Some(from),
            _ => {}
        }
    }
    (trig, targ)
}

/// `name=value` settings of one clause.
#[derive(Default)]
struct Params {
    val: Option<Level>,
    edge: Edge,
    td: Option<f64>,
    from: Option<f64>,
    to: Option<f64>,
    at: Option<f64>,
}

impl Params {
    fn window(&self, analysis: MeasAnalysis) -> Window {
        let (mut from, mut to) = (self.from, self.to);
        // ngspice orders a DC window so it may be written either way.
        if analysis == MeasAnalysis::Dc {
            if let (Some(f), Some(t)) = (from, to) {
                if t < f {
                    (from, to) = (Some(t), Some(f));
                }
            }
        }
        Window { from, to }
    }
}

struct Parser<'a> {
    loc: &'a SourceLoc,
    tokens: &'a [Token],
    pos: usize,
    analysis: MeasAnalysis,
    context: &'a dyn MeasContext,
}

impl Parser<'_> {
    fn error(&self, kind: ErrorKind, token: impl Into<String>) -> NetlistError {
        NetlistError::new(self.loc, kind, token)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), NetlistError> {
        match self.peek() {
            None => Ok(()),
            Some(token) => Err(self.error(
                ErrorKind::Unexpected(" at the end of the measurement".into()),
                token.text(),
            )),
        }
    }

    /// A vector: `word` or `word(args...)`.
    fn vector(&mut self) -> Result<MeasVector, NetlistError> {
        let Some(Token::Word(name)) = self.peek().cloned() else {
            let token = self.peek().map(Token::text).unwrap_or_default();
            return Err(self.error(ErrorKind::Missing("vector".into()), token));
        };
        self.pos += 1;
        let mut args = Vec::new();
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            loop {
                match self.peek().cloned() {
                    Some(Token::Word(arg)) => args.push(arg),
                    Some(Token::RParen) => break,
                    other => {
                        return Err(self.error(
                            ErrorKind::Missing("`)` closing the vector".into()),
                            other.map(|t| t.text()).unwrap_or(name),
                        ))
                    }
                }
                self.pos += 1;
            }
            self.pos += 1;
        }
        let (base, part) = if self.analysis == MeasAnalysis::Ac && !args.is_empty() {
            match name.as_str() {
                "vdb" => ("v", ComplexPart::Db),
                "vm" => ("v", ComplexPart::Mag),
                "vp" => ("v", ComplexPart::Phase),
                "vr" => ("v", ComplexPart::Real),
                "vi" => ("v", ComplexPart::Imag),
                "idb" => ("i", ComplexPart::Db),
                "im" => ("i", ComplexPart::Mag),
                "ip" => ("i", ComplexPart::Phase),
                "ir" => ("i", ComplexPart::Real),
                "ii" => ("i", ComplexPart::Imag),
                other => (other, ComplexPart::Real),
            }
        } else {
            (name.as_str(), ComplexPart::Real)
        };
        Ok(MeasVector {
            name: self.context.vector(base, &args)?,
            part,
        })
    }

    /// `TRIG`/`TARG` clause: `vec VAL=.. [...]` or `AT=..`, up to `stop`.
    fn point(&mut self, clause: &str, stop: Option<&str>) -> Result<Point, NetlistError> {
        let vector = if matches!(self.peek(), Some(Token::Word(w)) if w == "at") {
            None
        } else {
            Some(self.vector()?)
        };
        let params = self.params_until(
            &["val", "td", "from", "to", "at", "rise", "fall", "cross"],
            stop,
        )?;
        if let Some(at) = params.at {
            return Ok(Point::At(at));
        }
        let Some(vector) = vector else {
            return Err(self.error(ErrorKind::Missing(format!("vector of {clause}")), clause));
        };
        if params.edge == Edge::First {
            return Err(self.error(
                ErrorKind::Missing(format!("AT=, RISE=, FALL= or CROSS= in {clause}")),
                clause,
            ));
        }
        let level = params
            .val
            .clone()
            .ok_or_else(|| self.error(ErrorKind::Missing(format!("VAL= in {clause}")), clause))?;
        Ok(Point::When(Crossing {
            vector,
            level,
            edge: params.edge,
            td: params.td.unwrap_or(0.0),
            window: params.window(self.analysis),
        }))
    }

    /// `vec=val|vec=vec2 [TD= FROM= TO= RISE= FALL= CROSS=]` after `WHEN`.
    fn crossing_when(&mut self) -> Result<Crossing, NetlistError> {
        let vector = self.vector()?;
        if self.peek() != Some(&Token::Eq) {
            let token = self.peek().map(Token::text).unwrap_or(vector.name.clone());
            return Err(self.error(ErrorKind::Missing("`=` in WHEN vec=value".into()), token));
        }
        self.pos += 1;
        let level = self.level()?;
        let params = self.params(&["td", "from", "to", "rise", "fall", "cross"])?;
        Ok(Crossing {
            vector,
            level,
            edge: params.edge,
            td: params.td.unwrap_or(0.0),
            window: params.window(self.analysis),
        })
    }

    /// The right-hand side of `WHEN vec=`: a number, expression or vector.
    fn level(&mut self) -> Result<Level, NetlistError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error(ErrorKind::Missing("value after `=`".into()), "="));
        };
        if let Token::Word(w) = &token {
            let is_number = crate::number::parse_number(w).is_some();
            let is_call = self.tokens.get(self.pos + 1) == Some(&Token::LParen);
            if !is_number && (is_call || self.context.value(&token).is_err()) {
                return Ok(Level::Vector(self.vector()?));
            }
        }
        self.pos += 1;
        Ok(Level::Value(self.context.value(&token)?))
    }

    fn params(&mut self, allowed: &[&str]) -> Result<Params, NetlistError> {
        self.params_until(allowed, None)
    }

    /// `name=value` pairs (and a bare `LAST`) up to the word `stop`.
    fn params_until(
        &mut self,
        allowed: &[&str],
        stop: Option<&str>,
    ) -> Result<Params, NetlistError> {
        let mut params = Params::default();
        while let Some(token) = self.peek().cloned() {
            let Token::Word(name) = &token else {
                return Err(self.error(ErrorKind::Unexpected(String::new()), token.text()));
            };
            if Some(name.as_str()) == stop {
                break;
            }
            if name == "last" && self.tokens.get(self.pos + 1) != Some(&Token::Eq) {
                params.edge = Edge::Cross(Count::Last);
                self.pos += 1;
                continue;
            }
            if !allowed.contains(&name.as_str()) {
                return Err(self.error(
                    ErrorKind::UnknownParameter(format!(
                        " of the measurement (allowed here: {})",
                        allowed.join(" ")
                    )),
                    name.clone(),
                ));
            }
            if self.tokens.get(self.pos + 1) != Some(&Token::Eq) {
                return Err(self.error(
                    ErrorKind::Missing(format!("`=` after {name}")),
                    name.clone(),
                ));
            }
            let Some(value) = self.tokens.get(self.pos + 2).cloned() else {
                return Err(
                    self.error(ErrorKind::Missing(format!("value of {name}")), name.clone())
                );
            };
            self.pos += 3;
            let count = || -> Result<Count, NetlistError> {
                if value == Token::Word("last".into()) {
                    return Ok(Count::Last);
                }
                let n = self.context.value(&value)?;
                Ok(Count::Nth((n + 0.5).floor() as i32))
            };
            match name.as_str() {
                "rise" => params.edge = Edge::Rise(count()?),
                "fall" => params.edge = Edge::Fall(count()?),
                "cross" => params.edge = Edge::Cross(count()?),
                "val" => params.val = Some(Level::Value(self.context.value(&value)?)),
                "td" => params.td = Some(self.context.value(&value)?),
                "from" => params.from = Some(self.context.value(&value)?),
                "to" => params.to = Some(self.context.value(&value)?),
                _ => params.at = Some(self.context.value(&value)?),
            }
        }
        Ok(params)
    }
}

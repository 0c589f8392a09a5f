//! Running a deck: its dot analyses, or its `.control` block, through one
//! path. The `.control` interpreter drives the same analyses as the dot
//! statements (no second simulator) and reports everything as [`Event`]s
//! in order, which the caller turns into files and terminal output.
//!
//! Commands (the `control` rows of `xbar_netlist::dialect::DIALECT`):
//! analyses `op`/`dc`/`tran` and `run`; `alter`/`altermod`/`reset`;
//! `let`/`set`; `print`, `echo`, `wrdata`/`write`, `meas`; `foreach`/`repeat`
//! loops; `quit`. As in ngspice's batch mode, the deck's dot analyses run
//! after the block unless it ran them (`run`) or quit.

use std::collections::{BTreeMap, BTreeSet};

use xbar_netlist::dialect::{self, Category, Status};
use xbar_netlist::measure::{ComplexPart, MeasAnalysis, MeasVector, Measure};
use xbar_netlist::{Analysis, Circuit, ControlLine, ElementKind, SourceLoc};

use crate::engine::Simulator;
use crate::error::NodalError;
use crate::measure::{self, c_exp, Caller, MeasData, MeasResult};
use crate::output::{run_analysis, AnalysisKind, AnalysisOutput};
use crate::vecexpr::{self, Value};

/// What running a deck produced, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// An analysis' table (written like a dot analysis' CSV).
    Analysis(AnalysisOutput),
    /// The measurements that ran after an analysis (`.meas` of its kind) or
    /// a `meas` command.
    Measures {
        /// ngspice's header line; `None` for a `meas` command.
        header: Option<&'static str>,
        results: Vec<MeasResult>,
    },
    /// Text for stdout (`print`, `echo`), without the final newline.
    Stdout(String),
    /// A warning for stderr.
    Warning(String),
    /// A table for a file of the output folder (`wrdata`, `write`).
    File {
        name: String,
        columns: Vec<String>,
        rows: Vec<Vec<f64>>,
    },
}

/// How many digits WHEN/RMS/INTEG/PARAM results print with
/// (`NGSPICE_MEAS_PRECISION`); ngspice's default is 5.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub meas_precision: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { meas_precision: 5 }
    }
}

/// Runs a deck as ngspice's batch mode does: the `.control` block if it has
/// one, else its dot analyses, each followed by its `.meas` statements.
pub fn run_deck(circuit: &Circuit, options: RunOptions) -> Result<Vec<Event>, NodalError> {
    let mut session = Session::new(circuit, options)?;
    if circuit.control.is_empty() {
        session.run_dot_analyses()?;
    } else {
        let block = parse_block(&circuit.control)?;
        let flow = session.run_block(&block)?;
        if flow == Flow::Continue && !session.ran_deck && !circuit.analyses.is_empty() {
            session.run_dot_analyses()?;
        }
    }
    Ok(session.events)
}

/// A parsed `.control` statement: a command line or a loop with its body.
#[derive(Debug, Clone)]
enum Stmt {
    Line(ControlLine),
    Foreach {
        var: String,
        values: Vec<String>,
        body: Vec<Stmt>,
    },
    Repeat {
        count: String,
        loc: SourceLoc,
        body: Vec<Stmt>,
    },
}

fn command_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn control_error(loc: &SourceLoc, message: impl Into<String>) -> NodalError {
    NodalError::Control {
        loc: loc.to_string(),
        message: message.into(),
    }
}

/// Groups the lines into loops (`foreach`/`repeat` ... `end`).
fn parse_block(lines: &[ControlLine]) -> Result<Vec<Stmt>, NodalError> {
    let mut stack: Vec<(Stmt, SourceLoc)> = Vec::new();
    let mut top: Vec<Stmt> = Vec::new();
    for line in lines {
        let word = command_word(&line.text);
        let words: Vec<&str> = line.text.split_whitespace().collect();
        let opened = match word.as_str() {
            "foreach" => {
                let Some(var) = words.get(1) else {
                    return Err(control_error(
                        &line.loc,
                        "`foreach` needs a variable and values",
                    ));
                };
                Some(Stmt::Foreach {
                    var: var.to_string(),
                    values: words[2..].iter().map(|w| w.to_string()).collect(),
                    body: Vec::new(),
                })
            }
            "repeat" => Some(Stmt::Repeat {
                count: words.get(1).copied().unwrap_or("").to_string(),
                loc: line.loc.clone(),
                body: Vec::new(),
            }),
            _ => None,
        };
        if let Some(stmt) = opened {
            stack.push((stmt, line.loc.clone()));
            continue;
        }
        if word == "end" {
            let Some((done, _)) = stack.pop() else {
                return Err(control_error(
                    &line.loc,
                    "`end` without `foreach` or `repeat`",
                ));
            };
            match stack.last_mut() {
                Some((Stmt::Foreach { body, .. } | Stmt::Repeat { body, .. }, _)) => {
                    body.push(done)
                }
                _ => top.push(done),
            }
            continue;
        }
        let stmt = Stmt::Line(line.clone());
        match stack.last_mut() {
            Some((Stmt::Foreach { body, .. } | Stmt::Repeat { body, .. }, _)) => body.push(stmt),
            _ => top.push(stmt),
        }
    }
    if let Some((_, loc)) = stack.pop() {
        return Err(control_error(&loc, "loop without `end`"));
    }
    Ok(top)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// One analysis' vectors plus the ones `let` and `meas` made.
struct Plot {
    output: Option<AnalysisOutput>,
    lets: BTreeMap<String, Value>,
}

impl Plot {
    fn scale(&self) -> Option<(String, Vec<f64>)> {
        let output = self.output.as_ref()?;
        let scale = output.scale()?;
        let name = output.columns[0].clone();
        Some((name, scale))
    }

    fn vector(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.lets.get(name) {
            return Some(v.clone());
        }
        let output = self.output.as_ref()?;
        if name == "time" || name == "v-sweep" || name == "i-sweep" || name == "frequency" {
            return output.scale().map(Value::real);
        }
        if output.kind == AnalysisKind::Ac {
            let (re, im) = output.phasor(name)?;
            return Some(Value { re, im: Some(im) });
        }
        output.vector(name).map(Value::real)
    }
}

struct Session<'c> {
    deck: &'c Circuit,
    /// The deck with every `alter`/`altermod` applied.
    circuit: Circuit,
    plot: Plot,
    vars: BTreeMap<String, String>,
    events: Vec<Event>,
    ignored: BTreeSet<String>,
    ran_deck: bool,
    options: RunOptions,
}

impl<'c> Session<'c> {
    fn new(deck: &'c Circuit, options: RunOptions) -> Result<Self, NodalError> {
        Ok(Self {
            deck,
            circuit: deck.clone(),
            plot: Plot {
                output: None,
                lets: BTreeMap::new(),
            },
            vars: BTreeMap::new(),
            events: Vec::new(),
            ignored: BTreeSet::new(),
            ran_deck: false,
            options,
        })
    }

    fn run_dot_analyses(&mut self) -> Result<(), NodalError> {
        self.ran_deck = true;
        for analysis in self.deck.analyses.clone() {
            self.analyse(&analysis)?;
        }
        Ok(())
    }

    /// Runs one analysis on the circuit as altered so far, then the deck's
    /// `.meas` statements of its kind.
    fn analyse(&mut self, analysis: &Analysis) -> Result<(), NodalError> {
        let mut sim = Simulator::new(&self.circuit)?;
        let output = run_analysis(&mut sim, analysis)?;
        let kind = output.kind;
        self.events.push(Event::Analysis(output.clone()));
        self.plot = Plot {
            output: Some(output),
            lets: BTreeMap::new(),
        };
        let analysis = match kind {
            AnalysisKind::Op => None,
            AnalysisKind::Dc => Some(MeasAnalysis::Dc),
            AnalysisKind::Tran => Some(MeasAnalysis::Tran),
            AnalysisKind::Ac => Some(MeasAnalysis::Ac),
        };
        // Each analysis is followed by the `.meas` lines of its kind under
        // ngspice's header (ngspice's batch run measures after its last
        // analysis only; xbar measures every analysis that has some).
        let Some(analysis) = analysis else {
            return Ok(());
        };
        if !self.deck.measures.iter().any(|m| m.analysis == analysis) {
            return Ok(());
        }
        let results = {
            let (scale, lookup) = self.plot_data();
            let data = MeasData {
                scale: &scale,
                lookup: &lookup,
            };
            measure::run_measures(
                &self.deck.measures,
                analysis,
                &data,
                &self.deck.params,
                self.options.meas_precision,
            )
        };
        self.events.push(Event::Measures {
            header: Some(measure::header(analysis)),
            results,
        });
        Ok(())
    }

    /// The current plot's scale and a lookup for measurements.
    fn plot_data(&self) -> (Vec<f64>, impl Fn(&MeasVector) -> Option<Vec<f64>> + '_) {
        let scale = self.plot.scale().map(|(_, s)| s).unwrap_or_default();
        let lookup = move |v: &MeasVector| {
            let value = self.plot.vector(&v.name)?;
            Some(match v.part {
                ComplexPart::Real => value.re,
                ComplexPart::Imag => value.im.unwrap_or_else(|| vec![0.0; value.re.len()]),
                ComplexPart::Mag => value.magnitude(),
                ComplexPart::Phase => value.phase_degrees(),
                ComplexPart::Db => value.magnitude().iter().map(|m| 20.0 * m.log10()).collect(),
            })
        };
        (scale, lookup)
    }

    fn run_block(&mut self, block: &[Stmt]) -> Result<Flow, NodalError> {
        for stmt in block {
            let flow = match stmt {
                Stmt::Line(line) => self.command(line)?,
                Stmt::Foreach { var, values, body } => {
                    let mut flow = Flow::Continue;
                    for value in values {
                        self.vars.insert(var.clone(), self.substitute(value));
                        flow = self.run_block(body)?;
                        if flow == Flow::Quit {
                            break;
                        }
                    }
                    flow
                }
                Stmt::Repeat { count, loc, body } => {
                    let text = self.substitute(count);
                    let times = if text.is_empty() {
                        return Err(control_error(
                            loc,
                            "`repeat` without a count loops forever; give a count",
                        ));
                    } else {
                        xbar_netlist::parse_number(&text)
                            .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                            .ok_or_else(|| {
                                control_error(
                                    loc,
                                    format!("`repeat` count `{text}` is not a whole number"),
                                )
                            })?
                    };
                    let mut flow = Flow::Continue;
                    for _ in 0..times as u64 {
                        flow = self.run_block(body)?;
                        if flow == Flow::Quit {
                            break;
                        }
                    }
                    flow
                }
            };
            if flow == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        Ok(Flow::Continue)
    }

    /// `$name` replaced by the variable's value (unknown names are kept).
    fn substitute(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = after[..len].to_ascii_lowercase();
            match self.vars.get(&name) {
                Some(value) if len > 0 => out.push_str(value),
                _ => {
                    out.push('$');
                    out.push_str(&after[..len]);
                }
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    fn command(&mut self, line: &ControlLine) -> Result<Flow, NodalError> {
        let text = self.substitute(&line.text);
        let word = command_word(&text);
        let rest = text.trim_start()[word.len()..].trim().to_string();
        let loc = &line.loc;
        let netlist = |e: xbar_netlist::NetlistError| NodalError::Netlist(Box::new(e));
        match word.as_str() {
            "op" | "dc" | "tran" => {
                let analysis =
                    xbar_netlist::control_analysis(&self.circuit, loc, &text).map_err(netlist)?;
                self.analyse(&analysis)?;
            }
            "run" => {
                if self.deck.analyses.is_empty() {
                    return Err(control_error(loc, "`run`: the deck has no dot analysis"));
                }
                self.run_dot_analyses()?;
            }
            "reset" => self.circuit = self.deck.clone(),
            "alter" => self.alter(loc, &rest)?,
            "altermod" => self.altermod(loc, &rest)?,
            "let" => {
                let Some((name, expr)) = rest.split_once('=') else {
                    return Err(control_error(loc, "`let` needs `name = expression`"));
                };
                let name = name.trim().to_ascii_lowercase();
                if name.is_empty() {
                    return Err(control_error(loc, "`let` needs a vector name"));
                }
                let value = self.eval(loc, expr)?;
                self.plot.lets.insert(name, value);
            }
            "set" => {
                for (name, value) in set_assignments(&rest) {
                    self.vars.insert(name, value);
                }
            }
            "echo" => self.events.push(Event::Stdout(rest)),
            "print" => self.print(loc, &rest)?,
            "wrdata" | "write" => self.write(loc, &word, &rest)?,
            "meas" | "measure" => self.meas(loc, &text)?,
            "quit" | "exit" => return Ok(Flow::Quit),
            other => match dialect::lookup(Category::Control, other).map(|f| f.status) {
                Some(Status::Ignored) => {
                    if self.ignored.insert(other.to_string()) {
                        self.events.push(Event::Warning(format!(
                            "{loc}: warning: `{other}` ignored (xbar does not plot or set interactive options)"
                        )));
                    }
                }
                Some(_) => {
                    return Err(control_error(
                        loc,
                        format!("unsupported control command `{other}`"),
                    ))
                }
                None => {
                    return Err(control_error(
                        loc,
                        format!("unknown control command `{other}`"),
                    ))
                }
            },
        }
        Ok(Flow::Continue)
    }

    fn eval(&self, loc: &SourceLoc, text: &str) -> Result<Value, NodalError> {
        let lookup = |name: &str| -> Option<Value> {
            self.plot
                .vector(name)
                .or_else(|| self.deck.params.get(name).map(|v| Value::real(vec![*v])))
        };
        let scale = self.plot.scale().map(|(_, s)| s);
        vecexpr::evaluate(text, &lookup, scale.as_deref())
            .map_err(|e| control_error(loc, format!("`{}`: {e}", text.trim())))
    }

    fn print(&mut self, loc: &SourceLoc, rest: &str) -> Result<(), NodalError> {
        let items =
            vecexpr::split(rest).map_err(|e| control_error(loc, format!("`print {rest}`: {e}")))?;
        if items.is_empty() {
            return Err(control_error(loc, "`print` needs a vector or expression"));
        }
        let mut values = Vec::new();
        for item in &items {
            values.push((item.clone(), self.eval(loc, item)?));
        }
        if values.iter().all(|(_, v)| v.re.len() == 1) {
            for (name, value) in values {
                self.events
                    .push(Event::Stdout(format!("{name} = {}", c_exp(value.re[0], 6))));
            }
            return Ok(());
        }
        let (columns, rows) = self.table(loc, &values)?;
        let mut text = format!("Index\t{}", columns.join("\t"));
        for (index, row) in rows.iter().enumerate() {
            text.push_str(&format!("\n{index}"));
            for v in row {
                text.push('\t');
                text.push_str(&c_exp(*v, 6));
            }
        }
        self.events.push(Event::Stdout(text));
        Ok(())
    }

    /// Scale column plus the given vectors (scalars repeated), as rows.
    fn table(
        &self,
        loc: &SourceLoc,
        values: &[(String, Value)],
    ) -> Result<(Vec<String>, Vec<Vec<f64>>), NodalError> {
        let length = values.iter().map(|(_, v)| v.re.len()).max().unwrap_or(0);
        let mut columns = Vec::new();
        let mut data: Vec<Vec<f64>> = Vec::new();
        if let Some((name, scale)) = self.plot.scale() {
            if scale.len() == length {
                columns.push(
                    name.trim_start_matches("v(")
                        .trim_end_matches(')')
                        .to_string(),
                );
                data.push(scale);
            }
        }
        for (name, value) in values {
            if value.re.len() != length && value.re.len() != 1 {
                return Err(control_error(
                    loc,
                    format!(
                        "`{name}` has {} points, other vectors {length}",
                        value.re.len()
                    ),
                ));
            }
            columns.push(name.clone());
            data.push(if value.re.len() == 1 {
                vec![value.re[0]; length]
            } else {
                value.re.clone()
            });
        }
        let rows = (0..length)
            .map(|i| data.iter().map(|column| column[i]).collect())
            .collect();
        Ok((columns, rows))
    }

    fn write(&mut self, loc: &SourceLoc, word: &str, rest: &str) -> Result<(), NodalError> {
        let (name, vectors) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if name.is_empty() {
            return Err(control_error(loc, format!("`{word}` needs a file name")));
        }
        let name = name.to_string();
        let mut items = vecexpr::split(vectors)
            .map_err(|e| control_error(loc, format!("`{word} {rest}`: {e}")))?;
        if name.contains('/') || name.contains('\\') || name == ".." {
            return Err(control_error(
                loc,
                format!("`{word}` file `{name}`: give a plain file name (it is written into the output folder)"),
            ));
        }
        if items.is_empty() {
            // Every vector of the plot.
            let Some(output) = &self.plot.output else {
                return Err(control_error(loc, format!("`{word}` before any analysis")));
            };
            let start = usize::from(output.kind != AnalysisKind::Op);
            items = output.columns[start..].to_vec();
            items.extend(self.plot.lets.keys().cloned());
        }
        let mut values = Vec::new();
        for item in &items {
            values.push((item.clone(), self.eval(loc, item)?));
        }
        let (columns, rows) = self.table(loc, &values)?;
        self.events.push(Event::File {
            name,
            columns,
            rows,
        });
        Ok(())
    }

    fn meas(&mut self, loc: &SourceLoc, text: &str) -> Result<(), NodalError> {
        // ngspice replaces a single-valued vector after `=` by its value.
        let text = self.scalar_values(text);
        let m: Measure = xbar_netlist::control_measure(&self.circuit, loc, &text)
            .map_err(|e| NodalError::Netlist(Box::new(e)))?;
        let Some(output) = &self.plot.output else {
            return Err(control_error(loc, "`meas` before any analysis"));
        };
        let kind_matches = matches!(
            (m.analysis, output.kind),
            (MeasAnalysis::Tran, AnalysisKind::Tran) | (MeasAnalysis::Dc, AnalysisKind::Dc)
        );
        if !kind_matches {
            return Err(control_error(
                loc,
                format!(
                    "`meas {}` on the results of a different analysis",
                    m.analysis.name()
                ),
            ));
        }
        let mut known = self.deck.params.clone();
        for (name, value) in &self.plot.lets {
            if value.re.len() == 1 {
                known.insert(name.clone(), value.re[0]);
            }
        }
        let result = {
            let (scale, lookup) = self.plot_data();
            let data = MeasData {
                scale: &scale,
                lookup: &lookup,
            };
            match m.kind {
                xbar_netlist::measure::MeasureKind::Param { .. } => {
                    measure::param(&m, &known, self.options.meas_precision)
                }
                _ => measure::measure(&m, &data, self.options.meas_precision, Caller::Command),
            }
        };
        if let Some(value) = result.value {
            self.plot
                .lets
                .insert(m.name.clone(), Value::real(vec![value]));
        }
        self.events.push(Event::Measures {
            header: None,
            results: vec![result],
        });
        Ok(())
    }

    fn scalar_values(&self, text: &str) -> String {
        let mut out = String::new();
        let mut parts = text.split('=').peekable();
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for part in parts {
            out.push('=');
            let trimmed = part.trim_start();
            let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            let (token, tail) = trimmed.split_at(end);
            let replaced = match self.plot.lets.get(&token.to_ascii_lowercase()) {
                Some(v) if v.re.len() == 1 && xbar_netlist::parse_number(token).is_none() => {
                    format!("{:e}", v.re[0])
                }
                _ => token.to_string(),
            };
            out.push_str(&replaced);
            out.push_str(tail);
        }
        out
    }

    /// `alter name value`, `alter name = value`, `alter name param=value`,
    /// `alter @name[param]=value`.
    fn alter(&mut self, loc: &SourceLoc, rest: &str) -> Result<(), NodalError> {
        let (name, param, value) = alter_target(rest).ok_or_else(|| {
            control_error(
                loc,
                format!("`alter {rest}`: expected `alter element [param=]value`"),
            )
        })?;
        let value = self.number(loc, &value)?;
        let Some(element) = self.circuit.elements.iter_mut().find(|e| e.name == name) else {
            return Err(control_error(loc, format!("`alter`: no element `{name}`")));
        };
        let param = param.unwrap_or_default();
        match (&mut element.kind, param.as_str()) {
            (ElementKind::Resistor { resistance, .. }, "" | "r" | "resistance") => {
                if value == 0.0 {
                    return Err(control_error(
                        loc,
                        format!("`alter {name}`: zero resistance"),
                    ));
                }
                *resistance = value;
            }
            (ElementKind::Capacitor { capacitance, .. }, "" | "c" | "capacitance") => {
                *capacitance = value
            }
            (
                ElementKind::VoltageSource(source) | ElementKind::CurrentSource(source),
                "" | "dc",
            ) => source.dc = value,
            (ElementKind::Mosfet { w, .. }, "w") => *w = Some(value),
            (ElementKind::Mosfet { l, .. }, "l") => *l = Some(value),
            _ => {
                return Err(control_error(
                    loc,
                    format!(
                        "`alter {name}`: parameter `{}` cannot be altered",
                        if param.is_empty() { "value" } else { &param }
                    ),
                ))
            }
        }
        Ok(())
    }

    fn altermod(&mut self, loc: &SourceLoc, rest: &str) -> Result<(), NodalError> {
        let (name, param, value) = alter_target(rest).ok_or_else(|| {
            control_error(
                loc,
                format!("`altermod {rest}`: expected `altermod model param=value`"),
            )
        })?;
        let Some(param) = param else {
            return Err(control_error(loc, "`altermod` needs `param=value`"));
        };
        let value = self.number(loc, &value)?;
        let Some(model) = self.circuit.models.get_mut(&name) else {
            return Err(control_error(loc, format!("`altermod`: no model `{name}`")));
        };
        model.params.insert(param, value);
        Ok(())
    }

    fn number(&self, loc: &SourceLoc, text: &str) -> Result<f64, NodalError> {
        let value = self.eval(loc, text)?;
        match value.re.as_slice() {
            [v] => Ok(*v),
            _ => Err(control_error(
                loc,
                format!("`{text}` is not a single value"),
            )),
        }
    }
}

/// `set a = 1 b c=2`: names with their values ("" for flags).
fn set_assignments(rest: &str) -> Vec<(String, String)> {
    let spaced = rest.replace('=', " = ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let name = words[i].to_ascii_lowercase();
        if words.get(i + 1) == Some(&"=") {
            let value = words.get(i + 2).copied().unwrap_or("");
            out.push((name, value.trim_matches('"').to_string()));
            i += 3;
        } else {
            out.push((name, String::new()));
            i += 1;
        }
    }
    out
}

/// `name value`, `name = value`, `name param = value`, `@name[param] = value`
/// -> (element, param, value text), lower-cased names.
fn alter_target(rest: &str) -> Option<(String, Option<String>, String)> {
    let spaced = rest.replace('=', " = ");
    let words: Vec<&str> = spaced.split_whitespace().filter(|w| *w != "=").collect();
    let lower = |s: &str| s.to_ascii_lowercase();
    if let Some(device) = words.first()?.strip_prefix('@') {
        let (name, param) = device.strip_suffix(']')?.split_once('[')?;
        return Some((lower(name), Some(lower(param)), words.get(1..)?.join(" ")));
    }
    match words.as_slice() {
        [name, value] => Some((lower(name), None, value.to_string())),
        [name, param, value @ ..] if !value.is_empty() => {
            Some((lower(name), Some(lower(param)), value.join(" ")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_forms() {
        assert_eq!(
            alter_target("R1 2k"),
            Some(("r1".into(), None, "2k".into()))
        );
        assert_eq!(
            alter_target("r1 = 2k"),
            Some(("r1".into(), None, "2k".into()))
        );
        assert_eq!(
            alter_target("r1 resistance=2k"),
            Some(("r1".into(), Some("resistance".into()), "2k".into()))
        );
        assert_eq!(
            alter_target("@v1[dc] = 0.5"),
            Some(("v1".into(), Some("dc".into()), "0.5".into()))
        );
        assert_eq!(alter_target("r1"), None);
    }

    #[test]
    fn set_forms() {
        assert_eq!(
            set_assignments("x = 1 flag y=\"a\""),
            [
                ("x".to_string(), "1".to_string()),
                ("flag".to_string(), String::new()),
                ("y".to_string(), "a".to_string())
            ]
        );
    }
}

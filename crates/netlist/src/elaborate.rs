//! Elaboration: evaluates parameters, expands subcircuit instances into flat
//! elements named as ngspice names them, and turns directives into analyses.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use crate::circuit::*;
use crate::deck::{assignments, strip_braces, Body, Deck, FuncDef, Stmt, SubcktDef, MAX_NESTING};
use crate::dialect;
use crate::error::{ErrorKind, NetlistError};
use crate::expr::{self, BinOp, Dialect, Expr, ExprError, Probe, Var};
use crate::lexer::Token;
use crate::measure::{self, MeasContext};
use crate::number::parse_number;
use crate::Limits;

type Result<T> = std::result::Result<T, NetlistError>;

/// The resistor model parameters ngspice knows (noise and breakdown ones
/// are accepted and have no effect on the analyses xbar runs).
const RESISTOR_MODEL_PARAMS: &[&str] = &[
    "rsh", "narrow", "dw", "short", "dlr", "tc1", "tc1r", "tc2", "tc2r", "defw", "w", "l", "tnom",
    "r", "res", "kf", "af", "lf", "wf", "ef", "bv_max",
];

/// ngspice's default circuit and nominal temperature, °C.
const NOMINAL_TEMP: f64 = 27.0;

/// Options whose numeric value the engine honours (`maxpoints` is xbar's:
/// the most time points a transient may store).
const NUMERIC_OPTIONS: &[&str] = &[
    "reltol",
    "abstol",
    "vntol",
    "chgtol",
    "trtol",
    "gmin",
    "itl1",
    "itl2",
    "itl4",
    "temp",
    "tnom",
    "maxord",
    "gminsteps",
    "srcsteps",
    "defw",
    "defl",
    "defad",
    "defas",
    "maxpoints",
];

/// The other options of ngspice 39's manual (chapter "Simulator
/// Variables"): accepted with a warning that they change nothing here.
const NGSPICE_OPTIONS: &[&str] = &[
    "acct",
    "noacct",
    "noinit",
    "list",
    "nomod",
    "nopage",
    "node",
    "opts",
    "seed",
    "seedinfo",
    "warn",
    "maxwarns",
    "savecurrents",
    "keepopinfo",
    "noopiter",
    "pivrel",
    "pivtol",
    "rshunt",
    "cshunt",
    "noopac",
    "autostop",
    "conv_abs_step",
    "conv_step",
    "interp",
    "itl3",
    "itl5",
    "itl6",
    "maxevtiter",
    "maxopalter",
    "noopalter",
    "ramptime",
    "xmu",
    "badmos3",
    "scale",
    "klu",
    "sparse",
    "trytocompact",
    "norefvalue",
    "post",
    "ingold",
    "numdgt",
    "limpts",
    "lvltim",
    "plotwinsize",
    "rseries",
    "cshunt",
    "sourcesteps",
    "gminfactor",
    "dcon",
    "newtrunc",
    "nosrcsteps",
    "nogminsteps",
    "epsmin",
];

enum Def {
    Expr(Expr, String, SourceLoc),
    Value(f64),
}

#[derive(Clone, Copy)]
enum Slot {
    InProgress,
    Done(f64),
}

/// What an expression evaluation can fail with before it gets a location.
enum EvalError {
    Expr(ExprError),
    Netlist(NetlistError),
}

impl From<ExprError> for EvalError {
    fn from(err: ExprError) -> Self {
        EvalError::Expr(err)
    }
}

/// `.func`s calling `.func`s deeper than this are reported as recursion.
const MAX_FUNC_NESTING: usize = 32;

/// Parameters, functions, models and node names visible in one body (the
/// top level or one subcircuit instance). Parameters are evaluated on first
/// use, which allows forward references and detects circular definitions.
struct Scope<'a> {
    parent: Option<&'a Scope<'a>>,
    body: &'a Body,
    defs: HashMap<String, Def>,
    state: RefCell<HashMap<String, Slot>>,
    /// Model name in the deck -> flattened model name.
    models: HashMap<String, String>,
    /// Pin name -> node it is connected to in the caller.
    pins: HashMap<String, String>,
    /// Instance path (`x1.x2`), empty at the top level.
    path: String,
    /// The definitions being instantiated, outermost first (recursion check).
    active: Vec<*const SubcktDef>,
}

impl<'a> Scope<'a> {
    /// A `.func` visible here: this body's, else an enclosing one's.
    fn func(&self, name: &str) -> Option<&FuncDef> {
        self.body
            .funcs
            .iter()
            .find(|f| f.name == name)
            .or_else(|| self.parent.and_then(|p| p.func(name)))
    }

    /// Expands every `.func` call, as ngspice does textually before it
    /// evaluates anything: the body's names other than the arguments are
    /// resolved where the call is written.
    fn inline(&self, expr: &Expr, text: &str, loc: &SourceLoc) -> Result<Expr> {
        self.inline_at(expr, text, loc, 0)
    }

    fn inline_at(&self, expr: &Expr, text: &str, loc: &SourceLoc, depth: usize) -> Result<Expr> {
        expr.map_leaves(&mut |leaf| match leaf {
            Expr::Call(name, args) => {
                let Some(def) = self.func(&name) else {
                    return Err(NetlistError::new(
                        loc,
                        ErrorKind::Expression(format!("unknown function `{name}`")),
                        text,
                    ));
                };
                if def.args.len() != args.len() {
                    return Err(NetlistError::new(
                        loc,
                        ErrorKind::Expression(format!(
                            "`.func {name}` takes {} argument(s), got {}",
                            def.args.len(),
                            args.len()
                        )),
                        text,
                    ));
                }
                if depth >= MAX_FUNC_NESTING {
                    return Err(NetlistError::new(
                        &def.loc,
                        ErrorKind::Expression(format!(
                            "`.func {name}` calls itself (or `.func`s nest deeper than {MAX_FUNC_NESTING})"
                        )),
                        text,
                    ));
                }
                let body = def.body.map_leaves(&mut |inner| -> Result<Expr> {
                    Ok(match &inner {
                        Expr::Param(p) => match def.args.iter().position(|a| a == p) {
                            Some(k) => args[k].clone(),
                            None => inner,
                        },
                        _ => inner,
                    })
                })?;
                self.inline_at(&body, text, loc, depth + 1)
            }
            other => Ok(other),
        })
    }

    /// A parameter visible here (this scope, then the enclosing ones), else
    /// a constant (`pi`, `e`).
    fn param(&self, name: &str, use_loc: &SourceLoc) -> Result<f64> {
        let mut scope = Some(self);
        while let Some(s) = scope {
            if s.defs.contains_key(name) {
                return s.local_param(name);
            }
            scope = s.parent;
        }
        expr::constant(name)
            .ok_or_else(|| NetlistError::new(use_loc, ErrorKind::UndefinedParameter, name))
    }

    /// Evaluates a parameter of this scope and every parameter of this scope
    /// it depends on, without recursion (a chain of 10,000 `.param`s each
    /// using the previous one is an ordinary deck).
    fn local_param(&self, root: &str) -> Result<f64> {
        if let Some(Def::Value(value)) = self.defs.get(root) {
            return Ok(*value);
        }
        let mut inlined: HashMap<String, Expr> = HashMap::new();
        let mut stack = vec![root.to_string()];
        while let Some(top) = stack.last().cloned() {
            let (expr, text, loc) = match self.defs.get(&top) {
                Some(Def::Value(value)) => {
                    self.state.borrow_mut().insert(top, Slot::Done(*value));
                    stack.pop();
                    continue;
                }
                Some(Def::Expr(expr, text, loc)) => (expr, text, loc),
                None => unreachable!("only defined parameters are pushed"),
            };
            match self.state.borrow().get(&top) {
                Some(Slot::Done(value)) => {
                    if stack.len() == 1 {
                        return Ok(*value);
                    }
                    stack.pop();
                    continue;
                }
                Some(Slot::InProgress) if !inlined.contains_key(&top) => {
                    return Err(NetlistError::new(loc, ErrorKind::CircularParameter, top))
                }
                _ => {}
            }
            if !inlined.contains_key(&top) {
                let expanded = self.inline(expr, text, loc)?;
                inlined.insert(top.clone(), expanded);
                self.state
                    .borrow_mut()
                    .insert(top.clone(), Slot::InProgress);
            }
            let expanded = &inlined[&top];
            let mut pending: Option<String> = None;
            {
                let state = self.state.borrow();
                expanded.walk(&mut |e| {
                    if let (None, Expr::Param(name)) = (&pending, e) {
                        if self.defs.contains_key(name)
                            && !matches!(state.get(name), Some(Slot::Done(_)))
                        {
                            pending = Some(name.clone());
                        }
                    }
                });
            }
            if let Some(dep) = pending {
                if matches!(self.state.borrow().get(&dep), Some(Slot::InProgress)) {
                    let dep_loc = match self.defs.get(&dep) {
                        Some(Def::Expr(_, _, dep_loc)) => dep_loc,
                        _ => loc,
                    };
                    return Err(NetlistError::new(
                        dep_loc,
                        ErrorKind::CircularParameter,
                        dep,
                    ));
                }
                stack.push(dep);
                continue;
            }
            let value = self.evaluate(expanded, text, loc)?;
            self.state.borrow_mut().insert(top, Slot::Done(value));
            stack.pop();
            if stack.is_empty() {
                return Ok(value);
            }
        }
        unreachable!("the root parameter ends the loop")
    }

    /// The value of an expression whose `.func`s are inlined, numparam's way.
    fn evaluate(&self, expr: &Expr, text: &str, loc: &SourceLoc) -> Result<f64> {
        let quantity = |what: String| {
            NetlistError::new(
                loc,
                ErrorKind::Expression(format!(
                    "`{what}` is a simulation quantity: not allowed in a parameter or value expression"
                )),
                text,
            )
        };
        expr.eval(Dialect::Numparam, &mut |leaf| match leaf {
            Expr::Param(name) if Var::lookup(name).is_some() => {
                Err(EvalError::Netlist(quantity(name.clone())))
            }
            Expr::Param(name) => self.param(name, loc).map_err(EvalError::Netlist),
            other => Err(EvalError::Netlist(quantity(other.to_string()))),
        })
        .map_err(|err| match err {
            EvalError::Expr(e) => {
                NetlistError::new(loc, ErrorKind::Expression(e.to_string()), text)
            }
            EvalError::Netlist(e) => e,
        })
    }

    /// The value of a parsed parameter or value expression.
    fn eval(&self, expr: &Expr, text: &str, loc: &SourceLoc) -> Result<f64> {
        let expanded = self.inline(expr, text, loc)?;
        self.evaluate(&expanded, text, loc)
    }

    /// A run-time expression as the engine gets it: `.func`s inlined,
    /// parameters replaced by their values, `time`/`temper`/`hertz` as
    /// variables, probes naming flattened nodes and elements.
    fn runtime(&self, expr: &Expr, text: &str, loc: &SourceLoc) -> Result<Expr> {
        let expanded = self.inline(expr, text, loc)?;
        expanded.map_leaves(&mut |leaf| {
            Ok(match leaf {
                Expr::Param(name) => match Var::lookup(&name) {
                    Some(var) => Expr::Var(var),
                    None => Expr::Num(self.param(&name, loc)?),
                },
                Expr::Probe(Probe::Voltage(a, b)) => {
                    Expr::Probe(Probe::Voltage(self.node(&a), b.map(|b| self.node(&b))))
                }
                Expr::Probe(Probe::Current(name)) => {
                    Expr::Probe(Probe::Current(self.element_name(&name)))
                }
                other => other,
            })
        })
    }

    /// The numeric value of one token: a SPICE number or an expression.
    fn num(&self, stmt: &Stmt, token: &Token) -> Result<f64> {
        match token {
            Token::Word(word) => parse_number(word)
                .ok_or_else(|| NetlistError::new(&stmt.loc, ErrorKind::BadNumber, word.clone())),
            Token::Expr(text) => {
                let expr = expr::parse(text).map_err(|e| {
                    NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Expression(e.to_string()),
                        token.text(),
                    )
                })?;
                self.eval(&expr, &token.text(), &stmt.loc)
            }
            other => Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(": expected a value".into()),
                other.text(),
            )),
        }
    }

    fn node(&self, word: &str) -> String {
        if word == "0" || word == "gnd" {
            return "0".into();
        }
        if let Some(mapped) = self.pins.get(word) {
            return mapped.clone();
        }
        if self.path.is_empty() {
            word.to_string()
        } else {
            format!("{}.{}", self.path, word)
        }
    }

    /// ngspice's name for an element inside an instance: `v1` in `x1.x2`
    /// becomes `v.x1.x2.v1`.
    fn element_name(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            let letter = name.chars().next().unwrap_or('?');
            format!("{letter}.{}.{name}", self.path)
        }
    }

    fn model(&self, name: &str) -> Option<&String> {
        self.models
            .get(name)
            .or_else(|| self.parent.and_then(|p| p.model(name)))
    }

    fn subckt(&self, name: &str) -> Option<(Rc<SubcktDef>, &Scope<'a>)> {
        match self.body.subckts.get(name) {
            Some(def) => Some((def.clone(), self)),
            None => self.parent.and_then(|p| p.subckt(name)),
        }
    }
}

struct Elaborator {
    circuit: Circuit,
    max_elements: usize,
    element_names: HashSet<String>,
    nodes: BTreeSet<String>,
    save_all: bool,
}

/// Turns the structured deck into a flat circuit.
pub fn elaborate(deck: Deck, limits: &Limits) -> Result<Circuit> {
    let mut elab = Elaborator {
        max_elements: limits.max_elements,
        circuit: Circuit {
            title: deck.title.clone(),
            warnings: deck.warnings,
            control: deck.control,
            ..Circuit::default()
        },
        element_names: HashSet::new(),
        nodes: BTreeSet::new(),
        save_all: false,
    };
    let mut defs = HashMap::new();
    for def in &deck.body.params {
        if defs.contains_key(&def.name) {
            elab.warn(
                &def.loc,
                format!(
                    "parameter `{}` redefined; the last definition applies",
                    def.name
                ),
            );
        }
        defs.insert(
            def.name.clone(),
            Def::Expr(def.expr.clone(), def.text.clone(), def.loc.clone()),
        );
    }
    let mut top = Scope {
        parent: None,
        body: &deck.body,
        defs,
        state: RefCell::new(HashMap::new()),
        models: HashMap::new(),
        pins: HashMap::new(),
        path: String::new(),
        active: Vec::new(),
    };
    // Temperatures and options first: elements read them while they
    // elaborate (a resistor's temperature coefficients).
    let (settings, others): (Vec<&Stmt>, Vec<&Stmt>) = deck
        .directives
        .iter()
        .partition(|d| matches!(d.head().as_str(), ".options" | ".option" | ".opt" | ".temp"));
    for stmt in settings {
        elab.directive(stmt, &top)?;
    }
    top.models = elab.models(&top)?;
    elab.expand(&top)?;
    if elab.circuit.elements.is_empty() {
        let loc = deck
            .directives
            .first()
            .map(|d| d.loc.clone())
            .unwrap_or_default();
        return Err(NetlistError::new(&loc, ErrorKind::Empty, deck.title));
    }
    elab.check_controls()?;
    elab.check_probes()?;
    for stmt in others {
        elab.directive(stmt, &top)?;
    }
    if elab.save_all {
        elab.circuit.saves.clear();
    }
    // Parameters that do not evaluate are errors only where they are used.
    for def in &deck.body.params {
        if let Ok(value) = top.param(&def.name, &def.loc) {
            elab.circuit.params.insert(def.name.clone(), value);
        }
    }
    Ok(elab.circuit)
}

impl Elaborator {
    /// Every F and H source names an element with a branch current (which
    /// may come later in the deck).
    fn check_controls(&self) -> Result<()> {
        let elements = &self.circuit.elements;
        for element in elements {
            let (ElementKind::Ccvs { controls, .. } | ElementKind::Cccs { controls, .. }) =
                &element.kind
            else {
                continue;
            };
            for control in controls {
                if !elements
                    .iter()
                    .any(|e| e.name == *control && e.kind.has_branch_current())
                {
                    return Err(NetlistError::new(
                        &element.loc,
                        ErrorKind::NoSuch(format!(
                            "controlling voltage source for `{}` (a V, E or H element)",
                            element.name
                        )),
                        control.clone(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn warn(&mut self, loc: &SourceLoc, message: String) {
        self.circuit.warnings.push(Diagnostic {
            loc: loc.clone(),
            message,
        });
    }

    /// Every `V()` of a behavioural element reads a node some element
    /// connects, every `I()` the branch current of a voltage-defined element.
    fn check_probes(&self) -> Result<()> {
        let branches: HashSet<&str> = self
            .circuit
            .elements
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    ElementKind::VoltageSource(_)
                        | ElementKind::Behavioral {
                            quantity: Behavior::Voltage,
                            ..
                        }
                )
            })
            .map(|e| e.name.as_str())
            .collect();
        for element in &self.circuit.elements {
            let ElementKind::Behavioral { expr, .. } = &element.kind else {
                continue;
            };
            for probe in expr.probes() {
                let missing = match &probe {
                    Probe::Voltage(a, b) => std::iter::once(a)
                        .chain(b)
                        .find(|n| *n != "0" && !self.nodes.contains(*n))
                        .map(|n| format!("node `{n}` (read by `{}`)", Expr::Probe(probe.clone()))),
                    Probe::Current(name) if !branches.contains(name.as_str()) => Some(format!(
                        "voltage source or B/E voltage source `{name}` (read by `{}`)",
                        Expr::Probe(probe.clone())
                    )),
                    Probe::Current(_) => None,
                };
                if let Some(what) = missing {
                    return Err(NetlistError::new(
                        &element.loc,
                        ErrorKind::NoSuch(what),
                        element.name.clone(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Elaborates the `.model` cards of a body and returns their flattened names.
    fn models(&mut self, scope: &Scope) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        for stmt in &scope.body.models {
            let model = model_card(stmt, scope)?;
            if names.contains_key(&model.name) {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Duplicate("model".into()),
                    model.name,
                ));
            }
            let flat = if scope.path.is_empty() {
                model.name.clone()
            } else {
                format!("{}.{}", scope.path, model.name)
            };
            names.insert(model.name.clone(), flat.clone());
            self.circuit.models.insert(
                flat.clone(),
                Model {
                    name: flat,
                    ..model
                },
            );
        }
        Ok(names)
    }

    fn expand(&mut self, scope: &Scope) -> Result<()> {
        for stmt in &scope.body.elements {
            let name = stmt.head();
            match name.chars().next() {
                Some('x') => self.instance(stmt, scope)?,
                Some('r') => self.resistor(stmt, scope)?,
                Some('c') => self.capacitor(stmt, scope)?,
                Some('l') => self.inductor(stmt, scope)?,
                Some('k') => self.coupling(stmt, scope)?,
                Some('v' | 'i') => self.source(stmt, scope)?,
                Some('d') => self.diode(stmt, scope)?,
                Some('m') => self.mosfet(stmt, scope)?,
                Some('b') => self.behavioral_source(stmt, scope)?,
                Some('e' | 'g') if expression_form(stmt).is_some() => {
                    self.expression_controlled_source(stmt, scope)?
                }
                Some('e' | 'g') => self.voltage_controlled(stmt, scope)?,
                Some('f' | 'h') => self.current_controlled(stmt, scope)?,
                Some('q') => self.bjt(stmt, scope)?,
                Some('y') if name == "ymemristor" => self.memristor(stmt, scope)?,
                _ => {
                    let kind = match dialect::element(&name) {
                        Some(feature) if feature.status == dialect::Status::Refused => {
                            ErrorKind::Unsupported(format!(
                                "element ({}; supported: {})",
                                feature.supported,
                                dialect::supported_elements()
                            ))
                        }
                        _ => ErrorKind::UnknownElement,
                    };
                    return Err(NetlistError::new(&stmt.loc, kind, name));
                }
            }
        }
        Ok(())
    }

    /// `off` only seeds ngspice's operating-point iteration; any other bare
    /// word is a mistake.
    fn off_flags(&mut self, stmt: &Stmt, name: &str, flags: &[String]) -> Result<()> {
        for flag in flags {
            if flag != "off" {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(String::new()),
                    flag.clone(),
                ));
            }
            self.warn(
                &stmt.loc,
                format!("{name}: `off` ignored (it only seeds the operating-point iteration)"),
            );
        }
        Ok(())
    }

    /// Adds an element under its flattened name.
    fn push(
        &mut self,
        stmt: &Stmt,
        flat: String,
        nodes: Vec<String>,
        kind: ElementKind,
    ) -> Result<()> {
        if self.circuit.elements.len() >= self.max_elements {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Limit(format!(
                    "the deck expands to more than {} elements (subcircuit instances multiply; \
                     Limits::max_elements, `xbar sim --max-elements`)",
                    self.max_elements
                )),
                flat,
            ));
        }
        if !self.element_names.insert(flat.clone()) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Duplicate("element name".into()),
                flat,
            ));
        }
        self.nodes
            .extend(nodes.iter().filter(|n| *n != "0").cloned());
        self.circuit.elements.push(Element {
            name: flat,
            nodes,
            kind,
            loc: stmt.loc.clone(),
        });
        Ok(())
    }

    fn instance(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let params_at = stmt
            .tokens
            .iter()
            .position(|t| *t == Token::Eq)
            .map_or(stmt.tokens.len(), |eq| eq - 1);
        let params_at = match stmt.tokens[..params_at]
            .iter()
            .position(|t| *t == Token::Word("params:".into()))
        {
            Some(p) => p,
            None => params_at,
        };
        let mut words = Vec::new();
        for token in &stmt.tokens[1..params_at.max(1)] {
            match token {
                Token::Word(w) => words.push(w.clone()),
                other => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unexpected(" in instance nodes".into()),
                        other.text(),
                    ))
                }
            }
        }
        let Some(sub_name) = words.pop() else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("subcircuit name".into()),
                name,
            ));
        };
        let Some((def, found_in)) = scope.subckt(&sub_name) else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::UnknownSubckt,
                sub_name,
            ));
        };
        if words.len() != def.pins.len() {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::PinCount(format!(
                    "subcircuit `{}` has {} pins, instance connects {}",
                    def.name,
                    def.pins.len(),
                    words.len()
                )),
                name,
            ));
        }
        let ptr = Rc::as_ptr(&def);
        if scope.active.contains(&ptr) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::RecursiveSubckt,
                def.name.clone(),
            ));
        }
        if scope.active.len() >= MAX_NESTING {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Limit(format!(
                    "subcircuit instances nested deeper than {MAX_NESTING}"
                )),
                def.name.clone(),
            ));
        }
        let mut defs = HashMap::new();
        for param in &def.params {
            defs.insert(
                param.name.clone(),
                Def::Expr(param.expr.clone(), param.text.clone(), param.loc.clone()),
            );
        }
        for given in assignments(stmt, &stmt.tokens[params_at.max(1)..])? {
            if !defs.contains_key(&given.name) {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::UnknownParameter(format!(" of subcircuit `{}`", def.name)),
                    given.name,
                ));
            }
            // Overrides are evaluated where the instance is written.
            let value = scope.eval(&given.expr, &given.text, &stmt.loc)?;
            defs.insert(given.name, Def::Value(value));
        }
        for param in &def.body.params {
            if defs.contains_key(&param.name) {
                return Err(NetlistError::new(
                    &param.loc,
                    ErrorKind::Duplicate("parameter in subcircuit".into()),
                    param.name.clone(),
                ));
            }
            defs.insert(
                param.name.clone(),
                Def::Expr(param.expr.clone(), param.text.clone(), param.loc.clone()),
            );
        }
        let pins = def
            .pins
            .iter()
            .cloned()
            .zip(words.iter().map(|w| scope.node(w)))
            .collect();
        let path = if scope.path.is_empty() {
            name.clone()
        } else {
            format!("{}.{name}", scope.path)
        };
        let mut active = scope.active.clone();
        active.push(ptr);
        let mut child = Scope {
            parent: Some(found_in),
            body: &def.body,
            defs,
            state: RefCell::new(HashMap::new()),
            models: HashMap::new(),
            pins,
            path,
            active,
        };
        child.models = self.models(&child)?;
        self.expand(&child)
    }

    /// The first `count` node tokens after the element name.
    fn nodes(stmt: &Stmt, scope: &Scope, first: usize, count: usize) -> Result<Vec<String>> {
        let mut nodes = Vec::with_capacity(count);
        for k in 0..count {
            match stmt.tokens.get(first + k) {
                Some(Token::Word(w))
                    if !matches!(stmt.tokens.get(first + k + 1), Some(Token::Eq)) =>
                {
                    nodes.push(scope.node(w))
                }
                Some(other) => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing(format!("node {} of {count}", k + 1)),
                        other.text(),
                    ))
                }
                None => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing(format!("node {} of {count}", k + 1)),
                        stmt.head(),
                    ))
                }
            }
        }
        Ok(nodes)
    }

    /// `Rname n+ n- [value] [model] [r=] [l=] [w=] [ac=] [tc1=] [tc2=]
    /// [temp=] [dtemp=] [m=] [scale=]`: the resistance at the resistor's
    /// temperature as ngspice's resistor setup and temperature update
    /// compute it.
    fn resistor(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        const KEYS: &[&str] = &[
            "r",
            "resistance",
            "l",
            "w",
            "ac",
            "tc",
            "tc1",
            "tc2",
            "temp",
            "dtemp",
            "m",
            "scale",
        ];
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let args = Args::split(stmt, &stmt.tokens[3..])?;
        if let Some((expr, text)) = args.runtime_value(stmt, &["r", "resistance"])? {
            args.only(stmt, &["r", "resistance"], "a resistor")?;
            // ngspice's transformation: a B source `I = V(n+,n-)/(expr)`.
            let resistance = scope.runtime(&expr, &text, &stmt.loc)?;
            let voltage = Expr::Probe(Probe::Voltage(nodes[0].clone(), Some(nodes[1].clone())));
            let expr = Expr::Binary(BinOp::Div, Box::new(voltage), Box::new(resistance));
            let kind = ElementKind::Behavioral {
                quantity: Behavior::Current,
                expr,
            };
            return self.push(stmt, scope.element_name(&name), nodes, kind);
        }
        args.only(stmt, KEYS, "a resistor")?;
        let card = match args.flags.as_slice() {
            [] => None,
            [model] => {
                let index = stmt
                    .tokens
                    .iter()
                    .skip(3)
                    .position(|t| *t == Token::Word(model.clone()))
                    .map_or(3, |p| p + 3);
                let flat = model_ref(&self.circuit.models, stmt, scope, index, &["r", "res"])?;
                let card = self.circuit.models.get(&flat).cloned();
                if let Some((key, _)) = card.as_ref().and_then(|c| {
                    c.params
                        .iter()
                        .find(|(k, _)| !RESISTOR_MODEL_PARAMS.contains(&k.as_str()))
                }) {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::UnknownParameter(format!(" of resistor model `{model}`")),
                        key.clone(),
                    ));
                }
                card
            }
            [_, extra, ..] => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(" in resistor (one model name at most)".into()),
                    extra.clone(),
                ))
            }
        };
        let given = args.positional.len()
            + args
                .named
                .iter()
                .filter(|(k, _)| k == "r" || k == "resistance")
                .count();
        let value = if given > 0 || card.is_none() {
            Some(args.single_value(stmt, scope, &["r", "resistance"], "resistance")?)
        } else {
            None
        };
        let named = |key: &str| args.named(stmt, scope, key);
        let mp = |key: &str| card.as_ref().and_then(|m| m.params.get(key).copied());
        let bad = |key: &str, why: &str| {
            NetlistError::new(&stmt.loc, ErrorKind::BadValue(format!("{key} {why}")), key)
        };
        let mut resistance = match value {
            Some(r) => r,
            None => {
                let length = named("l")?.or(mp("l")).unwrap_or(10e-6);
                let width = named("w")?.or(mp("defw")).or(mp("w")).unwrap_or(10e-6);
                let rsh = mp("rsh").unwrap_or(0.0);
                let short = mp("short").or(mp("dlr")).unwrap_or(0.0);
                let narrow = mp("narrow").or(mp("dw")).unwrap_or(0.0);
                if length * width * rsh > 0.0 {
                    let w_eff = width - 2.0 * narrow;
                    if w_eff <= 0.0 {
                        return Err(bad("w", "minus twice the model's narrow must be > 0"));
                    }
                    (length - 2.0 * short) / w_eff * rsh
                } else {
                    mp("r").or(mp("res")).unwrap_or(0.0)
                }
            }
        };
        if resistance == 0.0 {
            self.warn(
                &stmt.loc,
                format!("{name}: zero resistance set to 1 mOhm, as ngspice does"),
            );
            resistance = 1e-3;
        }
        let temp = match (named("temp")?, named("dtemp")?) {
            (Some(t), Some(_)) => {
                self.warn(
                    &stmt.loc,
                    format!("{name}: instance temperature given, dtemp ignored (ngspice)"),
                );
                t
            }
            (Some(t), None) => t,
            (None, dtemp) => self.temperature() + dtemp.unwrap_or(0.0),
        };
        let tnom = mp("tnom")
            .or(self.circuit.options.get("tnom").copied())
            .unwrap_or(NOMINAL_TEMP);
        let tc1 = named("tc1")?
            .or(named("tc")?)
            .or(mp("tc1"))
            .or(mp("tc1r"))
            .unwrap_or(0.0);
        let tc2 = named("tc2")?.or(mp("tc2")).or(mp("tc2r")).unwrap_or(0.0);
        let dt = temp - tnom;
        let factor = (tc2 * dt + tc1) * dt + 1.0;
        let m = named("m")?.unwrap_or(1.0);
        let scale = named("scale")?.unwrap_or(1.0);
        if m <= 0.0 {
            return Err(bad("m", "must be > 0"));
        }
        let effective = |r: f64| r * factor * scale / m;
        if effective(resistance) == 0.0 || !effective(resistance).is_finite() {
            return Err(bad(
                "tc1",
                &format!(
                    "and tc2 make the resistance {} at {temp} °C",
                    effective(resistance)
                ),
            ));
        }
        let ac = named("ac")?.map(effective);
        if ac == Some(0.0) {
            return Err(bad("ac", "resistance must not be zero"));
        }
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Resistor {
                resistance: effective(resistance),
                ac,
            },
        )
    }

    /// The circuit temperature in °C: `.temp`, else `.options temp=`, else 27.
    fn temperature(&self) -> f64 {
        self.circuit
            .options
            .get("temp")
            .copied()
            .unwrap_or(NOMINAL_TEMP)
    }

    /// `Lname n+ n- value [ic=current]`.
    fn inductor(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let args = Args::split(stmt, &stmt.tokens[3..])?;
        args.no_flags(stmt)?;
        let inductance = args.single_value(stmt, scope, &["l", "inductance"], "inductance")?;
        args.only(stmt, &["l", "inductance", "ic"], "an inductor")?;
        if inductance == 0.0 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("inductance must not be zero".into()),
                name,
            ));
        }
        let ic = args.named(stmt, scope, "ic")?;
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Inductor { inductance, ic },
        )
    }

    /// `Kname L1 L2 k`: the inductors are named as in the deck's own scope.
    fn coupling(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let usage = "`Kname L1 L2 coefficient`";
        let (Some(Token::Word(l1)), Some(Token::Word(l2)), Some(value), None) = (
            stmt.tokens.get(1),
            stmt.tokens.get(2),
            stmt.tokens.get(3),
            stmt.tokens.get(4),
        ) else {
            let token = stmt
                .tokens
                .get(4)
                .map(Token::text)
                .unwrap_or_else(|| name.clone());
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing(usage.into()),
                token,
            ));
        };
        let coefficient = scope.num(stmt, value)?;
        if !(coefficient != 0.0 && coefficient.abs() <= 1.0) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("coupling coefficient must satisfy 0 < |k| <= 1".into()),
                value.text(),
            ));
        }
        let mut inductors = [String::new(), String::new()];
        for (slot, l) in inductors.iter_mut().zip([l1, l2]) {
            let flat = scope.element_name(l);
            // Couplings may precede the inductors they join; those are
            // checked by the engine, which sees the whole circuit.
            if !l.starts_with('l') {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::NoSuch("inductor".into()),
                    l.clone(),
                ));
            }
            *slot = flat;
        }
        if inductors[0] == inductors[1] {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("a coupling joins two different inductors".into()),
                l2.clone(),
            ));
        }
        self.push(
            stmt,
            scope.element_name(&name),
            Vec::new(),
            ElementKind::Coupling {
                inductors,
                coefficient,
            },
        )
    }

    fn capacitor(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let args = Args::split(stmt, &stmt.tokens[3..])?;
        args.no_flags(stmt)?;
        if let Some((expr, text)) = args.runtime_value(stmt, &["c", "capacitance", "q"])? {
            args.only(stmt, &["c", "capacitance", "q", "ic"], "a capacitor")?;
            // ngspice 39 decides by the text `c=` on the line (so `ic=`
            // counts): a capacitance `i = C·dv/dt`, else a charge `i = dq/dt`.
            let named = |key: &str| args.named.iter().any(|(k, _)| k == key);
            let quantity = if !named("q") && (named("c") || named("ic")) {
                Behavior::Capacitance
            } else {
                Behavior::Charge
            };
            if named("ic") {
                self.warn(
                    &stmt.loc,
                    format!("{name}: `ic` ignored on an expression capacitor, as ngspice does"),
                );
            }
            let expr = scope.runtime(&expr, &text, &stmt.loc)?;
            let kind = ElementKind::Behavioral { quantity, expr };
            return self.push(stmt, scope.element_name(&name), nodes, kind);
        }
        let capacitance = args.single_value(stmt, scope, &["c", "capacitance"], "capacitance")?;
        args.only(stmt, &["c", "capacitance", "ic"], "a capacitor")?;
        let ic = args.named(stmt, scope, "ic")?;
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Capacitor { capacitance, ic },
        )
    }

    fn source(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let tokens = &stmt.tokens[3..];
        let mut dc = None;
        let mut waveform = None;
        let mut ac = None;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Word(w) if w == "dc" => {
                    // `dc value` and `dc=value` are both ngspice.
                    if tokens.get(i + 1) == Some(&Token::Eq) {
                        i += 1;
                    }
                    let value = tokens.get(i + 1).ok_or_else(|| {
                        NetlistError::new(&stmt.loc, ErrorKind::Missing("DC value".into()), "dc")
                    })?;
                    set_once(stmt, &mut dc, scope.num(stmt, value)?, "dc")?;
                    i += 2;
                }
                Token::Word(w) if w == "ac" => {
                    if ac.is_some() {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Duplicate("ac specification".into()),
                            "ac",
                        ));
                    }
                    // `ac [mag [phase]]`: a bare `ac` is magnitude 1 (ngspice).
                    i += 1;
                    let mut values = Vec::with_capacity(2);
                    while values.len() < 2 && i < tokens.len() && is_value(&tokens[i]) {
                        values.push(scope.num(stmt, &tokens[i])?);
                        i += 1;
                    }
                    ac = Some(AcPhasor {
                        mag: values.first().copied().unwrap_or(1.0),
                        phase_deg: values.get(1).copied().unwrap_or(0.0),
                    });
                }
                Token::Word(w) if matches!(w.as_str(), "pulse" | "pwl" | "sin") => {
                    if waveform.is_some() {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Duplicate("waveform".into()),
                            w.clone(),
                        ));
                    }
                    let (values, next) = waveform_args(stmt, scope, tokens, i + 1)?;
                    waveform = Some(build_waveform(stmt, w, &values)?);
                    i = next;
                }
                Token::Word(w)
                    if matches!(
                        w.as_str(),
                        "exp" | "sffm" | "am" | "trnoise" | "trrandom" | "distof1" | "distof2"
                    ) =>
                {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unsupported("source waveform".into()),
                        w.clone(),
                    ));
                }
                token if is_value(token) && dc.is_none() && waveform.is_none() => {
                    dc = Some(scope.num(stmt, token)?);
                    i += 1;
                }
                other => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unexpected(" in source".into()),
                        other.text(),
                    ))
                }
            }
        }
        let dc = match (dc, &waveform) {
            (Some(dc), _) => dc,
            // ngspice uses the waveform's value at t = 0 when no DC value is given.
            (None, Some(w)) => initial_value(w),
            (None, None) => {
                self.warn(&stmt.loc, format!("{name}: no value given, DC 0 assumed"));
                0.0
            }
        };
        let source = Source { dc, waveform, ac };
        let kind = if name.starts_with('v') {
            ElementKind::VoltageSource(source)
        } else {
            ElementKind::CurrentSource(source)
        };
        self.push(stmt, scope.element_name(&name), nodes, kind)
    }

    /// `E`/`G n+ n- nc+ nc- gain` or `... POLY(n) nc1+ nc1- ... p0 p1 ...`.
    fn voltage_controlled(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let mut nodes = Self::nodes(stmt, scope, 1, 2)?;
        let (poly_dims, at) = controlled_form(stmt, 3)?;
        let dims = poly_dims.unwrap_or(1);
        nodes.extend(Self::nodes(stmt, scope, at, 2 * dims)?);
        let poly = polynomial(stmt, scope, poly_dims, &stmt.tokens[at + 2 * dims..])?;
        let kind = if name.starts_with('e') {
            ElementKind::Vcvs(poly)
        } else {
            ElementKind::Vccs(poly)
        };
        self.push(stmt, scope.element_name(&name), nodes, kind)
    }

    /// `F`/`H n+ n- vcontrol gain` or `... POLY(n) v1 ... vn p0 p1 ...`.
    fn current_controlled(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let (poly_dims, at) = controlled_form(stmt, 3)?;
        let dims = poly_dims.unwrap_or(1);
        let mut controls = Vec::with_capacity(dims);
        for k in 0..dims {
            match stmt.tokens.get(at + k) {
                Some(Token::Word(w)) if parse_number(w).is_none() => {
                    controls.push(scope.element_name(w))
                }
                other => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing(format!(
                            "controlling voltage source {} of {dims}",
                            k + 1
                        )),
                        other.map(Token::text).unwrap_or_else(|| name.clone()),
                    ))
                }
            }
        }
        let poly = polynomial(stmt, scope, poly_dims, &stmt.tokens[at + dims..])?;
        let kind = if name.starts_with('h') {
            ElementKind::Ccvs { controls, poly }
        } else {
            ElementKind::Cccs { controls, poly }
        };
        self.push(stmt, scope.element_name(&name), nodes, kind)
    }

    fn diode(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let model = model_ref(&self.circuit.models, stmt, scope, 3, &["d"])?;
        let args = Args::split(stmt, &stmt.tokens[4..])?;
        self.off_flags(stmt, &name, &args.flags)?;
        let area = if args.positional.is_empty() && args.named.iter().all(|(k, _)| k != "area") {
            1.0
        } else {
            args.single_value(stmt, scope, &["area"], "area")?
        };
        args.only(stmt, &["area"], "a diode")?;
        if area <= 0.0 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("diode area must be positive".into()),
                area.to_string(),
            ));
        }
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Diode { model, area },
        )
    }

    fn mosfet(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 4)?;
        let model = model_ref(&self.circuit.models, stmt, scope, 5, &["nmos", "pmos"])?;
        let args = Args::split(stmt, &stmt.tokens[6..])?;
        if let Some(token) = args.positional.first() {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(" in MOSFET (use w= and l=)".into()),
                token.text(),
            ));
        }
        self.off_flags(stmt, &name, &args.flags)?;
        args.only(
            stmt,
            &["w", "l", "m", "ad", "as", "pd", "ps", "nrd", "nrs"],
            "a MOSFET",
        )?;
        if let Some(m) = args.named(stmt, scope, "m")? {
            if m != 1.0 {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unsupported("multiplier m other than 1".into()),
                    m.to_string(),
                ));
            }
        }
        let w = args.named(stmt, scope, "w")?;
        let l = args.named(stmt, scope, "l")?;
        for (key, value) in [("w", w), ("l", l)] {
            if value.is_some_and(|v| v <= 0.0) {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue(format!("{key} must be positive")),
                    key,
                ));
            }
        }
        let mut geometry = MosGeometry::default();
        for (key, field) in [
            ("ad", &mut geometry.ad),
            ("as", &mut geometry.r#as),
            ("pd", &mut geometry.pd),
            ("ps", &mut geometry.ps),
            ("nrd", &mut geometry.nrd),
            ("nrs", &mut geometry.nrs),
        ] {
            *field = args.named(stmt, scope, key)?;
            if field.is_some_and(|v| v < 0.0) {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue(format!("{key} must be >= 0")),
                    key,
                ));
            }
        }
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Mosfet {
                model,
                w,
                l,
                geometry,
            },
        )
    }

    /// `Qname c b e [s] model [area] [area=..] [m=1] [off]`: the fourth
    /// word is the substrate node unless it names a BJT model (ngspice
    /// decides the same way).
    fn bjt(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        const KINDS: &[&str] = &["npn", "pnp"];
        let names_model = |index: usize| match stmt.tokens.get(index) {
            Some(Token::Word(w)) => scope
                .model(w)
                .and_then(|flat| self.circuit.models.get(flat))
                .is_some_and(|m| KINDS.contains(&m.kind.as_str())),
            _ => false,
        };
        let (mut nodes, model_at) = if names_model(4) {
            (Self::nodes(stmt, scope, 1, 3)?, 4)
        } else {
            (Self::nodes(stmt, scope, 1, 4)?, 5)
        };
        if nodes.len() == 3 {
            nodes.push("0".into());
        }
        let model = model_ref(&self.circuit.models, stmt, scope, model_at, KINDS)?;
        let args = Args::split(stmt, &stmt.tokens[model_at + 1..])?;
        self.off_flags(stmt, &name, &args.flags)?;
        args.only(stmt, &["area", "m"], "a BJT")?;
        let area = if args.positional.is_empty() && args.named.iter().all(|(k, _)| k != "area") {
            1.0
        } else {
            args.single_value(stmt, scope, &["area"], "area")?
        };
        if area <= 0.0 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("BJT area must be positive".into()),
                area.to_string(),
            ));
        }
        if let Some(m) = args.named(stmt, scope, "m")? {
            if m != 1.0 {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unsupported("multiplier m other than 1".into()),
                    m.to_string(),
                ));
            }
        }
        self.push(
            stmt,
            scope.element_name(&name),
            nodes,
            ElementKind::Bjt { model, area },
        )
    }

    /// `ymemristor <name> <n+> <n-> <model> [x0=<state>] [xo= ivrelation= rinit=
    /// temp=]` (Xyce's spelling; the last four are Xyce's instance parameters,
    /// which the model card checks).
    fn memristor(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let Some(Token::Word(name)) = stmt.tokens.get(1) else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("memristor name".into()),
                stmt.head(),
            ));
        };
        let nodes = Self::nodes(stmt, scope, 2, 2)?;
        let model = model_ref(&self.circuit.models, stmt, scope, 4, &["memristor"])?;
        let args = Args::split(stmt, &stmt.tokens[5..])?;
        args.no_flags(stmt)?;
        if let Some(token) = args.positional.first() {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(" in YMEMRISTOR".into()),
                token.text(),
            ));
        }
        args.only(stmt, &XYCE_MEMRISTOR_INSTANCE, "a memristor")?;
        let x0 = args.named(stmt, scope, "x0")?;
        let mut instance = std::collections::BTreeMap::new();
        for key in &XYCE_MEMRISTOR_INSTANCE[1..] {
            if let Some(value) = args.named(stmt, scope, key)? {
                instance.insert(key.to_string(), value);
            }
        }
        // ngspice's prefix rule with the device letter `y`: `y.x1.name` inside `x1`.
        let flat = if scope.path.is_empty() {
            name.clone()
        } else {
            format!("y.{}.{name}", scope.path)
        };
        self.push(
            stmt,
            flat,
            nodes,
            ElementKind::Memristor {
                model,
                x0,
                instance,
            },
        )
    }

    /// `Bname n+ n- V=expr` or `I=expr` (braces optional).
    fn behavioral_source(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let rest = after_words(&stmt.text, 3);
        let lower = rest.to_ascii_lowercase();
        let quantity = match lower.chars().next() {
            Some('v') => Behavior::Voltage,
            Some('i') => Behavior::Current,
            _ => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Missing("`V=expr` or `I=expr` of the B source".into()),
                    rest,
                ))
            }
        };
        let Some(body) = rest[1..].trim_start().strip_prefix('=') else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("`=` after `V`/`I` of the B source".into()),
                rest,
            ));
        };
        let expr = self.behavioral_expr(stmt, scope, body)?;
        let kind = ElementKind::Behavioral { quantity, expr };
        self.push(stmt, scope.element_name(&name), nodes, kind)
    }

    /// `E n+ n- value={expr}` / `vol={expr}` and `G n+ n- value={expr}` /
    /// `cur={expr}`: ngspice runs them as B sources; the element keeps its
    /// name (and an E its branch current `i(ename)`).
    fn expression_controlled_source(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let name = stmt.head();
        let nodes = Self::nodes(stmt, scope, 1, 2)?;
        let Some((quantity, body)) = expression_form(stmt) else {
            unreachable!("dispatched on expression_form")
        };
        let expr = self.behavioral_expr(stmt, scope, body)?;
        let kind = ElementKind::Behavioral { quantity, expr };
        self.push(stmt, scope.element_name(&name), nodes, kind)
    }

    /// Parses and resolves the expression of a behavioural element. Inner
    /// `{...}` act as parentheses (ngspice substitutes them first).
    fn behavioral_expr(&mut self, stmt: &Stmt, scope: &Scope, body: &str) -> Result<Expr> {
        let text = strip_braces(body.trim());
        let text: String = text
            .chars()
            .map(|c| match c {
                '{' => '(',
                '}' => ')',
                other => other,
            })
            .collect();
        let parsed = expr::parse(&text).map_err(|e| {
            NetlistError::new(
                &stmt.loc,
                ErrorKind::Expression(e.to_string()),
                text.clone(),
            )
        })?;
        scope.runtime(&parsed, &text, &stmt.loc)
    }

    fn directive(&mut self, stmt: &Stmt, scope: &Scope) -> Result<()> {
        let head = stmt.head();
        let rest = &stmt.tokens[1..];
        match head.as_str() {
            ".op" => {
                if let Some(token) = rest.first() {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unexpected(" after `.op`".into()),
                        token.text(),
                    ));
                }
                self.circuit.analyses.push(Analysis::Op);
            }
            ".dc" => {
                if rest.len() != 4 && rest.len() != 8 {
                    let token = rest.get(8).or(rest.last()).map(Token::text).unwrap_or(head);
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing(
                            "`.dc src start stop step [src2 start2 stop2 step2]`".into(),
                        ),
                        token,
                    ));
                }
                let inner = self.sweep(stmt, scope, &rest[..4])?;
                let outer = if rest.len() == 8 {
                    Some(self.sweep(stmt, scope, &rest[4..])?)
                } else {
                    None
                };
                self.circuit.analyses.push(Analysis::Dc { inner, outer });
            }
            ".tran" => self.tran(stmt, scope, rest)?,
            ".ac" => self.ac(stmt, scope, rest)?,
            ".temp" => {
                let value = match rest {
                    [value] => value,
                    [] => {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::BadValue("`.temp` needs a temperature".into()),
                            head,
                        ))
                    }
                    [_, second, ..] => {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Unsupported(
                                "`.temp` with several temperatures (one run per deck)".into(),
                            ),
                            second.text(),
                        ))
                    }
                };
                let t = scope.num(stmt, value)?;
                if !t.is_finite() || t <= -273.15 {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::BadValue("temperature must be above -273.15 °C".into()),
                        value.text(),
                    ));
                }
                self.circuit.options.insert("temp".into(), t);
            }
            ".options" | ".option" | ".opt" => self.options(stmt, scope, rest)?,
            ".save" => {
                let vectors = self.vectors(stmt, rest)?;
                self.circuit.saves.extend(vectors);
                // `.save all ...` keeps every vector, as in ngspice.
                self.save_all |= rest.contains(&Token::Word("all".into()));
            }
            ".meas" | ".measure" => {
                let context = DeckMeasures {
                    elab: self,
                    scope,
                    stmt,
                };
                let measure = measure::parse(&stmt.loc, &stmt.text, rest, &context)?;
                self.circuit.measures.push(measure);
            }
            ".print" | ".plot" => {
                let rest = match rest.first() {
                    Some(Token::Word(w))
                        if matches!(
                            w.as_str(),
                            "op" | "dc" | "tran" | "ac" | "noise" | "disto" | "tf"
                        ) =>
                    {
                        &rest[1..]
                    }
                    _ => rest,
                };
                let vectors = self.vectors(stmt, rest)?;
                self.circuit.prints.extend(vectors);
            }
            // `.width` only sets the width of ngspice's printed tables, and
            // ngspice 39 writes every vector whatever `.probe` asks for.
            ".width" | ".probe" => {}
            ".ic" | ".nodeset" => {
                let values = self.node_values(stmt, scope, rest)?;
                if head == ".ic" {
                    self.circuit.initial_conditions.extend(values);
                } else {
                    self.circuit.nodesets.extend(values);
                }
            }
            _ => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::UnknownDirective,
                    head,
                ))
            }
        }
        Ok(())
    }

    /// `v(node)=value ...` of `.ic` and `.nodeset`.
    fn node_values(
        &self,
        stmt: &Stmt,
        scope: &Scope,
        tokens: &[Token],
    ) -> Result<Vec<(String, f64)>> {
        let mut out = Vec::new();
        let mut rest = tokens;
        while !rest.is_empty() {
            let [Token::Word(v), Token::LParen, Token::Word(node), Token::RParen, Token::Eq, value, tail @ ..] =
                rest
            else {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(": expected `v(node)=value`".into()),
                    rest[0].text(),
                ));
            };
            if v != "v" {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unsupported(format!(
                        "`{v}(...)` in {} (only node voltages v(node))",
                        stmt.head()
                    )),
                    v.clone(),
                ));
            }
            self.checked_voltage(stmt, node, None)?;
            if node == "0" || node == "gnd" {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue("ground's voltage is 0 by definition".into()),
                    format!("v({node})"),
                ));
            }
            out.push((node.clone(), scope.num(stmt, value)?));
            rest = tail;
        }
        if out.is_empty() {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("`v(node)=value`".into()),
                stmt.head(),
            ));
        }
        Ok(out)
    }

    fn sweep(&self, stmt: &Stmt, scope: &Scope, tokens: &[Token]) -> Result<Sweep> {
        let Token::Word(source) = &tokens[0] else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("source name".into()),
                tokens[0].text(),
            ));
        };
        let is_source = self.circuit.elements.iter().any(|e| {
            e.name == *source
                && matches!(
                    e.kind,
                    ElementKind::VoltageSource(_) | ElementKind::CurrentSource(_)
                )
        });
        if !is_source {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::NoSuch("independent source to sweep".into()),
                source.clone(),
            ));
        }
        let start = scope.num(stmt, &tokens[1])?;
        let stop = scope.num(stmt, &tokens[2])?;
        let step = scope.num(stmt, &tokens[3])?;
        if step == 0.0 || (stop - start) / step < 0.0 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("sweep step is zero or goes away from the stop value".into()),
                tokens[3].text(),
            ));
        }
        if (stop - start) / step > 1e8 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue("more than 1e8 sweep points".into()),
                tokens[3].text(),
            ));
        }
        Ok(Sweep {
            source: source.clone(),
            start,
            stop,
            step,
        })
    }

    fn tran(&mut self, stmt: &Stmt, scope: &Scope, rest: &[Token]) -> Result<()> {
        let mut values = Vec::new();
        let mut uic = false;
        for token in rest {
            match token {
                Token::Word(w) if w == "uic" => uic = true,
                token if is_value(token) && !uic && values.len() < 4 => {
                    values.push(scope.num(stmt, token)?)
                }
                other => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unexpected(" in `.tran`".into()),
                        other.text(),
                    ))
                }
            }
        }
        if values.len() < 2 {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing("`.tran tstep tstop`".into()),
                ".tran",
            ));
        }
        let (tstep, tstop) = (values[0], values[1]);
        let tstart = values.get(2).copied().unwrap_or(0.0);
        let tmax = values.get(3).copied();
        let bad = |why: &str, token: &Token| {
            Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue(why.into()),
                token.text(),
            ))
        };
        if tstep <= 0.0 {
            return bad("tstep must be positive", &rest[0]);
        }
        if tstop <= 0.0 {
            return bad("tstop must be positive", &rest[1]);
        }
        if tstart < 0.0 || tstart >= tstop {
            return bad("tstart must be in [0, tstop)", &rest[2]);
        }
        if tmax.is_some_and(|t| t <= 0.0) {
            return bad("tmax must be positive", &rest[3]);
        }
        self.circuit.analyses.push(Analysis::Tran {
            tstep,
            tstop,
            tstart,
            tmax,
            uic,
        });
        Ok(())
    }

    /// `.ac dec|oct|lin points fstart fstop`.
    fn ac(&mut self, stmt: &Stmt, scope: &Scope, rest: &[Token]) -> Result<()> {
        let usage = "`.ac dec|oct|lin points fstart fstop`";
        let [Token::Word(kind), points, fstart, fstop] = rest else {
            let token = rest
                .get(4)
                .or(rest.last())
                .map(Token::text)
                .unwrap_or(".ac".into());
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing(usage.into()),
                token,
            ));
        };
        let scale = match kind.as_str() {
            "dec" => AcScale::Dec,
            "oct" => AcScale::Oct,
            "lin" => AcScale::Lin,
            _ => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue("sweep type must be dec, oct or lin".into()),
                    kind.clone(),
                ))
            }
        };
        let bad = |why: &str, token: &Token| {
            NetlistError::new(&stmt.loc, ErrorKind::BadValue(why.into()), token.text())
        };
        let n = scope.num(stmt, points)?;
        if !(n >= 1.0 && n.fract() == 0.0 && n <= 1e7) {
            return Err(bad("number of points must be a positive integer", points));
        }
        let (f0, f1) = (scope.num(stmt, fstart)?, scope.num(stmt, fstop)?);
        if !(f0.is_finite() && f0 >= 0.0) || (scale != AcScale::Lin && f0 <= 0.0) {
            return Err(bad("fstart must be > 0 (>= 0 for a linear sweep)", fstart));
        }
        if !f1.is_finite() || f1 < f0 {
            return Err(bad("fstop must be finite and >= fstart", fstop));
        }
        self.circuit.analyses.push(Analysis::Ac(AcSweep {
            scale,
            points: n as usize,
            fstart: f0,
            fstop: f1,
        }));
        Ok(())
    }

    fn options(&mut self, stmt: &Stmt, scope: &Scope, rest: &[Token]) -> Result<()> {
        let mut i = 0;
        while i < rest.len() {
            let Token::Word(name) = &rest[i] else {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(" in `.options`".into()),
                    rest[i].text(),
                ));
            };
            let value = if rest.get(i + 1) == Some(&Token::Eq) {
                let Some(value) = rest.get(i + 2) else {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing(format!("value of option `{name}`")),
                        name.clone(),
                    ));
                };
                i += 3;
                Some(value)
            } else {
                i += 1;
                None
            };
            match (name.as_str(), value) {
                ("method", Some(value)) => {
                    self.circuit.method = match value {
                        Token::Word(w) if w == "trap" || w == "trapezoidal" => {
                            IntegrationMethod::Trapezoidal
                        }
                        Token::Word(w) if w == "gear" => IntegrationMethod::Gear,
                        other => {
                            return Err(NetlistError::new(
                                &stmt.loc,
                                ErrorKind::BadValue("method must be trap or gear".into()),
                                other.text(),
                            ))
                        }
                    }
                }
                (option, Some(value)) if NUMERIC_OPTIONS.contains(&option) => {
                    let number = scope.num(stmt, value)?;
                    if matches!(option, "temp" | "tnom") && number != 27.0 {
                        self.warn(
                            &stmt.loc,
                            format!(
                                "option `{option}={number}` ignored: xbar evaluates devices at 27 °C"
                            ),
                        );
                    }
                    self.circuit.options.insert(name.clone(), number);
                }
                (option, _) if NGSPICE_OPTIONS.contains(&option) => self.warn(
                    &stmt.loc,
                    format!("ngspice option `{option}` has no effect in xbar; ignored"),
                ),
                _ => self.warn(&stmt.loc, format!("unknown option `{name}` ignored")),
            }
        }
        Ok(())
    }

    /// Output vectors of `.save`/`.print`: `v(n)`, `v(a,b)`, `i(vname)`,
    /// `x(name)`, a bare node name, or `all`.
    fn vectors(&self, stmt: &Stmt, tokens: &[Token]) -> Result<Vec<OutputVector>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let Token::Word(word) = &tokens[i] else {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(" in output list".into()),
                    tokens[i].text(),
                ));
            };
            if tokens.get(i + 1) != Some(&Token::LParen) {
                i += 1;
                if word == "all" {
                    continue;
                }
                if word.starts_with('@') {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unsupported("device parameter vector".into()),
                        word.clone(),
                    ));
                }
                out.push(self.checked_voltage(stmt, word, None)?);
                continue;
            }
            let close = tokens[i..]
                .iter()
                .position(|t| *t == Token::RParen)
                .map(|p| p + i);
            let Some(close) = close else {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Missing("`)`".into()),
                    format!("{word}("),
                ));
            };
            let mut args = Vec::new();
            for token in &tokens[i + 2..close] {
                match token {
                    Token::Word(w) => args.push(w.clone()),
                    other => {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Unexpected(" in output vector".into()),
                            other.text(),
                        ))
                    }
                }
            }
            let text = format!("{word}({})", args.join(","));
            let vector = match (word.as_str(), args.as_slice()) {
                ("v", [a]) => self.checked_voltage(stmt, a, None)?,
                ("v", [a, b]) => self.checked_voltage(stmt, a, Some(b))?,
                ("i", [name]) => {
                    let ok = self.circuit.elements.iter().any(|e| {
                        e.name == *name
                            && (e.kind.has_branch_current()
                                || matches!(e.kind, ElementKind::Memristor { .. }))
                    });
                    if !ok {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::NoSuch(
                                "voltage source, B/E/H source, inductor or memristor".into(),
                            ),
                            text,
                        ));
                    }
                    OutputVector::Current(name.clone())
                }
                ("x", [name]) => {
                    let ok = self.circuit.elements.iter().any(|e| {
                        e.name == *name && matches!(e.kind, ElementKind::Memristor { .. })
                    });
                    if !ok {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::NoSuch("memristor".into()),
                            text,
                        ));
                    }
                    OutputVector::State(name.clone())
                }
                _ => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unsupported("output vector".into()),
                        text,
                    ))
                }
            };
            out.push(vector);
            i = close + 1;
        }
        Ok(out)
    }

    fn checked_voltage(&self, stmt: &Stmt, a: &str, b: Option<&String>) -> Result<OutputVector> {
        let canonical = |n: &str| {
            if n == "gnd" {
                "0".to_string()
            } else {
                n.to_string()
            }
        };
        let a = canonical(a);
        let b = b.map(|b| canonical(b));
        for node in std::iter::once(&a).chain(b.as_ref()) {
            if node != "0" && !self.nodes.contains(node) {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::NoSuch("node".into()),
                    node.clone(),
                ));
            }
        }
        Ok(OutputVector::Voltage(a, b))
    }
}

/// The text after the first `n` whitespace-separated words of `line`.
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

/// The expression form of an E or G line (`value=`, E's `vol=`, G's
/// `cur=`; the `=` may be left out before `{`): what it sets and the
/// expression text. `None` for the linear forms.
fn expression_form(stmt: &Stmt) -> Option<(Behavior, &str)> {
    let rest = after_words(&stmt.text, 3);
    let lower = rest.to_ascii_lowercase();
    let (keyword, quantity) = match stmt.head().chars().next() {
        Some('e') => (["value", "vol"], Behavior::Voltage),
        _ => (["value", "cur"], Behavior::Current),
    };
    for key in keyword {
        if let Some(after) = lower.strip_prefix(key) {
            let skipped = after.len() - after.trim_start().len();
            let after = after.trim_start();
            let body = &rest[key.len() + skipped..];
            if let Some(body) = body.strip_prefix('=') {
                return Some((quantity, body));
            }
            if after.starts_with('{') || after.starts_with('\'') {
                return Some((quantity, body));
            }
        }
    }
    None
}

/// The form of a controlled source from token `at` on: `POLY(n)` gives
/// `n` controlling quantities, anything else is the plain one-dimensional
/// form. Returns the dimension and where the controls start. The
/// behavioural forms (`value=`, `vol=`, `cur=`, `table`, `laplace`, ...)
/// are refused by name.
fn controlled_form(stmt: &Stmt, at: usize) -> Result<(Option<usize>, usize)> {
    let tokens = &stmt.tokens;
    match (tokens.get(at), tokens.get(at + 1)) {
        (Some(Token::Word(w)), Some(Token::LParen)) if w == "poly" => {
            let dims = match (tokens.get(at + 2), tokens.get(at + 3)) {
                (Some(Token::Word(n)), Some(Token::RParen)) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|&d| (1..=MAX_POLY_DIMS).contains(&d)),
                _ => None,
            };
            let Some(dims) = dims else {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue(format!(
                        "POLY(n) needs an integer dimension from 1 to {MAX_POLY_DIMS}"
                    )),
                    tokens.get(at + 2).map(Token::text).unwrap_or_default(),
                ));
            };
            Ok((Some(dims), at + 4))
        }
        (Some(Token::Word(w)), next)
            if matches!(
                w.as_str(),
                "value"
                    | "vol"
                    | "cur"
                    | "table"
                    | "laplace"
                    | "freq"
                    | "and"
                    | "or"
                    | "nand"
                    | "nor"
                    | "poly"
            ) || (next == Some(&Token::Eq) && !w.is_empty()) =>
        {
            Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unsupported(format!(
                    "controlled-source form `{w}` (supported: the linear form and POLY(n))"
                )),
                w.clone(),
            ))
        }
        _ => Ok((None, at)),
    }
}

/// Controlled sources of more dimensions than this are refused (the
/// number of terms grows combinatorially).
const MAX_POLY_DIMS: usize = 20;

/// The coefficients after a controlled source's controls: exactly one gain
/// in the plain form; p0, p1, ... after `POLY(n)` (at least one).
fn polynomial(
    stmt: &Stmt,
    scope: &Scope,
    poly_dims: Option<usize>,
    tokens: &[Token],
) -> Result<Polynomial> {
    let is_poly = poly_dims.is_some();
    let dims = poly_dims.unwrap_or(1);
    let mut coeffs = Vec::with_capacity(tokens.len() + 1);
    if !is_poly {
        coeffs.push(0.0);
    }
    for token in tokens {
        if !is_value(token) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(if is_poly {
                    ": expected a POLY coefficient".into()
                } else {
                    ": expected the gain".into()
                }),
                token.text(),
            ));
        }
        coeffs.push(scope.num(stmt, token)?);
    }
    let given = coeffs.len() - usize::from(!is_poly);
    if given == 0 {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Missing(if is_poly {
                "POLY coefficients".into()
            } else {
                "gain".into()
            }),
            stmt.head(),
        ));
    }
    if !is_poly && given > 1 {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::BadValue(
                "the linear form takes one gain (several coefficients need POLY(n))".into(),
            ),
            tokens[1].text(),
        ));
    }
    Ok(Polynomial {
        dims,
        coeffs,
        written_as_poly: is_poly,
    })
}

fn set_once(stmt: &Stmt, slot: &mut Option<f64>, value: f64, what: &str) -> Result<()> {
    if slot.is_some() {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Duplicate(format!("{what} value")),
            what,
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn is_value(token: &Token) -> bool {
    match token {
        Token::Word(w) => parse_number(w).is_some(),
        Token::Expr(_) => true,
        _ => false,
    }
}

/// Values of a waveform: `name(v1 v2 ...)` or `name v1 v2 ...`. Returns the
/// values and the index after them.
fn waveform_args(
    stmt: &Stmt,
    scope: &Scope,
    tokens: &[Token],
    start: usize,
) -> Result<(Vec<f64>, usize)> {
    let mut values = Vec::new();
    if tokens.get(start) == Some(&Token::LParen) {
        let mut i = start + 1;
        loop {
            match tokens.get(i) {
                Some(Token::RParen) => return Ok((values, i + 1)),
                Some(token) => values.push(scope.num(stmt, token)?),
                None => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing("`)` closing the waveform".into()),
                        stmt.head(),
                    ))
                }
            }
            i += 1;
        }
    }
    let mut i = start;
    while i < tokens.len() && is_value(&tokens[i]) {
        values.push(scope.num(stmt, &tokens[i])?);
        i += 1;
    }
    Ok((values, i))
}

fn build_waveform(stmt: &Stmt, kind: &str, v: &[f64]) -> Result<Waveform> {
    let count = |min: usize, max: usize| {
        if v.len() < min || v.len() > max {
            Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadValue(format!(
                    "{kind} takes {min} to {max} values, got {}",
                    v.len()
                )),
                kind,
            ))
        } else {
            Ok(())
        }
    };
    let opt = |k: usize| v.get(k).copied();
    match kind {
        "pulse" => {
            count(2, 7)?;
            for (k, what) in [
                (3, "rise time"),
                (4, "fall time"),
                (5, "pulse width"),
                (6, "period"),
            ] {
                if opt(k).is_some_and(|x| x < 0.0) {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::BadValue(format!("negative {what}")),
                        kind,
                    ));
                }
            }
            Ok(Waveform::Pulse {
                v1: v[0],
                v2: v[1],
                td: opt(2),
                tr: opt(3),
                tf: opt(4),
                pw: opt(5),
                per: opt(6),
            })
        }
        "pwl" => {
            if v.len() < 2 || v.len() % 2 != 0 {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue("pwl needs time-value pairs".into()),
                    kind,
                ));
            }
            let points: Vec<(f64, f64)> = v.chunks_exact(2).map(|p| (p[0], p[1])).collect();
            if points.windows(2).any(|w| w[1].0 < w[0].0) || points[0].0 < 0.0 {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::BadValue("pwl times must be non-negative and non-decreasing".into()),
                    kind,
                ));
            }
            Ok(Waveform::Pwl(points))
        }
        _ => {
            count(2, 6)?;
            Ok(Waveform::Sin {
                vo: v[0],
                va: v[1],
                freq: opt(2),
                td: opt(3),
                theta: opt(4),
                phase: opt(5),
            })
        }
    }
}

/// The waveform's value at t = 0, which ngspice uses as the DC value of a
/// source given without one.
fn initial_value(waveform: &Waveform) -> f64 {
    match waveform {
        Waveform::Pulse { v1, .. } => *v1,
        Waveform::Pwl(points) => points[0].1,
        Waveform::Sin { vo, va, phase, .. } => vo + va * phase.unwrap_or(0.0).to_radians().sin(),
    }
}

/// A model reference at `index`: must name a visible model of one of `kinds`.
fn model_ref(
    models: &std::collections::BTreeMap<String, Model>,
    stmt: &Stmt,
    scope: &Scope,
    index: usize,
    kinds: &[&str],
) -> Result<String> {
    let Some(Token::Word(name)) = stmt.tokens.get(index) else {
        let token = stmt
            .tokens
            .get(index)
            .map(Token::text)
            .unwrap_or_else(|| stmt.head());
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Missing("model name".into()),
            token,
        ));
    };
    let Some(model) = scope.model(name).and_then(|flat| models.get(flat)) else {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::UnknownModel,
            name.clone(),
        ));
    };
    if !kinds.contains(&model.kind.as_str()) {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::WrongModelType(format!("`{}`, expected {}", model.kind, kinds.join(" or "))),
            name.clone(),
        ));
    }
    Ok(model.name.clone())
}

/// Instance parameters a `YMEMRISTOR` line takes: xbar's `x0` first, then
/// Xyce's (`xo` of levels 3 and 4, `ivrelation` of level 2, `rinit` and
/// `temp` of Knowm's level 5).
const XYCE_MEMRISTOR_INSTANCE: [&str; 5] = ["x0", "xo", "ivrelation", "rinit", "temp"];

/// `.model name type [(] p=v ... [)]`
fn model_card(stmt: &Stmt, scope: &Scope) -> Result<Model> {
    let (Some(Token::Word(name)), Some(Token::Word(kind))) =
        (stmt.tokens.get(1), stmt.tokens.get(2))
    else {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Missing("`.model name type`".into()),
            stmt.head(),
        ));
    };
    if !matches!(
        kind.as_str(),
        "d" | "nmos" | "pmos" | "npn" | "pnp" | "memristor" | "r" | "res"
    ) {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Unsupported(
                "model type (supported: d nmos pmos npn pnp memristor r)".into(),
            ),
            kind.clone(),
        ));
    }
    let tokens: Vec<&Token> = stmt.tokens[3..]
        .iter()
        .filter(|t| !matches!(t, Token::LParen | Token::RParen))
        .collect();
    let mut params = std::collections::BTreeMap::new();
    let mut words = std::collections::BTreeMap::new();
    let mut i = 0;
    while i < tokens.len() {
        let (Token::Word(key), Some(Token::Eq), Some(value)) =
            (tokens[i], tokens.get(i + 1), tokens.get(i + 2))
        else {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(": expected `name=value`".into()),
                tokens[i].text(),
            ));
        };
        if params.contains_key(key) || words.contains_key(key) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Duplicate("model parameter".into()),
                key.clone(),
            ));
        }
        match value {
            // Word values (`version=3.3.0`, `model=vteam`) are kept as words:
            // the device that reads the card decides whether it accepts
            // them, so a BSIM card is refused for its level, not for its
            // version string.
            Token::Word(w) if parse_number(w).is_none() => {
                words.insert(key.clone(), w.clone());
            }
            token => {
                params.insert(key.clone(), scope.num(stmt, token)?);
            }
        }
        i += 3;
    }
    if matches!(kind.as_str(), "nmos" | "pmos") {
        let level = params.get("level").copied().unwrap_or(1.0);
        if let Some(what) = unsupported_mosfet_level(level) {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::UnsupportedLevel(what),
                "level",
            ));
        }
    }
    Ok(Model {
        name: name.clone(),
        kind: kind.clone(),
        params,
        words,
        loc: stmt.loc.clone(),
    })
}

/// `None` for the MOSFET levels xbar implements (1, 2 and 3), else how to
/// name the level in an error: `MOSFET level 49 (BSIM3)`.
pub fn unsupported_mosfet_level(level: f64) -> Option<String> {
    if [1.0, 2.0, 3.0].contains(&level) {
        return None;
    }
    let family = match level as i64 {
        _ if level.fract() != 0.0 => None,
        4 => Some("BSIM1"),
        5 => Some("BSIM2"),
        6 => Some("MOS6"),
        7 => Some("MOS3 with BSIM-style parameters"),
        8 | 49 => Some("BSIM3"),
        9 => Some("MOS9"),
        10 | 58 => Some("B4SOI"),
        14 | 54 => Some("BSIM4"),
        44 => Some("EKV"),
        45 => Some("PSP"),
        55..=57 | 60 => Some("BSIM-SOI"),
        62 => Some("STAG SOI"),
        68 | 69 | 73 => Some("HiSIM"),
        _ => None,
    };
    Some(match family {
        Some(name) => format!("MOSFET level {level} ({name})"),
        None => format!("MOSFET level {level}"),
    })
}

/// Positional values, `key=value` pairs and bare flags after an element's
/// nodes and model.
struct Args<'t> {
    positional: Vec<&'t Token>,
    named: Vec<(String, &'t Token)>,
    flags: Vec<String>,
}

impl<'t> Args<'t> {
    fn split(stmt: &Stmt, tokens: &'t [Token]) -> Result<Self> {
        let mut args = Args {
            positional: Vec::new(),
            named: Vec::new(),
            flags: Vec::new(),
        };
        let mut i = 0;
        while i < tokens.len() {
            match (&tokens[i], tokens.get(i + 1)) {
                (Token::Word(key), Some(Token::Eq)) => {
                    let Some(value) = tokens.get(i + 2) else {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Missing(format!("value of `{key}`")),
                            key.clone(),
                        ));
                    };
                    if args.named.iter().any(|(k, _)| k == key) {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::Duplicate("parameter".into()),
                            key.clone(),
                        ));
                    }
                    args.named.push((key.clone(), value));
                    i += 3;
                }
                (token, _) if is_value(token) => {
                    args.positional.push(token);
                    i += 1;
                }
                (Token::Word(w), _)
                    if w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) =>
                {
                    args.flags.push(w.clone());
                    i += 1;
                }
                (Token::Word(w), _) => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::BadNumber,
                        w.clone(),
                    ))
                }
                (other, _) => {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Unexpected(String::new()),
                        other.text(),
                    ))
                }
            }
        }
        Ok(args)
    }

    /// Elements without flags read a stray word as a malformed value.
    fn no_flags(&self, stmt: &Stmt) -> Result<()> {
        match self.flags.first() {
            Some(flag) => Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::BadNumber,
                flag.clone(),
            )),
            None => Ok(()),
        }
    }

    /// The one value given either positionally or as one of `keys`.
    fn single_value(&self, stmt: &Stmt, scope: &Scope, keys: &[&str], what: &str) -> Result<f64> {
        let named: Vec<&Token> = self
            .named
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| *v)
            .collect();
        match (self.positional.as_slice(), named.as_slice()) {
            ([token], []) | ([], [token]) => scope.num(stmt, token),
            ([], []) => Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Missing(what.into()),
                stmt.head(),
            )),
            (positional, _) => {
                let extra = positional
                    .get(1)
                    .or(positional.first())
                    .map(|t| t.text())
                    .unwrap_or_default();
                Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(format!(": more than one {what}")),
                    extra,
                ))
            }
        }
    }

    /// The value given positionally or as one of `keys` when it is an
    /// expression of simulation quantities (`{V(c)*1k}`), with its text.
    fn runtime_value(&self, stmt: &Stmt, keys: &[&str]) -> Result<Option<(Expr, String)>> {
        let named = self
            .named
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| *v);
        let Some(Token::Expr(text)) = self.positional.iter().copied().chain(named).next() else {
            return Ok(None);
        };
        let expr = expr::parse(text).map_err(|e| {
            NetlistError::new(
                &stmt.loc,
                ErrorKind::Expression(e.to_string()),
                text.clone(),
            )
        })?;
        if !expr.is_runtime() {
            return Ok(None);
        }
        if self.positional.len()
            + self
                .named
                .iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .count()
            > 1
        {
            return Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::Unexpected(": more than one value".into()),
                text.clone(),
            ));
        }
        Ok(Some((expr, text.clone())))
    }

    fn named(&self, stmt: &Stmt, scope: &Scope, key: &str) -> Result<Option<f64>> {
        match self.named.iter().find(|(k, _)| k == key) {
            Some((_, token)) => scope.num(stmt, token).map(Some),
            None => Ok(None),
        }
    }

    /// Rejects named parameters outside `allowed`.
    fn only(&self, stmt: &Stmt, allowed: &[&str], what: &str) -> Result<()> {
        match self
            .named
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((key, _)) => Err(NetlistError::new(
                &stmt.loc,
                ErrorKind::UnknownParameter(format!(" for {what}")),
                key.clone(),
            )),
            None => Ok(()),
        }
    }
}

/// `.meas` values are deck expressions; its vectors must be the circuit's.
struct DeckMeasures<'e, 's, 'a> {
    elab: &'e Elaborator,
    scope: &'s Scope<'a>,
    stmt: &'e Stmt,
}

impl MeasContext for DeckMeasures<'_, '_, '_> {
    /// A number, an expression or (as ngspice's numparam allows in `.meas`
    /// lines) a bare parameter name.
    fn value(&self, token: &Token) -> Result<f64> {
        measure_value(self.scope, self.stmt, token)
    }

    fn vector(&self, name: &str, args: &[String]) -> Result<String> {
        let mut tokens = vec![Token::Word(name.to_string())];
        if !args.is_empty() {
            tokens.push(Token::LParen);
            tokens.extend(args.iter().map(|a| Token::Word(a.clone())));
            tokens.push(Token::RParen);
        }
        let vectors = self.elab.vectors(self.stmt, &tokens)?;
        match vectors.as_slice() {
            [vector] => Ok(vector.to_string()),
            _ => Err(NetlistError::new(
                &self.stmt.loc,
                ErrorKind::Missing("vector".into()),
                name,
            )),
        }
    }

    fn expression(&self, token: &Token) -> Result<(Expr, String)> {
        param_expression(self.stmt, token)
    }
}

/// A deck's view for `.control` commands: the elaborated circuit's nodes,
/// elements and top-level parameters.
fn command_scope<'a>(circuit: &Circuit, body: &'a Body) -> (Elaborator, Scope<'a>) {
    let mut nodes = BTreeSet::new();
    let mut element_names = HashSet::new();
    for element in &circuit.elements {
        nodes.extend(element.nodes.iter().filter(|n| *n != "0").cloned());
        element_names.insert(element.name.clone());
    }
    let elab = Elaborator {
        circuit: Circuit {
            elements: circuit.elements.clone(),
            ..Circuit::default()
        },
        element_names,
        nodes,
        save_all: false,
        max_elements: Limits::default().max_elements,
    };
    let scope = Scope {
        parent: None,
        body,
        defs: circuit
            .params
            .iter()
            .map(|(name, value)| (name.clone(), Def::Value(*value)))
            .collect(),
        state: RefCell::new(HashMap::new()),
        models: HashMap::new(),
        pins: HashMap::new(),
        path: String::new(),
        active: Vec::new(),
    };
    (elab, scope)
}

fn command_stmt(loc: &SourceLoc, text: &str) -> Result<Stmt> {
    let line = crate::lexer::LogicalLine {
        loc: loc.clone(),
        text: text.to_string(),
    };
    Ok(Stmt {
        loc: loc.clone(),
        tokens: crate::lexer::tokenize(&line)?,
        text: text.to_string(),
    })
}

/// An analysis command of a `.control` block (`op`, `dc ...`, `tran ...`),
/// checked as the dot analysis of the same text would be.
pub fn control_analysis(circuit: &Circuit, loc: &SourceLoc, text: &str) -> Result<Analysis> {
    let body = Body::default();
    let (mut elab, scope) = command_scope(circuit, &body);
    let stmt = command_stmt(loc, &format!(".{}", text.trim()))?;
    elab.directive(&stmt, &scope)?;
    elab.circuit.analyses.pop().ok_or_else(|| {
        NetlistError::new(loc, ErrorKind::Unsupported("analysis command".into()), text)
    })
}

/// The `meas` command of a `.control` block. Vectors are taken by name
/// (they may be made by `let`) and resolved when the measurement runs.
pub fn control_measure(circuit: &Circuit, loc: &SourceLoc, text: &str) -> Result<measure::Measure> {
    let body = Body::default();
    let (_, scope) = command_scope(circuit, &body);
    let stmt = command_stmt(loc, text)?;
    let context = ControlMeasures {
        scope: &scope,
        stmt: &stmt,
    };
    measure::parse(loc, text, &stmt.tokens[1..], &context)
}

struct ControlMeasures<'s, 'a> {
    scope: &'s Scope<'a>,
    stmt: &'s Stmt,
}

impl MeasContext for ControlMeasures<'_, '_> {
    fn value(&self, token: &Token) -> Result<f64> {
        measure_value(self.scope, self.stmt, token)
    }

    fn vector(&self, name: &str, args: &[String]) -> Result<String> {
        Ok(if args.is_empty() {
            name.to_string()
        } else {
            format!("{name}({})", args.join(","))
        })
    }

    fn expression(&self, token: &Token) -> Result<(Expr, String)> {
        param_expression(self.stmt, token)
    }
}

/// The expression of a `PARAM=` measurement (quoted, braced or bare).
fn param_expression(stmt: &Stmt, token: &Token) -> Result<(Expr, String)> {
    let text = match token {
        Token::Expr(text) | Token::Word(text) => text.clone(),
        other => other.text(),
    };
    let expr = expr::parse(&text).map_err(|e| {
        NetlistError::new(
            &stmt.loc,
            ErrorKind::Expression(e.to_string()),
            token.text(),
        )
    })?;
    Ok((expr, text))
}

fn measure_value(scope: &Scope, stmt: &Stmt, token: &Token) -> Result<f64> {
    if let Token::Word(word) = token {
        if parse_number(word).is_none() && scope.defs.contains_key(word.as_str()) {
            return scope.param(word, &stmt.loc);
        }
    }
    scope.num(stmt, token)
}

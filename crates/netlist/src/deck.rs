//! The deck's structure before elaboration: which statements belong to which
//! `.subckt`, the `.param` definitions and `.model` cards of each body, and
//! the top-level directives.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::circuit::{Diagnostic, SourceLoc};
use crate::error::{ErrorKind, NetlistError};
use crate::expr::{self, Expr};
use crate::lexer::{tokenize, Lines, Token};
use crate::number::parse_number;

/// A tokenized logical line.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub loc: SourceLoc,
    pub tokens: Vec<Token>,
    /// The logical line as written (original case), for the constructs whose
    /// expressions are not split into tokens (`B ... V=expr`, `.func`).
    pub text: String,
}

impl Stmt {
    /// The first token's text (element name or directive), for messages.
    pub fn head(&self) -> String {
        self.tokens.first().map(Token::text).unwrap_or_default()
    }
}

/// `name = expression` from `.param`, a `.subckt` header or an `X` line.
#[derive(Debug, Clone)]
pub struct ParamDef {
    pub name: String,
    pub expr: Expr,
    /// The expression as written, for messages.
    pub text: String,
    pub loc: SourceLoc,
}

/// `.func name(args) = {body}`.
#[derive(Debug, Clone)]
pub struct FuncDef {
    pub name: String,
    pub args: Vec<String>,
    pub body: Expr,
    pub loc: SourceLoc,
}

/// The contents of the top level or of one `.subckt`.
#[derive(Debug, Default)]
pub struct Body {
    /// Element lines (including `X` instances) in deck order.
    pub elements: Vec<Stmt>,
    pub params: Vec<ParamDef>,
    pub funcs: Vec<FuncDef>,
    pub models: Vec<Stmt>,
    pub subckts: BTreeMap<String, Rc<SubcktDef>>,
}

#[derive(Debug)]
pub struct SubcktDef {
    pub name: String,
    pub pins: Vec<String>,
    pub params: Vec<ParamDef>,
    pub body: Body,
    pub loc: SourceLoc,
}

/// Directives that only make sense at the top level, in deck order.
#[derive(Debug)]
pub struct Deck {
    pub title: String,
    pub body: Body,
    pub directives: Vec<Stmt>,
    pub warnings: Vec<Diagnostic>,
}

const TOP_LEVEL_DIRECTIVES: &[&str] = &[
    ".op", ".dc", ".tran", ".options", ".option", ".opt", ".save", ".print",
];

/// Directives of ngspice (or other SPICEs) that xbar does not implement: an
/// error rather than a silently different simulation.
const UNSUPPORTED_DIRECTIVES: &[&str] = &[
    ".ac", ".tf", ".noise", ".four", ".meas", ".measure", ".ic", ".nodeset", ".temp", ".lib",
    ".endl", ".global", ".csparam", ".sens", ".disto", ".pz", ".sp", ".width", ".probe", ".plot",
    ".if", ".else", ".endif", ".step", ".data", ".endd",
];

struct Open {
    name: String,
    pins: Vec<String>,
    params: Vec<ParamDef>,
    body: Body,
    loc: SourceLoc,
}

/// Groups the logical lines into bodies and directives.
pub fn structure(lines: Lines) -> Result<Deck, NetlistError> {
    let mut top = Body::default();
    let mut open: Vec<Open> = Vec::new();
    let mut directives = Vec::new();
    let mut warnings = Vec::new();
    let mut in_control: Option<SourceLoc> = None;
    let mut title = lines.title;

    for line in lines.lines {
        let tokens = tokenize(&line)?;
        let Some(Token::Word(head)) = tokens.first().cloned() else {
            let token = tokens.first().map(Token::text).unwrap_or_default();
            return Err(NetlistError::new(
                &line.loc,
                ErrorKind::Unexpected(" at the start of a line".into()),
                token,
            ));
        };
        if in_control.is_some() {
            if head == ".endc" {
                in_control = None;
            }
            continue;
        }
        if head == ".title" {
            title = line.text.trim()[".title".len()..].trim().to_string();
            continue;
        }
        let stmt = Stmt {
            loc: line.loc.clone(),
            tokens,
            text: line.text.clone(),
        };
        let body = match open.last_mut() {
            Some(o) => &mut o.body,
            None => &mut top,
        };
        if !head.starts_with('.') {
            body.elements.push(stmt);
            continue;
        }
        match head.as_str() {
            ".subckt" => open.push(subckt_header(&stmt)?),
            ".ends" => {
                let Some(done) = open.pop() else {
                    return Err(NetlistError::new(&stmt.loc, ErrorKind::UnmatchedEnds, head));
                };
                if let Some(Token::Word(name)) = stmt.tokens.get(1) {
                    if *name != done.name {
                        return Err(NetlistError::new(
                            &stmt.loc,
                            ErrorKind::EndsMismatch(format!("`{}`", done.name)),
                            name.clone(),
                        ));
                    }
                }
                let def = SubcktDef {
                    name: done.name.clone(),
                    pins: done.pins,
                    params: done.params,
                    body: done.body,
                    loc: done.loc,
                };
                let parent = match open.last_mut() {
                    Some(o) => &mut o.body,
                    None => &mut top,
                };
                if parent.subckts.contains_key(&def.name) {
                    return Err(NetlistError::new(
                        &def.loc,
                        ErrorKind::Duplicate("subcircuit definition".into()),
                        def.name,
                    ));
                }
                parent.subckts.insert(def.name.clone(), Rc::new(def));
            }
            ".func" => {
                let def = func_def(&stmt)?;
                if body.funcs.iter().any(|f| f.name == def.name) {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Duplicate("`.func` in one scope".into()),
                        def.name,
                    ));
                }
                body.funcs.push(def);
            }
            // `.params` is LTspice's spelling.
            ".param" | ".params" => {
                let defs = assignments(&stmt, &stmt.tokens[1..])?;
                if defs.is_empty() {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Missing("`name=value`".into()),
                        head,
                    ));
                }
                body.params.extend(defs);
            }
            ".model" => body.models.push(stmt),
            ".control" => {
                warnings.push(Diagnostic {
                    loc: stmt.loc.clone(),
                    message: "`.control` block ignored (xbar runs the deck's analyses only)".into(),
                });
                in_control = Some(stmt.loc);
            }
            ".endc" => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(": `.endc` without `.control`".into()),
                    head,
                ))
            }
            d if TOP_LEVEL_DIRECTIVES.contains(&d) => {
                if let Some(o) = open.last() {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::NotInSubckt(format!("`{d}` inside `.subckt {}`", o.name)),
                        head,
                    ));
                }
                directives.push(stmt);
            }
            d if UNSUPPORTED_DIRECTIVES.contains(&d) => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unsupported("directive".into()),
                    head,
                ));
            }
            _ => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::UnknownDirective,
                    head,
                ))
            }
        }
    }
    if let Some(loc) = in_control {
        return Err(NetlistError::new(
            &loc,
            ErrorKind::Unterminated("`.control` block (no `.endc`)"),
            ".control",
        ));
    }
    if let Some(o) = open.pop() {
        return Err(NetlistError::new(
            &o.loc,
            ErrorKind::UnterminatedSubckt,
            o.name,
        ));
    }
    Ok(Deck {
        title,
        body: top,
        directives,
        warnings,
    })
}

/// `.func name(a, b, ...) = {body}`; the `=` and the braces are optional,
/// as ngspice accepts `.func f(x) {x*2}` and `.func f(x) = x*2`.
fn func_def(stmt: &Stmt) -> Result<FuncDef, NetlistError> {
    let bad = |why: &str, token: &str| {
        NetlistError::new(
            &stmt.loc,
            ErrorKind::Expression(format!("`.func`: {why}")),
            token,
        )
    };
    let rest = stmt.text.trim_start()[".func".len()..].trim_start();
    let open = rest
        .find('(')
        .ok_or_else(|| bad("expected `name(args)`", rest))?;
    let name = rest[..open].trim().to_ascii_lowercase();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(bad("expected a function name", &name));
    }
    if expr::Func::lookup(&name).is_some() || matches!(name.as_str(), "v" | "i") {
        return Err(bad("a built-in function cannot be redefined", &name));
    }
    let close = rest[open..]
        .find(')')
        .map(|p| p + open)
        .ok_or_else(|| bad("missing `)` after the arguments", rest))?;
    let mut args: Vec<String> = Vec::new();
    let inside = rest[open + 1..close].trim();
    if !inside.is_empty() {
        for arg in inside.split(',') {
            let arg = arg.trim().to_ascii_lowercase();
            if arg.is_empty()
                || !arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || arg.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(bad("bad argument name", &arg));
            }
            if args.contains(&arg) {
                return Err(bad("duplicate argument", &arg));
            }
            args.push(arg);
        }
    }
    let mut body = rest[close + 1..].trim();
    body = body.strip_prefix('=').unwrap_or(body).trim();
    let text = strip_braces(body);
    let body = expr::parse(text)
        .map_err(|e| NetlistError::new(&stmt.loc, ErrorKind::Expression(e.to_string()), body))?;
    Ok(FuncDef {
        name,
        args,
        body,
        loc: stmt.loc.clone(),
    })
}

/// The text inside one enclosing `{...}` or `'...'`, else the text itself.
pub fn strip_braces(text: &str) -> &str {
    let text = text.trim();
    for (open, close) in [('{', '}'), ('\'', '\'')] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            if open == '\'' || balanced_braces(inner) {
                return inner;
            }
        }
    }
    text
}

/// Whether `{`/`}` pair up in `text` (so `{a} + {b}` is not one expression).
fn balanced_braces(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `.subckt name pins... [params:] [p=default ...]`
fn subckt_header(stmt: &Stmt) -> Result<Open, NetlistError> {
    let Some(Token::Word(name)) = stmt.tokens.get(1) else {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Missing("subcircuit name".into()),
            stmt.head(),
        ));
    };
    let first_param = stmt
        .tokens
        .iter()
        .position(|t| *t == Token::Eq)
        .map_or(stmt.tokens.len(), |eq| eq.saturating_sub(1));
    let mut pins = Vec::new();
    for token in &stmt.tokens[2..first_param.max(2)] {
        match token {
            Token::Word(w) if w == "params:" => {}
            Token::Word(w) => {
                let pin = if w == "gnd" {
                    "0".to_string()
                } else {
                    w.clone()
                };
                if pin == "0" {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::BadValue("ground cannot be a subcircuit pin".into()),
                        w.clone(),
                    ));
                }
                if pins.contains(&pin) {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Duplicate("pin".into()),
                        w.clone(),
                    ));
                }
                pins.push(pin);
            }
            other => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(" in `.subckt` pins".into()),
                    other.text(),
                ))
            }
        }
    }
    let params = assignments(stmt, &stmt.tokens[first_param.max(2)..])?;
    Ok(Open {
        name: name.clone(),
        pins,
        params,
        body: Body::default(),
        loc: stmt.loc.clone(),
    })
}

/// Parses `name = value ...` lists. A value runs to the next `word =`, so
/// `.param x = 2 * y` works as in ngspice.
pub fn assignments(stmt: &Stmt, tokens: &[Token]) -> Result<Vec<ParamDef>, NetlistError> {
    let mut out: Vec<ParamDef> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (Token::Word(w), _) if w == "params:" => i += 1,
            (Token::Word(name), Some(Token::Eq)) => {
                let start = i + 2;
                let mut end = start;
                while end < tokens.len()
                    && !(matches!(tokens[end], Token::Word(_))
                        && tokens.get(end + 1) == Some(&Token::Eq))
                {
                    end += 1;
                }
                let (expr, text) = value_expr(stmt, &tokens[start..end], name)?;
                if out.iter().any(|d| d.name == *name) {
                    return Err(NetlistError::new(
                        &stmt.loc,
                        ErrorKind::Duplicate("parameter on one line".into()),
                        name.clone(),
                    ));
                }
                out.push(ParamDef {
                    name: name.clone(),
                    expr,
                    text,
                    loc: stmt.loc.clone(),
                });
                i = end;
            }
            (token, _) => {
                return Err(NetlistError::new(
                    &stmt.loc,
                    ErrorKind::Unexpected(": expected `name=value`".into()),
                    token.text(),
                ));
            }
        }
    }
    Ok(out)
}

/// An expression from the value tokens of an assignment: a number, an
/// `{...}`/`'...'` expression, or bare expression text.
fn value_expr(stmt: &Stmt, tokens: &[Token], name: &str) -> Result<(Expr, String), NetlistError> {
    if tokens.is_empty() {
        return Err(NetlistError::new(
            &stmt.loc,
            ErrorKind::Missing(format!("value of `{name}`")),
            format!("{name}="),
        ));
    }
    if let [Token::Word(w)] = tokens {
        if let Some(value) = parse_number(w) {
            return Ok((Expr::Num(value), w.clone()));
        }
    }
    let text = tokens
        .iter()
        .map(|t| match t {
            Token::Expr(e) => format!("({e})"),
            other => other.text(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let expr = expr::parse(&text).map_err(|e| {
        NetlistError::new(
            &stmt.loc,
            ErrorKind::Expression(e.to_string()),
            text.clone(),
        )
    })?;
    Ok((expr, text))
}

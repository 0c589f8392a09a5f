//! Everything that can stop an analysis, each naming the element, node or
//! branch at fault so a device engineer can find it in the deck.

use xbar_netlist::SourceLoc;

#[derive(Debug, thiserror::Error)]
pub enum NodalError {
    #[error("{loc}: element `{element}`: parameter `{param}` = {value} is not a finite number")]
    NonFiniteParameter {
        element: String,
        param: String,
        value: f64,
        loc: Box<SourceLoc>,
    },

    #[error("{loc}: element `{element}`: {message}")]
    BadParameter {
        element: String,
        message: String,
        loc: Box<SourceLoc>,
    },

    #[error("{loc}: element `{element}` expects {expected} nodes, got {got}")]
    NodeCount {
        element: String,
        expected: usize,
        got: usize,
        loc: Box<SourceLoc>,
    },

    #[error("{loc}: element `{element}` refers to model `{model}`, which is not defined")]
    UnknownModel {
        element: String,
        model: String,
        loc: Box<SourceLoc>,
    },

    #[error(
        "{loc}: element `{element}` needs a `{expected}` model, but `{model}` is a `{found}` model"
    )]
    WrongModelKind {
        element: String,
        model: String,
        expected: String,
        found: String,
        loc: Box<SourceLoc>,
    },

    #[error("{loc}: model `{model}`: parameter `{param}` = {value} is invalid: {why}")]
    BadModelParameter {
        model: String,
        param: String,
        value: f64,
        why: String,
        loc: Box<SourceLoc>,
    },

    #[error("{loc}: memristor `{element}` (model `{model}`): {source}")]
    MemristorModel {
        element: String,
        model: String,
        loc: Box<SourceLoc>,
        #[source]
        source: xbar_memristor::CardError,
    },

    #[error(
        "floating node(s) {}: no DC path to ground{}",
        list(nodes),
        if *.dc_only { " (capacitors and current sources do not conduct at DC)" } else { "" }
    )]
    FloatingNodes { nodes: Vec<String>, dc_only: bool },

    #[error(
        "loop of voltage sources {}: their voltages over-determine the loop",
        list(sources)
    )]
    VoltageSourceLoop { sources: Vec<String> },

    #[error(
        "singular matrix: the value of {} is not determined by the circuit",
        list(unknowns)
    )]
    Singular { unknowns: Vec<String> },

    #[error("{analysis}: Newton-Raphson did not converge{} after {iterations} iterations; worst unknown {worst} (last change {delta:e})", at.map(|t| format!(" at {t:e}")).unwrap_or_default())]
    NoConvergence {
        analysis: String,
        at: Option<f64>,
        iterations: usize,
        worst: String,
        delta: f64,
    },

    #[error("transient: time step {step:e} s at t = {time:e} s fell below the minimum {min:e} s (worst unknown {worst})")]
    TimestepTooSmall {
        time: f64,
        step: f64,
        min: f64,
        worst: String,
    },

    #[error("{analysis}: source `{source_name}` is not an independent voltage or current source of the circuit")]
    UnknownSweepSource {
        analysis: String,
        source_name: String,
    },

    #[error("{analysis}: invalid parameters: {message}")]
    BadAnalysis { analysis: String, message: String },

    #[error(".options {name} = {value} is invalid: {why}")]
    BadOption {
        name: String,
        value: f64,
        why: String,
    },

    #[error("{analysis}{}: {message}", at.map(|t| format!(" at {t:e} s")).unwrap_or_default())]
    Evaluation {
        analysis: String,
        at: Option<f64>,
        message: String,
    },

    #[error("sparse LU failed: {0}")]
    Factorization(String),
}

fn list(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

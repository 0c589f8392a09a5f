//! xbar-netlist: ngspice-dialect SPICE text to a flat [`Circuit`].
//!
//! Pure parsing and elaboration; knows no numerics beyond evaluating
//! parameters. The stages are separate modules: `lexer` (title, comments,
//! continuation lines, `.include`, tokens), `deck` (`.subckt` structure),
//! [`expr`] (parameter expressions), and elaboration (parameters evaluated,
//! subcircuits flattened with ngspice's names, directives checked) and a
//! topology check (floating nodes, voltage-source loops). Every
//! error is a [`NetlistError`] naming file, line and the offending token.
//!
//! ```
//! let deck = "divider\nv1 in 0 1\nr1 in out {2*r}\nr2 out 0 1k\n.param r=500\n.op\n.end\n";
//! let circuit = xbar_netlist::parse_str(deck, std::path::Path::new("divider.cir")).unwrap();
//! assert_eq!(circuit.elements.len(), 3);
//! ```

use std::path::Path;

pub mod circuit;
mod deck;
pub mod dialect;
mod elaborate;
pub mod error;
pub mod expr;
mod lexer;
pub mod measure;
pub mod number;
mod topology;

pub use circuit::*;
pub use elaborate::unsupported_mosfet_level;
pub use elaborate::{control_analysis, control_measure};
pub use error::{ErrorKind, NetlistError};
pub use lexer::Token;
pub use number::parse_number;

/// What one deck may cost, so that a hostile deck (`.include /dev/zero`,
/// subcircuits that multiply to 10^10 elements) is an error instead of an
/// exhausted machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file, the deck or an `.include`d one.
    pub max_file_bytes: u64,
    /// Elements after every subcircuit instance is expanded.
    pub max_elements: usize,
}

impl Default for Limits {
    /// A million elements is the deck `xbar crossbar --emit-netlist` writes
    /// for a 577x577 array (a cell and two wire segments per cell), about
    /// 30 MB of text; 256 MiB leaves room for comments and long names. Larger
    /// arrays belong to `xbar crossbar`, not the general engine.
    fn default() -> Self {
        Self {
            max_file_bytes: 256 << 20,
            max_elements: 1_000_000,
        }
    }
}

/// Reads and elaborates the deck at `path`; `.include`s resolve relative to
/// the including file.
pub fn parse_file(path: &Path) -> Result<Circuit, NetlistError> {
    parse_file_with(path, &Limits::default())
}

/// [`parse_file`] within the given limits.
pub fn parse_file_with(path: &Path, limits: &Limits) -> Result<Circuit, NetlistError> {
    let whole_file = SourceLoc {
        file: path.to_path_buf(),
        line: 0,
    };
    let bytes = lexer::read_file(path, limits)
        .map_err(|kind| NetlistError::new(&whole_file, kind, path.display().to_string()))?;
    parse_str_with(&String::from_utf8_lossy(&bytes), path, limits)
}

/// Elaborates deck text as if it were the file `path` (used for messages and
/// to resolve `.include`s).
pub fn parse_str(text: &str, path: &Path) -> Result<Circuit, NetlistError> {
    parse_str_with(text, path, &Limits::default())
}

/// [`parse_str`] within the given limits.
pub fn parse_str_with(text: &str, path: &Path, limits: &Limits) -> Result<Circuit, NetlistError> {
    let lines = lexer::read_deck(path, text, limits)?;
    let deck = deck::structure(lines)?;
    let circuit = elaborate::elaborate(deck, limits).map_err(|mut err| {
        // An empty deck has no line to point at: name the file at least.
        if err.loc.file.as_os_str().is_empty() {
            err.loc.file = path.to_path_buf();
        }
        err
    })?;
    topology::check(&circuit)?;
    Ok(circuit)
}

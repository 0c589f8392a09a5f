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
pub use elaborate::{control_analysis, control_measure};
pub use error::{ErrorKind, NetlistError};
pub use lexer::Token;
pub use number::parse_number;

/// Reads and elaborates the deck at `path`; `.include`s resolve relative to
/// the including file.
pub fn parse_file(path: &Path) -> Result<Circuit, NetlistError> {
    let bytes = std::fs::read(path).map_err(|err| {
        NetlistError::new(
            &SourceLoc {
                file: path.to_path_buf(),
                line: 0,
            },
            ErrorKind::Io(err.to_string()),
            path.display().to_string(),
        )
    })?;
    parse_str(&String::from_utf8_lossy(&bytes), path)
}

/// Elaborates deck text as if it were the file `path` (used for messages and
/// to resolve `.include`s).
pub fn parse_str(text: &str, path: &Path) -> Result<Circuit, NetlistError> {
    let lines = lexer::read_deck(path, text)?;
    let deck = deck::structure(lines)?;
    let circuit = elaborate::elaborate(deck)?;
    topology::check(&circuit)?;
    Ok(circuit)
}

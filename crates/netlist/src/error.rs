//! The parser's error type: every error names the file, the line and the
//! offending token.

use crate::circuit::SourceLoc;

/// A deck that cannot be turned into a [`crate::Circuit`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{loc}: {kind} ({token})")]
pub struct NetlistError {
    pub loc: SourceLoc,
    pub kind: ErrorKind,
    /// The token (or file name) the error is about, as written in the deck.
    pub token: String,
}

impl NetlistError {
    pub fn new(loc: &SourceLoc, kind: ErrorKind, token: impl Into<String>) -> Self {
        Self {
            loc: loc.clone(),
            kind,
            token: token.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read file: {0}")]
    Io(String),
    #[error("include cycle: the file includes itself")]
    IncludeCycle,
    #[error("continuation line `+` with no line to continue")]
    OrphanContinuation,
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("unknown element type (supported: R C V I D M X B YMEMRISTOR, E/G with value=)")]
    UnknownElement,
    #[error("unknown directive")]
    UnknownDirective,
    #[error("unsupported {0}")]
    Unsupported(String),
    #[error("missing {0}")]
    Missing(String),
    #[error("bad number")]
    BadNumber,
    #[error("invalid value: {0}")]
    BadValue(String),
    #[error("unexpected token{0}")]
    Unexpected(String),
    #[error("{0}")]
    Expression(String),
    #[error("undefined parameter")]
    UndefinedParameter,
    #[error("circular parameter definition")]
    CircularParameter,
    #[error("`.subckt` without `.ends`")]
    UnterminatedSubckt,
    #[error("`.ends` without `.subckt`")]
    UnmatchedEnds,
    #[error("`.ends` name does not match `.subckt` {0}")]
    EndsMismatch(String),
    #[error("{0} (missing `.ends`?)")]
    NotInSubckt(String),
    #[error("unknown subcircuit")]
    UnknownSubckt,
    #[error("subcircuit instantiates itself")]
    RecursiveSubckt,
    #[error("{0}")]
    PinCount(String),
    #[error("unknown parameter{0}")]
    UnknownParameter(String),
    #[error("unknown model")]
    UnknownModel,
    #[error("model has the wrong type: {0}")]
    WrongModelType(String),
    #[error("duplicate {0}")]
    Duplicate(String),
    #[error("no such {0}")]
    NoSuch(String),
    #[error("{0}")]
    Topology(String),
    #[error("deck has no elements")]
    Empty,
}

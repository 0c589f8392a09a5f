//! Everything that can go wrong setting up or solving a crossbar.

/// Errors of the crossbar solver; each names the offending place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrossbarError {
    #[error("crossbar must have at least one row and one column (got {rows}×{cols})")]
    EmptyArray { rows: usize, cols: usize },
    #[error("a {rows}×{cols} crossbar has more cells than this machine can count")]
    TooManyCells { rows: usize, cols: usize },
    #[error("{name} must be finite and non-negative (got {value} Ω)")]
    InvalidResistance { name: &'static str, value: f64 },
    #[error(
        "conductance at row {row}, column {col} must be finite and non-negative (got {value} S)"
    )]
    InvalidConductance { row: usize, col: usize, value: f64 },
    #[error("input voltage of row {row} must be finite (got {value} V)")]
    InvalidVoltage { row: usize, value: f64 },
    #[error("{what}: expected {expected} values, found {found}")]
    SizeMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("conductance matrix is {}×{}, crossbar is {}×{}", found.0, found.1, expected.0, expected.1)]
    ShapeMismatch {
        expected: (usize, usize),
        found: (usize, usize),
    },
    #[error("nodal matrix is singular: {0}")]
    Singular(String),
    #[error("Newton did not converge in {iterations} iterations (largest voltage update {max_update:e} V)")]
    NewtonNoConvergence { iterations: usize, max_update: f64 },
    #[error("conjugate gradients did not converge in {iterations} iterations (relative residual {residual:e})")]
    IterativeNoConvergence { iterations: usize, residual: f64 },
    #[error("cell ({row},{col}) I-V is not usable at {voltage} V: {reason}")]
    InvalidCellIv {
        row: usize,
        col: usize,
        voltage: f64,
        reason: &'static str,
    },
    #[error("gate voltage of row {row} must be finite (got {value} V)")]
    InvalidGateVoltage { row: usize, value: f64 },
    #[error("access transistor: {0}")]
    InvalidTransistor(String),
    #[error("1T1R Newton did not converge in {iterations} iterations: largest last update {max_update:e} V, at the node between cell ({row},{col}) and its access transistor")]
    AccessNoConvergence {
        row: usize,
        col: usize,
        iterations: usize,
        max_update: f64,
    },
    #[error("out of memory in the sparse factorisation")]
    OutOfMemory,
}

//! xbar-netlist: ngspice-dialect SPICE text to a flat [`Circuit`].
//! Pure parsing and elaboration; knows no numerics beyond evaluating parameters.

pub mod circuit;

pub use circuit::*;

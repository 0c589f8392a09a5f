//! xbar-snn

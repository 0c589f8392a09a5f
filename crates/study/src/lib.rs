//! xbar-study

//! xbar-periph

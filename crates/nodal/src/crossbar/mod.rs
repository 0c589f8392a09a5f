//! Structured solver for N×M resistive crossbars with wire, driver and sense resistance.

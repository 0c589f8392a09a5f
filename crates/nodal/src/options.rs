//! Simulator options with ngspice's defaults, overridable by `.options`.

use std::collections::BTreeMap;

use crate::error::NodalError;

/// Transient integration method, coded as ngspice codes it internally
/// (`.options method=...` arrives from the parser as this number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Trapezoidal rule (ngspice default): backward Euler on the first step
    /// and after every breakpoint, order 2 elsewhere.
    Trapezoidal,
    /// Backward differentiation (Gear) of order up to `maxord` (1 = backward
    /// Euler).
    Gear,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub reltol: f64,
    pub abstol: f64,
    pub vntol: f64,
    pub chgtol: f64,
    pub trtol: f64,
    /// Conductance added across every junction (and used by gmin stepping
    /// as the target).
    pub gmin: f64,
    /// Newton iteration limit of the operating point.
    pub itl1: usize,
    /// Newton iteration limit per DC sweep point.
    pub itl2: usize,
    /// Newton iteration limit per transient time point.
    pub itl4: usize,
    pub method: Method,
    pub maxord: usize,
    /// Skip gmin stepping when plain Newton fails (ngspice `noopiter` is the
    /// opposite; this mirrors `gminsteps=0`).
    pub gmin_steps: bool,
    /// Skip source stepping when plain Newton and gmin stepping fail.
    pub source_steps: bool,
    /// Default MOSFET channel width and length (ngspice `defw`, `defl`).
    pub defw: f64,
    pub defl: f64,
    /// Most time points a transient stores (xbar's `.options maxpoints`):
    /// bounds the memory of a run like `.tran 1e-30 1` with an error that
    /// says so instead of exhausting the machine.
    pub max_points: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            reltol: 1e-3,
            abstol: 1e-12,
            vntol: 1e-6,
            chgtol: 1e-14,
            trtol: 7.0,
            gmin: 1e-12,
            itl1: 100,
            itl2: 50,
            itl4: 10,
            method: Method::Trapezoidal,
            maxord: 2,
            gmin_steps: true,
            source_steps: true,
            defw: 100e-6,
            defl: 100e-6,
            max_points: 10_000_000,
        }
    }
}

impl Options {
    /// Applies the deck's `.options`. Options the engine does not use are
    /// ignored here (the parser already warned about unknown ones).
    pub fn from_deck(opts: &BTreeMap<String, f64>) -> Result<Self, NodalError> {
        let mut o = Self::default();
        for (name, &value) in opts {
            let bad = |why: &str| NodalError::BadOption {
                name: name.clone(),
                value,
                why: why.into(),
            };
            if !value.is_finite() {
                return Err(bad("not a finite number"));
            }
            let positive = |v: f64| {
                if v > 0.0 {
                    Ok(v)
                } else {
                    Err(bad("must be > 0"))
                }
            };
            let count = |v: f64| {
                if v >= 1.0 && v.fract() == 0.0 && v <= 1e7 {
                    Ok(v as usize)
                } else {
                    Err(bad("must be a positive integer"))
                }
            };
            match name.as_str() {
                "reltol" => o.reltol = positive(value)?,
                "abstol" => o.abstol = positive(value)?,
                "vntol" => o.vntol = positive(value)?,
                "chgtol" => o.chgtol = positive(value)?,
                "trtol" => o.trtol = positive(value)?,
                "gmin" => {
                    if value < 0.0 {
                        return Err(bad("must be >= 0"));
                    }
                    o.gmin = value;
                }
                "itl1" => o.itl1 = count(value)?,
                "itl2" => o.itl2 = count(value)?,
                "itl4" => o.itl4 = count(value)?,
                "maxord" => {
                    let k = count(value)?;
                    if k > 2 {
                        return Err(bad("orders above 2 are not supported"));
                    }
                    o.maxord = k;
                }
                "method" => {
                    o.method = match value as i64 {
                        1 => Method::Trapezoidal,
                        2 => Method::Gear,
                        _ => return Err(bad("expected 1 (trap) or 2 (gear)")),
                    }
                }
                "gminsteps" => o.gmin_steps = value != 0.0,
                "srcsteps" => o.source_steps = value != 0.0,
                "defw" => o.defw = positive(value)?,
                "defl" => o.defl = positive(value)?,
                "maxpoints" => {
                    if !(value >= 1.0 && value.fract() == 0.0 && value <= 1e12) {
                        return Err(bad("must be a positive integer up to 1e12"));
                    }
                    o.max_points = value as usize;
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

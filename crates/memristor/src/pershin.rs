//! Voltage-threshold memristive system of Pershin & Di Ventra, Phys. Rev. E
//! 81, 021908 (2010) (the 2009 learning-circuit model), as made a SPICE model
//! in Pershin & Di Ventra, "SPICE model of memristive devices with
//! threshold", Radioengineering 22(2), 485 (2013).
//!
//! The state is the memristance itself, `R` in `[R_on, R_off]`:
//! `I = V / R`, `dR/dt = f(V) [θ(V) θ(R_off - R) + θ(-V) θ(R - R_on)]` with
//! `f(V) = β V + (α - β)/2 (|V + V_t| - |V - V_t|)`: slope `α` below the
//! threshold `V_t`, slope `β` above it. The step-function window stops the
//! state at the bound the drive pushes towards and releases it as soon as the
//! drive reverses; the device keeps the state at its bounds the same way
//! (see `xbar-nodal`'s memristor), so the rate here is `f(V)` alone.

use crate::card::{bad, CardError, ParamReader};
use crate::CompactModel;

/// Pershin/Di Ventra threshold memristor; the state is the resistance, ohms.
#[derive(Debug, Clone, PartialEq)]
pub struct Pershin {
    pub r_on: f64,
    pub r_off: f64,
    /// Rate of resistance change per volt below the threshold, ohm/(V s).
    pub alpha: f64,
    /// Rate of resistance change per volt above the threshold, ohm/(V s).
    pub beta: f64,
    /// Threshold voltage, V.
    pub v_t: f64,
    /// Initial resistance, ohms.
    pub r0: f64,
}

impl Pershin {
    /// Card parameters `ron roff alpha beta vt x0` (`x0` is the initial
    /// resistance, Pershin's `Rinit`). Defaults: the example ngspice
    /// distributes with this model (`examples/memristor/memristor.sp`: Ron 1k,
    /// Roff 10k, Rinit 7k, alpha 0, beta 20e3/10ns, Vt 1.6).
    pub(crate) fn from_params(r: &mut ParamReader<'_>) -> Result<Self, CardError> {
        let r_on = r.positive("ron", 1e3)?;
        let r_off = r.positive("roff", 10e3)?;
        if r_off <= r_on {
            return Err(bad("roff", r_off, &format!("must exceed ron = {r_on}")));
        }
        Ok(Self {
            r_on,
            r_off,
            alpha: r.non_negative("alpha", 0.0)?,
            beta: r.non_negative("beta", 2e12)?,
            v_t: r.non_negative("vt", 1.6)?,
            r0: r.in_range("x0", 7e3, r_on, r_off)?,
        })
    }

    /// `f(V)`: the resistance rate the voltage asks for, ohm/s.
    pub fn drive(&self, v: f64) -> f64 {
        self.beta * v
            + 0.5 * (self.alpha - self.beta) * ((v + self.v_t).abs() - (v - self.v_t).abs())
    }
}

impl CompactModel for Pershin {
    fn kind(&self) -> &'static str {
        "pershin"
    }

    fn current(&self, v: f64, r: f64) -> f64 {
        v / r
    }

    fn state_rate(&self, v: f64, _r: f64) -> f64 {
        self.drive(v)
    }

    fn state_bounds(&self) -> (f64, f64) {
        (self.r_on, self.r_off)
    }

    fn default_state(&self) -> f64 {
        self.r0
    }

    fn conductance(&self, _v: f64, r: f64) -> f64 {
        1.0 / r
    }

    fn current_dx(&self, v: f64, r: f64) -> f64 {
        -v / (r * r)
    }

    fn state_rate_dv(&self, v: f64, _r: f64) -> f64 {
        if v.abs() < self.v_t {
            self.alpha
        } else {
            self.beta
        }
    }

    fn state_rate_dx(&self, _v: f64, _r: f64) -> f64 {
        0.0
    }

    fn read_conductance(&self, _v_read: f64, r: f64) -> f64 {
        1.0 / r
    }
}

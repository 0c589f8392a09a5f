//! Knowm's mean metastable-switch (MMS) memristor: Molter & Nugent, "The
//! generalized metastable switch memristor model", CNNA 2016 (after Nugent &
//! Molter, PLoS ONE 9(2), e85175, 2014).
//!
//! The device is a large collection of metastable switches, each either ON
//! (`R_on`) or OFF (`R_off`); `x` is the fraction that is ON. A switch jumps
//! with a Boltzmann probability per unit time `1/tau` times a logistic
//! function of the voltage over its barrier, in the thermal voltage
//! `V_T = k T / q`:
//! `P_on(V) = 1 / (1 + exp(-(V - V_on)/V_T))`,
//! `P_off(V) = 1 - 1 / (1 + exp(-(V + V_off)/V_T))`,
//! and the mean of the population follows
//! `dx/dt = ((1 - x) P_on(V) - x P_off(V)) / tau` (xbar's deterministic
//! "mean" form: no switch-count noise). The current is the metastable-switch
//! current in parallel with a Schottky diode pair, weighted by `phi`:
//! `I = phi V (x/R_on + (1 - x)/R_off) + (1 - phi) (a_f exp(b_f V) - a_r exp(-b_r V))`.

use crate::card::{bad, CardError, ParamReader};
use crate::CompactModel;

/// Boltzmann constant, J/K (SI 2019, exact).
const BOLTZMANN: f64 = 1.380_649e-23;
/// Elementary charge, C (SI 2019, exact).
const ELEMENTARY_CHARGE: f64 = 1.602_176_634e-19;

/// Mean metastable-switch memristor; state `x` (fraction of switches ON) in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mms {
    pub r_on: f64,
    pub r_off: f64,
    /// Voltage above which switches turn ON, V.
    pub v_on: f64,
    /// Magnitude of the negative voltage below which switches turn OFF, V.
    pub v_off: f64,
    /// Switching time constant, s.
    pub tau: f64,
    /// Thermal voltage `k T / q`, V.
    pub v_thermal: f64,
    /// Weight of the metastable-switch current against the Schottky current.
    pub phi: f64,
    pub schottky_forward_alpha: f64,
    pub schottky_forward_beta: f64,
    pub schottky_reverse_alpha: f64,
    pub schottky_reverse_beta: f64,
    pub x0: f64,
}

/// `1 / (1 + exp(-u))` and its derivative, without overflow for large `|u|`.
fn logistic(u: f64) -> (f64, f64) {
    let s = if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    };
    (s, s * (1.0 - s))
}

/// Card defaults of the MMS model, in the card's units (`temp` in kelvin).
pub(crate) struct MmsDefaults {
    pub r_on: f64,
    pub r_off: f64,
    pub v_on: f64,
    pub v_off: f64,
    pub tau: f64,
    pub temp: f64,
}

impl Mms {
    /// xbar's `model=mms` defaults: the device of Knowm's published MMS
    /// subcircuit (Ron 500, Roff 1500, Von = Voff = 0.27 V, tau 0.1 ms), at
    /// ngspice's default 27 degrees C.
    pub(crate) const KNOWM_SUBCIRCUIT: MmsDefaults = MmsDefaults {
        r_on: 500.0,
        r_off: 1500.0,
        v_on: 0.27,
        v_off: 0.27,
        tau: 1e-4,
        temp: 300.15,
    };

    /// The defaults of Knowm's Xyce model (`YMEMRISTOR level 5`).
    pub(crate) const KNOWM_XYCE: MmsDefaults = MmsDefaults {
        r_on: 100.0,
        r_off: 16e3,
        v_on: 1.0,
        v_off: 1.0,
        tau: 10e-9,
        temp: 300.15,
    };

    /// Card parameters with Knowm's names: `ron roff von voff tau temp phi
    /// sfa sfb sra srb x0` (`temp` in kelvin); `phi` 1 and no Schottky
    /// current (the plain MMS) and `x0` 0 (all switches OFF) unless given.
    pub(crate) fn from_params(
        r: &mut ParamReader<'_>,
        defaults: &MmsDefaults,
    ) -> Result<Self, CardError> {
        let r_on = r.positive("ron", defaults.r_on)?;
        let r_off = r.positive("roff", defaults.r_off)?;
        if r_off <= r_on {
            return Err(bad("roff", r_off, &format!("must exceed ron = {r_on}")));
        }
        let temp = r.positive("temp", defaults.temp)?;
        Ok(Self {
            r_on,
            r_off,
            v_on: r.finite("von", defaults.v_on)?,
            v_off: r.finite("voff", defaults.v_off)?,
            tau: r.positive("tau", defaults.tau)?,
            v_thermal: BOLTZMANN * temp / ELEMENTARY_CHARGE,
            phi: r.in_range("phi", 1.0, 0.0, 1.0)?,
            schottky_forward_alpha: r.non_negative("sfa", 0.0)?,
            schottky_forward_beta: r.non_negative("sfb", 0.0)?,
            schottky_reverse_alpha: r.non_negative("sra", 0.0)?,
            schottky_reverse_beta: r.non_negative("srb", 0.0)?,
            x0: r.in_range("x0", 0.0, 0.0, 1.0)?,
        })
    }

    /// The state whose memristive resistance `1 / (x/R_on + (1-x)/R_off)` is `r`.
    pub fn state_of_resistance(&self, r: f64) -> f64 {
        (1.0 / r - 1.0 / self.r_off) / (1.0 / self.r_on - 1.0 / self.r_off)
    }

    /// Memristive conductance at state `x`, S.
    pub fn switch_conductance(&self, x: f64) -> f64 {
        x / self.r_on + (1.0 - x) / self.r_off
    }

    /// Probability rates (before `1/tau`) of OFF->ON and ON->OFF at `v`, and
    /// their derivatives in `v`.
    fn probabilities(&self, v: f64) -> [f64; 4] {
        let (p_on, dp_on) = logistic((v - self.v_on) / self.v_thermal);
        let (p_off, dp_off) = logistic(-(v + self.v_off) / self.v_thermal);
        [
            p_on,
            dp_on / self.v_thermal,
            p_off,
            -dp_off / self.v_thermal,
        ]
    }

    fn schottky(&self, v: f64) -> (f64, f64) {
        let f = self.schottky_forward_alpha * (self.schottky_forward_beta * v).exp();
        let r = self.schottky_reverse_alpha * (-self.schottky_reverse_beta * v).exp();
        (
            f - r,
            self.schottky_forward_beta * f + self.schottky_reverse_beta * r,
        )
    }
}

impl CompactModel for Mms {
    fn kind(&self) -> &'static str {
        "mms"
    }

    fn current(&self, v: f64, x: f64) -> f64 {
        self.phi * v * self.switch_conductance(x) + (1.0 - self.phi) * self.schottky(v).0
    }

    fn state_rate(&self, v: f64, x: f64) -> f64 {
        let [p_on, _, p_off, _] = self.probabilities(v);
        ((1.0 - x) * p_on - x * p_off) / self.tau
    }

    fn state_bounds(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn default_state(&self) -> f64 {
        self.x0
    }

    fn conductance(&self, v: f64, x: f64) -> f64 {
        self.phi * self.switch_conductance(x) + (1.0 - self.phi) * self.schottky(v).1
    }

    fn current_dx(&self, v: f64, _x: f64) -> f64 {
        self.phi * v * (1.0 / self.r_on - 1.0 / self.r_off)
    }

    fn state_rate_dv(&self, v: f64, x: f64) -> f64 {
        let [_, dp_on, _, dp_off] = self.probabilities(v);
        ((1.0 - x) * dp_on - x * dp_off) / self.tau
    }

    fn state_rate_dx(&self, v: f64, _x: f64) -> f64 {
        let [p_on, _, p_off, _] = self.probabilities(v);
        -(p_on + p_off) / self.tau
    }
}

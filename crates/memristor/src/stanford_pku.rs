//! Stanford-PKU metal-oxide RRAM model: Guan, Yu & Wong, IEEE EDL 33(10),
//! 1405 (2012); Jiang et al., SISPAD 2014 / IEEE TED 63(5), 1884 (2016)
//! (Stanford RRAM Verilog-A model v1.0.0, doi:10.4231/D37H1DN48).
//!
//! State: the tunnelling gap `g` (metres) between filament tip and electrode.
//! `I = I0 exp(-g/g0) sinh(V/V0)`;
//! `dg/dt = -v0 exp(-q Ea/(k T)) sinh(gamma a0 q V/(tox k T))`,
//! `gamma = gamma0 - beta (g/g1)^alpha` (0 when the field `gamma |V|/tox` is
//! below `F_min`), local temperature `T = T0 + |I V| R_th`.
//! Positive voltage on the top electrode shrinks the gap (SET).

use crate::card::{bad, CardError, ParamReader};
use crate::CompactModel;

const BOLTZMANN: f64 = 1.380_649e-23;
const CHARGE: f64 = 1.602_176_634e-19;

/// Stanford-PKU RRAM (deterministic part; the model's random gap jitter is
/// the job of the statistical layer, seeded per device).
#[derive(Debug, Clone, PartialEq)]
pub struct StanfordPku {
    pub i0: f64,
    pub g0: f64,
    pub v0: f64,
    /// Gap velocity prefactor, m/s.
    pub vel0: f64,
    /// Activation energy, eV.
    pub ea: f64,
    pub a0: f64,
    pub tox: f64,
    pub gamma0: f64,
    pub beta: f64,
    pub alpha: f64,
    pub g1: f64,
    /// Minimum field for gap motion, V/m.
    pub f_min: f64,
    /// Ambient temperature, K.
    pub t0: f64,
    /// Thermal resistance, K/W.
    pub rth: f64,
    pub gap_min: f64,
    pub gap_max: f64,
    pub gap0: f64,
}

impl StanfordPku {
    /// Card parameters `i0 g0 v0 vel0 ea a0 tox gamma0 beta alpha g1 fmin t0
    /// rth gmin gmax x0` (x0 = initial gap). Defaults: model v1.0.0.
    pub(crate) fn from_params(r: &mut ParamReader<'_>) -> Result<Self, CardError> {
        let gap_min = r.positive("gmin", 0.2e-9)?;
        let gap_max = r.positive("gmax", 1.7e-9)?;
        if gap_max <= gap_min {
            return Err(bad(
                "gmax",
                gap_max,
                &format!("must exceed gmin = {gap_min}"),
            ));
        }
        Ok(Self {
            i0: r.positive("i0", 1e-3)?,
            g0: r.positive("g0", 0.25e-9)?,
            v0: r.positive("v0", 0.25)?,
            vel0: r.positive("vel0", 10.0)?,
            ea: r.non_negative("ea", 0.6)?,
            a0: r.positive("a0", 0.25e-9)?,
            tox: r.positive("tox", 12e-9)?,
            gamma0: r.non_negative("gamma0", 16.0)?,
            beta: r.non_negative("beta", 0.8)?,
            alpha: r.positive("alpha", 3.0)?,
            g1: r.positive("g1", 1e-9)?,
            f_min: r.non_negative("fmin", 1.4e9)?,
            t0: r.positive("t0", 298.0)?,
            rth: r.non_negative("rth", 2.1e3)?,
            gap_max,
            gap0: r.in_range("x0", gap_max, gap_min, gap_max)?,
            gap_min,
        })
    }

    /// Local filament temperature at `(v, g)`, K.
    pub fn temperature(&self, v: f64, g: f64) -> f64 {
        self.t0 + (self.current(v, g) * v).abs() * self.rth
    }

    /// Field-enhancement factor `gamma(g)`, zero below the minimum field.
    pub fn gamma(&self, v: f64, g: f64) -> f64 {
        let gamma = self.gamma0 - self.beta * (g / self.g1).powf(self.alpha);
        if gamma * v.abs() / self.tox < self.f_min {
            0.0
        } else {
            gamma
        }
    }
}

impl CompactModel for StanfordPku {
    fn kind(&self) -> &'static str {
        "stanford_pku"
    }

    fn current(&self, v: f64, g: f64) -> f64 {
        self.i0 * (-g / self.g0).exp() * (v / self.v0).sinh()
    }

    fn state_rate(&self, v: f64, g: f64) -> f64 {
        let gamma = self.gamma(v, g);
        if gamma == 0.0 {
            return 0.0;
        }
        let kt = BOLTZMANN * self.temperature(v, g);
        -self.vel0
            * (-CHARGE * self.ea / kt).exp()
            * (gamma * self.a0 / self.tox * CHARGE * v / kt).sinh()
    }

    fn state_bounds(&self) -> (f64, f64) {
        (self.gap_min, self.gap_max)
    }

    fn default_state(&self) -> f64 {
        self.gap0
    }

    fn conductance(&self, v: f64, g: f64) -> f64 {
        self.i0 * (-g / self.g0).exp() * (v / self.v0).cosh() / self.v0
    }

    fn current_dx(&self, v: f64, g: f64) -> f64 {
        -self.current(v, g) / self.g0
    }
}

//! Linear ion drift (HP TiO2) memristor: Strukov et al., Nature 453, 80 (2008),
//! with the window functions of Joglekar & Wolf, Eur. J. Phys. 30, 661 (2009)
//! and Biolek et al., Radioengineering 18, 210 (2009).
//!
//! State `x = w/D` in `[0, 1]` (doped fraction); `R(x) = R_on x + R_off (1 - x)`,
//! `dx/dt = (mu_v R_on / D^2) i(t) f(x, i)`.

use crate::card::{CardError, ParamReader};
use crate::CompactModel;

/// Window function that slows the boundary drift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// No window: the pure linear model of Strukov 2008 (state clipped at the bounds).
    None,
    /// `f(x) = 1 - (2x - 1)^(2p)`: zero at both bounds, so a device driven
    /// into a bound stays there (the well-known "sticking" of this window).
    Joglekar { p: f64 },
    /// `f(x, i) = 1 - (x - stp(-i))^(2p)`: zero only at the bound the current
    /// pushes towards, so a reversed current always moves the state away.
    Biolek { p: f64 },
}

impl Window {
    /// `(u, du/dx, p)` with `f = 1 - |u|^(2p)`, or `None` without a window.
    fn parts(self, x: f64, i: f64) -> Option<(f64, f64, f64)> {
        match self {
            Window::None => None,
            Window::Joglekar { p } => Some((2.0 * x - 1.0, 2.0, p)),
            Window::Biolek { p } => Some((x - if i >= 0.0 { 0.0 } else { 1.0 }, 1.0, p)),
        }
    }

    /// Window value at state `x` with device current `i` (only its sign matters).
    pub fn value(self, x: f64, i: f64) -> f64 {
        self.parts(x, i)
            .map_or(1.0, |(u, _, p)| 1.0 - u.abs().powf(2.0 * p))
    }

    fn dx(self, x: f64, i: f64) -> f64 {
        match self.parts(x, i) {
            Some((u, du, p)) if u != 0.0 => {
                -2.0 * p * u.abs().powf(2.0 * p - 1.0) * u.signum() * du
            }
            _ => 0.0,
        }
    }
}

/// HP linear-ion-drift memristor.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearIonDrift {
    /// Fully doped (ON) resistance, ohms.
    pub r_on: f64,
    /// Undoped (OFF) resistance, ohms.
    pub r_off: f64,
    /// Film thickness D, metres.
    pub d: f64,
    /// Dopant mobility mu_v, m^2/(V s).
    pub mu_v: f64,
    pub window: Window,
    /// Initial doped fraction.
    pub x0: f64,
}

impl LinearIonDrift {
    /// Card parameters: `ron`, `roff`, `d`, `uv`, `p`, `x0`; word `window`.
    /// Defaults are Biolek 2009's SPICE model (Ron 100, Roff 16k, D 10n,
    /// uv 10f, p 10, Rinit 11k).
    pub(crate) fn from_params(
        window: Option<&str>,
        r: &mut ParamReader<'_>,
    ) -> Result<Self, CardError> {
        let r_on = r.positive("ron", 100.0)?;
        let r_off = r.positive("roff", 16e3)?;
        if r_off <= r_on {
            return Err(CardError::BadParameter {
                name: "roff".into(),
                value: r_off,
                why: format!("must exceed ron = {r_on}"),
            });
        }
        let d = r.positive("d", 10e-9)?;
        let mu_v = r.positive("uv", 1e-14)?;
        let p = r.positive("p", 1.0)?;
        let x0 = r.in_range("x0", (r_off - 11e3) / (r_off - r_on), 0.0, 1.0)?;
        let window = match window.unwrap_or("none") {
            "none" => Window::None,
            "joglekar" => Window::Joglekar { p },
            "biolek" => Window::Biolek { p },
            other => {
                return Err(CardError::BadWord {
                    name: "window".into(),
                    value: other.into(),
                    expected: "none, joglekar or biolek",
                })
            }
        };
        Ok(Self {
            r_on,
            r_off,
            d,
            mu_v,
            window,
            x0,
        })
    }

    /// `mu_v R_on / D^2`: state change per coulomb, 1/C.
    pub fn k(&self) -> f64 {
        self.mu_v * self.r_on / (self.d * self.d)
    }

    /// Memristance at state `x`, ohms.
    pub fn resistance(&self, x: f64) -> f64 {
        self.r_on * x + self.r_off * (1.0 - x)
    }
}

impl CompactModel for LinearIonDrift {
    fn kind(&self) -> &'static str {
        "lid"
    }

    fn current(&self, v: f64, x: f64) -> f64 {
        v / self.resistance(x)
    }

    fn state_rate(&self, v: f64, x: f64) -> f64 {
        let i = self.current(v, x);
        self.k() * i * self.window.value(x, i)
    }

    fn state_bounds(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn default_state(&self) -> f64 {
        self.x0
    }

    fn conductance(&self, _v: f64, x: f64) -> f64 {
        1.0 / self.resistance(x)
    }

    fn current_dx(&self, v: f64, x: f64) -> f64 {
        let r = self.resistance(x);
        v * (self.r_off - self.r_on) / (r * r)
    }

    fn state_rate_dv(&self, v: f64, x: f64) -> f64 {
        // The Biolek window's step in sign(i) has no derivative; away from
        // i = 0 the window is constant in v (and sign(i) = sign(v)).
        self.k() / self.resistance(x) * self.window.value(x, v)
    }

    fn state_rate_dx(&self, v: f64, x: f64) -> f64 {
        let i = self.current(v, x);
        self.k() * (self.current_dx(v, x) * self.window.value(x, i) + i * self.window.dx(x, i))
    }

    fn read_conductance(&self, _v_read: f64, x: f64) -> f64 {
        1.0 / self.resistance(x)
    }
}

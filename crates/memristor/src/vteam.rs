//! VTEAM: Voltage ThrEshold Adaptive Memristor model, Kvatinsky, Ramadan,
//! Friedman & Kolodny, IEEE TCAS-II 62(8), 786 (2015), and its current-
//! controlled parent TEAM (Kvatinsky, Friedman, Kolodny & Weiser, IEEE
//! TCAS-I 60(1), 211 (2013)), the model of Xyce's memristor level 2.
//!
//! State `w` (metres) in `[w_on, w_off]`; with the drive `d` the voltage
//! (VTEAM) or the current `v / R(w)` (TEAM):
//! `dw/dt = k_off (d/d_off - 1)^alpha_off f_off(w)` for `d > d_off > 0`,
//! `dw/dt = k_on (d/d_on - 1)^alpha_on f_on(w)` for `d < d_on < 0`, else 0.
//! Positive drive moves the device OFF (towards `w_off`, `R_off`).

use crate::card::{bad, CardError, ParamReader};
use crate::CompactModel;

/// How the resistance depends on the state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResistanceLaw {
    /// `R = R_on + (R_off - R_on) (w - w_on)/(w_off - w_on)` (paper eq. 5).
    Linear,
    /// `R = R_on exp(lambda (w - w_on)/(w_off - w_on))`, `lambda = ln(R_off/R_on)` (eq. 6).
    Exponential,
}

/// What the thresholds compare: VTEAM's voltage or TEAM's current.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Control {
    /// Thresholds in volts (VTEAM).
    Voltage,
    /// Thresholds in amperes on the device current `v / R(w)` (TEAM).
    Current,
}

/// Window functions the VTEAM paper lists for `f_on`/`f_off`. Joglekar and
/// Biolek act on `x = (w - origin) / span`: the card's `won` and
/// `woff - won`, or, from an Xyce card, `0` and its `D`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VteamWindow {
    None,
    /// Joglekar `1 - (2 x - 1)^(2p)`.
    Joglekar {
        p: f64,
        origin: f64,
        span: f64,
    },
    /// Biolek `1 - (x - stp(-d))^(2p)`.
    Biolek {
        p: f64,
        origin: f64,
        span: f64,
    },
    /// Kvatinsky's TEAM window: `f_off = exp(-exp((w - a_off)/w_c))`,
    /// `f_on = exp(-exp(-(w - a_on)/w_c))`.
    Kvatinsky {
        a_on: f64,
        a_off: f64,
        w_c: f64,
    },
}

/// VTEAM memristor.
#[derive(Debug, Clone, PartialEq)]
pub struct Vteam {
    pub r_on: f64,
    pub r_off: f64,
    /// State bounds, metres.
    pub w_on: f64,
    pub w_off: f64,
    /// Velocities, m/s: `k_on < 0`, `k_off > 0`.
    pub k_on: f64,
    pub k_off: f64,
    pub alpha_on: f64,
    pub alpha_off: f64,
    pub control: Control,
    /// Thresholds, volts or amperes as `control` says: `d_on < 0 < d_off`.
    pub d_on: f64,
    pub d_off: f64,
    pub law: ResistanceLaw,
    pub window: VteamWindow,
    pub w0: f64,
}

impl Vteam {
    /// Card parameters: `ron roff won woff kon koff alphaon alphaoff von voff
    /// p aon aoff wc x0`; words `window` (none|joglekar|biolek|kvatinsky) and
    /// `rmodel` (linear|exponential). Defaults: MemTorch's VTEAM device
    /// (see `models/vteam.toml`).
    pub(crate) fn from_params(
        window: Option<&str>,
        rmodel: Option<&str>,
        r: &mut ParamReader<'_>,
    ) -> Result<Self, CardError> {
        let r_on = r.positive("ron", 50.0)?;
        let r_off = r.positive("roff", 1000.0)?;
        if r_off <= r_on {
            return Err(bad("roff", r_off, &format!("must exceed ron = {r_on}")));
        }
        let w_on = r.non_negative("won", 0.0)?;
        let w_off = r.positive("woff", 3e-9)?;
        if w_off <= w_on {
            return Err(bad("woff", w_off, &format!("must exceed won = {w_on}")));
        }
        let k_on = r.negative("kon", -10.0)?;
        let k_off = r.positive("koff", 5e-4)?;
        let alpha_on = r.positive("alphaon", 3.0)?;
        let alpha_off = r.positive("alphaoff", 1.0)?;
        let v_on = r.negative("von", -0.2)?;
        let v_off = r.positive("voff", 0.02)?;
        let p = r.positive("p", 2.0)?;
        let a_on = r.finite("aon", w_on)?;
        let a_off = r.finite("aoff", w_off)?;
        let w_c = r.positive("wc", 0.01 * (w_off - w_on))?;
        let w0 = r.in_range("x0", w_on, w_on, w_off)?;
        let law = match rmodel.unwrap_or("linear") {
            "linear" => ResistanceLaw::Linear,
            "exponential" => ResistanceLaw::Exponential,
            other => {
                return Err(CardError::BadWord {
                    name: "rmodel".into(),
                    value: other.into(),
                    expected: "linear or exponential",
                })
            }
        };
        let window = match window.unwrap_or("none") {
            "none" => VteamWindow::None,
            "joglekar" => VteamWindow::Joglekar {
                p,
                origin: w_on,
                span: w_off - w_on,
            },
            "biolek" => VteamWindow::Biolek {
                p,
                origin: w_on,
                span: w_off - w_on,
            },
            "kvatinsky" => VteamWindow::Kvatinsky { a_on, a_off, w_c },
            other => {
                return Err(CardError::BadWord {
                    name: "window".into(),
                    value: other.into(),
                    expected: "none, joglekar, biolek or kvatinsky",
                })
            }
        };
        Ok(Self {
            r_on,
            r_off,
            w_on,
            w_off,
            k_on,
            k_off,
            alpha_on,
            alpha_off,
            control: Control::Voltage,
            d_on: v_on,
            d_off: v_off,
            law,
            window,
            w0,
        })
    }

    fn normalised(&self, w: f64) -> f64 {
        (w - self.w_on) / (self.w_off - self.w_on)
    }

    /// Resistance at state `w`, ohms.
    pub fn resistance(&self, w: f64) -> f64 {
        let x = self.normalised(w);
        match self.law {
            ResistanceLaw::Linear => self.r_on + (self.r_off - self.r_on) * x,
            ResistanceLaw::Exponential => self.r_on * ((self.r_off / self.r_on).ln() * x).exp(),
        }
    }

    fn window_value(&self, w: f64, towards_off: bool) -> f64 {
        match self.window {
            VteamWindow::None => 1.0,
            VteamWindow::Joglekar { p, origin, span } => {
                1.0 - (2.0 * (w - origin) / span - 1.0).abs().powf(2.0 * p)
            }
            VteamWindow::Biolek { p, origin, span } => {
                let s = if towards_off { 0.0 } else { 1.0 };
                1.0 - ((w - origin) / span - s).abs().powf(2.0 * p)
            }
            VteamWindow::Kvatinsky { a_on, a_off, w_c } => {
                if towards_off {
                    (-((w - a_off) / w_c).exp()).exp()
                } else {
                    (-(-(w - a_on) / w_c).exp()).exp()
                }
            }
        }
    }

    /// What the thresholds compare at `(v, w)`: the voltage or the current.
    fn drive(&self, v: f64, w: f64) -> f64 {
        match self.control {
            Control::Voltage => v,
            Control::Current => v / self.resistance(w),
        }
    }

    /// Velocity without window at drive `d` (see [`Control`]), m/s: zero
    /// between the thresholds.
    pub fn bare_rate(&self, d: f64) -> f64 {
        if d > self.d_off {
            self.k_off * (d / self.d_off - 1.0).powf(self.alpha_off)
        } else if d < self.d_on {
            self.k_on * (d / self.d_on - 1.0).powf(self.alpha_on)
        } else {
            0.0
        }
    }

    /// `d(bare_rate)/dd`.
    fn bare_rate_dd(&self, d: f64) -> f64 {
        if d > self.d_off {
            self.k_off * self.alpha_off / self.d_off
                * (d / self.d_off - 1.0).powf(self.alpha_off - 1.0)
        } else if d < self.d_on {
            self.k_on * self.alpha_on / self.d_on * (d / self.d_on - 1.0).powf(self.alpha_on - 1.0)
        } else {
            0.0
        }
    }
}

impl CompactModel for Vteam {
    fn kind(&self) -> &'static str {
        "vteam"
    }

    fn current(&self, v: f64, w: f64) -> f64 {
        v / self.resistance(w)
    }

    fn state_rate(&self, v: f64, w: f64) -> f64 {
        let rate = self.bare_rate(self.drive(v, w));
        if rate == 0.0 {
            return 0.0;
        }
        rate * self.window_value(w, rate > 0.0)
    }

    fn state_bounds(&self) -> (f64, f64) {
        (self.w_on, self.w_off)
    }

    fn default_state(&self) -> f64 {
        self.w0
    }

    fn conductance(&self, _v: f64, w: f64) -> f64 {
        1.0 / self.resistance(w)
    }

    fn state_rate_dv(&self, v: f64, w: f64) -> f64 {
        let d = self.drive(v, w);
        let dd_dv = match self.control {
            Control::Voltage => 1.0,
            Control::Current => 1.0 / self.resistance(w),
        };
        let slope = self.bare_rate_dd(d);
        if slope == 0.0 {
            return 0.0;
        }
        slope * dd_dv * self.window_value(w, d > 0.0)
    }

    fn read_conductance(&self, _v_read: f64, w: f64) -> f64 {
        1.0 / self.resistance(w)
    }
}

//! Yakopcic generalized memristive device model: Yakopcic, Taha, Subramanyam,
//! Pino & Rogers, IEEE EDL 32(10), 1436 (2011); Yakopcic et al., IEEE TCAD
//! 32(8), 1201 (2013).
//!
//! `I = a1 x sinh(b V)` (V >= 0), `a2 x sinh(b V)` (V < 0);
//! `dx/dt = eta g(V) f(x)` with threshold-exponential `g` and a state-dependent
//! motion `f` that decays exponentially past `x_p` (rising) / `1 - x_n` (falling).

use crate::card::{bad, CardError, ParamReader};
use crate::CompactModel;

/// Yakopcic memristor; state `x` in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Yakopcic {
    pub a1: f64,
    pub a2: f64,
    pub b: f64,
    pub vp: f64,
    pub vn: f64,
    pub ap: f64,
    pub an: f64,
    pub xp: f64,
    pub xn: f64,
    pub alphap: f64,
    pub alphan: f64,
    /// Direction of state motion relative to the voltage (+1 or -1).
    pub eta: f64,
    pub x0: f64,
}

impl Yakopcic {
    /// The fit to Oblea et al.'s Ag-chalcogenide device (2011, Table I): the
    /// defaults of xbar's `model=yakopcic` card.
    pub const OBLEA: Yakopcic = Yakopcic {
        a1: 0.17,
        a2: 0.17,
        b: 0.05,
        vp: 0.16,
        vn: 0.15,
        ap: 4000.0,
        an: 4000.0,
        xp: 0.3,
        xn: 0.5,
        alphap: 1.0,
        alphan: 5.0,
        eta: 1.0,
        x0: 0.11,
    };

    /// Xyce's defaults for its memristor level 3 (Reference Guide, "MemristorYakopcic
    /// Device Model Parameters"; `XO` 0).
    pub const XYCE: Yakopcic = Yakopcic {
        a1: 1.0,
        a2: 1.0,
        b: 1.0,
        vp: 0.01,
        vn: -0.01,
        ap: 1.0,
        an: 1.0,
        xp: 1.0,
        xn: 1.0,
        alphap: 1.0,
        alphan: 1.0,
        eta: 1.0,
        x0: 0.0,
    };

    /// Card parameters `a1 a2 b vp vn ap an xp xn alphap alphan eta x0`,
    /// taking the missing ones from `defaults`. `vn` is the magnitude of the
    /// negative threshold: no motion for `-vn <= V <= vp`.
    pub(crate) fn from_params(
        r: &mut ParamReader<'_>,
        defaults: &Yakopcic,
    ) -> Result<Self, CardError> {
        let eta = r.finite("eta", defaults.eta)?;
        if eta != 1.0 && eta != -1.0 {
            return Err(bad("eta", eta, "must be +1 or -1"));
        }
        let vp = r.finite("vp", defaults.vp)?;
        let vn = r.finite("vn", defaults.vn)?;
        if vp < -vn {
            return Err(bad(
                "vp",
                vp,
                &format!("must be >= -vn = {} (the thresholds overlap)", -vn),
            ));
        }
        Ok(Self {
            a1: r.positive("a1", defaults.a1)?,
            a2: r.positive("a2", defaults.a2)?,
            b: r.positive("b", defaults.b)?,
            vp,
            vn,
            ap: r.non_negative("ap", defaults.ap)?,
            an: r.non_negative("an", defaults.an)?,
            xp: r.in_range("xp", defaults.xp, 0.0, 1.0)?,
            xn: r.in_range("xn", defaults.xn, 0.0, 1.0)?,
            alphap: r.non_negative("alphap", defaults.alphap)?,
            alphan: r.non_negative("alphan", defaults.alphan)?,
            eta,
            x0: r.in_range("x0", defaults.x0, 0.0, 1.0)?,
        })
    }

    /// Threshold drive `g(V)`, 1/s.
    pub fn drive(&self, v: f64) -> f64 {
        if v > self.vp {
            self.ap * (v.exp() - self.vp.exp())
        } else if v < -self.vn {
            -self.an * ((-v).exp() - self.vn.exp())
        } else {
            0.0
        }
    }

    fn drive_dv(&self, v: f64) -> f64 {
        if v > self.vp {
            self.ap * v.exp()
        } else if v < -self.vn {
            self.an * (-v).exp()
        } else {
            0.0
        }
    }

    /// State-dependent motion `f(x)` for motion in the direction of `eta V`.
    /// Both branches meet at 1 where they join, so the strict comparisons
    /// change no value; they keep `xp = 1` and `xn = 1` (Xyce's defaults)
    /// out of the `0/0` of `w_p` and `w_n`.
    pub fn motion(&self, x: f64, eta_v: f64) -> f64 {
        if eta_v > 0.0 {
            if x > self.xp {
                let wp = (self.xp - x) / (1.0 - self.xp) + 1.0;
                (-self.alphap * (x - self.xp)).exp() * wp
            } else {
                1.0
            }
        } else if x < 1.0 - self.xn {
            let wn = x / (1.0 - self.xn);
            (self.alphan * (x + self.xn - 1.0)).exp() * wn
        } else {
            1.0
        }
    }
}

impl CompactModel for Yakopcic {
    fn kind(&self) -> &'static str {
        "yakopcic"
    }

    fn current(&self, v: f64, x: f64) -> f64 {
        let a = if v >= 0.0 { self.a1 } else { self.a2 };
        a * x * (self.b * v).sinh()
    }

    fn state_rate(&self, v: f64, x: f64) -> f64 {
        let g = self.drive(v);
        if g == 0.0 {
            return 0.0;
        }
        self.eta * g * self.motion(x, self.eta * v)
    }

    fn state_bounds(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn default_state(&self) -> f64 {
        self.x0
    }

    fn conductance(&self, v: f64, x: f64) -> f64 {
        let a = if v >= 0.0 { self.a1 } else { self.a2 };
        a * x * self.b * (self.b * v).cosh()
    }

    fn current_dx(&self, v: f64, _x: f64) -> f64 {
        let a = if v >= 0.0 { self.a1 } else { self.a2 };
        a * (self.b * v).sinh()
    }

    fn state_rate_dv(&self, v: f64, x: f64) -> f64 {
        self.eta * self.drive_dv(v) * self.motion(x, self.eta * v)
    }
}

//! The interface every compact memristor model implements: exactly what the
//! nodal engine needs to stamp the device and integrate its state.

/// A two-terminal memristive device `I = f(V, x)`, `dx/dt = g(V, x)`, with the
/// state `x` confined to `state_bounds()`.
///
/// Derivatives have finite-difference defaults; models override them with
/// analytic forms where they have them (Newton converges faster and cleaner).
pub trait CompactModel: Send + Sync + std::fmt::Debug {
    /// Short identifier (`lid`, `vteam`, `yakopcic`, `stanford_pku`).
    fn kind(&self) -> &'static str;

    /// Device current in amperes at terminal voltage `v` (V) and state `x`.
    fn current(&self, v: f64, x: f64) -> f64;

    /// Time derivative of the state at `(v, x)`, in state units per second.
    fn state_rate(&self, v: f64, x: f64) -> f64;

    /// Closed interval the state lives in.
    fn state_bounds(&self) -> (f64, f64);

    /// State a device starts in when the deck gives no `x0`.
    fn default_state(&self) -> f64;

    /// `dI/dV` at `(v, x)`.
    fn conductance(&self, v: f64, x: f64) -> f64 {
        let h = 1e-6 * v.abs().max(1e-3);
        (self.current(v + h, x) - self.current(v - h, x)) / (2.0 * h)
    }

    /// `dI/dx` at `(v, x)`.
    fn current_dx(&self, v: f64, x: f64) -> f64 {
        let (lo, hi) = self.state_bounds();
        let h = 1e-7 * (hi - lo).abs().max(f64::MIN_POSITIVE);
        let (a, b) = ((x - h).max(lo), (x + h).min(hi));
        (self.current(v, b) - self.current(v, a)) / (b - a)
    }

    /// `d(dx/dt)/dV` at `(v, x)`.
    fn state_rate_dv(&self, v: f64, x: f64) -> f64 {
        let h = 1e-6 * v.abs().max(1e-3);
        (self.state_rate(v + h, x) - self.state_rate(v - h, x)) / (2.0 * h)
    }

    /// `d(dx/dt)/dx` at `(v, x)`.
    fn state_rate_dx(&self, v: f64, x: f64) -> f64 {
        let (lo, hi) = self.state_bounds();
        let h = 1e-7 * (hi - lo).abs().max(f64::MIN_POSITIVE);
        let (a, b) = ((x - h).max(lo), (x + h).min(hi));
        (self.state_rate(v, b) - self.state_rate(v, a)) / (b - a)
    }

    /// Small-signal conductance `I/V` at a read voltage, the number the
    /// network mapping calls "the device's conductance" in state `x`.
    fn read_conductance(&self, v_read: f64, x: f64) -> f64 {
        self.current(v_read, x) / v_read
    }
}

//! The pn-junction pieces the diode and the BJT share, as ngspice computes
//! them: the exponential current with SPICE's cubic reverse tail and the
//! depletion charge with its linear extension above `fc·vj`.

/// Junction current and conductance of saturation current `isat` and
/// emission voltage `vte` (`n·vt`) at `v`: exponential down to `-3·vte`,
/// then SPICE's cubic that approaches `-isat` smoothly.
pub fn current(isat: f64, vte: f64, v: f64) -> (f64, f64) {
    if v >= -3.0 * vte {
        let e = (v / vte).exp();
        (isat * (e - 1.0), isat * e / vte)
    } else {
        let a = 3.0 * vte / (v * std::f64::consts::E);
        let a = a * a * a;
        (-isat * (1.0 + a), isat * 3.0 * a / v)
    }
}

/// A depletion capacitance `cz / (1 - v/pb)^m`, continued linearly in
/// capacitance above `fc·pb` where the power law would diverge.
#[derive(Debug, Clone, Copy, Default)]
pub struct Depletion {
    cz: f64,
    pb: f64,
    m: f64,
    /// `fc·pb`, where the linear continuation starts.
    fcpb: f64,
    /// Charge at `fc·pb` over `cz`.
    f1: f64,
    /// `(1 - fc)^(1 + m)`.
    f2: f64,
    /// `1 - fc·(1 + m)`.
    f3: f64,
}

impl Depletion {
    pub fn new(cz: f64, pb: f64, m: f64, fc: f64) -> Self {
        let xfc = (1.0 - fc).ln();
        Self {
            cz,
            pb,
            m,
            fcpb: fc * pb,
            f1: pb * (1.0 - ((1.0 - m) * xfc).exp()) / (1.0 - m),
            f2: ((1.0 + m) * xfc).exp(),
            f3: 1.0 - fc * (1.0 + m),
        }
    }

    /// Charge and incremental capacitance at `v`.
    pub fn charge(&self, v: f64) -> (f64, f64) {
        let Self {
            cz,
            pb,
            m,
            fcpb,
            f1,
            f2,
            f3,
        } = *self;
        if v < fcpb {
            let arg = 1.0 - v / pb;
            let sarg = (-m * arg.ln()).exp();
            (pb * cz * (1.0 - arg * sarg) / (1.0 - m), cz * sarg)
        } else {
            let czf2 = cz / f2;
            (
                cz * f1 + czf2 * (f3 * (v - fcpb) + m / (pb + pb) * (v * v - fcpb * fcpb)),
                czf2 * (f3 + m * v / pb),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depletion_charge_is_the_integral_of_its_capacitance() {
        let d = Depletion::new(2e-12, 0.8, 0.4, 0.5);
        // Central differences of the charge match the capacitance on both
        // sides of fc·pb, and both are continuous there.
        for v in [-3.0, -0.2, 0.1, 0.39, 0.41, 0.7, 1.5] {
            let h = 1e-6;
            let dq = (d.charge(v + h).0 - d.charge(v - h).0) / (2.0 * h);
            let c = d.charge(v).1;
            assert!((dq - c).abs() <= 1e-6 * c, "{v}: {dq} vs {c}");
        }
        let (below, above) = (d.charge(0.4 - 1e-12), d.charge(0.4));
        assert!((below.0 - above.0).abs() < 1e-22);
        assert!((below.1 - above.1).abs() < 1e-20);
    }

    #[test]
    fn reverse_current_tends_to_minus_isat() {
        let (i, g) = current(1e-14, 0.025, -10.0);
        assert!((i + 1e-14).abs() < 1e-20 && g > 0.0);
        // The cubic tail joins the exponential continuously at -3·vte.
        let v = -3.0 * 0.025;
        let (a, _) = current(1e-14, 0.025, v);
        let (b, _) = current(1e-14, 0.025, v - 1e-12);
        assert!((a - b).abs() < 1e-18);
    }
}

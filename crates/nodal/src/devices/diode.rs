//! Junction diode, ngspice level 1: exponential forward current with
//! emission coefficient N, smooth cubic reverse region, breakdown at BV with
//! current IBV, series resistance RS (an internal node), depletion (CJO, VJ,
//! M, FC) and diffusion (TT) charge, whose capacitance at the operating
//! point is the diode's AC susceptance; `gmin` across the junction and
//! `pnjlim` limiting as ngspice's dioload.c.

use xbar_netlist::{Element, Model};

use super::junction::{self, Depletion};
use super::limit::pnjlim;
use super::{
    finite, junction_voltage, nodes, Device, Link, LinkKind, LoadCtx, ModelParams, NodeMap, Phase,
    Setup, States, UnknownKind, VT_NOMINAL,
};
use crate::error::NodalError;
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};
use crate::options::Options;

const KNOWN: &[&str] = &[
    "level", "tnom", "is", "n", "rs", "cjo", "cj0", "cj", "vj", "m", "tt", "bv", "ibv", "nbv",
    "fc", "eg", "xti", "kf", "af",
];

#[derive(Debug)]
pub struct Diode {
    name: String,
    anode: Unknown,
    cathode: Unknown,
    /// Junction's positive side: the internal node when RS > 0.
    prime: Unknown,
    csat: f64,
    vte: f64,
    vcrit: f64,
    /// Series conductance (area-scaled); 0 when RS = 0.
    gspr: f64,
    /// Breakdown: (voltage matched to IBV, emission voltage).
    breakdown: Option<(f64, f64)>,
    depletion: Depletion,
    tt: f64,
    gmin: f64,
    rs_slots: [Slot; 4],
    junction: [Slot; 4],
    q: usize,
    /// State slot of the junction voltage of the last load (kept with the
    /// history so sweeps and time steps can predict).
    vslot: usize,
}

impl Diode {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        model: &Model,
        area: f64,
        opts: &Options,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 2)?;
        let area = finite(e, "area", area)?;
        if area <= 0.0 {
            return Err(super::bad(e, format!("area {area} must be > 0")));
        }
        opts.nominal_temperature_only(model)
            .map_err(|why| super::bad(e, why))?;
        let p = ModelParams::new(model, KNOWN)?;
        let level = p.get("level", 1.0);
        if level != 1.0 {
            return Err(ModelParams::error(
                model,
                "level",
                level,
                "only level 1 is supported",
            ));
        }
        let is = p.checked("is", 1e-14, |v| v > 0.0, "must be > 0")?;
        let nn = p.checked("n", 1.0, |v| v > 0.0, "must be > 0")?;
        let rs = p.checked("rs", 0.0, |v| v >= 0.0, "must be >= 0")?;
        let cjo = p
            .given("cjo")
            .or(p.given("cj0"))
            .or(p.given("cj"))
            .unwrap_or(0.0);
        if cjo < 0.0 {
            return Err(ModelParams::error(model, "cjo", cjo, "must be >= 0"));
        }
        let vj = p.checked("vj", 1.0, |v| v > 0.0, "must be > 0")?;
        let m = p.checked(
            "m",
            0.5,
            |v| (0.0..=0.9).contains(&v),
            "must be in [0, 0.9]",
        )?;
        let fc = p.checked(
            "fc",
            0.5,
            |v| (0.0..0.95).contains(&v),
            "must be in [0, 0.95)",
        )?;
        let tt = p.checked("tt", 0.0, |v| v >= 0.0, "must be >= 0")?;
        let vt = VT_NOMINAL;
        let vte = nn * vt;
        let csat = is * area;
        let vcrit = vte * (vte / (std::f64::consts::SQRT_2 * csat)).ln();
        let breakdown = match p.given("bv") {
            None => None,
            Some(bv) => {
                if bv <= 0.0 {
                    return Err(ModelParams::error(model, "bv", bv, "must be > 0"));
                }
                let ibv = p.checked("ibv", 1e-3, |v| v > 0.0, "must be > 0")?;
                let nbv = p.checked("nbv", nn, |v| v > 0.0, "must be > 0")?;
                Some((
                    match_breakdown(bv, ibv, csat, vt, nbv, opts.reltol),
                    nbv * vt,
                ))
            }
        };
        Ok(Self {
            name: e.name.clone(),
            anode: n[0],
            cathode: n[1],
            prime: n[0],
            csat,
            vte,
            vcrit,
            gspr: if rs > 0.0 { area / rs } else { 0.0 },
            breakdown,
            depletion: Depletion::new(cjo * area, vj, m, fc),
            tt,
            gmin: opts.gmin,
            rs_slots: [Slot::default(); 4],
            junction: [Slot::default(); 4],
            q: 0,
            vslot: 0,
        })
    }

    /// Junction current and conductance without gmin.
    fn dc(&self, vd: f64) -> (f64, f64) {
        match self.breakdown {
            Some((bv, vtb)) if vd < -3.0 * self.vte && vd < -bv => {
                let e = (-(bv + vd) / vtb).exp();
                (-self.csat * e, self.csat * e / vtb)
            }
            _ => junction::current(self.csat, self.vte, vd),
        }
    }

    /// Depletion plus diffusion charge and capacitance at `vd`.
    fn charge(&self, vd: f64, cdb: f64, gdb: f64) -> (f64, f64) {
        let (qdep, cdep) = self.depletion.charge(vd);
        (self.tt * cdb + qdep, self.tt * gdb + cdep)
    }
}

/// The breakdown voltage at which the reverse current equals IBV, matched
/// to the forward region as ngspice's diotemp.c does.
fn match_breakdown(bv: f64, ibv: f64, csat: f64, vt: f64, nbv: f64, reltol: f64) -> f64 {
    let cbv = ibv;
    if cbv < csat * bv / vt {
        return bv;
    }
    let tol = reltol * cbv;
    let mut xbv = bv - nbv * vt * (1.0 + cbv / csat).ln();
    for _ in 0..25 {
        xbv = bv - nbv * vt * (cbv / csat + 1.0 - xbv / vt).ln();
        let xcbv = csat * (((bv - xbv) / (nbv * vt)).exp() - 1.0 + xbv / vt);
        if (xcbv - cbv).abs() <= tol {
            break;
        }
    }
    xbv
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

impl Device for Diode {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        vec![Link {
            a: self.anode,
            b: self.cathode,
            kind: LinkKind::Conductive,
        }]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        if self.gspr > 0.0 && self.anode != self.cathode {
            let internal = s.unknown(format!("{}#internal", self.name), UnknownKind::Node, false);
            self.prime = Some(internal);
            self.rs_slots = s.pattern.pair(self.anode, self.prime);
        }
        self.junction = s.pattern.pair(self.prime, self.cathode);
        self.q = s.charge();
        self.vslot = s.states(1);
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let fresh = volt(x, self.prime) - volt(x, self.cathode);
        let (v, old) = junction_voltage(ctx, st, self.vslot, fresh, self.vcrit);
        let (vd, limited) = match old {
            None => (v, true),
            Some(vold) => match self.breakdown {
                Some((bv, vtb)) if v < (-bv + 10.0 * vtb).min(0.0) => {
                    let (t, hit) = pnjlim(-(v + bv), -(vold + bv), vtb, self.vcrit);
                    (-(t + bv), hit)
                }
                _ => pnjlim(v, vold, self.vte, self.vcrit),
            },
        };
        let (cdb, gdb) = self.dc(vd);
        let mut cd = cdb + self.gmin * vd;
        let mut gd = gdb + self.gmin;
        let (q, cap) = self.charge(vd, cdb, gdb);
        st.levels[0][self.q] = q;
        if let Phase::Tran(integ) = ctx.phase {
            let (geq, _) = integ.integrate(st, self.q, cap);
            gd += geq;
            cd += st.levels[0][self.q + 1];
        }
        st.levels[0][self.vslot] = vd;
        if self.gspr > 0.0 {
            m.conductance(&self.rs_slots, self.gspr);
        }
        m.conductance(&self.junction, gd);
        m.current(self.prime, self.cathode, cd - gd * vd);
        !limited
    }

    fn ac_load(&self, omega: f64, st: &States, m: &mut AcStamp<'_>) {
        // The junction and diffusion capacitance at the operating point's
        // junction voltage, as dioload's MODEINITSMSIG stores it.
        let vd = st.levels[0][self.vslot];
        let (_, gdb) = self.dc(vd);
        let (_, cap) = self.charge(vd, 0.0, gdb);
        m.admittance(&self.junction, 0.0, omega * cap);
    }
}

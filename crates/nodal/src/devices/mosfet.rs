//! Level-1 MOSFET (Shichman-Hodges) as ngspice's mos1: square-law channel
//! with body effect (GAMMA, PHI) and channel-length modulation (LAMBDA),
//! bulk junction diodes with `gmin`, source/drain swapping for negative
//! VDS, and `fetlim`/`limvds`/`pnjlim` limiting. Capacitances and series
//! resistances are not modelled; a card that sets them is rejected.

use xbar_netlist::{Element, Model};

use super::limit::{fetlim, limvds, pnjlim};
use super::{
    junction_voltage, nodes, Device, Link, LinkKind, LoadCtx, ModelParams, NodeMap, Setup, States,
    VT_NOMINAL,
};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};
use crate::options::Options;

const KNOWN: &[&str] = &[
    "level", "tnom", "vto", "vt0", "kp", "gamma", "phi", "lambda", "ld", "is", "tox", "uo", "u0",
    "kf", "af", "rd", "rs", "rsh", "cbd", "cbs", "cgso", "cgdo", "cgbo", "cj", "cjsw", "mj",
    "mjsw", "pb", "fc", "js", "nsub", "nss", "tpg", "xj",
];

/// Parameters this implementation cannot honour when they are non-zero.
const UNSUPPORTED: &[&str] = &[
    "rd", "rs", "rsh", "cbd", "cbs", "cgso", "cgdo", "cgbo", "cj", "cjsw", "js", "nsub", "nss",
];

#[derive(Debug)]
pub struct Mosfet {
    name: String,
    d: Unknown,
    g: Unknown,
    s: Unknown,
    b: Unknown,
    /// +1 for NMOS, -1 for PMOS.
    sign: f64,
    vto: f64,
    vbi: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    lambda: f64,
    is: f64,
    vcrit: f64,
    gmin: f64,
    slots: Slots,
    /// Turn-on voltage of the last load, which the next one limits `vgs`
    /// against (ngspice's `MOS1von`).
    von: f64,
    /// State slots of vbs, vgs, vds (type-normalized) of the last load.
    vslot: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct Slots {
    dd: Slot,
    ss: Slot,
    bb: Slot,
    dg: Slot,
    db: Slot,
    ds: Slot,
    sg: Slot,
    sb: Slot,
    sd: Slot,
    bd: Slot,
    bs: Slot,
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

impl Mosfet {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        model: &Model,
        w: Option<f64>,
        l: Option<f64>,
        opts: &Options,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 4)?;
        opts.nominal_temperature_only(model)
            .map_err(|why| super::bad(e, why))?;
        let p = ModelParams::new(model, KNOWN)?;
        for &name in UNSUPPORTED {
            if let Some(v) = p.given(name) {
                if v != 0.0 {
                    return Err(ModelParams::error(
                        model,
                        name,
                        v,
                        "not supported by xbar's level-1 MOSFET (no capacitances, series resistances or process-derived parameters)",
                    ));
                }
            }
        }
        let level = p.get("level", 1.0);
        if level != 1.0 {
            return Err(ModelParams::error(
                model,
                "level",
                level,
                "only level 1 is supported",
            ));
        }
        let w = super::finite(e, "w", w.unwrap_or(opts.defw))?;
        let l = super::finite(e, "l", l.unwrap_or(opts.defl))?;
        if w <= 0.0 || l <= 0.0 {
            return Err(super::bad(e, format!("w = {w} and l = {l} must be > 0")));
        }
        let sign = if model.kind == "pmos" { -1.0 } else { 1.0 };
        let vto = p.given("vto").or(p.given("vt0")).unwrap_or(0.0);
        let kp = match (p.given("kp"), p.given("tox")) {
            (Some(kp), _) => kp,
            // ngspice derives KP from the mobility and oxide thickness when
            // only those are given.
            (None, Some(tox)) if tox > 0.0 => {
                let uo = p.given("uo").or(p.given("u0")).unwrap_or(600.0);
                let eps_ox = 3.9 * 8.854214871e-12;
                uo * 1e-4 * eps_ox / tox
            }
            _ => 2e-5,
        };
        if kp <= 0.0 {
            return Err(ModelParams::error(model, "kp", kp, "must be > 0"));
        }
        let gamma = p.checked("gamma", 0.0, |v| v >= 0.0, "must be >= 0")?;
        let phi = p.checked("phi", 0.6, |v| v > 0.0, "must be > 0")?;
        let lambda = p.checked("lambda", 0.0, |v| v >= 0.0, "must be >= 0")?;
        let ld = p.checked("ld", 0.0, |v| v >= 0.0, "must be >= 0")?;
        let is = p.checked("is", 1e-14, |v| v > 0.0, "must be > 0")?;
        let leff = l - 2.0 * ld;
        if leff <= 0.0 {
            return Err(super::bad(
                e,
                format!("effective length l - 2·ld = {leff} must be > 0"),
            ));
        }
        let vt = VT_NOMINAL;
        Ok(Self {
            name: e.name.clone(),
            d: n[0],
            g: n[1],
            s: n[2],
            b: n[3],
            sign,
            vto,
            vbi: vto - sign * gamma * phi.sqrt(),
            beta: kp * w / leff,
            gamma,
            phi,
            lambda,
            is,
            vcrit: vt * (vt / (std::f64::consts::SQRT_2 * is)).ln(),
            gmin: opts.gmin,
            slots: Slots::default(),
            von: 0.0,
            vslot: 0,
        })
    }

    /// Bulk junction current and conductance at `v`, with gmin.
    fn junction(&self, v: f64) -> (f64, f64) {
        let vt = VT_NOMINAL;
        if v <= -3.0 * vt {
            (self.gmin * v - self.is, self.gmin)
        } else {
            let e = (v / vt).min(709.0).exp();
            (
                self.is * (e - 1.0) + self.gmin * v,
                self.is * e / vt + self.gmin,
            )
        }
    }

    /// Channel current and derivatives in normal orientation.
    fn channel(&self, vgs: f64, vds: f64, vbs: f64) -> (f64, f64, f64, f64, f64) {
        let sarg = if vbs <= 0.0 {
            (self.phi - vbs).sqrt()
        } else {
            let s = self.phi.sqrt();
            (s - vbs / (2.0 * s)).max(0.0)
        };
        let von = self.vbi * self.sign + self.gamma * sarg;
        let vgst = vgs - von;
        let arg = if sarg <= 0.0 {
            0.0
        } else {
            self.gamma / (2.0 * sarg)
        };
        if vgst <= 0.0 {
            return (0.0, 0.0, 0.0, 0.0, von);
        }
        let betap = self.beta * (1.0 + self.lambda * vds);
        if vgst <= vds {
            let cd = betap * vgst * vgst * 0.5;
            let gm = betap * vgst;
            let gds = self.lambda * self.beta * vgst * vgst * 0.5;
            (cd, gm, gds, gm * arg, von)
        } else {
            let cd = betap * vds * (vgst - 0.5 * vds);
            let gm = betap * vds;
            let gds = betap * (vgst - vds) + self.lambda * self.beta * vds * (vgst - 0.5 * vds);
            (cd, gm, gds, gm * arg, von)
        }
    }
}

impl Device for Mosfet {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        let c = |a, b| Link {
            a,
            b,
            kind: LinkKind::Conductive,
        };
        // The gate conducts nothing: a node reached only through gates floats.
        vec![c(self.d, self.s), c(self.d, self.b), c(self.s, self.b)]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        let (d, g, so, b) = (self.d, self.g, self.s, self.b);
        let p = &mut s.pattern;
        self.slots = Slots {
            dd: p.entry(d, d),
            ss: p.entry(so, so),
            bb: p.entry(b, b),
            dg: p.entry(d, g),
            db: p.entry(d, b),
            ds: p.entry(d, so),
            sg: p.entry(so, g),
            sb: p.entry(so, b),
            sd: p.entry(so, d),
            bd: p.entry(b, d),
            bs: p.entry(b, so),
        };
        self.vslot = s.states(3);
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let t = self.sign;
        let vt = VT_NOMINAL;
        let limited;
        let fresh = |a: Unknown, b: Unknown| t * (volt(x, a) - volt(x, b));
        let (vbs, old_bs) = junction_voltage(ctx, st, self.vslot, fresh(self.b, self.s), -1.0);
        let (vgs, old_gs) =
            junction_voltage(ctx, st, self.vslot + 1, fresh(self.g, self.s), t * self.vto);
        let (vds, old_ds) = junction_voltage(ctx, st, self.vslot + 2, fresh(self.d, self.s), 0.0);
        let (vbs, vgs, vds) = match (old_bs, old_gs, old_ds) {
            (Some(obs), Some(ogs), Some(ods)) => {
                let (mut vbs, mut vgs, mut vds) = (vbs, vgs, vds);
                let vgdo = ogs - ods;
                let mut vgd = vgs - vds;
                let von = self.von;
                if ods >= 0.0 {
                    vgs = fetlim(vgs, ogs, von);
                    vds = vgs - vgd;
                    vds = limvds(vds, ods);
                } else {
                    vgd = fetlim(vgd, vgdo, von);
                    vds = vgs - vgd;
                    vds = -limvds(-vds, -ods);
                    vgs = vgd + vds;
                }
                let hit;
                if vds >= 0.0 {
                    (vbs, hit) = pnjlim(vbs, obs, vt, self.vcrit);
                } else {
                    let (vbd, h) = pnjlim(vbs - vds, obs - ods, vt, self.vcrit);
                    vbs = vbd + vds;
                    hit = h;
                }
                limited = hit;
                (vbs, vgs, vds)
            }
            _ => {
                limited = true;
                (vbs, vgs, vds)
            }
        };
        let now = &mut st.levels[0];
        now[self.vslot] = vbs;
        now[self.vslot + 1] = vgs;
        now[self.vslot + 2] = vds;
        let vbd = vbs - vds;
        let vgd = vgs - vds;
        let (cbs, gbs) = self.junction(vbs);
        let (cbd, gbd) = self.junction(vbd);
        let mode = if vds >= 0.0 { 1.0 } else { -1.0 };
        let (cdrain, gm, gds, gmbs, von) = if mode > 0.0 {
            self.channel(vgs, vds, vbs)
        } else {
            self.channel(vgd, -vds, vbd)
        };
        self.von = von;

        let (xnrm, xrev) = if mode > 0.0 { (1.0, 0.0) } else { (0.0, 1.0) };
        let cdreq = if mode > 0.0 {
            t * (cdrain - gds * vds - gm * vgs - gmbs * vbs)
        } else {
            -t * (cdrain - gds * (-vds) - gm * vgd - gmbs * vbd)
        };
        let ceqbs = t * (cbs - gbs * vbs);
        let ceqbd = t * (cbd - gbd * vbd);
        m.rhs(self.b, -(ceqbs + ceqbd));
        m.rhs(self.d, ceqbd - cdreq);
        m.rhs(self.s, cdreq + ceqbs);
        let s = self.slots;
        m.add(s.bb, gbd + gbs);
        m.add(s.dd, gds + gbd + xrev * (gm + gmbs));
        m.add(s.ss, gds + gbs + xnrm * (gm + gmbs));
        m.add(s.dg, (xnrm - xrev) * gm);
        m.add(s.db, -gbd + (xnrm - xrev) * gmbs);
        m.add(s.ds, -gds - xnrm * (gm + gmbs));
        m.add(s.sg, -(xnrm - xrev) * gm);
        m.add(s.sb, -gbs - (xnrm - xrev) * gmbs);
        m.add(s.sd, -gds - xrev * (gm + gmbs));
        m.add(s.bd, -gbd);
        m.add(s.bs, -gbs);
        !limited
    }
}

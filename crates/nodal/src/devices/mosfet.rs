//! MOSFET levels 1 (Shichman-Hodges, ngspice's mos1), 2 (Grove-Frohman,
//! mos2) and 3 (the semi-empirical short-channel model, mos3): the channel
//! current of the level, and what the levels share as ngspice has it: bulk
//! junction diodes with `gmin`, drain and source series resistances (RD,
//! RS or RSH·NRD/NRS) as internal nodes, depletion charges of the bulk
//! junctions (CBD CBS or CJ·AD + CJSW·PD with MJ MJSW PB FC), Meyer's gate
//! capacitances with the overlap capacitances CGSO CGDO CGBO, source/drain
//! swapping for negative VDS, process parameters (TOX, UO, NSUB, NSS, TPG)
//! and `fetlim`/`limvds`/`pnjlim` limiting. Temperature equations are
//! mos1temp.c's (mos3temp.c's intrinsic density for level 3) at `.options
//! temp`. Other levels (BSIM and the rest) are refused by name.

use xbar_netlist::{unsupported_mosfet_level, Element, Model, MosGeometry};

use super::limit::{fetlim, limvds, pnjlim};
use super::{
    junction_voltage, nodes, Device, Init, Link, LinkKind, LoadCtx, ModelParams, NodeMap, Phase,
    Setup, States, UnknownKind,
};
use crate::error::NodalError;
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};
use crate::options::Options;

/// Parameters every level reads.
const COMMON: &[&str] = &[
    "level", "vto", "vt0", "kp", "gamma", "phi", "rd", "rs", "cbd", "cbs", "is", "pb", "cgso",
    "cgdo", "cgbo", "rsh", "cj", "mj", "cjsw", "mjsw", "js", "tox", "ld", "uo", "u0", "fc", "nsub",
    "tpg", "nss", "tnom", "kf", "af",
];
const LEVEL1: &[&str] = &["lambda"];
const LEVEL2: &[&str] = &[
    "lambda", "delta", "uexp", "ucrit", "vmax", "xj", "neff", "nfs",
];
const LEVEL3: &[&str] = &[
    "delta", "theta", "eta", "kappa", "vmax", "xj", "nfs", "wd", "xl", "xw", "delvt0", "delvto",
];

/// ngspice's constants (const.h), so derived values agree to the last digit.
const CHARGE: f64 = 1.602_176_620_8e-19;
const BOLTZ: f64 = 1.380_648_52e-23;
const REFTEMP: f64 = 300.15;
const CELSIUS_TO_KELVIN: f64 = 273.15;
const EPS_OX: f64 = 3.9 * 8.854_214_871e-12;
const EPS_SI: f64 = 11.7 * 8.854_214_871e-12;

#[derive(Debug)]
pub struct Mosfet {
    name: String,
    d: Unknown,
    g: Unknown,
    s: Unknown,
    b: Unknown,
    /// Channel ends: internal nodes when RD/RS are present.
    dp: Unknown,
    sp: Unknown,
    /// +1 for NMOS, -1 for PMOS.
    sign: f64,
    level: Level,
    vt: f64,
    tphi: f64,
    tvbi: f64,
    tvto: f64,
    beta: f64,
    oxide_cap: f64,
    cgso: f64,
    cgdo: f64,
    cgbo: f64,
    gdrain: f64,
    gsource: f64,
    drain: Junction,
    source: Junction,
    /// Level 3 continues the reverse junction current with SPICE's cubic;
    /// level 1 with `gmin·v - Isat`.
    cubic_reverse: bool,
    gmin: f64,
    slots: Slots,
    /// Turn-on voltage of the last load, which the next one limits `vgs`
    /// against (ngspice's `MOSvon`, type-normalised).
    von: f64,
    /// State slots: vbs, vgs, vds (type-normalised) of the last load, then
    /// the half Meyer capacitances capgs, capgd, capgb.
    vslot: usize,
    /// Gate charges (watched by the truncation-error control).
    qgs: usize,
    qgd: usize,
    qgb: usize,
    /// Bulk junction charges (not watched, as in ngspice).
    qbd: usize,
    qbs: usize,
    /// State slots of the junction capacitances capbd, capbs of the last
    /// load, for an AC analysis.
    cslot: usize,
}

#[derive(Debug, Clone, Copy)]
enum Level {
    One { lambda: f64, gamma: f64 },
    Two(Mos2),
    Three(Mos3),
}

/// Level-2 constants of one instance.
#[derive(Debug, Clone, Copy)]
struct Mos2 {
    leff: f64,
    weff: f64,
    gamma: f64,
    lambda: f64,
    /// DELTA, the narrow-width factor.
    narrow: f64,
    ucrit: f64,
    uexp: f64,
    vmax: f64,
    xj: f64,
    neff: f64,
    nfs: f64,
    /// Depletion width coefficient and doping (both 0 without NSUB).
    xd: f64,
    nsub: f64,
    oxide_cap_factor: f64,
    /// UO as given: mos2load.c uses it without temperature scaling.
    surface_mobility: f64,
    bulk_potential: f64,
}

/// Level-3 constants of one instance.
#[derive(Debug, Clone, Copy)]
struct Mos3 {
    leff: f64,
    weff: f64,
    gamma: f64,
    /// Static feedback, already scaled by `8.15e-22 / (Cox'·Leff³)`.
    eta: f64,
    narrow_factor: f64,
    xj: f64,
    ld: f64,
    /// Depletion-layer width coefficient (from NSUB).
    xd: f64,
    alpha: f64,
    kappa: f64,
    theta: f64,
    vmax: f64,
    nfs: f64,
    /// Surface mobility at the circuit temperature, cm²/Vs.
    surface_mobility: f64,
}

/// One bulk junction: saturation current, critical voltage and its
/// depletion capacitances (bottom and sidewall).
#[derive(Debug, Clone, Copy, Default)]
struct Junction {
    isat: f64,
    vcrit: f64,
    cz: f64,
    czsw: f64,
    mj: f64,
    mjsw: f64,
    pb: f64,
    /// `fc·pb` and the coefficients of the charge above it.
    depcap: f64,
    f2: f64,
    f3: f64,
    f4: f64,
}

impl Junction {
    /// Depletion charge and capacitance at `v` (mos1load.c's form: both
    /// grading coefficients share the potential, the linear extension
    /// above `fc·pb` comes from precomputed coefficients).
    fn charge(&self, v: f64) -> (f64, f64) {
        if self.cz == 0.0 && self.czsw == 0.0 {
            return (0.0, 0.0);
        }
        if v < self.depcap {
            let arg = 1.0 - v / self.pb;
            let power = |m: f64| {
                if m == 0.5 {
                    1.0 / arg.sqrt()
                } else {
                    (-m * arg.ln()).exp()
                }
            };
            let (sarg, sargsw) = (power(self.mj), power(self.mjsw));
            (
                self.pb
                    * (self.cz * (1.0 - arg * sarg) / (1.0 - self.mj)
                        + self.czsw * (1.0 - arg * sargsw) / (1.0 - self.mjsw)),
                self.cz * sarg + self.czsw * sargsw,
            )
        } else {
            (
                self.f4 + v * (self.f2 + v * (self.f3 / 2.0)),
                self.f2 + self.f3 * v,
            )
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Slots {
    dd: Slot,
    gg: Slot,
    ss: Slot,
    bb: Slot,
    dpdp: Slot,
    spsp: Slot,
    ddp: Slot,
    gb: Slot,
    gdp: Slot,
    gsp: Slot,
    ssp: Slot,
    bdp: Slot,
    bsp: Slot,
    dpsp: Slot,
    dpd: Slot,
    bg: Slot,
    dpg: Slot,
    spg: Slot,
    sps: Slot,
    dpb: Slot,
    spb: Slot,
    spdp: Slot,
}

/// Channel current and its derivatives in normal orientation (`vds >= 0`).
struct ChannelOut {
    cdrain: f64,
    gm: f64,
    gds: f64,
    gmbs: f64,
    von: f64,
    vdsat: f64,
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

fn egfet(t: f64) -> f64 {
    1.16 - (7.02e-4 * t * t) / (t + 1108.0)
}

fn pbfact(t: f64) -> f64 {
    let vt = BOLTZ / CHARGE * t;
    let arg = -egfet(t) / (2.0 * BOLTZ * t) + 1.115_087_7 / (BOLTZ * (REFTEMP + REFTEMP));
    -2.0 * vt * (1.5 * (t / REFTEMP).ln() + CHARGE * arg)
}

impl Mosfet {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        model: &Model,
        w: Option<f64>,
        l: Option<f64>,
        geometry: &MosGeometry,
        opts: &Options,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 4)?;
        let level = model.params.get("level").copied().unwrap_or(1.0);
        // Parsed decks are refused earlier, by the parser; this catches
        // cards built in code (the crossbar's access transistor).
        if let Some(what) = unsupported_mosfet_level(level) {
            return Err(NodalError::UnsupportedModel {
                model: model.name.clone(),
                what,
                loc: Box::new(model.loc.clone()),
            });
        }
        let level3 = level == 3.0;
        let level2 = level == 2.0;
        let mut known = COMMON.to_vec();
        known.extend_from_slice(match level as i64 {
            2 => LEVEL2,
            3 => LEVEL3,
            _ => LEVEL1,
        });
        let p = ModelParams::new(model, &known)?;
        let sign = if model.kind == "pmos" { -1.0 } else { 1.0 };
        let w = super::finite(e, "w", w.unwrap_or(opts.defw))?;
        let l = super::finite(e, "l", l.unwrap_or(opts.defl))?;
        if w <= 0.0 || l <= 0.0 {
            return Err(super::bad(e, format!("w = {w} and l = {l} must be > 0")));
        }
        let non_negative =
            |name: &str, default: f64| p.checked(name, default, |v| v >= 0.0, "must be >= 0");
        let ld = non_negative("ld", 0.0)?;
        let (leff, weff) = if level3 {
            (
                l - 2.0 * ld + p.get("xl", 0.0),
                w - 2.0 * p.get("wd", 0.0) + p.get("xw", 0.0),
            )
        } else {
            (l - 2.0 * ld, w)
        };
        if leff <= 0.0 || weff <= 0.0 {
            return Err(super::bad(
                e,
                format!("effective channel length {leff} and width {weff} must be > 0"),
            ));
        }

        // Process parameters at the nominal temperature (mos1temp.c /
        // mos3temp.c model preprocessing).
        let tnom = p.given("tnom").unwrap_or(opts.tnom) + CELSIUS_TO_KELVIN;
        let vtnom = BOLTZ / CHARGE * tnom;
        let egfet1 = egfet(tnom);
        let mut phi = p.checked("phi", 0.6, |v| v > 0.0, "must be > 0")?;
        let mut gamma = non_negative("gamma", 0.0)?;
        let mut vt0 = p.given("vto").or(p.given("vt0")).unwrap_or(0.0);
        let tox = match p.given("tox") {
            Some(t) if t < 0.0 => return Err(ModelParams::error(model, "tox", t, "must be >= 0")),
            Some(t) if t > 0.0 => Some(t),
            // Levels 2 and 3 always have an oxide (TOX defaults to 100 nm).
            _ if level2 || level3 => Some(1e-7),
            _ => None,
        };
        let oxide_cap_factor = tox.map_or(0.0, |t| EPS_OX / t);
        let surface_mobility = p.given("uo").or(p.given("u0")).unwrap_or(600.0);
        let kp = match (p.given("kp"), tox) {
            (Some(kp), _) => kp,
            // Without KP, ngspice derives it from the mobility and oxide.
            (None, Some(_)) => surface_mobility * oxide_cap_factor * 1e-4,
            (None, None) => 2e-5,
        };
        if kp <= 0.0 {
            return Err(ModelParams::error(model, "kp", kp, "must be > 0"));
        }
        let (mut alpha, mut xd) = (0.0, 0.0);
        if let (Some(nsub), true) = (p.given("nsub"), oxide_cap_factor > 0.0) {
            let ni = if level3 {
                let nifact = (tnom / 300.0)
                    * (tnom / 300.0).sqrt()
                    * (0.5 * egfet1 * (1.0 / 300.0 - 1.0 / tnom) / (BOLTZ / CHARGE)).exp();
                1.45e16 * nifact
            } else {
                1.45e16
            };
            if nsub * 1e6 <= ni {
                return Err(ModelParams::error(
                    model,
                    "nsub",
                    nsub,
                    "must exceed the intrinsic carrier density (1.45e10 cm^-3)",
                ));
            }
            if p.given("phi").is_none() {
                phi = (2.0 * vtnom * (nsub * 1e6 / ni).ln()).max(0.1);
            }
            let fermis = sign * 0.5 * phi;
            let tpg = p.get("tpg", 1.0);
            let wkfng = if tpg != 0.0 {
                3.25 + 0.5 * egfet1 - sign * tpg * 0.5 * egfet1
            } else {
                3.2
            };
            let wkfngs = wkfng - (3.25 + 0.5 * egfet1 + fermis);
            if p.given("gamma").is_none() {
                gamma = (2.0 * EPS_SI * CHARGE * nsub * 1e6).sqrt() / oxide_cap_factor;
            }
            if p.given("vto").or(p.given("vt0")).is_none() {
                let nss = p.get("nss", 0.0);
                let vfb = wkfngs - nss * 1e4 * CHARGE / oxide_cap_factor;
                vt0 = vfb + sign * (gamma * phi.sqrt() + phi);
            }
            alpha = (EPS_SI + EPS_SI) / (CHARGE * nsub * 1e6);
            xd = alpha.sqrt();
        }

        // Temperature (mos1temp.c): at TNOM these reduce to the model values.
        let temp = opts.temp + CELSIUS_TO_KELVIN;
        let vt = BOLTZ / CHARGE * temp;
        let ratio = temp / tnom;
        let ratio4 = ratio * ratio.sqrt();
        let fact1 = tnom / REFTEMP;
        let fact2 = temp / REFTEMP;
        let egfet_t = egfet(temp);
        let phio = (phi - pbfact(tnom)) / fact1;
        let tphi = fact2 * phio + pbfact(temp);
        let delvt0 = if level3 {
            p.given("delvt0").or(p.given("delvto")).unwrap_or(0.0)
        } else {
            0.0
        };
        let tvbi = delvt0 + vt0 - sign * (gamma * phi.sqrt())
            + 0.5 * (egfet1 - egfet_t)
            + sign * 0.5 * (tphi - phi);
        let tvto = tvbi + sign * gamma * tphi.sqrt();
        let sat_factor = (-egfet_t / vt + egfet1 / vtnom).exp();
        let is = p.checked("is", 1e-14, |v| v > 0.0, "must be > 0")? * sat_factor;
        let js = non_negative("js", 0.0)? * sat_factor;
        let pb = p.checked("pb", 0.8, |v| v > 0.0, "must be > 0")?;
        let mj = p.checked("mj", 0.5, |v| (0.0..1.0).contains(&v), "must be in [0, 1)")?;
        let mjsw = p.checked(
            "mjsw",
            if level2 || level3 { 0.33 } else { 0.5 },
            |v| (0.0..1.0).contains(&v),
            "must be in [0, 1)",
        )?;
        let fc = p.checked("fc", 0.5, |v| (0.0..1.0).contains(&v), "must be in [0, 1)")?;
        let pbo = (pb - pbfact(tnom)) / fact1;
        let gmaold = (pb - pbo) / pbo;
        let tpb = fact2 * pbo + pbfact(temp);
        let gmanew = (tpb - pbo) / pbo;
        let cap_temp = |m: f64| {
            (1.0 + m * (4e-4 * (temp - REFTEMP) - gmanew))
                / (1.0 + m * (4e-4 * (tnom - REFTEMP) - gmaold))
        };
        let cbd = p.given("cbd").map(|c| c * cap_temp(mj));
        let cbs = p.given("cbs").map(|c| c * cap_temp(mj));
        let cj = p.given("cj").map(|c| c * cap_temp(mj));
        let cjsw = p.given("cjsw").map(|c| c * cap_temp(mjsw));
        for (name, v) in [("cbd", cbd), ("cbs", cbs), ("cj", cj), ("cjsw", cjsw)] {
            if v.is_some_and(|v| v < 0.0) {
                return Err(ModelParams::error(
                    model,
                    name,
                    v.unwrap_or(0.0),
                    "must be >= 0",
                ));
            }
        }
        let ad = geometry.ad.unwrap_or(opts.defad);
        let as_ = geometry.r#as.unwrap_or(opts.defas);
        let junction = |area: f64, perimeter: f64, cfixed: Option<f64>| {
            let isat = if js == 0.0 || ad == 0.0 || as_ == 0.0 {
                is
            } else {
                js * area
            };
            let cz = cfixed.or(cj.map(|c| c * area)).unwrap_or(0.0);
            let czsw = cjsw.map_or(0.0, |c| c * perimeter);
            let arg = 1.0 - fc;
            let sarg = (-mj * arg.ln()).exp();
            let sargsw = (-mjsw * arg.ln()).exp();
            let depcap = fc * tpb;
            let f2 = cz * (1.0 - fc * (1.0 + mj)) * sarg / arg
                + czsw * (1.0 - fc * (1.0 + mjsw)) * sargsw / arg;
            let f3 = cz * mj * sarg / arg / tpb + czsw * mjsw * sargsw / arg / tpb;
            let f4 = cz * tpb * (1.0 - arg * sarg) / (1.0 - mj)
                + czsw * tpb * (1.0 - arg * sargsw) / (1.0 - mjsw)
                - f3 / 2.0 * (depcap * depcap)
                - depcap * f2;
            Junction {
                isat,
                vcrit: vt * (vt / (std::f64::consts::SQRT_2 * isat)).ln(),
                cz,
                czsw,
                mj,
                mjsw,
                pb: tpb,
                depcap,
                f2,
                f3,
                f4,
            }
        };
        let drain = junction(ad, geometry.pd.unwrap_or(0.0), cbd);
        let source = junction(as_, geometry.ps.unwrap_or(0.0), cbs);
        let series = |r: Option<f64>, squares: f64| -> f64 {
            match (r, p.given("rsh")) {
                (Some(r), _) if r > 0.0 => 1.0 / r,
                (Some(_), _) => 0.0,
                (None, Some(rsh)) if rsh > 0.0 && squares > 0.0 => 1.0 / (rsh * squares),
                _ => 0.0,
            }
        };
        for name in ["rd", "rs", "rsh"] {
            non_negative(name, 0.0)?;
        }
        let gdrain = series(p.given("rd"), geometry.nrd.unwrap_or(1.0));
        let gsource = series(p.given("rs"), geometry.nrs.unwrap_or(1.0));
        let level = if level2 {
            Level::Two(Mos2 {
                leff,
                weff,
                gamma,
                lambda: p.checked("lambda", 0.0, |v| v >= 0.0, "must be >= 0")?,
                narrow: p.get("delta", 0.0),
                ucrit: p.get("ucrit", 1e4),
                uexp: p.get("uexp", 0.0),
                vmax: p.get("vmax", 0.0),
                xj: non_negative("xj", 0.0)?,
                neff: p.checked("neff", 1.0, |v| v > 0.0, "must be > 0")?,
                nfs: p.get("nfs", 0.0),
                xd,
                nsub: if xd > 0.0 { p.get("nsub", 0.0) } else { 0.0 },
                oxide_cap_factor,
                surface_mobility,
                bulk_potential: tpb,
            })
        } else if level3 {
            let eta = p.get("eta", 0.0);
            Level::Three(Mos3 {
                leff,
                weff,
                gamma,
                eta: eta * 8.15e-22 / (oxide_cap_factor * leff * leff * leff),
                narrow_factor: p.get("delta", 0.0) * 0.5 * std::f64::consts::PI * EPS_SI
                    / oxide_cap_factor,
                xj: non_negative("xj", 0.0)?,
                ld,
                xd,
                alpha,
                kappa: p.get("kappa", 0.2),
                theta: p.get("theta", 0.0),
                vmax: p.get("vmax", 0.0),
                nfs: p.get("nfs", 0.0),
                surface_mobility: surface_mobility / ratio4,
            })
        } else {
            Level::One {
                lambda: p.checked("lambda", 0.0, |v| v >= 0.0, "must be >= 0")?,
                gamma,
            }
        };
        let overlap = |name: &str| non_negative(name, 0.0);
        Ok(Self {
            name: e.name.clone(),
            d: n[0],
            g: n[1],
            s: n[2],
            b: n[3],
            dp: n[0],
            sp: n[2],
            sign,
            level,
            vt,
            tphi,
            tvbi,
            tvto,
            beta: kp / ratio4 * weff / leff,
            oxide_cap: oxide_cap_factor * leff * weff,
            cgso: overlap("cgso")? * weff,
            cgdo: overlap("cgdo")? * weff,
            cgbo: overlap("cgbo")? * leff,
            gdrain,
            gsource,
            drain,
            source,
            cubic_reverse: level3,
            gmin: opts.gmin,
            slots: Slots::default(),
            von: 0.0,
            vslot: 0,
            qgs: 0,
            qgd: 0,
            qgb: 0,
            qbd: 0,
            qbs: 0,
            cslot: 0,
        })
    }

    /// Bulk junction current and conductance at `v`, with gmin.
    fn junction_current(&self, isat: f64, v: f64) -> (f64, f64) {
        let vt = self.vt;
        if v <= -3.0 * vt {
            if self.cubic_reverse {
                let arg = 3.0 * vt / (v * std::f64::consts::E);
                let arg = arg * arg * arg;
                (
                    -isat * (1.0 + arg) + self.gmin * v,
                    isat * 3.0 * arg / v + self.gmin,
                )
            } else {
                (self.gmin * v - isat, self.gmin)
            }
        } else {
            let e = (v / vt).min(709.0).exp();
            (isat * (e - 1.0) + self.gmin * v, isat * e / vt + self.gmin)
        }
    }

    /// Channel current of the level, normal orientation.
    fn channel(&self, vgs: f64, vds: f64, vbs: f64) -> ChannelOut {
        match self.level {
            Level::One { lambda, gamma } => self.level1(lambda, gamma, vgs, vds, vbs),
            Level::Two(m) => self.level2(&m, vgs, vds, vbs),
            Level::Three(m) => self.level3(&m, vgs, vds, vbs),
        }
    }

    fn level1(&self, lambda: f64, gamma: f64, vgs: f64, vds: f64, vbs: f64) -> ChannelOut {
        let sarg = if vbs <= 0.0 {
            (self.tphi - vbs).sqrt()
        } else {
            let s = self.tphi.sqrt();
            (s - vbs / (s + s)).max(0.0)
        };
        let von = self.tvbi * self.sign + gamma * sarg;
        let vgst = vgs - von;
        let vdsat = vgst.max(0.0);
        let arg = if sarg <= 0.0 {
            0.0
        } else {
            gamma / (sarg + sarg)
        };
        let off = ChannelOut {
            cdrain: 0.0,
            gm: 0.0,
            gds: 0.0,
            gmbs: 0.0,
            von,
            vdsat,
        };
        if vgst <= 0.0 {
            return off;
        }
        let beta = self.beta;
        let betap = beta * (1.0 + lambda * vds);
        let (cdrain, gm, gds) = if vgst <= vds {
            (
                betap * vgst * vgst * 0.5,
                betap * vgst,
                lambda * beta * vgst * vgst * 0.5,
            )
        } else {
            (
                betap * vds * (vgst - 0.5 * vds),
                betap * vds,
                betap * (vgst - vds) + lambda * beta * vds * (vgst - 0.5 * vds),
            )
        };
        ChannelOut {
            cdrain,
            gm,
            gds,
            gmbs: gm * arg,
            ..off
        }
    }

    /// mos2load.c's moseq2 (Grove-Frohman): charge-sheet current with
    /// short- and narrow-channel threshold (XJ, DELTA), mobility degradation
    /// (UCRIT, UEXP), Baum's velocity-saturated saturation voltage (VMAX,
    /// NEFF), channel-length modulation (LAMBDA or from NSUB) and weak
    /// inversion (NFS).
    fn level2(&self, m: &Mos2, lvgs: f64, lvds: f64, lvbs: f64) -> ChannelOut {
        const SIG1: [f64; 4] = [1.0, -1.0, 1.0, -1.0];
        const SIG2: [f64; 4] = [1.0, 1.0, -1.0, -1.0];
        let vt = self.vt;
        let tphi = self.tphi;
        let leff = m.leff;
        let phi_min_vbs = tphi - lvbs;
        let below = |v: f64| {
            // sqrt(phi - v) and its first two derivatives in v, continued
            // for forward bias as ngspice does.
            if v <= 0.0 {
                let s = (tphi - v).sqrt();
                let d = -0.5 / s;
                (s, d, 0.5 * d / (tphi - v))
            } else {
                let sphi = tphi.sqrt();
                let sphi3 = tphi * sphi;
                let s = sphi / (1.0 + 0.5 * v / tphi);
                let tmp = s / sphi3;
                let d = -0.5 * s * tmp;
                (s, d, -d * tmp)
            }
        };
        let (sarg1, dsrgdb, d2sdb2) = below(lvbs);
        let (mut barg, dbrgdb, d2bdb2) = below(lvbs - lvds);
        let oxide_cap = self.oxide_cap;
        let factor = 0.125 * m.narrow * 2.0 * std::f64::consts::PI * EPS_SI / oxide_cap * leff;
        let eta = 1.0 + factor;
        let vbin = self.tvbi * self.sign + factor * phi_min_vbs;
        let (gamasd, dgddvb, dgdvds, dgddb2) = if m.gamma > 0.0 || m.nsub > 0.0 {
            let xwd = m.xd * barg;
            let xws = m.xd * sarg1;
            let (mut argss, mut argsd, mut dbargs, mut dbargd) = (0.0, 0.0, 0.0, 0.0);
            let (mut dgdvds, mut dgddb2) = (0.0, 0.0);
            let (mut args, mut argd, mut argxs, mut argxd) = (0.0, 0.0, 0.0, 0.0);
            if m.xj > 0.0 {
                let tmp = 2.0 / m.xj;
                argxs = 1.0 + xws * tmp;
                argxd = 1.0 + xwd * tmp;
                args = argxs.sqrt();
                argd = argxd.sqrt();
                let tmp = 0.5 * m.xj / leff;
                argss = tmp * (args - 1.0);
                argsd = tmp * (argd - 1.0);
            }
            let gamasd = m.gamma * (1.0 - argss - argsd);
            let dbxwd = m.xd * dbrgdb;
            let dbxws = m.xd * dsrgdb;
            if m.xj > 0.0 {
                let tmp = 0.5 / leff;
                dbargs = tmp * dbxws / args;
                dbargd = tmp * dbxwd / argd;
                let dasdb2 =
                    -m.xd * (d2sdb2 + dsrgdb * dsrgdb * m.xd / (m.xj * argxs)) / (leff * args);
                let daddb2 =
                    -m.xd * (d2bdb2 + dbrgdb * dbrgdb * m.xd / (m.xj * argxd)) / (leff * argd);
                dgddb2 = -0.5 * m.gamma * (dasdb2 + daddb2);
            }
            let dgddvb = -m.gamma * (dbargs + dbargd);
            if m.xj > 0.0 {
                let ddxwd = -dbxwd;
                dgdvds = -m.gamma * 0.5 * ddxwd / (leff * argd);
            }
            (gamasd, dgddvb, dgdvds, dgddb2)
        } else {
            (m.gamma, 0.0, 0.0, 0.0)
        };
        let mut von = vbin + gamasd * sarg1;
        let mut vdsat = 0.0;
        let nfs_on = m.nfs != 0.0 && oxide_cap != 0.0;
        let (mut xn, mut argg) = (0.0, 0.0);
        let off = |gds: f64, von: f64, vdsat: f64| ChannelOut {
            cdrain: 0.0,
            gm: 0.0,
            gds,
            gmbs: 0.0,
            von,
            vdsat,
        };
        let vgst;
        if nfs_on {
            let cfs = CHARGE * m.nfs * 1e4;
            let cdonco = -(gamasd * dsrgdb + dgddvb * sarg1) + factor;
            xn = 1.0 + cfs / oxide_cap * m.weff * leff + cdonco;
            let tmp = vt * xn;
            von += tmp;
            argg = 1.0 / tmp;
            vgst = lvgs - von;
        } else {
            vgst = lvgs - von;
            if lvgs <= vbin {
                return off(0.0, von, vdsat);
            }
        }
        let sarg3 = sarg1 * sarg1 * sarg1;
        let sbiarg = m.bulk_potential.sqrt();
        let mut gammad = gamasd;
        let dgdvbs = dgddvb;
        let mut body = barg * barg * barg - sarg3;
        let mut gdbdv = 2.0 * gammad * (barg * barg * dbrgdb - sarg1 * sarg1 * dsrgdb);
        let mut dodvbs = -factor + dgdvbs * sarg1 + gammad * dsrgdb;
        let (mut dxndvb, mut dxndvd, mut dodvds) = (0.0, 0.0, 0.0);
        if nfs_on {
            dxndvb = 2.0 * dgdvbs * dsrgdb + gammad * d2sdb2 + dgddb2 * sarg1;
            dodvbs += vt * dxndvb;
            dxndvd = dgdvds * dsrgdb;
            dodvds = dgdvds * sarg1 + vt * dxndvd;
        }
        // Effective mobility.
        let critical = m.ucrit * 100.0 * EPS_SI / m.oxide_cap_factor;
        let (ufact, ueff, dudvgs, dudvds, dudvbs) = if oxide_cap > 0.0 && vgst > critical {
            let ufact = (m.uexp * (critical / vgst).ln()).exp();
            (
                ufact,
                m.surface_mobility * 1e-4 * ufact,
                -ufact * m.uexp / vgst,
                0.0,
                m.uexp * ufact * dodvbs / vgst,
            )
        } else {
            (1.0, m.surface_mobility * 1e-4, 0.0, 0.0, 0.0)
        };
        // Saturation voltage (Grove-Frohman).
        let vgsx = if nfs_on { lvgs.max(von) } else { lvgs };
        gammad = gamasd / eta;
        let (mut dsdvgs, mut dsdvbs);
        if gammad > 0.0 {
            let gammd2 = gammad * gammad;
            let argv = (vgsx - vbin) / eta + phi_min_vbs;
            if argv <= 0.0 {
                vdsat = 0.0;
                dsdvgs = 0.0;
                dsdvbs = 0.0;
            } else {
                let arg1 = (1.0 + 4.0 * argv / gammd2).sqrt();
                vdsat = ((vgsx - vbin) / eta + gammd2 * (1.0 - arg1) / 2.0).max(0.0);
                dsdvgs = (1.0 - 1.0 / arg1) / eta;
                dsdvbs = (gammad * (1.0 - arg1) + 2.0 * argv / (gammad * arg1)) / eta * dgdvbs
                    + 1.0 / arg1
                    + factor * dsdvgs;
            }
        } else {
            vdsat = ((vgsx - vbin) / eta).max(0.0);
            dsdvgs = 1.0;
            dsdvbs = 0.0;
        }
        if m.vmax > 0.0 {
            // Baum's scattering-limited saturation voltage: the smallest
            // positive root of a quartic, solved in closed form.
            let v1 = (vgsx - vbin) / eta + phi_min_vbs;
            let v2 = phi_min_vbs;
            let xv = m.vmax * leff / ueff;
            let a1 = gammad / 0.75;
            let b1 = -2.0 * (v1 + xv);
            let c1 = -2.0 * gammad * xv;
            let d1 = 2.0 * v1 * (v2 + xv) - v2 * v2 - 4.0 / 3.0 * gammad * sarg3;
            let a = -b1;
            let b = a1 * c1 - 4.0 * d1;
            let c = -d1 * (a1 * a1 - 4.0 * b1) - c1 * c1;
            let r = -a * a / 3.0 + b;
            let s = 2.0 * a * a * a / 27.0 - a * b / 3.0 + c;
            let r3 = r * r * r;
            let s2 = s * s;
            let p = s2 / 4.0 + r3 / 27.0;
            let p0 = p.abs();
            let p2 = p0.sqrt();
            let y3 = if p < 0.0 {
                let ro = ((s2 / 4.0 + p0).sqrt().ln() / 3.0).exp();
                let fi = (-2.0 * p2 / s).atan();
                2.0 * ro * (fi / 3.0).cos() - a / 3.0
            } else {
                let p3 = ((-s / 2.0 + p2).abs().ln() / 3.0).exp();
                let p4 = ((-s / 2.0 - p2).abs().ln() / 3.0).exp();
                p3 + p4 - a / 3.0
            };
            let a3 = (a1 * a1 / 4.0 - b1 + y3).sqrt();
            let b3 = (y3 * y3 / 4.0 - d1).sqrt();
            let mut roots = Vec::with_capacity(8);
            for i in 0..4 {
                let a4 = a1 / 2.0 + SIG1[i] * a3;
                let b4 = y3 / 2.0 + SIG2[i] * b3;
                let delta4 = a4 * a4 / 4.0 - b4;
                if delta4 < 0.0 {
                    continue;
                }
                let tmp = delta4.sqrt();
                roots.push(-a4 / 2.0 + tmp);
                roots.push(-a4 / 2.0 - tmp);
            }
            let valid = roots
                .iter()
                .copied()
                .filter(|&x| {
                    x > 0.0 && {
                        let poly = x * x * x * x + a1 * x * x * x + b1 * x * x + c1 * x + d1;
                        poly.abs() <= 1e-6
                    }
                })
                .reduce(f64::min);
            if let Some(x) = valid {
                vdsat = x * x - phi_min_vbs;
            }
        }
        // Effective channel length.
        let mut xlamda = m.lambda;
        let (mut dldvgs, mut dldvds, mut dldvbs) = (0.0, 0.0, 0.0);
        let (mut bsarg, mut bodys, mut gdbdvs) = (0.0, 0.0, 0.0);
        if lvds != 0.0 {
            gammad = gamasd;
            let dbsrdb;
            if lvbs - vdsat <= 0.0 {
                bsarg = (vdsat + phi_min_vbs).sqrt();
                dbsrdb = -0.5 / bsarg;
            } else {
                let sphi = tphi.sqrt();
                let sphi3 = tphi * sphi;
                bsarg = sphi / (1.0 + 0.5 * (lvbs - vdsat) / tphi);
                dbsrdb = -0.5 * bsarg * bsarg / sphi3;
            }
            bodys = bsarg * bsarg * bsarg - sarg3;
            gdbdvs = 2.0 * gammad * (bsarg * bsarg * dbsrdb - sarg1 * sarg1 * dsrgdb);
            let dldsat = if m.vmax <= 0.0 {
                if m.nsub == 0.0 || xlamda > 0.0 {
                    None
                } else {
                    let argv = (lvds - vdsat) / 4.0;
                    let sargv = (1.0 + argv * argv).sqrt();
                    let arg1 = (argv + sargv).sqrt();
                    let xlfact = m.xd / (leff * lvds);
                    xlamda = xlfact * arg1;
                    Some(lvds * xlamda / (8.0 * sargv))
                }
            } else {
                let argv = (vgsx - vbin) / eta - vdsat;
                let xdv = m.xd / m.neff.sqrt();
                let xlv = m.vmax * xdv / (2.0 * ueff);
                let vqchan = argv - gammad * bsarg;
                let dqdsat = -1.0 + gammad * dbsrdb;
                let vl = m.vmax * leff;
                let dfunds = vl * dqdsat - ueff * vqchan;
                let dfundg = (vl - ueff * vdsat) / eta;
                let dfundb = -vl * (1.0 + dqdsat - factor / eta)
                    + ueff * (gdbdvs - dgdvbs * bodys / 1.5) / eta;
                dsdvgs = -dfundg / dfunds;
                dsdvbs = -dfundb / dfunds;
                if m.nsub == 0.0 || xlamda > 0.0 {
                    None
                } else {
                    let argv = (lvds - vdsat).max(0.0);
                    let xls = (xlv * xlv + argv).sqrt();
                    let xlfact = xdv / (leff * lvds);
                    xlamda = xlfact * (xls - xlv);
                    Some(xdv / (2.0 * xls) / leff)
                }
            };
            if let Some(dldsat) = dldsat {
                dldvgs = dldsat * dsdvgs;
                dldvds = -xlamda + dldsat;
                dldvbs = dldsat * dsdvbs;
            }
        }
        // Channel shortening limited at punch-through.
        let mut xwb = m.xd * sbiarg;
        let xld = leff - xwb;
        let mut clfact = 1.0 - xlamda * lvds;
        dldvds = -xlamda - dldvds;
        let mut xleff = leff * clfact;
        let deltal = xlamda * lvds * leff;
        if m.nsub == 0.0 {
            xwb = 0.25e-6;
        }
        if xleff < xwb {
            xleff = xwb / (1.0 + (deltal - xld) / xwb);
            clfact = xleff / leff;
            let dfact = xleff * xleff / (xwb * xwb);
            dldvgs *= dfact;
            dldvds *= dfact;
            dldvbs *= dfact;
        }
        let beta1 = self.beta * ufact / clfact;
        gammad = gamasd;
        if lvds <= 1.0e-10 {
            let gds = if lvgs <= von {
                if nfs_on {
                    beta1 * (von - vbin - gammad * sarg1) * (argg * (lvgs - von)).exp()
                } else {
                    0.0
                }
            } else {
                beta1 * (lvgs - vbin - gammad * sarg1)
            };
            return off(gds, von, vdsat);
        }
        let (cdrain, gm, gds, gmbs);
        if nfs_on && lvgs <= von {
            // Weak inversion.
            if vdsat <= 0.0 {
                return off(0.0, von, vdsat);
            }
            let vdson = vdsat.min(lvds);
            if lvds > vdsat {
                barg = bsarg;
                body = bodys;
                gdbdv = gdbdvs;
            }
            let cdson = beta1 * ((von - vbin - eta * vdson * 0.5) * vdson - gammad * body / 1.5);
            let didvds = beta1 * (von - vbin - eta * vdson - gammad * barg);
            let mut gdson = -cdson * dldvds / clfact - beta1 * dgdvds * body / 1.5;
            if lvds < vdsat {
                gdson += didvds;
            }
            let mut gbson = -cdson * dldvbs / clfact
                + beta1 * (dodvbs * vdson + factor * vdson - dgdvbs * body / 1.5 - gdbdv);
            if lvds > vdsat {
                gbson += didvds * dsdvbs;
            }
            let expg = (argg * (lvgs - von)).exp();
            cdrain = cdson * expg;
            let gmw = cdrain * argg;
            gm = if lvds > vdsat {
                gmw + didvds * dsdvgs * expg
            } else {
                gmw
            };
            let tmp = gmw * (lvgs - von) / xn;
            gds = gdson * expg - gm * dodvds - tmp * dxndvd;
            gmbs = gbson * expg - gm * dodvbs - tmp * dxndvb;
        } else if lvds <= vdsat {
            // Linear region.
            cdrain = beta1 * ((lvgs - vbin - eta * lvds / 2.0) * lvds - gammad * body / 1.5);
            gm = cdrain * (dudvgs / ufact - dldvgs / clfact) + beta1 * lvds;
            gds = cdrain * (dudvds / ufact - dldvds / clfact)
                + beta1 * (lvgs - vbin - eta * lvds - gammad * barg - dgdvds * body / 1.5);
            gmbs = cdrain * (dudvbs / ufact - dldvbs / clfact)
                - beta1 * (gdbdv + dgdvbs * body / 1.5 - factor * lvds);
        } else {
            // Saturation.
            cdrain = beta1 * ((lvgs - vbin - eta * vdsat / 2.0) * vdsat - gammad * bodys / 1.5);
            gm = cdrain * (dudvgs / ufact - dldvgs / clfact)
                + beta1 * vdsat
                + beta1 * (lvgs - vbin - eta * vdsat - gammad * bsarg) * dsdvgs;
            gds = -cdrain * dldvds / clfact - beta1 * dgdvds * bodys / 1.5;
            gmbs = cdrain * (dudvbs / ufact - dldvbs / clfact)
                - beta1 * (gdbdvs + dgdvbs * bodys / 1.5 - factor * vdsat)
                + beta1 * (lvgs - vbin - eta * vdsat - gammad * bsarg) * dsdvbs;
        }
        ChannelOut {
            cdrain,
            gm,
            gds,
            gmbs,
            von,
            vdsat,
        }
    }

    /// mos3load.c's moseq3: short-channel threshold (XJ, LD, the depletion
    /// width from NSUB), narrow width (DELTA), static feedback (ETA),
    /// mobility degradation (THETA), velocity saturation (VMAX), channel
    /// length modulation (KAPPA) and weak inversion (NFS).
    fn level3(&self, m: &Mos3, vgs: f64, vds: f64, vbs: f64) -> ChannelOut {
        const COEFF0: f64 = 0.0631353;
        const COEFF1: f64 = 0.8013292;
        const COEFF2: f64 = -0.01110777;
        let vt = self.vt;
        let leff = m.leff;
        let oneoverxl = 1.0 / leff;
        let (phibs, sqphbs, dsqdvb) = if vbs <= 0.0 {
            let phibs = self.tphi - vbs;
            let sq = phibs.sqrt();
            (phibs, sq, -0.5 / sq)
        } else {
            let sqphis = self.tphi.sqrt();
            let sqphs3 = self.tphi * sqphis;
            let sq = sqphis / (1.0 + vbs / (self.tphi + self.tphi));
            let phibs = sq * sq;
            (phibs, sq, -phibs / (sqphs3 + sqphs3))
        };
        // Short-channel effect.
        let (fshort, dfsdvb) = if m.xj != 0.0 && m.xd != 0.0 {
            let wps = m.xd * sqphbs;
            let oneoverxj = 1.0 / m.xj;
            let xjonxl = m.xj * oneoverxl;
            let djonxj = m.ld * oneoverxj;
            let wponxj = wps * oneoverxj;
            let wconxj = COEFF0 + COEFF1 * wponxj + COEFF2 * wponxj * wponxj;
            let arga = wconxj + djonxj;
            let argc = wponxj / (1.0 + wponxj);
            let argb = (1.0 - argc * argc).sqrt();
            let fshort = 1.0 - xjonxl * (arga * argb - djonxj);
            let dwpdvb = m.xd * dsqdvb;
            let dadvb = (COEFF1 + COEFF2 * (wponxj + wponxj)) * dwpdvb * oneoverxj;
            let dbdvb = -argc * argc * (1.0 - argc) * dwpdvb / (argb * wps);
            (fshort, -xjonxl * (dadvb * argb + arga * dbdvb))
        } else {
            (1.0, 0.0)
        };
        // Body effect.
        let gammas = m.gamma * fshort;
        let fbodys = 0.5 * gammas / (sqphbs + sqphbs);
        let fbody = fbodys + m.narrow_factor / m.weff;
        let onfbdy = 1.0 / (1.0 + fbody);
        let dfbdvb = -fbodys * dsqdvb / sqphbs + fbodys * dfsdvb / fshort;
        let qbonco = gammas * sqphbs + m.narrow_factor * phibs / m.weff;
        let dqbdvb = gammas * dsqdvb + m.gamma * dfsdvb * sqphbs - m.narrow_factor / m.weff;
        // Static feedback and threshold.
        let vbix = self.tvbi * self.sign - m.eta * vds;
        let vth = vbix + qbonco;
        let dvtdvd = -m.eta;
        let dvtdvb = dqbdvb;
        let mut von = vth;
        let (mut xn, mut dxndvb, mut dvodvd, mut dvodvb) = (0.0, 0.0, 0.0, 0.0);
        let off = |von: f64| ChannelOut {
            cdrain: 0.0,
            gm: 0.0,
            gds: 0.0,
            gmbs: 0.0,
            von,
            vdsat: 0.0,
        };
        if m.nfs != 0.0 {
            let csonco = CHARGE * m.nfs * 1e4 * leff * m.weff / self.oxide_cap;
            let cdonco = qbonco / (phibs + phibs);
            xn = 1.0 + csonco + cdonco;
            von = vth + vt * xn;
            dxndvb = dqbdvb / (phibs + phibs) - qbonco * dsqdvb / (phibs * sqphbs);
            dvodvd = dvtdvd;
            dvodvb = dvtdvb + vt * dxndvb;
        } else if vgs <= von {
            return off(von);
        }
        // Device on.
        let vgsx = vgs.max(von);
        let onfg = 1.0 + m.theta * (vgsx - vth);
        let fgate = 1.0 / onfg;
        let us = m.surface_mobility * 1e-4 * fgate;
        let dfgdvg = -m.theta * fgate * fgate;
        let dfgdvd = -dfgdvg * dvtdvd;
        let dfgdvb = -dfgdvg * dvtdvb;
        // Saturation voltage.
        let mut vdsat = (vgsx - vth) * onfbdy;
        let (dvsdvg, dvsdvd, dvsdvb, onvdsc);
        if m.vmax <= 0.0 {
            dvsdvg = onfbdy;
            dvsdvd = -dvsdvg * dvtdvd;
            dvsdvb = -dvsdvg * dvtdvb - vdsat * dfbdvb * onfbdy;
            onvdsc = 0.0;
        } else {
            let vdsc = leff * m.vmax / us;
            onvdsc = 1.0 / vdsc;
            let arga = (vgsx - vth) * onfbdy;
            let argb = (arga * arga + vdsc * vdsc).sqrt();
            vdsat = arga + vdsc - argb;
            let dvsdga = (1.0 - arga / argb) * onfbdy;
            dvsdvg = dvsdga - (1.0 - vdsc / argb) * vdsc * dfgdvg * onfg;
            dvsdvd = -dvsdvg * dvtdvd;
            dvsdvb = -dvsdvg * dvtdvb - arga * dvsdga * dfbdvb;
        }
        // Linear-region current factors.
        let vdsx = vds.min(vdsat);
        let mut beta = self.beta;
        if vdsx == 0.0 {
            beta *= fgate;
            let mut gds = beta * (vgsx - vth);
            if m.nfs != 0.0 && vgs < von {
                gds *= ((vgs - von) / (vt * xn)).exp();
            }
            return ChannelOut {
                cdrain: 0.0,
                gm: 0.0,
                gds,
                gmbs: 0.0,
                von,
                vdsat,
            };
        }
        let cdo = vgsx - vth - 0.5 * (1.0 + fbody) * vdsx;
        let dcodvb = -dvtdvb - 0.5 * dfbdvb * vdsx;
        let cdnorm = cdo * vdsx;
        let mut gm = vdsx;
        let mut gds = if vds > vdsat {
            -dvtdvd * vdsx
        } else {
            vgsx - vth - (1.0 + fbody + dvtdvd) * vdsx
        };
        let mut gmbs = dcodvb * vdsx;
        let cd1 = beta * cdnorm;
        beta *= fgate;
        let mut cdrain = beta * cdnorm;
        gm = beta * gm + dfgdvg * cd1;
        gds = beta * gds + dfgdvd * cd1;
        gmbs = beta * gmbs + dfgdvb * cd1;
        // Velocity saturation.
        let (mut fdrain, mut dfddvg, mut dfddvd, mut dfddvb) = (0.0, 0.0, 0.0, 0.0);
        if m.vmax > 0.0 {
            fdrain = 1.0 / (1.0 + vdsx * onvdsc);
            let fd2 = fdrain * fdrain;
            let arga = fd2 * vdsx * onvdsc * onfg;
            dfddvg = -dfgdvg * arga;
            dfddvd = if vds > vdsat {
                -dfgdvd * arga
            } else {
                -dfgdvd * arga - fd2 * onvdsc
            };
            dfddvb = -dfgdvb * arga;
            gm = fdrain * gm + dfddvg * cdrain;
            gds = fdrain * gds + dfddvd * cdrain;
            gmbs = fdrain * gmbs + dfddvb * cdrain;
            cdrain *= fdrain;
        }
        // Channel-length modulation.
        let mut gds0 = 0.0;
        let modulation = if vds <= vdsat {
            if m.vmax > 0.0 || m.alpha == 0.0 {
                None
            } else {
                let arga = vds / vdsat;
                let mut delxl = (m.kappa * m.alpha * vdsat / 8.0).sqrt();
                let dldvd = 4.0 * delxl * arga * arga * arga / vdsat;
                let a4 = arga * arga * arga * arga;
                delxl *= a4;
                Some((delxl, dldvd, 0.0, -dldvd, 0.0))
            }
        } else if m.vmax <= 0.0 {
            let delxl = (m.kappa * m.alpha * (vds - vdsat + vdsat / 8.0)).sqrt();
            let dldvd = 0.5 * delxl / (vds - vdsat + vdsat / 8.0);
            Some((delxl, dldvd, 0.0, -dldvd, 0.0))
        } else if m.alpha == 0.0 {
            None
        } else {
            let cdsat = cdrain;
            let gdsat = (cdsat * (1.0 - fdrain) * onvdsc).max(1e-12);
            let gdoncd = gdsat / cdsat;
            let gdonfd = gdsat / (1.0 - fdrain);
            let gdonfg = gdsat * onfg;
            let dgdvg = gdoncd * gm - gdonfd * dfddvg + gdonfg * dfgdvg;
            let dgdvd = gdoncd * gds - gdonfd * dfddvd + gdonfg * dfgdvd;
            let dgdvb = gdoncd * gmbs - gdonfd * dfddvb + gdonfg * dfgdvb;
            let emax = m.kappa * cdsat * oneoverxl / gdsat;
            let emoncd = emax / cdsat;
            let emongd = emax / gdsat;
            let demdvg = emoncd * gm - emongd * dgdvg;
            let demdvd = emoncd * gds - emongd * dgdvd;
            let demdvb = emoncd * gmbs - emongd * dgdvb;
            let arga = 0.5 * emax * m.alpha;
            let argc = m.kappa * m.alpha;
            let argb = (arga * arga + argc * (vds - vdsat)).sqrt();
            let delxl = argb - arga;
            let (dldvd, dldem) = if argb != 0.0 {
                (argc / (argb + argb), 0.5 * (arga / argb - 1.0) * m.alpha)
            } else {
                (0.0, 0.0)
            };
            Some((
                delxl,
                dldvd,
                dldem * demdvg,
                dldem * demdvd - dldvd,
                dldem * demdvb,
            ))
        };
        if let Some((mut delxl, mut dldvd, mut ddldvg, mut ddldvd, mut ddldvb)) = modulation {
            // Punch-through approximation.
            if delxl > 0.5 * leff {
                delxl = leff - leff * leff / (4.0 * delxl);
                let arga = 4.0 * (leff - delxl) * (leff - delxl) / (leff * leff);
                ddldvg *= arga;
                ddldvd *= arga;
                ddldvb *= arga;
                dldvd *= arga;
            }
            let dlonxl = delxl * oneoverxl;
            let xlfact = 1.0 / (1.0 - dlonxl);
            cdrain *= xlfact;
            let diddl = cdrain / (leff - delxl);
            gm = gm * xlfact + diddl * ddldvg;
            gmbs = gmbs * xlfact + diddl * ddldvb;
            gds0 = diddl * ddldvd;
            gm += gds0 * dvsdvg;
            gmbs += gds0 * dvsdvb;
            gds = gds * xlfact + diddl * dldvd + gds0 * dvsdvd;
        }
        // Weak inversion.
        if vgs < von {
            let onxn = 1.0 / xn;
            let ondvt = onxn / vt;
            let wfact = ((vgs - von) * ondvt).exp();
            cdrain *= wfact;
            let gms = gm * wfact;
            let gmw = cdrain * ondvt;
            gm = gmw;
            if vds > vdsat {
                gm += gds0 * dvsdvg * wfact;
            }
            gds = gds * wfact + (gms - gmw) * dvodvd;
            gmbs = gmbs * wfact + (gms - gmw) * dvodvb - gmw * (vgs - von) * onxn * dxndvb;
        }
        ChannelOut {
            cdrain,
            gm,
            gds,
            gmbs,
            von,
            vdsat,
        }
    }
}

/// Meyer's gate capacitances (half of the bias-dependent part each, as
/// ngspice's DEVqmeyer returns them: the other half is the previous time
/// point's) in normal orientation: (capgs, capgd, capgb).
fn meyer(vgs: f64, vgd: f64, von: f64, vdsat: f64, phi: f64, cox: f64) -> (f64, f64, f64) {
    // ngspice's floor on vdsat, which keeps the capacitances finite at the
    // edge of conduction.
    const MAGIC_VDS: f64 = 0.025;
    let vgst = vgs - von;
    let vdsat = vdsat.max(MAGIC_VDS);
    let vds = vgs - vgd;
    let split = |c: f64| {
        let vddif = 2.0 * vdsat - vds;
        let vddif1 = vdsat - vds;
        let vddif2 = vddif * vddif;
        (
            c * (1.0 - vddif1 * vddif1 / vddif2),
            c * (1.0 - vdsat * vdsat / vddif2),
        )
    };
    if vgst <= -phi {
        (0.0, 0.0, cox / 2.0)
    } else if vgst <= -phi / 2.0 {
        (0.0, 0.0, -vgst * cox / (2.0 * phi))
    } else if vgst <= 0.0 {
        let capgb = -vgst * cox / (2.0 * phi);
        let capgs = vgst * cox / (1.5 * phi) + cox / 3.0;
        if vds >= vdsat {
            (capgs, 0.0, capgb)
        } else {
            let (gs, gd) = split(capgs);
            (gs, gd, capgb)
        }
    } else if vdsat <= vds {
        (cox / 3.0, 0.0, 0.0)
    } else {
        let (gs, gd) = split(cox / 3.0);
        (gs, gd, 0.0)
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
        if self.gdrain > 0.0 {
            self.dp = Some(s.unknown(format!("{}#drain", self.name), UnknownKind::Node, false));
        }
        if self.gsource > 0.0 {
            self.sp = Some(s.unknown(format!("{}#source", self.name), UnknownKind::Node, false));
        }
        let (d, g, so, b, dp, sp) = (self.d, self.g, self.s, self.b, self.dp, self.sp);
        let p = &mut s.pattern;
        self.slots = Slots {
            dd: p.entry(d, d),
            gg: p.entry(g, g),
            ss: p.entry(so, so),
            bb: p.entry(b, b),
            dpdp: p.entry(dp, dp),
            spsp: p.entry(sp, sp),
            ddp: p.entry(d, dp),
            gb: p.entry(g, b),
            gdp: p.entry(g, dp),
            gsp: p.entry(g, sp),
            ssp: p.entry(so, sp),
            bdp: p.entry(b, dp),
            bsp: p.entry(b, sp),
            dpsp: p.entry(dp, sp),
            dpd: p.entry(dp, d),
            bg: p.entry(b, g),
            dpg: p.entry(dp, g),
            spg: p.entry(sp, g),
            sps: p.entry(sp, so),
            dpb: p.entry(dp, b),
            spb: p.entry(sp, b),
            spdp: p.entry(sp, dp),
        };
        self.vslot = s.states(6);
        self.qgs = s.charge();
        self.qgd = s.charge();
        self.qgb = s.charge();
        self.qbd = s.states(2);
        self.qbs = s.states(2);
        self.cslot = s.states(2);
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let t = self.sign;
        let vt = self.vt;
        let fresh = |a: Unknown, b: Unknown| t * (volt(x, a) - volt(x, b));
        let slot = self.vslot;
        let (vbs, old_bs) = junction_voltage(ctx, st, slot, fresh(self.b, self.sp), -1.0);
        let (vgs, old_gs) =
            junction_voltage(ctx, st, slot + 1, fresh(self.g, self.sp), t * self.tvto);
        let (vds, old_ds) = junction_voltage(ctx, st, slot + 2, fresh(self.dp, self.sp), 0.0);
        let (vbs, vgs, vds, limited) = match (old_bs, old_gs, old_ds) {
            (Some(obs), Some(ogs), Some(ods)) => {
                let (mut vbs, mut vgs, mut vds) = (vbs, vgs, vds);
                let vgdo = ogs - ods;
                let vgd = vgs - vds;
                let von = self.von;
                if ods >= 0.0 {
                    vgs = fetlim(vgs, ogs, von);
                    vds = vgs - vgd;
                    vds = limvds(vds, ods);
                } else {
                    let vgd = fetlim(vgd, vgdo, von);
                    vds = vgs - vgd;
                    vds = -limvds(-vds, -ods);
                    vgs = vgd + vds;
                }
                let hit;
                if vds >= 0.0 {
                    (vbs, hit) = pnjlim(vbs, obs, vt, self.source.vcrit);
                } else {
                    let (vbd, h) = pnjlim(vbs - vds, obs - ods, vt, self.drain.vcrit);
                    vbs = vbd + vds;
                    hit = h;
                }
                (vbs, vgs, vds, hit)
            }
            _ => (vbs, vgs, vds, true),
        };
        let vbd = vbs - vds;
        let vgd = vgs - vds;
        let vgb = vgs - vbs;
        let (mut cbs, mut gbs) = self.junction_current(self.source.isat, vbs);
        let (mut cbd, mut gbd) = self.junction_current(self.drain.isat, vbd);
        let normal = vds >= 0.0;
        let ch = if normal {
            self.channel(vgs, vds, vbs)
        } else {
            self.channel(vgd, -vds, vbd)
        };
        self.von = ch.von;
        let (cdrain, gm, gds, gmbs) = (ch.cdrain, ch.gm, ch.gds, ch.gmbs);

        // Bulk junction charges.
        let (qbd, capbd) = self.drain.charge(vbd);
        let (qbs, capbs) = self.source.charge(vbs);
        st.levels[0][self.qbd] = qbd;
        st.levels[0][self.qbs] = qbs;
        st.levels[0][self.cslot] = capbd;
        st.levels[0][self.cslot + 1] = capbs;
        if let Phase::Tran(integ) = ctx.phase {
            let (geq, _) = integ.integrate(st, self.qbd, capbd);
            gbd += geq;
            cbd += st.levels[0][self.qbd + 1];
            let (geq, _) = integ.integrate(st, self.qbs, capbs);
            gbs += geq;
            cbs += st.levels[0][self.qbs + 1];
        } else {
            st.levels[0][self.qbd + 1] = 0.0;
            st.levels[0][self.qbs + 1] = 0.0;
        }
        let now = &mut st.levels[0];
        now[slot] = vbs;
        now[slot + 1] = vgs;
        now[slot + 2] = vds;

        // Meyer gate capacitances: the half at this iterate plus the half
        // at the last time point (twice this one at the operating point).
        let half = if normal {
            meyer(vgs, vgd, ch.von, ch.vdsat, self.tphi, self.oxide_cap)
        } else {
            let (gd, gs, gb) = meyer(vgd, vgs, ch.von, ch.vdsat, self.tphi, self.oxide_cap);
            (gs, gd, gb)
        };
        now[slot + 3] = half.0;
        now[slot + 4] = half.1;
        now[slot + 5] = half.2;
        let caps = [
            (self.qgs, slot + 3, self.cgso, vgs),
            (self.qgd, slot + 4, self.cgdo, vgd),
            (self.qgb, slot + 5, self.cgbo, vgb),
        ];
        let mut gate = [(0.0, 0.0); 3];
        match ctx.phase {
            Phase::Tran(integ) => {
                let old = &st.levels[1];
                let (vgs1, vds1, vbs1) = (old[slot + 1], old[slot + 2], old[slot]);
                let past = [vgs1, vgs1 - vds1, vgs1 - vbs1];
                for (k, &(q, c, overlap, v)) in caps.iter().enumerate() {
                    let cap = st.levels[0][c] + st.levels[1][c] + overlap;
                    let q1 = st.levels[1][q];
                    st.levels[0][q] = match ctx.init {
                        Init::Tran => q1,
                        Init::Predict { xfact } => (1.0 + xfact) * q1 - xfact * st.levels[2][q],
                        _ => (v - past[k]) * cap + q1,
                    };
                    // ngspice leaves the gate charges out of the first
                    // iteration of a transient.
                    if ctx.init != Init::Tran {
                        let (geq, _) = integ.integrate(st, q, cap);
                        gate[k] = (geq, st.levels[0][q + 1] - geq * v);
                    }
                }
            }
            Phase::Dc | Phase::UicStart => {
                for &(q, c, overlap, v) in &caps {
                    st.levels[0][q] = v * (2.0 * st.levels[0][c] + overlap);
                    st.levels[0][q + 1] = 0.0;
                }
            }
        }
        let [(gcgs, ceqgs), (gcgd, ceqgd), (gcgb, ceqgb)] = gate;

        let ceqbs = t * (cbs - gbs * vbs);
        let ceqbd = t * (cbd - gbd * vbd);
        let (xnrm, xrev, cdreq) = if normal {
            (1.0, 0.0, t * (cdrain - gds * vds - gm * vgs - gmbs * vbs))
        } else {
            (
                0.0,
                1.0,
                -t * (cdrain - gds * (-vds) - gm * vgd - gmbs * vbd),
            )
        };
        m.rhs(self.g, -(t * (ceqgs + ceqgb + ceqgd)));
        m.rhs(self.b, -(ceqbs + ceqbd - t * ceqgb));
        m.rhs(self.dp, ceqbd - cdreq + t * ceqgd);
        m.rhs(self.sp, cdreq + ceqbs + t * ceqgs);
        let s = self.slots;
        let (gd, gs) = (self.gdrain, self.gsource);
        m.add(s.dd, gd);
        m.add(s.gg, gcgd + gcgs + gcgb);
        m.add(s.ss, gs);
        m.add(s.bb, gbd + gbs + gcgb);
        m.add(s.dpdp, gd + gds + gbd + xrev * (gm + gmbs) + gcgd);
        m.add(s.spsp, gs + gds + gbs + xnrm * (gm + gmbs) + gcgs);
        m.add(s.ddp, -gd);
        m.add(s.gb, -gcgb);
        m.add(s.gdp, -gcgd);
        m.add(s.gsp, -gcgs);
        m.add(s.ssp, -gs);
        m.add(s.bg, -gcgb);
        m.add(s.bdp, -gbd);
        m.add(s.bsp, -gbs);
        m.add(s.dpd, -gd);
        m.add(s.dpg, (xnrm - xrev) * gm - gcgd);
        m.add(s.dpb, -gbd + (xnrm - xrev) * gmbs);
        m.add(s.dpsp, -gds - xnrm * (gm + gmbs));
        m.add(s.spg, -(xnrm - xrev) * gm - gcgs);
        m.add(s.sps, -gs);
        m.add(s.spb, -gbs - (xnrm - xrev) * gmbs);
        m.add(s.spdp, -gds - xrev * (gm + gmbs));
        !limited
    }

    /// mos1acld.c (the same for levels 2 and 3): the operating point's
    /// conductances (already in the real part) plus the susceptances of the
    /// Meyer capacitances (both halves at the operating point, plus the
    /// overlaps) and of the bulk junctions.
    fn ac_load(&self, omega: f64, st: &States, m: &mut AcStamp<'_>) {
        let now = &st.levels[0];
        let half = &now[self.vslot + 3..self.vslot + 6];
        let xgs = (2.0 * half[0] + self.cgso) * omega;
        let xgd = (2.0 * half[1] + self.cgdo) * omega;
        let xgb = (2.0 * half[2] + self.cgbo) * omega;
        let xbd = now[self.cslot] * omega;
        let xbs = now[self.cslot + 1] * omega;
        let s = self.slots;
        m.imag(s.gg, xgd + xgs + xgb);
        m.imag(s.bb, xgb + xbd + xbs);
        m.imag(s.dpdp, xgd + xbd);
        m.imag(s.spsp, xgs + xbs);
        m.imag(s.gb, -xgb);
        m.imag(s.gdp, -xgd);
        m.imag(s.gsp, -xgs);
        m.imag(s.bg, -xgb);
        m.imag(s.bdp, -xbd);
        m.imag(s.bsp, -xbs);
        m.imag(s.dpg, -xgd);
        m.imag(s.dpb, -xbd);
        m.imag(s.spg, -xgs);
        m.imag(s.spb, -xbs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Meyer's textbook limits: all of the oxide to the bulk in
    /// accumulation, 2/3 of it to the source in saturation, half to each
    /// end at vds = 0 (each value being half of the capacitance).
    #[test]
    fn meyer_capacitances_in_their_regions() {
        let (cox, phi, von) = (1e-15, 0.7, 0.8);
        let (gs, gd, gb) = meyer(-2.0, -2.0, von, 0.0, phi, cox);
        assert_eq!((gs, gd, gb), (0.0, 0.0, cox / 2.0));
        let (gs, gd, gb) = meyer(3.0, 0.5, von, 1.5, phi, cox);
        assert_eq!((gs, gd, gb), (cox / 3.0, 0.0, 0.0));
        let (gs, gd, gb) = meyer(3.0, 3.0, von, 2.2, phi, cox);
        assert!((2.0 * gs - cox / 2.0).abs() < 1e-30 && (2.0 * gd - cox / 2.0).abs() < 1e-30);
        assert_eq!(gb, 0.0);
        // Depletion: the bulk share falls linearly from cox/2 at -phi/2
        // below turn-on to 0 at turn-on.
        let (_, _, gb) = meyer(von - phi / 4.0, von - phi / 4.0 - 1.0, von, 0.0, phi, cox);
        assert!((gb - cox / 8.0).abs() < 1e-30);
    }
}

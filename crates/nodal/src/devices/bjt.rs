//! Bipolar junction transistor, ngspice's Gummel-Poon model (level 1):
//! forward and reverse transport currents with Early effect (VAF, VAR) and
//! high-injection roll-off (IKF, IKR, NKF), base-emitter and base-collector
//! leakage (ISE NE, ISC NC), current-dependent base resistance (RB, RBM,
//! IRB), emitter and collector resistances as internal nodes, depletion
//! charges (CJE, CJC split by XCJC, CJS), diffusion charges with the TF
//! bias dependence (XTF, VTF, ITF) and TR, the substrate junction on the
//! collector (vertical NPN) or the base (lateral PNP), area scaling and the
//! temperature equations of bjttemp.c (TLEV = TLEVC = 0) at `.options temp`.
//! Limiting and initialisation follow bjtload.c.

use xbar_netlist::{Element, Model};

use super::junction::{self, Depletion};
use super::limit::pnjlim;
use super::{
    finite, junction_voltage, nodes, Device, Link, LinkKind, LoadCtx, ModelParams, NodeMap, Phase,
    Setup, States, UnknownKind,
};
use crate::error::NodalError;
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};
use crate::options::Options;

/// Parameters xbar implements (ngspice's names and aliases).
const KNOWN: &[&str] = &[
    "level", "is", "bf", "nf", "vaf", "va", "ikf", "ik", "nkf", "nk", "ise", "c2", "ne", "br",
    "nr", "var", "vb", "ikr", "isc", "c4", "nc", "rb", "irb", "rbm", "re", "rc", "cje", "vje",
    "pe", "mje", "me", "tf", "xtf", "vtf", "itf", "cjc", "vjc", "pc", "mjc", "mc", "xcjc", "tr",
    "cjs", "csub", "ccs", "vjs", "ps", "mjs", "ms", "xtb", "eg", "xti", "fc", "tnom", "tref", "kf",
    "af", "subs",
];

/// ngspice BJT parameters xbar does not implement: refused unless zero
/// (the value that leaves the model as implemented here).
const UNSUPPORTED: &[&str] = &[
    "ptf", "ibe", "ibc", "iss", "ns", "rco", "vo", "gamma", "qco", "quasimod", "tlev", "tlevc",
    "tbf1", "tbf2", "tbr1", "tbr2", "tikf1", "tikf2", "tikr1", "tikr2", "tirb1", "tirb2", "tnc1",
    "tnc2", "tne1", "tne2", "tnf1", "tnf2", "tnr1", "tnr2", "trb1", "trb", "trb2", "trc1", "trc",
    "trc2", "tre1", "tre", "tre2", "trm1", "trm2", "tvaf1", "tvaf2", "tvar1", "tvar2", "ctc",
    "cte", "cts", "tvjc", "tvje", "tvjs", "titf1", "titf2", "ttf1", "ttf2", "ttr1", "ttr2",
    "tmje1", "tmje2", "tmjc1", "tmjc2", "tmjs1", "tmjs2", "tns1", "tns2", "tis1", "tis2", "tise1",
    "tise2", "tisc1", "tisc2", "tiss1", "tiss2",
];

/// ngspice's physical constants (const.h), so temperature-derived values
/// agree to the last digit.
const CHARGE: f64 = 1.602_176_620_8e-19;
const BOLTZ: f64 = 1.380_648_52e-23;
const REFTEMP: f64 = 300.15;
const CELSIUS_TO_KELVIN: f64 = 273.15;

#[derive(Debug)]
pub struct Bjt {
    name: String,
    col: Unknown,
    base: Unknown,
    emit: Unknown,
    subst: Unknown,
    col_prime: Unknown,
    base_prime: Unknown,
    emit_prime: Unknown,
    /// +1 NPN, -1 PNP.
    sign: f64,
    /// Substrate junction on the base (lateral) instead of the collector.
    lateral: bool,
    p: Derived,
    gmin: f64,
    slots: Slots,
    /// State slots: vbe, vbc, vsub (type-normalised, as last loaded).
    vslot: usize,
    qbe: usize,
    qbc: usize,
    qsub: usize,
    /// The base-collector charge outside the internal base (XCJC < 1);
    /// not watched by the truncation-error control, as in ngspice.
    qbx: usize,
    /// State slots of the small-signal capacitances of the last load
    /// (capbe, capbc, capbx, capsub, then geqcb, the TF charge's VBC
    /// transcapacitance), which an AC analysis reads as ngspice's
    /// MODEINITSMSIG stores them.
    cslot: usize,
}

/// Instance parameters after area scaling and temperature adjustment.
#[derive(Debug, Clone, Copy)]
struct Derived {
    vt: f64,
    is: f64,
    /// B-C saturation current: ngspice 39 scales IS by the area and then
    /// once more by the base (vertical) or collector (lateral) area, which
    /// defaults to the area.
    is_bc: f64,
    ise: f64,
    isc: f64,
    nf: f64,
    nr: f64,
    ne: f64,
    nc: f64,
    bf: f64,
    br: f64,
    inv_vaf: f64,
    inv_var: f64,
    inv_ikf: f64,
    inv_ikr: f64,
    nkf: Option<f64>,
    rb: f64,
    rbm: f64,
    irb: f64,
    gc: f64,
    ge: f64,
    tf: f64,
    tr: f64,
    xtf: f64,
    /// `1 / (1.44·VTF)`, 0 without VTF.
    ovtf: f64,
    itf: f64,
    be: Depletion,
    /// Base-collector depletion on the internal base (XCJC of CJC).
    bc: Depletion,
    /// The rest of CJC, from the external base to the internal collector.
    bx: Depletion,
    /// Substrate: `cjs`, `vjs`, `mjs` (no forward-bias linearisation).
    cjs: f64,
    vjs: f64,
    mjs: f64,
    vcrit: f64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Slots {
    coll_colp: Slot,
    base_basep: Slot,
    emit_emitp: Slot,
    colp_coll: Slot,
    colp_basep: Slot,
    colp_emitp: Slot,
    basep_base: Slot,
    basep_colp: Slot,
    basep_emitp: Slot,
    emitp_emit: Slot,
    emitp_colp: Slot,
    emitp_basep: Slot,
    col_col: Slot,
    base_base: Slot,
    emit_emit: Slot,
    colp_colp: Slot,
    basep_basep: Slot,
    emitp_emitp: Slot,
    subst_subst: Slot,
    substcon_substcon: Slot,
    substcon_subst: Slot,
    subst_substcon: Slot,
    base_colp: Slot,
    colp_base: Slot,
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

/// The silicon band gap at `t` kelvin (ngspice's fit).
fn egfet(t: f64) -> f64 {
    1.16 - (7.02e-4 * t * t) / (t + 1108.0)
}

/// Temperature shift of a junction potential, ngspice's `pbfact`.
fn pbfact(t: f64) -> f64 {
    let vt = BOLTZ / CHARGE * t;
    let arg = -egfet(t) / (2.0 * BOLTZ * t) + 1.115_087_7 / (BOLTZ * (REFTEMP + REFTEMP));
    -2.0 * vt * (1.5 * (t / REFTEMP).ln() + CHARGE * arg)
}

/// A zero-bias depletion capacitance and its junction potential measured
/// at `tnom`, moved to `temp` as bjttemp.c does (TLEVC = 0).
fn junction_at(cz: f64, pb: f64, m: f64, tnom: f64, temp: f64) -> (f64, f64) {
    let pbo = (pb - pbfact(tnom)) / (tnom / REFTEMP);
    let gmaold = (pb - pbo) / pbo;
    let mut c = cz / (1.0 + m * (4e-4 * (tnom - REFTEMP) - gmaold));
    let tpb = temp / REFTEMP * pbo + pbfact(temp);
    let gmanew = (tpb - pbo) / pbo;
    c *= 1.0 + m * (4e-4 * (temp - REFTEMP) - gmanew);
    (c, tpb)
}

impl Bjt {
    pub fn new(
        e: &Element,
        map: &NodeMap,
        model: &Model,
        area: f64,
        opts: &Options,
    ) -> Result<Self, NodalError> {
        let n = nodes(e, map, 4)?;
        let area = finite(e, "area", area)?;
        if area <= 0.0 {
            return Err(super::bad(e, format!("area {area} must be > 0")));
        }
        let mut known = KNOWN.to_vec();
        known.extend_from_slice(UNSUPPORTED);
        let p = ModelParams::new(model, &known)?;
        for &name in UNSUPPORTED {
            if let Some(v) = p.given(name) {
                if v != 0.0 {
                    return Err(ModelParams::error(
                        model,
                        name,
                        v,
                        "not supported by xbar's BJT (Gummel-Poon without excess phase, \
                         quasi-saturation, substrate diode or TLEV temperature coefficients)",
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
                "only the Gummel-Poon model (level 1) is supported",
            ));
        }
        let sign = if model.kind == "pnp" { -1.0 } else { 1.0 };
        let lateral = match p.given("subs") {
            None => sign < 0.0,
            Some(1.0) => false,
            Some(-1.0) => true,
            Some(v) => return Err(ModelParams::error(model, "subs", v, "must be 1 or -1")),
        };
        let alias = |a: &str, b: &str| p.given(a).or(p.given(b));
        let positive =
            |name: &str, default: f64| p.checked(name, default, |v| v > 0.0, "must be > 0");
        let non_negative = |name: &str, v: Option<f64>| -> Result<f64, NodalError> {
            let v = v.unwrap_or(0.0);
            if v >= 0.0 {
                Ok(v)
            } else {
                Err(ModelParams::error(model, name, v, "must be >= 0"))
            }
        };
        let grading = |name: &str, v: Option<f64>, default: f64| -> Result<f64, NodalError> {
            let v = v.unwrap_or(default);
            if (0.0..1.0).contains(&v) {
                Ok(v)
            } else {
                Err(ModelParams::error(model, name, v, "must be in [0, 1)"))
            }
        };
        let is = positive("is", 1e-16)?;
        let bf = positive("bf", 100.0)?;
        let nf = positive("nf", 1.0)?;
        let br = positive("br", 1.0)?;
        let nr = positive("nr", 1.0)?;
        let ne = positive("ne", 1.5)?;
        let nc = positive("nc", 2.0)?;
        // ngspice reads ISE and ISC above 1e-4 as multiples of IS.
        let leak = |v: f64| if v > 1e-4 { is * v } else { v };
        let ise = leak(non_negative("ise", alias("ise", "c2"))?);
        let isc = leak(non_negative("isc", alias("isc", "c4"))?);
        let inverse = |name: &str, v: Option<f64>| -> Result<f64, NodalError> {
            match v {
                None => Ok(0.0),
                Some(0.0) => Ok(0.0),
                Some(v) if v > 0.0 => Ok(1.0 / v),
                Some(v) => Err(ModelParams::error(model, name, v, "must be > 0")),
            }
        };
        let inv_vaf = inverse("vaf", alias("vaf", "va"))?;
        let inv_var = inverse("var", alias("var", "vb"))?;
        let inv_ikf = inverse("ikf", alias("ikf", "ik"))? / area;
        let inv_ikr = inverse("ikr", p.given("ikr"))? / area;
        let nkf = match alias("nkf", "nk") {
            None => None,
            Some(v) if v > 0.0 => Some(v.min(1.0)),
            Some(v) => return Err(ModelParams::error(model, "nkf", v, "must be > 0")),
        };
        let rb = non_negative("rb", p.given("rb"))?;
        let rbm = non_negative("rbm", p.given("rbm").or(Some(rb)))?;
        let irb = non_negative("irb", p.given("irb"))?;
        let re = non_negative("re", p.given("re"))?;
        let rc = non_negative("rc", p.given("rc"))?;
        let conductance = |r: f64| if r > 0.0 { area / r } else { 0.0 };
        let cje = non_negative("cje", p.given("cje"))?;
        let vje = p.given("vje").or(p.given("pe")).unwrap_or(0.75);
        let mje = grading("mje", alias("mje", "me"), 0.33)?;
        let cjc = non_negative("cjc", p.given("cjc"))?;
        let vjc = p.given("vjc").or(p.given("pc")).unwrap_or(0.75);
        let mjc = grading("mjc", alias("mjc", "mc"), 0.33)?;
        let cjs = non_negative("cjs", p.given("cjs").or(alias("csub", "ccs")))?;
        let vjs = p.given("vjs").or(p.given("ps")).unwrap_or(0.75);
        let mjs = grading("mjs", alias("mjs", "ms"), 0.0)?;
        for (name, v) in [("vje", vje), ("vjc", vjc), ("vjs", vjs)] {
            if v <= 0.0 {
                return Err(ModelParams::error(model, name, v, "must be > 0"));
            }
        }
        let xcjc = p.checked(
            "xcjc",
            1.0,
            |v| (0.0..=1.0).contains(&v),
            "must be in [0, 1]",
        )?;
        let fc = p.checked("fc", 0.5, |v| (0.0..1.0).contains(&v), "must be in [0, 1)")?;
        // ngspice limits FC to 0.9999 with a warning.
        let fc = fc.min(0.9999);
        let tf = non_negative("tf", p.given("tf"))?;
        let tr = non_negative("tr", p.given("tr"))?;
        let xtf = non_negative("xtf", p.given("xtf"))?;
        let vtf = p.given("vtf");
        let itf = non_negative("itf", p.given("itf"))? * area;
        let eg = positive("eg", 1.11)?;
        let xti = p.get("xti", 3.0);
        let xtb = p.get("xtb", 0.0);

        let temp = opts.temp + CELSIUS_TO_KELVIN;
        let tnom = p.given("tnom").or(p.given("tref")).unwrap_or(opts.tnom) + CELSIUS_TO_KELVIN;
        let vt = BOLTZ / CHARGE * temp;
        let ratlog = (temp / tnom).ln();
        let ratio1 = temp / tnom - 1.0;
        let factlog = ratio1 * eg / vt + xti * ratlog;
        let bfactor = (ratlog * xtb).exp();
        let tis = area * is * factlog.exp();
        let (cje_t, vje_t) = junction_at(cje, vje, mje, tnom, temp);
        let (cjc_t, vjc_t) = junction_at(cjc, vjc, mjc, tnom, temp);
        let (cjs_t, vjs_t) = junction_at(cjs, vjs, mjs, tnom, temp);
        let cjc_t = cjc_t * area;
        let derived = Derived {
            vt,
            is: tis,
            is_bc: tis * area,
            ise: area * ise * (factlog / ne).exp() / bfactor,
            isc: area * isc * (factlog / nc).exp() / bfactor,
            nf,
            nr,
            ne,
            nc,
            bf: bf * bfactor,
            br: br * bfactor,
            inv_vaf,
            inv_var,
            inv_ikf,
            inv_ikr,
            nkf,
            rb: rb / area,
            rbm: rbm / area,
            irb: irb * area,
            gc: conductance(rc),
            ge: conductance(re),
            tf,
            tr,
            xtf,
            ovtf: match vtf {
                Some(v) if v != 0.0 => 1.0 / (v * 1.44),
                _ => 0.0,
            },
            itf,
            be: Depletion::new(cje_t * area, vje_t, mje, fc),
            bc: Depletion::new(cjc_t * xcjc, vjc_t, mjc, fc),
            bx: Depletion::new(cjc_t - cjc_t * xcjc, vjc_t, mjc, fc),
            cjs: cjs_t * area,
            vjs: vjs_t,
            mjs,
            vcrit: vt * (vt / (std::f64::consts::SQRT_2 * tis)).ln(),
        };
        Ok(Self {
            name: e.name.clone(),
            col: n[0],
            base: n[1],
            emit: n[2],
            subst: n[3],
            col_prime: n[0],
            base_prime: n[1],
            emit_prime: n[2],
            sign,
            lateral,
            p: derived,
            gmin: opts.gmin,
            slots: Slots::default(),
            vslot: 0,
            qbe: 0,
            qbc: 0,
            qsub: 0,
            qbx: 0,
            cslot: 0,
        })
    }

    fn subst_con(&self) -> Unknown {
        if self.lateral {
            self.base_prime
        } else {
            self.col_prime
        }
    }

    /// Substrate depletion charge and capacitance (ngspice linearises it in
    /// forward bias instead of using FC).
    fn substrate_charge(&self, vsub: f64) -> (f64, f64) {
        let Derived { cjs, vjs, mjs, .. } = self.p;
        if vsub < 0.0 {
            let arg = 1.0 - vsub / vjs;
            let sarg = (-mjs * arg.ln()).exp();
            (vjs * cjs * (1.0 - arg * sarg) / (1.0 - mjs), cjs * sarg)
        } else {
            (
                vsub * cjs * (1.0 + mjs * vsub / (2.0 * vjs)),
                cjs * (1.0 + mjs * vsub / vjs),
            )
        }
    }
}

impl Device for Bjt {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        let c = |a, b| Link {
            a,
            b,
            kind: LinkKind::Conductive,
        };
        vec![
            c(self.col, self.base),
            c(self.base, self.emit),
            c(self.subst, self.col),
        ]
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        let internal = |s: &mut Setup<'_>, present: bool, node: Unknown, what: &str| {
            if present {
                Some(s.unknown(format!("{}#{what}", self.name), UnknownKind::Node, false))
            } else {
                node
            }
        };
        self.col_prime = internal(s, self.p.gc > 0.0, self.col, "collCX");
        self.base_prime = internal(s, self.p.rb > 0.0, self.base, "base");
        self.emit_prime = internal(s, self.p.ge > 0.0, self.emit, "emitter");
        let (c, b, e, su) = (self.col, self.base, self.emit, self.subst);
        let (cp, bp, ep, sc) = (
            self.col_prime,
            self.base_prime,
            self.emit_prime,
            self.subst_con(),
        );
        let p = &mut s.pattern;
        self.slots = Slots {
            coll_colp: p.entry(c, cp),
            base_basep: p.entry(b, bp),
            emit_emitp: p.entry(e, ep),
            colp_coll: p.entry(cp, c),
            colp_basep: p.entry(cp, bp),
            colp_emitp: p.entry(cp, ep),
            basep_base: p.entry(bp, b),
            basep_colp: p.entry(bp, cp),
            basep_emitp: p.entry(bp, ep),
            emitp_emit: p.entry(ep, e),
            emitp_colp: p.entry(ep, cp),
            emitp_basep: p.entry(ep, bp),
            col_col: p.entry(c, c),
            base_base: p.entry(b, b),
            emit_emit: p.entry(e, e),
            colp_colp: p.entry(cp, cp),
            basep_basep: p.entry(bp, bp),
            emitp_emitp: p.entry(ep, ep),
            subst_subst: p.entry(su, su),
            substcon_substcon: p.entry(sc, sc),
            substcon_subst: p.entry(sc, su),
            subst_substcon: p.entry(su, sc),
            base_colp: p.entry(b, cp),
            colp_base: p.entry(cp, b),
        };
        self.vslot = s.states(3);
        self.qbe = s.charge();
        self.qbc = s.charge();
        self.qsub = s.charge();
        self.qbx = s.states(2);
        self.cslot = s.states(5);
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let p = self.p;
        let t = self.sign;
        let ttype = if self.lateral { -t } else { t };
        let vt = p.vt;
        let fresh = |a: Unknown, b: Unknown| t * (volt(x, a) - volt(x, b));
        let (vbe, old_be) = junction_voltage(
            ctx,
            st,
            self.vslot,
            fresh(self.base_prime, self.emit_prime),
            p.vcrit,
        );
        let (vbc, old_bc) = junction_voltage(
            ctx,
            st,
            self.vslot + 1,
            fresh(self.base_prime, self.col_prime),
            0.0,
        );
        let (vbx, vsub_fresh) = if ctx.init == super::Init::Junction {
            (0.0, 0.0)
        } else {
            (
                fresh(self.base, self.col_prime),
                ttype * (volt(x, self.subst) - volt(x, self.subst_con())),
            )
        };
        if let super::Init::Predict { .. } = ctx.init {
            st.levels[0][self.vslot + 2] = st.levels[1][self.vslot + 2];
        }
        let (vbe, vbc, vsub, limited) = match (old_be, old_bc) {
            (Some(obe), Some(obc)) => {
                let (vbe, hit_be) = pnjlim(vbe, obe, vt, p.vcrit);
                let (vbc, hit_bc) = pnjlim(vbc, obc, vt, p.vcrit);
                // Without ISS the substrate junction is a bare gmin, but
                // ngspice still limits its voltage (with vcrit = 50 V only
                // the negative steps).
                let (vsub, hit_sub) = pnjlim(vsub_fresh, st.levels[0][self.vslot + 2], vt, 50.0);
                (vbe, vbc, vsub, hit_be || hit_bc || hit_sub)
            }
            _ => (vbe, vbc, vsub_fresh, true),
        };

        // Transport and leakage currents.
        let (cbe, gbe) = junction::current(p.is, vt * p.nf, vbe);
        let (mut cben, mut gben) = if p.ise == 0.0 {
            (0.0, 0.0)
        } else {
            junction::current(p.ise, vt * p.ne, vbe)
        };
        gben += self.gmin;
        cben += self.gmin * vbe;
        let (cbc, gbc) = junction::current(p.is_bc, vt * p.nr, vbc);
        let (mut cbcn, mut gbcn) = if p.isc == 0.0 {
            (0.0, 0.0)
        } else {
            junction::current(p.isc, vt * p.nc, vbc)
        };
        gbcn += self.gmin;
        cbcn += self.gmin * vbc;
        let gdsub = self.gmin;
        let cdsub = self.gmin * vsub;

        // Base charge: Early effect and high injection.
        let q1 = 1.0 / (1.0 - p.inv_vaf * vbc - p.inv_var * vbe);
        let (qb, dqbdve, dqbdvc) = if p.inv_ikf == 0.0 && p.inv_ikr == 0.0 {
            (q1, q1 * q1 * p.inv_var, q1 * q1 * p.inv_vaf)
        } else {
            let q2 = p.inv_ikf * cbe + p.inv_ikr * cbc;
            let arg = (1.0 + 4.0 * q2).max(0.0);
            match p.nkf {
                None => {
                    let sqarg = if arg != 0.0 { arg.sqrt() } else { 1.0 };
                    let qb = q1 * (1.0 + sqarg) / 2.0;
                    (
                        qb,
                        q1 * (qb * p.inv_var + p.inv_ikf * gbe / sqarg),
                        q1 * (qb * p.inv_vaf + p.inv_ikr * gbc / sqarg),
                    )
                }
                Some(nkf) => {
                    let sqarg = if arg != 0.0 { arg.powf(nkf) } else { 1.0 };
                    let qb = q1 * (1.0 + sqarg) / 2.0;
                    (
                        qb,
                        q1 * (qb * p.inv_var + p.inv_ikf * gbe * 2.0 * sqarg * nkf / arg),
                        q1 * (qb * p.inv_vaf + p.inv_ikr * gbc * 2.0 * sqarg * nkf / arg),
                    )
                }
            }
        };
        let mut cc = (cbe - cbc) / qb - cbc / p.br - cbcn;
        let mut cb = cbe / p.bf + cben + cbc / p.br + cbcn;
        let rbpi = p.rb - p.rbm;
        let mut gx = p.rbm + rbpi / qb;
        if p.irb != 0.0 {
            let arg1 = (cb / p.irb).max(1e-9);
            let arg2 = (-1.0 + (1.0 + 14.59025 * arg1).sqrt()) / 2.4317 / arg1.sqrt();
            let tan = arg2.tan();
            gx = p.rbm + 3.0 * rbpi * (tan - arg2) / arg2 / tan / tan;
        }
        if gx != 0.0 {
            gx = 1.0 / gx;
        }
        let mut gpi = gbe / p.bf + gben;
        let mut gmu = gbc / p.br + gbcn;
        let go = (gbc + (cbe - cbc) * dqbdvc / qb) / qb;
        let gm = (gbe - (cbe - cbc) * dqbdve / qb) / qb - go;

        // Charges: diffusion (with TF's bias dependence) plus depletion.
        let (mut cbe_q, mut gbe_q, mut geqcb) = (cbe, gbe, 0.0);
        if p.tf != 0.0 && vbe > 0.0 {
            let (mut argtf, mut arg2, mut arg3) = (0.0, 0.0, 0.0);
            if p.xtf != 0.0 {
                argtf = p.xtf;
                if p.ovtf != 0.0 {
                    argtf *= (vbc * p.ovtf).exp();
                }
                arg2 = argtf;
                if p.itf != 0.0 {
                    let temp = cbe / (cbe + p.itf);
                    argtf *= temp * temp;
                    arg2 = argtf * (3.0 - temp - temp);
                }
                arg3 = cbe * argtf * p.ovtf;
            }
            cbe_q = cbe * (1.0 + argtf) / qb;
            gbe_q = (gbe * (1.0 + arg2) - cbe_q * dqbdve) / qb;
            geqcb = p.tf * (arg3 - cbe_q * dqbdvc) / qb;
        }
        let (qdep_be, cdep_be) = p.be.charge(vbe);
        let (qdep_bc, cdep_bc) = p.bc.charge(vbc);
        let (q_bx, capbx) = p.bx.charge(vbx);
        let (q_sub, capsub) = self.substrate_charge(vsub);
        let now = &mut st.levels[0];
        now[self.qbe] = p.tf * cbe_q + qdep_be;
        now[self.qbc] = p.tr * cbc + qdep_bc;
        now[self.qbx] = q_bx;
        now[self.qsub] = q_sub;
        let capbe = p.tf * gbe_q + cdep_be;
        let capbc = p.tr * gbc + cdep_bc;
        let (mut geqbx, mut gcsub) = (0.0, 0.0);
        let small_signal = [capbe, capbc, capbx, capsub, geqcb];
        st.levels[0][self.cslot..self.cslot + 5].copy_from_slice(&small_signal);
        let charges = [self.qbe, self.qbc, self.qsub, self.qbx];
        match ctx.phase {
            Phase::Tran(integ) => {
                if ctx.init == super::Init::Tran {
                    // The history starts from the charges at this first
                    // iterate (the operating point), as bjtload.c sets it.
                    for q in charges {
                        st.levels[1][q] = st.levels[0][q];
                    }
                }
                let (geq, _) = integ.integrate(st, self.qbe, capbe);
                geqcb *= integ.ag[0];
                gpi += geq;
                cb += st.levels[0][self.qbe + 1];
                let (geq, _) = integ.integrate(st, self.qbc, capbc);
                gmu += geq;
                cb += st.levels[0][self.qbc + 1];
                cc -= st.levels[0][self.qbc + 1];
                (gcsub, _) = integ.integrate(st, self.qsub, capsub);
                (geqbx, _) = integ.integrate(st, self.qbx, capbx);
                if ctx.init == super::Init::Tran {
                    for q in charges {
                        st.levels[1][q + 1] = st.levels[0][q + 1];
                    }
                }
            }
            Phase::Dc | Phase::UicStart => {
                geqcb = 0.0;
                for q in charges {
                    st.levels[0][q + 1] = 0.0;
                }
            }
        }
        let now = &mut st.levels[0];
        now[self.vslot] = vbe;
        now[self.vslot + 1] = vbc;
        now[self.vslot + 2] = vsub;
        let cqbx = now[self.qbx + 1];
        let cqsub = now[self.qsub + 1];

        let geqsub = gcsub + gdsub;
        let ceqsub = ttype * (cqsub + cdsub - vsub * geqsub);
        let ceqbx = t * (cqbx - vbx * geqbx);
        let ceqbe = t * (cc + cb - vbe * (gm + go + gpi) + vbc * (go - geqcb));
        let ceqbc = t * (-cc + vbe * (gm + go) - vbc * (gmu + go));
        m.rhs(self.base, -ceqbx);
        m.rhs(self.col_prime, ceqbx + ceqbc);
        m.rhs(self.subst_con(), ceqsub);
        m.rhs(self.base_prime, -ceqbe - ceqbc);
        m.rhs(self.emit_prime, ceqbe);
        m.rhs(self.subst, -ceqsub);

        let s = self.slots;
        let (gc, ge) = (p.gc, p.ge);
        m.add(s.col_col, gc);
        m.add(s.base_base, gx + geqbx);
        m.add(s.emit_emit, ge);
        // The second is ngspice's collCX diagonal, the same node as the
        // internal collector without quasi-saturation.
        m.add(s.colp_colp, gmu + go + geqbx);
        m.add(s.colp_colp, gc);
        m.add(s.substcon_substcon, geqsub);
        m.add(s.basep_basep, gx + gpi + gmu + geqcb);
        m.add(s.emitp_emitp, gpi + ge + gm + go);
        m.add(s.coll_colp, -gc);
        m.add(s.base_basep, -gx);
        m.add(s.emit_emitp, -ge);
        m.add(s.colp_coll, -gc);
        m.add(s.colp_basep, -gmu + gm);
        m.add(s.colp_emitp, -gm - go);
        m.add(s.basep_base, -gx);
        m.add(s.basep_colp, -gmu - geqcb);
        m.add(s.basep_emitp, -gpi);
        m.add(s.emitp_emit, -ge);
        m.add(s.emitp_colp, -go + geqcb);
        m.add(s.emitp_basep, -gpi - gm - geqcb);
        m.add(s.subst_subst, geqsub);
        m.add(s.substcon_subst, -geqsub);
        m.add(s.subst_substcon, -geqsub);
        m.add(s.base_colp, -geqbx);
        m.add(s.colp_base, -geqbx);
        !limited
    }

    /// bjtacld.c: the operating point's conductances (already in the real
    /// part) plus the susceptances of the junction and diffusion
    /// capacitances and of the TF charge's VBC dependence.
    fn ac_load(&self, omega: f64, st: &States, m: &mut AcStamp<'_>) {
        let c = &st.levels[0][self.cslot..self.cslot + 5];
        let [xcpi, xcmu, xcbx, xcsub, xcmcb] = [
            c[0] * omega,
            c[1] * omega,
            c[2] * omega,
            c[3] * omega,
            c[4] * omega,
        ];
        let s = self.slots;
        // ngspice's AC matrix has no substrate gmin (only its
        // capacitance): take the DC load's back out.
        let g = self.gmin;
        m.add(s.subst_subst, -g, xcsub);
        m.add(s.substcon_substcon, -g, xcsub);
        m.add(s.substcon_subst, g, -xcsub);
        m.add(s.subst_substcon, g, -xcsub);
        m.imag(s.base_base, xcbx);
        m.imag(s.colp_colp, xcmu + xcbx);
        m.imag(s.basep_basep, xcpi + xcmu + xcmcb);
        m.imag(s.emitp_emitp, xcpi);
        m.imag(s.colp_basep, -xcmu);
        m.imag(s.basep_colp, -xcmu - xcmcb);
        m.imag(s.basep_emitp, -xcpi);
        m.imag(s.emitp_colp, xcmcb);
        m.imag(s.emitp_basep, -xcpi - xcmcb);
        m.imag(s.base_colp, -xcbx);
        m.imag(s.colp_base, -xcbx);
    }
}

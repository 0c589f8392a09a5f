//! Inductors and their magnetic coupling (`K`), as ngspice's ind and mut
//! devices: each inductor has its branch current `i(name)` as an unknown;
//! at DC it is a short (`v+ - v- = 0`), in AC its branch row carries
//! `-jωL` and every coupling `-jωM` between the coupled branches, and in a
//! transient its flux `φ = L·i + Σ M·i_other` is integrated like a
//! capacitor's charge (and watched by the truncation-error control).
//!
//! Inductors joined by couplings are one device, so every flux includes
//! its mutual terms before any of them is integrated, whatever the deck
//! order of the `L` and `K` lines.

use super::{Device, Link, LinkKind, LoadCtx, Phase, Setup, States, UnknownKind};
use crate::matrix::{AcStamp, Slot, Stamp, Unknown};

#[derive(Debug)]
pub struct Winding {
    pub name: String,
    pub a: Unknown,
    pub b: Unknown,
    pub inductance: f64,
    pub ic: Option<f64>,
    branch: usize,
    /// (a,j) (b,j) (j,a) (j,b) (j,j)
    slots: [Slot; 5],
    flux: usize,
}

impl Winding {
    pub fn new(name: String, a: Unknown, b: Unknown, inductance: f64, ic: Option<f64>) -> Self {
        Self {
            name,
            a,
            b,
            inductance,
            ic,
            branch: 0,
            slots: [Slot::default(); 5],
            flux: 0,
        }
    }
}

/// A mutual inductance `m` between windings `i` and `j` of the group.
#[derive(Debug)]
pub struct Mutual {
    pub i: usize,
    pub j: usize,
    pub m: f64,
    /// (branch i, branch j) (branch j, branch i)
    slots: [Slot; 2],
}

impl Mutual {
    pub fn new(i: usize, j: usize, m: f64) -> Self {
        Self {
            i,
            j,
            m,
            slots: [Slot::default(); 2],
        }
    }
}

/// One inductor, or several joined by couplings.
#[derive(Debug)]
pub struct Inductors {
    windings: Vec<Winding>,
    mutuals: Vec<Mutual>,
}

impl Inductors {
    pub fn new(windings: Vec<Winding>, mutuals: Vec<Mutual>) -> Self {
        Self { windings, mutuals }
    }

    /// The flux of every winding from branch currents `current(k)`.
    fn fluxes(&self, current: impl Fn(&Winding) -> f64) -> Vec<f64> {
        let mut flux: Vec<f64> = self
            .windings
            .iter()
            .map(|w| w.inductance * current(w))
            .collect();
        for mu in &self.mutuals {
            flux[mu.i] += mu.m * current(&self.windings[mu.j]);
            flux[mu.j] += mu.m * current(&self.windings[mu.i]);
        }
        flux
    }
}

impl Device for Inductors {
    fn name(&self) -> &str {
        &self.windings[0].name
    }

    fn links(&self) -> Vec<Link> {
        self.windings
            .iter()
            .map(|w| Link {
                a: w.a,
                b: w.b,
                kind: LinkKind::Conductive,
            })
            .collect()
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        for w in &mut self.windings {
            w.branch = s.unknown(format!("i({})", w.name), UnknownKind::Current, true);
            let j = Some(w.branch);
            w.slots = [
                s.pattern.entry(w.a, j),
                s.pattern.entry(w.b, j),
                s.pattern.entry(j, w.a),
                s.pattern.entry(j, w.b),
                s.pattern.entry(j, j),
            ];
            w.flux = s.charge();
        }
        for mu in &mut self.mutuals {
            let (bi, bj) = (
                Some(self.windings[mu.i].branch),
                Some(self.windings[mu.j].branch),
            );
            mu.slots = [s.pattern.entry(bi, bj), s.pattern.entry(bj, bi)];
        }
    }

    fn load(&mut self, ctx: &LoadCtx<'_>, x: &[f64], st: &mut States, m: &mut Stamp<'_>) -> bool {
        let flux = match ctx.phase {
            Phase::UicStart => self.fluxes(|w| w.ic.unwrap_or(0.0)),
            Phase::Dc | Phase::Tran(_) => self.fluxes(|w| x[w.branch]),
        };
        for (w, phi) in self.windings.iter().zip(&flux) {
            m.add(w.slots[0], 1.0);
            m.add(w.slots[1], -1.0);
            m.add(w.slots[2], 1.0);
            m.add(w.slots[3], -1.0);
            st.levels[0][w.flux] = *phi;
            match ctx.phase {
                Phase::Dc | Phase::UicStart => st.levels[0][w.flux + 1] = 0.0,
                Phase::Tran(integ) => {
                    // v+ - v- = dφ/dt ≈ ag0·φ + ceq, φ linear in the currents.
                    let (req, veq) = integ.integrate(st, w.flux, w.inductance);
                    m.add(w.slots[4], -req);
                    m.rhs(Some(w.branch), veq);
                }
            }
        }
        if let Phase::Tran(integ) = ctx.phase {
            for mu in &self.mutuals {
                m.add(mu.slots[0], -mu.m * integ.ag[0]);
                m.add(mu.slots[1], -mu.m * integ.ag[0]);
            }
        }
        true
    }

    fn ac_load(&self, omega: f64, _: &States, m: &mut AcStamp<'_>) {
        for w in &self.windings {
            m.imag(w.slots[4], -omega * w.inductance);
        }
        for mu in &self.mutuals {
            m.imag(mu.slots[0], -omega * mu.m);
            m.imag(mu.slots[1], -omega * mu.m);
        }
    }

    fn initial_guess(&self, x: &mut [f64]) {
        for w in &self.windings {
            if let Some(ic) = w.ic {
                x[w.branch] = ic;
            }
        }
    }
}

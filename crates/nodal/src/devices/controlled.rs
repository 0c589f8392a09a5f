//! Controlled sources in their linear and `POLY(n)` forms: E (voltage
//! controlled voltage source), F (current controlled current source), G
//! (voltage controlled current source), H (current controlled voltage
//! source). The output is a polynomial in the controlling quantities, with
//! SPICE2's coefficient order (the plain forms are the one-dimensional
//! polynomial `0 + gain·x`), stamped as its Newton linearisation at the
//! present iterate; a linear source stamps its gains once and for all.

use xbar_netlist::{Element, Polynomial, SourceLoc};

use super::{finite, Device, Link, LinkKind, LoadCtx, NodeMap, Setup, States, UnknownKind};
use crate::error::NodalError;
use crate::matrix::{Slot, Stamp, Unknown};

/// One controlling quantity.
#[derive(Debug)]
enum Control {
    /// `v(a) - v(b)`.
    Voltage(Unknown, Unknown),
    /// The branch current of the named element (found at bind time).
    Current { element: String, branch: usize },
}

/// What the source drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// E, H: a voltage between n+ and n-, with its branch current `i(name)`.
    Voltage,
    /// G, F: a current from n+ through the source to n-.
    Current,
}

#[derive(Debug)]
pub struct Controlled {
    name: String,
    loc: SourceLoc,
    a: Unknown,
    b: Unknown,
    output: Output,
    controls: Vec<Control>,
    coeffs: Vec<f64>,
    /// Exponents of each control in the term of `coeffs[k + 1]`.
    terms: Vec<Vec<u32>>,
    nonlinear: bool,
    branch: usize,
    /// The branch current's vector name.
    branch_name: String,
    /// Voltage output: (a,j) (b,j) (j,a) (j,b).
    own: [Slot; 4],
    /// Per control, per column it reads (with the column's sign): the
    /// output rows' entries (voltage output: the branch row; current
    /// output: rows a and b).
    gains: Vec<Vec<(f64, [Slot; 2])>>,
}

/// The exponent vectors of a polynomial in `dims` variables in SPICE2's
/// order (its NXTPWR): by total degree, and within one degree in
/// decreasing lexicographic order (`x1², x1·x2, x2²` for two variables).
pub fn poly_terms(dims: usize, count: usize) -> Vec<Vec<u32>> {
    fn compositions(total: u32, parts: usize, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        if parts == 1 {
            prefix.push(total);
            out.push(prefix.clone());
            prefix.pop();
            return;
        }
        for first in (0..=total).rev() {
            prefix.push(first);
            compositions(total - first, parts - 1, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::with_capacity(count);
    let mut degree = 1;
    while out.len() < count && dims > 0 {
        let mut level = Vec::new();
        compositions(degree, dims, &mut Vec::new(), &mut level);
        out.extend(level.into_iter().take(count - out.len()));
        degree += 1;
    }
    out
}

impl Controlled {
    /// `e.nodes` are n+ n- then, for voltage control, the controlling
    /// pairs; `currents` names the controlling elements of F and H.
    pub fn new(
        e: &Element,
        map: &NodeMap,
        output: Output,
        poly: &Polynomial,
        currents: &[String],
    ) -> Result<Self, NodalError> {
        let expected = 2 + if currents.is_empty() {
            2 * poly.dims
        } else {
            0
        };
        let n = super::nodes(e, map, expected)?;
        for &c in &poly.coeffs {
            finite(e, "polynomial coefficient", c)?;
        }
        let controls = if currents.is_empty() {
            n[2..]
                .chunks_exact(2)
                .map(|p| Control::Voltage(p[0], p[1]))
                .collect()
        } else {
            currents
                .iter()
                .map(|c| Control::Current {
                    element: c.clone(),
                    branch: 0,
                })
                .collect()
        };
        let terms = poly_terms(poly.dims, poly.coeffs.len().saturating_sub(1));
        let nonlinear = terms
            .iter()
            .zip(&poly.coeffs[1..])
            .any(|(t, &c)| c != 0.0 && t.iter().sum::<u32>() > 1);
        Ok(Self {
            name: e.name.clone(),
            loc: e.loc.clone(),
            a: n[0],
            b: n[1],
            output,
            controls,
            coeffs: poly.coeffs.clone(),
            terms,
            nonlinear,
            branch: 0,
            branch_name: if poly.written_as_poly {
                format!("i(a$poly${})", e.name)
            } else {
                format!("i({})", e.name)
            },
            own: [Slot::default(); 4],
            gains: Vec::new(),
        })
    }

    fn control_value(&self, c: &Control, x: &[f64]) -> f64 {
        match *c {
            Control::Voltage(a, b) => volt(x, a) - volt(x, b),
            Control::Current { branch, .. } => x[branch],
        }
    }

    /// The polynomial's value and its partial derivatives at `inputs`.
    fn eval(&self, inputs: &[f64]) -> (f64, Vec<f64>) {
        let mut value = self.coeffs.first().copied().unwrap_or(0.0);
        let mut grad = vec![0.0; inputs.len()];
        for (term, &c) in self.terms.iter().zip(&self.coeffs[1..]) {
            if c == 0.0 {
                continue;
            }
            let powers: Vec<f64> = inputs
                .iter()
                .zip(term)
                .map(|(&v, &e)| v.powi(e as i32))
                .collect();
            value += c * powers.iter().product::<f64>();
            for (k, g) in grad.iter_mut().enumerate() {
                if term[k] == 0 {
                    continue;
                }
                let others: f64 = powers
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != k)
                    .map(|(_, p)| p)
                    .product();
                *g += c * f64::from(term[k]) * inputs[k].powi(term[k] as i32 - 1) * others;
            }
        }
        (value, grad)
    }

    fn output_rows(&self) -> Vec<Unknown> {
        match self.output {
            Output::Voltage => vec![Some(self.branch)],
            Output::Current => vec![self.a, self.b],
        }
    }
}

fn volt(x: &[f64], n: Unknown) -> f64 {
    n.map_or(0.0, |i| x[i])
}

impl Device for Controlled {
    fn name(&self) -> &str {
        &self.name
    }

    fn links(&self) -> Vec<Link> {
        match self.output {
            Output::Voltage => vec![Link {
                a: self.a,
                b: self.b,
                kind: LinkKind::VoltageSource,
            }],
            Output::Current => Vec::new(),
        }
    }

    fn setup(&mut self, s: &mut Setup<'_>) {
        if self.output == Output::Voltage {
            self.branch = s.unknown(self.branch_name.clone(), UnknownKind::Current, true);
            let j = Some(self.branch);
            self.own = [
                s.pattern.entry(self.a, j),
                s.pattern.entry(self.b, j),
                s.pattern.entry(j, self.a),
                s.pattern.entry(j, self.b),
            ];
        }
    }

    fn bind(&mut self, s: &mut Setup<'_>) -> Result<(), NodalError> {
        for control in &mut self.controls {
            if let Control::Current { element, branch } = control {
                *branch = s.branch(element).ok_or_else(|| NodalError::BadParameter {
                    element: self.name.clone(),
                    message: format!(
                        "controlling element `{element}` has no branch current (it must be a voltage source, an E or H source or an inductor)"
                    ),
                    loc: Box::new(self.loc.clone()),
                })?;
            }
        }
        let rows = self.output_rows();
        let second = rows.get(1).copied().flatten();
        let mut gains = Vec::with_capacity(self.controls.len());
        for control in &self.controls {
            let columns: Vec<(Unknown, f64)> = match *control {
                Control::Voltage(a, b) => vec![(a, 1.0), (b, -1.0)],
                Control::Current { branch, .. } => vec![(Some(branch), 1.0)],
            };
            gains.push(
                columns
                    .into_iter()
                    .map(|(col, sign)| {
                        let slots = [s.pattern.entry(rows[0], col), s.pattern.entry(second, col)];
                        (sign, slots)
                    })
                    .collect(),
            );
        }
        self.gains = gains;
        Ok(())
    }

    fn is_nonlinear(&self) -> bool {
        self.nonlinear
    }

    fn load(&mut self, _: &LoadCtx<'_>, x: &[f64], _: &mut States, m: &mut Stamp<'_>) -> bool {
        let inputs: Vec<f64> = self
            .controls
            .iter()
            .map(|c| self.control_value(c, x))
            .collect();
        let (value, grad) = self.eval(&inputs);
        // The part of the linearisation that is not proportional to the
        // controls: exactly zero for the plain linear forms.
        let offset = value - grad.iter().zip(&inputs).map(|(g, v)| g * v).sum::<f64>();
        for (entries, &g) in self.gains.iter().zip(&grad) {
            for &(sign, slots) in entries {
                match self.output {
                    // Branch row: v(a) - v(b) - Σ g·x = offset.
                    Output::Voltage => m.add(slots[0], -sign * g),
                    // Row a: the current leaving a through the source.
                    Output::Current => {
                        m.add(slots[0], sign * g);
                        m.add(slots[1], -sign * g);
                    }
                }
            }
        }
        match self.output {
            Output::Voltage => {
                m.add(self.own[0], 1.0);
                m.add(self.own[1], -1.0);
                m.add(self.own[2], 1.0);
                m.add(self.own[3], -1.0);
                m.rhs(Some(self.branch), offset);
            }
            Output::Current => m.current(self.a, self.b, offset),
        }
        true
    }
}

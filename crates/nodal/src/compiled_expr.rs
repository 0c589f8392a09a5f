//! A behavioural expression compiled once into a flat tree that returns its
//! value and its exact partial derivatives with respect to every probe
//! together (forward-mode automatic differentiation), so a B source stamps
//! its Newton linearisation without finite differences.
//!
//! Values come from [`xbar_netlist::expr`] (the one definition of every
//! operator and function, [`Dialect::Behavioral`]); the derivative rules
//! are those of ngspice's symbolic derivatives: divisions in them are
//! ngspice's divisions (the divisor moved away from zero by `fudge`, so
//! `sqrt` and `ln` have a huge but finite slope at 0), `^` differentiates as
//! `|a|^b`, a step, comparison or rounding function has slope 0, `uramp`
//! has slope `u(x)` and a ternary takes the slope of the branch it chose.

use xbar_netlist::expr::{BinOp, Dialect, Expr, ExprError, Func, Probe, UnOp, Var};

/// Where the run-time variables stand.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// Probe values, in the order given to [`CompiledExpr::compile`].
    pub probes: &'a [f64],
    pub time: f64,
    /// Circuit temperature in °C.
    pub temper: f64,
}

#[derive(Debug, Clone)]
enum Node {
    Const(f64),
    Probe(usize),
    Var(Var),
    Unary(UnOp, usize),
    Binary(BinOp, usize, usize),
    Ternary(usize, usize, usize),
    Func(Func, usize, Option<usize>),
}

/// A compiled expression with its evaluation buffers.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    nodes: Vec<Node>,
    probes: usize,
    dialect: Dialect,
    values: Vec<f64>,
    /// `probes` partial derivatives per node.
    grads: Vec<f64>,
}

impl CompiledExpr {
    /// Compiles a resolved expression (no parameters or `.func` calls left)
    /// whose probes are `probes`; `fudge` is ngspice's gmin·1e-20.
    pub fn compile(expr: &Expr, probes: &[Probe], fudge: f64) -> Result<Self, ExprError> {
        let mut c = Self {
            nodes: Vec::new(),
            probes: probes.len(),
            dialect: Dialect::Behavioral { fudge },
            values: Vec::new(),
            grads: Vec::new(),
        };
        c.add(expr, probes)?;
        c.values = vec![0.0; c.nodes.len()];
        c.grads = vec![0.0; c.nodes.len() * c.probes];
        Ok(c)
    }

    /// Appends `expr` (children first) and returns its node index. Subtrees
    /// without probes or variables are folded to constants when they
    /// evaluate; one that fails stays, so an untaken ternary branch such as
    /// `sqrt(-1)` errs only if it is ever chosen.
    fn add(&mut self, expr: &Expr, probes: &[Probe]) -> Result<usize, ExprError> {
        if !matches!(expr, Expr::Num(_)) && !expr_depends(expr) {
            let folded = expr.eval(self.dialect, &mut |leaf| {
                Err::<f64, ExprError>(ExprError::Domain(format!("`{leaf}` is not resolved")))
            });
            if let Ok(value) = folded {
                self.nodes.push(Node::Const(value));
                return Ok(self.nodes.len() - 1);
            }
        }
        let node = match expr {
            Expr::Num(value) => Node::Const(*value),
            Expr::Probe(p) => Node::Probe(
                probes
                    .iter()
                    .position(|q| q == p)
                    .ok_or_else(|| ExprError::Domain(format!("probe {expr} not listed")))?,
            ),
            Expr::Var(v) => Node::Var(*v),
            Expr::Unary(op, a) => Node::Unary(*op, self.add(a, probes)?),
            Expr::Binary(op, a, b) => {
                let a = self.add(a, probes)?;
                Node::Binary(*op, a, self.add(b, probes)?)
            }
            Expr::Ternary(c, a, b) => {
                let c = self.add(c, probes)?;
                let a = self.add(a, probes)?;
                Node::Ternary(c, a, self.add(b, probes)?)
            }
            Expr::Func(f, args) => {
                let a = self.add(&args[0], probes)?;
                let b = match args.get(1) {
                    Some(arg) => Some(self.add(arg, probes)?),
                    None => None,
                };
                Node::Func(*f, a, b)
            }
            Expr::Param(name) | Expr::Call(name, _) => {
                return Err(ExprError::Domain(format!(
                    "`{name}` was not resolved before compilation"
                )))
            }
        };
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    /// The value and the partial derivatives with respect to the probes.
    pub fn eval(&mut self, env: &Env<'_>) -> Result<(f64, &[f64]), ExprError> {
        let root = self.nodes.len() - 1;
        let mut run = Run {
            nodes: &self.nodes,
            n: self.probes,
            dialect: self.dialect,
            values: &mut self.values,
            grads: &mut self.grads,
            env,
        };
        run.node(root)?;
        let n = self.probes;
        let grad = &self.grads[root * n..(root + 1) * n];
        if let Some(k) = grad.iter().position(|g| !g.is_finite()) {
            return Err(ExprError::Domain(format!(
                "the derivative with respect to probe #{} is {}",
                k + 1,
                grad[k]
            )));
        }
        Ok((self.values[root], grad))
    }
}

/// Whether the value can change during a simulation.
fn expr_depends(expr: &Expr) -> bool {
    let mut depends = false;
    expr.walk(&mut |e| depends |= matches!(e, Expr::Probe(_) | Expr::Var(_)));
    depends
}

struct Run<'a> {
    nodes: &'a [Node],
    n: usize,
    dialect: Dialect,
    values: &'a mut [f64],
    grads: &'a mut [f64],
    env: &'a Env<'a>,
}

impl Run<'_> {
    fn fudge(&self) -> f64 {
        match self.dialect {
            Dialect::Behavioral { fudge } => fudge,
            Dialect::Numparam => 0.0,
        }
    }

    /// ngspice's division, as in its derivative trees.
    fn div(&self, a: f64, b: f64) -> f64 {
        let fudge = self.fudge();
        a / if b >= 0.0 { b + fudge } else { b - fudge }
    }

    /// Sets node `i`'s gradient to `scale` times node `j`'s.
    fn scaled(&mut self, i: usize, j: usize, scale: f64) {
        let n = self.n;
        for k in 0..n {
            self.grads[i * n + k] = scale * self.grads[j * n + k];
        }
    }

    fn zero(&mut self, i: usize) {
        let n = self.n;
        self.grads[i * n..(i + 1) * n].fill(0.0);
    }

    fn has_slope(&self, j: usize) -> bool {
        let n = self.n;
        self.grads[j * n..(j + 1) * n].iter().any(|&g| g != 0.0)
    }

    /// Node `i`'s gradient as `sa·grad(a) + sb·grad(b)`, skipping an operand
    /// without slope (its factor may be infinite where it does not matter).
    fn combine(&mut self, i: usize, a: usize, sa: f64, b: usize, sb: f64) {
        let n = self.n;
        let (use_a, use_b) = (self.has_slope(a), self.has_slope(b));
        for k in 0..n {
            let mut g = 0.0;
            if use_a {
                g += sa * self.grads[a * n + k];
            }
            if use_b {
                g += sb * self.grads[b * n + k];
            }
            self.grads[i * n + k] = g;
        }
    }

    fn is_const(&self, j: usize) -> bool {
        matches!(self.nodes[j], Node::Const(_))
    }

    /// The slopes of `a^b` (value `value`) with respect to `a` and `b` as
    /// ngspice's derivative trees give them, which pick the form by which
    /// operand is a literal constant: `b·const_b_slope` for a constant
    /// exponent, `value·log|a|` for a constant base, else
    /// `value·(b·da/a + db·log|a|)` (log 0 is -1e99 there, the division
    /// ngspice's).
    fn power_slopes(
        &self,
        a: usize,
        b: usize,
        x: f64,
        y: f64,
        value: f64,
        const_b_slope: f64,
    ) -> (f64, f64) {
        let log_abs = if x == 0.0 { -1e99 } else { x.abs().ln() };
        if self.is_const(b) {
            (y * const_b_slope, 0.0)
        } else if self.is_const(a) {
            (0.0, value * log_abs)
        } else {
            (value * y * self.div(1.0, x), value * log_abs)
        }
    }

    fn node(&mut self, i: usize) -> Result<(), ExprError> {
        let n = self.n;
        let value = match self.nodes[i] {
            Node::Const(v) => {
                self.zero(i);
                v
            }
            Node::Probe(p) => {
                self.zero(i);
                self.grads[i * n + p] = 1.0;
                self.env.probes[p]
            }
            Node::Var(var) => {
                self.zero(i);
                match var {
                    Var::Time => self.env.time,
                    Var::Temper => self.env.temper,
                    Var::Hertz => 0.0,
                }
            }
            Node::Unary(op, a) => {
                self.node(a)?;
                match op {
                    UnOp::Neg => self.scaled(i, a, -1.0),
                    UnOp::Not => self.zero(i),
                }
                op.apply(self.values[a])
            }
            Node::Binary(op, a, b) => {
                self.node(a)?;
                self.node(b)?;
                let (x, y) = (self.values[a], self.values[b]);
                let value = op.apply(self.dialect, x, y)?;
                match op {
                    BinOp::Add => self.combine(i, a, 1.0, b, 1.0),
                    BinOp::Sub => self.combine(i, a, 1.0, b, -1.0),
                    BinOp::Mul => self.combine(i, a, y, b, x),
                    BinOp::Div => {
                        // (da·b - db·a) / b², ngspice's form.
                        let b2 = y * y;
                        self.combine(i, a, self.div(y, b2), b, -self.div(x, b2))
                    }
                    BinOp::Pow => {
                        let (da, db) = self.power_slopes(a, b, x, y, value, pwr(x, y - 1.0));
                        self.combine(i, a, da, b, db)
                    }
                    _ => self.zero(i),
                }
                value
            }
            Node::Ternary(c, a, b) => {
                self.node(c)?;
                let chosen = if self.values[c] != 0.0 { a } else { b };
                self.node(chosen)?;
                self.scaled(i, chosen, 1.0);
                self.values[chosen]
            }
            Node::Func(f, a, b) => {
                self.node(a)?;
                if let Some(b) = b {
                    self.node(b)?;
                }
                let x = self.values[a];
                let y = b.map_or(0.0, |b| self.values[b]);
                let args = [x, y];
                let value = f.apply(self.dialect, &args[..f.arity()])?;
                self.func_slope(i, f, a, b, x, y, value);
                value
            }
        };
        self.values[i] = value;
        Ok(())
    }

    /// Node `i`'s gradient for function `f` of `a` (and `b`) at `x` (`y`).
    #[allow(clippy::too_many_arguments)]
    fn func_slope(
        &mut self,
        i: usize,
        f: Func,
        a: usize,
        b: Option<usize>,
        x: f64,
        y: f64,
        value: f64,
    ) {
        let ln10 = std::f64::consts::LOG10_E;
        let slope = match f {
            Func::Abs => sgn(x),
            Func::Sqrt => self.div(1.0, 2.0 * x.sqrt()),
            Func::Sqr => 2.0 * x,
            // ngspice's slope of exp is exp itself, capped the same way.
            Func::Exp => value,
            Func::Ln => self.div(1.0, x),
            Func::Log10 => self.div(ln10, x),
            Func::Sin => Func::Cos.apply(self.dialect, &[x]).unwrap_or(f64::NAN),
            Func::Cos => -Func::Sin.apply(self.dialect, &[x]).unwrap_or(f64::NAN),
            Func::Tan => 1.0 + value * value,
            Func::Asin => self.div(1.0, (1.0 - x * x).sqrt()),
            Func::Acos => self.div(-1.0, (1.0 - x * x).sqrt()),
            Func::Atan => self.div(1.0, x * x + 1.0),
            Func::Sinh => x.cosh(),
            Func::Cosh => x.sinh(),
            Func::Tanh => 1.0 - value * value,
            Func::Asinh => self.div(1.0, (x * x + 1.0).sqrt()),
            Func::Acosh => self.div(1.0, (x * x - 1.0).sqrt()),
            Func::Atanh => self.div(1.0, 1.0 - x * x),
            Func::Uramp => step(x),
            Func::U2 => step(x) - step(x - 1.0),
            Func::Sgn | Func::Floor | Func::Ceil | Func::Int | Func::Nint | Func::U => 0.0,
            Func::Min | Func::Max => {
                // ngspice: the slope of `a` when a < b (min) or a > b (max).
                let first = if f == Func::Min {
                    x - y < 0.0
                } else {
                    x - y > 0.0
                };
                let chosen = if first { a } else { b.unwrap_or(a) };
                self.scaled(i, chosen, 1.0);
                return;
            }
            Func::Pow | Func::Pwr => {
                let Some(b) = b else { return };
                // With a constant exponent ngspice differentiates pow as
                // b·pwr(a, b-1) and pwr as b·pow(a, b-1).
                let const_b_slope = if f == Func::Pow {
                    pwr(x, y - 1.0)
                } else {
                    x.abs().powf(y - 1.0)
                };
                let (da, db) = self.power_slopes(a, b, x, y, value, const_b_slope);
                self.combine(i, a, da, b, db);
                return;
            }
        };
        self.scaled(i, a, slope);
    }
}

fn sgn(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn step(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else if x > 0.0 {
        1.0
    } else {
        0.5
    }
}

/// `sign(a)|a|^b`.
fn pwr(a: f64, b: f64) -> f64 {
    if a < 0.0 {
        -(-a).powf(b)
    } else {
        a.powf(b)
    }
}

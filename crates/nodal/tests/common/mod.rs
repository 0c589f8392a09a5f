//! Builds flat circuits for the tests, and gives ngspice's answers on the
//! equivalent deck (committed, and live when ngspice is installed).

#![allow(dead_code)]

use std::collections::BTreeMap;

use xbar_netlist::{
    Analysis, Circuit, Element, ElementKind, Model, Source, SourceLoc, Sweep, Waveform,
};

#[derive(Default)]
pub struct Deck {
    pub circuit: Circuit,
    /// The same circuit as ngspice text (element lines only).
    pub lines: Vec<String>,
}

impl Deck {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, name: &str, nodes: &[&str], kind: ElementKind, line: String) -> &mut Self {
        self.circuit.elements.push(Element {
            name: name.into(),
            nodes: nodes.iter().map(|s| s.to_string()).collect(),
            kind,
            loc: SourceLoc {
                file: "test.cir".into(),
                line: self.lines.len() + 2,
            },
        });
        self.lines.push(line);
        self
    }

    pub fn r(&mut self, name: &str, a: &str, b: &str, r: f64) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::Resistor {
                resistance: r,
                ac: None,
            },
            format!("{name} {a} {b} {r:e}"),
        )
    }

    pub fn c(&mut self, name: &str, a: &str, b: &str, c: f64, ic: Option<f64>) -> &mut Self {
        let ics = ic.map(|v| format!(" ic={v:e}")).unwrap_or_default();
        self.push(
            name,
            &[a, b],
            ElementKind::Capacitor { capacitance: c, ic },
            format!("{name} {a} {b} {c:e}{ics}"),
        )
    }

    pub fn v(&mut self, name: &str, a: &str, b: &str, dc: f64) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::VoltageSource(Source {
                dc,
                waveform: None,
                ac: None,
            }),
            format!("{name} {a} {b} dc {dc:e}"),
        )
    }

    pub fn vw(
        &mut self,
        name: &str,
        a: &str,
        b: &str,
        dc: f64,
        w: Waveform,
        text: &str,
    ) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::VoltageSource(Source {
                dc,
                waveform: Some(w),
                ac: None,
            }),
            format!("{name} {a} {b} dc {dc:e} {text}"),
        )
    }

    pub fn i(&mut self, name: &str, a: &str, b: &str, dc: f64) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::CurrentSource(Source {
                dc,
                waveform: None,
                ac: None,
            }),
            format!("{name} {a} {b} dc {dc:e}"),
        )
    }

    pub fn d(&mut self, name: &str, a: &str, b: &str, model: &str) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::Diode {
                model: model.into(),
                area: 1.0,
            },
            format!("{name} {a} {b} {model}"),
        )
    }

    pub fn m(&mut self, name: &str, n: [&str; 4], model: &str, w: f64, l: f64) -> &mut Self {
        self.push(
            name,
            &n,
            ElementKind::Mosfet {
                model: model.into(),
                w: Some(w),
                l: Some(l),
                geometry: Default::default(),
            },
            format!(
                "{name} {} {} {} {} {model} w={w:e} l={l:e}",
                n[0], n[1], n[2], n[3]
            ),
        )
    }

    /// A BJT with collector, base, emitter and substrate nodes.
    pub fn q(&mut self, name: &str, n: [&str; 4], model: &str, area: f64) -> &mut Self {
        self.push(
            name,
            &n,
            ElementKind::Bjt {
                model: model.into(),
                area,
            },
            format!(
                "{name} {} {} {} {} {model} {area:e}",
                n[0], n[1], n[2], n[3]
            ),
        )
    }

    pub fn y(&mut self, name: &str, a: &str, b: &str, model: &str, x0: Option<f64>) -> &mut Self {
        self.push(
            name,
            &[a, b],
            ElementKind::Memristor {
                model: model.into(),
                x0,
                instance: BTreeMap::new(),
            },
            format!("* memristor {name}"),
        )
    }

    pub fn model(&mut self, name: &str, kind: &str, params: &[(&str, f64)]) -> &mut Self {
        let p: BTreeMap<String, f64> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let text = params
            .iter()
            .map(|(k, v)| format!("{k}={v:e}"))
            .collect::<Vec<_>>()
            .join(" ");
        self.circuit.models.insert(
            name.into(),
            Model {
                name: name.into(),
                kind: kind.into(),
                params: p,
                words: BTreeMap::new(),
                loc: SourceLoc::default(),
            },
        );
        self.lines.push(format!(".model {name} {kind} ({text})"));
        self
    }

    pub fn option(&mut self, name: &str, v: f64) -> &mut Self {
        self.circuit.options.insert(name.into(), v);
        self.lines.push(format!(".options {name}={v:e}"));
        self
    }

    pub fn op(&mut self) -> &mut Self {
        self.circuit.analyses.push(Analysis::Op);
        self.lines.push(".op".into());
        self
    }

    pub fn dc(&mut self, src: &str, start: f64, stop: f64, step: f64) -> &mut Self {
        self.circuit.analyses.push(Analysis::Dc {
            inner: Sweep {
                source: src.into(),
                start,
                stop,
                step,
            },
            outer: None,
        });
        self.lines
            .push(format!(".dc {src} {start:e} {stop:e} {step:e}"));
        self
    }

    pub fn tran(&mut self, tstep: f64, tstop: f64, uic: bool) -> &mut Self {
        self.circuit.analyses.push(Analysis::Tran {
            tstep,
            tstop,
            tstart: 0.0,
            tmax: None,
            uic,
        });
        let u = if uic { " uic" } else { "" };
        self.lines.push(format!(".tran {tstep:e} {tstop:e}{u}"));
        self
    }

    /// `.tran tstep tstop 0 tmax`.
    pub fn tran_max(&mut self, tstep: f64, tstop: f64, tmax: f64) -> &mut Self {
        self.circuit.analyses.push(Analysis::Tran {
            tstep,
            tstop,
            tstart: 0.0,
            tmax: Some(tmax),
            uic: false,
        });
        self.lines
            .push(format!(".tran {tstep:e} {tstop:e} 0 {tmax:e}"));
        self
    }

    pub fn text(&self) -> String {
        format!("xbar test deck\n{}\n.end\n", self.lines.join("\n"))
    }
}

/// One plot of an ngspice ASCII raw file: names and rows.
pub struct Raw {
    pub names: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Raw {
    pub fn col(&self, name: &str) -> Vec<f64> {
        let k = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("ngspice has no vector {name}: {:?}", self.names));
        self.rows.iter().map(|r| r[k]).collect()
    }
}

#[path = "../../../../tests/support/ngspice.rs"]
pub mod spice;

/// ngspice's plots of `deck`: its committed answer
/// `tests/golden/ngspice/nodal/{name}.raw`, and a live run when ngspice is
/// available (see `tests/support/ngspice.rs`).
pub fn ngspice(deck: &str, name: &str) -> Vec<spice::Answer<Vec<Raw>>> {
    spice::answers_in_file(
        &format!("tests/golden/ngspice/nodal/{name}.raw"),
        |program| spice::run_raw(program, deck),
    )
    .into_iter()
    .map(|answer| spice::Answer {
        value: parse_raw(&answer.value),
        origin: answer.origin,
    })
    .collect()
}

fn parse_raw(text: &str) -> Vec<Raw> {
    let mut plots = Vec::new();
    let mut lines = text.lines().peekable();
    while lines.peek().is_some() {
        let mut nvars = 0;
        let mut npoints = 0;
        let mut names = Vec::new();
        for line in lines.by_ref() {
            if let Some(v) = line.strip_prefix("No. Variables:") {
                nvars = v.trim().parse().expect("nvars");
            } else if let Some(v) = line.strip_prefix("No. Points:") {
                npoints = v.trim().parse().expect("npoints");
            } else if line.starts_with("Variables:") {
                break;
            }
        }
        if nvars == 0 {
            break;
        }
        for _ in 0..nvars {
            let l = lines.next().expect("variable line");
            names.push(l.split_whitespace().nth(1).expect("name").to_string());
        }
        lines.next(); // Values:
        let mut rows = Vec::new();
        for _ in 0..npoints {
            let mut row = Vec::new();
            for k in 0..nvars {
                let l = lines.next().expect("value line");
                let tok = l
                    .split_whitespace()
                    .nth(if k == 0 { 1 } else { 0 })
                    .expect("value");
                row.push(tok.parse::<f64>().expect("number"));
            }
            rows.push(row);
        }
        plots.push(Raw { names, rows });
    }
    plots
}

/// Linear interpolation of (ts, ys) at t.
pub fn interp(ts: &[f64], ys: &[f64], t: f64) -> f64 {
    let k = ts.partition_point(|&x| x < t);
    if k == 0 {
        return ys[0];
    }
    if k >= ts.len() {
        return ys[ys.len() - 1];
    }
    let (t0, t1) = (ts[k - 1], ts[k]);
    if t1 == t0 {
        return ys[k];
    }
    ys[k - 1] + (ys[k] - ys[k - 1]) * (t - t0) / (t1 - t0)
}

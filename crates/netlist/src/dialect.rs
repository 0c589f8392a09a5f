//! The ngspice dialect xbar accepts, as one list: every element letter,
//! analysis, directive and `.control` command, what of it is supported and
//! what is refused. The parser dispatches on this list (an unknown or refused
//! keyword is an error built from it), `xbar sim --help` prints it and the
//! README's dialect table is checked against it, so the three cannot drift.
//!
//! Adding a feature is one line in [`DIALECT`] (and its implementation).

/// What a row describes; also the table's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// An element line, keyed by its first letter(s).
    Element,
    /// An analysis directive (`.op`, `.tran`, ...).
    Analysis,
    /// Any other dot directive.
    Directive,
    /// A command inside `.control ... .endc`.
    Control,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Element => "element",
            Category::Analysis => "analysis",
            Category::Directive => "directive",
            Category::Control => "control",
        }
    }
}

/// How xbar treats a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Simulated (within what `supported` says).
    Supported,
    /// Accepted and reported once as ignored (plotting, interactive settings).
    Ignored,
    /// An error naming the file and line: never a silently different result.
    Refused,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::Ignored => "ignored",
            Status::Refused => "refused",
        }
    }
}

/// One row of the dialect table.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    pub category: Category,
    /// Lower-case keywords: the element letter (`r`), the directive with its
    /// dot (`.tran`) or the command (`let`); aliases after the first.
    pub keywords: &'static [&'static str],
    pub status: Status,
    /// What works (for refused rows: why not).
    pub supported: &'static str,
    /// What of it is refused with an error ("" when nothing is).
    pub refused: &'static str,
}

use Category::*;
use Status::*;

const fn row(
    category: Category,
    keywords: &'static [&'static str],
    status: Status,
    supported: &'static str,
    refused: &'static str,
) -> Feature {
    Feature {
        category,
        keywords,
        status,
        supported,
        refused,
    }
}

/// Every keyword xbar knows, in table order.
pub const DIALECT: &[Feature] = &[
    row(Element, &["r"], Supported, "value or `{expr}`, `r=`, `r={expr}` of `V()` (a B source, as ngspice); `.model ... r` cards (rsh, defw, narrow, short, tc1, tc2, tnom), l= w= tc1= tc2= tc= ac= temp= dtemp= m= scale=; 0 Ω becomes 1 mΩ as in ngspice", ""),
    row(Element, &["c"], Supported, "value or `{expr}`, `ic=` (with `uic`), `c={expr}` of `V()` and the charge form, as ngspice 39", "model cards"),
    row(Element, &["l"], Supported, "value, `ic=` (with `uic`): a short at DC, jωL in AC, integrated flux in transients", "model cards, m="),
    row(Element, &["k"], Supported, "`k l1 l2 coefficient` (0 < |k| <= 1); several K lines couple larger groups", ""),
    row(Element, &["v"], Supported, "dc (`dc=`), pulse (also longer than its period, and bare `pulse(v1 v2)`), pwl, sin; `ac [mag [phase]]`", "exp, sffm, am, trnoise, trrandom; pulse's 8th value"),
    row(Element, &["i"], Supported, "as `v`", "as `v`"),
    row(Element, &["b"], Supported, "`V={expr}` / `I={expr}` of `V(a)`, `V(a,b)`, `I(branch)`, `time`, `temper`, parameters and `.func`s, the whole expression language; exact derivatives", "gauss, agauss, unif, aunif, limit(nom,avar), ddt and pwl inside expressions"),
    row(Element, &["e"], Supported, "linear VCVS `e n+ n- nc+ nc- gain`, POLY(n), `value={expr}`, `vol=`", "table=, laplace, freq"),
    row(Element, &["f"], Supported, "linear CCCS through a branch current (V, E, H, B V=, L), POLY(n)", ""),
    row(Element, &["g"], Supported, "linear VCCS, POLY(n), `value={expr}`, `cur=`", "table=, laplace, freq"),
    row(Element, &["h"], Supported, "linear CCVS, POLY(n)", ""),
    row(Element, &["d"], Supported, "ngspice diode model (DC, junction and diffusion charge, AC), area", "temperatures other than 27 °C"),
    row(Element, &["m"], Supported, "levels 1, 2 and 3 NMOS/PMOS: DC, Meyer and junction charges, RD/RS, temperature, AC; w l ad as pd ps nrd nrs", "m other than 1, ic=; BSIM and other levels (named in the error)"),
    row(Element, &["q"], Supported, "Gummel-Poon (level 1) NPN/PNP: DC, junction and diffusion charges, area, substrate node, temperature, AC", "excess phase (PTF), quasi-saturation, ISS, TLEV other than 0"),
    row(Element, &["x"], Supported, "subcircuits with `params:`, instance overrides, nested, ngspice's flattened names", ""),
    row(Element, &["ymemristor"], Supported, "memristor compact models of `xbar device` (`.model ... memristor model=...`), Xyce's cards (`level=2` TEAM, `3` Yakopcic, `5` Knowm MMS) with Xyce's names, x0=", "Xyce level 4"),
    row(Element, &["j", "s", "w", "t", "o", "u", "z", "a", "n", "p"], Refused, "JFETs, switches, transmission lines, MESFETs, XSPICE", "every line"),
    row(Analysis, &[".op"], Supported, "operating point: `op.csv`", ""),
    row(Analysis, &[".dc"], Supported, "source sweep, nested second source: `dc.csv`", "temp and parameter sweeps"),
    row(Analysis, &[".ac"], Supported, "dec|oct|lin N fstart fstop about the operating point: `ac.csv` (`re(..)`, `im(..)`, `db(..)`, `phase(..)`)", ""),
    row(Analysis, &[".tran"], Supported, "tstep tstop [tstart [tmax]] [uic], trapezoidal and gear, ngspice 39's step control: `tran.csv`", ""),
    row(Analysis, &[".tf", ".noise", ".four", ".sens", ".disto", ".pz", ".sp"], Refused, "not implemented", "every line"),
    row(Directive, &[".meas", ".measure"], Supported, "tran, dc and ac: TRIG/TARG (VAL, TD, RISE/FALL/CROSS incl. LAST, AT), FIND..WHEN, FIND..AT, WHEN, AVG RMS MIN MAX MIN_AT MAX_AT PP INTEG (FROM/TO), DERIV..AT/WHEN, PARAM: `meas.csv` and ngspice's stdout lines", "par('expr') vectors"),
    row(Directive, &[".param", ".params"], Supported, "numbers and `{expr}`, forward references, subcircuit scoping", ""),
    row(Directive, &[".func"], Supported, "`.func name(args) = {expr}`, nested, subcircuit-local", ""),
    row(Directive, &[".model"], Supported, "d, nmos, pmos (levels 1-3), npn, pnp, r, memristor", ""),
    row(Directive, &[".subckt", ".ends"], Supported, "pins, `params:` defaults", ""),
    row(Directive, &[".include", ".inc"], Supported, "relative to the including file", ""),
    row(Directive, &[".options", ".option", ".opt"], Supported, "reltol abstol vntol chgtol trtol gmin itl1 itl2 itl4 temp tnom maxord method gminsteps srcsteps defw defl defad defas maxpoints", "others warn and are ignored"),
    row(Directive, &[".temp"], Supported, "circuit temperature of resistors, BJTs and MOSFETs", ""),
    row(Directive, &[".save"], Supported, "v(n), v(a,b), i(vsrc), x(mem), all: restricts the CSV columns", "@device[param]"),
    row(Directive, &[".print", ".plot"], Supported, "the same vectors, printed to stdout (they choose the CSV columns when there is no `.save`)", ""),
    row(Directive, &[".ic", ".nodeset"], Supported, "v(node)=value: held in the transient's operating point / first Newton iterations as ngspice; starting values with uic", ""),
    row(Directive, &[".width", ".probe"], Supported, "accepted; no effect (ngspice 39 writes every vector whatever `.probe` asks)", ""),
    row(Directive, &[".title", ".end"], Supported, "", ""),
    row(Directive, &[".control", ".endc"], Supported, "the commands below, in order, after the deck's dot analyses are set up", ""),
    row(Directive, &[".lib", ".endl", ".global", ".csparam", ".if", ".else", ".endif", ".step", ".data", ".endd"], Refused, "not implemented", "every line"),
    row(Control, &["op", "dc", "tran", "ac"], Supported, "runs the analysis, writes its CSV as the dot analysis does (numbered when repeated)", ""),
    row(Control, &["run"], Supported, "the deck's dot analyses", ""),
    row(Control, &["reset"], Supported, "undoes every `alter`/`altermod`", ""),
    row(Control, &["alter", "altermod"], Supported, "`alter r1 2k`, `alter r1 resistance=2k`, `alter v1 dc=1`, `altermod mod param=value`: applies to later analyses", "waveform vectors"),
    row(Control, &["let", "set"], Supported, "vector arithmetic: + - * / ^, unary -, mag db ph real imag abs sqrt exp ln log10 deriv mean max min length vector, indexing v[i] and v[i,j]; `set` of variables used as $name", "string variables beyond $name"),
    row(Control, &["print"], Supported, "vectors and expressions to stdout (scalars `name = value`, else a table)", "col/line formats"),
    row(Control, &["wrdata", "write"], Supported, "CSV files of vectors (scale first) in --out", "ngspice's rawfile format"),
    row(Control, &["meas", "measure"], Supported, "as `.meas`, on the last analysis; the result becomes a vector", ""),
    row(Control, &["echo"], Supported, "text with $variables", ""),
    row(Control, &["foreach", "repeat", "end"], Supported, "plain loops over values and counts (nested)", "while, dowhile, if"),
    row(Control, &["quit", "exit"], Supported, "stops the block", ""),
    row(Control, &["plot", "gnuplot", "setplot", "display", "destroy", "rusage", "setcs", "unset", "snsave", "listing", "show", "showmod", "save", "version", "status", "iplot", "asciiplot", "hardcopy", "edisplay"], Ignored, "accepted and reported once as ignored (plotting, interactive settings)", ""),
    row(Control, &["tf", "noise", "pz", "sens", "fourier", "spec", "fft", "shell", "source", "load", "while", "dowhile", "if", "else", "break", "continue", "goto", "label", "define", "compose", "linearize", "cd", "sendraw", "option", "options"], Refused, "not implemented", "every line"),
];

/// The row of `keyword` in `category`, if xbar knows it.
pub fn lookup(category: Category, keyword: &str) -> Option<&'static Feature> {
    DIALECT
        .iter()
        .find(|f| f.category == category && f.keywords.contains(&keyword))
}

/// The row of a dot directive (analysis or other directive).
pub fn directive(keyword: &str) -> Option<&'static Feature> {
    lookup(Category::Analysis, keyword).or_else(|| lookup(Category::Directive, keyword))
}

/// The row of an element line, by its name (the longest keyword that
/// prefixes it: `ymemristor` before `y`).
pub fn element(name: &str) -> Option<&'static Feature> {
    DIALECT
        .iter()
        .filter(|f| f.category == Category::Element)
        .flat_map(|f| f.keywords.iter().map(move |k| (k, f)))
        .filter(|(k, _)| name.starts_with(**k))
        .max_by_key(|(k, _)| k.len())
        .map(|(_, f)| f)
}

/// The supported element keywords, upper-cased, for messages.
pub fn supported_elements() -> String {
    DIALECT
        .iter()
        .filter(|f| f.category == Category::Element && f.status == Status::Supported)
        .flat_map(|f| f.keywords.iter().map(|k| k.to_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table in Markdown, as the README and `xbar sim --help` show it.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| kind | keyword | status | supported | refused |\n| --- | --- | --- | --- | --- |\n",
    );
    for f in DIALECT {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            f.category.name(),
            f.keywords.join(" "),
            f.status.name(),
            f.supported,
            f.refused
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_unique_within_a_category_and_lower_case() {
        for (i, a) in DIALECT.iter().enumerate() {
            for k in a.keywords {
                assert_eq!(*k, k.to_ascii_lowercase());
                for b in &DIALECT[i + 1..] {
                    assert!(
                        a.category != b.category || !b.keywords.contains(k),
                        "`{k}` twice in {}",
                        a.category.name()
                    );
                }
            }
        }
    }

    #[test]
    fn element_lookup_takes_the_longest_prefix() {
        assert_eq!(element("ymemristor").unwrap().status, Status::Supported);
        assert_eq!(element("r12").unwrap().keywords, &["r"]);
        assert_eq!(element("j1").unwrap().status, Status::Refused);
        assert!(element("ydevice").is_none());
        assert_eq!(directive(".measure").unwrap().keywords[0], ".meas");
    }
}

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
    row(Element, &["r"], Supported, "value or `{expr}`, `r=`; 0 Ω becomes 1 mΩ as in ngspice", "model cards, tc1/tc2, ac="),
    row(Element, &["c"], Supported, "value or `{expr}`, `ic=` (with `uic`)", "model cards"),
    row(Element, &["v"], Supported, "dc, pulse, pwl, sin; `ac` magnitude/phase parsed", "exp, sffm, am, trnoise, trrandom"),
    row(Element, &["i"], Supported, "as `v`", "as `v`"),
    row(Element, &["e"], Supported, "linear VCVS `e n+ n- nc+ nc- gain`, POLY(n)", "value=/table= (behavioural)"),
    row(Element, &["f"], Supported, "linear CCCS through a voltage source's current, POLY(n)", ""),
    row(Element, &["g"], Supported, "linear VCCS, POLY(n)", "value=/table= (behavioural)"),
    row(Element, &["h"], Supported, "linear CCVS, POLY(n)", ""),
    row(Element, &["d"], Supported, "ngspice diode model (DC, junction and diffusion charge), area", ""),
    row(Element, &["m"], Supported, "level-1 NMOS/PMOS, w, l", "m other than 1; levels above 1 and BSIM"),
    row(Element, &["x"], Supported, "subcircuits with `params:`, nested, ngspice's flattened names", ""),
    row(Element, &["ymemristor"], Supported, "memristor compact models of `xbar device` (`.model ... memristor`), x0=", ""),
    row(Element, &["b", "l", "k", "q", "j", "s", "w", "t", "o", "u", "z", "a", "n", "p"], Refused, "behavioural sources, inductors, coupling, BJTs, JFETs, switches, lines, XSPICE", "every line"),
    row(Analysis, &[".op"], Supported, "operating point: `op.csv`", ""),
    row(Analysis, &[".dc"], Supported, "source sweep, nested second source: `dc.csv`", "temp and parameter sweeps"),
    row(Analysis, &[".tran"], Supported, "tstep tstop [tstart [tmax]] [uic], trapezoidal and gear: `tran.csv`", ""),
    row(Analysis, &[".ac", ".tf", ".noise", ".four", ".sens", ".disto", ".pz", ".sp"], Refused, "not implemented", "every line"),
    row(Directive, &[".meas", ".measure"], Supported, "tran and dc: TRIG/TARG (VAL, TD, RISE/FALL/CROSS incl. LAST, AT), FIND..WHEN, FIND..AT, WHEN, AVG RMS MIN MAX MIN_AT MAX_AT PP INTEG (FROM/TO), DERIV..AT/WHEN, PARAM: `meas.csv` and ngspice's stdout lines", "ac until `.ac` exists; par('expr') vectors"),
    row(Directive, &[".param"], Supported, "numbers and `{expr}`, forward references, subcircuit scoping", ""),
    row(Directive, &[".model"], Supported, "d, nmos, pmos, memristor", ""),
    row(Directive, &[".subckt", ".ends"], Supported, "pins, `params:` defaults", ""),
    row(Directive, &[".include", ".inc"], Supported, "relative to the including file", ""),
    row(Directive, &[".options", ".option", ".opt"], Supported, "reltol abstol vntol chgtol trtol gmin itl1 itl2 itl4 temp tnom maxord method", "others warn and are ignored"),
    row(Directive, &[".save"], Supported, "v(n), v(a,b), i(vsrc), x(mem), all: restricts the CSV columns", "@device[param]"),
    row(Directive, &[".print", ".plot"], Supported, "the same vectors, printed to stdout (they choose the CSV columns when there is no `.save`)", ""),
    row(Directive, &[".ic", ".nodeset"], Supported, "v(node)=value: held in the transient's operating point / first Newton iterations as ngspice; starting values with uic", ""),
    row(Directive, &[".width", ".probe"], Supported, "accepted; no effect (ngspice 39 writes every vector whatever `.probe` asks)", ""),
    row(Directive, &[".title", ".end"], Supported, "", ""),
    row(Directive, &[".control", ".endc"], Supported, "the commands below, in order, after the deck's dot analyses are set up", ""),
    row(Directive, &[".temp", ".lib", ".endl", ".func", ".global", ".csparam", ".if", ".else", ".endif", ".step", ".data", ".endd"], Refused, "not implemented", "every line"),
    row(Control, &["op", "dc", "tran"], Supported, "runs the analysis, writes its CSV as the dot analysis does (numbered when repeated)", ""),
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
    row(Control, &["ac", "tf", "noise", "pz", "sens", "fourier", "spec", "fft", "shell", "source", "load", "while", "dowhile", "if", "else", "break", "continue", "goto", "label", "define", "compose", "linearize", "cd", "sendraw", "option", "options"], Refused, "not implemented", "every line"),
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
        assert_eq!(element("q1").unwrap().status, Status::Refused);
        assert!(element("ydevice").is_none());
        assert_eq!(directive(".measure").unwrap().keywords[0], ".meas");
    }
}

//! `xbar crossbar`: solve one resistive crossbar with wire, driver and sense
//! resistance, with 1R cells or 1T1R cells (a fixed access resistance, or a
//! level-1 NMOS per cell gated per row); write column currents (and
//! optionally every cell) as CSV.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::output::write_atomically;
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbar_nodal::crossbar::{
    AccessTransistor, Conductances, Crossbar, CrossbarError, IterativeOptions, LinearCell,
    NewtonOptions, Parasitics, Solution,
};

/// Above this many unknowns `--solver auto` uses conjugate gradients.
const AUTO_ITERATIVE_UNKNOWNS: usize = 20_000;

/// A solution whose Kirchhoff residual exceeds this fraction of the largest
/// current is refused: well-conditioned arrays leave ~1e-15, the 2x2 array
/// of 1e9 S cells on 1 Ω wires 7e-8 (still right to 7 digits), 1e15 S
/// cells ~1e-2 (20 % off).
const MAX_KCL_RESIDUAL: f64 = 1e-6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SolverChoice {
    /// Direct below 20k unknowns, iterative above.
    Auto,
    /// Sparse Cholesky.
    Direct,
    /// Conjugate gradients on the column-wire Schur complement.
    Iterative,
}

/// Access transistor used by `--access mosfet` unless `--mos-model` is given.
const DEFAULT_MOS_MODEL: &str = "vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessChoice {
    /// 1R: the cell alone.
    None,
    /// 1T1R with a fixed on-resistance `--r-access` in series.
    Resistor,
    /// 1T1R with a level-1 NMOS per cell (drain at the cell, source on the
    /// column, body at 0 V), gate on a word-line voltage per row.
    Mosfet,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Conductances (S): N lines of M comma-separated values, no header.
    #[arg(long, value_name = "CSV", requires = "v_file", conflicts_with_all = ["rows", "cols"])]
    g_file: Option<PathBuf>,
    /// Row input voltages (V): N lines, one value each.
    #[arg(long, value_name = "CSV", requires = "g_file")]
    v_file: Option<PathBuf>,
    /// Generator mode: number of rows.
    #[arg(long, requires_all = ["cols", "g_min", "g_max", "v_max"])]
    rows: Option<usize>,
    /// Generator mode: number of columns.
    #[arg(long, requires = "rows")]
    cols: Option<usize>,
    /// Generator mode: smallest conductance (S).
    #[arg(long, value_name = "S", requires = "rows")]
    g_min: Option<f64>,
    /// Generator mode: largest conductance (S).
    #[arg(long, value_name = "S", requires = "rows")]
    g_max: Option<f64>,
    /// Generator mode: inputs are uniform in [0, v_max] (V).
    #[arg(long, value_name = "V", requires = "rows")]
    v_max: Option<f64>,
    /// Generator mode: random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Generator mode: refuse arrays of more cells than this. The default is
    /// the largest array measured (5000x5000: ~2.5 GB and 42 s with the
    /// iterative solver); memory grows with the cells.
    #[arg(long, value_name = "N", default_value_t = 25_000_000)]
    max_cells: usize,
    /// Row-wire resistance per cell pitch (Ω).
    #[arg(long, value_name = "OHM", default_value_t = 0.0)]
    r_row: f64,
    /// Column-wire resistance per cell pitch (Ω).
    #[arg(long, value_name = "OHM", default_value_t = 0.0)]
    r_col: f64,
    /// Driver output resistance (Ω).
    #[arg(long, value_name = "OHM", default_value_t = 0.0)]
    r_driver: f64,
    /// Sense-amplifier input resistance (Ω).
    #[arg(long, value_name = "OHM", default_value_t = 0.0)]
    r_sense: f64,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Also write DIR/cells.csv with every cell's terminal voltages and current.
    #[arg(long)]
    cells: bool,
    /// Also write the crossbar as an ngspice deck.
    #[arg(long, value_name = "FILE")]
    emit_netlist: Option<PathBuf>,
    /// Linear solver (1R and resistor access; MOSFET access always uses
    /// Newton on a sparse LU).
    #[arg(long, value_enum, default_value_t = SolverChoice::Auto)]
    solver: SolverChoice,
    /// Access device in series with every cell.
    #[arg(long, value_enum, default_value_t = AccessChoice::None)]
    access: AccessChoice,
    /// `--access resistor`: the access on-resistance (Ω).
    #[arg(long, value_name = "OHM")]
    r_access: Option<f64>,
    /// `--access mosfet`: the same gate (word-line) voltage on every row (V).
    #[arg(long, value_name = "V", conflicts_with = "gate_file")]
    v_gate: Option<f64>,
    /// `--access mosfet`: gate voltages (V), N lines, one per row (0 V
    /// leaves a row unselected).
    #[arg(long, value_name = "CSV")]
    gate_file: Option<PathBuf>,
    /// `--access mosfet`: level-1 NMOS as `name=value` pairs (SPICE numbers):
    /// `w`, `l` (m) and the ngspice model parameters vto, kp, lambda, gamma,
    /// phi, ld, is, tox, uo [default: "vto=0.7 kp=1e-4 w=1u l=100n lambda=0.02"].
    #[arg(long, value_name = "PARAMS")]
    mos_model: Option<String>,
}

/// The access device with everything it needs, validated before any output.
enum Access {
    None,
    Resistor(f64),
    Mosfet {
        transistor: AccessTransistor,
        gates: Vec<f64>,
    },
}

fn access(args: &Args, rows: usize) -> Result<Access> {
    let mosfet_only = [
        ("--v-gate", args.v_gate.is_some()),
        ("--gate-file", args.gate_file.is_some()),
        ("--mos-model", args.mos_model.is_some()),
    ];
    if args.access != AccessChoice::Mosfet {
        if let Some((name, _)) = mosfet_only.iter().find(|(_, given)| *given) {
            bail!("{name} needs --access mosfet");
        }
    }
    if args.access != AccessChoice::Resistor && args.r_access.is_some() {
        bail!("--r-access needs --access resistor");
    }
    Ok(match args.access {
        AccessChoice::None => Access::None,
        AccessChoice::Resistor => {
            let Some(r) = args.r_access else {
                bail!("--access resistor needs --r-access OHM");
            };
            if !(r.is_finite() && r >= 0.0) {
                bail!("--r-access must be finite and non-negative (got {r} Ω)");
            }
            Access::Resistor(r)
        }
        AccessChoice::Mosfet => {
            if args.solver == SolverChoice::Iterative {
                bail!("--access mosfet is solved by Newton on a sparse LU, not --solver iterative");
            }
            let spec = args.mos_model.as_deref().unwrap_or(DEFAULT_MOS_MODEL);
            let transistor =
                AccessTransistor::parse(spec).with_context(|| format!("--mos-model {spec:?}"))?;
            let gates = match (&args.gate_file, args.v_gate) {
                (Some(path), None) => read_gates(path, rows)?,
                (None, Some(vg)) => {
                    if !vg.is_finite() {
                        bail!("--v-gate must be finite (got {vg} V)");
                    }
                    vec![vg; rows]
                }
                _ => bail!("--access mosfet needs --v-gate V or --gate-file CSV"),
            };
            Access::Mosfet { transistor, gates }
        }
    })
}

/// One gate voltage per row; a file of the wrong length is named by line.
fn read_gates(path: &Path, rows: usize) -> Result<Vec<f64>> {
    let gates = read_column(path, "gate voltage in V")?;
    if gates.len() > rows {
        bail!(
            "{} line {}: gate voltage for row {}, but the crossbar has {rows} rows",
            path.display(),
            rows + 1,
            rows
        );
    }
    if gates.len() < rows {
        bail!(
            "{} ends after line {}: {} gate voltages, expected one per row ({rows})",
            path.display(),
            gates.len(),
            gates.len()
        );
    }
    Ok(gates)
}

pub fn run(args: Args) -> Result<()> {
    let (g, v) = inputs(&args)?;
    let access = access(&args, g.rows())?;
    let par = Parasitics {
        r_row: args.r_row,
        r_col: args.r_col,
        r_driver: args.r_driver,
        r_sense: args.r_sense,
    };
    let (rows, cols) = (g.rows(), g.cols());
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output directory {}", args.out.display()))?;

    let t0 = Instant::now();
    let xbar = Crossbar::new(rows, cols, par)?;
    let (transistor, gates) = match &access {
        Access::Mosfet { transistor, gates } => (transistor, gates),
        Access::None | Access::Resistor(_) => {
            let cells = match access {
                Access::Resistor(r) => g.with_series_resistance(r)?,
                _ => g.clone(),
            };
            return run_linear(&args, &xbar, &g, &cells, &v, t0);
        }
    };
    if let Some(path) = &args.emit_netlist {
        write_atomically(path, |w| {
            Ok(xbar.write_spice_deck_1t1r(w, &g, &v, transistor, gates)?)
        })?;
    }
    let cells: Vec<LinearCell> = g.as_slice().iter().map(|&x| LinearCell(x)).collect();
    let setup = t0.elapsed();
    let t1 = Instant::now();
    let s = xbar.solve_1t1r(&cells, transistor, gates, &v, NewtonOptions::default())?;
    let line = format!(
        "{rows}x{cols}, 1T1R level-1 NMOS: setup {:.3} ms, Newton {} iterations {:.3} ms; ideal-switch model differs by {:.3e} of the largest column current",
        ms(setup),
        s.iterations,
        ms(t1.elapsed()),
        s.max_relative_difference()
    );
    write_outputs(&args, &g, &v, &s.solution, Some(&s.internal_voltages))?;
    println!("{line}");
    Ok(())
}

/// 1R or fixed-resistance 1T1R: `cells` are the effective cell conductances,
/// `g` the programmed ones (for `ideal_current`).
fn run_linear(
    args: &Args,
    xbar: &Crossbar,
    g: &Conductances,
    cells: &Conductances,
    v: &[f64],
    t0: Instant,
) -> Result<()> {
    let (rows, cols) = (g.rows(), g.cols());
    let iterative = match args.solver {
        SolverChoice::Auto => xbar.unknowns() > AUTO_ITERATIVE_UNKNOWNS,
        SolverChoice::Direct => false,
        SolverChoice::Iterative => true,
    };
    let (solution, timing) = if iterative {
        let setup = t0.elapsed();
        let t1 = Instant::now();
        let it = xbar
            .solve_iterative(cells, v, IterativeOptions::default())
            .map_err(|e| explain_span(args, cells, e))?;
        let line = format!(
            "{rows}x{cols}, {} unknowns, iterative: setup {:.3} ms, chain factorisation + {} PCG iterations {:.3} ms (relative residual {:.1e})",
            xbar.unknowns(),
            ms(setup),
            it.iterations,
            ms(t1.elapsed()),
            it.relative_residual
        );
        (it.solution, line)
    } else {
        xbar.analyse()?;
        let setup = t0.elapsed();
        let t1 = Instant::now();
        let factored = xbar
            .factor(cells)
            .map_err(|e| explain_span(args, cells, e))?;
        let factor = t1.elapsed();
        let t2 = Instant::now();
        let solution = factored
            .solve(v)
            .map_err(|e| explain_span(args, cells, e))?;
        let stats = factored.stats();
        let line = format!(
            "{rows}x{cols}, {} unknowns, direct (Cholesky, {} factor entries): setup {:.3} ms, factorisation {:.3} ms, solve {:.3} ms",
            stats.unknowns,
            stats.factor_entries,
            ms(setup),
            ms(factor),
            ms(t2.elapsed())
        );
        (solution, line)
    };
    let residual = xbar.kcl_residual(cells, v, &solution);
    if residual > MAX_KCL_RESIDUAL {
        let (g_lo, g_hi) = conductance_span(args, cells);
        bail!(
            "the solution is meaningless: it misses Kirchhoff's current law by {residual:.1e} of the largest current (limit {MAX_KCL_RESIDUAL:e}); conductances span {g_lo:e} to {g_hi:e} S (ratio {:.1e}), more than double precision can resolve. Nothing written",
            g_hi / g_lo
        );
    }
    if let Some(path) = &args.emit_netlist {
        write_atomically(path, |w| Ok(xbar.write_spice_deck(w, cells, v)?))?;
    }
    write_outputs(args, g, v, &solution, None)?;
    println!("{timing}");
    Ok(())
}

/// A solver error on an array whose conductances span more decades than
/// double precision resolves says that this, not the wiring, is the cause.
fn explain_span(args: &Args, cells: &Conductances, err: CrossbarError) -> anyhow::Error {
    let (g_lo, g_hi) = conductance_span(args, cells);
    if g_hi / g_lo > 1e12 {
        anyhow::anyhow!(
            "{err}; conductances span {g_lo:e} to {g_hi:e} S (ratio {:.1e}), more than double precision can resolve",
            g_hi / g_lo
        )
    } else {
        err.into()
    }
}

/// Smallest and largest non-zero conductance among the cells and the wire,
/// driver and sense resistances: their ratio bounds the nodal matrix's
/// condition from below.
fn conductance_span(args: &Args, cells: &Conductances) -> (f64, f64) {
    let wires = [args.r_row, args.r_col, args.r_driver, args.r_sense]
        .into_iter()
        .filter(|&r| r > 0.0)
        .map(|r| 1.0 / r);
    let all = (0..cells.rows())
        .flat_map(|i| (0..cells.cols()).map(move |j| cells.get(i, j)))
        .chain(wires)
        .filter(|&g| g > 0.0);
    all.fold((f64::INFINITY, 0.0f64), |(lo, hi), g| {
        (lo.min(g), hi.max(g))
    })
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `columns.csv`, and with `--cells` `cells.csv`; `internal` (1T1R with a
/// MOSFET) adds each cell's node between cell and transistor as `v_mid`.
fn write_outputs(
    args: &Args,
    g: &Conductances,
    v: &[f64],
    s: &Solution,
    internal: Option<&[f64]>,
) -> Result<()> {
    let ideal = g.ideal_currents(v);
    write_atomically(&args.out.join("columns.csv"), |w| {
        writeln!(w, "col,current,ideal_current")?;
        for (j, (i, id)) in s.column_currents.iter().zip(&ideal).enumerate() {
            writeln!(w, "{j},{i:e},{id:e}")?;
        }
        Ok(())
    })?;
    if args.cells {
        write_atomically(&args.out.join("cells.csv"), |w| {
            match internal {
                Some(_) => writeln!(w, "row,col,v_row,v_col,v_mid,current")?,
                None => writeln!(w, "row,col,v_row,v_col,current")?,
            }
            for i in 0..s.rows {
                for j in 0..s.cols {
                    let k = i * s.cols + j;
                    write!(
                        w,
                        "{i},{j},{:e},{:e},",
                        s.row_voltages[k], s.col_voltages[k]
                    )?;
                    if let Some(mid) = internal {
                        write!(w, "{:e},", mid[k])?;
                    }
                    writeln!(w, "{:e}", s.cell_currents[k])?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn inputs(args: &Args) -> Result<(Conductances, Vec<f64>)> {
    match (&args.g_file, &args.v_file, args.rows) {
        (Some(gf), Some(vf), None) => {
            let g = read_conductances(gf)?;
            let v = read_voltages(vf)?;
            if v.len() != g.rows() {
                bail!(
                    "{} has {} voltages but {} has {} rows",
                    vf.display(),
                    v.len(),
                    gf.display(),
                    g.rows()
                );
            }
            Ok((g, v))
        }
        (None, None, Some(rows)) => {
            let (Some(cols), Some(g_min), Some(g_max), Some(v_max)) =
                (args.cols, args.g_min, args.g_max, args.v_max)
            else {
                bail!("generator mode needs --rows, --cols, --g-min, --g-max and --v-max");
            };
            let cells = rows.checked_mul(cols).filter(|&n| n <= args.max_cells);
            if cells.is_none() {
                bail!(
                    "--rows {rows} --cols {cols}: {} cells, more than the limit of {} (--max-cells raises it; memory grows with the cells, ~100 bytes each)",
                    rows as u128 * cols as u128,
                    args.max_cells
                );
            }
            generate(rows, cols, g_min, g_max, v_max, args.seed)
        }
        _ => bail!("give either --g-file and --v-file, or the generator options (--rows ...)"),
    }
}

/// Seeded random crossbar: conductances uniform in `[g_min, g_max]`,
/// inputs uniform in `[0, v_max]`. Row `i` draws from its own ChaCha8
/// stream `i + 1` (inputs from stream 0), so values do not depend on how
/// the generation is scheduled.
fn generate(
    rows: usize,
    cols: usize,
    g_min: f64,
    g_max: f64,
    v_max: f64,
    seed: u64,
) -> Result<(Conductances, Vec<f64>)> {
    if rows == 0 || cols == 0 {
        bail!("--rows and --cols must be at least 1");
    }
    if !(g_min.is_finite() && g_max.is_finite() && 0.0 <= g_min && g_min <= g_max) {
        bail!("need 0 <= --g-min <= --g-max, both finite (got {g_min}, {g_max})");
    }
    if !(v_max.is_finite() && v_max >= 0.0) {
        bail!("--v-max must be finite and non-negative (got {v_max})");
    }
    let mut data = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(i as u64 + 1);
        data.extend((0..cols).map(|_| g_min + (g_max - g_min) * rng.random::<f64>()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0);
    let v = (0..rows).map(|_| v_max * rng.random::<f64>()).collect();
    Ok((Conductances::new(rows, cols, data)?, v))
}

fn parse_field(path: &Path, line: usize, field: usize, text: &str, what: &str) -> Result<f64> {
    let t = text.trim();
    let value: f64 = t.parse().map_err(|_| {
        anyhow::anyhow!(
            "{} line {line}, field {field}: {t:?} is not a number ({what})",
            path.display()
        )
    })?;
    if !value.is_finite() {
        bail!(
            "{} line {line}, field {field}: {what} must be finite (got {t})",
            path.display()
        );
    }
    Ok(value)
}

/// Non-empty lines with their 1-based line numbers; blank lines only at the end.
fn data_lines(path: &Path) -> Result<Vec<(usize, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .map(|(k, l)| (k + 1, l.trim_end_matches('\r').to_string()))
        .collect();
    while lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    if let Some((k, _)) = lines.iter().find(|(_, l)| l.trim().is_empty()) {
        bail!("{} line {k}: empty line", path.display());
    }
    if lines.is_empty() {
        bail!("{}: no data", path.display());
    }
    Ok(lines)
}

fn read_conductances(path: &Path) -> Result<Conductances> {
    let lines = data_lines(path)?;
    let mut cols = 0;
    let mut data = Vec::new();
    for (row, (line, text)) in lines.iter().enumerate() {
        let fields: Vec<&str> = text.split(',').collect();
        if row == 0 {
            cols = fields.len();
        } else if fields.len() != cols {
            bail!(
                "{} line {line}: {} fields, expected {cols} like line 1",
                path.display(),
                fields.len()
            );
        }
        for (f, t) in fields.iter().enumerate() {
            let g = parse_field(path, *line, f + 1, t, "conductance in S")?;
            if g < 0.0 {
                bail!(
                    "{} line {line}, field {}: conductance must be non-negative (got {g} S)",
                    path.display(),
                    f + 1
                );
            }
            data.push(g);
        }
    }
    Conductances::new(lines.len(), cols, data).map_err(|e| match e {
        CrossbarError::InvalidConductance { row, col, value } => anyhow::anyhow!(
            "{} line {}, field {}: invalid conductance {value}",
            path.display(),
            lines[row].0,
            col + 1
        ),
        other => other.into(),
    })
}

fn read_voltages(path: &Path) -> Result<Vec<f64>> {
    read_column(path, "voltage in V")
}

/// One finite number per line.
fn read_column(path: &Path, what: &str) -> Result<Vec<f64>> {
    data_lines(path)?
        .iter()
        .map(|(line, text)| {
            let fields: Vec<&str> = text.split(',').collect();
            if fields.len() != 1 {
                bail!(
                    "{} line {line}: expected one voltage, found {} fields",
                    path.display(),
                    fields.len()
                );
            }
            parse_field(path, *line, 1, fields[0], what)
        })
        .collect()
}

//! `xbar sim DECK [--out DIR]`: runs every analysis of a SPICE deck and writes
//! one CSV per analysis.
//!
//! File names: `op.csv`, `dc.csv`, `ac.csv`, `tran.csv` when the deck has one analysis
//! of that kind; when it has several, they are numbered in deck order
//! (`dc1.csv`, `dc2.csv`, ...), and a kind that occurs once keeps its plain
//! name. Columns are ngspice's vector names (scale first: `time` or the
//! sweep's `v-sweep`/`i-sweep`; then `v(node)`, `i(vsource)`, `x(memristor)`),
//! in SI units (V, A, s). `ac.csv` has the scale `frequency` (Hz), then for
//! every vector its phasor as `re(v(out))`, `im(v(out))`, then for every
//! vector its magnitude in dB (`db(v(out))`, 20·log10|x|) and phase in
//! degrees (`phase(v(out))`, in (-180, 180]). With `.save` (or `.probe`),
//! only the saved vectors are written, in `.save` order, after the scale
//! column; a deck without `.save` but with `.print` or `.plot` writes those
//! vectors. Floats round-trip exactly.
//! `.print` vectors are also written to stdout, one tab-separated table per
//! analysis. Analyses run in deck order (ngspice itself orders them by kind:
//! sweeps, then operating point, then transient).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xbar_netlist::OutputVector;
use xbar_nodal::measure::MeasResult;
use xbar_nodal::{AnalysisKind, AnalysisOutput, Event, RunOptions};

#[derive(clap::Args)]
#[command(after_long_help = dialect_help())]
pub struct Args {
    /// The SPICE deck (ngspice dialect).
    deck: PathBuf,
    /// Folder for the CSV files (created if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Refuse a deck that expands (subcircuit instances multiply) to more
    /// elements than this; each costs ~0.5 kB before the solver.
    #[arg(long, value_name = "N", default_value_t = xbar_netlist::Limits::default().max_elements)]
    max_elements: usize,
    /// Refuse a deck or `.include`d file larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = xbar_netlist::Limits::default().max_file_bytes)]
    max_file_bytes: u64,
}

/// The supported dialect, from the netlist crate's one list.
fn dialect_help() -> String {
    format!(
        "The ngspice dialect xbar accepts (`.meas` results also go to meas.csv: name,value, nan \
         when a measurement failed; `.control` blocks run as in ngspice's batch mode, wrdata and \
         write put CSV files into --out):\n\n{}",
        xbar_netlist::dialect::markdown_table()
    )
}

/// Digits ngspice prints for WHEN, RMS, INTEG and PARAM measurements.
fn meas_precision() -> usize {
    std::env::var("NGSPICE_MEAS_PRECISION")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(RunOptions::default().meas_precision)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let limits = xbar_netlist::Limits {
        max_elements: args.max_elements,
        max_file_bytes: args.max_file_bytes,
    };
    let circuit = xbar_netlist::parse_file_with(&args.deck, &limits)?;
    for warning in &circuit.warnings {
        eprintln!("{}: warning: {}", warning.loc, warning.message);
    }
    if circuit.analyses.is_empty() && circuit.control.is_empty() {
        eprintln!(
            "{}: warning: the deck has no analysis (.op, .dc, .ac or .tran) and no .control block; nothing to do",
            args.deck.display()
        );
        return Ok(());
    }
    let options = RunOptions {
        meas_precision: meas_precision(),
    };
    let events = xbar_nodal::run_deck(&circuit, options)
        .with_context(|| format!("simulating {}", args.deck.display()))?;
    let outputs: Vec<&AnalysisOutput> = events
        .iter()
        .filter_map(|e| match e {
            Event::Analysis(output) => Some(output),
            _ => None,
        })
        .collect();
    let names = file_names(&outputs);
    // Select every table's columns before writing any file, so a bad `.save`
    // leaves no partial set of outputs behind. Without `.save`, the
    // `.print`/`.plot` vectors choose the columns (what ngspice prints when
    // it writes no raw file).
    let wanted = if circuit.saves.is_empty() {
        &circuit.prints
    } else {
        &circuit.saves
    };
    let tables = outputs
        .iter()
        .map(|output| select(wanted, output))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let printed = if circuit.prints.is_empty() {
        Vec::new()
    } else {
        outputs
            .iter()
            .map(|output| select(&circuit.prints, output))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut files: Vec<(String, Vec<String>, Vec<Vec<f64>>)> = Vec::new();
    for event in &events {
        if let Event::File {
            name,
            columns,
            rows,
        } = event
        {
            if names.contains(name) || name == "meas.csv" {
                bail!("wrdata/write file `{name}` would overwrite an analysis output");
            }
            files.push((name.clone(), columns.clone(), rows.clone()));
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut measured: Vec<&MeasResult> = Vec::new();
    let mut analyses = outputs.iter().zip(&names).zip(&tables);
    for event in &events {
        match event {
            Event::Analysis(_) => {
                let Some(((output, name), (columns, rows))) = analyses.next() else {
                    unreachable!("one table per analysis event");
                };
                write_table(&args.out.join(name), columns, rows)?;
                stdout.flush()?;
                eprintln!("{name}: {}", output.summary);
            }
            Event::Measures { header, results } => {
                print_measures(&mut stdout, *header, results)?;
                measured.extend(results);
            }
            Event::Stdout(text) => writeln!(stdout, "{text}")?,
            Event::Warning(text) => {
                stdout.flush()?;
                eprintln!("{text}");
            }
            Event::File {
                name,
                columns,
                rows,
            } => {
                write_table(&args.out.join(name), columns, rows)?;
            }
        }
    }
    stdout.flush()?;
    drop(stdout);
    if !measured.is_empty() {
        write_measures(&args.out.join("meas.csv"), &measured)?;
    }
    print_tables(&names, &printed)?;
    Ok(())
}

/// Measurement output as ngspice prints it: failures on stderr, then (after
/// a dot analysis) the header, every result line and a blank line on stdout.
fn print_measures(
    stdout: &mut impl Write,
    header: Option<&str>,
    results: &[MeasResult],
) -> anyhow::Result<()> {
    stdout.flush()?;
    for result in results {
        if let Some(error) = &result.error {
            eprintln!("{error}");
        }
    }
    if let Some(header) = header {
        writeln!(stdout, "\n{header}\n")?;
    }
    for result in results {
        if !result.line.is_empty() {
            writeln!(stdout, "{}", result.line)?;
        }
    }
    if header.is_some() {
        writeln!(stdout)?;
    }
    Ok(())
}

/// `meas.csv`: one row per measurement in the order they ran; a failed
/// measurement's value is `nan`.
fn write_measures(path: &Path, results: &[&MeasResult]) -> anyhow::Result<()> {
    crate::output::write_csv(path, |writer| {
        writer.write_record(["name", "value"])?;
        for result in results {
            let value = result.value.map_or("nan".to_string(), format_float);
            writer.write_record([result.name.as_str(), value.as_str()])?;
        }
        Ok(())
    })
}

fn kind_name(kind: AnalysisKind) -> &'static str {
    match kind {
        AnalysisKind::Op => "op",
        AnalysisKind::Dc => "dc",
        AnalysisKind::Tran => "tran",
        AnalysisKind::Ac => "ac",
    }
}

/// `op.csv` for a single analysis of a kind; `op1.csv`, `op2.csv`, ... when
/// the kind occurs several times.
fn file_names(outputs: &[&AnalysisOutput]) -> Vec<String> {
    let mut seen = std::collections::HashMap::new();
    outputs
        .iter()
        .map(|output| {
            let total = outputs.iter().filter(|o| o.kind == output.kind).count();
            let index = seen.entry(kind_name(output.kind)).or_insert(0);
            *index += 1;
            let base = kind_name(output.kind);
            if total == 1 {
                format!("{base}.csv")
            } else {
                format!("{base}{index}.csv")
            }
        })
        .collect()
}

/// The columns to write: everything when `vectors` is empty, else the scale
/// plus `vectors` in their order (a difference `v(a,b)` is computed from its
/// two node voltages).
fn select(
    vectors: &[OutputVector],
    output: &AnalysisOutput,
) -> anyhow::Result<(Vec<String>, Vec<Vec<f64>>)> {
    let table = select_columns(vectors, output)?;
    Ok(if output.kind == AnalysisKind::Ac {
        with_magnitude_phase(table)
    } else {
        table
    })
}

/// Appends `db(x)` and `phase(x)` (degrees) for every `re(x)`, `im(x)` pair.
fn with_magnitude_phase(
    (mut columns, mut rows): (Vec<String>, Vec<Vec<f64>>),
) -> (Vec<String>, Vec<Vec<f64>>) {
    let pairs: Vec<(String, usize, usize)> = columns
        .iter()
        .enumerate()
        .filter_map(|(k, c)| {
            let inner = c.strip_prefix("re(")?.strip_suffix(')')?;
            let im = columns.iter().position(|d| *d == format!("im({inner})"))?;
            Some((inner.to_string(), k, im))
        })
        .collect();
    for (name, _, _) in &pairs {
        columns.push(format!("db({name})"));
    }
    for (name, _, _) in &pairs {
        columns.push(format!("phase({name})"));
    }
    for row in &mut rows {
        let polar: Vec<(f64, f64)> = pairs
            .iter()
            .map(|&(_, re, im)| {
                let (re, im) = (row[re], row[im]);
                (20.0 * re.hypot(im).log10(), im.atan2(re).to_degrees())
            })
            .collect();
        row.extend(polar.iter().map(|p| p.0));
        row.extend(polar.iter().map(|p| p.1));
    }
    (columns, rows)
}

/// The selected columns before any derived ones: for an AC analysis each
/// vector is its `re(..)` and `im(..)` pair.
fn select_columns(
    vectors: &[OutputVector],
    output: &AnalysisOutput,
) -> anyhow::Result<(Vec<String>, Vec<Vec<f64>>)> {
    if vectors.is_empty() {
        return Ok((output.columns.clone(), output.rows.clone()));
    }
    let ac = output.kind == AnalysisKind::Ac;
    let parts: &[&str] = if ac { &["re", "im"] } else { &[""] };
    let wrap = |part: &str, name: &str| {
        if part.is_empty() {
            name.to_string()
        } else {
            format!("{part}({name})")
        }
    };
    let column = |name: &str| output.columns.iter().position(|c| c == name);
    let node = |n: &str, part: &str| -> anyhow::Result<Option<usize>> {
        if n == "0" {
            return Ok(None);
        }
        match column(&wrap(part, &format!("v({n})"))) {
            Some(index) => Ok(Some(index)),
            None => bail!(
                "saved node `{n}` is not among the {} analysis' vectors",
                kind_name(output.kind)
            ),
        }
    };
    // Each selected column is a difference of up to two source columns.
    let mut picks: Vec<(String, Option<usize>, Option<usize>)> = Vec::new();
    if output.kind != AnalysisKind::Op {
        let Some(scale) = output.columns.first() else {
            bail!(
                "the {} analysis returned no scale column",
                kind_name(output.kind)
            );
        };
        picks.push((scale.clone(), Some(0), None));
    }
    for vector in vectors {
        for part in parts {
            let name = wrap(part, &vector.to_string());
            if picks.iter().any(|(n, _, _)| *n == name) {
                continue;
            }
            let pick = match vector {
                OutputVector::Voltage(a, b) => (
                    name,
                    node(a, part)?,
                    b.as_deref().map(|b| node(b, part)).transpose()?.flatten(),
                ),
                _ => match column(&name) {
                    Some(index) => (name, Some(index), None),
                    None => bail!(
                        "saved vector `{vector}` is not among the {} analysis' vectors",
                        kind_name(output.kind)
                    ),
                },
            };
            picks.push(pick);
        }
    }
    let columns = picks.iter().map(|(name, _, _)| name.clone()).collect();
    let rows = output
        .rows
        .iter()
        .map(|row| {
            picks
                .iter()
                .map(|(_, plus, minus)| {
                    plus.map_or(0.0, |i| row[i]) - minus.map_or(0.0, |i| row[i])
                })
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

/// `.print` output: per analysis a title line and a tab-separated table.
fn print_tables(names: &[String], tables: &[(Vec<String>, Vec<Vec<f64>>)]) -> anyhow::Result<()> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for (name, (columns, rows)) in names.iter().zip(tables) {
        writeln!(stdout, "# {}", name.trim_end_matches(".csv"))?;
        writeln!(stdout, "{}", columns.join("\t"))?;
        for row in rows {
            let cells: Vec<String> = row.iter().map(|v| format_float(*v)).collect();
            writeln!(stdout, "{}", cells.join("\t"))?;
        }
    }
    stdout.flush()?;
    Ok(())
}

/// Shortest text that parses back to the same `f64`; plain decimals where
/// they are short, exponent notation for very large or small magnitudes.
fn format_float(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-4..1e15).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

fn write_table(path: &Path, columns: &[String], rows: &[Vec<f64>]) -> anyhow::Result<()> {
    crate::output::write_csv(path, |writer| {
        writer.write_record(columns)?;
        for row in rows {
            writer.write_record(row.iter().map(|v| format_float(*v)))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip() {
        for value in [
            0.0,
            -0.0,
            1.0,
            0.1,
            1.0 / 3.0,
            1e-14,
            -2.5e-300,
            6.02e23,
            f64::MAX,
            f64::MIN_POSITIVE,
            123456.789,
        ] {
            let text = format_float(value);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert_eq!(format_float(1e-14), "1e-14");
        assert_eq!(format_float(0.5), "0.5");
    }

    #[test]
    fn numbered_names_only_for_repeated_kinds() {
        let output = |kind| AnalysisOutput {
            kind,
            columns: vec![],
            rows: vec![],
            summary: String::new(),
        };
        let outputs = [
            output(AnalysisKind::Dc),
            output(AnalysisKind::Op),
            output(AnalysisKind::Dc),
            output(AnalysisKind::Tran),
        ];
        let outputs: Vec<&AnalysisOutput> = outputs.iter().collect();
        assert_eq!(
            file_names(&outputs),
            ["dc1.csv", "op.csv", "dc2.csv", "tran.csv"]
        );
    }
}

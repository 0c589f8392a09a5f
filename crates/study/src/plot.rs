//! The study plot: accuracy against the first swept parameter, one line per
//! value of the second, 95 % intervals as error bars, the ideal accuracy as
//! a dashed line.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::config::Study;
use crate::error::StudyError;
use crate::store::{write_atomic, PointSummary};
use crate::value::{round_significant, Value};

const SIZE: (u32, u32) = (960, 640);

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// One plotted point: x, mean accuracy in %, optional 95 % interval in %.
type Marker = (f64, f64, Option<(f64, f64)>);

struct Curve {
    label: String,
    points: Vec<Marker>,
}

/// Renders the plot of `summaries` to `path` (atomically). Does nothing for
/// a study without a sweep.
pub(crate) fn write_plot(
    path: &Path,
    study: &Study,
    summaries: &[PointSummary],
    reference: Option<f64>,
) -> Result<(), StudyError> {
    let Some(axis) = study.axes.first() else {
        return Ok(());
    };
    let numeric = axis.values.iter().all(|v| v.as_f64().is_some());
    // Booleans and strings are categories placed at 0, 1, 2, ...
    let x_of = |v: &Value| -> f64 {
        if numeric {
            v.as_f64().unwrap_or(0.0)
        } else {
            axis.values.iter().position(|c| c == v).unwrap_or(0) as f64
        }
    };
    let mut curves: Vec<Curve> = match study.axes.get(1) {
        None => vec![Curve {
            label: "mean, 95 % CI".into(),
            points: Vec::new(),
        }],
        Some(second) => second
            .values
            .iter()
            .map(|v| Curve {
                label: format!("{} = {v}", second.key),
                points: Vec::new(),
            })
            .collect(),
    };
    for s in summaries {
        let curve = if study.axes.len() > 1 {
            study.coordinates(s.point)[1]
        } else {
            0
        };
        curves[curve].points.push((
            x_of(&s.values[0]),
            100.0 * s.stats.mean,
            s.stats.ci95.map(|(lo, hi)| (100.0 * lo, 100.0 * hi)),
        ));
    }
    curves.retain(|c| !c.points.is_empty());

    let xs: Vec<f64> = axis.values.iter().map(x_of).collect();
    let (x_lo, x_hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let mut ys: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.points.iter())
        .flat_map(|&(_, m, ci)| [Some(m), ci.map(|c| c.0), ci.map(|c| c.1)])
        .flatten()
        .collect();
    ys.extend(reference.map(|r| 100.0 * r));
    let (y_lo, y_hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    let (y_lo, y_hi) = if y_lo.is_finite() {
        let pad = ((y_hi - y_lo) * 0.08).max(0.5);
        ((y_lo - pad).max(0.0), (y_hi + pad).min(100.0))
    } else {
        (0.0, 100.0)
    };

    let caption = format!(
        "{}: accuracy vs {} ({} trials × {} images per point)",
        study.mapping, axis.key, study.trials, study.images
    );
    let plot = Plot {
        caption: &caption,
        x_label: &axis.label(),
        curves: &curves,
        reference,
        x_range: (x_lo, x_hi),
        y_range: (y_lo, y_hi),
        categories: if numeric { None } else { Some(&axis.values) },
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let result = if axis.log {
            let (a, b) = (x_lo / 1.5, x_hi * 1.5);
            plot.draw(&root, (a..b).log_scale())
        } else if numeric {
            let pad = if x_hi > x_lo {
                0.05 * (x_hi - x_lo)
            } else {
                0.5 * x_lo.abs().max(1.0)
            };
            plot.draw(&root, (x_lo - pad)..(x_hi + pad))
        } else {
            plot.draw(&root, -0.5..(x_hi + 0.5))
        };
        result
            .and_then(|()| root.present().map_err(|e| e.to_string()))
            .map_err(|e| StudyError::Plot(format!("{}: {e}", path.display())))?;
    }
    write_atomic(path, svg.as_bytes())
}

/// Tick positions come from arithmetic (0.1 · 1.2 = 0.12000000000000001);
/// ten significant digits print them as a person would write them, and
/// very large or small ones in exponent form (1e7 s, 1e-6 S).
fn tick_label(x: f64) -> String {
    let x = round_significant(x, 10);
    let a = x.abs();
    if a == 0.0 || (1e-3..1e5).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

struct Plot<'a> {
    caption: &'a str,
    x_label: &'a str,
    curves: &'a [Curve],
    reference: Option<f64>,
    x_range: (f64, f64),
    y_range: (f64, f64),
    categories: Option<&'a [Value]>,
}

impl Plot<'_> {
    fn draw<X>(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, x_spec: X) -> Result<(), String>
    where
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        let e = |err: DrawingAreaErrorKind<_>| err.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(self.caption, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(x_spec, self.y_range.0..self.y_range.1)
            .map_err(e)?;
        let categories = self.categories;
        let category_label = |x: &f64| -> String {
            let i = x.round();
            match categories {
                Some(values) if (x - i).abs() < 1e-9 && i >= 0.0 => values
                    .get(i as usize)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            }
        };
        let numeric_label = |x: &f64| tick_label(*x);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label)
            .y_desc("accuracy [%]")
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16));
        if let Some(values) = categories {
            mesh.x_labels(values.len())
                .x_label_formatter(&category_label);
        } else {
            mesh.x_label_formatter(&numeric_label);
        }
        mesh.draw().map_err(e)?;

        for (i, curve) in self.curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let line = curve.points.iter().map(|&(x, m, _)| (x, m));
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))
                .map_err(e)?
                .label(curve.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            // An error bar draws its own marker at the mean; points without
            // an interval (one trial) get a plain one, so each point has one.
            chart
                .draw_series(curve.points.iter().filter_map(|&(x, m, ci)| {
                    ci.map(|(lo, hi)| {
                        ErrorBar::new_vertical(x, lo, m, hi, color.filled().stroke_width(1), 10)
                    })
                }))
                .map_err(e)?;
            chart
                .draw_series(
                    curve
                        .points
                        .iter()
                        .filter(|p| p.2.is_none())
                        .map(|&(x, m, _)| Circle::new((x, m), 5, color.filled())),
                )
                .map_err(e)?;
        }
        if let Some(r) = self.reference {
            let r = 100.0 * r;
            let (a, b) = self.x_range;
            let style = BLACK.stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new([(a, r), (b, r)], 6, 4, style))
                .map_err(e)?
                .label(format!("ideal {r:.2} %"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn ticks_read_as_typed() {
        assert_eq!(tick_label(0.12000000000000001), "0.12");
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(10_000_000.0), "1e7");
        assert_eq!(tick_label(1e-6), "1e-6");
    }
}

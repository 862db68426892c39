//! The chart as a PNG: two panels side by side (steps, sleep hours), each with a bar a
//! day, the mean over the days with data as a solid line and the alert thresholds as dashed
//! lines, values in a right-hand gutter so no label sits on a bar.

use tiny_skia::{
    Color, FillRule, LineCap, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform,
};

use super::text::{Align, Fonts, Style, Weight};
use super::words::{Words, grouped};
use super::{HEIGHT, Metric, WIDTH, WeekChart, stats};

pub(super) const MARGIN_X: f32 = 36.0;
pub(super) const PANEL_GAP: f32 = 48.0;
pub(super) const PANEL_WIDTH: f32 = (WIDTH as f32 - 2.0 * MARGIN_X - PANEL_GAP) / 2.0;
/// Room left of a plot for the axis labels, and right of it for the mean and thresholds.
pub(super) const LEFT_GUTTER: f32 = 58.0;
pub(super) const RIGHT_GUTTER: f32 = 60.0;
const TITLE_BASELINE: f32 = 58.0;
const HEADING_BASELINE: f32 = 112.0;
/// The top gridline; the space above it takes the value labels of the tallest bars.
const PLOT_TOP: f32 = 156.0;
pub(super) const AXIS_Y: f32 = 556.0;
const LEGEND_BASELINE: f32 = 646.0;

const BACKGROUND: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [31, 41, 55];
const MUTED: [u8; 3] = [107, 114, 128];
const GRID: [u8; 3] = [229, 231, 235];
const AXIS: [u8; 3] = [156, 163, 175];
pub(super) const STEPS_BAR: [u8; 3] = [66, 133, 214];
pub(super) const SLEEP_BAR: [u8; 3] = [124, 106, 214];
const MEAN: [u8; 3] = [240, 138, 36];
const THRESHOLD: [u8; 3] = [214, 69, 69];

fn color([r, g, b]: [u8; 3]) -> Color {
    Color::from_rgba8(r, g, b, 255)
}

fn style(size: f32, weight: Weight, ink: [u8; 3], align: Align) -> Style {
    Style {
        size,
        weight,
        color: color(ink),
        align,
    }
}

/// Draws the chart onto a `WIDTH`×`HEIGHT` pixmap.
pub(super) fn render(chart: &WeekChart) -> Pixmap {
    let words = Words::of(chart.locale);
    let fonts = Fonts::embedded();
    let mut canvas = Canvas {
        pixmap: Pixmap::new(WIDTH, HEIGHT).expect("the chart's fixed size is a valid pixmap"),
        fonts,
    };
    canvas.pixmap.fill(color(BACKGROUND));

    let title = match (chart.days.first(), chart.days.last()) {
        (Some(first), Some(last)) => words.title(first.date, last.date),
        _ => words.title_without_days().to_string(),
    };
    let title_style = style(30.0, Weight::Bold, INK, Align::Left);
    canvas.text(&title, MARGIN_X, TITLE_BASELINE, title_style);

    canvas.panel(chart, &words, Metric::Steps, MARGIN_X);
    canvas.panel(
        chart,
        &words,
        Metric::Sleep,
        MARGIN_X + PANEL_WIDTH + PANEL_GAP,
    );
    canvas.legend(chart, &words);
    canvas.pixmap
}

struct Canvas {
    pixmap: Pixmap,
    fonts: Fonts,
}

impl Canvas {
    fn text(&mut self, text: &str, x: f32, baseline: f32, style: Style) {
        self.fonts.draw(&mut self.pixmap, text, x, baseline, &style);
    }

    fn fill(&mut self, builder: PathBuilder, ink: [u8; 3]) {
        if let Some(path) = builder.finish() {
            self.pixmap.fill_path(
                &path,
                &paint(ink),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, ink: [u8; 3], dashed: bool) {
        let mut builder = PathBuilder::new();
        builder.move_to(from.0, from.1);
        builder.line_to(to.0, to.1);
        let Some(path) = builder.finish() else {
            return;
        };
        let stroke = Stroke {
            width,
            line_cap: LineCap::Butt,
            dash: if dashed {
                StrokeDash::new(vec![9.0, 6.0], 0.0)
            } else {
                None
            },
            ..Stroke::default()
        };
        self.pixmap
            .stroke_path(&path, &paint(ink), &stroke, Transform::identity(), None);
    }

    fn panel(&mut self, chart: &WeekChart, words: &Words, metric: Metric, left: f32) {
        let (heading, bar) = match metric {
            Metric::Steps => (words.steps, STEPS_BAR),
            Metric::Sleep => (words.sleep, SLEEP_BAR),
        };
        let values = metric.values(chart);
        let thresholds = metric.thresholds(chart);
        let stats = stats(&values);

        // Heading with a swatch of the bars' colour.
        if let Some(rect) = Rect::from_xywh(left, HEADING_BASELINE - 16.0, 16.0, 16.0) {
            self.fill(rounded_rect(rect, 3.0), bar);
        }
        self.text(
            heading,
            left + 24.0,
            HEADING_BASELINE,
            style(22.0, Weight::Bold, INK, Align::Left),
        );

        let plot_left = left + LEFT_GUTTER;
        let plot_right = left + PANEL_WIDTH - RIGHT_GUTTER;
        let highest = values
            .iter()
            .flatten()
            .chain(&thresholds)
            .fold(0.0_f64, |a, &b| a.max(b));
        let axis = Axis::new(metric, highest);

        for tick in axis.ticks() {
            let y = crisp(axis.y(tick));
            if tick > 0.0 {
                self.line((plot_left, y), (plot_right, y), 1.0, GRID, false);
            }
            let label = if tick.fract() == 0.0 {
                grouped(tick as i64)
            } else {
                format!("{tick:.1}")
            };
            self.text(
                &label,
                plot_left - 10.0,
                y + 5.0,
                style(14.0, Weight::Regular, MUTED, Align::Right),
            );
        }

        let n = chart.days.len();
        let slot = (plot_right - plot_left) / n.max(1) as f32;
        let bar_width = (slot * 0.62).clamp(2.0, 56.0).round();
        let show_values = slot >= 52.0;
        // Drawn after the lines, on a patch of background, so a line never runs through one.
        let mut value_labels = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let centre = plot_left + slot * (i as f32 + 0.5);
            match value {
                Some(v) => {
                    let top = axis.y(v.max(0.0));
                    let x = (centre - bar_width / 2.0).round();
                    if let Some(rect) = Rect::from_ltrb(x, top, x + bar_width, AXIS_Y) {
                        self.fill(rounded_top(rect, 5.0), bar);
                    }
                    if show_values {
                        value_labels.push((centre, top - 8.0, metric.format(*v)));
                    }
                }
                None => {
                    let lines: Vec<&str> = words.no_data_bar.lines().collect();
                    let widest = lines
                        .iter()
                        .map(|line| self.fonts.width(line, 13.0, Weight::Regular))
                        .fold(0.0_f32, f32::max);
                    if widest > slot - 4.0 {
                        // Too narrow for words (a long range): a grey dot marks the day.
                        let mut dot = PathBuilder::new();
                        dot.push_circle(centre, AXIS_Y - 6.0, 2.5);
                        self.fill(dot, MUTED);
                        continue;
                    }
                    for (k, line) in lines.iter().enumerate() {
                        let from_bottom = (lines.len() - 1 - k) as f32;
                        self.text(
                            line,
                            centre,
                            AXIS_Y - 10.0 - from_bottom * 16.0,
                            style(13.0, Weight::Regular, MUTED, Align::Center),
                        );
                    }
                }
            }
        }
        self.line(
            (plot_left, AXIS_Y + 0.5),
            (plot_right, AXIS_Y + 0.5),
            1.0,
            AXIS,
            false,
        );

        // The date under each bar; in a long range only every k-th, so labels never touch.
        let widest = chart
            .days
            .iter()
            .map(|day| {
                let (date, weekday) = words.axis_date(day.date);
                let w = |s: &str| self.fonts.width(s, 15.0, Weight::Regular);
                w(&date).max(w(&weekday))
            })
            .fold(0.0_f32, f32::max);
        let every = ((widest + 8.0) / slot).ceil().max(1.0) as usize;
        for (i, day) in chart.days.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let centre = plot_left + slot * (i as f32 + 0.5);
            let (date, weekday) = words.axis_date(day.date);
            self.text(
                &date,
                centre,
                AXIS_Y + 26.0,
                style(15.0, Weight::Regular, INK, Align::Center),
            );
            self.text(
                &weekday,
                centre,
                AXIS_Y + 46.0,
                style(15.0, Weight::Regular, MUTED, Align::Center),
            );
        }

        // Lines across the plot, their values in the gutter on the right.
        let mut gutter = Vec::new();
        for &t in &thresholds {
            let y = axis.y(t);
            self.line((plot_left, y), (plot_right, y), 2.0, THRESHOLD, true);
            gutter.push((y, metric.format(t), THRESHOLD, Weight::Regular));
        }
        if let Some(stats) = stats {
            let y = axis.y(stats.mean);
            self.line((plot_left, y), (plot_right, y), 2.5, MEAN, false);
            gutter.push((y, metric.format(stats.mean), MEAN, Weight::Bold));
        }
        for (centre, baseline, label) in value_labels {
            let width = self.fonts.width(&label, 14.0, Weight::Regular);
            if let Some(rect) = Rect::from_xywh(
                centre - width / 2.0 - 3.0,
                baseline - 13.0,
                width + 6.0,
                17.0,
            ) {
                self.pixmap
                    .fill_rect(rect, &paint(BACKGROUND), Transform::identity(), None);
            }
            self.text(
                &label,
                centre,
                baseline,
                style(14.0, Weight::Regular, INK, Align::Center),
            );
        }
        for (y, label, ink, weight) in spread(gutter, 18.0) {
            self.text(
                &label,
                plot_right + 8.0,
                y + 5.0,
                style(15.0, weight, ink, Align::Left),
            );
        }
    }

    /// What the lines mean, centred under both panels; the threshold entry only when one
    /// is drawn.
    fn legend(&mut self, chart: &WeekChart, words: &Words) {
        let has_mean = [Metric::Steps, Metric::Sleep]
            .iter()
            .any(|m| stats(&m.values(chart)).is_some());
        let has_threshold = [Metric::Steps, Metric::Sleep]
            .iter()
            .any(|m| !m.thresholds(chart).is_empty());
        let mut entries = Vec::new();
        if has_mean {
            entries.push((words.mean_legend(chart.days.len()), MEAN, false));
        }
        if has_threshold {
            entries.push((words.threshold_legend.to_string(), THRESHOLD, true));
        }
        const SAMPLE: f32 = 30.0;
        const SIZE: f32 = 16.0;
        let widths: Vec<f32> = entries
            .iter()
            .map(|(label, _, _)| SAMPLE + 8.0 + self.fonts.width(label, SIZE, Weight::Regular))
            .collect();
        let total = widths.iter().sum::<f32>() + 32.0 * entries.len().saturating_sub(1) as f32;
        let mut x = ((WIDTH as f32 - total) / 2.0).round();
        for ((label, ink, dashed), width) in entries.iter().zip(widths) {
            let y = LEGEND_BASELINE - 5.0;
            self.line((x, y), (x + SAMPLE, y), 2.5, *ink, *dashed);
            self.text(
                label,
                x + SAMPLE + 8.0,
                LEGEND_BASELINE,
                style(SIZE, Weight::Regular, MUTED, Align::Left),
            );
            x += width + 32.0;
        }
    }
}

/// A value axis from 0 to a round number above the highest value, in round steps.
struct Axis {
    top: f64,
    step: f64,
}

impl Axis {
    fn new(metric: Metric, highest: f64) -> Axis {
        // Without data the axis still shows a usual range rather than 0 to 0.
        let (fallback, steps): (f64, &[f64]) = match metric {
            Metric::Steps => (10_000.0, &[1.0, 2.0, 2.5, 5.0, 10.0]),
            Metric::Sleep => (10.0, &[1.0, 2.0, 5.0, 10.0]),
        };
        let highest = if highest > 0.0 { highest } else { fallback };
        // About five gridlines.
        let raw = highest / 5.0;
        let magnitude = 10_f64.powf(raw.log10().floor());
        let step = steps
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude);
        let mut top = (highest / step).ceil() * step;
        // A bar or threshold at the very top would crowd the heading: keep some air.
        if top < highest * 1.05 {
            top += step;
        }
        Axis { top, step }
    }

    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let count = (self.top / self.step).round() as usize;
        (0..=count).map(|k| k as f64 * self.step)
    }

    fn y(&self, value: f64) -> f32 {
        AXIS_Y - ((value / self.top) as f32) * (AXIS_Y - PLOT_TOP)
    }
}

/// A 1-pixel line on a pixel's centre, so it is one sharp row rather than two grey ones.
fn crisp(y: f32) -> f32 {
    y.floor() + 0.5
}

/// Moves gutter labels apart vertically so that none overlaps another, keeping their order.
fn spread<T, U, V>(mut labels: Vec<(f32, T, U, V)>, gap: f32) -> Vec<(f32, T, U, V)> {
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    for i in 1..labels.len() {
        let min = labels[i - 1].0 + gap;
        if labels[i].0 < min {
            labels[i].0 = min;
        }
    }
    labels
}

fn paint(ink: [u8; 3]) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(color(ink));
    paint.anti_alias = true;
    paint
}

fn rounded_rect(rect: Rect, r: f32) -> PathBuilder {
    let (l, t, ri, b) = (rect.left(), rect.top(), rect.right(), rect.bottom());
    let mut p = PathBuilder::new();
    p.move_to(l + r, t);
    p.line_to(ri - r, t);
    p.quad_to(ri, t, ri, t + r);
    p.line_to(ri, b - r);
    p.quad_to(ri, b, ri - r, b);
    p.line_to(l + r, b);
    p.quad_to(l, b, l, b - r);
    p.line_to(l, t + r);
    p.quad_to(l, t, l + r, t);
    p.close();
    p
}

/// A bar: rounded at the top, square on the axis.
fn rounded_top(rect: Rect, r: f32) -> PathBuilder {
    let r = r.min(rect.width() / 2.0).min(rect.height());
    let (l, t, ri, b) = (rect.left(), rect.top(), rect.right(), rect.bottom());
    let mut p = PathBuilder::new();
    p.move_to(l, b);
    p.line_to(l, t + r);
    p.quad_to(l, t, l + r, t);
    p.line_to(ri - r, t);
    p.quad_to(ri, t, ri, t + r);
    p.line_to(ri, b);
    p.close();
    p
}

/// RGB (the background is opaque, so alpha carries nothing), best compression: a flat
/// chart compresses to a few tens of KB.
pub(super) fn encode(pixmap: &Pixmap) -> Vec<u8> {
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    // Writing to a Vec cannot fail, and the header matches the data by construction.
    let mut writer = encoder
        .write_header()
        .expect("a PNG header for a fixed RGB size");
    writer
        .write_image_data(&rgb)
        .expect("RGB data of the header's size");
    writer.finish().expect("finishing a PNG in memory");
    out
}

//! The picture of the week (issue 17): daily bars of steps and of sleep hours with their
//! mean and the alert thresholds, drawn in-process to a PNG, and the alt text that goes
//! with it, written from the same numbers.
//!
//! Drawing is tiny-skia (anti-aliased paths, pure Rust) with text from an embedded subset of
//! Noto Sans CJK JP read by ttf-parser, encoded by the `png` crate: no system font and no
//! external program, so the static binary draws the same bytes everywhere.

mod alt;
mod days;
mod draw;
mod text;
mod words;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;

use crate::config::Locale;

use words::Words;

/// The chart's size: 16:9, what X and Mastodon show in a timeline without cropping.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 675;

/// What the chart shows: one entry per day, oldest first (normally the 7 days of a week).
#[derive(Debug, Clone, PartialEq)]
pub struct WeekChart {
    pub locale: Locale,
    pub days: Vec<ChartDay>,
    /// Alert thresholds on daily steps, drawn as dashed lines.
    pub steps_thresholds: Vec<f64>,
    /// Alert thresholds on sleep hours, drawn as dashed lines.
    pub sleep_thresholds: Vec<f64>,
}

/// One day. `None` is "no data": the chart draws no bar and marks the day, never a zero bar.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartDay {
    pub date: NaiveDate,
    pub steps: Option<i64>,
    pub sleep_hours: Option<f64>,
}

/// The chart as PNG bytes, [`WIDTH`]×[`HEIGHT`], RGB. The same chart gives the same bytes:
/// nothing here reads the clock, the environment or a system font.
pub fn png(chart: &WeekChart) -> Vec<u8> {
    draw::encode(&draw::render(chart))
}

/// The longest alt text we produce, in characters: the strictest limit among the sinks that
/// take images, so one text fits them all.
/// - X: `metadata.alt_text.text` "Max length: 1000 characters" (POST /2/media/metadata,
///   https://docs.x.com/x-api/media/create-media-metadata; the v1.1 reference said the same,
///   "Must be <= 1000 chars", developer.twitter.com post-media-metadata-create).
/// - Mastodon: 1,500 (`MediaAttachment::MAX_DESCRIPTION_LENGTH = 1_500` in
///   mastodon/mastodon app/models/media_attachment.rb).
/// - Bluesky: the lexicon sets no maximum for `app.bsky.embed.images#image.alt`
///   (bluesky-social/atproto lexicons/app/bsky/embed/images.json); the official app stops at
///   2,000 graphemes (`MAX_ALT_TEXT = 2000`, bluesky-social/social-app src/lib/constants.ts).
pub const ALT_TEXT_MAX: usize = 1000;

/// Describes the chart. Days without data are named; if naming them would pass
/// [`ALT_TEXT_MAX`] (a long range with many gaps), they are counted instead.
pub fn alt_text(chart: &WeekChart) -> String {
    let words = Words::of(chart.locale);
    let named = alt::describe(chart, &words, true);
    if named.chars().count() <= ALT_TEXT_MAX {
        named
    } else {
        alt::describe(chart, &words, false)
    }
}

/// The two series, so the drawing and the alt text read the numbers the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Steps,
    Sleep,
}

impl Metric {
    fn values(self, chart: &WeekChart) -> Vec<Option<f64>> {
        chart
            .days
            .iter()
            .map(|day| match self {
                Metric::Steps => day.steps.map(|s| s as f64),
                Metric::Sleep => day.sleep_hours,
            })
            // A value that is not a number is no data, not a bar of unknown height.
            .map(|v| v.filter(|v| v.is_finite()))
            .collect()
    }

    /// The thresholds that can be drawn: a negative or infinite one has no place on the axis.
    fn thresholds(self, chart: &WeekChart) -> Vec<f64> {
        let all = match self {
            Metric::Steps => &chart.steps_thresholds,
            Metric::Sleep => &chart.sleep_thresholds,
        };
        all.iter()
            .copied()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .collect()
    }

    /// How a value is written on the chart and in the alt text, without its unit.
    fn format(self, value: f64) -> String {
        match self {
            Metric::Steps => words::grouped(value.round() as i64),
            Metric::Sleep => format!("{value:.1}"),
        }
    }
}

/// Mean, highest and lowest over the days with data; None when no day has data.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stats {
    mean: f64,
    count: usize,
    /// Index into the days and value; the earliest day wins a tie.
    highest: (usize, f64),
    lowest: (usize, f64),
}

fn stats(values: &[Option<f64>]) -> Option<Stats> {
    let known: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let (&first, rest) = known.split_first()?;
    let mut highest = first;
    let mut lowest = first;
    for &(i, v) in rest {
        if v > highest.1 {
            highest = (i, v);
        }
        if v < lowest.1 {
            lowest = (i, v);
        }
    }
    Some(Stats {
        mean: known.iter().map(|(_, v)| v).sum::<f64>() / known.len() as f64,
        count: known.len(),
        highest,
        lowest,
    })
}

//! Golden images and texts for the chart. `UPDATE_GOLDEN=1 cargo test --bin fitbit-notifier
//! chart::` rewrites the golden PNGs under tests/fixtures/chart/ (look at them before
//! committing); without it a drawing that changes by one byte fails.

use std::path::PathBuf;

use chrono::{Days, NaiveDate};

use super::draw::{AXIS_Y, LEFT_GUTTER, MARGIN_X, PANEL_GAP, PANEL_WIDTH, RIGHT_GUTTER};
use super::text::{Fonts, Weight};
use super::words::Words;
use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Monday 2026-11-23 to Sunday 2026-11-29.
fn week(locale: Locale, steps: [Option<i64>; 7], sleep: [Option<f64>; 7]) -> WeekChart {
    let monday = date(2026, 11, 23);
    WeekChart {
        locale,
        days: (0..7)
            .map(|i| ChartDay {
                date: monday + Days::new(i as u64),
                steps: steps[i],
                sleep_hours: sleep[i],
            })
            .collect(),
        steps_thresholds: vec![8000.0],
        sleep_thresholds: vec![6.0],
    }
}

fn full_week(locale: Locale) -> WeekChart {
    week(
        locale,
        [
            Some(7432),
            Some(5210),
            Some(9876),
            Some(11204),
            Some(6015),
            Some(3120),
            Some(4830),
        ],
        [
            Some(6.8),
            Some(5.2),
            Some(7.4),
            Some(6.1),
            Some(8.1),
            Some(7.9),
            Some(6.6),
        ],
    )
}

/// Wednesday has no data at all, Saturday no sleep.
fn week_with_gaps(locale: Locale) -> WeekChart {
    week(
        locale,
        [
            Some(7432),
            Some(5210),
            None,
            Some(11204),
            Some(6015),
            Some(3120),
            Some(4830),
        ],
        [
            Some(6.8),
            Some(5.2),
            None,
            Some(6.1),
            Some(8.1),
            None,
            Some(6.6),
        ],
    )
}

fn empty_week(locale: Locale) -> WeekChart {
    week(locale, [None; 7], [None; 7])
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/chart")
        .join(name)
}

struct Decoded {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Decoded {
    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

fn decode(bytes: &[u8]) -> Decoded {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("the chart is a PNG");
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader
        .next_frame(&mut rgb)
        .expect("the PNG's image decodes");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    rgb.truncate(info.buffer_size());
    Decoded {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// The pixel column through the middle of day `i`'s bar, in the steps or the sleep panel.
fn bar_centre_x(metric: Metric, i: usize, days: usize) -> u32 {
    let left = match metric {
        Metric::Steps => MARGIN_X,
        Metric::Sleep => MARGIN_X + PANEL_WIDTH + PANEL_GAP,
    } + LEFT_GUTTER;
    let right = left - LEFT_GUTTER + PANEL_WIDTH - RIGHT_GUTTER;
    let slot = (right - left) / days as f32;
    (left + slot * (i as f32 + 0.5)) as u32
}

fn bar_colour(metric: Metric) -> [u8; 3] {
    match metric {
        Metric::Steps => super::draw::STEPS_BAR,
        Metric::Sleep => super::draw::SLEEP_BAR,
    }
}

/// Whether day `i` has a bar: the pixel just above the axis in its column has the bar's colour.
fn has_bar(image: &Decoded, metric: Metric, i: usize, days: usize) -> bool {
    image.pixel(bar_centre_x(metric, i, days), AXIS_Y as u32 - 3) == bar_colour(metric)
}

#[test]
fn a_fixed_week_draws_the_golden_image_byte_for_byte() {
    for (locale, name) in [
        (Locale::En, "week-en.png"),
        (Locale::Ja, "week-ja.png"),
        (Locale::Ja, "gaps-ja.png"),
    ] {
        let chart = if name.starts_with("gaps") {
            week_with_gaps(locale)
        } else {
            full_week(locale)
        };
        let drawn = png(&chart);
        let path = fixture(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &drawn).unwrap();
        }
        let golden = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with UPDATE_GOLDEN=1 to write it",
                path.display()
            )
        });
        assert!(
            drawn == golden,
            "{name}: the drawing differs from the golden image ({} bytes drawn, {} golden); \
             if the change is intended, rerun with UPDATE_GOLDEN=1 and look at the image",
            drawn.len(),
            golden.len()
        );
        // Drawing twice gives the same bytes: nothing depends on time or state.
        assert!(png(&chart) == drawn, "{name}: a second drawing differs");
    }
}

#[test]
fn the_png_decodes_at_timeline_size_and_stays_small() {
    for locale in [Locale::En, Locale::Ja] {
        let chart = full_week(locale);
        let bytes = png(&chart);
        let image = decode(&bytes);
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
        assert_eq!((WIDTH, HEIGHT), (1200, 675));
        // "A few tens of KB": far below Bluesky's 1 MB blob limit, quick on every sink.
        assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
        for i in 0..7 {
            assert!(has_bar(&image, Metric::Steps, i, 7), "steps bar {i}");
            assert!(has_bar(&image, Metric::Sleep, i, 7), "sleep bar {i}");
        }
    }
}

#[test]
fn alt_text_of_a_fixed_week_is_golden() {
    let cases = [
        (
            full_week(Locale::En),
            "Steps, 7 days to 2026-11-29: mean 6,812; highest Thursday 11,204; \
             lowest Saturday 3,120; threshold 8,000. \
             Sleep: mean 6.9 h; highest Friday 8.1 h; lowest Tuesday 5.2 h; threshold 6.0 h.",
        ),
        (
            full_week(Locale::Ja),
            "歩数(2026-11-29までの7日間): 平均6,812歩、最高は木曜日の11,204歩、\
             最低は土曜日の3,120歩、しきい値8,000歩。\
             睡眠時間: 平均6.9時間、最高は金曜日の8.1時間、最低は火曜日の5.2時間、しきい値6.0時間。",
        ),
        (
            week_with_gaps(Locale::En),
            "Steps, 7 days to 2026-11-29: mean 6,302; highest Thursday 11,204; \
             lowest Saturday 3,120; threshold 8,000; no data on Wednesday. \
             Sleep: mean 6.6 h; highest Friday 8.1 h; lowest Tuesday 5.2 h; threshold 6.0 h; \
             no data on Wednesday and Saturday.",
        ),
        (
            week_with_gaps(Locale::Ja),
            "歩数(2026-11-29までの7日間): 平均6,302歩、最高は木曜日の11,204歩、\
             最低は土曜日の3,120歩、しきい値8,000歩、データなし: 水曜日。\
             睡眠時間: 平均6.6時間、最高は金曜日の8.1時間、最低は火曜日の5.2時間、\
             しきい値6.0時間、データなし: 水曜日・土曜日。",
        ),
        (
            empty_week(Locale::En),
            "Steps, 7 days to 2026-11-29: no data. Sleep: no data.",
        ),
        (
            empty_week(Locale::Ja),
            "歩数(2026-11-29までの7日間): データなし。睡眠時間: データなし。",
        ),
    ];
    for (chart, expected) in cases {
        assert_eq!(alt_text(&chart), expected, "{:?}", chart.locale);
    }
}

#[test]
fn a_day_without_data_has_no_bar_and_is_named_in_the_alt_text() {
    for locale in [Locale::En, Locale::Ja] {
        let chart = week_with_gaps(locale);
        let image = decode(&png(&chart));
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
        for i in 0..7 {
            assert_eq!(
                has_bar(&image, Metric::Steps, i, 7),
                i != 2,
                "steps day {i}"
            );
            assert_eq!(
                has_bar(&image, Metric::Sleep, i, 7),
                i != 2 && i != 5,
                "sleep day {i}"
            );
        }
        let alt = alt_text(&chart);
        let no_data = match locale {
            Locale::En => "no data on Wednesday and Saturday",
            Locale::Ja => "データなし: 水曜日・土曜日",
        };
        assert!(alt.contains(no_data), "{alt}");
    }
}

#[test]
fn a_week_without_any_data_draws_axes_but_no_bar() {
    for locale in [Locale::En, Locale::Ja] {
        let chart = empty_week(locale);
        let image = decode(&png(&chart));
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
        for metric in [Metric::Steps, Metric::Sleep] {
            let colour = bar_colour(metric);
            let x = bar_centre_x(metric, 0, 7);
            let x_end = bar_centre_x(metric, 6, 7);
            for y in (AXIS_Y as u32 - 300)..(AXIS_Y as u32) {
                for x in x..=x_end {
                    assert_ne!(image.pixel(x, y), colour, "{metric:?} bar pixel at {x},{y}");
                }
            }
        }
    }
}

#[test]
fn no_days_at_all_still_draws_and_describes() {
    let chart = WeekChart {
        locale: Locale::En,
        days: Vec::new(),
        steps_thresholds: Vec::new(),
        sleep_thresholds: Vec::new(),
    };
    let image = decode(&png(&chart));
    assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
    assert_eq!(alt_text(&chart), "Steps and sleep: no data.");
}

#[test]
fn alt_text_stays_within_the_strictest_limit_on_a_long_range_with_gaps() {
    // 90 days, every other day without data: naming them all would pass 1000 characters.
    let start = date(2026, 9, 1);
    for locale in [Locale::En, Locale::Ja] {
        let chart = WeekChart {
            locale,
            days: (0..90)
                .map(|i| ChartDay {
                    date: start + Days::new(i),
                    steps: (i % 2 == 0).then_some(5000 + i as i64),
                    sleep_hours: (i % 2 == 0).then_some(7.0),
                })
                .collect(),
            steps_thresholds: vec![8000.0, 10000.0],
            sleep_thresholds: vec![6.0],
        };
        let alt = alt_text(&chart);
        assert!(alt.chars().count() <= ALT_TEXT_MAX, "{alt}");
        let counted = match locale {
            Locale::En => "no data on 45 days",
            Locale::Ja => "データなし: 45日",
        };
        assert!(alt.contains(counted), "{alt}");
        // Beyond a week, days are dates: a weekday would name several days at once.
        let highest = match locale {
            Locale::En => "highest 2026-11-28 5,088",
            Locale::Ja => "最高は2026-11-28の5,088歩",
        };
        assert!(alt.contains(highest), "{alt}");
        // The picture of a long range still draws (labels thinned, no value labels).
        assert_eq!(decode(&png(&chart)).width, WIDTH);
    }
}

#[test]
fn every_label_character_has_a_glyph() {
    // Everything the chart draws in either locale, plus the built-in ja templates the
    // font subset promises to cover (assets/fonts/README.md).
    let mut text = String::from(concat!(
        include_str!("../../../templates/ja/activity.txt"),
        include_str!("../../../templates/ja/sleep.txt"),
        "0123456789,.()/-",
    ));
    for locale in [Locale::En, Locale::Ja] {
        let words = Words::of(locale);
        let monday = date(2026, 11, 23);
        text += &words.title(monday, monday + Days::new(6));
        text += &words.title(date(2026, 12, 28), date(2027, 1, 3));
        text += words.title_without_days();
        text += words.steps;
        text += words.sleep;
        text += words.no_data_bar;
        text += words.threshold_legend;
        text += &words.mean_legend(7);
        for i in 0..7 {
            let (day, weekday) = words.axis_date(monday + Days::new(i));
            text += &day;
            text += &weekday;
        }
    }
    let fonts = Fonts::embedded();
    for weight in [Weight::Regular, Weight::Bold] {
        let face = fonts.face(weight);
        let missing: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
            .collect();
        assert_eq!(
            missing, "",
            "{weight:?}: add these to assets/fonts/chart-chars.txt and run assets/fonts/subset.sh"
        );
    }
}

#[test]
fn titles_write_the_year_once_unless_the_range_spans_two() {
    let cases = [
        (
            Locale::En,
            (2026, 11, 23),
            "Steps and sleep, Nov 23 – Nov 29, 2026",
        ),
        (
            Locale::Ja,
            (2026, 11, 23),
            "2026年11月23日〜11月29日の歩数と睡眠",
        ),
        (
            Locale::En,
            (2026, 12, 28),
            "Steps and sleep, Dec 28, 2026 – Jan 3, 2027",
        ),
        (
            Locale::Ja,
            (2026, 12, 28),
            "2026年12月28日〜2027年1月3日の歩数と睡眠",
        ),
    ];
    for (locale, (y, m, d), expected) in cases {
        let first = date(y, m, d);
        assert_eq!(
            Words::of(locale).title(first, first + Days::new(6)),
            expected
        );
    }
}

#[test]
fn stats_take_the_mean_over_days_with_data_and_the_earliest_of_ties() {
    let cases: [(&[Option<f64>], Option<Stats>); 3] = [
        (&[None, None], None),
        (
            &[Some(4.0), None, Some(8.0), Some(8.0), Some(3.0)],
            Some(Stats {
                mean: 5.75,
                count: 4,
                highest: (2, 8.0),
                lowest: (4, 3.0),
            }),
        ),
        (
            &[Some(0.0)],
            Some(Stats {
                mean: 0.0,
                count: 1,
                highest: (0, 0.0),
                lowest: (0, 0.0),
            }),
        ),
    ];
    for (values, expected) in cases {
        assert_eq!(stats(values), expected, "{values:?}");
    }
}

#[test]
fn numbers_group_thousands_with_commas() {
    let cases = [
        (0, "0"),
        (999, "999"),
        (1000, "1,000"),
        (11204, "11,204"),
        (1234567, "1,234,567"),
        (-1234, "-1,234"),
    ];
    for (value, expected) in cases {
        assert_eq!(super::words::grouped(value), expected);
    }
}

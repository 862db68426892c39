//! The chart's alt text: the same numbers as the picture, in words, in the locale.

use super::words::Words;
use super::{Metric, WeekChart, stats};
use crate::config::Locale;

/// The alt text; `name_missing_days` false counts the days without data instead of naming
/// them, for a range too long to name them within [`super::ALT_TEXT_MAX`].
pub(super) fn describe(chart: &WeekChart, words: &Words, name_missing_days: bool) -> String {
    let locale = words.locale();
    let Some(last) = chart.days.last() else {
        return match locale {
            Locale::En => "Steps and sleep: no data.".to_string(),
            Locale::Ja => "歩数と睡眠: データなし。".to_string(),
        };
    };
    let n = chart.days.len();
    let last = last.date.format("%Y-%m-%d");
    let mut sections = Vec::new();
    for metric in [Metric::Steps, Metric::Sleep] {
        let head = match (locale, metric) {
            (Locale::En, Metric::Steps) => {
                let unit = if n == 1 { "day" } else { "days" };
                format!("Steps, {n} {unit} to {last}: ")
            }
            (Locale::En, Metric::Sleep) => "Sleep: ".to_string(),
            (Locale::Ja, Metric::Steps) => format!("歩数({last}までの{n}日間): "),
            (Locale::Ja, Metric::Sleep) => "睡眠時間: ".to_string(),
        };
        let unit = match (locale, metric) {
            (Locale::En, Metric::Steps) => "",
            (Locale::En, Metric::Sleep) => " h",
            (Locale::Ja, Metric::Steps) => "歩",
            (Locale::Ja, Metric::Sleep) => "時間",
        };
        let values = metric.values(chart);
        let value = |v: f64| format!("{}{unit}", metric.format(v));
        let day = |i: usize| words.day_name(chart.days[i].date, n);
        let Some(stats) = stats(&values) else {
            sections.push(match locale {
                Locale::En => format!("{head}no data."),
                Locale::Ja => format!("{head}データなし。"),
            });
            continue;
        };
        let mut parts = Vec::new();
        parts.push(match locale {
            Locale::En => format!("mean {}", value(stats.mean)),
            Locale::Ja => format!("平均{}", value(stats.mean)),
        });
        // With one day of data its highest and lowest are that day: say it once, as the mean.
        if stats.count > 1 {
            let (high, low) = (stats.highest, stats.lowest);
            parts.push(match locale {
                Locale::En => format!("highest {} {}", day(high.0), value(high.1)),
                Locale::Ja => format!("最高は{}の{}", day(high.0), value(high.1)),
            });
            parts.push(match locale {
                Locale::En => format!("lowest {} {}", day(low.0), value(low.1)),
                Locale::Ja => format!("最低は{}の{}", day(low.0), value(low.1)),
            });
        }
        let thresholds: Vec<String> = metric.thresholds(chart).into_iter().map(value).collect();
        if !thresholds.is_empty() {
            let list = words.list(&thresholds);
            parts.push(match locale {
                Locale::En if thresholds.len() == 1 => format!("threshold {list}"),
                Locale::En => format!("thresholds {list}"),
                Locale::Ja => format!("しきい値{list}"),
            });
        }
        let missing: Vec<usize> = (0..n).filter(|&i| values[i].is_none()).collect();
        if !missing.is_empty() {
            let which = if name_missing_days {
                words.list(&missing.iter().map(|&i| day(i)).collect::<Vec<_>>())
            } else {
                match locale {
                    Locale::En => format!("{} days", missing.len()),
                    Locale::Ja => format!("{}日", missing.len()),
                }
            };
            parts.push(match locale {
                Locale::En => format!("no data on {which}"),
                Locale::Ja => format!("データなし: {which}"),
            });
        }
        sections.push(match locale {
            Locale::En => format!("{head}{}.", parts.join("; ")),
            Locale::Ja => format!("{head}{}。", parts.join("、")),
        });
    }
    match locale {
        Locale::En => sections.join(" "),
        Locale::Ja => sections.concat(),
    }
}

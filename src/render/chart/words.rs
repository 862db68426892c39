//! Every word the chart and its alt text use, per locale. The Japanese characters drawn
//! here must be in the font subset (assets/fonts/chart-chars.txt).

use chrono::{Datelike, NaiveDate, Weekday};

use crate::config::Locale;

pub struct Words {
    locale: Locale,
    /// Panel headings.
    pub steps: &'static str,
    pub sleep: &'static str,
    /// Drawn in place of a bar on a day without data.
    pub no_data_bar: &'static str,
    pub threshold_legend: &'static str,
}

impl Words {
    pub fn of(locale: Locale) -> Words {
        match locale {
            Locale::En => Words {
                locale,
                steps: "Steps",
                sleep: "Sleep (h)",
                no_data_bar: "no data",
                threshold_legend: "alert threshold",
            },
            Locale::Ja => Words {
                locale,
                steps: "歩数",
                sleep: "睡眠時間",
                // Two lines: "データなし" on one line is wider than a day's column.
                no_data_bar: "データ\nなし",
                threshold_legend: "しきい値",
            },
        }
    }

    /// "Steps and sleep, Nov 23 – Nov 29, 2026" / "2026年11月23日〜11月29日の歩数と睡眠"; the
    /// year is written once unless the range spans two.
    pub fn title(&self, first: NaiveDate, last: NaiveDate) -> String {
        let same_year = first.year() == last.year();
        match self.locale {
            Locale::En if same_year => format!(
                "Steps and sleep, {} – {}",
                first.format("%b %-d"),
                last.format("%b %-d, %Y")
            ),
            Locale::En => format!(
                "Steps and sleep, {} – {}",
                first.format("%b %-d, %Y"),
                last.format("%b %-d, %Y")
            ),
            Locale::Ja if same_year => format!(
                "{}〜{}の歩数と睡眠",
                first.format("%Y年%-m月%-d日"),
                last.format("%-m月%-d日")
            ),
            Locale::Ja => format!(
                "{}〜{}の歩数と睡眠",
                first.format("%Y年%-m月%-d日"),
                last.format("%Y年%-m月%-d日")
            ),
        }
    }

    pub fn title_without_days(&self) -> &'static str {
        match self.locale {
            Locale::En => "Steps and sleep",
            Locale::Ja => "歩数と睡眠",
        }
    }

    pub fn mean_legend(&self, days: usize) -> String {
        match self.locale {
            Locale::En => format!("{days}-day mean"),
            Locale::Ja => format!("{days}日間の平均"),
        }
    }

    /// The two lines under a day's bar: "11/23" and "Mon" / "(月)".
    pub fn axis_date(&self, date: NaiveDate) -> (String, String) {
        let day = date.format("%m/%d").to_string();
        match self.locale {
            Locale::En => (day, weekday_en(date.weekday())[..3].to_string()),
            Locale::Ja => (day, format!("({})", weekday_ja(date.weekday()))),
        }
    }

    /// A day named in the alt text: the weekday within a week, the date beyond one (a
    /// weekday would repeat).
    pub fn day_name(&self, date: NaiveDate, days: usize) -> String {
        if days > 7 {
            return date.format("%Y-%m-%d").to_string();
        }
        match self.locale {
            Locale::En => weekday_en(date.weekday()).to_string(),
            Locale::Ja => format!("{}曜日", weekday_ja(date.weekday())),
        }
    }

    pub fn list(&self, items: &[String]) -> String {
        match self.locale {
            Locale::Ja => items.join("・"),
            Locale::En => match items {
                [] => String::new(),
                [one] => one.clone(),
                [init @ .., last] => format!("{} and {last}", init.join(", ")),
            },
        }
    }

    pub fn locale(&self) -> Locale {
        self.locale
    }
}

fn weekday_en(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn weekday_ja(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

/// 11204 → "11,204"; both locales group thousands with a comma.
pub fn grouped(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 {
        out.insert(0, '-');
    }
    out
}

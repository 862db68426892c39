//! The monitoring messages: the week's summary and an alert firing or resolving, with
//! the same rules as the day's messages (finished text per placeholder, the locale's
//! wording for a missing value, templates checked when they load).

use minijinja::value::Value;

use super::{NotRecorded, Renderer, fixed, template_error, template_name};
use crate::day::alerts::{Rule, Threshold, Transition};
use crate::day::demo;
use crate::day::metrics::Metric;
use crate::day::week::{FORTNIGHT_DAYS, Week, week};
use crate::day::{DaySummary, MessageKind};
use crate::error::{Error, Result};

/// A locale's words for the monitoring messages.
pub(super) struct Words {
    /// What a change against a week without data reads as.
    no_data: &'static str,
    below: &'static str,
    above: &'static str,
    pub(super) week_template: &'static str,
    pub(super) alert_template: &'static str,
    pub(super) resolved_template: &'static str,
    labels: fn(Metric) -> &'static str,
}

pub(super) const JA: Words = Words {
    no_data: "データなし",
    below: "下回り",
    above: "上回り",
    week_template: include_str!("../../templates/ja/week.txt"),
    alert_template: include_str!("../../templates/ja/alert.txt"),
    resolved_template: include_str!("../../templates/ja/resolved.txt"),
    labels: ja_label,
};

pub(super) const EN: Words = Words {
    no_data: "no data",
    below: "below",
    above: "above",
    week_template: include_str!("../../templates/en/week.txt"),
    alert_template: include_str!("../../templates/en/alert.txt"),
    resolved_template: include_str!("../../templates/en/resolved.txt"),
    labels: en_label,
};

fn ja_label(metric: Metric) -> &'static str {
    match metric {
        Metric::Steps => "歩数",
        Metric::DistanceKm => "距離",
        Metric::SleepHours => "睡眠時間",
        Metric::ActiveMinutes => "アクティブな運動の時間",
        Metric::RestingHeartRate => "安静時心拍数",
        Metric::CaloriesOut => "消費カロリー",
        Metric::SedentaryMinutes => "座っていた時間",
        Metric::WaterMl => "水分",
        Metric::WeightKg => "体重",
        Metric::BodyFatPercent => "体脂肪率",
    }
}

fn en_label(metric: Metric) -> &'static str {
    match metric {
        Metric::Steps => "steps",
        Metric::DistanceKm => "distance",
        Metric::SleepHours => "sleep",
        Metric::ActiveMinutes => "active minutes",
        Metric::RestingHeartRate => "resting heart rate",
        Metric::CaloriesOut => "calories burned",
        Metric::SedentaryMinutes => "sedentary time",
        Metric::WaterMl => "water",
        Metric::WeightKg => "weight",
        Metric::BodyFatPercent => "body fat",
    }
}

/// Decimals a metric's means are shown with.
fn decimals(metric: Metric) -> usize {
    match metric {
        Metric::DistanceKm | Metric::SleepHours => 2,
        Metric::RestingHeartRate | Metric::WeightKg | Metric::BodyFatPercent => 1,
        _ => 0,
    }
}

/// Placeholder names of the week's metrics, in `WEEK_METRICS` order.
fn week_name(metric: Metric) -> &'static str {
    match metric {
        Metric::DistanceKm => "distance",
        other => other.name(),
    }
}

impl Renderer {
    /// A metric's value with its unit in the locale: "7012歩", "6.85 hours".
    fn amount(&self, metric: Metric, value: f64) -> String {
        let words = self.words;
        let unit = match metric {
            Metric::Steps => words.steps,
            Metric::DistanceKm => "km",
            Metric::SleepHours => words.hours,
            Metric::ActiveMinutes | Metric::SedentaryMinutes => words.minutes,
            Metric::RestingHeartRate => "bpm",
            Metric::CaloriesOut => "kcal",
            Metric::WaterMl => "ml",
            Metric::WeightKg => "kg",
            Metric::BodyFatPercent => return format!("{}%", fixed(value, 1)),
        };
        format!("{}{}{unit}", fixed(value, decimals(metric)), words.unit_gap)
    }

    /// A change with its sign and unit: "+512歩", "-0.25 hours", "±0 bpm".
    fn change(&self, metric: Metric, change: f64) -> String {
        let text = self.amount(metric, change.abs());
        let zero = fixed(change.abs(), decimals(metric))
            .chars()
            .all(|c| c == '0' || c == '.');
        let sign = if zero {
            "±"
        } else if change < 0.0 {
            "-"
        } else {
            "+"
        };
        format!("{sign}{text}")
    }

    /// The week's message, `None` when its template renders nothing for it.
    pub fn render_week(&self, week: &Week) -> Result<Option<String>> {
        let words = &self.words.monitor;
        let mut context = vec![
            ("first", Value::from(week.first.to_string())),
            ("last", Value::from(week.last.to_string())),
        ];
        for row in &week.rows {
            let name = week_name(row.metric);
            let mean = self
                .words
                .text(row.mean.map(|m| self.amount(row.metric, m.value)));
            let change = match row.change() {
                Some(change) => Value::from(self.change(row.metric, change)),
                None => Value::from_object(NotRecorded(words.no_data)),
            };
            context.push((name, mean));
            context.push((change_name(name), change));
        }
        self.render_monitoring(MessageKind::Week, context)
    }

    /// The message for an alert's transition, `None` when its template renders nothing.
    pub fn render_alert(&self, rule: &Rule, transition: Transition) -> Result<Option<String>> {
        let words = &self.words.monitor;
        let (kind, value) = match transition {
            Transition::Fired { value, .. } => (MessageKind::Alert, value),
            Transition::Resolved { value, .. } => (MessageKind::Resolved, value),
        };
        let threshold = rule.threshold();
        let direction = match threshold {
            Threshold::Below(_) => words.below,
            Threshold::Above(_) => words.above,
        };
        let since = match transition {
            Transition::Resolved { since, .. } => since,
            Transition::Fired { date, .. } => Some(date),
        };
        let context = vec![
            ("name", Value::from(rule.name.as_str())),
            ("metric", Value::from((words.labels)(rule.metric))),
            ("days", Value::from(rule.days)),
            ("date", Value::from(transition.date().to_string())),
            ("since", self.words.text(since.map(|d| d.to_string()))),
            ("value", Value::from(self.amount(rule.metric, value))),
            (
                "threshold",
                Value::from(self.amount(rule.metric, threshold.value())),
            ),
            ("direction", Value::from(direction)),
        ];
        self.render_monitoring(kind, context)
    }

    fn render_monitoring(
        &self,
        kind: MessageKind,
        context: Vec<(&'static str, Value)>,
    ) -> Result<Option<String>> {
        let text = self.render_one(kind, &Value::from_iter(context))?;
        Ok((!text.is_empty()).then_some(text))
    }

    /// Renders every monitoring template with sample data (a full fortnight, a week
    /// with no previous week, an alert firing and resolving), so a template that names
    /// an unknown placeholder or fails for some data is a configuration error now.
    pub(super) fn check_monitoring(&self) -> Result<()> {
        self.check_unknown()?;
        let sample = demo::sample_days(demo::sample_day().date, FORTNIGHT_DAYS);
        let last = sample[sample.len() - 1].date;
        let alone: Vec<DaySummary> = sample[7..].to_vec();
        let rule = Rule {
            name: "short sleep".into(),
            metric: Metric::SleepHours,
            days: 7,
            below: Some(6.0),
            above: None,
            sinks: None,
        };
        let fired = Transition::Fired {
            date: last,
            value: 5.5,
        };
        let resolved = Transition::Resolved {
            date: last,
            value: 6.5,
            since: None,
        };
        let trials = [
            (MessageKind::Week, self.render_week(&week(&sample, last))),
            (MessageKind::Week, self.render_week(&week(&alone, last))),
            (MessageKind::Alert, self.render_alert(&rule, fired)),
            (MessageKind::Resolved, self.render_alert(&rule, resolved)),
        ];
        for (kind, trial) in trials {
            if trial?.is_none() {
                return Err(Error::config(format!(
                    "{}: renders an empty message even for sample data; give it some text",
                    template_name(kind)
                )));
            }
        }
        Ok(())
    }

    /// Strict undefined behaviour catches an unknown placeholder only on the path a
    /// render takes: this names every one the template mentions.
    fn check_unknown(&self) -> Result<()> {
        for (kind, known) in [
            (MessageKind::Week, week_placeholders()),
            (MessageKind::Alert, ALERT_PLACEHOLDERS.to_vec()),
            (MessageKind::Resolved, ALERT_PLACEHOLDERS.to_vec()),
        ] {
            let template = self
                .env
                .get_template(template_name(kind))
                .map_err(|err| template_error(kind, &err))?;
            let globals: Vec<&str> = self.env.globals().map(|(name, _)| name).collect();
            let mut unknown: Vec<String> = template
                .undeclared_variables(false)
                .into_iter()
                .filter(|v| !known.contains(&v.as_str()) && !globals.contains(&v.as_str()))
                .collect();
            unknown.sort();
            if !unknown.is_empty() {
                return Err(Error::config(format!(
                    "{}: unknown placeholder `{}`; use the placeholders listed under \
                     \"Monitoring\" in the README",
                    template_name(kind),
                    unknown.join("`, `")
                )));
            }
        }
        Ok(())
    }
}

const ALERT_PLACEHOLDERS: [&str; 8] = [
    "name",
    "metric",
    "days",
    "date",
    "since",
    "value",
    "threshold",
    "direction",
];

fn change_name(name: &'static str) -> &'static str {
    match name {
        "steps" => "steps_change",
        "distance" => "distance_change",
        "sleep_hours" => "sleep_hours_change",
        "active_minutes" => "active_minutes_change",
        "resting_heart_rate" => "resting_heart_rate_change",
        _ => "change",
    }
}

fn week_placeholders() -> Vec<&'static str> {
    let mut names = vec!["first", "last"];
    for metric in crate::day::week::WEEK_METRICS {
        names.push(week_name(metric));
        names.push(change_name(week_name(metric)));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Locale};
    use crate::day::demo::sample_days;

    fn renderer(locale: Locale) -> Renderer {
        Renderer::from_config(&Config {
            locale,
            ..Config::default()
        })
        .unwrap()
    }

    fn last() -> NaiveDate {
        "2026-11-29".parse().unwrap()
    }

    fn fortnight() -> Vec<DaySummary> {
        sample_days(last(), FORTNIGHT_DAYS)
    }

    fn week_text(locale: Locale, days: &[DaySummary]) -> String {
        renderer(locale)
            .render_week(&week(days, last()))
            .unwrap()
            .unwrap()
    }

    fn short_sleep() -> Rule {
        Rule {
            name: "short sleep".into(),
            metric: Metric::SleepHours,
            days: 7,
            below: Some(6.0),
            above: None,
            sinks: None,
        }
    }

    use chrono::NaiveDate;

    /// Checked by hand: this week's wobble sums to -3 (means 7000 - 900 * 3/7 steps),
    /// the week before's to +1.
    #[test]
    fn the_week_in_japanese() {
        assert_eq!(
            week_text(Locale::Ja, &fortnight()),
            "今週(2026-11-23〜2026-11-29)のまとめ from Fitbit

1日の平均歩数: 6614歩 (前週比 -514歩)
1日の平均距離: 4.74km (前週比 -0.34km)
平均睡眠時間: 6.73時間 (前週比 -0.14時間)
1日の平均アクティブ時間: 23分 (前週比 -3分)
平均安静時心拍数: 59.6bpm (前週比 -0.6bpm)"
        );
    }

    #[test]
    fn the_week_in_english() {
        assert_eq!(
            week_text(Locale::En, &fortnight()),
            "The week 2026-11-23 to 2026-11-29 from Fitbit

Steps a day: 6614 steps (-514 steps on the week before)
Distance a day: 4.74 km (-0.34 km)
Sleep a night: 6.73 hours (-0.14 hours)
Active minutes a day: 23 min (-3 min)
Resting heart rate: 59.6 bpm (-0.6 bpm)"
        );
    }

    #[test]
    fn a_week_without_sleep_or_heart_rate_says_so_and_drops_the_optional_line() {
        let mut days = fortnight();
        for day in days.iter_mut().skip(7) {
            day.sleep = None;
            day.resting_heart_rate_bpm = None;
        }
        let ja = week_text(Locale::Ja, &days);
        assert!(
            ja.contains("平均睡眠時間: 記録なし (前週比 データなし)\n"),
            "{ja}"
        );
        assert!(!ja.contains("安静時心拍数"), "{ja}");
        let en = week_text(Locale::En, &days);
        assert!(
            en.contains("Sleep a night: not recorded (no data)\n"),
            "{en}"
        );
    }

    #[test]
    fn a_missing_previous_week_compares_against_nothing() {
        let days = sample_days(last(), 7);
        let en = week_text(Locale::En, &days);
        assert!(
            en.contains("Steps a day: 6614 steps (no data on the week before)"),
            "{en}"
        );
        assert!(
            en.contains("Resting heart rate: 59.6 bpm (no data)"),
            "{en}"
        );
        let ja = week_text(Locale::Ja, &days);
        assert!(
            ja.contains("1日の平均歩数: 6614歩 (前週比 データなし)"),
            "{ja}"
        );
    }

    #[test]
    fn an_unchanged_mean_reads_plus_minus_zero() {
        let r = renderer(Locale::En);
        assert_eq!(r.change(Metric::Steps, 0.4), "±0 steps");
        assert_eq!(r.change(Metric::SleepHours, -0.004), "±0.00 hours");
        assert_eq!(r.change(Metric::SleepHours, 0.25), "+0.25 hours");
    }

    #[test]
    fn alert_and_resolved_messages_in_both_locales() {
        let date: NaiveDate = "2026-11-27".parse().unwrap();
        let fired = Transition::Fired {
            date,
            value: 5.6214,
        };
        let resolved = Transition::Resolved {
            date,
            value: 6.2,
            since: Some("2026-11-20".parse().unwrap()),
        };
        let text = |locale, t| {
            renderer(locale)
                .render_alert(&short_sleep(), t)
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            text(Locale::Ja, fired),
            "⚠️ アラート「short sleep」(2026-11-27)\n\n睡眠時間の7日平均が5.62時間で、しきい値6.00時間を下回りました。"
        );
        assert_eq!(
            text(Locale::Ja, resolved),
            "✅ 解決「short sleep」(2026-11-27)\n\n睡眠時間の7日平均が6.20時間に戻りました(しきい値6.00時間)。"
        );
        assert_eq!(
            text(Locale::En, fired),
            "⚠️ Alert: short sleep (2026-11-27)\n\nThe 7-day mean of sleep is 5.62 hours, below the threshold of 6.00 hours."
        );
        assert_eq!(
            text(Locale::En, resolved),
            "✅ Resolved: short sleep (2026-11-27)\n\nThe 7-day mean of sleep is back at 6.20 hours (threshold 6.00 hours)."
        );
    }

    #[test]
    fn monitoring_templates_are_checked_when_they_load() {
        let mut config = Config::default();
        config.templates.week = Some("{{ steps }} {{ stpes_change }}".into());
        let err = Renderer::from_config(&config).err().unwrap().to_string();
        assert!(
            err.contains("templates.week") && err.contains("stpes_change"),
            "{err}"
        );
        let mut config = Config::default();
        config.templates.resolved = Some("{% if false %}x{% endif %}".into());
        let err = Renderer::from_config(&config).err().unwrap().to_string();
        assert!(
            err.contains("templates.resolved") && err.contains("empty"),
            "{err}"
        );
        let mut config = Config::default();
        config.templates.alert = Some("{{ name }}: {{ value }} since {{ since }}".into());
        let r = Renderer::from_config(&config).unwrap();
        let date = "2026-11-27".parse().unwrap();
        let text = r
            .render_alert(&short_sleep(), Transition::Fired { date, value: 5.0 })
            .unwrap();
        assert_eq!(
            text.as_deref(),
            Some("short sleep: 5.00 hours since 2026-11-27")
        );
    }
}

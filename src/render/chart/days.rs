//! The chart of days the job has: each day's steps and sleep hours, and the thresholds
//! of the `[[alerts]]` rules on those two metrics as dashed lines.

use crate::config::Config;
use crate::day::DaySummary;
use crate::day::metrics::Metric as DayMetric;

use super::{ChartDay, WeekChart};

impl WeekChart {
    /// The chart of `days` (oldest first) in the config's locale, with every alert
    /// threshold on steps or sleep hours.
    pub fn of_days(days: &[DaySummary], config: &Config) -> WeekChart {
        let thresholds = |metric: DayMetric| {
            config
                .alerts
                .iter()
                .filter(|rule| rule.metric == metric)
                .map(|rule| rule.threshold().value())
                .collect()
        };
        WeekChart {
            locale: config.locale,
            days: days
                .iter()
                .map(|day| ChartDay {
                    date: day.date,
                    steps: day.activity.steps,
                    sleep_hours: DayMetric::SleepHours.of(day),
                })
                .collect(),
            steps_thresholds: thresholds(DayMetric::Steps),
            sleep_thresholds: thresholds(DayMetric::SleepHours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::demo::sample_days;

    #[test]
    fn days_and_the_thresholds_on_steps_and_sleep_make_the_chart() {
        let config: Config = toml::from_str(
            "locale = \"ja\"\n\
             [[alerts]]\nname = \"short sleep\"\nmetric = \"sleep_hours\"\ndays = 7\nbelow = 6.0\n\
             [[alerts]]\nname = \"few steps\"\nmetric = \"steps\"\nbelow = 5000\n\
             [[alerts]]\nname = \"pulse\"\nmetric = \"resting_heart_rate\"\nabove = 70\n",
        )
        .unwrap();
        let mut days = sample_days("2026-11-29".parse().unwrap(), 7);
        days[2].sleep = None;
        let chart = WeekChart::of_days(&days, &config);
        assert_eq!(chart.locale, crate::config::Locale::Ja);
        assert_eq!(chart.steps_thresholds, [5000.0]);
        assert_eq!(chart.sleep_thresholds, [6.0]);
        assert_eq!(chart.days.len(), 7);
        assert_eq!(chart.days[6].date.to_string(), "2026-11-29");
        assert_eq!(chart.days[0].steps, days[0].activity.steps);
        assert_eq!(chart.days[2].sleep_hours, None);
        assert_eq!(
            chart.days[0].sleep_hours,
            Some(days[0].sleep.as_ref().unwrap().minutes_asleep.unwrap() as f64 / 60.0)
        );
    }
}

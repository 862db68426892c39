//! The week's summary: the means of the watched metrics over the 7 days ending on a
//! day, and each one's change against the 7 days before (both from one 14-day range).

use chrono::{Days, NaiveDate};

use crate::day::DaySummary;
use crate::day::metrics::{Mean, Metric, mean};

/// Days in a week, and in the range that holds a week and the one before.
pub const WEEK_DAYS: u32 = 7;
pub const FORTNIGHT_DAYS: u32 = 2 * WEEK_DAYS;

/// What the week's message reports, in this order.
pub const WEEK_METRICS: [Metric; 5] = [
    Metric::Steps,
    Metric::DistanceKm,
    Metric::SleepHours,
    Metric::ActiveMinutes,
    Metric::RestingHeartRate,
];

/// The 7 days ending on `last`, and per metric this week's and last week's means.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub rows: Vec<WeekRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeekRow {
    pub metric: Metric,
    /// `None` when no day of the week has a value.
    pub mean: Option<Mean>,
    /// The 7 days before; `None` when none of them has a value.
    pub previous: Option<Mean>,
}

impl WeekRow {
    /// This week's mean minus last week's, when both weeks have data: a change against
    /// nothing is no change.
    pub fn change(&self) -> Option<f64> {
        Some(self.mean?.value - self.previous?.value)
    }
}

/// The week ending on `last`, from `days` (any days; those outside the two weeks are
/// ignored, and a missing day counts as a day without data).
pub fn week(days: &[DaySummary], last: NaiveDate) -> Week {
    let first = last - Days::new(u64::from(WEEK_DAYS - 1));
    let previous_first = first - Days::new(u64::from(WEEK_DAYS));
    let this: Vec<&DaySummary> = days
        .iter()
        .filter(|d| (first..=last).contains(&d.date))
        .collect();
    let before: Vec<&DaySummary> = days
        .iter()
        .filter(|d| (previous_first..first).contains(&d.date))
        .collect();
    Week {
        first,
        last,
        rows: WEEK_METRICS
            .iter()
            .map(|&metric| WeekRow {
                metric,
                mean: mean(metric, &this),
                previous: mean(metric, &before),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::demo::sample_days;

    #[test]
    fn means_cover_the_days_with_data_and_change_needs_both_weeks() {
        let last: NaiveDate = "2026-11-29".parse().unwrap();
        let mut days = sample_days(last, FORTNIGHT_DAYS);
        // no sleep at all this week, and one day without steps
        for day in days.iter_mut().skip(7) {
            day.sleep = None;
        }
        days[13].activity.steps = None;
        let week = week(&days, last);
        assert_eq!(week.first.to_string(), "2026-11-23");
        let steps = &week.rows[0];
        assert_eq!(steps.mean.unwrap().days_with_data, 6);
        let expected: f64 = days[7..13]
            .iter()
            .map(|d| d.activity.steps.unwrap() as f64)
            .sum::<f64>()
            / 6.0;
        assert!((steps.mean.unwrap().value - expected).abs() < 1e-9);
        assert!(steps.change().is_some());
        let sleep = &week.rows[2];
        assert_eq!(sleep.metric, Metric::SleepHours);
        assert_eq!(sleep.mean, None);
        assert!(sleep.previous.is_some());
        assert_eq!(sleep.change(), None);
    }

    #[test]
    fn a_missing_previous_week_gives_no_change() {
        let last: NaiveDate = "2026-11-29".parse().unwrap();
        let days = sample_days(last, WEEK_DAYS);
        let week = week(&days, last);
        for row in &week.rows {
            assert!(row.mean.is_some(), "{row:?}");
            assert_eq!(row.previous, None);
            assert_eq!(row.change(), None);
        }
    }
}

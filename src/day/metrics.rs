//! The numbers a day can be watched by: each a field of the day summary, named as the
//! config names it, and the arithmetic over days (means over the days with data, and
//! their spread).

use std::fmt;

use serde::Deserialize;

use crate::day::DaySummary;

/// A numeric field of the day summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Steps,
    DistanceKm,
    SleepHours,
    /// Fairly plus very active minutes: what Fitbit calls active minutes.
    ActiveMinutes,
    RestingHeartRate,
    CaloriesOut,
    SedentaryMinutes,
    WaterMl,
    WeightKg,
    BodyFatPercent,
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::Steps,
        Metric::DistanceKm,
        Metric::SleepHours,
        Metric::ActiveMinutes,
        Metric::RestingHeartRate,
        Metric::CaloriesOut,
        Metric::SedentaryMinutes,
        Metric::WaterMl,
        Metric::WeightKg,
        Metric::BodyFatPercent,
    ];

    /// The name the config and `trends` use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Steps => "steps",
            Metric::DistanceKm => "distance_km",
            Metric::SleepHours => "sleep_hours",
            Metric::ActiveMinutes => "active_minutes",
            Metric::RestingHeartRate => "resting_heart_rate",
            Metric::CaloriesOut => "calories_out",
            Metric::SedentaryMinutes => "sedentary_minutes",
            Metric::WaterMl => "water_ml",
            Metric::WeightKg => "weight_kg",
            Metric::BodyFatPercent => "body_fat_percent",
        }
    }

    /// The day's value, `None` when it was not recorded.
    pub fn of(self, day: &DaySummary) -> Option<f64> {
        let a = &day.activity;
        let int = |v: Option<i64>| v.map(|v| v as f64);
        match self {
            Metric::Steps => int(a.steps),
            Metric::DistanceKm => a.distance_km,
            Metric::SleepHours => day
                .sleep
                .as_ref()
                .and_then(|s| s.minutes_asleep)
                .map(|m| m as f64 / 60.0),
            Metric::ActiveMinutes => match (a.fairly_active_minutes, a.very_active_minutes) {
                (None, None) => None,
                (fairly, very) => Some((fairly.unwrap_or(0) + very.unwrap_or(0)) as f64),
            },
            Metric::RestingHeartRate => int(day.resting_heart_rate_bpm),
            Metric::CaloriesOut => a.calories_out_kcal,
            Metric::SedentaryMinutes => int(a.sedentary_minutes),
            Metric::WaterMl => day.water_ml,
            Metric::WeightKg => day.weight_kg,
            Metric::BodyFatPercent => day.body_fat_percent,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a metric did over some days: the mean over the days that have a value, and
/// how many did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mean {
    pub value: f64,
    pub days_with_data: usize,
}

/// The mean of `metric` over `days`, `None` when no day has a value.
pub fn mean(metric: Metric, days: &[&DaySummary]) -> Option<Mean> {
    let values: Vec<f64> = days.iter().filter_map(|d| metric.of(d)).collect();
    (!values.is_empty()).then(|| Mean {
        value: values.iter().sum::<f64>() / values.len() as f64,
        days_with_data: values.len(),
    })
}

/// A metric's usual range over a baseline of days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    /// The sample standard deviation (0 with a single value).
    pub sd: f64,
    pub min: f64,
    pub max: f64,
    pub days_with_data: usize,
}

/// The spread of `metric` over `days`, `None` when no day has a value.
pub fn spread(metric: Metric, days: &[DaySummary]) -> Option<Spread> {
    let values: Vec<f64> = days.iter().filter_map(|d| metric.of(d)).collect();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(Spread {
        mean,
        sd,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        days_with_data: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::demo::sample_day;

    #[test]
    fn a_spread_is_the_mean_and_sample_deviation_of_the_days_with_data() {
        let mut days = Vec::new();
        for steps in [Some(4000), None, Some(6000), Some(8000)] {
            let mut day = sample_day();
            day.activity.steps = steps;
            days.push(day);
        }
        let steps = spread(Metric::Steps, &days).unwrap();
        assert_eq!(steps.mean, 6000.0);
        assert_eq!(steps.sd, 2000.0);
        assert_eq!(
            (steps.min, steps.max, steps.days_with_data),
            (4000.0, 8000.0, 3)
        );
        assert_eq!(spread(Metric::WaterMl, &[]), None);
    }

    #[test]
    fn active_minutes_are_fairly_plus_very_and_absent_only_when_both_are() {
        let mut day = sample_day();
        day.activity.fairly_active_minutes = Some(4);
        day.activity.very_active_minutes = None;
        assert_eq!(Metric::ActiveMinutes.of(&day), Some(4.0));
        day.activity.fairly_active_minutes = None;
        assert_eq!(Metric::ActiveMinutes.of(&day), None);
    }
}

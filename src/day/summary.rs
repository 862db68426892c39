//! The provider-neutral day summary: what every provider produces and every message
//! is rendered from. `None` means "no data", which is never the same as zero.
//!
//! Providers fill it with what the service reported, in wide types that can hold a
//! nonsensical value (a negative step count, 10^12 steps); [`DaySummary::sanitize`] is
//! the one place that decides which values are physically possible.

use std::fmt::Display;
use std::ops::RangeInclusive;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

/// One civil day of one account, in the account's time zone. Serialized as the
/// `fetch --json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySummary {
    pub date: NaiveDate,
    /// IANA name of the zone the day and the local times are in.
    pub timezone: String,
    pub provider: String,
    pub activity: Activity,
    /// The main sleep that ended on `date`.
    pub sleep: Option<Sleep>,
    pub water_ml: Option<f64>,
    pub weight_kg: Option<f64>,
    pub body_fat_percent: Option<f64>,
    pub resting_heart_rate_bpm: Option<i64>,
    pub device: Option<Device>,
}

impl DaySummary {
    /// Whether the tracker uploaded data from after the end of `date` (local time), so
    /// the day's totals are final; `None` when no sync time is known.
    pub fn synced_past_day_end(&self) -> Option<bool> {
        let last_sync = self.device.as_ref()?.last_sync?;
        let day_end = (self.date + Days::new(1)).and_time(NaiveTime::MIN);
        Some(last_sync >= day_end)
    }

    /// The last sync time for a message, or "never" when unknown.
    pub fn last_sync_text(&self) -> String {
        self.device.as_ref().and_then(|d| d.last_sync).map_or_else(
            || "never".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    }
}

/// What one day can physically hold, generously: a value outside is a provider error,
/// never a record, and is dropped rather than posted.
const STEPS: RangeInclusive<i64> = 0..=500_000; // about 6 steps a second for 24 hours
const MINUTES_IN_A_DAY: RangeInclusive<i64> = 0..=1440;
const DISTANCE_KM: RangeInclusive<f64> = 0.0..=1000.0;
const KCAL: RangeInclusive<f64> = 0.0..=20_000.0;
const WATER_ML: RangeInclusive<f64> = 0.0..=20_000.0;
const WEIGHT_KG: RangeInclusive<f64> = 1.0..=700.0;
const BODY_FAT_PERCENT: RangeInclusive<f64> = 1.0..=99.0;
const RESTING_HEART_RATE_BPM: RangeInclusive<i64> = 20..=250;
const BATTERY_PERCENT: RangeInclusive<i64> = 0..=100;

impl DaySummary {
    /// Drops every value outside its physical range, so that it reads "not recorded"
    /// instead of being posted, and returns one line per dropped value naming the field
    /// (as `fetch --json` names it) and the value.
    pub fn sanitize(&mut self) -> Vec<String> {
        let mut check = Checker::default();
        let a = &mut self.activity;
        check.range("activity.steps", &mut a.steps, STEPS);
        check.range("activity.distance_km", &mut a.distance_km, DISTANCE_KM);
        check.range("activity.calories_out_kcal", &mut a.calories_out_kcal, KCAL);
        check.range("activity.calories_bmr_kcal", &mut a.calories_bmr_kcal, KCAL);
        check.range(
            "activity.activity_calories_kcal",
            &mut a.activity_calories_kcal,
            KCAL,
        );
        for (field, minutes) in [
            ("activity.sedentary_minutes", &mut a.sedentary_minutes),
            (
                "activity.lightly_active_minutes",
                &mut a.lightly_active_minutes,
            ),
            (
                "activity.fairly_active_minutes",
                &mut a.fairly_active_minutes,
            ),
            ("activity.very_active_minutes", &mut a.very_active_minutes),
        ] {
            check.range(field, minutes, MINUTES_IN_A_DAY);
        }
        if let Some(sleep) = &mut self.sleep {
            let st = &mut sleep.stages;
            for (field, minutes) in [
                ("sleep.minutes_asleep", &mut sleep.minutes_asleep),
                ("sleep.minutes_in_bed", &mut sleep.minutes_in_bed),
                ("sleep.stages.deep", &mut st.deep),
                ("sleep.stages.light", &mut st.light),
                ("sleep.stages.rem", &mut st.rem),
                ("sleep.stages.wake", &mut st.wake),
            ] {
                check.range(field, minutes, MINUTES_IN_A_DAY);
            }
        }
        check.range("water_ml", &mut self.water_ml, WATER_ML);
        check.range("weight_kg", &mut self.weight_kg, WEIGHT_KG);
        check.range(
            "body_fat_percent",
            &mut self.body_fat_percent,
            BODY_FAT_PERCENT,
        );
        check.range(
            "resting_heart_rate_bpm",
            &mut self.resting_heart_rate_bpm,
            RESTING_HEART_RATE_BPM,
        );
        if let Some(device) = &mut self.device {
            check.range(
                "device.battery_percent",
                &mut device.battery_percent,
                BATTERY_PERCENT,
            );
        }
        check
            .dropped
            .into_iter()
            .map(|what| {
                format!(
                    "{} reported {what} for {}; it is treated as not recorded",
                    self.provider, self.date
                )
            })
            .collect()
    }
}

#[derive(Default)]
struct Checker {
    dropped: Vec<String>,
}

impl Checker {
    fn range<T: PartialOrd + Display>(
        &mut self,
        field: &str,
        value: &mut Option<T>,
        possible: RangeInclusive<T>,
    ) {
        if let Some(v) = value.as_ref().filter(|v| !possible.contains(v)) {
            self.dropped.push(format!(
                "{field} = {v}, which is impossible (expected {} to {})",
                possible.start(),
                possible.end()
            ));
            *value = None;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    pub steps: Option<i64>,
    pub distance_km: Option<f64>,
    pub calories_out_kcal: Option<f64>,
    pub calories_bmr_kcal: Option<f64>,
    pub activity_calories_kcal: Option<f64>,
    pub sedentary_minutes: Option<i64>,
    pub lightly_active_minutes: Option<i64>,
    pub fairly_active_minutes: Option<i64>,
    pub very_active_minutes: Option<i64>,
}

impl Activity {
    /// True when not a single activity value was recorded (the tracker was off-wrist
    /// or has not synced): such a day has nothing to post.
    pub fn is_empty(&self) -> bool {
        *self == Activity::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sleep {
    pub minutes_asleep: Option<i64>,
    pub minutes_in_bed: Option<i64>,
    /// Local date-times in the account's zone.
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    pub stages: Stages,
}

/// Minutes per sleep stage; all `None` for a classic (stageless) sleep log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stages {
    pub deep: Option<i64>,
    pub light: Option<i64>,
    pub rem: Option<i64>,
    pub wake: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub name: Option<String>,
    pub battery_percent: Option<i64>,
    /// Local date-time in the account's zone.
    pub last_sync: Option<NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_synced_at(last_sync: Option<&str>) -> DaySummary {
        let mut day = crate::day::demo::sample_day();
        day.date = "2026-11-25".parse().unwrap();
        day.device = last_sync.map(|t| Device {
            name: Some("Charge 6".into()),
            battery_percent: Some(80),
            last_sync: Some(t.parse().unwrap()),
        });
        day
    }

    #[test]
    fn a_day_is_complete_once_the_tracker_synced_after_its_local_midnight() {
        assert_eq!(
            day_synced_at(Some("2026-11-25T23:59:59")).synced_past_day_end(),
            Some(false)
        );
        assert_eq!(
            day_synced_at(Some("2026-11-26T00:00:00")).synced_past_day_end(),
            Some(true)
        );
        assert_eq!(
            day_synced_at(Some("2026-11-26T07:12:00")).last_sync_text(),
            "2026-11-26 07:12"
        );
        assert_eq!(day_synced_at(None).synced_past_day_end(), None);
        assert_eq!(day_synced_at(None).last_sync_text(), "never");
    }

    #[test]
    fn impossible_values_are_dropped_and_named_and_possible_ones_kept() {
        let mut day = crate::day::demo::sample_day();
        day.activity.steps = Some(-5);
        day.activity.distance_km = Some(-0.1);
        day.activity.very_active_minutes = Some(1441);
        day.activity.calories_out_kcal = Some(f64::NAN);
        let sleep = day.sleep.as_mut().unwrap();
        sleep.minutes_asleep = Some(2000);
        sleep.stages.rem = Some(-1);
        day.body_fat_percent = Some(100.0);
        day.resting_heart_rate_bpm = Some(0);
        day.device.as_mut().unwrap().battery_percent = Some(250);
        let notes = day.sanitize();

        let expected = crate::day::demo::sample_day();
        assert_eq!(day.activity.steps, None);
        assert_eq!(day.activity.distance_km, None);
        assert_eq!(day.activity.very_active_minutes, None);
        assert_eq!(day.activity.calories_out_kcal, None);
        assert_eq!(
            day.activity.sedentary_minutes,
            expected.activity.sedentary_minutes
        );
        let sleep = day.sleep.as_ref().unwrap();
        assert_eq!((sleep.minutes_asleep, sleep.stages.rem), (None, None));
        assert_eq!(sleep.stages.deep, Some(98));
        assert_eq!(day.body_fat_percent, None);
        assert_eq!(day.resting_heart_rate_bpm, None);
        assert_eq!(day.device.as_ref().unwrap().battery_percent, None);
        assert_eq!(day.weight_kg, expected.weight_kg);
        assert_eq!(notes.len(), 9, "{notes:#?}");
        assert!(
            notes.contains(
                &"demo reported activity.steps = -5, which is impossible (expected 0 to 500000) for 2021-05-23; it is treated as not recorded"
                    .to_string()
            ),
            "{notes:#?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("device.battery_percent = 250"))
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("sleep.minutes_asleep = 2000"))
        );
        assert!(notes.iter().all(|n| !n.contains('\n')));
    }

    #[test]
    fn a_possible_day_is_left_alone_including_its_extremes() {
        let mut day = crate::day::demo::sample_day();
        day.activity.steps = Some(0);
        day.activity.sedentary_minutes = Some(1440);
        day.device.as_mut().unwrap().battery_percent = Some(100);
        let before = day.clone();
        assert!(day.sanitize().is_empty());
        assert_eq!(day, before);
    }

    #[test]
    fn an_activity_with_a_true_zero_is_not_empty() {
        assert!(Activity::default().is_empty());
        let zero_steps = Activity {
            steps: Some(0),
            ..Activity::default()
        };
        assert!(!zero_steps.is_empty());
    }
}

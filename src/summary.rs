//! The provider-neutral day summary: what every provider produces and every message
//! is rendered from. `None` means "no data", which is never the same as zero.

use chrono::{NaiveDate, NaiveDateTime};
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
    pub resting_heart_rate_bpm: Option<u32>,
    pub device: Option<Device>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    pub steps: Option<u64>,
    pub distance_km: Option<f64>,
    pub calories_out_kcal: Option<f64>,
    pub calories_bmr_kcal: Option<f64>,
    pub activity_calories_kcal: Option<f64>,
    pub sedentary_minutes: Option<u32>,
    pub lightly_active_minutes: Option<u32>,
    pub fairly_active_minutes: Option<u32>,
    pub very_active_minutes: Option<u32>,
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
    pub minutes_asleep: Option<u32>,
    pub minutes_in_bed: Option<u32>,
    /// Local date-times in the account's zone.
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    pub stages: Stages,
}

/// Minutes per sleep stage; all `None` for a classic (stageless) sleep log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stages {
    pub deep: Option<u32>,
    pub light: Option<u32>,
    pub rem: Option<u32>,
    pub wake: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub name: Option<String>,
    pub battery_percent: Option<u8>,
    /// Local date-time in the account's zone.
    pub last_sync: Option<NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

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

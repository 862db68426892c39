//! The provider-neutral day summary: what every provider produces and every message
//! is rendered from. `None` means "no data", which is never the same as zero.

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
    pub resting_heart_rate_bpm: Option<u32>,
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

    fn day_synced_at(last_sync: Option<&str>) -> DaySummary {
        let mut day = crate::demo::sample_day();
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
    fn an_activity_with_a_true_zero_is_not_empty() {
        assert!(Activity::default().is_empty());
        let zero_steps = Activity {
            steps: Some(0),
            ..Activity::default()
        };
        assert!(!zero_steps.is_empty());
    }
}

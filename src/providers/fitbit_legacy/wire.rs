//! The bodies of Fitbit Web API answers and what they mean in the summary's terms:
//! the unit system an answer is in and its exact conversion to metric, the activity
//! summary, sleep logs and the main sleep, devices and the worn one, water, weight and
//! the profile.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use reqwest::header::CONTENT_LANGUAGE;
use serde::Deserialize;

use super::api::METRIC_LOCALE;
use crate::day::{Activity, Device, Sleep, Stages};
use crate::net::http::Reply;

/// Exact conversion factors (international mile, US fluid ounce, avoirdupois pound).
const KM_PER_MILE: f64 = 1.609344;
const ML_PER_FL_OZ: f64 = 29.5735295625;
const KG_PER_POUND: f64 = 0.45359237;
const POUNDS_PER_STONE: f64 = 14.0;

/// The unit system of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Units {
    Metric,
    /// Miles, pounds, fluid ounces.
    Us,
    /// Metric except weight, in stone.
    Uk,
}

impl Units {
    fn of_locale(locale: &str) -> Self {
        match locale
            .trim()
            .replace('-', "_")
            .to_ascii_lowercase()
            .as_str()
        {
            "en_us" => Units::Us,
            "en_gb" => Units::Uk,
            _ => Units::Metric,
        }
    }

    /// What the answer's `Content-Language` says it applied, else what was asked for.
    pub(super) fn of_reply(reply: &Reply) -> Self {
        let applied = reply
            .headers
            .get(CONTENT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .unwrap_or(METRIC_LOCALE);
        Units::of_locale(applied)
    }

    fn km(self, distance: f64) -> f64 {
        match self {
            Units::Us => distance * KM_PER_MILE,
            Units::Metric | Units::Uk => distance,
        }
    }

    pub(super) fn ml(self, volume: f64) -> f64 {
        match self {
            Units::Us => volume * ML_PER_FL_OZ,
            Units::Metric | Units::Uk => volume,
        }
    }

    pub(super) fn kg(self, weight: f64) -> f64 {
        match self {
            Units::Us => weight * KG_PER_POUND,
            Units::Uk => weight * POUNDS_PER_STONE * KG_PER_POUND,
            Units::Metric => weight,
        }
    }
}

/// A local time as Fitbit writes it (`2021-05-23T07:12:00.000`), to the second.
fn to_the_second(time: NaiveDateTime) -> NaiveDateTime {
    time.with_nanosecond(0).unwrap_or(time)
}

#[derive(Deserialize)]
pub(super) struct ActivityDay {
    pub(super) summary: Option<ActivitySummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActivitySummary {
    steps: Option<i64>,
    #[serde(default)]
    distances: Vec<ActivityDistance>,
    calories_out: Option<f64>,
    #[serde(rename = "caloriesBMR")]
    calories_bmr: Option<f64>,
    activity_calories: Option<f64>,
    sedentary_minutes: Option<i64>,
    lightly_active_minutes: Option<i64>,
    fairly_active_minutes: Option<i64>,
    very_active_minutes: Option<i64>,
    pub(super) resting_heart_rate: Option<i64>,
}

#[derive(Deserialize)]
struct ActivityDistance {
    activity: String,
    distance: Option<f64>,
}

impl ActivitySummary {
    pub(super) fn activity(&self, units: Units) -> Activity {
        Activity {
            steps: self.steps,
            distance_km: self
                .distances
                .iter()
                .find(|d| d.activity == "total")
                .and_then(|d| d.distance)
                .map(|d| units.km(d)),
            calories_out_kcal: self.calories_out,
            calories_bmr_kcal: self.calories_bmr,
            activity_calories_kcal: self.activity_calories,
            sedentary_minutes: self.sedentary_minutes,
            lightly_active_minutes: self.lightly_active_minutes,
            fairly_active_minutes: self.fairly_active_minutes,
            very_active_minutes: self.very_active_minutes,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct SleepDay {
    #[serde(default)]
    pub(super) sleep: Vec<SleepLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SleepLog {
    is_main_sleep: Option<bool>,
    minutes_asleep: Option<i64>,
    time_in_bed: Option<i64>,
    start_time: Option<NaiveDateTime>,
    end_time: Option<NaiveDateTime>,
    #[serde(rename = "type")]
    kind: Option<String>,
    levels: Option<SleepLevels>,
}

#[derive(Deserialize)]
struct SleepLevels {
    summary: Option<StageSummaries>,
}

#[derive(Deserialize)]
struct StageSummaries {
    deep: Option<StageSummary>,
    light: Option<StageSummary>,
    rem: Option<StageSummary>,
    wake: Option<StageSummary>,
}

#[derive(Deserialize)]
struct StageSummary {
    minutes: Option<i64>,
}

impl SleepLog {
    fn length(&self) -> TimeDelta {
        match (self.start_time, self.end_time) {
            (Some(start), Some(end)) => end - start,
            // an absurd value must not overflow; sanitize() reports it afterwards
            _ => TimeDelta::try_minutes(self.time_in_bed.unwrap_or(0)).unwrap_or(TimeDelta::MAX),
        }
    }

    pub(super) fn into_summary(self) -> Sleep {
        // a classic log's levels are asleep/restless/awake, which are not stages
        let stages = match (self.kind.as_deref(), self.levels.and_then(|l| l.summary)) {
            (Some("stages"), Some(s)) => {
                let minutes = |stage: Option<StageSummary>| stage.and_then(|s| s.minutes);
                Stages {
                    deep: minutes(s.deep),
                    light: minutes(s.light),
                    rem: minutes(s.rem),
                    wake: minutes(s.wake),
                }
            }
            _ => Stages::default(),
        };
        Sleep {
            minutes_asleep: self.minutes_asleep,
            minutes_in_bed: self.time_in_bed,
            start: self.start_time.map(to_the_second),
            end: self.end_time.map(to_the_second),
            stages,
        }
    }
}

/// The log Fitbit marks as the main sleep, else the longest.
pub(super) fn main_sleep(logs: Vec<SleepLog>) -> Option<SleepLog> {
    let marked = logs.iter().any(|l| l.is_main_sleep == Some(true));
    logs.into_iter()
        .filter(|l| !marked || l.is_main_sleep == Some(true))
        .max_by_key(SleepLog::length)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FitbitDevice {
    device_version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    battery_level: Option<i64>,
    last_sync_time: Option<NaiveDateTime>,
}

/// Of the paired devices, the one worn. A scale (type SCALE) may be paired too: the
/// tracker synced last is the one worn, and a scale is reported only when there is no
/// tracker.
pub(super) fn worn_device(devices: Vec<FitbitDevice>) -> Option<Device> {
    devices
        .into_iter()
        .max_by_key(|d| (d.kind.as_deref() == Some("TRACKER"), d.last_sync_time))
        .map(|d| Device {
            name: d.device_version.or(d.kind),
            battery_percent: d.battery_level,
            last_sync: d.last_sync_time.map(to_the_second),
        })
}

#[derive(Deserialize)]
pub(super) struct WaterDay {
    summary: Option<WaterSummary>,
    water: Option<Vec<WaterLog>>,
}

#[derive(Deserialize)]
struct WaterSummary {
    water: Option<f64>,
}

#[derive(Deserialize)]
struct WaterLog {
    amount: Option<f64>,
}

impl WaterDay {
    /// The day's total; a day without a single log has none (not zero).
    pub(super) fn total(&self) -> Option<f64> {
        if self.water.as_ref().is_some_and(Vec::is_empty) {
            return None;
        }
        self.summary.as_ref().and_then(|s| s.water).or_else(|| {
            let logs = self.water.as_ref()?;
            Some(logs.iter().filter_map(|l| l.amount).sum())
        })
    }
}

#[derive(Deserialize)]
pub(super) struct WeightDay {
    #[serde(default)]
    weight: Vec<WeightLog>,
}

#[derive(Deserialize)]
struct WeightLog {
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    weight: Option<f64>,
    fat: Option<f64>,
}

impl WeightDay {
    /// The day's last logged weight and last logged body fat.
    pub(super) fn last(mut self) -> (Option<f64>, Option<f64>) {
        self.weight
            .sort_by(|a, b| (&a.date, &a.time).cmp(&(&b.date, &b.time)));
        let last = |value: fn(&WeightLog) -> Option<f64>| self.weight.iter().rev().find_map(value);
        (last(|l| l.weight), last(|l| l.fat))
    }
}

#[derive(Deserialize)]
pub(super) struct ProfileBody {
    pub(super) user: ProfileUser,
}

#[derive(Deserialize)]
pub(super) struct ProfileUser {
    pub(super) timezone: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn units_are_what_content_language_says_else_metric() {
        assert_eq!(Units::of_reply(&Reply::fake(200, &[], "")), Units::Metric);
        for (header, units) in [
            ("en_US", Units::Us),
            ("en-US", Units::Us),
            ("en_GB", Units::Uk),
            ("en_AU", Units::Metric),
            ("ja_JP", Units::Metric),
            ("en-us, en", Units::Us),
        ] {
            let got = Units::of_reply(&Reply::fake(200, &[("content-language", header)], ""));
            assert_eq!(got, units, "{header}");
        }
    }

    #[test]
    fn conversions_use_the_exact_definitions() {
        assert_eq!(Units::Us.km(1.0), 1.609344);
        assert_eq!(Units::Us.ml(1.0), 29.5735295625);
        assert_eq!(Units::Us.kg(1.0), 0.45359237);
        assert_eq!(Units::Uk.kg(1.0), 6.35029318);
        assert_eq!(Units::Uk.km(5.0), 5.0);
        assert_eq!(Units::Metric.kg(62.4), 62.4);
        // exact factors need exactly parsed numbers (serde_json's float_roundtrip)
        let miles: f64 = serde_json::from_str("0.75363626392912").unwrap();
        assert_eq!(miles, 0.75363626392912);
        // the original tool's distance for 2021-05-23
        assert_eq!(format!("{:.3}", Units::Us.km(0.75363626392912)), "1.213");
    }

    fn log(start: &str, end: &str, asleep: i64, main: Option<bool>) -> SleepLog {
        serde_json::from_value(json!({
            "startTime": start, "endTime": end, "minutesAsleep": asleep,
            "isMainSleep": main, "type": "classic",
            "levels": {"summary": {"asleep": {"count": 1, "minutes": asleep}}}
        }))
        .unwrap()
    }

    #[test]
    fn the_marked_main_sleep_wins_else_the_longest_and_classic_logs_have_no_stages() {
        let nap = || {
            log(
                "2021-05-23T13:00:00.000",
                "2021-05-23T15:00:00.000",
                110,
                None,
            )
        };
        let night = || {
            log(
                "2021-05-22T23:00:00.000",
                "2021-05-23T06:00:00.000",
                400,
                None,
            )
        };
        assert_eq!(
            main_sleep(vec![nap(), night()]).unwrap().minutes_asleep,
            Some(400)
        );
        let marked_nap = log(
            "2021-05-23T13:00:00.000",
            "2021-05-23T15:00:00.000",
            110,
            Some(true),
        );
        let chosen = main_sleep(vec![marked_nap, night()]).unwrap();
        assert_eq!(chosen.minutes_asleep, Some(110));
        assert_eq!(chosen.into_summary().stages, Stages::default());
        assert!(main_sleep(vec![]).is_none());
    }

    #[test]
    fn water_without_a_log_is_no_data_and_the_last_weight_of_the_day_counts() {
        let water = |body| serde_json::from_value::<WaterDay>(body).unwrap().total();
        assert_eq!(water(json!({"summary": {"water": 0}, "water": []})), None);
        assert_eq!(
            water(json!({"summary": {"water": 1500}, "water": [{"amount": 1500}]})),
            Some(1500.0)
        );
        assert_eq!(
            water(json!({"water": [{"amount": 250}, {"amount": 500}]})),
            Some(750.0)
        );
        assert_eq!(water(json!({"summary": {"water": 300}})), Some(300.0));
        let weight: WeightDay = serde_json::from_value(json!({"weight": [
            {"date": "2021-05-23", "time": "21:00:00", "weight": 62.9},
            {"date": "2021-05-23", "time": "07:00:00", "weight": 62.4, "fat": 21.3},
        ]}))
        .unwrap();
        assert_eq!(weight.last(), (Some(62.9), Some(21.3)));
    }
}

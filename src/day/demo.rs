//! A built-in sample day: what `run --demo` shows without an account, and the day
//! templates are test-rendered against when the config is checked.
//!
//! The activity and sleep values are a real day's (2021-05-23) as the original tool
//! posted it; the optional values are plausible ones for the same person.

use chrono::{NaiveDate, NaiveDateTime};

use crate::day::{Activity, DaySummary, Device, Sleep, Stages};

pub fn sample_day() -> DaySummary {
    DaySummary {
        date: date(2021, 5, 23),
        timezone: "Asia/Tokyo".to_string(),
        provider: "demo".to_string(),
        activity: Activity {
            steps: Some(1781),
            distance_km: Some(1.21284),
            calories_out_kcal: Some(1988.0),
            calories_bmr_kcal: Some(1560.0),
            activity_calories_kcal: Some(428.0),
            sedentary_minutes: Some(551),
            lightly_active_minutes: Some(90),
            fairly_active_minutes: Some(4),
            very_active_minutes: Some(7),
        },
        sleep: Some(Sleep {
            minutes_asleep: Some(746),
            minutes_in_bed: Some(790),
            start: Some(local(2021, 5, 22, 22, 41)),
            end: Some(local(2021, 5, 23, 11, 51)),
            stages: Stages {
                deep: Some(98),
                light: Some(462),
                rem: Some(186),
                wake: Some(44),
            },
        }),
        water_ml: Some(1500.0),
        weight_kg: Some(62.4),
        body_fat_percent: Some(21.3),
        resting_heart_rate_bpm: Some(58),
        device: Some(Device {
            name: Some("Charge 4".to_string()),
            battery_percent: Some(80),
            last_sync: Some(local(2021, 5, 24, 7, 12)),
        }),
    }
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid sample date")
}

fn local(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    date(year, month, day)
        .and_hms_opt(hour, minute, 0)
        .expect("a valid sample time")
}

/// `count` plausible days ending on `last`, oldest first, varying from day to day in a
/// fixed pattern: the sample a week's and an alert's templates are test-rendered with.
pub fn sample_days(last: NaiveDate, count: u32) -> Vec<DaySummary> {
    (0..count)
        .map(|back| {
            let date = last - chrono::Days::new(u64::from(back));
            let wobble = i64::from(back % 5) - 2;
            let mut day = sample_day();
            day.date = date;
            day.activity.steps = Some(7000 + 900 * wobble);
            day.activity.distance_km = Some(5.0 + 0.6 * wobble as f64);
            day.activity.fairly_active_minutes = Some(15 + 3 * wobble);
            day.activity.very_active_minutes = Some(10 + 2 * wobble);
            if let Some(sleep) = day.sleep.as_mut() {
                sleep.minutes_asleep = Some(410 + 15 * wobble);
            }
            day.resting_heart_rate_bpm = Some(60 + wobble);
            day
        })
        .rev()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_sleep_is_consistent() {
        let day = sample_day();
        let sleep = day.sleep.unwrap();
        let stages = &sleep.stages;
        let asleep = stages.deep.unwrap() + stages.light.unwrap() + stages.rem.unwrap();
        assert_eq!(Some(asleep), sleep.minutes_asleep);
        assert_eq!(Some(asleep + stages.wake.unwrap()), sleep.minutes_in_bed);
        let in_bed = sleep.end.unwrap() - sleep.start.unwrap();
        assert_eq!(Some(in_bed.num_minutes()), sleep.minutes_in_bed);
    }

    #[test]
    fn the_sample_device_synced_after_the_day_ended() {
        let day = sample_day();
        let end_of_day = local(2021, 5, 24, 0, 0);
        assert!(day.device.unwrap().last_sync.unwrap() >= end_of_day);
    }
}

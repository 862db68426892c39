//! A range of days' fetch: the requests grouped by the part of the summary they feed
//! (activity, sleep, body, the worn device), each asking for the whole range at once,
//! and the assembly of their answers into one [`DaySummary`] a day. The groups are
//! joined, and each joins its own requests, so every request of the range goes out in
//! one concurrent round over the one client; one day is the range of one.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::api::{
    ACTIVE_ENERGY, ACTIVE_MINUTES, ACTIVITY_LEVEL, ACTIVITY_LEVEL_INTERVALS, BASAL_ENERGY,
    BODY_FAT, DAILY_PAGE_SIZE, DISTANCE, HYDRATION, Listing, MINUTE_PAGE_SIZE, RESTING_HEART_RATE,
    Rollup, SEDENTARY, SLEEP_PAGE_SIZE, SLEEP_SESSIONS, STEPS, TOTAL_CALORIES, WEIGHT, parse,
};
use super::auth::SETTINGS;
use super::dated::By;
use super::errors::api_error;
use super::wire::{
    ActiveMinutesRollup, ActivityLevelRollup, BodyFatRollup, DevicesPage, DistanceRollup,
    HydrationRollup, KcalRollup, Seconds, SedentaryRollup, StepsRollup, WeightRollup, first_bpm,
    level_durations, main_sleep, total_kcal, worn_device,
};
use super::{GoogleHealth, PROVIDER_NAME};
use crate::day::{Activity, DayRange, DaySummary, Device, Sleep};
use crate::error::Result;
use crate::net::oauth::is_granted;
use crate::store::credentials::OAuthCredentials;

/// Per data type, its value on each day that has one.
type Daily<T> = BTreeMap<NaiveDate, T>;

/// Every answer of one day, parsed, in the groups it was fetched in.
pub(super) struct Day {
    activity: ActivityAnswers,
    sleep: Option<Sleep>,
    body: BodyAnswers,
    device: Option<Device>,
}

/// The activity group: one field per data type, named after it.
struct ActivityAnswers {
    steps: Option<StepsRollup>,
    distance: Option<DistanceRollup>,
    total_calories: Option<KcalRollup>,
    active_energy: Option<KcalRollup>,
    activity_level: Option<ActivityLevelRollup>,
    sedentary: Option<SedentaryRollup>,
    active_minutes: Option<ActiveMinutesRollup>,
    /// The day's sum of the minutes' basal energy, merged across sources: there is no
    /// rollup of it.
    basal_energy: Option<f64>,
}

/// The body group: water, weight, body fat and resting heart rate.
struct BodyAnswers {
    hydration: Option<HydrationRollup>,
    weight: Option<WeightRollup>,
    body_fat: Option<BodyFatRollup>,
    resting_heart_rate: Option<i64>,
}

/// The activity group over a range.
struct ActivityDays {
    steps: Daily<StepsRollup>,
    distance: Daily<DistanceRollup>,
    total_calories: Daily<KcalRollup>,
    active_energy: Daily<KcalRollup>,
    activity_level: Daily<ActivityLevelRollup>,
    sedentary: Daily<SedentaryRollup>,
    active_minutes: Daily<ActiveMinutesRollup>,
    basal_energy: Daily<f64>,
}

/// The body group over a range.
struct BodyDays {
    hydration: Daily<HydrationRollup>,
    weight: Daily<WeightRollup>,
    body_fat: Daily<BodyFatRollup>,
    resting_heart_rate: Daily<i64>,
}

/// Every answer of a range, parsed, in the groups it was fetched in.
pub(super) struct Days {
    activity: ActivityDays,
    sleep: Daily<Sleep>,
    body: BodyDays,
    device: Option<Device>,
}

impl GoogleHealth {
    /// Every request of `range` (civil days in `tz`) at once.
    pub(super) async fn days(
        &self,
        creds: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<Days> {
        let (activity, sleep, body, device) = tokio::try_join!(
            self.activity(creds, range, tz),
            self.sleep(creds, range, tz),
            self.body(creds, range, tz),
            self.device(creds, tz),
        )?;
        Ok(Days {
            activity,
            sleep,
            body,
            device,
        })
    }

    async fn activity(
        &self,
        c: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<ActivityDays> {
        let (
            steps,
            distance,
            total_calories,
            active_energy,
            activity_level,
            sedentary,
            active_minutes,
            basal_energy,
        ) = tokio::try_join!(
            self.rollup(c, &STEPS, range),
            self.rollup(c, &DISTANCE, range),
            self.rollup(c, &TOTAL_CALORIES, range),
            self.rollup(c, &ACTIVE_ENERGY, range),
            self.activity_levels(c, range, tz),
            self.rollup(c, &SEDENTARY, range),
            self.rollup(c, &ACTIVE_MINUTES, range),
            self.basal_kcal(c, range, tz),
        )?;
        Ok(ActivityDays {
            steps,
            distance,
            total_calories,
            active_energy,
            activity_level,
            sedentary,
            active_minutes,
            basal_energy,
        })
    }

    async fn body(&self, c: &OAuthCredentials, range: DayRange, tz: Tz) -> Result<BodyDays> {
        let (hydration, weight, body_fat, resting_heart_rate) = tokio::try_join!(
            self.rollup(c, &HYDRATION, range),
            self.rollup(c, &WEIGHT, range),
            self.rollup(c, &BODY_FAT, range),
            self.resting_heart_rate(c, range, tz),
        )?;
        Ok(BodyDays {
            hydration,
            weight,
            body_fat,
            resting_heart_rate,
        })
    }

    /// Read through `:reconcile`: a phone or a second tracker writing basal energy too
    /// would double a sum over the raw points of `list`.
    async fn basal_kcal(
        &self,
        creds: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<Daily<f64>> {
        self.list_days(
            creds,
            &BASAL_ENERGY,
            ("interval.civil_start_time", By::Start),
            (range, minute_page_size(range)),
            (tz, Listing::Reconciled),
            |_, points| total_kcal(points),
        )
        .await
    }

    /// The activity-level rollup, which the discovery document offers and the docs'
    /// data-type table does not (list and reconcile only). Refused as an invalid
    /// argument, each day's reconciled intervals are summed instead, so the minutes are
    /// right whichever way Google answers.
    async fn activity_levels(
        &self,
        creds: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<Daily<ActivityLevelRollup>> {
        let why = match self.try_rollup(creds, &ACTIVITY_LEVEL, range).await? {
            Rollup::Offered(levels) => return Ok(levels),
            Rollup::NotOffered(why) => why,
        };
        log::info!(
            "Google offers no daily rollup of activity levels ({why}); summing the days' intervals"
        );
        self.list_days(
            creds,
            &ACTIVITY_LEVEL_INTERVALS,
            ("interval.civil_start_time", By::Start),
            (range, minute_page_size(range)),
            (tz, Listing::Reconciled),
            |_, points| level_durations(points),
        )
        .await
    }

    async fn sleep(
        &self,
        creds: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<Daily<Sleep>> {
        self.list_days(
            creds,
            &SLEEP_SESSIONS,
            ("interval.civil_end_time", By::End),
            (range, SLEEP_PAGE_SIZE),
            (tz, Listing::Raw),
            |day, sessions| {
                main_sleep(sessions)
                    .into_night(day)
                    .map(|night| night.into_summary(tz))
            },
        )
        .await
    }

    async fn resting_heart_rate(
        &self,
        creds: &OAuthCredentials,
        range: DayRange,
        tz: Tz,
    ) -> Result<Daily<i64>> {
        self.list_days(
            creds,
            &RESTING_HEART_RATE,
            ("date", By::Date),
            (range, DAILY_PAGE_SIZE),
            (tz, Listing::Raw),
            |_, points| first_bpm(points),
        )
        .await
    }

    async fn device(&self, creds: &OAuthCredentials, tz: Tz) -> Result<Option<Device>> {
        if !is_granted(creds, &SETTINGS) {
            return Ok(None);
        }
        let mut url = self.url("users/me/pairedDevices");
        url.query_pairs_mut().append_pair("pageSize", "100");
        let what = "paired devices";
        let reply = self
            .send(&creds.access_token, || self.http.get(url.clone()))
            .await?;
        if !reply.status.is_success() {
            return Err(api_error(&reply, what, &SETTINGS));
        }
        let page: DevicesPage = parse(&reply, what)?;
        Ok(worn_device(page, tz))
    }
}

/// A page of minute-level data holds a day of minutes: a range asks for as many days a
/// page, up to the largest page.
fn minute_page_size(range: DayRange) -> u32 {
    MINUTE_PAGE_SIZE
        .saturating_mul(range.len())
        .min(MAX_PAGE_SIZE)
}

/// The largest minute-level page asked for: three days of minutes, about 3 MB of whole
/// points, still under `MAX_BODY_BYTES`; a longer range pages.
const MAX_PAGE_SIZE: u32 = 3 * MINUTE_PAGE_SIZE;

impl Days {
    /// One summary a day of `range`, oldest first; a day without an answer has `None`s.
    pub(super) fn into_summaries(mut self, range: DayRange, tz: Tz) -> Vec<DaySummary> {
        range
            .days()
            .map(|date| {
                let a = &mut self.activity;
                let b = &mut self.body;
                Day {
                    activity: ActivityAnswers {
                        steps: a.steps.remove(&date),
                        distance: a.distance.remove(&date),
                        total_calories: a.total_calories.remove(&date),
                        active_energy: a.active_energy.remove(&date),
                        activity_level: a.activity_level.remove(&date),
                        sedentary: a.sedentary.remove(&date),
                        active_minutes: a.active_minutes.remove(&date),
                        basal_energy: a.basal_energy.remove(&date),
                    },
                    sleep: self.sleep.remove(&date),
                    body: BodyAnswers {
                        hydration: b.hydration.remove(&date),
                        weight: b.weight.remove(&date),
                        body_fat: b.body_fat.remove(&date),
                        resting_heart_rate: b.resting_heart_rate.remove(&date),
                    },
                    device: self.device.clone(),
                }
                .into_summary(date, tz)
            })
            .collect()
    }
}

impl ActivityAnswers {
    fn into_activity(self) -> Activity {
        let levels = self.activity_level.as_ref();
        let active_minutes = self.active_minutes.as_ref();
        let level = |kind: &str| levels.and_then(|l| l.minutes(kind));
        let active_level = |kind: &str| active_minutes.and_then(|a| a.minutes(kind));
        let sedentary = self.sedentary.and_then(|s| s.duration_sum);
        Activity {
            steps: self.steps.and_then(|s| s.count_sum).map(|c| c.0),
            distance_km: self
                .distance
                .and_then(|d| d.millimeters_sum)
                .map(|mm| mm.0 as f64 / 1_000_000.0),
            calories_out_kcal: self.total_calories.and_then(|t| t.kcal_sum).map(|k| k.0),
            calories_bmr_kcal: self.basal_energy,
            activity_calories_kcal: self.active_energy.and_then(|a| a.kcal_sum).map(|k| k.0),
            sedentary_minutes: level("SEDENTARY").or_else(|| sedentary.map(Seconds::minutes)),
            lightly_active_minutes: level("LIGHTLY_ACTIVE").or_else(|| active_level("LIGHT")),
            fairly_active_minutes: level("MODERATELY_ACTIVE").or_else(|| active_level("MODERATE")),
            very_active_minutes: level("VERY_ACTIVE").or_else(|| active_level("VIGOROUS")),
        }
    }
}

impl Day {
    pub(super) fn into_summary(self, date: NaiveDate, tz: Tz) -> DaySummary {
        let body = self.body;
        DaySummary {
            date,
            timezone: tz.name().to_string(),
            provider: PROVIDER_NAME.to_string(),
            activity: self.activity.into_activity(),
            sleep: self.sleep,
            water_ml: body
                .hydration
                .and_then(|w| w.amount_consumed)
                .and_then(|a| a.milliliters_sum)
                .map(|ml| ml.0),
            weight_kg: body
                .weight
                .and_then(|w| w.weight_grams_avg)
                .map(|g| g.0 / 1000.0),
            body_fat_percent: body
                .body_fat
                .and_then(|b| b.body_fat_percentage_avg)
                .map(|p| p.0),
            resting_heart_rate_bpm: body.resting_heart_rate,
            device: self.device,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::{America, Asia, Pacific};
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use super::*;
    use crate::arbitrary::body_like;
    use crate::providers::google_health::api::{DataType, page_values, rollup_values};
    use crate::providers::google_health::arbitrary_answers::{answer, fixture};
    use crate::providers::google_health::wire::{Listed, SettingsBody};

    fn rollup_like<T>(data: &DataType<T>, value: Value) -> BoxedStrategy<Vec<u8>> {
        body_like(json!({"rollupDataPoints": [{
            "civilStartTime": {"date": {"year": 2026, "month": 11, "day": 25}},
            data.key: value,
        }]}))
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            Tz::UTC,
            Pacific::Kiritimati,
            Pacific::Pago_Pago,
            Asia::Tokyo,
            America::St_Johns,
        ])
    }

    fn rollup<T: DeserializeOwned>(body: &[u8], data: &DataType<T>) -> Option<T> {
        rollup_values(&answer(200, body.to_vec()), data)
            .ok()
            .and_then(|values| values.into_iter().next())
            .map(|(_, value)| value)
    }

    fn list<T: Listed>(body: &[u8], data: &DataType<T>) -> Vec<T> {
        page_values(&answer(200, body.to_vec()), data, By::Start, Tz::UTC)
            .map(|(values, _)| values.into_iter().map(|(_, value)| value).collect())
            .unwrap_or_default()
    }

    fn day_of_answers() -> impl Strategy<Value = Vec<Vec<u8>>> {
        let levels = json!({"activityLevelRollupsByActivityLevelType": [
            {"activityLevelType": "SEDENTARY", "totalDuration": "43200s"}]});
        let active = json!({"activeMinutesRollupByActivityLevel": [
            {"activityLevel": "LIGHT", "activeMinutesSum": "180"}]});
        vec![
            rollup_like(&STEPS, json!({"countSum": "9876"})),
            rollup_like(&DISTANCE, json!({"millimetersSum": "7123400"})),
            rollup_like(&TOTAL_CALORIES, json!({"kcalSum": 2142.5})),
            rollup_like(&ACTIVE_ENERGY, json!({"kcalSum": 512.0})),
            rollup_like(&ACTIVITY_LEVEL, levels),
            rollup_like(&SEDENTARY, json!({"durationSum": "42000s"})),
            rollup_like(&ACTIVE_MINUTES, active),
            rollup_like(
                &HYDRATION,
                json!({"amountConsumed": {"millilitersSum": 1500.0}}),
            ),
            rollup_like(&WEIGHT, json!({"weightGramsAvg": 71234.5})),
            rollup_like(&BODY_FAT, json!({"bodyFatPercentageAvg": 22.5})),
            body_like(json!({"dataPoints": [{"basalEnergyBurned": {
                "interval": {"startTime": "2026-11-25T10:00:00Z"}, "kcal": 600.25}}],
                "nextPageToken": "page1"})),
            body_like(fixture("sleep_main.json")),
            body_like(fixture("resting_heart_rate.json")),
            body_like(fixture("paired_devices.json")),
            body_like(fixture("settings.json")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary answers through the same parsing and assembly the provider uses:
        /// mostly mutations of real examples, so that they reach the deep paths, and any
        /// JSON and any bytes.
        #[test]
        fn any_answers_make_a_summary_or_an_error_never_a_panic(
            b in day_of_answers(),
            tz in zone(),
        ) {
            let device = serde_json::from_slice::<DevicesPage>(&b[13])
                .ok()
                .and_then(|page| worn_device(page, tz));
            let fetched = Day {
                activity: ActivityAnswers {
                    steps: rollup(&b[0], &STEPS),
                    distance: rollup(&b[1], &DISTANCE),
                    total_calories: rollup(&b[2], &TOTAL_CALORIES),
                    active_energy: rollup(&b[3], &ACTIVE_ENERGY),
                    activity_level: rollup(&b[4], &ACTIVITY_LEVEL),
                    sedentary: rollup(&b[5], &SEDENTARY),
                    active_minutes: rollup(&b[6], &ACTIVE_MINUTES),
                    basal_energy: total_kcal(list(&b[10], &BASAL_ENERGY)),
                },
                sleep: main_sleep(list(&b[11], &SLEEP_SESSIONS))
                    .into_night("2026-11-25".parse().unwrap())
                    .map(|s| s.into_summary(tz)),
                body: BodyAnswers {
                    hydration: rollup(&b[7], &HYDRATION),
                    weight: rollup(&b[8], &WEIGHT),
                    body_fat: rollup(&b[9], &BODY_FAT),
                    resting_heart_rate: first_bpm(list(&b[12], &RESTING_HEART_RATE)),
                },
                device,
            };
            let mut day = fetched.into_summary("2026-11-25".parse().unwrap(), tz);
            for note in day.sanitize() {
                prop_assert!(!note.contains('\n'), "{note}");
            }
            prop_assert!(day.sanitize().is_empty(), "an impossible value survived: {day:?}");
            serde_json::to_string(&day).unwrap();
            if let Ok(settings) = serde_json::from_slice::<SettingsBody>(&b[14]) {
                let _ = settings.time_zone.unwrap_or_default().parse::<Tz>();
            }
        }
    }
}

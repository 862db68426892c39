//! A loopback Google Health API as the tests and the benchmark use it: one standard
//! day of data, stored authorizations, the token endpoint's answer.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::partial::Partial;

/// The day [`Day`] serves.
pub const DAY: &str = "2026-11-25";
pub const CLIENT_ID: &str = "123-abc.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-test-secret";
pub const REFRESH_TOKEN: &str = "1//refresh-token";
pub const OLD_TOKEN: &str = "ya29.old";
pub const NEW_TOKEN: &str = "ya29.new";

pub const ACTIVITY: &str =
    "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly";
pub const SLEEP: &str = "https://www.googleapis.com/auth/googlehealth.sleep.readonly";
pub const SETTINGS: &str = "https://www.googleapis.com/auth/googlehealth.settings.readonly";
pub const HEALTH_METRICS: &str =
    "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly";
pub const NUTRITION: &str = "https://www.googleapis.com/auth/googlehealth.nutrition.readonly";
pub const ALL_SCOPES: [&str; 5] = [ACTIVITY, SLEEP, SETTINGS, HEALTH_METRICS, NUTRITION];

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/google")
        .join(name)
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
}

pub fn credentials(
    access_token: &str,
    expires_at: DateTime<Utc>,
    authorized_at: DateTime<Utc>,
    scopes: &[&str],
) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        "[google]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\naccess_token = \"{access_token}\"\nrefresh_token = \"{REFRESH_TOKEN}\"\nexpires_at = \"{}\"\nauthorized_at = \"{}\"\nscopes = [{}]\n",
        expires_at.to_rfc3339(),
        authorized_at.to_rfc3339(),
        scopes.join(", ")
    )
}

/// An access token good for another hour.
pub fn valid_credentials() -> String {
    credentials(
        OLD_TOKEN,
        Utc::now() + TimeDelta::hours(1),
        Utc::now() - TimeDelta::days(1),
        &ALL_SCOPES,
    )
}

/// An access token that has expired, from an authorization `days` old.
pub fn expired_credentials(days: i64) -> String {
    credentials(
        OLD_TOKEN,
        Utc::now() - TimeDelta::minutes(1),
        Utc::now() - TimeDelta::days(days) - TimeDelta::hours(2),
        &ALL_SCOPES,
    )
}

pub fn token_body(access: &str, refresh: Option<&str>, scope: &str) -> ResponseTemplate {
    let mut body =
        json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer", "scope": scope});
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn civil(date: &str) -> Value {
    let parts: Vec<u32> = date.split('-').map(|p| p.parse().unwrap()).collect();
    json!({"date": {"year": parts[0], "month": parts[1], "day": parts[2]}})
}

pub fn day_filter(field: &str) -> String {
    format!("{field} >= \"2026-11-25\" AND {field} < \"2026-11-26\"")
}

/// One day as the mock serves it: per data type the rollup point's value fields (an
/// empty object for "no value"), and the list bodies.
pub struct Day {
    pub rollups: BTreeMap<&'static str, Value>,
    pub basal_pages: Vec<Value>,
    pub sleep: Value,
    pub resting_heart_rate: Value,
    pub devices: Value,
    pub delay: Duration,
}

impl Day {
    /// Every value present, from the reference's example bodies.
    pub fn standard() -> Self {
        let rollups = BTreeMap::from([
            ("steps", json!({"steps": {"countSum": "9876"}})),
            (
                "distance",
                json!({"distance": {"millimetersSum": "7123400"}}),
            ),
            (
                "total-calories",
                json!({"totalCalories": {"kcalSum": 2142.5}}),
            ),
            (
                "active-energy-burned",
                json!({"activeEnergyBurned": {"kcalSum": 512.0}}),
            ),
            (
                "activity-level",
                json!({"activityLevel": {"activityLevelRollupsByActivityLevelType": [
                    {"activityLevelType": "SEDENTARY", "totalDuration": "43200s"},
                    {"activityLevelType": "LIGHTLY_ACTIVE", "totalDuration": "12000s"},
                    {"activityLevelType": "MODERATELY_ACTIVE", "totalDuration": "1800s"},
                    {"activityLevelType": "VERY_ACTIVE", "totalDuration": "900s"}]}}),
            ),
            (
                "sedentary-period",
                json!({"sedentaryPeriod": {"durationSum": "42000s"}}),
            ),
            (
                "active-minutes",
                json!({"activeMinutes": {"activeMinutesRollupByActivityLevel": [
                    {"activityLevel": "LIGHT", "activeMinutesSum": "180"},
                    {"activityLevel": "MODERATE", "activeMinutesSum": "25"},
                    {"activityLevel": "VIGOROUS", "activeMinutesSum": "12"}]}}),
            ),
            (
                "hydration-log",
                json!({"hydrationLog": {"amountConsumed": {"millilitersSum": 1500.0, "userProvidedUnitLast": "MILLILITER"}}}),
            ),
            ("weight", json!({"weight": {"weightGramsAvg": 71234.5}})),
            (
                "body-fat",
                json!({"bodyFat": {"bodyFatPercentageAvg": 22.5}}),
            ),
        ]);
        Day {
            rollups,
            basal_pages: vec![
                basal_page(&[600.25, 500.5]),
                basal_page(&[400.0]),
                basal_page(&[60.0]),
            ],
            sleep: fixture("sleep_main.json"),
            resting_heart_rate: fixture("resting_heart_rate.json"),
            devices: fixture("paired_devices.json"),
            delay: Duration::ZERO,
        }
    }

    pub fn with_rollup(mut self, data_type: &'static str, value: Value) -> Self {
        self.rollups.insert(data_type, value);
        self
    }

    /// Serves this day to requests that carry `token`; every request is expected.
    pub async fn mount(self, server: &MockServer, token: &str) {
        let auth = format!("Bearer {token}");
        let range = json!({"range": {"start": civil("2026-11-25"), "end": civil("2026-11-26")}, "windowSizeDays": 1});
        for (data_type, value) in self.rollups {
            let mut point =
                json!({"civilStartTime": civil("2026-11-25"), "civilEndTime": civil("2026-11-26")});
            point
                .as_object_mut()
                .unwrap()
                .extend(value.as_object().unwrap().clone());
            Mock::given(method("POST"))
                .and(path(format!(
                    "/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"
                )))
                .and(header("authorization", auth.as_str()))
                .and(body_json(&range))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"rollupDataPoints": [point]}))
                        .set_delay(self.delay),
                )
                .mount(server)
                .await;
        }
        let pages = self.basal_pages.len();
        for (i, mut page) in self.basal_pages.into_iter().enumerate() {
            if i + 1 < pages {
                page["nextPageToken"] = json!(format!("page{}", i + 1));
            }
            let mock = list_mock(
                "basal-energy-burned",
                RECONCILE,
                &day_filter("basal_energy_burned.interval.civil_start_time"),
                "2000",
                &auth,
            );
            let mock = if i == 0 {
                mock.and(query_param_is_missing("pageToken"))
            } else {
                mock.and(query_param("pageToken", format!("page{i}")))
            };
            mock.respond_with(Partial::new(
                page,
                ResponseTemplate::new(200).set_delay(self.delay),
            ))
            .mount(server)
            .await;
        }
        for (data_type, filter, body, page_size) in [
            (
                "sleep",
                day_filter("sleep.interval.civil_end_time"),
                self.sleep,
                "25",
            ),
            (
                "daily-resting-heart-rate",
                day_filter("daily_resting_heart_rate.date"),
                self.resting_heart_rate,
                "200",
            ),
        ] {
            list_mock(data_type, LIST, &filter, page_size, &auth)
                .respond_with(Partial::new(
                    body,
                    ResponseTemplate::new(200).set_delay(self.delay),
                ))
                .mount(server)
                .await;
        }
        mount_devices(server, &auth, self.devices, self.delay).await;
    }
}

/// The paired devices `devices`, answered to `authorization` after `delay`.
pub async fn mount_devices(
    server: &MockServer,
    authorization: &str,
    devices: Value,
    delay: Duration,
) {
    Mock::given(method("GET"))
        .and(path("/v4/users/me/pairedDevices"))
        .and(header("authorization", authorization))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(devices)
                .set_delay(delay),
        )
        .mount(server)
        .await;
}

/// A page of `:reconcile`, whose items name themselves by `dataPointName` (discovery
/// document `health/v4`, `ReconciledDataPoint`; built from the schema, as no recorded
/// answer is public).
fn basal_page(kcals: &[f64]) -> Value {
    let points: Vec<Value> = kcals
        .iter()
        .enumerate()
        .map(|(i, k)| json!({"dataPointName": format!("users/me/dataTypes/basal-energy-burned/dataPoints/b{i}"),
            "basalEnergyBurned": {"interval": {"startTime": "2026-11-25T10:00:00Z", "endTime": "2026-11-25T10:01:00Z"}, "kcal": k}}))
        .collect();
    json!({"dataPoints": points})
}

/// A whole day of basal energy as a tracker records it: a point a minute, shaped like
/// the reference's list example (data source, UTC and civil times), `kcal` each, in
/// `pages` pages.
pub fn basal_minutes(kcal: f64, pages: usize) -> Vec<Value> {
    let midnight = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_time(NaiveTime::MIN);
    let civil_time = |t: NaiveDateTime| {
        json!({"date": {"year": t.year(), "month": t.month(), "day": t.day()},
               "time": {"hours": t.hour(), "minutes": t.minute()}})
    };
    // Europe/Berlin in November: civil time is UTC+1
    let utc = |t: NaiveDateTime| {
        (t - TimeDelta::hours(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let points: Vec<Value> = (0..1440)
        .map(|minute| {
            let start = midnight + TimeDelta::minutes(minute);
            let end = start + TimeDelta::minutes(1);
            json!({
                "dataPointName": format!("users/me/dataTypes/basal-energy-burned/dataPoints/m{minute}"),
                "dataSource": {"platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED",
                               "device": {"displayName": "Charge 6", "formFactor": "FITNESS_BAND", "manufacturer": "Google"}},
                "basalEnergyBurned": {
                    "interval": {
                        "startTime": utc(start), "startUtcOffset": "3600s",
                        "endTime": utc(end), "endUtcOffset": "3600s",
                        "civilStartTime": civil_time(start), "civilEndTime": civil_time(end)
                    },
                    "kcal": kcal
                }
            })
        })
        .collect();
    points
        .chunks(points.len().div_ceil(pages.max(1)))
        .map(|chunk| json!({"dataPoints": chunk}))
        .collect()
}

/// The raw points of every source.
pub const LIST: &str = "dataPoints";
/// The points merged across sources.
pub const RECONCILE: &str = "dataPoints:reconcile";

pub fn list_mock(
    data_type: &str,
    listing: &str,
    filter: &str,
    page_size: &str,
    auth: &str,
) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!(
            "/v4/users/me/dataTypes/{data_type}/{listing}"
        )))
        .and(query_param("filter", filter))
        .and(query_param("pageSize", page_size))
        .and(header("authorization", auth))
}

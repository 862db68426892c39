//! The Google Health API (v4) provider: Google OAuth 2.0, the account's settings, and
//! one civil day's totals from `dataPoints:dailyRollUp` plus list calls where no
//! rollup exists, all fetched concurrently over the one client.
//!
//! Values arrive in metric base units (mm, g, ml, kcal); int64 values as JSON strings
//! (numbers are accepted too); an absent value means "no data" and stays `None`. Values
//! are passed on as reported, however absurd: `DaySummary::sanitize` judges them.

use std::collections::HashMap;
use std::num::IntErrorKind;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use reqwest::{RequestBuilder, StatusCode};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use url::Url;

use crate::config::{Config, GoogleHealthConfig, HttpConfig, Paths};
use crate::day::{Activity, DaySummary, Device, Sleep, Stages};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::net::oauth::{ClientAuth, Scope, Service, Session, is_granted};
use crate::providers::{self, Provider};
use crate::secret::Secret;
use crate::store::credentials::{self, OAuthCredentials};

pub const PROVIDER_NAME: &str = "google-health";
pub const AUTH_COMMAND: &str = "fitbit-notifier auth google";
const API: &str = "the Google Health API";

pub const ACTIVITY: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
    name: "activity and fitness",
    provides: "steps, distance, calories and active/sedentary minutes",
};
pub const SLEEP: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
    name: "sleep",
    provides: "sleep",
};
pub const SETTINGS: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.settings.readonly",
    name: "settings",
    provides: "the account's time zone (set `timezone` in the config instead) and the device's name, battery and last sync",
};
pub const HEALTH_METRICS: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
    name: "health metrics and measurements",
    provides: "weight, body fat and resting heart rate",
};
pub const NUTRITION: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.nutrition.readonly",
    name: "nutrition",
    provides: "water",
};

/// Every scope `auth google` asks for.
pub const SCOPES: [&Scope; 5] = [&ACTIVITY, &SLEEP, &SETTINGS, &HEALTH_METRICS, &NUTRITION];

/// What Google needs besides the standard parameters to issue a refresh token every time.
pub const AUTHORIZE_PARAMS: &[(&str, &str)] = &[
    ("access_type", "offline"),
    ("prompt", "consent"),
    ("include_granted_scopes", "true"),
];

/// Google's OAuth endpoints as the shared OAuth code needs them.
pub fn service(config: &GoogleHealthConfig) -> Service {
    Service {
        name: "Google",
        auth_command: AUTH_COMMAND,
        token_url: config.token_url.clone(),
        client_auth: ClientAuth::InBody,
        slot: |creds| &mut creds.google,
        invalid_grant_hint: testing_mode_hint,
        shutdown: None,
    }
}

/// Refresh tokens of apps whose consent screen is in Testing status die 7 days after
/// consent: when the authorization is about that old, that is the likely cause.
fn testing_mode_hint(creds: &OAuthCredentials, now: DateTime<Utc>) -> Option<String> {
    let age = now - creds.authorized_at;
    (TimeDelta::days(6) <= age && age < TimeDelta::days(9)).then(|| {
        format!(
            "It was granted {} days ago: Google expires the refresh tokens of apps whose OAuth consent screen is in Testing status 7 days after consent. To stop this, publish the app (Google Cloud console > Google Auth Platform > Audience > Publish app, status In production), then run `{AUTH_COMMAND}` once more.",
            age.num_days()
        )
    })
}

/// One data type: its path segment (kebab-case), its JSON key (camelCase), its filter
/// prefix (snake_case), what it is called in messages and the scope it needs.
struct DataType {
    path: &'static str,
    key: &'static str,
    filter: &'static str,
    label: &'static str,
    scope: &'static Scope,
    /// False where only the discovery document, not the data-type table, lists a
    /// daily rollup: a refusal as an invalid argument then means "not offered", not a bug.
    rollup_documented: bool,
}

macro_rules! data_type {
    ($name:ident, $path:literal, $key:literal, $filter:literal, $label:literal, $scope:ident, $documented:literal) => {
        const $name: DataType = DataType {
            path: $path,
            key: $key,
            filter: $filter,
            label: $label,
            scope: &$scope,
            rollup_documented: $documented,
        };
    };
}

data_type!(STEPS, "steps", "steps", "steps", "steps", ACTIVITY, true);
data_type!(
    DISTANCE, "distance", "distance", "distance", "distance", ACTIVITY, true
);
data_type!(
    TOTAL_CALORIES,
    "total-calories",
    "totalCalories",
    "total_calories",
    "total calories",
    ACTIVITY,
    true
);
data_type!(
    ACTIVE_ENERGY,
    "active-energy-burned",
    "activeEnergyBurned",
    "active_energy_burned",
    "active calories",
    ACTIVITY,
    true
);
data_type!(
    BASAL_ENERGY,
    "basal-energy-burned",
    "basalEnergyBurned",
    "basal_energy_burned",
    "basal calories",
    ACTIVITY,
    false
);
data_type!(
    ACTIVITY_LEVEL,
    "activity-level",
    "activityLevel",
    "activity_level",
    "activity levels",
    ACTIVITY,
    false
);
data_type!(
    SEDENTARY,
    "sedentary-period",
    "sedentaryPeriod",
    "sedentary_period",
    "sedentary time",
    ACTIVITY,
    false
);
data_type!(
    ACTIVE_MINUTES,
    "active-minutes",
    "activeMinutes",
    "active_minutes",
    "active minutes",
    ACTIVITY,
    true
);
data_type!(
    HYDRATION,
    "hydration-log",
    "hydrationLog",
    "hydration_log",
    "water",
    NUTRITION,
    true
);
data_type!(
    WEIGHT,
    "weight",
    "weight",
    "weight",
    "weight",
    HEALTH_METRICS,
    false
);
data_type!(
    BODY_FAT,
    "body-fat",
    "bodyFat",
    "body_fat",
    "body fat",
    HEALTH_METRICS,
    true
);
data_type!(
    SLEEP_SESSIONS,
    "sleep",
    "sleep",
    "sleep",
    "sleep",
    SLEEP,
    true
);
data_type!(
    RESTING_HEART_RATE,
    "daily-resting-heart-rate",
    "dailyRestingHeartRate",
    "daily_resting_heart_rate",
    "resting heart rate",
    HEALTH_METRICS,
    true
);

/// A list that has not ended after this many pages is not a day's worth of data.
const MAX_PAGES: usize = 50;
/// The list page size for minute-level data. The API's default, 1440, is exactly one
/// day of minutes: a day that ends daylight saving time has 1500, and a full page may
/// come with a token for an empty one, each a request that must wait for the one before.
/// 2000 holds any day of one tracker, at about 1 MB, a quarter of `MAX_BODY_BYTES`.
const MINUTE_PAGE_SIZE: u32 = 2000;
/// The largest page the API allows for sleep.
const SLEEP_PAGE_SIZE: u32 = 25;

pub struct GoogleHealth {
    http: reqwest::Client,
    http_config: HttpConfig,
    api_base: Url,
    session: Session,
}

impl GoogleHealth {
    pub fn new(config: &Config, paths: &Paths, http: reqwest::Client) -> Self {
        let session = Session::new(
            service(&config.google_health),
            credentials::store(paths),
            http.clone(),
            config.http.clone(),
        );
        GoogleHealth {
            http,
            http_config: config.http.clone(),
            api_base: http::with_trailing_slash(config.google_health.api_base.clone()),
            session,
        }
    }

    fn url(&self, relative: &str) -> Url {
        self.api_base
            .join(relative)
            .expect("API paths are valid relative URLs")
    }

    /// Sends an authorized request. A 401 gets exactly one refresh (shared with every
    /// concurrent request that saw the same token rejected) and one retry.
    async fn send(&self, token: &Secret, build: impl Fn() -> RequestBuilder) -> Result<Reply> {
        let reply = self
            .session
            .send_authorized(token, async |token| self.send_with(token, &build).await)
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(Error::reauth(format!(
                "Google rejects even a freshly refreshed access token ({}); run `{AUTH_COMMAND}` to authorize again",
                error_message(&reply)
            )));
        }
        Ok(reply)
    }

    async fn send_with(
        &self,
        token: &Secret,
        build: &impl Fn() -> RequestBuilder,
    ) -> Result<Reply> {
        http::send(
            || build().bearer_auth(token.expose()),
            Retry::idempotent(&self.http_config),
        )
        .await
        .map_err(|err| err.into_error("Google Health API"))
    }

    /// `dataPoints:dailyRollUp` over the one civil day, and the value under the data
    /// type's key, which is absent when there is no data.
    async fn rollup<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType,
        date: NaiveDate,
    ) -> Result<Option<T>> {
        if !is_granted(creds, data.scope) {
            return Ok(None);
        }
        let url = self.url(&format!(
            "users/me/dataTypes/{}/dataPoints:dailyRollUp",
            data.path
        ));
        let body = rollup_body(date);
        let reply = self
            .send(&creds.access_token, || {
                self.http.post(url.clone()).json(&body)
            })
            .await?;
        if !reply.status.is_success() {
            if !data.rollup_documented && is_invalid_argument(&reply) {
                log::info!(
                    "Google offers no daily rollup of {} ({}); leaving it out",
                    data.label,
                    error_message(&reply)
                );
                return Ok(None);
            }
            return Err(api_error(&reply, data.label, data.scope));
        }
        rollup_value(&reply, data)
    }

    /// Every point of a list call, following `nextPageToken` to the end.
    async fn list_all<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType,
        filter: &str,
        page_size: u32,
    ) -> Result<Vec<T>> {
        let mut values = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&format!("users/me/dataTypes/{}/dataPoints", data.path));
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("filter", filter)
                    .append_pair("pageSize", &page_size.to_string());
                if let Some(token) = &page_token {
                    query.append_pair("pageToken", token);
                }
            }
            let reply = self
                .send(&creds.access_token, || self.http.get(url.clone()))
                .await?;
            if !reply.status.is_success() {
                return Err(api_error(&reply, data.label, data.scope));
            }
            let (page, next_page_token) = page_values(&reply, data)?;
            values.extend(page);
            match next_page_token {
                Some(next) => page_token = Some(next),
                None => return Ok(values),
            }
        }
        Err(Error::other(format!(
            "{API} sent more than {MAX_PAGES} pages of {}; this is not one day of data, report it with the output of -vv",
            data.label
        )))
    }

    /// A list call's points for one civil day, selected by `field` of the data type.
    async fn list_day<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType,
        field: &str,
        date: NaiveDate,
        page_size: u32,
    ) -> Result<Option<Vec<T>>> {
        if !is_granted(creds, data.scope) {
            return Ok(None);
        }
        let filter = day_filter(&format!("{}.{field}", data.filter), date);
        self.list_all(creds, data, &filter, page_size)
            .await
            .map(Some)
    }

    async fn basal_kcal(&self, creds: &OAuthCredentials, date: NaiveDate) -> Result<Option<f64>> {
        let points: Option<Vec<KcalPoint>> = self
            .list_day(
                creds,
                &BASAL_ENERGY,
                "interval.civil_start_time",
                date,
                MINUTE_PAGE_SIZE,
            )
            .await?;
        Ok(total_kcal(points.unwrap_or_default()))
    }

    async fn sleep(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
        tz: Tz,
    ) -> Result<Option<Sleep>> {
        let sessions: Option<Vec<SleepPoint>> = self
            .list_day(
                creds,
                &SLEEP_SESSIONS,
                "interval.civil_end_time",
                date,
                SLEEP_PAGE_SIZE,
            )
            .await?;
        Ok(main_sleep(sessions.unwrap_or_default()).map(|s| s.into_summary(tz)))
    }

    async fn resting_heart_rate(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
    ) -> Result<Option<i64>> {
        let points: Option<Vec<RestingHeartRatePoint>> = self
            .list_day(creds, &RESTING_HEART_RATE, "date", date, SLEEP_PAGE_SIZE)
            .await?;
        Ok(first_bpm(points.unwrap_or_default()))
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

impl Provider for GoogleHealth {
    async fn timezone(&self) -> Result<Tz> {
        let creds = self.session.current().await?;
        if !is_granted(&creds, &SETTINGS) {
            return Err(Error::reauth(format!(
                "the account's time zone needs the Google scope {} (\"{}\"), which was not granted; run `{AUTH_COMMAND}` again and tick it, or set `timezone` in the config",
                SETTINGS.id, SETTINGS.name
            )));
        }
        let what = "the account settings";
        let url = self.url("users/me/settings");
        let reply = self
            .send(&creds.access_token, || self.http.get(url.clone()))
            .await?;
        if !reply.status.is_success() {
            return Err(api_error(&reply, what, &SETTINGS));
        }
        let settings: SettingsBody = parse(&reply, what)?;
        providers::account_zone("Google", settings.time_zone)
    }

    async fn fetch_day(&self, date: NaiveDate, tz: Tz) -> Result<DaySummary> {
        let creds = self.session.current().await?;
        let c = &creds;
        let (
            steps,
            distance,
            total,
            active,
            levels,
            sedentary,
            active_minutes,
            water,
            weight,
            body_fat,
            basal,
            sleep,
            resting_heart_rate,
            device,
        ) = tokio::try_join!(
            self.rollup::<StepsRollup>(c, &STEPS, date),
            self.rollup::<DistanceRollup>(c, &DISTANCE, date),
            self.rollup::<KcalRollup>(c, &TOTAL_CALORIES, date),
            self.rollup::<KcalRollup>(c, &ACTIVE_ENERGY, date),
            self.rollup::<ActivityLevelRollup>(c, &ACTIVITY_LEVEL, date),
            self.rollup::<SedentaryRollup>(c, &SEDENTARY, date),
            self.rollup::<ActiveMinutesRollup>(c, &ACTIVE_MINUTES, date),
            self.rollup::<HydrationRollup>(c, &HYDRATION, date),
            self.rollup::<WeightRollup>(c, &WEIGHT, date),
            self.rollup::<BodyFatRollup>(c, &BODY_FAT, date),
            self.basal_kcal(c, date),
            self.sleep(c, date, tz),
            self.resting_heart_rate(c, date),
            self.device(c, tz),
        )?;
        Ok(Fetched {
            steps,
            distance,
            total,
            active,
            levels,
            sedentary,
            active_minutes,
            water,
            weight,
            body_fat,
            basal,
            sleep,
            resting_heart_rate,
            device,
        }
        .into_summary(date, tz))
    }

    async fn refresh(&self) -> Result<DateTime<Utc>> {
        Ok(self.session.refresh_now().await?.expires_at)
    }
}

/// Every answer of one day, parsed.
struct Fetched {
    steps: Option<StepsRollup>,
    distance: Option<DistanceRollup>,
    total: Option<KcalRollup>,
    active: Option<KcalRollup>,
    levels: Option<ActivityLevelRollup>,
    sedentary: Option<SedentaryRollup>,
    active_minutes: Option<ActiveMinutesRollup>,
    water: Option<HydrationRollup>,
    weight: Option<WeightRollup>,
    body_fat: Option<BodyFatRollup>,
    basal: Option<f64>,
    sleep: Option<Sleep>,
    resting_heart_rate: Option<i64>,
    device: Option<Device>,
}

impl Fetched {
    fn into_summary(self, date: NaiveDate, tz: Tz) -> DaySummary {
        let levels = self.levels.as_ref();
        let active_minutes = self.active_minutes.as_ref();
        let level = |kind: &str| levels.and_then(|l| l.minutes(kind));
        let active_level = |kind: &str| active_minutes.and_then(|a| a.minutes(kind));
        let sedentary = self.sedentary.and_then(|s| s.duration_sum);
        let activity = Activity {
            steps: self.steps.and_then(|s| s.count_sum).map(|c| c.0),
            distance_km: self
                .distance
                .and_then(|d| d.millimeters_sum)
                .map(|mm| mm.0 as f64 / 1_000_000.0),
            calories_out_kcal: self.total.and_then(|t| t.kcal_sum).map(|k| k.0),
            calories_bmr_kcal: self.basal,
            activity_calories_kcal: self.active.and_then(|a| a.kcal_sum).map(|k| k.0),
            sedentary_minutes: level("SEDENTARY").or_else(|| sedentary.map(Seconds::minutes)),
            lightly_active_minutes: level("LIGHTLY_ACTIVE").or_else(|| active_level("LIGHT")),
            fairly_active_minutes: level("MODERATELY_ACTIVE").or_else(|| active_level("MODERATE")),
            very_active_minutes: level("VERY_ACTIVE").or_else(|| active_level("VIGOROUS")),
        };
        DaySummary {
            date,
            timezone: tz.name().to_string(),
            provider: PROVIDER_NAME.to_string(),
            activity,
            sleep: self.sleep,
            water_ml: self
                .water
                .and_then(|w| w.amount_consumed)
                .and_then(|a| a.milliliters_sum)
                .map(|ml| ml.0),
            weight_kg: self
                .weight
                .and_then(|w| w.weight_grams_avg)
                .map(|g| g.0 / 1000.0),
            body_fat_percent: self
                .body_fat
                .and_then(|b| b.body_fat_percentage_avg)
                .map(|p| p.0),
            resting_heart_rate_bpm: self.resting_heart_rate,
            device: self.device,
        }
    }
}

/// `{range: {start: D, end: D+1}, windowSizeDays: 1}` with plain integers (a leading
/// zero is refused as an octal number).
fn rollup_body(date: NaiveDate) -> Value {
    json!({
        "range": {"start": civil_date(date), "end": civil_date(date + Days::new(1))},
        "windowSizeDays": 1,
    })
}

fn civil_date(date: NaiveDate) -> Value {
    json!({"date": {"year": date.year(), "month": date.month(), "day": date.day()}})
}

fn day_filter(field: &str, date: NaiveDate) -> String {
    let next = date + Days::new(1);
    format!("{field} >= \"{date}\" AND {field} < \"{next}\"")
}

/// An instant as a local date-time in the account's zone, to the second.
fn local(instant: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let local = instant.with_timezone(&tz).naive_local();
    local.with_nanosecond(0).unwrap_or(local)
}

/// The sum of the minutes' energy, `None` when no minute has a value.
fn total_kcal(points: Vec<KcalPoint>) -> Option<f64> {
    let kcals: Vec<f64> = points
        .into_iter()
        .filter_map(|p| p.kcal.map(|k| k.0))
        .collect();
    (!kcals.is_empty()).then(|| kcals.iter().sum())
}

fn first_bpm(points: Vec<RestingHeartRatePoint>) -> Option<i64> {
    points
        .into_iter()
        .find_map(|p| p.beats_per_minute)
        .map(|bpm| bpm.0)
}

/// Of the paired devices, the one synced last: a scale and a tracker may both be
/// paired, and the tracker is the one that syncs every day.
fn worn_device(page: DevicesPage, tz: Tz) -> Option<Device> {
    page.paired_devices
        .into_iter()
        .max_by_key(|d| d.last_sync_time)
        .map(|d| Device {
            name: d.device_version.or(d.device_type),
            battery_percent: d.battery_level.map(|b| b.0),
            last_sync: d.last_sync_time.map(|t| local(t, tz)),
        })
}

/// The value of a `dailyRollUp` answer: under the data type's key of its one point,
/// `None` when the point or the key is absent.
fn rollup_value<T: DeserializeOwned>(reply: &Reply, data: &DataType) -> Result<Option<T>> {
    let page: RollupPage = parse(reply, data.label)?;
    page.rollup_data_points
        .first()
        .and_then(|point| point.get(data.key))
        .map(|raw| value_of(raw, data.label))
        .transpose()
}

/// The values of one page of a list answer, and the token of the next page.
fn page_values<T: DeserializeOwned>(
    reply: &Reply,
    data: &DataType,
) -> Result<(Vec<T>, Option<String>)> {
    let page: ListPage = parse(reply, data.label)?;
    let values = page
        .data_points
        .iter()
        .filter_map(|point| point.get(data.key))
        .map(|raw| value_of(raw, data.label))
        .collect::<Result<_>>()?;
    Ok((values, page.next_page_token.filter(|t| !t.is_empty())))
}

fn parse<'a, T: Deserialize<'a>>(reply: &'a Reply, what: &str) -> Result<T> {
    http::parse_json(reply, API, what)
}

fn value_of<T: DeserializeOwned>(raw: &RawValue, what: &str) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|err| {
        Error::other(format!(
            "{API} sent an unexpected {what} value ({err}); report it with the output of -vv"
        ))
    })
}

// ---------------------------------------------------------------------------------
// Errors

/// The `google.rpc.Status` envelope.
#[derive(Deserialize)]
struct Envelope {
    error: Status,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    reason: Option<String>,
}

impl Status {
    fn has_reason(&self, reason: &str) -> bool {
        self.details
            .iter()
            .any(|d| d.reason.as_deref() == Some(reason))
            || self.status == reason
    }
}

/// The error envelope, its texts flattened to one line each for messages.
fn envelope(reply: &Reply) -> Option<Status> {
    let mut status = serde_json::from_slice::<Envelope>(&reply.body).ok()?.error;
    status.message = http::one_line(&status.message);
    status.status = http::one_line(&status.status);
    Some(status)
}

fn error_message(reply: &Reply) -> String {
    envelope(reply).map_or_else(|| reply.snippet(), |s| s.message)
}

fn is_invalid_argument(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST
        && envelope(reply).is_some_and(|s| s.status == "INVALID_ARGUMENT")
}

/// The error for a failed call for `what` (which needs `scope`), with what to do.
fn api_error(reply: &Reply, what: &str, scope: &Scope) -> Error {
    let code = reply.status.as_u16();
    let temporary = reply.status.is_server_error() || reply.status == StatusCode::TOO_MANY_REQUESTS;
    let Some(status) = envelope(reply) else {
        let text = format!(
            "{API} answered {code} for {what} with a body that is not its JSON error ({})",
            reply.snippet()
        );
        return if temporary {
            Error::try_later(format!("{text}; the next run will try again"))
        } else {
            Error::other(format!("{text}; check api_base in the config"))
        };
    };
    let message = &status.message;
    if status.has_reason("ACCOUNT_NOT_LINKED") || message.contains("UberMint") {
        return Error::reauth(format!(
            "Google says this Google account has no Google Health profile ({message}); open the Fitbit app, sign in there with this Google account (moving your Fitbit account to Google if the app offers it) and finish the setup, then run `{AUTH_COMMAND}` again"
        ));
    }
    if status.has_reason("ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
        return Error::reauth(format!(
            "Google refused {what}: the scope {} (\"{}\") was not granted; run `{AUTH_COMMAND}` again and tick it on the consent screen",
            scope.id, scope.name
        ));
    }
    if status.has_reason("RESOURCE_PERMISSION_DENIED") {
        return Error::reauth(format!(
            "Google denies access to {what} ({message}); remove fitbit-notifier's access at https://myaccount.google.com/connections and run `{AUTH_COMMAND}` again"
        ));
    }
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        return Error::try_later(format!(
            "{API} rate limit reached while reading {what} ({message}); the next run will try again"
        ));
    }
    if temporary {
        return Error::try_later(format!(
            "{API} failed on {what} ({code} {}: {message}); the next run will try again",
            status.status
        ));
    }
    Error::other(format!(
        "{API} refused {what} ({code} {}: {message}); check the Google Cloud project (API enabled, scopes) and report it if it persists",
        status.status
    ))
}

// ---------------------------------------------------------------------------------
// Response bodies

/// An int64, which proto3 JSON sends as a string (some servers send a number). Any
/// integer is taken, a negative one too; beyond the int64 range it saturates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Count(i64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(de)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => saturating_int(s.trim()),
            _ => None,
        }
        .map(Count)
        .ok_or_else(|| D::Error::custom("expected an integer or an integer string"))
    }
}

fn saturating_int(text: &str) -> Option<i64> {
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(err) => match err.kind() {
            IntErrorKind::PosOverflow => Some(i64::MAX),
            IntErrorKind::NegOverflow => Some(i64::MIN),
            _ => None,
        },
    }
}

/// A double, normally a JSON number (proto3 JSON also allows a string).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Real(f64);

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(de)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|f: &f64| f.is_finite())
        .map(Real)
        .ok_or_else(|| D::Error::custom("expected a number"))
    }
}

/// A protobuf Duration: `"43200s"`, `"3.5s"`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seconds(f64);

impl Seconds {
    fn minutes(self) -> i64 {
        // `as` saturates, so an absurd duration stays absurd rather than wrapping
        (self.0 / 60.0).round() as i64
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        text.strip_suffix('s')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|s| s.is_finite())
            .map(Seconds)
            .ok_or_else(|| {
                D::Error::custom(format!("expected a duration like \"60s\", got {text:?}"))
            })
    }
}

/// A data point with its fields left as text, so that only the one field the data type
/// is read by gets parsed: a day of minute-level points parsed into `Value` trees takes
/// over ten megabytes.
type Point<'a> = HashMap<String, &'a RawValue>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RollupPage<'a> {
    #[serde(default, borrow)]
    rollup_data_points: Vec<Point<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListPage<'a> {
    #[serde(default, borrow)]
    data_points: Vec<Point<'a>>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StepsRollup {
    count_sum: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DistanceRollup {
    millimeters_sum: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcalRollup {
    kcal_sum: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityLevelRollup {
    #[serde(default)]
    activity_level_rollups_by_activity_level_type: Vec<LevelDuration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LevelDuration {
    activity_level_type: String,
    total_duration: Option<Seconds>,
}

impl ActivityLevelRollup {
    fn minutes(&self, kind: &str) -> Option<i64> {
        self.activity_level_rollups_by_activity_level_type
            .iter()
            .find(|l| l.activity_level_type == kind)
            .and_then(|l| l.total_duration)
            .map(Seconds::minutes)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SedentaryRollup {
    duration_sum: Option<Seconds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActiveMinutesRollup {
    #[serde(default)]
    active_minutes_rollup_by_activity_level: Vec<LevelMinutes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LevelMinutes {
    activity_level: String,
    active_minutes_sum: Option<Count>,
}

impl ActiveMinutesRollup {
    fn minutes(&self, kind: &str) -> Option<i64> {
        self.active_minutes_rollup_by_activity_level
            .iter()
            .find(|l| l.activity_level == kind)
            .and_then(|l| l.active_minutes_sum)
            .map(|m| m.0)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HydrationRollup {
    amount_consumed: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Amount {
    milliliters_sum: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WeightRollup {
    weight_grams_avg: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyFatRollup {
    body_fat_percentage_avg: Option<Real>,
}

#[derive(Deserialize)]
struct KcalPoint {
    kcal: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestingHeartRatePoint {
    beats_per_minute: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepPoint {
    #[serde(default)]
    interval: Interval,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    metadata: SleepMetadata,
    #[serde(default)]
    summary: SleepSummary,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Interval {
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepMetadata {
    main_sleep: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepSummary {
    minutes_asleep: Option<Count>,
    minutes_in_sleep_period: Option<Count>,
    #[serde(default)]
    stages_summary: Vec<StageMinutes>,
}

#[derive(Deserialize)]
struct StageMinutes {
    #[serde(rename = "type")]
    kind: String,
    minutes: Option<Count>,
}

impl SleepPoint {
    /// How long the session lasted, for choosing the longest.
    fn length(&self) -> TimeDelta {
        match (self.interval.start_time, self.interval.end_time) {
            (Some(start), Some(end)) => end - start,
            _ => self
                .summary
                .minutes_in_sleep_period
                .map_or(TimeDelta::zero(), |m| {
                    TimeDelta::try_minutes(m.0).unwrap_or(if m.0 < 0 {
                        TimeDelta::MIN
                    } else {
                        TimeDelta::MAX
                    })
                }),
        }
    }

    fn stage(&self, kind: &str) -> Option<i64> {
        self.summary
            .stages_summary
            .iter()
            .find(|s| s.kind == kind)
            .and_then(|s| s.minutes)
            .map(|m| m.0)
    }

    fn into_summary(self, tz: Tz) -> Sleep {
        // a classic (stageless) log has ASLEEP/RESTLESS/AWAKE, which are not stages
        let stages = if self.kind.as_deref() == Some("CLASSIC") {
            Stages::default()
        } else {
            Stages {
                deep: self.stage("DEEP"),
                light: self.stage("LIGHT"),
                rem: self.stage("REM"),
                wake: self.stage("AWAKE"),
            }
        };
        Sleep {
            minutes_asleep: self.summary.minutes_asleep.map(|m| m.0),
            minutes_in_bed: self.summary.minutes_in_sleep_period.map(|m| m.0),
            start: self.interval.start_time.map(|t| local(t, tz)),
            end: self.interval.end_time.map(|t| local(t, tz)),
            stages,
        }
    }
}

/// The session Google marks as the main sleep, else the longest.
fn main_sleep(sessions: Vec<SleepPoint>) -> Option<SleepPoint> {
    let marked = sessions.iter().any(|s| s.metadata.main_sleep == Some(true));
    sessions
        .into_iter()
        .filter(|s| !marked || s.metadata.main_sleep == Some(true))
        .max_by_key(SleepPoint::length)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevicesPage {
    #[serde(default)]
    paired_devices: Vec<PairedDevice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PairedDevice {
    device_version: Option<String>,
    device_type: Option<String>,
    battery_level: Option<Count>,
    last_sync_time: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsBody {
    time_zone: Option<String>,
}

#[cfg(test)]
mod tests {

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn the_rollup_body_has_plain_integers_and_an_exclusive_end() {
        let body = rollup_body("2026-12-31".parse().unwrap());
        assert_eq!(
            body.to_string(),
            r#"{"range":{"end":{"date":{"day":1,"month":1,"year":2027}},"start":{"date":{"day":31,"month":12,"year":2026}}},"windowSizeDays":1}"#
        );
    }

    #[test]
    fn filters_cover_the_one_civil_day() {
        assert_eq!(
            day_filter(
                "sleep.interval.civil_end_time",
                "2026-02-28".parse().unwrap()
            ),
            r#"sleep.interval.civil_end_time >= "2026-02-28" AND sleep.interval.civil_end_time < "2026-03-01""#
        );
    }

    #[test]
    fn ints_come_as_strings_or_numbers_and_durations_as_seconds() {
        let steps: StepsRollup = serde_json::from_str(r#"{"countSum":"9876"}"#).unwrap();
        assert_eq!(steps.count_sum, Some(Count(9876)));
        let steps: StepsRollup = serde_json::from_str(r#"{"countSum":9876}"#).unwrap();
        assert_eq!(steps.count_sum, Some(Count(9876)));
        let negative: StepsRollup = serde_json::from_str(r#"{"countSum":"-1"}"#).unwrap();
        assert_eq!(negative.count_sum, Some(Count(-1)), "the summary judges it");
        let huge: StepsRollup =
            serde_json::from_str(r#"{"countSum":"99999999999999999999"}"#).unwrap();
        assert_eq!(huge.count_sum, Some(Count(i64::MAX)));
        let float: StepsRollup = serde_json::from_str(r#"{"countSum":1e12}"#).unwrap();
        assert_eq!(float.count_sum, Some(Count(1_000_000_000_000)));
        assert!(serde_json::from_str::<StepsRollup>(r#"{"countSum":"12.5"}"#).is_err());
        assert!(serde_json::from_str::<StepsRollup>(r#"{"countSum":"many"}"#).is_err());
        let sedentary: SedentaryRollup =
            serde_json::from_str(r#"{"durationSum":"43200s"}"#).unwrap();
        assert_eq!(sedentary.duration_sum.unwrap().minutes(), 720);
        let half: SedentaryRollup = serde_json::from_str(r#"{"durationSum":"89.5s"}"#).unwrap();
        assert_eq!(half.duration_sum.unwrap().minutes(), 1);
        assert!(serde_json::from_str::<SedentaryRollup>(r#"{"durationSum":"12m"}"#).is_err());
        let kcal: KcalRollup = serde_json::from_str(r#"{"kcalSum":"2142.5"}"#).unwrap();
        assert_eq!(kcal.kcal_sum, Some(Real(2142.5)));
    }

    fn session(start: &str, end: &str, main: Option<bool>) -> SleepPoint {
        serde_json::from_value(json!({
            "interval": {"startTime": start, "endTime": end},
            "metadata": main.map_or(json!({}), |m| json!({"mainSleep": m})),
        }))
        .unwrap()
    }

    #[test]
    fn the_marked_main_sleep_wins_else_the_longest() {
        let nap = || session("2026-11-25T13:00:00Z", "2026-11-25T14:30:00Z", None);
        let night = || session("2026-11-24T22:00:00Z", "2026-11-25T05:00:00Z", None);
        let chosen = main_sleep(vec![nap(), night()]).unwrap();
        assert_eq!(chosen.length(), TimeDelta::hours(7));
        let marked_nap = session("2026-11-25T13:00:00Z", "2026-11-25T14:30:00Z", Some(true));
        let chosen = main_sleep(vec![marked_nap, night()]).unwrap();
        assert_eq!(chosen.length(), TimeDelta::minutes(90));
        assert!(main_sleep(vec![]).is_none());
    }

    #[test]
    fn local_times_are_in_the_account_zone_to_the_second() {
        let t: DateTime<Utc> = "2026-11-25T06:12:00.750Z".parse().unwrap();
        assert_eq!(
            local(t, chrono_tz::Europe::Berlin).to_string(),
            "2026-11-25 07:12:00"
        );
        assert_eq!(
            local(t, chrono_tz::Asia::Tokyo).to_string(),
            "2026-11-25 15:12:00"
        );
    }

    #[test]
    fn the_testing_mode_hint_appears_only_around_seven_days() {
        let now = Utc::now();
        let creds = |days: i64| OAuthCredentials {
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            access_token: Secret::new("a"),
            refresh_token: Secret::new("r"),
            expires_at: now,
            authorized_at: now - TimeDelta::days(days) - TimeDelta::hours(1),
            scopes: vec![],
        };
        assert!(
            testing_mode_hint(&creds(7), now)
                .unwrap()
                .contains("Testing")
        );
        assert!(testing_mode_hint(&creds(2), now).is_none());
        assert!(testing_mode_hint(&creds(40), now).is_none());
    }

    #[test]
    fn unticked_scopes_are_named() {
        let granted: Vec<String> = [&ACTIVITY, &SLEEP, &SETTINGS]
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            crate::net::oauth::unticked(&SCOPES, &granted),
            vec![&HEALTH_METRICS, &NUTRITION]
        );
    }

    #[test]
    fn google_errors_map_to_exit_kinds() {
        use crate::error::Kind;
        let cases = [
            (
                400,
                r#"{"error":{"code":400,"message":"The account is not linked to Google Health.","status":"FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCOUNT_NOT_LINKED"}]}}"#,
                Kind::Reauth,
                "Fitbit app",
            ),
            (
                403,
                r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","status":"PERMISSION_DENIED","details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}"#,
                Kind::Reauth,
                NUTRITION.id,
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
                Kind::TryLater,
                "Quota exceeded",
            ),
            (
                503,
                r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#,
                Kind::TryLater,
                "unavailable",
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}"#,
                Kind::Other,
                "invalid argument",
            ),
            (
                502,
                "<html><body>Bad Gateway</body></html>",
                Kind::TryLater,
                "Bad Gateway",
            ),
            (
                404,
                "<html>\n<body>Not Found</body></html>",
                Kind::Other,
                "api_base",
            ),
        ];
        for (status, body, kind, needle) in cases {
            let err = api_error(&reply(status, body), "water", &NUTRITION);
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    /// Arbitrary answers through the same parsing and assembly the provider uses: mostly
    /// mutations of real examples, so that they reach the deep paths, and any JSON and
    /// any bytes.
    mod arbitrary_answers {
        use chrono_tz::{America, Asia, Pacific};
        use proptest::prelude::*;

        use super::*;
        use crate::arbitrary::body_like;

        fn rollup_like(data: &DataType, value: Value) -> BoxedStrategy<Vec<u8>> {
            body_like(json!({"rollupDataPoints": [{
                "civilStartTime": {"date": {"year": 2026, "month": 11, "day": 25}},
                data.key: value,
            }]}))
        }

        fn fixture(name: &str) -> Value {
            let path = format!(
                "{}/tests/fixtures/google/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

        fn answer(status: u16, body: Vec<u8>) -> Reply {
            Reply {
                body,
                ..Reply::fake(status, &[], "")
            }
        }

        fn rollup<T: DeserializeOwned>(body: &[u8], data: &DataType) -> Option<T> {
            rollup_value(&answer(200, body.to_vec()), data)
                .ok()
                .flatten()
        }

        fn list<T: DeserializeOwned>(body: &[u8], data: &DataType) -> Vec<T> {
            page_values(&answer(200, body.to_vec()), data)
                .map(|(values, _)| values)
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

            #[test]
            fn any_answers_make_a_summary_or_an_error_never_a_panic(
                b in day_of_answers(),
                tz in zone(),
            ) {
                let device = serde_json::from_slice::<DevicesPage>(&b[13])
                    .ok()
                    .and_then(|page| worn_device(page, tz));
                let fetched = Fetched {
                    steps: rollup(&b[0], &STEPS),
                    distance: rollup(&b[1], &DISTANCE),
                    total: rollup(&b[2], &TOTAL_CALORIES),
                    active: rollup(&b[3], &ACTIVE_ENERGY),
                    levels: rollup(&b[4], &ACTIVITY_LEVEL),
                    sedentary: rollup(&b[5], &SEDENTARY),
                    active_minutes: rollup(&b[6], &ACTIVE_MINUTES),
                    water: rollup(&b[7], &HYDRATION),
                    weight: rollup(&b[8], &WEIGHT),
                    body_fat: rollup(&b[9], &BODY_FAT),
                    basal: total_kcal(list(&b[10], &BASAL_ENERGY)),
                    sleep: main_sleep(list(&b[11], &SLEEP_SESSIONS)).map(|s| s.into_summary(tz)),
                    resting_heart_rate: first_bpm(list(&b[12], &RESTING_HEART_RATE)),
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

            #[test]
            fn any_error_answer_is_one_line(
                status in 100u16..600,
                body in prop_oneof![
                    body_like(fixture("account_not_linked.json")),
                    body_like(fixture("scope_insufficient.json")),
                ],
            ) {
                let reply = answer(status, body);
                let err = api_error(&reply, "steps", &ACTIVITY);
                prop_assert!(!err.to_string().contains('\n'), "{err}");
                prop_assert!(!error_message(&reply).contains('\n'));
                let _ = is_invalid_argument(&reply);
            }
        }
    }
}

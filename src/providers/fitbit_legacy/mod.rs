//! The legacy Fitbit Web API provider (`provider = "fitbit-legacy"`): Fitbit OAuth 2.0
//! (Basic client authentication, single-use refresh tokens), the profile's time zone,
//! and one day's activity summary, main sleep, devices, water and weight, fetched
//! concurrently over the one client.
//!
//! Google turned the Web API and its OAuth endpoints off on 2026-11-02. The provider
//! stays for Fitbit-compatible endpoints and archived setups, and so that legacy tokens
//! fail with the steps to switch instead of a mystery.
//!
//! Units depend on the request's `Accept-Language` alone: every request asks for metric
//! ones. An answer that says in `Content-Language` that it is in US or UK units anyway
//! (a proxy or a replay that ignores the header) is converted with exact factors.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, HeaderMap};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{Config, FitbitConfig, HttpConfig, Paths};
use crate::day::{Activity, DaySummary, Device, Sleep, Stages};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::net::oauth::{ClientAuth, ErrorList, Scope, Service, Session, Shutdown, is_granted};
use crate::providers::{self, Provider};
use crate::secret::Secret;
use crate::store::credentials::{self, OAuthCredentials};

pub const PROVIDER_NAME: &str = "fitbit-legacy";
pub const AUTH_COMMAND: &str = "fitbit-notifier auth fitbit";
const API: &str = "the Fitbit Web API";

/// When Google turned the Fitbit Web API and the Fitbit OAuth endpoints off.
const TURNED_OFF: &str = "2026-11-02T00:00:00Z";

/// Sent with every request: a locale whose unit system is metric (km, kg, ml); only
/// `en_US` (US) and `en_GB` (UK) select others.
pub const METRIC_LOCALE: &str = "en_AU";

/// Seconds until the hourly request budget resets.
const RATE_LIMIT_RESET: &str = "fitbit-rate-limit-reset";

/// Exact conversion factors (international mile, US fluid ounce, avoirdupois pound).
const KM_PER_MILE: f64 = 1.609344;
const ML_PER_FL_OZ: f64 = 29.5735295625;
const KG_PER_POUND: f64 = 0.45359237;
const POUNDS_PER_STONE: f64 = 14.0;

/// A Fitbit OAuth scope and what the summary loses without it.
pub const ACTIVITY: Scope = Scope {
    id: "activity",
    name: "activity",
    provides: "steps, distance, calories and active/sedentary minutes",
};
pub const HEARTRATE: Scope = Scope {
    id: "heartrate",
    name: "heartrate",
    provides: "resting heart rate",
};
pub const SLEEP: Scope = Scope {
    id: "sleep",
    name: "sleep",
    provides: "sleep",
};
pub const SETTINGS: Scope = Scope {
    id: "settings",
    name: "settings",
    provides: "the device's name, battery and last sync",
};
pub const NUTRITION: Scope = Scope {
    id: "nutrition",
    name: "nutrition",
    provides: "water",
};
pub const WEIGHT: Scope = Scope {
    id: "weight",
    name: "weight",
    provides: "weight and body fat",
};
pub const PROFILE: Scope = Scope {
    id: "profile",
    name: "profile",
    provides: "the account's time zone (set `timezone` in the config instead)",
};

/// Every scope `auth fitbit` asks for.
pub const SCOPES: [&Scope; 7] = [
    &ACTIVITY, &HEARTRATE, &SLEEP, &SETTINGS, &NUTRITION, &WEIGHT, &PROFILE,
];

/// The callback URL `auth fitbit` uses unless told otherwise: Fitbit requires the
/// registered one exactly, so it cannot be a random port.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8080/";

/// Fitbit's OAuth endpoints as the shared OAuth code needs them.
pub fn service(config: &FitbitConfig, config_path: &Path) -> Service {
    Service {
        name: "Fitbit",
        auth_command: AUTH_COMMAND,
        token_url: config.token_url.clone(),
        client_auth: ClientAuth::Basic,
        slot: |creds| &mut creds.fitbit,
        invalid_grant_hint: |_, _| {
            Some("Fitbit refresh tokens work only once: if another program or another copy of the credentials file refreshed it, only that copy holds the valid token.".to_string())
        },
        shutdown: Some(shutdown(&config.token_url, config_path)),
    }
}

/// The end of the real Fitbit Web API. A compatible endpoint elsewhere is gone only
/// when it says so (410).
fn shutdown(endpoint: &Url, config_path: &Path) -> Shutdown {
    let on_fitbit = endpoint
        .host_str()
        .is_some_and(|host| host == "fitbit.com" || host.ends_with(".fitbit.com"));
    Shutdown {
        since: if on_fitbit {
            TURNED_OFF.parse().expect("a valid built-in date")
        } else {
            DateTime::<Utc>::MAX_UTC
        },
        notice: format!(
            "the Fitbit Web API was turned off on 2026-11-02 and its tokens cannot be moved to Google; to switch to the Google Health API, set provider = \"google-health\" in {}, create the Google OAuth client (README \"Google Health setup\"), then run `{}`",
            config_path.display(),
            crate::providers::google_health::AUTH_COMMAND
        ),
    }
}

pub struct FitbitLegacy {
    http: reqwest::Client,
    http_config: HttpConfig,
    api_base: Url,
    session: Session,
    shutdown: Shutdown,
}

impl FitbitLegacy {
    pub fn new(config: &Config, paths: &Paths, http: reqwest::Client) -> Self {
        let session = Session::new(
            service(&config.fitbit, &paths.config),
            credentials::store(paths),
            http.clone(),
            config.http.clone(),
        );
        FitbitLegacy {
            http,
            http_config: config.http.clone(),
            api_base: http::with_trailing_slash(config.fitbit.api_base.clone()),
            session,
            shutdown: shutdown(&config.fitbit.api_base, &paths.config),
        }
    }

    /// GETs `relative` for `what` (which needs `scope`) and reads the answer, with one
    /// refresh and retry after a 401; returns the body and the units it is in.
    async fn get<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        relative: &str,
        what: &str,
        scope: &Scope,
    ) -> Result<(T, Units)> {
        let url = self
            .api_base
            .join(relative)
            .expect("API paths are valid relative URLs");
        let reply = self
            .session
            .send_authorized(&creds.access_token, async |token| {
                self.send_with(token, &url).await
            })
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(Error::reauth(format!(
                "Fitbit rejects even a freshly refreshed access token ({}); run `{AUTH_COMMAND}` to authorize again",
                error_message(&reply)
            )));
        }
        if !reply.status.is_success() {
            return Err(api_error(&reply, what, scope, Utc::now()));
        }
        Ok((
            http::parse_json(&reply, API, what)?,
            Units::of_reply(&reply),
        ))
    }

    async fn send_with(&self, token: &Secret, url: &Url) -> Result<Reply> {
        let retry = Retry {
            rate_limit_wait,
            ..Retry::idempotent(&self.http_config)
        };
        let outcome = http::send(
            || {
                self.http
                    .get(url.clone())
                    .bearer_auth(token.expose())
                    .header(ACCEPT_LANGUAGE, METRIC_LOCALE)
            },
            retry,
        )
        .await;
        if let Some(gone) = self.shutdown.check("Fitbit Web API", &outcome, Utc::now()) {
            return Err(gone);
        }
        outcome.map_err(|err| err.into_error("Fitbit Web API"))
    }

    /// The day's activity and resting heart rate, both from the activity summary.
    async fn activity(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
    ) -> Result<(Activity, Option<i64>)> {
        if !is_granted(creds, &ACTIVITY) {
            return Ok((Activity::default(), None));
        }
        let (day, units): (ActivityDay, Units) = self
            .get(
                creds,
                &format!("1/user/-/activities/date/{date}.json"),
                "the activity summary",
                &ACTIVITY,
            )
            .await?;
        Ok(day.summary.map_or((Activity::default(), None), |summary| {
            (summary.activity(units), summary.resting_heart_rate)
        }))
    }

    async fn sleep(&self, creds: &OAuthCredentials, date: NaiveDate) -> Result<Option<Sleep>> {
        if !is_granted(creds, &SLEEP) {
            return Ok(None);
        }
        let (day, _): (SleepDay, Units) = self
            .get(
                creds,
                &format!("1.2/user/-/sleep/date/{date}.json"),
                "sleep",
                &SLEEP,
            )
            .await?;
        Ok(main_sleep(day.sleep).map(SleepLog::into_summary))
    }

    async fn device(&self, creds: &OAuthCredentials) -> Result<Option<Device>> {
        if !is_granted(creds, &SETTINGS) {
            return Ok(None);
        }
        let (devices, _): (Vec<FitbitDevice>, Units) = self
            .get(creds, "1/user/-/devices.json", "devices", &SETTINGS)
            .await?;
        // a scale (type SCALE) may be paired too: the tracker synced last is the one
        // worn, and a scale is reported only when there is no tracker
        Ok(devices
            .into_iter()
            .max_by_key(|d| (d.kind.as_deref() == Some("TRACKER"), d.last_sync_time))
            .map(|d| Device {
                name: d.device_version.or(d.kind),
                battery_percent: d.battery_level,
                last_sync: d.last_sync_time.map(to_the_second),
            }))
    }

    async fn water_ml(&self, creds: &OAuthCredentials, date: NaiveDate) -> Result<Option<f64>> {
        if !is_granted(creds, &NUTRITION) {
            return Ok(None);
        }
        let (day, units): (WaterDay, Units) = self
            .get(
                creds,
                &format!("1/user/-/foods/log/water/date/{date}.json"),
                "water",
                &NUTRITION,
            )
            .await?;
        Ok(day.total().map(|amount| units.ml(amount)))
    }

    /// The day's last weight and body fat.
    async fn weight(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
    ) -> Result<(Option<f64>, Option<f64>)> {
        if !is_granted(creds, &WEIGHT) {
            return Ok((None, None));
        }
        let (day, units): (WeightDay, Units) = self
            .get(
                creds,
                &format!("1/user/-/body/log/weight/date/{date}.json"),
                "weight",
                &WEIGHT,
            )
            .await?;
        let (weight, fat) = day.last();
        Ok((weight.map(|w| units.kg(w)), fat))
    }
}

impl Provider for FitbitLegacy {
    async fn timezone(&self) -> Result<Tz> {
        let creds = self.session.current().await?;
        if !is_granted(&creds, &PROFILE) {
            return Err(Error::reauth(format!(
                "the account's time zone needs the Fitbit scope \"{}\", which was not granted; run `{AUTH_COMMAND}` again and allow it, or set `timezone` in the config",
                PROFILE.name
            )));
        }
        let (profile, _): (ProfileBody, Units) = self
            .get(&creds, "1/user/-/profile.json", "the profile", &PROFILE)
            .await?;
        providers::account_zone("Fitbit", profile.user.timezone)
    }

    /// Fitbit reports local times in the account's own zone, so they are taken as they
    /// are; `tz` names the zone the day was chosen in.
    async fn fetch_day(&self, date: NaiveDate, tz: Tz) -> Result<DaySummary> {
        let creds = self.session.current().await?;
        let c = &creds;
        let (
            (activity, resting_heart_rate_bpm),
            sleep,
            device,
            water_ml,
            (weight_kg, body_fat_percent),
        ) = tokio::try_join!(
            self.activity(c, date),
            self.sleep(c, date),
            self.device(c),
            self.water_ml(c, date),
            self.weight(c, date),
        )?;
        Ok(DaySummary {
            date,
            timezone: tz.name().to_string(),
            provider: PROVIDER_NAME.to_string(),
            activity,
            sleep,
            water_ml,
            weight_kg,
            body_fat_percent,
            resting_heart_rate_bpm,
            device,
        })
    }

    async fn refresh(&self) -> Result<DateTime<Utc>> {
        Ok(self.session.refresh_now().await?.expires_at)
    }
}

// ---------------------------------------------------------------------------------
// Units

/// The unit system of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Units {
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
    fn of_reply(reply: &Reply) -> Self {
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

    fn ml(self, volume: f64) -> f64 {
        match self {
            Units::Us => volume * ML_PER_FL_OZ,
            Units::Metric | Units::Uk => volume,
        }
    }

    fn kg(self, weight: f64) -> f64 {
        match self {
            Units::Us => weight * KG_PER_POUND,
            Units::Uk => weight * POUNDS_PER_STONE * KG_PER_POUND,
            Units::Metric => weight,
        }
    }
}

// ---------------------------------------------------------------------------------
// Rate limits and errors

/// How long a 429 asks us to wait: `Fitbit-Rate-Limit-Reset` (accurate), else
/// `Retry-After` (reported as unreliable).
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    http::header_u64(headers, RATE_LIMIT_RESET)
        .map(Duration::from_secs)
        .or_else(|| http::retry_after(headers))
}

fn error_message(reply: &Reply) -> String {
    match ErrorList::parse(&reply.body) {
        Some((kind, Some(message))) => format!("{kind}: {message}"),
        Some((kind, None)) => kind,
        None => reply.snippet(),
    }
}

/// The error for a failed call for `what` (which needs `scope`), with what to do.
fn api_error(reply: &Reply, what: &str, scope: &Scope, now: DateTime<Utc>) -> Error {
    let code = reply.status.as_u16();
    let message = error_message(reply);
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        let when = match rate_limit_wait(&reply.headers) {
            Some(wait) => {
                let reset = now + TimeDelta::seconds(wait.as_secs().min(86_400) as i64);
                format!(
                    "it resets in {}s, at {}; run again after that",
                    wait.as_secs(),
                    reset
                        .with_timezone(&Local)
                        .to_rfc3339_opts(SecondsFormat::Secs, false)
                )
            }
            None => "the next run will try again".to_string(),
        };
        return Error::try_later(format!(
            "Fitbit's rate limit (150 requests an hour) was reached while reading {what} ({message}); {when}"
        ));
    }
    if reply.status == StatusCode::FORBIDDEN {
        return Error::reauth(format!(
            "Fitbit refused {what} ({code} {message}): the \"{}\" permission was not granted; run `{AUTH_COMMAND}` again and allow it",
            scope.name
        ));
    }
    if reply.status.is_server_error() {
        return Error::try_later(format!(
            "{API} failed on {what} ({code} {message}); the next run will try again"
        ));
    }
    Error::other(format!(
        "{API} refused {what} ({code} {message}); check api_base in the config, or report it with the output of -vv"
    ))
}

// ---------------------------------------------------------------------------------
// Response bodies

/// A local time as Fitbit writes it (`2021-05-23T07:12:00.000`), to the second.
fn to_the_second(time: NaiveDateTime) -> NaiveDateTime {
    time.with_nanosecond(0).unwrap_or(time)
}

#[derive(Deserialize)]
struct ActivityDay {
    summary: Option<ActivitySummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivitySummary {
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
    resting_heart_rate: Option<i64>,
}

#[derive(Deserialize)]
struct ActivityDistance {
    activity: String,
    distance: Option<f64>,
}

impl ActivitySummary {
    fn activity(&self, units: Units) -> Activity {
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
struct SleepDay {
    #[serde(default)]
    sleep: Vec<SleepLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepLog {
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

    fn into_summary(self) -> Sleep {
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
fn main_sleep(logs: Vec<SleepLog>) -> Option<SleepLog> {
    let marked = logs.iter().any(|l| l.is_main_sleep == Some(true));
    logs.into_iter()
        .filter(|l| !marked || l.is_main_sleep == Some(true))
        .max_by_key(SleepLog::length)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FitbitDevice {
    device_version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    battery_level: Option<i64>,
    last_sync_time: Option<NaiveDateTime>,
}

#[derive(Deserialize)]
struct WaterDay {
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
    fn total(&self) -> Option<f64> {
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
struct WeightDay {
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
    fn last(mut self) -> (Option<f64>, Option<f64>) {
        self.weight
            .sort_by(|a, b| (&a.date, &a.time).cmp(&(&b.date, &b.time)));
        let last = |value: fn(&WeightLog) -> Option<f64>| self.weight.iter().rev().find_map(value);
        (last(|l| l.weight), last(|l| l.fat))
    }
}

#[derive(Deserialize)]
struct ProfileBody {
    user: ProfileUser,
}

#[derive(Deserialize)]
struct ProfileUser {
    timezone: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        Reply::fake(status, headers, body)
    }

    #[test]
    fn units_are_what_content_language_says_else_metric() {
        assert_eq!(Units::of_reply(&reply(200, &[], "")), Units::Metric);
        for (header, units) in [
            ("en_US", Units::Us),
            ("en-US", Units::Us),
            ("en_GB", Units::Uk),
            ("en_AU", Units::Metric),
            ("ja_JP", Units::Metric),
            ("en-us, en", Units::Us),
        ] {
            let got = Units::of_reply(&reply(200, &[("content-language", header)], ""));
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

    #[test]
    fn the_reset_header_is_preferred_to_retry_after() {
        let both = reply(
            429,
            &[("fitbit-rate-limit-reset", "1958"), ("retry-after", "60")],
            "",
        );
        assert_eq!(
            rate_limit_wait(&both.headers),
            Some(Duration::from_secs(1958))
        );
        let only_retry_after = reply(429, &[("retry-after", "7")], "");
        assert_eq!(
            rate_limit_wait(&only_retry_after.headers),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn fitbit_errors_map_to_exit_kinds_without_quoting_tokens() {
        use crate::error::Kind;
        let now: DateTime<Utc> = "2026-10-01T12:00:00Z".parse().unwrap();
        let cases = [
            (
                429,
                vec![("fitbit-rate-limit-reset", "1958")],
                r#"{"errors":[{"errorType":"system","fieldName":"n/a","message":"Too Many Requests"}],"success":false}"#,
                Kind::TryLater,
                "resets in 1958s",
            ),
            (
                403,
                vec![],
                r#"{"errors":[{"errorType":"insufficient_scope","message":"This application does not have permission to access nutrition data."}],"success":false}"#,
                Kind::Reauth,
                "\"nutrition\" permission",
            ),
            (
                503,
                vec![],
                "<html>\n<body>Service Unavailable</body></html>",
                Kind::TryLater,
                "Service Unavailable",
            ),
            (
                400,
                vec![],
                r#"{"errors":[{"errorType":"validation","fieldName":"date","message":"Invalid date:2021-13-01"}],"success":false}"#,
                Kind::Other,
                "validation: Invalid date:2021-13-01",
            ),
        ];
        for (status, headers, body, kind, needle) in cases {
            let err = api_error(&reply(status, &headers, body), "water", &NUTRITION, now);
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let expired = reply(
            401,
            &[],
            r#"{"errors":[{"errorType":"expired_token","message":"Access token expired: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMiJ9.c2lnbmF0dXJl12. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process."}],"success":false}"#,
        );
        let message = error_message(&expired);
        assert!(message.starts_with("expired_token: Access token expired: [redacted] Visit"));
    }

    #[test]
    fn only_the_real_fitbit_hosts_are_subject_to_the_shutdown_date() {
        let path = Path::new("/home/u/.config/fitbit-notifier/config.toml");
        let real = shutdown(&FitbitConfig::default().api_base, path);
        assert_eq!(real.since, TURNED_OFF.parse::<DateTime<Utc>>().unwrap());
        assert!(real.notice.contains(
            "set provider = \"google-health\" in /home/u/.config/fitbit-notifier/config.toml"
        ));
        assert!(real.notice.contains("run `fitbit-notifier auth google`"));
        let token = shutdown(&FitbitConfig::default().token_url, path);
        assert_eq!(token.since, real.since);
        let compatible = shutdown(&Url::parse("https://fitbit.example.org/").unwrap(), path);
        assert_eq!(compatible.since, DateTime::<Utc>::MAX_UTC);
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

//! Requests to the Fitbit Web API: the authorized GET every call goes through (metric
//! units asked for, one refresh after a 401, the rate-limit-aware retry, the shutdown
//! check), and the day's five calls, each skipped when its scope was not granted.

use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;
use reqwest::header::ACCEPT_LANGUAGE;
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::{ACTIVITY, AUTH_COMMAND, NUTRITION, SETTINGS, SLEEP, WEIGHT};
use super::errors::{api_error, error_message, rate_limit_wait};
use super::wire::{
    ActivityDay, FitbitDevice, SleepDay, SleepLog, Units, WaterDay, WeightDay, main_sleep,
    worn_device,
};
use super::{API, FitbitLegacy};
use crate::day::{Activity, Device, Sleep};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::net::oauth::{Scope, is_granted};
use crate::secret::Secret;
use crate::store::credentials::OAuthCredentials;

/// Sent with every request: a locale whose unit system is metric (km, kg, ml); only
/// `en_US` (US) and `en_GB` (UK) select others.
pub(super) const METRIC_LOCALE: &str = "en_AU";

impl FitbitLegacy {
    /// GETs `relative` for `what` (which needs `scope`) and reads the answer, with one
    /// refresh and retry after a 401; returns the body and the units it is in.
    pub(super) async fn get<T: DeserializeOwned>(
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
    pub(super) async fn activity(
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

    pub(super) async fn sleep(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
    ) -> Result<Option<Sleep>> {
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

    pub(super) async fn device(&self, creds: &OAuthCredentials) -> Result<Option<Device>> {
        if !is_granted(creds, &SETTINGS) {
            return Ok(None);
        }
        let (devices, _): (Vec<FitbitDevice>, Units) = self
            .get(creds, "1/user/-/devices.json", "devices", &SETTINGS)
            .await?;
        Ok(worn_device(devices))
    }

    pub(super) async fn water_ml(
        &self,
        creds: &OAuthCredentials,
        date: NaiveDate,
    ) -> Result<Option<f64>> {
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
    pub(super) async fn weight(
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

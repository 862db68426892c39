//! The Google Health API (v4) provider: Google OAuth 2.0, the account's settings, and
//! one civil day's totals from `dataPoints:dailyRollUp` plus list calls where no
//! rollup exists, all fetched concurrently over the one client.
//!
//! Values arrive in metric base units (mm, g, ml, kcal); int64 values as JSON strings
//! (numbers are accepted too); an absent value means "no data" and stays `None`. Values
//! are passed on as reported, however absurd: `DaySummary::sanitize` judges them.
//!
//! `auth` holds the scopes and Google's OAuth details, `api` the data types and the
//! requests, `fetch` which requests make a day and how their answers become one,
//! `wire` the answer bodies, and `errors` Google's error envelope and its mapping.

mod api;
mod auth;
mod dated;
mod errors;
mod fetch;
mod wire;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::config::{Config, HttpConfig, Paths};
use crate::day::{DayRange, DaySummary};
use crate::error::{Error, Result};
use crate::net::http;
use crate::net::oauth::{Authorization, is_granted};
use crate::providers::{self, Provider};
use crate::store::credentials;
use api::parse;
use errors::api_error;
use wire::SettingsBody;

pub use auth::{AUTH_COMMAND, AUTHORIZE_PARAMS, SCOPES, SETTINGS, service};

pub const PROVIDER_NAME: &str = "google-health";
const API: &str = "the Google Health API";

pub struct GoogleHealth {
    http: reqwest::Client,
    http_config: HttpConfig,
    api_base: Url,
    session: Authorization,
}

impl GoogleHealth {
    pub fn new(config: &Config, paths: &Paths, http: reqwest::Client) -> Self {
        let session = Authorization::new(
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

    async fn fetch_days(&self, days: DayRange, tz: Tz) -> Result<Vec<DaySummary>> {
        let creds = self.session.current().await?;
        Ok(self.days(&creds, days, tz).await?.into_summaries(days, tz))
    }

    async fn refresh(&self) -> Result<DateTime<Utc>> {
        Ok(self.session.refresh_now().await?.expires_at)
    }
}

/// Raw answers for the property tests of the submodules.
#[cfg(test)]
mod arbitrary_answers {
    use serde_json::Value;

    use crate::net::http::Reply;

    /// A body from `tests/fixtures/google`.
    pub(super) fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/google/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    pub(super) fn answer(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            body,
            ..Reply::fake(status, &[], "")
        }
    }
}

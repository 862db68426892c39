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
//!
//! `auth` holds the scopes, Fitbit's OAuth details and the shutdown, `api` the
//! requests, `wire` the answer bodies and their units, and `errors` the rate limit and
//! the mapping of refusals.

mod api;
mod auth;
mod errors;
mod wire;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::config::{Config, HttpConfig, Paths};
use futures_util::future::try_join_all;

use crate::day::{DayRange, DaySummary};
use crate::error::{Error, Result};
use crate::net::http;
use crate::net::oauth::{Authorization, Shutdown, is_granted};
use crate::providers::{self, Provider};
use crate::store::credentials;
use auth::{AUTH_COMMAND, shutdown};
use wire::{ProfileBody, Units};

pub use auth::{DEFAULT_REDIRECT_URI, PROFILE, SCOPES, service};

pub const PROVIDER_NAME: &str = "fitbit-legacy";
const API: &str = "the Fitbit Web API";

pub struct FitbitLegacy {
    http: reqwest::Client,
    http_config: HttpConfig,
    api_base: Url,
    session: Authorization,
    shutdown: Shutdown,
}

impl FitbitLegacy {
    pub fn new(config: &Config, paths: &Paths, http: reqwest::Client) -> Self {
        let session = Authorization::new(
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
    /// are; `tz` names the zone the days were chosen in.
    ///
    /// The Web API has range time series, but one per resource (nine for the activity
    /// summary alone): the day endpoints give a day in four requests, so a range asks
    /// for each of its days with them, every request in the one concurrent round, and
    /// the devices once.
    async fn fetch_days(&self, days: DayRange, tz: Tz) -> Result<Vec<DaySummary>> {
        let creds = self.session.current().await?;
        let c = &creds;
        let (device, summaries) = tokio::try_join!(
            self.device(c),
            try_join_all(days.days().map(|date| self.day(c, date, tz))),
        )?;
        Ok(summaries
            .into_iter()
            .map(|day| DaySummary {
                device: device.clone(),
                ..day
            })
            .collect())
    }

    async fn refresh(&self) -> Result<DateTime<Utc>> {
        Ok(self.session.refresh_now().await?.expires_at)
    }
}

impl FitbitLegacy {
    /// One day's own requests (everything but the devices), at once.
    async fn day(
        &self,
        c: &credentials::OAuthCredentials,
        date: NaiveDate,
        tz: Tz,
    ) -> Result<DaySummary> {
        let ((activity, resting_heart_rate_bpm), sleep, water_ml, (weight_kg, body_fat_percent)) =
            tokio::try_join!(
                self.activity(c, date),
                self.sleep(c, date),
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
            device: None,
        })
    }
}

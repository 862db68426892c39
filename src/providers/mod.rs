//! Where the day comes from: the [`Provider`] trait every data source implements (one
//! folder per API), and the factory that picks the one the config names.

pub mod fitbit_legacy;
pub mod google_health;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::ProviderKind;
use crate::context::Context;
use crate::day::{DayRange, DaySummary};
use crate::error::{Error, Result};
use fitbit_legacy::FitbitLegacy;
use google_health::GoogleHealth;

/// A data provider. Implementations refresh their own OAuth tokens as needed, keep the
/// credentials file consistent under its lock, and map their errors to exit kinds.
pub trait Provider {
    /// The account's IANA time zone, as the provider reports it.
    async fn timezone(&self) -> Result<Tz>;

    /// Everything known about each day of `days` (civil days in `tz`), oldest first,
    /// fetched in one concurrent round of requests: a data type whose API answers a
    /// whole range is asked once (or once per piece its range cap forces), not once a
    /// day. The device is what it is now, so every day carries the same.
    async fn fetch_days(&self, days: DayRange, tz: Tz) -> Result<Vec<DaySummary>>;

    /// Refreshes the access token now, whatever its expiry, and returns the new expiry.
    async fn refresh(&self) -> Result<DateTime<Utc>>;
}

/// The account zone `provider` (for messages: "Google") reported by name.
pub fn account_zone(provider: &str, name: Option<String>) -> Result<Tz> {
    let name = name.unwrap_or_default();
    name.parse::<Tz>().map_err(|_| {
        Error::other(format!(
            "{provider} reports the account time zone {name:?}, which is not a known IANA zone; set `timezone` in the config"
        ))
    })
}

/// The data provider the config names.
pub fn from_config(ctx: &Context) -> AnyProvider {
    let client = ctx.client.clone();
    match ctx.config.provider {
        ProviderKind::GoogleHealth => {
            AnyProvider::GoogleHealth(GoogleHealth::new(&ctx.config, &ctx.paths, client))
        }
        ProviderKind::FitbitLegacy => {
            AnyProvider::FitbitLegacy(FitbitLegacy::new(&ctx.config, &ctx.paths, client))
        }
    }
}

/// One of the providers, chosen at run time.
pub enum AnyProvider {
    GoogleHealth(GoogleHealth),
    FitbitLegacy(FitbitLegacy),
}

impl Provider for AnyProvider {
    async fn timezone(&self) -> Result<Tz> {
        match self {
            AnyProvider::GoogleHealth(p) => p.timezone().await,
            AnyProvider::FitbitLegacy(p) => p.timezone().await,
        }
    }

    async fn fetch_days(&self, days: DayRange, tz: Tz) -> Result<Vec<DaySummary>> {
        match self {
            AnyProvider::GoogleHealth(p) => p.fetch_days(days, tz).await,
            AnyProvider::FitbitLegacy(p) => p.fetch_days(days, tz).await,
        }
    }

    async fn refresh(&self) -> Result<DateTime<Utc>> {
        match self {
            AnyProvider::GoogleHealth(p) => p.refresh().await,
            AnyProvider::FitbitLegacy(p) => p.refresh().await,
        }
    }
}

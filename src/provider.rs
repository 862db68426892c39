//! What a source of Fitbit data offers; one implementation per API.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::summary::DaySummary;

/// A data provider. Implementations refresh their own OAuth tokens as needed, keep the
/// credentials file consistent under its lock, and map their errors to exit kinds.
pub trait Provider {
    /// The account's IANA time zone, as the provider reports it.
    async fn timezone(&self) -> Result<Tz>;

    /// Everything known about `date` (a civil day in `tz`), fetched with requests
    /// that go out concurrently.
    async fn fetch_day(&self, date: NaiveDate, tz: Tz) -> Result<DaySummary>;

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

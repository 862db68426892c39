//! What a source of Fitbit data offers; one implementation per API.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::Result;
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

//! Reading days from the provider for the job and for the commands that show them:
//! the range a date names in the account's zone, physically impossible values dropped,
//! and the account zone kept up to date as it is learned.

use anyhow::Result;
use chrono::Utc;
use chrono_tz::Tz;

use super::zone::Zone;
use crate::context::Context;
use crate::day::dates::DateArg;
use crate::day::{DayRange, DaySummary};
use crate::error::Error;
use crate::providers::Provider;
use crate::store::Locked;
use crate::store::state::{self, State, StateStore};

/// The summaries of the `count` days ending on the day `date` names in the account's
/// zone (see `zone`), oldest first; each names the zone it was read in.
pub async fn fetch_days(
    ctx: &Context,
    provider: &impl Provider,
    date: DateArg,
    count: u32,
) -> Result<Vec<DaySummary>> {
    let store = state::store(&ctx.paths);
    let remember = async |tz| remember_unheld(&store, tz).await;
    let cached = store.load()?.account_timezone;
    let zone = Zone::first_guess(ctx.config.timezone, cached, provider, &remember).await?;
    let range = |date| DayRange::ending(date, count);
    Ok(zone
        .read(provider, date, Utc::now(), range, &remember)
        .await?
        .days)
}

/// The one day `date` names, as [`fetch_days`] reads it: the check that a provider
/// answers (`init`, `doctor`).
pub async fn fetch_day(
    ctx: &Context,
    provider: &impl Provider,
    date: DateArg,
) -> Result<DaySummary> {
    let days = fetch_days(ctx, provider, date, 1).await?;
    days.into_iter().next().ok_or_else(|| {
        Error::other("the provider returned no day; report it with the output of -vv").into()
    })
}

/// The provider's summaries of `range` with every physically impossible value dropped
/// (and a warning naming it), so that it reads "not recorded" rather than being shown
/// or posted. Every command that shows or posts a day gets it from here.
pub(super) async fn checked_days(
    provider: &impl Provider,
    range: DayRange,
    tz: Tz,
) -> Result<Vec<DaySummary>> {
    let mut days = provider.fetch_days(range, tz).await?;
    for day in &mut days {
        for note in day.sanitize() {
            log::warn!("{note}");
        }
    }
    Ok(days)
}

/// The run's own day: the last of the range.
pub(super) fn last_day(days: &[DaySummary]) -> Result<&DaySummary, Error> {
    days.last().ok_or_else(|| {
        Error::other("the provider returned no days; report it with the output of -vv")
    })
}

/// Caches the account zone under the run's held state lock. Failing to is not worth
/// failing the run for: the zone is known for this one, and the next run asks again.
pub(super) fn remember_held(locked: &Locked<'_, State>, tz: Tz) {
    let cached = locked.read().and_then(|mut state| {
        state.account_timezone = Some(tz);
        locked.write(&state)
    });
    if let Err(err) = cached {
        log::warn!("cannot cache the account time zone: {err}");
    }
}

/// Caches the account zone for a command that holds no state lock: the lock is waited
/// for without blocking, so the deadline ends the wait (a run holding it for long).
pub(super) async fn remember_unheld(store: &StateStore, tz: Tz) {
    match store.lock_async().await {
        Ok(locked) => remember_held(&locked, tz),
        Err(err) => log::warn!("cannot cache the account time zone: {err}"),
    }
}

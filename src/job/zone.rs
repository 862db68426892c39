//! The zone a day is read in. The config's `timezone` is final. Otherwise the account's
//! zone decides which civil day "yesterday" is and where the sync gate's midnight lies,
//! and a person who travels or moves has it changed by Fitbit: the cached zone is only
//! the first guess, and the provider is asked again on every run that reads data, in
//! the same concurrent round as the data, so that checking it costs no round. Only when
//! the answer differs is the day read once more, in the new zone (and the cache updated).

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::fetch::checked_days;
use crate::day::dates::{self, DateArg};
use crate::day::{DayRange, DaySummary};
use crate::providers::Provider;

/// The zone known before the data is asked for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Zone {
    /// The config's, or the provider's answer of this run: nothing to check.
    Settled(Tz),
    /// The account's zone as an earlier run cached it: checked against the provider's
    /// answer in the data round.
    Cached(Tz),
}

/// The days read (each names the zone it was read in) and the civil day they end on.
pub(super) struct Zoned {
    pub(super) date: NaiveDate,
    pub(super) days: Vec<DaySummary>,
}

impl Zone {
    /// The config's `timezone` when set; else the cached account zone; else (the first
    /// run) the provider's answer, a round of its own, handed to `remember`.
    pub(super) async fn first_guess(
        configured: Option<Tz>,
        cached: Option<Tz>,
        provider: &impl Provider,
        remember: &impl AsyncFn(Tz),
    ) -> Result<Zone> {
        if let Some(tz) = configured {
            return Ok(Zone::Settled(tz));
        }
        if let Some(tz) = cached {
            return Ok(Zone::Cached(tz));
        }
        let tz = provider.timezone().await?;
        remember(tz).await;
        Ok(Zone::Settled(tz))
    }

    pub(super) fn tz(self) -> Tz {
        match self {
            Zone::Settled(tz) | Zone::Cached(tz) => tz,
        }
    }

    /// The days `range` gives for the civil day `date` names at `now`. A cached zone is
    /// asked for again alongside the data; when the provider now reports another, it
    /// goes to `remember` and the day is read again in it, as the day and the times in
    /// it (the sync time the gate compares with midnight, the night's start and end)
    /// were taken in the old one.
    pub(super) async fn read(
        self,
        provider: &impl Provider,
        date: DateArg,
        now: DateTime<Utc>,
        range: impl Fn(NaiveDate) -> DayRange,
        remember: &impl AsyncFn(Tz),
    ) -> Result<Zoned> {
        let guess = self.tz();
        let day = dates::resolve(date, now, guess)?;
        let Zone::Cached(cached) = self else {
            let days = checked_days(provider, range(day), guess).await?;
            return Ok(Zoned { date: day, days });
        };
        let (reported, days) = tokio::join!(
            provider.timezone(),
            checked_days(provider, range(day), cached)
        );
        let reported = match reported {
            Ok(tz) => tz,
            Err(err) => {
                // what worked until now still works: the cached zone, with a word why
                log::warn!(
                    "cannot check the account's time zone, so {day} is read in the cached {cached}: {err}"
                );
                return Ok(Zoned {
                    date: day,
                    days: days?,
                });
            }
        };
        if reported == cached {
            return Ok(Zoned {
                date: day,
                days: days?,
            });
        }
        remember(reported).await;
        // a read that failed fails the run as it is: the next one starts in the new zone
        days?;
        let moved = dates::resolve(date, now, reported)?;
        log::warn!(
            "the account's time zone is now {reported} (it was {cached}); reading {moved} in it{}",
            if moved == day {
                " again".to_string()
            } else {
                format!(" instead of {day}")
            }
        );
        let days = checked_days(provider, range(moved), reported).await?;
        Ok(Zoned { date: moved, days })
    }
}

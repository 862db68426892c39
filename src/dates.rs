//! Which civil day a command is about, in the account's own time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// The `--date` argument: `today`, `yesterday` or `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateArg {
    Today,
    Yesterday,
    On(NaiveDate),
}

impl FromStr for DateArg {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text {
            "today" => Ok(DateArg::Today),
            "yesterday" => Ok(DateArg::Yesterday),
            _ => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(DateArg::On)
                .map_err(|_| format!("expected today, yesterday or YYYY-MM-DD, got {text:?}")),
        }
    }
}

impl fmt::Display for DateArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateArg::Today => f.write_str("today"),
            DateArg::Yesterday => f.write_str("yesterday"),
            DateArg::On(date) => write!(f, "{date}"),
        }
    }
}

/// The civil date `arg` names at instant `now` in zone `tz`. A day that has not begun
/// there yet has no data and is refused.
pub fn resolve(arg: DateArg, now: DateTime<Utc>, tz: Tz) -> Result<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    let date = match arg {
        DateArg::Today => today,
        DateArg::Yesterday => today - Days::new(1),
        DateArg::On(date) => date,
    };
    if date > today {
        return Err(Error::other(format!(
            "{date} is in the future in {tz} (today there is {today}); pass a past date or yesterday"
        )));
    }
    Ok(date)
}

/// The instant `date` ends in `tz` (the next local midnight, or the first instant of the
/// next day where a DST change skips midnight).
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = date + Days::new(1);
    let midnight = next.and_hms_opt(0, 0, 0).expect("midnight exists");
    let local = tz
        .from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            // midnight does not exist that day (a DST gap at 00:00): take the first hour that does
            (1..=3).find_map(|h| {
                tz.from_local_datetime(&next.and_hms_opt(h, 0, 0).expect("valid hour"))
                    .earliest()
            })
        })
        .expect("a day has at least one valid hour");
    local.with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use chrono_tz::{America, Asia, Pacific};

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn parses_the_three_forms() {
        assert_eq!("today".parse::<DateArg>(), Ok(DateArg::Today));
        assert_eq!("yesterday".parse::<DateArg>(), Ok(DateArg::Yesterday));
        assert_eq!(
            "2021-05-23".parse::<DateArg>(),
            Ok(DateArg::On(day("2021-05-23")))
        );
        assert!("2021-5-32".parse::<DateArg>().is_err());
        assert!("tomorrow".parse::<DateArg>().is_err());
    }

    #[test]
    fn yesterday_near_midnight_follows_the_account_zone_not_utc() {
        // 23:30 UTC on the 25th is already 08:30 on the 26th in Tokyo
        let now = utc("2026-11-25T23:30:00Z");
        assert_eq!(
            resolve(DateArg::Today, now, Asia::Tokyo).unwrap(),
            day("2026-11-26")
        );
        assert_eq!(
            resolve(DateArg::Yesterday, now, Asia::Tokyo).unwrap(),
            day("2026-11-25")
        );
        // 10:30 UTC on the 26th is still 23:30 on the 25th in Pago Pago (UTC-11)
        let now = utc("2026-11-26T10:30:00Z");
        assert_eq!(
            resolve(DateArg::Today, now, Pacific::Pago_Pago).unwrap(),
            day("2026-11-25")
        );
        assert_eq!(
            resolve(DateArg::Yesterday, now, Pacific::Kiritimati).unwrap(),
            day("2026-11-26"),
            "UTC+14 is a day ahead"
        );
    }

    #[test]
    fn a_future_date_is_refused() {
        let now = utc("2026-11-26T12:00:00Z");
        let err = resolve(DateArg::On(day("2026-11-27")), now, Asia::Tokyo).unwrap_err();
        assert!(err.to_string().contains("future"));
    }

    #[test]
    fn yesterday_across_a_dst_change() {
        // New York leaves DST on 2026-11-01; 03:30 local on the 2nd is 08:30 UTC
        let now = utc("2026-11-02T08:30:00Z");
        assert_eq!(
            resolve(DateArg::Yesterday, now, America::New_York).unwrap(),
            day("2026-11-01")
        );
        // and the 1st is 25 hours long there
        let start = end_of_day(day("2026-10-31"), America::New_York);
        let end = end_of_day(day("2026-11-01"), America::New_York);
        assert_eq!((end - start).num_hours(), 25);
        assert_eq!(end, utc("2026-11-02T05:00:00Z"));
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_ends_at_the_first_real_hour() {
        // Santiago springs forward at 00:00 on 2026-09-06: local midnight does not exist
        let end = end_of_day(day("2026-09-05"), America::Santiago);
        assert_eq!(end, utc("2026-09-06T04:00:00Z"));
    }
}

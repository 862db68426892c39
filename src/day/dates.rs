//! Which civil day a command is about, in the account's own time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

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
            _ => {
                let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                    format!("expected today, yesterday or YYYY-MM-DD, got {text:?}")
                })?;
                within_a_century(date, Utc::now().date_naive())?;
                Ok(DateArg::On(date))
            }
        }
    }
}

/// How far from today a `--date` may be. No tracker has data from before 1925 or after
/// 2125; the bound keeps every later date computation (the day's start in a zone, a
/// week back, the ledger's pruning) far from chrono's limits, where a date near them
/// would overflow after a post was already made.
const MAX_YEARS_FROM_TODAY: i32 = 100;

fn within_a_century(date: NaiveDate, today: NaiveDate) -> std::result::Result<(), String> {
    let years = (date.years_since(today))
        .or_else(|| today.years_since(date))
        .map_or(i32::MAX, |years| years.min(i32::MAX as u32) as i32);
    if years >= MAX_YEARS_FROM_TODAY {
        return Err(format!(
            "{date} is {MAX_YEARS_FROM_TODAY} years or more from today ({today}); give a date within a century of today"
        ));
    }
    Ok(())
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

/// A day that has not begun yet in the account's zone, so it has no data.
#[derive(Debug, thiserror::Error)]
#[error("{date} is in the future in {tz} (today there is {today}); pass a past date or yesterday")]
pub struct FutureDate {
    date: NaiveDate,
    tz: Tz,
    today: NaiveDate,
}

/// The civil date `arg` names at instant `now` in zone `tz`. A day that has not begun
/// there yet has no data and is refused.
pub fn resolve(arg: DateArg, now: DateTime<Utc>, tz: Tz) -> Result<NaiveDate, FutureDate> {
    let today = now.with_timezone(&tz).date_naive();
    let date = match arg {
        DateArg::Today => today,
        DateArg::Yesterday => today - Days::new(1),
        DateArg::On(date) => date,
    };
    if date > today {
        return Err(FutureDate { date, tz, today });
    }
    Ok(date)
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
    fn a_date_a_century_or_more_away_is_refused() {
        let today = day("2026-11-26");
        for (date, ok) in [
            ("2026-11-25", true),
            ("1926-11-27", true),
            ("1926-11-26", false),
            ("2126-11-25", true),
            ("2126-11-26", false),
            ("-262143-01-01", false),
            ("+262142-12-31", false),
        ] {
            let parsed = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            assert_eq!(within_a_century(parsed, today).is_ok(), ok, "{date}");
        }
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
    }
}

//! Which civil day a point of a range answer belongs to. A `dailyRollUp` point names
//! its window only by `civilStartTime` (the windows come newest first, and whether an
//! empty window is listed at all is not documented), so points are matched by that
//! date, never by position. A list point carries civil times in its interval, or a
//! `date` (daily resting heart rate); an instant without a civil time is taken in the
//! account's zone.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::day::DayRange;

/// The field of a list point that decides its day, as its list filter selects it.
#[derive(Debug, Clone, Copy)]
pub(super) enum By {
    /// The interval's start (minute-level data).
    Start,
    /// The interval's end (sleep: a night belongs to the day it ends on).
    End,
    /// The point's own `date` (daily resting heart rate).
    Date,
}

impl By {
    /// The field of a point's value that places it, for a partial response: the one its
    /// list filter selects by, so every point of the answer has it and the instant
    /// `day_of` falls back on is not asked for.
    pub(super) fn reads(self) -> &'static str {
        match self {
            By::Start => "interval/civilStartTime/date",
            By::End => "interval/civilEndTime/date",
            By::Date => "date",
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CivilDate {
    year: i32,
    month: u32,
    day: u32,
}

impl CivilDate {
    fn date(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
    }
}

#[derive(Deserialize)]
pub(super) struct CivilDateTime {
    date: Option<CivilDate>,
}

impl CivilDateTime {
    pub(super) fn date(&self) -> Option<NaiveDate> {
        self.date.as_ref().and_then(CivilDate::date)
    }
}

/// An interval as a list point carries it: its instants, and its civil times on the
/// account's clock.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Interval {
    pub(super) start_time: Option<DateTime<Utc>>,
    pub(super) end_time: Option<DateTime<Utc>>,
    civil_start_time: Option<CivilDateTime>,
    civil_end_time: Option<CivilDateTime>,
}

/// What places a list point's value in its day: its interval, or its own date.
pub(super) enum When<'a> {
    Interval(&'a Interval),
    Date(Option<&'a CivilDate>),
}

/// The civil day of a list point's value, `None` when it names none.
pub(super) fn day_of(when: When, by: By, tz: Tz) -> Option<NaiveDate> {
    let (civil, instant) = match (when, by) {
        (When::Date(date), By::Date) => return date.and_then(CivilDate::date),
        (When::Interval(i), By::Start) => (&i.civil_start_time, i.start_time),
        (When::Interval(i), By::End) => (&i.civil_end_time, i.end_time),
        // each data type is listed by a field it has
        _ => return None,
    };
    civil
        .as_ref()
        .and_then(CivilDateTime::date)
        .or_else(|| instant.map(|t| t.with_timezone(&tz).date_naive()))
}

/// Values each with the day it names, if any.
pub(super) type Dated<T> = Vec<(Option<NaiveDate>, T)>;

/// Values grouped by their day within `range`. A value that names no day belongs to
/// the day when the range is one day (the filter chose it), else it cannot be placed
/// and is left out; one outside the range is left out too.
pub(super) fn by_day<T>(values: Dated<T>, range: DayRange) -> BTreeMap<NaiveDate, Vec<T>> {
    let mut days: BTreeMap<NaiveDate, Vec<T>> = BTreeMap::new();
    for (day, value) in values {
        let day = match day {
            Some(day) => day,
            None if range.len() == 1 => range.first(),
            None => {
                log::debug!("a point that names no day in a range of days was left out");
                continue;
            }
        };
        if range.contains(day) {
            days.entry(day).or_default().push(value);
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn interval(value: serde_json::Value) -> Interval {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_point_is_placed_by_its_civil_time_else_by_its_instant_in_the_zone() {
        let tokyo = chrono_tz::Asia::Tokyo;
        let civil = interval(json!({
            "endTime": "2026-11-25T16:00:00Z",
            "civilEndTime": {"date": {"year": 2026, "month": 11, "day": 25}}}));
        assert_eq!(
            day_of(When::Interval(&civil), By::End, tokyo),
            "2026-11-25".parse().ok()
        );
        let instant = interval(json!({"startTime": "2026-11-25T16:00:00Z"}));
        assert_eq!(
            day_of(When::Interval(&instant), By::Start, tokyo),
            "2026-11-26".parse().ok()
        );
        let date: CivilDate =
            serde_json::from_value(json!({"year": 2026, "month": 2, "day": 30})).unwrap();
        assert_eq!(day_of(When::Date(Some(&date)), By::Date, tokyo), None);
    }

    #[test]
    fn undated_values_count_only_in_a_one_day_range() {
        let day: NaiveDate = "2026-11-25".parse().unwrap();
        let values = || {
            vec![
                (None, 1),
                (Some(day), 2),
                (Some(day.succ_opt().unwrap()), 3),
            ]
        };
        let one = by_day(values(), DayRange::ending(day, 1));
        assert_eq!(one[&day], [1, 2]);
        assert_eq!(one.len(), 1);
        let two = by_day(values(), DayRange::ending(day.succ_opt().unwrap(), 2));
        assert_eq!(two[&day], [2]);
        assert_eq!(two.len(), 2);
    }
}

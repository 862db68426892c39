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
use serde_json::value::RawValue;

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
struct CivilDate {
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

/// The instants are left as text: a day of minute-level points carries two each, and
/// they are read only for a point without civil times.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Interval<'a> {
    #[serde(borrow)]
    start_time: Option<&'a RawValue>,
    #[serde(borrow)]
    end_time: Option<&'a RawValue>,
    civil_start_time: Option<CivilDateTime>,
    civil_end_time: Option<CivilDateTime>,
}

#[derive(Deserialize)]
struct When<'a> {
    #[serde(default, borrow)]
    interval: Interval<'a>,
    date: Option<CivilDate>,
}

/// The civil day of a list point's value, `None` when it names none.
pub(super) fn day_of(raw: &RawValue, by: By, tz: Tz) -> Option<NaiveDate> {
    let when: When = serde_json::from_str(raw.get()).ok()?;
    let interval = &when.interval;
    let (civil, instant) = match by {
        By::Date => return when.date.as_ref().and_then(CivilDate::date),
        By::Start => (&interval.civil_start_time, interval.start_time),
        By::End => (&interval.civil_end_time, interval.end_time),
    };
    civil.as_ref().and_then(CivilDateTime::date).or_else(|| {
        let instant: DateTime<Utc> = serde_json::from_str(instant?.get()).ok()?;
        Some(instant.with_timezone(&tz).date_naive())
    })
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

    fn raw(value: serde_json::Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    #[test]
    fn a_point_is_placed_by_its_civil_time_else_by_its_instant_in_the_zone() {
        let tokyo = chrono_tz::Asia::Tokyo;
        let civil = raw(json!({"interval": {
            "endTime": "2026-11-25T16:00:00Z",
            "civilEndTime": {"date": {"year": 2026, "month": 11, "day": 25}}}}));
        assert_eq!(day_of(&civil, By::End, tokyo), "2026-11-25".parse().ok());
        let instant = raw(json!({"interval": {"startTime": "2026-11-25T16:00:00Z"}}));
        assert_eq!(
            day_of(&instant, By::Start, tokyo),
            "2026-11-26".parse().ok()
        );
        let dated = raw(json!({"date": {"year": 2026, "month": 2, "day": 30}}));
        assert_eq!(day_of(&dated, By::Date, tokyo), None);
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

//! A run of consecutive civil days, the unit every provider fetches in: one day is the
//! range of length one.

use chrono::{Days, NaiveDate};

/// The days `first..=last`, oldest first; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl DayRange {
    /// The `count` days ending on `last` (a count of 0 is taken as 1).
    pub fn ending(last: NaiveDate, count: u32) -> DayRange {
        let first = last - Days::new(u64::from(count.max(1) - 1));
        DayRange { first, last }
    }

    pub fn first(self) -> NaiveDate {
        self.first
    }

    pub fn last(self) -> NaiveDate {
        self.last
    }

    /// How many days it holds.
    pub fn len(self) -> u32 {
        u32::try_from((self.last - self.first).num_days() + 1).unwrap_or(u32::MAX)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        (self.first..=self.last).contains(&date)
    }

    /// Its days, oldest first.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take_while(move |d| *d <= self.last)
    }

    /// Consecutive pieces of at most `cap` days that cover it, oldest first: an API that
    /// answers at most `cap` days a request gets one request per piece.
    pub fn pieces(self, cap: u32) -> Vec<DayRange> {
        let cap = cap.max(1);
        let mut pieces = Vec::new();
        let mut first = self.first;
        while first <= self.last {
            let last = (first + Days::new(u64::from(cap - 1))).min(self.last);
            pieces.push(DayRange { first, last });
            first = last + Days::new(1);
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_ends_on_its_day_and_holds_its_count() {
        let range = DayRange::ending(date("2026-03-01"), 3);
        assert_eq!(range.first(), date("2026-02-27"));
        assert_eq!(range.len(), 3);
        let days: Vec<_> = range.days().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(DayRange::ending(date("2026-03-01"), 0).len(), 1);
    }

    #[test]
    fn pieces_split_only_where_the_cap_forces_it() {
        let range = DayRange::ending(date("2026-11-28"), 28);
        let pieces = range.pieces(14);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].first(), range.first());
        assert_eq!(pieces[0].len(), 14);
        assert_eq!(pieces[1].last(), range.last());
        assert_eq!(range.pieces(90), vec![range]);
        assert_eq!(DayRange::ending(date("2026-11-28"), 15).pieces(14).len(), 2);
        assert_eq!(DayRange::ending(date("2026-11-28"), 14).pieces(14).len(), 1);
    }
}

//! Threshold alerts, as Alertmanager has them for a service: a rule watches the mean of
//! a metric over the N days ending on each day; on the first day the condition holds
//! the alert fires (one message), while it keeps holding nothing is said, and on the
//! first day it no longer holds it resolves (one message).
//!
//! This is the pure part: the rule, the verdict of one day, and the state machine that
//! turns verdicts into transitions. Days are stepped in date order and a day at or
//! before the last one stepped changes nothing, so a re-run, a catch-up of missed days
//! and a second run that waited for the first one's lock all end in the same state with
//! the same transitions as timely runs.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::day::DaySummary;
use crate::day::metrics::{Metric, mean};

/// The longest window a rule may average over.
pub const MAX_DAYS: u32 = 90;

/// One `[[alerts]]` table of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub metric: Metric,
    #[serde(default = "one_day")]
    pub days: u32,
    pub below: Option<f64>,
    pub above: Option<f64>,
    /// The sinks its messages go to; every enabled sink when absent.
    pub sinks: Option<Vec<String>>,
}

fn one_day() -> u32 {
    1
}

/// Which side of the threshold is the alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Below(f64),
    Above(f64),
}

impl Threshold {
    pub fn value(self) -> f64 {
        match self {
            Threshold::Below(v) | Threshold::Above(v) => v,
        }
    }

    fn holds(self, mean: f64) -> bool {
        match self {
            Threshold::Below(limit) => mean < limit,
            Threshold::Above(limit) => mean > limit,
        }
    }
}

impl Rule {
    /// What is wrong with the rule, if anything (sinks are the config's to check).
    pub fn problem(&self) -> Option<String> {
        if self.name.trim().is_empty() {
            return Some("its name is empty; give it a name".into());
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Some(format!("days = {} is outside 1..={MAX_DAYS}", self.days));
        }
        match (self.below, self.above) {
            (Some(_), Some(_)) => Some("it has both below and above; keep one".into()),
            (None, None) => Some("it has neither below nor above; add one".into()),
            (Some(v), None) | (None, Some(v)) if !v.is_finite() => {
                Some("its threshold is not a finite number".into())
            }
            _ => None,
        }
    }

    /// The rule's threshold; rules are checked when the config loads.
    pub fn threshold(&self) -> Threshold {
        match (self.below, self.above) {
            (Some(v), _) => Threshold::Below(v),
            (None, v) => Threshold::Above(v.unwrap_or(f64::NAN)),
        }
    }

    /// The verdict on `date` from `days` (any days; those outside the rule's window are
    /// ignored, a missing day counts as one without data).
    pub fn verdict(&self, days: &[DaySummary], date: NaiveDate) -> Verdict {
        let first = date - Days::new(u64::from(self.days.max(1) - 1));
        let window: Vec<&DaySummary> = days
            .iter()
            .filter(|d| (first..=date).contains(&d.date))
            .collect();
        let needed = (self.days as usize).div_ceil(2);
        match mean(self.metric, &window) {
            Some(m) if m.days_with_data >= needed => {
                if self.threshold().holds(m.value) {
                    Verdict::Holds(m.value)
                } else {
                    Verdict::Clear(m.value)
                }
            }
            m => Verdict::Undecided {
                days_with_data: m.map_or(0, |m| m.days_with_data),
                needed,
            },
        }
    }
}

/// One day's verdict: the mean, and whether the condition holds; or too few days with
/// data to say (fewer than half the window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Holds(f64),
    Clear(f64),
    Undecided {
        days_with_data: usize,
        needed: usize,
    },
}

/// An alert's state between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub firing: bool,
    /// The day it last fired, while firing.
    #[serde(default)]
    pub since: Option<NaiveDate>,
    /// The last day stepped: a day up to it is never stepped again.
    #[serde(default)]
    pub evaluated_through: Option<NaiveDate>,
    /// The last mean computed, for `run --dry-run` and `config`.
    #[serde(default)]
    pub last_value: Option<f64>,
}

/// A change of an alert's state, to be told once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    Fired {
        date: NaiveDate,
        value: f64,
    },
    Resolved {
        date: NaiveDate,
        value: f64,
        since: Option<NaiveDate>,
    },
}

impl Transition {
    pub fn date(self) -> NaiveDate {
        match self {
            Transition::Fired { date, .. } | Transition::Resolved { date, .. } => date,
        }
    }
}

impl AlertState {
    /// Steps the state to `date` with its verdict. A day at or before the last one
    /// stepped is a re-run and changes nothing; no verdict changes nothing but the day
    /// stepped.
    pub fn step(&mut self, date: NaiveDate, verdict: Verdict) -> Option<Transition> {
        if self
            .evaluated_through
            .is_some_and(|through| date <= through)
        {
            return None;
        }
        self.evaluated_through = Some(date);
        match verdict {
            Verdict::Holds(value) => {
                self.last_value = Some(value);
                if self.firing {
                    return None;
                }
                self.firing = true;
                self.since = Some(date);
                Some(Transition::Fired { date, value })
            }
            Verdict::Clear(value) => {
                self.last_value = Some(value);
                if !self.firing {
                    return None;
                }
                self.firing = false;
                Some(Transition::Resolved {
                    date,
                    value,
                    since: self.since.take(),
                })
            }
            Verdict::Undecided { .. } => None,
        }
    }

    /// The days to step in a run for `date`: every day after the last one stepped, up
    /// to `date`, but no further back than `max_back` days (a first run steps `date`
    /// alone).
    pub fn days_to_step(&self, date: NaiveDate, max_back: u32) -> Vec<NaiveDate> {
        let earliest = date - Days::new(u64::from(max_back.max(1) - 1));
        let from = match self.evaluated_through {
            Some(through) => through.succ_opt().unwrap_or(through).max(earliest),
            None => date,
        };
        from.iter_days().take_while(|d| *d <= date).collect()
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;
    use crate::day::demo::sample_days;

    fn rule(days: u32) -> Rule {
        Rule {
            name: "short sleep".into(),
            metric: Metric::SleepHours,
            days,
            below: Some(6.0),
            above: None,
            sinks: None,
        }
    }

    /// Days ending on 2026-11-30, one per hour value (None = no sleep recorded).
    fn nights(hours: &[Option<f64>]) -> Vec<DaySummary> {
        let last: NaiveDate = "2026-11-30".parse().unwrap();
        let mut days = sample_days(last, hours.len() as u32);
        for (day, h) in days.iter_mut().zip(hours) {
            match h {
                Some(h) => day.sleep.as_mut().unwrap().minutes_asleep = Some((h * 60.0) as i64),
                None => day.sleep = None,
            }
        }
        days
    }

    /// Steps every day of `days` in order, one run a day; the transitions as
    /// `F<day-of-month>` / `R<day-of-month>`.
    fn timely(rule: &Rule, days: &[DaySummary]) -> (Vec<String>, AlertState) {
        let mut state = AlertState::default();
        let mut told = Vec::new();
        for day in days {
            told.extend(state.step(day.date, rule.verdict(days, day.date)).map(name));
        }
        (told, state)
    }

    fn name(t: Transition) -> String {
        use chrono::Datelike;
        match t {
            Transition::Fired { date, .. } => format!("F{}", date.day()),
            Transition::Resolved { date, .. } => format!("R{}", date.day()),
        }
    }

    const S: Option<f64> = Some(5.0);
    const L: Option<f64> = Some(7.5);
    const EDGE: Option<f64> = Some(6.0);

    #[test_case(&[L, L, L], &[] ; "staying clear says nothing")]
    #[test_case(&[L, S], &["F30"] ; "crossing fires once")]
    #[test_case(&[S, S, S, S], &["F27"] ; "staying fired says nothing more")]
    #[test_case(&[S, S, L], &["F28", "R30"] ; "recovering resolves once")]
    #[test_case(&[S, L, S, L, S], &["F26", "R27", "F28", "R29", "F30"] ; "flapping tells every crossing")]
    #[test_case(&[S, EDGE, S], &["F28", "R29", "F30"] ; "exactly at the threshold is not below it")]
    #[test_case(&[S, None, None, L], &["F27", "R30"] ; "gaps leave the state alone")]
    fn a_one_day_rule_over_nights(hours: &[Option<f64>], expected: &[&str]) {
        let days = nights(hours);
        let (told, _) = timely(&rule(1), &days);
        assert_eq!(told, expected);
    }

    #[test_case(&[S, S, S, None, None, None, None], None ; "three of seven days is no verdict")]
    #[test_case(&[S, S, S, S, None, None, None], Some(true) ; "four of seven days is a verdict")]
    #[test_case(&[L, L, L, L, S, S, S], Some(false) ; "the mean decides, not the last day")]
    fn a_week_rule_needs_half_the_days(hours: &[Option<f64>], holds: Option<bool>) {
        let days = nights(hours);
        let verdict = rule(7).verdict(&days, days.last().unwrap().date);
        match (verdict, holds) {
            (Verdict::Undecided { needed, .. }, None) => assert_eq!(needed, 4),
            (Verdict::Holds(_), Some(true)) | (Verdict::Clear(_), Some(false)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_catch_up_tells_what_timely_runs_would_have() {
        let days = nights(&[L, L, S, S, L, L, S, L]);
        let r = rule(1);
        let (timely_told, timely_state) = timely(&r, &days);
        // ran on the 23rd, then down until the 30th: one run steps the 24th..30th
        let mut state = AlertState::default();
        let mut told = Vec::new();
        let first = days[0].date;
        told.extend(state.step(first, r.verdict(&days, first)).map(name));
        let last = days.last().unwrap().date;
        for date in state.days_to_step(last, 14) {
            told.extend(state.step(date, r.verdict(&days, date)).map(name));
        }
        assert_eq!(told, timely_told);
        assert_eq!(state, timely_state);
        assert_eq!(told, ["F25", "R27", "F29", "R30"]);
    }

    #[test]
    fn a_re_run_or_a_second_run_after_the_lock_tells_nothing_again() {
        let days = nights(&[L, S]);
        let r = rule(1);
        let (_, mut state) = timely(&r, &days);
        let before = state.clone();
        let last = days[1].date;
        // the second run waited on the lock, then reads the first run's state
        assert!(state.days_to_step(last, 14).is_empty());
        assert_eq!(state.step(last, r.verdict(&days, last)), None);
        // a re-run of an earlier day
        assert_eq!(state.step(days[0].date, Verdict::Clear(8.0)), None);
        assert_eq!(state, before);
    }

    #[test]
    fn a_first_run_steps_only_its_own_day_and_a_long_gap_is_bounded() {
        let date: NaiveDate = "2026-11-30".parse().unwrap();
        assert_eq!(AlertState::default().days_to_step(date, 14), [date]);
        let state = AlertState {
            evaluated_through: Some("2026-10-01".parse().unwrap()),
            ..AlertState::default()
        };
        let days = state.days_to_step(date, 14);
        assert_eq!(days.len(), 14);
        assert_eq!(days.last(), Some(&date));
    }

    #[test_case(Rule { below: Some(1.0), above: Some(2.0), ..rule(7) }, "both" ; "both thresholds")]
    #[test_case(Rule { below: None, ..rule(7) }, "neither" ; "no threshold")]
    #[test_case(rule(0), "outside 1..=90" ; "zero days")]
    #[test_case(rule(91), "outside 1..=90" ; "too many days")]
    #[test_case(Rule { name: " ".into(), ..rule(7) }, "name" ; "empty name")]
    fn bad_rules_say_what_is_wrong(rule: Rule, says: &str) {
        let problem = rule.problem().unwrap();
        assert!(problem.contains(says), "{problem}");
    }
}

//! The monitoring part of a run: on the `[weekly]` day the week's message, and for every
//! `[[alerts]]` rule the days it has not been stepped through yet, stepped in date order
//! against the same range of days the run fetched for its own day (one round of
//! requests covers the day, the fortnight and every rule's window).

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};

use super::Post;
use crate::config::Config;
use crate::day::alerts::{AlertState, Rule, Transition, Verdict};
use crate::day::week::{FORTNIGHT_DAYS, week};
use crate::day::{DaySummary, MessageKind};
use crate::render::Renderer;

/// The most days a run steps an alert through: a catch-up after longer downtime starts
/// this many days back (the older transitions would be news no one needs).
pub(super) const MAX_CATCH_UP: u32 = 14;

/// What the run for one day has to do beyond the day's own messages.
pub(super) struct Plan<'a> {
    date: NaiveDate,
    /// Whether the day is the `[weekly]` day.
    pub(super) week: bool,
    alerts: Vec<Stepping<'a>>,
}

/// One rule, its state as the run found it, and the days to step it through.
struct Stepping<'a> {
    rule: &'a Rule,
    state: AlertState,
    days: Vec<NaiveDate>,
}

/// What the monitoring adds to a run: its messages, the alerts' new states, and one
/// line per alert for `run --dry-run`.
pub(super) struct Outcome {
    pub(super) posts: Vec<Post>,
    pub(super) states: BTreeMap<String, AlertState>,
    pub(super) report: Vec<String>,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        config: &'a Config,
        states: &BTreeMap<String, AlertState>,
        date: NaiveDate,
    ) -> Plan<'a> {
        let week = config
            .weekly
            .as_ref()
            .is_some_and(|weekly| date.weekday() == weekly.day);
        let alerts = config
            .alerts
            .iter()
            .map(|rule| {
                let state = states.get(&rule.name).cloned().unwrap_or_default();
                let days = state.days_to_step(date, MAX_CATCH_UP);
                Stepping { rule, state, days }
            })
            .collect();
        Plan { date, week, alerts }
    }

    /// Whether some alert has a day to step.
    pub(super) fn alerts_pending(&self) -> bool {
        self.alerts.iter().any(|a| !a.days.is_empty())
    }

    /// How many days ending on the run's day the fetch must cover.
    pub(super) fn days_needed(&self) -> u32 {
        let week = if self.week { FORTNIGHT_DAYS } else { 1 };
        self.alerts
            .iter()
            .filter_map(|a| {
                let first = a.days.first()?;
                let back = u32::try_from((self.date - *first).num_days()).unwrap_or(0);
                Some(a.rule.days + back)
            })
            .fold(week, u32::max)
    }

    /// Steps every alert through its days in date order and renders the week's message
    /// and each transition's.
    pub(super) fn evaluate(self, days: &[DaySummary], renderer: &Renderer) -> Result<Outcome> {
        let mut posts = Vec::new();
        if self.week {
            match renderer.render_week(&week(days, self.date))? {
                Some(text) => posts.push(Post::new(self.date, MessageKind::Week, text, None)),
                None => log::warn!(
                    "week message for {} skipped: its template rendered nothing",
                    self.date
                ),
            }
        }
        let mut states = BTreeMap::new();
        let mut report = Vec::new();
        for Stepping {
            rule,
            mut state,
            days: to_step,
        } in self.alerts
        {
            let mut last_verdict = None;
            for date in to_step {
                let verdict = rule.verdict(days, date);
                last_verdict = Some(verdict);
                if let Some(transition) = state.step(date, verdict) {
                    let Some(text) = renderer.render_alert(rule, transition)? else {
                        log::warn!(
                            "the {} message of alert {:?} rendered nothing",
                            kind_of(transition).name(),
                            rule.name
                        );
                        continue;
                    };
                    let key = format!("{}:{}", kind_of(transition).name(), rule.name);
                    posts.push(Post {
                        key,
                        ..Post::new(
                            transition.date(),
                            kind_of(transition),
                            text,
                            rule.sinks.clone(),
                        )
                    });
                }
            }
            report.push(describe(rule, &state, last_verdict));
            states.insert(rule.name.clone(), state);
        }
        Ok(Outcome {
            posts,
            states,
            report,
        })
    }
}

fn kind_of(transition: Transition) -> MessageKind {
    match transition {
        Transition::Fired { .. } => MessageKind::Alert,
        Transition::Resolved { .. } => MessageKind::Resolved,
    }
}

/// "alert "short sleep": firing since 2026-11-20; 7-day mean 5.62 (below 6)".
fn describe(rule: &Rule, state: &AlertState, verdict: Option<Verdict>) -> String {
    let status = match (state.firing, state.since) {
        (true, Some(since)) => format!("firing since {since}"),
        (true, None) => "firing".to_string(),
        (false, _) => "not firing".to_string(),
    };
    let threshold = match (rule.below, rule.above) {
        (Some(v), _) => format!("below {v}"),
        (_, v) => format!("above {}", v.unwrap_or_default()),
    };
    let value = match verdict {
        Some(Verdict::Holds(v) | Verdict::Clear(v)) => {
            format!("{}-day mean of {} {v:.2}", rule.days, rule.metric)
        }
        Some(Verdict::Undecided {
            days_with_data,
            needed,
        }) => format!(
            "no verdict: {days_with_data} of {} days have {} data, {needed} needed",
            rule.days, rule.metric
        ),
        None => match state.last_value {
            Some(v) => format!("already evaluated; last {}-day mean {v:.2}", rule.days),
            None => "already evaluated".to_string(),
        },
    };
    format!(
        "alert {:?}: {status}; {value} (fires {threshold})",
        rule.name
    )
}

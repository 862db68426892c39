//! `[notify] sink`: after a scheduled run, tell the person about a problem only they can
//! fix, through one sink of their choice (a private Discord or Slack channel is the
//! natural one): re-authorization needed, a Testing-mode consent older than 5 days, a
//! tracker that has not synced for 3 days, the same failure 3 days running. One message
//! per problem (the state file remembers what was sent) and one when it is resolved.
//! Sending is best effort: a notification that cannot go out is a warning, never a
//! change of the run's own outcome.

use chrono::{Days, Utc};

use crate::config::ProviderKind;
use crate::context::Context;
use crate::error::Kind;
use crate::sinks;
use crate::store::credentials;
use crate::store::state::{self, State};

/// Days after consent from which an app in Testing is reported (Google ends the consent
/// on day 7: support.google.com/cloud/answer/15549945).
const CONSENT_WARN_DAYS: u64 = 5;
/// Consecutive days with the same failure before it is reported.
const STREAK_DAYS: usize = 3;

/// A problem: a stable key (the state remembers it) and what to tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    key: &'static str,
    message: String,
}

/// After a run that ended with `kind` (None: success) and `message`: sends what is new
/// and what is resolved, and records both.
pub fn after_run(env: &Context, outcome: Option<Kind>, message: &str) {
    let Some(sink) = env.config.notify.sink else {
        return;
    };
    let store = state::store(&env.paths);
    let Ok(state) = store.load() else {
        return;
    };
    let authorized_at = credentials::store(&env.paths).load().ok().and_then(|c| {
        match env.config.provider {
            ProviderKind::GoogleHealth => c.google,
            ProviderKind::FitbitLegacy => c.fitbit,
        }
        .map(|g| g.authorized_at)
    });
    let problems = problems(&state, outcome, message, authorized_at);
    let (new, resolved) = changes(&state, &problems);
    if new.is_empty() && resolved.is_empty() {
        return;
    }
    let mut texts: Vec<String> = new
        .iter()
        .map(|p| format!("fitbit-notifier needs you: {}", p.message))
        .collect();
    texts.extend(
        resolved
            .iter()
            .map(|(_, was)| format!("fitbit-notifier: resolved: {was}")),
    );
    let sent = env.block_on_with_deadline(async {
        for text in &texts {
            sinks::post_text(env, sink, text).await?;
        }
        Ok(())
    });
    if let Err(err) = sent {
        log::warn!("cannot notify through {}: {err:#}", sink.title());
        return;
    }
    let saved = store.update(|state| {
        for problem in &new {
            state
                .notified
                .insert(problem.key.to_string(), problem.message.clone());
        }
        for (key, _) in &resolved {
            state.notified.remove(key);
        }
        Ok(())
    });
    if let Err(err) = saved {
        log::warn!("cannot record the notification in the state file: {err}");
    }
}

/// The problems now, from the run's outcome, the run history and the consent's age.
fn problems(
    state: &State,
    outcome: Option<Kind>,
    message: &str,
    authorized_at: Option<chrono::DateTime<Utc>>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if outcome == Some(Kind::Reauth) {
        problems.push(Problem {
            key: "reauthorize",
            message: message.to_string(),
        });
    }
    if state.google_publishing.as_deref() == Some("testing")
        && let Some(at) = authorized_at
        && at + Days::new(CONSENT_WARN_DAYS) <= Utc::now()
    {
        problems.push(Problem {
            key: "consent",
            message: format!(
                "the Google consent (app in Testing) ends on {}: run `fitbit-notifier auth google` before then, or publish the app",
                (at + Days::new(7)).format("%Y-%m-%d %H:%M UTC")
            ),
        });
    }
    let streak: Vec<u8> = state
        .run_history
        .values()
        .rev()
        .take(STREAK_DAYS)
        .copied()
        .collect();
    let same_failure = streak.len() == STREAK_DAYS
        && streak[0] != 0
        && streak.iter().all(|&exit| exit == streak[0])
        && consecutive(state);
    // a re-authorization is its own problem above
    if same_failure && outcome.is_some() && outcome != Some(Kind::Reauth) {
        let (key, text) = if message.contains("not synced yet") {
            (
                "tracker",
                format!(
                    "the tracker has not synced for {STREAK_DAYS} days: open the Google Health app next to it ({message})"
                ),
            )
        } else {
            (
                "repeated",
                format!("the daily run failed the same way {STREAK_DAYS} days running: {message}"),
            )
        };
        problems.push(Problem { key, message: text });
    }
    problems
}

/// Whether the last days of the history are consecutive calendar days.
fn consecutive(state: &State) -> bool {
    let days: Vec<_> = state.run_history.keys().rev().take(STREAK_DAYS).collect();
    days.windows(2)
        .all(|pair| *pair[1] + Days::new(1) == *pair[0])
}

/// The problems not notified yet, and the notified ones that are gone (key, message).
fn changes(state: &State, problems: &[Problem]) -> (Vec<Problem>, Vec<(String, String)>) {
    let new = problems
        .iter()
        .filter(|p| !state.notified.contains_key(p.key))
        .cloned()
        .collect();
    let resolved = state
        .notified
        .iter()
        .filter(|(key, _)| !problems.iter().any(|p| p.key == key.as_str()))
        .map(|(key, message)| (key.clone(), message.clone()))
        .collect();
    (new, resolved)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn history(exits: &[u8]) -> State {
        let today = Utc::now().date_naive();
        let mut state = State::default();
        for (i, &exit) in exits.iter().rev().enumerate() {
            state.run_history.insert(today - Days::new(i as u64), exit);
        }
        state
    }

    #[test]
    fn the_same_failure_three_days_running_is_one_problem() {
        let state = history(&[75, 75, 75]);
        let found = problems(&state, Some(Kind::TryLater), "not synced yet: …", None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "tracker");
        let two = history(&[0, 75, 75]);
        assert!(problems(&two, Some(Kind::TryLater), "x", None).is_empty());
        let mixed = history(&[1, 75, 75]);
        assert!(problems(&mixed, Some(Kind::TryLater), "x", None).is_empty());
    }

    #[test]
    fn testing_consent_is_a_problem_from_day_five() {
        let mut state = State {
            google_publishing: Some("testing".into()),
            ..State::default()
        };
        let day4 = Utc::now() - TimeDelta::days(4);
        assert!(problems(&state, None, "", Some(day4)).is_empty());
        let day5 = Utc::now() - TimeDelta::days(5);
        assert_eq!(problems(&state, None, "", Some(day5))[0].key, "consent");
        state.google_publishing = Some("production".into());
        assert!(problems(&state, None, "", Some(day5)).is_empty());
    }

    #[test]
    fn a_problem_is_new_once_and_resolved_once() {
        let mut state = State::default();
        let reauth = [Problem {
            key: "reauthorize",
            message: "run auth".into(),
        }];
        assert_eq!(changes(&state, &reauth).0.len(), 1);
        state
            .notified
            .insert("reauthorize".into(), "run auth".into());
        let (new, resolved) = changes(&state, &reauth);
        assert!(new.is_empty() && resolved.is_empty());
        let (new, resolved) = changes(&state, &[]);
        assert!(new.is_empty());
        assert_eq!(
            resolved,
            [("reauthorize".to_string(), "run auth".to_string())]
        );
    }
}

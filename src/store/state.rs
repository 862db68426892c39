//! `state.toml`: what the tool remembers between runs (machine-written, atomic, under
//! `state.toml.lock`). Every field has a default, so a state file written by an older
//! or newer version still reads.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::Paths;
use crate::day::alerts::AlertState;
use crate::store::TomlStore;
use crate::store::ledger::Ledger;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The account's IANA time zone as the provider last reported it: the first guess of
    /// a run, which asks again alongside the data and updates it when the account moved
    /// (`auth` reads it again too).
    #[serde(default)]
    pub account_timezone: Option<Tz>,
    /// What has been posted, per day, destination and message.
    #[serde(default)]
    pub posted: Ledger,
    /// How the last `run` ended, for `doctor`.
    #[serde(default)]
    pub last_run: Option<LastRun>,
    /// The Google app's publishing status as `init` recorded it: "testing" consent
    /// expires after 7 days, so `doctor` warns before.
    #[serde(default)]
    pub google_publishing: Option<String>,
    /// The exit status of each day's last scheduled run (a week of them), to see the
    /// same failure on consecutive days.
    #[serde(default)]
    pub run_history: BTreeMap<NaiveDate, u8>,
    /// The problems `[notify]` has told the person about and not yet seen resolved,
    /// by key, with the message that was sent.
    #[serde(default)]
    pub notified: BTreeMap<String, String>,
    /// Each `[[alerts]]` rule's state, by its name: written under the same lock as the
    /// ledger, so overlapping runs step an alert once.
    #[serde(default)]
    pub alerts: BTreeMap<String, AlertState>,
}

/// The outcome of one `run`: when, its exit status and its one-line message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastRun {
    pub at: DateTime<Utc>,
    pub exit: u8,
    pub message: String,
}

pub type StateStore = TomlStore<State>;

pub fn store(paths: &Paths) -> StateStore {
    TomlStore::public(paths.state.clone(), paths.state_lock.clone())
}

/// Caches the account zone. Failing to is not worth failing a run for: the zone is
/// known for this one, and the next run asks again.
pub fn remember_timezone(store: &StateStore, tz: Tz) {
    let saved = store.update(|state| {
        state.account_timezone = Some(tz);
        Ok(())
    });
    if let Err(err) = saved {
        log::warn!("cannot cache the account time zone: {err}");
    }
}

/// Records how a run ended. Failing to is only worth a warning: the run's own outcome
/// matters more than its record.
pub fn remember_run(store: &StateStore, exit: u8, message: &str) {
    // a run that waited out its deadline for the lock must not wait again here
    let saved = store.try_update(|state| {
        let now = Utc::now();
        state.last_run = Some(LastRun {
            at: now,
            exit,
            message: message.to_string(),
        });
        let today = now.date_naive();
        state.run_history.insert(today, exit);
        state
            .run_history
            .retain(|day, _| *day + chrono::Days::new(7) > today);
        Ok(())
    });
    match saved {
        Ok(Some(())) => {}
        Ok(None) => log::info!("another run holds the state file; its outcome is the one recorded"),
        Err(err) => log::warn!("cannot record the run's outcome in the state file: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_zone_round_trips_and_unknown_fields_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let store: StateStore =
            TomlStore::public(dir.path().join("s.toml"), dir.path().join("s.lock"));
        assert!(store.load().unwrap().account_timezone.is_none());
        remember_timezone(&store, chrono_tz::Asia::Tokyo);
        assert_eq!(
            store.load().unwrap().account_timezone,
            Some(chrono_tz::Asia::Tokyo)
        );
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("account_timezone = \"Asia/Tokyo\""), "{text}");
        std::fs::write(store.path(), "future_field = 1\n").unwrap();
        assert!(store.load().unwrap().account_timezone.is_none());
    }
}

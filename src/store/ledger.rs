//! The posted ledger: which message of which day went to which destination, with the
//! post's id. It lives in the state file and is what makes re-runs safe: a run posts
//! only what is missing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// `posted."2021-05-23".x.activity = { id = "…", at = … }` in the state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ledger(BTreeMap<NaiveDate, BTreeMap<String, BTreeMap<String, Entry>>>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The post's id; `None` when the service tells none (a Slack webhook), answered that
    /// it already had this text, or did not answer a post that may have landed.
    pub id: Option<String>,
    pub at: DateTime<Utc>,
}

impl Ledger {
    pub fn get(&self, date: NaiveDate, sink: &str, message: &str) -> Option<&Entry> {
        self.0.get(&date)?.get(sink)?.get(message)
    }

    pub fn is_posted(&self, date: NaiveDate, sink: &str, message: &str) -> bool {
        self.get(date, sink, message).is_some()
    }

    pub fn record(&mut self, date: NaiveDate, sink: &str, message: &str, posted: Entry) {
        self.0
            .entry(date)
            .or_default()
            .entry(sink.to_string())
            .or_default()
            .insert(message.to_string(), posted);
    }

    /// Forgets days older than `keep_from`, so the state file does not grow for years.
    pub fn prune_before(&mut self, keep_from: NaiveDate) {
        self.0.retain(|date, _| *date >= keep_from);
    }
}

/// The line of TOML that records `entry`, for a person to add to the state file when
/// the tool could not: `posted."2021-05-23".slack.activity = { at = "…" }`.
pub fn line(date: NaiveDate, sink: &str, message: &str, entry: &Entry) -> String {
    let mut table = toml::Table::new();
    if let Some(id) = &entry.id {
        table.insert("id".into(), id.clone().into());
    }
    table.insert(
        "at".into(),
        entry
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            .into(),
    );
    format!(
        "posted.\"{date}\".{sink}.{message} = {}",
        toml::Value::Table(table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn posted(id: &str) -> Entry {
        Entry {
            id: Some(id.to_string()),
            at: "2026-11-26T07:30:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn records_per_day_sink_and_message() {
        let mut ledger = Ledger::default();
        ledger.record(day("2021-05-23"), "x", "activity", posted("1"));
        assert!(ledger.is_posted(day("2021-05-23"), "x", "activity"));
        assert!(!ledger.is_posted(day("2021-05-23"), "x", "sleep"));
        assert!(!ledger.is_posted(day("2021-05-23"), "mastodon", "activity"));
        assert!(!ledger.is_posted(day("2021-05-24"), "x", "activity"));
        assert_eq!(
            ledger
                .get(day("2021-05-23"), "x", "activity")
                .unwrap()
                .id
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn round_trips_through_toml() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            posted: Ledger,
        }
        let mut ledger = Ledger::default();
        ledger.record(
            day("2021-05-23"),
            "x",
            "activity",
            posted("1445880548472328192"),
        );
        ledger.record(
            day("2021-05-23"),
            "x",
            "sleep",
            Entry {
                id: None,
                ..posted("")
            },
        );
        let text = toml::to_string(&Holder {
            posted: ledger.clone(),
        })
        .unwrap();
        assert!(text.contains("[posted.2021-05-23.x"), "{text}");
        let back: Holder = toml::from_str(&text).unwrap();
        assert_eq!(back.posted, ledger);
    }

    #[test]
    fn the_line_for_a_person_to_add_reads_back_as_the_entry() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            posted: Ledger,
        }
        let with_id = posted("1445880548472328192");
        let without_id = Entry {
            id: None,
            ..posted("")
        };
        // the state file as the tool writes it, with an entry of the same day and sink
        let mut ledger = Ledger::default();
        ledger.record(day("2021-05-23"), "slack", "activity", posted("9"));
        let saved = toml::to_string(&Holder { posted: ledger }).unwrap();
        // the lines go at the top, before the first [table] header
        let text = format!(
            "{}\n{}\n{saved}",
            line(day("2021-05-23"), "x", "activity", &with_id),
            line(day("2021-05-23"), "slack", "sleep", &without_id)
        );
        assert!(
            text.contains("posted.\"2021-05-23\".slack.sleep = { at = \"2026-11-26T07:30:00Z\" }"),
            "{text}"
        );
        let back: Holder = toml::from_str(&text).unwrap_or_else(|err| panic!("{err}\n{text}"));
        assert!(
            back.posted
                .is_posted(day("2021-05-23"), "slack", "activity")
        );
        assert_eq!(
            back.posted.get(day("2021-05-23"), "x", "activity"),
            Some(&with_id)
        );
        assert_eq!(
            back.posted.get(day("2021-05-23"), "slack", "sleep"),
            Some(&without_id)
        );
    }

    #[test]
    fn pruning_keeps_recent_days() {
        let mut ledger = Ledger::default();
        ledger.record(day("2021-05-01"), "x", "activity", posted("1"));
        ledger.record(day("2021-05-23"), "x", "activity", posted("2"));
        ledger.prune_before(day("2021-05-10"));
        assert!(!ledger.is_posted(day("2021-05-01"), "x", "activity"));
        assert!(ledger.is_posted(day("2021-05-23"), "x", "activity"));
    }
}

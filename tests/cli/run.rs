//! The daily job end to end: `run` and `tweet --date` against a mock Google Health API
//! and a signature-checking mock X: messages, the ledger, the freshness gate, dry runs.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::harness::{
    Daily, Options, assert_stderr_has, expected_message, requests_containing, stderr_of, stdout_of,
};
use crate::mocks::google::{DAY, Day, OLD_TOKEN, REFRESH_TOKEN, valid_credentials};
use crate::mocks::x::created;
use crate::mocks::{Grant, SingleUseTokens};
use crate::support::TestEnv;

/// The standard day's posts (tests/fixtures/expected_messages.toml).
pub(crate) fn activity_en() -> &'static str {
    expected_message("activity_en")
}

pub(crate) fn sleep_en() -> &'static str {
    expected_message("sleep_en")
}

/// A home for the daily job with the default options and `day` served.
async fn setup(day: Day) -> Daily {
    Daily::start(day, Options::default()).await
}

fn posted_texts(posts: &[Request]) -> Vec<String> {
    posts
        .iter()
        .map(|post| {
            let body: Value = serde_json::from_slice(&post.body).unwrap();
            body["text"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The ledger entries of `DAY` for `sink`, by message.
pub(crate) fn ledger(env: &TestEnv, sink: &str) -> toml::Table {
    let text = std::fs::read_to_string(env.state_path()).unwrap_or_default();
    let state: toml::Table = toml::from_str(&text).unwrap();
    state
        .get("posted")
        .and_then(|posted| posted.get(DAY))
        .and_then(|day| day.get(sink))
        .and_then(|entries| entries.as_table().cloned())
        .unwrap_or_default()
}

pub(crate) async fn data_requests(google: &MockServer) -> usize {
    requests_containing(google, "/dataTypes/").await
}

#[tokio::test]
async fn after_a_partial_failure_a_rerun_posts_only_the_missing_message() {
    let s = setup(Day::standard()).await;
    s.x.answer_posts(created(), Some(1)).await;
    s.x.answer_posts(ResponseTemplate::new(503), None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    assert_eq!(
        stderr_of(&output).lines().count(),
        1,
        "{}",
        stderr_of(&output)
    );
    let ledger_after_failure = ledger(&s.env, "x");
    assert!(ledger_after_failure.contains_key("activity"));
    assert!(!ledger_after_failure.contains_key("sleep"));

    s.x.answer_posts(created(), Some(1)).await;
    let rerun = s.run(&["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    let texts = posted_texts(&s.x.posts().await);
    assert_eq!(texts.iter().filter(|t| *t == activity_en()).count(), 1);
    assert_eq!(texts.last().map(String::as_str), Some(sleep_en()));
    assert!(ledger(&s.env, "x").contains_key("sleep"));
}

#[tokio::test]
async fn a_duplicate_answer_counts_as_posted_for_run_but_fails_an_explicit_tweet() {
    let duplicate = ResponseTemplate::new(403).set_body_json(json!({
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank", "title": "Forbidden", "status": 403
    }));
    let s = setup(Day::standard()).await;
    s.x.answer_posts(duplicate, None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let ledger = ledger(&s.env, "x");
    assert!(ledger.contains_key("activity") && ledger.contains_key("sleep"));
    assert!(ledger["activity"].get("id").is_none());

    let tweet = s.run(&["tweet", "--date", DAY]);
    assert_eq!(tweet.status.code(), Some(1));
    assert_stderr_has(&tweet, "duplicate");
}

fn synced_at(last_sync: &str) -> Day {
    let mut day = Day::standard();
    day.devices["pairedDevices"][1]["lastSyncTime"] = json!(last_sync);
    day
}

#[tokio::test]
async fn a_day_the_tracker_has_not_synced_past_is_75_and_posts_nothing_unless_forced() {
    // 23:30 in Berlin on the day itself
    let s = setup(synced_at("2026-11-25T22:30:00Z")).await;
    s.x.answer_posts(created(), None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("not synced yet") && stderr.contains("2026-11-25 23:30"),
        "{stderr}"
    );
    assert!(s.x.posts().await.is_empty());

    let forced = s.run(&["run", "--date", DAY, "--force"]);
    assert!(forced.status.success(), "{}", stderr_of(&forced));
    assert_eq!(s.x.posts().await.len(), 2);
}

/// The travel case of issue 15: the zone cached in Tokyo, the account now in Berlin, and
/// the tracker last synced at 20:00 in Berlin on the day, which is 04:00 the next day in
/// Tokyo. Read in the cached zone the day looks complete; the zone's answer in the data
/// round moves the sync time to Berlin's clock, so the gate holds the post. Google only:
/// Fitbit reports the sync time on the account's own clock, whatever zone it is read in.
#[tokio::test]
async fn a_moved_zone_puts_the_sync_gate_at_the_new_midnight() {
    let s = setup(synced_at("2026-11-25T19:00:00Z")).await;
    let config = std::fs::read_to_string(s.env.config_path()).unwrap();
    s.env
        .write_config(&config.replacen("timezone = \"Europe/Berlin\"\n", "", 1));
    let state = s.env.state_path();
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, "account_timezone = \"Asia/Tokyo\"\n").unwrap();
    // the settings answer Europe/Berlin (tests/fixtures/google/settings.json, built from
    // the discovery document's `Settings` schema: no recorded answer is public)
    crate::google::mount_settings(&s.google, OLD_TOKEN, 1).await;
    s.x.answer_posts(created(), None).await;

    let output = s.run(&["run", "--date", DAY]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("not synced yet")
            && stderr.contains("2026-11-25 20:00 (Europe/Berlin)")
            && stderr.contains("time zone is now Europe/Berlin (it was Asia/Tokyo)"),
        "{stderr}"
    );
    assert!(s.x.posts().await.is_empty());
    // read once in the cached zone and once in the new one (the paired devices aside,
    // 15 requests: the basal energy comes in three pages)
    assert_eq!(data_requests(&s.google).await, 2 * 15);
    let state = std::fs::read_to_string(&state).unwrap();
    assert!(
        state.contains("account_timezone = \"Europe/Berlin\""),
        "{state}"
    );
}

#[tokio::test]
async fn a_day_without_sleep_posts_the_activity_and_says_why_sleep_was_skipped() {
    let mut day = Day::standard();
    day.sleep = json!({});
    let s = setup(day).await;
    s.x.answer_posts(created(), None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(posted_texts(&s.x.posts().await), [activity_en()]);
    assert_stderr_has(&output, "sleep message for 2026-11-25 skipped");
}

#[tokio::test]
async fn an_impossible_value_is_posted_as_not_recorded_with_a_warning() {
    let day = Day::standard().with_rollup("steps", json!({"steps": {"countSum": "-5"}}));
    let s = setup(day).await;
    s.x.answer_posts(created(), None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        stderr_of(&output),
        "warn: google-health reported activity.steps = -5, which is impossible (expected 0 to 500000) \
         for 2026-11-25; it is treated as not recorded\n"
    );
    let texts = posted_texts(&s.x.posts().await);
    assert_eq!(
        texts[0],
        activity_en().replace("9876 steps (7.123 km)", "not recorded (7.123 km)")
    );
}

#[tokio::test]
async fn a_message_over_the_limit_stops_the_run_before_anything_is_posted() {
    let long_sleep = format!(
        "sleep = \"\"\"\n{{{{ date }}}} {}\n\"\"\"",
        "あ".repeat(140)
    );
    let top = format!("[templates]\n{long_sleep}\n");
    let s = Daily::start(Day::standard(), Options::top(&top)).await;
    s.x.answer_posts(created(), None).await;
    let output = s.run(&["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("sleep message is too long") && stderr.contains("by 11"),
        "{stderr}"
    );
    assert!(
        s.x.posts().await.is_empty(),
        "the activity message was not posted either"
    );
}

#[tokio::test]
async fn concurrent_runs_with_an_expired_token_post_each_message_once_and_refresh_once() {
    // Fitbit-style single-use refresh tokens: two refreshes from one token would be
    // one invalid_grant
    let tokens =
        SingleUseTokens::start(REFRESH_TOKEN, "ya29.single-use", Duration::from_millis(50));
    let options = Options {
        tokens: Some(&tokens),
        ..Options::default()
    };
    let s = Daily::start(Day::standard(), options).await;
    s.x.answer_posts(created(), None).await;
    let children: Vec<_> = (0..5)
        .map(|_| s.env.spawn(&["run", "--date", DAY]))
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = stderr_of(&output);
        // waiting for the lock is the normal case; giving up after LOCK_WAIT is the clean
        // "another run is in progress" answer
        assert!(
            output.status.success()
                || (output.status.code() == Some(75)
                    && stderr.contains("another fitbit-notifier process")),
            "{stderr}"
        );
    }
    assert_eq!(
        posted_texts(&s.x.posts().await),
        [activity_en(), sleep_en()]
    );
    let grants = tokens.grants();
    assert!(
        matches!(grants.as_slice(), [Grant::Rotated]),
        "one refresh and nothing else: {grants:?}"
    );
    let saved = s.env.read_credentials();
    assert!(saved.contains(&tokens.current()), "{saved}");
}

#[tokio::test]
async fn without_x_keys_run_is_78_before_fetching_anything() {
    let s = setup(Day::standard()).await;
    s.env.write_credentials(&valid_credentials());
    let output = s.run(&["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(78));
    assert_stderr_has(&output, "auth x");
    assert_eq!(data_requests(&s.google).await, 0);
}

#[test]
fn the_demo_needs_no_account_and_shows_the_original_posts() {
    let env = TestEnv::new();
    env.write_config("locale = \"ja\"\n");
    let output = env.output(&["run", "--demo"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        stdout_of(&output),
        format!(
            "{}\n---\n{}\n",
            expected_message("activity_ja_2021_05_23"),
            expected_message("sleep_ja_2021_05_23")
        )
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_demo_quietly() {
    let env = TestEnv::new();
    let mut child = env.spawn(&["run", "--demo"]);
    // `| head -0`: the reader closes its end before anything is written
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stderr_of(&output), "");
}

#[test]
fn a_date_that_is_not_a_date_is_a_usage_error() {
    let env = TestEnv::new();
    for args in [
        ["run", "--date", "2026-13-01"],
        ["run", "--date", "tomorrow"],
        ["fetch", "--date", "2026-02-30"],
        ["tweet", "--date", "25.11.2026"],
    ] {
        env.cmd().args(args).assert().code(2);
    }
}

#[tokio::test]
async fn a_date_in_the_future_is_1_with_a_message_and_asks_nothing() {
    let s = setup(Day::standard()).await;
    for command in ["run", "fetch"] {
        let output = s.run(&[command, "--date", "2099-01-01"]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("2099-01-01 is in the future in Europe/Berlin"),
            "{command}: {stderr}"
        );
    }
    assert_eq!(data_requests(&s.google).await, 0);
    assert!(s.x.posts().await.is_empty());
}

#[tokio::test]
async fn a_post_left_unanswered_is_reported_not_resent_and_not_doubled_by_the_rerun() {
    let s = Daily::start(Day::standard(), Options::http("attempts = 3\ntimeout = 1")).await;
    s.x.answer_posts(created().set_delay(Duration::from_secs(3)), None)
        .await;
    let output = s.run(&["run", "--date", DAY]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("may have been published"), "{stderr}");
    assert_eq!(s.x.posts().await.len(), 1, "sent once, not retried");
    assert!(
        ledger(&s.env, "x").is_empty(),
        "not recorded as posted either"
    );

    // it had landed: X now refuses the repeat, which the rerun records as posted
    s.x.answer_posts(
        ResponseTemplate::new(403).set_body_json(json!({
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank", "title": "Forbidden", "status": 403
        })),
        Some(1),
    )
    .await;
    s.x.answer_posts(created(), Some(1)).await;
    let rerun = s.run(&["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    assert_eq!(
        posted_texts(&s.x.posts().await),
        [activity_en(), activity_en(), sleep_en()]
    );
    let ledger = ledger(&s.env, "x");
    assert!(ledger.contains_key("activity") && ledger.contains_key("sleep"));
}

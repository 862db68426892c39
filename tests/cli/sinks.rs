//! Posting to several sinks: `run`, `tweet --date` and `auth` against loopback mocks of
//! Mastodon, Bluesky and the Discord and Slack webhooks, next to the signature-checking
//! mock X: the exact requests, the per-sink ledger, length limits, error mapping, dry
//! runs, and secrets that are never printed.

use std::process::Output;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use test_case::test_case;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::harness::{
    self, Daily, Options, assert_stderr_has, assert_stdout_has, closed_port, json_answer,
    stderr_of, stdout_of,
};
use crate::mocks::google::{DAY, Day, OLD_TOKEN};
use crate::mocks::google_days;
use crate::mocks::sinks::{
    self as sink_mocks, ACCESS_JWT, BLUESKY_DID, BLUESKY_HANDLE, BLUESKY_PASSWORD, CREATE_RECORD,
    CREATE_SESSION, DISCORD_MESSAGE_ID, DISCORD_PATH, MASTODON_TOKEN, RECORD_URI, REFRESH_JWT,
    SLACK_PATH, STATUS_ID, STATUSES, UPLOAD_BLOB, message_saved, record_created, session_created,
    slack_ok, status_created,
};
use crate::mocks::x::{ACCESS_TOKEN_SECRET, MEDIA_ID, MockX, POST_ID, created};
use crate::providers::Provider::Google;
use crate::run::{activity_en, data_requests, ledger, sleep_en};
use crate::support::TestEnv;

/// What must never appear in any output: tokens, passwords and the secret parts of the
/// webhook URLs.
const SECRETS: [&str; 7] = [
    MASTODON_TOKEN,
    BLUESKY_PASSWORD,
    ACCESS_JWT,
    REFRESH_JWT,
    "discord-webhook-token-Zp9",
    "slack-webhook-secret-Yk2",
    ACCESS_TOKEN_SECRET,
];

/// A home with credentials for Google and every sink, the config pointing at a mock of
/// each, and the standard day served by Google. Every sink answers success unless a
/// test mounts another answer.
struct Setup {
    env: TestEnv,
    google: MockServer,
    x: MockX,
    mastodon: MockServer,
    bluesky: MockServer,
    discord: MockServer,
    slack: MockServer,
}

/// The sinks, as `[sinks] enabled` names them.
#[derive(Clone, Copy, Debug)]
enum Sink {
    X,
    Mastodon,
    Bluesky,
    Discord,
    Slack,
}

use Sink::{Bluesky, Discord, Mastodon, Slack, X};

impl Sink {
    fn name(self) -> &'static str {
        match self {
            X => "x",
            Mastodon => "mastodon",
            Bluesky => "bluesky",
            Discord => "discord",
            Slack => "slack",
        }
    }

    /// Where it posts.
    fn post_path(self) -> &'static str {
        match self {
            X => "/2/tweets",
            Mastodon => STATUSES,
            Bluesky => CREATE_RECORD,
            Discord => DISCORD_PATH,
            Slack => SLACK_PATH,
        }
    }

    fn server(self, s: &Setup) -> &MockServer {
        match self {
            X => &s.x.server,
            Mastodon => &s.mastodon,
            Bluesky => &s.bluesky,
            Discord => &s.discord,
            Slack => &s.slack,
        }
    }
}

/// Every request that reached any sink.
async fn sink_requests(s: &Setup) -> usize {
    let mut count = 0;
    for sink in [X, Mastodon, Bluesky, Discord, Slack] {
        count += sink.server(s).received_requests().await.unwrap().len();
    }
    count
}

/// Fallback answers lose to the ones a test mounts (priority 1).
const FALLBACK: u8 = 10;

async fn setup(enabled: &[&str]) -> Setup {
    setup_with(enabled, 5, "").await
}

async fn setup_with(enabled: &[&str], timeout: u64, extra_config: &str) -> Setup {
    let (mastodon, bluesky, discord, slack) = tokio::join!(
        MockServer::start(),
        MockServer::start(),
        MockServer::start(),
        MockServer::start()
    );
    let enabled: Vec<String> = enabled.iter().map(|name| format!("\"{name}\"")).collect();
    let http = format!("attempts = 2\ntimeout = {timeout}");
    let tables = format!(
        "[bluesky]\nservice = \"{}\"\n\n[sinks]\nenabled = [{}]\n\n{extra_config}\n",
        bluesky.uri(),
        enabled.join(", ")
    );
    let options = Options {
        http: &http,
        tables: &tables,
        ..Options::default()
    };
    let Daily { env, google, x } = Daily::start(Day::standard(), options).await;
    env.write_credentials(&format!(
        "{}\n{}",
        env.read_credentials(),
        sink_mocks::credentials(&mastodon.uri(), &discord.uri(), &slack.uri())
    ));
    x.answer_posts(created(), None).await;
    let s = Setup {
        env,
        google,
        x,
        mastodon,
        bluesky,
        discord,
        slack,
    };
    for (server, at, response) in [
        (&s.mastodon, STATUSES, status_created()),
        (&s.bluesky, CREATE_SESSION, session_created()),
        (&s.bluesky, CREATE_RECORD, record_created()),
        (&s.discord, DISCORD_PATH, message_saved()),
        (&s.slack, SLACK_PATH, slack_ok()),
    ] {
        answer(server, "POST", at, response, None, FALLBACK).await;
    }
    s
}

/// Answers `verb path` on `server` with `response`, `times` times when given.
async fn answer(
    server: &MockServer,
    verb: &str,
    at: &str,
    response: ResponseTemplate,
    times: Option<u64>,
    priority: u8,
) {
    let mock = Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .with_priority(priority);
    match times {
        Some(times) => mock.up_to_n_times(times),
        None => mock,
    }
    .mount(server)
    .await;
}

/// An answer that takes precedence over the fallback, `times` times when given.
async fn answer_first(
    server: &MockServer,
    at: &str,
    response: ResponseTemplate,
    times: Option<u64>,
) {
    answer(server, "POST", at, response, times, 1).await;
}

async fn requests_to(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.url.path() == at)
        .collect()
}

fn run(s: &Setup, args: &[&str]) -> Output {
    s.env.output(args)
}

fn assert_no_secret(output: &Output) {
    harness::assert_no_secret(output, &SECRETS);
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// The ledger entries of `DAY` for `sink`.
fn texts(requests: &[Request], field: &str) -> Vec<String> {
    requests
        .iter()
        .map(|request| body(request)[field].as_str().unwrap().to_string())
        .collect()
}

/// The key the sink must send: the day, the sink, the message and the text's hash.
fn idempotency_key(message: &str, text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("fitbit-notifier-{DAY}-mastodon-{message}-{hash}")
}

#[tokio::test]
async fn run_posts_each_message_to_every_sink_in_the_shape_it_expects() {
    let s = setup(&["x", "mastodon", "bluesky", "discord", "slack"]).await;
    let started = Utc::now();
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "", "a successful run is silent");
    assert_eq!(stderr_of(&output), "", "a successful run is silent");

    let x_posts = s.x.posts().await;
    assert_eq!(texts(&x_posts, "text"), [activity_en(), sleep_en()]);

    let statuses = requests_to(&s.mastodon, STATUSES).await;
    assert_eq!(statuses.len(), 2);
    for (status, (message, text)) in statuses
        .iter()
        .zip([("activity", activity_en()), ("sleep", sleep_en())])
    {
        assert_eq!(
            header(status, "authorization"),
            Some(format!("Bearer {MASTODON_TOKEN}").as_str())
        );
        assert_eq!(
            header(status, "idempotency-key"),
            Some(idempotency_key(message, text).as_str())
        );
        assert_eq!(header(status, "content-type"), Some("application/json"));
        assert_eq!(body(status), json!({"status": text, "language": "en"}));
    }

    let sessions = requests_to(&s.bluesky, CREATE_SESSION).await;
    assert_eq!(sessions.len(), 1, "one session per run");
    assert_eq!(header(&sessions[0], "authorization"), None);
    assert_eq!(
        body(&sessions[0]),
        json!({"identifier": BLUESKY_HANDLE, "password": BLUESKY_PASSWORD})
    );
    let records = requests_to(&s.bluesky, CREATE_RECORD).await;
    assert_eq!(records.len(), 2);
    for (record, text) in records.iter().zip([activity_en(), sleep_en()]) {
        assert_eq!(
            header(record, "authorization"),
            Some(format!("Bearer {ACCESS_JWT}").as_str())
        );
        let mut sent = body(record);
        let created_at = sent["record"]
            .as_object_mut()
            .unwrap()
            .remove("createdAt")
            .unwrap();
        let created_at: DateTime<Utc> = created_at.as_str().unwrap().parse().unwrap();
        assert!(
            created_at >= started - chrono::Duration::seconds(1) && created_at <= Utc::now(),
            "{created_at}"
        );
        // no link in the text, so no facets
        assert_eq!(
            sent,
            json!({
                "repo": BLUESKY_DID,
                "collection": "app.bsky.feed.post",
                "record": {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"]}
            })
        );
    }

    let executions = requests_to(&s.discord, DISCORD_PATH).await;
    assert_eq!(executions.len(), 2);
    for (execution, text) in executions.iter().zip([activity_en(), sleep_en()]) {
        assert_eq!(execution.url.query(), Some("wait=true"));
        assert_eq!(header(execution, "authorization"), None);
        assert_eq!(header(execution, "content-type"), Some("application/json"));
        assert_eq!(
            body(execution),
            json!({"content": text, "allowed_mentions": {"parse": []}})
        );
    }

    let messages = requests_to(&s.slack, SLACK_PATH).await;
    assert_eq!(messages.len(), 2);
    for (message, text) in messages.iter().zip([activity_en(), sleep_en()]) {
        assert_eq!(header(message, "authorization"), None);
        assert_eq!(header(message, "content-type"), Some("application/json"));
        assert_eq!(body(message), json!({ "text": text }));
    }

    for (sink, id) in [
        ("x", Some(POST_ID)),
        ("mastodon", Some(STATUS_ID)),
        ("bluesky", Some(RECORD_URI)),
        ("discord", Some(DISCORD_MESSAGE_ID)),
        ("slack", None),
    ] {
        let entries = ledger(&s.env, sink);
        for message in ["activity", "sleep"] {
            let entry = entries
                .get(message)
                .unwrap_or_else(|| panic!("{sink} {message}"));
            assert_eq!(entry.get("id").and_then(|id| id.as_str()), id, "{sink}");
        }
    }

    // everything is posted everywhere: a re-run neither fetches nor posts
    let fetched = data_requests(&s.google).await;
    let again = run(&s, &["-v", "run", "--date", DAY]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_stderr_has(&again, "already posted");
    assert_eq!(data_requests(&s.google).await, fetched);
    assert_eq!(s.x.posts().await.len(), 2);
    assert_eq!(requests_to(&s.mastodon, STATUSES).await.len(), 2);
    assert_eq!(requests_to(&s.bluesky, CREATE_SESSION).await.len(), 1);
    assert_eq!(requests_to(&s.discord, DISCORD_PATH).await.len(), 2);
    assert_eq!(requests_to(&s.slack, SLACK_PATH).await.len(), 2);
}

#[test_case(X)]
#[test_case(Mastodon)]
#[test_case(Bluesky)]
#[test_case(Discord)]
#[test_case(Slack)]
#[tokio::test]
async fn each_sink_records_both_posts_and_a_rerun_posts_nothing(sink: Sink) {
    let s = setup(&[sink.name()]).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let posts = || requests_to(sink.server(&s), sink.post_path());
    assert_eq!(posts().await.len(), 2, "{sink:?}");
    let entries = ledger(&s.env, sink.name());
    assert!(
        entries.contains_key("activity") && entries.contains_key("sleep"),
        "{entries:?}"
    );
    let again = run(&s, &["run", "--date", DAY]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_eq!(posts().await.len(), 2, "{sink:?} posted again");
    // the two posts, and once a run Bluesky's sign-in or Mastodon's limit lookup: the
    // rerun asked nothing
    let once = match sink {
        Bluesky | Mastodon => 1,
        _ => 0,
    };
    assert_eq!(sink_requests(&s).await, 2 + once, "{sink:?}");
}

#[tokio::test]
async fn secrets_are_never_printed_even_in_debug_output() {
    let s = setup(&["x", "mastodon", "bluesky", "discord", "slack"]).await;
    let output = run(&s, &["-vv", "run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_stderr_has(
        &output,
        "posted the activity message of 2026-11-25 to Bluesky",
    );
    assert_no_secret(&output);
}

#[tokio::test]
async fn when_x_fails_and_mastodon_succeeds_the_rerun_posts_only_to_x() {
    let s = setup(&["x", "mastodon"]).await;
    s.x.answer_posts(ResponseTemplate::new(503), Some(2)).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("X had a server error"), "{stderr}");
    assert!(ledger(&s.env, "x").is_empty());
    let mastodon = ledger(&s.env, "mastodon");
    assert!(mastodon.contains_key("activity") && mastodon.contains_key("sleep"));

    let rerun = run(&s, &["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    let x_texts = texts(&s.x.posts().await, "text");
    // the two refused attempts at the activity message, then both messages
    assert_eq!(
        x_texts,
        [activity_en(), activity_en(), activity_en(), sleep_en()]
    );
    assert_eq!(
        requests_to(&s.mastodon, STATUSES).await.len(),
        2,
        "nothing posted to Mastodon again"
    );
    assert_eq!(
        requests_to(&s.mastodon, "/api/v2/instance").await.len(),
        1,
        "nor its instance asked again"
    );
    let x = ledger(&s.env, "x");
    assert!(x.contains_key("activity") && x.contains_key("sleep"));
}

#[tokio::test]
async fn a_failure_stops_only_that_sinks_later_messages() {
    let s = setup(&["discord", "slack"]).await;
    answer_first(&s.discord, DISCORD_PATH, message_saved(), Some(1)).await;
    answer_first(
        &s.discord,
        DISCORD_PATH,
        ResponseTemplate::new(400)
            .set_body_json(json!({"message": "Invalid Form Body", "code": 50035})),
        Some(1),
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert_stderr_has(
        &output,
        "Discord refused the message as invalid (400: Invalid Form Body, code 50035)",
    );
    assert_eq!(
        texts(&requests_to(&s.slack, SLACK_PATH).await, "text"),
        [activity_en(), sleep_en()]
    );
    let discord = ledger(&s.env, "discord");
    assert!(discord.contains_key("activity") && !discord.contains_key("sleep"));

    let rerun = run(&s, &["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    assert_eq!(
        texts(&requests_to(&s.discord, DISCORD_PATH).await, "content"),
        [activity_en(), sleep_en(), sleep_en()]
    );
    assert_eq!(requests_to(&s.slack, SLACK_PATH).await.len(), 2);
}

#[tokio::test]
async fn mastodon_resends_a_post_with_the_same_idempotency_key_within_a_run_and_across_runs() {
    // the first answer comes after the 1 s timeout: resent at once, with the same key
    let s = setup_with(&["mastodon"], 1, "").await;
    answer_first(
        &s.mastodon,
        STATUSES,
        status_created().set_delay(Duration::from_secs(3)),
        Some(1),
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let keys = |requests: &[Request]| -> Vec<String> {
        requests
            .iter()
            .map(|r| header(r, "idempotency-key").unwrap().to_string())
            .collect()
    };
    let activity = idempotency_key("activity", activity_en());
    let sleep = idempotency_key("sleep", sleep_en());
    assert_eq!(
        keys(&requests_to(&s.mastodon, STATUSES).await),
        [activity.clone(), activity.clone(), sleep.clone()]
    );

    // a run that gets only server errors leaves the post to the next run, same key
    let s = setup(&["mastodon"]).await;
    answer_first(&s.mastodon, STATUSES, ResponseTemplate::new(502), Some(2)).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    assert_stderr_has(
        &output,
        "Mastodon (127.0.0.1) had a server error (502 Bad Gateway)",
    );
    assert!(run(&s, &["run", "--date", DAY]).status.success());
    assert_eq!(
        keys(&requests_to(&s.mastodon, STATUSES).await),
        [activity.clone(), activity.clone(), activity, sleep]
    );
}

#[tokio::test]
async fn a_webhook_post_left_unanswered_is_recorded_and_never_sent_twice() {
    let s = setup_with(&["discord"], 1, "").await;
    answer_first(
        &s.discord,
        DISCORD_PATH,
        message_saved().set_delay(Duration::from_secs(3)),
        Some(1),
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "Discord gave no clear answer after the activity message of 2026-11-25 was sent"
        ) && stderr.contains("may have been published")
            && stderr.contains(&format!(
                "delete posted.\"2026-11-25\".discord.activity from {}",
                s.env.state_path().display()
            )),
        "{stderr}"
    );
    assert_no_secret(&output);
    assert_eq!(
        requests_to(&s.discord, DISCORD_PATH).await.len(),
        1,
        "not resent, and the sleep message waits"
    );
    let discord = ledger(&s.env, "discord");
    assert!(discord["activity"].get("id").is_none());

    let rerun = run(&s, &["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    assert_eq!(
        texts(&requests_to(&s.discord, DISCORD_PATH).await, "content"),
        [activity_en(), sleep_en()]
    );
}

/// A sink that "applies" the post and then answers 502: where a repeat cannot make a
/// second post (X refuses the same text, Mastodon honours the Idempotency-Key) the post
/// is sent again; anywhere else (webhooks, and Bluesky, which answers a repeated record
/// key with a 500 that cannot be told from a real fault) it is sent once, recorded as
/// "may have landed", and the run says what to check.
#[test_case(X, 3, true ; "x: the activity twice, then the sleep message")]
#[test_case(Mastodon, 3, true ; "mastodon: the activity twice, then the sleep message")]
#[test_case(Bluesky, 1, false)]
#[test_case(Discord, 1, false)]
#[test_case(Slack, 1, false)]
#[tokio::test]
async fn a_server_error_after_a_post_is_retried_only_where_a_repeat_cannot_post_twice(
    sink: Sink,
    requests: usize,
    posted: bool,
) {
    let s = setup(&[sink.name()]).await;
    answer_first(
        sink.server(&s),
        sink.post_path(),
        ResponseTemplate::new(502),
        Some(1),
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    let stderr = stderr_of(&output);
    assert_eq!(
        requests_to(sink.server(&s), sink.post_path()).await.len(),
        requests,
        "{stderr}"
    );
    assert_no_secret(&output);
    assert!(
        ledger(&s.env, sink.name()).contains_key("activity"),
        "{stderr}"
    );
    if posted {
        assert!(output.status.success(), "{stderr}");
    } else {
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("answered 502 Bad Gateway after receiving the request")
                && stderr.contains("may have been published"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn a_message_too_long_for_one_sink_stops_the_run_before_any_sink_posts() {
    // a link counts 23 on X, but every character on Bluesky
    let long_link = format!(
        "[templates]\nactivity = \"{{{{ date }}}} https://example.com/{}\"\n",
        "a".repeat(300)
    );
    let s = setup_with(&["x", "bluesky"], 5, &long_link).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("the activity message is too long for Bluesky")
            && stderr.contains("shorten it by 31"),
        "{stderr}"
    );
    assert!(s.x.posts().await.is_empty());
    assert!(s.bluesky.received_requests().await.unwrap().is_empty());
}

/// A `[templates]` table whose `message` is the date padded to `length` characters.
fn padded(message: &str, length: usize) -> String {
    // "{{ date }}" renders 10 characters
    format!(
        "[templates]\n{message} = \"{{{{ date }}}}{}\"\n",
        "a".repeat(length - 10)
    )
}

/// (sink, its limit plus one)
#[test_case(X, 281 ; "x")]
#[test_case(Mastodon, 101 ; "mastodon: this instance takes 100")]
#[test_case(Bluesky, 301 ; "bluesky")]
#[test_case(Discord, 2001 ; "discord")]
#[test_case(Slack, 40_001 ; "slack")]
#[tokio::test]
async fn each_sink_refuses_a_message_one_over_its_own_limit_before_any_request(
    sink: Sink,
    length: usize,
) {
    let s = setup_with(&[sink.name()], 5, &padded("activity", length)).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "domain": "mastodon.example",
            "configuration": {"statuses": {"max_characters": 100, "characters_reserved_per_url": 23}}
        })))
        .mount(&s.mastodon)
        .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{sink:?}: {}",
        stderr_of(&output)
    );
    let stderr = stderr_of(&output);
    let needle = format!("too long for {sink:?}");
    assert!(
        stderr.contains(&needle) && stderr.contains("shorten it by 1"),
        "{sink:?}: {stderr}"
    );
    let instance = requests_to(&s.mastodon, "/api/v2/instance").await.len();
    assert_eq!(sink_requests(&s).await - instance, 0, "{sink:?}");
}

#[tokio::test]
async fn without_the_instance_limit_mastodon_counts_against_500() {
    let s = setup_with(&["mastodon"], 5, &padded("activity", 500)).await;
    // no /api/v2/instance on this server: a 404
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(requests_to(&s.mastodon, "/api/v2/instance").await.len(), 1);
    assert_eq!(requests_to(&s.mastodon, STATUSES).await.len(), 2);
}

/// An instance's `GET /api/v2/instance`, taking images of `mime` only.
fn instance_answer(mime: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "domain": "mastodon.example",
        "configuration": {
            "statuses": {"max_characters": 500, "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": [mime], "description_limit": 1500}
        }
    }))
}

/// Mastodon's instance limits serve both the length check and the chart's upload: asked
/// for once a run, and only when Mastodon is enabled. An instance that takes no PNG
/// keeps the chart back, so the upload goes by the same answer.
#[test_case(&["mastodon"], "", "image/png", 1, 0 ; "mastodon, an ordinary day")]
#[test_case(&["mastodon"], WEEKLY, "image/png", 1, 1 ; "mastodon, the weekly day with its chart")]
#[test_case(&["mastodon"], WEEKLY, "image/jpeg", 1, 0 ; "mastodon, the weekly day on an instance without png")]
#[test_case(&["x", "mastodon", "bluesky", "discord", "slack"], WEEKLY, "image/png", 1, 1 ; "five sinks, the weekly day")]
#[test_case(&["x", "bluesky", "discord", "slack"], WEEKLY, "image/png", 0, 0 ; "every sink but mastodon")]
#[tokio::test]
async fn the_instance_is_asked_once_a_run_and_only_with_mastodon_enabled(
    enabled: &[&str],
    config: &str,
    mime: &str,
    asked: u64,
    uploads: usize,
) {
    let s = setup_with(enabled, 5, config).await;
    accept_uploads(&s).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(instance_answer(mime))
        .expect(asked)
        .mount(&s.mastodon)
        .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    s.mastodon.verify().await;
    assert_eq!(
        requests_to(&s.mastodon, "/api/v2/media").await.len(),
        uploads
    );
    let weekly = !config.is_empty();
    if enabled.contains(&"mastodon") {
        let week = ledger(&s.env, "mastodon").contains_key("week");
        assert_eq!(week, weekly, "{}", stderr_of(&output));
    }
}

/// Notes when the first request it is asked about arrived, and matches it or not as
/// `matches` says: on its own it only watches; before a path it notes that path's.
#[derive(Clone)]
struct NotesArrival {
    at: Arc<OnceLock<Instant>>,
    matches: bool,
}

impl NotesArrival {
    fn new(matches: bool) -> Self {
        NotesArrival {
            at: Arc::default(),
            matches,
        }
    }

    fn at(&self) -> Instant {
        *self.at.get().expect("no request arrived")
    }
}

impl Match for NotesArrival {
    fn matches(&self, _: &Request) -> bool {
        self.at.get_or_init(Instant::now);
        self.matches
    }
}

/// The instance needs nothing the data gives, so it is asked in the same round: its
/// request arrives while the data, answered a second after it is asked, is still
/// unanswered (asking after the data round could not arrive before that second is up).
#[tokio::test]
async fn the_instance_is_asked_while_the_data_is_still_on_its_way() {
    const DATA_DELAY: Duration = Duration::from_secs(1);
    let s = setup(&["mastodon"]).await;
    s.google.reset().await;
    Google.forbid_token_requests(&s.google).await;
    let mut day = Day::standard();
    day.delay = DATA_DELAY;
    day.mount(&s.google, OLD_TOKEN).await;
    let first_data = NotesArrival::new(false);
    Mock::given(first_data.clone())
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&s.google)
        .await;
    let instance = NotesArrival::new(true);
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .and(instance.clone())
        .respond_with(instance_answer("image/png"))
        .expect(1)
        .mount(&s.mastodon)
        .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let after_data = instance.at().saturating_duration_since(first_data.at());
    assert!(
        after_data < DATA_DELAY,
        "the instance was asked {after_data:?} after the data"
    );
    assert_eq!(requests_to(&s.mastodon, STATUSES).await.len(), 2);
}

fn text_answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string(body)
}

/// One sink enabled, answering `response` at `at` (where it posts, or Bluesky's sign-in):
/// the run exits `code` with one line naming what to do, prints no secret, records
/// nothing, does not retry and does not wait.
#[test_case(X, "/2/tweets", json_answer(401, json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})), 77, "run `fitbit-notifier auth x`" ; "x 401")]
#[test_case(X, "/2/tweets", json_answer(403, json!({"title": "Forbidden", "status": 403, "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.", "type": "https://api.twitter.com/2/problems/oauth1-permissions"})), 77, "Read and write" ; "x 403 permissions")]
#[test_case(X, "/2/tweets", json_answer(402, json!({"title": "Payment Required", "detail": "credits depleted", "type": "https://api.x.com/2/problems/credits-depleted"})), 1, "add credits" ; "x 402")]
#[test_case(X, "/2/tweets", json_answer(400, json!({"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})), 1, "One or more parameters" ; "x 400")]
#[test_case(Discord, DISCORD_PATH, json_answer(404, json!({"message": "Unknown Webhook", "code": 10015})), 77, "run `fitbit-notifier auth discord`" ; "discord 404")]
#[test_case(Mastodon, STATUSES, json_answer(401, json!({"error": "The access token is invalid"})), 77, "run `fitbit-notifier auth mastodon`" ; "mastodon 401")]
#[test_case(Mastodon, STATUSES, json_answer(403, json!({"error": "This action is outside the authorized scopes"})), 77, "write:statuses" ; "mastodon 403")]
#[test_case(Mastodon, STATUSES, json_answer(422, json!({"error": "Validation failed: Text character limit of 500 exceeded"})), 1, "Validation failed" ; "mastodon 422")]
#[test_case(Mastodon, STATUSES, json_answer(429, json!({"error": "Too many requests"})).insert_header("x-ratelimit-reset", "2099-01-01T00:00:00.000Z"), 75, "Mastodon's rate limit is reached (429); it resets at 2099-01-0" ; "mastodon 429")]
#[test_case(Bluesky, CREATE_SESSION, json_answer(401, json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"})), 77, "run `fitbit-notifier auth bluesky`" ; "bluesky session 401")]
#[test_case(Bluesky, CREATE_RECORD, json_answer(400, json!({"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"})), 1, "Bluesky refused the post as invalid" ; "bluesky 400")]
#[test_case(Bluesky, CREATE_RECORD, json_answer(429, json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})).insert_header("ratelimit-reset", "4102444800"), 75, "Bluesky's rate limit is reached" ; "bluesky 429")]
#[test_case(Discord, DISCORD_PATH, json_answer(429, json!({"message": "You are being rate limited.", "retry_after": 3600.5, "global": false})).insert_header("retry-after", "3601"), 75, "Discord's rate limit is reached" ; "discord 429")]
#[test_case(Slack, SLACK_PATH, text_answer(403, "invalid_token"), 77, "run `fitbit-notifier auth slack`" ; "slack 403")]
#[test_case(Slack, SLACK_PATH, text_answer(410, include_str!("../fixtures/real/slack/410_channel_is_archived.txt")), 1, "unarchive it" ; "slack 410, body from Slack's changelog")]
#[test_case(Slack, SLACK_PATH, text_answer(403, include_str!("../fixtures/real/slack/403_action_prohibited.txt")), 1, "a workspace admin" ; "slack 403 action_prohibited, body from Slack's changelog")]
#[test_case(Bluesky, CREATE_SESSION, json_answer(401, serde_json::from_str(include_str!("../fixtures/real/bluesky/createSession_401_AccountTakedown.json")).unwrap()), 1, "taken down" ; "bluesky session 401 AccountTakedown, body from the PDS source")]
#[test_case(Slack, SLACK_PATH, text_answer(400, "invalid_payload"), 1, "Slack refused the message as invalid (400: invalid_payload)" ; "slack 400")]
#[tokio::test]
async fn a_refusal_exits_with_what_to_do_naming_the_sink(
    sink: Sink,
    at: &str,
    response: ResponseTemplate,
    code: i32,
    needle: &str,
) {
    let s = setup(&[sink.name()]).await;
    answer_first(sink.server(&s), at, response, None).await;
    let started = std::time::Instant::now();
    let output = run(&s, &["run", "--date", DAY]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(code), "{needle}: {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_no_secret(&output);
    assert!(ledger(&s.env, sink.name()).is_empty(), "{needle}");
    if code != 75 {
        // a refusal is final: asked once, and the sink's later message is not posted
        assert_eq!(requests_to(sink.server(&s), at).await.len(), 1, "{needle}");
        assert!(started.elapsed() < Duration::from_secs(3), "{needle}");
    }
}

#[tokio::test]
async fn a_run_exits_75_while_any_sink_may_succeed_on_a_retry_and_reports_every_failure() {
    let s = setup(&["x", "slack"]).await;
    s.x.answer_posts(
        ResponseTemplate::new(401).set_body_json(json!({"title": "Unauthorized", "status": 401})),
        Some(10),
    )
    .await;
    answer_first(
        &s.slack,
        SLACK_PATH,
        text_answer(429, "rate_limited").insert_header("retry-after", "3601"),
        None,
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stderr.contains("run `fitbit-notifier auth x`"), "{stderr}");
    assert!(stderr.contains("Slack's rate limit is reached"), "{stderr}");

    // once Slack is fine, only X's refusal is left: authorize again
    let s = setup(&["x", "slack"]).await;
    s.x.answer_posts(
        ResponseTemplate::new(401).set_body_json(json!({"title": "Unauthorized", "status": 401})),
        Some(10),
    )
    .await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(77), "{}", stderr_of(&output));
    assert_eq!(requests_to(&s.slack, SLACK_PATH).await.len(), 2);
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_is_75_without_showing_its_url() {
    let closed = closed_port();
    let s = setup(&["discord", "slack"]).await;
    let credentials = s
        .env
        .read_credentials()
        .replace(&s.discord.uri(), &format!("http://127.0.0.1:{closed}"))
        .replace(&s.slack.uri(), &format!("http://127.0.0.1:{closed}"));
    s.env.write_credentials(&credentials);
    let output = run(&s, &["-vv", "run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("Discord: could not connect")
            && stderr.contains("Slack: could not connect"),
        "{stderr}"
    );
    assert_no_secret(&output);
}

#[tokio::test]
async fn dry_run_prints_the_messages_once_and_each_sinks_verdict_and_sends_nothing() {
    let s = setup(&["x", "mastodon", "bluesky", "discord", "slack"]).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "configuration": {"statuses": {"max_characters": 1000, "characters_reserved_per_url": 23}}
        })))
        .mount(&s.mastodon)
        .await;
    // Slack already has the activity message
    std::fs::create_dir_all(s.env.state_path().parent().unwrap()).unwrap();
    std::fs::write(
        s.env.state_path(),
        format!("[posted.\"{DAY}\".slack.activity]\nat = \"2026-11-26T07:30:00Z\"\n"),
    )
    .unwrap();
    let output = run(&s, &["run", "--date", DAY, "--dry-run"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        stdout_of(&output),
        format!("{}\n---\n{}\n", activity_en(), sleep_en())
    );
    let activity = activity_en().chars().count();
    let sleep = sleep_en().chars().count();
    assert_eq!(
        stderr_of(&output),
        format!(
            "x: activity: would be posted ({activity} of 280 weighted characters)\n\
             x: sleep: would be posted ({sleep} of 280 weighted characters)\n\
             mastodon: activity: would be posted ({activity} of 1000 characters)\n\
             mastodon: sleep: would be posted ({sleep} of 1000 characters)\n\
             bluesky: activity: would be posted ({activity} of 300 characters, {activity} of 3000 bytes)\n\
             bluesky: sleep: would be posted ({sleep} of 300 characters, {sleep} of 3000 bytes)\n\
             discord: activity: would be posted ({activity} of 2000 characters)\n\
             discord: sleep: would be posted ({sleep} of 2000 characters)\n\
             slack: activity: already posted\n\
             slack: sleep: would be posted ({sleep} of 40000 characters)\n"
        )
    );
    assert!(s.x.posts().await.is_empty());
    assert!(requests_to(&s.mastodon, STATUSES).await.is_empty());
    assert!(s.bluesky.received_requests().await.unwrap().is_empty());
    assert!(s.discord.received_requests().await.unwrap().is_empty());
    assert!(s.slack.received_requests().await.unwrap().is_empty());
    assert_eq!(ledger(&s.env, "x").len(), 0, "a dry run records nothing");

    // with --force every message would go out again
    let forced = run(&s, &["run", "--date", DAY, "--dry-run", "--force"]);
    assert_stderr_has(
        &forced,
        &format!("slack: activity: would be posted ({activity} of 40000 characters)"),
    );
}

#[tokio::test]
async fn a_dry_run_fails_as_the_run_would_on_a_message_too_long_for_a_sink() {
    let s = setup_with(&["x", "discord"], 5, &padded("sleep", 301)).await;
    let output = run(&s, &["run", "--date", DAY, "--dry-run"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("x: sleep: too long: the post weighs 301 characters")
            && stderr.contains("discord: sleep: would be posted (301 of 2000 characters)")
            && stderr.contains("error: the sleep message is too long for X"),
        "{stderr}"
    );
    assert!(s.discord.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_link_gets_a_bluesky_facet_indexed_in_bytes() {
    let template = "[templates]\nactivity = \"歩数 {{ date }} https://example.com/fitbit\"\n";
    let s = setup_with(&["bluesky"], 5, template).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let records = requests_to(&s.bluesky, CREATE_RECORD).await;
    let activity = &body(&records[0])["record"];
    let text = "歩数 2026-11-25 https://example.com/fitbit";
    assert_eq!(activity["text"], text);
    let start = text.find("https://").unwrap();
    assert_eq!(
        start, 18,
        "two 3-byte characters, a space, the date, a space"
    );
    assert_eq!(
        activity["facets"],
        json!([{
            "index": {"byteStart": start, "byteEnd": text.len()},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/fitbit"}]
        }])
    );
    assert!(body(&records[1])["record"].get("facets").is_none());
}

/// `tweet --date` and `run --force` post the day to every enabled sink whatever the
/// ledger says.
#[test_case(&["tweet", "--date", DAY] ; "tweet --date")]
#[test_case(&["run", "--date", DAY, "--force"] ; "run --force")]
#[tokio::test]
async fn a_second_post_of_the_day_goes_to_every_enabled_sink_when_asked_for(again: &[&str]) {
    let s = setup(&["x", "slack"]).await;
    assert!(run(&s, &["run", "--date", DAY]).status.success());
    let output = run(&s, again);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let twice = [activity_en(), sleep_en(), activity_en(), sleep_en()];
    assert_eq!(texts(&s.x.posts().await, "text"), twice);
    assert_eq!(
        texts(&requests_to(&s.slack, SLACK_PATH).await, "text"),
        twice
    );
}

#[tokio::test]
async fn an_enabled_sink_without_credentials_is_78_before_anything_is_fetched() {
    let s = setup(&["x", "bluesky"]).await;
    let without_bluesky: String = s
        .env
        .read_credentials()
        .split("\n[")
        .filter(|table| !table.starts_with("bluesky]"))
        .collect::<Vec<_>>()
        .join("\n[");
    s.env.write_credentials(&without_bluesky);
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("no Bluesky credentials are stored")
            && stderr.contains("run `fitbit-notifier auth bluesky` first")
            && stderr.contains("or take \"bluesky\" out of [sinks] enabled"),
        "{stderr}"
    );
    assert_eq!(data_requests(&s.google).await, 0);
    assert!(s.x.posts().await.is_empty());
}

/// The `config` report names the enabled sinks (an unknown or a repeated one is a row
/// of the table of configs it cannot use, in `config.rs`).
#[test]
fn config_lists_the_enabled_sinks() {
    let env = TestEnv::new();
    env.write_config("[sinks]\nenabled = [\"mastodon\", \"x\"]\n");
    let output = env.output(&["config"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_stdout_has(&output, "sinks             mastodon, x");
}

#[tokio::test]
async fn auth_mastodon_reads_the_instance_limit_and_stores_the_token_privately() {
    let mastodon = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "domain": "mastodon.example",
            "configuration": {"statuses": {"max_characters": 5000, "characters_reserved_per_url": 23}}
        })))
        .expect(1)
        .mount(&mastodon)
        .await;
    let env = TestEnv::new();
    let output = env
        .cmd()
        .args(["-vv", "auth", "mastodon", "--instance", &mastodon.uri()])
        .env("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("takes posts of up to 5000 characters"),
        "{stdout}"
    );
    assert!(
        stdout.contains("add \"mastodon\" to [sinks] enabled"),
        "{stdout}"
    );
    assert_no_secret(&output);
    let stored: toml::Table = toml::from_str(&env.read_credentials()).unwrap();
    assert_eq!(
        stored["mastodon"]["instance"].as_str(),
        Some(format!("{}/", mastodon.uri()).as_str())
    );
    assert_eq!(
        stored["mastodon"]["access_token"].as_str(),
        Some(MASTODON_TOKEN)
    );
    assert_eq!(env.credentials_mode(), 0o600);
}

#[test]
fn auth_mastodon_stores_nothing_when_the_instance_cannot_be_reached() {
    let closed = closed_port();
    let env = TestEnv::new();
    let output = env
        .cmd()
        .args(["auth", "mastodon"])
        .env("MASTODON_INSTANCE", format!("http://127.0.0.1:{closed}"))
        .env("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    assert_stderr_has(&output, "could not connect");
    assert_eq!(env.read_credentials(), "");
}

#[tokio::test]
async fn auth_bluesky_signs_in_before_storing_and_stores_nothing_when_refused() {
    let bluesky = MockServer::start().await;
    let env = TestEnv::new();
    env.write_config(&format!("[bluesky]\nservice = \"{}/\"\n", bluesky.uri()));
    answer_first(
        &bluesky,
        CREATE_SESSION,
        ResponseTemplate::new(401).set_body_json(
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ),
        Some(1),
    )
    .await;
    answer_first(&bluesky, CREATE_SESSION, session_created(), None).await;
    let auth = || {
        env.cmd()
            .args(["auth", "bluesky", "--handle", &format!("@{BLUESKY_HANDLE}")])
            .env("BLUESKY_APP_PASSWORD", BLUESKY_PASSWORD)
            .output()
            .unwrap()
    };
    let refused = auth();
    assert_eq!(refused.status.code(), Some(77), "{}", stderr_of(&refused));
    assert_stderr_has(&refused, "Invalid identifier or password");
    assert_eq!(env.read_credentials(), "");

    let output = auth();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_stdout_has(
        &output,
        &format!("Signed in to Bluesky as @{BLUESKY_HANDLE} ({BLUESKY_DID})"),
    );
    assert_no_secret(&output);
    let sessions = requests_to(&bluesky, CREATE_SESSION).await;
    assert_eq!(
        body(&sessions[1]),
        json!({"identifier": BLUESKY_HANDLE, "password": BLUESKY_PASSWORD})
    );
    let stored: toml::Table = toml::from_str(&env.read_credentials()).unwrap();
    assert_eq!(stored["bluesky"]["handle"].as_str(), Some(BLUESKY_HANDLE));
    assert_eq!(
        stored["bluesky"]["app_password"].as_str(),
        Some(BLUESKY_PASSWORD)
    );
    assert_eq!(env.credentials_mode(), 0o600);
}

#[test]
fn auth_discord_and_slack_store_the_webhook_url_without_printing_it() {
    let env = TestEnv::new();
    let discord = format!("https://discord.com{DISCORD_PATH}");
    let output = env
        .cmd()
        .args(["-vv", "auth", "discord"])
        .env("DISCORD_WEBHOOK_URL", &discord)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_no_secret(&output);
    // from standard input when it is not a terminal
    let slack = format!("https://hooks.slack.com{SLACK_PATH}");
    let output = env
        .cmd()
        .args(["auth", "slack"])
        .write_stdin(format!("{slack}\n"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_no_secret(&output);
    let stored: toml::Table = toml::from_str(&env.read_credentials()).unwrap();
    assert_eq!(
        stored["discord"]["webhook_url"].as_str(),
        Some(discord.as_str())
    );
    assert_eq!(
        stored["slack"]["webhook_url"].as_str(),
        Some(slack.as_str())
    );
    assert_eq!(env.credentials_mode(), 0o600);

    // a webhook over plain http would send its secret in the clear
    let output = env
        .cmd()
        .args(["auth", "slack"])
        .env(
            "SLACK_WEBHOOK_URL",
            format!("http://hooks.slack.com{SLACK_PATH}"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_stderr_has(&output, "does not start with https://");
    assert_no_secret(&output);
    assert!(
        env.read_credentials().contains(&slack),
        "the stored URL is kept"
    );
}

/// A date far outside any tracker's life once posted and then panicked (a date near
/// chrono's limits overflowed after the post, so it was never recorded): it is a usage
/// error (2) before anything is fetched or sent.
#[test_case("-262143-01-01")]
#[test_case("1900-01-01")]
#[test_case("2200-01-01")]
#[tokio::test]
async fn a_date_a_century_or_more_away_is_a_usage_error_before_anything_is_sent(date: &str) {
    let s = setup(&["slack"]).await;
    for command in ["run", "tweet", "fetch"] {
        let output = run(&s, &[command, &format!("--date={date}")]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("within a century of today"), "{stderr}");
    }
    assert_eq!(sink_requests(&s).await, 0);
    assert!(s.google.received_requests().await.unwrap().is_empty());
}

/// `[weekly]` on the test day's weekday (2026-11-25 is a Wednesday): the run posts the
/// week's message too, with the chart where the sink takes images.
const WEEKLY: &str = "[weekly]\nday = \"wednesday\"\n";
const MASTODON_MEDIA_ID: &str = "22348641";

/// The upload endpoints of every sink that takes images, answering success; and Google
/// answering the fortnight the week's message is made of.
async fn accept_uploads(s: &Setup) {
    google_days::mount(&s.google, OLD_TOKEN, &[]).await;
    s.x.answer_uploads(Duration::ZERO).await;
    answer(
        &s.mastodon,
        "POST",
        "/api/v2/media",
        ResponseTemplate::new(200)
            .set_body_json(harness::json_fixture("real/mastodon/media_v2_200.json")),
        None,
        FALLBACK,
    )
    .await;
    answer(
        &s.bluesky,
        "POST",
        UPLOAD_BLOB,
        ResponseTemplate::new(200)
            .set_body_json(harness::json_fixture("real/bluesky/uploadBlob_200.json")),
        None,
        FALLBACK,
    )
    .await;
}

/// The PNG in a request body: its signature, and the chart's size in its header.
fn carries_the_chart(body: &[u8]) -> bool {
    let signature = b"\x89PNG\r\n\x1a\n";
    body.windows(signature.len()).any(|w| w == signature)
}

#[test_case(X)]
#[test_case(Mastodon)]
#[test_case(Bluesky)]
#[test_case(Discord)]
#[test_case(Slack)]
#[tokio::test]
async fn the_weeks_message_carries_the_chart_with_its_alt_text_where_the_sink_takes_images(
    sink: Sink,
) {
    let s = setup_with(&[sink.name()], 5, WEEKLY).await;
    accept_uploads(&s).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let posts = requests_to(sink.server(&s), sink.post_path()).await;
    assert_eq!(posts.len(), 3, "activity, sleep and the week");
    let week = &posts[2];
    let alt = |text: &str| {
        assert!(text.starts_with("Steps, 7 days to 2026-11-25"), "{text}");
    };
    match sink {
        X => {
            assert_eq!(body(week)["media"], json!({"media_ids": [MEDIA_ID]}));
            let uploads = requests_to(&s.x.server, "/2/media/upload").await;
            assert_eq!(uploads.len(), 1);
            assert!(carries_the_chart(&uploads[0].body));
            let metadata = requests_to(&s.x.server, "/2/media/metadata").await;
            assert_eq!(body(&metadata[0])["id"], MEDIA_ID);
            alt(body(&metadata[0])["metadata"]["alt_text"]["text"]
                .as_str()
                .unwrap());
        }
        Mastodon => {
            assert_eq!(body(week)["media_ids"], json!([MASTODON_MEDIA_ID]));
            let uploads = requests_to(&s.mastodon, "/api/v2/media").await;
            assert_eq!(uploads.len(), 1);
            assert!(carries_the_chart(&uploads[0].body));
            let text = String::from_utf8_lossy(&uploads[0].body).into_owned();
            let description = text.split("name=\"description\"\r\n\r\n").nth(1).unwrap();
            alt(description);
        }
        Bluesky => {
            let image = &body(week)["record"]["embed"]["images"][0];
            assert_eq!(
                image["image"],
                harness::json_fixture("real/bluesky/uploadBlob_200.json")["blob"]
            );
            assert_eq!(image["aspectRatio"], json!({"width": 1200, "height": 675}));
            alt(image["alt"].as_str().unwrap());
            let uploads = requests_to(&s.bluesky, UPLOAD_BLOB).await;
            assert_eq!(header(&uploads[0], "content-type"), Some("image/png"));
            assert!(carries_the_chart(&uploads[0].body));
        }
        Discord => {
            assert!(carries_the_chart(&week.body));
            let text = String::from_utf8_lossy(&week.body).into_owned();
            let payload = text
                .split("name=\"payload_json\"\r\n\r\n")
                .nth(1)
                .and_then(|rest| rest.split("\r\n--").next())
                .unwrap();
            let payload: Value = serde_json::from_str(payload).unwrap();
            assert_eq!(payload["attachments"][0]["filename"], "week.png");
            assert_eq!(payload["attachments"][0]["id"], 0);
            alt(payload["attachments"][0]["description"].as_str().unwrap());
        }
        Slack => {
            assert!(!carries_the_chart(&week.body));
            assert!(body(week)["text"].as_str().is_some());
        }
    }
    assert!(ledger(&s.env, sink.name()).contains_key("week"));
    // posted: a re-run neither uploads nor posts again
    let before = sink_requests(&s).await;
    let again = run(&s, &["run", "--date", DAY]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_eq!(sink_requests(&s).await, before);
}

#[test_case(X, "/2/media/upload")]
#[test_case(Mastodon, "/api/v2/media")]
#[test_case(Bluesky, UPLOAD_BLOB)]
#[tokio::test]
async fn an_upload_that_fails_posts_no_week_and_the_rerun_uploads_again(sink: Sink, at: &str) {
    let s = setup_with(&[sink.name()], 5, WEEKLY).await;
    answer_first(sink.server(&s), at, ResponseTemplate::new(503), Some(2)).await;
    accept_uploads(&s).await;
    let output = run(&s, &["run", "--date", DAY]);
    assert_eq!(output.status.code(), Some(75), "{}", stderr_of(&output));
    assert_eq!(
        requests_to(sink.server(&s), sink.post_path()).await.len(),
        2
    );
    assert!(!ledger(&s.env, sink.name()).contains_key("week"));
    let rerun = run(&s, &["run", "--date", DAY]);
    assert!(rerun.status.success(), "{}", stderr_of(&rerun));
    assert_eq!(requests_to(sink.server(&s), at).await.len(), 3);
    assert_eq!(
        requests_to(sink.server(&s), sink.post_path()).await.len(),
        3
    );
    assert!(ledger(&s.env, sink.name()).contains_key("week"));
}

#[tokio::test]
async fn a_dry_run_writes_the_chart_and_says_which_sinks_get_it() {
    let s = setup_with(&["mastodon", "slack"], 5, WEEKLY).await;
    google_days::mount(&s.google, OLD_TOKEN, &[]).await;
    let file = s.env.home().join("week.png");
    let output = run(
        &s,
        &[
            "run",
            "--dry-run",
            "--date",
            DAY,
            "--chart",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let png = std::fs::read(&file).unwrap();
    assert!(carries_the_chart(&png));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("mastodon: week: would be posted (") && stderr.contains("with the chart ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("without the chart: Slack incoming webhooks cannot upload files"),
        "{stderr}"
    );
    assert_eq!(
        sink_requests(&s).await,
        1,
        "only Mastodon's instance limits"
    );

    // off: no chart to write, and the run says why
    let off = setup_with(
        &["slack"],
        5,
        "[weekly]\nday = \"wednesday\"\nchart = false\n",
    )
    .await;
    google_days::mount(&off.google, OLD_TOKEN, &[]).await;
    let output = run(
        &off,
        &[
            "run",
            "--dry-run",
            "--date",
            DAY,
            "--chart",
            file.to_str().unwrap(),
        ],
    );
    harness::assert_one_line_error(&output, 1, "[weekly] chart = false");
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    let at = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (at(16), at(20))
}

#[tokio::test]
async fn the_chart_command_draws_any_range_and_the_demo_draws_the_sample_week() {
    let s = setup_with(&["slack"], 5, "").await;
    google_days::mount(&s.google, OLD_TOKEN, &[]).await;
    let file = s.env.home().join("range.png");
    let output = run(
        &s,
        &[
            "chart",
            "--date",
            DAY,
            "--days",
            "10",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let png = std::fs::read(&file).unwrap();
    assert!(carries_the_chart(&png));
    assert_eq!(png_size(&png), (1200, 675));
    assert_stderr_has(&output, "alt text: Steps, 10 days to 2026-11-25");
    assert_eq!(sink_requests(&s).await, 0, "drawing posts nothing");

    let demo = TestEnv::new();
    let file = demo.home().join("demo.png");
    let output = demo.output(&["run", "--demo", "--chart", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(png_size(&std::fs::read(&file).unwrap()), (1200, 675));
    assert!(stderr_of(&output).contains("alt text: Steps, 7 days to "));
}

//! Posting to X: `auth x` and `tweet` against a loopback mock of X that recomputes the
//! OAuth 1.0a signature of every request it receives and answers 401 to a wrong one.

use std::collections::BTreeSet;
use std::process::Output;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use serde_json::json;
use test_case::test_case;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, Request, ResponseTemplate};

use crate::harness::{self, closed_port, json_answer};
use crate::mocks::x::{
    ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, MINTED_TOKEN, MINTED_TOKEN_SECRET,
    MockX, POST_ID, REQUEST_TOKEN, REQUEST_TOKEN_SECRET, created, now, oauth_fields,
};
use crate::support::TestEnv;

const PIN: &str = "4868795";

/// Every value that must never be printed. The request token is absent: it is part of
/// the authorize link the user has to open.
const SECRETS: [&str; 7] = [
    API_KEY,
    API_SECRET,
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    REQUEST_TOKEN_SECRET,
    MINTED_TOKEN,
    MINTED_TOKEN_SECRET,
];

/// Matches requests whose Authorization header has `key="value"`.
struct OAuthField(&'static str, &'static str);

impl Match for OAuthField {
    fn matches(&self, request: &Request) -> bool {
        oauth_fields(request).is_ok_and(|fields| fields.get(self.0).is_some_and(|v| v == self.1))
    }
}

impl MockX {
    /// A test home whose config points `[x]` at this mock.
    fn env(&self, timeout_seconds: u64) -> TestEnv {
        env_with_api_base(&format!("{}/", self.uri()), timeout_seconds)
    }
}

fn env_with_api_base(api_base: &str, timeout_seconds: u64) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(&format!(
        "[http]\nconnect_timeout = 2\ntimeout = {timeout_seconds}\nattempts = 3\n\n[x]\napi_base = \"{api_base}\"\n"
    ));
    env
}

fn assert_no_secret(output: &Output) {
    harness::assert_no_secret(output, &SECRETS);
}

/// A mock X answering posts with `answers` in turn (each `times` times when given), and
/// a home whose config points at it, `timeout` seconds a request, with the keys stored.
async fn x_with_keys(
    answers: Vec<(ResponseTemplate, Option<u64>)>,
    timeout: u64,
) -> (MockX, TestEnv) {
    let x = MockX::start().await;
    for (answer, times) in answers {
        x.answer_posts(answer, times).await;
    }
    let env = x.env(timeout);
    store_keys(&env);
    (x, env)
}

/// `auth x` with all four values in the environment, as a user would run it; returns
/// what it printed.
pub(crate) fn store_keys(env: &TestEnv) -> Output {
    let output = env
        .cmd()
        .args(["-vv", "auth", "x"])
        .env("X_API_KEY", API_KEY)
        .env("X_API_SECRET", API_SECRET)
        .env("X_ACCESS_TOKEN", ACCESS_TOKEN)
        .env("X_ACCESS_TOKEN_SECRET", ACCESS_TOKEN_SECRET)
        .assert()
        .success()
        .stdout(predicate::str::contains("the first post will"))
        .get_output()
        .clone();
    assert_no_secret(&output);
    output
}

#[test]
fn auth_x_stores_the_keys_from_the_environment_in_a_private_file() {
    let env = env_with_api_base("http://127.0.0.1:9/", 2);
    store_keys(&env);
    let stored = env.read_credentials();
    for value in [API_KEY, API_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET] {
        assert!(stored.contains(value), "{value} missing from {stored}");
    }
    assert!(stored.contains("[x]"), "{stored}");
    assert_eq!(env.credentials_mode(), 0o600);
}

#[test]
fn auth_x_reads_the_keys_from_standard_input_when_it_is_no_terminal() {
    let env = env_with_api_base("http://127.0.0.1:9/", 2);
    env.cmd()
        .args(["auth", "x"])
        .write_stdin(format!(
            "{API_KEY}\n{API_SECRET}\n{ACCESS_TOKEN}\n  {ACCESS_TOKEN_SECRET}  \n"
        ))
        .assert()
        .success();
    let stored = env.read_credentials();
    assert!(
        stored.contains(&format!("access_token_secret = \"{ACCESS_TOKEN_SECRET}\"")),
        "{stored}"
    );
    assert_eq!(env.credentials_mode(), 0o600);
}

#[test]
fn auth_x_refuses_a_missing_value_and_stores_nothing() {
    let env = env_with_api_base("http://127.0.0.1:9/", 2);
    env.cmd()
        .args(["auth", "x"])
        .env("X_API_KEY", API_KEY)
        .write_stdin(format!("{API_SECRET}\n\n"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("access token is empty"));
    assert_eq!(env.read_credentials(), "");
}

#[tokio::test]
async fn tweet_posts_once_with_a_signature_x_accepts() {
    let (x, env) = x_with_keys(vec![(created(), None)], 5).await;
    let text = "2026-11-25: 歩数 8,532歩 / 睡眠 7時間12分";
    let output = env
        .cmd()
        .args(["-vv", "tweet", "--text", text])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Posted {POST_ID}: https://x.com/i/web/status/{POST_ID}"
        )))
        .get_output()
        .clone();
    assert_no_secret(&output);
    let posts = x.posts().await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].method.as_str(), "POST");
    assert_eq!(
        posts[0].headers["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: serde_json::Value = posts[0].body_json().unwrap();
    assert_eq!(body, json!({ "text": text }));
}

#[tokio::test]
async fn tweet_reads_the_text_from_standard_input() {
    let (x, env) = x_with_keys(vec![(created(), None)], 5).await;
    env.cmd()
        .args(["tweet", "--text", "-"])
        .write_stdin("Steps: 8,532\nSleep: 7h 12m\n")
        .assert()
        .success();
    let posts = x.posts().await;
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = posts[0].body_json().unwrap();
    assert_eq!(body, json!({ "text": "Steps: 8,532\nSleep: 7h 12m" }));
}

#[tokio::test]
async fn the_mock_refuses_a_wrong_signature() {
    let x = MockX::start().await;
    x.answer_posts(created(), None).await;
    let env = x.env(5);
    env.write_credentials(&format!(
        "[x]\napi_key = \"{API_KEY}\"\napi_secret = \"{API_SECRET}\"\n\
         access_token = \"{ACCESS_TOKEN}\"\naccess_token_secret = \"not-the-secret\"\n"
    ));
    env.cmd()
        .args(["tweet", "--text", "hello"])
        .assert()
        .code(77)
        .stderr(predicate::str::contains("fitbit-notifier auth x"));
    assert_eq!(x.posts().await.len(), 1);
}

#[tokio::test]
async fn dry_run_shows_the_weighted_length_and_sends_nothing() {
    let x = MockX::start().await;
    let env = x.env(5);
    env.cmd()
        .args(["tweet", "--dry-run", "--text", "昨日の歩数: 8,532歩"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("昨日の歩数: 8,532歩")
                .and(predicate::str::contains("weighted length 19 of 280"))
                .and(predicate::str::contains("nothing was sent")),
        );
    assert!(x.requests().await.is_empty());
}

#[tokio::test]
async fn an_over_length_text_is_refused_before_any_request() {
    let (x, env) = x_with_keys(vec![(created(), None)], 5).await;
    env.cmd()
        .args(["tweet", "--text", &"あ".repeat(141)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("282").and(predicate::str::contains("2 over")));
    env.cmd()
        .args(["tweet", "--dry-run", "--text", &"a".repeat(281)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 over"));
    assert!(x.requests().await.is_empty());
}

fn rate_limited_for_hours() -> ResponseTemplate {
    json_answer(429, json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}))
        .insert_header("x-rate-limit-remaining", "0")
        .insert_header("x-rate-limit-reset", (now() + 3 * 3600).to_string().as_str())
}

/// `tweet --text`: X's refusals, each neither retried nor waited for.
#[test_case(json_answer(401, json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})), 77, "run `fitbit-notifier auth x`" ; "401")]
#[test_case(json_answer(403, json!({"title": "Forbidden", "status": 403, "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.", "type": "https://api.twitter.com/2/problems/oauth1-permissions"})), 77, "Read and write" ; "403 permissions")]
#[test_case(json_answer(403, json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403})), 1, "already on the account" ; "403 duplicate")]
#[test_case(json_answer(402, json!({"title": "Payment Required", "detail": "credits depleted", "type": "https://api.x.com/2/problems/credits-depleted"})), 1, "add credits" ; "402")]
#[test_case(rate_limited_for_hours(), 75, "resets at" ; "429 for hours")]
#[test_case(json_answer(400, json!({"errors": [{"parameters": {}, "message": "Requests with bodies must have content-type of application/json."}], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})), 1, "One or more parameters" ; "400")]
#[tokio::test]
async fn every_refusal_exits_with_what_to_do(response: ResponseTemplate, code: i32, message: &str) {
    let (x, env) = x_with_keys(vec![(response, None)], 5).await;
    let started = Instant::now();
    let output = env
        .cmd()
        .args(["-v", "tweet", "--text", "hello"])
        .assert()
        .code(code)
        .stderr(predicate::str::contains(message))
        .get_output()
        .clone();
    assert_no_secret(&output);
    // none of these is retried, and none waits
    assert_eq!(x.posts().await.len(), 1, "{message}");
    assert!(started.elapsed() < Duration::from_secs(3), "{message}");
}

fn resets_in_a_second() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-rate-limit-remaining", "0")
        .insert_header("x-rate-limit-reset", (now() + 1).to_string().as_str())
}

/// (X's answers in turn, the request timeout, the exit status, what it prints, the posts
/// X received): `tweet --text` sends again only what cannot have been posted, each
/// time with a fresh nonce.
#[test_case(vec![(ResponseTemplate::new(503), None)], 5, 75, "server error (503", 3 ; "server errors are retried, then 75")]
#[test_case(vec![(ResponseTemplate::new(503), Some(1)), (created(), None)], 5, 0, POST_ID, 2 ; "a 503 then a 201 posts once")]
#[test_case(vec![(resets_in_a_second(), Some(1)), (created(), None)], 5, 0, POST_ID, 2 ; "a 429 that resets soon is waited for")]
#[test_case(vec![(created().set_delay(Duration::from_secs(4)), None)], 1, 75, "may have been published", 1 ; "a post left unanswered is not sent again")]
#[tokio::test]
async fn tweet_sends_again_only_what_cannot_have_been_posted(
    answers: Vec<(ResponseTemplate, Option<u64>)>,
    timeout: u64,
    code: i32,
    says: &str,
    requests: usize,
) {
    let (x, env) = x_with_keys(answers, timeout).await;
    let output = env.output(&["tweet", "--text", "hello"]);
    let stderr = harness::stderr_of(&output);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    let printed = if code == 0 {
        harness::stdout_of(&output)
    } else {
        stderr
    };
    assert!(printed.contains(says), "{says:?} not in {printed}");
    let posts = x.posts().await;
    assert_eq!(posts.len(), requests);
    let nonces: BTreeSet<String> = posts
        .iter()
        .map(|request| oauth_fields(request).unwrap()["oauth_nonce"].clone())
        .collect();
    assert_eq!(nonces.len(), requests, "a retry reused the nonce");
}

#[test]
fn a_refused_connection_exits_75() {
    let env = env_with_api_base(&format!("http://127.0.0.1:{}/", closed_port()), 2);
    store_keys(&env);
    env.cmd()
        .args(["tweet", "--text", "hello"])
        .assert()
        .code(75)
        .stderr(predicate::str::contains("could not connect"));
}

#[test]
fn tweet_without_stored_keys_exits_78() {
    let env = env_with_api_base("http://127.0.0.1:9/", 2);
    env.cmd()
        .args(["tweet", "--text", "hello"])
        .assert()
        .code(78)
        .stderr(predicate::str::contains(
            "run `fitbit-notifier auth x` first",
        ));
}

/// Mounts X's two PIN-flow endpoints; the access token answer is `access_answer`.
async fn mount_pin_flow(x: &MockX, access_answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/oauth/request_token"))
        .and(x.signed())
        .and(OAuthField("oauth_callback", "oob"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            "oauth_token={REQUEST_TOKEN}&oauth_token_secret={REQUEST_TOKEN_SECRET}&oauth_callback_confirmed=true"
        )))
        .mount(&x.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(x.signed())
        .and(OAuthField("oauth_token", REQUEST_TOKEN))
        .and(OAuthField("oauth_verifier", PIN))
        .respond_with(access_answer)
        .mount(&x.server)
        .await;
}

#[tokio::test]
async fn the_pin_flow_stores_a_token_that_then_posts() {
    let x = MockX::start().await;
    mount_pin_flow(
        &x,
        ResponseTemplate::new(200).set_body_string(format!(
            "oauth_token={MINTED_TOKEN}&oauth_token_secret={MINTED_TOKEN_SECRET}&user_id=6253282&screen_name=fitbit_walker"
        )),
    )
    .await;
    x.answer_posts(created(), None).await;
    let env = x.env(5);
    let output = env
        .cmd()
        .args(["-vv", "auth", "x", "--pin"])
        .env("X_API_KEY", API_KEY)
        .env("X_API_SECRET", API_SECRET)
        .write_stdin(format!("{PIN}\n"))
        .assert()
        .success()
        .stdout(predicate::str::contains("Authorized @fitbit_walker"))
        .stderr(predicate::str::contains(format!(
            "{}/oauth/authorize?oauth_token={REQUEST_TOKEN}",
            x.server.uri()
        )))
        .get_output()
        .clone();
    assert_no_secret(&output);
    let stored = env.read_credentials();
    assert!(
        stored.contains(MINTED_TOKEN) && stored.contains(MINTED_TOKEN_SECRET),
        "{stored}"
    );
    assert_eq!(env.credentials_mode(), 0o600);

    env.cmd()
        .args(["tweet", "--text", "hello"])
        .assert()
        .success()
        .stdout(predicate::str::contains(POST_ID));
    let posts = x.posts().await;
    assert_eq!(posts.len(), 1);
    assert_eq!(
        oauth_fields(&posts[0]).unwrap()["oauth_token"],
        MINTED_TOKEN
    );
}

#[tokio::test]
async fn a_refused_pin_exits_77_and_stores_nothing() {
    let x = MockX::start().await;
    mount_pin_flow(
        &x,
        ResponseTemplate::new(401).set_body_json(
            json!({"errors": [{"code": 32, "message": "Could not authenticate you."}]}),
        ),
    )
    .await;
    let env = x.env(5);
    env.cmd()
        .args(["auth", "x", "--pin"])
        .env("X_API_KEY", API_KEY)
        .env("X_API_SECRET", API_SECRET)
        .write_stdin(format!("{PIN}\n"))
        .assert()
        .code(77)
        .stderr(predicate::str::contains("refused the PIN"));
    assert_eq!(env.read_credentials(), "");
}

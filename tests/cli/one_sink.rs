//! `--sink NAME`: `tweet --text` and `run` post to that one sink only, enabled in the
//! config or not, so a person can try one service.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{stderr_of, stdout_of};
use crate::init::mock_config;
use crate::mocks::google::{DAY, Day, OLD_TOKEN, valid_credentials};
use crate::support::TestEnv;

const SLACK_HOOK: &str = "/services/T0/B0/one-sink";

async fn setup() -> (TestEnv, MockServer) {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    // X is enabled (and its API is the mock): nothing may reach it
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\n{}\n[x]\napi_base = \"{}/x/\"\n",
        mock_config(&server),
        server.uri()
    ));
    env.write_credentials(&format!(
        "{}\n[slack]\nwebhook_url = \"{}{SLACK_HOOK}\"\n\n[x]\napi_key = \"k\"\napi_secret = \"s\"\naccess_token = \"t\"\naccess_token_secret = \"ts\"\n",
        valid_credentials(),
        server.uri()
    ));
    Mock::given(method("POST"))
        .and(path(SLACK_HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    (env, server)
}

async fn posted_to(server: &MockServer) -> (usize, usize) {
    let requests = server.received_requests().await.unwrap();
    let slack = requests
        .iter()
        .filter(|r| r.url.path() == SLACK_HOOK)
        .count();
    let x = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/x/"))
        .count();
    (slack, x)
}

#[tokio::test(flavor = "multi_thread")]
async fn tweet_sink_posts_the_text_to_that_sink_only() {
    let (env, server) = setup().await;
    let output = env.output(&["tweet", "--text", "hello", "--sink", "slack"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("Posted to Slack"));
    assert_eq!(posted_to(&server).await, (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_sink_posts_the_day_to_that_sink_only() {
    let (env, server) = setup().await;
    Day::standard().mount(&server, OLD_TOKEN).await;
    let output = env.output(&["run", "--date", DAY, "--sink", "slack"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(posted_to(&server).await, (2, 0));
}

#[test]
fn an_unknown_sink_is_a_usage_error() {
    let env = TestEnv::new();
    let output = env.output(&["tweet", "--text", "hi", "--sink", "myspace"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("not a sink"));
}

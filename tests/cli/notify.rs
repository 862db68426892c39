//! `[notify] sink`: a scheduled run that needs the person says so once through the
//! chosen sink, not again while the problem lasts, and once more when it is resolved.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::google::{invalid_grant, mount_refresh};
use crate::harness::stderr_of;
use crate::init::{DISCORD_HOOK, mock_config};
use crate::mocks::google::{DAY, Day, OLD_TOKEN, expired_credentials, valid_credentials};
use crate::support::TestEnv;

const SLACK_HOOK: &str = "/services/T0/B0/notify-test";

async fn notifications(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == DISCORD_HOOK)
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["content"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn reauthorization_is_told_once_and_its_resolution_once() {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    let base = server.uri();
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\n{}\n[sinks]\nenabled = [\"slack\"]\n\n[notify]\nsink = \"discord\"\n",
        mock_config(&server)
    ));
    let hooks = format!(
        "[discord]\nwebhook_url = \"{base}{DISCORD_HOOK}\"\n\n[slack]\nwebhook_url = \"{base}{SLACK_HOOK}\"\n"
    );
    env.write_credentials(&format!("{}\n{hooks}", expired_credentials(8)));
    mount_refresh(&server, invalid_grant(), 2).await;
    Mock::given(method("POST"))
        .and(path(DISCORD_HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"id": "1", "type": 0, "channel_id": "2", "content": "…"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SLACK_HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;

    for _ in 0..2 {
        let output = env.output(&["run", "--date", DAY]);
        assert_eq!(output.status.code(), Some(77), "{}", stderr_of(&output));
    }
    let sent = notifications(&server).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("fitbit-notifier needs you: "),
        "{sent:?}"
    );
    assert!(sent[0].contains("fitbit-notifier auth google"), "{sent:?}");

    env.write_credentials(&format!("{}\n{hooks}", valid_credentials()));
    Day::standard().mount(&server, OLD_TOKEN).await;
    for _ in 0..2 {
        let output = env.output(&["run", "--date", DAY]);
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    let sent = notifications(&server).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].starts_with("fitbit-notifier: resolved: "),
        "{sent:?}"
    );
    let state = std::fs::read_to_string(env.state_path()).unwrap();
    assert!(
        state.contains("[last_run]") && state.contains("exit = 0"),
        "{state}"
    );
    assert!(!state.contains("[notified]\nreauthorize"), "{state}");
}

//! Monitoring through the binary: a simulated month of daily runs against the Google
//! mock and a Discord webhook, with `[weekly]` and one `[[alerts]]` rule.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::stderr_of;
use crate::mocks::google::{OLD_TOKEN, valid_credentials};
use crate::mocks::google_days;
use crate::providers::Provider::Google;
use crate::support::TestEnv;

const WEBHOOK: &str = "/api/webhooks/1234567/discord-webhook-token-Zp9";

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

async fn setup(extra: &str) -> (TestEnv, MockServer, MockServer) {
    let (google, discord) = tokio::join!(MockServer::start(), MockServer::start());
    let env = TestEnv::new();
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\nlocale = \"en\"\n\n[http]\nattempts = 2\ntimeout = 10\n\n\
         [google_health]\napi_base = \"{g}/v4/\"\nauth_url = \"{g}/auth\"\ntoken_url = \"{g}/token\"\n\n\
         [sinks]\nenabled = [\"discord\"]\n\n{extra}\n",
        g = google.uri(),
    ));
    env.write_credentials(&format!(
        "{}\n[discord]\nwebhook_url = \"{}{WEBHOOK}\"\n",
        valid_credentials(),
        discord.uri()
    ));
    Google.forbid_token_requests(&google).await;
    Mock::given(method("POST"))
        .and(path(WEBHOOK))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "1300000000000000001", "type": 0, "channel_id": "1100000000000000000"
        })))
        .mount(&discord)
        .await;
    (env, google, discord)
}

/// The texts Discord received, in order: JSON, or for the week with its chart the
/// multipart form's `payload_json`.
async fn posted(discord: &MockServer) -> Vec<String> {
    discord
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let text = String::from_utf8_lossy(&r.body);
            let json = match text.split_once("name=\"payload_json\"\r\n\r\n") {
                Some((_, rest)) => rest.split("\r\n--").next().unwrap().to_string(),
                None => text.into_owned(),
            };
            let body: Value = serde_json::from_str(&json).unwrap();
            body["content"].as_str().unwrap().to_string()
        })
        .collect()
}

const MONITORING: &str = "[weekly]\nday = \"sunday\"\n\n[[alerts]]\nname = \"short sleep\"\n\
                          metric = \"sleep_hours\"\ndays = 7\nbelow = 6.0\n";

/// 30 days from Monday 2026-10-26, 7.5 hours of sleep a night but 5 from the 5th to the
/// 11th of November: the 7-day mean falls below 6 hours on the 9th (five short nights)
/// and is back over it on the 14th (four). Every day runs twice; the 9th to the 11th
/// are missed and caught up by the run of the 12th; the 20th runs twice at once.
#[tokio::test]
async fn a_month_of_runs_posts_each_week_once_and_the_alert_once_each_way() {
    let (env, google, discord) = setup(MONITORING).await;
    let short: BTreeMap<NaiveDate, u32> = date("2026-11-05")
        .iter_days()
        .take(7)
        .map(|d| (d, 300))
        .collect();
    let nights = date("2026-10-01")
        .iter_days()
        .take(60)
        .map(|d| (d, short.get(&d).copied().unwrap_or(450)))
        .collect();
    google_days::mount_with_sleep(&google, OLD_TOKEN, &[], nights).await;
    let run = |day: NaiveDate| {
        let output = env.output(&["run", "--date", &day.to_string()]);
        assert!(output.status.success(), "{day}: {}", stderr_of(&output));
    };
    let missed = [date("2026-11-09"), date("2026-11-10"), date("2026-11-11")];
    for day in date("2026-10-26").iter_days().take(30) {
        if missed.contains(&day) {
            continue;
        }
        if day == date("2026-11-13") {
            let dry = env.output(&["run", "--dry-run", "--date", "2026-11-13"]);
            let stderr = stderr_of(&dry);
            assert!(
                stderr.contains(
                    "alert \"short sleep\": firing since 2026-11-09; 7-day mean of sleep_hours 5.71"
                ),
                "{stderr}"
            );
            assert!(
                stderr.contains("discord: activity: would be posted"),
                "{stderr}"
            );
        }
        if day == date("2026-11-20") {
            let (a, b) = (
                env.std_cmd()
                    .args(["run", "--date", "2026-11-20"])
                    .spawn()
                    .unwrap(),
                env.std_cmd()
                    .args(["run", "--date", "2026-11-20"])
                    .spawn()
                    .unwrap(),
            );
            for child in [a, b] {
                assert!(child.wait_with_output().unwrap().status.success());
            }
        }
        run(day);
        run(day);
    }

    let texts = posted(&discord).await;
    let weeks: Vec<&String> = texts.iter().filter(|t| t.starts_with("The week")).collect();
    let weeks_ending: Vec<&str> = weeks.iter().map(|t| &t[23..33]).collect();
    assert_eq!(
        weeks_ending,
        ["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"]
    );
    let alerts: Vec<&String> = texts
        .iter()
        .filter(|t| t.starts_with("⚠️") || t.starts_with("✅"))
        .collect();
    assert_eq!(
        alerts,
        [
            "⚠️ Alert: short sleep (2026-11-09)\n\nThe 7-day mean of sleep is 5.71 hours, below the threshold of 6.00 hours.",
            "✅ Resolved: short sleep (2026-11-14)\n\nThe 7-day mean of sleep is back at 6.07 hours (threshold 6.00 hours)."
        ]
    );
    // the day's two messages on each of the 27 days that ran, and nothing else
    assert_eq!(texts.len(), 27 * 2 + 4 + 2, "{texts:#?}");
    let state = std::fs::read_to_string(env.state_path()).unwrap();
    assert!(state.contains("[alerts.\"short sleep\"]"), "{state}");
    assert!(
        state.contains("evaluated_through = \"2026-11-24\""),
        "{state}"
    );
}

/// One round of data requests covers the day, the week and every rule's window.
#[tokio::test]
async fn a_weekly_run_with_three_alerts_is_one_round_of_requests() {
    let three = format!(
        "{MONITORING}\n[[alerts]]\nname = \"few steps\"\nmetric = \"steps\"\ndays = 28\nbelow = 3000\n\n\
         [[alerts]]\nname = \"high resting heart rate\"\nmetric = \"resting_heart_rate\"\ndays = 3\nabove = 80\n"
    );
    let (env, google, _discord) = setup(&three).await;
    google_days::mount(&google, OLD_TOKEN, &[]).await;
    let output = env.output(&["run", "--date", "2026-11-22"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    // 28 days: total calories and active minutes in two pieces each (14-day cap), and
    // the one page the answer asks for after the first 25 nights (the API's sleep page cap)
    assert_eq!(google.received_requests().await.unwrap().len(), 17);
}

//! The legacy Fitbit Web API provider against a loopback mock of Fitbit's OAuth and API
//! endpoints, with bodies from the API reference: `refresh` with single-use refresh tokens
//! (the mock refuses a reused one the way Fitbit does), `fetch` (units, errors, rate
//! limits, the shutdown) and the original tool's own day, 2021-05-23. `auth fitbit` is
//! tested with `auth google` in `oauth.rs`.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use test_case::test_case;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{assert_one_line_error, expected_message, stderr_of, stdout_of};
use crate::mocks::fitbit::{
    DAY, Day, TokenEndpoint, access_token, fixture, mount_profile, refresh_token,
    valid_credentials, with_rate_limit_headers,
};
use crate::providers::{Data, Provider::Fitbit};
use crate::support::TestEnv;

/// The shutdown message's parts that tell the user what to do.
const SWITCH_STEPS: [&str; 4] = [
    "turned off on 2026-11-02",
    "set provider = \"google-health\"",
    "README \"Google Health setup\"",
    "run `fitbit-notifier auth google`",
];

// ---------------------------------------------------------------------------------
// fetch

#[tokio::test]
async fn an_answer_in_us_units_is_converted_exactly() {
    let (env, server) = Fitbit.standard_setup().await;
    let mut day = Day::standard();
    day.content_language = Some("en_US");
    day.activities["summary"]["distances"][0]["distance"] = json!(3.8);
    day.water = json!({"summary": {"water": 50.5}, "water": [{"amount": 50.5, "logId": 1}]});
    day.weight["weight"][0]["weight"] = json!(137.5);
    day.mount(&server, &access_token(0)).await;

    let json = Fitbit.fetch_json(&env);
    // the exact definitions: 1 mi = 1.609344 km, 1 US fl oz = 29.5735295625 ml,
    // 1 lb = 0.45359237 kg
    assert_eq!(json["activity"]["distance_km"], json!(3.8 * 1.609344));
    assert_eq!(json["water_ml"], json!(50.5 * 29.5735295625));
    assert_eq!(json["weight_kg"], json!(137.5 * 0.45359237));
    assert_eq!(
        format!("{:.4}", json["activity"]["distance_km"].as_f64().unwrap()),
        "6.1155"
    );
    // values without units are untouched
    assert_eq!(json["body_fat_percent"], 21.3);
    assert_eq!(json["activity"]["steps"], 8234);
    assert_eq!(json["sleep"]["minutes_asleep"], 384);
}

#[tokio::test]
async fn a_uk_units_weight_in_stone_is_converted_exactly() {
    let (env, server) = Fitbit.standard_setup().await;
    let mut day = Day::standard();
    day.content_language = Some("en_GB");
    day.weight["weight"][0]["weight"] = json!(9.8);
    day.mount(&server, &access_token(0)).await;
    let json = Fitbit.fetch_json(&env);
    assert_eq!(json["weight_kg"], json!(9.8 * 14.0 * 0.45359237));
    assert_eq!(json["activity"]["distance_km"], 6.12);
    assert_eq!(json["water_ml"], 1500.0);
}

/// (the command, whether the token endpoint or the API answers 410, what the error
/// names): the shutdown is 77 with the steps to switch, and the credentials are kept.
#[test_case(&["refresh"], true, "Fitbit token endpoint answered 410 Gone" ; "the token endpoint")]
#[test_case(&["fetch", "--date", DAY, "--json"], false, "Fitbit Web API answered 410 Gone" ; "the API")]
#[tokio::test]
async fn an_answer_of_410_gone_is_77_with_the_steps_to_switch(
    command: &[&str],
    at_the_token_endpoint: bool,
    named: &str,
) {
    // the account's zone configured: no request for it
    let (env, server) = Fitbit.setup("timezone = \"Europe/London\"").await;
    let stored = valid_credentials();
    env.write_credentials(&stored);
    if at_the_token_endpoint {
        Mock::given(path("/oauth2/token"))
            .respond_with(ResponseTemplate::new(410))
            .expect(1)
            .mount(&server)
            .await;
    } else {
        Fitbit.forbid_token_requests(&server).await;
        Fitbit
            .mount_failure(&server, Data::Activity, ResponseTemplate::new(410))
            .await;
        Day::standard().mount(&server, &access_token(0)).await;
    }
    let output = env.output(command);
    assert_one_line_error(&output, 77, named);
    let stderr = stderr_of(&output);
    for step in SWITCH_STEPS {
        assert!(stderr.contains(step), "{step:?} not in {stderr}");
    }
    assert!(
        stderr.contains(&env.config_path().display().to_string()),
        "{stderr}"
    );
    assert_eq!(env.read_credentials(), stored);
}

/// The reset instant a "resets in ..s, at <RFC 3339>" message names.
fn reset_time(stderr: &str) -> DateTime<Utc> {
    let at = stderr.split(", at ").nth(1).expect("a reset time");
    let stamp = at.split(';').next().unwrap().trim();
    DateTime::parse_from_rfc3339(stamp)
        .unwrap_or_else(|err| panic!("{stamp:?}: {err}"))
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_rate_limit_that_resets_later_is_75_at_once_with_the_reset_time() {
    let (env, server) = Fitbit.standard_setup().await;
    let activities = format!("/1/user/-/activities/date/{DAY}.json");
    Fitbit
        .mount_failure(
            &server,
            Data::Activity,
            with_rate_limit_headers(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1958")
                    .set_body_json(fixture("rate_limited.json")),
                0,
            ),
        )
        .await;
    Day::standard().mount(&server, &access_token(0)).await;
    let before = Utc::now();
    let started = Instant::now();
    let output = Fitbit.fetch(&env);
    let after = Utc::now();
    assert_one_line_error(&output, 75, "rate limit (150 requests an hour)");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("resets in 1958s"), "{stderr}");
    let reset = reset_time(&stderr);
    assert!(
        reset >= before + TimeDelta::seconds(1957) && reset <= after + TimeDelta::seconds(1958),
        "{reset} not 1958 s after the run"
    );
    // no sleeping inside cron: one attempt, an immediate exit
    assert!(started.elapsed() < Duration::from_secs(5));
    let attempts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == activities)
        .count();
    assert_eq!(attempts, 1);
}

// ---------------------------------------------------------------------------------
// refresh

#[tokio::test]
async fn two_concurrent_refreshes_never_spend_the_same_refresh_token() {
    let (env, server) = Fitbit.setup("").await;
    env.write_credentials(&valid_credentials());
    let mut tokens = TokenEndpoint::new(0);
    // slow answers, so that the second process asks while the first waits
    tokens.delay = Duration::from_millis(500);
    tokens.mount(&server).await;
    let (first, second) = (env.spawn(&["refresh"]), env.spawn(&["refresh"]));
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    assert_eq!(tokens.presented(), [refresh_token(0), refresh_token(1)]);
    tokens.assert_clean();
    assert!(env.read_credentials().contains(&refresh_token(2)));
}

// ---------------------------------------------------------------------------------
// The original tool's day

/// The values the original tool logged for 2021-05-23, converted from its US units.
fn original_day_json() -> Value {
    json!({
        "date": "2021-05-23",
        "timezone": "Asia/Tokyo",
        "provider": "fitbit-legacy",
        "activity": {
            "steps": 1781,
            "distance_km": 0.75363626392912 * 1.609344,
            "calories_out_kcal": 1988.0,
            "calories_bmr_kcal": 1560.0,
            "activity_calories_kcal": 441.0,
            "sedentary_minutes": 551,
            "lightly_active_minutes": 90,
            "fairly_active_minutes": 4,
            "very_active_minutes": 7
        },
        "sleep": {
            "minutes_asleep": 746,
            "minutes_in_bed": 790,
            "start": "2021-05-22T22:41:00",
            "end": "2021-05-23T11:51:00",
            "stages": {"deep": 98, "light": 462, "rem": 186, "wake": 44}
        },
        "water_ml": null,
        "weight_kg": null,
        "body_fat_percent": null,
        "resting_heart_rate_bpm": null,
        "device": {"name": "Charge 4", "battery_percent": 80, "last_sync": "2021-05-24T07:12:00"}
    })
}

/// A home whose Fitbit account is in Tokyo and posts in Japanese, serving the original day.
async fn original_setup() -> (TestEnv, MockServer) {
    let (env, server) = Fitbit.setup("locale = \"ja\"").await;
    env.write_credentials(&valid_credentials());
    Fitbit.forbid_token_requests(&server).await;
    mount_profile(&server, &access_token(0), "Asia/Tokyo", 1).await;
    Day::original().mount(&server, &access_token(0)).await;
    (env, server)
}

#[tokio::test]
async fn legacy_2021_05_23_fetch_gives_the_original_day() {
    let (env, _server) = original_setup().await;
    let output = env.output(&["fetch", "--date", "2021-05-23", "--json"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json, original_day_json());
    // as the original tool showed it: 1.213km
    assert_eq!(
        format!("{:.3}", json["activity"]["distance_km"].as_f64().unwrap()),
        "1.213"
    );
}

#[tokio::test]
async fn legacy_2021_05_23_round_trips_to_the_original_posts() {
    let (env, _server) = original_setup().await;
    let output = env.output(&["run", "--dry-run", "--date", "2021-05-23"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    let activity = expected_message("activity_ja_2021_05_23");
    let sleep = expected_message("sleep_ja_2021_05_23");
    let at_activity = stdout.find(activity);
    let at_sleep = stdout.find(sleep);
    assert!(at_activity.is_some(), "activity message not in:\n{stdout}");
    assert!(at_sleep.is_some(), "sleep message not in:\n{stdout}");
    assert!(at_activity < at_sleep, "messages out of order:\n{stdout}");
}

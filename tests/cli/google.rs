//! The Google Health provider against a loopback mock of Google's OAuth and API
//! endpoints, with bodies from the API reference: `auth google` in both modes (the test
//! plays the browser), `refresh` and `fetch`.

use std::fs;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use serde_json::{Value, json};
use test_case::test_case;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::harness::{
    AuthRun, Issued, assert_one_line_error, assert_stderr_has, browse, form, form_has, json_answer,
    requests_containing, stderr_of,
};
use crate::mocks::google::{
    ALL_SCOPES, CLIENT_ID, CLIENT_SECRET, DAY, Day, LIST, NEW_TOKEN, OLD_TOKEN, RECONCILE,
    REFRESH_TOKEN, basal_minutes, day_filter, expired_credentials, fixture, fixture_path,
    list_mock, token_body, valid_credentials,
};
use crate::mocks::partial::cut;
use crate::mocks::{Fault, FaultKind};
use crate::providers::Data::{self, Activity, BasalEnergy, Sleep};
use crate::providers::Provider::Google;
use crate::providers::fetch_failing;
use crate::support::TestEnv;

pub(crate) const CODE: &str = "4/0Ab-test_code";

// ---------------------------------------------------------------------------------
// The token endpoint

/// The refresh grant with the stored client and refresh token, answered `times` times.
pub(crate) async fn mount_refresh(server: &MockServer, response: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(form_has(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", REFRESH_TOKEN),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

// ---------------------------------------------------------------------------------
// The data endpoints

pub(crate) async fn mount_settings(server: &MockServer, token: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path("/v4/users/me/settings"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("settings.json")))
        .expect(times)
        .mount(server)
        .await;
}

/// The standard day as `fetch --json` prints it for Europe/Berlin.
pub(crate) fn standard_json() -> Value {
    json!({
        "date": "2026-11-25",
        "timezone": "Europe/Berlin",
        "provider": "google-health",
        "activity": {
            "steps": 9876,
            "distance_km": 7.1234,
            "calories_out_kcal": 2142.5,
            "calories_bmr_kcal": 1560.75,
            "activity_calories_kcal": 512.0,
            "sedentary_minutes": 720,
            "lightly_active_minutes": 200,
            "fairly_active_minutes": 30,
            "very_active_minutes": 15
        },
        "sleep": {
            "minutes_asleep": 402,
            "minutes_in_bed": 450,
            "start": "2026-11-24T23:41:30",
            "end": "2026-11-25T07:12:00",
            "stages": {"deep": 82, "light": 230, "rem": 90, "wake": 48}
        },
        "water_ml": 1500.0,
        "weight_kg": 71.2345,
        "body_fat_percent": 22.5,
        "resting_heart_rate_bpm": 58,
        "device": {"name": "Charge 6", "battery_percent": 85, "last_sync": "2026-11-26T07:05:00"}
    })
}

// ---------------------------------------------------------------------------------
// fetch

/// `fetch --json` of `day`, served to a home with valid credentials and the zone
/// configured.
async fn fetch_json_of(day: Day) -> Value {
    let (env, server) = Google.standard_setup().await;
    day.mount(&server, OLD_TOKEN).await;
    Google.fetch_json(&env)
}

#[tokio::test]
async fn the_configured_zone_overrides_the_account_zone_for_local_times() {
    let (env, server) = Google.setup("timezone = \"Asia/Tokyo\"").await;
    env.write_credentials(&valid_credentials());
    Google.forbid_token_requests(&server).await;
    mount_settings(&server, OLD_TOKEN, 0).await;
    Day::standard().mount(&server, OLD_TOKEN).await;

    let json = Google.fetch_json(&env);
    assert_eq!(json["timezone"], "Asia/Tokyo");
    assert_eq!(json["sleep"]["start"], "2026-11-25T07:41:30");
    assert_eq!(json["device"]["last_sync"], "2026-11-26T15:05:00");
}

#[tokio::test]
async fn fetch_prints_a_readable_table_by_default() {
    let (env, server) = Google.standard_setup().await;
    Day::standard().mount(&server, OLD_TOKEN).await;
    env.cmd()
        .args(["fetch", "--date", DAY])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("date                2026-11-25 (Europe/Berlin)\n")
                .and(predicate::str::contains("steps               9876\n"))
                .and(predicate::str::contains("distance            7.12 km\n"))
                .and(predicate::str::contains(
                    "sleep               2026-11-24 23:41 to 2026-11-25 07:12\n",
                ))
                .and(predicate::str::contains("device              Charge 6\n")),
        );
}

#[tokio::test]
async fn basal_calories_follow_every_page() {
    let (env, server) = Google.standard_setup().await;
    Day::standard().mount(&server, OLD_TOKEN).await;
    assert_eq!(
        Google.fetch_json(&env)["activity"]["calories_bmr_kcal"],
        1560.75
    );
    let basal_requests = requests_containing(&server, "basal-energy-burned").await;
    assert_eq!(basal_requests, 3);
}

/// Basal energy is summed from `:reconcile`, which merges sources, not from `list`,
/// which returns every source's points: here a phone writes the same minutes as the
/// tracker, and `list` would count them twice. Both bodies are built from the
/// discovery document's `ListDataPointsResponse` and `ReconcileDataPointsResponse`
/// (items named by `name` and `dataPointName`); no recorded answer is public.
#[tokio::test]
async fn basal_calories_are_merged_across_sources() {
    let (env, server) = Google.standard_setup().await;
    let source = |platform: &str, i: usize| {
        json!({"name": format!("users/me/dataTypes/basal-energy-burned/dataPoints/{platform}{i}"),
               "dataSource": {"platform": platform},
               "basalEnergyBurned": {"interval": {"startTime": "2026-11-25T10:00:00Z", "endTime": "2026-11-25T10:01:00Z"}, "kcal": 780.375}})
    };
    list_mock(
        "basal-energy-burned",
        LIST,
        &day_filter("basal_energy_burned.interval.civil_start_time"),
        "2000",
        &format!("Bearer {OLD_TOKEN}"),
    )
    .respond_with(json_answer(
        200,
        json!({"dataPoints": [source("FITBIT", 0), source("FITBIT", 1), source("HEALTH_CONNECT", 0), source("HEALTH_CONNECT", 1)]}),
    ))
    .mount(&server)
    .await;
    Day::standard().mount(&server, OLD_TOKEN).await;
    assert_eq!(
        Google.fetch_json(&env)["activity"]["calories_bmr_kcal"],
        1560.75
    );
}

/// A day of minutes is 1,440 points, most of each its data source and times that
/// nothing reads: the list asks for a partial response (`fields`) of the value and what
/// places it in its day, and what Google sends for that adds up to the same day.
#[tokio::test]
async fn a_day_of_minutes_is_asked_only_for_what_is_read() {
    let (env, server) = Google.standard_setup().await;
    let mut day = Day::standard();
    day.basal_pages = basal_minutes(1.084, 1);
    day.mount(&server, OLD_TOKEN).await;
    let bmr = Google.fetch_json(&env)["activity"]["calories_bmr_kcal"]
        .as_f64()
        .unwrap();
    assert!((bmr - 1440.0 * 1.084).abs() < 1e-6, "{bmr}");

    let requests = server.received_requests().await.unwrap();
    let basal = requests
        .iter()
        .find(|r| r.url.path().contains("basal-energy-burned"))
        .unwrap();
    let (_, fields) = basal
        .url
        .query_pairs()
        .find(|(k, _)| k == "fields")
        .unwrap();
    assert_eq!(
        fields,
        "dataPoints(basalEnergyBurned(interval/civilStartTime/date,kcal)),nextPageToken"
    );
    let whole = &basal_minutes(1.084, 1)[0];
    let (whole, sent) = (
        whole.to_string().len(),
        cut(whole, &fields).to_string().len(),
    );
    assert!(sent * 5 < whole, "{sent} of {whole} bytes");
}

pub(crate) fn sleep_session(start: &str, end: &str, asleep: &str, main: Option<bool>) -> Value {
    let mut metadata = json!({"processed": true});
    if let Some(main) = main {
        metadata["mainSleep"] = json!(main);
    }
    json!({"sleep": {
        "interval": {"startTime": start, "endTime": end},
        "type": "STAGES",
        "metadata": metadata,
        "summary": {"minutesAsleep": asleep, "minutesInSleepPeriod": asleep,
                    "stagesSummary": [{"type": "DEEP", "minutes": "10"}]}
    }})
}

/// (the day's sleep sessions, the one taken: its minutes asleep and local start)
#[test_case(
    // the nap is longer, but Google marks the night as the main sleep
    [sleep_session("2026-11-25T12:00:00Z", "2026-11-25T19:00:00Z", "400", Some(false)),
     sleep_session("2026-11-24T23:00:00Z", "2026-11-25T05:00:00Z", "350", Some(true))],
    350, "2026-11-25T00:00:00" ; "the one marked as the main sleep"
)]
#[test_case(
    [sleep_session("2026-11-25T13:00:00Z", "2026-11-25T14:00:00Z", "55", None),
     sleep_session("2026-11-24T22:00:00Z", "2026-11-25T06:00:00Z", "444", None)],
    444, "2026-11-24T23:00:00" ; "without a mark, the longest"
)]
#[tokio::test]
async fn of_two_sleep_sessions_one_is_taken(sessions: [Value; 2], asleep: u64, start: &str) {
    let mut day = Day::standard();
    day.sleep = json!({ "dataPoints": sessions });
    let sleep = &fetch_json_of(day).await["sleep"];
    assert_eq!(sleep["minutes_asleep"], asleep);
    assert_eq!(sleep["start"], start);
    assert_eq!(
        sleep["stages"],
        json!({"deep": 10, "light": null, "rem": null, "wake": null})
    );
}

#[tokio::test]
async fn absent_values_are_null_and_true_zeros_are_zero() {
    let mut day = Day::standard()
        .with_rollup("steps", json!({"steps": {"countSum": "0"}}))
        .with_rollup("distance", json!({}))
        .with_rollup("hydration-log", json!({}))
        .with_rollup("total-calories", json!({"totalCalories": {"kcalSum": 0}}))
        .with_rollup(
            "activity-level",
            json!({"activityLevel": {"activityLevelRollupsByActivityLevelType": [
                {"activityLevelType": "SEDENTARY", "totalDuration": "0s"}]}}),
        )
        .with_rollup("active-minutes", json!({}));
    day.basal_pages = vec![json!({})];
    day.resting_heart_rate = json!({"dataPoints": []});
    let json = fetch_json_of(day).await;
    let activity = &json["activity"];
    assert_eq!(activity["steps"], 0);
    assert_eq!(activity["calories_out_kcal"], 0.0);
    assert_eq!(activity["sedentary_minutes"], 0);
    assert_eq!(activity["distance_km"], Value::Null);
    assert_eq!(activity["calories_bmr_kcal"], Value::Null);
    assert_eq!(activity["very_active_minutes"], Value::Null);
    assert_eq!(json["water_ml"], Value::Null);
    assert_eq!(json["resting_heart_rate_bpm"], Value::Null);
    assert_eq!(json["weight_kg"], 71.2345);
}

/// The standard day with its ints as numbers rather than strings.
fn ints_as_numbers() -> Day {
    let mut day = Day::standard()
        .with_rollup("steps", json!({"steps": {"countSum": 9876}}))
        .with_rollup("distance", json!({"distance": {"millimetersSum": 7123400}}));
    day.resting_heart_rate =
        json!({"dataPoints": [{"dailyRestingHeartRate": {"beatsPerMinute": 58}}]});
    let mut sleep = fixture("sleep_main.json");
    sleep["dataPoints"][0]["sleep"]["summary"]["minutesAsleep"] = json!(402);
    day.sleep = sleep;
    day
}

/// The standard day with fields the tool does not know, everywhere.
fn with_unknown_fields() -> Day {
    let mut day = Day::standard()
        .with_rollup(
            "steps",
            json!({"steps": {"countSum": "9876", "countAvg": "9876", "newField": {"nested": [1, 2]}}, "dataSource": {"platform": "FITBIT"}}),
        )
        .with_rollup(
            "body-fat",
            json!({"bodyFat": {"bodyFatPercentageAvg": 22.5, "bodyFatPercentageMin": 21.0}}),
        );
    day.devices["pairedDevices"][1]["firmwareVersion"] = json!("118.3");
    day.devices["nextPageToken"] = json!("");
    day
}

/// Ints are read from strings and from numbers; unknown fields are ignored.
#[test_case(ints_as_numbers() ; "ints as numbers")]
#[test_case(with_unknown_fields() ; "unknown fields everywhere")]
#[tokio::test]
async fn another_form_of_the_standard_day_reads_the_same(day: Day) {
    assert_eq!(fetch_json_of(day).await, standard_json());
}

/// Refuses `data_type`'s daily rollup as an invalid argument, ahead of the day's mocks.
async fn refuse_rollup(server: &MockServer, data_type: &str) {
    Mock::given(path(format!(
        "/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"
    )))
    .respond_with(json_answer(400, fixture("invalid_argument.json")))
    .with_priority(1)
    .mount(server)
    .await;
}

/// An interval of activity level `level`, as the discovery document's `ActivityLevel`
/// (`{interval, activityLevelType}`) describes it; no recorded answer is public.
fn activity_interval(level: &str, start: &str, end: &str) -> Value {
    json!({"dataPointName": format!("users/me/dataTypes/activity-level/dataPoints/{level}{start}"),
           "activityLevel": {"interval": {"startTime": start, "endTime": end}, "activityLevelType": level}})
}

/// (the reconciled activity levels, the minutes sedentary, lightly, fairly and very
/// active): the discovery document offers an activity-level rollup, the docs' data-type
/// table does not (list and reconcile only): refused, the day's reconciled intervals are
/// summed; without any, the other sources' minutes are used.
#[test_case(json!({"dataPoints": [
    activity_interval("SEDENTARY", "2026-11-24T23:00:00Z", "2026-11-25T07:00:00Z"),
    activity_interval("LIGHTLY_ACTIVE", "2026-11-25T07:00:00Z", "2026-11-25T08:30:00Z"),
    activity_interval("SEDENTARY", "2026-11-25T08:30:00Z", "2026-11-25T12:00:00Z"),
    activity_interval("VERY_ACTIVE", "2026-11-25T12:00:00Z", "2026-11-25T12:20:00Z"),
    activity_interval("MODERATELY_ACTIVE", "2026-11-25T12:20:00Z", "2026-11-25T12:45:30Z"),
]}), [690, 90, 26, 20] ; "summed from the intervals")]
#[test_case(json!({}), [700, 180, 25, 12] ; "without intervals, from the other sources")]
#[tokio::test]
async fn a_refused_activity_level_rollup_is_read_from_what_else_there_is(
    levels: Value,
    minutes: [u64; 4],
) {
    let (env, server) = Google.standard_setup().await;
    refuse_rollup(&server, "activity-level").await;
    list_mock(
        "activity-level",
        RECONCILE,
        &day_filter("activity_level.interval.civil_start_time"),
        "2000",
        &format!("Bearer {OLD_TOKEN}"),
    )
    .respond_with(json_answer(200, levels))
    .mount(&server)
    .await;
    Day::standard().mount(&server, OLD_TOKEN).await;
    let activity = Google.fetch_json(&env)["activity"].clone();
    let levels = [
        "sedentary_minutes",
        "lightly_active_minutes",
        "fairly_active_minutes",
        "very_active_minutes",
    ];
    for (level, minutes) in levels.iter().zip(minutes) {
        assert_eq!(activity[level], minutes, "{level}");
    }
}

/// A day whose only sleep is a nap has no sleep in the summary, and says why;
/// `sleep_only_nap.json` is built from the discovery document's `Sleep` schema (no
/// recorded v4 sleep body is public).
#[tokio::test]
async fn a_nap_alone_is_not_reported_as_the_night() {
    let (env, server) = Google.standard_setup().await;
    let mut day = Day::standard();
    day.sleep = fixture("sleep_only_nap.json");
    day.mount(&server, OLD_TOKEN).await;
    let output = env.output(&["fetch", "--json", "--date", DAY]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["sleep"], Value::Null);
    assert_stderr_has(&output, "is 1 nap(s), the longest 75 min");
}

fn raw_answer(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

/// Google's own error answers, and success answers that are not what they should be.
#[test_case(Activity, json_answer(400, fixture("account_not_linked.json")), 77, "set up the Google Health app" ; "account not linked: what to do in the Google Health app")]
#[test_case(Sleep, json_answer(503, json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})), 75, "currently unavailable" ; "a server error with Google's message")]
#[test_case(Activity, json_answer(400, fixture("invalid_argument.json")), 1, "Request contains an invalid argument." ; "another client error with Google's message")]
#[test_case(Activity, json_answer(412, fixture("profile_not_ready.json")), 75, "still being prepared" ; "a profile not ready yet: try later")]
#[test_case(Sleep, raw_answer("{\"dataPoints\": ["), 1, "unreadable answer for sleep" ; "cut-off JSON")]
#[test_case(Sleep, raw_answer("<html>\n<body>Service login</body>\n</html>"), 1, "unreadable answer for sleep" ; "HTML")]
#[test_case(Sleep, raw_answer(""), 1, "unreadable answer for sleep" ; "empty")]
#[test_case(Sleep, raw_answer("[1, 2, 3]"), 1, "unreadable answer for sleep" ; "an array")]
#[test_case(Sleep, raw_answer("{\"dataPoints\": \"none\"}"), 1, "unreadable answer for sleep" ; "a list of another type")]
#[test_case(BasalEnergy, json_answer(200, json!({"dataPoints": [{"dataSource": {"platform": "FITBIT"}, "basalEnergyBurned": {"kcal": "plenty"}}]})), 1, "unexpected basal calories value" ; "a list value of another type")]
#[tokio::test]
async fn a_data_error_is_one_line_with_its_exit_status(
    data: Data,
    response: ResponseTemplate,
    code: i32,
    phrase: &str,
) {
    let (output, _server) = fetch_failing(Google, data, response).await;
    assert_one_line_error(&output, code, phrase);
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_retry_after_then_75() {
    let started = Instant::now();
    let (output, server) = fetch_failing(
        Google,
        Activity,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(fixture("rate_limited.json")),
    )
    .await;
    assert_one_line_error(&output, 75, "rate limit");
    assert!(started.elapsed() >= Duration::from_secs(1));
    let attempts = requests_containing(&server, "/steps/").await;
    assert_eq!(attempts, 2, "attempts = 2 in the config");
}

#[tokio::test]
async fn a_value_of_another_type_is_1_naming_it() {
    let (env, server) = Google.standard_setup().await;
    Day::standard()
        .with_rollup("steps", json!({"steps": {"countSum": {"low": 9876}}}))
        .mount(&server, OLD_TOKEN)
        .await;
    assert_one_line_error(&Google.fetch(&env), 1, "unexpected steps value");
}

#[test]
fn an_answer_cut_off_mid_body_is_retried_then_75() {
    let fault = Fault::start(FaultKind::Truncate);
    let env = TestEnv::new();
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\n[http]\nattempts = 2\ntimeout = 5\n\n[google_health]\napi_base = \"{}/v4/\"\n",
        fault.uri()
    ));
    env.write_credentials(&valid_credentials());
    let output = Google.fetch(&env);
    assert_one_line_error(&output, 75, "next run will try again");
}

#[tokio::test]
async fn impossible_values_are_null_with_a_warning_naming_each() {
    let (env, server) = Google.standard_setup().await;
    let mut day = Day::standard()
        .with_rollup("steps", json!({"steps": {"countSum": "1000000000000"}}))
        .with_rollup("distance", json!({"distance": {"millimetersSum": "-1200"}}));
    day.sleep["dataPoints"][0]["sleep"]["summary"]["minutesAsleep"] = json!("2000");
    day.devices["pairedDevices"][1]["batteryLevel"] = json!(250);
    day.resting_heart_rate =
        json!({"dataPoints": [{"dailyRestingHeartRate": {"beatsPerMinute": "-58"}}]});
    day.mount(&server, OLD_TOKEN).await;
    let output = Google.fetch(&env);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut expected = standard_json();
    expected["activity"]["steps"] = Value::Null;
    expected["activity"]["distance_km"] = Value::Null;
    expected["sleep"]["minutes_asleep"] = Value::Null;
    expected["device"]["battery_percent"] = Value::Null;
    expected["resting_heart_rate_bpm"] = Value::Null;
    assert_eq!(json, expected);
    let stderr = stderr_of(&output);
    for named in [
        "activity.steps = 1000000000000",
        "activity.distance_km = -0.0012",
        "sleep.minutes_asleep = 2000",
        "device.battery_percent = 250",
        "resting_heart_rate_bpm = -58",
    ] {
        assert!(
            stderr.contains(&format!(
                "warn: google-health reported {named}, which is impossible"
            )),
            "{named} not in {stderr}"
        );
    }
    assert_eq!(stderr.lines().count(), 5, "{stderr}");
}

// ---------------------------------------------------------------------------------
// refresh

#[tokio::test]
async fn refresh_stores_a_returned_refresh_token() {
    let (env, server) = Google.setup("").await;
    env.write_credentials(&valid_credentials());
    mount_refresh(
        &server,
        token_body(NEW_TOKEN, Some("1//rotated"), &ALL_SCOPES.join(" ")),
        1,
    )
    .await;
    env.cmd().arg("refresh").assert().success();
    let saved = env.read_credentials();
    assert!(saved.contains("refresh_token = \"1//rotated\""), "{saved}");
}

pub(crate) fn invalid_grant() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
    )
}

#[tokio::test]
async fn invalid_grant_a_week_after_consent_explains_testing_mode() {
    let (env, server) = Google.setup("").await;
    env.write_credentials(&expired_credentials(7));
    mount_refresh(&server, invalid_grant(), 1).await;
    let output = Google.fetch(&env);
    assert_one_line_error(&output, 77, "Testing status 7 days after consent");
    assert!(stderr_of(&output).contains("Publish app"));
}

// ---------------------------------------------------------------------------------
// auth google

/// The code exchange, answered only when code, client, redirect URI and the PKCE
/// verifier (`S256(code_verifier) == code_challenge`) all match.
pub(crate) async fn mount_code_exchange(
    server: &MockServer,
    issued: Arc<Mutex<Issued>>,
    granted: &str,
) {
    let granted = granted.to_string();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(form_has(&[("grant_type", "authorization_code")]))
        .respond_with(move |request: &Request| {
            let form = form(request);
            let ok = issued
                .lock()
                .unwrap()
                .exchange_matches(&form, CODE, CLIENT_ID)
                && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
            if ok {
                token_body(NEW_TOKEN, Some(REFRESH_TOKEN), &granted)
            } else {
                ResponseTemplate::new(400).set_body_json(
                    json!({"error": "invalid_grant", "error_description": "mock: code, client, redirect_uri or PKCE mismatch"}),
                )
            }
        })
        .expect(1)
        .mount(server)
        .await;
}

pub(crate) fn redirect(run: &AuthRun, state: &str) -> String {
    run.redirect(&[
        ("state", state),
        ("code", CODE),
        ("scope", &ALL_SCOPES.join(" ")),
    ])
}

/// The code exchange granting `granted`, and the settings read once with the new token:
/// what a consent needs. Returns what the authorize URL is to promise.
pub(crate) async fn mount_consent(server: &MockServer, granted: &[&str]) -> Arc<Mutex<Issued>> {
    let issued = Arc::new(Mutex::new(Issued::default()));
    mount_code_exchange(server, issued.clone(), &granted.join(" ")).await;
    mount_settings(server, NEW_TOKEN, 1).await;
    issued
}

/// Where `auth google` finds the OAuth client.
#[derive(Clone, Copy)]
pub(crate) enum Client {
    /// `--client-secret-file` with the desktop client's file.
    File,
    /// `GOOGLE_CLIENT_ID` and `GOOGLE_CLIENT_SECRET`.
    Environment,
}

/// Starts `auth google <args>` with the client from `client` (see [`AuthRun::start`]).
pub(crate) fn auth_google(
    env: &TestEnv,
    client: Client,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> AuthRun {
    let file = fixture_path("client_secret_desktop.json");
    let file = file.to_str().unwrap();
    let (client_args, client_env): (&[&str], &[(&str, &str)]) = match client {
        Client::File => (&["--client-secret-file", file], &[]),
        Client::Environment => (
            &[],
            &[
                ("GOOGLE_CLIENT_ID", CLIENT_ID),
                ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
            ],
        ),
    };
    AuthRun::start(
        env,
        &[&["auth", "google"], client_args, args].concat(),
        &[client_env, extra_env].concat(),
    )
}

#[tokio::test]
async fn auth_ignores_redirects_without_its_state_and_takes_the_real_one() {
    let (env, server) = Google.setup("").await;
    let issued = mount_consent(&server, &ALL_SCOPES).await;
    let run = auth_google(&env, Client::File, &[], &[]);
    run.issue(&issued);
    // a request without state, whose text carries terminal escape sequences, then one
    // with another state: each is answered and ignored
    let escapes = "\x1b]0;owned\x07\x1b[2J\x1b[31m";
    let (status, page) = browse(&run.redirect(&[
        ("error", &format!("access_denied{escapes}")),
        ("error_description", escapes),
    ]));
    assert_eq!(status, 400);
    assert!(page.contains("was ignored"), "{page}");
    let (status, _) = browse(&redirect(&run, "forged-state"));
    assert_eq!(status, 400);
    let (status, page) = browse(&redirect(&run, &run.param("state")));
    assert_eq!(status, 200, "{page}");

    let output = run.finish();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("without a state; still waiting"),
        "{stderr}"
    );
    assert!(
        stderr.contains("with another state; still waiting"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b') && !stderr.contains("owned"),
        "{stderr:?}"
    );
    assert!(env.read_credentials().contains(NEW_TOKEN));
}

/// The provider's error, whose text carries terminal escape sequences, comes back.
fn refuse_with_escapes(run: &mut AuthRun) {
    let (status, _) = browse(&run.redirect(&[
        ("state", &run.param("state")),
        ("error", "access_denied\x1b]0;owned\x07"),
        ("error_description", "\x1b[2J\x1b[31mdenied\r\nby the user"),
    ]));
    assert_eq!(status, 400);
}

/// An address from an earlier run is pasted.
fn paste_another_state(run: &mut AuthRun) {
    let pasted = redirect(run, "stale-state");
    run.paste(&pasted);
}

/// The browser never comes back.
fn wait(_: &mut AuthRun) {}

/// (what `auth google` is given, what happens, what the error says): exit 1, no token
/// request, nothing stored, no escape sequence printed.
#[test_case(&[], &[], refuse_with_escapes, &["access_denied ]0;owned", "denied by the user"] ; "the provider's error, printed without its escape sequences")]
#[test_case(&["--no-browser"], &[], paste_another_state, &["state does not match"] ; "a pasted address with another state")]
#[test_case(&[], &[("FITBIT_NOTIFIER_AUTH_TIMEOUT", "1")], wait, &["no answer from the browser within 1s"] ; "the browser never returns")]
#[tokio::test]
async fn auth_that_gets_no_code_is_1_and_stores_nothing(
    args: &[&str],
    extra_env: &[(&str, &str)],
    act: fn(&mut AuthRun),
    says: &[&str],
) {
    let (env, server) = Google.setup("").await;
    Google.forbid_token_requests(&server).await;
    let mut run = auth_google(&env, Client::File, args, extra_env);
    act(&mut run);
    let output = run.finish();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for phrase in says {
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
    }
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );
    assert!(env.read_credentials().is_empty());
}

/// CPU time (user + system) a process has used, from /proc/PID/stat, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // the fields after the command name, which is in parentheses and may hold spaces
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test]
async fn auth_out_of_descriptors_waits_without_spinning() {
    let (env, server) = Google.setup("").await;
    Google.forbid_token_requests(&server).await;
    let run = auth_google(&env, Client::File, &[], &[]);
    let pid = run.pid();
    // the waiting process may open no further descriptor: every accept fails (EMFILE)
    let open = fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count() as u64;
    let limit = libc::rlimit {
        rlim_cur: open,
        rlim_max: open,
    };
    // SAFETY: prlimit reads `limit` and writes nothing (null old limit)
    let set = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_NOFILE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
    let port = url::Url::parse(&run.param("redirect_uri"))
        .unwrap()
        .port()
        .unwrap();
    let _queued: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    // SAFETY: sysconf has no preconditions
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    eprintln!("auth used {used} ticks of CPU ({per_second}/s) in 2 s of failing accepts");
    assert!(
        used < per_second / 5,
        "{used} ticks in 2 s: the accept loop spins"
    );
    run.kill();
}

/// The browser opener (and any browser it starts) does not inherit the client secret
/// or any other secret the tool reads from the environment.
#[tokio::test]
async fn the_browser_opener_gets_no_secret_from_the_environment() {
    let (env, server) = Google.setup("").await;
    let issued = mount_consent(&server, &ALL_SCOPES).await;
    let run = auth_google(
        &env,
        Client::Environment,
        &[],
        &[(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/slack-secret-env",
        )],
    );
    run.issue(&issued);
    let (status, _) = browse(&redirect(&run, &run.param("state")));
    assert_eq!(status, 200);
    let output = run.finish();
    assert!(output.status.success(), "{}", stderr_of(&output));
    // the opener runs on its own: wait until it has written its environment out
    let mut opener_env = String::new();
    for _ in 0..100 {
        opener_env = fs::read_to_string(env.home().join("opener-env")).unwrap_or_default();
        if opener_env.contains("PATH=") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(opener_env.contains("PATH="), "{opener_env}");
    assert!(opener_env.contains(CLIENT_ID), "{opener_env}");
    for secret in [CLIENT_SECRET, "slack-secret-env"] {
        assert!(!opener_env.contains(secret), "{secret} in {opener_env}");
    }
}

/// Runs `auth google --no-browser` with the client file, pastes the bare code, and
/// returns what it printed.
fn paste_the_bare_code(env: &TestEnv, issued: &Arc<Mutex<Issued>>) -> std::process::Output {
    let mut run = auth_google(env, Client::File, &["--no-browser"], &[]);
    run.issue(issued);
    run.paste(CODE);
    run.finish()
}

#[tokio::test]
async fn auth_without_a_browser_accepts_the_bare_code() {
    let (env, server) = Google.setup("").await;
    let issued = mount_consent(&server, &ALL_SCOPES).await;
    let output = paste_the_bare_code(&env, &issued);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(env.read_credentials().contains(REFRESH_TOKEN));
}

#[tokio::test]
async fn auth_for_an_account_without_google_health_is_77_and_keeps_the_tokens() {
    let (env, server) = Google.setup("").await;
    let issued = Arc::new(Mutex::new(Issued::default()));
    mount_code_exchange(&server, issued.clone(), &ALL_SCOPES.join(" ")).await;
    Mock::given(path("/v4/users/me/settings"))
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture("account_not_linked.json")))
        .mount(&server)
        .await;
    let output = paste_the_bare_code(&env, &issued);
    assert_eq!(output.status.code(), Some(77));
    assert!(stderr_of(&output).contains("Fitbit app"));
    assert!(env.read_credentials().contains(REFRESH_TOKEN));
}

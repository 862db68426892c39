//! The provider contract: what Google Health and the legacy Fitbit Web API both promise,
//! run against each one's loopback mock. [`Provider`] describes a mock and what the binary
//! must do with it; each test is one behaviour, each `test_case` a provider (and a row).
//! What only one provider does is tested in `google.rs` and `fitbit.rs`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{Datelike, Days, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use test_case::test_case;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::google;
use crate::harness::{
    assert_one_line_error, assert_stderr_has, directory_without_room_for_new_files, form, stderr_of,
};
use crate::mocks::{Fault, FaultKind, fitbit, google as gmock, google_days as gmock_days};
use crate::support::TestEnv;

use Provider::{Fitbit, Google};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Provider {
    Google,
    Fitbit,
}

/// The data a test makes fail, by what it is rather than by each API's path.
#[derive(Clone, Copy)]
pub(crate) enum Data {
    Sleep,
    Water,
    /// Google's steps, Fitbit's day of activity.
    Activity,
    /// Google's basal energy list; Fitbit's day of activity, which carries it.
    BasalEnergy,
}

impl Provider {
    /// As in `auth <name>`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Google => "google",
            Fitbit => "fitbit",
        }
    }

    /// The `[table]` of its endpoints in the config, with the lines that select it.
    pub(crate) fn config(self, base: &str, token_url: &str) -> String {
        match self {
            Google => format!(
                "[google_health]\napi_base = \"{base}/v4/\"\nauth_url = \"{base}/o/oauth2/v2/auth\"\ntoken_url = \"{token_url}\"\n"
            ),
            Fitbit => format!(
                "[fitbit]\napi_base = \"{base}/\"\nauth_url = \"{base}/oauth2/authorize\"\ntoken_url = \"{token_url}\"\n"
            ),
        }
    }

    fn selected(self) -> &'static str {
        match self {
            Google => "",
            Fitbit => "provider = \"fitbit-legacy\"\n",
        }
    }

    fn token_path(self) -> &'static str {
        match self {
            Google => "/token",
            Fitbit => "/oauth2/token",
        }
    }

    /// A test home whose config selects this provider and points every endpoint of it
    /// at a fresh mock; `top` holds more top-level config keys.
    pub(crate) async fn setup(self, top: &str) -> (TestEnv, MockServer) {
        let server = MockServer::start().await;
        let env = TestEnv::new();
        let base = server.uri();
        env.write_config(&format!(
            "{}{top}\n[http]\nattempts = 2\ntimeout = 10\n\n{}",
            self.selected(),
            self.config(&base, &format!("{base}{}", self.token_path()))
        ));
        (env, server)
    }

    /// A home with valid credentials and the account's zone configured, where any
    /// request to the token endpoint fails the test.
    pub(crate) async fn standard_setup(self) -> (TestEnv, MockServer) {
        let (env, server) = self.zoned_setup(&self.valid_credentials()).await;
        self.forbid_token_requests(&server).await;
        (env, server)
    }

    /// A home with the account's zone configured and `credentials` stored.
    async fn zoned_setup(self, credentials: &str) -> (TestEnv, MockServer) {
        let (env, server) = self.setup(&format!("timezone = \"{}\"", self.zone())).await;
        env.write_credentials(credentials);
        (env, server)
    }

    /// Fails the test (on drop) if anything reaches the token endpoint.
    pub(crate) async fn forbid_token_requests(self, server: &MockServer) {
        Mock::given(path(self.token_path()))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(server)
            .await;
    }

    fn valid_credentials(self) -> String {
        match self {
            Google => gmock::valid_credentials(),
            Fitbit => fitbit::valid_credentials(),
        }
    }

    fn expired_credentials(self) -> String {
        match self {
            Google => gmock::expired_credentials(1),
            Fitbit => fitbit::expired_credentials(),
        }
    }

    /// Valid credentials for only the activity, sleep and device scopes.
    fn credentials_without_body_and_nutrition(self) -> String {
        match self {
            Google => gmock::credentials(
                gmock::OLD_TOKEN,
                Utc::now() + TimeDelta::hours(1),
                Utc::now(),
                &[gmock::ACTIVITY, gmock::SLEEP, gmock::SETTINGS],
            ),
            Fitbit => fitbit::credentials(
                &fitbit::access_token(0),
                &fitbit::refresh_token(0),
                Utc::now() + TimeDelta::hours(8),
                &["activity", "sleep", "settings", "profile"],
            ),
        }
    }

    /// The access token stored, and the one a refresh grants.
    fn old_token(self) -> String {
        match self {
            Google => gmock::OLD_TOKEN.into(),
            Fitbit => fitbit::access_token(0),
        }
    }

    pub(crate) fn new_token(self) -> String {
        match self {
            Google => gmock::NEW_TOKEN.into(),
            Fitbit => fitbit::access_token(1),
        }
    }

    /// The refresh token stored, and the one stored after a refresh: Google keeps it
    /// unless it sends another, Fitbit spends it and sends the next.
    fn old_refresh_token(self) -> String {
        match self {
            Google => gmock::REFRESH_TOKEN.into(),
            Fitbit => fitbit::refresh_token(0),
        }
    }

    pub(crate) fn refreshed_refresh_token(self) -> String {
        match self {
            Google => gmock::REFRESH_TOKEN.into(),
            Fitbit => fitbit::refresh_token(1),
        }
    }

    /// A token endpoint that grants [`Provider::new_token`] for the stored refresh token.
    async fn mount_refresh(self, server: &MockServer) -> Refreshes {
        match self {
            Google => {
                google::mount_refresh(
                    server,
                    gmock::token_body(gmock::NEW_TOKEN, None, &gmock::ALL_SCOPES.join(" ")),
                    1,
                )
                .await;
                Refreshes(None)
            }
            Fitbit => {
                let tokens = fitbit::TokenEndpoint::new(0);
                tokens.mount(server).await;
                Refreshes(Some(tokens))
            }
        }
    }

    /// The token endpoint's answer to a refresh token it no longer accepts, what the
    /// error must say and what it must not.
    async fn mount_invalid_grant(
        self,
        server: &MockServer,
    ) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Google => {
                google::mount_refresh(server, google::invalid_grant(), 1).await;
                // an authorization a day old is not the Testing mode's seven days
                (&[], &["Testing"])
            }
            Fitbit => {
                // another copy of the credentials has already rotated refresh token 0 away
                fitbit::TokenEndpoint::new(3).mount(server).await;
                (
                    &["Refresh token invalid: [redacted]", "work only once"],
                    &[],
                )
            }
        }
    }

    fn day(self) -> &'static str {
        match self {
            Google => gmock::DAY,
            Fitbit => fitbit::DAY,
        }
    }

    /// The account's zone, which the mock's profile or settings answer.
    pub(crate) fn zone(self) -> &'static str {
        match self {
            Google => "Europe/Berlin",
            Fitbit => "Europe/London",
        }
    }

    async fn mount_day(self, server: &MockServer, token: &str) {
        match self {
            Google => gmock::Day::standard().mount(server, token).await,
            Fitbit => fitbit::Day::standard().mount(server, token).await,
        }
    }

    /// Serves the standard day to the stored access token, changed first by `google` or
    /// `fitbit`, whichever this provider is.
    async fn mount_day_changed(
        self,
        server: &MockServer,
        google: impl FnOnce(&mut gmock::Day),
        fitbit: impl FnOnce(&mut fitbit::Day),
    ) {
        match self {
            Google => {
                let mut day = gmock::Day::standard();
                google(&mut day);
                day.mount(server, gmock::OLD_TOKEN).await;
            }
            Fitbit => {
                let mut day = fitbit::Day::standard();
                fitbit(&mut day);
                day.mount(server, &fitbit::access_token(0)).await;
            }
        }
    }

    /// The standard day as `fetch --json` prints it in [`Provider::zone`].
    fn standard_json(self) -> Value {
        match self {
            Google => google::standard_json(),
            Fitbit => fitbit::standard_json(),
        }
    }

    /// Where the account's zone is read, answered `times` times.
    async fn mount_zone(self, server: &MockServer, times: u64) {
        match self {
            Google => google::mount_settings(server, &self.old_token(), times).await,
            Fitbit => fitbit::mount_profile(server, &self.old_token(), self.zone(), times).await,
        }
    }

    /// The path the account's zone is read from.
    fn zone_path(self) -> &'static str {
        match self {
            Google => "/v4/users/me/settings",
            Fitbit => "/1/user/-/profile.json",
        }
    }

    /// Where the account's zone is read, answering `zone` after `delay`, `times` times.
    /// Google's body is `settings.json`, built from the discovery document's `Settings`
    /// schema (no recorded answer is public, see tests/fixtures/real/SOURCES.md); Fitbit's
    /// is `profile.json`, the example of Fitbit's Get Profile reference.
    async fn mount_zone_answering(
        self,
        server: &MockServer,
        zone: &str,
        times: u64,
        delay: Duration,
    ) {
        let body = match self {
            Google => {
                let mut settings = gmock::fixture("settings.json");
                settings["timeZone"] = json!(zone);
                settings
            }
            Fitbit => {
                let mut profile = fitbit::fixture("profile.json");
                profile["user"]["timezone"] = json!(zone);
                profile
            }
        };
        Mock::given(method("GET"))
            .and(path(self.zone_path()))
            .and(header(
                "authorization",
                format!("Bearer {}", self.old_token()).as_str(),
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(body)
                    .set_delay(delay),
            )
            .expect(times)
            .mount(server)
            .await;
    }

    /// The requests `server` saw for the zone and for the data (everything else but the
    /// token endpoint).
    async fn zone_and_data_requests(self, server: &MockServer) -> (usize, usize) {
        let requests = server.received_requests().await.unwrap();
        let zone = requests
            .iter()
            .filter(|r| r.url.path() == self.zone_path())
            .count();
        let token = requests
            .iter()
            .filter(|r| r.url.path() == self.token_path())
            .count();
        (zone, requests.len() - zone - token)
    }

    /// Every data request with the stored access token answered 401, as an expired one is.
    async fn reject_old_token(self, server: &MockServer, only_old: bool) {
        let (prefix, body) = match self {
            Google => ("^/v4/", gmock::fixture("unauthenticated.json")),
            Fitbit => ("^/1", fitbit::fixture("expired_token.json")),
        };
        let mock = Mock::given(path_regex(prefix));
        let mock = if only_old {
            mock.and(header(
                "authorization",
                format!("Bearer {}", self.old_token()).as_str(),
            ))
        } else {
            mock
        };
        mock.respond_with(ResponseTemplate::new(401).set_body_json(body))
            .mount(server)
            .await;
    }

    /// Answers every request for `data` with `response`, ahead of the day's mocks.
    pub(crate) async fn mount_failure(
        self,
        server: &MockServer,
        data: Data,
        response: ResponseTemplate,
    ) {
        let day = self.day();
        let at = match (self, data) {
            (Google, Data::Sleep) => "^/v4/users/me/dataTypes/sleep/".to_string(),
            (Google, Data::Water) => "^/v4/users/me/dataTypes/hydration-log/".to_string(),
            (Google, Data::Activity) => "^/v4/users/me/dataTypes/steps/".to_string(),
            (Google, Data::BasalEnergy) => {
                "^/v4/users/me/dataTypes/basal-energy-burned/".to_string()
            }
            (Fitbit, Data::Sleep) => format!("^/1.2/user/-/sleep/date/{day}.json$"),
            (Fitbit, Data::Water) => format!("^/1/user/-/foods/log/water/date/{day}.json$"),
            (Fitbit, Data::Activity | Data::BasalEnergy) => {
                format!("^/1/user/-/activities/date/{day}.json$")
            }
        };
        Mock::given(path_regex(at))
            .respond_with(response)
            .with_priority(1)
            .mount(server)
            .await;
    }

    pub(crate) fn fetch(self, env: &TestEnv) -> Output {
        env.output(&["fetch", "--date", self.day(), "--json"])
    }

    pub(crate) fn fetch_json(self, env: &TestEnv) -> Value {
        let output = self.fetch(env);
        assert!(
            output.status.success(),
            "fetch failed: {}",
            stderr_of(&output)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// The refreshes a token endpoint saw.
struct Refreshes(Option<fitbit::TokenEndpoint>);

impl Refreshes {
    /// Exactly one refresh reached `server`, with the stored refresh token (and, at
    /// Fitbit's endpoint, Basic client authentication and no reuse).
    async fn assert_one(&self, provider: Provider, server: &MockServer) {
        let grants: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == provider.token_path())
            .map(|r| form(r).get("refresh_token").cloned().unwrap_or_default())
            .collect();
        assert_eq!(grants, [provider.old_refresh_token()]);
        if let Some(tokens) = &self.0 {
            assert_eq!(tokens.presented(), [provider.old_refresh_token()]);
            tokens.assert_clean();
        }
    }
}

// ---------------------------------------------------------------------------------
// fetch

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn fetch_json_prints_the_whole_day_and_caches_the_account_zone(provider: Provider) {
    let (env, server) = provider.setup("").await;
    env.write_credentials(&provider.valid_credentials());
    provider.forbid_token_requests(&server).await;
    provider.mount_zone(&server, 2).await;
    provider.mount_day(&server, &provider.old_token()).await;

    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    let state = fs::read_to_string(env.state_path()).unwrap();
    let cached = format!("account_timezone = \"{}\"", provider.zone());
    assert!(state.contains(&cached), "{state}");
    // the second run starts from the cached zone and asks for it again with the data
    assert_eq!(provider.fetch_json(&env)["timezone"], provider.zone());
}

/// Writes the state file an earlier run left with `zone` cached.
fn cache_zone(env: &TestEnv, zone: &str) {
    let state = env.state_path();
    fs::create_dir_all(state.parent().unwrap()).unwrap();
    fs::write(&state, format!("account_timezone = \"{zone}\"\n")).unwrap();
}

fn cached_zone(env: &TestEnv) -> String {
    let state: toml::Table =
        toml::from_str(&fs::read_to_string(env.state_path()).unwrap()).unwrap();
    state["account_timezone"].as_str().unwrap().to_string()
}

/// How long the zone and the data answers take in the round tests: two rounds one after
/// the other take at least twice this.
const ROUND: Duration = Duration::from_millis(1500);

/// (provider, data requests of a day): with the zone cached, the zone is asked for
/// again in the same round as the data (both answers take `ROUND`: one after the other
/// would take twice that), and an unchanged answer adds no request and no round.
#[test_case(Google, 14)]
#[test_case(Fitbit, 5)]
#[tokio::test]
async fn a_cached_zone_is_asked_for_again_in_the_round_of_the_data(
    provider: Provider,
    data_requests: usize,
) {
    let (env, server) = provider.setup("").await;
    env.write_credentials(&provider.valid_credentials());
    provider.forbid_token_requests(&server).await;
    cache_zone(&env, provider.zone());
    provider
        .mount_zone_answering(&server, provider.zone(), 1, ROUND)
        .await;
    provider
        .mount_day_changed(
            &server,
            |day| {
                // one page of basal energy, so that the data is one round
                day.basal_pages.truncate(1);
                day.delay = ROUND;
            },
            |day| day.delay = ROUND,
        )
        .await;
    let started = Instant::now();
    let json = provider.fetch_json(&env);
    let took = started.elapsed();
    eprintln!("fetch with the zone and the data answering after {ROUND:?} took {took:?}");
    assert_eq!(json["date"], provider.day());
    assert_eq!(json["timezone"], provider.zone());
    assert_eq!(
        provider.zone_and_data_requests(&server).await,
        (1, data_requests)
    );
    assert!(took < 2 * ROUND, "two rounds: {took:?}");
    assert_eq!(cached_zone(&env), provider.zone());
}

/// The days in `dates`, each served in full.
async fn mount_any_days(provider: Provider, server: &MockServer, dates: &[NaiveDate]) {
    match provider {
        Google => gmock_days::mount(server, gmock::OLD_TOKEN, &[]).await,
        Fitbit => {
            for &date in dates {
                let mut day = fitbit::Day::standard();
                day.date = Box::leak(date.to_string().into_boxed_str());
                day.mount(server, &fitbit::access_token(0)).await;
            }
        }
    }
}

/// (provider, data requests of a day): the account moved from Kiritimati (UTC+14) to
/// Pago Pago (UTC-11), 25 hours apart, so "yesterday" is another day there at any time
/// of day, as it is near midnight between nearer zones. The zone's answer comes in the
/// data round, is cached, and the day is read once more in the new zone; the next run
/// finds the zone unchanged and reads once.
#[test_case(Google, 14)]
#[test_case(Fitbit, 5)]
#[tokio::test]
async fn a_moved_zone_is_cached_and_yesterday_read_again_in_it(
    provider: Provider,
    data_requests: usize,
) {
    let (env, server) = provider.setup("").await;
    env.write_credentials(&provider.valid_credentials());
    provider.forbid_token_requests(&server).await;
    cache_zone(&env, "Pacific/Kiritimati");
    provider
        .mount_zone_answering(&server, "Pacific/Pago_Pago", 2, Duration::ZERO)
        .await;
    let now = Utc::now();
    let yesterday = |tz: chrono_tz::Tz| now.with_timezone(&tz).date_naive() - Days::new(1);
    let (old, new) = (
        yesterday(chrono_tz::Pacific::Kiritimati),
        yesterday(chrono_tz::Pacific::Pago_Pago),
    );
    mount_any_days(provider, &server, &[old, new]).await;

    let output = env.output(&["fetch", "--date", "yesterday", "--json"]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["date"], json!(new.to_string()), "{stderr}");
    assert_eq!(json["timezone"], "Pacific/Pago_Pago");
    assert!(
        stderr.contains("time zone is now Pacific/Pago_Pago (it was Pacific/Kiritimati)")
            && stderr.contains(&format!("reading {new} in it instead of {old}")),
        "{stderr}"
    );
    assert_eq!(cached_zone(&env), "Pacific/Pago_Pago");
    assert_eq!(
        provider.zone_and_data_requests(&server).await,
        (1, 2 * data_requests)
    );

    let again = env.output(&["fetch", "--date", "yesterday", "--json"]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(
        !stderr_of(&again).contains("time zone"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(
        provider.zone_and_data_requests(&server).await,
        (2, 3 * data_requests)
    );
}

/// (provider, data requests of the standard day, whose basal energy comes in three
/// pages): the config's `timezone` is final: the account's
/// zone is not asked for, whatever is cached, and the day is read in the config's zone.
#[test_case(Google, 16)]
#[test_case(Fitbit, 5)]
#[tokio::test]
async fn a_configured_zone_sends_no_zone_request(provider: Provider, data_requests: usize) {
    let (env, server) = provider.standard_setup().await;
    cache_zone(&env, "Asia/Tokyo");
    provider
        .mount_zone_answering(&server, "Asia/Tokyo", 0, Duration::ZERO)
        .await;
    provider.mount_day(&server, &provider.old_token()).await;
    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    assert_eq!(
        provider.zone_and_data_requests(&server).await,
        (0, data_requests)
    );
    assert_eq!(cached_zone(&env), "Asia/Tokyo");
}

/// (provider, delay of every answer, the bound): one request after the other would
/// take (requests × delay), well over the bound.
#[test_case(Google, 400, 3500 ; "google: 16 requests, three of them pages that follow each other")]
#[test_case(Fitbit, 600, 2000 ; "fitbit: 5 requests")]
#[tokio::test]
async fn requests_go_out_concurrently(provider: Provider, delay_ms: u64, bound_ms: u64) {
    let (env, server) = provider.standard_setup().await;
    let delay = Duration::from_millis(delay_ms);
    provider
        .mount_day_changed(&server, |day| day.delay = delay, |day| day.delay = delay)
        .await;
    let started = Instant::now();
    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    let elapsed = started.elapsed();
    eprintln!("fetch with {delay_ms} ms per response took {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(bound_ms),
        "took {elapsed:?}"
    );
}

/// (provider, values that must be null, path fragments that must not be requested)
#[test_case(Google, &["water_ml", "weight_kg", "resting_heart_rate_bpm"], &["hydration-log", "/weight/", "body-fat", "daily-resting-heart-rate"])]
#[test_case(Fitbit, &["water_ml", "weight_kg", "body_fat_percent"], &["water", "weight"])]
#[tokio::test]
async fn data_of_scopes_the_user_did_not_grant_is_not_requested(
    provider: Provider,
    null: &[&str],
    skipped: &[&str],
) {
    let (env, server) = provider
        .zoned_setup(&provider.credentials_without_body_and_nutrition())
        .await;
    provider.mount_day(&server, &provider.old_token()).await;
    let json = provider.fetch_json(&env);
    for field in null {
        assert_eq!(json[field], Value::Null, "{field}");
    }
    assert_eq!(
        json["activity"]["steps"],
        provider.standard_json()["activity"]["steps"]
    );
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    for skipped in skipped {
        assert!(
            !asked.iter().any(|p| p.contains(skipped)),
            "{skipped} requested: {asked:?}"
        );
    }
}

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn a_day_without_sleep_or_device_has_null_for_them(provider: Provider) {
    let (env, server) = provider.standard_setup().await;
    provider
        .mount_day_changed(
            &server,
            |day| {
                day.sleep = json!({});
                day.devices = json!({});
            },
            |day| {
                day.sleep = json!({"sleep": [], "summary": {"totalMinutesAsleep": 0, "totalSleepRecords": 0, "totalTimeInBed": 0}});
                day.devices = json!([]);
            },
        )
        .await;
    let json = provider.fetch_json(&env);
    assert_eq!(json["sleep"], Value::Null);
    assert_eq!(json["device"], Value::Null);
    assert_eq!(json["activity"], provider.standard_json()["activity"]);
}

// ---------------------------------------------------------------------------------
// Tokens

/// (provider, whether the stored access token has expired or is refused with a 401): it
/// is refreshed exactly once for all the day's concurrent requests, before they are
/// sent or retried, and the new pair is saved for the next run, which needs no refresh.
#[test_case(Google, true ; "google: an expired token")]
#[test_case(Google, false ; "google: a 401")]
#[test_case(Fitbit, true ; "fitbit: an expired token")]
#[test_case(Fitbit, false ; "fitbit: a 401")]
#[tokio::test]
async fn a_stale_token_is_refreshed_once_and_saved_for_the_next_run(
    provider: Provider,
    expired: bool,
) {
    let credentials = if expired {
        provider.expired_credentials()
    } else {
        provider.valid_credentials()
    };
    let (env, server) = provider.zoned_setup(&credentials).await;
    if !expired {
        provider.reject_old_token(&server, true).await;
    }
    let refreshes = provider.mount_refresh(&server).await;
    provider.mount_day(&server, &provider.new_token()).await;

    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    refreshes.assert_one(provider, &server).await;
    let saved = env.read_credentials();
    assert!(
        saved.contains(&provider.new_token())
            && saved.contains(&provider.refreshed_refresh_token()),
        "{saved}"
    );
    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    refreshes.assert_one(provider, &server).await;
}

/// (provider, what the error quotes instead of the token, a part of the token)
#[test_case(Google, None, gmock::NEW_TOKEN)]
#[test_case(
    Fitbit,
    Some("expired_token: Access token expired: [redacted]"),
    "c2lnbmF0dXJlMTIzNDU2Nzg"
)]
#[tokio::test]
async fn a_401_after_the_refresh_is_77_without_quoting_the_token(
    provider: Provider,
    redacted: Option<&str>,
    token: &str,
) {
    let (env, server) = provider.zoned_setup(&provider.valid_credentials()).await;
    provider.reject_old_token(&server, false).await;
    let refreshes = provider.mount_refresh(&server).await;
    let output = provider.fetch(&env);
    let auth = format!("run `fitbit-notifier auth {}`", provider.name());
    assert_one_line_error(&output, 77, &auth);
    let stderr = stderr_of(&output);
    if let Some(redacted) = redacted {
        assert!(stderr.contains(redacted), "{stderr}");
    }
    assert!(!stderr.contains(token), "{stderr}");
    refreshes.assert_one(provider, &server).await;
}

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn refresh_persists_the_new_tokens_privately(provider: Provider) {
    let (env, server) = provider.setup("").await;
    env.write_credentials(&provider.valid_credentials());
    let refreshes = provider.mount_refresh(&server).await;
    let output = env.output(&["refresh"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("valid until"));
    refreshes.assert_one(provider, &server).await;
    let saved = env.read_credentials();
    for line in [
        format!("access_token = \"{}\"", provider.new_token()),
        format!("refresh_token = \"{}\"", provider.refreshed_refresh_token()),
    ] {
        assert!(saved.contains(&line), "{line} not in {saved}");
    }
    assert_eq!(env.credentials_mode(), 0o600);
}

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn invalid_grant_is_77_and_leaves_the_credentials_alone(provider: Provider) {
    let (env, server) = provider.setup("").await;
    let stored = provider.expired_credentials();
    env.write_credentials(&stored);
    let (says, never_says) = provider.mount_invalid_grant(&server).await;
    let output = env.output(&["refresh"]);
    let auth = format!("run `fitbit-notifier auth {}`", provider.name());
    assert_one_line_error(&output, 77, &auth);
    let stderr = stderr_of(&output);
    for phrase in says {
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
    }
    for phrase in never_says
        .iter()
        .chain([&provider.old_refresh_token().as_str()])
    {
        assert!(!stderr.contains(phrase), "{phrase:?} in {stderr}");
    }
    assert_eq!(env.read_credentials(), stored);
}

/// Runs `refresh` twice and checks that it failed with 75 and left the stored
/// credentials exactly as they were (byte for byte) and unquoted: with `-vv`, one error
/// line among the debug output; without, one line that says `phrase`. Returns the
/// longer run's time.
fn assert_refresh_fails_harmlessly(
    env: &TestEnv,
    provider: Provider,
    case: &str,
    phrase: &str,
) -> Duration {
    let stored = fs::read(env.credentials_path()).unwrap();
    let started = Instant::now();
    let output = env.output(&["-vv", "refresh"]);
    let verbose_took = started.elapsed();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(75), "{case}: {stderr}");
    assert!(stderr.contains("error: "), "{case}: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{case}: {stderr}"
    );
    assert!(
        !stderr.contains(&provider.new_token()),
        "{case} printed a token: {stderr}"
    );
    assert_eq!(fs::read(env.credentials_path()).unwrap(), stored, "{case}");
    let started = Instant::now();
    let output = env.output(&["refresh"]);
    let took = started.elapsed();
    assert_one_line_error(&output, 75, phrase);
    assert_eq!(fs::read(env.credentials_path()).unwrap(), stored, "{case}");
    verbose_took.max(took)
}

/// The token endpoint's answers that are no grant, by case.
fn broken_token_answer(case: &str, token: &str) -> ResponseTemplate {
    match case {
        "500" => ResponseTemplate::new(500).set_body_json(json!({"error": "internal_failure"})),
        "503 HTML" => {
            ResponseTemplate::new(503).set_body_raw("<html>unavailable</html>", "text/html")
        }
        "200 HTML" => {
            ResponseTemplate::new(200).set_body_raw("<html>captive portal</html>", "text/html")
        }
        "200 garbage" => ResponseTemplate::new(200).set_body_raw(
            vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x7b],
            "application/json",
        ),
        "200 form-encoded" => ResponseTemplate::new(200).set_body_raw(
            format!("access_token={token}&expires_in=3599"),
            "application/x-www-form-urlencoded",
        ),
        "200 JSON with a field of another type" => ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": token, "expires_in": 3599, "scope": 42})),
        _ => unreachable!("{case}"),
    }
}

#[test_case(Google, "500")]
#[test_case(Google, "503 HTML")]
#[test_case(Google, "200 HTML")]
#[test_case(Google, "200 garbage")]
#[test_case(Google, "200 form-encoded")]
#[test_case(Google, "200 JSON with a field of another type")]
#[test_case(Fitbit, "500")]
#[test_case(Fitbit, "503 HTML")]
#[test_case(Fitbit, "200 HTML")]
#[test_case(Fitbit, "200 garbage")]
#[test_case(Fitbit, "200 form-encoded")]
#[test_case(Fitbit, "200 JSON with a field of another type")]
#[tokio::test]
async fn token_endpoint_failures_are_75_and_leave_the_credentials_alone(
    provider: Provider,
    case: &str,
) {
    let (env, server) = provider.setup("").await;
    env.write_credentials(&provider.expired_credentials());
    Mock::given(method("POST"))
        .and(path(provider.token_path()))
        .respond_with(broken_token_answer(case, &provider.new_token()))
        .mount(&server)
        .await;
    assert_refresh_fails_harmlessly(&env, provider, case, "nothing was changed");
    if case.starts_with("200") {
        // an answer, however broken, is not asked for again
        let asked = server.received_requests().await.unwrap().len();
        assert_eq!(asked, 2, "{case}: one request for each of the two runs");
    }
}

/// A token endpoint that fails with 502 after it may have carried out the refresh: Google
/// does not rotate the refresh token, so the refresh is sent again and succeeds; Fitbit's
/// is single-use, so it is not sent again (a repeat would be refused as `invalid_grant`,
/// ending the authorization): the run exits 75 with the stored pair untouched.
#[test_case(Google, 2, 0)]
#[test_case(Fitbit, 1, 75)]
#[tokio::test]
async fn a_refresh_is_resent_after_a_server_error_only_where_its_token_is_not_single_use(
    provider: Provider,
    requests: usize,
    code: i32,
) {
    let (env, server) = provider.setup("").await;
    let stored = provider.expired_credentials();
    env.write_credentials(&stored);
    Mock::given(method("POST"))
        .and(path(provider.token_path()))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let after = match provider {
        Google => gmock::token_body(gmock::NEW_TOKEN, None, &gmock::ALL_SCOPES.join(" ")),
        Fitbit => ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{"errorType": "invalid_grant", "message": "Refresh token invalid"}],
            "success": false
        })),
    };
    Mock::given(method("POST"))
        .and(path(provider.token_path()))
        .respond_with(after)
        .mount(&server)
        .await;
    let output = env.output(&["refresh"]);
    let asked = server.received_requests().await.unwrap().len();
    assert_eq!(asked, requests, "{}", stderr_of(&output));
    if code == 0 {
        assert!(output.status.success(), "{}", stderr_of(&output));
    } else {
        assert_one_line_error(&output, code, "is not sent twice");
        assert_eq!(env.read_credentials(), stored);
    }
}

/// Google's refresh spends nothing, so it is tried `attempts` (3) times: three 1 s
/// timeouts and two backoffs; Fitbit's single-use refresh token is sent once, so one
/// timeout is all it takes.
#[test_case(Google, FaultKind::Drop, 6)]
#[test_case(Google, FaultKind::Hang, 6)]
#[test_case(Fitbit, FaultKind::Drop, 3)]
#[test_case(Fitbit, FaultKind::Hang, 3)]
fn a_token_endpoint_that_drops_or_hangs_is_75_within_the_timeout(
    provider: Provider,
    kind: FaultKind,
    within_secs: u64,
) {
    let fault = Fault::start(kind);
    let env = TestEnv::new();
    env.write_config(&format!(
        "{}[http]\nconnect_timeout = 1\ntimeout = 1\nattempts = 3\n\n{}",
        provider.selected(),
        provider.config("http://127.0.0.1:9", &format!("{}/token", fault.uri()))
    ));
    env.write_credentials(&provider.expired_credentials());
    let took = assert_refresh_fails_harmlessly(
        &env,
        provider,
        &format!("{kind:?}"),
        "the next run will try again",
    );
    assert!(
        took < Duration::from_secs(within_secs),
        "{kind:?} took {took:?}"
    );
}

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn refresh_is_not_attempted_when_the_new_tokens_could_not_be_saved(provider: Provider) {
    let (env, server) = provider.setup("").await;
    let dir = directory_without_room_for_new_files(&env);
    let creds = dir.join("credentials.toml");
    let written = provider.expired_credentials();
    fs::write(&creds, &written).unwrap();
    fs::set_permissions(&creds, fs::Permissions::from_mode(0o600)).unwrap();
    let config = fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "credentials_file = \"{}\"\n{config}",
        creds.display()
    ));
    provider.forbid_token_requests(&server).await;
    let output = env.output(&["refresh"]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr_of(&output));
    assert_stderr_has(&output, "cannot write in");
    assert_eq!(fs::read_to_string(&creds).unwrap(), written);
}

#[test_case(Google, "refresh")]
#[test_case(Google, "fetch")]
#[test_case(Fitbit, "refresh")]
#[test_case(Fitbit, "fetch")]
#[tokio::test]
async fn without_stored_authorization_it_is_77_naming_auth(provider: Provider, command: &str) {
    let (env, server) = provider.setup("timezone = \"Asia/Tokyo\"").await;
    provider.forbid_token_requests(&server).await;
    let output = env
        .cmd()
        .args(if command == "fetch" {
            vec!["fetch", "--date", provider.day()]
        } else {
            vec![command]
        })
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(77), "{}", stderr_of(&output));
    let auth = format!("fitbit-notifier auth {}", provider.name());
    assert!(stderr_of(&output).contains(&auth), "{}", stderr_of(&output));
}

// ---------------------------------------------------------------------------------
// Errors of the data endpoints

/// Runs `fetch` on the standard day with `data` answered `response`.
pub(crate) async fn fetch_failing(
    provider: Provider,
    data: Data,
    response: ResponseTemplate,
) -> (Output, MockServer) {
    let (env, server) = provider.standard_setup().await;
    provider.mount_failure(&server, data, response).await;
    provider.mount_day(&server, &provider.old_token()).await;
    (provider.fetch(&env), server)
}

/// (provider, its body for a scope not granted, what the error names)
#[test_case(Google, gmock::fixture("scope_insufficient.json"), gmock::NUTRITION)]
#[test_case(
    Fitbit,
    fitbit::fixture("insufficient_scope.json"),
    "the \"nutrition\" permission was not granted"
)]
#[tokio::test]
async fn a_missing_permission_is_77_naming_it(provider: Provider, body: Value, named: &str) {
    let (output, _server) = fetch_failing(
        provider,
        Data::Water,
        ResponseTemplate::new(403).set_body_json(body),
    )
    .await;
    assert_one_line_error(&output, 77, named);
}

/// Answers of a data endpoint that are no data, as any server in between may give.
#[test_case(
    Google,
    503,
    "<html>\n<head><title>Service Unavailable</title></head>\n<body>Down for maintenance</body>\n</html>",
    75,
    "a page titled \"Service Unavailable\""
)]
#[test_case(
    Fitbit,
    503,
    "<html>\n<head><title>Service Unavailable</title></head>\n<body>Down for maintenance</body>\n</html>",
    75,
    "a page titled \"Service Unavailable\""
)]
#[test_case(
    Google,
    502,
    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>",
    75,
    "a page titled \"502 Bad Gateway\""
)]
#[test_case(
    Fitbit,
    502,
    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>",
    75,
    "a page titled \"502 Bad Gateway\""
)]
#[test_case(
    Google,
    404,
    "<html>\n<body>Not Found</body>\n</html>",
    1,
    "a page without a title"
)]
#[test_case(
    Fitbit,
    404,
    "<html>\n<body>Not Found</body>\n</html>",
    1,
    "a page without a title"
)]
#[tokio::test]
async fn an_html_error_page_is_one_line_naming_its_title_without_quoting_it(
    provider: Provider,
    status: u16,
    page: &str,
    code: i32,
    phrase: &str,
) {
    let (output, _server) = fetch_failing(
        provider,
        Data::Sleep,
        ResponseTemplate::new(status).set_body_raw(page, "text/html"),
    )
    .await;
    assert_one_line_error(&output, code, phrase);
    assert!(
        !stderr_of(&output).contains("<body>"),
        "{}",
        stderr_of(&output)
    );
}

#[test_case(Google)]
#[test_case(Fitbit)]
#[tokio::test]
async fn an_answer_over_4_mib_is_1(provider: Provider) {
    let too_large = vec![b' '; 4 * 1024 * 1024 + 1];
    let (output, _server) = fetch_failing(
        provider,
        Data::Activity,
        ResponseTemplate::new(200).set_body_raw(too_large, "application/json"),
    )
    .await;
    assert_one_line_error(&output, 1, "larger than 4194304 bytes");
}

/// (provider, a 429 that says to try again in a second)
#[test_case(Google, ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_json(gmock::fixture("rate_limited.json")))]
#[test_case(Fitbit, ResponseTemplate::new(429).insert_header("fitbit-rate-limit-reset", "1").set_body_json(fitbit::fixture("rate_limited.json")))]
#[tokio::test]
async fn a_rate_limit_that_resets_within_seconds_is_waited_for(
    provider: Provider,
    limited: ResponseTemplate,
) {
    let (env, server) = provider.standard_setup().await;
    let day = provider.day();
    let at = match provider {
        Google => "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp".to_string(),
        Fitbit => format!("/1/user/-/activities/date/{day}.json"),
    };
    Mock::given(path(at))
        .respond_with(limited)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    provider.mount_day(&server, &provider.old_token()).await;
    let started = Instant::now();
    assert_eq!(provider.fetch_json(&env), provider.standard_json());
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// Serves `dates` (the middle one without data: no sleep, and for Google nothing at
/// all) with values that differ from day to day.
async fn mount_days(provider: Provider, server: &MockServer, dates: &[NaiveDate]) {
    let empty = dates[dates.len() / 2];
    match provider {
        Google => gmock_days::mount(server, gmock::OLD_TOKEN, &[empty]).await,
        Fitbit => {
            for &date in dates {
                let mut day = fitbit::Day::standard();
                day.date = Box::leak(date.to_string().into_boxed_str());
                day.activities["summary"]["steps"] = json!(9000 + date.day());
                if date == empty {
                    day.sleep = json!({"sleep": []});
                }
                day.mount(server, &fitbit::access_token(0)).await;
            }
        }
    }
}

/// (provider, days, data requests of the range): a range fetch is the days fetched
/// one by one, value for value (absent stays null), in one round of requests.
#[test_case(Google, 3, 14 ; "google: 3 days in the 14 requests of one day")]
#[test_case(Google, 28, 17 ; "google: 28 days, total calories and active minutes in two pieces, sleep in two pages of 25")]
#[test_case(Fitbit, 3, 13 ; "fitbit: 3 days, four requests a day and the devices once")]
#[tokio::test]
async fn a_range_is_its_days_fetched_one_by_one(provider: Provider, count: u32, requests: usize) {
    let (env, server) = provider.standard_setup().await;
    let last: NaiveDate = provider.day().parse().unwrap();
    let dates: Vec<NaiveDate> = (0..count)
        .rev()
        .map(|back| last - Days::new(u64::from(back)))
        .collect();
    mount_days(provider, &server, &dates).await;

    let output = env.output(&[
        "fetch",
        "--days",
        &count.to_string(),
        "--date",
        provider.day(),
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let range: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), requests);
    assert_eq!(range.len(), dates.len());
    for (day, date) in range.iter().zip(&dates) {
        let single = env.output(&["fetch", "--date", &date.to_string(), "--json"]);
        let single: Value = serde_json::from_slice(&single.stdout).unwrap();
        assert_eq!(day, &single, "{date}");
        assert_eq!(day["date"], json!(date.to_string()));
    }
    let empty = &range[dates.len() / 2];
    assert_eq!(empty["sleep"], Value::Null);
    assert_ne!(
        range[0]["activity"]["steps"],
        range[dates.len() - 1]["activity"]["steps"]
    );
    if let Google = provider {
        assert_eq!(empty["activity"]["steps"], Value::Null);
        assert_eq!(empty["resting_heart_rate_bpm"], Value::Null);
    }
}

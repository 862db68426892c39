//! A loopback Fitbit Web API as Fitbit documents it: Basic client authentication, PKCE,
//! single-use refresh tokens that a reused one is refused with `invalid_grant`, one day of
//! data in the units `Accept-Language` asks for, the profile's time zone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::{Issued, form, json_fixture};

pub fn fixture(name: &str) -> Value {
    json_fixture(&format!("fitbit/{name}"))
}

pub const DAY: &str = "2020-02-21";
pub const CLIENT_ID: &str = "22BXYZ";
pub const CLIENT_SECRET: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const CODE: &str = "d0c4e1c2b3a4958677f6e5d4c3b2a1901f2e3d4c";
pub const ALL_SCOPES: [&str; 7] = [
    "activity",
    "heartrate",
    "sleep",
    "settings",
    "nutrition",
    "weight",
    "profile",
];
pub const METRIC_LOCALE: &str = "en_AU";

/// The n-th refresh token the mock issues: 64 hex-like characters, as Fitbit's are.
pub fn refresh_token(n: u32) -> String {
    format!("{n:04}{}", "ab12".repeat(15))
}

/// The n-th access token the mock issues, JWT-like as Fitbit's are.
pub fn access_token(n: u32) -> String {
    format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyUzhWV1IiLCJuIjo{n:04}.c2lnbmF0dXJl")
}

pub fn credentials(
    access: &str,
    refresh: &str,
    expires_at: DateTime<Utc>,
    scopes: &[&str],
) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        "[fitbit]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\naccess_token = \"{access}\"\nrefresh_token = \"{refresh}\"\nexpires_at = \"{}\"\nauthorized_at = \"{}\"\nscopes = [{}]\n",
        expires_at.to_rfc3339(),
        (Utc::now() - TimeDelta::days(30)).to_rfc3339(),
        scopes.join(", ")
    )
}

/// Access token 0, good for another 8 hours, and refresh token 0.
pub fn valid_credentials() -> String {
    credentials(
        &access_token(0),
        &refresh_token(0),
        Utc::now() + TimeDelta::hours(8),
        &ALL_SCOPES,
    )
}

/// Access token 0, expired, and refresh token 0.
pub fn expired_credentials() -> String {
    credentials(
        &access_token(0),
        &refresh_token(0),
        Utc::now() - TimeDelta::minutes(1),
        &ALL_SCOPES,
    )
}

// ---------------------------------------------------------------------------------
// The token endpoint

/// Fitbit's error body, e.g. `invalid_grant` for a spent refresh token.
pub fn fitbit_error(status: u16, error_type: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"errors": [{"errorType": error_type, "message": message}], "success": false}),
    )
}

/// What the mock token endpoint saw.
#[derive(Default)]
pub struct Ledger {
    /// Every refresh token presented, in order.
    presented: Vec<String>,
    /// The ones presented again after they were spent.
    reused: Vec<String>,
    /// Requests without `Authorization: Basic base64(id:secret)`.
    without_basic_auth: usize,
    /// Requests that carried the client secret in the body.
    secret_in_body: usize,
}

/// A token endpoint that behaves like Fitbit's: Basic client authentication, PKCE
/// checked against what the authorize URL promised, and single-use refresh tokens
/// (each refresh issues a new pair; a spent token is refused with `invalid_grant`).
#[derive(Clone)]
pub struct TokenEndpoint {
    ledger: Arc<Mutex<Ledger>>,
    /// The refresh token the next refresh must present, and how many pairs were issued.
    current: Arc<Mutex<(String, u32)>>,
    pub issued: Arc<Mutex<Issued>>,
    pub granted: String,
    pub delay: Duration,
}

impl TokenEndpoint {
    /// Accepts refresh token `valid` next.
    pub fn new(valid: u32) -> Self {
        TokenEndpoint {
            ledger: Arc::default(),
            current: Arc::new(Mutex::new((refresh_token(valid), valid))),
            issued: Arc::default(),
            granted: ALL_SCOPES.join(" "),
            delay: Duration::ZERO,
        }
    }

    pub async fn mount(&self, server: &MockServer) {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    pub fn presented(&self) -> Vec<String> {
        self.ledger.lock().unwrap().presented.clone()
    }

    pub fn assert_clean(&self) {
        let ledger = self.ledger.lock().unwrap();
        assert!(ledger.reused.is_empty(), "reused: {:?}", ledger.reused);
        assert_eq!(ledger.without_basic_auth, 0);
        assert_eq!(ledger.secret_in_body, 0);
    }

    /// A new pair, the n-th.
    fn pair(&self, current: &mut (String, u32)) -> ResponseTemplate {
        current.1 += 1;
        current.0 = refresh_token(current.1);
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "access_token": access_token(current.1),
                "expires_in": 28800,
                "refresh_token": current.0,
                "scope": self.granted,
                "token_type": "Bearer",
                "user_id": "2S8VWR"
            }))
            .set_delay(self.delay)
    }
}

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form(request);
        let mut ledger = self.ledger.lock().unwrap();
        if form.contains_key("client_secret") {
            ledger.secret_in_body += 1;
        }
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        let authorization = request.headers.get("authorization");
        if authorization.and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
            ledger.without_basic_auth += 1;
            return fitbit_error(
                401,
                "invalid_client",
                "Invalid authorization header format.",
            );
        }
        match form.get("grant_type").map(String::as_str) {
            Some("refresh_token") => {
                let presented = form.get("refresh_token").cloned().unwrap_or_default();
                ledger.presented.push(presented.clone());
                let mut current = self.current.lock().unwrap();
                if presented != current.0 {
                    ledger.reused.push(presented.clone());
                    return fitbit_error(
                        400,
                        "invalid_grant",
                        &format!(
                            "Refresh token invalid: {presented}. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process."
                        ),
                    );
                }
                self.pair(&mut current)
            }
            Some("authorization_code")
                if self
                    .issued
                    .lock()
                    .unwrap()
                    .exchange_matches(&form, CODE, CLIENT_ID) =>
            {
                self.pair(&mut self.current.lock().unwrap())
            }
            _ => fitbit_error(
                400,
                "invalid_grant",
                "Authorization code invalid (mock: code, client, redirect_uri or PKCE mismatch).",
            ),
        }
    }
}

// ---------------------------------------------------------------------------------
// The data endpoints

/// Fitbit's rate-limit headers on an answer, with `remaining` requests left.
pub fn with_rate_limit_headers(response: ResponseTemplate, remaining: u32) -> ResponseTemplate {
    response
        .insert_header("fitbit-rate-limit-limit", "150")
        .insert_header(
            "fitbit-rate-limit-remaining",
            remaining.to_string().as_str(),
        )
        .insert_header("fitbit-rate-limit-reset", "1958")
}

/// One day as the mock serves it.
pub struct Day {
    pub date: &'static str,
    pub activities: Value,
    pub sleep: Value,
    pub devices: Value,
    pub water: Value,
    pub weight: Value,
    /// The `Content-Language` of every answer: the units it is in.
    pub content_language: Option<&'static str>,
    pub delay: Duration,
}

impl Day {
    /// The reference's example bodies, in metric units.
    pub fn standard() -> Self {
        Day {
            date: DAY,
            activities: fixture("activities.json"),
            sleep: fixture("sleep.json"),
            devices: fixture("devices.json"),
            water: fixture("water.json"),
            weight: fixture("weight.json"),
            content_language: None,
            delay: Duration::ZERO,
        }
    }

    /// The original tool's day, recorded in US units as python-fitbit asked for them.
    pub fn original() -> Self {
        Day {
            date: "2021-05-23",
            activities: fixture("2021-05-23/activities_us.json"),
            sleep: fixture("2021-05-23/sleep.json"),
            devices: fixture("2021-05-23/devices.json"),
            water: fixture("2021-05-23/water.json"),
            weight: fixture("2021-05-23/weight.json"),
            content_language: Some("en_US"),
            delay: Duration::ZERO,
        }
    }

    /// Serves this day to requests that carry `token` and ask for metric units.
    pub async fn mount(self, server: &MockServer, token: &str) {
        let date = self.date;
        for (path, body) in [
            (
                format!("/1/user/-/activities/date/{date}.json"),
                self.activities,
            ),
            (format!("/1.2/user/-/sleep/date/{date}.json"), self.sleep),
            ("/1/user/-/devices.json".to_string(), self.devices),
            (
                format!("/1/user/-/foods/log/water/date/{date}.json"),
                self.water,
            ),
            (
                format!("/1/user/-/body/log/weight/date/{date}.json"),
                self.weight,
            ),
        ] {
            let mut response = with_rate_limit_headers(
                ResponseTemplate::new(200)
                    .set_body_json(body)
                    .set_delay(self.delay),
                140,
            );
            if let Some(language) = self.content_language {
                response = response.insert_header("content-language", language);
            }
            api_mock(&path, token)
                .respond_with(response)
                .mount(server)
                .await;
        }
    }
}

pub fn api_mock(api_path: &str, token: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(api_path))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("accept-language", METRIC_LOCALE))
}

pub async fn mount_profile(server: &MockServer, token: &str, timezone: &str, times: u64) {
    let mut profile = fixture("profile.json");
    profile["user"]["timezone"] = json!(timezone);
    api_mock("/1/user/-/profile.json", token)
        .respond_with(ResponseTemplate::new(200).set_body_json(profile))
        .expect(times)
        .mount(server)
        .await;
}

/// The standard day as `fetch --json` prints it.
pub fn standard_json() -> Value {
    json!({
        "date": DAY,
        "timezone": "Europe/London",
        "provider": "fitbit-legacy",
        "activity": {
            "steps": 8234,
            "distance_km": 6.12,
            "calories_out_kcal": 2345.0,
            "calories_bmr_kcal": 1680.0,
            "activity_calories_kcal": 665.0,
            "sedentary_minutes": 720,
            "lightly_active_minutes": 180,
            "fairly_active_minutes": 45,
            "very_active_minutes": 15
        },
        "sleep": {
            "minutes_asleep": 384,
            "minutes_in_bed": 462,
            "start": "2020-02-20T23:21:30",
            "end": "2020-02-21T07:03:30",
            "stages": {"deep": 104, "light": 205, "rem": 75, "wake": 78}
        },
        "water_ml": 1500.0,
        "weight_kg": 62.4,
        "body_fat_percent": 21.3,
        "resting_heart_rate_bpm": 58,
        "device": {"name": "Charge 2", "battery_percent": 60, "last_sync": "2019-11-07T12:00:58"}
    })
}

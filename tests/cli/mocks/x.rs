//! A loopback X that recomputes the OAuth 1.0a signature of every request it receives
//! and answers 401 to a wrong one, as the tests and the benchmark use it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::json;
use sha1::Sha1;
use wiremock::matchers::{any, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub const API_KEY: &str = "test-api-key-4kT9";
pub const API_SECRET: &str = "test-api-secret-Qm2x";
pub const ACCESS_TOKEN: &str = "1-test-access-token-Zr7p";
pub const ACCESS_TOKEN_SECRET: &str = "test-access-token-secret-Lw3c";
pub const REQUEST_TOKEN: &str = "test-request-token";
pub const REQUEST_TOKEN_SECRET: &str = "test-request-token-secret-Hy6d";
pub const MINTED_TOKEN: &str = "2-minted-access-token-Vb8n";
pub const MINTED_TOKEN_SECRET: &str = "minted-access-token-secret-Pe5s";
pub const POST_ID: &str = "1445880548472328192";
/// The media id the upload answers with (the real answer's, tests/fixtures/real/x/).
pub const MEDIA_ID: &str = "1880028106020515840";

/// The tokens the mock knows, with the secret each is signed with.
const TOKEN_SECRETS: [(&str, &str); 3] = [
    (ACCESS_TOKEN, ACCESS_TOKEN_SECRET),
    (REQUEST_TOKEN, REQUEST_TOKEN_SECRET),
    (MINTED_TOKEN, MINTED_TOKEN_SECRET),
];

/// RFC 3986 unreserved characters stay; everything else is %XX.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn pct(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The decoded fields of an `Authorization: OAuth k="v", …` header.
pub fn oauth_fields(request: &Request) -> Result<HashMap<String, String>, String> {
    let header = request
        .headers
        .get("authorization")
        .ok_or("no Authorization header")?
        .to_str()
        .map_err(|err| err.to_string())?;
    let fields = header.strip_prefix("OAuth ").ok_or("not an OAuth header")?;
    fields
        .split(',')
        .map(|field| {
            let (key, value) = field.trim().split_once('=').ok_or("a field without =")?;
            let value = value
                .strip_prefix('"')
                .and_then(|value| value.strip_suffix('"'))
                .ok_or("an unquoted value")?;
            let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
            Ok((decode(key), decode(value)))
        })
        .collect()
}

/// Checks a request as X does: RFC 5849 HMAC-SHA1 over the method, the scheme, host, port
/// and path it arrived with, the query, a form body (never a JSON one) and the OAuth fields.
fn verify_signature(request: &Request, expected_origin: &str) -> Result<(), String> {
    let expected_host = expected_origin
        .split_once("://")
        .map_or(expected_origin, |(_, host)| host);
    // HTTP/2 names the host in :authority, which the mock puts in the URL, not in Host
    let host = match request.headers.get("host") {
        Some(host) => host.to_str().map_err(|err| err.to_string())?.to_string(),
        None if request.url.scheme() == "https" => {
            format!(
                "{}:{}",
                request.url.host_str().unwrap_or(""),
                request.url.port_or_known_default().unwrap_or(0)
            )
        }
        None => return Err("no Host header".into()),
    };
    if host != expected_host {
        return Err(format!("sent to {host}, not {expected_host}"));
    }
    let oauth = oauth_fields(request)?;
    let field = |key: &str| {
        oauth
            .get(key)
            .map(String::as_str)
            .ok_or(format!("no {key}"))
    };
    if field("oauth_consumer_key")? != API_KEY {
        return Err("unknown consumer key".into());
    }
    if field("oauth_signature_method")? != "HMAC-SHA1" || field("oauth_version")? != "1.0" {
        return Err("not HMAC-SHA1 with oauth_version 1.0".into());
    }
    let timestamp: i64 = field("oauth_timestamp")?
        .parse()
        .map_err(|_| "a timestamp that is not a number")?;
    if (timestamp - now()).abs() > 300 {
        return Err("a stale timestamp".into());
    }
    let nonce = field("oauth_nonce")?;
    if nonce.is_empty() || !nonce.is_ascii() {
        return Err("a bad nonce".into());
    }
    let token_secret = match oauth.get("oauth_token") {
        None => "",
        Some(token) => TOKEN_SECRETS
            .iter()
            .find(|(known, _)| known == token)
            .map(|(_, secret)| *secret)
            .ok_or("an unknown token")?,
    };

    let mut params: Vec<(String, String)> = oauth
        .iter()
        .filter(|(key, _)| *key != "oauth_signature" && *key != "realm")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    params.extend(request.url.query_pairs().into_owned());
    let form = request.headers.get("content-type").is_some_and(|kind| {
        kind.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    if form {
        params.extend(url::form_urlencoded::parse(&request.body).into_owned());
    }
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(key, value)| (pct(key), pct(value)))
        .collect();
    encoded.sort();
    let parameter_string = encoded
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let base_url = format!("{expected_origin}{}", request.url.path());
    let base_string = format!(
        "{}&{}&{}",
        request.method.as_str().to_uppercase(),
        pct(&base_url),
        pct(&parameter_string)
    );
    let key = format!("{}&{}", pct(API_SECRET), pct(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base_string.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if field("oauth_signature")? == expected {
        Ok(())
    } else {
        Err(format!("a wrong signature for {base_string}"))
    }
}

/// Matches only requests whose signature is right, as X recomputes it.
pub struct SignedCorrectly {
    origin: String,
}

impl Match for SignedCorrectly {
    fn matches(&self, request: &Request) -> bool {
        verify_signature(request, &self.origin)
            .inspect_err(|why| eprintln!("mock X refuses {}: {why}", request.url.path()))
            .is_ok()
    }
}
/// A loopback X: anything not signed correctly, or not expected, gets X's 401.
pub struct MockX {
    pub server: MockServer,
}

impl MockX {
    pub async fn start() -> Self {
        let server = super::server::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
            })))
            .with_priority(250)
            .mount(&server)
            .await;
        MockX { server }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn signed(&self) -> SignedCorrectly {
        self.signed_at(&self.uri())
    }

    /// Signed for `origin` (`https://127.0.0.1:443`), for requests that reach this mock
    /// through a proxy.
    pub fn signed_at(&self, origin: &str) -> SignedCorrectly {
        SignedCorrectly {
            origin: origin.to_string(),
        }
    }

    /// Answers signed `POST /2/tweets` with `response`, `times` times (then the next
    /// mounted answer applies).
    pub async fn answer_posts(&self, response: ResponseTemplate, times: Option<u64>) {
        let mock = Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(self.signed())
            .respond_with(response);
        match times {
            Some(times) => mock.up_to_n_times(times).with_priority(1),
            None => mock,
        }
        .mount(&self.server)
        .await;
    }

    /// Answers signed image uploads (`POST /2/media/upload`, then its alt text through
    /// `POST /2/media/metadata`) after `latency`, with X's documented answer.
    pub async fn answer_uploads(&self, latency: Duration) {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real/x/media_upload_init_200.json");
        let uploaded: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        for (at, body) in [
            ("/2/media/upload", uploaded),
            ("/2/media/metadata", json!({"data": {"id": MEDIA_ID}})),
        ] {
            Mock::given(method("POST"))
                .and(path(at))
                .and(self.signed())
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(body)
                        .set_delay(latency),
                )
                .mount(&self.server)
                .await;
        }
    }

    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap()
    }

    pub async fn posts(&self) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|request| request.url.path() == "/2/tweets")
            .collect()
    }
}

pub fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"data": {"id": POST_ID, "text": "ok"}}))
}

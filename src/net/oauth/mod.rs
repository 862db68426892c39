//! OAuth 2.0 for an installed app (RFC 6749, PKCE RFC 7636, loopback redirect RFC 8252),
//! shared by every OAuth 2.0 provider: PKCE and `state`, the authorize URL, receiving the
//! code (a one-shot loopback listener, or a pasted URL on a headless machine), the code
//! and refresh grants, and the refresh protocol that keeps the credentials file
//! consistent across concurrent processes. Everything provider-specific comes in as a
//! [`Service`] or as parameters.

use std::io;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use crate::config::HttpConfig;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;
use crate::store::credentials::{CredentialStore, Credentials, OAuthCredentials};

/// How long `auth` waits for the browser to come back to the loopback listener.
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);

/// Overrides [`DEFAULT_CALLBACK_TIMEOUT`], in seconds (documented in the README; tests
/// use it to see the timeout without waiting minutes).
pub const CALLBACK_TIMEOUT_ENV: &str = "FITBIT_NOTIFIER_AUTH_TIMEOUT";

/// An access token that expires sooner than this is refreshed before use, so that it
/// cannot expire halfway through a run.
pub const REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// Assumed lifetime when a token response does not say (`expires_in` is only RECOMMENDED).
const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;

/// A ceiling on `expires_in`, so that a nonsense value cannot overflow the date arithmetic.
const MAX_TOKEN_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// The largest request head the loopback listener reads; a redirect is far smaller.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields (Google).
    InBody,
    /// `Authorization: Basic base64(client_id:client_secret)` (Fitbit).
    Basic,
}

/// One OAuth 2.0 provider as the shared code needs to know it.
#[derive(Debug, Clone)]
pub struct Service {
    /// For messages: "Google".
    pub name: &'static str,
    /// The command that authorizes again, for messages: "fitbit-notifier auth google".
    pub auth_command: &'static str,
    pub token_url: Url,
    pub client_auth: ClientAuth,
    /// Where this provider's authorization lives in the credentials file.
    pub slot: fn(&mut Credentials) -> &mut Option<OAuthCredentials>,
    /// An explanation to add when the provider rejects the refresh token
    /// (`invalid_grant`), given the stored authorization and the time now.
    pub invalid_grant_hint: fn(&OAuthCredentials, DateTime<Utc>) -> Option<String>,
    /// Set for a provider that has announced that its endpoints are turned off.
    pub shutdown: Option<Shutdown>,
}

/// A provider's announced end: from `since` on, its endpoints cannot work, so any
/// failure to reach them is that end, which `notice` explains with what to do instead.
/// A 410 Gone says so at any time.
#[derive(Debug, Clone)]
pub struct Shutdown {
    pub since: DateTime<Utc>,
    /// What happened and the steps to switch, one line.
    pub notice: String,
}

impl Shutdown {
    /// The re-authorization error for an answer (or a failure to get one) from
    /// `endpoint` that shows the provider gone; `None` when it does not.
    pub fn check(
        &self,
        endpoint: &str,
        outcome: &std::result::Result<Reply, http::SendError>,
        now: DateTime<Utc>,
    ) -> Option<Error> {
        let seen = match outcome {
            Ok(reply) if reply.status == StatusCode::GONE => "answered 410 Gone".to_string(),
            Ok(reply) if reply.status.is_success() => return None,
            _ if now < self.since => return None,
            Ok(reply) => format!("answered {}", reply.status),
            Err(err) => format!("failed ({err})"),
        };
        Some(Error::reauth(format!(
            "the {endpoint} {seen}: {}",
            self.notice
        )))
    }
}

impl Service {
    fn not_authorized(&self, store: &CredentialStore) -> Error {
        Error::reauth(format!(
            "no {} authorization is stored in {}; run `{}` first",
            self.name,
            store.path().display(),
            self.auth_command
        ))
    }
}

// ---------------------------------------------------------------------------------
// PKCE, state and the authorize URL

/// A scope a provider is asked for, and what the summary loses without it.
#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    /// The string sent in the authorize request and returned in the token's `scope`.
    pub id: &'static str,
    /// As the consent screen names it, roughly.
    pub name: &'static str,
    pub provides: &'static str,
}

/// The requested scopes missing from `granted` (the user unticked them).
pub fn unticked<'a>(requested: &[&'a Scope], granted: &[String]) -> Vec<&'a Scope> {
    requested
        .iter()
        .copied()
        .filter(|scope| !granted.iter().any(|g| g == scope.id))
        .collect()
}

/// Whether a request under `scope` is worth sending: an empty list (a token response
/// without `scope`) means everything is tried and a refusal reported.
pub fn is_granted(creds: &OAuthCredentials, scope: &Scope) -> bool {
    creds.scopes.is_empty() || creds.scopes.iter().any(|s| s == scope.id)
}

/// A PKCE (RFC 7636) verifier and its S256 challenge.
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier of 32 random bytes (43 base64url characters, within 43..=128).
    pub fn generate() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Pkce {
            challenge: s256(&verifier),
            verifier: Secret::new(verifier),
        }
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`, the `S256` challenge method.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An unguessable `state` that ties the redirect to this run.
pub fn random_state() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// What goes into the authorize URL.
pub struct AuthorizeRequest<'a> {
    pub auth_url: &'a Url,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [&'a str],
    pub state: &'a str,
    pub pkce: &'a Pkce,
    /// Provider-specific parameters, e.g. `access_type=offline`.
    pub extra: &'a [(&'a str, &'a str)],
}

impl AuthorizeRequest<'_> {
    pub fn url(&self) -> Url {
        let mut url = self.auth_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id)
            .append_pair("redirect_uri", self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", self.state)
            .append_pair("code_challenge", self.pkce.challenge())
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(self.extra.iter());
        url
    }
}

// ---------------------------------------------------------------------------------
// Receiving the authorization code

/// [`DEFAULT_CALLBACK_TIMEOUT`], or the number of seconds in [`CALLBACK_TIMEOUT_ENV`].
pub fn callback_timeout() -> Result<Duration> {
    match std::env::var(CALLBACK_TIMEOUT_ENV) {
        Err(_) => Ok(DEFAULT_CALLBACK_TIMEOUT),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&secs| secs > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                Error::config(format!(
                    "{CALLBACK_TIMEOUT_ENV}={text:?} is not a positive number of seconds; fix or unset it"
                ))
            }),
    }
}

/// A listener on 127.0.0.1 (never another interface) that takes exactly one redirect
/// to its callback path and then closes.
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
}

impl Loopback {
    /// At a port the system picks, for providers that accept any loopback port.
    pub async fn bind() -> Result<Self> {
        let listener = listen(0).await?;
        let port = listener
            .local_addr()
            .map_err(|err| Error::other(format!("cannot read the listener's port: {err}")))?
            .port();
        Ok(Loopback {
            listener,
            redirect_uri: loopback_uri(port),
            path: "/".to_string(),
        })
    }

    /// At the port and path of a registered `http://127.0.0.1:<port>/...` (or
    /// `localhost`) redirect URI, for providers that require an exact match; the URI is
    /// sent exactly as given.
    pub async fn bind_to(redirect_uri: &str) -> Result<Self> {
        let url = Url::parse(redirect_uri)
            .ok()
            .filter(|url| {
                url.scheme() == "http"
                    && matches!(url.host_str(), Some("127.0.0.1" | "localhost"))
                    && url.port().is_some()
            })
            .ok_or_else(|| {
                Error::config(format!(
                    "the redirect URI {redirect_uri:?} is not an http://127.0.0.1:<port>/ address this machine can listen on; register such a callback URL for the app, or use --no-browser"
                ))
            })?;
        let port = url.port().expect("checked above");
        Ok(Loopback {
            listener: listen(port).await?,
            redirect_uri: redirect_uri.to_string(),
            path: url.path().to_string(),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's redirect to `/`, checks `state`, answers it with a
    /// small page and returns the code. Requests for other paths (a favicon) get a
    /// 404 and do not count; connections that never send a request are ignored.
    pub async fn receive_code(
        self,
        service: &Service,
        state: &str,
        timeout: Duration,
    ) -> Result<Secret> {
        tokio::time::timeout(timeout, self.serve_one(service, state))
            .await
            .unwrap_or_else(|_| {
                Err(Error::other(format!(
                    "no answer from the browser within {}s; run `{}` again and finish the consent in time (on a machine without a browser add --no-browser)",
                    timeout.as_secs(),
                    service.auth_command
                )))
            })
    }

    async fn serve_one(self, service: &Service, state: &str) -> Result<Secret> {
        // each connection is read in its own task, so that a browser's idle
        // pre-connection cannot hold up the one that carries the redirect
        let mut reading: JoinSet<io::Result<(TcpStream, String)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        reading.spawn(read_request_target(stream));
                    }
                }
                Some(joined) = reading.join_next() => {
                    let Ok(Ok((mut stream, target))) = joined else { continue };
                    let Some(query) = callback_query(&target, &self.path) else {
                        respond(&mut stream, "404 Not Found", "Not found.").await;
                        continue;
                    };
                    let outcome = code_from_redirect(service, &query, Some(state), true);
                    let page = match &outcome {
                        Ok(_) => format!("fitbit-notifier is authorized for {}. You can close this tab.", service.name),
                        Err(err) => format!("Authorization failed: {err}"),
                    };
                    let status = if outcome.is_ok() { "200 OK" } else { "400 Bad Request" };
                    respond(&mut stream, status, &page).await;
                    return outcome;
                }
            }
        }
    }
}

async fn listen(port: u16) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|err| {
        Error::other(format!(
            "cannot listen on 127.0.0.1:{port}: {err}; free the port or use --no-browser to paste the redirect instead"
        ))
    })
}

fn loopback_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

/// A loopback redirect URI for `--no-browser`: nothing listens there, so the browser
/// shows an error page whose address bar holds the code for the user to paste.
pub fn paste_redirect_uri() -> Result<String> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|err| Error::other(format!("cannot pick a loopback port: {err}")))?
        .port();
    Ok(loopback_uri(port))
}

/// The code from what the user pasted: the whole redirected URL, its query, or the bare
/// code. A pasted `state` must match; a bare code has none to check.
pub fn code_from_pasted(service: &Service, pasted: &str, state: &str) -> Result<Secret> {
    let pasted = pasted.trim();
    if pasted.is_empty() {
        return Err(Error::other(format!(
            "nothing was pasted; run `{} --no-browser` again and paste the address the browser ended on",
            service.auth_command
        )));
    }
    let query = match Url::parse(pasted) {
        Ok(url) => url.query().unwrap_or_default().to_string(),
        Err(_) if pasted.contains("code=") || pasted.contains("error=") => {
            pasted.rsplit('?').next().unwrap_or_default().to_string()
        }
        Err(_) => {
            let code = percent_decode(pasted);
            return Ok(Secret::new(code));
        }
    };
    code_from_redirect(service, &query, Some(state), false)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("c={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Checks a redirect's query: the provider's `error`, then `state` (required from a
/// browser, checked when present in a paste), then the code.
fn code_from_redirect(
    service: &Service,
    query: &str,
    expected_state: Option<&str>,
    state_required: bool,
) -> Result<Secret> {
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = param("error") {
        let detail = param("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(Error::other(format!(
            "{} did not authorize fitbit-notifier ({error}{detail}); run `{}` again and allow access",
            service.name, service.auth_command
        )));
    }
    match (param("state"), expected_state) {
        (Some(got), Some(expected)) if got != expected => {
            return Err(Error::other(format!(
                "the redirect's state does not match this run (a stale tab or a forged request); run `{}` again and use the new URL",
                service.auth_command
            )));
        }
        (None, Some(_)) if state_required => {
            return Err(Error::other(format!(
                "the redirect has no state parameter; run `{}` again and use the new URL",
                service.auth_command
            )));
        }
        _ => {}
    }
    match param("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code)),
        _ => Err(Error::other(format!(
            "the redirect carries no authorization code; run `{}` again",
            service.auth_command
        ))),
    }
}

/// Reads a request head and returns its target (`/?code=...`).
async fn read_request_target(mut stream: TcpStream) -> io::Result<(TcpStream, String)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return Err(io::ErrorKind::InvalidData.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok((stream, target.to_string())),
        _ => Err(io::ErrorKind::InvalidData.into()),
    }
}

/// The query of a request for the callback path, or `None` for any other path.
fn callback_query(target: &str, callback_path: &str) -> Option<String> {
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    (url.path() == callback_path).then(|| url.query().unwrap_or_default().to_string())
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>fitbit-notifier</title></head>\
         <body><p>{}</p></body></html>",
        html_escape(message)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    // the browser's page is a courtesy: the outcome is reported in the terminal either way
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------------
// The token endpoint

/// What a token endpoint granted.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: Secret,
    /// Absent on most refreshes: the old refresh token stays valid.
    pub refresh_token: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    /// The granted scopes, when the response lists them.
    pub scopes: Option<Vec<String>>,
}

impl Tokens {
    /// The credentials to store after a code exchange; without a refresh token the
    /// authorization would die within the hour, so that is refused.
    pub fn into_credentials(
        self,
        service: &Service,
        client_id: &str,
        client_secret: &Secret,
        requested_scopes: &[&str],
    ) -> Result<OAuthCredentials> {
        let refresh_token = self.refresh_token.ok_or_else(|| {
            Error::other(format!(
                "{} granted no refresh token, so the authorization would stop working within the hour; remove fitbit-notifier's access in your {} account settings and run `{}` again",
                service.name, service.name, service.auth_command
            ))
        })?;
        Ok(OAuthCredentials {
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
            access_token: self.access_token,
            refresh_token,
            expires_at: self.expires_at,
            authorized_at: Utc::now(),
            scopes: self
                .scopes
                .unwrap_or_else(|| requested_scopes.iter().map(|s| s.to_string()).collect()),
        })
    }

    /// The stored authorization updated with a refresh's answer: a refresh token is
    /// replaced only by a new one, scopes only when the answer lists them.
    fn refreshed(self, previous: &OAuthCredentials) -> OAuthCredentials {
        OAuthCredentials {
            access_token: self.access_token,
            refresh_token: self
                .refresh_token
                .unwrap_or_else(|| previous.refresh_token.clone()),
            expires_at: self.expires_at,
            scopes: self.scopes.unwrap_or_else(|| previous.scopes.clone()),
            ..previous.clone()
        }
    }
}

/// Why a grant failed.
#[derive(Debug)]
pub enum GrantError {
    /// The endpoint answered with an OAuth error (`invalid_grant`, `invalid_client`, ...).
    Rejected(Rejection),
    /// Anything else, already classified (75 for network, 5xx and garbage).
    Failed(Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: StatusCode,
    pub error: String,
    pub description: Option<String>,
}

impl Rejection {
    /// Whether the grant itself (the code or refresh token) is refused: `invalid_grant`,
    /// or `invalid_token` from providers that word it so.
    pub fn is_dead_grant(&self) -> bool {
        matches!(self.error.as_str(), "invalid_grant" | "invalid_token")
    }

    fn summary(&self) -> String {
        match &self.description {
            Some(d) => format!("{}: {d}", self.error),
            None => self.error.clone(),
        }
    }
}

impl GrantError {
    /// The error to report. `hint` is added to an `invalid_grant` message.
    pub fn into_error(self, service: &Service, hint: Option<String>) -> Error {
        let rejection = match self {
            GrantError::Failed(err) => return err,
            GrantError::Rejected(rejection) => rejection,
        };
        let hint = hint.map(|h| format!(" {h}")).unwrap_or_default();
        match rejection.error.as_str() {
            "invalid_grant" | "invalid_token" => Error::reauth(format!(
                "{} no longer accepts the stored authorization ({}); run `{}` to authorize again.{hint}",
                service.name,
                rejection.summary(),
                service.auth_command
            )),
            "invalid_client" | "unauthorized_client" => Error::reauth(format!(
                "{} does not accept the OAuth client ({}); check the client id and secret and run `{}` again",
                service.name,
                rejection.summary(),
                service.auth_command
            )),
            _ => Error::other(format!(
                "{} refused the token request ({} {}); run `{}` again",
                service.name,
                rejection.status.as_u16(),
                rejection.summary(),
                service.auth_command
            )),
        }
    }
}

/// The token endpoint of one client.
pub struct TokenClient<'a> {
    pub service: &'a Service,
    pub http: &'a reqwest::Client,
    pub http_config: &'a HttpConfig,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
}

impl TokenClient<'_> {
    /// The `authorization_code` grant with the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<Tokens, GrantError> {
        self.grant(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
        ])
        .await
    }

    /// The `refresh_token` grant.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens, GrantError> {
        self.grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    async fn grant(&self, fields: &[(&str, &str)]) -> Result<Tokens, GrantError> {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("client_id", self.client_id));
        if self.service.client_auth == ClientAuth::InBody && !self.client_secret.is_empty() {
            form.push(("client_secret", self.client_secret.expose()));
        }
        let basic = (self.service.client_auth == ClientAuth::Basic).then(|| self.basic_auth());
        let make = || {
            let request = self
                .http
                .post(self.service.token_url.clone())
                .header("accept", "application/json")
                .form(&form);
            match &basic {
                Some(value) => request.header(AUTHORIZATION, value.clone()),
                None => request,
            }
        };
        // a grant that may have landed is not sent twice: a provider that rotates
        // refresh tokens would have invalidated the one we would send again
        let outcome = http::send(make, Retry::once_only(self.http_config)).await;
        let endpoint = format!("{} token endpoint", self.service.name);
        if let Some(gone) = self
            .service
            .shutdown
            .as_ref()
            .and_then(|shutdown| shutdown.check(&endpoint, &outcome, Utc::now()))
        {
            return Err(GrantError::Failed(gone));
        }
        let reply = outcome.map_err(|err| GrantError::Failed(err.into_error(&endpoint)))?;
        parse_token_reply(self.service, &reply, Utc::now())
    }

    fn basic_auth(&self) -> HeaderValue {
        let pair = format!("{}:{}", self.client_id, self.client_secret.expose());
        let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair)))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        value
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<Secret>,
    refresh_token: Option<Secret>,
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<u64>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

/// `{"errors": [{"errorType": "invalid_grant", "message": "..."}], "success": false}`:
/// the error body of providers that list their errors instead of following RFC 6749
/// §5.2, at their token endpoint and their API alike.
#[derive(Debug, Deserialize)]
pub struct ErrorList {
    #[serde(default)]
    errors: Vec<ListedError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedError {
    error_type: String,
    message: Option<String>,
}

impl ErrorList {
    /// The first listed error, its message with any quoted token redacted.
    pub fn parse(body: &[u8]) -> Option<(String, Option<String>)> {
        let list: ErrorList = serde_json::from_slice(body).ok()?;
        let first = list.errors.into_iter().next()?;
        Some((first.error_type, first.message.map(|m| redact_tokens(&m))))
    }
}

/// Some providers quote the rejected token in their error message ("Refresh token
/// invalid: <token>"); a message that reaches a log must not. A token is taken to be a
/// word of 20 or more token characters with a digit in it.
pub fn redact_tokens(text: &str) -> String {
    let token_like = |word: &str| {
        word.len() >= 20
            && word.bytes().any(|b| b.is_ascii_digit())
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
    };
    text.split_whitespace()
        .map(|word| if token_like(word) { "[redacted]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `error` and `error_description` of an RFC 6749 error body, or of an error list.
fn oauth_error(body: &[u8]) -> Option<(String, Option<String>)> {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(body) => Some((body.error, body.error_description)),
        Err(_) => ErrorList::parse(body),
    }
}

/// `expires_in` as a number or, from some servers, a string.
fn seconds<'de, D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Number>::deserialize(de)? {
        None => None,
        Some(Number::Int(n)) => Some(n),
        Some(Number::Float(f)) if f >= 0.0 => Some(f as u64),
        Some(Number::Float(_)) => None,
        Some(Number::Text(t)) => t.trim().parse().ok(),
    })
}

fn parse_token_reply(
    service: &Service,
    reply: &Reply,
    now: DateTime<Utc>,
) -> Result<Tokens, GrantError> {
    let endpoint = format!("{} token endpoint", service.name);
    if reply.status.is_success() {
        let body = match serde_json::from_slice::<TokenBody>(&reply.body) {
            Ok(body) => body,
            Err(_) => {
                // described, not quoted: a body that is not the expected JSON may still
                // hold a token (form-encoded, or JSON with a field of another type)
                return Err(GrantError::Failed(Error::try_later(format!(
                    "the {endpoint} answered {} with something other than a JSON token response ({}); nothing was changed, the next run will try again",
                    reply.status.as_u16(),
                    reply.shape()
                ))));
            }
        };
        let Some(access_token) = body.access_token.clone() else {
            // the body is not quoted: it may hold a token after all
            return Err(GrantError::Failed(Error::try_later(format!(
                "the {endpoint} answered {} without an access token; nothing was changed, the next run will try again",
                reply.status.as_u16()
            ))));
        };
        let lifetime = body.expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS);
        return Ok(Tokens {
            access_token,
            refresh_token: body.refresh_token.filter(|t| !t.is_empty()),
            expires_at: now + TimeDelta::seconds(lifetime.min(MAX_TOKEN_LIFETIME_SECS) as i64),
            scopes: body
                .scope
                .map(|s| s.split_whitespace().map(str::to_string).collect()),
        });
    }
    if reply.status.is_client_error()
        && let Some((error, description)) = oauth_error(&reply.body)
    {
        return Err(GrantError::Rejected(Rejection {
            status: reply.status,
            error,
            description,
        }));
    }
    let status = reply.status.as_u16();
    Err(GrantError::Failed(
        if reply.status.is_server_error() || reply.status == StatusCode::TOO_MANY_REQUESTS {
            Error::try_later(format!(
                "the {endpoint} answered {status} ({}); nothing was changed, the next run will try again",
                reply.snippet()
            ))
        } else {
            Error::other(format!(
                "the {endpoint} answered {status} ({}); check token_url in the config",
                reply.snippet()
            ))
        },
    ))
}

// ---------------------------------------------------------------------------------
// The refresh protocol

/// What a caller needs from the stored authorization.
#[derive(Clone, Copy)]
enum Need<'a> {
    /// An access token valid beyond [`REFRESH_MARGIN`].
    Valid,
    /// A valid access token other than this one, which the API has just rejected.
    Replacing(&'a Secret),
    /// A newly refreshed token, whatever the stored one's expiry.
    Fresh,
}

impl Need<'_> {
    fn met_by(self, stored: &OAuthCredentials, now: DateTime<Utc>) -> bool {
        let valid = stored.expires_at > now + REFRESH_MARGIN;
        match self {
            Need::Valid => valid,
            Need::Replacing(rejected) => valid && stored.access_token != *rejected,
            Need::Fresh => false,
        }
    }
}

/// A provider's stored authorization, refreshed when needed, safely across processes.
///
/// Every refresh happens under the credentials lock after re-reading the file, proves
/// the directory writable before it spends the refresh token, and persists the new
/// tokens before anyone uses them. Nothing here ever deletes credentials.
pub struct Session {
    service: Service,
    store: CredentialStore,
    http: reqwest::Client,
    http_config: HttpConfig,
    /// Serializes refreshes within this process: the first task whose token is
    /// rejected refreshes, the others then find the new token already stored.
    serial: tokio::sync::Mutex<()>,
}

impl Session {
    pub fn new(
        service: Service,
        store: CredentialStore,
        http: reqwest::Client,
        http_config: HttpConfig,
    ) -> Self {
        Session {
            service,
            store,
            http,
            http_config,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// The stored authorization with an access token valid beyond [`REFRESH_MARGIN`],
    /// refreshed first when it is not.
    pub async fn current(&self) -> Result<OAuthCredentials> {
        self.obtain(Need::Valid).await
    }

    /// After the API rejected `rejected` (401): a token another task or process has
    /// stored since, or else a refreshed one.
    pub async fn replace_rejected(&self, rejected: &Secret) -> Result<OAuthCredentials> {
        self.obtain(Need::Replacing(rejected)).await
    }

    /// Refreshes now, whatever the stored token's expiry.
    pub async fn refresh_now(&self) -> Result<OAuthCredentials> {
        self.obtain(Need::Fresh).await
    }

    /// Sends with `token` and, when the API rejects it (401), once more with its
    /// replacement (shared with every concurrent request that saw the same token
    /// rejected). The second answer is returned as it is: a second 401 means the
    /// authorization itself is refused, which the caller words for its API.
    pub async fn send_authorized(
        &self,
        token: &Secret,
        send: impl AsyncFn(&Secret) -> Result<Reply>,
    ) -> Result<Reply> {
        let first = send(token).await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        log::info!(
            "{} rejected the access token; refreshing it once",
            self.service.name
        );
        let fresh = self.replace_rejected(token).await?;
        send(&fresh.access_token).await
    }

    async fn obtain(&self, need: Need<'_>) -> Result<OAuthCredentials> {
        let _in_process = self.serial.lock().await;
        let locked = self.store.lock()?;
        let mut creds = locked.read()?;
        let stored = (self.service.slot)(&mut creds)
            .clone()
            .ok_or_else(|| self.service.not_authorized(&self.store))?;
        if need.met_by(&stored, Utc::now()) {
            return Ok(stored);
        }
        self.store.ensure_writable()?;
        let (mut creds, base, tokens) = match self.refresh(&stored).await {
            Ok(tokens) => (creds, stored, tokens),
            Err(GrantError::Rejected(rejection)) if rejection.is_dead_grant() => {
                // a process that ignores the lock may have rotated the token meanwhile:
                // only the newest stored token decides whether the chain is dead
                let mut newest = locked.read()?;
                match (self.service.slot)(&mut newest).clone() {
                    Some(newer) if newer.refresh_token != stored.refresh_token => {
                        if need.met_by(&newer, Utc::now()) {
                            return Ok(newer);
                        }
                        let tokens = self
                            .refresh(&newer)
                            .await
                            .map_err(|err| self.grant_error(err, &newer))?;
                        (newest, newer, tokens)
                    }
                    _ => return Err(self.grant_error(GrantError::Rejected(rejection), &stored)),
                }
            }
            Err(err) => return Err(self.grant_error(err, &stored)),
        };
        let updated = tokens.refreshed(&base);
        *(self.service.slot)(&mut creds) = Some(updated.clone());
        locked.write(&creds)?;
        log::info!(
            "{} access token refreshed; valid until {}",
            self.service.name,
            updated.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Ok(updated)
    }

    async fn refresh(&self, stored: &OAuthCredentials) -> Result<Tokens, GrantError> {
        TokenClient {
            service: &self.service,
            http: &self.http,
            http_config: &self.http_config,
            client_id: &stored.client_id,
            client_secret: &stored.client_secret,
        }
        .refresh(&stored.refresh_token)
        .await
    }

    fn grant_error(&self, err: GrantError, stored: &OAuthCredentials) -> Error {
        let hint = (self.service.invalid_grant_hint)(stored, Utc::now());
        err.into_error(&self.service, hint)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn service() -> Service {
        Service {
            name: "Example",
            auth_command: "fitbit-notifier auth example",
            token_url: Url::parse("http://127.0.0.1:9/token").unwrap(),
            client_auth: ClientAuth::InBody,
            slot: |c| &mut c.google,
            invalid_grant_hint: |_, _| None,
            shutdown: None,
        }
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn the_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636 appendix B
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert_eq!(pkce.verifier().expose().len(), 43);
        assert_eq!(pkce.challenge(), s256(pkce.verifier().expose()));
        assert_ne!(Pkce::generate().verifier(), pkce.verifier());
        assert_ne!(random_state(), random_state());
    }

    #[test]
    fn the_authorize_url_carries_pkce_state_scopes_and_extras() {
        let pkce = Pkce::generate();
        let auth_url = Url::parse("https://auth.example/authorize").unwrap();
        let url = AuthorizeRequest {
            auth_url: &auth_url,
            client_id: "cid",
            redirect_uri: "http://127.0.0.1:5000/",
            scopes: &["a.readonly", "b.readonly"],
            state: "st",
            pkce: &pkce,
            extra: &[("access_type", "offline")],
        }
        .url();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("scope"), "a.readonly b.readonly");
        assert_eq!(get("redirect_uri"), "http://127.0.0.1:5000/");
        assert_eq!(get("code_challenge"), pkce.challenge());
        assert_eq!(get("code_challenge_method"), "S256");
        assert_eq!(get("state"), "st");
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("access_type"), "offline");
    }

    #[test]
    fn a_pasted_url_query_or_bare_code_gives_the_code() {
        let s = service();
        let url = "http://127.0.0.1:4711/?state=st&code=4/0Ab-c_d&scope=x%20y";
        assert_eq!(
            code_from_pasted(&s, url, "st").unwrap().expose(),
            "4/0Ab-c_d"
        );
        assert_eq!(
            code_from_pasted(&s, "  state=st&code=abc \n", "st")
                .unwrap()
                .expose(),
            "abc"
        );
        assert_eq!(
            code_from_pasted(&s, "4%2F0Abc", "st").unwrap().expose(),
            "4/0Abc"
        );
        assert_eq!(
            code_from_pasted(&s, "?code=abc", "st").unwrap().expose(),
            "abc"
        );
    }

    #[test]
    fn a_pasted_url_with_another_state_or_an_error_is_refused() {
        let s = service();
        let err =
            code_from_pasted(&s, "http://127.0.0.1:1/?code=abc&state=other", "st").unwrap_err();
        assert!(err.to_string().contains("state does not match"), "{err}");
        let err = code_from_pasted(&s, "http://127.0.0.1:1/?error=access_denied&state=st", "st")
            .unwrap_err();
        assert!(err.to_string().contains("access_denied"), "{err}");
        assert!(code_from_pasted(&s, "", "st").is_err());
    }

    #[test]
    fn a_browser_redirect_must_carry_the_state() {
        let s = service();
        assert!(code_from_redirect(&s, "code=abc", Some("st"), true).is_err());
        assert!(code_from_redirect(&s, "code=abc&state=st", Some("st"), true).is_ok());
    }

    #[test]
    fn only_the_callback_path_is_the_callback() {
        assert_eq!(
            callback_query("/?code=a&state=b", "/").as_deref(),
            Some("code=a&state=b")
        );
        assert_eq!(callback_query("/", "/").as_deref(), Some(""));
        assert_eq!(callback_query("/favicon.ico", "/"), None);
        assert_eq!(
            callback_query("/callback?code=a", "/callback").as_deref(),
            Some("code=a")
        );
        assert_eq!(callback_query("/?code=a", "/callback"), None);
    }

    #[test]
    fn token_responses_are_parsed_with_optional_fields() {
        let now = Utc::now();
        let tokens = parse_token_reply(
            &service(),
            &reply(
                200,
                r#"{"access_token":"at","expires_in":3599,"refresh_token":"rt","scope":"a b","token_type":"Bearer"}"#,
            ),
            now,
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "at");
        assert_eq!(tokens.refresh_token.unwrap().expose(), "rt");
        assert_eq!(tokens.expires_at, now + TimeDelta::seconds(3599));
        assert_eq!(tokens.scopes.unwrap(), ["a", "b"]);

        let tokens = parse_token_reply(
            &service(),
            &reply(200, r#"{"access_token":"at","expires_in":"60"}"#),
            now,
        )
        .unwrap();
        assert!(tokens.refresh_token.is_none() && tokens.scopes.is_none());
        assert_eq!(tokens.expires_at, now + TimeDelta::seconds(60));
    }

    #[test]
    fn token_endpoint_failures_are_classified() {
        let now = Utc::now();
        let rejected = parse_token_reply(
            &service(),
            &reply(
                400,
                r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            ),
            now,
        );
        let Err(GrantError::Rejected(rejection)) = rejected else {
            panic!("expected a rejection")
        };
        assert!(rejection.is_dead_grant());
        let err = GrantError::Rejected(rejection).into_error(&service(), Some("Hint.".into()));
        assert_eq!(err.kind(), crate::error::Kind::Reauth);
        assert!(err.to_string().contains("auth example") && err.to_string().ends_with("Hint."));

        for (status, body, kind) in [
            (503, "<html>down</html>", crate::error::Kind::TryLater),
            (200, "<html>oops</html>", crate::error::Kind::TryLater),
            (
                200,
                r#"{"token_type":"Bearer"}"#,
                crate::error::Kind::TryLater,
            ),
            (404, "<html>no</html>", crate::error::Kind::Other),
        ] {
            match parse_token_reply(&service(), &reply(status, body), now) {
                Err(GrantError::Failed(err)) => {
                    assert_eq!(err.kind(), kind, "{status} {body}");
                    assert!(!err.to_string().contains('\n'));
                }
                other => panic!("{status} {body}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_listed_error_body_is_a_rejection_without_the_quoted_token() {
        let token = "8a3b9f0c2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";
        let body = format!(
            r#"{{"errors":[{{"errorType":"invalid_grant","message":"Refresh token invalid: {token}. Visit https://dev.example/docs/oauth2 for more information."}}],"success":false}}"#
        );
        let Err(GrantError::Rejected(rejection)) =
            parse_token_reply(&service(), &reply(400, &body), Utc::now())
        else {
            panic!("expected a rejection")
        };
        assert!(rejection.is_dead_grant());
        let err = GrantError::Rejected(rejection).into_error(&service(), None);
        assert_eq!(err.kind(), crate::error::Kind::Reauth);
        let text = err.to_string();
        assert!(!text.contains(token), "{text}");
        assert!(
            text.contains(
                "Refresh token invalid: [redacted] Visit https://dev.example/docs/oauth2"
            ),
            "{text}"
        );

        let Err(GrantError::Rejected(rejection)) = parse_token_reply(
            &service(),
            &reply(
                401,
                r#"{"errors":[{"errorType":"invalid_token"}],"success":false}"#,
            ),
            Utc::now(),
        ) else {
            panic!("expected a rejection")
        };
        assert!(rejection.is_dead_grant());
    }

    #[test]
    fn only_long_words_of_token_characters_with_a_digit_are_redacted() {
        assert_eq!(
            redact_tokens(
                "Access token expired: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMiJ9.abc_-12 Visit https://dev.fitbit.com/docs/oauth2"
            ),
            "Access token expired: [redacted] Visit https://dev.fitbit.com/docs/oauth2"
        );
        assert_eq!(
            redact_tokens("internationalization is not a token"),
            "internationalization is not a token"
        );
    }

    #[test]
    fn a_shutdown_is_a_410_at_any_time_and_any_failure_after_it() {
        let since: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().unwrap();
        let shutdown = Shutdown {
            since,
            notice: "switch providers".into(),
        };
        let before = since - TimeDelta::days(1);
        let after = since + TimeDelta::days(1);
        let check = |outcome: std::result::Result<Reply, http::SendError>, now| {
            shutdown.check("token endpoint", &outcome, now)
        };
        let gone = check(Ok(reply(410, "")), before).unwrap();
        assert_eq!(gone.kind(), crate::error::Kind::Reauth);
        assert_eq!(
            gone.to_string(),
            "the token endpoint answered 410 Gone: switch providers"
        );
        assert!(check(Ok(reply(404, "")), before).is_none());
        assert!(check(Err(http::SendError::NoAnswer), before).is_none());
        assert!(check(Ok(reply(200, "{}")), after).is_none());
        assert!(
            check(Ok(reply(401, "")), after)
                .unwrap()
                .to_string()
                .contains("answered 401 Unauthorized: switch providers")
        );
        assert!(
            check(Err(http::SendError::NotSent("dns".into())), after)
                .unwrap()
                .to_string()
                .contains("failed (could not connect: dns)")
        );
    }

    #[test]
    fn a_token_answer_of_another_shape_is_not_quoted() {
        for body in [
            "access_token=ya29.leak&refresh_token=1//leak&expires_in=3599",
            r#"{"access_token":"ya29.leak","refresh_token":"1//leak","scope":42}"#,
        ] {
            match parse_token_reply(&service(), &reply(200, body), Utc::now()) {
                Err(GrantError::Failed(err)) => {
                    assert_eq!(err.kind(), crate::error::Kind::TryLater);
                    assert!(!err.to_string().contains("leak"), "{err}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn granted_tokens_do_not_show_in_debug_output() {
        let tokens = Tokens {
            access_token: Secret::new("ya29.hidden"),
            refresh_token: Some(Secret::new("1//hidden")),
            expires_at: Utc::now(),
            scopes: None,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("hidden"), "{shown}");
    }

    #[test]
    fn a_refresh_keeps_the_refresh_token_unless_a_new_one_comes() {
        let previous = OAuthCredentials {
            client_id: "cid".into(),
            client_secret: Secret::new("cs"),
            access_token: Secret::new("old-at"),
            refresh_token: Secret::new("old-rt"),
            expires_at: Utc::now(),
            authorized_at: Utc::now() - TimeDelta::days(3),
            scopes: vec!["a".into()],
        };
        let kept = Tokens {
            access_token: Secret::new("new-at"),
            refresh_token: None,
            expires_at: Utc::now() + TimeDelta::hours(1),
            scopes: None,
        }
        .refreshed(&previous);
        assert_eq!(kept.refresh_token.expose(), "old-rt");
        assert_eq!(kept.access_token.expose(), "new-at");
        assert_eq!(kept.scopes, ["a"]);
        assert_eq!(kept.authorized_at, previous.authorized_at);
        let rotated = Tokens {
            access_token: Secret::new("new-at"),
            refresh_token: Some(Secret::new("new-rt")),
            expires_at: Utc::now() + TimeDelta::hours(1),
            scopes: Some(vec!["b".into()]),
        }
        .refreshed(&previous);
        assert_eq!(rotated.refresh_token.expose(), "new-rt");
        assert_eq!(rotated.scopes, ["b"]);
    }
}

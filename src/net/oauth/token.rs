//! The token endpoint: the code and refresh grants, what a token answer holds, and what
//! each refusal means (RFC 6749 §5.2 bodies and providers' listed-error bodies), never
//! quoting a token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use super::{ClientAuth, Service};
use crate::config::HttpConfig;
use crate::error::{Error, Result};
use crate::net::http::{self, Repeat, Reply, Retry};
use crate::secret::Secret;

/// Assumed lifetime when a token response does not say (`expires_in` is only RECOMMENDED).
const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;
/// A ceiling on `expires_in`, so that a nonsense value cannot overflow the date arithmetic.
const MAX_TOKEN_LIFETIME_SECS: u64 = 366 * 24 * 3600;
use crate::store::credentials::OAuthCredentials;

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
    pub(super) fn refreshed(self, previous: &OAuthCredentials) -> OAuthCredentials {
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
        // a code is single-use: a repeat could only be refused
        self.grant(
            &[
                ("grant_type", "authorization_code"),
                ("code", code.expose()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.expose()),
            ],
            Repeat::Never,
        )
        .await
    }

    /// The `refresh_token` grant.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens, GrantError> {
        let repeat = if self.service.refresh_repeatable {
            Repeat::Always
        } else {
            Repeat::Never
        };
        self.grant(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
            ],
            repeat,
        )
        .await
    }

    async fn grant(&self, fields: &[(&str, &str)], repeat: Repeat) -> Result<Tokens, GrantError> {
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
        // a grant that may have landed is not sent twice unless a repeat spends nothing:
        // a provider that rotates refresh tokens would have invalidated the one we would
        // send again
        let retry = Retry {
            repeat,
            ..Retry::idempotent(self.http_config)
        };
        let outcome = http::send(make, retry).await;
        let endpoint = format!("{} token endpoint", self.service.name);
        if let Some(gone) = self
            .service
            .shutdown
            .as_ref()
            .and_then(|shutdown| shutdown.check(&endpoint, &outcome, Utc::now()))
        {
            return Err(GrantError::Failed(gone));
        }
        let reply = outcome.map_err(|err| {
            GrantError::Failed(match err.may_have_landed().filter(|_| repeat == Repeat::Never) {
                // the endpoint may have rotated the token: the stored pair is kept, and
                // the next run's refresh either works or is refused as invalid_grant
                Some(detail) => Error::try_later(format!(
                    "the {endpoint} gave no clear answer ({detail}); the code or refresh token it spends works only once, so \
                     the request is not sent twice: the stored credentials are kept, nothing was \
                     changed, and the next run will try again"
                )),
                None => err.into_error(&endpoint),
            })
        })?;
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

#[cfg(test)]
mod tests {
    use crate::net::oauth::tests::service;

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
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

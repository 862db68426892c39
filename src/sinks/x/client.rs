//! Posting to X: `POST /2/tweets` signed with OAuth 1.0a user context (reqwest-oauth1),
//! the PIN flow that mints an access token, and what each of X's answers means for the
//! user.
//!
//! X has no idempotency key, so a post whose request may have reached X without an answer
//! is never sent again by a retry: the user is told it may have been published. A repeat of
//! the same text is refused by X as a duplicate, which callers may treat as done.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Local, TimeDelta, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use reqwest_oauth1::{DefaultSM, OAuthClientProvider, OAuthParameters, Secrets};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{Config, HttpConfig};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry, SendError};
use crate::secret::Secret;
use crate::sinks::post_length;
use crate::store::credentials::XCredentials;

const SERVICE: &str = "X";

const UNAUTHORIZED_POST: &str = "X refused the keys (401 Unauthorized): the API key and secret or the access token and \
     secret are wrong or were regenerated, or this computer's clock is off; run `fitbit-notifier auth x` with the current values";
const UNAUTHORIZED_APP: &str = "X refused the API key and secret (401 Unauthorized): they are wrong or were regenerated; \
     copy the current ones from the app's Keys and tokens page and run `fitbit-notifier auth x --pin` again";
const UNAUTHORIZED_PIN: &str = "X refused the PIN (401 Unauthorized): a PIN works once and only for a few minutes; \
     run `fitbit-notifier auth x --pin` again";

/// The rate-limit windows X reports, each as `<window>-remaining` and `<window>-reset`
/// (Unix seconds): the documented one and the 24-hour user and app quotas.
const LIMIT_WINDOWS: [&str; 3] = ["x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"];

/// A reset further away than this is not a time X means (the longest window is a day).
const MAX_PLAUSIBLE_RESET: TimeDelta = TimeDelta::days(31);

/// The id X gave a new post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostId(String);

impl PostId {
    /// Where the post can be opened; X redirects it to the author's handle.
    pub fn url(&self) -> String {
        format!("https://x.com/i/web/status/{}", self.0)
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What became of a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    New(PostId),
    /// X refused the text as a duplicate of a post already on the account: for a dated
    /// daily summary, an earlier run has posted it.
    AlreadyPosted,
}

/// The app's consumer key and secret ("API Key and Secret" in the developer console).
#[derive(Debug, Clone)]
pub struct AppKeys {
    pub api_key: Secret,
    pub api_secret: Secret,
}

/// The temporary token of the PIN flow, good only until it is exchanged.
#[derive(Debug)]
pub struct RequestToken {
    token: String,
    secret: Secret,
}

/// The token the PIN flow mints for the account that entered the PIN.
#[derive(Debug)]
pub struct UserToken {
    pub access_token: Secret,
    pub access_token_secret: Secret,
    pub screen_name: Option<String>,
}

/// X, reached through the one HTTP client at the configured `[x] api_base`.
pub struct Client<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
}

impl<'a> Client<'a> {
    pub fn new(http: &'a reqwest::Client, config: &'a Config) -> Self {
        Client { http, config }
    }

    /// Posts `text` after checking its length, which X would otherwise refuse after billing
    /// nothing but a round trip. Never sends it twice when the first attempt may have landed.
    pub async fn post(&self, creds: &XCredentials, text: &str) -> Result<Posted> {
        let length = post_length::check(text)?;
        let url = self.endpoint("2/tweets")?;
        log::info!("posting {length} weighted characters to {url}");
        let reply = http::send(
            || post_request(self.http, user_secrets(creds), fresh_params(), &url, text),
            self.retry(Retry::once_only),
        )
        .await
        .map_err(|err| self.unanswered_post(err))?;
        log::debug!("X answered {}", reply.status);
        post_outcome(&reply)
    }

    /// Step 1 of the PIN flow: a request token for the out-of-band (PIN) callback.
    pub async fn request_token(&self, app: &AppKeys) -> Result<RequestToken> {
        let url = self.endpoint("oauth/request_token")?;
        log::info!("asking {url} for a request token");
        let reply = http::send(
            || request_token_request(self.http, app_secrets(app), fresh_params(), &url),
            self.retry(Retry::idempotent),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        let mut fields = token_fields(&reply, UNAUTHORIZED_APP)?;
        if fields.get("oauth_callback_confirmed").map(String::as_str) != Some("true") {
            return Err(Error::other(
                "X did not confirm the PIN callback (oauth_callback_confirmed) of oauth/request_token; \
                 check that the app has a callback URL set in the developer console, then run `fitbit-notifier auth x --pin` again",
            ));
        }
        let (token, secret) = token_pair(&mut fields, "oauth/request_token")?;
        Ok(RequestToken { token, secret })
    }

    /// Step 2: the page where the user authorizes the app and is shown the PIN.
    pub fn authorize_url(&self, request: &RequestToken) -> Result<Url> {
        let mut url = self.endpoint("oauth/authorize")?;
        url.query_pairs_mut()
            .append_pair("oauth_token", &request.token);
        Ok(url)
    }

    /// Step 3: the PIN exchanged for the user's access token. Sent once only: a PIN is
    /// single-use, so a retry after a lost answer could only fail.
    pub async fn access_token(
        &self,
        app: &AppKeys,
        request: &RequestToken,
        pin: &str,
    ) -> Result<UserToken> {
        let url = self.endpoint("oauth/access_token")?;
        log::info!("exchanging the PIN at {url}");
        let secrets = || app_secrets(app).token(request.token.as_str(), request.secret.expose());
        let reply = http::send(
            || access_token_request(self.http, secrets(), fresh_params(), &url, pin),
            self.retry(Retry::once_only),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        let mut fields = token_fields(&reply, UNAUTHORIZED_PIN)?;
        let (token, secret) = token_pair(&mut fields, "oauth/access_token")?;
        Ok(UserToken {
            access_token: Secret::new(token),
            access_token_secret: secret,
            screen_name: fields.remove("screen_name"),
        })
    }

    fn endpoint(&self, path: &str) -> Result<Url> {
        http::endpoint(&self.config.x.api_base, path, "[x] api_base")
    }

    fn retry(&self, kind: fn(&HttpConfig) -> Retry) -> Retry {
        Retry {
            rate_limit_wait,
            ..kind(&self.config.http)
        }
    }

    fn unanswered_post(&self, err: SendError) -> Error {
        let what_to_do = "so it may have been published: look at the account before posting again \
                          (X refuses the same text twice, so a repeat cannot make a second post)";
        match err.may_have_landed() {
            Some(detail) => Error::try_later(format!(
                "X did not answer after the post was sent ({detail}), {what_to_do}"
            )),
            None => err.into_error(SERVICE),
        }
    }
}

type Params<'a> = OAuthParameters<'a, DefaultSM>;
type SignedRequest<'a> =
    reqwest_oauth1::RequestBuilder<reqwest_oauth1::Signer<'a, Secrets<'a>, DefaultSM>>;

/// The OAuth parameters of one request. The library draws a fresh nonce and timestamp for
/// each (every attempt of a retry is a new request); `oauth_version=1.0` is sent because
/// X's documentation says it "should always be 1.0".
fn fresh_params<'a>() -> Params<'a> {
    OAuthParameters::new().version(true)
}

fn app_secrets(app: &AppKeys) -> Secrets<'_> {
    Secrets::new(app.api_key.expose(), app.api_secret.expose())
}

fn user_secrets(creds: &XCredentials) -> Secrets<'_> {
    Secrets::new(creds.api_key.expose(), creds.api_secret.expose()).token(
        creds.access_token.expose(),
        creds.access_token_secret.expose(),
    )
}

/// A request to be signed with `secrets`. The signature covers the method and exactly
/// this URL (scheme, host, port and path), which is therefore the URL that is sent.
fn signed<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    method: Method,
    url: &Url,
) -> SignedRequest<'a> {
    client
        .clone()
        .oauth1_with_params(secrets, params)
        .request(method, url.clone())
}

/// Adds the Authorization header. reqwest-oauth1 can only fail here on `oauth_*`
/// parameters passed through the URL query or a form body, which this module never does.
fn authorize(request: SignedRequest<'_>) -> reqwest::RequestBuilder {
    request
        .generate_signature()
        .expect("OAuth parameters are set only through OAuthParameters")
}

#[derive(Serialize)]
struct CreatePost<'a> {
    text: &'a str,
}

/// `POST /2/tweets`. The JSON body is not part of the signature: OAuth 1.0a signs form
/// bodies only, and X answers 401 when JSON fields are signed.
fn post_request<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    text: &str,
) -> reqwest::RequestBuilder {
    authorize(signed(client, secrets, params, Method::POST, url).json(&CreatePost { text }))
}

fn request_token_request<'a>(
    client: &reqwest::Client,
    app: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
) -> reqwest::RequestBuilder {
    authorize(signed(
        client,
        app,
        params.callback("oob"),
        Method::POST,
        url,
    ))
}

fn access_token_request<'a>(
    client: &reqwest::Client,
    with_request_token: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    pin: &'a str,
) -> reqwest::RequestBuilder {
    authorize(signed(
        client,
        with_request_token,
        params.verifier(pin),
        Method::POST,
        url,
    ))
}

/// The id in a successful answer, or the "already posted" outcome, or what to do.
fn post_outcome(reply: &Reply) -> Result<Posted> {
    if reply.status.is_success() {
        return created_post_id(reply).map(Posted::New);
    }
    let problem = Problem::parse(&reply.body);
    if reply.status == StatusCode::FORBIDDEN && problem.is_duplicate() {
        return Ok(Posted::AlreadyPosted);
    }
    Err(failure(reply, &problem, UNAUTHORIZED_POST))
}

fn created_post_id(reply: &Reply) -> Result<PostId> {
    #[derive(Deserialize)]
    struct Created {
        data: CreatedData,
    }
    #[derive(Deserialize)]
    struct CreatedData {
        id: String,
    }
    serde_json::from_slice::<Created>(&reply.body)
        .map(|created| PostId(created.data.id))
        .map_err(|_| {
            Error::other(format!(
                "X accepted the post ({}) but its answer has no post id ({}); it is probably published: look at the account",
                reply.status,
                reply.snippet()
            ))
        })
}

/// The form-encoded fields of a successful token answer.
fn token_fields(reply: &Reply, unauthorized: &str) -> Result<HashMap<String, String>> {
    if !reply.status.is_success() {
        return Err(failure(reply, &Problem::parse(&reply.body), unauthorized));
    }
    Ok(url::form_urlencoded::parse(&reply.body)
        .into_owned()
        .collect())
}

fn token_pair(fields: &mut HashMap<String, String>, endpoint: &str) -> Result<(String, Secret)> {
    match (
        fields.remove("oauth_token"),
        fields.remove("oauth_token_secret"),
    ) {
        (Some(token), Some(secret)) if !token.is_empty() && !secret.is_empty() => {
            Ok((token, Secret::new(secret)))
        }
        // the answer itself is not shown: it may hold half a token
        _ => Err(Error::other(format!(
            "X's answer to {endpoint} has no oauth_token and oauth_token_secret; try again later"
        ))),
    }
}

/// What an error answer means for the user, with what to do.
fn failure(reply: &Reply, problem: &Problem, unauthorized: &str) -> Error {
    let status = reply.status;
    let detail = problem.summary().unwrap_or_else(|| reply.snippet());
    match status.as_u16() {
        401 => Error::reauth(unauthorized),
        402 => Error::other(
            "X refused: the account is out of API credits (402 credits depleted); add credits in the \
             X developer console (console.x.com, Billing) and run again",
        ),
        403 if problem.has_type("oauth1-permissions") => Error::reauth(
            "X refused: the access token was made while the app had Read-only permission (403 oauth1-permissions); \
             in the X developer console set the app's permissions to Read and write, regenerate the access token \
             and secret, then run `fitbit-notifier auth x`",
        ),
        403 if problem.has_type("client-forbidden") => Error::reauth(format!(
            "X refused these keys (403 client-forbidden: {detail}); use the keys of an app created in the X \
             developer console (console.x.com) and run `fitbit-notifier auth x`"
        )),
        403 => Error::other(format!(
            "X refused the request (403 Forbidden: {detail}); this app or account is not allowed to do it"
        )),
        429 => rate_limited(&reply.headers),
        400 => Error::other(format!(
            "X rejected the request as invalid (400: {detail}); this is likely a bug, please report it"
        )),
        _ => http::status_error(SERVICE, reply, &detail),
    }
}

fn rate_limited(headers: &HeaderMap) -> Error {
    match rate_limit_reset(headers) {
        Some(reset) => Error::try_later(format!(
            "X's rate limit is reached (429); it resets at {} (in {}): try again after that",
            reset.with_timezone(&Local).format("%Y-%m-%d %H:%M %:z"),
            in_words(reset - Utc::now())
        )),
        None => Error::try_later(
            "X's rate limit is reached (429) and X did not say until when; try again later",
        ),
    }
}

/// When X's limit resets: the latest reset of the windows it reports as exhausted, or of
/// all it reports when none says so (waiting too long beats being refused again).
fn rate_limit_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let windows: Vec<(u64, Option<u64>)> = LIMIT_WINDOWS
        .iter()
        .filter_map(|window| {
            let reset = http::header_u64(headers, &format!("{window}-reset"))?;
            Some((
                reset,
                http::header_u64(headers, &format!("{window}-remaining")),
            ))
        })
        .collect();
    let exhausted = windows
        .iter()
        .filter(|(_, remaining)| *remaining == Some(0))
        .map(|(reset, _)| *reset)
        .max();
    let reset = exhausted.or_else(|| windows.iter().map(|(reset, _)| *reset).max())?;
    DateTime::from_timestamp(i64::try_from(reset).ok()?, 0)
        .filter(|reset| *reset - Utc::now() < MAX_PLAUSIBLE_RESET)
}

/// For [`http::send`]: how long until X's limit resets.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let reset = rate_limit_reset(headers)?;
    Some((reset - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

fn in_words(delta: TimeDelta) -> String {
    let minutes = (delta.num_seconds().max(0) + 59) / 60;
    match minutes {
        0..=1 => "a minute".to_string(),
        2..=59 => format!("{minutes} min"),
        _ => format!("{} h {} min", minutes / 60, minutes % 60),
    }
}

/// An error body: RFC 7807 style on v2 (`title`, `detail`, `type`), `errors[]` on v1.1.
/// Every field is optional: X's bodies vary, and some are not JSON at all.
#[derive(Debug, Default, Deserialize)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    errors: Vec<LegacyError>,
}

#[derive(Debug, Deserialize)]
struct LegacyError {
    message: Option<String>,
    code: Option<i64>,
}

impl Problem {
    fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// Matches the last path segment of `type`: X uses both api.x.com and api.twitter.com
    /// problem URLs.
    fn has_type(&self, name: &str) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|kind| kind.rsplit('/').next() == Some(name))
    }

    fn is_duplicate(&self) -> bool {
        let says_duplicate = self
            .detail
            .as_deref()
            .is_some_and(|detail| detail.to_lowercase().contains("duplicate"));
        // v1.1 code 187: "Status is a duplicate."
        says_duplicate || self.errors.iter().any(|error| error.code == Some(187))
    }

    fn summary(&self) -> Option<String> {
        self.detail
            .as_deref()
            .or_else(|| {
                self.errors
                    .iter()
                    .find_map(|error| error.message.as_deref())
            })
            .or(self.title.as_deref())
            .map(http::one_line)
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::error::Kind;

    // The credentials, nonce and timestamp of X's "Creating a signature" page.
    const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
    const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    const TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    const NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
    const TIMESTAMP: u64 = 1_318_622_958;

    fn fixed_params<'a>() -> Params<'a> {
        fresh_params().nonce(NONCE).timestamp(TIMESTAMP)
    }

    fn app<'a>() -> Secrets<'a> {
        Secrets::new(CONSUMER_KEY, CONSUMER_SECRET)
    }

    fn user<'a>() -> Secrets<'a> {
        app().token(TOKEN, TOKEN_SECRET)
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn authorization(request: reqwest::RequestBuilder) -> String {
        let request = request.build().unwrap();
        request.headers()["authorization"]
            .to_str()
            .unwrap()
            .to_string()
    }

    fn signature(request: reqwest::RequestBuilder) -> String {
        let header = authorization(request);
        let encoded = header
            .split(',')
            .find_map(|part| part.trim().strip_prefix("oauth_signature="))
            .unwrap()
            .trim_matches('"');
        percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap()
            .into_owned()
    }

    fn post(params: Params<'_>, endpoint: &str, text: &str) -> String {
        let client = reqwest::Client::new();
        signature(post_request(&client, user(), params, &url(endpoint), text))
    }

    #[test]
    fn the_official_vector_signs_as_documented() {
        let client = reqwest::Client::new();
        let endpoint = url("https://api.x.com/1.1/statuses/update.json");
        let request = signed(&client, user(), fixed_params(), Method::POST, &endpoint).form(&[
            ("include_entities", "true"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
        ]);
        assert_eq!(
            signature(authorize(request)),
            "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
        );
    }

    #[test]
    fn a_post_is_signed_without_its_json_body() {
        let endpoint = "https://api.x.com/2/tweets";
        assert_eq!(
            post(fixed_params(), endpoint, "Hello"),
            "lr+tV/DKclEvXKVjG6tgaSSLV0k="
        );
        assert_eq!(
            post(fixed_params(), endpoint, "歩数 8,532歩"),
            "lr+tV/DKclEvXKVjG6tgaSSLV0k="
        );
    }

    #[test]
    fn the_post_header_is_the_documented_one() {
        let client = reqwest::Client::new();
        let request = post_request(
            &client,
            user(),
            fixed_params(),
            &url("https://api.x.com/2/tweets"),
            "Hello",
        );
        assert_eq!(
            authorization(request),
            "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\",oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\",\
             oauth_signature_method=\"HMAC-SHA1\",oauth_timestamp=\"1318622958\",\
             oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\",oauth_version=\"1.0\",\
             oauth_signature=\"lr%2BtV%2FDKclEvXKVjG6tgaSSLV0k%3D\""
        );
    }

    #[test]
    fn the_version_and_the_host_are_signed() {
        assert_eq!(
            post(
                fixed_params().version(false),
                "https://api.x.com/2/tweets",
                "x"
            ),
            "reF2ZPx5diK0QwtAnP5Wwcg6yX8="
        );
        assert_eq!(
            post(fixed_params(), "https://api.twitter.com/2/tweets", "x"),
            "KW/bTR/89oblzvjn7CwP2L8j5qQ="
        );
    }

    #[test]
    fn the_pin_flow_requests_sign_as_derived() {
        let client = reqwest::Client::new();
        let request = request_token_request(
            &client,
            app(),
            fixed_params(),
            &url("https://api.x.com/oauth/request_token"),
        );
        assert_eq!(signature(request), "jc/VgbxSHtvlecdtQHT0gEuVfe0=");
        let request_token = app().token(
            "NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0",
            "veNRnAWe6inFuo8o2u8SLLZLjolYDmDP7SzL0YfYI",
        );
        let request = access_token_request(
            &client,
            request_token,
            fixed_params(),
            &url("https://api.x.com/oauth/access_token"),
            "4868795",
        );
        assert_eq!(signature(request), "zcT7O2IY4EbsAHgTfgacG6kZV4w=");
    }

    #[test]
    fn every_request_gets_a_fresh_nonce() {
        let client = reqwest::Client::new();
        let endpoint = url("https://api.x.com/2/tweets");
        let header = || {
            authorization(post_request(
                &client,
                user(),
                fresh_params(),
                &endpoint,
                "x",
            ))
        };
        let nonce = |header: String| {
            header
                .split(',')
                .find(|part| part.starts_with("oauth_nonce="))
                .unwrap()
                .to_string()
        };
        assert_ne!(nonce(header()), nonce(header()));
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    fn refusal(status: u16, body: &str) -> Error {
        post_outcome(&reply(status, body)).unwrap_err()
    }

    #[test]
    fn a_created_post_yields_its_id_and_url() {
        let created =
            r#"{ "data": { "id": "1445880548472328192", "text": "Hello from the X API!" } }"#;
        let Posted::New(id) = post_outcome(&reply(201, created)).unwrap() else {
            panic!("not a new post");
        };
        assert_eq!(id.to_string(), "1445880548472328192");
        assert_eq!(id.url(), "https://x.com/i/web/status/1445880548472328192");
        let err = refusal(201, "{}");
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("probably published"), "{err}");
    }

    #[test]
    fn duplicate_content_is_already_posted() {
        let v2 = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
        assert_eq!(
            post_outcome(&reply(403, v2)).unwrap(),
            Posted::AlreadyPosted
        );
        let v1 = r#"{"errors":[{"code":187,"message":"Status is a duplicate."}]}"#;
        assert_eq!(
            post_outcome(&reply(403, v1)).unwrap(),
            Posted::AlreadyPosted
        );
    }

    #[test]
    fn refused_keys_need_a_new_auth() {
        let err = refusal(
            401,
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("fitbit-notifier auth x"), "{err}");

        let err = refusal(
            403,
            r#"{"title":"Forbidden","status":403,"detail":"Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.","type":"https://api.twitter.com/2/problems/oauth1-permissions"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("Read and write"), "{err}");
        assert!(
            err.to_string().contains("regenerate the access token"),
            "{err}"
        );

        let err = refusal(
            403,
            r#"{"client_id":"27988566","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.","registration_url":"https://developer.twitter.com/en/docs/projects/overview","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("attached to a Project"), "{err}");
    }

    #[test]
    fn depleted_credits_need_a_top_up() {
        let err = refusal(
            402,
            r#"{"title":"Payment Required","detail":"credits depleted","type":"https://api.x.com/2/problems/credits-depleted"}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("add credits"), "{err}");
    }

    #[test]
    fn other_refusals_quote_x() {
        let err = refusal(
            403,
            r#"{"errors":[{"message":"You currently have access to a subset of Twitter API v2 endpoints and limited v1.1 endpoints (e.g. media post, oauth) only. If you need access to this endpoint, you may need a different access level. You can learn more here: https://developer.twitter.com/en/portal/product","code":453}]}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(
            err.to_string().contains("subset of Twitter API v2"),
            "{err}"
        );

        let err = refusal(
            400,
            r#"{"errors":[{"parameters":{},"message":"Requests with bodies must have content-type of application/json."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("One or more parameters"), "{err}");

        let err = refusal(503, "<html>Service Unavailable</html>");
        assert_eq!(err.kind(), Kind::TryLater);
        let err = refusal(418, "<html>teapot</html>");
        assert!(err.to_string().contains("teapot"), "{err}");
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_rate_limit_says_when_it_resets() {
        let reset = Utc::now().timestamp() + 3 * 3600;
        let mut limited = reply(
            429,
            r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
        );
        limited.headers = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]);
        let err = post_outcome(&limited).unwrap_err();
        assert_eq!(err.kind(), Kind::TryLater);
        let local = DateTime::from_timestamp(reset, 0)
            .unwrap()
            .with_timezone(&Local);
        assert!(
            err.to_string()
                .contains(&local.format("%Y-%m-%d %H:%M").to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("in 3 h 0 min"), "{err}");

        let err = refusal(429, "[429] Too Many Requests");
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(err.to_string().contains("did not say"), "{err}");
    }

    #[test]
    fn the_exhausted_window_decides_the_reset() {
        let now = Utc::now().timestamp();
        let soon = now + 30;
        let tomorrow = now + 20 * 3600;
        let both = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", soon.to_string()),
            ("x-user-limit-24hour-remaining", "12".into()),
            ("x-user-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&both).unwrap().timestamp(), soon);
        let wait = rate_limit_wait(&both).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );

        let daily = headers(&[
            ("x-rate-limit-remaining", "99".into()),
            ("x-rate-limit-reset", soon.to_string()),
            ("x-user-limit-24hour-remaining", "0".into()),
            ("x-user-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&daily).unwrap().timestamp(), tomorrow);

        let silent = headers(&[
            ("x-rate-limit-reset", soon.to_string()),
            ("x-app-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&silent).unwrap().timestamp(), tomorrow);
        assert_eq!(rate_limit_wait(&HeaderMap::new()), None);

        // the end of time is garbage, not a reset: shown in a zone east of UTC it
        // would not even be a representable date
        let garbage = headers(&[("x-rate-limit-reset", "8210266876799".into())]);
        assert_eq!(rate_limit_reset(&garbage), None);
    }

    #[test]
    fn keys_and_tokens_do_not_show_in_debug_output() {
        let shown = format!(
            "{:?} {:?} {:?}",
            AppKeys {
                api_key: Secret::new("hidden-key"),
                api_secret: Secret::new("hidden-secret"),
            },
            RequestToken {
                token: "request-token-is-public".into(),
                secret: Secret::new("hidden-request-secret"),
            },
            UserToken {
                access_token: Secret::new("hidden-token"),
                access_token_secret: Secret::new("hidden-token-secret"),
                screen_name: None,
            }
        );
        assert!(!shown.contains("hidden"), "{shown}");
    }

    #[test]
    fn a_post_without_an_answer_may_have_landed() {
        let config = Config::default();
        let http = reqwest::Client::new();
        let x = Client::new(&http, &config);
        for err in [
            SendError::NoAnswer,
            SendError::Broken("reset by peer".into()),
        ] {
            let err = x.unanswered_post(err);
            assert_eq!(err.kind(), Kind::TryLater);
            assert!(err.to_string().contains("may have been published"), "{err}");
        }
        let err = x.unanswered_post(SendError::NotSent("connection refused".into()));
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(
            !err.to_string().contains("may have been published"),
            "{err}"
        );
    }

    #[test]
    fn endpoints_hang_under_the_base_with_or_without_a_slash() {
        let http = reqwest::Client::new();
        let mut config = Config::default();
        let x = Client::new(&http, &config);
        assert_eq!(
            x.endpoint("2/tweets").unwrap().as_str(),
            "https://api.x.com/2/tweets"
        );
        config.x.api_base = url("http://127.0.0.1:8080/proxy");
        let x = Client::new(&http, &config);
        assert_eq!(
            x.endpoint("oauth/request_token").unwrap().as_str(),
            "http://127.0.0.1:8080/proxy/oauth/request_token"
        );
        let token = RequestToken {
            token: "abc def".into(),
            secret: Secret::new("s"),
        };
        assert_eq!(
            x.authorize_url(&token).unwrap().as_str(),
            "http://127.0.0.1:8080/proxy/oauth/authorize?oauth_token=abc+def"
        );
    }

    /// Arbitrary answers through the parsers of X's replies: mutations of X's real
    /// bodies, any JSON and any bytes, with arbitrary rate-limit headers.
    mod arbitrary_answers {
        use proptest::prelude::*;
        use reqwest::header::HeaderName;
        use serde_json::json;

        use super::*;
        use crate::arbitrary::body_like;

        fn limit_headers() -> impl Strategy<Value = HeaderMap> {
            let names: Vec<String> = LIMIT_WINDOWS
                .iter()
                .flat_map(|w| [format!("{w}-reset"), format!("{w}-remaining")])
                .chain(["retry-after".to_string()])
                .collect();
            let value = prop_oneof![
                any::<u64>().prop_map(|n| n.to_string()),
                (0u64..4_000_000_000).prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                "[ -~]{0,12}",
            ];
            prop::collection::vec((prop::sample::select(names), value), 0..6).prop_map(|pairs| {
                let mut headers = HeaderMap::new();
                for (name, value) in pairs {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
                    }
                }
                headers
            })
        }

        fn post_answer() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                body_like(json!({"data": {"id": "1445880548472328192", "text": "Hello"}})),
                body_like(
                    json!({"detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "https://api.x.com/2/problems/oauth1-permissions", "title": "Forbidden", "status": 403})
                ),
                body_like(json!({"errors": [{"code": 187, "message": "Status is a duplicate."}]})),
            ]
        }

        fn answer(status: u16, body: Vec<u8>, headers: HeaderMap) -> Reply {
            Reply {
                status: StatusCode::from_u16(status).unwrap(),
                headers,
                body,
            }
        }

        proptest! {
            #[test]
            fn any_answer_to_a_post_is_an_outcome_or_a_one_line_error(
                status in 100u16..600,
                body in post_answer(),
                headers in limit_headers(),
            ) {
                let reply = answer(status, body, headers);
                if let Err(err) = post_outcome(&reply) {
                    prop_assert!(!err.to_string().contains('\n'), "{err}");
                }
                let _ = rate_limit_wait(&reply.headers);
            }

            #[test]
            fn any_token_answer_is_a_pair_or_a_one_line_error(
                status in 100u16..600,
                body in prop_oneof![
                    "(oauth_token=[a-zA-Z0-9%-]{0,8}|oauth_token_secret=[a-zA-Z0-9%-]{0,8}|oauth_callback_confirmed=(true|x)|screen_name=[^&]{0,8}|&|=)*"
                        .prop_map(String::into_bytes),
                    body_like(json!({"errors": [{"code": 32, "message": "Could not authenticate you."}]})),
                ],
            ) {
                let reply = answer(status, body, HeaderMap::new());
                match token_fields(&reply, UNAUTHORIZED_PIN) {
                    Ok(mut fields) => {
                        if let Err(err) = token_pair(&mut fields, "oauth/access_token") {
                            prop_assert!(!err.to_string().contains('\n'), "{err}");
                        }
                    }
                    Err(err) => prop_assert!(!err.to_string().contains('\n'), "{err}"),
                }
            }
        }
    }
}

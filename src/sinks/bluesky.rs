//! Bluesky (AT Protocol): a session from the handle and an app password
//! (`com.atproto.server.createSession`) once per run, then one
//! `com.atproto.repo.createRecord` of an `app.bsky.feed.post` per message.
//!
//! An image goes first to `com.atproto.repo.uploadBlob` (the raw PNG), and the post embeds
//! the blob as `app.bsky.embed.images` with its alt text and aspect ratio; a blob no post
//! references is deleted by the server.
//!
//! Bluesky has no idempotency key, so a post whose answer was lost is never sent again
//! by a retry. Links are not made from the text by Bluesky: each one gets a link facet,
//! indexed in UTF-8 bytes.

use std::ops::Range;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

use super::{
    Image, Outcome, Outgoing, Service, SinkKind, has_protocol, refuses_the_image, unanswered,
    without_image,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;
use crate::sinks::post_length;

const TITLE: &str = "Bluesky";

/// A Bluesky account: a handle (or DID) and an app password, exchanged for a session
/// on every run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyCredentials {
    pub handle: String,
    pub app_password: Secret,
}

/// The record's `text`: at most this many grapheme clusters…
const MAX_GRAPHEMES: usize = 300;
/// …and at most this many UTF-8 bytes.
const MAX_BYTES: usize = 3000;

const POST_TYPE: &str = "app.bsky.feed.post";

/// The largest image we upload. The lexicon allows 2,000,000 bytes ("May be up to 2 MB,
/// formerly limited to 1 MB", bluesky-social/atproto lexicons/app/bsky/embed/images.json)
/// while Bluesky's docs still say 1,000,000: staying under both satisfies every server.
const MAX_IMAGE_BYTES: usize = 1_000_000;

fn measure(text: &str) -> Result<String, String> {
    let graphemes = text.graphemes(true).count();
    let bytes = text.len();
    if graphemes > MAX_GRAPHEMES {
        let over = graphemes - MAX_GRAPHEMES;
        return Err(format!(
            "the post is {graphemes} characters (grapheme clusters), {over} over Bluesky's limit of \
             {MAX_GRAPHEMES}: shorten it by {over}"
        ));
    }
    if bytes > MAX_BYTES {
        let over = bytes - MAX_BYTES;
        return Err(format!(
            "the post is {bytes} bytes in UTF-8, {over} over Bluesky's limit of {MAX_BYTES}: \
             shorten it by {over} bytes"
        ));
    }
    Ok(format!(
        "{graphemes} of {MAX_GRAPHEMES} characters, {bytes} of {MAX_BYTES} bytes"
    ))
}

/// A signed-in account: whose repository to write to, and the short-lived token.
#[derive(Debug)]
pub struct Session {
    pub did: String,
    pub handle: String,
    access_jwt: Secret,
}

/// Signs in with the handle and app password. Sessions are rate-limited (300 a day),
/// so a run makes at most one, and only when it has something to post.
pub async fn create_session(
    http: &reqwest::Client,
    config: &Config,
    credentials: &BlueskyCredentials,
) -> Result<Session> {
    #[derive(Serialize)]
    struct Request<'a> {
        identifier: &'a str,
        password: &'a str,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Created {
        access_jwt: Secret,
        did: String,
        handle: String,
    }
    let url = service_endpoint(config, "xrpc/com.atproto.server.createSession")?;
    log::info!("signing in to {url} as {}", credentials.handle);
    let body = Request {
        identifier: &credentials.handle,
        password: credentials.app_password.expose(),
    };
    let reply = http::send(
        || http.post(url.clone()).json(&body),
        retry(config, Retry::idempotent),
    )
    .await
    .map_err(|err| err.into_error(TITLE))?;
    if !reply.status.is_success() {
        return Err(session_failure(&reply));
    }
    // the answer is not quoted on failure: it would hold the tokens
    let created: Created = serde_json::from_slice(&reply.body).map_err(|_| {
        Error::other(format!(
            "{TITLE} signed in ({}) but its answer has no accessJwt and did; try again later",
            reply.status
        ))
    })?;
    Ok(Session {
        did: created.did,
        handle: created.handle,
        access_jwt: created.access_jwt,
    })
}

pub struct BlueskySink<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    credentials: BlueskyCredentials,
    session: OnceCell<Session>,
}

impl<'a> Service<'a> for BlueskySink<'a> {
    const NAME: &'static str = "bluesky";
    const TITLE: &'static str = TITLE;
    const SETUP: &'static str = "1. https://bsky.app/settings/app-passwords > Add App Password.\n\
                                 2. Leave \"Allow access to direct messages\" off; copy the password.";

    type Credentials = BlueskyCredentials;
    type Rule = ();

    fn new(http: &'a reqwest::Client, config: &'a Config, credentials: BlueskyCredentials) -> Self {
        BlueskySink {
            http,
            config,
            credentials,
            session: OnceCell::new(),
        }
    }

    fn measure((): &(), text: &str) -> Result<String, String> {
        measure(text)
    }

    /// Signing in checks the handle and the app password without posting.
    async fn verify(
        client: &reqwest::Client,
        config: &Config,
        stored: &BlueskyCredentials,
    ) -> Result<Option<String>> {
        let session = create_session(client, config, stored).await?;
        Ok(Some(format!("signed in as @{}", session.handle)))
    }

    fn describe(credentials: &BlueskyCredentials) -> String {
        format!("@{}", credentials.handle)
    }

    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let session = self
            .session
            .get_or_try_init(|| create_session(self.http, self.config, &self.credentials))
            .await?;
        // an upload whose post then fails is not a post: the next run uploads again, and
        // the server deletes the blob nothing references
        let embed = match post.image {
            Some(image) => self.upload(session, post, image).await?,
            None => None,
        };
        let url = service_endpoint(self.config, "xrpc/com.atproto.repo.createRecord")?;
        let mut record = record(post.text, Utc::now(), self.config.locale.name());
        record.embed = embed;
        let body = CreateRecord {
            repo: &session.did,
            collection: POST_TYPE,
            record,
        };
        log::info!("posting to {url}");
        let reply = http::send(
            || {
                self.http
                    .post(url.clone())
                    .bearer_auth(session.access_jwt.expose())
                    .json(&body)
            },
            retry(self.config, Retry::never_repeated),
        )
        .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => return unanswered(err, SinkKind::Bluesky),
        };
        log::debug!("{TITLE} answered {}", reply.status);
        created(&reply, &session.did)
    }
}

impl BlueskySink<'_> {
    /// The images embed for `image` once its blob is uploaded. `Ok(None)` when the image
    /// is too large or the server refuses it (said with a warning: the text goes alone); an
    /// error when the post would fail as well.
    async fn upload(
        &self,
        session: &Session,
        post: &Outgoing<'_>,
        image: &Image,
    ) -> Result<Option<ImagesEmbed>> {
        let size = image.bytes().len();
        if size > MAX_IMAGE_BYTES {
            without_image(
                TITLE,
                post,
                &format!("it is {size} bytes, Bluesky takes {MAX_IMAGE_BYTES}"),
            );
            return Ok(None);
        }
        let url = service_endpoint(self.config, "xrpc/com.atproto.repo.uploadBlob")?;
        log::info!("uploading {size} bytes of PNG to {url}");
        // a blob sent twice is the same blob (it is named by its hash)
        let reply = http::send(
            || {
                self.http
                    .post(url.clone())
                    .bearer_auth(session.access_jwt.expose())
                    .header(reqwest::header::CONTENT_TYPE, Image::MIME)
                    .body(image.bytes().to_vec())
            },
            retry(self.config, Retry::idempotent),
        )
        .await
        .map_err(|err| err.into_error(TITLE))?;
        log::debug!("{TITLE} answered {} to the upload", reply.status);
        Ok(uploaded(&reply, post)?.map(|blob| ImagesEmbed::of(blob, image)))
    }
}

/// The blob of a successful upload, kept as the server wrote it (the post must name it
/// exactly); `None` when the server refused the image.
fn uploaded(reply: &Reply, post: &Outgoing<'_>) -> Result<Option<serde_json::Value>> {
    #[derive(Deserialize)]
    struct Uploaded {
        blob: serde_json::Value,
    }
    if !reply.status.is_success() {
        if !refuses_the_image(reply.status) {
            return Err(post_failure(reply));
        }
        let detail = Problem::parse(reply).summary(reply);
        without_image(TITLE, post, &format!("{} {detail}", reply.status.as_u16()));
        return Ok(None);
    }
    match serde_json::from_slice::<Uploaded>(&reply.body) {
        Ok(Uploaded { blob }) if blob.is_object() => Ok(Some(blob)),
        _ => {
            without_image(
                TITLE,
                post,
                &format!("the upload's answer has no blob: {}", reply.snippet()),
            );
            Ok(None)
        }
    }
}

/// `app.bsky.embed.images` with one image (lexicons/app/bsky/embed/images.json).
#[derive(Debug, Serialize)]
struct ImagesEmbed {
    #[serde(rename = "$type")]
    kind: &'static str,
    images: [EmbeddedImage; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbeddedImage {
    image: serde_json::Value,
    alt: String,
    aspect_ratio: AspectRatio,
}

#[derive(Debug, Serialize)]
struct AspectRatio {
    width: u32,
    height: u32,
}

impl ImagesEmbed {
    fn of(blob: serde_json::Value, image: &Image) -> Self {
        ImagesEmbed {
            kind: "app.bsky.embed.images",
            images: [EmbeddedImage {
                image: blob,
                alt: image.alt().to_string(),
                aspect_ratio: AspectRatio {
                    width: image.width(),
                    height: image.height(),
                },
            }],
        }
    }
}

#[derive(Serialize)]
struct CreateRecord<'a> {
    repo: &'a str,
    collection: &'a str,
    record: PostRecord<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PostRecord<'a> {
    #[serde(rename = "$type")]
    kind: &'a str,
    text: &'a str,
    created_at: String,
    langs: [&'a str; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    facets: Vec<Facet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    embed: Option<ImagesEmbed>,
}

#[derive(Debug, Serialize)]
struct Facet {
    index: ByteSlice,
    features: [LinkFeature; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ByteSlice {
    byte_start: usize,
    byte_end: usize,
}

#[derive(Debug, Serialize)]
struct LinkFeature {
    #[serde(rename = "$type")]
    kind: &'static str,
    uri: String,
}

fn record<'a>(text: &'a str, now: DateTime<Utc>, lang: &'a str) -> PostRecord<'a> {
    PostRecord {
        kind: POST_TYPE,
        text,
        created_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        langs: [lang],
        facets: post_length::urls(text)
            .into_iter()
            .map(|range| link_facet(text, range))
            .collect(),
        embed: None,
    }
}

/// A link facet over `range` (bytes, end exclusive); a bare domain links to https.
fn link_facet(text: &str, range: Range<usize>) -> Facet {
    let link = &text[range.clone()];
    let uri = if has_protocol(link) {
        link.to_string()
    } else {
        format!("https://{link}")
    };
    Facet {
        index: ByteSlice {
            byte_start: range.start,
            byte_end: range.end,
        },
        features: [LinkFeature {
            kind: "app.bsky.richtext.facet#link",
            uri,
        }],
    }
}

fn service_endpoint(config: &Config, path: &str) -> Result<Url> {
    http::endpoint(&config.bluesky.service, path, "[bluesky] service")
}

fn retry(config: &Config, kind: fn(&crate::config::HttpConfig) -> Retry) -> Retry {
    Retry {
        rate_limit_wait,
        ..kind(&config.http)
    }
}

fn created(reply: &Reply, did: &str) -> Result<Outcome> {
    #[derive(Deserialize)]
    struct Created {
        uri: String,
    }
    if !reply.status.is_success() {
        return Err(post_failure(reply));
    }
    let created: Created = serde_json::from_slice(&reply.body).map_err(|_| {
        Error::other(format!(
            "{TITLE} accepted the post ({}) but its answer has no uri ({}); it is probably published: \
             look at the account",
            reply.status,
            reply.snippet()
        ))
    })?;
    // at://did:plc:…/app.bsky.feed.post/<rkey> opens as bsky.app/profile/<did>/post/<rkey>
    let url = created
        .uri
        .rsplit_once('/')
        .map(|(_, rkey)| format!("https://bsky.app/profile/{did}/post/{rkey}"));
    Ok(Outcome::New {
        id: Some(created.uri),
        url,
    })
}

/// An XRPC error body: `{"error": "AuthenticationRequired", "message": "…"}`.
#[derive(Debug, Default, Deserialize)]
struct Problem {
    error: Option<String>,
    message: Option<String>,
}

impl Problem {
    fn parse(reply: &Reply) -> Self {
        serde_json::from_slice(&reply.body).unwrap_or_default()
    }

    fn is(&self, name: &str) -> bool {
        self.error.as_deref() == Some(name)
    }

    fn summary(&self, reply: &Reply) -> String {
        match (&self.error, &self.message) {
            (Some(error), Some(message)) => format!("{error}: {message}"),
            (Some(text), None) | (None, Some(text)) => text.clone(),
            (None, None) => reply.snippet(),
        }
    }
}

const NEW_APP_PASSWORD: &str = "create an app password under Settings > Privacy and security > \
                                App passwords and run `fitbit-notifier auth bluesky`";

fn session_failure(reply: &Reply) -> Error {
    let problem = Problem::parse(reply);
    let detail = problem.summary(reply);
    // The error code before the status: the PDS answers both of these with 401
    // (bluesky-social/atproto `createSession.ts`, `AuthRequiredError`), another PDS
    // with 400, and a 401 alone means a wrong identifier or password.
    if problem.is("AccountTakedown") {
        return Error::other(format!(
            "{TITLE} refused to sign in: the account is taken down ({detail}); a new app password \
             will not help: the account's owner must contact Bluesky's moderation"
        ));
    }
    if problem.is("AuthFactorTokenRequired") {
        return Error::reauth(format!(
            "{TITLE} asks for an email code ({detail}): that is the account password, not an app \
             password; {NEW_APP_PASSWORD}"
        ));
    }
    match reply.status.as_u16() {
        401 => Error::reauth(format!(
            "{TITLE} refused the handle or app password (401 {detail}); {NEW_APP_PASSWORD}"
        )),
        _ => common_failure(reply, &detail),
    }
}

fn post_failure(reply: &Reply) -> Error {
    let detail = Problem::parse(reply).summary(reply);
    match reply.status.as_u16() {
        401 => Error::reauth(format!(
            "{TITLE} refused the session's token (401 {detail}); {NEW_APP_PASSWORD}"
        )),
        400 => Error::other(format!(
            "{TITLE} refused the post as invalid (400 {detail}); change the template or report it if it is a bug"
        )),
        _ => common_failure(reply, &detail),
    }
}

fn common_failure(reply: &Reply, detail: &str) -> Error {
    let status = reply.status;
    match status.as_u16() {
        429 => match rate_limit_wait(&reply.headers) {
            Some(wait) => Error::try_later(format!(
                "{TITLE}'s rate limit is reached (429 {detail}); it resets in {} min: try again after that",
                wait.as_secs().div_ceil(60)
            )),
            None => Error::try_later(format!(
                "{TITLE}'s rate limit is reached (429 {detail}); try again later"
            )),
        },
        _ => http::status_error(TITLE, reply, detail),
    }
}

/// `RateLimit-Reset` (Unix seconds), else `Retry-After`.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let reset = http::header_u64(headers, "ratelimit-reset")
        .and_then(|seconds| DateTime::from_timestamp(i64::try_from(seconds).ok()?, 0));
    match reset {
        Some(reset) => Some((reset - Utc::now()).to_std().unwrap_or(Duration::ZERO)),
        None => http::retry_after(headers),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::Kind;

    #[test]
    fn graphemes_and_bytes_are_both_limited() {
        assert_eq!(
            measure(&"a".repeat(300)).unwrap(),
            "300 of 300 characters, 300 of 3000 bytes"
        );
        let err = measure(&"a".repeat(301)).unwrap_err();
        assert!(err.contains("shorten it by 1"), "{err}");
        // one grapheme of 13 bytes: a letter with six combining marks
        let heavy = "a\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}".repeat(231);
        assert_eq!(heavy.graphemes(true).count(), 231);
        let err = measure(&heavy).unwrap_err();
        assert!(
            err.contains("3003 bytes") && err.contains("by 3 bytes"),
            "{err}"
        );
        // a family emoji is one grapheme
        assert!(measure(&"👨‍👩‍👧‍👦".repeat(120)).is_ok());
    }

    #[test]
    fn a_record_has_its_type_time_and_language_and_facets_only_for_links() {
        let now = "2026-11-26T07:00:00.123456Z".parse().unwrap();
        let plain = serde_json::to_value(record("Steps: 9876", now, "en")).unwrap();
        assert_eq!(
            plain,
            json!({
                "$type": "app.bsky.feed.post",
                "text": "Steps: 9876",
                "createdAt": "2026-11-26T07:00:00.123Z",
                "langs": ["en"]
            })
        );
        let text = "歩数 https://example.com/a と fitbit.com";
        let linked = serde_json::to_value(record(text, now, "ja")).unwrap();
        let start = "歩数 ".len();
        let end = start + "https://example.com/a".len();
        let bare = text.find("fitbit.com").unwrap();
        assert_eq!(
            linked["facets"],
            json!([
                {"index": {"byteStart": start, "byteEnd": end},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a"}]},
                {"index": {"byteStart": bare, "byteEnd": bare + "fitbit.com".len()},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://fitbit.com"}]}
            ])
        );
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn a_created_record_yields_its_uri_and_link() {
        let answer =
            r#"{"uri":"at://did:plc:abc/app.bsky.feed.post/3k4duaz5vfs2b","cid":"bafyrei"}"#;
        assert_eq!(
            created(&reply(200, answer), "did:plc:abc").unwrap(),
            Outcome::New {
                id: Some("at://did:plc:abc/app.bsky.feed.post/3k4duaz5vfs2b".into()),
                url: Some("https://bsky.app/profile/did:plc:abc/post/3k4duaz5vfs2b".into()),
            }
        );
    }

    /// The corpus's createSession refusals carry the status the PDS answers with (401,
    /// sources in tests/fixtures/real/SOURCES.md); every other real answer, of any
    /// service, maps to an error or a post without a panic.
    #[test]
    fn every_real_answer_maps_to_what_to_do() {
        for answer in crate::real_answers::all() {
            let reply = answer.reply();
            let session = (!reply.status.is_success()).then(|| session_failure(&reply));
            let post = created(&reply, "did:plc:abc");
            for err in session.iter().chain(post.as_ref().err()) {
                assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            }
            let expected = match answer.name.as_str() {
                "bluesky/createSession_401_AccountTakedown.json" => {
                    Some((Kind::Other, "taken down"))
                }
                "bluesky/createSession_401_AuthFactorTokenRequired.json" => {
                    Some((Kind::Reauth, "not an app password"))
                }
                _ => None,
            };
            if let Some((kind, needle)) = expected {
                let err = session.unwrap();
                assert_eq!(err.kind(), kind, "{}: {err}", answer.name);
                assert!(err.to_string().contains(needle), "{}: {err}", answer.name);
            }
            if answer.is("bluesky/createRecord_200.json") {
                assert!(
                    matches!(post, Ok(Outcome::New { id: Some(_), .. })),
                    "{post:?}"
                );
            }
        }
    }

    #[test]
    fn refusals_map_to_what_to_do() {
        let cases = [
            (
                session_failure(&reply(
                    401,
                    r#"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#,
                )),
                Kind::Reauth,
                "Invalid identifier or password",
            ),
            // a third-party PDS answers with 400
            (
                session_failure(&reply(
                    400,
                    r#"{"error":"AuthFactorTokenRequired","message":"A sign in code has been sent"}"#,
                )),
                Kind::Reauth,
                "not an app password",
            ),
            (
                session_failure(&reply(
                    429,
                    r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#,
                )),
                Kind::TryLater,
                "rate limit",
            ),
            (
                post_failure(&reply(
                    400,
                    r#"{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}"#,
                )),
                Kind::Other,
                "300 graphemes",
            ),
            (
                post_failure(&reply(
                    401,
                    r#"{"error":"ExpiredToken","message":"Token has expired"}"#,
                )),
                Kind::Reauth,
                "ExpiredToken",
            ),
            (
                post_failure(&reply(502, "<html>Bad Gateway</html>")),
                Kind::TryLater,
                "server error",
            ),
        ];
        for (err, kind, needle) in cases {
            assert_eq!(err.kind(), kind, "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().starts_with("Bluesky"), "{err}");
        }
    }
}

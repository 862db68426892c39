//! Mastodon: `POST /api/v1/statuses` on the account's instance with a bearer token that
//! has the `write:statuses` scope; an image first goes to `POST /api/v2/media` (scope
//! `write:media`) with its description, and the status names it in `media_ids`.
//!
//! Every post carries an `Idempotency-Key` made of the day, the sink, the message and a
//! hash of its text. Mastodon keeps a key for an hour and answers a repeat with the post
//! it already made, so a post whose answer was lost is safely sent again, by a retry in
//! this run or by a re-run within that hour.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

use super::{Image, Outcome, Outgoing, Service, has_protocol, refuses_the_image, without_image};
use crate::config::{Config, HttpConfig};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry, SendError};
use crate::secret::Secret;
use crate::sinks::post_length;

const TITLE: &str = "Mastodon";

/// A Mastodon account: its instance (the base of every API call) and an access token
/// with the `write:statuses` scope. Mastodon tokens do not expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonCredentials {
    pub instance: Url,
    pub access_token: Secret,
}

/// What an instance allows in one post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_characters: usize,
    /// What every link counts, whatever its length.
    pub characters_reserved_per_url: usize,
    pub media: MediaLimits,
}

/// What an instance takes as an attachment (`configuration.media_attachments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// The longest description, in characters.
    pub description_limit: usize,
    /// The largest image in bytes, when the instance says.
    pub image_size_limit: Option<u64>,
    /// False only when the instance lists its types and PNG is not among them.
    pub takes_png: bool,
}

/// Mastodon's own defaults, for an instance that does not say.
impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_characters: 500,
            characters_reserved_per_url: 23,
            media: MediaLimits::default(),
        }
    }
}

/// `MediaAttachment::MAX_DESCRIPTION_LENGTH = 1_500` (mastodon/mastodon
/// app/models/media_attachment.rb); the size is left to the instance to refuse.
impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            description_limit: 1500,
            image_size_limit: None,
            takes_png: true,
        }
    }
}

impl MediaLimits {
    /// Why the instance would not take `image`, if it would not.
    fn refusal(&self, image: &Image) -> Option<String> {
        let alt = image.alt().chars().count();
        let size = image.bytes().len() as u64;
        if !self.takes_png {
            Some("the instance does not list image/png among its media types".into())
        } else if alt > self.description_limit {
            Some(format!(
                "its description is {alt} characters, the instance takes {}",
                self.description_limit
            ))
        } else {
            match self.image_size_limit {
                Some(limit) if size > limit => {
                    Some(format!("it is {size} bytes, the instance takes {limit}"))
                }
                _ => None,
            }
        }
    }
}

/// The instance's limits from `GET /api/v2/instance` (public, no token). A field the
/// answer lacks keeps Mastodon's default.
pub async fn instance_limits(
    http: &reqwest::Client,
    config: &HttpConfig,
    instance: &Url,
) -> Result<Limits> {
    #[derive(Deserialize)]
    struct Instance {
        configuration: Configuration,
    }
    #[derive(Deserialize)]
    struct Configuration {
        statuses: Statuses,
        media_attachments: Option<Media>,
    }
    #[derive(Deserialize)]
    struct Statuses {
        max_characters: Option<usize>,
        characters_reserved_per_url: Option<usize>,
    }
    #[derive(Deserialize)]
    struct Media {
        description_limit: Option<usize>,
        image_size_limit: Option<u64>,
        supported_mime_types: Option<Vec<String>>,
    }
    let url = instance_endpoint(instance, "api/v2/instance")?;
    // one attempt: a run falls back to the default rather than wait for it
    let once = Retry {
        attempts: 1,
        ..Retry::idempotent(config)
    };
    let reply = http::send(|| http.get(url.clone()), once)
        .await
        .map_err(|err| err.into_error(&format!("{TITLE} ({})", host(instance))))?;
    if !reply.status.is_success() {
        return Err(Error::other(format!(
            "{} answered {} to /api/v2/instance: {}",
            host(instance),
            reply.status,
            reply.snippet()
        )));
    }
    let configuration = serde_json::from_slice::<Instance>(&reply.body)
        .map_err(|_| {
            Error::other(format!(
                "{} does not describe itself as a Mastodon instance (/api/v2/instance: {})",
                host(instance),
                reply.snippet()
            ))
        })?
        .configuration;
    let statuses = configuration.statuses;
    let default = Limits::default();
    let media = configuration
        .media_attachments
        .map_or(default.media, |media| MediaLimits {
            description_limit: media
                .description_limit
                .unwrap_or(default.media.description_limit),
            image_size_limit: media.image_size_limit,
            takes_png: media
                .supported_mime_types
                .is_none_or(|types| types.iter().any(|kind| kind == Image::MIME)),
        });
    Ok(Limits {
        max_characters: statuses.max_characters.unwrap_or(default.max_characters),
        characters_reserved_per_url: statuses
            .characters_reserved_per_url
            .unwrap_or(default.characters_reserved_per_url),
        media,
    })
}

/// The instance's limits, or Mastodon's defaults when it cannot tell them now (a post
/// that is then too long is refused by the instance with its own message).
pub async fn limits_or_default(http: &reqwest::Client, config: &Config, instance: &Url) -> Limits {
    instance_limits(http, &config.http, instance)
        .await
        .unwrap_or_else(|err| {
            log::info!("{err}; counting with Mastodon's default of 500 characters");
            Limits::default()
        })
}

/// Mastodon's count: grapheme clusters, with every link that has its `http(s)://`
/// counting `characters_reserved_per_url`. Mentions would count without their domain;
/// counting it in full can only err on the safe side.
fn length(limits: &Limits, text: &str) -> usize {
    let links = post_length::urls(text)
        .into_iter()
        .filter(|url| has_protocol(&text[url.clone()]));
    let mut length = 0;
    let mut at = 0;
    for link in links {
        length += text[at..link.start].graphemes(true).count() + limits.characters_reserved_per_url;
        at = link.end;
    }
    length + text[at..].graphemes(true).count()
}

fn measure(limits: &Limits, text: &str) -> Result<String, String> {
    let length = length(limits, text);
    let max = limits.max_characters;
    if length > max {
        let over = length - max;
        return Err(format!(
            "the post is {length} characters as Mastodon counts them (a link counts {}), {over} over \
             the instance's limit of {max}: shorten it by {over}",
            limits.characters_reserved_per_url
        ));
    }
    Ok(format!("{length} of {max} characters"))
}

/// The same for the same post of the same day on every attempt and every run, and
/// different for any other text: `fitbit-notifier-2026-11-25-mastodon-activity-<hash>`.
fn idempotency_key(post: &Outgoing<'_>) -> String {
    let digest = Sha256::digest(post.text.as_bytes());
    let mut key = format!(
        "fitbit-notifier-{}-mastodon-{}-",
        post.date,
        post.kind.name()
    );
    for byte in &digest[..8] {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

#[derive(Serialize)]
struct CreateStatus<'a> {
    status: &'a str,
    /// ISO 639-1, from the config's `locale`; the visibility is left to the account's
    /// default.
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    media_ids: Vec<String>,
}

pub struct MastodonSink<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    credentials: MastodonCredentials,
    /// The instance's limits, asked for once and kept for the length check and the
    /// upload alike.
    limits: OnceCell<Limits>,
}

impl<'a> Service<'a> for MastodonSink<'a> {
    const NAME: &'static str = "mastodon";
    const TITLE: &'static str = TITLE;
    const SETUP: &'static str = "1. On your instance open https://<instance>/settings/applications/new\n   \
                                 (\"Development\" in the settings sidebar), name the app.\n\
                                 2. Untick the pre-selected read, write and follow; tick only write:statuses.\n\
                                 3. Submit, open the app and copy \"Your access token\".";

    type Credentials = MastodonCredentials;
    type Rule = Limits;

    fn new(http: &'a reqwest::Client, config: &'a Config, credentials: MastodonCredentials) -> Self {
        MastodonSink {
            http,
            config,
            credentials,
            limits: OnceCell::new(),
        }
    }

    /// The instance's own limits when the instance is known, else Mastodon's defaults.
    async fn rule(
        http: &reqwest::Client,
        config: &Config,
        credentials: Option<&MastodonCredentials>,
    ) -> Limits {
        match credentials {
            Some(mastodon) => limits_or_default(http, config, &mastodon.instance).await,
            None => Limits::default(),
        }
    }

    /// The limits asked for alongside the data and kept for the upload.
    async fn own_rule(&self) -> Limits {
        self.limits().await
    }

    fn measure(limits: &Limits, text: &str) -> Result<String, String> {
        measure(limits, text)
    }

    /// `verify_credentials` checks the token without posting.
    async fn verify(
        client: &reqwest::Client,
        config: &Config,
        stored: &MastodonCredentials,
    ) -> Result<Option<String>> {
        let url = instance_endpoint(&stored.instance, "api/v1/accounts/verify_credentials")?;
        let reply = http::send(
            || {
                client
                    .get(url.clone())
                    .bearer_auth(stored.access_token.expose())
            },
            Retry::idempotent(&config.http),
        )
        .await
        .map_err(|err| err.into_error(TITLE))?;
        // Doorkeeper checks the token before its scopes: 403 is a valid token that
        // (rightly) has only write:statuses
        match reply.status.as_u16() {
            200 | 403 => Ok(Some("the instance accepts the token".into())),
            401 => Err(Error::reauth(
                "Mastodon refused the access token (401): it was revoked or mistyped; \
                 create a new one and run `fitbit-notifier auth mastodon`",
            )),
            _ => Err(http::status_error(TITLE, &reply, &reply.snippet())),
        }
    }

    fn endpoint(credentials: &MastodonCredentials) -> Option<(&'static str, Url)> {
        Some(("the Mastodon instance", credentials.instance.clone()))
    }

    fn describe(credentials: &MastodonCredentials) -> String {
        format!(
            "token for {}",
            credentials.instance.host_str().unwrap_or("an instance")
        )
    }

    /// Uploads the image first, when there is one: an upload whose post then fails is not
    /// a post (the next run uploads again; an unattached upload is harmless, and the
    /// Idempotency-Key still makes a repeated status the same one).
    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let instance = &self.credentials.instance;
        let media_ids = match post.image {
            Some(image) => self.upload(post, image).await?.into_iter().collect(),
            None => Vec::new(),
        };
        let url = instance_endpoint(instance, "api/v1/statuses")?;
        let key = idempotency_key(post);
        let body = CreateStatus {
            status: post.text,
            language: self.config.locale.name(),
            media_ids,
        };
        log::info!("posting to {url} with Idempotency-Key {key}");
        // the key makes a repeat harmless, so even a request that may have landed is resent
        let retry = Retry {
            rate_limit_wait,
            ..Retry::idempotent(&self.config.http)
        };
        let reply = http::send(
            || {
                self.http
                    .post(url.clone())
                    .bearer_auth(self.credentials.access_token.expose())
                    .header("Idempotency-Key", &key)
                    .json(&body)
            },
            retry,
        )
        .await
        .map_err(unanswered)?;
        log::debug!("{TITLE} answered {}", reply.status);
        outcome(&reply, instance)
    }
}

impl MastodonSink<'_> {
    /// The instance's limits (else Mastodon's defaults), asked for on the first call
    /// only: a run asks for them alongside the data and finds them here when it
    /// measures and when it uploads.
    pub async fn limits(&self) -> Limits {
        *self
            .limits
            .get_or_init(|| limits_or_default(self.http, self.config, &self.credentials.instance))
            .await
    }

    /// The id of the uploaded image, once the instance has processed it. `Ok(None)` when
    /// the instance refuses it or does not finish processing it in time (said with a
    /// warning: the text goes alone); an error when the post would fail as well.
    async fn upload(&self, post: &Outgoing<'_>, image: &Image) -> Result<Option<String>> {
        let instance = &self.credentials.instance;
        if let Some(why) = self.limits().await.media.refusal(image) {
            without_image(TITLE, post, &why);
            return Ok(None);
        }
        let url = instance_endpoint(instance, "api/v2/media")?;
        log::info!("uploading {} bytes of PNG to {url}", image.bytes().len());
        let form = || {
            reqwest::multipart::Form::new()
                .part("file", image.part())
                .text("description", image.alt().to_string())
        };
        // an upload sent twice is one unattached upload more, which the instance removes
        let reply = http::send(
            || {
                self.http
                    .post(url.clone())
                    .bearer_auth(self.credentials.access_token.expose())
                    .multipart(form())
            },
            self.retry(),
        )
        .await
        .map_err(|err| err.into_error(TITLE))?;
        log::debug!("{TITLE} answered {} to the upload", reply.status);
        let Some(media) = self.uploaded(&reply, post)? else {
            return Ok(None);
        };
        if reply.status == StatusCode::ACCEPTED {
            return self.processed(post, media.id).await;
        }
        Ok(Some(media.id))
    }

    /// `POST /api/v2/media` answers 200 with the processed image, or 202 while it is
    /// still processing.
    fn uploaded(&self, reply: &Reply, post: &Outgoing<'_>) -> Result<Option<Attachment>> {
        if !reply.status.is_success() {
            return self.refused(reply, post).map(|()| None);
        }
        match serde_json::from_slice::<Attachment>(&reply.body) {
            Ok(media) => Ok(Some(media)),
            Err(_) => {
                without_image(
                    TITLE,
                    post,
                    &format!("the upload's answer has no id: {}", reply.snippet()),
                );
                Ok(None)
            }
        }
    }

    /// Waits for the instance to process the upload, asking `GET /api/v1/media/:id` once
    /// a second (206 while processing, 200 when done) for at most `[http] timeout`.
    async fn processed(&self, post: &Outgoing<'_>, id: String) -> Result<Option<String>> {
        let url = instance_endpoint(
            &self.credentials.instance,
            &format!("api/v1/media/{}", url_segment(&id)),
        )?;
        let deadline = tokio::time::Instant::now() + self.config.http.timeout();
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                without_image(
                    TITLE,
                    post,
                    &format!(
                        "the instance was still processing it after {} s",
                        self.config.http.timeout().as_secs()
                    ),
                );
                return Ok(None);
            }
            tokio::time::sleep(PROCESSING_POLL.min(deadline - now)).await;
            let reply = http::send(
                || {
                    self.http
                        .get(url.clone())
                        .bearer_auth(self.credentials.access_token.expose())
                },
                self.retry(),
            )
            .await
            .map_err(|err| err.into_error(TITLE))?;
            match reply.status {
                StatusCode::OK => return Ok(Some(id)),
                StatusCode::PARTIAL_CONTENT => continue,
                _ => return self.refused(&reply, post).map(|()| None),
            }
        }
    }

    /// For an error answer to an upload: a refusal of the image is `Ok` (said with a
    /// warning), anything that would fail the post as well is the error.
    fn refused(&self, reply: &Reply, post: &Outgoing<'_>) -> Result<()> {
        if !refuses_the_image(reply.status) {
            return Err(failure(reply, &self.credentials.instance));
        }
        let detail = problem_detail(reply);
        let hint = if reply.status == StatusCode::FORBIDDEN {
            "; to attach images, give the application the write:media scope on the instance \
             (Preferences > Development) and run `fitbit-notifier auth mastodon`"
        } else {
            ""
        };
        without_image(
            TITLE,
            post,
            &format!("{}: {detail}{hint}", reply.status.as_u16()),
        );
        Ok(())
    }

    fn retry(&self) -> Retry {
        Retry {
            rate_limit_wait,
            ..Retry::idempotent(&self.config.http)
        }
    }
}

/// How often to ask whether an upload is processed.
const PROCESSING_POLL: Duration = Duration::from_secs(1);

/// A media attachment as `POST /api/v2/media` answers it (MD content/en/methods/media.md).
#[derive(Deserialize)]
struct Attachment {
    id: String,
}

/// An id as one path segment, whatever the instance sent.
fn url_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn problem_detail(reply: &Reply) -> String {
    #[derive(Deserialize)]
    struct Problem {
        error: String,
    }
    serde_json::from_slice::<Problem>(&reply.body)
        .map(|problem| problem.error)
        .unwrap_or_else(|_| reply.snippet())
}

fn instance_endpoint(instance: &Url, path: &str) -> Result<Url> {
    http::ensure_private_in_transit(instance, "the Mastodon instance")?;
    http::endpoint(instance, path, "the Mastodon instance")
}

fn host(instance: &Url) -> &str {
    instance.host_str().unwrap_or("the instance")
}

fn unanswered(err: SendError) -> Error {
    match err.may_have_landed() {
        Some(detail) => Error::try_later(format!(
            "{TITLE} did not answer the post ({detail}); the next run sends it again with the same \
             Idempotency-Key, which Mastodon honours for an hour, so it cannot be posted twice within that hour"
        )),
        None => err.into_error(TITLE),
    }
}

fn outcome(reply: &Reply, instance: &Url) -> Result<Outcome> {
    #[derive(Deserialize)]
    struct Status {
        id: String,
        url: Option<String>,
    }
    if !reply.status.is_success() {
        return Err(failure(reply, instance));
    }
    let status: Status = serde_json::from_slice(&reply.body).map_err(|_| {
        Error::other(format!(
            "{TITLE} accepted the post ({}) but its answer has no status id ({}); it is probably \
             published: look at the account",
            reply.status,
            reply.snippet()
        ))
    })?;
    Ok(Outcome::New {
        id: Some(status.id),
        url: status.url,
    })
}

/// What an error answer means for the user, with what to do.
fn failure(reply: &Reply, instance: &Url) -> Error {
    let status = reply.status;
    let detail = problem_detail(reply);
    let host = host(instance);
    match status.as_u16() {
        401 => Error::reauth(format!(
            "{TITLE} refused the access token (401: {detail}); it was revoked or mistyped: copy the token \
             of your application under Preferences > Development on {host} and run `fitbit-notifier auth mastodon`"
        )),
        403 => Error::reauth(format!(
            "{TITLE} refused the post (403: {detail}); the token lacks the write:statuses scope: give the \
             application that scope on {host} (Preferences > Development) and run `fitbit-notifier auth mastodon`"
        )),
        404 => Error::reauth(format!(
            "{host} has no Mastodon API at /api/v1/statuses (404); the stored instance address is wrong: \
             run `fitbit-notifier auth mastodon --instance https://<your instance>`"
        )),
        422 => Error::other(format!(
            "{TITLE} refused the post as invalid (422: {detail}); change the template or report it if it is a bug"
        )),
        429 => rate_limited(&reply.headers),
        _ => http::status_error(&format!("{TITLE} ({host})"), reply, &detail),
    }
}

fn rate_limited(headers: &HeaderMap) -> Error {
    match rate_limit_reset(headers) {
        Some(reset) => Error::try_later(format!(
            "{TITLE}'s rate limit is reached (429); it resets at {}: try again after that",
            reset.with_timezone(&Local).format("%Y-%m-%d %H:%M %:z")
        )),
        None => Error::try_later(format!(
            "{TITLE}'s rate limit is reached (429); try again later"
        )),
    }
}

/// `X-RateLimit-Reset` is a timestamp (ISO 8601), not seconds.
fn rate_limit_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let reset = headers.get("x-ratelimit-reset")?.to_str().ok()?;
    DateTime::parse_from_rfc3339(reset.trim())
        .ok()
        .map(|reset| reset.with_timezone(&Utc))
}

/// For [`http::send`]: until the reset, or `Retry-After` when there is no reset.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    match rate_limit_reset(headers) {
        Some(reset) => Some((reset - Utc::now()).to_std().unwrap_or(Duration::ZERO)),
        None => http::retry_after(headers),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::day::MessageKind;
    use crate::error::Kind;

    fn limits(max: usize) -> Limits {
        Limits {
            max_characters: max,
            ..Limits::default()
        }
    }

    /// Every real answer (tests/fixtures/real/, sources in its SOURCES.md) maps to a
    /// post or an error without a panic; the documented Status gives its id and link,
    /// the documented refusals their message.
    #[test]
    fn every_real_answer_maps_to_a_post_or_an_error() {
        let instance = Url::parse("https://mastodon.social/").unwrap();
        for answer in crate::real_answers::all() {
            let result = outcome(&answer.reply(), &instance);
            if let Err(err) = &result {
                assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            }
            match answer.name.as_str() {
                "mastodon/status.json" => assert_eq!(
                    result.unwrap(),
                    Outcome::New {
                        id: Some("1".into()),
                        url: Some("https://mastodon.social/@Gargron/1".into()),
                    }
                ),
                "mastodon/status_error_422.json" => {
                    let err = result.unwrap_err();
                    assert!(err.to_string().contains("Text can't be blank"), "{err}");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn graphemes_count_one_and_links_with_a_protocol_count_23() {
        let limits = Limits::default();
        assert_eq!(length(&limits, "歩数 8,532歩"), 9);
        // a family emoji is one grapheme of five code points
        assert_eq!(length(&limits, "👨‍👩‍👧‍👦 ok"), 4);
        let link = format!("see https://example.com/{}", "a".repeat(100));
        assert_eq!(length(&limits, &link), 4 + 23);
        // without the protocol Mastodon does not make a link of it, so it counts in full
        assert_eq!(length(&limits, "see example.com/abc"), 19);
    }

    #[test]
    fn the_instance_limit_decides() {
        assert_eq!(
            measure(&limits(10), "0123456789").unwrap(),
            "10 of 10 characters"
        );
        let err = measure(&limits(10), "0123456789ab").unwrap_err();
        assert!(err.contains("12 characters"), "{err}");
        assert!(err.contains("shorten it by 2"), "{err}");
    }

    fn post(text: &str) -> Outgoing<'_> {
        Outgoing {
            date: "2026-11-25".parse().unwrap(),
            kind: MessageKind::Activity,
            text,
            image: None,
        }
    }

    #[test]
    fn the_idempotency_key_depends_on_day_message_and_text_only() {
        let key = idempotency_key(&post("Steps: 9876"));
        assert!(
            key.starts_with("fitbit-notifier-2026-11-25-mastodon-activity-"),
            "{key}"
        );
        assert_eq!(
            key.len(),
            "fitbit-notifier-2026-11-25-mastodon-activity-".len() + 16
        );
        assert_eq!(key, idempotency_key(&post("Steps: 9876")));
        assert_ne!(key, idempotency_key(&post("Steps: 9877")));
        let sleep = Outgoing {
            kind: MessageKind::Sleep,
            ..post("Steps: 9876")
        };
        assert_ne!(key, idempotency_key(&sleep));
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    fn instance() -> Url {
        Url::parse("https://mastodon.example/").unwrap()
    }

    #[test]
    fn a_status_yields_its_id_and_link() {
        let answer = r#"{"id":"103254962155278888","url":"https://mastodon.example/@walker/103254962155278888","content":"<p>hi</p>"}"#;
        assert_eq!(
            outcome(&reply(200, answer), &instance()).unwrap(),
            Outcome::New {
                id: Some("103254962155278888".into()),
                url: Some("https://mastodon.example/@walker/103254962155278888".into()),
            }
        );
    }

    #[test]
    fn refusals_map_to_what_to_do() {
        for (status, body, kind, needle) in [
            (
                401,
                r#"{"error":"The access token is invalid"}"#,
                Kind::Reauth,
                "The access token is invalid",
            ),
            (
                403,
                r#"{"error":"This action is outside the authorized scopes"}"#,
                Kind::Reauth,
                "write:statuses",
            ),
            (404, "<html>Not Found</html>", Kind::Reauth, "--instance"),
            (
                422,
                r#"{"error":"Validation failed: Text can't be blank"}"#,
                Kind::Other,
                "Text can't be blank",
            ),
            (503, "<html>down</html>", Kind::TryLater, "server error"),
            (418, "teapot", Kind::Other, "teapot"),
        ] {
            let err = outcome(&reply(status, body), &instance()).unwrap_err();
            assert_eq!(err.kind(), kind, "{status}: {err}");
            assert!(err.to_string().contains(needle), "{status}: {err}");
            assert!(
                err.to_string().contains("Mastodon")
                    || err.to_string().contains("mastodon.example"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_rate_limit_says_when_it_resets_and_is_waited_for_when_near() {
        let reset = Utc::now() + chrono::Duration::seconds(30);
        let mut limited = reply(429, r#"{"error":"Too many requests"}"#);
        limited.headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_rfc3339()).unwrap(),
        );
        let err = outcome(&limited, &instance()).unwrap_err();
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(err.to_string().contains("resets at"), "{err}");
        let wait = rate_limit_wait(&limited.headers).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
    }

    #[test]
    fn a_lost_answer_is_retried_by_the_next_run_with_the_same_key() {
        let err = unanswered(SendError::NoAnswer);
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(err.to_string().contains("same Idempotency-Key"), "{err}");
    }
}

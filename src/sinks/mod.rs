//! Where the day's messages go. A sink is one destination (X, Mastodon, Bluesky, a
//! Discord or a Slack incoming webhook) with its own credentials, its own length rule
//! and its own reading of the service's answers, mapped to the exit kinds every command
//! uses: authorize again (77), try later (75), anything else (1). Every error a sink
//! returns names its service.

#[cfg(test)]
mod attach_tests;
mod bluesky;
mod discord;
mod mastodon;
pub mod post_length;
mod slack;
mod verify;
pub mod x;

use chrono::NaiveDate;
use url::Url;

use crate::config::{Config, Paths, SinkKind};
use crate::context::Context;
use crate::day::MessageKind;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, SendError};
use crate::secret::Secret;
use crate::store::credentials::{self, Credentials};

pub use bluesky::create_session;
pub use mastodon::instance_limits;
pub use slack::NO_FILES as SLACK_NO_FILES;
pub use verify::verify;

/// One message of one day, on its way to a sink.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub date: NaiveDate,
    pub kind: MessageKind,
    pub text: &'a str,
    /// A picture to attach (the week's chart) where the sink can; the text is the post,
    /// the image goes with it when the service takes it.
    pub image: Option<&'a Image>,
}

/// A PNG with the text that describes it. There is no image without a description: one
/// is made only with non-blank alt text, so no sink can post an image without it.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    png: Vec<u8>,
    alt: String,
    width: u32,
    height: u32,
}

impl Image {
    /// The name the image is uploaded under, where a service asks for one.
    pub const FILE_NAME: &'static str = "week.png";
    pub const MIME: &'static str = "image/png";

    /// None when `alt` is blank.
    pub fn png(png: Vec<u8>, alt: String, width: u32, height: u32) -> Option<Image> {
        (!alt.trim().is_empty()).then_some(Image {
            png,
            alt,
            width,
            height,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.png
    }

    pub fn alt(&self) -> &str {
        &self.alt
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The image as a file part of a multipart form, named and typed.
    fn part(&self) -> reqwest::multipart::Part {
        reqwest::multipart::Part::bytes(self.png.clone())
            .file_name(Self::FILE_NAME)
            .mime_str(Self::MIME)
            .expect("image/png is a valid MIME type")
    }
}

/// Not the bytes: a log line shows the size and the description.
impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Image({} bytes of PNG, {}x{}, alt {:?})",
            self.png.len(),
            self.width,
            self.height,
            self.alt
        )
    }
}

/// Whether an error answer to an upload refuses the image itself (its size, its type, a
/// quota, a missing permission for media), so the text goes alone, rather than saying that
/// the service cannot take anything now (a rate limit, a server error) or that the
/// credentials are wrong, which would fail the post as well.
fn refuses_the_image(status: reqwest::StatusCode) -> bool {
    status.is_client_error() && !matches!(status.as_u16(), 401 | 429)
}

/// Says that `post` goes to `title` without its image, and why.
fn without_image(title: &str, post: &Outgoing<'_>, why: &str) {
    log::warn!(
        "{title} did not take the image of the {} message of {} ({why}); posting its text alone",
        post.kind.name(),
        post.date
    );
}

/// What became of a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new post, with its id and link when the service tells them (a Slack webhook
    /// tells neither).
    New {
        id: Option<String>,
        url: Option<String>,
    },
    /// The service refused the text as a duplicate of a post it already has (X).
    AlreadyPosted,
    /// The request was sent and no answer came, so the post may be published; the service
    /// cannot tell a repeat from a new post, so sending it again could post it twice.
    Unanswered(String),
}

/// How a sink measures a text before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    X,
    Mastodon(mastodon::Limits),
    Bluesky,
    Discord,
    Slack,
}

impl Rule {
    /// The length of `text` by this rule ("180 of 280 weighted characters"), or why the
    /// sink would refuse it, with how much to cut.
    pub fn measure(&self, text: &str) -> Result<String, String> {
        match self {
            Rule::X => x::measure(text),
            Rule::Mastodon(limits) => mastodon::measure(limits, text),
            Rule::Bluesky => bluesky::measure(text),
            Rule::Discord => discord::measure(text),
            Rule::Slack => slack::measure(text),
        }
    }
}

/// The rule of `kind` for a sink that may lack credentials (a dry run). Mastodon's limit
/// is the instance's own, asked for when the instance is known (else Mastodon's
/// default), so this may make one request.
pub async fn rule(
    kind: SinkKind,
    http: &reqwest::Client,
    config: &Config,
    credentials: &Credentials,
) -> Rule {
    let limits = match (kind, &credentials.mastodon) {
        (SinkKind::Mastodon, Some(mastodon)) => {
            mastodon::limits_or_default(http, config, &mastodon.instance).await
        }
        _ => mastodon::Limits::default(),
    };
    Rule::of(kind, limits)
}

impl Rule {
    /// The rule of `kind`, with `limits` for Mastodon (the others have fixed rules).
    fn of(kind: SinkKind, limits: mastodon::Limits) -> Rule {
        match kind {
            SinkKind::X => Rule::X,
            SinkKind::Mastodon => Rule::Mastodon(limits),
            SinkKind::Bluesky => Rule::Bluesky,
            SinkKind::Discord => Rule::Discord,
            SinkKind::Slack => Rule::Slack,
        }
    }
}

/// A sink with its credentials, ready to post.
pub enum Sink<'a> {
    X(x::XSink<'a>),
    Mastodon(mastodon::MastodonSink<'a>),
    Bluesky(bluesky::BlueskySink<'a>),
    Discord(discord::DiscordSink<'a>),
    Slack(slack::SlackSink<'a>),
}

impl<'a> Sink<'a> {
    /// Every sink `[sinks] enabled` names, in that order. A sink without stored
    /// credentials is a configuration error that names the `auth` command to run.
    pub fn enabled(
        http: &'a reqwest::Client,
        config: &'a Config,
        paths: &Paths,
        credentials: &Credentials,
    ) -> Result<Vec<Sink<'a>>> {
        config
            .sinks
            .enabled
            .iter()
            .map(|&kind| {
                Self::with_credentials(kind, http, config, credentials).ok_or_else(|| {
                    Error::config(format!(
                        "{}, or take \"{}\" out of [sinks] enabled in {}",
                        not_authorized(kind, paths),
                        kind.name(),
                        paths.config.display()
                    ))
                })
            })
            .collect()
    }

    fn with_credentials(
        kind: SinkKind,
        http: &'a reqwest::Client,
        config: &'a Config,
        credentials: &Credentials,
    ) -> Option<Self> {
        Some(match kind {
            SinkKind::X => Sink::X(x::XSink::new(http, config, credentials.x.clone()?)),
            SinkKind::Mastodon => Sink::Mastodon(mastodon::MastodonSink::new(
                http,
                config,
                credentials.mastodon.clone()?,
            )),
            SinkKind::Bluesky => Sink::Bluesky(bluesky::BlueskySink::new(
                http,
                config,
                credentials.bluesky.clone()?,
            )),
            SinkKind::Discord => Sink::Discord(discord::DiscordSink::new(
                http,
                config,
                credentials.discord.clone()?.webhook_url,
            )),
            SinkKind::Slack => Sink::Slack(slack::SlackSink::new(
                http,
                config,
                credentials.slack.clone()?.webhook_url,
            )),
        })
    }

    /// This sink's rule. Mastodon asks its instance on the first call only and keeps
    /// the limits for its uploads, so a run asks once, alongside the data.
    pub async fn rule(&self) -> Rule {
        let limits = match self {
            Sink::Mastodon(sink) => sink.limits().await,
            _ => mastodon::Limits::default(),
        };
        Rule::of(self.kind(), limits)
    }

    pub fn kind(&self) -> SinkKind {
        match self {
            Sink::X(_) => SinkKind::X,
            Sink::Mastodon(_) => SinkKind::Mastodon,
            Sink::Bluesky(_) => SinkKind::Bluesky,
            Sink::Discord(_) => SinkKind::Discord,
            Sink::Slack(_) => SinkKind::Slack,
        }
    }

    /// Posts one message. The length is the caller's to check first, for every sink
    /// before the first post.
    pub async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        match self {
            Sink::X(sink) => sink.post(post).await,
            Sink::Mastodon(sink) => sink.post(post).await,
            Sink::Bluesky(sink) => sink.post(post).await,
            Sink::Discord(sink) => sink.post(post).await,
            Sink::Slack(sink) => sink.post(post).await,
        }
    }
}

/// Posts a text of its own (`tweet --text --sink`, `init`'s test post) to the one sink
/// `kind`, after measuring it by that sink's rule.
pub async fn post_text(ctx: &Context, kind: SinkKind, text: &str) -> Result<Outcome> {
    let credentials = credentials::store(&ctx.paths).load()?;
    let sink = Sink::with_credentials(kind, &ctx.client, &ctx.config, &credentials)
        .ok_or_else(|| not_authorized(kind, &ctx.paths))?;
    sink.rule()
        .await
        .measure(text)
        .map_err(|why| Error::other(format!("the text is too long for {}: {why}", kind.title())))?;
    let post = Outgoing {
        date: chrono::Utc::now().date_naive(),
        // the kind only names the post in Mastodon's idempotency key, with the text's hash
        kind: MessageKind::Activity,
        text,
        image: None,
    };
    sink.post(&post).await
}

/// "nothing is stored for X in …; run `fitbit-notifier auth x` first".
pub fn not_authorized(kind: SinkKind, paths: &Paths) -> Error {
    Error::config(format!(
        "no {} credentials are stored in {}; run `fitbit-notifier auth {}` first",
        kind.title(),
        paths.credentials.display(),
        kind.name()
    ))
}

/// A stored webhook URL, checked. No message ever shows it: the URL is the secret.
pub fn webhook_url(secret: &Secret, kind: SinkKind) -> Result<Url> {
    let refused = |why: &str| {
        Error::reauth(format!(
            "the {} webhook URL {why}; copy it again and run `fitbit-notifier auth {}`",
            kind.title(),
            kind.name()
        ))
    };
    let url = Url::parse(secret.expose()).map_err(|_| refused("is not a URL"))?;
    if !http::is_private_in_transit(&url) {
        return Err(refused("does not start with https://"));
    }
    Ok(url)
}

/// Whether a URL found in a text starts with its protocol (`example.com` does not).
fn has_protocol(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A post that got no answer from a service that cannot tell a repeat from a new post is
/// [`Outcome::Unanswered`]; a post that never left is the usual temporary failure.
fn unanswered(err: SendError, kind: SinkKind) -> Result<Outcome> {
    match err.may_have_landed() {
        Some(detail) => Ok(Outcome::Unanswered(detail)),
        None => Err(err.into_error(kind.title())),
    }
}

/// What a webhook's error answer means for the user, with what to do. `gone` lists the
/// statuses that mean the webhook itself no longer works, `why_gone` says how that
/// happens, and `fix` how to get a new one.
fn webhook_failure(
    title: &str,
    reply: &Reply,
    detail: &str,
    gone: &[u16],
    why_gone: &str,
    fix: &str,
) -> Error {
    let status = reply.status;
    match status.as_u16() {
        code if gone.contains(&code) => Error::reauth(format!(
            "{title} refused the webhook ({status}: {detail}); {why_gone}: {fix}"
        )),
        400 => Error::other(format!(
            "{title} refused the message as invalid (400: {detail}); change the template or report it if it is a bug"
        )),
        _ => http::status_error(title, reply, detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_webhook_url_is_refused_without_showing_it() {
        for stored in [
            "hooks.slack.com/services/T/B/sekrit",
            "http://example.com/sekrit",
        ] {
            let err = webhook_url(&Secret::new(stored), SinkKind::Slack).unwrap_err();
            assert_eq!(err.kind(), crate::error::Kind::Reauth);
            assert!(err.to_string().contains("auth slack"), "{err}");
            assert!(!err.to_string().contains("sekrit"), "{err}");
        }
    }

    #[test]
    fn lost_answers_are_unanswered_and_unsent_requests_are_temporary() {
        assert!(matches!(
            unanswered(SendError::NoAnswer, SinkKind::Discord),
            Ok(Outcome::Unanswered(_))
        ));
        let err = unanswered(SendError::NotSent("refused".into()), SinkKind::Discord).unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::TryLater);
        assert!(err.to_string().starts_with("Discord"), "{err}");
    }
}

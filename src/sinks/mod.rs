//! Where the day's messages go. A sink is one destination (X, Mastodon, Bluesky, a
//! Discord or a Slack incoming webhook) with its own credentials, its own length rule
//! and its own reading of the service's answers, mapped to the exit kinds every command
//! uses: authorize again (77), try later (75), anything else (1). Every error a sink
//! returns names its service.
//!
//! Each sink is one file that implements [`Service`], and one row of [`sinks!`] below,
//! which makes it known to the config, the command line, the job, `tweet`, `doctor`,
//! `config` and `init`.

#[cfg(test)]
mod attach_tests;
mod outgoing;
pub mod post_length;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{Config, Paths};
use crate::context::Context;
use crate::day::MessageKind;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, SendError};
use crate::secret::Secret;
use crate::store::credentials::{self, Credentials};
use crate::store::{parse_table, parse_toml};

pub use bluesky::create_session;
pub use mastodon::instance_limits;
pub use outgoing::{Image, Outgoing};
use outgoing::{refuses_the_image, without_image};

/// Every sink: its variant of [`SinkKind`], then its module (a file in this directory)
/// and the type there that implements [`Service`]. A new sink is its file and its row.
macro_rules! sinks {
    ($($variant:ident => $module:ident::$service:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// A destination for the day's messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum SinkKind {
            $($variant),+
        }

        impl SinkKind {
            /// Every sink, in the order of their rows.
            pub const ALL: &[SinkKind] = &[$(SinkKind::$variant),+];

            /// Their names, in the same order.
            pub const NAMES: &[&str] = &[$(<$module::$service<'static> as Service<'static>>::NAME),+];

            /// The sink's name in `[sinks] enabled`, in the posted ledger and in `auth <name>`.
            pub fn name(self) -> &'static str {
                match self {
                    $(SinkKind::$variant => <$module::$service<'_> as Service<'_>>::NAME),+
                }
            }

            /// The service's own name, as messages to the user spell it.
            pub fn title(self) -> &'static str {
                match self {
                    $(SinkKind::$variant => <$module::$service<'_> as Service<'_>>::TITLE),+
                }
            }

            /// Where to get what `auth <name>` asks for, step by step (`init`).
            pub fn setup(self) -> &'static str {
                match self {
                    $(SinkKind::$variant => <$module::$service<'_> as Service<'_>>::SETUP),+
                }
            }

            /// Why the sink never carries an image, when it never does.
            pub fn no_images(self) -> Option<&'static str> {
                match self {
                    $(SinkKind::$variant => <$module::$service<'_> as Service<'_>>::NO_IMAGES),+
                }
            }

            /// What `init` asks before a test post that costs money.
            pub fn paid_test_post(self) -> Option<&'static str> {
                match self {
                    $(SinkKind::$variant => <$module::$service<'_> as Service<'_>>::PAID_TEST_POST),+
                }
            }

            /// Reads the sink's table in the credentials file's `text`, for its errors.
            fn check(self, path: &Path, text: &str) -> Result<()> {
                match self {
                    $(SinkKind::$variant => check::<$module::$service<'_>>(path, text)),+
                }
            }

            /// The address stored with the sink's credentials that a secret goes to.
            pub fn endpoint(self, credentials: &Credentials) -> Result<Option<(&'static str, Url)>> {
                match self {
                    $(SinkKind::$variant => endpoint::<$module::$service<'_>>(credentials)),+
                }
            }

            /// What is stored for the sink, without a secret; `None` when nothing is.
            pub fn describe(self, credentials: &Credentials) -> Result<Option<String>> {
                match self {
                    $(SinkKind::$variant => describe::<$module::$service<'_>>(credentials)),+
                }
            }
        }

        /// How a sink measures a text before anything is sent.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Rule {
            $($variant(<$module::$service<'static> as Service<'static>>::Rule)),+
        }

        impl Rule {
            /// The length of `text` by this rule ("180 of 280 weighted characters"), or why
            /// the sink would refuse it, with how much to cut.
            pub fn measure(&self, text: &str) -> Result<String, String> {
                match self {
                    $(Rule::$variant(rule) => <$module::$service<'_> as Service<'_>>::measure(rule, text)),+
                }
            }
        }

        /// The rule of `kind` for a sink that may lack credentials (a dry run). Mastodon's
        /// limit is the instance's own, asked for when the instance is known (else
        /// Mastodon's default), so this may make one request.
        pub async fn rule(
            kind: SinkKind,
            http: &reqwest::Client,
            config: &Config,
            credentials: &Credentials,
        ) -> Rule {
            match kind {
                $(SinkKind::$variant => Rule::$variant(rule_of::<$module::$service<'_>>(http, config, credentials).await)),+
            }
        }

        /// Checks a sink's stored credentials without posting, where the service offers a
        /// free way (`doctor`): `Ok(Some(detail))` checked and accepted, `Ok(None)` no free
        /// check exists, `Err` refused (77 when the credential is the problem) or unreachable.
        pub async fn verify(
            kind: SinkKind,
            http: &reqwest::Client,
            config: &Config,
            credentials: &Credentials,
        ) -> Result<Option<String>> {
            match kind {
                $(SinkKind::$variant => verify_with::<$module::$service<'_>>(http, config, credentials).await),+
            }
        }

        /// A sink with its credentials, ready to post.
        pub enum Sink<'a> {
            $($variant($module::$service<'a>)),+
        }

        impl<'a> Sink<'a> {
            /// `kind` with its stored credentials; `None` when none are stored.
            fn with_credentials(
                kind: SinkKind,
                http: &'a reqwest::Client,
                config: &'a Config,
                credentials: &Credentials,
            ) -> Result<Option<Self>> {
                Ok(match kind {
                    $(SinkKind::$variant => open(http, config, credentials)?.map(Sink::$variant)),+
                })
            }

            pub fn kind(&self) -> SinkKind {
                match self {
                    $(Sink::$variant(_) => SinkKind::$variant),+
                }
            }

            /// This sink's rule. Mastodon asks its instance on the first call only and
            /// keeps the limits for its uploads, so a run asks once, alongside the data.
            pub async fn rule(&self) -> Rule {
                match self {
                    $(Sink::$variant(sink) => Rule::$variant(sink.own_rule().await)),+
                }
            }

            /// Posts one message. The length is the caller's to check first, for every sink
            /// before the first post.
            pub async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
                match self {
                    $(Sink::$variant(sink) => sink.post(post).await),+
                }
            }
        }
    };
}

sinks! {
    X => x::XSink,
    Mastodon => mastodon::MastodonSink,
    Bluesky => bluesky::BlueskySink,
    Discord => discord::DiscordSink,
    Slack => slack::SlackSink,
}

/// Everything about one sink, in its own file.
pub(crate) trait Service<'a>: Sized {
    /// Its name in `[sinks] enabled`, `--sink`, the posted ledger and `auth <name>`, and
    /// its table in credentials.toml.
    const NAME: &'static str;
    /// The service's own name, as messages to the user spell it.
    const TITLE: &'static str;
    /// Where to get what `auth <name>` asks for, step by step, with links (`init`).
    const SETUP: &'static str;
    /// Why the sink never carries an image, when it never does.
    const NO_IMAGES: Option<&'static str> = None;
    /// What `init` asks before a test post that costs money; a free one is just offered.
    const PAID_TEST_POST: Option<&'static str> = None;

    /// Its table in credentials.toml.
    type Credentials: Serialize + DeserializeOwned;
    /// What its length rule needs to know beyond the text; the default is all a sink
    /// whose rule is fixed needs.
    type Rule: std::fmt::Debug + Default + Clone + Copy + PartialEq + Eq;

    fn new(http: &'a reqwest::Client, config: &'a Config, credentials: Self::Credentials) -> Self;

    /// Posts one message, with its image where the service takes it.
    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome>;

    /// The rule, from the credentials when there are any (Mastodon asks the instance).
    async fn rule(
        _http: &reqwest::Client,
        _config: &Config,
        _credentials: Option<&Self::Credentials>,
    ) -> Self::Rule {
        Self::Rule::default()
    }

    /// The rule of this sink, with its credentials (Mastodon's asked for once, then kept).
    async fn own_rule(&self) -> Self::Rule {
        Self::Rule::default()
    }

    /// The length of `text` by `rule`, or why the sink would refuse it.
    fn measure(rule: &Self::Rule, text: &str) -> Result<String, String>;

    /// See [`verify`]; a sink without a free check says so.
    async fn verify(
        _http: &reqwest::Client,
        _config: &Config,
        _credentials: &Self::Credentials,
    ) -> Result<Option<String>> {
        Ok(None)
    }

    /// An address stored with the credentials that a secret goes to, and what it is
    /// (`doctor` checks that it is https).
    fn endpoint(_credentials: &Self::Credentials) -> Option<(&'static str, Url)> {
        None
    }

    /// What is stored, without a secret (`config`).
    fn describe(credentials: &Self::Credentials) -> String;
}

/// The sink's table of `credentials`, typed.
fn stored_by<'a, S: Service<'a>>(credentials: &Credentials) -> Result<Option<S::Credentials>> {
    table(credentials, S::NAME)
}

/// The table of `kind` in `credentials` as `T` (its type in the sink's file).
pub fn stored<T: DeserializeOwned>(credentials: &Credentials, kind: SinkKind) -> Result<Option<T>> {
    table(credentials, kind.name())
}

/// The table `name` of `credentials` as `T`; the file was read with [`load_credentials`],
/// which locates any error in it.
fn table<T: DeserializeOwned>(credentials: &Credentials, name: &str) -> Result<Option<T>> {
    credentials
        .sinks
        .get(name)
        .map(|table| {
            table.clone().try_into().map_err(|_| {
                Error::config(format!(
                    "the [{name}] credentials do not read; run `fitbit-notifier config` to see where, \
                     or `fitbit-notifier auth {name}` to store them again"
                ))
            })
        })
        .transpose()
}

/// Stores `value` as the table of `kind` (`auth <name>`).
pub fn keep(credentials: &mut Credentials, kind: SinkKind, value: &impl Serialize) -> Result<()> {
    let table = toml::Table::try_from(value).map_err(|err| {
        Error::other(format!(
            "cannot store the {} credentials: {err}",
            kind.title()
        ))
    })?;
    credentials.sinks.set(kind.name(), table);
    Ok(())
}

/// The credentials file, every sink's table read by its sink: a table no sink owns, or
/// one its sink cannot read, is a configuration error located in the file, like an
/// error in the providers' tables.
pub fn load_credentials(paths: &Paths) -> Result<Credentials> {
    let Some(text) = credentials::store(paths).load_text()? else {
        return Ok(Credentials::default());
    };
    let path = &paths.credentials;
    let credentials: Credentials = parse_toml(path, &text)?;
    for name in credentials.sinks.names() {
        let kind = SinkKind::parse(name).ok_or_else(|| {
            Error::config(format!(
                "{}: unknown table [{name}], expected one of google, fitbit, {}; fix the file and run again",
                path.display(),
                SinkKind::NAMES.join(", ")
            ))
        })?;
        kind.check(path, &text)?;
    }
    Ok(credentials)
}

fn check<'a, S: Service<'a>>(path: &Path, text: &str) -> Result<()> {
    parse_table::<S::Credentials>(path, text, S::NAME).map(drop)
}

fn endpoint<'a, S: Service<'a>>(credentials: &Credentials) -> Result<Option<(&'static str, Url)>> {
    Ok(stored_by::<S>(credentials)?.as_ref().and_then(S::endpoint))
}

fn describe<'a, S: Service<'a>>(credentials: &Credentials) -> Result<Option<String>> {
    Ok(stored_by::<S>(credentials)?.as_ref().map(S::describe))
}

async fn rule_of<'a, S: Service<'a>>(
    http: &reqwest::Client,
    config: &Config,
    credentials: &Credentials,
) -> S::Rule {
    // unreadable credentials fail the run before any rule is asked for
    let stored = stored_by::<S>(credentials).ok().flatten();
    S::rule(http, config, stored.as_ref()).await
}

async fn verify_with<'a, S: Service<'a>>(
    http: &reqwest::Client,
    config: &Config,
    credentials: &Credentials,
) -> Result<Option<String>> {
    let stored = stored_by::<S>(credentials)?
        .ok_or_else(|| Error::config(format!("no {} credentials", S::TITLE)))?;
    S::verify(http, config, &stored).await
}

fn open<'a, S: Service<'a>>(
    http: &'a reqwest::Client,
    config: &'a Config,
    credentials: &Credentials,
) -> Result<Option<S>> {
    Ok(stored_by::<S>(credentials)?.map(|stored| S::new(http, config, stored)))
}

impl SinkKind {
    /// The sink `name` ([`SinkKind::name`]) names.
    pub fn parse(name: &str) -> Option<SinkKind> {
        SinkKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name)
    }
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
                Self::with_credentials(kind, http, config, credentials)?.ok_or_else(|| {
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
}

/// Read from a name in the config (`[sinks] enabled`, `[notify] sink`).
impl<'de> serde::Deserialize<'de> for SinkKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SinkKind::parse(&name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, SinkKind::NAMES))
    }
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

/// Posts a text of its own (`tweet --text --sink`, `init`'s test post) to the one sink
/// `kind`, after measuring it by that sink's rule.
pub async fn post_text(ctx: &Context, kind: SinkKind, text: &str) -> Result<Outcome> {
    let credentials = load_credentials(&ctx.paths)?;
    let sink = Sink::with_credentials(kind, &ctx.client, &ctx.config, &credentials)?
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

/// An incoming webhook (Discord, Slack): its URL is the whole credential, so it is a secret.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookCredentials {
    pub webhook_url: Secret,
}

impl WebhookCredentials {
    /// The webhook's address, for `doctor`'s check that it is https; it is never shown.
    fn endpoint(&self) -> Option<(&'static str, Url)> {
        Url::parse(self.webhook_url.expose())
            .ok()
            .map(|url| ("a webhook URL", url))
    }
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

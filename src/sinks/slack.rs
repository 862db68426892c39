//! A Slack incoming webhook: `POST <webhook URL>` with `{"text": …}`; success is 200
//! with the body `ok`, a refusal is a plain-text code such as `invalid_payload`. The URL
//! is the whole credential, so it is a secret: it is never logged or shown, not even in
//! a transport error. There is no idempotency key: a post whose answer was lost is not
//! sent again.

use serde::Serialize;

use super::{Outcome, Outgoing, unanswered, webhook_url};
use crate::config::{Config, SinkKind};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;

const TITLE: &str = "Slack";

/// Why Slack gets no image (its incoming-webhook docs describe JSON text and blocks only).
pub const NO_FILES: &str = "Slack incoming webhooks cannot upload files";

/// Slack truncates a message's text beyond this many characters; a summary is better
/// refused than cut.
const MAX_CHARACTERS: usize = 40_000;

const NEW_WEBHOOK: &str = "create a new incoming webhook (your Slack app's settings > Incoming Webhooks), \
                           copy its URL and run `fitbit-notifier auth slack`";

pub fn measure(text: &str) -> Result<String, String> {
    let length = text.chars().count();
    if length > MAX_CHARACTERS {
        let over = length - MAX_CHARACTERS;
        return Err(format!(
            "the message is {length} characters, {over} over the {MAX_CHARACTERS} Slack shows: \
             shorten it by {over}"
        ));
    }
    Ok(format!("{length} of {MAX_CHARACTERS} characters"))
}

/// Slack reads `&`, `<` and `>` as the start of entities, links and mentions
/// (`<!channel>`); escaped, the text shows as it was written.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Serialize)]
struct Message {
    text: String,
}

pub struct SlackSink<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    webhook: Secret,
}

impl<'a> SlackSink<'a> {
    pub fn new(http: &'a reqwest::Client, config: &'a Config, webhook: Secret) -> Self {
        SlackSink {
            http,
            config,
            webhook,
        }
    }

    pub async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let url = webhook_url(&self.webhook, SinkKind::Slack)?;
        if post.image.is_some() {
            // not a warning: this is how Slack always is, and it would repeat every week
            log::info!("{NO_FILES}; the {} message goes as text", post.kind.name());
        }
        let body = Message {
            text: escape(post.text),
        };
        log::info!("posting to the Slack webhook");
        let retry = Retry {
            secret_url: true,
            ..Retry::once_only(&self.config.http)
        };
        match http::send(|| self.http.post(url.clone()).json(&body), retry).await {
            Ok(reply) => {
                log::debug!("{TITLE} answered {}: {}", reply.status, reply.snippet());
                outcome(&reply)
            }
            Err(err) => unanswered(err, SinkKind::Slack),
        }
    }
}

/// A webhook tells neither an id nor a link.
fn outcome(reply: &Reply) -> Result<Outcome> {
    if reply.status.is_success() {
        Ok(Outcome::New {
            id: None,
            url: None,
        })
    } else {
        Err(failure(reply))
    }
}

/// What an error answer means for the user, with what to do.
fn failure(reply: &Reply) -> Error {
    // invalid_token, action_prohibited; channel_not_found, no_service; channel_is_archived
    super::webhook_failure(
        TITLE,
        reply,
        &reply.snippet(),
        &[403, 404, 410],
        "it was revoked, the app removed, or its channel archived or deleted",
        NEW_WEBHOOK,
    )
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::error::Kind;

    #[test]
    fn the_three_special_characters_are_escaped() {
        assert_eq!(
            escape("<3 & <!channel> > 0"),
            "&lt;3 &amp; &lt;!channel&gt; &gt; 0"
        );
        assert_eq!(escape("歩数: 9876"), "歩数: 9876");
    }

    #[test]
    fn texts_up_to_what_slack_shows_are_accepted() {
        assert!(measure(&"a".repeat(40_000)).is_ok());
        let err = measure(&"a".repeat(40_001)).unwrap_err();
        assert!(err.contains("shorten it by 1"), "{err}");
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn refusals_map_to_what_to_do() {
        assert_eq!(
            outcome(&reply(200, "ok")).unwrap(),
            Outcome::New {
                id: None,
                url: None
            }
        );
        for (status, body, kind, needle) in [
            (403, "invalid_token", Kind::Reauth, "auth slack"),
            (404, "no_service", Kind::Reauth, "no_service"),
            (
                410,
                "channel_is_archived",
                Kind::Reauth,
                "channel_is_archived",
            ),
            (400, "invalid_payload", Kind::Other, "invalid_payload"),
            (429, "rate_limited", Kind::TryLater, "rate limit"),
            (500, "rollup_error", Kind::TryLater, "server error"),
        ] {
            let err = outcome(&reply(status, body)).unwrap_err();
            assert_eq!(err.kind(), kind, "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().starts_with("Slack"), "{err}");
        }
    }
}

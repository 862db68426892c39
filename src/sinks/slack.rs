//! A Slack incoming webhook: `POST <webhook URL>` with `{"text": …}`; success is 200
//! with the body `ok`, a refusal is a plain-text code such as `invalid_payload`. The URL
//! is the whole credential, so it is a secret: it is never logged or shown, not even in
//! a transport error. There is no idempotency key: a post whose answer was lost is not
//! sent again.

use serde::Serialize;

use super::{Outcome, Outgoing, Service, SinkKind, WebhookCredentials, unanswered, webhook_url};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;

const TITLE: &str = "Slack";

/// Why Slack gets no image (its incoming-webhook docs describe JSON text and blocks only).
const NO_FILES: &str = "Slack incoming webhooks cannot upload files";

/// Slack truncates a message's text beyond this many characters; a summary is better
/// refused than cut.
const MAX_CHARACTERS: usize = 40_000;

const NEW_WEBHOOK: &str = "create a new incoming webhook (your Slack app's settings > Incoming Webhooks), \
                           copy its URL and run `fitbit-notifier auth slack`";

fn measure(text: &str) -> Result<String, String> {
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

impl<'a> Service<'a> for SlackSink<'a> {
    const NAME: &'static str = "slack";
    const TITLE: &'static str = TITLE;
    const SETUP: &'static str = "1. https://api.slack.com/apps > Create New App > From scratch, pick the\n   \
                                 workspace.\n\
                                 2. Incoming Webhooks > Activate Incoming Webhooks > Add New Webhook to\n   \
                                 Workspace, pick the channel, Allow, copy the URL.";
    const NO_IMAGES: Option<&'static str> = Some(NO_FILES);

    type Credentials = WebhookCredentials;
    type Rule = ();

    fn new(http: &'a reqwest::Client, config: &'a Config, credentials: WebhookCredentials) -> Self {
        SlackSink {
            http,
            config,
            webhook: credentials.webhook_url,
        }
    }

    fn measure((): &(), text: &str) -> Result<String, String> {
        measure(text)
    }

    fn endpoint(credentials: &WebhookCredentials) -> Option<(&'static str, url::Url)> {
        credentials.endpoint()
    }

    fn describe(_: &WebhookCredentials) -> String {
        "webhook stored".into()
    }

    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
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
            ..Retry::never_repeated(&self.config.http)
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

/// What an error answer means for the user, with what to do. Slack answers a webhook
/// with a bare code (changelog 2016-05-17, "Changes to errors for incoming webhooks":
/// 400 `invalid_payload`/`user_not_found`, 403 `action_prohibited`, 404
/// `channel_not_found`, 410 `channel_is_archived`, 500 `rollup_error`; a revoked
/// webhook's 403 `invalid_token` is quoted in gueils/whales#38). Only a webhook that
/// was revoked or whose app was removed needs a new one.
fn failure(reply: &Reply) -> Error {
    let code = reply.snippet();
    let status = reply.status;
    let meaning = match code.as_str() {
        "invalid_token" | "no_service" | "no_team" | "no_active_hooks" => {
            return Error::reauth(format!(
                "{TITLE} refused the webhook ({status}: {code}): it was revoked or its app removed; {NEW_WEBHOOK}"
            ));
        }
        "action_prohibited" => {
            "the workspace restricts posting with this webhook here; a workspace admin can lift the restriction"
        }
        "channel_not_found" => {
            "the webhook's channel was deleted or the app can no longer see it; check the channel in Slack"
        }
        "channel_is_archived" => {
            "the webhook's channel is archived; unarchive it in Slack and the webhook works again"
        }
        "user_not_found" => "the person the webhook posts to no longer exists in the workspace",
        "team_disabled" => "the Slack workspace is disabled",
        // a code this list does not know: its status says what it likely means
        _ => {
            return super::webhook_failure(
                TITLE,
                reply,
                &code,
                &[403, 404, 410],
                "it was probably revoked, or its channel removed",
                NEW_WEBHOOK,
            );
        }
    };
    // waiting will not change these, and a new webhook would not help
    Error::other(format!(
        "{TITLE} refused the message ({status}: {code}): {meaning}"
    ))
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
            (404, "no_service", Kind::Reauth, "revoked"),
            (400, "invalid_payload", Kind::Other, "invalid_payload"),
            (429, "rate_limited", Kind::TryLater, "rate limit"),
            (403, "something_new", Kind::Reauth, "probably revoked"),
        ] {
            let err = outcome(&reply(status, body)).unwrap_err();
            assert_eq!(err.kind(), kind, "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().starts_with("Slack"), "{err}");
        }
    }

    /// Every real answer (tests/fixtures/real/, sources in its SOURCES.md) maps to an
    /// outcome or an error without a panic; Slack's own say what each code means, and
    /// only a revoked webhook is told to make a new one.
    #[test]
    fn every_real_answer_maps_to_what_it_means() {
        for answer in crate::real_answers::all() {
            let result = outcome(&answer.reply());
            if let Err(err) = &result {
                assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            }
            let Some(file) = answer.name.strip_prefix("slack/") else {
                continue;
            };
            let (kind, needle, new_webhook) = match file {
                "200_ok.txt" => {
                    assert!(result.is_ok(), "{result:?}");
                    continue;
                }
                "403_invalid_token.txt" => (Kind::Reauth, "revoked", true),
                "403_action_prohibited.txt" => (Kind::Other, "workspace admin", false),
                "404_channel_not_found.txt" => (Kind::Other, "channel was deleted", false),
                "410_channel_is_archived.txt" => (Kind::Other, "unarchive it", false),
                "400_user_not_found.txt" => (Kind::Other, "no longer exists", false),
                "400_invalid_payload.txt" => (Kind::Other, "invalid", false),
                "500_rollup_error.txt" => (Kind::TryLater, "server error", false),
                other => panic!("slack/{other} has no expected meaning"),
            };
            let err = result.unwrap_err();
            assert_eq!(err.kind(), kind, "{file}: {err}");
            assert!(err.to_string().contains(needle), "{file}: {err}");
            assert_eq!(
                err.to_string().contains("create a new incoming webhook"),
                new_webhook,
                "{file}: {err}"
            );
        }
    }
}

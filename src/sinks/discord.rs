//! A Discord channel's incoming webhook: `POST <webhook URL>?wait=true` with the text
//! as `content`. The URL holds the webhook's token, so it is a secret: it is never
//! logged or shown, not even in a transport error.
//!
//! `wait=true` makes Discord answer with the message it saved (or an error) instead of
//! an empty 204. Mentions in the text are not resolved (`allowed_mentions`), so a
//! template can never ping `@everyone`. There is no idempotency key: a post whose answer
//! was lost is not sent again.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Outgoing, unanswered, webhook_url};
use crate::config::{Config, SinkKind};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;

const TITLE: &str = "Discord";

/// The most `content` may hold: "up to 2000 characters" (discord-api-docs, Execute
/// Webhook), refused beyond with 400 `BASE_TYPE_MAX_LENGTH` "Must be 2000 or fewer in
/// length." The docs name no unit; one client documents it in UTF-16 code units, which
/// are never fewer than characters, so counting them is safe either way.
const MAX_CHARACTERS: usize = 2000;

const NEW_WEBHOOK: &str = "create a new webhook in the channel's settings (Integrations > Webhooks), \
                           copy its URL and run `fitbit-notifier auth discord`";

/// Characters as UTF-16 code units: an emoji outside the Basic Multilingual Plane
/// counts twice, so an emoji-heavy message is refused here, before any sink posts,
/// rather than by Discord after the others went out.
pub fn measure(text: &str) -> Result<String, String> {
    let length = text.encode_utf16().count();
    if length > MAX_CHARACTERS {
        let over = length - MAX_CHARACTERS;
        return Err(format!(
            "the message is {length} characters in UTF-16 code units (an emoji counts 2), {over} over \
             Discord's limit of {MAX_CHARACTERS}: \
             shorten it by {over}"
        ));
    }
    Ok(format!("{length} of {MAX_CHARACTERS} characters"))
}

#[derive(Serialize)]
struct Execute<'a> {
    content: &'a str,
    allowed_mentions: serde_json::Value,
}

pub struct DiscordSink<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    webhook: Secret,
}

impl<'a> DiscordSink<'a> {
    pub fn new(http: &'a reqwest::Client, config: &'a Config, webhook: Secret) -> Self {
        DiscordSink {
            http,
            config,
            webhook,
        }
    }

    pub async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let mut url = webhook_url(&self.webhook, SinkKind::Discord)?;
        url.query_pairs_mut().append_pair("wait", "true");
        let body = Execute {
            content: post.text,
            allowed_mentions: json!({ "parse": [] }),
        };
        log::info!("posting to the Discord webhook");
        let retry = Retry {
            secret_url: true,
            ..Retry::never_repeated(&self.config.http)
        };
        match http::send(|| self.http.post(url.clone()).json(&body), retry).await {
            Ok(reply) => {
                log::debug!("{TITLE} answered {}", reply.status);
                outcome(&reply)
            }
            Err(err) => unanswered(err, SinkKind::Discord),
        }
    }
}

fn outcome(reply: &Reply) -> Result<Outcome> {
    #[derive(Deserialize)]
    struct Message {
        id: String,
    }
    if !reply.status.is_success() {
        return Err(failure(reply));
    }
    // with wait=true the answer is the message; a 204 (a proxy dropping the query) has none
    let id = serde_json::from_slice::<Message>(&reply.body)
        .ok()
        .map(|message| message.id);
    Ok(Outcome::New { id, url: None })
}

/// What an error answer means for the user, with what to do.
fn failure(reply: &Reply) -> Error {
    #[derive(Deserialize)]
    struct Problem {
        message: String,
        code: Option<u64>,
    }
    let detail = match serde_json::from_slice::<Problem>(&reply.body) {
        Ok(Problem {
            message,
            code: Some(code),
        }) => format!("{message}, code {code}"),
        Ok(Problem { message, .. }) => message,
        Err(_) => reply.snippet(),
    };
    super::webhook_failure(
        TITLE,
        reply,
        &detail,
        &[401, 404],
        "it was deleted or its URL is wrong",
        NEW_WEBHOOK,
    )
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::error::Kind;

    #[test]
    fn content_holds_2000_utf16_code_units() {
        assert_eq!(
            measure(&"歩".repeat(2000)).unwrap(),
            "2000 of 2000 characters"
        );
        let err = measure(&"a".repeat(2001)).unwrap_err();
        assert!(err.contains("shorten it by 1"), "{err}");
        // 1001 emoji are 1001 characters but 2002 UTF-16 code units
        let err = measure(&"🏃".repeat(1001)).unwrap_err();
        assert!(
            err.contains("2002 characters") && err.contains("by 2"),
            "{err}"
        );
        assert!(measure(&"🏃".repeat(1000)).is_ok());
    }

    /// Discord's answer to an over-long `content` (tests/fixtures/real/discord, the docs'
    /// error shape with the message clients quote) is a refusal of the message, and
    /// every other real answer of any service maps without a panic.
    #[test]
    fn every_real_answer_maps_to_what_to_do() {
        for answer in crate::real_answers::all() {
            let result = outcome(&answer.reply());
            if let Err(err) = &result {
                assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            }
            if answer.is("discord/message.json") {
                assert!(
                    matches!(result, Ok(Outcome::New { id: Some(_), .. })),
                    "{result:?}"
                );
            } else if answer.name.starts_with("discord/400_") {
                let err = result.unwrap_err();
                assert_eq!(err.kind(), Kind::Other, "{err}");
                assert!(
                    err.to_string().contains("Invalid Form Body, code 50035"),
                    "{err}"
                );
            }
        }
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn a_saved_message_yields_its_id() {
        let answer = r#"{"id":"1234567890123456789","channel_id":"42","content":"hi","type":0}"#;
        assert_eq!(
            outcome(&reply(200, answer)).unwrap(),
            Outcome::New {
                id: Some("1234567890123456789".into()),
                url: None
            }
        );
        assert_eq!(
            outcome(&reply(204, "")).unwrap(),
            Outcome::New {
                id: None,
                url: None
            }
        );
    }

    #[test]
    fn refusals_map_to_what_to_do() {
        for (status, body, kind, needle) in [
            (
                401,
                r#"{"message": "Invalid Webhook Token", "code": 50027}"#,
                Kind::Reauth,
                "Invalid Webhook Token, code 50027",
            ),
            (
                404,
                r#"{"message": "Unknown Webhook", "code": 10015}"#,
                Kind::Reauth,
                "auth discord",
            ),
            (
                400,
                r#"{"message": "Invalid Form Body", "code": 50035, "errors": {}}"#,
                Kind::Other,
                "Invalid Form Body",
            ),
            (
                429,
                r#"{"message": "You are being rate limited.", "retry_after": 64.57, "global": false}"#,
                Kind::TryLater,
                "rate limit",
            ),
            (
                502,
                "<html>Bad Gateway</html>",
                Kind::TryLater,
                "server error",
            ),
        ] {
            let err = outcome(&reply(status, body)).unwrap_err();
            assert_eq!(err.kind(), kind, "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().starts_with("Discord"), "{err}");
        }
    }
}

//! A Discord channel's incoming webhook: `POST <webhook URL>?wait=true` with the text
//! as `content`. The URL holds the webhook's token, so it is a secret: it is never
//! logged or shown, not even in a transport error.
//!
//! `wait=true` makes Discord answer with the message it saved (or an error) instead of
//! an empty 204. Mentions in the text are not resolved (`allowed_mentions`), so a
//! template can never ping `@everyone`. There is no idempotency key: a post whose answer
//! was lost is not sent again.
//!
//! An image goes in the same request: multipart with the message as `payload_json` and the
//! PNG as `files[0]`, its alt text as the attachment's `description` (discord-api-docs
//! reference.mdx "Uploading Files"). When Discord refuses that request for its size or
//! form, nothing was posted, so the text is sent alone.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Image, Outcome, Outgoing, Service, SinkKind, WebhookCredentials, refuses_the_image, unanswered,
    webhook_url, without_image,
};
use crate::config::Config;
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
fn measure(text: &str) -> Result<String, String> {
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

/// An attachment's `description` (its alt text) holds at most this many characters
/// (discord-api-docs resources/message.mdx, attachment object).
const MAX_DESCRIPTION: usize = 1024;

#[derive(Serialize)]
struct Execute<'a> {
    content: &'a str,
    allowed_mentions: serde_json::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    /// The index of the `files[n]` part.
    id: u32,
    description: &'a str,
    filename: &'a str,
}

pub struct DiscordSink<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    webhook: Secret,
}

impl<'a> Service<'a> for DiscordSink<'a> {
    const NAME: &'static str = "discord";
    const TITLE: &'static str = TITLE;
    const SETUP: &'static str = "1. You need the Manage Webhooks permission on the channel.\n\
                                 2. Channel settings > Integrations > Webhooks > New Webhook > Copy Webhook URL.\n   \
                                 https://support.discord.com/hc/en-us/articles/228383668";

    type Credentials = WebhookCredentials;
    type Rule = ();

    fn new(http: &'a reqwest::Client, config: &'a Config, credentials: WebhookCredentials) -> Self {
        DiscordSink {
            http,
            config,
            webhook: credentials.webhook_url,
        }
    }

    fn measure((): &(), text: &str) -> Result<String, String> {
        measure(text)
    }

    /// A webhook's GET answers with the webhook, free.
    async fn verify(
        client: &reqwest::Client,
        config: &Config,
        stored: &WebhookCredentials,
    ) -> Result<Option<String>> {
        let url = webhook_url(&stored.webhook_url, SinkKind::Discord)?;
        let retry = Retry {
            // the URL holds the webhook's token
            secret_url: true,
            ..Retry::idempotent(&config.http)
        };
        let reply = http::send(|| client.get(url.clone()), retry)
            .await
            .map_err(|err| err.into_error(TITLE))?;
        match reply.status.as_u16() {
            200 => Ok(Some("the webhook exists".into())),
            401 | 404 => Err(Error::reauth(
                "Discord does not know the webhook (it was deleted or its URL is wrong): \
                 create a new one in the channel's settings (Integrations > Webhooks) and \
                 run `fitbit-notifier auth discord`",
            )),
            _ => Err(http::status_error(TITLE, &reply, "")),
        }
    }

    fn endpoint(credentials: &WebhookCredentials) -> Option<(&'static str, url::Url)> {
        credentials.endpoint()
    }

    fn describe(_: &WebhookCredentials) -> String {
        "webhook stored".into()
    }

    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let mut url = webhook_url(&self.webhook, SinkKind::Discord)?;
        url.query_pairs_mut().append_pair("wait", "true");
        let retry = Retry {
            secret_url: true,
            ..Retry::never_repeated(&self.config.http)
        };
        if let Some(image) = post.image {
            let alt = image.alt().chars().count();
            if alt > MAX_DESCRIPTION {
                without_image(
                    TITLE,
                    post,
                    &format!(
                        "its description is {alt} characters, Discord takes {MAX_DESCRIPTION}"
                    ),
                );
            } else {
                log::info!(
                    "posting to the Discord webhook with {} bytes of PNG",
                    image.bytes().len()
                );
                let body = execute(post.text, image);
                let form = || {
                    reqwest::multipart::Form::new()
                        .text(
                            "payload_json",
                            serde_json::to_string(&body).expect("a message serializes"),
                        )
                        .part("files[0]", image.part())
                };
                let reply =
                    match http::send(|| self.http.post(url.clone()).multipart(form()), retry).await
                    {
                        Ok(reply) => reply,
                        Err(err) => return unanswered(err, SinkKind::Discord),
                    };
                log::debug!("{TITLE} answered {}", reply.status);
                // a webhook that is gone fails the text as well
                if !refuses_the_image(reply.status) || reply.status.as_u16() == 404 {
                    return outcome(&reply);
                }
                // a refused request posted nothing: the text alone is no repeat
                without_image(
                    TITLE,
                    post,
                    &format!("{}: {}", reply.status.as_u16(), detail(&reply)),
                );
            }
        }
        let body = execute_text(post.text);
        log::info!("posting to the Discord webhook");
        match http::send(|| self.http.post(url.clone()).json(&body), retry).await {
            Ok(reply) => {
                log::debug!("{TITLE} answered {}", reply.status);
                outcome(&reply)
            }
            Err(err) => unanswered(err, SinkKind::Discord),
        }
    }
}

fn execute_text(content: &str) -> Execute<'_> {
    Execute {
        content,
        allowed_mentions: json!({ "parse": [] }),
        attachments: Vec::new(),
    }
}

/// The message for `payload_json`, its attachment 0 being `files[0]`.
fn execute<'a>(content: &'a str, image: &'a Image) -> Execute<'a> {
    Execute {
        attachments: vec![Attachment {
            id: 0,
            description: image.alt(),
            filename: Image::FILE_NAME,
        }],
        ..execute_text(content)
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

/// What an error answer says: "Invalid Form Body, code 50035".
fn detail(reply: &Reply) -> String {
    #[derive(Deserialize)]
    struct Problem {
        message: String,
        code: Option<u64>,
    }
    match serde_json::from_slice::<Problem>(&reply.body) {
        Ok(Problem {
            message,
            code: Some(code),
        }) => format!("{message}, code {code}"),
        Ok(Problem { message, .. }) => message,
        Err(_) => reply.snippet(),
    }
}

/// What an error answer means for the user, with what to do.
fn failure(reply: &Reply) -> Error {
    super::webhook_failure(
        TITLE,
        reply,
        &detail(reply),
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

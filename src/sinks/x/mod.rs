//! X as a sink: the client of [`client`] with the stored keys. X counts a text by
//! twitter-text's weighted length and refuses a text the account already posted, which
//! is how a re-run recognizes a post that landed without an answer.

mod client;
mod errors;
mod media;
mod pin;
mod sign;

pub use client::{Client, PostOutcome};
pub use pin::{AppKeys, UserToken};

use serde::{Deserialize, Serialize};

use super::{Outcome, Outgoing, Service};
use crate::config::Config;
use crate::error::Result;
use crate::secret::Secret;
use crate::sinks::post_length;

/// OAuth 1.0a user-context credentials for `POST /2/tweets`; they do not expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XCredentials {
    pub api_key: Secret,
    pub api_secret: Secret,
    pub access_token: Secret,
    pub access_token_secret: Secret,
}

pub struct XSink<'a> {
    client: Client<'a>,
    keys: XCredentials,
}

impl<'a> Service<'a> for XSink<'a> {
    const NAME: &'static str = "x";
    const TITLE: &'static str = client::SERVICE;
    const SETUP: &'static str = "1. https://console.x.com: accept the Developer Agreement, describe the use\n   \
                                 case, create an app. The API Key and Secret are shown once, now; later\n   \
                                 only Regenerate, which invalidates the old ones.\n\
                                 2. In the app's settings set the permissions to Read and write FIRST, then\n   \
                                 generate the Access Token and Secret. A token made while the app was\n   \
                                 Read-only cannot post: after a change, generate a new token.\n\
                                 3. Buy credits: a post costs $0.015 ($0.20 with a link, so posts carry\n   \
                                 none). https://docs.x.com/x-api/getting-started/pricing";
    // GET /2/users/me would check the keys, but X bills it as a user read
    const PAID_TEST_POST: Option<&'static str> = Some(
        "X has no free way to check the keys. Send a real test post now ($0.015)?\n\
         (No: the first daily run checks them.)",
    );

    type Credentials = XCredentials;
    type Rule = ();

    fn new(http: &'a reqwest::Client, config: &'a Config, keys: XCredentials) -> Self {
        XSink {
            client: Client::new(http, config),
            keys,
        }
    }

    fn measure((): &(), text: &str) -> Result<String, String> {
        measure(text)
    }

    fn describe(_: &XCredentials) -> String {
        "keys stored".into()
    }

    /// Uploads the image first, when there is one: an upload whose post then fails is not
    /// a post (the next run uploads again; X lets the unused media expire).
    async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
        let media = match post.image {
            Some(image) => self.client.upload_image(&self.keys, post, image).await?,
            None => None,
        };
        Ok(
            match self
                .client
                .post(&self.keys, post.text, media.as_ref())
                .await?
            {
                PostOutcome::New(id) => Outcome::New {
                    url: Some(id.url()),
                    id: Some(id.to_string()),
                },
                PostOutcome::AlreadyPosted => Outcome::AlreadyPosted,
            },
        )
    }
}

fn measure(text: &str) -> Result<String, String> {
    post_length::check(text)
        .map(|length| {
            format!(
                "{length} of {} weighted characters",
                post_length::MAX_WEIGHTED_LENGTH
            )
        })
        .map_err(|err| err.to_string())
}

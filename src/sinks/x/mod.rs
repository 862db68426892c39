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

use super::{Outcome, Outgoing};
use crate::config::Config;
use crate::error::Result;
use crate::sinks::post_length;
use crate::store::credentials::XCredentials;

pub struct XSink<'a> {
    client: Client<'a>,
    keys: XCredentials,
}

impl<'a> XSink<'a> {
    pub fn new(http: &'a reqwest::Client, config: &'a Config, keys: XCredentials) -> Self {
        XSink {
            client: Client::new(http, config),
            keys,
        }
    }

    /// Uploads the image first, when there is one: an upload whose post then fails is not
    /// a post (the next run uploads again; X lets the unused media expire).
    pub async fn post(&self, post: &Outgoing<'_>) -> Result<Outcome> {
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

pub fn measure(text: &str) -> Result<String, String> {
    post_length::check(text)
        .map(|length| {
            format!(
                "{length} of {} weighted characters",
                post_length::MAX_WEIGHTED_LENGTH
            )
        })
        .map_err(|err| err.to_string())
}

//! An image on X: `POST /2/media/upload` (multipart `media` and `media_category`), then
//! its alt text through `POST /2/media/metadata`, and only then the post that names it.
//! An image whose alt text X did not take is not attached.
//!
//! Uploads and metadata are safe to send again: a second upload is another unreferenced
//! media id, which X lets expire (`expires_after_secs`), and the metadata is the same.

use reqwest::StatusCode;
use serde::Deserialize;

use super::client::{Client, SERVICE};
use super::errors::{Problem, failure};
use super::sign::*;
use crate::error::Result;
use crate::net::http::{self, Reply, Retry};
use crate::sinks::{Image, Outgoing, refuses_the_image, without_image};
use super::XCredentials;

/// `metadata.alt_text.text`: "Max length: 1000 characters" (POST /2/media/metadata,
/// docs.x.com/x-api/media/create-media-metadata).
pub(super) const ALT_TEXT_MAX: usize = 1000;

/// The keys X gave an uploaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaId(pub(super) String);

const UNAUTHORIZED_UPLOAD: &str = "X refused the keys for the image upload (401 Unauthorized): the API key and secret or the \
     access token and secret are wrong or were regenerated, or this computer's clock is off; run `fitbit-notifier auth x` \
     with the current values";

impl Client<'_> {
    /// Uploads the image of `post` and sets its alt text. `Ok(None)` when X refused the image
    /// itself (said with a warning: the text goes alone); an error when X cannot take
    /// anything now or refuses the keys, which would fail the post too.
    pub async fn upload_image(
        &self,
        creds: &XCredentials,
        post: &Outgoing<'_>,
        image: &Image,
    ) -> Result<Option<MediaId>> {
        let alt = image.alt().chars().count();
        if alt > ALT_TEXT_MAX {
            without_image(
                SERVICE,
                post,
                &format!("its description is {alt} characters, X takes {ALT_TEXT_MAX}"),
            );
            return Ok(None);
        }
        let url = self.endpoint("2/media/upload")?;
        log::info!("uploading {} bytes of PNG to {url}", image.bytes().len());
        let reply = http::send(
            || upload_request(self.http, user_secrets(creds), fresh_params(), &url, image),
            self.retry(Retry::idempotent),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        log::debug!("X answered {} to the upload", reply.status);
        let Some(id) = uploaded(&reply, post)? else {
            return Ok(None);
        };
        let url = self.endpoint("2/media/metadata")?;
        let reply = http::send(
            || {
                metadata_request(
                    self.http,
                    user_secrets(creds),
                    fresh_params(),
                    &url,
                    &id.0,
                    image.alt(),
                )
            },
            self.retry(Retry::idempotent),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        log::debug!("X answered {} to the alt text", reply.status);
        if reply.status.is_success() {
            return Ok(Some(id));
        }
        refused(&reply, post, "its alt text").map(|()| None)
    }
}

/// The media id of a successful upload; `None` when X refused the image.
fn uploaded(reply: &Reply, post: &Outgoing<'_>) -> Result<Option<MediaId>> {
    #[derive(Deserialize)]
    struct Uploaded {
        data: Media,
    }
    #[derive(Deserialize)]
    struct Media {
        id: String,
        processing_info: Option<Processing>,
    }
    #[derive(Deserialize)]
    struct Processing {
        state: String,
    }
    if !reply.status.is_success() {
        return refused(reply, post, "the image").map(|()| None);
    }
    let Ok(Uploaded { data }) = serde_json::from_slice::<Uploaded>(&reply.body) else {
        without_image(
            SERVICE,
            post,
            &format!("the upload's answer has no media id: {}", reply.snippet()),
        );
        return Ok(None);
    };
    // an image is ready when uploaded (X processes only video and GIFs); one X says it
    // could not process is not attached
    if let Some(processing) = data.processing_info
        && processing.state == "failed"
    {
        without_image(SERVICE, post, "X could not process it");
        return Ok(None);
    }
    Ok(Some(MediaId(data.id)))
}

/// For an error answer about `what`: a refusal of the image is `Ok` (said with a
/// warning), anything that would fail the post as well is the error.
fn refused(reply: &Reply, post: &Outgoing<'_>, what: &str) -> Result<()> {
    let problem = Problem::parse(&reply.body);
    let fails_the_post_too = matches!(reply.status, StatusCode::PAYMENT_REQUIRED)
        || problem.has_type("oauth1-permissions")
        || problem.has_type("client-forbidden");
    if !refuses_the_image(reply.status) || fails_the_post_too {
        return Err(failure(reply, &problem, UNAUTHORIZED_UPLOAD));
    }
    let detail = problem.summary().unwrap_or_else(|| reply.snippet());
    without_image(
        SERVICE,
        post,
        &format!("X refused {what}: {} {detail}", reply.status.as_u16()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::MessageKind;
    use crate::error::Kind;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    fn post() -> Outgoing<'static> {
        Outgoing {
            date: "2026-11-29".parse().unwrap(),
            kind: MessageKind::Activity,
            text: "week",
            image: None,
        }
    }

    #[test]
    fn an_upload_yields_its_id_or_is_refused_or_fails() {
        // XD x-api/media/quickstart/media-upload-chunked.mdx (tests/fixtures/real/x)
        let answer = include_str!("../../../tests/fixtures/real/x/media_upload_init_200.json");
        assert_eq!(
            uploaded(&reply(200, answer), &post()).unwrap(),
            Some(MediaId("1880028106020515840".into()))
        );
        let failed =
            r#"{"data":{"id":"1","media_key":"3_1","processing_info":{"state":"failed"}}}"#;
        assert_eq!(uploaded(&reply(200, failed), &post()).unwrap(), None);
        for (status, body) in [
            (
                400,
                r#"{"title":"Invalid Request","detail":"media type unsupported"}"#,
            ),
            (413, "Request Entity Too Large"),
            (
                403,
                r#"{"title":"Forbidden","detail":"not permitted","type":"about:blank"}"#,
            ),
        ] {
            assert_eq!(
                uploaded(&reply(status, body), &post()).unwrap(),
                None,
                "{status}"
            );
        }
        for (status, body, kind) in [
            (401, "{}", Kind::Reauth),
            (402, r#"{"title":"CreditsDepleted"}"#, Kind::Other),
            (429, "{}", Kind::TryLater),
            (503, "{}", Kind::TryLater),
            (
                403,
                r#"{"type":"https://api.twitter.com/2/problems/oauth1-permissions"}"#,
                Kind::Reauth,
            ),
        ] {
            let err = uploaded(&reply(status, body), &post()).unwrap_err();
            assert_eq!(err.kind(), kind, "{status}: {err}");
        }
    }
}

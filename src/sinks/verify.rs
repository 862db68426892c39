//! Checking a sink's stored credentials without posting, where the service offers a
//! free way (`doctor`): Mastodon's `verify_credentials`, a Bluesky session, a Discord
//! webhook's GET. X bills every read and a Slack webhook has no read, so those two are
//! not checked and say so.

use super::{bluesky, mastodon};
use crate::config::{Config, SinkKind};
use crate::error::{Error, Result};
use crate::net::http::{self, Retry};
use crate::store::credentials::Credentials;

/// What the check found: `Ok(Some(detail))` checked and accepted, `Ok(None)` no free
/// check exists, `Err` refused (77 when the credential is the problem) or unreachable.
pub async fn verify(
    kind: SinkKind,
    client: &reqwest::Client,
    config: &Config,
    credentials: &Credentials,
) -> Result<Option<String>> {
    let missing = || Error::config(format!("no {} credentials", kind.title()));
    match kind {
        // GET /2/users/me would tell, but X bills it as a user read
        SinkKind::X | SinkKind::Slack => Ok(None),
        SinkKind::Mastodon => {
            let stored = credentials.mastodon.as_ref().ok_or_else(missing)?;
            let url = mastodon::instance_endpoint(
                &stored.instance,
                "api/v1/accounts/verify_credentials",
            )?;
            let reply = http::send(
                || {
                    client
                        .get(url.clone())
                        .bearer_auth(stored.access_token.expose())
                },
                Retry::idempotent(&config.http),
            )
            .await
            .map_err(|err| err.into_error("Mastodon"))?;
            // Doorkeeper checks the token before its scopes: 403 is a valid token that
            // (rightly) has only write:statuses
            match reply.status.as_u16() {
                200 | 403 => Ok(Some("the instance accepts the token".into())),
                401 => Err(Error::reauth(
                    "Mastodon refused the access token (401): it was revoked or mistyped; \
                     create a new one and run `fitbit-notifier auth mastodon`",
                )),
                _ => Err(http::status_error("Mastodon", &reply, &reply.snippet())),
            }
        }
        SinkKind::Bluesky => {
            let stored = credentials.bluesky.as_ref().ok_or_else(missing)?;
            let session = bluesky::create_session(client, config, stored).await?;
            Ok(Some(format!("signed in as @{}", session.handle)))
        }
        SinkKind::Discord => {
            let stored = credentials.discord.as_ref().ok_or_else(missing)?;
            let url = super::webhook_url(&stored.webhook_url, SinkKind::Discord)?;
            let retry = Retry {
                // the URL holds the webhook's token
                secret_url: true,
                ..Retry::idempotent(&config.http)
            };
            let reply = http::send(|| client.get(url.clone()), retry)
                .await
                .map_err(|err| err.into_error("Discord"))?;
            match reply.status.as_u16() {
                200 => Ok(Some("the webhook exists".into())),
                401 | 404 => Err(Error::reauth(
                    "Discord does not know the webhook (it was deleted or its URL is wrong): \
                     create a new one in the channel's settings (Integrations > Webhooks) and \
                     run `fitbit-notifier auth discord`",
                )),
                _ => Err(http::status_error("Discord", &reply, "")),
            }
        }
    }
}

//! The refresh protocol: a provider's stored authorization, refreshed when needed under
//! the credentials lock, so that concurrent processes never spend a single-use refresh
//! token twice and never lose a new one.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;

use super::Service;
use super::token::{GrantError, TokenClient, Tokens};
use crate::config::HttpConfig;
use crate::error::{Error, Result};
use crate::net::http::Reply;
use crate::secret::Secret;

/// An access token that expires sooner than this is refreshed before use, so that it
/// cannot expire halfway through a run.
pub const REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);
use crate::store::credentials::{CredentialStore, OAuthCredentials};

/// What a caller needs from the stored authorization.
#[derive(Clone, Copy)]
enum Need<'a> {
    /// An access token valid beyond [`REFRESH_MARGIN`].
    Valid,
    /// A valid access token other than this one, which the API has just rejected.
    Replacing(&'a Secret),
    /// A newly refreshed token, whatever the stored one's expiry.
    Fresh,
}

impl Need<'_> {
    fn met_by(self, stored: &OAuthCredentials, now: DateTime<Utc>) -> bool {
        let valid = stored.expires_at > now + REFRESH_MARGIN;
        match self {
            Need::Valid => valid,
            Need::Replacing(rejected) => valid && stored.access_token != *rejected,
            Need::Fresh => false,
        }
    }
}

/// A provider's stored authorization, refreshed when needed, safely across processes.
///
/// Every refresh happens under the credentials lock after re-reading the file, proves
/// the directory writable before it spends the refresh token, and persists the new
/// tokens before anyone uses them. Nothing here ever deletes credentials.
pub struct Authorization {
    service: Service,
    store: CredentialStore,
    http: reqwest::Client,
    http_config: HttpConfig,
    /// Serializes refreshes within this process: the first task whose token is
    /// rejected refreshes, the others then find the new token already stored.
    serial: tokio::sync::Mutex<()>,
}

impl Authorization {
    pub fn new(
        service: Service,
        store: CredentialStore,
        http: reqwest::Client,
        http_config: HttpConfig,
    ) -> Self {
        Authorization {
            service,
            store,
            http,
            http_config,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// The stored authorization with an access token valid beyond [`REFRESH_MARGIN`],
    /// refreshed first when it is not.
    pub async fn current(&self) -> Result<OAuthCredentials> {
        self.obtain(Need::Valid).await
    }

    /// After the API rejected `rejected` (401): a token another task or process has
    /// stored since, or else a refreshed one.
    pub async fn replace_rejected(&self, rejected: &Secret) -> Result<OAuthCredentials> {
        self.obtain(Need::Replacing(rejected)).await
    }

    /// Refreshes now, whatever the stored token's expiry.
    pub async fn refresh_now(&self) -> Result<OAuthCredentials> {
        self.obtain(Need::Fresh).await
    }

    /// Sends with `token` and, when the API rejects it (401), once more with its
    /// replacement (shared with every concurrent request that saw the same token
    /// rejected). The second answer is returned as it is: a second 401 means the
    /// authorization itself is refused, which the caller words for its API.
    pub async fn send_authorized(
        &self,
        token: &Secret,
        send: impl AsyncFn(&Secret) -> Result<Reply>,
    ) -> Result<Reply> {
        let first = send(token).await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        log::info!(
            "{} rejected the access token; refreshing it once",
            self.service.name
        );
        let fresh = self.replace_rejected(token).await?;
        send(&fresh.access_token).await
    }

    async fn obtain(&self, need: Need<'_>) -> Result<OAuthCredentials> {
        let _in_process = self.serial.lock().await;
        let locked = self.store.lock_async().await?;
        let mut creds = locked.read()?;
        let stored = (self.service.slot)(&mut creds)
            .clone()
            .ok_or_else(|| self.service.not_authorized(&self.store))?;
        if need.met_by(&stored, Utc::now()) {
            return Ok(stored);
        }
        // the new tokens must be savable before the old refresh token is spent
        locked.reserve()?;
        let (mut creds, base, tokens) = match self.refresh(&stored).await {
            Ok(tokens) => (creds, stored, tokens),
            Err(GrantError::Rejected(rejection)) if rejection.is_dead_grant() => {
                // a process that ignores the lock may have rotated the token meanwhile:
                // only the newest stored token decides whether the chain is dead
                let mut newest = locked.read()?;
                match (self.service.slot)(&mut newest).clone() {
                    Some(newer) if newer.refresh_token != stored.refresh_token => {
                        if need.met_by(&newer, Utc::now()) {
                            return Ok(newer);
                        }
                        let tokens = self
                            .refresh(&newer)
                            .await
                            .map_err(|err| self.grant_error(err, &newer))?;
                        (newest, newer, tokens)
                    }
                    _ => return Err(self.grant_error(GrantError::Rejected(rejection), &stored)),
                }
            }
            Err(err) => return Err(self.grant_error(err, &stored)),
        };
        let updated = tokens.refreshed(&base);
        *(self.service.slot)(&mut creds) = Some(updated.clone());
        locked.write(&creds)?;
        log::info!(
            "{} access token refreshed; valid until {}",
            self.service.name,
            updated.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Ok(updated)
    }

    async fn refresh(&self, stored: &OAuthCredentials) -> Result<Tokens, GrantError> {
        TokenClient {
            service: &self.service,
            http: &self.http,
            http_config: &self.http_config,
            client_id: &stored.client_id,
            client_secret: &stored.client_secret,
        }
        .refresh(&stored.refresh_token)
        .await
    }

    fn grant_error(&self, err: GrantError, stored: &OAuthCredentials) -> Error {
        let hint = (self.service.invalid_grant_hint)(stored, Utc::now());
        err.into_error(&self.service, hint)
    }
}

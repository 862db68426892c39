//! OAuth 2.0 for an installed app (RFC 6749, PKCE RFC 7636, loopback redirect RFC 8252),
//! shared by every OAuth 2.0 provider: PKCE and `state`, the authorize URL, receiving the
//! code (a one-shot loopback listener, or a pasted URL on a headless machine), the code
//! and refresh grants, and the refresh protocol that keeps the credentials file
//! consistent across concurrent processes. Everything provider-specific comes in as a
//! [`Service`] or as parameters.

mod authorization;
mod authorize;
mod redirect;
mod token;

pub use authorization::Authorization;
pub use authorize::{AuthorizeRequest, Pkce, Scope, is_granted, random_state, unticked};
pub use redirect::{Loopback, callback_timeout, code_from_pasted, paste_redirect_uri};
pub use token::{ErrorList, TokenClient};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use url::Url;

use crate::error::Error;
use crate::net::http::{self, Reply};
use crate::store::credentials::{CredentialStore, Credentials, OAuthCredentials};

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields (Google).
    InBody,
    /// `Authorization: Basic base64(client_id:client_secret)` (Fitbit).
    Basic,
}

/// One OAuth 2.0 provider as the shared code needs to know it.
#[derive(Debug, Clone)]
pub struct Service {
    /// For messages: "Google".
    pub name: &'static str,
    /// The command that authorizes again, for messages: "fitbit-notifier auth google".
    pub auth_command: &'static str,
    pub token_url: Url,
    pub client_auth: ClientAuth,
    /// Whether a refresh may be sent again after an ambiguous answer: true only where
    /// the refresh token is not rotated (Google), so a repeat spends nothing.
    pub refresh_repeatable: bool,
    /// Where this provider's authorization lives in the credentials file.
    pub slot: fn(&mut Credentials) -> &mut Option<OAuthCredentials>,
    /// An explanation to add when the provider rejects the refresh token
    /// (`invalid_grant`), given the stored authorization and the time now.
    pub invalid_grant_hint: fn(&OAuthCredentials, DateTime<Utc>) -> Option<String>,
    /// Set for a provider that has announced that its endpoints are turned off.
    pub shutdown: Option<Shutdown>,
}

/// A provider's announced end: from `since` on, its endpoints cannot work, so any
/// failure to reach them is that end, which `notice` explains with what to do instead.
/// A 410 Gone says so at any time.
#[derive(Debug, Clone)]
pub struct Shutdown {
    pub since: DateTime<Utc>,
    /// What happened and the steps to switch, one line.
    pub notice: String,
}

impl Shutdown {
    /// The re-authorization error for an answer (or a failure to get one) from
    /// `endpoint` that shows the provider gone; `None` when it does not.
    pub fn check(
        &self,
        endpoint: &str,
        outcome: &std::result::Result<Reply, http::SendError>,
        now: DateTime<Utc>,
    ) -> Option<Error> {
        let seen = match outcome {
            Ok(reply) if reply.status == StatusCode::GONE => "answered 410 Gone".to_string(),
            Ok(reply) if reply.status.is_success() => return None,
            _ if now < self.since => return None,
            Ok(reply) => format!("answered {}", reply.status),
            Err(err) => format!("failed ({err})"),
        };
        Some(Error::reauth(format!(
            "the {endpoint} {seen}: {}",
            self.notice
        )))
    }
}

impl Service {
    fn not_authorized(&self, store: &CredentialStore) -> Error {
        Error::reauth(format!(
            "no {} authorization is stored in {}; run `{}` first",
            self.name,
            store.path().display(),
            self.auth_command
        ))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeDelta;

    /// A provider for the tests of the shared OAuth code.
    pub(in crate::net::oauth) fn service() -> Service {
        Service {
            name: "Example",
            auth_command: "fitbit-notifier auth example",
            token_url: Url::parse("http://127.0.0.1:9/token").unwrap(),
            client_auth: ClientAuth::InBody,
            refresh_repeatable: true,
            slot: |c| &mut c.google,
            invalid_grant_hint: |_, _| None,
            shutdown: None,
        }
    }

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn a_shutdown_is_a_410_at_any_time_and_any_failure_after_it() {
        let since: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().unwrap();
        let shutdown = Shutdown {
            since,
            notice: "switch providers".into(),
        };
        let before = since - TimeDelta::days(1);
        let after = since + TimeDelta::days(1);
        let check = |outcome: std::result::Result<Reply, http::SendError>, now| {
            shutdown.check("token endpoint", &outcome, now)
        };
        let gone = check(Ok(reply(410, "")), before).unwrap();
        assert_eq!(gone.kind(), crate::error::Kind::Reauth);
        assert_eq!(
            gone.to_string(),
            "the token endpoint answered 410 Gone: switch providers"
        );
        assert!(check(Ok(reply(404, "")), before).is_none());
        assert!(check(Err(http::SendError::NoAnswer), before).is_none());
        assert!(check(Ok(reply(200, "{}")), after).is_none());
        assert!(
            check(Ok(reply(401, "")), after)
                .unwrap()
                .to_string()
                .contains("answered 401 Unauthorized: switch providers")
        );
        assert!(
            check(Err(http::SendError::NotSent("dns".into())), after)
                .unwrap()
                .to_string()
                .contains("failed (could not connect: dns)")
        );
    }
}

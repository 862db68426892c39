//! `credentials.toml`: client ids, secrets and tokens, per service. Machine-written,
//! mode 0600, rewritten atomically under `credentials.toml.lock`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Paths;
use crate::secret::Secret;
use crate::store::TomlStore;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub google: Option<OAuthCredentials>,
    pub fitbit: Option<OAuthCredentials>,
    pub x: Option<XCredentials>,
    pub mastodon: Option<MastodonCredentials>,
    pub bluesky: Option<BlueskyCredentials>,
    pub discord: Option<WebhookCredentials>,
    pub slack: Option<WebhookCredentials>,
}

/// An OAuth 2.0 client and the tokens it was granted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// When the access token stops working.
    pub expires_at: DateTime<Utc>,
    /// When the user consented; refresh tokens of Google apps in Testing status die 7 days later.
    pub authorized_at: DateTime<Utc>,
    /// The scopes the user actually granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// OAuth 1.0a user-context credentials for `POST /2/tweets`; they do not expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XCredentials {
    pub api_key: Secret,
    pub api_secret: Secret,
    pub access_token: Secret,
    pub access_token_secret: Secret,
}

/// A Mastodon account: its instance (the base of every API call) and an access token
/// with the `write:statuses` scope. Mastodon tokens do not expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonCredentials {
    pub instance: Url,
    pub access_token: Secret,
}

/// A Bluesky account: a handle (or DID) and an app password, exchanged for a session
/// on every run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyCredentials {
    pub handle: String,
    pub app_password: Secret,
}

/// An incoming webhook (Discord, Slack): its URL is the whole credential, so it is a secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookCredentials {
    pub webhook_url: Secret,
}

pub type CredentialStore = TomlStore<Credentials>;

pub fn store(paths: &Paths) -> CredentialStore {
    TomlStore::private(paths.credentials.clone(), paths.credentials_lock.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_every_secret() {
        let creds = Credentials {
            google: Some(OAuthCredentials {
                client_id: "id.apps.googleusercontent.com".into(),
                client_secret: Secret::new("GOCSPX-secret"),
                access_token: Secret::new("ya29.access"),
                refresh_token: Secret::new("1//refresh"),
                expires_at: Utc::now(),
                authorized_at: Utc::now(),
                scopes: vec![],
            }),
            fitbit: None,
            x: Some(XCredentials {
                api_key: Secret::new("xkey"),
                api_secret: Secret::new("xsecret"),
                access_token: Secret::new("xtoken"),
                access_token_secret: Secret::new("xtokensecret"),
            }),
            mastodon: Some(MastodonCredentials {
                instance: Url::parse("https://mastodon.example/").unwrap(),
                access_token: Secret::new("mastodon-token"),
            }),
            bluesky: Some(BlueskyCredentials {
                handle: "walker.bsky.social".into(),
                app_password: Secret::new("abcd-efgh-ijkl-mnop"),
            }),
            discord: Some(WebhookCredentials {
                webhook_url: Secret::new("https://discord.com/api/webhooks/1/discord-token"),
            }),
            slack: Some(WebhookCredentials {
                webhook_url: Secret::new("https://hooks.slack.com/services/T1/B1/slack-token"),
            }),
        };
        let shown = format!("{creds:?}");
        for secret in [
            "GOCSPX-secret",
            "ya29.access",
            "1//refresh",
            "xkey",
            "xsecret",
            "xtoken",
            "mastodon-token",
            "abcd-efgh",
            "discord-token",
            "slack-token",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
    }
}

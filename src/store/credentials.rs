//! `credentials.toml`: client ids, secrets and tokens, per service. Machine-written,
//! mode 0600, rewritten atomically under `credentials.toml.lock`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Paths;
use crate::secret::Secret;
use crate::store::TomlStore;

/// The providers' tables, typed here, and every other table as a sink's: each sink
/// reads and writes its own table (`[x]`, `[mastodon]`, …) with its own type.
#[derive(Debug, Default)]
pub struct Credentials {
    pub google: Option<OAuthCredentials>,
    pub fitbit: Option<OAuthCredentials>,
    pub sinks: SinkTables,
}

/// The sinks' tables by name, in the order of the file. Their values are secrets, so
/// Debug shows only the names.
#[derive(Default, Clone)]
pub struct SinkTables(Vec<(String, toml::Table)>);

impl SinkTables {
    pub fn get(&self, name: &str) -> Option<&toml::Table> {
        self.0
            .iter()
            .find_map(|(stored, table)| (stored == name).then_some(table))
    }

    /// Stores `table` as the table `name`, in place of the one there was.
    pub fn set(&mut self, name: &str, table: toml::Table) {
        match self.0.iter_mut().find(|(stored, _)| stored == name) {
            Some((_, stored)) => *stored = table,
            None => self.0.push((name.to_string(), table)),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }
}

impl fmt::Debug for SinkTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// The file as it always was: `[google]`, `[fitbit]`, then each sink's table.
impl Serialize for Credentials {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, provider) in [("google", &self.google), ("fitbit", &self.fitbit)] {
            if let Some(provider) = provider {
                map.serialize_entry(name, provider)?;
            }
        }
        for (name, table) in &self.sinks.0 {
            map.serialize_entry(name, table)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CredentialsVisitor)
    }
}

struct CredentialsVisitor;

impl<'de> Visitor<'de> for CredentialsVisitor {
    type Value = Credentials;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tables of credentials")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Credentials, A::Error> {
        let mut credentials = Credentials::default();
        while let Some(name) = map.next_key::<String>()? {
            match name.as_str() {
                "google" => credentials.google = Some(map.next_value()?),
                "fitbit" => credentials.fitbit = Some(map.next_value()?),
                _ => {
                    let table = map.next_value()?;
                    credentials.sinks.set(&name, table);
                }
            }
        }
        Ok(credentials)
    }
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

pub type CredentialStore = TomlStore<Credentials>;

pub fn store(paths: &Paths) -> CredentialStore {
    TomlStore::private(paths.credentials.clone(), paths.credentials_lock.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_every_secret() {
        let mut creds = Credentials {
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
            sinks: SinkTables::default(),
        };
        let sinks: toml::Table = toml::from_str(
            "[x]\napi_key = \"xkey\"\napi_secret = \"xsecret\"\naccess_token = \"xtoken\"\n\
             access_token_secret = \"xtokensecret\"\n\
             [mastodon]\ninstance = \"https://mastodon.example/\"\naccess_token = \"mastodon-token\"\n\
             [bluesky]\nhandle = \"walker.bsky.social\"\napp_password = \"abcd-efgh-ijkl-mnop\"\n\
             [discord]\nwebhook_url = \"https://discord.com/api/webhooks/1/discord-token\"\n\
             [slack]\nwebhook_url = \"https://hooks.slack.com/services/T1/B1/slack-token\"\n",
        )
        .unwrap();
        for (name, table) in sinks {
            let toml::Value::Table(table) = table else {
                unreachable!()
            };
            creds.sinks.set(&name, table);
        }
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

    #[test]
    fn the_tables_are_written_back_as_they_were_read() {
        let text = "[google]\nclient_id = \"c\"\nclient_secret = \"s\"\naccess_token = \"a\"\n\
                    refresh_token = \"r\"\nexpires_at = \"2026-11-20T00:00:00Z\"\n\
                    authorized_at = \"2026-11-20T00:00:00Z\"\nscopes = []\n\n\
                    [slack]\nwebhook_url = \"https://hooks.slack.com/services/T1/B1/t\"\n\n\
                    [x]\napi_key = \"k\"\n";
        let creds: Credentials = toml::from_str(text).unwrap();
        assert_eq!(creds.sinks.names().collect::<Vec<_>>(), ["slack", "x"]);
        let written = toml::to_string(&creds).unwrap();
        assert_eq!(
            toml::from_str::<toml::Table>(&written).unwrap(),
            toml::from_str::<toml::Table>(text).unwrap()
        );
        assert!(written.find("[slack]") < written.find("[x]"), "{written}");
    }
}

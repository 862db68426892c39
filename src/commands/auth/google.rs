//! `auth google`: the installed-app OAuth 2.0 flow for the Google Health API, in a
//! browser on this machine (loopback redirect) or on another one (`--no-browser`).

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use super::consent::{self, ClientSource, Consent, OAuthClient};
use crate::context::{Context, block_on};

use crate::cli::AuthGoogleArgs;
use crate::error::Error;
use crate::net::oauth;
use crate::providers::google_health::{self, GoogleHealth, SCOPES, SETTINGS};
use crate::secret::Secret;
use crate::store::credentials::OAuthCredentials;

const CLIENT: ClientSource = ClientSource {
    label: "Google OAuth client",
    id_env: "GOOGLE_CLIENT_ID",
    secret_env: "GOOGLE_CLIENT_SECRET",
    alternative: Some("pass --client-secret-file <the Desktop app client JSON>"),
    found_in: "the Desktop app client's JSON",
};

pub fn run(config_file: Option<&Path>, args: &AuthGoogleArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let client = oauth_client(args.client_secret_file.as_deref())?;
    block_on(authorize(&env, &client, args.no_browser))
}

/// A Google OAuth client of type Desktop app: from the downloaded client JSON, else the
/// environment, else a prompt on the terminal.
fn oauth_client(file: Option<&Path>) -> Result<OAuthClient, Error> {
    match file {
        Some(path) => client_from_file(path),
        None => CLIENT.env_or_prompt(),
    }
}

/// The client from `GOOGLE_CLIENT_ID` and `GOOGLE_CLIENT_SECRET`, else a prompt.
pub(in crate::commands) fn client_from_env() -> Result<OAuthClient, Error> {
    CLIENT.env_or_prompt()
}

#[derive(Deserialize)]
struct ClientFile {
    installed: Option<ClientEntry>,
    web: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ClientEntry {
    client_id: String,
    client_secret: Secret,
}

fn client_from_file(path: &Path) -> Result<OAuthClient, Error> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Error::config(format!(
            "cannot read the client file {}: {err}",
            path.display()
        ))
    })?;
    client_from_json(&text, &path.display().to_string())
}

/// The client in a downloaded client JSON (`shown` names it in messages: its path, or
/// "the pasted JSON").
pub(in crate::commands) fn client_from_json(text: &str, shown: &str) -> Result<OAuthClient, Error> {
    let file: ClientFile = serde_json::from_str(text).map_err(|err| {
        Error::config(format!(
            "{shown} is not a Google OAuth client JSON ({err}); download it again from Google Auth Platform > Clients"
        ))
    })?;
    match (file.installed, file.web) {
        (Some(entry), _) => Ok(OAuthClient {
            id: entry.client_id,
            secret: entry.client_secret,
        }),
        (None, Some(_)) => Err(Error::config(format!(
            "{shown} is for a Web application client; create a client of type Desktop app (Google Auth Platform > Clients > Create client) and use its JSON"
        ))),
        (None, None) => Err(Error::config(format!(
            "{shown} has no \"installed\" client; download the JSON of a Desktop app client from Google Auth Platform > Clients"
        ))),
    }
}

pub(in crate::commands) async fn authorize(
    env: &Context,
    client: &OAuthClient,
    no_browser: bool,
) -> Result<()> {
    let service = google_health::service(&env.config.google_health);
    let consent = Consent {
        service: &service,
        auth_url: &env.config.google_health.auth_url,
        scopes: &SCOPES,
        extra: google_health::AUTHORIZE_PARAMS,
        redirect_uri: None,
        instructions: "Open this address in a browser, sign in with the Google account that holds\nyour Fitbit data and allow access:",
    };
    let creds = consent::authorize(env, client, &consent, no_browser).await?;
    check_account(env, &creds).await
}

/// Reads the account's time zone when the settings scope allows it (see
/// [`consent::check_account`]).
async fn check_account(env: &Context, creds: &OAuthCredentials) -> Result<()> {
    if !oauth::is_granted(creds, &SETTINGS) {
        return Ok(());
    }
    let provider = GoogleHealth::new(&env.config, &env.paths, env.client.clone());
    consent::check_account(env, &provider, "Google Health").await
}

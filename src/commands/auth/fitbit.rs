//! `auth fitbit`: the OAuth 2.0 flow (PKCE, Basic client authentication) for the legacy
//! Fitbit Web API, in a browser on this machine (loopback redirect at the app's
//! registered callback URL) or on another one (`--no-browser`).

use std::path::Path;

use anyhow::Result;

use super::consent::{self, ClientSource, Consent};
use crate::context::{Context, block_on};

use crate::cli::AuthFitbitArgs;
use crate::net::oauth;
use crate::providers::fitbit_legacy::{self, FitbitLegacy, PROFILE, SCOPES};
use crate::store::credentials::OAuthCredentials;

const CLIENT: ClientSource = ClientSource {
    label: "Fitbit OAuth 2.0 client",
    id_env: "FITBIT_CLIENT_ID",
    secret_env: "FITBIT_CLIENT_SECRET",
    alternative: None,
    found_in: "the app's page at dev.fitbit.com > Manage > My Apps",
};

pub fn run(config_file: Option<&Path>, args: &AuthFitbitArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let client = CLIENT.env_or_prompt()?;
    block_on(async {
        let service = fitbit_legacy::service(&env.config.fitbit, &env.paths.config);
        let consent = Consent {
            service: &service,
            auth_url: &env.config.fitbit.auth_url,
            scopes: &SCOPES,
            extra: &[],
            redirect_uri: Some(&args.redirect_uri),
            instructions: "Open this address in a browser, sign in to Fitbit and allow access:",
        };
        let creds = consent::authorize(&env, &client, &consent, args.no_browser).await?;
        check_account(&env, &creds).await
    })
}

/// Reads the account's time zone when the profile scope allows it (see
/// [`consent::check_account`]).
async fn check_account(env: &Context, creds: &OAuthCredentials) -> Result<()> {
    if !oauth::is_granted(creds, &PROFILE) {
        return Ok(());
    }
    let provider = FitbitLegacy::new(&env.config, &env.paths, env.client.clone());
    consent::check_account(env, &provider, "Fitbit").await
}

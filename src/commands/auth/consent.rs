//! What every `auth <OAuth 2.0 provider>` command shares: the OAuth client from the
//! environment or a prompt, and the consent itself (in a browser on this machine with a
//! loopback redirect, or `--no-browser` with a pasted address) up to the stored tokens.

use std::io::{self, IsTerminal as _};
use std::process::{Command, Stdio};

use url::Url;

use super::prompt;
use crate::context::Context;
use crate::output::outln;

use crate::error::{Error, Result};
use crate::net::oauth::{self, AuthorizeRequest, Loopback, Pkce, Scope, Service, TokenClient};
use crate::providers::Provider;
use crate::secret::Secret;
use crate::store::credentials::{self, OAuthCredentials};
use crate::store::state;

/// An OAuth client registered with the provider.
pub struct OAuthClient {
    pub id: String,
    pub secret: Secret,
}

/// Where a provider's OAuth client can come from besides the provider-specific ways.
pub struct ClientSource {
    /// For prompts and messages: "Google OAuth client".
    pub label: &'static str,
    pub id_env: &'static str,
    pub secret_env: &'static str,
    /// Another way to give the client, for messages: "pass --client-secret-file <...>".
    pub alternative: Option<&'static str>,
    /// Where the user finds the id and secret: "the Desktop app client's JSON".
    pub found_in: &'static str,
}

impl ClientSource {
    /// From the environment, else a prompt on the terminal.
    pub fn env_or_prompt(&self) -> Result<OAuthClient> {
        match self.read_env()? {
            Some(client) => Ok(client),
            None => self.prompt(),
        }
    }

    /// Both variables, or `None` when neither is set.
    fn read_env(&self) -> Result<Option<OAuthClient>> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match (read(self.id_env), read(self.secret_env)) {
            (Some(id), Some(secret)) => Ok(Some(OAuthClient {
                id: id.trim().to_string(),
                secret: Secret::new(secret.trim()),
            })),
            (None, None) => Ok(None),
            (Some(_), None) | (None, Some(_)) => Err(Error::config(format!(
                "set both {} and {}{}",
                self.id_env,
                self.secret_env,
                self.alternative
                    .map(|a| format!(", or {a}"))
                    .unwrap_or_default()
            ))),
        }
    }

    fn prompt(&self) -> Result<OAuthClient> {
        if !io::stdin().is_terminal() {
            return Err(Error::config(format!(
                "no {} given: {}set {} and {}",
                self.label,
                self.alternative
                    .map(|a| format!("{a} or "))
                    .unwrap_or_default(),
                self.id_env,
                self.secret_env
            )));
        }
        let id = prompt::line(&format!("{} id", self.label))?;
        let secret = prompt::hidden(&format!("{} secret", self.label))?;
        if id.is_empty() || secret.trim().is_empty() {
            return Err(Error::config(format!(
                "the client id and secret are both needed; they are in {}",
                self.found_in
            )));
        }
        Ok(OAuthClient {
            id,
            secret: Secret::new(secret.trim()),
        })
    }
}

/// What to ask the provider for.
pub struct Consent<'a> {
    pub service: &'a Service,
    pub auth_url: &'a Url,
    pub scopes: &'a [&'a Scope],
    /// Provider-specific authorize parameters.
    pub extra: &'a [(&'a str, &'a str)],
    /// The registered redirect URI of a provider that requires an exact match; `None`
    /// for one that accepts any loopback port.
    pub redirect_uri: Option<&'a str>,
    /// Printed above the address: "sign in with the Google account that holds ...".
    pub instructions: &'a str,
}

/// Runs the consent, exchanges the code and stores the tokens in the provider's slot
/// of the credentials file; returns what was stored.
pub async fn authorize(
    env: &Context,
    client: &OAuthClient,
    consent: &Consent<'_>,
    no_browser: bool,
) -> anyhow::Result<OAuthCredentials> {
    let store = credentials::store(&env.paths);
    // find out now, not after the consent, whether the tokens could be saved
    // (taking the lock creates the directory)
    drop(store.lock()?);
    store.ensure_writable()?;

    let service = consent.service;
    let scope_ids: Vec<&str> = consent.scopes.iter().map(|scope| scope.id).collect();
    let pkce = Pkce::generate();
    let state = oauth::random_state();
    let loopback = match (no_browser, consent.redirect_uri) {
        (true, _) => None,
        (false, Some(registered)) => Some(Loopback::bind_to(registered).await?),
        (false, None) => Some(Loopback::bind().await?),
    };
    let redirect_uri = match (&loopback, consent.redirect_uri) {
        (Some(listener), _) => listener.redirect_uri().to_string(),
        (None, Some(registered)) => registered.to_string(),
        (None, None) => oauth::paste_redirect_uri()?,
    };
    let url = AuthorizeRequest {
        auth_url: consent.auth_url,
        client_id: &client.id,
        redirect_uri: &redirect_uri,
        scopes: &scope_ids,
        state: &state,
        pkce: &pkce,
        extra: consent.extra,
    }
    .url();
    eprintln!("{}", consent.instructions);
    outln!("{url}")?;

    let code = match loopback {
        Some(listener) => {
            let timeout = oauth::callback_timeout()?;
            open_browser(url.as_str());
            eprintln!(
                "Waiting up to {}s for the browser to return to {redirect_uri} ...",
                timeout.as_secs()
            );
            listener.receive_code(service, &state, timeout).await?
        }
        None => {
            eprintln!(
                "The browser then cannot load a page at {redirect_uri}: copy the whole address from its address bar (or just the code) and paste it here:"
            );
            oauth::code_from_pasted(service, &prompt::line("address or code")?, &state)?
        }
    };

    let tokens = TokenClient {
        service,
        http: &env.client,
        http_config: &env.config.http,
        client_id: &client.id,
        client_secret: &client.secret,
    }
    .exchange_code(&code, &redirect_uri, pkce.verifier())
    .await
    .map_err(|err| err.into_error(service, None))?;
    let creds = tokens.into_credentials(service, &client.id, &client.secret, &scope_ids)?;
    store.update(|all| {
        *(service.slot)(all) = Some(creds.clone());
        Ok(())
    })?;
    outln!(
        "Authorized with {}; tokens saved to {}",
        service.name,
        store.path().display()
    )?;
    warn_about_unticked(consent, &creds);
    Ok(creds)
}

/// Names each permission the user unticked on the consent screen and what the
/// summary will lack without it.
fn warn_about_unticked(consent: &Consent<'_>, creds: &OAuthCredentials) {
    for scope in oauth::unticked(consent.scopes, &creds.scopes) {
        // a URL-like id says which checkbox it is where the short name does not
        let id = if scope.id == scope.name {
            String::new()
        } else {
            format!(" ({})", scope.id)
        };
        log::warn!(
            "the \"{}\" permission{id} was not granted, so {} will be missing; to add it, run `{}` again and allow it",
            scope.name,
            scope.provides,
            consent.service.auth_command
        );
    }
}

/// Reads the account's time zone right after `auth`: it proves the tokens work (an
/// account the API refuses shows up now, not at the first cron run) and refreshes the
/// cached zone, which may differ for a different account. `account` names it for the
/// output: "Google Health".
pub async fn check_account(
    env: &Context,
    provider: &impl Provider,
    account: &str,
) -> anyhow::Result<()> {
    let tz = provider.timezone().await?;
    state::remember_timezone(&state::store(&env.paths), tz);
    outln!("{account} account time zone: {tz}")?;
    Ok(())
}

/// The variables this tool reads secrets from, kept out of the environment of any
/// program it starts.
const SECRET_ENV: [&str; 9] = [
    "GOOGLE_CLIENT_SECRET",
    "FITBIT_CLIENT_SECRET",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "MASTODON_ACCESS_TOKEN",
    "BLUESKY_APP_PASSWORD",
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
];

/// Tries the desktop's URL opener; the address is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let mut command = Command::new(opener);
    // the opener (and the browser it may start) has no use for our secrets
    for name in SECRET_ENV {
        command.env_remove(name);
    }
    let spawned = command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        // reaped in the background: some openers stay until the browser exits
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(err) => log::debug!("cannot run {opener} ({err}); open the address by hand"),
    }
}

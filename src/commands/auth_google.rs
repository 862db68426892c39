//! `auth google`: the installed-app OAuth 2.0 flow for the Google Health API, in a
//! browser on this machine (loopback redirect) or on another one (`--no-browser`).

use std::io::{self, BufRead as _, IsTerminal as _};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Result;
use serde::Deserialize;

use super::{Env, block_on};
use crate::cli::AuthGoogleArgs;
use crate::credentials::{self, OAuthCredentials};
use crate::error::Error;
use crate::google_health::{self, AUTH_COMMAND, GoogleHealth, SCOPES, SETTINGS};
use crate::oauth::{self, AuthorizeRequest, Loopback, Pkce, TokenClient};
use crate::provider::Provider as _;
use crate::secret::Secret;
use crate::state;

const CLIENT_ID_ENV: &str = "GOOGLE_CLIENT_ID";
const CLIENT_SECRET_ENV: &str = "GOOGLE_CLIENT_SECRET";

pub fn run(explicit: Option<&Path>, args: &AuthGoogleArgs) -> Result<()> {
    let env = Env::load(explicit)?;
    let client = oauth_client(args.client_secret_file.as_deref())?;
    block_on(authorize(&env, &client, args.no_browser))
}

/// A Google OAuth client of type Desktop app.
struct OAuthClient {
    id: String,
    secret: Secret,
}

/// From the downloaded client JSON, else the environment, else a prompt on the terminal.
fn oauth_client(file: Option<&Path>) -> Result<OAuthClient, Error> {
    if let Some(path) = file {
        return client_from_file(path);
    }
    if let Some(client) = client_from_env()? {
        return Ok(client);
    }
    client_from_prompt()
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
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::config(format!("cannot read the client file {shown}: {err}")))?;
    let file: ClientFile = serde_json::from_str(&text).map_err(|err| {
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

fn client_from_env() -> Result<Option<OAuthClient>, Error> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (read(CLIENT_ID_ENV), read(CLIENT_SECRET_ENV)) {
        (Some(id), Some(secret)) => Ok(Some(OAuthClient {
            id: id.trim().to_string(),
            secret: Secret::new(secret.trim()),
        })),
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(Error::config(format!(
            "set both {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}, or pass --client-secret-file"
        ))),
    }
}

fn client_from_prompt() -> Result<OAuthClient, Error> {
    if !io::stdin().is_terminal() {
        return Err(Error::config(format!(
            "no Google OAuth client given: pass --client-secret-file <the Desktop app client JSON> or set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}"
        )));
    }
    eprint!("Google OAuth client id: ");
    let id = read_line()?;
    let secret = rpassword::prompt_password("Google OAuth client secret (not shown): ")
        .map_err(|err| Error::other(format!("cannot read the client secret: {err}")))?;
    if id.is_empty() || secret.trim().is_empty() {
        return Err(Error::config(
            "the client id and secret are both needed; they are in the Desktop app client's JSON",
        ));
    }
    Ok(OAuthClient {
        id,
        secret: Secret::new(secret.trim()),
    })
}

fn read_line() -> Result<String, Error> {
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| Error::other(format!("cannot read standard input: {err}")))?;
    Ok(line.trim().to_string())
}

async fn authorize(env: &Env, client: &OAuthClient, no_browser: bool) -> Result<()> {
    let store = credentials::store(&env.paths);
    // find out now, not after the consent, whether the tokens could be saved
    // (taking the lock creates the directory)
    drop(store.lock()?);
    store.ensure_writable()?;

    let service = google_health::service(&env.config.google_health);
    let scopes: Vec<&str> = SCOPES.iter().map(|s| s.url).collect();
    let pkce = Pkce::generate();
    let state = oauth::random_state();
    let loopback = if no_browser {
        None
    } else {
        Some(Loopback::bind().await?)
    };
    let redirect_uri = match &loopback {
        Some(listener) => listener.redirect_uri().to_string(),
        None => oauth::paste_redirect_uri()?,
    };
    let url = AuthorizeRequest {
        auth_url: &env.config.google_health.auth_url,
        client_id: &client.id,
        redirect_uri: &redirect_uri,
        scopes: &scopes,
        state: &state,
        pkce: &pkce,
        extra: google_health::AUTHORIZE_PARAMS,
    }
    .url();
    eprintln!(
        "Open this address in a browser, sign in with the Google account that holds your Fitbit data and allow access:"
    );
    println!("{url}");

    let code = match loopback {
        Some(listener) => {
            let timeout = oauth::callback_timeout()?;
            open_browser(url.as_str());
            eprintln!(
                "Waiting up to {}s for the browser to return to {redirect_uri} ...",
                timeout.as_secs()
            );
            listener.receive_code(&service, &state, timeout).await?
        }
        None => {
            eprintln!(
                "The browser then cannot load a page at {redirect_uri}: copy the whole address from its address bar (or just the code) and paste it here:"
            );
            oauth::code_from_pasted(&service, &read_line()?, &state)?
        }
    };

    let tokens = TokenClient {
        service: &service,
        http: &env.client,
        http_config: &env.config.http,
        client_id: &client.id,
        client_secret: &client.secret,
    }
    .exchange_code(&code, &redirect_uri, pkce.verifier())
    .await
    .map_err(|err| err.into_error(&service, None))?;
    let creds = tokens.into_credentials(&service, &client.id, &client.secret, &scopes)?;
    store.update(|all| {
        all.google = Some(creds.clone());
        Ok(())
    })?;
    println!(
        "Authorized with Google; tokens saved to {}",
        store.path().display()
    );
    for scope in google_health::unticked(&creds.scopes) {
        log::warn!(
            "the \"{}\" permission ({}) was not granted, so {} will be missing; to add it, run `{AUTH_COMMAND}` again and tick it",
            scope.name,
            scope.url,
            scope.provides
        );
    }
    check_account(env, &creds).await
}

/// Reads the account's time zone right away: it proves the tokens work (an account
/// without a Google Health profile shows up now, not at the first cron run) and
/// refreshes the cached zone, which may differ for a different account.
async fn check_account(env: &Env, creds: &OAuthCredentials) -> Result<()> {
    if !creds.scopes.iter().any(|s| s == SETTINGS.url) {
        return Ok(());
    }
    let provider = GoogleHealth::new(&env.config, &env.paths, env.client.clone());
    let tz = provider.timezone().await?;
    state::remember_timezone(&state::store(&env.paths), tz);
    println!("Google Health account time zone: {tz}");
    Ok(())
}

/// Tries the desktop's URL opener; the address is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = Command::new(opener)
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

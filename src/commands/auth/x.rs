//! `auth x`: store X's four OAuth 1.0a values, given in the environment or at a prompt,
//! or mint the access token through X's PIN flow (`--pin`).

use std::path::Path;

use anyhow::Result;

use super::prompt;
use crate::context::{Context, block_on};
use crate::output::outln;

use crate::error::Error;
use crate::sinks::x::{self, AppKeys, UserToken, XCredentials};
use crate::sinks::{self, SinkKind};
use crate::store::credentials;

pub fn run(config_file: Option<&Path>, pin: bool) -> Result<()> {
    let env = Context::load(config_file)?;
    let store = credentials::store(&env.paths);
    // a malformed or unsafe credentials file is reported before anything is asked for
    sinks::load_credentials(&env.paths)?;
    let app = AppKeys {
        api_key: prompt::secret("X_API_KEY", "X API key")?,
        api_secret: prompt::secret("X_API_SECRET", "X API key secret")?,
    };
    let (access_token, access_token_secret) = if pin {
        let minted = pin_flow(&env, &app)?;
        if let Some(name) = &minted.screen_name {
            outln!("Authorized @{name}.")?;
        }
        (minted.access_token, minted.access_token_secret)
    } else {
        (
            prompt::secret("X_ACCESS_TOKEN", "X access token")?,
            prompt::secret("X_ACCESS_TOKEN_SECRET", "X access token secret")?,
        )
    };
    let keys = XCredentials {
        api_key: app.api_key,
        api_secret: app.api_secret,
        access_token,
        access_token_secret,
    };
    store.update(|stored| sinks::keep(stored, SinkKind::X, &keys))?;
    outln!("Stored the X keys in {}.", store.path().display())?;
    // GET /2/users/me would check them, but X bills it as a user read ($0.010)
    outln!(
        "X has no free call to check them, so the first post will: \
         `fitbit-notifier tweet --text \"...\"` (a post costs $0.015)."
    )?;
    Ok(())
}

/// Request token, authorization by the user in a browser, PIN, access token.
fn pin_flow(env: &Context, app: &AppKeys) -> Result<UserToken> {
    let x = x::Client::new(&env.client, &env.config);
    block_on(async {
        let request = x.request_token(app).await?;
        eprintln!(
            "Open this page, sign in as the account that should post, authorize the app, \
             then type the PIN that X shows:"
        );
        eprintln!("  {}", x.authorize_url(&request)?);
        if let Some(alternative) = x.authorize_url_alternative(&request)? {
            eprintln!(
                "If that page cannot be used (it says \"There is no request token\"), open this one instead:"
            );
            eprintln!("  {alternative}");
        }
        // read on the blocking pool, so the runtime keeps tending the open connection
        let pin = tokio::task::spawn_blocking(|| prompt::line("PIN")).await??;
        if pin.is_empty() || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::other(
                "the PIN is the number X shows after you authorize the app; run `fitbit-notifier auth x --pin` again",
            )
            .into());
        }
        Ok(x.access_token(app, &request, &pin).await?)
    })
}

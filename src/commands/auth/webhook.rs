//! `auth discord` and `auth slack`: store an incoming webhook's URL. The URL is the
//! whole credential, so it is read like a password (from the environment or without
//! echo) and never printed. Nothing checks it without posting, so the first post does.

use std::path::Path;

use anyhow::Result;

use super::hint_enable;
use super::prompt;
use crate::context::Context;
use crate::output::outln;

use crate::config::SinkKind;
use crate::error::Error;
use crate::sinks;
use crate::store::credentials::{self, Credentials, WebhookCredentials};

pub fn run(
    config_file: Option<&Path>,
    kind: SinkKind,
    env_var: &str,
    slot: fn(&mut Credentials) -> &mut Option<WebhookCredentials>,
) -> Result<()> {
    let env = Context::load(config_file)?;
    let store = credentials::store(&env.paths);
    // a malformed or unsafe credentials file is reported before anything is asked for
    store.load()?;
    let what = format!("{} webhook URL", kind.title());
    let webhook_url = prompt::secret(env_var, &what)?;
    sinks::webhook_url(&webhook_url, kind).map_err(|err| Error::other(err.to_string()))?;
    store.update(|stored| {
        *slot(stored) = Some(WebhookCredentials { webhook_url });
        Ok(())
    })?;
    outln!(
        "Stored the {what} in {}; the first post checks it.",
        store.path().display()
    )?;
    hint_enable(&env, kind)?;
    Ok(())
}

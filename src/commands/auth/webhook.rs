//! `auth discord` and `auth slack`: store an incoming webhook's URL. The URL is the
//! whole credential, so it is read like a password (from the environment or without
//! echo) and never printed. Nothing checks it without posting, so the first post does.

use std::path::Path;

use anyhow::Result;

use super::hint_enable;
use super::prompt;
use crate::context::Context;
use crate::output::outln;

use crate::error::Error;
use crate::sinks::SinkKind;
use crate::sinks::{self, WebhookCredentials};
use crate::store::credentials;

pub fn run(config_file: Option<&Path>, kind: SinkKind, env_var: &str) -> Result<()> {
    let env = Context::load(config_file)?;
    let store = credentials::store(&env.paths);
    // a malformed or unsafe credentials file is reported before anything is asked for
    sinks::load_credentials(&env.paths)?;
    let what = format!("{} webhook URL", kind.title());
    let webhook_url = prompt::secret(env_var, &what)?;
    sinks::webhook_url(&webhook_url, kind).map_err(|err| Error::other(err.to_string()))?;
    store.update(|stored| sinks::keep(stored, kind, &WebhookCredentials { webhook_url }))?;
    outln!(
        "Stored the {what} in {}; the first post checks it.",
        store.path().display()
    )?;
    hint_enable(&env, kind)?;
    Ok(())
}

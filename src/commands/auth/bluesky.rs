//! `auth bluesky`: store a handle and an app password, after signing in with them once
//! to prove they work.

use std::path::Path;

use anyhow::Result;

use super::hint_enable;
use super::prompt;
use crate::context::{Context, block_on};
use crate::output::outln;

use crate::cli::AuthBlueskyArgs;
use crate::error::Error;
use crate::secret::Secret;
use crate::sinks;
use crate::sinks::SinkKind;
use crate::sinks::bluesky::BlueskyCredentials;
use crate::store::credentials;

pub fn run(config_file: Option<&Path>, args: &AuthBlueskyArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let store = credentials::store(&env.paths);
    // a malformed or unsafe credentials file is reported before anything is asked for
    sinks::load_credentials(&env.paths)?;
    let given = match &args.handle {
        Some(handle) => handle.clone(),
        None => prompt::line("Bluesky handle (such as alice.bsky.social)")?,
    };
    let handle = handle(&given)?;
    let app_password = prompt::secret("BLUESKY_APP_PASSWORD", "Bluesky app password")?;
    if !looks_like_app_password(&app_password) {
        log::warn!(
            "that does not look like an app password (xxxx-xxxx-xxxx-xxxx); the account's own password \
             works too, but it cannot be revoked on its own: better create an app password under \
             Settings > Privacy and security > App passwords"
        );
    }
    let credentials = BlueskyCredentials {
        handle,
        app_password,
    };
    let session = block_on(async {
        Ok(sinks::create_session(&env.client, &env.config, &credentials).await?)
    })?;
    store.update(|stored| sinks::keep(stored, SinkKind::Bluesky, &credentials))?;
    outln!(
        "Signed in to Bluesky as @{} ({}); stored the handle and app password in {}.",
        session.handle,
        session.did,
        store.path().display()
    )?;
    hint_enable(&env, SinkKind::Bluesky)?;
    Ok(())
}

/// `@alice.bsky.social` as `alice.bsky.social`; a DID as it is.
fn handle(given: &str) -> Result<String, Error> {
    let handle = given.trim().trim_start_matches('@');
    if handle.is_empty() || handle.chars().any(char::is_whitespace) {
        return Err(Error::other(
            "give the account's handle, such as alice.bsky.social (with --handle or BLUESKY_HANDLE)",
        ));
    }
    Ok(handle.to_string())
}

/// Bluesky shows app passwords as four groups of four letters and digits.
fn looks_like_app_password(password: &Secret) -> bool {
    let groups: Vec<&str> = password.expose().split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|group| group.len() == 4 && group.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_lose_their_at_sign() {
        assert_eq!(
            handle(" @walker.bsky.social ").unwrap(),
            "walker.bsky.social"
        );
        assert_eq!(handle("did:plc:abc").unwrap(), "did:plc:abc");
        assert!(handle("@").is_err());
        assert!(handle("two words").is_err());
    }

    #[test]
    fn app_passwords_are_four_groups_of_four() {
        assert!(looks_like_app_password(&Secret::new("abcd-2fgh-ijk3-mnop")));
        assert!(!looks_like_app_password(&Secret::new("hunter2")));
        assert!(!looks_like_app_password(&Secret::new("abcd-efgh-ijkl")));
    }
}

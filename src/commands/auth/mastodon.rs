//! `auth mastodon`: store the instance's address and an access token with the
//! `write:statuses` scope. The instance is asked for its post limit, which proves the
//! address; the token has no free check (every read needs another scope), so the first
//! post checks it.

use std::path::Path;

use anyhow::Result;
use url::Url;

use super::hint_enable;
use super::prompt;
use crate::context::{Context, block_on};
use crate::output::outln;

use crate::cli::AuthMastodonArgs;
use crate::error::{Error, Kind};
use crate::sinks;
use crate::sinks::SinkKind;
use crate::sinks::mastodon::MastodonCredentials;
use crate::store::credentials;

pub fn run(config_file: Option<&Path>, args: &AuthMastodonArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let store = credentials::store(&env.paths);
    // a malformed or unsafe credentials file is reported before anything is asked for
    sinks::load_credentials(&env.paths)?;
    let given = match &args.instance {
        Some(instance) => instance.clone(),
        None => prompt::line("Mastodon instance (such as https://mastodon.social)")?,
    };
    let instance = instance_url(&given)?;
    check_instance(&env, &instance)?;
    let access_token = prompt::secret("MASTODON_ACCESS_TOKEN", "Mastodon access token")?;
    let credentials = MastodonCredentials {
        instance,
        access_token,
    };
    store.update(|stored| sinks::keep(stored, SinkKind::Mastodon, &credentials))?;
    outln!(
        "Stored the Mastodon instance and access token in {}; the first post checks the token.",
        store.path().display()
    )?;
    hint_enable(&env, SinkKind::Mastodon)?;
    Ok(())
}

/// `mastodon.social` or `https://mastodon.social/`, as the base of the API.
fn instance_url(given: &str) -> Result<Url, Error> {
    let given = given.trim();
    let with_scheme = if given.contains("://") {
        given.to_string()
    } else {
        format!("https://{given}")
    };
    let wrong = || {
        Error::other(format!(
            "\"{given}\" is not an instance address; give it as https://mastodon.social \
             (with --instance or MASTODON_INSTANCE)"
        ))
    };
    let mut url = Url::parse(&with_scheme).map_err(|_| wrong())?;
    if given.is_empty() || !crate::net::http::is_private_in_transit(&url) {
        return Err(wrong());
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Reads the instance's limits. An instance that cannot be reached is an error (a typo
/// would otherwise fail every run); one that answers without the limits (an older or
/// other server) is accepted with a warning, and posts are counted against 500.
fn check_instance(env: &Context, instance: &Url) -> Result<()> {
    let limits = block_on(async {
        Ok(sinks::instance_limits(&env.client, &env.config.http, instance).await?)
    });
    match limits {
        Ok(limits) => {
            outln!(
                "{} takes posts of up to {} characters (a link counts {}).",
                instance.host_str().unwrap_or("The instance"),
                limits.max_characters,
                limits.characters_reserved_per_url
            )?;
            Ok(())
        }
        Err(err) if crate::error::kind_of(&err) == Kind::TryLater => Err(err),
        Err(err) => {
            log::warn!(
                "{err:#}; posts will be counted against Mastodon's default of 500 characters"
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_is_an_https_address() {
        assert_eq!(
            instance_url("mastodon.social").unwrap().as_str(),
            "https://mastodon.social/"
        );
        assert_eq!(
            instance_url(" https://social.example/?x=1#top ")
                .unwrap()
                .as_str(),
            "https://social.example/"
        );
        assert_eq!(
            instance_url("http://127.0.0.1:9000").unwrap().as_str(),
            "http://127.0.0.1:9000/"
        );
        for wrong in [
            "",
            "http://mastodon.social",
            "ftp://mastodon.social",
            "https://",
        ] {
            assert!(instance_url(wrong).is_err(), "{wrong}");
        }
    }
}

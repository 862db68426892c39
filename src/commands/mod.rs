//! One function per subcommand; each loads what it needs and nothing more.

mod auth_google;
mod authorize;
mod config;
mod fetch;
mod refresh;

use std::future::Future;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::{AuthService, Cli, Command};
use crate::config::{Config, Paths, ProviderKind};
use crate::error::Error;
use crate::google_health::GoogleHealth;
use crate::http;

pub fn run(cli: Cli) -> Result<()> {
    let explicit = cli.config.as_deref();
    match cli.command {
        Command::Config => config::run(explicit),
        Command::Auth {
            service: AuthService::Google(args),
        } => auth_google::run(explicit, &args),
        Command::Refresh => refresh::run(explicit),
        Command::Fetch(args) => fetch::run(explicit, &args),
    }
}

/// What a command that talks to a service needs: the settings, the file paths and the
/// one HTTP client every request goes through.
pub struct Env {
    pub config: Config,
    pub paths: Paths,
    pub client: reqwest::Client,
}

impl Env {
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let loaded = crate::config::load(explicit)?;
        let client = http::client(&loaded.config.http)?;
        Ok(Env {
            config: loaded.config,
            paths: loaded.paths,
            client,
        })
    }
}

/// The data provider the config names.
pub fn provider(env: &Env) -> Result<GoogleHealth> {
    match env.config.provider {
        ProviderKind::GoogleHealth => Ok(GoogleHealth::new(
            &env.config,
            &env.paths,
            env.client.clone(),
        )),
        ProviderKind::FitbitLegacy => Err(Error::config(format!(
            "provider \"fitbit-legacy\" is not available in this build; set provider = \"google-health\" in {} and run `fitbit-notifier auth google`",
            env.paths.config.display()
        ))
        .into()),
    }
}

/// Runs async command code on a single-threaded runtime: the job is a handful of
/// network requests, for which one thread is plenty and starts fastest.
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

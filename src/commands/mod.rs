//! One function per subcommand; each loads what it needs and nothing more.

mod auth_fitbit;
mod auth_google;
mod authorize;
mod config;
mod fetch;
mod refresh;

use std::future::Future;
use std::path::Path;

use anyhow::{Context as _, Result};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::cli::{AuthService, Cli, Command};
use crate::config::{Config, Paths, ProviderKind};
use crate::fitbit_legacy::FitbitLegacy;
use crate::google_health::GoogleHealth;
use crate::http;
use crate::provider::Provider;
use crate::summary::DaySummary;

pub fn run(cli: Cli) -> Result<()> {
    let explicit = cli.config.as_deref();
    match cli.command {
        Command::Config => config::run(explicit),
        Command::Auth {
            service: AuthService::Google(args),
        } => auth_google::run(explicit, &args),
        Command::Auth {
            service: AuthService::Fitbit(args),
        } => auth_fitbit::run(explicit, &args),
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
pub fn provider(env: &Env) -> Result<AnyProvider> {
    let client = env.client.clone();
    Ok(match env.config.provider {
        ProviderKind::GoogleHealth => {
            AnyProvider::GoogleHealth(GoogleHealth::new(&env.config, &env.paths, client))
        }
        ProviderKind::FitbitLegacy => {
            AnyProvider::FitbitLegacy(FitbitLegacy::new(&env.config, &env.paths, client))
        }
    })
}

/// One of the providers, chosen at run time.
pub enum AnyProvider {
    GoogleHealth(GoogleHealth),
    FitbitLegacy(FitbitLegacy),
}

impl Provider for AnyProvider {
    async fn timezone(&self) -> crate::error::Result<Tz> {
        match self {
            AnyProvider::GoogleHealth(p) => p.timezone().await,
            AnyProvider::FitbitLegacy(p) => p.timezone().await,
        }
    }

    async fn fetch_day(&self, date: NaiveDate, tz: Tz) -> crate::error::Result<DaySummary> {
        match self {
            AnyProvider::GoogleHealth(p) => p.fetch_day(date, tz).await,
            AnyProvider::FitbitLegacy(p) => p.fetch_day(date, tz).await,
        }
    }

    async fn refresh(&self) -> crate::error::Result<DateTime<Utc>> {
        match self {
            AnyProvider::GoogleHealth(p) => p.refresh().await,
            AnyProvider::FitbitLegacy(p) => p.refresh().await,
        }
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

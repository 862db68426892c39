//! One function per subcommand; each loads what it needs and nothing more.

mod auth_bluesky;
mod auth_fitbit;
mod auth_google;
mod auth_mastodon;
mod auth_webhook;
mod auth_x;
mod authorize;
mod completions;
mod config;
mod fetch;
mod man;
mod prompt;
mod refresh;
mod run;
mod tweet;

use std::future::Future;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::cli::{AuthService, Cli, Command};
use crate::config::{Config, Paths, ProviderKind, SinkKind};
use crate::error::Error;
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
        Command::Auth {
            service: AuthService::X { pin },
        } => auth_x::run(explicit, pin),
        Command::Auth {
            service: AuthService::Mastodon(args),
        } => auth_mastodon::run(explicit, &args),
        Command::Auth {
            service: AuthService::Bluesky(args),
        } => auth_bluesky::run(explicit, &args),
        Command::Auth {
            service: AuthService::Discord,
        } => auth_webhook::run(explicit, SinkKind::Discord, "DISCORD_WEBHOOK_URL", |c| {
            &mut c.discord
        }),
        Command::Auth {
            service: AuthService::Slack,
        } => auth_webhook::run(explicit, SinkKind::Slack, "SLACK_WEBHOOK_URL", |c| {
            &mut c.slack
        }),
        Command::Tweet(args) => tweet::run(explicit, &args),
        Command::Run(args) => run::run(explicit, &args),
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
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
    /// Runs a non-interactive command's async work, giving up with "try later" at the
    /// configured `[http] deadline`.
    pub fn block_on_with_deadline<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let deadline = self.config.http.deadline();
        block_on(async {
            tokio::time::timeout(deadline, work).await.unwrap_or_else(|_| {
                Err(Error::try_later(format!(
                    "gave up after {}s (the [http] deadline in the config); a server is not answering, the next run will try again",
                    deadline.as_secs()
                ))
                .into())
            })
        })
    }

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

/// After `auth` of a sink: how to have `run` post there, unless it already does.
pub fn hint_enable(env: &Env, kind: SinkKind) {
    if !env.config.sinks.enabled.contains(&kind) {
        println!(
            "To post there, add \"{}\" to [sinks] enabled in {}.",
            kind.name(),
            env.paths.config.display()
        );
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

/// Writes generated text to stdout in one piece. A closed pipe (`| head`) becomes an
/// ordinary error rather than the panic that `print!` would raise.
pub fn print_bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

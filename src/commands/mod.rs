//! One function per subcommand; each loads what it needs and nothing more.

mod auth_x;
mod config;
mod prompt;
mod tweet;

use std::future::Future;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::{AuthService, Cli, Command};
use crate::config::{Config, Paths};
use crate::http;

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config => config::run(cli.config.as_deref()),
        Command::Auth {
            service: AuthService::X { pin },
        } => auth_x::run(cli.config.as_deref(), pin),
        Command::Tweet(args) => tweet::run(cli.config.as_deref(), &args),
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

/// Runs async command code on a single-threaded runtime: the job is a handful of
/// network requests, for which one thread is plenty and starts fastest.
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

//! One function per subcommand; each loads what it needs and nothing more.

mod completions;
mod config;
mod man;

use std::future::Future;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::{Cli, Command};
use crate::config::{Config, Paths};
use crate::http;

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config => config::run(cli.config.as_deref()),
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

/// Writes generated text to stdout in one piece. A closed pipe (`| head`) becomes an
/// ordinary error rather than the panic that `print!` would raise.
pub fn print_bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

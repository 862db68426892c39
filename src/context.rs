//! What a command that talks to a service needs: the settings, the file paths and the
//! one HTTP client every request goes through, and the runtime its async work runs on.

use std::future::Future;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::config::{Config, Paths};
use crate::error::Error;
use crate::net::http;

pub struct Context {
    pub config: Config,
    pub paths: Paths,
    pub client: reqwest::Client,
}

impl Context {
    pub fn load(config_file: Option<&Path>) -> Result<Self> {
        let loaded = crate::config::load(config_file)?;
        let client = http::client(&loaded.config.http)?;
        Ok(Context {
            config: loaded.config,
            paths: loaded.paths,
            client,
        })
    }

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

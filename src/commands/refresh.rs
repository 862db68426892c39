//! `refresh`: refresh the data provider's access token now and print its new expiry.

use std::path::Path;

use anyhow::Result;
use chrono::{Local, SecondsFormat};

use crate::context::Context;
use crate::output::outln;
use crate::providers;
use crate::providers::Provider as _;

pub fn run(config_file: Option<&Path>) -> Result<()> {
    let env = Context::load(config_file)?;
    let provider = providers::from_config(&env);
    let expires_at = env.block_on_with_deadline(async { Ok(provider.refresh().await?) })?;
    outln!(
        "access token refreshed; valid until {} ({} local time)",
        expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        expires_at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S")
    )?;
    Ok(())
}

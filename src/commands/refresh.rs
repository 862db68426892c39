//! `refresh`: refresh the data provider's access token now and print its new expiry.

use std::path::Path;

use anyhow::Result;
use chrono::{Local, SecondsFormat};

use super::{Env, provider};
use crate::provider::Provider as _;

pub fn run(explicit: Option<&Path>) -> Result<()> {
    let env = Env::load(explicit)?;
    let provider = provider(&env)?;
    let expires_at = env.block_on_with_deadline(async { Ok(provider.refresh().await?) })?;
    println!(
        "access token refreshed; valid until {} ({} local time)",
        expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        expires_at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S")
    );
    Ok(())
}

//! `auth <service>`: store what a provider or a sink needs to act for the person, one
//! file per service; `consent` is the browser flow the OAuth 2.0 providers share, and
//! `prompt` how secrets are read without ever passing through argv.

mod bluesky;
// `init` walks through the same flows
pub(super) mod consent;
mod fitbit;
pub(super) mod google;
mod mastodon;
pub(super) mod prompt;
mod webhook;
mod x;

use std::path::Path;

use anyhow::Result;
use clap::{FromArgMatches as _, Subcommand as _};

use crate::cli::AuthService;
use crate::context::Context;
use crate::output::outln;
use crate::sinks::SinkKind;

pub fn run(config_file: Option<&Path>, service: AuthService) -> Result<()> {
    match service {
        AuthService::Google(args) => google::run(config_file, &args),
        AuthService::Fitbit(args) => fitbit::run(config_file, &args),
        AuthService::X { pin } => x::run(config_file, pin),
        AuthService::Mastodon(args) => mastodon::run(config_file, &args),
        AuthService::Bluesky(args) => bluesky::run(config_file, &args),
        AuthService::Discord => webhook::run(config_file, SinkKind::Discord, "DISCORD_WEBHOOK_URL"),
        AuthService::Slack => webhook::run(config_file, SinkKind::Slack, "SLACK_WEBHOOK_URL"),
    }
}

/// `auth <name>` of the sink `kind`, its options taken from the environment as on the
/// command line (`init` runs it).
pub(super) fn sink(config_file: Option<&Path>, kind: SinkKind) -> Result<()> {
    let auth = AuthService::augment_subcommands(clap::Command::new("auth"));
    let matches = auth.try_get_matches_from(["auth", kind.name()])?;
    run(config_file, AuthService::from_arg_matches(&matches)?)
}

/// After `auth` of a sink: how to have `run` post there, unless it already does.
fn hint_enable(ctx: &Context, kind: SinkKind) -> Result<()> {
    if ctx.config.sinks.enabled.contains(&kind) {
        return Ok(());
    }
    outln!(
        "To post there, add \"{}\" to [sinks] enabled in {}.",
        kind.name(),
        ctx.paths.config.display()
    )
}

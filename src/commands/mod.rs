//! One file per subcommand: each parses nothing (clap did), loads what it needs, and
//! hands the work to the job, a provider or a sink. Commands never call each other.

mod auth;
mod chart;
mod completions;
mod config;
mod doctor;
mod fetch;
mod init;
mod man;
mod refresh;
mod run;
mod trends;
mod tweet;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<()> {
    let config_file = cli.config.as_deref();
    match cli.command {
        Command::Config => config::run(config_file),
        Command::Auth { service } => auth::run(config_file, service),
        Command::Refresh => refresh::run(config_file),
        Command::Fetch(args) => fetch::run(config_file, &args),
        Command::Trends(args) => trends::run(config_file, &args),
        Command::Tweet(args) => tweet::run(config_file, &args),
        Command::Run(args) => run::run(config_file, &args),
        Command::Chart(args) => chart::run(config_file, &args),
        Command::Init(args) => init::run(config_file, &args),
        Command::Doctor(args) => doctor::run(config_file, &args),
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
    }
}

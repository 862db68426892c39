//! fitbit-notifier: parse the command line, dispatch, map errors to exit statuses.

#[cfg(test)]
mod arbitrary;
mod cli;
mod commands;
mod config;
mod credentials;
mod dates;
mod demo;
mod error;
mod fitbit_legacy;
mod google_health;
mod http;
mod ledger;
mod logging;
mod loopback_ca;
mod oauth;
mod post_length;
mod provider;
mod render;
mod secret;
mod sinks;
mod state;
mod store;
mod summary;
mod x;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.verbose, cli.quiet);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log::error!("{err:#}");
            error::exit_code_for(&err)
        }
    }
}

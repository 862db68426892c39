//! fitbit-notifier: parse the command line, dispatch, map errors to exit statuses.
//!
//! The pipeline, one folder a stage: `providers` → `day` → `render` → `sinks`, composed
//! by `job`; `net` and `store` serve them; `commands` are the entry points (see the
//! README's "Architecture").

#[cfg(test)]
mod arbitrary;
mod cli;
mod commands;
mod config;
mod context;
mod day;
mod error;
mod job;
mod logging;
mod net;
mod notify;
mod output;
mod providers;
#[cfg(test)]
mod real_answers;
mod render;
mod schedule;
mod secret;
mod sinks;
mod store;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.verbose, cli.quiet);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // the reader of stdout went away (`| head`): what it wanted, it got
        Err(err) if output::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            log::error!("{err:#}");
            error::exit_code_for(&err)
        }
    }
}

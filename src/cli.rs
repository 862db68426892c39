//! The command line: global options and subcommands (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fitbit-notifier",
    version,
    about = "Posts yesterday's Fitbit activity and sleep to X, once a day from cron or a systemd timer",
    after_help = "Exit status: 0 ok, 1 failure, 2 usage, 75 try later, 77 authorize again, 78 fix the configuration."
)]
pub struct Cli {
    /// The config file [default: $XDG_CONFIG_HOME/fitbit-notifier/config.toml]
    #[arg(
        long,
        global = true,
        env = "FITBIT_NOTIFIER_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Say more (repeat for debug output); secrets are never printed
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config and credentials and show where every file lives
    Config,

    /// Print a shell completion script
    ///
    /// For example: fitbit-notifier completions bash > ~/.local/share/bash-completion/completions/fitbit-notifier
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the manual page, fitbit-notifier(1), as roff
    ///
    /// For example: fitbit-notifier man > ~/.local/share/man/man1/fitbit-notifier.1
    Man,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

//! One function per subcommand; each loads what it needs and nothing more.

mod config;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config => config::run(cli.config.as_deref()),
    }
}

//! `init`: from nothing to the first scheduled post, one step at a time: the config
//! (locale, provider, sinks), Google Health (the console steps, `auth google`, a real
//! data call), each sink (its console steps, its `auth` flow, a test post where that is
//! free), and the schedule. Each step writes its files atomically once it succeeded,
//! so an interrupted wizard leaves nothing half-written, and each can be run again
//! alone with `--step`. The console steps and their sources are in docs/setup.md.

mod ask;
mod config_file;
mod google;
mod schedule;
mod sinks;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::{InitArgs, InitStep};
use crate::config;

/// What every step needs.
pub struct Wizard<'a> {
    pub args: &'a InitArgs,
    pub config_file: Option<&'a Path>,
    pub ask: ask::Ask,
}

impl Wizard<'_> {
    /// The config the other steps load: `--config` when given, else the default path
    /// (which exists once the config step ran).
    fn config_path(&self) -> Result<PathBuf> {
        Ok(match self.config_file {
            Some(path) => path.to_path_buf(),
            None => config::default_config_path()?,
        })
    }
}

pub fn run(config_file: Option<&Path>, args: &InitArgs) -> Result<()> {
    // a wizard without a terminal would wait for answers nobody types
    let interactive = !args.no_input && std::io::stdin().is_terminal();
    let wizard = Wizard {
        args,
        config_file,
        ask: ask::Ask { interactive },
    };
    let steps = match args.step {
        Some(step) => vec![step],
        None => vec![
            InitStep::Config,
            InitStep::Google,
            InitStep::Sinks,
            InitStep::Schedule,
        ],
    };
    for step in steps {
        match step {
            InitStep::Config => config_file::step(&wizard)?,
            InitStep::Google => google::step(&wizard)?,
            InitStep::Sinks => sinks::step(&wizard)?,
            InitStep::Schedule => schedule::step(&wizard)?,
        }
    }
    if args.step.is_none() {
        wizard
            .ask
            .say("\nAll set. `fitbit-notifier doctor` checks the whole setup at any time.");
    }
    Ok(())
}

//! `run`: the daily job for the day `--date` names, or the sample day with `--demo`.

use std::path::Path;

use anyhow::Result;

use crate::cli::RunArgs;
use crate::context::Context;
use crate::error;
use crate::job::{self, Mode};
use crate::notify;
use crate::store::state;

pub fn run(config_file: Option<&Path>, args: &RunArgs) -> Result<()> {
    if args.demo {
        return job::show_demo(config_file, args.chart.as_deref());
    }
    let mode = if args.force {
        Mode::Forced
    } else {
        Mode::Scheduled
    };
    let result = job::post_day(
        config_file,
        args.date,
        mode,
        args.dry_run,
        args.chart.as_deref(),
        args.sink,
    );
    // a scheduled run's outcome is what `doctor` reports; a dry run or one sink is not one
    if !args.dry_run && args.sink.is_none() {
        record_outcome(config_file, &result);
    }
    result
}

fn record_outcome(config_file: Option<&Path>, result: &Result<()>) {
    let Ok(env) = Context::load(config_file) else {
        return;
    };
    let (kind, message) = match result {
        Ok(()) => (None, "ok".to_string()),
        Err(err) => (Some(error::kind_of(err)), format!("{err:#}")),
    };
    let exit = kind.map_or(0, error::Kind::exit_status);
    state::remember_run(&state::store(&env.paths), exit, &message);
    notify::after_run(&env, kind, &message);
}

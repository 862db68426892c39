//! `run`: the daily job for the day `--date` names, or the sample day with `--demo`.

use std::path::Path;

use anyhow::Result;

use crate::cli::RunArgs;
use crate::job::{self, Mode};

pub fn run(config_file: Option<&Path>, args: &RunArgs) -> Result<()> {
    if args.demo {
        return job::show_demo(config_file, args.chart.as_deref());
    }
    let mode = if args.force {
        Mode::Forced
    } else {
        Mode::Scheduled
    };
    job::post_day(
        config_file,
        args.date,
        mode,
        args.dry_run,
        args.chart.as_deref(),
    )
}

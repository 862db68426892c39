//! `chart`: the chart of any range of days, drawn as the week's post carries it, to a
//! PNG file, so it can be looked at before it is posted.

use std::path::Path;

use anyhow::Result;

use crate::cli::ChartArgs;
use crate::job;

pub fn run(config_file: Option<&Path>, args: &ChartArgs) -> Result<()> {
    job::chart_days(config_file, args.date, args.days, &args.output)
}

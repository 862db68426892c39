//! `trends`: each metric's mean and spread over the last N days (28 by default), from
//! one range fetch: a personal baseline to choose `[[alerts]]` thresholds from.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::cli::TrendsArgs;
use crate::context::Context;
use crate::day::DaySummary;
use crate::day::metrics::{Metric, Spread, spread};
use crate::job;
use crate::output::outln;
use crate::providers;

pub fn run(config_file: Option<&Path>, args: &TrendsArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let provider = providers::from_config(&env);
    let days =
        env.block_on_with_deadline(job::fetch_days(&env, &provider, args.date, args.days))?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&as_json(&days)).context("cannot encode the baseline")?;
        outln!("{json}")?;
    } else {
        crate::output::write(format_args!("{}", table(&days)))?;
    }
    Ok(())
}

fn as_json(days: &[DaySummary]) -> serde_json::Value {
    let metrics: serde_json::Map<String, serde_json::Value> = Metric::ALL
        .iter()
        .map(|&metric| {
            let value = spread(metric, days).map_or(serde_json::Value::Null, |s| {
                json!({"mean": s.mean, "sd": s.sd, "min": s.min, "max": s.max,
                       "days_with_data": s.days_with_data})
            });
            (metric.name().to_string(), value)
        })
        .collect();
    json!({
        "first": days.first().map(|d| d.date),
        "last": days.last().map(|d| d.date),
        "days": days.len(),
        "metrics": metrics,
    })
}

/// One line a metric: mean ± sd, the range, how many days had data, and the usual band
/// (mean ± 1 sd) that a threshold outside of is worth an alert.
fn table(days: &[DaySummary]) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return String::new();
    };
    let mut text = format!(
        "baseline {} to {} ({} days)\n{:<20}{:>10}{:>10}{:>10}{:>10}  days\n",
        first.date,
        last.date,
        days.len(),
        "metric",
        "mean",
        "sd",
        "min",
        "max"
    );
    for metric in Metric::ALL {
        match spread(metric, days) {
            Some(Spread {
                mean,
                sd,
                min,
                max,
                days_with_data,
            }) => {
                text += &format!(
                    "{:<20}{mean:>10.2}{sd:>10.2}{min:>10.2}{max:>10.2}  {days_with_data}\n",
                    metric.name()
                );
            }
            None => text += &format!("{:<20}{:>10}\n", metric.name(), "no data"),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::demo::sample_days;

    #[test]
    fn the_baseline_names_every_metric_and_says_no_data_for_the_missing() {
        let mut days = sample_days("2026-11-29".parse().unwrap(), 28);
        for day in &mut days {
            day.water_ml = None;
        }
        let text = table(&days);
        assert!(
            text.starts_with("baseline 2026-11-02 to 2026-11-29 (28 days)\n"),
            "{text}"
        );
        let water = text.lines().find(|l| l.starts_with("water_ml")).unwrap();
        assert_eq!(
            water.split_whitespace().collect::<Vec<_>>(),
            ["water_ml", "no", "data"]
        );
        let steps = text.lines().find(|l| l.starts_with("steps")).unwrap();
        assert!(steps.ends_with("  28"), "{steps}");
        let json = as_json(&days);
        assert_eq!(json["metrics"]["water_ml"], serde_json::Value::Null);
        assert_eq!(json["metrics"]["steps"]["days_with_data"], 28);
    }
}

//! `fetch`: one civil day's summary from the data provider, or the N days ending on it
//! (one round of requests), as tables or as JSON.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::FetchArgs;
use crate::context::Context;
use crate::day::DaySummary;
use crate::job;
use crate::output::outln;
use crate::providers;

pub fn run(config_file: Option<&Path>, args: &FetchArgs) -> Result<()> {
    let env = Context::load(config_file)?;
    let provider = providers::from_config(&env);
    let count = args.days.unwrap_or(1);
    let days = env.block_on_with_deadline(job::fetch_days(&env, &provider, args.date, count))?;
    if args.json {
        let json = match (args.days, days.as_slice()) {
            (None, [day]) => serde_json::to_string_pretty(day),
            _ => serde_json::to_string_pretty(&days),
        }
        .context("cannot encode the summary")?;
        outln!("{json}")?;
    } else {
        let tables: Vec<String> = days.iter().map(table).collect();
        crate::output::write(format_args!("{}", tables.join("\n")))?;
    }
    Ok(())
}

const NO_DATA: &str = "no data";

/// The summary as aligned `label  value` lines; "no data" where nothing was recorded.
fn table(s: &DaySummary) -> String {
    let a = &s.activity;
    let mut rows: Vec<(&str, String)> = vec![
        ("date", format!("{} ({})", s.date, s.timezone)),
        ("provider", s.provider.clone()),
        ("steps", show(a.steps, "")),
        (
            "distance",
            show(a.distance_km.map(|km| format!("{km:.2}")), " km"),
        ),
        (
            "calories out",
            show(a.calories_out_kcal.map(round), " kcal"),
        ),
        (
            "  basal (BMR)",
            show(a.calories_bmr_kcal.map(round), " kcal"),
        ),
        (
            "  activity",
            show(a.activity_calories_kcal.map(round), " kcal"),
        ),
        ("sedentary", show(a.sedentary_minutes, " min")),
        ("lightly active", show(a.lightly_active_minutes, " min")),
        ("fairly active", show(a.fairly_active_minutes, " min")),
        ("very active", show(a.very_active_minutes, " min")),
    ];
    match &s.sleep {
        None => rows.push(("sleep", NO_DATA.to_string())),
        Some(sleep) => {
            let time = |t: Option<chrono::NaiveDateTime>| {
                t.map_or_else(
                    || "?".to_string(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
            rows.push((
                "sleep",
                format!("{} to {}", time(sleep.start), time(sleep.end)),
            ));
            rows.push(("  asleep", show(sleep.minutes_asleep, " min")));
            rows.push(("  in bed", show(sleep.minutes_in_bed, " min")));
            let st = &sleep.stages;
            if [st.deep, st.light, st.rem, st.wake]
                .iter()
                .any(Option::is_some)
            {
                rows.push((
                    "  stages",
                    format!(
                        "deep {}, light {}, rem {}, wake {} (min)",
                        show(st.deep, ""),
                        show(st.light, ""),
                        show(st.rem, ""),
                        show(st.wake, "")
                    ),
                ));
            }
        }
    }
    rows.push(("water", show(s.water_ml.map(round), " ml")));
    rows.push((
        "weight",
        show(s.weight_kg.map(|kg| format!("{kg:.1}")), " kg"),
    ));
    rows.push((
        "body fat",
        show(s.body_fat_percent.map(|p| format!("{p:.1}")), " %"),
    ));
    rows.push(("resting heart rate", show(s.resting_heart_rate_bpm, " bpm")));
    match &s.device {
        None => rows.push(("device", NO_DATA.to_string())),
        Some(device) => {
            rows.push((
                "device",
                device.name.clone().unwrap_or_else(|| "unnamed".into()),
            ));
            rows.push(("  battery", show(device.battery_percent, " %")));
            rows.push((
                "  last sync",
                show(device.last_sync.map(|t| t.format("%Y-%m-%d %H:%M:%S")), ""),
            ));
        }
    }
    rows.iter()
        .map(|(label, value)| format!("{label:<20}{value}\n"))
        .collect()
}

fn show(value: Option<impl std::fmt::Display>, unit: &str) -> String {
    value.map_or_else(|| NO_DATA.to_string(), |v| format!("{v}{unit}"))
}

fn round(value: f64) -> String {
    format!("{value:.0}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::Activity;

    #[test]
    fn absent_values_read_no_data_and_zeros_read_zero() {
        let summary = DaySummary {
            date: "2026-11-25".parse().unwrap(),
            timezone: "Asia/Tokyo".into(),
            provider: "google-health".into(),
            activity: Activity {
                steps: Some(0),
                distance_km: Some(7.1234),
                ..Activity::default()
            },
            sleep: None,
            water_ml: None,
            weight_kg: Some(71.2345),
            body_fat_percent: None,
            resting_heart_rate_bpm: None,
            device: None,
        };
        let text = table(&summary);
        assert!(text.contains("steps               0\n"), "{text}");
        assert!(text.contains("distance            7.12 km\n"), "{text}");
        assert!(text.contains("calories out        no data\n"), "{text}");
        assert!(text.contains("sleep               no data\n"), "{text}");
        assert!(text.contains("weight              71.2 kg\n"), "{text}");
        assert!(
            text.starts_with("date                2026-11-25 (Asia/Tokyo)\n"),
            "{text}"
        );
    }
}

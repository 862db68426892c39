//! What would go out, shown instead of sent: the dry run's messages and each sink's
//! verdict on them, the demo day, and the week's chart written to a file.

use std::path::Path;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use futures_util::future::join_all;

use crate::context::Context;
use crate::day::dates::DateArg;
use crate::day::week::WEEK_DAYS;
use crate::day::{DaySummary, demo};
use crate::error::Error;
use crate::output::outln;
use crate::providers;
use crate::render::chart::WeekChart;
use crate::render::{Rendered, Renderer};
use crate::sinks::{self, Image, Rule, SinkKind};
use crate::store::credentials::Credentials;
use crate::store::state;

use super::fetch::fetch_days;
use super::{Mode, Post, ensure_synced, monitor, render, too_long};

/// Prints the sample day's messages as the config would render them: no account, no
/// request. With `chart`, also writes the chart of the sample week there, ending on the
/// very day the messages tell of, so that the last bars and the messages agree.
pub fn show_demo(config_file: Option<&Path>, chart: Option<&Path>) -> Result<()> {
    let loaded = crate::config::load(config_file)?;
    let renderer = Renderer::from_config(&loaded.config)?;
    let day = demo::sample_day();
    print_messages(&render(&renderer, &day)?)?;
    if let Some(file) = chart {
        let mut days = demo::sample_days(day.date, WEEK_DAYS);
        if let Some(last) = days.last_mut() {
            *last = day;
        }
        write_chart(&WeekChart::of_days(&days, &loaded.config), file)?;
    }
    Ok(())
}

/// Writes the chart of the `count` days ending on the day `date` names to `file`
/// (`fitbit-notifier chart`).
pub fn chart_days(
    config_file: Option<&Path>,
    date: DateArg,
    count: u32,
    file: &Path,
) -> Result<()> {
    let env = Context::load(config_file)?;
    let provider = providers::from_config(&env);
    let days = env.block_on_with_deadline(fetch_days(&env, &provider, date, count))?;
    write_chart(&WeekChart::of_days(&days, &env.config), file)
}

/// Writes the chart's PNG to `file` and its alt text to stderr (unless -q), so the
/// description can be read next to the picture.
pub(super) fn write_chart(chart: &WeekChart, file: &Path) -> Result<()> {
    let image = monitor::chart_image(chart)
        .ok_or_else(|| Error::other("the chart has no description; report it as a bug"))?;
    write_image(&image, file)
}

pub(super) fn write_image(image: &Image, file: &Path) -> Result<()> {
    std::fs::write(file, image.bytes()).map_err(|err| {
        Error::other(format!(
            "cannot write the chart to {}: {err}; give a path in a writable directory",
            file.display()
        ))
    })?;
    if log::log_enabled!(log::Level::Warn) {
        eprintln!(
            "wrote {} ({} bytes, {}x{}); alt text: {}",
            file.display(),
            image.bytes().len(),
            image.width(),
            image.height(),
            image.alt()
        );
    }
    Ok(())
}

/// Why a dry run has no chart to write.
pub(super) fn no_chart(env: &Context, date: NaiveDate) -> Error {
    let why = match &env.config.weekly {
        None => "there is no [weekly] table in the config".to_string(),
        Some(weekly) if !weekly.chart => "[weekly] chart = false".to_string(),
        Some(weekly) => format!(
            "{date} is a {}, not the [weekly] day ({})",
            date.weekday(),
            weekly.day
        ),
    };
    Error::other(format!(
        "no chart would be attached on {date}: {why}; `fitbit-notifier chart --date {date} -o FILE` draws any week"
    ))
}

/// The messages exactly as they would be posted, separated by a line `---`.
pub(super) fn print_messages(rendered: &Rendered) -> Result<()> {
    let texts: Vec<&str> = rendered.messages.iter().map(|m| m.text.as_str()).collect();
    print_texts(&texts)
}

pub(super) fn print_posts(posts: &[Post]) -> Result<()> {
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    print_texts(&texts)
}

pub(super) fn print_texts(texts: &[&str]) -> Result<()> {
    if !texts.is_empty() {
        outln!("{}", texts.join("\n---\n"))?;
    }
    Ok(())
}

/// The rule of every enabled sink, in `[sinks] enabled` order, for the dry run to
/// await alongside the data: Mastodon's may be a request to its instance.
pub(super) async fn enabled_rules(
    env: &Context,
    credentials: &Credentials,
) -> Result<Vec<(SinkKind, Rule)>> {
    let enabled = &env.config.sinks.enabled;
    let rules = enabled
        .iter()
        .map(|&kind| sinks::rule(kind, &env.client, &env.config, credentials));
    Ok(enabled.iter().copied().zip(join_all(rules).await).collect())
}

/// The dry run's verdict per sink and message, one line each on stderr (the messages
/// themselves are on stdout): already posted, or would be posted at this length, or
/// too long. A message that is too long for an enabled sink fails the dry run as it
/// would fail the run. `rules` are the enabled sinks' in order.
pub(super) fn report_sinks(
    env: &Context,
    rules: &[(SinkKind, Rule)],
    posts: &[Post],
    mode: Mode,
) -> Result<()> {
    let ledger = state::store(&env.paths).load()?.posted;
    let mut refused = None;
    for &(kind, rule) in rules {
        for post in posts.iter().filter(|post| post.is_for(kind)) {
            let verdict =
                if mode == Mode::Scheduled && ledger.is_posted(post.date, kind.name(), &post.key) {
                    "already posted".to_string()
                } else {
                    match rule.measure(&post.text) {
                        Ok(length) => format!(
                            "would be posted ({length}){}",
                            post.image
                                .as_ref()
                                .map(|image| with_image(kind, image))
                                .unwrap_or_default()
                        ),
                        Err(why) => {
                            let verdict = format!("too long: {why}");
                            refused.get_or_insert_with(|| too_long(post, kind, &why));
                            verdict
                        }
                    }
                };
            // a dry run is for a person: its report shows without -v, but not with -q
            if log::log_enabled!(log::Level::Warn) {
                eprintln!("{}: {}: {verdict}", kind.name(), post.key);
            }
        }
    }
    match refused {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}

/// What becomes of a post's image on `kind`, for the dry run's verdict.
pub(super) fn with_image(kind: SinkKind, image: &Image) -> String {
    match kind.no_images() {
        Some(why) => format!(" without the chart: {why}"),
        None => format!(
            " with the chart ({} bytes, alt text of {} characters)",
            image.bytes().len(),
            image.alt().chars().count()
        ),
    }
}

pub(super) fn warn_if_incomplete(day: &DaySummary) {
    if let Err(err) = ensure_synced(day) {
        log::warn!("a scheduled run would not post yet: {err}");
    }
}

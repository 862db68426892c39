//! The daily job, the one place the pipeline is composed: resolve the date in the
//! account's zone (checked in the data round, see `zone`), fetch the day from the
//! provider, gate on the tracker's sync, render its messages, check their length for
//! every sink, post what each sink has not had yet, and record each post in the ledger
//! as soon as it is made. `run`, `tweet --date` and
//! `fetch` call it.
//!
//! On the `[weekly]` day the run also posts the week's message, and every `[[alerts]]`
//! rule is stepped through the days since its last run (`monitor`); all of it comes from
//! one range fetch, one concurrent round of requests.
//!
//! The order is sink-major: every sink gets the run's messages in order (activity,
//! sleep, week, then the alerts in date order), and the sinks post side by side, each on its own. A failure stops only the
//! sink it happened on (its later messages wait for the next run, so they never arrive
//! out of order); the others post everything they can. The run then exits with the
//! status of the failure that matters most: 75 when a retry may help any sink (a re-run
//! posts only what is missing), else 77, 78 or 1.

use std::cmp::Reverse;
use std::path::Path;

use anyhow::Result;
use chrono::Utc;
use futures_util::future::join_all;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use crate::config::SinkKind;
use crate::context::Context;
use crate::day::dates::{self, DateArg};
use crate::day::week::WEEK_DAYS;
use crate::day::{DayRange, DaySummary, MessageKind, demo};
use crate::error::{self, Error, Kind};
use crate::output::outln;
use crate::providers::{self, Provider};
use crate::render::chart::WeekChart;
use crate::render::{Rendered, Renderer};
use crate::sinks::{self, Image, Outcome, Outgoing, Sink};
use crate::store::Locked;
use crate::store::credentials::{self, Credentials};
use crate::store::ledger::{self, Entry};
use crate::store::state::{self, State, StateStore};
use monitor::Plan;
use zone::{Zone, Zoned};

mod monitor;
mod zone;

/// Days of ledger kept: long enough for any re-run or catch-up after downtime.
const LEDGER_DAYS: u64 = 60;

/// How the job treats what is already posted and whether the day is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The scheduled job: posts only what the ledger lacks, only once the tracker has
    /// synced past the day's end; a duplicate answer (X) means "already posted".
    Scheduled,
    /// `run --force`: posts every message again, synced or not.
    Forced,
    /// `tweet --date`: an explicit request to post the day's messages now; a duplicate
    /// answer (X) is an error the user should see.
    Explicit,
}

/// Prints the sample day's messages as the config would render them: no account, no
/// request.
/// With `chart`, also writes the chart of the sample week ending on the sample day there.
pub fn show_demo(config_file: Option<&Path>, chart: Option<&Path>) -> Result<()> {
    let loaded = crate::config::load(config_file)?;
    let renderer = Renderer::from_config(&loaded.config)?;
    print_messages(&render(&renderer, &demo::sample_day())?)?;
    if let Some(file) = chart {
        let days = demo::sample_days(demo::sample_day().date, WEEK_DAYS);
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
fn write_chart(chart: &WeekChart, file: &Path) -> Result<()> {
    let image = monitor::chart_image(chart)
        .ok_or_else(|| Error::other("the chart has no description; report it as a bug"))?;
    write_image(&image, file)
}

fn write_image(image: &Image, file: &Path) -> Result<()> {
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

/// Fetches, renders and (unless `dry_run`) posts the messages of the day `date` names
/// to every enabled sink, or to `only` that sink when given (`run --sink`, `tweet --date
/// --sink`), enabled in the config or not. A dry run with `chart` writes the image the
/// week's message would carry there.
pub fn post_day(
    config_file: Option<&Path>,
    date: DateArg,
    mode: Mode,
    dry_run: bool,
    chart: Option<&Path>,
    only: Option<SinkKind>,
) -> Result<()> {
    let mut env = Context::load(config_file)?;
    if let Some(kind) = only {
        env.config.sinks.enabled = vec![kind];
    }
    // a broken template is a configuration error before any request is made
    let renderer = Renderer::from_config(&env.config)?;
    let provider = providers::from_config(&env);
    let credentials = credentials::store(&env.paths).load()?;
    if dry_run {
        return env.block_on_with_deadline(async {
            let store = state::store(&env.paths);
            let state = store.load()?;
            let remember = async |tz| remember_unheld(&store, tz).await;
            let zone = Zone::first_guess(
                env.config.timezone,
                state.account_timezone,
                &provider,
                &remember,
            )
            .await?;
            let alerts = state.alerts;
            let range =
                |date| DayRange::ending(date, Plan::new(&env.config, &alerts, date).days_needed());
            let Zoned { date, days } = zone
                .read(&provider, date, Utc::now(), range, &remember)
                .await?;
            let plan = Plan::new(&env.config, &alerts, date);
            let day = last_day(&days)?;
            warn_if_incomplete(day);
            let mut posts = day_posts(day, render(&renderer, day)?);
            let monitoring = plan.evaluate(&days, &renderer)?;
            posts.extend(monitoring.posts);
            // before anything is printed: a dry run asked for a chart there is none of fails
            if let Some(file) = chart {
                let image = posts.iter().find_map(|post| post.image.as_ref());
                let image = image.ok_or_else(|| no_chart(&env, date))?;
                write_image(image, file)?;
            }
            print_posts(&posts)?;
            if log::log_enabled!(log::Level::Warn) {
                for line in &monitoring.report {
                    eprintln!("{line}");
                }
            }

            report_sinks(&env, &credentials, &posts, mode).await
        });
    }
    // so is a sink without credentials, before anything is fetched
    let sinks = Sink::enabled(&env.client, &env.config, &env.paths, &credentials)?;
    env.block_on_with_deadline(async {
        let states = state::store(&env.paths);
        // one run at a time posts a day: a second one waits here, then finds the
        // ledger updated and posts nothing twice
        let locked = states.lock_async().await?;
        // a post that could not be recorded would be posted again by the next run
        locked.reserve()?;
        let job = Job {
            env: &env,
            renderer: &renderer,
            credentials: &credentials,
            sinks: &sinks,
            locked: &locked,
            mode,
        };
        job.run(&provider, date).await
    })
}

struct Job<'a> {
    env: &'a Context,
    renderer: &'a Renderer,
    credentials: &'a Credentials,
    sinks: &'a [Sink<'a>],
    locked: &'a Locked<'a, State>,
    mode: Mode,
}

/// One message of a run, for the sinks it is for.
pub(crate) struct Post {
    /// The day it is about: the run's day, or for an alert the day it changed.
    date: NaiveDate,
    kind: MessageKind,
    /// Its name in the ledger: the kind, or for an alert `alert:<name>`.
    key: String,
    text: String,
    /// The sinks it goes to by name; every enabled sink when `None`.
    sinks: Option<Vec<String>>,
    /// The week's chart, attached where the sink takes images.
    image: Option<Image>,
}

impl Post {
    fn new(date: NaiveDate, kind: MessageKind, text: String, sinks: Option<Vec<String>>) -> Post {
        Post {
            date,
            kind,
            key: kind.name().to_string(),
            text,
            sinks,
            image: None,
        }
    }

    fn is_for(&self, sink: SinkKind) -> bool {
        self.sinks
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == sink.name()))
    }

    fn what(&self) -> String {
        format!("{} message of {}", self.key, self.date)
    }
}

/// The day's own messages as posts for every sink.
fn day_posts(day: &DaySummary, rendered: Rendered) -> Vec<Post> {
    rendered
        .messages
        .into_iter()
        .map(|m| Post::new(day.date, m.kind, m.text, None))
        .collect()
}

/// The messages one sink is to get in this run, in order.
struct Delivery<'a> {
    sink: &'a Sink<'a>,
    posts: Vec<&'a Post>,
}

impl Job<'_> {
    async fn run(&self, provider: &impl Provider, date: DateArg) -> Result<()> {
        let state = self.locked.read()?;
        let remember = async |tz| remember_held(self.locked, tz);
        let zone = Zone::first_guess(
            self.env.config.timezone,
            state.account_timezone,
            provider,
            &remember,
        )
        .await?;
        let now = Utc::now();
        let alerts = state.alerts;
        let guessed = dates::resolve(date, now, zone.tz())?;
        // Nothing is read, so the cached zone goes unchecked; a zone that moved the day
        // is found by the first run whose day in the cached zone is not yet posted, at
        // the latest a day later, and nothing is posted meanwhile.
        let plan = Plan::new(&self.env.config, &alerts, guessed);
        if self.mode == Mode::Scheduled && self.everything_posted(guessed, &plan)? {
            log::info!("the messages of {guessed} are already posted; nothing to do");
            return Ok(());
        }
        let range = |date| {
            DayRange::ending(
                date,
                Plan::new(&self.env.config, &alerts, date).days_needed(),
            )
        };
        let Zoned { date, days } = zone.read(provider, date, now, range, &remember).await?;
        let plan = Plan::new(&self.env.config, &alerts, date);
        let day = last_day(&days)?;
        if self.mode == Mode::Scheduled {
            ensure_synced(day)?;
        }
        let mut posts = day_posts(day, render(self.renderer, day)?);
        let monitoring = plan.evaluate(&days, self.renderer)?;
        posts.extend(monitoring.posts);
        let deliveries = self.deliveries(&posts)?;
        self.check_lengths(&deliveries).await?;
        let results = join_all(deliveries.iter().map(|delivery| self.deliver(delivery))).await;
        worst_failure(results)?;
        // only once every alert message is out: a run that failed on some sink steps
        // the same days again next time, and the ledger keeps the sinks that have them
        // from getting them twice
        let mut state = self.locked.read()?;
        state.alerts = monitoring.states;
        self.locked.write(&state)?;
        Ok(())
    }

    /// Whether a scheduled run for `date` has nothing left to do: every sink has the
    /// day's messages (and on the weekly day the week's), and no alert has a day to step.
    fn everything_posted(&self, date: NaiveDate, plan: &Plan) -> Result<bool> {
        let ledger = self.locked.read()?.posted;
        let week = plan.week.then_some(MessageKind::Week);
        Ok(!plan.alerts_pending()
            && self.sinks.iter().all(|sink| {
                MessageKind::ALL
                    .iter()
                    .chain(week.iter())
                    .all(|kind| ledger.is_posted(date, sink.kind().name(), kind.name()))
            }))
    }

    /// What each sink is to get: every message for it, or in a scheduled run the ones
    /// its ledger entries lack. Sinks with nothing to get are left out.
    fn deliveries<'a>(&self, posts: &'a [Post]) -> Result<Vec<Delivery<'a>>>
    where
        Self: 'a,
    {
        let ledger = self.locked.read()?.posted;
        let mut deliveries = Vec::new();
        for sink in self.sinks {
            let name = sink.kind().name();
            let (posted, missing): (Vec<&Post>, Vec<&Post>) = posts
                .iter()
                .filter(|post| post.is_for(sink.kind()))
                .partition(|post| {
                    self.mode == Mode::Scheduled && ledger.is_posted(post.date, name, &post.key)
                });
            for post in posted {
                log::info!("{} was posted to {name} before; skipped", post.what());
            }
            if !missing.is_empty() {
                deliveries.push(Delivery {
                    sink,
                    posts: missing,
                });
            }
        }
        Ok(deliveries)
    }

    /// Every message is checked against every sink it is for before the first is
    /// posted, so a day is never half posted because one message was too long for one
    /// sink.
    async fn check_lengths(&self, deliveries: &[Delivery<'_>]) -> Result<(), Error> {
        for delivery in deliveries {
            let kind = delivery.sink.kind();
            let rule =
                sinks::rule(kind, &self.env.client, &self.env.config, self.credentials).await;
            for post in &delivery.posts {
                rule.measure(&post.text)
                    .map_err(|why| too_long(post, kind, &why))?;
            }
        }
        Ok(())
    }

    /// Posts a sink's messages in order, recording each; the first failure ends this
    /// sink's turn.
    async fn deliver(&self, delivery: &Delivery<'_>) -> Result<()> {
        for post in &delivery.posts {
            let outgoing = Outgoing {
                date: post.date,
                kind: post.kind,
                text: &post.text,
                image: post.image.as_ref(),
            };
            // the space the previous record used is reserved again before each post
            self.locked.reserve()?;
            let outcome = delivery.sink.post(&outgoing).await?;
            self.record(delivery.sink.kind(), post, outcome)?;
        }
        Ok(())
    }

    /// Writes the post to the ledger at once, so a failure on a later message leaves
    /// this one recorded and a re-run posts only what is missing.
    fn record(&self, sink: SinkKind, post: &Post, outcome: Outcome) -> Result<()> {
        let what = post.what();
        let mut unanswered = None;
        let id = match outcome {
            Outcome::New { id, url } => {
                let link = url.or_else(|| id.clone()).unwrap_or_default();
                log::info!("posted the {what} to {}: {link}", sink.title());
                id
            }
            Outcome::AlreadyPosted if self.mode == Mode::Explicit => {
                return Err(Error::other(format!(
                    "{} refused the {what} as a duplicate (403): it is already on the account",
                    sink.title()
                ))
                .into());
            }
            Outcome::AlreadyPosted => {
                log::info!(
                    "{} already has the {what}; recorded as posted",
                    sink.title()
                );
                None
            }
            Outcome::Unanswered(detail) => {
                unanswered = Some(detail);
                None
            }
        };
        let entry = Entry { id, at: Utc::now() };
        let mut state = self.locked.read()?;
        state
            .posted
            .record(post.date, sink.name(), &post.key, entry.clone());
        state
            .posted
            .prune_before(post.date - chrono::Days::new(LEDGER_DAYS));
        if let Err(err) = self.locked.write(&state) {
            return Err(Error::other(format!(
                "the {what} went to {title}, but recording it failed ({err}); so that no run posts it \
                 again, add this line at the top of {state} (above its first [section]), then free disk space there: {line}",
                title = sink.title(),
                state = self.env.paths.state.display(),
                line = ledger::line(post.date, sink.name(), &post.key, &entry)
            ))
            .into());
        }
        match unanswered {
            None => Ok(()),
            Some(detail) => Err(Error::other(format!(
                "{title} gave no clear answer after the {what} was sent ({detail}), so it may have been \
                 published; {title} cannot tell a repeat from a new post, so it is recorded as posted and \
                 no run sends it again: look at {title}, and if it is missing, delete \
                 posted.\"{date}\".{name}.{message} from {state} and run again",
                title = sink.title(),
                date = post.date,
                name = sink.name(),
                message = post.key,
                state = self.env.paths.state.display()
            ))
            .into()),
        }
    }
}

/// Why a dry run has no chart to write.
fn no_chart(env: &Context, date: NaiveDate) -> Error {
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

fn too_long(post: &Post, sink: SinkKind, why: &str) -> Error {
    Error::other(format!(
        "the {} message is too long for {}: {why}",
        post.key,
        sink.title()
    ))
}

/// The run's outcome: success, or the failure whose exit status fits the run best (each
/// other failure is logged on a line of its own). A temporary failure comes first: the
/// retry it asks for posts only what is missing and cannot hurt the other sinks.
fn worst_failure(results: Vec<Result<()>>) -> Result<()> {
    let mut failures: Vec<anyhow::Error> = results.into_iter().filter_map(Result::err).collect();
    // stable: among equals, the sink first in [sinks] enabled
    failures.sort_by_key(|err| Reverse(precedence(error::kind_of(err))));
    let mut failures = failures.into_iter();
    let Some(first) = failures.next() else {
        return Ok(());
    };
    for other in failures {
        log::error!("{other:#}");
    }
    Err(first)
}

fn precedence(kind: Kind) -> u8 {
    match kind {
        Kind::TryLater => 3,
        Kind::Reauth => 2,
        Kind::Config => 1,
        Kind::Other => 0,
    }
}

fn render(renderer: &Renderer, day: &DaySummary) -> Result<Rendered> {
    let rendered = renderer.render(day)?;
    for skipped in &rendered.skipped {
        log::warn!("{}", skipped.note);
    }
    Ok(rendered)
}

/// The tracker must have uploaded data from after the day's end, or the day's totals
/// may still grow: posting them now would post a partial day.
fn ensure_synced(day: &DaySummary) -> Result<(), Error> {
    match day.synced_past_day_end() {
        Some(true) => Ok(()),
        Some(false) => Err(Error::try_later(format!(
            "not synced yet: the tracker last uploaded at {} ({}), before {} ended; will try again \
             (sync the Fitbit app, or pass --force to post the partial day)",
            day.last_sync_text(),
            day.timezone,
            day.date
        ))),
        None => {
            log::warn!(
                "no tracker sync time is available, so whether {} is complete cannot be checked",
                day.date
            );
            Ok(())
        }
    }
}

fn warn_if_incomplete(day: &DaySummary) {
    if let Err(err) = ensure_synced(day) {
        log::warn!("a scheduled run would not post yet: {err}");
    }
}

/// The messages exactly as they would be posted, separated by a line `---`.
fn print_messages(rendered: &Rendered) -> Result<()> {
    let texts: Vec<&str> = rendered.messages.iter().map(|m| m.text.as_str()).collect();
    print_texts(&texts)
}

fn print_posts(posts: &[Post]) -> Result<()> {
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    print_texts(&texts)
}

fn print_texts(texts: &[&str]) -> Result<()> {
    if !texts.is_empty() {
        outln!("{}", texts.join("\n---\n"))?;
    }
    Ok(())
}

/// The dry run's verdict per sink and message, one line each on stderr (the messages
/// themselves are on stdout): already posted, or would be posted at this length, or
/// too long. A message that is too long for an enabled sink fails the dry run as it
/// would fail the run.
async fn report_sinks(
    env: &Context,
    credentials: &Credentials,
    posts: &[Post],
    mode: Mode,
) -> Result<()> {
    let ledger = state::store(&env.paths).load()?.posted;
    let mut refused = None;
    for &kind in &env.config.sinks.enabled {
        let rule = sinks::rule(kind, &env.client, &env.config, credentials).await;
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
fn with_image(kind: SinkKind, image: &Image) -> String {
    match kind {
        SinkKind::Slack => format!(" without the chart: {}", sinks::SLACK_NO_FILES),
        _ => format!(
            " with the chart ({} bytes, alt text of {} characters)",
            image.bytes().len(),
            image.alt().chars().count()
        ),
    }
}

/// The summaries of the `count` days ending on the day `date` names in the account's
/// zone (see `zone`), oldest first; each names the zone it was read in.
pub async fn fetch_days(
    ctx: &Context,
    provider: &impl Provider,
    date: DateArg,
    count: u32,
) -> Result<Vec<DaySummary>> {
    let store = state::store(&ctx.paths);
    let remember = async |tz| remember_unheld(&store, tz).await;
    let cached = store.load()?.account_timezone;
    let zone = Zone::first_guess(ctx.config.timezone, cached, provider, &remember).await?;
    let range = |date| DayRange::ending(date, count);
    Ok(zone
        .read(provider, date, Utc::now(), range, &remember)
        .await?
        .days)
}

/// The one day `date` names, as [`fetch_days`] reads it: the check that a provider
/// answers (`init`, `doctor`).
pub async fn fetch_day(
    ctx: &Context,
    provider: &impl Provider,
    date: DateArg,
) -> Result<DaySummary> {
    let days = fetch_days(ctx, provider, date, 1).await?;
    days.into_iter().next().ok_or_else(|| {
        Error::other("the provider returned no day; report it with the output of -vv").into()
    })
}

/// The provider's summaries of `range` with every physically impossible value dropped
/// (and a warning naming it), so that it reads "not recorded" rather than being shown
/// or posted. Every command that shows or posts a day gets it from here.
async fn checked_days(
    provider: &impl Provider,
    range: DayRange,
    tz: Tz,
) -> Result<Vec<DaySummary>> {
    let mut days = provider.fetch_days(range, tz).await?;
    for day in &mut days {
        for note in day.sanitize() {
            log::warn!("{note}");
        }
    }
    Ok(days)
}

/// The run's own day: the last of the range.
fn last_day(days: &[DaySummary]) -> Result<&DaySummary, Error> {
    days.last().ok_or_else(|| {
        Error::other("the provider returned no days; report it with the output of -vv")
    })
}

/// Caches the account zone under the run's held state lock. Failing to is not worth
/// failing the run for: the zone is known for this one, and the next run asks again.
fn remember_held(locked: &Locked<'_, State>, tz: Tz) {
    let cached = locked.read().and_then(|mut state| {
        state.account_timezone = Some(tz);
        locked.write(&state)
    });
    if let Err(err) = cached {
        log::warn!("cannot cache the account time zone: {err}");
    }
}

/// Caches the account zone for a command that holds no state lock: the lock is waited
/// for without blocking, so the deadline ends the wait (a run holding it for long).
async fn remember_unheld(store: &StateStore, tz: Tz) {
    match store.lock_async().await {
        Ok(locked) => remember_held(&locked, tz),
        Err(err) => log::warn!("cannot cache the account time zone: {err}"),
    }
}

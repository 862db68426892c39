//! The daily job, the one place the pipeline is composed: resolve the date in the
//! account's zone (checked in the data round, see `zone`), fetch the day from the
//! provider, gate on the tracker's sync, render its messages, check their length for
//! every sink (by rules readied in the data round too: Mastodon's instance limits are a
//! request), post what each sink has not had yet, and record each post in the ledger
//! as soon as it is made. `run`, `tweet --date` and `fetch` call it.
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

use chrono::NaiveDate;

use crate::context::Context;
use crate::day::dates::{self, DateArg};
use crate::day::{DayRange, DaySummary, MessageKind};
use crate::error::{self, Error, Kind};
use crate::providers::{self, Provider};
use crate::render::{Rendered, Renderer};
use crate::sinks::{self, Image, Outcome, Outgoing, Sink, SinkKind};
use crate::store::Locked;
use crate::store::ledger::{self, Entry, Ledger};
use crate::store::state::{self, State};
use monitor::Plan;
use zone::{Zone, Zoned};

mod fetch;
mod monitor;
mod preview;
mod zone;

pub use fetch::{fetch_day, fetch_days};
use fetch::{last_day, remember_held, remember_unheld};
pub use preview::{chart_days, show_demo};
use preview::{
    enabled_rules, no_chart, print_posts, report_sinks, warn_if_incomplete, write_image,
};

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
    let credentials = sinks::load_credentials(&env.paths)?;
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
            let (Zoned { date, days }, rules) = tokio::try_join!(
                zone.read(&provider, date, Utc::now(), range, &remember),
                enabled_rules(&env, &credentials)
            )?;
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

            report_sinks(&env, &rules, &posts, mode)
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
        if self.everything_posted(&state.posted, guessed, &plan) {
            log::info!("the messages of {guessed} are already posted; nothing to do");
            return Ok(());
        }
        let range = |date| {
            DayRange::ending(
                date,
                Plan::new(&self.env.config, &alerts, date).days_needed(),
            )
        };
        let (Zoned { date, days }, ()) = tokio::try_join!(
            zone.read(provider, date, now, range, &remember),
            self.prepare_rules(&state.posted, guessed, &plan),
        )?;
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

    /// Whether a scheduled run for `date` has nothing left to do: every sink has
    /// everything (see `has_everything`).
    fn everything_posted(&self, ledger: &Ledger, date: NaiveDate, plan: &Plan) -> bool {
        self.sinks
            .iter()
            .all(|sink| self.has_everything(ledger, sink, date, plan))
    }

    /// Whether a scheduled run for `date` has nothing left for `sink`: it has the day's
    /// messages (and on the weekly day the week's), and no alert has a day to step.
    fn has_everything(&self, ledger: &Ledger, sink: &Sink, date: NaiveDate, plan: &Plan) -> bool {
        let week = plan.week.then_some(MessageKind::Week);
        self.mode == Mode::Scheduled
            && !plan.alerts_pending()
            && MessageKind::ALL
                .iter()
                .chain(week.iter())
                .all(|kind| ledger.is_posted(date, sink.kind().name(), kind.name()))
    }

    /// Readies the length rule of every sink that may post (Mastodon's is a request to
    /// its instance, kept for the run), to be awaited alongside the data: it needs
    /// nothing the data gives, and measuring the messages then waits for no round.
    async fn prepare_rules(&self, ledger: &Ledger, date: NaiveDate, plan: &Plan<'_>) -> Result<()> {
        let may_post = self
            .sinks
            .iter()
            .filter(|sink| !self.has_everything(ledger, sink, date, plan));
        join_all(may_post.map(Sink::rule)).await;
        Ok(())
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
            let rule = delivery.sink.rule().await;
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

//! The daily job, the one place the pipeline is composed: resolve the date in the
//! account's zone, fetch the day from the provider, gate on the tracker's sync, render
//! its messages, check their length for every sink, post what each sink has not had yet,
//! and record each post in the ledger as soon as it is made. `run`, `tweet --date` and
//! `fetch` call it.
//!
//! The order is sink-major: every sink gets the day's messages in order (activity, then
//! sleep), and the sinks post side by side, each on its own. A failure stops only the
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
use chrono_tz::Tz;

use crate::config::SinkKind;
use crate::context::Context;
use crate::day::dates::{self, DateArg};
use crate::day::{DaySummary, MessageKind, demo};
use crate::error::{self, Error, Kind};
use crate::output::outln;
use crate::providers::{self, Provider};
use crate::render::{Message, Rendered, Renderer};
use crate::sinks::{self, Outcome, Outgoing, Sink};
use crate::store::Locked;
use crate::store::credentials::{self, Credentials};
use crate::store::ledger::{self, Entry};
use crate::store::state::{self, State};

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
pub fn show_demo(config_file: Option<&Path>) -> Result<()> {
    let loaded = crate::config::load(config_file)?;
    let renderer = Renderer::from_config(&loaded.config)?;
    print_messages(&render(&renderer, &demo::sample_day())?)
}

/// Fetches, renders and (unless `dry_run`) posts the messages of the day `date` names
/// to every enabled sink.
pub fn post_day(
    config_file: Option<&Path>,
    date: DateArg,
    mode: Mode,
    dry_run: bool,
) -> Result<()> {
    let env = Context::load(config_file)?;
    // a broken template is a configuration error before any request is made
    let renderer = Renderer::from_config(&env.config)?;
    let provider = providers::from_config(&env);
    let credentials = credentials::store(&env.paths).load()?;
    if dry_run {
        return env.block_on_with_deadline(async {
            let day = fetch_day(&env, &provider, date).await?;
            warn_if_incomplete(&day);
            let rendered = render(&renderer, &day)?;
            print_messages(&rendered)?;
            report_sinks(&env, &credentials, &day, &rendered.messages, mode).await
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

/// The messages one sink is to get in this run, in order.
struct Delivery<'a> {
    sink: &'a Sink<'a>,
    messages: Vec<&'a Message>,
}

impl Job<'_> {
    async fn run(&self, provider: &impl Provider, date: DateArg) -> Result<()> {
        let tz = timezone(self.env.config.timezone, self.locked, provider).await?;
        let date = dates::resolve(date, Utc::now(), tz)?;
        if self.mode == Mode::Scheduled && self.everything_posted(date)? {
            log::info!("the messages of {date} are already posted; nothing to do");
            return Ok(());
        }
        let day = checked_day(provider, date, tz).await?;
        if self.mode == Mode::Scheduled {
            ensure_synced(&day)?;
        }
        let rendered = render(self.renderer, &day)?;
        let deliveries = self.deliveries(&day, &rendered.messages)?;
        self.check_lengths(&deliveries).await?;
        let results = join_all(
            deliveries
                .iter()
                .map(|delivery| self.deliver(&day, delivery)),
        )
        .await;
        worst_failure(results)
    }

    fn everything_posted(&self, date: NaiveDate) -> Result<bool> {
        let ledger = self.locked.read()?.posted;
        Ok(self.sinks.iter().all(|sink| {
            MessageKind::ALL
                .iter()
                .all(|kind| ledger.is_posted(date, sink.kind().name(), kind.name()))
        }))
    }

    /// What each sink is to get: every message, or in a scheduled run the ones its
    /// ledger entries lack. Sinks with nothing to get are left out.
    fn deliveries<'a>(&self, day: &DaySummary, messages: &'a [Message]) -> Result<Vec<Delivery<'a>>>
    where
        Self: 'a,
    {
        let ledger = self.locked.read()?.posted;
        let mut deliveries = Vec::new();
        for sink in self.sinks {
            let name = sink.kind().name();
            let (posted, missing): (Vec<&Message>, Vec<&Message>) =
                messages.iter().partition(|message| {
                    self.mode == Mode::Scheduled
                        && ledger.is_posted(day.date, name, message.kind.name())
                });
            for message in posted {
                log::info!(
                    "{} of {} was posted to {name} before; skipped",
                    message.kind.name(),
                    day.date
                );
            }
            if !missing.is_empty() {
                deliveries.push(Delivery {
                    sink,
                    messages: missing,
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
            for message in &delivery.messages {
                rule.measure(&message.text)
                    .map_err(|why| too_long(message, kind, &why))?;
            }
        }
        Ok(())
    }

    /// Posts a sink's messages in order, recording each; the first failure ends this
    /// sink's turn.
    async fn deliver(&self, day: &DaySummary, delivery: &Delivery<'_>) -> Result<()> {
        for message in &delivery.messages {
            let post = Outgoing {
                date: day.date,
                kind: message.kind,
                text: &message.text,
            };
            // the space the previous record used is reserved again before each post
            self.locked.reserve()?;
            let outcome = delivery.sink.post(&post).await?;
            self.record(delivery.sink.kind(), day, message, outcome)?;
        }
        Ok(())
    }

    /// Writes the post to the ledger at once, so a failure on a later message leaves
    /// this one recorded and a re-run posts only what is missing.
    fn record(
        &self,
        sink: SinkKind,
        day: &DaySummary,
        message: &Message,
        outcome: Outcome,
    ) -> Result<()> {
        let what = format!("{} message of {}", message.kind.name(), day.date);
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
            .record(day.date, sink.name(), message.kind.name(), entry.clone());
        state
            .posted
            .prune_before(day.date - chrono::Days::new(LEDGER_DAYS));
        if let Err(err) = self.locked.write(&state) {
            return Err(Error::other(format!(
                "the {what} went to {title}, but recording it failed ({err}); so that no run posts it \
                 again, add this line at the top of {state} (above its first [section]), then free disk space there: {line}",
                title = sink.title(),
                state = self.env.paths.state.display(),
                line = ledger::line(day.date, sink.name(), message.kind.name(), &entry)
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
                date = day.date,
                name = sink.name(),
                message = message.kind.name(),
                state = self.env.paths.state.display()
            ))
            .into()),
        }
    }
}

fn too_long(message: &Message, sink: SinkKind, why: &str) -> Error {
    Error::other(format!(
        "the {} message is too long for {}: {why}",
        message.kind.name(),
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
    day: &DaySummary,
    messages: &[Message],
    mode: Mode,
) -> Result<()> {
    let ledger = state::store(&env.paths).load()?.posted;
    let mut refused = None;
    for &kind in &env.config.sinks.enabled {
        let rule = sinks::rule(kind, &env.client, &env.config, credentials).await;
        for message in messages {
            let verdict = if mode == Mode::Scheduled
                && ledger.is_posted(day.date, kind.name(), message.kind.name())
            {
                "already posted".to_string()
            } else {
                match rule.measure(&message.text) {
                    Ok(length) => format!("would be posted ({length})"),
                    Err(why) => {
                        let verdict = format!("too long: {why}");
                        refused.get_or_insert_with(|| too_long(message, kind, &why));
                        verdict
                    }
                }
            };
            // a dry run is for a person: its report shows without -v, but not with -q
            if log::log_enabled!(log::Level::Warn) {
                eprintln!("{}: {}: {verdict}", kind.name(), message.kind.name());
            }
        }
    }
    match refused {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}

/// The summary of the day `date` names in the account's zone (the zone is cached).
pub async fn fetch_day(
    ctx: &Context,
    provider: &impl Provider,
    date: DateArg,
) -> Result<DaySummary> {
    let states = state::store(&ctx.paths);
    let tz = timezone(ctx.config.timezone, &states.lock_async().await?, provider).await?;
    let date = dates::resolve(date, Utc::now(), tz)?;
    checked_day(provider, date, tz).await
}

/// The provider's summary of `date` with every physically impossible value dropped
/// (and a warning naming it), so that it reads "not recorded" rather than being shown
/// or posted. Every command that shows or posts a day gets it from here.
async fn checked_day(provider: &impl Provider, date: NaiveDate, tz: Tz) -> Result<DaySummary> {
    let mut day = provider.fetch_day(date, tz).await?;
    for note in day.sanitize() {
        log::warn!("{note}");
    }
    Ok(day)
}

/// The zone that decides which civil day is meant: the config's `timezone` when set,
/// else the cached account zone, else the provider's answer (then cached). Takes the
/// held state lock, because a caller that posts holds it for the whole run.
async fn timezone(
    configured: Option<Tz>,
    locked: &Locked<'_, State>,
    provider: &impl Provider,
) -> Result<Tz> {
    if let Some(tz) = configured {
        return Ok(tz);
    }
    let mut state = locked.read()?;
    if let Some(tz) = state.account_timezone {
        return Ok(tz);
    }
    let tz = provider.timezone().await?;
    state.account_timezone = Some(tz);
    // failing to cache is not worth failing the run for: the next run asks again
    if let Err(err) = locked.write(&state) {
        log::warn!("cannot cache the account time zone: {err}");
    }
    Ok(tz)
}

//! `run` (and `tweet --date`): the daily job. Fetch a day from the provider, render
//! its messages, check their length, post what has not been posted yet, and record
//! each post in the ledger as soon as it is made.

use std::path::Path;

use anyhow::Result;
use chrono::Utc;

use super::fetch::{checked_day, fetch_day};
use super::{Env, provider};
use crate::cli::RunArgs;
use crate::credentials::{self, XCredentials};
use crate::dates::{self, DateArg};
use crate::demo;
use crate::error::Error;
use crate::ledger::Posted;
use crate::post_length;
use crate::provider::Provider;
use crate::render::{Message, Rendered, Renderer};
use crate::state::{self, State};
use crate::store::Locked;
use crate::summary::DaySummary;
use crate::x::{self, Posted as XPosted};

/// The ledger's name for X; every destination gets its own entries.
const SINK: &str = "x";

/// Days of ledger kept: long enough for any re-run or catch-up after downtime.
const LEDGER_DAYS: u64 = 60;

/// How the job treats what is already posted and whether the day is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The scheduled job: posts only what the ledger lacks, only once the tracker has
    /// synced past the day's end; a duplicate answer from X means "already posted".
    Scheduled,
    /// `run --force`: posts every message again, synced or not.
    Forced,
    /// `tweet --date`: an explicit request to post the day's messages now; a duplicate
    /// answer from X is an error the user should see.
    Explicit,
}

pub fn run(explicit: Option<&Path>, args: &RunArgs) -> Result<()> {
    if args.demo {
        let env = crate::config::load(explicit)?;
        let renderer = Renderer::from_config(&env.config)?;
        return print_messages(&render(&renderer, &demo::sample_day())?);
    }
    let mode = if args.force {
        Mode::Forced
    } else {
        Mode::Scheduled
    };
    post_day(explicit, args.date, mode, args.dry_run)
}

/// Fetches, renders and (unless `dry_run`) posts the messages of the day `date` names.
pub fn post_day(explicit: Option<&Path>, date: DateArg, mode: Mode, dry_run: bool) -> Result<()> {
    let env = Env::load(explicit)?;
    // a broken template is a configuration error before any request is made
    let renderer = Renderer::from_config(&env.config)?;
    let provider = provider(&env)?;
    env.block_on_with_deadline(async {
        if dry_run {
            let day = fetch_day(&env, &provider, date).await?;
            warn_if_incomplete(&day);
            return print_messages(&render(&renderer, &day)?);
        }
        let keys = x_keys(&env)?;
        let states = state::store(&env.paths);
        // one run at a time posts a day: a second one waits here, then finds the
        // ledger updated and posts nothing twice
        let locked = states.lock()?;
        let job = Job {
            env: &env,
            renderer: &renderer,
            keys: &keys,
            locked: &locked,
            mode,
        };
        job.run(&provider, date).await
    })
}

struct Job<'a> {
    env: &'a Env,
    renderer: &'a Renderer,
    keys: &'a XCredentials,
    locked: &'a Locked<'a, State>,
    mode: Mode,
}

impl Job<'_> {
    async fn run(&self, provider: &impl Provider, date: DateArg) -> Result<()> {
        let tz = state::timezone(self.env.config.timezone, self.locked, provider).await?;
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
        check_lengths(&rendered.messages)?;
        let x = x::Client::new(&self.env.client, &self.env.config);
        for message in &rendered.messages {
            if self.mode == Mode::Scheduled && self.is_posted(&day, message)? {
                log::info!(
                    "{} of {} was posted before; skipped",
                    message.kind.name(),
                    day.date
                );
                continue;
            }
            let outcome = x.post(self.keys, &message.text).await?;
            self.record(&day, message, &outcome)?;
        }
        Ok(())
    }

    fn everything_posted(&self, date: chrono::NaiveDate) -> Result<bool> {
        let ledger = self.locked.read()?.posted;
        Ok(crate::render::MessageKind::ALL
            .iter()
            .all(|kind| ledger.is_posted(date, SINK, kind.name())))
    }

    fn is_posted(&self, day: &DaySummary, message: &Message) -> Result<bool> {
        Ok(self
            .locked
            .read()?
            .posted
            .is_posted(day.date, SINK, message.kind.name()))
    }

    /// Writes the post to the ledger at once, so a failure on a later message leaves
    /// this one recorded and a re-run posts only what is missing.
    fn record(&self, day: &DaySummary, message: &Message, outcome: &XPosted) -> Result<()> {
        let id = match outcome {
            XPosted::New(id) => {
                log::info!(
                    "posted {} of {}: {}",
                    message.kind.name(),
                    day.date,
                    id.url()
                );
                Some(id.to_string())
            }
            XPosted::AlreadyPosted if self.mode == Mode::Explicit => {
                return Err(Error::other(format!(
                    "X refused the {} message of {} as a duplicate (403): it is already on the account",
                    message.kind.name(),
                    day.date
                ))
                .into());
            }
            XPosted::AlreadyPosted => {
                log::info!(
                    "X already has the {} message of {}; recorded as posted",
                    message.kind.name(),
                    day.date
                );
                None
            }
        };
        let mut state = self.locked.read()?;
        state.posted.record(
            day.date,
            SINK,
            message.kind.name(),
            Posted { id, at: Utc::now() },
        );
        state
            .posted
            .prune_before(day.date - chrono::Days::new(LEDGER_DAYS));
        self.locked.write(&state)?;
        Ok(())
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

/// Every message is checked before the first is posted, so a day is never half posted
/// because its second message was too long.
fn check_lengths(messages: &[Message]) -> Result<(), Error> {
    for message in messages {
        post_length::check(&message.text).map_err(|err| {
            Error::other(format!(
                "the {} message is too long for X: {}",
                message.kind.name(),
                Error::from(err)
            ))
        })?;
    }
    Ok(())
}

fn x_keys(env: &Env) -> Result<XCredentials, Error> {
    let store = credentials::store(&env.paths);
    store.load()?.x.ok_or_else(|| {
        Error::config(format!(
            "no X keys are stored in {}; run `fitbit-notifier auth x` first",
            store.path().display()
        ))
    })
}

/// The messages exactly as they would be posted, separated by a line `---`.
fn print_messages(rendered: &Rendered) -> Result<()> {
    let texts: Vec<&str> = rendered.messages.iter().map(|m| m.text.as_str()).collect();
    if !texts.is_empty() {
        println!("{}", texts.join("\n---\n"));
    }
    for message in &rendered.messages {
        log::info!(
            "{}: weighted length {} of {}",
            message.kind.name(),
            post_length::weighted_length(&message.text),
            post_length::MAX_WEIGHTED_LENGTH
        );
    }
    Ok(())
}

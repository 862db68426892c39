//! `tweet`: post a text to X, or a day's messages to every enabled sink; with
//! `--dry-run` show them and how each sink would count them.

use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::TweetArgs;
use crate::context::Context;
use crate::error::Error;
use crate::job::{Mode, post_day};
use crate::output::outln;
use crate::sinks::SinkKind;
use crate::sinks::post_length;
use crate::sinks::x::{self, PostOutcome, XCredentials};
use crate::sinks::{self, Outcome};

pub fn run(config_file: Option<&Path>, args: &TweetArgs) -> Result<()> {
    if let Some(date) = args.date {
        return post_day(
            config_file,
            date,
            Mode::Explicit,
            args.dry_run,
            None,
            args.sink,
        );
    }
    let Some(text) = args.text.as_deref() else {
        return Err(Error::other("give the text to post with --text, or a day with --date").into());
    };
    let text = read_text(text)?;
    if args.dry_run {
        return dry_run(&text);
    }
    let env = Context::load(config_file)?;
    if let Some(kind) = args.sink.filter(|&kind| kind != SinkKind::X) {
        return post_text(&env, kind, &text);
    }
    let keys = stored_keys(&env)?;
    let x = x::Client::new(&env.client, &env.config);
    match env.block_on_with_deadline(async { Ok(x.post(&keys, &text, None).await?) })? {
        PostOutcome::New(id) => {
            outln!("Posted {id}: {}", id.url())?;
            Ok(())
        }
        PostOutcome::AlreadyPosted => Err(Error::other(
            "X refused the text as a duplicate (403): it is already on the account, so nothing new was posted; \
             change the text to post it again",
        )
        .into()),
    }
}

/// Posts `text` to `kind` (not X: it has its own path above, which tells a duplicate
/// apart).
fn post_text(env: &Context, kind: SinkKind, text: &str) -> Result<()> {
    let outcome =
        env.block_on_with_deadline(async { Ok(sinks::post_text(env, kind, text).await?) })?;
    match outcome {
        Outcome::New { url, id } => {
            let link = url.or(id).map(|l| format!(": {l}")).unwrap_or_default();
            outln!("Posted to {}{link}", kind.title())?;
            Ok(())
        }
        Outcome::AlreadyPosted => Err(Error::other(format!(
            "{} refused the text as a duplicate; change the text to post it again",
            kind.title()
        ))
        .into()),
        Outcome::Unanswered(detail) => Err(Error::other(format!(
            "{} did not answer after the text was sent ({detail}), so it may have been published; look before posting it again",
            kind.title()
        ))
        .into()),
    }
}

/// The text itself, or all of standard input for `-`.
fn read_text(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the text from standard input")?;
    // the line end that echo and editors add is not meant to be posted
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

fn dry_run(text: &str) -> Result<()> {
    outln!("{text}")?;
    outln!("--")?;
    outln!(
        "weighted length {} of {}; nothing was sent (--dry-run)",
        post_length::weighted_length(text),
        post_length::MAX_WEIGHTED_LENGTH
    )?;
    post_length::check(text).map_err(Error::from)?;
    Ok(())
}

fn stored_keys(env: &Context) -> Result<XCredentials> {
    let credentials = sinks::load_credentials(&env.paths)?;
    let keys = sinks::stored(&credentials, SinkKind::X)?
        .ok_or_else(|| sinks::not_authorized(SinkKind::X, &env.paths))?;
    Ok(keys)
}

//! `tweet`: post a text to X, or a day's messages to every enabled sink; with
//! `--dry-run` show them and how each sink would count them.

use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::cli::TweetArgs;
use crate::config::SinkKind;
use crate::context::Context;
use crate::error::Error;
use crate::job::{Mode, post_day};
use crate::output::outln;
use crate::sinks;
use crate::sinks::post_length;
use crate::sinks::x::{self, PostOutcome};
use crate::store::credentials::{self, XCredentials};

pub fn run(config_file: Option<&Path>, args: &TweetArgs) -> Result<()> {
    if let Some(date) = args.date {
        return post_day(config_file, date, Mode::Explicit, args.dry_run, None);
    }
    let Some(text) = args.text.as_deref() else {
        return Err(Error::other("give the text to post with --text, or a day with --date").into());
    };
    let text = read_text(text)?;
    if args.dry_run {
        return dry_run(&text);
    }
    let env = Context::load(config_file)?;
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
    let keys = credentials::store(&env.paths)
        .load()?
        .x
        .ok_or_else(|| sinks::not_authorized(SinkKind::X, &env.paths))?;
    Ok(keys)
}

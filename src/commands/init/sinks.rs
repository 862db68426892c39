//! Step 3: every sink of `[sinks] enabled`: its console steps with links (its `SETUP`,
//! in its file in `sinks/`), its `auth` flow (the one `auth <sink>` runs: secrets from
//! the environment or typed without echo), then a test post where one is free.

use anyhow::Result;

use super::Wizard;
use crate::commands::auth;
use crate::context::Context;
use crate::sinks::{self, Outcome, SinkKind};

pub fn step(wizard: &Wizard) -> Result<()> {
    let ask = &wizard.ask;
    ask.step(3, "where to post");
    let env = Context::load(wizard.config_file)?;
    for &kind in &env.config.sinks.enabled {
        ask.say(&format!("\n{}\n{}", kind.title(), kind.setup()));
        ask.done(&format!("you have the {} values at hand", kind.title()))?;
        auth::sink(wizard.config_file, kind)?;
        test_post(wizard, &env, kind)?;
    }
    Ok(())
}

/// A free test post where the sink has one; for a paid one (X), the choice of paying
/// for one or letting the first daily run check the keys.
fn test_post(wizard: &Wizard, env: &Context, kind: SinkKind) -> Result<()> {
    let (question, default) = match kind.paid_test_post() {
        Some(question) => (question, false),
        None => ("Send a test post now (free)?", true),
    };
    if !wizard.ask.yes(question, default)? {
        return Ok(());
    }
    let text = format!(
        "fitbit-notifier test post, {}",
        chrono::Local::now().format("%Y-%m-%d %H:%M")
    );
    let outcome =
        env.block_on_with_deadline(async { Ok(sinks::post_text(env, kind, &text).await?) })?;
    let detail = match outcome {
        Outcome::New { url, id } => url.or(id).map(|l| format!(": {l}")).unwrap_or_default(),
        Outcome::AlreadyPosted => " (already there)".into(),
        Outcome::Unanswered(why) => format!(" maybe: no answer ({why}); look at {}", kind.title()),
    };
    wizard
        .ask
        .say(&format!("Test post sent to {}{detail}", kind.title()));
    Ok(())
}

//! Step 3: every sink of `[sinks] enabled`: its console steps with links, its `auth`
//! flow (the same one `auth <sink>` runs: secrets from the environment or typed without
//! echo), then a test post where one is free. Sources: docs.x.com (getting-access,
//! api-key-and-secret, pricing), mastodon's settings/applications, bsky.app's app
//! passwords, Discord's webhook resource, api.slack.com/messaging/webhooks.

use anyhow::Result;

use super::Wizard;
use crate::cli::{AuthBlueskyArgs, AuthMastodonArgs};
use crate::commands::auth::{bluesky, mastodon, webhook, x};
use crate::config::SinkKind;
use crate::context::Context;
use crate::sinks::{self, Outcome};

pub fn step(wizard: &Wizard) -> Result<()> {
    let ask = &wizard.ask;
    ask.step(3, "where to post");
    let env = Context::load(wizard.config_file)?;
    for &kind in &env.config.sinks.enabled {
        ask.say(&format!("\n{}\n{}", kind.title(), console_steps(kind)));
        ask.done(&format!("you have the {} values at hand", kind.title()))?;
        authorize(wizard, kind)?;
        test_post(wizard, &env, kind)?;
    }
    Ok(())
}

fn console_steps(kind: SinkKind) -> &'static str {
    match kind {
        SinkKind::X => {
            "1. https://console.x.com: accept the Developer Agreement, describe the use\n   \
             case, create an app. The API Key and Secret are shown once, now; later\n   \
             only Regenerate, which invalidates the old ones.\n\
             2. In the app's settings set the permissions to Read and write FIRST, then\n   \
             generate the Access Token and Secret. A token made while the app was\n   \
             Read-only cannot post: after a change, generate a new token.\n\
             3. Buy credits: a post costs $0.015 ($0.20 with a link, so posts carry\n   \
             none). https://docs.x.com/x-api/getting-started/pricing"
        }
        SinkKind::Mastodon => {
            "1. On your instance open https://<instance>/settings/applications/new\n   \
             (\"Development\" in the settings sidebar), name the app.\n\
             2. Untick the pre-selected read, write and follow; tick only write:statuses.\n\
             3. Submit, open the app and copy \"Your access token\"."
        }
        SinkKind::Bluesky => {
            "1. https://bsky.app/settings/app-passwords > Add App Password.\n\
             2. Leave \"Allow access to direct messages\" off; copy the password."
        }
        SinkKind::Discord => {
            "1. You need the Manage Webhooks permission on the channel.\n\
             2. Channel settings > Integrations > Webhooks > New Webhook > Copy Webhook URL.\n   \
             https://support.discord.com/hc/en-us/articles/228383668"
        }
        SinkKind::Slack => {
            "1. https://api.slack.com/apps > Create New App > From scratch, pick the\n   \
             workspace.\n\
             2. Incoming Webhooks > Activate Incoming Webhooks > Add New Webhook to\n   \
             Workspace, pick the channel, Allow, copy the URL."
        }
    }
}

/// The sink's own `auth` flow.
fn authorize(wizard: &Wizard, kind: SinkKind) -> Result<()> {
    let config = wizard.config_file;
    match kind {
        SinkKind::X => x::run(config, false),
        SinkKind::Mastodon => mastodon::run(
            config,
            &AuthMastodonArgs {
                instance: std::env::var("MASTODON_INSTANCE").ok(),
            },
        ),
        SinkKind::Bluesky => bluesky::run(
            config,
            &AuthBlueskyArgs {
                handle: std::env::var("BLUESKY_HANDLE").ok(),
            },
        ),
        SinkKind::Discord => webhook::run(config, kind, "DISCORD_WEBHOOK_URL", |c| &mut c.discord),
        SinkKind::Slack => webhook::run(config, kind, "SLACK_WEBHOOK_URL", |c| &mut c.slack),
    }
}

/// A free test post for the four free sinks; for X, the choice of paying for one or
/// letting the first daily run check the keys (X has no free check).
fn test_post(wizard: &Wizard, env: &Context, kind: SinkKind) -> Result<()> {
    let (question, default) = match kind {
        SinkKind::X => (
            "X has no free way to check the keys. Send a real test post now ($0.015)?\n\
             (No: the first daily run checks them.)",
            false,
        ),
        _ => ("Send a test post now (free)?", true),
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

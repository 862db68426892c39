//! Step 2: the Google Cloud console, then `auth google` (the same flow), then one real
//! data call whose every known failure is turned into the console step that fixes it.
//!
//! The steps follow Google's pages as of late 2026 (checked with the sources in
//! docs/setup.md): developers.google.com/health/setup; the Google Auth Platform's
//! first-run "Get Started" (support.google.com/cloud/answer/15544987); Test users
//! (answer/15549945, which also gives the 7-day Testing expiry); Desktop app clients
//! whose secret is shown only at creation (answer/15549257); the errors of
//! developers.google.com/health/troubleshooting.

use anyhow::Result;

use super::Wizard;
use crate::commands::auth::consent::OAuthClient;
use crate::commands::auth::google as auth_google;
use crate::context::{Context, block_on};
use crate::day::dates::DateArg;
use crate::job;
use crate::providers::{self, google_health};
use crate::store::state;

pub const API_LIBRARY: &str =
    "https://console.developers.google.com/apis/library/health.googleapis.com";
pub const AUDIENCE: &str = "https://console.developers.google.com/auth/audience";
pub const DATA_ACCESS: &str = "https://console.developers.google.com/auth/scopes";
const BRANDING: &str = "https://console.developers.google.com/auth/branding";
const CLIENTS: &str = "https://console.developers.google.com/auth/clients";

pub fn step(wizard: &Wizard) -> Result<()> {
    let ask = &wizard.ask;
    let args = wizard.args;
    ask.step(2, "Google Health");
    ask.say(&console_steps());
    ask.done("the client is created and its JSON downloaded")?;
    let client = client(wizard)?;
    ask.say(
        "\nWhile the app is in Testing, Google ends the consent 7 days after you give it: \
         the daily run then stops and asks you to authorize again. Publishing the app \
         (Audience > Publish app; fine unverified for your own account) avoids that, \
         though one report (September 2026) saw re-authorization every 5-22 days even so.",
    );
    let publishing = ask.choose(
        "Leave it in Testing or publish it",
        &["testing", "production"],
        args.publishing.as_deref(),
        "testing",
    )?;
    let env = Context::load(wizard.config_file)?;
    ask.say(
        "\nNow authorize: sign in with the Google account that holds your Fitbit data\n\
         (it must be on the Test users list) and allow every box.",
    );
    // the flow reads the account's zone at its end: the data errors can come from there
    if let Err(err) = block_on(auth_google::authorize(&env, &client, args.no_browser)) {
        return Err(explained(err));
    }
    state::store(&env.paths).update(|state| {
        state.google_publishing = Some(publishing.clone());
        Ok(())
    })?;
    check_data(&env)
}

fn console_steps() -> String {
    let scopes: Vec<&str> = google_health::SCOPES.iter().map(|s| s.id).collect();
    format!(
        "In the Google Cloud console (one project, once):\n\
         \n\
         1. Create or pick a project, then enable the Google Health API:\n   {API_LIBRARY}\n\
         2. Google Auth Platform > Get Started: app name, your email as user support\n   \
            email, audience External, your email as developer contact, agree to the\n   \
            User Data Policy, Create.\n   {BRANDING}\n\
         3. Audience > Test users > Add users: the Google account with your Fitbit\n   \
            data. Google requires it while the app is unverified.\n   {AUDIENCE}\n\
         4. Data Access > Add or remove scopes: paste these five, Update, Save:\n   {DATA_ACCESS}\n   {}\n\
         5. Clients > Create client > Application type \"Desktop app\" > Create, and\n   \
            download the JSON in that dialog: the secret is not shown again.\n   {CLIENTS}\n   \
            Not the health page's \"Enable the API and get an OAuth 2.0 Client ID\"\n   \
            button: it makes a Web client that cannot return to this program.",
        scopes.join("\n   ")
    )
}

/// The client JSON by path or pasted, or the environment (`GOOGLE_CLIENT_ID`, …).
fn client(wizard: &Wizard) -> Result<OAuthClient> {
    if let Some(path) = &wizard.args.client_secret_file {
        let text = std::fs::read_to_string(path).map_err(|err| {
            crate::error::Error::config(format!("cannot read {}: {err}", path.display()))
        })?;
        return Ok(auth_google::client_from_json(
            &text,
            &path.display().to_string(),
        )?);
    }
    if std::env::var_os("GOOGLE_CLIENT_ID").is_some() || !wizard.ask.interactive {
        return Ok(auth_google::client_from_env()?);
    }
    loop {
        let given = wizard.ask.text(
            "The client JSON: its path, or paste its contents",
            "--client-secret-file",
        )?;
        let given = given.trim();
        let read = if given.starts_with('{') {
            auth_google::client_from_json(given, "the pasted JSON")
        } else {
            let path = expand_home(given);
            std::fs::read_to_string(&path)
                .map_err(|err| crate::error::Error::config(format!("cannot read {given}: {err}")))
                .and_then(|text| auth_google::client_from_json(&text, given))
        };
        match read {
            Ok(client) => return Ok(client),
            Err(err) => wizard.ask.say(&format!("  {err}")),
        }
    }
}

fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// Yesterday's data, read once: proof that the API, the scopes and the account work.
fn check_data(env: &Context) -> Result<()> {
    let provider = providers::from_config(env);
    let day = env.block_on_with_deadline(job::fetch_day(env, &provider, DateArg::Yesterday));
    match day {
        Ok(day) => {
            eprintln!(
                "Read {} from Google Health ({}): {} steps.",
                day.date,
                day.timezone,
                day.activity
                    .steps
                    .map_or_else(|| "no".into(), |steps| steps.to_string())
            );
            Ok(())
        }
        Err(err) => Err(explained(err)),
    }
}

/// What a failure of the data call means in the console, by the text Google sends.
fn data_fixes() -> Vec<(&'static str, String)> {
    vec![
        (
            "SERVICE_DISABLED",
            format!(
                "The Google Health API is not enabled in this project: enable it at\n  {API_LIBRARY}\n\
                 If Google refuses to enable it, that may be Google's gate, not your mistake:\n\
                 in October 2026 its banner said it was not onboarding new projects."
            ),
        ),
        (
            "was not granted",
            format!(
                "Tick every box on the consent screen; the scopes are listed at\n  {DATA_ACCESS}"
            ),
        ),
        (
            "UberMint",
            "This Fitbit account has not moved to Google yet: in the Google Health app\n\
             (formerly the Fitbit app) sign out, sign in with Google, and migrate the\n\
             account when the app offers it."
                .into(),
        ),
        (
            "still being prepared",
            "Google is still preparing this account's Google Health profile (usual right\n\
             after moving from Fitbit): wait a few hours."
                .into(),
        ),
        (
            "no Google Health profile",
            "Set up the Google Health app (formerly the Fitbit app) with this Google\n\
             account; a new profile may take a little while to be ready."
                .into(),
        ),
    ]
}

fn consent_fixes() -> Vec<(&'static str, String)> {
    vec![(
        "access_denied",
        format!(
            "If Google said \"Access blocked\" or access_denied, add the account under\n\
             Test users: {AUDIENCE}"
        ),
    )]
}

/// The error, with the console fix of the first pattern it contains and how to come
/// back to this step.
fn explained(err: anyhow::Error) -> anyhow::Error {
    let text = format!("{err:#}");
    let fixes = [data_fixes(), consent_fixes()].concat();
    if let Some((_, fix)) = fixes.iter().find(|(needle, _)| text.contains(needle)) {
        eprintln!("\n{fix}\nThen run: fitbit-notifier init --step google");
    } else {
        eprintln!(
            "\nFix what the message below says, then run: fitbit-notifier init --step google"
        );
    }
    err
}

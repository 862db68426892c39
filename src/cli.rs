//! The command line: global options and subcommands (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::day::dates::DateArg;
use crate::sinks::SinkKind;

#[derive(Debug, Parser)]
#[command(
    name = "fitbit-notifier",
    version,
    about = "Posts yesterday's Fitbit activity and sleep to X, Mastodon, Bluesky, Discord or Slack, once a day from cron or a systemd timer",
    after_help = "Exit status: 0 ok, 1 failure, 2 usage, 75 try later, 77 authorize again, 78 fix the configuration."
)]
pub struct Cli {
    /// The config file [default: $XDG_CONFIG_HOME/fitbit-notifier/config.toml]
    #[arg(
        long,
        global = true,
        env = "FITBIT_NOTIFIER_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Say more (repeat for debug output); secrets are never printed
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config and credentials and show where every file lives
    Config,
    /// Authorize fitbit-notifier with a service and store the tokens
    Auth {
        #[command(subcommand)]
        service: AuthService,
    },
    /// Refresh the data provider's access token now and print its new expiry
    Refresh,
    /// Print one day's activity and sleep summary from the data provider (or several days')
    Fetch(FetchArgs),
    /// Print each metric's mean and spread over recent days: a personal baseline to
    /// choose alert thresholds from
    Trends(TrendsArgs),
    /// Post a day's messages to every enabled sink, or a text to X
    Tweet(TweetArgs),
    /// The daily job: fetch a day, render its messages and post what is not posted yet
    Run(RunArgs),
    /// Draw the chart of a range of days (steps and sleep, as the week's post carries it)
    /// to a PNG file, and print its alt text
    Chart(ChartArgs),

    /// Set everything up, step by step: config, Google Health, where to post, the schedule
    Init(InitArgs),
    /// Check the whole setup, one line per check, each problem with its fix
    Doctor(DoctorArgs),

    /// Print a shell completion script
    ///
    /// For example: fitbit-notifier completions bash > ~/.local/share/bash-completion/completions/fitbit-notifier
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the manual page, fitbit-notifier(1), as roff
    ///
    /// For example: fitbit-notifier man > ~/.local/share/man/man1/fitbit-notifier.1
    Man,
}

#[derive(Debug, Subcommand)]
pub enum AuthService {
    /// Google Health API (provider google-health): consent in a browser, OAuth 2.0 with PKCE
    Google(AuthGoogleArgs),
    /// Store the X API key and secret and an access token and secret, read from
    /// X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET or asked for
    /// without echo
    X {
        /// Get the access token through X's PIN flow instead: open a link, authorize the
        /// app, type the PIN (for an account other than the app owner's)
        #[arg(long)]
        pin: bool,
    },
    /// Legacy Fitbit Web API (provider fitbit-legacy, turned off 2026-11-02): OAuth 2.0 with PKCE
    Fitbit(AuthFitbitArgs),
    /// Store a Mastodon instance and an access token with the write:statuses scope, the
    /// token read from MASTODON_ACCESS_TOKEN or asked for without echo
    Mastodon(AuthMastodonArgs),
    /// Store a Bluesky handle and an app password, the password read from
    /// BLUESKY_APP_PASSWORD or asked for without echo; checked by signing in
    Bluesky(AuthBlueskyArgs),
    /// Store a Discord channel's incoming webhook URL, read from DISCORD_WEBHOOK_URL or
    /// asked for without echo
    Discord,
    /// Store a Slack incoming webhook URL, read from SLACK_WEBHOOK_URL or asked for
    /// without echo
    Slack,
}

#[derive(Debug, Args)]
pub struct AuthMastodonArgs {
    /// The instance's address, such as https://mastodon.social [default: env
    /// MASTODON_INSTANCE, else a prompt]
    #[arg(long, env = "MASTODON_INSTANCE", value_name = "URL")]
    pub instance: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuthBlueskyArgs {
    /// The account's handle (such as alice.bsky.social) or DID [default: env
    /// BLUESKY_HANDLE, else a prompt]
    #[arg(long, env = "BLUESKY_HANDLE", value_name = "HANDLE")]
    pub handle: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuthGoogleArgs {
    /// The OAuth client JSON downloaded for a Desktop app client [default: env
    /// GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, else a prompt]
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Do not open a browser or listen for the redirect: print the URL, then read the
    /// address the browser ended on (or just the code) from standard input
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct AuthFitbitArgs {
    /// The app's registered callback URL, which Fitbit requires exactly; fitbit-notifier
    /// listens there (it must be http://127.0.0.1:<port>/... or http://localhost:<port>/...)
    #[arg(long, value_name = "URL", default_value = crate::providers::fitbit_legacy::DEFAULT_REDIRECT_URI)]
    pub redirect_uri: String,

    /// Do not open a browser or listen for the redirect: print the URL, then read the
    /// address the browser ended on (or just the code) from standard input
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The civil day in the account's time zone: yesterday, today or YYYY-MM-DD
    #[arg(long, default_value = "yesterday", value_name = "DAY")]
    pub date: DateArg,

    /// Print the summary as JSON (null means no data); with --days, an array of days,
    /// oldest first
    #[arg(long)]
    pub json: bool,

    /// The N days ending on --date, fetched in one round of requests
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_DAYS))]
    pub days: Option<u32>,
}

/// The longest range `fetch --days` and `trends --days` read.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Args)]
pub struct TrendsArgs {
    /// The last day of the baseline: yesterday, today or YYYY-MM-DD
    #[arg(long, default_value = "yesterday", value_name = "DAY")]
    pub date: DateArg,

    /// How many days the baseline covers
    #[arg(long, default_value_t = 28, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=MAX_DAYS))]
    pub days: u32,

    /// Print the baseline as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["text", "date"]))]
pub struct TweetArgs {
    /// The text to post, or - to read it from standard input
    #[arg(long, value_name = "TEXT|-")]
    pub text: Option<String>,

    /// Post this day's messages (yesterday, today or YYYY-MM-DD) to every enabled sink,
    /// whatever the ledger says
    #[arg(long, value_name = "DAY")]
    pub date: Option<DateArg>,

    /// Print the text and its weighted length as X counts it (with --date, each sink's
    /// verdict on each message); send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Post to this sink only (default: the text to X, a day to every enabled sink)
    #[arg(long, value_name = "NAME", value_parser = parse_sink)]
    pub sink: Option<SinkKind>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("preview").args(["dry_run", "demo"]).multiple(true))]
pub struct RunArgs {
    /// The civil day in the account's time zone: yesterday, today or YYYY-MM-DD
    #[arg(long, default_value = "yesterday", value_name = "DAY")]
    pub date: DateArg,

    /// Print the messages exactly as they would be posted and each sink's verdict on
    /// each (already posted, its length by that sink's rule, or too long); post and record
    /// nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Post again even what the ledger says is posted, and post before the tracker synced
    #[arg(long)]
    pub force: bool,

    /// Show the messages of a built-in sample day; needs no account (implies --dry-run)
    #[arg(long, conflicts_with_all = ["date", "force"])]
    pub demo: bool,

    /// With --dry-run, write the chart the week's message would carry to FILE (PNG); with
    /// --demo, the chart of the sample week
    #[arg(long, value_name = "FILE", requires = "preview")]
    pub chart: Option<PathBuf>,

    /// Post to this sink only, enabled in the config or not (to try one service)
    #[arg(long, value_name = "NAME", value_parser = parse_sink, conflicts_with = "demo")]
    pub sink: Option<SinkKind>,
}

/// The steps of `init`, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum InitStep {
    /// Locale and provider: writes config.toml
    Config,
    /// The Google Cloud console, then `auth google` and a data check
    Google,
    /// X keys (and the other sinks)
    Sinks,
    /// The systemd user timer or a crontab line
    Schedule,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Ask nothing: take every answer from the options and the environment (the auth
    /// variables such as GOOGLE_CLIENT_ID, X_API_KEY, DISCORD_WEBHOOK_URL) and fail with
    /// what is missing
    #[arg(long)]
    pub no_input: bool,

    /// Do only this step (again)
    #[arg(long, value_enum, value_name = "NAME")]
    pub step: Option<InitStep>,

    /// The language of the posts
    #[arg(long, value_parser = ["en", "ja"])]
    pub locale: Option<String>,

    /// Where the posts go, comma-separated: x, mastodon, bluesky, discord, slack
    #[arg(long, value_delimiter = ',', value_parser = parse_sink, value_name = "NAMES")]
    pub sinks: Vec<SinkKind>,

    /// The Desktop app client's JSON from Google Auth Platform > Clients
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Print the consent address and read back the address the browser ended on
    #[arg(long)]
    pub no_browser: bool,

    /// The app stays in Testing (consent expires after 7 days) or is published
    #[arg(long, value_parser = ["testing", "production"])]
    pub publishing: Option<String>,

    /// How to run the daily job: systemd (a user timer), cron, or print (show the lines)
    #[arg(long, value_parser = ["systemd", "cron", "print"])]
    pub schedule: Option<String>,

    /// Replace an existing config.toml (asked for otherwise)
    #[arg(long)]
    pub force: bool,

    /// Offer the legacy Fitbit Web API (turned off on 2026-11-02) as the provider
    #[arg(long)]
    pub legacy: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// One JSON object: {"ok": bool, "exit": n, "checks": [{"name", "status", "detail", "fix"}]}
    #[arg(long)]
    pub json: bool,
}

fn parse_sink(name: &str) -> Result<SinkKind, String> {
    SinkKind::parse(name).ok_or_else(|| {
        let (last, others) = SinkKind::NAMES
            .split_last()
            .expect("there is at least one sink");
        format!(
            "\"{name}\" is not a sink; use {} or {last}",
            others.join(", ")
        )
    })
}

#[derive(Debug, Args)]
pub struct ChartArgs {
    /// The last day of the chart: yesterday, today or YYYY-MM-DD
    #[arg(long, default_value = "yesterday", value_name = "DAY")]
    pub date: DateArg,

    /// How many days ending on --date, fetched in one round of requests
    #[arg(long, default_value_t = 7, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_CHART_DAYS))]
    pub days: u32,

    /// Where to write the PNG
    #[arg(short, long, value_name = "FILE.png")]
    pub output: PathBuf,
}

/// The most days a chart holds: beyond a month the bars are too thin to read.
pub const MAX_CHART_DAYS: i64 = 31;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

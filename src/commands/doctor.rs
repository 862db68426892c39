//! `doctor`: every part of the setup checked, one line each (✓ passes, ✗ fails, ! needs
//! attention soon), each problem with the command or link that fixes it. The exit
//! status is the most useful one for a monitoring system: 77 when re-authorization is
//! needed, else 78 for the config, else 75 for a service that is down, else 1.

use std::path::Path;

use anyhow::Result;
use chrono::{TimeDelta, Utc};
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::config::ProviderKind;
use crate::context::Context;
use crate::day::DaySummary;
use crate::day::dates::DateArg;
use crate::error::{self, Error, Kind};
use crate::job;
use crate::net::{http, oauth};
use crate::output::outln;
use crate::providers::{self, Provider as _, google_health};
use crate::schedule;
use crate::sinks;
use crate::store::credentials::{Credentials, OAuthCredentials};
use crate::store::state::{self, State};

/// Days after consent at which `doctor` starts warning about Testing's 7-day expiry.
const TESTING_WARN_DAYS: i64 = 5;
const TESTING_EXPIRY_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    status: Status,
    detail: String,
    /// The command or link that fixes a failure or a warning.
    fix: Option<String>,
    #[serde(skip)]
    kind: Option<Kind>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            name,
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
            kind: None,
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
            kind: None,
        }
    }

    fn fail(
        name: &'static str,
        kind: Kind,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
            kind: Some(kind),
        }
    }

    /// A failed call: the error's own message already says what to do; `fix` is the
    /// command for the `fix` field.
    fn from_error(name: &'static str, err: &anyhow::Error, fix: &str) -> Self {
        Check::fail(name, error::kind_of(err), format!("{err:#}"), fix)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    exit: u8,
    checks: &'a [Check],
}

pub fn run(config_file: Option<&Path>, args: &DoctorArgs) -> Result<()> {
    let checks = checks(config_file);
    let exit = exit_status(&checks);
    if args.json {
        let report = Report {
            ok: exit == 0,
            exit,
            checks: &checks,
        };
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        for check in &checks {
            let mark = match check.status {
                Status::Pass => "✓",
                Status::Warn => "!",
                Status::Fail => "✗",
            };
            let fix = match (&check.fix, check.status) {
                (Some(fix), Status::Fail | Status::Warn)
                    if !check.detail.contains(fix.as_str()) =>
                {
                    format!(" → {fix}")
                }
                _ => String::new(),
            };
            outln!("{mark} {}: {}{fix}", check.name, check.detail)?;
        }
    }
    match exit {
        0 => Ok(()),
        _ => Err(Error::new(
            kind_for(exit),
            format!("doctor found {} problem(s)", failures(&checks)),
        )
        .into()),
    }
}

fn failures(checks: &[Check]) -> usize {
    checks.iter().filter(|c| c.status == Status::Fail).count()
}

fn kind_for(exit: u8) -> Kind {
    match exit {
        77 => Kind::Reauth,
        78 => Kind::Config,
        75 => Kind::TryLater,
        _ => Kind::Other,
    }
}

/// 77 before 78 before 75 before 1: what a person must do first.
fn exit_status(checks: &[Check]) -> u8 {
    let kinds: Vec<Kind> = checks.iter().filter_map(|c| c.kind).collect();
    [Kind::Reauth, Kind::Config, Kind::TryLater, Kind::Other]
        .into_iter()
        .find(|kind| kinds.contains(kind))
        .map_or(0, Kind::exit_status)
}

fn checks(config_file: Option<&Path>) -> Vec<Check> {
    let mut checks = Vec::new();
    let env = match Context::load(config_file) {
        Ok(env) => {
            checks.push(Check::pass(
                "config",
                format!("{} reads", env.paths.config.display()),
            ));
            env
        }
        Err(err) => {
            checks.push(Check::from_error(
                "config",
                &err,
                "fitbit-notifier init --step config",
            ));
            return checks;
        }
    };
    let credentials = match sinks::load_credentials(&env.paths) {
        Ok(credentials) => {
            checks.push(Check::pass(
                "credentials",
                format!(
                    "{} reads and is private (0600)",
                    env.paths.credentials.display()
                ),
            ));
            credentials
        }
        Err(err) => {
            checks.push(Check::from_error(
                "credentials",
                &err.into(),
                &format!("chmod 600 {}", env.paths.credentials.display()),
            ));
            return checks;
        }
    };
    checks.push(endpoints(&credentials));
    let state = state::store(&env.paths).load().unwrap_or_default();
    let (provider_checks, day) = provider(&env, &credentials, &state);
    checks.extend(provider_checks);
    if let Some(day) = day {
        checks.push(tracker(&day));
    }
    checks.extend(sink_checks(&env, &credentials));
    checks.push(schedule_check());
    checks.push(last_run(&state));
    checks
}

/// Every address a secret goes to must be https (or http to this machine). The
/// config's own endpoints are refused at load (the config check); these are the ones
/// stored with the credentials.
fn endpoints(credentials: &Credentials) -> Check {
    let in_clear = sinks::SinkKind::ALL.iter().find_map(|&kind| {
        // a table that does not read failed the credentials check before this one
        let (what, url) = kind.endpoint(credentials).ok().flatten()?;
        (!http::is_private_in_transit(&url)).then_some((what, kind.name()))
    });
    match in_clear {
        None => Check::pass(
            "endpoints",
            "every address is https (or http to this machine)",
        ),
        // a webhook's URL is its secret: named, never shown
        Some((what, sink)) => Check::fail(
            "endpoints",
            Kind::Config,
            format!(
                "{what} ({sink}) is not https, so its secret would cross the network in clear text"
            ),
            format!("fitbit-notifier auth {sink}, with an https:// address"),
        ),
    }
}

/// The provider's token, its scopes, Testing's expiry and one real data call; returns
/// yesterday's summary for the tracker check.
fn provider(
    env: &Context,
    credentials: &Credentials,
    state: &State,
) -> (Vec<Check>, Option<DaySummary>) {
    let (stored, auth) = match env.config.provider {
        ProviderKind::GoogleHealth => (&credentials.google, "fitbit-notifier auth google"),
        ProviderKind::FitbitLegacy => (&credentials.fitbit, "fitbit-notifier auth fitbit"),
    };
    let Some(stored) = stored else {
        return (
            vec![Check::fail(
                "authorization",
                Kind::Reauth,
                format!("no {} authorization is stored", env.config.provider.name()),
                "fitbit-notifier init --step google",
            )],
            None,
        );
    };
    let mut checks = Vec::new();
    if env.config.provider == ProviderKind::GoogleHealth {
        checks.push(scopes(stored));
        if let Some(check) = testing_consent(stored, state) {
            checks.push(check);
        }
    }
    let provider = providers::from_config(env);
    let refreshed = env.block_on_with_deadline(async { Ok(provider.refresh().await?) });
    match refreshed {
        Ok(until) => checks.push(Check::pass(
            "token",
            format!(
                "refreshed; valid until {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
        )),
        Err(err) => {
            checks.push(Check::from_error("token", &err, auth));
            return (checks, None);
        }
    }
    let day = env.block_on_with_deadline(job::fetch_day(env, &provider, DateArg::Yesterday));
    match day {
        Ok(day) => {
            checks.push(Check::pass(
                "data",
                format!(
                    "read {} ({}): {} steps",
                    day.date,
                    day.timezone,
                    show(day.activity.steps)
                ),
            ));
            (checks, Some(day))
        }
        Err(err) => {
            checks.push(Check::from_error("data", &err, auth));
            (checks, None)
        }
    }
}

fn show(value: Option<i64>) -> String {
    value.map_or_else(|| "no".into(), |v| v.to_string())
}

/// The scopes granted at consent against those the summary reads.
fn scopes(stored: &OAuthCredentials) -> Check {
    let missing: Vec<&str> = google_health::SCOPES
        .iter()
        .filter(|scope| !oauth::is_granted(stored, scope))
        .map(|scope| scope.name)
        .collect();
    if missing.is_empty() {
        Check::pass(
            "scopes",
            "every Google Health scope the summary reads is granted",
        )
    } else {
        Check::warn(
            "scopes",
            format!(
                "not granted: {} (those values will be missing)",
                missing.join(", ")
            ),
            "fitbit-notifier auth google, and tick every box on the consent screen",
        )
    }
}

/// Testing status: Google expires the consent 7 days after it was given
/// (support.google.com/cloud/answer/15549945).
fn testing_consent(stored: &OAuthCredentials, state: &State) -> Option<Check> {
    let fix = "fitbit-notifier auth google, or publish the app: https://console.developers.google.com/auth/audience";
    match state.google_publishing.as_deref()? {
        "testing" => {
            let age = Utc::now() - stored.authorized_at;
            let expires = stored.authorized_at + TimeDelta::days(TESTING_EXPIRY_DAYS);
            let when = expires.format("%Y-%m-%d %H:%M UTC");
            Some(if age >= TimeDelta::days(TESTING_EXPIRY_DAYS) {
                Check::fail(
                    "consent",
                    Kind::Reauth,
                    format!("the app is in Testing and the consent expired on {when}"),
                    fix,
                )
            } else if age >= TimeDelta::days(TESTING_WARN_DAYS) {
                Check::warn(
                    "consent",
                    format!(
                        "the app is in Testing: the consent expires on {when}; re-authorize before day 7, or publish the app"
                    ),
                    fix,
                )
            } else {
                Check::pass(
                    "consent",
                    format!("the app is in Testing: the consent expires on {when}"),
                )
            })
        }
        _ => Some(Check::pass(
            "consent",
            "the app is published (In production)",
        )),
    }
}

/// The tracker's last sync (and battery) from yesterday's summary.
fn tracker(day: &DaySummary) -> Check {
    let Some(device) = &day.device else {
        return Check::warn(
            "tracker",
            "no tracker is paired with the account",
            "pair it in the Google Health app",
        );
    };
    let battery = device
        .battery_percent
        .map(|b| format!(", battery {b}%"))
        .unwrap_or_default();
    let Some(last_sync) = device.last_sync else {
        return Check::warn(
            "tracker",
            format!("{}: no sync time{battery}", device_name(day)),
            "open the Google Health app to sync",
        );
    };
    let now = day
        .timezone
        .parse::<chrono_tz::Tz>()
        .map(|tz| Utc::now().with_timezone(&tz).naive_local())
        .unwrap_or_else(|_| Utc::now().naive_utc());
    let detail = format!("{} last synced {last_sync}{battery}", device_name(day));
    if now - last_sync > TimeDelta::days(1) {
        Check::warn(
            "tracker",
            format!("{detail}: more than a day ago"),
            "open the Google Health app next to the tracker to sync it",
        )
    } else {
        Check::pass("tracker", detail)
    }
}

fn device_name(day: &DaySummary) -> String {
    day.device
        .as_ref()
        .and_then(|d| d.name.clone())
        .unwrap_or_else(|| "the tracker".into())
}

/// Each enabled sink: credentials stored, and accepted where the service can be asked
/// for free.
fn sink_checks(env: &Context, credentials: &Credentials) -> Vec<Check> {
    env.config
        .sinks
        .enabled
        .iter()
        .map(|&kind| {
            let name = kind.name();
            let fix = format!("fitbit-notifier auth {name}");
            if sinks::Sink::enabled(&env.client, &single(env, kind), &env.paths, credentials).is_err() {
                return Check::fail(
                    name,
                    Kind::Config,
                    format!("no {} credentials are stored", kind.title()),
                    fix,
                );
            }
            let verified = env.block_on_with_deadline(async {
                Ok(sinks::verify(kind, &env.client, &env.config, credentials).await?)
            });
            match verified {
                Ok(Some(detail)) => Check::pass(name, detail),
                Ok(None) => Check::pass(
                    name,
                    format!(
                        "credentials stored; not checked: {} has no free way to check them (the first post does)",
                        kind.title()
                    ),
                ),
                Err(err) => Check::from_error(name, &err, &fix),
            }
        })
        .collect()
}

/// A copy of the config that enables only `kind`.
fn single(env: &Context, kind: sinks::SinkKind) -> crate::config::Config {
    let mut config = env.config.clone();
    config.sinks.enabled = vec![kind];
    config
}

fn schedule_check() -> Check {
    let fix = "fitbit-notifier init --step schedule";
    match schedule::status() {
        schedule::Status::Systemd {
            enabled: true,
            next,
        } => Check::pass(
            "schedule",
            format!(
                "systemd user timer enabled; next run {}",
                next.unwrap_or_else(|| "not known".into())
            ),
        ),
        schedule::Status::Systemd { enabled: false, .. } => Check::fail(
            "schedule",
            Kind::Other,
            "the systemd user timer is installed but not enabled",
            format!("systemctl --user enable --now {}", schedule::TIMER),
        ),
        schedule::Status::Cron => Check::pass("schedule", "the crontab runs fitbit-notifier"),
        schedule::Status::Missing => Check::warn(
            "schedule",
            "no systemd user timer and no crontab line runs fitbit-notifier here",
            fix,
        ),
    }
}

fn last_run(state: &State) -> Check {
    match &state.last_run {
        None => Check::warn(
            "last run",
            "no run recorded yet",
            "fitbit-notifier run --dry-run",
        ),
        Some(run) if run.exit == 0 => Check::pass(
            "last run",
            format!("{} ok", run.at.format("%Y-%m-%d %H:%M UTC")),
        ),
        Some(run) => Check::warn(
            "last run",
            format!(
                "{} exited {}: {}",
                run.at.format("%Y-%m-%d %H:%M UTC"),
                run.exit,
                run.message
            ),
            "fitbit-notifier run",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reauthorization_comes_before_config_before_try_later() {
        let fail = |kind| Check::fail("x", kind, "", "");
        assert_eq!(
            exit_status(&[Check::pass("a", ""), Check::warn("b", "", "")]),
            0
        );
        assert_eq!(exit_status(&[fail(Kind::Other), fail(Kind::TryLater)]), 75);
        assert_eq!(exit_status(&[fail(Kind::TryLater), fail(Kind::Config)]), 78);
        assert_eq!(exit_status(&[fail(Kind::Config), fail(Kind::Reauth)]), 77);
        assert_eq!(exit_status(&[fail(Kind::Other)]), 1);
    }
}

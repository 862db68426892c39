//! The daily schedule on this machine: the systemd user timer (the units of
//! contrib/systemd/user with the binary's real path) or a crontab line. `init` installs
//! it, `doctor` reads its state. Everything goes through the `systemctl`, `loginctl` and
//! `crontab` commands on PATH, as a person would type them.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Local, NaiveTime, TimeDelta};

use crate::error::{Error, Result};
use crate::store::write_atomic;

pub const TIMER: &str = "fitbit-notifier.timer";
const SERVICE_UNIT: &str = include_str!("../contrib/systemd/user/fitbit-notifier.service");
const TIMER_UNIT: &str = include_str!("../contrib/systemd/user/fitbit-notifier.timer");
/// Where contrib/'s service expects `cargo install` to have put the binary.
const CONTRIB_EXEC: &str = "ExecStart=%h/.cargo/bin/fitbit-notifier";
/// The timer's `OnCalendar=` time, and the crontab's first line.
const DAILY_AT: (u32, u32) = (9, 30);

/// The user units, with `ExecStart=` naming `bin`.
pub fn units(bin: &Path) -> [(&'static str, String); 2] {
    [
        (
            "fitbit-notifier.service",
            SERVICE_UNIT.replace(CONTRIB_EXEC, &format!("ExecStart={}", bin.display())),
        ),
        (TIMER, TIMER_UNIT.to_string()),
    ]
}

/// `~/.config/systemd/user` (or under `$XDG_CONFIG_HOME`).
pub fn unit_dir() -> Result<PathBuf> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.config_dir().join("systemd/user"))
        .ok_or_else(|| Error::config("cannot find a home directory for the systemd user units"))
}

/// The crontab lines: contrib/crontab's two attempts, to syslog, with `bin`.
pub fn cron_lines(bin: &Path) -> String {
    let bin = bin.display();
    format!(
        "{m} {h} * * * {bin} run --date yesterday 2>&1 | logger -t fitbit-notifier\n\
         {m} 13 * * * {bin} run --date yesterday 2>&1 | logger -t fitbit-notifier\n",
        m = DAILY_AT.1,
        h = DAILY_AT.0
    )
}

/// Runs `program args` and returns its trimmed stdout, or what went wrong in one line.
fn run(program: &str, args: &[&str]) -> std::result::Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            stderr.lines().next().unwrap_or("no message").trim()
        ))
    }
}

/// What installing did, in lines for the person.
pub struct Installed {
    pub notes: Vec<String>,
}

/// Writes the units (each atomically), reloads the user manager, enables and starts
/// the timer, and enables lingering when it is off so that the timer also fires while
/// the person is logged out.
pub fn install_systemd(bin: &Path) -> Result<Installed> {
    let dir = unit_dir()?;
    fs::create_dir_all(&dir)
        .map_err(|err| Error::config(format!("cannot create {}: {err}", dir.display())))?;
    for (name, text) in units(bin) {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())
            .map_err(|err| Error::config(format!("cannot write {}: {err}", path.display())))?;
    }
    let mut notes = vec![format!(
        "wrote {TIMER} and fitbit-notifier.service to {}",
        dir.display()
    )];
    for args in [
        &["--user", "daemon-reload"][..],
        &["--user", "enable", "--now", TIMER][..],
    ] {
        run("systemctl", args).map_err(|why| {
            Error::other(format!(
                "{why}; is a systemd user session running (`systemctl --user status`)? \
                 Choose cron instead: fitbit-notifier init --step schedule"
            ))
        })?;
        notes.push(format!("systemctl {}", args.join(" ")));
    }
    notes.push(linger());
    Ok(Installed { notes })
}

/// Turns lingering on when it is off; says what it did or the command to run.
fn linger() -> String {
    let user = std::env::var("USER").unwrap_or_default();
    match run(
        "loginctl",
        &["show-user", &user, "--property=Linger", "--value"],
    ) {
        Ok(value) if value == "yes" => {
            "lingering is on: the timer fires while you are logged out".into()
        }
        _ => match run("loginctl", &["enable-linger", &user]) {
            Ok(_) => "loginctl enable-linger: the timer fires while you are logged out too".into(),
            Err(why) => format!(
                "{why}; for the timer to fire while you are logged out, run: sudo loginctl enable-linger {user}"
            ),
        },
    }
}

/// Adds the crontab lines unless a line already runs fitbit-notifier (the rest of the
/// crontab is kept as it is).
pub fn install_cron(bin: &Path) -> Result<Installed> {
    // `crontab -l` fails when the user has no crontab yet: that is an empty one
    let current = run("crontab", &["-l"]).unwrap_or_default();
    if current.lines().any(is_our_cron_line) {
        return Ok(Installed {
            notes: vec!["the crontab already runs fitbit-notifier; left as it is".into()],
        });
    }
    let mut text = current;
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(
        "# fitbit-notifier: yesterday's summary, with a second attempt (fitbit-notifier init)\n",
    );
    text.push_str(&cron_lines(bin));
    let mut child = Command::new("crontab")
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|err| Error::other(format!("cannot run crontab: {err}")))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(text.as_bytes())
        .map_err(|err| Error::other(format!("cannot write to crontab: {err}")))?;
    let status = child
        .wait()
        .map_err(|err| Error::other(format!("crontab failed: {err}")))?;
    if !status.success() {
        return Err(Error::other(format!(
            "crontab refused the new lines ({status}); add them by hand with `crontab -e`:\n{}",
            cron_lines(bin)
        )));
    }
    Ok(Installed {
        notes: vec!["added two lines to your crontab (`crontab -l` shows them)".into()],
    })
}

fn is_our_cron_line(line: &str) -> bool {
    !line.trim_start().starts_with('#') && line.contains("fitbit-notifier run")
}

/// How the daily run is scheduled here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The user timer: whether it is enabled, and its next start as systemd says.
    Systemd {
        enabled: bool,
        next: Option<String>,
    },
    Cron,
    Missing,
}

/// Asks systemd about the user timer, then the crontab.
pub fn status() -> Status {
    // `is-enabled` prints the state on stdout and exits 1 for all but enabled ones
    let state = Command::new("systemctl")
        .args(["--user", "is-enabled", TIMER])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    if state == "enabled" || state == "disabled" {
        let next = run(
            "systemctl",
            &[
                "--user",
                "show",
                TIMER,
                "--property=NextElapseUSecRealtime",
                "--value",
            ],
        )
        .ok()
        .filter(|next| !next.is_empty() && next != "n/a");
        return Status::Systemd {
            enabled: state == "enabled",
            next,
        };
    }
    match run("crontab", &["-l"]) {
        Ok(text) if text.lines().any(is_our_cron_line) => Status::Cron,
        _ => Status::Missing,
    }
}

/// The next 09:30 (the timer's and the crontab's time) after `now`, local time.
pub fn next_daily_run(now: DateTime<Local>) -> DateTime<Local> {
    let at = NaiveTime::from_hms_opt(DAILY_AT.0, DAILY_AT.1, 0).expect("valid time");
    let mut day = now.date_naive();
    if now.time() >= at {
        day += TimeDelta::days(1);
    }
    day.and_time(at)
        .and_local_timezone(Local)
        .earliest()
        // a 09:30 that a clock change skips: an hour later
        .unwrap_or_else(|| now + TimeDelta::hours(24))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_units_run_the_given_binary() {
        let [(_, service), (_, timer)] = units(Path::new("/opt/fn/bin/fitbit-notifier"));
        assert!(service.contains("\nExecStart=/opt/fn/bin/fitbit-notifier run --date yesterday\n"));
        assert!(!service.contains("%h/.cargo"));
        assert!(timer.contains("OnCalendar=*-*-* 09:30"));
        assert!(
            cron_lines(Path::new("/b/fitbit-notifier"))
                .starts_with("30 9 * * * /b/fitbit-notifier run")
        );
    }

    #[test]
    fn the_next_run_is_the_next_half_past_nine() {
        let before = Local.with_ymd_and_hms(2026, 12, 4, 8, 0, 0).unwrap();
        assert_eq!(
            next_daily_run(before).format("%d %H:%M").to_string(),
            "04 09:30"
        );
        let after = Local.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap();
        assert_eq!(
            next_daily_run(after).format("%d %H:%M").to_string(),
            "05 09:30"
        );
    }

    #[test]
    fn only_uncommented_run_lines_are_ours() {
        assert!(is_our_cron_line(
            "30 9 * * * /x/fitbit-notifier run --date yesterday"
        ));
        assert!(!is_our_cron_line("#30 9 * * * /x/fitbit-notifier run"));
        assert!(!is_our_cron_line("0 1 * * * backup"));
    }
}

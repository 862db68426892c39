//! Step 4: yesterday's messages as they would go out (`run --dry-run`), then the
//! schedule: the systemd user timer, a crontab line, or the lines printed to install by
//! hand; and the time of the next run.

use std::path::PathBuf;

use anyhow::Result;
use chrono::Local;

use super::Wizard;
use crate::day::dates::DateArg;
use crate::error::Error;
use crate::job::{self, Mode};
use crate::schedule::{self, Status};

pub fn step(wizard: &Wizard) -> Result<()> {
    let ask = &wizard.ask;
    ask.step(4, "the daily schedule");
    ask.say("Yesterday's messages as they would go out:\n");
    if let Err(err) = job::post_day(
        wizard.config_file,
        DateArg::Yesterday,
        Mode::Scheduled,
        true,
        None,
        None,
    ) {
        // the schedule is still worth installing: the run reports the same problem
        ask.say(&format!("(the dry run failed: {err:#})"));
    }
    let bin = binary()?;
    let default = if on_path("systemctl") {
        "systemd"
    } else if on_path("crontab") {
        "cron"
    } else {
        "print"
    };
    let how = ask.choose(
        "\nRun it every day at 09:30 with",
        &["systemd", "cron", "print"],
        wizard.args.schedule.as_deref(),
        default,
    )?;
    let installed = match how.as_str() {
        "systemd" => schedule::install_systemd(&bin),
        "cron" => schedule::install_cron(&bin),
        _ => {
            print_by_hand(wizard, &bin);
            return Ok(());
        }
    };
    match installed {
        Ok(installed) => {
            for note in installed.notes {
                ask.say(&format!("  {note}"));
            }
        }
        Err(err) => {
            ask.say(&format!("Could not install it: {err}"));
            print_by_hand(wizard, &bin);
            return Ok(());
        }
    }
    let next = match schedule::status() {
        Status::Systemd {
            next: Some(next), ..
        } => next,
        _ => schedule::next_daily_run(Local::now())
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
    };
    ask.say(&format!("Next run: {next}"));
    Ok(())
}

fn print_by_hand(wizard: &Wizard, bin: &std::path::Path) {
    let dir = schedule::unit_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "~/.config/systemd/user".into());
    wizard.ask.say(&format!(
        "To install it by hand, either copy contrib/systemd/user/* to\n  {dir}\n\
         with the line\n  ExecStart={} run --date yesterday\nthen run\n  \
         systemctl --user daemon-reload\n  \
         systemctl --user enable --now {}\n  \
         sudo loginctl enable-linger \"$USER\"\n\
         or add these lines with `crontab -e`:\n{}",
        bin.display(),
        schedule::TIMER,
        schedule::cron_lines(bin)
    ));
}

/// This binary's real path, for ExecStart= and the crontab.
fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|err| Error::other(format!("cannot find this program's path: {err}")))?;
    Ok(exe.canonicalize().unwrap_or(exe))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

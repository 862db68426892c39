//! `man`: the manual page, fitbit-notifier(1), as roff on stdout.
//!
//! The page is rendered from the clap definition when asked for, not by a build
//! script: `cargo install` users get it from the binary they installed, and it can
//! never disagree with `--help`. It is one page: the subcommands are few, so each
//! gets a subsection instead of a page of its own.

use anyhow::Result;
use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use crate::cli::Cli;
use crate::error::Kind;

pub fn run() -> Result<()> {
    crate::output::write_bytes(&page(Cli::command())?)
}

fn page(cmd: Command) -> Result<Vec<u8>> {
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut roff = Roff::new();
    commands_section(&mut roff, &cmd);
    exit_status_section(&mut roff);
    files_section(&mut roff);
    roff.to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Each subcommand with its own arguments. The definition is read before clap builds
/// it, so the global options (listed once under OPTIONS) are not repeated here.
fn commands_section(roff: &mut Roff, cmd: &Command) {
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let mut usage = vec![bold(format!("{} {}", cmd.get_name(), sub.get_name()))];
        for arg in sub.get_arguments().filter(|arg| !arg.is_hide_set()) {
            usage.push(roman(" "));
            usage.extend(synopsis(arg));
        }
        roff.control("SS", []).text(usage);
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            paragraphs(roff, &about.to_string());
        }
        for arg in sub.get_arguments().filter(|arg| !arg.is_hide_set()) {
            roff.control("TP", []).text(label(arg));
            roff.text([roman(help(arg))]);
        }
    }
}

fn paragraphs(roff: &mut Roff, text: &str) {
    for line in text.lines() {
        if line.trim().is_empty() {
            roff.control("PP", []);
        } else {
            roff.text([roman(line)]);
        }
    }
}

fn synopsis(arg: &Arg) -> Vec<Inline> {
    let label = label(arg);
    if arg.is_required_set() || arg.is_positional() {
        label
    } else {
        [vec![roman("[")], label, vec![roman("]")]].concat()
    }
}

/// `--date <DATE>`, `-f, --force` or `<SHELL>`.
fn label(arg: &Arg) -> Vec<Inline> {
    let value = arg
        .get_value_names()
        .map(|names| names.join(" "))
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    if arg.is_positional() {
        return vec![italic(value)];
    }
    let mut label = Vec::new();
    if let Some(short) = arg.get_short() {
        label.push(bold(format!("-{short}")));
    }
    if let Some(long) = arg.get_long() {
        if !label.is_empty() {
            label.push(roman(", "));
        }
        label.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        label.push(roman(" "));
        label.push(italic(value));
    }
    if matches!(arg.get_action(), ArgAction::Count | ArgAction::Append) {
        label.push(roman("..."));
    }
    label
}

fn help(arg: &Arg) -> String {
    let mut text = arg
        .get_long_help()
        .or(arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let choices: Vec<_> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| value.get_name().to_string())
        .collect();
    if !choices.is_empty() {
        text.push_str(&format!(" [possible values: {}]", choices.join(", ")));
    }
    let defaults: Vec<_> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy())
        .collect();
    if !defaults.is_empty() {
        text.push_str(&format!(" [default: {}]", defaults.join(", ")));
    }
    text
}

/// The statuses cron and systemd act on; the numbers come from `error::Kind`.
fn exit_status_section(roff: &mut Roff) {
    let statuses = [
        (0, "Done."),
        (Kind::Other.exit_status(), "Failed; the message says why."),
        (2, "Wrong usage; see --help."),
        (
            Kind::TryLater.exit_status(),
            "Temporary failure (network, server error, rate limit, data not synced yet, \
             another run holds the lock): try again later; a scheduled run retries by itself.",
        ),
        (
            Kind::Reauth.exit_status(),
            "The stored authorization is no longer accepted: run the auth command the message names.",
        ),
        (
            Kind::Config.exit_status(),
            "Configuration error: fix the file the message names (with line and column).",
        ),
    ];
    roff.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in statuses {
        roff.control("TP", [])
            .text([bold(status.to_string())])
            .text([roman(meaning)]);
    }
}

fn files_section(roff: &mut Roff) {
    let files = [
        (
            "$XDG_CONFIG_HOME/fitbit-notifier/config.toml",
            "Settings (default ~/.config/fitbit-notifier/config.toml), or the file named by \
             --config or FITBIT_NOTIFIER_CONFIG. Never written by the tool.",
        ),
        (
            "credentials.toml",
            "Tokens and keys, mode 0600, beside the config unless credentials_file says \
             otherwise. Rewritten atomically under the lock file credentials.toml.lock, so \
             its directory must be writable.",
        ),
        (
            "$XDG_STATE_HOME/fitbit-notifier/state.toml",
            "What has been posted, and the cached time zone (default \
             ~/.local/state/fitbit-notifier/state.toml, or state_file in the config).",
        ),
    ];
    roff.control("SH", ["FILES"]);
    for (path, meaning) in files {
        roff.control("TP", [])
            .text([italic(path)])
            .text([roman(meaning)]);
    }
    roff.control("SH", ["SEE ALSO"]).text([roman(
        "crontab(5), systemd.timer(5), systemd.service(5); the README and contrib/ \
         directory of the source distribution.",
    )]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(cmd: Command) -> String {
        String::from_utf8(page(cmd).unwrap()).unwrap()
    }

    #[test]
    fn subcommand_arguments_are_listed_with_values_choices_and_defaults() {
        let cmd = Command::new("tool").version("1.0").subcommand(
            Command::new("post")
                .about("Post it")
                .arg(
                    Arg::new("date")
                        .long("date")
                        .value_name("DATE")
                        .default_value("yesterday")
                        .help("Which day"),
                )
                .arg(
                    Arg::new("dry_run")
                        .long("dry-run")
                        .short('n')
                        .action(ArgAction::SetTrue)
                        .help("Print, do not post"),
                )
                .arg(
                    Arg::new("sink")
                        .required(true)
                        .value_parser(["x", "mastodon"])
                        .help("Where to"),
                ),
        );
        let page = render(cmd);
        assert!(page.contains(".SS"), "{page}");
        assert!(page.contains(r"\fBtool post\fR"), "{page}");
        assert!(page.contains(r"[\fB\-\-date\fR \fIDATE\fR]"), "{page}");
        assert!(page.contains(r"\fB\-n\fR, \fB\-\-dry\-run\fR"), "{page}");
        assert!(page.contains("Which day [default: yesterday]"), "{page}");
        assert!(
            page.contains("Where to [possible values: x, mastodon]"),
            "{page}"
        );
        assert!(!page.contains(r"[\fISINK\fR]"), "{page}");
    }
}

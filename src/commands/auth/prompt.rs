//! Values a person gives a command: secrets come from the environment or a prompt that
//! does not echo them, never from the command line (every user can read argv in `ps`).

use std::io::{self, BufRead, IsTerminal, Write};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A secret from `env_var`; when that is unset, typed without echo at a terminal, or the
/// next line of standard input when that is not a terminal (`auth x < keys.txt`).
pub fn secret(env_var: &str, what: &str) -> Result<Secret> {
    let value = match std::env::var(env_var) {
        Ok(value) if !value.trim().is_empty() => {
            log::info!("the {what} comes from {env_var}");
            value
        }
        _ if io::stdin().is_terminal() => hidden(what)?,
        _ => next_line(what)?.ok_or_else(|| {
            Error::other(format!(
                "no {what}: set {env_var}, or give it as a line on standard input"
            ))
        })?,
    };
    let value = value.trim();
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(Error::other(format!(
            "the {what} is empty or contains spaces; copy it again (or set {env_var})"
        )));
    }
    Ok(Secret::new(value))
}

/// A secret typed at the terminal without echo.
pub fn hidden(what: &str) -> Result<String> {
    rpassword::prompt_password(format!("{what} (typing is hidden): "))
        .map_err(|err| Error::other(format!("cannot read the {what} from the terminal: {err}")))
}

/// A line typed at the terminal (with echo), or the next line of standard input.
pub fn line(what: &str) -> Result<String> {
    if io::stdin().is_terminal() {
        eprint!("{what}: ");
        // the prompt has no newline; without a flush it could appear after the answer
        let _ = io::stderr().flush();
    }
    next_line(what)?.ok_or_else(|| Error::other(format!("standard input ended before the {what}")))
}

fn next_line(what: &str) -> Result<Option<String>> {
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(line.trim().to_string())),
        Err(err) => Err(Error::other(format!("cannot read the {what}: {err}"))),
    }
}

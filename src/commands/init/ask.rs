//! The wizard's questions: asked at a terminal, or answered by the option or the default
//! with `--no-input`. Everything the wizard says goes to stderr, like every prompt of
//! the tool, so stdout stays for what commands print as their result.

use crate::commands::auth::prompt;
use crate::error::{Error, Result};

pub struct Ask {
    pub interactive: bool,
}

impl Ask {
    /// A paragraph for the person (the console steps, what happened).
    pub fn say(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A heading for a step.
    pub fn step(&self, number: u8, title: &str) {
        eprintln!("\n── Step {number}: {title} ──");
    }

    /// One of `choices`: `given` (from an option) when set, else asked at a terminal
    /// (an empty answer takes `default`), else `default`.
    pub fn choose(
        &self,
        question: &str,
        choices: &[&str],
        given: Option<&str>,
        default: &str,
    ) -> Result<String> {
        if let Some(given) = given {
            return Ok(given.to_string());
        }
        if !self.interactive {
            return Ok(default.to_string());
        }
        loop {
            let answer = prompt::line(&format!("{question} [{}] ({default})", choices.join("/")))?;
            let answer = answer.trim().to_lowercase();
            if answer.is_empty() {
                return Ok(default.to_string());
            }
            if let Some(choice) = choices.iter().find(|c| c.starts_with(answer.as_str())) {
                return Ok((*choice).to_string());
            }
            eprintln!("  please answer one of {}", choices.join(", "));
        }
    }

    /// Yes or no; `--no-input` takes `default`.
    pub fn yes(&self, question: &str, default: bool) -> Result<bool> {
        let shown = if default { "Y/n" } else { "y/N" };
        if !self.interactive {
            return Ok(default);
        }
        let answer = prompt::line(&format!("{question} [{shown}]"))?;
        Ok(match answer.trim().to_lowercase().as_str() {
            "" => default,
            answer => answer.starts_with('y'),
        })
    }

    /// A line of text; `--no-input` fails naming the option that gives it.
    pub fn text(&self, question: &str, option: &str) -> Result<String> {
        if !self.interactive {
            return Err(Error::config(format!(
                "{question}: not given; pass {option} (init --no-input asks nothing)"
            )));
        }
        prompt::line(question)
    }

    /// Waits for Enter while the person works in a console.
    pub fn done(&self, what: &str) -> Result<()> {
        if self.interactive {
            prompt::line(&format!("Press Enter when {what}"))?;
        }
        Ok(())
    }
}

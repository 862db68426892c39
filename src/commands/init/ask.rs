//! The wizard's questions: asked at a terminal, or answered by the option or the default
//! with `--no-input`. Everything the wizard says goes to stderr, like every prompt of
//! the tool, so stdout stays for what commands print as their result.

use crate::commands::auth::prompt;
use crate::error::{Error, Result};

/// Greedy word wrap of each line at `width`, continuing with the line's indentation; a
/// word longer than the width (a link, a path) stays whole on a line of its own.
fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push(line.to_string());
            continue;
        }
        let indent: String = line.chars().take_while(|c| *c == ' ').collect();
        let mut current = String::new();
        for word in line.split_whitespace() {
            let fits = current.chars().count() + 1 + word.chars().count() <= width;
            if !current.trim().is_empty() && !fits {
                out.push(std::mem::replace(&mut current, indent.clone()));
            } else if !current.trim().is_empty() {
                current.push(' ');
            }
            if current.is_empty() {
                current.push_str(&indent);
            }
            current.push_str(word);
        }
        out.push(current);
    }
    out.join("\n")
}

pub struct Ask {
    pub interactive: bool,
}

impl Ask {
    /// A paragraph for the person (the console steps, what happened), each line
    /// wrapped to the 80 columns of a terminal.
    pub fn say(&self, text: &str) {
        eprintln!("{}", wrap(text, 79));
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_at_words_and_keep_their_indent() {
        assert_eq!(wrap("  aaa bbb ccc", 8), "  aaa\n  bbb\n  ccc");
        assert_eq!(wrap("short\n", 8), "short");
        assert_eq!(
            wrap("see https://example.com/a/long/path now", 10),
            "see\nhttps://example.com/a/long/path\nnow"
        );
    }
}

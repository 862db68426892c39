//! Step 1: the locale, the provider and where to post, written to `config.toml` with a
//! comment per key. An existing config is replaced only when the person says so (or
//! `--force`), and its other tables (endpoints, `[http]`, templates) are kept.

use anyhow::Result;

use super::Wizard;
use crate::config::load;
use crate::error::Error;
use crate::sinks::SinkKind;
use crate::store::write_atomic;

pub fn step(wizard: &Wizard) -> Result<()> {
    let ask = &wizard.ask;
    let args = wizard.args;
    ask.step(1, "the config");
    let path = wizard.config_path()?;
    let old = std::fs::read_to_string(&path).ok();
    if old.is_some() {
        ask.say(&format!(
            "{} exists. Replacing it keeps its other settings (endpoints, [http], templates).",
            path.display()
        ));
        let replace = args.force || ask.yes("Replace its locale, provider and sinks?", false)?;
        if !replace {
            // it must still read, or every later step fails on it
            load(wizard.config_file)?;
            ask.say(&format!("Kept {}.", path.display()));
            return Ok(());
        }
    }
    let locale = ask.choose(
        "Language of the posts",
        &["en", "ja"],
        args.locale.as_deref(),
        "en",
    )?;
    let provider = if args.legacy {
        ask.say(
            "The legacy Fitbit Web API was turned off on 2026-11-02 and dev.fitbit.com no longer \
             registers apps: choose it only for a Fitbit-compatible endpoint of your own.",
        );
        ask.choose(
            "Provider",
            &["google-health", "fitbit-legacy"],
            None,
            "google-health",
        )?
    } else {
        "google-health".to_string()
    };
    let sinks = sinks(wizard)?;
    let text = render(&locale, &provider, &sinks, old.as_deref())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| Error::config(format!("cannot create {}: {err}", dir.display())))?;
    }
    write_atomic(&path, text.as_bytes())
        .map_err(|err| Error::config(format!("cannot write {}: {err}", path.display())))?;
    ask.say(&format!("Wrote {}.", path.display()));
    Ok(())
}

fn sinks(wizard: &Wizard) -> Result<Vec<SinkKind>> {
    if !wizard.args.sinks.is_empty() {
        return Ok(wizard.args.sinks.clone());
    }
    let ask = &wizard.ask;
    ask.say(
        "Where should the posts go? X costs $0.015 a post; Mastodon, Bluesky and a Discord or \
         Slack channel are free. Name one or more, separated by commas.",
    );
    if !ask.interactive {
        return Ok(vec![SinkKind::X]);
    }
    loop {
        let names = SinkKind::NAMES.join(", ");
        let answer = ask.text(&format!("Sinks ({names}) (x)"), "--sinks")?;
        let answer = if answer.trim().is_empty() {
            "x".to_string()
        } else {
            answer
        };
        let parsed: Option<Vec<SinkKind>> = answer
            .split(',')
            .map(|name| SinkKind::parse(name.trim()))
            .collect();
        match parsed {
            Some(kinds) if !kinds.is_empty() => return Ok(kinds),
            _ => ask.say(&format!("  name sinks from: {names}")),
        }
    }
}

/// The new config: the three answers, commented, with every other key of the old one
/// (its top-level keys before `[sinks]`, its tables after).
fn render(locale: &str, provider: &str, sinks: &[SinkKind], old: Option<&str>) -> Result<String> {
    let names: Vec<String> = sinks.iter().map(|s| format!("\"{}\"", s.name())).collect();
    let (mut kept_keys, mut kept_tables) = (toml::Table::new(), toml::Table::new());
    if let Some(old) = old {
        let table: toml::Table = toml::from_str(old)
            .map_err(|err| Error::config(format!("the old config does not read: {err}")))?;
        for (key, value) in table {
            match (key.as_str(), &value) {
                ("locale" | "provider" | "sinks", _) => {}
                (_, toml::Value::Table(_)) => {
                    kept_tables.insert(key, value);
                }
                _ => {
                    kept_keys.insert(key, value);
                }
            }
        }
    }
    let show = |table: &toml::Table| -> Result<String> {
        if table.is_empty() {
            return Ok(String::new());
        }
        let text = toml::to_string(table).map_err(|err| Error::other(err.to_string()))?;
        Ok(format!("\n# kept from the previous config.toml\n{text}"))
    };
    Ok(format!(
        "# fitbit-notifier settings, written by `fitbit-notifier init`. Every key is\n\
         # described in config.example.toml; `fitbit-notifier doctor` checks them.\n\
         \n\
         # The language of the built-in messages: \"en\" or \"ja\".\n\
         locale = \"{locale}\"\n\
         \n\
         # Where the day's data comes from: \"google-health\" (the Google Health API).\n\
         provider = \"{provider}\"\n\
         {}\n\
         [sinks]\n\
         # Where the day's messages are posted, in this order.\n\
         enabled = [{}]\n\
         {}",
        show(&kept_keys)?,
        names.join(", "),
        show(&kept_tables)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::parse_toml;

    #[test]
    fn the_written_config_reads_and_keeps_the_other_tables() {
        let old =
            "locale = \"en\"\ntimezone = \"Asia/Tokyo\"\n[x]\napi_base = \"http://127.0.0.1:9/\"\n";
        let text = render(
            "ja",
            "google-health",
            &[SinkKind::Discord, SinkKind::X],
            Some(old),
        )
        .unwrap();
        let config: Config = parse_toml(std::path::Path::new("c.toml"), &text).unwrap();
        assert_eq!(config.locale.name(), "ja");
        assert_eq!(config.sinks.enabled, [SinkKind::Discord, SinkKind::X]);
        assert_eq!(config.x.api_base.as_str(), "http://127.0.0.1:9/");
        assert_eq!(config.timezone, Some(chrono_tz::Asia::Tokyo));
        assert_eq!(text.matches("locale =").count(), 1, "{text}");
    }
}

//! `config`: validate the config and credentials, show where every file lives.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::config::{self, Config};
use crate::day::MessageKind;
use crate::output::outln;
use crate::render;
use crate::sinks::{self, SinkKind};
use crate::store::credentials::Credentials;

pub fn run(config_file: Option<&Path>) -> Result<()> {
    let loaded = config::load(config_file)?;
    render::validate(&loaded.config).with_context(|| loaded.paths.config.display().to_string())?;
    let creds = sinks::load_credentials(&loaded.paths)?;
    let paths = &loaded.paths;
    let config_note = if loaded.file_present {
        "ok"
    } else {
        "not present: defaults in use"
    };
    let cfg = &loaded.config;
    outln!(
        "config            {} ({config_note})",
        paths.config.display()
    )?;
    outln!(
        "credentials       {} ({})",
        paths.credentials.display(),
        describe(&creds)?
    )?;
    outln!("credentials lock  {}", paths.credentials_lock.display())?;
    outln!("state             {}", paths.state.display())?;
    outln!("state lock        {}", paths.state_lock.display())?;
    outln!("provider          {}", cfg.provider.name())?;
    match cfg.timezone {
        Some(tz) => outln!("timezone          {tz} (from the config)")?,
        None => outln!("timezone          the account's own")?,
    }
    outln!("messages          {}", describe_messages(cfg))?;
    let sinks: Vec<&str> = cfg.sinks.enabled.iter().map(|kind| kind.name()).collect();
    outln!("sinks             {}", sinks.join(", "))?;
    Ok(())
}

fn describe_messages(cfg: &Config) -> String {
    let templates = MessageKind::ALL.map(|kind| {
        let source = if render::user_template(kind, cfg).is_some() {
            "your template"
        } else {
            "built-in"
        };
        format!("{}: {source}", kind.name())
    });
    format!("locale {}; {}", cfg.locale.name(), templates.join(", "))
}

fn describe(creds: &Credentials) -> Result<String> {
    let mut parts = Vec::new();
    if let Some(google) = &creds.google {
        parts.push(format!(
            "google: authorized {}",
            google.authorized_at.format("%Y-%m-%d")
        ));
    }
    if let Some(fitbit) = &creds.fitbit {
        parts.push(format!(
            "fitbit: authorized {}",
            fitbit.authorized_at.format("%Y-%m-%d")
        ));
    }
    for &kind in SinkKind::ALL {
        if let Some(stored) = kind.describe(creds)? {
            parts.push(format!("{}: {stored}", kind.name()));
        }
    }
    Ok(if parts.is_empty() {
        "nothing stored yet".to_string()
    } else {
        parts.join(", ")
    })
}

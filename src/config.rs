//! `config.toml`: the user's settings. Read, validated, never rewritten by the tool.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use url::Url;

use crate::day::alerts::Rule;
use crate::error::{Error, Result};
use crate::sinks::SinkKind;
use crate::store::parse_toml;

const APP: &str = "fitbit-notifier";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    #[default]
    GoogleHealth,
    FitbitLegacy,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::GoogleHealth => "google-health",
            ProviderKind::FitbitLegacy => "fitbit-legacy",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Ja,
}

impl Locale {
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ja => "ja",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub provider: ProviderKind,
    /// Overrides the account's own time zone.
    pub timezone: Option<Tz>,
    #[serde(default)]
    pub locale: Locale,
    pub credentials_file: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub google_health: GoogleHealthConfig,
    #[serde(default)]
    pub fitbit: FitbitConfig,
    #[serde(default)]
    pub x: XConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    #[serde(default)]
    pub sinks: SinksConfig,
    #[serde(default)]
    pub bluesky: BlueskyConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// The week's message, on the weekday it names.
    pub weekly: Option<WeeklyConfig>,
    /// Threshold alerts, each firing once and resolving once.
    #[serde(default)]
    pub alerts: Vec<Rule>,
}

/// `[notify] sink`: where a scheduled run tells the person about a problem only they
/// can fix (re-authorization, an expiring consent, a tracker that stopped syncing, the
/// same failure day after day), once per problem, and again when it is resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    pub sink: Option<SinkKind>,
}

/// `[weekly]`: the run for `day` also posts the week ending on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyConfig {
    /// monday..sunday
    pub day: chrono::Weekday,
    /// Whether the week's message carries the chart of its days, where a sink takes images.
    #[serde(default = "chart_by_default")]
    pub chart: bool,
}

fn chart_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Seconds to establish a connection.
    pub connect_timeout: u64,
    /// Seconds for a whole request, body included.
    pub timeout: u64,
    /// Attempts for a request that failed temporarily (5xx, 429 with a near reset, network).
    pub attempts: u32,
    /// Seconds a whole non-interactive command may take, retries included, so a hung
    /// server never hangs cron.
    pub deadline: u64,
    /// A PEM CA trusted for loopback addresses only, for HTTPS mocks in tests and the
    /// benchmark (src/net/loopback_ca.rs says why that is safe); left out of the example.
    pub extra_root_ca: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: 10,
            timeout: 30,
            attempts: 3,
            deadline: 300,
            extra_root_ca: None,
        }
    }
}

impl HttpConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_secs(self.deadline)
    }
}

/// Endpoints of an OAuth 2.0 data provider, each defaulting to the real service and
/// overridable for tests and proxies. One macro, because only the defaults differ.
macro_rules! endpoint_table {
    ($name:ident, $api:literal, $auth:literal, $token:literal) => {
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            pub api_base: Url,
            pub auth_url: Url,
            pub token_url: Url,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    api_base: Url::parse($api).expect("built-in URL"),
                    auth_url: Url::parse($auth).expect("built-in URL"),
                    token_url: Url::parse($token).expect("built-in URL"),
                }
            }
        }
    };
}

endpoint_table!(
    GoogleHealthConfig,
    "https://health.googleapis.com/v4/",
    "https://accounts.google.com/o/oauth2/v2/auth",
    "https://oauth2.googleapis.com/token"
);

endpoint_table!(
    FitbitConfig,
    "https://api.fitbit.com/",
    "https://www.fitbit.com/oauth2/authorize",
    "https://api.fitbit.com/oauth2/token"
);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XConfig {
    /// Base of `POST /2/tweets` and of the OAuth 1.0a PIN flow endpoints.
    pub api_base: Url,
}

impl Default for XConfig {
    fn default() -> Self {
        XConfig {
            api_base: Url::parse("https://api.x.com/").expect("built-in URL"),
        }
    }
}

/// Where `run` and `tweet --date` post.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinksConfig {
    pub enabled: Vec<SinkKind>,
}

impl Default for SinksConfig {
    fn default() -> Self {
        SinksConfig {
            enabled: vec![SinkKind::X],
        }
    }
}

impl SinksConfig {
    /// What is wrong with the list, if anything: posting nowhere, or twice to one sink.
    fn problem(&self) -> Option<String> {
        if self.enabled.is_empty() {
            return Some("is empty, so nothing would be posted; name at least one sink".into());
        }
        let repeated = self
            .enabled
            .iter()
            .enumerate()
            .find(|(i, kind)| self.enabled[..*i].contains(kind))?;
        Some(format!(
            "names \"{}\" twice; name each sink once",
            repeated.1.name()
        ))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlueskyConfig {
    /// Where sessions are created and posts written: the PDS (or the bsky.social entryway).
    pub service: Url,
}

impl Default for BlueskyConfig {
    fn default() -> Self {
        BlueskyConfig {
            service: Url::parse("https://bsky.social/").expect("built-in URL"),
        }
    }
}

/// The user's own message templates; a message without one uses the locale's built-in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    pub activity: Option<String>,
    pub sleep: Option<String>,
    pub week: Option<String>,
    pub alert: Option<String>,
    pub resolved: Option<String>,
}

/// Where every file lives, resolved once from the flags, the environment and the config.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    pub credentials: PathBuf,
    pub credentials_lock: PathBuf,
    pub state: PathBuf,
    pub state_lock: PathBuf,
}

/// The loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub paths: Paths,
    /// False when no file exists at the default location and the defaults are in use.
    pub file_present: bool,
}

/// `--config` (or `FITBIT_NOTIFIER_CONFIG`) when given, else the XDG location.
pub fn default_config_path() -> Result<PathBuf> {
    project_dirs()
        .map(|dirs| dirs.config_dir().join("config.toml"))
        .ok_or_else(|| Error::config("cannot find a home directory; pass --config <PATH>"))
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", APP)
}

/// Loads the config. A missing file at the default path means defaults; a missing
/// file that the user named explicitly is an error.
pub fn load(config_file: Option<&Path>) -> Result<Loaded> {
    let path = match config_file {
        Some(path) => path.to_path_buf(),
        None => default_config_path()?,
    };
    let (config, file_present) = match fs::read_to_string(&path) {
        Ok(text) => (parse_toml::<Config>(&path, &text)?, true),
        Err(err) if err.kind() == io::ErrorKind::NotFound && config_file.is_none() => {
            (Config::default(), false)
        }
        Err(err) => {
            return Err(Error::config(format!(
                "cannot read config {}: {err}; create it from config.example.toml or fix --config",
                path.display()
            )));
        }
    };
    if file_present {
        ensure_not_writable_by_others(&path)?;
    }
    config.ensure_endpoints_private(&path)?;
    if let Some(problem) = config.sinks.problem() {
        return Err(Error::config(format!(
            "{}: [sinks] enabled {problem}; fix the file and run again",
            path.display()
        )));
    }
    if let Some(problem) = alerts_problem(&config) {
        return Err(Error::config(format!(
            "{}: {problem}; fix the file and run again",
            path.display()
        )));
    }
    let paths = resolve_paths(&path, &config)?;
    Ok(Loaded {
        config,
        paths,
        file_present,
    })
}

/// What is wrong with the `[[alerts]]` rules, naming the rule: a bad rule, a name used
/// twice, or a sink that is not enabled.
fn alerts_problem(config: &Config) -> Option<String> {
    for (i, rule) in config.alerts.iter().enumerate() {
        let named = format!("[[alerts]] {:?}", rule.name);
        if let Some(problem) = rule.problem() {
            return Some(format!("{named}: {problem}"));
        }
        if config.alerts[..i].iter().any(|r| r.name == rule.name) {
            return Some(format!(
                "{named}: the name is used twice; give each alert its own"
            ));
        }
        for sink in rule.sinks.iter().flatten() {
            if !config.sinks.enabled.iter().any(|k| k.name() == sink) {
                return Some(format!(
                    "{named}: sink \"{sink}\" is not in [sinks] enabled; enable it or leave it out"
                ));
            }
        }
    }
    None
}

/// Whoever can write the config chooses where the tokens are sent, so a config that
/// group or others may change is refused like a readable credentials file.
fn ensure_not_writable_by_others(path: &Path) -> Result<()> {
    crate::store::refuse_mode_bits(
        path,
        0o022,
        "writable",
        ", who could point the tokens elsewhere",
        "go-w",
    )
}

impl Config {
    /// Every configured endpoint that a secret goes to is https, or http to this machine.
    fn ensure_endpoints_private(&self, path: &Path) -> Result<()> {
        for (url, key) in [
            (&self.google_health.api_base, "[google_health] api_base"),
            (&self.google_health.auth_url, "[google_health] auth_url"),
            (&self.google_health.token_url, "[google_health] token_url"),
            (&self.fitbit.api_base, "[fitbit] api_base"),
            (&self.fitbit.auth_url, "[fitbit] auth_url"),
            (&self.fitbit.token_url, "[fitbit] token_url"),
            (&self.x.api_base, "[x] api_base"),
            (&self.bluesky.service, "[bluesky] service"),
        ] {
            crate::net::http::ensure_private_in_transit(url, key)
                .map_err(|err| Error::config(format!("{}: {err}", path.display())))?;
        }
        Ok(())
    }
}

fn resolve_paths(config_path: &Path, config: &Config) -> Result<Paths> {
    let config_dir = config_path.parent().unwrap_or(Path::new("."));
    let beside_config = |p: &Path| config_dir.join(p);
    let credentials = config
        .credentials_file
        .as_deref()
        .map_or_else(|| config_dir.join("credentials.toml"), beside_config);
    let state = match config.state_file.as_deref() {
        Some(p) => beside_config(p),
        None => default_state_dir()?.join("state.toml"),
    };
    Ok(Paths {
        config: config_path.to_path_buf(),
        credentials_lock: with_suffix(&credentials, ".lock"),
        credentials,
        state_lock: with_suffix(&state, ".lock"),
        state,
    })
}

fn default_state_dir() -> Result<PathBuf> {
    let dirs = project_dirs().ok_or_else(|| {
        Error::config("cannot find a home directory; set state_file in the config")
    })?;
    Ok(dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        parse_toml(Path::new("config.toml"), text)
    }

    #[test]
    fn an_empty_file_means_every_default() {
        let config = parse("").unwrap();
        assert_eq!(config.provider, ProviderKind::GoogleHealth);
        assert_eq!(config.locale, Locale::En);
        assert_eq!(
            config.google_health.token_url.as_str(),
            "https://oauth2.googleapis.com/token"
        );
        assert_eq!(config.x.api_base.as_str(), "https://api.x.com/");
        assert_eq!(config.sinks.enabled, [SinkKind::X]);
        assert_eq!(config.bluesky.service.as_str(), "https://bsky.social/");
        assert_eq!(config.sinks.problem(), None);
    }

    #[test]
    fn sinks_are_named_once_each_and_unknown_ones_are_named() {
        let config = parse("[sinks]\nenabled = [\"x\", \"mastodon\", \"slack\"]\n").unwrap();
        assert_eq!(
            config.sinks.enabled,
            [SinkKind::X, SinkKind::Mastodon, SinkKind::Slack]
        );
        assert_eq!(config.sinks.problem(), None);
        let err = parse("[sinks]\nenabled = [\"x\", \"myspace\"]\n").unwrap_err();
        assert!(err.to_string().contains("myspace"), "{err}");
        let twice = parse("[sinks]\nenabled = [\"slack\", \"x\", \"slack\"]\n").unwrap();
        assert!(twice.sinks.problem().unwrap().contains("\"slack\" twice"));
        let none = parse("[sinks]\nenabled = []\n").unwrap();
        assert!(none.sinks.problem().unwrap().contains("empty"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("[x]\napi_bse = \"http://127.0.0.1:1/\"\n").unwrap_err();
        assert!(err.to_string().contains("api_bse"), "{err}");
        assert!(err.to_string().contains("config.toml:2:1"), "{err}");
    }

    #[test]
    fn templates_are_optional_and_unknown_template_keys_are_named() {
        let config = parse("[templates]\nsleep = \"{{ sleep_hours }}\"\n").unwrap();
        assert_eq!(config.templates.sleep.as_deref(), Some("{{ sleep_hours }}"));
        assert_eq!(config.templates.activity, None);
        let err = parse("[templates]\nactivty = \"{{ steps }}\"\n").unwrap_err();
        assert!(err.to_string().contains("activty"), "{err}");
    }

    #[test]
    fn unknown_provider_and_time_zone_are_config_errors() {
        assert!(
            parse("provider = \"garmin\"")
                .unwrap_err()
                .to_string()
                .contains("garmin")
        );
        assert!(parse("timezone = \"Mars/Olympus\"").is_err());
        assert_eq!(
            parse("timezone = \"Asia/Tokyo\"").unwrap().timezone,
            Some(chrono_tz::Asia::Tokyo)
        );
    }

    #[test]
    fn the_readme_and_the_example_document_the_http_defaults() {
        let readme = include_str!("../README.md");
        let example = include_str!("../config.example.toml");
        let d = HttpConfig::default();
        for (key, value) in [
            ("connect_timeout", d.connect_timeout),
            ("timeout", d.timeout),
            ("attempts", u64::from(d.attempts)),
            ("deadline", d.deadline),
        ] {
            assert!(readme.contains(&format!("| `{key}` | {value} |")), "{key}");
            assert!(example.contains(&format!("\n{key} = {value}\n")), "{key}");
        }
    }

    #[test]
    fn relative_paths_are_resolved_beside_the_config() {
        let config = parse(
            "credentials_file = \"secret/creds.toml\"\nstate_file = \"/var/lib/fn/state.toml\"",
        )
        .unwrap();
        let paths = resolve_paths(Path::new("/etc/fn/config.toml"), &config).unwrap();
        assert_eq!(paths.credentials, Path::new("/etc/fn/secret/creds.toml"));
        assert_eq!(
            paths.credentials_lock,
            Path::new("/etc/fn/secret/creds.toml.lock")
        );
        assert_eq!(paths.state, Path::new("/var/lib/fn/state.toml"));
        assert_eq!(paths.state_lock, Path::new("/var/lib/fn/state.toml.lock"));
    }
}

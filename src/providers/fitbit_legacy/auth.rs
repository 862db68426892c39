//! Fitbit OAuth 2.0: the scopes `auth fitbit` asks for and what each one provides,
//! Fitbit's token endpoint as the shared OAuth code needs it (Basic client
//! authentication, single-use refresh tokens), the fixed callback URL, and the
//! shutdown of the real Web API on 2026-11-02 with the steps to switch to Google.

use std::path::Path;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::FitbitConfig;
use crate::net::oauth::{ClientAuth, Scope, Service, Shutdown};

pub const AUTH_COMMAND: &str = "fitbit-notifier auth fitbit";

/// When Google turned the Fitbit Web API and the Fitbit OAuth endpoints off.
const TURNED_OFF: &str = "2026-11-02T00:00:00Z";

/// A Fitbit OAuth scope and what the summary loses without it.
pub const ACTIVITY: Scope = Scope {
    id: "activity",
    name: "activity",
    provides: "steps, distance, calories and active/sedentary minutes",
};
pub const HEARTRATE: Scope = Scope {
    id: "heartrate",
    name: "heartrate",
    provides: "resting heart rate",
};
pub const SLEEP: Scope = Scope {
    id: "sleep",
    name: "sleep",
    provides: "sleep",
};
pub const SETTINGS: Scope = Scope {
    id: "settings",
    name: "settings",
    provides: "the device's name, battery and last sync",
};
pub const NUTRITION: Scope = Scope {
    id: "nutrition",
    name: "nutrition",
    provides: "water",
};
pub const WEIGHT: Scope = Scope {
    id: "weight",
    name: "weight",
    provides: "weight and body fat",
};
pub const PROFILE: Scope = Scope {
    id: "profile",
    name: "profile",
    provides: "the account's time zone (set `timezone` in the config instead)",
};

/// Every scope `auth fitbit` asks for.
pub const SCOPES: [&Scope; 7] = [
    &ACTIVITY, &HEARTRATE, &SLEEP, &SETTINGS, &NUTRITION, &WEIGHT, &PROFILE,
];

/// The callback URL `auth fitbit` uses unless told otherwise: Fitbit requires the
/// registered one exactly, so it cannot be a random port.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8080/";

/// Fitbit's OAuth endpoints as the shared OAuth code needs them.
pub fn service(config: &FitbitConfig, config_path: &Path) -> Service {
    Service {
        name: "Fitbit",
        auth_command: AUTH_COMMAND,
        token_url: config.token_url.clone(),
        client_auth: ClientAuth::Basic,
        // Fitbit refresh tokens are single-use
        refresh_repeatable: false,
        slot: |creds| &mut creds.fitbit,
        invalid_grant_hint: |_, _| {
            Some("Fitbit refresh tokens work only once: if another program or another copy of the credentials file refreshed it, only that copy holds the valid token.".to_string())
        },
        shutdown: Some(shutdown(&config.token_url, config_path)),
    }
}

/// The end of the real Fitbit Web API. A compatible endpoint elsewhere is gone only
/// when it says so (410).
pub(super) fn shutdown(endpoint: &Url, config_path: &Path) -> Shutdown {
    let on_fitbit = endpoint
        .host_str()
        .is_some_and(|host| host == "fitbit.com" || host.ends_with(".fitbit.com"));
    Shutdown {
        since: if on_fitbit {
            TURNED_OFF.parse().expect("a valid built-in date")
        } else {
            DateTime::<Utc>::MAX_UTC
        },
        notice: format!(
            "the Fitbit Web API was turned off on 2026-11-02 and its tokens cannot be moved to Google; to switch to the Google Health API, set provider = \"google-health\" in {}, create the Google OAuth client (README \"Google Health setup\"), then run `{}`",
            config_path.display(),
            crate::providers::google_health::AUTH_COMMAND
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_real_fitbit_hosts_are_subject_to_the_shutdown_date() {
        let path = Path::new("/home/u/.config/fitbit-notifier/config.toml");
        let real = shutdown(&FitbitConfig::default().api_base, path);
        assert_eq!(real.since, TURNED_OFF.parse::<DateTime<Utc>>().unwrap());
        assert!(real.notice.contains(
            "set provider = \"google-health\" in /home/u/.config/fitbit-notifier/config.toml"
        ));
        assert!(real.notice.contains("run `fitbit-notifier auth google`"));
        let token = shutdown(&FitbitConfig::default().token_url, path);
        assert_eq!(token.since, real.since);
        let compatible = shutdown(&Url::parse("https://fitbit.example.org/").unwrap(), path);
        assert_eq!(compatible.since, DateTime::<Utc>::MAX_UTC);
    }
}

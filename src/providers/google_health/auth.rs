//! Google OAuth 2.0 for the Google Health API: the scopes `auth google` asks for and
//! what each one provides, Google's token endpoint as the shared OAuth code needs it,
//! the extra authorize parameters that make Google issue a refresh token every time,
//! and the hint for refresh tokens that die because the app is in Testing status.

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::GoogleHealthConfig;
use crate::net::oauth::{ClientAuth, Scope, Service};
use crate::store::credentials::OAuthCredentials;

pub const AUTH_COMMAND: &str = "fitbit-notifier auth google";

pub const ACTIVITY: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
    name: "activity and fitness",
    provides: "steps, distance, calories and active/sedentary minutes",
};
pub const SLEEP: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
    name: "sleep",
    provides: "sleep",
};
pub const SETTINGS: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.settings.readonly",
    name: "settings",
    provides: "the account's time zone (set `timezone` in the config instead) and the device's name, battery and last sync",
};
pub const HEALTH_METRICS: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
    name: "health metrics and measurements",
    provides: "weight, body fat and resting heart rate",
};
pub const NUTRITION: Scope = Scope {
    id: "https://www.googleapis.com/auth/googlehealth.nutrition.readonly",
    name: "nutrition",
    provides: "water",
};

/// Every scope `auth google` asks for.
pub const SCOPES: [&Scope; 5] = [&ACTIVITY, &SLEEP, &SETTINGS, &HEALTH_METRICS, &NUTRITION];

/// What Google needs besides the standard parameters to issue a refresh token every time.
pub const AUTHORIZE_PARAMS: &[(&str, &str)] = &[
    ("access_type", "offline"),
    ("prompt", "consent"),
    ("include_granted_scopes", "true"),
];

/// Google's OAuth endpoints as the shared OAuth code needs them.
pub fn service(config: &GoogleHealthConfig) -> Service {
    Service {
        name: "Google",
        auth_command: AUTH_COMMAND,
        token_url: config.token_url.clone(),
        client_auth: ClientAuth::InBody,
        // Google does not rotate the refresh token, so a repeated refresh spends nothing
        refresh_repeatable: true,
        slot: |creds| &mut creds.google,
        invalid_grant_hint: testing_mode_hint,
        shutdown: None,
    }
}

/// Refresh tokens of apps whose consent screen is in Testing status die 7 days after
/// consent: when the authorization is about that old, that is the likely cause.
fn testing_mode_hint(creds: &OAuthCredentials, now: DateTime<Utc>) -> Option<String> {
    let age = now - creds.authorized_at;
    (TimeDelta::days(6) <= age && age < TimeDelta::days(9)).then(|| {
        format!(
            "It was granted {} days ago: Google expires the refresh tokens of apps whose OAuth consent screen is in Testing status 7 days after consent. To stop this, publish the app (Google Cloud console > Google Auth Platform > Audience > Publish app, status In production), then run `{AUTH_COMMAND}` once more.",
            age.num_days()
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::secret::Secret;

    use super::*;

    #[test]
    fn the_testing_mode_hint_appears_only_around_seven_days() {
        let now = Utc::now();
        let creds = |days: i64| OAuthCredentials {
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            access_token: Secret::new("a"),
            refresh_token: Secret::new("r"),
            expires_at: now,
            authorized_at: now - TimeDelta::days(days) - TimeDelta::hours(1),
            scopes: vec![],
        };
        assert!(
            testing_mode_hint(&creds(7), now)
                .unwrap()
                .contains("Testing")
        );
        assert!(testing_mode_hint(&creds(2), now).is_none());
        assert!(testing_mode_hint(&creds(40), now).is_none());
    }

    #[test]
    fn unticked_scopes_are_named() {
        let granted: Vec<String> = [&ACTIVITY, &SLEEP, &SETTINGS]
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            crate::net::oauth::unticked(&SCOPES, &granted),
            vec![&HEALTH_METRICS, &NUTRITION]
        );
    }
}

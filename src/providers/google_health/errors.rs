//! Google's errors: the `google.rpc.Status` envelope of a refused call, and the mapping
//! of a failed answer to an error kind with what to do next (link the account, tick a
//! scope, wait for the quota, check the Cloud project or `api_base`).

use reqwest::StatusCode;
use serde::Deserialize;

use super::{API, AUTH_COMMAND};
use crate::error::Error;
use crate::net::http::{self, Reply};
use crate::net::oauth::Scope;

/// The `google.rpc.Status` envelope.
#[derive(Deserialize)]
struct Envelope {
    error: Status,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    reason: Option<String>,
}

impl Status {
    fn has_reason(&self, reason: &str) -> bool {
        self.details
            .iter()
            .any(|d| d.reason.as_deref() == Some(reason))
            || self.status == reason
    }
}

/// The error envelope, its texts flattened to one line each for messages.
fn envelope(reply: &Reply) -> Option<Status> {
    let mut status = serde_json::from_slice::<Envelope>(&reply.body).ok()?.error;
    status.message = http::one_line(&status.message);
    status.status = http::one_line(&status.status);
    Some(status)
}

pub(super) fn error_message(reply: &Reply) -> String {
    envelope(reply).map_or_else(|| reply.snippet(), |s| s.message)
}

pub(super) fn is_invalid_argument(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST
        && envelope(reply).is_some_and(|s| s.status == "INVALID_ARGUMENT")
}

/// The error for a failed call for `what` (which needs `scope`), with what to do.
pub(super) fn api_error(reply: &Reply, what: &str, scope: &Scope) -> Error {
    let code = reply.status.as_u16();
    let temporary = reply.status.is_server_error() || reply.status == StatusCode::TOO_MANY_REQUESTS;
    let Some(status) = envelope(reply) else {
        let text = format!(
            "{API} answered {code} for {what} with a body that is not its JSON error ({})",
            reply.snippet()
        );
        if reply.status == StatusCode::PRECONDITION_FAILED {
            return profile_not_ready(&format!("{code}: {}", reply.snippet()));
        }
        return if temporary {
            Error::try_later(format!("{text}; the next run will try again"))
        } else {
            Error::other(format!("{text}; check api_base in the config"))
        };
    };
    let message = &status.message;
    // developers.google.com/health/troubleshooting: a legacy Fitbit account that has
    // not moved to Google yet
    if message.contains("UberMint") {
        return Error::reauth(format!(
            "Google refused the account ({message}): it is a Fitbit account not yet moved to Google; in the Google Health app (formerly the Fitbit app) sign out, sign in with Google and migrate the account when asked, then run `{AUTH_COMMAND}` again"
        ));
    }
    if status.has_reason("ACCOUNT_NOT_LINKED") {
        return Error::reauth(format!(
            "Google says this Google account has no Google Health profile ({message}); set up the Google Health app (formerly the Fitbit app) with this Google account and finish its setup, then run `{AUTH_COMMAND}` again"
        ));
    }
    // Google's standard answer for an API not enabled in the client's project
    if status.has_reason("SERVICE_DISABLED") {
        return Error::config(format!(
            "the Google Health API is not enabled in the OAuth client's project (SERVICE_DISABLED: {message}); enable it at https://console.developers.google.com/apis/library/health.googleapis.com (if Google refuses, it may not be admitting new projects yet), then run `fitbit-notifier doctor`"
        ));
    }
    // An account that has just moved from Fitbit is answered 412 or FAILED_PRECONDITION
    // while its profile is prepared (reported by a v4 client; no public body shows it,
    // so any precondition other than the unlinked account is taken as this).
    if reply.status == StatusCode::PRECONDITION_FAILED || status.status == "FAILED_PRECONDITION" {
        return profile_not_ready(&format!("{code} {}: {message}", status.status));
    }
    if status.has_reason("ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
        return Error::reauth(format!(
            "Google refused {what}: the scope {} (\"{}\") was not granted; run `{AUTH_COMMAND}` again and tick it on the consent screen",
            scope.id, scope.name
        ));
    }
    if status.has_reason("RESOURCE_PERMISSION_DENIED") {
        return Error::reauth(format!(
            "Google denies access to {what} ({message}); remove fitbit-notifier's access at https://myaccount.google.com/connections and run `{AUTH_COMMAND}` again"
        ));
    }
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        return Error::try_later(format!(
            "{API} rate limit reached while reading {what} ({message}); the next run will try again"
        ));
    }
    if temporary {
        return Error::try_later(format!(
            "{API} failed on {what} ({code} {}: {message}); the next run will try again",
            status.status
        ));
    }
    Error::other(format!(
        "{API} refused {what} ({code} {}: {message}); check the Google Cloud project (API enabled, scopes) and report it if it persists",
        status.status
    ))
}

fn profile_not_ready(detail: &str) -> Error {
    Error::try_later(format!(
        "Google says the Google Health profile is not ready ({detail}): it is still being prepared after the move from Fitbit; the next run will try again, and if this lasts for days open the Fitbit app and finish the setup there"
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::arbitrary::body_like;
    use crate::providers::google_health::arbitrary_answers::{answer, fixture};
    use crate::providers::google_health::auth::{ACTIVITY, NUTRITION};

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn google_errors_map_to_exit_kinds() {
        use crate::error::Kind;
        let cases = [
            (
                400,
                r#"{"error":{"code":400,"message":"The account is not linked to Google Health.","status":"FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCOUNT_NOT_LINKED"}]}}"#,
                Kind::Reauth,
                "Fitbit app",
            ),
            // the 403 of developers.google.com/health/troubleshooting
            (
                403,
                r#"{"error":{"code":403,"message":"Could not mint UberMint from GaiaMint","status":"PERMISSION_DENIED"}}"#,
                Kind::Reauth,
                "sign in with Google and migrate",
            ),
            // Google's usual answer for an API not enabled in the project
            (
                403,
                r#"{"error":{"code":403,"message":"Google Health API has not been used in project 123 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#,
                Kind::Config,
                "apis/library/health.googleapis.com",
            ),
            // no public body shows "profile not ready": these follow the google.rpc.Status
            // envelope of the real ACCOUNT_NOT_LINKED answer (tests/fixtures/real/google)
            (
                412,
                r#"{"error":{"code":412,"message":"The user's Google Health profile is not ready yet.","status":"FAILED_PRECONDITION"}}"#,
                Kind::TryLater,
                "still being prepared",
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"Precondition check failed.","status":"FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"PROFILE_NOT_READY"}]}}"#,
                Kind::TryLater,
                "still being prepared",
            ),
            (
                412,
                "Precondition Failed",
                Kind::TryLater,
                "not ready (412: Precondition Failed)",
            ),
            (
                403,
                r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","status":"PERMISSION_DENIED","details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}"#,
                Kind::Reauth,
                NUTRITION.id,
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
                Kind::TryLater,
                "Quota exceeded",
            ),
            (
                503,
                r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#,
                Kind::TryLater,
                "unavailable",
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}"#,
                Kind::Other,
                "invalid argument",
            ),
            (
                502,
                "<html><title>Bad Gateway</title><body>Bad Gateway</body></html>",
                Kind::TryLater,
                "a page titled \"Bad Gateway\"",
            ),
            (
                404,
                "<html>\n<body>Not Found</body></html>",
                Kind::Other,
                "api_base",
            ),
        ];
        for (status, body, kind, needle) in cases {
            let err = api_error(&reply(status, body), "water", &NUTRITION);
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    /// Every real answer (tests/fixtures/real/, sources in its SOURCES.md) through the
    /// error mapping and the answer parsers: Google's unlinked account (the public
    /// body) asks to set up the Google Health app (the Fitbit app's new name since
    /// 2026-05-19), and no answer panics.
    #[test]
    fn every_real_answer_maps_to_an_error_or_a_value() {
        use crate::error::Kind;
        use crate::providers::google_health::api::{
            BASAL_ENERGY, SLEEP_SESSIONS, STEPS, page_values, rollup_values,
        };
        use crate::providers::google_health::dated::By;
        for answer in crate::real_answers::all() {
            let reply = answer.reply();
            let err = api_error(&reply, "steps", &ACTIVITY);
            assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            assert!(!error_message(&reply).contains('\n'), "{}", answer.name);
            let _ = rollup_values(&reply, &STEPS);
            let _ = page_values(&reply, &BASAL_ENERGY, By::Start, chrono_tz::Tz::UTC);
            let _ = page_values(&reply, &SLEEP_SESSIONS, By::End, chrono_tz::Tz::UTC);
            if answer.is("google/error_400_account_not_linked.json") {
                assert_eq!(err.kind(), Kind::Reauth, "{err}");
                assert!(
                    err.to_string().contains("set up the Google Health app"),
                    "{err}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_error_answer_is_one_line(
            status in 100u16..600,
            body in prop_oneof![
                body_like(fixture("account_not_linked.json")),
                body_like(fixture("scope_insufficient.json")),
            ],
        ) {
            let reply = answer(status, body);
            let err = api_error(&reply, "steps", &ACTIVITY);
            prop_assert!(!err.to_string().contains('\n'), "{err}");
            prop_assert!(!error_message(&reply).contains('\n'));
            let _ = is_invalid_argument(&reply);
        }
    }
}

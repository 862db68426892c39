//! Fitbit's errors: how long a 429 asks us to wait (its own reset header before
//! `Retry-After`), the `errors` list of a refused call, and the mapping of a failed
//! answer to an error kind with what to do next.

use std::time::Duration;

use chrono::{DateTime, Local, SecondsFormat, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::API;
use super::auth::AUTH_COMMAND;
use crate::error::Error;
use crate::net::http::{self, Reply};
use crate::net::oauth::{ErrorList, Scope};

/// Seconds until the hourly request budget resets.
const RATE_LIMIT_RESET: &str = "fitbit-rate-limit-reset";

/// How long a 429 asks us to wait: `Fitbit-Rate-Limit-Reset` (accurate), else
/// `Retry-After` (reported as unreliable).
pub(super) fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    http::header_u64(headers, RATE_LIMIT_RESET)
        .map(Duration::from_secs)
        .or_else(|| http::retry_after(headers))
}

pub(super) fn error_message(reply: &Reply) -> String {
    match ErrorList::parse(&reply.body) {
        Some((kind, Some(message))) => format!("{kind}: {message}"),
        Some((kind, None)) => kind,
        None => reply.snippet(),
    }
}

/// The error for a failed call for `what` (which needs `scope`), with what to do.
pub(super) fn api_error(reply: &Reply, what: &str, scope: &Scope, now: DateTime<Utc>) -> Error {
    let code = reply.status.as_u16();
    let message = error_message(reply);
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        let when = match rate_limit_wait(&reply.headers) {
            Some(wait) => {
                let reset = now + TimeDelta::seconds(wait.as_secs().min(86_400) as i64);
                format!(
                    "it resets in {}s, at {}; run again after that",
                    wait.as_secs(),
                    reset
                        .with_timezone(&Local)
                        .to_rfc3339_opts(SecondsFormat::Secs, false)
                )
            }
            None => "the next run will try again".to_string(),
        };
        return Error::try_later(format!(
            "Fitbit's rate limit (150 requests an hour) was reached while reading {what} ({message}); {when}"
        ));
    }
    if reply.status == StatusCode::FORBIDDEN {
        return Error::reauth(format!(
            "Fitbit refused {what} ({code} {message}): the \"{}\" permission was not granted; run `{AUTH_COMMAND}` again and allow it",
            scope.name
        ));
    }
    if reply.status.is_server_error() {
        return Error::try_later(format!(
            "{API} failed on {what} ({code} {message}); the next run will try again"
        ));
    }
    Error::other(format!(
        "{API} refused {what} ({code} {message}); check api_base in the config, or report it with the output of -vv"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fitbit_legacy::auth::NUTRITION;

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        Reply::fake(status, headers, body)
    }

    /// Every real answer (tests/fixtures/real/, sources in its SOURCES.md) through the
    /// error mapping and the day's parsers, without a panic (the Fitbit answer there is
    /// a date-range series, which no request here asks for yet).
    #[test]
    fn every_real_answer_maps_to_an_error_or_a_value() {
        use crate::providers::fitbit_legacy::wire::{ActivityDay, SleepDay};
        for answer in crate::real_answers::all() {
            let reply = answer.reply();
            let err = api_error(&reply, "steps", &NUTRITION, Utc::now());
            assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            let _ = serde_json::from_slice::<ActivityDay>(&answer.body);
            let _ = serde_json::from_slice::<SleepDay>(&answer.body);
        }
    }

    #[test]
    fn the_reset_header_is_preferred_to_retry_after() {
        let both = reply(
            429,
            &[("fitbit-rate-limit-reset", "1958"), ("retry-after", "60")],
            "",
        );
        assert_eq!(
            rate_limit_wait(&both.headers),
            Some(Duration::from_secs(1958))
        );
        let only_retry_after = reply(429, &[("retry-after", "7")], "");
        assert_eq!(
            rate_limit_wait(&only_retry_after.headers),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn fitbit_errors_map_to_exit_kinds_without_quoting_tokens() {
        use crate::error::Kind;
        let now: DateTime<Utc> = "2026-10-01T12:00:00Z".parse().unwrap();
        let cases = [
            (
                429,
                vec![("fitbit-rate-limit-reset", "1958")],
                r#"{"errors":[{"errorType":"system","fieldName":"n/a","message":"Too Many Requests"}],"success":false}"#,
                Kind::TryLater,
                "resets in 1958s",
            ),
            (
                403,
                vec![],
                r#"{"errors":[{"errorType":"insufficient_scope","message":"This application does not have permission to access nutrition data."}],"success":false}"#,
                Kind::Reauth,
                "\"nutrition\" permission",
            ),
            (
                503,
                vec![],
                "<html>\n<title>Service Unavailable</title><body>Down</body></html>",
                Kind::TryLater,
                "a page titled \"Service Unavailable\"",
            ),
            (
                400,
                vec![],
                r#"{"errors":[{"errorType":"validation","fieldName":"date","message":"Invalid date:2021-13-01"}],"success":false}"#,
                Kind::Other,
                "validation: Invalid date:2021-13-01",
            ),
        ];
        for (status, headers, body, kind, needle) in cases {
            let err = api_error(&reply(status, &headers, body), "water", &NUTRITION, now);
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let expired = reply(
            401,
            &[],
            r#"{"errors":[{"errorType":"expired_token","message":"Access token expired: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMiJ9.c2lnbmF0dXJl12. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process."}],"success":false}"#,
        );
        let message = error_message(&expired);
        assert!(message.starts_with("expired_token: Access token expired: [redacted] Visit"));
    }
}

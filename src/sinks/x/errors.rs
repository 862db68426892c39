//! What X's refusals mean for the person: 401/402/403 by their problem type, rate limits
//! read from X's several windows, and the error bodies of v2 and v1.1.

use std::time::Duration;

use chrono::{DateTime, Local, TimeDelta, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::client::*;
use crate::error::Error;
use crate::net::http::{self, Reply};

pub(super) const UNAUTHORIZED_POST: &str = "X refused the keys (401 Unauthorized): the API key and secret or the access token and \
     secret are wrong or were regenerated, or this computer's clock is off; run `fitbit-notifier auth x` with the current values";
pub(super) const UNAUTHORIZED_APP: &str = "X refused the API key and secret (401 Unauthorized): they are wrong or were regenerated; \
     copy the current ones from the app's Keys and tokens page and run `fitbit-notifier auth x --pin` again";
pub(super) const UNAUTHORIZED_PIN: &str = "X refused the PIN (401 Unauthorized): a PIN works once and only for a few minutes; \
     run `fitbit-notifier auth x --pin` again";

/// The rate-limit windows X reports, each as `<window>-remaining` and `<window>-reset`
/// (Unix seconds): the documented one and the 24-hour user and app quotas.
pub(super) const LIMIT_WINDOWS: [&str; 3] =
    ["x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"];

/// A reset further away than this is not a time X means (the longest window is a day).
pub(super) const MAX_PLAUSIBLE_RESET: TimeDelta = TimeDelta::days(31);

/// What an error answer means for the user, with what to do.
pub(super) fn failure(reply: &Reply, problem: &Problem, unauthorized: &str) -> Error {
    let status = reply.status;
    let detail = problem.summary().unwrap_or_else(|| reply.snippet());
    match status.as_u16() {
        401 => Error::reauth(unauthorized),
        402 => Error::other(
            "X refused: the account is out of API credits (402 credits depleted); add credits in the \
             X developer console (console.x.com, Billing) and run again",
        ),
        403 if problem.has_type("oauth1-permissions") => Error::reauth(
            "X refused: the access token was made while the app had Read-only permission (403 oauth1-permissions); \
             in the X developer console set the app's permissions to Read and write, regenerate the access token \
             and secret, then run `fitbit-notifier auth x`",
        ),
        403 if problem.has_type("client-forbidden") => Error::reauth(format!(
            "X refused these keys (403 client-forbidden: {detail}); use the keys of an app created in the X \
             developer console (console.x.com) and run `fitbit-notifier auth x`"
        )),
        403 => Error::other(format!(
            "X refused the request (403 Forbidden: {detail}); this app or account is not allowed to do it"
        )),
        429 => rate_limited(&reply.headers),
        400 => Error::other(format!(
            "X rejected the request as invalid (400: {detail}); this is likely a bug, please report it"
        )),
        _ => http::status_error(SERVICE, reply, &detail),
    }
}

pub(super) fn rate_limited(headers: &HeaderMap) -> Error {
    match rate_limit_reset(headers) {
        Some(reset) => Error::try_later(format!(
            "X's rate limit is reached (429); it resets at {} (in {}): try again after that",
            reset.with_timezone(&Local).format("%Y-%m-%d %H:%M %:z"),
            in_words(reset - Utc::now())
        )),
        None => Error::try_later(
            "X's rate limit is reached (429) and X did not say until when; try again later",
        ),
    }
}

/// When X's limit resets: the latest reset of the windows it reports as exhausted, or of
/// all it reports when none says so (waiting too long beats being refused again).
pub(super) fn rate_limit_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let windows: Vec<(u64, Option<u64>)> = LIMIT_WINDOWS
        .iter()
        .filter_map(|window| {
            let reset = http::header_u64(headers, &format!("{window}-reset"))?;
            Some((
                reset,
                http::header_u64(headers, &format!("{window}-remaining")),
            ))
        })
        .collect();
    let exhausted = windows
        .iter()
        .filter(|(_, remaining)| *remaining == Some(0))
        .map(|(reset, _)| *reset)
        .max();
    let reset = exhausted.or_else(|| windows.iter().map(|(reset, _)| *reset).max())?;
    DateTime::from_timestamp(i64::try_from(reset).ok()?, 0)
        .filter(|reset| *reset - Utc::now() < MAX_PLAUSIBLE_RESET)
}

/// For [`http::send`]: how long until X's limit resets.
pub(super) fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let reset = rate_limit_reset(headers)?;
    Some((reset - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

pub(super) fn in_words(delta: TimeDelta) -> String {
    let minutes = (delta.num_seconds().max(0) + 59) / 60;
    match minutes {
        0..=1 => "a minute".to_string(),
        2..=59 => format!("{minutes} min"),
        _ => format!("{} h {} min", minutes / 60, minutes % 60),
    }
}

/// An error body: RFC 7807 style on v2 (`title`, `detail`, `type`), `errors[]` on v1.1.
/// Every field is optional: X's bodies vary, and some are not JSON at all.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Problem {
    title: Option<String>,
    detail: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    errors: Vec<LegacyError>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LegacyError {
    message: Option<String>,
    code: Option<i64>,
}

impl Problem {
    pub(super) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// Matches the last path segment of `type`: X uses both api.x.com and api.twitter.com
    /// problem URLs.
    pub(super) fn has_type(&self, name: &str) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|kind| kind.rsplit('/').next() == Some(name))
    }

    pub(super) fn is_duplicate(&self) -> bool {
        let says_duplicate = self
            .detail
            .as_deref()
            .is_some_and(|detail| detail.to_lowercase().contains("duplicate"));
        // v1.1 code 187: "Status is a duplicate."
        says_duplicate || self.errors.iter().any(|error| error.code == Some(187))
    }

    pub(super) fn summary(&self) -> Option<String> {
        self.detail
            .as_deref()
            .or_else(|| {
                self.errors
                    .iter()
                    .find_map(|error| error.message.as_deref())
            })
            .or(self.title.as_deref())
            .map(http::one_line)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::sinks::x::client::tests::reply;
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::error::Kind;
    use crate::sinks::x::client::post_outcome;

    pub(in crate::sinks::x) fn refusal(status: u16, body: &str) -> Error {
        post_outcome(&reply(status, body)).unwrap_err()
    }

    #[test]
    fn refused_keys_need_a_new_auth() {
        let err = refusal(
            401,
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("fitbit-notifier auth x"), "{err}");

        let err = refusal(
            403,
            r#"{"title":"Forbidden","status":403,"detail":"Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.","type":"https://api.twitter.com/2/problems/oauth1-permissions"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("Read and write"), "{err}");
        assert!(
            err.to_string().contains("regenerate the access token"),
            "{err}"
        );

        let err = refusal(
            403,
            r#"{"client_id":"27988566","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.","registration_url":"https://developer.twitter.com/en/docs/projects/overview","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}"#,
        );
        assert_eq!(err.kind(), Kind::Reauth);
        assert!(err.to_string().contains("attached to a Project"), "{err}");
    }

    #[test]
    fn depleted_credits_need_a_top_up() {
        let err = refusal(
            402,
            r#"{"title":"Payment Required","detail":"credits depleted","type":"https://api.x.com/2/problems/credits-depleted"}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("add credits"), "{err}");
    }

    #[test]
    fn other_refusals_quote_x() {
        let err = refusal(
            403,
            r#"{"errors":[{"message":"You currently have access to a subset of Twitter API v2 endpoints and limited v1.1 endpoints (e.g. media post, oauth) only. If you need access to this endpoint, you may need a different access level. You can learn more here: https://developer.twitter.com/en/portal/product","code":453}]}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(
            err.to_string().contains("subset of Twitter API v2"),
            "{err}"
        );

        let err = refusal(
            400,
            r#"{"errors":[{"parameters":{},"message":"Requests with bodies must have content-type of application/json."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
        );
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("One or more parameters"), "{err}");

        let err = refusal(503, "<html>Service Unavailable</html>");
        assert_eq!(err.kind(), Kind::TryLater);
        let err = refusal(418, "<html>teapot</html>");
        assert!(err.to_string().contains("teapot"), "{err}");
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_rate_limit_says_when_it_resets() {
        let reset = Utc::now().timestamp() + 3 * 3600;
        let mut limited = reply(
            429,
            r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
        );
        limited.headers = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]);
        let err = post_outcome(&limited).unwrap_err();
        assert_eq!(err.kind(), Kind::TryLater);
        let local = DateTime::from_timestamp(reset, 0)
            .unwrap()
            .with_timezone(&Local);
        assert!(
            err.to_string()
                .contains(&local.format("%Y-%m-%d %H:%M").to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("in 3 h 0 min"), "{err}");

        let err = refusal(429, "[429] Too Many Requests");
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(err.to_string().contains("did not say"), "{err}");
    }

    #[test]
    fn the_exhausted_window_decides_the_reset() {
        let now = Utc::now().timestamp();
        let soon = now + 30;
        let tomorrow = now + 20 * 3600;
        let both = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", soon.to_string()),
            ("x-user-limit-24hour-remaining", "12".into()),
            ("x-user-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&both).unwrap().timestamp(), soon);
        let wait = rate_limit_wait(&both).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );

        let daily = headers(&[
            ("x-rate-limit-remaining", "99".into()),
            ("x-rate-limit-reset", soon.to_string()),
            ("x-user-limit-24hour-remaining", "0".into()),
            ("x-user-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&daily).unwrap().timestamp(), tomorrow);

        let silent = headers(&[
            ("x-rate-limit-reset", soon.to_string()),
            ("x-app-limit-24hour-reset", tomorrow.to_string()),
        ]);
        assert_eq!(rate_limit_reset(&silent).unwrap().timestamp(), tomorrow);
        assert_eq!(rate_limit_wait(&HeaderMap::new()), None);

        // the end of time is garbage, not a reset: shown in a zone east of UTC it
        // would not even be a representable date
        let garbage = headers(&[("x-rate-limit-reset", "8210266876799".into())]);
        assert_eq!(rate_limit_reset(&garbage), None);
    }
}

//! X's API as the sink uses it: `POST /2/tweets` with the stored keys, through the one
//! HTTP client at the configured `[x] api_base`, and what X's answer to a post means.
//!
//! X has no idempotency key, so a post whose request may have reached X without an answer
//! is never sent again by a retry: the user is told it may have been published. A repeat of
//! the same text is refused by X as a duplicate, which callers may treat as done.

use std::fmt;

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::errors::*;
use super::media::MediaId;
use super::sign::*;
use crate::config::{Config, HttpConfig};
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry, SendError};
use crate::sinks::post_length;
use super::XCredentials;

pub(super) const SERVICE: &str = "X";

/// The id X gave a new post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostId(String);

impl PostId {
    /// Where the post can be opened; X redirects it to the author's handle.
    pub fn url(&self) -> String {
        format!("https://x.com/i/web/status/{}", self.0)
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What became of a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    New(PostId),
    /// X refused the text as a duplicate of a post already on the account: for a dated
    /// daily summary, an earlier run has posted it.
    AlreadyPosted,
}

/// X, reached through the one HTTP client at the configured `[x] api_base`.
pub struct Client<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) config: &'a Config,
}

impl<'a> Client<'a> {
    pub fn new(http: &'a reqwest::Client, config: &'a Config) -> Self {
        Client { http, config }
    }

    /// Posts `text`, with an uploaded image when `media` names one, after checking its
    /// length, which X would otherwise refuse after billing nothing but a round trip. Never
    /// sends it twice when the first attempt may have landed.
    pub async fn post(
        &self,
        creds: &XCredentials,
        text: &str,
        media: Option<&MediaId>,
    ) -> Result<PostOutcome> {
        let length = post_length::check(text)?;
        let url = self.endpoint("2/tweets")?;
        log::info!("posting {length} weighted characters to {url}");
        let reply = http::send(
            || {
                post_request(
                    self.http,
                    user_secrets(creds),
                    fresh_params(),
                    &url,
                    text,
                    media,
                )
            },
            self.retry(Retry::duplicates_refused),
        )
        .await
        .map_err(|err| self.unanswered_post(err))?;
        log::debug!("X answered {}", reply.status);
        post_outcome(&reply)
    }

    pub(super) fn endpoint(&self, path: &str) -> Result<Url> {
        http::endpoint(&self.config.x.api_base, path, "[x] api_base")
    }

    pub(super) fn retry(&self, kind: fn(&HttpConfig) -> Retry) -> Retry {
        Retry {
            rate_limit_wait,
            ..kind(&self.config.http)
        }
    }

    fn unanswered_post(&self, err: SendError) -> Error {
        let what_to_do = "so it may have been published: look at the account before posting again \
                          (X refuses the same text twice, so a repeat cannot make a second post)";
        match err.may_have_landed() {
            Some(detail) => Error::try_later(format!(
                "X did not answer after the post was sent ({detail}), {what_to_do}"
            )),
            None => err.into_error(SERVICE),
        }
    }
}

/// The id in a successful answer, or the "already posted" outcome, or what to do.
pub(super) fn post_outcome(reply: &Reply) -> Result<PostOutcome> {
    if reply.status.is_success() {
        return created_post_id(reply).map(PostOutcome::New);
    }
    let problem = Problem::parse(&reply.body);
    if reply.status == StatusCode::FORBIDDEN && problem.is_duplicate() {
        return Ok(PostOutcome::AlreadyPosted);
    }
    Err(failure(reply, &problem, UNAUTHORIZED_POST))
}

pub(super) fn created_post_id(reply: &Reply) -> Result<PostId> {
    #[derive(Deserialize)]
    struct Created {
        data: CreatedData,
    }
    #[derive(Deserialize)]
    struct CreatedData {
        id: String,
    }
    serde_json::from_slice::<Created>(&reply.body)
        .map(|created| PostId(created.data.id))
        .map_err(|_| {
            Error::other(format!(
                "X accepted the post ({}) but its answer has no post id ({}); it is probably published: look at the account",
                reply.status,
                reply.snippet()
            ))
        })
}

#[cfg(test)]
pub(super) mod tests {
    use crate::sinks::x::errors::tests::refusal;
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::error::Kind;

    pub(in crate::sinks::x) fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    /// Every real answer (tests/fixtures/real/, sources in its SOURCES.md) maps to an
    /// outcome or an error without a panic: the documented created post gives its id,
    /// the duplicate answered live (akrherz/iembot#163) is "already posted".
    #[test]
    fn every_real_answer_maps_to_an_outcome() {
        for answer in crate::real_answers::all() {
            let result = post_outcome(&answer.reply());
            if let Err(err) = &result {
                assert!(!err.to_string().contains('\n'), "{}: {err}", answer.name);
            }
            match answer.name.as_str() {
                "x/tweet_create_201.json" => {
                    assert!(matches!(result, Ok(PostOutcome::New(_))), "{result:?}")
                }
                "x/tweet_create_403_duplicate.json" => {
                    assert!(
                        matches!(result, Ok(PostOutcome::AlreadyPosted)),
                        "{result:?}"
                    )
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_created_post_yields_its_id_and_url() {
        let created =
            r#"{ "data": { "id": "1445880548472328192", "text": "Hello from the X API!" } }"#;
        let PostOutcome::New(id) = post_outcome(&reply(201, created)).unwrap() else {
            panic!("not a new post");
        };
        assert_eq!(id.to_string(), "1445880548472328192");
        assert_eq!(id.url(), "https://x.com/i/web/status/1445880548472328192");
        let err = refusal(201, "{}");
        assert_eq!(err.kind(), Kind::Other);
        assert!(err.to_string().contains("probably published"), "{err}");
    }

    #[test]
    fn duplicate_content_is_already_posted() {
        let v2 = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
        assert_eq!(
            post_outcome(&reply(403, v2)).unwrap(),
            PostOutcome::AlreadyPosted
        );
        let v1 = r#"{"errors":[{"code":187,"message":"Status is a duplicate."}]}"#;
        assert_eq!(
            post_outcome(&reply(403, v1)).unwrap(),
            PostOutcome::AlreadyPosted
        );
    }

    #[test]
    fn a_post_without_an_answer_may_have_landed() {
        let config = Config::default();
        let http = reqwest::Client::new();
        let x = Client::new(&http, &config);
        for err in [
            SendError::NoAnswer,
            SendError::Broken("reset by peer".into()),
        ] {
            let err = x.unanswered_post(err);
            assert_eq!(err.kind(), Kind::TryLater);
            assert!(err.to_string().contains("may have been published"), "{err}");
        }
        let err = x.unanswered_post(SendError::NotSent("connection refused".into()));
        assert_eq!(err.kind(), Kind::TryLater);
        assert!(
            !err.to_string().contains("may have been published"),
            "{err}"
        );
    }

    /// Arbitrary answers through the parsers of X's replies: mutations of X's real
    /// bodies, any JSON and any bytes, with arbitrary rate-limit headers.
    mod arbitrary_answers {
        use proptest::prelude::*;
        use reqwest::header::HeaderMap;
        use reqwest::header::HeaderName;
        use serde_json::json;

        use super::*;
        use crate::arbitrary::body_like;
        use crate::sinks::x::errors::{LIMIT_WINDOWS, UNAUTHORIZED_PIN, rate_limit_wait};
        use crate::sinks::x::pin::{token_fields, token_pair};

        fn limit_headers() -> impl Strategy<Value = HeaderMap> {
            let names: Vec<String> = LIMIT_WINDOWS
                .iter()
                .flat_map(|w| [format!("{w}-reset"), format!("{w}-remaining")])
                .chain(["retry-after".to_string()])
                .collect();
            let value = prop_oneof![
                any::<u64>().prop_map(|n| n.to_string()),
                (0u64..4_000_000_000).prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                "[ -~]{0,12}",
            ];
            prop::collection::vec((prop::sample::select(names), value), 0..6).prop_map(|pairs| {
                let mut headers = HeaderMap::new();
                for (name, value) in pairs {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
                    }
                }
                headers
            })
        }

        fn post_answer() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                body_like(json!({"data": {"id": "1445880548472328192", "text": "Hello"}})),
                body_like(
                    json!({"detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "https://api.x.com/2/problems/oauth1-permissions", "title": "Forbidden", "status": 403})
                ),
                body_like(json!({"errors": [{"code": 187, "message": "Status is a duplicate."}]})),
            ]
        }

        fn answer(status: u16, body: Vec<u8>, headers: HeaderMap) -> Reply {
            Reply {
                status: StatusCode::from_u16(status).unwrap(),
                headers,
                body,
            }
        }

        proptest! {
            #[test]
            fn any_answer_to_a_post_is_an_outcome_or_a_one_line_error(
                status in 100u16..600,
                body in post_answer(),
                headers in limit_headers(),
            ) {
                let reply = answer(status, body, headers);
                if let Err(err) = post_outcome(&reply) {
                    prop_assert!(!err.to_string().contains('\n'), "{err}");
                }
                let _ = rate_limit_wait(&reply.headers);
            }

            #[test]
            fn any_token_answer_is_a_pair_or_a_one_line_error(
                status in 100u16..600,
                body in prop_oneof![
                    "(oauth_token=[a-zA-Z0-9%-]{0,8}|oauth_token_secret=[a-zA-Z0-9%-]{0,8}|oauth_callback_confirmed=(true|x)|screen_name=[^&]{0,8}|&|=)*"
                        .prop_map(String::into_bytes),
                    body_like(json!({"errors": [{"code": 32, "message": "Could not authenticate you."}]})),
                ],
            ) {
                let reply = answer(status, body, HeaderMap::new());
                match token_fields(&reply, UNAUTHORIZED_PIN) {
                    Ok(mut fields) => {
                        if let Err(err) = token_pair(&mut fields, "oauth/access_token") {
                            prop_assert!(!err.to_string().contains('\n'), "{err}");
                        }
                    }
                    Err(err) => prop_assert!(!err.to_string().contains('\n'), "{err}"),
                }
            }
        }
    }
}

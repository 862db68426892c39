//! The glue every remote service shares, written once: one client (rustls, timeouts),
//! endpoint URLs under a configured base, capped bodies, bounded retries with backoff
//! that wait out a rate limit, the classification of transport failures (never sent, or
//! sent and unanswered: it may have landed), and the default reading of an error status
//! that each service falls back to after matching its own special answers.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use url::{Host, Url};

use crate::config::HttpConfig;
use crate::error::{Error, Result};

/// Larger answers are not what any endpoint we call sends; refuse rather than buffer them.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The longest the tool waits in-process for a rate limit to reset; beyond that it exits
/// 75 and lets the scheduler try again.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The one client a command uses for every request, so that each host costs one
/// connection: HTTP/2 (offered by ALPN) carries concurrent requests on it.
pub fn client(config: &HttpConfig) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if let Some(ca_file) = &config.extra_root_ca {
        builder = builder.use_preconfigured_tls(super::loopback_ca::client_config(ca_file)?);
    }
    builder
        .user_agent(concat!("fitbit-notifier/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout())
        .timeout(config.timeout())
        // no endpoint we call redirects; following one could send a token elsewhere
        .redirect(reqwest::redirect::Policy::none())
        .connector_layer(super::one_handshake::OneHandshake::default())
        // resolve names in-process (/etc/resolv.conf, /etc/hosts), not through glibc's
        // getaddrinfo, whose NSS modules a static binary cannot load
        .hickory_dns(true)
        .build()
        .map_err(|err| Error::other(format!("cannot set up HTTPS: {err}")))
}

/// A complete answer from a server.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// What the body is without quoting any of it ("27 bytes of text/html"), for an
    /// answer that may hold a secret.
    pub fn shape(&self) -> String {
        let kind = self.content_type().unwrap_or("an unnamed type");
        format!("{} bytes of {kind}", self.body.len())
    }

    fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The body, shortened to one line, for an error message. A JSON or plain-text body
    /// (the services' own error answers) is quoted; a page of markup, such as a proxy's
    /// error page, is described by its `<title>` and shape rather than quoted, and any
    /// other body by its shape alone.
    pub fn snippet(&self) -> String {
        let kind = self.content_type().unwrap_or_default().to_ascii_lowercase();
        let text = self.text();
        let markup =
            kind.contains("html") || kind.contains("xml") || text.trim_start().starts_with('<');
        if markup {
            return match page_title(&text) {
                Some(title) => format!("a page titled \"{title}\", {}", self.shape()),
                None => format!("a page without a title, {}", self.shape()),
            };
        }
        if !(kind.is_empty() || kind.contains("json") || kind.starts_with("text/plain")) {
            return self.shape();
        }
        let line = one_line(&without_controls(&text));
        let mut cut: String = line.chars().take(200).collect();
        if cut.len() < line.len() {
            cut.push('…');
        }
        cut
    }
}

#[cfg(test)]
impl Reply {
    /// An answer as a server would send it, for the tests of what parses answers.
    pub fn fake(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("a valid header value"));
        }
        Reply {
            status: StatusCode::from_u16(status).expect("a valid status"),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// The text of a page's `<title>`, on one line and at most 100 characters, when it has one.
fn page_title(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = one_line(&without_controls(&page[start..end]));
    let cut: String = title.chars().take(100).collect();
    (!cut.is_empty()).then_some(cut)
}

/// `text` without control characters (a terminal escape sequence among them), which a
/// server's text must not bring into a terminal or a log.
pub fn without_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A text from a server made fit for a one-line message: every run of whitespace,
/// line breaks included, becomes one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why no complete answer arrived.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request never reached the server: it is safe to send again.
    #[error("could not connect: {0}")]
    NotSent(String),
    /// The request may have been received and acted on: sending it again is not safe
    /// for a request that is not idempotent.
    #[error("no answer within the timeout")]
    NoAnswer,
    #[error("the answer was larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// A server error to a request that must not be repeated: the server may have acted
    /// on it before failing, so it is neither resent nor read as a refusal.
    #[error(
        "the server answered {0} after receiving the request, which does not say whether it was carried out"
    )]
    ServerError(StatusCode),
    #[error("{0}")]
    Broken(String),
}

impl SendError {
    /// For a request that was sent and got no answer, what happened: it may have been
    /// acted on, so a request that is not safe to repeat must be treated as done.
    pub fn may_have_landed(&self) -> Option<String> {
        match self {
            SendError::NoAnswer | SendError::ServerError(_) => Some(self.to_string()),
            SendError::Broken(detail) => Some(format!("the connection broke: {detail}")),
            SendError::NotSent(_) | SendError::TooLarge => None,
        }
    }

    /// A temporary failure for `service`, with what to do.
    pub fn into_error(self, service: &str) -> Error {
        match self {
            SendError::TooLarge => Error::other(format!(
                "{service}: {self}; check the service URLs in the config, or report it with the output of -vv"
            )),
            SendError::ServerError(_) => Error::try_later(format!(
                "{service}: {self}; it is not sent again now, the next run will try again"
            )),
            _ => Error::try_later(format!(
                "{service}: {self}; check the network, the next run will try again"
            )),
        }
    }
}

/// Sends one request and reads the whole (capped) body.
async fn send_once(request: RequestBuilder, secret_url: bool) -> Result<Reply, SendError> {
    let classify = |err: reqwest::Error| {
        if secret_url {
            classify(err.without_url())
        } else {
            classify(err)
        }
    };
    let mut response = request.send().await.map_err(classify)?;
    let status = response.status();
    let headers = response.headers().clone();
    // one allocation of the announced length, rather than regrowing (and copying) the
    // buffer chunk by chunk
    let announced = response.content_length().unwrap_or(0);
    if announced > MAX_BODY_BYTES as u64 {
        return Err(SendError::TooLarge);
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(SendError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn classify(err: reqwest::Error) -> SendError {
    // the chain names the real cause (refused, DNS, TLS) where the top level does not
    let detail = error_chain(&err);
    if err.is_connect() {
        SendError::NotSent(detail)
    } else if err.is_timeout() {
        SendError::NoAnswer
    } else if err.is_builder() {
        SendError::NotSent(detail)
    } else {
        SendError::Broken(detail)
    }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Whether a request may be sent again after an answer that does not say whether it was
/// carried out: a server error, a timeout, or a connection that broke after sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A repeat changes nothing more: a read, Google's refresh (it does not rotate the
    /// refresh token), a Mastodon post with its `Idempotency-Key`.
    Always,
    /// The service refuses a repeat of what it already did (X refuses a duplicate post,
    /// which counts as posted), so a server error is retried; a request that got no
    /// answer at all is left to the caller's "may have landed" path.
    AfterServerError,
    /// A repeat could do harm: a second post (webhooks, Bluesky), or spending a
    /// single-use refresh token, code or PIN twice. Any ambiguous answer ends the
    /// request as [`SendError::may_have_landed`].
    Never,
}

/// How to retry a request.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    /// What may be sent again after an ambiguous answer.
    pub repeat: Repeat,
    /// Reads how long a 429 asks us to wait; `None` when the answer does not say.
    pub rate_limit_wait: fn(&HeaderMap) -> Option<Duration>,
    /// Keeps the URL out of transport errors, for a URL that is itself a secret (a webhook).
    pub secret_url: bool,
}

impl Retry {
    pub fn idempotent(config: &HttpConfig) -> Self {
        Retry {
            attempts: config.attempts.max(1),
            repeat: Repeat::Always,
            rate_limit_wait: retry_after,
            secret_url: false,
        }
    }

    pub fn duplicates_refused(config: &HttpConfig) -> Self {
        Retry {
            repeat: Repeat::AfterServerError,
            ..Self::idempotent(config)
        }
    }

    pub fn never_repeated(config: &HttpConfig) -> Self {
        Retry {
            repeat: Repeat::Never,
            ..Self::idempotent(config)
        }
    }
}

/// Sends `make()` until it gets an answer worth returning: a non-5xx, non-429 status, a
/// 429 whose reset is too far away to wait for, or the last attempt's answer.
/// Transport failures are retried while that is safe, then returned. A request that is
/// never repeated ends at its first server error, as [`SendError::ServerError`]: a 429
/// and a connection that never opened are the only failures that say it was not acted on.
pub async fn send(make: impl Fn() -> RequestBuilder, retry: Retry) -> Result<Reply, SendError> {
    let mut attempt = 1;
    loop {
        let outcome = send_once(make(), retry.secret_url).await;
        let last = attempt >= retry.attempts;
        let wait = match &outcome {
            Ok(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS => {
                match (retry.rate_limit_wait)(&reply.headers) {
                    Some(wait) if wait <= MAX_RATE_LIMIT_WAIT => Some(wait.max(backoff(attempt))),
                    Some(_) => None,
                    None => Some(backoff(attempt)),
                }
            }
            Ok(reply) if reply.status.is_server_error() => {
                if retry.repeat == Repeat::Never {
                    return Err(SendError::ServerError(reply.status));
                }
                Some(backoff(attempt))
            }
            Ok(_) => None,
            Err(SendError::NotSent(_)) => Some(backoff(attempt)),
            Err(SendError::NoAnswer | SendError::Broken(_)) if retry.repeat == Repeat::Always => {
                Some(backoff(attempt))
            }
            Err(_) => None,
        };
        match wait {
            Some(wait) if !last => {
                log::debug!(
                    "attempt {attempt} failed; retrying in {}ms",
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => return outcome,
        }
    }
}

/// Exponential backoff with jitter: about 0.5 s, 1 s, 2 s, … capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let base = 500u64 << attempt.saturating_sub(1).min(4);
    let jitter = rand::random::<u64>() % (base / 4 + 1);
    Duration::from_millis(base.min(8_000) + jitter)
}

/// `Retry-After` in seconds, whole or fractional as Discord sends it (the HTTP-date form
/// is not used by the services we call).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Whether requests to `url` are private on the way: https, or plain http to this
/// machine (a local proxy, the tests' mock servers). Every endpoint that a secret goes
/// to must be, or the secret would cross the network in clear text.
pub fn is_private_in_transit(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Refuses an endpoint that is not [`is_private_in_transit`], naming its `key` in the
/// config (78), before any request is made.
pub fn ensure_private_in_transit(url: &Url, key: &str) -> Result<()> {
    if is_private_in_transit(url) {
        return Ok(());
    }
    Err(Error::config(format!(
        "{key} \"{url}\" would send secrets unencrypted: give an https:// address (plain http:// is \
         accepted only for localhost or a loopback address)"
    )))
}

/// An API base URL that relative paths can be joined to without losing its last segment.
pub fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `path` under `base`, whether or not the base ends in a slash (`Url::join` alone would
/// drop the base's last segment without one). `key` names the base in the config for the
/// error: `[x] api_base`.
pub fn endpoint(base: &Url, path: &str, key: &str) -> Result<Url> {
    let base = with_trailing_slash(base.clone());
    base.join(path).map_err(|err| {
        Error::config(format!(
            "{key} \"{base}\" cannot lead to {path}: {err}; give an https:// address"
        ))
    })
}

/// What an error answer means when the service's own reading found nothing more specific:
/// a rate limit or a server error is temporary (75), anything else is told as it came.
pub fn status_error(service: &str, reply: &Reply, detail: &str) -> Error {
    let status = reply.status;
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::try_later(format!(
            "{service}'s rate limit is reached (429: {detail}); the next run will try again"
        ))
    } else if status.is_server_error() {
        Error::try_later(format!(
            "{service} had a server error ({status}) on every attempt; the next run will try again"
        ))
    } else {
        Error::other(format!("{service} answered {status}: {detail}"))
    }
}

/// A successful answer's JSON body as `T` (which may borrow from it); `api` and `what`
/// name it in the error.
pub fn parse_json<'a, T: Deserialize<'a>>(reply: &'a Reply, api: &str, what: &str) -> Result<T> {
    serde_json::from_slice(&reply.body).map_err(|err| {
        Error::other(format!(
            "{api} sent an unreadable answer for {what} ({err}: {}); check api_base in the config, or report it with the output of -vv",
            reply.snippet()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hang_under_the_base_with_or_without_a_slash() {
        for (base, path, joined) in [
            (
                "https://social.example/mastodon",
                "api/v1/statuses",
                "https://social.example/mastodon/api/v1/statuses",
            ),
            (
                "https://social.example",
                "api/v1/statuses",
                "https://social.example/api/v1/statuses",
            ),
            (
                "https://health.googleapis.com/v4",
                "users/me/settings",
                "https://health.googleapis.com/v4/users/me/settings",
            ),
            (
                "https://api.x.com/",
                "2/tweets",
                "https://api.x.com/2/tweets",
            ),
        ] {
            let url = endpoint(&Url::parse(base).unwrap(), path, "base").unwrap();
            assert_eq!(url.as_str(), joined, "{base} + {path}");
        }
    }

    #[test]
    fn only_https_or_loopback_http_is_private() {
        for (url, private) in [
            ("https://hooks.slack.com/services/T/B/X", true),
            ("http://127.0.0.1:8080/hook", true),
            ("http://localhost/hook", true),
            ("http://[::1]:9/hook", true),
            ("http://hooks.slack.com/services/T/B/X", false),
            ("ftp://example.com/", false),
            ("mailto:someone@example.com", false),
            ("http://192.0.2.2/token", false),
            ("http://127.0.0.1.example.com/", false),
            ("http://localhost.example.com/", false),
        ] {
            assert_eq!(
                is_private_in_transit(&Url::parse(url).unwrap()),
                private,
                "{url}"
            );
        }
    }

    #[test]
    fn an_error_status_without_a_special_meaning_is_read_by_its_class() {
        for (status, kind, phrase) in [
            (429, crate::error::Kind::TryLater, "rate limit"),
            (502, crate::error::Kind::TryLater, "server error"),
            (418, crate::error::Kind::Other, "answered 418"),
        ] {
            let err = status_error("Example", &Reply::fake(status, &[], ""), "detail");
            assert_eq!(err.kind(), kind, "{status}");
            assert!(err.to_string().starts_with("Example"), "{err}");
            assert!(err.to_string().contains(phrase), "{err}");
        }
    }

    #[test]
    fn only_a_sent_request_without_an_answer_may_have_landed() {
        assert!(SendError::NoAnswer.may_have_landed().is_some());
        assert!(
            SendError::Broken("reset".into())
                .may_have_landed()
                .unwrap()
                .contains("reset")
        );
        assert!(
            SendError::NotSent("refused".into())
                .may_have_landed()
                .is_none()
        );
        assert!(SendError::TooLarge.may_have_landed().is_none());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(500) && backoff(1) < Duration::from_millis(700)
        );
        assert!(backoff(3) >= Duration::from_millis(2000));
        assert!(backoff(30) <= Duration::from_millis(10_001));
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert("retry-after", "0.25".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        headers.insert("retry-after", "-1".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test]
    async fn a_secret_url_stays_out_of_transport_errors() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hooks/secret-token");
        let client = reqwest::Client::new();
        let config = HttpConfig {
            attempts: 1,
            ..HttpConfig::default()
        };
        for secret_url in [false, true] {
            let retry = Retry {
                secret_url,
                ..Retry::never_repeated(&config)
            };
            let err = send(|| client.post(&url), retry).await.unwrap_err();
            assert!(matches!(err, SendError::NotSent(_)), "{err:?}");
            let detail = err.into_error("Slack").to_string();
            assert_eq!(detail.contains("secret-token"), !secret_url, "{detail}");
        }
    }

    #[test]
    fn a_shape_names_size_and_type_but_no_content() {
        let mut reply = Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: b"access_token=ya29.secret&expires_in=3599".to_vec(),
        };
        assert_eq!(reply.shape(), "40 bytes of an unnamed type");
        reply.headers.insert(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            reply.shape(),
            "40 bytes of application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn a_page_is_described_by_its_title_never_quoted() {
        for (kind, body, said) in [
            (
                "text/html",
                "<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<title>Error 502 (Server Error)!!1</title>\n<p>secret-ish detail</p>",
                "a page titled \"Error 502 (Server Error)!!1\", 119 bytes of text/html",
            ),
            (
                "text/html; charset=utf-8",
                "<html><body>Bad Gateway</body></html>",
                "a page without a title, 37 bytes of text/html",
            ),
            (
                "",
                "<html><head><TITLE>\u{1b}[31mDown</TITLE></head></html>",
                "a page titled \"[31mDown\", 50 bytes of an unnamed type",
            ),
            (
                "application/octet-stream",
                "\u{0}\u{1}",
                "2 bytes of application/octet-stream",
            ),
            ("text/plain", "invalid_token", "invalid_token"),
            ("application/json", "{\"error\":\"x\"}", "{\"error\":\"x\"}"),
        ] {
            let headers: Vec<(&'static str, &str)> = if kind.is_empty() {
                vec![]
            } else {
                vec![("content-type", kind)]
            };
            let snippet = Reply::fake(502, &headers, body).snippet();
            assert_eq!(snippet, said, "{body}");
        }
    }

    #[test]
    fn snippets_are_one_short_line() {
        let reply = Reply {
            status: StatusCode::BAD_GATEWAY,
            headers: HeaderMap::new(),
            body: format!("<html>\n<body>{}</body>", "x".repeat(500)).into_bytes(),
        };
        let snippet = reply.snippet();
        assert!(!snippet.contains('\n'));
        assert!(snippet.chars().count() <= 201);
    }
}

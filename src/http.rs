//! HTTP shared by every remote service: one client (rustls, timeouts), capped bodies,
//! bounded retries with backoff, and the classification of transport failures.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use url::Url;

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
        builder = builder.use_preconfigured_tls(crate::loopback_ca::client_config(ca_file)?);
    }
    builder
        .user_agent(concat!("fitbit-notifier/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout())
        .timeout(config.timeout())
        // no endpoint we call redirects; following one could send a token elsewhere
        .redirect(reqwest::redirect::Policy::none())
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
        let kind = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("an unnamed type");
        format!("{} bytes of {kind}", self.body.len())
    }

    /// The body, shortened to one line, for an error message.
    pub fn snippet(&self) -> String {
        let line = one_line(&self.text());
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
    #[error("{0}")]
    Broken(String),
}

impl SendError {
    /// A temporary failure for `service`, with what to do.
    pub fn into_error(self, service: &str) -> Error {
        match self {
            SendError::TooLarge => Error::other(format!(
                "{service}: {self}; check the service URLs in the config, or report it with the output of -vv"
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

/// How to retry a request.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    /// Whether a request that may have been received can be sent again.
    pub idempotent: bool,
    /// Reads how long a 429 asks us to wait; `None` when the answer does not say.
    pub rate_limit_wait: fn(&HeaderMap) -> Option<Duration>,
    /// Keeps the URL out of transport errors, for a URL that is itself a secret (a webhook).
    pub secret_url: bool,
}

impl Retry {
    pub fn idempotent(config: &HttpConfig) -> Self {
        Retry {
            attempts: config.attempts.max(1),
            idempotent: true,
            rate_limit_wait: retry_after,
            secret_url: false,
        }
    }

    pub fn once_only(config: &HttpConfig) -> Self {
        Retry {
            idempotent: false,
            ..Self::idempotent(config)
        }
    }
}

/// Sends `make()` until it gets an answer worth returning: a non-5xx, non-429 status, a
/// 429 whose reset is too far away to wait for, or the last attempt's answer.
/// Transport failures are retried while that is safe, then returned.
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
            Ok(reply) if reply.status.is_server_error() => Some(backoff(attempt)),
            Ok(_) => None,
            Err(SendError::NotSent(_)) => Some(backoff(attempt)),
            Err(SendError::NoAnswer | SendError::Broken(_)) if retry.idempotent => {
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

/// An API base URL that relative paths can be joined to without losing its last segment.
pub fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
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
                ..Retry::once_only(&config)
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

//! Receiving the authorization code: a one-shot listener on 127.0.0.1 for the browser's
//! redirect, or the address a person pastes on a headless machine; `state` is checked
//! either way.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use super::Service;
use crate::error::{Error, Result};
use crate::net::http::{one_line, without_controls};
use crate::secret::Secret;

/// How long `auth` waits for the browser to come back to the loopback listener.
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);
/// Overrides [`DEFAULT_CALLBACK_TIMEOUT`], in seconds (documented in the README; tests
/// use it to see the timeout without waiting minutes).
pub const CALLBACK_TIMEOUT_ENV: &str = "FITBIT_NOTIFIER_AUTH_TIMEOUT";
/// The largest request head the loopback listener reads; a redirect is far smaller.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// [`DEFAULT_CALLBACK_TIMEOUT`], or the number of seconds in [`CALLBACK_TIMEOUT_ENV`].
pub fn callback_timeout() -> Result<Duration> {
    match std::env::var(CALLBACK_TIMEOUT_ENV) {
        Err(_) => Ok(DEFAULT_CALLBACK_TIMEOUT),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&secs| secs > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                Error::config(format!(
                    "{CALLBACK_TIMEOUT_ENV}={text:?} is not a positive number of seconds; fix or unset it"
                ))
            }),
    }
}

/// A listener on 127.0.0.1 (never another interface) that takes exactly one redirect
/// to its callback path and then closes.
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
}

impl Loopback {
    /// At a port the system picks, for providers that accept any loopback port.
    pub async fn bind() -> Result<Self> {
        let listener = listen(0).await?;
        let port = listener
            .local_addr()
            .map_err(|err| Error::other(format!("cannot read the listener's port: {err}")))?
            .port();
        Ok(Loopback {
            listener,
            redirect_uri: loopback_uri(port),
            path: "/".to_string(),
        })
    }

    /// At the port and path of a registered `http://127.0.0.1:<port>/...` (or
    /// `localhost`) redirect URI, for providers that require an exact match; the URI is
    /// sent exactly as given.
    pub async fn bind_to(redirect_uri: &str) -> Result<Self> {
        let url = Url::parse(redirect_uri)
            .ok()
            .filter(|url| {
                url.scheme() == "http"
                    && matches!(url.host_str(), Some("127.0.0.1" | "localhost"))
                    && url.port().is_some()
            })
            .ok_or_else(|| {
                Error::config(format!(
                    "the redirect URI {redirect_uri:?} is not an http://127.0.0.1:<port>/ address this machine can listen on; register such a callback URL for the app, or use --no-browser"
                ))
            })?;
        let port = url.port().expect("checked above");
        Ok(Loopback {
            listener: listen(port).await?,
            redirect_uri: redirect_uri.to_string(),
            path: url.path().to_string(),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's redirect to `/` that carries this run's `state`, answers
    /// it with a small page and returns the code. Requests for other paths (a favicon)
    /// get a 404, and requests without this run's state (a stale tab, another program
    /// on this machine) a 400: neither counts, and nothing of their text is printed.
    /// Connections that never send a request are dropped after [`REQUEST_READ_TIMEOUT`].
    pub async fn receive_code(
        self,
        service: &Service,
        state: &str,
        timeout: Duration,
    ) -> Result<Secret> {
        tokio::time::timeout(timeout, self.serve_one(service, state))
            .await
            .unwrap_or_else(|_| {
                Err(Error::other(format!(
                    "no answer from the browser within {}s; run `{}` again and finish the consent in time (on a machine without a browser add --no-browser)",
                    timeout.as_secs(),
                    service.auth_command
                )))
            })
    }

    async fn serve_one(self, service: &Service, state: &str) -> Result<Secret> {
        // each connection is read in its own task, so that a browser's idle
        // pre-connection cannot hold up the one that carries the redirect; at most
        // MAX_CONNECTIONS at a time, so that a flood cannot use up the descriptors
        type Read =
            std::result::Result<io::Result<(TcpStream, String)>, tokio::time::error::Elapsed>;
        let mut reading: JoinSet<Read> = JoinSet::new();
        let mut backoff = Backoff::default();
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if reading.len() < MAX_CONNECTIONS => {
                    match accepted {
                        Ok((stream, _)) => {
                            backoff.reset();
                            reading.spawn(tokio::time::timeout(REQUEST_READ_TIMEOUT, read_request_target(stream)));
                        }
                        // out of descriptors (EMFILE) and the like: the pending connection
                        // stays queued and accept fails again at once, so pause, not spin
                        Err(err) => {
                            let pause = backoff.next_pause();
                            log::debug!("cannot accept a connection on the loopback listener ({err}); trying again in {pause:?}");
                            tokio::time::sleep(pause).await;
                        }
                    }
                }
                Some(joined) = reading.join_next() => {
                    let Ok(Ok(Ok((mut stream, target)))) = joined else { continue };
                    let Some(query) = callback_query(&target, &self.path) else {
                        respond(&mut stream, "404 Not Found", "Not found.").await;
                        continue;
                    };
                    if let Some(why) = not_this_runs(&query, state) {
                        log::warn!("ignored a request to {} {why}; still waiting for the browser", self.redirect_uri);
                        respond(
                            &mut stream,
                            "400 Bad Request",
                            "This request does not carry the state of the running fitbit-notifier auth and was ignored; finish the consent in the browser tab that auth opened.",
                        ).await;
                        continue;
                    }
                    let outcome = code_from_redirect(service, &query);
                    let page = match &outcome {
                        Ok(_) => format!("fitbit-notifier is authorized for {}. You can close this tab.", service.name),
                        Err(err) => format!("Authorization failed: {err}"),
                    };
                    let status = if outcome.is_ok() { "200 OK" } else { "400 Bad Request" };
                    respond(&mut stream, status, &page).await;
                    return outcome;
                }
            }
        }
    }
}

/// Connections the loopback listener reads at the same time; a browser opens a few.
const MAX_CONNECTIONS: usize = 16;
/// How long a connection may take to send its request head.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause after a failed accept: doubling from 10 ms to 1 s, back to the start after
/// an accept succeeds.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn next_pause(&mut self) -> Duration {
        let pause = Self::FIRST
            .saturating_mul(1 << self.failures.min(16))
            .min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        pause
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

async fn listen(port: u16) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|err| {
        Error::other(format!(
            "cannot listen on 127.0.0.1:{port}: {err}; free the port or use --no-browser to paste the redirect instead"
        ))
    })
}

fn loopback_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

/// A loopback redirect URI for `--no-browser`: nothing listens there, so the browser
/// shows an error page whose address bar holds the code for the user to paste.
pub fn paste_redirect_uri() -> Result<String> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|err| Error::other(format!("cannot pick a loopback port: {err}")))?
        .port();
    Ok(loopback_uri(port))
}

/// The code from what the user pasted: the whole redirected URL, its query, or the bare
/// code. A pasted `state` must match; a bare code has none to check.
pub fn code_from_pasted(service: &Service, pasted: &str, state: &str) -> Result<Secret> {
    let pasted = pasted.trim();
    if pasted.is_empty() {
        return Err(Error::other(format!(
            "nothing was pasted; run `{} --no-browser` again and paste the address the browser ended on",
            service.auth_command
        )));
    }
    let query = match Url::parse(pasted) {
        Ok(url) => url.query().unwrap_or_default().to_string(),
        Err(_) if pasted.contains("code=") || pasted.contains("error=") => {
            pasted.rsplit('?').next().unwrap_or_default().to_string()
        }
        Err(_) => {
            let code = percent_decode(pasted);
            return Ok(Secret::new(code));
        }
    };
    // a paste without a state (the query part only) has nothing to check
    if param(&query, "state").is_some()
        && let Some(why) = not_this_runs(&query, state)
    {
        return Err(Error::other(format!(
            "the pasted address comes {why} (a stale tab or a forged request): the state does not match this run; run `{} --no-browser` again and use the new URL",
            service.auth_command
        )));
    }
    code_from_redirect(service, &query)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("c={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Why a redirect's query is not the answer to this run's authorize request (checked
/// before anything else in it is read), or `None` when it carries this run's state.
fn not_this_runs(query: &str, state: &str) -> Option<&'static str> {
    match param(query, "state") {
        None => Some("without a state"),
        Some(got) if got != state => Some("with another state"),
        Some(_) => None,
    }
}

/// Reads a redirect whose state was checked: the provider's `error`, else the code.
fn code_from_redirect(service: &Service, query: &str) -> Result<Secret> {
    if let Some(error) = param(query, "error") {
        let detail = param(query, "error_description")
            .map(|d| format!(": {}", printable(&d)))
            .unwrap_or_default();
        return Err(Error::other(format!(
            "{} did not authorize fitbit-notifier ({}{detail}); run `{}` again and allow access",
            service.name,
            printable(&error),
            service.auth_command
        )));
    }
    match param(query, "code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code)),
        _ => Err(Error::other(format!(
            "the redirect carries no authorization code; run `{}` again",
            service.auth_command
        ))),
    }
}

/// A text from a redirect made fit for the terminal: no control characters (an escape
/// sequence would be obeyed by the terminal), one line, at most 200 characters.
fn printable(text: &str) -> String {
    one_line(&without_controls(text))
        .chars()
        .take(200)
        .collect()
}

/// Reads a request head and returns its target (`/?code=...`).
async fn read_request_target(mut stream: TcpStream) -> io::Result<(TcpStream, String)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return Err(io::ErrorKind::InvalidData.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok((stream, target.to_string())),
        _ => Err(io::ErrorKind::InvalidData.into()),
    }
}

/// The query of a request for the callback path, or `None` for any other path.
fn callback_query(target: &str, callback_path: &str) -> Option<String> {
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    (url.path() == callback_path).then(|| url.query().unwrap_or_default().to_string())
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>fitbit-notifier</title></head>\
         <body><p>{}</p></body></html>",
        html_escape(message)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    // the browser's page is a courtesy: the outcome is reported in the terminal either way
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use crate::net::oauth::tests::service;

    use super::*;

    #[test]
    fn a_pasted_url_query_or_bare_code_gives_the_code() {
        let s = service();
        let url = "http://127.0.0.1:4711/?state=st&code=4/0Ab-c_d&scope=x%20y";
        assert_eq!(
            code_from_pasted(&s, url, "st").unwrap().expose(),
            "4/0Ab-c_d"
        );
        assert_eq!(
            code_from_pasted(&s, "  state=st&code=abc \n", "st")
                .unwrap()
                .expose(),
            "abc"
        );
        assert_eq!(
            code_from_pasted(&s, "4%2F0Abc", "st").unwrap().expose(),
            "4/0Abc"
        );
        assert_eq!(
            code_from_pasted(&s, "?code=abc", "st").unwrap().expose(),
            "abc"
        );
    }

    #[test]
    fn a_pasted_url_with_another_state_or_an_error_is_refused() {
        let s = service();
        let err =
            code_from_pasted(&s, "http://127.0.0.1:1/?code=abc&state=other", "st").unwrap_err();
        assert!(err.to_string().contains("state does not match"), "{err}");
        let err = code_from_pasted(&s, "http://127.0.0.1:1/?error=access_denied&state=st", "st")
            .unwrap_err();
        assert!(err.to_string().contains("access_denied"), "{err}");
        assert!(code_from_pasted(&s, "", "st").is_err());
    }

    #[test]
    fn a_redirect_without_this_runs_state_is_not_this_runs() {
        assert_eq!(not_this_runs("code=abc", "st"), Some("without a state"));
        assert_eq!(
            not_this_runs("error=x&state=other", "st"),
            Some("with another state")
        );
        assert_eq!(not_this_runs("code=abc&state=st", "st"), None);
    }

    #[test]
    fn a_providers_error_reaches_the_terminal_without_control_characters() {
        let err = code_from_redirect(
            &service(),
            "error=access_denied%1B%5D0%3Bowned%07&error_description=%1B%5B31mred%0Aline",
        )
        .unwrap_err()
        .to_string();
        assert!(!err.chars().any(char::is_control), "{err:?}");
        assert!(err.contains("access_denied ]0;owned"), "{err}");
    }

    #[test]
    fn accept_failures_back_off_up_to_a_second_and_start_over_after_a_success() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..9).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        for _ in 0..100 {
            backoff.next_pause();
        }
        assert_eq!(backoff.next_pause(), Duration::from_secs(1));
        backoff.reset();
        assert_eq!(backoff.next_pause(), Duration::from_millis(10));
    }

    #[test]
    fn only_the_callback_path_is_the_callback() {
        assert_eq!(
            callback_query("/?code=a&state=b", "/").as_deref(),
            Some("code=a&state=b")
        );
        assert_eq!(callback_query("/", "/").as_deref(), Some(""));
        assert_eq!(callback_query("/favicon.ico", "/"), None);
        assert_eq!(
            callback_query("/callback?code=a", "/callback").as_deref(),
            Some("code=a")
        );
        assert_eq!(callback_query("/?code=a", "/callback"), None);
    }
}

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

    /// Waits for the browser's redirect to `/`, checks `state`, answers it with a
    /// small page and returns the code. Requests for other paths (a favicon) get a
    /// 404 and do not count; connections that never send a request are ignored.
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
        // pre-connection cannot hold up the one that carries the redirect
        let mut reading: JoinSet<io::Result<(TcpStream, String)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        reading.spawn(read_request_target(stream));
                    }
                }
                Some(joined) = reading.join_next() => {
                    let Ok(Ok((mut stream, target))) = joined else { continue };
                    let Some(query) = callback_query(&target, &self.path) else {
                        respond(&mut stream, "404 Not Found", "Not found.").await;
                        continue;
                    };
                    let outcome = code_from_redirect(service, &query, Some(state), true);
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
    code_from_redirect(service, &query, Some(state), false)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("c={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Checks a redirect's query: the provider's `error`, then `state` (required from a
/// browser, checked when present in a paste), then the code.
fn code_from_redirect(
    service: &Service,
    query: &str,
    expected_state: Option<&str>,
    state_required: bool,
) -> Result<Secret> {
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = param("error") {
        let detail = param("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(Error::other(format!(
            "{} did not authorize fitbit-notifier ({error}{detail}); run `{}` again and allow access",
            service.name, service.auth_command
        )));
    }
    match (param("state"), expected_state) {
        (Some(got), Some(expected)) if got != expected => {
            return Err(Error::other(format!(
                "the redirect's state does not match this run (a stale tab or a forged request); run `{}` again and use the new URL",
                service.auth_command
            )));
        }
        (None, Some(_)) if state_required => {
            return Err(Error::other(format!(
                "the redirect has no state parameter; run `{}` again and use the new URL",
                service.auth_command
            )));
        }
        _ => {}
    }
    match param("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code)),
        _ => Err(Error::other(format!(
            "the redirect carries no authorization code; run `{}` again",
            service.auth_command
        ))),
    }
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
    fn a_browser_redirect_must_carry_the_state() {
        let s = service();
        assert!(code_from_redirect(&s, "code=abc", Some("st"), true).is_err());
        assert!(code_from_redirect(&s, "code=abc&state=st", Some("st"), true).is_ok());
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

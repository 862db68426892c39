//! Loopback servers: mocks of Google and X (shared with the benchmark, which includes
//! them by path), of Fitbit, and servers that misbehave in ways wiremock cannot: connections that
//! hang, drop or break off mid-answer, and a token endpoint whose refresh tokens are
//! single-use and that can tell whether its client was still there to receive an answer.

pub mod fitbit;
pub mod google;
pub mod google_days;
pub mod partial;
pub mod server;
pub mod sinks;
pub mod tls;
pub mod x;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

/// A server that never gives a complete answer.
pub(crate) struct Fault {
    addr: SocketAddr,
    /// Held so that the port stays bound (and, for `Hang`, never accepted from).
    _listener: Option<TcpListener>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum FaultKind {
    /// Connections are accepted by the kernel and then never answered.
    Hang,
    /// Every connection is closed as soon as it is accepted.
    Drop,
    /// A 200 whose body stops after a few bytes of the promised length.
    Truncate,
}

impl Fault {
    pub(crate) fn start(kind: FaultKind) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        match kind {
            FaultKind::Hang => Fault {
                addr,
                _listener: Some(listener),
            },
            FaultKind::Drop | FaultKind::Truncate => {
                thread::spawn(move || {
                    for stream in listener.incoming().flatten() {
                        if let FaultKind::Truncate = kind {
                            thread::spawn(move || truncate(stream));
                        }
                    }
                });
                Fault {
                    addr,
                    _listener: None,
                }
            }
        }
    }

    pub(crate) fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn truncate(mut stream: TcpStream) {
    if read_request(&stream).is_some() {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"rollupDataPoints\": [",
        );
    }
}

/// The form body of one HTTP/1.1 request, or `None` when the client went away.
fn read_request(stream: &TcpStream) -> Option<BTreeMap<String, String>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(url::form_urlencoded::parse(&body).into_owned().collect())
}

/// What the token endpoint did with one request.
#[derive(Debug, Clone)]
pub(crate) enum Grant {
    /// The current token was spent and the next one issued; the answer was then written.
    Rotated,
    /// The token spent last was presented again within the grace window: the pair it
    /// was exchanged for is answered again, and nothing changes.
    Replayed,
    /// A refresh token that is not the current one: answered `invalid_grant`.
    Refused { token: String },
    /// The client was gone before the request was processed: nothing changed.
    Abandoned,
}

struct Chain {
    current: String,
    /// The token spent last, the token it was exchanged for, and when.
    previous: Option<(String, String, Instant)>,
    issued: u32,
    grants: Vec<Grant>,
}

impl Chain {
    /// The refresh token answered for `token`, if the endpoint accepts it now.
    fn accepted(&self, token: &str) -> Option<String> {
        if token == self.current {
            return None;
        }
        match &self.previous {
            Some((spent, next, at)) if spent == token && at.elapsed() < GRACE => Some(next.clone()),
            _ => None,
        }
    }
}

/// Fitbit is reported to answer a refresh token presented again within two minutes with
/// the same new pair (the reference marks it UNCONFIRMED): that is what lets a client
/// killed between the rotation and saving its answer continue the chain.
const GRACE: Duration = Duration::from_secs(120);

/// A token endpoint whose refresh tokens are single-use, as Fitbit's are: a refresh
/// spends the token and issues the next one; a spent token gets `invalid_grant`, except
/// the one spent last within [`GRACE`], which gets the same answer again.
///
/// Each request is processed `delay` after it arrived (the time a real server takes),
/// and only if its client is still connected then, as an async server drops the request
/// of a closed connection. The rotation is committed and then the answer written:
/// like any server, it cannot know whether the answer arrives.
pub(crate) struct SingleUseTokens {
    addr: SocketAddr,
    access_token: &'static str,
    chain: Arc<Mutex<Chain>>,
}

impl SingleUseTokens {
    pub(crate) fn start(first: &str, access_token: &'static str, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let chain = Arc::new(Mutex::new(Chain {
            current: first.to_string(),
            previous: None,
            issued: 0,
            grants: Vec::new(),
        }));
        let shared = chain.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let chain = shared.clone();
                thread::spawn(move || serve(stream, &chain, access_token, delay));
            }
        });
        SingleUseTokens {
            addr,
            access_token,
            chain,
        }
    }

    pub(crate) fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The access token every refresh grants.
    pub(crate) fn access_token(&self) -> &'static str {
        self.access_token
    }

    /// The one refresh token the endpoint accepts now.
    pub(crate) fn current(&self) -> String {
        self.chain.lock().unwrap().current.clone()
    }

    pub(crate) fn grants(&self) -> Vec<Grant> {
        self.chain.lock().unwrap().grants.clone()
    }

    /// Whether a refresh with `token` would succeed now.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        let chain = self.chain.lock().unwrap();
        token == chain.current || chain.accepted(token).is_some()
    }
}

fn serve(mut stream: TcpStream, chain: &Mutex<Chain>, access_token: &str, delay: Duration) {
    let Some(form) = read_request(&stream) else {
        return;
    };
    thread::sleep(delay);
    let mut chain = chain.lock().unwrap();
    if !still_connected(&stream) {
        chain.grants.push(Grant::Abandoned);
        return;
    }
    let token = form.get("refresh_token").cloned().unwrap_or_default();
    let refresh = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    let granted = |next: &str| json!({"access_token": access_token, "refresh_token": next, "expires_in": 3599, "token_type": "Bearer"});
    let (status, body) = if refresh && token == chain.current {
        chain.issued += 1;
        let next = format!("1//single-use-{}", chain.issued);
        chain.previous = Some((token.clone(), next.clone(), Instant::now()));
        chain.grants.push(Grant::Rotated);
        chain.current = next.clone();
        ("200 OK", granted(&next))
    } else if let Some(next) = refresh.then(|| chain.accepted(&token)).flatten() {
        chain.grants.push(Grant::Replayed);
        ("200 OK", granted(&next))
    } else {
        chain.grants.push(Grant::Refused { token });
        (
            "400 Bad Request",
            json!({"error": "invalid_grant", "error_description": "Bad Request"}),
        )
    };
    let body = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Whether the client has not closed its end: a process killed while waiting for the
/// answer has (the kernel closes its sockets before anyone can wait for it).
fn still_connected(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let connected = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => false,
        Ok(_) => true,
        Err(err) => err.kind() == ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    connected
}

/// The example of Google's performance guides: the "Demo" API's resource, the
/// request `fields=kind,items(title,characteristics/length)` and its answer.
#[test]
fn partial_response_answers_the_guides_example_as_the_guide_shows() {
    let full = json!({
        "kind": "demo",
        "items": [
            {"title": "First title", "comment": "First comment.",
             "characteristics": {"length": "short", "accuracy": "high", "followers": ["Jo", "Will"]},
             "status": "active"},
            {"title": "Second title", "comment": "Second comment.",
             "characteristics": {"length": "long", "accuracy": "medium", "followers": []},
             "status": "pending"}
        ]
    });
    let partial = partial::cut(&full, "kind,items(title,characteristics/length)");
    assert_eq!(
        partial,
        json!({
            "kind": "demo",
            "items": [
                {"title": "First title", "characteristics": {"length": "short"}},
                {"title": "Second title", "characteristics": {"length": "long"}}
            ]
        })
    );
}

#[test]
fn partial_response_merges_paths_into_one_field_and_keeps_a_whole_field_whole() {
    let full = json!({"a": {"b": 1, "c": 2, "d": 3}, "e": 4});
    assert_eq!(
        partial::cut(&full, "a/b,a/c"),
        json!({"a": {"b": 1, "c": 2}})
    );
    assert_eq!(
        partial::cut(&full, "a,a/b"),
        json!({"a": {"b": 1, "c": 2, "d": 3}})
    );
}

//! One handshake per host. The data round sends fifteen requests to the API host at
//! once, before any connection to it exists. The pool under reqwest (hyper's) cannot know
//! that the server will choose HTTP/2 until a TLS handshake has agreed on it by ALPN, so
//! it would open a connection for each waiting request and keep only one. This layer
//! over the connector lets the first connection to a host go alone and holds the others
//! until its handshake is done: when it agreed on HTTP/2, hyper hands every waiting
//! request that one connection and drops the held attempts without them ever
//! connecting; otherwise (HTTP/1.1, or no connection) each goes on to open its own.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::Connection;
use tokio::sync::watch;
use tower_layer::Layer;
use tower_service::Service;

/// What the first connection to a host came to: `Some(true)` when it speaks HTTP/2.
type Outcome = watch::Receiver<Option<bool>>;

/// The hosts whose first connection is under way. Each attempt starts with it empty.
type Opening = Arc<Mutex<HashMap<String, Outcome>>>;

/// Installed with `ClientBuilder::connector_layer`; clones share the hosts under way.
#[derive(Clone, Default)]
pub struct OneHandshake {
    opening: Opening,
}

impl<S> Layer<S> for OneHandshake {
    type Service = OneHandshakeConnector<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OneHandshakeConnector {
            inner,
            opening: Arc::clone(&self.opening),
        }
    }
}

#[derive(Clone)]
pub struct OneHandshakeConnector<S> {
    inner: S,
    opening: Opening,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R> Service<R> for OneHandshakeConnector<S>
where
    S: Service<R> + Clone + Send + 'static,
    S::Response: Connection + Send,
    S::Future: Send,
    S::Error: Send,
    R: Debug + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, destination: R) -> Self::Future {
        // the service that was polled ready goes with this call (tower's rule)
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let Some(host) = host_of(&destination) else {
            return Box::pin(inner.call(destination));
        };
        let turn = Turn::take(&self.opening, host);
        Box::pin(async move {
            match turn {
                Turn::First(first) => {
                    let connected = inner.call(destination).await;
                    first.done(matches!(&connected, Ok(io) if io.connected().is_negotiated_h2()));
                    connected
                }
                Turn::After(mut outcome) => {
                    let http2 = outcome
                        .wait_for(Option::is_some)
                        .await
                        .is_ok_and(|o| *o == Some(true));
                    if http2 {
                        // hyper gives this request the shared connection and drops this
                        // future; should it not, reqwest's connect timeout ends the wait
                        std::future::pending::<()>().await;
                    }
                    poll_fn(|cx| inner.poll_ready(cx)).await?;
                    inner.call(destination).await
                }
            }
        })
    }
}

/// The scheme and authority hyper asks the connector for, from the request's `Debug`
/// (reqwest's type for it is sealed: `Unnameable(https://host:port/)`). Anything that
/// does not look like a URL connects at once, as without this layer.
fn host_of(destination: &impl Debug) -> Option<String> {
    let shown = format!("{destination:?}");
    shown.contains("://").then_some(shown)
}

/// Whether this attempt opens the host's first connection or waits for it.
enum Turn {
    First(FirstConnection),
    After(Outcome),
}

impl Turn {
    fn take(opening: &Opening, host: String) -> Turn {
        let mut hosts = opening.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(outcome) = hosts.get(&host) {
            return Turn::After(outcome.clone());
        }
        let (sender, outcome) = watch::channel(None);
        hosts.insert(host.clone(), outcome);
        Turn::First(FirstConnection {
            host,
            opening: Arc::clone(opening),
            sender,
        })
    }
}

/// The first attempt to a host. However it ends (connected, failed, or dropped by a
/// timeout) the host is no longer under way, and the attempts waiting on it go on.
struct FirstConnection {
    host: String,
    opening: Opening,
    sender: watch::Sender<Option<bool>>,
}

impl FirstConnection {
    fn done(&self, http2: bool) {
        self.sender.send_replace(Some(http2));
    }
}

impl Drop for FirstConnection {
    fn drop(&mut self) {
        let mut hosts = self.opening.lock().unwrap_or_else(PoisonError::into_inner);
        hosts.remove(&self.host);
        // a first attempt dropped before it finished tells the others to connect
        self.sender.send_if_modified(|outcome| {
            let unset = outcome.is_none();
            if unset {
                *outcome = Some(false);
            }
            unset
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opening() -> Opening {
        Opening::default()
    }

    #[test]
    fn the_second_attempt_to_a_host_waits_and_another_host_goes_at_once() {
        let opening = opening();
        let first = Turn::take(&opening, "https://a/".into());
        assert!(matches!(first, Turn::First(_)));
        assert!(matches!(
            Turn::take(&opening, "https://a/".into()),
            Turn::After(_)
        ));
        assert!(matches!(
            Turn::take(&opening, "https://b/".into()),
            Turn::First(_)
        ));
    }

    #[test]
    fn the_waiting_attempts_hear_what_the_first_connection_agreed() {
        for (http2, heard) in [(true, Some(true)), (false, Some(false))] {
            let opening = opening();
            let Turn::First(first) = Turn::take(&opening, "https://a/".into()) else {
                panic!("the first attempt waits");
            };
            let Turn::After(outcome) = Turn::take(&opening, "https://a/".into()) else {
                panic!("the second attempt goes at once");
            };
            first.done(http2);
            drop(first);
            assert_eq!(*outcome.borrow(), heard);
            assert!(matches!(
                Turn::take(&opening, "https://a/".into()),
                Turn::First(_)
            ));
        }
    }

    #[test]
    fn a_first_attempt_dropped_before_it_ends_lets_the_others_connect() {
        let opening = opening();
        let first = Turn::take(&opening, "https://a/".into());
        let Turn::After(outcome) = Turn::take(&opening, "https://a/".into()) else {
            panic!("the second attempt goes at once");
        };
        drop(first);
        assert_eq!(*outcome.borrow(), Some(false));
    }

    #[test]
    fn only_a_url_is_taken_for_a_host() {
        assert_eq!(
            host_of(&"https://health.googleapis.com/").as_deref(),
            Some("\"https://health.googleapis.com/\"")
        );
        assert_eq!(host_of(&"Unnameable"), None);
    }
}

//! Talking to remote services: `http` is the glue every remote shares (the one client,
//! endpoint joining, retries, the status → error-kind defaults; `one_handshake` keeps a host
//! to one connection while HTTP/2 can carry every request), `oauth` the OAuth 2.0
//! protocol the providers share.

pub mod http;
mod loopback_ca;
pub mod oauth;
mod one_handshake;

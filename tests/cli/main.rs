//! Integration tests: the real binary, in a temporary HOME and XDG tree, against
//! loopback mock servers. One test binary, so it links once.

mod support;

mod config;
mod fitbit;
mod google;
mod templates;

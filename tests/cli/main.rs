//! Integration tests: the real binary, in a temporary HOME and XDG tree, against
//! loopback mock servers. One test binary, so it links once.

pub mod mocks;
mod support;

mod completions;
mod config;
mod fitbit;
mod google;
mod reliability;
mod run;
mod secrets;
mod sinks;
mod templates;
mod x;

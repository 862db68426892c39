//! Integration tests: the real binary, in a temporary HOME and XDG tree, against
//! loopback mock servers. One test binary, so it links once.
//!
//! `providers` and `sinks` are the contract suites: what every provider and every sink
//! promises, each test run against each mock. The other modules hold what is particular
//! to one command, provider or sink.

// public so that what only the benchmark (which includes the mocks by path) uses is
// not dead code here
pub mod mocks;

mod harness;
mod support;

mod architecture;
mod completions;
mod config;
mod doctor;
mod fitbit;
mod full_disk;
mod google;
mod https;
mod init;
mod monitoring;
mod notify;
mod oauth;
mod one_sink;
mod providers;
mod pty;
mod reliability;
mod run;
mod secrets;
mod sinks;
mod templates;
mod x;

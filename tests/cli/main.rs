//! Integration tests: the real binary, in a temporary HOME and XDG tree, against
//! loopback mock servers. One test binary, so it links once.

mod support;

mod completions;
mod config;
mod google;
mod run;
mod sinks;
mod templates;
mod x;

//! Logging for cron: one line per message on stderr, no timestamps (cron mail and the
//! journal add their own), silent on success unless `-v`.

use std::io::Write;

use log::LevelFilter;

pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, _) => LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(LevelFilter::Off)
        // only this crate's messages: dependencies' debug output can include request details
        .filter_module(env!("CARGO_CRATE_NAME"), level)
        .format(|out, record| {
            writeln!(
                out,
                "{}: {}",
                record.level().as_str().to_lowercase(),
                record.args()
            )
        })
        .init();
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{place}; this is a bug, please report it with the command you ran"
        );
    }));
}

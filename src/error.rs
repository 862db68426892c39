//! The error type every module returns at its boundary, and the exit status it maps to.
//!
//! Exit statuses are part of the interface: cron and systemd act on them.
//! 0 success, 2 usage (clap), 75 try later, 77 re-authorization needed,
//! 78 configuration error, 1 anything else.

use std::process::ExitCode;

/// What the caller (a person, cron or systemd) should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing will change by waiting; read the message.
    Other,
    /// Temporary: network, 5xx, 429, data not yet synced, another run holds the lock.
    TryLater,
    /// The stored authorization is no longer accepted; run `auth` again.
    Reauth,
    /// The config or credentials file is missing, malformed or unsafe.
    Config,
}

impl Kind {
    pub fn exit_status(self) -> u8 {
        match self {
            Kind::Other => 1,
            Kind::TryLater => 75,
            Kind::Reauth => 77,
            Kind::Config => 78,
        }
    }
}

/// A failure with its kind and a one-line message that says what happened and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: Kind,
    message: String,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    pub fn try_later(message: impl Into<String>) -> Self {
        Self::new(Kind::TryLater, message)
    }

    pub fn reauth(message: impl Into<String>) -> Self {
        Self::new(Kind::Reauth, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The exit status for an error that reached `main`: the kind of the first typed
/// error in the chain, or 1 when none is typed.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    ExitCode::from(kind_of(err).exit_status())
}

/// The kind of the first typed error in the chain, or `Other` when none is typed.
pub fn kind_of(err: &anyhow::Error) -> Kind {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .map_or(Kind::Other, Error::kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_documented_statuses() {
        assert_eq!(Kind::Other.exit_status(), 1);
        assert_eq!(Kind::TryLater.exit_status(), 75);
        assert_eq!(Kind::Reauth.exit_status(), 77);
        assert_eq!(Kind::Config.exit_status(), 78);
    }

    #[test]
    fn the_typed_error_is_found_under_context() {
        let err = anyhow::Error::new(Error::reauth("run auth again")).context("refreshing");
        assert_eq!(exit_code_for(&err), ExitCode::from(77));
        assert_eq!(exit_code_for(&anyhow::anyhow!("plain")), ExitCode::from(1));
    }
}

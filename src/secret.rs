//! A string that must never be printed: tokens, client secrets, API keys.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Holds a secret value. `Debug` and `Display` are redacted, so a secret cannot leak
/// through logging or error formatting; the value is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_do_not_reveal_the_value() {
        let secret = Secret::new("hunter2-token");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{secret}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-token");
    }

    #[test]
    fn serializes_as_a_plain_string() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            token: Secret,
        }
        let text = toml::to_string(&Holder {
            token: Secret::new("abc"),
        })
        .unwrap();
        assert_eq!(text.trim(), r#"token = "abc""#);
        let back: Holder = toml::from_str(&text).unwrap();
        assert_eq!(back.token.expose(), "abc");
    }
}

//! The authorization request: the scopes a provider is asked for, PKCE (S256) and an
//! unguessable `state`, and the URL the person opens to consent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use crate::secret::Secret;
use crate::store::credentials::OAuthCredentials;

/// A scope a provider is asked for, and what the summary loses without it.
#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    /// The string sent in the authorize request and returned in the token's `scope`.
    pub id: &'static str,
    /// As the consent screen names it, roughly.
    pub name: &'static str,
    pub provides: &'static str,
}

/// The requested scopes missing from `granted` (the user unticked them).
pub fn unticked<'a>(requested: &[&'a Scope], granted: &[String]) -> Vec<&'a Scope> {
    requested
        .iter()
        .copied()
        .filter(|scope| !granted.iter().any(|g| g == scope.id))
        .collect()
}

/// Whether a request under `scope` is worth sending: an empty list (a token response
/// without `scope`) means everything is tried and a refusal reported.
pub fn is_granted(creds: &OAuthCredentials, scope: &Scope) -> bool {
    creds.scopes.is_empty() || creds.scopes.iter().any(|s| s == scope.id)
}

/// A PKCE (RFC 7636) verifier and its S256 challenge.
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier of 32 random bytes (43 base64url characters, within 43..=128).
    pub fn generate() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Pkce {
            challenge: s256(&verifier),
            verifier: Secret::new(verifier),
        }
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`, the `S256` challenge method.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An unguessable `state` that ties the redirect to this run.
pub fn random_state() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// What goes into the authorize URL.
pub struct AuthorizeRequest<'a> {
    pub auth_url: &'a Url,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [&'a str],
    pub state: &'a str,
    pub pkce: &'a Pkce,
    /// Provider-specific parameters, e.g. `access_type=offline`.
    pub extra: &'a [(&'a str, &'a str)],
}

impl AuthorizeRequest<'_> {
    pub fn url(&self) -> Url {
        let mut url = self.auth_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id)
            .append_pair("redirect_uri", self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", self.state)
            .append_pair("code_challenge", self.pkce.challenge())
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(self.extra.iter());
        url
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636 appendix B
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert_eq!(pkce.verifier().expose().len(), 43);
        assert_eq!(pkce.challenge(), s256(pkce.verifier().expose()));
        assert_ne!(Pkce::generate().verifier(), pkce.verifier());
        assert_ne!(random_state(), random_state());
    }

    #[test]
    fn the_authorize_url_carries_pkce_state_scopes_and_extras() {
        let pkce = Pkce::generate();
        let auth_url = Url::parse("https://auth.example/authorize").unwrap();
        let url = AuthorizeRequest {
            auth_url: &auth_url,
            client_id: "cid",
            redirect_uri: "http://127.0.0.1:5000/",
            scopes: &["a.readonly", "b.readonly"],
            state: "st",
            pkce: &pkce,
            extra: &[("access_type", "offline")],
        }
        .url();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("scope"), "a.readonly b.readonly");
        assert_eq!(get("redirect_uri"), "http://127.0.0.1:5000/");
        assert_eq!(get("code_challenge"), pkce.challenge());
        assert_eq!(get("code_challenge_method"), "S256");
        assert_eq!(get("state"), "st");
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("access_type"), "offline");
    }
}

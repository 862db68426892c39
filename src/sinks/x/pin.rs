//! The PIN flow (OAuth 1.0a out-of-band): a request token, the page where the person
//! authorizes the app and sees a PIN, and the PIN exchanged for their access token.

use std::collections::HashMap;

use url::Url;

use super::client::*;
use super::errors::*;
use super::sign::*;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::secret::Secret;

/// X's documented API host, and the older one that still serves the OAuth 1.0a pages.
const X_API_HOST: &str = "api.x.com";
const TWITTER_API_HOST: &str = "api.twitter.com";

/// The app's consumer key and secret ("API Key and Secret" in the developer console).
#[derive(Debug, Clone)]
pub struct AppKeys {
    pub api_key: Secret,
    pub api_secret: Secret,
}

/// The temporary token of the PIN flow, good only until it is exchanged.
#[derive(Debug)]
pub struct RequestToken {
    token: String,
    secret: Secret,
}

/// The token the PIN flow mints for the account that entered the PIN.
#[derive(Debug)]
pub struct UserToken {
    pub access_token: Secret,
    pub access_token_secret: Secret,
    pub screen_name: Option<String>,
}

/// The form-encoded fields of a successful token answer.
pub(super) fn token_fields(reply: &Reply, unauthorized: &str) -> Result<HashMap<String, String>> {
    if !reply.status.is_success() {
        return Err(failure(reply, &Problem::parse(&reply.body), unauthorized));
    }
    Ok(url::form_urlencoded::parse(&reply.body)
        .into_owned()
        .collect())
}

pub(super) fn token_pair(
    fields: &mut HashMap<String, String>,
    endpoint: &str,
) -> Result<(String, Secret)> {
    match (
        fields.remove("oauth_token"),
        fields.remove("oauth_token_secret"),
    ) {
        (Some(token), Some(secret)) if !token.is_empty() && !secret.is_empty() => {
            Ok((token, Secret::new(secret)))
        }
        // the answer itself is not shown: it may hold half a token
        _ => Err(Error::other(format!(
            "X's answer to {endpoint} has no oauth_token and oauth_token_secret; try again later"
        ))),
    }
}

impl Client<'_> {
    /// Step 1 of the PIN flow: a request token for the out-of-band (PIN) callback.
    pub async fn request_token(&self, app: &AppKeys) -> Result<RequestToken> {
        let url = self.endpoint("oauth/request_token")?;
        log::info!("asking {url} for a request token");
        let reply = http::send(
            || request_token_request(self.http, app_secrets(app), fresh_params(), &url),
            self.retry(Retry::idempotent),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        let mut fields = token_fields(&reply, UNAUTHORIZED_APP)?;
        if fields.get("oauth_callback_confirmed").map(String::as_str) != Some("true") {
            return Err(Error::other(
                "X did not confirm the PIN callback (oauth_callback_confirmed) of oauth/request_token; \
                 check that the app has a callback URL set in the developer console, then run `fitbit-notifier auth x --pin` again",
            ));
        }
        let (token, secret) = token_pair(&mut fields, "oauth/request_token")?;
        Ok(RequestToken { token, secret })
    }

    /// Step 2: the page where the user authorizes the app and is shown the PIN, on the
    /// host X documents (`https://api.x.com/oauth/authorize`, xdevplatform/docs
    /// "Authentication API reference").
    pub fn authorize_url(&self, request: &RequestToken) -> Result<Url> {
        let mut url = self.endpoint("oauth/authorize")?;
        url.query_pairs_mut()
            .append_pair("oauth_token", &request.token);
        Ok(url)
    }

    /// The same page on `api.twitter.com`, for when the documented one cannot be used:
    /// one report (June 2026, not confirmed by any public source we found) has
    /// `api.x.com` answering "There is no request token" where `api.twitter.com`
    /// worked. `None` when `api_base` is not X's own host (a proxy or a test server).
    pub fn authorize_url_alternative(&self, request: &RequestToken) -> Result<Option<Url>> {
        let mut url = self.authorize_url(request)?;
        if url.scheme() != "https" || url.host_str() != Some(X_API_HOST) {
            return Ok(None);
        }
        url.set_host(Some(TWITTER_API_HOST))
            .map_err(|err| Error::other(format!("cannot build the api.twitter.com page: {err}")))?;
        Ok(Some(url))
    }

    /// Step 3: the PIN exchanged for the user's access token. Sent once only: a PIN is
    /// single-use, so a retry after a lost answer could only fail.
    pub async fn access_token(
        &self,
        app: &AppKeys,
        request: &RequestToken,
        pin: &str,
    ) -> Result<UserToken> {
        let url = self.endpoint("oauth/access_token")?;
        log::info!("exchanging the PIN at {url}");
        let secrets = || app_secrets(app).token(request.token.as_str(), request.secret.expose());
        let reply = http::send(
            || access_token_request(self.http, secrets(), fresh_params(), &url, pin),
            self.retry(Retry::never_repeated),
        )
        .await
        .map_err(|err| err.into_error(SERVICE))?;
        let mut fields = token_fields(&reply, UNAUTHORIZED_PIN)?;
        let (token, secret) = token_pair(&mut fields, "oauth/access_token")?;
        Ok(UserToken {
            access_token: Secret::new(token),
            access_token_secret: secret,
            screen_name: fields.remove("screen_name"),
        })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::config::Config;
    use crate::sinks::x::client::Client;
    use crate::sinks::x::sign::tests::url;

    #[test]
    fn keys_and_tokens_do_not_show_in_debug_output() {
        let shown = format!(
            "{:?} {:?} {:?}",
            AppKeys {
                api_key: Secret::new("hidden-key"),
                api_secret: Secret::new("hidden-secret"),
            },
            RequestToken {
                token: "request-token-is-public".into(),
                secret: Secret::new("hidden-request-secret"),
            },
            UserToken {
                access_token: Secret::new("hidden-token"),
                access_token_secret: Secret::new("hidden-token-secret"),
                screen_name: None,
            }
        );
        assert!(!shown.contains("hidden"), "{shown}");
    }

    #[test]
    fn endpoints_hang_under_the_base_with_or_without_a_slash() {
        let http = reqwest::Client::new();
        let mut config = Config::default();
        let x = Client::new(&http, &config);
        assert_eq!(
            x.endpoint("2/tweets").unwrap().as_str(),
            "https://api.x.com/2/tweets"
        );
        config.x.api_base = url("http://127.0.0.1:8080/proxy");
        let x = Client::new(&http, &config);
        assert_eq!(
            x.endpoint("oauth/request_token").unwrap().as_str(),
            "http://127.0.0.1:8080/proxy/oauth/request_token"
        );
        let token = RequestToken {
            token: "abc def".into(),
            secret: Secret::new("s"),
        };
        assert_eq!(
            x.authorize_url(&token).unwrap().as_str(),
            "http://127.0.0.1:8080/proxy/oauth/authorize?oauth_token=abc+def"
        );
        assert_eq!(x.authorize_url_alternative(&token).unwrap(), None);
    }

    /// The documented page (xdevplatform/docs `fundamentals/authentication/
    /// api-reference.mdx`: `https://api.x.com/oauth/authorize?oauth_token=…`) and its
    /// api.twitter.com alternative, with the same token.
    #[test]
    fn the_authorize_page_has_an_api_twitter_com_alternative() {
        let http = reqwest::Client::new();
        let config = Config::default();
        let x = Client::new(&http, &config);
        let token = RequestToken {
            token: "Z6eEdO8MOmk394WozF5oKyuAv855l4Mlqo7hhlSLik".into(),
            secret: Secret::new("s"),
        };
        assert_eq!(
            x.authorize_url(&token).unwrap().as_str(),
            "https://api.x.com/oauth/authorize?oauth_token=Z6eEdO8MOmk394WozF5oKyuAv855l4Mlqo7hhlSLik"
        );
        assert_eq!(
            x.authorize_url_alternative(&token)
                .unwrap()
                .unwrap()
                .as_str(),
            "https://api.twitter.com/oauth/authorize?oauth_token=Z6eEdO8MOmk394WozF5oKyuAv855l4Mlqo7hhlSLik"
        );
    }
}

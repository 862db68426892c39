//! OAuth 1.0a signing (reqwest-oauth1): which secrets sign which request, and the
//! requests themselves, so that what is signed is exactly what is sent.

use reqwest::Method;
use reqwest_oauth1::{DefaultSM, OAuthClientProvider, OAuthParameters, Secrets};
use serde::Serialize;
use url::Url;

use super::media::MediaId;
use super::pin::*;
use crate::sinks::Image;
use super::XCredentials;

pub(super) type Params<'a> = OAuthParameters<'a, DefaultSM>;
pub(super) type SignedRequest<'a> =
    reqwest_oauth1::RequestBuilder<reqwest_oauth1::Signer<'a, Secrets<'a>, DefaultSM>>;

/// The OAuth parameters of one request. The library draws a fresh nonce and timestamp for
/// each (every attempt of a retry is a new request); `oauth_version=1.0` is sent because
/// X's documentation says it "should always be 1.0".
pub(super) fn fresh_params<'a>() -> Params<'a> {
    OAuthParameters::new().version(true)
}

pub(super) fn app_secrets(app: &AppKeys) -> Secrets<'_> {
    Secrets::new(app.api_key.expose(), app.api_secret.expose())
}

pub(super) fn user_secrets(creds: &XCredentials) -> Secrets<'_> {
    Secrets::new(creds.api_key.expose(), creds.api_secret.expose()).token(
        creds.access_token.expose(),
        creds.access_token_secret.expose(),
    )
}

/// A request to be signed with `secrets`. The signature covers the method and exactly
/// this URL (scheme, host, port and path), which is therefore the URL that is sent.
pub(super) fn signed<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    method: Method,
    url: &Url,
) -> SignedRequest<'a> {
    client
        .clone()
        .oauth1_with_params(secrets, params)
        .request(method, url.clone())
}

/// Adds the Authorization header. reqwest-oauth1 can only fail here on `oauth_*`
/// parameters passed through the URL query or a form body, which this module never does.
pub(super) fn authorize(request: SignedRequest<'_>) -> reqwest::RequestBuilder {
    request
        .generate_signature()
        .expect("OAuth parameters are set only through OAuthParameters")
}

#[derive(Serialize)]
pub(super) struct CreatePost<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<PostMedia<'a>>,
}

#[derive(Serialize)]
struct PostMedia<'a> {
    media_ids: [&'a str; 1],
}

/// `POST /2/tweets`, with the uploaded image's id when there is one. The JSON body is not
/// part of the signature: OAuth 1.0a signs form bodies only, and X answers 401 when JSON
/// fields are signed.
pub(super) fn post_request<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    text: &str,
    media: Option<&MediaId>,
) -> reqwest::RequestBuilder {
    let body = CreatePost {
        text,
        media: media.map(|id| PostMedia {
            media_ids: [id.0.as_str()],
        }),
    };
    authorize(signed(client, secrets, params, Method::POST, url).json(&body))
}

/// `POST /2/media/upload`: the PNG as `media` and `media_category=tweet_image` in a
/// multipart body, which is not part of the signature (RFC 5849 §3.4.1.3 signs
/// form-urlencoded bodies only; reqwest-oauth1 passes a multipart body through unsigned).
pub(super) fn upload_request<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    image: &Image,
) -> reqwest::RequestBuilder {
    let form = reqwest::multipart::Form::new()
        .part("media", image.part())
        .text("media_category", "tweet_image");
    authorize(signed(client, secrets, params, Method::POST, url)).multipart(form)
}

/// `POST /2/media/metadata`: the alt text of an uploaded image, as JSON (unsigned, as
/// for a post).
pub(super) fn metadata_request<'a>(
    client: &reqwest::Client,
    secrets: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    media_id: &str,
    alt: &str,
) -> reqwest::RequestBuilder {
    let body = serde_json::json!({"id": media_id, "metadata": {"alt_text": {"text": alt}}});
    authorize(signed(client, secrets, params, Method::POST, url).json(&body))
}

pub(super) fn request_token_request<'a>(
    client: &reqwest::Client,
    app: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
) -> reqwest::RequestBuilder {
    authorize(signed(
        client,
        app,
        params.callback("oob"),
        Method::POST,
        url,
    ))
}

pub(super) fn access_token_request<'a>(
    client: &reqwest::Client,
    with_request_token: Secrets<'a>,
    params: Params<'a>,
    url: &Url,
    pin: &'a str,
) -> reqwest::RequestBuilder {
    authorize(signed(
        client,
        with_request_token,
        params.verifier(pin),
        Method::POST,
        url,
    ))
}

#[cfg(test)]
pub(super) mod tests {

    use super::*;

    // The credentials, nonce and timestamp of X's "Creating a signature" page.
    const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
    const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    const TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    const NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
    const TIMESTAMP: u64 = 1_318_622_958;

    fn fixed_params<'a>() -> Params<'a> {
        fresh_params().nonce(NONCE).timestamp(TIMESTAMP)
    }

    fn app<'a>() -> Secrets<'a> {
        Secrets::new(CONSUMER_KEY, CONSUMER_SECRET)
    }

    fn user<'a>() -> Secrets<'a> {
        app().token(TOKEN, TOKEN_SECRET)
    }

    pub(in crate::sinks::x) fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn authorization(request: reqwest::RequestBuilder) -> String {
        let request = request.build().unwrap();
        request.headers()["authorization"]
            .to_str()
            .unwrap()
            .to_string()
    }

    fn signature(request: reqwest::RequestBuilder) -> String {
        let header = authorization(request);
        let encoded = header
            .split(',')
            .find_map(|part| part.trim().strip_prefix("oauth_signature="))
            .unwrap()
            .trim_matches('"');
        percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap()
            .into_owned()
    }

    fn post(params: Params<'_>, endpoint: &str, text: &str) -> String {
        let client = reqwest::Client::new();
        signature(post_request(
            &client,
            user(),
            params,
            &url(endpoint),
            text,
            None,
        ))
    }

    #[test]
    fn the_official_vector_signs_as_documented() {
        let client = reqwest::Client::new();
        let endpoint = url("https://api.x.com/1.1/statuses/update.json");
        let request = signed(&client, user(), fixed_params(), Method::POST, &endpoint).form(&[
            ("include_entities", "true"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
        ]);
        assert_eq!(
            signature(authorize(request)),
            "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
        );
    }

    #[test]
    fn a_post_is_signed_without_its_json_body() {
        let endpoint = "https://api.x.com/2/tweets";
        assert_eq!(
            post(fixed_params(), endpoint, "Hello"),
            "lr+tV/DKclEvXKVjG6tgaSSLV0k="
        );
        assert_eq!(
            post(fixed_params(), endpoint, "歩数 8,532歩"),
            "lr+tV/DKclEvXKVjG6tgaSSLV0k="
        );
    }

    #[test]
    fn the_post_header_is_the_documented_one() {
        let client = reqwest::Client::new();
        let request = post_request(
            &client,
            user(),
            fixed_params(),
            &url("https://api.x.com/2/tweets"),
            "Hello",
            None,
        );
        assert_eq!(
            authorization(request),
            "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\",oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\",\
             oauth_signature_method=\"HMAC-SHA1\",oauth_timestamp=\"1318622958\",\
             oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\",oauth_version=\"1.0\",\
             oauth_signature=\"lr%2BtV%2FDKclEvXKVjG6tgaSSLV0k%3D\""
        );
    }

    #[test]
    fn neither_the_media_id_nor_a_multipart_upload_is_signed() {
        let client = reqwest::Client::new();
        let endpoint = url("https://api.x.com/2/tweets");
        let with_media = post_request(
            &client,
            user(),
            fixed_params(),
            &endpoint,
            "Hello",
            Some(&MediaId("1880028106020515840".into())),
        );
        let request = with_media.try_clone().unwrap().build().unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"text": "Hello", "media": {"media_ids": ["1880028106020515840"]}})
        );
        assert_eq!(signature(with_media), "lr+tV/DKclEvXKVjG6tgaSSLV0k=");
        // an upload signs as a request with no body parameters to the upload URL, so two
        // different images sign alike
        let upload = |png: &[u8]| {
            let image = Image::png(png.to_vec(), "a chart".into(), 1, 1).unwrap();
            signature(upload_request(
                &client,
                user(),
                fixed_params(),
                &url("https://api.x.com/2/media/upload"),
                &image,
            ))
        };
        assert_eq!(upload(b"one"), upload(b"two"));
        let bare = signed(
            &client,
            user(),
            fixed_params(),
            Method::POST,
            &url("https://api.x.com/2/media/upload"),
        );
        assert_eq!(upload(b"one"), signature(authorize(bare)));
    }

    #[test]
    fn the_version_and_the_host_are_signed() {
        assert_eq!(
            post(
                fixed_params().version(false),
                "https://api.x.com/2/tweets",
                "x"
            ),
            "reF2ZPx5diK0QwtAnP5Wwcg6yX8="
        );
        assert_eq!(
            post(fixed_params(), "https://api.twitter.com/2/tweets", "x"),
            "KW/bTR/89oblzvjn7CwP2L8j5qQ="
        );
    }

    #[test]
    fn the_pin_flow_requests_sign_as_derived() {
        let client = reqwest::Client::new();
        let request = request_token_request(
            &client,
            app(),
            fixed_params(),
            &url("https://api.x.com/oauth/request_token"),
        );
        assert_eq!(signature(request), "jc/VgbxSHtvlecdtQHT0gEuVfe0=");
        let request_token = app().token(
            "NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0",
            "veNRnAWe6inFuo8o2u8SLLZLjolYDmDP7SzL0YfYI",
        );
        let request = access_token_request(
            &client,
            request_token,
            fixed_params(),
            &url("https://api.x.com/oauth/access_token"),
            "4868795",
        );
        assert_eq!(signature(request), "zcT7O2IY4EbsAHgTfgacG6kZV4w=");
    }

    #[test]
    fn every_request_gets_a_fresh_nonce() {
        let client = reqwest::Client::new();
        let endpoint = url("https://api.x.com/2/tweets");
        let header = || {
            authorization(post_request(
                &client,
                user(),
                fresh_params(),
                &endpoint,
                "x",
                None,
            ))
        };
        let nonce = |header: String| {
            header
                .split(',')
                .find(|part| part.starts_with("oauth_nonce="))
                .unwrap()
                .to_string()
        };
        assert_ne!(nonce(header()), nonce(header()));
    }
}

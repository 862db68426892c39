//! An image on its way to each sink, against loopback mocks of the services: the upload,
//! then the post naming what was uploaded, with the alt text; and what each failure of a
//! step ends as (an error the next run retries, or the text alone with a warning).

use serde_json::{Value, json};
use test_case::test_case;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::config::Config;
use crate::day::MessageKind;
use crate::error::Kind;

const ALT: &str = "Steps, 7 days to 2026-11-29: mean 6,812; highest Thursday 11,204";
const MEDIA_ID: &str = "1880028106020515840";
const STATUS_MEDIA_ID: &str = "22348641";
const DISCORD_PATH: &str = "/api/webhooks/1234567/token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    X,
    Mastodon,
    Bluesky,
    Discord,
}

use Which::{Bluesky, Discord, Mastodon, X};

impl Which {
    fn upload_path(self) -> &'static str {
        match self {
            X => "/2/media/upload",
            Mastodon => "/api/v2/media",
            Bluesky => "/xrpc/com.atproto.repo.uploadBlob",
            Discord => DISCORD_PATH,
        }
    }

    fn post_path(self) -> &'static str {
        match self {
            X => "/2/tweets",
            Mastodon => "/api/v1/statuses",
            Bluesky => "/xrpc/com.atproto.repo.createRecord",
            Discord => DISCORD_PATH,
        }
    }

    fn kind(self) -> SinkKind {
        match self {
            X => SinkKind::X,
            Mastodon => SinkKind::Mastodon,
            Bluesky => SinkKind::Bluesky,
            Discord => SinkKind::Discord,
        }
    }
}

fn image() -> Image {
    Image::png(
        b"\x89PNG\r\n\x1a\nnot really".to_vec(),
        ALT.into(),
        1200,
        675,
    )
    .unwrap()
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/real/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A mock of `which` on which every step succeeds unless a test mounts another answer
/// first (mounted answers win over these, which have a low priority).
async fn service(which: Which) -> MockServer {
    let server = MockServer::start().await;
    let ok = |verb: &str, at: &str, response: ResponseTemplate| {
        Mock::given(method(verb))
            .and(path(at.to_string()))
            .respond_with(response)
            .with_priority(10)
    };
    let mocks = match which {
        X => vec![
            ok(
                "POST",
                "/2/media/upload",
                ResponseTemplate::new(200).set_body_json(fixture("x/media_upload_init_200.json")),
            ),
            ok(
                "POST",
                "/2/media/metadata",
                ResponseTemplate::new(200).set_body_json(
                    json!({"data": {"id": MEDIA_ID, "associated_metadata": {"alt_text": {"text": ALT}}}}),
                ),
            ),
            ok(
                "POST",
                "/2/tweets",
                ResponseTemplate::new(201).set_body_json(fixture("x/tweet_create_201.json")),
            ),
        ],
        Mastodon => vec![
            ok(
                "GET",
                "/api/v2/instance",
                ResponseTemplate::new(200).set_body_json(fixture("mastodon/instance_v2.json")),
            ),
            ok(
                "POST",
                "/api/v2/media",
                ResponseTemplate::new(200).set_body_json(fixture("mastodon/media_v2_200.json")),
            ),
            ok(
                "POST",
                "/api/v1/statuses",
                ResponseTemplate::new(200).set_body_json(fixture("mastodon/status.json")),
            ),
        ],
        Bluesky => vec![
            ok(
                "POST",
                "/xrpc/com.atproto.server.createSession",
                ResponseTemplate::new(200).set_body_json(json!({
                    "accessJwt": "jwt", "refreshJwt": "r", "handle": "walker.bsky.social", "did": "did:plc:walker"
                })),
            ),
            ok(
                "POST",
                "/xrpc/com.atproto.repo.uploadBlob",
                ResponseTemplate::new(200).set_body_json(fixture("bluesky/uploadBlob_200.json")),
            ),
            ok(
                "POST",
                "/xrpc/com.atproto.repo.createRecord",
                ResponseTemplate::new(200).set_body_json(fixture("bluesky/createRecord_200.json")),
            ),
        ],
        Discord => vec![ok(
            "POST",
            DISCORD_PATH,
            ResponseTemplate::new(200).set_body_json(fixture("discord/message.json")),
        )],
    };
    for mock in mocks {
        mock.mount(&server).await;
    }
    server
}

/// Answers `verb at` with `response` ahead of the service's own answers.
async fn first(server: &MockServer, verb: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at.to_string()))
        .respond_with(response)
        .with_priority(1)
        .mount(server)
        .await;
}

fn config(server: &MockServer) -> Config {
    toml::from_str(&format!(
        "[http]\nattempts = 2\ntimeout = 2\n\n[x]\napi_base = \"{uri}/\"\n\n[bluesky]\nservice = \"{uri}\"\n",
        uri = server.uri()
    ))
    .unwrap()
}

fn credentials(server: &MockServer) -> Credentials {
    toml::from_str(&format!(
        "[x]\napi_key = \"k\"\napi_secret = \"s\"\naccess_token = \"1-t\"\naccess_token_secret = \"ts\"\n\n\
         [mastodon]\ninstance = \"{uri}/\"\naccess_token = \"m\"\n\n\
         [bluesky]\nhandle = \"walker.bsky.social\"\napp_password = \"abcd-efgh-ijkl-mnop\"\n\n\
         [discord]\nwebhook_url = \"{uri}{DISCORD_PATH}\"\n",
        uri = server.uri()
    ))
    .unwrap()
}

/// Posts the week's message with `image` to `which` on `server`.
async fn post(which: Which, server: &MockServer, image: &Image) -> Result<Outcome> {
    let http = crate::net::http::client(&config(server).http).unwrap();
    let config = config(server);
    let sink = Sink::with_credentials(which.kind(), &http, &config, &credentials(server))
        .unwrap()
        .unwrap();
    let outgoing = Outgoing {
        date: "2026-11-29".parse().unwrap(),
        kind: MessageKind::Activity,
        text: "This week: 6,812 steps a day",
        image: Some(image),
    };
    sink.post(&outgoing).await
}

async fn requests(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.url.path() == at)
        .collect()
}

fn json_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The part named `name` of a multipart body, as text.
fn form_field(request: &Request, name: &str) -> Option<String> {
    let body = String::from_utf8_lossy(&request.body);
    let start = format!("name=\"{name}\"\r\n\r\n");
    let at = body.find(&start)? + start.len();
    let end = body[at..].find("\r\n--")?;
    Some(body[at..at + end].to_string())
}

/// Whether the post names the uploaded image (with its alt text where the post carries it).
async fn assert_post_has_the_image(which: Which, server: &MockServer, attached: bool) {
    let posts = requests(server, which.post_path()).await;
    let post = posts.last().expect("a post");
    match which {
        X => {
            let media = &json_of(post)["media"];
            if attached {
                assert_eq!(*media, json!({"media_ids": [MEDIA_ID]}));
                let metadata = requests(server, "/2/media/metadata").await;
                assert_eq!(
                    json_of(&metadata[0]),
                    json!({"id": MEDIA_ID, "metadata": {"alt_text": {"text": ALT}}})
                );
            } else {
                assert!(media.is_null(), "{media}");
            }
        }
        Mastodon => {
            let ids = &json_of(post)["media_ids"];
            if attached {
                assert_eq!(*ids, json!([STATUS_MEDIA_ID]));
            } else {
                assert!(ids.is_null(), "{ids}");
            }
        }
        Bluesky => {
            let embed = &json_of(post)["record"]["embed"];
            if attached {
                assert_eq!(
                    *embed,
                    json!({"$type": "app.bsky.embed.images", "images": [{
                        "image": fixture("bluesky/uploadBlob_200.json")["blob"],
                        "alt": ALT,
                        "aspectRatio": {"width": 1200, "height": 675}
                    }]})
                );
            } else {
                assert!(embed.is_null(), "{embed}");
            }
        }
        Discord => {
            if attached {
                let payload: Value =
                    serde_json::from_str(&form_field(post, "payload_json").unwrap()).unwrap();
                assert_eq!(
                    payload["attachments"],
                    json!([{"id": 0, "description": ALT, "filename": "week.png"}])
                );
                assert_eq!(payload["content"], "This week: 6,812 steps a day");
                assert!(contains(
                    &post.body,
                    b"name=\"files[0]\"; filename=\"week.png\"\r\nContent-Type: image/png"
                ));
            } else {
                assert_eq!(json_of(post)["content"], "This week: 6,812 steps a day");
                assert!(json_of(post)["attachments"].is_null());
            }
        }
    }
}

#[test_case(X)]
#[test_case(Mastodon)]
#[test_case(Bluesky)]
#[test_case(Discord)]
#[tokio::test]
async fn the_image_is_uploaded_then_the_post_names_it_with_its_alt_text(which: Which) {
    let server = service(which).await;
    let outcome = post(which, &server, &image()).await.unwrap();
    assert!(matches!(outcome, Outcome::New { .. }), "{outcome:?}");
    let uploads = requests(&server, which.upload_path()).await;
    let upload = &uploads[0];
    match which {
        X => {
            assert_eq!(form_field(upload, "media_category").unwrap(), "tweet_image");
            assert!(contains(
                &upload.body,
                b"name=\"media\"; filename=\"week.png\""
            ));
        }
        Mastodon => {
            assert_eq!(form_field(upload, "description").unwrap(), ALT);
            assert!(contains(
                &upload.body,
                b"name=\"file\"; filename=\"week.png\""
            ));
        }
        Bluesky => {
            assert_eq!(upload.headers["content-type"], "image/png");
            assert_eq!(upload.body, image().bytes());
        }
        Discord => {}
    }
    assert!(contains(&upload.body, image().bytes()), "{which:?}");
    assert_post_has_the_image(which, &server, true).await;
}

/// A server error on the upload: nothing is posted, and the run is to be retried (the
/// next run uploads again).
#[test_case(X)]
#[test_case(Mastodon)]
#[test_case(Bluesky)]
#[tokio::test]
async fn an_upload_that_fails_posts_nothing_and_is_tried_again(which: Which) {
    let server = service(which).await;
    first(
        &server,
        "POST",
        which.upload_path(),
        ResponseTemplate::new(503),
    )
    .await;
    let err = post(which, &server, &image()).await.unwrap_err();
    assert_eq!(err.kind(), Kind::TryLater, "{err}");
    assert_eq!(
        requests(&server, which.upload_path()).await.len(),
        2,
        "retried once"
    );
    assert!(requests(&server, which.post_path()).await.is_empty());
}

/// The upload succeeded and the post failed: where a repeat cannot post twice that is
/// no post (the caller records nothing) and the error is the post's; Bluesky cannot tell
/// a repeat, so its post may have landed and is never sent again.
#[test_case(X, false)]
#[test_case(Mastodon, false)]
#[test_case(Bluesky, true)]
#[tokio::test]
async fn a_post_that_fails_after_the_upload_is_no_post(which: Which, may_have_landed: bool) {
    let server = service(which).await;
    first(
        &server,
        "POST",
        which.post_path(),
        ResponseTemplate::new(503),
    )
    .await;
    match post(which, &server, &image()).await {
        Ok(Outcome::Unanswered(_)) if may_have_landed => {}
        Err(err) if !may_have_landed => assert_eq!(err.kind(), Kind::TryLater, "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&server, which.upload_path()).await.len(), 1);
    assert_post_has_the_image(which, &server, true).await;
}

/// A service that refuses the image itself gets the text alone.
#[test_case(X, "/2/media/upload", 400, json!({"title": "Invalid Request", "detail": "media type unsupported"}) ; "x refuses the upload")]
#[test_case(X, "/2/media/metadata", 400, json!({"title": "Invalid Request", "detail": "alt text"}) ; "x refuses the alt text")]
#[test_case(Mastodon, "/api/v2/media", 422, fixture("mastodon/media_error_422.json") ; "mastodon refuses the file")]
#[test_case(Mastodon, "/api/v2/media", 403, json!({"error": "This action is outside the authorized scopes"}) ; "mastodon token without write media")]
#[test_case(Bluesky, "/xrpc/com.atproto.repo.uploadBlob", 400, json!({"error": "BlobTooLarge", "message": "This file is too large"}) ; "bluesky refuses the blob")]
#[test_case(Discord, DISCORD_PATH, 413, json!({"message": "Request entity too large", "code": 40005}) ; "discord refuses the file")]
#[tokio::test]
async fn a_refused_image_leaves_the_text_alone(which: Which, at: &str, status: u16, body: Value) {
    let server = service(which).await;
    Mock::given(method("POST"))
        .and(path(at.to_string()))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let outcome = post(which, &server, &image()).await.unwrap();
    assert!(matches!(outcome, Outcome::New { .. }), "{outcome:?}");
    assert_post_has_the_image(which, &server, false).await;
}

/// Mastodon may answer 202 and process the upload: the status waits for it (206 while
/// processing, 200 when done), and goes without it if it never finishes in time.
#[test_case(1, true ; "processed after one poll")]
#[test_case(100, false ; "never processed")]
#[tokio::test]
async fn mastodon_waits_a_bounded_time_for_processing(polls: u64, attached: bool) {
    let server = service(Mastodon).await;
    first(
        &server,
        "POST",
        "/api/v2/media",
        ResponseTemplate::new(202).set_body_json(fixture("mastodon/media_v2_202.json")),
    )
    .await;
    let media = format!("/api/v1/media/{STATUS_MEDIA_ID}");
    Mock::given(method("GET"))
        .and(path(media.clone()))
        .respond_with(
            ResponseTemplate::new(206).set_body_json(fixture("mastodon/media_v2_202.json")),
        )
        .up_to_n_times(polls)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(media.clone()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("mastodon/media_v2_200.json")),
        )
        .with_priority(5)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let outcome = post(Mastodon, &server, &image()).await.unwrap();
    assert!(matches!(outcome, Outcome::New { .. }), "{outcome:?}");
    // the bound is `[http] timeout`, 2 s here
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_post_has_the_image(Mastodon, &server, attached).await;
}

/// Where a service's alt-text limit is below the description, the image stays home rather
/// than go with a cut one; images over Bluesky's 1 MB are not sent.
#[test_case(X, 1001 ; "x over 1000")]
#[test_case(Discord, 1025 ; "discord over 1024")]
#[test_case(Mastodon, 1501 ; "mastodon over the instance's 1500")]
#[tokio::test]
async fn a_description_over_the_limit_keeps_the_image_home(which: Which, length: usize) {
    let server = service(which).await;
    let long = Image::png(b"png".to_vec(), "a".repeat(length), 1200, 675).unwrap();
    post(which, &server, &long).await.unwrap();
    if which != Discord {
        assert!(requests(&server, which.upload_path()).await.is_empty());
    }
    assert_post_has_the_image(which, &server, false).await;
}

#[tokio::test]
async fn an_image_over_a_megabyte_is_not_sent_to_bluesky() {
    let server = service(Bluesky).await;
    let large = Image::png(vec![0; 1_000_001], ALT.into(), 1200, 675).unwrap();
    post(Bluesky, &server, &large).await.unwrap();
    assert!(requests(&server, Bluesky.upload_path()).await.is_empty());
    assert_post_has_the_image(Bluesky, &server, false).await;
}

#[test]
fn there_is_no_image_without_alt_text() {
    assert!(Image::png(b"png".to_vec(), " \n".into(), 1, 1).is_none());
    assert!(Image::png(b"png".to_vec(), String::new(), 1, 1).is_none());
    let image = Image::png(vec![1; 5000], "a chart".into(), 1, 1).unwrap();
    assert_eq!(
        format!("{image:?}"),
        "Image(5000 bytes of PNG, 1x1, alt \"a chart\")"
    );
}

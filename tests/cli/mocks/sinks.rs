//! Loopback Mastodon, Bluesky and the Discord and Slack webhooks, as the tests and the
//! benchmark use them: the stored credentials that point at them and their answers of
//! success (the shapes are the services' documented ones; see tests/cli/sinks.rs).

use serde_json::json;
use wiremock::ResponseTemplate;

pub const MASTODON_TOKEN: &str = "mastodon-token-Qx81vT";
pub const STATUS_ID: &str = "109348573495";
pub const BLUESKY_HANDLE: &str = "walker.bsky.social";
pub const BLUESKY_PASSWORD: &str = "abcd-2fgh-ijk3-mnop";
pub const BLUESKY_DID: &str = "did:plc:walker7xq";
pub const ACCESS_JWT: &str = "bluesky-access-jwt-Ms4q";
pub const REFRESH_JWT: &str = "bluesky-refresh-jwt-Hn2w";
pub const RECORD_URI: &str = "at://did:plc:walker7xq/app.bsky.feed.post/3k4duaz5vfs2b";
pub const DISCORD_PATH: &str = "/api/webhooks/1234567/discord-webhook-token-Zp9";
pub const DISCORD_MESSAGE_ID: &str = "1187654321098765432";
pub const SLACK_PATH: &str = "/services/T0001/B0001/slack-webhook-secret-Yk2";

pub const CREATE_SESSION: &str = "/xrpc/com.atproto.server.createSession";
pub const CREATE_RECORD: &str = "/xrpc/com.atproto.repo.createRecord";
pub const UPLOAD_BLOB: &str = "/xrpc/com.atproto.repo.uploadBlob";
pub const STATUSES: &str = "/api/v1/statuses";
pub const MASTODON_MEDIA: &str = "/api/v2/media";

/// The `credentials.toml` sections of Mastodon, Bluesky, Discord and Slack, for mocks at
/// these origins (Bluesky's service is named in the config, `[bluesky] service`).
pub fn credentials(mastodon: &str, discord: &str, slack: &str) -> String {
    format!(
        "[mastodon]\ninstance = \"{mastodon}/\"\naccess_token = \"{MASTODON_TOKEN}\"\n\n\
         [bluesky]\nhandle = \"{BLUESKY_HANDLE}\"\napp_password = \"{BLUESKY_PASSWORD}\"\n\n\
         [discord]\nwebhook_url = \"{discord}{DISCORD_PATH}\"\n\n[slack]\nwebhook_url = \"{slack}{SLACK_PATH}\"\n"
    )
}

pub fn status_created() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": STATUS_ID,
        "url": format!("https://mastodon.example/@walker/{STATUS_ID}"),
        "created_at": "2026-11-26T07:30:00.000Z",
        "content": "<p>…</p>"
    }))
}

pub fn session_created() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "accessJwt": ACCESS_JWT, "refreshJwt": REFRESH_JWT,
        "handle": BLUESKY_HANDLE, "did": BLUESKY_DID, "active": true
    }))
}

pub fn record_created() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"uri": RECORD_URI, "cid": "bafyreib2rxk3ryblouj3fxza5jvx6psmwewwessc4m6g6e7pqhhkwqomfi"}))
}

pub fn message_saved() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": DISCORD_MESSAGE_ID, "type": 0, "channel_id": "1100000000000000000", "content": "…"
    }))
}

pub fn slack_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string("ok")
}

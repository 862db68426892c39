//! What the daily run does beyond one day to X: the range fetch (`fetch --days N`), the
//! weekly day with its chart and three alerts, and five enabled sinks. Every mock answers
//! after the same latency as the day's table: Google serving any range
//! (tests/cli/mocks/google_days.rs), X checking signatures, Mastodon, Bluesky and the
//! Discord and Slack webhooks (tests/cli/mocks/sinks.rs).

use std::fs;
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::mocks::google::{DAY, OLD_TOKEN, valid_credentials};
use super::mocks::google_days;
use super::mocks::server;
use super::mocks::sinks::{
    self as sink_mocks, CREATE_RECORD, CREATE_SESSION, DISCORD_PATH, MASTODON_MEDIA, SLACK_PATH,
    STATUSES, UPLOAD_BLOB, message_saved, record_created, session_created, slack_ok,
    status_created,
};
use super::mocks::x::{ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, MockX, created};
use super::support::TestEnv;
use super::{Settings, Spread, header, result_row, timed};

/// DAY (2026-11-25) is a Wednesday: the weekly post's day. Three alerts, each of which
/// the mock's numbers set off (6.6 to 6.75 hours of sleep, 9,000 steps and more, a resting
/// heart rate of 73 to 75), so that each posts its message: one over the 28 days that set
/// the range, one over 7 and one over 3.
const WEEKLY_AND_ALERTS: &str = "[weekly]\nday = \"wednesday\"\n\n\
    [[alerts]]\nname = \"short sleep\"\nmetric = \"sleep_hours\"\ndays = 7\nbelow = 7.0\n\n\
    [[alerts]]\nname = \"few steps\"\nmetric = \"steps\"\ndays = 28\nbelow = 10000\n\n\
    [[alerts]]\nname = \"high resting heart rate\"\nmetric = \"resting_heart_rate\"\ndays = 3\nabove = 70\n";

/// One scenario: the command, the config it adds, and its bound in rounds.
struct Case {
    name: String,
    args: Vec<String>,
    enabled: &'static [&'static str],
    config: &'static str,
    /// The requests that must follow each other (see `cases`).
    rounds: u32,
}

/// The most sleep sessions the API gives in one page (its documented cap).
const SLEEP_PAGE: u32 = 25;

/// The data of `days` days: one concurrent round, and one more for each further page of
/// sleep, the only list whose pages a range can fill (the mock pages as the API does).
fn data_rounds(days: u32) -> u32 {
    days.div_ceil(SLEEP_PAGE)
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::from([1, 7, 28].map(|days| {
        Case {
            name: format!("fetch --days {days}"),
            args: [
                "fetch",
                "--days",
                &days.to_string(),
                "--date",
                DAY,
                "--json",
            ]
            .map(String::from)
            .to_vec(),
            enabled: &["x"],
            config: "",
            rounds: data_rounds(days),
        }
    }));
    cases.push(Case {
        name: "weekly + 3 alerts".into(),
        args: ["run", "--date", DAY].map(String::from).to_vec(),
        enabled: &["x"],
        config: WEEKLY_AND_ALERTS,
        // data (28 days for the longest alert); then on X one after the other: the
        // day's two posts, the chart's upload and its alt text, the week's post, the
        // three alerts
        rounds: data_rounds(28) + 2 + 3 + 3,
    });
    cases.push(Case {
        name: "five sinks".into(),
        args: ["run", "--date", DAY].map(String::from).to_vec(),
        enabled: &["x", "mastodon", "bluesky", "discord", "slack"],
        config: "",
        // data; then the sinks at once, the longest being Bluesky's session and its two
        // posts (Mastodon's instance limits need nothing before them)
        rounds: data_rounds(1) + 3,
    });
    cases.push(Case {
        name: "five sinks, weekly + 3 alerts".into(),
        args: ["run", "--date", DAY].map(String::from).to_vec(),
        enabled: &["x", "mastodon", "bluesky", "discord", "slack"],
        config: WEEKLY_AND_ALERTS,
        // data; then the longest sink, X or Bluesky: two day posts, two requests before
        // the week's post (X: upload and alt text; Bluesky: its session and the blob),
        // the week's post, three alerts
        rounds: data_rounds(28) + 2 + 2 + 1 + 3,
    });
    cases
}

/// Requests by kind, over every mock.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Kinds {
    data: u32,
    /// Mastodon's `GET /api/v2/instance` (its length limit) and Bluesky's session.
    setup: u32,
    upload: u32,
    post: u32,
    /// Anything else: a request no scenario should make.
    other: u32,
}

impl Kinds {
    fn text(self) -> String {
        let mut text = format!("{}/{}/{}/{}", self.data, self.setup, self.upload, self.post);
        if self.other > 0 {
            text.push_str(&format!(" +{} other!", self.other));
        }
        text
    }
}

struct World {
    google: MockServer,
    x: MockX,
    mastodon: MockServer,
    bluesky: MockServer,
    discord: MockServer,
    slack: MockServer,
}

impl World {
    async fn start(latency: Duration) -> Self {
        let (google, x, mastodon, bluesky, discord, slack) = tokio::join!(
            server::start(),
            MockX::start(),
            server::start(),
            server::start(),
            server::start(),
            server::start()
        );
        google_days::mount_after(&google, OLD_TOKEN, latency).await;
        x.answer_posts(created().set_delay(latency), None).await;
        x.answer_uploads(latency).await;
        let instance = ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "domain": "mastodon.example",
            "configuration": {"statuses": {"max_characters": 500, "characters_reserved_per_url": 23}}
        }));
        for (server, verb, at, answer) in [
            (&mastodon, "GET", "/api/v2/instance", instance),
            (&mastodon, "POST", STATUSES, status_created()),
            (&bluesky, "POST", CREATE_SESSION, session_created()),
            (&bluesky, "POST", CREATE_RECORD, record_created()),
            (&discord, "POST", DISCORD_PATH, message_saved()),
            (&slack, "POST", SLACK_PATH, slack_ok()),
        ] {
            Mock::given(method(verb))
                .and(path(at))
                .respond_with(answer.set_delay(latency))
                .mount(server)
                .await;
        }
        World {
            google,
            x,
            mastodon,
            bluesky,
            discord,
            slack,
        }
    }

    fn servers(&self) -> [&MockServer; 6] {
        [
            &self.google,
            &self.x.server,
            &self.mastodon,
            &self.bluesky,
            &self.discord,
            &self.slack,
        ]
    }

    async fn received(&self) -> Vec<Vec<Request>> {
        let mut all = Vec::new();
        for server in self.servers() {
            all.push(server.received_requests().await.unwrap());
        }
        all
    }

    /// Fresh files for `case`: its config, every sink's credentials, no state (so every
    /// message and alert is new).
    fn prepare(&self, env: &TestEnv, case: &Case) {
        let enabled: Vec<String> = case.enabled.iter().map(|s| format!("\"{s}\"")).collect();
        env.write_config(&format!(
            "timezone = \"Europe/Berlin\"\nlocale = \"en\"\n\n\
             [google_health]\napi_base = \"{g}/v4/\"\nauth_url = \"{g}/auth\"\ntoken_url = \"{g}/token\"\n\n\
             [x]\napi_base = \"{x}/\"\n\n[bluesky]\nservice = \"{b}\"\n\n[sinks]\nenabled = [{enabled}]\n\n{extra}",
            g = self.google.uri(),
            x = self.x.uri(),
            b = self.bluesky.uri(),
            enabled = enabled.join(", "),
            extra = case.config
        ));
        env.write_credentials(&format!(
            "{}\n[x]\napi_key = \"{API_KEY}\"\napi_secret = \"{API_SECRET}\"\n\
             access_token = \"{ACCESS_TOKEN}\"\naccess_token_secret = \"{ACCESS_TOKEN_SECRET}\"\n\n{}",
            valid_credentials(),
            sink_mocks::credentials(&self.mastodon.uri(), &self.discord.uri(), &self.slack.uri())
        ));
        let _ = fs::remove_file(env.state_path());
    }

    /// Runs `case` once: its wall time, peak RSS and requests by kind.
    async fn sample(&self, env: &TestEnv, case: &Case) -> (Duration, u64, Kinds) {
        self.prepare(env, case);
        let before: Vec<usize> = self.received().await.iter().map(Vec::len).collect();
        let mut cmd = env.std_cmd();
        cmd.args(&case.args);
        let (wall, peak, output) = timed(cmd);
        if !output.status.success() {
            panic!(
                "`fitbit-notifier {}` failed ({}): {}",
                case.args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut kinds = Kinds::default();
        for (server, requests) in self.received().await.into_iter().enumerate() {
            for request in &requests[before[server]..] {
                let counter = match (server, request.url.path()) {
                    (0, _) => &mut kinds.data,
                    (1, "/2/tweets") | (2, STATUSES) | (3, CREATE_RECORD) | (4 | 5, _) => {
                        &mut kinds.post
                    }
                    (1, "/2/media/upload" | "/2/media/metadata")
                    | (2, MASTODON_MEDIA)
                    | (3, UPLOAD_BLOB) => &mut kinds.upload,
                    (2, "/api/v2/instance") | (3, CREATE_SESSION) => &mut kinds.setup,
                    _ => &mut kinds.other,
                };
                *counter += 1;
            }
        }
        (wall, peak, kinds)
    }
}

/// The table of the range fetch, the weekly day and five sinks; returns the worst ratio.
pub async fn measure(settings: &Settings) -> f64 {
    let world = World::start(settings.latency).await;
    let env = TestEnv::new();
    println!(
        "\nbeyond one day to X (a config `timezone`, so no zone request; Google serves any \
         range and pages as the API does):\n"
    );
    header("data/setup/upload/post");
    let mut worst: f64 = 0.0;
    for case in cases() {
        let mut samples = Vec::new();
        for _ in 0..settings.runs {
            samples.push(world.sample(&env, &case).await);
        }
        let bound = settings.latency * case.rounds;
        let walls = Spread::of(samples.iter().map(|s| s.0).collect());
        let kinds = samples[0].2;
        let requests = if samples.iter().all(|s| s.2 == kinds) {
            kinds.text()
        } else {
            "varies between runs".to_string()
        };
        let peak = samples.iter().map(|s| s.1).max().unwrap();
        let ratio = result_row(&case.name, case.rounds, bound, &walls, requests, peak);
        worst = worst.max(ratio);
    }
    println!(
        "\nsetup = Mastodon's instance limits and Bluesky's session; bound = {} ms x rounds",
        settings.latency.as_millis()
    );
    println!("worst median/bound beyond one day: {worst:.2}");
    worst
}

//! The daily job against loopback mocks of Google Health and X that answer every request
//! after a fixed latency: wall time against the critical-path bound, requests by kind,
//! peak memory, binary size and cold start of the release binary.
//!
//! `cargo bench --bench run` (README, "Performance"). Settings, from the environment:
//! `BENCH_LATENCY_MS` (100) per request, `BENCH_RUNS` (10) per scenario,
//! `BENCH_HELP_RUNS` (50) of `--help`, `BENCH_PAGES` (1): the pages Google splits a day
//! of minute-level basal energy into, each a request that must wait for the one before.
//!
//! Then (`run/world.rs`) `fetch --days 1, 7, 28`, the weekly day with its chart and three
//! alerts, five enabled sinks, and both at once, against their bounds, with requests by
//! kind (data, setup, upload, post).
//!
//! Then the same over HTTPS (`run/tls.rs`): a TLS proxy per host (token, API, X) that
//! counts handshakes and charges a new connection two round trips, with the server
//! offering HTTP/2 and then HTTP/1.1 only, at each of `BENCH_TLS_LATENCIES` (20,100,300)
//! ms, `BENCH_TLS_RUNS` (9) runs per scenario; `BENCH_TLS_LATENCIES=none` skips it.

/// The tests' mocks of Google and X.
#[path = "../tests/cli/mocks"]
pub mod mocks {
    pub mod google;
    pub mod google_days;
    pub mod partial;
    pub mod server;
    pub mod sinks;
    pub mod tls;
    pub mod x;
}
#[path = "../tests/cli/support.rs"]
mod support;
#[path = "run/world.rs"]
mod world;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use mocks::google::{
    ALL_SCOPES, DAY, Day, NEW_TOKEN, OLD_TOKEN, basal_minutes, expired_credentials, fixture,
    token_body, valid_credentials,
};
use mocks::tls::{HANDSHAKE_ROUND_TRIPS, Protocols, TestCa, TlsFront};
use mocks::x::{ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, MockX, created};
use support::TestEnv;

/// The messages a standard day renders to, posted one after the other.
const MESSAGES: u32 = 2;
/// About 1561 kcal a day, a minute at a time.
const BASAL_KCAL_PER_MINUTE: f64 = 1.084;

struct Settings {
    latency: Duration,
    runs: usize,
    help_runs: usize,
    pages: u32,
    tls_latencies: Vec<Duration>,
    tls_runs: usize,
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            latency: Duration::from_millis(env_number("BENCH_LATENCY_MS", 100)),
            runs: env_number("BENCH_RUNS", 10).max(1) as usize,
            help_runs: env_number("BENCH_HELP_RUNS", 50).max(1) as usize,
            pages: env_number("BENCH_PAGES", 1).max(1) as u32,
            tls_latencies: tls_latencies(),
            tls_runs: env_number("BENCH_TLS_RUNS", 9).max(1) as usize,
        }
    }
}

fn tls_latencies() -> Vec<Duration> {
    let text = std::env::var("BENCH_TLS_LATENCIES").unwrap_or_else(|_| "20,100,300".into());
    if text == "none" {
        return Vec::new();
    }
    text.split(',')
        .map(|ms| {
            let ms = ms.trim().parse().unwrap_or_else(|_| {
                panic!("BENCH_TLS_LATENCIES={text:?} is not a list of whole numbers or none")
            });
            Duration::from_millis(ms)
        })
        .collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
        Err(_) => default,
    }
}

/// One way the daily job can find things; the files are reset before every run.
struct Scenario {
    name: &'static str,
    dry_run: bool,
    /// The stored Google access token has expired: one refresh comes first.
    expired_token: bool,
    /// No state file yet: the account's time zone is asked for before the data, a
    /// round of its own (then cached); a cached zone is asked for in the data round.
    first_run: bool,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "dry run",
        dry_run: true,
        expired_token: false,
        first_run: false,
    },
    Scenario {
        name: "post",
        dry_run: false,
        expired_token: false,
        first_run: false,
    },
    Scenario {
        name: "post, expired token",
        dry_run: false,
        expired_token: true,
        first_run: false,
    },
    Scenario {
        name: "post, first run",
        dry_run: false,
        expired_token: false,
        first_run: true,
    },
];

impl Scenario {
    /// The rounds of requests that must follow each other: the token refresh, the time
    /// zone (which decides the day), the concurrent data round and the pages that follow
    /// its longest list, then each post (in message order).
    fn rounds(&self, pages: u32) -> Counts {
        Counts {
            token: self.expired_token.into(),
            zone: self.first_run.into(),
            data: pages,
            posts: if self.dry_run { 0 } else { MESSAGES },
        }
    }

    /// The hosts connected to one after the other: the token endpoint (when the token
    /// has expired), the API (the time zone and the data share it), X (when posting).
    fn hosts(&self) -> u32 {
        u32::from(self.expired_token) + 1 + u32::from(!self.dry_run)
    }

    fn args(&self) -> Vec<&'static str> {
        let mut args = vec!["run", "--date", DAY];
        if self.dry_run {
            args.push("--dry-run");
        }
        args
    }

    /// Fresh files: an empty ledger (so the posts happen), the zone cached unless this
    /// is a first run, and the access token as the scenario needs it.
    fn prepare(&self, env: &TestEnv) {
        let google = if self.expired_token {
            expired_credentials(1)
        } else {
            valid_credentials()
        };
        env.write_credentials(&format!(
            "{google}\n[x]\napi_key = \"{API_KEY}\"\napi_secret = \"{API_SECRET}\"\n\
             access_token = \"{ACCESS_TOKEN}\"\naccess_token_secret = \"{ACCESS_TOKEN_SECRET}\"\n"
        ));
        let state = env.state_path();
        let _ = fs::remove_file(&state);
        if !self.first_run {
            fs::create_dir_all(state.parent().unwrap()).unwrap();
            fs::write(&state, "account_timezone = \"Europe/Berlin\"\n").unwrap();
        }
    }
}

/// Requests by kind, or rounds by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    token: u32,
    zone: u32,
    data: u32,
    posts: u32,
}

impl Counts {
    fn of(google: &[Request], x: &[Request]) -> Self {
        let mut counts = Counts::default();
        for request in google {
            match request.url.path() {
                "/token" => counts.token += 1,
                "/v4/users/me/settings" => counts.zone += 1,
                _ => counts.data += 1,
            }
        }
        counts.posts = x.len() as u32;
        counts
    }

    fn total(self) -> u32 {
        self.token + self.zone + self.data + self.posts
    }
}

/// One run of the binary.
struct Sample {
    wall: Duration,
    peak_rss_kib: u64,
    requests: Counts,
    /// Over HTTPS: the handshakes with the token endpoint, the API and X, and how many
    /// of them agreed on HTTP/2.
    handshakes: [(u32, u32); 3],
}

/// The TLS proxies in front of the mocks, one per host the real services use.
struct Fronts {
    token: TlsFront,
    api: TlsFront,
    x: TlsFront,
    ca_file: PathBuf,
}

impl Fronts {
    fn handshakes(&self) -> [(u32, u32); 3] {
        [&self.token, &self.api, &self.x].map(TlsFront::handshakes)
    }
}

struct Mocks {
    google: MockServer,
    x: MockX,
    fronts: Option<Fronts>,
}

impl Mocks {
    /// Google and X, each answering after `latency`: the standard day (a day of basal
    /// energy in `pages` pages) for the stored and for the refreshed token, the token
    /// endpoint, the settings, and every post; with `tls`, behind a TLS proxy per host.
    async fn start(latency: Duration, pages: u32, tls: Option<(&TestCa, Protocols)>) -> Self {
        let google = mocks::server::start().await;
        for token in [OLD_TOKEN, NEW_TOKEN] {
            let mut day = Day::standard();
            day.basal_pages = basal_minutes(BASAL_KCAL_PER_MINUTE, pages as usize);
            day.delay = latency;
            day.mount(&google, token).await;
        }
        let refreshed = token_body(NEW_TOKEN, None, &ALL_SCOPES.join(" "));
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(refreshed.set_delay(latency))
            .mount(&google)
            .await;
        let settings = ResponseTemplate::new(200).set_body_json(fixture("settings.json"));
        Mock::given(method("GET"))
            .and(path("/v4/users/me/settings"))
            .respond_with(settings.set_delay(latency))
            .mount(&google)
            .await;
        let x = MockX::start().await;
        let fronts = tls.map(|(ca, protocols)| Fronts {
            token: TlsFront::start(ca, protocols, *google.address(), latency),
            api: TlsFront::start(ca, protocols, *google.address(), latency),
            x: TlsFront::start(ca, protocols, *x.server.address(), latency),
            ca_file: ca.pem_file.clone(),
        });
        // X signs the URL the client sent to, which is the proxy's when there is one
        let x_origin = fronts.as_ref().map_or_else(|| x.uri(), |f| f.x.origin());
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(x.signed_at(&x_origin))
            .respond_with(created().set_delay(latency))
            .mount(&x.server)
            .await;
        Mocks { google, x, fronts }
    }

    /// A home whose config points every endpoint here and names no time zone, so the
    /// account's is used.
    fn env(&self) -> TestEnv {
        let env = TestEnv::new();
        let (api, token, x, http) = match &self.fronts {
            Some(f) => (
                f.api.origin(),
                f.token.origin(),
                f.x.origin(),
                format!("[http]\nextra_root_ca = \"{}\"\n\n", f.ca_file.display()),
            ),
            None => (
                self.google.uri(),
                self.google.uri(),
                self.x.uri(),
                String::new(),
            ),
        };
        env.write_config(&format!(
            "{http}[google_health]\napi_base = \"{api}/v4/\"\nauth_url = \"{api}/auth\"\n\
             token_url = \"{token}/token\"\n\n[x]\napi_base = \"{x}/\"\n"
        ));
        env
    }

    async fn received(&self) -> (Vec<Request>, Vec<Request>) {
        let google = self.google.received_requests().await.unwrap();
        (google, self.x.requests().await)
    }

    /// Runs the binary once in `env` and measures it.
    async fn sample(&self, env: &TestEnv, scenario: &Scenario) -> Sample {
        scenario.prepare(env);
        let (google_before, x_before) = self.received().await;
        let handshakes_before = self.fronts.as_ref().map(Fronts::handshakes);
        let mut cmd = env.std_cmd();
        cmd.args(scenario.args());
        let (wall, peak_rss_kib, output) = timed(cmd);
        if !output.status.success() {
            panic!(
                "`fitbit-notifier {}` failed ({}): {}",
                scenario.args().join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let (google, x) = self.received().await;
        let handshakes = match (&self.fronts, handshakes_before) {
            (Some(fronts), Some(before)) => {
                let after = fronts.handshakes();
                std::array::from_fn(|i| (after[i].0 - before[i].0, after[i].1 - before[i].1))
            }
            _ => [(0, 0); 3],
        };
        Sample {
            wall,
            peak_rss_kib,
            requests: Counts::of(&google[google_before.len()..], &x[x_before.len()..]),
            handshakes,
        }
    }
}

/// Runs `cmd` to its end: the wall time from spawn to exit, the peak resident set
/// (VmHWM) sampled from /proc every millisecond while it runs, and its output.
fn timed(mut cmd: Command) -> (Duration, u64, std::process::Output) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd.spawn().expect("cannot start the binary");
    let status = format!("/proc/{}/status", child.id());
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        // VmHWM only grows, so the last reading before the exit is the peak
        thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                match fs::read_to_string(&status).ok().as_deref().and_then(vm_hwm) {
                    Some(kib) => peak = peak.max(kib),
                    None => break,
                }
                thread::sleep(Duration::from_millis(1));
            }
            peak
        })
    };
    let output = child
        .wait_with_output()
        .expect("cannot wait for the binary");
    let wall = started.elapsed();
    done.store(true, Ordering::Relaxed);
    (wall, sampler.join().unwrap(), output)
}

/// The `VmHWM:   1234 kB` line of /proc/<pid>/status, absent once the process has exited.
fn vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The median and the extremes of some wall times.
struct Spread {
    median: Duration,
    min: Duration,
    max: Duration,
}

impl Spread {
    fn of(mut walls: Vec<Duration>) -> Self {
        walls.sort();
        let mid = walls.len() / 2;
        let median = if walls.len().is_multiple_of(2) {
            (walls[mid - 1] + walls[mid]) / 2
        } else {
            walls[mid]
        };
        Spread {
            median,
            min: walls[0],
            max: walls[walls.len() - 1],
        }
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// `token/zone/data/posts`, with `!` after a count of refreshes, zones or posts that
/// is not what the scenario needs. The config names no zone, so every run asks for the
/// account's once (a round of its own only on the first run).
fn requests_text(requests: Counts, rounds: Counts) -> String {
    let mark = |got: u32, needed: u32| if got == needed { "" } else { "!" };
    const ZONE_REQUESTS: u32 = 1;
    format!(
        "{}{}/{}{}/{}/{}{}",
        requests.token,
        mark(requests.token, rounds.token),
        requests.zone,
        mark(requests.zone, ZONE_REQUESTS),
        requests.data,
        requests.posts,
        mark(requests.posts, rounds.posts)
    )
}

/// The two header lines of a table of scenarios; `requests` names the request kinds.
fn header(requests: &str) {
    row(&[
        "scenario", "rounds", "bound", "median", "min", "max", "ratio", "requests", "peak RSS",
    ]
    .map(String::from));
    row(&["", "", "ms", "ms", "ms", "ms", "", requests, "MiB"].map(String::from));
}

fn row(cells: &[String]) {
    let widths = [29, 6, 8, 8, 8, 8, 6, 22, 8];
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, width))| {
            if i == 0 || i == 7 {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect();
    println!("{}", line.join("  ").trim_end());
}

/// `program args` started `runs` times, each to its exit.
fn start_times(program: &Path, args: &[&str], runs: usize) -> Spread {
    let walls = (0..runs)
        .map(|_| {
            let mut cmd = Command::new(program);
            cmd.args(args);
            let (wall, _, output) = timed(cmd);
            assert!(output.status.success(), "{} failed", program.display());
            wall
        })
        .collect();
    Spread::of(walls)
}

/// The binary as `cargo build --release` makes it, at the path the test environment
/// runs. `cargo bench` has just linked another copy there, built with the features the
/// dev-dependencies add to shared crates (hyper's HTTP/2 and server, for one): larger,
/// and not what users install. Both builds stay cached, so this only re-links the file.
fn release_binary() -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_fitbit-notifier"));
    let target_dir = binary.parent().and_then(Path::parent).unwrap();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--release",
            "--bin",
            "fitbit-notifier",
            "--target-dir",
        ])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // what cargo set for running this benchmark: build scripts that watch these
    // variables (ring's) would run again, and everything that depends on them rebuild
    const SET_BY_CARGO: [&str; 5] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_PRIMARY_",
        "CARGO_TARGET_TMPDIR",
    ];
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if SET_BY_CARGO.iter().any(|prefix| name.starts_with(prefix)) {
            cargo.env_remove(name.as_ref());
        }
    }
    let status = cargo.status().expect("cannot run cargo");
    assert!(status.success(), "cargo build --release failed");
    binary
}

/// Runs `scenario` as often as the settings say and prints its row; returns the ratio
/// of its median to its bound.
async fn measure(mocks: &Mocks, env: &TestEnv, scenario: &Scenario, settings: &Settings) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..settings.runs {
        samples.push(mocks.sample(env, scenario).await);
    }
    let rounds = scenario.rounds(settings.pages);
    let bound = settings.latency * rounds.total();
    let walls = Spread::of(samples.iter().map(|s| s.wall).collect());
    let requests = samples[0].requests;
    let requests = if samples.iter().all(|s| s.requests == requests) {
        requests_text(requests, rounds)
    } else {
        "varies between runs".to_string()
    };
    let peak = samples.iter().map(|s| s.peak_rss_kib).max().unwrap();
    result_row(scenario.name, rounds.total(), bound, &walls, requests, peak)
}

/// One scenario's line of a table: its bound, its times and their median against the
/// bound (returned), its requests and its peak RSS.
fn result_row(
    name: &str,
    rounds: u32,
    bound: Duration,
    walls: &Spread,
    requests: String,
    peak_rss_kib: u64,
) -> f64 {
    let ratio = walls.median.as_secs_f64() / bound.as_secs_f64();
    row(&[
        name.to_string(),
        rounds.to_string(),
        ms(bound),
        ms(walls.median),
        ms(walls.min),
        ms(walls.max),
        format!("{ratio:.2}"),
        requests,
        format!("{:.1}", peak_rss_kib as f64 / 1024.0),
    ]);
    ratio
}

/// The HTTPS table: every latency, the server offering HTTP/2 and then HTTP/1.1 only.
async fn https(settings: &Settings) {
    let ca = TestCa::generate();
    println!(
        "\nover HTTPS: a TLS proxy per host (token, API, X) charges a new connection {HANDSHAKE_ROUND_TRIPS} \
         round trips (TCP, TLS 1.3); {} runs per scenario; protocol: what the server offers by ALPN\n",
        settings.tls_runs
    );
    tls_row(
        &[
            "latency",
            "protocol",
            "scenario",
            "rounds",
            "bound",
            "median",
            "min",
            "max",
            "ratio",
            "handshakes",
            "of them h2",
            "requests",
        ]
        .map(String::from),
    );
    tls_row(
        &[
            "ms",
            "",
            "",
            "",
            "ms",
            "ms",
            "ms",
            "ms",
            "",
            "token/API/X",
            "",
            "token/zone/data/post",
        ]
        .map(String::from),
    );
    let mut worst_ratio: f64 = 0.0;
    for &latency in &settings.tls_latencies {
        for protocols in [Protocols::Http2, Protocols::Http11] {
            let mocks = Mocks::start(latency, settings.pages, Some((&ca, protocols))).await;
            let env = mocks.env();
            // a first run only adds a request on a connection already open
            for scenario in SCENARIOS.iter().filter(|s| !s.first_run) {
                let mut samples = Vec::new();
                for _ in 0..settings.tls_runs {
                    samples.push(mocks.sample(&env, scenario).await);
                }
                let requests = scenario.rounds(settings.pages);
                let rounds = requests.total() + HANDSHAKE_ROUND_TRIPS * scenario.hosts();
                let bound = latency * rounds;
                let walls = Spread::of(samples.iter().map(|s| s.wall).collect());
                let ratio = walls.median.as_secs_f64() / bound.as_secs_f64();
                worst_ratio = worst_ratio.max(ratio);
                let per_host = |pick: fn((u32, u32)) -> u32| {
                    (0..3)
                        .map(|host| {
                            let counts: Vec<u32> =
                                samples.iter().map(|s| pick(s.handshakes[host])).collect();
                            let (min, max) = (counts.iter().min(), counts.iter().max());
                            match (min, max) {
                                (Some(min), Some(max)) if min == max => min.to_string(),
                                (Some(min), Some(max)) => format!("{min}-{max}"),
                                _ => String::new(),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("/")
                };
                let sent = samples[0].requests;
                let sent = if samples.iter().all(|s| s.requests == sent) {
                    requests_text(sent, requests)
                } else {
                    "varies between runs".to_string()
                };
                tls_row(&[
                    latency.as_millis().to_string(),
                    protocols.name().to_string(),
                    scenario.name.to_string(),
                    rounds.to_string(),
                    ms(bound),
                    ms(walls.median),
                    ms(walls.min),
                    ms(walls.max),
                    format!("{ratio:.2}"),
                    per_host(|(all, _)| all),
                    per_host(|(_, h2)| h2),
                    sent,
                ]);
            }
        }
    }
    println!(
        "\nbound = latency x (rounds as above + {HANDSHAKE_ROUND_TRIPS} per host, the hosts \
         being connected to one after the other)"
    );
    println!("worst median/bound over HTTPS: {worst_ratio:.2}");
}

fn tls_row(cells: &[String]) {
    let widths = [7, 8, 19, 6, 8, 8, 8, 8, 5, 11, 10, 20];
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, width))| {
            if matches!(i, 1 | 2 | 9 | 10 | 11) {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect();
    println!("{}", line.join("  ").trim_end());
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let settings = Settings::from_env();
    let binary = release_binary();
    let mocks = Mocks::start(settings.latency, settings.pages, None).await;
    let env = mocks.env();

    println!(
        "fitbit-notifier run --date {DAY}: {} runs per scenario, {} ms per request, \
         a day of basal energy in {} page(s)\n",
        settings.runs,
        settings.latency.as_millis(),
        settings.pages
    );
    header("token/zone/data/post");
    let mut worst_ratio: f64 = 0.0;
    for scenario in &SCENARIOS {
        let ratio = measure(&mocks, &env, scenario, &settings).await;
        worst_ratio = worst_ratio.max(ratio);
    }
    let help = start_times(&binary, &["--help"], settings.help_runs);
    let floor = start_times(Path::new("/bin/true"), &[], settings.help_runs);
    let size = fs::metadata(&binary).unwrap().len();
    println!(
        "\nbound = {} ms x rounds: refresh (expired token only) + time zone (first run only) \
         + data ({} page(s), all else concurrent) + posts (one after the other)",
        settings.latency.as_millis(),
        settings.pages
    );
    println!("worst median/bound: {worst_ratio:.2}");
    world::measure(&settings).await;
    if !settings.tls_latencies.is_empty() {
        https(&settings).await;
    }
    println!(
        "cold start, `--help`: median {} ms (min {}, max {}) over {} runs; starting /bin/true: {} ms",
        ms(help.median),
        ms(help.min),
        ms(help.max),
        settings.help_runs,
        ms(floor.median)
    );
    println!(
        "release binary: {:.2} MB ({size} bytes), {}",
        size as f64 / 1e6,
        binary.display()
    );
}

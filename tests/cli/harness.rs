//! What only the tests use (the benchmark shares `support.rs`): running the binary with
//! assert_cmd, reading what it printed and stored, the expected posts, the form a token
//! endpoint received, a running `auth` command and the browser it talks to.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Output, Stdio};
use std::sync::{Arc, LazyLock, Mutex};

use assert_cmd::Command;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::mocks::SingleUseTokens;
use crate::mocks::google::{Day, OLD_TOKEN, expired_credentials, valid_credentials};
use crate::mocks::x::{ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, MockX};
use crate::providers::Provider::Google;
use crate::support::TestEnv;

impl TestEnv {
    /// The binary, isolated from the real home and environment.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// Starts the binary with `args`, its stdout and stderr piped to the test.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.std_cmd()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs the binary with `args` to its end.
    pub fn output(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn read_credentials(&self) -> String {
        fs::read_to_string(self.credentials_path()).unwrap_or_default()
    }

    /// The permission bits of the credentials file.
    pub fn credentials_mode(&self) -> u32 {
        fs::metadata(self.credentials_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }
}

// ---------------------------------------------------------------------------------
// The daily job's home

/// A home for the daily job, as every test of `run` builds it: Google Health and X at
/// their mocks and both authorized, the config's zone Europe/Berlin, one day served.
pub struct Daily {
    pub env: TestEnv,
    pub google: MockServer,
    pub x: MockX,
}

/// What a [`Daily`] home's config holds besides the endpoints, and how Google answers.
pub struct Options<'a> {
    /// More top-level keys.
    pub top: &'a str,
    /// The `[http]` table's keys.
    pub http: &'a str,
    /// More tables, after the endpoints'.
    pub tables: &'a str,
    /// When given, the stored access token has expired and refreshes go to `tokens`,
    /// whose access token the day is then served to.
    pub tokens: Option<&'a SingleUseTokens>,
}

impl<'a> Options<'a> {
    /// The default options with `http` as the `[http]` table's keys.
    pub fn http(http: &'a str) -> Self {
        Options {
            http,
            ..Options::default()
        }
    }

    /// The default options with `top` as more top-level keys.
    pub fn top(top: &'a str) -> Self {
        Options {
            top,
            ..Options::default()
        }
    }
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            top: "",
            http: "attempts = 2\ntimeout = 5",
            tables: "",
            tokens: None,
        }
    }
}

impl Daily {
    /// The home, with `day` served by Google and any request to Google's own token
    /// endpoint failing the test.
    pub async fn start(day: Day, options: Options<'_>) -> Self {
        let (google, x) = tokio::join!(MockServer::start(), MockX::start());
        let env = TestEnv::new();
        let g = google.uri();
        let token_url = options
            .tokens
            .map_or_else(|| format!("{g}/token"), |t| t.token_url());
        env.write_config(&format!(
            "timezone = \"Europe/Berlin\"\n{}\n[http]\n{}\n\n{}\n[x]\napi_base = \"{}/\"\n\n{}",
            options.top,
            options.http,
            Google.config(&g, &token_url),
            x.uri(),
            options.tables
        ));
        let (google_credentials, access_token) = match options.tokens {
            Some(tokens) => (expired_credentials(1), tokens.access_token()),
            None => (valid_credentials(), OLD_TOKEN),
        };
        env.write_credentials(&format!(
            "{google_credentials}\n[x]\napi_key = \"{API_KEY}\"\napi_secret = \"{API_SECRET}\"\n\
             access_token = \"{ACCESS_TOKEN}\"\naccess_token_secret = \"{ACCESS_TOKEN_SECRET}\"\n"
        ));
        Google.forbid_token_requests(&google).await;
        day.mount(&google, access_token).await;
        Daily { env, google, x }
    }

    /// Runs the binary in the home with `args` to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.env.output(args)
    }
}

// ---------------------------------------------------------------------------------
// Fixtures

/// A JSON file under tests/fixtures, e.g. `fitbit/sleep.json`.
pub fn json_fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The posts the tests expect, from tests/fixtures/expected_messages.toml.
pub fn expected_message(name: &str) -> &'static str {
    static MESSAGES: LazyLock<toml::Table> = LazyLock::new(|| {
        toml::from_str(include_str!("../fixtures/expected_messages.toml")).unwrap()
    });
    MESSAGES
        .get(name)
        .and_then(|value| value.as_str())
        .unwrap_or_else(|| panic!("no {name} in expected_messages.toml"))
}

// ---------------------------------------------------------------------------------
// Outputs

/// An answer with status `status` and the JSON `body`.
pub fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that `output`'s stderr contains `needle`.
pub fn assert_stderr_has(output: &Output, needle: &str) {
    let stderr = stderr_of(output);
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

/// Asserts that `output`'s stdout contains `needle`.
pub fn assert_stdout_has(output: &Output, needle: &str) {
    let stdout = stdout_of(output);
    assert!(stdout.contains(needle), "{needle:?} not in {stdout}");
}

/// A failure: exit `code`, one line on stderr that contains `needle`, nothing on stdout.
pub fn assert_one_line_error(output: &Output, code: i32, needle: &str) {
    let stderr = stderr_of(output);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(output.stdout.is_empty());
}

/// Neither stdout nor stderr contains any of `secrets`.
pub fn assert_no_secret(output: &Output, secrets: &[&str]) {
    let printed = format!("{}{}", stdout_of(output), stderr_of(output));
    for secret in secrets {
        assert!(
            !printed.contains(secret),
            "{secret} was printed:\n{printed}"
        );
    }
}

/// How many requests `server` received whose path contains `fragment`.
pub async fn requests_containing(server: &MockServer, fragment: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path().contains(fragment))
        .count()
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------
// Token endpoints

pub fn form(request: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// Matches a form POST that carries at least these fields.
pub fn form_has(fields: &[(&str, &str)]) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |request: &Request| {
        let got = form(request);
        fields.iter().all(|(k, v)| got.get(k) == Some(v))
    }
}

// ---------------------------------------------------------------------------------
// Files

/// A directory in which the lock and the credentials can be opened but no new file can
/// be created, even by root: its path is so long that a temp file's name inside it
/// exceeds PATH_MAX, while the shorter `credentials.toml.lock` still fits.
pub fn directory_without_room_for_new_files(env: &TestEnv) -> PathBuf {
    const LENGTH: usize = 4070;
    let mut dir = env.home().join("deep");
    while dir.as_os_str().len() + 201 <= LENGTH - 50 {
        dir.push("d".repeat(200));
    }
    let rest = LENGTH - dir.as_os_str().len() - 1;
    dir.push("e".repeat(rest));
    fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------
// auth: the command, and the browser it talks to

/// What the authorize URL told the "browser", for the token endpoint to check against.
#[derive(Default)]
pub struct Issued {
    pub challenge: Option<String>,
    pub redirect_uri: Option<String>,
}

impl Issued {
    /// Whether a code exchange carries `code` for `client_id`, the redirect URI the
    /// authorize URL named and the PKCE verifier of its challenge
    /// (`S256(code_verifier) == code_challenge`).
    pub fn exchange_matches(
        &self,
        form: &BTreeMap<String, String>,
        code: &str,
        client_id: &str,
    ) -> bool {
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        form.get("code").map(String::as_str) == Some(code)
            && form.get("client_id").map(String::as_str) == Some(client_id)
            && form.get("redirect_uri") == self.redirect_uri.as_ref()
            && Some(&challenge) == self.challenge.as_ref()
    }
}

/// A running `auth <service>` and the authorize URL it printed.
pub struct AuthRun {
    child: Child,
    stdout: BufReader<ChildStdout>,
    pub url: Url,
}

impl AuthRun {
    /// Starts the binary with `args` (`auth <service> ...`) and a fake `xdg-open` that
    /// records what it was asked to open and its environment (`opened-url` and
    /// `opener-env` in the home; no real browser starts), and reads the URL
    /// from its stdout.
    pub fn start(env: &TestEnv, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let bin = env.home().join("bin");
        fs::create_dir_all(&bin).unwrap();
        for opener in ["xdg-open", "open"] {
            let script = bin.join(opener);
            fs::write(
                &script,
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > \"$HOME/opened-url\"\nexport -p > \"$HOME/opener-env\"\n",
            )
            .unwrap();
            fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut cmd = env.std_cmd();
        cmd.args(args)
            .env("PATH", &bin)
            .env("FITBIT_NOTIFIER_AUTH_TIMEOUT", "30")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let mut stderr = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                panic!("auth printed no URL; stderr: {stderr}");
            }
            if line.starts_with("http") {
                break;
            }
        }
        let url = Url::parse(line.trim()).unwrap();
        AuthRun { child, stdout, url }
    }

    pub fn param(&self, name: &str) -> String {
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", self.url))
    }

    /// Tells the mock token endpoint what this run's URL promised.
    pub fn issue(&self, issued: &Arc<Mutex<Issued>>) {
        let mut issued = issued.lock().unwrap();
        issued.challenge = Some(self.param("code_challenge"));
        issued.redirect_uri = Some(self.param("redirect_uri"));
    }

    /// The redirect the provider would send the browser to: the redirect URI with
    /// `pairs` as its query.
    pub fn redirect(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = Url::parse(&self.param("redirect_uri")).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url.to_string()
    }

    pub fn paste(&mut self, text: &str) {
        let mut stdin = self.child.stdin.take().unwrap();
        writeln!(stdin, "{text}").unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends a run that is still waiting.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn finish(mut self) -> Output {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let mut output = self.child.wait_with_output().unwrap();
        output.stdout = rest.into_bytes();
        output
    }
}

/// Plays the browser: a GET of `url`, returning the status and the page.
pub fn browse(url: &str) -> (u16, String) {
    let url = Url::parse(url).unwrap();
    let mut stream = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response)
}

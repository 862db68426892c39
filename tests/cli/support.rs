//! The test environment: a temporary home, a config that points every endpoint at a
//! loopback mock, and the binary run inside it; and what tests of every OAuth provider
//! share: the form a token endpoint received, a running `auth` command and the browser.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Output, Stdio};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use tempfile::TempDir;
use url::Url;
use wiremock::Request;

pub struct TestEnv {
    home: TempDir,
}

impl TestEnv {
    /// A fresh home with an empty config file.
    pub fn new() -> Self {
        let env = TestEnv {
            home: tempfile::tempdir().expect("temp dir"),
        };
        fs::create_dir_all(env.config_dir()).unwrap();
        env.write_config("");
        env
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home().join(".config/fitbit-notifier")
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.config_dir().join("credentials.toml")
    }

    pub fn state_path(&self) -> PathBuf {
        self.home().join(".local/state/fitbit-notifier/state.toml")
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.config_path(), text).unwrap();
    }

    /// Writes the credentials file as the tool would (mode 0600).
    pub fn write_credentials(&self, text: &str) {
        let path = self.credentials_path();
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    pub fn read_credentials(&self) -> String {
        fs::read_to_string(self.credentials_path()).unwrap_or_default()
    }

    /// The binary, isolated from the real home and environment.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same as [`TestEnv::cmd`] as a `std::process::Command`, for tests that talk
    /// to the running child through its pipes.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fitbit-notifier"));
        cmd.env_clear()
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_STATE_HOME", self.home().join(".local/state"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_BACKTRACE", "0")
            .current_dir(self.home());
        cmd
    }
}

// ---------------------------------------------------------------------------------
// Outputs

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A failure: exit `code`, one line on stderr that contains `needle`, nothing on stdout.
pub fn assert_one_line_error(output: &Output, code: i32, needle: &str) {
    let stderr = stderr_of(output);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(output.stdout.is_empty());
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

/// A running `auth <service>` and the authorize URL it printed.
pub struct AuthRun {
    child: Child,
    stdout: BufReader<ChildStdout>,
    pub url: Url,
}

impl AuthRun {
    /// Starts the binary with `args` (`auth <service> ...`) and a fake `xdg-open` that
    /// records what it was asked to open (so no real browser starts), and reads the URL
    /// from its stdout.
    pub fn start(env: &TestEnv, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let bin = env.home().join("bin");
        fs::create_dir_all(&bin).unwrap();
        for opener in ["xdg-open", "open"] {
            let script = bin.join(opener);
            fs::write(
                &script,
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > \"$HOME/opened-url\"\n",
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

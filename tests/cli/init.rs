//! `init` end to end: the wizard on a real pseudo-terminal from a home with only the
//! mocks' addresses in its config to an installed timer, with `systemctl`, `loginctl`,
//! `crontab` and `xdg-open` replaced by stand-ins that record their arguments; and
//! each known failure of the Google step turned into the console step that fixes it.
//! The screens are written to target/tmp/init-*.txt to be read.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use test_case::test_case;
use url::Url;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::google::{CODE, mount_code_exchange, mount_settings};
use crate::harness::{Issued, browse, stderr_of};
use crate::mocks::google::{ALL_SCOPES, NEW_TOKEN, fixture, fixture_path};
use crate::pty::Pty;
use crate::support::TestEnv;

pub(crate) const DISCORD_HOOK: &str = "/api/webhooks/42/init-test-token";

/// Stand-ins for the system's commands, each appending `name args` to
/// `$HOME/calls.log`; `systemctl` answers like a user manager that has the timer once
/// the units are written and enabled, `crontab` keeps the table in `$HOME/crontab`.
pub(crate) fn stand_ins(env: &TestEnv) -> PathBuf {
    let bin = env.home().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = "echo \"$(basename \"$0\") $*\" >> \"$HOME/calls.log\"";
    let scripts = [
        (
            "systemctl",
            format!(
                "{log}\nunit=\"$HOME/.config/systemd/user/fitbit-notifier.timer\"\n\
                 case \"$*\" in\n\
                 *is-enabled*) if [ -e \"$unit\" ] && grep -q 'enable --now' \"$HOME/calls.log\"; then echo enabled; \
                 elif [ -e \"$unit\" ]; then echo disabled; exit 1; else echo not-found; exit 1; fi;;\n\
                 *NextElapseUSecRealtime*) echo 'Sat 2026-12-05 09:41:07 UTC';;\n\
                 esac\n"
            ),
        ),
        (
            "loginctl",
            format!("{log}\ncase \"$*\" in *show-user*) echo no;; esac\n"),
        ),
        (
            "crontab",
            format!(
                "{log}\ncase \"$1\" in\n\
                 -l) [ -e \"$HOME/crontab\" ] || {{ echo 'no crontab for you' >&2; exit 1; }}; cat \"$HOME/crontab\";;\n\
                 -) cat > \"$HOME/crontab\";;\n\
                 esac\n"
            ),
        ),
        ("xdg-open", format!("{log}\n")),
    ];
    for (name, body) in scripts {
        let script = bin.join(name);
        // PATH in the tests holds only these; the tools the scripts use are in /bin
        fs::write(&script, format!("#!/bin/sh\nPATH=/usr/bin:/bin\n{body}")).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

pub(crate) fn calls(env: &TestEnv) -> String {
    fs::read_to_string(env.home().join("calls.log")).unwrap_or_default()
}

/// A config holding only where the mocks are (and quick retries): what an empty home
/// is to the real services.
pub(crate) fn mock_config(server: &MockServer) -> String {
    let base = server.uri();
    format!(
        "[http]\nattempts = 1\ntimeout = 10\n\n[google_health]\napi_base = \"{base}/v4/\"\n\
         auth_url = \"{base}/o/oauth2/v2/auth\"\ntoken_url = \"{base}/token\"\n"
    )
}

/// Any day: empty rollups and lists (values "not recorded") and `devices`.
pub(crate) async fn mount_any_day(server: &MockServer, devices: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/v4/users/me/dataTypes/[^/]+/dataPoints:dailyRollUp$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"rollupDataPoints": []})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        // raw and `:reconcile` lists alike
        .and(path_regex(
            r"^/v4/users/me/dataTypes/[^/]+/dataPoints(:reconcile)?$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"dataPoints": []})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/users/me/pairedDevices"))
        .respond_with(ResponseTemplate::new(200).set_body_json(devices))
        .mount(server)
        .await;
}

pub(crate) async fn mount_discord(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(DISCORD_HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "1187654321098765432", "type": 0, "channel_id": "11", "content": "…"}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// Saves a screen for a person to read, and checks it fits 80 columns: every line but
/// those that are one long address (a link, a scope to copy) whole.
fn keep_screen(name: &str, screen: &str, home: &Path) {
    let shown = screen.replace(&home.display().to_string(), "~");
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("init-{name}.txt"));
    fs::write(&file, &shown).unwrap();
    for line in shown.lines() {
        // the tool's one-line log messages are meant for logs and grep, not wrapped
        let log_line = line.starts_with("warn: ") || line.starts_with("error: ");
        // a link or a path cannot be broken: the rest of its line must fit
        let without_paths: usize = line
            .split(' ')
            .filter(|word| !word.contains('/'))
            .map(|word| word.chars().count() + 1)
            .sum();
        assert!(
            line.chars().count() <= 80 || log_line || without_paths <= 80,
            "wider than 80 columns ({}): {line}\nscreen in {}",
            line.chars().count(),
            file.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_goes_from_an_empty_home_to_an_installed_timer() {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    env.write_config(&mock_config(&server));
    let issued = Arc::new(Mutex::new(Issued::default()));
    mount_code_exchange(&server, issued.clone(), &ALL_SCOPES.join(" ")).await;
    // `auth` reads and caches the zone; each of the wizard's two reads of a day asks for
    // it again, in the round of its data
    mount_settings(&server, NEW_TOKEN, 3).await;
    mount_any_day(&server, fixture("paired_devices.json")).await;
    mount_discord(&server).await;
    let bin = stand_ins(&env);
    let mut cmd = env.std_cmd();
    cmd.arg("init")
        .env("PATH", &bin)
        .env("USER", "walker")
        .env("TERM", "dumb")
        .env("FITBIT_NOTIFIER_AUTH_TIMEOUT", "30");
    let mut pty = Pty::spawn(cmd);

    pty.expect("Replace its locale, provider and sinks? [y/N]: ");
    pty.send("y");
    pty.expect("Language of the posts [en/ja] (en): ");
    pty.send("ja");
    pty.expect("(x): ");
    pty.send("discord");
    pty.expect("Press Enter when the client is created and its JSON downloaded: ");
    pty.send("");
    pty.expect("paste its contents: ");
    pty.send(
        &fixture_path("client_secret_desktop.json")
            .display()
            .to_string(),
    );
    pty.expect("Leave it in Testing or publish it [testing/production] (testing): ");
    pty.send("prod");
    let waiting = pty.expect("Waiting up to 30s");
    let url = waiting
        .lines()
        .find(|line| line.starts_with("http") && line.contains("/o/oauth2/v2/auth"))
        .map(|line| Url::parse(line.trim()).unwrap())
        .expect("the consent address");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    {
        let mut issued = issued.lock().unwrap();
        issued.challenge = Some(param("code_challenge"));
        issued.redirect_uri = Some(param("redirect_uri"));
    }
    let mut back = Url::parse(&param("redirect_uri")).unwrap();
    back.query_pairs_mut()
        .append_pair("state", &param("state"))
        .append_pair("code", CODE)
        .append_pair("scope", &ALL_SCOPES.join(" "));
    let browsed = tokio::task::spawn_blocking(move || browse(back.as_str()));
    assert_eq!(browsed.await.unwrap().0, 200);
    pty.expect("from Google Health (Europe/Berlin)");
    pty.expect("Press Enter when you have the Discord values at hand: ");
    pty.send("");
    pty.expect("Discord webhook URL (typing is hidden): ");
    pty.send_hidden(&format!("{}{DISCORD_HOOK}", server.uri()));
    pty.expect("Send a test post now (free)? [Y/n]: ");
    pty.send("");
    pty.expect("Test post sent to Discord");
    pty.expect("Run it every day at 09:30 with [systemd/cron/print] (systemd): ");
    pty.send("");
    pty.expect("Next run: Sat 2026-12-05 09:41:07 UTC");
    let (status, screen) = pty.finish();
    keep_screen("happy-path", &screen, env.home());
    assert!(status.success(), "{screen}");
    assert!(screen.contains("All set."), "{screen}");

    let config = fs::read_to_string(env.config_path()).unwrap();
    assert!(config.contains("locale = \"ja\""), "{config}");
    assert!(config.contains("enabled = [\"discord\"]"), "{config}");
    assert!(
        config.contains(&format!("{}/token", server.uri())),
        "kept: {config}"
    );
    let credentials = env.read_credentials();
    assert!(credentials.contains("[google]") && credentials.contains(DISCORD_HOOK));
    let state = fs::read_to_string(env.state_path()).unwrap();
    assert!(
        state.contains("google_publishing = \"production\""),
        "{state}"
    );
    let units = env.home().join(".config/systemd/user");
    let service = fs::read_to_string(units.join("fitbit-notifier.service")).unwrap();
    let exe = fs::canonicalize(env!("CARGO_BIN_EXE_fitbit-notifier")).unwrap();
    assert!(
        service.contains(&format!(
            "\nExecStart={} run --date yesterday\n",
            exe.display()
        )),
        "{service}"
    );
    assert!(units.join("fitbit-notifier.timer").exists());
    let calls = calls(&env);
    for expected in [
        "systemctl --user daemon-reload\nsystemctl --user enable --now fitbit-notifier.timer\n",
        "loginctl show-user walker --property=Linger --value\nloginctl enable-linger walker\n",
    ] {
        assert!(calls.contains(expected), "{calls}");
    }
    // the secret was typed without echo
    assert!(!screen.contains("init-test-token"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cron_is_installed_once_and_keeps_the_rest_of_the_crontab() {
    let env = TestEnv::new();
    let bin = stand_ins(&env);
    fs::write(env.home().join("crontab"), "0 1 * * * backup\n").unwrap();
    for _ in 0..2 {
        let output = env
            .cmd()
            .args([
                "init",
                "--step",
                "schedule",
                "--no-input",
                "--schedule",
                "cron",
            ])
            .env("PATH", &bin)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    let table = fs::read_to_string(env.home().join("crontab")).unwrap();
    assert!(table.starts_with("0 1 * * * backup\n"), "{table}");
    assert_eq!(table.matches("run --date yesterday").count(), 2, "{table}");
    assert!(table.contains("30 9 * * * /"), "{table}");
}

#[test]
fn without_a_scheduler_the_commands_are_printed() {
    let env = TestEnv::new();
    let bin = env.home().join("empty-bin");
    fs::create_dir_all(&bin).unwrap();
    let output = env
        .cmd()
        .args(["init", "--step", "schedule", "--no-input"])
        .env("PATH", &bin)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let err = stderr_of(&output);
    assert!(
        err.contains("systemctl --user enable --now fitbit-notifier.timer"),
        "{err}"
    );
    assert!(err.contains("crontab -e"), "{err}");
}

#[test]
fn an_existing_config_is_kept_without_force() {
    let env = TestEnv::new();
    env.write_config("locale = \"en\"\n");
    let output = env.output(&["init", "--step", "config", "--no-input", "--locale", "ja"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        fs::read_to_string(env.config_path()).unwrap(),
        "locale = \"en\"\n"
    );
    let output = env.output(&[
        "init",
        "--step",
        "config",
        "--no-input",
        "--locale",
        "ja",
        "--sinks",
        "x,slack",
        "--force",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let config = fs::read_to_string(env.config_path()).unwrap();
    assert!(
        config.contains("locale = \"ja\"") && config.contains("[\"x\", \"slack\"]"),
        "{config}"
    );
}

/// Google's answers to the first call after consent (troubleshooting page, and the
/// usual answer of a Google API not enabled in the project) and what the wizard says.
#[test_case(403, json!({"error": {"code": 403, "message": "Google Health API has not been used in project 123 before or it is disabled.", "status": "PERMISSION_DENIED", "details": [{"reason": "SERVICE_DISABLED"}]}}), 78, "not onboarding new projects" ; "api not enabled")]
#[test_case(403, json!({"error": {"code": 403, "message": "Could not mint UberMint from GaiaMint", "status": "PERMISSION_DENIED"}}), 77, "sign out, sign in with Google" ; "fitbit account not migrated")]
#[test_case(400, fixture("account_not_linked.json"), 77, "Set up the Google Health app" ; "no google health profile")]
#[test_case(412, json!({"error": {"code": 412, "message": "The user's Google Health profile is not ready yet.", "status": "FAILED_PRECONDITION"}}), 75, "wait a few hours" ; "profile not ready yet")]
#[test_case(403, fixture("scope_insufficient.json"), 77, "Tick every box" ; "a scope not ticked")]
#[tokio::test(flavor = "multi_thread")]
async fn each_failure_after_consent_names_its_fix(
    status: u16,
    body: serde_json::Value,
    code: i32,
    fix: &str,
) {
    let server = MockServer::start().await;
    let issued = Arc::new(Mutex::new(Issued::default()));
    mount_code_exchange(&server, issued.clone(), &ALL_SCOPES.join(" ")).await;
    Mock::given(path_regex("^/v4/users/me/"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let output = google_step(&server, Some(&issued), &[("code", CODE)]).await;
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    assert!(err.contains(fix), "{err}");
    assert!(err.contains("init --step google"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_consent_points_at_the_test_users() {
    let server = MockServer::start().await;
    let output = google_step(&server, None, &[("error", "access_denied")]).await;
    let err = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        err.contains("Test users: https://console.developers.google.com/auth/audience"),
        "{err}"
    );
}

/// Runs `init --step google` in a home whose config points at `server`, comes back
/// from the consent with `answer` (and the run's state), and returns what it printed.
/// With `issued`, the token endpoint is told what the consent address promised.
async fn google_step(
    server: &MockServer,
    issued: Option<&Arc<Mutex<Issued>>>,
    answer: &[(&str, &str)],
) -> std::process::Output {
    let env = TestEnv::new();
    env.write_config(&mock_config(server));
    let file = fixture_path("client_secret_desktop.json");
    let run = crate::harness::AuthRun::start(
        &env,
        &[
            "init",
            "--step",
            "google",
            "--no-input",
            "--client-secret-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    if let Some(issued) = issued {
        run.issue(issued);
    }
    let state = run.param("state");
    let back = run.redirect(&[&[("state", state.as_str())], answer].concat());
    let (status, _) = tokio::task::spawn_blocking(move || browse(&back))
        .await
        .unwrap();
    if issued.is_some() {
        assert_eq!(status, 200);
    }
    run.finish()
}

//! `doctor`: each check passing and failing, with the line it prints (✓, ✗ with the
//! fix, !), the exit status it leads to, and the `--json` report.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use test_case::test_case;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::google::invalid_grant;
use crate::harness::stdout_of;
use crate::init::{mock_config, mount_any_day, stand_ins};
use crate::mocks::google::{ALL_SCOPES, NEW_TOKEN, OLD_TOKEN, credentials, token_body};
use crate::support::TestEnv;

const HOOK: &str = "/api/webhooks/7/doctor-token";

/// What to change in an otherwise healthy setup.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Change {
    None,
    BrokenConfig,
    ReadableCredentials,
    PlainHttpConfig,
    PlainHttpInstance,
    NoAuthorization,
    RefreshRefused,
    ServiceDown,
    AccountNotLinked,
    ScopeMissing,
    TestingDay6,
    TestingDay8,
    StaleTracker,
    WebhookGone,
    MastodonRevoked,
    XWithoutKeys,
    TimerDisabled,
    NoSchedule,
    LastRunFailed,
}

fn device(last_sync: chrono::DateTime<Utc>) -> Value {
    json!({"pairedDevices": [{"name": "users/me/pairedDevices/123", "deviceType": "TRACKER",
        "deviceVersion": "Charge 6", "batteryLevel": 85, "lastSyncTime": last_sync.to_rfc3339()}]})
}

/// A healthy home (Google, Discord, Mastodon and X; the timer enabled; a good last run)
/// with `change` applied; returns doctor's output.
async fn doctor(change: Change, json: bool) -> Output {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    let base = server.uri();
    let mut config = format!(
        "timezone = \"Europe/Berlin\"\n{}\n[sinks]\nenabled = [\"discord\", \"mastodon\", \"x\"]\n",
        mock_config(&server)
    );
    if change == Change::PlainHttpConfig {
        config.push_str("\n[bluesky]\nservice = \"http://bsky.example/\"\n");
    }
    if change == Change::BrokenConfig {
        config.push_str("locale = \n");
    }
    env.write_config(&config);
    let authorized = match change {
        Change::TestingDay6 => Utc::now() - TimeDelta::days(6),
        Change::TestingDay8 => Utc::now() - TimeDelta::days(8),
        _ => Utc::now() - TimeDelta::days(1),
    };
    let scopes: &[&str] = if change == Change::ScopeMissing {
        &ALL_SCOPES[..4]
    } else {
        &ALL_SCOPES
    };
    let google = credentials(
        OLD_TOKEN,
        Utc::now() + TimeDelta::hours(1),
        authorized,
        scopes,
    );
    let x = "[x]\napi_key = \"k\"\napi_secret = \"s\"\naccess_token = \"t\"\naccess_token_secret = \"ts\"\n";
    let rest = format!(
        "[discord]\nwebhook_url = \"{base}{HOOK}\"\n\n[mastodon]\ninstance = \"{}/\"\naccess_token = \"m\"\n\n{}",
        if change == Change::PlainHttpInstance {
            "http://social.example"
        } else {
            &base
        },
        if change == Change::XWithoutKeys {
            ""
        } else {
            x
        }
    );
    let google = if change == Change::NoAuthorization {
        String::new()
    } else {
        google
    };
    env.write_credentials(&format!("{google}\n{rest}"));
    if change == Change::ReadableCredentials {
        fs::set_permissions(env.credentials_path(), fs::Permissions::from_mode(0o644)).unwrap();
    }
    let publishing = match change {
        Change::TestingDay6 | Change::TestingDay8 => "testing",
        _ => "production",
    };
    let last_exit = if change == Change::LastRunFailed {
        77
    } else {
        0
    };
    fs::create_dir_all(env.state_path().parent().unwrap()).unwrap();
    fs::write(
        env.state_path(),
        format!(
            "google_publishing = \"{publishing}\"\n\n[last_run]\nat = \"{}\"\nexit = {last_exit}\nmessage = \"the consent expired\"\n",
            Utc::now().to_rfc3339()
        ),
    )
    .unwrap();

    let refresh = match change {
        Change::RefreshRefused => invalid_grant(),
        Change::ServiceDown => ResponseTemplate::new(503),
        _ => token_body(NEW_TOKEN, None, &ALL_SCOPES.join(" ")),
    };
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(refresh)
        .mount(&server)
        .await;
    if change == Change::AccountNotLinked {
        Mock::given(path_regex("^/v4/users/me/"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_json(crate::mocks::google::fixture("account_not_linked.json")),
            )
            .mount(&server)
            .await;
    }
    let synced = if change == Change::StaleTracker {
        Utc::now() - TimeDelta::days(3)
    } else {
        Utc::now()
    };
    mount_any_day(&server, device(synced)).await;
    let hook = if change == Change::WebhookGone {
        404
    } else {
        200
    };
    Mock::given(method("GET"))
        .and(path(HOOK))
        .respond_with(ResponseTemplate::new(hook).set_body_json(json!({"id": "7", "type": 1})))
        .mount(&server)
        .await;
    // Mastodon checks the token before the scope: 403 is a good write-only token
    let verify = if change == Change::MastodonRevoked {
        401
    } else {
        403
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(ResponseTemplate::new(verify).set_body_json(json!({"error": "…"})))
        .mount(&server)
        .await;

    let bin = stand_ins(&env);
    if change != Change::NoSchedule {
        let units = env.home().join(".config/systemd/user");
        fs::create_dir_all(&units).unwrap();
        fs::write(units.join("fitbit-notifier.timer"), "").unwrap();
        if change != Change::TimerDisabled {
            fs::write(
                env.home().join("calls.log"),
                "systemctl --user enable --now fitbit-notifier.timer\n",
            )
            .unwrap();
        }
    }
    let mut cmd = env.cmd();
    cmd.arg("doctor").env("PATH", &bin);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_setup_passes_every_check() {
    let output = doctor(Change::None, false).await;
    let out = stdout_of(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    for line in [
        "✓ config:",
        "✓ credentials:",
        "✓ endpoints:",
        "✓ scopes:",
        "✓ consent: the app is published",
        "✓ token: refreshed",
        "✓ data: read ",
        "✓ tracker: Charge 6 last synced",
        "✓ discord: the webhook exists",
        "✓ mastodon: the instance accepts the token",
        "✓ x: credentials stored; not checked: X has no free way",
        "✓ schedule: systemd user timer enabled; next run Sat 2026-12-05 09:41:07 UTC",
        "✓ last run:",
    ] {
        assert!(out.contains(line), "{line} not in\n{out}");
    }
    assert!(!out.contains('✗') && !out.contains("\n!"), "{out}");
}

#[test_case(Change::BrokenConfig, 78, "✗ config:", "config.toml:" ; "config")]
#[test_case(Change::ReadableCredentials, 78, "✗ credentials:", "chmod 600" ; "credentials private")]
#[test_case(Change::PlainHttpConfig, 78, "✗ config:", "[bluesky] service \"http://bsky.example/\" would send secrets unencrypted" ; "config endpoints https")]
#[test_case(Change::PlainHttpInstance, 78, "✗ endpoints:", "auth mastodon, with an https:// address" ; "stored endpoints https")]
#[test_case(Change::NoAuthorization, 77, "✗ authorization:", "fitbit-notifier init --step google" ; "no authorization")]
#[test_case(Change::RefreshRefused, 77, "✗ token:", "auth google" ; "token refused")]
#[test_case(Change::ServiceDown, 75, "✗ token:", "try again" ; "token endpoint down")]
#[test_case(Change::AccountNotLinked, 77, "✗ data:", "Google Health app" ; "data call refused")]
#[test_case(Change::ScopeMissing, 0, "! scopes:", "not granted: nutrition" ; "a scope missing")]
#[test_case(Change::TestingDay6, 0, "! consent:", "re-authorize before day 7, or publish the app" ; "testing consent day 6")]
#[test_case(Change::TestingDay8, 77, "✗ consent:", "consent expired" ; "testing consent day 8")]
#[test_case(Change::StaleTracker, 0, "! tracker:", "more than a day ago" ; "tracker not synced")]
#[test_case(Change::WebhookGone, 77, "✗ discord:", "auth discord" ; "discord webhook gone")]
#[test_case(Change::MastodonRevoked, 77, "✗ mastodon:", "auth mastodon" ; "mastodon token revoked")]
#[test_case(Change::XWithoutKeys, 78, "✗ x:", "→ fitbit-notifier auth x" ; "x keys missing")]
#[test_case(Change::TimerDisabled, 1, "✗ schedule:", "systemctl --user enable --now fitbit-notifier.timer" ; "timer disabled")]
#[test_case(Change::NoSchedule, 0, "! schedule:", "fitbit-notifier init --step schedule" ; "no schedule")]
#[test_case(Change::LastRunFailed, 0, "! last run:", "exited 77: the consent expired" ; "last run failed")]
#[tokio::test(flavor = "multi_thread")]
async fn each_check_fails_with_its_fix_and_status(
    change: Change,
    code: i32,
    line: &str,
    fix: &str,
) {
    let output = doctor(change, false).await;
    let out = stdout_of(&output);
    assert_eq!(output.status.code(), Some(code), "{out}");
    let printed = out
        .lines()
        .find(|l| l.starts_with(line))
        .unwrap_or_else(|| panic!("no {line} in\n{out}"));
    assert!(printed.contains(fix), "{fix} not in {printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lists_every_check_with_its_status_and_fix() {
    let output = doctor(Change::WebhookGone, true).await;
    assert_eq!(output.status.code(), Some(77));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["exit"], 77);
    let checks = report["checks"].as_array().unwrap();
    for check in checks {
        let keys: Vec<&str> = check
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["detail", "fix", "name", "status"], "{check}");
        assert!(["pass", "warn", "fail"].contains(&check["status"].as_str().unwrap()));
    }
    let discord = checks.iter().find(|c| c["name"] == "discord").unwrap();
    assert_eq!(discord["status"], "fail");
    assert_eq!(discord["fix"], "fitbit-notifier auth discord");
    let config = checks.iter().find(|c| c["name"] == "config").unwrap();
    assert_eq!(config["status"], "pass");
    assert_eq!(config["fix"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_is_one_line_per_check() {
    let output = doctor(Change::TestingDay6, false).await;
    let out = stdout_of(&output);
    fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("doctor.txt"),
        &out,
    )
    .unwrap();
    assert_eq!(out.lines().count(), 13, "one line per check:\n{out}");
}

//! The foundation: config validation, located errors, the `config` report.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;
use test_case::test_case;

use crate::support::TestEnv;

/// (the config, what the error must say): a config that cannot be used is 78, located
/// (file, line, column) where it can be and naming what is wrong.
#[test_case("locale = \"ja\"\nprovider = = \"google-health\"\n", &["config.toml:2:12:"] ; "malformed TOML")]
#[test_case("[google_health]\napi_bsae = \"http://127.0.0.1:9/\"\n", &["api_bsae", ":2:1:"] ; "an unknown key")]
#[test_case("provider = \"garmin\"\n", &["garmin"] ; "an unknown provider")]
#[test_case("timezone = \"Europe/Atlantis\"\n", &[] ; "an unknown time zone")]
#[test_case("[http]\ntimeout = \"30\"\n", &["config.toml:2:11:", "expected u64"] ; "a string for a number")]
#[test_case("[http]\n\ndeadline = -1\n", &["config.toml:3:12:", "-1"] ; "a negative number")]
#[test_case("locale = 3\n", &["config.toml:1:10:", "wanted string"] ; "a number for a string")]
#[test_case("[x]\napi_base = \"not a url\"\n", &["config.toml:2:12:", "relative URL"] ; "not a URL")]
#[test_case("[[alerts]]\nname = \"x\"\nmetric = \"sleep_hourz\"\nbelow = 1\n", &["sleep_hourz"] ; "an unknown metric")]
#[test_case("[weekly]\nday = \"someday\"\n", &[":2:7: short or long weekday names expected"] ; "an unknown weekday")]
#[test_case("[templates]\nactivity = \"\"\"\nSteps: {{ steps }}\nWater: {{ water }\n\"\"\"\n", &["templates.activity line 2: syntax error"] ; "a template's syntax error")]
#[test_case("[sinks]\nenabled = [\"x\", \"myspace\"]\n", &["myspace"] ; "an unknown sink")]
#[test_case("[sinks]\nenabled = [\"slack\", \"slack\"]\n", &["[sinks] enabled names \"slack\" twice"] ; "a repeated sink")]
fn a_config_it_cannot_use_is_78_naming_what_and_where(config: &str, says: &[&str]) {
    let env = TestEnv::new();
    env.write_config(config);
    assert_config_is_78_saying(&env, says);
}

fn assert_config_is_78_saying(env: &TestEnv, says: &[&str]) {
    let output = env.output(&["config"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(output.stdout.is_empty());
    for phrase in says {
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
    }
}

/// (the credentials file, where the error places the fault)
#[test_case("[x]\napi_key = 42\n", "credentials.toml:2:11:" ; "a number for a string")]
#[test_case("[google]\nclient_id = \"abc\nclient_secret = \"s\"\n", "credentials.toml:2:17:" ; "truncated")]
#[test_case("[google]\nclient_id = \"c\"\nclient_secret = \"s\"\naccess_token = \"a\"\nrefresh_token = \"r\"\nexpires_at = \"soon\"\nauthorized_at = \"2026-11-20T00:00:00Z\"\n", "credentials.toml:6:14:" ; "not a time")]
fn a_credentials_file_it_cannot_read_is_78_and_located(credentials: &str, location: &str) {
    let env = TestEnv::new();
    env.write_credentials(credentials);
    assert_config_is_78_saying(&env, &[location]);
}

#[test]
fn a_missing_explicit_config_is_78() {
    let env = TestEnv::new();
    env.cmd()
        .args(["--config", "/nonexistent/fitbit.toml", "config"])
        .assert()
        .code(78)
        .stderr(predicate::str::contains("/nonexistent/fitbit.toml"));
}

#[test]
fn config_prints_every_resolved_path() {
    let env = TestEnv::new();
    let creds = env.credentials_path();
    let state = env.state_path();
    env.cmd().arg("config").assert().success().stdout(
        predicate::str::contains(env.config_path().to_str().unwrap())
            .and(predicate::str::contains(creds.to_str().unwrap()))
            .and(predicate::str::contains(format!(
                "{}.lock",
                creds.display()
            )))
            .and(predicate::str::contains(state.to_str().unwrap()))
            .and(predicate::str::contains(format!(
                "{}.lock",
                state.display()
            ))),
    );
}

#[test]
fn the_config_env_var_and_relative_paths_are_honoured() {
    let env = TestEnv::new();
    let custom = env.home().join("elsewhere/fn.toml");
    fs::create_dir_all(custom.parent().unwrap()).unwrap();
    fs::write(&custom, "credentials_file = \"creds.toml\"\n").unwrap();
    env.cmd()
        .env("FITBIT_NOTIFIER_CONFIG", &custom)
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            env.home().join("elsewhere/creds.toml").to_str().unwrap(),
        ));
}

#[test]
fn a_credentials_file_others_can_read_is_refused_with_the_chmod_fix() {
    let env = TestEnv::new();
    env.write_credentials("");
    fs::set_permissions(env.credentials_path(), fs::Permissions::from_mode(0o640)).unwrap();
    env.cmd()
        .arg("config")
        .assert()
        .code(78)
        .stderr(predicate::str::contains(format!(
            "chmod 600 {}",
            env.credentials_path().display()
        )));
}

#[test]
fn the_example_config_is_valid() {
    let env = TestEnv::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    env.cmd()
        .args(["--config", example, "config"])
        .assert()
        .success();
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    env.cmd().arg("no-such-command").assert().code(2);
}

const SHORT_SLEEP: &str = "name = \"short sleep\"\nmetric = \"sleep_hours\"\ndays = 7\n";

/// (the `[[alerts]]` tables, what the error must say): every broken rule is 78 and
/// named.
#[test_case(&format!("[[alerts]]\n{SHORT_SLEEP}below = 6.0\nabove = 9.0\n"), "both below and above" ; "both thresholds")]
#[test_case(&format!("[[alerts]]\n{SHORT_SLEEP}"), "neither below nor above" ; "no threshold")]
#[test_case("[[alerts]]\nname = \"short sleep\"\nmetric = \"sleep_hours\"\ndays = 91\nbelow = 6.0\n", "days = 91 is outside 1..=90" ; "days out of range")]
#[test_case(&format!("[[alerts]]\n{SHORT_SLEEP}below = 6.0\nsinks = [\"slack\"]\n"), "sink \"slack\" is not in [sinks] enabled" ; "a sink not enabled")]
#[test_case(&format!("[[alerts]]\n{SHORT_SLEEP}below = 6.0\n\n[[alerts]]\n{SHORT_SLEEP}below = 5.0\n"), "the name is used twice" ; "a duplicate name")]
fn a_broken_alert_rule_is_78_naming_it(alerts: &str, says: &str) {
    let env = TestEnv::new();
    env.write_config(alerts);
    assert_config_is_78_saying(&env, &["[[alerts]] \"short sleep\"", says]);
}

/// Every endpoint a secret goes to, on plain http to a host that is not this machine
/// (192.0.2.2 is TEST-NET-1, never routed): `config` and every command refuse it with
/// 78 naming the key, before any request — the check runs when the config is loaded.
#[test_case("[google_health]", "api_base")]
#[test_case("[google_health]", "auth_url")]
#[test_case("[google_health]", "token_url")]
#[test_case("[fitbit]", "api_base")]
#[test_case("[fitbit]", "auth_url")]
#[test_case("[fitbit]", "token_url")]
#[test_case("[x]", "api_base")]
#[test_case("[bluesky]", "service")]
fn an_endpoint_on_plain_http_to_another_host_is_78_naming_the_key(table: &str, key: &str) {
    let env = TestEnv::new();
    env.write_config(&format!("{table}\n{key} = \"http://192.0.2.2/base/\"\n"));
    for args in [
        &["config"][..],
        &["refresh"],
        &["run"],
        &["fetch", "--date", "2026-11-25"],
    ] {
        let output = env.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(78), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{table} {key} \"http://192.0.2.2/base/\""))
                && stderr.contains("https://"),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_token_url_on_plain_http_sends_nothing_even_to_the_other_endpoints() {
    let server = wiremock::MockServer::start().await;
    let env = TestEnv::new();
    env.write_config(&format!(
        "[google_health]\napi_base = \"{0}/v4/\"\nauth_url = \"{0}/auth\"\ntoken_url = \"http://192.0.2.2/token\"\n",
        server.uri()
    ));
    env.write_credentials(&crate::mocks::google::expired_credentials(1));
    let output = env.output(&["fetch", "--date", "2026-11-25"]);
    assert_eq!(output.status.code(), Some(78));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn a_config_others_can_write_is_78_with_the_chmod_fix() {
    let env = TestEnv::new();
    env.write_config("locale = \"en\"\n");
    for mode in [0o664, 0o646] {
        fs::set_permissions(env.config_path(), fs::Permissions::from_mode(mode)).unwrap();
        let output = env.output(&["config"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(78), "{mode:o}: {stderr}");
        assert!(
            stderr.contains(&format!("run `chmod go-w {}`", env.config_path().display())),
            "{stderr}"
        );
    }
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o644)).unwrap();
    let output = env.output(&["config"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("chmod go-w"));
}

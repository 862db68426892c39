//! No secret is ever printed: every command, succeeding and failing, run with `-vv`
//! against the mocks, and everything it wrote to stdout and stderr searched for every
//! token, secret and key value it handled.

use std::process::Output;

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::google::{
    CODE, Client, auth_google, invalid_grant, mount_consent, mount_refresh, redirect,
};
use crate::harness::{form, form_has};
use crate::mocks::google::{
    ALL_SCOPES, CLIENT_SECRET, DAY, Day, NEW_TOKEN, REFRESH_TOKEN, token_body,
};
use crate::mocks::x::{ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, MockX, created};
use crate::support::TestEnv;
use crate::x::store_keys;

const ROTATED_REFRESH_TOKEN: &str = "1//rotated-refresh-token";
const WRONG_TOKEN_SECRET: &str = "wrong-access-token-secret-Hq4v";
const TOKEN_IN_A_FORM: &str = "ya29.form-encoded-token";

/// One command's run: what it was, its exit status and everything it printed.
struct Ran {
    what: &'static str,
    output: Output,
}

impl Ran {
    fn printed(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }
}

fn run(env: &TestEnv, what: &'static str, args: &[&str], expected: i32) -> Ran {
    let output = env.cmd().arg("-vv").args(args).output().unwrap();
    let ran = Ran { what, output };
    assert_eq!(
        ran.output.status.code(),
        Some(expected),
        "{what}: {}",
        ran.printed()
    );
    ran
}

#[tokio::test]
async fn no_command_prints_a_token_secret_or_key() {
    let google = MockServer::start().await;
    let x = MockX::start().await;
    let env = TestEnv::new();
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\n[http]\nattempts = 1\ntimeout = 5\n\n\
         [google_health]\napi_base = \"{g}/v4/\"\nauth_url = \"{g}/auth\"\ntoken_url = \"{g}/token\"\n\n\
         [x]\napi_base = \"{x}/\"\n",
        g = google.uri(),
        x = x.uri()
    ));
    let mut ran = Vec::new();

    ran.push(Ran {
        what: "auth x",
        output: store_keys(&env),
    });

    let issued = mount_consent(&google, &ALL_SCOPES).await;
    let mut auth = auth_google(&env, Client::Environment, &["--no-browser", "-vv"], &[]);
    auth.issue(&issued);
    let pasted = redirect(&auth, &auth.param("state"));
    auth.paste(&pasted);
    let output = auth.finish();
    assert!(output.status.success());
    ran.push(Ran {
        what: "auth google --no-browser",
        output,
    });
    let verifier = google
        .received_requests()
        .await
        .unwrap()
        .iter()
        .find_map(|request| form(request).get("code_verifier").cloned())
        .unwrap();

    ran.push(run(&env, "config", &["config"], 0));
    mount_refresh(
        &google,
        token_body(
            NEW_TOKEN,
            Some(ROTATED_REFRESH_TOKEN),
            &ALL_SCOPES.join(" "),
        ),
        1,
    )
    .await;
    ran.push(run(&env, "refresh", &["refresh"], 0));
    Day::standard().mount(&google, NEW_TOKEN).await;
    x.answer_posts(created(), None).await;
    ran.push(run(&env, "fetch", &["fetch", "--date", DAY], 0));
    ran.push(run(&env, "run", &["run", "--date", DAY], 0));
    ran.push(run(&env, "tweet --text", &["tweet", "--text", "hello"], 0));
    ran.push(run(&env, "tweet --date", &["tweet", "--date", DAY], 0));

    // the failures
    x.answer_posts(
        ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
        })),
        Some(1),
    )
    .await;
    ran.push(run(
        &env,
        "tweet refused with 401",
        &["tweet", "--text", "a"],
        77,
    ));
    let stored = env.read_credentials();
    env.write_credentials(&stored.replace(ACCESS_TOKEN_SECRET, WRONG_TOKEN_SECRET));
    ran.push(run(
        &env,
        "tweet with a bad signature",
        &["tweet", "--text", "b"],
        77,
    ));
    Mock::given(path("/token"))
        .and(form_has(&[("refresh_token", ROTATED_REFRESH_TOKEN)]))
        .respond_with(invalid_grant())
        .up_to_n_times(1)
        .mount(&google)
        .await;
    ran.push(run(&env, "refresh refused", &["refresh"], 77));
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("access_token={TOKEN_IN_A_FORM}&refresh_token={TOKEN_IN_A_FORM}"),
            "application/x-www-form-urlencoded",
        ))
        .mount(&google)
        .await;
    ran.push(run(&env, "refresh answered in a form", &["refresh"], 75));
    ran.push(run(&env, "doctor", &["doctor"], 75));
    ran.push(run(&env, "doctor --json", &["doctor", "--json"], 75));

    let secrets = [
        CLIENT_SECRET,
        CODE,
        verifier.as_str(),
        REFRESH_TOKEN,
        ROTATED_REFRESH_TOKEN,
        NEW_TOKEN,
        TOKEN_IN_A_FORM,
        API_KEY,
        API_SECRET,
        ACCESS_TOKEN,
        ACCESS_TOKEN_SECRET,
        WRONG_TOKEN_SECRET,
    ];
    for ran in &ran {
        let printed = ran.printed();
        for secret in secrets {
            assert!(
                !printed.contains(secret),
                "{}: printed {secret}:\n{printed}",
                ran.what
            );
        }
    }
    // the debug output was there to search: the runs did say things
    assert!(ran.iter().all(|r| !r.printed().is_empty()));
}

/// The lock and credentials files are opened without following a symbolic link and
/// must be regular files of this user: a planted symlink, a FIFO (which used to hang
/// `config`) or a file of another user is 78 saying what to remove, and nothing is
/// created where the link points.
#[test_case::test_case("a symlinked lock file", "credentials.toml.lock", "is a symbolic link")]
#[test_case::test_case(
    "a symlinked credentials file",
    "credentials.toml",
    "is a symbolic link"
)]
#[test_case::test_case(
    "a FIFO as the credentials file",
    "credentials.toml",
    "is not a regular file"
)]
fn a_planted_file_is_78_and_never_followed(case: &str, name: &str, says: &str) {
    let env = TestEnv::new();
    env.write_config("");
    if name.ends_with(".lock") {
        env.write_credentials(&crate::mocks::google::expired_credentials(1));
    }
    let planted = env.config_dir().join(name);
    let elsewhere = env.home().join("chosen-by-someone-else");
    if case.contains("FIFO") {
        let made = std::process::Command::new("mkfifo")
            .arg(&planted)
            .status()
            .unwrap();
        assert!(made.success());
    } else {
        std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
    }
    // `config` reads the credentials but takes no lock
    let commands: &[&str] = if name.ends_with(".lock") {
        &["refresh"]
    } else {
        &["config", "refresh"]
    };
    for &command in commands {
        let output = env
            .cmd()
            .arg(command)
            .timeout(std::time::Duration::from_secs(10))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{} {says}", planted.display())),
            "{case}, {command}: {stderr}"
        );
        assert!(
            !elsewhere.exists(),
            "{case}: {command} created the link's target"
        );
        if command == "refresh" {
            assert_eq!(output.status.code(), Some(78), "{case}: {stderr}");
        }
    }
}

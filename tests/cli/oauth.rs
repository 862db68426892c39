//! `auth google` and `auth fitbit`: the same OAuth loopback flow (PKCE, a state, the
//! redirect to 127.0.0.1, the account's zone read with the new token), each test run
//! against each provider's mock; a row differs only in the provider's data. The test
//! plays the browser. What only one provider's `auth` does is in `google.rs`.

use std::fs;
use std::sync::{Arc, Mutex};

use test_case::test_case;
use wiremock::MockServer;

use crate::google::{self, Client};
use crate::harness::{AuthRun, Issued, assert_stdout_has, browse, closed_port, stderr_of};
use crate::mocks::{fitbit, google as gmock};
use crate::providers::Provider::{self, Fitbit, Google};
use crate::support::TestEnv;

/// The token endpoint of a consent: what the authorize URL promised it, and for Fitbit
/// the single-use endpoint, which must end clean (Google's mock counts its one exchange
/// itself).
struct Consent {
    issued: Arc<Mutex<Issued>>,
    fitbit: Option<fitbit::TokenEndpoint>,
}

impl Consent {
    fn assert_clean(&self) {
        if let Some(tokens) = &self.fitbit {
            tokens.assert_clean();
        }
    }
}

impl Provider {
    /// A code exchange that grants `granted` (every scope when `None`), and the account's
    /// zone, [`Provider::zone`], answered once to the new access token.
    async fn mount_consent(self, server: &MockServer, granted: Option<&[&str]>) -> Consent {
        match self {
            Google => {
                let granted = granted.unwrap_or(&gmock::ALL_SCOPES);
                Consent {
                    issued: google::mount_consent(server, granted).await,
                    fitbit: None,
                }
            }
            Fitbit => {
                let mut tokens = fitbit::TokenEndpoint::new(0);
                if let Some(granted) = granted {
                    tokens.granted = granted.join(" ");
                }
                tokens.mount(server).await;
                fitbit::mount_profile(server, &self.new_token(), self.zone(), 1).await;
                Consent {
                    issued: tokens.issued.clone(),
                    fitbit: Some(tokens),
                }
            }
        }
    }

    /// Starts `auth <name> <args>` with the client in the environment.
    fn auth_with_client_in_env(self, env: &TestEnv, args: &[&str]) -> AuthRun {
        match self {
            Google => google::auth_google(env, Client::Environment, args, &[]),
            Fitbit => AuthRun::start(
                env,
                &[&["auth", "fitbit"], args].concat(),
                &[
                    ("FITBIT_CLIENT_ID", fitbit::CLIENT_ID),
                    ("FITBIT_CLIENT_SECRET", fitbit::CLIENT_SECRET),
                ],
            ),
        }
    }

    /// Starts `auth <name>` as a user with a browser would: Google's client from the
    /// client file it downloaded; Fitbit's from the environment, at the loopback
    /// redirect registered for the app (here one nothing listens on).
    fn auth_in_the_browser(self, env: &TestEnv) -> AuthRun {
        match self {
            Google => google::auth_google(env, Client::File, &[], &[]),
            Fitbit => {
                let registered = format!("http://127.0.0.1:{}/callback", closed_port());
                let run = self.auth_with_client_in_env(env, &["--redirect-uri", &registered]);
                assert_eq!(run.param("redirect_uri"), registered);
                run
            }
        }
    }

    fn client_id(self) -> &'static str {
        match self {
            Google => gmock::CLIENT_ID,
            Fitbit => fitbit::CLIENT_ID,
        }
    }

    fn client_secret(self) -> &'static str {
        match self {
            Google => gmock::CLIENT_SECRET,
            Fitbit => fitbit::CLIENT_SECRET,
        }
    }

    /// Every scope, as the authorize URL asks for them.
    fn all_scopes(self) -> String {
        match self {
            Google => gmock::ALL_SCOPES.join(" "),
            Fitbit => fitbit::ALL_SCOPES.join(" "),
        }
    }

    /// The redirect the provider sends the browser back with after consent.
    fn consented(self, run: &AuthRun) -> String {
        match self {
            Google => google::redirect(run, &run.param("state")),
            Fitbit => run.redirect(&[("code", fitbit::CODE), ("state", &run.param("state"))]),
        }
    }
}

/// (provider, the authorize URL's path, parameters only it has, a request to the loopback
/// listener that is not the callback, the page the callback answers, what it prints of
/// the account's zone, the nutrition scope as stored)
#[test_case(Google, "/o/oauth2/v2/auth", &[("access_type", "offline"), ("prompt", "consent")], "/favicon.ico", "You can close this tab", "Google Health account time zone: Europe/Berlin", gmock::NUTRITION ; "google: a favicon request is not the callback")]
#[test_case(Fitbit, "/oauth2/authorize", &[], "/", "authorized for Fitbit", "Fitbit account time zone: Europe/London", "\"nutrition\"" ; "fitbit: only the registered path is the callback")]
#[tokio::test]
async fn auth_in_the_browser_uses_pkce_stores_the_tokens_privately_and_caches_the_zone(
    provider: Provider,
    authorize_path: &str,
    own_params: &[(&str, &str)],
    not_the_callback: &str,
    page: &str,
    zone_line: &str,
    nutrition: &str,
) {
    let (env, server) = provider.setup("").await;
    let consent = provider.mount_consent(&server, None).await;
    let run = provider.auth_in_the_browser(&env);

    assert_eq!(run.url.path(), authorize_path);
    assert_eq!(run.param("client_id"), provider.client_id());
    assert_eq!(run.param("scope"), provider.all_scopes());
    assert_eq!(run.param("response_type"), "code");
    assert_eq!(run.param("code_challenge_method"), "S256");
    for (name, value) in own_params {
        assert_eq!(run.param(name), *value, "{name}");
    }
    assert!(run.param("redirect_uri").starts_with("http://127.0.0.1:"));
    run.issue(&consent.issued);

    let elsewhere = url::Url::parse(&run.param("redirect_uri"))
        .unwrap()
        .join(not_the_callback)
        .unwrap();
    assert_eq!(browse(elsewhere.as_str()).0, 404, "{elsewhere}");
    let (status, answer) = browse(&provider.consented(&run));
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(page), "{answer}");

    let printed_url = run.url.to_string();
    let output = run.finish();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("warn"), "{stderr}");
    assert_stdout_has(&output, zone_line);
    consent.assert_clean();
    let saved = env.read_credentials();
    assert!(
        saved.starts_with(&format!("[{}]", provider.name())),
        "{saved}"
    );
    for expected in [
        provider.new_token(),
        provider.refreshed_refresh_token(),
        provider.client_id().to_string(),
        provider.client_secret().to_string(),
        nutrition.to_string(),
    ] {
        assert!(saved.contains(&expected), "{expected} not in {saved}");
    }
    assert_eq!(env.credentials_mode(), 0o600);
    let state = fs::read_to_string(env.state_path()).unwrap();
    assert!(state.contains(provider.zone()), "{state}");
    let opened = fs::read_to_string(env.home().join("opened-url")).unwrap();
    assert_eq!(opened.trim(), printed_url);
}

/// (provider, the scopes the user ticked, what the warnings say is missing, a scope
/// named in no warning, one not ticked as the credentials would store it, what the
/// pasted address ends with, the redirect URI of `--no-browser` when it is fixed)
#[test_case(
    Google,
    &[gmock::ACTIVITY, gmock::SLEEP, gmock::SETTINGS],
    &[
        "(https://www.googleapis.com/auth/googlehealth.nutrition.readonly) was not granted, so water will be missing",
        "(https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly) was not granted, so weight, body fat and resting heart rate will be missing",
    ],
    gmock::ACTIVITY,
    gmock::NUTRITION,
    "",
    None
    ; "google"
)]
#[test_case(
    Fitbit,
    &["activity", "sleep", "profile"],
    &[
        "the \"heartrate\" permission was not granted, so resting heart rate will be missing",
        "the \"nutrition\" permission was not granted, so water will be missing",
        "the \"weight\" permission was not granted, so weight and body fat will be missing",
        "the \"settings\" permission was not granted, so the device's name, battery and last sync will be missing",
    ],
    "\"activity\"",
    "\"nutrition\"",
    "#_=_",
    Some("http://127.0.0.1:8080/")
    ; "fitbit: the registered URI exactly, and the fragment Fitbit appends"
)]
#[tokio::test]
async fn auth_without_a_browser_reads_the_pasted_address_and_warns_about_unticked_scopes(
    provider: Provider,
    granted: &[&str],
    warnings: &[&str],
    not_warned: &str,
    not_granted: &str,
    fragment: &str,
    fixed_redirect_uri: Option<&str>,
) {
    let (env, server) = provider.setup("").await;
    let consent = provider.mount_consent(&server, Some(granted)).await;
    let mut run = provider.auth_with_client_in_env(&env, &["--no-browser"]);
    if let Some(uri) = fixed_redirect_uri {
        assert_eq!(run.param("redirect_uri"), uri);
    }
    run.issue(&consent.issued);
    let pasted = provider.consented(&run);
    run.paste(&format!("{pasted}{fragment}"));
    let output = run.finish();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    consent.assert_clean();
    let saved = env.read_credentials();
    assert!(saved.contains(&provider.new_token()), "{saved}");
    assert!(
        saved.contains(&provider.refreshed_refresh_token()),
        "{saved}"
    );
    assert!(
        !env.home().join("opened-url").exists(),
        "--no-browser opened a browser"
    );
    for warning in warnings {
        assert!(stderr.contains(warning), "{warning:?} not in {stderr}");
    }
    assert!(!stderr.contains(not_warned), "{stderr}");
    assert!(
        !saved.contains(not_granted),
        "granted scopes are stored: {saved}"
    );
}

/// No client it can use, and no terminal to ask on: 78, naming what to set.
#[test_case(Google, &["--client-secret-file", "{web}"], &[], "Desktop app" ; "google: a web client's file")]
#[test_case(Google, &["--no-browser"], &[], "GOOGLE_CLIENT_ID" ; "google: no client")]
#[test_case(Google, &[], &[("GOOGLE_CLIENT_ID", gmock::CLIENT_ID)], "GOOGLE_CLIENT_SECRET" ; "google: no secret")]
#[test_case(Fitbit, &["--no-browser"], &[], "set FITBIT_CLIENT_ID and FITBIT_CLIENT_SECRET" ; "fitbit: no client")]
#[test_case(Fitbit, &[], &[("FITBIT_CLIENT_ID", fitbit::CLIENT_ID)], "FITBIT_CLIENT_SECRET" ; "fitbit: no secret")]
#[test_case(Fitbit, &["--redirect-uri", "https://example.com/callback"], &[("FITBIT_CLIENT_ID", fitbit::CLIENT_ID), ("FITBIT_CLIENT_SECRET", fitbit::CLIENT_SECRET)], "is not an http://127.0.0.1:<port>/ address" ; "fitbit: a redirect URI it cannot listen on")]
fn auth_refuses_a_client_it_cannot_use_with_78(
    provider: Provider,
    args: &[&str],
    vars: &[(&str, &str)],
    needle: &str,
) {
    let env = TestEnv::new();
    let web = gmock::fixture_path("client_secret_web.json");
    let args = args
        .iter()
        .map(|arg| arg.replace("{web}", &web.display().to_string()));
    let output = env
        .cmd()
        .args(["auth", provider.name()])
        .args(args)
        .envs(vars.iter().copied())
        .write_stdin("")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

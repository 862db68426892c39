//! Faults a cron job meets over years, injected through the real binary: SIGKILL in the
//! middle of a token refresh, and servers that answer too slowly for the overall deadline.

use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use wiremock::matchers::path_regex;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{Daily, Options, requests_containing};
use crate::mocks::google::{Day, REFRESH_TOKEN, expired_credentials};
use crate::mocks::{Grant, SingleUseTokens};
use crate::support::TestEnv;

const KILLS: u32 = 200;

/// The refresh token stored in the credentials file, which must always parse.
fn stored_refresh_token(env: &TestEnv, iteration: u32) -> String {
    let text = env.read_credentials();
    let creds: toml::Table = toml::from_str(&text).unwrap_or_else(|err| {
        panic!("kill {iteration}: the credentials file is torn ({err}):\n{text}")
    });
    creds["google"]["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("kill {iteration}: no refresh token in\n{text}"))
        .to_string()
}

/// Where the kills landed.
#[derive(Debug, Default)]
struct Landings {
    /// Before the request was processed (or before it was sent): nothing was spent.
    nothing_spent: u32,
    /// After the new token was saved.
    saved: u32,
    /// After the endpoint committed a rotation and before the process saved its answer:
    /// the old token is spent and the new one died with the process. No client can save
    /// an answer it has not received; the old token still works within the endpoint's
    /// grace window, and the next refresh gets the same pair again.
    in_flight: u32,
}

#[test]
fn sigkill_at_any_point_of_a_refresh_leaves_a_readable_file_and_a_live_token() {
    let tokens =
        SingleUseTokens::start(REFRESH_TOKEN, "ya29.single-use", Duration::from_millis(10));
    let env = TestEnv::new();
    env.write_config(&format!(
        "[http]\nconnect_timeout = 2\ntimeout = 5\nattempts = 1\n\n[google_health]\ntoken_url = \"{}\"\n",
        tokens.token_url()
    ));
    env.write_credentials(&expired_credentials(1));
    let refresh = || {
        env.std_cmd()
            .arg("refresh")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // how long a whole refresh takes here, so that the kills spread over all of it: the
    // median of three, as one can be slowed by whatever else the machine is doing
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            assert!(refresh().wait().unwrap().success());
            started.elapsed()
        })
        .collect();
    times.sort();
    let whole = times[1];
    assert_eq!(stored_refresh_token(&env, 0), tokens.current());

    let seed = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut landed = Landings::default();
    let suite = Instant::now();
    for iteration in 1..=KILLS {
        let before = tokens.current();
        let mut child = refresh();
        thread::sleep(whole.mul_f64(rng.random_range(0.0..1.3)));
        let _ = child.kill(); // it may have finished already
        child.wait().unwrap();

        let stored = stored_refresh_token(&env, iteration);
        assert!(
            tokens.accepts(&stored),
            "kill {iteration} (seed {seed}): the file holds {stored}, which the endpoint no longer accepts"
        );
        match (stored == tokens.current(), stored == before) {
            (true, true) => landed.nothing_spent += 1,
            (true, false) => landed.saved += 1,
            (false, _) => landed.in_flight += 1,
        }
    }
    let duration = suite.elapsed();

    let refused: Vec<String> = tokens
        .grants()
        .into_iter()
        .filter_map(|grant| match grant {
            Grant::Refused { token } => Some(token),
            _ => None,
        })
        .collect();
    let abandoned = tokens
        .grants()
        .iter()
        .filter(|g| matches!(g, Grant::Abandoned))
        .count();
    eprintln!(
        "{KILLS} kills (seed {seed}) over a {whole:?} refresh in {duration:?}: {landed:?}; \
         {abandoned} requests abandoned by their killed client; refused: {refused:?}"
    );
    assert!(refused.is_empty(), "spent refresh tokens were sent again");
    assert!(
        landed.nothing_spent >= KILLS / 10 && landed.saved >= KILLS / 10 && abandoned > 0,
        "the kills did not spread over the whole refresh: {landed:?}, {abandoned} abandoned"
    );
    // the token left in the file is the one the endpoint accepts
    let output = env.output(&["refresh"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stored_refresh_token(&env, KILLS + 1), tokens.current());
}

#[tokio::test]
async fn the_deadline_stops_a_run_whose_server_keeps_answering_slowly() {
    // every attempt waits 0.5 s for a 503; 6 attempts with backoff would take 17 s
    let s = Daily::start(
        Day::standard(),
        Options::http("timeout = 5\nattempts = 6\ndeadline = 2"),
    )
    .await;
    Mock::given(path_regex("^/v4/"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(500)))
        .with_priority(1)
        .mount(&s.google)
        .await;
    run_until_a_2s_deadline(&s.env, "run against a slow server");
    let steps_attempts = requests_containing(&s.google, "/steps/").await;
    assert!(
        (1..=3).contains(&steps_attempts),
        "{steps_attempts} attempts"
    );
    assert!(s.x.posts().await.is_empty());
}

/// Runs the day with `deadline = 2` and expects it to give up there: 75, saying so, well
/// before the 30 s any wait inside it could take.
fn run_until_a_2s_deadline(env: &TestEnv, what: &str) {
    let started = Instant::now();
    let output = env.output(&["run", "--date", "2026-11-25"]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{what} gave up after {took:?}");
    assert_eq!(output.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("gave up after 2s (the [http] deadline"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn the_deadline_ends_a_wait_for_the_state_lock() {
    let s = Daily::start(Day::standard(), Options::http("deadline = 2")).await;
    // another process posting the day: this one holds its lock for the whole test
    let lock_path = s.env.state_path().with_extension("toml.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let holder = std::fs::File::create(&lock_path).unwrap();
    holder.lock().unwrap();
    run_until_a_2s_deadline(&s.env, "run waiting for a held state lock");
    assert!(s.x.posts().await.is_empty());
    drop(holder);
}

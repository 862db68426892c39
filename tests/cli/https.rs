//! Over HTTPS, through a TLS proxy that counts handshakes (the benchmark's, with a CA made
//! for the test and trusted through `[http] extra_root_ca`): the data round's concurrent
//! requests to the API host share one connection when the server speaks HTTP/2, and
//! still each get an answer from a server that speaks only HTTP/1.1.

use std::time::Duration;

use test_case::test_case;
use wiremock::MockServer;

use crate::mocks::google::{DAY, Day, OLD_TOKEN, valid_credentials};
use crate::mocks::tls::{Protocols, TestCa, TlsFront};
use crate::support::TestEnv;

/// The day's data requests with the zone configured: ten rollups, three lists, devices
/// (then the further pages of basal energy, one after the other on a free connection).
const DATA_REQUESTS: u32 = 14;

// Each answer takes long enough that no HTTP/1.1 connection is free again before every
// request has asked for one, so the count is exact.
#[test_case(Protocols::Http2, (1, 1) ; "one HTTP/2 connection carries the round")]
#[test_case(Protocols::Http11, (DATA_REQUESTS, 0) ; "HTTP/1.1 opens one for each request")]
#[tokio::test(flavor = "multi_thread")]
async fn the_data_round_connects_once_to_a_host_that_speaks_http2(
    protocols: Protocols,
    handshakes_and_h2: (u32, u32),
) {
    let google = MockServer::start().await;
    let mut day = Day::standard();
    day.delay = Duration::from_millis(300);
    day.mount(&google, OLD_TOKEN).await;
    let ca = TestCa::generate();
    let api = TlsFront::start(&ca, protocols, *google.address(), Duration::ZERO);
    let env = TestEnv::new();
    env.write_config(&format!(
        "timezone = \"Europe/Berlin\"\n\n[http]\nextra_root_ca = \"{}\"\n\n\
         [google_health]\napi_base = \"{}/v4/\"\n",
        ca.pem_file.display(),
        api.origin()
    ));
    env.write_credentials(&valid_credentials());

    let output = env
        .std_cmd()
        .args(["fetch", "--date", DAY])
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(api.handshakes(), handshakes_and_h2);
}

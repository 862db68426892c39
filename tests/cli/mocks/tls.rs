//! HTTPS in front of the loopback mocks, to see what a real network adds: a test CA and a
//! certificate for 127.0.0.1 made at start (the binary trusts the CA through the config's
//! `[http] extra_root_ca`, for loopback addresses only), and per host a TLS-terminating
//! proxy that counts the handshakes, charges each new connection the round trips it costs,
//! and passes the bytes on to the plain-HTTP mock, which speaks HTTP/1.1 or HTTP/2
//! (prior knowledge) as the two ends agreed by ALPN.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A new TCP connection costs one round trip (SYN, SYN-ACK) and TLS 1.3 one more before
/// the first request can leave.
pub const HANDSHAKE_ROUND_TRIPS: u32 = 2;

/// A CA made for this run and the certificate it issued for 127.0.0.1.
pub struct TestCa {
    /// The CA certificate in PEM, for `[http] extra_root_ca`.
    pub pem_file: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: KeyPair,
    _dir: tempfile::TempDir,
}

impl TestCa {
    /// A new CA and server key, made at random for this run.
    pub fn generate() -> Self {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = server.signed_by(&key, &ca).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem_file = dir.path().join("bench-ca.pem");
        std::fs::write(&pem_file, ca.pem()).unwrap();
        TestCa {
            pem_file,
            chain: vec![cert.der().clone()],
            key,
            _dir: dir,
        }
    }

    /// A server configuration offering `protocols` by ALPN.
    fn server_config(&self, protocols: &[&[u8]]) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::try_from(self.key.serialize_der()).unwrap();
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .unwrap();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// What the server offers by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocols {
    /// HTTP/2 and HTTP/1.1, as the real services do.
    Http2,
    /// HTTP/1.1 only: what a client built without HTTP/2 gets from any server.
    Http11,
}

impl Protocols {
    pub fn name(self) -> &'static str {
        match self {
            Protocols::Http2 => "h2",
            Protocols::Http11 => "http/1.1",
        }
    }

    fn alpn(self) -> &'static [&'static [u8]] {
        match self {
            Protocols::Http2 => &[b"h2", b"http/1.1"],
            Protocols::Http11 => &[b"http/1.1"],
        }
    }
}

/// One host: a TLS listener on 127.0.0.1 passing each connection to `backend`.
pub struct TlsFront {
    addr: SocketAddr,
    handshakes: Arc<AtomicU32>,
    h2: Arc<AtomicU32>,
}

impl TlsFront {
    /// Listens on its own thread (the benchmark's runtime blocks while the binary runs);
    /// each connection waits `HANDSHAKE_ROUND_TRIPS` x `latency` before its handshake.
    pub fn start(
        ca: &TestCa,
        protocols: Protocols,
        backend: SocketAddr,
        latency: Duration,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(ca.server_config(protocols.alpn()));
        let handshakes = Arc::new(AtomicU32::new(0));
        let h2 = Arc::new(AtomicU32::new(0));
        let (counted, counted_h2) = (Arc::clone(&handshakes), Arc::clone(&h2));
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    let (acceptor, counted, counted_h2) = (
                        acceptor.clone(),
                        Arc::clone(&counted),
                        Arc::clone(&counted_h2),
                    );
                    tokio::spawn(async move {
                        tokio::time::sleep(latency * HANDSHAKE_ROUND_TRIPS).await;
                        let Ok(mut tls) = acceptor.accept(client).await else {
                            return;
                        };
                        counted.fetch_add(1, Ordering::Relaxed);
                        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                            counted_h2.fetch_add(1, Ordering::Relaxed);
                        }
                        let Ok(mut mock) = tokio::net::TcpStream::connect(backend).await else {
                            return;
                        };
                        // an HTTP/2 request is a HEADERS and a DATA frame written apart:
                        // with Nagle on this extra hop the second waits for the mock's
                        // delayed ACK (40 ms), a wait no real path has
                        let _ = tls.get_ref().0.set_nodelay(true);
                        let _ = mock.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut mock).await;
                    });
                }
            });
        });
        TlsFront {
            addr,
            handshakes,
            h2,
        }
    }

    /// `https://127.0.0.1:port`
    pub fn origin(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Completed handshakes so far, and how many of them agreed on HTTP/2.
    pub fn handshakes(&self) -> (u32, u32) {
        (
            self.handshakes.load(Ordering::Relaxed),
            self.h2.load(Ordering::Relaxed),
        )
    }
}

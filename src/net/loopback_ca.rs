//! `[http] extra_root_ca`: a certificate authority trusted for loopback addresses only, so
//! that tests and the benchmark can run HTTPS mocks on 127.0.0.1 with a CA they generate.
//!
//! Why shipping it is safe: whoever can write the config can already point any endpoint at
//! plain http on loopback, so trusting a private CA there grants nothing new; every other
//! host is verified against the built-in Web PKI roots exactly as without the key. The
//! choice is made on the host as written in the URL (an IP literal), never on what a name
//! resolves to, so no DNS answer can bring a public name under the extra CA.

use std::net::IpAddr;
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// A TLS client configuration like reqwest's own (ring, TLS 1.2 and 1.3, the Web PKI
/// roots, HTTP/2 offered by ALPN), plus the CA in `ca_file` for loopback addresses.
pub fn client_config(ca_file: &Path) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = LoopbackCa::new(ca_file, &provider)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|err| unusable(ca_file, err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn unusable(ca_file: &Path, what: String) -> Error {
    Error::config(format!(
        "[http] extra_root_ca {}: {what}; name a PEM certificate or remove the key",
        ca_file.display()
    ))
}

/// Verifies a loopback address's certificate against the extra CA alone, and every other
/// server's against the Web PKI roots alone.
#[derive(Debug)]
struct LoopbackCa {
    public: Arc<WebPkiServerVerifier>,
    loopback: Arc<WebPkiServerVerifier>,
}

impl LoopbackCa {
    fn new(ca_file: &Path, provider: &Arc<CryptoProvider>) -> Result<LoopbackCa> {
        let unusable = |what: String| unusable(ca_file, what);
        let mut loopback_roots = RootCertStore::empty();
        for cert in
            CertificateDer::pem_file_iter(ca_file).map_err(|err| unusable(err.to_string()))?
        {
            let cert = cert.map_err(|err| unusable(err.to_string()))?;
            loopback_roots
                .add(cert)
                .map_err(|err| unusable(err.to_string()))?;
        }
        if loopback_roots.is_empty() {
            return Err(unusable("no certificate in it".into()));
        }
        let public_roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let verifier = |roots: RootCertStore| {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
                .build()
                .map_err(|err| unusable(err.to_string()))
        };
        Ok(LoopbackCa {
            public: verifier(public_roots)?,
            loopback: verifier(loopback_roots)?,
        })
    }
}

fn is_loopback(name: &ServerName<'_>) -> bool {
    match name {
        ServerName::IpAddress(ip) => IpAddr::from(*ip).is_loopback(),
        _ => false,
    }
}

impl ServerCertVerifier for LoopbackCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let verifier = if is_loopback(server_name) {
            &self.loopback
        } else {
            &self.public
        };
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    // the handshake signatures are checked against the certificate just verified, the
    // same way whichever roots vouched for it
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.public.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.public.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.public.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_loopback() {
        let cases = [
            ("127.0.0.1", true),
            ("127.8.9.10", true),
            ("::1", true),
            ("localhost", false),
            ("10.0.0.1", false),
            ("::ffff:127.0.0.1", false),
            ("health.googleapis.com", false),
            ("127.0.0.1.nip.io", false),
        ];
        for (host, loopback) in cases {
            let name = ServerName::try_from(host).unwrap();
            assert_eq!(is_loopback(&name), loopback, "{host}");
        }
    }

    /// A CA file, and certificates it issued for each of `hosts`.
    fn ca_and_certs(dir: &Path, hosts: &[&str]) -> (PathBuf, Vec<CertificateDer<'static>>) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let certs = hosts
            .iter()
            .map(|host| {
                let params = CertificateParams::new(vec![host.to_string()]).unwrap();
                let key = KeyPair::generate().unwrap();
                params.signed_by(&key, &ca).unwrap().der().clone()
            })
            .collect();
        let file = dir.join("ca.pem");
        std::fs::write(&file, ca.pem()).unwrap();
        (file, certs)
    }

    #[test]
    fn the_extra_ca_vouches_for_loopback_addresses_only() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = ["127.0.0.1", "health.googleapis.com", "localhost"];
        let (file, certs) = ca_and_certs(dir.path(), &hosts);
        let config = client_config(&file).unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = LoopbackCa::new(&file, &provider).unwrap();
        for ((host, cert), trusted) in hosts.iter().zip(&certs).zip([true, false, false]) {
            let name = ServerName::try_from(*host).unwrap();
            let verdict = verifier.verify_server_cert(cert, &[], &name, &[], UnixTime::now());
            assert_eq!(verdict.is_ok(), trusted, "{host}: {verdict:?}");
        }
    }

    #[test]
    fn a_file_without_a_certificate_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "not a certificate\n").unwrap();
        let err = client_config(&file).unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::Config);
        assert!(err.to_string().contains("extra_root_ca"), "{err}");
        let err = client_config(&dir.path().join("missing.pem")).unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::Config);
    }
}

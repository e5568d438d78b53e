//! What `onboard doctor` checks of any vendor's server before its client logs on: the name,
//! the port, the TLS certificate and the clock. Nothing is sent that changes anything.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::vendors::error::VendorError;
use crate::vendors::http::Http;
use crate::vendors::settings::VendorSettings;

/// One line of the doctor's table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    /// `None`: cannot be checked through the API (said, not failed).
    pub ok: Option<bool>,
    pub detail: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Whether onboarding needs it: a failure of one that is not only warns.
    pub needed: bool,
}

impl Finding {
    pub fn pass(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            ok: Some(true),
            detail: detail.into(),
            fix: None,
            needed: true,
        }
    }

    pub fn fail(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            check,
            ok: Some(false),
            detail: detail.into(),
            fix: Some(fix.into()),
            needed: true,
        }
    }

    pub fn unknown(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            ok: None,
            detail: detail.into(),
            fix: None,
            needed: false,
        }
    }

    /// A failed call, with the fix its kind calls for.
    pub fn failed_call(check: &'static str, err: &VendorError, fix: &str) -> Finding {
        let fix = match err.kind {
            crate::vendors::error::ErrorKind::Auth => fix.to_string(),
            crate::vendors::error::ErrorKind::Forbidden => {
                format!("{fix} (the vendor says the account may not do this)")
            }
            _ => "see the message; the network checks above say whether the server is reachable"
                .to_string(),
        };
        Finding::fail(check, err.message.clone(), fix)
    }

    /// Not needed for onboarding: a failure only warns.
    pub fn optional(mut self) -> Finding {
        self.needed = false;
        self
    }

    /// Whether this finding stops a green doctor.
    pub fn blocks(&self) -> bool {
        self.needed && self.ok == Some(false)
    }
}

/// What the network probe measured besides its findings: the round trip of one request.
pub struct Probed {
    pub findings: Vec<Finding>,
    pub round_trip: Option<Duration>,
    /// Whether the server could be reached at all (a logon is tried only then).
    pub reachable: bool,
}

/// DNS, TCP, TLS and the clock of one vendor's server.
pub async fn network(settings: &VendorSettings, http: &Http) -> Probed {
    let url = &settings.url;
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut findings = Vec::new();
    let unreachable = |findings| Probed {
        findings,
        round_trip: None,
        reachable: false,
    };
    let Some(addr) = resolve(settings, &host, port, &mut findings).await else {
        return unreachable(findings);
    };
    let Some(stream) = connect(settings, addr, &mut findings).await else {
        return unreachable(findings);
    };
    if url.scheme() == "https" {
        let tls = tls(settings, &host, stream).await;
        let ok = !tls.blocks();
        findings.push(tls);
        if !ok {
            return unreachable(findings);
        }
    }
    let (clock, round_trip) = clock(http).await;
    findings.extend(clock);
    Probed {
        findings,
        round_trip,
        reachable: true,
    }
}

/// The server's first address, with the dns finding.
async fn resolve(
    settings: &VendorSettings,
    host: &str,
    port: u16,
    findings: &mut Vec<Finding>,
) -> Option<std::net::SocketAddr> {
    let looked_up = tokio::time::timeout(
        settings.connect_timeout,
        tokio::net::lookup_host((host, port)),
    )
    .await;
    let addrs: Vec<std::net::SocketAddr> = match looked_up {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => {
            findings.push(Finding::fail(
                "dns",
                format!("{host}: {e}"),
                "check the host name in `url` and the machine's DNS",
            ));
            return None;
        }
        Err(_) => {
            findings.push(Finding::fail(
                "dns",
                format!("{host}: no answer in time"),
                "check the machine's DNS servers",
            ));
            return None;
        }
    };
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    findings.push(Finding::pass(
        "dns",
        format!("{host} is {}", shown.join(", ")),
    ));
    addrs.first().copied()
}

/// A TCP connection to `addr`, with the tcp finding.
async fn connect(
    settings: &VendorSettings,
    addr: std::net::SocketAddr,
    findings: &mut Vec<Finding>,
) -> Option<tokio::net::TcpStream> {
    let started = Instant::now();
    let tcp = tokio::time::timeout(
        settings.connect_timeout,
        tokio::net::TcpStream::connect(addr),
    )
    .await;
    match tcp {
        Ok(Ok(s)) => {
            findings.push(Finding::pass(
                "tcp",
                format!(
                    "connected to {addr} in {:.1} ms",
                    started.elapsed().as_secs_f64() * 1000.0
                ),
            ));
            Some(s)
        }
        Ok(Err(e)) => {
            findings.push(Finding::fail(
                "tcp",
                format!("{addr}: {e}"),
                "check the port in `url`, that the service runs, and any firewall between",
            ));
            None
        }
        Err(_) => {
            findings.push(Finding::fail(
                "tcp",
                format!(
                    "{addr}: no connection within {}s",
                    settings.connect_timeout.as_secs()
                ),
                "a firewall may drop the packets; check the port and the route",
            ));
            None
        }
    }
}

/// The server's certificate: who it is for, until when, and which CA vouches for it.
async fn tls(settings: &VendorSettings, host: &str, stream: tokio::net::TcpStream) -> Finding {
    let fix_trust = "add the CA that issued it with `ca_cert = \"ca.pem\"` in the profile (or \
                     `insecure = true` for a test system only)";
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        return Finding::fail(
            "tls",
            format!("{host} is not a name TLS can check"),
            "use the server's DNS name in `url`",
        );
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let capture = Arc::new(Capture(provider.clone()));
    let config = match rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(capture)
            .with_no_client_auth(),
        Err(e) => return Finding::fail("tls", e.to_string(), "report this as a bug"),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = tokio::time::timeout(
        settings.connect_timeout,
        connector.connect(name.clone(), stream),
    )
    .await;
    let conn = match handshake {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            return Finding::fail(
                "tls",
                format!("the TLS handshake failed: {e}"),
                "check that `url` names the HTTPS port",
            );
        }
        Err(_) => {
            return Finding::fail(
                "tls",
                "no TLS handshake in time",
                "check that `url` names the HTTPS port",
            );
        }
    };
    let chain: Vec<CertificateDer<'static>> = conn
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let Some((leaf, rest)) = chain.split_first() else {
        return Finding::fail("tls", "the server sent no certificate", fix_trust);
    };
    let described = describe(leaf);
    if settings.insecure {
        return Finding::pass(
            "tls",
            format!("{described}; not verified: the profile says insecure = true"),
        );
    }
    match verify(settings, &provider, &name, leaf, rest) {
        Ok(source) => Finding::pass("tls", format!("{described}; verified by {source}")),
        Err(failure) => Finding::fail(
            "tls",
            format!("{described}; not trusted: {failure}"),
            fix_trust,
        ),
    }
}

/// Which store vouches for the chain (the profile's `ca_cert` first), or why none does.
fn verify(
    settings: &VendorSettings,
    provider: &Arc<rustls::crypto::CryptoProvider>,
    name: &ServerName<'static>,
    leaf: &CertificateDer<'static>,
    rest: &[CertificateDer<'static>],
) -> Result<&'static str, String> {
    let now = UnixTime::now();
    let mut stores = Vec::new();
    if let Some(pem) = &settings.ca_pem {
        stores.push((
            "the profile's ca_cert",
            roots(CertificateDer::pem_slice_iter(pem).filter_map(Result::ok)),
        ));
    }
    stores.push((
        "the system's CA store",
        roots(rustls_native_certs::load_native_certs().certs),
    ));
    let mut failure = String::new();
    for (source, store) in stores {
        let verifier =
            match WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
            {
                Ok(v) => v,
                Err(e) => {
                    failure = e.to_string();
                    continue;
                }
            };
        match verifier.verify_server_cert(leaf, rest, name, &[], now) {
            Ok(_) => return Ok(source),
            Err(e) => failure = e.to_string(),
        }
    }
    Err(failure)
}

fn roots(certs: impl IntoIterator<Item = CertificateDer<'static>>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    store
}

/// A certificate's subject, issuer and end of validity, in a line.
fn describe(cert: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(cert) {
        Ok((_, c)) => {
            let until = c.validity().not_after;
            let left = until.timestamp() - UnixTime::now().as_secs() as i64;
            format!(
                "certificate for {} from {}, valid until {} ({} days left)",
                c.subject(),
                c.issuer(),
                until,
                left / 86_400
            )
        }
        Err(e) => format!("a certificate that cannot be read ({e})"),
    }
}

/// The offset of the server's clock (its `Date`), from one harmless GET of the base URL; and
/// that request's round trip.
async fn clock(http: &Http) -> (Option<Finding>, Option<Duration>) {
    let sent = SystemTime::now();
    let started = Instant::now();
    let Ok(response) = http
        .request(reqwest::Method::GET, http.url("", &[]))
        .send()
        .await
    else {
        return (None, None);
    };
    let round_trip = started.elapsed();
    let date = response
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    let Some(date) = date else {
        return (
            Some(Finding::unknown("clock", "the server sent no Date header")),
            Some(round_trip),
        );
    };
    // The server stamped its answer about halfway through the round trip; its Date has whole
    // seconds, so offsets under a second are noise.
    let local = sent + round_trip / 2;
    let offset = match date.duration_since(local) {
        Ok(ahead) => ahead.as_secs_f64(),
        Err(behind) => -behind.duration().as_secs_f64(),
    };
    let finding = if offset.abs() <= 60.0 {
        Finding::pass(
            "clock",
            format!("within {:.0} s of the server's", offset.abs().max(1.0)),
        )
    } else {
        Finding::fail(
            "clock",
            format!(
                "{:.0} s {} the server's",
                offset.abs(),
                if offset > 0.0 { "behind" } else { "ahead of" }
            ),
            "synchronise this machine's clock (NTP): tokens and the journal's times depend on it",
        )
    };
    (Some(finding), Some(round_trip))
}

/// A verifier that accepts any chain but checks the handshake's signatures, so that the chain
/// can be verified afterwards against each store, and the failure named exactly.
#[derive(Debug)]
struct Capture(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

//! HTTPS for `onboard sim --tls`: a throwaway CA and server certificate made at start.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Accepts TCP connections and hands out those whose TLS handshake finished. Handshakes run in
/// their own tasks so one slow client cannot hold up the others.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Make the certificates, write the CA to `ca_out` (see `write_ca`), and start accepting.
    pub fn new(tcp: TcpListener, ca_out: &Path) -> Result<TlsListener, String> {
        let local = tcp.local_addr().map_err(|e| e.to_string())?;
        let (ca_pem, chain, key) = certificates()?;
        write_ca(ca_out, &ca_pem).map_err(|e| {
            format!(
                "cannot write the CA certificate to {}: {e}",
                ca_out.display()
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("bad simulator certificate: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let Ok((stream, addr)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                    // A client that rejects our certificate ends here; that is the point of a test.
                    if let Ok(Ok(tls)) = handshake.await {
                        let _ = tx.send((tls, addr)).await;
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// A new file beside `path`, made for this write alone (never through a link or over another
/// process's file), then renamed onto `path`: a link there is replaced, not followed.
fn write_ca(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.tmp",
        crate::util::secret::random_hex(8)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    let mut file = options.open(&tmp)?;
    file.write_all(pem.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A folder of the temp folder that only this user can enter, made for this simulator alone,
/// for its CA when `--ca-out` does not say where.
pub fn private_dir() -> Result<std::path::PathBuf, String> {
    for _ in 0..8 {
        let dir = std::env::temp_dir().join(format!(
            "onboard-sim-{}",
            crate::util::secret::random_hex(8)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot make a folder for the CA in {}: {e}",
                    dir.display()
                ));
            }
        }
    }
    Err("cannot make a private folder for the CA in the temp folder".into())
}

type Certs = (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A CA (its PEM) and a server certificate for 127.0.0.1 and localhost signed by it.
fn certificates() -> Result<Certs, String> {
    let err = |e: rcgen::Error| format!("cannot make the simulator's certificates: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "onboard simulator CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "onboard simulator");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(err)?;
    let cert = params.signed_by(&key, &issuer).map_err(err)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((
        ca_cert.pem(),
        vec![cert.der().clone(), ca_cert.der().clone()],
        key_der,
    ))
}

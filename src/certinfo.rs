//! `emp-seal cert`: what a sealing certificate is, which overlays use it, whether their
//! `SealedSecret`s were sealed with it, and fetching a controller's certificate.
//!
//! Owns: resolving `ENV|PATH` to certificate files, the usage and "sealed with" report, and
//! [`fetch`] (http and https via a minimal HTTP/1.1 client over `std::net`, TLS by `rustls` with
//! the AWS-LC provider and verification always on; `file://` from disk), and [`save_fetched`],
//! which checks a download before it replaces the old file through [`crate::fsio`]. Must not
//! print, read kubeconfig (the trust roots are the system's plus the `--ca-cert` file the user
//! names), or decrypt anything: "sealed with" is decided from the `emp-seal.dev/cert-sha256`
//! record and the ciphertexts' structure.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use crate::cert::{CertError, Certificate};
use crate::fsio;
use crate::kustomize;
use crate::rules::ciphertext::{self, Kind, Reason};
use crate::seal::{self, DEFAULT_CERT_FILE, MAX_INPUT_BYTES, SealError, rel};
use crate::sealedsecret::{CERT_SHA256_ANNOTATION, SealedSecretFile};

/// Largest certificate download accepted (a controller's PEM is about 2 KiB).
pub const MAX_CERT_BYTES: u64 = 1024 * 1024;

/// Connect and read timeout of [`fetch`].
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

const SECONDS_PER_DAY: i64 = 86_400;

/// Errors of `emp-seal cert`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertInfoError {
    /// Resolving the environment or reading a file failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The environment has no sealing certificate yet.
    #[error("{env}: no sealing certificate at {path}")]
    NoCert {
        /// The environment.
        env: String,
        /// Where it was looked for.
        path: String,
    },
    /// No overlay has a sealing certificate.
    #[error("no overlay has a {DEFAULT_CERT_FILE}")]
    NoCerts,
    /// `--fetch` without a target.
    #[error("--fetch needs an environment or a path to save the certificate to")]
    FetchNeedsTarget,
    /// The file is not a usable certificate.
    #[error("{file}: {source}")]
    Cert {
        /// The file.
        file: String,
        /// The problem.
        source: CertError,
    },
    /// The URL could not be used or fetched.
    #[error("{url}: {reason}")]
    Fetch {
        /// The URL (without credentials).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The TLS connection of an `https://` URL failed; nothing was saved.
    #[error("{url}: TLS: {reason}")]
    Tls {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
        /// The kind of failure (selects the hint).
        problem: TlsProblem,
    },
    /// The `--ca-cert` file holds no usable CA certificate.
    #[error("{file}: not a usable CA certificate file: {reason}")]
    CaCert {
        /// The file.
        file: String,
        /// The problem.
        reason: String,
    },
    /// The downloaded body is not a usable certificate; nothing was saved.
    #[error("{url}: the download is not a usable certificate, nothing was saved: {source}")]
    NotACertificate {
        /// The URL.
        url: String,
        /// The problem.
        source: CertError,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

impl CertInfoError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            CertInfoError::Seal(e) => e.hint(),
            CertInfoError::NoCert { env, .. } => Some(format!(
                "fetch it: `emp-seal cert {env} --fetch URL` or `kubeseal --fetch-cert > k8s/overlays/{env}/{DEFAULT_CERT_FILE}` (docs/certificates.md)"
            )),
            CertInfoError::NoCerts => {
                Some("fetch one: emp-seal cert ENV --fetch URL (docs/certificates.md)".to_owned())
            }
            CertInfoError::FetchNeedsTarget => {
                Some("e.g. emp-seal cert paper --fetch http://127.0.0.1:8080/v1/cert.pem".to_owned())
            }
            CertInfoError::Fetch { .. } => Some(
                "is the controller reachable? e.g. `kubectl -n kube-system port-forward svc/sealed-secrets-controller 8080:8080` then http://127.0.0.1:8080/v1/cert.pem"
                    .to_owned(),
            ),
            CertInfoError::Tls { problem, .. } => Some(problem.hint().to_owned()),
            CertInfoError::CaCert { .. } => Some(
                "--ca-cert takes a PEM file of CERTIFICATE blocks, e.g. the cluster CA: kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > ca.pem"
                    .to_owned(),
            ),
            CertInfoError::NotACertificate { .. } => Some(
                "the URL should serve the controller's /v1/cert.pem (a PEM CERTIFICATE)".to_owned(),
            ),
            CertInfoError::Cert { source, .. } => source.hint().map(str::to_owned),
            CertInfoError::Fs(e) => e.hint().map(str::to_owned),
        }
    }
}

/// Which part of an `https://` connection failed, for [`CertInfoError::Tls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The server's certificate does not chain to a trusted root (system roots or `--ca-cert`).
    Untrusted,
    /// The server's certificate does not name the URL's host.
    WrongHost,
    /// The server's certificate is expired or not yet valid.
    Expired,
    /// Anything else: a protocol error, an alert, a server that does not speak TLS.
    Handshake,
}

impl TlsProblem {
    /// What the user can do about it.
    pub fn hint(self) -> &'static str {
        match self {
            TlsProblem::Untrusted => {
                "if the server uses a private CA (e.g. the cluster's), pass it with --ca-cert ca.pem or EMP_SEAL_FETCH_CA_CERT; emp-seal never reads kubeconfig (docs/certificates.md)"
            }
            TlsProblem::WrongHost => {
                "use a host name the server's certificate lists in its subjectAltName, or fetch through `kubectl port-forward` over http://127.0.0.1:8080/v1/cert.pem"
            }
            TlsProblem::Expired => {
                "the server's certificate must be renewed (or this machine's clock is wrong); verification cannot be turned off"
            }
            TlsProblem::Handshake => {
                "is the URL an https endpoint? The sealed-secrets controller itself serves plain http (port 8080): use http:// through `kubectl port-forward`"
            }
        }
    }
}

/// Options of [`fetch`] and [`save_fetched`].
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// A PEM file of CA certificates trusted for `https://` in addition to the system's roots
    /// (`--ca-cert`). Ignored for `http://` and `file://`.
    pub ca_cert: Option<PathBuf>,
}

/// What a certificate is.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// The file it was read from.
    pub path: PathBuf,
    /// Subject, RFC 4514 style.
    pub subject: String,
    /// RSA key size in bits.
    pub key_bits: usize,
    /// `NotBefore`, Unix seconds.
    pub not_before: u64,
    /// `NotAfter`, Unix seconds.
    pub not_after: u64,
    /// Whole days until `NotAfter` (negative once expired).
    pub days_left: i64,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    /// kubeseal's SSH-style public-key fingerprint.
    pub ssh_fingerprint: String,
    /// Whether it is emp-seal's demo certificate.
    pub demo: bool,
}

impl CertInfo {
    fn new(path: &Path, c: &Certificate, now: u64) -> CertInfo {
        let after = i64::try_from(c.not_after()).unwrap_or(i64::MAX);
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        CertInfo {
            path: path.to_path_buf(),
            subject: c.subject().to_owned(),
            key_bits: c.key_bits(),
            not_before: c.not_before(),
            not_after: c.not_after(),
            days_left: (after - now).div_euclid(SECONDS_PER_DAY),
            sha256: c.sha256_fingerprint(),
            ssh_fingerprint: c.ssh_fingerprint(),
            demo: c.is_demo(),
        }
    }

    /// Expired, or within [`crate::cert::EXPIRY_WARNING_DAYS`] of expiring.
    pub fn needs_attention(&self) -> bool {
        self.days_left < i64::try_from(crate::cert::EXPIRY_WARNING_DAYS).unwrap_or(30)
    }
}

/// Whether an overlay's `SealedSecret` was sealed with the certificate under inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedState {
    /// The `emp-seal.dev/cert-sha256` record names this certificate and every value fits its key.
    WithThis,
    /// The record names another certificate.
    WithOther {
        /// The recorded SHA-256.
        sha256: String,
    },
    /// The record names this certificate, but some values cannot come from its key.
    RecordButValuesDiffer {
        /// Keys whose ciphertext does not fit this key.
        keys: Vec<String>,
    },
    /// No record, and some values cannot come from this key (other key size, or above its modulus).
    NotThis {
        /// Keys whose ciphertext does not fit this key.
        keys: Vec<String>,
    },
    /// No record; every value is structurally consistent with this key (cannot be proven
    /// without the private key).
    Unknown,
    /// Nothing sealed yet: placeholders or no values.
    NotSealed,
}

/// One overlay's `SealedSecret` compared with the certificate.
#[derive(Debug, Clone)]
pub struct SealedUse {
    /// The environment.
    pub env: String,
    /// The `SealedSecret` file.
    pub file: PathBuf,
    /// The verdict.
    pub state: SealedState,
}

/// The full report on one certificate.
#[derive(Debug, Clone)]
pub struct CertReport {
    /// The certificate.
    pub info: CertInfo,
    /// Environments whose `sealing-cert.pem` is this certificate.
    pub used_by: Vec<String>,
    /// Every overlay with a `SealedSecret`, and whether it was sealed with this certificate.
    pub sealed: Vec<SealedUse>,
}

/// The certificate file an `ENV|PATH` argument names: an overlay's `sealing-cert.pem` when it is
/// an environment name, else the path. Returns the environment too.
///
/// # Errors
/// [`CertInfoError::Seal`] with [`SealError::UnknownEnv`] for a bare name that is neither.
pub fn resolve_target(
    root: &Path,
    target: &str,
) -> Result<(PathBuf, Option<String>), CertInfoError> {
    let p = Path::new(target);
    let bare = !target.contains(['/', '\\']);
    if bare && let Ok(dir) = seal::overlay_dir(root, target) {
        return Ok((dir.join(DEFAULT_CERT_FILE), Some(target.to_owned())));
    }
    if p.exists() || !bare || target.ends_with(".pem") || target.ends_with(".crt") {
        return Ok((p.to_path_buf(), None));
    }
    Err(seal::overlay_dir(root, target)
        .err()
        .map_or(CertInfoError::NoCerts, CertInfoError::Seal))
}

fn load(root: &Path, path: &Path) -> Result<Certificate, CertInfoError> {
    let bytes = fsio::read_limited(path, MAX_INPUT_BYTES)?;
    Certificate::from_pem(&bytes).map_err(|source| CertInfoError::Cert {
        file: rel(root, path),
        source,
    })
}

/// Reports on the certificate(s) named by `target` (`None`: every overlay's `sealing-cert.pem`).
///
/// # Errors
/// Any [`CertInfoError`].
pub fn inspect(
    root: &Path,
    target: Option<&str>,
    now: u64,
) -> Result<Vec<CertReport>, CertInfoError> {
    let paths: Vec<PathBuf> = match target {
        Some(t) => {
            let (path, env) = resolve_target(root, t)?;
            if let Some(env) = env
                && !path.is_file()
            {
                return Err(CertInfoError::NoCert {
                    env,
                    path: rel(root, &path),
                });
            }
            vec![path]
        }
        None => {
            let found: Vec<PathBuf> = kustomize::discover_overlays(root)
                .into_iter()
                .map(|o| o.dir.join(DEFAULT_CERT_FILE))
                .filter(|p| p.is_file())
                .collect();
            if found.is_empty() {
                return Err(CertInfoError::NoCerts);
            }
            found
        }
    };
    let overlays = kustomize::discover_overlays(root);
    let mut reports = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        let cert = load(root, &path)?;
        let info = CertInfo::new(&path, &cert, now);
        if !seen.insert(info.sha256.clone()) {
            continue;
        }
        let used_by = overlays
            .iter()
            .filter(|o| {
                let p = o.dir.join(DEFAULT_CERT_FILE);
                p.is_file()
                    && fsio::read_limited(&p, MAX_INPUT_BYTES)
                        .ok()
                        .and_then(|b| Certificate::from_pem(&b).ok())
                        .is_some_and(|c| c.sha256_fingerprint() == info.sha256)
            })
            .map(|o| o.name.clone())
            .collect();
        let sealed = overlays
            .iter()
            .filter_map(|o| sealed_use(root, &o.name, &cert, &info.sha256))
            .collect();
        reports.push(CertReport {
            info,
            used_by,
            sealed,
        });
    }
    Ok(reports)
}

fn sealed_use(root: &Path, env: &str, cert: &Certificate, sha: &str) -> Option<SealedUse> {
    let (file, name, _) = seal::sealed_secret_of(root, env).ok()?;
    let text = fsio::read_to_string_limited(&file, MAX_INPUT_BYTES).ok()?;
    let parsed = SealedSecretFile::parse(&text).ok()?;
    let (_, doc) = parsed
        .sealed_secrets()
        .find(|(_, d)| d.name.as_deref() == Some(name.as_str()))?;
    let mut placeholders = 0;
    let mut misfit = Vec::new();
    for e in &doc.encrypted_data {
        let verdict = ciphertext::classify(&e.value, Some(cert.public_key()));
        let reasons = verdict.reasons();
        if reasons.iter().any(|r| r.kind() == Kind::Placeholder) {
            placeholders += 1;
        } else if reasons
            .iter()
            .any(|r| matches!(r, Reason::KeySizeMismatch { .. } | Reason::NotBelowModulus))
        {
            misfit.push(e.key.clone());
        }
    }
    let state = if placeholders == doc.encrypted_data.len() {
        SealedState::NotSealed
    } else {
        match doc.annotation(CERT_SHA256_ANNOTATION) {
            Some(rec) if rec.eq_ignore_ascii_case(sha) && misfit.is_empty() => {
                SealedState::WithThis
            }
            Some(rec) if rec.eq_ignore_ascii_case(sha) => {
                SealedState::RecordButValuesDiffer { keys: misfit }
            }
            Some(rec) => SealedState::WithOther {
                sha256: rec.to_owned(),
            },
            None if misfit.is_empty() => SealedState::Unknown,
            None => SealedState::NotThis { keys: misfit },
        }
    };
    Some(SealedUse {
        env: env.to_owned(),
        file,
        state,
    })
}

/// A parsed `--fetch` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Url {
    File(PathBuf),
    Http {
        tls: bool,
        host: String,
        port: u16,
        path: String,
    },
}

fn fetch_err(url: &str, reason: impl Into<String>) -> CertInfoError {
    CertInfoError::Fetch {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

fn parse_url(url: &str) -> Result<Url, CertInfoError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| fetch_err(url, "not a URL (expected http://, https:// or file://)"))?;
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "file" => {
            // file:///abs/path or file://localhost/abs/path
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(fetch_err(
                    url,
                    "a file URL needs an absolute path (file:///path)",
                ));
            }
            Ok(Url::File(PathBuf::from(path)))
        }
        "http" | "https" => {
            let tls = scheme == "https";
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            if authority.contains('@') {
                return Err(fetch_err(url, "credentials in URLs are not supported"));
            }
            let default_port = if tls { 443 } else { 80 };
            let (host, port) = split_host_port(authority, default_port)
                .ok_or_else(|| fetch_err(url, "invalid host or port"))?;
            let path = path.split('#').next().unwrap_or("/");
            Ok(Url::Http {
                tls,
                host,
                port,
                path: path.to_owned(),
            })
        }
        other => Err(fetch_err(url, format!("unsupported URL scheme `{other}`"))),
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if authority.is_empty() {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h.to_owned(), p.parse().ok()?)),
        Some(_) => None,
        None => Some((authority.to_owned(), default_port)),
    }
}

/// Downloads a certificate: `http://` or `https://` with a minimal HTTP/1.1 GET (no redirects, at
/// most [`MAX_CERT_BYTES`], [`FETCH_TIMEOUT`] per step), or `file://` from disk. Returns the body;
/// does not check it.
///
/// `https://` always verifies the server: its certificate must be valid now, name the URL's host
/// and chain to one of the system's trusted roots or to `opts.ca_cert`. There is no way to turn
/// verification off.
///
/// # Errors
/// [`CertInfoError::Fetch`] naming the URL and the problem (unreachable, status, too large),
/// [`CertInfoError::Tls`] when the TLS connection fails, [`CertInfoError::CaCert`] or
/// [`CertInfoError::Fs`] when `opts.ca_cert` is unusable.
pub fn fetch(url: &str, opts: &FetchOptions) -> Result<Vec<u8>, CertInfoError> {
    match parse_url(url)? {
        Url::File(p) => {
            fsio::read_limited(&p, MAX_CERT_BYTES).map_err(|e| fetch_err(url, e.to_string()))
        }
        Url::Http {
            tls: false,
            host,
            port,
            path,
        } => {
            let stream = connect(url, &host, port)?;
            exchange(url, stream, &host, port, &path)
        }
        Url::Http {
            tls: true,
            host,
            port,
            path,
        } => {
            // Read the trust roots before touching the network: a bad --ca-cert is the user's
            // mistake to report, whatever the server does.
            let config = tls_config(url, opts)?;
            let tcp = connect(url, &host, port)?;
            let stream = tls_handshake(url, config, &host, tcp)?;
            exchange(url, stream, &host, port, &path)
        }
    }
}

fn connect(url: &str, host: &str, port: u16) -> Result<TcpStream, CertInfoError> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| fetch_err(url, format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, FETCH_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let stream = stream.ok_or_else(|| {
        fetch_err(
            url,
            format!(
                "cannot connect to {host}:{port}: {}",
                last.map_or_else(|| "no address".to_owned(), |e| e.to_string())
            ),
        )
    })?;
    let io = |e: std::io::Error| fetch_err(url, format!("connection failed: {e}"));
    stream.set_read_timeout(Some(FETCH_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(FETCH_TIMEOUT)).map_err(io)?;
    Ok(stream)
}

/// The client configuration for `https://`: the system's roots plus `opts.ca_cert`, the AWS-LC
/// provider, TLS 1.2 and 1.3, ALPN `http/1.1` (the only protocol spoken here).
fn tls_config(url: &str, opts: &FetchOptions) -> Result<Arc<rustls::ClientConfig>, CertInfoError> {
    let mut roots = rustls::RootCertStore::empty();
    // The platform's store (SSL_CERT_FILE / SSL_CERT_DIR are honoured). Unreadable entries are
    // skipped: a missing system store only means that a --ca-cert is needed.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = &opts.ca_cert {
        let file = path.display().to_string();
        let bad = |reason: String| CertInfoError::CaCert {
            file: file.clone(),
            reason,
        };
        let pem = fsio::read_limited(path, MAX_INPUT_BYTES)?;
        let mut added = 0usize;
        for item in CertificateDer::pem_slice_iter(&pem) {
            let der = item.map_err(|e| bad(format!("invalid PEM: {e}")))?;
            roots
                .add(der)
                .map_err(|e| bad(format!("not a CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no PEM CERTIFICATE block in it".to_owned()));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CertInfoError::Tls {
            url: url.to_owned(),
            reason: format!("cannot set up TLS: {e}"),
            problem: TlsProblem::Handshake,
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn tls_handshake(
    url: &str,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    mut tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, CertInfoError> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| fetch_err(url, format!("`{host}` is not a valid TLS server name")))?;
    let mut conn =
        rustls::ClientConnection::new(config, name).map_err(|e| tls_error(url, host, &e))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| tls_io_error(url, host, &e))?;
    }
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// Classifies an I/O error of the handshake: rustls reports its own errors wrapped in `io::Error`.
fn tls_io_error(url: &str, host: &str, e: &std::io::Error) -> CertInfoError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return tls_error(url, host, inner);
    }
    let reason = match e.kind() {
        ErrorKind::UnexpectedEof => {
            "handshake failed: the server closed the connection (is it an https endpoint?)"
                .to_owned()
        }
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            format!(
                "handshake failed: no answer within {} s",
                FETCH_TIMEOUT.as_secs()
            )
        }
        _ => format!("handshake failed: {e}"),
    };
    CertInfoError::Tls {
        url: url.to_owned(),
        reason,
        problem: TlsProblem::Handshake,
    }
}

fn tls_error(url: &str, host: &str, e: &rustls::Error) -> CertInfoError {
    use rustls::CertificateError as C;
    let (problem, reason) = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => (
                TlsProblem::Untrusted,
                "the server's certificate is not signed by a trusted CA (unknown issuer)"
                    .to_owned(),
            ),
            C::NotValidForName => (
                TlsProblem::WrongHost,
                format!("the server's certificate is not valid for {host}"),
            ),
            C::NotValidForNameContext { presented, .. } => (
                TlsProblem::WrongHost,
                format!(
                    "the server's certificate is not valid for {host} (it names {})",
                    if presented.is_empty() {
                        "no host".to_owned()
                    } else {
                        presented
                            .iter()
                            .map(|n| san_label(n))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ),
            C::Expired => (
                TlsProblem::Expired,
                "the server's certificate has expired".to_owned(),
            ),
            C::ExpiredContext { not_after, .. } => (
                TlsProblem::Expired,
                format!(
                    "the server's certificate expired at {}",
                    crate::cert::rfc3339(not_after.as_secs())
                ),
            ),
            C::NotValidYet => (
                TlsProblem::Expired,
                "the server's certificate is not valid yet".to_owned(),
            ),
            C::NotValidYetContext { not_before, .. } => (
                TlsProblem::Expired,
                format!(
                    "the server's certificate is not valid before {}",
                    crate::cert::rfc3339(not_before.as_secs())
                ),
            ),
            other => (
                TlsProblem::Untrusted,
                format!("the server's certificate was rejected: {other}"),
            ),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => (
            TlsProblem::Handshake,
            format!("handshake failed: {e} (is it an https endpoint?)"),
        ),
        other => (TlsProblem::Handshake, format!("handshake failed: {other}")),
    };
    CertInfoError::Tls {
        url: url.to_owned(),
        reason,
        problem,
    }
}

/// A subjectAltName as openssl prints it (`DNS:x`, `IP:x`), from rustls-webpki's rendering
/// (`DnsName("x")`, `IpAddress(x)`; rustls-webpki `src/subject_name/mod.rs` `GeneralName` Debug).
fn san_label(name: &str) -> String {
    if let Some(dns) = name
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
    {
        format!("DNS:{dns}")
    } else if let Some(ip) = name
        .strip_prefix("IpAddress(")
        .and_then(|r| r.strip_suffix(')'))
    {
        format!("IP:{ip}")
    } else {
        name.to_owned()
    }
}

/// Sends the GET and reads the response over a connected (plain or TLS) stream.
fn exchange<S: Read + Write>(
    url: &str,
    mut stream: S,
    host: &str,
    port: u16,
    path: &str,
) -> Result<Vec<u8>, CertInfoError> {
    let io = |e: std::io::Error| fetch_err(url, format!("connection failed: {e}"));
    let host_header = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}:{port}\r\nUser-Agent: emp-seal/{}\r\nAccept: application/x-pem-file, */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    stream.flush().map_err(io)?;
    let mut raw = Vec::new();
    // A TLS peer that closes without close_notify yields UnexpectedEof after the bytes it sent
    // (many HTTPS servers do); the response is then accepted only if it is length-framed, so a
    // truncation cannot go unnoticed.
    let clean_end = match Read::by_ref(&mut stream)
        .take(MAX_CERT_BYTES + 64 * 1024)
        .read_to_end(&mut raw)
    {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(io(e)),
    };
    parse_response(url, &raw, clean_end)
}

fn parse_response(url: &str, raw: &[u8], clean_end: bool) -> Result<Vec<u8>, CertInfoError> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| fetch_err(url, "not an HTTP response (no end of headers)"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    if !version.starts_with("HTTP/1.") || status == 0 {
        return Err(fetch_err(url, "not an HTTP/1.x response"));
    }
    let reason = parts.next().unwrap_or("").trim();
    if !(200..300).contains(&status) {
        let mut msg = format!("the server answered {status} {reason}");
        if (300..400).contains(&status)
            && let Some(loc) = header(&head, "location")
        {
            msg.push_str(&format!(" (redirect to {loc}; fetch that URL instead)"));
        }
        return Err(fetch_err(url, msg));
    }
    let chunked = header(&head, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(body).ok_or_else(|| fetch_err(url, "malformed chunked response"))?
    } else if let Some(len) = header(&head, "content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| fetch_err(url, "invalid Content-Length"))?;
        if body.len() < len {
            return Err(fetch_err(
                url,
                "the response ended before its Content-Length",
            ));
        }
        body[..len].to_vec()
    } else if clean_end {
        body.to_vec()
    } else {
        return Err(fetch_err(
            url,
            "the server closed the TLS connection without close_notify and sent no length: the response may be truncated",
        ));
    };
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > MAX_CERT_BYTES {
        return Err(fetch_err(
            url,
            format!("the response is larger than {MAX_CERT_BYTES} bytes"),
        ));
    }
    Ok(body)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..eol]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        body = &body[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if body.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// The result of [`save_fetched`].
#[derive(Debug, Clone)]
pub struct Saved {
    /// Where it was saved.
    pub path: PathBuf,
    /// The environment, when the target was one.
    pub env: Option<String>,
    /// The new certificate.
    pub info: CertInfo,
    /// SHA-256 of the certificate it replaced, if there was a readable one.
    pub replaced: Option<String>,
}

/// Fetches `url`, checks that it is a usable sealing certificate now (PEM, RSA >= 2048 bits, not
/// expired), and only then replaces `target`'s certificate atomically. On any error nothing is
/// written.
///
/// # Errors
/// Any [`CertInfoError`]; [`CertInfoError::NotACertificate`] for a body that is not one.
pub fn save_fetched(
    root: &Path,
    target: &str,
    url: &str,
    opts: &FetchOptions,
    now: u64,
) -> Result<Saved, CertInfoError> {
    let (path, env) = resolve_target(root, target)?;
    let body = fetch(url, opts)?;
    let cert = Certificate::from_pem(&body).map_err(|source| CertInfoError::NotACertificate {
        url: url.to_owned(),
        source,
    })?;
    cert.check_time(now)
        .map_err(|source| CertInfoError::NotACertificate {
            url: url.to_owned(),
            source,
        })?;
    // Writers of one file serialise (fsio::lock_for_write); what is replaced is read under it.
    let _lock = fsio::lock_for_write(&[&path])?;
    let replaced = fsio::read_limited(&path, MAX_INPUT_BYTES)
        .ok()
        .and_then(|b| Certificate::from_pem(&b).ok())
        .map(|c| c.sha256_fingerprint());
    fsio::atomic_write(&path, &body)?;
    Ok(Saved {
        info: CertInfo::new(&path, &cert, now),
        path,
        env,
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/v1/cert.pem").expect("url"),
            Url::Http {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/v1/cert.pem".into()
            }
        );
        assert_eq!(
            parse_url("http://[::1]/x").expect("url"),
            Url::Http {
                tls: false,
                host: "::1".into(),
                port: 80,
                path: "/x".into()
            }
        );
        assert_eq!(
            parse_url("HTTPS://kube.example/v1/cert.pem#frag").expect("url"),
            Url::Http {
                tls: true,
                host: "kube.example".into(),
                port: 443,
                path: "/v1/cert.pem".into()
            }
        );
        assert_eq!(
            parse_url("https://[::1]:8443").expect("url"),
            Url::Http {
                tls: true,
                host: "::1".into(),
                port: 8443,
                path: "/".into()
            }
        );
        assert_eq!(
            parse_url("file:///tmp/c.pem").expect("url"),
            Url::File("/tmp/c.pem".into())
        );
        for bad in [
            "ftp://x/y",
            "nope",
            "http://u:p@host/",
            "https://u@host/",
            "https://host:99999/",
            "http://:80/",
            "file://rel/path",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response("u", ok, true).expect("ok"), b"abc");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response("u", chunked, true).expect("ok"), b"abcde");
        let nf = b"HTTP/1.0 404 Not Found\r\n\r\nnope";
        let e = parse_response("u", nf, true).expect_err("404").to_string();
        assert!(e.contains("404"), "{e}");
        assert!(parse_response("u", b"garbage", true).is_err());
        let redirect = b"HTTP/1.1 302 Found\r\nLocation: http://x/y\r\n\r\n";
        let e = parse_response("u", redirect, true)
            .expect_err("302")
            .to_string();
        assert!(e.contains("http://x/y"), "{e}");
        // A TLS peer gone without close_notify: framed responses are complete, unframed ones
        // may be truncated and are refused.
        assert_eq!(parse_response("u", ok, false).expect("framed"), b"abc");
        assert_eq!(
            parse_response("u", chunked, false).expect("framed"),
            b"abcde"
        );
        let unframed = b"HTTP/1.1 200 OK\r\n\r\nabc";
        assert_eq!(parse_response("u", unframed, true).expect("clean"), b"abc");
        let e = parse_response("u", unframed, false)
            .expect_err("unframed")
            .to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn san_labels() {
        assert_eq!(san_label("DnsName(\"a.example\")"), "DNS:a.example");
        assert_eq!(san_label("IpAddress(127.0.0.1)"), "IP:127.0.0.1");
        assert_eq!(san_label("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn ca_cert_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = "https://127.0.0.1:1/v1/cert.pem";
        let junk = dir.path().join("junk.pem");
        fsio::atomic_write(&junk, b"not a certificate\n").expect("write");
        let opts = FetchOptions {
            ca_cert: Some(junk),
        };
        let e = fetch(url, &opts).expect_err("junk CA");
        assert!(matches!(e, CertInfoError::CaCert { .. }), "{e}");
        assert!(e.to_string().contains("junk.pem"), "{e}");
        let opts = FetchOptions {
            ca_cert: Some(dir.path().join("absent.pem")),
        };
        assert!(matches!(
            fetch(url, &opts).expect_err("absent"),
            CertInfoError::Fs(_)
        ));
    }
}

//! `emp-seal cert ENV|PATH --fetch URL`: download a controller's certificate and save it only
//! after checking it.
//!
//! `http://` and `https://` go through `ureq` (HTTP/1.1, rustls with the ring provider ureq
//! brings, verification always on, one overall deadline per request, no redirects, no proxy);
//! `file:///abs/path` is read from disk. The trust roots of `https://` are Mozilla's (the
//! `webpki-roots` ureq ships), or only the `--ca-cert` file when one is given: never kubeconfig.
//! [`save_fetched`] parses and expiry-checks the download before [`crate::fsio`] replaces the
//! old file atomically.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use ureq::tls::{RootCerts, TlsConfig};

use super::{CertInfo, CertInfoError, resolve_target};
use crate::cert::Certificate;
use crate::fsio;
use crate::workspace::MAX_INPUT_BYTES;

/// Largest certificate download accepted (a controller's PEM is about 2 KiB).
pub(crate) const MAX_CERT_BYTES: u64 = 1024 * 1024;

/// The overall deadline of one [`fetch`] request: resolving, connecting, TLS, and reading.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Which part of an `https://` connection failed, for [`CertInfoError::Tls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The server's certificate does not chain to a trusted root (`--ca-cert`, or the bundled
    /// roots).
    Untrusted,
    /// The server's certificate does not name the URL's host.
    WrongHost,
    /// The server's certificate is expired or not yet valid.
    Expired,
    /// The server presents a CA certificate (basicConstraints `CA:TRUE`, as `openssl req -x509`
    /// makes one by default) as its own: webpki refuses a CA as an end entity, even when it is
    /// the trust anchor given.
    CaAsServer,
    /// Anything else: a protocol error, an alert, a server that does not speak TLS.
    Handshake,
}

impl TlsProblem {
    pub fn hint(self) -> &'static str {
        match self {
            TlsProblem::Untrusted => {
                "if the server uses a private CA (e.g. the cluster's), pass it with --ca-cert ca.pem or EMP_SEAL_FETCH_CA_CERT; emp-seal never reads kubeconfig (docs/certificates.md)"
            }
            TlsProblem::CaAsServer => {
                "give the server a leaf certificate (CA:FALSE, e.g. `openssl req -x509 ... -addext basicConstraints=critical,CA:FALSE`, or one issued by that CA) and pass the CA with --ca-cert; or fetch through `kubectl port-forward` over http://127.0.0.1:8080/v1/cert.pem"
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

/// Options of [`save_fetched`] (and of the download it makes).
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// A PEM file of CA certificates, the only roots trusted for `https://` when given
    /// (`--ca-cert`). Ignored for `http://` and `file://`.
    pub ca_cert: Option<PathBuf>,
}

/// The result of [`save_fetched`].
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    pub info: CertInfo,
    /// SHA-256 of the certificate it replaced, if there was a readable one.
    pub replaced: Option<String>,
}

/// The URL `cert TARGET --fetch [URL]` fetches: `given`, else the `certificate` URL the config
/// file names for the environment `target` (`[environment.NAME] certificate = "https://..."`).
///
/// # Errors
/// [`CertInfoError::FetchNeedsUrl`] when there is neither.
pub fn fetch_url(root: &Path, target: &str, given: Option<&str>) -> Result<String, CertInfoError> {
    if let Some(url) = given {
        return Ok(url.to_owned());
    }
    // Same precedence as `resolve_target`: an existing file is a path, not an environment.
    let env = if Path::new(target).is_file() {
        None
    } else {
        crate::workspace::resolve_fresh(root, target)
    };
    if let Some(url) = env.as_ref().and_then(|e| e.cert_url.clone()) {
        return Ok(url);
    }
    let config = crate::workspace::get(root)
        .config_file
        .clone()
        .unwrap_or_else(|| crate::workspace::config::CONFIG_FILE_NAMES[0].to_owned());
    Err(CertInfoError::FetchNeedsUrl {
        target: target.to_owned(),
        env: env.map(|e| e.name),
        config,
    })
}

/// Fetches `url`, checks that it is a usable sealing certificate now (PEM, RSA of 2048 to 8192
/// bits, not expired) and holds no private key, and only then replaces `target`'s certificate
/// atomically. On any error nothing is written.
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
    let (path, _) = resolve_target(root, target)?;
    // Wiped when dropped: a refused download may hold a private key.
    let body = zeroize::Zeroizing::new(fetch(url, opts)?);
    let not_a_cert = |source| CertInfoError::NotACertificate {
        url: url.to_owned(),
        source,
    };
    // The file is committed: a private key beside the certificate must not go into it.
    if let Some(key) = crate::cert::private_key_blocks(&body).into_iter().next() {
        return Err(CertInfoError::PrivateKeyInDownload {
            url: without_userinfo(url),
            label: key.label,
        });
    }
    let cert = Certificate::from_pem(&body).map_err(not_a_cert)?;
    cert.check_time(now).map_err(not_a_cert)?;
    // Writers of one file serialise (fsio::lock_for_write); what is replaced is read under it.
    let _lock = fsio::lock_for_write(&[&path])?;
    let replaced = super::load(root, &path)
        .ok()
        .map(|(c, _)| c.sha256_fingerprint());
    fsio::atomic_write(&path, &body)?;
    Ok(Saved {
        info: CertInfo::new(&path, &cert, now),
        path,
        replaced,
    })
}

/// Downloads a certificate: `http://` or `https://` with one GET (no redirects, at most
/// [`MAX_CERT_BYTES`], within [`FETCH_TIMEOUT`]), or `file:///abs/path` from disk. Returns the
/// body; does not check it.
///
/// `https://` always verifies the server: its certificate must be valid now, name the URL's host
/// and chain to `opts.ca_cert` when given, else to one of the bundled roots. There is no way to
/// turn verification off.
///
/// # Errors
/// [`CertInfoError::BadUrl`] for a URL that cannot be fetched as written,
/// [`CertInfoError::Fetch`] naming the URL and the problem (unreachable, status, too large),
/// [`CertInfoError::Tls`] when the TLS connection fails, [`CertInfoError::CaCert`] or
/// [`CertInfoError::Fs`] when `opts.ca_cert` is unusable.
pub(crate) fn fetch(url: &str, opts: &FetchOptions) -> Result<Vec<u8>, CertInfoError> {
    let bad = |reason: String| bad_url(url, reason);
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        bad("not a URL (expected http://, https:// or file:///absolute/path)".to_owned())
    })?;
    match scheme.to_ascii_lowercase().as_str() {
        "file" => {
            // file:///abs/path or file://localhost/abs/path
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad(format!(
                    "a file URL needs an absolute path: file:///abs/path, not file://{rest}"
                )));
            }
            fsio::read_limited(Path::new(path), MAX_CERT_BYTES).map_err(|e| fetch_err(url, e))
        }
        "http" => get(url, TlsConfig::default()),
        "https" => {
            // Read the trust roots before touching the network: a bad --ca-cert is the user's
            // mistake to report, whatever the server does.
            let mut tls = TlsConfig::builder();
            if let Some(path) = &opts.ca_cert {
                tls = tls.root_certs(ca_roots(path)?);
            }
            get(url, tls.build())
        }
        other => Err(bad(format!(
            "unsupported URL scheme `{other}` (expected http://, https:// or file:///absolute/path)"
        ))),
    }
}

/// [`CertInfoError::BadUrl`], naming the URL without its credentials.
fn bad_url(url: &str, reason: impl Into<String>) -> CertInfoError {
    CertInfoError::BadUrl {
        url: without_userinfo(url),
        reason: reason.into(),
    }
}

fn fetch_err(url: &str, reason: impl std::fmt::Display) -> CertInfoError {
    CertInfoError::Fetch {
        url: url.to_owned(),
        reason: reason.to_string(),
    }
}

/// The `--ca-cert` file as the only trusted roots. Each block must be a certificate rustls can
/// use as a trust anchor.
fn ca_roots(path: &Path) -> Result<RootCerts, CertInfoError> {
    let bad = |reason: String| CertInfoError::CaCert {
        file: path.display().to_string(),
        reason,
    };
    let pem = fsio::read_limited(path, MAX_INPUT_BYTES)?;
    let mut anchors = rustls::RootCertStore::empty();
    let mut roots = Vec::new();
    for item in CertificateDer::pem_slice_iter(&pem) {
        let der = item.map_err(|e| bad(crate::cert::pem_problem(&e).to_owned()))?;
        anchors
            .add(der.clone())
            .map_err(|e| bad(format!("not a CA certificate: {e}")))?;
        roots.push(ureq::tls::Certificate::from_der(der.as_ref()).to_owned());
    }
    if roots.is_empty() {
        return Err(bad("no PEM CERTIFICATE block in it".to_owned()));
    }
    Ok(RootCerts::Specific(Arc::new(roots)))
}

/// One GET of `url` through ureq, and the body of a 2xx answer.
fn get(url: &str, tls: TlsConfig) -> Result<Vec<u8>, CertInfoError> {
    let host = host_of(url)?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("emp-seal/", env!("CARGO_PKG_VERSION")))
        .accept("application/x-pem-file, */*")
        .tls_config(tls)
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| request_error(url, &host, e, false))?;
    let status = response.status();
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
    if !status.is_success() {
        let redirect = header("location")
            .filter(|_| status.is_redirection())
            .map(|to| format!(" (redirect to {to}; fetch that URL instead)"));
        let msg = format!(
            "the server answered {} {}{}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            redirect.unwrap_or_default()
        );
        return Err(fetch_err(url, msg.trim_end()));
    }
    // ureq reads a TLS peer's close without close_notify as the end of the body, so a body
    // framed only by the connection's end could have been cut short unnoticed: over https it
    // must carry its length.
    let framed = response.headers().contains_key("content-length")
        || header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if !framed && is_https(url) {
        return Err(fetch_err(
            url,
            "the https response is not length-framed (no Content-Length, not chunked): a truncated body could not be told from a complete one",
        ));
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_CERT_BYTES)
        .read_to_vec()
        .map_err(|e| request_error(url, &host, e, true))
}

/// The host of an `http://` or `https://` URL with a valid port and no credentials.
fn host_of(url: &str) -> Result<String, CertInfoError> {
    let uri = url.parse::<ureq::http::Uri>().ok();
    let authority = uri.as_ref().and_then(|u| u.authority()).map(|a| a.as_str());
    let host = uri
        .as_ref()
        .filter(|_| authority.is_some_and(port_is_valid))
        .and_then(|u| u.host().filter(|h| !h.is_empty()).map(str::to_owned))
        .ok_or_else(|| bad_url(url, "invalid host or port"))?;
    // The authority ends at the first `/`, `?` or `#`: an `@` in it means credentials.
    if authority.is_some_and(|a| a.contains('@')) {
        return Err(bad_url(url, "credentials in URLs are not supported"));
    }
    Ok(host)
}

/// `url` with the user information of its authority shown as `***`, so that a password typed
/// into a URL is never echoed in an error.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

pub(crate) fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Whether an authority's port, if it has one, is a number from 0 to 65535 (`http::Uri` reads
/// `host:99999` as a host without a port).
fn port_is_valid(authority: &str) -> bool {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let after_host = host_port
        .rfind(']')
        .map_or(host_port, |i| &host_port[i + 1..]);
    after_host
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_ok())
}

/// A ureq error as one line naming what went wrong. `in_body`: the response head had arrived.
fn request_error(url: &str, host: &str, e: ureq::Error, in_body: bool) -> CertInfoError {
    match e {
        ureq::Error::Rustls(inner) => tls_error(url, host, &inner),
        ureq::Error::Io(io) => {
            if let Some(inner) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_error(url, host, inner);
            }
            io_error(url, &io, is_https(url), in_body)
        }
        ureq::Error::Timeout(_) => fetch_err(
            url,
            format!("no complete answer within {} s", FETCH_TIMEOUT.as_secs()),
        ),
        ureq::Error::HostNotFound => fetch_err(url, format!("cannot resolve {host}")),
        ureq::Error::ConnectionFailed => fetch_err(url, format!("cannot connect to {host}")),
        ureq::Error::BodyExceedsLimit(_) => fetch_err(
            url,
            format!("the response is larger than {MAX_CERT_BYTES} bytes"),
        ),
        ureq::Error::BadUri(reason) => bad_url(url, reason),
        ureq::Error::Http(e) => bad_url(url, e.to_string()),
        ureq::Error::Protocol(e) => fetch_err(url, format!("not a valid HTTP/1.x response: {e}")),
        other => fetch_err(url, other),
    }
}

fn io_error(url: &str, e: &std::io::Error, tls: bool, in_body: bool) -> CertInfoError {
    let reason = match e.kind() {
        ErrorKind::ConnectionRefused => format!("cannot connect: {e}"),
        // Only a length-framed https body is read (see `get`), so an early end inside it is a
        // body cut short of the length its head announced, whether or not the server sent
        // close_notify.
        ErrorKind::UnexpectedEof if tls && in_body => {
            "the server closed the TLS connection before the end of the body it announced (Content-Length or chunked): the response is truncated".to_owned()
        }
        ErrorKind::UnexpectedEof if tls => {
            return CertInfoError::Tls {
                url: url.to_owned(),
                reason: "handshake failed: the server closed the connection (is it an https endpoint?)"
                    .to_owned(),
                problem: TlsProblem::Handshake,
            };
        }
        ErrorKind::UnexpectedEof => "the server closed the connection early".to_owned(),
        _ => format!("connection failed: {e}"),
    };
    fetch_err(url, reason)
}

fn tls_error(url: &str, host: &str, e: &rustls::Error) -> CertInfoError {
    use TlsProblem as P;
    use rustls::CertificateError as C;
    let at = |t: &rustls_pki_types::UnixTime| crate::cert::rfc3339(t.as_secs());
    let (problem, reason) = match e {
        rustls::Error::InvalidCertificate(c) => {
            let (problem, what) = match c {
                C::UnknownIssuer => (
                    P::Untrusted,
                    "is not signed by a trusted CA (unknown issuer)".to_owned(),
                ),
                C::NotValidForName => (P::WrongHost, format!("is not valid for {host}")),
                C::NotValidForNameContext { presented, .. } => {
                    let names: Vec<String> = presented.iter().map(|n| san_label(n)).collect();
                    let names = if names.is_empty() {
                        "no host".to_owned()
                    } else {
                        names.join(", ")
                    };
                    (
                        P::WrongHost,
                        format!("is not valid for {host} (it names {names})"),
                    )
                }
                C::Expired => (P::Expired, "has expired".to_owned()),
                C::ExpiredContext { not_after, .. } => {
                    (P::Expired, format!("expired at {}", at(not_after)))
                }
                C::NotValidYet => (P::Expired, "is not valid yet".to_owned()),
                C::NotValidYetContext { not_before, .. } => (
                    P::Expired,
                    format!("is not valid before {}", at(not_before)),
                ),
                // rustls-webpki's `Error::CaUsedAsEndEntity`, which rustls wraps in `Other`.
                C::Other(o) if o.to_string().contains("CaUsedAsEndEntity") => (
                    P::CaAsServer,
                    "is a CA certificate (basicConstraints CA:TRUE), which TLS refuses as a server's own, even when it is the --ca-cert given".to_owned(),
                ),
                other => (P::Untrusted, format!("was rejected: {other}")),
            };
            (problem, format!("the server's certificate {what}"))
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => (
            P::Handshake,
            format!("handshake failed: {e} (is it an https endpoint?)"),
        ),
        other => (P::Handshake, format!("handshake failed: {other}")),
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
    let inner = |pre: &str, post: &str| name.strip_prefix(pre)?.strip_suffix(post);
    match (inner("DnsName(\"", "\")"), inner("IpAddress(", ")")) {
        (Some(dns), _) => format!("DNS:{dns}"),
        (_, Some(ip)) => format!("IP:{ip}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn san_labels() {
        assert_eq!(san_label("DnsName(\"a.example\")"), "DNS:a.example");
        assert_eq!(san_label("IpAddress(127.0.0.1)"), "IP:127.0.0.1");
        assert_eq!(san_label("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn urls_that_cannot_be_fetched_are_named_as_urls() {
        let opts = FetchOptions::default();
        for (url, needle) in [
            ("ftp://x/y", "unsupported URL scheme `ftp`"),
            ("nope", "not a URL"),
            ("file://rel/path", "needs an absolute path"),
            ("http://u:p@host/", "credentials"),
            ("https://u@host/", "credentials"),
            ("https://host:99999/", "invalid host or port"),
            ("http://:80/", "invalid host or port"),
        ] {
            match fetch(url, &opts) {
                Err(CertInfoError::BadUrl { url: u, reason }) => {
                    assert_eq!(u, without_userinfo(url));
                    assert!(reason.contains(needle), "{url}: {reason}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        // A password in the URL is refused without being echoed.
        for url in ["http://u:s3cret@host/", "https://u:s3cret@:99999/x@y"] {
            let e = fetch(url, &opts).unwrap_err().to_string();
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains("://***@"), "{e}");
        }
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

//! Issue 6, `emp-seal cert ENV|PATH --fetch https://...`: the real binary against a local HTTPS
//! server on 127.0.0.1 (rustls server side, in a test thread) whose certificate is made at test
//! time by `openssl`: a test CA signing a leaf for IP:127.0.0.1 and DNS:localhost. Checks that
//! the server is always verified (`--ca-cert` / `EMP_SEAL_FETCH_CA_CERT` trusts a private CA),
//! that TLS failures exit 2 naming the URL with a hint, and that nothing is written on failure.
//!
//! Every server binds only to 127.0.0.1, serves one connection and stops on its own: it gives up
//! waiting for a client after [`ACCEPT_DEADLINE`] and on a silent client after [`IO_TIMEOUT`].

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;

use crate::common;
use crate::fixtures;
use crate::lifecycle::{emp, read, s, tree, write};

/// How long a test server waits for its one client before stopping.
const ACCEPT_DEADLINE: Duration = Duration::from_secs(30);
/// Read/write timeout of a test server's connection.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A test CA and leaf certificates it signed, made by `openssl` in a temp dir.
struct Pki {
    dir: TempDir,
}

impl Pki {
    /// Makes the CA, or returns `None` (after [`common::missing`]) without openssl.
    fn new() -> Option<Pki> {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki { dir };
        pki.key("ca")?;
        write(
            &pki.path("ca.cnf"),
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = emp-seal TEST ONLY fetch CA\n\
             [ca_ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n",
        );
        pki.openssl(&[
            "req",
            "-x509",
            "-new",
            "-config",
            "ca.cnf",
            "-extensions",
            "ca_ext",
            "-key",
            "ca.key",
            "-days",
            "2",
            "-out",
            "ca.pem",
        ])?;
        Some(pki)
    }

    /// The CA and its leaf `server` for IP:127.0.0.1 and DNS:localhost, or `None` without
    /// openssl.
    fn with_server() -> Option<Pki> {
        let pki = Pki::new()?;
        pki.leaf("server", "IP:127.0.0.1, DNS:localhost")?;
        Some(pki)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `openssl` in the PKI directory; `None` (after [`common::missing`]) without it.
    fn openssl(&self, args: &[&str]) -> Option<()> {
        if common::which("openssl").is_none() {
            common::missing("openssl");
            return None;
        }
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(())
    }

    /// A P-256 key in PKCS#8 PEM at `NAME.key`.
    fn key(&self, name: &str) -> Option<()> {
        let key = format!("{name}.key");
        self.openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &key,
        ])
    }

    /// A server certificate `NAME.pem` (key `NAME.key`) signed by the CA for `san`
    /// (an openssl subjectAltName value).
    fn leaf(&self, name: &str, san: &str) -> Option<()> {
        self.key(name)?;
        write(
            &self.path(&format!("{name}.cnf")),
            &format!("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {name}\n"),
        );
        write(
            &self.path(&format!("{name}.ext")),
            &format!(
                "subjectAltName = {san}\nbasicConstraints = critical,CA:FALSE\n\
                 keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n\
                 authorityKeyIdentifier = keyid\n"
            ),
        );
        let (key, cnf, csr, ext, pem) = (
            format!("{name}.key"),
            format!("{name}.cnf"),
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        self.openssl(&["req", "-new", "-config", &cnf, "-key", &key, "-out", &csr])?;
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ])
    }

    /// The rustls server configuration for leaf `name`.
    fn server_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(self.path(&format!("{name}.pem")))
                .expect("leaf pem")
                .collect::<Result<_, _>>()
                .expect("leaf certificates");
        let key =
            PrivateKeyDer::from_pem_file(self.path(&format!("{name}.key"))).expect("leaf key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        Arc::new(config)
    }
}

/// What a test server saw of its one connection.
#[derive(Debug)]
enum Served {
    /// A request was read and answered; its head.
    Request(String),
    /// The TLS session failed (e.g. the client rejected the certificate).
    Failed(String),
    /// Nobody connected before [`ACCEPT_DEADLINE`].
    NoClient,
}

/// Waits (bounded) for one connection on `listener`.
fn accept_one(listener: &TcpListener) -> Option<TcpStream> {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + ACCEPT_DEADLINE;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
                stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
                return Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => return None,
        }
    }
    None
}

/// An HTTPS server on 127.0.0.1 answering one request with `response`; with `close_notify`
/// false it drops the connection without TLS `close_notify`, as many servers do.
fn serve_https(
    config: Arc<rustls::ServerConfig>,
    response: Vec<u8>,
    close_notify: bool,
) -> (u16, JoinHandle<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        let Some(tcp) = accept_one(&listener) else {
            return Served::NoClient;
        };
        let conn = rustls::ServerConnection::new(config).expect("server connection");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf) {
                Ok(0) => return Served::Failed("closed before a request".to_owned()),
                Ok(n) => req.extend_from_slice(&buf[..n]),
                Err(e) => return Served::Failed(e.to_string()),
            }
        }
        if let Err(e) = tls.write_all(&response) {
            return Served::Failed(e.to_string());
        }
        if close_notify {
            tls.conn.send_close_notify();
        }
        let _ = tls.flush();
        Served::Request(String::from_utf8_lossy(&req).into_owned())
    });
    (port, h)
}

/// A plain-TCP server on 127.0.0.1 that answers one connection with an HTTP 400 (what an http
/// endpoint says to a TLS `ClientHello`).
fn serve_plain_http() -> (u16, JoinHandle<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        let Some(mut tcp) = accept_one(&listener) else {
            return Served::NoClient;
        };
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        Served::Request(String::new())
    });
    (port, h)
}

fn http(body: &[u8], framed: bool) -> Vec<u8> {
    let mut r = if framed {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    } else {
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nConnection: close\r\n\r\n"
            .to_owned()
    }
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// The demo sealing certificate as shipped, the body every good server serves.
fn demo_pem() -> Vec<u8> {
    std::fs::read(common::repo_root().join("k8s/overlays/paper/sealing-cert.pem"))
        .expect("demo sealing certificate")
}

struct Run {
    code: i32,
    stderr: String,
}

fn run(root: &Path, args: &[&str], env_ca: Option<&Path>) -> Run {
    let mut c = emp(root);
    c.env_remove("EMP_SEAL_FETCH_CA_CERT");
    if let Some(ca) = env_ca {
        c.env("EMP_SEAL_FETCH_CA_CERT", ca);
    }
    let o = c.args(args).output().expect("run emp-seal");
    Run {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs a failing fetch: exit 2, one error line naming the URL, containing every needle.
fn fails(root: &Path, args: &[&str], url: &str, needles: &[&str]) -> String {
    let o = run(root, args, None);
    assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
    let first = o.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.contains(url),
        "{args:?}: the error line must name the URL: {}",
        o.stderr
    );
    for n in needles {
        assert!(
            o.stderr.contains(n),
            "{args:?}: expected `{n}` in: {}",
            o.stderr
        );
    }
    o.stderr
}

/// A tree whose paper certificate is a different, valid one, so a fetch visibly replaces it.
fn tree_with_other_cert() -> (TempDir, PathBuf, String) {
    let t = tree();
    let target = t.path().join("k8s/overlays/paper/sealing-cert.pem");
    let other = fixtures::cert_pem(3072);
    write(&target, &other);
    (t, target, other)
}

#[test]
fn issue_6_fetch_https_with_private_ca() {
    let Some(pki) = Pki::with_server() else {
        return;
    };
    let (t, target, _) = tree_with_other_cert();
    let root = t.path();
    let ca = pki.path("ca.pem");
    let demo = demo_pem();

    // --ca-cert trusts the test CA; the server sends close_notify.
    let (port, h) = serve_https(pki.server_config("server"), http(&demo, true), true);
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    let o = run(
        root,
        &["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("replaced"), "{}", o.stderr);
    match h.join().expect("server") {
        // Header names are case-insensitive (the client sends them in lower case).
        Served::Request(head) => assert!(
            head.starts_with("GET /v1/cert.pem HTTP/1.1\r\n")
                && head
                    .to_ascii_lowercase()
                    .contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")),
            "{head}"
        ),
        other => panic!("the server saw {other:?}"),
    }
    assert_eq!(std::fs::read(&target).expect("saved"), demo);

    // The environment variable, a DNS name, a path target, and a server that drops the
    // connection without close_notify after a Content-Length-framed body.
    let dst = root.join("work/fetched.pem");
    let (port, h) = serve_https(pki.server_config("server"), http(&demo, true), false);
    let url = format!("https://localhost:{port}/v1/cert.pem");
    let o = run(root, &["cert", s(&dst), "--fetch", &url], Some(&ca));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(matches!(h.join().expect("server"), Served::Request(_)));
    assert_eq!(std::fs::read(&dst).expect("saved"), demo);
}

#[test]
fn issue_6_fetch_https_verifies_the_server() {
    let Some(pki) = Pki::new() else { return };
    if pki.leaf("server", "IP:127.0.0.1, DNS:localhost").is_none()
        || pki
            .leaf("elsewhere", "DNS:controller.other.example")
            .is_none()
    {
        return;
    }
    let (t, target, original) = tree_with_other_cert();
    let root = t.path();
    let ca = pki.path("ca.pem");
    let demo = demo_pem();

    // Without --ca-cert the test CA is unknown: a TLS error with the --ca-cert hint.
    let (port, h) = serve_https(pki.server_config("server"), http(&demo, true), true);
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    fails(
        root,
        &["cert", "paper", "--fetch", &url],
        &url,
        &["TLS", "unknown issuer", "--ca-cert", "kubeconfig"],
    );
    // The client refused the session: the server never got a request (the client closes
    // without always flushing its alert first, so the server sees an alert or an early end).
    let served = h.join().expect("server");
    assert!(
        matches!(&served, Served::Failed(e) if e.contains("alert") || e.contains("end of file")),
        "the client must have refused the TLS session: {served:?}"
    );
    assert_eq!(read(&target), original);

    // A trusted certificate for another host.
    let (port, h) = serve_https(pki.server_config("elsewhere"), http(&demo, true), true);
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    fails(
        root,
        &["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)],
        &url,
        &[
            "TLS",
            "not valid for 127.0.0.1",
            "it names DNS:controller.other.example",
            "subjectAltName",
        ],
    );
    // The client refused the session: the server never got a request (the client closes
    // without always flushing its alert first, so the server sees an alert or an early end).
    let served = h.join().expect("server");
    assert!(
        matches!(&served, Served::Failed(e) if e.contains("alert") || e.contains("end of file")),
        "the client must have refused the TLS session: {served:?}"
    );
    assert_eq!(read(&target), original);

    // The CA itself as the server's certificate (what `openssl req -x509` makes by default:
    // CA:TRUE), given as --ca-cert: TLS refuses a CA as an end entity; the message says so.
    let (port, h) = serve_https(pki.server_config("ca"), http(&demo, true), true);
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    fails(
        root,
        &["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)],
        &url,
        &[
            "TLS",
            "is a CA certificate (basicConstraints CA:TRUE)",
            "CA:FALSE",
        ],
    );
    assert!(matches!(h.join().expect("server"), Served::Failed(_)));
    assert_eq!(read(&target), original);

    // https:// to a plain http endpoint.
    let (port, h) = serve_plain_http();
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    fails(
        root,
        &["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)],
        &url,
        &["TLS", "handshake failed", "plain http"],
    );
    assert!(matches!(h.join().expect("server"), Served::Request(_)));
    assert_eq!(read(&target), original);

    // An unusable --ca-cert is reported before any connection (port 1: nothing listens).
    let junk = root.join("work/junk-ca.pem");
    write(&junk, "not a certificate\n");
    let o = run(
        root,
        &[
            "cert",
            "paper",
            "--fetch",
            "https://127.0.0.1:1/v1/cert.pem",
            "--ca-cert",
            s(&junk),
        ],
        None,
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("junk-ca.pem: not a usable CA certificate file"),
        "{}",
        o.stderr
    );
    assert_eq!(read(&target), original);
}

#[test]
fn issue_6_fetch_https_checks_the_body() {
    let Some(pki) = Pki::with_server() else {
        return;
    };
    let (t, target, original) = tree_with_other_cert();
    let root = t.path();
    let ca = pki.path("ca.pem");
    // Serves `response` once and fetches it: refused (the error naming the URL and `needles`)
    // after the request was served, the certificate unchanged. Returns stderr.
    let refused = |response: Vec<u8>, close_notify: bool, needles: &[&str]| {
        let (port, h) = serve_https(pki.server_config("server"), response, close_notify);
        let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
        let args = ["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)];
        let stderr = fails(root, &args, &url, needles);
        assert!(matches!(h.join().expect("server"), Served::Request(_)));
        assert_eq!(read(&target), original);
        stderr
    };

    // A login page over a verified connection is refused.
    let login = http(b"<html>login</html>\n", true);
    refused(
        login,
        true,
        &["not a usable certificate", "nothing was saved"],
    );

    // No length: whether or not the server ends with close_notify, the HTTP client cannot
    // report a connection cut short apart from a complete body, so an unframed body is refused.
    for close_notify in [false, true] {
        let unframed = http(&demo_pem(), false);
        refused(unframed, close_notify, &["not length-framed", "truncated"]);
    }

    // A body cut short of the Content-Length it announced is truncated, and said to be so: the
    // message said "sent no length" of a response that had sent one.
    let demo = demo_pem();
    let mut cut = http(&demo, true);
    cut.truncate(cut.len() - demo.len() / 2);
    for close_notify in [false, true] {
        let said = ["before the end of the body it announced", "truncated"];
        let stderr = refused(cut.clone(), close_notify, &said);
        assert!(!stderr.contains("no length"), "{stderr}");
    }

    // A framed body from a server that drops the connection without close_notify is complete
    // and saved.
    let (port, h) = serve_https(pki.server_config("server"), http(&demo_pem(), true), false);
    let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
    let o = run(
        root,
        &["cert", "paper", "--fetch", &url, "--ca-cert", s(&ca)],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(matches!(h.join().expect("server"), Served::Request(_)));
    assert_eq!(std::fs::read(&target).expect("saved"), demo_pem());

    // --ca-cert with an http URL is noted, not silently taken as verification.
    let o = run(
        root,
        &[
            "cert",
            "paper",
            "--fetch",
            "http://127.0.0.1:1/v1/cert.pem",
            "--ca-cert",
            s(&ca),
        ],
        None,
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("--ca-cert applies to https URLs only"),
        "{}",
        o.stderr
    );
}

/// Issue 16: `cert ENV --fetch` with no URL fetches the `certificate` URL the config file names
/// for that environment; with neither, exit 2 naming both ways and nothing written.
#[test]
fn issue_16_fetch_uses_the_config_url() {
    let Some(pki) = Pki::with_server() else {
        return;
    };
    let (t, target, other) = tree_with_other_cert();
    let root = t.path();
    let ca = pki.path("ca.pem");
    let demo = demo_pem();
    // A fresh HTTPS server serving the demo certificate, its URL named for `env` in the config.
    let configured = |env: &str| {
        let (port, h) = serve_https(pki.server_config("server"), http(&demo, true), true);
        let url = format!("https://127.0.0.1:{port}/v1/cert.pem");
        write(
            &root.join("emp-seal.toml"),
            &format!("[environment.{env}]\ncertificate = \"{url}\"\n"),
        );
        (url, h)
    };

    // Neither a URL nor a config file: exit 2, both ways named, the certificate untouched.
    let o = run(root, &["cert", "paper", "--fetch"], Some(&ca));
    assert_eq!(o.code, 2, "{}", o.stderr);
    let first = o.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: paper: --fetch has no URL")
            && first.contains("emp-seal.toml names no certificate URL"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("--fetch https://HOST/v1/cert.pem")
            && o.stderr.contains("[environment.paper]")
            && o.stderr
                .contains("certificate = \"https://HOST/v1/cert.pem\""),
        "{}",
        o.stderr
    );
    assert_eq!(read(&target), other);

    // A config naming another environment's URL only: still no URL for paper.
    let (url, h) = configured("prod");
    let o = run(root, &["cert", "paper", "--fetch"], Some(&ca));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("[environment.paper]"), "{}", o.stderr);
    assert_eq!(read(&target), other);

    // The config names paper's URL: fetched from the server, verified, saved.
    write(
        &root.join("emp-seal.toml"),
        &format!("[environment.paper]\ncertificate = \"{url}\"\n"),
    );
    let o = run(root, &["cert", "paper", "--fetch"], Some(&ca));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("fetching {url}")) && o.stderr.contains("replaced"),
        "{}",
        o.stderr
    );
    match h.join().expect("server") {
        Served::Request(head) => {
            assert!(head.starts_with("GET /v1/cert.pem HTTP/1.1\r\n"), "{head}")
        }
        other => panic!("the server saw {other:?}"),
    }
    assert_eq!(std::fs::read(&target).expect("saved"), demo);

    // A URL on the command line wins over the config's (the config's server is gone now).
    let (port2, h2) = serve_https(pki.server_config("server"), http(&demo, true), true);
    write(&target, &other);
    let url2 = format!("https://localhost:{port2}/v1/cert.pem");
    let o = run(root, &["cert", "paper", "--fetch", &url2], Some(&ca));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("fetching "), "{}", o.stderr);
    assert!(matches!(h2.join().expect("server"), Served::Request(_)));
    assert_eq!(std::fs::read(&target).expect("saved"), demo);

    // `cert --fetch paper` (the flag first): `paper` is no URL, so it is the environment and
    // the config's URL is fetched, as with `cert paper --fetch`.
    write(&target, &other);
    let (url4, h4) = configured("paper");
    let o = run(root, &["cert", "--fetch", "paper"], Some(&ca));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("fetching {url4}")),
        "{}",
        o.stderr
    );
    assert!(matches!(h4.join().expect("server"), Served::Request(_)));
    assert_eq!(std::fs::read(&target).expect("saved"), demo);

    // The config's URL is verified like any other: without the CA, exit 2 and nothing written.
    write(&target, &other);
    let (url3, h3) = configured("paper");
    let o = run(root, &["cert", "paper", "--fetch"], None);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "error: {url3}: TLS: the server's certificate is not signed"
        )) && o.stderr.contains("--ca-cert"),
        "{}",
        o.stderr
    );
    let _ = h3.join();
    assert_eq!(read(&target), other);
}

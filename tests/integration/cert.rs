//! Reading sealing certificates: the committed TEST ONLY and demo pairs, fingerprints checked
//! against openssl and ssh-keygen, and every refusal with its message.

use std::time::{SystemTime, UNIX_EPOCH};

use emp_seal::cert::{CertError, Certificate, rfc3339};

use crate::common;
use crate::fixtures::{self, BITS};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

const DAY: u64 = 86_400;

#[test]
fn committed_certificates_parse() {
    for bits in BITS {
        let c = fixtures::cert(bits);
        assert_eq!(c.key_bits(), bits);
        assert!(c.subject().contains("TEST ONLY"), "{}", c.subject());
        assert!(!c.is_demo());
        assert!(c.not_after() > c.not_before() + 3650 * DAY - DAY);
        assert_eq!(c.check_time(now()), Ok(None));
        let sk = fixtures::private_key(bits);
        assert_eq!(
            sk.public_key_der(),
            c.public_key_der(),
            "rsa-{bits} pair matches"
        );
    }
}

#[test]
fn demo_certificate_is_marked_and_matches_its_key() {
    let c = Certificate::from_pem(fixtures::demo_cert_pem().as_bytes()).unwrap();
    assert!(c.is_demo());
    assert_eq!(
        c.subject(),
        "CN=emp-seal DEMO sealing certificate (not a controller key),O=emp-seal demo"
    );
    assert_eq!(c.key_bits(), 4096);
    assert!(c.not_after() >= c.not_before() + 3650 * DAY);
    let keys =
        emp_seal::keys::load_private_keys(fixtures::demo_key_pem().as_bytes(), "demo").unwrap();
    assert_eq!(keys[0].public_key_der(), c.public_key_der());
}

#[test]
fn other_blocks_are_skipped_and_a_second_certificate_is_refused() {
    let pem = format!(
        "subject=whatever\n{}{}",
        fixtures::key_pem(3072),
        fixtures::cert_pem(2048),
    );
    let c = Certificate::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(c.key_bits(), 2048);
    assert_eq!(c.der(), fixtures::cert(2048).der());
    // kubeseal takes the first of two; which one the controller holds cannot be told.
    let two = format!("{pem}{}", fixtures::cert_pem(4096));
    let begin = pem.lines().count() + 1;
    assert_eq!(
        Certificate::from_pem(two.as_bytes()).unwrap_err(),
        CertError::SeveralCertificates {
            count: 2,
            lines: format!(
                "{}, {begin}",
                1 + fixtures::key_pem(3072).lines().count() + 1
            ),
        }
    );
}

#[test]
fn sha256_fingerprint_matches_openssl() {
    for bits in BITS {
        let pem = fixtures::cert_pem(bits);
        let Some(out) = fixtures::openssl(
            &["x509", "-noout", "-fingerprint", "-sha256"],
            pem.as_bytes(),
        ) else {
            return;
        };
        let out = String::from_utf8(out).unwrap();
        let hex = out
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        let fp = fixtures::cert(bits).sha256_fingerprint();
        assert_eq!(fp, hex);
        assert_eq!(fp.len(), 64);
    }
}

#[test]
fn ssh_fingerprint_matches_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    for bits in BITS {
        let cert = fixtures::cert(bits);
        let expected = if let Some(keygen) = common::which("ssh-keygen") {
            let Some(spki) = fixtures::openssl(
                &["x509", "-noout", "-pubkey"],
                fixtures::cert_pem(bits).as_bytes(),
            ) else {
                return;
            };
            let pub_pem = dir.path().join(format!("rsa-{bits}.pub.pem"));
            std::fs::File::create(&pub_pem)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &spki))
                .unwrap();
            let conv = std::process::Command::new(&keygen)
                .args(["-i", "-m", "PKCS8", "-f"])
                .arg(&pub_pem)
                .output()
                .unwrap();
            assert!(
                conv.status.success(),
                "{}",
                String::from_utf8_lossy(&conv.stderr)
            );
            let ssh_pub = dir.path().join(format!("rsa-{bits}.pub"));
            std::fs::File::create(&ssh_pub)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &conv.stdout))
                .unwrap();
            let fp = std::process::Command::new(&keygen)
                .args(["-l", "-E", "sha256", "-f"])
                .arg(&ssh_pub)
                .output()
                .unwrap();
            assert!(
                fp.status.success(),
                "{}",
                String::from_utf8_lossy(&fp.stderr)
            );
            // "4096 SHA256:abc... no comment (RSA)"
            let line = String::from_utf8(fp.stdout).unwrap();
            let mut parts = line.split_whitespace();
            assert_eq!(parts.next(), Some(bits.to_string().as_str()));
            parts.next().unwrap().to_string()
        } else {
            let Some(fp) = python_ssh_fingerprint(&fixtures::cert_pem(bits)) else {
                return;
            };
            fp
        };
        assert_eq!(cert.ssh_fingerprint(), expected, "rsa-{bits}");
        assert!(expected.starts_with("SHA256:") && !expected.ends_with('='));
    }
}

/// The same fingerprint computed by python `cryptography`'s OpenSSH serialisation.
fn python_ssh_fingerprint(cert_pem: &str) -> Option<String> {
    let python = common::repo_root().join(".venv-peer/bin/python");
    if !python.is_file() {
        common::missing("ssh-keygen or python cryptography");
        return None;
    }
    let script = "import sys,hashlib,base64\n\
        from cryptography import x509\n\
        from cryptography.hazmat.primitives import serialization as s\n\
        k=x509.load_pem_x509_certificate(sys.stdin.buffer.read()).public_key()\n\
        blob=base64.b64decode(k.public_bytes(s.Encoding.OpenSSH,s.PublicFormat.OpenSSH).split()[1])\n\
        print('SHA256:'+base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip('='))\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start python");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), cert_pem.as_bytes())
        .expect("write to python");
    let out = child.wait_with_output().expect("python output");
    assert!(out.status.success());
    Some(
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string(),
    )
}

fn one_line(e: &CertError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "{s}");
    s
}

#[test]
fn not_pem_and_no_certificate_block() {
    for junk in [&b""[..], b"hello\n", b"\x30\x82\x01\x00binary der"] {
        let e = Certificate::from_pem(junk).unwrap_err();
        assert_eq!(e, CertError::NotPem);
        assert!(one_line(&e).contains("not a pem certificate"));
        assert!(e.hint().is_some());
    }
    let e = Certificate::from_pem(fixtures::key_pem(2048).as_bytes()).unwrap_err();
    assert_eq!(
        e,
        CertError::NoCertificate {
            found: "PRIVATE KEY".into()
        }
    );
    assert!(one_line(&e).contains("no CERTIFICATE block"));
}

#[test]
fn bare_public_key_is_rejected_like_kubeseal() {
    let Some(spki) = fixtures::openssl(
        &["x509", "-noout", "-pubkey"],
        fixtures::cert_pem(2048).as_bytes(),
    ) else {
        return;
    };
    let e = Certificate::from_pem(&spki).unwrap_err();
    assert!(matches!(e, CertError::BarePublicKey { .. }), "{e:?}");
    assert!(one_line(&e).contains("data does not contain any valid RSA or ECDSA certificates"));

    // The PKCS#1 form (`RSA PUBLIC KEY`) is refused the same way.
    let Some(pkcs1) = fixtures::openssl(&["rsa", "-pubin", "-RSAPublicKey_out"], &spki) else {
        return;
    };
    let e = Certificate::from_pem(&pkcs1).unwrap_err();
    assert_eq!(
        e,
        CertError::BarePublicKey {
            label: "RSA PUBLIC KEY".into()
        }
    );
}

#[test]
fn ec_certificate_is_rejected() {
    let Some((cert, _)) = fixtures::make_cert_with("ec", -1, 365) else {
        return;
    };
    let e = Certificate::from_pem(cert.as_bytes()).unwrap_err();
    assert!(matches!(e, CertError::NotRsa { .. }), "{e:?}");
    assert_eq!(
        one_line(&e),
        "expected RSA public key but found an EC (ECDSA) key"
    );
}

#[test]
fn small_rsa_key_is_refused() {
    let Some((cert, _)) = fixtures::make_cert(1024, -1, 365) else {
        return;
    };
    let e = Certificate::from_pem(cert.as_bytes()).unwrap_err();
    assert_eq!(e, CertError::TooSmall { bits: 1024 });
    assert!(one_line(&e).contains("1024 bits"));
}

/// The `rsa` crate seals with keys of at most 8192 bits; a larger one is refused when the certificate is
/// read, with the size, not at the first value.
#[test]
fn rsa_key_over_8192_bits_is_refused() {
    let Some((cert, _)) = fixtures::make_cert_with("rsa-public:9000", -1, 365) else {
        return;
    };
    let e = Certificate::from_pem(cert.as_bytes()).unwrap_err();
    assert_eq!(e, CertError::TooLarge { bits: 9000 });
    assert!(one_line(&e).contains("9000 bits; at most 8192"));
    // 8192 bits is still accepted and seals.
    let Some((cert, _)) = fixtures::make_cert_with("rsa-public:8192", -1, 365) else {
        return;
    };
    let c = Certificate::from_pem(cert.as_bytes()).unwrap();
    assert_eq!(c.key_bits(), 8192);
    assert_eq!(c.sealing_key().ciphertext_len(), 1024);
    let v = c.sealing_key().seal(b"ns/name", b"x").unwrap();
    assert_eq!(v.len(), 2 + 1024 + 1 + 16);
}

#[test]
fn truncated_der_is_rejected() {
    let pem = fixtures::cert_pem(2048);
    let c = fixtures::cert(2048);
    let der = c.der();
    let cut = &der[..der.len() / 2];
    let body = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(cut)
    };
    let truncated = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    let e = Certificate::from_pem(truncated.as_bytes()).unwrap_err();
    assert!(matches!(e, CertError::Malformed { .. }), "{e:?}");
    assert!(one_line(&e).contains("not a valid x.509 certificate"));

    // Bad base64 inside the block.
    let broken = pem.replacen("MII", "M!I", 1);
    let e = Certificate::from_pem(broken.as_bytes()).unwrap_err();
    assert!(matches!(e, CertError::Malformed { .. }), "{e:?}");
}

#[test]
fn expired_certificate_is_an_error_naming_the_date() {
    let Some((cert, _)) = fixtures::make_cert(2048, -400, -2) else {
        return;
    };
    let c = Certificate::from_pem(cert.as_bytes()).unwrap();
    let e = c.check_time(now()).unwrap_err();
    let date = rfc3339(c.not_after());
    assert_eq!(
        e,
        CertError::Expired {
            not_after: date.clone()
        }
    );
    assert_eq!(one_line(&e), format!("the certificate expired on {date}"));
    assert!(e.hint().is_some());
    // The controller's boundary: valid up to and including NotAfter.
    assert!(c.check_time(c.not_after()).is_ok());
    assert!(c.check_time(c.not_after() + 1).is_err());
}

#[test]
fn certificate_expiring_within_30_days_warns() {
    let Some((cert, _)) = fixtures::make_cert(2048, -300, 10) else {
        return;
    };
    let c = Certificate::from_pem(cert.as_bytes()).unwrap();
    let w = c
        .check_time(now())
        .unwrap()
        .expect("a warning within 30 days");
    assert!((9..=10).contains(&w.days_left), "{w:?}");
    assert!(w.to_string().contains(&rfc3339(c.not_after())));
    // 31 days out: no warning.
    assert_eq!(c.check_time(c.not_after() - 31 * DAY), Ok(None));
    assert!(c.check_time(c.not_after() - 30 * DAY).unwrap().is_some());
}

#[test]
fn peer_accepts_the_certificates_emp_seal_accepts() {
    // The demo certificate seals values the demo key opens, through the independent peer.
    let Some(mut peer) = common::Peer::start() else {
        return;
    };
    let c = Certificate::from_pem(fixtures::demo_cert_pem().as_bytes()).unwrap();
    let label = b"emp-paper/emp-secrets";
    let v = emp_seal::crypto::seal(c.public_key(), label, b"demo value").unwrap();
    assert_eq!(
        peer.decrypt(&fixtures::demo_key_pem(), label, &v).unwrap(),
        b"demo value"
    );
}

//! The controller's sealing certificate: PEM in, RSA public key, validity and fingerprints out.
//!
//! Owns reading a certificate the way `kubeseal --cert` does (its `CERTIFICATE` PEM block,
//! RSA only; a second one refused), refusing keys outside 2048 to 8192 bits, the expiry check, and the two
//! fingerprints. PEM is read by `rustls-pki-types` (also for `keys`). It must not read files,
//! kubeconfig or the network: callers pass bytes and name the file in their own messages.
//! Upstream: sealed-secrets `pkg/kubeseal/kubeseal.go` `ParseKey`, client-go
//! `util/cert` `ParseCertsPEM`, `pkg/crypto/crypto.go` `PublicKeyFingerprint`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};

use crate::crypto::{KeyRejected, OID_RSA_ENCRYPTION, RsaPublicKey, SealingKey, trim_zeros};
pub use crate::crypto::{MAX_KEY_BITS, MIN_KEY_BITS};

/// How close to `NotAfter` a certificate must be for [`Certificate::check_time`] to warn.
pub const EXPIRY_WARNING_DAYS: u64 = 30;

/// The marker in the subject of the demo sealing certificate shipped in `tests/fixtures/demo/`.
pub const DEMO_SUBJECT_MARKER: &str = "emp-seal DEMO";

pub(crate) const SECONDS_PER_DAY: u64 = 86_400;
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";

/// Why a certificate cannot be used for sealing. Each message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("not a pem certificate: no -----BEGIN CERTIFICATE----- block found")]
    NotPem,
    #[error("no CERTIFICATE block in the pem data (found: {found})")]
    NoCertificate {
        /// The block labels that were found, comma-separated.
        found: String,
    },
    #[error(
        "data does not contain any valid RSA or ECDSA certificates: found a bare {label} block, \
         kubeseal needs the controller's certificate"
    )]
    BarePublicKey {
        /// The PEM label, e.g. `PUBLIC KEY`.
        label: String,
    },
    #[error("the CERTIFICATE block is not a valid x.509 certificate: {reason}")]
    Malformed {
        /// What the decoder reported (about structure only, never key material).
        reason: String,
    },
    /// More than one `CERTIFICATE` block: kubeseal would take the first, which is the old one
    /// after `kubeseal --fetch-cert >> cert.pem` on a rotation (perhaps a compromised key).
    #[error(
        "holds {count} CERTIFICATE blocks (lines {lines}); a sealing certificate file holds one, \
         and which one the controller decrypts with cannot be told"
    )]
    SeveralCertificates {
        count: usize,
        /// Their `-----BEGIN CERTIFICATE-----` lines, comma-separated.
        lines: String,
    },
    #[error("expected RSA public key but found {algorithm}")]
    NotRsa {
        /// The key algorithm found, e.g. `an EC key`.
        algorithm: String,
    },
    #[error("the certificate's RSA key has {bits} bits; at least {MIN_KEY_BITS} are required")]
    TooSmall { bits: usize },
    #[error("the certificate's RSA key has {bits} bits; at most {MAX_KEY_BITS} are supported")]
    TooLarge { bits: usize },
    /// `NotAfter` is in the past (kubeseal refuses these too).
    #[error("the certificate expired on {not_after}")]
    Expired {
        /// `NotAfter`, RFC 3339 in UTC.
        not_after: String,
    },
}

impl CertError {
    /// Whether the certificate itself is well formed and only its key cannot seal (not RSA, or
    /// a size outside 2048 to 8192 bits): then [`describe_pem`] can still say which it is.
    pub fn is_unusable_key(&self) -> bool {
        matches!(
            self,
            CertError::NotRsa { .. } | CertError::TooSmall { .. } | CertError::TooLarge { .. }
        )
    }

    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CertError::NotPem
            | CertError::NoCertificate { .. }
            | CertError::BarePublicKey { .. }
            | CertError::SeveralCertificates { .. } => {
                Some("fetch the controller's certificate with `kubeseal --fetch-cert > cert.pem`")
            }
            CertError::Expired { .. } => Some(
                "fetch the controller's current certificate with `kubeseal --fetch-cert`; \
                 the controller renews its key every 30 days",
            ),
            CertError::TooSmall { .. } | CertError::TooLarge { .. } | CertError::NotRsa { .. } => {
                Some("sealed-secrets controllers generate RSA-4096 certificates")
            }
            CertError::Malformed { .. } => None,
        }
    }
}

/// A certificate that is due to expire soon (within [`EXPIRY_WARNING_DAYS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryWarning {
    /// `NotAfter` as Unix seconds.
    pub not_after: u64,
    /// Whole days left before `NotAfter` (0 on the last day).
    pub days_left: u64,
}

impl std::fmt::Display for ExpiryWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the certificate expires on {} ({} left)",
            rfc3339(self.not_after),
            days(self.days_left)
        )
    }
}

/// The first 12 hex digits of a [`Certificate::sha256_fingerprint`] (or of a recorded one) and
/// `...`, as every message shows it.
pub fn short_fingerprint(sha256: &str) -> String {
    format!("{}...", sha256.get(..12).unwrap_or(sha256))
}

/// A parsed sealing certificate.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// The subject's public key, checked when read.
    public_key: RsaPublicKey,
    sealing_key: Arc<SealingKey>,
    subject: String,
    not_before: u64,
    not_after: u64,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("key_bits", &self.key_bits())
            .field("not_before", &rfc3339(self.not_before))
            .field("not_after", &rfc3339(self.not_after))
            .field("sha256", &self.sha256_fingerprint())
            .finish()
    }
}

impl Certificate {
    /// Parses PEM bytes as `kubeseal --cert` does: the `CERTIFICATE` block is used, other
    /// blocks (keys, text) are skipped; a bare `PUBLIC KEY` is rejected. Unlike kubeseal, which
    /// takes the first of several, a second `CERTIFICATE` block is refused.
    /// The key must be RSA of at least [`MIN_KEY_BITS`] bits. Expiry is not checked here: see
    /// [`Certificate::check_time`].
    ///
    /// sealed-secrets `pkg/kubeseal/kubeseal.go` `ParseKey`.
    ///
    /// # Errors
    /// One [`CertError`] per failure; the caller adds the file name.
    pub fn from_pem(bytes: &[u8]) -> Result<Certificate, CertError> {
        let labels = pem_labels(bytes);
        if labels.is_empty() {
            return Err(CertError::NotPem);
        }
        let certs: Vec<String> = (pem_begins(bytes).into_iter())
            .filter(|(_, label)| label == "CERTIFICATE")
            .map(|(line, _)| line.to_string())
            .collect();
        if certs.len() > 1 {
            return Err(CertError::SeveralCertificates {
                count: certs.len(),
                lines: certs.join(", "),
            });
        }
        match CertificateDer::pem_slice_iter(bytes).next() {
            Some(Ok(der)) => Certificate::from_der(der.to_vec()),
            Some(Err(e)) => Err(CertError::Malformed {
                reason: pem_problem(&e).to_owned(),
            }),
            None => Err(match labels.iter().find(|l| l.ends_with("PUBLIC KEY")) {
                Some(label) => CertError::BarePublicKey {
                    label: label.clone(),
                },
                None => CertError::NoCertificate {
                    found: labels.join(", "),
                },
            }),
        }
    }

    /// Parses one DER-encoded X.509 certificate (same checks as [`Certificate::from_pem`]).
    ///
    /// # Errors
    /// As [`Certificate::from_pem`].
    pub fn from_der(der: Vec<u8>) -> Result<Certificate, CertError> {
        let malformed = |e: x509_cert::der::Error| CertError::Malformed {
            reason: e.to_string(),
        };
        let cert = x509_cert::Certificate::from_der(&der).map_err(malformed)?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let oid = spki.algorithm.oid.to_string();
        if oid != OID_RSA_ENCRYPTION {
            let algorithm = match oid.as_str() {
                OID_EC_PUBLIC_KEY => "an EC (ECDSA) key".to_string(),
                OID_ED25519 => "an Ed25519 key".to_string(),
                other => format!("a key of algorithm {other}"),
            };
            return Err(CertError::NotRsa { algorithm });
        }
        let spki_der = spki.to_der().map_err(malformed)?;
        let public_key = RsaPublicKey::from_spki_der(&spki_der).map_err(|e| match e {
            KeyRejected::TooSmall { bits } => CertError::TooSmall { bits },
            KeyRejected::TooLarge { bits } => CertError::TooLarge { bits },
            other => CertError::Malformed {
                reason: format!("rsa public key: {other}"),
            },
        })?;
        let validity = tbs.validity();
        Ok(Certificate {
            sealing_key: Arc::new(SealingKey::new(&public_key)),
            public_key,
            subject: tbs.subject().to_string(),
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
            der,
        })
    }

    /// The RSA public key values are sealed with.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    /// The key as a DER `SubjectPublicKeyInfo`, as the certificate holds it. Equal to
    /// [`crate::crypto::UnsealingKey::public_key_der`] for the certificate's private key.
    pub fn public_key_der(&self) -> &[u8] {
        self.public_key.spki_der()
    }

    /// The same key, prepared for sealing ([`crate::crypto::seal_many`]).
    pub fn sealing_key(&self) -> &SealingKey {
        &self.sealing_key
    }

    /// Modulus size in bits (4096 for certificates a controller generates).
    pub fn key_bits(&self) -> usize {
        self.public_key.bits()
    }

    /// The subject in RFC 4514 form (e.g. `CN=...,O=...`); empty for controller certificates.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `NotBefore` as Unix seconds.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// `NotAfter` as Unix seconds.
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Checks the certificate against `now` (Unix seconds) as kubeseal does: only `NotAfter`
    /// counts. Unlike kubeseal, a certificate within [`EXPIRY_WARNING_DAYS`] of expiry gives a
    /// warning.
    ///
    /// # Errors
    /// [`CertError::Expired`] when `now` is past `NotAfter`.
    pub fn check_time(&self, now: u64) -> Result<Option<ExpiryWarning>, CertError> {
        if now > self.not_after {
            return Err(CertError::Expired {
                not_after: rfc3339(self.not_after),
            });
        }
        let left = self.not_after - now;
        if left <= EXPIRY_WARNING_DAYS * SECONDS_PER_DAY {
            return Ok(Some(ExpiryWarning {
                not_after: self.not_after,
                days_left: left / SECONDS_PER_DAY,
            }));
        }
        Ok(None)
    }

    /// SHA-256 of the certificate's DER encoding, lowercase hex (64 characters): the usual
    /// certificate fingerprint (`openssl x509 -fingerprint -sha256`, without colons) and the
    /// value of the `emp-seal.dev/cert-sha256` annotation.
    pub fn sha256_fingerprint(&self) -> String {
        hex_lower(&Sha256::digest(&self.der))
    }

    /// kubeseal's public-key fingerprint: SHA-256 of the SSH wire encoding of the RSA key
    /// (`string "ssh-rsa", mpint e, mpint n`), as `SHA256:<base64 without padding>`, the form
    /// `ssh-keygen -l` prints. It identifies the key, not the certificate.
    ///
    /// sealed-secrets `pkg/crypto/crypto.go` `PublicKeyFingerprint` (`ssh.FingerprintSHA256`).
    pub fn ssh_fingerprint(&self) -> String {
        let mut wire = Vec::new();
        ssh_string(&mut wire, b"ssh-rsa");
        ssh_mpint(&mut wire, self.public_key.exponent());
        ssh_mpint(&mut wire, self.public_key.modulus());
        format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&wire)))
    }

    /// Whether this is emp-seal's demo certificate (subject contains [`DEMO_SUBJECT_MARKER`]),
    /// whose private key is public: nothing sealed with it is secret.
    pub fn is_demo(&self) -> bool {
        self.subject.contains(DEMO_SUBJECT_MARKER)
    }
}

/// The subject (RFC 4514) and `NotAfter` (Unix seconds) of the first `CERTIFICATE` block,
/// whatever its key: to say which certificate a refused one is.
pub fn describe_pem(bytes: &[u8]) -> Option<(String, u64)> {
    let der = CertificateDer::pem_slice_iter(bytes).next()?.ok()?;
    let cert = x509_cert::Certificate::from_der(der.as_ref()).ok()?;
    let tbs = cert.tbs_certificate();
    Some((
        tbs.subject().to_string(),
        tbs.validity().not_after.to_unix_duration().as_secs(),
    ))
}

/// A count of days as users read it: "1 day", "2 days", "0 days".
pub fn days(n: u64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// Formats Unix seconds as RFC 3339 in UTC (`2035-01-31T12:00:00Z`).
pub fn rfc3339(unix_seconds: u64) -> String {
    match x509_cert::der::DateTime::from_unix_duration(Duration::from_secs(unix_seconds)) {
        Ok(dt) => dt.to_string(),
        // Outside 1970..=9999: X.509 cannot express it, so show the raw number.
        Err(_) => format!("@{unix_seconds}"),
    }
}

/// The labels of a text's PEM blocks (`-----BEGIN LABEL-----` lines), in order. Used only to
/// say what a file holds when it holds no certificate; `rustls-pki-types` reads the blocks.
pub(crate) fn pem_labels(bytes: &[u8]) -> Vec<String> {
    pem_begins(bytes)
        .into_iter()
        .map(|(_, label)| label)
        .collect()
}

/// Each `-----BEGIN LABEL-----` line of a text: its 1-based line number and the label.
///
/// The label ends at the first `-----`, so a key pasted on one line
/// (`-----BEGIN PRIVATE KEY-----MIIE...-----END PRIVATE KEY-----`) still yields `PRIVATE KEY`
/// and never its body. Labels are shown to users, so only the characters real labels use
/// (RFC 7468 section 3 allows more: upper case, digits, spaces and single hyphens here) are
/// taken as one; a line whose label is anything else is not a BEGIN line.
pub(crate) fn pem_begins(bytes: &[u8]) -> Vec<(usize, String)> {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let (label, _) = l.trim().strip_prefix("-----BEGIN ")?.split_once("-----")?;
            let plain = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ';
            let shaped = label.len() <= 64
                && label
                    .split('-')
                    .all(|part| !part.is_empty() && part.chars().all(plain));
            shaped.then(|| (i + 1, label.to_owned()))
        })
        .collect()
}

/// True when `text` holds one or more PEM `CERTIFICATE` blocks and nothing else but blank
/// lines: public data (a CA bundle, a server certificate), whatever file it sits in.
pub fn only_certificates(text: &str) -> bool {
    let (mut inside, mut blocks) = (false, 0);
    for line in text.lines().map(str::trim) {
        match (inside, line) {
            (false, "") => {}
            (false, "-----BEGIN CERTIFICATE-----") => inside = true,
            (true, "-----END CERTIFICATE-----") => {
                inside = false;
                blocks += 1;
            }
            (true, l) if !l.starts_with("-----") => {}
            _ => return false,
        }
    }
    !inside && blocks > 0
}

/// True for the label of a `-----BEGIN LABEL-----` line that opens a private key: a PEM label
/// ending in `PRIVATE KEY` (`PRIVATE KEY`, `RSA PRIVATE KEY`, `OPENSSH PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, ...) or an armored PGP secret key, `PGP PRIVATE KEY BLOCK`
/// (RFC 4880 section 6.2; the GPG key Flux decrypts SOPS files with).
pub fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK"
}

/// A cheap first test for a text that may hold a private key's BEGIN line
/// ([`is_private_key_label`]): false means it holds none.
pub fn may_hold_private_key(text: &str) -> bool {
    text.contains("-----BEGIN ") && text.contains("PRIVATE KEY")
}

/// A PEM private key block in a text meant to hold a certificate. Only its label and line are
/// kept, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKeyBlock {
    /// The block's label, e.g. `RSA PRIVATE KEY`.
    pub label: String,
    /// 1-based line of its `-----BEGIN ...-----` marker.
    pub line: usize,
}

/// Every private key block of a PEM text, in order: a block whose label says it is one
/// ([`is_private_key_label`]).
/// [`Certificate::from_pem`] skips such blocks, as kubeseal does; a certificate file is
/// committed, so callers refuse, report or warn about them.
pub fn private_key_blocks(bytes: &[u8]) -> Vec<PrivateKeyBlock> {
    pem_begins(bytes)
        .into_iter()
        .filter(|(_, label)| is_private_key_label(label))
        .map(|(line, label)| PrivateKeyBlock { label, line })
        .collect()
}

/// What is wrong with a PEM text, without quoting it (it may be a private key).
pub(crate) fn pem_problem(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a pem block has no END line",
        E::IllegalSectionStart { .. } => "a pem BEGIN line is malformed",
        E::Base64Decode(_) => "invalid base64 in the pem block",
        _ => "the pem data cannot be read",
    }
}

fn ssh_string(out: &mut Vec<u8>, data: &[u8]) {
    let len = u32::try_from(data.len()).expect("invariant: ssh fields of an RSA key fit in u32");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

/// RFC 4251 mpint of a non-negative big-endian integer: no leading zero bytes, plus one zero
/// byte when the top bit is set.
fn ssh_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let digits = trim_zeros(be);
    let mut buf = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_some_and(|b| b & 0x80 != 0) {
        buf.push(0);
    }
    buf.extend_from_slice(digits);
    ssh_string(out, &buf);
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_reads_as_a_user_writes_it() {
        assert_eq!(days(1), "1 day");
        assert_eq!(days(0), "0 days");
        assert_eq!(days(2), "2 days");
    }

    /// The 2048-bit fixture certificate's DER with the bytes `from` (found exactly once)
    /// replaced by `to`, of the same length so that no DER length changes.
    fn fixture_with(from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let pem = include_str!("../tests/fixtures/certs/rsa-2048-cert.pem");
        let mut der = CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec();
        let hits: Vec<usize> = (0..=der.len() - from.len())
            .filter(|&i| der[i..].starts_with(from))
            .collect();
        assert_eq!(hits.len(), 1, "{from:02x?} occurs once");
        der[hits[0]..hits[0] + to.len()].copy_from_slice(to);
        der
    }

    /// rsaEncryption's `AlgorithmIdentifier` with NULL parameters, and the start of the key's
    /// BIT STRING (length 0x010f, no unused bits).
    const RSA_ALG_NULL: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        0x03, 0x82, 0x01, 0x0f, 0x00,
    ];

    #[test]
    fn rsa_keys_with_a_malformed_key_info_are_refused_when_read() {
        // Unchanged: parses, and the key is the certificate's key info as it stands.
        let der = fixture_with(RSA_ALG_NULL, RSA_ALG_NULL);
        let ok = Certificate::from_der(der.clone()).unwrap();
        let x509 = x509_cert::Certificate::from_der(&der).unwrap();
        let spki = x509
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        assert_eq!(ok.public_key_der(), &spki[..]);
        assert_eq!(ok.key_bits(), 2048);
        assert_eq!(ok.public_key().exponent(), &[0x01, 0x00, 0x01]);
        // Parameters an empty OCTET STRING instead of NULL; then one unused bit in the key.
        let mut octets = RSA_ALG_NULL.to_vec();
        octets[13] = 0x04;
        let mut unused = RSA_ALG_NULL.to_vec();
        unused[19] = 0x01;
        for bad in [octets, unused] {
            let der = fixture_with(RSA_ALG_NULL, &bad);
            match Certificate::from_der(der) {
                Err(CertError::Malformed { reason }) => {
                    assert!(
                        reason.starts_with("rsa public key: "),
                        "{bad:02x?}: {reason}"
                    );
                }
                other => panic!("{bad:02x?}: {other:?}"),
            }
        }
    }

    #[test]
    fn mpint_encoding() {
        let mut v = Vec::new();
        ssh_mpint(&mut v, &[0x00, 0x80, 0x01]);
        assert_eq!(v, [0, 0, 0, 3, 0, 0x80, 0x01]);
        let mut v = Vec::new();
        ssh_mpint(&mut v, &[0x01, 0x00, 0x01]);
        assert_eq!(v, [0, 0, 0, 3, 1, 0, 1]);
    }

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_609_459_200), "2021-01-01T00:00:00Z");
    }

    #[test]
    fn only_certificate_blocks_are_public() {
        let block = |label: &str| format!("-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n");
        let cert = block("CERTIFICATE");
        assert!(only_certificates(&cert));
        assert!(only_certificates(&format!("\n{cert}\n{cert}")));
        for text in [
            String::new(),
            format!("{cert}{}", block("PRIVATE KEY")),
            format!("password=x\n{cert}"),
            cert.replace("-----END CERTIFICATE-----\n", ""),
            block("RSA PRIVATE KEY"),
        ] {
            assert!(!only_certificates(&text), "{text}");
        }
    }

    #[test]
    fn a_key_pasted_on_one_line_is_named_by_its_label_alone() {
        // Built at run time, so that no source line holds a private key's BEGIN marker.
        let one_line = format!(
            "-----BEGIN {0}-----MIIEvSECRETBODY-----END {0}-----\n",
            "PRIVATE KEY"
        );
        let blocks = private_key_blocks(one_line.as_bytes());
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PRIVATE KEY");
        // A label that no PEM writer makes is not one: it could be pasted content.
        let mangled = format!("-----BEGIN {}MIIEvSECRETBODY-----\n", "PRIVATE KEY");
        assert!(pem_labels(mangled.as_bytes()).is_empty());
        assert!(pem_labels(b"-----BEGIN lower case-----\n").is_empty());
        assert_eq!(pem_labels(b"-----BEGIN X509 CRL-----\n"), ["X509 CRL"]);
    }

    #[test]
    fn pem_labels_and_problems() {
        let text = b"junk\n-----BEGIN FOO-----\nAAEC\n-----END FOO-----\n -----BEGIN BAR-----\n";
        assert_eq!(pem_labels(text), ["FOO", "BAR"]);
        assert!(private_key_blocks(text).is_empty());
        // No source line starts with a private key's BEGIN marker, or the repository's own
        // `emp-seal check` would take this fixture for a committed key.
        let keys = concat!(
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\r\n",
            "-----BEGIN RSA PRIVATE KEY-----\r\nAA==\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----BEGIN PRIVATE KEY BLOCK-----\n",
        )
        .as_bytes();
        assert_eq!(
            private_key_blocks(keys),
            [
                PrivateKeyBlock {
                    label: "RSA PRIVATE KEY".to_owned(),
                    line: 4
                },
                PrivateKeyBlock {
                    label: "ENCRYPTED PRIVATE KEY".to_owned(),
                    line: 9
                },
            ]
        );
        // An unclosed CERTIFICATE block is named, without quoting anything.
        let e = Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
        assert_eq!(
            e,
            CertError::Malformed {
                reason: "a pem block has no END line".to_owned()
            }
        );
    }
}

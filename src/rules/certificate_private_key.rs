//! Rule `certificate-private-key`: the environment's sealing certificate file
//! (`<overlay>/sealing-cert.pem`, or the config file's `certificate` path) also holds a PEM
//! private key block (`cert::private_key_blocks`). The file is committed, and the controller's
//! private key decrypts every `SealedSecret` sealed to the certificate.
//!
//! One finding per block, at its BEGIN line, naming only its label. An error an allow comment
//! cannot suppress under `--release` (`rules::RELEASE_UNSUPPRESSIBLE`). The shared certificate
//! check is in `super::certs`; this file never prints and never reads files.

use super::View;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-private-key",
    summary: "The environment's sealing certificate file also holds a private key",
    default_severity: Severity::Error,
    hint: "remove the private key from the file, then treat it as exposed: rotate the controller's key, re-seal, and change the values it protected (docs/certificates.md)",
    scope: RuleScope::Overlay,
};

/// Reports each private key block in a checked overlay's certificate file.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::PrivateKey)
}

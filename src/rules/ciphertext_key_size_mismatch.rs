//! Rule `ciphertext-key-size-mismatch`: an `encryptedData` value whose RSA length prefix is a
//! real key size but not the environment certificate's. Only runs where a certificate is known:
//! that of each environment rendering the value (`super::sealed_values`), else a key the context
//! holds for the file ([`super::Context::key_for`]). Never quotes values.

use super::View;
use super::sealed_values::check_kind;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::ciphertext::Kind;

pub static META: RuleMeta = RuleMeta {
    id: "ciphertext-key-size-mismatch",
    summary: "A SealedSecret value was sealed for a different RSA key size than the environment's certificate",
    default_severity: Severity::Error,
    hint: "re-seal with this environment's certificate; check that the overlay is configured with the right cert.pem",
    scope: RuleScope::Tree,
};

/// Reports every value sealed for another key size.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_kind(cx, &META, Kind::KeySize)
}

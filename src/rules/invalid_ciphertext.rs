//! Rule `invalid-ciphertext`: an `encryptedData` value whose bytes may be real but which the
//! controller rejects (URL-safe or unpadded base64, spaces or tabs), or whose RSA block is not
//! below the environment certificate's modulus. Decided by
//! [`classify`](crate::sealedsecret::ciphertext::classify). Never quotes values.

use super::View;
use super::sealed_values::check_kind;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::ciphertext::Kind;

pub static META: RuleMeta = RuleMeta {
    id: "invalid-ciphertext",
    summary: "A SealedSecret value is encoded so the controller rejects it, or was not sealed with the environment's certificate",
    default_severity: Severity::Error,
    hint: "re-seal the value with the environment's current certificate; never re-encode or hand-edit ciphertext",
    scope: RuleScope::Tree,
};

/// Reports every value with an encoding or modulus problem.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_kind(cx, &META, Kind::Invalid)
}

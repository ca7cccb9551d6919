//! Rule `placeholder-ciphertext`: an `encryptedData` value that is a stand-in, not a ciphertext.
//!
//! Literal styles (`AgAAAA...`, `<encrypted>`, `REPLACE_ME`, `changeme`, ...) and values that
//! cannot be a kubeseal value at all (not base64, no or implausible RSA length prefix, shorter than
//! `2 + k + 16` bytes, long zero runs in the RSA block). The decision is
//! [`classify`](crate::sealedsecret::ciphertext::classify)'s; this file only reports it. Never quotes values.

use super::View;
use super::sealed_values::check_kind;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::ciphertext::Kind;

pub static META: RuleMeta = RuleMeta {
    id: "placeholder-ciphertext",
    summary: "A SealedSecret value is a placeholder, not a ciphertext",
    default_severity: Severity::Error,
    hint: "seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`",
    scope: RuleScope::Repository,
};

/// Reports every placeholder value.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_kind(cx, &META, Kind::Placeholder)
}

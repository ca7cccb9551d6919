//! Rule `readable-secret-data`: a Secret `data` value in a tracked YAML or JSON file whose
//! base64 decodes to readable UTF-8 text, i.e. a password one `base64 -d` away.
//!
//! Looks at every YAML/JSON file of the repository git does not ignore, and skips the Secrets
//! that hold no credential by design
//! ([`non_credential`](super::plaintext_secret::non_credential)). Located at the data key. The
//! decoded text is looked at only to decide "readable" and is never put into the finding.

use base64::Engine as _;
use yaml_serde::Value;

use super::View;
use super::plaintext_secret::{
    Around, Written, committed_credentials, is_committed_secret, key_text,
};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "readable-secret-data",
    summary: "A Secret data value is base64 of readable text",
    default_severity: Severity::Warning,
    hint: "base64 is an encoding, not encryption: seal the value instead and rotate it",
    scope: RuleScope::Repository,
};

/// True when `value` is standard base64 of non-empty UTF-8 text without control characters other
/// than tab and line breaks.
pub fn is_readable_base64(value: &str) -> bool {
    let compact = crate::secret::compact_base64(value);
    let Ok(bytes) = crate::crypto::GO_STD_ENCODING.decode(compact.as_bytes()) else {
        return false;
    };
    let bytes = zeroize::Zeroizing::new(bytes);
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        }
        Err(_) => false,
    }
}

/// Reports every readable data value.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for doc in committed_credentials(cx) {
        let name = doc.name();
        let Some(Value::Mapping(data)) = doc.get(&["data"]) else {
            continue;
        };
        let around = Around::of(doc);
        for (k, v) in data {
            let (Some(key), Some(value)) = (key_text(k), v.as_str()) else {
                continue;
            };
            // Public data (a CA certificate) and values that are no text of their own (a
            // template, a SOPS value) are no secret to read.
            if is_readable_base64(value) && is_committed_secret(v, Written::Base64, around) {
                let message = format!("`{key}` in Secret `{name}` is base64 of readable text");
                out.push(Finding::new(&META, doc.location(&["data", &key]), message));
            }
        }
    }
    out
}

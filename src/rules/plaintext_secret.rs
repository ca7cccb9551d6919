//! Rule `plaintext-secret`: a `kind: Secret` with non-empty `data` or `stringData` in a tracked
//! YAML file (any document of a multi-document file, the legacy flat manifest included).
//!
//! Located at the `data` / `stringData` key. Files git does not track are skipped; files whose
//! git status is unknown are checked. The message names the Secret and its keys, never a value.

use yaml_serde::Value;

use super::yamldocs::docs_of_kind;
use super::{Context, GitStatus};
use crate::finding::{Finding, RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "plaintext-secret",
    summary: "A tracked YAML file holds a Secret with data or stringData in plaintext",
    default_severity: Severity::Error,
    hint: "move the values into an env file and seal them (emp-seal <env> --from FILE), delete the Secret from git, and rotate the exposed values",
};

/// Keys of a `data`/`stringData` mapping whose value is not empty.
pub(crate) fn filled_keys(map: Option<&Value>) -> Vec<String> {
    let Some(Value::Mapping(m)) = map else {
        return Vec::new();
    };
    m.iter()
        .filter(|(_, v)| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            _ => true,
        })
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect()
}

/// True when a file may hold committed content (tracked, or git status unknown).
pub(crate) fn committed(status: GitStatus) -> bool {
    !matches!(status, GitStatus::Untracked { .. })
}

/// Reports every Secret document with plaintext data.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for doc in docs_of_kind(cx, "Secret") {
        if !committed(doc.file.git) {
            continue;
        }
        let name = doc.name();
        for field in ["data", "stringData"] {
            let keys = filled_keys(doc.get(&[field]));
            if keys.is_empty() {
                continue;
            }
            let shown: Vec<String> = keys.iter().take(5).map(|k| format!("`{k}`")).collect();
            let more = if keys.len() > 5 { ", ..." } else { "" };
            let message = format!(
                "Secret `{name}` holds {} plaintext {field} key{} ({}{more})",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" },
                shown.join(", ")
            );
            out.push(Finding::builder(&META, doc.location(&[field]), message).build());
        }
    }
    out
}

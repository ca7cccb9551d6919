//! Rule `committed-private-key`: a file of the repository holds a private key, and git tracks
//! it (or does not ignore it). The sealed-secrets controller's private key decrypts every
//! `SealedSecret` sealed to its certificate; `emp-seal recover` and `unseal` read it from such a
//! file, which belongs on the key holder's machine, not in the repository; an SSH deploy key or
//! the GPG key Flux decrypts SOPS files with is as bad.
//!
//! Looks at the BEGIN lines of private keys (`cert::is_private_key_label`: PEM labels ending in
//! `PRIVATE KEY`, and PGP's `PGP PRIVATE KEY BLOCK`) in every file outside the tree (whatever
//! its name), and in a file whose name says it holds a key (`workspace::is_key_file`: `.pem`,
//! `.key`, `.crt`, `.cer`, OpenSSH's `id_rsa` and kin) also at the `tls.key` field of a
//! Kubernetes Secret (a backup of the controller's keys, `kubectl get secret -n kube-system -l
//! sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > main.key`). `check` hands this rule
//! only `keys::outline` of a file outside the tree that is not YAML or JSON, never the key.
//! An environment's sealing certificate is `certificate-private-key`'s; a file that could not be
//! read is a note naming this rule.

use std::collections::{HashMap, HashSet};

use super::yamldocs::repository_docs_of_kind;
use super::{Context, GitStatus, SourceFile, View};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::rules::locate::at_line;

pub static META: RuleMeta = RuleMeta {
    id: "committed-private-key",
    summary: "A private key is committed to the repository",
    default_severity: Severity::Error,
    hint: "remove the file from git (and from its history) and keep it out of the repository; treat the key as exposed: rotate it, and re-seal or change what it protected",
    scope: RuleScope::Repository,
};

/// Reports each private key in a tracked (or not ignored) key file that is no environment's
/// sealing certificate, and each PEM private key written into a YAML or JSON file outside a
/// Secret document (a ConfigMap, a Helm values file, a SealedSecret's plaintext template).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let env_certs: HashSet<&str> = cx
        .all_overlays()
        .iter()
        .filter_map(|o| Some(o.cert.as_ref()?.path.as_str()))
        .collect();
    let mut out = Vec::new();
    // Built on first use: most repositories have no private key in a manifest.
    let mut secrets = None;
    for file in cx
        .files
        .iter()
        .filter(|f| !env_certs.contains(f.path.as_str()))
    {
        let key_file = crate::workspace::is_key_file(&file.path);
        // Every other file outside the tree reaches the rules as its outline too.
        let outlined = key_file || (file.repository_only && !file.is_yaml());
        let in_manifest = file.is_yaml() && crate::cert::may_hold_private_key(&file.text);
        if !(outlined || in_manifest) {
            continue;
        }
        let severity = match file.git {
            GitStatus::Tracked | GitStatus::Unknown => Severity::Error,
            GitStatus::Untracked { ignored: false } => Severity::Warning,
            GitStatus::Untracked { ignored: true } => continue,
        };
        let keys = match &file.unread {
            Some(why) if outlined => {
                out.push(unread(file, why));
                continue;
            }
            _ if key_file => private_keys(&file.text),
            _ if outlined => pem_private_keys(&file.text),
            _ => embedded_private_keys(secrets.get_or_insert_with(|| secret_lines(cx)), file),
        };
        let committed = if severity == Severity::Error {
            "committed"
        } else {
            "not ignored by git (one `git add` away from being committed)"
        };
        for (line, what) in keys {
            let message = format!("`{}` holds {what}, and is {committed}", file.path);
            let finding = Finding::new(&META, at_line(cx, &file.path, line), message);
            out.push(if severity == Severity::Error {
                finding
            } else {
                finding
                    .severity(severity)
                    .hint("move the file out of the repository, or add it to .gitignore so that it cannot be committed by accident")
            });
        }
    }
    out
}

/// The note for a key file that could not be read.
fn unread(file: &SourceFile, why: &str) -> Finding {
    let finding = Finding::new(
        &META,
        Location::file(file.path.clone()),
        format!("cannot be read: {why}; committed-private-key did not check this file"),
    );
    finding
        .severity(Severity::Note)
        .hint("list it under `ignore` in emp-seal.toml once it is known to hold no private key")
}

/// The line ranges of the repository's Secret documents, by the file they are in (its address
/// in `cx.files`), gathered in one pass over the documents.
type SecretLines = HashMap<*const SourceFile, Vec<std::ops::Range<usize>>>;

/// The [`SecretLines`] of every file read.
fn secret_lines(cx: &Context<'_>) -> SecretLines {
    let mut by_file: SecretLines = HashMap::new();
    for d in repository_docs_of_kind(cx, "Secret") {
        let first = d.doc.first_line as usize;
        let lines = first..first + d.doc.text.lines().count();
        by_file
            .entry(std::ptr::from_ref(d.file))
            .or_default()
            .push(lines);
    }
    by_file
}

/// The PEM private keys of a YAML or JSON file, at their `-----BEGIN` lines (anywhere in the
/// line: JSON writes a key as one string), outside its Secret documents (`secrets`, see
/// [`SecretLines`]): a Secret holding one is `plaintext-secret`'s.
fn embedded_private_keys(secrets: &SecretLines, file: &SourceFile) -> Vec<(usize, String)> {
    // 1-based line -> inside a Secret document.
    let mut in_secret = vec![false; file.text.lines().count() + 1];
    for r in secrets.get(&std::ptr::from_ref(file)).into_iter().flatten() {
        let end = r.end.min(in_secret.len());
        if let Some(lines) = in_secret.get_mut(r.start..end) {
            lines.fill(true);
        }
    }
    let mut keys = Vec::new();
    for (i, text) in file.text.lines().enumerate() {
        let line = i + 1;
        if in_secret[line] {
            continue;
        }
        for (at, marker) in text.match_indices("-----BEGIN ") {
            let rest = &text[at + marker.len()..];
            let label = rest.split("-----").next().unwrap_or_default();
            if crate::cert::is_private_key_label(label)
                && label.chars().all(|c| c.is_ascii_uppercase() || c == ' ')
            {
                keys.push((line, format!("a private key (a `{label}` block)")));
            }
        }
    }
    keys
}

/// Each private key block of an outline: its 1-based line and what it is.
fn pem_private_keys(outline: &str) -> Vec<(usize, String)> {
    crate::cert::private_key_blocks(outline.as_bytes())
        .into_iter()
        .map(|b| (b.line, format!("a private key (a `{}` block)", b.label)))
        .collect()
}

/// Each private key of a key file's outline: its PEM blocks ([`pem_private_keys`]) and a
/// Kubernetes Secret's `tls.key` fields.
fn private_keys(outline: &str) -> Vec<(usize, String)> {
    let mut keys = pem_private_keys(outline);
    keys.extend(
        outline
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == "tls.key:")
            .map(|(i, _)| (i + 1, "a Secret's `tls.key` (a private key)".to_owned())),
    );
    keys.sort();
    keys
}

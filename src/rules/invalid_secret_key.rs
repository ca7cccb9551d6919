//! Rule `invalid-secret-key`: the Secret a `SealedSecret` unseals into would be refused by the
//! API server.
//!
//! The controller decrypts every value and then creates the Secret; the API server validates it
//! like any other (kubernetes `pkg/apis/core/validation/validation.go`, `ValidateSecret`): each
//! key is an `IsConfigMapKey` (`[-._a-zA-Z0-9]`, at most 253 bytes, not `.`/`..`), and a typed
//! Secret holds the keys its type requires. A refused Secret never reaches the workloads, and the
//! failure shows only in the controller's log and the SealedSecret's status, so this is caught
//! here. The keys are the rendered `encryptedData` keys plus `spec.template.data`'s; the type is
//! the rendered `spec.template.type` (a patch may set it). Never quotes values.

use super::locate::{at_line, at_sealed};
use super::model::{Deployment, sealed_keys};
use super::{Context, View, judge_deployments};
use crate::envfile::validate_key;
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::report::text::quoted;

pub static META: RuleMeta = RuleMeta {
    id: "invalid-secret-key",
    summary: "A SealedSecret's (or a Secret generator's) Secret would be refused by the API server (a key outside [-._a-zA-Z0-9], a key its type requires is missing, or a name that is no DNS subdomain)",
    default_severity: Severity::Error,
    hint: "rename the key to one of [-._a-zA-Z0-9] and re-seal, or add the key the Secret's type requires",
    scope: RuleScope::Model,
};

/// The keys a Secret of a type must hold, any one of each group (`ValidateSecret`).
const REQUIRED: &[(&str, &[&[&str]])] = &[
    ("kubernetes.io/dockercfg", &[&[".dockercfg"]]),
    ("kubernetes.io/dockerconfigjson", &[&[".dockerconfigjson"]]),
    ("kubernetes.io/basic-auth", &[&["username", "password"]]),
    ("kubernetes.io/ssh-auth", &[&["ssh-privatekey"]]),
    ("kubernetes.io/tls", &[&["tls.crt"], &["tls.key"]]),
];

/// Reports every key the API server refuses and every key a type requires that is missing, for
/// each `SealedSecret` the overlay in focus renders, in each model its environment is deployed
/// as (its own, and each variant's); and every key a type requires that a generated Secret
/// lacks (kustomize refuses a key outside `[-._a-zA-Z0-9]` itself, but not a missing one: the
/// usual slip is `files: [config.json]` for a `kubernetes.io/dockerconfigjson` Secret, which
/// needs `.dockerconfigjson=config.json`).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let judge = |ov| {
        judge_deployments(ov, |d| {
            let mut out = refused(cx, d);
            out.extend(generated_missing(cx, d));
            out
        })
    };
    cx.overlays().flat_map(judge).collect()
}

/// The groups of `REQUIRED` keys a Secret of type `ty` with `keys` lacks, each as `` `a` or `b` ``.
fn missing_groups(ty: &str, has: impl Fn(&str) -> bool) -> Vec<String> {
    let groups = REQUIRED.iter().find(|(t, _)| *t == ty).map(|(_, g)| *g);
    (groups.unwrap_or_default().iter())
        .filter(|group| !group.iter().any(|k| has(k)))
        .map(|group| {
            (group.iter().map(|k| format!("`{k}`")))
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect()
}

/// The required keys the generated Secrets of one model lack, at the generator entry that last
/// set their type. Keys come from the env files or, absent, their examples; a Secret whose keys
/// are not known is not judged.
fn generated_missing(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, g) in d.overlay.generated().iter().enumerate() {
        if g.kind == crate::kustomize::GeneratedKind::Secret
            && let Some(why) = secret_name_problem(&g.rendered.name)
            && let Some(spec) = g.specs.first()
        {
            let what = format!("Secret generator `{}`", g.original.name);
            let file = crate::workspace::path_str(&spec.origin.file);
            let loc = at_line(cx, &file, spec.origin.line);
            let named = (what.as_str(), g.rendered.name.as_str(), why, "");
            out.push(refused_name(d, named, loc));
        }
        let Some(ty) = g.secret_type.as_deref() else {
            continue;
        };
        let Some(keys) = super::model::generated_keys(&cx.tree, d.overlay, i) else {
            continue;
        };
        let Some(spec) = g.specs.last() else { continue };
        let loc = at_line(
            cx,
            &crate::workspace::path_str(&spec.origin.file),
            spec.origin.line,
        );
        for lacking in missing_groups(ty, |k| keys.contains(k)) {
            let message = format!(
                "overlay {}: Secret generator `{}` makes a Secret of type `{ty}` without {lacking}: the API server refuses the Secret",
                d.label(),
                g.original.name,
            );
            out.push(Finding::new(&META, loc.clone(), message).hint(
                "give the key the type requires (a `files:` entry `KEY=path`, e.g. `.dockerconfigjson=config.json`), or change the type",
            ));
        }
    }
    out
}

/// Why the API server refuses `name` as a Secret's name, if it does: a Secret is named by a DNS
/// subdomain (kubernetes `pkg/apis/core/validation/validation.go`, `ValidateSecretName`, and
/// apimachinery `pkg/util/validation/validation.go`, `IsDNS1123Subdomain`): at most 253
/// characters, dot-separated parts of lower-case letters, digits and `-`, each starting and
/// ending with a letter or digit. An empty name is other rules' to report.
fn secret_name_problem(name: &str) -> Option<&'static str> {
    let part_ok = |p: &str| {
        let b = p.as_bytes();
        let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(edge)
            && b.last().is_some_and(edge)
            && b.iter().all(|c| edge(c) || *c == b'-')
    };
    if name.is_empty() {
        None
    } else if name.len() > 253 {
        Some("is longer than 253 characters")
    } else if !name.split('.').all(part_ok) {
        Some(
            "is no DNS subdomain (lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit)",
        )
    } else {
        None
    }
}

/// The finding for a Secret named `name` that the API server refuses (`what` makes it, and
/// `then` says what follows).
fn refused_name(
    d: &Deployment<'_>,
    (what, name, why, then): (&str, &str, &str, &str),
    loc: Location,
) -> Finding {
    let message = format!(
        "overlay {}: {what} makes a Secret named `{name}`, which {why}: the API server refuses the Secret{then}",
        d.label()
    );
    Finding::new(&META, loc, message).hint(
        "name it with lower-case letters, digits, `-` and `.` (and re-seal a SealedSecret for the new name)",
    )
}

/// The refused keys and missing required keys of the `SealedSecret`s one model renders, and a
/// Secret name the API server refuses.
fn refused(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for src in d.overlay.sealed_secret_sources() {
        if let Some(why) = secret_name_problem(&src.rendered.name) {
            let what = format!("SealedSecret `{}`", src.rendered.name);
            let loc = at_line(cx, &src.path(), src.line);
            let then = ", so the controller never creates it";
            let named = (what.as_str(), src.rendered.name.as_str(), why, then);
            out.push(refused_name(d, named, loc));
        }
        let Some(doc) = src.doc(cx) else { continue };
        let keys = sealed_keys(&doc, src.keys.as_ref());
        let at_template = |field: &str| {
            let at = (src.doc_index, src.line);
            at_sealed(cx, &src.path(), at, &["spec", "template", field])
        };
        for key in &keys {
            let Err(problem) = validate_key(key) else {
                continue;
            };
            let loc = match doc.entry(key) {
                Some(e) => at_line(cx, &src.path(), e.line),
                None => at_template("data"),
            };
            let message = format!(
                "overlay {}: SealedSecret `{}` gives its Secret the key {}, which {}: the API server refuses the Secret, so the controller never creates it",
                d.label(),
                src.rendered.name,
                quoted(key),
                problem.describe()
            );
            out.push(Finding::new(&META, loc, message));
        }
        // The rendered type: a patch may set it, the file's own is its fallback.
        let Some(ty) = (src.secret_type.as_deref()).or(doc.template.secret_type.as_deref()) else {
            continue;
        };
        for lacking in missing_groups(ty, |k| keys.contains(k)) {
            let loc = at_template("type");
            let message = format!(
                "overlay {}: SealedSecret `{}` unseals into a Secret of type `{ty}` without {lacking}: the API server refuses the Secret, so the controller never creates it",
                d.label(),
                src.rendered.name,
            );
            out.push(Finding::new(&META, loc, message));
        }
    }
    out
}

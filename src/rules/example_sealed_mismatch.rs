//! Rule `example-sealed-mismatch`: a `SealedSecret` holds exactly the environment's key set.
//!
//! The environment's key set for the `SealedSecret` an overlay renders (docs/check.md):
//! 1. the keys of the `*.env.example` files describing it
//!    ([`crate::kustomize::Overlay::sealed_example_keys`], which `emp-seal seal` asks by);
//!    otherwise the keys the sibling overlays (those whose workloads reading it come from the
//!    same files) define for a Secret of the same name (the examples describing a `SealedSecret`
//!    of that name in one, and their generators' keys);
//! 2. plus every key the overlay's workloads read from it by key (non-optional `secretKeyRef`,
//!    secret volume `items`, KEDA `secretTargetRef`), which is what `emp-seal seal` asks for.
//!
//! Missing keys are reported at `encryptedData`, extra keys (when step 1 gave a complete key set)
//! at their entry. Never quotes values, nor a key from an env-file line without `=` (named by
//! its line, `model::shown_key`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::locate::{at_line, at_sealed};
use super::model::{
    Deployment, OverlayModel, bare_line_text, generated_keys, key_phrase, sealed_keys, shown_key,
};
use super::{Context, View, judge_deployments};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::{ExampleFile, ExampleKeys, GeneratedKind, SealedRef};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "example-sealed-mismatch",
    summary: "A SealedSecret does not hold exactly the environment's key set",
    default_severity: Severity::Error,
    hint: "seal the missing keys (emp-seal <env> --from FILE) and remove the extra ones",
    scope: RuleScope::Model,
};

/// The keys of the `*.env.example` files describing `sealed` in `ov`: the rule `emp-seal seal`
/// asks by ([`crate::kustomize::Overlay::sealed_example_keys`]).
fn example_keys(cx: &Context<'_>, ov: &OverlayModel, sealed: &SealedRef) -> Option<ExampleKeys> {
    // A directory beside a base above the root (`../shared`) is outside the tree `check`
    // loaded: it is read from disk, as `seal` reads it.
    let examples_in = |dir: &Path| {
        if dir.is_absolute() || dir.starts_with("..") {
            return crate::kustomize::examples_on_disk(cx.root, dir);
        }
        (cx.tree.env_files.iter())
            .filter(|e| {
                e.path.ends_with(".env.example") && Path::new(&e.path).parent() == Some(dir)
            })
            .map(|e| {
                let keys = e.keys().map(|keys| ExampleFile {
                    keys,
                    bare: e.bare.clone(),
                });
                (PathBuf::from(&e.path), keys)
            })
            .collect()
    };
    ov.overlay
        .sealed_example_keys(cx.root, (&sealed.file, &sealed.name_in_file), examples_in)
}

/// For each loaded overlay (in the order of [`Context::all_overlays`]), by the name of a Secret
/// as written: the files of the overlay's workloads that read it. Built once per check
/// ([`Context::secret_readers`]), so that finding the siblings of a `SealedSecret` looks each
/// overlay up instead of scanning its objects for every reference.
pub(crate) type Readers = Vec<HashMap<String, BTreeSet<String>>>;

/// The [`Readers`] of `overlays`.
pub(crate) fn readers(overlays: &[OverlayModel]) -> Readers {
    overlays.iter().map(readers_of).collect()
}

/// The files of the workloads of `ov` that read each Secret, by its name as written.
fn readers_of(ov: &OverlayModel) -> HashMap<String, BTreeSet<String>> {
    // The first object of each kind and rendered identity, as a reference names its referrer.
    let mut objects = HashMap::new();
    for x in ov.overlay.resources() {
        objects.entry((x.kind.as_str(), &x.rendered)).or_insert(x);
    }
    let mut by_name: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in ov.overlay.references() {
        if r.target_kind != "Secret" {
            continue;
        }
        if let Some(x) = objects.get(&(r.referrer_kind.as_str(), &r.referrer)) {
            let files = by_name.entry(r.name.clone()).or_default();
            files.insert(path_str(&x.origin.file));
        }
    }
    by_name
}

/// The files of the workloads that read a Secret named `name` (as written), from one
/// overlay's entry of [`Readers`]; empty when none does.
fn reader_files<'r>(
    by_name: Option<&'r HashMap<String, BTreeSet<String>>>,
    name: &str,
) -> &'r BTreeSet<String> {
    static NONE: BTreeSet<String> = BTreeSet::new();
    by_name.and_then(|m| m.get(name)).unwrap_or(&NONE)
}

/// The keys the sibling overlays define for a Secret named `name` (as written): the examples of
/// one that renders a `SealedSecret` of that name, and its generators of that name. Siblings are
/// the other overlays whose workloads reading that Secret come from a file `ov`'s do (a shared
/// base): `apps/shop/dev` and `apps/blog/dev` may both name a `db-credentials` of their own.
/// When no workload of `ov` reads it, every other overlay is a sibling. Complete, with the
/// examples' keys of lines without `=` (an example above the root is in no env file of the tree).
fn sibling_keys(cx: &Context<'_>, ov: &OverlayModel, name: &str) -> ExampleKeys {
    let mut keys = ExampleKeys {
        keys: BTreeSet::new(),
        bare: Vec::new(),
        complete: true,
    };
    let all = cx.all_overlays().iter().zip(cx.secret_readers());
    let own = all
        .clone()
        .find(|(o, _)| std::ptr::eq(*o, ov))
        .map(|(_, r)| r);
    let readers = reader_files(own, name);
    let siblings = all.filter(|(o, by_name)| {
        o.name != ov.name
            && (readers.is_empty() || !reader_files(Some(by_name), name).is_disjoint(readers))
    });
    for (other, _) in siblings {
        // Its examples describe its own SealedSecrets: they count only for one named `name`.
        for s in other.overlay.sealed_secret_sources() {
            if s.name_in_file == name
                && let Some(e) = example_keys(cx, other, &s)
            {
                keys.keys.extend(e.keys);
                keys.bare.extend(e.bare);
            }
        }
        for (i, g) in other.overlay.generated().iter().enumerate() {
            if g.kind == GeneratedKind::Secret
                && g.original.name == name
                && let Some(k) = generated_keys(&cx.tree, &other.overlay, i)
            {
                keys.keys.extend(k);
            }
        }
    }
    keys
}

/// The environment's key set for `sealed` in `ov` (`complete` when step 1 gave a complete one,
/// so extra keys can be judged; `bare` the examples' keys from lines without `=`).
pub fn environment_keys(cx: &Context<'_>, ov: &OverlayModel, sealed: &SealedRef) -> ExampleKeys {
    let mut set =
        example_keys(cx, ov, sealed).unwrap_or_else(|| sibling_keys(cx, ov, &sealed.name_in_file));
    set.complete &= !set.keys.is_empty();
    for r in ov.overlay.references() {
        if r.target_kind == "Secret" && r.rendered_name == sealed.rendered.name && !r.optional {
            set.keys.extend(r.keys.iter().map(|(k, _)| k.clone()));
        }
    }
    set
}

/// The environment's key set for `sealed` as the model `d` renders it: the environment's own
/// model's [`environment_keys`]. A variant renders the environment's `SealedSecret`s, whose
/// examples are the environment's: its key set is the one of the environment's `SealedSecret`
/// from the same document (none, and so incomplete, for one only the variant renders), plus the
/// keys the variant's workloads read from it by key.
fn deployment_keys(cx: &Context<'_>, d: &Deployment<'_>, sealed: &SealedRef) -> ExampleKeys {
    if d.variant.is_none() {
        return environment_keys(cx, d.env, sealed);
    }
    let same = |s: &SealedRef| {
        (s.path(), &s.name_in_file, &s.namespace_in_file)
            == (
                sealed.path(),
                &sealed.name_in_file,
                &sealed.namespace_in_file,
            )
    };
    let own = d.env.overlay.sealed_secret_sources().find(same);
    let mut set = own.map_or_else(
        || ExampleKeys {
            keys: BTreeSet::new(),
            bare: Vec::new(),
            complete: false,
        },
        |s| environment_keys(cx, d.env, &s),
    );
    for r in d.overlay.references() {
        if r.target_kind == "Secret" && r.rendered_name == sealed.rendered.name && !r.optional {
            set.keys.extend(r.keys.iter().map(|(k, _)| k.clone()));
        }
    }
    set
}

/// Reports missing and extra keys of every overlay's `SealedSecret`s, in each model its
/// environment is deployed as (its own, and each variant's).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let judge = |ov| judge_deployments(ov, |d| mismatched(cx, d));
    cx.overlays().flat_map(judge).collect()
}

/// The missing and extra keys of the `SealedSecret`s one model renders.
fn mismatched(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for src in d.overlay.sealed_secret_sources() {
        let (path, rendered) = (&src.path(), &src.rendered);
        let Some(doc) = src.doc(cx) else { continue };
        let env = deployment_keys(cx, d, &src);
        let (want, complete) = (&env.keys, env.complete);
        let have = sealed_keys(&doc, src.keys.as_ref());
        let missing: BTreeSet<&String> = want.difference(&have).collect();
        if !missing.is_empty() {
            // A key of the example's line without `=` is named by that line (an example
            // beside a base above the root is not in the tree `shown_key` looks in).
            let shown = |k: &&String| match env.bare.iter().find(|(b, ..)| b == *k) {
                Some((_, path, line)) => bare_line_text(&path_str(path), *line),
                None => shown_key(&cx.tree, k),
            };
            let message = format!(
                "overlay {}: SealedSecret `{}` lacks {} of the environment's key set: {}",
                d.label(),
                rendered.name,
                if missing.len() == 1 { "a key" } else { "keys" },
                missing.iter().map(shown).collect::<Vec<_>>().join(", ")
            );
            let loc = at_sealed(
                cx,
                path,
                (src.doc_index, src.line),
                &["spec", "encryptedData"],
            );
            out.push(Finding::new(&META, loc, message));
        }
        if complete {
            for e in doc.encrypted_data.iter().filter(|e| !want.contains(&e.key)) {
                let message = format!(
                    "overlay {}: SealedSecret `{}` holds {}, which is not in the environment's key set",
                    d.label(),
                    rendered.name,
                    key_phrase(&cx.tree, &e.key)
                );
                out.push(Finding::new(&META, at_line(cx, path, e.line), message));
            }
        }
    }
    out
}

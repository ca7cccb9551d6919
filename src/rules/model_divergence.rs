//! Rule `model-divergence`: under `check --render`, the real kustomize render of an overlay
//! differs from emp-seal's model of it, so the other rules judged something that does not
//! deploy. Compared: every object's kind, name and namespace (a generated name with a hash
//! suffix matches `<name>-<10 characters>`); the key names of every Secret and `SealedSecret`;
//! a `SealedSecret`'s top-level scope annotations; and every name reference the rules read
//! (its field path, the name it holds and the keys it reads). Each variant of an environment (a
//! kustomization wrapping its overlay, deployed in its place) is compared the same way: its
//! render with its own model, the findings naming it.
//!
//! Reads the reduced render from [`crate::render`] (names and keys only, never values). Each
//! finding names both sides: what the model has and what the tool rendered.

use std::collections::{BTreeMap, BTreeSet};

use super::locate::at_line;
use super::model::{TreeModel, bare_key_text, generated_keys, shown_name};
use super::{Context, View};
use crate::envfile;
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::{Overlay, Reference};
use crate::render::{RenderedObject, RenderedOverlay, SCOPE_ANNOTATIONS};
use crate::workspace::path_str;
use crate::yamlpos::dotted;

pub static META: RuleMeta = RuleMeta {
    id: "model-divergence",
    summary: "The real kustomize render differs from emp-seal's model of the overlay (objects, Secret keys, scopes or references)",
    default_severity: Severity::Error,
    hint: "the other rules judged the model, not what deploys: avoid the kustomize feature the model does not follow (docs/kustomize-model.md), or report the difference",
    scope: RuleScope::Tree,
};

/// One object as the model renders it.
struct ModelObject {
    kind: String,
    name: String,
    hash: bool,
    namespace: Option<String>,
    /// Where it is written (file, line).
    origin: (String, usize),
    keys: Option<BTreeSet<String>>,
    scope: Option<BTreeMap<String, String>>,
}

/// Compares each checked overlay's model with its render, and each of its variants' models
/// with the variant's render.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let renders = || cx.tree.renders.iter().filter(|r| r.overlay == ov.name);
        let own = renders()
            .find(|r| r.variant.is_none())
            .map(|r| compare(cx, &ov.overlay, r))
            .unwrap_or_default();
        for render in renders() {
            let Some(dir) = &render.variant else { continue };
            let Some(v) = ov.variants.iter().find(|v| v.dir == *dir) else {
                continue;
            };
            let label = format!("overlay {}, variant `{dir}`", ov.name);
            // A variant builds its environment, so it repeats the environment's divergences
            // (an object only the render has at its own kustomization): those are reported
            // once, as the environment's.
            let found = compare(cx, &v.overlay, render).into_iter();
            let found = found.filter(|(_, text)| !own.iter().any(|(_, t)| t == text));
            out.extend(found.map(|(loc, text)| finding(&label, loc, &text)));
        }
        let label = format!("overlay {}", ov.name);
        out.extend(
            own.into_iter()
                .map(|(loc, text)| finding(&label, loc, &text)),
        );
    }
    out
}

fn finding(label: &str, loc: Location, text: &str) -> Finding {
    Finding::new(&META, loc, format!("{label}: {text}"))
}

/// Every difference between a model and its render (none when the render failed, which is
/// `render-failed`'s): where, and what, without the overlay's label.
fn compare(
    cx: &Context<'_>,
    overlay: &Overlay,
    render: &RenderedOverlay,
) -> Vec<(Location, String)> {
    let Ok(objects) = &render.outcome else {
        return Vec::new();
    };
    let model = model_objects(cx, overlay);
    let mut claimed = vec![false; objects.len()];
    let mut pairs = Vec::new();
    let mut model_only = Vec::new();
    for m in &model {
        let found = objects.iter().enumerate().position(|(i, o)| {
            !claimed[i]
                && o.kind == m.kind
                && o.namespace == m.namespace
                && name_matches(&m.name, m.hash, &o.name)
        });
        match found {
            Some(i) => {
                claimed[i] = true;
                pairs.push((m, &objects[i]));
            }
            None => model_only.push(m),
        }
    }
    let mut render_only: Vec<&RenderedObject> = (objects.iter().zip(&claimed))
        .filter_map(|(o, c)| (!c).then_some(o))
        .collect();
    let mut out = Vec::new();
    for m in model_only {
        let loc = at_line(cx, &m.origin.0, m.origin.1);
        let mine = show(&shown_name(&m.name, m.hash), m.namespace.as_deref());
        let text = match render_only.iter().position(|o| o.kind == m.kind) {
            Some(i) => {
                let o = render_only.remove(i);
                let theirs = show(&o.name, o.namespace.as_deref());
                format!(
                    "the model renders {} {mine}, {} renders {} {theirs} instead",
                    m.kind, render.tool, o.kind
                )
            }
            None => format!(
                "the model renders {} {mine}, which {} does not render",
                m.kind, render.tool
            ),
        };
        out.push((loc, text));
    }
    for o in render_only {
        let loc = at_line(cx, &render.kustomization, render.line);
        let text = format!(
            "{} renders {} {}, which the model does not have",
            render.tool,
            o.kind,
            show(&o.name, o.namespace.as_deref())
        );
        out.push((loc, text));
    }
    for (m, o) in pairs {
        for text in object_differences(&cx.tree, m, o, render.tool) {
            out.push((at_line(cx, &m.origin.0, m.origin.1), text));
        }
        out.extend(reference_differences(cx, overlay, m, o, render.tool));
    }
    out
}

/// The model's objects: resources, then generated Secrets and `ConfigMap`s.
fn model_objects(cx: &Context<'_>, overlay: &Overlay) -> Vec<ModelObject> {
    let mut out = Vec::new();
    for r in overlay.resources() {
        let path = path_str(&r.origin.file);
        let scope = (r.kind == "SealedSecret").then(|| {
            r.annotations
                .iter()
                .filter(|(k, _)| SCOPE_ANNOTATIONS.contains(&k.as_str()))
                .cloned()
                .collect()
        });
        out.push(ModelObject {
            kind: r.kind.clone(),
            name: r.rendered.name.clone(),
            hash: false,
            namespace: r.rendered.namespace.clone(),
            origin: (path, r.name_line),
            keys: r.keys.clone(),
            scope,
        });
    }
    for (i, g) in overlay.generated().iter().enumerate() {
        // Every generated object has the spec that made it (kustomize's model builds it from one).
        let Some(spec) = g.specs.first() else {
            continue;
        };
        let origin = (path_str(&spec.origin.file), spec.origin.line);
        out.push(ModelObject {
            kind: g.kind.kind().to_owned(),
            name: g.rendered.name.clone(),
            hash: g.hash_suffix,
            namespace: g.rendered.namespace.clone(),
            origin,
            keys: generated_keys(&cx.tree, overlay, i),
            scope: None,
        });
    }
    out
}

/// Keys and scope of a matched object.
fn object_differences(
    tree: &TreeModel,
    m: &ModelObject,
    o: &RenderedObject,
    tool: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let id = show(&o.name, o.namespace.as_deref());
    if let (Some(mk), Some(rk)) = (&m.keys, &o.keys)
        && mk != rk
    {
        out.push(format!(
            "{} {id} has keys [{}] in the model and [{}] in the {tool} render",
            m.kind,
            join(tree, mk),
            render_keys(tree, rk, mk)
        ));
    }
    if let Some(ms) = &m.scope
        && *ms != o.scope
    {
        let show_scope = |s: &BTreeMap<String, String>| {
            if s.is_empty() {
                "no scope annotation".to_owned()
            } else {
                s.iter()
                    .map(|(k, v)| format!("{k}: {v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        out.push(format!(
            "{} {id} has {} in the model and {} in the {tool} render",
            m.kind,
            show_scope(ms),
            show_scope(&o.scope)
        ));
    }
    out
}

/// Every reference of a matched object, both ways.
fn reference_differences(
    cx: &Context<'_>,
    overlay: &Overlay,
    m: &ModelObject,
    o: &RenderedObject,
    tool: &str,
) -> Vec<(Location, String)> {
    let mine: Vec<&Reference> = overlay
        .references()
        .iter()
        .filter(|r| {
            r.referrer_kind == m.kind
                && r.referrer.name == m.name
                && r.referrer.namespace == m.namespace
        })
        .collect();
    let id = show(&o.name, o.namespace.as_deref());
    let mut out = Vec::new();
    let mut seen = vec![false; o.refs.len()];
    for r in &mine {
        let loc = at_line(cx, &path_str(&r.origin.file), r.origin.line);
        let field = format!("{} {id} `{}`", m.kind, dotted(&r.path));
        let target = (
            &r.target_kind,
            shown_name(&r.rendered_name, r.rendered_hash_suffix),
        );
        let Some(i) = o.refs.iter().position(|x| x.path == r.path) else {
            let text = format!(
                "{field} names {} `{}` in the model; the {tool} render has no such field",
                target.0, target.1
            );
            out.push((loc, text));
            continue;
        };
        seen[i] = true;
        let got = &o.refs[i];
        let keys = r.keys.iter().map(|(k, _)| k);
        if !name_matches(&r.rendered_name, r.rendered_hash_suffix, &got.name) {
            let text = format!(
                "{field} names {} `{}` in the model and `{}` in the {tool} render",
                target.0, target.1, got.name
            );
            out.push((loc, text));
        } else if !got.keys.iter().eq(keys.clone()) {
            let text = format!(
                "{field} reads keys [{}] of {} `{}` in the model and [{}] in the {tool} render",
                join(&cx.tree, keys),
                target.0,
                target.1,
                join(&cx.tree, &got.keys)
            );
            out.push((loc, text));
        }
    }
    for (x, _) in o.refs.iter().zip(&seen).filter(|(_, s)| !**s) {
        out.push((
            at_line(cx, &m.origin.0, m.origin.1),
            format!(
                "{} {id} `{}` names {} `{}` in the {tool} render; the model has no such reference",
                m.kind,
                dotted(&x.path),
                x.target_kind,
                x.name
            ),
        ));
    }
    out
}

/// True when `rendered` is `name`, or `name-<10 alphanumerics>` for a hashed generated name.
fn name_matches(name: &str, hash: bool, rendered: &str) -> bool {
    if !hash {
        return name == rendered;
    }
    rendered
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| h.len() == 10 && h.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn show(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("`{ns}/{name}`"),
        None => format!("`{name}` (no namespace)"),
    }
}

/// The render's key names, but never one that may be a piece of a value: kustomize v5 makes every
/// line of an env file without `=` a key, so a value pasted over several lines (or a bare token)
/// becomes key names in the render. A key some env file gives on a line without `=` is named by
/// that line ([`join`]); of the others, a render-only key that looks like a value is counted,
/// not shown.
fn render_keys(tree: &TreeModel, rendered: &BTreeSet<String>, model: &BTreeSet<String>) -> String {
    let (shown, hidden): (Vec<&String>, Vec<&String>) = rendered.iter().partition(|k| {
        model.contains(*k)
            || bare_key_text(tree, k).is_some()
            || !envfile::no_equals_looks_like_value(k)
    });
    let mut text = join(tree, shown);
    if !hidden.is_empty() {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(&format!(
            "{} more not shown: not key names, possibly pieces of a value pasted into an env file",
            hidden.len()
        ));
    }
    text
}

/// Keys for a message, comma-separated; a key some env file gives on a line without `=` as
/// `bare_key_text` names it (by its line, never its content).
fn join<'k>(tree: &TreeModel, keys: impl IntoIterator<Item = &'k String>) -> String {
    keys.into_iter()
        .map(|k| bare_key_text(tree, k).unwrap_or_else(|| k.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_keys_never_show_a_line_without_equals() {
        let mut tree = TreeModel::default();
        tree.env_files.push(crate::rules::model::EnvFileModel {
            path: "k8s/overlays/dev/dev.env".into(),
            parsed: Ok(vec![("A".into(), 1), ("sentinel".into(), 2)]),
            bare: vec![("sentinel".into(), 2)],
            lints: Vec::new(),
        });
        let set = |keys: &[&str]| {
            keys.iter()
                .map(|k| (*k).to_owned())
                .collect::<BTreeSet<_>>()
        };
        // In the model and the render, and in the render only.
        for model in [set(&["A", "sentinel"]), set(&["A"])] {
            let text = render_keys(&tree, &set(&["A", "B", "sentinel"]), &model);
            assert!(!text.contains("sentinel"), "{text}");
            assert!(
                text.contains("line 2 of `k8s/overlays/dev/dev.env`"),
                "{text}"
            );
            assert!(!join(&tree, &model).contains("sentinel"));
        }
    }

    #[test]
    fn hashed_names_match_ten_characters() {
        assert!(name_matches("s", true, "s-7kgt2m4b9c"));
        assert!(!name_matches("s", true, "s-7kgt2m4b9"));
        assert!(!name_matches("s", true, "s"));
        assert!(!name_matches("s", false, "s-7kgt2m4b9c"));
        assert!(name_matches("s", false, "s"));
    }
}

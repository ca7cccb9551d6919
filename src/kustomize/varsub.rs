//! Flux's post-build variable substitution as it bears on an overlay's model: where what the
//! secret rules read holds a substitution expression (`${VAR}`, `${VAR:=default}`, ...), which
//! a Flux `Kustomization` with `spec.postBuild` replaces in the rendered objects after the build
//! and the model keeps as written.
//!
//! Upstream: fluxcd/pkg `kustomize/kustomize_varsub.go` (`SubstituteVariables`: every rendered
//! object's YAML is substituted, unless it is labelled or annotated
//! `kustomize.toolkit.fluxcd.io/substitute: disabled`) and fluxcd/pkg `envsubst/parse/scan.go`
//! (`${` opens an expression, `$$` is an escaped `$`, so `$${VAR}` renders `${VAR}`; `$VAR`
//! without braces is left alone, as the Flux Kustomization documentation says).
//!
//! Read: the name, namespace, annotations and key names of every rendered Secret and
//! `SealedSecret` (the model's, after patches and transformers), a `SealedSecret`'s
//! `spec.template` name, namespace, annotations and `data` keys (from its document), the same of
//! generated Secrets, and the name and keys of every reference to a Secret with the namespace
//! of the object making it (where the reference is resolved). Values (a Secret's
//! `stringData`, where Flux documents substitution) are not: they are no names. The opt-out is
//! read from the object's annotations after the build and from the labels written in its own
//! document; a label added by `commonLabels` or a generator's options is not seen, so such an
//! object is still reported.

use std::ops::Range;
use std::path::Path;

use yaml_serde::Value;

use super::{GeneratedKind, Identity, Origin, Overlay, Reference, Resource};
use crate::yamlpos::{self, Seg, dotted};

/// The label and annotation with which an object opts out of substitution (value `disabled`).
const OPT_OUT: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Something of the model whose secret-relevant fields hold a substitution expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    /// The object, e.g. "SealedSecret `db`" (named as written).
    pub(crate) object: String,
    /// Its fields that hold one, e.g. "`metadata.namespace`" (names fields and keys, never
    /// values).
    pub(crate) fields: Vec<String>,
    /// The line of the expression, in the object's file (or where the reference is written),
    /// when it is found there.
    pub(crate) origin: Option<Origin>,
}

/// One `${...}` expression of a text, as fluxcd/pkg `envsubst/parse/scan.go` opens it: a `${`
/// whose `$` is not escaped by another (`$$` is a literal `$`; see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expression<'a> {
    /// Where it is in the text: from its `$` to past the first `}` after it (to the text's end
    /// when none closes it).
    pub(crate) span: Range<usize>,
    /// What is between `${` and that `}`.
    pub(crate) body: &'a str,
    /// False when no `}` closes it.
    pub(crate) closed: bool,
}

impl<'a> Expression<'a> {
    /// The variable's name that opens the body (letters, digits and `_`; empty when the body
    /// starts otherwise), and what follows it (an operator and a default, e.g. `:=text`).
    pub(crate) fn split_name(&self) -> (&'a str, &'a str) {
        let end = (self.body)
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.body.len());
        self.body.split_at(end)
    }
}

/// The expressions of `s`, in order. The text between them is literal, but for its `$$`
/// escapes.
pub(crate) fn expressions(s: &str) -> impl Iterator<Item = Expression<'_>> {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = s.as_bytes();
        while i + 1 < b.len() {
            match (b[i], b[i + 1]) {
                (b'$', b'$') => i += 2,
                (b'$', b'{') => {
                    let (start, body) = (i, i + 2);
                    let close = s[body..].find('}').map(|n| body + n);
                    i = close.map_or(s.len(), |c| c + 1);
                    return Some(Expression {
                        span: start..i,
                        body: &s[body..close.unwrap_or(s.len())],
                        closed: close.is_some(),
                    });
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// True when `s` holds an expression Flux expands (see [`expressions`]).
pub(crate) fn has_expression(s: &str) -> bool {
    expressions(s).next().is_some()
}

/// The names of the variables the expressions of `s` read (`${NAME}`, `${NAME:=default}`, and
/// those of a default's own expressions; not an escaped `$${NAME}`), in order.
pub(crate) fn variables(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for e in expressions(s) {
        let (name, rest) = e.split_name();
        if !name.is_empty() {
            out.push(name);
        }
        out.extend(variables(rest));
    }
    out
}

/// True when Flux leaves an object alone: its rendered annotations or the labels written under
/// its `metadata` set `kustomize.toolkit.fluxcd.io/substitute: disabled`.
pub(crate) fn substitution_disabled(
    annotations: &[(String, String)],
    metadata: Option<&Value>,
) -> bool {
    opted_out(annotations) || opted_out_by_label(metadata)
}

/// True when the object `v` as written opts out of Flux's substitution, by annotation or label
/// (see [`substitution_disabled`]).
pub(crate) fn written_opt_out(v: &Value) -> bool {
    let metadata = v.get("metadata");
    let annotations = super::string_pairs(metadata.and_then(|m| m.get("annotations")));
    substitution_disabled(&annotations, metadata)
}

/// True when `s` is nothing but one variable Flux substitutes, `${NAME}` (envsubst names:
/// a letter or `_`, then letters, digits, `_`). Such a value in a Secret is filled in by the
/// cluster (Flux's documented `postBuild.substituteFrom` use), so it is no plaintext secret
/// committed; one with a default (`${NAME:=text}`) carries written text and is not this.
pub(crate) fn is_variable(s: &str) -> bool {
    expressions(s).next().is_some_and(|e| {
        e.closed
            && e.span == (0..s.len())
            && e.split_name().0 == e.body
            && e.body
                .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    })
}

/// A field of an object: how a message names it, and its path in the object's document.
type Field = (String, Vec<Seg>);

/// The path of `keys` (all mapping keys).
fn path(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::from(*k)).collect()
}

/// One document of a file the build read, parsed: `doc_index` counts the documents kustomize
/// reads ([`yamlpos::kyaml_documents`]), as [`Resource::doc_index`] does.
struct Doc {
    text: String,
    index: usize,
}

impl Doc {
    /// The document, its position finder and its parsed value.
    fn with<T>(&self, f: impl FnOnce(&yamlpos::Document<'_>, Option<&Value>) -> T) -> Option<T> {
        let doc = yamlpos::kyaml_documents(&self.text)
            .into_iter()
            .nth(self.index)?;
        let value = yaml_serde::from_str::<Value>(doc.text).ok();
        Some(f(&doc, value.as_ref()))
    }
}

/// Where the model of `overlay` holds a substitution expression in what the secret rules read
/// and the object is not opted out (see the module documentation). `text` gives the text of a
/// file as the model names it (repository-relative when inside the repository).
pub(crate) fn substituted(
    overlay: &Overlay,
    text: &dyn Fn(&Path) -> Option<String>,
) -> Vec<Substituted> {
    let doc_of = |r: &Resource| {
        text(&r.origin.file).map(|text| Doc {
            text,
            index: r.doc_index,
        })
    };
    let mut out: Vec<Substituted> = overlay
        .resources()
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "Secret" | "SealedSecret"))
        .filter_map(|r| resource_site(r, doc_of(r).as_ref()))
        .collect();
    out.extend(generated_sites(overlay));
    out.extend(reference_sites(overlay, &doc_of));
    out
}

/// A rendered Secret's or `SealedSecret`'s fields holding an expression (`doc`: its document,
/// when its file could be read; without it, the model's values at no line).
fn resource_site(r: &Resource, doc: Option<&Doc>) -> Option<Substituted> {
    if opted_out(&r.annotations) {
        return None;
    }
    // The model's values, the keys at their place in the document `value` when it is read.
    let own = |value: Option<&Value>| {
        let mut fields = identity_fields(&r.rendered.name, r.rendered.namespace.as_deref());
        fields.extend(annotation_fields(&r.annotations, &["metadata"]));
        fields.extend(key_fields(r, value));
        fields
    };
    // A document without `${` adds nothing (its template, a line), only its labels.
    if own(None).is_empty() && doc.is_none_or(|d| !d.text.contains("${")) {
        return None;
    }
    let read = doc.and_then(|d| {
        d.with(|ydoc, value| {
            let mut fields = own(value);
            if r.kind == "SealedSecret" {
                fields.extend(template_fields(value));
            }
            let opted = value.is_some_and(|v| opted_out_by_label(v.get("metadata")));
            let line = expression_line(ydoc, &d.text, &fields);
            (fields, opted, line)
        })
    });
    let (fields, opted, line) = read.unwrap_or_else(|| (own(None), false, None));
    if fields.is_empty() || opted {
        return None;
    }
    Some(Substituted {
        object: format!("{} `{}`", r.kind, r.original.name),
        fields: labels(fields),
        origin: line.map(|line| Origin::new(&r.origin.file, line)),
    })
}

/// The rendered key names of a Secret (`data`, `stringData`) or a `SealedSecret`
/// (`spec.encryptedData`) that hold an expression, each at its path in the document `value`
/// when it is there.
fn key_fields(r: &Resource, value: Option<&Value>) -> Vec<Field> {
    let blocks: &[&[&str]] = if r.kind == "SealedSecret" {
        &[&["spec", "encryptedData"]]
    } else {
        &[&["data"], &["stringData"]]
    };
    let keys = r.keys.iter().flatten().filter(|k| has_expression(k));
    keys.map(|key| {
        let written = blocks.iter().find(|b| {
            let block = value.and_then(|v| b.iter().try_fold(v, |v, k| v.get(*k)));
            block.and_then(|m| m.get(key.as_str())).is_some()
        });
        let block = written.unwrap_or(&blocks[0]);
        let mut p = path(block);
        p.push(Seg::from(key.as_str()));
        (format!("`{}` key `{key}`", dotted(&path(block))), p)
    })
    .collect()
}

/// `metadata.name` and `metadata.namespace` when they hold an expression.
fn identity_fields(name: &str, namespace: Option<&str>) -> Vec<Field> {
    let mut out = Vec::new();
    if has_expression(name) {
        out.push(("`metadata.name`".to_owned(), path(&["metadata", "name"])));
    }
    if namespace.is_some_and(has_expression) {
        let p = path(&["metadata", "namespace"]);
        out.push(("`metadata.namespace`".to_owned(), p));
    }
    out
}

/// The annotations under `at` (`metadata`, `spec.template.metadata`) whose key or value holds an
/// expression, named by key.
fn annotation_fields(annotations: &[(String, String)], at: &[&str]) -> Vec<Field> {
    annotations
        .iter()
        .filter(|(k, v)| has_expression(k) || has_expression(v))
        .map(|(k, _)| {
            let mut p = path(at);
            p.push(Seg::from("annotations"));
            let label = format!("`{}` `{k}`", dotted(&p));
            p.push(Seg::from(k.as_str()));
            (label, p)
        })
        .collect()
}

/// A `SealedSecret` document's `spec.template` name, namespace, annotations and `data` keys that
/// hold an expression: the Secret the controller creates from it.
fn template_fields(value: Option<&Value>) -> Vec<Field> {
    let Some(template) = value.and_then(|v| v.get("spec")?.get("template")) else {
        return Vec::new();
    };
    let meta = template.get("metadata");
    let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    let mut out = Vec::new();
    for k in ["name", "namespace"] {
        if text(k).is_some_and(has_expression) {
            let p = path(&["spec", "template", "metadata", k]);
            out.push((format!("`{}`", dotted(&p)), p));
        }
    }
    let annotations = super::string_pairs(meta.and_then(|m| m.get("annotations")));
    out.extend(annotation_fields(
        &annotations,
        &["spec", "template", "metadata"],
    ));
    let data = template.get("data").and_then(Value::as_mapping);
    for key in data
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Value::as_str)
    {
        if has_expression(key) {
            let p = path(&["spec", "template", "data", key]);
            out.push((format!("`spec.template.data` key `{key}`"), p));
        }
    }
    out
}

/// Generated Secrets whose name, namespace, annotations or keys hold an expression, at their
/// (first) generator's line.
fn generated_sites(overlay: &Overlay) -> Vec<Substituted> {
    let secrets = overlay
        .generated()
        .iter()
        .filter(|g| g.kind == GeneratedKind::Secret && !opted_out(&g.annotations));
    secrets
        .filter_map(|g| {
            let mut fields = identity_fields(&g.rendered.name, g.rendered.namespace.as_deref());
            fields.extend(annotation_fields(&g.annotations, &["metadata"]));
            let keys = g.keys.iter().flatten().filter(|k| has_expression(k));
            fields.extend(keys.map(|k| (format!("key `{k}`"), Vec::new())));
            if fields.is_empty() {
                return None;
            }
            let object = format!("the Secret generated as `{}`", g.original.name);
            Some(Substituted {
                object,
                fields: labels(fields),
                origin: g.specs.first().map(|s| s.origin.clone()),
            })
        })
        .collect()
}

/// Objects referring to Secrets where a reference's name or keys, or the object's own
/// namespace (in which the reference is resolved), hold an expression: one per object, at the
/// first such reference's line (else its namespace's), unless the object is opted out.
fn reference_sites(
    overlay: &Overlay,
    doc_of: &dyn Fn(&Resource) -> Option<Doc>,
) -> Vec<Substituted> {
    let refs = overlay
        .references()
        .iter()
        .filter(|r| r.target_kind == "Secret");
    let mut by_referrer: Vec<(&str, &Identity, Vec<&Reference>)> = Vec::new();
    for r in refs {
        match by_referrer
            .iter_mut()
            .find(|(k, id, _)| *k == r.referrer_kind && **id == r.referrer)
        {
            Some((_, _, list)) => list.push(r),
            None => by_referrer.push((&r.referrer_kind, &r.referrer, vec![r])),
        }
    }
    by_referrer
        .into_iter()
        .filter_map(|(kind, id, refs)| {
            let object = overlay
                .resources()
                .iter()
                .find(|o| o.kind == kind && o.rendered == *id);
            referrer_site(kind, id, object, &refs, || object.and_then(doc_of))
        })
        .collect()
}

/// One referring object's fields holding an expression (see [`reference_sites`]); `object` is
/// it among the model's resources, `doc` reads its document (only when a field holds one).
fn referrer_site(
    kind: &str,
    id: &Identity,
    object: Option<&Resource>,
    refs: &[&Reference],
    doc: impl FnOnce() -> Option<Doc>,
) -> Option<Substituted> {
    if object.is_some_and(|o| opted_out(&o.annotations)) {
        return None;
    }
    let mut fields = identity_fields("", id.namespace.as_deref());
    let mut origin = None;
    for r in refs {
        if has_expression(&r.name) || has_expression(&r.rendered_name) {
            fields.push((format!("`{}`", dotted(&r.path)), r.path.clone()));
            origin = origin.or_else(|| Some(r.origin.clone()));
        }
        if r.keys.iter().any(|(k, _)| has_expression(k)) {
            fields.push((format!("the keys `{}` reads", dotted(&r.path)), Vec::new()));
            origin = origin.or_else(|| Some(r.origin.clone()));
        }
    }
    if fields.is_empty() {
        return None;
    }
    // Read only now: most referring objects hold no expression.
    let read = doc().and_then(|d| {
        d.with(|ydoc, value| {
            let opted = value.is_some_and(|v| opted_out_by_label(v.get("metadata")));
            (opted, expression_line(ydoc, &d.text, &fields))
        })
    });
    let (opted, line) = read.unwrap_or((false, None));
    if opted {
        return None;
    }
    let in_object = |line| object.map(|o| Origin::new(&o.origin.file, line));
    Some(Substituted {
        object: format!("{kind} `{}`", id.name),
        fields: labels(fields),
        origin: origin.or_else(|| line.and_then(in_object)),
    })
}

/// The fields as messages name them.
fn labels(fields: Vec<Field>) -> Vec<String> {
    fields.into_iter().map(|(label, _)| label).collect()
}

/// True when the annotations opt the object out.
fn opted_out(annotations: &[(String, String)]) -> bool {
    annotations
        .iter()
        .any(|(k, v)| k == OPT_OUT && v == "disabled")
}

/// True when the labels under `metadata` opt the object out.
fn opted_out_by_label(metadata: Option<&Value>) -> bool {
    let labels = super::string_pairs(metadata.and_then(|m| m.get("labels")));
    opted_out(&labels)
}

/// The first line of the document, among the fields' lines, that holds an expression: the
/// expression is written there (not by a patch or a transformer elsewhere).
fn expression_line(doc: &yamlpos::Document<'_>, file: &str, fields: &[Field]) -> Option<usize> {
    fields
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .filter_map(|(_, p)| doc.find(p))
        .map(|pos| usize::try_from(pos.line).unwrap_or(usize::MAX))
        .find(|line| {
            file.lines()
                .nth(line.saturating_sub(1))
                .is_some_and(has_expression)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_unescaped_dollar_braces() {
        for s in ["${NS}", "x-${APP:=a}-y", "$$${NS}", "a$${b}${c}"] {
            assert!(has_expression(s), "{s}");
        }
        for s in ["", "$", "$NS", "$${NS}", "plain", "{NS}", "$$", "$$$$"] {
            assert!(!has_expression(s), "{s}");
        }
    }

    #[test]
    fn expressions_span_to_the_first_closing_brace() {
        let spans: Vec<_> = expressions("a$${b}${c:=${d}}${e")
            .map(|e| (e.span, e.body, e.closed))
            .collect();
        assert_eq!(spans, [(6..15, "c:=${d", true), (16..19, "e", false)]);
        assert_eq!(variables("${A:=${B}}-$${C}${D}${}"), ["A", "B", "D"]);
    }

    #[test]
    fn a_variable_is_one_bare_expression() {
        for s in ["${DB_PASSWORD}", "${_x1}"] {
            assert!(is_variable(s), "{s}");
        }
        for s in [
            "${}", "${1A}", "${A:=x}", "x${A}", "${A}x", "$A", "${A-B}", "hunter2",
        ] {
            assert!(!is_variable(s), "{s}");
        }
    }
}

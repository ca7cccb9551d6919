//! Patches, as far as names and references go: target selection, a simplified strategic merge,
//! and JSON6902 `add`/`replace`/`remove`.
//!
//! Owns only what changes names, namespaces, annotations and reference fields. Must not claim to
//! be a full strategic merge: built-in kinds merge the keyed lists listed in `merge_key`, every
//! other list is replaced (as kustomize does for custom resources, which have no schema).
//!
//! Upstream: kubernetes-sigs/kustomize `api/resmap/reswrangler.go` (`Select`: original or current
//! name and namespace), `api/types/selector.go` (anchored regular expressions),
//! `kyaml/yaml/merge2` (strategic merge, new list items prepended).

use crate::yamlpos::Seg;
use yaml_serde::Value;

/// A `target:` selector.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selector {
    pub(crate) group: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) label_selector: Option<String>,
    pub(crate) annotation_selector: Option<String>,
}

impl Selector {
    pub(crate) fn from_value(v: &Value) -> Selector {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Selector {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: s("name"),
            namespace: s("namespace"),
            label_selector: s("labelSelector"),
            annotation_selector: s("annotationSelector"),
        }
    }

    /// Parts of the selector this model cannot evaluate.
    pub(crate) fn unsupported(&self) -> Option<String> {
        for (what, pat) in [
            ("name", &self.name),
            ("namespace", &self.namespace),
            ("kind", &self.kind),
        ] {
            if let Some(p) = pat
                && !regex_supported(p)
            {
                return Some(format!("target {what} pattern `{p}`"));
            }
        }
        for sel in [&self.label_selector, &self.annotation_selector]
            .into_iter()
            .flatten()
        {
            if parse_label_selector(sel).is_none() {
                return Some(format!("target selector `{sel}`"));
            }
        }
        None
    }
}

/// What a selector needs to know about a candidate object.
pub(crate) struct Candidate<'a> {
    pub(crate) group: &'a str,
    pub(crate) version: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) names: [&'a str; 2],
    pub(crate) namespaces: [&'a str; 2],
    pub(crate) value: &'a Value,
}

pub(crate) fn selects(s: &Selector, c: &Candidate<'_>) -> bool {
    let m = |pat: &Option<String>, vals: &[&str]| {
        pat.as_deref()
            .is_none_or(|p| p.is_empty() || vals.iter().any(|v| regex_match(p, v)))
    };
    m(&s.group, &[c.group])
        && m(&s.version, &[c.version])
        && m(&s.kind, &[c.kind])
        && m(&s.name, &c.names)
        && m(&s.namespace, &c.namespaces)
        && s.label_selector.as_deref().is_none_or(|sel| {
            map_selects(sel, c.value.get("metadata").and_then(|m| m.get("labels")))
        })
        && s.annotation_selector.as_deref().is_none_or(|sel| {
            map_selects(
                sel,
                c.value.get("metadata").and_then(|m| m.get("annotations")),
            )
        })
}

enum Req {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
}

fn parse_label_selector(sel: &str) -> Option<Vec<Req>> {
    sel.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.contains(['(', ' ']) {
                None
            } else if let Some((k, v)) = p.split_once("!=") {
                Some(Req::Ne(k.to_owned(), v.to_owned()))
            } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                Some(Req::Eq(k.to_owned(), v.to_owned()))
            } else if p.starts_with('!') {
                None
            } else {
                Some(Req::Exists(p.to_owned()))
            }
        })
        .collect()
}

fn map_selects(sel: &str, map: Option<&Value>) -> bool {
    let Some(reqs) = parse_label_selector(sel) else {
        return false;
    };
    let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::as_str);
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => get(k) == Some(v.as_str()),
        Req::Ne(k, v) => get(k) != Some(v.as_str()),
        Req::Exists(k) => get(k).is_some(),
    })
}

fn regex_supported(p: &str) -> bool {
    !p.contains(['(', ')', '[', ']', '{', '}'])
}

/// Anchored match of a small regular-expression subset: literals, `\` escapes, `.`, `*`, `+`,
/// `?` and top-level `|`. Kustomize anchors selector patterns as `^(?:pat)$`.
pub(crate) fn regex_match(pat: &str, s: &str) -> bool {
    if !regex_supported(pat) {
        return pat == s;
    }
    pat.split('|').any(|alt| {
        let toks = tokenize(alt);
        matches(&toks, &s.chars().collect::<Vec<_>>())
    })
}

#[derive(Clone, Copy)]
enum Atom {
    Any,
    Ch(char),
}

#[derive(Clone, Copy)]
struct Tok {
    atom: Atom,
    min: usize,
    many: bool,
}

fn tokenize(p: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        let atom = match c {
            '.' => Atom::Any,
            '\\' => Atom::Ch(chars.next().unwrap_or('\\')),
            '^' | '$' => continue,
            '*' | '+' | '?' => {
                // `*` is 0 or more, `+` 1 or more, `?` 0 or 1.
                if let Some(last) = out.last_mut() {
                    (last.min, last.many) = (usize::from(c == '+'), c != '?');
                }
                continue;
            }
            other => Atom::Ch(other),
        };
        out.push(Tok {
            atom,
            min: 1,
            many: false,
        });
    }
    out
}

fn matches(toks: &[Tok], s: &[char]) -> bool {
    let Some((t, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    let ok = |c: char| match t.atom {
        Atom::Any => true,
        Atom::Ch(x) => x == c,
    };
    let max = if t.many { s.len() } else { 1 };
    let mut n = 0;
    loop {
        if n >= t.min && matches(rest, &s[n..]) {
            return true;
        }
        if n >= max || n >= s.len() || !ok(s[n]) {
            return false;
        }
        n += 1;
    }
}

/// The merge key of a list under a built-in kind (Kubernetes `patchMergeKey`), if it is keyed.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "ports" => "containerPort",
        _ => return None,
    })
}

/// Applies a strategic-merge patch (simplified; see module doc). `schema` = built-in kind.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value, schema: bool) {
    let (Some(t), Some(p)) = (target.as_mapping_mut(), patch.as_mapping()) else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut m = p.clone();
        m.remove("$patch");
        *t = m;
        return;
    }
    for (k, pv) in p {
        let Some(key) = k.as_str() else { continue };
        if key.starts_with('$') {
            continue;
        }
        if pv.is_null() {
            t.remove(key);
            continue;
        }
        match (t.get_mut(key), merge_key(key).filter(|_| schema)) {
            (Some(tv), _) if tv.is_mapping() && pv.is_mapping() => {
                if pv.get("$patch").and_then(Value::as_str) == Some("delete") {
                    t.remove(key);
                } else {
                    strategic_merge(tv, pv, schema);
                }
            }
            (Some(tv), Some(mk)) if tv.is_sequence() && pv.is_sequence() => {
                merge_keyed_list(tv, pv, mk, schema);
            }
            _ => {
                t.insert(k.clone(), strip_directives(pv));
            }
        }
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .filter(|(k, _)| !k.as_str().is_some_and(|s| s.starts_with('$')))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn merge_keyed_list(target: &mut Value, patch: &Value, mk: &str, schema: bool) {
    let (Some(t), Some(p)) = (target.as_sequence_mut(), patch.as_sequence()) else {
        return;
    };
    let mut new_items = Vec::new();
    for item in p {
        let key = item.get(mk).cloned();
        let pos = key
            .as_ref()
            .and_then(|k| t.iter().position(|x| x.get(mk) == Some(k)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                t.remove(i);
            }
            (Some(i), false) => strategic_merge(&mut t[i], item, schema),
            (None, true) => {}
            (None, false) => new_items.push(strip_directives(item)),
        }
    }
    // kustomize applies strategic merge with ListIncreaseDirection prepend.
    t.splice(0..0, new_items);
}

/// A parsed JSON6902 operation.
#[derive(Debug, Clone)]
pub(crate) struct JsonOp {
    pub(crate) op: String,
    pub(crate) path: Vec<String>,
    pub(crate) value: Option<Value>,
    pub(crate) line: usize,
}

/// Parses an RFC 6901 pointer into reference tokens.
pub(crate) fn parse_pointer(p: &str) -> Vec<String> {
    p.split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Applies one op; returns the index-form path that was written (None when not applied).
pub(crate) fn apply_json_op(target: &mut Value, op: &JsonOp) -> Option<Vec<Seg>> {
    let (last, parents) = op.path.split_last()?;
    let mut cur = target;
    let mut written = Vec::new();
    for tok in parents {
        cur = step(cur, tok, &mut written)?;
    }
    match op.op.as_str() {
        "add" | "replace" => {
            let value = op.value.clone()?;
            match cur {
                Value::Mapping(m) => {
                    m.insert(Value::String(last.clone()), value);
                    written.push(Seg::Key(last.clone()));
                }
                Value::Sequence(s) => {
                    let idx = if last == "-" {
                        s.len()
                    } else {
                        last.parse().ok()?
                    };
                    if op.op == "add" && idx <= s.len() {
                        s.insert(idx, value);
                    } else if idx < s.len() {
                        s[idx] = value;
                    } else {
                        return None;
                    }
                    written.push(Seg::Index(idx));
                }
                _ => return None,
            }
        }
        "remove" => {
            match cur {
                Value::Mapping(m) => {
                    m.remove(last.as_str())?;
                }
                Value::Sequence(s) => {
                    let idx: usize = last.parse().ok()?;
                    (idx < s.len()).then(|| s.remove(idx))?;
                }
                _ => return None,
            }
            written.push(Seg::Key(last.clone()));
        }
        _ => return None,
    }
    Some(written)
}

fn step<'v>(cur: &'v mut Value, tok: &str, written: &mut Vec<Seg>) -> Option<&'v mut Value> {
    match cur {
        Value::Mapping(m) => {
            written.push(Seg::Key(tok.to_owned()));
            m.get_mut(tok)
        }
        Value::Sequence(s) => {
            let i: usize = tok.parse().ok()?;
            written.push(Seg::Index(i));
            s.get_mut(i)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_regex_subset() {
        assert!(regex_match("app", "app"));
        assert!(!regex_match("app", "app2"));
        assert!(regex_match("app.*", "app2"));
        assert!(regex_match("a|b", "b"));
        assert!(regex_match("^worker-.+$", "worker-1"));
        assert!(!regex_match("worker-.+", "worker-"));
    }
}

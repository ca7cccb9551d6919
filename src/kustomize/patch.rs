//! Patches, as far as names and references go: target selection, a simplified strategic merge,
//! and JSON6902 `add`/`replace`/`remove`.
//!
//! Owns only what changes names, namespaces, annotations and reference fields. Must not claim to
//! be a full strategic merge: built-in kinds merge the keyed lists listed in `merge_key`, every
//! other list is replaced (as kustomize does for custom resources, which have no schema).
//!
//! Upstream: kubernetes-sigs/kustomize `api/resmap/reswrangler.go` (`Select`: original or current
//! name and namespace), `api/types/selector.go` (anchored regular expressions),
//! `kyaml/yaml/merge2` (strategic merge: the items a patch names first, in its order).

use crate::yamlpos::Seg;
use regex::Regex;
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

    /// The selector with its patterns compiled, or why it cannot be evaluated: a pattern Go's
    /// `regexp` refuses fails kustomize's build ("error parsing regexp"), a label selector
    /// outside the supported subset is not modelled.
    pub(crate) fn compile(&self) -> Result<Matcher, Refusal> {
        let mut patterns: [Option<Pattern>; 5] = Default::default();
        let fields = [
            ("group", &self.group),
            ("version", &self.version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
        ];
        for (slot, (what, pat)) in patterns.iter_mut().zip(fields) {
            if let Some(p) = pat.as_deref().filter(|p| !p.is_empty()) {
                *slot = Some(Pattern::new(p).map_err(|e| {
                    Refusal::Invalid(format!(
                        "target {what} pattern `{p}` is not a valid regular expression ({e})"
                    ))
                })?);
            }
        }
        let mut maps = [None, None];
        for (slot, sel) in maps
            .iter_mut()
            .zip([&self.label_selector, &self.annotation_selector])
        {
            if let Some(sel) = sel {
                let reqs = parse_label_selector(sel)
                    .ok_or_else(|| Refusal::NotModelled(format!("target selector `{sel}`")))?;
                *slot = Some(reqs);
            }
        }
        let [labels, annotations] = maps;
        Ok(Matcher {
            patterns,
            labels,
            annotations,
        })
    }
}

/// Why a selector cannot be evaluated.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// kustomize refuses it: the build fails.
    Invalid(String),
    /// Beyond the model (named part of the selector).
    NotModelled(String),
}

/// A compiled `target:` selector.
pub(crate) struct Matcher {
    /// group, version, kind, name, namespace (None: any).
    patterns: [Option<Pattern>; 5],
    labels: Option<Vec<Req>>,
    annotations: Option<Vec<Req>>,
}

/// A compiled selector pattern. Most patterns are plain names (`emp-app`, `v1`, `Ingress`):
/// letters, digits, `-` and `_` mean themselves outside a class in RE2 and the `regex` crate,
/// so such a pattern, anchored, matches exactly itself and is compared without building a
/// regular expression.
enum Pattern {
    Literal(String),
    Regex(Regex),
}

impl Pattern {
    fn new(p: &str) -> Result<Pattern, String> {
        match p
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        {
            true => Ok(Pattern::Literal(p.to_owned())),
            false => anchored(p).map(Pattern::Regex),
        }
    }

    fn is_match(&self, v: &str) -> bool {
        match self {
            Pattern::Literal(l) => l == v,
            Pattern::Regex(re) => re.is_match(v),
        }
    }
}

/// A selector pattern as kustomize compiles it: anchored as `^(?:pattern)$` (kustomize
/// `api/types/selector.go`, `anchorRegex`) and compiled by Go's `regexp` (RE2 syntax, which the
/// `regex` crate shares but for a few extensions).
fn anchored(p: &str) -> Result<Regex, String> {
    regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| match e {
        regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().trim().to_owned(),
        other => other.to_string(),
    })
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

impl Matcher {
    /// Whether the object is selected (kustomize `api/resmap/reswrangler.go`, `Select`: the
    /// name and namespace match when the original or the current one does).
    pub(crate) fn selects(&self, c: &Candidate<'_>) -> bool {
        let [group, version, kind, name, namespace] = &self.patterns;
        let m = |re: &Option<Pattern>, vals: &[&str]| {
            re.as_ref()
                .is_none_or(|re| vals.iter().any(|v| re.is_match(v)))
        };
        let meta = |key: &str| c.value.get("metadata").and_then(|m| m.get(key));
        m(group, &[c.group])
            && m(version, &[c.version])
            && m(kind, &[c.kind])
            && m(name, &c.names)
            && m(namespace, &c.namespaces)
            && self
                .labels
                .as_deref()
                .is_none_or(|r| map_selects(r, meta("labels")))
            && self
                .annotations
                .as_deref()
                .is_none_or(|r| map_selects(r, meta("annotations")))
    }
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

fn map_selects(reqs: &[Req], map: Option<&Value>) -> bool {
    let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::as_str);
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => get(k) == Some(v.as_str()),
        Req::Ne(k, v) => get(k) != Some(v.as_str()),
        Req::Exists(k) => get(k).is_some(),
    })
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

/// `v` without strategic-merge directives (`$patch`, `$setElementOrder/...`, ...).
pub(crate) fn strip_directives(v: &Value) -> Value {
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

/// Merges a keyed list as kyaml does: every item the patch names comes first, in the patch's
/// order (merged into the target's item of the same key, or new), then the target's items the
/// patch does not name, in their order; `$patch: delete` drops an item. So a patch that only
/// bumps a sidecar's image moves the sidecar to the front, and a later JSON6902 op by index sees
/// that order (kyaml `yaml/walk/associative_sequence.go`, `kyaml/yaml/merge2`).
fn merge_keyed_list(target: &mut Value, patch: &Value, mk: &str, schema: bool) {
    let (Some(t), Some(p)) = (target.as_sequence_mut(), patch.as_sequence()) else {
        return;
    };
    let mut rest: Vec<Option<Value>> = std::mem::take(t).into_iter().map(Some).collect();
    let mut front = Vec::new();
    let mut named: Vec<&Value> = Vec::new();
    for item in p {
        let key = item.get(mk);
        // An item the patch names again is ignored: kyaml merges the first.
        if let Some(k) = key {
            if named.contains(&k) {
                continue;
            }
            named.push(k);
        }
        let pos = key.and_then(|k| {
            (rest.iter()).position(|x| x.as_ref().is_some_and(|x| x.get(mk) == Some(k)))
        });
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos.and_then(|i| rest[i].take()), delete) {
            (_, true) => {}
            (Some(mut old), false) => {
                strategic_merge(&mut old, item, schema);
                front.push(old);
            }
            (None, false) => front.push(strip_directives(item)),
        }
    }
    front.extend(rest.into_iter().flatten());
    *t = front;
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

/// What an applied JSON6902 op did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The index-form path it wrote (None for `test`, which writes nothing).
    pub(crate) written: Option<Vec<Seg>>,
    /// An item inserted into (`+1`) or removed from (`-1`) the list at this path, at this index:
    /// later items moved.
    pub(crate) shift: Option<(Vec<Seg>, usize, isize)>,
}

/// Why an op could not be applied: kustomize fails the build with it (evanphx/json-patch, as
/// kustomize's `api/filters/patchjson6902` applies it: "doc is missing path", "test failed").
#[derive(Debug)]
pub(crate) struct OpFailure {
    pub(crate) why: String,
}

/// Applies one op. `move`, `copy` and unknown ops are not applied (reported elsewhere).
///
/// evanphx/json-patch's rules, checked with kustomize v5.5: every parent on the path must
/// exist; `add` inserts into a mapping or into a list at an index up to its length (or `-`);
/// `replace` sets a mapping key whether or not it exists, but a list index must exist; `remove`
/// needs the key or index; `test` compares the value (a missing key of an existing mapping is
/// null); none of them applies to the whole document (an empty path). A missing `value` is null.
///
/// kustomize applies the ops to the object as it holds it while building, whose
/// `metadata.annotations` always exists: it keeps bookkeeping annotations there (kyaml
/// `kio/kioutil/kioutil.go`, `config.kubernetes.io/index` and the like) and drops them, and a
/// map left empty, when it prints. So an op on one annotation never fails for want of the map
/// (`add`/`replace` of `/metadata/annotations/KEY` on an object without annotations builds).
pub(crate) fn apply_json_op(target: &mut Value, op: &JsonOp) -> Result<Applied, OpFailure> {
    let on_annotations =
        matches!(op.path.as_slice(), [m, a, ..] if m == "metadata" && a == "annotations");
    let metadata = target.get_mut("metadata").and_then(Value::as_mapping_mut);
    let added = match metadata {
        Some(m) if on_annotations && m.get("annotations").is_none_or(Value::is_null) => {
            m.insert("annotations".into(), Value::Mapping(Default::default()));
            true
        }
        _ => false,
    };
    let applied = apply_op(target, op);
    if added
        && let Some(m) = target.get_mut("metadata").and_then(Value::as_mapping_mut)
        && m.get("annotations")
            .and_then(Value::as_mapping)
            .is_some_and(|a| a.is_empty())
    {
        m.remove("annotations");
    }
    applied
}

fn apply_op(target: &mut Value, op: &JsonOp) -> Result<Applied, OpFailure> {
    let fail = |what: &str| OpFailure {
        why: format!("{} operation does not apply: {what}", op.op),
    };
    if !matches!(op.op.as_str(), "add" | "replace" | "remove" | "test") {
        return Ok(Applied::default());
    }
    let Some((last, parents)) = op.path.split_last() else {
        return Err(fail("doc is missing path \"\""));
    };
    let mut cur = target;
    let mut at = Vec::new();
    for tok in parents {
        cur = step(cur, tok, &mut at).ok_or_else(|| fail("doc is missing path"))?;
    }
    let value = op.value.clone().unwrap_or(Value::Null);
    let mut shift = None;
    match (op.op.as_str(), cur) {
        ("test", Value::Mapping(m)) => {
            if m.get(last.as_str()).unwrap_or(&Value::Null) != &value {
                return Err(fail_test(op));
            }
            return Ok(Applied::default());
        }
        ("test", Value::Sequence(s)) => {
            if index(last, s.len()).and_then(|i| s.get(i)) != Some(&value) {
                return Err(fail_test(op));
            }
            return Ok(Applied::default());
        }
        ("add" | "replace", Value::Mapping(m)) => {
            m.insert(Value::String(last.clone()), value);
            at.push(Seg::Key(last.clone()));
        }
        ("add", Value::Sequence(s)) => {
            let i = if last == "-" {
                Some(s.len())
            } else {
                index(last, s.len() + 1)
            };
            let i = i.ok_or_else(|| fail("doc is missing path"))?;
            s.insert(i, value);
            shift = Some((at.clone(), i, 1));
            at.push(Seg::Index(i));
        }
        ("replace", Value::Sequence(s)) => {
            let i = index(last, s.len()).ok_or_else(|| fail("doc is missing path"))?;
            s[i] = value;
            at.push(Seg::Index(i));
        }
        ("remove", Value::Mapping(m)) => {
            m.remove(last.as_str())
                .ok_or_else(|| fail("unable to remove nonexistent key"))?;
            at.push(Seg::Key(last.clone()));
        }
        ("remove", Value::Sequence(s)) => {
            let i = index(last, s.len()).ok_or_else(|| fail("doc is missing path"))?;
            s.remove(i);
            shift = Some((at.clone(), i, -1));
            at.push(Seg::Index(i));
        }
        _ => return Err(fail("doc is missing path")),
    }
    Ok(Applied {
        written: Some(at),
        shift,
    })
}

fn fail_test(op: &JsonOp) -> OpFailure {
    OpFailure {
        why: format!("testing value {} failed", op.pointer()),
    }
}

/// A list index below `len` written as a JSON pointer token (digits only).
fn index(tok: &str, len: usize) -> Option<usize> {
    let digits = !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit());
    let i: usize = tok.parse().ok().filter(|_| digits)?;
    (i < len).then_some(i)
}

impl JsonOp {
    /// The op's path as a JSON pointer.
    pub(crate) fn pointer(&self) -> String {
        self.path
            .iter()
            .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
            .collect()
    }
}

fn step<'v>(cur: &'v mut Value, tok: &str, written: &mut Vec<Seg>) -> Option<&'v mut Value> {
    match cur {
        Value::Mapping(m) => {
            written.push(Seg::Key(tok.to_owned()));
            m.get_mut(tok)
        }
        Value::Sequence(s) => {
            let i = index(tok, s.len())?;
            written.push(Seg::Index(i));
            s.get_mut(i)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pat: &str, name: &str) -> bool {
        let sel = Selector {
            name: Some(pat.to_owned()),
            ..Selector::default()
        };
        let value = Value::Null;
        let c = Candidate {
            group: "",
            version: "v1",
            kind: "Secret",
            names: [name, name],
            namespaces: ["default", "default"],
            value: &value,
        };
        sel.compile().expect("compiles").selects(&c)
    }

    #[test]
    fn ops_on_one_annotation_find_the_map_kustomize_always_has() {
        let v = |s: &str| -> Value { yaml_serde::from_str(s).unwrap() };
        let op = |op: &str, path: &str| JsonOp {
            op: op.to_owned(),
            path: parse_pointer(path),
            value: Some(Value::from("a")),
            line: 1,
        };
        let mut cm = v("metadata: {name: c}");
        apply_json_op(&mut cm, &op("replace", "/metadata/annotations/team")).unwrap();
        assert_eq!(cm, v("metadata: {name: c, annotations: {team: a}}"));
        // Removing one that is not there fails, and leaves no empty map behind.
        let mut cm = v("metadata: {name: c}");
        assert!(apply_json_op(&mut cm, &op("remove", "/metadata/annotations/team")).is_err());
        assert_eq!(cm, v("metadata: {name: c}"));
        // Labels have no such map.
        assert!(apply_json_op(&mut cm, &op("add", "/metadata/labels/team")).is_err());
        // The map itself may be removed, and a `null` one is the map kustomize holds.
        let mut cm = v("metadata: {name: c}");
        apply_json_op(&mut cm, &op("remove", "/metadata/annotations")).unwrap();
        assert_eq!(cm, v("metadata: {name: c}"));
        let mut cm = v("metadata: {name: c, annotations: null}");
        apply_json_op(&mut cm, &op("add", "/metadata/annotations/team")).unwrap();
        assert_eq!(cm, v("metadata: {name: c, annotations: {team: a}}"));
    }

    #[test]
    fn a_keyed_list_holds_the_patched_items_first_and_a_repeated_one_once() {
        let v = |s: &str| -> Value { yaml_serde::from_str(s).unwrap() };
        let mut target = v("containers: [{name: a, image: a}, {name: b, image: b}, {name: c}]");
        let patch = v(
            "containers: [{name: c, image: c2}, {name: d}, {name: c, image: c3}, {name: a, $patch: delete}]",
        );
        strategic_merge(&mut target, &patch, true);
        assert_eq!(
            target,
            v("containers: [{name: c, image: c2}, {name: d}, {name: b, image: b}]")
        );
    }

    #[test]
    fn patterns_are_anchored_regular_expressions() {
        assert!(matches("app", "app"));
        assert!(!matches("app", "app2"));
        assert!(matches("app.*", "app2"));
        assert!(matches("a|b", "b"));
        assert!(!matches("a|b", "ab"));
        assert!(matches("^worker-.+$", "worker-1"));
        assert!(!matches("worker-.+", "worker-"));
        assert!(matches(r"app-\w+", "app-secrets"));
        assert!(!matches(r"app-\w+", "app-"));
        assert!(!matches(r"app-\w+", "app-a.b"));
        assert!(matches(r"app-\d{2}", "app-42"));
        assert!(matches("app-(a|b)[0-9]", "app-b7"));
        assert!(matches("x+?y", "xxy"));
    }

    #[test]
    fn plain_patterns_match_as_their_regular_expressions_do() {
        let vals = [
            "emp-app", "emp-app2", "xemp-app", "v1", "v1beta1", "Ingress", "ingress", "é", "",
        ];
        for p in ["emp-app", "v1", "Ingress", "é"] {
            let plain = Pattern::new(p).expect("compiles");
            assert!(matches!(plain, Pattern::Literal(_)), "{p} compiled");
            let re = anchored(p).expect("compiles");
            for v in vals {
                assert_eq!(plain.is_match(v), re.is_match(v), "{p} on {v:?}");
            }
        }
        for p in ["networking.k8s.io", "a-.*", "a b#&~"] {
            assert!(matches!(Pattern::new(p), Ok(Pattern::Regex(_))), "{p}");
        }
        assert!(matches("emp.app", "emp-app"));
        assert!(!matches("emp-app", "emp.app"));
    }

    #[test]
    fn an_invalid_pattern_is_refused() {
        let sel = Selector {
            name: Some("*-secrets".to_owned()),
            ..Selector::default()
        };
        let Err(Refusal::Invalid(msg)) = sel.compile() else {
            panic!("accepted");
        };
        assert!(msg.contains("`*-secrets`"), "{msg}");
    }
}

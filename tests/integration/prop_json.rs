//! Property test (issue 16): a JSON SealedSecret, compact or indented by 2 or 4 spaces, edited
//! by `sealedsecret::apply` with a generated plan, is exactly the JSON text of the planned
//! object printed the same way: every byte outside the changed values is kept, new members follow
//! the file's indentation, and the file stays JSON. The printer below is the oracle; it keeps
//! insertion order (new members last), as the editor does.
#![allow(clippy::unwrap_used)]

use emp_seal::sealedsecret::{EditPlan, apply};
use proptest::prelude::*;
use yaml_serde::{Mapping, Value};

/// `v` as JSON: compact when `indent` is 0, else one member per line.
fn print(v: &Value, indent: usize, depth: usize, out: &mut String) {
    match v {
        Value::Mapping(m) if m.is_empty() => out.push_str("{}"),
        Value::Mapping(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if indent > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent * (depth + 1)));
                }
                out.push_str(&serde_json::to_string(k.as_str().unwrap()).unwrap());
                out.push_str(if indent > 0 { ": " } else { ":" });
                print(v, indent, depth + 1, out);
            }
            if indent > 0 {
                out.push('\n');
                out.push_str(&" ".repeat(indent * depth));
            }
            out.push('}');
        }
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap()),
        _ => out.push_str("null"),
    }
}

fn json(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    print(v, indent, 0, &mut out);
    out.push('\n');
    out
}

fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

fn map(items: Vec<(&str, Value)>) -> Value {
    Value::Mapping(items.into_iter().map(|(k, v)| (s(k), v)).collect())
}

/// The mapping under `key`, created (or replacing a null) at the end when absent.
fn sub<'m>(m: &'m mut Mapping, key: &str) -> &'m mut Mapping {
    let slot = m.entry(s(key)).or_insert(Value::Mapping(Mapping::new()));
    if !slot.is_mapping() {
        *slot = Value::Mapping(Mapping::new());
    }
    slot.as_mapping_mut().unwrap()
}

const KEYS: [&str; 5] = ["API_KEY", "DB_URL", "K.x-y", "REDIS", "Z_1"];
const ANNS: [&str; 3] = ["a.io/x", "emp-seal.dev/cert-sha256", "b"];

prop_compose! {
    fn doc()(
        indent in prop::sample::select(vec![0usize, 2, 4]),
        anns in prop::option::of(prop::sample::subsequence(ANNS.to_vec(), 0..=3)),
        spec in 0u8..3,
        enc in prop::option::of(prop::option::of(prop::sample::subsequence(KEYS.to_vec(), 0..=5))),
        template in any::<bool>(),
    ) -> (Value, usize) {
        let mut meta = vec![("name", s("s")), ("namespace", s("ns"))];
        if let Some(a) = anns {
            meta.push(("annotations", map(a.iter().map(|k| (*k, s("v"))).collect())));
        }
        let mut root = vec![
            ("kind", s("SealedSecret")),
            ("apiVersion", s("bitnami.com/v1alpha1")),
            ("metadata", map(meta)),
        ];
        let mut spec_items = Vec::new();
        if template {
            let tm = map(vec![("name", s("s")), ("creationTimestamp", Value::Null)]);
            spec_items.push(("template", map(vec![("metadata", tm)])));
        }
        match enc {
            None => {}
            Some(None) => spec_items.push(("encryptedData", Value::Null)),
            Some(Some(keys)) => spec_items.push((
                "encryptedData",
                map(keys.iter().map(|k| (*k, s(&format!("AgOld{}", k.len())))).collect()),
            )),
        }
        match spec {
            0 => {}
            1 => root.push(("spec", Value::Null)),
            _ => root.push(("spec", map(spec_items))),
        }
        (map(root), indent)
    }
}

prop_compose! {
    fn plan()(
        set in prop::sample::subsequence(KEYS.to_vec(), 0..=5).prop_shuffle(),
        remove in prop::sample::subsequence(KEYS.to_vec(), 0..=5),
        anns in prop::sample::subsequence(vec![ANNS[1], "emp-seal.dev/sealed-for"], 0..=2),
        remove_x in any::<bool>(),
    ) -> EditPlan {
        EditPlan {
            remove: remove.iter().filter(|k| !set.contains(k)).map(|k| (*k).to_owned()).collect(),
            set: set.iter().map(|k| ((*k).to_owned(), format!("AgNew{}x+/=", k.len()))).collect(),
            annotations: anns.iter().map(|k| ((*k).to_owned(), "strict ns/s".to_owned())).collect(),
            remove_annotations: if remove_x { vec!["a.io/x".to_owned()] } else { Vec::new() },
        }
    }
}

/// What the object is after `plan`, by the rules `verify` applies.
fn expected(before: &Value, plan: &EditPlan) -> Value {
    let mut v = before.clone();
    let root = v.as_mapping_mut().unwrap();
    let has_ann = root["metadata"]
        .get("annotations")
        .is_some_and(Value::is_mapping);
    if !plan.annotations.is_empty() || (has_ann && !plan.remove_annotations.is_empty()) {
        let ann = sub(sub(root, "metadata"), "annotations");
        for (k, val) in &plan.annotations {
            ann.insert(s(k), s(val));
        }
        for k in &plan.remove_annotations {
            ann.shift_remove(k.as_str());
        }
    }
    let has_enc = root
        .get("spec")
        .and_then(|x| x.get("encryptedData"))
        .is_some_and(Value::is_mapping);
    if !plan.set.is_empty() || (has_enc && !plan.remove.is_empty()) {
        let enc = sub(sub(root, "spec"), "encryptedData");
        for (k, val) in &plan.set {
            enc.insert(s(k), s(val));
        }
        for k in &plan.remove {
            enc.shift_remove(k.as_str());
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn issue_16_json_rewrite_is_the_planned_json((before, indent) in doc(), plan in plan()) {
        let text = json(&before, indent);
        let out = apply(&text, 0, &plan).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&out, &json(&expected(&before, &plan), indent), "input:\n{}", text);
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }
}

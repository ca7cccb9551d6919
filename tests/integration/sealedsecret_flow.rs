//! Flow-style and JSON SealedSecrets edited by `sealedsecret::apply` (issue 16): kubeseal's
//! JSON stays JSON with its indentation; missing containers are created as JSON; YAML flow
//! mappings, whole documents or inside a block document, keep their style. Expected texts are
//! exact.
#![allow(clippy::unwrap_used)]

use emp_seal::sealedsecret::{EditPlan, SealedSecretFile, apply};

const KUBESEAL: &str = "{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n  \"metadata\": {\n    \"name\": \"s\",\n    \"namespace\": \"ns\",\n    \"creationTimestamp\": null\n  },\n  \"spec\": {\n    \"template\": {\n      \"metadata\": {\n        \"name\": \"s\",\n        \"namespace\": \"ns\",\n        \"creationTimestamp\": null\n      }\n    },\n    \"encryptedData\": {\n      \"A\": \"AgAA\",\n      \"B\": \"AgBB\"\n    }\n  }\n}\n";

fn plan(set: &[(&str, &str)], remove: &[&str], ann: &[(&str, &str)]) -> EditPlan {
    let own = |v: &[(&str, &str)]| v.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    EditPlan {
        set: own(set),
        remove: remove.iter().map(|k| (*k).into()).collect(),
        annotations: own(ann),
        remove_annotations: Vec::new(),
    }
}

/// The output is JSON, and parses to the planned keys.
fn json_keys(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).expect("stays JSON");
    let enc = v["spec"]["encryptedData"]
        .as_object()
        .expect("encryptedData");
    enc.keys().cloned().collect()
}

#[test]
fn kubeseal_json_edits_stay_json_with_its_indentation() {
    let out = apply(
        KUBESEAL,
        0,
        &plan(&[("A", "AgXX"), ("C", "AgCC")], &[], &[]),
    )
    .unwrap();
    assert_eq!(
        out,
        KUBESEAL
            .replace("\"AgAA\"", "\"AgXX\"")
            .replace("\"AgBB\"\n", "\"AgBB\",\n      \"C\": \"AgCC\"\n")
    );
    assert_eq!(json_keys(&out), ["A", "B", "C"]);
    let out = apply(KUBESEAL, 0, &plan(&[], &["B"], &[])).unwrap();
    assert_eq!(out, KUBESEAL.replace(",\n      \"B\": \"AgBB\"", ""));
    let out = apply(KUBESEAL, 0, &plan(&[], &["A"], &[])).unwrap();
    assert_eq!(out, KUBESEAL.replace("\"A\": \"AgAA\",\n      ", ""));
    let out = apply(KUBESEAL, 0, &plan(&[("C", "AgCC")], &["A", "B"], &[])).unwrap();
    assert_eq!(json_keys(&out), ["C"]);
    let out = apply(KUBESEAL, 0, &plan(&[], &["A", "B"], &[])).unwrap();
    assert!(out.contains("\"encryptedData\": {}\n"), "{out}");
}

#[test]
fn missing_containers_are_created_as_json() {
    let out = apply(KUBESEAL, 0, &plan(&[], &[], &[("emp-seal.dev/x", "1 a")])).unwrap();
    assert!(
        out.contains("\"creationTimestamp\": null,\n    \"annotations\": {\n      \"emp-seal.dev/x\": \"1 a\"\n    }\n  },"),
        "{out}"
    );
    let no_enc = KUBESEAL.replace(
        ",\n    \"encryptedData\": {\n      \"A\": \"AgAA\",\n      \"B\": \"AgBB\"\n    }",
        "",
    );
    let out = apply(&no_enc, 0, &plan(&[("A", "AgAA"), ("B", "AgBB")], &[], &[])).unwrap();
    assert_eq!(out, KUBESEAL);
    let one_line = "{\"kind\":\"SealedSecret\",\"apiVersion\":\"bitnami.com/v1alpha1\",\"metadata\":{\"name\":\"s\"}}";
    let out = apply(one_line, 0, &plan(&[("A", "AgAA")], &[], &[])).unwrap();
    assert_eq!(
        out,
        one_line.replace("}}", "},\"spec\":{\"encryptedData\":{\"A\":\"AgAA\"}}}")
    );
}

#[test]
fn yaml_flow_and_flow_inside_block() {
    let t = "{apiVersion: bitnami.com/v1alpha1, kind: SealedSecret, metadata: {name: s},\n  spec: {encryptedData: {A: AgAA, B: null}}}\n";
    let out = apply(t, 0, &plan(&[("B", "AgBB"), ("C", "AgCC")], &[], &[])).unwrap();
    assert_eq!(out, t.replace("B: null}", "B: AgBB, C: AgCC}"));
    let t = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  annotations: {a: b}\nspec:\n  encryptedData: {A: AgAA, B: AgBB}  # c\n";
    let f = SealedSecretFile::parse(t).unwrap();
    assert_eq!(f.sealed_secrets().next().unwrap().1.encrypted_data.len(), 2);
    let out = apply(t, 0, &plan(&[("C", "AgCC")], &["A"], &[("c", "d")])).unwrap();
    assert_eq!(
        out,
        t.replace("{A: AgAA, B: AgBB}", "{B: AgBB, C: AgCC}")
            .replace("{a: b}", "{a: b, c: d}")
    );
}

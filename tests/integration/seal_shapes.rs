//! Issue 16 item 4: every SealedSecret shape kubeseal and people write, sealed in place through
//! the real binary in a temp copy of `k8s/`: JSON (kubeseal's default output) with its own
//! indentation, YAML flow style, a `.yml` file, and two SealedSecrets in one overlay picked with
//! and without `--name`. Values are decrypted by the Python peer under the identity the real
//! `kubectl kustomize` renders; `check` reads every shape.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use yaml_serde::Value;

use crate::common::{self, Peer};
use crate::seal_support::*;
use emp_seal::sealedsecret::SealedSecretFile;

/// The shipped paper SealedSecret as `yaml_serde` reads it.
fn paper_value() -> Value {
    let text =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"))
            .unwrap();
    yaml_serde::from_str(&text).unwrap()
}

/// `v` as JSON indented by `indent` spaces (kubeseal writes JSON by default).
fn as_json(v: &Value, indent: usize) -> String {
    use serde::Serialize;
    let pad = " ".repeat(indent);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    v.serialize(&mut ser).unwrap();
    out.push(b'\n');
    String::from_utf8(out).unwrap()
}

/// `v` in YAML flow style: one line per top-level member, strings single-quoted.
fn as_flow(v: &Value) -> String {
    fn node(v: &Value) -> String {
        match v {
            Value::Mapping(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.as_str().unwrap(), node(v)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            Value::String(s) => format!("'{}'", s.replace('\'', "''")),
            other => yaml_serde::to_string(other).unwrap().trim().to_owned(),
        }
    }
    let m = v.as_mapping().unwrap();
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("  {}: {}", k.as_str().unwrap(), node(v)))
        .collect();
    format!("# flow style\n{{\n{}\n}}\n", items.join(",\n"))
}

/// Replaces the paper overlay's `sealedsecret.yaml` by `name` holding `text`.
fn use_file(tree: &Tree, name: &str, text: &str) -> std::path::PathBuf {
    std::fs::remove_file(tree.ss("paper")).unwrap();
    let kz = tree.overlay("paper").join("kustomization.yaml");
    let k = std::fs::read_to_string(&kz).unwrap();
    assert!(k.contains("  - sealedsecret.yaml\n"));
    write_file(
        &kz,
        k.replace("  - sealedsecret.yaml\n", &format!("  - {name}\n"))
            .as_bytes(),
    );
    tree.write(&format!("k8s/overlays/paper/{name}"), text)
}

/// `text` with every `encryptedData` value span (from the crate's span reader) replaced by
/// `<KEY>`, and the first `"annotations": {...}` member (with its comma) cut when `cut_ann`.
fn masked(text: &str, cut_ann: bool) -> String {
    let f = SealedSecretFile::parse(text).unwrap();
    let mut spans: Vec<(std::ops::Range<usize>, String)> = f
        .sealed_secrets()
        .flat_map(|(_, d)| d.encrypted_data.iter())
        .map(|e| (e.span.clone(), format!("<{}>", e.key)))
        .collect();
    if cut_ann {
        let at = text.find("\"annotations\": {").expect("annotations member");
        let comma = text[..at].rfind(',').unwrap();
        let close = at + text[at..].find('}').unwrap() + 1;
        spans.push((comma..close, String::new()));
    }
    spans.sort_by_key(|s| s.0.start);
    let mut out = String::new();
    let mut pos = 0;
    for (r, m) in spans {
        out.push_str(&text[pos..r.start]);
        out.push_str(&m);
        pos = r.end;
    }
    out + &text[pos..]
}

/// Seals paper from the standard env file and returns the file's new text.
fn seal_paper(tree: &Tree, file: &std::path::Path, extra: &[&str]) -> String {
    let env = tree.write("secrets.env", env_text());
    let mut args = vec!["paper", "--from", env.to_str().unwrap()];
    args.extend(extra);
    let out = tree.run(&args);
    ok(&out);
    no_secret(&out);
    std::fs::read_to_string(file).unwrap()
}

#[test]
fn issue_16_json_sealedsecret_is_sealed_in_place_and_stays_json() {
    for indent in [2, 4] {
        let tree = Tree::new();
        let old = as_json(&paper_value(), indent);
        let file = use_file(&tree, "sealedsecret.json", &old);
        let new = seal_paper(&tree, &file, &[]);
        // Still JSON, with the record annotations as JSON members at the file's indentation.
        let j: serde_json::Value = serde_json::from_str(&new).expect("the file stays JSON");
        let ann = j["metadata"]["annotations"].as_object().unwrap();
        assert!(ann.contains_key("emp-seal.dev/cert-sha256"), "{new}");
        let pad = " ".repeat(indent * 3);
        assert!(
            new.contains(&format!("\n{pad}\"emp-seal.dev/cert-sha256\": \"")),
            "{indent}: annotations indented like the file\n{new}"
        );
        // Byte-identical outside the sealed values and the inserted record annotations.
        assert_eq!(masked(&new, true), masked(&old, false), "indent {indent}");
        for k in env_values().keys() {
            assert_ne!(values(&old).get(k), values(&new).get(k), "{k} sealed");
        }
        assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());
        // A reseal changes only values.
        let again = seal_paper(&tree, &file, &[]);
        assert_eq!(masked(&again, false), masked(&new, false));
        assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());
    }
}

/// JSON indented with tabs (`jq --tab`): the members emp-seal creates (the `annotations` object,
/// and an `encryptedData` written anew from `{}`) are indented with tabs like the rest, their
/// closing braces at their own depth, rather than with spaces and at column 0.
#[test]
fn tab_indented_json_gets_tab_indented_new_members() {
    use serde::Serialize;
    let mut empty = paper_value();
    empty["spec"]["encryptedData"] = Value::Mapping(yaml_serde::Mapping::new());
    for v in [paper_value(), empty] {
        let tree = Tree::new();
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, fmt))
            .unwrap();
        let old = String::from_utf8(out).unwrap() + "\n";
        let file = use_file(&tree, "sealedsecret.json", &old);
        let new = seal_paper(&tree, &file, &[]);
        serde_json::from_str::<serde_json::Value>(&new).expect("the file stays JSON");
        assert!(
            new.lines().all(|l| !l.starts_with(' ')),
            "a line indented with spaces:\n{new}"
        );
        for want in [
            "\n\t\t\"annotations\": {\n\t\t\t\"emp-seal.dev/cert-sha256\": \"",
            "\n\t\t\t\"emp-seal.dev/sealed-for\": \"strict emp-paper/emp-secrets\"\n\t\t}",
            "\n\t\t\t\"API_KEY\": ",
        ] {
            assert!(new.contains(want), "{want:?} in\n{new}");
        }
        assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());
    }
}

/// `metadata` or `spec` written as a flow mapping inside a block document is refused by name
/// (a flow mapping there is edited only as `annotations` or `encryptedData`), not with a guess
/// about anchors or merge keys; nothing is written.
#[test]
fn flow_metadata_or_spec_inside_a_block_document_is_refused_by_name() {
    let shipped =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"))
            .unwrap();
    let block_meta = "metadata:\n  name: emp-secrets\n  namespace: emp-paper\n";
    assert!(shipped.contains(block_meta));
    let flow_meta = shipped.replace(
        block_meta,
        "metadata: {name: emp-secrets, namespace: emp-paper}\n",
    );
    let flow_spec = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\nspec: {encryptedData: {API_KEY: AgAAAA...}}\n";
    for (text, field) in [(flow_meta.as_str(), "metadata"), (flow_spec, "spec")] {
        let tree = Tree::new();
        write_file(&tree.ss("paper"), text.as_bytes());
        let env = tree.write("secrets.env", env_text());
        let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
        let line = fails_cleanly(&out);
        assert!(
            line.contains(&format!("`{field}` is a flow mapping")) && !line.contains("anchors"),
            "{line}"
        );
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
    }
}

#[test]
fn issue_16_flow_style_and_yml_files_are_sealed_in_place() {
    let tree = Tree::new();
    let old = as_flow(&paper_value());
    let file = use_file(&tree, "sealedsecret.yaml", &old);
    let new = seal_paper(&tree, &file, &[]);
    let v: Value = yaml_serde::from_str(&new).unwrap();
    assert!(v["metadata"]["annotations"].is_mapping(), "{new}");
    // Only values change in the flow mapping; the annotations member is new text.
    let cut = new
        .find(", annotations: {")
        .expect("annotations appended in flow style");
    let end = cut + new[cut..].find('}').unwrap() + 1;
    let without = format!("{}{}", &new[..cut], &new[end..]);
    assert_eq!(masked(&without, false), masked(&old, false));
    assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());

    let tree = Tree::new();
    let yml = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let file = use_file(&tree, "sealedsecret.yml", &yml);
    let new = seal_paper(&tree, &file, &[]);
    assert_only_values_changed(&yml, &new, &[], false);
    assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());
}

/// Renders paper with kubectl and decrypts every value of the SealedSecret named `name` with the
/// peer (strict scope). False when a component is missing (reported).
fn decrypts_named(tree: &Tree, name: &str, expected: &BTreeMap<String, Vec<u8>>) -> bool {
    let (Some(_), Some(mut peer)) = (common::kubectl(), Peer::start()) else {
        return false;
    };
    let out = common::kustomize(&tree.overlay("paper"));
    let docs: Vec<Value> = yaml_serde::Deserializer::from_str(&out)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let v = docs
        .iter()
        .find(|v| v["kind"] == "SealedSecret" && v["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} rendered"));
    let label = format!("emp-paper/{name}").into_bytes();
    for (k, want) in expected {
        let ct = v["spec"]["encryptedData"][k.as_str()].as_str().unwrap();
        let got = peer
            .decrypt(&demo_key(), &label, &common::unb64(ct))
            .unwrap();
        assert_eq!(&got, want, "{name}: {k}");
    }
    true
}

#[test]
fn issue_16_two_sealedsecrets_in_one_overlay_are_picked_by_name() {
    let tree = Tree::new();
    let first = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let second = first
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("emp-secrets", "emp-other")
        + "\n";
    let old = format!("{first}---\n{second}");
    write_file(&tree.ss("paper"), old.as_bytes());
    let env = tree.write("secrets.env", env_text());

    // Neither --name nor the env file's name picks one: refused, both listed, nothing written.
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    let err = fails_cleanly(&out);
    assert!(
        err.contains("`emp-secrets`") && err.contains("`emp-other`"),
        "{err}"
    );
    assert!(err.contains("--name"), "{err}");
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), old);
    let out = tree.run(&["paper", "--from", env.to_str().unwrap(), "--name", "nope"]);
    assert!(fails_cleanly(&out).contains("no SealedSecret named `nope`"));

    // --name picks one; the other document stays byte-identical.
    let out = tree.run(&[
        "paper",
        "--from",
        env.to_str().unwrap(),
        "--name",
        "emp-other",
    ]);
    ok(&out);
    let new = std::fs::read_to_string(tree.ss("paper")).unwrap();
    assert!(
        new.starts_with(&first),
        "the first SealedSecret is untouched"
    );
    assert!(decrypts_named(&tree, "emp-other", &env_values()) || !common::in_ci());

    // Without --name, an env file named like one of them picks it.
    let named = tree.write("emp-secrets.env", env_text());
    let out = tree.run(&["paper", "--from", named.to_str().unwrap()]);
    ok(&out);
    let last = std::fs::read_to_string(tree.ss("paper")).unwrap();
    assert!(
        last.ends_with(&new[first.len()..]),
        "the second SealedSecret is untouched"
    );
    assert!(decrypts_named(&tree, "emp-secrets", &env_values()) || !common::in_ci());
}

#[test]
fn issue_16_check_reads_json_and_flow_sealedsecrets() {
    // The shipped paper file holds placeholders: every shape must report the same findings.
    let count = |tree: &Tree| {
        let out = tree.run(&["check", "--color", "never"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
        text.lines()
            .filter(|l| l.contains("error[placeholder-ciphertext]"))
            .map(|l| l.split(": ").next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let tree = Tree::new();
    let yaml = count(&tree);
    assert_eq!(yaml.len(), 3, "{yaml:?}");
    for (name, text) in [
        ("sealedsecret.json", as_json(&paper_value(), 2)),
        ("sealedsecret.yaml", as_flow(&paper_value())),
    ] {
        let tree = Tree::new();
        use_file(&tree, name, &text);
        let found = count(&tree);
        assert_eq!(found.len(), 3, "{name}: {found:?}");
        for at in &found {
            assert!(
                at.starts_with(&format!("k8s/overlays/paper/{name}:")),
                "{at}"
            );
            let line: usize = at.split(':').nth(1).unwrap().parse().unwrap();
            let l = text.lines().nth(line - 1).unwrap();
            assert!(
                l.contains("REPLACE_ME"),
                "{name}: finding at line {line}: {l}"
            );
        }
    }
}

#[test]
fn issue_16_json_sealedsecret_in_a_base_shared_by_two_overlays() {
    let tree = Tree::new();
    let base = "{\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\n    \"name\": \"app-secrets\"\n  },\n  \"spec\": {\n    \"encryptedData\": {\n      \"API_KEY\": \"AgAAAAAAAAAA...REPLACE_ME\"\n    }\n  }\n}\n";
    tree.write("k8s/shared/sealedsecret.json", base);
    tree.write(
        "k8s/shared/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sealedsecret.json\n",
    );
    let cert = std::fs::read_to_string(tree.overlay("paper").join("sealing-cert.pem")).unwrap();
    for env in ["a", "b"] {
        tree.write(
            &format!("k8s/overlays/{env}/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team\nresources:\n  - ../../shared\n",
        );
        tree.write(&format!("k8s/overlays/{env}/sealing-cert.pem"), &cert);
    }
    let env = tree.write("app-secrets.env", format!("API_KEY={SENTINEL}-shared\n"));
    let out = tree.run(&["seal", "a", "b", "--from", env.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    let new = tree.read("k8s/shared/sealedsecret.json");
    serde_json::from_str::<serde_json::Value>(&new).expect("the shared file stays JSON");
    assert_eq!(masked(&new, true), masked(base, false));
    let (Some(_), Some(mut peer)) = (common::kubectl(), Peer::start()) else {
        assert!(!common::in_ci());
        return;
    };
    for env in ["a", "b"] {
        let rendered = common::kustomize(&tree.overlay(env));
        let v: Value = yaml_serde::from_str(&rendered).unwrap();
        let ct = v["spec"]["encryptedData"]["API_KEY"].as_str().unwrap();
        let got = peer
            .decrypt(&demo_key(), b"team/app-secrets", &common::unb64(ct))
            .unwrap();
        assert_eq!(got, format!("{SENTINEL}-shared").into_bytes(), "{env}");
    }
}

/// Overlays `a` (namespace `ns_a`, prefix `a-`) and `b` (namespace `ns_b`) over one shared
/// SealedSecret of `scope`, with one certificate; returns the tree and the env file.
fn shared_base(scope_annotation: &str, ns_a: &str, ns_b: &str) -> (Tree, String) {
    let tree = Tree::new();
    tree.write(
        "k8s/shared/sealedsecret.yaml",
        format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n  annotations:\n    {scope_annotation}: \"true\"\nspec:\n  encryptedData:\n    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n"),
    );
    tree.write(
        "k8s/shared/kustomization.yaml",
        "resources:\n  - sealedsecret.yaml\n",
    );
    let cert = std::fs::read_to_string(tree.overlay("paper").join("sealing-cert.pem")).unwrap();
    for (env, extra) in [
        ("a", format!("namespace: {ns_a}\nnamePrefix: a-\n")),
        ("b", format!("namespace: {ns_b}\n")),
    ] {
        tree.write(
            &format!("k8s/overlays/{env}/kustomization.yaml"),
            format!("{extra}resources:\n  - ../../shared\n"),
        );
        tree.write(&format!("k8s/overlays/{env}/sealing-cert.pem"), &cert);
    }
    let env = tree.write("app-secrets.env", format!("API_KEY={SENTINEL}-shared\n"));
    (tree, env.to_str().unwrap().to_owned())
}

/// One ciphertext opens wherever the controller's label is the same (sealed-secrets
/// `EncryptionLabel`): empty for cluster-wide scope, the namespace for namespace-wide. So a
/// shared cluster-wide SealedSecret that two overlays rename and move, or a namespace-wide one
/// they rename in one namespace, is sealed for both, alone or together; `seal` refused it as
/// "different identities ... would not decrypt there". Namespace-wide across two namespaces is
/// still refused.
#[test]
fn a_shared_sealedsecret_is_sealed_when_the_overlays_share_its_label() {
    for (annotation, ns_b) in [
        ("sealedsecrets.bitnami.com/cluster-wide", "team-b"),
        ("sealedsecrets.bitnami.com/namespace-wide", "team-a"),
    ] {
        let (tree, env) = shared_base(annotation, "team-a", ns_b);
        for args in [&["seal", "a"][..], &["seal", "b"], &["seal", "a", "b"]] {
            let out = tree.run(&[args, &["--from", &env]].concat());
            ok(&out);
            no_secret(&out);
        }
        let check = stdout(&tree.run(&["check"]));
        assert!(!check.contains("k8s/shared/"), "{annotation}: {check}");
        for env in ["a", "b"] {
            let r = render(&tree, env);
            let Some(r) = r else {
                return assert!(!common::in_ci());
            };
            let Some(mut peer) = Peer::start() else {
                return assert!(!common::in_ci());
            };
            let ct = &r.encrypted["API_KEY"];
            let got = peer.decrypt(&demo_key(), &r.label(), &common::unb64(ct));
            assert_eq!(
                got.unwrap(),
                format!("{SENTINEL}-shared").into_bytes(),
                "{annotation} {env}"
            );
        }
    }
    let (tree, env) = shared_base(
        "sealedsecrets.bitnami.com/namespace-wide",
        "team-a",
        "team-b",
    );
    let before = tree.read("k8s/shared/sealedsecret.yaml");
    let e = fails_cleanly(&tree.run(&["seal", "a", "--from", &env]));
    assert!(
        e.contains("namespace-wide team-a/a-app-secrets, namespace-wide team-b/app-secrets"),
        "{e}"
    );
    assert_eq!(tree.read("k8s/shared/sealedsecret.yaml"), before);
}

/// Overlays `a` (`team-a/a-app-secrets`) and `b` (`team-b/app-secrets`) share one cluster-wide
/// SealedSecret: each seal wrote its own identity into `emp-seal.dev/sealed-for`, so sealing for
/// the other overlay rewrote the record every time. A record whose scope and label hold is kept.
#[test]
fn sealing_a_shared_cluster_wide_sealedsecret_for_another_overlay_keeps_its_record() {
    let (tree, env) = shared_base("sealedsecrets.bitnami.com/cluster-wide", "team-a", "team-b");
    let file = "k8s/shared/sealedsecret.yaml";
    let record = |tree: &Tree| -> String {
        let text = tree.read(file);
        let line = text
            .lines()
            .find(|l| l.contains("emp-seal.dev/sealed-for:"));
        line.unwrap_or_else(|| panic!("no record:\n{text}"))
            .trim()
            .to_owned()
    };
    ok(&tree.run(&["seal", "a", "--from", &env]));
    let first = record(&tree);
    assert!(first.contains("a-app-secrets"), "{first}");
    let out = tree.run(&["seal", "b", "--from", &env]);
    ok(&out);
    no_secret(&out);
    assert_eq!(record(&tree), first);
}

/// The paper SealedSecret as an item of a `kind: List` (kustomize expands it, so the overlay
/// renders it): the span-exact editor edits documents only. `seal` said the file had no
/// SealedSecret of that name and hinted to write one, which would have left two in the build;
/// it now refuses in one line naming the file and the item's line, and writes nothing.
#[test]
fn a_sealedsecret_inside_a_list_is_refused_by_seal_naming_its_line() {
    let (text, name_line) = paper_in_a_list(str::to_owned);
    let tree = Tree::new();
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    no_secret(&out);
    let line = fails_cleanly(&out);
    assert!(
        line.contains(&format!("sealedsecret.yaml:{name_line}:")) && line.contains("`List`"),
        "{line}"
    );
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
    assert_eq!(std::fs::read_dir(tree.overlay("paper")).unwrap().count(), 8);
}

/// The paper SealedSecret as a `kind: List` item, with a defect of each kind the strict reader's
/// rules judge: a key the workloads read is missing (`missing-secret-key`) and the template names
/// another Secret (`identity-mismatch`). `check` reported only `overlay-not-modelled` for the
/// item; its rules now read it like a document and place findings on the item's keys.
#[test]
fn check_judges_a_sealedsecret_inside_a_list_like_a_document() {
    let (text, _) = paper_in_a_list(|l| match l {
        _ if l.starts_with("      name: emp-secrets") => "      name: other-name".into(),
        _ => l.to_owned(),
    });
    let text: String = (text.split_inclusive('\n'))
        .filter(|l| !l.contains("REDIS_PASSWORD:"))
        .collect();
    let tree = Tree::new();
    write_file(&tree.ss("paper"), text.as_bytes());
    let (_, hits) = common::check_hits(tree.root(), &[]);
    let file = "k8s/overlays/paper/sealedsecret.yaml";
    let in_file = |rule: &str| -> Vec<u64> {
        (common::of(&hits, rule).iter())
            .filter(|h| h.path == file)
            .map(|h| h.line)
            .collect()
    };
    assert!(in_file("overlay-not-modelled").is_empty(), "{hits:?}");
    let template_name = common::line_of(tree.root(), file, "name: other-name");
    assert_eq!(in_file("identity-mismatch"), [template_name], "{hits:?}");
    let missing = common::of(&hits, "missing-secret-key");
    assert!(
        missing.iter().any(|h| h.message.contains("REDIS_PASSWORD")),
        "{hits:?}"
    );
}

/// The paper SealedSecret as a `kind: List` item: `reseal` and `unseal` said the file had no
/// such SealedSecret, and `cert` that the file had none of that name. Each now gives `seal`'s
/// one reason (the item's file and line, the `List`), the refusing ones in one line with exit 2,
/// and the file is unchanged.
#[test]
fn every_command_names_a_sealedsecret_inside_a_list_as_seal_does() {
    let (text, name_line) = paper_in_a_list(str::to_owned);
    let tree = Tree::new();
    write_file(&tree.ss("paper"), text.as_bytes());
    let key = tree.write("paper-key.pem", demo_key());
    let key = key.to_str().unwrap();
    let reason = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{name_line}: SealedSecret `emp-secrets` is an item of a `List`"
    );
    let refusals = [
        vec!["reseal", "paper", "--key", key],
        vec!["unseal", "paper", "--key", key, "--format", "env"],
    ];
    for args in refusals {
        let out = tree.run(&args);
        no_secret(&out);
        let line = fails_cleanly(&out);
        assert!(line.contains(&reason), "{args:?}: {line}");
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
    }
    let out = tree.run(&["cert"]);
    no_secret(&out);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains(&reason), "{all}");
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
}

/// The shipped paper SealedSecret as the one item of a `kind: List` document, each of its lines
/// passed through `edit` first; and the 1-based line of the item's `metadata.name`.
fn paper_in_a_list(edit: impl Fn(&str) -> String) -> (String, usize) {
    let shipped =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"))
            .unwrap();
    let start = shipped.find("apiVersion:").unwrap();
    let item: String = (shipped[start..].lines().map(edit).enumerate())
        .map(|(i, l)| match i {
            0 => format!("- {l}\n"),
            _ if l.is_empty() => "\n".to_owned(),
            _ => format!("  {l}\n"),
        })
        .collect();
    let text = format!("apiVersion: v1\nkind: List\nitems:\n{item}");
    let name_line = (text.lines().position(|l| l == "    name: emp-secrets")).unwrap() + 1;
    (text, name_line)
}

/// `diff`, `seal --migrate` and `init` on the paper overlay whose SealedSecret is a `List` item:
/// each fails in one line with exit 2 and writes nothing. `diff` gives `seal`'s one reason (the
/// item's file and line, the `List`); `seal --migrate` says the overlay already renders a
/// SealedSecret (there is no generator to migrate) and `init` that its Secret comes from no env
/// file, as they do for a SealedSecret document. `seal --migrate`'s hint was to seal without
/// `--migrate`, which refuses the item; it now names the item's line and says to move it out of
/// the `List` first.
#[test]
fn diff_migrate_and_init_refuse_a_sealedsecret_inside_a_list() {
    let (text, name_line) = paper_in_a_list(str::to_owned);
    let tree = Tree::new();
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let key = tree.write("paper-key.pem", demo_key());
    let (env, key) = (env.to_str().unwrap(), key.to_str().unwrap());
    let before: Vec<_> = std::fs::read_dir(tree.overlay("paper")).unwrap().collect();
    let runs = [
        (
            vec!["diff", "paper", "--from", env, "--key", key],
            format!("k8s/overlays/paper/sealedsecret.yaml:{name_line}: SealedSecret `emp-secrets` is an item of a `List`"),
        ),
        (
            vec!["seal", "paper", "--from", env, "--migrate"],
            "already renders a SealedSecret (k8s/overlays/paper/sealedsecret.yaml)".to_owned(),
        ),
        (
            vec!["init", "paper", "--no-input"],
            "does not come from an env file (a SealedSecret in k8s/overlays/paper/sealedsecret.yaml)".to_owned(),
        ),
    ];
    for (args, reason) in runs {
        let out = tree.run(&args);
        no_secret(&out);
        let line = fails_cleanly(&out);
        assert!(line.contains(&reason), "{args:?}: {line}");
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
        let now = std::fs::read_dir(tree.overlay("paper")).unwrap().count();
        assert_eq!(now, before.len(), "{args:?}");
    }
    let help = stderr(&tree.run(&["seal", "paper", "--from", env, "--migrate"]));
    let item = format!("k8s/overlays/paper/sealedsecret.yaml:{name_line} is an item of a `List`");
    assert!(help.contains(&item), "{help}");
    assert!(
        help.contains("move it into a document of its own"),
        "{help}"
    );
}

/// A SealedSecret file the model builds but the editing reader refuses (a carriage return
/// without a line feed) is named `file:LINE:COL: ...` by every command that reads it, for an
/// environment or for the file named on its own: `unseal` and `diff` used to say
/// `file: LINE:COL: ...`; `seal --migrate` gives `seal`'s own error (it used to say the overlay
/// is already sealed and to seal without `--migrate`).
#[test]
fn a_sealedsecret_file_that_does_not_read_is_named_with_its_position_by_every_command() {
    let tree = Tree::new();
    let mut text = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    text.push_str("# note\r\r\n");
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let key = tree.write("paper-key.pem", demo_key());
    let (env, key) = (env.to_str().unwrap(), key.to_str().unwrap());
    let path = tree.ss("paper");
    let path = path.to_str().unwrap();
    let out = tree.run(&["seal", "paper", "--from", env]);
    no_secret(&out);
    let seal = fails_cleanly(&out);
    let position = seal
        .strip_prefix("error: k8s/overlays/paper/sealedsecret.yaml:")
        .and_then(|r| r.split_once(": "))
        .map(|(at, _)| at);
    assert!(
        position.is_some_and(|p| p.split(':').all(|n| n.parse::<usize>().is_ok())),
        "{seal}"
    );
    assert!(
        seal.contains("a carriage return without a line feed"),
        "{seal}"
    );
    for args in [
        vec!["seal", "paper", "--from", env, "--migrate"],
        vec!["reseal", "paper", "--key", key],
        vec!["unseal", "paper", "--key", key, "--format", "env"],
        vec!["diff", "paper", "--from", env, "--key", key],
        vec!["unseal", path, "--key", key, "--format", "env"],
    ] {
        let out = tree.run(&args);
        no_secret(&out);
        assert_eq!(fails_cleanly(&out), seal, "{args:?}");
    }
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
}

/// A `List` item that does not read as a SealedSecret (an `encryptedData` value that is a
/// mapping): `reseal` and `unseal` reported the reader's error, as if the file were the problem
/// to fix in place; they now give `seal`'s one reason for the item, as `seal` did. So does
/// `unseal` of the file named on its own (with or without `--name`), which read the items first.
#[test]
fn a_listed_sealedsecret_that_does_not_read_is_refused_as_a_list_item() {
    let (text, name_line) = paper_in_a_list(|l| match l.trim_start() {
        t if t.starts_with("REDIS_PASSWORD:") => {
            format!("{}REDIS_PASSWORD: {{a: b}}", &l[..l.len() - t.len()])
        }
        _ => l.to_owned(),
    });
    let tree = Tree::new();
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let key = tree.write("paper-key.pem", demo_key());
    let (env, key) = (env.to_str().unwrap(), key.to_str().unwrap());
    let path = tree.ss("paper");
    let path = path.to_str().unwrap();
    let reason = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{name_line}: SealedSecret `emp-secrets` is an item of a `List`"
    );
    for args in [
        vec!["seal", "paper", "--from", env],
        vec!["reseal", "paper", "--key", key],
        vec!["unseal", "paper", "--key", key, "--format", "env"],
        vec!["diff", "paper", "--from", env, "--key", key],
        vec!["unseal", path, "--key", key, "--format", "env"],
        vec!["unseal", path, "--name", "emp-secrets", "--key", key],
    ] {
        let out = tree.run(&args);
        no_secret(&out);
        let line = fails_cleanly(&out);
        assert!(line.contains(&reason), "{args:?}: {line}");
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
    }
}

/// `KEY: null` and `KEY: ~` in block style are the null placeholder `KEY:` is (YAML reads the
/// three alike, and flow style `{KEY: null}` was sealed already): `check` judges them as
/// placeholders and `seal` replaces them in place, keeping a trailing comment. Both used to
/// refuse the file (`must be a string`).
#[test]
fn null_placeholders_spelt_out_in_block_style_are_sealed_in_place() {
    let tree = Tree::new();
    let old = std::fs::read_to_string(tree.ss("paper"))
        .unwrap()
        .replace(
            "    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n",
            "    API_KEY: null # sealed later\n",
        )
        .replace(
            "    REDIS_PASSWORD: AgAAAAAAAAAA...REPLACE_ME\n",
            "    REDIS_PASSWORD: ~\n",
        );
    let file = tree.write("k8s/overlays/paper/sealedsecret.yaml", &old);
    let check = stdout(&tree.run(&["check", "--release", "paper"]));
    assert!(!check.contains("sealed-secret-unread"), "{check}");
    for k in ["API_KEY", "REDIS_PASSWORD"] {
        assert!(
            check.contains(&format!("error[placeholder-ciphertext]: `{k}`")),
            "{k}: {check}"
        );
    }
    let new = seal_paper(&tree, &file, &[]);
    assert_only_values_changed(&old, &new, &[], false);
    assert!(new.contains(" # sealed later\n"), "{new}");
    assert!(!new.contains("null") && !new.contains('~'), "{new}");
    assert!(assert_decrypts(&tree, "paper", &env_values()) || !common::in_ci());
}

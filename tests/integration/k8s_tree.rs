//! Issue 3: the `k8s/` tree deploys as-is. Every overlay and no-KEDA variant renders with the
//! real `kubectl kustomize`, validates (built-in kinds with `kubernetes-validate --strict` for
//! Kubernetes 1.32, the `SealedSecret` and KEDA objects with `check-jsonschema` against the CRD
//! schemas in `tests/data/crds/`), and has no dangling reference; the legacy manifest mirrors
//! paper; yamllint is clean; the commands of `k8s/README.md` work as written.
//!
//! Renders come from a temporary copy of the tree in which the env files are made exactly as
//! `k8s/README.md` tells a user (its `cp` lines), so untracked env files never matter.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::common;

const ENVS: [&str; 3] = ["dev", "paper", "prod"];

/// Objects a render may name without defining, because they are documented external
/// prerequisites (k8s/README.md "Prerequisites outside this tree"): (kind, name).
const EXTERNAL_PREREQUISITES: &[(&str, &str)] = &[("Secret", "emp-tls")];

/// The CRD kinds checked with check-jsonschema: kind -> CRD file under tests/data/crds.
const CRDS: &[(&str, &str)] = &[
    ("SealedSecret", "bitnami.com_sealedsecrets.yaml"),
    ("ScaledJob", "keda.sh_scaledjobs.yaml"),
    (
        "TriggerAuthentication",
        "keda.sh_triggerauthentications.yaml",
    ),
];

// ---------------------------------------------------------------------------------------------
// Tools, files and rendering
// ---------------------------------------------------------------------------------------------

/// All tools these tests need, or None after `common::missing`.
struct Tools {
    validate: PathBuf,
    jsonschema: PathBuf,
    yamllint: PathBuf,
}

fn tools() -> Option<Tools> {
    common::kubectl()?;
    let get = |name: &str| {
        let t = common::tool(name);
        if t.is_none() {
            common::missing(&format!(".venv-tools/bin/{name}"));
        }
        t
    };
    Some(Tools {
        validate: get("kubernetes-validate")?,
        jsonschema: get("check-jsonschema")?,
        yamllint: get("yamllint")?,
    })
}

fn write_file(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::File::create(path).expect("create file");
    f.write_all(bytes).expect("write file");
}

/// The lines of the README's `sh` code blocks.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(common::repo_root().join("k8s/README.md")).expect("README");
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && !line.trim().is_empty() {
            out.push(line.trim().to_string());
        }
    }
    out
}

/// A temporary copy of the repository's `k8s/` tree (at `<tmp>/k8s`) whose env files were made
/// by running the README's `cp k8s/...` lines, as a user on a fresh clone would.
fn tree_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    // Real env files in the developer's checkout must not leak into the test.
    for env in ENVS {
        for f in std::fs::read_dir(tmp.path().join("k8s/overlays").join(env)).expect("overlay") {
            let p = f.expect("entry").path();
            if p.extension().is_some_and(|e| e == "env") {
                std::fs::remove_file(p).expect("remove copied env file");
            }
        }
    }
    let cps: Vec<String> = readme_commands()
        .into_iter()
        .filter(|c| c.starts_with("cp k8s/"))
        .collect();
    assert!(
        cps.len() >= 2,
        "README must tell how to make the dev and prod env files"
    );
    for cp in cps {
        let st = Command::new("bash")
            .arg("-c")
            .arg(&cp)
            .current_dir(tmp.path())
            .status()
            .expect("run cp");
        assert!(st.success(), "README command failed: {cp}");
    }
    tmp
}

/// Parses a multi-document YAML stream into JSON values (null documents dropped).
fn parse_docs(yaml: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(yaml)
        .map(|de| Value::deserialize(de).expect("render is YAML with string keys"))
        .filter(|v| !v.is_null())
        .collect()
}

/// One rendered kustomization.
struct Render {
    label: String,
    yaml: String,
    docs: Vec<Value>,
}

fn render(dir: &Path, label: &str) -> Render {
    let yaml = common::kustomize(dir);
    let docs = parse_docs(&yaml);
    assert!(!docs.is_empty(), "{label}: empty render");
    Render {
        label: label.to_string(),
        yaml,
        docs,
    }
}

fn render_overlay(tree: &Path, env: &str) -> Render {
    render(
        &tree.join("k8s/overlays").join(env),
        &format!("overlay {env}"),
    )
}

fn kind(d: &Value) -> &str {
    d["kind"].as_str().unwrap_or("")
}
fn name(d: &Value) -> &str {
    d["metadata"]["name"].as_str().unwrap_or("")
}
fn namespace(d: &Value) -> &str {
    d["metadata"]["namespace"].as_str().unwrap_or("")
}

fn find<'a>(docs: &'a [Value], k: &str, n: &str) -> &'a Value {
    let found = docs.iter().find(|d| kind(d) == k && name(d) == n);
    assert!(found.is_some(), "no {k}/{n} in render");
    found.expect("checked above")
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// `kubernetes-validate --strict -k 1.32` on a file (CRD kinds only warn there: they are checked
/// by [`check_crds`]).
fn validate_builtin(t: &Tools, file: &Path) -> Output {
    Command::new(&t.validate)
        .args(["--strict", "-k", "1.32", "--quiet"])
        .arg(file)
        .output()
        .expect("run kubernetes-validate")
}

/// Turns a CRD's structural schema into the JSON schema the API server effectively applies with
/// strict field validation: unknown fields are rejected where the CRD does not preserve them,
/// and `nullable` becomes a JSON-schema null type.
fn strict_schema(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let preserve = m
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve
            {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            if m.get("nullable").and_then(Value::as_bool) == Some(true)
                && let Some(Value::String(t)) = m.get("type").cloned()
            {
                m.insert("type".into(), json!([t, "null"]));
            }
            for child in m.values_mut() {
                strict_schema(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strict_schema),
        _ => {}
    }
}

/// The strict JSON schema of the CRD version an object's apiVersion names.
fn crd_schema(crd_file: &str, api_version: &str) -> Value {
    let path = common::repo_root().join("tests/data/crds").join(crd_file);
    let crd: Value = yaml_serde::from_str(&std::fs::read_to_string(path).expect("CRD file"))
        .expect("CRD is YAML");
    let (group, version) = api_version
        .split_once('/')
        .expect("CRD apiVersion has a group");
    assert_eq!(crd["spec"]["group"], group, "{crd_file}: wrong group");
    let ver = crd["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["name"] == version && v["served"] == true);
    assert!(ver.is_some(), "{crd_file}: no served version {version}");
    let ver = ver.expect("checked above");
    let mut schema = ver["schema"]["openAPIV3Schema"].clone();
    strict_schema(&mut schema);
    schema
}

/// Checks every `SealedSecret`, `ScaledJob` and `TriggerAuthentication` in `docs` with
/// check-jsonschema (one document per file). Returns the failures (kind/name: output) and how
/// many documents were checked.
fn check_crds(t: &Tools, docs: &[Value], work: &Path) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, doc) in docs.iter().enumerate() {
        let Some((k, crd_file)) = CRDS.iter().find(|(k, _)| *k == kind(doc)) else {
            continue;
        };
        let api = doc["apiVersion"].as_str().expect("apiVersion");
        let schema_path = work.join(format!("schema-{i}.json"));
        let doc_path = work.join(format!("doc-{i}.json"));
        write_file(
            &schema_path,
            &serde_json::to_vec(&crd_schema(crd_file, api)).expect("schema json"),
        );
        write_file(&doc_path, &serde_json::to_vec(doc).expect("doc json"));
        let out = Command::new(&t.jsonschema)
            .arg("--schemafile")
            .arg(&schema_path)
            .arg(&doc_path)
            .output()
            .expect("run check-jsonschema");
        checked += 1;
        if !out.status.success() {
            failures.push(format!(
                "{k}/{}: {}{}",
                name(doc),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    (failures, checked)
}

/// Full validation of a render: built-in kinds and CRD kinds. Panics with the tools' output.
fn assert_valid(t: &Tools, r: &Render) {
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("render.yaml");
    write_file(&file, r.yaml.as_bytes());
    let out = validate_builtin(t, &file);
    assert!(
        out.status.success(),
        "{}: kubernetes-validate failed:\n{}{}",
        r.label,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (failures, checked) = check_crds(t, &r.docs, work.path());
    assert!(
        failures.is_empty(),
        "{}: CRD schema failures:\n{}",
        r.label,
        failures.join("\n")
    );
    let crd_docs = r
        .docs
        .iter()
        .filter(|d| CRDS.iter().any(|(k, _)| *k == kind(d)))
        .count();
    assert_eq!(checked, crd_docs, "{}: every CRD document checked", r.label);
}

// ---------------------------------------------------------------------------------------------
// The reference walk
// ---------------------------------------------------------------------------------------------

/// What a render defines: (kind, namespace, name) -> the keys it holds (`Secret`, `ConfigMap`).
fn defined(docs: &[Value]) -> BTreeMap<(String, String, String), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    for d in docs {
        let id = |k: &str| (k.to_string(), namespace(d).to_string(), name(d).to_string());
        match kind(d) {
            "Secret" => {
                let mut k = keys(&d["data"]);
                k.extend(keys(&d["stringData"]));
                out.insert(id("Secret"), k);
            }
            "ConfigMap" => {
                let mut k = keys(&d["data"]);
                k.extend(keys(&d["binaryData"]));
                out.insert(id("ConfigMap"), k);
            }
            // The controller makes a Secret named by the template (falling back to the
            // SealedSecret's own name) in the SealedSecret's namespace.
            "SealedSecret" => {
                let tmpl = &d["spec"]["template"]["metadata"];
                let secret = tmpl["name"].as_str().unwrap_or(name(d)).to_string();
                let mut k = keys(&d["spec"]["encryptedData"]);
                k.extend(keys(&d["spec"]["template"]["data"]));
                out.insert(("Secret".into(), namespace(d).into(), secret), k);
                out.insert(id("SealedSecret"), BTreeSet::new());
            }
            k => {
                out.insert(id(k), BTreeSet::new());
            }
        }
    }
    out
}

/// The pod specs of a workload, with a path for messages.
fn pod_specs(d: &Value) -> Vec<(String, &Value)> {
    let spec = match kind(d) {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &d["spec"]["template"]["spec"]
        }
        "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "ScaledJob" => &d["spec"]["jobTargetRef"]["template"]["spec"],
        "Pod" => &d["spec"],
        _ => return Vec::new(),
    };
    vec![(format!("{}/{}", kind(d), name(d)), spec)]
}

/// One reference: (kind, name, key read or None) from `from`.
struct Ref {
    from: String,
    kind: &'static str,
    name: String,
    key: Option<String>,
    optional: bool,
}

fn refs_of(d: &Value, problems: &mut Vec<String>) -> Vec<Ref> {
    let mut refs = Vec::new();
    let mut push = |from: &str, kind: &'static str, name: &Value, key: Option<&Value>, opt| {
        refs.push(Ref {
            from: from.to_string(),
            kind,
            name: name.as_str().unwrap_or("<missing name>").to_string(),
            key: key.map(|k| k.as_str().unwrap_or("<missing key>").to_string()),
            optional: opt == Some(true),
        });
    };
    for (from, spec) in pod_specs(d) {
        match spec["serviceAccountName"].as_str() {
            Some(_) => push(
                &from,
                "ServiceAccount",
                &spec["serviceAccountName"],
                None,
                None,
            ),
            None => problems.push(format!("{from}: no explicit serviceAccountName")),
        }
        for ps in spec["imagePullSecrets"].as_array().into_iter().flatten() {
            push(&from, "Secret", &ps["name"], None, None);
        }
        let containers = spec["containers"]
            .as_array()
            .into_iter()
            .chain(spec["initContainers"].as_array())
            .flatten();
        for c in containers {
            let from = format!("{from} container {}", c["name"].as_str().unwrap_or("?"));
            for ef in c["envFrom"].as_array().into_iter().flatten() {
                for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
                    let r = &ef[field];
                    if r.is_object() {
                        push(&from, kind, &r["name"], None, r["optional"].as_bool());
                    }
                }
            }
            for e in c["env"].as_array().into_iter().flatten() {
                let en = e["name"].as_str().unwrap_or("?");
                if e.get("value").is_some() && e.get("valueFrom").is_some() {
                    problems.push(format!("{from}: env {en} has both value and valueFrom"));
                }
                for (field, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")]
                {
                    let r = &e["valueFrom"][field];
                    if r.is_object() {
                        let key = Some(&r["key"]);
                        push(&from, kind, &r["name"], key, r["optional"].as_bool());
                    }
                }
            }
            // Every mount names a volume of the pod.
            let volumes: BTreeSet<&str> = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["name"].as_str())
                .collect();
            for m in c["volumeMounts"].as_array().into_iter().flatten() {
                let vn = m["name"].as_str().unwrap_or("?");
                if !volumes.contains(vn) {
                    problems.push(format!("{from}: mount of undefined volume {vn}"));
                }
            }
        }
        for v in spec["volumes"].as_array().into_iter().flatten() {
            if v["persistentVolumeClaim"].is_object() {
                push(
                    &from,
                    "PersistentVolumeClaim",
                    &v["persistentVolumeClaim"]["claimName"],
                    None,
                    None,
                );
            }
            // A volume names its Secret by `secretName`, a projected source by `name`.
            let volume = [
                ("secret", "Secret", "secretName"),
                ("configMap", "ConfigMap", "name"),
            ];
            for (field, kind, name_field) in volume {
                let s = &v[field];
                if s.is_object() {
                    push(&from, kind, &s[name_field], None, s["optional"].as_bool());
                }
            }
            for src in v["projected"]["sources"].as_array().into_iter().flatten() {
                for (field, kind) in [("secret", "Secret"), ("configMap", "ConfigMap")] {
                    let s = &src[field];
                    if s.is_object() {
                        push(&from, kind, &s["name"], None, s["optional"].as_bool());
                    }
                }
            }
        }
    }
    let from = format!("{}/{}", kind(d), name(d));
    match kind(d) {
        "Ingress" => {
            for tls in d["spec"]["tls"].as_array().into_iter().flatten() {
                push(&from, "Secret", &tls["secretName"], None, None);
            }
            for rule in d["spec"]["rules"].as_array().into_iter().flatten() {
                for p in rule["http"]["paths"].as_array().into_iter().flatten() {
                    push(
                        &from,
                        "Service",
                        &p["backend"]["service"]["name"],
                        None,
                        None,
                    );
                }
            }
        }
        "ScaledJob" | "ScaledObject" => {
            for t in d["spec"]["triggers"].as_array().into_iter().flatten() {
                let auth = &t["authenticationRef"];
                if auth.is_object() {
                    let k = match auth["kind"].as_str() {
                        None | Some("TriggerAuthentication") => "TriggerAuthentication",
                        Some(_) => "ClusterTriggerAuthentication",
                    };
                    push(&from, k, &auth["name"], None, None);
                }
            }
        }
        "TriggerAuthentication" => {
            for s in d["spec"]["secretTargetRef"]
                .as_array()
                .into_iter()
                .flatten()
            {
                push(&from, "Secret", &s["name"], Some(&s["key"]), None);
            }
            for s in d["spec"]["configMapTargetRef"]
                .as_array()
                .into_iter()
                .flatten()
            {
                push(&from, "ConfigMap", &s["name"], Some(&s["key"]), None);
            }
        }
        _ => {}
    }
    refs
}

/// Every dangling reference or unreadable key in a render; empty when it is whole.
fn reference_problems(docs: &[Value]) -> Vec<String> {
    let defs = defined(docs);
    let mut problems = Vec::new();
    for d in docs {
        let ns = namespace(d).to_string();
        for r in refs_of(d, &mut problems) {
            if r.optional {
                continue;
            }
            if EXTERNAL_PREREQUISITES.contains(&(r.kind, r.name.as_str())) {
                continue;
            }
            match defs.get(&(r.kind.to_string(), ns.clone(), r.name.clone())) {
                None => problems.push(format!(
                    "{} names {} {}/{} which the render does not define",
                    r.from, r.kind, ns, r.name
                )),
                Some(keys) => {
                    if let Some(key) = r.key
                        && !keys.contains(&key)
                    {
                        problems.push(format!(
                            "{} reads key {key} of {} {}/{} which does not hold it",
                            r.from, r.kind, ns, r.name
                        ));
                    }
                }
            }
        }
    }
    problems
}

fn assert_references_resolve(r: &Render) {
    let problems = reference_problems(&r.docs);
    assert!(
        problems.is_empty(),
        "{}: dangling references:\n{}",
        r.label,
        problems.join("\n")
    );
}

/// The Secret keys documented in `k8s/base/secret.template.md` (its table rows "| `KEY` |").
fn documented_keys() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::repo_root().join("k8s/base/secret.template.md"))
        .expect("secret.template.md");
    let keys: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(k, _)| k.to_string())
        .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(!keys.is_empty(), "secret.template.md documents no key");
    keys
}

/// The (namespace, keys) of the Secret `emp-secrets` a render makes.
fn emp_secret(r: &Render) -> (String, BTreeSet<String>) {
    let defs = defined(&r.docs);
    let hits: Vec<_> = defs
        .iter()
        .filter(|((k, _, n), _)| k == "Secret" && n == "emp-secrets")
        .collect();
    assert_eq!(hits.len(), 1, "{}: exactly one emp-secrets", r.label);
    (hits[0].0.1.clone(), hits[0].1.clone())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn every_overlay_renders_and_validates() {
    let Some(t) = tools() else { return };
    let tree = tree_copy();
    for env in ENVS {
        let r = render_overlay(tree.path(), env);
        assert_valid(&t, &r);
        let kinds: BTreeSet<&str> = r.docs.iter().map(kind).collect();
        for k in [
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Deployment",
            "Service",
            "Ingress",
            "CronJob",
            "ScaledJob",
            "TriggerAuthentication",
        ] {
            assert!(kinds.contains(k), "{env}: render has no {k}");
        }
        let secret_kind = if env == "paper" {
            "SealedSecret"
        } else {
            "Secret"
        };
        assert!(kinds.contains(secret_kind), "{env}: no {secret_kind}");
        // Everything lands in the overlay's own namespace.
        let ns = format!("emp-{env}");
        for d in &r.docs {
            if kind(d) == "Namespace" {
                assert_eq!(name(d), ns, "{env}: Namespace object");
            } else {
                assert_eq!(namespace(d), ns, "{env}: {}/{}", kind(d), name(d));
            }
        }
    }
}

#[test]
fn references_and_secret_keys_resolve_in_every_overlay() {
    if tools().is_none() {
        return;
    }
    let tree = tree_copy();
    let documented = documented_keys();
    for env in ENVS {
        let r = render_overlay(tree.path(), env);
        assert_references_resolve(&r);
        // The Secret holds exactly the documented keys, in the overlay's namespace.
        let (ns, keys) = emp_secret(&r);
        assert_eq!(ns, format!("emp-{env}"));
        assert_eq!(
            keys, documented,
            "{env}: emp-secrets keys vs secret.template.md"
        );
        // The generated Secrets carry the example's values (the env file the README makes).
        if env != "paper" {
            let example = std::fs::read_to_string(
                tree.path()
                    .join(format!("k8s/overlays/{env}/{env}-secrets.env.example")),
            )
            .expect("example");
            let secret = find(&r.docs, "Secret", "emp-secrets");
            for line in example
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
            {
                let (k, v) = line.split_once('=').expect("KEY=value");
                assert_eq!(
                    common::unb64(secret["data"][k].as_str().expect("data key")),
                    v.as_bytes(),
                    "{env}: {k}"
                );
            }
        }
    }
}

#[test]
fn paper_sealedsecret_keeps_the_identity_it_is_sealed_for() {
    if tools().is_none() {
        return;
    }
    let tree = tree_copy();
    let r = render_overlay(tree.path(), "paper");
    let ss = find(&r.docs, "SealedSecret", "emp-secrets");
    assert_eq!(namespace(ss), "emp-paper");
    let tmpl = &ss["spec"]["template"]["metadata"];
    assert_eq!(tmpl["name"], "emp-secrets");
    assert_eq!(tmpl["namespace"], "emp-paper");
    assert!(
        tmpl["labels"]["app.kubernetes.io/part-of"].is_string(),
        "template labels"
    );
    // Strict scope: no scope annotation anywhere.
    for ann in [&ss["metadata"]["annotations"], &tmpl["annotations"]] {
        for a in [
            "sealedsecrets.bitnami.com/namespace-wide",
            "sealedsecrets.bitnami.com/cluster-wide",
        ] {
            assert!(ann[a].is_null(), "paper must be strict scope, found {a}");
        }
    }
    // Every value is a placeholder or a real value; both start with the RSA-4096 prefix.
    for (k, v) in ss["spec"]["encryptedData"]
        .as_object()
        .expect("encryptedData")
    {
        assert!(v.as_str().is_some_and(|s| s.starts_with("Ag")), "{k}");
    }
}

#[test]
fn jobs_keep_command_envfrom_and_mounts_after_patching() {
    if tools().is_none() {
        return;
    }
    let tree = tree_copy();
    let base = render(&tree.path().join("k8s/base"), "base");
    let container = |d: &Value, path: &str| d.pointer(path).expect("container").clone();
    let cj = "/spec/jobTemplate/spec/template/spec";
    let sj = "/spec/jobTargetRef/template/spec";
    // The base holds no Secret: every overlay provides `emp-secrets` itself.
    assert!(
        !base
            .docs
            .iter()
            .any(|d| matches!(kind(d), "Secret" | "SealedSecret")),
        "base must not contain a Secret"
    );
    // The nightly replay writes under /app/artifacts/nightly_replay, on the reports PVC, never
    // twice at once, with bounded history.
    let nightly = find(&base.docs, "CronJob", "emp-nightly-replay");
    assert_eq!(nightly["spec"]["concurrencyPolicy"], "Forbid");
    assert!(nightly["spec"]["successfulJobsHistoryLimit"].is_u64());
    assert!(nightly["spec"]["failedJobsHistoryLimit"].is_u64());
    let pod = nightly.pointer(cj).expect("pod spec");
    let args = str_list(&pod["containers"][0]["args"]);
    let run_root = args
        .iter()
        .position(|a| a == "--run-root")
        .and_then(|i| args.get(i + 1));
    assert_eq!(
        run_root.map(String::as_str),
        Some("/app/artifacts/nightly_replay")
    );
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| {
            m["mountPath"]
                .as_str()
                .is_some_and(|p| "/app/artifacts/nightly_replay".starts_with(p))
        })
        .expect("a mount holds the run root");
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("volume of the mount");
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "emp-reports");
    let mut tuning = BTreeMap::<&str, BTreeSet<String>>::new();
    for env in ENVS {
        let r = render_overlay(tree.path(), env);
        for (k, n, pod) in [
            ("CronJob", "emp-nightly-replay", cj),
            ("ScaledJob", "emp-replay-autoscaler", sj),
            ("Deployment", "emp-app", "/spec/template/spec"),
        ] {
            let got = find(&r.docs, k, n).pointer(pod).expect("pod spec");
            let want = find(&base.docs, k, n).pointer(pod).expect("pod spec");
            let (gc, wc) = (
                got["containers"].as_array().expect("containers"),
                want["containers"].as_array().expect("containers"),
            );
            assert_eq!(gc.len(), wc.len(), "{env} {k}: container count");
            for (g, w) in gc.iter().zip(wc) {
                for field in [
                    "name",
                    "command",
                    "args",
                    "envFrom",
                    "env",
                    "volumeMounts",
                    "ports",
                    "livenessProbe",
                    "readinessProbe",
                    "securityContext",
                ] {
                    assert_eq!(g[field], w[field], "{env} {k}: container {field} changed");
                }
                let image = g["image"].as_str().expect("image");
                assert!(
                    image.starts_with("ghcr.io/emp/emp-app:") && image != w["image"],
                    "{env} {k}: image {image} not retagged"
                );
                assert!(g["resources"]["limits"].is_object(), "{env} {k}: limits");
            }
            for field in ["volumes", "serviceAccountName", "securityContext"] {
                assert_eq!(got[field], want[field], "{env} {k}: pod {field} changed");
            }
        }
        // The overlay-specific knobs, collected to prove the overlays differ.
        let dep = find(&r.docs, "Deployment", "emp-app");
        let cron = find(&r.docs, "CronJob", "emp-nightly-replay");
        let scaled = find(&r.docs, "ScaledJob", "emp-replay-autoscaler");
        let mut put = |what, v: &Value| {
            tuning.entry(what).or_default().insert(v.to_string());
        };
        put(
            "image",
            &container(dep, "/spec/template/spec/containers/0/image"),
        );
        put("replicas", &dep["spec"]["replicas"]);
        put(
            "app resources",
            &container(dep, "/spec/template/spec/containers/0/resources"),
        );
        put("schedule", &cron["spec"]["schedule"]);
        put("pollingInterval", &scaled["spec"]["pollingInterval"]);
        put("maxReplicaCount", &scaled["spec"]["maxReplicaCount"]);
        put(
            "listLength",
            &scaled["spec"]["triggers"][0]["metadata"]["listLength"],
        );
        put(
            "job resources",
            &container(scaled, &format!("{sj}/containers/0/resources")),
        );
        // KEDA redis triggers: host:port address, one distinct list per trigger under
        // emp:replay:, listLength a string, authenticated.
        let triggers = scaled["spec"]["triggers"].as_array().expect("triggers");
        let mut lists = BTreeSet::new();
        for tr in triggers {
            let m = &tr["metadata"];
            assert_eq!(tr["type"], "redis");
            let addr = m["address"].as_str().expect("address");
            let (host, port) = addr.rsplit_once(':').expect("host:port");
            assert!(
                !addr.contains("://") && !host.is_empty() && port.parse::<u16>().is_ok(),
                "{env}: address {addr} is not host:port"
            );
            let list = m["listName"].as_str().expect("listName");
            assert!(
                list.starts_with("emp:replay:") && !list.contains('*'),
                "{list}"
            );
            assert!(lists.insert(list), "{env}: list {list} twice");
            assert!(
                m["listLength"]
                    .as_str()
                    .is_some_and(|s| s.parse::<u32>().is_ok()),
                "{env}: listLength must be a string"
            );
            assert_eq!(tr["authenticationRef"]["name"], "emp-redis-auth");
        }
        assert!(
            lists.len() >= 2,
            "{env}: one trigger per backlog list expected"
        );
    }
    for (what, values) in tuning {
        assert_eq!(values.len(), ENVS.len(), "overlays share the same {what}");
    }
}

#[test]
fn no_keda_path_drops_both_kinds_and_still_validates() {
    let Some(t) = tools() else { return };
    let tree = tree_copy();
    // The README documents `kubectl kustomize k8s/no-keda/<env> | kubectl apply -f -`.
    let documented: Vec<String> = readme_commands()
        .into_iter()
        .filter(|c| c.contains("no-keda"))
        .collect();
    for env in ENVS {
        let cmd = format!("kubectl kustomize k8s/no-keda/{env} | kubectl apply -f -");
        assert!(documented.contains(&cmd), "README lacks `{cmd}`");
        let r = render(
            &tree.path().join("k8s/no-keda").join(env),
            &format!("no-keda {env}"),
        );
        for d in &r.docs {
            assert!(
                !d["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("keda.sh/")),
                "no-keda {env}: {}/{} left",
                kind(d),
                name(d)
            );
        }
        assert_valid(&t, &r);
        assert_references_resolve(&r);
        // Nothing but the two KEDA objects is lost.
        let full = render_overlay(tree.path(), env);
        let rest: Vec<&Value> = full
            .docs
            .iter()
            .filter(|d| !matches!(kind(d), "ScaledJob" | "TriggerAuthentication"))
            .collect();
        assert_eq!(rest, r.docs.iter().collect::<Vec<_>>(), "no-keda {env}");
    }
}

#[test]
fn readme_kustomize_commands_work_as_written() {
    let Some(t) = tools() else { return };
    let tree = tree_copy();
    let mut ran = 0;
    for line in readme_commands() {
        let Some(start) = line.find("kubectl kustomize ") else {
            continue;
        };
        // Everything up to the pipe into the cluster (`kubectl apply` needs one); a pipe into a
        // local validator is kept.
        let cmd = match line.split_once("| kubectl apply") {
            Some((c, _)) => c.trim().to_string(),
            None => line[start..].to_string(),
        };
        let cmd = cmd.replace(".venv-tools/bin/", &format!("{}/", tool_dir(&t)));
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", &cmd])
            .current_dir(tree.path())
            .output()
            .expect("run README command");
        assert!(
            out.status.success(),
            "README command failed: {cmd}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !cmd.contains('|') {
            assert!(
                !out.stdout.is_empty(),
                "README command rendered nothing: {cmd}"
            );
        }
        ran += 1;
    }
    assert!(ran >= 7, "README has {ran} kustomize commands");
}

fn tool_dir(t: &Tools) -> String {
    t.validate
        .parent()
        .expect("tool dir")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn legacy_manifest_mirrors_the_paper_overlay() {
    let Some(t) = tools() else { return };
    let path = common::repo_root().join("k8s/emp-deployment.yaml");
    let text = std::fs::read_to_string(&path).expect("legacy manifest");
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with('#') && l.contains("DEPRECATED")),
        "legacy manifest must open with a DEPRECATED header comment"
    );
    let legacy = Render {
        label: "k8s/emp-deployment.yaml".into(),
        yaml: text.clone(),
        docs: parse_docs(&text),
    };
    assert!(
        !legacy
            .docs
            .iter()
            .any(|d| matches!(kind(d), "Secret" | "SealedSecret")),
        "the legacy manifest must hold no Secret"
    );
    assert_valid(&t, &legacy);

    let tree = tree_copy();
    let paper = render_overlay(tree.path(), "paper");
    // With paper's SealedSecret applied first (as its header says), nothing dangles.
    let sealed = find(&paper.docs, "SealedSecret", "emp-secrets").clone();
    let mut with_secret = legacy.docs.clone();
    with_secret.push(sealed);
    let problems = reference_problems(&with_secret);
    assert!(problems.is_empty(), "legacy: {}", problems.join("\n"));

    // Object for object, it is the paper render without the SealedSecret: same images, Secret
    // name, keys read, mounts, everything.
    let mirror: Vec<&Value> = paper
        .docs
        .iter()
        .filter(|d| kind(d) != "SealedSecret")
        .collect();
    assert_eq!(legacy.docs.len(), mirror.len(), "object count vs paper");
    for (l, p) in legacy.docs.iter().zip(&mirror) {
        assert_eq!(
            l,
            *p,
            "legacy {}/{} differs from paper (regenerate it: see its header)",
            kind(l),
            name(l)
        );
    }
}

#[test]
fn yamllint_is_clean() {
    let Some(t) = tools() else { return };
    let root = common::repo_root();
    let out = Command::new(&t.yamllint)
        .args(["--strict", "-c", ".yamllint.yaml", "k8s/"])
        .current_dir(&root)
        .output()
        .expect("run yamllint");
    assert!(
        out.status.success(),
        "yamllint:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // And it does fail on a lint error under the same configuration.
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("bad.yaml");
    write_file(&bad, b"key: value   \nkey: again\n");
    let out = Command::new(&t.yamllint)
        .arg("--strict")
        .arg("-c")
        .arg(root.join(".yamllint.yaml"))
        .arg(&bad)
        .output()
        .expect("run yamllint");
    assert!(!out.status.success(), "yamllint accepted a broken file");
}

#[test]
fn generators_are_builtin_create_and_unhashed() {
    if tools().is_none() {
        return;
    }
    for env in ["dev", "prod"] {
        let p = common::repo_root().join(format!("k8s/overlays/{env}/secret-generator.yaml"));
        let g: Value = yaml_serde::from_str(&std::fs::read_to_string(p).expect("generator"))
            .expect("generator YAML");
        assert_eq!(g["apiVersion"], "builtin", "{env}");
        assert_eq!(g["kind"], "SecretGenerator", "{env}");
        assert_eq!(g["metadata"]["name"], "emp-secrets", "{env}");
        assert!(
            g["behavior"].is_null() || g["behavior"] == "create",
            "{env}: base has no Secret"
        );
        assert_eq!(g["options"]["disableNameSuffixHash"], true, "{env}");
        assert_eq!(str_list(&g["envs"]), vec![format!("{env}-secrets.env")]);
    }
}

#[test]
fn validation_and_reference_walk_reject_broken_renders() {
    let Some(t) = tools() else { return };
    let tree = tree_copy();
    let paper = render_overlay(tree.path(), "paper");
    let work = tempfile::tempdir().expect("tempdir");

    // Built-in kinds: an unknown field fails kubernetes-validate --strict.
    let broken = paper.yaml.replacen(
        "  revisionHistoryLimit: 5\n",
        "  revisionHistoryLimit: 5\n  replicaz: 2\n",
        1,
    );
    assert_ne!(broken, paper.yaml, "mutation applied");
    let file = work.path().join("broken.yaml");
    write_file(&file, broken.as_bytes());
    assert!(
        !validate_builtin(&t, &file).status.success(),
        "kubernetes-validate accepted an unknown Deployment field"
    );

    // CRD kinds: each mutation must be rejected by its CRD schema.
    let mutate = |k: &str, f: &dyn Fn(&mut Value)| {
        let mut docs = paper.docs.clone();
        let d = docs
            .iter_mut()
            .find(|d| kind(d) == k)
            .expect("kind present");
        f(d);
        let (failures, checked) = check_crds(&t, &docs, work.path());
        assert!(checked >= 3, "CRD documents checked");
        assert!(!failures.is_empty(), "{k}: mutated object accepted");
    };
    mutate("ScaledJob", &|d| {
        d["spec"]["triggers"][0]["metadata"]["listLength"] = json!(5);
    });
    mutate("ScaledJob", &|d| {
        d["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["envfrom"] = json!([]);
    });
    mutate("TriggerAuthentication", &|d| {
        d["spec"]["secretTargetRef"][0]
            .as_object_mut()
            .expect("ref")
            .remove("key");
    });
    mutate("SealedSecret", &|d| {
        d["spec"]
            .as_object_mut()
            .expect("spec")
            .remove("encryptedData");
    });

    // The reference walk: each trap from issue 3 is reported.
    let walk = |f: &dyn Fn(&mut Vec<Value>)| {
        let mut docs = paper.docs.clone();
        f(&mut docs);
        reference_problems(&docs)
    };
    fn get(docs: &[Value], k: &str) -> usize {
        let i = docs.iter().position(|d| kind(d) == k);
        assert!(i.is_some(), "{k} present");
        i.expect("checked above")
    }
    type Mutation = Box<dyn Fn(&mut Vec<Value>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "hashed secret name in TriggerAuthentication",
            Box::new(|docs| {
                let i = get(docs, "TriggerAuthentication");
                docs[i]["spec"]["secretTargetRef"][0]["name"] = json!("emp-secrets-7g9hk2m8tc");
            }),
        ),
        (
            "missing PVC",
            Box::new(|docs| {
                let i = get(docs, "PersistentVolumeClaim");
                docs.remove(i);
            }),
        ),
        (
            "missing ServiceAccount",
            Box::new(|docs| docs.retain(|d| name(d) != "emp-replay-runner")),
        ),
        (
            "prefixed authenticationRef",
            Box::new(|docs| {
                let i = get(docs, "TriggerAuthentication");
                docs[i]["metadata"]["name"] = json!("paper-emp-redis-auth");
            }),
        ),
        (
            "key missing from the SealedSecret",
            Box::new(|docs| {
                let i = get(docs, "SealedSecret");
                docs[i]["spec"]["encryptedData"]
                    .as_object_mut()
                    .expect("encryptedData")
                    .remove("REDIS_PASSWORD");
            }),
        ),
        (
            "renamed Secret via the SealedSecret template",
            Box::new(|docs| {
                let i = get(docs, "SealedSecret");
                docs[i]["spec"]["template"]["metadata"]["name"] = json!("paper-emp-secrets");
            }),
        ),
        (
            "env with both value and valueFrom",
            Box::new(|docs| {
                let i = get(docs, "Deployment");
                docs[i]["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{
                    "name": "X", "value": "1",
                    "valueFrom": {"secretKeyRef": {"name": "emp-secrets", "key": "API_KEY"}}
                }]);
            }),
        ),
        (
            "ScaledJob container list replaced by a strategic merge",
            Box::new(|docs| {
                let i = get(docs, "ScaledJob");
                docs[i]["spec"]["jobTargetRef"]["template"]["spec"]["containers"] = json!([{"name": "replay-worker", "image": "x",
                            "volumeMounts": [{"name": "reports2", "mountPath": "/a"}]}]);
            }),
        ),
    ];
    assert!(
        walk(&|_| {}).is_empty(),
        "the unmutated paper render is whole"
    );
    for (what, f) in cases {
        assert!(!walk(&*f).is_empty(), "reference walk missed: {what}");
    }
}

#[test]
fn legacy_manifest_regenerates_with_its_header_command() {
    let Some(_t) = tools() else { return };
    if common::which("yq").is_none() {
        common::missing("yq (the Python jq wrapper, used by the legacy manifest's header)");
        return;
    }
    let committed =
        std::fs::read_to_string(common::repo_root().join("k8s/emp-deployment.yaml")).expect("read");
    // The command is the header's comment lines between "Regenerate" and the end-of-header line.
    let cmd: String = committed
        .lines()
        .skip_while(|l| !l.starts_with("# Regenerate"))
        .skip(1)
        .take_while(|l| *l != "# end-of-header")
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        cmd.contains("kubectl kustomize k8s/overlays/paper"),
        "{cmd}"
    );
    let tree = tree_copy();
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", &cmd])
        .current_dir(tree.path())
        .output()
        .expect("run regenerate command");
    assert!(
        out.status.success(),
        "regenerate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let regenerated =
        std::fs::read_to_string(tree.path().join("k8s/emp-deployment.yaml")).expect("read");
    let header = |s: &str| -> String {
        s.lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(header(&regenerated), header(&committed), "header kept");
    assert_eq!(
        parse_docs(&regenerated),
        parse_docs(&committed),
        "k8s/emp-deployment.yaml is stale: run the command in its header"
    );
}

#[test]
fn real_env_files_are_ignored_and_examples_tracked() {
    if common::which("git").is_none() {
        common::missing("git");
        return;
    }
    let ignored = |p: &str| {
        Command::new("git")
            .args(["check-ignore", "-q", "--no-index", p])
            .current_dir(common::repo_root())
            .status()
            .expect("run git check-ignore")
            .success()
    };
    for env in ENVS {
        assert!(
            ignored(&format!("k8s/overlays/{env}/{env}-secrets.env")),
            "{env}: real env file must be git-ignored"
        );
    }
    for example in [
        "k8s/overlays/dev/dev-secrets.env.example",
        "k8s/overlays/prod/prod-secrets.env.example",
    ] {
        assert!(!ignored(example), "{example} must stay tracked");
    }
}

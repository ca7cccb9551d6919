//! Issue 6, the secret lifecycle: `cert` (inspect and `--fetch`), several environments in one
//! run, no churn, `unseal` and `diff` (round trips against the PyPI peer), `--migrate` of prod,
//! `init` of dev, completions and the man page. Every test runs the real binary on a temporary
//! copy of the repository's `k8s/` tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use emp_seal::cert::Certificate;
use emp_seal::sealedsecret::SealedSecretFile;
use tempfile::TempDir;

use crate::common::{self, Peer};
use crate::fixtures;

/// Values used in these tests: fake, but shaped like the tricky real ones (spaces, quotes, `#`,
/// `=`, unicode). None may ever appear in an output or error.
pub(crate) const VALUES: [(&str, &str); 3] = [
    ("API_KEY", "sentinel-api key=with # hash"),
    ("POSTGRES_PASSWORD", "\"sentinel-quoted\" ünï"),
    ("REDIS_PASSWORD", "  sentinel-redis  "),
];

/// A temporary repository holding a copy of `k8s/` and a `work/` directory for inputs.
pub(crate) fn tree() -> TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&common::repo_root().join("k8s"), &t.path().join("k8s"));
    std::fs::create_dir_all(t.path().join("work")).expect("mkdir work");
    t
}

pub(crate) fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
}

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

pub(crate) fn env_text(values: &[(&str, &str)]) -> String {
    values.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// `emp-seal -C ROOT ...` with a scrubbed environment.
pub(crate) fn emp(root: &Path) -> Command {
    let mut c = crate::common::emp_seal();
    c.arg("-C").arg(root).current_dir(root);
    c
}

pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn run(root: &Path, args: &[&str]) -> Out {
    let o = emp(root).args(args).output().expect("run emp-seal");
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    for (_, v) in VALUES {
        assert!(
            !out.stderr.contains(v.trim()),
            "a value leaked to stderr: {}",
            out.stderr
        );
    }
    out
}

fn ok(root: &Path, args: &[&str]) -> Out {
    let o = run(root, args);
    assert_eq!(o.code, 0, "{args:?} failed: {}", o.stderr);
    o
}

fn fails(root: &Path, args: &[&str], code: i32, needle: &str) -> Out {
    let o = run(root, args);
    assert_eq!(o.code, code, "{args:?}: {}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains(needle),
        "{args:?}: expected `{needle}` in: {}",
        o.stderr
    );
    for (_, v) in VALUES {
        assert!(
            !o.stdout.contains(v.trim()),
            "value on stdout: {}",
            o.stdout
        );
    }
    o
}

/// Writes the demo key (pairs with paper's shipped certificate) and returns its path.
pub(crate) fn demo_key(root: &Path) -> PathBuf {
    let p = root.join("work/demo-key.pem");
    write(&p, &fixtures::demo_key_pem());
    p
}

/// The paper environment's values, unsealed (`unseal --format env`) with the demo key.
pub(crate) fn unsealed(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let key = demo_key(root);
    let o = run(
        root,
        &["unseal", "paper", "--key", s(&key), "--format", "env"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    emp_seal::envfile::parse(o.stdout.as_bytes())
        .expect("env")
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.value.expose_secret().to_vec()))
        .collect()
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `(key, ciphertext)` of the only SealedSecret in `path`.
pub(crate) fn sealed(path: &Path) -> Vec<(String, String)> {
    let text = read(path);
    let f = SealedSecretFile::parse(&text).expect("parses");
    let (_, d) = f.sealed_secrets().next().expect("a SealedSecret");
    d.encrypted_data
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect()
}

fn paper_file(root: &Path) -> PathBuf {
    root.join("k8s/overlays/paper/sealedsecret.yaml")
}

/// Parses `--format env` output with the library's own parser.
fn parse_env(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    emp_seal::envfile::parse(bytes)
        .expect("env output parses")
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.value.expose_secret().to_vec()))
        .collect()
}

fn expected() -> BTreeMap<String, Vec<u8>> {
    VALUES
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// Seals paper from VALUES with the demo certificate; returns the env file path.
fn seal_paper(root: &Path) -> PathBuf {
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    ok(root, &["paper", "--from", s(&from), "--no-input"]);
    from
}

#[test]
fn issue_6_unseal_round_trips_with_the_peer() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let t = tree();
    let root = t.path();
    seal_paper(root);
    let key = demo_key(root);

    // emp-seal -> peer
    for (k, ct) in sealed(&paper_file(root)) {
        let raw = common::unb64(&ct);
        let plain = peer
            .decrypt(&fixtures::demo_key_pem(), b"emp-paper/emp-secrets", &raw)
            .expect("peer decrypts emp-seal's value");
        assert_eq!(plain, expected()[&k], "{k}");
    }

    // emp-seal -> emp-seal unseal, env and yaml, by environment and by file
    let env_out = ok(
        root,
        &["unseal", "paper", "--key", s(&key), "--format", "env"],
    );
    assert_eq!(parse_env(env_out.stdout.as_bytes()), expected());
    let file = paper_file(root);
    let by_file = ok(
        root,
        &["unseal", s(&file), "--key", s(&key), "--format", "env"],
    );
    assert_eq!(by_file.stdout, env_out.stdout);

    let yaml = ok(root, &["unseal", "paper", "--key", s(&key)]).stdout;
    let doc: serde_json::Value = yaml_serde::from_str(&yaml).expect("yaml output parses");
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["metadata"]["name"], "emp-secrets");
    assert_eq!(doc["metadata"]["namespace"], "emp-paper");
    assert_eq!(
        doc["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "emp"
    );
    assert_eq!(doc["type"], "Opaque");
    let data: BTreeMap<String, Vec<u8>> = doc["data"]
        .as_object()
        .expect("data")
        .iter()
        .map(|(k, v)| (k.clone(), common::unb64(v.as_str().expect("string"))))
        .collect();
    assert_eq!(data, expected());

    // peer -> emp-seal unseal: a SealedSecret written with the peer's ciphertexts (another
    // name and namespace, namespace-wide scope: the label comes from the file itself)
    let cert = fixtures::demo_cert_pem();
    let mut doc = String::from(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: other\n  namespace: elsewhere\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nspec:\n  encryptedData:\n",
    );
    for (k, v) in VALUES {
        let ct = peer.encrypt(&cert, b"elsewhere", v.as_bytes());
        doc.push_str(&format!("    {k}: {}\n", common::b64(&ct)));
    }
    let peer_file = root.join("work/peer-sealed.yaml");
    write(&peer_file, &doc);
    let out = ok(
        root,
        &["unseal", s(&peer_file), "--key", s(&key), "--format", "env"],
    );
    assert_eq!(parse_env(out.stdout.as_bytes()), expected());
    let yaml = ok(root, &["unseal", s(&peer_file), "--key", s(&key)]).stdout;
    assert!(
        yaml.contains("name: other\n  namespace: elsewhere\n"),
        "{yaml}"
    );
}

#[test]
fn issue_6_recovered_env_round_trips_into_from_without_churn() {
    let t = tree();
    let root = t.path();
    seal_paper(root);
    let key = demo_key(root);
    let recovered = ok(
        root,
        &["unseal", "paper", "--key", s(&key), "--format", "env"],
    )
    .stdout;
    let rec_file = root.join("work/recovered.env");
    write(&rec_file, &recovered);
    let before = read(&paper_file(root));

    // Same values + the private key: nothing changes, byte for byte.
    let o = ok(root, &["paper", "--from", s(&rec_file), "--key", s(&key)]);
    assert_eq!(read(&paper_file(root)), before, "{}", o.stderr);

    // One changed value: only that line changes.
    let mut changed = VALUES;
    changed[0].1 = "sentinel-new api key";
    let ch_file = root.join("work/changed.env");
    write(&ch_file, &env_text(&changed));
    ok(root, &["paper", "--from", s(&ch_file), "--key", s(&key)]);
    let after = read(&paper_file(root));
    let diff: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].0.trim_start().starts_with("API_KEY:"));
    let env_out = ok(
        root,
        &["unseal", "paper", "--key", s(&key), "--format", "env"],
    );
    assert_eq!(
        parse_env(env_out.stdout.as_bytes())["API_KEY"],
        b"sentinel-new api key"
    );
}

#[test]
fn issue_6_unseal_accepts_pkcs1_and_controller_secrets_and_tries_every_key() {
    let t = tree();
    let root = t.path();
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    let cert = root.join("work/cert-2048.pem");
    write(&cert, &fixtures::cert_pem(2048));
    ok(root, &["paper", "--from", s(&from), "--cert", s(&cert)]);

    let pkcs1 = root.join("work/pkcs1.pem");
    write(&pkcs1, &fixtures::pkcs1_key_pem());
    let wrong = root.join("work/wrong.pem");
    write(&wrong, &fixtures::key_pem(3072));
    let b64 = common::b64(fixtures::key_pem(2048).as_bytes());
    let yaml_secret = root.join("work/keys.yaml");
    write(
        &yaml_secret,
        &format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-keyold\n    namespace: kube-system\n  type: kubernetes.io/tls\n  data:\n    tls.key: {}\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-keynew\n    namespace: kube-system\n  type: kubernetes.io/tls\n  data:\n    tls.key: {b64}\n",
            common::b64(fixtures::key_pem(3072).as_bytes())
        ),
    );
    let json_secret = root.join("work/key.json");
    write(
        &json_secret,
        &serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"},
            "type": "kubernetes.io/tls", "data": {"tls.key": b64}})
        .to_string(),
    );
    let several = format!("{},{}", s(&wrong), s(&pkcs1));
    for keys in [
        s(&pkcs1),
        s(&yaml_secret),
        s(&json_secret),
        several.as_str(),
    ] {
        let o = ok(root, &["unseal", "paper", "--key", keys, "--format", "env"]);
        assert_eq!(parse_env(o.stdout.as_bytes()), expected(), "{keys}");
    }
    // Only the wrong key: a clear error naming the key, no value, nothing on stdout.
    let o = fails(
        root,
        &["unseal", "paper", "--key", s(&wrong)],
        2,
        "no key could decrypt",
    );
    assert!(o.stdout.is_empty());
    assert!(o.stderr.contains("API_KEY"), "{}", o.stderr);
}

#[test]
fn issue_6_unseal_and_diff_bad_inputs_fail_clearly() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    // The shipped file holds placeholders.
    let o = fails(
        root,
        &["unseal", "paper", "--key", s(&key)],
        2,
        "placeholder",
    );
    assert!(o.stdout.is_empty());
    // Unknown environment.
    fails(
        root,
        &["unseal", "staging", "--key", s(&key)],
        2,
        "unknown environment `staging`",
    );
    fails(
        root,
        &["diff", "staging", "--from", s(&key), "--key", s(&key)],
        2,
        "unknown environment",
    );
    // A key file that is not a key.
    let not_key = root.join("work/not-a-key.pem");
    write(&not_key, "hello\n");
    fails(
        root,
        &["unseal", "paper", "--key", s(&not_key)],
        2,
        "not-a-key.pem",
    );
    // Corrupt ciphertext: one character flipped in the middle of a real value.
    seal_paper(root);
    let file = paper_file(root);
    let text = read(&file);
    let (_, ct) = sealed(&file).remove(0);
    let mid = ct.len() / 2;
    let flipped_char = if &ct[mid..=mid] == "A" { "B" } else { "A" };
    let bad = format!("{}{}{}", &ct[..mid], flipped_char, &ct[mid + 1..]);
    write(&file, &text.replace(&ct, &bad));
    let o = fails(
        root,
        &["unseal", "paper", "--key", s(&key)],
        2,
        "no key could decrypt",
    );
    assert!(o.stdout.is_empty());
    let from = root.join("work/in.env");
    fails(
        root,
        &["diff", "paper", "--from", s(&from), "--key", s(&key)],
        2,
        "no key could decrypt",
    );
}

/// A SealedSecret whose values are the legacy `spec.data` blob (one ciphertext of a whole Secret,
/// which emp-seal does not decrypt) is refused by every command that decrypts, `diff` included:
/// it must not list the env file's keys as "not sealed yet" (exit 1) as if nothing were sealed.
#[test]
fn legacy_spec_data_is_refused_by_unseal_diff_and_reseal() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    let file = paper_file(root);
    let text = read(&file);
    let start = text.find("  encryptedData:").expect("encryptedData");
    let end = text.find("  template:").expect("template");
    let legacy = format!(
        "{}  data: AgBvbGQtc3R5bGUtYmxvYg==\n{}",
        &text[..start],
        &text[end..]
    );
    write(&file, &legacy);
    for args in [
        &["unseal", "paper", "--key", s(&key)][..],
        &["diff", "paper", "--from", s(&from), "--key", s(&key)],
        &["reseal", "paper", "--key", s(&key)],
    ] {
        let o = fails(root, args, 2, "legacy `spec.data` blob");
        assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
    }
    assert_eq!(read(&file), legacy, "a refusal changes nothing");
}

#[test]
fn issue_6_diff_shows_keys_never_values() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    // Before sealing: every key is a placeholder.
    let o = run(
        root,
        &["diff", "paper", "--from", s(&from), "--key", s(&key)],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout.matches("placeholder").count(), 3, "{}", o.stdout);

    seal_paper(root);
    let o = ok(
        root,
        &["diff", "paper", "--from", s(&from), "--key", s(&key)],
    );
    assert_eq!(o.stdout.lines().filter(|l| l.starts_with("= ")).count(), 3);

    let other = root.join("work/other.env");
    write(
        &other,
        "API_KEY=sentinel-api key=with # hash\nPOSTGRES_PASSWORD=sentinel-different\nNEW_KEY=sentinel-new\n",
    );
    let o = run(
        root,
        &["diff", "paper", "--from", s(&other), "--key", s(&key)],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let lines: BTreeSet<&str> = o.stdout.lines().skip(1).collect();
    let marks: BTreeSet<String> = lines
        .iter()
        .map(|l| l.split("  ").next().unwrap_or("").to_owned())
        .collect();
    let want: BTreeSet<String> = [
        "= API_KEY",
        "~ POSTGRES_PASSWORD",
        "+ NEW_KEY",
        "- REDIS_PASSWORD",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(marks, want, "{}", o.stdout);
    for v in ["sentinel-different", "sentinel-new", "sentinel-api"] {
        assert!(!o.stdout.contains(v) && !o.stderr.contains(v));
    }
}

/// Migrates prod with the 2048-bit test certificate as its sealing certificate.
fn migrate_prod(root: &Path) -> PathBuf {
    let prod = root.join("k8s/overlays/prod");
    write(&prod.join("sealing-cert.pem"), &fixtures::cert_pem(2048));
    let from = prod.join("prod-secrets.env");
    write(&from, &env_text(&VALUES));
    ok(
        root,
        &["seal", "prod", "--from", "prod-secrets.env", "--migrate"],
    );
    from
}

/// `(name, namespace, keys, labels)` of the rendered object of `kind` named emp-secrets.
fn rendered_secret(
    yaml: &str,
    kind: &str,
    keys_field: &[&str],
) -> (String, String, BTreeSet<String>, serde_json::Value) {
    yaml.split("\n---\n")
        .find_map(|d| {
            let v: serde_json::Value = yaml_serde::from_str(d).expect("rendered yaml");
            if v["kind"] != kind {
                return None;
            }
            let mut data = &v;
            for f in keys_field {
                data = &data[*f];
            }
            let keys = data
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let labels = if kind == "Secret" {
                v["metadata"]["labels"].clone()
            } else {
                v["spec"]["template"]["metadata"]["labels"].clone()
            };
            Some((
                v["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                v["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
                keys,
                labels,
            ))
        })
        .expect("the render holds the object")
}

#[test]
fn issue_6_migrate_prod_renders_the_same_secret() {
    if common::kubectl().is_none() {
        return;
    }
    let t = tree();
    let root = t.path();
    let prod = root.join("k8s/overlays/prod");
    let example = prod.join("prod-secrets.env.example");
    std::fs::copy(&example, prod.join("prod-secrets.env")).expect("copy example");
    let before = common::kustomize(&prod);
    let (name, ns, keys, labels) = rendered_secret(&before, "Secret", &["data"]);
    let old_kust = read(&prod.join("kustomization.yaml"));

    migrate_prod(root);
    // The header's command names the subcommand: the short form `emp-seal ENV` is refused for
    // an environment named like a subcommand (`release`, `m`).
    let sealed = read(&prod.join("sealedsecret.yaml"));
    assert!(
        sealed.contains("\n#   emp-seal seal prod --from "),
        "{sealed}"
    );

    let after = common::kustomize(&prod);
    assert!(
        !after.contains("\nkind: Secret\n"),
        "no plain Secret after migrating"
    );
    let (n2, ns2, k2, l2) = rendered_secret(&after, "SealedSecret", &["spec", "encryptedData"]);
    assert_eq!((n2, ns2, k2), (name, ns, keys));
    assert_eq!(l2, labels, "template labels are the generator's");
    // The no-KEDA variant of prod renders too.
    common::kustomize(&root.join("k8s/no-keda/prod"));

    // The kustomization: every comment kept, the generator gone, the SealedSecret listed.
    let new_kust = read(&prod.join("kustomization.yaml"));
    for l in old_kust.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(new_kust.contains(l), "comment lost: {l}\n{new_kust}");
    }
    assert!(!new_kust.contains("generators:"), "{new_kust}");
    assert!(new_kust.contains("  - sealedsecret.yaml\n"), "{new_kust}");
    assert!(
        prod.join("secret-generator.yaml").is_file(),
        "generator file left on disk"
    );

    // The values decrypt for the rendered identity.
    let key = root.join("work/k.pem");
    write(&key, &fixtures::key_pem(2048));
    let o = ok(
        root,
        &["unseal", "prod", "--key", s(&key), "--format", "env"],
    );
    assert_eq!(parse_env(o.stdout.as_bytes()), expected());

    // Migrating again is refused; sealing normally now works, with several environments at
    // once, each with its own certificate.
    fails(
        root,
        &["seal", "prod", "--from", "prod-secrets.env", "--migrate"],
        2,
        "already renders a SealedSecret",
    );
    let from = root.join("work/both.env");
    let mut changed = VALUES;
    changed[2].1 = "sentinel-both";
    write(&from, &env_text(&changed));
    let o = ok(
        root,
        &["seal", "paper", "prod", "--from", s(&from), "--no-input"],
    );
    assert!(o.stderr.contains("paper:") && o.stderr.contains("prod:"));
    let demo = demo_key(root);
    let p = ok(
        root,
        &["unseal", "paper", "--key", s(&demo), "--format", "env"],
    );
    let q = ok(
        root,
        &["unseal", "prod", "--key", s(&key), "--format", "env"],
    );
    assert_eq!(p.stdout, q.stdout);
    assert_eq!(
        parse_env(q.stdout.as_bytes())["REDIS_PASSWORD"],
        b"sentinel-both"
    );
    // The demo key does not open prod's values: each environment used its own certificate.
    fails(
        root,
        &["unseal", "prod", "--key", s(&demo)],
        2,
        "no key could decrypt",
    );
}

#[test]
fn issue_6_several_environments_are_all_or_nothing() {
    let t = tree();
    let root = t.path();
    migrate_prod(root);
    let paper_before = read(&paper_file(root));
    let prod_file = root.join("k8s/overlays/prod/sealedsecret.yaml");
    let prod_before = read(&prod_file);
    // prod's certificate now expired: paper must not be written either.
    let Some((expired, _)) = fixtures::make_cert(2048, -30, -1) else {
        return;
    };
    write(&root.join("k8s/overlays/prod/sealing-cert.pem"), &expired);
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    fails(
        root,
        &["seal", "paper", "prod", "--from", s(&from), "--no-input"],
        2,
        "expired",
    );
    assert_eq!(read(&paper_file(root)), paper_before);
    assert_eq!(read(&prod_file), prod_before);
    // dev has no SealedSecret: refused, nothing written.
    fails(
        root,
        &["seal", "paper", "dev", "--from", s(&from), "--no-input"],
        2,
        "dev",
    );
    assert_eq!(read(&paper_file(root)), paper_before);
}

#[test]
fn issue_6_migrate_refusals_change_nothing() {
    let t = tree();
    let root = t.path();
    let prod = root.join("k8s/overlays/prod");
    write(&prod.join("prod-secrets.env"), &env_text(&VALUES));
    let snapshot = |root: &Path| -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for e in std::fs::read_dir(root.join("k8s/overlays/prod")).expect("dir") {
            let p = e.expect("entry").path();
            m.insert(p.display().to_string(), read(&p));
        }
        m
    };
    // No certificate.
    let before = snapshot(root);
    fails(
        root,
        &["seal", "prod", "--from", "prod-secrets.env", "--migrate"],
        2,
        "no sealing certificate",
    );
    assert_eq!(snapshot(root), before);
    // With a hash suffix the Secret's name would change under the workloads.
    write(&prod.join("sealing-cert.pem"), &fixtures::cert_pem(2048));
    let generator = prod.join("secret-generator.yaml");
    let gen_text = read(&generator);
    write(
        &generator,
        &gen_text.replace(
            "disableNameSuffixHash: true",
            "disableNameSuffixHash: false",
        ),
    );
    let before = snapshot(root);
    let o = fails(
        root,
        &["seal", "prod", "--from", "prod-secrets.env", "--migrate"],
        2,
        "content hash",
    );
    assert!(o.stderr.contains("disableNameSuffixHash"), "{}", o.stderr);
    assert_eq!(snapshot(root), before);
    write(&generator, &gen_text);
    // A missing key (the workloads read REDIS_PASSWORD) without a terminal.
    write(
        &prod.join("prod-secrets.env"),
        "API_KEY=a\nPOSTGRES_PASSWORD=b\n",
    );
    let before = snapshot(root);
    fails(
        root,
        &[
            "seal",
            "prod",
            "--from",
            "prod-secrets.env",
            "--migrate",
            "--no-input",
        ],
        2,
        "REDIS_PASSWORD",
    );
    assert_eq!(snapshot(root), before);
    // paper has nothing to migrate.
    fails(
        root,
        &["seal", "paper", "--from", "prod-secrets.env", "--migrate"],
        2,
        "already renders a SealedSecret",
    );
}

#[test]
fn issue_6_init_dev_without_input_keeps_the_example() {
    let t = tree();
    let root = t.path();
    let dev = root.join("k8s/overlays/dev");
    let file = dev.join("dev-secrets.env");
    // Not a terminal and no --no-input: refused.
    fails(root, &["init", "dev"], 2, "not on a terminal");
    assert!(!file.exists());
    let o = ok(root, &["init", "dev", "--no-input"]);
    assert!(
        o.stderr.contains("dev-secrets.env: created from"),
        "{}",
        o.stderr
    );
    assert_eq!(read(&file), read(&dev.join("dev-secrets.env.example")));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Exists: left untouched, nothing to do (exit 0); --force replaces it.
    write(&file, "API_KEY=mine\n");
    let o = ok(root, &["init", "dev", "--no-input"]);
    assert!(o.stderr.contains("nothing to do"), "{}", o.stderr);
    assert_eq!(read(&file), "API_KEY=mine\n");
    let o = ok(root, &["init", "dev", "--no-input", "--force"]);
    assert!(
        o.stderr.contains("dev-secrets.env: replaced from"),
        "{}",
        o.stderr
    );
    assert_eq!(read(&file), read(&dev.join("dev-secrets.env.example")));
    // A read-only env file is not replaced, even with --force; and it is refused before any
    // prompt (not on a terminal, the refusal is that one, not "not on a terminal").
    write(&file, "API_KEY=mine\n");
    let mut perms = std::fs::metadata(&file).expect("stat").permissions();
    perms.set_mode(0o400);
    std::fs::set_permissions(&file, perms).expect("chmod");
    for args in [
        &["init", "dev", "--force"][..],
        &["init", "dev", "--force", "--no-input"],
    ] {
        let o = fails(
            root,
            args,
            2,
            "dev-secrets.env: the file is read-only (mode 0400)",
        );
        assert!(!o.stderr.contains("not on a terminal"), "{}", o.stderr);
    }
    assert_eq!(read(&file), "API_KEY=mine\n");
    std::fs::remove_file(&file).expect("rm");
    ok(root, &["init", "dev", "--no-input"]);
    // paper's Secret is sealed, not generated.
    fails(
        root,
        &["init", "paper", "--no-input"],
        2,
        "does not come from an env file",
    );
    fails(
        root,
        &["init", "staging", "--no-input"],
        2,
        "unknown environment",
    );
    if common::kubectl().is_none() {
        return;
    }
    let (name, ns, keys, _) = rendered_secret(&common::kustomize(&dev), "Secret", &["data"]);
    assert_eq!((name.as_str(), ns.as_str()), ("emp-secrets", "emp-dev"));
    assert_eq!(keys.len(), 3);
}

#[test]
fn issue_6_cert_reports_identity_usage_and_sealing() {
    let t = tree();
    let root = t.path();
    let pem = read(&root.join("k8s/overlays/paper/sealing-cert.pem"));
    let c = Certificate::from_pem(pem.as_bytes()).expect("demo cert");
    let o = ok(root, &["cert", "paper"]);
    for needle in [
        c.subject(),
        "RSA 4096 bits",
        &c.sha256_fingerprint(),
        &c.ssh_fingerprint(),
        &emp_seal::cert::rfc3339(c.not_after()),
        "days left",
        "used by      paper",
        "not sealed yet",
        "demo         yes",
    ] {
        assert!(o.stdout.contains(needle), "missing {needle}:\n{}", o.stdout);
    }
    seal_paper(root);
    let o = ok(root, &["cert", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(v["version"], 1);
    let certs = v["certificates"].as_array().expect("array");
    assert_eq!(certs.len(), 1, "only paper has a certificate");
    assert_eq!(certs[0]["sha256"], c.sha256_fingerprint());
    assert_eq!(certs[0]["used_by"][0], "paper");
    assert_eq!(certs[0]["sealed"][0]["state"], "this");
    // Another certificate by path: used by no overlay, paper not sealed with it.
    let other = root.join("work/other.pem");
    write(&other, &fixtures::cert_pem(2048));
    let o = ok(root, &["cert", s(&other)]);
    assert!(o.stdout.contains("used by      no overlay"), "{}", o.stdout);
    assert!(
        o.stdout.contains("sealed with another certificate"),
        "{}",
        o.stdout
    );
    // An expired certificate is shown, and the exit code says so.
    if let Some((expired, _)) = fixtures::make_cert(2048, -30, -2) {
        let p = root.join("work/expired.pem");
        write(&p, &expired);
        let o = run(root, &["cert", s(&p)]);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(o.stdout.contains("EXPIRED 2 days ago"), "{}", o.stdout);
    }
    fails(root, &["cert", "prod"], 2, "no sealing certificate");
    fails(root, &["cert", "staging"], 2, "unknown environment");
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 answering every request with `response`.
fn serve(response: Vec<u8>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            assert!(req.starts_with(b"GET /v1/cert.pem HTTP/1.1\r\n"));
            let _ = stream.write_all(&response);
        }
    });
    (port, h)
}

fn http(status: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn issue_6_cert_fetch_checks_before_replacing() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealing-cert.pem");
    let original = read(&target);
    let url = |port: u16| format!("http://127.0.0.1:{port}/v1/cert.pem");

    // Not a certificate.
    let (port, h) = serve(http("200 OK", b"<html>login</html>\n"));
    fails(
        root,
        &["cert", "paper", "--fetch", &url(port)],
        2,
        "not a usable certificate",
    );
    h.join().expect("server");
    assert_eq!(read(&target), original);
    // 404.
    let (port, h) = serve(http("404 Not Found", b"404 page not found\n"));
    fails(root, &["cert", "paper", "--fetch", &url(port)], 2, "404");
    h.join().expect("server");
    assert_eq!(read(&target), original);
    // Unreachable: a port nobody listens on any more.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    fails(
        root,
        &["cert", "paper", "--fetch", &url(port)],
        2,
        "cannot connect",
    );
    assert_eq!(read(&target), original);
    // An unreachable https port is the same clear error (https itself: fetch_https.rs); so is
    // a URL without scheme.
    fails(
        root,
        &[
            "cert",
            "paper",
            "--fetch",
            "https://127.0.0.1:1/v1/cert.pem",
        ],
        2,
        "cannot connect",
    );
    fails(
        root,
        &["cert", "paper", "--fetch", "127.0.0.1/x"],
        2,
        "not a URL",
    );
    fails(
        root,
        &["cert", "--fetch", &url(1)],
        2,
        "needs an environment",
    );
    // An expired certificate is refused.
    if let Some((expired, _)) = fixtures::make_cert(2048, -30, -1) {
        let (port, h) = serve(http("200 OK", expired.as_bytes()));
        fails(
            root,
            &["cert", "paper", "--fetch", &url(port)],
            2,
            "expired",
        );
        h.join().expect("server");
        assert_eq!(read(&target), original);
    }
    // A good certificate replaces the old one, byte for byte (chunked transfer).
    let pem = fixtures::cert_pem(3072);
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let (a, b) = pem.as_bytes().split_at(100);
    for part in [a, b] {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (port, h) = serve(chunked);
    let o = ok(root, &["cert", "paper", "--fetch", &url(port)]);
    h.join().expect("server");
    assert_eq!(read(&target), pem);
    assert!(o.stderr.contains("replaced"), "{}", o.stderr);
    // file:// URLs, to a path target.
    let src = root.join("work/src.pem");
    write(&src, &fixtures::cert_pem(4096));
    let dst = root.join("work/saved.pem");
    ok(
        root,
        &["cert", s(&dst), "--fetch", &format!("file://{}", s(&src))],
    );
    assert_eq!(read(&dst), fixtures::cert_pem(4096));
    let o = fails(
        root,
        &["cert", s(&dst), "--fetch", "file:///nonexistent/cert.pem"],
        2,
        "no such file",
    );
    // The hint is about the file, not about reaching a controller.
    assert!(
        o.stderr.contains("help: a file:// URL names a local file"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("port-forward"), "{}", o.stderr);
}

#[test]
fn issue_6_completions_and_man_page() {
    let t = tree();
    let root = t.path();
    for (shell, checker) in [
        ("bash", Some(("bash", "-n"))),
        ("zsh", Some(("zsh", "-n"))),
        ("fish", Some(("fish", "--no-execute"))),
        ("powershell", None),
    ] {
        let o = ok(root, &["completions", shell]);
        assert!(o.stdout.contains("emp-seal"), "{shell}");
        for sub in ["unseal", "diff", "init", "cert"] {
            assert!(o.stdout.contains(sub), "{shell} lacks {sub}");
        }
        let Some((prog, flag)) = checker else {
            continue;
        };
        if common::which(prog).is_none() {
            common::missing(prog); // .ci/setup.sh installs bash, zsh and fish
            continue;
        }
        let script = root.join(format!("work/completion.{shell}"));
        write(&script, &o.stdout);
        let st = std::process::Command::new(prog)
            .arg(flag)
            .arg(&script)
            .output()
            .expect("run shell");
        assert!(
            st.status.success(),
            "{prog} {flag}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let o = ok(root, &["man"]);
    assert!(
        o.stdout.starts_with(".ie") || o.stdout.contains(".TH"),
        "roff"
    );
    assert!(o.stdout.contains("emp\\-seal"), "{}", &o.stdout[..200]);
    let page = root.join("work/emp-seal.1");
    write(&page, &o.stdout);
    let rendered = if common::which("groff").is_some() {
        std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&page)
            .output()
            .ok()
    } else if common::which("man").is_some() {
        std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .ok()
    } else {
        None
    };
    match rendered {
        Some(r) => assert!(
            r.status.success(),
            "man page: {}",
            String::from_utf8_lossy(&r.stderr)
        ),
        None => common::missing("groff or man, to render the man page"),
    }
}

/// A line without `=` is very often a piece of a value (a pasted password, a line of a PEM or
/// JSON value), so no command may print it as a key name. Shaped like a key (short, an
/// environment-variable name), it passes every "looks like a value" heuristic.
const BARE: &str = "S3CRETxyz";

/// Neither stream holds `BARE`.
fn assert_not_echoed(o: &Out) {
    assert!(
        !o.stdout.contains(BARE) && !o.stderr.contains(BARE),
        "a line without '=' was printed: {}{}",
        o.stdout,
        o.stderr
    );
}

#[test]
fn diff_refuses_a_line_without_equals_without_echoing_it() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    seal_paper(root);
    let from = root.join("work/bare.env");
    let text = format!("{}{BARE}\n", env_text(&VALUES));
    write(&from, &text);
    let o = fails(
        root,
        &["diff", "paper", "--from", s(&from), "--key", s(&key)],
        2,
        "bare.env:4 has no '='",
    );
    assert_not_echoed(&o);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert_eq!(
        o.stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{}",
        o.stderr
    );
    assert_eq!(read(&from), text, "diff changed its input");
}

/// A patch that removes a key of the SealedSecret (a JSON 6902 `remove`): the render holds no
/// value for it, which `unseal` still printed and `diff` still called "same". Both refuse now,
/// naming the key, and change nothing.
#[test]
fn unseal_and_diff_refuse_a_key_a_patch_removes() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    let from = seal_paper(root);
    let k = root.join("k8s/overlays/paper/kustomization.yaml");
    let patch = "  - target: {kind: SealedSecret, name: emp-secrets}\n    patch: |-\n      - op: remove\n        path: /spec/encryptedData/API_KEY\n";
    let text = read(&k);
    assert!(text.contains("\npatches:\n"), "{text}");
    write(
        &k,
        &text.replacen("\npatches:\n", &format!("\npatches:\n{patch}"), 1),
    );
    if common::kubectl().is_some() {
        let render = common::kustomize(&root.join("k8s/overlays/paper"));
        assert!(
            render.contains("REDIS_PASSWORD:") && !render.contains("API_KEY:"),
            "{render}"
        );
    }
    let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&sealed);
    for args in [
        vec!["unseal", "paper", "--key", s(&key), "--format", "env"],
        vec!["diff", "paper", "--from", s(&from), "--key", s(&key)],
    ] {
        let o = fails(
            root,
            &args,
            2,
            "`API_KEY` of SealedSecret `emp-secrets` is removed by a patch",
        );
        assert!(o.stdout.is_empty(), "{}", o.stdout);
    }
    assert_eq!(read(&sealed), before);
}

/// `--from -` with `--key -`: the second reader got nothing and failed with a misleading PEM or
/// empty-pipe message. Both are refused first, nothing read or written.
#[test]
fn standard_input_named_twice_is_refused() {
    let t = tree();
    let root = t.path();
    let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&sealed);
    for args in [
        &["paper", "--from", "-", "--key", "-", "--no-input"][..],
        &["diff", "paper", "--from", "-", "--key", "-"][..],
        &[
            "diff",
            "paper",
            "--from",
            "/dev/stdin",
            "--key",
            "/dev/stdin",
        ][..],
        &["unseal", "paper", "--key", "-", "--key", "-"][..],
    ] {
        fails(root, args, 2, "standard input is named twice");
    }
    assert_eq!(read(&sealed), before);
}

/// A line with nothing before its `=` is dropped by kustomize without a word (`check` calls it
/// the error `env-empty-key`): `seal`, `--strict` or not, and `diff` refuse it by line, never
/// printing its value, and write nothing.
#[test]
fn seal_and_diff_refuse_a_line_with_an_empty_key() {
    let t = tree();
    let root = t.path();
    let key = demo_key(root);
    seal_paper(root);
    let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&sealed);
    let from = root.join("work/empty-key.env");
    let text = format!("{}={BARE}\n", env_text(&VALUES));
    write(&from, &text);
    for args in [
        vec!["paper", "--from", s(&from), "--no-input"],
        vec!["paper", "--from", s(&from), "--no-input", "--strict"],
        vec!["diff", "paper", "--from", s(&from), "--key", s(&key)],
    ] {
        let o = fails(root, &args, 2, "empty-key.env:4 has nothing before '='");
        assert_not_echoed(&o);
    }
    assert_eq!(read(&sealed), before, "a refused seal wrote");
    assert_eq!(read(&from), text);
}

#[test]
fn init_refuses_an_example_line_without_equals_without_echoing_it() {
    let t = tree();
    let root = t.path();
    let dev = root.join("k8s/overlays/dev");
    let example = dev.join("dev-secrets.env.example");
    let text = format!("# a comment\nAPI_KEY=\n{BARE}\nREDIS_PASSWORD=\n");
    write(&example, &text);
    let o = fails(
        root,
        &["init", "dev", "--no-input"],
        2,
        "k8s/overlays/dev/dev-secrets.env.example:3 has no '='",
    );
    assert_not_echoed(&o);
    assert!(!dev.join("dev-secrets.env").exists(), "a file was written");
    assert_eq!(read(&example), text);
}

/// `check` counts an example's line without `=` as a key (kustomize v5 reads one there) and
/// reports the SealedSecret lacking it; `seal` never asks for that key by name (it may be a
/// pasted value), so it refuses, naming only the line, until FILE gives the key: the two agree.
#[test]
fn seal_refuses_an_example_line_without_equals_that_from_lacks() {
    let t = tree();
    let root = t.path();
    let example = root.join("k8s/overlays/paper/paper-secrets.env.example");
    let keys = "API_KEY=\nPOSTGRES_PASSWORD=\nREDIS_PASSWORD=\n";
    write(&example, &format!("{keys}{BARE}\n"));
    let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&sealed);
    let mismatch = |root: &Path| {
        let o = run(root, &["check"]);
        assert_not_echoed(&o);
        o.stdout.contains("example-sealed-mismatch") && o.stdout.contains("line 4 of")
    };
    assert!(mismatch(root), "check does not count the line without '='");
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    let o = fails(
        root,
        &["paper", "--from", s(&from), "--no-input"],
        2,
        "k8s/overlays/paper/paper-secrets.env.example:4 has no '='",
    );
    assert_not_echoed(&o);
    assert_eq!(read(&sealed), before, "a refused seal wrote");
    // FILE gives that key: sealed, and `check` no longer finds it missing.
    write(&from, &format!("{}{BARE}=v\n", env_text(&VALUES)));
    let o = run(root, &["paper", "--from", s(&from), "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(root, &["check"]);
    assert!(
        !o.stdout.contains("example-sealed-mismatch"),
        "{}",
        o.stdout
    );
}

/// `reseal` and `unseal` without `--name` on an overlay kustomize would not build report its
/// build error (file, line; exit 2) before anything else, as `seal` does: `reseal` wrote
/// nothing, and `unseal` did not open the values under the labels of the model's guess. Also when
/// the broken overlay no longer lists its SealedSecret and generates the Secret instead: they
/// said "renders no SealedSecret" and hinted at `--migrate`.
#[test]
fn reseal_and_unseal_report_the_build_error_first() {
    let generated =
        "  - missing.yaml\nsecretGenerator:\n  - name: emp-secrets\n    literals: [A=]\n";
    for listed in ["  - sealedsecret.yaml\n  - missing.yaml\n", generated] {
        let t = tree();
        let root = t.path();
        seal_paper(root);
        let k = root.join("k8s/overlays/paper/kustomization.yaml");
        let text = read(&k).replace("  - sealedsecret.yaml\n", listed);
        write(&k, &text);
        if common::kubectl().is_some() {
            assert!(
                !common::kustomize_raw(&k.with_file_name(""))
                    .status
                    .success()
            );
        }
        let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
        let before = read(&sealed);
        let key = demo_key(root);
        let line = 1 + text.lines().position(|l| l == "  - missing.yaml").unwrap();
        let want = format!(
            "error: k8s/overlays/paper/kustomization.yaml:{line}: resource `missing.yaml` does not exist"
        );
        for args in [
            &["reseal", "paper", "--key", s(&key)][..],
            &[
                "unseal",
                "paper",
                "--key",
                s(&key),
                "--format",
                "env",
                "--reveal",
            ],
        ] {
            let o = fails(root, args, 2, &want);
            assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
            assert_eq!(read(&sealed), before, "{args:?} wrote");
        }
    }
}

/// Paper's example gains `API_TOKEN` on a line without `=`, and a Deployment of the overlay reads
/// that key from the rendered Secret by name (`secretKeyRef`): a key, however the example writes
/// it. The real render is checked to read it.
pub(crate) fn bare_example_key_read_by_a_workload(root: &Path) {
    let paper = root.join("k8s/overlays/paper");
    let keys = "API_KEY=\nPOSTGRES_PASSWORD=\nREDIS_PASSWORD=\n";
    write(
        &paper.join("paper-secrets.env.example"),
        &format!("{keys}API_TOKEN\n"),
    );
    let reader = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: token-reader\nspec:\n  selector:\n    matchLabels: {app: r}\n  template:\n    metadata:\n      labels: {app: r}\n    spec:\n      containers:\n        - name: c\n          image: busybox\n          env:\n            - name: API_TOKEN\n              valueFrom:\n                secretKeyRef: {name: emp-secrets, key: API_TOKEN}\n";
    write(&paper.join("reader.yaml"), reader);
    let k = paper.join("kustomization.yaml");
    let text = read(&k).replace(
        "  - sealedsecret.yaml\n",
        "  - sealedsecret.yaml\n  - reader.yaml\n",
    );
    write(&k, &text);
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&paper);
        let reads = "secretKeyRef:\n              key: API_TOKEN\n              name: emp-secrets";
        assert!(rendered.contains(reads), "{rendered}");
        assert!(rendered.contains("kind: SealedSecret\nmetadata:\n  name: emp-secrets"));
    }
}

/// A key an example writes without `=` that a workload reads by name is asked for like any
/// other key the overlay needs (it was refused as a possible piece of a pasted value): without a
/// terminal, asking is failing with the keys listed (issue 6), not naming the example's line.
#[test]
fn seal_asks_for_a_bare_example_key_a_workload_reads() {
    let t = tree();
    let root = t.path();
    bare_example_key_read_by_a_workload(root);
    let sealed = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&sealed);
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    // No terminal (stdin is closed), with and without --no-input.
    for extra in [&[][..], &["--no-input"]] {
        let mut args = vec!["paper", "--from", s(&from)];
        args.extend_from_slice(extra);
        let o = fails(
            root,
            &args,
            2,
            "in.env lacks keys the overlay needs: API_TOKEN",
        );
        assert!(!o.stderr.contains("has no '='"), "{}", o.stderr);
        assert_eq!(read(&sealed), before, "a refused seal wrote");
    }
}

/// An example larger than the 8 MiB an env file to seal may be, but within the 16 MiB `check`
/// reads the tree's files with: `seal` read it with the smaller limit, took it as unreadable and
/// asked for none of its keys, while `check` read it and reported the key missing. Both read it.
#[test]
fn seal_reads_a_large_example_as_check_does() {
    let t = tree();
    let root = t.path();
    let example = root.join("k8s/overlays/paper/paper-secrets.env.example");
    let padding = format!("# {}\n", "x".repeat(1022)).repeat(9 * 1024);
    let keys = "API_KEY=\nPOSTGRES_PASSWORD=\nREDIS_PASSWORD=\nNEW_KEY=\n";
    write(&example, &format!("{keys}{padding}"));
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    fails(
        root,
        &["paper", "--from", s(&from), "--no-input"],
        2,
        "NEW_KEY",
    );
}

//! Issue 16 item 5 through the real binary: `seal ENV --from FILE --migrate` from an inline
//! `secretGenerator:` entry (envs and literals) as well as from a generator file, with and
//! without a hash suffix and `--keep-name`, refused while a reference would dangle (so is a `namePrefix`
//! without a hash suffix). Each case renders the overlay with the real
//! `kubectl kustomize` before and after: the SealedSecret has the generated Secret's name,
//! namespace and labels, and the Python peer opens every value under the rendered identity's
//! label to exactly the data kustomize generated.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{self, Peer};
use crate::fixtures;
use crate::lifecycle::{Out, emp, read, write};

/// Values of the env file and the literal: fake, shaped like real ones. None may be printed.
const ENV: &str = "DB_PASSWORD=sentinel-db pw # not a comment\nAPI_URL=https://x?a=b\n";
const SECRETS: [&str; 3] = ["sentinel-db", "https://x?a=b", "sentinel-literal"];

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          env:\n            - name: DB\n              valueFrom:\n                secretKeyRef: {name: app-secrets, key: DB_PASSWORD}\n          envFrom:\n            - secretRef: {name: app-secrets}\n";

/// A repository with a base Deployment reading `app-secrets` and a `stage` overlay whose
/// kustomization is `kustomization` (its env file `app.env`, its certificate the 2048-bit one).
fn repo(kustomization: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let k8s = t.path().join("k8s");
    write(
        &k8s.join("base/kustomization.yaml"),
        "resources:\n  - deployment.yaml\n",
    );
    write(&k8s.join("base/deployment.yaml"), DEPLOYMENT);
    let stage = k8s.join("overlays/stage");
    write(&stage.join("kustomization.yaml"), kustomization);
    write(&stage.join("app.env"), ENV);
    write(&stage.join("sealing-cert.pem"), &fixtures::cert_pem(2048));
    t
}

/// An inline generator reading `app.env` and a quoted literal, with `options` and
/// `generatorOptions` labels; `hash` decides whether kustomize appends a content hash.
fn inline_kustomization(hash: bool, extra: &str) -> String {
    format!(
        "# stage overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: app-stage\n{extra}resources:\n  - ../../base\ngeneratorOptions:\n  labels:\n    team: core\nsecretGenerator:\n  # the app's secrets\n  - name: app-secrets\n    envs:\n      - app.env # untracked\n    literals:\n      - TOKEN=\"sentinel-literal\"\n    options:\n      disableNameSuffixHash: {}\n      labels:\n        app: app\nconfigMapGenerator:\n  - name: settings\n    literals: [MODE=stage]\n",
        !hash
    )
}

/// `--migrate --keep-name` of the `stage` overlay from `from`.
fn keep_name(from: &str) -> Vec<&str> {
    migrate_args("stage", from, &["--no-input", "--keep-name"])
}
/// `seal ENV --from FROM --migrate` and the `extra` arguments.
fn migrate_args<'a>(env: &'a str, from: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["seal", env, "--from", from, "--migrate"];
    args.extend_from_slice(extra);
    args
}

/// A refusal: exit 2, and its first `error:` line.
fn refused(o: &Out) -> &str {
    assert_eq!(o.code, 2, "{}", o.stderr);
    o.stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
}

/// A refusal (exit 2) by `by` (`--keep-name` or `--migrate`) naming the Deployment's two
/// references to `app-secrets` by file and line, with each of `hints` in the output.
fn assert_refused_dangling(o: &Out, by: &str, hints: &[&str]) {
    let first = refused(o);
    assert!(
        first.starts_with("error: k8s/overlays/stage/kustomization.yaml")
            && first.contains(&format!("{by} would leave 2 reference(s) to `app-secrets`"))
            && first.contains("nothing was written")
            && first.contains(
                "Deployment/p-app (k8s/base/deployment.yaml:18), Deployment/p-app (k8s/base/deployment.yaml:20)"
            ),
        "{}",
        o.stderr
    );
    for needle in hints {
        assert!(o.stderr.contains(needle), "{needle}: {}", o.stderr);
    }
}

fn run(root: &Path, args: &[&str]) -> Out {
    let o = emp(root).args(args).output().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    for v in SECRETS {
        assert!(
            !out.stdout.contains(v) && !out.stderr.contains(v),
            "a value was printed: {}{}",
            out.stdout,
            out.stderr
        );
    }
    out
}

/// The rendered document of `kind`, as JSON.
fn rendered(yaml: &str, kind: &str) -> serde_json::Value {
    yaml.split("\n---\n")
        .map(|d| yaml_serde::from_str::<serde_json::Value>(d).unwrap())
        .find(|v| v["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the render:\n{yaml}"))
}

/// The generated Secret's data, decoded.
fn secret_data(secret: &serde_json::Value) -> BTreeMap<String, Vec<u8>> {
    secret["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), common::unb64(v.as_str().unwrap())))
        .collect()
}

/// Renders the overlay `dir` before, runs the migration with `args`, renders after, and checks that the
/// SealedSecret stands for the Secret kustomize generated before: same name (hashed or not),
/// namespace and labels, and the peer opens each value under `<namespace>/<name>` to the data
/// kustomize generated. Returns the migration's output.
fn migrates_to_the_same_secret(root: &Path, dir: &Path, args: &[&str]) -> Out {
    let before = rendered(&common::kustomize(dir), "Secret");
    let out = run(root, args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = common::kustomize(dir);
    assert!(!after.contains("\nkind: Secret\n"), "{after}");
    let sealed = rendered(&after, "SealedSecret");
    let (name, ns) = (
        &before["metadata"]["name"],
        &before["metadata"]["namespace"],
    );
    assert_eq!(&sealed["metadata"]["name"], name);
    assert_eq!(&sealed["metadata"]["namespace"], ns);
    let template = &sealed["spec"]["template"]["metadata"];
    assert_eq!(&template["labels"], &before["metadata"]["labels"]);
    assert_eq!(&template["name"], name);
    // An immutable generated Secret stays immutable (absent stays absent).
    assert_eq!(
        &sealed["spec"]["template"]["immutable"],
        &before["immutable"]
    );
    let Some(mut peer) = Peer::start() else {
        return out;
    };
    let label = format!("{}/{}", ns.as_str().unwrap(), name.as_str().unwrap());
    let opened: BTreeMap<String, Vec<u8>> = sealed["spec"]["encryptedData"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let raw = common::unb64(v.as_str().unwrap());
            let plain = peer
                .decrypt(&fixtures::key_pem(2048), label.as_bytes(), &raw)
                .unwrap_or_else(|e| panic!("the peer cannot open {k}: {e}"));
            (k.clone(), plain)
        })
        .collect();
    assert_eq!(opened, secret_data(&before));
    out
}

/// Every file of `dir`, byte for byte: a refusal must leave them all as they were.
fn dir_bytes(dir: &Path) -> BTreeMap<std::path::PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// `--migrate` of `stage` with the values from a file outside the overlay (`work/new.env`),
/// refused: exit 2, and every file of the overlay as it was.
fn refused_from_another_file(root: &Path) -> Out {
    let stage = root.join("k8s/overlays/stage");
    let before = dir_bytes(&stage);
    let from = root.join("work/new.env");
    write(&from, ENV);
    let o = run(
        root,
        &migrate_args("stage", from.to_str().unwrap(), &["--no-input"]),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(dir_bytes(&stage), before, "the refusal changed a file");
    o
}

#[test]
fn issue_16_migrate_inline_generator_with_envs_and_literals() {
    if common::kubectl().is_none() {
        return;
    }
    let t = repo(&inline_kustomization(false, ""));
    let root = t.path();
    let kust = root.join("k8s/overlays/stage/kustomization.yaml");
    let old = read(&kust);
    let dry = run(root, &migrate_args("stage", "app.env", &["--dry-run"]));
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("drop secretGenerator `app-secrets`"),
        "{}",
        dry.stdout
    );
    assert_eq!(read(&kust), old, "--dry-run wrote");
    let out = migrates_to_the_same_secret(
        root,
        &root.join("k8s/overlays/stage"),
        &migrate_args("stage", "app.env", &["--no-input"]),
    );
    assert!(
        out.stderr
            .contains("TOKEN sealed from the generator's literals")
    );
    assert!(out.stderr.contains("secretGenerator `app-secrets` removed"));
    // The kustomization: the entry and the emptied key gone, the new file listed, every other
    // line (comments included) as it was.
    let entry = old
        .split_once("  - name: app-secrets\n")
        .and_then(|(_, rest)| rest.split_once("configMapGenerator:"))
        .map(|(body, _)| format!("  - name: app-secrets\n{body}"))
        .unwrap();
    let want = old
        .replace(&entry, "")
        .replace("secretGenerator:\n", "")
        .replace(
            "  - ../../base\n",
            "  - ../../base\n  # Secret app-secrets, sealed for app-stage/app-secrets (strict scope); was secretGenerator `app-secrets`.\n  - sealedsecret.yaml\n",
        );
    assert_eq!(read(&kust), want);
    // The ConfigMap generator and its generatorOptions label still render.
    let cm = rendered(
        &common::kustomize(&root.join("k8s/overlays/stage")),
        "ConfigMap",
    );
    assert_eq!(cm["metadata"]["labels"]["team"], "core");
}

/// `resources:` as a one-line flow list with quotes and a comment, and `resources:` with nothing
/// after it (a null kustomize builds): the migration used to rewrite the flow line without its
/// quotes and comment, and to refuse the null one as an "internal check failed". Now the entry is
/// inserted in place, and kustomize renders the same Secret, sealed.
#[test]
fn migrate_edits_a_flow_resources_list_in_place_and_fills_an_empty_one() {
    if common::kubectl().is_none() {
        return;
    }
    let block = "resources:\n  - ../../base\n";
    for (resources, want) in [
        (
            "resources: [\"../../base\"]  # keep me\n",
            "resources: [\"../../base\", sealedsecret.yaml]  # keep me\n",
        ),
        (
            "resources:   # none yet\n",
            "resources:   # none yet\n  # Secret app-secrets, sealed for app-stage/app-secrets (strict scope); was secretGenerator `app-secrets`.\n  - sealedsecret.yaml\n",
        ),
    ] {
        let k = inline_kustomization(false, "").replace(block, resources);
        let t = repo(&k);
        let root = t.path();
        migrates_to_the_same_secret(
            root,
            &root.join("k8s/overlays/stage"),
            &migrate_args("stage", "app.env", &["--no-input"]),
        );
        let text = read(&root.join("k8s/overlays/stage/kustomization.yaml"));
        assert!(text.contains(want), "{text}");
    }
}

/// `generatorOptions.immutable: true` makes every generated Secret immutable (a local `false`
/// cannot undo it): the SealedSecret's template keeps `immutable: true`, and the user is told
/// what that means for a later re-seal.
#[test]
fn migrate_keeps_an_immutable_secret_immutable() {
    if common::kubectl().is_none() {
        return;
    }
    let k = inline_kustomization(false, "")
        .replace(
            "generatorOptions:\n",
            "generatorOptions:\n  immutable: true\n",
        )
        .replace("    options:\n", "    options:\n      immutable: false\n");
    let sealed = migrates_immutable(&k);
    assert!(
        sealed.contains("\n    type: Opaque\n    immutable: true\n"),
        "{sealed}"
    );
}

/// Migrates the stage overlay of kustomization `k`, which kustomize must render into an
/// immutable Secret, and asserts `--migrate` says the SealedSecret keeps `immutable: true`;
/// returns the SealedSecret written.
fn migrates_immutable(k: &str) -> String {
    let t = repo(k);
    let root = t.path();
    let dir = root.join("k8s/overlays/stage");
    assert_eq!(
        rendered(&common::kustomize(&dir), "Secret")["immutable"],
        true,
        "kustomize makes an immutable Secret of {k}"
    );
    let out = migrates_to_the_same_secret(
        root,
        &dir,
        &migrate_args("stage", "app.env", &["--no-input"]),
    );
    assert!(
        out.stderr
            .contains("the SealedSecret keeps `immutable: true` in its template"),
        "{}",
        out.stderr
    );
    read(&dir.join("sealedsecret.yaml"))
}

/// kustomize reads a kustomization as YAML 1.1, so `immutable: yes` (or `On`, `True`, in the
/// entry's `options` or in `generatorOptions`) makes an immutable Secret (the real `kubectl
/// kustomize` is the oracle). `--migrate` read it as YAML 1.2, a string and not `true`: the
/// SealedSecret's template lost `immutable: true` and the user was not told.
#[test]
fn migrate_reads_immutable_as_kustomize_does_yaml_1_1_booleans() {
    if common::kubectl().is_none() {
        return;
    }
    let base = inline_kustomization(false, "");
    for k in [
        base.replace("    options:\n", "    options:\n      immutable: yes\n"),
        base.replace("    options:\n", "    options:\n      immutable: True\n"),
        base.replace(
            "generatorOptions:\n",
            "generatorOptions:\n  immutable: On\n",
        ),
    ] {
        let sealed = migrates_immutable(&k);
        assert!(sealed.contains("\n    immutable: true\n"), "{sealed}");
    }
}

#[test]
fn issue_16_hash_suffix_needs_keep_name() {
    if common::kubectl().is_none() {
        return;
    }
    // Inline, under a namePrefix: the rendered name is `p-app-secrets-<hash>`.
    let t = repo(&inline_kustomization(true, "namePrefix: p-\n"));
    let root = t.path();
    let dir = root.join("k8s/overlays/stage");
    let snapshot = || dir_bytes(&dir);
    let before = snapshot();
    let o = run(root, &migrate_args("stage", "app.env", &[]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    for needle in ["content hash", "disableNameSuffixHash", "--keep-name"] {
        assert!(o.stderr.contains(needle), "{needle}: {}", o.stderr);
    }
    assert_eq!(snapshot(), before, "a refusal changed files");

    // --keep-name: the Deployment's two references are rewritten by kustomize to the hashed
    // name today and would point at no Secret after the move: refused, listed, nothing written.
    let o = run(root, &keep_name("app.env"));
    assert_refused_dangling(
        &o,
        "--keep-name",
        &[
            "disableNameSuffixHash: true",
            "migrate without --keep-name",
            "point those references at the hashed name",
        ],
    );
    assert_eq!(snapshot(), before, "a refusal changed files");
}

/// Without a hash suffix, under a `namePrefix`: kustomize rewrote the Deployment's references to
/// `p-app-secrets` and would apply the prefix to the SealedSecret but no longer to them, so the
/// migration refuses (exit 2, the references listed, no file changed, also under `--dry-run`).
/// Once the overlay points them at the prefixed name, it migrates and `check` finds nothing
/// dangling.
#[test]
fn issue_16_name_prefix_refuses_while_a_reference_would_dangle() {
    if common::kubectl().is_none() {
        return;
    }
    let t = repo(&inline_kustomization(
        false,
        "namePrefix: p-
",
    ));
    let root = t.path();
    let dir = root.join("k8s/overlays/stage");
    let before = dir_bytes(&dir);
    let base = std::fs::read(root.join("k8s/base/deployment.yaml")).unwrap();
    for extra in [&["--no-input"][..], &["--dry-run"][..]] {
        let o = run(root, &migrate_args("stage", "app.env", extra));
        assert!(o.stdout.is_empty(), "{extra:?}: {}", o.stdout);
        assert_refused_dangling(
            &o,
            "--migrate",
            &[
                "point them at `p-app-secrets`",
                "drop the namePrefix/nameSuffix",
            ],
        );
        assert!(!o.stderr.contains("warning"), "{}", o.stderr);
        assert_eq!(dir_bytes(&dir), before, "a refusal changed files");
        assert_eq!(
            std::fs::read(root.join("k8s/base/deployment.yaml")).unwrap(),
            base
        );
    }

    // The way out the hint gives: a patch in the overlay names the prefixed Secret.
    let patched = inline_kustomization(
        false,
        "namePrefix: p-\npatches:\n  - target: {kind: Deployment, name: app}\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name\n        value: p-app-secrets\n      - op: replace\n        path: /spec/template/spec/containers/0/envFrom/0/secretRef/name\n        value: p-app-secrets\n",
    );
    write(&dir.join("kustomization.yaml"), &patched);
    let out = migrates_to_the_same_secret(
        root,
        &dir,
        &migrate_args("stage", "app.env", &["--no-input"]),
    );
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let deployment = rendered(&common::kustomize(&dir), "Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"],
        "p-app-secrets"
    );
    let check = run(root, &["check"]);
    let said = format!("{}{}", check.stdout, check.stderr);
    assert!(!said.contains("dangling-reference"), "{said}");
}

/// `--keep-name` writes when nothing would dangle: the workloads already name the hashed name
/// kustomize renders (computed here with the real kubectl), or nothing references the Secret.
#[test]
fn issue_16_keep_name_when_nothing_dangles() {
    if common::kubectl().is_none() {
        return;
    }
    let keep = keep_name("app.env");
    // References already naming the hashed name, under a namePrefix.
    let t = repo(&inline_kustomization(true, "namePrefix: p-\n"));
    let root = t.path();
    let dir = root.join("k8s/overlays/stage");
    let secret = rendered(&common::kustomize(&dir), "Secret");
    let hashed = secret["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(hashed.starts_with("p-app-secrets-"), "{hashed}");
    write(
        &root.join("k8s/base/deployment.yaml"),
        &DEPLOYMENT.replace("name: app-secrets", &format!("name: {hashed}")),
    );
    // Other values hash to another name than the one the references name: refused.
    write(
        &dir.join("other.env"),
        "DB_PASSWORD=sentinel-other\nAPI_URL=https://x?a=b\n",
    );
    let other = keep_name("other.env");
    let o = run(root, &other);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("--keep-name would leave 2 reference(s)")
            && o.stderr
                .contains("the hashed name these values make, `p-app-secrets-")
            && !o.stderr.contains(&format!("`{hashed}`")),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("sentinel-other"), "{}", o.stderr);
    assert!(!dir.join("sealedsecret.yaml").exists());
    let out = migrates_to_the_same_secret(root, &dir, &keep);
    assert!(out.stderr.contains("sealedsecret.yaml"), "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let deployment = rendered(&common::kustomize(&dir), "Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"],
        hashed.as_str()
    );
    let check = run(root, &["check"]);
    let said = format!("{}{}", check.stdout, check.stderr);
    assert!(!said.contains("dangling-reference"), "{said}");

    // No reference at all.
    let t = repo(&inline_kustomization(true, ""));
    let root = t.path();
    let dir = root.join("k8s/overlays/stage");
    let bare = DEPLOYMENT
        .split("          env:\n")
        .next()
        .unwrap()
        .to_owned();
    write(&root.join("k8s/base/deployment.yaml"), &bare);
    migrates_to_the_same_secret(root, &dir, &keep);
    assert!(dir.join("sealedsecret.yaml").is_file());
}

#[test]
fn issue_16_keep_name_with_a_generator_file() {
    if common::kubectl().is_none() {
        return;
    }
    // The shipped prod overlay, its generator file switched to a hashed name: the workloads
    // name `emp-secrets`, so --keep-name refuses and writes nothing.
    let t = crate::lifecycle::tree();
    let root = t.path();
    let prod = root.join("k8s/overlays/prod");
    let generator = prod.join("secret-generator.yaml");
    let text = read(&generator).replace(
        "disableNameSuffixHash: true",
        "disableNameSuffixHash: false",
    );
    write(&generator, &text);
    write(&prod.join("sealing-cert.pem"), &fixtures::cert_pem(2048));
    write(
        &prod.join("prod-secrets.env"),
        "API_KEY=sentinel-db-api\nPOSTGRES_PASSWORD=sentinel-db-pg\nREDIS_PASSWORD=sentinel-db-redis\n",
    );
    let kust = read(&prod.join("kustomization.yaml"));
    let o = run(
        root,
        &migrate_args("prod", "prod-secrets.env", &["--no-input", "--keep-name"]),
    );
    let first = refused(&o);
    assert!(
        first.contains("secret-generator.yaml") && first.contains("--keep-name would leave"),
        "{}",
        o.stderr
    );
    assert!(
        first.contains(".yaml:"),
        "each reference names file:line: {first}"
    );
    assert!(!prod.join("sealedsecret.yaml").exists());
    assert_eq!(read(&prod.join("kustomization.yaml")), kust);
    assert_eq!(read(&generator), text);
}

#[test]
fn issue_16_inline_refusals_change_nothing() {
    // A generator in the base, not the overlay's own kustomization.
    let t = repo("namespace: app-stage\nresources:\n  - ../../base\n");
    let root = t.path();
    write(
        &root.join("k8s/base/kustomization.yaml"),
        "resources:\n  - deployment.yaml\nsecretGenerator:\n  - name: app-secrets\n    literals: [A=b]\n    options: {disableNameSuffixHash: true}\n",
    );
    let o = run(
        root,
        &migrate_args("stage", "k8s/overlays/stage/app.env", &[]),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("not in the overlay's own kustomization"),
        "{}",
        o.stderr
    );
    assert!(!root.join("k8s/overlays/stage/sealedsecret.yaml").exists());

    // --keep-name under a nameSuffix: the hash would land before the suffix.
    let t = repo(&inline_kustomization(true, "nameSuffix: -s\n"));
    let root = t.path();
    let kust = root.join("k8s/overlays/stage/kustomization.yaml");
    let old = read(&kust);
    let o = run(root, &keep_name("app.env"));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("nameSuffix"), "{}", o.stderr);
    assert_eq!(read(&kust), old);

    // --keep-name without --migrate is a usage error.
    let o = run(root, &["seal", "stage", "--from", "app.env", "--keep-name"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(read(&kust), old);
}

/// A line without `=` in the generator's env file, and a `literals:` item without `=`, may be
/// pieces of a value: the migration refuses them by file and line and never prints them as the
/// key names the env file "lacks". Nothing is written.
#[test]
fn migrate_never_echoes_a_generator_line_without_equals() {
    const BARE: &str = "S3CRETxyz";
    let refused = |root: &Path, needle: &str| {
        let o = refused_from_another_file(root);
        assert!(
            !o.stdout.contains(BARE) && !o.stderr.contains(BARE),
            "a line without '=' was printed: {}{}",
            o.stdout,
            o.stderr
        );
        assert!(o.stderr.contains(needle), "{needle}: {}", o.stderr);
    };

    // The generator's env file.
    let t = repo(&inline_kustomization(false, ""));
    let root = t.path();
    write(
        &root.join("k8s/overlays/stage/app.env"),
        &format!("{ENV}{BARE}\n"),
    );
    refused(root, "k8s/overlays/stage/app.env:3 has no '='");

    // A `literals:` item (kustomize itself refuses it: "invalid literal source").
    let kust = inline_kustomization(false, "").replace(
        "      - TOKEN=\"sentinel-literal\"\n",
        &format!("      - TOKEN=\"sentinel-literal\"\n      - {BARE}\n"),
    );
    assert!(kust.contains(BARE));
    let t = repo(&kust);
    let k = "k8s/overlays/stage/kustomization.yaml";
    let item = common::line_of(t.path(), k, BARE);
    refused(
        t.path(),
        &format!("{k}:{item}: item 2 of `literals:` has no '='"),
    );
    // `check` reports it as kustomize's build error, by position, and never as a key name.
    let o = run(t.path(), &["check"]);
    assert_ne!(o.code, 0, "{}", o.stdout);
    assert!(
        !o.stdout.contains(BARE) && !o.stderr.contains(BARE),
        "{}{}",
        o.stdout,
        o.stderr
    );
    assert!(
        o.stdout.contains("item 2 of `literals:` has no '='"),
        "{}",
        o.stdout
    );
}

/// A generator env file that is there but cannot be read (here over the 8 MiB input limit)
/// gives the Secret keys nobody can know: the migration refuses, naming the file, and writes
/// nothing, instead of sealing only `--from`'s keys and losing the others.
#[test]
fn migrate_refuses_a_generator_env_file_it_cannot_read() {
    let t = repo(&inline_kustomization(false, ""));
    let root = t.path();
    let stage = root.join("k8s/overlays/stage");
    let mut big = ENV.to_owned();
    big.push_str(&format!("{}=1\n", "K".repeat(9 << 20)));
    write(&stage.join("app.env"), &big);
    let o = refused_from_another_file(root);
    let first = refused(&o);
    assert!(
        first.contains("app.env") && first.contains("larger than"),
        "{}",
        o.stderr
    );
}

/// A `literals:` item without `=` is refused at the item's own line, inline and in a
/// `generators:` file, as `check` reports it (not at the generator's line); the item is never
/// printed.
#[test]
fn migrate_refuses_a_literal_without_equals_at_its_own_line() {
    const BARE: &str = "S3CRETxyz";
    let inline = inline_kustomization(false, "").replace(
        "      - TOKEN=\"sentinel-literal\"\n",
        &format!("      - TOKEN=\"sentinel-literal\"\n      - {BARE}\n"),
    );
    let t = repo(&inline);
    let k = "k8s/overlays/stage/kustomization.yaml";
    let item = common::line_of(t.path(), k, BARE);
    assert_ne!(item, common::line_of(t.path(), k, "- name: app-secrets"));
    let o = refused_from_another_file(t.path());
    let want = format!("{k}:{item}: item 2 of `literals:` has no '='");
    assert!(o.stderr.contains(&want), "{want}: {}", o.stderr);
    assert!(!o.stderr.contains(BARE), "{}", o.stderr);
    // `check` reports kustomize's refusal of it at the same line.
    let (_, hits) = common::check_hits(t.path(), &[]);
    let errs = common::of(&hits, "overlay-build-error");
    assert!(
        errs.iter().any(|h| h.path == k && h.line == item),
        "{hits:?}"
    );

    // A `generators:` file's SecretGenerator.
    let t = crate::lifecycle::tree();
    let root = t.path();
    let prod = root.join("k8s/overlays/prod");
    let generator = prod.join("secret-generator.yaml");
    let text = read(&generator).replace(
        "envs:\n",
        &format!("literals:\n  - A=1\n  - {BARE}\nenvs:\n"),
    );
    write(&generator, &text);
    write(
        &prod.join("sealing-cert.pem"),
        &crate::fixtures::cert_pem(2048),
    );
    write(&prod.join("prod-secrets.env"), ENV);
    let g = "k8s/overlays/prod/secret-generator.yaml";
    let item = common::line_of(root, g, BARE);
    let o = run(
        root,
        &[
            "seal",
            "prod",
            "--from",
            "prod-secrets.env",
            "--migrate",
            "--no-input",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let want = format!("{g}:{item}: item 2 of `literals:` has no '='");
    assert!(o.stderr.contains(&want), "{want}: {}", o.stderr);
    assert!(!o.stderr.contains(BARE), "{}", o.stderr);
}

/// A Secret generator given as inline configuration under `generators:` (now modelled, so the
/// overlay's Secret is known to come from it): `--migrate` does not rewrite text held in a
/// string of the kustomization, and says so by the generator's line; nothing is written.
#[test]
fn migrate_refuses_an_inline_generators_configuration() {
    let k = "namespace: app-stage\nresources:\n  - ../../base\ngenerators:\n  - |\n    apiVersion: builtin\n    kind: SecretGenerator\n    metadata:\n      name: app-secrets\n    envs:\n      - app.env\n    options:\n      disableNameSuffixHash: true\n";
    let t = repo(k);
    let root = t.path();
    let o = run(root, &migrate_args("stage", "app.env", &["--no-input"]));
    let first = refused(&o);
    assert!(
        first.starts_with("error: k8s/overlays/stage/kustomization.yaml:9:")
            && first.contains("inline under `generators:`"),
        "{}",
        o.stderr
    );
    let dir = root.join("k8s/overlays/stage");
    assert!(!dir.join("sealedsecret.yaml").exists());
    assert_eq!(read(&dir.join("kustomization.yaml")), k);
}

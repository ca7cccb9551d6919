//! `seal` against what the overlay really renders: the scope the rendered object declares, and
//! overlays whose rendered identity emp-seal's kustomize model cannot vouch for. Every value
//! written is decrypted with the Python peer from the real `kubectl kustomize` render (under the
//! rendered name, namespace and scope), or the run is refused with the file unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use crate::common::{self, Peer};
use crate::seal_support::{
    SENTINEL, Tree, assert_decrypts, demo_key, env_text, env_values, fails_cleanly, no_secret, ok,
    stderr, stdout, write_file,
};

/// Replaces the first `from` by `to` in `env`'s kustomization; returns the new text.
fn edit_kustomization(tree: &Tree, env: &str, from: &str, to: &str) -> String {
    let path = tree.overlay(env).join("kustomization.yaml");
    let k = std::fs::read_to_string(&path)
        .unwrap()
        .replacen(from, to, 1);
    write_file(&path, k.as_bytes());
    k
}

/// Appends `text` to the paper overlay's kustomization.
fn append_to_paper_kustomization(tree: &Tree, text: &str) {
    let path = tree.overlay("paper").join("kustomization.yaml");
    let k = std::fs::read_to_string(&path).unwrap();
    write_file(&path, format!("{k}{text}").as_bytes());
}

/// Runs `emp-seal ARGS` and expects a refusal whose line contains every one of `want`, with
/// `file` byte-identical and no secret value in the output.
fn refused_run(tree: &Tree, args: &[&str], file: &Path, want: &[&str]) {
    let before = std::fs::read(file).unwrap();
    let out = tree.run(args);
    no_secret(&out);
    let e = fails_cleanly(&out);
    for w in want {
        assert!(e.contains(w), "`{w}` not in: {e}");
    }
    assert_eq!(before, std::fs::read(file).unwrap());
}

/// Seals paper from [`env_text`] and expects a refusal as [`refused_run`] does.
fn refused(tree: &Tree, want: &[&str]) {
    let env = tree.write("secrets.env", env_text());
    let args = ["paper", "--from", env.to_str().unwrap()];
    refused_run(tree, &args, &tree.ss("paper"), want);
}

/// Asserts the real `kubectl kustomize` refuses to build `env`'s overlay (when kubectl is here).
fn kubectl_refuses(tree: &Tree, env: &str) {
    if common::kubectl().is_some() {
        let out = common::kustomize_raw(&tree.overlay(env));
        assert!(!out.status.success(), "kubectl built the {env} overlay");
    }
}

/// The paper overlay and a copy of it, `stage`, both rendering one SealedSecret kept in
/// `k8s/shared/` (same namespace and certificate); returns paper's kustomization text.
fn paper_and_stage_share_a_sealedsecret() -> (Tree, String) {
    let tree = Tree::new();
    tree.write(
        "k8s/shared/sealedsecret.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\nspec:\n  encryptedData: {}\n",
    );
    tree.write(
        "k8s/shared/kustomization.yaml",
        "resources:\n  - sealedsecret.yaml\n",
    );
    std::fs::remove_file(tree.ss("paper")).unwrap();
    let k = edit_kustomization(
        &tree,
        "paper",
        "  - sealedsecret.yaml\n",
        "  - ../../shared\n",
    );
    tree.clone_overlay("paper", "stage");
    (tree, k)
}

/// The scope annotation the controller reads is the rendered object's: an overlay that adds or
/// changes it (`commonAnnotations`, a patch, a component) changes the label. Sealing for the
/// file's own declaration wrote values the controller could not open; now the run is refused
/// when the two differ, and seals (for the rendered scope) when they agree.
#[test]
fn seal_refuses_a_scope_the_overlay_changes() {
    // commonAnnotations in the overlay: the render is namespace-wide, the file strict.
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "commonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
    );
    refused(
        &tree,
        &[
            "k8s/overlays/paper/sealedsecret.yaml",
            "namespace-wide",
            "strict",
        ],
    );

    // A component's JSON patch adds cluster-wide.
    let tree = Tree::new();
    tree.write(
        "k8s/components/cluster-wide/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - target: {kind: SealedSecret}\n    patch: |-\n      - op: add\n        path: /metadata/annotations\n        value: {sealedsecrets.bitnami.com/cluster-wide: \"true\"}\n",
    );
    append_to_paper_kustomization(&tree, "components:\n  - ../../components/cluster-wide\n");
    refused(&tree, &["cluster-wide", "strict"]);

    // The file declares namespace-wide and the overlay says the same: sealed, and the values
    // open under the rendered (namespace-wide) label.
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "commonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
    );
    let text = tree.read("k8s/overlays/paper/sealedsecret.yaml").replacen(
        "  namespace: emp-paper\n",
        "  namespace: emp-paper\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
        1,
    );
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    assert_decrypts(&tree, "paper", &env_values());
}

/// The paper overlay sealed (strict, as its file declares), then given a namespace-wide
/// `commonAnnotations`: the render's scope is no longer the file's.
fn sealed_then_made_namespace_wide() -> Tree {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    append_to_paper_kustomization(
        &tree,
        "commonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
    );
    tree
}

/// `check` reports what `seal` refuses: a SealedSecret sealed (correctly, strict) and then given
/// another scope by the overlay's `commonAnnotations`. The controller decrypts under the rendered
/// namespace-wide label and fails; `check` and the release gate said "no findings".
#[test]
fn check_reports_a_scope_the_overlay_changes_after_sealing() {
    let tree = sealed_then_made_namespace_wide();
    let out = tree.run(&["check", "--format", "json", "--release", "paper"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let hits: Vec<_> = common::report_hits(&out.stdout)
        .into_iter()
        .filter(|h| h.rule == "identity-mismatch")
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, "k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(hits[0].severity, "error");
    assert!(
        hits[0]
            .message
            .contains("declares strict scope but renders with namespace-wide scope"),
        "{}",
        hits[0].message
    );
}

/// An overlay the model does not replay (`replacements`) or that kustomize cannot build (a
/// missing patch file): the rendered name and namespace, hence the label, are unknown. Sealing
/// went ahead with the model's guess; a `replacements` moving the SealedSecret to another
/// namespace gave values the controller could not open. Now refused, naming the cause.
#[test]
fn seal_refuses_an_overlay_whose_render_it_cannot_vouch_for() {
    let tree = Tree::new();
    tree.write(
        "k8s/overlays/paper/target-namespace.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target-namespace\ndata:\n  namespace: emp-elsewhere\n",
    );
    // No `namespace:`: the replacement moves the SealedSecret (file and template) instead.
    edit_kustomization(&tree, "paper", "namespace: emp-paper\n", "");
    edit_kustomization(
        &tree,
        "paper",
        "  - sealedsecret.yaml\n",
        "  - sealedsecret.yaml\n  - target-namespace.yaml\nreplacements:\n  - source: {kind: ConfigMap, name: target-namespace, fieldPath: data.namespace}\n    targets:\n      - select: {kind: SealedSecret}\n        fieldPaths: [metadata.namespace, spec.template.metadata.namespace]\n",
    );
    refused(
        &tree,
        &["k8s/overlays/paper/kustomization.yaml", "replacements"],
    );

    // kustomize cannot build the overlay: a patch file that is not there.
    let tree = Tree::new();
    append_to_paper_kustomization(&tree, "  - path: patch-missing.yaml\n");
    refused(&tree, &["patch-missing.yaml"]);

    // `Resources:` (kustomize reads field names in any case): the model does not read that
    // spelling, so it sees no SealedSecret; the refusal names the field, not "renders no
    // SealedSecret" with a hint to write one.
    let tree = Tree::new();
    edit_kustomization(&tree, "paper", "\nresources:\n", "\nResources:\n");
    refused(
        &tree,
        &[
            "field `Resources` is read by kustomize as `resources`",
            "nothing is sealed",
        ],
    );

    // A Secret generator giving a key twice: kustomize refuses the build ("illegally repeats
    // the key"), as it does a ConfigMap generator's.
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "secretGenerator:\n  - name: extra\n    literals: [PW=a, PW=b]\n",
    );
    kubectl_refuses(&tree, "paper");
    refused(&tree, &["Secret generator `extra` gives key `PW` twice"]);

    // A remote component transforms the overlay's objects in ways unknown offline.
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "components:\n  - https://github.com/example/components//rename?ref=v1\n",
    );
    refused(&tree, &["kustomization.yaml", "remote component"]);
}

/// A remote base only adds objects (kustomize applies its transformers to its own objects): it
/// cannot change the SealedSecret's identity, so the seal goes ahead, and what it writes
/// decrypts in the overlay's render (taken without the remote line, which cannot be fetched
/// here).
#[test]
fn seal_goes_ahead_beside_a_remote_base() {
    let tree = Tree::new();
    let remote = "  - https://github.com/example/platform//redis?ref=v1\n";
    let with_remote = edit_kustomization(
        &tree,
        "paper",
        "  - sealedsecret.yaml\n",
        &format!("  - sealedsecret.yaml\n{remote}"),
    );
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    edit_kustomization(&tree, "paper", remote, "");
    assert!(with_remote.contains(remote));
    assert_decrypts(&tree, "paper", &env_values());
}

/// `unseal ENV` opens the values under the label of the rendered object, scope included: a file
/// declaring strict scope that the overlay's `commonAnnotations` makes namespace-wide holds
/// values the controller opens under the namespace-wide label (here sealed by the Python peer,
/// as kubeseal would seal the rendered object). It was opened under the file's strict label, and
/// recovery failed although the controller decrypts the file.
#[test]
fn unseal_opens_values_under_the_rendered_scope() {
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "commonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
    );
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let cert = tree.read("k8s/overlays/paper/sealing-cert.pem");
    let value = format!("{SENTINEL}-redis");
    let sealed = common::b64(&peer.encrypt(&cert, b"emp-paper", value.as_bytes()));
    let text = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n    REDIS_PASSWORD: {sealed}\n"
    );
    write_file(&tree.ss("paper"), text.as_bytes());
    let key = tree.write("controller-key.pem", demo_key());
    let out = tree.run(&[
        "unseal",
        "paper",
        "--key",
        key.to_str().unwrap(),
        "--format",
        "env",
    ]);
    ok(&out);
    assert_eq!(stdout(&out), format!("REDIS_PASSWORD={value}\n"));
}

/// A SealedSecret in a base that two environments render, sealed for one of them: its values
/// were written for that environment's identity, and the other environment's controller (which
/// reads the same file, rendered into another namespace) could not decrypt them. Now refused
/// naming the other environment and both identities; with the same identity and certificate the
/// file is sealed and decrypts in both renders.
#[test]
fn seal_refuses_a_shared_sealedsecret_another_environment_renders_differently() {
    let (tree, k) = paper_and_stage_share_a_sealedsecret();
    let stage_k = tree.overlay("stage").join("kustomization.yaml");
    write_file(
        &stage_k,
        k.replacen("namespace: emp-paper\n", "namespace: emp-stage\n", 1)
            .as_bytes(),
    );
    let shared = tree.path("k8s/shared/sealedsecret.yaml");
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();

    let want = [
        "k8s/shared/sealedsecret.yaml",
        "`stage`",
        "emp-stage/emp-secrets",
        "emp-paper/emp-secrets",
    ];
    refused_run(&tree, &["paper", "--from", env], &shared, &want);

    // The same namespace and certificate: one ciphertext opens in both.
    write_file(&stage_k, k.as_bytes());
    ok(&tree.run(&["paper", "--from", env]));
    assert_decrypts(&tree, "paper", &env_values());
    assert_decrypts(&tree, "stage", &env_values());
}

/// The prod overlay (a generator), with a certificate whose key the tests hold.
fn prod_with_demo_cert(tree: &Tree) {
    tree.write(
        "k8s/overlays/prod/sealing-cert.pem",
        tree.read("k8s/overlays/paper/sealing-cert.pem"),
    );
}

/// `--migrate` seals the new SealedSecret for the scope it will render with: an overlay whose
/// `commonAnnotations` make every object namespace-wide gave a file sealed (and declared) strict,
/// which the controller could not open; now it is sealed and declared namespace-wide. A
/// `--scope` the overlay would override, and an overlay the model does not replay, are refused.
#[test]
fn migrate_seals_for_the_scope_and_identity_the_overlay_renders() {
    let tree = Tree::new();
    prod_with_demo_cert(&tree);
    let kpath = tree.overlay("prod").join("kustomization.yaml");
    let k = tree.read("k8s/overlays/prod/kustomization.yaml");
    let with = |extra: &str| write_file(&kpath, format!("{k}{extra}").as_bytes());
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let migrate = |more: &[&str]| {
        let mut args = vec!["seal", "prod", "--from", env, "--migrate"];
        args.extend_from_slice(more);
        tree.run(&args)
    };

    // A --scope the overlay's annotation would override: refused, nothing written.
    with("commonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: \"true\"\n");
    let out = migrate(&["--scope", "strict"]);
    no_secret(&out);
    let e = fails_cleanly(&out);
    assert!(e.contains("namespace-wide") && e.contains("strict"), "{e}");
    assert!(!tree.ss("prod").exists());

    // The overlay's scope: sealed for it, declared in the file, opened from the real render.
    let out = migrate(&[]);
    ok(&out);
    no_secret(&out);
    assert_decrypts(&tree, "prod", &env_values());
    // The migrated file agrees with its render: sealing it again is not refused.
    ok(&tree.run(&["prod", "--from", env]));
    assert_decrypts(&tree, "prod", &env_values());

    // `replacements` (not modelled): refused, nothing written.
    let tree = Tree::new();
    prod_with_demo_cert(&tree);
    let kpath = tree.overlay("prod").join("kustomization.yaml");
    write_file(
        &kpath,
        format!(
            "{}replacements:\n  - source: {{kind: ConfigMap, name: emp-config, fieldPath: metadata.namespace}}\n    targets:\n      - select: {{name: emp-secrets}}\n        fieldPaths: [metadata.namespace]\n",
            tree.read("k8s/overlays/prod/kustomization.yaml")
        )
        .as_bytes(),
    );
    let before = tree.read("k8s/overlays/prod/kustomization.yaml");
    let out = tree.run(&["seal", "prod", "--from", env, "--migrate"]);
    let e = fails_cleanly(&out);
    assert!(e.contains("replacements"), "{e}");
    assert!(!tree.ss("prod").exists());
    assert_eq!(before, tree.read("k8s/overlays/prod/kustomization.yaml"));
}

/// `--only` after the overlay renamed the SealedSecret (`namePrefix` added since the last seal):
/// the key sealed got the new label, the keys left alone kept the old one, and the record
/// `emp-seal.dev/sealed-for` was rewritten to the new identity, so the controller failed the
/// whole SealedSecret while `check` saw a file sealed for its render. Now refused, naming the
/// keys that would be left behind; sealing every key works and decrypts.
#[test]
fn seal_only_refuses_to_leave_keys_sealed_for_an_old_identity() {
    let tree = Tree::new();
    write_file(
        &tree.ss("paper"),
        crate::seal_support::fixture("renamed_implicit.yaml").as_bytes(),
    );
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    ok(&tree.run(&["paper", "--from", env]));
    assert_decrypts(&tree, "paper", &env_values());

    append_to_paper_kustomization(&tree, "namePrefix: x-\n");
    let want = [
        "strict emp-paper/emp-secrets",
        "strict emp-paper/x-emp-secrets",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
    ];
    let args = ["paper", "--from", env, "--only", "API_KEY"];
    refused_run(&tree, &args, &tree.ss("paper"), &want);

    ok(&tree.run(&["paper", "--from", env]));
    assert_decrypts(&tree, "paper", &env_values());
}

/// The template's name (and, for cluster-wide scope, the namespaces) are no part of the label of
/// a scope that does not bind them: a cluster-wide SealedSecret as kubeseal writes it (template
/// name and namespace filled in) under an overlay's `namePrefix` and `namespace` is what
/// cluster-wide scope is for, and `check` accepts it. `seal` refused it for the template name;
/// now it seals it, and the values open under the rendered (empty) label. A namespace-wide file
/// is still refused for a template namespace the render contradicts, and accepted for a name.
#[test]
fn seal_checks_only_the_identity_the_scope_binds() {
    let tree = Tree::new();
    let cluster_wide = tree.read("k8s/overlays/paper/sealedsecret.yaml").replacen(
        "  namespace: emp-paper\n",
        "  namespace: emp-paper\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n",
        1,
    );
    write_file(&tree.ss("paper"), cluster_wide.as_bytes());
    let (ns, moved_and_renamed) = (
        "namespace: emp-paper\n",
        "namespace: emp-paper-b\nnamePrefix: x-\n",
    );
    edit_kustomization(&tree, "paper", ns, moved_and_renamed);
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let out = tree.run(&["paper", "--from", env]);
    ok(&out);
    no_secret(&out);
    assert_decrypts(&tree, "paper", &env_values());

    // Namespace-wide: the template's name may differ, its namespace may not.
    let namespace_wide = tree.read("k8s/overlays/paper/sealedsecret.yaml").replace(
        "sealedsecrets.bitnami.com/cluster-wide",
        "sealedsecrets.bitnami.com/namespace-wide",
    );
    edit_kustomization(&tree, "paper", "namespace: emp-paper-b\n", ns);
    let without_record = |text: &str| {
        text.lines()
            .filter(|l| !l.contains("emp-seal.dev/"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    write_file(
        &tree.ss("paper"),
        without_record(&namespace_wide).as_bytes(),
    );
    ok(&tree.run(&["paper", "--from", env]));
    assert_decrypts(&tree, "paper", &env_values());
    let moved = namespace_wide.replacen(
        "      namespace: emp-paper\n",
        "      namespace: emp-other\n",
        1,
    );
    write_file(&tree.ss("paper"), without_record(&moved).as_bytes());
    let e = fails_cleanly(&tree.run(&["paper", "--from", env]));
    assert!(
        e.contains("spec.template.metadata.namespace") && e.contains("emp-other"),
        "{e}"
    );
}

/// `reseal a b` of a SealedSecret in a base both overlays render, after only `a`'s certificate
/// was replaced: each plan started from the same old file and the last write won, so `a`'s
/// reseal was silently lost (the summary said it was resealed). Now refused like `seal`, naming
/// both certificates; the file is unchanged.
#[test]
fn reseal_refuses_a_shared_sealedsecret_the_environments_render_differently() {
    let (tree, _) = paper_and_stage_share_a_sealedsecret();
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["seal", "paper", "stage", "--from", env.to_str().unwrap()]));
    assert_decrypts(&tree, "stage", &env_values());

    // Only paper's controller changed its certificate.
    tree.write(
        "k8s/overlays/paper/sealing-cert.pem",
        std::fs::read(common::repo_root().join("tests/fixtures/certs/rsa-2048-cert.pem")).unwrap(),
    );
    let key = tree.write("controller-key.pem", demo_key());
    let args = ["reseal", "paper", "stage", "--key", key.to_str().unwrap()];
    let want = ["k8s/shared/sealedsecret.yaml", "different certificates"];
    refused_run(
        &tree,
        &args,
        &tree.path("k8s/shared/sealedsecret.yaml"),
        &want,
    );
}

/// kustomize's load restrictor resolves symlinks (api/internal/loader `RestrictionRootOnly`,
/// `CleanedAbs`): an overlay whose `sealedsecret.yaml` links to another overlay's file does not
/// build. The model compared paths lexically and saw a file inside the overlay, so `seal` sealed
/// an overlay kubectl refuses (and `check` passed it). Now the model reports the build error
/// and `seal` refuses, naming it; kubectl agrees the overlay does not build.
#[test]
fn seal_refuses_a_resource_linked_from_outside_the_overlay() {
    let tree = Tree::new();
    tree.clone_overlay("paper", "stage");
    let link = tree.ss("stage");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../paper/sealedsecret.yaml", &link).unwrap();
    kubectl_refuses(&tree, "stage");
    let env = tree.write("secrets.env", env_text());
    let args = ["stage", "--from", env.to_str().unwrap()];
    refused_run(&tree, &args, &tree.ss("paper"), &["is not in or below"]);
}

/// A strategic-merge patch with `options.allowNameChange: true` renames the SealedSecret in
/// kustomize; the model kept the old name, so `seal` sealed for it (values the controller could
/// not open), and then refused the option as not modelled. Now the model renames it as kubectl
/// does: `seal` refuses the file's strict template name, naming the rendered one, and once the
/// file names it too, seals values the Python peer opens from kubectl's render.
#[test]
fn seal_follows_a_patch_allowed_to_rename() {
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "  - target: {kind: SealedSecret, name: emp-secrets}\n    options:\n      allowNameChange: true\n    patch: |-\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata:\n        name: emp-secrets-renamed\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&tree.overlay("paper"));
        assert!(out.contains("name: emp-secrets-renamed"), "{out}");
    }
    refused(
        &tree,
        &[
            "k8s/overlays/paper/sealedsecret.yaml",
            "spec.template.metadata.name",
            "`emp-secrets-renamed`",
        ],
    );
    let text = tree.read("k8s/overlays/paper/sealedsecret.yaml").replacen(
        "      name: emp-secrets\n",
        "      name: emp-secrets-renamed\n",
        1,
    );
    write_file(&tree.ss("paper"), text.as_bytes());
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    assert_decrypts(&tree, "paper", &env_values());
}

/// kustomize decodes a kustomization strictly into Go strings: an unquoted `true` as a
/// `commonAnnotations` value (the scope annotation, say) or a number as `namespace` is "invalid
/// Kustomization". The model accepted both (skipping the annotation), so `seal` sealed an overlay
/// kubectl refuses and `check` passed it. Now both are build errors naming the field; kubectl
/// agrees.
#[test]
fn seal_refuses_a_kustomization_kustomize_cannot_decode() {
    for (from, to, field) in [
        (
            "namespace: emp-paper\n",
            "namespace: emp-paper\ncommonAnnotations:\n  sealedsecrets.bitnami.com/namespace-wide: true\n",
            "commonAnnotations",
        ),
        ("namespace: emp-paper\n", "namespace: 2026\n", "namespace"),
    ] {
        let tree = Tree::new();
        edit_kustomization(&tree, "paper", from, to);
        kubectl_refuses(&tree, "paper");
        refused(&tree, &["k8s/overlays/paper/kustomization.yaml", field]);
    }
}

/// A strategic-merge patch whose top level is `$patch: delete` removes the object from the
/// render. The model kept it, so `seal` sealed a SealedSecret that no longer renders (and the
/// rest of the model trusted a Secret that does not exist), and then refused the patch as not
/// modelled. Now the model drops it as kubectl does, and `seal` refuses because the overlay
/// renders no SealedSecret.
#[test]
fn seal_refuses_an_overlay_that_deletes_its_sealedsecret() {
    let tree = Tree::new();
    append_to_paper_kustomization(
        &tree,
        "  - patch: |-\n      $patch: delete\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata:\n        name: emp-secrets\n        namespace: emp-paper\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&tree.overlay("paper"));
        assert!(!out.contains("kind: SealedSecret"), "{out}");
    }
    // The refusal names the patch that deletes it, at its line in the kustomization.
    let k = tree.read("k8s/overlays/paper/kustomization.yaml");
    let line = k
        .lines()
        .position(|l| l.contains("$patch: delete"))
        .unwrap()
        + 1;
    let at = format!("k8s/overlays/paper/kustomization.yaml:{line}");
    refused(
        &tree,
        &[&at, "deletes SealedSecret `emp-secrets`", "$patch: delete"],
    );
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    let help = stderr(&out).lines().nth(1).map(str::to_owned);
    assert!(
        help.as_deref()
            .is_some_and(|h| h.starts_with("help: fix the file and line named")),
        "{help:?}"
    );
}

/// `reseal` of a file the overlay now renders with another scope than it declares (here a
/// `commonAnnotations` added after sealing): it opened the values under the rendered label,
/// failed, and told the user to pass the key that sealed them. Now it is refused as `seal`
/// refuses it, naming both scopes.
#[test]
fn reseal_refuses_a_scope_the_overlay_changes() {
    let tree = sealed_then_made_namespace_wide();
    let key = tree.write("controller-key.pem", demo_key());
    let args = ["reseal", "paper", "--key", key.to_str().unwrap()];
    let want = [
        "renders this SealedSecret with namespace-wide scope",
        "strict",
    ];
    refused_run(&tree, &args, &tree.ss("paper"), &want);
}

/// A variant (a kustomization wrapping an environment's overlay, deployed in its place, such as
/// `k8s/no-keda/paper`) that renames the SealedSecret: the controller cannot open its values
/// there. `check` and the release gate modelled only the overlay itself and passed. The variant's
/// kubectl render carries the new name, and the Python peer opens the values under the
/// overlay's label and not under the variant's.
#[test]
fn check_reports_a_variant_that_renames_the_sealedsecret() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    let variant = "k8s/no-keda/paper/kustomization.yaml";
    let text = tree.read(variant);
    tree.write(variant, format!("{text}nameSuffix: -canary\n"));

    for args in [&["check"][..], &["check", "--release", "paper"]] {
        let out = tree.run(&[args, &["--format", "json"]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let hits: Vec<_> = common::report_hits(&out.stdout)
            .into_iter()
            .filter(|h| h.rule == "identity-mismatch")
            .collect();
        assert_eq!(hits.len(), 1, "{args:?}: {hits:?}");
        assert_eq!(hits[0].path, "k8s/overlays/paper/sealedsecret.yaml");
        assert_eq!(
            hits[0].message,
            "overlay paper, variant `k8s/no-keda/paper`: SealedSecret was sealed for emp-paper/emp-secrets (strict scope) but renders as emp-paper/emp-secrets-canary"
        );
    }

    if common::kubectl().is_none() {
        return;
    }
    let render = common::kustomize(&tree.path("k8s/no-keda/paper"));
    assert!(render.contains("name: emp-secrets-canary"), "{render}");
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let value =
        crate::seal_support::values(&tree.read("k8s/overlays/paper/sealedsecret.yaml"))["API_KEY"]
            .clone();
    let ct = common::unb64(&value);
    let key = demo_key();
    assert!(peer.decrypt(&key, b"emp-paper/emp-secrets", &ct).is_ok());
    assert!(
        peer.decrypt(&key, b"emp-paper/emp-secrets-canary", &ct)
            .is_err()
    );
}

/// A variant (`k8s/no-keda/paper`, deployed in the overlay's place) that kustomize cannot build,
/// or that uses a feature the model does not replay: `check` without `--render` passed both,
/// though the variant is what the cluster gets. Now each is reported at the variant's line,
/// naming the variant, once (the environment's own problems are not repeated per variant); a
/// broken variant is not also compared for identity. kubectl is the oracle for "cannot build".
#[test]
fn check_reports_a_variant_that_does_not_build_or_is_not_modelled() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    let variant = "k8s/no-keda/paper/kustomization.yaml";
    let text = tree.read(variant);
    let broken = text.replace(
        "components:\n",
        "patches:\n  - path: missing-patch.yaml\ncomponents:\n",
    );
    assert_ne!(broken, text);
    tree.write(variant, &broken);
    if common::kubectl().is_some() {
        let out = common::kustomize_raw(&tree.path("k8s/no-keda/paper"));
        assert!(!out.status.success(), "kubectl built the broken variant");
        assert!(
            common::kustomize_raw(&tree.overlay("paper"))
                .status
                .success()
        );
    }
    let line = broken
        .lines()
        .position(|l| l.contains("missing-patch"))
        .unwrap() as u64
        + 1;
    let hits_of = |args: &[&str], rule: &str| {
        let out = tree.run(&[args, &["--format", "json"]].concat());
        let hits: Vec<_> = common::report_hits(&out.stdout)
            .into_iter()
            .filter(|h| h.rule == rule)
            .collect();
        (out.status.code(), hits)
    };
    for args in [&["check"][..], &["check", "--release", "paper"]] {
        let (code, hits) = hits_of(args, "overlay-build-error");
        assert_eq!(code, Some(1), "{args:?}");
        assert_eq!(hits.len(), 1, "{args:?}: {hits:?}");
        assert_eq!((hits[0].path.as_str(), hits[0].line), (variant, line));
        assert!(
            hits[0]
                .message
                .starts_with("overlay paper, variant `k8s/no-keda/paper`: "),
            "{}",
            hits[0].message
        );
        assert!(hits_of(args, "identity-mismatch").1.is_empty(), "{args:?}");
    }

    let unmodelled = text.replace(
        "components:\n",
        "replacements:\n  - path: replacement.yaml\ncomponents:\n",
    );
    tree.write(variant, &unmodelled);
    tree.write(
        "k8s/no-keda/paper/replacement.yaml",
        "source:\n  kind: ConfigMap\n  name: emp-config\n  fieldPath: metadata.name\ntargets: []\n",
    );
    let line = unmodelled
        .lines()
        .position(|l| l.contains("replacements:"))
        .unwrap() as u64
        + 1;
    let in_variant = |args: &[&str]| {
        let (code, hits) = hits_of(args, "overlay-not-modelled");
        let hits: Vec<_> = hits.into_iter().filter(|h| h.path == variant).collect();
        assert_eq!(hits.len(), 1, "{args:?}: {hits:?}");
        assert_eq!(hits[0].line, line);
        assert!(hits[0].message.contains("variant `k8s/no-keda/paper`"));
        (code, hits[0].severity.clone())
    };
    assert_eq!(in_variant(&["check"]).1, "warning");
    let (code, severity) = in_variant(&["check", "--release", "paper"]);
    assert_eq!((code, severity.as_str()), (Some(1), "error"));
}

/// An Argo CD Application (or a Flux Kustomization) that deploys the overlay with a sync-time
/// option the model does not replay (`commonAnnotations` may add a scope annotation,
/// `components` may rename): the controller may get another identity than the one sealed for.
/// `check` reported it (`overlay-not-modelled`), but `seal` read only the kustomization and
/// sealed for an identity nothing may deploy. Now `seal` refuses, naming the option's line, the
/// file unchanged; without the option it seals as before. (The name and namespace options are
/// modelled and sealed for: `tests/integration/deploy_options.rs`.)
#[test]
fn seal_refuses_an_overlay_deployed_with_an_unmodelled_sync_time_option() {
    let tree = Tree::new();
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: paper\nspec:\n  source:\n    path: k8s/overlays/paper\n    kustomize:\n      commonAnnotations: {team: demo}\n";
    tree.write("argocd/paper.yaml", app);
    refused(&tree, &["argocd/paper.yaml:9", "commonAnnotations"]);
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: paper\nspec:\n  path: ./k8s/overlays/paper\n  components: [../c]\n";
    tree.write("argocd/paper.yaml", flux);
    refused(&tree, &["argocd/paper.yaml:7", "components"]);
    tree.write(
        "argocd/paper.yaml",
        flux.replace("  components: [../c]\n", ""),
    );
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
}

/// A key a patch of the overlay writes into the SealedSecret (an inline JSON 6902 op, or a
/// strategic-merge patch file that is itself a SealedSecret): kustomize applies the patch after
/// reading the file, so the render holds the patch's value. `seal` wrote the file, said it sealed
/// the key, and the controller never saw that value. Now it refuses naming the patch, the file
/// unchanged; a key no patch writes still seals, and the render decrypts it.
#[test]
fn seal_refuses_a_key_a_patch_of_the_overlay_overwrites() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    ok(&tree.run(&["paper", "--from", env]));
    append_to_paper_kustomization(
        &tree,
        "  - patch: |-\n      - op: replace\n        path: /spec/encryptedData/API_KEY\n        value: AgBpatched\n    target:\n      kind: SealedSecret\n      name: emp-secrets\n  - path: patch-sealed.yaml\n",
    );
    tree.write(
        "k8s/overlays/paper/patch-sealed.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n    POSTGRES_PASSWORD: AgBpatched\n",
    );
    if let Some(r) = crate::seal_support::render(&tree, "paper") {
        assert_eq!(r.encrypted["API_KEY"], "AgBpatched");
        assert_eq!(r.encrypted["POSTGRES_PASSWORD"], "AgBpatched");
    }
    let kustomization = tree.read("k8s/overlays/paper/kustomization.yaml");
    let op_line = kustomization
        .lines()
        .position(|l| l.contains("value: AgBpatched"))
        .unwrap()
        + 1;
    let ss = tree.ss("paper");
    let at_op = format!("k8s/overlays/paper/kustomization.yaml:{op_line}");
    refused_run(
        &tree,
        &["paper", "--from", env],
        &ss,
        &["`API_KEY`", &at_op],
    );
    let only = ["paper", "--from", env, "--only", "POSTGRES_PASSWORD"];
    let at_file = "k8s/overlays/paper/patch-sealed.yaml:8";
    refused_run(&tree, &only, &ss, &["`POSTGRES_PASSWORD`", at_file]);

    // Rotation would leave the patch's value sealed with the old certificate.
    let key = tree.write("controller-key.pem", demo_key());
    let reseal = ["reseal", "paper", "--key", key.to_str().unwrap()];
    refused_run(&tree, &reseal, &ss, &["`API_KEY`", &at_op]);

    ok(&tree.run(&["paper", "--from", env, "--only", "REDIS_PASSWORD"]));
    let mut expected = env_values();
    expected.retain(|k, _| k == "REDIS_PASSWORD");
    assert_decrypts(&tree, "paper", &expected);
}

/// With an `emp-seal.toml` listing environments, discovery is off, and variants were too: the
/// wrapper `k8s/no-keda/paper`, deployed in paper's place, was neither an environment (no glob
/// names it) nor a variant, so nothing checked it, nor the Argo CD Application deploying it with
/// a sync-time option (here `commonAnnotations`, which the model does not replay). Now a
/// kustomization no glob names that wraps a configured environment is its variant, and carries
/// the sync-time options of what deploys it.
#[test]
fn configured_environments_keep_their_variants() {
    let tree = Tree::new();
    tree.write("emp-seal.toml", "environments = [\"k8s/overlays/*\"]\n");
    let out = tree.run(&["config", "--format", "json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let paper = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "paper")
        .unwrap();
    assert_eq!(paper["variants"], serde_json::json!(["k8s/no-keda/paper"]));

    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: paper\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/emp.git\n    path: k8s/no-keda/paper\n    kustomize:\n      commonAnnotations: {team: x}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: emp-paper\n";
    tree.write("argocd/paper.yaml", app);
    let line = app
        .lines()
        .position(|l| l == "      commonAnnotations: {team: x}")
        .unwrap() as u64
        + 1;
    let (_, hits) = common::check_hits(tree.root(), &["--release", "paper"]);
    // (The tests run in this repository's root, which has its own `k8s/no-keda/paper`: the
    // variant, named by its path, must be looked for in the tree checked, not there.)
    let found: Vec<(&str, u64, &str, &str)> = hits
        .iter()
        .filter(|h| h.rule == "overlay-not-modelled")
        .map(|h| {
            (
                h.path.as_str(),
                h.line,
                h.severity.as_str(),
                h.message.as_str(),
            )
        })
        .collect();
    assert_eq!(found.len(), 1, "{hits:?}");
    let (path, at, severity, message) = found[0];
    assert_eq!((path, at, severity), ("argocd/paper.yaml", line, "error"));
    assert!(
        message.starts_with("overlay paper, variant `k8s/no-keda/paper`: "),
        "{message}"
    );
}

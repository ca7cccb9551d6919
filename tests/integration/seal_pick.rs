//! Overlays that render several SealedSecrets: `unseal`, `diff` and `reseal` pick one as `seal`
//! does (`--name`, else the env file's name for `diff`), and `--name NAMESPACE/NAME` tells apart
//! one name in two namespaces. Through the real binary; what a value opens under is proved by the
//! Python peer on what the real `kubectl kustomize` renders.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml_serde::Value;

use crate::common::{self, Peer};
use crate::seal_support::*;

fn demo_cert() -> PathBuf {
    common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem")
}
fn demo_key_path() -> PathBuf {
    common::repo_root().join("tests/fixtures/demo/paper-sealing-key.pem")
}

/// A skeleton SealedSecret document.
fn skeleton(name: &str, namespace: Option<&str>) -> String {
    let ns = namespace.map_or(String::new(), |n| format!("  namespace: {n}\n"));
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n{ns}spec:\n  encryptedData: {{}}\n"
    )
}

/// Adds overlay `k8s/overlays/<env>` rendering the given SealedSecret documents (one file),
/// with the demo certificate, and `namespace:` when given.
fn overlay(tree: &Tree, env: &str, namespace: Option<&str>, docs: &[String]) {
    let ns = namespace.map_or(String::new(), |n| format!("namespace: {n}\n"));
    tree.write(
        &format!("k8s/overlays/{env}/kustomization.yaml"),
        format!("{ns}resources:\n  - sealedsecret.yaml\n"),
    );
    tree.write(
        &format!("k8s/overlays/{env}/sealedsecret.yaml"),
        docs.join("---\n"),
    );
    std::fs::copy(demo_cert(), tree.overlay(env).join("sealing-cert.pem")).unwrap();
}

/// Every SealedSecret the real kubectl renders for an overlay: `namespace/name` -> its
/// `encryptedData`. `None` (after `common::missing`) without kubectl.
fn render_all(tree: &Tree, env: &str) -> Option<BTreeMap<String, BTreeMap<String, String>>> {
    common::kubectl()?;
    let out = common::kustomize(&tree.overlay(env));
    let mut found = BTreeMap::new();
    for d in yaml_serde::Deserializer::from_str(&out) {
        let v: Value = serde::Deserialize::deserialize(d).unwrap();
        if v.get("kind").and_then(Value::as_str) != Some("SealedSecret") {
            continue;
        }
        let meta = v.get("metadata").unwrap();
        let s = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let data = v
            .get("spec")
            .and_then(|s| s.get("encryptedData"))
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let k = k.as_str().unwrap().to_owned();
                        (k, v.as_str().unwrap_or_default().to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.insert(format!("{}/{}", s("namespace"), s("name")), data);
    }
    Some(found)
}

/// `unseal`, `diff` and `reseal` take `--name` (they used to say "pick one with --name NAME" and
/// then reject the option), and `diff` picks by the env file's name as `seal` does.
#[test]
fn unseal_diff_reseal_pick_one_of_several() {
    let tree = Tree::new();
    let docs = [skeleton("app", None), skeleton("redis", None)];
    overlay(&tree, "two", Some("two-ns"), &docs);
    let outside = tempfile::tempdir().unwrap();
    let app = outside.path().join("app.env");
    write_file(&app, format!("A={SENTINEL}-a\n").as_bytes());
    let redis = outside.path().join("redis.env");
    write_file(&redis, format!("R={SENTINEL}-r\n").as_bytes());
    let (app, redis) = (app.to_str().unwrap(), redis.to_str().unwrap());
    ok(&tree.run(&["seal", "two", "--from", app]));
    ok(&tree.run(&["seal", "two", "--from", redis]));
    let key = demo_key_path();
    let key = key.to_str().unwrap();

    let line = fails_cleanly(&tree.run(&["unseal", "two", "--key", key, "--format", "env"]));
    assert!(line.contains("pick one with --name NAME"), "{line}");
    let out = tree.run(&[
        "unseal", "two", "--name", "app", "--key", key, "--format", "env",
    ]);
    ok(&out);
    assert_eq!(stdout(&out), format!("A={SENTINEL}-a\n"));
    let out = tree.run(&["unseal", "two", "--name", "two-ns/redis", "--key", key]);
    ok(&out);
    assert!(stdout(&out).contains("name: redis"), "{}", stdout(&out));

    // diff: the env file's name picks, as for seal; --name overrides it.
    let out = tree.run(&["diff", "two", "--from", app, "--key", key]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("= A  same"), "{}", stdout(&out));
    let out = tree.run(&[
        "diff", "two", "--name", "redis", "--from", app, "--key", key,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("- R "), "{}", stdout(&out));
    no_secret(&out);

    // reseal: rotate to certificate B, then reseal `app` only.
    std::fs::copy(
        common::repo_root().join("tests/fixtures/certs/rsa-4096-cert.pem"),
        tree.overlay("two").join("sealing-cert.pem"),
    )
    .unwrap();
    let before = tree.read("k8s/overlays/two/sealedsecret.yaml");
    let line = fails_cleanly(&tree.run(&["reseal", "two", "--key", key, "--dry-run"]));
    assert!(line.contains("pick one with --name NAME"), "{line}");
    let out = tree.run(&["reseal", "two", "--name", "app", "--key", key]);
    ok(&out);
    no_secret(&out);
    let after = tree.read("k8s/overlays/two/sealedsecret.yaml");
    let second = |t: &str| t.split("---\n").nth(1).unwrap().to_owned();
    assert_eq!(second(&after), second(&before), "redis is left alone");
    let Some(r) = render_all(&tree, "two") else {
        return;
    };
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let b =
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/keys/rsa-4096-key.pem"))
            .unwrap();
    let got = peer.decrypt(&b, b"two-ns/app", &common::unb64(&r["two-ns/app"]["A"]));
    assert_eq!(got.unwrap(), format!("{SENTINEL}-a").into_bytes());
}

/// One name in two namespaces (an overlay without `namespace:`): `--name app` is ambiguous and
/// lists both as NAMESPACE/NAME; `--name ns-b/app` seals that one (not the first document of the
/// name), for the label `ns-b/app`; `unseal` takes the same, for an environment or a file.
#[test]
fn name_takes_namespace_slash_name() {
    let tree = Tree::new();
    let docs = [skeleton("app", Some("ns-a")), skeleton("app", Some("ns-b"))];
    overlay(&tree, "multi", None, &docs);
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("x.env");
    write_file(&env, format!("A={SENTINEL}-b\n").as_bytes());
    let env = env.to_str().unwrap();
    let before = tree.read("k8s/overlays/multi/sealedsecret.yaml");

    let line = fails_cleanly(&tree.run(&["seal", "multi", "--from", env, "--name", "app"]));
    assert!(
        line.contains("`ns-a/app` in") && line.contains("`ns-b/app` in"),
        "{line}"
    );
    assert_eq!(tree.read("k8s/overlays/multi/sealedsecret.yaml"), before);
    let line = fails_cleanly(&tree.run(&["seal", "multi", "--from", env, "--name", "ns-c/app"]));
    assert!(line.contains("no SealedSecret named `ns-c/app`"), "{line}");

    ok(&tree.run(&["seal", "multi", "--from", env, "--name", "ns-b/app"]));
    let after = tree.read("k8s/overlays/multi/sealedsecret.yaml");
    let first = |t: &str| t.split("---\n").next().unwrap().to_owned();
    assert_eq!(first(&after), first(&before), "ns-a/app is left alone");
    assert!(
        after.contains("emp-seal.dev/sealed-for: strict ns-b/app"),
        "{after}"
    );

    let key = demo_key_path();
    let key = key.to_str().unwrap();
    let file = tree.ss("multi");
    for target in ["multi", file.to_str().unwrap()] {
        let out = tree.run(&[
            "unseal", target, "--name", "ns-b/app", "--key", key, "--format", "env",
        ]);
        ok(&out);
        assert_eq!(stdout(&out), format!("A={SENTINEL}-b\n"), "{target}");
    }
    let Some(r) = render_all(&tree, "multi") else {
        return;
    };
    assert!(r["ns-a/app"].is_empty());
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let got = peer.decrypt(
        &demo_key(),
        b"ns-b/app",
        &common::unb64(&r["ns-b/app"]["A"]),
    );
    assert_eq!(got.unwrap(), format!("{SENTINEL}-b").into_bytes());
}

/// The demo tree with paper's overlay listing a resource outside it, which the default load
/// restrictor refuses (kustomize `api/internal/loader/fileloader.go`); the real
/// `kubectl kustomize` is checked to refuse the overlay.
fn overlay_outside_the_root() -> Tree {
    let tree = Tree::new();
    tree.write(
        "outside.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\n",
    );
    let k = "k8s/overlays/paper/kustomization.yaml";
    let text = tree.read(k).replacen(
        "  - sealedsecret.yaml\n",
        "  - sealedsecret.yaml\n  - ../../../outside.yaml\n",
        1,
    );
    tree.write(k, text);
    if common::kubectl().is_some() {
        assert!(
            !common::kustomize_raw(&tree.overlay("paper"))
                .status
                .success()
        );
    }
    tree
}

/// An overlay kustomize does not build (a resource outside the overlay, which the default load
/// restrictor refuses: kustomize `api/internal/loader/fileloader.go`): `seal --name X` said the
/// overlay "renders no SealedSecret named `X`", while without `--name` the build error was the
/// answer. Now both report the build error (exit 2, nothing written); so do `reseal` and
/// `unseal`, which pick the same way. The real `kubectl kustomize` refuses the overlay too.
#[test]
fn a_name_on_an_overlay_that_does_not_build_gets_the_build_error() {
    let tree = overlay_outside_the_root();
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let key = demo_key_path();
    let key = key.to_str().unwrap();
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let want = "k8s/overlays/paper/kustomization.yaml:14: file outside.yaml is not in or below k8s/overlays/paper";
    for args in [
        &["seal", "paper", "--from", env][..],
        &["seal", "paper", "--from", env, "--name", "X"],
        &["seal", "paper", "--from", env, "--name", "emp-secrets"],
        &["reseal", "paper", "--key", key, "--name", "X"],
        &["unseal", "paper", "--key", key, "--name", "X"],
    ] {
        let out = tree.run(args);
        let line = fails_cleanly(&out);
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(
            !line.contains("renders no SealedSecret"),
            "{args:?}: {line}"
        );
        assert_eq!(std::fs::read(tree.ss("paper")).unwrap(), before, "{args:?}");
    }
}

/// `seal --name`, `reseal` and `unseal` naming the SealedSecret an overlay kustomize does not
/// build renders give the same error and hint for the same cause. `seal --name` refused with
/// "the name, namespace and scope ... are not known" and the hint to keep the overlay within
/// the model, while `reseal` and `unseal` reported the build error with the hint to fix the
/// file and line named.
#[test]
fn seal_reseal_and_unseal_give_one_error_for_a_broken_overlay() {
    let tree = overlay_outside_the_root();
    let env = tree.write("secrets.env", env_text());
    let key = demo_key_path();
    let (env, key) = (env.to_str().unwrap(), key.to_str().unwrap());
    let answers: Vec<String> = [
        &["seal", "paper", "--from", env, "--name", "emp-secrets"][..],
        &["reseal", "paper", "--key", key, "--name", "emp-secrets"],
        &["unseal", "paper", "--key", key, "--name", "emp-secrets"],
    ]
    .iter()
    .map(|args| {
        let out = tree.run(args);
        fails_cleanly(&out);
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("error: ") || l.starts_with("help: "))
            .collect::<Vec<_>>()
            .join("\n")
    })
    .collect();
    assert!(answers[0].contains("is not in or below"), "{}", answers[0]);
    assert!(answers[0].contains("\nhelp: "), "{}", answers[0]);
    assert_eq!(answers[1], answers[0]);
    assert_eq!(answers[2], answers[0]);
}

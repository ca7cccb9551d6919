//! `dangling-reference` and Secrets that operators make at run time from custom resources the
//! overlay renders (`kustomize::runtime_secrets::SECRET_MAKERS`): each kind makes the Secret it
//! names, in its own rendered namespace, under the name kustomize leaves it (`namePrefix`
//! renames the custom resource, not the names in its spec), and a name nothing makes still
//! dangles. The real `kubectl kustomize` is the oracle for what a prefix renames.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, Hit, check_hits, git, write};

/// A Deployment `name` in `namespace` (none: the overlay's) reading Secret `secret`.
fn deployment(name: &str, namespace: Option<&str>, secret: &str) -> String {
    let ns = namespace.map_or(String::new(), |n| format!("\n  namespace: {n}"));
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{ns}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: nginx:1
          envFrom:
            - secretRef:
                name: {secret}
"
    )
}

/// A git repository with overlay `dev` rendering `workloads` and `makers` under the
/// kustomization options `options` (`None` when git is missing outside CI).
fn tree(options: &str, workloads: &str, makers: &str) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "k8s/overlays/dev/workloads.yaml", workloads);
    write(t.path(), "k8s/overlays/dev/makers.yaml", makers);
    write(
        t.path(),
        "k8s/overlays/dev/kustomization.yaml",
        &format!("{options}resources:\n  - workloads.yaml\n  - makers.yaml\n"),
    );
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    Some(t)
}

/// The `dangling-reference` findings of `check` on `root`, which must build (else the rule
/// would not have run on it).
fn dangling(root: &Path) -> Vec<Hit> {
    let (_, hits) = check_hits(root, &["--render=never"]);
    let broken: Vec<&Hit> = (hits.iter())
        .filter(|h| ["yaml-syntax", "overlay-build-error"].contains(&h.rule.as_str()))
        .collect();
    assert!(broken.is_empty(), "{broken:?}");
    hits.into_iter()
        .filter(|h| h.rule == "dangling-reference")
        .collect()
}

/// One custom resource of each row of the table, and the Secret it makes in namespace `dev`.
const ROWS: &[(&str, &str)] = &[
    (
        "cert-tls",
        "apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: cert}
spec: {secretName: cert-tls, dnsNames: [a.example.internal], issuerRef: {name: ca}}
",
    ),
    (
        "es-target",
        "apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: es}
spec:
  secretStoreRef: {name: store, kind: ClusterSecretStore}
  target: {name: es-target}
  dataFrom: [{extract: {key: app}}]
",
    ),
    (
        "es-default",
        "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: es-default}
spec:
  secretStoreRef: {name: store}
  dataFrom: [{extract: {key: app}}]
",
    ),
    (
        "vault-static",
        "apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: {name: vs}
spec: {mount: kv, type: kv-v2, path: app, destination: {name: vault-static, create: true}}
",
    ),
    (
        "vault-dynamic",
        "apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultDynamicSecret
metadata: {name: vd}
spec: {mount: db, path: creds/app, destination: {name: vault-dynamic, create: true}}
",
    ),
    (
        "vault-pki",
        "apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultPKISecret
metadata: {name: vp}
spec: {mount: pki, role: app, destination: {name: vault-pki, create: true}}
",
    ),
    (
        "op-item",
        "apiVersion: onepassword.com/v1
kind: OnePasswordItem
metadata: {name: op-item}
spec: {itemPath: vaults/app/items/db}
",
    ),
    (
        "sops-second",
        "apiVersion: isindir.github.com/v1alpha3
kind: SopsSecret
metadata: {name: sops}
spec:
  secretTemplates:
    - name: sops-first
      stringData:
        A: ENC[AES256_GCM,data:eA==,type:str]
    - name: sops-second
      stringData:
        B: ENC[AES256_GCM,data:eQ==,type:str]
",
    ),
    (
        "ces-made",
        "apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: ces}
spec:
  namespaces: [dev, qa]
  externalSecretSpec:
    secretStoreRef: {name: store, kind: ClusterSecretStore}
    target: {name: ces-made}
",
    ),
];

/// Each row's custom resource makes the Secret a Deployment reads (a false `dangling-reference`
/// before), and the same Deployment without the custom resource still dangles.
#[test]
fn each_secret_maker_makes_the_secret_a_workload_reads() {
    let mut wrong = Vec::new();
    for (secret, maker) in ROWS {
        let Some(t) = tree("namespace: dev\n", &deployment("app", None, secret), maker) else {
            return;
        };
        let hits = dangling(t.path());
        if !hits.is_empty() {
            wrong.push(format!("{secret}: {hits:?}"));
        }

        let Some(without) = tree("namespace: dev\n", &deployment("app", None, secret), "") else {
            return;
        };
        let hits = dangling(without.path());
        assert_eq!(hits.len(), 1, "{secret}: {hits:?}");
        assert!(
            hits[0].message.contains(&format!("Secret `{secret}`")),
            "{hits:?}"
        );
    }
    assert!(wrong.is_empty(), "false dangling-reference: {wrong:#?}");
}

/// A name no custom resource makes still dangles, beside one that is made; and a custom
/// resource that does not create its Secret (`ExternalSecret` `creationPolicy: Merge`, Vault
/// without `destination.create`) makes nothing.
#[test]
fn names_nothing_makes_still_dangle() {
    let workloads = [
        deployment("made", None, "es-target"),
        deployment("typo", None, "es-targt"),
        deployment("merged", None, "merge-into"),
        deployment("vault", None, "vault-existing"),
    ]
    .join("---\n");
    let makers = format!(
        "{}---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: merge-into}}
spec:
  secretStoreRef: {{name: store}}
  target: {{creationPolicy: Merge}}
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: {{name: vs}}
spec: {{mount: kv, type: kv-v2, path: app, destination: {{name: vault-existing}}}}
",
        ROWS[1].1
    );
    let Some(t) = tree("namespace: dev\n", &workloads, &makers) else {
        return;
    };
    let mut named: Vec<String> = dangling(t.path())
        .iter()
        .map(|h| h.message.clone())
        .collect();
    named.sort();
    assert_eq!(named.len(), 3, "{named:?}");
    for (message, (referrer, secret)) in named.iter().zip([
        ("merged", "merge-into"),
        ("typo", "es-targt"),
        ("vault", "vault-existing"),
    ]) {
        assert!(
            message.contains(&format!("Deployment `{referrer}` names Secret `{secret}`")),
            "{message}"
        );
    }
}

/// `namePrefix` renames the `ExternalSecret` and the `OnePasswordItem` (so the Secrets named after
/// them) but not `spec.target.name`, nor the Deployments' references (no Secret of that name is
/// in the build): computed from the real render, then checked against emp-seal's findings.
#[test]
fn name_prefix_renames_the_secret_named_after_its_custom_resource_only() {
    let written = ["es-target", "es-default", "op-item"];
    let workloads: Vec<String> = (written.iter())
        .flat_map(|s| [s.to_string(), format!("p-{s}")])
        .enumerate()
        .map(|(i, s)| deployment(&format!("app{i}"), None, &s))
        .collect();
    let makers = [ROWS[1].1, ROWS[2].1, ROWS[6].1].join("---\n");
    let Some(t) = tree(
        "namespace: dev\nnamePrefix: p-\n",
        &workloads.join("---\n"),
        &makers,
    ) else {
        return;
    };
    let got: Vec<String> = dangling(t.path())
        .iter()
        .map(|h| h.message.clone())
        .collect();

    if common::kubectl().is_none() {
        return;
    }
    // What the cluster would get: the Secrets the rendered makers name (target.name, else the
    // rendered metadata.name), and the names the rendered Deployments read.
    let rendered = common::kustomize(&t.path().join("k8s/overlays/dev"));
    let docs: Vec<serde_json::Value> = rendered
        .split("\n---\n")
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect();
    let made: Vec<&str> = (docs.iter())
        .filter(|d| d["kind"] != "Deployment")
        .map(|d| {
            d["spec"]["target"]["name"]
                .as_str()
                .or(d["metadata"]["name"].as_str())
                .unwrap()
        })
        .collect();
    let read: Vec<(&str, &str)> = (docs.iter())
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let c = &d["spec"]["template"]["spec"]["containers"][0];
            (
                d["metadata"]["name"].as_str().unwrap(),
                c["envFrom"][0]["secretRef"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(made.len(), 3, "{rendered}");
    assert_eq!(read.len(), 6, "{rendered}");
    let expect: Vec<String> = (read.iter())
        .filter(|(_, s)| !made.contains(s))
        .map(|(d, s)| format!("Deployment `{d}` names Secret `{s}`"))
        .collect();
    // The oracle sees the trap: the two named after their renamed object dangle as written,
    // and `target.name` is not prefixed, so `p-es-target` dangles.
    assert_eq!(expect.len(), 3, "{made:?} {read:?}");
    assert_eq!(got.len(), expect.len(), "{got:?} vs {expect:?}");
    for e in &expect {
        assert!(got.iter().any(|g| g.contains(e)), "{e} not in {got:?}");
    }
    // Where the Secret is named after its renamed custom resource, the message says its name.
    for (_, s) in read.iter().filter(|(_, s)| !made.contains(s)) {
        let renamed = format!("p-{s}");
        let said = got.iter().any(|g| {
            g.contains(&format!("Secret `{s}`")) && g.contains(&format!("renders as `{renamed}`"))
        });
        assert_eq!(said, made.contains(&renamed.as_str()), "{s}: {got:?}");
    }

    // The model renders these custom resources as kustomize does.
    let (_, hits) = check_hits(t.path(), &["--render=always"]);
    assert!(
        !hits
            .iter()
            .any(|h| h.rule == "model-divergence" || h.rule == "render-failed"),
        "{hits:?}"
    );
}

/// The Secret lands in the custom resource's rendered namespace: a maker in namespace `a` does
/// not cover a reference from namespace `b`; a `ClusterExternalSecret` covers the namespaces it
/// lists, and any namespace when it selects them by label.
#[test]
fn the_secret_is_made_in_the_custom_resource_namespace_only() {
    let workloads = [
        deployment("in-a", Some("a"), "shared"),
        deployment("in-b", Some("b"), "shared"),
        deployment("listed-b", Some("b"), "listed"),
        deployment("listed-c", Some("c"), "listed"),
        deployment("labelled-c", Some("c"), "labelled"),
    ]
    .join("---\n");
    let makers = "apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: shared, namespace: a}
spec: {secretStoreRef: {name: store}}
---
apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: listed}
spec:
  namespaces: [a, b]
  externalSecretSpec: {secretStoreRef: {name: store, kind: ClusterSecretStore}}
---
apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: ces}
spec:
  externalSecretName: labelled
  namespaceSelectors: [{matchLabels: {team: app}}]
  externalSecretSpec: {secretStoreRef: {name: store, kind: ClusterSecretStore}}
";
    let Some(t) = tree("", &workloads, makers) else {
        return;
    };
    let got: Vec<String> = dangling(t.path())
        .iter()
        .map(|h| h.message.clone())
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter()
            .any(|m| m.contains("Deployment `in-b` names Secret `shared`")
                && m.contains("namespace b")),
        "{got:?}"
    );
    assert!(
        got.iter().any(
            |m| m.contains("Deployment `listed-c` names Secret `listed`")
                && m.contains("namespace c")
        ),
        "{got:?}"
    );
}

/// A Flux Kustomization `name` deploying `./path`, or an Argo CD Application deploying `path`
/// to the cluster `server` (`argo`).
fn deployer(name: &str, path: &str, argo: Option<&str>) -> String {
    match argo {
        None => format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, namespace: flux-system}}\nspec:\n  interval: 10m\n  dependsOn: [{{name: infrastructure}}]\n  path: ./{path}\n  prune: true\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n"
        ),
        Some(server) => format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}, namespace: argocd}}\nspec:\n  project: default\n  source: {{repoURL: https://example.org/r.git, path: {path}}}\n  destination: {{server: '{server}', namespace: apps}}\n"
        ),
    }
}

/// Flux bootstrap's layout: `clusters/prod/infrastructure.yaml` deploys `infrastructure/`, whose
/// SealedSecret `regcred` lands in namespace `apps`; `clusters/prod/apps.yaml` deploys `apps/`,
/// whose Deployment reads it. One cluster holds both renders, so the reference is answered;
/// a Kustomization of another cluster (`clusters/staging`, or a remote one by `spec.kubeConfig`),
/// or an Argo CD Application of another destination server, does not answer it. The real `kubectl kustomize` says both land
/// in namespace `apps`.
#[test]
fn a_secret_another_deploy_object_of_the_cluster_renders_answers_a_reference() {
    if common::kubectl().is_none() {
        return;
    }
    let Some(t) = tree("", "", "") else { return };
    let root = t.path();
    std::fs::remove_dir_all(root.join("k8s")).unwrap();
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: regcred, namespace: apps}\nspec:\n  encryptedData: {token: AgBy3i4OJSWK}\n";
    write(root, "infrastructure/regcred.yaml", sealed);
    write(
        root,
        "infrastructure/kustomization.yaml",
        "resources: [regcred.yaml]\n",
    );
    write(root, "apps/web.yaml", &deployment("web", None, "regcred"));
    write(
        root,
        "apps/kustomization.yaml",
        "namespace: apps\nresources: [web.yaml]\n",
    );
    for (dir, kind) in [("infrastructure", "SealedSecret"), ("apps", "Deployment")] {
        let out = common::kustomize(&root.join(dir));
        assert!(
            out.contains(&format!("kind: {kind}")) && out.contains("namespace: apps"),
            "{out}"
        );
    }
    let layout = |infra: &str, apps: &str, argo: [Option<&str>; 2]| {
        let _ = std::fs::remove_dir_all(root.join("clusters"));
        write(
            root,
            infra,
            &deployer("infrastructure", "infrastructure", argo[0]),
        );
        write(root, apps, &deployer("apps", "apps", argo[1]));
        git(root, &["add", "-A"]);
        dangling(root).len()
    };
    let (prod, staging) = (
        "clusters/prod/infrastructure.yaml",
        "clusters/staging/apps.yaml",
    );
    assert_eq!(layout(prod, "clusters/prod/apps.yaml", [None; 2]), 0);
    let remote = deployer("infrastructure", "infrastructure", None).replace(
        "  prune:",
        "  kubeConfig: {secretRef: {name: remote}}\n  prune:",
    );
    write(root, prod, &remote);
    git(root, &["add", "-A"]);
    assert_eq!(
        dangling(root).len(),
        1,
        "`spec.kubeConfig`: a remote cluster"
    );
    assert_eq!(
        layout(prod, staging, [None; 2]),
        1,
        "another cluster answers nothing"
    );
    let one = Some("https://kubernetes.default.svc");
    assert_eq!(
        layout(prod, staging, [one; 2]),
        0,
        "Argo CD: one destination server"
    );
    let other = Some("https://prod.example.internal");
    assert_eq!(
        layout(prod, staging, [one, other]),
        1,
        "Argo CD: two servers"
    );
}

/// An Argo Rollouts `Rollout` carries a Deployment's pod template: its references are read, so
/// one to a Secret nothing renders dangles. So does the same document of another API group, read
/// by its shape (a `spec.template.spec` with `containers`); one whose template holds no
/// `containers` list is no pod template, and is not read.
#[test]
fn a_rollout_s_pod_template_is_read() {
    let rollout = |name: &str, group: &str| {
        deployment(name, None, "absent").replace(
            "apiVersion: apps/v1\nkind: Deployment",
            &format!("apiVersion: {group}\nkind: Rollout"),
        )
    };
    let not_a_pod = rollout("steps", "example.com/v1").replace("containers:", "steps:");
    assert_ne!(not_a_pod, rollout("steps", "example.com/v1"));
    let workloads = [
        rollout("argo", "argoproj.io/v1alpha1"),
        rollout("other", "example.com/v1"),
        not_a_pod,
    ]
    .join("---\n");
    let Some(t) = tree("namespace: dev\n", &workloads, "") else {
        return;
    };
    let named: Vec<String> = dangling(t.path()).into_iter().map(|h| h.message).collect();
    assert_eq!(named.len(), 2, "{named:?}");
    assert!(
        named[0].contains("Rollout `argo` names Secret `absent`"),
        "{named:?}"
    );
    assert!(
        named[1].contains("Rollout `other` names Secret `absent`"),
        "{named:?}"
    );
}

/// A KEDA `ClusterTriggerAuthentication` is cluster-scoped and KEDA reads its Secrets from its
/// own namespace (`keda` by default, an install setting): a Secret the overlay renders in any
/// namespace may be the one; a name the overlay renders nowhere dangles.
#[test]
fn a_cluster_trigger_authentication_s_secret_may_be_in_any_namespace() {
    let makers = "apiVersion: v1
kind: Secret
metadata: {name: redis-auth, namespace: keda}
type: Opaque
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata: {name: found}
spec:
  secretTargetRef:
    - {parameter: password, name: redis-auth, key: PASSWORD}
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata: {name: missing}
spec:
  secretTargetRef:
    - {parameter: password, name: redis-typo, key: PASSWORD}
";
    let Some(t) = tree("", "", makers) else {
        return;
    };
    let named: Vec<String> = dangling(t.path()).into_iter().map(|h| h.message).collect();
    assert_eq!(named.len(), 1, "{named:?}");
    assert!(
        named[0].contains("ClusterTriggerAuthentication `missing` names Secret `redis-typo`, which the overlay does not render in any namespace"),
        "{named:?}"
    );
}

/// The Secret of a CSI, `azureFile` or `rbd` volume: kustomize's nameReference table lists none of
/// them, so a `namePrefix` renames the Secret and leaves the volume naming the written name,
/// which dangles (the real kustomize is the oracle for what it renames). Without the prefix the
/// same tree is clean, and a name nothing renders dangles either way.
#[test]
fn a_volume_source_s_secret_is_read_and_not_renamed() {
    let workloads = "apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx:1}]
      volumes:
        - name: kv
          csi: {driver: secrets-store.csi.k8s.io, nodePublishSecretRef: {name: csi-creds}}
        - name: share
          azureFile: {secretName: az-creds, shareName: data}
        - name: block
          rbd: {monitors: [10.0.0.1], image: disk, secretRef: {name: ceph-creds}}
";
    let secret = |name: &str| format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}}}\n");
    let makers = ["csi-creds", "az-creds", "ceph-creds"]
        .map(secret)
        .join("---\n");
    let Some(clean) = tree("", workloads, &makers) else {
        return;
    };
    let none = dangling(clean.path());
    assert!(none.is_empty(), "no prefix: every name renders: {none:?}");

    let Some(t) = tree("namePrefix: dev-\n", workloads, &makers) else {
        return;
    };
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&t.path().join("k8s/overlays/dev"));
        for name in ["csi-creds", "az-creds", "ceph-creds"] {
            assert!(
                rendered.contains(&format!("name: dev-{name}")),
                "{rendered}"
            );
        }
        // The volumes still name the written names.
        let lines: Vec<&str> = rendered.lines().map(str::trim).collect();
        for written in [
            "name: csi-creds",
            "secretName: az-creds",
            "name: ceph-creds",
        ] {
            assert!(lines.contains(&written), "{written}: {rendered}");
        }
    }
    let named: Vec<String> = dangling(t.path()).into_iter().map(|h| h.message).collect();
    assert_eq!(named.len(), 3, "{named:?}");
    for name in ["csi-creds", "az-creds", "ceph-creds"] {
        assert!(
            named
                .iter()
                .any(|m| m.contains(&format!("Secret `{name}`"))),
            "{name}: {named:?}"
        );
    }

    let typo = makers.replace("name: az-creds", "name: az-other");
    let Some(t) = tree("", workloads, &typo) else {
        return;
    };
    let named: Vec<String> = dangling(t.path()).into_iter().map(|h| h.message).collect();
    assert_eq!(named.len(), 1, "{named:?}");
    assert!(named[0].contains("names Secret `az-creds`"), "{named:?}");
}

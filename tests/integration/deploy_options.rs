//! The kustomize options the Argo CD Applications and Flux Kustomizations deploying an overlay
//! apply at sync time, as the model replays them: Flux's `targetNamespace`, `namePrefix` and
//! `nameSuffix` and Argo CD's `spec.source.kustomize` `namespace`, `namePrefix` and `nameSuffix`
//! written into the overlay's own kustomization (fluxcd/pkg `kustomize/kustomize_generator.go`,
//! argo-cd `util/kustomize/kustomize.go`), and Argo CD's `spec.destination.namespace` for the
//! namespaced objects that render without one (argo-cd `controller/state.go`). The oracle is the
//! real `kubectl kustomize` of the overlay with the option written into its kustomization, as the
//! tools write it, and the Python peer decrypting the sealed values under what that renders.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::{self, Hit, Peer};
use crate::seal_support::{Tree, demo_key, env_text, env_values, fails_cleanly, ok, render};

/// A Flux Kustomization deploying the paper overlay with `options` (spec lines, two-space
/// indented).
fn flux(name: &str, options: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./k8s/overlays/paper\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{options}"
    )
}

/// An Argo CD Application deploying the paper overlay with `kustomize` options (lines under
/// `spec.source.kustomize`, six-space indented) into `destination`.
fn argo(kustomize: &str, destination: &str) -> String {
    let kustomize = if kustomize.is_empty() {
        String::new()
    } else {
        format!("    kustomize:\n{kustomize}")
    };
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: paper\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/emp.git\n    targetRevision: main\n    path: k8s/overlays/paper\n{kustomize}  destination:\n    server: https://kubernetes.default.svc\n    namespace: {destination}\n"
    )
}

/// Replaces the first `from` by `to` in the file `rel` of `tree`.
fn edit(tree: &Tree, rel: &str, from: &str, to: &str) {
    let text = tree.read(rel);
    assert!(text.contains(from), "{rel} holds {from:?}");
    tree.write(rel, text.replacen(from, to, 1));
}

const KUSTOMIZATION: &str = "k8s/overlays/paper/kustomization.yaml";
const SEALED: &str = "k8s/overlays/paper/sealedsecret.yaml";

/// Sets `field: value` in paper's own kustomization, over its own value, as Flux and Argo CD do
/// before building (the oracle's view of what they deploy).
fn set_in_place(tree: &Tree, field: &str, value: &str) {
    let text = tree.read(KUSTOMIZATION);
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{field}:")))
        .map(|l| format!("{l}\n"))
        .collect();
    tree.write(KUSTOMIZATION, format!("{kept}{field}: {value}\n"));
}

/// The shipped tree without its `k8s/no-keda` variants, which wrap the overlays and are
/// deployments of their own that no Application or Kustomization here deploys.
fn shipped() -> Tree {
    let tree = Tree::new();
    std::fs::remove_dir_all(tree.path("k8s/no-keda")).unwrap();
    tree
}

/// Seals paper from [`env_text`]; asserts success.
fn seal_paper(tree: &Tree) {
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
}

/// `check --release paper`: exit code and findings (the render comparison runs: kubectl is on
/// PATH in CI).
fn release(tree: &Tree) -> (i32, Vec<Hit>) {
    common::check_hits(tree.root(), &["--release", "paper"])
}

/// The rules of `hits`, but the two the shipped tree's demo certificate always gives.
fn rules(hits: &[Hit]) -> Vec<&str> {
    hits.iter()
        .map(|h| h.rule.as_str())
        .filter(|r| !matches!(*r, "demo-certificate" | "sealed-with-demo-certificate"))
        .collect()
}

/// Removes the SealedSecret file's own namespaces (`metadata` and `spec.template.metadata`),
/// which would disagree with a namespace the deployment gives (seal refuses that).
fn drop_sealed_namespaces(tree: &Tree) {
    let text: String = tree
        .read(SEALED)
        .lines()
        .filter(|l| l.trim() != "namespace: emp-paper")
        .map(|l| format!("{l}\n"))
        .collect();
    tree.write(SEALED, text);
}

/// The line of the first line of `text` holding `needle`, 1-based.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

/// Decrypts every value of paper's rendered SealedSecret with the Python peer under the label
/// of `namespace`/`name`, strict scope. False when kubectl or the peer is missing (reported).
fn decrypts_as(tree: &Tree, namespace: &str, name: &str) -> bool {
    let Some(r) = render(tree, "paper") else {
        return false;
    };
    let Some(mut peer) = Peer::start() else {
        return false;
    };
    let label = format!("{namespace}/{name}").into_bytes();
    for (k, want) in env_values() {
        let ct = common::unb64(&r.encrypted[&k]);
        let got = peer.decrypt(&demo_key(), &label, &ct).unwrap();
        assert_eq!(got, want, "{k}");
    }
    true
}

/// A Flux Kustomization deploying paper with `targetNamespace`: Flux writes it over the
/// overlay's `namespace`, so the controller gets the SealedSecret in that namespace. Every such
/// option was `overlay-not-modelled` (an error under `--release`) and `seal` refused, so the
/// most common Flux shape never passed the release gate. Now `seal` seals for the deployed
/// namespace, `check --release` passes (the render comparison renders the option too), and the
/// values decrypt under what kubectl renders with the namespace written in place; deployed into
/// another namespace than the one sealed for, it is an `identity-mismatch`.
#[test]
fn flux_target_namespace_is_sealed_for_and_checked_as_deployed() {
    let tree = shipped();
    drop_sealed_namespaces(&tree);
    tree.write(
        "clusters/live/paper.yaml",
        flux("paper", "  targetNamespace: emp-live\n"),
    );
    seal_paper(&tree);
    assert!(
        tree.read(SEALED)
            .contains("sealed-for: strict emp-live/emp-secrets"),
        "{}",
        tree.read(SEALED)
    );
    let (_, hits) = release(&tree);
    assert_eq!(rules(&hits), Vec::<&str>::new(), "{hits:?}");

    // Deployed elsewhere than sealed for: the SealedSecret's identity no longer decrypts.
    tree.write(
        "clusters/live/paper.yaml",
        flux("paper", "  targetNamespace: emp-other\n"),
    );
    let (code, hits) = release(&tree);
    assert_eq!(code, 1);
    assert_eq!(rules(&hits), ["identity-mismatch"], "{hits:?}");
    assert!(
        hits.iter()
            .any(|h| h.message.contains("renders as emp-other/emp-secrets")),
        "{hits:?}"
    );

    // The oracle: the overlay as Flux builds it for the first Kustomization.
    set_in_place(&tree, "namespace", "emp-live");
    let r = render(&tree, "paper");
    if let Some(r) = r {
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_str()),
            (Some("emp-live"), "emp-secrets")
        );
        decrypts_as(&tree, "emp-live", "emp-secrets");
    }
}

/// An Argo CD Application with `spec.source.kustomize.namePrefix`: Argo CD runs `kustomize edit
/// set nameprefix` in the overlay, so every object is renamed as kubectl renders it with the
/// prefix written there. The model now renames too: the SealedSecret sealed for `emp-secrets`
/// is an `identity-mismatch` naming the name kubectl renders, instead of an
/// `overlay-not-modelled`, and the render comparison (with the prefix) agrees with the model.
#[test]
fn argo_name_prefix_renames_as_kubectl_renders_it() {
    let tree = shipped();
    seal_paper(&tree);
    tree.write(
        "argocd/paper.yaml",
        argo("      namePrefix: x-\n", "emp-paper"),
    );
    // The oracle: kubectl on a copy of the tree with the prefix written in place.
    let oracle = shipped();
    set_in_place(&oracle, "namePrefix", "x-");
    let Some(r) = render(&oracle, "paper") else {
        return;
    };
    assert_eq!(r.name, "x-emp-secrets");
    let (code, hits) = release(&tree);
    assert_eq!(code, 1);
    let mismatch: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "identity-mismatch")
        .collect();
    let rendered = format!(
        "renders as {}/{}",
        r.namespace.as_deref().unwrap_or_default(),
        r.name
    );
    assert_eq!(mismatch.len(), 1, "{hits:?}");
    assert!(mismatch[0].message.contains(&rendered), "{hits:?}");
    for rule in ["overlay-not-modelled", "model-divergence", "render-failed"] {
        assert!(!rules(&hits).contains(&rule), "{hits:?}");
    }
}

/// An Argo CD Application deploying an overlay without `namespace:` into
/// `destination.namespace: emp-paper`: Argo CD applies the objects that render without a
/// namespace there, so the Deployment reads the Secret the SealedSecret (namespace `emp-paper`)
/// gives. The model put them nowhere and reported a false `dangling-reference` (and a strict
/// SealedSecret without namespace an `identity-mismatch`). Now both pass `check --release`, and
/// the values sealed for the destination decrypt under it.
#[test]
fn argo_destination_namespace_places_objects_without_one() {
    let tree = shipped();
    edit(&tree, KUSTOMIZATION, "namespace: emp-paper\n", "");
    seal_paper(&tree);
    tree.write("argocd/paper.yaml", argo("", "emp-paper"));
    let (_, hits) = release(&tree);
    assert_eq!(rules(&hits), Vec::<&str>::new(), "{hits:?}");
    // Without the Application, nothing places the Deployment in emp-paper.
    std::fs::remove_file(tree.path("argocd/paper.yaml")).unwrap();
    let (_, hits) = release(&tree);
    assert!(rules(&hits).contains(&"dangling-reference"), "{hits:?}");

    // A strict SealedSecret without a namespace: sealed for where Argo CD applies it.
    tree.write("argocd/paper.yaml", argo("", "emp-paper"));
    drop_sealed_namespaces(&tree);
    seal_paper(&tree);
    assert!(
        tree.read(SEALED)
            .contains("sealed-for: strict emp-paper/emp-secrets")
    );
    let (_, hits) = release(&tree);
    assert_eq!(rules(&hits), Vec::<&str>::new(), "{hits:?}");
    if let Some(r) = render(&tree, "paper") {
        assert_eq!(r.namespace, None, "kubectl renders it without a namespace");
        decrypts_as(&tree, "emp-paper", &r.name);
    }
}

/// Two Flux Kustomizations deploy paper into different namespaces: two deployments, which the
/// model does not check one by one. Each option is `overlay-not-modelled` naming both objects,
/// and `seal` refuses (one identity cannot be right for both) naming the option's line.
#[test]
fn objects_deploying_an_overlay_differently_are_not_modelled_and_seal_refuses() {
    let tree = shipped();
    let text = format!(
        "{}---\n{}",
        flux("paper-a", "  targetNamespace: emp-a\n"),
        flux("paper-b", "  targetNamespace: emp-b\n")
    );
    tree.write("clusters/paper.yaml", &text);
    let first = line_of(&text, "targetNamespace: emp-a");
    let second = line_of(&text, "targetNamespace: emp-b");
    let (_, hits) = release(&tree);
    let lines: Vec<u64> = hits
        .iter()
        .filter(|h| h.rule == "overlay-not-modelled")
        .map(|h| h.line)
        .collect();
    assert_eq!(lines, [first, second], "{hits:?}");
    for h in hits.iter().filter(|h| h.rule == "overlay-not-modelled") {
        assert!(
            h.message
                .contains("set different name or namespace options"),
            "{h:?}"
        );
    }
    let env = tree.write("secrets.env", env_text());
    let e = fails_cleanly(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    assert!(e.contains(&format!("clusters/paper.yaml:{first}")), "{e}");
}

/// A deploy-time `namePrefix` (Argo CD) or `nameSuffix` (Flux) over the overlay's own replaces
/// it: kubectl renders the overlay with the option written in place as `x-emp-secrets`, not
/// `x-a-emp-secrets`. The model replaced it, but the render comparison set the option in a
/// kustomization wrapping the overlay, which stacks it on the overlay's own: a false
/// `model-divergence` for every renamed object, and an `overlay-not-modelled` saying the
/// comparison could not show it. Now the render sets it in a temporary copy's kustomization, as
/// Argo CD and Flux do: neither finding, the SealedSecret's identity judged as kubectl renders
/// it, and a real divergence (a `replacements:` entry the model does not follow) still reported.
#[test]
fn a_deployed_prefix_or_suffix_replacing_the_overlays_own_is_rendered_as_deployed() {
    for (own, option, file, deploy) in [
        (
            "namePrefix: a-\n",
            "namePrefix",
            "argocd/paper.yaml",
            argo("      namePrefix: x-\n", "emp-paper"),
        ),
        (
            "nameSuffix: -a\n",
            "nameSuffix",
            "clusters/paper.yaml",
            flux("paper", "  nameSuffix: -x\n"),
        ),
    ] {
        let tree = shipped();
        seal_paper(&tree);
        edit(
            &tree,
            KUSTOMIZATION,
            "namespace: emp-paper\n",
            &format!("namespace: emp-paper\n{own}"),
        );
        tree.write(file, &deploy);
        // The oracle: kubectl on the overlay with the option written in place.
        let oracle = shipped();
        let value = deploy_value(&deploy, option);
        set_in_place(&oracle, option, &value);
        let Some(r) = render(&oracle, "paper") else {
            return;
        };
        assert!(!r.name.contains('a'), "{option}: replaced: {}", r.name);
        let (code, hits) = release(&tree);
        assert_eq!(code, 1, "{hits:?}");
        // (The renamed references the prefix leaves dangling are real findings: KEDA's fields
        // and the Secret the SealedSecret gives are not renamed with them.)
        for rule in ["overlay-not-modelled", "model-divergence", "render-failed"] {
            assert!(!rules(&hits).contains(&rule), "{option}: {hits:?}");
        }
        let renders_as = format!("renders as emp-paper/{}", r.name);
        assert!(
            hits.iter()
                .any(|h| h.rule == "identity-mismatch" && h.message.contains(&renders_as)),
            "{option}: {hits:?}"
        );

        // What the model does not follow still diverges, rendered through the copy.
        let allowed = "# emp-seal:allow overlay-not-modelled -- the release gate compares the render\nreplacements:\n  - source: {kind: ConfigMap, name: emp-config, fieldPath: metadata.name}\n    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.serviceAccountName]\n";
        tree.write(
            KUSTOMIZATION,
            format!("{}{allowed}", tree.read(KUSTOMIZATION)),
        );
        let (_, hits) = release(&tree);
        let div: Vec<&Hit> = hits
            .iter()
            .filter(|h| h.rule == "model-divergence")
            .collect();
        assert_eq!(div.len(), 1, "{option}: {hits:?}");
        assert!(
            div[0].message.contains("serviceAccountName"),
            "{option}: {hits:?}"
        );
    }
}

/// The value `deploy` (an Application or a Kustomization) gives `option`.
fn deploy_value(deploy: &str, option: &str) -> String {
    let line = deploy
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{option}: ")))
        .unwrap();
    line.to_owned()
}

/// The copy's kustomization, with the deploy-time options set, keeps a quoted string a string:
/// written back as YAML, `"yes"` came out plain, which kustomize (YAML 1.1) reads as a boolean,
/// so the render of a label value `"yes"` failed where the deployed build succeeds.
#[test]
fn a_quoted_yaml_1_1_word_stays_a_string_in_the_rendered_copy() {
    let tree = shipped();
    seal_paper(&tree);
    edit(
        &tree,
        KUSTOMIZATION,
        "namespace: emp-paper\n",
        "namespace: emp-paper\ncommonAnnotations:\n  enabled: \"yes\"\n",
    );
    tree.write(
        "argocd/paper.yaml",
        argo("      namespace: emp-paper\n", "emp-paper"),
    );
    let (_, hits) = release(&tree);
    for rule in ["render-failed", "model-divergence", "overlay-build-error"] {
        assert!(!rules(&hits).contains(&rule), "{hits:?}");
    }
}

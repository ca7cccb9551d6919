//! Flux `postBuild.substituteFrom`: the variables of a ConfigMap that a Flux Kustomization of
//! the same cluster renders in the namespace Flux reads it from (the substituting
//! Kustomization's own) fill what the Kustomization renders: here a child Kustomization's
//! `targetNamespace: ${CLUSTER_NS}`, the namespace its SealedSecret lands in. The real
//! `kubectl kustomize` says where the ConfigMap lands.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, check_hits, git, write};

fn flux(name: &str, path: &str, extra: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
    )
}

/// The flux-cluster-template shape: `clusters/prod/config.yaml` deploys `config/prod`, whose
/// kustomization puts ConfigMap `cluster-settings` (`CLUSTER_NS: prod`) in `config_ns`;
/// `clusters/prod/apps.yaml` deploys `apps/` substituting from it (and from a Secret), and
/// `apps/podinfo.yaml` deploys `deploy/podinfo` into `${CLUSTER_NS}`, whose SealedSecret says
/// it was sealed for `sealed_ns`; `config/prod` also renders the SealedSecret `cluster-secrets`,
/// whose keys (not `CLUSTER_NS`) are known. Committed; the rules of `check` that fire.
fn run(root: &Path, config_ns: &str, sealed_ns: &str) -> Vec<String> {
    let from = "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n      - kind: Secret\n        name: cluster-secrets\n        optional: true\n";
    write(
        root,
        "clusters/prod/kustomization.yaml",
        "resources: [config.yaml, apps.yaml]\n",
    );
    write(
        root,
        "clusters/prod/config.yaml",
        &flux("config", "./config/prod", ""),
    );
    write(
        root,
        "clusters/prod/apps.yaml",
        &flux("apps", "./apps", from),
    );
    write(
        root,
        "config/prod/kustomization.yaml",
        &format!(
            "namespace: {config_ns}\nresources: [cluster-settings.yaml, cluster-secrets.yaml]\n"
        ),
    );
    write(
        root,
        "config/prod/cluster-settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\ndata:\n  CLUSTER_NS: prod\n",
    );
    write(
        root,
        "config/prod/cluster-secrets.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: cluster-secrets\nspec:\n  encryptedData:\n    SECRET_DOMAIN: AgBy3i4OJSWK\n",
    );
    write(
        root,
        "apps/kustomization.yaml",
        "resources: [podinfo.yaml]\n",
    );
    let target = "  targetNamespace: ${CLUSTER_NS}\n";
    write(
        root,
        "apps/podinfo.yaml",
        &flux("podinfo", "./deploy/podinfo", target),
    );
    write(
        root,
        "deploy/podinfo/kustomization.yaml",
        "resources: [sealedsecret.yaml]\n",
    );
    write(
        root,
        "deploy/podinfo/sealedsecret.yaml",
        &format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: podinfo-secrets\n  namespace: {sealed_ns}\nspec:\n  encryptedData:\n    token: AgBy3i4OJSWK\n  template:\n    metadata:\n      name: podinfo-secrets\n      namespace: {sealed_ns}\n"
        ),
    );
    rules(root)
}

/// Commits the repository at `root` and runs `check`: the rules that fire among those judging
/// where a SealedSecret lands.
fn rules(root: &Path) -> Vec<String> {
    git(root, &["add", "-A"]);
    git(
        root,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "commit",
            "-qm",
            "x",
            "--allow-empty",
        ],
    );
    let (_, hits) = check_hits(root, &[]);
    // The ciphertexts are stand-ins (`placeholder-ciphertext`): the rules judging where a
    // SealedSecret lands are the ones looked at.
    let judged = [
        "identity-mismatch",
        "overlay-not-modelled",
        "dangling-reference",
    ];
    (hits.into_iter().map(|h| h.rule))
        .filter(|r| judged.contains(&r.as_str()))
        .collect()
}

/// (a) sealed for `prod`, the namespace the ConfigMap gives: no finding; (b) sealed for
/// `staging`: `identity-mismatch` (before, `targetNamespace` was not known offline and the
/// namespace was not checked); a ConfigMap in another namespace than the one Flux reads it
/// from gives nothing, and the option stays `overlay-not-modelled`.
#[test]
fn a_substitute_from_configmap_of_the_cluster_gives_the_namespace() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    assert_eq!(run(root, "flux-system", "prod"), Vec::<String>::new());
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(
            out.contains("namespace: flux-system")
                && out.contains("CLUSTER_NS: prod")
                && out.matches("namespace: flux-system").count() == 2,
            "{out}"
        );
    }
    let wrong = run(root, "flux-system", "staging");
    assert!(
        !wrong.is_empty() && wrong.iter().all(|r| r == "identity-mismatch"),
        "{wrong:?}"
    );
    let elsewhere = run(root, "kube-system", "staging");
    assert!(
        elsewhere.contains(&"overlay-not-modelled".to_owned())
            && !elsewhere.contains(&"identity-mismatch".to_owned()),
        "{elsewhere:?}"
    );
}

/// The ConfigMap's file written with `namespace: flux-system` but reached from outside the
/// deployed directory (`resources: [../base]`) through a kustomization that moves it to
/// `other`, as the real render shows: Flux does not find it where it reads, so the variable
/// stays unknown (`overlay-not-modelled`), never the file's own namespace taken as given.
#[test]
fn a_substitute_from_configmap_reached_from_outside_is_not_taken_at_its_written_namespace() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    assert_eq!(run(root, "flux-system", "prod"), Vec::<String>::new());
    std::fs::remove_file(root.join("config/prod/cluster-settings.yaml")).unwrap();
    write(
        root,
        "config/base/cluster-settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  CLUSTER_NS: prod\n",
    );
    write(
        root,
        "config/base/kustomization.yaml",
        "namespace: other\nresources: [cluster-settings.yaml]\n",
    );
    write(
        root,
        "config/prod/kustomization.yaml",
        "resources: [../base, cluster-secrets.yaml]\n",
    );
    let secrets = "config/prod/cluster-secrets.yaml";
    let text = std::fs::read_to_string(root.join(secrets)).unwrap();
    let text = text.replace(
        "name: cluster-secrets\n",
        "name: cluster-secrets\n  namespace: flux-system\n",
    );
    write(root, secrets, &text);
    git(root, &["add", "-A"]);
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(
            out.contains("namespace: other") && out.contains("CLUSTER_NS: prod"),
            "{out}"
        );
    }
    let (_, hits) = check_hits(root, &[]);
    let rules: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
    assert!(rules.contains(&"overlay-not-modelled"), "{rules:?}");
}

/// An empty temp git repository; `None` (said so) without git.
fn git_repo() -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    git(t.path(), &["init", "-q"]);
    Some(t)
}

/// A fresh committed repository of [`run`]'s shape, sealed for `prod`, that `check` finds clean:
/// the ConfigMap gives `CLUSTER_NS`.
fn clean_repository() -> Option<tempfile::TempDir> {
    let t = git_repo()?;
    assert_eq!(run(t.path(), "flux-system", "prod"), Vec::<String>::new());
    Some(t)
}

/// [`clean_repository`] with the ConfigMap `cluster-settings` moved from `config/prod` to the
/// directory `to` (its metadata given the lines `namespace`), and the Secret source put in
/// `flux-system` (its keys known): only the ConfigMap's route is judged.
fn moved_settings(to: &str, namespace: &str) -> Option<tempfile::TempDir> {
    let t = clean_repository()?;
    let root = t.path();
    std::fs::remove_file(root.join("config/prod/cluster-settings.yaml")).unwrap();
    let settings = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n{namespace}data:\n  CLUSTER_NS: prod\n"
    );
    write(root, &format!("{to}/cluster-settings.yaml"), &settings);
    let secrets = "config/prod/cluster-secrets.yaml";
    let text = std::fs::read_to_string(root.join(secrets)).unwrap();
    let pinned = "name: cluster-secrets\n  namespace: flux-system\n";
    write(
        root,
        secrets,
        &text.replacen("name: cluster-secrets\n", pinned, 1),
    );
    Some(t)
}

/// The variable is unknown (`overlay-not-modelled`), never a value read from a source Flux does
/// not find where it reads it.
fn assert_unknown(root: &Path) {
    let rules = rules(root);
    assert!(
        rules.contains(&"overlay-not-modelled".to_owned()),
        "{rules:?}"
    );
}

/// The `overlay-not-modelled` finding on a `targetNamespace` whose `${CLUSTER_NS}` is not known
/// offline (the sources land in `other`, not where Flux reads them) names the variable and the
/// source that may give it. Before, it said only that the option is applied at sync time.
#[test]
fn an_unresolved_target_namespace_finding_names_the_variable_and_its_source() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    assert_eq!(run(root, "other", "prod"), ["overlay-not-modelled"]);
    let (_, hits) = check_hits(root, &[]);
    let hit = hits
        .iter()
        .find(|h| h.rule == "overlay-not-modelled")
        .unwrap();
    let why = "`CLUSTER_NS` may be given by the `substituteFrom` Secret `cluster-secrets` (optional) of the Flux Kustomization at clusters/prod/apps.yaml:8";
    assert!(
        hit.path == "apps/podinfo.yaml"
            && hit
                .message
                .contains("`targetNamespace`, whose value is not known offline")
            && hit.message.contains(why),
        "{hit:?}"
    );
}

/// The ConfigMap renamed on its way (Flux's `spec.namePrefix`/`nameSuffix` of the Kustomization
/// rendering it, or a kustomization's `namePrefix`, as the real render shows): Flux looks up
/// `cluster-settings` by that name, which the written one no longer has, so `CLUSTER_NS` stays
/// unknown. Before, the written name was matched and the variable taken as given.
#[test]
fn a_substitute_from_configmap_renamed_on_its_way_gives_nothing() {
    for extra in ["  namePrefix: p-\n", "  nameSuffix: -s\n"] {
        let Some(t) = clean_repository() else { return };
        let root = t.path();
        write(
            root,
            "clusters/prod/config.yaml",
            &flux("config", "./config/prod", extra),
        );
        assert_unknown(root);
    }
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    write(
        root,
        "config/prod/kustomization.yaml",
        "namespace: flux-system\nnamePrefix: p-\nresources: [cluster-settings.yaml, cluster-secrets.yaml]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(out.contains("name: p-cluster-settings"), "{out}");
    }
    assert_unknown(root);
}

/// The Kustomization rendering the ConfigMap applies it to another cluster (`spec.kubeConfig`,
/// fluxcd/kustomize-controller `api/v1/kustomization_types.go`), while Flux reads `substituteFrom`
/// from its own cluster (fluxcd/pkg `kustomize/kustomize_varsub.go`, `loadVars`): nothing.
#[test]
fn a_substitute_from_configmap_applied_to_another_cluster_gives_nothing() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    let remote = "  kubeConfig:\n    secretRef:\n      name: remote-kubeconfig\n";
    write(
        root,
        "clusters/prod/config.yaml",
        &flux("config", "./config/prod", remote),
    );
    assert_unknown(root);
}

/// A SealedSecret source's `spec.template.data` keys are keys of the Secret it makes (whose
/// values are not read): `${NS:=prod}` is unknown when it holds `NS`, not the default.
#[test]
fn a_sealed_secret_sources_template_data_key_makes_a_default_unknown() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    let target = "  targetNamespace: ${NS:=prod}\n";
    write(
        root,
        "apps/podinfo.yaml",
        &flux("podinfo", "./deploy/podinfo", target),
    );
    assert_eq!(rules(root), Vec::<String>::new());
    write(
        root,
        "config/prod/cluster-secrets.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: cluster-secrets\nspec:\n  encryptedData:\n    SECRET_DOMAIN: AgBy3i4OJSWK\n  template:\n    data:\n      NS: staging\n",
    );
    assert_unknown(root);
}

/// Commits the repository at `root` and runs `check`: its note on a Flux path it cannot resolve.
fn note(root: &Path) -> Option<String> {
    rules(root);
    let out = common::emp_seal_std()
        .arg("-C")
        .arg(root)
        .arg("check")
        .output()
        .unwrap();
    // Notes go to stderr.
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.lines()
        .find(|l| l.contains("cannot resolve offline"))
        .map(str::to_owned)
}

/// A `substituteFrom` that is not a list (the Kustomization CRD's schema refuses it): every
/// variable is unknown, a default too, and the note says so at the Kustomization's file and
/// line. Before, the note named a `substituteFrom` source with an empty kind and name.
#[test]
fn a_substitute_from_that_is_not_a_list_is_named_in_the_note() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    let from = "  postBuild:\n    substituteFrom: cluster-settings\n";
    write(
        root,
        "clusters/prod/apps.yaml",
        &flux("apps", "./apps", from),
    );
    write(
        root,
        "apps/podinfo.yaml",
        &flux("podinfo", "./deploy/${APP:=podinfo}", ""),
    );
    let note = note(root).unwrap_or_default();
    assert!(
        note.contains("Flux Kustomization at clusters/prod/apps.yaml:8")
            && note.contains("`substituteFrom` is not a list"),
        "{note}"
    );
}

/// A source file holding a document that does not parse (the real render fails on it): that
/// document may be the ConfigMap, so the variable is unknown and the note names the file, never
/// the well-formed `cluster-settings` beside it taken.
#[test]
fn a_substitute_from_file_with_a_broken_document_gives_nothing() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    let path = "./deploy/${APP}";
    write(root, "apps/podinfo.yaml", &flux("podinfo", path, ""));
    let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\ndata:\n  CLUSTER_NS: prod\n  APP: podinfo\n";
    write(root, "config/prod/cluster-settings.yaml", settings);
    assert_eq!(note(root), None);
    let broken = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cluster-settings\n---\n{settings}"
    );
    write(root, "config/prod/cluster-settings.yaml", &broken);
    if common::kubectl().is_some() {
        let out = common::kustomize_raw(&root.join("config/prod"));
        assert!(!out.status.success());
    }
    let note = note(root).unwrap_or_default();
    assert!(
        note.contains("config/prod/cluster-settings.yaml") && note.contains("does not parse"),
        "{note}"
    );
}

/// The ConfigMap's directory reached through another kustomization of the deployed directory
/// (`config/prod/app`, setting `namespace: other`) than the directory path
/// (`config/prod/settings`), as the real render shows: the outermost namespace on the path
/// (none, so the file's own `flux-system`) is not where it lands, so the variable is unknown.
#[test]
fn a_substitute_from_configmap_moved_by_another_route_gives_nothing() {
    let Some(t) = moved_settings("config/prod/settings", "  namespace: flux-system\n") else {
        return;
    };
    let root = t.path();
    write(
        root,
        "config/prod/settings/kustomization.yaml",
        "resources: [cluster-settings.yaml]\n",
    );
    write(
        root,
        "config/prod/app/kustomization.yaml",
        "namespace: other\nresources: [../settings]\n",
    );
    write(
        root,
        "config/prod/kustomization.yaml",
        "resources: [app, cluster-secrets.yaml]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(
            out.contains("namespace: other") && out.matches("namespace: flux-system").count() == 1,
            "{out}"
        );
    }
    assert_unknown(root);
}

/// The deployed directory has no kustomization: Flux generates one listing its manifests and
/// its topmost kustomization directories, and does not walk into those (fluxcd/pkg
/// `kustomize/kustomize_generator.go`). A kustomization nested inside one (`settings/extra`,
/// moving `settings/cm`'s ConfigMap to `other`) is never built, so the ConfigMap's namespace stays known.
/// Before, every kustomization under the directory counted as a route and the variable was unknown.
#[test]
fn a_kustomization_flux_does_not_build_is_no_route_of_a_substitute_from_source() {
    let Some(t) = moved_settings("config/prod/settings/cm", "  namespace: flux-system\n") else {
        return;
    };
    let root = t.path();
    std::fs::remove_file(root.join("config/prod/kustomization.yaml")).unwrap();
    write(
        root,
        "config/prod/settings/cm/kustomization.yaml",
        "resources: [cluster-settings.yaml]\n",
    );
    write(
        root,
        "config/prod/settings/kustomization.yaml",
        "resources: [cm]\n",
    );
    assert_eq!(rules(root), Vec::<String>::new());
    write(
        root,
        "config/prod/settings/extra/kustomization.yaml",
        "namespace: other\nresources: [../cm]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod/settings/extra"));
        assert!(out.contains("namespace: other"), "{out}");
    }
    assert_eq!(rules(root), Vec::<String>::new());
}

/// A kustomization on the directory path that the build does not include
/// (`config/prod/mid`, `namespace: flux-system`, listed by nothing) sets no namespace: the real
/// render puts the ConfigMap in `mid/cm`'s `other`, so the variable is unknown. Before, the
/// first `namespace:` on the path was taken and the ConfigMap counted as found.
#[test]
fn a_kustomization_off_the_build_gives_no_namespace_of_a_substitute_from_source() {
    let Some(t) = moved_settings("config/prod/mid/cm", "") else {
        return;
    };
    let root = t.path();
    write(
        root,
        "config/prod/mid/cm/kustomization.yaml",
        "namespace: other\nresources: [cluster-settings.yaml]\n",
    );
    write(
        root,
        "config/prod/mid/kustomization.yaml",
        "namespace: flux-system\n",
    );
    write(
        root,
        "config/prod/kustomization.yaml",
        "resources: [mid/cm, cluster-secrets.yaml]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(
            out.contains("name: cluster-settings\n  namespace: other"),
            "{out}"
        );
    }
    assert_unknown(root);
}

/// A ConfigMap file in the deployed directory that its kustomization does not list: Flux never
/// applies it (the real render does not hold it), so the variable is unknown. Before, a file in
/// a directory the build reads counted as rendered whether listed or not.
#[test]
fn a_substitute_from_configmap_file_no_kustomization_lists_gives_nothing() {
    let Some(t) = clean_repository() else { return };
    let root = t.path();
    write(
        root,
        "config/prod/kustomization.yaml",
        "namespace: flux-system\nresources: [cluster-secrets.yaml]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(!out.contains("cluster-settings"), "{out}");
    }
    assert_unknown(root);
}

/// A parent Flux Kustomization deploying `clusters/prod` (in `bootstrap/`, substituting
/// `NS: prod`); in `clusters/prod`, when `kust` is given as its kustomization, `apps.yaml`
/// (listed in every shape) deploys `deploy/apps` and `extra.yaml` deploys `deploy/extra`, both
/// into `${NS}`, each holding a SealedSecret sealed for `prod`. `layout` puts the two files in a
/// subdirectory (`"apps/"`) or not (`""`). Committed; the rules of `check` that fire, and the
/// files they fire at.
fn unlisted(root: &Path, kust: Option<(&str, &str)>, layout: &str) -> Vec<(String, String)> {
    let substitute = "  postBuild:\n    substitute:\n      NS: prod\n";
    write(
        root,
        "bootstrap/prod.yaml",
        &flux("prod", "./clusters/prod", substitute),
    );
    if let Some((dir, text)) = kust {
        write(root, &format!("{dir}/kustomization.yaml"), text);
    }
    for name in ["apps", "extra"] {
        let target = "  targetNamespace: ${NS}\n";
        let path = format!("./deploy/{name}");
        let file = format!("clusters/prod/{layout}{name}.yaml");
        write(root, &file, &flux(name, &path, target));
        write(
            root,
            &format!("deploy/{name}/kustomization.yaml"),
            "resources: [sealedsecret.yaml]\n",
        );
        write(
            root,
            &format!("deploy/{name}/sealedsecret.yaml"),
            &format!(
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: prod\nspec:\n  encryptedData:\n    token: AgBy3i4OJSWK\n  template:\n    metadata:\n      name: {name}\n      namespace: prod\n"
            ),
        );
    }
    git(root, &["add", "-A"]);
    let (_, hits) = check_hits(root, &[]);
    let judged = ["identity-mismatch", "overlay-not-modelled"];
    (hits
        .into_iter()
        .filter(|h| judged.contains(&h.rule.as_str())))
    .map(|h| (h.rule, h.path))
    .collect()
}

/// A Flux Kustomization in a file of the parent's directory that its kustomization does not
/// list is not rendered by that parent (the real render does not hold it), so its
/// `targetNamespace: ${NS}` is unknown: `overlay-not-modelled` at that file, while the listed
/// one gets `prod` (its SealedSecret re-sealed for `staging` is an `identity-mismatch`). With no
/// kustomization file Flux generates one listing both: no finding.
#[test]
fn a_flux_kustomization_file_the_parent_build_does_not_list_gets_no_parent_variable() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    let kust = ("clusters/prod", "resources: [apps.yaml]\n");
    let unknown = [(
        "overlay-not-modelled".to_owned(),
        "clusters/prod/extra.yaml".to_owned(),
    )];
    assert_eq!(unlisted(root, Some(kust), ""), unknown);
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("clusters/prod"));
        assert!(
            out.contains("name: apps") && !out.contains("extra"),
            "{out}"
        );
    }
    // `apps.yaml`'s SealedSecret sealed for `staging` instead: it lands in `prod`.
    let sealed = root.join("deploy/apps/sealedsecret.yaml");
    let text = std::fs::read_to_string(&sealed).unwrap();
    std::fs::write(
        &sealed,
        text.replace("namespace: prod", "namespace: staging"),
    )
    .unwrap();
    git(root, &["add", "-A"]);
    let (_, hits) = check_hits(root, &[]);
    let hit = hits.iter().find(|h| h.rule == "identity-mismatch");
    let prod = |h: &common::Hit| {
        h.path.ends_with("apps/sealedsecret.yaml") && h.message.ends_with("as prod/apps")
    };
    assert!(hit.is_some_and(prod), "{hits:?}");
    std::fs::remove_file(root.join("clusters/prod/kustomization.yaml")).unwrap();
    assert_eq!(unlisted(root, None, ""), []);
}

/// Flux generates the kustomization of `clusters/prod` (it has none) and lists `apps/`, which
/// has one, as a directory: the files of `apps/` are rendered as that kustomization lists them,
/// so the unlisted `apps/extra.yaml` gets no `NS`. Before, every file under a directory without
/// a kustomization counted as rendered.
#[test]
fn a_file_below_a_flux_generated_level_is_rendered_only_when_listed() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    let kust = ("clusters/prod/apps", "resources: [apps.yaml]\n");
    let unknown = [(
        "overlay-not-modelled".to_owned(),
        "clusters/prod/apps/extra.yaml".to_owned(),
    )];
    assert_eq!(unlisted(root, Some(kust), "apps/"), unknown);
    std::fs::remove_file(root.join("clusters/prod/apps/kustomization.yaml")).unwrap();
    assert_eq!(unlisted(root, None, "apps/"), []);
}

/// A kustomization directory the parent's build does not include, though an included one reads
/// a file of it from outside its own directory (Flux builds with no load restrictor): its own
/// list is not the build's. `shared/extra.yaml`, which only `shared/kustomization.yaml` lists,
/// is not rendered (`overlay-not-modelled`), while `shared/apps.yaml`, which the included `d`
/// names as `../shared/apps.yaml`, gets `NS`. Before, every directory a build read a file of
/// counted as one of its kustomizations.
#[test]
fn a_file_only_an_unbuilt_kustomization_lists_gets_no_parent_variable() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    let d = "resources: [../shared/apps.yaml]\n";
    write(root, "clusters/prod/d/kustomization.yaml", d);
    let shared = "resources: [apps.yaml, extra.yaml]\n";
    write(root, "clusters/prod/shared/kustomization.yaml", shared);
    let kust = ("clusters/prod", "resources: [d]\n");
    let unknown = [(
        "overlay-not-modelled".to_owned(),
        "clusters/prod/shared/extra.yaml".to_owned(),
    )];
    assert_eq!(unlisted(root, Some(kust), "shared/"), unknown);
}

/// The ConfigMap's file listed by a sub-path (`resources: [sub/cluster-settings.yaml]`, `sub/`
/// holding no kustomization) of the deployed directory's kustomization, which sets
/// `namespace: flux-system`: the real render puts it there, so the variable is known and the
/// repository is clean. Before, only the directories of files outside a kustomization's own
/// counted as read by its build, so no route led to `sub/` and the variable stayed unknown.
#[test]
fn a_substitute_from_configmap_listed_by_a_sub_path_gives_the_namespace() {
    let Some(t) = moved_settings("config/prod/sub", "") else {
        return;
    };
    let root = t.path();
    write(
        root,
        "config/prod/kustomization.yaml",
        "namespace: flux-system\nresources: [sub/cluster-settings.yaml, cluster-secrets.yaml]\n",
    );
    if common::kubectl().is_some() {
        let out = common::kustomize(&root.join("config/prod"));
        assert!(
            out.contains("name: cluster-settings\n  namespace: flux-system"),
            "{out}"
        );
    }
    assert_eq!(rules(root), Vec::<String>::new());
}

/// Flux generates the kustomization of `clusters/prod` (it has none) listing only its `.yaml` /
/// `.yml` files (fluxcd/pkg `kustomize/kustomize_generator.go`): a Flux Kustomization written
/// as `extra.json` there is not rendered by the parent, so its `targetNamespace: ${NS}` is
/// unknown (`overlay-not-modelled` at that file) while `apps.yaml` gets `prod`. Before, every
/// file under a generated level counted as rendered, whatever its extension.
#[test]
fn a_json_file_at_a_flux_generated_level_gets_no_parent_variable() {
    let Some(t) = git_repo() else { return };
    let root = t.path();
    assert_eq!(unlisted(root, None, ""), []);
    std::fs::remove_file(root.join("clusters/prod/extra.yaml")).unwrap();
    let json = r#"{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
  "metadata": {"name": "extra", "namespace": "flux-system"},
  "spec": {"interval": "10m", "path": "./deploy/extra", "prune": true,
    "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    "targetNamespace": "${NS}"}}
"#;
    write(root, "clusters/prod/extra.json", json);
    git(root, &["add", "-A"]);
    let (_, hits) = check_hits(root, &[]);
    let judged = ["identity-mismatch", "overlay-not-modelled"];
    let got: Vec<(String, String)> = (hits.into_iter())
        .filter(|h| judged.contains(&h.rule.as_str()))
        .map(|h| (h.rule, h.path))
        .collect();
    let unknown = [(
        "overlay-not-modelled".to_owned(),
        "clusters/prod/extra.json".to_owned(),
    )];
    assert_eq!(got, unknown);
}
